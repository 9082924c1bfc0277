//! Trust and safety: the people I blocked, and reports of users, messages and groups
//! for the operators to review.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{AnyMessage, AuditId, ConnectionRequest, Group, Invalid, Me, MyGroup, Profile, ReportId, UserId};

/// All the data DevConnect holds about one user, as data-protection law lets them ask
/// for it (`GET /profile/export`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AccountExport {
    /// When this export was made.
    pub exported_at: DateTime<Utc>,
    /// My own profile, with my email.
    pub profile: Me,
    /// Everyone I am connected with.
    pub connections: Vec<Profile>,
    /// The requests I sent, any status, with each receiver's profile.
    pub sent_requests: Vec<ConnectionRequest<UserId, Profile>>,
    /// The pending requests to me, with each sender's profile.
    pub received_requests: Vec<ConnectionRequest<Profile, UserId>>,
    /// Every message I sent, 1:1 and in groups, oldest first.
    pub messages: Vec<AnyMessage>,
    /// The groups I am a member of, with my role.
    pub groups: Vec<MyGroup>,
    /// The people I blocked.
    pub blocked: Vec<BlockedUser>,
    /// The reports I filed.
    pub reports: Vec<Report>,
}

/// Someone I blocked, and since when.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct BlockedUser {
    /// Their public profile.
    pub user: Profile,
    /// When I blocked them.
    pub blocked_at: DateTime<Utc>,
}

/// Writes a closed set of wire words once: the enum, `as_str` and `parse`. Each word
/// is its variant's name in snake case (serde's and the OpenAPI document's spelling,
/// checked by a test).
macro_rules! wire_enum {
    ($(#[$doc:meta])* $name:ident, $field:literal { $($(#[$vdoc:meta])* $variant:ident = $word:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vdoc])* $variant,)+
        }

        impl $name {
            /// Every value, in the order the API lists them.
            pub const ALL: &[Self] = &[$(Self::$variant),+];

            /// The wire and stored form.
            #[must_use]
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $word,)+
                }
            }

            /// Parses the wire form.
            pub fn parse(s: &str) -> Result<Self, Invalid> {
                match s {
                    $($word => Ok(Self::$variant),)+
                    _ => Err(Invalid::new($field, concat!("must be one of:", $(" ", $word),+))),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

wire_enum!(
    /// What a report is about.
    ReportKind, "kind" {
        /// A user (their profile).
        User = "user",
        /// One message, 1:1 or in a group.
        Message = "message",
        /// A group (its name, description, photo).
        Group = "group",
    }
);

wire_enum!(
    /// Why something is reported: a fixed list, as social networks offer.
    ReportReason, "reason" {
        /// Unwanted bulk or commercial content.
        Spam = "spam",
        /// Abuse aimed at someone.
        Harassment = "harassment",
        /// Pretending to be someone else.
        Impersonation = "impersonation",
        /// Content that breaks the rules of a professional network.
        InappropriateContent = "inappropriate_content",
        /// Anything else (say what in `details`).
        Other = "other",
    }
);

wire_enum!(
    /// Where a report stands.
    ReportStatus, "status" {
        /// Waiting for an operator.
        Open = "open",
        /// An operator acted on it.
        Resolved = "resolved",
        /// An operator found nothing to act on.
        Dismissed = "dismissed",
    }
);

wire_enum!(
    /// What an operator did.
    AuditAction, "action" {
        /// Closed a report, having acted on it.
        ResolveReport = "resolve_report",
        /// Closed a report, finding nothing to act on.
        DismissReport = "dismiss_report",
        /// Suspended a user.
        Suspend = "suspend",
        /// Lifted a suspension.
        Unsuspend = "unsuspend",
        /// Deleted a user's account.
        DeleteUser = "delete_user",
        /// A user deleted their own account (the actor is their id).
        DeleteAccount = "delete_account",
    }
);

/// One moderation action, as the audit log records it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AuditEntry {
    /// Its id.
    #[serde(rename = "_id")]
    pub id: AuditId,
    /// The operator, as they named themselves (a user deleting their own account: their id).
    pub actor: String,
    /// What they did.
    pub action: AuditAction,
    /// The report or user acted on.
    pub target_id: String,
    /// The operator's note.
    pub note: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// The reported content as it was when reported, kept with the report so that
/// deleting it does not destroy the evidence.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Reported {
    /// The user's public profile.
    User {
        /// The profile.
        user: Profile,
    },
    /// The message.
    Message {
        /// The message (1:1 or group).
        message: AnyMessage,
    },
    /// The group.
    Group {
        /// The group.
        group: Group,
    },
}

impl Reported {
    /// The id of the user, message or group, as 24 lower-case hex digits.
    #[must_use]
    pub fn target_id(&self) -> String {
        match self {
            Self::User { user } => user.id.to_hex(),
            Self::Message { message } => message.id().to_hex(),
            Self::Group { group } => group.id.to_hex(),
        }
    }

    /// What kind of thing this is.
    #[must_use]
    pub fn kind(&self) -> ReportKind {
        match self {
            Self::User { .. } => ReportKind::User,
            Self::Message { .. } => ReportKind::Message,
            Self::Group { .. } => ReportKind::Group,
        }
    }
}

/// A report filed by a user.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// Its id.
    #[serde(rename = "_id")]
    pub id: ReportId,
    /// Who filed it.
    pub reporter_id: UserId,
    /// What it is about.
    pub kind: ReportKind,
    /// The id of the user, message or group reported.
    pub target_id: String,
    /// Why.
    pub reason: ReportReason,
    /// The reporter's words (≤ 1,000 characters); may be empty.
    pub details: String,
    /// The reported content as it was when reported.
    pub snapshot: Reported,
    /// Where it stands.
    pub status: ReportStatus,
    /// When it was filed.
    pub created_at: DateTime<Utc>,
    /// The operator's decision, once resolved or dismissed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution: Option<Resolution>,
}

/// An operator's decision on a report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Resolution {
    /// The operator who decided, as they named themselves.
    pub by: String,
    /// Their note.
    pub note: String,
    /// When.
    pub at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_words_round_trip_and_name_the_field() {
        fn round_trip<T: Copy + PartialEq + std::fmt::Debug + Serialize>(
            all: &[T],
            word: fn(T) -> &'static str,
            parse: fn(&str) -> Result<T, Invalid>,
        ) {
            for value in all {
                assert_eq!(parse(word(*value)), Ok(*value));
                let json = serde_json::to_string(value).unwrap_or_default();
                assert_eq!(json, format!("\"{}\"", word(*value)));
            }
        }
        round_trip(ReportKind::ALL, ReportKind::as_str, ReportKind::parse);
        round_trip(ReportReason::ALL, ReportReason::as_str, ReportReason::parse);
        round_trip(ReportStatus::ALL, ReportStatus::as_str, ReportStatus::parse);
        round_trip(AuditAction::ALL, AuditAction::as_str, AuditAction::parse);
        let Err(bad) = ReportKind::parse("post") else { panic!("post is no kind") };
        assert_eq!(bad.field, "kind");
        assert!(bad.reason.contains("user message group"), "{}", bad.reason);
    }
}
