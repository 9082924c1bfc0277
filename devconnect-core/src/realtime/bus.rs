//! The event bus between server instances.
//!
//! Every realtime event, revocation and connection change goes through the
//! `Realtime` owner on its way to subscriptions. With one instance
//! (the default) that is the in-process hub alone: direct delivery, nothing else. With a
//! bus URL (`redis://…`, cargo feature `redis`) it also publishes each of them on one
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
pub(super) mod redis;

pub use crate::config::{BusConfig, DEFAULT_BUS_PREFIX, DEFAULT_PRESENCE_EXPIRY, DEFAULT_SESSION_RECHECK};

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
