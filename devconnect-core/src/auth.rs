//! Accounts and credentials: signup (and bulk import for tools), login, tokens, logout,
//! password change.
//!
//! Passwords are hashed with argon2id at the OWASP parameters on a few dedicated threads
//! (one per core but one by default), so a storm of logins queues instead of stalling the async
//! workers, and the 19 MiB each hash needs is reused by those threads rather than spread
//! over the blocking pool's many threads (whose malloc arenas would each keep some). Tokens are HS256 JWTs (algorithm pinned) carrying the user id, a
//! random token id (for logout of one token) and the user's token version (bumped by a
//! password change, which revokes every older token).

use std::sync::Arc;
use std::time::Duration;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use chrono::{DateTime, TimeZone, Utc};
use jsonwebtoken::{DecodingKey, EncodingKey, Header, Validation};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

pub use crate::model::Peer;

use crate::media::{MediaStore, PublicUrls, Upload};
use crate::model::UserRecord;
use crate::profile::{Gender, Me, parse_about, parse_age, parse_name, parse_skills};
use crate::{DevConnect, Error, Result, UserId};

/// Minimum password length.
pub const MIN_PASSWORD_CHARS: usize = 8;
/// Maximum password length (bounds the hashing cost of hostile input).
pub const MAX_PASSWORD_CHARS: usize = 128;
/// Maximum email length (RFC 5321).
pub const MAX_EMAIL_CHARS: usize = 254;

const LOGIN_FAILED: &str = "invalid email or password";
/// What a suspended user is told when they log in or use a token.
const SUSPENDED: &str = "this account is suspended";

/// A new account, as submitted. Validated by [`DevConnect::signup`].
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Signup {
    /// First name (required).
    pub first_name: String,
    /// Last name.
    #[serde(default)]
    pub last_name: String,
    /// Email (trimmed and lower-cased; unique).
    #[serde(rename = "emailID")]
    pub email: String,
    /// Password: 8–128 characters with upper, lower, digit and symbol.
    pub password: String,
    /// Age, 18–120.
    pub age: Option<i64>,
    /// `male`, `female` or `others`.
    pub gender: Option<String>,
    /// Free text.
    pub about: Option<String>,
    /// Skills.
    #[serde(default)]
    pub skills: Vec<String>,
    /// Optional profile photo bytes (never from JSON).
    #[serde(skip)]
    pub photo: Option<Upload>,
}

/// A password change request.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PasswordChange {
    /// The current password.
    pub old_password: String,
    /// The new password.
    pub new_password: String,
    /// The new password again.
    pub confirm_password: String,
}

/// A successful signup or login: the user and a fresh token.
#[derive(Clone, Debug, Serialize)]
pub struct Authenticated {
    /// The user's own profile.
    pub user: Me,
    /// A bearer token for the user, valid for the configured lifetime.
    pub token: String,
}

/// An authenticated token: who it is for, which token it is, and until when it holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    /// The user the token belongs to.
    pub user_id: UserId,
    /// The token's unique id (its `jti`); logout revokes exactly this one.
    pub token_id: String,
    /// The user's token version when the token was issued.
    pub token_version: i64,
    /// When the token expires.
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    iat: i64,
    exp: i64,
    jti: String,
    ver: i64,
}

/// The claims of an operator's token (see [`crate::moderation`]). It has no `sub` or
/// `ver`, so it never passes as a user's token; a user's token has no `op`, so it never
/// passes as an operator's.
#[derive(Debug, Serialize, Deserialize)]
struct OperatorClaims {
    op: String,
    iat: i64,
    exp: i64,
    jti: String,
}

/// Trims and lower-cases an email and checks its shape.
pub fn parse_email(raw: &str) -> Result<String> {
    let email = raw.trim().to_lowercase();
    let invalid = || Error::validation("emailID", "must be a valid email address");
    if email.chars().count() > MAX_EMAIL_CHARS {
        return Err(Error::validation("emailID", format!("must be at most {MAX_EMAIL_CHARS} characters")));
    }
    let (local, domain) = email.rsplit_once('@').ok_or_else(invalid)?;
    let labels_ok = domain.split('.').all(|l| !l.is_empty() && !l.starts_with('-') && !l.ends_with('-'));
    let valid = !local.is_empty()
        && local.len() <= 64
        && !local.contains('@')
        && domain.contains('.')
        && labels_ok
        && email.chars().all(|c| c.is_alphanumeric() || "@.!#$%&'*+/=?^_`{|}~-".contains(c));
    if valid { Ok(email) } else { Err(invalid()) }
}

/// Checks password strength: 8–128 characters with an upper-case letter, a lower-case
/// letter, a digit and a symbol.
pub fn check_password_strength(field: &'static str, password: &str) -> Result<()> {
    let n = password.chars().count();
    if !(MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&n) {
        return Err(Error::validation(
            field,
            format!("must be {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} characters"),
        ));
    }
    let has = |f: fn(&char) -> bool| password.chars().any(|c| f(&c));
    if !(has(char::is_ascii_uppercase)
        && has(char::is_ascii_lowercase)
        && has(char::is_ascii_digit)
        && has(|c| !c.is_alphanumeric() && !c.is_whitespace()))
    {
        return Err(Error::validation(
            field,
            "must contain an upper-case letter, a lower-case letter, a digit and a symbol",
        ));
    }
    Ok(())
}

/// A new account from a signup form, every field checked in the order signup reports
/// them (email, password, then the profile); the password hash is left for the caller.
fn new_user_record(signup: &Signup) -> Result<UserRecord> {
    let email = parse_email(&signup.email)?;
    check_password_strength("password", &signup.password)?;
    let now = crate::now();
    Ok(UserRecord {
        me: Me {
            profile: crate::Profile {
                id: UserId::new(),
                first_name: parse_name("firstName", &signup.first_name, false)?,
                last_name: parse_name("lastName", &signup.last_name, true)?,
                age: signup.age.map(parse_age).transpose()?,
                gender: signup.gender.as_deref().filter(|g| !g.trim().is_empty()).map(Gender::parse).transpose()?,
                photo_url: None,
                location: None,
                experience_years: None,
                about: parse_about(signup.about.as_deref().unwrap_or_default())?,
                skills: parse_skills(&signup.skills)?,
                created_at: now,
                updated_at: now,
                deleted: false,
            },
            email,
        },
        password_hash: String::new(),
        suspended: false,
        token_version: 0,
    })
}

/// A hashing thread's start: so that when the machine is busy a storm of logins slows
/// the logins rather than every other request. On Linux the thread joins the idle
/// scheduling class (`SCHED_IDLE`): it runs on CPU time nothing else wants, and any
/// other thread that wakes takes the CPU from it at once. At niceness 19 a woken
/// request thread could still wait out the hashing thread's time slice, which showed
/// in other routes' p99. Elsewhere, the lowest priority.
fn yield_to_requests() {
    use thread_priority::ThreadPriority;
    #[cfg(target_os = "linux")]
    let lowered = {
        use thread_priority::unix::{
            NormalThreadSchedulePolicy, ThreadSchedulePolicy, set_thread_priority_and_policy, thread_native_id,
        };
        let idle = ThreadSchedulePolicy::Normal(NormalThreadSchedulePolicy::Idle);
        set_thread_priority_and_policy(thread_native_id(), ThreadPriority::Min, idle)
    };
    #[cfg(not(target_os = "linux"))]
    let lowered = thread_priority::set_current_thread_priority(ThreadPriority::Min);
    if let Err(err) = lowered {
        tracing::debug!(?err, "could not lower the priority of a hashing thread");
    }
}

/// Password hashing and token signing, shared by every clone of the service.
pub(crate) struct Credentials {
    argon2: Argon2<'static>,
    hashers: std::sync::mpsc::Sender<crate::workers::Job<()>>,
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    /// As `validation`, for operators' tokens (no `sub`).
    operator_validation: Validation,
    token_ttl: Duration,
    clock: Arc<dyn crate::Clock>,
    /// A real hash of a random password: logins for unknown emails verify against it so
    /// they take as long as logins with a wrong password.
    dummy_hash: String,
}

impl Credentials {
    pub(crate) fn new(secret: &SecretString, settings: &crate::Settings) -> Result<Self> {
        // OWASP: argon2id, m = 19 MiB, t = 2, p = 1.
        let params = Params::new(19 * 1024, 2, 1, None).map_err(Error::internal)?;
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let key = secret.expose_secret().as_bytes();
        let mut validation = Validation::new(jsonwebtoken::Algorithm::HS256);
        validation.leeway = 0;
        // Expiry is checked against the service's clock in `decode`.
        validation.validate_exp = false;
        let mut operator_validation = validation.clone();
        operator_validation.set_required_spec_claims(&["exp", "iat"]);
        validation.set_required_spec_claims(&["exp", "sub", "iat"]);
        let mut credentials = Self {
            argon2,
            hashers: crate::workers::spawn("argon2", settings.hash_concurrency, yield_to_requests)
                .map_err(Error::internal)?,
            encoding: EncodingKey::from_secret(key),
            decoding: DecodingKey::from_secret(key),
            validation,
            operator_validation,
            token_ttl: settings.token_ttl,
            clock: Arc::clone(&settings.clock),
            dummy_hash: String::new(),
        };
        credentials.dummy_hash = credentials.hash_now(&hex::encode(crate::random_bytes::<16>()?))?;
        Ok(credentials)
    }

    fn hash_now(&self, password: &str) -> Result<String> {
        let salt = SaltString::encode_b64(&crate::random_bytes::<16>()?).map_err(Error::internal)?;
        self.argon2.hash_password(password.as_bytes(), &salt).map(|h| h.to_string()).map_err(Error::internal)
    }

    fn verify_now(&self, password: &str, hash: &str) -> bool {
        // bcrypt: what the original DevConnect stored; upgraded to argon2id at login.
        if hash.starts_with("$2") {
            return bcrypt::verify(password, hash).unwrap_or(false);
        }
        match PasswordHash::new(hash) {
            Ok(parsed) => self.argon2.verify_password(password.as_bytes(), &parsed).is_ok(),
            Err(err) => {
                tracing::warn!(%err, "stored password hash is unreadable");
                false
            }
        }
    }

    /// Runs `f` on a hashing thread (first come, first served).
    async fn offload<T: Send + 'static>(self: &Arc<Self>, f: impl FnOnce(&Self) -> T + Send + 'static) -> Result<T> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let this = Arc::clone(self);
        self.hashers
            .send(Box::new(move |()| {
                let _ = reply.send(f(&this));
            }))
            .map_err(|_| Error::internal("the password hashing threads are gone"))?;
        answer.await.map_err(|_| Error::internal("a password hash did not complete"))
    }

    pub(crate) async fn hash(self: &Arc<Self>, password: String) -> Result<String> {
        self.offload(move |c| c.hash_now(&password)).await?
    }

    pub(crate) async fn verify(self: &Arc<Self>, password: String, hash: Option<String>) -> Result<bool> {
        self.offload(move |c| match hash {
            Some(hash) => c.verify_now(&password, &hash),
            None => {
                let _ = c.verify_now(&password, &c.dummy_hash);
                false
            }
        })
        .await
    }

    pub(crate) fn issue(&self, user: UserId, token_version: i64) -> Result<String> {
        let now = self.clock.now().timestamp();
        let ttl = i64::try_from(self.token_ttl.as_secs()).unwrap_or(i64::MAX / 2);
        let claims = Claims {
            sub: user.to_hex(),
            iat: now,
            exp: now.saturating_add(ttl),
            jti: hex::encode(crate::random_bytes::<16>()?),
            ver: token_version,
        };
        jsonwebtoken::encode(&Header::new(jsonwebtoken::Algorithm::HS256), &claims, &self.encoding)
            .map_err(Error::internal)
    }

    /// An operator's token for `name`, valid for `ttl`.
    pub(crate) fn issue_operator(&self, name: &str, ttl: std::time::Duration) -> Result<String> {
        let now = self.clock.now().timestamp();
        let ttl = i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX / 2);
        let claims = OperatorClaims {
            op: name.to_owned(),
            iat: now,
            exp: now.saturating_add(ttl),
            jti: hex::encode(crate::random_bytes::<16>()?),
        };
        jsonwebtoken::encode(&Header::new(jsonwebtoken::Algorithm::HS256), &claims, &self.encoding)
            .map_err(Error::internal)
    }

    /// The operator an operator's token names, once its signature and expiry check out.
    pub(crate) fn decode_operator(&self, token: &str) -> Result<(String, DateTime<Utc>)> {
        let claims = jsonwebtoken::decode::<OperatorClaims>(token, &self.decoding, &self.operator_validation)
            .map_err(|_| Error::Unauthorized("not an operator's token"))?
            .claims;
        if claims.exp <= self.clock.now().timestamp() {
            return Err(Error::Unauthorized("token expired"));
        }
        let expires_at = Utc.timestamp_opt(claims.exp, 0).single().ok_or(Error::Unauthorized("invalid token"))?;
        Ok((claims.op, expires_at))
    }

    /// Checks signature, algorithm and expiry; the store check (revocation) is separate.
    pub(crate) fn decode(&self, token: &str) -> Result<Session> {
        use jsonwebtoken::errors::ErrorKind;
        let data =
            jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation).map_err(|e| match e.kind() {
                ErrorKind::ExpiredSignature => Error::Unauthorized("token expired"),
                _ => Error::Unauthorized("invalid token"),
            })?;
        let claims = data.claims;
        // Realtime subscriptions end at `exp`: refuse from that instant on too.
        if claims.exp <= self.clock.now().timestamp() {
            return Err(Error::Unauthorized("token expired"));
        }
        let user_id = UserId::parse("token", &claims.sub).map_err(|_| Error::Unauthorized("invalid token"))?;
        let expires_at = Utc.timestamp_opt(claims.exp, 0).single().ok_or(Error::Unauthorized("invalid token"))?;
        Ok(Session { user_id, token_id: claims.jti, token_version: claims.ver, expires_at })
    }
}

impl PublicUrls for Authenticated {
    fn with_public_urls(self, media: &dyn MediaStore) -> Self {
        Self { user: self.user.with_public_urls(media), ..self }
    }
}

impl DevConnect {
    /// Creates an account and returns it with a token. A taken email is a `Conflict`.
    /// Attempts are counted per client address ([`Settings::auth_rate_per_addr`](crate::Settings))
    /// before anything else, so a flood of signups from one host is refused before any
    /// hashing.
    pub async fn signup(&self, signup: Signup, from: Peer) -> Result<Authenticated> {
        self.inner.limits.check_auth_addr(from)?;
        let mut record = new_user_record(&signup)?;
        if self.inner.store.user_by_email(&record.me.email).await?.is_some() {
            return Err(Error::Conflict("email already registered"));
        }
        record.password_hash = self.inner.credentials.hash(signup.password).await?;
        if let Some(photo) = signup.photo {
            record.me.profile.photo_url = Some(self.store_image(photo).await?);
        }
        let inserted = self.inner.store.insert_user(&record).await;
        if let Err(err) = inserted {
            if let Some(url) = record.me.profile.photo_url.as_deref() {
                self.delete_image(url).await;
            }
            return Err(err);
        }
        let token = self.inner.credentials.issue(record.me.profile.id, 0)?;
        crate::telemetry::signup();
        Ok(self.publish(Authenticated { user: record.me, token }))
    }

    /// Creates accounts in bulk, for operators and tools seeding a load test or a demo;
    /// no frontend exposes it. Returns the new accounts' ids, in order.
    ///
    /// Each form is validated exactly as [`signup`](Self::signup) validates it, and every
    /// form before anything is stored: one invalid form refuses the whole batch with the
    /// error its signup would get. An email already registered, or given twice in the
    /// batch, is a `Conflict`, also before anything is stored. Forms with a photo are
    /// refused (seeding stores no images).
    ///
    /// Argon2 costs about half a second per hash on purpose, so each distinct password is
    /// hashed once and that hash (one salt) is stored for every account using it: this is
    /// what makes seeding thousands of accounts fast, and why real users' passwords must
    /// not go through here (equal hashes show who shares a password). No token is issued
    /// and no signup counted; the accounts log in as usual. Accounts are stored one by one:
    /// should a concurrent signup take one of the emails meanwhile, that insert is a
    /// `Conflict` and the accounts stored before it stay.
    pub async fn import_users(&self, signups: Vec<Signup>) -> Result<Vec<UserId>> {
        let mut records = Vec::with_capacity(signups.len());
        let mut emails = std::collections::HashSet::with_capacity(signups.len());
        for signup in &signups {
            if signup.photo.is_some() {
                return Err(Error::validation("photo", "an import stores no photos"));
            }
            let record = new_user_record(signup)?;
            if !emails.insert(record.me.email.clone()) {
                return Err(Error::Conflict("email already registered"));
            }
            records.push(record);
        }
        for record in &records {
            if self.inner.store.user_by_email(&record.me.email).await?.is_some() {
                return Err(Error::Conflict("email already registered"));
            }
        }
        let mut hashes: std::collections::HashMap<&str, String> = std::collections::HashMap::new();
        for (record, signup) in records.iter_mut().zip(&signups) {
            let hash = match hashes.get(signup.password.as_str()) {
                Some(hash) => hash.clone(),
                None => {
                    let hash = self.inner.credentials.hash(signup.password.clone()).await?;
                    hashes.insert(&signup.password, hash.clone());
                    hash
                }
            };
            record.password_hash = hash;
        }
        let mut ids = Vec::with_capacity(records.len());
        for record in &records {
            self.inner.store.insert_user(record).await?;
            ids.push(record.me.profile.id);
        }
        Ok(ids)
    }

    /// Logs in by email and password. A wrong email and a wrong password give the same
    /// `Unauthorized` error and take the same time.
    ///
    /// Guessing is throttled without locking the owner out (OWASP): attempts count per
    /// client address ([`Settings::auth_rate_per_addr`](crate::Settings)), and an address
    /// that failed on an email recently spends from that email's budget
    /// ([`Settings::login_rate`](crate::Settings)); an address with no recent failure on
    /// it always gets its attempt, so failing on purpose cannot lock a victim out.
    pub async fn login(&self, email: &str, password: &str, from: Peer) -> Result<Authenticated> {
        let result = self.check_login(email, password, from).await;
        crate::telemetry::login(&result);
        result
    }

    async fn check_login(&self, email: &str, password: &str, from: Peer) -> Result<Authenticated> {
        self.inner.limits.check_auth_addr(from)?;
        let Ok(email) = parse_email(email) else {
            return Err(Error::Unauthorized(LOGIN_FAILED));
        };
        if password.chars().count() > MAX_PASSWORD_CHARS {
            return Err(Error::Unauthorized(LOGIN_FAILED));
        }
        self.inner.limits.check_login(&email, from)?;
        let record = self.inner.store.user_by_email(&email).await?;
        let hash = record.as_ref().map(|r| r.password_hash.clone());
        if !self.inner.credentials.verify(password.to_owned(), hash).await? {
            self.inner.limits.login_failed(&email, from);
            return Err(Error::Unauthorized(LOGIN_FAILED));
        }
        let record = record.ok_or(Error::Unauthorized(LOGIN_FAILED))?;
        // Only someone who knows the password learns that the account is suspended.
        if record.suspended {
            return Err(Error::Unauthorized(SUSPENDED));
        }
        if !record.password_hash.starts_with("$argon2id$") {
            self.upgrade_hash(&record, password).await;
        }
        let token = self.inner.credentials.issue(record.me.profile.id, record.token_version)?;
        Ok(self.publish(Authenticated { user: record.me, token }))
    }

    /// Re-hashes a legacy (bcrypt) password with argon2id after a successful login.
    /// Best effort: a failure is logged and the old hash keeps working.
    async fn upgrade_hash(&self, record: &UserRecord, password: &str) {
        let upgraded = match self.inner.credentials.hash(password.to_owned()).await {
            Ok(new) => self.inner.store.replace_password_hash(record.me.profile.id, &record.password_hash, &new).await,
            Err(err) => Err(err),
        };
        if let Err(err) = upgraded {
            tracing::warn!(%err, "could not upgrade a legacy password hash");
        }
    }

    /// Checks a bearer token: signature (HS256 only), expiry, and that it was neither
    /// logged out nor issued before the user's last password change.
    pub async fn authenticate(&self, token: &str) -> Result<Session> {
        let session = self.inner.credentials.decode(token)?;
        let state = self.inner.store.auth_state(session.user_id, &session.token_id).await?;
        match state {
            Some(state) if state.suspended => Err(Error::Unauthorized(SUSPENDED)),
            Some(state) if !state.revoked && state.token_version == session.token_version => Ok(session),
            _ => Err(Error::Unauthorized("token revoked")),
        }
    }

    /// Revokes this one token; realtime subscriptions opened with it end, and push
    /// subscriptions registered with it are removed.
    pub async fn logout(&self, session: &Session) -> Result<()> {
        self.inner.store.revoke_token(session.user_id, &session.token_id, session.expires_at).await?;
        self.inner.realtime.revoke_token(session.user_id, &session.token_id);
        self.inner.store.remove_push_subscriptions(session.user_id, Some(&session.token_id)).await?;
        Ok(())
    }

    /// Changes the caller's password. Every token issued before, including the one
    /// used here, stops working, and every push subscription is removed; the returned
    /// token is the caller's new one.
    ///
    /// Each attempt checks the old password, so attempts are limited per user like
    /// logins ([`Settings::login_rate`](crate::Settings)): a stolen token is not an
    /// unlimited password oracle, nor a way to keep the hashing threads busy.
    pub async fn change_password(&self, session: &Session, change: PasswordChange) -> Result<String> {
        check_password_strength("newPassword", &change.new_password)?;
        if change.new_password != change.confirm_password {
            return Err(Error::validation("confirmPassword", "does not match newPassword"));
        }
        if change.new_password == change.old_password {
            return Err(Error::validation("newPassword", "must differ from the old password"));
        }
        self.inner.limits.check_password_change(session.user_id)?;
        let record = self.user_record(session.user_id).await?;
        if !self.inner.credentials.verify(change.old_password, Some(record.password_hash)).await? {
            return Err(Error::validation("oldPassword", "is not the current password"));
        }
        let hash = self.inner.credentials.hash(change.new_password).await?;
        let version = self.inner.store.set_password(session.user_id, &hash).await?;
        self.inner.realtime.revoke_older_tokens(session.user_id, version);
        self.inner.store.remove_push_subscriptions(session.user_id, None).await?;
        self.inner.credentials.issue(session.user_id, version)
    }
}

/// The token of an `Authorization` value, `Bearer <token>` (scheme case-insensitive,
/// surrounding spaces ignored), as HTTP headers and gRPC metadata carry it: the one
/// reading every frontend uses. A missing or malformed value is `Unauthorized`.
pub fn bearer_token(authorization: Option<&[u8]>) -> Result<&str> {
    let value = authorization.ok_or(Error::Unauthorized("missing bearer token"))?;
    let invalid = || Error::Unauthorized("invalid authorization header");
    let value = std::str::from_utf8(value).map_err(|_| invalid())?;
    let (scheme, token) = value.trim().split_once(' ').ok_or_else(invalid)?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
        return Err(invalid());
    }
    Ok(token)
}

#[cfg(test)]
mod tests {
    #[test]
    fn bearer_tokens_are_read_case_insensitively_and_garbage_is_refused() {
        assert_eq!(bearer_token(Some(b"Bearer abc.def")).ok(), Some("abc.def"));
        assert_eq!(bearer_token(Some(b" bearer  xyz ")).ok(), Some("xyz"));
        for bad in [&b""[..], b"abc", b"Basic abc", b"Bearer ", b"Bearer", b"Bearer \xff"] {
            assert_eq!(bearer_token(Some(bad)).err().map(|e| e.code()), Some("unauthorized"), "{bad:?}");
        }
        assert_eq!(bearer_token(None).err().map(|e| e.code()), Some("unauthorized"));
    }

    use super::*;

    #[test]
    fn emails_are_trimmed_lowercased_and_checked() {
        assert_eq!(parse_email("  Ada@Example.COM ").ok().as_deref(), Some("ada@example.com"));
        for bad in ["", "ada", "@x.io", "ada@", "ada@localhost", "a b@x.io", "ada@x..io", "ada@-x.io", "a@b@c.io"] {
            assert!(parse_email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn weak_passwords_are_rejected() {
        assert!(check_password_strength("password", "Str0ng!pass").is_ok());
        for bad in ["Sh0rt!", "alllower1!", "ALLUPPER1!", "NoDigits!!", "NoSymbol11", &"Aa1!".repeat(33)] {
            assert!(check_password_strength("password", bad).is_err(), "{bad}");
        }
    }
}
