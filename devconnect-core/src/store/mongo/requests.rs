//! The requests aggregate on MongoDB: connection requests and connections.

use async_trait::async_trait;
use bson::{Document, doc};
use chrono::{DateTime, Utc};
use devconnect_types::{ConnectionRequest, Profile, RequestId, RequestStatus, UserId};
use futures_util::TryStreamExt as _;
use mongodb::options::ReturnDocument;

use super::documents::{bson_time, oid, request_doc, request_from_doc};
use super::error::db_err;
use super::{MongoStore, find_all};
use crate::store::{RequestStore, pair_key};
use crate::{Error, Result};

pub(super) fn accepted_with(me: UserId) -> Document {
    let me = me.object_id();
    doc! { "$or": [
        { "fromUserId": me, "status": RequestStatus::Accepted.as_str() },
        { "toUserId": me, "status": RequestStatus::Accepted.as_str() },
    ] }
}

pub(super) fn other_party(r: &ConnectionRequest, me: UserId) -> UserId {
    if r.from_user_id == me { r.to_user_id } else { r.from_user_id }
}

#[async_trait]
impl RequestStore for MongoStore {
    async fn insert_request(&self, request: &ConnectionRequest) -> Result<()> {
        self.requests.insert_one(request_doc(request)).await.map(drop).map_err(|e| match db_err(e) {
            Error::Conflict(_) => Error::Conflict("a request between these users already exists"),
            other => other,
        })
    }

    async fn request_between(&self, a: UserId, b: UserId) -> Result<Option<ConnectionRequest>> {
        let found = self.requests.find_one(doc! { "pairKey": pair_key(a, b) }).await.map_err(db_err)?;
        found.as_ref().map(request_from_doc).transpose()
    }

    async fn renew_rejected_request(
        &self,
        old: RequestId,
        rejected_at: DateTime<Utc>,
        request: &ConnectionRequest,
    ) -> Result<bool> {
        // Two single-document writes (no transaction: a standalone server has none).
        // Filing first frees the pair's key; if the insert then fails, the pair simply
        // has no request, which is where a renewal was taking it anyway.
        let filed_key = format!("{}:{}", pair_key(request.from_user_id, request.to_user_id), old.to_hex());
        let filed = self
            .requests
            .update_one(
                doc! {
                    "_id": old.object_id(),
                    "status": RequestStatus::Rejected.as_str(),
                    "updatedAt": bson_time(rejected_at),
                },
                doc! { "$set": { "pairKey": filed_key } },
            )
            .await
            .map_err(db_err)?;
        if filed.modified_count == 0 {
            return Ok(false);
        }
        self.insert_request(request).await.map(|()| true)
    }

    async fn request(&self, id: RequestId) -> Result<Option<ConnectionRequest>> {
        let found = self.requests.find_one(doc! { "_id": id.object_id() }).await.map_err(db_err)?;
        found.as_ref().map(request_from_doc).transpose()
    }

    async fn review_request(
        &self,
        id: RequestId,
        receiver: UserId,
        status: RequestStatus,
        now: DateTime<Utc>,
    ) -> Result<Option<ConnectionRequest>> {
        let updated = self
            .requests
            .find_one_and_update(
                doc! {
                    "_id": id.object_id(),
                    "toUserId": receiver.object_id(),
                    "status": RequestStatus::Interested.as_str(),
                },
                doc! { "$set": { "status": status.as_str(), "updatedAt": bson_time(now) } },
            )
            .return_document(ReturnDocument::After)
            .await
            .map_err(db_err)?;
        updated.as_ref().map(request_from_doc).transpose()
    }

    async fn received_requests(&self, me: UserId) -> Result<Vec<ConnectionRequest<Profile, UserId>>> {
        let docs = find_all(
            &self.requests,
            doc! { "toUserId": me.object_id(), "status": RequestStatus::Interested.as_str() },
            doc! { "createdAt": -1, "_id": -1 },
        )
        .await?;
        let requests = docs.iter().map(request_from_doc).collect::<Result<Vec<_>>>()?;
        let senders: Vec<UserId> = requests.iter().map(|r| r.from_user_id).collect();
        let mut profiles = self.users_by_id(&senders).await?;
        Ok(requests
            .into_iter()
            .filter_map(|r| {
                let from = profiles.remove(&r.from_user_id)?;
                let to = r.to_user_id;
                Some(r.with_parties(from, to))
            })
            .collect())
    }

    async fn sent_requests(&self, me: UserId) -> Result<Vec<ConnectionRequest<UserId, Profile>>> {
        let docs = find_all(&self.requests, doc! { "fromUserId": me.object_id() }, doc! { "createdAt": -1, "_id": -1 })
            .await?;
        let requests = docs.iter().map(request_from_doc).collect::<Result<Vec<_>>>()?;
        let receivers: Vec<UserId> = requests.iter().map(|r| r.to_user_id).collect();
        let profiles = self.users_by_id(&receivers).await?;
        Ok(requests
            .into_iter()
            .filter_map(|r| {
                // Cloned, not taken: a filed rejection and its renewal share a receiver.
                let to = profiles.get(&r.to_user_id)?.clone();
                let from = r.from_user_id;
                Some(r.with_parties(from, to))
            })
            .collect())
    }

    async fn connections(&self, me: UserId) -> Result<Vec<Profile>> {
        let docs = find_all(&self.requests, accepted_with(me), doc! { "updatedAt": -1 }).await?;
        let mut others = docs
            .iter()
            .map(|d| request_from_doc(d).map(|r| (r.updated_at, other_party(&r, me))))
            .collect::<Result<Vec<_>>>()?;
        others.sort_by(|a, b| b.cmp(a));
        let ids: Vec<UserId> = others.iter().map(|(_, id)| *id).collect();
        let mut profiles = self.users_by_id(&ids).await?;
        Ok(ids.iter().filter_map(|id| profiles.remove(id)).collect())
    }

    async fn connection_ids(&self, me: UserId) -> Result<Vec<UserId>> {
        let docs = self
            .requests
            .find(accepted_with(me))
            .projection(doc! { "fromUserId": 1, "toUserId": 1 })
            .await
            .map_err(db_err)?
            .try_collect::<Vec<Document>>()
            .await
            .map_err(db_err)?;
        docs.iter()
            .map(|d| {
                let from = UserId::from(oid(d, "fromUserId")?);
                Ok(if from == me { UserId::from(oid(d, "toUserId")?) } else { from })
            })
            .collect()
    }

    async fn are_connected(&self, a: UserId, b: UserId) -> Result<bool> {
        let found = self
            .requests
            .find_one(doc! { "pairKey": pair_key(a, b), "status": RequestStatus::Accepted.as_str() })
            .projection(doc! { "_id": 1 })
            .await
            .map_err(db_err)?;
        Ok(found.is_some())
    }

    async fn delete_request(&self, id: RequestId) -> Result<bool> {
        let filter = doc! { "_id": id.object_id(), "status": { "$in": ["interested", "ignored"] } };
        Ok(self.requests.delete_one(filter).await.map_err(db_err)?.deleted_count > 0)
    }

    async fn delete_connection(&self, a: UserId, b: UserId) -> Result<bool> {
        let deleted = self
            .requests
            .delete_one(doc! { "pairKey": pair_key(a, b), "status": RequestStatus::Accepted.as_str() })
            .await
            .map_err(db_err)?;
        Ok(deleted.deleted_count > 0)
    }
}
