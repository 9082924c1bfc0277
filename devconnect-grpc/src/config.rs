//! Command-line flags and `DEVCONNECT_*` environment variables of the gRPC server, in
//! the REST server's style.

use std::net::SocketAddr;
use std::path::PathBuf;

use devconnect_core::cli::ServiceArgs;

/// Default bind address.
pub const DEFAULT_BIND: &str = "127.0.0.1:50051";
/// URL prefix of local media URLs in replies: the REST server serves the media directory there.
pub const MEDIA_PREFIX: &str = "/media";
/// Room on top of the upload limit for the rest of a request (text, ids, framing).
const REQUEST_OVERHEAD: usize = 64 * 1024;
/// Default largest encoded response: a full sync page of long messages fits.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 16 * 1024 * 1024;

/// How to run the DevConnect gRPC server. Every flag can also be given as the
/// environment variable named beside it; the service options are the ones every
/// DevConnect server shares ([`ServiceArgs`]).
#[derive(Clone, Debug, clap::Parser)]
#[command(name = "devconnect-grpc", version, about = "DevConnect gRPC server", long_about = None)]
#[non_exhaustive]
pub struct Config {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, env = "DEVCONNECT_GRPC_BIND", default_value = DEFAULT_BIND)]
    pub bind: SocketAddr,
    /// Largest accepted gRPC request message, in bytes [default: upload limit + 64 KiB].
    #[arg(long, env = "DEVCONNECT_GRPC_MAX_REQUEST_BYTES")]
    pub max_request_bytes: Option<usize>,
    /// Largest gRPC response message, in bytes.
    #[arg(long, env = "DEVCONNECT_GRPC_MAX_RESPONSE_BYTES", default_value_t = DEFAULT_MAX_RESPONSE_BYTES)]
    pub max_response_bytes: usize,
    /// The core service's options (data, database, media, secret, limits, log).
    #[command(flatten)]
    pub service: ServiceArgs,
}

impl Config {
    /// The defaults, with files under `data_dir`. Reads no flags or environment.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 50051)),
            max_request_bytes: None,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            service: ServiceArgs::new(data_dir),
        }
    }

    /// The core's configuration.
    #[must_use]
    pub fn core(&self) -> devconnect_core::Config {
        self.service.config(MEDIA_PREFIX)
    }

    /// The message size limits in effect.
    #[must_use]
    pub fn limits(&self) -> Limits {
        Limits {
            max_request_bytes: self
                .max_request_bytes
                .unwrap_or(self.service.upload_limit.saturating_add(REQUEST_OVERHEAD)),
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
        assert_eq!(core.settings.token_ttl, std::time::Duration::from_secs(60));
        assert_eq!(core.database_url(), "sqlite:///tmp/x/devconnect.db");
    }

    #[test]
    fn short_jwt_secrets_are_refused() {
        assert!(Config::try_parse_from(["devconnect-grpc", "--jwt-secret", "short"]).is_err());
        assert_eq!(Config::new("d").bind.to_string(), DEFAULT_BIND);
    }
}
