//! The requests aggregate: connection requests, and the connections they become once
//! accepted.

use chrono::{DateTime, Utc};
use devconnect_types::{ConnectionRequest, Profile, RequestId, RequestStatus, UserId};

use crate::Result;

super::timed::store_aggregate! {
    /// Connection requests and connections.
    pub trait RequestStore {
        /// Inserts a request; any existing request between the two users, in either
        /// direction, is `Conflict`.
        async fn insert_request(&self, request: &ConnectionRequest) -> Result<()>;
        /// A request by id.
        async fn request(&self, id: RequestId) -> Result<Option<ConnectionRequest>>;
        /// The request that stands between `a` and `b` (either direction), if any.
        async fn request_between(&self, a: UserId, b: UserId) -> Result<Option<ConnectionRequest>>;
        /// Files away the rejected request `old`, if it is still rejected and last changed
        /// at `rejected_at`, and inserts `request` for the same two users in its place, in
        /// one step. `false` (nothing changed) if `old` changed meanwhile; `Conflict` if
        /// another request between them got in first. The filed request keeps its history
        /// (engagement figures, the sender's list) but no longer stands between them.
        async fn renew_rejected_request(
            &self,
            old: RequestId,
            rejected_at: DateTime<Utc>,
            request: &ConnectionRequest,
        ) -> Result<bool>;
        /// Moves a request from `interested` to `status` if `receiver` is its receiver and it
        /// is still `interested`; `None` when it no longer matches (reviewed concurrently).
        async fn review_request(
            &self,
            id: RequestId,
            receiver: UserId,
            status: RequestStatus,
            now: DateTime<Utc>,
        ) -> Result<Option<ConnectionRequest>>;
        /// Deletes the request `id` if it is still pending (`interested`) or `ignored`;
        /// whether it did.
        async fn delete_request(&self, id: RequestId) -> Result<bool>;
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
    }
}
