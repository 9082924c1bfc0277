//! Just enough of an Engine.IO long-polling client for the load tool: the handshake, the
//! CONNECT, a `GET` always held on one keep-alive connection (as a browser's would be),
//! pongs and `sendMessage` posted over connections of their own.

use std::sync::Arc;

use bytes::Bytes;
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt as _, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio::sync::{Mutex, mpsc};

use crate::BoxError;
use crate::protocol::{self, EnginePacket, PacketType};

/// A keep-alive connection left idle after one `GET /healthz`: what the server keeps
/// per HTTP connection, to tell a held `GET`'s cost from a session's.
pub async fn idle_connection(base_url: &str) -> Result<SendRequest<Full<Bytes>>, BoxError> {
    let addr = base_url.trim_start_matches("http://");
    let mut sender = open_connection(addr).await?;
    request(&mut sender, addr, Method::GET, "/healthz", String::new()).await?;
    Ok(sender)
}

/// A joined long-polling session.
pub struct PollClient {
    addr: String,
    path: String,
    /// The keep-alive connection of the `GET`s.
    getter: SendRequest<Full<Bytes>>,
    poster: Poster,
}

async fn open_connection(addr: &str) -> Result<SendRequest<Full<Bytes>>, BoxError> {
    let stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (sender, conn) = http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(conn);
    Ok(sender)
}

async fn request(
    sender: &mut SendRequest<Full<Bytes>>,
    addr: &str,
    method: Method,
    path: &str,
    body: String,
) -> Result<String, BoxError> {
    sender.ready().await?;
    let req = Request::builder().method(method).uri(path).header("host", addr).body(Full::new(Bytes::from(body)))?;
    let res = sender.send_request(req).await?;
    let status = res.status();
    let body = res.into_body().collect().await?.to_bytes();
    if status != StatusCode::OK {
        return Err(format!("{status}: {}", String::from_utf8_lossy(&body)).into());
    }
    Ok(String::from_utf8(body.to_vec())?)
}

impl PollClient {
    /// Opens a session at `base_url` and joins with `token`.
    pub async fn connect(base_url: &str, token: &str) -> Result<Self, BoxError> {
        let addr = base_url.trim_start_matches("http://").to_owned();
        let mut getter = open_connection(&addr).await?;
        let open =
            request(&mut getter, &addr, Method::GET, "/socket.io/?EIO=4&transport=polling", String::new()).await?;
        let sid = open
            .split('\u{1e}')
            .find_map(|p| match protocol::decode_engine(p) {
                Ok(EnginePacket::Open(json)) => {
                    serde_json::from_str::<Value>(json).ok()?["sid"].as_str().map(str::to_owned)
                }
                _ => None,
            })
            .ok_or("no open packet")?;
        let path = format!("/socket.io/?EIO=4&transport=polling&sid={sid}");
        let poster = Poster { addr: addr.clone(), path: path.clone(), connection: Arc::default() };
        let mut client = Self { path, addr, getter, poster };
        client.post(protocol::encode_connect(&json!({ "token": token }))?).await?;
        loop {
            for packet in client.poll().await? {
                if let Ok(EnginePacket::Message(m)) = protocol::decode_engine(&packet) {
                    match protocol::decode_packet(m).map(|p| p.kind) {
                        Ok(PacketType::Connect) => {
                            // Idle, a session holds only its GET (the server would close
                            // an idle POST connection after its header timeout anyway).
                            client.poster.connection.lock().await.take();
                            return Ok(client);
                        }
                        Ok(PacketType::ConnectError) => return Err(format!("refused: {m}").into()),
                        _ => {}
                    }
                }
            }
        }
    }

    async fn post(&self, packet: String) -> Result<(), BoxError> {
        self.poster.post(packet).await
    }

    /// A poster for other tasks.
    pub fn poster(&self) -> Poster {
        self.poster.clone()
    }

    /// Leaves (Engine.IO close).
    pub async fn close(self) {
        self.poster.close().await;
    }

    /// One `GET`: the packets it brought, pings answered.
    async fn poll(&mut self) -> Result<Vec<String>, BoxError> {
        let payload = match request(&mut self.getter, &self.addr, Method::GET, &self.path, String::new()).await {
            Ok(payload) => payload,
            Err(_) => {
                // The keep-alive connection was closed (idle between polls): once more.
                self.getter = open_connection(&self.addr).await?;
                request(&mut self.getter, &self.addr, Method::GET, &self.path, String::new()).await?
            }
        };
        let packets: Vec<String> = payload.split('\u{1e}').map(str::to_owned).collect();
        if packets.iter().any(|p| p == "2") {
            self.post("3".to_owned()).await?;
        }
        Ok(packets)
    }

    /// Polls until the session ends, sending each `newMessage` payload to `events`.
    pub async fn run(mut self, events: mpsc::UnboundedSender<Value>) {
        loop {
            let Ok(packets) = self.poll().await else { return };
            for packet in packets {
                if packet == "1" {
                    return;
                }
                let Some(json) = packet.strip_prefix("42") else { continue };
                if let Ok(Value::Array(args)) = serde_json::from_str::<Value>(json) {
                    if args.first().and_then(Value::as_str) == Some("newMessage") {
                        let _ = events.send(args.get(1).cloned().unwrap_or_default());
                    }
                }
            }
        }
    }
}

/// Posts packets to a session, one at a time (the server ends a session whose `POST`s
/// overlap), on a keep-alive connection of their own (the `GET`'s is held); cheap to
/// clone.
#[derive(Clone)]
pub struct Poster {
    addr: String,
    path: String,
    connection: Arc<Mutex<Option<SendRequest<Full<Bytes>>>>>,
}

impl Poster {
    /// `sendMessage` without an acknowledgement (the tool times delivery, not acks).
    pub async fn send_message(&self, to: &str, text: &str) -> Result<(), BoxError> {
        self.post(protocol::encode_event("sendMessage", &json!({ "to": to, "text": text }), None)?).await
    }

    /// Leaves the session (Engine.IO close).
    pub async fn close(&self) {
        let _ = self.post("1".to_owned()).await;
    }

    async fn post(&self, packet: String) -> Result<(), BoxError> {
        let mut connection = self.connection.lock().await;
        if let Some(mut sender) = connection.take().filter(|s| !s.is_closed()) {
            if request(&mut sender, &self.addr, Method::POST, &self.path, packet.clone()).await.is_ok() {
                *connection = Some(sender);
                return Ok(());
            }
            // The server closed the idle connection as we sent: once more, afresh.
        }
        let mut sender = open_connection(&self.addr).await?;
        request(&mut sender, &self.addr, Method::POST, &self.path, packet).await?;
        *connection = Some(sender);
        Ok(())
    }
}
