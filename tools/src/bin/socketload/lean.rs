//! The sockets of a `--group` run: one task per socket that reads its frames, answers
//! pings, writes what its [`Sender`] hands it, and decodes of a `groupMessage` only its
//! text. The client library's socket runs two tasks joined by a channel and decodes every
//! event into typed values for an application; on a machine the server shares, that work
//! (about half of this tool's CPU per delivery) was timed as part of each of the 1,000
//! deliveries of a message. The 1:1 runs keep the library's client.

use std::borrow::Cow;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use devconnect_core::GroupId;
use futures_util::{SinkExt as _, StreamExt as _};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::BoxError;
use crate::protocol::{self, EnginePacket, PacketType};
use crate::sockets::Latencies;

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A socket joined with `token`: the Engine.IO open and the Socket.IO CONNECT done.
pub async fn connect(base_url: &str, token: &str) -> Result<Ws, BoxError> {
    let host = base_url.trim_start_matches("http://").trim_end_matches('/');
    let url = format!("ws://{host}{}?EIO={}&transport=websocket", protocol::PATH, protocol::ENGINE_IO_VERSION);
    // tungstenite's default read buffer is 128 KiB, cleared for every read: small frames
    // want a small one (as the client library's).
    let config = WebSocketConfig::default().read_buffer_size(4096);
    let (mut ws, _) = tokio_tungstenite::connect_async_with_config(url, Some(config), true).await?;
    ws.send(WsMessage::text(protocol::encode_connect(&json!({ "token": token }))?)).await?;
    while let Some(frame) = ws.next().await {
        let WsMessage::Text(text) = frame? else { continue };
        if let EnginePacket::Message(m) = protocol::decode_engine(text.as_str())? {
            match protocol::decode_packet(m)?.kind {
                PacketType::Connect => return Ok(ws),
                PacketType::ConnectError => return Err(format!("refused: {m}").into()),
                _ => {}
            }
        }
    }
    Err("the server closed the socket during the handshake".into())
}

/// Hands group messages to a socket's task, which sends them with an acknowledgement
/// and counts the refused ones.
#[derive(Clone)]
pub struct Sender(mpsc::Sender<String>);

impl Sender {
    pub async fn send_group_message(&self, group: GroupId, text: &str) -> Result<(), BoxError> {
        Ok(self.0.send(json!({ "groupId": group, "text": text }).to_string()).await?)
    }
}

/// `[name, {"text": …}]`, borrowed from the frame.
#[derive(Deserialize)]
struct Event<'a>(#[serde(borrow)] Cow<'a, str>, #[serde(borrow)] Text<'a>);

#[derive(Deserialize)]
struct Text<'a> {
    #[serde(borrow)]
    text: Cow<'a, str>,
}

/// The text of a `groupMessage` event packet (`2["groupMessage",{…}]`), if it is one.
fn group_message_text(packet: &str) -> Option<Cow<'_, str>> {
    let Event(name, Text { text }) = serde_json::from_str(packet.strip_prefix('2')?).ok()?;
    (name == "groupMessage").then_some(text)
}

/// Serves `ws` until `close` changes (then leaves) or the server ends it: times each
/// `groupMessage` into `latencies`, and counts refused sends in `errors`.
pub fn spawn(
    mut ws: Ws,
    latencies: Latencies,
    errors: Arc<AtomicU64>,
    mut close: watch::Receiver<bool>,
) -> (Sender, JoinHandle<()>) {
    let (tx, mut outgoing) = mpsc::channel::<String>(16);
    let task = tokio::spawn(async move {
        let mut closing = std::pin::pin!(close.changed());
        let mut next_ack = 0u64;
        loop {
            tokio::select! {
                _ = &mut closing => break,
                Some(data) = outgoing.recv() => {
                    next_ack += 1;
                    let frame = format!("42{next_ack}[\"sendGroupMessage\",{data}]");
                    if ws.send(WsMessage::text(frame)).await.is_err() {
                        return;
                    }
                }
                frame = ws.next() => {
                    let text = match frame {
                        Some(Ok(WsMessage::Text(text))) => text,
                        Some(Ok(_)) => continue,
                        Some(Err(_)) | None => return,
                    };
                    match protocol::decode_engine(text.as_str()) {
                        Ok(EnginePacket::Ping) if ws.send(WsMessage::text("3")).await.is_err() => return,
                        Ok(EnginePacket::Message(m)) => {
                            if let Some(text) = group_message_text(m) {
                                latencies.record(&text);
                            } else if m.starts_with('3') {
                                refused(m, &errors);
                            }
                        }
                        _ => {}
                    }
                }
            }
        }
        leave(&mut ws).await;
    });
    (Sender(tx), task)
}

/// Leaves the namespace and closes the WebSocket, waiting briefly for the server.
pub async fn leave(ws: &mut Ws) {
    let _ = ws.send(WsMessage::text(protocol::encode_disconnect())).await;
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        if ws.close(None).await.is_ok() {
            while let Some(Ok(_)) = ws.next().await {}
        }
    })
    .await;
}

/// Counts an acknowledgement that refused a send, and prints the first few.
fn refused(ack: &str, errors: &AtomicU64) {
    let Ok(packet) = protocol::decode_packet(ack) else { return };
    let reply = match packet.data {
        Some(Value::Array(args)) => args.into_iter().next().unwrap_or(Value::Null),
        _ => Value::Null,
    };
    if reply.get("success").and_then(Value::as_bool) == Some(false) && errors.fetch_add(1, Ordering::Relaxed) < 3 {
        eprintln!("send refused: {reply}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_group_messages_text_is_taken() {
        let packet = r#"2["groupMessage",{"id":"6650c0ffee0000000000abcd","text":"t:12 \"quoted\"","imageUrl":null}]"#;
        assert_eq!(group_message_text(packet).as_deref(), Some("t:12 \"quoted\""));
        assert_eq!(group_message_text(r#"2["newMessage",{"text":"t:12"}]"#), None);
        assert_eq!(group_message_text(r#"2["getOnlineUsers",["6650c0ffee0000000000abcd"]]"#), None);
        assert_eq!(group_message_text(r#"3["groupMessage",{"text":"t:12"}]"#), None, "an ack is not an event");
        assert_eq!(group_message_text("2[\"groupMessage\""), None);
    }
}
