//! Plain configuration of the service. Binaries fill it from flags and environment;
//! the core reads no environment itself.

use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

use crate::{Error, Result};

/// A JWT secret shorter than this many bytes is refused.
pub const MIN_JWT_SECRET_BYTES: usize = 32;
/// Name of the generated secret's file in the data directory.
pub const JWT_SECRET_FILE: &str = "jwt-secret";

/// How to open a [`DevConnect`](crate::DevConnect).
#[derive(Clone, Debug)]
pub struct Config {
    /// Where the service keeps its files: the default database, media and generated secret.
    pub data_dir: PathBuf,
    /// `sqlite://PATH`, `sqlite::memory:`; default `sqlite://{data_dir}/devconnect.db`.
    pub database_url: Option<String>,
    /// The JWT signing secret; when `None`, a random one is generated once and kept in
    /// `{data_dir}/jwt-secret` (mode 0600).
    pub jwt_secret: Option<SecretString>,
    /// Where images go.
    pub media: MediaConfig,
    /// The event bus shared with other instances; `None` (the default) for one
    /// instance with in-process delivery.
    pub bus: Option<BusConfig>,
    /// Push notifications for people who are offline; `None` (the default) for none:
    /// nothing is queued and the push routes answer `unavailable`.
    pub push: Option<PushConfig>,
    /// Limits and tunables.
    pub settings: Settings,
}

/// The VAPID contact of a server not told its operator's: push services accept it,
/// but an operator should give a real one (`--push-subject`).
pub const DEFAULT_PUSH_SUBJECT: &str = "mailto:push@devconnect.invalid";

/// Web Push: the server's VAPID identity and how notifications go out.
#[derive(Clone, Debug)]
pub struct PushConfig {
    /// The VAPID key, a PKCS#8 P-256 key (DER); `None` for `{data_dir}/vapid.pk8`,
    /// generated on first use (mode 0600). Every instance of one deployment must use the
    /// same key: browsers' subscriptions are bound to it.
    pub vapid_key_file: Option<PathBuf>,
    /// The VAPID `sub` claim: how a push service reaches the operator, a `mailto:` or
    /// `https:` URL.
    pub subject: String,
    /// Accept `http://` endpoints on loopback addresses (tests, a local push service).
    pub allow_loopback_http: bool,
    /// How long a notification waits for more of the same conversation before it goes
    /// out, so a burst becomes one notification. Default 1 s.
    pub coalesce: Duration,
    /// How often the outbox is looked at for due notifications (other instances' too).
    /// Default 250 ms.
    pub poll: Duration,
    /// Pushes in flight at once. Default 32.
    pub concurrency: usize,
    /// Subscriptions one user may have; registering one more drops the oldest. Default 10.
    pub max_subscriptions: u32,
}

impl PushConfig {
    /// Defaults, with `subject` as the VAPID contact.
    pub fn new(subject: impl Into<String>) -> Self {
        Self {
            vapid_key_file: None,
            subject: subject.into(),
            allow_loopback_http: false,
            coalesce: Duration::from_secs(1),
            poll: Duration::from_millis(250),
            concurrency: 32,
            max_subscriptions: 10,
        }
    }
}

/// Which [`MediaStore`](crate::MediaStore) to use.
#[derive(Clone, Debug)]
pub enum MediaConfig {
    /// Files in a local directory (default `{data_dir}/media`), served under `base_url`.
    Local {
        /// The directory; `None` for `{data_dir}/media`.
        dir: Option<PathBuf>,
        /// The absolute URL clients load the directory's images from, e.g.
        /// `https://api.example.com/media` (a server's public URL and its media path);
        /// `None` for the directory's own `file://` URL, for a program on this machine.
        base_url: Option<String>,
    },
    /// Cloudinary, through its signed Upload API (needs the `cloudinary` cargo feature).
    Cloudinary(CloudinaryConfig),
}

impl Default for MediaConfig {
    fn default() -> Self {
        Self::Local { dir: None, base_url: None }
    }
}

impl MediaConfig {
    /// Parses a media URL: `cloudinary://API_KEY:API_SECRET@CLOUD_NAME`, the form
    /// Cloudinary's SDKs read from `CLOUDINARY_URL`, optionally followed by
    /// `?folder=F&signature_algorithm=sha256&upload_prefix=URL&timeout=SECONDS`.
    ///
    /// Binaries call this with `DEVCONNECT_MEDIA_URL`, else `CLOUDINARY_URL`, when set.
    /// Errors are `Validation` on field `mediaUrl` and never repeat the URL, which
    /// holds the API secret.
    pub fn from_url(url: &str) -> Result<Self> {
        const SHAPE: &str = "must look like cloudinary://API_KEY:API_SECRET@CLOUD_NAME";
        let invalid = |reason: &str| Error::validation("mediaUrl", reason.to_owned());
        let rest = url.trim().strip_prefix("cloudinary://").ok_or_else(|| invalid(SHAPE))?;
        let (rest, query) = rest.split_once('?').unwrap_or((rest, ""));
        // The secret may contain '@' only percent-encoded, so the last '@' ends it.
        let (credentials, cloud_name) = rest.rsplit_once('@').ok_or_else(|| invalid(SHAPE))?;
        let (api_key, api_secret) = credentials.split_once(':').ok_or_else(|| invalid(SHAPE))?;
        let decode = |part: &str, what: &str| {
            percent_decode(part).ok_or_else(|| invalid(&format!("has a badly percent-encoded {what}")))
        };
        let mut config = CloudinaryConfig::new(
            decode(cloud_name.trim_end_matches('/'), "cloud name")?,
            decode(api_key, "API key")?,
            SecretString::from(decode(api_secret, "API secret")?),
        );
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let value = decode(value, "query value")?;
            match key {
                "folder" => config.folder = Some(value).filter(|f| !f.is_empty()),
                "upload_prefix" | "api_base" => config.api_base = value,
                "signature_algorithm" => config.signature_algorithm = SignatureAlgorithm::parse(&value)?,
                "timeout" => {
                    let secs = value.parse::<u64>().map_err(|_| invalid("timeout must be whole seconds"))?;
                    config.timeout = Duration::from_secs(secs);
                }
                // SDK options that do not apply here (secure, cname, ...): harmless.
                _ => tracing::warn!(option = %key, "ignored an unknown option of the media URL"),
            }
        }
        config.validate()?;
        Ok(Self::Cloudinary(config))
    }
}

/// The default Cloudinary API base URL.
pub const CLOUDINARY_API_BASE: &str = "https://api.cloudinary.com";
/// The default timeout of one call to Cloudinary.
pub const CLOUDINARY_TIMEOUT: Duration = Duration::from_secs(20);

/// How to reach a Cloudinary product environment ("cloud").
///
/// `Debug` shows neither the API key nor the secret, so a printed [`Config`] leaks
/// no credential.
#[derive(Clone)]
pub struct CloudinaryConfig {
    /// The cloud name (`[A-Za-z0-9_-]+`).
    pub cloud_name: String,
    /// The API key.
    pub api_key: String,
    /// The API secret; it signs requests and is never sent.
    pub api_secret: SecretString,
    /// The folder assets are uploaded to, if any (`a/b`, no leading or trailing `/`).
    pub folder: Option<String>,
    /// The API base URL, default [`CLOUDINARY_API_BASE`]; tests point it at a local server.
    pub api_base: String,
    /// The digest of request signatures. Default SHA-1, as Cloudinary's.
    pub signature_algorithm: SignatureAlgorithm,
    /// The limit on each call to Cloudinary, default [`CLOUDINARY_TIMEOUT`].
    pub timeout: Duration,
}

impl std::fmt::Debug for CloudinaryConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CloudinaryConfig")
            .field("cloud_name", &self.cloud_name)
            .field("api_key", &"[REDACTED]")
            .field("api_secret", &"[REDACTED]")
            .field("folder", &self.folder)
            .field("api_base", &self.api_base)
            .field("signature_algorithm", &self.signature_algorithm)
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl CloudinaryConfig {
    /// A configuration with the defaults: no folder, the public API, SHA-1, 20 s.
    pub fn new(cloud_name: impl Into<String>, api_key: impl Into<String>, api_secret: SecretString) -> Self {
        Self {
            cloud_name: cloud_name.into(),
            api_key: api_key.into(),
            api_secret,
            folder: None,
            api_base: CLOUDINARY_API_BASE.to_owned(),
            signature_algorithm: SignatureAlgorithm::default(),
            timeout: CLOUDINARY_TIMEOUT,
        }
    }

    /// Checks the values that end up in URLs and signatures. Messages name the
    /// problem, never a credential.
    pub fn validate(&self) -> Result<()> {
        let invalid = |reason: &str| Error::validation("mediaUrl", reason.to_owned());
        let safe = |s: &str| s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if self.cloud_name.is_empty() || !safe(&self.cloud_name) {
            return Err(invalid("the cloud name must be letters, digits, '_' or '-'"));
        }
        if self.api_key.is_empty() || self.api_key.chars().any(char::is_control) {
            return Err(invalid("the API key is missing or malformed"));
        }
        if self.api_secret.expose_secret().is_empty() {
            return Err(invalid("the API secret is missing"));
        }
        if let Some(folder) = &self.folder {
            if folder.split('/').any(|segment| segment.is_empty() || !safe(segment)) {
                return Err(invalid("the folder must be '/'-separated names of letters, digits, '_' or '-'"));
            }
        }
        let base = self.api_base.strip_prefix("https://").or_else(|| self.api_base.strip_prefix("http://"));
        if base.is_none_or(|host| host.is_empty() || host.contains(['?', '#', '@'])) {
            return Err(invalid("the API base must be an http(s) URL"));
        }
        if self.timeout.is_zero() {
            return Err(invalid("the timeout must be positive"));
        }
        Ok(())
    }
}

/// The digest Cloudinary request signatures are made with.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SignatureAlgorithm {
    /// SHA-1, Cloudinary's default.
    #[default]
    Sha1,
    /// SHA-256, for accounts set to accept only it.
    Sha256,
}

impl SignatureAlgorithm {
    /// `sha1` or `sha256`, as Cloudinary names them.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sha1 => "sha1",
            Self::Sha256 => "sha256",
        }
    }

    fn parse(name: &str) -> Result<Self> {
        match name.to_ascii_lowercase().as_str() {
            "sha1" => Ok(Self::Sha1),
            "sha256" => Ok(Self::Sha256),
            _ => Err(Error::validation("mediaUrl", "signature_algorithm must be sha1 or sha256")),
        }
    }
}

/// Decodes `%XX` escapes; `None` for a malformed escape or non-UTF-8 result.
fn percent_decode(s: &str) -> Option<String> {
    let mut out = Vec::with_capacity(s.len());
    let mut bytes = s.bytes();
    while let Some(b) = bytes.next() {
        if b == b'%' {
            let digit = |d: u8| char::from(d).to_digit(16);
            let (high, low) = (digit(bytes.next()?)?, digit(bytes.next()?)?);
            out.push(u8::try_from(high * 16 + low).ok()?);
        } else {
            out.push(b);
        }
    }
    String::from_utf8(out).ok()
}

/// Default time after which an instance that stopped sending heartbeats (crashed,
/// partitioned) has its users marked offline.
pub const DEFAULT_PRESENCE_EXPIRY: Duration = Duration::from_secs(15);

/// Default period of the check of live sessions' tokens against the store (with a bus).
pub const DEFAULT_SESSION_RECHECK: Duration = Duration::from_secs(30);

/// Default prefix of the Redis keys and channel, so several deployments can share one
/// Redis.
pub const DEFAULT_BUS_PREFIX: &str = "devconnect";

/// How to reach the bus shared by several instances.
#[derive(Clone, Debug)]
pub struct BusConfig {
    /// `redis://[:PASSWORD@]HOST[:PORT][/DB]` (or `rediss://` with a TLS-enabled build).
    pub url: String,
    /// Prefix of every key and of the channel. Default [`DEFAULT_BUS_PREFIX`].
    pub prefix: String,
    /// Bound on how long a dead instance's users stay online for others. Default
    /// [`DEFAULT_PRESENCE_EXPIRY`]; heartbeats go every sixth of it.
    pub presence_expiry: Duration,
    /// How often this instance checks the tokens of its live sessions against the store
    /// (and at once after every reconnection to the bus): a revocation published while
    /// the bus was down still ends them within this period. Default
    /// [`DEFAULT_SESSION_RECHECK`].
    pub session_recheck: Duration,
}

impl BusConfig {
    /// The defaults for `url`.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            prefix: DEFAULT_BUS_PREFIX.to_owned(),
            presence_expiry: DEFAULT_PRESENCE_EXPIRY,
            session_recheck: DEFAULT_SESSION_RECHECK,
        }
    }
}

/// Default upload limit: 3 MiB.
pub const DEFAULT_UPLOAD_LIMIT: usize = 3 * 1024 * 1024;
/// Default memory budget of the image decodes running at once (see
/// [`Settings::image_decode_budget`](crate::Settings)).
pub const DEFAULT_DECODE_BUDGET: usize = 512 * 1024 * 1024;

/// How many actions of a kind one user may take: a sustained rate per minute, with
/// bursts up to the same number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimit {
    /// Allowed per minute (and as a burst). `None` disables the limit.
    pub per_minute: Option<NonZeroU32>,
}

impl RateLimit {
    /// A limit of `n` per minute; 0 disables it.
    #[must_use]
    pub fn per_minute(n: u32) -> Self {
        Self { per_minute: NonZeroU32::new(n) }
    }
}

/// Limits and tunables with sensible defaults.
#[derive(Clone, Debug)]
pub struct Settings {
    /// How long a token is valid. Default 7 days.
    pub token_ttl: Duration,
    /// Where token issue and expiry, and the request cool-down, read the time. Default:
    /// the system clock; tests of expiry use a [`ManualClock`](crate::ManualClock).
    pub clock: std::sync::Arc<dyn crate::Clock>,
    /// How long after a rejection its sender may ask the same person again. Default 30
    /// days, as LinkedIn does with re-invitations.
    pub request_cooldown: Duration,
    /// Most members a group may have. Default 1,000.
    pub group_member_cap: u32,
    /// Largest accepted image upload in bytes. Default 3 MiB.
    pub upload_limit: usize,
    /// Password hashes computed at once. Default: the number of cores less one (at least 1).
    pub hash_concurrency: usize,
    /// Events buffered per subscription before a slow subscriber is ended (1 to 2^20).
    /// Default 256.
    pub event_queue: usize,
    /// Messages one user may send per minute. Default 120.
    pub message_rate: RateLimit,
    /// Connection requests one user may send per minute. Default 30.
    pub request_rate: RateLimit,
    /// Reports one user may file per minute. Default 5.
    pub report_rate: RateLimit,
    /// Edits one user may make per minute: profile and group edits (photo uploads
    /// included: an image is decoded and resized), group creations and push
    /// subscription changes, each a write the store's one writer serialises. Default 30.
    pub edit_rate: RateLimit,
    /// Developer searches one user may make per minute (a ranked search is the most
    /// expensive read a user can ask for). Default 300: typing a query searches at each
    /// keystroke.
    pub search_rate: RateLimit,
    /// Login attempts per email per minute, from any client. Default 10.
    pub login_rate: RateLimit,
    /// Signup and login attempts per client address per minute (an IPv6 client counts by
    /// its /64 network). Default 30.
    pub auth_rate_per_addr: RateLimit,
    /// Typing events one user may send per minute. Default 120.
    pub typing_rate: RateLimit,
    /// Live sessions (sockets, streams, subscriptions) one user may hold at once on this
    /// instance. Default 32.
    pub max_sessions_per_user: usize,
    /// Memory all image decodes running at once may use, in bytes; an image whose
    /// decoding alone would need more is refused. Default 512 MiB.
    pub image_decode_budget: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            token_ttl: Duration::from_secs(7 * 24 * 60 * 60),
            clock: std::sync::Arc::new(crate::SystemClock),
            request_cooldown: Duration::from_secs(30 * 24 * 60 * 60),
            group_member_cap: 1000,
            upload_limit: DEFAULT_UPLOAD_LIMIT,
            // One core fewer than the machine has, so a storm of logins always leaves a
            // core for everything else.
            hash_concurrency: std::thread::available_parallelism().map_or(1, |n| n.get().saturating_sub(1).max(1)),
            event_queue: 256,
            message_rate: RateLimit::per_minute(120),
            request_rate: RateLimit::per_minute(30),
            report_rate: RateLimit::per_minute(5),
            edit_rate: RateLimit::per_minute(30),
            search_rate: RateLimit::per_minute(300),
            login_rate: RateLimit::per_minute(10),
            auth_rate_per_addr: RateLimit::per_minute(30),
            typing_rate: RateLimit::per_minute(120),
            max_sessions_per_user: 32,
            image_decode_budget: DEFAULT_DECODE_BUDGET,
        }
    }
}

impl Config {
    /// Defaults for everything, with files under `data_dir`.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            data_dir: data_dir.into(),
            database_url: None,
            jwt_secret: None,
            media: MediaConfig::default(),
            bus: None,
            push: None,
            settings: Settings::default(),
        }
    }

    /// The local media directory in effect, if media is kept locally.
    #[must_use]
    pub fn media_dir(&self) -> Option<PathBuf> {
        match &self.media {
            MediaConfig::Local { dir, .. } => Some(dir.clone().unwrap_or_else(|| self.data_dir.join("media"))),
            MediaConfig::Cloudinary(_) => None,
        }
    }

    /// The base URL of local media in effect: the configured one, or the media
    /// directory's `file://` URL. `None` when media is not kept locally.
    #[must_use]
    pub fn media_base_url(&self) -> Option<String> {
        match &self.media {
            MediaConfig::Local { base_url: Some(url), .. } => Some(url.clone()),
            MediaConfig::Local { base_url: None, .. } => self.media_dir().map(|dir| file_url(&dir)),
            MediaConfig::Cloudinary(_) => None,
        }
    }

    /// The database URL in effect.
    #[must_use]
    pub fn database_url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", self.data_dir.join("devconnect.db").display()))
    }
}

/// Checks a server's public base URL, `http(s)://HOST[:PORT][/PATH]` without a query,
/// fragment or credentials; drops a trailing `/`.
pub fn parse_public_url(raw: &str) -> Result<String> {
    let url = raw.trim().trim_end_matches('/');
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"));
    let host = rest.map(|r| r.split('/').next().unwrap_or_default());
    if host.is_none_or(str::is_empty) || url.contains(['?', '#', ' ', '@']) {
        return Err(Error::validation(
            "publicUrl",
            "must look like https://HOST[:PORT][/PATH], without a query or fragment",
        ));
    }
    Ok(url.to_owned())
}

/// The `file://` URL of `dir` (made absolute), its path percent-encoded.
fn file_url(dir: &Path) -> String {
    let absolute = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
    let mut url = String::from("file://");
    for byte in absolute.to_string_lossy().bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/".contains(&byte) {
            url.push(char::from(byte));
        } else {
            url.push_str(&format!("%{byte:02X}"));
        }
    }
    url.trim_end_matches('/').to_owned()
}

/// Checks a configured secret, or loads (creating on first use) the one in `data_dir`.
pub(crate) fn jwt_secret(configured: Option<&SecretString>, data_dir: &Path) -> Result<SecretString> {
    if let Some(secret) = configured {
        if secret.expose_secret().len() < MIN_JWT_SECRET_BYTES {
            return Err(Error::validation("jwtSecret", format!("must be at least {MIN_JWT_SECRET_BYTES} bytes")));
        }
        return Ok(secret.clone());
    }
    load_or_create_secret(&data_dir.join(JWT_SECRET_FILE))
}

fn load_or_create_secret(path: &Path) -> Result<SecretString> {
    let bytes = load_or_create_private_file(path, "jwtSecret", || {
        tracing::info!(path = %path.display(), "generated a new JWT secret");
        Ok(hex::encode(crate::random_bytes::<32>()?).into_bytes())
    })?;
    let secret = String::from_utf8(bytes).map_err(Error::internal)?;
    let secret = secret.trim();
    if secret.len() < MIN_JWT_SECRET_BYTES {
        return Err(Error::internal(format!("the JWT secret in {} is too short", path.display())));
    }
    Ok(SecretString::from(secret.to_owned()))
}

/// The contents of the private file at `path`, created on first use (mode 0600) with
/// what `generate` gives. A file that group or others can read is refused (`field`
/// names the setting in the error): it may have leaked.
pub(crate) fn load_or_create_private_file(
    path: &Path,
    field: &'static str,
    generate: impl FnOnce() -> Result<Vec<u8>>,
) -> Result<Vec<u8>> {
    use std::io::Write as _;
    #[cfg(unix)]
    use std::os::unix::fs::OpenOptionsExt as _;

    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(Error::internal)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    options.mode(0o600);
    match options.open(path) {
        Ok(mut file) => {
            let contents = generate()?;
            file.write_all(&contents).map_err(Error::internal)?;
            file.sync_all().map_err(Error::internal)?;
            Ok(contents)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            #[cfg(unix)]
            {
                // As OpenSSH does with private keys: a secret others can read is no
                // longer a secret, so refuse to use it.
                use std::os::unix::fs::PermissionsExt as _;
                let mode = std::fs::metadata(path).map_err(Error::internal)?.permissions().mode();
                if mode & 0o077 != 0 {
                    return Err(Error::validation(
                        field,
                        format!(
                            "{} is readable by group or others (mode {:o}); run `chmod 600` on it, or replace it if it may have leaked",
                            path.display(),
                            mode & 0o777
                        ),
                    ));
                }
            }
            std::fs::read(path).map_err(Error::internal)
        }
        Err(e) => Err(Error::internal(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_secret_is_private_and_stable() {
        let dir = tempfile::tempdir();
        let Ok(dir) = dir else { return assert!(dir.is_ok()) };
        let first = jwt_secret(None, dir.path()).map(|s| s.expose_secret().to_owned()).ok();
        let second = jwt_secret(None, dir.path()).map(|s| s.expose_secret().to_owned()).ok();
        assert!(first.as_ref().is_some_and(|s| s.len() == 64));
        assert_eq!(first, second);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(dir.path().join(JWT_SECRET_FILE)).map(|m| m.permissions().mode() & 0o777);
            assert_eq!(mode.ok(), Some(0o600));
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_secret_file_readable_by_others_stops_startup() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir();
        let Ok(dir) = dir else { return assert!(dir.is_ok()) };
        assert!(jwt_secret(None, dir.path()).is_ok());
        let file = dir.path().join(JWT_SECRET_FILE);
        assert!(std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).is_ok());
        let err = jwt_secret(None, dir.path()).err();
        assert!(matches!(&err, Some(Error::Validation { reason, .. }) if reason.contains("chmod 600")), "{err:?}");
    }

    #[test]
    fn local_media_defaults_to_the_file_url_of_its_directory() {
        let config = Config::new("/srv/dev connect");
        assert_eq!(config.media_base_url().as_deref(), Some("file:///srv/dev%20connect/media"));
        let served = Config {
            media: MediaConfig::Local { dir: None, base_url: Some("https://api.example.com/media".to_owned()) },
            ..Config::new("/srv")
        };
        assert_eq!(served.media_base_url().as_deref(), Some("https://api.example.com/media"));
    }

    #[test]
    fn short_configured_secrets_are_refused() {
        let short = SecretString::from("short".to_owned());
        assert!(jwt_secret(Some(&short), Path::new("/nonexistent")).is_err());
    }
}
