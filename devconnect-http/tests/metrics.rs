//! The Prometheus endpoint and the `stats` subcommand. A test binary of its own: the
//! metrics recorder is process-wide, so these tests do not share it with the API suite,
//! and each one asserts increments it caused (never absolute counts) or only existence.
#![expect(clippy::unwrap_used, reason = "a test fails loudly on any unexpected error")]

#[path = "api/helpers.rs"]
#[allow(dead_code)]
mod helpers;

use std::collections::BTreeSet;
use std::time::Duration;

use devconnect_client::realtime;
use devconnect_core::{ReviewStatus, SendStatus};

use helpers::{PASSWORD, TestApp, error_of, spawn_app, spawn_app_with};

/// The `--metrics-token` of these tests' servers.
const TOKEN: &str = "metrics-token-for-tests-0123456789";

/// A server whose `/metrics` on the main address answers [`TOKEN`].
async fn spawn_scraped(tweak: impl FnOnce(&mut devconnect_http::Config)) -> TestApp {
    spawn_app_with(|c| {
        c.metrics_token = Some(TOKEN.to_owned().into());
        tweak(c);
    })
    .await
}

/// The exposition text of `/metrics` on the main address, scraped with [`TOKEN`].
async fn scrape(app: &TestApp) -> String {
    let response = app.http.get(app.at("/metrics")).bearer_auth(TOKEN).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
    response.text().await.unwrap()
}

/// The value of the sample `name{labels}` (labels as rendered, `""` for none), if any.
fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    text.lines().filter(|l| !l.starts_with('#')).find_map(|line| {
        let (series, value) = line.rsplit_once(' ')?;
        let (metric, rest) = series.split_once('{').map_or((series, ""), |(m, r)| (m, r.trim_end_matches('}')));
        let matches =
            metric == name && labels.iter().all(|(k, v)| rest.split(',').any(|p| p == format!("{k}=\"{v}\"")));
        matches.then(|| value.parse().ok()).flatten()
    })
}

fn value(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    sample(text, name, labels).unwrap_or(0.0)
}

/// Scrapes until `check` holds (gauges follow sockets asynchronously), at most 5 s.
async fn eventually(app: &TestApp, check: impl Fn(&str) -> bool) -> String {
    for _ in 0..100 {
        let text = scrape(app).await;
        if check(&text) {
            return text;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    scrape(app).await
}

/// Every metric family name in an exposition.
fn families(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .filter_map(|l| l.split(['{', ' ']).next().map(str::to_owned))
        .collect()
}

fn is_hex_id(s: &str) -> bool {
    s.len() >= 24 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

#[tokio::test]
async fn each_action_moves_its_metric_and_labels_carry_no_ids() {
    let app = spawn_scraped(|c| c.service.message_rate = 2).await;
    let before = scrape(&app).await;

    // A signup, a failed and a successful login.
    let (ada, ada_me) = app.user("Ada").await;
    let (bob, bob_me) = app.user("Bob").await;
    assert!(app.client().login(&ada_me.email, "Wr0ng!password").await.is_err());
    app.client().login(&ada_me.email, PASSWORD).await.unwrap();
    // A request sent and accepted, then messages up to the rate limit.
    let request = ada.send_request(SendStatus::Interested, bob_me.profile.id, None).await.unwrap();
    bob.review_request(request.id, ReviewStatus::Accepted).await.unwrap();
    ada.send_message(bob_me.profile.id, "one", None).await.unwrap();
    ada.send_message(bob_me.profile.id, "two", None).await.unwrap();
    assert!(ada.send_message(bob_me.profile.id, "three", None).await.is_err());
    // An unknown path with an id in it.
    let unknown = format!("/nothing/{}", ada_me.profile.id);
    assert_eq!(app.http.get(app.at(&unknown)).send().await.unwrap().status(), 404);

    let after = scrape(&app).await;
    let delta = |name: &str, labels: &[(&str, &str)]| value(&after, name, labels) - value(&before, name, labels);
    assert!(delta("devconnect_signups_total", &[]) >= 2.0);
    assert!(delta("devconnect_logins_total", &[("result", "failure")]) >= 1.0);
    assert!(delta("devconnect_logins_total", &[("result", "success")]) >= 1.0);
    assert!(delta("devconnect_connection_requests_sent_total", &[("status", "interested")]) >= 1.0);
    assert!(delta("devconnect_connection_requests_reviewed_total", &[("status", "accepted")]) >= 1.0);
    assert!(delta("devconnect_messages_sent_total", &[]) >= 2.0);
    assert!(delta("devconnect_rate_limited_total", &[("limit", "message")]) >= 1.0);
    let posts = [("method", "POST"), ("route", "/message/:userId"), ("status", "201")];
    assert!(delta("devconnect_http_requests_total", &posts) >= 2.0, "{after}");
    let limited = [("method", "POST"), ("route", "/message/:userId"), ("status", "429")];
    assert!(delta("devconnect_http_requests_total", &limited) >= 1.0);
    let unmatched = [("method", "GET"), ("route", "unmatched"), ("status", "404")];
    assert!(delta("devconnect_http_requests_total", &unmatched) >= 1.0);
    let latency = [("method", "POST"), ("route", "/message/:userId"), ("le", "+Inf")];
    assert!(delta("devconnect_http_request_duration_seconds_bucket", &latency) >= 3.0);
    let store = [("operation", "insert_message"), ("le", "+Inf")];
    assert!(delta("devconnect_store_operation_duration_seconds_bucket", &store) >= 2.0);

    // Labels are route templates and fixed words: never an id, an email or a raw path.
    for line in after.lines().filter(|l| !l.starts_with('#')) {
        let labels = line.split_once('{').map_or("", |(_, rest)| rest);
        for word in labels.split(|c: char| !c.is_ascii_alphanumeric()) {
            assert!(!is_hex_id(word), "an id in a label: {line}");
        }
        assert!(!labels.contains('@') && !labels.contains("/nothing"), "personal data or a raw path: {line}");
    }

    // A socket shows in the gauges while open and leaves them on disconnect.
    let sockets = |t: &str| value(t, "devconnect_sockets", &[]);
    let online = |t: &str| value(t, "devconnect_online_users", &[]);
    let idle = scrape(&app).await;
    let socket = realtime::connect(&app.url, &ada.token().unwrap(), None).await.unwrap();
    let open = eventually(&app, |t| sockets(t) >= sockets(&idle) + 1.0 && online(t) >= online(&idle) + 1.0).await;
    assert!(sockets(&open) >= sockets(&idle) + 1.0, "{open}");
    assert!(online(&open) >= online(&idle) + 1.0, "{open}");
    socket.close().await;
    let closed = eventually(&app, |t| sockets(t) <= sockets(&open) - 1.0 && online(t) <= online(&open) - 1.0).await;
    assert!(sockets(&closed) <= sockets(&open) - 1.0, "{closed}");
    assert!(online(&closed) <= online(&open) - 1.0, "{closed}");
    let handshake = [("method", "GET"), ("route", "/socket.io/")];
    assert!(value(&closed, "devconnect_http_requests_total", &handshake) >= 1.0);
}

#[tokio::test]
async fn engagement_gauges_are_published_for_today_and_yesterday() {
    let app = spawn_scraped(|_| {}).await;
    let (ada, _) = app.user("Ada").await;
    let (_, bob_me) = app.user("Bob").await;
    ada.send_request(SendStatus::Interested, bob_me.profile.id, None).await.unwrap();
    // Published at start-up and every refresh (60 s by default): present from the start.
    let text =
        eventually(&app, |t| sample(t, "devconnect_engagement_active_users", &[("day", "today")]).is_some()).await;
    for name in ["active_users", "messages", "requests_sent", "requests_accepted", "median_accept_seconds"] {
        for day in ["today", "yesterday"] {
            let name = format!("devconnect_engagement_{name}");
            assert!(sample(&text, &name, &[("day", day)]).is_some(), "{name} {day}: {text}");
        }
    }
}

#[tokio::test]
async fn without_a_token_the_main_address_does_not_serve_metrics() {
    let app = spawn_app().await;
    let r = app.http.get(app.at("/metrics")).send().await.unwrap();
    assert_eq!(error_of(r).await, (404, "not_found".to_owned()));
    let r = app.http.get(app.at("/metrics")).bearer_auth(TOKEN).send().await.unwrap();
    assert_eq!(error_of(r).await, (404, "not_found".to_owned()));
}

#[tokio::test]
async fn with_a_token_the_main_address_serves_metrics_to_its_holders_only() {
    let app = spawn_scraped(|_| {}).await;
    let anonymous = app.http.get(app.at("/metrics")).send().await.unwrap();
    assert_eq!(anonymous.headers()["www-authenticate"], "Bearer");
    assert_eq!(error_of(anonymous).await, (401, "unauthorized".to_owned()));
    let wrong = app.http.get(app.at("/metrics")).bearer_auth(format!("{TOKEN}x")).send().await.unwrap();
    assert_eq!(error_of(wrong).await, (401, "unauthorized".to_owned()));
    let basic = app.http.get(app.at("/metrics")).basic_auth("prometheus", Some(TOKEN)).send().await.unwrap();
    assert_eq!(error_of(basic).await, (401, "unauthorized".to_owned()));
    assert!(scrape(&app).await.contains("devconnect_signups_total"));
}

#[tokio::test]
async fn the_metrics_address_serves_without_a_token() {
    let app = spawn_app_with(|c| c.service.metrics_addr = Some("127.0.0.1:0".parse().unwrap())).await;
    let addr = app.server.metrics_addr().unwrap();
    let separate = app.http.get(format!("http://{addr}/metrics")).send().await.unwrap();
    assert_eq!(separate.status(), 200);
    assert!(separate.text().await.unwrap().contains("devconnect_signups_total"));
    assert_eq!(app.http.get(app.at("/metrics")).send().await.unwrap().status(), 404);
    assert_eq!(app.http.get(format!("http://{addr}/auth/login")).send().await.unwrap().status(), 404);

    // With a token as well, both serve: the private address without it, the main one with it.
    let app = spawn_scraped(|c| c.service.metrics_addr = Some("127.0.0.1:0".parse().unwrap())).await;
    let addr = app.server.metrics_addr().unwrap();
    assert_eq!(app.http.get(format!("http://{addr}/metrics")).send().await.unwrap().status(), 200);
    assert_eq!(app.http.get(app.at("/metrics")).send().await.unwrap().status(), 401);
    assert!(scrape(&app).await.contains("devconnect_signups_total"));
}

#[tokio::test]
async fn the_dashboard_parses_and_uses_only_exposed_metrics() {
    let app = spawn_scraped(|_| {}).await;
    let ((a, _), (_, b_me)) = app.connected_pair().await;
    a.send_message(b_me.profile.id, "hi", None).await.unwrap();
    let text = eventually(&app, |t| t.contains("devconnect_engagement_active_users")).await;
    let exposed = families(&text);

    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/grafana-dashboard.json");
    let dashboard: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut exprs = Vec::new();
    collect_exprs(&dashboard, &mut exprs);
    assert!(exprs.len() >= 10, "{exprs:?}");
    let mut referenced = BTreeSet::new();
    for expr in &exprs {
        for word in expr.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
            if word.starts_with("devconnect_") {
                referenced.insert(word.to_owned());
            }
        }
    }
    // gRPC families come from the gRPC server (its own test checks them).
    let missing: Vec<_> =
        referenced.iter().filter(|n| !n.starts_with("devconnect_grpc_") && !exposed.contains(*n)).collect();
    assert!(missing.is_empty(), "the dashboard uses metrics /metrics does not expose: {missing:?}");
    for panel in
        ["devconnect_http_request_duration_seconds_bucket", "devconnect_sockets", "devconnect_messages_sent_total"]
    {
        assert!(referenced.contains(panel), "no panel uses {panel}");
    }
}

fn collect_exprs(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, v) in map {
                match (key.as_str(), v) {
                    ("expr", serde_json::Value::String(expr)) => out.push(expr.clone()),
                    _ => collect_exprs(v, out),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| collect_exprs(v, out)),
        _ => {}
    }
}

#[tokio::test]
async fn the_stats_subcommand_reports_a_seeded_store() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("seeded.db");
    let store = devconnect_core::store::sqlite::SqliteStore::open(&db).await.unwrap();
    devconnect_core::testkit::seed_engagement(&store).await.unwrap();
    devconnect_core::Store::close(&store).await.unwrap();
    drop(store);
    let url = format!("sqlite://{}", db.display());
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_devconnect-http"))
            .args(args)
            .env_remove("DEVCONNECT_DATABASE_URL")
            .env("DEVCONNECT_DATA_DIR", dir.path())
            .output()
            .unwrap()
    };

    let json =
        run(&["stats", "--from", "2026-11-01", "--to", "2026-11-04", "--format", "json", "--database-url", &url]);
    assert!(json.status.success(), "{}", String::from_utf8_lossy(&json.stderr));
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let expected = serde_json::to_value(devconnect_core::testkit::expected_engagement().unwrap()).unwrap();
    assert_eq!(report["days"], expected);
    assert_eq!(report["from"], "2026-11-01");

    // The table, with the database from the server's own option before the subcommand.
    let table = run(&["--database-url", &url, "stats", "--from", "2026-11-01", "--to", "2026-11-04"]);
    assert!(table.status.success(), "{}", String::from_utf8_lossy(&table.stderr));
    let table = String::from_utf8(table.stdout).unwrap();
    let lines: Vec<Vec<&str>> = table.lines().map(|l| l.split_whitespace().collect()).collect();
    assert_eq!(lines.len(), 5, "{table}");
    assert_eq!(lines[0][0], "date");
    assert_eq!(lines[2], ["2026-11-02", "3", "3", "0", "2", "88200"]);
    assert_eq!(lines[3], ["2026-11-03", "1", "0", "0", "0", "-"]);
    assert!(!table.contains("engagement.test"));

    // A range over 366 days is refused with a clear message.
    let long = run(&["stats", "--from", "2025-01-01", "--to", "2026-11-04", "--database-url", &url]);
    assert!(!long.status.success());
    assert!(String::from_utf8_lossy(&long.stderr).contains("366 days"));
}
