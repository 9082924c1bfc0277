//! The safety aggregate: who blocked whom, the reports users file for operators, their
//! suspensions of users, and the audit log of what they did.
//! "One open report per reporter and target" and the cap on one's blocks hold under
//! concurrency because the store checks them in the same step as the write.

use chrono::{DateTime, Utc};
use devconnect_types::{AuditEntry, AuditId, BlockedUser, Report, ReportId, ReportStatus, Resolution, UserId};

use crate::Result;

/// What [`SafetyStore::block`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Blocked {
    /// The block is recorded; `disconnected` says whether the two were connected (the
    /// connection, like any pending request between them, is gone now).
    New {
        /// Whether a connection between them was removed.
        disconnected: bool,
    },
    /// The block existed already; nothing changed.
    Existing,
    /// The blocker has `cap` blocks; nothing changed.
    Full,
}

/// Who of two people blocked the other, as seen by the first.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Blocking {
    /// The first blocked the second.
    pub i_blocked: bool,
    /// The second blocked the first.
    pub blocked_me: bool,
}

impl Blocking {
    /// Whether either blocked the other.
    #[must_use]
    pub fn any(self) -> bool {
        self.i_blocked || self.blocked_me
    }
}

super::timed::store_aggregate! {
    /// Blocks and reports.
    pub trait SafetyStore {
        /// Records that `blocker` blocked `blocked`, unless `blocker` already has `cap`
        /// blocks, and removes the connection and any pending (`interested`) request
        /// between them. Rejected and ignored requests stay (they keep the pair out of
        /// each other's feed and decide about a later request).
        async fn block(&self, blocker: UserId, blocked: UserId, cap: u32, now: DateTime<Utc>) -> Result<Blocked>;
        /// Lifts `blocker`'s block of `blocked`; whether there was one.
        async fn unblock(&self, blocker: UserId, blocked: UserId) -> Result<bool>;
        /// Who of `me` and `other` blocked the other.
        async fn blocking(&self, me: UserId, other: UserId) -> Result<Blocking>;
        /// Everyone `me` blocked, with their profile, most recently blocked first.
        async fn blocked_users(&self, me: UserId) -> Result<Vec<BlockedUser>>;
        /// The ids of everyone `me` blocked (at most the block cap).
        async fn blocked_ids(&self, me: UserId) -> Result<Vec<UserId>>;

        /// Stores a new report; `Conflict` if its reporter has an open report on the same
        /// target.
        async fn insert_report(&self, report: &Report) -> Result<()>;
        /// A report by id.
        async fn report(&self, id: ReportId) -> Result<Option<Report>>;
        /// Reports with `status` (any with `None`), oldest first, after the report
        /// `after` (from the start with `None`), `limit` at most.
        async fn reports(&self, status: Option<ReportStatus>, after: Option<ReportId>, limit: u32) -> Result<Vec<Report>>;
        /// Reports `reporter` filed, newest first.
        async fn reports_by(&self, reporter: UserId) -> Result<Vec<Report>>;
        /// Closes an open report with `status` and `resolution`; the report as it now is,
        /// or `None` if there is no such open report.
        async fn close_report(
            &self,
            id: ReportId,
            status: ReportStatus,
            resolution: &Resolution,
        ) -> Result<Option<Report>>;

        /// Suspends `user` since `since`, or lifts the suspension with `None`; whether
        /// the user exists.
        async fn set_suspended(&self, user: UserId, since: Option<DateTime<Utc>>) -> Result<bool>;
        /// Those of `among` who are suspended.
        async fn suspended_among(&self, among: &[UserId]) -> Result<Vec<UserId>>;
        /// Appends an entry to the moderation audit log.
        async fn insert_audit(&self, entry: &AuditEntry) -> Result<()>;
        /// Audit entries after the entry `after` (from the start with `None`), oldest
        /// first, `limit` at most.
        async fn audit(&self, after: Option<AuditId>, limit: u32) -> Result<Vec<AuditEntry>>;
        /// Audit entries made at or after `since`, oldest first, `limit` at most.
        async fn audit_since(&self, since: DateTime<Utc>, limit: u32) -> Result<Vec<AuditEntry>>;
    }
}
