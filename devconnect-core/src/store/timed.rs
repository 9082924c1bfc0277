//! The store timing decorator.

use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use devconnect_types::{ConnectionRequest, Message, MessageId, Profile, RequestId, RequestStatus, UserId};

use super::Store;
use crate::Result;
use crate::model::{
    AuthState, EngagementDay, FeedFilter, Inserted, NewMessageRecord, PartnerRecord, ProfileUpdate, UserRecord,
};
use crate::telemetry::STORE_DURATION;

/// A [`Store`] that times every call into [`STORE_DURATION`], labelled by operation.
/// The service wraps its store in one, so every backend is measured the same way.
pub(crate) struct TimedStore(pub(crate) Arc<dyn Store>);

async fn timed<T>(operation: &'static str, call: impl Future<Output = T>) -> T {
    let start = Instant::now();
    let out = call.await;
    metrics::histogram!(STORE_DURATION, "operation" => operation).record(start.elapsed().as_secs_f64());
    out
}

#[async_trait]
impl Store for TimedStore {
    async fn ping(&self) -> Result<()> {
        timed("ping", self.0.ping()).await
    }
    async fn close(&self) -> Result<()> {
        self.0.close().await
    }
    async fn insert_user(&self, user: &UserRecord) -> Result<()> {
        timed("insert_user", self.0.insert_user(user)).await
    }
    async fn user(&self, id: UserId) -> Result<Option<UserRecord>> {
        timed("user", self.0.user(id)).await
    }
    async fn user_by_email(&self, email: &str) -> Result<Option<UserRecord>> {
        timed("user_by_email", self.0.user_by_email(email)).await
    }
    async fn update_profile(
        &self,
        id: UserId,
        update: &ProfileUpdate,
        now: DateTime<Utc>,
    ) -> Result<Option<UserRecord>> {
        timed("update_profile", self.0.update_profile(id, update, now)).await
    }
    async fn set_password(&self, id: UserId, password_hash: &str) -> Result<i64> {
        timed("set_password", self.0.set_password(id, password_hash)).await
    }
    async fn replace_password_hash(&self, id: UserId, old: &str, new: &str) -> Result<bool> {
        timed("replace_password_hash", self.0.replace_password_hash(id, old, new)).await
    }
    async fn auth_state(&self, id: UserId, token_id: &str) -> Result<Option<AuthState>> {
        timed("auth_state", self.0.auth_state(id, token_id)).await
    }
    async fn revoke_token(&self, id: UserId, token_id: &str, expires_at: DateTime<Utc>) -> Result<()> {
        timed("revoke_token", self.0.revoke_token(id, token_id, expires_at)).await
    }
    async fn insert_request(&self, request: &ConnectionRequest) -> Result<()> {
        timed("insert_request", self.0.insert_request(request)).await
    }
    async fn request(&self, id: RequestId) -> Result<Option<ConnectionRequest>> {
        timed("request", self.0.request(id)).await
    }
    async fn review_request(
        &self,
        id: RequestId,
        receiver: UserId,
        status: RequestStatus,
        now: DateTime<Utc>,
    ) -> Result<Option<ConnectionRequest>> {
        timed("review_request", self.0.review_request(id, receiver, status, now)).await
    }
    async fn received_requests(&self, me: UserId) -> Result<Vec<ConnectionRequest<Profile, UserId>>> {
        timed("received_requests", self.0.received_requests(me)).await
    }
    async fn sent_requests(&self, me: UserId) -> Result<Vec<ConnectionRequest<UserId, Profile>>> {
        timed("sent_requests", self.0.sent_requests(me)).await
    }
    async fn connections(&self, me: UserId) -> Result<Vec<Profile>> {
        timed("connections", self.0.connections(me)).await
    }
    async fn connection_ids(&self, me: UserId) -> Result<Vec<UserId>> {
        timed("connection_ids", self.0.connection_ids(me)).await
    }
    async fn are_connected(&self, a: UserId, b: UserId) -> Result<bool> {
        timed("are_connected", self.0.are_connected(a, b)).await
    }
    async fn delete_connection(&self, a: UserId, b: UserId) -> Result<bool> {
        timed("delete_connection", self.0.delete_connection(a, b)).await
    }
    async fn feed(&self, viewer: UserId, filter: &FeedFilter) -> Result<Vec<Profile>> {
        timed("feed", self.0.feed(viewer, filter)).await
    }
    async fn insert_message(&self, message: &NewMessageRecord) -> Result<Inserted> {
        timed("insert_message", self.0.insert_message(message)).await
    }
    async fn history(&self, a: UserId, b: UserId, before: Option<MessageId>, limit: u32) -> Result<Vec<Message>> {
        timed("history", self.0.history(a, b, before, limit)).await
    }
    async fn sync(&self, me: UserId, after: Option<MessageId>, limit: u32) -> Result<Vec<Message>> {
        timed("sync", self.0.sync(me, after, limit)).await
    }
    async fn chat_partners(&self, me: UserId) -> Result<Vec<PartnerRecord>> {
        timed("chat_partners", self.0.chat_partners(me)).await
    }
    async fn mark_read(&self, reader: UserId, sender: UserId, now: DateTime<Utc>) -> Result<Option<MessageId>> {
        timed("mark_read", self.0.mark_read(reader, sender, now)).await
    }
    async fn engagement(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<EngagementDay>> {
        timed("engagement", self.0.engagement(from, to)).await
    }
}
