//! The wire format: Engine.IO v4 packets carrying Socket.IO v5 packets, text frames only
//! (over WebSocket one packet per frame, over long-polling several joined by `\x1e`;
//! binary attachments are not supported).
//!
//! An Engine.IO packet is one type digit followed by its data: `0` open, `1` close,
//! `2` ping, `3` pong, `4` message, `5` upgrade, `6` noop. A Socket.IO packet travels
//! inside a message: `<type>[<attachments>-][<namespace>,][<ack id>][<json>]` with types
//! `0` CONNECT, `1` DISCONNECT, `2` EVENT, `3` ACK, `4` CONNECT_ERROR, `5`/`6` binary.

use serde::Serialize;
use serde_json::Value;

/// Where the endpoint is served.
pub const PATH: &str = "/socket.io/";

/// The one Engine.IO protocol revision spoken here.
pub const ENGINE_IO_VERSION: &str = "4";

/// An Engine.IO packet received from the peer.
#[derive(Debug, PartialEq)]
pub enum EnginePacket<'a> {
    /// `0{...}`: the handshake (server → client).
    Open(&'a str),
    /// `1`: the peer closes the connection.
    Close,
    /// `2`: ping (with optional probe data).
    Ping,
    /// `3`: pong.
    Pong,
    /// `4...`: a Socket.IO packet.
    Message(&'a str),
    /// `5` upgrade, `6` noop: nothing to do over a pure WebSocket connection.
    Noop,
}

/// Malformed input from the peer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProtocolError(pub &'static str);

impl std::fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for ProtocolError {}

/// Splits a text frame into its Engine.IO packet.
pub fn decode_engine(frame: &str) -> Result<EnginePacket<'_>, ProtocolError> {
    let mut chars = frame.chars();
    let kind = chars.next().ok_or(ProtocolError("empty packet"))?;
    let rest = chars.as_str();
    Ok(match kind {
        '0' => EnginePacket::Open(rest),
        '1' => EnginePacket::Close,
        '2' => EnginePacket::Ping,
        '3' => EnginePacket::Pong,
        '4' => EnginePacket::Message(rest),
        '5' | '6' => EnginePacket::Noop,
        _ => return Err(ProtocolError("unknown engine.io packet type")),
    })
}

/// The kinds of Socket.IO packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PacketType {
    /// Join a namespace (client → server, with an optional auth payload) or the
    /// server's confirmation (with the socket id).
    Connect,
    /// Leave a namespace / being made to leave it.
    Disconnect,
    /// `["name", ...args]`.
    Event,
    /// The answer to an event that carried an ack id: `[...args]`.
    Ack,
    /// The server refused the CONNECT: `{message, data?}`.
    ConnectError,
    /// Events and acks with binary attachments (not supported).
    BinaryEvent,
    /// See [`PacketType::BinaryEvent`].
    BinaryAck,
}

impl PacketType {
    fn from_char(c: char) -> Option<Self> {
        Some(match c {
            '0' => Self::Connect,
            '1' => Self::Disconnect,
            '2' => Self::Event,
            '3' => Self::Ack,
            '4' => Self::ConnectError,
            '5' => Self::BinaryEvent,
            '6' => Self::BinaryAck,
            _ => return None,
        })
    }

    fn as_char(self) -> char {
        match self {
            Self::Connect => '0',
            Self::Disconnect => '1',
            Self::Event => '2',
            Self::Ack => '3',
            Self::ConnectError => '4',
            Self::BinaryEvent => '5',
            Self::BinaryAck => '6',
        }
    }
}

/// A decoded Socket.IO packet.
#[derive(Debug, PartialEq)]
pub struct Packet {
    /// What kind of packet.
    pub kind: PacketType,
    /// The namespace; `/` when absent on the wire.
    pub namespace: String,
    /// The acknowledgement id, when the sender wants (or this is) an answer.
    pub ack_id: Option<u64>,
    /// The JSON payload, if any.
    pub data: Option<Value>,
}

/// Decodes the Socket.IO packet inside an Engine.IO message.
pub fn decode_packet(text: &str) -> Result<Packet, ProtocolError> {
    let mut chars = text.chars();
    let kind = chars.next().and_then(PacketType::from_char).ok_or(ProtocolError("unknown socket.io packet type"))?;
    let mut rest = chars.as_str();
    if matches!(kind, PacketType::BinaryEvent | PacketType::BinaryAck) {
        return Err(ProtocolError("binary attachments are not supported"));
    }
    let mut namespace = String::from("/");
    if rest.starts_with('/') {
        let (ns, after) = match rest.find(',') {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None => (rest, ""),
        };
        ns.clone_into(&mut namespace);
        rest = after;
    }
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let ack_id = if digits > 0 {
        Some(rest[..digits].parse::<u64>().map_err(|_| ProtocolError("ack id out of range"))?)
    } else {
        None
    };
    rest = &rest[digits..];
    let data = if rest.is_empty() {
        None
    } else {
        Some(serde_json::from_str(rest).map_err(|_| ProtocolError("payload is not JSON"))?)
    };
    Ok(Packet { kind, namespace, ack_id, data })
}

/// Encodes a Socket.IO packet as the text of an Engine.IO message frame (`4...`), on the
/// main namespace.
fn encode(kind: PacketType, ack_id: Option<u64>, data: Option<&str>) -> String {
    let mut out = String::with_capacity(3 + data.map_or(0, str::len) + 20);
    out.push('4');
    out.push(kind.as_char());
    if let Some(id) = ack_id {
        out.push_str(&id.to_string());
    }
    if let Some(data) = data {
        out.push_str(data);
    }
    out
}

/// `42["name",data]`, or with an ack id `42<id>["name",data]`.
pub fn encode_event(name: &str, data: &impl Serialize, ack_id: Option<u64>) -> Result<String, serde_json::Error> {
    let json = serde_json::to_string(&(name, data))?;
    Ok(encode(PacketType::Event, ack_id, Some(&json)))
}

/// `43<id>[data]`.
pub fn encode_ack(ack_id: u64, data: &impl Serialize) -> Result<String, serde_json::Error> {
    let json = serde_json::to_string(&[data])?;
    Ok(encode(PacketType::Ack, Some(ack_id), Some(&json)))
}

/// `40{"sid":...}` (server) or `40{auth}` (client).
pub fn encode_connect(data: &impl Serialize) -> Result<String, serde_json::Error> {
    let json = serde_json::to_string(data)?;
    Ok(encode(PacketType::Connect, None, Some(&json)))
}

/// `44{"message":...,"data":{"code":...}}`.
pub fn encode_connect_error(code: &str, message: &str) -> String {
    let json = serde_json::json!({ "message": message, "data": { "code": code } }).to_string();
    encode(PacketType::ConnectError, None, Some(&json))
}

/// `41`: leave the main namespace.
pub fn encode_disconnect() -> String {
    encode(PacketType::Disconnect, None, None)
}

/// A CONNECT_ERROR for a namespace other than the main one.
pub fn encode_namespace_error(namespace: &str) -> String {
    let json = serde_json::json!({ "message": "Invalid namespace" }).to_string();
    format!("44{namespace},{json}")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn engine_packets_are_split_by_their_type_digit() {
        assert_eq!(decode_engine("2"), Ok(EnginePacket::Ping));
        assert_eq!(decode_engine("3"), Ok(EnginePacket::Pong));
        assert_eq!(decode_engine("40"), Ok(EnginePacket::Message("0")));
        assert_eq!(decode_engine("0{\"sid\":\"x\"}"), Ok(EnginePacket::Open("{\"sid\":\"x\"}")));
        assert_eq!(decode_engine("1"), Ok(EnginePacket::Close));
        assert_eq!(decode_engine("6"), Ok(EnginePacket::Noop));
        assert!(decode_engine("").is_err());
        assert!(decode_engine("9").is_err());
    }

    #[test]
    fn connect_packets_carry_the_auth_payload() {
        let p = decode_packet(r#"0{"token":"abc","lastMessageId":"x"}"#);
        assert_eq!(
            p,
            Ok(Packet {
                kind: PacketType::Connect,
                namespace: "/".into(),
                ack_id: None,
                data: Some(json!({"token": "abc", "lastMessageId": "x"}))
            })
        );
        let bare = decode_packet("0");
        assert_eq!(bare.map(|p| (p.kind, p.data)), Ok((PacketType::Connect, None)));
    }

    #[test]
    fn events_with_namespace_and_ack_id_decode() {
        let p = decode_packet(r#"2/admin,12["sendMessage",{"to":"a"}]"#);
        assert_eq!(
            p,
            Ok(Packet {
                kind: PacketType::Event,
                namespace: "/admin".into(),
                ack_id: Some(12),
                data: Some(json!(["sendMessage", {"to": "a"}]))
            })
        );
        let p = decode_packet(r#"37[{"ok":true}]"#);
        assert_eq!(p.map(|p| (p.kind, p.ack_id)), Ok((PacketType::Ack, Some(7))));
    }

    #[test]
    fn malformed_packets_are_errors_not_panics() {
        for bad in [
            "",
            "9",
            "2{not json",
            "51-[\"x\",{\"_placeholder\":true,\"num\":0}]",
            "299999999999999999999999[]",
            "2/ns",
        ] {
            let decoded = decode_packet(bad);
            assert!(bad == "2/ns" && decoded.is_ok() || decoded.is_err(), "{bad}");
        }
        // Multi-byte characters right after the type never split a char boundary.
        assert!(decode_packet("2é").is_err());
        assert!(decode_engine("é").is_err());
    }

    #[test]
    fn outgoing_packets_match_the_socket_io_encoding() {
        assert_eq!(
            encode_event("typing", &json!({"typing": true}), None).ok().as_deref(),
            Some(r#"42["typing",{"typing":true}]"#)
        );
        assert_eq!(encode_event("x", &1, Some(3)).ok().as_deref(), Some(r#"423["x",1]"#));
        assert_eq!(encode_ack(5, &json!({"a": 1})).ok().as_deref(), Some(r#"435[{"a":1}]"#));
        assert_eq!(encode_connect(&json!({"sid": "s"})).ok().as_deref(), Some(r#"40{"sid":"s"}"#));
        assert_eq!(encode_disconnect(), "41");
        let refused = encode_connect_error("unauthorized", "no token");
        let payload = refused.strip_prefix("44").and_then(|j| serde_json::from_str::<Value>(j).ok());
        assert_eq!(payload, Some(json!({"message": "no token", "data": {"code": "unauthorized"}})));
        assert_eq!(encode_namespace_error("/admin"), r#"44/admin,{"message":"Invalid namespace"}"#);
    }
}
