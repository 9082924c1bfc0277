//! Command-line flags and `DEVCONNECT_*` environment variables of the gRPC server, in
//! the REST server's style.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use devconnect_server::cli::ServiceArgs;

/// Default bind address.
pub const DEFAULT_BIND: &str = "127.0.0.1:50051";
/// URL prefix of local media URLs in replies: the REST server serves the media directory there.
pub const MEDIA_PREFIX: &str = "/media";
/// Where the REST server, which serves the images, listens by default: image URLs start
/// with it unless `--public-url` says otherwise.
pub const DEFAULT_REST_URL: &str = "http://127.0.0.1:3000";
/// Room on top of the upload limit for the rest of a request (text, ids, framing).
const REQUEST_OVERHEAD: usize = 64 * 1024;
/// Default largest encoded response: a full sync page of long messages fits.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 16 * 1024 * 1024;
/// Default deadline of a call, in seconds.
pub const DEFAULT_REQUEST_TIMEOUT_SECS: u64 = 30;
/// Default time a connection may go without a call in flight, in seconds.
pub const DEFAULT_HEADER_TIMEOUT_SECS: u64 = 10;
/// Default calls in flight at once on one connection: far more than a client needs
/// (one `Subscribe` and a few unary calls), few enough that one connection cannot
/// start thousands of calls.
pub const DEFAULT_MAX_CONCURRENT_STREAMS: u32 = 100;

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
    /// Longest time a call may take until its response starts, in seconds (the client's
    /// `grpc-timeout` if shorter): a unary call as a whole; a `Subscribe` stream only
    /// until it starts, then it lasts. Over it: `DEADLINE_EXCEEDED`, code `timeout`.
    #[arg(long, env = "DEVCONNECT_GRPC_REQUEST_TIMEOUT_SECS", default_value_t = DEFAULT_REQUEST_TIMEOUT_SECS)]
    pub request_timeout_secs: u64,
    /// How long a connection may go without a call in flight, in seconds: to send the
    /// HTTP/2 preface and its first call, and between calls. Idle connections are then
    /// closed (GOAWAY).
    #[arg(long, env = "DEVCONNECT_GRPC_HEADER_TIMEOUT_SECS", default_value_t = DEFAULT_HEADER_TIMEOUT_SECS)]
    pub header_timeout_secs: u64,
    /// Calls in flight at once on one connection (HTTP/2 `MAX_CONCURRENT_STREAMS`).
    #[arg(long, env = "DEVCONNECT_GRPC_MAX_CONCURRENT_STREAMS", default_value_t = DEFAULT_MAX_CONCURRENT_STREAMS)]
    pub max_concurrent_streams: u32,
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
            request_timeout_secs: DEFAULT_REQUEST_TIMEOUT_SECS,
            header_timeout_secs: DEFAULT_HEADER_TIMEOUT_SECS,
            max_concurrent_streams: DEFAULT_MAX_CONCURRENT_STREAMS,
            service: ServiceArgs::new(data_dir),
        }
    }

    /// The core's configuration.
    #[must_use]
    pub fn core(&self) -> devconnect_core::Config {
        let public = self.service.public_url_or(DEFAULT_REST_URL);
        self.service.config(&format!("{public}{MEDIA_PREFIX}"))
    }

    /// The limits in effect. Zero timeouts count as one second and zero streams as one:
    /// none of them can be switched off.
    #[must_use]
    pub fn limits(&self) -> Limits {
        Limits {
            max_request_bytes: self
                .max_request_bytes
                .unwrap_or(self.service.upload_limit.saturating_add(REQUEST_OVERHEAD)),
            max_response_bytes: self.max_response_bytes,
            request_timeout: Duration::from_secs(self.request_timeout_secs.max(1)),
            header_timeout: Duration::from_secs(self.header_timeout_secs.max(1)),
            max_concurrent_streams: self.max_concurrent_streams.max(1),
        }
    }
}

/// Limits of the gRPC server: message sizes (a larger request is refused before it is
/// decoded), call deadlines, idle connections and calls per connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest request message, in bytes.
    pub max_request_bytes: usize,
    /// Largest response message, in bytes.
    pub max_response_bytes: usize,
    /// Deadline of a call until its response starts (see [`Config::request_timeout_secs`]).
    pub request_timeout: Duration,
    /// How long a connection may go without a call in flight.
    pub header_timeout: Duration,
    /// Calls in flight at once on one connection.
    pub max_concurrent_streams: u32,
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
    fn timeouts_and_stream_caps_have_flags_and_cannot_be_switched_off() {
        let defaults = Config::new("d").limits();
        assert_eq!(defaults.request_timeout, Duration::from_secs(30));
        assert_eq!(defaults.header_timeout, Duration::from_secs(10));
        assert_eq!(defaults.max_concurrent_streams, 100);
        let config = Config::try_parse_from([
            "devconnect-grpc",
            "--request-timeout-secs",
            "5",
            "--header-timeout-secs",
            "0",
            "--max-concurrent-streams",
            "8",
        ]);
        let limits = config.map(|c| c.limits()).ok();
        assert_eq!(limits.map(|l| l.request_timeout), Some(Duration::from_secs(5)));
        assert_eq!(limits.map(|l| l.header_timeout), Some(Duration::from_secs(1)));
        assert_eq!(limits.map(|l| l.max_concurrent_streams), Some(8));
        assert!(Config::try_parse_from(["devconnect-grpc", "--request-timeout-secs", "soon"]).is_err());
    }

    #[test]
    fn short_jwt_secrets_are_refused() {
        assert!(Config::try_parse_from(["devconnect-grpc", "--jwt-secret", "short"]).is_err());
        assert_eq!(Config::new("d").bind.to_string(), DEFAULT_BIND);
    }
}
