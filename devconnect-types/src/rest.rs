//! The REST envelopes: the JSON bodies the REST server answers with, as API.md fixes
//! them. The server serializes these structs, the client deserializes them and the
//! OpenAPI document is derived from them (feature `openapi`), so the three cannot drift.
//!
//! Some key names are the original DevConnect's and look odd (`requests` holding
//! profiles, the feed's `request`); they are kept because its web frontend reads them.
//! Bare objects (`Me`, `Profile`, `Message`, `[Message]`) are sent without an envelope.

use serde::{Deserialize, Serialize};

use crate::search::{SearchPage, SearchResult};
use crate::{FeedPage, Me, MessageId, Profile, SyncPage, UserId};

/// `{success, message}`: an action that returns nothing else (logout, removing a
/// connection).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Done {
    /// Always `true`.
    pub success: bool,
    /// A human summary.
    pub message: String,
}

impl Done {
    /// A success with this summary.
    pub fn new(message: impl Into<String>) -> Self {
        Self { success: true, message: message.into() }
    }
}

/// Signup (201) or login (200): the account and its bearer token.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuthResponse {
    /// Always `true`.
    pub success: bool,
    /// A human summary.
    pub message: String,
    /// The caller's own profile.
    pub user: Me,
    /// The bearer token for the following calls.
    pub token: String,
}

impl AuthResponse {
    /// A successful signup or login.
    pub fn new(message: impl Into<String>, user: Me, token: String) -> Self {
        Self { success: true, message: message.into(), user, token }
    }
}

/// A profile edit: the profile as it now is.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserResponse {
    /// Always `true`.
    pub success: bool,
    /// A human summary.
    pub message: String,
    /// The caller's own profile after the change.
    pub user: Me,
}

impl UserResponse {
    /// A successful edit.
    pub fn new(message: impl Into<String>, user: Me) -> Self {
        Self { success: true, message: message.into(), user }
    }
}

/// A password change: the caller's new token (every older one stopped working).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenResponse {
    /// Always `true`.
    pub success: bool,
    /// A human summary.
    pub message: String,
    /// The new bearer token.
    pub token: String,
}

impl TokenResponse {
    /// A successful change.
    pub fn new(message: impl Into<String>, token: String) -> Self {
        Self { success: true, message: message.into(), token }
    }
}

/// `{success, message, data}`: one object acted on (a connection request sent or
/// reviewed).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DataResponse<T> {
    /// Always `true`.
    pub success: bool,
    /// A human summary.
    pub message: String,
    /// The object.
    pub data: T,
}

impl<T> DataResponse<T> {
    /// A success carrying `data`.
    pub fn new(message: impl Into<String>, data: T) -> Self {
        Self { success: true, message: message.into(), data }
    }
}

/// `{success, message, requests}`: a list. The key is `requests` whatever the list
/// holds (requests, connections, chat partners), as the original API named it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ListResponse<T> {
    /// Always `true`.
    pub success: bool,
    /// A human summary.
    pub message: String,
    /// The items.
    pub requests: Vec<T>,
}

impl<T> ListResponse<T> {
    /// A success carrying `items`.
    pub fn new(message: impl Into<String>, items: Vec<T>) -> Self {
        Self { success: true, message: message.into(), requests: items }
    }
}

/// A feed page. The profiles travel as `request` (the original's name); `FeedPage`
/// is the same page with a sensible one.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct FeedResponse {
    /// Always `true`.
    pub success: bool,
    /// A human summary.
    pub message: String,
    /// The profiles on this page.
    pub request: Vec<Profile>,
    /// The page number (1-based).
    pub page: u32,
    /// The page size.
    pub limit: u32,
    /// Whether a next page has profiles.
    pub has_more: bool,
}

impl FeedResponse {
    /// The envelope of `page`.
    pub fn new(message: impl Into<String>, page: FeedPage) -> Self {
        Self {
            success: true,
            message: message.into(),
            request: page.profiles,
            page: page.page,
            limit: page.limit,
            has_more: page.has_more,
        }
    }
}

impl From<FeedResponse> for FeedPage {
    fn from(r: FeedResponse) -> Self {
        Self { profiles: r.request, page: r.page, limit: r.limit, has_more: r.has_more }
    }
}

/// A page of developer search: `{success, message, results, page, limit, hasMore, asOf}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SearchResponse {
    /// Always `true`.
    pub success: bool,
    /// A human summary.
    pub message: String,
    /// The results on this page, best match first; each a profile plus `relation`.
    pub results: Vec<SearchResult>,
    /// The page number (1-based).
    pub page: u32,
    /// The page size.
    pub limit: u32,
    /// Whether a next page has results.
    pub has_more: bool,
    /// Pass back as `asOf` for the next pages, so signups made meanwhile do not shift them.
    pub as_of: UserId,
}

impl SearchResponse {
    /// The envelope of `page`.
    pub fn new(message: impl Into<String>, page: SearchPage) -> Self {
        Self {
            success: true,
            message: message.into(),
            results: page.results,
            page: page.page,
            limit: page.limit,
            has_more: page.has_more,
            as_of: page.as_of,
        }
    }
}

impl From<SearchResponse> for SearchPage {
    fn from(r: SearchResponse) -> Self {
        Self { results: r.results, page: r.page, limit: r.limit, has_more: r.has_more, as_of: r.as_of }
    }
}

/// A catch-up page: `{success, messages, hasMore}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SyncResponse {
    /// Always `true`.
    pub success: bool,
    /// Messages to or from me and in my groups, in position order.
    pub messages: Vec<crate::AnyMessage>,
    /// Whether more follow the last one.
    pub has_more: bool,
}

impl From<SyncPage> for SyncResponse {
    fn from(page: SyncPage) -> Self {
        Self { success: true, messages: page.messages, has_more: page.has_more }
    }
}

impl From<SyncResponse> for SyncPage {
    fn from(r: SyncResponse) -> Self {
        Self { messages: r.messages, has_more: r.has_more }
    }
}

/// Marking a conversation read: up to which message (none when nothing was unread).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ReadResponse {
    /// Always `true`.
    pub success: bool,
    /// The newest message now marked read, if any.
    pub up_to: Option<MessageId>,
}

impl ReadResponse {
    /// Marked up to `up_to`.
    #[must_use]
    pub fn new(up_to: Option<MessageId>) -> Self {
        Self { success: true, up_to }
    }
}

/// `/healthz` and `/livez`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HealthResponse {
    /// Always `true` (an unhealthy server answers with an `ErrorBody`).
    pub success: bool,
    /// `ok`, or `degraded` while the event bus between instances is unavailable.
    pub status: String,
    /// `/healthz` only: the event bus, `in_process`, `connected` or `unavailable`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bus: Option<String>,
}

impl HealthResponse {
    /// Up, in `status`, with the bus state if known.
    pub fn new(status: impl Into<String>, bus: Option<String>) -> Self {
        Self { success: true, status: status.into(), bus }
    }
}

/// Every REST failure: `{success: false, code, message}`, with the HTTP status telling
/// the class and `code` the stable reason (rate limits add a `Retry-After` header, not a
/// field). `ErrorAck` is the realtime counterpart.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    /// Always `false`.
    pub success: bool,
    /// A stable machine-readable code, e.g. `validation`, `unauthorized`.
    pub code: String,
    /// A human explanation; never internal details.
    pub message: String,
}

impl ErrorBody {
    /// A failure with this code and message.
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self { success: false, code: code.into(), message: message.into() }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    fn keys(v: &impl Serialize) -> Vec<String> {
        let value = serde_json::to_value(v).unwrap_or(Value::Null);
        let mut keys: Vec<String> = value.as_object().map(|m| m.keys().cloned().collect()).unwrap_or_default();
        keys.sort();
        keys
    }

    #[test]
    fn envelopes_keep_the_original_key_names() {
        let feed = FeedResponse::new("feed", FeedPage { profiles: vec![], page: 1, limit: 10, has_more: false });
        assert_eq!(keys(&feed), ["hasMore", "limit", "message", "page", "request", "success"]);
        assert_eq!(keys(&ListResponse::<Profile>::new("x", vec![])), ["message", "requests", "success"]);
        assert_eq!(keys(&DataResponse::new("x", 1)), ["data", "message", "success"]);
        assert_eq!(
            keys(&SyncResponse::from(SyncPage { messages: vec![], has_more: true })),
            ["hasMore", "messages", "success"]
        );
        assert_eq!(serde_json::to_value(ReadResponse::new(None)).ok(), Some(json!({"success": true, "upTo": null})));
        assert_eq!(
            serde_json::to_value(ErrorBody::new("validation", "bad")).ok(),
            Some(json!({"success": false, "code": "validation", "message": "bad"}))
        );
    }

    #[test]
    fn health_leaves_out_an_unknown_bus() {
        assert_eq!(
            serde_json::to_value(HealthResponse::new("ok", None)).ok(),
            Some(json!({"success": true, "status": "ok"}))
        );
        let healthz = HealthResponse::new("degraded", Some("unavailable".into()));
        assert_eq!(keys(&healthz), ["bus", "status", "success"]);
    }

    #[test]
    fn feed_pages_round_trip_through_the_envelope() {
        let page = FeedPage { profiles: vec![], page: 3, limit: 5, has_more: true };
        let json = serde_json::to_string(&FeedResponse::new("feed", page.clone())).unwrap_or_default();
        let back = serde_json::from_str::<FeedResponse>(&json).map(FeedPage::from).ok();
        assert_eq!(back, Some(page));
    }
}
