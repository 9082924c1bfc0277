//! A user's live event stream ([`Subscription`]) and why it ends ([`EndReason`]).

use std::future::Future as _;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};

use futures_core::Stream as _;
use tokio::time::Sleep;

use super::hub::Hub;
use crate::model::Event;
use crate::{MessageId, UserId};

/// Why a subscription ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum EndReason {
    /// The token it was opened with was logged out or superseded by a password change.
    Revoked,
    /// The token it was opened with expired.
    Expired,
    /// The subscriber did not keep up; events were dropped. Reconnect and sync.
    Lagged,
    /// The operators suspended the user's account.
    Suspended,
    /// The account was deleted, by its owner or the operators.
    Deleted,
}

impl EndReason {
    /// A stable code for clients.
    #[must_use]
    pub fn code(self) -> &'static str {
        match self {
            Self::Revoked => "token_revoked",
            Self::Expired => "token_expired",
            Self::Lagged => "lagged",
            Self::Suspended => "suspended",
            Self::Deleted => "account_deleted",
        }
    }

    /// What happened, for the user: one text every frontend shows.
    #[must_use]
    pub fn message(self) -> &'static str {
        match self {
            Self::Revoked => "your session was logged out or the password changed",
            Self::Expired => "your session expired; log in again",
            Self::Lagged => "too many events were pending; reconnect with your last message id to catch up",
            Self::Suspended => "your account was suspended by the operators",
            Self::Deleted => "this account was deleted",
        }
    }

    /// Whether reconnecting (with the same token) can help: only a subscriber that fell
    /// behind may; a revoked or expired token must log in again.
    #[must_use]
    pub fn may_reconnect(self) -> bool {
        self == Self::Lagged
    }
}

/// Removes the subscription from the hub when dropped.
pub(super) struct SubGuard {
    pub(super) hub: Arc<Hub>,
    pub(super) user: UserId,
    pub(super) id: u64,
}

impl Drop for SubGuard {
    fn drop(&mut self) {
        self.hub.unsubscribe(self.user, self.id);
    }
}

/// A live stream of [`Event`]s for one user. The user is online while any of their
/// subscriptions exists; dropping the last one makes them offline.
///
/// A subscription opened with a token ([`DevConnect::subscribe_session`](crate::DevConnect::subscribe_session)) also ends when
/// that token is logged out, superseded by a password change, or expires;
/// [`Subscription::end_reason`] then says which.
pub struct Subscription {
    user: UserId,
    rx: futures_channel::mpsc::Receiver<Event>,
    deadline: Option<Pin<Box<Sleep>>>,
    ended: Arc<OnceLock<EndReason>>,
    guard: SubGuard,
    /// Messages at or before this position were replayed already (see `skip_through`).
    replayed: Option<i64>,
    /// Where the catch-up goes on from, while one is due (see [`DevConnect::catch_up`](crate::DevConnect::catch_up)).
    pub(super) resume: Option<MessageId>,
}

impl Subscription {
    pub(super) fn new(
        user: UserId,
        rx: futures_channel::mpsc::Receiver<Event>,
        deadline: Option<Pin<Box<Sleep>>>,
        ended: Arc<OnceLock<EndReason>>,
        guard: SubGuard,
    ) -> Self {
        Self { user, rx, deadline, ended, guard, replayed: None, resume: None }
    }

    /// The next event; `None` once the subscription has ended.
    pub async fn next(&mut self) -> Option<Event> {
        std::future::poll_fn(|cx| self.poll_event(cx)).await
    }

    /// The subscribing user.
    #[must_use]
    pub fn user_id(&self) -> UserId {
        self.user
    }

    /// Why the subscription ended, once it has (`None` while it is live).
    #[must_use]
    pub fn end_reason(&self) -> Option<EndReason> {
        self.ended.get().copied()
    }

    /// Leaves out the live copies of messages at or before position `seq`: the client
    /// got them from a catch-up ([`DevConnect::catch_up`](crate::DevConnect::catch_up)).
    pub(super) fn skip_through(&mut self, seq: i64) {
        self.replayed = Some(self.replayed.map_or(seq, |s| s.max(seq)));
    }

    fn poll_event(&mut self, cx: &mut Context<'_>) -> Poll<Option<Event>> {
        if let Some(deadline) = self.deadline.as_mut() {
            if deadline.as_mut().poll(cx).is_ready() {
                let _ = self.ended.set(EndReason::Expired);
                self.rx.close();
                self.deadline = None;
                self.guard.hub.unsubscribe(self.user, self.guard.id);
                return Poll::Ready(None);
            }
        }
        loop {
            match Pin::new(&mut self.rx).poll_next(cx) {
                Poll::Ready(Some(event))
                    if event.message_seq().zip(self.replayed).is_some_and(|(seq, replayed)| seq <= replayed) => {}
                Poll::Ready(None) => {
                    let _ = self.ended.set(EndReason::Lagged);
                    return Poll::Ready(None);
                }
                polled => return polled,
            }
        }
    }
}

impl futures_core::Stream for Subscription {
    type Item = Event;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Event>> {
        self.get_mut().poll_event(cx)
    }
}

impl std::fmt::Debug for Subscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscription").field("user", &self.user).field("id", &self.guard.id).finish_non_exhaustive()
    }
}
