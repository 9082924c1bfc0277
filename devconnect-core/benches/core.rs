//! Benchmarks of the hot paths on the embedded store:
//! - `feed`: one page for a viewer with 5,000 requests among 100,000 users, both with
//!   the requests spread over everyone and with them covering the 5,000 newest accounts
//!   (the worst case for a newest-first feed: the page must skip all of them);
//! - `send_message`: a durable send (fsync per commit) between two connections, without
//!   push notifications, with them (the receiver offline, without a subscription), and
//!   with the receiver subscribed (a notification queued and coalesced per send);
//! - `group_history`: a group's newest page, a page deep in its history, a member's
//!   catch-up page, and the conversation list of a member who read none of it, with
//!   1,000 and with 1,000,000 messages in the group (they should cost the same: every
//!   query is an index range, and unread counts stop at 100).
//!
//! Run with `cargo bench -p devconnect-core`.

use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use devconnect_core::groups::{NewGroup, Visibility};
use devconnect_core::store::NewGroupMessageRecord;
use devconnect_core::store::sqlite::SqliteStore;
use devconnect_core::testkit::push_service::PushService;
use devconnect_core::testkit::{connect, service, service_with_push, user, user_record};
use devconnect_core::{
    DevConnect, FeedQuery, GroupId, MessageId, NewMessage, PushConfig, Result, SendStatus, Store, UserId,
};
use tokio::runtime::Runtime;

const USERS: usize = 100_000;
const REQUESTS: usize = 5_000;

/// Which user (by creation order) the viewer's `i`-th request goes to.
type Pick = fn(usize) -> usize;

/// An in-memory store with `USERS` users and a viewer with `REQUESTS` requests to the
/// users chosen by `pick` (index into creation order).
async fn seeded(pick: impl Fn(usize) -> usize) -> Result<(DevConnect, UserId)> {
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open_in_memory().await?);
    let app = service(Arc::clone(&store))?;
    let mut ids = Vec::with_capacity(USERS);
    for i in 0..USERS {
        let record = user_record(&format!("user{i}@example.com"));
        ids.push(record.me.profile.id);
        store.insert_user(&record).await?;
    }
    let (viewer, _) = user(&app, "Viewer").await?;
    for i in 0..REQUESTS {
        app.send_request(viewer, ids[pick(i)], SendStatus::Ignored, None).await?;
    }
    Ok((app, viewer))
}

fn feed(c: &mut Criterion) {
    let Ok(rt) = Runtime::new() else { return };
    let mut group = c.benchmark_group("feed");
    let cases: [(&str, Pick); 2] =
        [("requests_spread", |i| i * (USERS / REQUESTS)), ("requests_to_newest", |i| USERS - 1 - i)];
    for (name, pick) in cases {
        let Ok((app, viewer)) = rt.block_on(seeded(pick)) else { return };
        for page in [1, 100] {
            let query = FeedQuery { page: Some(page), limit: Some(10), skills: vec![] };
            group.bench_function(format!("{name}/page_{page}"), |b| {
                b.to_async(&rt).iter(|| async { app.feed(viewer, &query).await.map(|p| p.profiles.len()) });
            });
        }
        let query = FeedQuery { page: Some(1), limit: Some(10), skills: vec!["sql".into()] };
        group.bench_function(format!("{name}/skills_filter"), |b| {
            b.to_async(&rt).iter(|| async { app.feed(viewer, &query).await.map(|p| p.profiles.len()) });
        });
    }
    group.finish();
}

fn send_message(c: &mut Criterion) {
    send_message_with(c, "send_message/durable", Push::Off);
    send_message_with(c, "send_message/durable_push_on_no_subscription", Push::On);
    send_message_with(c, "send_message/durable_push_subscribed_offline", Push::Subscribed);
}

/// Whether the service has push notifications, and whether the (offline) receiver has
/// a subscription: what queuing a notification adds to a send.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Push {
    Off,
    On,
    Subscribed,
}

fn send_message_with(c: &mut Criterion, name: &str, push: Push) {
    let Ok(rt) = Runtime::new() else { return };
    let Ok(dir) = tempfile::tempdir() else { return };
    let setup = async {
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path().join("bench.db")).await?);
        let app = match push {
            Push::Off => service(store)?,
            Push::On | Push::Subscribed => {
                let config = PushConfig {
                    vapid_key_file: Some(dir.path().join("vapid.pk8")),
                    allow_loopback_http: true,
                    ..PushConfig::new("mailto:bench@devconnect.test")
                };
                service_with_push(store, config)?
            }
        };
        let (ada, _) = user(&app, "Ada").await?;
        let (bob, bob_token) = user(&app, "Bob").await?;
        connect(&app, ada, bob).await?;
        // The stand-in receives the (coalesced) pushes while the sends run.
        let stand_in = PushService::start().await.map_err(devconnect_core::Error::internal)?;
        if push == Push::Subscribed {
            let subscription = stand_in.subscribe(&app.vapid_public_key()?);
            app.add_push_subscription(&app.authenticate(&bob_token).await?, &subscription).await?;
        }
        Ok::<_, devconnect_core::Error>((app, ada, bob, stand_in))
    };
    let Ok((app, ada, bob, _stand_in)) = rt.block_on(setup) else { return };
    let mut n = 0u64;
    c.bench_function(name, |b| {
        b.to_async(&rt).iter(|| {
            n += 1;
            let message = NewMessage { text: "hello".into(), client_msg_id: Some(format!("b{n}")), image: None };
            let app = app.clone();
            async move { app.send_message(ada, bob, message).await.map(|s| s.created) }
        });
    });
}

/// An in-memory store with a public group of two members, Ada (who sent everything)
/// and Bob, and `messages` messages in it; the id of the middle one.
async fn group_with(messages: usize) -> Result<(DevConnect, UserId, GroupId, MessageId)> {
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open_in_memory().await?);
    let app = service(Arc::clone(&store))?;
    let ((ada, _), (bob, _)) = (user(&app, "Ada").await?, user(&app, "Bob").await?);
    let new = NewGroup { name: "Big".into(), description: String::new(), visibility: Visibility::Public, tags: vec![] };
    let group = app.create_group(ada, new).await?.id;
    app.join_group(bob, group).await?;
    let mut middle = None;
    // Stored straight through the store, a thousand at a time (the writer commits them
    // together): the service would also deliver each one.
    for batch in 0..messages.div_ceil(1000) {
        let mut writes = tokio::task::JoinSet::new();
        for i in batch * 1000..messages.min((batch + 1) * 1000) {
            let record = NewGroupMessageRecord {
                id: MessageId::new(),
                group,
                sender: ada,
                text: format!("message {i}"),
                image: None,
                client_msg_id: None,
                change: None,
                created_at: chrono::Utc::now(),
            };
            if i == messages / 2 {
                middle = Some(record.id);
            }
            let store = Arc::clone(&store);
            writes.spawn(async move { store.insert_group_message(&record).await.map(drop) });
        }
        for written in writes.join_all().await {
            written?;
        }
    }
    let middle = middle.ok_or_else(|| devconnect_core::Error::internal("no messages"))?;
    Ok((app, bob, group, middle))
}

fn group_history(c: &mut Criterion) {
    let Ok(rt) = Runtime::new() else { return };
    let mut bench = c.benchmark_group("group_history");
    for (name, messages) in [("1k", 1_000), ("1m", 1_000_000)] {
        let Ok((app, bob, group, middle)) = rt.block_on(group_with(messages)) else { return };
        bench.bench_function(format!("{name}/newest_page"), |b| {
            b.to_async(&rt).iter(|| async { app.group_history(bob, group, None, Some(50)).await.map(|p| p.len()) });
        });
        bench.bench_function(format!("{name}/page_before_the_middle"), |b| {
            b.to_async(&rt)
                .iter(|| async { app.group_history(bob, group, Some(middle), Some(50)).await.map(|p| p.len()) });
        });
        bench.bench_function(format!("{name}/sync_page_after_the_middle"), |b| {
            b.to_async(&rt).iter(|| async { app.sync(bob, Some(middle), Some(100)).await.map(|p| p.messages.len()) });
        });
        // Bob never read any of them: his unread count stops at the cap.
        bench.bench_function(format!("{name}/conversation_list"), |b| {
            b.to_async(&rt).iter(|| async { app.conversations(bob).await.map(|c| c.len()) });
        });
    }
    bench.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30);
    targets = feed, send_message, group_history
}
criterion_main!(benches);
