//! Groups: communities of developers with a member list and roles.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{GroupId, Invalid, UserId};

/// Who may find and join a group.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Visibility {
    /// Members are added by its owner and admins; outsiders do not see it.
    Private,
    /// Anyone may find it and join.
    Public,
}

impl Visibility {
    /// The wire and stored form.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Private => "private",
            Self::Public => "public",
        }
    }

    /// Parses the wire form: `private` or `public`.
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        match s {
            "private" => Ok(Self::Private),
            "public" => Ok(Self::Public),
            _ => Err(Invalid::new("visibility", "must be private or public")),
        }
    }
}

/// A member's role in a group.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum GroupRole {
    /// The one member who may promote, demote and hand the group on.
    Owner,
    /// Adds and removes members.
    Admin,
    /// Takes part.
    Member,
}

impl GroupRole {
    /// The wire and stored form.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Owner => "owner",
            Self::Admin => "admin",
            Self::Member => "member",
        }
    }

    /// Parses the stored form.
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        match s {
            "owner" => Ok(Self::Owner),
            "admin" => Ok(Self::Admin),
            "member" => Ok(Self::Member),
            _ => Err(Invalid::new("role", "must be owner, admin or member")),
        }
    }

    /// Whether this role may add and remove members.
    #[must_use]
    pub fn manages_members(self) -> bool {
        matches!(self, Self::Owner | Self::Admin)
    }
}

impl fmt::Display for GroupRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A group as its members (and, for a public group, anyone) see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Group {
    /// Its id.
    #[serde(rename = "_id")]
    pub id: GroupId,
    /// 1–100 characters.
    pub name: String,
    /// Up to 1,000 characters; may be empty.
    pub description: String,
    /// Who may find and join it.
    pub visibility: Visibility,
    /// Topics (like profile skills), for discovery.
    pub tags: Vec<String>,
    /// URL of its photo, if it has one (same rules as profile photos).
    #[serde(rename = "photoURL", default)]
    pub photo_url: Option<String>,
    /// The owner.
    pub owner_id: UserId,
    /// How many members it has.
    pub member_count: u32,
    /// Set when its last member left: nobody can join or add anyone any more.
    pub archived: bool,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When its name, description, visibility, tags, photo, owner or members last changed.
    pub updated_at: DateTime<Utc>,
}

/// One member of a group.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct GroupMember {
    /// Who.
    pub user_id: UserId,
    /// Their role.
    pub role: GroupRole,
    /// When they joined (or were added): they see the group's messages from then on.
    pub joined_at: DateTime<Utc>,
}

/// A group I am a member of, with my role in it: the group's fields and `role`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MyGroup {
    /// The group.
    #[serde(flatten)]
    pub group: Group,
    /// My role in it.
    pub role: GroupRole,
}

/// What a system message in a group's history records: a change of its membership,
/// made by the message's sender, so that clients can render "Ada added Bob".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum GroupChange {
    /// The sender created the group.
    Created,
    /// The sender joined the (public) group.
    Joined,
    /// The sender added `user_id`.
    #[serde(rename_all = "camelCase")]
    Added {
        /// Who was added.
        user_id: UserId,
    },
    /// The sender left.
    Left,
    /// The sender changed the group's name, description, visibility, tags or photo.
    Edited,
    /// The sender removed `user_id`.
    #[serde(rename_all = "camelCase")]
    Removed {
        /// Who was removed.
        user_id: UserId,
    },
    /// The sender gave `user_id` the role `role` (`owner` when handing the group on).
    #[serde(rename_all = "camelCase")]
    RoleChanged {
        /// Whose role changed.
        user_id: UserId,
        /// Their role now.
        role: GroupRole,
    },
}

/// A message in a group: what a member wrote, or a system message recording a change
/// of the group (`change` set, `text` empty).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct GroupMessage {
    /// The message id (also a history/sync cursor).
    #[serde(rename = "_id")]
    pub id: crate::MessageId,
    /// The group it was sent to.
    pub group_id: GroupId,
    /// Who sent it (for a system message: who made the change).
    pub sender_id: UserId,
    /// The text; empty when the message is only an image, or a system message.
    pub text: String,
    /// URL of the attached image, if any.
    pub image: Option<String>,
    /// The sender's idempotency key, if one was given.
    pub client_msg_id: Option<String>,
    /// When the server stored it.
    pub created_at: DateTime<Utc>,
    /// Set on a system message: the change it records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change: Option<GroupChange>,
    /// The server-assigned position, shared with 1:1 messages (see [`crate::Message::seq`]).
    #[serde(skip)]
    pub seq: i64,
}

/// A member's read position in a group, as the other members are told it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct GroupRead {
    /// The group.
    pub group_id: GroupId,
    /// Who read.
    pub user_id: UserId,
    /// The newest message they have read (and every one before it).
    pub up_to: crate::MessageId,
}

/// One page of public groups, most recently active first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct GroupPage {
    /// The groups on this page.
    pub groups: Vec<Group>,
    /// The page number.
    pub page: u32,
    /// The page size.
    pub limit: u32,
    /// Whether a next page has groups.
    pub has_more: bool,
}
