//! Push notifications as the store keeps them: subscriptions, and the outbox of
//! notifications waiting to go out, one entry per subscription and topic.

use chrono::{DateTime, Utc};
use devconnect_types::{GroupId, MessageId, PushKind, PushSettings, RequestId, UserId};
use serde::{Deserialize, Serialize};

/// A browser's push subscription, registered by a user with one of their tokens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PushSubscriptionRecord {
    /// The subscription's own id (24 hex digits): outbox entries point to it.
    pub id: String,
    /// Whose it is.
    pub user: UserId,
    /// The push service's URL for it.
    pub endpoint: String,
    /// The browser's P-256 public key (65 bytes).
    pub p256dh: Vec<u8>,
    /// The authentication secret (16 bytes).
    pub auth: Vec<u8>,
    /// The token it was registered with: logging that token out removes it.
    pub token_id: String,
    /// When it was registered (the oldest is dropped past the cap).
    pub created_at: DateTime<Utc>,
}

/// What to tell someone, as queued: who and what, not yet how (names and previews
/// are decided when it goes out, from the settings and profiles of that moment).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PushItem {
    /// What replaces what on the push service: one per conversation or person
    /// (RFC 8030 `Topic`, at most 32 URL-safe characters).
    pub topic: String,
    /// What it is about.
    pub kind: PushKind,
    /// Who caused it.
    pub sender: UserId,
    /// The text it is about (a message's or a request's note), cut to the preview length.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// The group of a group message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<GroupId>,
    /// The message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<MessageId>,
    /// The request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<RequestId>,
}

impl PushItem {
    /// The bit of [`PushKind`]'s setting: what a user turns off (messages, requests,
    /// groups); requests and their acceptance share one.
    #[must_use]
    pub fn kind_bit(kind: PushKind) -> u32 {
        match kind {
            PushKind::Message => 1,
            PushKind::Request | PushKind::Accepted => 2,
            PushKind::GroupMessage => 4,
        }
    }
}

/// The kinds `settings` turn off, as the bits of [`PushItem::kind_bit`]: how stores
/// keep them, so one test of a bit tells whether an item is wanted.
#[must_use]
pub fn off_bits(settings: &PushSettings) -> u32 {
    [
        (settings.messages, PushKind::Message),
        (settings.requests, PushKind::Request),
        (settings.groups, PushKind::GroupMessage),
    ]
    .into_iter()
    .filter(|(on, _)| !on)
    .fold(0, |bits, (_, kind)| bits | PushItem::kind_bit(kind))
}

/// Settings from the bits [`off_bits`] made, and the rest of what a store keeps.
#[must_use]
pub fn settings_from_bits(off: u32, previews: bool, muted_groups: Vec<GroupId>) -> PushSettings {
    let on = |kind| off & PushItem::kind_bit(kind) == 0;
    PushSettings {
        messages: on(PushKind::Message),
        requests: on(PushKind::Request),
        groups: on(PushKind::GroupMessage),
        previews,
        muted_groups,
    }
}

/// A due notification claimed from the outbox for one subscription.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutboxEntry {
    /// Where it goes.
    pub subscription: PushSubscriptionRecord,
    /// The newest thing it is about.
    pub item: PushItem,
    /// How many things it stands for (coalesced while it waited).
    pub count: u32,
    /// Bumped by each coalesced item: finishing an older version keeps the newer.
    pub version: i64,
    /// Failed attempts so far.
    pub attempts: u32,
    /// When the first thing it stands for was queued.
    pub created_at: DateTime<Utc>,
}

/// How full the outbox is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OutboxStats {
    /// Entries waiting.
    pub depth: u64,
    /// When the oldest waiting entry was queued.
    pub oldest: Option<DateTime<Utc>>,
}
