//! Connection requests: sending, reviewing, listing, and removing connections.

pub use devconnect_types::connection::{ConnectionRequest, RequestStatus, ReviewStatus, SendStatus};

use crate::model::{Event, PushItem};
use crate::{DevConnect, Error, Profile, PushKind, RequestId, Result, UserId};

/// A request note may be at most this many characters.
pub const MAX_NOTE_CHARS: usize = 300;

/// Trims a note; empty means none; at most 300 characters.
pub fn parse_note(raw: Option<&str>) -> Result<Option<String>> {
    let note = crate::profile::parse_free_text("note", raw.unwrap_or_default(), MAX_NOTE_CHARS)?;
    Ok(Some(note).filter(|n| !n.is_empty()))
}

impl DevConnect {
    /// Sends an `interested` or `ignored` request from `me` to `to`, with an optional
    /// note. Not to oneself, not to an unknown user, and never a second request between
    /// the same two people in either direction (`Conflict`, enforced by the store), with
    /// one exception: the sender of a rejected request may ask again once
    /// [`Settings::request_cooldown`](crate::Settings) has passed since the rejection.
    /// Never between two people one of whom blocked the other (told as for an unknown
    /// user to the one blocked). The receiver of an `interested` request is notified.
    pub async fn send_request(
        &self,
        me: UserId,
        to: UserId,
        status: SendStatus,
        note: Option<&str>,
    ) -> Result<ConnectionRequest> {
        let status = RequestStatus::from(status);
        if me == to {
            return Err(Error::validation("toUserId", "cannot send a request to yourself"));
        }
        let note = parse_note(note)?;
        self.inner.limits.check_request(me)?;
        let sender = self.public_profile(me).await?;
        self.user_record(to).await?;
        self.require_unblocked(me, to).await?;
        let now = self.clock_now();
        let request = ConnectionRequest {
            id: RequestId::new(),
            from_user_id: me,
            to_user_id: to,
            status,
            note,
            created_at: now,
            updated_at: now,
        };
        match self.inner.store.insert_request(&request).await {
            Ok(()) => {}
            Err(Error::Conflict(_)) => self.renew_rejected(&request).await?,
            Err(other) => return Err(other),
        }
        // A block stored while this request was: the block removed what it found, and
        // this takes back what it could not find yet.
        if self.inner.store.blocking(me, to).await?.any() {
            self.inner.store.delete_request(request.id).await?;
            self.require_unblocked(me, to).await?;
        }
        crate::telemetry::request_sent(status);
        if status == RequestStatus::Interested {
            let event = Event::ConnectionRequest(request.clone().with_parties(sender, to).into());
            self.inner.realtime.deliver(&[to], &event);
            let item = PushItem::new(PushKind::Request, me, request.note.as_deref());
            self.notify_offline(&[to], PushItem { request: Some(request.id), ..item }).await;
        }
        Ok(request)
    }

    /// Puts `request` in the place of the one standing between its two users, if that
    /// is a rejection of the same sender's request older than the cool-down; anything
    /// else is the `Conflict` it was.
    async fn renew_rejected(&self, request: &ConnectionRequest) -> Result<()> {
        let conflict = Error::Conflict("a request between you already exists");
        let (me, to) = (request.from_user_id, request.to_user_id);
        let Some(standing) = self.inner.store.request_between(me, to).await? else { return Err(conflict) };
        let cooldown =
            chrono::Duration::from_std(self.inner.settings.request_cooldown).unwrap_or(chrono::TimeDelta::MAX);
        let renewable = standing.status == RequestStatus::Rejected
            && standing.from_user_id == me
            && standing.updated_at.checked_add_signed(cooldown).is_some_and(|free| free <= self.clock_now());
        if !renewable {
            return Err(conflict);
        }
        match self.inner.store.renew_rejected_request(standing.id, standing.updated_at, request).await {
            Ok(true) => Ok(()),
            // Renewed or reviewed by someone else meanwhile.
            Ok(false) | Err(Error::Conflict(_)) => Err(conflict),
            Err(other) => Err(other),
        }
    }

    /// Reviews a request: only its receiver, only while it is a pending `interested`
    /// one. Accepting connects the two and notifies the sender.
    pub async fn review_request(&self, me: UserId, id: RequestId, status: ReviewStatus) -> Result<ConnectionRequest> {
        let status = RequestStatus::from(status);
        let request = self.inner.store.request(id).await?.ok_or(Error::NotFound("request"))?;
        if request.to_user_id != me {
            // Do not reveal someone else's request beyond its existence to its sender.
            return Err(if request.from_user_id == me {
                Error::Forbidden("only the receiver can review a request")
            } else {
                Error::NotFound("request")
            });
        }
        if request.status != RequestStatus::Interested {
            return Err(Error::Conflict("request already reviewed"));
        }
        if status == RequestStatus::Accepted {
            self.require_unblocked(me, request.from_user_id).await?;
        }
        let reviewed = self
            .inner
            .store
            .review_request(id, me, status, self.clock_now())
            .await?
            .ok_or(Error::Conflict("request already reviewed"))?;
        crate::telemetry::request_reviewed(status);
        if status == RequestStatus::Accepted {
            let receiver = self.public_profile(me).await?;
            self.inner.realtime.connected(reviewed.from_user_id, me);
            let event =
                Event::ConnectionAccepted(reviewed.clone().with_parties(reviewed.from_user_id, receiver).into());
            self.inner.realtime.deliver(&[reviewed.from_user_id], &event);
            let item = PushItem { request: Some(reviewed.id), ..PushItem::new(PushKind::Accepted, me, None) };
            self.notify_offline(&[reviewed.from_user_id], item).await;
        }
        Ok(reviewed)
    }

    /// Pending `interested` requests to `me`, newest first, with each sender's profile.
    pub async fn received_requests(&self, me: UserId) -> Result<Vec<ConnectionRequest<Profile, UserId>>> {
        Ok(self.publish(self.inner.store.received_requests(me).await?))
    }

    /// Requests `me` sent, newest first, with each receiver's profile.
    pub async fn sent_requests(&self, me: UserId) -> Result<Vec<ConnectionRequest<UserId, Profile>>> {
        Ok(self.publish(self.inner.store.sent_requests(me).await?))
    }

    /// Everyone `me` is connected with.
    pub async fn connections(&self, me: UserId) -> Result<Vec<Profile>> {
        Ok(self.publish(self.inner.store.connections(me).await?))
    }

    /// Removes the connection between `me` and `other` (`NotFound` if none). Either may
    /// then send a new request; their conversation stays readable.
    pub async fn remove_connection(&self, me: UserId, other: UserId) -> Result<()> {
        if !self.inner.store.delete_connection(me, other).await? {
            return Err(Error::NotFound("connection"));
        }
        self.inner.realtime.disconnected(me, other);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_parse_only_where_allowed() {
        assert_eq!(SendStatus::parse("interested").ok(), Some(SendStatus::Interested));
        assert!(SendStatus::parse("accepted").is_err());
        assert_eq!(ReviewStatus::parse("rejected").ok(), Some(ReviewStatus::Rejected));
        assert!(ReviewStatus::parse("ignored").is_err());
        assert_eq!(RequestStatus::from(ReviewStatus::Accepted).to_string(), ReviewStatus::Accepted.to_string());
        assert!(RequestStatus::parse("Interested").is_err());
    }

    #[test]
    fn notes_are_trimmed_optional_and_bounded() {
        assert_eq!(parse_note(Some("  hi ")).ok().flatten().as_deref(), Some("hi"));
        assert_eq!(parse_note(Some("   ")).ok().flatten(), None);
        assert!(parse_note(Some(&"n".repeat(MAX_NOTE_CHARS + 1))).is_err());
    }
}
