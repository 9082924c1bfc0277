//! Accounts and authentication: signup, login, tokens, logout, password changes and
//! the limits on guessing.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;

use super::behaviours;
use super::fixtures::{
    PASSWORD, SECRET, check, code, expect_code, service, service_with, signup_form, user, user_record,
};
use crate::auth::{PasswordChange, Peer, Signup};
use crate::{Error, RateLimit, Settings, UserId};

behaviours![
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
                tokio::spawn(async move {
                    app.signup(signup_form(&format!("Twin{i}"), "twin@example.com"), Peer::Local).await
                })
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

    pub async fn wrong_email_and_wrong_password_are_indistinguishable(store: Arc<dyn Store>) -> Result<()> {
        let app = service(store)?;
        user(&app, "Ada").await?;
        let wrong_password = app.login("ada@example.com", "Wr0ng!pass", Peer::Local).await.err().map(|e| e.to_string());
        let wrong_email = app.login("nobody@example.com", PASSWORD, Peer::Local).await.err().map(|e| e.to_string());
        check(wrong_password.is_some() && wrong_password == wrong_email, "same error")?;
        expect_code(app.login("not an email", PASSWORD, Peer::Local).await, "unauthorized", "malformed email")?;
        expect_code(
            app.login("ada@example.com", &"x".repeat(10_000), Peer::Local).await,
            "unauthorized",
            "huge password",
        )
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
        // Tokens expire at their `exp`, to the second, by the service's clock.
        let clock = Arc::new(crate::ManualClock::new());
        let settings = Settings { token_ttl: Duration::from_secs(60), clock: clock.clone(), ..Settings::default() };
        let short = service_with(store, settings)?;
        let token = short.login("ada@example.com", PASSWORD, Peer::Local).await?.token;
        clock.advance(Duration::from_secs(58));
        short.authenticate(&token).await?;
        clock.advance(Duration::from_secs(2));
        expect_code(short.authenticate(&token).await, "unauthorized", "expired")
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
];
