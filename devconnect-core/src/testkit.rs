//! The store conformance suite: one `pub async fn` per behaviour, each taking a fresh,
//! empty store and checking, through the [`DevConnect`] service, what a user would
//! see. Every backend's tests run all of them with [`conformance_tests!`]:
//!
//! ```text
//! devconnect_core::conformance_tests!(MyStore::open_fresh().await);
//! ```
//! (a sketch, not a doctest: `MyStore` is yours; the real uses are in `store/`.)
//!
//! The factory expression is evaluated inside an `async fn` returning
//! `devconnect_core::Result<()>` and must yield `Result<impl Store>`.

#![allow(clippy::missing_errors_doc, missing_docs)]

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use secrecy::SecretString;

use crate::auth::{PasswordChange, Peer, Signup};
use crate::chat::NewMessage;
use crate::connection::RequestStatus;
use crate::feed::FeedQuery;
use crate::media::{Image, LocalMedia, MediaStore, Upload};
use crate::profile::{Me, Profile, ProfileEdit};
use crate::realtime::{EndReason, Event, Subscription};
use crate::store::{NewMessageRecord, Store, UserRecord};
use crate::{DevConnect, Error, MessageId, RateLimit, Result, Settings, UserId};

/// A strong password every test user has.
pub const PASSWORD: &str = "Str0ng!pass";
/// The public base of test services' local media: the URLs they hand out start with it.
pub const MEDIA_BASE: &str = "http://media.test/media";
/// The JWT secret of test services.
pub const SECRET: &str = "test-secret-test-secret-test-secret-0123";

/// Runs every conformance test against the stores made by `$factory`.
#[macro_export]
macro_rules! conformance_tests {
    ($factory:expr) => {
        $crate::conformance_tests!(@each $factory;
            signup_returns_a_token_that_authenticates,
            emails_are_unique_case_insensitively,
            concurrent_signups_with_one_email_create_one_account,
            imported_users_log_in_and_invalid_imports_are_refused_as_signups,
            wrong_email_and_wrong_password_are_indistinguishable,
            legacy_bcrypt_passwords_log_in_and_are_upgraded,
            logout_revokes_only_that_token,
            password_change_revokes_older_tokens,
            forged_and_expired_tokens_are_refused,
            own_profile_has_email_and_public_profile_does_not,
            profile_edits_are_validated_and_persisted,
            a_new_photo_replaces_and_deletes_the_old_one,
            media_urls_are_absolute_and_follow_the_public_base,
            request_rules_self_unknown_and_duplicates,
            concurrent_opposite_requests_create_one,
            only_the_receiver_reviews_a_pending_request,
            request_lists_embed_the_other_party,
            connections_can_be_listed_and_removed,
            feed_excludes_me_and_everyone_i_have_a_request_with,
            feed_pages_neither_overlap_nor_skip,
            feed_filters_by_skill,
            messages_go_only_to_connections,
            history_pages_backwards_in_order,
            client_message_ids_make_sends_idempotent,
            concurrent_duplicate_sends_store_one_message,
            sync_returns_everything_after_a_message_in_order,
            concurrent_sends_never_let_sync_skip_a_message,
            chat_partners_show_recency_and_unread_counts,
            presence_is_refcounted_and_only_for_connections,
            events_reach_the_right_people,
            a_catch_up_then_live_delivers_each_message_once_in_order,
            revoked_and_expired_tokens_end_their_subscriptions,
            no_subscription_outlives_a_revocation_that_races_its_opening,
            a_resume_point_that_is_not_my_message_is_refused_before_going_live,
            live_sessions_per_user_are_capped,
            typing_floods_are_limited_and_never_end_the_receivers_subscription,
            presence_and_read_receipts_reach_connections_only,
            a_connection_made_while_subscribing_is_not_missed,
            password_change_attempts_are_rate_limited,
            failing_on_purpose_never_locks_the_owner_out,
            image_decodes_wait_for_their_share_of_the_memory_budget,
            engagement_counts_each_utc_day_by_its_definitions
        );
    };
    (@each $factory:expr; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $name() -> $crate::Result<()> {
                let store = $factory?;
                $crate::testkit::$name(::std::sync::Arc::new(store)).await
            }
        )*
    };
}

/// A service over `store` with test settings (real argon2 parameters, limits off).
pub fn service(store: Arc<dyn Store>) -> Result<DevConnect> {
    service_with(store, Settings::default())
}

/// A service over `store` with `settings` (rate limits are turned off unless set).
pub fn service_with(store: Arc<dyn Store>, mut settings: Settings) -> Result<DevConnect> {
    if settings.message_rate == Settings::default().message_rate {
        settings.message_rate = RateLimit::per_minute(0);
    }
    if settings.request_rate == Settings::default().request_rate {
        settings.request_rate = RateLimit::per_minute(0);
    }
    if settings.login_rate == Settings::default().login_rate {
        settings.login_rate = RateLimit::per_minute(0);
    }
    if settings.auth_rate_per_addr == Settings::default().auth_rate_per_addr {
        settings.auth_rate_per_addr = RateLimit::per_minute(0);
    }
    let media = Arc::new(TempMedia::new()?);
    DevConnect::new(store, media, &SecretString::from(SECRET.to_owned()), settings)
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
                about: String::new(),
                skills: vec!["SQL".to_owned()],
                created_at: now,
                updated_at: now,
            },
            email: email.to_owned(),
        },
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo".to_owned(),
        token_version: 0,
    }
}

/// Signs up a user named `name` (email `name@example.com`); returns id and token.
pub async fn user(app: &DevConnect, name: &str) -> Result<(UserId, String)> {
    let auth = app.signup(signup_form(name, &format!("{}@example.com", name.to_lowercase())), Peer::Local).await?;
    Ok((auth.user.profile.id, auth.token))
}

/// Connects `a` and `b` (a sends, b accepts).
pub async fn connect(app: &DevConnect, a: UserId, b: UserId) -> Result<()> {
    let request = app.send_request(a, b, RequestStatus::Interested, None).await?;
    app.review_request(b, request.id, RequestStatus::Accepted).await?;
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

fn check(cond: bool, what: &str) -> Result<()> {
    if cond { Ok(()) } else { Err(Error::internal(format!("check failed: {what}"))) }
}

fn code<T: std::fmt::Debug>(result: Result<T>) -> &'static str {
    match result {
        Ok(_) => "ok",
        Err(e) => e.code(),
    }
}

fn expect_code<T: std::fmt::Debug>(result: Result<T>, expected: &'static str, what: &str) -> Result<()> {
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

pub async fn signup_returns_a_token_that_authenticates(store: Arc<dyn Store>) -> Result<()> {
    let app = service(store)?;
    let auth = app.signup(signup_form("Ada", "  Ada@Example.com "), Peer::Local).await?;
    check(auth.user.email == "ada@example.com", "email normalised")?;
    check(auth.user.profile.skills == ["Rust", "Go"], "skills kept")?;
    let session = app.authenticate(&auth.token).await?;
    check(session.user_id == auth.user.profile.id, "token is for the user")?;
    let login = app.login("ADA@example.com", PASSWORD, Peer::Local).await?;
    check(login.user == auth.user, "login returns the same user")?;
    expect_code(
        app.signup(Signup { password: "weak".into(), ..signup_form("B", "b@x.io") }, Peer::Local).await,
        "validation",
        "weak",
    )?;
    expect_code(
        app.signup(Signup { age: Some(12), ..signup_form("B", "b@x.io") }, Peer::Local).await,
        "validation",
        "age",
    )?;
    expect_code(app.signup(signup_form(" ", "b@x.io"), Peer::Local).await, "validation", "empty first name")?;
    expect_code(app.login("b@x.io", PASSWORD, Peer::Local).await, "unauthorized", "invalid signups stored nothing")
}

pub async fn emails_are_unique_case_insensitively(store: Arc<dyn Store>) -> Result<()> {
    let app = service(store)?;
    app.signup(signup_form("Ada", "ada@example.com"), Peer::Local).await?;
    expect_code(app.signup(signup_form("Eve", " ADA@example.COM"), Peer::Local).await, "conflict", "same email")
}

pub async fn concurrent_signups_with_one_email_create_one_account(store: Arc<dyn Store>) -> Result<()> {
    let app = service(Arc::clone(&store))?;
    let tasks: Vec<_> = (0..6)
        .map(|i| {
            let app = app.clone();
            tokio::spawn(
                async move { app.signup(signup_form(&format!("Twin{i}"), "twin@example.com"), Peer::Local).await },
            )
        })
        .collect();
    let mut created = 0;
    for task in tasks {
        match task.await.map_err(Error::internal)? {
            Ok(_) => created += 1,
            Err(Error::Conflict(_)) => {}
            Err(other) => return Err(other),
        }
    }
    check(created == 1, &format!("exactly one account, got {created}"))?;
    // Store-level: the constraint itself refuses a second record with the same email.
    expect_code(store.insert_user(&user_record("twin@example.com")).await, "conflict", "store constraint")
}

pub async fn imported_users_log_in_and_invalid_imports_are_refused_as_signups(store: Arc<dyn Store>) -> Result<()> {
    let app = service(Arc::clone(&store))?;
    let mut forms: Vec<Signup> =
        (0..3).map(|i| signup_form(&format!("Seed{i}"), &format!("Seed{i}@Example.com"))).collect();
    forms.push(Signup { password: "0ther!Pass".to_owned(), ..signup_form("Other", "other@example.com") });
    let ids = app.import_users(forms).await?;
    check(ids.len() == 4, "one id per form")?;
    for (i, id) in ids.iter().take(3).enumerate() {
        let auth = app.login(&format!("seed{i}@example.com"), PASSWORD, Peer::Local).await?;
        check(
            auth.user.profile.id == *id && auth.user.profile.skills == ["Rust", "Go"],
            "logs in as the imported user",
        )?;
        app.authenticate(&auth.token).await?;
    }
    let other = app.login("other@example.com", "0ther!Pass", Peer::Local).await?;
    check(ids.get(3) == Some(&other.user.profile.id), "a second password logs in too")?;
    // One hash per distinct password: what makes seeding thousands of accounts fast.
    let mut hashes = Vec::new();
    for id in &ids {
        hashes.push(store.user(*id).await?.map(|u| u.password_hash).unwrap_or_default());
    }
    check(hashes[0] == hashes[1] && hashes[1] == hashes[2] && hashes[2] != hashes[3], "hashed once per password")?;

    // An invalid form refuses the whole batch with the error its signup gets.
    let bad_forms = [
        Signup { password: "weak".into(), ..signup_form("B", "b@x.io") },
        Signup { age: Some(12), ..signup_form("B", "b@x.io") },
        Signup { skills: vec!["x".repeat(41)], ..signup_form("B", "b@x.io") },
        signup_form(" ", "b@x.io"),
        signup_form("B", "not an email"),
    ];
    for bad in bad_forms {
        let by_signup = app.signup(bad.clone(), Peer::Local).await.err().map(|e| (e.code(), e.to_string()));
        let batch = vec![signup_form("Fine", "fine@x.io"), bad];
        let by_import = app.import_users(batch).await.err().map(|e| (e.code(), e.to_string()));
        check(by_signup.is_some() && by_import == by_signup, &format!("same error: {by_import:?} vs {by_signup:?}"))?;
    }
    let with_photo = Signup { photo: Some(png(8, 8)), ..signup_form("Fine", "fine@x.io") };
    expect_code(app.import_users(vec![with_photo]).await, "validation", "a photo")?;
    expect_code(app.import_users(vec![signup_form("Again", "SEED0@example.com")]).await, "conflict", "taken email")?;
    let twins = vec![signup_form("Fine", "fine@x.io"), signup_form("Twin", " FINE@x.io")];
    expect_code(app.import_users(twins).await, "conflict", "one email twice")?;
    expect_code(app.login("fine@x.io", PASSWORD, Peer::Local).await, "unauthorized", "refused batches stored nothing")
}

pub async fn wrong_email_and_wrong_password_are_indistinguishable(store: Arc<dyn Store>) -> Result<()> {
    let app = service(store)?;
    user(&app, "Ada").await?;
    let wrong_password = app.login("ada@example.com", "Wr0ng!pass", Peer::Local).await.err().map(|e| e.to_string());
    let wrong_email = app.login("nobody@example.com", PASSWORD, Peer::Local).await.err().map(|e| e.to_string());
    check(wrong_password.is_some() && wrong_password == wrong_email, "same error")?;
    expect_code(app.login("not an email", PASSWORD, Peer::Local).await, "unauthorized", "malformed email")?;
    expect_code(app.login("ada@example.com", &"x".repeat(10_000), Peer::Local).await, "unauthorized", "huge password")
}

pub async fn legacy_bcrypt_passwords_log_in_and_are_upgraded(store: Arc<dyn Store>) -> Result<()> {
    let app = service(Arc::clone(&store))?;
    let mut legacy = user_record("legacy@example.com");
    legacy.password_hash = bcrypt::hash(PASSWORD, 4).map_err(Error::internal)?;
    store.insert_user(&legacy).await?;
    expect_code(app.login("legacy@example.com", "Wr0ng!pass", Peer::Local).await, "unauthorized", "wrong password")?;
    let auth = app.login("legacy@example.com", PASSWORD, Peer::Local).await?;
    check(auth.user.profile.id == legacy.me.profile.id, "logged in")?;
    let stored = store.user(legacy.me.profile.id).await?.map(|u| u.password_hash).unwrap_or_default();
    check(stored.starts_with("$argon2id$"), "hash upgraded to argon2id")?;
    app.authenticate(&auth.token).await?;
    app.login("legacy@example.com", PASSWORD, Peer::Local).await.map(drop)
}

pub async fn logout_revokes_only_that_token(store: Arc<dyn Store>) -> Result<()> {
    let app = service(store)?;
    let (_, first) = user(&app, "Ada").await?;
    let second = app.login("ada@example.com", PASSWORD, Peer::Local).await?.token;
    let session = app.authenticate(&first).await?;
    app.logout(&session).await?;
    app.logout(&session).await?; // idempotent
    expect_code(app.authenticate(&first).await, "unauthorized", "logged-out token")?;
    app.authenticate(&second).await.map(drop)
}

pub async fn password_change_revokes_older_tokens(store: Arc<dyn Store>) -> Result<()> {
    let app = service(store)?;
    let (_, first) = user(&app, "Ada").await?;
    let other = app.login("ada@example.com", PASSWORD, Peer::Local).await?.token;
    let session = app.authenticate(&first).await?;
    let change = |old: &str, new: &str, confirm: &str| PasswordChange {
        old_password: old.to_owned(),
        new_password: new.to_owned(),
        confirm_password: confirm.to_owned(),
    };
    expect_code(
        app.change_password(&session, change("Wr0ng!old", "N3w!passw", "N3w!passw")).await,
        "validation",
        "old",
    )?;
    expect_code(
        app.change_password(&session, change(PASSWORD, "N3w!passw", "N3w!other")).await,
        "validation",
        "confirm",
    )?;
    expect_code(app.change_password(&session, change(PASSWORD, "weak", "weak")).await, "validation", "strength")?;
    let fresh = app.change_password(&session, change(PASSWORD, "N3w!passw", "N3w!passw")).await?;
    expect_code(app.authenticate(&first).await, "unauthorized", "token used for the change")?;
    expect_code(app.authenticate(&other).await, "unauthorized", "other older token")?;
    app.authenticate(&fresh).await?;
    expect_code(app.login("ada@example.com", PASSWORD, Peer::Local).await, "unauthorized", "old password")?;
    app.login("ada@example.com", "N3w!passw", Peer::Local).await.map(drop)
}

pub async fn forged_and_expired_tokens_are_refused(store: Arc<dyn Store>) -> Result<()> {
    use jsonwebtoken::{Algorithm, EncodingKey, Header};
    let app = service(Arc::clone(&store))?;
    let (id, token) = user(&app, "Ada").await?;
    let now = Utc::now().timestamp();
    let claims = |exp: i64| serde_json::json!({"sub": id.to_hex(), "iat": now, "exp": exp, "jti": "abc", "ver": 0});
    let sign = |alg: Algorithm, secret: &[u8], exp: i64| {
        jsonwebtoken::encode(&Header::new(alg), &claims(exp), &EncodingKey::from_secret(secret))
            .map_err(Error::internal)
    };
    let forged = [
        String::new(),
        "garbage".to_owned(),
        format!("{token}x"),
        sign(Algorithm::HS256, b"another-secret-another-secret-0000", now + 60)?,
        sign(Algorithm::HS512, SECRET.as_bytes(), now + 60)?,
        sign(Algorithm::HS256, SECRET.as_bytes(), now - 10)?,
        // alg "none": header {"alg":"none","typ":"JWT"}, unsigned.
        format!("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{}.", token.split('.').nth(1).unwrap_or_default()),
    ];
    for (i, bad) in forged.iter().enumerate() {
        expect_code(app.authenticate(bad).await, "unauthorized", &format!("forged token #{i}"))?;
    }
    // A token for a user that does not exist is refused too.
    let ghost = UserId::new();
    let ghost_token = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &serde_json::json!({"sub": ghost.to_hex(), "iat": now, "exp": now + 60, "jti": "x", "ver": 0}),
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .map_err(Error::internal)?;
    expect_code(app.authenticate(&ghost_token).await, "unauthorized", "ghost user")?;
    // Short-lived tokens expire.
    let short = service_with(store, Settings { token_ttl: Duration::from_secs(1), ..Settings::default() })?;
    let token = short.login("ada@example.com", PASSWORD, Peer::Local).await?.token;
    short.authenticate(&token).await?;
    tokio::time::sleep(Duration::from_millis(2100)).await;
    expect_code(short.authenticate(&token).await, "unauthorized", "expired")
}

pub async fn own_profile_has_email_and_public_profile_does_not(store: Arc<dyn Store>) -> Result<()> {
    let app = service(store)?;
    let (ada, _) = user(&app, "Ada").await?;
    let me = serde_json::to_value(app.profile(ada).await?).map_err(Error::internal)?;
    check(me["emailID"] == "ada@example.com", "own profile has email")?;
    check(me["_id"] == ada.to_hex(), "own profile has _id")?;
    let public = serde_json::to_value(app.public_profile(ada).await?).map_err(Error::internal)?;
    check(public.get("emailID").is_none(), "public profile has no email")?;
    for value in [&me, &public] {
        let text = value.to_string();
        check(!text.contains("argon2") && !text.contains("password"), "no credentials")?;
    }
    expect_code(app.public_profile(UserId::new()).await, "not_found", "unknown user")
}

pub async fn profile_edits_are_validated_and_persisted(store: Arc<dyn Store>) -> Result<()> {
    let app = service(store)?;
    let (ada, _) = user(&app, "Ada").await?;
    let before = app.profile(ada).await?;
    let edit = ProfileEdit {
        about: Some("  Systems programmer  ".into()),
        skills: Some(vec!["Zig".into(), "zig".into(), "C".into()]),
        age: Some(41),
        ..ProfileEdit::default()
    };
    let after = app.edit_profile(ada, edit).await?;
    check(after.profile.about == "Systems programmer", "about trimmed")?;
    check(after.profile.skills == ["Zig", "C"], "skills deduplicated")?;
    check(after.profile.age == Some(41), "age")?;
    check(after.profile.first_name == before.profile.first_name, "untouched field kept")?;
    check(after.profile.updated_at >= before.profile.updated_at, "updated_at moves")?;
    check(app.profile(ada).await? == after, "edit persisted")?;
    let bad = ProfileEdit { first_name: Some("ok".into()), age: Some(7), ..ProfileEdit::default() };
    expect_code(app.edit_profile(ada, bad).await, "validation", "bad age")?;
    check(app.profile(ada).await?.profile.first_name == before.profile.first_name, "nothing changed on error")?;
    let long = ProfileEdit { about: Some("x".repeat(5000)), ..ProfileEdit::default() };
    expect_code(app.edit_profile(ada, long).await, "validation", "about too long")?;
    let gender = ProfileEdit { gender: Some("robot".into()), ..ProfileEdit::default() };
    expect_code(app.edit_profile(ada, gender).await, "validation", "gender")?;
    expect_code(app.edit_profile(UserId::new(), ProfileEdit::default()).await, "not_found", "unknown user")
}

pub async fn a_new_photo_replaces_and_deletes_the_old_one(store: Arc<dyn Store>) -> Result<()> {
    let dir = tempfile::tempdir().map_err(Error::internal)?;
    let media = Arc::new(LocalMedia::new(dir.path(), MEDIA_BASE)?);
    let settings = Settings { message_rate: RateLimit::per_minute(0), ..Settings::default() };
    let app = DevConnect::new(store, media, &SecretString::from(SECRET.to_owned()), settings)?;
    let auth =
        app.signup(Signup { photo: Some(png(8, 8)), ..signup_form("Ada", "ada@example.com") }, Peer::Local).await?;
    let first = auth.user.profile.photo_url.clone().unwrap_or_default();
    check(first.starts_with(&format!("{MEDIA_BASE}/")) && first.ends_with(".png"), "photo url")?;
    let file = |url: &str| dir.path().join(url.trim_start_matches(&format!("{MEDIA_BASE}/")));
    check(file(&first).exists(), "first photo stored")?;
    let me = app.set_photo(auth.user.profile.id, png(4, 4)).await?;
    let second = me.profile.photo_url.unwrap_or_default();
    check(second != first && file(&second).exists(), "second photo stored")?;
    check(!file(&first).exists(), "first photo deleted")?;
    expect_code(
        app.set_photo(auth.user.profile.id, Upload(b"%PDF-1.4".to_vec())).await,
        "unsupported_media_type",
        "pdf",
    )?;
    check(app.profile(auth.user.profile.id).await?.profile.photo_url == Some(second), "photo unchanged on error")
}

pub async fn media_urls_are_absolute_and_follow_the_public_base(store: Arc<dyn Store>) -> Result<()> {
    let dir = tempfile::tempdir().map_err(Error::internal)?;
    let serving = |base: &str| -> Result<DevConnect> {
        let media = Arc::new(LocalMedia::new(dir.path(), base)?);
        let settings = Settings { message_rate: RateLimit::per_minute(0), ..Settings::default() };
        DevConnect::new(Arc::clone(&store), media, &SecretString::from(SECRET.to_owned()), settings)
    };
    let one = serving("https://one.example/media")?;
    let ada =
        one.signup(Signup { photo: Some(png(4, 4)), ..signup_form("Ada", "ada@example.com") }, Peer::Local).await?;
    let (ada, url) = (ada.user.profile.id, ada.user.profile.photo_url.unwrap_or_default());
    let name = url.strip_prefix("https://one.example/media/").unwrap_or_default().to_owned();
    check(crate::media::is_media_name(&name), &format!("an absolute URL under the public base: {url}"))?;
    let stored = store.user(ada).await?.and_then(|u| u.me.profile.photo_url);
    check(stored.as_deref() == Some(name.as_str()), "records keep the name, not the URL")?;
    let (bob, _) = user(&one, "Bob").await?;
    connect(&one, ada, bob).await?;
    one.send_message(ada, bob, NewMessage { image: Some(png(2, 2)), ..NewMessage::default() }).await?;

    // A new public address (a new domain, a load balancer) changes every URL handed out.
    let two = serving("https://two.example/media")?;
    let moved = format!("https://two.example/media/{name}");
    check(two.public_profile(ada).await?.photo_url.as_deref() == Some(moved.as_str()), "a profile follows it")?;
    let history = two.history(bob, ada, None, None).await?;
    let image = history.first().and_then(|m| m.image.as_deref()).unwrap_or_default();
    check(image.starts_with("https://two.example/media/"), &format!("a chat image follows it: {image}"))?;

    // Relative URLs stored by earlier versions resolve too; absolute ones pass through.
    let mut legacy = user_record("legacy@example.com");
    legacy.me.profile.photo_url = Some(format!("/media/{name}"));
    let mut cloud = user_record("cloud@example.com");
    cloud.me.profile.photo_url = Some("https://res.cloudinary.com/demo/image/upload/v1/a.png".to_owned());
    for record in [&legacy, &cloud] {
        store.insert_user(record).await?;
    }
    let legacy_url = two.public_profile(legacy.me.profile.id).await?.photo_url;
    check(legacy_url.as_deref() == Some(moved.as_str()), "a relative URL of an earlier version")?;
    let cloud_url = two.public_profile(cloud.me.profile.id).await?.photo_url;
    check(cloud_url == cloud.me.profile.photo_url, "an absolute URL is left as it is")
}

pub async fn request_rules_self_unknown_and_duplicates(store: Arc<dyn Store>) -> Result<()> {
    let app = service(store)?;
    let (ada, _) = user(&app, "Ada").await?;
    let (bob, _) = user(&app, "Bob").await?;
    expect_code(app.send_request(ada, ada, RequestStatus::Interested, None).await, "validation", "self")?;
    expect_code(app.send_request(ada, UserId::new(), RequestStatus::Interested, None).await, "not_found", "unknown")?;
    expect_code(app.send_request(ada, bob, RequestStatus::Accepted, None).await, "validation", "bad status")?;
    let long = "n".repeat(301);
    expect_code(app.send_request(ada, bob, RequestStatus::Interested, Some(&long)).await, "validation", "note")?;
    let sent = app.send_request(ada, bob, RequestStatus::Interested, Some(" Hi Bob ")).await?;
    check(sent.note.as_deref() == Some("Hi Bob") && sent.status == RequestStatus::Interested, "request fields")?;
    expect_code(app.send_request(ada, bob, RequestStatus::Interested, None).await, "conflict", "again")?;
    expect_code(app.send_request(bob, ada, RequestStatus::Ignored, None).await, "conflict", "reverse")
}

pub async fn concurrent_opposite_requests_create_one(store: Arc<dyn Store>) -> Result<()> {
    let app = service(store)?;
    let (ada, _) = user(&app, "Ada").await?;
    let (bob, _) = user(&app, "Bob").await?;
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let app = app.clone();
            let (from, to) = if i % 2 == 0 { (ada, bob) } else { (bob, ada) };
            tokio::spawn(async move { app.send_request(from, to, RequestStatus::Interested, None).await })
        })
        .collect();
    let mut created = 0;
    for task in tasks {
        match task.await.map_err(Error::internal)? {
            Ok(_) => created += 1,
            Err(Error::Conflict(_)) => {}
            Err(other) => return Err(other),
        }
    }
    check(created == 1, &format!("one request, got {created}"))?;
    let total = app.sent_requests(ada).await?.len() + app.sent_requests(bob).await?.len();
    check(total == 1, "one stored")
}

pub async fn only_the_receiver_reviews_a_pending_request(store: Arc<dyn Store>) -> Result<()> {
    let app = service(store)?;
    let (ada, _) = user(&app, "Ada").await?;
    let (bob, _) = user(&app, "Bob").await?;
    let (eve, _) = user(&app, "Eve").await?;
    let request = app.send_request(ada, bob, RequestStatus::Interested, None).await?;
    expect_code(app.review_request(ada, request.id, RequestStatus::Accepted).await, "forbidden", "sender")?;
    expect_code(app.review_request(eve, request.id, RequestStatus::Accepted).await, "not_found", "stranger")?;
    expect_code(app.review_request(bob, request.id, RequestStatus::Ignored).await, "validation", "bad status")?;
    expect_code(
        app.review_request(bob, crate::RequestId::new(), RequestStatus::Accepted).await,
        "not_found",
        "unknown",
    )?;
    let accepted = app.review_request(bob, request.id, RequestStatus::Accepted).await?;
    check(accepted.status == RequestStatus::Accepted && accepted.id == request.id, "accepted")?;
    expect_code(app.review_request(bob, request.id, RequestStatus::Rejected).await, "conflict", "twice")?;
    let ignored = app.send_request(eve, bob, RequestStatus::Ignored, None).await?;
    expect_code(app.review_request(bob, ignored.id, RequestStatus::Accepted).await, "conflict", "ignored")?;
    check(app.connections(ada).await?.iter().map(|p| p.id).eq([bob]), "connected")
}

pub async fn request_lists_embed_the_other_party(store: Arc<dyn Store>) -> Result<()> {
    let app = service(store)?;
    let (ada, _) = user(&app, "Ada").await?;
    let (bob, _) = user(&app, "Bob").await?;
    let (eve, _) = user(&app, "Eve").await?;
    app.send_request(ada, bob, RequestStatus::Interested, Some("hello")).await?;
    app.send_request(eve, bob, RequestStatus::Ignored, None).await?;
    let r = app.send_request(ada, eve, RequestStatus::Interested, None).await?;
    app.review_request(eve, r.id, RequestStatus::Rejected).await?;
    let received = app.received_requests(bob).await?;
    check(received.len() == 1, "only pending interested")?;
    check(received[0].from_user_id.id == ada && received[0].from_user_id.first_name == "Ada", "sender profile")?;
    check(received[0].note.as_deref() == Some("hello"), "note")?;
    let json = serde_json::to_value(&received[0]).map_err(Error::internal)?;
    check(json["fromUserId"]["firstName"] == "Ada" && json["fromUserId"].get("emailID").is_none(), "json shape")?;
    let sent = app.sent_requests(ada).await?;
    check(sent.len() == 2 && sent.iter().all(|r| r.from_user_id == ada), "sent lists")?;
    check(sent.iter().any(|r| r.to_user_id.id == eve && r.status == RequestStatus::Rejected), "sent shows status")?;
    check(app.received_requests(ada).await?.is_empty(), "nothing received")
}

pub async fn connections_can_be_listed_and_removed(store: Arc<dyn Store>) -> Result<()> {
    let app = service(store)?;
    let (ada, _) = user(&app, "Ada").await?;
    let (bob, _) = user(&app, "Bob").await?;
    let (eve, _) = user(&app, "Eve").await?;
    connect(&app, ada, bob).await?;
    connect(&app, eve, ada).await?;
    let mut ids: Vec<UserId> = app.connections(ada).await?.iter().map(|p| p.id).collect();
    ids.sort();
    let mut expected = vec![bob, eve];
    expected.sort();
    check(ids == expected, "both directions")?;
    say(&app, ada, bob, "hi").await?;
    expect_code(app.remove_connection(bob, eve).await, "not_found", "not connected")?;
    app.remove_connection(bob, ada).await?;
    check(app.connections(ada).await?.iter().map(|p| p.id).eq([eve]), "removed")?;
    expect_code(say(&app, ada, bob, "still there?").await, "forbidden", "no chat after removal")?;
    check(app.history(bob, ada, None, None).await?.len() == 1, "history stays readable")?;
    app.send_request(bob, ada, RequestStatus::Interested, None).await.map(drop)
}

pub async fn feed_excludes_me_and_everyone_i_have_a_request_with(store: Arc<dyn Store>) -> Result<()> {
    let app = service(store)?;
    let (ada, _) = user(&app, "Ada").await?;
    let mut others = Vec::new();
    for name in ["Bob", "Cy", "Dee", "Eve", "Fay", "Gus"] {
        others.push(user(&app, name).await?.0);
    }
    app.send_request(ada, others[0], RequestStatus::Interested, None).await?;
    app.send_request(ada, others[1], RequestStatus::Ignored, None).await?;
    app.send_request(others[2], ada, RequestStatus::Interested, None).await?;
    connect(&app, others[3], ada).await?;
    let feed = app.feed(ada, &FeedQuery::default()).await?;
    let ids: Vec<UserId> = feed.profiles.iter().map(|p| p.id).collect();
    check(ids == [others[5], others[4]], &format!("newest first, excluded the rest: {ids:?}"))?;
    check(!feed.has_more && feed.page == 1 && feed.limit == 10, "page fields")?;
    let json = serde_json::to_value(&feed.profiles).map_err(Error::internal)?.to_string();
    check(!json.contains("emailID"), "feed shows public profiles")
}

pub async fn feed_pages_neither_overlap_nor_skip(store: Arc<dyn Store>) -> Result<()> {
    let app = service(Arc::clone(&store))?;
    let (ada, _) = user(&app, "Ada").await?;
    // Store-level inserts keep this fast (no password hashing).
    let mut all = Vec::new();
    for i in 0..23 {
        let record = user_record(&format!("u{i}@example.com"));
        all.push(record.me.profile.id);
        store.insert_user(&record).await?;
    }
    let mut seen = Vec::new();
    let mut page = 1;
    loop {
        let p = app.feed(ada, &FeedQuery { page: Some(page), limit: Some(5), skills: vec![] }).await?;
        seen.extend(p.profiles.iter().map(|p| p.id));
        if !p.has_more {
            break;
        }
        page += 1;
    }
    all.reverse();
    check(seen == all, "pages cover everyone exactly once, newest first")?;
    check(page == 5, "five pages")?;
    let capped = app.feed(ada, &FeedQuery { limit: Some(1000), ..FeedQuery::default() }).await?;
    check(capped.limit == 50 && capped.profiles.len() == 23, "limit capped at 50")?;
    expect_code(app.feed(ada, &FeedQuery { page: Some(0), ..FeedQuery::default() }).await, "validation", "page 0")
}

pub async fn feed_filters_by_skill(store: Arc<dyn Store>) -> Result<()> {
    let app = service(store)?;
    let (ada, _) = user(&app, "Ada").await?;
    let (bob, _) = user(&app, "Bob").await?;
    let (cy, _) = user(&app, "Cy").await?;
    app.edit_profile(bob, ProfileEdit { skills: Some(vec!["Haskell".into()]), ..ProfileEdit::default() }).await?;
    app.edit_profile(cy, ProfileEdit { skills: Some(vec!["OCaml".into(), "Rust".into()]), ..ProfileEdit::default() })
        .await?;
    let q = |skills: &[&str]| FeedQuery {
        skills: skills.iter().map(|s| (*s).to_owned()).collect(),
        ..FeedQuery::default()
    };
    let ids = |p: crate::FeedPage| p.profiles.into_iter().map(|p| p.id).collect::<Vec<_>>();
    check(ids(app.feed(ada, &q(&["haskell"])).await?) == [bob], "one skill, any case")?;
    check(ids(app.feed(ada, &q(&["HASKELL", "ocaml"])).await?) == [cy, bob], "any of several")?;
    check(ids(app.feed(ada, &q(&["cobol"])).await?).is_empty(), "no match")?;
    // Bob's old skills are gone from the filter after the edit.
    check(ids(app.feed(ada, &q(&["go"])).await?).is_empty(), "replaced skills no longer match")
}

pub async fn messages_go_only_to_connections(store: Arc<dyn Store>) -> Result<()> {
    let app = service(store)?;
    let (ada, _) = user(&app, "Ada").await?;
    let (bob, _) = user(&app, "Bob").await?;
    expect_code(say(&app, ada, bob, "hi").await, "forbidden", "not connected")?;
    let r = app.send_request(ada, bob, RequestStatus::Interested, None).await?;
    expect_code(say(&app, ada, bob, "hi").await, "forbidden", "pending")?;
    app.review_request(bob, r.id, RequestStatus::Accepted).await?;
    expect_code(say(&app, ada, bob, "   ").await, "validation", "empty")?;
    expect_code(say(&app, ada, ada, "me").await, "validation", "self")?;
    expect_code(say(&app, ada, bob, &"x".repeat(5001)).await, "validation", "too long")?;
    let m = say(&app, ada, bob, "hello 👋").await?;
    check(m.sender_id == ada && m.receiver_id == bob && m.text == "hello 👋" && m.read_at.is_none(), "fields")?;
    let with_image = NewMessage { image: Some(png(2, 2)), ..NewMessage::default() };
    let m = app.send_message(bob, ada, with_image).await?.message;
    let absolute = m.image.as_deref().is_some_and(|u| u.starts_with(&format!("{MEDIA_BASE}/")));
    check(absolute && m.text.is_empty(), "image-only message")?;
    let history = app.history(bob, ada, None, None).await?;
    check(history.len() == 2, "both stored")
}

pub async fn history_pages_backwards_in_order(store: Arc<dyn Store>) -> Result<()> {
    let app = service(store)?;
    let (ada, _) = user(&app, "Ada").await?;
    let (bob, _) = user(&app, "Bob").await?;
    let (eve, _) = user(&app, "Eve").await?;
    connect(&app, ada, bob).await?;
    connect(&app, ada, eve).await?;
    let mut sent = Vec::new();
    for i in 0..12 {
        let (from, to) = if i % 3 == 0 { (bob, ada) } else { (ada, bob) };
        sent.push(say(&app, from, to, &format!("m{i}")).await?.id);
        say(&app, ada, eve, "noise").await?;
    }
    let newest = app.history(ada, bob, None, Some(5)).await?;
    check(newest.iter().map(|m| m.id).eq(sent[7..].iter().copied()), "newest page, oldest first")?;
    let older = app.history(bob, ada, Some(newest[0].id), Some(5)).await?;
    check(older.iter().map(|m| m.id).eq(sent[2..7].iter().copied()), "page before")?;
    let oldest = app.history(ada, bob, Some(older[0].id), Some(5)).await?;
    check(oldest.iter().map(|m| m.id).eq(sent[..2].iter().copied()), "last page")?;
    check(newest.windows(2).all(|w| w[0].seq < w[1].seq), "positions increase")?;
    let foreign = app.history(ada, eve, None, Some(1)).await?;
    expect_code(app.history(ada, bob, Some(foreign[0].id), None).await, "not_found", "cursor of another chat")?;
    expect_code(app.history(ada, bob, Some(MessageId::new()), None).await, "not_found", "unknown cursor")?;
    expect_code(app.history(ada, bob, None, Some(0)).await, "validation", "limit 0")
}

pub async fn client_message_ids_make_sends_idempotent(store: Arc<dyn Store>) -> Result<()> {
    let app = service(store)?;
    let (ada, _) = user(&app, "Ada").await?;
    let (bob, _) = user(&app, "Bob").await?;
    let (eve, _) = user(&app, "Eve").await?;
    connect(&app, ada, bob).await?;
    connect(&app, ada, eve).await?;
    connect(&app, bob, eve).await?;
    let msg = |text: &str| NewMessage { text: text.into(), client_msg_id: Some("c-1".into()), image: None };
    let first = app.send_message(ada, bob, msg("once")).await?;
    let again = app.send_message(ada, bob, msg("once (retry)")).await?;
    check(first.created && !again.created, "second is a replay")?;
    check(again.message == first.message, "same stored message")?;
    let to_eve = app.send_message(ada, eve, msg("other receiver")).await?;
    let from_bob = app.send_message(bob, ada, msg("other sender")).await?;
    check(to_eve.created && from_bob.created && to_eve.message.id != first.message.id, "scoped per sender+receiver")?;
    check(app.history(ada, bob, None, None).await?.len() == 2, "no duplicate stored")?;
    let bad = NewMessage { text: "x".into(), client_msg_id: Some(String::new()), image: None };
    expect_code(app.send_message(ada, bob, bad).await, "validation", "empty client id")
}

pub async fn concurrent_duplicate_sends_store_one_message(store: Arc<dyn Store>) -> Result<()> {
    let app = service(store)?;
    let (ada, _) = user(&app, "Ada").await?;
    let (bob, _) = user(&app, "Bob").await?;
    connect(&app, ada, bob).await?;
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let app = app.clone();
            tokio::spawn(async move {
                let m = NewMessage { text: "storm".into(), client_msg_id: Some("storm-1".into()), image: None };
                app.send_message(ada, bob, m).await
            })
        })
        .collect();
    let mut ids = Vec::new();
    let mut created = 0;
    for task in tasks {
        let sent = task.await.map_err(Error::internal)??;
        created += usize::from(sent.created);
        ids.push(sent.message.id);
    }
    ids.dedup();
    check(created == 1 && ids.len() == 1, "one message, one id for all")?;
    check(app.history(ada, bob, None, None).await?.len() == 1, "one stored")
}

pub async fn sync_returns_everything_after_a_message_in_order(store: Arc<dyn Store>) -> Result<()> {
    let app = service(store)?;
    let (ada, _) = user(&app, "Ada").await?;
    let (bob, _) = user(&app, "Bob").await?;
    let (eve, _) = user(&app, "Eve").await?;
    connect(&app, ada, bob).await?;
    connect(&app, ada, eve).await?;
    connect(&app, bob, eve).await?;
    let mut mine = Vec::new();
    for i in 0..9 {
        let m = match i % 3 {
            0 => say(&app, bob, ada, "b").await?,
            1 => say(&app, ada, eve, "a").await?,
            _ => {
                say(&app, bob, eve, "not mine").await?;
                continue;
            }
        };
        mine.push(m.id);
    }
    let all = app.sync(ada, None, None).await?;
    check(all.messages.iter().map(|m| m.id).eq(mine.iter().copied()) && !all.has_more, "all mine, in order")?;
    let page = app.sync(ada, Some(mine[1]), Some(2)).await?;
    check(page.messages.iter().map(|m| m.id).eq(mine[2..4].iter().copied()) && page.has_more, "after, bounded")?;
    let rest = app.sync(ada, Some(mine[3]), Some(100)).await?;
    check(rest.messages.iter().map(|m| m.id).eq(mine[4..].iter().copied()) && !rest.has_more, "rest")?;
    let foreign = app.history(bob, eve, None, Some(1)).await?;
    expect_code(app.sync(ada, Some(foreign[0].id), None).await, "not_found", "someone else's message")
}

/// A client paging with `sync` while others send must never see a position appear
/// after it has already read past it (it would skip that message forever).
pub async fn concurrent_sends_never_let_sync_skip_a_message(store: Arc<dyn Store>) -> Result<()> {
    let ada = UserId::new();
    let writers: Vec<_> = (0..4)
        .map(|_| {
            let store = Arc::clone(&store);
            let sender = UserId::new();
            tokio::spawn(async move {
                for i in 0..10 {
                    let message = NewMessageRecord {
                        id: MessageId::new(),
                        sender,
                        receiver: ada,
                        text: format!("m{i}"),
                        image: None,
                        client_msg_id: None,
                        created_at: crate::now(),
                    };
                    store.insert_message(&message).await?;
                }
                Ok::<_, Error>(())
            })
        })
        .collect();
    // Poll with a cursor while the writers run, as a reconnecting client would.
    let (mut seen, mut cursor) = (Vec::new(), None);
    loop {
        let finished = writers.iter().all(tokio::task::JoinHandle::is_finished);
        let page = store.sync(ada, cursor, 100).await?;
        cursor = page.last().map(|m| m.id).or(cursor);
        seen.extend(page.iter().map(|m| m.seq));
        if finished && page.is_empty() {
            break;
        }
        tokio::task::yield_now().await;
    }
    for writer in writers {
        writer.await.map_err(Error::internal)??;
    }
    check(seen.len() == 40, &format!("every message seen once: {seen:?}"))?;
    check(seen.windows(2).all(|w| w[0] < w[1]), &format!("in position order: {seen:?}"))
}

pub async fn chat_partners_show_recency_and_unread_counts(store: Arc<dyn Store>) -> Result<()> {
    let app = service(store)?;
    let (ada, _) = user(&app, "Ada").await?;
    let (bob, _) = user(&app, "Bob").await?;
    let (eve, _) = user(&app, "Eve").await?;
    let (dan, _) = user(&app, "Dan").await?;
    connect(&app, ada, bob).await?;
    connect(&app, ada, eve).await?;
    connect(&app, ada, dan).await?;
    say(&app, bob, ada, "1").await?;
    say(&app, bob, ada, "2").await?;
    let last = say(&app, eve, ada, "3").await?;
    app.remove_connection(ada, eve).await?;
    let partners = app.chat_partners(ada).await?;
    let ids: Vec<UserId> = partners.iter().map(|p| p.profile.id).collect();
    check(ids == [eve, bob, dan], &format!("recent first, history kept, then connections: {ids:?}"))?;
    check(partners[0].last_message.as_ref().map(|m| m.id) == Some(last.id), "last message")?;
    check(partners[1].unread_count == 2 && partners[2].unread_count == 0, "unread counts")?;
    check(partners[2].last_message.is_none(), "no history")?;
    let up_to = app.mark_read(ada, bob).await?;
    check(up_to.is_some(), "marked something")?;
    check(app.mark_read(ada, bob).await?.is_none(), "nothing left")?;
    let partners = app.chat_partners(ada).await?;
    check(partners.iter().all(|p| p.profile.id != bob || p.unread_count == 0), "read")?;
    let history = app.history(ada, bob, None, None).await?;
    check(history.iter().all(|m| m.read_at.is_some()) && history.last().map(|m| m.id) == up_to, "read_at set")?;
    check(app.chat_partners(bob).await?[0].unread_count == 0, "Bob's own messages are not unread to him")
}

pub async fn presence_is_refcounted_and_only_for_connections(store: Arc<dyn Store>) -> Result<()> {
    let app = service(store)?;
    let (ada, _) = user(&app, "Ada").await?;
    let (bob, _) = user(&app, "Bob").await?;
    let (eve, _) = user(&app, "Eve").await?;
    connect(&app, ada, bob).await?;
    let mut bob_sub = app.subscribe(bob).await?;
    let mut eve_sub = app.subscribe(eve).await?;
    let ada_tab1 = app.subscribe(ada).await?;
    let online = Event::Presence { user_id: ada, online: true };
    check(next_event(&mut bob_sub).await? == online, "connection sees Ada online")?;
    check(app.online_connections(ada).await? == [ada, bob], "Ada sees herself and Bob")?;
    check(app.online_connections(eve).await? == [eve], "Eve sees only herself")?;
    let ada_tab2 = app.subscribe(ada).await?;
    drop(ada_tab1);
    assert_quiet(&mut bob_sub).await?;
    check(app.is_online(ada), "still online with one tab")?;
    drop(ada_tab2);
    check(next_event(&mut bob_sub).await? == Event::Presence { user_id: ada, online: false }, "offline")?;
    check(!app.is_online(ada), "offline after last tab")?;
    assert_quiet(&mut eve_sub).await?;
    // A new connection between two online users shows each to the other.
    let mut ada_sub = app.subscribe(ada).await?;
    let _ = next_event(&mut bob_sub).await?;
    let r = app.send_request(eve, ada, RequestStatus::Interested, None).await?;
    let _ = next_event(&mut ada_sub).await?; // the request itself
    app.review_request(ada, r.id, RequestStatus::Accepted).await?;
    check(next_event(&mut ada_sub).await? == Event::Presence { user_id: eve, online: true }, "Ada sees Eve")?;
    let mut saw_presence = false;
    for _ in 0..2 {
        saw_presence |= next_event(&mut eve_sub).await? == Event::Presence { user_id: ada, online: true };
    }
    check(saw_presence, "Eve sees Ada")
}

pub async fn events_reach_the_right_people(store: Arc<dyn Store>) -> Result<()> {
    let app = service(store)?;
    let (ada, _) = user(&app, "Ada").await?;
    let (bob, _) = user(&app, "Bob").await?;
    let (eve, _) = user(&app, "Eve").await?;
    let mut eve_sub = app.subscribe(eve).await?;
    let mut ada_sub = app.subscribe(ada).await?;
    let mut bob_sub = app.subscribe(bob).await?;
    let request = app.send_request(ada, bob, RequestStatus::Interested, Some("hi")).await?;
    match next_event(&mut bob_sub).await? {
        Event::ConnectionRequest(r) => check(r.id == request.id && r.from_user_id.id == ada, "request event")?,
        other => return Err(Error::internal(format!("expected a request, got {other:?}"))),
    }
    app.review_request(bob, request.id, RequestStatus::Accepted).await?;
    let mut accepted = false;
    for _ in 0..2 {
        if let Event::ConnectionAccepted(r) = next_event(&mut ada_sub).await? {
            accepted = r.id == request.id && r.to_user_id.id == bob;
        }
    }
    check(accepted, "accepted event to the sender")?;
    let _ = next_event(&mut bob_sub).await?; // Ada's presence
    let m = say(&app, ada, bob, "hey").await?;
    for sub in [&mut ada_sub, &mut bob_sub] {
        check(next_event(sub).await? == Event::NewMessage(Arc::new(m.clone())), "message to both sides")?;
    }
    app.typing(bob, ada, true).await?;
    check(next_event(&mut ada_sub).await? == Event::Typing { user_id: bob, typing: true }, "typing")?;
    expect_code(app.typing(eve, ada, true).await, "forbidden", "typing to a stranger")?;
    app.mark_read(bob, ada).await?;
    check(
        next_event(&mut ada_sub).await?
            == Event::MessagesRead(Box::new(crate::ReadReceipt { user_id: bob, up_to: m.id })),
        "read receipt",
    )?;
    assert_quiet(&mut eve_sub).await?;
    assert_quiet(&mut bob_sub).await
}

pub async fn a_catch_up_then_live_delivers_each_message_once_in_order(store: Arc<dyn Store>) -> Result<()> {
    let app = service(store)?;
    let (ada, _) = user(&app, "Ada").await?;
    let (bob, _) = user(&app, "Bob").await?;
    connect(&app, ada, bob).await?;
    let token = app.login("ada@example.com", PASSWORD, Peer::Local).await?.token;
    let session = app.authenticate(&token).await?;
    let seen = say(&app, bob, ada, "seen before the disconnect").await?;
    // Reconnecting: subscribe first, then read what was missed.
    let mut sub = app.subscribe_session(&session, Some(seen.id)).await?;
    let missed = [say(&app, bob, ada, "missed 1").await?, say(&app, bob, ada, "missed 2").await?];
    let page = app.catch_up(&mut sub).await?;
    check(page.messages == missed && !page.has_more, "the catch-up holds what was missed, in order")?;
    let done = app.catch_up(&mut sub).await?;
    check(done.messages.is_empty() && !done.has_more, "a finished catch-up reads nothing more")?;
    let live = say(&app, ada, bob, "live").await?;
    // The live copies of the missed messages were queued before the catch-up; they are
    // left out, and the next message is the live one.
    check(next_event(&mut sub).await? == Event::NewMessage(Arc::new(live)), "the live message comes next")?;
    assert_quiet(&mut sub).await
}

pub async fn revoked_and_expired_tokens_end_their_subscriptions(store: Arc<dyn Store>) -> Result<()> {
    let app = service(Arc::clone(&store))?;
    let (_, token) = user(&app, "Ada").await?;
    let other = app.login("ada@example.com", PASSWORD, Peer::Local).await?.token;
    let session = app.authenticate(&token).await?;
    let other_session = app.authenticate(&other).await?;
    let mut sub = app.subscribe_session(&session, None).await?;
    let mut other_sub = app.subscribe_session(&other_session, None).await?;
    app.logout(&session).await?;
    let ended = tokio::time::timeout(Duration::from_secs(5), sub.next()).await.map_err(Error::internal)?;
    check(ended.is_none() && sub.end_reason() == Some(EndReason::Revoked), "logout ends that subscription")?;
    check(app.is_online(other_session.user_id), "the other token's subscription lives")?;
    let change = PasswordChange {
        old_password: PASSWORD.into(),
        new_password: "N3w!passw".into(),
        confirm_password: "N3w!passw".into(),
    };
    app.change_password(&other_session, change).await?;
    let ended = tokio::time::timeout(Duration::from_secs(5), other_sub.next()).await.map_err(Error::internal)?;
    check(ended.is_none() && other_sub.end_reason() == Some(EndReason::Revoked), "password change ends it")?;
    check(!app.is_online(session.user_id), "offline")?;
    let short = service_with(store, Settings { token_ttl: Duration::from_secs(1), ..Settings::default() })?;
    let token = short.login("ada@example.com", "N3w!passw", Peer::Local).await?.token;
    let mut sub = short.subscribe_session(&short.authenticate(&token).await?, None).await?;
    let ended = tokio::time::timeout(Duration::from_secs(5), sub.next()).await.map_err(Error::internal)?;
    check(ended.is_none() && sub.end_reason() == Some(EndReason::Expired), "expiry ends it")?;
    check(!short.is_online(session.user_id), "offline after expiry")
}

pub async fn no_subscription_outlives_a_revocation_that_races_its_opening(store: Arc<dyn Store>) -> Result<()> {
    const ROUNDS: usize = 50;
    const RECONNECTS: usize = 4;
    let app = service(store)?;
    let (ada, _) = user(&app, "Ada").await?;
    let mut password = PASSWORD.to_owned();
    for round in 0..ROUNDS {
        let token = app.login("ada@example.com", &password, Peer::Local).await?.token;
        let session = app.authenticate(&token).await?;
        // Clients reconnecting with the token while it is revoked: by logout in most
        // rounds, by a password change in every tenth.
        let opening: Vec<_> = (0..RECONNECTS)
            .map(|_| {
                let (app, token) = (app.clone(), token.clone());
                tokio::spawn(async move {
                    let session = app.authenticate(&token).await?;
                    app.subscribe_session(&session, None).await
                })
            })
            .collect();
        if round % 10 == 9 {
            let next = format!("N3w!pass{round}");
            let change =
                PasswordChange { old_password: password, new_password: next.clone(), confirm_password: next.clone() };
            app.change_password(&session, change).await?;
            password = next;
        } else {
            app.logout(&session).await?;
        }
        for task in opening {
            match task.await.map_err(Error::internal)? {
                Ok(mut sub) => {
                    let ended = tokio::time::timeout(Duration::from_secs(5), sub.next()).await;
                    check(
                        matches!(ended, Ok(None)) && sub.end_reason() == Some(EndReason::Revoked),
                        &format!("round {round}: a subscription opened on the revoked token lives on"),
                    )?;
                }
                Err(err) => check(err.code() == "unauthorized", &format!("round {round}: refused with {err}"))?,
            }
        }
        check(!app.is_online(ada), &format!("round {round}: nothing of the revoked token is online"))?;
    }
    Ok(())
}

pub async fn a_resume_point_that_is_not_my_message_is_refused_before_going_live(store: Arc<dyn Store>) -> Result<()> {
    let app = service(store)?;
    let (ada, token) = user(&app, "Ada").await?;
    let (bob, _) = user(&app, "Bob").await?;
    let (cleo, _) = user(&app, "Cleo").await?;
    connect(&app, ada, bob).await?;
    connect(&app, bob, cleo).await?;
    let mine = say(&app, bob, ada, "to Ada").await?;
    let theirs = say(&app, bob, cleo, "to Cleo").await?;
    let session = app.authenticate(&token).await?;
    for (after, what) in [(MessageId::new(), "an unknown message"), (theirs.id, "someone else's message")] {
        let refused = app.subscribe_session(&session, Some(after)).await;
        check(
            matches!(&refused, Err(Error::Validation { field: "lastMessageId", .. })),
            &format!("{what} as the resume point is a validation error"),
        )?;
        check(!app.is_online(ada), &format!("{what}: nothing went live"))?;
    }
    let mut sub = app.subscribe_session(&session, Some(mine.id)).await?;
    let page = app.catch_up(&mut sub).await?;
    check(page.messages.is_empty() && !page.has_more, "my own last message resumes with nothing missed")
}

pub async fn live_sessions_per_user_are_capped(store: Arc<dyn Store>) -> Result<()> {
    let app = service_with(store, Settings { max_sessions_per_user: 2, ..Settings::default() })?;
    let (ada, token) = user(&app, "Ada").await?;
    let session = app.authenticate(&token).await?;
    let first = app.subscribe_session(&session, None).await?;
    let _second = app.subscribe(ada).await?;
    expect_code(app.subscribe_session(&session, None).await, "limit_exceeded", "a third session")?;
    expect_code(app.subscribe(ada).await, "limit_exceeded", "a third subscription")?;
    drop(first);
    app.subscribe_session(&session, None).await.map(drop)
}

pub async fn typing_floods_are_limited_and_never_end_the_receivers_subscription(store: Arc<dyn Store>) -> Result<()> {
    // Typing unlimited and a small queue: a burst fills the receiver's queue, and the
    // extra typing events are dropped rather than ending the subscription.
    let settings = Settings { event_queue: 8, typing_rate: RateLimit::per_minute(0), ..Settings::default() };
    let app = service_with(Arc::clone(&store), settings)?;
    let (ada, _) = user(&app, "Ada").await?;
    let (bob, _) = user(&app, "Bob").await?;
    connect(&app, ada, bob).await?;
    let mut bob_sub = app.subscribe(bob).await?;
    for i in 0..100 {
        app.typing(ada, bob, i % 2 == 0).await?;
    }
    let mut typing = 0;
    while let Ok(Some(event)) = tokio::time::timeout(Duration::from_millis(100), bob_sub.next()).await {
        check(matches!(event, Event::Typing { .. }), "only typing events were queued")?;
        typing += 1;
    }
    check(typing <= 8 && bob_sub.end_reason().is_none(), "the receiver kept its subscription")?;
    let hello = say(&app, ada, bob, "still there?").await?;
    check(next_event(&mut bob_sub).await? == Event::NewMessage(Arc::new(hello)), "and still gets messages")?;

    // With the default limit, a sender's burst is refused beyond it.
    let limited = service_with(store, Settings { typing_rate: RateLimit::per_minute(10), ..Settings::default() })?;
    let mut refused = 0;
    for _ in 0..60 {
        if code(limited.typing(ada, bob, true).await) == "rate_limited" {
            refused += 1;
        }
    }
    check(refused == 50, &format!("60 typing events at 10 a minute: {refused} refused"))
}

pub async fn presence_and_read_receipts_reach_connections_only(store: Arc<dyn Store>) -> Result<()> {
    let app = service(store)?;
    let (ada, _) = user(&app, "Ada").await?;
    let (bob, _) = user(&app, "Bob").await?;
    connect(&app, ada, bob).await?;
    say(&app, bob, ada, "hi").await?;
    let _bob_online = app.subscribe(bob).await?;
    let partners = app.chat_partners(ada).await?;
    check(partners.iter().any(|p| p.profile.id == bob && p.online), "a connection is shown online")?;
    app.remove_connection(ada, bob).await?;
    let partners = app.chat_partners(ada).await?;
    check(partners.iter().any(|p| p.profile.id == bob && !p.online), "history alone shows no presence")?;
    check(!app.online_connections(ada).await?.contains(&bob), "nor does the online list")?;
    let mut bob_sub = app.subscribe(bob).await?;
    check(app.mark_read(ada, bob).await?.is_some(), "reading still works")?;
    assert_quiet(&mut bob_sub).await
}

pub async fn a_connection_made_while_subscribing_is_not_missed(store: Arc<dyn Store>) -> Result<()> {
    const ROUNDS: usize = 30;
    let app = service(Arc::clone(&store))?;
    for round in 0..ROUNDS {
        // Users straight into the store: no password hashing per round.
        let (a, b) = (user_record(&format!("a{round}@race.test")), user_record(&format!("b{round}@race.test")));
        store.insert_user(&a).await?;
        store.insert_user(&b).await?;
        let (a, b) = (a.me.profile.id, b.me.profile.id);
        let request = app.send_request(a, b, RequestStatus::Interested, None).await?;
        let _a_online = app.subscribe(a).await?;
        let subscribing = {
            let app = app.clone();
            tokio::spawn(async move { app.subscribe(b).await })
        };
        app.review_request(b, request.id, RequestStatus::Accepted).await?;
        let _b_online = subscribing.await.map_err(Error::internal)??;
        check(app.online_connections(b).await? == vec![b, a], &format!("round {round}: b sees a online"))?;
        check(app.online_connections(a).await? == vec![a, b], &format!("round {round}: a sees b online"))?;
    }
    Ok(())
}

pub async fn password_change_attempts_are_rate_limited(store: Arc<dyn Store>) -> Result<()> {
    let app = service_with(store, Settings { login_rate: RateLimit::per_minute(2), ..Settings::default() })?;
    let (_, token) = user(&app, "Ada").await?;
    let session = app.authenticate(&token).await?;
    let guess = |old: &str| PasswordChange {
        old_password: old.to_owned(),
        new_password: "N3w!passw".into(),
        confirm_password: "N3w!passw".into(),
    };
    expect_code(app.change_password(&session, guess("Gu3ss!one")).await, "validation", "a wrong guess")?;
    expect_code(app.change_password(&session, guess("Gu3ss!two")).await, "validation", "a second guess")?;
    expect_code(app.change_password(&session, guess(PASSWORD)).await, "rate_limited", "beyond the limit")
}

pub async fn failing_on_purpose_never_locks_the_owner_out(store: Arc<dyn Store>) -> Result<()> {
    let app = service_with(store, Settings { login_rate: RateLimit::per_minute(3), ..Settings::default() })?;
    user(&app, "Ada").await?;
    let attacker = Peer::Remote(std::net::IpAddr::from([203, 0, 113, 7]));
    let owner = Peer::Remote(std::net::IpAddr::from([198, 51, 100, 1]));
    let mut throttled = false;
    for _ in 0..8 {
        let code = code(app.login("ada@example.com", "Wr0ng!pass", attacker).await);
        check(code == "unauthorized" || code == "rate_limited", "the attacker fails")?;
        throttled |= code == "rate_limited";
    }
    check(throttled, "the attacker is throttled")?;
    expect_code(app.login("ada@example.com", PASSWORD, attacker).await, "rate_limited", "even with the password")?;
    app.login("ada@example.com", PASSWORD, owner).await.map(drop)
}

pub async fn image_decodes_wait_for_their_share_of_the_memory_budget(store: Arc<dyn Store>) -> Result<()> {
    // Room for one 64 × 64 decode at a time: concurrent uploads wait their turn and all
    // succeed; an image whose decode alone exceeds the budget is refused.
    let budget = Settings { image_decode_budget: 64 * 64 * 4 * 3 + 1024, ..Settings::default() };
    let app = service_with(store, budget)?;
    let (ada, _) = user(&app, "Ada").await?;
    let uploads: Vec<_> = (0..4)
        .map(|_| {
            let app = app.clone();
            tokio::spawn(async move { app.set_photo(ada, png(64, 64)).await })
        })
        .collect();
    for upload in uploads {
        upload.await.map_err(Error::internal)??;
    }
    expect_code(app.set_photo(ada, png(128, 128)).await, "validation", "an image over the budget")
}

/// `y-m-d` as a date (test input, known valid).
fn date(y: i32, m: u32, d: u32) -> Result<chrono::NaiveDate> {
    chrono::NaiveDate::from_ymd_opt(y, m, d).ok_or_else(|| Error::internal("bad test date"))
}

/// `y-m-d h:m:s.ms` UTC.
fn at(y: i32, m: u32, d: u32, h: u32, min: u32, s: u32, ms: u32) -> Result<chrono::DateTime<Utc>> {
    Ok(date(y, m, d)?.and_hms_milli_opt(h, min, s, ms).ok_or_else(|| Error::internal("bad test time"))?.and_utc())
}

/// Seeds activity over 2026-10-31..2026-11-05 directly into `store` (times chosen, not
/// "now"), for the engagement tests; [`expected_engagement`] is what
/// 2026-11-01..=2026-11-04 must report.
pub async fn seed_engagement(store: &dyn Store) -> Result<()> {
    let users: Vec<UserRecord> =
        ["a", "b", "c", "d"].iter().map(|n| user_record(&format!("{n}@engagement.test"))).collect();
    for u in &users {
        store.insert_user(u).await?;
    }
    let [a, b, c, d] = [0, 1, 2, 3].map(|i| users.get(i).map_or_else(UserId::new, |u| u.me.profile.id));
    let request =
        |from: UserId, to: UserId, status: RequestStatus, sent: chrono::DateTime<Utc>| crate::ConnectionRequest {
            id: crate::RequestId::new(),
            from_user_id: from,
            to_user_id: to,
            status,
            note: None,
            created_at: sent,
            updated_at: sent,
        };
    // Day 1: four requests (a→b, a→c, b→d interested; d→a ignored).
    let ab = request(a, b, RequestStatus::Interested, at(2026, 11, 1, 10, 0, 0, 0)?);
    let ac = request(a, c, RequestStatus::Interested, at(2026, 11, 1, 11, 0, 0, 0)?);
    let bd = request(b, d, RequestStatus::Interested, at(2026, 11, 1, 13, 0, 0, 0)?);
    let da = request(d, a, RequestStatus::Ignored, at(2026, 11, 1, 12, 0, 0, 0)?);
    for r in [&ab, &ac, &bd, &da] {
        store.insert_request(r).await?;
    }
    // Day 2: b and c accept after 24 h and 25 h; three messages.
    store.review_request(ab.id, b, RequestStatus::Accepted, at(2026, 11, 2, 10, 0, 0, 0)?).await?;
    store.review_request(ac.id, c, RequestStatus::Accepted, at(2026, 11, 2, 12, 0, 0, 0)?).await?;
    // Day 3: d rejects.
    store.review_request(bd.id, d, RequestStatus::Rejected, at(2026, 11, 3, 9, 0, 0, 0)?).await?;
    let messages = [
        (a, b, at(2026, 10, 31, 23, 59, 59, 999)?), // before the range
        (a, b, at(2026, 11, 2, 13, 0, 0, 0)?),
        (a, b, at(2026, 11, 2, 13, 0, 1, 0)?),
        (b, a, at(2026, 11, 2, 14, 0, 0, 0)?),
        (c, a, at(2026, 11, 4, 23, 59, 59, 999)?), // last millisecond of day 4
        (c, a, at(2026, 11, 5, 0, 0, 0, 0)?),      // after the range
    ];
    for (from, to, sent) in messages {
        store
            .insert_message(&NewMessageRecord {
                id: MessageId::new(),
                sender: from,
                receiver: to,
                text: "hi".to_owned(),
                image: None,
                client_msg_id: None,
                created_at: sent,
            })
            .await?;
    }
    Ok(())
}

/// What [`seed_engagement`]'s data gives for 2026-11-01..=2026-11-04.
pub fn expected_engagement() -> Result<Vec<crate::EngagementDay>> {
    let day = |d, active_users, messages, requests_sent, requests_accepted, median_accept_secs| {
        Ok::<_, Error>(crate::EngagementDay {
            date: date(2026, 11, d)?,
            active_users,
            messages,
            requests_sent,
            requests_accepted,
            median_accept_secs,
        })
    };
    Ok(vec![
        // a, b, d sent requests
        day(1, 3, 0, 4, 0, None)?,
        // a, b sent messages; b, c accepted; median of 86,400 s and 90,000 s
        day(2, 3, 3, 0, 2, Some(88_200.0))?,
        // d rejected
        day(3, 1, 0, 0, 0, None)?,
        // c sent a message
        day(4, 1, 1, 0, 0, None)?,
    ])
}

pub async fn engagement_counts_each_utc_day_by_its_definitions(store: Arc<dyn Store>) -> Result<()> {
    seed_engagement(&*store).await?;
    let app = service(store)?;
    let report = app.engagement(date(2026, 11, 1)?, date(2026, 11, 4)?).await?;
    assert_eq!(report.days, expected_engagement()?);
    // Days without activity are reported as zeros, in order.
    let quiet = app.engagement(date(2026, 12, 1)?, date(2026, 12, 2)?).await?;
    assert_eq!(
        quiet.days,
        vec![crate::EngagementDay::empty(date(2026, 12, 1)?), crate::EngagementDay::empty(date(2026, 12, 2)?)]
    );
    // Ranges are bounded and ordered.
    assert!(app.engagement(date(2026, 1, 1)?, date(2026, 12, 31)?).await.is_ok()); // 365 days
    for (from, to) in [(date(2026, 11, 4)?, date(2026, 11, 1)?), (date(2025, 1, 1)?, date(2026, 1, 2)?)] {
        let err = app.engagement(from, to).await.err();
        assert!(matches!(err, Some(Error::Validation { field: "to", .. })), "{from}..{to}: {err:?}");
    }
    // No personal data in the report.
    let json = serde_json::to_string(&report).map_err(Error::internal)?;
    assert!(!json.contains("@engagement.test") && !json.contains("Store"), "{json}");
    Ok(())
}
