//! The Engine.IO v4 long-polling transport and its upgrade to WebSocket.
//!
//! A polling session is the same per-socket task as a WebSocket one (see `socket`); only
//! its transport differs: a [`PollSession`], shared between that task and the HTTP
//! requests of the session (found by `sid` in the endpoint's session map). The task
//! queues outbound packets, which the held `GET` takes all at once (joined by the record
//! separator `\x1e`); a `POST` queues inbound packets, which the task reads in order. Both
//! queues are bounded: a task whose client stops polling stalls on a full queue (and the
//! socket ends after the ping timeout), a `POST` waits while the task has not read the
//! previous one. A client that stops polling also stops answering pings, so its session
//! ends `pingInterval + pingTimeout` after the last one it saw.
//!
//! Upgrade: a WebSocket request carrying the session's `sid` is probed here (`2probe` /
//! `3probe`); from the probe on, a `GET` returns at once (a noop `6` if nothing is
//! queued) so the client can pause polling; on `5` the WebSocket is handed to the
//! session's task, which first reads what was posted before, then writes what was still
//! queued for polling onto the WebSocket and carries on there: nothing is lost or sent
//! twice.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use hyper::upgrade::Upgraded;
use tokio::sync::Notify;
use tokio::time::{Instant, timeout_at};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use crate::Inner;
use crate::socket::{End, Inbound, Ws};

/// The record separator between packets of a polling payload.
pub(crate) const SEPARATOR: char = '\x1e';

/// Why a request of a session was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PollError {
    /// A second `GET` (or `POST`) while one is in progress: the session is closed, as
    /// Engine.IO does.
    Overlap,
    /// The session has ended.
    Closed,
    /// The task did not take the previous `POST` in time.
    Busy,
    /// A `POST` body that is not UTF-8 text: the session is closed.
    NotText,
}

/// What the held `GET` has to say.
enum Reply {
    Packets(String),
    Noop,
    Close,
}

/// Where an upgrade to WebSocket stands.
enum Upgrade {
    None,
    /// A WebSocket request arrived; waiting for its `2probe`.
    Probing,
    /// Probed: `GET`s return at once so the client can pause polling before `5`.
    Releasing,
    /// `5` received: the WebSocket waits for the task.
    Ready(Box<Ws>),
    /// The task now speaks over the WebSocket.
    Done,
}

/// An engine failure reported by a request, for the task to end with.
#[derive(Clone, Copy)]
enum Failure {
    TooLarge,
    Protocol(&'static str),
}

struct State {
    outbound: VecDeque<String>,
    outbound_bytes: usize,
    /// The last `POST`'s body and how far the task has read it: packets are cut from
    /// it one at a time, so a body of many tiny packets costs no more than its bytes.
    inbound: Option<(String, usize)>,
    getting: bool,
    posting: bool,
    upgrade: Upgrade,
    failure: Option<Failure>,
    /// The task has ended: no more packets will be queued.
    closed: bool,
}

impl State {
    /// The WebSocket of a finished upgrade, once: the session is then `Done`.
    fn take_ready(&mut self) -> Option<Box<Ws>> {
        if !matches!(self.upgrade, Upgrade::Ready(_)) {
            return None;
        }
        match std::mem::replace(&mut self.upgrade, Upgrade::Done) {
            Upgrade::Ready(ws) => Some(ws),
            _ => None,
        }
    }
}

/// One long-polling session. Costs a few hundred bytes beyond its task while idle
/// (empty queues allocate nothing).
pub(crate) struct PollSession {
    pub(crate) sid: Box<str>,
    outbound_limit: usize,
    state: Mutex<State>,
    /// Wakes the socket task: packets posted, room in the outbound queue, an upgrade,
    /// a failure.
    task: Notify,
    /// Wakes the held `GET`.
    getter: Notify,
    /// Wakes a `POST` waiting for the task to read the previous one.
    poster: Notify,
}

impl PollSession {
    pub(crate) fn new(sid: String, outbound_limit: usize) -> Self {
        Self {
            sid: sid.into_boxed_str(),
            outbound_limit,
            state: Mutex::new(State {
                outbound: VecDeque::new(),
                outbound_bytes: 0,
                inbound: None,
                getting: false,
                posting: false,
                upgrade: Upgrade::None,
                failure: None,
                closed: false,
            }),
            task: Notify::new(),
            getter: Notify::new(),
            poster: Notify::new(),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // No code holding the lock can panic midway through an update.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    // --- The socket task's side ---

    /// Queues an outbound packet if the queue has room (a packet alone always fits).
    pub(crate) fn try_push(&self, text: String) -> Result<(), String> {
        let mut state = self.state();
        if state.outbound_bytes > 0 && state.outbound_bytes + text.len() > self.outbound_limit {
            return Err(text);
        }
        state.outbound_bytes += text.len();
        state.outbound.push_back(text);
        drop(state);
        self.getter.notify_one();
        Ok(())
    }

    /// Queues an outbound packet, waiting until `deadline` for room.
    pub(crate) async fn push(&self, mut text: String, deadline: Instant) -> Result<(), End> {
        loop {
            let notified = self.task.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            match self.try_push(text) {
                Ok(()) => return Ok(()),
                Err(back) => text = back,
            }
            if timeout_at(deadline, notified).await.is_err() {
                return Err(End::WriteStalled);
            }
        }
    }

    /// The next posted packet, in order; then a WebSocket ready to take over.
    pub(crate) async fn next_inbound(&self) -> Result<Inbound, End> {
        loop {
            let notified = self.task.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            {
                let mut state = self.state();
                if let Some(failure) = state.failure {
                    return Err(match failure {
                        Failure::TooLarge => End::TooLarge,
                        Failure::Protocol(why) => End::Protocol(why),
                    });
                }
                if let Some(text) = next_posted(&mut state.inbound) {
                    if state.inbound.is_none() {
                        drop(state);
                        self.poster.notify_one();
                    }
                    return Ok(Inbound::Text(text));
                }
                // What was posted before `5` is read first (the client waits for its
                // `POST`s to complete before it sends `5`).
                if let Some(ws) = state.take_ready() {
                    return Ok(Inbound::Upgrade(ws));
                }
            }
            notified.await;
        }
    }

    /// Switches to the WebSocket: returns what was still queued for polling (to be
    /// written there first) and releases a held `GET`.
    pub(crate) fn take_for_upgrade(&self) -> VecDeque<String> {
        let mut state = self.state();
        state.upgrade = Upgrade::Done;
        state.outbound_bytes = 0;
        let queued = std::mem::take(&mut state.outbound);
        drop(state);
        self.getter.notify_one();
        queued
    }

    /// The task has ended; a held or later `GET` takes what is left, then `1` (close).
    pub(crate) fn close(&self) {
        let mut state = self.state();
        state.closed = true;
        if let Upgrade::Ready(_) = state.upgrade {
            state.upgrade = Upgrade::None;
        }
        drop(state);
        self.getter.notify_one();
        self.poster.notify_one();
    }

    /// Waits until a `GET` has taken every queued packet (`None`), or the client has
    /// finished upgrading (`Some`: paused, it polls no more, so what is queued must go
    /// over the WebSocket), or `deadline` (`None`). Once the session is closed no
    /// upgrade can finish, so this only waits for the queue.
    pub(crate) async fn drained(&self, deadline: Instant) -> Option<Box<Ws>> {
        loop {
            let notified = self.task.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            {
                let mut state = self.state();
                if let Some(ws) = state.take_ready() {
                    return Some(ws);
                }
                if state.outbound.is_empty() {
                    return None;
                }
            }
            if timeout_at(deadline, notified).await.is_err() {
                return None;
            }
        }
    }

    /// Ends the session from a request (the task closes it).
    fn fail(&self, failure: Failure) {
        let mut state = self.state();
        if state.failure.is_none() {
            state.failure = Some(failure);
        }
        drop(state);
        self.task.notify_one();
    }

    // --- The HTTP requests' side ---

    /// A `GET`: waits for packets, then takes them all. Returns the payload text.
    pub(crate) async fn poll(&self) -> Result<String, PollError> {
        {
            let mut state = self.state();
            if state.getting {
                drop(state);
                self.fail(Failure::Protocol("overlapping GET requests"));
                return Err(PollError::Overlap);
            }
            state.getting = true;
        }
        // Cleared however the request ends (also when its connection drops).
        let _getting = Flag { session: self, get: true };
        loop {
            let notified = self.getter.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if let Some(reply) = self.take_reply() {
                return Ok(match reply {
                    Reply::Packets(text) => text,
                    Reply::Noop => "6".to_owned(),
                    Reply::Close => "1".to_owned(),
                });
            }
            notified.await;
        }
    }

    fn take_reply(&self) -> Option<Reply> {
        let mut state = self.state();
        if !state.outbound.is_empty() {
            let mut payload = String::with_capacity(state.outbound_bytes + state.outbound.len());
            for (i, packet) in state.outbound.drain(..).enumerate() {
                if i > 0 {
                    payload.push(SEPARATOR);
                }
                payload.push_str(&packet);
            }
            state.outbound_bytes = 0;
            drop(state);
            self.task.notify_one();
            return Some(Reply::Packets(payload));
        }
        if state.closed {
            return Some(Reply::Close);
        }
        match state.upgrade {
            Upgrade::Releasing | Upgrade::Ready(_) | Upgrade::Done => Some(Reply::Noop),
            Upgrade::None | Upgrade::Probing => None,
        }
    }

    /// A `POST` of `body` (already limited to `maxPayload`): hands its packets to the
    /// task, waiting until `deadline` while the previous `POST`'s are still unread.
    pub(crate) async fn post(&self, body: &[u8], deadline: Instant) -> Result<(), PollError> {
        {
            let mut state = self.state();
            if state.closed {
                return Err(PollError::Closed);
            }
            if state.posting {
                drop(state);
                self.fail(Failure::Protocol("overlapping POST requests"));
                return Err(PollError::Overlap);
            }
            state.posting = true;
        }
        let _posting = Flag { session: self, get: false };
        let Ok(text) = std::str::from_utf8(body) else {
            self.fail(Failure::Protocol("a polling payload must be UTF-8 text"));
            return Err(PollError::NotText);
        };
        loop {
            let notified = self.poster.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            {
                let mut state = self.state();
                if state.closed {
                    return Err(PollError::Closed);
                }
                if state.inbound.is_none() {
                    state.inbound = Some((text.to_owned(), 0));
                    drop(state);
                    self.task.notify_one();
                    return Ok(());
                }
            }
            if timeout_at(deadline, notified).await.is_err() {
                return Err(PollError::Busy);
            }
        }
    }

    /// A body over `maxPayload` was posted: the session ends.
    pub(crate) fn too_large(&self) {
        self.fail(Failure::TooLarge);
    }

    /// A WebSocket request for this session arrived; `false` if one is already under
    /// way (or done) or the session is over.
    pub(crate) fn begin_upgrade(&self) -> bool {
        let mut state = self.state();
        if state.closed || !matches!(state.upgrade, Upgrade::None) {
            return false;
        }
        state.upgrade = Upgrade::Probing;
        true
    }

    fn set_upgrade(&self, upgrade: Upgrade) -> Option<Box<Ws>> {
        let mut state = self.state();
        if state.closed || matches!(state.upgrade, Upgrade::Done) {
            return match upgrade {
                Upgrade::Ready(ws) => Some(ws),
                _ => None,
            };
        }
        state.upgrade = upgrade;
        drop(state);
        self.getter.notify_one();
        self.task.notify_one();
        None
    }
}

/// Cuts the next packet off a posted body (`a\x1eb` is `a`, then `b`); `None` once
/// the body is read, which it then drops.
fn next_posted(inbound: &mut Option<(String, usize)>) -> Option<String> {
    let (body, at) = inbound.as_mut()?;
    let rest = body.get(*at..).unwrap_or_default();
    let (packet, used) = match rest.find(SEPARATOR) {
        Some(end) => (&rest[..end], end + SEPARATOR.len_utf8()),
        None => (rest, rest.len() + 1),
    };
    let packet = packet.to_owned();
    *at += used;
    if *at > body.len() {
        *inbound = None;
    }
    Some(packet)
}

/// Clears the session's `GET` or `POST` in-progress flag when dropped.
struct Flag<'a> {
    session: &'a PollSession,
    get: bool,
}

impl Drop for Flag<'_> {
    fn drop(&mut self) {
        let mut state = self.session.state();
        if self.get {
            state.getting = false;
        } else {
            state.posting = false;
        }
    }
}

/// Probes a WebSocket opened for a polling session (`2probe` → `3probe`), then waits
/// for `5` and hands it to the session's task. A failed probe leaves the session on
/// polling.
pub(crate) async fn probe(inner: Arc<Inner>, session: Arc<PollSession>, upgraded: Upgraded) {
    let mut ws = crate::socket::accept_ws(&inner, upgraded);
    let deadline = Instant::now() + inner.config.ping_timeout;
    let probed = timeout_at(deadline, async {
        if ws.recv().await.ok().as_deref() != Some("2probe") {
            return false;
        }
        // Release the held `GET` before the client hears `3probe` and pauses polling.
        let _ = session.set_upgrade(Upgrade::Releasing);
        if ws.send_text("3probe").await.is_err() {
            return false;
        }
        ws.recv().await.ok().as_deref() == Some("5")
    })
    .await;
    if probed == Ok(true) {
        if let Some(ws) = session.set_upgrade(Upgrade::Ready(ws)) {
            // The session ended meanwhile.
            ws_close(ws, Duration::from_secs(2)).await;
        }
    } else {
        tracing::debug!(sid = %session.sid, "websocket upgrade probe failed; staying on polling");
        {
            let mut state = session.state();
            if !matches!(state.upgrade, Upgrade::Done | Upgrade::Ready(_)) {
                state.upgrade = Upgrade::None;
            }
        }
        ws_close(ws, Duration::from_secs(2)).await;
    }
}

async fn ws_close(mut ws: Box<Ws>, grace: Duration) {
    let _ = tokio::time::timeout(grace, ws.close(CloseCode::Normal, "")).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session() -> PollSession {
        PollSession::new("s".to_owned(), 16)
    }

    fn later() -> Instant {
        Instant::now() + Duration::from_secs(5)
    }

    #[tokio::test]
    async fn a_get_takes_every_queued_packet_joined_by_the_record_separator() {
        let s = session();
        assert!(s.try_push("0{}".to_owned()).is_ok());
        assert!(s.try_push("2".to_owned()).is_ok());
        assert_eq!(s.poll().await, Ok("0{}\u{1e}2".to_owned()));
        assert!(s.try_push("3".to_owned()).is_ok());
        assert_eq!(s.poll().await, Ok("3".to_owned()));
    }

    #[tokio::test]
    async fn a_full_outbound_queue_refuses_more_but_a_lone_packet_always_fits() {
        let s = session();
        assert!(s.try_push("x".repeat(40)).is_ok());
        assert_eq!(s.try_push("y".to_owned()), Err("y".to_owned()));
        let stalled = s.push("y".to_owned(), Instant::now() + Duration::from_millis(10)).await;
        assert!(matches!(stalled, Err(End::WriteStalled)));
        assert_eq!(s.poll().await.map(|p| p.len()), Ok(40));
        assert!(s.try_push("y".to_owned()).is_ok());
    }

    #[tokio::test]
    async fn posted_packets_are_read_in_order_then_the_upgrade() {
        let s = session();
        assert_eq!(s.post(b"40\x1e3", later()).await, Ok(()));
        assert!(s.begin_upgrade());
        assert!(s.set_upgrade(Upgrade::Releasing).is_none());
        // A held GET is released with a noop while the upgrade is under way.
        assert_eq!(s.poll().await, Ok("6".to_owned()));
        let first = s.next_inbound().await;
        assert!(matches!(first, Ok(Inbound::Text(ref t)) if t == "40"), "{first:?}");
        let second = s.next_inbound().await;
        assert!(matches!(second, Ok(Inbound::Text(ref t)) if t == "3"), "{second:?}");
        assert!(!s.begin_upgrade(), "one upgrade at a time");
    }

    #[tokio::test]
    async fn a_second_post_waits_for_the_first_to_be_read() {
        let s = session();
        assert_eq!(s.post(&[b'4'; 16], later()).await, Ok(()));
        let busy = s.post(b"3", Instant::now() + Duration::from_millis(10)).await;
        assert_eq!(busy, Err(PollError::Busy));
        assert!(matches!(s.next_inbound().await, Ok(Inbound::Text(_))));
        assert_eq!(s.post(b"3", later()).await, Ok(()));
    }

    #[tokio::test]
    async fn overlapping_gets_end_the_session() {
        let s = Arc::new(session());
        let held = tokio::spawn({
            let s = Arc::clone(&s);
            async move { s.poll().await }
        });
        while !s.state().getting {
            tokio::task::yield_now().await;
        }
        assert_eq!(s.poll().await, Err(PollError::Overlap));
        assert!(matches!(s.next_inbound().await, Err(End::Protocol(_))));
        s.close();
        assert!(matches!(held.await, Ok(Ok(ref p)) if p == "1"));
    }

    #[tokio::test]
    async fn a_closed_session_answers_get_with_what_is_left_then_close() {
        let s = session();
        assert!(s.try_push("41".to_owned()).is_ok());
        s.close();
        assert_eq!(s.poll().await, Ok("41".to_owned()));
        assert_eq!(s.poll().await, Ok("1".to_owned()));
        assert_eq!(s.post(b"3", later()).await, Err(PollError::Closed));
    }

    #[test]
    fn posted_bodies_are_cut_into_packets_as_split_would() {
        for body in ["40", "40\u{1e}3", "a\u{1e}", "\u{1e}", "", "é\u{1e}€\u{1e}🦀"] {
            let mut inbound = Some((body.to_owned(), 0));
            let cut: Vec<String> = std::iter::from_fn(|| next_posted(&mut inbound)).collect();
            let split: Vec<String> = body.split(SEPARATOR).map(str::to_owned).collect();
            assert_eq!(cut, split, "{body:?}");
            assert!(inbound.is_none());
        }
    }

    #[tokio::test]
    async fn invalid_utf8_ends_the_session() {
        let s = session();
        assert_eq!(s.post(&[0xff, 0xfe], later()).await, Err(PollError::NotText));
        assert!(matches!(s.next_inbound().await, Err(End::Protocol(_))));
    }
}
