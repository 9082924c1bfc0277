//! Connection requests: sending, reviewing, listing, and removing connections.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::realtime::Event;
use crate::{DevConnect, Error, Profile, RequestId, Result, UserId};

/// A request note may be at most this many characters.
pub const MAX_NOTE_CHARS: usize = 300;

/// The state of a connection request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RequestStatus {
    /// Sent, waiting for the receiver's review.
    Interested,
    /// The sender passed on the receiver; nothing to review.
    Ignored,
    /// The receiver accepted: the two are connected.
    Accepted,
    /// The receiver declined.
    Rejected,
}

impl RequestStatus {
    /// The wire and stored form.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Interested => "interested",
            Self::Ignored => "ignored",
            Self::Accepted => "accepted",
            Self::Rejected => "rejected",
        }
    }

    /// Parses the stored form.
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "interested" => Ok(Self::Interested),
            "ignored" => Ok(Self::Ignored),
            "accepted" => Ok(Self::Accepted),
            "rejected" => Ok(Self::Rejected),
            _ => Err(Error::validation("status", "must be interested, ignored, accepted or rejected")),
        }
    }

    /// Parses a status a sender may choose: `interested` or `ignored`.
    pub fn parse_send(s: &str) -> Result<Self> {
        match s {
            "interested" => Ok(Self::Interested),
            "ignored" => Ok(Self::Ignored),
            _ => Err(Error::validation("status", "must be interested or ignored")),
        }
    }

    /// Parses a status a receiver may choose: `accepted` or `rejected`.
    pub fn parse_review(s: &str) -> Result<Self> {
        match s {
            "accepted" => Ok(Self::Accepted),
            "rejected" => Ok(Self::Rejected),
            _ => Err(Error::validation("status", "must be accepted or rejected")),
        }
    }
}

impl fmt::Display for RequestStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A connection request. `F` and `T` are the sender and receiver: ids, or profiles where
/// a list embeds the other party (as the original API did).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionRequest<F = UserId, T = UserId> {
    /// The request's id.
    #[serde(rename = "_id")]
    pub id: RequestId,
    /// The sender.
    pub from_user_id: F,
    /// The receiver.
    pub to_user_id: T,
    /// The state.
    pub status: RequestStatus,
    /// The sender's note to the receiver, if any.
    pub note: Option<String>,
    /// When it was sent.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl<F, T> ConnectionRequest<F, T> {
    /// The same request with other representations of its two parties.
    pub fn with_parties<F2, T2>(self, from: F2, to: T2) -> ConnectionRequest<F2, T2> {
        ConnectionRequest {
            id: self.id,
            from_user_id: from,
            to_user_id: to,
            status: self.status,
            note: self.note,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

/// Trims a note; empty means none; at most 300 characters.
pub fn parse_note(raw: Option<&str>) -> Result<Option<String>> {
    let Some(note) = raw.map(str::trim).filter(|n| !n.is_empty()) else {
        return Ok(None);
    };
    if note.chars().count() > MAX_NOTE_CHARS {
        return Err(Error::validation("note", format!("must be at most {MAX_NOTE_CHARS} characters")));
    }
    if note.chars().any(|c| c.is_control() && c != '\n') {
        return Err(Error::validation("note", "must not contain control characters"));
    }
    Ok(Some(note.to_owned()))
}

impl DevConnect {
    /// Sends an `interested` or `ignored` request from `me` to `to`, with an optional
    /// note. Not to oneself, not to an unknown user, and never a second request between
    /// the same two people in either direction (`Conflict`, enforced by the store).
    /// The receiver of an `interested` request is notified.
    pub async fn send_request(
        &self,
        me: UserId,
        to: UserId,
        status: RequestStatus,
        note: Option<&str>,
    ) -> Result<ConnectionRequest> {
        if !matches!(status, RequestStatus::Interested | RequestStatus::Ignored) {
            return Err(Error::validation("status", "must be interested or ignored"));
        }
        if me == to {
            return Err(Error::validation("toUserId", "cannot send a request to yourself"));
        }
        let note = parse_note(note)?;
        self.inner.limits.check_request(me)?;
        let sender = self.public_profile(me).await?;
        self.inner.store.user(to).await?.ok_or(Error::NotFound("user"))?;
        let now = crate::now();
        let request = ConnectionRequest {
            id: RequestId::new(),
            from_user_id: me,
            to_user_id: to,
            status,
            note,
            created_at: now,
            updated_at: now,
        };
        self.inner.store.insert_request(&request).await.map_err(|e| match e {
            Error::Conflict(_) => Error::Conflict("a request between you already exists"),
            other => other,
        })?;
        crate::telemetry::request_sent(status);
        if status == RequestStatus::Interested {
            let event = Event::ConnectionRequest(request.clone().with_parties(sender, to).into());
            self.inner.broker.deliver(&self.inner.hub, &[to], &event);
        }
        Ok(request)
    }

    /// Reviews a request: only its receiver, only while it is a pending `interested`
    /// one. Accepting connects the two and notifies the sender.
    pub async fn review_request(&self, me: UserId, id: RequestId, status: RequestStatus) -> Result<ConnectionRequest> {
        if !matches!(status, RequestStatus::Accepted | RequestStatus::Rejected) {
            return Err(Error::validation("status", "must be accepted or rejected"));
        }
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
        let reviewed = self
            .inner
            .store
            .review_request(id, me, status, crate::now())
            .await?
            .ok_or(Error::Conflict("request already reviewed"))?;
        crate::telemetry::request_reviewed(status);
        if status == RequestStatus::Accepted {
            let receiver = self.public_profile(me).await?;
            self.inner.broker.connected(&self.inner.hub, reviewed.from_user_id, me);
            let event =
                Event::ConnectionAccepted(reviewed.clone().with_parties(reviewed.from_user_id, receiver).into());
            self.inner.broker.deliver(&self.inner.hub, &[reviewed.from_user_id], &event);
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
        self.inner.broker.disconnected(&self.inner.hub, me, other);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_parse_only_where_allowed() {
        assert_eq!(RequestStatus::parse_send("interested").ok(), Some(RequestStatus::Interested));
        assert!(RequestStatus::parse_send("accepted").is_err());
        assert_eq!(RequestStatus::parse_review("rejected").ok(), Some(RequestStatus::Rejected));
        assert!(RequestStatus::parse_review("ignored").is_err());
        assert!(RequestStatus::parse("Interested").is_err());
    }

    #[test]
    fn notes_are_trimmed_optional_and_bounded() {
        assert_eq!(parse_note(Some("  hi ")).ok().flatten().as_deref(), Some("hi"));
        assert_eq!(parse_note(Some("   ")).ok().flatten(), None);
        assert!(parse_note(Some(&"n".repeat(MAX_NOTE_CHARS + 1))).is_err());
    }
}
