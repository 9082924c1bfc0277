//! Several instances of the real server binary sharing one MongoDB replica set and one
//! Redis bus: what users on different instances see of each other.
//!
//! Needs `DEVCONNECT_TEST_REDIS_URL` and `DEVCONNECT_TEST_MONGODB_RS_URL` (a replica set,
//! the production topology): `scripts/with-jongodb.sh scripts/with-redis.sh cargo test
//! -p devconnect-http --test cluster`. Without them the tests fail, saying so.
#![expect(clippy::unwrap_used, clippy::expect_used, reason = "a test fails loudly on any unexpected error")]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use devconnect_client::realtime::{self, ServerEvent};
use devconnect_client::{Client, NewAccount};
use devconnect_core::{Me, ReviewStatus, SendStatus, UserId, Visibility};

const JWT_SECRET: &str = "cluster-secret-cluster-secret-cluster-secret-01";
const PASSWORD: &str = "Str0ng!pass";
/// The presence expiry the instances run with; the tests wait at most this plus a
/// margin for a killed instance's users to go offline.
const EXPIRY_SECS: u64 = 3;
/// Failure guard for events that should come promptly.
const PROMPT: Duration = Duration::from_secs(10);

fn env_or_fail(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run under scripts/with-redis.sh and scripts/with-jongodb.sh (see scripts/test.sh)")
    })
}

/// One deployment: a fresh database and a fresh key prefix on the shared servers.
struct Cluster {
    dir: tempfile::TempDir,
    database_url: String,
    bus_url: String,
    prefix: String,
}

impl Cluster {
    fn new() -> Self {
        Self::with_bus(env_or_fail("DEVCONNECT_TEST_REDIS_URL"))
    }

    fn with_bus(bus_url: String) -> Self {
        let mongo = env_or_fail("DEVCONNECT_TEST_MONGODB_RS_URL");
        let (base, query) = mongo.split_once('?').map_or((mongo.as_str(), ""), |(b, q)| (b, q));
        let id = UserId::new();
        let query = if query.is_empty() { String::new() } else { format!("?{query}") };
        Self {
            dir: tempfile::tempdir().unwrap(),
            database_url: format!("{}/dc_cluster_{id}{query}", base.trim_end_matches('/')),
            bus_url,
            prefix: format!("dctest-{id}"),
        }
    }

    /// Starts an instance on a free port; returns once it is serving and on the bus.
    async fn start(&self, name: &str) -> Instance {
        self.start_with(name, &[]).await
    }

    /// Like [`Cluster::start`], with more flags.
    async fn start_with(&self, name: &str, extra: &[&str]) -> Instance {
        let port = free_port();
        let data_dir = self.dir.path().join(name);
        let args: Vec<String> = [
            "--bind",
            &format!("127.0.0.1:{port}"),
            "--data-dir",
            &data_dir.display().to_string(),
            "--database-url",
            &self.database_url,
            "--jwt-secret",
            JWT_SECRET,
            "--bus-url",
            &self.bus_url,
            "--bus-prefix",
            &self.prefix,
            "--presence-expiry-secs",
            &EXPIRY_SECS.to_string(),
            "--auth-rate-per-addr",
            "0",
            "--login-rate",
            "0",
            "--message-rate",
            "0",
            "--request-rate",
            "0",
            "--log",
            "info,devconnect_http::access=warn",
        ]
        .iter()
        .chain(extra)
        .map(ToString::to_string)
        .collect();
        let instance = Instance::spawn(&args, &self.dir.path().join(format!("{name}.log")));
        instance.wait_healthy().await;
        instance
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A server process; killed (SIGKILL) when dropped.
struct Instance {
    child: Child,
    url: String,
    log: PathBuf,
}

impl Instance {
    fn spawn(args: &[String], log: &Path) -> Self {
        let bind = &args[1];
        let file = std::fs::OpenOptions::new().create(true).append(true).open(log).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_devconnect-http"))
            .args(args)
            .stdout(Stdio::null())
            .stderr(file)
            .spawn()
            .unwrap();
        Self { child, url: format!("http://{bind}"), log: log.to_owned() }
    }

    /// Waits until `/healthz` answers with the bus connected.
    async fn wait_healthy(&self) {
        let url = format!("{}/healthz", self.url);
        let http = self.client().http().clone();
        let started = tokio::time::timeout(Duration::from_secs(60), async {
            loop {
                if let Ok(response) = http.get(&url).send().await {
                    let health: serde_json::Value = response.json().await.unwrap_or_default();
                    if health["bus"] == "connected" {
                        return;
                    }
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
        .await;
        assert!(started.is_ok(), "instance {} did not start: {}", self.url, self.logs());
    }

    /// `/healthz` as JSON.
    async fn health(&self) -> serde_json::Value {
        let http = self.client().http().clone();
        http.get(format!("{}/healthz", self.url)).send().await.unwrap().json().await.unwrap()
    }

    fn logs(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn client(&self) -> Client {
        Client::new(&self.url).unwrap()
    }

    async fn user(&self, name: &str) -> (Client, Me) {
        let client = self.client();
        let account = NewAccount {
            first_name: name.to_owned(),
            last_name: "Tester".to_owned(),
            email: format!("{}-{}@example.com", name.to_lowercase(), UserId::new()),
            password: PASSWORD.to_owned(),
            age: None,
            gender: None,
            about: None,
            skills: Vec::new(),
            photo: None,
        };
        let me = client.signup(&account).await.unwrap().user;
        (client, me)
    }

    async fn socket(&self, client: &Client) -> realtime::Client {
        realtime::connect(&self.url, &client.token().unwrap(), None).await.unwrap()
    }

    /// SIGKILL: no goodbye to anyone.
    fn kill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn next_matching_within(
    socket: &mut realtime::Client,
    within: Duration,
    mut pick: impl FnMut(&ServerEvent) -> bool,
) -> ServerEvent {
    let found = tokio::time::timeout(within, async {
        loop {
            let event = socket.next_event().await.expect("the socket closed");
            if pick(&event) {
                return event;
            }
        }
    })
    .await;
    found.expect("the expected event did not come")
}

async fn next_matching(socket: &mut realtime::Client, pick: impl FnMut(&ServerEvent) -> bool) -> ServerEvent {
    next_matching_within(socket, PROMPT, pick).await
}

fn online_users_are(expected: &[UserId]) -> impl FnMut(&ServerEvent) -> bool + '_ {
    move |event| {
        matches!(event, ServerEvent::OnlineUsers(ids)
            if ids.len() == expected.len() && expected.iter().all(|e| ids.contains(e)))
    }
}

/// Ada on instance A and Bob on instance B become connected (request sent on A,
/// accepted on B) with a socket each; returns once each sees the other online.
async fn connected_across(
    a: &Instance,
    b: &Instance,
) -> ((Client, Me, realtime::Client), (Client, Me, realtime::Client)) {
    let (ada, ada_me) = a.user("Ada").await;
    let (bob, bob_me) = b.user("Bob").await;
    let (ada_id, bob_id) = (ada_me.profile.id, bob_me.profile.id);
    let mut ada_socket = a.socket(&ada).await;
    let mut bob_socket = b.socket(&bob).await;
    next_matching(&mut ada_socket, online_users_are(&[ada_id])).await;
    next_matching(&mut bob_socket, online_users_are(&[bob_id])).await;

    let request = ada.send_request(SendStatus::Interested, bob_id, Some("Hi from A")).await.unwrap();
    let received = next_matching(&mut bob_socket, |e| matches!(e, ServerEvent::ConnectionRequest(_))).await;
    assert!(matches!(&received, ServerEvent::ConnectionRequest(r) if r.id == request.id), "{received:?}");

    bob.review_request(request.id, ReviewStatus::Accepted).await.unwrap();
    let accepted = next_matching(&mut ada_socket, |e| matches!(e, ServerEvent::ConnectionAccepted(_))).await;
    assert!(matches!(&accepted, ServerEvent::ConnectionAccepted(r) if r.id == request.id), "{accepted:?}");
    next_matching(&mut ada_socket, online_users_are(&[ada_id, bob_id])).await;
    next_matching(&mut bob_socket, online_users_are(&[ada_id, bob_id])).await;
    ((ada, ada_me, ada_socket), (bob, bob_me, bob_socket))
}

#[tokio::test]
async fn users_on_two_instances_see_requests_presence_messages_and_typing() {
    let cluster = Cluster::new();
    let a = cluster.start("a").await;
    let b = cluster.start("b").await;
    assert_eq!(a.health().await["bus"], "connected");
    let ((ada, ada_me, mut ada_socket), (bob, bob_me, mut bob_socket)) = connected_across(&a, &b).await;
    let (ada_id, bob_id) = (ada_me.profile.id, bob_me.profile.id);

    // REST on A → Bob's socket on B, and the echo to Ada's own socket; twice, so a
    // duplicate delivery would show up as the first message arriving again.
    let first = ada.send_message(bob_id, "one, over REST on A", None).await.unwrap().message;
    let second = ada.send_message(bob_id, "two, over REST on A", None).await.unwrap().message;
    for socket in [&mut bob_socket, &mut ada_socket] {
        let got = next_matching(socket, |e| matches!(e, ServerEvent::NewMessage(_))).await;
        assert_eq!(got, ServerEvent::NewMessage(first.clone()));
        let got = next_matching(socket, |e| matches!(e, ServerEvent::NewMessage(_))).await;
        assert_eq!(got, ServerEvent::NewMessage(second.clone()));
    }

    // Socket on B → Ada's socket on A.
    let reply = bob_socket.send_message(ada_id, "reply over the socket on B", Some("r-1")).await.unwrap();
    let got = next_matching(&mut ada_socket, |e| matches!(e, ServerEvent::NewMessage(_))).await;
    assert_eq!(got, ServerEvent::NewMessage(reply.clone()));
    assert_eq!(ada.history(bob_id, None, None).await.unwrap(), vec![first, second, reply]);

    // Typing and read receipts cross too.
    bob_socket.typing(ada_id, true).await.unwrap();
    let typing = next_matching(&mut ada_socket, |e| matches!(e, ServerEvent::Typing { .. })).await;
    assert_eq!(typing, ServerEvent::Typing { user_id: bob_id, typing: true });
    let up_to = ada.mark_read(bob_id).await.unwrap();
    let read = next_matching(&mut bob_socket, |e| matches!(e, ServerEvent::MessagesRead { .. })).await;
    assert_eq!(read, ServerEvent::MessagesRead { user_id: ada_id, up_to: up_to.unwrap() });

    // Presence through REST too: each sees the other online, though on another instance.
    assert!(ada.chat_partners().await.unwrap().iter().all(|p| p.online));
    assert!(bob.chat_partners().await.unwrap().iter().all(|p| p.online));

    // Bob's last socket closes on B: Ada, on A, sees him go offline.
    bob_socket.close().await;
    next_matching(&mut ada_socket, online_users_are(&[ada_id])).await;
    assert!(ada.chat_partners().await.unwrap().iter().all(|p| !p.online));
}

#[tokio::test]
async fn a_push_goes_to_someone_offline_on_every_instance_and_never_to_someone_online_elsewhere() {
    use devconnect_core::testkit::push_service::PushService;
    let cluster = Cluster::new();
    // One VAPID key for the deployment: subscriptions are bound to it.
    let key = cluster.dir.path().join("vapid.pk8").display().to_string();
    let flags = ["--push-allow-loopback", "--push-coalesce-ms", "50", "--vapid-key-file", &key];
    let a = cluster.start_with("a", &flags).await;
    let b = cluster.start_with("b", &flags).await;
    let ((ada, ada_me, mut ada_socket), (bob, bob_me, bob_socket)) = connected_across(&a, &b).await;
    let (ada_id, bob_id) = (ada_me.profile.id, bob_me.profile.id);

    let service = PushService::start().await.unwrap();
    let vapid: serde_json::Value =
        reqwest::get(format!("{}/push/vapid-public-key", b.url)).await.unwrap().json().await.unwrap();
    let vapid_a: serde_json::Value =
        reqwest::get(format!("{}/push/vapid-public-key", a.url)).await.unwrap().json().await.unwrap();
    assert_eq!(vapid["data"], vapid_a["data"], "one key on both instances");
    let subscription = service.subscribe(vapid["data"]["publicKey"].as_str().unwrap());
    let registered = reqwest::Client::new()
        .post(format!("{}/push/subscriptions", b.url))
        .bearer_auth(bob.token().unwrap())
        .json(&subscription)
        .send()
        .await
        .unwrap();
    assert_eq!(registered.status(), 201);

    // Bob is online on B: Ada's message through A is queued (A sees no socket of his)
    // but dropped when it is due, since the bus says he is online.
    ada.send_message(bob_id, "seen live on B", None).await.unwrap();
    // Its entry is due after 50 ms and the outbox is read every 250 ms: long before
    // this wait ends, it has been dropped (a push of it would show below).
    tokio::time::sleep(Duration::from_secs(2)).await;
    // Then Bob goes offline everywhere, and the next message is pushed: the only one.
    drop(bob_socket);
    next_matching(&mut ada_socket, online_users_are(&[ada_id])).await;
    let pushed = ada.send_message(bob_id, "pushed", None).await.unwrap().message;
    let got = service.wait_for(1, PROMPT).await;
    assert!(service.problems().is_empty(), "{:?}", service.problems());
    let seen: Vec<_> = got.iter().map(|d| (d.notification.message_id, d.notification.count)).collect();
    assert_eq!(seen, [(Some(pushed.id), 1)], "only the message sent while Bob was offline");
}

/// The scrape token instances get when a test reads their metrics.
const METRICS_TOKEN: &str = "cluster-metrics-token-0123456789";

/// The value of the counter `name{labels}` in an instance's `/metrics`.
async fn counter(instance: &Instance, name_and_labels: &str) -> f64 {
    let http = instance.client().http().clone();
    let text = http
        .get(format!("{}/metrics", instance.url))
        .bearer_auth(METRICS_TOKEN)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find_map(|line| line.strip_prefix(name_and_labels)?.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {name_and_labels} in {text}"))
}

#[tokio::test]
async fn a_group_message_is_one_bus_publish_delivered_to_members_on_both_instances() {
    let cluster = Cluster::new();
    let a = cluster.start_with("a", &["--metrics-token", METRICS_TOKEN]).await;
    let b = cluster.start("b").await;
    let ((ada, _), (dee, _)) = (a.user("Ada").await, a.user("Dee").await);
    let ((bob, _), (cy, _)) = (b.user("Bob").await, b.user("Cy").await);
    let group = ada.create_group("Across", "", Visibility::Public, &[]).await.unwrap();
    for member in [&dee, &bob, &cy] {
        member.join_group(group.id).await.unwrap();
    }
    let mut sockets = [a.socket(&ada).await, a.socket(&dee).await, b.socket(&bob).await, b.socket(&cy).await];
    // Settled: every socket has its presence list before anything is counted.
    for socket in &mut sockets {
        next_matching(socket, |e| matches!(e, ServerEvent::OnlineUsers(_))).await;
    }
    let events = "devconnect_bus_published_total{kind=\"event\"}";
    let before = counter(&a, events).await;
    let sent = ada.send_group_message(group.id, "to everyone, wherever they are", None).await.unwrap().message;
    for socket in &mut sockets {
        let got = next_matching(socket, |e| matches!(e, ServerEvent::GroupMessage(_))).await;
        assert_eq!(got, ServerEvent::GroupMessage(sent.clone()));
    }
    assert_eq!(counter(&a, events).await - before, 1.0, "one publish for four members on two instances");
    // Exactly once each: a second copy would be the next group message.
    let last = bob.send_group_message(group.id, "and back", None).await.unwrap().message;
    for socket in &mut sockets {
        let got = next_matching(socket, |e| matches!(e, ServerEvent::GroupMessage(_))).await;
        assert_eq!(got, ServerEvent::GroupMessage(last.clone()));
    }
}

#[tokio::test]
async fn logout_and_password_change_on_one_instance_close_sockets_on_the_other() {
    let cluster = Cluster::new();
    let a = cluster.start("a").await;
    let b = cluster.start("b").await;
    let (ada, _) = a.user("Ada").await;
    let mut on_b = b.socket(&ada).await;
    next_matching(&mut on_b, |e| matches!(e, ServerEvent::OnlineUsers(_))).await;
    ada.logout().await.unwrap();
    let ended = next_matching(&mut on_b, |e| matches!(e, ServerEvent::SessionEnded { .. })).await;
    assert!(matches!(&ended, ServerEvent::SessionEnded { code, .. } if code == "token_revoked"), "{ended:?}");

    let (bob, bob_me) = b.user("Bob").await;
    let mut on_a = a.socket(&bob).await;
    next_matching(&mut on_a, |e| matches!(e, ServerEvent::OnlineUsers(_))).await;
    let fresh = b.client();
    fresh.login(&bob_me.email, PASSWORD).await.unwrap();
    fresh.change_password(PASSWORD, "N3w!password").await.unwrap();
    let ended = next_matching(&mut on_a, |e| matches!(e, ServerEvent::SessionEnded { .. })).await;
    assert!(matches!(&ended, ServerEvent::SessionEnded { code, .. } if code == "token_revoked"), "{ended:?}");
    drop(bob);
}

#[tokio::test]
async fn a_killed_instances_users_go_offline_and_a_restart_leaves_no_ghost() {
    let cluster = Cluster::new();
    let a = cluster.start("a").await;
    let mut b = cluster.start("b").await;
    let ((ada, ada_me, mut ada_socket), (bob, bob_me, bob_socket)) = connected_across(&a, &b).await;
    let (ada_id, bob_id) = (ada_me.profile.id, bob_me.profile.id);

    b.kill();
    drop(bob_socket);
    let bound = Duration::from_secs(EXPIRY_SECS + 5);
    next_matching_within(&mut ada_socket, bound, online_users_are(&[ada_id])).await;
    assert!(ada.chat_partners().await.unwrap().iter().all(|p| !p.online));

    // A kept working throughout: messages are stored and reach Ada's own socket.
    let sent = ada.send_message(bob_id, "while B is down", None).await.unwrap().message;
    let echo = next_matching(&mut ada_socket, |e| matches!(e, ServerEvent::NewMessage(_))).await;
    assert_eq!(echo, ServerEvent::NewMessage(sent.clone()));
    assert_eq!(a.health().await["status"], "ok");

    // B comes back (a new process): Bob is online again, then offline when he leaves,
    // with nothing left behind by the killed process.
    let b = cluster.start("b").await;
    let bob = b.client().with_token(bob.token());
    let mut bob_socket = b.socket(&bob).await;
    let missed = bob.sync(None, None).await.unwrap().messages;
    assert_eq!(missed, vec![sent.into()]);
    next_matching(&mut ada_socket, online_users_are(&[ada_id, bob_id])).await;
    next_matching(&mut bob_socket, online_users_are(&[ada_id, bob_id])).await;
    bob_socket.close().await;
    next_matching(&mut ada_socket, online_users_are(&[ada_id])).await;
    assert!(ada.chat_partners().await.unwrap().iter().all(|p| !p.online));
}

/// A private Redis the test can stop and start again on the same port.
struct Redis {
    child: Option<Child>,
    port: u16,
}

impl Redis {
    async fn start(port: u16) -> Self {
        let server = env_or_fail("DEVCONNECT_TEST_REDIS_SERVER");
        let child = Command::new(server)
            .args(["--bind", "127.0.0.1", "--port", &port.to_string(), "--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let ready = tokio::time::timeout(PROMPT, async {
            while tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err() {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await;
        assert!(ready.is_ok(), "redis-server did not start");
        Self { child: Some(child), port }
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().unwrap();
            child.wait().unwrap();
        }
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.kill();
    }
}

async fn wait_for_status(instance: &Instance, status: &str, bus: &str) {
    let reached = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            let health = instance.health().await;
            if health["status"] == status && health["bus"] == bus {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    assert!(reached.is_ok(), "/healthz never reported {status}/{bus}: {}", instance.health().await);
}

#[tokio::test]
async fn without_redis_an_instance_serves_its_own_clients_reports_degraded_and_recovers() {
    let mut redis = Redis::start(free_port()).await;
    let cluster = Cluster::with_bus(redis.url());
    let a = cluster.start("a").await;
    let (ada, ada_me) = a.user("Ada").await;
    let (bob, bob_me) = a.user("Bob").await;
    let request = ada.send_request(SendStatus::Interested, bob_me.profile.id, None).await.unwrap();
    bob.review_request(request.id, ReviewStatus::Accepted).await.unwrap();
    let mut ada_socket = a.socket(&ada).await;
    let mut bob_socket = a.socket(&bob).await;
    let both = [ada_me.profile.id, bob_me.profile.id];
    next_matching(&mut bob_socket, online_users_are(&both)).await;
    wait_for_status(&a, "ok", "connected").await;

    redis.kill();
    wait_for_status(&a, "degraded", "unavailable").await;
    // REST and local sockets keep working: stored, answered, delivered.
    let sent = ada.send_message(bob_me.profile.id, "Redis is down", None).await.unwrap().message;
    let got = next_matching(&mut bob_socket, |e| matches!(e, ServerEvent::NewMessage(_))).await;
    assert_eq!(got, ServerEvent::NewMessage(sent.clone()));
    let echo = next_matching(&mut ada_socket, |e| matches!(e, ServerEvent::NewMessage(_))).await;
    assert_eq!(echo, ServerEvent::NewMessage(sent));

    // Redis comes back empty: the instance reconnects and registers its users again,
    // so an instance started now sees them online.
    let _redis = Redis::start(redis.port).await;
    wait_for_status(&a, "ok", "connected").await;
    let b = cluster.start("b").await;
    let bob_on_b = b.client().with_token(bob.token());
    let registered = tokio::time::timeout(PROMPT, async {
        while !bob_on_b.chat_partners().await.unwrap().iter().all(|p| p.online) {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    assert!(registered.is_ok(), "Ada's presence was not registered again after the outage");
}

/// Logs Ada out on A while Redis is down, so the revocation never crosses the bus; her
/// socket on B must still close, by B's own check of its sessions' tokens: periodic
/// (`periodic`), or at B's reconnection to Redis.
async fn a_logout_lost_by_the_bus_still_closes_the_socket(periodic: bool) {
    let mut redis = Redis::start(free_port()).await;
    let cluster = Cluster::with_bus(redis.url());
    // The periodic check every second, or (an hour) never within the test.
    let recheck = if periodic { "1" } else { "3600" };
    let a = cluster.start_with("a", &["--session-recheck-secs", recheck]).await;
    let b = cluster.start_with("b", &["--session-recheck-secs", recheck]).await;
    let (ada, _) = a.user("Ada").await;
    let mut on_b = b.socket(&ada).await;
    next_matching(&mut on_b, |e| matches!(e, ServerEvent::OnlineUsers(_))).await;
    wait_for_status(&b, "ok", "connected").await;

    redis.kill();
    wait_for_status(&a, "degraded", "unavailable").await;
    ada.logout().await.unwrap();
    if !periodic {
        // The revocation was lost: the socket lives on while B cannot hear of it...
        let quiet = tokio::time::timeout(Duration::from_secs(3), on_b.next_event()).await;
        assert!(quiet.is_err(), "the socket changed while Redis was down: {quiet:?}");
        // ...and closes once B is back on the bus.
        let _redis = Redis::start(redis.port).await;
        wait_for_status(&b, "ok", "connected").await;
        let ended = next_matching(&mut on_b, |e| matches!(e, ServerEvent::SessionEnded { .. })).await;
        assert!(matches!(&ended, ServerEvent::SessionEnded { code, .. } if code == "token_revoked"), "{ended:?}");
        return;
    }
    let ended = next_matching(&mut on_b, |e| matches!(e, ServerEvent::SessionEnded { .. })).await;
    assert!(matches!(&ended, ServerEvent::SessionEnded { code, .. } if code == "token_revoked"), "{ended:?}");
}

#[tokio::test]
async fn a_logout_while_redis_is_down_closes_sockets_elsewhere_within_the_recheck_period() {
    a_logout_lost_by_the_bus_still_closes_the_socket(true).await;
}

#[tokio::test]
async fn a_logout_while_redis_is_down_closes_sockets_elsewhere_once_the_bus_is_back() {
    a_logout_lost_by_the_bus_still_closes_the_socket(false).await;
}

/// A stand-in for a load balancer with client-address affinity (nginx `ip_hash`,
/// HAProxy `balance source`, as the README's scale-out section configures): every TCP
/// connection goes to the instance its client's address maps to (here by the last
/// octet), bytes piped both ways, WebSocket upgrades included. Returns its URL.
async fn sticky_balancer(instances: &[&Instance]) -> String {
    let targets: Vec<String> = instances.iter().map(|i| i.url.trim_start_matches("http://").to_owned()).collect();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut inbound, peer)) = listener.accept().await {
            let index = match peer.ip() {
                std::net::IpAddr::V4(v4) => usize::from(v4.octets()[3]) % targets.len(),
                std::net::IpAddr::V6(_) => 0,
            };
            let target = targets[index].clone();
            tokio::spawn(async move {
                if let Ok(mut outbound) = tokio::net::TcpStream::connect(target).await {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                }
            });
        }
    });
    format!("http://{addr}")
}

/// A long-polling Socket.IO client whose connections come from `127.0.0.<octet>`.
struct Poller {
    http: reqwest::Client,
    base: String,
    octet: u8,
    sid: String,
    /// Packets fetched with one picked by `until` but not yet looked at: one poll may
    /// carry several.
    unread: std::sync::Mutex<std::collections::VecDeque<String>>,
}

impl Poller {
    /// Opens a session at `base` and joins with `token`.
    async fn join(base: &str, octet: u8, token: &str) -> Self {
        let http =
            reqwest::Client::builder().local_address(std::net::IpAddr::from([127, 0, 0, octet])).build().unwrap();
        let open = http.get(format!("{base}/socket.io/?EIO=4&transport=polling")).send().await.unwrap();
        assert_eq!(open.status(), 200);
        let open: serde_json::Value = serde_json::from_str(&open.text().await.unwrap()[1..]).unwrap();
        let sid = open["sid"].as_str().unwrap().to_owned();
        let poller = Self { http, base: base.to_owned(), octet, sid, unread: Default::default() };
        assert_eq!(poller.post(&format!("40{}", serde_json::json!({ "token": token }))).await, 200);
        poller.until(|p| p.starts_with("40{")).await;
        poller
    }

    fn url(&self) -> String {
        format!("{}/socket.io/?EIO=4&transport=polling&sid={}", self.base, self.sid)
    }

    async fn get(&self) -> (u16, String) {
        let reply = self.http.get(self.url()).send().await.unwrap();
        (reply.status().as_u16(), reply.text().await.unwrap())
    }

    async fn post(&self, packet: &str) -> u16 {
        self.http.post(self.url()).body(packet.to_owned()).send().await.unwrap().status().as_u16()
    }

    /// Polls until a packet satisfies `pick`; returns it. Packets before it are
    /// skipped; those after it in the same poll are kept for the next call.
    async fn until(&self, mut pick: impl FnMut(&str) -> bool) -> String {
        let found = tokio::time::timeout(PROMPT, async {
            loop {
                let next = self.unread.lock().unwrap().pop_front();
                let Some(packet) = next else {
                    let (status, payload) = self.get().await;
                    assert_eq!(status, 200, "{payload}");
                    self.unread.lock().unwrap().extend(payload.split('\u{1e}').map(str::to_owned));
                    continue;
                };
                if pick(&packet) {
                    return packet;
                }
            }
        })
        .await;
        found.expect("the expected packet did not come")
    }

    /// Upgrades the session to a raw WebSocket (`2probe`, `3probe`, `5`) from the same
    /// client address.
    async fn upgrade(&self) -> RawWs {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind(std::net::SocketAddr::from(([127, 0, 0, self.octet], 0))).unwrap();
        let host = self.base.trim_start_matches("http://");
        let stream = socket.connect(host.parse().unwrap()).await.unwrap();
        let mut ws = RawWs { stream };
        let head = format!(
            "GET /socket.io/?EIO=4&transport=websocket&sid={} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\n\
             Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
            self.sid
        );
        ws.write(head.as_bytes()).await;
        let response = ws.read_head().await;
        assert!(response.starts_with("HTTP/1.1 101"), "{response}");
        ws.send("2probe").await;
        assert_eq!(ws.next().await, "3probe");
        // The held GET is released (with a noop or what was queued); polling pauses.
        let (status, _) = self.get().await;
        assert_eq!(status, 200);
        ws.send("5").await;
        ws
    }
}

/// Just enough of a WebSocket client for short text frames.
struct RawWs {
    stream: tokio::net::TcpStream,
}

impl RawWs {
    async fn write(&mut self, bytes: &[u8]) {
        use tokio::io::AsyncWriteExt as _;
        self.stream.write_all(bytes).await.unwrap();
    }

    async fn read_head(&mut self) -> String {
        use tokio::io::AsyncReadExt as _;
        let mut head = Vec::new();
        while !head.ends_with(b"\r\n\r\n") {
            head.push(self.stream.read_u8().await.unwrap());
        }
        String::from_utf8(head).unwrap()
    }

    /// A masked text frame (clients must mask), payload under 126 bytes.
    async fn send(&mut self, text: &str) {
        let mask = [1u8, 2, 3, 4];
        let mut frame = vec![0x81, 0x80 | u8::try_from(text.len()).unwrap()];
        frame.extend_from_slice(&mask);
        frame.extend(text.bytes().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        self.write(&frame).await;
    }

    /// The next text frame's payload (the server sends unfragmented, unmasked frames
    /// this short; longer ones use the 16-bit length).
    async fn next(&mut self) -> String {
        use tokio::io::AsyncReadExt as _;
        let read = async {
            loop {
                let opcode = self.stream.read_u8().await.unwrap() & 0x0f;
                let len = match self.stream.read_u8().await.unwrap() & 0x7f {
                    126 => usize::from(self.stream.read_u16().await.unwrap()),
                    127 => usize::try_from(self.stream.read_u64().await.unwrap()).unwrap(),
                    n => usize::from(n),
                };
                let mut payload = vec![0; len];
                self.stream.read_exact(&mut payload).await.unwrap();
                if opcode == 1 {
                    return String::from_utf8(payload).unwrap();
                }
            }
        };
        tokio::time::timeout(PROMPT, read).await.expect("no frame in time")
    }
}

#[tokio::test]
async fn long_polling_behind_a_load_balancer_with_client_address_affinity() {
    let cluster = Cluster::new();
    let a = cluster.start("a").await;
    let b = cluster.start("b").await;
    let balancer = sticky_balancer(&[&a, &b]).await;
    let (ada, ada_me) = a.user("Ada").await;
    let (bob, bob_me) = b.user("Bob").await;
    let (ada_id, bob_id) = (ada_me.profile.id, bob_me.profile.id);
    let request = ada.send_request(SendStatus::Interested, bob_id, None).await.unwrap();
    bob.review_request(request.id, ReviewStatus::Accepted).await.unwrap();

    // Ada's requests (from .2) all reach instance A, Bob's (from .3) instance B.
    let ada_poll = Poller::join(&balancer, 2, &ada.token().unwrap()).await;
    let bob_poll = Poller::join(&balancer, 3, &bob.token().unwrap()).await;
    // Without the affinity, a request of Ada's session landing on B would fail.
    let elsewhere = reqwest::get(format!("{}/socket.io/?EIO=4&transport=polling&sid={}", b.url, ada_poll.sid));
    let elsewhere = elsewhere.await.unwrap();
    assert_eq!(elsewhere.status(), 400);
    assert_eq!(elsewhere.json::<serde_json::Value>().await.unwrap()["code"], 1, "Session ID unknown");

    // Presence and messages cross the bus between the two polling sessions.
    let online = |ids: &[UserId]| serde_json::json!(["getOnlineUsers", ids]).to_string();
    let both = [online(&[bob_id, ada_id]), online(&[ada_id, bob_id])];
    bob_poll.until(|p| both.iter().any(|o| p.strip_prefix("42") == Some(o))).await;
    let send = serde_json::json!(["sendMessage", { "to": bob_id, "text": "polled across instances" }]);
    assert_eq!(ada_poll.post(&format!("421{send}")).await, 200);
    ada_poll.until(|p| p.starts_with("431[")).await;
    bob_poll.until(|p| p.contains("polled across instances")).await;

    // Bob upgrades to WebSocket through the balancer; messages keep coming, once.
    let mut bob_ws = bob_poll.upgrade().await;
    let sent = ada.send_message(bob_id, "after the upgrade", None).await.unwrap().message;
    loop {
        let frame = bob_ws.next().await;
        if frame.starts_with("42[\"newMessage\"") {
            assert!(frame.contains(&sent.id.to_string()), "{frame}");
            break;
        }
    }
}
