//! The server's side of a WebSocket (RFC 6455), lean for idle sockets: between messages
//! it holds the connection and three empty `Vec`s, nothing on the heap. Bytes are read
//! into a buffer on the stack of the poll that reads them; only the rest of a frame or
//! message not yet complete is kept, until it is. A frame written is encoded, written and
//! freed. tokio-tungstenite kept its state, a read buffer, a write buffer and two waker
//! proxies for a socket's whole life: about 1 KiB of every idle socket (issue 25,
//! `docs/benchmarks.md`). tungstenite still parses and formats the frame headers.
//!
//! What the socket needs is all here: text messages (fragmented or not) in, text
//! messages out, pings answered, and the closing handshake. No extension is negotiated,
//! so reserved bits are refused; binary frames are refused (Engine.IO's text protocol
//! is all we speak).

use std::io::Cursor;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt as _, ReadBuf};
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{CloseCode, Control, Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::frame::{Frame, FrameHeader};

use super::End;

/// The most one read takes from the connection, into the reading poll's stack.
const READ_CHUNK: usize = 2048;
/// The largest payload of a control frame (RFC 6455 §5.5).
const MAX_CONTROL_PAYLOAD: u64 = 125;

/// A WebSocket over `I`, the server's end.
pub(crate) struct WebSocket<I> {
    io: I,
    /// Bytes received that are not yet a whole frame.
    received: Vec<u8>,
    /// The text of a fragmented message so far: `None` between messages.
    message: Option<Vec<u8>>,
    /// Control frames owed to the client (a pong, the answer to its close), written
    /// before anything else. One pong at a time: a client pinging faster than it reads
    /// gets fewer pongs (RFC 6455 §5.5.3 allows answering only some), not our memory.
    owed: Vec<u8>,
    /// The largest message accepted, in bytes.
    max_message: usize,
    /// A close frame was sent: nothing more is (RFC 6455 §5.5.1).
    closing: bool,
}

impl<I> std::fmt::Debug for WebSocket<I> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebSocket")
            .field("received", &self.received.len())
            .field("message", &self.message.as_ref().map(Vec::len))
            .field("owed", &self.owed.len())
            .finish_non_exhaustive()
    }
}

/// What whole frames received amount to.
enum Received {
    Text(String),
    /// The client's close frame (answered, if the connection takes it).
    Closed,
}

impl<I: AsyncRead + AsyncWrite + Unpin> WebSocket<I> {
    /// A WebSocket over a connection whose handshake is done.
    pub(crate) fn new(io: I, max_message: usize) -> Self {
        Self { io, received: Vec::new(), message: None, owed: Vec::new(), max_message, closing: false }
    }

    /// The next text message: pings are answered and pongs skipped on the way.
    /// Cancel-safe: what was read stays in `self` for the next call.
    pub(crate) async fn recv(&mut self) -> Result<String, End> {
        std::future::poll_fn(|cx| self.poll_recv(cx)).await
    }

    fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Result<String, End>> {
        loop {
            let received = self.take_received()?;
            if received.is_some() {
                // A pong (or the answer to a close) met on the way goes out now if the
                // connection takes it, else before the next read or write.
                let _ = self.poll_write_owed(cx);
            }
            match received {
                Some(Received::Text(text)) => return Poll::Ready(Ok(text)),
                Some(Received::Closed) => return Poll::Ready(Err(End::PeerClosed)),
                None => {}
            }
            ready!(self.poll_write_owed(cx)).map_err(|_| End::PeerClosed)?;
            let mut chunk = [0u8; READ_CHUNK];
            let mut buf = ReadBuf::new(&mut chunk);
            ready!(Pin::new(&mut self.io).poll_read(cx, &mut buf)).map_err(|_| End::PeerClosed)?;
            if buf.filled().is_empty() {
                return Poll::Ready(Err(End::PeerClosed));
            }
            self.received.extend_from_slice(buf.filled());
        }
    }

    /// Takes the whole frames received so far, until one completes a text message or
    /// is a close. A frame's header is checked as soon as it is whole, before its
    /// payload is waited for: an announced length beyond the limit ends the socket.
    fn take_received(&mut self) -> Result<Option<Received>, End> {
        let mut taken = 0;
        let received = loop {
            match self.take_frame(taken)? {
                Some((end, None)) => taken = end,
                Some((end, received)) => {
                    taken = end;
                    break received;
                }
                None => break None,
            }
        };
        // Once per call, not per frame: many small frames in one read cost one move.
        self.received.drain(..taken);
        if self.received.is_empty() {
            // Hand the memory back: an idle socket keeps none.
            self.received = Vec::new();
        }
        Ok(received)
    }

    /// The frame at `at` in what was received, if it is whole: where it ends, and what
    /// it amounts to (`None` for a fragment or a control frame handled here).
    fn take_frame(&mut self, at: usize) -> Result<Option<(usize, Option<Received>)>, End> {
        let mut cursor = Cursor::new(&self.received[at..]);
        let Some((header, len)) = FrameHeader::parse(&mut cursor).map_err(|_| End::Protocol("malformed frame"))? else {
            return Ok(None);
        };
        let mask = self.check(&header, len)?;
        let start = at + usize::try_from(cursor.position()).map_err(|_| End::TooLarge)?;
        // `check` bounded `len` by the message limit, a `usize`.
        let end = start + usize::try_from(len).map_err(|_| End::TooLarge)?;
        if self.received.len() < end {
            return Ok(None);
        }
        let payload = &mut self.received[start..end];
        unmask(payload, mask);
        let received = match header.opcode {
            OpCode::Data(_) => {
                let mut message = self.message.take().unwrap_or_default();
                message.extend_from_slice(payload);
                if header.is_final {
                    let text = String::from_utf8(message).map_err(|_| End::Protocol("text that is not UTF-8"))?;
                    Some(Received::Text(text))
                } else {
                    self.message = Some(message);
                    None
                }
            }
            OpCode::Control(Control::Ping) => {
                if self.owed.is_empty() && !self.closing {
                    owe(&mut self.owed, Frame::pong(payload.to_vec()));
                }
                None
            }
            OpCode::Control(Control::Close) => {
                // The answer echoes the client's status code (RFC 6455 §5.5.1), unless
                // this is the answer to our own close.
                if !self.closing {
                    let code = payload.get(..2).map(|c| CloseCode::from(u16::from_be_bytes([c[0], c[1]])));
                    owe(&mut self.owed, Frame::close(code.map(|code| CloseFrame { code, reason: "".into() })));
                    self.closing = true;
                }
                Some(Received::Closed)
            }
            _ => None,
        };
        Ok(Some((end, received)))
    }

    /// Checks a client frame's header against RFC 6455 and our limits; returns its mask.
    fn check(&self, header: &FrameHeader, len: u64) -> Result<[u8; 4], End> {
        let Some(mask) = header.mask else { return Err(End::Protocol("an unmasked client frame")) };
        if header.rsv1 || header.rsv2 || header.rsv3 {
            return Err(End::Protocol("reserved bits set without an extension"));
        }
        let so_far = self.message.as_ref().map_or(0, Vec::len);
        match header.opcode {
            OpCode::Data(Data::Binary) => return Err(End::Protocol("binary frames are not supported")),
            OpCode::Data(Data::Text) if self.message.is_some() => {
                return Err(End::Protocol("a message began before the last one ended"));
            }
            OpCode::Data(Data::Continue) if self.message.is_none() => {
                return Err(End::Protocol("a continuation frame outside a message"));
            }
            OpCode::Data(Data::Reserved(_)) | OpCode::Control(Control::Reserved(_)) => {
                return Err(End::Protocol("an unknown opcode"));
            }
            OpCode::Control(_) if !header.is_final || len > MAX_CONTROL_PAYLOAD => {
                return Err(End::Protocol("a fragmented or oversized control frame"));
            }
            _ => {}
        }
        if u64::try_from(self.max_message.saturating_sub(so_far)).is_ok_and(|room| len > room) {
            return Err(End::TooLarge);
        }
        Ok(mask)
    }

    /// Writes what is owed to the client, then flushes.
    fn poll_write_owed(&mut self, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        if self.owed.is_empty() {
            return Poll::Ready(Ok(()));
        }
        while !self.owed.is_empty() {
            let written = ready!(Pin::new(&mut self.io).poll_write(cx, &self.owed))?;
            if written == 0 {
                return Poll::Ready(Err(std::io::ErrorKind::WriteZero.into()));
            }
            self.owed.drain(..written);
        }
        self.owed = Vec::new();
        Pin::new(&mut self.io).poll_flush(cx)
    }

    /// Writes `text` as one text frame (after what is owed). Not cancel-safe: a write
    /// cut short leaves part of a frame, so the caller ends the socket if one does not
    /// complete.
    pub(crate) async fn send_text(&mut self, text: &str) -> std::io::Result<()> {
        if self.closing {
            return Err(std::io::ErrorKind::BrokenPipe.into());
        }
        std::future::poll_fn(|cx| self.poll_write_owed(cx)).await?;
        let header = FrameHeader { opcode: OpCode::Data(Data::Text), ..FrameHeader::default() };
        let len = text.len() as u64;
        let mut frame = Vec::with_capacity(header.len(len) + text.len());
        header.format(len, &mut frame).map_err(std::io::Error::other)?;
        frame.extend_from_slice(text.as_bytes());
        self.io.write_all(&frame).await?;
        self.io.flush().await
    }

    /// The closing handshake: sends a close frame with `code` and `reason`, then reads
    /// (and drops) what the client still sends until its close or the connection's
    /// end. The caller bounds how long that may take.
    pub(crate) async fn close(&mut self, code: CloseCode, reason: &str) {
        if self.closing {
            return;
        }
        owe(&mut self.owed, Frame::close(Some(CloseFrame { code, reason: reason.into() })));
        self.closing = true;
        if std::future::poll_fn(|cx| self.poll_write_owed(cx)).await.is_ok() {
            while self.recv().await.is_ok() {}
        }
    }

    /// The bytes the socket's buffers hold (for tests).
    #[cfg(test)]
    fn idle_capacity(&self) -> usize {
        self.received.capacity() + self.message.as_ref().map_or(0, Vec::capacity) + self.owed.capacity()
    }
}

/// Appends a frame to the bytes owed.
fn owe(owed: &mut Vec<u8>, frame: Frame) {
    // Formatting into a `Vec` cannot fail.
    let _ = frame.format(owed);
}

/// Client frames are masked (RFC 6455 §5.3): XOR with the 4-byte key, in turn.
fn unmask(payload: &mut [u8], mask: [u8; 4]) {
    for (byte, key) in payload.iter_mut().zip(mask.iter().cycle()) {
        *byte ^= key;
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tokio::io::{AsyncReadExt as _, DuplexStream, duplex};

    use super::*;

    const MASK: [u8; 4] = [0x12, 0x34, 0x56, 0x78];

    /// A client frame: masked, as clients must send them.
    fn client_frame(opcode: OpCode, is_final: bool, payload: &[u8]) -> Vec<u8> {
        let header = FrameHeader { is_final, opcode, mask: Some(MASK), ..FrameHeader::default() };
        let mut bytes = Vec::new();
        let _ = header.format(payload.len() as u64, &mut bytes);
        let mut payload = payload.to_vec();
        unmask(&mut payload, MASK);
        bytes.extend(payload);
        bytes
    }

    fn text(payload: &str) -> Vec<u8> {
        client_frame(OpCode::Data(Data::Text), true, payload.as_bytes())
    }

    fn pair() -> (WebSocket<DuplexStream>, DuplexStream) {
        let (server, client) = duplex(1 << 16);
        (WebSocket::new(server, 1000), client)
    }

    /// The next frame the server wrote: its header and payload.
    async fn server_frame(client: &mut DuplexStream) -> (FrameHeader, Vec<u8>) {
        let mut bytes = Vec::new();
        loop {
            let mut cursor = Cursor::new(bytes.as_slice());
            if let Ok(Some((header, len))) = FrameHeader::parse(&mut cursor) {
                let start = cursor.position() as usize;
                if bytes.len() >= start + len as usize {
                    return (header, bytes[start..start + len as usize].to_vec());
                }
            }
            let mut byte = [0u8; 1];
            if client.read_exact(&mut byte).await.is_err() {
                return (FrameHeader::default(), b"<connection ended>".to_vec());
            }
            bytes.push(byte[0]);
        }
    }

    #[tokio::test]
    async fn texts_in_and_out_and_nothing_kept_between_messages() -> std::io::Result<()> {
        let (mut ws, mut client) = pair();
        let mut both = text("40");
        both.extend(text("42[\"typing\"]"));
        client.write_all(&both).await?;
        assert_eq!(ws.recv().await.ok().as_deref(), Some("40"));
        assert_eq!(ws.recv().await.ok().as_deref(), Some("42[\"typing\"]"));
        assert_eq!(ws.idle_capacity(), 0, "an idle socket holds no buffer");
        ws.send_text("3").await?;
        let (header, payload) = server_frame(&mut client).await;
        assert_eq!((header.opcode, header.is_final, header.mask), (OpCode::Data(Data::Text), true, None));
        assert_eq!(payload, b"3");
        Ok(())
    }

    #[tokio::test]
    async fn a_fragmented_message_is_joined_and_a_ping_inside_it_answered() -> std::io::Result<()> {
        let (mut ws, mut client) = pair();
        let mut bytes = client_frame(OpCode::Data(Data::Text), false, "42[\"a\",\"é".as_bytes());
        bytes.extend(client_frame(OpCode::Control(Control::Ping), true, b"hi"));
        bytes.extend(client_frame(OpCode::Data(Data::Continue), false, b""));
        bytes.extend(client_frame(OpCode::Data(Data::Continue), true, b"\"]"));
        // One byte at a time: frames split across reads anywhere.
        for byte in bytes {
            client.write_all(&[byte]).await?;
        }
        assert_eq!(ws.recv().await.ok().as_deref(), Some("42[\"a\",\"é\"]"));
        let (header, payload) = server_frame(&mut client).await;
        assert_eq!((header.opcode, payload.as_slice()), (OpCode::Control(Control::Pong), &b"hi"[..]));
        assert_eq!(ws.idle_capacity(), 0);
        Ok(())
    }

    #[tokio::test]
    async fn a_recv_cancelled_midway_loses_nothing() -> std::io::Result<()> {
        let (mut ws, mut client) = pair();
        let frame = text("42[\"message\",{\"text\":\"hello\"}]");
        client.write_all(&frame[..7]).await?;
        let cut = tokio::time::timeout(Duration::from_millis(50), ws.recv()).await;
        assert!(cut.is_err(), "half a frame is not a message");
        client.write_all(&frame[7..]).await?;
        assert_eq!(ws.recv().await.ok().as_deref(), Some("42[\"message\",{\"text\":\"hello\"}]"));
        Ok(())
    }

    #[tokio::test]
    async fn the_clients_close_is_answered_with_its_code() -> std::io::Result<()> {
        let (mut ws, mut client) = pair();
        client.write_all(&client_frame(OpCode::Control(Control::Close), true, &1000u16.to_be_bytes())).await?;
        assert!(matches!(ws.recv().await, Err(End::PeerClosed)));
        let (header, payload) = server_frame(&mut client).await;
        assert_eq!((header.opcode, payload.as_slice()), (OpCode::Control(Control::Close), &1000u16.to_be_bytes()[..]));
        Ok(())
    }

    #[tokio::test]
    async fn closing_sends_the_code_and_reason_then_waits_for_the_client() -> std::io::Result<()> {
        let (mut ws, mut client) = pair();
        let closing = tokio::spawn(async move { ws.close(CloseCode::Policy, "connect timeout").await });
        let (header, payload) = server_frame(&mut client).await;
        assert_eq!(header.opcode, OpCode::Control(Control::Close));
        assert_eq!(payload[..2], 1008u16.to_be_bytes());
        assert_eq!(&payload[2..], b"connect timeout");
        client.write_all(&client_frame(OpCode::Control(Control::Close), true, &1008u16.to_be_bytes())).await?;
        assert!(tokio::time::timeout(Duration::from_secs(5), closing).await.is_ok(), "ends on the client's close");
        // The client's close answered ours: nothing more was sent, not even a close.
        let (_, after) = server_frame(&mut client).await;
        assert_eq!(after, b"<connection ended>");
        Ok(())
    }

    /// What a frame (or frames) of a hostile or broken client ends the socket with.
    async fn end_of(bytes: Vec<u8>) -> String {
        let (mut ws, mut client) = pair();
        if client.write_all(&bytes).await.is_err() {
            return "the write failed".to_owned();
        }
        match ws.recv().await {
            Ok(text) => format!("a message: {text}"),
            Err(end) => format!("{end:?}"),
        }
    }

    #[tokio::test]
    async fn what_the_protocol_forbids_ends_the_socket() -> std::io::Result<()> {
        let unmasked = {
            let mut bytes = Vec::new();
            let _ = FrameHeader { opcode: OpCode::Data(Data::Text), ..FrameHeader::default() }.format(2, &mut bytes);
            bytes.extend(b"40");
            bytes
        };
        assert_eq!(end_of(unmasked).await, "Protocol(\"an unmasked client frame\")");
        let binary = client_frame(OpCode::Data(Data::Binary), true, b"\x00");
        assert_eq!(end_of(binary).await, "Protocol(\"binary frames are not supported\")");
        let orphan = client_frame(OpCode::Data(Data::Continue), true, b"x");
        assert_eq!(end_of(orphan).await, "Protocol(\"a continuation frame outside a message\")");
        let mut interleaved = client_frame(OpCode::Data(Data::Text), false, b"4");
        interleaved.extend(text("2"));
        assert_eq!(end_of(interleaved).await, "Protocol(\"a message began before the last one ended\")");
        let long_ping = client_frame(OpCode::Control(Control::Ping), true, &[b'x'; 126]);
        assert_eq!(end_of(long_ping).await, "Protocol(\"a fragmented or oversized control frame\")");
        let split_ping = client_frame(OpCode::Control(Control::Ping), false, b"x");
        assert_eq!(end_of(split_ping).await, "Protocol(\"a fragmented or oversized control frame\")");
        let not_utf8 = client_frame(OpCode::Data(Data::Text), true, &[0xC3, 0x28]);
        assert_eq!(end_of(not_utf8).await, "Protocol(\"text that is not UTF-8\")");
        let mut reserved = text("40");
        reserved[0] |= 0x40;
        assert_eq!(end_of(reserved).await, "Protocol(\"reserved bits set without an extension\")");
        Ok(())
    }

    #[tokio::test]
    async fn an_oversized_message_ends_the_socket_before_its_payload_arrives() -> std::io::Result<()> {
        // A header announcing 2^62 bytes, and nothing after it.
        let mut huge = vec![0x81, 0xFF];
        huge.extend((1u64 << 62).to_be_bytes());
        huge.extend(MASK);
        assert_eq!(end_of(huge).await, "TooLarge");
        // The limit counts the whole message, across its fragments (1,000 bytes here).
        let mut fragments = client_frame(OpCode::Data(Data::Text), false, &[b'x'; 600]);
        fragments.extend(client_frame(OpCode::Data(Data::Continue), true, &[b'x'; 401]));
        assert_eq!(end_of(fragments).await, "TooLarge");
        let exact = "x".repeat(1000);
        assert_eq!(end_of(text(&exact)).await, format!("a message: {exact}"));
        Ok(())
    }

    #[tokio::test]
    async fn a_ping_flood_from_a_client_that_reads_nothing_is_held_back() -> std::io::Result<()> {
        let (server, client) = duplex(4096);
        let mut ws = WebSocket::new(server, 1000);
        let (_unread, mut write) = tokio::io::split(client);
        let ping = client_frame(OpCode::Control(Control::Ping), true, &[b'p'; 125]);
        tokio::spawn(async move { while write.write_all(&ping).await.is_ok() {} });
        // Once its pongs fill the connection, the socket waits to write the one it owes
        // and reads nothing more (the ping timeout ends such a client).
        let stalled = tokio::time::timeout(Duration::from_millis(200), ws.recv()).await;
        assert!(stalled.is_err(), "no message in pings");
        assert!(ws.idle_capacity() <= 2 * READ_CHUNK + 256, "held: {}", ws.idle_capacity());
        assert!(!ws.owed.is_empty() && ws.owed.len() <= 131, "one pong owed: {}", ws.owed.len());
        Ok(())
    }
}
