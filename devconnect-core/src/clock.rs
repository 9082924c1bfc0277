//! Where the service reads the time for token issue and expiry (and so for when a live
//! session's token runs out) and for cool-downs such as a rejected request's, and so
//! for the record times such a rule reads back (a request's). Tests that need a token
//! to expire move a [`ManualClock`] forward instead of sleeping. Other record timestamps
//! (`createdAt`, …) stay on the system clock.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};

/// A source of the current time.
pub trait Clock: Send + Sync + std::fmt::Debug + 'static {
    /// Now.
    fn now(&self) -> DateTime<Utc>;
}

/// The system's clock: what a running service uses.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that moves only when told to ([`ManualClock::advance`]): starts at the
/// system time it was made at. For tests of expiry.
#[derive(Debug)]
pub struct ManualClock {
    origin: DateTime<Utc>,
    /// Milliseconds moved forward since `origin`.
    advanced_ms: AtomicI64,
}

impl ManualClock {
    /// A clock standing at the current system time.
    #[must_use]
    pub fn new() -> Self {
        Self { origin: Utc::now(), advanced_ms: AtomicI64::new(0) }
    }

    /// Moves the clock forward by `by` (to the millisecond).
    pub fn advance(&self, by: Duration) {
        let ms = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        self.advanced_ms.fetch_add(ms, Ordering::SeqCst);
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        self.origin + chrono::Duration::milliseconds(self.advanced_ms.load(Ordering::SeqCst))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_advanced() {
        let clock = ManualClock::new();
        let start = clock.now();
        assert_eq!(clock.now(), start);
        clock.advance(Duration::from_millis(1500));
        assert_eq!(clock.now() - start, chrono::Duration::milliseconds(1500));
    }
}
