//! A real hyper server with the Socket.IO endpoint over a fresh in-memory core.

use std::convert::Infallible;
use std::future::Future;
use std::time::Duration;

use devconnect_client::realtime::{self as client, Client, ServerEvent};
use devconnect_core::{Config, DevConnect, ReviewStatus, SendStatus, Session, Settings, Signup, UserId};
use devconnect_socketio::{SocketIo, SocketIoConfig};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use secrecy::SecretString;
use tokio::net::TcpListener;

/// How long any expected event may take.
pub const WAIT: Duration = Duration::from_secs(10);
pub const PASSWORD: &str = "Str0ng!pass";

pub struct TestApp {
    pub app: DevConnect,
    pub io: SocketIo,
    pub base_url: String,
    _dir: tempfile::TempDir,
}

pub struct User {
    pub id: UserId,
    pub token: String,
}

/// The endpoint's defaults with these ping timings (tests of pings and expiry).
pub fn with_pings(interval_ms: u64, timeout_ms: u64) -> SocketIoConfig {
    SocketIoConfig {
        ping_interval: Duration::from_millis(interval_ms),
        ping_timeout: Duration::from_millis(timeout_ms),
        ..SocketIoConfig::default()
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(Settings::default(), SocketIoConfig::default()).await
}

pub async fn spawn_app_with(settings: Settings, config: SocketIoConfig) -> TestApp {
    let dir = tempfile::tempdir();
    let Ok(dir) = dir else { panic!("tempdir: {dir:?}") };
    let mut core = Config::new(dir.path());
    core.database_url = Some("sqlite::memory:".to_owned());
    core.jwt_secret = Some(SecretString::from("a-test-secret-that-is-long-enough-0123456789".to_owned()));
    core.settings = settings;
    let app = must(DevConnect::open(core).await, "open core");
    let io = SocketIo::new(app.clone(), config);
    let listener = must(TcpListener::bind("127.0.0.1:0").await, "bind");
    let addr = must(listener.local_addr(), "local addr");
    let server = io.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let io = server.clone();
            tokio::spawn(async move {
                let service = service_fn(move |req| {
                    let io = io.clone();
                    async move { Ok::<_, Infallible>(io.handle(req).await) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .with_upgrades()
                    .await;
            });
        }
    });
    TestApp { app, io, base_url: format!("http://{addr}"), _dir: dir }
}

impl TestApp {
    pub async fn user(&self, name: &str) -> User {
        let email = format!("{name}@example.com");
        let signup = Signup {
            first_name: name.to_owned(),
            email: email.clone(),
            password: PASSWORD.to_owned(),
            ..Signup::default()
        };
        let auth = must(self.app.signup(signup, devconnect_core::Peer::Local).await, "signup");
        User { id: auth.user.profile.id, token: auth.token }
    }

    pub async fn connect_users(&self, a: &User, b: &User) {
        let request = must(self.app.send_request(a.id, b.id, SendStatus::Interested, None).await, "request");
        must(self.app.review_request(b.id, request.id, ReviewStatus::Accepted).await, "accept");
    }

    pub async fn session(&self, user: &User) -> Session {
        must(self.app.authenticate(&user.token).await, "authenticate")
    }

    pub async fn socket(&self, user: &User) -> Client {
        must(client::connect(&self.base_url, &user.token, None).await, "connect")
    }

    /// Waits until the server has exactly `n` open sockets.
    pub async fn wait_for_sockets(&self, n: usize) {
        let io = self.io.clone();
        within(async move {
            while io.socket_count() != n {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
        .await;
    }
}

pub fn must<T, E: std::fmt::Debug>(result: Result<T, E>, what: &str) -> T {
    match result {
        Ok(value) => value,
        Err(err) => panic!("{what}: {err:?}"),
    }
}

pub async fn within<T>(future: impl Future<Output = T>) -> T {
    must(tokio::time::timeout(WAIT, future).await, "timed out waiting")
}

/// The next event satisfying `pick`, skipping others.
pub async fn next_where<T>(client: &mut Client, mut pick: impl FnMut(ServerEvent) -> Option<T>) -> T {
    within(async {
        loop {
            match client.next_event().await {
                Some(event) => {
                    if let Some(found) = pick(event) {
                        return found;
                    }
                }
                None => panic!("the connection ended before the expected event"),
            }
        }
    })
    .await
}

/// The next `getOnlineUsers` list.
pub async fn next_online(client: &mut Client) -> Vec<UserId> {
    next_where(client, |e| match e {
        ServerEvent::OnlineUsers(ids) => Some(ids),
        _ => None,
    })
    .await
}

/// The next event that is not a presence list.
pub async fn next_non_presence(client: &mut Client) -> ServerEvent {
    next_where(client, |e| (!matches!(e, ServerEvent::OnlineUsers(_))).then_some(e)).await
}
