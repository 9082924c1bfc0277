//! Per-user rate limits on message sends and connection requests.

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU32, Ordering};

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::{Error, Result, UserId};

/// How many actions of a kind one user may take: a sustained rate per minute, with
/// bursts up to the same number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimit {
    /// Allowed per minute (and as a burst). `None` disables the limit.
    pub per_minute: Option<NonZeroU32>,
}

impl RateLimit {
    /// A limit of `n` per minute; 0 disables it.
    #[must_use]
    pub fn per_minute(n: u32) -> Self {
        Self { per_minute: NonZeroU32::new(n) }
    }
}

struct Limiter<K: std::hash::Hash + Eq + Clone = UserId> {
    limiter: DefaultKeyedRateLimiter<K>,
    checks: AtomicU32,
    /// The `limit` label of rejections in the metrics.
    name: &'static str,
}

impl<K: std::hash::Hash + Eq + Clone> Limiter<K> {
    fn new(limit: RateLimit, name: &'static str) -> Option<Self> {
        let n = limit.per_minute?;
        Some(Self {
            limiter: RateLimiter::dashmap(Quota::per_minute(n).allow_burst(n)),
            checks: AtomicU32::new(0),
            name,
        })
    }

    fn check(&self, key: &K) -> Result<()> {
        // Forget idle users now and then so the table stays as small as the active set.
        if self.checks.fetch_add(1, Ordering::Relaxed) % 4096 == 4095 {
            self.limiter.retain_recent();
            self.limiter.shrink_to_fit();
        }
        self.limiter.check_key(key).map_err(|not_until| {
            crate::telemetry::rate_limited(self.name);
            Error::RateLimited { retry_after: not_until.wait_time_from(DefaultClock::default().now()) }
        })
    }
}

/// The per-user limits of one service.
pub(crate) struct Limits {
    messages: Option<Limiter>,
    requests: Option<Limiter>,
    logins: Option<Limiter<String>>,
}

impl Limits {
    pub(crate) fn new(messages: RateLimit, requests: RateLimit, logins: RateLimit) -> Self {
        Self {
            messages: Limiter::new(messages, "message"),
            requests: Limiter::new(requests, "request"),
            logins: Limiter::new(logins, "login"),
        }
    }

    pub(crate) fn check_message(&self, user: UserId) -> Result<()> {
        self.messages.as_ref().map_or(Ok(()), |l| l.check(&user))
    }

    pub(crate) fn check_request(&self, user: UserId) -> Result<()> {
        self.requests.as_ref().map_or(Ok(()), |l| l.check(&user))
    }

    /// Login attempts per (normalised) email, whichever frontend they come through.
    pub(crate) fn check_login(&self, email: &str) -> Result<()> {
        self.logins.as_ref().map_or(Ok(()), |l| l.check(&email.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_over_the_limit_is_told_when_to_retry_and_others_are_not_affected() {
        let limits = Limits::new(RateLimit::per_minute(2), RateLimit::per_minute(0), RateLimit::per_minute(1));
        assert!(limits.check_login("a@x.io").is_ok());
        assert!(limits.check_login("a@x.io").is_err());
        assert!(limits.check_login("b@x.io").is_ok());
        let (a, b) = (UserId::new(), UserId::new());
        assert!(limits.check_message(a).is_ok());
        assert!(limits.check_message(a).is_ok());
        let err = limits.check_message(a).err();
        assert!(matches!(err, Some(Error::RateLimited { retry_after }) if retry_after.as_secs() <= 30));
        assert!(limits.check_message(b).is_ok());
        for _ in 0..100 {
            assert!(limits.check_request(a).is_ok());
        }
    }
}
