//! The safety aggregate on SQLite: blocks and reports. A block, its cap and the removal
//! of what stood between the two people happen in one savepoint on the writer thread.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use devconnect_types::{
    AuditAction, AuditEntry, AuditId, BlockedUser, Report, ReportId, ReportKind, ReportReason, ReportStatus, Reported,
    Resolution, UserId,
};
use rusqlite::{OptionalExtension as _, Row, params};

use super::SqliteStore;
use super::error::ResultExt as _;
use super::rows::{USER_COL_COUNT, USER_COLS, collect, conversion, ids_json, ms, oid, time, user};
use crate::store::{Blocked, Blocking, SafetyStore, pair_key};
use crate::{Error, Result};

const REPORT_COLS: &str = "id, reporter_id, kind, target_id, reason, details, snapshot, status, created_at, \
                           resolved_by, resolution_note, resolved_at";

fn report(row: &Row<'_>) -> rusqlite::Result<Report> {
    let word = |idx: usize| -> rusqlite::Result<String> { row.get(idx) };
    let snapshot: String = row.get(6)?;
    let resolution = match (row.get::<_, Option<String>>(9)?, row.get::<_, Option<String>>(10)?) {
        (Some(by), Some(note)) => Some(Resolution { by, note, at: time(row, 11)? }),
        _ => None,
    };
    Ok(Report {
        id: oid(row, 0)?.into(),
        reporter_id: oid(row, 1)?.into(),
        kind: ReportKind::parse(&word(2)?).map_err(|e| conversion(2, e))?,
        target_id: row.get(3)?,
        reason: ReportReason::parse(&word(4)?).map_err(|e| conversion(4, e))?,
        details: row.get(5)?,
        snapshot: serde_json::from_str::<Reported>(&snapshot).map_err(|e| conversion(6, e))?,
        status: ReportStatus::parse(&word(7)?).map_err(|e| conversion(7, e))?,
        created_at: time(row, 8)?,
        resolution,
    })
}

const AUDIT_COLS: &str = "id, actor, action, target_id, note, at";

fn audit_entry(row: &Row<'_>) -> rusqlite::Result<AuditEntry> {
    let action: String = row.get(2)?;
    Ok(AuditEntry {
        id: oid(row, 0)?.into(),
        actor: row.get(1)?,
        action: AuditAction::parse(&action).map_err(|e| conversion(2, e))?,
        target_id: row.get(3)?,
        note: row.get(4)?,
        at: time(row, 5)?,
    })
}

#[async_trait]
impl SafetyStore for SqliteStore {
    async fn block(&self, blocker: UserId, blocked: UserId, cap: u32, now: DateTime<Utc>) -> Result<Blocked> {
        self.write(move |conn| {
            let tx = conn.savepoint().db()?;
            let (by, whom) = (blocker.to_hex(), blocked.to_hex());
            let exists = tx
                .prepare_cached("SELECT 1 FROM blocks WHERE blocker_id = ?1 AND blocked_id = ?2")
                .and_then(|mut s| s.exists([&by, &whom]))
                .db()?;
            if exists {
                return Ok(Blocked::Existing);
            }
            let count: u32 = tx
                .prepare_cached("SELECT COUNT(*) FROM blocks WHERE blocker_id = ?1")
                .and_then(|mut s| s.query_row([&by], |r| r.get(0)))
                .db()?;
            if count >= cap {
                return Ok(Blocked::Full);
            }
            let key = pair_key(blocker, blocked);
            tx.prepare_cached(
                "INSERT INTO blocks (blocker_id, blocked_id, pair_key, created_at) VALUES (?1, ?2, ?3, ?4)",
            )
            .and_then(|mut s| s.execute(params![by, whom, key, ms(now)]))
            .db()?;
            let removed: Option<String> = tx
                .prepare_cached(
                    "DELETE FROM connection_requests WHERE pair_key = ?1 AND status IN ('accepted', 'interested') \
                     RETURNING status",
                )
                .and_then(|mut s| s.query_row([&key], |r| r.get(0)).optional())
                .db()?;
            tx.commit().db()?;
            Ok(Blocked::New { disconnected: removed.as_deref() == Some("accepted") })
        })
        .await
    }

    async fn unblock(&self, blocker: UserId, blocked: UserId) -> Result<bool> {
        self.write(move |conn| {
            conn.prepare_cached("DELETE FROM blocks WHERE blocker_id = ?1 AND blocked_id = ?2")
                .and_then(|mut s| s.execute([blocker.to_hex(), blocked.to_hex()]))
                .db()
                .map(|n| n > 0)
        })
        .await
    }

    async fn blocking(&self, me: UserId, other: UserId) -> Result<Blocking> {
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached("SELECT blocker_id FROM blocks WHERE pair_key = ?1").db()?;
            let blockers = collect(stmt.query_map([pair_key(me, other)], |r| Ok(UserId::from(oid(r, 0)?))).db()?)?;
            Ok(Blocking { i_blocked: blockers.contains(&me), blocked_me: blockers.contains(&other) })
        })
        .await
    }

    async fn blocked_users(&self, me: UserId) -> Result<Vec<BlockedUser>> {
        self.read(move |conn| {
            let mut stmt = conn
                .prepare_cached(&format!(
                    "SELECT {USER_COLS}, b.created_at FROM blocks b JOIN users u ON u.id = b.blocked_id \
                     WHERE b.blocker_id = ?1 ORDER BY b.created_at DESC, u.id DESC"
                ))
                .db()?;
            let rows = stmt
                .query_map([me.to_hex()], |row| {
                    Ok(BlockedUser { user: user(row)?.me.profile, blocked_at: time(row, USER_COL_COUNT)? })
                })
                .db()?;
            collect(rows)
        })
        .await
    }

    async fn blocked_ids(&self, me: UserId) -> Result<Vec<UserId>> {
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached("SELECT blocked_id FROM blocks WHERE blocker_id = ?1").db()?;
            collect(stmt.query_map([me.to_hex()], |r| Ok(UserId::from(oid(r, 0)?))).db()?)
        })
        .await
    }

    async fn insert_report(&self, r: &Report) -> Result<()> {
        let r = r.clone();
        let snapshot = serde_json::to_string(&r.snapshot).map_err(Error::internal)?;
        self.write(move |conn| {
            conn.prepare_cached(&format!(
                "INSERT INTO reports ({REPORT_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, NULL, NULL, NULL)"
            ))
            .and_then(|mut s| {
                s.execute(params![
                    r.id.to_hex(),
                    r.reporter_id.to_hex(),
                    r.kind.as_str(),
                    r.target_id,
                    r.reason.as_str(),
                    r.details,
                    snapshot,
                    r.status.as_str(),
                    ms(r.created_at),
                ])
            })
            .db()
            .map(drop)
            .map_err(|e| match e {
                Error::Conflict(_) => Error::Conflict("you already reported this and it is still open"),
                other => other,
            })
        })
        .await
    }

    async fn report(&self, id: ReportId) -> Result<Option<Report>> {
        self.read(move |conn| {
            conn.prepare_cached(&format!("SELECT {REPORT_COLS} FROM reports WHERE id = ?1"))
                .and_then(|mut s| s.query_row([id.to_hex()], report).optional())
                .db()
        })
        .await
    }

    async fn reports(&self, status: Option<ReportStatus>, after: Option<ReportId>, limit: u32) -> Result<Vec<Report>> {
        self.read(move |conn| {
            let mut stmt = conn
                .prepare_cached(&format!(
                    "SELECT {REPORT_COLS} FROM reports WHERE (?1 IS NULL OR status = ?1) AND id > ?2 \
                     ORDER BY id LIMIT ?3"
                ))
                .db()?;
            let after = after.map(ReportId::to_hex).unwrap_or_default();
            collect(stmt.query_map(params![status.map(ReportStatus::as_str), after, limit], report).db()?)
        })
        .await
    }

    async fn reports_by(&self, reporter: UserId) -> Result<Vec<Report>> {
        self.read(move |conn| {
            let mut stmt = conn
                .prepare_cached(&format!("SELECT {REPORT_COLS} FROM reports WHERE reporter_id = ?1 ORDER BY id DESC"))
                .db()?;
            collect(stmt.query_map([reporter.to_hex()], report).db()?)
        })
        .await
    }

    async fn close_report(
        &self,
        id: ReportId,
        status: ReportStatus,
        resolution: &Resolution,
    ) -> Result<Option<Report>> {
        let resolution = resolution.clone();
        self.write(move |conn| {
            conn.prepare_cached(&format!(
                "UPDATE reports SET status = ?2, resolved_by = ?3, resolution_note = ?4, resolved_at = ?5 \
                 WHERE id = ?1 AND status = 'open' RETURNING {REPORT_COLS}"
            ))
            .and_then(|mut s| {
                s.query_row(
                    params![id.to_hex(), status.as_str(), resolution.by, resolution.note, ms(resolution.at)],
                    report,
                )
                .optional()
            })
            .db()
        })
        .await
    }

    async fn set_suspended(&self, user: UserId, since: Option<DateTime<Utc>>) -> Result<bool> {
        self.write(move |conn| {
            conn.prepare_cached("UPDATE users SET suspended_at = ?2 WHERE id = ?1")
                .and_then(|mut s| s.execute(params![user.to_hex(), since.map(ms)]))
                .db()
                .map(|n| n > 0)
        })
        .await
    }

    async fn suspended_among(&self, among: &[UserId]) -> Result<Vec<UserId>> {
        let among = ids_json(among)?;
        self.read(move |conn| {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT id FROM users WHERE id IN (SELECT value FROM json_each(?1)) AND suspended_at IS NOT NULL",
                )
                .db()?;
            collect(stmt.query_map([among], |r| Ok(UserId::from(oid(r, 0)?))).db()?)
        })
        .await
    }

    async fn insert_audit(&self, e: &AuditEntry) -> Result<()> {
        let e = e.clone();
        self.write(move |conn| {
            conn.prepare_cached(&format!("INSERT INTO audit ({AUDIT_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"))
                .and_then(|mut s| {
                    s.execute(params![e.id.to_hex(), e.actor, e.action.as_str(), e.target_id, e.note, ms(e.at)])
                })
                .db()
                .map(drop)
        })
        .await
    }

    async fn audit(&self, after: Option<AuditId>, limit: u32) -> Result<Vec<AuditEntry>> {
        self.read(move |conn| {
            let mut stmt = conn
                .prepare_cached(&format!("SELECT {AUDIT_COLS} FROM audit WHERE id > ?1 ORDER BY id LIMIT ?2"))
                .db()?;
            let after = after.map(AuditId::to_hex).unwrap_or_default();
            collect(stmt.query_map(params![after, limit], audit_entry).db()?)
        })
        .await
    }

    async fn audit_since(&self, since: DateTime<Utc>, limit: u32) -> Result<Vec<AuditEntry>> {
        self.read(move |conn| {
            let mut stmt = conn
                .prepare_cached(&format!("SELECT {AUDIT_COLS} FROM audit WHERE at >= ?1 ORDER BY at, id LIMIT ?2"))
                .db()?;
            collect(stmt.query_map(params![ms(since), limit], audit_entry).db()?)
        })
        .await
    }
}
