//! A lean Socket.IO v4-compatible realtime server over the DevConnect core, and (feature
//! `client`) a Rust client for it.
//!
//! Only what the DevConnect clients need is spoken: Engine.IO v4 over the WebSocket
//! transport (no long-polling, no binary attachments), the main namespace, events with
//! acknowledgements. Each socket is one task owning a `tokio-tungstenite` stream with
//! small buffers, so an idle socket costs a few KB of server memory.
//!
//! - [`SocketIo`]: the endpoint; a frontend's hyper accept loop hands it every request
//!   whose path starts with `/socket.io/` (serve connections `with_upgrades()`).
//! - [`protocol`]: the packet encoding.
//! - [`ErrorAck`]: how core errors reach the client.
//! - `client` (feature): [`client::connect`], used by the terminal client and tests.
//!
//! Wire events (see API.md "Realtime"): server → client `getOnlineUsers`, `newMessage`,
//! `connectionRequest`, `connectionAccepted`, `typing`, `messagesRead`, and
//! `sessionEnded` `{code, message}` just before the server disconnects a socket whose
//! token was logged out (`token_revoked`), expired (`token_expired`), or which fell
//! behind (`lagged`). Client → server: `typing` `{to, typing}`, `sendMessage`
//! `{to, text, clientMsgId?}` (acknowledged with the stored message or an [`ErrorAck`]).

#[cfg(feature = "client")]
pub mod client;
mod error;
pub mod protocol;
mod socket;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use devconnect_core::DevConnect;
use http::header::{
    CONNECTION, CONTENT_TYPE, ORIGIN, SEC_WEBSOCKET_ACCEPT, SEC_WEBSOCKET_KEY, SEC_WEBSOCKET_VERSION, UPGRADE,
};
use http::{HeaderValue, Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use tokio_util::sync::CancellationToken;

/// Gauge (`metrics` facade): Socket.IO sockets open in this process, across servers.
pub const SOCKETS_METRIC: &str = "devconnect_sockets";

pub use error::ErrorAck;

/// The path prefix of the endpoint.
pub const PATH: &str = "/socket.io/";

/// Tunables of the endpoint.
#[derive(Clone, Debug)]
pub struct SocketIoConfig {
    /// Browser origins allowed to open a socket (`*` allows any). A handshake without an
    /// `Origin` header (CLIs, servers) is always allowed. Default `http://localhost:5173`.
    pub allowed_origins: Vec<String>,
    /// How often the server pings. Default 25 s (Socket.IO's default).
    pub ping_interval: Duration,
    /// How long a pong (or a blocked write) may take before the socket is closed.
    /// Default 20 s.
    pub ping_timeout: Duration,
    /// Largest accepted frame in bytes. Default 64 KiB.
    pub max_payload: usize,
    /// How long a client has after the WebSocket opens to join with a valid CONNECT.
    /// Default 10 s.
    pub connect_timeout: Duration,
    /// The WebSocket read buffer per socket, in bytes (memory per idle socket). Default
    /// 256: pongs, `typing` and most messages fit; a larger frame grows it as needed.
    pub read_buffer_size: usize,
}

impl Default for SocketIoConfig {
    fn default() -> Self {
        Self {
            allowed_origins: vec!["http://localhost:5173".to_owned()],
            ping_interval: Duration::from_secs(25),
            ping_timeout: Duration::from_secs(20),
            max_payload: 64 * 1024,
            connect_timeout: Duration::from_secs(10),
            read_buffer_size: 256,
        }
    }
}

/// The Socket.IO endpoint. Cheap to clone.
#[derive(Clone)]
pub struct SocketIo {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) app: DevConnect,
    pub(crate) config: SocketIoConfig,
    pub(crate) sockets: AtomicUsize,
    pub(crate) shutdown: CancellationToken,
}

impl std::fmt::Debug for SocketIo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SocketIo").field("sockets", &self.socket_count()).finish_non_exhaustive()
    }
}

impl SocketIo {
    /// An endpoint serving realtime events of `app`.
    #[must_use]
    pub fn new(app: DevConnect, config: SocketIoConfig) -> Self {
        let shutdown = CancellationToken::new();
        Self { inner: Arc::new(Inner { app, config, sockets: AtomicUsize::new(0), shutdown }) }
    }

    /// Serves a request whose path starts with `/socket.io/`: the WebSocket upgrade
    /// (`?EIO=4&transport=websocket`). Long-polling gets a clear 400, since only the
    /// WebSocket transport is supported; a browser `Origin` outside the allow-list, 403.
    /// The caller's hyper connection must be served `with_upgrades()`.
    pub async fn handle(&self, req: Request<Incoming>) -> Response<Full<Bytes>> {
        match self.check(&req) {
            Ok(accept) => {
                let token = query_param(req.uri().query(), "token");
                let inner = Arc::clone(&self.inner);
                let upgrade = hyper::upgrade::on(req);
                tokio::spawn(async move {
                    match upgrade.await {
                        // Awaited in place: a `let` binding first would make the task
                        // hold the socket's state twice.
                        Ok(upgraded) => socket::run(inner, upgraded, token).await,
                        Err(err) => tracing::debug!(%err, "websocket upgrade failed"),
                    }
                });
                let mut res = Response::new(Full::new(Bytes::new()));
                *res.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
                let headers = res.headers_mut();
                headers.insert(UPGRADE, HeaderValue::from_static("websocket"));
                headers.insert(CONNECTION, HeaderValue::from_static("Upgrade"));
                headers.insert(SEC_WEBSOCKET_ACCEPT, accept);
                res
            }
            Err(refusal) => refusal.into_response(),
        }
    }

    /// Validates the handshake request; returns the `Sec-WebSocket-Accept` value.
    fn check(&self, req: &Request<Incoming>) -> Result<HeaderValue, Refusal> {
        if self.inner.shutdown.is_cancelled() {
            return Err(Refusal::ShuttingDown);
        }
        if !req.uri().path().starts_with(PATH) {
            return Err(Refusal::NotFound);
        }
        let query = req.uri().query();
        if query_param(query, "EIO").as_deref() != Some(protocol::ENGINE_IO_VERSION) {
            return Err(Refusal::Version);
        }
        if query_param(query, "transport").as_deref() != Some("websocket") {
            return Err(Refusal::Transport);
        }
        if query_param(query, "sid").is_some() {
            return Err(Refusal::BadRequest("session ids are not supported: connect over websocket directly"));
        }
        if let Some(origin) = req.headers().get(ORIGIN) {
            let allowed = origin
                .to_str()
                .is_ok_and(|o| self.inner.config.allowed_origins.iter().any(|a| a == "*" || a.eq_ignore_ascii_case(o)));
            if !allowed {
                return Err(Refusal::Origin);
            }
        }
        let has_token = |name, token: &str| {
            req.headers()
                .get_all(name)
                .iter()
                .any(|v| v.to_str().is_ok_and(|v| v.split(',').any(|part| part.trim().eq_ignore_ascii_case(token))))
        };
        if req.method() != http::Method::GET || !has_token(UPGRADE, "websocket") || !has_token(CONNECTION, "upgrade") {
            return Err(Refusal::BadRequest("expected a websocket upgrade"));
        }
        if req.headers().get(SEC_WEBSOCKET_VERSION).map(HeaderValue::as_bytes) != Some(b"13") {
            return Err(Refusal::BadRequest("unsupported websocket version"));
        }
        let key = req.headers().get(SEC_WEBSOCKET_KEY).ok_or(Refusal::BadRequest("missing Sec-WebSocket-Key"))?;
        let accept = tokio_tungstenite::tungstenite::handshake::derive_accept_key(key.as_bytes());
        HeaderValue::from_str(&accept).map_err(|_| Refusal::BadRequest("bad Sec-WebSocket-Key"))
    }

    /// Closes every open socket cleanly (graceful shutdown) and refuses new ones. Clients
    /// see a transport close and may reconnect to the next server.
    pub fn close_all(&self) {
        self.inner.shutdown.cancel();
    }

    /// Number of open sockets.
    #[must_use]
    pub fn socket_count(&self) -> usize {
        self.inner.sockets.load(Ordering::Relaxed)
    }
}

/// Why a handshake request is refused, with the Engine.IO error codes Node's server uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    NotFound,
    Transport,
    Version,
    BadRequest(&'static str),
    Origin,
    ShuttingDown,
}

impl Refusal {
    fn into_response(self) -> Response<Full<Bytes>> {
        let (status, code, message) = match self {
            Self::NotFound => (StatusCode::NOT_FOUND, 3, "not a socket.io path"),
            Self::Transport => {
                (StatusCode::BAD_REQUEST, 0, "Transport unknown: only the websocket transport is supported")
            }
            Self::Version => (StatusCode::BAD_REQUEST, 5, "Unsupported protocol version: EIO=4 is required"),
            Self::BadRequest(message) => (StatusCode::BAD_REQUEST, 3, message),
            Self::Origin => (StatusCode::FORBIDDEN, 4, "Forbidden: origin not allowed"),
            Self::ShuttingDown => (StatusCode::SERVICE_UNAVAILABLE, 4, "the server is shutting down"),
        };
        let body = serde_json::json!({ "code": code, "message": message }).to_string();
        let mut res = Response::new(Full::new(Bytes::from(body)));
        *res.status_mut() = status;
        res.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        res
    }
}

/// The percent-decoded value of `name` in a query string.
fn query_param(query: Option<&str>, name: &str) -> Option<String> {
    query?.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        (key == name).then(|| percent_decode(value))
    })
}

fn percent_decode(raw: &str) -> String {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(u8::try_from(h * 16 + l).unwrap_or(b'?'));
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_params_are_found_and_percent_decoded() {
        let q = Some("EIO=4&transport=websocket&token=a.b%2Dc&x");
        assert_eq!(query_param(q, "EIO").as_deref(), Some("4"));
        assert_eq!(query_param(q, "token").as_deref(), Some("a.b-c"));
        assert_eq!(query_param(q, "x").as_deref(), Some(""));
        assert_eq!(query_param(q, "sid"), None);
        assert_eq!(query_param(None, "EIO"), None);
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
        assert_eq!(percent_decode("a+b%20c%"), "a b c%");
    }

    #[test]
    fn refusals_are_json_with_engine_io_codes() {
        let res = Refusal::Transport.into_response();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
        assert_eq!(res.headers().get(CONTENT_TYPE).map(HeaderValue::as_bytes), Some(&b"application/json"[..]));
        assert_eq!(Refusal::Origin.into_response().status(), StatusCode::FORBIDDEN);
    }
}
