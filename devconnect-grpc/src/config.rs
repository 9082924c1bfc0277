//! Command-line flags and `DEVCONNECT_*` environment variables of the gRPC server, in
//! the REST server's style.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use devconnect_core::{MediaConfig, RateLimit, Settings};
use secrecy::SecretString;

/// Default bind address.
pub const DEFAULT_BIND: &str = "127.0.0.1:50051";
/// URL prefix of media URLs in replies: the REST server serves the media directory there.
pub const DEFAULT_MEDIA_URL: &str = "/media";
/// Room on top of the upload limit for the rest of a request (text, ids, framing).
const REQUEST_OVERHEAD: usize = 64 * 1024;
/// Default largest encoded response: a full sync page of long messages fits.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 16 * 1024 * 1024;

/// How to run the DevConnect gRPC server. Every flag can also be given as the
/// environment variable named beside it.
#[derive(Clone, Debug, clap::Parser)]
#[command(name = "devconnect-grpc", version, about = "DevConnect gRPC server", long_about = None)]
#[non_exhaustive]
pub struct Config {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, env = "DEVCONNECT_GRPC_BIND", default_value = DEFAULT_BIND)]
    pub bind: SocketAddr,
    /// Directory for the default database, media and the generated JWT secret.
    #[arg(long, env = "DEVCONNECT_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// Database URL: `sqlite://PATH` or `sqlite::memory:` [default: sqlite://DATA_DIR/devconnect.db].
    #[arg(long, env = "DEVCONNECT_DATABASE_URL")]
    pub database_url: Option<String>,
    /// Directory for uploaded images [default: DATA_DIR/media].
    #[arg(long, env = "DEVCONNECT_MEDIA_DIR")]
    pub media_dir: Option<PathBuf>,
    /// URL prefix of image URLs in replies (where the REST server serves the media directory).
    #[arg(long, env = "DEVCONNECT_MEDIA_URL", default_value = DEFAULT_MEDIA_URL)]
    pub media_url: String,
    /// JWT signing secret, at least 32 bytes [default: generated once into DATA_DIR/jwt-secret].
    #[arg(long, env = "DEVCONNECT_JWT_SECRET", hide_env_values = true, value_parser = parse_secret)]
    pub jwt_secret: Option<SecretString>,
    /// Lifetime of issued tokens, in seconds.
    #[arg(long, env = "DEVCONNECT_TOKEN_TTL_SECS", default_value_t = 7 * 24 * 60 * 60)]
    pub token_ttl_secs: u64,
    /// Largest accepted image upload, in bytes.
    #[arg(long, env = "DEVCONNECT_UPLOAD_LIMIT", default_value_t = devconnect_core::media::DEFAULT_UPLOAD_LIMIT)]
    pub upload_limit: usize,
    /// Largest accepted gRPC request message, in bytes [default: upload limit + 64 KiB].
    #[arg(long, env = "DEVCONNECT_GRPC_MAX_REQUEST_BYTES")]
    pub max_request_bytes: Option<usize>,
    /// Largest gRPC response message, in bytes.
    #[arg(long, env = "DEVCONNECT_GRPC_MAX_RESPONSE_BYTES", default_value_t = DEFAULT_MAX_RESPONSE_BYTES)]
    pub max_response_bytes: usize,
    /// Chat messages one user may send per minute (0 = no limit).
    #[arg(long, env = "DEVCONNECT_MESSAGE_RATE", default_value_t = 120)]
    pub message_rate: u32,
    /// Connection requests one user may send per minute (0 = no limit).
    #[arg(long, env = "DEVCONNECT_REQUEST_RATE", default_value_t = 30)]
    pub request_rate: u32,
    /// Password hashes computed at once [default: the number of cores].
    #[arg(long, env = "DEVCONNECT_HASH_CONCURRENCY")]
    pub hash_concurrency: Option<usize>,
    /// Log filter (tracing `EnvFilter` syntax), e.g. `info` or `devconnect_grpc=debug,warn`.
    #[arg(long, env = "DEVCONNECT_LOG", default_value = "info")]
    pub log: String,
}

fn parse_secret(s: &str) -> Result<SecretString, String> {
    if s.len() < devconnect_core::config::MIN_JWT_SECRET_BYTES {
        return Err(format!("must be at least {} bytes", devconnect_core::config::MIN_JWT_SECRET_BYTES));
    }
    Ok(SecretString::from(s.to_owned()))
}

impl Config {
    /// The defaults, with files under `data_dir`. Reads no flags or environment.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 50051)),
            data_dir: data_dir.into(),
            database_url: None,
            media_dir: None,
            media_url: DEFAULT_MEDIA_URL.to_owned(),
            jwt_secret: None,
            token_ttl_secs: 7 * 24 * 60 * 60,
            upload_limit: devconnect_core::media::DEFAULT_UPLOAD_LIMIT,
            max_request_bytes: None,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            message_rate: 120,
            request_rate: 30,
            hash_concurrency: None,
            log: "info".to_owned(),
        }
    }

    /// The core's configuration.
    #[must_use]
    pub fn core(&self) -> devconnect_core::Config {
        let mut settings = Settings {
            token_ttl: Duration::from_secs(self.token_ttl_secs),
            upload_limit: self.upload_limit,
            message_rate: RateLimit::per_minute(self.message_rate),
            request_rate: RateLimit::per_minute(self.request_rate),
            ..Settings::default()
        };
        if let Some(n) = self.hash_concurrency {
            settings.hash_concurrency = n;
        }
        let mut core = devconnect_core::Config::new(&self.data_dir);
        core.database_url.clone_from(&self.database_url);
        core.jwt_secret.clone_from(&self.jwt_secret);
        core.media = MediaConfig::Local { dir: self.media_dir.clone(), base_url: self.media_url.clone() };
        core.settings = settings;
        core
    }

    /// The message size limits in effect.
    #[must_use]
    pub fn limits(&self) -> Limits {
        Limits {
            max_request_bytes: self.max_request_bytes.unwrap_or(self.upload_limit.saturating_add(REQUEST_OVERHEAD)),
            max_response_bytes: self.max_response_bytes,
        }
    }
}

/// gRPC message size limits. A larger request is refused with `RESOURCE_EXHAUSTED`
/// before it is decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest request message, in bytes.
    pub max_request_bytes: usize,
    /// Largest response message, in bytes.
    pub max_response_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Config::new("./data").limits()
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser as _;

    use super::*;

    #[test]
    fn flags_override_defaults_and_feed_the_core_config() {
        let config = Config::try_parse_from([
            "devconnect-grpc",
            "--bind",
            "127.0.0.1:0",
            "--data-dir",
            "/tmp/x",
            "--token-ttl-secs",
            "60",
            "--upload-limit",
            "1000",
        ]);
        let Ok(config) = config else { return assert!(config.is_ok()) };
        assert_eq!(config.bind.port(), 0);
        assert_eq!(config.limits().max_request_bytes, 1000 + REQUEST_OVERHEAD);
        let core = config.core();
        assert_eq!(core.settings.token_ttl, Duration::from_secs(60));
        assert_eq!(core.database_url(), "sqlite:///tmp/x/devconnect.db");
    }

    #[test]
    fn short_jwt_secrets_are_refused() {
        assert!(Config::try_parse_from(["devconnect-grpc", "--jwt-secret", "short"]).is_err());
        assert_eq!(Config::new("d").bind.to_string(), DEFAULT_BIND);
    }
}
