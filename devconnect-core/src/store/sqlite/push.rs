//! The push aggregate on SQLite. Queuing for many people is one statement: their
//! subscriptions, settings and mutes are joined in SQL, and a waiting entry of the same
//! topic is updated in place (an upsert), so a burst coalesces without a read first.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use devconnect_types::{GroupId, PushSettings, UserId};
use rusqlite::{Connection, OptionalExtension as _, Row, params};

use super::SqliteStore;
use super::error::ResultExt as _;
use super::rows::{conversion, ids_json, ms, oid, time};
use crate::model::{OutboxEntry, OutboxStats, PushItem, PushSubscriptionRecord, off_bits, settings_from_bits};
use crate::store::PushStore;
use crate::{Error, Result};

const SUBSCRIPTION_COLS: &str = "s.id, s.user_id, s.endpoint, s.p256dh, s.auth, s.token_id, s.created_at";

fn subscription(row: &Row<'_>) -> rusqlite::Result<PushSubscriptionRecord> {
    Ok(PushSubscriptionRecord {
        id: row.get(0)?,
        user: oid(row, 1)?.into(),
        endpoint: row.get(2)?,
        p256dh: row.get(3)?,
        auth: row.get(4)?,
        token_id: row.get(5)?,
        created_at: time(row, 6)?,
    })
}

/// Removes subscriptions matching `condition` (on `s`) with `args`, and their entries.
fn remove_where(conn: &Connection, condition: &str, args: impl rusqlite::Params + Clone) -> rusqlite::Result<u64> {
    conn.prepare_cached(&format!(
        "DELETE FROM push_outbox WHERE sub_id IN (SELECT s.id FROM push_subscriptions s WHERE {condition})"
    ))?
    .execute(args.clone())?;
    let removed =
        conn.prepare_cached(&format!("DELETE FROM push_subscriptions AS s WHERE {condition}"))?.execute(args)?;
    Ok(removed as u64)
}

#[async_trait]
impl PushStore for SqliteStore {
    async fn add_push_subscription(&self, subscription: &PushSubscriptionRecord, cap: u32) -> Result<()> {
        let sub = subscription.clone();
        self.write(move |conn| {
            let tx = conn.savepoint().db()?;
            remove_where(&tx, "s.endpoint = ?1", [&sub.endpoint]).db()?;
            let user = sub.user.to_hex();
            tx.prepare_cached(
                "INSERT INTO push_subscriptions (id, user_id, endpoint, p256dh, auth, token_id, created_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )
            .and_then(|mut s| {
                s.execute(params![sub.id, user, sub.endpoint, sub.p256dh, sub.auth, sub.token_id, ms(sub.created_at)])
            })
            .db()?;
            // Past the cap, the oldest go (the one just added is the newest).
            remove_where(
                &tx,
                "s.id IN (SELECT id FROM push_subscriptions WHERE user_id = ?1 \
                 ORDER BY created_at DESC, id DESC LIMIT -1 OFFSET ?2)",
                params![user, cap],
            )
            .db()?;
            tx.commit().db()
        })
        .await
    }

    async fn remove_push_subscription(&self, user: UserId, endpoint: &str) -> Result<bool> {
        let endpoint = endpoint.to_owned();
        self.write(move |conn| {
            let tx = conn.savepoint().db()?;
            let removed =
                remove_where(&tx, "s.user_id = ?1 AND s.endpoint = ?2", params![user.to_hex(), endpoint]).db()?;
            tx.commit().db()?;
            Ok(removed > 0)
        })
        .await
    }

    async fn remove_push_subscriptions(&self, user: UserId, token_id: Option<&str>) -> Result<u64> {
        let token_id = token_id.map(str::to_owned);
        self.write(move |conn| {
            let tx = conn.savepoint().db()?;
            let removed = match token_id {
                Some(token) => remove_where(&tx, "s.user_id = ?1 AND s.token_id = ?2", params![user.to_hex(), token]),
                None => remove_where(&tx, "s.user_id = ?1", [user.to_hex()]),
            }
            .db()?;
            tx.commit().db()?;
            Ok(removed)
        })
        .await
    }

    async fn drop_push_subscription(&self, id: &str) -> Result<()> {
        let id = id.to_owned();
        self.write(move |conn| {
            let tx = conn.savepoint().db()?;
            remove_where(&tx, "s.id = ?1", [id]).db()?;
            tx.commit().db()
        })
        .await
    }

    async fn push_subscriptions(&self, user: UserId) -> Result<Vec<PushSubscriptionRecord>> {
        self.read(move |conn| {
            conn.prepare_cached(&format!(
                "SELECT {SUBSCRIPTION_COLS} FROM push_subscriptions s WHERE s.user_id = ?1 ORDER BY s.created_at, s.id"
            ))
            .and_then(|mut s| s.query_map([user.to_hex()], subscription)?.collect())
            .db()
        })
        .await
    }

    async fn push_settings(&self, user: UserId) -> Result<PushSettings> {
        self.read(move |conn| read_settings(conn, user)).await
    }

    async fn set_push_settings(&self, user: UserId, settings: &PushSettings) -> Result<()> {
        let settings = settings.clone();
        self.write(move |conn| {
            let tx = conn.savepoint().db()?;
            let me = user.to_hex();
            let off = off_bits(&settings);
            tx.prepare_cached(
                "INSERT INTO push_settings (user_id, off, previews) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (user_id) DO UPDATE SET off = excluded.off, previews = excluded.previews",
            )
            .and_then(|mut s| s.execute(params![me, off, settings.previews]))
            .db()?;
            tx.prepare_cached("DELETE FROM push_muted WHERE user_id = ?1").and_then(|mut s| s.execute([&me])).db()?;
            let mut mute =
                tx.prepare_cached("INSERT OR IGNORE INTO push_muted (user_id, group_id) VALUES (?1, ?2)").db()?;
            for group in &settings.muted_groups {
                mute.execute([&me, &group.to_hex()]).db()?;
            }
            drop(mute);
            tx.commit().db()
        })
        .await
    }

    async fn enqueue_push(
        &self,
        users: &[UserId],
        item: &PushItem,
        due_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<u64> {
        if users.is_empty() {
            return Ok(0);
        }
        let users = ids_json(users)?;
        // Most people have no subscription: a read (on a reader, beside other reads)
        // finds that, and the writer's queue is left alone.
        let listed = users.clone();
        let any = self
            .read(move |conn| {
                conn.prepare_cached(
                    "SELECT EXISTS (SELECT 1 FROM json_each(?1) AS u JOIN push_subscriptions s ON s.user_id = u.value)",
                )
                .and_then(|mut s| s.query_row([listed], |r| r.get::<_, bool>(0)))
                .db()
            })
            .await?;
        if !any {
            return Ok(0);
        }
        let json = serde_json::to_string(item).map_err(Error::internal)?;
        let (topic, bit, group) = (item.topic.clone(), PushItem::kind_bit(item.kind), item.group.map(GroupId::to_hex));
        self.write(move |conn| {
            let written = conn
                .prepare_cached(
                    "INSERT INTO push_outbox (sub_id, topic, item, count, version, attempts, due_at, created_at) \
                     SELECT s.id, ?2, ?3, 1, 0, 0, ?4, ?5 \
                     FROM json_each(?1) AS u JOIN push_subscriptions s ON s.user_id = u.value \
                     LEFT JOIN push_settings p ON p.user_id = s.user_id \
                     WHERE (coalesce(p.off, 0) & ?6) = 0 AND (?7 IS NULL OR NOT EXISTS \
                         (SELECT 1 FROM push_muted m WHERE m.user_id = s.user_id AND m.group_id = ?7)) \
                     ON CONFLICT (sub_id, topic) DO UPDATE SET \
                         item = excluded.item, count = count + 1, version = version + 1",
                )
                .and_then(|mut s| s.execute(params![users, topic, json, ms(due_at), ms(now), bit, group]))
                .db()?;
            Ok(written as u64)
        })
        .await
    }

    async fn claim_pushes(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<OutboxEntry>> {
        self.write(move |conn| {
            let tx = conn.savepoint().db()?;
            let claimed = tx
                .prepare_cached(&format!(
                    "UPDATE push_outbox SET due_at = ?2 WHERE rowid IN \
                         (SELECT rowid FROM push_outbox WHERE due_at <= ?1 ORDER BY due_at LIMIT ?3) \
                     RETURNING item, count, version, attempts, created_at, \
                         (SELECT json_array({SUBSCRIPTION_COLS_JSON}) FROM push_subscriptions s WHERE s.id = sub_id)"
                ))
                .and_then(|mut s| {
                    s.query_map(params![ms(now), ms(lease_until), limit], outbox_entry)?
                        .collect::<rusqlite::Result<Vec<_>>>()
                })
                .db()?;
            tx.commit().db()?;
            Ok(claimed)
        })
        .await
    }

    async fn finish_push(&self, subscription: &str, topic: &str, version: i64, next_due: DateTime<Utc>) -> Result<()> {
        let (subscription, topic) = (subscription.to_owned(), topic.to_owned());
        self.write(move |conn| {
            let deleted = conn
                .prepare_cached("DELETE FROM push_outbox WHERE sub_id = ?1 AND topic = ?2 AND version = ?3")
                .and_then(|mut s| s.execute(params![subscription, topic, version]))
                .db()?;
            if deleted == 0 {
                conn.prepare_cached(
                    "UPDATE push_outbox SET due_at = ?3, attempts = 0 WHERE sub_id = ?1 AND topic = ?2",
                )
                .and_then(|mut s| s.execute(params![subscription, topic, ms(next_due)]))
                .db()?;
            }
            Ok(())
        })
        .await
    }

    async fn retry_push(&self, subscription: &str, topic: &str, due_at: DateTime<Utc>, attempts: u32) -> Result<()> {
        let (subscription, topic) = (subscription.to_owned(), topic.to_owned());
        self.write(move |conn| {
            conn.prepare_cached("UPDATE push_outbox SET due_at = ?3, attempts = ?4 WHERE sub_id = ?1 AND topic = ?2")
                .and_then(|mut s| s.execute(params![subscription, topic, ms(due_at), attempts]))
                .db()?;
            Ok(())
        })
        .await
    }

    async fn push_outbox_stats(&self) -> Result<OutboxStats> {
        self.read(|conn| {
            conn.prepare_cached("SELECT count(*), min(created_at) FROM push_outbox")
                .and_then(|mut s| {
                    s.query_row([], |r| {
                        let oldest: Option<i64> = r.get(1)?;
                        Ok(OutboxStats {
                            depth: r.get::<_, i64>(0)?.try_into().unwrap_or(0),
                            oldest: oldest.and_then(DateTime::from_timestamp_millis),
                        })
                    })
                })
                .db()
        })
        .await
    }
}

/// The subscription columns as one JSON array, so a claim returns each entry with its
/// subscription in one statement (`RETURNING` cannot join); blobs as hex.
const SUBSCRIPTION_COLS_JSON: &str =
    "s.id, s.user_id, s.endpoint, hex(s.p256dh), hex(s.auth), s.token_id, s.created_at";

fn outbox_entry(row: &Row<'_>) -> rusqlite::Result<OutboxEntry> {
    let item: String = row.get(0)?;
    let sub: String = row.get(5)?;
    type SubscriptionJson = (String, String, String, String, String, String, i64);
    let (id, user, endpoint, p256dh, auth, token_id, created_at): SubscriptionJson =
        serde_json::from_str(&sub).map_err(|e| conversion(5, e))?;
    let subscription = PushSubscriptionRecord {
        id,
        user: UserId::parse("userId", &user).map_err(|e| conversion(5, e))?,
        endpoint,
        p256dh: hex::decode(p256dh).map_err(|e| conversion(5, e))?,
        auth: hex::decode(auth).map_err(|e| conversion(5, e))?,
        token_id,
        created_at: DateTime::from_timestamp_millis(created_at)
            .ok_or_else(|| conversion(5, Error::internal("timestamp out of range")))?,
    };
    Ok(OutboxEntry {
        subscription,
        item: serde_json::from_str(&item).map_err(|e| conversion(0, e))?,
        count: row.get(1)?,
        version: row.get(2)?,
        attempts: row.get(3)?,
        created_at: time(row, 4)?,
    })
}

fn read_settings(conn: &Connection, user: UserId) -> Result<PushSettings> {
    let me = user.to_hex();
    let row: Option<(u32, bool)> = conn
        .prepare_cached("SELECT off, previews FROM push_settings WHERE user_id = ?1")
        .and_then(|mut s| s.query_row([&me], |r| Ok((r.get(0)?, r.get(1)?))).optional())
        .db()?;
    let muted_groups = conn
        .prepare_cached("SELECT group_id FROM push_muted WHERE user_id = ?1 ORDER BY group_id")
        .and_then(|mut s| s.query_map([&me], |r| oid(r, 0).map(GroupId::from))?.collect::<rusqlite::Result<Vec<_>>>())
        .db()?;
    let Some((off, previews)) = row else { return Ok(PushSettings { muted_groups, ..PushSettings::default() }) };
    Ok(settings_from_bits(off, previews, muted_groups))
}
