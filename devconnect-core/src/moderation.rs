//! The operators' side of trust and safety: reviewing reports, suspending users,
//! deleting accounts, and the audit log that records every such action (who, when,
//! what).
//!
//! These calls take the operator's name (`actor`) rather than a session: no login can
//! reach them. Frontends offer them only to operators: the REST server's `admin`
//! command, and remote frontends (gRPC) to holders of an operator's token
//! ([`DevConnect::issue_operator_token`]), which no login produces.
//!
//! A suspension or a deletion ends the user's live sessions at once on the instance
//! that made it. Every instance also polls the audit log each second ([`WATCH_EVERY`])
//! and ends the sessions of anyone suspended or deleted meanwhile (a user deleting
//! their own account is logged too), so one made by the `admin` command (another
//! process) or by another instance reaches every instance, with or without a bus
//! between them.

use std::sync::Weak;
use std::time::Duration;

pub use devconnect_types::safety::{AuditAction, AuditEntry};

use crate::profile::{parse_free_text, parse_line};
use crate::realtime::EndReason;
use crate::safety::{Report, ReportStatus, Resolution};
use crate::{AuditId, DevConnect, Error, Inner, ReportId, Result, UserId};

/// Longest lifetime of an operator's token.
pub const MAX_OPERATOR_TOKEN_TTL: Duration = Duration::from_secs(24 * 60 * 60);

/// An operator, as their token names them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Operator {
    /// Their name, recorded in the audit log with each action.
    pub name: String,
    /// When their token expires.
    pub expires_at: chrono::DateTime<chrono::Utc>,
}

/// How often each instance reads the recent audit log.
pub const WATCH_EVERY: Duration = Duration::from_secs(1);
/// How far back each read looks. Every action in it is applied on every read (applying
/// is idempotent), so one written by a process whose clock is a little behind, or read
/// late, is not missed.
const WATCH_WINDOW: chrono::TimeDelta = chrono::TimeDelta::seconds(10);
/// Most entries one read applies; more in one window than this is an attack on the log.
const WATCH_BATCH: u32 = 1000;
/// Default and largest page of reports or audit entries.
pub const DEFAULT_PAGE: u32 = 50;
/// Largest page of reports or audit entries.
pub const MAX_PAGE: u32 = 500;
/// An operator's note may be at most this many characters.
pub const MAX_NOTE_CHARS: usize = 1000;
/// An operator's name may be at most this many characters.
pub const MAX_ACTOR_CHARS: usize = 100;

fn parse_actor(actor: &str) -> Result<String> {
    parse_line("actor", actor, MAX_ACTOR_CHARS)
}

fn parse_note(note: &str) -> Result<String> {
    parse_free_text("note", note, MAX_NOTE_CHARS)
}

impl DevConnect {
    /// A token naming the operator `name`, for the moderation calls of a remote frontend
    /// (gRPC), valid for `ttl` (at most [`MAX_OPERATOR_TOKEN_TTL`]). Only whoever holds
    /// the service's secret can make one (the `admin token` command): no login can.
    /// It ends only at its expiry, or when the secret changes.
    pub fn issue_operator_token(&self, name: &str, ttl: Duration) -> Result<String> {
        let name = parse_actor(name)?;
        if ttl.is_zero() || ttl > MAX_OPERATOR_TOKEN_TTL {
            return Err(Error::validation("ttl", "must be more than zero and at most 24 hours"));
        }
        self.inner.credentials.issue_operator(&name, ttl)
    }

    /// The operator an operator's token names; `Unauthorized` for anything else (a
    /// user's token included) or once it expired.
    pub fn authenticate_operator(&self, token: &str) -> Result<Operator> {
        let (name, expires_at) = self.inner.credentials.decode_operator(token)?;
        Ok(Operator { name, expires_at })
    }

    /// Reports with `status` (all with `None`), oldest first, after the report `after`.
    pub async fn reports(
        &self,
        status: Option<ReportStatus>,
        after: Option<ReportId>,
        limit: Option<u32>,
    ) -> Result<Vec<Report>> {
        let limit = crate::chat::page_limit("limit", limit, DEFAULT_PAGE, MAX_PAGE)?;
        Ok(self.publish(self.inner.store.reports(status, after, limit).await?))
    }

    /// One report, with its snapshot.
    pub async fn report_by_id(&self, id: ReportId) -> Result<Report> {
        Ok(self.publish(self.inner.store.report(id).await?.ok_or(Error::NotFound("report"))?))
    }

    /// Closes an open report as `Resolved` (acted on) or `Dismissed`, with a note, and
    /// records it in the audit log. `Conflict` if it is closed already.
    pub async fn close_report(&self, actor: &str, id: ReportId, outcome: ReportStatus, note: &str) -> Result<Report> {
        let action = match outcome {
            ReportStatus::Resolved => AuditAction::ResolveReport,
            ReportStatus::Dismissed => AuditAction::DismissReport,
            ReportStatus::Open => {
                return Err(Error::validation("status", "a report is closed as resolved or dismissed"));
            }
        };
        let (actor, note) = (parse_actor(actor)?, parse_note(note)?);
        self.inner.store.report(id).await?.ok_or(Error::NotFound("report"))?;
        let resolution = Resolution { by: actor.clone(), note: note.clone(), at: crate::now() };
        let closed = self
            .inner
            .store
            .close_report(id, outcome, &resolution)
            .await?
            .ok_or(Error::Conflict("the report is closed already"))?;
        self.record(actor, action, id.to_hex(), note).await?;
        Ok(self.publish(closed))
    }

    /// Suspends `user`: they cannot log in, their tokens stop working, their live
    /// sessions end (reason `suspended`) on every instance, and they vanish from feeds
    /// and group member lists; their messages stay in others' history. `Conflict` if
    /// already suspended.
    pub async fn suspend(&self, actor: &str, user: UserId, note: &str) -> Result<()> {
        let (actor, note) = (parse_actor(actor)?, parse_note(note)?);
        if self.user_record(user).await?.suspended {
            return Err(Error::Conflict("the user is suspended already"));
        }
        self.inner.store.set_suspended(user, Some(crate::now())).await?;
        self.inner.realtime.end_user(user, EndReason::Suspended);
        self.record(actor, AuditAction::Suspend, user.to_hex(), note).await
    }

    /// Lifts a suspension: the user may log in again (tokens issued before that have
    /// not expired work again). `Conflict` if not suspended.
    pub async fn unsuspend(&self, actor: &str, user: UserId, note: &str) -> Result<()> {
        let (actor, note) = (parse_actor(actor)?, parse_note(note)?);
        if !self.user_record(user).await?.suspended {
            return Err(Error::Conflict("the user is not suspended"));
        }
        self.inner.store.set_suspended(user, None).await?;
        self.record(actor, AuditAction::Unsuspend, user.to_hex(), note).await
    }

    /// Deletes `user`'s account as [`DevConnect::delete_account`] does (their media
    /// included), without their password. `Conflict` if it is deleted already.
    pub async fn delete_user(&self, actor: &str, user: UserId, note: &str) -> Result<()> {
        let (actor, note) = (parse_actor(actor)?, parse_note(note)?);
        let record = self.inner.store.user(user).await?.ok_or(Error::NotFound("user"))?;
        if record.me.profile.deleted {
            // MongoDB erases in steps: a deletion interrupted after its first step is
            // finished here (every step can run again), and nothing new is recorded.
            self.erase_steps(user).await?;
            return Err(Error::Conflict("the account is deleted already"));
        }
        self.erase(user, actor, AuditAction::DeleteUser, note).await
    }

    /// The audit log, oldest first, after the entry `after`.
    pub async fn audit(&self, after: Option<AuditId>, limit: Option<u32>) -> Result<Vec<AuditEntry>> {
        let limit = crate::chat::page_limit("limit", limit, DEFAULT_PAGE, MAX_PAGE)?;
        self.inner.store.audit(after, limit).await
    }

    /// Ends, on this instance, the sessions of everyone the recent audit log shows as
    /// suspended (by their latest action in it) or deleted. Returns how many users that
    /// was.
    pub async fn apply_recent_moderation(&self) -> Result<usize> {
        let since = crate::now() - WATCH_WINDOW;
        let entries = self.inner.store.audit_since(since, WATCH_BATCH).await?;
        // Oldest first: the last action on a user decides.
        let mut latest = std::collections::HashMap::new();
        for entry in entries {
            let reason = match entry.action {
                AuditAction::Suspend => Some(EndReason::Suspended),
                AuditAction::Unsuspend => None,
                AuditAction::DeleteUser | AuditAction::DeleteAccount => Some(EndReason::Deleted),
                AuditAction::ResolveReport | AuditAction::DismissReport => continue,
            };
            latest.insert(entry.target_id, reason);
        }
        let mut ended = 0;
        for (target, reason) in latest {
            let (Ok(user), Some(reason)) = (UserId::parse("targetId", &target), reason) else { continue };
            self.inner.realtime.end_user(user, reason);
            ended += 1;
        }
        Ok(ended)
    }

    pub(crate) async fn record(
        &self,
        actor: String,
        action: AuditAction,
        target_id: String,
        note: String,
    ) -> Result<()> {
        let entry = AuditEntry { id: AuditId::new(), actor, action, target_id, note, at: crate::now() };
        self.inner.store.insert_audit(&entry).await?;
        tracing::info!(actor = %entry.actor, action = %entry.action, target = %entry.target_id, "moderation");
        Ok(())
    }
}

/// Applies the recent audit log every [`WATCH_EVERY`] while the service lives (see the
/// module). Started with the service when a tokio runtime is running.
pub(crate) fn watch(inner: Weak<Inner>) {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else { return };
    runtime.spawn(async move {
        let mut every = tokio::time::interval(WATCH_EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            let Some(inner) = inner.upgrade() else { return };
            if let Err(err) = (DevConnect { inner }).apply_recent_moderation().await {
                tracing::warn!(code = err.code(), "could not read the moderation log; retrying");
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn operator_tokens_and_user_tokens_never_pass_for_each_other() -> Result<()> {
        use crate::store::sqlite::SqliteStore;
        let store = std::sync::Arc::new(SqliteStore::open_in_memory().await?);
        let app = crate::testkit::service(store)?;
        let op = app.issue_operator_token("ops-ann", Duration::from_secs(600))?;
        assert_eq!(app.authenticate_operator(&op)?.name, "ops-ann");
        assert_eq!(app.authenticate(&op).await.err().map(|e| e.code()), Some("unauthorized"));
        let (_, user_token) = crate::testkit::user(&app, "Ada").await?;
        assert_eq!(app.authenticate_operator(&user_token).err().map(|e| e.code()), Some("unauthorized"));
        assert!(app.issue_operator_token("ops", MAX_OPERATOR_TOKEN_TTL + Duration::from_secs(1)).is_err());
        assert!(app.issue_operator_token(" ", Duration::from_secs(60)).is_err());
        Ok(())
    }

    #[test]
    fn actors_and_notes_are_bounded_and_printable() {
        assert_eq!(parse_actor("  ops-ada ").ok().as_deref(), Some("ops-ada"));
        assert!(parse_actor(" ").is_err() && parse_actor("a\u{7}").is_err() && parse_actor(&"a".repeat(101)).is_err());
        assert_eq!(parse_note(" spam, twice\n").ok().as_deref(), Some("spam, twice"));
        assert!(parse_note(&"n".repeat(MAX_NOTE_CHARS + 1)).is_err());
    }
}
