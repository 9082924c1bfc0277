//! What the core records through the `metrics` facade, seen through a Prometheus
//! recorder. A test binary of its own: the recorder is process-wide.
#![expect(clippy::unwrap_used, reason = "a test fails loudly on any unexpected error")]

use std::sync::Arc;

use devconnect_core::store::sqlite::SqliteStore;
use devconnect_core::{Result, Settings, testkit};
use metrics_exporter_prometheus::PrometheusBuilder;

fn value(text: &str, series: &str) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or(0.0)
}

#[tokio::test]
async fn online_users_queue_drops_and_store_calls_are_recorded() -> Result<()> {
    let metrics = PrometheusBuilder::new().install_recorder().unwrap();
    let settings = Settings { event_queue: 1, ..Settings::default() };
    let app = testkit::service_with(Arc::new(SqliteStore::open_in_memory().await?), settings)?;
    let (ada, _) = testkit::user(&app, "Ada").await?;
    let (bob, _) = testkit::user(&app, "Bob").await?;
    testkit::connect(&app, ada, bob).await?;

    let bob_online = app.subscribe(bob).await?;
    let text = metrics.render();
    assert_eq!(value(&text, "devconnect_online_users"), 1.0, "{text}");
    assert_eq!(value(&text, "devconnect_realtime_queue_drops_total"), 0.0);

    // Bob reads nothing: the first message fills his one-event queue, the second ends
    // the subscription as lagged.
    testkit::say(&app, ada, bob, "one").await?;
    testkit::say(&app, ada, bob, "two").await?;
    let text = metrics.render();
    assert_eq!(value(&text, "devconnect_realtime_queue_drops_total"), 1.0, "{text}");
    assert_eq!(value(&text, "devconnect_online_users"), 0.0, "a lagged user is offline");
    drop(bob_online);

    let again = app.subscribe(bob).await?;
    assert_eq!(value(&metrics.render(), "devconnect_online_users"), 1.0);
    drop(again);
    let text = metrics.render();
    assert_eq!(value(&text, "devconnect_online_users"), 0.0);
    assert_eq!(value(&text, "devconnect_messages_sent_total"), 2.0);
    assert_eq!(value(&text, "devconnect_signups_total"), 2.0);
    assert!(value(&text, "devconnect_store_operation_duration_seconds_count{operation=\"insert_message\"}") >= 2.0);
    Ok(())
}
