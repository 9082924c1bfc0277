//! One queue of token expiries for the whole hub: when a live subscription's token
//! expires, the hub ends it ([`EndReason::Expired`](super::EndReason::Expired)).
//!
//! Why one queue: a timer per subscription (a boxed `tokio::time::Sleep`, 115 bytes)
//! was a fixed cost of every idle socket. Here a subscription costs one entry in a
//! sorted map (its deadline, its id, its user), and one task sleeps until the soonest
//! deadline. A subscription removes its entry when dropped, so the queue holds at most
//! the subscriptions that exist.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::task::AbortHandle;
use tokio::time::Instant;

use super::hub::Hub;
use crate::UserId;

/// A point in time as the expiry queue counts it: milliseconds since the queue was
/// made (tokio's clock, so a test may pause it). Not an `Instant`: 8 bytes instead of
/// 16, in every subscription and every entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Deadline(u64);

/// The hub's expiry queue and the task that works it.
pub(super) struct Expiry {
    origin: Instant,
    inner: Mutex<Inner>,
    /// Wakes the task when a deadline sooner than all others is added.
    sooner: Notify,
}

#[derive(Default)]
struct Inner {
    /// (deadline, subscription id) → the subscription's user, soonest first; the id
    /// makes equal deadlines distinct keys.
    due: BTreeMap<(Deadline, u64), UserId>,
    /// The task, started by the first entry (inside the runtime the hub serves).
    task: Option<AbortHandle>,
}

impl Expiry {
    pub(super) fn new() -> Self {
        Self { origin: Instant::now(), inner: Mutex::default(), sooner: Notify::new() }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // Single inserts and removals: a panic elsewhere cannot leave the map half-updated.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The deadline `left` from now, rounded up to the millisecond: never early.
    pub(super) fn deadline_in(&self, left: Duration) -> Deadline {
        let ms = self.origin.elapsed().saturating_add(left).as_nanos().div_ceil(1_000_000);
        Deadline(u64::try_from(ms).unwrap_or(u64::MAX))
    }

    /// Whether `deadline` has passed (now rounded down: never early).
    pub(super) fn is_past(&self, deadline: Deadline) -> bool {
        self.now() >= deadline
    }

    fn now(&self) -> Deadline {
        Deadline(u64::try_from(self.origin.elapsed().as_millis()).unwrap_or(u64::MAX))
    }

    fn instant(&self, deadline: Deadline) -> Instant {
        // A deadline past what `Instant` can hold is as good as never.
        let never = || Instant::now() + Duration::from_secs(100 * 365 * 86_400);
        self.origin.checked_add(Duration::from_millis(deadline.0)).unwrap_or_else(never)
    }

    /// Ends subscription `id` of `user` (through `hub`) at `deadline`, unless it is
    /// removed first. Starts the task if it is not running.
    pub(super) fn insert(self: &Arc<Self>, deadline: Deadline, id: u64, user: UserId, hub: &Arc<Hub>) {
        let mut inner = self.lock();
        let soonest = inner.due.first_key_value().is_none_or(|(first, _)| (deadline, id) < *first);
        inner.due.insert((deadline, id), user);
        // Started here rather than with the hub, which may be made outside a runtime;
        // started again if a runtime that ran it has shut down.
        if inner.task.as_ref().is_none_or(AbortHandle::is_finished) {
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                inner.task = Some(runtime.spawn(Arc::clone(self).run(Arc::downgrade(hub))).abort_handle());
            }
        }
        drop(inner);
        if soonest {
            self.sooner.notify_one();
        }
    }

    /// Forgets the entry of subscription `id` (dropped: nothing left to end).
    pub(super) fn remove(&self, deadline: Deadline, id: u64) {
        self.lock().due.remove(&(deadline, id));
    }

    /// Stops the task (the hub is closing or gone).
    pub(super) fn stop(&self) {
        if let Some(task) = self.lock().task.take() {
            task.abort();
        }
    }

    /// Takes the entries whose deadline has passed, soonest first, and returns them
    /// with the next deadline.
    fn take_due(&self) -> (Vec<(UserId, u64)>, Option<Deadline>) {
        let now = self.now();
        let mut inner = self.lock();
        let mut due = Vec::new();
        while let Some(entry) = inner.due.first_entry() {
            let next = entry.key().0;
            if next > now {
                return (due, Some(next));
            }
            let ((_, id), user) = entry.remove_entry();
            due.push((user, id));
        }
        (due, None)
    }

    /// The task: ends what is due, then sleeps until the next deadline or until a
    /// sooner one is added. Holds the hub weakly, so that it does not keep it alive.
    async fn run(self: Arc<Self>, hub: Weak<Hub>) {
        loop {
            let (due, next) = self.take_due();
            if !due.is_empty() {
                let Some(hub) = hub.upgrade() else { return };
                for (user, id) in due {
                    hub.expire(user, id);
                }
            }
            // `notify_one` leaves a permit when the task is not waiting: a deadline
            // added since `take_due` wakes it at once rather than being missed.
            match next {
                Some(next) => {
                    tokio::select! {
                        () = tokio::time::sleep_until(self.instant(next)) => {}
                        () = self.sooner.notified() => {}
                    }
                }
                None => self.sooner.notified().await,
            }
        }
    }

    /// How many entries are queued.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.lock().due.len()
    }
}
