//! Chat messages as handed to and returned by a store.

use chrono::{DateTime, Utc};
use devconnect_types::{GroupChange, GroupId, Message, MessageId, Profile, UserId};

/// A message to store. The store assigns its position.
#[derive(Clone, Debug)]
pub struct NewMessageRecord {
    /// A fresh id.
    pub id: MessageId,
    /// The sender.
    pub sender: UserId,
    /// The receiver.
    pub receiver: UserId,
    /// The text (may be empty when there is an image).
    pub text: String,
    /// The image URL, if any.
    pub image: Option<String>,
    /// The sender's idempotency key, if any.
    pub client_msg_id: Option<String>,
    /// When the server received it.
    pub created_at: DateTime<Utc>,
}

/// A message to store in a group. The store assigns its position.
#[derive(Clone, Debug)]
pub struct NewGroupMessageRecord {
    /// A fresh id.
    pub id: MessageId,
    /// The group.
    pub group: GroupId,
    /// The sender (for a system message: who made the change).
    pub sender: UserId,
    /// The text (empty for a system message, and may be when there is an image).
    pub text: String,
    /// The image URL, if any.
    pub image: Option<String>,
    /// The sender's idempotency key, if any.
    pub client_msg_id: Option<String>,
    /// Set for a system message: the change it records.
    pub change: Option<GroupChange>,
    /// When the server received it.
    pub created_at: DateTime<Utc>,
}

/// Whether a store stored a new message or found the one stored earlier under the
/// same sender, receiver (person or group) and client message id.
#[derive(Clone, Debug)]
pub enum Inserted<M = Message> {
    /// Stored now.
    New(M),
    /// Stored before; nothing was written.
    Existing(M),
}

/// A member's window on a group's history: they see the messages after position
/// `from` and up to `to` (while still a member, `to` is `None`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    /// The highest position when they joined; they see what came after.
    pub from: i64,
    /// The highest position when they left, or `None` while a member.
    pub to: Option<i64>,
    /// Their read position: the newest message they marked read (0 for none).
    pub read: i64,
}

impl Window {
    /// Whether the message at `seq` is inside the window.
    #[must_use]
    pub fn contains(&self, seq: i64) -> bool {
        seq > self.from && self.to.is_none_or(|to| seq <= to)
    }
}

/// One entry of [`ChatStore::chat_partners`](crate::store::ChatStore::chat_partners).
#[derive(Clone, Debug)]
pub struct PartnerRecord {
    /// The partner's profile.
    pub profile: Profile,
    /// The latest message between us, if any.
    pub last_message: Option<Message>,
    /// Messages from the partner to me not yet read.
    pub unread_count: u64,
}
