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
    /// The owner.
    pub owner_id: UserId,
    /// How many members it has.
    pub member_count: u32,
    /// Set when its last member left: nobody can join or add anyone any more.
    pub archived: bool,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When its name, description, visibility, tags, owner or members last changed.
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
