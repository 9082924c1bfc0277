//! Correctness at scale: a few thousand authenticated sockets on one server, users
//! paired as connections. Every pair sees its presence, and a sample of them chat over
//! their sockets. (The 100,000-socket figures are a benchmark, `socketload`; this is
//! what CI can afford on every change.)
#![expect(clippy::unwrap_used, reason = "a test fails loudly on any unexpected error")]

use std::time::Duration;

use devconnect_client::realtime::{self, ServerEvent};
use devconnect_core::{DevConnect, ReviewStatus, SendStatus, Signup, UserId};
use devconnect_http::Config;
use secrecy::SecretString;

const JWT_SECRET: &str = "scale-test-secret-scale-test-secret-0123456789";
/// Sockets in all (one per user, users paired).
const SOCKETS: usize = 3000;
/// Pairs that exchange a message.
const SAMPLE: usize = 100;
/// A failure guard for what should come promptly (not a timing assertion).
const PROMPT: Duration = Duration::from_secs(30);

async fn seed(config: &Config) -> Vec<(UserId, String)> {
    let app = DevConnect::open(config.core()).await.unwrap();
    let signups = (0..SOCKETS)
        .map(|i| Signup {
            first_name: format!("Scale{i}"),
            email: format!("scale{i}@example.com"),
            password: "Str0ng!pass".to_owned(),
            ..Signup::default()
        })
        .collect();
    // One password hash for all: seeding thousands of accounts stays fast.
    let ids = app.import_users(signups).await.unwrap();
    for pair in ids.chunks(2) {
        let request = app.send_request(pair[0], pair[1], SendStatus::Interested, None).await.unwrap();
        app.review_request(pair[1], request.id, ReviewStatus::Accepted).await.unwrap();
    }
    let mut users = Vec::with_capacity(SOCKETS);
    for id in ids {
        users.push((id, devconnect_core::testkit::token_for(&app, id).await.unwrap()));
    }
    app.close().await.unwrap();
    users
}

/// Waits for `socket` to say its partner is online too.
async fn sees_online(socket: &mut realtime::Client, me: UserId, partner: UserId) {
    let both = async {
        while let Some(event) = socket.next_event().await {
            if matches!(&event, ServerEvent::OnlineUsers(ids) if ids.contains(&me) && ids.contains(&partner)) {
                return;
            }
        }
        panic!("the socket of {me} closed before it saw {partner} online");
    };
    tokio::time::timeout(PROMPT, both).await.unwrap_or_else(|_| panic!("{me} never saw {partner} online"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousands_of_sockets_see_their_connections_online_and_chat() {
    // Both ends of every socket are in this process.
    devconnect_server::raise_descriptor_limit();
    let open = std::fs::read_dir("/proc/self/fd").map(Iterator::count).unwrap_or(0);
    let limit = rustix::process::getrlimit(rustix::process::Resource::Nofile).current.unwrap_or(u64::MAX);
    assert!(
        u64::try_from(2 * SOCKETS + open + 200).unwrap() <= limit,
        "{SOCKETS} sockets need about {} open files here; the limit is {limit} (raise `ulimit -Hn`)",
        2 * SOCKETS + 200
    );

    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::new(dir.path());
    config.bind = "127.0.0.1:0".parse().unwrap();
    config.service.jwt_secret = Some(SecretString::from(JWT_SECRET.to_owned()));
    config.service.message_rate = 0;
    config.service.disable_push = true;
    let users = seed(&config).await;
    let server = devconnect_http::spawn(&config).await.unwrap();
    let url = server.url();

    // Connect everyone, 100 at a time.
    let mut sockets = Vec::with_capacity(SOCKETS);
    for chunk in users.chunks(100) {
        let pending: Vec<_> = chunk
            .iter()
            .map(|(_, token)| {
                let (url, token) = (url.clone(), token.clone());
                tokio::spawn(async move { realtime::connect(&url, &token, None).await })
            })
            .collect();
        for handle in pending {
            sockets.push(handle.await.unwrap().unwrap());
        }
    }

    // Presence: the last of each pair to connect told the first; both see each other.
    // A sample of pairs then chats both ways over their sockets.
    let mut sockets: Vec<Option<realtime::Client>> = sockets.into_iter().map(Some).collect();
    let step = (SOCKETS / 2 / SAMPLE).max(1);
    for pair in (0..SOCKETS / 2).step_by(step).take(SAMPLE) {
        let (a, b) = (2 * pair, 2 * pair + 1);
        let (a_id, b_id) = (users[a].0, users[b].0);
        let mut a_socket = sockets[a].take().unwrap();
        let mut b_socket = sockets[b].take().unwrap();
        sees_online(&mut a_socket, a_id, b_id).await;
        sees_online(&mut b_socket, b_id, a_id).await;
        let sent = a_socket.send_message(b_id, &format!("hello {pair}"), Some(&format!("s-{pair}"))).await.unwrap();
        let got = tokio::time::timeout(PROMPT, async {
            loop {
                match b_socket.next_event().await {
                    Some(ServerEvent::NewMessage(m)) => return m,
                    Some(_) => {}
                    None => panic!("{b_id}'s socket closed"),
                }
            }
        })
        .await
        .unwrap();
        assert_eq!(got, sent);
        sockets[a] = Some(a_socket);
        sockets[b] = Some(b_socket);
    }
    for socket in sockets.into_iter().flatten() {
        socket.close().await;
    }
    server.shutdown().await.unwrap();
}
