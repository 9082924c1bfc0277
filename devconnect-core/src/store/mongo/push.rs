//! The push aggregate on MongoDB: `pushsubscriptions` (unique `endpoint`),
//! `pushsettings` (`_id` is the user's id) and `pushoutbox` (`_id` is the subscription
//! and topic, so a waiting entry is found and coalesced into by one upsert).
//!
//! Without transactions, removing a subscription removes its entries first and the
//! subscription after; an entry whose subscription is gone anyway (a removal that
//! crashed in between) is dropped when it is claimed.

use async_trait::async_trait;
use bson::oid::ObjectId;
use bson::spec::BinarySubtype;
use bson::{Binary, Bson, Document, doc};
use chrono::{DateTime, Utc};
use devconnect_types::{GroupId, PushSettings, UserId};
use mongodb::options::ReturnDocument;

use super::documents::{bson_time, int, oid, string, time};
use super::error::db_err;
use super::{MongoStore, find_all};
use crate::model::{OutboxEntry, OutboxStats, PushItem, PushSubscriptionRecord, off_bits, settings_from_bits};
use crate::store::PushStore;
use crate::{Error, Result};

fn binary(bytes: &[u8]) -> Binary {
    Binary { subtype: BinarySubtype::Generic, bytes: bytes.to_vec() }
}

fn bytes(d: &Document, key: &str) -> Vec<u8> {
    d.get_binary_generic(key).cloned().unwrap_or_default()
}

fn subscription_doc(s: &PushSubscriptionRecord) -> Document {
    doc! {
        "_id": &s.id,
        "userId": s.user.object_id(),
        "endpoint": &s.endpoint,
        "p256dh": binary(&s.p256dh),
        "auth": binary(&s.auth),
        "tokenId": &s.token_id,
        "createdAt": bson_time(s.created_at),
    }
}

fn subscription_from_doc(d: &Document) -> Result<PushSubscriptionRecord> {
    Ok(PushSubscriptionRecord {
        id: string(d, "_id").unwrap_or_default(),
        user: oid(d, "userId")?.into(),
        endpoint: string(d, "endpoint").unwrap_or_default(),
        p256dh: bytes(d, "p256dh"),
        auth: bytes(d, "auth"),
        token_id: string(d, "tokenId").unwrap_or_default(),
        created_at: time(d, "createdAt").ok_or_else(|| Error::internal("stored subscription: no creation time"))?,
    })
}

fn entry_key(subscription: &str, topic: &str) -> Document {
    doc! { "s": subscription, "t": topic }
}

impl MongoStore {
    /// Removes the subscriptions matching `filter` and their waiting entries; how many.
    async fn remove_subscriptions(&self, filter: Document) -> Result<u64> {
        let ids: Vec<String> = find_all(&self.push_subscriptions, filter, doc! {})
            .await?
            .iter()
            .filter_map(|d| string(d, "_id"))
            .collect();
        if ids.is_empty() {
            return Ok(0);
        }
        self.push_outbox.delete_many(doc! { "subId": { "$in": &ids } }).await.map_err(db_err)?;
        let removed = self.push_subscriptions.delete_many(doc! { "_id": { "$in": &ids } }).await.map_err(db_err)?;
        Ok(removed.deleted_count)
    }

    /// Deletes everything push of `user` (an erased account).
    pub(super) async fn erase_push(&self, user: UserId) -> Result<()> {
        self.remove_subscriptions(doc! { "userId": user.object_id() }).await?;
        self.push_settings.delete_one(doc! { "_id": user.object_id() }).await.map_err(db_err).map(drop)
    }
}

fn settings_from_doc(d: Option<&Document>) -> PushSettings {
    let Some(d) = d else { return PushSettings::default() };
    let muted_groups = d
        .get_array("mutedGroups")
        .map(|a| a.iter().filter_map(Bson::as_object_id).map(GroupId::from).collect())
        .unwrap_or_default();
    let off = u32::try_from(int(d, "off").unwrap_or(0)).unwrap_or(0);
    settings_from_bits(off, d.get_bool("previews").unwrap_or(true), muted_groups)
}

/// Whether `settings` (as stored) let `item` through.
fn wants(settings: Option<&Document>, item: &PushItem) -> bool {
    let off = settings.and_then(|d| int(d, "off")).unwrap_or(0);
    let muted = match (settings, item.group) {
        (Some(d), Some(group)) => {
            d.get_array("mutedGroups").is_ok_and(|a| a.iter().any(|g| g.as_object_id() == Some(group.object_id())))
        }
        _ => false,
    };
    off & i64::from(PushItem::kind_bit(item.kind)) == 0 && !muted
}

#[async_trait]
impl PushStore for MongoStore {
    async fn add_push_subscription(&self, subscription: &PushSubscriptionRecord, cap: u32) -> Result<()> {
        self.remove_subscriptions(doc! { "endpoint": &subscription.endpoint }).await?;
        self.push_subscriptions.insert_one(subscription_doc(subscription)).await.map_err(db_err)?;
        let mine = find_all(
            &self.push_subscriptions,
            doc! { "userId": subscription.user.object_id() },
            doc! { "createdAt": -1, "_id": -1 },
        )
        .await?;
        let surplus: Vec<String> =
            mine.iter().skip(usize::try_from(cap).unwrap_or(usize::MAX)).filter_map(|d| string(d, "_id")).collect();
        if !surplus.is_empty() {
            self.remove_subscriptions(doc! { "_id": { "$in": surplus } }).await?;
        }
        Ok(())
    }

    async fn remove_push_subscription(&self, user: UserId, endpoint: &str) -> Result<bool> {
        Ok(self.remove_subscriptions(doc! { "userId": user.object_id(), "endpoint": endpoint }).await? > 0)
    }

    async fn remove_push_subscriptions(&self, user: UserId, token_id: Option<&str>) -> Result<u64> {
        let mut filter = doc! { "userId": user.object_id() };
        if let Some(token) = token_id {
            filter.insert("tokenId", token);
        }
        self.remove_subscriptions(filter).await
    }

    async fn drop_push_subscription(&self, id: &str) -> Result<()> {
        self.remove_subscriptions(doc! { "_id": id }).await.map(drop)
    }

    async fn push_subscriptions(&self, user: UserId) -> Result<Vec<PushSubscriptionRecord>> {
        find_all(&self.push_subscriptions, doc! { "userId": user.object_id() }, doc! { "createdAt": 1, "_id": 1 })
            .await?
            .iter()
            .map(subscription_from_doc)
            .collect()
    }

    async fn push_settings(&self, user: UserId) -> Result<PushSettings> {
        let found = self.push_settings.find_one(doc! { "_id": user.object_id() }).await.map_err(db_err)?;
        let mut settings = settings_from_doc(found.as_ref());
        settings.muted_groups.sort();
        Ok(settings)
    }

    async fn set_push_settings(&self, user: UserId, settings: &PushSettings) -> Result<()> {
        let off = i64::from(off_bits(settings));
        // Sorted and without repeats already (`DevConnect::update_push_settings`).
        let muted: Vec<ObjectId> = settings.muted_groups.iter().map(|g| g.object_id()).collect();
        let set = doc! { "$set": { "off": off, "previews": settings.previews, "mutedGroups": muted } };
        self.push_settings.update_one(doc! { "_id": user.object_id() }, set).upsert(true).await.map_err(db_err)?;
        Ok(())
    }

    async fn enqueue_push(
        &self,
        users: &[UserId],
        item: &PushItem,
        due_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<u64> {
        if users.is_empty() {
            return Ok(0);
        }
        let ids: Vec<ObjectId> = users.iter().map(|u| u.object_id()).collect();
        // Most people have no subscription: one indexed read finds those who do.
        let subscriptions = find_all(&self.push_subscriptions, doc! { "userId": { "$in": &ids } }, doc! {}).await?;
        if subscriptions.is_empty() {
            return Ok(0);
        }
        let holders: Vec<ObjectId> = subscriptions.iter().filter_map(|d| d.get_object_id("userId").ok()).collect();
        let settings = find_all(&self.push_settings, doc! { "_id": { "$in": holders } }, doc! {}).await?;
        let item_doc = bson::to_document(item).map_err(Error::internal)?;
        let mut written = 0;
        for sub in &subscriptions {
            let user = sub.get_object_id("userId").ok();
            let mine = settings.iter().find(|d| d.get_object_id("_id").ok() == user);
            let Some(id) = string(sub, "_id").filter(|_| wants(mine, item)) else { continue };
            let upsert = doc! {
                "$set": { "item": &item_doc },
                "$inc": { "count": 1_i64, "version": 1_i64 },
                "$setOnInsert": { "subId": &id, "attempts": 0_i64, "dueAt": bson_time(due_at), "createdAt": bson_time(now) },
            };
            self.push_outbox
                .update_one(doc! { "_id": entry_key(&id, &item.topic) }, upsert)
                .upsert(true)
                .await
                .map_err(db_err)?;
            written += 1;
        }
        Ok(written)
    }

    async fn claim_pushes(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<OutboxEntry>> {
        let mut claimed = Vec::new();
        while claimed.len() < usize::try_from(limit).unwrap_or(usize::MAX) {
            let Some(entry) = self
                .push_outbox
                .find_one_and_update(
                    doc! { "dueAt": { "$lte": bson_time(now) } },
                    doc! { "$set": { "dueAt": bson_time(lease_until) } },
                )
                .sort(doc! { "dueAt": 1 })
                .return_document(ReturnDocument::After)
                .await
                .map_err(db_err)?
            else {
                break;
            };
            let sub_id = string(&entry, "subId").unwrap_or_default();
            let Some(subscription) = self.push_subscriptions.find_one(doc! { "_id": &sub_id }).await.map_err(db_err)?
            else {
                // Its subscription went, in a removal that did not get to its entries.
                self.push_outbox.delete_one(doc! { "_id": entry.get("_id").cloned() }).await.map_err(db_err)?;
                continue;
            };
            let item = entry.get_document("item").map_err(Error::internal)?;
            claimed.push(OutboxEntry {
                subscription: subscription_from_doc(&subscription)?,
                item: bson::from_document(item.clone()).map_err(Error::internal)?,
                count: u32::try_from(int(&entry, "count").unwrap_or(1)).unwrap_or(u32::MAX),
                version: int(&entry, "version").unwrap_or(0),
                attempts: u32::try_from(int(&entry, "attempts").unwrap_or(0)).unwrap_or(u32::MAX),
                created_at: time(&entry, "createdAt").unwrap_or(now),
            });
        }
        Ok(claimed)
    }

    async fn finish_push(&self, subscription: &str, topic: &str, version: i64, next_due: DateTime<Utc>) -> Result<()> {
        let key = entry_key(subscription, topic);
        let deleted =
            self.push_outbox.delete_one(doc! { "_id": &key, "version": version }).await.map_err(db_err)?.deleted_count;
        if deleted == 0 {
            let due = doc! { "$set": { "dueAt": bson_time(next_due), "attempts": 0_i64 } };
            self.push_outbox.update_one(doc! { "_id": key }, due).await.map_err(db_err)?;
        }
        Ok(())
    }

    async fn retry_push(&self, subscription: &str, topic: &str, due_at: DateTime<Utc>, attempts: u32) -> Result<()> {
        let set = doc! { "$set": { "dueAt": bson_time(due_at), "attempts": i64::from(attempts) } };
        self.push_outbox.update_one(doc! { "_id": entry_key(subscription, topic) }, set).await.map_err(db_err)?;
        Ok(())
    }

    async fn push_outbox_stats(&self) -> Result<OutboxStats> {
        let depth = self.push_outbox.count_documents(doc! {}).await.map_err(db_err)?;
        let oldest = self.push_outbox.find_one(doc! {}).sort(doc! { "createdAt": 1 }).await.map_err(db_err)?;
        Ok(OutboxStats { depth, oldest: oldest.and_then(|d| time(&d, "createdAt")) })
    }
}
