//! A Rust client for the realtime (Socket.IO) endpoint: the same wire protocol the
//! npm `socket.io-client` speaks over the WebSocket transport.
//!
//! ```no_run
//! # async fn demo() -> Result<(), devconnect_client::realtime::ClientError> {
//! use devconnect_client::realtime::{self as client, ServerEvent};
//! let mut live = client::connect("http://127.0.0.1:3000", "a token", None).await?;
//! while let Some(event) = live.next_event().await {
//!     if let ServerEvent::NewMessage(m) = event {
//!         let _ = m.text;
//!     }
//! }
//! # Ok(()) }
//! ```
//!
//! One task per client owns the connection: it answers pings, matches acknowledgements,
//! and forwards server events to [`Client::next_event`] through a bounded channel (a
//! client that stops reading events eventually stops reading the socket, and the server
//! closes it). The last event is always [`ServerEvent::Disconnected`].

use std::collections::HashMap;
use std::time::Duration;

use devconnect_types::socketio::{self as protocol, EnginePacket, PacketType};
use devconnect_types::{
    ConnectionRequest, ErrorAck, Group, GroupId, GroupMember, GroupMessage, Message, MessageId, Profile, UserId,
};
use futures_util::{SinkExt as _, StreamExt as _};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio::time::{Instant, sleep_until, timeout};
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Error as WsError, Message as WsMessage};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Events buffered for the application before the client stops reading the socket.
const EVENT_BUFFER: usize = 1024;

/// An error from the client: a refusal or error acknowledgement from the server (with
/// its stable code, e.g. `unauthorized`, `forbidden`, `validation`, `rate_limited`), or
/// a local one (`connect_failed`, `timeout`, `closed`, `protocol`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientError {
    /// A stable code.
    pub code: String,
    /// A human explanation.
    pub message: String,
}

impl ClientError {
    fn new(code: &str, message: impl Into<String>) -> Self {
        Self { code: code.to_owned(), message: message.into() }
    }
}

impl std::fmt::Display for ClientError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.message, self.code)
    }
}

impl std::error::Error for ClientError {}

impl From<ErrorAck> for ClientError {
    fn from(ack: ErrorAck) -> Self {
        Self { code: ack.code, message: ack.message }
    }
}

/// An event from the server.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum ServerEvent {
    /// `getOnlineUsers`: me and my connections who are online.
    OnlineUsers(Vec<UserId>),
    /// `newMessage`: a message I sent or received (also the catch-up after reconnect).
    NewMessage(Message),
    /// `connectionRequest`: someone sent me a request.
    ConnectionRequest(ConnectionRequest<Profile, UserId>),
    /// `connectionAccepted`: my request was accepted.
    ConnectionAccepted(ConnectionRequest<UserId, Profile>),
    /// `typing`: a connection started or stopped typing to me.
    Typing {
        /// Who.
        user_id: UserId,
        /// Whether they are typing now.
        typing: bool,
    },
    /// `messagesRead`: a connection read my messages up to this one.
    MessagesRead {
        /// Who read them.
        user_id: UserId,
        /// The newest message read.
        up_to: MessageId,
    },
    /// `groupMemberAdded`: someone joined or was added to one of my groups (me too).
    GroupMemberAdded {
        /// The group.
        group_id: GroupId,
        /// The new member.
        member: GroupMember,
    },
    /// `groupMemberRemoved`: someone left or was removed from one of my groups (me too:
    /// then I get nothing more of it).
    GroupMemberRemoved {
        /// The group.
        group_id: GroupId,
        /// Who is no longer a member.
        user_id: UserId,
    },
    /// `groupUpdated`: one of my groups changed its details (name, description,
    /// visibility, tags, photo), owner or a role, or was archived.
    GroupUpdated(Group),
    /// `groupMessage`: a message in one of my groups (mine too; also the catch-up).
    GroupMessage(GroupMessage),
    /// `groupTyping`: another member started or stopped typing in a group.
    GroupTyping {
        /// The group.
        group_id: GroupId,
        /// Who.
        user_id: UserId,
        /// Whether they are typing now.
        typing: bool,
    },
    /// `groupRead`: another member read a group up to this message.
    GroupRead {
        /// The group.
        group_id: GroupId,
        /// Who read.
        user_id: UserId,
        /// The newest message they read.
        up_to: MessageId,
    },
    /// `sessionEnded`: the server is about to disconnect because the token was logged
    /// out or superseded (`token_revoked`), expired (`token_expired`), or this client
    /// fell behind (`lagged`: reconnect with the last message id to catch up).
    SessionEnded {
        /// The stable reason code.
        code: String,
        /// A human explanation.
        message: String,
    },
    /// An event this client does not know.
    Other {
        /// Its name.
        name: String,
        /// Its first argument.
        data: Value,
    },
    /// The connection is over; always the last event. `reason` is `io server
    /// disconnect` (the server ended the session: do not reconnect blindly), `transport
    /// close`, `ping timeout`, `server shutting down` or `io client disconnect`.
    Disconnected {
        /// Why.
        reason: String,
    },
}

/// Options for [`connect_with`].
#[derive(Clone, Debug)]
pub struct ConnectOptions {
    /// The `Origin` header to send, as a browser would (none by default).
    pub origin: Option<String>,
    /// How long the whole handshake may take. Default 10 s.
    pub timeout: Duration,
    /// The local address to connect from (none: the system picks). A load tool holding
    /// more sockets to one server than a source address has ephemeral ports spreads
    /// them over several (`127.0.0.2`, `127.0.0.3`, …).
    pub local_addr: Option<std::net::IpAddr>,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        Self { origin: None, timeout: Duration::from_secs(10), local_addr: None }
    }
}

/// A connected realtime client. Dropping it closes the connection abruptly; prefer
/// [`Client::close`].
#[derive(Debug)]
pub struct Client {
    commands: mpsc::Sender<Command>,
    events: mpsc::Receiver<ServerEvent>,
    task: JoinHandle<()>,
}

#[derive(Debug)]
enum Command {
    Emit { name: &'static str, data: Value, ack: Option<oneshot::Sender<Value>> },
    Close,
}

/// Connects to the server at `base_url` (e.g. `http://127.0.0.1:3000`) with `token`;
/// with `last_message_id`, the server first delivers what was missed since that message.
pub async fn connect(base_url: &str, token: &str, last_message_id: Option<MessageId>) -> Result<Client, ClientError> {
    let mut auth = json!({ "token": token });
    if let Some(id) = last_message_id {
        auth["lastMessageId"] = json!(id);
    }
    connect_with(base_url, auth, &ConnectOptions::default()).await
}

/// Connects with an arbitrary `auth` payload in the CONNECT packet.
pub async fn connect_with(base_url: &str, auth: Value, options: &ConnectOptions) -> Result<Client, ClientError> {
    timeout(options.timeout, handshake(base_url, auth, options))
        .await
        .map_err(|_| ClientError::new("timeout", "the server did not complete the handshake in time"))?
}

/// A TCP connection to `uri`'s host from the address `local`.
async fn connect_from(
    local: std::net::IpAddr,
    uri: &tokio_tungstenite::tungstenite::http::Uri,
) -> Result<TcpStream, ClientError> {
    let failed = |err: std::io::Error| ClientError::new("connect_failed", err.to_string());
    let host = uri.host().unwrap_or_default().trim_start_matches('[').trim_end_matches(']');
    let port = uri.port_u16().unwrap_or(if uri.scheme_str() == Some("wss") { 443 } else { 80 });
    let mut last = ClientError::new("connect_failed", format!("{host} has no address"));
    for remote in tokio::net::lookup_host((host, port)).await.map_err(failed)? {
        if remote.is_ipv4() != local.is_ipv4() {
            continue;
        }
        let socket = if local.is_ipv4() { tokio::net::TcpSocket::new_v4() } else { tokio::net::TcpSocket::new_v6() };
        let socket = socket.map_err(failed)?;
        socket.bind(std::net::SocketAddr::new(local, 0)).map_err(failed)?;
        match socket.connect(remote).await {
            Ok(stream) => return Ok(stream),
            Err(err) => last = failed(err),
        }
    }
    Err(last)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Open {
    ping_interval: u64,
    ping_timeout: u64,
}

async fn handshake(base_url: &str, auth: Value, options: &ConnectOptions) -> Result<Client, ClientError> {
    let url = socket_url(base_url)?;
    let mut request =
        url.into_client_request().map_err(|err| ClientError::new("connect_failed", format!("bad url: {err}")))?;
    if let Some(origin) = &options.origin {
        let value = origin.parse().map_err(|_| ClientError::new("connect_failed", "bad origin"))?;
        request.headers_mut().insert(tokio_tungstenite::tungstenite::http::header::ORIGIN, value);
    }
    let config = WebSocketConfig::default().read_buffer_size(4096);
    let (mut ws, _) = match options.local_addr {
        None => tokio_tungstenite::connect_async_with_config(request, Some(config), true).await.map_err(refusal)?,
        Some(local) => {
            let stream = connect_from(local, request.uri()).await?;
            // Plain TCP: this client has no TLS (as with `connect_async` here).
            let stream = tokio_tungstenite::MaybeTlsStream::Plain(stream);
            tokio_tungstenite::client_async_with_config(request, stream, Some(config)).await.map_err(refusal)?
        }
    };
    let open: Open = loop {
        let text = next_text(&mut ws).await?;
        if let EnginePacket::Open(json) = protocol::decode_engine(&text).map_err(protocol_error)? {
            break serde_json::from_str(json).map_err(|_| ClientError::new("protocol", "bad open packet"))?;
        }
    };
    let connect = protocol::encode_connect(&auth).map_err(|_| ClientError::new("protocol", "bad auth payload"))?;
    ws.send(WsMessage::text(connect)).await.map_err(closed)?;
    loop {
        let text = next_text(&mut ws).await?;
        match protocol::decode_engine(&text).map_err(protocol_error)? {
            EnginePacket::Ping => ws.send(WsMessage::text("3")).await.map_err(closed)?,
            EnginePacket::Message(m) => {
                let packet = protocol::decode_packet(m).map_err(protocol_error)?;
                match packet.kind {
                    PacketType::Connect => break,
                    PacketType::ConnectError => {
                        let data = packet.data.unwrap_or(Value::Null);
                        let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_owned);
                        let code = text(data.pointer("/data/code")).unwrap_or_else(|| "refused".to_owned());
                        let message = text(data.get("message")).unwrap_or_else(|| "connection refused".to_owned());
                        let _ = ws.close(None).await;
                        return Err(ClientError { code, message });
                    }
                    _ => {}
                }
            }
            EnginePacket::Close => return Err(ClientError::new("closed", "the server closed the connection")),
            _ => {}
        }
    }
    let (commands, command_rx) = mpsc::channel(64);
    let (event_tx, events) = mpsc::channel(EVENT_BUFFER);
    let ping_deadline = Duration::from_millis(open.ping_interval.saturating_add(open.ping_timeout));
    let task = tokio::spawn(drive(ws, command_rx, event_tx, ping_deadline));
    Ok(Client { commands, events, task })
}

impl Client {
    /// The next event; `None` after [`ServerEvent::Disconnected`].
    pub async fn next_event(&mut self) -> Option<ServerEvent> {
        self.events.recv().await
    }

    /// A cloneable handle for emitting from other tasks while this one reads events.
    #[must_use]
    pub fn emitter(&self) -> Emitter {
        Emitter { commands: self.commands.clone() }
    }

    /// See [`Emitter::typing`].
    pub async fn typing(&self, to: UserId, typing: bool) -> Result<(), ClientError> {
        self.emitter().typing(to, typing).await
    }

    /// See [`Emitter::send_message`].
    pub async fn send_message(
        &self,
        to: UserId,
        text: &str,
        client_msg_id: Option<&str>,
    ) -> Result<Message, ClientError> {
        self.emitter().send_message(to, text, client_msg_id).await
    }

    /// See [`Emitter::emit_with_ack`].
    pub async fn emit_with_ack(&self, name: &'static str, data: Value) -> Result<Value, ClientError> {
        self.emitter().emit_with_ack(name, data).await
    }

    /// Leaves cleanly (`41`, then a WebSocket close) and waits for the connection to end.
    pub async fn close(self) {
        let Self { commands, events, task } = self;
        drop(events);
        let _ = commands.send(Command::Close).await;
        let _ = task.await;
    }
}

/// Emits client events on a connection; cheap to clone. Fails with `closed` once the
/// connection is over.
#[derive(Clone, Debug)]
pub struct Emitter {
    commands: mpsc::Sender<Command>,
}

impl Emitter {
    /// Tells `to` that I am (or stopped) typing. Fire and forget.
    pub async fn typing(&self, to: UserId, typing: bool) -> Result<(), ClientError> {
        let data = json!({ "to": to, "typing": typing });
        self.commands.send(Command::Emit { name: "typing", data, ack: None }).await.map_err(|_| gone())
    }

    /// Sends a message and waits for the server's acknowledgement: the stored message,
    /// or the error (e.g. `forbidden` when `to` is not a connection).
    pub async fn send_message(
        &self,
        to: UserId,
        text: &str,
        client_msg_id: Option<&str>,
    ) -> Result<Message, ClientError> {
        let data = json!({ "to": to, "text": text, "clientMsgId": client_msg_id });
        self.call("sendMessage", data).await
    }

    /// Tells the other members of a group that I am (or stopped) typing; waits for the
    /// acknowledgement (`forbidden` when I am not a member).
    pub async fn group_typing(&self, group: GroupId, typing: bool) -> Result<(), ClientError> {
        let data = json!({ "groupId": group, "typing": typing });
        self.call::<Value>("groupTyping", data).await.map(drop)
    }

    /// Sends a message to a group and waits for the acknowledgement: the stored
    /// message, or the error.
    pub async fn send_group_message(
        &self,
        group: GroupId,
        text: &str,
        client_msg_id: Option<&str>,
    ) -> Result<GroupMessage, ClientError> {
        let data = json!({ "groupId": group, "text": text, "clientMsgId": client_msg_id });
        self.call("sendGroupMessage", data).await
    }

    /// Emits `name` and decodes its acknowledgement: an error ack is the error.
    async fn call<T: serde::de::DeserializeOwned>(&self, name: &'static str, data: Value) -> Result<T, ClientError> {
        let reply = self.emit_with_ack(name, data).await?;
        if reply.get("success").and_then(Value::as_bool) == Some(false) {
            let ack: ErrorAck =
                serde_json::from_value(reply).map_err(|_| ClientError::new("protocol", "bad error ack"))?;
            return Err(ack.into());
        }
        serde_json::from_value(reply).map_err(|_| ClientError::new("protocol", "bad acknowledgement"))
    }

    /// Emits `name` with `data` and waits for the first argument of the acknowledgement.
    pub async fn emit_with_ack(&self, name: &'static str, data: Value) -> Result<Value, ClientError> {
        let (tx, rx) = oneshot::channel();
        self.commands.send(Command::Emit { name, data, ack: Some(tx) }).await.map_err(|_| gone())?;
        rx.await.map_err(|_| gone())
    }
}

fn gone() -> ClientError {
    ClientError::new("closed", "the connection is closed")
}

/// The connection task: pings, acks, events.
async fn drive(
    mut ws: Ws,
    mut commands: mpsc::Receiver<Command>,
    events: mpsc::Sender<ServerEvent>,
    ping_deadline: Duration,
) {
    let mut acks: HashMap<u64, oneshot::Sender<Value>> = HashMap::new();
    let mut next_ack = 0u64;
    // Made once, not once per frame received: each would be registered with the timer
    // or the channel, then taken out again.
    let mut deadline = std::pin::pin!(sleep_until(Instant::now() + ping_deadline));
    let mut dropped = std::pin::pin!(events.closed());
    let reason = loop {
        tokio::select! {
            () = &mut deadline => break "ping timeout",
            command = commands.recv() => match command {
                Some(Command::Emit { name, data, ack }) => {
                    let id = ack.map(|tx| {
                        next_ack += 1;
                        acks.insert(next_ack, tx);
                        next_ack
                    });
                    let Ok(frame) = protocol::encode_event(name, &data, id) else { continue };
                    if ws.send(WsMessage::text(frame)).await.is_err() {
                        break "transport close";
                    }
                }
                Some(Command::Close) | None => break leave(&mut ws).await,
            },
            // The application dropped its `Client`.
            () = &mut dropped => break leave(&mut ws).await,
            frame = ws.next() => {
                let text = match frame {
                    Some(Ok(WsMessage::Text(text))) => text,
                    Some(Ok(WsMessage::Close(Some(frame)))) if frame.reason.as_str() == "server shutting down" => {
                        break "server shutting down";
                    }
                    Some(Ok(WsMessage::Close(_)) | Err(_)) | None => break "transport close",
                    Some(Ok(_)) => continue,
                };
                match protocol::decode_engine(text.as_str()) {
                    Ok(EnginePacket::Ping) => {
                        deadline.as_mut().reset(Instant::now() + ping_deadline);
                        if ws.send(WsMessage::text("3")).await.is_err() {
                            break "transport close";
                        }
                    }
                    Ok(EnginePacket::Message(m)) => {
                        let Ok(packet) = protocol::decode_packet(m) else { continue };
                        match packet.kind {
                            PacketType::Event => {
                                if let Some(event) = decode_event(packet.data) {
                                    if events.send(event).await.is_err() {
                                        // The application dropped its handle's events: keep
                                        // serving acks only.
                                    }
                                }
                            }
                            PacketType::Ack => {
                                let first = match packet.data {
                                    Some(Value::Array(mut args)) if !args.is_empty() => args.swap_remove(0),
                                    _ => Value::Null,
                                };
                                if let Some(tx) = packet.ack_id.and_then(|id| acks.remove(&id)) {
                                    let _ = tx.send(first);
                                }
                            }
                            PacketType::Disconnect => break "io server disconnect",
                            _ => {}
                        }
                    }
                    Ok(EnginePacket::Close) => break "transport close",
                    _ => {}
                }
            }
        }
    };
    let _ = events.send(ServerEvent::Disconnected { reason: reason.to_owned() }).await;
}

/// Leaves the namespace and closes the WebSocket, waiting briefly for the server.
async fn leave(ws: &mut Ws) -> &'static str {
    let _ = ws.send(WsMessage::text(protocol::encode_disconnect())).await;
    let _ = timeout(Duration::from_secs(2), async {
        if ws.close(None).await.is_ok() {
            while let Some(Ok(_)) = ws.next().await {}
        }
    })
    .await;
    "io client disconnect"
}

fn decode_event(data: Option<Value>) -> Option<ServerEvent> {
    let Some(Value::Array(args)) = data else { return None };
    let mut args = args.into_iter();
    let Some(Value::String(name)) = args.next() else { return None };
    let data = args.next().unwrap_or(Value::Null);
    // Read from the tree in place: a copy of it per event cost more than the decoding.
    fn parse<T: serde::de::DeserializeOwned>(data: &Value) -> Option<T> {
        T::deserialize(data).ok()
    }
    let get = |key: &str| data.get(key).unwrap_or(&Value::Null);
    let event = match name.as_str() {
        "getOnlineUsers" => parse(&data).map(ServerEvent::OnlineUsers),
        "newMessage" => parse(&data).map(ServerEvent::NewMessage),
        "connectionRequest" => parse(&data).map(ServerEvent::ConnectionRequest),
        "connectionAccepted" => parse(&data).map(ServerEvent::ConnectionAccepted),
        "typing" => match (parse(get("userId")), get("typing").as_bool()) {
            (Some(user_id), Some(typing)) => Some(ServerEvent::Typing { user_id, typing }),
            _ => None,
        },
        "messagesRead" => match (parse(get("userId")), parse(get("upTo"))) {
            (Some(user_id), Some(up_to)) => Some(ServerEvent::MessagesRead { user_id, up_to }),
            _ => None,
        },
        "groupMemberAdded" => match (parse(get("groupId")), parse(get("member"))) {
            (Some(group_id), Some(member)) => Some(ServerEvent::GroupMemberAdded { group_id, member }),
            _ => None,
        },
        "groupMemberRemoved" => match (parse(get("groupId")), parse(get("userId"))) {
            (Some(group_id), Some(user_id)) => Some(ServerEvent::GroupMemberRemoved { group_id, user_id }),
            _ => None,
        },
        "groupUpdated" => parse(&data).map(ServerEvent::GroupUpdated),
        "groupMessage" => parse(&data).map(ServerEvent::GroupMessage),
        "groupTyping" => match (parse(get("groupId")), parse(get("userId")), get("typing").as_bool()) {
            (Some(group_id), Some(user_id), Some(typing)) => {
                Some(ServerEvent::GroupTyping { group_id, user_id, typing })
            }
            _ => None,
        },
        "groupRead" => match (parse(get("groupId")), parse(get("userId")), parse(get("upTo"))) {
            (Some(group_id), Some(user_id), Some(up_to)) => Some(ServerEvent::GroupRead { group_id, user_id, up_to }),
            _ => None,
        },
        "sessionEnded" => {
            let text = |key| get(key).as_str().unwrap_or_default().to_owned();
            Some(ServerEvent::SessionEnded { code: text("code"), message: text("message") })
        }
        _ => None,
    };
    Some(event.unwrap_or(ServerEvent::Other { name, data }))
}

async fn next_text(ws: &mut Ws) -> Result<String, ClientError> {
    loop {
        match ws.next().await {
            Some(Ok(WsMessage::Text(text))) => return Ok(text.as_str().to_owned()),
            Some(Ok(WsMessage::Close(_)) | Err(_)) | None => {
                return Err(ClientError::new("closed", "the server closed the connection"));
            }
            Some(Ok(_)) => {}
        }
    }
}

/// `http://host:port[/]` → `ws://host:port/socket.io/?EIO=4&transport=websocket`.
fn socket_url(base_url: &str) -> Result<String, ClientError> {
    let base = base_url.trim_end_matches('/');
    let rest = if let Some(rest) = base.strip_prefix("http://") {
        rest
    } else if let Some(rest) = base.strip_prefix("ws://") {
        rest
    } else {
        return Err(ClientError::new("connect_failed", "only http:// and ws:// server URLs are supported"));
    };
    Ok(format!("ws://{rest}{}?EIO={}&transport=websocket", protocol::PATH, protocol::ENGINE_IO_VERSION))
}

/// A refused or failed WebSocket handshake.
fn refusal(err: WsError) -> ClientError {
    match err {
        WsError::Http(response) => {
            let status = response.status();
            let body = response.body().as_deref().map(String::from_utf8_lossy).unwrap_or_default();
            let message = serde_json::from_str::<Value>(&body)
                .ok()
                .and_then(|v| v.get("message").and_then(Value::as_str).map(str::to_owned))
                .unwrap_or_else(|| format!("the server refused the connection ({status})"));
            let code = match status.as_u16() {
                401 => "unauthorized",
                403 => "forbidden",
                503 => "unavailable",
                _ => "refused",
            };
            ClientError::new(code, message)
        }
        other => ClientError::new("connect_failed", other.to_string()),
    }
}

fn closed(_: WsError) -> ClientError {
    gone()
}

fn protocol_error(err: protocol::ProtocolError) -> ClientError {
    ClientError::new("protocol", err.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_urls_become_socket_urls() {
        assert_eq!(
            socket_url("http://127.0.0.1:3000/").ok().as_deref(),
            Some("ws://127.0.0.1:3000/socket.io/?EIO=4&transport=websocket")
        );
        assert!(socket_url("ftp://x").is_err());
    }

    #[test]
    fn wire_events_decode_to_client_events() {
        let user = UserId::new();
        let typing = decode_event(Some(json!(["typing", {"userId": user, "typing": true}])));
        assert_eq!(typing, Some(ServerEvent::Typing { user_id: user, typing: true }));
        let online = decode_event(Some(json!(["getOnlineUsers", [user]])));
        assert_eq!(online, Some(ServerEvent::OnlineUsers(vec![user])));
        let other = decode_event(Some(json!(["surprise", 1])));
        assert_eq!(other, Some(ServerEvent::Other { name: "surprise".into(), data: json!(1) }));
        assert_eq!(decode_event(Some(json!({"not": "an array"}))), None);
    }
}
