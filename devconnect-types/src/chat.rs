//! Chat: messages, partners, catch-up pages.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{Group, GroupMessage, MessageId, Profile, UserId};

/// Unread counts stop here: a conversation with more unread messages says 100 (a client
/// shows "99+"). Counting further would read every unread message of every conversation
/// on each look at the list, however long ago its reader stopped reading.
pub const MAX_UNREAD_COUNT: u64 = 100;

/// A chat message.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Message {
    /// The message id (also a history/sync cursor).
    #[serde(rename = "_id")]
    pub id: MessageId,
    /// Who sent it.
    pub sender_id: UserId,
    /// Who it is for.
    pub receiver_id: UserId,
    /// The text; empty when the message is only an image.
    pub text: String,
    /// URL of the attached image, if any.
    pub image: Option<String>,
    /// The sender's idempotency key, if one was given.
    pub client_msg_id: Option<String>,
    /// When the server stored it.
    pub created_at: DateTime<Utc>,
    /// When the receiver read it.
    pub read_at: Option<DateTime<Utc>>,
    /// The server-assigned position: strictly increasing in the order messages were
    /// stored, so it orders history, events and catch-up identically.
    #[serde(skip)]
    pub seq: i64,
}

/// Someone I chat with: a connection, or anyone I have history with.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ChatPartner {
    /// Their public profile.
    #[serde(flatten)]
    pub profile: Profile,
    /// Whether they are online now.
    pub online: bool,
    /// The latest message between us.
    pub last_message: Option<Message>,
    /// Messages from them I have not read, at most 100 (then "99+").
    pub unread_count: u64,
}

/// Any message I may receive: 1:1, or in one of my groups (it has a `groupId`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(untagged)]
pub enum AnyMessage {
    /// A 1:1 message (it has a `receiverId`).
    Direct(Message),
    /// A message in a group (it has a `groupId`).
    Group(GroupMessage),
}

impl From<Message> for AnyMessage {
    fn from(m: Message) -> Self {
        Self::Direct(m)
    }
}

impl From<GroupMessage> for AnyMessage {
    fn from(m: GroupMessage) -> Self {
        Self::Group(m)
    }
}

impl AnyMessage {
    /// The message id.
    #[must_use]
    pub fn id(&self) -> MessageId {
        match self {
            Self::Direct(m) => m.id,
            Self::Group(m) => m.id,
        }
    }

    /// Who sent it.
    #[must_use]
    pub fn sender_id(&self) -> UserId {
        match self {
            Self::Direct(m) => m.sender_id,
            Self::Group(m) => m.sender_id,
        }
    }

    /// The server-assigned position, shared by both kinds.
    #[must_use]
    pub fn seq(&self) -> i64 {
        match self {
            Self::Direct(m) => m.seq,
            Self::Group(m) => m.seq,
        }
    }
}

/// One entry of my conversation list: a 1:1 conversation or a group, with its last
/// message and how many messages in it I have not read.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Conversation {
    /// With one person (`kind: "direct"`).
    Direct(DirectConversation),
    /// In a group I am a member of (`kind: "group"`).
    Group(GroupConversation),
}

impl Conversation {
    /// The position of its last message, if it has one: conversations are listed by it.
    #[must_use]
    pub fn last_seq(&self) -> Option<i64> {
        match self {
            Self::Direct(c) => c.last_message.as_ref().map(|m| m.seq),
            Self::Group(c) => c.last_message.as_ref().map(|m| m.seq),
        }
    }
}

/// A 1:1 conversation in my conversation list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct DirectConversation {
    /// The other person.
    pub user: Profile,
    /// Whether they are online now (connections only).
    pub online: bool,
    /// The latest message between us.
    pub last_message: Option<Message>,
    /// Messages from them I have not read, at most 100 (then "99+").
    pub unread_count: u64,
}

/// A group in my conversation list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct GroupConversation {
    /// The group.
    pub group: Group,
    /// The latest message I can see in it.
    pub last_message: Option<GroupMessage>,
    /// Messages from others after my read position, at most 100 (then "99+").
    pub unread_count: u64,
}

/// A page of catch-up messages.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SyncPage {
    /// Messages to or from me and messages in my groups (from when I joined), in
    /// position order.
    pub messages: Vec<AnyMessage>,
    /// Whether more follow the last one.
    pub has_more: bool,
}

/// The result of a send: the message, and whether this call stored it or a previous
/// call with the same client message id did.
#[derive(Clone, Debug)]
pub struct Sent<M = Message> {
    /// The stored message (a [`Message`], or a [`GroupMessage`] in a group).
    pub message: M,
    /// `false` when the client message id repeated and nothing new was stored.
    pub created: bool,
}
