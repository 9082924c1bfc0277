//! The event bus between server instances.
//!
//! Every realtime event, revocation and connection change goes through a broker on
//! its way to subscriptions. With one instance (the default) the broker is the
//! in-process hub itself: direct delivery, nothing else. With a bus URL
//! (`redis://…`, cargo feature `redis`) the broker also publishes each of them on one
//! Redis pub/sub channel, the role the Socket.IO Redis adapter plays for Node: every
//! instance subscribes and delivers to its own subscriptions of the target users.
//!
//! - **Exactly once per socket**: the publishing instance delivers locally at once and
//!   ignores its own echoes (each envelope names its instance); the others deliver what
//!   they receive. So local delivery keeps working while Redis is away.
//! - **Order**: one publisher task per instance sends envelopes in the order they were
//!   produced, so events of one conversation published by one instance arrive in order.
//!   Across instances, messages carry their server-assigned position (`seq`), which is
//!   what clients order by.
//! - **Presence** is kept in Redis: a set of instances per user, a set of users per
//!   instance, and a heartbeat per instance (a random id per process start, so a restart
//!   leaves no ghost). A user's first socket cluster-wide tells their connections they are
//!   online, their last one offline. Each instance reaps instances whose heartbeat
//!   stopped (one atomic script: exactly one reaper claims a dead instance) and tells the
//!   connections of its users who are now offline.
//! - **Outage**: events keep reaching local subscriptions, the outage is logged once,
//!   connections are retried with backoff, [`BusHealth::Unavailable`] is reported, and on
//!   reconnection the instance registers its users again. Messages are stored before they
//!   are published, so nothing acknowledged is lost; clients catch up with `sync`.

#[cfg(feature = "redis")]
mod redis;

use std::sync::Arc;

pub use crate::config::{BusConfig, DEFAULT_BUS_PREFIX, DEFAULT_PRESENCE_EXPIRY, DEFAULT_SESSION_RECHECK};
use crate::model::Event;
use crate::realtime::Hub;
use crate::{Result, UserId};

/// The state of the event bus, for health checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum BusHealth {
    /// One instance, no bus: nothing can be unavailable.
    InProcess,
    /// The shared bus is reachable.
    Connected,
    /// The shared bus is unreachable: this instance serves its own clients, but other
    /// instances' events and presence do not reach them until it is back.
    Unavailable,
}

impl BusHealth {
    /// A stable code: `in_process`, `connected` or `unavailable`.
    #[must_use]
    pub fn code(self) -> &'static str {
        match self {
            Self::InProcess => "in_process",
            Self::Connected => "connected",
            Self::Unavailable => "unavailable",
        }
    }

    /// Whether the instance works with reduced function (the bus is down).
    #[must_use]
    pub fn is_degraded(self) -> bool {
        self == Self::Unavailable
    }
}

/// Between "an event for user U" and the subscriptions that get it.
pub(crate) enum Broker {
    /// One instance: the hub delivers directly.
    InProcess,
    /// Several instances sharing a Redis bus.
    #[cfg(feature = "redis")]
    Redis(Arc<redis::RedisBus>),
}

impl Broker {
    /// Opens the broker `config` describes around `hub` (whose presence must then be
    /// shared through the returned sink's receiver: see [`Hub::with_presence`]).
    pub(crate) fn open(
        config: Option<&BusConfig>,
        settings: &crate::Settings,
        store: &Arc<dyn crate::Store>,
    ) -> Result<(Arc<Hub>, Self)> {
        let (queue, max_per_user) = (settings.event_queue, settings.max_sessions_per_user);
        let Some(config) = config else { return Ok((Arc::new(Hub::new(queue, max_per_user)), Self::InProcess)) };
        #[cfg(feature = "redis")]
        {
            let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
            let hub = Arc::new(Hub::with_presence(queue, max_per_user, Some(tx)));
            let bus = redis::RedisBus::start(config, Arc::clone(&hub), Arc::clone(store), rx)?;
            Ok((hub, Self::Redis(bus)))
        }
        #[cfg(not(feature = "redis"))]
        {
            let _ = (config, store);
            Err(crate::Error::validation("busUrl", "this build has no Redis support (cargo feature `redis`)"))
        }
    }

    /// Delivers `event` to every subscription of each of `users`, on every instance.
    pub(crate) fn deliver(&self, hub: &Hub, users: &[UserId], event: &Event) {
        for user in users {
            hub.deliver(*user, event);
        }
        #[cfg(feature = "redis")]
        if let Self::Redis(bus) = self {
            bus.publish_event(users, event);
        }
    }

    /// Ends, on every instance, the subscriptions of `user` opened with `token_id`.
    pub(crate) fn revoke_token(&self, hub: &Hub, user: UserId, token_id: &str) {
        hub.revoke_token(user, token_id);
        #[cfg(feature = "redis")]
        if let Self::Redis(bus) = self {
            bus.publish_revoke_token(user, token_id);
        }
    }

    /// Ends, on every instance, the subscriptions of `user` opened with a token older
    /// than `version`.
    pub(crate) fn revoke_older_tokens(&self, hub: &Hub, user: UserId, version: i64) {
        hub.revoke_older_tokens(user, version);
        #[cfg(feature = "redis")]
        if let Self::Redis(bus) = self {
            bus.publish_revoke_older(user, version);
        }
    }

    /// `a` and `b` became connected: every instance updates what it knows, and each sees
    /// the other online if both are.
    pub(crate) fn connected(&self, hub: &Hub, a: UserId, b: UserId) {
        hub.connected(a, b);
        #[cfg(feature = "redis")]
        if let Self::Redis(bus) = self {
            bus.connection_changed(a, b, true);
        }
    }

    /// `a` and `b` are no longer connected (see [`Broker::connected`]).
    pub(crate) fn disconnected(&self, hub: &Hub, a: UserId, b: UserId) {
        hub.disconnected(a, b);
        #[cfg(feature = "redis")]
        if let Self::Redis(bus) = self {
            bus.connection_changed(a, b, false);
        }
    }

    /// Whether each of `users` is online on any instance. Falls back to this
    /// instance's knowledge while the bus is unavailable.
    pub(crate) async fn online_among(&self, hub: &Hub, users: &[UserId]) -> Vec<bool> {
        let local: Vec<bool> = users.iter().map(|u| hub.is_online(*u)).collect();
        match self {
            Self::InProcess => local,
            #[cfg(feature = "redis")]
            Self::Redis(bus) => match bus.online_among(users).await {
                Some(remote) => local.iter().zip(remote).map(|(l, r)| *l || r).collect(),
                None => local,
            },
        }
    }

    /// Whether this is the in-process broker (presence known locally, synchronously).
    pub(crate) fn is_in_process(&self) -> bool {
        matches!(self, Self::InProcess)
    }

    pub(crate) fn health(&self) -> BusHealth {
        match self {
            Self::InProcess => BusHealth::InProcess,
            #[cfg(feature = "redis")]
            Self::Redis(bus) => bus.health(),
        }
    }

    /// Leaves the cluster (this instance's users go offline for everyone at once,
    /// rather than after the presence expiry) and stops the background tasks.
    pub(crate) async fn close(&self) {
        #[cfg(feature = "redis")]
        if let Self::Redis(bus) = self {
            bus.close().await;
        }
    }
}
