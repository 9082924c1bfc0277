//! Realtime events, as services raise them and the hub and the bus carry them.

use std::sync::Arc;

use devconnect_types::{
    ConnectionRequest, Group, GroupId, GroupMember, GroupMessage, GroupRead, Message, MessageId, Profile, UserId,
};
use serde::{Deserialize, Serialize};

/// A realtime event for one user.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", content = "data", rename_all = "camelCase")]
pub enum Event {
    /// A message I sent or received (delivered to both sides' subscriptions).
    NewMessage(Arc<Message>),
    /// One of my connections (or I) came online or went offline.
    #[serde(rename_all = "camelCase")]
    Presence {
        /// Whose presence changed.
        user_id: UserId,
        /// Whether they are online now.
        online: bool,
    },
    /// Someone sent me an `interested` request; carries their profile.
    ConnectionRequest(Arc<ConnectionRequest<Profile, UserId>>),
    /// My request was accepted; carries the receiver's profile.
    ConnectionAccepted(Arc<ConnectionRequest<UserId, Profile>>),
    /// A connection started or stopped typing to me.
    #[serde(rename_all = "camelCase")]
    Typing {
        /// Who is typing.
        user_id: UserId,
        /// Whether they are typing now.
        typing: bool,
    },
    /// A connection read my messages. Boxed so that every [`Event`] is 16 bytes: an
    /// event is cloned into the queue of each of its recipients' subscriptions.
    MessagesRead(Box<ReadReceipt>),
    /// Someone joined or was added to a group I am in (I too, when it is me).
    GroupMemberAdded(Box<GroupMemberAdded>),
    /// Someone left or was removed from a group I am in (I too, when it is me).
    GroupMemberRemoved(Box<GroupMemberRemoved>),
    /// A group I am in changed: its owner, a member's role, or it was archived.
    GroupUpdated(Box<Group>),
    /// A message in a group I am in (mine too). Never sent as `NewMessage`, so that
    /// clients that know only 1:1 chat stay correct.
    GroupMessage(Arc<GroupMessage>),
    /// Another member started or stopped typing in a group I am in.
    GroupTyping(Box<GroupTyping>),
    /// Another member of a group I am in moved their read position.
    GroupRead(Box<GroupRead>),
}

// Keep it small: see `MessagesRead`.
const _: () = assert!(std::mem::size_of::<Event>() <= 16);

/// What [`Event::MessagesRead`] carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReadReceipt {
    /// Who read them.
    pub user_id: UserId,
    /// The newest message they read (and every one before it).
    pub up_to: MessageId,
}

/// What [`Event::GroupMemberAdded`] carries.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupMemberAdded {
    /// The group.
    pub group_id: GroupId,
    /// The new member.
    pub member: GroupMember,
}

/// What [`Event::GroupMemberRemoved`] carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupMemberRemoved {
    /// The group.
    pub group_id: GroupId,
    /// Who is no longer a member.
    pub user_id: UserId,
}

/// What [`Event::GroupTyping`] carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupTyping {
    /// The group.
    pub group_id: GroupId,
    /// Who is typing.
    pub user_id: UserId,
    /// Whether they are typing now.
    pub typing: bool,
}

impl Event {
    /// The position of the message this event carries (1:1 or group), if it carries one.
    #[must_use]
    pub fn message_seq(&self) -> Option<i64> {
        match self {
            Self::NewMessage(m) => Some(m.seq),
            Self::GroupMessage(m) => Some(m.seq),
            _ => None,
        }
    }

    /// Gives the message this event carries its position back (a wire form leaves it
    /// out).
    pub fn set_message_seq(&mut self, seq: i64) {
        match self {
            Self::NewMessage(m) => Arc::make_mut(m).seq = seq,
            Self::GroupMessage(m) => Arc::make_mut(m).seq = seq,
            _ => {}
        }
    }

    /// The event's name in the Socket.IO protocol of the original DevConnect.
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self {
            Self::NewMessage(_) => "newMessage",
            Self::Presence { .. } => "presence",
            Self::ConnectionRequest(_) => "connectionRequest",
            Self::ConnectionAccepted(_) => "connectionAccepted",
            Self::Typing { .. } => "typing",
            Self::MessagesRead(_) => "messagesRead",
            Self::GroupMemberAdded(_) => "groupMemberAdded",
            Self::GroupMemberRemoved(_) => "groupMemberRemoved",
            Self::GroupUpdated(_) => "groupUpdated",
            Self::GroupMessage(_) => "groupMessage",
            Self::GroupTyping(_) => "groupTyping",
            Self::GroupRead(_) => "groupRead",
        }
    }
}
