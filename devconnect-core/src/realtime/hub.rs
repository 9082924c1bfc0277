//! This process's subscriptions and presence: for every online user, their open
//! subscriptions and the ids of their connections (loaded once when they come online,
//! kept current on accept and remove). Presence is reference-counted: a user is online
//! while any subscription is open (several tabs, devices). Presence changes go only to
//! the user's online connections, never to everyone; with a bus they go to the bus,
//! which decides what is a change cluster-wide.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::mpsc;

use super::expiry::Expiry;
use super::queue::{Shared, Token, TokenId};
use super::subscription::{EndReason, Subscription};
use crate::auth::Session;
use crate::model::Event;
use crate::{Error, Result, UserId};

/// A subscription as the hub holds it: its queue, end reason and token, shared with
/// the [`Subscription`] (one allocation, see `queue`).
type Sub = Arc<Shared>;

#[derive(Default)]
struct Online {
    subs: Vec<Sub>,
    connections: IdSet,
}

/// A user's connections while they are online: sorted ids in one exact-size allocation
/// (12 bytes each; a `HashSet` cost 68 bytes for one connection, and 48 inline in every
/// online user's map entry). Lookups are binary searches; changes, which happen on
/// accept and remove only, copy the slice.
#[derive(Default)]
struct IdSet(Box<[UserId]>);

impl IdSet {
    fn new(mut ids: Vec<UserId>) -> Self {
        ids.sort_unstable();
        ids.dedup();
        Self(ids.into_boxed_slice())
    }

    fn contains(&self, id: &UserId) -> bool {
        self.0.binary_search(id).is_ok()
    }

    fn insert(&mut self, id: UserId) {
        if let Err(at) = self.0.binary_search(&id) {
            let mut ids = std::mem::take(&mut self.0).into_vec();
            ids.insert(at, id);
            self.0 = ids.into_boxed_slice();
        }
    }

    fn remove(&mut self, id: &UserId) {
        if let Ok(at) = self.0.binary_search(id) {
            let mut ids = std::mem::take(&mut self.0).into_vec();
            ids.remove(at);
            self.0 = ids.into_boxed_slice();
        }
    }

    fn iter(&self) -> impl Iterator<Item = &UserId> {
        self.0.iter()
    }
}

type Users = HashMap<UserId, Online>;

/// A user's first local subscription opened (`true`) or their last one closed
/// (`false`), with their connections as this process knows them.
pub(crate) type LocalPresence = (UserId, bool, Vec<UserId>);

/// Where presence changes go: to the user's connections on this process (one
/// instance), or to the bus that shares presence between instances.
type PresenceSink = Option<mpsc::UnboundedSender<LocalPresence>>;

/// Presence and per-user event delivery for this process.
pub(crate) struct Hub {
    users: Mutex<Users>,
    next_id: AtomicU64,
    /// Bumped by every connection change the hub hears of (see [`Hub::connection_epoch`]).
    connection_changes: AtomicU64,
    queue_capacity: usize,
    max_per_user: usize,
    shared: PresenceSink,
    /// When each live subscription's token expires (one queue and one task for all).
    expiry: Arc<Expiry>,
}

/// The token a live subscription was opened with, as [`Hub::live_tokens`] lists them.
#[cfg(feature = "redis")]
pub(crate) struct LiveToken {
    pub(crate) user: UserId,
    pub(crate) token_id: String,
    pub(crate) version: i64,
}

impl Hub {
    /// A hub with subscription queues of `queue_capacity` events and at most
    /// `max_per_user` subscriptions per user.
    pub(crate) fn new(queue_capacity: usize, max_per_user: usize) -> Self {
        Self::with_presence(queue_capacity, max_per_user, None)
    }

    /// A hub whose presence changes are reported to `shared` instead of being sent to
    /// local connections (several instances: the bus decides what is a change).
    pub(crate) fn with_presence(queue_capacity: usize, max_per_user: usize, shared: PresenceSink) -> Self {
        Self {
            users: Mutex::default(),
            next_id: AtomicU64::new(1),
            connection_changes: AtomicU64::new(0),
            queue_capacity: queue_capacity.clamp(1, 1 << 20),
            max_per_user: max_per_user.max(1),
            shared,
            expiry: Arc::new(Expiry::new()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Users> {
        // A panic while holding the lock cannot leave the map half-updated in a way that
        // matters more than losing presence entirely, so keep serving.
        self.users.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(super) fn subscribe(
        self: &Arc<Self>,
        user: UserId,
        session: Option<&Session>,
        connections: Vec<UserId>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Subscription> {
        let mut users = self.lock();
        // Checked and counted under one lock: concurrent opens cannot exceed the cap.
        if users.get(&user).is_some_and(|o| o.subs.len() >= self.max_per_user) {
            return Err(Error::LimitExceeded("too many live sessions for this user; close one first"));
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let token = session.map(|s| Token {
            id: TokenId::new(&s.token_id),
            version: s.token_version,
            expires: self.expiry.deadline_in((s.expires_at - now).to_std().unwrap_or_default()),
        });
        let sub = Arc::new(Shared::new(id, user, token));
        if !users.contains_key(&user) {
            let connections = IdSet::new(connections);
            if let Some(shared) = &self.shared {
                let _ = shared.send((user, true, connections.iter().copied().collect()));
            } else {
                let event = Event::Presence { user_id: user, online: true };
                for c in connections.iter() {
                    self.send_to(&mut users, *c, &event);
                }
            }
            // Most users have one socket open: room for one, not Vec's default four.
            users.insert(user, Online { subs: Vec::with_capacity(1), connections });
            crate::telemetry::user_online(); // metrics
        }
        if let Some(online) = users.get_mut(&user) {
            online.subs.push(Arc::clone(&sub));
        }
        drop(users);
        // Queued before the subscription is returned, so its drop (which removes the
        // entry) always comes after.
        if let Some(token) = &sub.token {
            self.expiry.insert(token.expires, id, user, self);
        }
        Ok(Subscription::new(Arc::clone(self), sub))
    }

    /// Delivers `event` to every subscription of `user` (none if offline).
    pub(crate) fn deliver(&self, user: UserId, event: &Event) {
        self.send_to(&mut self.lock(), user, event);
    }

    /// The distinct tokens of this process's live subscriptions.
    #[cfg(feature = "redis")]
    pub(crate) fn live_tokens(&self) -> Vec<LiveToken> {
        let users = self.lock();
        let mut tokens = Vec::new();
        for (user, online) in users.iter() {
            let mut seen: HashSet<&TokenId> = HashSet::new();
            for token in online.subs.iter().filter_map(|s| s.token.as_ref()) {
                if seen.insert(&token.id) {
                    tokens.push(LiveToken { user: *user, token_id: token.id.to_string(), version: token.version });
                }
            }
        }
        tokens
    }

    /// Ends the live subscriptions on this process whose token is no longer valid in
    /// `store` (logged out, superseded by a password change, or its user gone). The bus
    /// runs it periodically and after each reconnection, so a revocation whose bus
    /// message was lost still ends them. Returns how many tokens were found revoked.
    #[cfg(feature = "redis")]
    pub(crate) async fn recheck_tokens(&self, store: &dyn crate::Store) -> usize {
        let mut revoked = 0;
        for live in self.live_tokens() {
            match store.auth_state(live.user, &live.token_id).await {
                Ok(Some(state)) if state.suspended => self.end_all(live.user, EndReason::Suspended),
                Ok(Some(state)) if state.revoked => self.revoke_token(live.user, &live.token_id),
                Ok(Some(state)) if state.token_version != live.version => {
                    self.revoke_older_tokens(live.user, state.token_version);
                }
                Ok(Some(_)) => continue,
                Ok(None) => self.revoke_token(live.user, &live.token_id),
                Err(err) => {
                    tracing::warn!(code = err.code(), "could not recheck live sessions; retrying later");
                    return revoked;
                }
            }
            revoked += 1;
        }
        if revoked > 0 {
            tracing::info!(revoked, "ended live sessions whose token was revoked elsewhere");
        }
        revoked
    }

    /// The users with a subscription on this process.
    #[cfg(feature = "redis")]
    pub(crate) fn online_users(&self) -> Vec<UserId> {
        self.lock().keys().copied().collect()
    }

    pub(crate) fn is_online(&self, user: UserId) -> bool {
        self.lock().contains_key(&user)
    }

    /// Whether `a` is online and known to be connected with `b`.
    pub(crate) fn knows_connected(&self, a: UserId, b: UserId) -> bool {
        self.lock().get(&a).is_some_and(|o| o.connections.contains(&b))
    }

    /// The connections of `user` in id order, if `user` is online here (so they are known).
    pub(super) fn connections_of(&self, user: UserId) -> Option<Vec<UserId>> {
        self.lock().get(&user).map(|o| o.connections.iter().copied().collect())
    }

    /// `user` and their online connections, if `user` is online.
    pub(super) fn online_connections(&self, user: UserId) -> Option<Vec<UserId>> {
        let users = self.lock();
        let online = users.get(&user)?;
        // Me first, then the others in id order, as they are kept.
        let others = online.connections.iter().copied().filter(|c| users.contains_key(c));
        Some(std::iter::once(user).chain(others).collect())
    }

    /// A counter of the connection changes this hub has heard of. A subscriber reads it
    /// before reading its connections from the store and again once registered: if it
    /// moved, a change may have landed in between, missed by both the read and the hub,
    /// and the connections are read again ([`Hub::refresh_connections`]).
    pub(super) fn connection_epoch(&self) -> u64 {
        self.connection_changes.load(Ordering::SeqCst)
    }

    /// Sets `user`'s known connections to `fresh`, applying each difference as a
    /// connection change.
    pub(super) fn refresh_connections(&self, user: UserId, fresh: &[UserId]) {
        let Some(known) = self.connections_of(user) else { return };
        let fresh_set: HashSet<UserId> = fresh.iter().copied().collect();
        for gone in known.iter().filter(|c| !fresh_set.contains(c)) {
            self.disconnected(user, *gone);
        }
        for new in fresh.iter().filter(|c| known.binary_search(c).is_err()) {
            self.connected(user, *new);
        }
    }

    /// Records that `a` and `b` are now connected; on one instance, tells each the
    /// other's presence (the bus does that when presence is shared).
    pub(crate) fn connected(&self, a: UserId, b: UserId) {
        self.connection_changes.fetch_add(1, Ordering::SeqCst);
        let mut users = self.lock();
        let a_online = users.get_mut(&a).map(|o| o.connections.insert(b)).is_some();
        let b_online = users.get_mut(&b).map(|o| o.connections.insert(a)).is_some();
        if a_online && b_online && self.shared.is_none() {
            self.send_to(&mut users, a, &Event::Presence { user_id: b, online: true });
            self.send_to(&mut users, b, &Event::Presence { user_id: a, online: true });
        }
    }

    /// Records that `a` and `b` are no longer connected (see [`Hub::connected`]).
    pub(crate) fn disconnected(&self, a: UserId, b: UserId) {
        self.connection_changes.fetch_add(1, Ordering::SeqCst);
        let mut users = self.lock();
        let a_online = users.get_mut(&a).map(|o| o.connections.remove(&b)).is_some();
        let b_online = users.get_mut(&b).map(|o| o.connections.remove(&a)).is_some();
        if a_online && b_online && self.shared.is_none() {
            self.send_to(&mut users, a, &Event::Presence { user_id: b, online: false });
            self.send_to(&mut users, b, &Event::Presence { user_id: a, online: false });
        }
    }

    /// Ends the subscriptions of `user` opened with token `token_id`.
    pub(crate) fn revoke_token(&self, user: UserId, token_id: &str) {
        self.end_where(user, EndReason::Revoked, |t| t.id.matches(token_id));
    }

    /// Ends the subscriptions of `user` opened with a token older than `version`.
    pub(crate) fn revoke_older_tokens(&self, user: UserId, version: i64) {
        self.end_where(user, EndReason::Revoked, |t| t.version < version);
    }

    /// Ends every subscription of `user`, whatever it was opened with.
    pub(crate) fn end_all(&self, user: UserId, reason: EndReason) {
        self.end_subs(user, reason, |_| true);
    }

    /// Ends subscription `id` of `user` because its token expired (the expiry queue's
    /// task, or the subscription itself if it sees the deadline first).
    pub(super) fn expire(&self, user: UserId, id: u64) {
        self.end_subs(user, EndReason::Expired, |s| s.id == id);
    }

    fn end_where(&self, user: UserId, reason: EndReason, matches: impl Fn(&Token) -> bool) {
        self.end_subs(user, reason, |s| s.token.as_ref().is_some_and(&matches));
    }

    fn end_subs(&self, user: UserId, reason: EndReason, matches: impl Fn(&Sub) -> bool) {
        let mut users = self.lock();
        let Some(online) = users.get_mut(&user) else { return };
        online.subs.retain(|sub| {
            let ends = matches(sub);
            if ends {
                sub.end(reason);
            }
            !ends
        });
        if online.subs.is_empty() {
            self.go_offline(&mut users, user);
        }
    }

    /// Removes a dropped subscription, and its token's entry in the expiry queue.
    pub(super) fn unsubscribe(&self, sub: &Shared) {
        let mut users = self.lock();
        if let Some(online) = users.get_mut(&sub.user) {
            online.subs.retain(|s| s.id != sub.id);
            if online.subs.is_empty() {
                self.go_offline(&mut users, sub.user);
            }
        }
        drop(users);
        if let Some(token) = &sub.token {
            self.expiry.remove(token.expires, sub.id);
        }
    }

    /// Whether `deadline` (a token's expiry) has passed.
    pub(super) fn expiry_is_past(&self, deadline: super::expiry::Deadline) -> bool {
        self.expiry.is_past(deadline)
    }

    /// Stops the expiry queue's task (the service is closing).
    pub(super) fn close(&self) {
        self.expiry.stop();
    }

    /// Sends to every subscription of `user`; ends the ones whose queue is full, except
    /// for a typing event, which is only dropped: it is stale by the time the queue
    /// drains, and others' typing must never be what knocks a subscriber off.
    fn send_to(&self, users: &mut Users, user: UserId, event: &Event) {
        let Some(online) = users.get_mut(&user) else { return };
        let mut lagged = 0;
        let droppable = matches!(event, Event::Typing { .. });
        online.subs.retain(|sub| {
            if sub.push(event, self.queue_capacity) || droppable {
                return true;
            }
            // What is queued still drains; then the stream ends.
            sub.end(EndReason::Lagged);
            lagged += 1;
            false
        });
        if lagged > 0 {
            crate::telemetry::queue_drops(lagged); // metrics
            tracing::warn!(%user, count = lagged, "ending subscriptions that fell behind");
        }
        if online.subs.is_empty() {
            self.go_offline(users, user);
        }
    }

    /// Removes `user` from the online set and tells their online connections (or the
    /// bus, when presence is shared).
    fn go_offline(&self, users: &mut Users, user: UserId) {
        let Some(online) = users.remove(&user) else { return };
        crate::telemetry::user_offline(); // metrics
        if let Some(shared) = &self.shared {
            let _ = shared.send((user, false, online.connections.0.into_vec()));
            return;
        }
        let event = Event::Presence { user_id: user, online: false };
        for c in online.connections.iter() {
            self.send_to(users, *c, &event);
        }
    }
}

impl Drop for Hub {
    fn drop(&mut self) {
        self.expiry.stop();
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    /// A session of `user` whose token expires `secs` seconds after `now`.
    fn session(user: UserId, now: chrono::DateTime<chrono::Utc>, secs: i64) -> Session {
        Session {
            user_id: user,
            token_id: hex::encode(crate::random_bytes::<16>().unwrap_or_default()),
            token_version: 0,
            expires_at: now + chrono::Duration::seconds(secs),
        }
    }

    fn presence(online: bool) -> Event {
        Event::Presence { user_id: UserId::new(), online }
    }

    /// The next event, or `None` if it ended; an error if neither comes at once.
    async fn next_now(sub: &mut Subscription) -> Result<Option<Event>> {
        tokio::time::timeout(Duration::from_millis(1), sub.next()).await.map_err(|_| Error::internal("pending"))
    }

    #[tokio::test]
    async fn a_queue_holds_exactly_its_capacity_then_the_subscription_ends_as_lagged() -> Result<()> {
        let hub = Arc::new(Hub::new(3, 4));
        let ada = UserId::new();
        let mut sub = hub.subscribe(ada, None, Vec::new(), chrono::Utc::now())?;
        let sent: Vec<Event> = [true, false, true].into_iter().map(presence).collect();
        for event in &sent {
            hub.deliver(ada, event);
        }
        assert_eq!(sub.end_reason(), None, "three fit");
        assert!(hub.is_online(ada));
        hub.deliver(ada, &Event::Typing { user_id: UserId::new(), typing: true });
        assert_eq!(sub.end_reason(), None, "a typing event is dropped, not a reason to end");
        hub.deliver(ada, &presence(false));
        assert_eq!(sub.end_reason(), Some(EndReason::Lagged), "the fourth does not fit");
        assert!(!hub.is_online(ada));
        // What was queued before still drains, in order; then the stream ends.
        for event in sent {
            assert_eq!(next_now(&mut sub).await?, Some(event));
        }
        assert_eq!(next_now(&mut sub).await?, None);
        Ok(())
    }

    #[tokio::test]
    async fn a_drained_queue_takes_events_again_up_to_its_capacity() -> Result<()> {
        let hub = Arc::new(Hub::new(2, 4));
        let ada = UserId::new();
        let mut sub = hub.subscribe(ada, None, Vec::new(), chrono::Utc::now())?;
        for _ in 0..10 {
            let (a, b) = (presence(true), presence(false));
            hub.deliver(ada, &a);
            hub.deliver(ada, &b);
            assert_eq!(next_now(&mut sub).await?, Some(a));
            assert_eq!(next_now(&mut sub).await?, Some(b));
        }
        assert_eq!(sub.end_reason(), None);
        assert!(next_now(&mut sub).await.is_err(), "nothing waits");
        Ok(())
    }

    #[tokio::test(start_paused = true)]
    async fn an_expiring_token_ends_its_idle_subscription_as_expired() -> Result<()> {
        let hub = Arc::new(Hub::new(8, 4));
        let (ada, now) = (UserId::new(), chrono::Utc::now());
        let mut sub = hub.subscribe(ada, Some(&session(ada, now, 60)), Vec::new(), now)?;
        hub.deliver(ada, &presence(true));
        tokio::time::sleep(Duration::from_millis(59_999)).await;
        assert_eq!(sub.end_reason(), None, "not a millisecond early");
        tokio::time::sleep(Duration::from_millis(2)).await;
        // Ended by the hub's expiry task, without the subscription being polled.
        assert_eq!(sub.end_reason(), Some(EndReason::Expired));
        assert!(!hub.is_online(ada));
        assert_eq!(hub.expiry.len(), 0);
        // A queued event is not yielded after the token expired.
        assert_eq!(next_now(&mut sub).await?, None);
        Ok(())
    }

    #[tokio::test(start_paused = true)]
    async fn subscriptions_end_in_the_order_their_tokens_expire() -> Result<()> {
        let hub = Arc::new(Hub::new(8, 4));
        let now = chrono::Utc::now();
        // Opened out of order; the one expiring soonest is opened last, while the task
        // already sleeps until a later deadline.
        let expiries: [i64; 6] = [50, 10, 40, 20, 30, 5];
        let mut subs = Vec::new();
        for secs in expiries {
            let user = UserId::new();
            subs.push((secs, hub.subscribe(user, Some(&session(user, now, secs)), Vec::new(), now)?));
            tokio::task::yield_now().await;
        }
        let mut elapsed: i64 = 0;
        for step in [5, 10, 20, 30, 40, 50] {
            tokio::time::sleep(Duration::from_secs((step - elapsed).unsigned_abs()) + Duration::from_millis(1)).await;
            elapsed = step;
            for (secs, sub) in &subs {
                let expected = (*secs <= step).then_some(EndReason::Expired);
                assert_eq!(sub.end_reason(), expected, "at {step} s, the one expiring at {secs} s");
            }
            let left = expiries.iter().filter(|secs| **secs > step).count();
            assert_eq!(hub.expiry.len(), left);
        }
        Ok(())
    }

    #[tokio::test]
    async fn a_dropped_subscription_leaves_no_entry_in_the_expiry_queue() -> Result<()> {
        let hub = Arc::new(Hub::new(8, 4));
        let now = chrono::Utc::now();
        let subs = (0..100)
            .map(|_| {
                let user = UserId::new();
                hub.subscribe(user, Some(&session(user, now, 3600)), Vec::new(), now)
            })
            .collect::<Result<Vec<_>>>()?;
        assert_eq!(hub.expiry.len(), 100);
        drop(subs);
        assert_eq!(hub.expiry.len(), 0);
        assert!(hub.online_connections(UserId::new()).is_none());
        Ok(())
    }

    #[tokio::test]
    async fn a_revoked_token_ends_as_revoked_and_an_expired_one_on_the_first_poll() -> Result<()> {
        let hub = Arc::new(Hub::new(8, 4));
        let (ada, now) = (UserId::new(), chrono::Utc::now());
        let ended = session(ada, now, 0);
        let live = session(ada, now, 3600);
        let mut sub = hub.subscribe(ada, Some(&live), Vec::new(), now)?;
        hub.revoke_token(ada, &live.token_id);
        assert_eq!(sub.end_reason(), Some(EndReason::Revoked));
        assert_eq!(next_now(&mut sub).await?, None);
        // A token already expired when the subscription opens ends it on its first poll.
        let mut expired = hub.subscribe(ada, Some(&ended), Vec::new(), now)?;
        assert_eq!(next_now(&mut expired).await?, None);
        assert_eq!(expired.end_reason(), Some(EndReason::Expired));
        Ok(())
    }

    #[test]
    fn an_id_set_stays_sorted_and_unique_through_changes() {
        let ids: Vec<UserId> = (0..5).map(|_| UserId::new()).collect();
        let mut set = IdSet::new(vec![ids[3], ids[1], ids[3], ids[0]]);
        set.insert(ids[4]);
        set.insert(ids[1]);
        set.remove(&ids[0]);
        set.remove(&ids[2]);
        let mut expected = vec![ids[1], ids[3], ids[4]];
        expected.sort_unstable();
        assert_eq!(set.iter().copied().collect::<Vec<_>>(), expected);
        assert!(set.contains(&ids[4]) && !set.contains(&ids[0]) && !set.contains(&ids[2]));
    }
}
