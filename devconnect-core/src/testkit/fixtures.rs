//! What the behaviours share: a test service, users, connections, messages, images, and
//! checks that fail with a message.

use std::sync::Arc;
use std::time::Duration;

use secrecy::SecretString;

use crate::auth::{Peer, Signup};
use crate::chat::NewMessage;
use crate::connection::{ReviewStatus, SendStatus};
use crate::media::{Image, LocalMedia, MediaStore, Upload};
use crate::profile::{Me, Profile};
use crate::realtime::{Event, Subscription};
use crate::store::{Store, UserRecord};
use crate::{DevConnect, Error, RateLimit, Result, Settings, UserId};

/// A strong password every test user has.
pub const PASSWORD: &str = "Str0ng!pass";
/// The public base of test services' local media: the URLs they hand out start with it.
pub const MEDIA_BASE: &str = "http://media.test/media";
/// The JWT secret of test services.
pub const SECRET: &str = "test-secret-test-secret-test-secret-0123";

/// A service over `store` with test settings (real argon2 parameters, limits off).
pub fn service(store: Arc<dyn Store>) -> Result<DevConnect> {
    service_with(store, Settings::default())
}

/// A token of `user`, as a login would give, without hashing a password: for tests
/// that need thousands of sessions (seeded with [`DevConnect::import_users`]).
pub async fn token_for(app: &DevConnect, user: UserId) -> Result<String> {
    let record = app.inner.store.user(user).await?.ok_or(Error::NotFound("user"))?;
    app.inner.credentials.issue(user, record.token_version)
}

/// A service over `store` with `settings` (rate limits are turned off unless set).
pub fn service_with(store: Arc<dyn Store>, settings: Settings) -> Result<DevConnect> {
    let media = Arc::new(TempMedia::new()?);
    DevConnect::new(store, media, &SecretString::from(SECRET.to_owned()), relaxed(settings))
}

/// A service over `store` with push notifications as `push` says (rate limits off).
#[cfg(feature = "push")]
pub fn service_with_push(store: Arc<dyn Store>, push: crate::PushConfig) -> Result<DevConnect> {
    let media = Arc::new(TempMedia::new()?);
    let secret = SecretString::from(SECRET.to_owned());
    DevConnect::new_with_push(store, media, &secret, relaxed(Settings::default()), push)
}

/// `settings` with every rate limit left at its default turned off.
fn relaxed(mut settings: Settings) -> Settings {
    if settings.message_rate == Settings::default().message_rate {
        settings.message_rate = RateLimit::per_minute(0);
    }
    if settings.request_rate == Settings::default().request_rate {
        settings.request_rate = RateLimit::per_minute(0);
    }
    if settings.report_rate == Settings::default().report_rate {
        settings.report_rate = RateLimit::per_minute(0);
    }
    if settings.edit_rate == Settings::default().edit_rate {
        settings.edit_rate = RateLimit::per_minute(0);
    }
    if settings.search_rate == Settings::default().search_rate {
        settings.search_rate = RateLimit::per_minute(0);
    }
    if settings.login_rate == Settings::default().login_rate {
        settings.login_rate = RateLimit::per_minute(0);
    }
    if settings.auth_rate_per_addr == Settings::default().auth_rate_per_addr {
        settings.auth_rate_per_addr = RateLimit::per_minute(0);
    }
    settings
}

/// Local media in a temporary directory that is removed with the service.
struct TempMedia {
    local: LocalMedia,
    _dir: tempfile::TempDir,
}

impl TempMedia {
    fn new() -> Result<Self> {
        let dir = tempfile::tempdir().map_err(Error::internal)?;
        Ok(Self { local: LocalMedia::new(dir.path(), MEDIA_BASE)?, _dir: dir })
    }
}

#[async_trait::async_trait]
impl MediaStore for TempMedia {
    async fn put(&self, image: &Image) -> Result<String> {
        self.local.put(image).await
    }

    async fn delete(&self, stored: &str) -> Result<()> {
        self.local.delete(stored).await
    }

    fn public_url(&self, stored: &str) -> String {
        self.local.public_url(stored)
    }
}

/// A signup form for `email` with valid fields.
pub fn signup_form(first_name: &str, email: &str) -> Signup {
    Signup {
        first_name: first_name.to_owned(),
        last_name: "Tester".to_owned(),
        email: email.to_owned(),
        password: PASSWORD.to_owned(),
        age: Some(30),
        gender: Some("female".to_owned()),
        about: Some("I test things.".to_owned()),
        skills: vec!["Rust".to_owned(), "Go".to_owned()],
        photo: None,
    }
}

/// A user record with a placeholder hash, for store-level tests.
pub fn user_record(email: &str) -> UserRecord {
    let now = crate::now();
    UserRecord {
        me: Me {
            profile: Profile {
                id: UserId::new(),
                first_name: "Store".to_owned(),
                last_name: "User".to_owned(),
                age: Some(40),
                gender: None,
                photo_url: None,
                location: None,
                experience_years: None,
                about: String::new(),
                skills: vec!["SQL".to_owned()],
                created_at: now,
                updated_at: now,
                deleted: false,
            },
            email: email.to_owned(),
        },
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo".to_owned(),
        token_version: 0,
        suspended: false,
    }
}

/// Signs up a user named `name` (email `name@example.com`); returns id and token.
pub async fn user(app: &DevConnect, name: &str) -> Result<(UserId, String)> {
    let auth = app.signup(signup_form(name, &format!("{}@example.com", name.to_lowercase())), Peer::Local).await?;
    Ok((auth.user.profile.id, auth.token))
}

/// Connects `a` and `b` (a sends, b accepts).
pub async fn connect(app: &DevConnect, a: UserId, b: UserId) -> Result<()> {
    let request = app.send_request(a, b, SendStatus::Interested, None).await?;
    app.review_request(b, request.id, ReviewStatus::Accepted).await?;
    Ok(())
}

/// Sends a text message.
pub async fn say(app: &DevConnect, from: UserId, to: UserId, text: &str) -> Result<crate::Message> {
    Ok(app.send_message(from, to, NewMessage { text: text.to_owned(), ..NewMessage::default() }).await?.message)
}

/// The next event of `sub`, failing after five seconds.
pub async fn next_event(sub: &mut Subscription) -> Result<Event> {
    tokio::time::timeout(Duration::from_secs(5), sub.next())
        .await
        .map_err(|_| Error::internal("no event within 5 s"))?
        .ok_or_else(|| Error::internal("subscription ended"))
}

/// Asserts that nothing arrives on `sub` for a short while.
pub async fn assert_quiet(sub: &mut Subscription) -> Result<()> {
    match tokio::time::timeout(Duration::from_millis(100), sub.next()).await {
        Err(_) => Ok(()),
        Ok(event) => Err(Error::internal(format!("unexpected event {event:?}"))),
    }
}

pub(super) fn check(cond: bool, what: &str) -> Result<()> {
    if cond { Ok(()) } else { Err(Error::internal(format!("check failed: {what}"))) }
}

pub(super) fn code<T: std::fmt::Debug>(result: Result<T>) -> &'static str {
    match result {
        Ok(_) => "ok",
        Err(e) => e.code(),
    }
}

pub(super) fn expect_code<T: std::fmt::Debug>(result: Result<T>, expected: &'static str, what: &str) -> Result<()> {
    let got = code(result);
    check(got == expected, &format!("{what}: expected {expected}, got {got}"))
}

/// The header of an 8-bit RGB PNG of `width` × `height` and no pixel data: what a
/// decompression bomb shows before its pixels.
pub fn png_header(width: u32, height: u32) -> Upload {
    let crc32 = |bytes: &[u8]| {
        let mut crc = !0u32;
        for &b in bytes {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
            }
        }
        !crc
    };
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut chunk = |kind: &[u8], data: &[u8]| {
        let body = [kind, data].concat();
        bytes.extend_from_slice(&u32::try_from(data.len()).unwrap_or(0).to_be_bytes());
        bytes.extend_from_slice(&body);
        bytes.extend_from_slice(&crc32(&body).to_be_bytes());
    };
    chunk(b"IHDR", &[&width.to_be_bytes()[..], &height.to_be_bytes(), &[8, 2, 0, 0, 0]].concat());
    // The decoder reads the header up to the first data chunk; no pixels follow.
    chunk(b"IDAT", &[]);
    chunk(b"IEND", &[]);
    Upload(bytes)
}

/// A PNG of the given size.
pub fn png(width: u32, height: u32) -> Upload {
    let mut out = std::io::Cursor::new(Vec::new());
    let written = image::DynamicImage::new_rgb8(width, height).write_to(&mut out, image::ImageFormat::Png);
    debug_assert!(written.is_ok());
    Upload(out.into_inner())
}
