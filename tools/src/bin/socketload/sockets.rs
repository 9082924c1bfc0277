//! The load's sockets, of whichever kind a run asks for (the client library's WebSocket,
//! the long-polling client, or a group run's lean sockets), what sends over them, and
//! where their readers report each delivery's latency.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Instant;

use devconnect_core::{GroupId, Message, UserId};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::client::{self, ServerEvent};
use crate::{BoxError, lean, polling};

/// What the load's sockets speak (`--transport`).
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Transport {
    Websocket,
    /// Engine.IO long-polling, never upgraded.
    Polling,
}

/// Sends messages over one socket.
#[derive(Clone)]
pub enum Emitter {
    Ws(client::Emitter),
    Polling(polling::Poster),
    Lean(lean::Sender),
}

impl Emitter {
    pub async fn send_message(&self, to: UserId, text: &str) -> Result<(), BoxError> {
        match self {
            Self::Ws(emitter) => emitter.send_message(to, text, None).await.map(drop).map_err(Into::into),
            Self::Polling(poster) => poster.send_message(&to.to_string(), text).await,
            Self::Lean(_) => Err("a group run's sockets send group messages only".into()),
        }
    }

    pub async fn send_group_message(&self, group: GroupId, text: &str) -> Result<(), BoxError> {
        match self {
            Self::Ws(emitter) => emitter.send_group_message(group, text, None).await.map(drop).map_err(Into::into),
            Self::Lean(sender) => sender.send_group_message(group, text).await,
            Self::Polling(_) => Err("--group needs --transport websocket".into()),
        }
    }
}

/// A connected socket of either transport, or a group run's lean one.
pub enum Socket {
    Ws(client::Client),
    Polling(polling::PollClient),
    Lean(lean::Ws),
}

/// The `i`th socket's source address: `127.0.0.(2 + i % n)` over `n` addresses.
pub fn source_addr(i: usize, n: usize) -> Option<std::net::IpAddr> {
    let last = u8::try_from(2 + i.checked_rem(n)?).ok()?;
    Some(std::net::IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 0, last)))
}

pub async fn connect(
    transport: Transport,
    group: bool,
    base_url: &str,
    token: &str,
    local_addr: Option<std::net::IpAddr>,
) -> Result<Socket, BoxError> {
    let options = client::ConnectOptions { local_addr, ..client::ConnectOptions::default() };
    Ok(match transport {
        Transport::Websocket if group => Socket::Lean(lean::connect(base_url, token).await?),
        Transport::Websocket => {
            Socket::Ws(client::connect_with(base_url, serde_json::json!({ "token": token }), &options).await?)
        }
        Transport::Polling => Socket::Polling(polling::PollClient::connect(base_url, token).await?),
    })
}

impl Socket {
    pub async fn close(self) {
        match self {
            Self::Ws(client) => client.close().await,
            Self::Polling(client) => client.close().await,
            Self::Lean(mut ws) => lean::leave(&mut ws).await,
        }
    }

    /// Reads the socket until it ends, or closes it once `close` changes; times each
    /// message delivered to `me` (a `newMessage` for them, or any `groupMessage`) as it
    /// arrives. The handle ends once the socket is closed.
    pub fn spawn_reader(
        self,
        me: UserId,
        messages: Latencies,
        errors: &Arc<AtomicU64>,
        mut close: watch::Receiver<bool>,
    ) -> (Emitter, JoinHandle<()>) {
        match self {
            Self::Lean(ws) => {
                let (sender, reader) = lean::spawn(ws, messages, Arc::clone(errors), close);
                (Emitter::Lean(sender), reader)
            }
            Self::Ws(mut live) => {
                let emitter = Emitter::Ws(live.emitter());
                let reader = tokio::spawn(async move {
                    // Made once: a fresh wait per event registers with the channel each time.
                    let mut closing = std::pin::pin!(close.changed());
                    loop {
                        let event = tokio::select! {
                            _ = &mut closing => return live.close().await,
                            event = live.next_event() => event,
                        };
                        let text = match event {
                            Some(ServerEvent::NewMessage(m)) if m.receiver_id == me => m.text,
                            Some(ServerEvent::GroupMessage(m)) => m.text,
                            Some(_) => continue,
                            None => return,
                        };
                        messages.record(&text);
                    }
                });
                (emitter, reader)
            }
            Self::Polling(client) => {
                let poster = client.poster();
                let emitter = Emitter::Polling(poster.clone());
                let (json_tx, mut json_rx) = mpsc::unbounded_channel();
                let run = tokio::spawn(client.run(json_tx));
                let reader = tokio::spawn(async move {
                    let _ = close.changed().await;
                    poster.close().await;
                    run.abort();
                });
                tokio::spawn(async move {
                    while let Some(json) = json_rx.recv().await {
                        if let Ok(m) = serde_json::from_value::<Message>(json) {
                            if m.receiver_id == me {
                                messages.record(&m.text);
                            }
                        }
                    }
                });
                (emitter, reader)
            }
        }
    }
}

/// Where the readers report each delivery: (when it was sent, how long it took), in
/// µs since `epoch`, read from the `t:<µs> ` the sender put at the start of the text.
#[derive(Clone)]
pub struct Latencies {
    pub epoch: Instant,
    pub tx: mpsc::UnboundedSender<(u64, u64)>,
}

impl Latencies {
    pub fn now(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_micros()).unwrap_or(u64::MAX)
    }

    pub fn record(&self, text: &str) {
        if let Some(sent_at) = text.strip_prefix("t:").and_then(|t| t.split(' ').next()?.parse::<u64>().ok()) {
            let _ = self.tx.send((sent_at, self.now().saturating_sub(sent_at)));
        }
    }
}

pub fn transport_name(transport: Transport) -> &'static str {
    match transport {
        Transport::Websocket => "websocket",
        Transport::Polling => "long-polling, one GET held each",
    }
}
