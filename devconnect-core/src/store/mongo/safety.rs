//! The safety aggregate on MongoDB: `blocks` (one document per blocker and blocked,
//! unique) and `reports` (a partial unique index keeps one open report per reporter and
//! target).
//!
//! Without transactions a block is two writes: the block first, then the removal of the
//! connection or pending request between the two. A request sent in between is caught
//! by the service, which checks for a block after storing a request (see
//! `DevConnect::send_request`). The block cap is counted before the insert, so
//! concurrent blocks by one person can pass it by their number.

use async_trait::async_trait;
use bson::oid::ObjectId;
use bson::{Document, doc};
use chrono::{DateTime, Utc};
use devconnect_types::{
    AuditAction, AuditEntry, AuditId, BlockedUser, Report, ReportId, ReportKind, ReportReason, ReportStatus,
    Resolution, UserId,
};

use super::documents::{bson_time, oid, string, time};
use super::error::{db_err, is_duplicate_key};
use super::{MongoStore, find_all, find_page, ids_of};
use crate::store::{Blocked, Blocking, SafetyStore, pair_key};
use crate::{Error, Result};

fn report_doc(r: &Report) -> Result<Document> {
    Ok(doc! {
        "_id": r.id.object_id(),
        "reporterId": r.reporter_id.object_id(),
        "kind": r.kind.as_str(),
        "targetId": &r.target_id,
        "reason": r.reason.as_str(),
        "details": &r.details,
        "snapshot": bson::to_bson(&r.snapshot).map_err(Error::internal)?,
        "status": r.status.as_str(),
        "createdAt": bson_time(r.created_at),
    })
}

fn report_from_doc(d: &Document) -> Result<Report> {
    let word = |key: &str| string(d, key).unwrap_or_default();
    let invalid = |e: devconnect_types::Invalid| Error::internal(format!("stored report: {e}"));
    let resolution = match d.get_document("resolution") {
        Ok(r) => Some(Resolution {
            by: string(r, "by").unwrap_or_default(),
            note: string(r, "note").unwrap_or_default(),
            at: time(r, "at").ok_or_else(|| Error::internal("stored report: resolution without a time"))?,
        }),
        Err(_) => None,
    };
    Ok(Report {
        id: oid(d, "_id")?.into(),
        reporter_id: oid(d, "reporterId")?.into(),
        kind: ReportKind::parse(&word("kind")).map_err(invalid)?,
        target_id: word("targetId"),
        reason: ReportReason::parse(&word("reason")).map_err(invalid)?,
        details: word("details"),
        snapshot: bson::from_bson(d.get("snapshot").cloned().unwrap_or(bson::Bson::Null)).map_err(Error::internal)?,
        status: ReportStatus::parse(&word("status")).map_err(invalid)?,
        created_at: time(d, "createdAt").ok_or_else(|| Error::internal("stored report: no creation time"))?,
        resolution,
    })
}

fn reports_from(docs: &[Document]) -> Result<Vec<Report>> {
    docs.iter().map(report_from_doc).collect()
}

fn audit_from_doc(d: &Document) -> Result<AuditEntry> {
    let action = string(d, "action").unwrap_or_default();
    Ok(AuditEntry {
        id: oid(d, "_id")?.into(),
        actor: string(d, "actor").unwrap_or_default(),
        action: AuditAction::parse(&action).map_err(|e| Error::internal(format!("stored audit entry: {e}")))?,
        target_id: string(d, "targetId").unwrap_or_default(),
        note: string(d, "note").unwrap_or_default(),
        at: time(d, "at").ok_or_else(|| Error::internal("stored audit entry: no time"))?,
    })
}

#[async_trait]
impl SafetyStore for MongoStore {
    async fn block(&self, blocker: UserId, blocked: UserId, cap: u32, now: DateTime<Utc>) -> Result<Blocked> {
        let (by, whom) = (blocker.object_id(), blocked.object_id());
        if self.blocks.find_one(doc! { "blockerId": by, "blockedId": whom }).await.map_err(db_err)?.is_some() {
            return Ok(Blocked::Existing);
        }
        if self.blocks.count_documents(doc! { "blockerId": by }).await.map_err(db_err)? >= u64::from(cap) {
            return Ok(Blocked::Full);
        }
        let key = pair_key(blocker, blocked);
        let block = doc! { "blockerId": by, "blockedId": whom, "pairKey": &key, "createdAt": bson_time(now) };
        match self.blocks.insert_one(block).await {
            Ok(_) => {}
            Err(e) if is_duplicate_key(&e) => return Ok(Blocked::Existing),
            Err(e) => return Err(db_err(e)),
        }
        let removed = self
            .requests
            .find_one_and_delete(doc! { "pairKey": &key, "status": { "$in": ["accepted", "interested"] } })
            .await
            .map_err(db_err)?;
        let disconnected = removed.is_some_and(|r| string(&r, "status").as_deref() == Some("accepted"));
        Ok(Blocked::New { disconnected })
    }

    async fn unblock(&self, blocker: UserId, blocked: UserId) -> Result<bool> {
        let filter = doc! { "blockerId": blocker.object_id(), "blockedId": blocked.object_id() };
        Ok(self.blocks.delete_one(filter).await.map_err(db_err)?.deleted_count > 0)
    }

    async fn blocking(&self, me: UserId, other: UserId) -> Result<Blocking> {
        let docs = find_all(&self.blocks, doc! { "pairKey": pair_key(me, other) }, doc! {}).await?;
        let blockers: Vec<UserId> =
            docs.iter().map(|d| oid(d, "blockerId").map(UserId::from)).collect::<Result<_>>()?;
        Ok(Blocking { i_blocked: blockers.contains(&me), blocked_me: blockers.contains(&other) })
    }

    async fn blocked_users(&self, me: UserId) -> Result<Vec<BlockedUser>> {
        let docs =
            find_all(&self.blocks, doc! { "blockerId": me.object_id() }, doc! { "createdAt": -1, "blockedId": -1 })
                .await?;
        let blocks = docs
            .iter()
            .map(|d| Ok((UserId::from(oid(d, "blockedId")?), time(d, "createdAt").unwrap_or_default())))
            .collect::<Result<Vec<_>>>()?;
        let ids: Vec<UserId> = blocks.iter().map(|(id, _)| *id).collect();
        let mut profiles = self.users_by_id(&ids).await?;
        Ok(blocks
            .into_iter()
            .filter_map(|(id, blocked_at)| profiles.remove(&id).map(|user| BlockedUser { user, blocked_at }))
            .collect())
    }

    async fn blocked_ids(&self, me: UserId) -> Result<Vec<UserId>> {
        let ids = ids_of(&self.blocks, doc! { "blockerId": me.object_id() }, "blockedId").await?;
        Ok(ids.into_iter().map(UserId::from).collect())
    }

    async fn insert_report(&self, report: &Report) -> Result<()> {
        self.reports.insert_one(report_doc(report)?).await.map(drop).map_err(|e| match db_err(e) {
            Error::Conflict(_) => Error::Conflict("you already reported this and it is still open"),
            other => other,
        })
    }

    async fn report(&self, id: ReportId) -> Result<Option<Report>> {
        let found = self.reports.find_one(doc! { "_id": id.object_id() }).await.map_err(db_err)?;
        found.as_ref().map(report_from_doc).transpose()
    }

    async fn reports(&self, status: Option<ReportStatus>, after: Option<ReportId>, limit: u32) -> Result<Vec<Report>> {
        let mut filter = doc! {};
        if let Some(status) = status {
            filter.insert("status", status.as_str());
        }
        if let Some(after) = after {
            filter.insert("_id", doc! { "$gt": after.object_id() });
        }
        reports_from(&find_page(&self.reports, filter, doc! { "_id": 1 }, limit).await?)
    }

    async fn reports_by(&self, reporter: UserId) -> Result<Vec<Report>> {
        reports_from(&find_all(&self.reports, doc! { "reporterId": reporter.object_id() }, doc! { "_id": -1 }).await?)
    }

    async fn close_report(
        &self,
        id: ReportId,
        status: ReportStatus,
        resolution: &Resolution,
    ) -> Result<Option<Report>> {
        let update = doc! { "$set": {
            "status": status.as_str(),
            "resolution": { "by": &resolution.by, "note": &resolution.note, "at": bson_time(resolution.at) },
        } };
        let found = self
            .reports
            .find_one_and_update(doc! { "_id": id.object_id(), "status": ReportStatus::Open.as_str() }, update)
            .return_document(mongodb::options::ReturnDocument::After)
            .await
            .map_err(db_err)?;
        found.as_ref().map(report_from_doc).transpose()
    }

    async fn set_suspended(&self, user: UserId, since: Option<DateTime<Utc>>) -> Result<bool> {
        let update = match since {
            Some(at) => doc! { "$set": { "suspendedAt": bson_time(at) } },
            None => doc! { "$unset": { "suspendedAt": "" } },
        };
        let updated = self.users.update_one(doc! { "_id": user.object_id() }, update).await.map_err(db_err)?;
        Ok(updated.matched_count > 0)
    }

    async fn suspended_among(&self, among: &[UserId]) -> Result<Vec<UserId>> {
        let among: Vec<ObjectId> = among.iter().map(|id| id.object_id()).collect();
        let filter = doc! { "_id": { "$in": among }, "suspendedAt": { "$type": "date" } };
        Ok(ids_of(&self.users, filter, "_id").await?.into_iter().map(UserId::from).collect())
    }

    async fn insert_audit(&self, e: &AuditEntry) -> Result<()> {
        let entry = doc! {
            "_id": e.id.object_id(),
            "actor": &e.actor,
            "action": e.action.as_str(),
            "targetId": &e.target_id,
            "note": &e.note,
            "at": bson_time(e.at),
        };
        self.audit.insert_one(entry).await.map(drop).map_err(db_err)
    }

    async fn audit(&self, after: Option<AuditId>, limit: u32) -> Result<Vec<AuditEntry>> {
        let filter = after.map_or_else(Document::new, |after| doc! { "_id": { "$gt": after.object_id() } });
        let docs = find_page(&self.audit, filter, doc! { "_id": 1 }, limit).await?;
        docs.iter().map(audit_from_doc).collect()
    }

    async fn audit_since(&self, since: DateTime<Utc>, limit: u32) -> Result<Vec<AuditEntry>> {
        let since = doc! { "at": { "$gte": bson_time(since) } };
        let docs = find_page(&self.audit, since, doc! { "at": 1, "_id": 1 }, limit).await?;
        docs.iter().map(audit_from_doc).collect()
    }
}
