//! Rate limits: per user on message sends, connection requests, reports, edits, searches,
//! typing events and password changes; per email on failed logins; per client address on
//! signup and login attempts.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

pub use crate::config::RateLimit;
use crate::model::Peer;
use crate::{Error, Result, Settings, UserId};

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
    reports: Option<Limiter>,
    edits: Option<Limiter>,
    searches: Option<Limiter>,
    typing: Option<Limiter>,
    password_changes: Option<Limiter>,
    logins: Option<LoginThrottle>,
    auth_addrs: Option<Limiter<IpAddr>>,
}

impl Limits {
    pub(crate) fn new(settings: &Settings) -> Self {
        Self {
            messages: Limiter::new(settings.message_rate, "message"),
            requests: Limiter::new(settings.request_rate, "request"),
            reports: Limiter::new(settings.report_rate, "report"),
            edits: Limiter::new(settings.edit_rate, "edit"),
            searches: Limiter::new(settings.search_rate, "search"),
            typing: Limiter::new(settings.typing_rate, "typing"),
            password_changes: Limiter::new(settings.login_rate, "password_change"),
            logins: Limiter::new(settings.login_rate, "login").map(LoginThrottle::new),
            auth_addrs: Limiter::new(settings.auth_rate_per_addr, "auth_addr"),
        }
    }

    pub(crate) fn check_message(&self, user: UserId) -> Result<()> {
        self.messages.as_ref().map_or(Ok(()), |l| l.check(&user))
    }

    pub(crate) fn check_request(&self, user: UserId) -> Result<()> {
        self.requests.as_ref().map_or(Ok(()), |l| l.check(&user))
    }

    pub(crate) fn check_report(&self, user: UserId) -> Result<()> {
        self.reports.as_ref().map_or(Ok(()), |l| l.check(&user))
    }

    /// Profile and group edits and push subscription changes per user.
    pub(crate) fn check_edit(&self, user: UserId) -> Result<()> {
        self.edits.as_ref().map_or(Ok(()), |l| l.check(&user))
    }

    pub(crate) fn check_search(&self, user: UserId) -> Result<()> {
        self.searches.as_ref().map_or(Ok(()), |l| l.check(&user))
    }

    /// Typing events per sender.
    pub(crate) fn check_typing(&self, user: UserId) -> Result<()> {
        self.typing.as_ref().map_or(Ok(()), |l| l.check(&user))
    }

    /// Password change attempts per user (each one verifies the old password).
    pub(crate) fn check_password_change(&self, user: UserId) -> Result<()> {
        self.password_changes.as_ref().map_or(Ok(()), |l| l.check(&user))
    }

    /// A login attempt on (normalised) `email` from `peer`, whichever frontend it
    /// comes through (see [`LoginThrottle`]).
    pub(crate) fn check_login(&self, email: &str, peer: Peer) -> Result<()> {
        self.logins.as_ref().map_or(Ok(()), |l| l.check(email, peer))
    }

    /// Records a failed login on `email` from `peer`.
    pub(crate) fn login_failed(&self, email: &str, peer: Peer) {
        if let Some(logins) = &self.logins {
            logins.failed(email, peer);
        }
    }

    /// Signup and login attempts per client address; the embedding program is not limited.
    pub(crate) fn check_auth_addr(&self, peer: Peer) -> Result<()> {
        match (peer, &self.auth_addrs) {
            (Peer::Remote(ip), Some(limiter)) => limiter.check(&addr_key(ip)),
            _ => Ok(()),
        }
    }
}

/// How long a failed login marks its (email, address) pair.
const FAILURE_MEMORY: Duration = Duration::from_secs(15 * 60);

/// Login attempts per email, throttled without locking the owner out (OWASP: throttle,
/// don't lock out). An address that failed on an email within [`FAILURE_MEMORY`] spends
/// from that email's budget, shared by every such address; an address with no recent
/// failure on it always gets its attempt. So an attacker failing on purpose exhausts the
/// budget only for addresses that failed, never for the owner's, and a botnet gets one
/// free guess per address and then the shared budget.
struct LoginThrottle {
    per_email: Limiter<String>,
    /// When each (email, address) pair last failed. Pruned as it grows.
    failures: Mutex<HashMap<(String, Option<IpAddr>), Instant>>,
}

impl LoginThrottle {
    fn new(per_email: Limiter<String>) -> Self {
        Self { per_email, failures: Mutex::default() }
    }

    fn key(email: &str, peer: Peer) -> (String, Option<IpAddr>) {
        let addr = match peer {
            Peer::Remote(ip) => Some(addr_key(ip)),
            Peer::Local => None,
        };
        (email.to_owned(), addr)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(String, Option<IpAddr>), Instant>> {
        // A poisoned map only loses failure marks; keep throttling with what is there.
        self.failures.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn check(&self, email: &str, peer: Peer) -> Result<()> {
        let failed_recently = self.lock().get(&Self::key(email, peer)).is_some_and(|at| at.elapsed() < FAILURE_MEMORY);
        if failed_recently { self.per_email.check(&email.to_owned()) } else { Ok(()) }
    }

    fn failed(&self, email: &str, peer: Peer) {
        let mut failures = self.lock();
        // Forget old failures once the map has doubled since the last pruning, so it
        // stays proportional to the failures of the last quarter hour.
        if failures.len() >= 1024 && failures.len().is_power_of_two() {
            failures.retain(|_, at| at.elapsed() < FAILURE_MEMORY);
            failures.shrink_to_fit();
        }
        failures.insert(Self::key(email, peer), Instant::now());
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

    fn remote(last: u8) -> Peer {
        Peer::Remote(IpAddr::from([10, 0, 0, last]))
    }

    #[test]
    fn a_user_over_the_limit_is_told_when_to_retry_and_others_are_not_affected() {
        let limits = with_rates(2, 0, 1, 0);
        let (a, b) = (UserId::new(), UserId::new());
        assert!(limits.check_message(a).is_ok());
        assert!(limits.check_message(a).is_ok());
        let err = limits.check_message(a).err();
        assert!(matches!(err, Some(Error::RateLimited { retry_after }) if retry_after.as_secs() <= 30));
        assert!(limits.check_message(b).is_ok());
        for _ in 0..100 {
            assert!(limits.check_request(a).is_ok());
        }
        assert!(limits.check_password_change(a).is_ok());
        assert!(limits.check_password_change(a).is_err());
        assert!(limits.check_password_change(b).is_ok());
    }

    #[test]
    fn failing_logins_from_one_address_never_lock_out_another() {
        let limits = with_rates(0, 0, 2, 0);
        let (attacker, owner) = (remote(1), remote(2));
        // The attacker's first attempt is free; each later one spends the email's budget.
        for _ in 0..3 {
            assert!(limits.check_login("v@x.io", attacker).is_ok());
            limits.login_failed("v@x.io", attacker);
        }
        assert!(limits.check_login("v@x.io", attacker).is_err());
        // The owner, from an address with no recent failure, still gets to try.
        assert!(limits.check_login("v@x.io", owner).is_ok());
        assert!(limits.check_login("v@x.io", owner).is_ok());
        // Other emails are not affected at the attacker's address either.
        assert!(limits.check_login("w@x.io", attacker).is_ok());
    }

    #[test]
    fn an_address_over_the_limit_is_told_when_to_retry_and_others_are_not_affected() {
        let limits = with_rates(0, 0, 0, 2);
        let a = IpAddr::from([10, 0, 0, 1]);
        let a = Peer::Remote(a);
        assert!(limits.check_auth_addr(a).is_ok());
        assert!(limits.check_auth_addr(a).is_ok());
        let err = limits.check_auth_addr(a).err();
        assert!(matches!(err, Some(Error::RateLimited { retry_after }) if retry_after.as_secs() <= 30));
        assert!(limits.check_auth_addr(remote(2)).is_ok());
        assert!(limits.check_auth_addr(Peer::Local).is_ok());
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
