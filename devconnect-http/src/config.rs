//! Command-line flags and `DEVCONNECT_*` environment variables of the server.

use std::net::SocketAddr;
use std::path::PathBuf;

use devconnect_server::cli::SecretParser;
pub use devconnect_server::cli::ServiceArgs;
use secrecy::SecretString;

/// Default bind address.
pub const DEFAULT_BIND: &str = "127.0.0.1:3000";
/// Default allowed CORS origin: the original web frontend's dev server.
pub const DEFAULT_CORS_ORIGIN: &str = "http://localhost:5173";
/// Default limit of a non-upload (JSON) request body.
pub const DEFAULT_BODY_LIMIT: usize = 64 * 1024;
/// Shortest accepted `--metrics-token`: it is checked on every scrape without a rate
/// limit, so it must not be guessable.
pub const MIN_METRICS_TOKEN_CHARS: usize = 16;

/// How to run the DevConnect HTTP server: the options every DevConnect server shares
/// ([`ServiceArgs`]: data directory, database, media, secret, token lifetime, upload
/// limit, per-user rates, log filter) plus the HTTP ones. Every flag can also be given as
/// the environment variable named beside it.
#[derive(Clone, Debug, clap::Parser)]
#[command(name = "devconnect-http", version, about = "DevConnect REST + Socket.IO server", long_about = None)]
#[non_exhaustive]
pub struct Config {
    /// What to do instead of serving (none: serve).
    #[command(subcommand)]
    pub command: Option<Command>,
    /// The service options shared with the other server binaries.
    #[command(flatten)]
    pub service: ServiceArgs,
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, env = "DEVCONNECT_BIND", default_value = DEFAULT_BIND)]
    pub bind: SocketAddr,
    /// Allowed browser origins (CORS and the Socket.IO handshake), comma-separated; `*` allows any.
    #[arg(long, env = "DEVCONNECT_CORS_ORIGINS", value_delimiter = ',', default_value = DEFAULT_CORS_ORIGIN)]
    pub cors_origins: Vec<String>,
    /// Largest accepted JSON request body, in bytes.
    #[arg(long, env = "DEVCONNECT_BODY_LIMIT", default_value_t = DEFAULT_BODY_LIMIT)]
    pub body_limit: usize,
    /// Longest time one REST request may take, in seconds (reading its body included).
    #[arg(long, env = "DEVCONNECT_REQUEST_TIMEOUT_SECS", default_value_t = 30)]
    pub request_timeout_secs: u64,
    /// How long a connection may go without a request in flight, in seconds: to send its
    /// first complete request head, and between requests (HTTP/1 and HTTP/2 alike).
    /// Idle connections are then closed.
    #[arg(long, env = "DEVCONNECT_HEADER_TIMEOUT_SECS", default_value_t = 10)]
    pub header_timeout_secs: u64,
    /// On shutdown, how long in-flight requests may take to finish, in seconds.
    #[arg(long, env = "DEVCONNECT_SHUTDOWN_TIMEOUT_SECS", default_value_t = 10)]
    pub shutdown_timeout_secs: u64,
    /// Socket.IO ping interval, in milliseconds.
    #[arg(long, env = "DEVCONNECT_PING_INTERVAL_MS", default_value_t = 25_000)]
    pub ping_interval_ms: u64,
    /// Socket.IO ping timeout, in milliseconds.
    #[arg(long, env = "DEVCONNECT_PING_TIMEOUT_MS", default_value_t = 20_000)]
    pub ping_timeout_ms: u64,
    /// Largest Socket.IO packet accepted from a client, in bytes.
    #[arg(long, env = "DEVCONNECT_SOCKET_MAX_PAYLOAD", default_value_t = 64 * 1024)]
    pub socket_max_payload: usize,
    /// Serve `/metrics` on the main address to scrapers sending `Authorization: Bearer
    /// TOKEN` (at least 16 visible ASCII characters) [default: none, `/metrics` is not
    /// served on the main address; `--metrics-addr` serves it without a token].
    #[arg(long, env = "DEVCONNECT_METRICS_TOKEN", hide_env_values = true, value_parser = SecretParser::new("--metrics-token", MIN_METRICS_TOKEN_CHARS).visible_ascii())]
    pub metrics_token: Option<SecretString>,
}

/// Subcommands of the server binary.
#[derive(Clone, Debug, clap::Subcommand)]
#[non_exhaustive]
pub enum Command {
    /// Print engagement analytics per UTC day (counts only) from the database, then exit.
    Stats(crate::stats::StatsArgs),
    /// Moderation: reports, suspensions and the audit log, on the configured store.
    Admin(crate::admin::AdminArgs),
}

impl Config {
    /// The defaults, with files under `data_dir`. Reads no flags or environment.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            command: None,
            service: ServiceArgs::new(data_dir),
            bind: DEFAULT_BIND.parse().unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 3000))),
            cors_origins: vec![DEFAULT_CORS_ORIGIN.to_owned()],
            body_limit: DEFAULT_BODY_LIMIT,
            request_timeout_secs: 30,
            header_timeout_secs: 10,
            shutdown_timeout_secs: 10,
            ping_interval_ms: 25_000,
            ping_timeout_ms: 20_000,
            socket_max_payload: 64 * 1024,
            metrics_token: None,
        }
    }

    /// The core's configuration for a server at its `--bind` address (see
    /// [`Config::core_at`]).
    #[must_use]
    pub fn core(&self) -> devconnect_core::Config {
        self.core_at(self.bind)
    }

    /// The core's configuration for a server bound at `addr`: image URLs are
    /// `--public-url` (default `http://ADDR`), [`crate::MEDIA_PREFIX`], and the name.
    #[must_use]
    pub fn core_at(&self, addr: SocketAddr) -> devconnect_core::Config {
        let public = self.service.public_url_or(&format!("http://{addr}"));
        self.service.config(&format!("{public}{}", crate::MEDIA_PREFIX))
    }

    /// The largest body the server reads for any request: an upload plus room for the
    /// multipart framing and text fields around it.
    #[must_use]
    pub fn max_body(&self) -> usize {
        self.service.upload_limit.saturating_add(self.body_limit)
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser as _;

    use super::*;

    #[test]
    fn flags_parse_with_their_documented_names() {
        let config = Config::try_parse_from([
            "devconnect-http",
            "--bind",
            "0.0.0.0:8080",
            "--data-dir",
            "/tmp/x",
            "--cors-origins",
            "http://a.test,https://b.test",
            "--upload-limit",
            "1024",
            "--message-rate",
            "0",
            "--request-rate",
            "5",
            "--log",
            "debug",
        ]);
        let config = config.ok();
        assert_eq!(config.as_ref().map(|c| c.bind.port()), Some(8080));
        assert_eq!(config.as_ref().map(|c| c.cors_origins.len()), Some(2));
        assert_eq!(config.as_ref().map(|c| c.core().settings.message_rate.per_minute), Some(None));
        assert_eq!(config.as_ref().map(|c| c.core().media_dir()), Some(Some(PathBuf::from("/tmp/x/media"))));
    }

    #[test]
    fn short_jwt_secrets_are_refused_at_parse_time() {
        assert!(Config::try_parse_from(["devconnect-http", "--jwt-secret", "short"]).is_err());
    }

    #[test]
    fn metrics_tokens_parse_stay_secret_and_short_ones_are_refused() {
        let token = "0123456789abcdef-very-secret";
        let config = Config::try_parse_from(["devconnect-http", "--metrics-token", token]);
        let config = config.ok();
        assert!(config.as_ref().is_some_and(|c| c.metrics_token.is_some()));
        assert!(!format!("{config:?}").contains("very-secret"));
        for bad in ["short", "", "has spaces in the middle of it"] {
            let refused = Config::try_parse_from(["devconnect-http", "--metrics-token", bad]).err();
            assert!(refused.is_some(), "{bad:?}");
            assert!(refused.is_some_and(|e| bad.is_empty() || !e.to_string().contains(bad)), "{bad:?}");
        }
        assert!(Config::new("d").metrics_token.is_none());
    }

    #[test]
    fn new_matches_the_flag_defaults() {
        let parsed = Config::try_parse_from(["devconnect-http", "--data-dir", "d"]).ok();
        let new = Config::new("d");
        assert_eq!(parsed.as_ref().map(|c| c.bind), Some(new.bind));
        assert_eq!(parsed.as_ref().map(|c| c.cors_origins.clone()), Some(new.cors_origins.clone()));
        assert_eq!(parsed.as_ref().map(|c| c.service.upload_limit), Some(new.service.upload_limit));
        assert_eq!(parsed.as_ref().map(|c| c.service.auth_rate_per_addr), Some(new.service.auth_rate_per_addr));
        assert_eq!(parsed.as_ref().map(|c| c.body_limit), Some(new.body_limit));
    }
}
