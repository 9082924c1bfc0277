//! The MongoDB store's own tests (legacy documents, outages, several instances); the
//! conformance suite (`crate::testkit`) runs on it too.

use std::collections::HashSet;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use bson::oid::ObjectId;
use bson::{Document, doc};
use chrono::Utc;
use devconnect_types::{Gender, Message, MessageId, UserId};
use mongodb::{Client, Database};

use super::connect::scrub;
use super::{MESSAGES, MongoStore, REQUESTS, USERS};
use crate::model::NewMessageRecord;
use crate::store::prelude::*;
use crate::testkit::{self, PASSWORD, drop_database, fresh_database_name as fresh_name, mongodb_url as test_url};
use crate::{AnyMessage, Error, Result};

/// Names a replica set, the topology several server instances run on in production.
const RS_URL_VAR: &str = "DEVCONNECT_TEST_MONGODB_RS_URL";
/// The jongodb binary, for tests that stop and start a server of their own.
const BIN_VAR: &str = "DEVCONNECT_TEST_JONGODB_BIN";

async fn raw_client(url: &str) -> Result<Client> {
    Client::with_uri_str(url).await.map_err(Error::internal)
}

/// The replica set URL. Unset is a failure too.
fn replica_set_url() -> Result<String> {
    std::env::var(RS_URL_VAR).map_err(|_| {
        Error::internal(format!(
            "{RS_URL_VAR} is not set, so the replica-set tests have no server. Run them with \
             `scripts/with-jongodb.sh`, or set it to a real replica set (mongodb://HOST:PORT/?replicaSet=NAME)"
        ))
    })
}

/// Two server instances (two stores, each with its own in-process lock) sending into
/// one database while a reader follows with `sync` cursors, as a reconnecting client
/// does: the reader must see every message once, none skipped. Were a position ever
/// visible before a lower one taken by the other instance, the cursor would pass it.
#[tokio::test]
async fn sync_never_skips_a_message_sent_through_two_instances_on_a_replica_set() -> Result<()> {
    sync_never_skips_a_message_sent_through_two_instances(&replica_set_url()?).await
}

#[tokio::test]
async fn sync_never_skips_a_message_sent_through_two_instances_on_a_standalone_server() -> Result<()> {
    sync_never_skips_a_message_sent_through_two_instances(&test_url()?).await
}

async fn sync_never_skips_a_message_sent_through_two_instances(url: &str) -> Result<()> {
    const SENDERS_PER_INSTANCE: usize = 4;
    const MESSAGES_PER_SENDER: usize = 25;
    let (url, name) = (url.to_owned(), fresh_name());
    let instances = [MongoStore::open_database(&url, &name).await?, MongoStore::open_database(&url, &name).await?];
    let instances: Vec<Arc<dyn Store>> = instances.into_iter().map(|s| Arc::new(s) as Arc<dyn Store>).collect();
    let (reader, writer) = (testkit::user_record("reader@example.com"), testkit::user_record("writer@example.com"));
    instances[0].insert_user(&reader).await?;
    instances[0].insert_user(&writer).await?;

    let mut senders = tokio::task::JoinSet::new();
    for store in &instances {
        for sender in 0..SENDERS_PER_INSTANCE {
            let store = Arc::clone(store);
            let (from, to) = (writer.me.profile.id, reader.me.profile.id);
            senders.spawn(async move {
                for n in 0..MESSAGES_PER_SENDER {
                    let record = NewMessageRecord {
                        id: MessageId::new(),
                        sender: from,
                        receiver: to,
                        text: format!("{sender}-{n}"),
                        image: None,
                        client_msg_id: None,
                        created_at: Utc::now(),
                    };
                    store.insert_message(&record).await?;
                }
                Ok::<_, Error>(())
            });
        }
    }
    let total = instances.len() * SENDERS_PER_INSTANCE * MESSAGES_PER_SENDER;
    let mut seen = HashSet::new();
    let mut cursor: Option<MessageId> = None;
    let mut last_seq = 0;
    let reader_id = reader.me.profile.id;
    let follow = |cursor: Option<MessageId>| {
        let store = Arc::clone(&instances[1]);
        async move { store.sync(reader_id, cursor, &[], 50).await }
    };
    while seen.len() < total {
        let page = follow(cursor).await?;
        for m in &page {
            assert!(m.seq() > last_seq, "positions increase along the cursor");
            last_seq = m.seq();
            assert!(seen.insert(m.id()), "seen once");
        }
        if let Some(m) = page.last() {
            cursor = Some(m.id());
        } else if senders.is_empty() {
            break;
        }
        while let Some(done) = senders.try_join_next() {
            done.map_err(Error::internal)??;
        }
    }
    while let Some(done) = senders.join_next().await {
        done.map_err(Error::internal)??;
    }
    let rest = follow(cursor).await?;
    assert_eq!(seen.len() + rest.len(), total, "the cursor skipped {} messages", total - seen.len() - rest.len());
    for store in &instances {
        store.close().await?;
    }
    Ok(())
}

/// A jongodb process of our own, to stop and start. Killed on drop.
struct OwnServer {
    child: std::process::Child,
}

impl OwnServer {
    fn start(port: u16) -> Result<Self> {
        let bin = std::env::var(BIN_VAR)
            .map_err(|_| Error::internal(format!("{BIN_VAR} is not set; run under scripts/with-jongodb.sh")))?;
        let child = std::process::Command::new(bin)
            .args(["--host=127.0.0.1", &format!("--port={port}")])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .map_err(Error::internal)?;
        Ok(Self { child })
    }

    fn stop(mut self) -> Result<()> {
        self.child.kill().map_err(Error::internal)?;
        self.child.wait().map_err(Error::internal)?;
        Ok(())
    }
}

impl Drop for OwnServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Retries `op` until it succeeds or `within` passes (the server is starting).
async fn eventually<T, F: Future<Output = Result<T>>>(within: Duration, mut op: impl FnMut() -> F) -> Result<T> {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match op().await {
            Ok(value) => return Ok(value),
            Err(e) if tokio::time::Instant::now() >= deadline => return Err(e),
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}

#[tokio::test]
async fn an_outage_is_reported_as_unavailable_and_the_store_recovers() -> Result<()> {
    let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map_err(Error::internal)?.port();
    let url = format!("mongodb://127.0.0.1:{port}/?serverSelectionTimeoutMS=1000");
    let server = OwnServer::start(port)?;
    let store = eventually(Duration::from_secs(30), || MongoStore::open_database(&url, "outage")).await?;
    let before = testkit::user_record("before@example.com");
    store.insert_user(&before).await?;

    // Down: every call fails fast with the retryable code, none hangs.
    server.stop()?;
    let down = store.user(before.me.profile.id).await.err().map(|e| e.code());
    assert_eq!(down, Some("unavailable"));
    let during = testkit::user_record("during@example.com");
    assert_eq!(store.insert_user(&during).await.err().map(|e| e.code()), Some("unavailable"));

    // Back (jongodb keeps data in memory, so this one starts empty; a real mongod
    // would still hold `before`): the same store works again, no reopen needed.
    let _server = OwnServer::start(port)?;
    let after = testkit::user_record("after@example.com");
    eventually(Duration::from_secs(30), || store.insert_user(&after)).await?;
    assert_eq!(store.user(after.me.profile.id).await?.map(|u| u.me.email), Some(after.me.email.clone()));
    store.close().await
}

fn cause(err: &Error) -> String {
    match err {
        Error::Internal(cause) => cause.to_string(),
        other => other.to_string(),
    }
}

fn at(ms: i64) -> bson::DateTime {
    bson::DateTime::from_millis(ms)
}

/// Ids that increase in creation order, as the original's were.
fn ids(n: usize) -> Vec<ObjectId> {
    (0..n).map(|_| ObjectId::new()).collect()
}

/// A user as the original Mongoose model wrote it: bcrypt hash, `__v`, none of our fields.
fn original_user(id: ObjectId, first: &str, email: &str, skills: &[&str]) -> Result<Document> {
    Ok(doc! {
        "_id": id,
        "firstName": first,
        "lastName": "Legacy",
        "emailID": email,
        "password": bcrypt::hash(PASSWORD, 4).map_err(Error::internal)?,
        "age": 31.0,
        "gender": "female",
        "photoURL": "https://example.com/p.png",
        "about": "From the Node days",
        "skills": skills,
        "createdAt": at(1_700_000_000_000),
        "updatedAt": at(1_700_000_500_000),
        "__v": 0,
    })
}

fn original_request(from: ObjectId, to: ObjectId, status: &str) -> Document {
    doc! {
        "_id": ObjectId::new(),
        "fromUserId": from,
        "toUserId": to,
        "status": status,
        "createdAt": at(1_700_001_000_000),
        "updatedAt": at(1_700_001_000_000),
        "__v": 0,
    }
}

fn original_message(id: ObjectId, from: ObjectId, to: ObjectId, text: &str) -> Document {
    doc! {
        "_id": id,
        "senderId": from,
        "receiverId": to,
        "text": text,
        "createdAt": at(1_700_002_000_000),
        "updatedAt": at(1_700_002_000_000),
        "__v": 0,
    }
}

async fn insert_raw(db: &Database, coll: &str, docs: Vec<Document>) -> Result<()> {
    db.collection::<Document>(coll).insert_many(docs).await.map(drop).map_err(Error::internal)
}

#[tokio::test]
async fn original_devconnect_documents_work_after_backfill() -> Result<()> {
    let url = test_url()?;
    let name = fresh_name();
    let client = raw_client(&url).await?;
    let raw = client.database(&name);
    let [ada, bob, cy, dan] = ids(4)[..] else { return Err(Error::internal("ids")) };
    insert_raw(
        &raw,
        USERS,
        vec![
            original_user(ada, "Ada", "ada@example.com", &["JavaScript", "React"])?,
            original_user(bob, "Bob", "bob@example.com", &["Node"])?,
            original_user(cy, "Cy", "cy@example.com", &[])?,
            // Only the fields the original required.
            doc! { "_id": dan, "firstName": "Dan", "emailID": "dan@example.com", "password": "x", "skills": ["Rust"] },
        ],
    )
    .await?;
    insert_raw(&raw, REQUESTS, vec![original_request(ada, bob, "accepted"), original_request(cy, ada, "interested")])
        .await?;
    let m = ids(3);
    insert_raw(
        &raw,
        MESSAGES,
        vec![
            original_message(m[0], ada, bob, "hello"),
            original_message(m[1], bob, ada, "hi back"),
            doc! { "_id": m[2], "senderId": ada, "receiverId": bob, "image": "https://example.com/i.png" },
        ],
    )
    .await?;

    let store: Arc<dyn Store> = Arc::new(MongoStore::open_database(&url, &name).await?);
    let app = testkit::service(Arc::clone(&store))?;
    let (ada, bob, cy, dan) = (UserId::from(ada), UserId::from(bob), UserId::from(cy), UserId::from(dan));

    // Login with the original's bcrypt hash, upgraded to argon2id.
    let auth = app.login("ada@example.com", PASSWORD, crate::Peer::Local).await?;
    assert_eq!(auth.user.profile.id, ada);
    let hash = store.user(ada).await?.map(|u| u.password_hash).unwrap_or_default();
    assert!(hash.starts_with("$argon2id$"), "upgraded: {hash}");
    app.authenticate(&auth.token).await?;

    // Profiles: the original's fields, numbers stored as doubles, absent fields empty.
    let me = app.profile(ada).await?;
    assert_eq!(me.email, "ada@example.com");
    assert_eq!(me.profile.age, Some(31));
    assert_eq!(me.profile.gender, Some(Gender::Female));
    assert_eq!(me.profile.skills, ["JavaScript", "React"]);
    assert_eq!(me.profile.photo_url.as_deref(), Some("https://example.com/p.png"));
    assert_eq!(me.profile.created_at.timestamp_millis(), 1_700_000_000_000);
    let minimal = app.public_profile(dan).await?;
    assert_eq!((minimal.last_name.as_str(), minimal.age, minimal.about.as_str()), ("", None, ""));
    assert_eq!(minimal.created_at, dan.object_id().timestamp().to_chrono());

    // Requests: pair keys backfilled, so the reverse request is refused by the index.
    assert_eq!(app.connections(ada).await?.iter().map(|p| p.id).collect::<Vec<_>>(), [bob]);
    assert!(store.are_connected(bob, ada).await?);
    let received = app.received_requests(ada).await?;
    assert_eq!(received.iter().map(|r| r.from_user_id.id).collect::<Vec<_>>(), [cy]);
    let again = app.send_request(bob, ada, crate::SendStatus::Interested, None).await;
    assert_eq!(again.err().map(|e| e.code()), Some("conflict"));
    let reverse = app.send_request(ada, cy, crate::SendStatus::Interested, None).await;
    assert_eq!(reverse.err().map(|e| e.code()), Some("conflict"));

    // Feed: skill keys backfilled for the filter; related users excluded.
    let feed = app.feed(ada, &crate::feed::FeedQuery { skills: vec!["RUST".into()], ..Default::default() }).await?;
    assert_eq!(feed.profiles.iter().map(|p| p.id).collect::<Vec<_>>(), [dan]);

    // Messages without positions get them in `_id` order, before any new one.
    let history = app.history(ada, bob, None, None).await?;
    let legacy: Vec<MessageId> = m.iter().map(|id| MessageId::from(*id)).collect();
    assert_eq!(history.iter().map(|m| m.id).collect::<Vec<_>>(), legacy);
    assert!(history.windows(2).all(|w| w[0].seq < w[1].seq));
    assert_eq!(history[2].text, "");
    assert_eq!(history[2].image.as_deref(), Some("https://example.com/i.png"));
    let partners = app.chat_partners(bob).await?;
    assert_eq!(partners.len(), 1);
    assert_eq!(partners[0].last_message.as_ref().map(|m| m.id), Some(legacy[2]));
    assert_eq!(partners[0].unread_count, 2, "the original kept no read state: unread");
    let new = testkit::say(&app, bob, ada, "from the new server").await?;
    assert!(new.seq > history[2].seq);
    let synced = app.sync(ada, Some(legacy[0]), None).await?;
    assert_eq!(synced.messages.iter().map(AnyMessage::id).collect::<Vec<_>>(), [legacy[1], legacy[2], new.id]);

    // Opening again finds nothing to backfill and keeps every position.
    let before = store.history(ada, bob, None, 10).await?;
    store.close().await?;
    let store = MongoStore::open_database(&url, &name).await?;
    let after = store.history(ada, bob, None, 10).await?;
    let positions = |ms: &[Message]| ms.iter().map(|m| (m.id, m.seq)).collect::<Vec<_>>();
    assert_eq!(positions(&after), positions(&before));
    store.close().await?;
    drop_database(&raw).await;
    client.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn duplicate_original_requests_stop_startup_and_are_named() -> Result<()> {
    let url = test_url()?;
    let name = fresh_name();
    let client = raw_client(&url).await?;
    let raw = client.database(&name);
    let [ada, bob] = ids(2)[..] else { return Err(Error::internal("ids")) };
    let first = original_request(ada, bob, "accepted");
    let second = original_request(bob, ada, "interested");
    let (first_id, second_id) = (first.get_object_id("_id"), second.get_object_id("_id"));
    let (Ok(first_id), Ok(second_id)) = (first_id, second_id) else { return Err(Error::internal("ids")) };
    insert_raw(&raw, REQUESTS, vec![first, second]).await?;

    let err = MongoStore::open_database(&url, &name).await.err().map(|e| cause(&e)).unwrap_or_default();
    assert!(err.contains("pairKey"), "{err}");
    assert!(err.contains(&first_id.to_hex()) && err.contains(&second_id.to_hex()), "{err}");

    // Removing the extra request lets the store start, and the pair stays unique.
    raw.collection::<Document>(REQUESTS).delete_one(doc! { "_id": second_id }).await.map_err(Error::internal)?;
    let store = MongoStore::open_database(&url, &name).await?;
    assert!(store.are_connected(UserId::from(bob), UserId::from(ada)).await?);
    store.close().await?;
    drop_database(&raw).await;
    client.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn open_dispatches_mongodb_urls_to_the_database_in_the_path() -> Result<()> {
    let url = test_url()?;
    let name = fresh_name();
    let store = crate::store::open(&with_database(&url, &name)).await?;
    let user = testkit::user_record("path@example.com");
    store.insert_user(&user).await?;
    store.close().await?;
    let client = raw_client(&url).await?;
    let found = client
        .database(&name)
        .collection::<Document>(USERS)
        .find_one(doc! { "emailID": "path@example.com" })
        .await
        .map_err(Error::internal)?;
    assert!(found.is_some(), "stored in the database named by the URL");
    drop_database(&client.database(&name)).await;
    client.shutdown().await;
    Ok(())
}

/// `url` with its path (the database) replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, None), |(b, q)| (b, Some(q)));
    let (scheme, rest) = base.split_once("://").unwrap_or(("mongodb", base));
    let hosts = rest.split('/').next().unwrap_or(rest);
    match query {
        Some(q) => format!("{scheme}://{hosts}/{name}?{q}"),
        None => format!("{scheme}://{hosts}/{name}"),
    }
}

#[tokio::test]
async fn open_fails_quickly_and_without_credentials_when_no_server_answers() -> Result<()> {
    // A port nobody listens on: bind, note it, release it.
    let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map_err(Error::internal)?.port();
    let url = format!("mongodb://dcuser:s3cret-pw@127.0.0.1:{port}/app?serverSelectionTimeoutMS=500");
    let started = std::time::Instant::now();
    let err = MongoStore::open(&url).await.err().ok_or_else(|| Error::internal("opened without a server"))?;
    assert!(started.elapsed() < Duration::from_secs(10), "took {:?}", started.elapsed());
    assert_eq!(err.code(), "internal");
    let cause = cause(&err);
    assert!(cause.contains(&format!("127.0.0.1:{port}")), "names the server: {cause}");
    assert!(!cause.contains("s3cret-pw"), "leaks the password: {cause}");
    Ok(())
}

#[test]
fn credentials_are_scrubbed_from_messages() {
    let url = "mongodb://user:p%40ss@db.example.com:27017/x";
    assert_eq!(
        scrub("bad mongodb://user:p%40ss@db.example.com:27017/x", url),
        "bad mongodb://***@db.example.com:27017/x"
    );
    assert_eq!(scrub("password p%40ss wrong", url), "password *** wrong");
    assert_eq!(scrub("nothing here", "mongodb://db.example.com/x"), "nothing here");
}

/// A deletion interrupted after its first step (the account marked deleted, nothing
/// scrubbed or unlinked: MongoDB erases in steps) is finished by an operator's delete,
/// which still answers that the account is deleted already.
#[tokio::test]
async fn an_interrupted_deletion_is_finished_by_deleting_again() -> Result<()> {
    let (url, name) = (test_url()?, fresh_name());
    let store: Arc<dyn Store> = Arc::new(MongoStore::open_database(&url, &name).await?);
    let app = testkit::service(Arc::clone(&store))?;
    let (ada, _) = testkit::user(&app, "Ada").await?;
    let (bob, _) = testkit::user(&app, "Bob").await?;
    testkit::connect(&app, ada, bob).await?;
    let raw = raw_client(&url).await?.database(&name);
    raw.collection::<Document>(USERS)
        .update_one(doc! { "_id": ada.object_id() }, doc! { "$set": { "deletedAt": bson::DateTime::now() } })
        .await
        .map_err(Error::internal)?;
    assert!(store.are_connected(ada, bob).await?, "only the first step ran");

    let again = app.delete_user("ops-ann", ada, "finishing").await;
    assert_eq!(again.err().map(|e| e.code()), Some("conflict"));
    assert!(!store.are_connected(ada, bob).await?, "the connection went");
    let record = store.user(ada).await?.ok_or(Error::NotFound("user"))?;
    assert_eq!(record.me.profile.first_name, devconnect_types::profile::DELETED_NAME, "scrubbed");
    // The email is free again.
    testkit::user(&app, "Ada").await?;
    drop_database(&raw).await;
    Ok(())
}
