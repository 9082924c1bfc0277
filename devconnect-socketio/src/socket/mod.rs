//! One task per socket: the Engine.IO handshake, the Socket.IO CONNECT with the token,
//! then the core's live session ([`devconnect_core::Live`]: online list, catch-up, live
//! events) out and client events in until either side ends it.
//!
//! The task speaks through a [`Transport`]: a WebSocket it owns, or a long-polling
//! session (`polling`) until the client upgrades it to a WebSocket; the rest of the task
//! does not know which.
//!
//! Nothing is queued here: core events wait in the session's bounded queue (the core
//! ends a subscriber that falls too far behind) and are written straight to the socket
//! (or the polling session's bounded queue); a write that cannot complete within the ping
//! timeout closes the socket. Calls into the core, and everything only polling needs, are
//! boxed so the idle WebSocket task stays small.

mod events;
mod transport;
mod ws;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use devconnect_core::{EndReason, Event, Live, LiveItem, MessageId, UserId};
use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;
use serde::Serialize;
use serde_json::Value;
use tokio::time::{Instant, sleep_until, timeout};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
pub(crate) use transport::{Inbound, Transport, accept_ws};

use crate::error::error_ack;
use crate::polling::PollSession;
use crate::protocol::{self, EnginePacket, PacketType};
use crate::{ErrorAck, Inner};

pub(crate) type Ws = ws::WebSocket<TokioIo<Upgraded>>;

/// How long a closing handshake may take.
const CLOSE_GRACE: Duration = Duration::from_secs(2);

/// How a socket ended, which decides how it is closed.
#[derive(Debug)]
pub(crate) enum End {
    /// The client closed, left the namespace, or the connection broke.
    PeerClosed,
    /// No pong in time.
    PingTimeout,
    /// No valid CONNECT in time.
    ConnectTimeout,
    /// A write could not complete in time (slow or dead client).
    WriteStalled,
    /// A frame larger than the configured maximum.
    TooLarge,
    /// The client broke the protocol.
    Protocol(&'static str),
    /// The server is shutting down.
    Shutdown,
    /// The core ended the subscription (token revoked or expired, or lagging).
    Session(Option<EndReason>),
    /// The core failed; already logged.
    Internal,
}

impl From<protocol::ProtocolError> for End {
    fn from(err: protocol::ProtocolError) -> Self {
        Self::Protocol(err.0)
    }
}

struct CountGuard<'a>(&'a AtomicUsize);

impl Drop for CountGuard<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
        metrics::gauge!(crate::SOCKETS_METRIC).decrement(1.0);
    }
}

/// Serves one upgraded connection until it ends. Not an `async fn`: one keeps its
/// by-value arguments in its state for its whole life, and the upgraded connection
/// (48 bytes), moved into the WebSocket at once, would stay in every socket's task.
pub(crate) fn run(inner: Arc<Inner>, upgraded: Upgraded, query_token: Option<String>) -> impl Future<Output = ()> {
    let ws = accept_ws(&inner, upgraded);
    async move {
        // Built here and lent to `drive`: an async fn keeps its by-value arguments for
        // its whole life, so a transport passed by value would be held twice.
        let mut conn = Conn { transport: Transport::Ws(ws), inner: &inner, user: None, query_token };
        drive(&mut conn).await;
    }
}

/// Serves one long-polling session (registered in the session map) until it ends,
/// over WebSocket once the client upgrades.
pub(crate) async fn run_polling(inner: Arc<Inner>, session: Arc<PollSession>, query_token: Option<String>) {
    let _registered = Registered { inner: &inner, session: Arc::clone(&session) };
    let mut conn = Conn { transport: Transport::Polling(session), inner: &inner, user: None, query_token };
    drive(&mut conn).await;
}

/// Takes a polling session out of the session map when its task ends.
struct Registered<'a> {
    inner: &'a Inner,
    session: Arc<PollSession>,
}

impl Drop for Registered<'_> {
    fn drop(&mut self) {
        self.session.close();
        self.inner.forget_session(&self.session);
    }
}

async fn drive(conn: &mut Conn<'_>) {
    let sockets = &conn.inner.sockets;
    sockets.fetch_add(1, Ordering::Relaxed);
    metrics::gauge!(crate::SOCKETS_METRIC).increment(1.0);
    let _count = CountGuard(sockets);
    let serving = Box::pin(conn.serve());
    tracing::trace!(serve_bytes = std::mem::size_of_val(&*serving), "serving");
    let end = match serving.await {
        Ok(never) => match never {},
        Err(end) => end,
    };
    tracing::debug!(user = ?conn.user, ?end, "socket ended");
    Box::pin(conn.finish(end)).await;
}

struct Conn<'a> {
    transport: Transport,
    inner: &'a Inner,
    user: Option<UserId>,
    /// The token of the handshake's URL (`?token=`), if any, until the socket joins:
    /// held here, once, rather than as an argument of each async fn on the way.
    query_token: Option<String>,
}

#[derive(Serialize)]
struct SessionEnded {
    code: &'static str,
    message: &'static str,
}

impl Conn<'_> {
    /// Everything before the socket is live: OPEN and a valid CONNECT. Returns the
    /// user's live session.
    async fn open(&mut self) -> Result<Live, End> {
        self.send(self.open_packet()).await?;
        let live = Box::pin(self.await_join()).await?;
        self.user = Some(live.user_id());
        self.query_token = None;
        self.send(protocol::encode_connect(&serde_json::json!({ "sid": random_id() })).map_err(|e| internal(&e))?)
            .await?;
        Ok(live)
    }

    /// The live socket: pings, core events out, client events in.
    async fn serve(&mut self) -> Result<std::convert::Infallible, End> {
        // Boxed, so that what only the handshake needs is gone once the socket is live.
        // Every write below is boxed too: a write's state (its packet, frame and
        // timeout timer, ~200 bytes) exists only while it is under way, and held in
        // place it would be part of every idle socket's state.
        let mut live = Box::pin(self.open()).await?;
        let me = live.user_id();
        let inner = self.inner;
        let (ping_interval, ping_timeout) = (inner.config.ping_interval, inner.config.ping_timeout);
        // Made once, not once per event: a fresh shutdown wait or timer per loop is
        // registered with the shared token or the timer wheel, then taken out again, on
        // every event the socket writes (a group message wakes every member's socket).
        // Both sit in the task's state while it is idle either way.
        let mut shutdown = std::pin::pin!(inner.shutdown.cancelled());
        let mut timer = std::pin::pin!(sleep_until(Instant::now() + ping_interval));
        let mut awaiting_pong = false;
        loop {
            tokio::select! {
                () = &mut shutdown => return Err(End::Shutdown),
                () = &mut timer => {
                    if awaiting_pong {
                        return Err(End::PingTimeout);
                    }
                    Box::pin(self.send("2".to_owned())).await?;
                    awaiting_pong = true;
                    timer.as_mut().reset(Instant::now() + ping_timeout);
                }
                item = live.next() => match item {
                    Some(Ok(LiveItem::Online(online))) => Box::pin(self.send_online(&online)).await?,
                    // The whole list, as the original frontend expects it.
                    Some(Ok(LiveItem::Event(Event::Presence { .. }))) => Box::pin(self.send_online(live.online())).await?,
                    Some(Ok(LiveItem::Event(event))) => Box::pin(self.send_event(&event)).await?,
                    Some(Ok(_)) => {}
                    Some(Err(err)) => {
                        tracing::warn!(%me, code = err.code(), "live session failed");
                        return Err(End::Internal);
                    }
                    None => return Err(End::Session(live.end_reason())),
                },
                inbound = self.transport.recv() => {
                    let text = match inbound? {
                        Inbound::Text(text) => text,
                        Inbound::Upgrade(ws) => {
                            Box::pin(self.upgrade(ws)).await?;
                            continue;
                        }
                    };
                    match protocol::decode_engine(&text)? {
                        EnginePacket::Pong => {
                            awaiting_pong = false;
                            timer.as_mut().reset(Instant::now() + ping_interval);
                        }
                        EnginePacket::Ping => Box::pin(self.send("3".to_owned())).await?,
                        EnginePacket::Close => return Err(End::PeerClosed),
                        EnginePacket::Noop => {}
                        EnginePacket::Open(_) => return Err(End::Protocol("unexpected open packet")),
                        EnginePacket::Message(m) => {
                            let packet = protocol::decode_packet(m)?;
                            Box::pin(self.on_packet(me, packet)).await?;
                        }
                    }
                }
            }
        }
    }

    /// The Engine.IO OPEN packet. Built apart from `serve` so that no part of it stays
    /// in the socket's state for the socket's whole life.
    fn open_packet(&self) -> String {
        let c = &self.inner.config;
        let (sid, upgrades): (String, &[&str]) = match &self.transport {
            Transport::Ws(_) => (random_id(), &[]),
            Transport::Polling(session) => (session.sid.to_string(), &["websocket"]),
        };
        let open = serde_json::json!({
            "sid": sid,
            "upgrades": upgrades,
            "pingInterval": u64::try_from(c.ping_interval.as_millis()).unwrap_or(u64::MAX),
            "pingTimeout": u64::try_from(c.ping_timeout.as_millis()).unwrap_or(u64::MAX),
            "maxPayload": c.max_payload,
        });
        format!("0{open}")
    }

    /// Waits for a CONNECT to the main namespace with a valid token; refusals are
    /// answered with CONNECT_ERROR and the client may try again until the deadline.
    async fn await_join(&mut self) -> Result<Live, End> {
        let deadline = Instant::now() + self.inner.config.connect_timeout;
        loop {
            let inbound = tokio::select! {
                () = self.inner.shutdown.cancelled() => return Err(End::Shutdown),
                () = sleep_until(deadline) => return Err(End::ConnectTimeout),
                inbound = self.transport.recv() => inbound?,
            };
            let text = match inbound {
                Inbound::Text(text) => text,
                Inbound::Upgrade(ws) => {
                    Box::pin(self.upgrade(ws)).await?;
                    continue;
                }
            };
            let packet = match protocol::decode_engine(&text)? {
                EnginePacket::Ping => {
                    self.send("3".to_owned()).await?;
                    continue;
                }
                EnginePacket::Pong | EnginePacket::Noop => continue,
                EnginePacket::Close => return Err(End::PeerClosed),
                EnginePacket::Open(_) => return Err(End::Protocol("unexpected open packet")),
                EnginePacket::Message(m) => protocol::decode_packet(m)?,
            };
            if packet.namespace != "/" {
                if packet.kind == PacketType::Connect {
                    self.send(protocol::encode_namespace_error(&packet.namespace)).await?;
                }
                continue;
            }
            match packet.kind {
                PacketType::Connect => match join(self.inner, packet.data, self.query_token.as_deref()).await {
                    Ok(join) => return Ok(join),
                    Err(refusal) => {
                        tracing::debug!(code = %refusal.code, "socket handshake refused");
                        self.send(protocol::encode_connect_error(&refusal.code, &refusal.message)).await?;
                    }
                },
                PacketType::Disconnect => return Err(End::PeerClosed),
                _ => {}
            }
        }
    }

    /// Tells the client why (when it should know) and closes the connection.
    async fn finish(&mut self, end: End) {
        let (code, reason): (CloseCode, &str) = match end {
            // Nobody is listening, or the transport is already gone.
            End::PeerClosed | End::PingTimeout | End::WriteStalled => return,
            End::ConnectTimeout => {
                let _ = self.send(protocol::encode_connect_error("timeout", "no valid CONNECT in time")).await;
                (CloseCode::Policy, "connect timeout")
            }
            End::TooLarge => (CloseCode::Size, "message too large"),
            End::Protocol(why) => (CloseCode::Protocol, why),
            End::Internal => (CloseCode::Error, "internal error"),
            // No `41`: clients reconnect (to the next server) and catch up.
            End::Shutdown => (CloseCode::Away, "server shutting down"),
            End::Session(reason) => {
                // No reason: the stream stopped without one, which only a lagging
                // subscriber's does.
                let reason = reason.unwrap_or(EndReason::Lagged);
                let (code, message, reconnect) = (reason.code(), reason.message(), reason.may_reconnect());
                if let Ok(frame) = protocol::encode_event("sessionEnded", &SessionEnded { code, message }, None) {
                    let _ = self.send(frame).await;
                }
                if reconnect {
                    (CloseCode::Again, code)
                } else {
                    // `41` tells socket.io-client not to reconnect by itself.
                    let _ = self.send(protocol::encode_disconnect()).await;
                    (CloseCode::Normal, code)
                }
            }
        };
        if let Transport::Polling(session) = &self.transport {
            let deadline = Instant::now() + CLOSE_GRACE;
            match session.drained(deadline).await {
                // The client finished an upgrade meanwhile and polls no more: what it
                // has not fetched goes over the WebSocket, which is closed below.
                Some(ws) => {
                    if Box::pin(self.upgrade(ws)).await.is_err() {
                        return;
                    }
                }
                None => {
                    // Engine.IO's close packet in a payload of its own, as Node's server
                    // sends it: socket.io-client acts on a close at once but on the
                    // packets before it a tick later, so in one payload they would be
                    // dropped.
                    if session.push("1".to_owned(), deadline).await.is_ok() {
                        session.close();
                        let _closed = session.drained(deadline).await;
                    }
                    return;
                }
            }
        }
        if let Transport::Ws(ws) = &mut self.transport {
            let _ = timeout(CLOSE_GRACE, ws.close(code, reason)).await;
        }
    }
}

/// Authenticates a CONNECT and opens the user's live session (which also ends with
/// their token), resuming after `auth.lastMessageId` if given.
async fn join(inner: &Inner, auth: Option<Value>, query_token: Option<&str>) -> Result<Live, ErrorAck> {
    let auth = auth.unwrap_or(Value::Null);
    let token = match auth.get("token") {
        Some(Value::String(token)) => Some(token.as_str()),
        Some(Value::Null) | None => query_token,
        Some(_) => return Err(ErrorAck::new("validation", "token: must be a string")),
    };
    let Some(token) = token.filter(|t| !t.is_empty()) else {
        return Err(ErrorAck::new("unauthorized", "a token is required (auth: {token})"));
    };
    let last_message_id = match auth.get("lastMessageId") {
        Some(Value::String(id)) => Some(MessageId::parse("lastMessageId", id).map_err(|e| error_ack(&e.into()))?),
        Some(Value::Null) | None => None,
        Some(_) => return Err(ErrorAck::new("validation", "lastMessageId: must be a message id")),
    };
    let app = &inner.app;
    let session = Box::pin(app.authenticate(token)).await.map_err(|err| error_ack(&err))?;
    Box::pin(app.live(&session, last_message_id)).await.map_err(|err| error_ack(&err))
}

fn internal(err: &serde_json::Error) -> End {
    tracing::error!(%err, "could not encode a packet");
    End::Internal
}

/// 20 random hex digits (a socket id; unguessable, though nothing relies on that).
pub(crate) fn random_id() -> String {
    let mut bytes = [0u8; 10];
    if getrandom::fill(&mut bytes).is_err() {
        // Ids only label sockets in logs; a fixed one is harmless.
        return "00000000000000000000".to_owned();
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
