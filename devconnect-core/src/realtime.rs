//! Live events and presence.
//!
//! The hub keeps, for every online user, their open subscriptions and the ids of
//! their connections (loaded once when they come online, kept current on accept and
//! remove). Presence is reference-counted: a user is online while any subscription is
//! open (several tabs, devices). Presence changes go only to the user's online
//! connections, never to everyone.
//!
//! Each subscription has a bounded queue. A subscriber that falls that far behind is
//! ended (reason [`EndReason::Lagged`]) rather than buffering without bound or slowing
//! anyone else; it reconnects and catches up with [`DevConnect::sync`]. The queue is a
//! `futures-channel` one, which allocates per queued event: an idle subscription costs
//! a few hundred bytes, where tokio's channel preallocates a 32-event block and a
//! cache-padded header (about 1.5 KiB), and most of the time the queue is empty.
//!
//! With several server instances (a bus URL, see [`crate::bus`]), the hub still holds
//! only this process's subscriptions; presence is shared through the bus instead: the
//! hub reports a user's first and last local subscription to the bus, which decides
//! whether that changed the user's presence cluster-wide and tells their connections.

use std::collections::{HashMap, HashSet};
use std::future::Future as _;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::task::{Context, Poll};

use futures_core::Stream as _;
use tokio::sync::mpsc;
use tokio::time::Sleep;

use crate::auth::Session;
use crate::chat::{MAX_SYNC_LIMIT, SyncPage};
pub use crate::model::{Event, ReadReceipt};
use crate::{DevConnect, Error, MessageId, Result, UserId};

/// Why a subscription ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum EndReason {
    /// The token it was opened with was logged out or superseded by a password change.
    Revoked,
    /// The token it was opened with expired.
    Expired,
    /// The subscriber did not keep up; events were dropped. Reconnect and sync.
    Lagged,
}

impl EndReason {
    /// A stable code for clients.
    #[must_use]
    pub fn code(self) -> &'static str {
        match self {
            Self::Revoked => "token_revoked",
            Self::Expired => "token_expired",
            Self::Lagged => "lagged",
        }
    }
}

struct Sub {
    id: u64,
    tx: futures_channel::mpsc::Sender<Event>,
    token: Option<(String, i64)>,
    ended: Arc<OnceLock<EndReason>>,
}

impl Sub {
    fn end(self, reason: EndReason) {
        let _ = self.ended.set(reason);
    }
}

#[derive(Default)]
struct Online {
    subs: Vec<Sub>,
    connections: HashSet<UserId>,
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
        }
    }

    fn lock(&self) -> MutexGuard<'_, Users> {
        // A panic while holding the lock cannot leave the map half-updated in a way that
        // matters more than losing presence entirely, so keep serving.
        self.users.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn subscribe(
        self: &Arc<Self>,
        user: UserId,
        session: Option<&Session>,
        connections: Vec<UserId>,
    ) -> Result<Subscription> {
        let mut users = self.lock();
        // Checked and counted under one lock: concurrent opens cannot exceed the cap.
        if users.get(&user).is_some_and(|o| o.subs.len() >= self.max_per_user) {
            return Err(Error::LimitExceeded("too many live sessions for this user; close one first"));
        }
        // The channel holds one event per sender above its buffer: `queue_capacity` in all.
        let (tx, rx) = futures_channel::mpsc::channel(self.queue_capacity - 1);
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let ended = Arc::new(OnceLock::new());
        let sub =
            Sub { id, tx, token: session.map(|s| (s.token_id.clone(), s.token_version)), ended: Arc::clone(&ended) };
        if !users.contains_key(&user) {
            let connections: HashSet<UserId> = connections.into_iter().collect();
            if let Some(shared) = &self.shared {
                let _ = shared.send((user, true, connections.iter().copied().collect()));
            } else {
                let event = Event::Presence { user_id: user, online: true };
                for c in &connections {
                    send_to(&mut users, *c, &event, None);
                }
            }
            // Most users have one socket open: room for one, not Vec's default four.
            users.insert(user, Online { subs: Vec::with_capacity(1), connections });
            crate::telemetry::user_online(); // metrics
        }
        if let Some(online) = users.get_mut(&user) {
            online.subs.push(sub);
        }
        drop(users);
        let deadline = session.map(|s| {
            let left = (s.expires_at - chrono::Utc::now()).to_std().unwrap_or_default();
            Box::pin(tokio::time::sleep(left))
        });
        Ok(Subscription {
            user,
            rx,
            deadline,
            ended,
            guard: SubGuard { hub: Arc::clone(self), user, id },
            replayed: None,
            resume: None,
        })
    }

    /// Delivers `event` to every subscription of `user` (none if offline).
    pub(crate) fn deliver(&self, user: UserId, event: &Event) {
        send_to(&mut self.lock(), user, event, self.shared.as_ref());
    }

    /// The distinct tokens of this process's live subscriptions.
    #[cfg(feature = "redis")]
    pub(crate) fn live_tokens(&self) -> Vec<LiveToken> {
        let users = self.lock();
        let mut tokens = Vec::new();
        for (user, online) in users.iter() {
            let mut seen: HashSet<&str> = HashSet::new();
            for (token_id, version) in online.subs.iter().filter_map(|s| s.token.as_ref()) {
                if seen.insert(token_id) {
                    tokens.push(LiveToken { user: *user, token_id: token_id.clone(), version: *version });
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

    /// The connections of `user`, if `user` is online here (so they are known).
    fn connections_of(&self, user: UserId) -> Option<Vec<UserId>> {
        self.lock().get(&user).map(|o| o.connections.iter().copied().collect())
    }

    /// `user` and their online connections, if `user` is online.
    fn online_connections(&self, user: UserId) -> Option<Vec<UserId>> {
        let users = self.lock();
        let online = users.get(&user)?;
        let mut ids: Vec<UserId> = online.connections.iter().copied().filter(|c| users.contains_key(c)).collect();
        ids.sort();
        ids.insert(0, user);
        Some(ids)
    }

    /// A counter of the connection changes this hub has heard of. A subscriber reads it
    /// before reading its connections from the store and again once registered: if it
    /// moved, a change may have landed in between, missed by both the read and the hub,
    /// and the connections are read again ([`Hub::refresh_connections`]).
    fn connection_epoch(&self) -> u64 {
        self.connection_changes.load(Ordering::SeqCst)
    }

    /// Sets `user`'s known connections to `fresh`, applying each difference as a
    /// connection change.
    fn refresh_connections(&self, user: UserId, fresh: &[UserId]) {
        let Some(known) = self.connections_of(user) else { return };
        let fresh_set: HashSet<UserId> = fresh.iter().copied().collect();
        for gone in known.iter().filter(|c| !fresh_set.contains(c)) {
            self.disconnected(user, *gone);
        }
        for new in fresh.iter().filter(|c| !known.contains(c)) {
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
            send_to(&mut users, a, &Event::Presence { user_id: b, online: true }, None);
            send_to(&mut users, b, &Event::Presence { user_id: a, online: true }, None);
        }
    }

    /// Records that `a` and `b` are no longer connected (see [`Hub::connected`]).
    pub(crate) fn disconnected(&self, a: UserId, b: UserId) {
        self.connection_changes.fetch_add(1, Ordering::SeqCst);
        let mut users = self.lock();
        let a_online = users.get_mut(&a).map(|o| o.connections.remove(&b)).is_some();
        let b_online = users.get_mut(&b).map(|o| o.connections.remove(&a)).is_some();
        if a_online && b_online && self.shared.is_none() {
            send_to(&mut users, a, &Event::Presence { user_id: b, online: false }, None);
            send_to(&mut users, b, &Event::Presence { user_id: a, online: false }, None);
        }
    }

    /// Ends the subscriptions of `user` opened with token `token_id`.
    pub(crate) fn revoke_token(&self, user: UserId, token_id: &str) {
        self.end_where(user, EndReason::Revoked, |t| t.0 == token_id);
    }

    /// Ends the subscriptions of `user` opened with a token older than `version`.
    pub(crate) fn revoke_older_tokens(&self, user: UserId, version: i64) {
        self.end_where(user, EndReason::Revoked, |t| t.1 < version);
    }

    fn end_where(&self, user: UserId, reason: EndReason, matches: impl Fn(&(String, i64)) -> bool) {
        let mut users = self.lock();
        let Some(online) = users.get_mut(&user) else { return };
        let (ended, kept): (Vec<Sub>, Vec<Sub>) =
            online.subs.drain(..).partition(|s| s.token.as_ref().is_some_and(&matches));
        online.subs = kept;
        for sub in ended {
            sub.end(reason);
        }
        if online.subs.is_empty() {
            go_offline(&mut users, user, self.shared.as_ref());
        }
    }

    fn unsubscribe(&self, user: UserId, id: u64) {
        let mut users = self.lock();
        let Some(online) = users.get_mut(&user) else { return };
        online.subs.retain(|s| s.id != id);
        if online.subs.is_empty() {
            go_offline(&mut users, user, self.shared.as_ref());
        }
    }
}

/// Sends to every subscription of `user`; ends the ones whose queue is full, except for
/// a typing event, which is only dropped: it is stale by the time the queue drains, and
/// others' typing must never be what knocks a subscriber off.
fn send_to(users: &mut Users, user: UserId, event: &Event, shared: Option<&mpsc::UnboundedSender<LocalPresence>>) {
    let Some(online) = users.get_mut(&user) else { return };
    let mut lagged = Vec::new();
    let droppable = matches!(event, Event::Typing { .. });
    // A dropped sender ends the stream; its `poll_event` then reports `Lagged`.
    online.subs.retain_mut(|sub| match sub.tx.try_send(event.clone()) {
        Ok(()) => true,
        Err(err) if err.is_full() && droppable => true,
        Err(err) if err.is_full() => {
            lagged.push(sub.id);
            false
        }
        // The receiver is gone; its guard removes it.
        Err(_) => true,
    });
    if !lagged.is_empty() {
        crate::telemetry::queue_drops(lagged.len()); // metrics
        tracing::warn!(%user, count = lagged.len(), "ending subscriptions that fell behind");
    }
    if online.subs.is_empty() {
        go_offline(users, user, shared);
    }
}

/// Removes `user` from the online set and tells their online connections (or the bus,
/// when presence is shared).
fn go_offline(users: &mut Users, user: UserId, shared: Option<&mpsc::UnboundedSender<LocalPresence>>) {
    let Some(online) = users.remove(&user) else { return };
    crate::telemetry::user_offline(); // metrics
    if let Some(shared) = shared {
        let _ = shared.send((user, false, online.connections.into_iter().collect()));
        return;
    }
    let event = Event::Presence { user_id: user, online: false };
    for c in &online.connections {
        send_to(users, *c, &event, None);
    }
}

/// Removes the subscription from the hub when dropped.
struct SubGuard {
    hub: Arc<Hub>,
    user: UserId,
    id: u64,
}

impl Drop for SubGuard {
    fn drop(&mut self) {
        self.hub.unsubscribe(self.user, self.id);
    }
}

/// A live stream of [`Event`]s for one user. The user is online while any of their
/// subscriptions exists; dropping the last one makes them offline.
///
/// A subscription opened with a token ([`DevConnect::subscribe_session`]) also ends when
/// that token is logged out, superseded by a password change, or expires;
/// [`Subscription::end_reason`] then says which.
pub struct Subscription {
    user: UserId,
    rx: futures_channel::mpsc::Receiver<Event>,
    deadline: Option<Pin<Box<Sleep>>>,
    ended: Arc<OnceLock<EndReason>>,
    guard: SubGuard,
    /// Messages at or before this position were replayed already (see `skip_through`).
    replayed: Option<i64>,
    /// Where the catch-up goes on from, while one is due (see [`DevConnect::catch_up`]).
    resume: Option<MessageId>,
}

impl Subscription {
    /// The next event; `None` once the subscription has ended.
    pub async fn next(&mut self) -> Option<Event> {
        std::future::poll_fn(|cx| self.poll_event(cx)).await
    }

    /// The subscribing user.
    #[must_use]
    pub fn user_id(&self) -> UserId {
        self.user
    }

    /// Why the subscription ended, once it has (`None` while it is live).
    #[must_use]
    pub fn end_reason(&self) -> Option<EndReason> {
        self.ended.get().copied()
    }

    /// Leaves out the live copies of messages at or before position `seq`: the client
    /// got them from a catch-up ([`DevConnect::catch_up`]).
    fn skip_through(&mut self, seq: i64) {
        self.replayed = Some(self.replayed.map_or(seq, |s| s.max(seq)));
    }

    fn poll_event(&mut self, cx: &mut Context<'_>) -> Poll<Option<Event>> {
        if let Some(deadline) = self.deadline.as_mut() {
            if deadline.as_mut().poll(cx).is_ready() {
                let _ = self.ended.set(EndReason::Expired);
                self.rx.close();
                self.deadline = None;
                self.guard.hub.unsubscribe(self.user, self.guard.id);
                return Poll::Ready(None);
            }
        }
        loop {
            match Pin::new(&mut self.rx).poll_next(cx) {
                Poll::Ready(Some(Event::NewMessage(m))) if self.replayed.is_some_and(|seq| m.seq <= seq) => {}
                Poll::Ready(None) => {
                    let _ = self.ended.set(EndReason::Lagged);
                    return Poll::Ready(None);
                }
                polled => return polled,
            }
        }
    }
}

impl futures_core::Stream for Subscription {
    type Item = Event;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Event>> {
        self.get_mut().poll_event(cx)
    }
}

impl std::fmt::Debug for Subscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscription").field("user", &self.user).field("id", &self.guard.id).finish_non_exhaustive()
    }
}

impl DevConnect {
    /// Opens a live event stream for `user`, making them online until it is dropped.
    /// Their online connections get a presence event if this is their first one. A user
    /// holds at most [`Settings::max_sessions_per_user`](crate::Settings) at once
    /// (`LimitExceeded` beyond).
    pub async fn subscribe(&self, user: UserId) -> Result<Subscription> {
        self.inner.store.user(user).await?.ok_or(Error::NotFound("user"))?;
        self.register(user, None).await
    }

    /// Registers a subscription of `user` in the hub with their connections. A
    /// connection made or removed while they were read is not lost: see
    /// [`Hub::connection_epoch`].
    async fn register(&self, user: UserId, session: Option<&Session>) -> Result<Subscription> {
        let hub = &self.inner.hub;
        let epoch = hub.connection_epoch();
        let connections = self.inner.store.connection_ids(user).await?;
        let subscription = hub.subscribe(user, session, connections)?;
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
            if let Err(err) = self.inner.store.sync(user, Some(after), 1).await {
                return Err(match err {
                    Error::NotFound(_) => Error::validation("lastMessageId", "is not a message to or from you"),
                    other => other,
                });
            }
        }
        let mut subscription = self.register(user, Some(session)).await?;
        let state = self.inner.store.auth_state(user, &session.token_id).await?;
        if !state.is_some_and(|s| !s.revoked && s.token_version == session.token_version) {
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
            sub.skip_through(last.seq);
        }
        sub.resume = page.messages.last().map(|m| m.id).filter(|_| page.has_more);
        Ok(page)
    }

    /// `me` (if online) and those of my connections who are online, `me` first. With
    /// several instances, "online" means on any of them.
    pub async fn online_connections(&self, me: UserId) -> Result<Vec<UserId>> {
        let (hub, broker) = (&self.inner.hub, &self.inner.broker);
        if broker.is_in_process() {
            if let Some(ids) = hub.online_connections(me) {
                return Ok(ids);
            }
        }
        let mut ids = match hub.connections_of(me) {
            Some(ids) => ids,
            None => self.inner.store.connection_ids(me).await?,
        };
        ids.sort();
        ids.insert(0, me);
        let online = broker.online_among(hub, &ids).await;
        Ok(ids.into_iter().zip(online).filter_map(|(id, on)| on.then_some(id)).collect())
    }

    /// Whether `user` has a live subscription in this process. With several
    /// instances, [`DevConnect::online_connections`] and [`DevConnect::chat_partners`]
    /// say who is online on any of them.
    #[must_use]
    pub fn is_online(&self, user: UserId) -> bool {
        self.inner.hub.is_online(user)
    }
}
