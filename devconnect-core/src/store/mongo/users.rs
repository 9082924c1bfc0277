//! The users aggregate on MongoDB: accounts, credentials, profiles and the feed.

use std::collections::HashMap;

use async_trait::async_trait;
use bson::oid::ObjectId;
use bson::{Document, doc};
use chrono::{DateTime, Utc};
use devconnect_types::profile::DELETED_NAME;
use devconnect_types::{Profile, UserId};
use futures_util::TryStreamExt as _;
use mongodb::options::ReturnDocument;

use super::documents::{
    bson_time, int, is_deleted, is_suspended, profile_projection, request_from_doc, skill_keys, string, user_doc,
    user_from_doc,
};
use super::error::{db_err, is_duplicate_key};
use super::requests::{accepted_with, other_party};
use super::{MongoStore, find_all, pair_keys_in};
use crate::model::{AuthState, Erased, FeedFilter, ProfileUpdate, SearchFilter, SearchHit, UserRecord};
use crate::store::{UserStore, pair_key};
use crate::{Error, Result};

/// The feed reads candidates in batches of at least / at most this many.
const FEED_BATCH_MIN: i64 = 20;
const FEED_BATCH_MAX: i64 = 500;

impl MongoStore {
    /// The profiles of the newest `limit` users matching `filter` (newest first): one
    /// batch of the feed's and the search's keyset walks.
    pub(super) async fn newest_profiles(&self, filter: Document, limit: i64) -> Result<Vec<Profile>> {
        let docs: Vec<Document> = self
            .users
            .find(filter)
            .sort(doc! { "_id": -1 })
            .limit(limit)
            .projection(profile_projection())
            .await
            .map_err(db_err)?
            .try_collect()
            .await
            .map_err(db_err)?;
        docs.iter().map(|d| user_from_doc(d).map(|u| u.me.profile)).collect()
    }

    pub(super) async fn users_by_id(&self, ids: &[UserId]) -> Result<HashMap<UserId, Profile>> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let ids: Vec<ObjectId> = ids.iter().map(|id| id.object_id()).collect();
        let docs: Vec<Document> = self
            .users
            .find(doc! { "_id": { "$in": ids } })
            .projection(profile_projection())
            .await
            .map_err(db_err)?
            .try_collect()
            .await
            .map_err(db_err)?;
        docs.iter().map(|d| user_from_doc(d).map(|u| (u.me.profile.id, u.me.profile))).collect()
    }
}

#[async_trait]
impl UserStore for MongoStore {
    async fn insert_user(&self, user: &UserRecord) -> Result<()> {
        self.users.insert_one(user_doc(user)).await.map(drop).map_err(|e| match db_err(e) {
            Error::Conflict(_) => Error::Conflict("email already registered"),
            other => other,
        })
    }

    async fn user(&self, id: UserId) -> Result<Option<UserRecord>> {
        let found = self.users.find_one(doc! { "_id": id.object_id() }).await.map_err(db_err)?;
        found.as_ref().map(user_from_doc).transpose()
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<UserRecord>> {
        let found = self.users.find_one(doc! { "emailID": email }).await.map_err(db_err)?;
        found.as_ref().map(user_from_doc).transpose()
    }

    async fn update_profile(
        &self,
        id: UserId,
        update: &ProfileUpdate,
        now: DateTime<Utc>,
    ) -> Result<Option<UserRecord>> {
        let ProfileUpdate { first_name, last_name, age, gender, about, skills, photo_url, location, experience_years } =
            update;
        let mut set = doc! { "updatedAt": bson_time(now) };
        let mut unset = Document::new();
        if let Some(v) = first_name {
            set.insert("firstName", v);
        }
        if let Some(v) = last_name {
            set.insert("lastName", v);
        }
        if let Some(v) = age {
            set.insert("age", i32::from(*v));
        }
        if let Some(v) = gender {
            set.insert("gender", v.as_str());
        }
        if let Some(v) = about {
            set.insert("about", v);
        }
        if let Some(v) = skills {
            set.insert("skills", v);
            set.insert("skillKeys", skill_keys(v));
        }
        if let Some(v) = photo_url {
            set.insert("photoURL", v);
        }
        match location {
            Some(Some(v)) => {
                set.insert("location", v);
            }
            Some(None) => {
                unset.insert("location", "");
            }
            None => {}
        }
        if let Some(v) = experience_years {
            set.insert("experienceYears", i32::from(*v));
        }
        let mut change = doc! { "$set": set };
        if !unset.is_empty() {
            change.insert("$unset", unset);
        }
        let reindex = update.touches_search();
        if reindex {
            // Orders this edit's search keys against a concurrent one's (see `search`).
            change.insert("$inc", doc! { "searchVersion": 1_i64 });
        }
        let updated = self
            .users
            .find_one_and_update(doc! { "_id": id.object_id() }, change)
            .return_document(ReturnDocument::After)
            .await
            .map_err(db_err)?;
        if let (true, Some(after)) = (reindex, &updated) {
            self.reindex(after).await?;
        }
        updated.as_ref().map(user_from_doc).transpose()
    }

    async fn set_password(&self, id: UserId, password_hash: &str) -> Result<i64> {
        let updated = self
            .users
            .find_one_and_update(
                doc! { "_id": id.object_id() },
                doc! { "$set": { "password": password_hash }, "$inc": { "tokenVersion": 1_i64 } },
            )
            .return_document(ReturnDocument::After)
            .await
            .map_err(db_err)?
            .ok_or(Error::NotFound("user"))?;
        Ok(int(&updated, "tokenVersion").unwrap_or(0))
    }

    async fn replace_password_hash(&self, id: UserId, old: &str, new: &str) -> Result<bool> {
        let updated = self
            .users
            .update_one(doc! { "_id": id.object_id(), "password": old }, doc! { "$set": { "password": new } })
            .await
            .map_err(db_err)?;
        Ok(updated.modified_count > 0)
    }

    async fn auth_state(&self, id: UserId, token_id: &str) -> Result<Option<AuthState>> {
        let (user, revoked) = tokio::join!(
            self.users
                .find_one(doc! { "_id": id.object_id() })
                .projection(doc! { "tokenVersion": 1, "suspendedAt": 1, "deletedAt": 1 }),
            self.revoked.find_one(doc! { "_id": token_id }).projection(doc! { "_id": 1 }),
        );
        let Some(user) = user.map_err(db_err)?.filter(|u| !is_deleted(u)) else { return Ok(None) };
        let revoked = revoked.map_err(db_err)?.is_some();
        let (token_version, suspended) = (int(&user, "tokenVersion").unwrap_or(0), is_suspended(&user));
        Ok(Some(AuthState { token_version, revoked, suspended }))
    }

    async fn revoke_token(&self, id: UserId, token_id: &str, expires_at: DateTime<Utc>) -> Result<()> {
        let revocation = doc! { "_id": token_id, "userId": id.object_id(), "expiresAt": bson_time(expires_at) };
        match self.revoked.insert_one(revocation).await {
            // Revoked already: logging out twice is not an error.
            Err(e) if is_duplicate_key(&e) => Ok(()),
            other => other.map(drop).map_err(db_err),
        }
    }

    async fn erase_user(&self, id: UserId, now: DateTime<Utc>) -> Result<Option<Erased>> {
        // Marked deleted first (no token works from then on), then scrubbed, then
        // unlinked: a crash in between leaves a dead account, which erasing again
        // finishes. The first deletion's time stays.
        let me = id.object_id();
        let mark = doc! { "$set": { "deletedAt": bson_time(now) } };
        self.users.update_one(doc! { "_id": me, "deletedAt": null }, mark).await.map_err(db_err)?;
        let scrub = doc! {
            "$set": {
                "firstName": DELETED_NAME, "lastName": "", "emailID": format!("deleted:{id}"), "password": "",
                "about": "", "skills": [], "skillKeys": [], "searchKeys": [], "updatedAt": bson_time(now),
            },
            "$unset": { "age": "", "gender": "", "photoURL": "", "location": "", "experienceYears": "" },
            "$inc": { "tokenVersion": 1_i64, "searchVersion": 1_i64 },
        };
        let Some(before) = self
            .users
            .find_one_and_update(doc! { "_id": me }, scrub)
            .return_document(ReturnDocument::Before)
            .await
            .map_err(db_err)?
        else {
            return Ok(None);
        };
        let connections = find_all(&self.requests, accepted_with(id), doc! {})
            .await?
            .iter()
            .map(|r| Ok(other_party(&request_from_doc(r)?, id)))
            .collect::<Result<Vec<_>>>()?;
        let links = [
            (&self.requests, doc! { "$or": [{ "fromUserId": me }, { "toUserId": me }] }),
            (&self.blocks, doc! { "$or": [{ "blockerId": me }, { "blockedId": me }] }),
            (&self.revoked, doc! { "userId": me }),
        ];
        for (coll, filter) in links {
            coll.delete_many(filter).await.map_err(db_err)?;
        }
        self.erase_push(id).await?;
        Ok(Some(Erased { connections, photo_url: string(&before, "photoURL").filter(|u| !u.is_empty()) }))
    }

    async fn feed(&self, viewer: UserId, filter: &FeedFilter) -> Result<Vec<Profile>> {
        // Walk users newest first in batches (keyset on `_id`), and drop those that share
        // a request or a block with the viewer by looking up the batch's pair keys in the
        // `pairKey` indexes. Every query is bounded by the batch size, however many
        // requests the viewer has; a `$nin` of the viewer's related ids would ship and
        // scan that whole list on every page. (A single aggregation computing each
        // candidate's pair key for a `$lookup` does the same in one round trip, but needs
        // expression support jongodb lacks, so the tests could not cover it.)
        let me = viewer.object_id();
        let mut to_skip = filter.offset;
        let wanted = usize::try_from(filter.limit).unwrap_or(usize::MAX);
        let mut batch = i64::try_from(filter.offset.saturating_add(u64::from(filter.limit)))
            .unwrap_or(i64::MAX)
            .clamp(FEED_BATCH_MIN, FEED_BATCH_MAX);
        let mut profiles = Vec::new();
        let mut below: Option<ObjectId> = None;
        while profiles.len() < wanted {
            // `null` matches users without the field (never suspended, not deleted).
            let mut query = doc! { "_id": { "$ne": me }, "suspendedAt": null, "deletedAt": null };
            if let Some(last) = below {
                query.insert("_id", doc! { "$ne": me, "$lt": last });
            }
            if !filter.skills.is_empty() {
                query.insert("skillKeys", doc! { "$in": &filter.skills });
            }
            let candidates = self.newest_profiles(query, batch).await?;
            let exhausted = i64::try_from(candidates.len()).unwrap_or(i64::MAX) < batch;
            below = candidates.last().map(|p| p.id.object_id());
            let keys: Vec<String> = candidates.iter().map(|p| pair_key(viewer, p.id)).collect();
            // A request or a block either way keeps a pair out of each other's feed.
            let mut related = pair_keys_in(&self.requests, &keys).await?;
            related.extend(pair_keys_in(&self.blocks, &keys).await?);
            for profile in candidates {
                if related.contains(&pair_key(viewer, profile.id)) {
                    continue;
                }
                if to_skip > 0 {
                    to_skip -= 1;
                } else if profiles.len() < wanted {
                    profiles.push(profile);
                }
            }
            if exhausted {
                break;
            }
            // Many related users among the newest: take bigger steps.
            batch = batch.saturating_mul(2).min(FEED_BATCH_MAX);
        }
        Ok(profiles)
    }

    async fn search_users(&self, viewer: UserId, filter: &SearchFilter) -> Result<Vec<SearchHit>> {
        self.search(viewer, filter).await
    }
}
