//! Connection requests.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{Invalid, RequestId, UserId};

/// The state of a connection request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        match s {
            "interested" => Ok(Self::Interested),
            "ignored" => Ok(Self::Ignored),
            "accepted" => Ok(Self::Accepted),
            "rejected" => Ok(Self::Rejected),
            _ => Err(Invalid::new("status", "must be interested, ignored, accepted or rejected")),
        }
    }
}

impl fmt::Display for RequestStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a sender may choose: ask to connect, or pass. Only these two, so a request can
/// never be sent already accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SendStatus {
    /// Ask to connect; the receiver is told and reviews it.
    Interested,
    /// Pass on the receiver; they are not told.
    Ignored,
}

impl SendStatus {
    /// Parses the path form: `interested` or `ignored`.
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        match s {
            "interested" => Ok(Self::Interested),
            "ignored" => Ok(Self::Ignored),
            _ => Err(Invalid::new("status", "must be interested or ignored")),
        }
    }
}

/// What a receiver may answer a pending request with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReviewStatus {
    /// Connect.
    Accepted,
    /// Decline.
    Rejected,
}

impl ReviewStatus {
    /// Parses the path form: `accepted` or `rejected`.
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        match s {
            "accepted" => Ok(Self::Accepted),
            "rejected" => Ok(Self::Rejected),
            _ => Err(Invalid::new("status", "must be accepted or rejected")),
        }
    }
}

impl From<SendStatus> for RequestStatus {
    fn from(status: SendStatus) -> Self {
        match status {
            SendStatus::Interested => Self::Interested,
            SendStatus::Ignored => Self::Ignored,
        }
    }
}

impl From<ReviewStatus> for RequestStatus {
    fn from(status: ReviewStatus) -> Self {
        match status {
            ReviewStatus::Accepted => Self::Accepted,
            ReviewStatus::Rejected => Self::Rejected,
        }
    }
}

impl fmt::Display for SendStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        RequestStatus::from(*self).fmt(f)
    }
}

impl fmt::Display for ReviewStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        RequestStatus::from(*self).fmt(f)
    }
}

/// A connection request. `F` and `T` are the sender and receiver: ids, or profiles where
/// a list embeds the other party (as the original API did).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
