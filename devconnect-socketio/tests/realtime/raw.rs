//! Raw Engine.IO long-polling, spoken by hand over HTTP/1.1, to pin down the protocol.

use bytes::Bytes;
use http::{HeaderMap, Method, Request};
use http_body_util::{BodyExt as _, Full};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpStream;

use crate::helpers::{must, within};

/// A response, its body as text.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: String,
}

impl Reply {
    /// The Engine.IO error code of a JSON refusal.
    pub fn code(&self) -> Option<u64> {
        serde_json::from_str::<Value>(&self.body).ok()?.get("code")?.as_u64()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name)?.to_str().ok()
    }
}

/// One request on a fresh connection.
pub async fn http(base: &str, method: Method, path: &str, body: impl AsRef<[u8]>, headers: &[(&str, &str)]) -> Reply {
    let addr = base.trim_start_matches("http://");
    let stream = must(TcpStream::connect(addr).await, "connect");
    let (mut sender, conn) = must(hyper::client::conn::http1::handshake(TokioIo::new(stream)).await, "handshake");
    tokio::spawn(conn);
    let mut req = Request::builder().method(method).uri(path).header("host", addr);
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    let req = must(req.body(Full::new(Bytes::copy_from_slice(body.as_ref()))), "request");
    let res = must(sender.send_request(req).await, "send");
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let body = must(res.into_body().collect().await, "body").to_bytes();
    Reply { status, headers, body: String::from_utf8_lossy(&body).into_owned() }
}

/// The packets of a polling payload.
pub fn split(payload: &str) -> Vec<String> {
    payload.split('\u{1e}').map(str::to_owned).collect()
}

/// `(name, first argument)` of an event packet `42[...]`.
pub fn event(packet: &str) -> Option<(String, Value)> {
    let json = packet.strip_prefix("42")?;
    let start = json.find('[')?;
    let args: Vec<Value> = serde_json::from_str(&json[start..]).ok()?;
    let mut args = args.into_iter();
    let name = args.next()?.as_str()?.to_owned();
    Some((name, args.next().unwrap_or(Value::Null)))
}

/// A long-polling session driven by hand.
pub struct Polling {
    pub base: String,
    pub sid: String,
    pub open: Value,
}

impl Polling {
    /// The handshake `GET` (with `extra` query parameters).
    pub async fn open(base: &str, extra: &str) -> Self {
        let reply = http(base, Method::GET, &format!("/socket.io/?EIO=4&transport=polling{extra}"), "", &[]).await;
        assert_eq!(reply.status, 200, "{reply:?}");
        let packets = split(&reply.body);
        let open = packets.first().and_then(|p| p.strip_prefix('0')).map(serde_json::from_str::<Value>);
        let Some(Ok(open)) = open else { panic!("no open packet: {reply:?}") };
        let sid = open["sid"].as_str().unwrap_or_default().to_owned();
        Self { base: base.to_owned(), sid, open }
    }

    /// Opens a session and joins with `auth`; returns it and the packets after `40`.
    pub async fn join(base: &str, auth: &Value) -> (Self, Vec<String>) {
        let session = Self::open(base, "").await;
        assert_eq!(session.post(&[&format!("40{auth}")]).await.status, 200);
        let mut after = session.until(|p| p.starts_with("40") || p.starts_with("44")).await;
        let joined = after.remove(0);
        assert!(joined.starts_with("40{\"sid\""), "{joined}");
        (session, after)
    }

    pub fn path(&self) -> String {
        format!("/socket.io/?EIO=4&transport=polling&sid={}", self.sid)
    }

    pub async fn get(&self) -> Reply {
        http(&self.base, Method::GET, &self.path(), "", &[]).await
    }

    pub async fn post(&self, packets: &[&str]) -> Reply {
        http(&self.base, Method::POST, &self.path(), &packets.join("\u{1e}"), &[("content-type", "text/plain")]).await
    }

    /// One `GET`'s packets (answering pings).
    pub async fn packets(&self) -> Vec<String> {
        let reply = within(self.get()).await;
        assert_eq!(reply.status, 200, "{reply:?}");
        let packets = split(&reply.body);
        if packets.iter().any(|p| p == "2") {
            assert_eq!(self.post(&["3"]).await.status, 200);
        }
        packets
    }

    /// Polls until a packet satisfies `pick`; returns it and every packet after it in
    /// that payload.
    pub async fn until(&self, mut pick: impl FnMut(&str) -> bool) -> Vec<String> {
        within(async {
            loop {
                let mut packets = self.packets().await;
                if let Some(i) = packets.iter().position(|p| pick(p)) {
                    return packets.split_off(i);
                }
            }
        })
        .await
    }

    /// Polls until the event `name` arrives; returns its argument.
    pub async fn next_event(&self, name: &str) -> Value {
        let packets = self.until(|p| event(p).is_some_and(|(n, _)| n == name)).await;
        packets.first().and_then(|p| event(p)).map(|(_, data)| data).unwrap_or_default()
    }
}
