//! The storage seam. A [`Store`] persists users, requests and messages and enforces the
//! invariants that must hold under concurrency (unique email, one request per pair of
//! users, one message per client message id) with its own constraints, never with a
//! check-then-insert. Business rules live in the service, not here.
//!
//! Every backend passes the conformance suite in `crate::testkit`.

#[cfg(feature = "mongodb")]
pub mod mongo;
#[cfg(feature = "sqlite")]
pub mod sqlite;
mod timed;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use devconnect_types::{ConnectionRequest, Message, MessageId, Profile, RequestId, RequestStatus, UserId};

use crate::model::ProfileUpdate;
pub use crate::model::{AuthState, EngagementDay, FeedFilter, Inserted, NewMessageRecord, PartnerRecord, UserRecord};
use crate::{Error, Result};
pub(crate) use timed::TimedStore;

/// Persistence for DevConnect. All methods are cancel-safe from the caller's view: a
/// write either happened durably before `Ok` is returned or not at all.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Checks the store is reachable.
    async fn ping(&self) -> Result<()>;
    /// Flushes and releases resources; the store is not used afterwards.
    async fn close(&self) -> Result<()> {
        Ok(())
    }

    /// Inserts a user; a taken email is `Conflict`.
    async fn insert_user(&self, user: &UserRecord) -> Result<()>;
    /// A user by id.
    async fn user(&self, id: UserId) -> Result<Option<UserRecord>>;
    /// A user by (normalised) email.
    async fn user_by_email(&self, email: &str) -> Result<Option<UserRecord>>;
    /// Applies a validated profile update; `None` if the user does not exist.
    async fn update_profile(
        &self,
        id: UserId,
        update: &ProfileUpdate,
        now: DateTime<Utc>,
    ) -> Result<Option<UserRecord>>;
    /// Sets a new password hash and bumps the token version; returns the new version.
    async fn set_password(&self, id: UserId, password_hash: &str) -> Result<i64>;
    /// Replaces the password hash with `new` if it is still `old` (a re-hash of the same
    /// password: the token version stays). Returns whether it was replaced.
    async fn replace_password_hash(&self, id: UserId, old: &str, new: &str) -> Result<bool>;
    /// The user's token version and whether `token_id` was revoked; `None` if no such user.
    async fn auth_state(&self, id: UserId, token_id: &str) -> Result<Option<AuthState>>;
    /// Revokes one token until it expires anyway.
    async fn revoke_token(&self, id: UserId, token_id: &str, expires_at: DateTime<Utc>) -> Result<()>;

    /// Inserts a request; any existing request between the two users, in either
    /// direction, is `Conflict`.
    async fn insert_request(&self, request: &ConnectionRequest) -> Result<()>;
    /// A request by id.
    async fn request(&self, id: RequestId) -> Result<Option<ConnectionRequest>>;
    /// Moves a request from `interested` to `status` if `receiver` is its receiver and it
    /// is still `interested`; `None` when it no longer matches (reviewed concurrently).
    async fn review_request(
        &self,
        id: RequestId,
        receiver: UserId,
        status: RequestStatus,
        now: DateTime<Utc>,
    ) -> Result<Option<ConnectionRequest>>;
    /// Pending `interested` requests to `me`, newest first, with the sender's profile.
    async fn received_requests(&self, me: UserId) -> Result<Vec<ConnectionRequest<Profile, UserId>>>;
    /// Requests sent by `me` (any status), newest first, with the receiver's profile.
    async fn sent_requests(&self, me: UserId) -> Result<Vec<ConnectionRequest<UserId, Profile>>>;
    /// Profiles of everyone `me` is connected with (accepted either way), newest first.
    async fn connections(&self, me: UserId) -> Result<Vec<Profile>>;
    /// Ids of everyone `me` is connected with.
    async fn connection_ids(&self, me: UserId) -> Result<Vec<UserId>>;
    /// Whether `a` and `b` are connected.
    async fn are_connected(&self, a: UserId, b: UserId) -> Result<bool>;
    /// Removes the accepted request between `a` and `b`; `false` if they were not connected.
    async fn delete_connection(&self, a: UserId, b: UserId) -> Result<bool>;

    /// Profiles `viewer` has no request with either way (and not `viewer`), newest
    /// account first, by `filter`.
    async fn feed(&self, viewer: UserId, filter: &FeedFilter) -> Result<Vec<Profile>>;

    /// Stores a message with the next position, or returns the one stored earlier under
    /// the same client message id.
    async fn insert_message(&self, message: &NewMessageRecord) -> Result<Inserted>;
    /// Up to `limit` messages between `a` and `b` before `before` (or the newest),
    /// oldest first. An unknown `before` is `NotFound`.
    async fn history(&self, a: UserId, b: UserId, before: Option<MessageId>, limit: u32) -> Result<Vec<Message>>;
    /// Up to `limit` messages to or from `me` after `after` (or from the start), in
    /// position order. An unknown `after` is `NotFound`.
    async fn sync(&self, me: UserId, after: Option<MessageId>, limit: u32) -> Result<Vec<Message>>;
    /// Everyone `me` is connected with or has history with, most recent conversation
    /// first, then connections without messages.
    async fn chat_partners(&self, me: UserId) -> Result<Vec<PartnerRecord>>;
    /// Marks messages from `sender` to `reader` as read; returns the newest one marked.
    async fn mark_read(&self, reader: UserId, sender: UserId, now: DateTime<Utc>) -> Result<Option<MessageId>>;

    /// Engagement per UTC day of `[from, to)` (both midnights UTC), aggregated in the
    /// database: only days with any activity, oldest first. Definitions in
    /// [`crate::analytics`].
    async fn engagement(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<EngagementDay>>;
}

/// Opens the store named by `url`: `sqlite://PATH`, `sqlite::memory:`, or (with the
/// `mongodb` feature) `mongodb://…` / `mongodb+srv://…`, the database named by the URL's
/// path (default `devconnect`).
pub async fn open(url: &str) -> Result<Arc<dyn Store>> {
    #[cfg(feature = "mongodb")]
    if url.starts_with("mongodb://") || url.starts_with("mongodb+srv://") {
        return Ok(Arc::new(mongo::MongoStore::open(url).await?));
    }
    #[cfg(feature = "sqlite")]
    if url == "sqlite::memory:" {
        return Ok(Arc::new(sqlite::SqliteStore::open_in_memory().await?));
    }
    #[cfg(feature = "sqlite")]
    if let Some(path) = url.strip_prefix("sqlite://") {
        return Ok(Arc::new(sqlite::SqliteStore::open(path).await?));
    }
    Err(Error::validation("database", format!("unsupported database URL scheme in {:?}", scheme_of(url))))
}

/// The scheme part of a URL, so error messages never echo credentials.
fn scheme_of(url: &str) -> &str {
    url.split_once(':').map_or("", |(scheme, _)| scheme)
}

/// The key of an unordered pair of users: the same for `(a, b)` and `(b, a)`.
#[must_use]
pub fn pair_key(a: UserId, b: UserId) -> String {
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    format!("{lo}{hi}")
}
