//! Server crash test: four clients (two over REST, two over the Socket.IO `sendMessage`
//! with acknowledgement) send messages with client ids to one receiver while the real
//! server binary is killed with SIGKILL at a random moment. After a restart on the same
//! store every acknowledged message must be stored exactly once, in each sender's order;
//! the clients then resend what was not acknowledged (same client ids) and the store
//! must end with every message exactly once. The same again with the four sending to a
//! group the receiver owns (`POST /groups/:id/messages`, `sendGroupMessage`).
//!
//! Then push notifications: a burst of messages to someone offline is acknowledged and
//! the server killed before the notification's coalescing window closes; after the
//! restart exactly one notification, counting the whole burst, reaches the push service
//! stand-in.
//!
//! Runs on the embedded SQLite store and on MongoDB (a fresh database on the server at
//! `DEVCONNECT_TEST_MONGODB_URL`, which `scripts/with-jongodb.sh` sets; the MongoDB runs
//! fail, never skip, without it). `harness = false`: it prints
//! `crash: N passed, M failed`, the line `scripts/test.sh` counts. The kill moment comes
//! from a seed it prints; `DEVCONNECT_CRASH_SEED=<seed>` repeats a run.

#![allow(clippy::print_stdout, reason = "the test reports its result on stdout")]

use std::collections::{HashMap, HashSet};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use devconnect_client::{Client, NewAccount, realtime};
use devconnect_core::{
    AnyMessage, GroupId, GroupMessage, Message, MessageId, ReviewStatus, SendStatus, UserId, Visibility,
};
use tokio::sync::Notify;

const JWT_SECRET: &str = "crash-test-secret-crash-test-secret-0123456789";
const PASSWORD: &str = "Str0ng!pass";
/// Senders; the first `REST_SENDERS` send over REST, the others over the socket.
const SENDERS: usize = 4;
const REST_SENDERS: usize = 2;
/// Messages in total on SQLite.
const MESSAGES_SQLITE: usize = 10_000;
/// Messages in total on MongoDB, unless `DEVCONNECT_CRASH_MONGODB_MESSAGES` says otherwise
/// (e.g. 10000 against a real `mongod`). Fewer than on SQLite because of the test server:
/// jongodb's insert costs time linear in the collection's size even with no index at all
/// (measured: 4.7 ms per insert into a bare collection of ~250 documents, 18 ms at
/// ~1,250; each unique index roughly doubles it), so a run's cost grows with the cube
/// of the message count: 2,000 messages took over a minute before the kill, 10,000
/// would take hours. No query shape or index of ours changes that; with 1,000 the
/// MongoDB run takes seconds.
const MESSAGES_MONGODB: usize = 1_000;
/// Messages in total to a group (fewer: the 1:1 runs cover volume; these, the other path).
const GROUP_MESSAGES_SQLITE: usize = 4_000;
const GROUP_MESSAGES_MONGODB: usize = 500;
/// A failure guard for anything that should happen promptly (not a timing assertion).
const GUARD: Duration = Duration::from_secs(120);

type Outcome<T> = Result<T, String>;

trait Context<T> {
    fn context(self, what: &str) -> Outcome<T>;
}

impl<T, E: std::fmt::Display> Context<T> for Result<T, E> {
    fn context(self, what: &str) -> Outcome<T> {
        self.map_err(|err| format!("{what}: {err}"))
    }
}

fn main() {
    let seed = std::env::var("DEVCONNECT_CRASH_SEED").ok().and_then(|s| s.parse::<u64>().ok()).unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(1, |d| d.as_nanos() as u64)
    });
    println!("crash: seed {seed} (DEVCONNECT_CRASH_SEED={seed} repeats this run)");
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("crash: no runtime: {err}");
            println!("crash: 0 passed, 6 failed");
            std::process::exit(1);
        }
    };
    let mut passed = 0;
    let mut failed = 0;
    let variants: [(&str, Kind, usize, Outcome<Option<String>>); 6] = [
        ("sqlite", Kind::Direct, MESSAGES_SQLITE, Ok(None)),
        ("mongodb", Kind::Direct, mongodb_messages(), mongodb_database().map(Some)),
        ("sqlite-group", Kind::Group, GROUP_MESSAGES_SQLITE, Ok(None)),
        ("mongodb-group", Kind::Group, GROUP_MESSAGES_MONGODB, mongodb_database().map(Some)),
        ("sqlite-push", Kind::Push, PUSH_BURST, Ok(None)),
        ("mongodb-push", Kind::Push, PUSH_BURST, mongodb_database().map(Some)),
    ];
    for (index, (name, kind, total, database)) in variants.into_iter().enumerate() {
        let started = Instant::now();
        let outcome = match database {
            Ok(database) if matches!(kind, Kind::Push) => runtime.block_on(run_push(database, total)),
            Ok(database) => runtime.block_on(run(name, kind, database, total, mix(seed, index as u64))),
            Err(err) => Err(err),
        };
        match outcome {
            Ok(()) => {
                passed += 1;
                println!("crash: {name} ok in {:.1} s", started.elapsed().as_secs_f64());
            }
            Err(err) => {
                failed += 1;
                eprintln!("crash: {name} FAILED (seed {seed}): {err}");
            }
        }
    }
    println!("crash: {passed} passed, {failed} failed");
    if failed > 0 {
        std::process::exit(1);
    }
}

fn mongodb_messages() -> usize {
    std::env::var("DEVCONNECT_CRASH_MONGODB_MESSAGES").ok().and_then(|n| n.parse().ok()).unwrap_or(MESSAGES_MONGODB)
}

/// A fresh database on the test MongoDB server.
fn mongodb_database() -> Outcome<String> {
    let url = std::env::var("DEVCONNECT_TEST_MONGODB_URL").map_err(|_| {
        "DEVCONNECT_TEST_MONGODB_URL is not set: run under scripts/with-jongodb.sh (the MongoDB run never skips)"
            .to_owned()
    })?;
    let (base, query) = url.split_once('?').map_or((url.as_str(), ""), |(b, q)| (b, q));
    let name = format!("dc_test_crash_{}", UserId::new());
    let query = if query.is_empty() { String::new() } else { format!("?{query}") };
    Ok(format!("{}/{name}{query}", base.trim_end_matches('/')))
}

/// splitmix64: a small seeded generator, enough to pick a kill moment.
fn mix(seed: u64, stream: u64) -> u64 {
    let mut z = seed.wrapping_add(stream.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

const EXITED: &str = "the server exited during start-up";

/// The server binary on a free port over `data_dir` (and `database`, if given).
struct ServerProcess {
    child: Child,
    url: String,
}

impl ServerProcess {
    /// The free port is released before the server binds it; should another process take
    /// it in between, the server exits at start-up and another port is tried.
    async fn start(data_dir: &std::path::Path, database: Option<&str>) -> Outcome<Self> {
        Self::start_with(data_dir, database, &[]).await
    }

    /// Like [`ServerProcess::start`], with more flags.
    async fn start_with(data_dir: &std::path::Path, database: Option<&str>, flags: &[&str]) -> Outcome<Self> {
        let mut attempts = 0;
        loop {
            attempts += 1;
            match Self::start_once(data_dir, database, flags).await {
                Err(err) if attempts < 3 && err.starts_with(EXITED) => eprintln!("crash: {err}; retrying"),
                outcome => return outcome,
            }
        }
    }

    async fn start_once(data_dir: &std::path::Path, database: Option<&str>, flags: &[&str]) -> Outcome<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .context("free port")?;
        let mut command = Command::new(env!("CARGO_BIN_EXE_devconnect-http"));
        command
            .args(["--bind", &format!("127.0.0.1:{port}")])
            .arg("--data-dir")
            .arg(data_dir)
            .args(["--jwt-secret", JWT_SECRET])
            .args(["--auth-rate-per-addr", "0", "--login-rate", "0", "--message-rate", "0", "--request-rate", "0"])
            .args(["--log", "warn"])
            .args(flags)
            .env_remove("DEVCONNECT_DATABASE_URL")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        if let Some(database) = database {
            command.args(["--database-url", database]);
        }
        let mut child = command.spawn().context("start the server")?;
        let url = format!("http://127.0.0.1:{port}");
        let probe = Client::new(&url).context("client")?;
        let deadline = Instant::now() + GUARD;
        loop {
            if probe.health().await.is_ok() {
                return Ok(Self { child, url });
            }
            if let Ok(Some(status)) = child.try_wait() {
                return Err(format!("{EXITED}: {status}"));
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                return Err("the server did not become healthy".to_owned());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// SIGKILL, and wait for the process to be gone.
    fn kill(mut self) -> Outcome<()> {
        self.child.kill().context("SIGKILL the server")?;
        let status = self.child.wait().context("wait for the server")?;
        if status.success() {
            return Err("the server exited cleanly instead of being killed".to_owned());
        }
        Ok(())
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Sender {
    id: UserId,
    token: String,
    /// Messages this sender sends in total.
    count: usize,
}

fn client_msg_id(sender: usize, index: usize) -> String {
    format!("crash-{sender}-{index}")
}

fn text_of(sender: usize, index: usize) -> String {
    format!("message {index} from sender {sender}")
}

/// `(sender, index)` from a stored client message id.
fn parse_client_msg_id(id: &str) -> Option<(usize, usize)> {
    let rest = id.strip_prefix("crash-")?;
    let (sender, index) = rest.split_once('-')?;
    Some((sender.parse().ok()?, index.parse().ok()?))
}

/// What one sender saw before the crash: ids of the acknowledged messages, which are
/// exactly indices `0..acked.len()` (each message is sent after the previous one's ack).
struct Acked {
    acked: Vec<MessageId>,
}

async fn signup(url: &str, name: &str) -> Outcome<(String, UserId)> {
    let client = Client::new(url).context("client")?;
    let account = NewAccount {
        first_name: name.to_owned(),
        last_name: "Crash".to_owned(),
        email: format!("{}@crash.test", name.to_lowercase()),
        password: PASSWORD.to_owned(),
        skills: vec!["rust".to_owned()],
        ..NewAccount::default()
    };
    let me = client.signup(&account).await.context("signup")?;
    Ok((me.token, me.user.profile.id))
}

fn authed(url: &str, token: &str) -> Outcome<Client> {
    let client = Client::new(url).context("client")?;
    client.set_token(Some(token.to_owned()));
    Ok(client)
}

/// Where the senders send: to one person, or to a group; or the push run.
#[derive(Clone, Copy, Debug)]
enum Kind {
    Direct,
    Group,
    Push,
}

/// Messages in the push run's burst.
const PUSH_BURST: usize = 25;

/// The push run: a burst to an offline person with a push subscription, acknowledged,
/// then SIGKILL while the notification waits out its coalescing window (long on
/// purpose); after a restart, exactly one notification arrives, counting the burst.
async fn run_push(database: Option<String>, burst: usize) -> Outcome<()> {
    use devconnect_core::testkit::push_service::PushService;
    let dir = tempfile::tempdir().context("temp dir")?;
    // The window is fixed when the first message is queued: long enough for the burst
    // and the kill, short enough to wait for after the restart.
    let flags = ["--push-allow-loopback", "--push-coalesce-ms", "10000"];
    let server = ServerProcess::start_with(dir.path(), database.as_deref(), &flags).await?;
    let (ada_token, _) = signup(&server.url, "Ada").await?;
    let (bob_token, bob) = signup(&server.url, "Bob").await?;
    let (ada, bob_client) = (authed(&server.url, &ada_token)?, authed(&server.url, &bob_token)?);
    let request = ada.send_request(SendStatus::Interested, bob, None).await.context("request")?;
    bob_client.review_request(request.id, ReviewStatus::Accepted).await.context("accept")?;

    let service = PushService::start().await.context("push service")?;
    let http = reqwest::Client::new();
    let key: serde_json::Value = http
        .get(format!("{}/push/vapid-public-key", server.url))
        .send()
        .await
        .context("VAPID key")?
        .json()
        .await
        .context("VAPID key body")?;
    let subscription = service.subscribe(key["data"]["publicKey"].as_str().unwrap_or_default());
    let registered = http
        .post(format!("{}/push/subscriptions", server.url))
        .bearer_auth(&bob_token)
        .json(&subscription)
        .send()
        .await
        .context("subscribe")?;
    if registered.status() != 201 {
        return Err(format!("subscribing answered {}", registered.status()));
    }
    let started = Instant::now();
    for i in 0..burst {
        ada.send_message(bob, &format!("burst {i}"), Some(&format!("push-{i}"))).await.context("send")?;
    }
    server.kill()?;
    if !service.delivered().is_empty() && started.elapsed() < Duration::from_secs(10) {
        return Err("a notification went out before its window closed".to_owned());
    }

    // The same data directory (the same VAPID key).
    let server = ServerProcess::start_with(dir.path(), database.as_deref(), &flags).await?;
    let delivered = service.wait_for(1, GUARD).await;
    // Long enough for a duplicate to show up after the first (several delivery polls).
    tokio::time::sleep(Duration::from_secs(2)).await;
    let delivered_after = service.delivered();
    drop(server);
    if !service.problems().is_empty() {
        return Err(format!("the push service refused: {:?}", service.problems()));
    }
    match (delivered.first(), delivered_after.len()) {
        (Some(first), 1) if first.notification.count as usize == burst => Ok(()),
        (Some(first), 1) => Err(format!("one notification counting {} of {burst}", first.notification.count)),
        (_, n) => Err(format!("{n} notifications after the restart, not one")),
    }
}

/// The receiver of every message: a person, or a group.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum To {
    Person(UserId),
    Group(GroupId),
}

/// What the test checks of a stored message, of either kind.
#[derive(Clone, Debug)]
struct Record {
    id: MessageId,
    sender_id: UserId,
    to: To,
    client_msg_id: Option<String>,
    text: String,
}

impl From<Message> for Record {
    fn from(m: Message) -> Self {
        Self {
            id: m.id,
            sender_id: m.sender_id,
            to: To::Person(m.receiver_id),
            client_msg_id: m.client_msg_id,
            text: m.text,
        }
    }
}

impl From<GroupMessage> for Record {
    fn from(m: GroupMessage) -> Self {
        Self {
            id: m.id,
            sender_id: m.sender_id,
            to: To::Group(m.group_id),
            client_msg_id: m.client_msg_id,
            text: m.text,
        }
    }
}

async fn run(name: &str, kind: Kind, database: Option<String>, total: usize, random: u64) -> Outcome<()> {
    let dir = tempfile::tempdir().context("temp dir")?;
    let server = ServerProcess::start(dir.path(), database.as_deref()).await?;

    let (receiver_token, receiver) = signup(&server.url, "Rex").await?;
    let rex = authed(&server.url, &receiver_token)?;
    let to = match kind {
        Kind::Direct => To::Person(receiver),
        Kind::Group => {
            let group = rex.create_group("Crash", "", Visibility::Public, &[]).await.context("create group")?;
            To::Group(group.id)
        }
        Kind::Push => return Err("the push run is run_push".to_owned()),
    };
    let mut senders = Vec::new();
    for k in 0..SENDERS {
        let (token, id) = signup(&server.url, &format!("Sender{k}")).await?;
        let client = authed(&server.url, &token)?;
        match to {
            To::Person(receiver) => {
                let request =
                    client.send_request(SendStatus::Interested, receiver, None).await.context("connection request")?;
                rex.review_request(request.id, ReviewStatus::Accepted).await.context("accept")?;
            }
            To::Group(group) => {
                client.join_group(group).await.context("join")?;
            }
        }
        let count = total / SENDERS + usize::from(k < total % SENDERS);
        senders.push(Sender { id, token, count });
    }

    // The kill lands after between 10 % and 90 % of the messages were acknowledged.
    let kill_at = total / 10 + (random % (total as u64 * 8 / 10)) as usize;
    println!("crash: {name}: {total} messages, SIGKILL after {kill_at} acknowledgements");
    let acks = Arc::new(AtomicUsize::new(0));
    let killed = Arc::new(AtomicBool::new(false));
    let kill_now = Arc::new(Notify::new());
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (k, sender) in senders.iter().enumerate() {
        let shared = (Arc::clone(&acks), Arc::clone(&killed), Arc::clone(&kill_now), kill_at);
        let (url, token, count) = (server.url.clone(), sender.token.clone(), sender.count);
        tasks.push(tokio::spawn(async move {
            if k < REST_SENDERS {
                send_rest(&url, &token, to, k, 0..count, shared).await
            } else {
                send_socket(&url, &token, to, k, 0..count, shared).await
            }
        }));
    }
    tokio::time::timeout(GUARD, kill_now.notified()).await.context("waiting for the kill moment")?;
    killed.store(true, Ordering::SeqCst);
    server.kill()?;
    let mut before_crash = Vec::new();
    for task in tasks {
        let sent = tokio::time::timeout(GUARD, task).await.context("a sender after the kill")?.context("sender")??;
        before_crash.push(Acked { acked: sent.into_iter().map(|m| m.id).collect() });
    }
    let acked_total: usize = before_crash.iter().map(|a| a.acked.len()).sum();
    println!(
        "crash: {name}: killed after {:.1} s with {acked_total} acknowledged ({:?} per sender)",
        started.elapsed().as_secs_f64(),
        before_crash.iter().map(|a| a.acked.len()).collect::<Vec<_>>()
    );

    let server = ServerProcess::start(dir.path(), database.as_deref()).await?;
    let rex = authed(&server.url, &receiver_token)?;
    let stored = all_messages(&rex).await?;
    let by_key = check_stored(&stored, &senders, to)?;
    // Every acknowledged message is there, with the id it was acknowledged with; the only
    // other stored one a sender may have is the one in flight at the kill.
    for (k, acked) in before_crash.iter().enumerate() {
        for (i, id) in acked.acked.iter().enumerate() {
            match by_key.get(&(k, i)) {
                Some(found) if found == id => {}
                Some(found) => return Err(format!("acknowledged {k}/{i} was {id}, stored as {found}")),
                None => return Err(format!("acknowledged message {k}/{i} ({id}) was lost")),
            }
        }
    }
    for &(k, i) in by_key.keys() {
        if i > before_crash[k].acked.len() {
            return Err(format!("message {k}/{i} is stored but was never sent"));
        }
    }
    println!(
        "crash: {name}: after restart {} stored, all {acked_total} acknowledged present once, in order",
        stored.len()
    );

    // Resend everything unacknowledged, same client ids, same transports.
    let shared = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicBool::new(false)), Arc::new(Notify::new()), 0);
    let mut tasks = Vec::new();
    for (k, sender) in senders.iter().enumerate() {
        let range = before_crash[k].acked.len()..sender.count;
        let (url, token, shared) = (server.url.clone(), sender.token.clone(), shared.clone());
        tasks.push(tokio::spawn(async move {
            if k < REST_SENDERS {
                send_rest(&url, &token, to, k, range, shared).await
            } else {
                send_socket(&url, &token, to, k, range, shared).await
            }
        }));
    }
    for (k, task) in tasks.into_iter().enumerate() {
        let resent = tokio::time::timeout(GUARD, task).await.context("resending")?.context("sender")??;
        if resent.len() != senders[k].count - before_crash[k].acked.len() {
            return Err(format!("sender {k} could not resend everything"));
        }
        // The one in flight at the kill, if it was stored, comes back as that message.
        if let (Some(first), Some(stored)) = (resent.first(), by_key.get(&(k, before_crash[k].acked.len()))) {
            if first.id != *stored {
                return Err(format!("resending {k}/{} stored a second message", before_crash[k].acked.len()));
            }
        }
    }

    let stored = all_messages(&rex).await?;
    let by_key = check_stored(&stored, &senders, to)?;
    if stored.len() != total {
        return Err(format!("{} messages stored in the end, expected {total}", stored.len()));
    }
    for (k, sender) in senders.iter().enumerate() {
        for i in 0..sender.count {
            if !by_key.contains_key(&(k, i)) {
                return Err(format!("message {k}/{i} missing after the resend"));
            }
        }
        // Each sender's own history agrees with the receiver's sync.
        let history = full_history(&authed(&server.url, &sender.token)?, to).await?;
        let from_sync: Vec<MessageId> = stored.iter().filter(|m| m.sender_id == sender.id).map(|m| m.id).collect();
        let own: Vec<MessageId> = history.iter().filter(|m| m.sender_id == sender.id).map(|m| m.id).collect();
        if own != from_sync {
            return Err(format!("sender {k}'s history differs from the receiver's sync"));
        }
    }
    server.kill()?;
    println!("crash: {name}: after resending, each of the {total} messages is stored exactly once, in order");
    Ok(())
}

type Shared = (Arc<AtomicUsize>, Arc<AtomicBool>, Arc<Notify>, usize);

/// Counts an acknowledgement; signals the kill when it is the chosen one.
fn acknowledged(shared: &Shared) {
    let (acks, _, kill_now, kill_at) = shared;
    if acks.fetch_add(1, Ordering::SeqCst) + 1 == *kill_at {
        kill_now.notify_one();
    }
}

/// A failed send is expected once the server was killed; before, it is a failure.
fn failed_send(shared: &Shared, k: usize, i: usize, err: &dyn std::fmt::Display) -> Outcome<()> {
    if shared.1.load(Ordering::SeqCst) { Ok(()) } else { Err(format!("sender {k}: message {i} failed: {err}")) }
}

fn check_ack(message: &Record, k: usize, i: usize) -> Outcome<()> {
    if message.client_msg_id.as_deref() != Some(client_msg_id(k, i).as_str()) || message.text != text_of(k, i) {
        return Err(format!("sender {k}: the acknowledgement of {i} is another message: {message:?}"));
    }
    Ok(())
}

/// Sends `range` one after another over REST; returns the acknowledged messages, stopping
/// at the first failure.
async fn send_rest(
    url: &str,
    token: &str,
    to: To,
    k: usize,
    range: std::ops::Range<usize>,
    shared: Shared,
) -> Outcome<Vec<Record>> {
    let client = authed(url, token)?;
    let mut acked = Vec::new();
    for i in range {
        let (text, id) = (text_of(k, i), client_msg_id(k, i));
        let sent = match to {
            To::Person(to) => client.send_message(to, &text, Some(&id)).await.map(|s| Record::from(s.message)),
            To::Group(group) => client.send_group_message(group, &text, Some(&id)).await.map(|s| s.message.into()),
        };
        match sent {
            Ok(message) => {
                check_ack(&message, k, i)?;
                acked.push(message);
                acknowledged(&shared);
            }
            Err(err) => {
                failed_send(&shared, k, i, &err)?;
                break;
            }
        }
    }
    Ok(acked)
}

/// Sends `range` one after another with the socket's `sendMessage` and its
/// acknowledgement; the socket's own events are drained meanwhile.
async fn send_socket(
    url: &str,
    token: &str,
    to: To,
    k: usize,
    range: std::ops::Range<usize>,
    shared: Shared,
) -> Outcome<Vec<Record>> {
    let mut socket = realtime::connect(url, token, None).await.context("socket connect")?;
    let emitter = socket.emitter();
    let drain = tokio::spawn(async move { while socket.next_event().await.is_some() {} });
    let mut acked = Vec::new();
    for i in range {
        let (text, id) = (text_of(k, i), client_msg_id(k, i));
        let sent = match to {
            To::Person(to) => emitter.send_message(to, &text, Some(&id)).await.map(Record::from),
            To::Group(group) => emitter.send_group_message(group, &text, Some(&id)).await.map(Record::from),
        };
        match sent {
            Ok(message) => {
                check_ack(&message, k, i)?;
                acked.push(message);
                acknowledged(&shared);
            }
            Err(err) => {
                failed_send(&shared, k, i, &err)?;
                break;
            }
        }
    }
    drain.abort();
    Ok(acked)
}

/// Everything the receiver has, through `GET /message/sync` pages, but a group's
/// system messages (its creation, the senders joining).
async fn all_messages(client: &Client) -> Outcome<Vec<Record>> {
    let mut all: Vec<Record> = Vec::new();
    let mut after = None;
    loop {
        let page = client.sync(after, Some(500)).await.context("sync")?;
        after = page.messages.last().map(AnyMessage::id).or(after);
        all.extend(page.messages.into_iter().filter_map(|m| match m {
            AnyMessage::Direct(m) => Some(m.into()),
            AnyMessage::Group(m) if m.change.is_none() => Some(m.into()),
            AnyMessage::Group(_) => None,
        }));
        if !page.has_more {
            return Ok(all);
        }
    }
}

/// A conversation's whole history through `before=` pages, oldest first.
async fn full_history(client: &Client, to: To) -> Outcome<Vec<Record>> {
    let mut pages: Vec<Vec<Record>> = Vec::new();
    let mut before = None;
    loop {
        let page: Vec<Record> = match to {
            To::Person(other) => {
                client.history(other, before, Some(200)).await.context("history")?.into_iter().map(Into::into).collect()
            }
            To::Group(group) => client
                .group_history(group, before, Some(200))
                .await
                .context("group history")?
                .into_iter()
                .filter(|m| m.change.is_none())
                .map(Into::into)
                .collect(),
        };
        let Some(first) = page.first() else { break };
        before = Some(first.id);
        pages.push(page);
    }
    Ok(pages.into_iter().rev().flatten().collect())
}

/// Checks the receiver's messages: each one of ours, at most once, each sender's in
/// their send order. Returns the stored id of each `(sender, index)`.
fn check_stored(stored: &[Record], senders: &[Sender], to: To) -> Outcome<HashMap<(usize, usize), MessageId>> {
    let ids: HashSet<MessageId> = stored.iter().map(|m| m.id).collect();
    if ids.len() != stored.len() {
        return Err("sync returned a message twice".to_owned());
    }
    let mut by_key = HashMap::new();
    let mut last_index: Vec<Option<usize>> = vec![None; senders.len()];
    for message in stored {
        let key = message.client_msg_id.as_deref().and_then(parse_client_msg_id);
        let Some((k, i)) = key else { return Err(format!("a stored message has no client id of ours: {message:?}")) };
        let Some(sender) = senders.get(k) else { return Err(format!("unknown sender in {message:?}")) };
        if message.sender_id != sender.id || message.to != to || message.text != text_of(k, i) {
            return Err(format!("stored message {k}/{i} does not match what was sent: {message:?}"));
        }
        if by_key.insert((k, i), message.id).is_some() {
            return Err(format!("message {k}/{i} is stored twice"));
        }
        if last_index[k].is_some_and(|last| last >= i) {
            return Err(format!("sender {k}: message {i} is positioned after a later one ({:?})", last_index[k]));
        }
        last_index[k] = Some(i);
    }
    Ok(by_key)
}
