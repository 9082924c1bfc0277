//! Chat messages as handed to and returned by a store.

use chrono::{DateTime, Utc};
use devconnect_types::{Message, MessageId, Profile, UserId};

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

/// Whether [`ChatStore::insert_message`](crate::store::ChatStore::insert_message) stored a new message
/// or found the one stored earlier under the same `(sender, receiver, client_msg_id)`.
#[derive(Clone, Debug)]
pub enum Inserted {
    /// Stored now.
    New(Message),
    /// Stored before; nothing was written.
    Existing(Message),
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
