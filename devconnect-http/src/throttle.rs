//! Rate limits on signup and login per client address, so password guessing and
//! account-creation floods from one host are slowed down before any hashing is done.
//! (Login attempts per email are limited by the core for every frontend.)

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU32, Ordering};

use devconnect_core::Error;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// The per-address limiter of the authentication routes. A limit of 0 disables it.
pub struct Throttle {
    by_addr: Option<DefaultKeyedRateLimiter<IpAddr>>,
    checks: AtomicU32,
}

fn limiter<K: std::hash::Hash + Eq + Clone>(per_minute: u32) -> Option<DefaultKeyedRateLimiter<K>> {
    let n = NonZeroU32::new(per_minute)?;
    Some(RateLimiter::dashmap(Quota::per_minute(n).allow_burst(n)))
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

fn check<K: std::hash::Hash + Eq + Clone>(limiter: Option<&DefaultKeyedRateLimiter<K>>, key: &K) -> Result<(), Error> {
    let Some(limiter) = limiter else { return Ok(()) };
    limiter.check_key(key).map_err(|not_until| {
        metrics::counter!(devconnect_core::telemetry::RATE_LIMITED, "limit" => "auth_addr").increment(1);
        Error::RateLimited { retry_after: not_until.wait_time_from(DefaultClock::default().now()) }
    })
}

impl Throttle {
    /// A limit of `per_addr` attempts per minute (bursts of the same size).
    #[must_use]
    pub fn new(per_addr: u32) -> Self {
        Self { by_addr: limiter(per_addr), checks: AtomicU32::new(0) }
    }

    fn housekeeping(&self) {
        // Forget idle keys now and then, so the tables stay as small as the active set.
        if self.checks.fetch_add(1, Ordering::Relaxed) % 1024 == 1023 {
            if let Some(l) = &self.by_addr {
                l.retain_recent();
                l.shrink_to_fit();
            }
        }
    }

    /// Counts one attempt from `ip` (no-op when the address is unknown).
    pub fn check_addr(&self, ip: Option<IpAddr>) -> Result<(), Error> {
        self.housekeeping();
        match ip {
            Some(ip) => check(self.by_addr.as_ref(), &addr_key(ip)),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_over_the_limit_is_told_when_to_retry() {
        let t = Throttle::new(2);
        let a = Some(IpAddr::from([10, 0, 0, 1]));
        assert!(t.check_addr(a).is_ok());
        assert!(t.check_addr(a).is_ok());
        let err = t.check_addr(a).err();
        assert!(matches!(err, Some(Error::RateLimited { retry_after }) if retry_after.as_secs() <= 30));
        assert!(t.check_addr(Some(IpAddr::from([10, 0, 0, 2]))).is_ok());
        assert!(t.check_addr(None).is_ok());
        assert!(Throttle::new(0).check_addr(a).is_ok());
    }

    #[test]
    fn ipv6_hosts_share_their_64_network() {
        let a: IpAddr = "2001:db8::1".parse().unwrap_or(IpAddr::from([0u8; 16]));
        let b: IpAddr = "2001:db8::ffff:1".parse().unwrap_or(IpAddr::from([1u8; 16]));
        assert_eq!(addr_key(a), addr_key(b));
    }
}
