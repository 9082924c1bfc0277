//! Push notifications for people who are offline (Web Push): the subscription a
//! browser gives, one's push settings, and the notification a service worker receives.

use serde::{Deserialize, Serialize};

use crate::{GroupId, MessageId, RequestId, UserId};

/// A browser's `PushSubscription`, as `subscription.toJSON()` gives it
/// (`expirationTime` and anything else a browser adds are accepted and ignored).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PushSubscription {
    /// The push service's URL for this subscription (https).
    pub endpoint: String,
    /// The subscription's keys, base64url.
    pub keys: PushKeys,
}

/// A subscription's keys (RFC 8291), base64url as browsers give them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PushKeys {
    /// The browser's P-256 public key, uncompressed (65 bytes).
    pub p256dh: String,
    /// The authentication secret (16 bytes).
    pub auth: String,
}

/// Which notifications one gets while offline. Everything is on until turned off.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct PushSettings {
    /// New 1:1 messages.
    pub messages: bool,
    /// Connection requests, and the acceptance of one's own.
    pub requests: bool,
    /// New group messages (except from muted groups).
    pub groups: bool,
    /// Whether a notification shows the start of the text; without, only who sent it.
    pub previews: bool,
    /// Groups that send nothing.
    pub muted_groups: Vec<GroupId>,
}

impl Default for PushSettings {
    fn default() -> Self {
        Self { messages: true, requests: true, groups: true, previews: true, muted_groups: Vec::new() }
    }
}

/// A change of [`PushSettings`]: what is given replaces what was (`mutedGroups` as a
/// whole list), the rest stays. Unknown fields are refused, so a misspelt setting is
/// not silently ignored.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PushSettingsPatch {
    /// New 1:1 messages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub messages: Option<bool>,
    /// Connection requests and acceptances.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requests: Option<bool>,
    /// Group messages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub groups: Option<bool>,
    /// Text previews.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previews: Option<bool>,
    /// The muted groups, replacing the list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub muted_groups: Option<Vec<GroupId>>,
}

/// What a notification is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub enum PushKind {
    /// `"message"`: a 1:1 message.
    Message,
    /// `"groupMessage"`: a message in a group.
    GroupMessage,
    /// `"request"`: a connection request.
    Request,
    /// `"accepted"`: one's connection request was accepted.
    Accepted,
}

impl PushKind {
    /// The wire form (as serde writes it).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Message => "message",
            Self::GroupMessage => "groupMessage",
            Self::Request => "request",
            Self::Accepted => "accepted",
        }
    }

    /// Reads the wire form.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Message, Self::GroupMessage, Self::Request, Self::Accepted].into_iter().find(|k| k.as_str() == s)
    }
}

/// The notification a service worker decrypts from a push (its JSON payload). A newer
/// one about the same conversation or person replaces the older on the push service.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct PushNotification {
    /// What it is about.
    pub kind: PushKind,
    /// Who sent the message or request, or accepted one's request.
    pub sender_id: UserId,
    /// Their name, as their profile shows it.
    pub sender_name: String,
    /// The start of the text (at most 100 characters), unless previews are off or
    /// there is no text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preview: Option<String>,
    /// How many messages or requests this notification stands for (a burst from one
    /// conversation is one notification).
    pub count: u32,
    /// The group, for a group message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_id: Option<GroupId>,
    /// The newest message it stands for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<MessageId>,
    /// The request, for a request or an acceptance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<RequestId>,
}

/// The server's VAPID public key, for `pushManager.subscribe({applicationServerKey})`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct VapidPublicKey {
    /// The uncompressed P-256 point, base64url without padding.
    pub public_key: String,
}

#[cfg(test)]
mod tests {
    use super::PushKind;

    #[test]
    fn a_kind_reads_as_serde_writes_it() {
        for kind in [PushKind::Message, PushKind::GroupMessage, PushKind::Request, PushKind::Accepted] {
            assert_eq!(serde_json::to_value(kind).ok(), Some(kind.as_str().into()));
            assert_eq!(PushKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(PushKind::parse("other"), None);
    }
}
