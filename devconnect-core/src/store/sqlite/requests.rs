//! The requests aggregate on SQLite: connection requests and connections.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use devconnect_types::{ConnectionRequest, Profile, RequestId, RequestStatus, UserId};
use rusqlite::{OptionalExtension as _, params};

use super::SqliteStore;
use super::error::ResultExt as _;
use super::rows::{REQUEST_COL_COUNT, REQUEST_COLS, USER_COLS, collect, ms, oid, request, user, user_at};
use crate::Result;
use crate::store::{RequestStore, pair_key};

/// Writes `r` as a new row under its pair's key (the unique index refuses a second).
fn insert_row(conn: &rusqlite::Connection, r: &ConnectionRequest) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO connection_requests (id, from_id, to_id, pair_key, status, note, created_at, updated_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )
    .and_then(|mut s| {
        s.execute(params![
            r.id.to_hex(),
            r.from_user_id.to_hex(),
            r.to_user_id.to_hex(),
            pair_key(r.from_user_id, r.to_user_id),
            r.status.as_str(),
            r.note,
            ms(r.created_at),
            ms(r.updated_at),
        ])
    })
    .db()
    .map(drop)
}

#[async_trait]
impl RequestStore for SqliteStore {
    async fn insert_request(&self, r: &ConnectionRequest) -> Result<()> {
        let r = r.clone();
        self.write(move |conn| insert_row(conn, &r)).await
    }

    async fn request_between(&self, a: UserId, b: UserId) -> Result<Option<ConnectionRequest>> {
        self.read(move |conn| {
            conn.prepare_cached(&format!("SELECT {REQUEST_COLS} FROM connection_requests r WHERE r.pair_key = ?1"))
                .and_then(|mut s| s.query_row([pair_key(a, b)], request).optional())
                .db()
        })
        .await
    }

    async fn renew_rejected_request(
        &self,
        old: RequestId,
        rejected_at: DateTime<Utc>,
        r: &ConnectionRequest,
    ) -> Result<bool> {
        let r = r.clone();
        self.write(move |conn| {
            let tx = conn.savepoint().db()?;
            // Filed under a key no pair has: `<pair key>:<its own id>`.
            let filed = tx
                .prepare_cached(
                    "UPDATE connection_requests SET pair_key = pair_key || ':' || id \
                     WHERE id = ?1 AND status = 'rejected' AND updated_at = ?2",
                )
                .and_then(|mut s| s.execute(params![old.to_hex(), ms(rejected_at)]))
                .db()?;
            if filed == 0 {
                return Ok(false);
            }
            insert_row(&tx, &r)?;
            tx.commit().db()?;
            Ok(true)
        })
        .await
    }

    async fn request(&self, id: RequestId) -> Result<Option<ConnectionRequest>> {
        self.read(move |conn| {
            conn.prepare_cached(&format!("SELECT {REQUEST_COLS} FROM connection_requests r WHERE r.id = ?1"))
                .and_then(|mut s| s.query_row([id.to_hex()], request).optional())
                .db()
        })
        .await
    }

    async fn review_request(
        &self,
        id: RequestId,
        receiver: UserId,
        status: RequestStatus,
        now: DateTime<Utc>,
    ) -> Result<Option<ConnectionRequest>> {
        self.write(move |conn| {
            conn.prepare_cached(&format!(
                "UPDATE connection_requests SET status = ?3, updated_at = ?4 \
                 WHERE id = ?1 AND to_id = ?2 AND status = 'interested' RETURNING {}",
                REQUEST_COLS.replace("r.", "")
            ))
            .and_then(|mut s| {
                s.query_row(params![id.to_hex(), receiver.to_hex(), status.as_str(), ms(now)], request).optional()
            })
            .db()
        })
        .await
    }

    async fn received_requests(&self, me: UserId) -> Result<Vec<ConnectionRequest<Profile, UserId>>> {
        self.read(move |conn| {
            let mut stmt = conn
                .prepare_cached(&format!(
                    "SELECT {REQUEST_COLS}, {USER_COLS} FROM connection_requests r JOIN users u ON u.id = r.from_id \
                     WHERE r.to_id = ?1 AND r.status = 'interested' ORDER BY r.created_at DESC, r.id DESC"
                ))
                .db()?;
            let rows = stmt
                .query_map([me.to_hex()], |row| {
                    let r = request(row)?;
                    let from = user_at(row, REQUEST_COL_COUNT)?.me.profile;
                    let to = r.to_user_id;
                    Ok(r.with_parties(from, to))
                })
                .db()?;
            collect(rows)
        })
        .await
    }

    async fn sent_requests(&self, me: UserId) -> Result<Vec<ConnectionRequest<UserId, Profile>>> {
        self.read(move |conn| {
            let mut stmt = conn
                .prepare_cached(&format!(
                    "SELECT {REQUEST_COLS}, {USER_COLS} FROM connection_requests r JOIN users u ON u.id = r.to_id \
                     WHERE r.from_id = ?1 ORDER BY r.created_at DESC, r.id DESC"
                ))
                .db()?;
            let rows = stmt
                .query_map([me.to_hex()], |row| {
                    let r = request(row)?;
                    let to = user_at(row, REQUEST_COL_COUNT)?.me.profile;
                    let from = r.from_user_id;
                    Ok(r.with_parties(from, to))
                })
                .db()?;
            collect(rows)
        })
        .await
    }

    async fn connections(&self, me: UserId) -> Result<Vec<Profile>> {
        self.read(move |conn| {
            let mut stmt = conn
                .prepare_cached(&format!(
                    "SELECT {USER_COLS}, c.updated_at FROM ( \
                       SELECT to_id AS other, updated_at FROM connection_requests WHERE from_id = ?1 AND status = 'accepted' \
                       UNION ALL \
                       SELECT from_id, updated_at FROM connection_requests WHERE to_id = ?1 AND status = 'accepted' \
                     ) c JOIN users u ON u.id = c.other ORDER BY c.updated_at DESC, u.id DESC"
                ))
                .db()?;
            let rows = stmt.query_map([me.to_hex()], |row| Ok(user(row)?.me.profile)).db()?;
            collect(rows)
        })
        .await
    }

    async fn connection_ids(&self, me: UserId) -> Result<Vec<UserId>> {
        self.read(move |conn| {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT to_id FROM connection_requests WHERE from_id = ?1 AND status = 'accepted' \
                     UNION ALL \
                     SELECT from_id FROM connection_requests WHERE to_id = ?1 AND status = 'accepted'",
                )
                .db()?;
            let rows = stmt.query_map([me.to_hex()], |row| Ok(UserId::from(oid(row, 0)?))).db()?;
            collect(rows)
        })
        .await
    }

    async fn are_connected(&self, a: UserId, b: UserId) -> Result<bool> {
        self.read(move |conn| {
            conn.prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM connection_requests WHERE pair_key = ?1 AND status = 'accepted')",
            )
            .and_then(|mut s| s.query_row([pair_key(a, b)], |r| r.get(0)))
            .db()
        })
        .await
    }

    async fn delete_request(&self, id: RequestId) -> Result<bool> {
        self.write(move |conn| {
            conn.prepare_cached("DELETE FROM connection_requests WHERE id = ?1 AND status IN ('interested', 'ignored')")
                .and_then(|mut s| s.execute([id.to_hex()]))
                .db()
                .map(|n| n > 0)
        })
        .await
    }

    async fn delete_connection(&self, a: UserId, b: UserId) -> Result<bool> {
        self.write(move |conn| {
            conn.prepare_cached("DELETE FROM connection_requests WHERE pair_key = ?1 AND status = 'accepted'")
                .and_then(|mut s| s.execute([pair_key(a, b)]))
                .db()
                .map(|n| n > 0)
        })
        .await
    }
}
