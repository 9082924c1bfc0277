//! The socket's two transports (a WebSocket, or a long-polling session until the
//! client upgrades it), and writing packets to whichever it is.

use std::sync::Arc;

use bytes::Bytes;
use futures_util::{SinkExt as _, StreamExt as _};
use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;
use tokio::time::{Instant, timeout};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Error as WsError, Message as WsMessage};

use super::{Conn, End, Ws};
use crate::Inner;
use crate::polling::PollSession;

/// How the task talks to its client.
pub(crate) enum Transport {
    /// Boxed: inline, the stream (about 300 bytes) would be moved into the task along
    /// with copies the task's layout keeps of it, and the task's allocation is rounded
    /// up to 128 bytes (tokio aligns tasks to cache lines); boxed it costs its size.
    Ws(Box<Ws>),
    /// Until the client upgrades it; the session's state lives behind the pointer, so
    /// an idle WebSocket socket is no larger for it.
    Polling(Arc<PollSession>),
}

/// What the client sent.
#[derive(Debug)]
pub(crate) enum Inbound {
    /// An Engine.IO packet.
    Text(String),
    /// A control frame: nothing to do.
    Skip,
    /// The polling session's client upgraded to this WebSocket (after `5`).
    Upgrade(Box<Ws>),
}

impl Transport {
    /// The next thing the client sent. Cancel-safe.
    pub(super) async fn recv(&mut self) -> Result<Inbound, End> {
        match self {
            Self::Ws(ws) => Ok(read_text(ws.next().await)?.map_or(Inbound::Skip, Inbound::Text)),
            // Boxed: the WebSocket task's state is sized by its largest await.
            Self::Polling(session) => Box::pin(session.next_inbound()).await,
        }
    }
}

/// The WebSocket settings of every socket (memory per idle socket).
fn ws_config(inner: &Inner) -> WebSocketConfig {
    let c = &inner.config;
    WebSocketConfig::default()
        .read_buffer_size(c.read_buffer_size)
        .write_buffer_size(0)
        .max_write_buffer_size(c.max_payload.max(256 * 1024))
        .max_message_size(Some(c.max_payload))
        .max_frame_size(Some(c.max_payload))
}

/// The server side of an upgraded connection.
pub(crate) async fn accept_ws(inner: &Inner, upgraded: Upgraded) -> Box<Ws> {
    let ws = WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, Some(ws_config(inner))).await;
    tracing::trace!(ws_bytes = std::mem::size_of_val(&ws), "websocket");
    Box::new(ws)
}

impl Conn<'_> {
    /// Writes one packet (see [`fragments`]; over polling, queues it for the next `GET`),
    /// giving up (and ending the socket) after the ping timeout.
    pub(super) async fn send(&mut self, text: String) -> Result<(), End> {
        let ws = match &mut self.transport {
            Transport::Ws(ws) => ws,
            Transport::Polling(session) => {
                return match session.try_push(text) {
                    Ok(()) => Ok(()),
                    Err(text) => {
                        let deadline = Instant::now() + self.inner.config.ping_timeout;
                        Box::pin(session.push(text, deadline)).await
                    }
                };
            }
        };
        let write = async move {
            for frame in fragments(text) {
                ws.feed(frame).await?;
            }
            ws.flush().await
        };
        match timeout(self.inner.config.ping_timeout, write).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(End::PeerClosed),
            Err(_) => Err(End::WriteStalled),
        }
    }

    /// Carries on over the WebSocket a polling client upgraded to: what was still
    /// queued for polling goes first, in order.
    pub(super) async fn upgrade(&mut self, ws: Box<Ws>) -> Result<(), End> {
        let Transport::Polling(session) = &self.transport else { return Ok(()) };
        let queued = session.take_for_upgrade();
        self.inner.forget_session(session);
        tracing::debug!(user = ?self.user, "upgraded to websocket");
        self.transport = Transport::Ws(ws);
        for text in queued {
            self.send(text).await?;
        }
        Ok(())
    }
}

/// Largest frame payload the server writes. The WebSocket's write buffer keeps, for the
/// socket's whole life, the capacity of the largest frame it ever wrote, so one long
/// message would otherwise cost its socket that much memory for good.
const MAX_FRAME: usize = 1024;

/// A text packet as WebSocket frames of at most [`MAX_FRAME`] bytes of payload: one text
/// frame, then continuation frames (RFC 6455 §5.4: every client reassembles them), cut
/// between characters so that each frame is valid UTF-8 on its own too.
fn fragments(text: String) -> impl Iterator<Item = WsMessage> {
    let bytes = Bytes::from(text);
    let mut start = 0;
    let mut done = false;
    std::iter::from_fn(move || {
        if done {
            return None;
        }
        let mut end = bytes.len().min(start + MAX_FRAME);
        // Back off UTF-8 continuation bytes (0b10xx_xxxx) to a character's start.
        while end < bytes.len() && bytes[end] & 0xC0 == 0x80 {
            end -= 1;
        }
        let opcode = OpCode::Data(if start == 0 { Data::Text } else { Data::Continue });
        done = end == bytes.len();
        let frame = Frame::message(bytes.slice(start..end), opcode, done);
        start = end;
        Some(WsMessage::Frame(frame))
    })
}

/// The text of a frame; `None` for control frames.
fn read_text(frame: Option<Result<WsMessage, WsError>>) -> Result<Option<String>, End> {
    match frame {
        Some(Ok(WsMessage::Text(text))) => Ok(Some(text.as_str().to_owned())),
        Some(Ok(WsMessage::Binary(_))) => Err(End::Protocol("binary frames are not supported")),
        Some(Ok(WsMessage::Ping(_) | WsMessage::Pong(_) | WsMessage::Frame(_))) => Ok(None),
        Some(Ok(WsMessage::Close(_))) | None => Err(End::PeerClosed),
        Some(Err(WsError::Capacity(_))) => Err(End::TooLarge),
        Some(Err(_)) => Err(End::PeerClosed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each frame's opcode, finality and payload.
    fn frames_of(text: &str) -> Vec<(OpCode, bool, String)> {
        fragments(text.to_owned())
            .map(|m| match m {
                WsMessage::Frame(f) => {
                    let (opcode, fin) = (f.header().opcode, f.header().is_final);
                    (opcode, fin, String::from_utf8(f.into_payload().to_vec()).unwrap_or_else(|_| "<bad utf-8>".into()))
                }
                other => (OpCode::Data(Data::Binary), false, format!("not a frame: {other:?}")),
            })
            .collect()
    }

    #[test]
    fn a_short_packet_is_one_final_text_frame() {
        assert_eq!(frames_of("2"), [(OpCode::Data(Data::Text), true, "2".to_owned())]);
        assert_eq!(frames_of(""), [(OpCode::Data(Data::Text), true, String::new())]);
        let exact = "x".repeat(MAX_FRAME);
        assert_eq!(frames_of(&exact), [(OpCode::Data(Data::Text), true, exact.clone())]);
    }

    #[test]
    fn a_long_packet_is_cut_between_characters_into_continuation_frames() {
        // 1, 2, 3 and 4-byte characters, so cuts fall inside characters at every offset.
        let text: String = ["a", "é", "€", "🦀"].iter().cycle().take(3000).copied().collect();
        let frames = frames_of(&text);
        assert!(frames.len() > 1);
        for (i, (opcode, fin, payload)) in frames.iter().enumerate() {
            let expected = if i == 0 { Data::Text } else { Data::Continue };
            assert_eq!(*opcode, OpCode::Data(expected));
            let last = i == frames.len() - 1;
            assert_eq!(*fin, last);
            assert!(
                payload.len() <= MAX_FRAME && (last || payload.len() > MAX_FRAME - 4),
                "frame {i}: {}",
                payload.len()
            );
            assert_ne!(payload, "<bad utf-8>");
        }
        let joined: String = frames.into_iter().map(|(_, _, p)| p).collect();
        assert_eq!(joined, text);
    }
}
