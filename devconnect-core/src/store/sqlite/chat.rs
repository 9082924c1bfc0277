//! The chat aggregate on SQLite: messages, history, sync, partners and read state.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use devconnect_types::{Message, MessageId, UserId};
use rusqlite::{Connection, OptionalExtension as _, params};

use super::SqliteStore;
use super::error::ResultExt as _;
use super::rows::{MESSAGE_COLS, collect, message, ms, oid};
use super::users::user_by_id;
use crate::model::{Inserted, NewMessageRecord, PartnerRecord};
use crate::store::{ChatStore, pair_key};
use crate::{Error, Result};

/// A conversation's page: `?1` pair key, `?2` before this position, `?3` limit.
pub(super) fn history_sql() -> String {
    format!("SELECT {MESSAGE_COLS} FROM messages WHERE conv_key = ?1 AND seq < ?2 ORDER BY seq DESC LIMIT ?3")
}

/// Everything to or from `?1` after position `?2`, `?3` at most.
pub(super) fn sync_sql() -> String {
    format!(
        "SELECT * FROM (SELECT {MESSAGE_COLS} FROM messages WHERE sender_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3) \
         UNION ALL \
         SELECT * FROM (SELECT {MESSAGE_COLS} FROM messages WHERE receiver_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3) \
         ORDER BY seq LIMIT ?3"
    )
}

pub(super) fn message_seq(conn: &Connection, id: MessageId, filter: &str, a: &str) -> Result<i64> {
    conn.prepare_cached(&format!("SELECT seq FROM messages WHERE id = ?1 AND {filter}"))
        .and_then(|mut s| s.query_row([id.to_hex().as_str(), a], |r| r.get(0)).optional())
        .db()?
        .ok_or(Error::NotFound("message"))
}

#[async_trait]
impl ChatStore for SqliteStore {
    async fn insert_message(&self, m: &NewMessageRecord) -> Result<Inserted> {
        let m = m.clone();
        self.write(move |conn| {
            let tx = conn.savepoint().db()?;
            let (sender, receiver) = (m.sender.to_hex(), m.receiver.to_hex());
            let inserted: Option<i64> = tx
                .prepare_cached(
                    "INSERT INTO messages (id, conv_key, sender_id, receiver_id, text, image, client_msg_id, created_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) \
                     ON CONFLICT (sender_id, receiver_id, client_msg_id) WHERE client_msg_id IS NOT NULL DO NOTHING \
                     RETURNING seq",
                )
                .and_then(|mut s| {
                    s.query_row(
                        params![
                            m.id.to_hex(),
                            pair_key(m.sender, m.receiver),
                            sender,
                            receiver,
                            m.text,
                            m.image,
                            m.client_msg_id,
                            ms(m.created_at)
                        ],
                        |r| r.get(0),
                    )
                    .optional()
                })
                .db()?;
            let Some(seq) = inserted else {
                let existing = tx
                    .prepare_cached(&format!(
                        "SELECT {MESSAGE_COLS} FROM messages WHERE sender_id = ?1 AND receiver_id = ?2 AND client_msg_id = ?3"
                    ))
                    .and_then(|mut s| s.query_row(params![sender, receiver, m.client_msg_id], message))
                    .db()?;
                return Ok(Inserted::Existing(existing));
            };
            tx.prepare_cached(
                "INSERT INTO conversations (user_id, partner_id, last_seq) VALUES (?1, ?2, ?3), (?2, ?1, ?3) \
                 ON CONFLICT (user_id, partner_id) DO UPDATE SET last_seq = excluded.last_seq",
            )
            .and_then(|mut s| s.execute(params![sender, receiver, seq]))
            .db()?;
            tx.commit().db()?;
            Ok(Inserted::New(Message {
                id: m.id,
                sender_id: m.sender,
                receiver_id: m.receiver,
                text: m.text,
                image: m.image,
                client_msg_id: m.client_msg_id,
                created_at: m.created_at,
                read_at: None,
                seq,
            }))
        })
        .await
    }

    async fn history(&self, a: UserId, b: UserId, before: Option<MessageId>, limit: u32) -> Result<Vec<Message>> {
        self.read(move |conn| {
            let key = pair_key(a, b);
            let before = match before {
                Some(id) => message_seq(conn, id, "conv_key = ?2", &key)?,
                None => i64::MAX,
            };
            let mut stmt = conn.prepare_cached(&history_sql()).db()?;
            let mut messages = collect(stmt.query_map(params![key, before, limit], message).db()?)?;
            messages.reverse();
            Ok(messages)
        })
        .await
    }

    async fn sync(&self, me: UserId, after: Option<MessageId>, limit: u32) -> Result<Vec<Message>> {
        self.read(move |conn| {
            let me = me.to_hex();
            let after = match after {
                Some(id) => message_seq(conn, id, "(sender_id = ?2 OR receiver_id = ?2)", &me)?,
                None => 0,
            };
            let mut stmt = conn.prepare_cached(&sync_sql()).db()?;
            collect(stmt.query_map(params![me, after, limit], message).db()?)
        })
        .await
    }

    async fn chat_partners(&self, me: UserId) -> Result<Vec<PartnerRecord>> {
        self.read(move |conn| {
            let me = me.to_hex();
            // Conversations, most recent first; then connections without messages.
            let mut stmt = conn
                .prepare_cached(
                    "SELECT pid, last_seq FROM ( \
                       SELECT partner_id AS pid, last_seq, 0 AS grp, 0 AS accepted_at \
                         FROM conversations WHERE user_id = ?1 \
                       UNION ALL \
                       SELECT other, NULL, 1, updated_at FROM ( \
                         SELECT to_id AS other, updated_at FROM connection_requests \
                           WHERE from_id = ?1 AND status = 'accepted' \
                         UNION ALL \
                         SELECT from_id, updated_at FROM connection_requests \
                           WHERE to_id = ?1 AND status = 'accepted') \
                       WHERE other NOT IN (SELECT partner_id FROM conversations WHERE user_id = ?1)) \
                     ORDER BY grp, last_seq DESC, accepted_at DESC",
                )
                .db()?;
            let partners =
                collect(stmt.query_map([&me], |r| Ok((r.get::<_, String>(0)?, r.get::<_, Option<i64>>(1)?))).db()?)?;
            let mut last = conn.prepare_cached(&format!("SELECT {MESSAGE_COLS} FROM messages WHERE seq = ?1")).db()?;
            let mut unread = conn
                .prepare_cached(
                    "SELECT COUNT(*) FROM messages WHERE receiver_id = ?1 AND sender_id = ?2 AND read_at IS NULL",
                )
                .db()?;
            let mut out = Vec::with_capacity(partners.len());
            for (partner, last_seq) in partners {
                let Some(user) = user_by_id(conn, &partner).db()? else { continue };
                let last_message = match last_seq {
                    Some(seq) => last.query_row([seq], message).optional().db()?,
                    None => None,
                };
                let unread_count: i64 = unread.query_row([&me, &partner], |r| r.get(0)).db()?;
                out.push(PartnerRecord {
                    profile: user.me.profile,
                    last_message,
                    unread_count: u64::try_from(unread_count).unwrap_or(0),
                });
            }
            Ok(out)
        })
        .await
    }

    async fn mark_read(&self, reader: UserId, sender: UserId, now: DateTime<Utc>) -> Result<Option<MessageId>> {
        self.write(move |conn| {
            let mut stmt = conn
                .prepare_cached(
                    "UPDATE messages SET read_at = ?3 WHERE receiver_id = ?1 AND sender_id = ?2 AND read_at IS NULL \
                     RETURNING seq, id",
                )
                .db()?;
            let rows = stmt
                .query_map(params![reader.to_hex(), sender.to_hex(), ms(now)], |r| {
                    Ok((r.get::<_, i64>(0)?, MessageId::from(oid(r, 1)?)))
                })
                .db()?;
            Ok(collect(rows)?.into_iter().max_by_key(|(seq, _)| *seq).map(|(_, id)| id))
        })
        .await
    }
}
