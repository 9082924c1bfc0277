//! The schema at open: indexes, created in an order that lets each backfill use one,
//! and backfills of our fields into documents the original DevConnect wrote (these are
//! the store's migrations).

use std::time::Duration;

use bson::oid::ObjectId;
use bson::{Bson, Document, doc};
use futures_util::TryStreamExt as _;
use mongodb::options::IndexOptions;
use mongodb::{Collection, IndexModel};

use super::documents::{legacy_oid, oid, skill_keys, string, strings};
use super::error::{db_err, error_code, is_duplicate_key};
use super::{MESSAGES, MongoStore, REQUESTS};
use crate::store::pair_key;
use crate::{Error, Result, UserId};

/// Legacy documents are backfilled in batches of this many.
const BACKFILL_BATCH: i64 = 500;

/// An index with these keys exists under another name (`IndexOptionsConflict`).
const INDEX_OPTIONS_CONFLICT: i32 = 85;
/// An index with this name exists with other keys or options (`IndexKeySpecsConflict`).
const INDEX_KEY_SPECS_CONFLICT: i32 = 86;

impl MongoStore {
    /// Indexes and backfills, in an order that lets each backfill use an index and
    /// creates each unique index only once the field it covers is filled in.
    pub(super) async fn prepare(&self) -> Result<()> {
        // users: one account per email (the original had this index too, same name).
        ensure_index(&self.users, doc! { "emailID": 1 }, unique()).await?;
        ensure_index(&self.users, doc! { "skillKeys": 1, "_id": -1 }, IndexOptions::default()).await?;
        self.backfill_skill_keys().await?;
        // Developer search: the keyword array (see `search`), newest first within a key.
        ensure_index(&self.users, doc! { "searchKeys": 1, "_id": -1 }, IndexOptions::default()).await?;
        backfill(&self.users, "searchKeys", "search keys of users", super::search::search_keys_of).await?;

        // connectionrequests: one per unordered pair, enforced by the database.
        self.backfill_pair_keys().await?;
        ensure_index(&self.requests, doc! { "pairKey": 1 }, unique()).await?;
        ensure_index(&self.requests, doc! { "toUserId": 1, "status": 1 }, IndexOptions::default()).await?;
        ensure_index(&self.requests, doc! { "fromUserId": 1, "status": 1 }, IndexOptions::default()).await?;
        // Engagement analytics: range scans by day.
        ensure_index(&self.requests, doc! { "createdAt": 1 }, IndexOptions::default()).await?;
        ensure_index(&self.requests, doc! { "status": 1, "updatedAt": 1 }, IndexOptions::default()).await?;
        ensure_index(&self.messages, doc! { "createdAt": 1 }, IndexOptions::default()).await?;

        // messages: conversation pages, per-user catch-up, unread counts, idempotency.
        ensure_index(&self.messages, doc! { "convKey": 1, "seq": 1 }, IndexOptions::default()).await?;
        ensure_index(&self.messages, doc! { "senderId": 1, "seq": 1 }, IndexOptions::default()).await?;
        ensure_index(&self.messages, doc! { "receiverId": 1, "seq": 1 }, IndexOptions::default()).await?;
        ensure_index(&self.messages, doc! { "receiverId": 1, "senderId": 1, "readAt": 1 }, IndexOptions::default())
            .await?;
        ensure_index(
            &self.messages,
            doc! { "seq": 1 },
            IndexOptions::builder().unique(true).partial_filter_expression(doc! { "seq": { "$exists": true } }).build(),
        )
        .await?;
        ensure_index(
            &self.messages,
            doc! { "senderId": 1, "receiverId": 1, "clientMsgId": 1 },
            IndexOptions::builder()
                .unique(true)
                .partial_filter_expression(doc! { "clientMsgId": { "$exists": true } })
                .build(),
        )
        .await?;
        self.backfill_message_positions().await?;

        ensure_index(&self.conversations, doc! { "userId": 1, "lastSeq": -1 }, IndexOptions::default()).await?;
        // groupmembers: one membership per person and group; a person's groups; seniority.
        ensure_index(&self.group_members, doc! { "groupId": 1, "userId": 1 }, unique()).await?;
        ensure_index(&self.group_members, doc! { "userId": 1 }, IndexOptions::default()).await?;
        ensure_index(&self.group_members, doc! { "groupId": 1, "joinedAt": 1, "userId": 1 }, IndexOptions::default())
            .await?;
        // groups: public ones by latest activity; by keys (name words, tags).
        ensure_index(
            &self.groups,
            doc! { "visibility": 1, "archived": 1, "lastSeq": -1, "_id": -1 },
            IndexOptions::default(),
        )
        .await?;
        ensure_index(&self.groups, doc! { "keys": 1 }, IndexOptions::default()).await?;
        backfill(&self.groups, "keys", "keys of groups", |group| {
            Ok(crate::model::group_keys(&string(group, "name").unwrap_or_default(), &strings(group, "tags")).into())
        })
        .await?;
        // groupwindows: a person's windows, for catch-up.
        ensure_index(&self.group_windows, doc! { "userId": 1 }, IndexOptions::default()).await?;
        // blocks: one per blocker and blocked; by pair (feed, checks); a person's blockers.
        ensure_index(&self.blocks, doc! { "blockerId": 1, "blockedId": 1 }, unique()).await?;
        ensure_index(&self.blocks, doc! { "pairKey": 1 }, IndexOptions::default()).await?;
        ensure_index(&self.blocks, doc! { "blockedId": 1, "blockerId": 1 }, IndexOptions::default()).await?;
        // reports: one open report per reporter and target; the queue; a reporter's own.
        ensure_index(
            &self.reports,
            doc! { "reporterId": 1, "targetId": 1 },
            IndexOptions::builder().unique(true).partial_filter_expression(doc! { "status": "open" }).build(),
        )
        .await?;
        ensure_index(&self.reports, doc! { "status": 1, "_id": 1 }, IndexOptions::default()).await?;
        // audit: recent actions, which every instance polls for suspensions.
        ensure_index(&self.audit, doc! { "at": 1 }, IndexOptions::default()).await?;
        // push: one subscription per endpoint; a person's, oldest first; the due outbox.
        ensure_index(&self.push_subscriptions, doc! { "endpoint": 1 }, unique()).await?;
        ensure_index(&self.push_subscriptions, doc! { "userId": 1, "createdAt": 1 }, IndexOptions::default()).await?;
        ensure_index(&self.push_outbox, doc! { "dueAt": 1 }, IndexOptions::default()).await?;
        ensure_index(&self.push_outbox, doc! { "subId": 1 }, IndexOptions::default()).await?;
        // Revocations matter only until the token expires anyway; MongoDB deletes them then.
        ensure_index(
            &self.revoked,
            doc! { "expiresAt": 1 },
            IndexOptions::builder().expire_after(Duration::ZERO).build(),
        )
        .await
    }

    /// Gives users written by the original DevConnect the lower-cased skill keys the feed
    /// filter matches on.
    async fn backfill_skill_keys(&self) -> Result<()> {
        backfill(&self.users, "skillKeys", "skill keys of legacy users", |user| {
            Ok(skill_keys(&strings(user, "skills")).into())
        })
        .await
    }

    /// Gives requests written by the original DevConnect their `pairKey`, so the unique
    /// index can cover them.
    async fn backfill_pair_keys(&self) -> Result<()> {
        backfill(&self.requests, "pairKey", "pair keys of legacy connection requests", |request| {
            let id = oid(request, "_id")?;
            let from = UserId::from(legacy_oid(REQUESTS, request, id, "fromUserId")?);
            let to = UserId::from(legacy_oid(REQUESTS, request, id, "toUserId")?);
            Ok(pair_key(from, to).into())
        })
        .await
    }

    /// Gives messages written by the original DevConnect (no `convKey`/`seq`) their
    /// conversation and a position, in `_id` (that is, creation) order, after every
    /// position already assigned; and records them in the chat partner list.
    async fn backfill_message_positions(&self) -> Result<()> {
        let mut filled = 0u64;
        loop {
            let batch: Vec<Document> = self
                .messages
                .find(doc! { "convKey": { "$exists": false } })
                .sort(doc! { "_id": 1 })
                .limit(BACKFILL_BATCH)
                .await
                .map_err(db_err)?
                .try_collect()
                .await
                .map_err(db_err)?;
            if batch.is_empty() {
                break;
            }
            let first = self.highest_position().await.map_err(db_err)? + 1;
            for (seq, message) in (first..).zip(batch) {
                let id = oid(&message, "_id")?;
                let sender = UserId::from(legacy_oid(MESSAGES, &message, id, "senderId")?);
                let receiver = UserId::from(legacy_oid(MESSAGES, &message, id, "receiverId")?);
                self.messages
                    .update_one(
                        doc! { "_id": id, "convKey": { "$exists": false } },
                        doc! { "$set": { "convKey": pair_key(sender, receiver), "seq": seq } },
                    )
                    .await
                    .map_err(db_err)?;
                self.record_conversation(sender, receiver, seq, id).await?;
                filled += 1;
            }
        }
        if filled > 0 {
            tracing::info!(messages = filled, "backfilled positions of legacy messages");
        }
        Ok(())
    }
}

fn unique() -> IndexOptions {
    IndexOptions::builder().unique(true).build()
}

/// Creates an index unless an equivalent one exists. Indexes keep the driver's default
/// names (`emailID_1`, ...), the names Mongoose gave the original's indexes, so an
/// existing index is recognised rather than duplicated.
async fn ensure_index(coll: &Collection<Document>, keys: Document, options: IndexOptions) -> Result<()> {
    let is_unique = options.unique == Some(true);
    let model = IndexModel::builder().keys(keys.clone()).options(options).build();
    match coll.create_index(model).await {
        Ok(_) => Ok(()),
        Err(e) if is_duplicate_key(&e) => {
            let field = keys.keys().next().map_or("", String::as_str);
            let examples = duplicates(coll, &keys).await.unwrap_or_else(|_| "unknown".to_owned());
            Err(Error::internal(format!(
                "cannot create the unique index {keys} on {}: existing documents share a `{field}`: \
                 {examples}; remove the extra documents and start again",
                coll.name()
            )))
        }
        Err(e) if matches!(error_code(&e), Some(INDEX_OPTIONS_CONFLICT | INDEX_KEY_SPECS_CONFLICT)) => {
            if is_unique {
                Err(Error::internal(format!(
                    "an index on {keys} of {} exists with other options; DevConnect needs it unique: {e}",
                    coll.name()
                )))
            } else {
                // An equivalent index under another name serves the same queries.
                tracing::warn!(collection = coll.name(), keys = %keys, error = %e, "keeping an existing index");
                Ok(())
            }
        }
        Err(e) => Err(db_err(e)),
    }
}

/// Up to ten groups of documents sharing the values of `keys`, with their ids, for the
/// startup error. (Grouped with `$sum` only, then each group's ids found: jongodb has no
/// `$push`.)
async fn duplicates(coll: &Collection<Document>, keys: &Document) -> Result<String> {
    let group_id = match keys.keys().collect::<Vec<_>>()[..] {
        [single] => Bson::String(format!("${single}")),
        _ => Bson::Document(keys.keys().map(|k| (k.clone(), Bson::String(format!("${k}")))).collect()),
    };
    let groups: Vec<Document> = coll
        .aggregate([
            doc! { "$group": { "_id": group_id, "n": { "$sum": 1 } } },
            doc! { "$match": { "n": { "$gt": 1 } } },
            doc! { "$limit": 10 },
        ])
        .await
        .map_err(db_err)?
        .try_collect()
        .await
        .map_err(db_err)?;
    let mut found = Vec::new();
    for group in &groups {
        let value = group.get("_id").cloned().unwrap_or(Bson::Null);
        let filter = match (&value, keys.keys().next()) {
            (Bson::Document(d), _) => d.clone(),
            (v, Some(key)) => doc! { key: v.clone() },
            (_, None) => continue,
        };
        let ids: Vec<String> = coll
            .find(filter)
            .projection(doc! { "_id": 1 })
            .limit(20)
            .await
            .map_err(db_err)?
            .try_collect::<Vec<Document>>()
            .await
            .map_err(db_err)?
            .iter()
            .map(|d| {
                d.get("_id")
                    .map_or_else(String::new, |id| id.as_object_id().map_or_else(|| id.to_string(), ObjectId::to_hex))
            })
            .collect();
        found.push(format!("{value} in documents {}", ids.join(", ")));
    }
    Ok(found.join("; "))
}

/// Sets `field` on every document of `collection` that lacks it (documents written by
/// the original DevConnect), computed from the document; logs how many it filled.
async fn backfill(
    collection: &Collection<Document>,
    field: &str,
    what: &str,
    value: impl Fn(&Document) -> Result<Bson>,
) -> Result<()> {
    let mut missing = Document::new();
    missing.insert(field, doc! { "$exists": false });
    let mut filled = 0u64;
    loop {
        let batch: Vec<Document> = collection
            .find(missing.clone())
            .limit(BACKFILL_BATCH)
            .await
            .map_err(db_err)?
            .try_collect()
            .await
            .map_err(db_err)?;
        if batch.is_empty() {
            break;
        }
        for document in batch {
            let mut filter = missing.clone();
            filter.insert("_id", oid(&document, "_id")?);
            let mut set = Document::new();
            set.insert(field, value(&document)?);
            collection.update_one(filter, doc! { "$set": set }).await.map_err(db_err)?;
            filled += 1;
        }
    }
    if filled > 0 {
        tracing::info!(count = filled, "backfilled {what}");
    }
    Ok(())
}
