//! The push aggregate: people's push subscriptions and settings, and the outbox of
//! notifications for those who are offline. The outbox is what makes pushes durable:
//! an entry is stored before the action that caused it is acknowledged, claimed for a
//! lease by whichever instance sends it, and removed once it went out, so a crash
//! loses nothing and a newer notification coalesces into a waiting one.

use chrono::{DateTime, Utc};
use devconnect_types::{PushSettings, UserId};

use crate::Result;
use crate::model::{OutboxEntry, OutboxStats, PushItem, PushSubscriptionRecord};

super::timed::store_aggregate! {
    /// Push subscriptions, settings and the outbox.
    pub trait PushStore {
        /// Registers `subscription`. One with the same endpoint (whoever's it was) is
        /// replaced and its waiting notifications dropped; past `cap` subscriptions of
        /// the user, the oldest go.
        async fn add_push_subscription(&self, subscription: &PushSubscriptionRecord, cap: u32) -> Result<()>;
        /// Removes `user`'s subscription at `endpoint`; whether there was one.
        async fn remove_push_subscription(&self, user: UserId, endpoint: &str) -> Result<bool>;
        /// Removes `user`'s subscriptions registered with `token_id`, or all of theirs
        /// with `None`; how many.
        async fn remove_push_subscriptions(&self, user: UserId, token_id: Option<&str>) -> Result<u64>;
        /// Removes a subscription by id (its push service said it is gone).
        async fn drop_push_subscription(&self, id: &str) -> Result<()>;
        /// `user`'s subscriptions, oldest first.
        async fn push_subscriptions(&self, user: UserId) -> Result<Vec<PushSubscriptionRecord>>;
        /// `user`'s settings (the defaults if never set).
        async fn push_settings(&self, user: UserId) -> Result<PushSettings>;
        /// Replaces `user`'s settings.
        async fn set_push_settings(&self, user: UserId, settings: &PushSettings) -> Result<()>;

        /// Queues `item` for every subscription of each of `users` whose settings want
        /// its kind (and, for a group, who did not mute it), due at `due_at`. Where one
        /// with the same topic waits for that subscription, `item` replaces it and is
        /// counted into it, keeping its due time. How many entries were written.
        async fn enqueue_push(&self, users: &[UserId], item: &PushItem, due_at: DateTime<Utc>, now: DateTime<Utc>) -> Result<u64>;
        /// Claims up to `limit` entries due at `now`, soonest first: they are not due
        /// again before `lease_until` (so no other instance sends them meanwhile).
        async fn claim_pushes(&self, now: DateTime<Utc>, lease_until: DateTime<Utc>, limit: u32) -> Result<Vec<OutboxEntry>>;
        /// Done with the claimed entry (sent, or given up): it goes, unless a newer item
        /// was counted into it since it was claimed (its `version` moved on); that one is
        /// due at `next_due`.
        async fn finish_push(&self, subscription: &str, topic: &str, version: i64, next_due: DateTime<Utc>) -> Result<()>;
        /// The claimed entry failed and is due again at `due_at`, after `attempts` attempts.
        async fn retry_push(&self, subscription: &str, topic: &str, due_at: DateTime<Utc>, attempts: u32) -> Result<()>;
        /// How many entries wait, and since when.
        async fn push_outbox_stats(&self) -> Result<OutboxStats>;
    }
}
