//! A lean Socket.IO v4-compatible realtime server over the DevConnect core.
//!
//! Only what the DevConnect clients need is spoken: Engine.IO v4 over WebSocket and over
//! HTTP long-polling with the upgrade to WebSocket (what the stock `socket.io-client`
//! does by default), no binary attachments, the main namespace, events with
//! acknowledgements. Each socket is one task, whatever its transport: it owns a
//! WebSocket of its own making (`socket::ws`: no buffer held between frames, so an idle
//! WebSocket socket costs about 2 KB of server memory), or a long-polling session
//! (`polling`) that the session's HTTP requests reach through a `sid` map, until the
//! client upgrades it to a WebSocket.
//! Long-polling sessions live in one process: behind several instances, a load balancer
//! must send each session's requests to one instance (sticky sessions; see the README).
//!
//! - [`SocketIo`]: the endpoint; a frontend's hyper accept loop hands it every request
//!   whose path starts with `/socket.io/` (serve connections `with_upgrades()`).
//! - [`protocol`]: the packet encoding.
//! - [`ErrorAck`]: how core errors reach the client.
//! - The Rust client of this endpoint is `devconnect_client::realtime` (no server inside).
//!
//! Wire events (see API.md "Realtime"): server → client `getOnlineUsers`, `newMessage`,
//! `connectionRequest`, `connectionAccepted`, `typing`, `messagesRead`, and
//! `sessionEnded` `{code, message}` just before the server disconnects a socket whose
//! token was logged out (`token_revoked`), expired (`token_expired`), or which fell
//! behind (`lagged`). Client → server: `typing` `{to, typing}`, `sendMessage`
//! `{to, text, clientMsgId?}` (acknowledged with the stored message or an [`ErrorAck`]).

mod error;
mod polling;
/// The wire format, shared with the client (`devconnect-types`).
pub use devconnect_types::socketio as protocol;
mod socket;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use devconnect_core::DevConnect;
use http::header::{
    ACCESS_CONTROL_ALLOW_CREDENTIALS, ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS,
    ACCESS_CONTROL_ALLOW_ORIGIN, ACCESS_CONTROL_MAX_AGE, ACCESS_CONTROL_REQUEST_HEADERS, CACHE_CONTROL, CONNECTION,
    CONTENT_LENGTH, CONTENT_TYPE, ORIGIN, SEC_WEBSOCKET_ACCEPT, SEC_WEBSOCKET_KEY, SEC_WEBSOCKET_VERSION, UPGRADE,
    VARY,
};
use http::{HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt as _, Full, LengthLimitError, Limited};
use hyper::body::Incoming;
use tokio_util::sync::CancellationToken;

use crate::polling::{PollError, PollSession};

/// Gauge (`metrics` facade): Socket.IO sockets open in this process, across servers.
pub const SOCKETS_METRIC: &str = "devconnect_sockets";

pub use error::{ErrorAck, error_ack};

/// The path prefix of the endpoint.
pub use protocol::PATH;

/// Tunables of the endpoint.
#[derive(Clone, Debug)]
pub struct SocketIoConfig {
    /// Browser origins allowed to open a socket (`*` allows any); they also get CORS
    /// headers with credentials on long-polling requests. A request without an `Origin`
    /// header (CLIs, servers) is always allowed. Default `http://localhost:5173`.
    pub allowed_origins: Vec<String>,
    /// How often the server pings. Default 25 s (Socket.IO's default).
    pub ping_interval: Duration,
    /// How long a pong (or a blocked write) may take before the socket is closed.
    /// Default 20 s.
    pub ping_timeout: Duration,
    /// Largest accepted frame, or long-polling `POST` body, in bytes. Default 64 KiB.
    pub max_payload: usize,
    /// How long a client has after the transport opens to join with a valid CONNECT.
    /// Default 10 s.
    pub connect_timeout: Duration,
}

impl Default for SocketIoConfig {
    fn default() -> Self {
        Self {
            allowed_origins: vec!["http://localhost:5173".to_owned()],
            ping_interval: Duration::from_secs(25),
            ping_timeout: Duration::from_secs(20),
            max_payload: 64 * 1024,
            connect_timeout: Duration::from_secs(10),
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
    /// Long-polling sessions by `sid`, each while its task runs on polling.
    sessions: Mutex<HashMap<Box<str>, Arc<PollSession>>>,
}

impl Inner {
    fn sessions(&self) -> MutexGuard<'_, HashMap<Box<str>, Arc<PollSession>>> {
        // Map operations cannot panic midway.
        self.sessions.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn session(&self, sid: &str) -> Option<Arc<PollSession>> {
        self.sessions().get(sid).cloned()
    }

    /// Removes `session` from the map (once it closed or upgraded).
    pub(crate) fn forget_session(&self, session: &Arc<PollSession>) {
        let mut sessions = self.sessions();
        if sessions.get(&session.sid).is_some_and(|s| Arc::ptr_eq(s, session)) {
            sessions.remove(&session.sid);
        }
    }
}

impl std::fmt::Debug for SocketIo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SocketIo").field("sockets", &self.socket_count()).finish_non_exhaustive()
    }
}

/// The transports a request may ask for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum TransportKind {
    Polling,
    WebSocket,
}

impl SocketIo {
    /// An endpoint serving realtime events of `app`.
    #[must_use]
    pub fn new(app: DevConnect, config: SocketIoConfig) -> Self {
        let shutdown = CancellationToken::new();
        let sessions = Mutex::new(HashMap::new());
        Self { inner: Arc::new(Inner { app, config, sockets: AtomicUsize::new(0), shutdown, sessions }) }
    }

    /// Serves a request whose path starts with `/socket.io/`: a WebSocket upgrade
    /// (`?EIO=4&transport=websocket`, with `&sid=` to upgrade a polling session), or
    /// long-polling (`?EIO=4&transport=polling`: `GET` opens a session or polls it, `POST`
    /// sends to it). Refusals are JSON `{code, message}` with Engine.IO's codes; a
    /// browser `Origin` outside the allow-list gets 403, an allowed one CORS headers.
    /// The caller's hyper connection must be served `with_upgrades()`.
    pub async fn handle(&self, req: Request<Incoming>) -> Response<Full<Bytes>> {
        let origin = req.headers().get(ORIGIN).cloned();
        let mut res = match self.route(req).await {
            Ok(res) => res,
            Err(refusal) => refusal.into_response(),
        };
        if let Some(origin) = origin.filter(|o| self.origin_allowed(o)) {
            if res.status() != StatusCode::SWITCHING_PROTOCOLS {
                let headers = res.headers_mut();
                headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, origin);
                headers.insert(ACCESS_CONTROL_ALLOW_CREDENTIALS, HeaderValue::from_static("true"));
                headers.append(VARY, HeaderValue::from_static("Origin"));
            }
        }
        res
    }

    fn origin_allowed(&self, origin: &HeaderValue) -> bool {
        origin
            .to_str()
            .is_ok_and(|o| self.inner.config.allowed_origins.iter().any(|a| a == "*" || a.eq_ignore_ascii_case(o)))
    }

    async fn route(&self, req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Refusal> {
        if !req.uri().path().starts_with(PATH) {
            return Err(Refusal::NotFound);
        }
        let query = req.uri().query();
        let transport = match query_param(query, "transport").as_deref() {
            Some("polling") => TransportKind::Polling,
            Some("websocket") => TransportKind::WebSocket,
            _ => return Err(Refusal::Transport),
        };
        if query_param(query, "EIO").as_deref() != Some(protocol::ENGINE_IO_VERSION) {
            return Err(Refusal::Version);
        }
        if req.headers().get(ORIGIN).is_some_and(|o| !self.origin_allowed(o)) {
            return Err(Refusal::Origin);
        }
        let sid = query_param(query, "sid");
        // A closing session's last packets may still be fetched.
        if sid.is_none() && self.inner.shutdown.is_cancelled() {
            return Err(Refusal::ShuttingDown);
        }
        match (transport, sid) {
            (TransportKind::WebSocket, None) => {
                let accept = Self::check_upgrade(&req)?;
                let token = query_param(query, "token");
                let inner = Arc::clone(&self.inner);
                let upgrade = hyper::upgrade::on(req);
                let task = async move {
                    match upgrade.await {
                        // Awaited in place: a `let` binding first would make the task
                        // hold the socket's state twice.
                        Ok(upgraded) => socket::run(inner, upgraded, token).await,
                        Err(err) => tracing::debug!(%err, "websocket upgrade failed"),
                    }
                };
                tracing::trace!(task_bytes = std::mem::size_of_val(&task), "websocket task");
                tokio::spawn(task);
                Ok(switching_protocols(accept))
            }
            (TransportKind::WebSocket, Some(sid)) => {
                let accept = Self::check_upgrade(&req)?;
                let session = self.inner.session(&sid).ok_or(Refusal::UnknownSid)?;
                if !session.begin_upgrade() {
                    return Err(Refusal::BadRequest("an upgrade of this session is already under way"));
                }
                let inner = Arc::clone(&self.inner);
                let upgrade = hyper::upgrade::on(req);
                tokio::spawn(async move {
                    match upgrade.await {
                        Ok(upgraded) => polling::probe(inner, session, upgraded).await,
                        Err(err) => tracing::debug!(%err, "websocket upgrade failed"),
                    }
                });
                Ok(switching_protocols(accept))
            }
            (TransportKind::Polling, _) if req.method() == Method::OPTIONS => Ok(preflight(&req)),
            (TransportKind::Polling, None) => {
                if req.method() != Method::GET {
                    return Err(Refusal::HandshakeMethod);
                }
                let session = self.open_session();
                let token = query_param(query, "token");
                tokio::spawn(socket::run_polling(Arc::clone(&self.inner), Arc::clone(&session), token));
                // The request's head is not kept while the GET is held.
                drop(req);
                poll(&session).await
            }
            (TransportKind::Polling, Some(sid)) => {
                let session = self.inner.session(&sid).ok_or(Refusal::UnknownSid)?;
                match *req.method() {
                    Method::GET => {
                        drop(req);
                        poll(&session).await
                    }
                    // Boxed: the state of a held GET, which shares this future's
                    // layout, is the request's memory for as long as it is held.
                    Method::POST => Box::pin(self.post(&session, req)).await,
                    _ => Err(Refusal::BadRequest("long-polling takes GET and POST")),
                }
            }
        }
    }

    /// Registers a new polling session under a fresh `sid`.
    fn open_session(&self) -> Arc<PollSession> {
        let c = &self.inner.config;
        let mut sessions = self.inner.sessions();
        let mut sid = socket::random_id();
        while sessions.contains_key(sid.as_str()) {
            sid = socket::random_id();
        }
        // As much as a WebSocket may have unsent.
        let session = Arc::new(PollSession::new(sid, c.max_payload.max(256 * 1024)));
        sessions.insert(session.sid.clone(), Arc::clone(&session));
        session
    }

    async fn post(&self, session: &PollSession, req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Refusal> {
        let limit = self.inner.config.max_payload;
        let declared = req.headers().get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
        if declared.is_some_and(|n| n > limit as u64) {
            session.too_large();
            return Err(Refusal::TooLarge);
        }
        let body = match Limited::new(req.into_body(), limit).collect().await {
            Ok(body) => body.to_bytes(),
            Err(err) if err.is::<LengthLimitError>() => {
                session.too_large();
                return Err(Refusal::TooLarge);
            }
            Err(_) => return Err(Refusal::BadRequest("the request body could not be read")),
        };
        let deadline = tokio::time::Instant::now() + self.inner.config.ping_timeout;
        session.post(&body, deadline).await.map_err(Refusal::from)?;
        let mut res = Response::new(Full::new(Bytes::from_static(b"ok")));
        res.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("text/html"));
        Ok(res)
    }

    /// Validates a WebSocket handshake request; returns the `Sec-WebSocket-Accept` value.
    fn check_upgrade(req: &Request<Incoming>) -> Result<HeaderValue, Refusal> {
        let has_token = |name, token: &str| {
            req.headers()
                .get_all(name)
                .iter()
                .any(|v| v.to_str().is_ok_and(|v| v.split(',').any(|part| part.trim().eq_ignore_ascii_case(token))))
        };
        if req.method() != Method::GET || !has_token(UPGRADE, "websocket") || !has_token(CONNECTION, "upgrade") {
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

    /// Number of open sockets (WebSocket or long-polling).
    #[must_use]
    pub fn socket_count(&self) -> usize {
        self.inner.sockets.load(Ordering::Relaxed)
    }
}

/// A long-polling `GET`: held until the session has something to say.
async fn poll(session: &PollSession) -> Result<Response<Full<Bytes>>, Refusal> {
    let payload = session.poll().await.map_err(Refusal::from)?;
    let mut res = Response::new(Full::new(Bytes::from(payload)));
    let headers = res.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=UTF-8"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

/// The answer to a CORS preflight (the allowed-origin headers are added by `handle`).
fn preflight(req: &Request<Incoming>) -> Response<Full<Bytes>> {
    let mut res = Response::new(Full::new(Bytes::new()));
    *res.status_mut() = StatusCode::NO_CONTENT;
    let headers = res.headers_mut();
    headers.insert(ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("GET, POST"));
    let asked = req.headers().get(ACCESS_CONTROL_REQUEST_HEADERS).cloned();
    headers.insert(ACCESS_CONTROL_ALLOW_HEADERS, asked.unwrap_or_else(|| HeaderValue::from_static("content-type")));
    headers.insert(ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
    res
}

fn switching_protocols(accept: HeaderValue) -> Response<Full<Bytes>> {
    let mut res = Response::new(Full::new(Bytes::new()));
    *res.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let headers = res.headers_mut();
    headers.insert(UPGRADE, HeaderValue::from_static("websocket"));
    headers.insert(CONNECTION, HeaderValue::from_static("Upgrade"));
    headers.insert(SEC_WEBSOCKET_ACCEPT, accept);
    res
}

/// Why a request is refused, with the Engine.IO error codes Node's server uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    NotFound,
    /// Code 0.
    Transport,
    /// Code 1.
    UnknownSid,
    /// Code 2.
    HandshakeMethod,
    /// Code 3.
    BadRequest(&'static str),
    /// Code 3, with 413.
    TooLarge,
    /// Code 4.
    Origin,
    /// Code 5.
    Version,
    ShuttingDown,
}

impl From<PollError> for Refusal {
    fn from(err: PollError) -> Self {
        match err {
            PollError::Overlap => Self::BadRequest("overlapping requests: the session is closed"),
            PollError::Closed => Self::UnknownSid,
            PollError::Busy => Self::BadRequest("the previous POST has not been read yet"),
            PollError::NotText => Self::BadRequest("payloads must be UTF-8 text"),
        }
    }
}

impl Refusal {
    fn into_response(self) -> Response<Full<Bytes>> {
        let (status, code, message) = match self {
            Self::NotFound => (StatusCode::NOT_FOUND, 3, "not a socket.io path"),
            Self::Transport => (StatusCode::BAD_REQUEST, 0, "Transport unknown"),
            Self::UnknownSid => (StatusCode::BAD_REQUEST, 1, "Session ID unknown"),
            Self::HandshakeMethod => (StatusCode::BAD_REQUEST, 2, "Bad handshake method"),
            Self::BadRequest(message) => (StatusCode::BAD_REQUEST, 3, message),
            Self::TooLarge => (StatusCode::PAYLOAD_TOO_LARGE, 3, "Payload too large"),
            Self::Origin => (StatusCode::FORBIDDEN, 4, "Forbidden: origin not allowed"),
            Self::Version => (StatusCode::BAD_REQUEST, 5, "Unsupported protocol version: EIO=4 is required"),
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
