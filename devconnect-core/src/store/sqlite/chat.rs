//! The chat aggregate on SQLite: messages, history, sync, partners and read state.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use devconnect_types::chat::MAX_UNREAD_COUNT;
use devconnect_types::{AnyMessage, Message, MessageId, UserId};
use rusqlite::{Connection, OptionalExtension as _, params};

use super::SqliteStore;
use super::error::ResultExt as _;
use super::rows::{ANY_MESSAGE_COLS, MESSAGE_COLS, any_message, collect, ids_json, message, ms, oid};
use super::users::user_by_id;
use crate::model::{Inserted, NewMessageRecord, PartnerRecord};
use crate::store::{ChatStore, pair_key};
use crate::{Error, Result};

/// A conversation's page: `?1` pair key, `?2` before this position, `?3` limit.
pub(super) fn history_sql() -> String {
    format!("SELECT {MESSAGE_COLS} FROM messages WHERE conv_key = ?1 AND seq < ?2 ORDER BY seq DESC LIMIT ?3")
}

/// Every 1:1 message to or from `?1` after position `?2`, `?3` at most. (Group messages
/// have the group as receiver; those I sent are left out here and come with the group.)
/// Messages to or from `?1` after position `?2`, `?3` at most, none sent by the ids of
/// the JSON array `?4`.
pub(super) fn sync_sql() -> String {
    format!(
        "SELECT * FROM (SELECT {ANY_MESSAGE_COLS} FROM messages WHERE sender_id = ?1 AND seq > ?2 \
           AND group_id IS NULL ORDER BY seq LIMIT ?3) \
         UNION ALL \
         SELECT * FROM (SELECT {ANY_MESSAGE_COLS} FROM messages WHERE receiver_id = ?1 AND seq > ?2 \
           AND {NOT_HIDDEN} ORDER BY seq LIMIT ?3) \
         ORDER BY seq LIMIT ?3"
    )
}

/// A group's messages after position `?2` up to `?3`, `?4` at most, none sent by the ids
/// of the JSON array `?5`.
pub(super) fn group_range_sql() -> String {
    format!(
        "SELECT {ANY_MESSAGE_COLS} FROM messages WHERE conv_key = ?1 AND seq > ?2 AND seq <= ?3 \
           AND sender_id NOT IN (SELECT value FROM json_each(?5)) ORDER BY seq LIMIT ?4"
    )
}

/// Leaves out the senders listed in the JSON array `?4` (people the reader blocked).
const NOT_HIDDEN: &str = "sender_id NOT IN (SELECT value FROM json_each(?4))";

pub(super) fn message_seq(conn: &Connection, id: MessageId, filter: &str, a: &str) -> Result<i64> {
    conn.prepare_cached(&format!("SELECT seq FROM messages WHERE id = ?1 AND {filter}"))
        .and_then(|mut s| s.query_row([id.to_hex().as_str(), a], |r| r.get(0)).optional())
        .db()?
        .ok_or(Error::NotFound("message"))
}

/// The position of message `id` if `?2` may read it: a 1:1 message to or from them, or
/// a group message inside their window on its group.
fn readable_seq(conn: &Connection, id: MessageId, me: &str) -> Result<i64> {
    message_seq(
        conn,
        id,
        "(CASE WHEN group_id IS NULL THEN sender_id = ?2 OR receiver_id = ?2 ELSE EXISTS ( \
           SELECT 1 FROM group_windows w WHERE w.user_id = ?2 AND w.group_id = messages.group_id \
             AND seq > w.from_seq AND (w.to_seq IS NULL OR seq <= w.to_seq)) END)",
        me,
    )
}

/// A message row to insert: 1:1, or in a group (then the group is its receiver and its
/// conversation).
pub(super) struct NewRow<'a> {
    pub id: MessageId,
    pub conv_key: String,
    pub sender: String,
    pub receiver: String,
    pub text: &'a str,
    pub image: Option<&'a str>,
    pub client_msg_id: Option<&'a str>,
    pub created_at: DateTime<Utc>,
    pub group_id: Option<String>,
    pub change: Option<String>,
}

/// Inserts `row` at the next position: that position, or, when its sender already used
/// its client message id with this receiver, the message stored then.
pub(super) fn insert_row(conn: &Connection, row: &NewRow<'_>) -> Result<std::result::Result<i64, AnyMessage>> {
    let inserted: Option<i64> = conn
        .prepare_cached(
            "INSERT INTO messages (id, conv_key, sender_id, receiver_id, text, image, client_msg_id, created_at, \
               group_id, group_change) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) \
             ON CONFLICT (sender_id, receiver_id, client_msg_id) WHERE client_msg_id IS NOT NULL DO NOTHING \
             RETURNING seq",
        )
        .and_then(|mut s| {
            s.query_row(
                params![
                    row.id.to_hex(),
                    row.conv_key,
                    row.sender,
                    row.receiver,
                    row.text,
                    row.image,
                    row.client_msg_id,
                    ms(row.created_at),
                    row.group_id,
                    row.change,
                ],
                |r| r.get(0),
            )
            .optional()
        })
        .db()?;
    match inserted {
        Some(seq) => Ok(Ok(seq)),
        None => conn
            .prepare_cached(&format!(
                "SELECT {ANY_MESSAGE_COLS} FROM messages WHERE sender_id = ?1 AND receiver_id = ?2 AND client_msg_id = ?3"
            ))
            .and_then(|mut s| s.query_row(params![row.sender, row.receiver, row.client_msg_id], any_message))
            .db()
            .map(Err),
    }
}

#[async_trait]
impl ChatStore for SqliteStore {
    async fn insert_message(&self, m: &NewMessageRecord) -> Result<Inserted> {
        let m = m.clone();
        self.write(move |conn| {
            let tx = conn.savepoint().db()?;
            let (sender, receiver) = (m.sender.to_hex(), m.receiver.to_hex());
            let row = NewRow {
                id: m.id,
                conv_key: pair_key(m.sender, m.receiver),
                sender: sender.clone(),
                receiver: receiver.clone(),
                text: &m.text,
                image: m.image.as_deref(),
                client_msg_id: m.client_msg_id.as_deref(),
                created_at: m.created_at,
                group_id: None,
                change: None,
            };
            let seq = match insert_row(&tx, &row)? {
                Ok(seq) => seq,
                Err(AnyMessage::Direct(existing)) => return Ok(Inserted::Existing(existing)),
                Err(AnyMessage::Group(_)) => return Err(Error::internal("a 1:1 client id named a group message")),
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

    async fn sync(
        &self,
        me: UserId,
        after: Option<MessageId>,
        hidden: &[UserId],
        limit: u32,
    ) -> Result<Vec<AnyMessage>> {
        let hidden = ids_json(hidden)?;
        self.read(move |conn| {
            let me = me.to_hex();
            let after = match after {
                Some(id) => readable_seq(conn, id, &me)?,
                None => 0,
            };
            let mut stmt = conn.prepare_cached(&sync_sql()).db()?;
            let mut messages = collect(stmt.query_map(params![me, after, limit, hidden], any_message).db()?)?;
            // Then each group's range inside my window: one index range each, merged here.
            let mut windows = conn
                .prepare_cached(
                    "SELECT group_id, from_seq, to_seq FROM group_windows \
                     WHERE user_id = ?1 AND (to_seq IS NULL OR to_seq > ?2)",
                )
                .db()?;
            let windows = collect(
                windows
                    .query_map(params![me, after], |r| {
                        Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?, r.get::<_, Option<i64>>(2)?))
                    })
                    .db()?,
            )?;
            let mut range = conn.prepare_cached(&group_range_sql()).db()?;
            for (group, from, to) in windows {
                let rows = range
                    .query_map(params![group, after.max(from), to.unwrap_or(i64::MAX), limit, hidden], any_message);
                messages.extend(collect(rows.db()?)?);
            }
            messages.sort_unstable_by_key(AnyMessage::seq);
            messages.truncate(limit as usize);
            Ok(messages)
        })
        .await
    }

    async fn message(&self, id: MessageId) -> Result<Option<AnyMessage>> {
        self.read(move |conn| {
            conn.prepare_cached(&format!("SELECT {ANY_MESSAGE_COLS} FROM messages WHERE id = ?1"))
                .and_then(|mut s| s.query_row([id.to_hex()], any_message).optional())
                .db()
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
            // Counted up to the cap only: the rest of a long unread range is never read.
            let mut unread = conn
                .prepare_cached(&format!(
                    "SELECT COUNT(*) FROM (SELECT 1 FROM messages \
                     WHERE receiver_id = ?1 AND sender_id = ?2 AND read_at IS NULL LIMIT {MAX_UNREAD_COUNT})"
                ))
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
