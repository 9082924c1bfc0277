//! Starts a real server on 127.0.0.1:0 per test, with its own data directory, and
//! talks to it with the generated tonic client over the socket.

use std::time::Duration;

use std::sync::Arc;

use devconnect_core::{Clock, DevConnect, RateLimit, SystemClock};
use devconnect_grpc::pb::dev_connect_service_client::DevConnectServiceClient;
use devconnect_grpc::{Limits, Running, pb};
use tonic::transport::Channel;
use tonic::{Code, Request, Status, Streaming};

pub type Client = DevConnectServiceClient<Channel>;

/// How long a test waits for an event that should come.
pub const WAIT: Duration = Duration::from_secs(10);

pub struct TestApp {
    pub running: Running,
    pub app: DevConnect,
    _dir: tempfile::TempDir,
}

/// What a test may change about the server.
pub struct Options {
    pub token_ttl: Duration,
    pub message_rate: u32,
    /// Signups and logins per minute from one address (0: no limit, the default here).
    pub auth_rate_per_addr: u32,
    /// Live streams one user may hold at once.
    pub max_sessions_per_user: u32,
    /// The service's clock (move a `ManualClock` to expire tokens).
    pub clock: Arc<dyn Clock>,
    pub limits: Limits,
    /// Push notifications off (`--disable-push`); on by default, as in the binary.
    pub disable_push: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            token_ttl: Duration::from_secs(3600),
            message_rate: 0,
            auth_rate_per_addr: 0,
            max_sessions_per_user: 32,
            clock: Arc::new(SystemClock),
            limits: Limits::default(),
            disable_push: false,
        }
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_with(Options::default()).await
}

pub async fn spawn_with(options: Options) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let mut config = devconnect_grpc::Config::new(dir.path());
    config.service.token_ttl_secs = options.token_ttl.as_secs();
    config.service.auth_rate_per_addr = options.auth_rate_per_addr;
    config.service.max_sessions_per_user = options.max_sessions_per_user;
    config.service.disable_push = options.disable_push;
    let mut core = config.core();
    core.settings.message_rate = RateLimit::per_minute(options.message_rate);
    core.settings.clock = options.clock;
    let app = DevConnect::open(core).await.unwrap();
    let running = devconnect_grpc::spawn(app.clone(), options.limits).await.unwrap();
    TestApp { running, app, _dir: dir }
}

impl TestApp {
    pub async fn client(&self) -> Client {
        DevConnectServiceClient::connect(self.running.url()).await.unwrap()
    }

    pub async fn channel(&self) -> Channel {
        Channel::from_shared(self.running.url()).unwrap().connect().await.unwrap()
    }

    /// Signs up `name` and returns a logged-in user.
    pub async fn user(&self, name: &str) -> User {
        let mut client = self.client().await;
        let auth = client.signup(signup(name)).await.unwrap().into_inner();
        let me = auth.user.unwrap();
        User { id: me.profile.unwrap().id, token: auth.token, client }
    }

    /// Signs up two users who are connected.
    pub async fn connected_pair(&self, a: &str, b: &str) -> (User, User) {
        let mut a = self.user(a).await;
        let mut b = self.user(b).await;
        connect(&mut a, &mut b).await;
        (a, b)
    }
}

pub fn signup(name: &str) -> pb::SignupRequest {
    pb::SignupRequest {
        first_name: name.to_owned(),
        last_name: "Tester".to_owned(),
        email_id: format!("{name}@example.com"),
        password: "Str0ng!pass".to_owned(),
        age: Some(30),
        gender: pb::Gender::Female.into(),
        about: format!("I am {name}"),
        skills: vec!["Rust".to_owned()],
        photo: None,
    }
}

pub struct User {
    pub id: String,
    pub token: String,
    pub client: Client,
}

impl User {
    /// `message` with this user's bearer token.
    pub fn req<T>(&self, message: T) -> Request<T> {
        authed(message, &self.token)
    }

    pub async fn subscribe(&mut self, last_message_id: Option<String>) -> Streaming<pb::Event> {
        let request = self.req(pb::SubscribeRequest { last_message_id });
        let mut stream = self.client.subscribe(request).await.unwrap().into_inner();
        match next(&mut stream).await {
            pb::event::Kind::OnlineUsers(_) => {}
            other => panic!("expected online_users first, got {other:?}"),
        }
        stream
    }

    pub async fn send(&mut self, to: &str, text: &str) -> pb::Message {
        let request =
            self.req(pb::SendMessageRequest { to_user_id: to.to_owned(), text: text.to_owned(), ..Default::default() });
        self.client.send_message(request).await.unwrap().into_inner().message.unwrap()
    }
}

pub fn authed<T>(message: T, token: &str) -> Request<T> {
    let mut request = Request::new(message);
    request.metadata_mut().insert("authorization", format!("Bearer {token}").parse().unwrap());
    request
}

/// `a` asks `b` to connect and `b` accepts.
pub async fn connect(a: &mut User, b: &mut User) {
    let request = a.req(pb::SendRequestRequest {
        to_user_id: b.id.clone(),
        status: pb::RequestStatus::Interested.into(),
        note: None,
    });
    let sent = a.client.send_request(request).await.unwrap().into_inner();
    let review = b.req(pb::ReviewRequestRequest { request_id: sent.id, status: pb::RequestStatus::Accepted.into() });
    b.client.review_request(review).await.unwrap();
}

/// The next event of `stream`, failing the test after [`WAIT`].
pub async fn next(stream: &mut Streaming<pb::Event>) -> pb::event::Kind {
    let item = tokio::time::timeout(WAIT, stream.message()).await.expect("no event in time");
    item.expect("stream failed").expect("stream ended").kind.expect("event without kind")
}

/// The status that ends `stream`, skipping events before it.
pub async fn end_of(stream: &mut Streaming<pb::Event>) -> Status {
    loop {
        match tokio::time::timeout(WAIT, stream.message()).await.expect("stream did not end in time") {
            Ok(Some(_)) => continue,
            Ok(None) => panic!("stream ended without a status"),
            Err(status) => return status,
        }
    }
}

/// Asserts a failed call's gRPC code and stable DevConnect code.
#[track_caller]
pub fn assert_error<T: std::fmt::Debug>(result: Result<T, Status>, code: Code, stable: &str) {
    let status = result.expect_err("the call should fail");
    assert_eq!(status.code(), code, "{status:?}");
    assert!(status.message().starts_with(&format!("{stable}: ")), "{status:?}");
    let meta = status.metadata().get(devconnect_grpc::error::ERROR_CODE_KEY).map(|v| v.to_str().unwrap().to_owned());
    assert_eq!(meta.as_deref(), Some(stable));
}

/// A small valid PNG.
pub fn png() -> Vec<u8> {
    let mut bytes = Vec::new();
    image::RgbImage::from_pixel(4, 3, image::Rgb([200, 30, 30]))
        .write_to(&mut std::io::Cursor::new(&mut bytes), image::ImageFormat::Png)
        .unwrap();
    bytes
}
