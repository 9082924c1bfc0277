//! The groups aggregate on SQLite: groups, members, windows and group messages. Every
//! write runs on the one writer thread, so checking the cap and adding a member in one
//! savepoint is exact, and a window opens or closes at exactly the highest position.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use devconnect_types::chat::MAX_UNREAD_COUNT;
use devconnect_types::{
    AnyMessage, Group, GroupConversation, GroupId, GroupMember, GroupMessage, GroupRole, MessageId, UserId,
};
use rusqlite::{Connection, OptionalExtension as _, params};

use super::SqliteStore;
use super::chat::{NewRow, insert_row, message_seq};
use super::error::ResultExt as _;
use super::rows::{
    ANY_MESSAGE_COLS, GROUP_COL_COUNT, GROUP_COLS, MEMBER_COLS, collect, group, group_message, ids_json, member_at, ms,
    oid, skills_json,
};
use super::schema::insert_group_keys;
use crate::model::{GroupFilter, GroupUpdate, Inserted, NewGroupMessageRecord, Window, group_keys};
use crate::store::{Added, GroupStore};
use crate::{Error, Result};

/// Opens `user`'s window on `group` at the highest position (reopening a former
/// member's, who then sees from their return on).
fn open_window(conn: &Connection, group: &str, user: &str) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO group_windows (user_id, group_id, from_seq) \
         VALUES (?1, ?2, (SELECT COALESCE(MAX(seq), 0) FROM messages)) \
         ON CONFLICT (user_id, group_id) DO UPDATE SET from_seq = excluded.from_seq, to_seq = NULL, read_seq = 0",
    )
    .and_then(|mut s| s.execute([user, group]))
    .db()
    .map(drop)
}

fn window_of(conn: &Connection, group: &str, user: &str) -> Result<Option<Window>> {
    conn.prepare_cached("SELECT from_seq, to_seq, read_seq FROM group_windows WHERE user_id = ?1 AND group_id = ?2")
        .and_then(|mut s| {
            s.query_row([user, group], |r| Ok(Window { from: r.get(0)?, to: r.get(1)?, read: r.get(2)? })).optional()
        })
        .db()
}

#[async_trait]
impl GroupStore for SqliteStore {
    async fn insert_group(&self, g: &Group) -> Result<()> {
        let g = g.clone();
        let tags = skills_json(&g.tags)?;
        self.write(move |conn| {
            let tx = conn.savepoint().db()?;
            tx.prepare_cached(
                "INSERT INTO groups (id, name, description, visibility, tags, owner_id, member_count, archived, \
                 created_at, updated_at, photo_url) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1, 0, ?7, ?8, ?9)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    g.id.to_hex(),
                    g.name,
                    g.description,
                    g.visibility.as_str(),
                    tags,
                    g.owner_id.to_hex(),
                    ms(g.created_at),
                    ms(g.updated_at),
                    g.photo_url,
                ])
            })
            .db()?;
            tx.prepare_cached("INSERT INTO group_members (group_id, user_id, role, joined_at) VALUES (?1, ?2, ?3, ?4)")
                .and_then(|mut s| {
                    s.execute(params![g.id.to_hex(), g.owner_id.to_hex(), GroupRole::Owner.as_str(), ms(g.created_at)])
                })
                .db()?;
            open_window(&tx, &g.id.to_hex(), &g.owner_id.to_hex())?;
            insert_group_keys(&tx, &g.id.to_hex(), &group_keys(&g.name, &g.tags)).db()?;
            tx.commit().db()
        })
        .await
    }

    async fn group(&self, id: GroupId) -> Result<Option<Group>> {
        self.read(move |conn| {
            conn.prepare_cached(&format!("SELECT {GROUP_COLS} FROM groups g WHERE g.id = ?1"))
                .and_then(|mut s| s.query_row([id.to_hex()], group).optional())
                .db()
        })
        .await
    }

    async fn member(&self, group: GroupId, user: UserId) -> Result<Option<GroupMember>> {
        self.read(move |conn| {
            conn.prepare_cached(&format!(
                "SELECT {MEMBER_COLS} FROM group_members m WHERE m.group_id = ?1 AND m.user_id = ?2"
            ))
            .and_then(|mut s| s.query_row([group.to_hex(), user.to_hex()], |r| member_at(r, 0)).optional())
            .db()
        })
        .await
    }

    async fn members(&self, group: GroupId) -> Result<Vec<GroupMember>> {
        self.read(move |conn| {
            let mut s = conn
                .prepare_cached(&format!(
                    "SELECT {MEMBER_COLS} FROM group_members m WHERE m.group_id = ?1 ORDER BY m.joined_at, m.user_id"
                ))
                .db()?;
            collect(s.query_map([group.to_hex()], |r| member_at(r, 0)).db()?)
        })
        .await
    }

    async fn recipients(&self, group: GroupId, sender: UserId) -> Result<Vec<UserId>> {
        self.read(move |conn| {
            // The primary key's range for the group, and one primary-key probe of
            // `blocks` per member.
            let mut s = conn
                .prepare_cached(
                    "SELECT m.user_id FROM group_members m WHERE m.group_id = ?1 AND NOT EXISTS \
                     (SELECT 1 FROM blocks b WHERE b.blocker_id = m.user_id AND b.blocked_id = ?2)",
                )
                .db()?;
            collect(s.query_map([group.to_hex(), sender.to_hex()], |r| Ok(UserId::from(oid(r, 0)?))).db()?)
        })
        .await
    }

    async fn groups_of(&self, user: UserId) -> Result<Vec<(Group, GroupRole)>> {
        self.read(move |conn| {
            let mut s = conn
                .prepare_cached(&format!(
                    "SELECT {GROUP_COLS}, {MEMBER_COLS} FROM group_members m JOIN groups g ON g.id = m.group_id \
                     WHERE m.user_id = ?1 ORDER BY g.updated_at DESC, g.id DESC"
                ))
                .db()?;
            collect(s.query_map([user.to_hex()], |r| Ok((group(r)?, member_at(r, GROUP_COL_COUNT)?.role))).db()?)
        })
        .await
    }

    async fn add_member(&self, group: GroupId, member: &GroupMember, cap: u32, now: DateTime<Utc>) -> Result<Added> {
        let member = *member;
        self.write(move |conn| {
            let tx = conn.savepoint().db()?;
            let id = group.to_hex();
            let state: Option<(u32, bool)> = tx
                .prepare_cached("SELECT member_count, archived FROM groups WHERE id = ?1")
                .and_then(|mut s| s.query_row([&id], |r| Ok((r.get(0)?, r.get(1)?))).optional())
                .db()?;
            let count = match state {
                None | Some((_, true)) => return Ok(Added::Closed),
                Some((count, false)) => count,
            };
            let user = member.user_id.to_hex();
            let already: bool = tx
                .prepare_cached("SELECT EXISTS (SELECT 1 FROM group_members WHERE group_id = ?1 AND user_id = ?2)")
                .and_then(|mut s| s.query_row([&id, &user], |r| r.get(0)))
                .db()?;
            if already {
                return Ok(Added::AlreadyMember);
            }
            if count >= cap {
                return Ok(Added::Full);
            }
            tx.prepare_cached("INSERT INTO group_members (group_id, user_id, role, joined_at) VALUES (?1, ?2, ?3, ?4)")
                .and_then(|mut s| s.execute(params![id, user, member.role.as_str(), ms(member.joined_at)]))
                .db()?;
            tx.prepare_cached("UPDATE groups SET member_count = member_count + 1, updated_at = ?2 WHERE id = ?1")
                .and_then(|mut s| s.execute(params![id, ms(now)]))
                .db()?;
            open_window(&tx, &id, &user)?;
            tx.commit().db()?;
            Ok(Added::Added)
        })
        .await
    }

    async fn remove_member(&self, group: GroupId, user: UserId, now: DateTime<Utc>) -> Result<Option<GroupRole>> {
        self.write(move |conn| {
            let tx = conn.savepoint().db()?;
            let id = group.to_hex();
            let role: Option<String> = tx
                .prepare_cached("DELETE FROM group_members WHERE group_id = ?1 AND user_id = ?2 RETURNING role")
                .and_then(|mut s| s.query_row([&id, &user.to_hex()], |r| r.get(0)).optional())
                .db()?;
            let Some(role) = role else { return Ok(None) };
            tx.prepare_cached(
                "UPDATE group_windows SET to_seq = (SELECT COALESCE(MAX(seq), 0) FROM messages) \
                 WHERE user_id = ?1 AND group_id = ?2",
            )
            .and_then(|mut s| s.execute([&user.to_hex(), &id]))
            .db()?;
            tx.prepare_cached(
                "UPDATE groups SET member_count = member_count - 1, archived = (member_count <= 1), updated_at = ?2 \
                 WHERE id = ?1",
            )
            .and_then(|mut s| s.execute(params![id, ms(now)]))
            .db()?;
            tx.commit().db()?;
            Ok(Some(GroupRole::parse(&role).map_err(crate::Error::internal)?))
        })
        .await
    }

    async fn set_role(
        &self,
        group: GroupId,
        user: UserId,
        from: GroupRole,
        to: GroupRole,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        self.write(move |conn| {
            let tx = conn.savepoint().db()?;
            let (id, user) = (group.to_hex(), user.to_hex());
            let changed = tx
                .prepare_cached("UPDATE group_members SET role = ?4 WHERE group_id = ?1 AND user_id = ?2 AND role = ?3")
                .and_then(|mut s| s.execute(params![id, user, from.as_str(), to.as_str()]))
                .db()?;
            if changed == 0 {
                return Ok(false);
            }
            let owner = if to == GroupRole::Owner { Some(user) } else { None };
            tx.prepare_cached("UPDATE groups SET owner_id = COALESCE(?3, owner_id), updated_at = ?2 WHERE id = ?1")
                .and_then(|mut s| s.execute(params![id, ms(now), owner]))
                .db()?;
            tx.commit().db()?;
            Ok(true)
        })
        .await
    }

    async fn update_group(
        &self,
        id: GroupId,
        update: &GroupUpdate,
        now: DateTime<Utc>,
    ) -> Result<Option<(Group, Group)>> {
        let update = update.clone();
        self.write(move |conn| {
            let tx = conn.savepoint().db()?;
            let key = id.to_hex();
            let old = tx
                .prepare_cached(&format!("SELECT {GROUP_COLS} FROM groups g WHERE g.id = ?1 AND g.archived = 0"))
                .and_then(|mut s| s.query_row([&key], group).optional())
                .db()?;
            let Some(old) = old else { return Ok(None) };
            let new = update.apply(&old, now);
            tx.prepare_cached(
                "UPDATE groups SET name = ?2, description = ?3, visibility = ?4, tags = ?5, photo_url = ?6, \
                 updated_at = ?7 WHERE id = ?1",
            )
            .and_then(|mut s| {
                s.execute(params![
                    key,
                    new.name,
                    new.description,
                    new.visibility.as_str(),
                    skills_json(&new.tags).map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?,
                    new.photo_url,
                    ms(now)
                ])
            })
            .db()?;
            tx.prepare_cached("DELETE FROM group_keys WHERE group_id = ?1").and_then(|mut s| s.execute([&key])).db()?;
            insert_group_keys(&tx, &key, &group_keys(&new.name, &new.tags)).db()?;
            tx.commit().db()?;
            Ok(Some((old, new)))
        })
        .await
    }

    async fn insert_group_message(&self, m: &NewGroupMessageRecord) -> Result<Inserted<GroupMessage>> {
        let m = m.clone();
        let change = m.change.map(|c| serde_json::to_string(&c)).transpose().map_err(Error::internal)?;
        self.write(move |conn| {
            let tx = conn.savepoint().db()?;
            let group = m.group.to_hex();
            let row = NewRow {
                id: m.id,
                conv_key: group.clone(),
                sender: m.sender.to_hex(),
                receiver: group.clone(),
                text: &m.text,
                image: m.image.as_deref(),
                client_msg_id: m.client_msg_id.as_deref(),
                created_at: m.created_at,
                group_id: Some(group),
                change,
            };
            let inserted = match insert_row(&tx, &row)? {
                Ok(seq) => {
                    tx.prepare_cached("UPDATE groups SET last_seq = ?2 WHERE id = ?1")
                        .and_then(|mut s| s.execute(params![m.group.to_hex(), seq]))
                        .db()?;
                    Inserted::New(GroupMessage {
                        id: m.id,
                        group_id: m.group,
                        sender_id: m.sender,
                        text: m.text,
                        image: m.image,
                        client_msg_id: m.client_msg_id,
                        created_at: m.created_at,
                        change: m.change,
                        seq,
                    })
                }
                Err(AnyMessage::Group(existing)) => Inserted::Existing(existing),
                Err(AnyMessage::Direct(_)) => return Err(Error::internal("a group's client id named a 1:1 message")),
            };
            tx.commit().db()?;
            Ok(inserted)
        })
        .await
    }

    async fn window(&self, group: GroupId, user: UserId) -> Result<Option<Window>> {
        self.read(move |conn| window_of(conn, &group.to_hex(), &user.to_hex())).await
    }

    async fn group_history(
        &self,
        group: GroupId,
        window: Window,
        hidden: &[UserId],
        before: Option<MessageId>,
        limit: u32,
    ) -> Result<Vec<GroupMessage>> {
        let hidden = ids_json(hidden)?;
        self.read(move |conn| {
            let key = group.to_hex();
            let end = match before {
                Some(id) => Some(message_seq(conn, id, "conv_key = ?2", &key)?)
                    .filter(|seq| window.contains(*seq))
                    .ok_or(Error::NotFound("message"))?,
                None => window.to.map_or(i64::MAX, |to| to + 1),
            };
            let mut stmt = conn
                .prepare_cached(&format!(
                    "SELECT {ANY_MESSAGE_COLS} FROM messages WHERE conv_key = ?1 AND seq > ?2 AND seq < ?3 \
                       AND sender_id NOT IN (SELECT value FROM json_each(?5)) ORDER BY seq DESC LIMIT ?4"
                ))
                .db()?;
            let rows = stmt.query_map(params![key, window.from, end, limit, hidden], group_message);
            let mut messages = collect(rows.db()?)?;
            messages.reverse();
            Ok(messages)
        })
        .await
    }

    async fn mark_group_read(&self, group: GroupId, user: UserId, up_to: MessageId) -> Result<bool> {
        self.write(move |conn| {
            let (group, user) = (group.to_hex(), user.to_hex());
            let seq = message_seq(conn, up_to, "conv_key = ?2", &group)?;
            let window =
                window_of(conn, &group, &user)?.filter(|w| w.contains(seq)).ok_or(Error::NotFound("message"))?;
            if seq <= window.read {
                return Ok(false);
            }
            conn.prepare_cached(
                "UPDATE group_windows SET read_seq = ?3 WHERE user_id = ?1 AND group_id = ?2 AND read_seq < ?3",
            )
            .and_then(|mut s| s.execute(params![user, group, seq]))
            .db()
            .map(|n| n > 0)
        })
        .await
    }

    async fn group_conversations(&self, user: UserId) -> Result<Vec<GroupConversation>> {
        self.read(move |conn| {
            let me = user.to_hex();
            let mut groups = conn
                .prepare_cached(&format!(
                    "SELECT {GROUP_COLS}, w.from_seq, w.read_seq FROM group_windows w JOIN groups g ON g.id = w.group_id \
                     WHERE w.user_id = ?1 AND w.to_seq IS NULL"
                ))
                .db()?;
            let groups = collect(
                groups.query_map([&me], |r| Ok((group(r)?, r.get::<_, i64>(GROUP_COL_COUNT)?, r.get::<_, i64>(GROUP_COL_COUNT + 1)?))).db()?,
            )?;
            let mut last = conn
                .prepare_cached(&format!(
                    "SELECT {ANY_MESSAGE_COLS} FROM messages WHERE conv_key = ?1 AND seq > ?2 ORDER BY seq DESC LIMIT 1"
                ))
                .db()?;
            // Counted up to the cap only: the rest of a long unread range is never read.
            let mut unread = conn
                .prepare_cached(&format!(
                    "SELECT COUNT(*) FROM (SELECT 1 FROM messages WHERE conv_key = ?1 AND seq > ?2 \
                     AND sender_id != ?3 AND group_change IS NULL LIMIT {MAX_UNREAD_COUNT})"
                ))
                .db()?;
            let mut out = Vec::with_capacity(groups.len());
            for (group, from, read) in groups {
                let key = group.id.to_hex();
                let last_message = last.query_row(params![key, from], group_message).optional().db()?;
                let unread_count: i64 = unread.query_row(params![key, from.max(read), me], |r| r.get(0)).db()?;
                out.push(GroupConversation { group, last_message, unread_count: u64::try_from(unread_count).unwrap_or(0) });
            }
            Ok(out)
        })
        .await
    }

    async fn discover_groups(&self, filter: &GroupFilter) -> Result<Vec<Group>> {
        let filter = filter.clone();
        let keys = serde_json::to_string(&filter.keys).map_err(Error::internal)?;
        // Just past every key starting with the prefix.
        let end = filter.prefix.as_ref().map(|p| format!("{p}\u{10ffff}"));
        self.read(move |conn| {
            let mut stmt = conn
                .prepare_cached(&format!(
                    "SELECT {GROUP_COLS} FROM groups g WHERE g.visibility = 'public' AND g.archived = 0 \
                     AND (?2 = 0 OR g.id IN (SELECT group_id FROM group_keys \
                       WHERE key IN (SELECT value FROM json_each(?1)) GROUP BY group_id HAVING COUNT(*) = ?2)) \
                     AND (?3 IS NULL OR EXISTS (SELECT 1 FROM group_keys k \
                       WHERE k.group_id = g.id AND k.key >= ?3 AND k.key < ?4)) \
                     ORDER BY g.last_seq DESC, g.id DESC LIMIT ?5 OFFSET ?6"
                ))
                .db()?;
            let offset = i64::try_from(filter.offset).unwrap_or(i64::MAX);
            let wanted = i64::try_from(filter.keys.len()).unwrap_or(i64::MAX);
            let rows = stmt.query_map(params![keys, wanted, filter.prefix, end, filter.limit, offset], group);
            collect(rows.db()?)
        })
        .await
    }
}
