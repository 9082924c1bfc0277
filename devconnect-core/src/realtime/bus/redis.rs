//! The Redis bus: one pub/sub channel for events, Redis sets and a heartbeat sorted set
//! for presence (see the parent module for the design).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt as _;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::{BusConfig, BusHealth};
use crate::model::Event;
use crate::realtime::hub::{Hub, LocalPresence};
use crate::{Error, Result, Store, UserId};

/// Envelopes waiting to be published; beyond this (Redis too slow or away) new ones are
/// dropped: local delivery already happened and clients catch up with `sync`.
const OUTBOX: usize = 65_536;
/// Envelopes sent in one pipeline.
const BATCH: usize = 256;
/// Limit on one Redis call made on behalf of a request.
const CALL_TIMEOUT: Duration = Duration::from_secs(2);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Adds `ARGV[2]` (a user) to instance `ARGV[1]`; returns 1 if the user had no instance.
const ONLINE: &str = r"
local p = ARGV[3]
redis.call('SADD', p .. 'instance:' .. ARGV[1] .. ':users', ARGV[2])
local key = p .. 'presence:' .. ARGV[2]
if redis.call('SADD', key, ARGV[1]) == 1 and redis.call('SCARD', key) == 1 then return 1 end
return 0";

/// Removes user `ARGV[2]` from instance `ARGV[1]`; returns 1 if the user has no instance left.
const OFFLINE: &str = r"
local p = ARGV[3]
redis.call('SREM', p .. 'instance:' .. ARGV[1] .. ':users', ARGV[2])
local key = p .. 'presence:' .. ARGV[2]
if redis.call('SREM', key, ARGV[1]) == 1 and redis.call('SCARD', key) == 0 then return 1 end
return 0";

/// Records a heartbeat of instance `ARGV[1]` (Redis's clock, so instances' clocks do
/// not matter); returns 1 if the instance was not registered (first beat, or reaped
/// while it could not beat): it must register its users again.
const BEAT: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
return redis.call('ZADD', ARGV[2] .. 'instances', now, ARGV[1])";

/// Claims every instance whose last beat is older than `ARGV[1]` ms (or, with
/// `ARGV[3]`, that one instance: a graceful leave), removes it from its users, and
/// returns the users left with no instance. Atomic, so one reaper wins each instance.
const REAP: &str = r"
local p = ARGV[2]
local dead
if ARGV[3] then
  dead = {ARGV[3]}
else
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  dead = redis.call('ZRANGEBYSCORE', p .. 'instances', '-inf', now - tonumber(ARGV[1]))
end
local offline = {}
for _, inst in ipairs(dead) do
  redis.call('ZREM', p .. 'instances', inst)
  local ukey = p .. 'instance:' .. inst .. ':users'
  for _, u in ipairs(redis.call('SMEMBERS', ukey)) do
    local key = p .. 'presence:' .. u
    if redis.call('SREM', key, inst) == 1 and redis.call('SCARD', key) == 0 then
      table.insert(offline, u)
    end
  end
  redis.call('DEL', ukey)
end
return offline";

/// What travels on the channel.
#[derive(Serialize, Deserialize)]
struct Envelope {
    /// The publishing instance, so it can ignore its own echo.
    from: String,
    body: Body,
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
enum Body {
    Event {
        to: Vec<UserId>,
        event: Event,
        /// A message's position, which its JSON form leaves out.
        seq: Option<i64>,
    },
    RevokeToken {
        user: UserId,
        token: String,
    },
    RevokeOlder {
        user: UserId,
        version: i64,
    },
    Connection {
        a: UserId,
        b: UserId,
        connected: bool,
    },
}

/// Work for the presence task, done in order.
enum Control {
    Connection(UserId, UserId, bool),
}

/// The Redis-backed broker of one instance.
pub(crate) struct RedisBus {
    shared: Arc<Shared>,
    outbox: mpsc::Sender<Vec<u8>>,
    control: mpsc::UnboundedSender<Control>,
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

/// What the background tasks share.
struct Shared {
    id: String,
    prefix: String,
    channel: String,
    expiry: Duration,
    conn: ConnectionManager,
    client: redis::Client,
    hub: Arc<Hub>,
    store: Arc<dyn Store>,
    subscribed: AtomicBool,
    commands_ok: AtomicBool,
    /// Period of the live-session token check, which a reconnection also triggers.
    recheck_every: Duration,
    recheck_now: tokio::sync::Notify,
}

impl RedisBus {
    /// Starts the bus tasks. Redis need not be up: the instance starts, reports the bus
    /// unavailable, and connects when it can.
    pub(crate) fn start(
        config: &BusConfig,
        hub: Arc<Hub>,
        store: Arc<dyn Store>,
        presence: mpsc::UnboundedReceiver<LocalPresence>,
    ) -> Result<Arc<Self>> {
        // Never repeat the URL: it may hold a password.
        let client = redis::Client::open(config.url.as_str())
            .map_err(|e| Error::validation("busUrl", format!("is not a usable Redis URL ({})", e.category())))?;
        let manager_config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(CALL_TIMEOUT))
            .set_response_timeout(Some(CALL_TIMEOUT))
            .set_number_of_retries(2)
            .set_max_delay(Duration::from_secs(1));
        let conn = ConnectionManager::new_lazy_with_config(client.clone(), manager_config).map_err(Error::internal)?;
        let id = hex::encode(crate::random_bytes::<8>()?);
        let prefix = format!("{}:", config.prefix);
        let shared = Arc::new(Shared {
            channel: format!("{prefix}events"),
            id,
            prefix,
            expiry: config.presence_expiry.max(Duration::from_secs(1)),
            conn,
            client,
            hub,
            store,
            subscribed: AtomicBool::new(false),
            commands_ok: AtomicBool::new(true),
            recheck_every: config.session_recheck.max(Duration::from_millis(100)),
            recheck_now: tokio::sync::Notify::new(),
        });
        let (outbox, outbox_rx) = mpsc::channel(OUTBOX);
        let (control, control_rx) = mpsc::unbounded_channel();
        let bus = Arc::new(Self { shared: Arc::clone(&shared), outbox, control, tasks: Mutex::default() });
        let tasks = vec![
            tokio::spawn(publisher(Arc::clone(&shared), outbox_rx)),
            tokio::spawn(subscriber(Arc::clone(&shared))),
            tokio::spawn(presence_task(Arc::clone(&shared), bus.outbox.clone(), presence, control_rx)),
            tokio::spawn(session_recheck(Arc::clone(&shared))),
        ];
        *bus.lock_tasks() = tasks;
        tracing::info!(instance = %shared.id, "event bus: Redis");
        Ok(bus)
    }

    fn lock_tasks(&self) -> std::sync::MutexGuard<'_, Vec<JoinHandle<()>>> {
        self.tasks.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(crate) fn publish_event(&self, users: &[UserId], event: &Event) {
        let seq = match event {
            Event::NewMessage(m) => Some(m.seq),
            Event::GroupMessage(m) => Some(m.seq),
            _ => None,
        };
        self.publish(Body::Event { to: users.to_vec(), event: event.clone(), seq });
    }

    pub(crate) fn publish_revoke_token(&self, user: UserId, token_id: &str) {
        self.publish(Body::RevokeToken { user, token: token_id.to_owned() });
    }

    pub(crate) fn publish_revoke_older(&self, user: UserId, version: i64) {
        self.publish(Body::RevokeOlder { user, version });
    }

    pub(crate) fn connection_changed(&self, a: UserId, b: UserId, connected: bool) {
        self.publish(Body::Connection { a, b, connected });
        let _ = self.control.send(Control::Connection(a, b, connected));
    }

    fn publish(&self, body: Body) {
        enqueue(&self.shared, &self.outbox, body);
    }

    /// Whether each user is online on some instance; `None` if Redis did not answer.
    pub(crate) async fn online_among(&self, users: &[UserId]) -> Option<Vec<bool>> {
        self.shared.online_among(users).await
    }

    pub(crate) fn health(&self) -> BusHealth {
        if self.shared.subscribed.load(Ordering::Relaxed) && self.shared.commands_ok.load(Ordering::Relaxed) {
            BusHealth::Connected
        } else {
            BusHealth::Unavailable
        }
    }

    pub(crate) async fn close(&self) {
        let shared = &self.shared;
        let mut conn = shared.conn.clone();
        let script = redis::Script::new(REAP);
        let mut reap = script.prepare_invoke();
        reap.arg(0).arg(&shared.prefix).arg(&shared.id);
        match tokio::time::timeout(CALL_TIMEOUT, reap.invoke_async::<Vec<String>>(&mut conn)).await {
            Ok(Ok(offline)) => {
                for user in offline.iter().filter_map(|u| u.parse::<UserId>().ok()) {
                    shared.announce(&self.outbox, user, false).await;
                }
            }
            _ => tracing::warn!("event bus: could not leave cleanly; this instance's users expire with its heartbeat"),
        }
        // Let the publisher send the last presence events before it stops.
        let deadline = tokio::time::Instant::now() + CALL_TIMEOUT;
        while self.outbox.capacity() < OUTBOX && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        for task in self.lock_tasks().drain(..) {
            task.abort();
        }
    }
}

impl Drop for RedisBus {
    fn drop(&mut self) {
        for task in self.lock_tasks().drain(..) {
            task.abort();
        }
    }
}

fn enqueue(shared: &Shared, outbox: &mpsc::Sender<Vec<u8>>, body: Body) {
    let kind = match &body {
        Body::Event { .. } => "event",
        Body::RevokeToken { .. } | Body::RevokeOlder { .. } => "revocation",
        Body::Connection { .. } => "connection",
    };
    let envelope = Envelope { from: shared.id.clone(), body };
    match serde_json::to_vec(&envelope) {
        Ok(bytes) => {
            if outbox.try_send(bytes).is_err() {
                tracing::debug!("event bus: outbox full, dropped an envelope");
            } else {
                crate::telemetry::bus_published(kind);
            }
        }
        Err(err) => tracing::error!(%err, "event bus: could not encode an envelope"),
    }
}

impl Shared {
    async fn online_among(&self, users: &[UserId]) -> Option<Vec<bool>> {
        if users.is_empty() {
            return Some(Vec::new());
        }
        let mut pipe = redis::pipe();
        for user in users {
            pipe.exists(format!("{}presence:{user}", self.prefix));
        }
        let mut conn = self.conn.clone();
        match tokio::time::timeout(CALL_TIMEOUT, pipe.query_async::<Vec<bool>>(&mut conn)).await {
            Ok(Ok(online)) => Some(online),
            _ => None,
        }
    }

    /// Tells `user`'s connections, on every instance, that they came online or went
    /// offline cluster-wide.
    async fn announce(&self, outbox: &mpsc::Sender<Vec<u8>>, user: UserId, online: bool) {
        match self.store.connection_ids(user).await {
            Ok(connections) => self.announce_to(outbox, user, online, connections),
            Err(err) => tracing::warn!(%err, %user, "event bus: could not load connections for a presence change"),
        }
    }

    /// [`Shared::announce`] to known connections.
    fn announce_to(&self, outbox: &mpsc::Sender<Vec<u8>>, user: UserId, online: bool, connections: Vec<UserId>) {
        if connections.is_empty() {
            return;
        }
        let event = Event::Presence { user_id: user, online };
        for c in &connections {
            self.hub.deliver(*c, &event);
        }
        enqueue(self, outbox, Body::Event { to: connections, event, seq: None });
    }

    /// Runs a presence script for one user; `Some(true)` when it changed the user's
    /// cluster-wide presence.
    async fn mark(&self, script: &redis::Script, user: UserId) -> Option<bool> {
        let mut conn = self.conn.clone();
        let mut call = script.prepare_invoke();
        call.arg(&self.id).arg(user.to_hex()).arg(&self.prefix);
        match call.invoke_async::<i64>(&mut conn).await {
            Ok(changed) => Some(changed == 1),
            Err(err) => {
                self.command_failed(&err);
                None
            }
        }
    }

    fn command_failed(&self, err: &redis::RedisError) {
        if self.commands_ok.swap(false, Ordering::Relaxed) {
            tracing::warn!(%err, "event bus: Redis unavailable; serving local clients only until it is back");
        }
    }

    fn command_ok(&self) {
        if !self.commands_ok.swap(true, Ordering::Relaxed) {
            tracing::info!("event bus: Redis reachable again");
        }
    }

    /// Makes Redis agree with this instance's subscriptions (after a start, an outage,
    /// or being reaped): registers every local user, removes the ones gone meanwhile.
    async fn resync(&self, outbox: &mpsc::Sender<Vec<u8>>, online: &redis::Script, offline: &redis::Script) {
        let local = self.hub.online_users();
        for user in &local {
            if self.mark(online, *user).await == Some(true) {
                self.announce(outbox, *user, true).await;
            }
        }
        let mut conn = self.conn.clone();
        let key = format!("{}instance:{}:users", self.prefix, self.id);
        let registered: Vec<String> = match redis::cmd("SMEMBERS").arg(&key).query_async(&mut conn).await {
            Ok(users) => users,
            Err(err) => return self.command_failed(&err),
        };
        for user in registered.iter().filter_map(|u| u.parse::<UserId>().ok()) {
            if !self.hub.is_online(user) && self.mark(offline, user).await == Some(true) {
                self.announce(outbox, user, false).await;
            }
        }
    }

    /// One heartbeat and one reaping round.
    async fn beat(&self, outbox: &mpsc::Sender<Vec<u8>>, online: &redis::Script, offline: &redis::Script) {
        let mut conn = self.conn.clone();
        let beat_script = redis::Script::new(BEAT);
        let mut beat = beat_script.prepare_invoke();
        beat.arg(&self.id).arg(&self.prefix);
        match beat.invoke_async::<i64>(&mut conn).await {
            Ok(added) => {
                self.command_ok();
                if added == 1 {
                    self.resync(outbox, online, offline).await;
                }
            }
            Err(err) => return self.command_failed(&err),
        }
        // Dead after two thirds of the expiry without a beat, checked every sixth: so
        // within the expiry.
        let threshold = u64::try_from((self.expiry * 2 / 3).as_millis()).unwrap_or(u64::MAX);
        let reap_script = redis::Script::new(REAP);
        let mut reap = reap_script.prepare_invoke();
        reap.arg(threshold).arg(&self.prefix);
        match reap.invoke_async::<Vec<String>>(&mut conn).await {
            Ok(gone) => {
                if !gone.is_empty() {
                    tracing::info!(users = gone.len(), "event bus: reaped instances that stopped beating");
                }
                for user in gone.iter().filter_map(|u| u.parse::<UserId>().ok()) {
                    // A user who reconnected here meanwhile is registered again at once.
                    if self.hub.is_online(user) {
                        if self.mark(online, user).await == Some(true) {
                            self.announce(outbox, user, true).await;
                        }
                        continue;
                    }
                    self.announce(outbox, user, false).await;
                }
            }
            Err(err) => self.command_failed(&err),
        }
    }

    fn receive(&self, payload: &[u8]) {
        let envelope = match decode(payload) {
            Ok(e) => e,
            Err(err) => return tracing::warn!(%err, "event bus: ignored an undecodable envelope"),
        };
        if envelope.from == self.id {
            return;
        }
        match envelope.body {
            Body::Event { to, event, .. } => {
                for user in to {
                    self.hub.deliver(user, &event);
                }
            }
            Body::RevokeToken { user, token } => self.hub.revoke_token(user, &token),
            Body::RevokeOlder { user, version } => self.hub.revoke_older_tokens(user, version),
            Body::Connection { a, b, connected: true } => self.hub.connected(a, b),
            Body::Connection { a, b, connected: false } => self.hub.disconnected(a, b),
        }
    }
}

/// Decodes an envelope, giving a message back the position its JSON form leaves out.
fn decode(payload: &[u8]) -> serde_json::Result<Envelope> {
    let mut envelope: Envelope = serde_json::from_slice(payload)?;
    if let Body::Event { event, seq: Some(seq), .. } = &mut envelope.body {
        event.set_message_seq(*seq);
    }
    Ok(envelope)
}

/// Sends queued envelopes in order, a pipeline at a time.
async fn publisher(shared: Arc<Shared>, mut outbox: mpsc::Receiver<Vec<u8>>) {
    let mut batch = Vec::with_capacity(BATCH);
    let mut conn = shared.conn.clone();
    while outbox.recv_many(&mut batch, BATCH).await > 0 {
        let mut pipe = redis::pipe();
        for payload in &batch {
            pipe.publish(&shared.channel, payload.as_slice()).ignore();
        }
        match pipe.exec_async(&mut conn).await {
            Ok(()) => shared.command_ok(),
            Err(err) => shared.command_failed(&err),
        }
        batch.clear();
    }
}

/// Receives other instances' envelopes; reconnects with backoff.
async fn subscriber(shared: Arc<Shared>) {
    let mut backoff = Duration::from_millis(100);
    let mut logged_down = false;
    loop {
        let connected = tokio::time::timeout(CALL_TIMEOUT, async {
            let mut pubsub = shared.client.get_async_pubsub().await?;
            pubsub.subscribe(&shared.channel).await?;
            Ok::<_, redis::RedisError>(pubsub)
        })
        .await;
        match connected {
            Ok(Ok(pubsub)) => {
                shared.subscribed.store(true, Ordering::Relaxed);
                if logged_down {
                    tracing::info!("event bus: subscribed again");
                    // Revocations published while this instance was away were lost.
                    shared.recheck_now.notify_one();
                }
                backoff = Duration::from_millis(100);
                let mut messages = pubsub.into_on_message();
                while let Some(message) = messages.next().await {
                    shared.receive(message.get_payload_bytes());
                }
                shared.subscribed.store(false, Ordering::Relaxed);
                tracing::warn!("event bus: lost the Redis subscription; reconnecting");
                logged_down = true;
                // Events published meanwhile are lost for this instance's clients, who
                // catch up on their next reconnect; presence is registered again.
            }
            Ok(Err(err)) => {
                if !logged_down {
                    tracing::warn!(%err, "event bus: cannot subscribe to Redis; retrying with backoff");
                    logged_down = true;
                }
            }
            Err(_) => {
                if !logged_down {
                    tracing::warn!("event bus: Redis did not answer; retrying with backoff");
                    logged_down = true;
                }
            }
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// Checks the tokens of this instance's live sessions against the store, periodically
/// and after each reconnection: revocations travel over pub/sub, which drops what is
/// published while Redis or this instance's subscription is away, so without this a
/// socket on a logged-out token could live on here until the token expires.
async fn session_recheck(shared: Arc<Shared>) {
    let mut ticker = tokio::time::interval(shared.recheck_every);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // The first tick is immediate: nothing is live yet.
    ticker.tick().await;
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            () = shared.recheck_now.notified() => {}
        }
        shared.hub.recheck_tokens(&*shared.store).await;
    }
}

/// Registers presence changes and connection changes in order, beats, and reaps.
async fn presence_task(
    shared: Arc<Shared>,
    outbox: mpsc::Sender<Vec<u8>>,
    mut presence: mpsc::UnboundedReceiver<LocalPresence>,
    mut control: mpsc::UnboundedReceiver<Control>,
) {
    let online = redis::Script::new(ONLINE);
    let offline = redis::Script::new(OFFLINE);
    let mut ticker = tokio::time::interval(shared.expiry / 6);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut was_healthy = true;
    loop {
        tokio::select! {
            // Heartbeats first: a storm of connections must not get this instance reaped.
            biased;
            _ = ticker.tick() => {
                shared.beat(&outbox, &online, &offline).await;
                let healthy = shared.commands_ok.load(Ordering::Relaxed);
                // Back from an outage: whatever changed meanwhile is set right.
                if healthy && !was_healthy {
                    shared.resync(&outbox, &online, &offline).await;
                    shared.recheck_now.notify_one();
                }
                was_healthy = healthy;
            }
            change = presence.recv() => {
                let Some((user, is_online, connections)) = change else { return };
                let script = if is_online { &online } else { &offline };
                match shared.mark(script, user).await {
                    Some(true) => shared.announce_to(&outbox, user, is_online, connections),
                    Some(false) => {}
                    // Redis is away: at least this instance's clients hear of it; the
                    // resync after the outage sets Redis right.
                    None => {
                        let event = Event::Presence { user_id: user, online: is_online };
                        for c in connections {
                            shared.hub.deliver(c, &event);
                        }
                    }
                }
            }
            Some(Control::Connection(a, b, connected)) = control.recv() => {
                if let Some(both) = shared.online_among(&[a, b]).await {
                    let online_a = both.first().copied().unwrap_or(false) || shared.hub.is_online(a);
                    let online_b = both.get(1).copied().unwrap_or(false) || shared.hub.is_online(b);
                    if online_a && online_b {
                        for (to, about) in [(a, b), (b, a)] {
                            let event = Event::Presence { user_id: about, online: connected };
                            shared.hub.deliver(to, &event);
                            enqueue(&shared, &outbox, Body::Event { to: vec![to], event, seq: None });
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Message, MessageId};

    fn round_trip(body: Body) -> Option<Body> {
        let bytes = serde_json::to_vec(&Envelope { from: "me".to_owned(), body }).ok()?;
        decode(&bytes).ok().filter(|e| e.from == "me").map(|e| e.body)
    }

    #[test]
    fn events_cross_the_bus_unchanged_with_their_message_position() {
        let (ada, bob) = (UserId::new(), UserId::new());
        let message = Message {
            id: MessageId::new(),
            sender_id: ada,
            receiver_id: bob,
            text: "hello".to_owned(),
            image: None,
            client_msg_id: Some("c-1".to_owned()),
            created_at: crate::now(),
            read_at: None,
            seq: 42,
        };
        let events = [
            Event::NewMessage(Arc::new(message)),
            Event::Presence { user_id: ada, online: true },
            Event::Typing { user_id: ada, typing: false },
            Event::MessagesRead(Box::new(crate::ReadReceipt { user_id: bob, up_to: MessageId::new() })),
        ];
        for event in events {
            let seq = if let Event::NewMessage(m) = &event { Some(m.seq) } else { None };
            let got = round_trip(Body::Event { to: vec![bob, ada], event: event.clone(), seq });
            assert!(
                matches!(&got, Some(Body::Event { to, event: e, .. }) if *to == [bob, ada] && *e == event),
                "{event:?}"
            );
            if let Some(Body::Event { event: Event::NewMessage(m), .. }) = got {
                assert_eq!(m.seq, 42);
            }
        }
        let revoke = round_trip(Body::RevokeOlder { user: ada, version: 3 });
        assert!(matches!(revoke, Some(Body::RevokeOlder { user, version: 3 }) if user == ada));
        assert!(decode(b"{not json").is_err());
    }
}
