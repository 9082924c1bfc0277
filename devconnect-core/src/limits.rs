//! Rate limits: per user on message sends and connection requests, per email on login
//! attempts, and per client address on signup and login attempts.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU32, Ordering};

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::{Error, Result, Settings, UserId};

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

/// The rate limits of one service.
pub(crate) struct Limits {
    messages: Option<Limiter>,
    requests: Option<Limiter>,
    logins: Option<Limiter<String>>,
    auth_addrs: Option<Limiter<IpAddr>>,
}

impl Limits {
    pub(crate) fn new(settings: &Settings) -> Self {
        Self {
            messages: Limiter::new(settings.message_rate, "message"),
            requests: Limiter::new(settings.request_rate, "request"),
            logins: Limiter::new(settings.login_rate, "login"),
            auth_addrs: Limiter::new(settings.auth_rate_per_addr, "auth_addr"),
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

    /// Signup and login attempts per client address.
    pub(crate) fn check_auth_addr(&self, ip: IpAddr) -> Result<()> {
        self.auth_addrs.as_ref().map_or(Ok(()), |l| l.check(&addr_key(ip)))
    }
}

/// The key of a client address: the address itself, or its /64 network for IPv6 (one
/// host usually owns a whole /64).
fn addr_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6((u128::from(v6) & !((1u128 << 64) - 1)).into()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_rates(message: u32, request: u32, login: u32, auth_addr: u32) -> Limits {
        Limits::new(&Settings {
            message_rate: RateLimit::per_minute(message),
            request_rate: RateLimit::per_minute(request),
            login_rate: RateLimit::per_minute(login),
            auth_rate_per_addr: RateLimit::per_minute(auth_addr),
            ..Settings::default()
        })
    }

    #[test]
    fn a_user_over_the_limit_is_told_when_to_retry_and_others_are_not_affected() {
        let limits = with_rates(2, 0, 1, 0);
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

    #[test]
    fn an_address_over_the_limit_is_told_when_to_retry_and_others_are_not_affected() {
        let limits = with_rates(0, 0, 0, 2);
        let a = IpAddr::from([10, 0, 0, 1]);
        assert!(limits.check_auth_addr(a).is_ok());
        assert!(limits.check_auth_addr(a).is_ok());
        let err = limits.check_auth_addr(a).err();
        assert!(matches!(err, Some(Error::RateLimited { retry_after }) if retry_after.as_secs() <= 30));
        assert!(limits.check_auth_addr(IpAddr::from([10, 0, 0, 2])).is_ok());
        let off = with_rates(0, 0, 0, 0);
        for _ in 0..100 {
            assert!(off.check_auth_addr(a).is_ok());
        }
    }

    #[test]
    fn ipv6_hosts_share_their_64_network_and_mapped_ipv4_is_ipv4() {
        let a: IpAddr = "2001:db8::1".parse().unwrap_or(IpAddr::from([0u8; 16]));
        let b: IpAddr = "2001:db8::ffff:1".parse().unwrap_or(IpAddr::from([1u8; 16]));
        let c: IpAddr = "2001:db8:0:1::1".parse().unwrap_or(IpAddr::from([2u8; 16]));
        assert_eq!(addr_key(a), addr_key(b));
        assert_ne!(addr_key(a), addr_key(c));
        let mapped: IpAddr = "::ffff:10.0.0.1".parse().unwrap_or(IpAddr::from([3u8; 16]));
        assert_eq!(addr_key(mapped), IpAddr::from([10, 0, 0, 1]));
    }
}
