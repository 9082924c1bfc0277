//! Test helpers: a fresh server per test (own temp data dir, port 0), clients, images.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use devconnect_client::{Client, NewAccount};
use devconnect_core::{Clock, Me, ReviewStatus, SendStatus};
use devconnect_http::{Config, Running};
use secrecy::SecretString;

pub const JWT_SECRET: &str = "test-secret-test-secret-test-secret-0123456789";
pub const PASSWORD: &str = "Str0ng!pass";

pub struct TestApp {
    pub server: Running,
    pub url: String,
    pub http: reqwest::Client,
    config: Config,
    _dir: tempfile::TempDir,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Starts a server on a free port with a fresh data directory; `tweak` adjusts the
/// configuration (by default the signup/login limits are off: tests sign up many users
/// from one address).
pub async fn spawn_app_with(tweak: impl FnOnce(&mut Config)) -> TestApp {
    spawn_app_on(None, tweak).await
}

/// Like [`spawn_app_with`], with the service reading the time from `clock` (tests of
/// expiry move a `ManualClock` rather than wait).
pub async fn spawn_app_with_clock(clock: Arc<dyn Clock>, tweak: impl FnOnce(&mut Config)) -> TestApp {
    spawn_app_on(Some(clock), tweak).await
}

async fn spawn_app_on(clock: Option<Arc<dyn Clock>>, tweak: impl FnOnce(&mut Config)) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::new(dir.path());
    config.bind = "127.0.0.1:0".parse().unwrap();
    config.service.jwt_secret = Some(SecretString::from(JWT_SECRET.to_owned()));
    config.service.auth_rate_per_addr = 0;
    config.service.login_rate = 0;
    config.service.message_rate = 0;
    config.service.request_rate = 0;
    config.service.database_url = mongodb_database();
    tweak(&mut config);
    let server = match clock {
        None => devconnect_http::spawn(&config).await.unwrap(),
        Some(clock) => {
            let mut core = config.core();
            core.settings.clock = clock;
            let app = devconnect_core::DevConnect::open(core).await.unwrap();
            devconnect_http::build_with(app, &config).await.unwrap().spawn()
        }
    };
    let url = server.url();
    let http = Client::new(&url).unwrap().http().clone();
    TestApp { server, url, http, config, _dir: dir }
}

/// With `DEVCONNECT_TEST_HTTP_MONGODB=1`, each test server gets a fresh database on the
/// MongoDB server at `DEVCONNECT_TEST_MONGODB_URL` (the test command runs the suite once
/// that way, under `scripts/with-jongodb.sh`); otherwise the embedded SQLite store.
fn mongodb_database() -> Option<String> {
    if std::env::var("DEVCONNECT_TEST_HTTP_MONGODB").ok().as_deref() != Some("1") {
        return None;
    }
    let Ok(url) = std::env::var("DEVCONNECT_TEST_MONGODB_URL") else {
        panic!("DEVCONNECT_TEST_HTTP_MONGODB=1 needs DEVCONNECT_TEST_MONGODB_URL (run under scripts/with-jongodb.sh)");
    };
    let (base, query) = url.split_once('?').map_or((url.as_str(), ""), |(b, q)| (b, q));
    let name = format!("dc_test_http_{}", devconnect_core::UserId::new());
    let query = if query.is_empty() { String::new() } else { format!("?{query}") };
    Some(format!("{}/{name}{query}", base.trim_end_matches('/')))
}

static NEXT: AtomicU32 = AtomicU32::new(0);

pub fn unique_email(name: &str) -> String {
    format!("{name}{}@example.com", NEXT.fetch_add(1, Ordering::Relaxed))
}

pub fn account(name: &str) -> NewAccount {
    NewAccount {
        first_name: name.to_owned(),
        last_name: "Tester".to_owned(),
        email: unique_email(&name.to_lowercase()),
        password: PASSWORD.to_owned(),
        age: Some(30),
        gender: Some("female".to_owned()),
        about: Some(format!("I am {name}")),
        skills: vec!["rust".to_owned()],
        photo: None,
    }
}

impl TestApp {
    /// Shuts the server down and starts it again on the same store (on a new port).
    pub async fn restart(self) -> TestApp {
        self.restart_with(|_| {}).await
    }

    /// Like [`TestApp::restart`], with `tweak` applied to the configuration first.
    pub async fn restart_with(self, tweak: impl FnOnce(&mut Config)) -> TestApp {
        let TestApp { server, http, mut config, _dir, .. } = self;
        tweak(&mut config);
        server.shutdown().await.unwrap();
        let server = devconnect_http::spawn(&config).await.unwrap();
        let url = server.url();
        TestApp { server, url, http, config, _dir }
    }

    /// The configuration the server runs with (its data directory, its database).
    #[allow(dead_code, reason = "the admin tests use it; the API suite does not")]
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// A client of this server with `token`.
    pub fn client_with(&self, token: &str) -> Client {
        self.client().with_token(Some(token.to_owned()))
    }

    pub fn client(&self) -> Client {
        Client::new(&self.url).unwrap()
    }

    /// A signed-up user and a client holding their token.
    pub async fn user(&self, name: &str) -> (Client, Me) {
        let client = self.client();
        let me = client.signup(&account(name)).await.unwrap().user;
        (client, me)
    }

    /// Two connected users.
    pub async fn connected_pair(&self) -> ((Client, Me), (Client, Me)) {
        let (a, a_me) = self.user("Ada").await;
        let (b, b_me) = self.user("Bob").await;
        let request = a.send_request(SendStatus::Interested, b_me.profile.id, None).await.unwrap();
        b.review_request(request.id, ReviewStatus::Accepted).await.unwrap();
        ((a, a_me), (b, b_me))
    }

    pub fn at(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    /// A raw request with `client`'s bearer token.
    pub fn raw(&self, method: reqwest::Method, path: &str, client: &Client) -> reqwest::RequestBuilder {
        let builder = self.http.request(method, self.at(path));
        match client.token() {
            Some(t) => builder.bearer_auth(t),
            None => builder,
        }
    }
}

/// Reads an error envelope and checks its shape; returns (status, code).
pub async fn error_of(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["success"], false, "{body}");
    assert!(body["message"].is_string(), "{body}");
    (status, body["code"].as_str().unwrap().to_owned())
}

/// The next event on `client` that `pick` accepts (others are skipped), within 5 s.
pub async fn next_matching(
    client: &mut devconnect_client::realtime::Client,
    mut pick: impl FnMut(&devconnect_client::realtime::ServerEvent) -> bool,
) -> devconnect_client::realtime::ServerEvent {
    tokio::time::timeout(std::time::Duration::from_secs(5), async {
        loop {
            let event = client.next_event().await.unwrap();
            if pick(&event) {
                return event;
            }
        }
    })
    .await
    .unwrap()
}

pub fn code_of<T: std::fmt::Debug>(result: Result<T, devconnect_client::ClientError>) -> String {
    result.err().map(|e| e.code().to_owned()).unwrap_or_else(|| "ok".to_owned())
}

pub fn png(width: u32, height: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(width, height, |x, y| image::Rgb([x as u8, y as u8, 128]));
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(img).write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

pub fn jpeg(width: u32, height: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(width, height, |x, y| image::Rgb([x as u8, y as u8, 64]));
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(img).write_to(&mut out, image::ImageFormat::Jpeg).unwrap();
    out.into_inner()
}
