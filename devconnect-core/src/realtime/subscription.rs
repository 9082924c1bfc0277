//! A user's live event stream ([`Subscription`]) and why it ends ([`EndReason`]).

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use super::hub::Hub;
use super::queue::Shared;
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

/// A live stream of [`Event`]s for one user. The user is online while any of their
/// subscriptions exists; dropping the last one makes them offline.
///
/// A subscription opened with a token ([`DevConnect::subscribe_session`](crate::DevConnect::subscribe_session)) also ends when
/// that token is logged out, superseded by a password change, or expires;
/// [`Subscription::end_reason`] then says which.
pub struct Subscription {
    hub: Arc<Hub>,
    /// The queue, end reason and token, shared with the hub.
    shared: Arc<Shared>,
    /// Messages at or before this position were replayed already (see `skip_through`).
    replayed: Option<i64>,
    /// Where the catch-up goes on from, while one is due (see [`DevConnect::catch_up`](crate::DevConnect::catch_up)).
    pub(super) resume: Option<MessageId>,
}

impl Subscription {
    pub(super) fn new(hub: Arc<Hub>, shared: Arc<Shared>) -> Self {
        Self { hub, shared, replayed: None, resume: None }
    }

    /// The next event; `None` once the subscription has ended.
    pub async fn next(&mut self) -> Option<Event> {
        std::future::poll_fn(|cx| self.poll_event(cx)).await
    }

    /// The subscribing user.
    #[must_use]
    pub fn user_id(&self) -> UserId {
        self.shared.user
    }

    /// Why the subscription ended, once it has (`None` while it is live).
    #[must_use]
    pub fn end_reason(&self) -> Option<EndReason> {
        self.shared.end_reason()
    }

    /// Leaves out the live copies of messages at or before position `seq`: the client
    /// got them from a catch-up ([`DevConnect::catch_up`](crate::DevConnect::catch_up)).
    pub(super) fn skip_through(&mut self, seq: i64) {
        self.replayed = Some(self.replayed.map_or(seq, |s| s.max(seq)));
    }

    fn poll_event(&mut self, cx: &mut Context<'_>) -> Poll<Option<Event>> {
        // Checked here too, not only by the hub's expiry task (which may run late under
        // load): no event is yielded once the token has expired, queued ones included.
        if self.shared.token.as_ref().is_some_and(|t| self.hub.expiry_is_past(t.expires)) {
            self.hub.expire(self.shared.user, self.shared.id);
            // Already ended otherwise (a first reason stays).
            self.shared.end(EndReason::Expired);
            return Poll::Ready(None);
        }
        let replayed = self.replayed;
        self.shared
            .poll_next(cx, |event| event.message_seq().zip(replayed).is_some_and(|(seq, replayed)| seq <= replayed))
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.hub.unsubscribe(&self.shared);
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
        f.debug_struct("Subscription")
            .field("user", &self.shared.user)
            .field("id", &self.shared.id)
            .finish_non_exhaustive()
    }
}
