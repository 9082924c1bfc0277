//! Deleting an account, by its owner (with the password) or by an operator
//! ([`DevConnect::delete_user`]). The account keeps its record, scrubbed and marked
//! `deleted`, so the messages it sent still name a sender (Matrix deactivates accounts
//! the same way); in order:
//! - the user leaves each of their groups, as by [`DevConnect::leave_group`] (an owner
//!   hands the group on; the others see "left"; a group they were alone in is archived);
//! - the store erases the account in one step
//!   ([`UserStore::erase_user`](crate::store::UserStore::erase_user)): profile, email,
//!   password, requests, connections and blocks go, and every token stops working;
//! - the deletion is recorded in the audit log, from which every instance learns to end
//!   the user's sessions (see `moderation`); here they end at once (reason
//!   `account_deleted`), and their connections see them go offline;
//! - their photo is deleted.

use devconnect_types::safety::AuditAction;

use crate::realtime::EndReason;
use crate::{DevConnect, Error, Result, Session, UserId};

impl DevConnect {
    /// Deletes the account of `session`'s user, who confirms with their password (see
    /// the module for what goes and what stays). Recorded in the audit log (action `delete_account`,
    /// the user as actor). Attempts are limited per user like password changes
    /// ([`Settings::login_rate`](crate::Settings)), so a stolen token is no password
    /// oracle.
    pub async fn delete_account(&self, session: &Session, password: &str) -> Result<()> {
        let me = session.user_id;
        self.inner.limits.check_password_change(me)?;
        let record = self.user_record(me).await?;
        let fits = password.chars().count() <= crate::auth::MAX_PASSWORD_CHARS;
        if !fits || !self.inner.credentials.verify(password.to_owned(), Some(record.password_hash)).await? {
            return Err(Error::validation("password", "is not the current password"));
        }
        self.erase(me, me.to_hex(), AuditAction::DeleteAccount, String::new()).await
    }

    /// Erases `user`'s account (see the module), recorded as `actor`'s `action`.
    pub(crate) async fn erase(&self, user: UserId, actor: String, action: AuditAction, note: String) -> Result<()> {
        self.erase_steps(user).await?;
        self.record(actor, action, user.to_hex(), note).await
    }

    /// What erasing `user` does, each step safe to run again: leaving their groups, the
    /// store's erasure, ending their sessions, telling their connections, deleting the
    /// photo.
    pub(crate) async fn erase_steps(&self, user: UserId) -> Result<()> {
        for (group, _) in self.inner.store.groups_of(user).await? {
            match self.leave_group(user, group.id).await {
                // Left meanwhile (or removed): nothing to do.
                Ok(()) | Err(Error::NotFound(_)) => {}
                Err(err) => return Err(err),
            }
        }
        let erased = self.inner.store.erase_user(user, crate::now()).await?.ok_or(Error::NotFound("user"))?;
        self.inner.realtime.end_user(user, EndReason::Deleted);
        for other in erased.connections {
            self.inner.realtime.disconnected(user, other);
        }
        if let Some(url) = erased.photo_url {
            self.delete_image(&url).await;
        }
        Ok(())
    }
}
