//! The socket's two transports (a WebSocket, or a long-polling session until the
//! client upgrades it), and writing packets to whichever it is.

use std::sync::Arc;

use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;
use tokio::time::{Instant, timeout};

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
    /// The polling session's client upgraded to this WebSocket (after `5`).
    Upgrade(Box<Ws>),
}

impl Transport {
    /// The next thing the client sent. Cancel-safe.
    pub(super) async fn recv(&mut self) -> Result<Inbound, End> {
        match self {
            Self::Ws(ws) => ws.recv().await.map(Inbound::Text),
            // Boxed: the WebSocket task's state is sized by its largest await.
            Self::Polling(session) => Box::pin(session.next_inbound()).await,
        }
    }
}

/// The server side of an upgraded connection.
pub(crate) fn accept_ws(inner: &Inner, upgraded: Upgraded) -> Box<Ws> {
    Box::new(Ws::new(TokioIo::new(upgraded), inner.config.max_payload))
}

impl Conn<'_> {
    /// Writes one packet (one WebSocket frame; over polling, queues it for the next `GET`),
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
        match timeout(self.inner.config.ping_timeout, ws.send_text(&text)).await {
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
