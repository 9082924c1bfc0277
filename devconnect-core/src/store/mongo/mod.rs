//! The MongoDB store, compatible with the database of the original (Node/Mongoose)
//! DevConnect so an existing deployment can point this server at it.
//!
//! Collections and fields are the original's: `users` (`firstName`, `lastName`,
//! `emailID`, `password`, `age`, `gender`, `photoURL`, `about`, `skills`, `createdAt`,
//! `updatedAt`), `connectionrequests` (`fromUserId`, `toUserId`, `status`) and `messages`
//! (`senderId`, `receiverId`, `text`, `image`). Fields of ours are additive and every
//! reader tolerates their absence (and Mongoose's `__v`):
//!
//! - `users.tokenVersion` (missing = 0) and `users.skillKeys` (lower-cased skills for the
//!   feed filter, backfilled at open);
//! - `connectionrequests.pairKey` (the unordered pair, unique: one request per pair even
//!   under concurrent sends; backfilled at open) and `note`;
//! - `messages.convKey` and `seq` (the conversation and the server-assigned position,
//!   backfilled at open in `_id` order), `clientMsgId` and `readAt`;
//! - collections of our own: `conversations`
//!   (one document per participant and partner, for the chat partner list) and
//!   `revokedtokens` (logged-out token ids, removed by a TTL index once expired), `groups`
//!   (with `memberCount`, which reserves a seat before a member is written),
//!   `groupmembers` (one document per member, unique per group and user) and
//!   `groupwindows` (each member's window on a group's history and read position, kept
//!   after they leave; `_id` is the user's and the group's ids), `blocks` (one
//!   document per blocker and blocked, with the pair's `pairKey`) and `reports` (with
//!   the reported content's `snapshot`), `audit` (the operators' actions),
//!   `pushsubscriptions`, `pushsettings` and `pushoutbox` (push notifications, see
//!   `push`); and
//!   `users.suspendedAt`, set while an operator suspends the account, and
//!   `users.deletedAt`, set on an erased account (its other fields scrubbed);
//! - group messages are in `messages` too, so they share its positions: `receiverId`
//!   and `convKey` are the group's id, `groupId` marks them, `change` holds a system
//!   message's change.
//!
//! A message's position is one past the highest stored position, and a unique index on
//! positions refuses a position taken twice (the loser takes the next). So a position
//! is only ever taken once every lower one is visible, and a `sync` cursor can never
//! pass a message that appears later — across any number of server instances, on a
//! standalone server or a replica set, without transactions.
//!
//! Writes use `w: majority, j: true` unless the URL sets a write concern, so a write
//! acknowledged to a client survives a crash. A server that cannot be reached (down,
//! partitioned, electing) gives [`Error::Unavailable`](crate::Error::Unavailable), any
//! other driver failure [`Error::Internal`](crate::Error::Internal), both logged; the
//! driver reconnects by itself when the server comes back, so a store outlives an outage.
//!
//! Files: `connect` (URL, client options, opening), `schema` (indexes and backfills, run
//! at open), `documents` (document mapping), `error` (error mapping), and one per
//! aggregate of the seam (`users`, `requests`, `chat`, `groups`, `safety`, `analytics`,
//! `push`), and
//! `search` (the keyword array developer search matches on).

mod analytics;
mod chat;
mod connect;
mod documents;
mod error;
mod groups;
mod push;
mod requests;
mod safety;
mod schema;
mod search;
#[cfg(test)]
mod tests;
mod users;

use std::collections::HashSet;

use async_trait::async_trait;
use bson::{Document, doc};
use futures_util::TryStreamExt as _;
use mongodb::{Client, Collection, Database};

use self::error::db_err;
use super::Store;
use crate::Result;

/// The database used when the URL names none.
pub const DEFAULT_DATABASE: &str = "devconnect";

const USERS: &str = "users";
const REQUESTS: &str = "connectionrequests";
const MESSAGES: &str = "messages";
const CONVERSATIONS: &str = "conversations";
const REVOKED: &str = "revokedtokens";
const GROUPS: &str = "groups";
const GROUP_MEMBERS: &str = "groupmembers";
const GROUP_WINDOWS: &str = "groupwindows";
const BLOCKS: &str = "blocks";
const REPORTS: &str = "reports";
const AUDIT: &str = "audit";
const PUSH_SUBSCRIPTIONS: &str = "pushsubscriptions";
const PUSH_SETTINGS: &str = "pushsettings";
const PUSH_OUTBOX: &str = "pushoutbox";

/// The MongoDB store. Cheap to share behind the `Arc<dyn Store>` the service holds; the
/// driver's `Client` pools connections itself.
pub struct MongoStore {
    client: Client,
    db: Database,
    users: Collection<Document>,
    requests: Collection<Document>,
    messages: Collection<Document>,
    conversations: Collection<Document>,
    revoked: Collection<Document>,
    groups: Collection<Document>,
    group_members: Collection<Document>,
    group_windows: Collection<Document>,
    blocks: Collection<Document>,
    reports: Collection<Document>,
    audit: Collection<Document>,
    push_subscriptions: Collection<Document>,
    push_settings: Collection<Document>,
    push_outbox: Collection<Document>,
    /// Held from taking a message position to storing the message (see `insert_message`).
    insert_order: tokio::sync::Mutex<()>,
}

#[async_trait]
impl Store for MongoStore {
    async fn ping(&self) -> Result<()> {
        self.db.run_command(doc! { "ping": 1 }).await.map(drop).map_err(db_err)
    }

    async fn close(&self) -> Result<()> {
        // Ends the driver's monitoring tasks and pooled connections; without it the
        // driver can panic when the runtime shuts down under a live client.
        self.client.clone().shutdown().await;
        Ok(())
    }
}

/// Every document of `coll` matching `filter`, in `sort` order.
async fn find_all(coll: &Collection<Document>, filter: Document, sort: Document) -> Result<Vec<Document>> {
    coll.find(filter).sort(sort).await.map_err(db_err)?.try_collect().await.map_err(db_err)
}

/// The ObjectId field `key` of every document of `coll` matching `filter`, in no
/// particular order; the server sends only that field (jongodb sends whole documents).
async fn ids_of(coll: &Collection<Document>, filter: Document, key: &str) -> Result<Vec<bson::oid::ObjectId>> {
    let mut projection = Document::new();
    projection.insert(key, 1);
    let docs: Vec<Document> =
        coll.find(filter).projection(projection).await.map_err(db_err)?.try_collect().await.map_err(db_err)?;
    docs.iter().map(|d| documents::oid(d, key)).collect()
}

/// Those of the pair keys `keys` that have a document in `coll` (requests or blocks,
/// both keyed by `pairKey`): one indexed lookup for a whole batch of candidates.
async fn pair_keys_in(coll: &Collection<Document>, keys: &[String]) -> Result<HashSet<String>> {
    if keys.is_empty() {
        return Ok(HashSet::new());
    }
    let found: Vec<Document> = coll
        .find(doc! { "pairKey": { "$in": keys } })
        .projection(doc! { "pairKey": 1 })
        .await
        .map_err(db_err)?
        .try_collect()
        .await
        .map_err(db_err)?;
    Ok(found.iter().filter_map(|d| documents::string(d, "pairKey")).collect())
}

/// At most `limit` documents of `coll` matching `filter`, in `sort` order.
async fn find_page(coll: &Collection<Document>, filter: Document, sort: Document, limit: u32) -> Result<Vec<Document>> {
    coll.find(filter).sort(sort).limit(i64::from(limit)).await.map_err(db_err)?.try_collect().await.map_err(db_err)
}

/// The result of `pipeline` on `coll`, whole.
async fn aggregate(coll: &Collection<Document>, pipeline: Vec<Document>) -> Result<Vec<Document>> {
    coll.aggregate(pipeline).await.map_err(db_err)?.try_collect().await.map_err(db_err)
}
