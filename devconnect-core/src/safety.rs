//! Trust and safety for users: blocking people, and reporting users, messages and
//! groups to the operators.
//!
//! A block works both ways, like LinkedIn's: neither sees the other in the feed, a
//! profile, requests or 1:1 chat, and presence and typing stop (blocking removes the
//! connection and any pending request between them). The blocked side is told what a
//! stranger is told (`NotFound`, or `Forbidden` for chat), so a block is not revealed.
//! In groups both stay members; the blocker no longer gets the blocked person's group
//! messages, live or in history (Matrix's "ignore"). Unblocking restores nothing.

pub use devconnect_types::safety::{
    AccountExport, BlockedUser, Report, ReportKind, ReportReason, ReportStatus, Reported, Resolution,
};

use crate::store::Blocked;
use crate::{AnyMessage, DevConnect, Error, GroupId, MessageId, Profile, ReportId, Result, UserId};

/// Most people one user may block.
pub const MAX_BLOCKS: u32 = 1000;
/// A report's `details` may be at most this many characters.
pub const MAX_DETAILS_CHARS: usize = 1000;

/// A report to file: what, and why.
#[derive(Clone, Debug, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewReport {
    /// `user`, `message` or `group`.
    pub kind: String,
    /// The id of the user, message or group.
    pub target_id: String,
    /// One of the fixed reasons (`spam`, `harassment`, …).
    pub reason: String,
    /// The reporter's words, up to 1,000 characters.
    #[serde(default)]
    pub details: String,
}

impl DevConnect {
    /// `me` blocks `other` (see the module). Blocking someone already blocked changes
    /// nothing; `Ok(false)` then. At most [`MAX_BLOCKS`] blocks per user.
    pub async fn block(&self, me: UserId, other: UserId) -> Result<bool> {
        if me == other {
            return Err(Error::validation("userId", "cannot block yourself"));
        }
        // Someone who blocked me can still be blocked back; only unknown ids are refused.
        self.user_record(other).await?;
        match self.inner.store.block(me, other, MAX_BLOCKS, crate::now()).await? {
            Blocked::New { disconnected } => {
                if disconnected {
                    self.inner.realtime.disconnected(me, other);
                }
                Ok(true)
            }
            Blocked::Existing => Ok(false),
            Blocked::Full => Err(Error::LimitExceeded("you have blocked as many people as one can")),
        }
    }

    /// Lifts `me`'s block of `other` (`NotFound` if there was none). Nothing comes back
    /// by itself: either may send a new request.
    pub async fn unblock(&self, me: UserId, other: UserId) -> Result<()> {
        if self.inner.store.unblock(me, other).await? { Ok(()) } else { Err(Error::NotFound("block")) }
    }

    /// Everyone `me` blocked, most recently blocked first.
    pub async fn blocked_users(&self, me: UserId) -> Result<Vec<BlockedUser>> {
        Ok(self.publish(self.inner.store.blocked_users(me).await?))
    }

    /// `id`'s public profile as `viewer` may see it: `NotFound` if `id` blocked `viewer`.
    pub async fn profile_for(&self, viewer: UserId, id: UserId) -> Result<Profile> {
        Ok(self.publish(self.visible_profile(viewer, id).await?))
    }

    /// [`DevConnect::profile_for`] as stored (media references not yet public URLs).
    async fn visible_profile(&self, viewer: UserId, id: UserId) -> Result<Profile> {
        if viewer != id && self.inner.store.blocking(viewer, id).await?.blocked_me {
            return Err(Error::NotFound("user"));
        }
        Ok(self.user_record(id).await?.me.profile)
    }

    /// Fails as for a stranger when either of `me` and `other` blocked the other:
    /// `NotFound` for the one blocked (a block is not revealed), `Forbidden` for the
    /// one who blocked.
    pub(crate) async fn require_unblocked(&self, me: UserId, other: UserId) -> Result<()> {
        let blocking = self.inner.store.blocking(me, other).await?;
        if blocking.blocked_me {
            return Err(Error::NotFound("user"));
        }
        if blocking.i_blocked {
            return Err(Error::Forbidden("you blocked this user; unblock them first"));
        }
        Ok(())
    }

    /// The senders whose messages `me` does not get: the people `me` blocked.
    pub(crate) async fn hidden_senders(&self, me: UserId) -> Result<Vec<UserId>> {
        self.inner.store.blocked_ids(me).await
    }

    /// Files a report by `me`, with the reported content as `me` sees it now. `me` must
    /// be able to see the target (a message to or from them, or inside their window on
    /// a group; a group they may see; a user who has not blocked them), and not be it
    /// or have sent it. One open report per reporter and target (`Conflict`); limited
    /// per reporter ([`Settings::report_rate`](crate::Settings)).
    pub async fn report(&self, me: UserId, new: NewReport) -> Result<Report> {
        let kind = ReportKind::parse(new.kind.trim())?;
        let reason = ReportReason::parse(new.reason.trim())?;
        let details = crate::profile::parse_free_text("details", &new.details, MAX_DETAILS_CHARS)?;
        let target = new.target_id.trim();
        let snapshot = match kind {
            ReportKind::User => {
                let user = UserId::parse("targetId", target)?;
                if user == me {
                    return Err(Error::validation("targetId", "cannot report yourself"));
                }
                Reported::User { user: self.visible_profile(me, user).await? }
            }
            ReportKind::Message => Reported::Message { message: self.reportable_message(me, target).await? },
            // Outsiders of a private group are told it does not exist.
            ReportKind::Group => {
                Reported::Group { group: self.visible_group(me, GroupId::parse("targetId", target)?).await?.0 }
            }
        };
        // Like a message send: limited once the report is known to be fileable.
        self.inner.limits.check_report(me)?;
        let report = Report {
            id: ReportId::new(),
            reporter_id: me,
            kind,
            target_id: snapshot.target_id(),
            reason,
            details,
            snapshot,
            status: ReportStatus::Open,
            created_at: crate::now(),
            resolution: None,
        };
        self.inner.store.insert_report(&report).await?;
        crate::telemetry::report_filed(kind);
        Ok(self.publish(report))
    }

    /// Everything held about `me` ([`AccountExport`]). At most two exports run at once
    /// per instance (each reads every message of the user); the others wait.
    pub async fn export_account(&self, me: UserId) -> Result<AccountExport> {
        static RUNNING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);
        let _turn = RUNNING.acquire().await.map_err(Error::internal)?;
        let mut messages = Vec::new();
        let mut after = None;
        loop {
            let page = self.inner.store.sync(me, after, &[], crate::chat::MAX_SYNC_LIMIT).await?;
            let Some(last) = page.last() else { break };
            after = Some(last.id());
            let full = page.len() == crate::chat::MAX_SYNC_LIMIT as usize;
            messages.extend(page.into_iter().filter(|m| m.sender_id() == me && !is_system(m)));
            if !full {
                break;
            }
        }
        Ok(AccountExport {
            exported_at: crate::now(),
            profile: self.profile(me).await?,
            connections: self.connections(me).await?,
            sent_requests: self.sent_requests(me).await?,
            received_requests: self.received_requests(me).await?,
            messages: self.publish(messages),
            groups: self.my_groups(me).await?,
            blocked: self.blocked_users(me).await?,
            reports: self.my_reports(me).await?,
        })
    }

    /// The reports `me` filed, newest first.
    pub async fn my_reports(&self, me: UserId) -> Result<Vec<Report>> {
        Ok(self.publish(self.inner.store.reports_by(me).await?))
    }

    /// A message `me` may report: one sent to them, or by someone else in a group's
    /// history inside their window.
    async fn reportable_message(&self, me: UserId, target: &str) -> Result<AnyMessage> {
        let id = MessageId::parse("targetId", target)?;
        let message = self.inner.store.message(id).await?.ok_or(Error::NotFound("message"))?;
        let visible = match &message {
            AnyMessage::Direct(m) => m.receiver_id == me || m.sender_id == me,
            AnyMessage::Group(m) => self.inner.store.window(m.group_id, me).await?.is_some_and(|w| w.contains(m.seq)),
        };
        if !visible {
            return Err(Error::NotFound("message"));
        }
        if message.sender_id() == me {
            return Err(Error::validation("targetId", "cannot report your own message"));
        }
        Ok(message)
    }
}

/// A group's system message (a record of a change, not something its sender wrote).
fn is_system(message: &AnyMessage) -> bool {
    matches!(message, AnyMessage::Group(m) if m.change.is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_body_defaults_details_and_refuses_unknown_fields() {
        let new = serde_json::from_str::<NewReport>(r#"{"kind":"user","targetId":"x","reason":"spam"}"#);
        assert_eq!(new.ok().map(|n| n.details), Some(String::new()));
        assert!(serde_json::from_str::<NewReport>(r#"{"kind":"user","targetId":"x","reason":"spam","x":1}"#).is_err());
    }
}
