//! The chat aggregate: messages in position order, conversation pages, catch-up after a
//! position, chat partners and read state.

use chrono::{DateTime, Utc};
use devconnect_types::{AnyMessage, Message, MessageId, UserId};

use crate::Result;
use crate::model::{Inserted, NewMessageRecord, PartnerRecord};

super::timed::store_aggregate! {
    /// Messages, history, sync, chat partners and read state.
    pub trait ChatStore {
        /// Stores a message with the next position, or returns the one stored earlier under
        /// the same client message id.
        async fn insert_message(&self, message: &NewMessageRecord) -> Result<Inserted>;
        /// Up to `limit` messages between `a` and `b` before `before` (or the newest),
        /// oldest first. An unknown `before` is `NotFound`.
        async fn history(&self, a: UserId, b: UserId, before: Option<MessageId>, limit: u32) -> Result<Vec<Message>>;
        /// Up to `limit` messages to or from `me`, and messages of groups inside `me`'s
        /// windows on them, after `after` (or from the start), in position order, leaving
        /// out messages sent by `hidden` (whom `me` blocked). An `after` that is none of
        /// these is `NotFound`.
        async fn sync(&self, me: UserId, after: Option<MessageId>, hidden: &[UserId], limit: u32) -> Result<Vec<AnyMessage>>;
        /// A message by id, 1:1 or in a group.
        async fn message(&self, id: MessageId) -> Result<Option<AnyMessage>>;
        /// Everyone `me` is connected with or has history with, most recent conversation
        /// first, then connections without messages.
        async fn chat_partners(&self, me: UserId) -> Result<Vec<PartnerRecord>>;
        /// Marks messages from `sender` to `reader` as read; returns the newest one marked.
        async fn mark_read(&self, reader: UserId, sender: UserId, now: DateTime<Utc>) -> Result<Option<MessageId>>;
    }
}
