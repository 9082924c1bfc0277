//! The command-line options every DevConnect server binary shares: where data lives,
//! the database, media, secrets and limits. Each binary flattens [`ServiceArgs`] into
//! its own clap parser and adds its own options (bind address, …), so the same flag
//! means the same thing in every server. The rules (what a valid public URL, media URL
//! or secret is, the defaults) are the core's; this module only adapts them to clap.

use std::path::PathBuf;
use std::time::Duration;

use secrecy::SecretString;

use devconnect_core::config::MIN_JWT_SECRET_BYTES;
use devconnect_core::config::{
    DEFAULT_BUS_PREFIX, DEFAULT_PRESENCE_EXPIRY, DEFAULT_PUSH_SUBJECT, DEFAULT_SESSION_RECHECK,
};
use devconnect_core::media::{DEFAULT_DECODE_BUDGET, DEFAULT_UPLOAD_LIMIT};
use devconnect_core::{BusConfig, Config, MediaConfig, PushConfig, RateLimit, Settings};

/// Options of the core service, as flags and `DEVCONNECT_*` environment variables.
#[derive(Clone, Debug, clap::Args)]
#[non_exhaustive]
pub struct ServiceArgs {
    /// Directory for the default database, media and the generated JWT secret.
    #[arg(long, env = "DEVCONNECT_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// Database URL: `sqlite://PATH`, `sqlite::memory:` or `mongodb://…` [default: sqlite://DATA_DIR/devconnect.db].
    #[arg(long, env = "DEVCONNECT_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// The public base URL of the REST server, where clients load uploaded images from
    /// (`URL/media/NAME`), e.g. `https://api.example.com` [default: the REST server's
    /// own address; for the gRPC server, `http://127.0.0.1:3000`].
    #[arg(long, env = "DEVCONNECT_PUBLIC_URL", value_parser = parse_public_url)]
    pub public_url: Option<String>,
    /// Directory for uploaded images [default: DATA_DIR/media].
    #[arg(long, env = "DEVCONNECT_MEDIA_DIR")]
    pub media_dir: Option<PathBuf>,
    /// Where images go instead of the media directory: `cloudinary://API_KEY:API_SECRET@CLOUD_NAME`
    /// (needs the core's `cloudinary` feature).
    #[arg(long, env = "DEVCONNECT_MEDIA_URL", hide_env_values = true, value_parser = MediaUrlParser)]
    pub media_url: Option<MediaConfig>,
    /// Cloudinary's own variable, honoured when `--media-url` is not given.
    #[arg(long, env = "CLOUDINARY_URL", hide = true, hide_env_values = true, value_parser = MediaUrlParser)]
    pub cloudinary_url: Option<MediaConfig>,
    /// JWT signing secret, at least 32 bytes [default: generated once into DATA_DIR/jwt-secret].
    #[arg(long, env = "DEVCONNECT_JWT_SECRET", hide_env_values = true, value_parser = SecretParser::new("--jwt-secret", MIN_JWT_SECRET_BYTES))]
    pub jwt_secret: Option<SecretString>,
    /// Lifetime of issued tokens, in seconds.
    #[arg(long, env = "DEVCONNECT_TOKEN_TTL_SECS", default_value_t = 7 * 24 * 60 * 60)]
    pub token_ttl_secs: u64,
    /// Days after a rejection before its sender may ask the same person again.
    #[arg(long, env = "DEVCONNECT_REQUEST_COOLDOWN_DAYS", default_value_t = 30)]
    pub request_cooldown_days: u32,
    /// Most members a group may have.
    #[arg(long, env = "DEVCONNECT_GROUP_MEMBER_CAP", default_value_t = 1000,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub group_member_cap: u32,
    /// Largest accepted image upload, in bytes.
    #[arg(long, env = "DEVCONNECT_UPLOAD_LIMIT", default_value_t = DEFAULT_UPLOAD_LIMIT)]
    pub upload_limit: usize,
    /// Chat messages one user may send per minute (0 = no limit).
    #[arg(long, env = "DEVCONNECT_MESSAGE_RATE", default_value_t = 120)]
    pub message_rate: u32,
    /// Connection requests one user may send per minute (0 = no limit).
    #[arg(long, env = "DEVCONNECT_REQUEST_RATE", default_value_t = 30)]
    pub request_rate: u32,
    /// Reports one user may file per minute (0 = no limit).
    #[arg(long, env = "DEVCONNECT_REPORT_RATE", default_value_t = 5)]
    pub report_rate: u32,
    /// Profile and group edits (photo uploads included), group creations and push
    /// subscription changes one user may make per minute (0 = no limit).
    #[arg(long, env = "DEVCONNECT_EDIT_RATE", default_value_t = 30)]
    pub edit_rate: u32,
    /// Developer searches one user may make per minute (0 = no limit).
    #[arg(long, env = "DEVCONNECT_SEARCH_RATE", default_value_t = 300)]
    pub search_rate: u32,
    /// Login attempts per email per minute, from any client (0 = no limit).
    #[arg(long, env = "DEVCONNECT_LOGIN_RATE", default_value_t = 10)]
    pub login_rate: u32,
    /// Signup and login attempts per client address per minute (0 = no limit).
    #[arg(long, env = "DEVCONNECT_AUTH_RATE_PER_ADDR", default_value_t = 30)]
    pub auth_rate_per_addr: u32,
    /// Typing events one user may send per minute (0 = no limit).
    #[arg(long, env = "DEVCONNECT_TYPING_RATE", default_value_t = 120)]
    pub typing_rate: u32,
    /// Live sockets and streams one user may hold at once on one instance.
    #[arg(long, env = "DEVCONNECT_MAX_SESSIONS_PER_USER", default_value_t = 32,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub max_sessions_per_user: u32,
    /// Memory all image decodes running at once may use, in bytes; a larger image is refused.
    #[arg(long, env = "DEVCONNECT_IMAGE_DECODE_BUDGET", default_value_t = DEFAULT_DECODE_BUDGET)]
    pub image_decode_budget: usize,
    /// Event bus shared by several instances: `redis://[:PASSWORD@]HOST[:PORT][/DB]`
    /// (needs the core's `redis` feature) [default: none, one instance].
    #[arg(long, env = "DEVCONNECT_BUS_URL", hide_env_values = true)]
    pub bus_url: Option<String>,
    /// Prefix of the bus's Redis keys and channel (deployments sharing one Redis).
    #[arg(long, env = "DEVCONNECT_BUS_PREFIX", default_value = DEFAULT_BUS_PREFIX)]
    pub bus_prefix: String,
    /// With a bus: seconds after which a crashed instance's users are offline for everyone.
    #[arg(long, env = "DEVCONNECT_PRESENCE_EXPIRY_SECS", default_value_t = DEFAULT_PRESENCE_EXPIRY.as_secs())]
    pub presence_expiry_secs: u64,
    /// With a bus: how often, in seconds, live sessions' tokens are checked against the
    /// store, so a revocation whose bus message was lost still ends them.
    #[arg(long, env = "DEVCONNECT_SESSION_RECHECK_SECS", default_value_t = DEFAULT_SESSION_RECHECK.as_secs(),
          value_parser = clap::value_parser!(u64).range(1..))]
    pub session_recheck_secs: u64,
    /// Turn push notifications off (they need the core's `push` feature).
    #[arg(long, env = "DEVCONNECT_DISABLE_PUSH")]
    pub disable_push: bool,
    /// The VAPID contact push services see: a `mailto:` or `https:` URL of the operator.
    #[arg(long, env = "DEVCONNECT_PUSH_SUBJECT", default_value = DEFAULT_PUSH_SUBJECT)]
    pub push_subject: String,
    /// The VAPID key (PKCS#8, DER) every instance of a deployment shares
    /// [default: `{data_dir}/vapid.pk8`, generated on first use].
    #[arg(long, env = "DEVCONNECT_VAPID_KEY_FILE")]
    pub vapid_key_file: Option<PathBuf>,
    /// Accept `http://` push endpoints on loopback addresses (tests, a local push service).
    #[arg(long, env = "DEVCONNECT_PUSH_ALLOW_LOOPBACK")]
    pub push_allow_loopback: bool,
    /// Milliseconds a notification waits for more of the same conversation (a burst is one).
    #[arg(long, env = "DEVCONNECT_PUSH_COALESCE_MS", default_value_t = 1000)]
    pub push_coalesce_ms: u64,
    /// Password hashes computed at once [default: the number of cores less one, at least 1].
    #[arg(long, env = "DEVCONNECT_HASH_CONCURRENCY")]
    pub hash_concurrency: Option<usize>,
    /// Log filter (tracing `EnvFilter` syntax), e.g. `info` or `devconnect_core=debug,warn`.
    #[arg(long, env = "DEVCONNECT_LOG", default_value = "info")]
    pub log: String,
    /// Serve the Prometheus metrics (`/metrics`) on this address, without a token (bind a
    /// private interface); the REST server serves them on its main address only with
    /// `--metrics-token`, the gRPC server only here.
    #[arg(long, env = "DEVCONNECT_METRICS_ADDR")]
    pub metrics_addr: Option<std::net::SocketAddr>,
    /// How often the engagement gauges are recomputed from the store, in seconds (0 = never).
    #[arg(long, env = "DEVCONNECT_ENGAGEMENT_REFRESH_SECS", default_value_t = 60)]
    pub engagement_refresh_secs: u64,
}

fn parse_public_url(raw: &str) -> Result<String, String> {
    devconnect_core::config::parse_public_url(raw).map_err(|e| e.to_string())
}

/// Parses a media URL. Unlike clap's usual errors, its errors never repeat the value:
/// the URL carries the API secret.
#[derive(Clone, Copy, Debug)]
struct MediaUrlParser;

impl clap::builder::TypedValueParser for MediaUrlParser {
    type Value = MediaConfig;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<MediaConfig, clap::Error> {
        let name = arg.map_or_else(|| "media URL".to_owned(), |a| format!("--{}", a.get_id()));
        let fail = |reason: String| {
            clap::Error::raw(clap::error::ErrorKind::ValueValidation, format!("invalid {name}: {reason}\n"))
                .with_cmd(cmd)
        };
        let text = value.to_str().ok_or_else(|| fail("not UTF-8".to_owned()))?;
        MediaConfig::from_url(text).map_err(|e| fail(e.to_string()))
    }
}

/// Parses a secret flag (`--jwt-secret`, a server's tokens). Like the media URL's
/// parser, its errors never repeat the value, as clap's do ("invalid value '…' for '…'"): a
/// rejected secret is still somebody's secret.
#[derive(Clone, Copy, Debug)]
pub struct SecretParser {
    flag: &'static str,
    min_len: usize,
    visible_ascii: bool,
}

impl SecretParser {
    /// A parser of `flag` accepting secrets of at least `min_len` bytes.
    #[must_use]
    pub const fn new(flag: &'static str, min_len: usize) -> Self {
        Self { flag, min_len, visible_ascii: false }
    }

    /// Also requires visible ASCII characters only (a secret sent in an HTTP header).
    #[must_use]
    pub const fn visible_ascii(self) -> Self {
        Self { visible_ascii: true, ..self }
    }
}

impl clap::builder::TypedValueParser for SecretParser {
    type Value = SecretString;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        _arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<SecretString, clap::Error> {
        let fail = |reason: &str| {
            let message = format!("invalid {}: {reason}\n", self.flag);
            clap::Error::raw(clap::error::ErrorKind::ValueValidation, message).with_cmd(cmd)
        };
        let text = value.to_str().ok_or_else(|| fail("not UTF-8"))?;
        if self.visible_ascii && !text.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(fail("must be visible ASCII characters only (no spaces)"));
        }
        if text.len() < self.min_len {
            return Err(fail(&format!("must be at least {} characters", self.min_len)));
        }
        Ok(SecretString::from(text.to_owned()))
    }
}

impl ServiceArgs {
    /// `--public-url`, else `default` (a server's own address).
    #[must_use]
    pub fn public_url_or(&self, default: &str) -> String {
        self.public_url.clone().unwrap_or_else(|| default.trim_end_matches('/').to_owned())
    }

    /// The defaults, with files under `data_dir`; reads no flags or environment.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            data_dir: data_dir.into(),
            database_url: None,
            public_url: None,
            media_dir: None,
            media_url: None,
            cloudinary_url: None,
            jwt_secret: None,
            token_ttl_secs: 7 * 24 * 60 * 60,
            request_cooldown_days: 30,
            group_member_cap: 1000,
            upload_limit: DEFAULT_UPLOAD_LIMIT,
            message_rate: 120,
            request_rate: 30,
            report_rate: 5,
            edit_rate: 30,
            search_rate: 300,
            login_rate: 10,
            auth_rate_per_addr: 30,
            typing_rate: 120,
            max_sessions_per_user: 32,
            image_decode_budget: DEFAULT_DECODE_BUDGET,
            session_recheck_secs: DEFAULT_SESSION_RECHECK.as_secs(),
            disable_push: false,
            push_subject: DEFAULT_PUSH_SUBJECT.to_owned(),
            vapid_key_file: None,
            push_allow_loopback: false,
            push_coalesce_ms: 1000,
            hash_concurrency: None,
            bus_url: None,
            bus_prefix: DEFAULT_BUS_PREFIX.to_owned(),
            presence_expiry_secs: DEFAULT_PRESENCE_EXPIRY.as_secs(),
            log: "info".to_owned(),
            metrics_addr: None,
            engagement_refresh_secs: 60,
        }
    }

    /// The core configuration these options describe; local media URLs start with
    /// `media_base_url` (the REST server's public URL and the path it serves media
    /// under, see [`ServiceArgs::public_url_or`]).
    #[must_use]
    pub fn config(&self, media_base_url: &str) -> Config {
        let mut settings = Settings {
            token_ttl: Duration::from_secs(self.token_ttl_secs),
            request_cooldown: Duration::from_secs(u64::from(self.request_cooldown_days) * 24 * 60 * 60),
            group_member_cap: self.group_member_cap,
            upload_limit: self.upload_limit,
            message_rate: RateLimit::per_minute(self.message_rate),
            request_rate: RateLimit::per_minute(self.request_rate),
            report_rate: RateLimit::per_minute(self.report_rate),
            edit_rate: RateLimit::per_minute(self.edit_rate),
            search_rate: RateLimit::per_minute(self.search_rate),
            login_rate: RateLimit::per_minute(self.login_rate),
            auth_rate_per_addr: RateLimit::per_minute(self.auth_rate_per_addr),
            typing_rate: RateLimit::per_minute(self.typing_rate),
            max_sessions_per_user: usize::try_from(self.max_sessions_per_user).unwrap_or(usize::MAX),
            image_decode_budget: self.image_decode_budget,
            ..Settings::default()
        };
        if let Some(n) = self.hash_concurrency {
            settings.hash_concurrency = n;
        }
        let mut config = Config::new(&self.data_dir);
        config.database_url.clone_from(&self.database_url);
        config.jwt_secret.clone_from(&self.jwt_secret);
        config.media = self.media_url.clone().or_else(|| self.cloudinary_url.clone()).unwrap_or_else(|| {
            MediaConfig::Local { dir: self.media_dir.clone(), base_url: Some(media_base_url.to_owned()) }
        });
        config.bus = self.bus_url.as_ref().map(|url| BusConfig {
            url: url.clone(),
            prefix: self.bus_prefix.clone(),
            presence_expiry: Duration::from_secs(self.presence_expiry_secs.max(1)),
            session_recheck: Duration::from_secs(self.session_recheck_secs.max(1)),
        });
        config.push = (!self.disable_push).then(|| PushConfig {
            vapid_key_file: self.vapid_key_file.clone(),
            allow_loopback_http: self.push_allow_loopback,
            coalesce: Duration::from_millis(self.push_coalesce_ms),
            ..PushConfig::new(&self.push_subject)
        });
        config.settings = settings;
        config
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        service: ServiceArgs,
    }

    #[test]
    fn flags_map_onto_the_core_config() {
        let cli = Cli::try_parse_from([
            "x",
            "--data-dir",
            "/srv/dc",
            "--message-rate",
            "0",
            "--token-ttl-secs",
            "60",
            "--request-cooldown-days",
            "7",
        ]);
        let Ok(cli) = cli else { return assert!(cli.is_ok()) };
        let config = cli.service.config("/media");
        assert_eq!(config.database_url(), "sqlite:///srv/dc/devconnect.db");
        assert_eq!(config.settings.message_rate, RateLimit::per_minute(0));
        assert_eq!(config.settings.token_ttl, Duration::from_secs(60));
        assert_eq!(config.settings.request_cooldown, Duration::from_secs(7 * 86_400));
        assert_eq!(config.media_dir(), Some(PathBuf::from("/srv/dc/media")));
    }

    #[test]
    fn a_cloudinary_media_url_replaces_local_media_and_keeps_its_secret() {
        let url = "cloudinary://key123:very-secret@demo";
        let cli = Cli::try_parse_from(["x", "--media-url", url]);
        let Ok(cli) = cli else { return assert!(cli.is_ok()) };
        let config = cli.service.config("/media");
        assert!(matches!(config.media, MediaConfig::Cloudinary(_)));
        assert_eq!(config.media_dir(), None);
        assert!(!format!("{cli_debug:?}", cli_debug = cli.service).contains("very-secret"));
        let bad = Cli::try_parse_from(["x", "--media-url", "cloudinary://key123:very-secret"]);
        assert!(bad.as_ref().err().is_some_and(|e| !e.to_string().contains("very-secret")));
    }

    #[test]
    fn public_urls_are_http_bases_without_query() {
        let parsed = Cli::try_parse_from(["x", "--public-url", "https://api.example.com/"]);
        let url = parsed.ok().and_then(|c| c.service.public_url);
        assert_eq!(url.as_deref(), Some("https://api.example.com"));
        for bad in ["api.example.com", "ftp://x", "https://", "https://x/?a=1", "https://x/#f", "https://u@x"] {
            assert!(Cli::try_parse_from(["x", "--public-url", bad]).is_err(), "{bad}");
        }
        let none = ServiceArgs::new("d");
        assert_eq!(none.public_url_or("http://127.0.0.1:3000/"), "http://127.0.0.1:3000");
    }

    #[test]
    fn defaults_match_new_and_short_secrets_are_refused() {
        let parsed = Cli::try_parse_from(["x", "--data-dir", "d"]).map(|c| c.service.config("/m").settings);
        let new = ServiceArgs::new("d").config("/m").settings;
        assert_eq!(
            parsed.as_ref().map(|s| (s.token_ttl, s.upload_limit)).ok(),
            Some((new.token_ttl, new.upload_limit))
        );
        let short = Cli::try_parse_from(["x", "--jwt-secret", "short-but-secret"]).err();
        assert!(short.is_some_and(|e| !e.to_string().contains("short-but-secret")));
    }
}
