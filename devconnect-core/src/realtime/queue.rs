//! What the hub and one subscription share ([`Shared`]), in one allocation: the
//! subscription's bounded event queue, the waker of the task reading it, why it ended,
//! and the token it was opened with.
//!
//! Why one allocation: an idle socket holds a subscription for hours, so its fixed cost
//! is what counts. A `futures` channel, an `Arc<OnceLock>` for the end reason and a
//! `String` for the token id were six allocations (about 300 bytes); this is one of
//! about 150, and the queue's buffer exists only while events wait in it.

use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

use super::subscription::EndReason;
use crate::UserId;
use crate::model::Event;

/// One subscription's state, shared by the hub (which queues events and ends it) and
/// the [`Subscription`](super::Subscription) (which reads them). Immutable fields sit
/// outside the lock: the hub matches tokens without taking it.
pub(super) struct Shared {
    /// Unique in the hub: tells a user's subscriptions apart.
    pub(super) id: u64,
    pub(super) user: UserId,
    /// The token it was opened with, if any.
    pub(super) token: Option<Token>,
    state: Mutex<State>,
}

struct State {
    /// At most the hub's queue capacity. Empty and without a buffer while idle.
    events: VecDeque<Event>,
    /// The reader to wake when an event arrives or the subscription ends.
    waker: Option<Waker>,
    /// Set once, by whatever ended it first; events queued before still drain.
    ended: Option<EndReason>,
}

/// The token a subscription was opened with, and when it expires.
pub(super) struct Token {
    pub(super) id: TokenId,
    pub(super) version: i64,
    /// When the token expires, as the hub's expiry queue counts time.
    pub(super) expires: super::expiry::Deadline,
}

/// A token's id (its `jti`). The ids this service issues are 32 lower-case hex digits:
/// kept as their 16 bytes, they fit in the subscription's allocation instead of a
/// `String` of their own. Any other id (not issued here) is boxed as it is.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(super) enum TokenId {
    Hex([u8; 16]),
    Other(Box<str>),
}

impl TokenId {
    pub(super) fn new(id: &str) -> Self {
        Self::hex(id).map_or_else(|| Self::Other(id.into()), Self::Hex)
    }

    /// Whether this is the id `id`, compared as text (so `ABC…` is not `abc…`).
    pub(super) fn matches(&self, id: &str) -> bool {
        match (self, Self::hex(id)) {
            (Self::Hex(mine), Some(theirs)) => *mine == theirs,
            (Self::Other(mine), None) => **mine == *id,
            _ => false,
        }
    }

    /// The 16 bytes of `id` if it is written as `hex::encode` writes them, else `None`:
    /// only then does encoding the bytes again give back the same text.
    fn hex(id: &str) -> Option<[u8; 16]> {
        let mut bytes = [0; 16];
        let lower_hex = id.len() == 32 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        (lower_hex && hex::decode_to_slice(id, &mut bytes).is_ok()).then_some(bytes)
    }
}

impl std::fmt::Display for TokenId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Hex(bytes) => f.write_str(&hex::encode(bytes)),
            Self::Other(id) => f.write_str(id),
        }
    }
}

impl Shared {
    pub(super) fn new(id: u64, user: UserId, token: Option<Token>) -> Self {
        Self { id, user, token, state: Mutex::new(State { events: VecDeque::new(), waker: None, ended: None }) }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Every change under this lock is a single push, pop or assignment: a panic
        // elsewhere cannot leave it half-done.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues a copy of `event` and wakes the reader, unless `capacity` events are
    /// waiting already (`false`: the caller decides whether that ends it).
    pub(super) fn push(&self, event: &Event, capacity: usize) -> bool {
        let mut state = self.lock();
        if state.events.len() >= capacity {
            return false;
        }
        state.events.push_back(event.clone());
        let waker = state.waker.take();
        // Woken outside the lock, so the woken task never waits on it.
        drop(state);
        if let Some(waker) = waker {
            waker.wake();
        }
        true
    }

    /// Ends the subscription for `reason`, unless it ended already (the first reason
    /// stays), and wakes the reader.
    pub(super) fn end(&self, reason: EndReason) {
        let mut state = self.lock();
        if state.ended.is_none() {
            state.ended = Some(reason);
        }
        let waker = state.waker.take();
        drop(state);
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    pub(super) fn end_reason(&self) -> Option<EndReason> {
        self.lock().ended
    }

    /// The next queued event that `skip` does not leave out; `None` once the queue is
    /// drained and the subscription has ended; else registers `cx`'s waker.
    pub(super) fn poll_next(&self, cx: &mut Context<'_>, skip: impl Fn(&Event) -> bool) -> Poll<Option<Event>> {
        let mut state = self.lock();
        while let Some(event) = state.events.pop_front() {
            if state.events.is_empty() {
                // The buffer goes with the last waiting event: an idle subscription
                // holds none (a burst allocates it again, as the channel allocated a
                // node per event).
                state.events = VecDeque::new();
            }
            if !skip(&event) {
                return Poll::Ready(Some(event));
            }
        }
        if state.ended.is_some() {
            return Poll::Ready(None);
        }
        // Cloning a waker costs an atomic increment; keep the one we have if it is the same.
        if !state.waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
            state.waker = Some(cx.waker().clone());
        }
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_id_issued_here_is_kept_as_bytes_and_compared_as_text() {
        let issued = hex::encode([0xab; 16]);
        let id = TokenId::new(&issued);
        assert!(matches!(id, TokenId::Hex(_)));
        assert!(id.matches(&issued));
        assert!(!id.matches(&issued.to_uppercase()), "another text is another id");
        assert!(!id.matches(&hex::encode([0xac; 16])));
        assert_eq!(id.to_string(), issued);
    }

    #[test]
    fn any_other_token_id_is_kept_as_it_is() {
        for other in ["", "short", &"AB".repeat(16), &"g".repeat(32)] {
            let id = TokenId::new(other);
            assert!(matches!(id, TokenId::Other(_)), "{other}");
            assert!(id.matches(other));
            assert!(!id.matches(&hex::encode([0; 16])));
            assert_eq!(id.to_string(), other);
        }
    }
}
