//! Live events and presence, owned by one `Realtime` per service: every event is
//! delivered, every presence change counted and every token revoked through it.
//!
//! - `hub`: this process's subscriptions and presence.
//! - `queue`: what the hub and one subscription share (its queue, waker, end reason
//!   and token), in one allocation.
//! - `expiry`: one queue of token expiries for the whole hub.
//! - [`subscription`]: one user's event stream and why it ends.
//! - [`live`]: the session every frontend serves ([`DevConnect::live`]): the online
//!   list, then what was missed, then live events, then an end reason.
//! - [`bus`]: the event bus between instances (Redis), when there are several.
//!
//! Each subscription has a bounded queue. A subscriber that falls that far behind is
//! ended (reason [`EndReason::Lagged`]) rather than buffering without bound or slowing
//! anyone else; it reconnects and catches up with [`DevConnect::sync`]. Most of the
//! time the queue is empty, so an idle subscription's cost is what counts: one
//! allocation (queue, waker, end reason, token) and an entry in the hub's expiry queue,
//! no buffer and no timer of its own.
//!
//! With several server instances (a bus URL), the hub still holds only this process's
//! subscriptions; presence is shared through the bus instead: the hub reports a user's
//! first and last local subscription to the bus, which decides whether that changed the
//! user's presence cluster-wide and tells their connections.

pub mod bus;
mod expiry;
mod hub;
pub mod live;
mod queue;
pub mod subscription;

use std::sync::Arc;

pub use bus::BusHealth;
use hub::Hub;
pub use live::{Live, LiveItem};
pub use subscription::{EndReason, Subscription};

use crate::auth::Session;
use crate::chat::{AnyMessage, MAX_SYNC_LIMIT, SyncPage};
use crate::config::{BusConfig, Settings};
pub use crate::model::{Event, ReadReceipt};
use crate::{DevConnect, Error, MessageId, Result, Store, UserId};

/// The one owner of realtime: this process's hub and, with several instances, the bus
/// between them. Every event is delivered, every connection change recorded and every
/// token revoked through it, so no caller decides "one instance or several".
pub(crate) struct Realtime {
    hub: Arc<Hub>,
    #[cfg(feature = "redis")]
    bus: Option<Arc<bus::redis::RedisBus>>,
}

impl Realtime {
    /// Realtime for one instance: the hub alone.
    pub(crate) fn in_process(settings: &Settings) -> Self {
        Self {
            hub: Arc::new(Hub::new(settings.event_queue, settings.max_sessions_per_user)),
            #[cfg(feature = "redis")]
            bus: None,
        }
    }

    /// Realtime as `config` describes it: in-process without a bus, else a hub whose
    /// presence is shared through the bus.
    pub(crate) fn open(config: Option<&BusConfig>, settings: &Settings, store: &Arc<dyn Store>) -> Result<Self> {
        let Some(config) = config else { return Ok(Self::in_process(settings)) };
        #[cfg(feature = "redis")]
        {
            let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
            let hub = Arc::new(Hub::with_presence(settings.event_queue, settings.max_sessions_per_user, Some(tx)));
            let bus = bus::redis::RedisBus::start(config, Arc::clone(&hub), Arc::clone(store), rx)?;
            Ok(Self { hub, bus: Some(bus) })
        }
        #[cfg(not(feature = "redis"))]
        {
            let _ = (config, store);
            Err(Error::validation("busUrl", "this build has no Redis support (cargo feature `redis`)"))
        }
    }

    /// Whether presence is known here alone, synchronously (no bus).
    fn is_in_process(&self) -> bool {
        #[cfg(feature = "redis")]
        return self.bus.is_none();
        #[cfg(not(feature = "redis"))]
        true
    }

    /// Delivers `event` to every subscription of each of `users`, on every instance.
    pub(crate) fn deliver(&self, users: &[UserId], event: &Event) {
        for user in users {
            self.hub.deliver(*user, event);
        }
        #[cfg(feature = "redis")]
        if let Some(bus) = &self.bus {
            bus.publish_event(users, event);
        }
    }

    /// Ends, on every instance, the subscriptions of `user` opened with `token_id`.
    pub(crate) fn revoke_token(&self, user: UserId, token_id: &str) {
        self.hub.revoke_token(user, token_id);
        #[cfg(feature = "redis")]
        if let Some(bus) = &self.bus {
            bus.publish_revoke_token(user, token_id);
        }
    }

    /// Ends, on every instance, the subscriptions of `user` opened with a token older
    /// than `version`.
    pub(crate) fn revoke_older_tokens(&self, user: UserId, version: i64) {
        self.hub.revoke_older_tokens(user, version);
        #[cfg(feature = "redis")]
        if let Some(bus) = &self.bus {
            bus.publish_revoke_older(user, version);
        }
    }

    /// Ends every subscription of `user` on this instance (other instances learn of a
    /// suspension from the audit log, see `moderation`).
    pub(crate) fn end_user(&self, user: UserId, reason: EndReason) {
        self.hub.end_all(user, reason);
    }

    /// `a` and `b` became connected: every instance updates what it knows, and each sees
    /// the other online if both are.
    pub(crate) fn connected(&self, a: UserId, b: UserId) {
        self.hub.connected(a, b);
        #[cfg(feature = "redis")]
        if let Some(bus) = &self.bus {
            bus.connection_changed(a, b, true);
        }
    }

    /// `a` and `b` are no longer connected (see [`Realtime::connected`]).
    pub(crate) fn disconnected(&self, a: UserId, b: UserId) {
        self.hub.disconnected(a, b);
        #[cfg(feature = "redis")]
        if let Some(bus) = &self.bus {
            bus.connection_changed(a, b, false);
        }
    }

    /// Whether `a` is online here and known to be connected with `b` (a shortcut that
    /// saves a store read; `false` says nothing).
    pub(crate) fn knows_connected(&self, a: UserId, b: UserId) -> bool {
        self.hub.knows_connected(a, b)
    }

    /// Whether each of `users` is online on any instance. Falls back to this
    /// instance's knowledge while the bus is unavailable.
    pub(crate) async fn online_among(&self, users: &[UserId]) -> Vec<bool> {
        let local: Vec<bool> = users.iter().map(|u| self.hub.is_online(*u)).collect();
        #[cfg(feature = "redis")]
        if let Some(bus) = &self.bus {
            if let Some(remote) = bus.online_among(users).await {
                return local.iter().zip(remote).map(|(l, r)| *l || r).collect();
            }
        }
        local
    }

    /// The state of the bus ([`BusHealth::InProcess`] without one).
    pub(crate) fn health(&self) -> BusHealth {
        #[cfg(feature = "redis")]
        if let Some(bus) = &self.bus {
            return bus.health();
        }
        BusHealth::InProcess
    }

    /// Leaves the cluster (this instance's users go offline for everyone at once,
    /// rather than after the presence expiry) and stops the background tasks.
    pub(crate) async fn close(&self) {
        self.hub.close();
        #[cfg(feature = "redis")]
        if let Some(bus) = &self.bus {
            bus.close().await;
        }
    }
}

impl DevConnect {
    /// Opens a live event stream for `user`, making them online until it is dropped.
    /// Their online connections get a presence event if this is their first one. A user
    /// holds at most [`Settings::max_sessions_per_user`](crate::Settings) at once
    /// (`LimitExceeded` beyond).
    pub async fn subscribe(&self, user: UserId) -> Result<Subscription> {
        self.user_record(user).await?;
        self.register(user, None).await
    }

    /// Registers a subscription of `user` in the hub with their connections. A
    /// connection made or removed while they were read is not lost: see
    /// `Hub::connection_epoch`.
    async fn register(&self, user: UserId, session: Option<&Session>) -> Result<Subscription> {
        let hub = &self.inner.realtime.hub;
        let epoch = hub.connection_epoch();
        let connections = self.inner.store.connection_ids(user).await?;
        let subscription = hub.subscribe(user, session, connections, self.inner.settings.clock.now())?;
        if hub.connection_epoch() != epoch {
            hub.refresh_connections(user, &self.inner.store.connection_ids(user).await?);
        }
        Ok(subscription)
    }

    /// Like [`DevConnect::subscribe`], for an authenticated token: the stream also ends
    /// when that token is logged out, revoked by a password change, or expires. With
    /// `resume_after` (the last message the client has), [`DevConnect::catch_up`] then
    /// pages through what it missed; a message id that is not one of the user's is
    /// refused here (`Validation` on `lastMessageId`), before anything goes live.
    ///
    /// A revocation can land at any point of this call and still end the stream: the
    /// subscription is registered first (from then on a revocation ends it), and the
    /// token is then checked again against the store (a revocation stored before the
    /// registration is seen there). Every frontend gets this by calling it; none can
    /// open a stream on a revoked token in between.
    pub async fn subscribe_session(&self, session: &Session, resume_after: Option<MessageId>) -> Result<Subscription> {
        let user = session.user_id;
        if let Some(after) = resume_after {
            if let Err(err) = self.inner.store.sync(user, Some(after), &[], 1).await {
                return Err(match err {
                    Error::NotFound(_) => Error::validation("lastMessageId", "is not a message to or from you"),
                    other => other,
                });
            }
        }
        let mut subscription = self.register(user, Some(session)).await?;
        let state = self.inner.store.auth_state(user, &session.token_id).await?;
        if !state.is_some_and(|s| !s.revoked && !s.suspended && s.token_version == session.token_version) {
            // Dropping it unregisters it.
            return Err(Error::Unauthorized("token revoked"));
        }
        subscription.resume = resume_after;
        Ok(subscription)
    }

    /// The next page (at most [`MAX_SYNC_LIMIT`] messages) of what `sub`'s user missed
    /// since the message it was opened to resume after, in order; `sub` then leaves
    /// out its live copies of these messages. Call it until `has_more` is false (an
    /// empty page when no catch-up is due), then read live events: a message stored in
    /// between shows up in both and reaches the client once, in order.
    pub async fn catch_up(&self, sub: &mut Subscription) -> Result<SyncPage> {
        let Some(after) = sub.resume else { return Ok(SyncPage { messages: Vec::new(), has_more: false }) };
        let page = self.sync(sub.user_id(), Some(after), Some(MAX_SYNC_LIMIT)).await?;
        // A page is in position order: its last message is its highest.
        if let Some(last) = page.messages.last() {
            sub.skip_through(last.seq());
        }
        sub.resume = page.messages.last().map(AnyMessage::id).filter(|_| page.has_more);
        Ok(page)
    }

    /// `me` (if online) and those of my connections who are online, `me` first. With
    /// several instances, "online" means on any of them.
    pub async fn online_connections(&self, me: UserId) -> Result<Vec<UserId>> {
        let realtime = &self.inner.realtime;
        if realtime.is_in_process() {
            if let Some(ids) = realtime.hub.online_connections(me) {
                return Ok(ids);
            }
        }
        let mut ids = match realtime.hub.connections_of(me) {
            Some(ids) => ids,
            None => self.inner.store.connection_ids(me).await?,
        };
        ids.sort();
        ids.insert(0, me);
        let online = realtime.online_among(&ids).await;
        Ok(ids.into_iter().zip(online).filter_map(|(id, on)| on.then_some(id)).collect())
    }

    /// Whether `user` has a live subscription in this process. With several
    /// instances, [`DevConnect::online_connections`] and [`DevConnect::chat_partners`]
    /// say who is online on any of them.
    #[must_use]
    pub fn is_online(&self, user: UserId) -> bool {
        self.inner.realtime.hub.is_online(user)
    }
}
