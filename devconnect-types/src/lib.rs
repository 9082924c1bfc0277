//! DevConnect's wire contract, written once: the ids, the public objects (profiles,
//! connection requests, messages, feed pages), the error acknowledgement and the
//! Socket.IO packet format. The service (`devconnect-core`) re-exports these types; its
//! servers put them on the wire and its clients read them back, so no side keeps a
//! copy of its own.
//!
//! - [`UserId`], [`RequestId`], [`MessageId`]: ObjectIds as 24 hex digits.
//! - [`Profile`], [`Me`], [`Gender`]; [`ConnectionRequest`], [`RequestStatus`] (and the
//!   statuses a sender and a receiver may choose: [`SendStatus`], [`ReviewStatus`]);
//!   [`Message`], [`ChatPartner`], [`SyncPage`]; [`FeedPage`].
//! - [`Invalid`]: a malformed value, naming its field.
//! - [`ErrorAck`]: how a failure reaches a realtime client.
//! - [`rest`]: the REST envelopes (`{success, message, data}`, …) and the REST error
//!   body.
//!
//! With the `openapi` feature every public object and envelope also derives
//! `utoipa::ToSchema`, so a server's OpenAPI document is derived from these types.
//! - [`socketio`]: Engine.IO v4 / Socket.IO v5 packets.
//! - [`safety`]: blocked users and reports ([`BlockedUser`], [`Report`]).
//! - [`search`]: developer search results, each with its relation to the searcher.
//! - [`push`]: push subscriptions, push settings and the notification a browser gets.

#![warn(missing_docs)]

pub mod chat;
pub mod connection;
pub mod feed;
pub mod group;
mod ids;
pub mod profile;
pub mod push;
pub mod rest;
pub mod safety;
pub mod search;
pub mod socketio;

use serde::{Deserialize, Serialize};

pub use chat::{AnyMessage, ChatPartner, Conversation, DirectConversation, GroupConversation, Message, Sent, SyncPage};
pub use connection::{ConnectionRequest, RequestStatus, ReviewStatus, SendStatus};
pub use feed::FeedPage;
pub use group::{Group, GroupChange, GroupMember, GroupMessage, GroupPage, GroupRead, GroupRole, MyGroup, Visibility};
#[cfg(feature = "openapi")]
pub use ids::ID_PATTERN;
pub use ids::{AuditId, GroupId, MessageId, ReportId, RequestId, UserId};
pub use profile::{Gender, Me, Profile};
pub use push::{PushKeys, PushKind, PushNotification, PushSettings, PushSettingsPatch, PushSubscription};
pub use safety::{
    AccountExport, AuditAction, AuditEntry, BlockedUser, Report, ReportKind, ReportReason, ReportStatus, Reported,
    Resolution,
};

/// A malformed value: which field, and what is wrong with it. The service turns it
/// into its `validation` error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invalid {
    /// The field (or path parameter) at fault, as named in the API.
    pub field: &'static str,
    /// A human explanation of what is wrong with it.
    pub reason: String,
}

impl Invalid {
    /// `field` is malformed because of `reason`.
    pub fn new(field: &'static str, reason: impl Into<String>) -> Self {
        Self { field, reason: reason.into() }
    }
}

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.reason)
    }
}

impl std::error::Error for Invalid {}

/// The payload of a realtime error acknowledgement (and of a refused handshake), as
/// API.md describes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ErrorAck {
    /// Always `false`.
    pub success: bool,
    /// The service's stable error code, e.g. `validation`.
    pub code: String,
    /// A human explanation; never internal details.
    pub message: String,
    /// For `rate_limited`: seconds to wait before trying again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
}

impl ErrorAck {
    /// An error acknowledgement with this code and message.
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self { success: false, code: code.into(), message: message.into(), retry_after: None }
    }
}
