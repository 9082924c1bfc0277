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
//!   `revokedtokens` (logged-out token ids, removed by a TTL index once expired).
//!
//! A message's position is one past the highest stored position, and a unique index on
//! positions refuses a position taken twice (the loser takes the next). So a position
//! is only ever taken once every lower one is visible, and a `sync` cursor can never
//! pass a message that appears later — across any number of server instances, on a
//! standalone server or a replica set, without transactions.
//!
//! Writes use `w: majority, j: true` unless the URL sets a write concern, so a write
//! acknowledged to a client survives a crash. A server that cannot be reached (down,
//! partitioned, electing) gives [`Error::Unavailable`], any other driver failure
//! [`Error::Internal`], both logged; the driver reconnects by itself when the server
//! comes back, so a store outlives an outage.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use async_trait::async_trait;
use bson::oid::ObjectId;
use bson::{Bson, Document, doc};
use chrono::{DateTime, Utc};
use devconnect_types::{ConnectionRequest, Gender, Me, Message, MessageId, Profile, RequestId, RequestStatus, UserId};
use futures_util::TryStreamExt as _;
use mongodb::error::{ErrorKind, WriteFailure};
use mongodb::options::{Acknowledgment, ClientOptions, IndexOptions, ReturnDocument, WriteConcern};
use mongodb::{Client, Collection, Database, IndexModel};

use super::{Store, pair_key};
use crate::model::{
    AuthState, EngagementDay, FeedFilter, Inserted, NewMessageRecord, PartnerRecord, ProfileUpdate, UserRecord,
    skill_key,
};
use crate::{Error, Result};

/// The database used when the URL names none.
pub const DEFAULT_DATABASE: &str = "devconnect";

/// How long an operation (and `open`) waits for a reachable server unless the URL says
/// otherwise (`serverSelectionTimeoutMS`): the driver's 30 s default makes a server
/// that is down look like a hang.
const SERVER_SELECTION_TIMEOUT: Duration = Duration::from_secs(10);
/// TCP connect timeout unless the URL sets `connectTimeoutMS`.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The feed reads candidates in batches of at least / at most this many.
const FEED_BATCH_MIN: i64 = 20;
const FEED_BATCH_MAX: i64 = 500;
/// Legacy documents are backfilled in batches of this many.
const BACKFILL_BATCH: i64 = 500;

const USERS: &str = "users";
const REQUESTS: &str = "connectionrequests";
const MESSAGES: &str = "messages";
const CONVERSATIONS: &str = "conversations";
const REVOKED: &str = "revokedtokens";

/// How often a send tries the next position when other instances keep taking it first.
/// Each refusal means another message was stored, so this bounds only starvation.
const POSITION_ATTEMPTS: u32 = 1000;

/// The name of the unique index on message positions (the driver's default name).
const SEQ_INDEX: &str = "seq_1";

/// MongoDB's duplicate key error.
const DUPLICATE_KEY: i32 = 11000;
/// An index with these keys exists under another name (`IndexOptionsConflict`).
const INDEX_OPTIONS_CONFLICT: i32 = 85;
/// An index with this name exists with other keys or options (`IndexKeySpecsConflict`).
const INDEX_KEY_SPECS_CONFLICT: i32 = 86;

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
    /// Held from taking a message position to storing the message (see `insert_message`).
    insert_order: tokio::sync::Mutex<()>,
}

impl MongoStore {
    /// Connects to the `mongodb://` or `mongodb+srv://` `url`, using the database named
    /// in its path (default [`DEFAULT_DATABASE`]); creates the indexes and backfills the
    /// fields of ours into documents written by the original DevConnect.
    ///
    /// Fails within the server selection timeout (10 s unless the URL sets
    /// `serverSelectionTimeoutMS`) when no server answers, and when existing data breaks
    /// a uniqueness rule (e.g. two requests between the same two users), naming it.
    pub async fn open(url: &str) -> Result<Self> {
        let options = parse_options(url).await?;
        let name = options.default_database.clone().unwrap_or_else(|| DEFAULT_DATABASE.to_owned());
        Self::connect(options, &name).await
    }

    /// Like [`MongoStore::open`] but with the database `name`, whatever the URL says.
    pub async fn open_database(url: &str, name: &str) -> Result<Self> {
        Self::connect(parse_options(url).await?, name).await
    }

    async fn connect(mut options: ClientOptions, name: &str) -> Result<Self> {
        options.server_selection_timeout.get_or_insert(SERVER_SELECTION_TIMEOUT);
        options.connect_timeout.get_or_insert(CONNECT_TIMEOUT);
        options.app_name.get_or_insert_with(|| "devconnect".to_owned());
        // Acknowledged by a majority and journaled: what we tell a client is stored
        // survives a crash and a failover. A URL that sets `w`/`journal` wins.
        options
            .write_concern
            .get_or_insert_with(|| WriteConcern::builder().w(Acknowledgment::Majority).journal(true).build());
        let hosts = options.hosts.iter().map(ToString::to_string).collect::<Vec<_>>().join(",");
        let client = Client::with_options(options).map_err(|e| open_error(&hosts, &e))?;
        let db = client.database(name);
        let store = Self {
            users: db.collection(USERS),
            requests: db.collection(REQUESTS),
            messages: db.collection(MESSAGES),
            conversations: db.collection(CONVERSATIONS),
            revoked: db.collection(REVOKED),
            insert_order: tokio::sync::Mutex::new(()),
            db,
            client,
        };
        let prepared = async {
            store.db.run_command(doc! { "ping": 1 }).await.map_err(|e| open_error(&hosts, &e))?;
            store.prepare().await
        }
        .await;
        if let Err(err) = prepared {
            // Stop the driver's background tasks: the store is never returned.
            store.client.clone().shutdown().await;
            return Err(err);
        }
        tracing::info!(hosts = %hosts, database = name, "MongoDB store ready");
        Ok(store)
    }

    /// The database this store uses.
    #[must_use]
    pub fn database(&self) -> &Database {
        &self.db
    }

    /// Indexes and backfills, in an order that lets each backfill use an index and
    /// creates each unique index only once the field it covers is filled in.
    async fn prepare(&self) -> Result<()> {
        // users: one account per email (the original had this index too, same name).
        ensure_index(&self.users, doc! { "emailID": 1 }, unique()).await?;
        ensure_index(&self.users, doc! { "skillKeys": 1, "_id": -1 }, IndexOptions::default()).await?;
        self.backfill_skill_keys().await?;

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

    /// Stores `message` at the next position and returns it, so that a message becomes
    /// visible only after every message with a lower position: a `sync` reader that saw
    /// position n must never later find n - 1 appearing.
    ///
    /// The position is one past the highest stored one, and the unique index on
    /// positions refuses a position another server instance stored first (we then take
    /// the next). A position is thus only ever taken once everything below it is
    /// visible, across any number of instances and without transactions (which a
    /// standalone server lacks). The in-process lock keeps this instance's own senders
    /// from racing each other for the same position.
    async fn insert_at_next_position(&self, mut message: Document) -> mongodb::error::Result<i64> {
        let _ordered = self.insert_order.lock().await;
        let mut attempts = 0;
        loop {
            attempts += 1;
            let seq = self.highest_position().await? + 1;
            message.insert("seq", seq);
            match self.messages.insert_one(&message).await {
                Ok(_) => return Ok(seq),
                Err(e) if is_position_taken(&e) && attempts < POSITION_ATTEMPTS => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// The highest message position stored (0 when there is none), from the end of the
    /// unique position index.
    async fn highest_position(&self) -> mongodb::error::Result<i64> {
        let highest = self
            .messages
            .find_one(doc! { "seq": { "$exists": true } })
            .sort(doc! { "seq": -1 })
            .projection(doc! { "seq": 1 })
            .await?;
        Ok(highest.and_then(|m| int(&m, "seq")).unwrap_or(0))
    }

    /// Records message `seq` as the latest between `a` and `b` in both participants'
    /// conversation lists, unless a later one is recorded already. Idempotent.
    async fn record_conversation(&self, a: UserId, b: UserId, seq: i64, id: ObjectId) -> Result<()> {
        for (user, partner) in [(a, b), (b, a)] {
            let key = format!("{user}{partner}");
            let updated = self
                .conversations
                .update_one(
                    doc! { "_id": &key, "lastSeq": { "$lt": seq } },
                    doc! { "$set": {
                        "userId": user.object_id(),
                        "partnerId": partner.object_id(),
                        "lastSeq": seq,
                        "lastMessageId": id,
                    } },
                )
                .upsert(true)
                .await;
            match updated {
                // The upsert's insert hit the existing `_id`: a later message is recorded.
                Err(e) if is_duplicate_key(&e) => {}
                other => {
                    other.map_err(db_err)?;
                }
            }
        }
        Ok(())
    }

    async fn users_by_id(&self, ids: &[UserId]) -> Result<HashMap<UserId, Profile>> {
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

    async fn message_seq(&self, id: MessageId, scope: Document) -> Result<i64> {
        let mut filter = doc! { "_id": id.object_id() };
        filter.extend(scope);
        let found = self.messages.find_one(filter).await.map_err(db_err)?.ok_or(Error::NotFound("message"))?;
        int(&found, "seq").ok_or(Error::NotFound("message"))
    }
}

async fn parse_options(url: &str) -> Result<ClientOptions> {
    ClientOptions::parse(url).await.map_err(|e| {
        // The driver's message may quote the URL; scrub the credentials out of it.
        let reason = scrub(&e.to_string(), url);
        Error::internal(format!("invalid MongoDB URL ({}): {reason}", super::scheme_of(url)))
    })
}

/// Removes the user-info part of `url` (and its password alone) from `text`.
fn scrub(text: &str, url: &str) -> String {
    let Some((_, rest)) = url.split_once("://") else { return text.to_owned() };
    let authority = rest.split(['/', '?']).next().unwrap_or(rest);
    let Some((userinfo, _)) = authority.rsplit_once('@') else { return text.to_owned() };
    let mut out = text.replace(userinfo, "***");
    if let Some((_, password)) = userinfo.split_once(':').filter(|(_, p)| !p.is_empty()) {
        out = out.replace(password, "***");
    }
    out
}

fn open_error(hosts: &str, err: &mongodb::error::Error) -> Error {
    Error::internal(format!("cannot use MongoDB at {hosts}: {err}"))
}

/// Maps a driver failure: a unique index violation is a `Conflict`; no reachable server
/// (down, partitioned, failing over) is `Unavailable`, so clients see a retryable 503
/// rather than an opaque 500 while the driver reconnects; anything else is internal.
/// Both of the latter are logged with their cause.
fn db_err(err: mongodb::error::Error) -> Error {
    if is_duplicate_key(&err) {
        return Error::Conflict("already exists");
    }
    match err.kind.as_ref() {
        ErrorKind::ServerSelection { .. } | ErrorKind::Io(_) | ErrorKind::ConnectionPoolCleared { .. } => {
            tracing::warn!(error = %err, "MongoDB unreachable");
            Error::Unavailable("the database")
        }
        _ => Error::internal(err),
    }
}

/// Whether an insert failed because another instance stored a message at the same
/// position first (the unique position index refused it).
fn is_position_taken(err: &mongodb::error::Error) -> bool {
    is_duplicate_key(err) && error_message(err).is_some_and(|m| m.contains(SEQ_INDEX))
}

fn error_message(err: &mongodb::error::Error) -> Option<&str> {
    match err.kind.as_ref() {
        ErrorKind::Write(WriteFailure::WriteError(e)) => Some(&e.message),
        ErrorKind::Command(e) => Some(&e.message),
        _ => None,
    }
}

fn error_code(err: &mongodb::error::Error) -> Option<i32> {
    match err.kind.as_ref() {
        ErrorKind::Write(WriteFailure::WriteError(e)) => Some(e.code),
        ErrorKind::Command(e) => Some(e.code),
        ErrorKind::InsertMany(e) => e.write_errors.as_ref().and_then(|w| w.first()).map(|e| e.code),
        _ => None,
    }
}

fn is_duplicate_key(err: &mongodb::error::Error) -> bool {
    error_code(err) == Some(DUPLICATE_KEY)
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

async fn find_all(coll: &Collection<Document>, filter: Document, sort: Document) -> Result<Vec<Document>> {
    coll.find(filter).sort(sort).await.map_err(db_err)?.try_collect().await.map_err(db_err)
}

/// Leaves credentials out of user documents read for someone's profile. (jongodb
/// ignores `find` projections; nothing here relies on them.)
fn profile_projection() -> Document {
    doc! { "password": 0, "tokenVersion": 0 }
}

fn bson_time(t: DateTime<Utc>) -> bson::DateTime {
    bson::DateTime::from_chrono(t)
}

/// A stored time; `None` unless it is a BSON date.
fn time(doc: &Document, key: &str) -> Option<DateTime<Utc>> {
    match doc.get(key) {
        Some(Bson::DateTime(t)) => Some(t.to_chrono()),
        _ => None,
    }
}

/// When a document was created: `createdAt`, or else the time in its ObjectId (the
/// original wrote `createdAt` with Mongoose timestamps, but not necessarily always).
fn created_at(doc: &Document, id: ObjectId) -> DateTime<Utc> {
    time(doc, "createdAt").unwrap_or_else(|| id.timestamp().to_chrono())
}

/// An integer field however it was stored (the original's numbers may be doubles).
fn int(doc: &Document, key: &str) -> Option<i64> {
    match doc.get(key)? {
        Bson::Int32(n) => Some(i64::from(*n)),
        Bson::Int64(n) => Some(*n),
        #[expect(clippy::cast_possible_truncation, reason = "checked to be integral and in range")]
        Bson::Double(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Some(*f as i64),
        _ => None,
    }
}

fn string(doc: &Document, key: &str) -> Option<String> {
    match doc.get(key)? {
        Bson::String(s) => Some(s.clone()),
        _ => None,
    }
}

fn strings(doc: &Document, key: &str) -> Vec<String> {
    match doc.get(key) {
        Some(Bson::Array(items)) => items.iter().filter_map(|b| b.as_str().map(str::to_owned)).collect(),
        _ => Vec::new(),
    }
}

fn oid(doc: &Document, key: &str) -> Result<ObjectId> {
    doc.get_object_id(key).map_err(|e| Error::internal(format!("stored `{key}` is not an ObjectId: {e}")))
}

/// A reference field of a legacy document being backfilled; the error names the
/// document so an operator can fix or remove it.
fn legacy_oid(collection: &str, doc: &Document, id: ObjectId, key: &str) -> Result<ObjectId> {
    doc.get_object_id(key).map_err(|_| {
        Error::internal(format!("{collection} document {id} has no ObjectId `{key}`; fix or remove it and start again"))
    })
}

fn skill_keys(skills: &[String]) -> Vec<String> {
    let mut keys: Vec<String> = Vec::with_capacity(skills.len());
    for key in skills.iter().map(|s| skill_key(s)) {
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    keys
}

fn user_doc(u: &UserRecord) -> Document {
    let p = &u.me.profile;
    let mut d = doc! {
        "_id": p.id.object_id(),
        "firstName": &p.first_name,
        "lastName": &p.last_name,
        "emailID": &u.me.email,
        "password": &u.password_hash,
        "about": &p.about,
        "skills": &p.skills,
        "skillKeys": skill_keys(&p.skills),
        "tokenVersion": u.token_version,
        "createdAt": bson_time(p.created_at),
        "updatedAt": bson_time(p.updated_at),
    };
    if let Some(age) = p.age {
        d.insert("age", i32::from(age));
    }
    if let Some(gender) = p.gender {
        d.insert("gender", gender.as_str());
    }
    if let Some(url) = &p.photo_url {
        d.insert("photoURL", url);
    }
    d
}

/// Reads a user as stored by us or by the original: absent optional fields are empty,
/// an unknown gender or out-of-range age is dropped rather than failing the read.
fn user_from_doc(d: &Document) -> Result<UserRecord> {
    let id = oid(d, "_id")?;
    let created = created_at(d, id);
    Ok(UserRecord {
        me: Me {
            profile: Profile {
                id: id.into(),
                first_name: string(d, "firstName").unwrap_or_default(),
                last_name: string(d, "lastName").unwrap_or_default(),
                age: int(d, "age").and_then(|a| u8::try_from(a).ok()),
                gender: string(d, "gender").and_then(|g| Gender::parse(&g).ok()),
                photo_url: string(d, "photoURL").filter(|u| !u.is_empty()),
                about: string(d, "about").unwrap_or_default(),
                skills: strings(d, "skills"),
                created_at: created,
                updated_at: time(d, "updatedAt").unwrap_or(created),
            },
            email: string(d, "emailID").unwrap_or_default(),
        },
        password_hash: string(d, "password").unwrap_or_default(),
        token_version: int(d, "tokenVersion").unwrap_or(0),
    })
}

fn request_doc(r: &ConnectionRequest) -> Document {
    let mut d = doc! {
        "_id": r.id.object_id(),
        "fromUserId": r.from_user_id.object_id(),
        "toUserId": r.to_user_id.object_id(),
        "status": r.status.as_str(),
        "pairKey": pair_key(r.from_user_id, r.to_user_id),
        "createdAt": bson_time(r.created_at),
        "updatedAt": bson_time(r.updated_at),
    };
    if let Some(note) = &r.note {
        d.insert("note", note);
    }
    d
}

fn request_from_doc(d: &Document) -> Result<ConnectionRequest> {
    let id = oid(d, "_id")?;
    let created = created_at(d, id);
    let status = string(d, "status").unwrap_or_default();
    Ok(ConnectionRequest {
        id: id.into(),
        from_user_id: oid(d, "fromUserId")?.into(),
        to_user_id: oid(d, "toUserId")?.into(),
        status: RequestStatus::parse(&status).map_err(|_| Error::internal(format!("stored status {status:?}")))?,
        note: string(d, "note"),
        created_at: created,
        updated_at: time(d, "updatedAt").unwrap_or(created),
    })
}

fn message_from_doc(d: &Document) -> Result<Message> {
    let id = oid(d, "_id")?;
    Ok(Message {
        id: id.into(),
        sender_id: oid(d, "senderId")?.into(),
        receiver_id: oid(d, "receiverId")?.into(),
        text: string(d, "text").unwrap_or_default(),
        image: string(d, "image").filter(|u| !u.is_empty()),
        client_msg_id: string(d, "clientMsgId"),
        created_at: created_at(d, id),
        read_at: time(d, "readAt"),
        seq: int(d, "seq").unwrap_or(0),
    })
}

fn messages_from(docs: &[Document]) -> Result<Vec<Message>> {
    docs.iter().map(message_from_doc).collect()
}

fn accepted_with(me: UserId) -> Document {
    let me = me.object_id();
    doc! { "$or": [
        { "fromUserId": me, "status": RequestStatus::Accepted.as_str() },
        { "toUserId": me, "status": RequestStatus::Accepted.as_str() },
    ] }
}

fn other_party(r: &ConnectionRequest, me: UserId) -> UserId {
    if r.from_user_id == me { r.to_user_id } else { r.from_user_id }
}

fn limit_of(limit: u32) -> i64 {
    i64::from(limit)
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
        let ProfileUpdate { first_name, last_name, age, gender, about, skills, photo_url } = update;
        let mut set = doc! { "updatedAt": bson_time(now) };
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
        let updated = self
            .users
            .find_one_and_update(doc! { "_id": id.object_id() }, doc! { "$set": set })
            .return_document(ReturnDocument::After)
            .await
            .map_err(db_err)?;
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
            self.users.find_one(doc! { "_id": id.object_id() }).projection(doc! { "tokenVersion": 1 }),
            self.revoked.find_one(doc! { "_id": token_id }).projection(doc! { "_id": 1 }),
        );
        let Some(user) = user.map_err(db_err)? else { return Ok(None) };
        let revoked = revoked.map_err(db_err)?.is_some();
        Ok(Some(AuthState { token_version: int(&user, "tokenVersion").unwrap_or(0), revoked }))
    }

    async fn revoke_token(&self, id: UserId, token_id: &str, expires_at: DateTime<Utc>) -> Result<()> {
        let revocation = doc! { "_id": token_id, "userId": id.object_id(), "expiresAt": bson_time(expires_at) };
        match self.revoked.insert_one(revocation).await {
            // Revoked already: logging out twice is not an error.
            Err(e) if is_duplicate_key(&e) => Ok(()),
            other => other.map(drop).map_err(db_err),
        }
    }

    async fn insert_request(&self, request: &ConnectionRequest) -> Result<()> {
        self.requests.insert_one(request_doc(request)).await.map(drop).map_err(|e| match db_err(e) {
            Error::Conflict(_) => Error::Conflict("a request between these users already exists"),
            other => other,
        })
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
        let mut profiles = self.users_by_id(&receivers).await?;
        Ok(requests
            .into_iter()
            .filter_map(|r| {
                let to = profiles.remove(&r.to_user_id)?;
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

    async fn delete_connection(&self, a: UserId, b: UserId) -> Result<bool> {
        let deleted = self
            .requests
            .delete_one(doc! { "pairKey": pair_key(a, b), "status": RequestStatus::Accepted.as_str() })
            .await
            .map_err(db_err)?;
        Ok(deleted.deleted_count > 0)
    }

    async fn feed(&self, viewer: UserId, filter: &FeedFilter) -> Result<Vec<Profile>> {
        // Walk users newest first in batches (keyset on `_id`), and drop those that share
        // a request with the viewer by looking up the batch's pair keys in the unique
        // `pairKey` index. Every query is bounded by the batch size, however many
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
            let mut query = doc! { "_id": { "$ne": me } };
            if let Some(last) = below {
                query.insert("_id", doc! { "$ne": me, "$lt": last });
            }
            if !filter.skills.is_empty() {
                query.insert("skillKeys", doc! { "$in": &filter.skills });
            }
            let candidates: Vec<Document> = self
                .users
                .find(query)
                .sort(doc! { "_id": -1 })
                .limit(batch)
                .projection(profile_projection())
                .await
                .map_err(db_err)?
                .try_collect()
                .await
                .map_err(db_err)?;
            let exhausted = i64::try_from(candidates.len()).unwrap_or(i64::MAX) < batch;
            let candidates =
                candidates.iter().map(|d| user_from_doc(d).map(|u| u.me.profile)).collect::<Result<Vec<_>>>()?;
            below = candidates.last().map(|p| p.id.object_id());
            let keys: Vec<String> = candidates.iter().map(|p| pair_key(viewer, p.id)).collect();
            let related: HashSet<String> = if keys.is_empty() {
                HashSet::new()
            } else {
                self.requests
                    .find(doc! { "pairKey": { "$in": keys } })
                    .projection(doc! { "pairKey": 1 })
                    .await
                    .map_err(db_err)?
                    .try_collect::<Vec<Document>>()
                    .await
                    .map_err(db_err)?
                    .iter()
                    .filter_map(|r| string(r, "pairKey"))
                    .collect()
            };
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

    async fn insert_message(&self, m: &NewMessageRecord) -> Result<Inserted> {
        let (sender, receiver) = (m.sender.object_id(), m.receiver.object_id());
        let existing = |cid: &str| doc! { "senderId": sender, "receiverId": receiver, "clientMsgId": cid };
        if let Some(cid) = &m.client_msg_id {
            // A retry: answer without taking a position.
            if let Some(found) = self.messages.find_one(existing(cid)).await.map_err(db_err)? {
                let found = message_from_doc(&found)?;
                self.record_conversation(m.sender, m.receiver, found.seq, found.id.object_id()).await?;
                return Ok(Inserted::Existing(found));
            }
        }
        let mut d = doc! {
            "_id": m.id.object_id(),
            "senderId": sender,
            "receiverId": receiver,
            "convKey": pair_key(m.sender, m.receiver),
            "text": &m.text,
            "createdAt": bson_time(m.created_at),
            "updatedAt": bson_time(m.created_at),
        };
        if let Some(image) = &m.image {
            d.insert("image", image);
        }
        if let Some(cid) = &m.client_msg_id {
            d.insert("clientMsgId", cid);
        }
        let seq = match self.insert_at_next_position(d).await {
            Ok(seq) => seq,
            Err(e) if is_duplicate_key(&e) => {
                // A concurrent send with the same client id won; its position stands,
                // ours is skipped (positions increase, they need not be dense).
                let cid = m.client_msg_id.as_deref().ok_or_else(|| db_err(e))?;
                let found = self
                    .messages
                    .find_one(existing(cid))
                    .await
                    .map_err(db_err)?
                    .ok_or(Error::Conflict("message already exists"))?;
                let found = message_from_doc(&found)?;
                self.record_conversation(m.sender, m.receiver, found.seq, found.id.object_id()).await?;
                return Ok(Inserted::Existing(found));
            }
            Err(e) => return Err(db_err(e)),
        };
        // If this fails after the insert, the caller's retry (same client id) records
        // it again: the Existing paths above call it too.
        self.record_conversation(m.sender, m.receiver, seq, m.id.object_id()).await?;
        Ok(Inserted::New(Message {
            id: m.id,
            sender_id: m.sender,
            receiver_id: m.receiver,
            text: m.text.clone(),
            image: m.image.clone(),
            client_msg_id: m.client_msg_id.clone(),
            created_at: m.created_at,
            read_at: None,
            seq,
        }))
    }

    async fn history(&self, a: UserId, b: UserId, before: Option<MessageId>, limit: u32) -> Result<Vec<Message>> {
        let key = pair_key(a, b);
        let mut filter = doc! { "convKey": &key };
        if let Some(before) = before {
            let seq = self.message_seq(before, doc! { "convKey": &key }).await?;
            filter.insert("seq", doc! { "$lt": seq });
        }
        let docs: Vec<Document> = self
            .messages
            .find(filter)
            .sort(doc! { "seq": -1 })
            .limit(limit_of(limit))
            .await
            .map_err(db_err)?
            .try_collect()
            .await
            .map_err(db_err)?;
        let mut messages = messages_from(&docs)?;
        messages.reverse();
        Ok(messages)
    }

    async fn sync(&self, me: UserId, after: Option<MessageId>, limit: u32) -> Result<Vec<Message>> {
        let who = me.object_id();
        let after = match after {
            Some(id) => self.message_seq(id, doc! { "$or": [{ "senderId": who }, { "receiverId": who }] }).await?,
            None => 0,
        };
        // Two index ranges (sender+seq, receiver+seq) merged in seq order by the server.
        let docs: Vec<Document> = self
            .messages
            .find(doc! { "$or": [
                { "senderId": who, "seq": { "$gt": after } },
                { "receiverId": who, "seq": { "$gt": after } },
            ] })
            .sort(doc! { "seq": 1 })
            .limit(limit_of(limit))
            .await
            .map_err(db_err)?
            .try_collect()
            .await
            .map_err(db_err)?;
        messages_from(&docs)
    }

    async fn chat_partners(&self, me: UserId) -> Result<Vec<PartnerRecord>> {
        let who = me.object_id();
        let conversations = find_all(&self.conversations, doc! { "userId": who }, doc! { "lastSeq": -1 }).await?;
        let mut partners: Vec<(UserId, Option<ObjectId>)> = conversations
            .iter()
            .map(|c| Ok((UserId::from(oid(c, "partnerId")?), c.get_object_id("lastMessageId").ok())))
            .collect::<Result<_>>()?;
        let talked: HashSet<UserId> = partners.iter().map(|(id, _)| *id).collect();
        // Then connections without messages, most recently accepted first.
        let accepted = find_all(&self.requests, accepted_with(me), doc! { "updatedAt": -1, "_id": -1 }).await?;
        for request in &accepted {
            let other = other_party(&request_from_doc(request)?, me);
            if !talked.contains(&other) && !partners.iter().any(|(id, _)| *id == other) {
                partners.push((other, None));
            }
        }
        let ids: Vec<UserId> = partners.iter().map(|(id, _)| *id).collect();
        let mut profiles = self.users_by_id(&ids).await?;
        let last_ids: Vec<ObjectId> = partners.iter().filter_map(|(_, m)| *m).collect();
        let mut last_messages: HashMap<ObjectId, Message> = HashMap::new();
        if !last_ids.is_empty() {
            let docs: Vec<Document> = self
                .messages
                .find(doc! { "_id": { "$in": last_ids } })
                .await
                .map_err(db_err)?
                .try_collect()
                .await
                .map_err(db_err)?;
            for m in messages_from(&docs)? {
                last_messages.insert(m.id.object_id(), m);
            }
        }
        let unread_groups: Vec<Document> = self
            .messages
            .aggregate([
                doc! { "$match": { "receiverId": who, "readAt": Bson::Null } },
                doc! { "$group": { "_id": "$senderId", "n": { "$sum": 1 } } },
            ])
            .await
            .map_err(db_err)?
            .try_collect()
            .await
            .map_err(db_err)?;
        let unread: HashMap<ObjectId, u64> = unread_groups
            .iter()
            .filter_map(|g| Some((g.get_object_id("_id").ok()?, u64::try_from(int(g, "n")?).ok()?)))
            .collect();
        Ok(partners
            .into_iter()
            .filter_map(|(id, last)| {
                let profile = profiles.remove(&id)?;
                Some(PartnerRecord {
                    profile,
                    last_message: last.and_then(|m| last_messages.remove(&m)),
                    unread_count: unread.get(&id.object_id()).copied().unwrap_or(0),
                })
            })
            .collect())
    }

    async fn mark_read(&self, reader: UserId, sender: UserId, now: DateTime<Utc>) -> Result<Option<MessageId>> {
        let unread = doc! { "receiverId": reader.object_id(), "senderId": sender.object_id(), "readAt": Bson::Null };
        let Some(newest) = self.messages.find_one(unread.clone()).sort(doc! { "seq": -1 }).await.map_err(db_err)?
        else {
            return Ok(None);
        };
        let newest = message_from_doc(&newest)?;
        let mut filter = unread;
        filter.insert("seq", doc! { "$lte": newest.seq });
        let updated =
            self.messages.update_many(filter, doc! { "$set": { "readAt": bson_time(now) } }).await.map_err(db_err)?;
        // Zero when a concurrent call marked them first: that call reports them.
        Ok((updated.modified_count > 0).then_some(newest.id))
    }

    async fn engagement(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<EngagementDay>> {
        // One indexed range query per day and measure (counts and `$group`s run in the
        // database). A single `$group` on `$dateToString` would do it in one, but the
        // test server cannot evaluate date operators, and a range is at most 366 days.
        let mut days = Vec::new();
        let mut start = from;
        while start < to {
            let end = (start + chrono::Duration::days(1)).min(to);
            let span = doc! { "$gte": bson_time(start), "$lt": bson_time(end) };
            let mut row = EngagementDay::empty(start.date_naive());
            let created = doc! { "createdAt": span.clone() };
            row.messages = self.messages.count_documents(created.clone()).await.map_err(db_err)?;
            row.requests_sent = self.requests.count_documents(created.clone()).await.map_err(db_err)?;
            let reviewed = doc! { "status": { "$in": ["accepted", "rejected"] }, "updatedAt": span.clone() };
            let mut active = HashSet::<ObjectId>::new();
            for (coll, filter, who) in [
                (&self.messages, &created, "$senderId"),
                (&self.requests, &created, "$fromUserId"),
                (&self.requests, &reviewed, "$toUserId"),
            ] {
                let groups =
                    aggregate(coll, vec![doc! { "$match": filter.clone() }, doc! { "$group": { "_id": who } }]).await?;
                active.extend(groups.iter().filter_map(|g| g.get_object_id("_id").ok()));
            }
            row.active_users = active.len() as u64;
            // Times to accept: one small document per request accepted that day (jongodb
            // has neither `$push` nor `$percentile`, so the median is taken here).
            let accepted = doc! { "status": "accepted", "updatedAt": span };
            let mut waits: Vec<f64> = find_all(&self.requests, accepted, doc! { "updatedAt": 1 })
                .await?
                .iter()
                .filter_map(|d| Some((time(d, "updatedAt")? - time(d, "createdAt")?).num_milliseconds()))
                // Milliseconds of a wait fit an f64 exactly.
                .map(|ms| ms as f64 / 1000.0)
                .collect();
            waits.sort_by(f64::total_cmp);
            row.requests_accepted = waits.len() as u64;
            row.median_accept_secs = crate::model::median(&waits);
            if row != EngagementDay::empty(row.date) {
                days.push(row);
            }
            start = end;
        }
        Ok(days)
    }
}

async fn aggregate(coll: &Collection<Document>, pipeline: Vec<Document>) -> Result<Vec<Document>> {
    coll.aggregate(pipeline).await.map_err(db_err)?.try_collect().await.map_err(db_err)
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

#[cfg(test)]
mod tests {
    use std::future::Future;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    use super::*;
    use crate::testkit::{self, PASSWORD};

    /// Names the server the MongoDB tests run against.
    const URL_VAR: &str = "DEVCONNECT_TEST_MONGODB_URL";
    /// Names a replica set, the topology several server instances run on in production.
    const RS_URL_VAR: &str = "DEVCONNECT_TEST_MONGODB_RS_URL";
    /// The jongodb binary, for tests that stop and start a server of their own.
    const BIN_VAR: &str = "DEVCONNECT_TEST_JONGODB_BIN";
    const TEST_DB_PREFIX: &str = "dc_test_";

    /// The server URL. Unset is a failure, never a skip: CI must run these tests.
    fn test_url() -> Result<String> {
        std::env::var(URL_VAR).map_err(|_| {
            Error::internal(format!(
                "{URL_VAR} is not set, so the MongoDB tests have no server. Run them with \
                 `scripts/with-jongodb.sh cargo test -p devconnect-core --features mongodb` (starts jongodb), \
                 or set {URL_VAR}=mongodb://HOST:PORT/ to use a real mongod"
            ))
        })
    }

    async fn raw_client(url: &str) -> Result<Client> {
        Client::with_uri_str(url).await.map_err(Error::internal)
    }

    /// Drops test databases left by runs more than an hour old (test databases are not
    /// dropped as each test ends: the conformance macro has no teardown). Once per process.
    async fn drop_stale_databases(url: &str) -> Result<()> {
        static DONE: AtomicBool = AtomicBool::new(false);
        if DONE.swap(true, Ordering::SeqCst) {
            return Ok(());
        }
        let client = raw_client(url).await?;
        let cutoff = Utc::now() - chrono::Duration::hours(1);
        // jongodb has no listDatabases; its data goes when it stops anyway.
        let names = client.list_database_names().await.unwrap_or_default();
        for name in names {
            let Some(id) = name.strip_prefix(TEST_DB_PREFIX).and_then(|hex| ObjectId::parse_str(hex).ok()) else {
                continue;
            };
            if id.timestamp().to_chrono() < cutoff {
                drop_database(&client.database(&name)).await;
            }
        }
        client.shutdown().await;
        Ok(())
    }

    /// Drops a test database if the server can (jongodb has no dropDatabase).
    async fn drop_database(db: &Database) {
        if let Err(e) = db.drop().await {
            tracing::debug!(error = %e, "test database not dropped");
        }
    }

    fn fresh_name() -> String {
        format!("{TEST_DB_PREFIX}{}", ObjectId::new().to_hex())
    }

    /// A store on a new, uniquely named database.
    async fn fresh() -> Result<MongoStore> {
        let url = test_url()?;
        drop_stale_databases(&url).await?;
        MongoStore::open_database(&url, &fresh_name()).await
    }

    crate::conformance_tests!(fresh().await);

    /// The replica set URL. Unset is a failure too.
    fn replica_set_url() -> Result<String> {
        std::env::var(RS_URL_VAR).map_err(|_| {
            Error::internal(format!(
                "{RS_URL_VAR} is not set, so the replica-set tests have no server. Run them with \
                 `scripts/with-jongodb.sh`, or set it to a real replica set (mongodb://HOST:PORT/?replicaSet=NAME)"
            ))
        })
    }

    /// Two server instances (two stores, each with its own in-process lock) sending into
    /// one database while a reader follows with `sync` cursors, as a reconnecting client
    /// does: the reader must see every message once, none skipped. Were a position ever
    /// visible before a lower one taken by the other instance, the cursor would pass it.
    #[tokio::test]
    async fn sync_never_skips_a_message_sent_through_two_instances_on_a_replica_set() -> Result<()> {
        sync_never_skips_a_message_sent_through_two_instances(&replica_set_url()?).await
    }

    #[tokio::test]
    async fn sync_never_skips_a_message_sent_through_two_instances_on_a_standalone_server() -> Result<()> {
        sync_never_skips_a_message_sent_through_two_instances(&test_url()?).await
    }

    async fn sync_never_skips_a_message_sent_through_two_instances(url: &str) -> Result<()> {
        const SENDERS_PER_INSTANCE: usize = 4;
        const MESSAGES_PER_SENDER: usize = 25;
        let (url, name) = (url.to_owned(), fresh_name());
        let instances = [MongoStore::open_database(&url, &name).await?, MongoStore::open_database(&url, &name).await?];
        let instances: Vec<Arc<dyn Store>> = instances.into_iter().map(|s| Arc::new(s) as Arc<dyn Store>).collect();
        let (reader, writer) = (testkit::user_record("reader@example.com"), testkit::user_record("writer@example.com"));
        instances[0].insert_user(&reader).await?;
        instances[0].insert_user(&writer).await?;

        let mut senders = tokio::task::JoinSet::new();
        for store in &instances {
            for sender in 0..SENDERS_PER_INSTANCE {
                let store = Arc::clone(store);
                let (from, to) = (writer.me.profile.id, reader.me.profile.id);
                senders.spawn(async move {
                    for n in 0..MESSAGES_PER_SENDER {
                        let record = NewMessageRecord {
                            id: MessageId::new(),
                            sender: from,
                            receiver: to,
                            text: format!("{sender}-{n}"),
                            image: None,
                            client_msg_id: None,
                            created_at: Utc::now(),
                        };
                        store.insert_message(&record).await?;
                    }
                    Ok::<_, Error>(())
                });
            }
        }
        let total = instances.len() * SENDERS_PER_INSTANCE * MESSAGES_PER_SENDER;
        let mut seen = HashSet::new();
        let mut cursor: Option<MessageId> = None;
        let mut last_seq = 0;
        let reader_id = reader.me.profile.id;
        let follow = |cursor: Option<MessageId>| {
            let store = Arc::clone(&instances[1]);
            async move { store.sync(reader_id, cursor, 50).await }
        };
        while seen.len() < total {
            let page = follow(cursor).await?;
            for m in &page {
                assert!(m.seq > last_seq, "positions increase along the cursor");
                last_seq = m.seq;
                assert!(seen.insert(m.id), "seen once");
            }
            if let Some(m) = page.last() {
                cursor = Some(m.id);
            } else if senders.is_empty() {
                break;
            }
            while let Some(done) = senders.try_join_next() {
                done.map_err(Error::internal)??;
            }
        }
        while let Some(done) = senders.join_next().await {
            done.map_err(Error::internal)??;
        }
        let rest = follow(cursor).await?;
        assert_eq!(seen.len() + rest.len(), total, "the cursor skipped {} messages", total - seen.len() - rest.len());
        for store in &instances {
            store.close().await?;
        }
        Ok(())
    }

    /// A jongodb process of our own, to stop and start. Killed on drop.
    struct OwnServer {
        child: std::process::Child,
    }

    impl OwnServer {
        fn start(port: u16) -> Result<Self> {
            let bin = std::env::var(BIN_VAR)
                .map_err(|_| Error::internal(format!("{BIN_VAR} is not set; run under scripts/with-jongodb.sh")))?;
            let child = std::process::Command::new(bin)
                .args(["--host=127.0.0.1", &format!("--port={port}")])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .map_err(Error::internal)?;
            Ok(Self { child })
        }

        fn stop(mut self) -> Result<()> {
            self.child.kill().map_err(Error::internal)?;
            self.child.wait().map_err(Error::internal)?;
            Ok(())
        }
    }

    impl Drop for OwnServer {
        fn drop(&mut self) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }

    /// Retries `op` until it succeeds or `within` passes (the server is starting).
    async fn eventually<T, F: Future<Output = Result<T>>>(within: Duration, mut op: impl FnMut() -> F) -> Result<T> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            match op().await {
                Ok(value) => return Ok(value),
                Err(e) if tokio::time::Instant::now() >= deadline => return Err(e),
                Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        }
    }

    #[tokio::test]
    async fn an_outage_is_reported_as_unavailable_and_the_store_recovers() -> Result<()> {
        let port =
            std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map_err(Error::internal)?.port();
        let url = format!("mongodb://127.0.0.1:{port}/?serverSelectionTimeoutMS=1000");
        let server = OwnServer::start(port)?;
        let store = eventually(Duration::from_secs(30), || MongoStore::open_database(&url, "outage")).await?;
        let before = testkit::user_record("before@example.com");
        store.insert_user(&before).await?;

        // Down: every call fails fast with the retryable code, none hangs.
        server.stop()?;
        let down = store.user(before.me.profile.id).await.err().map(|e| e.code());
        assert_eq!(down, Some("unavailable"));
        let during = testkit::user_record("during@example.com");
        assert_eq!(store.insert_user(&during).await.err().map(|e| e.code()), Some("unavailable"));

        // Back (jongodb keeps data in memory, so this one starts empty; a real mongod
        // would still hold `before`): the same store works again, no reopen needed.
        let _server = OwnServer::start(port)?;
        let after = testkit::user_record("after@example.com");
        eventually(Duration::from_secs(30), || store.insert_user(&after)).await?;
        assert_eq!(store.user(after.me.profile.id).await?.map(|u| u.me.email), Some(after.me.email.clone()));
        store.close().await
    }

    fn cause(err: &Error) -> String {
        match err {
            Error::Internal(cause) => cause.to_string(),
            other => other.to_string(),
        }
    }

    fn at(ms: i64) -> bson::DateTime {
        bson::DateTime::from_millis(ms)
    }

    /// Ids that increase in creation order, as the original's were.
    fn ids(n: usize) -> Vec<ObjectId> {
        (0..n).map(|_| ObjectId::new()).collect()
    }

    /// A user as the original Mongoose model wrote it: bcrypt hash, `__v`, none of our fields.
    fn original_user(id: ObjectId, first: &str, email: &str, skills: &[&str]) -> Result<Document> {
        Ok(doc! {
            "_id": id,
            "firstName": first,
            "lastName": "Legacy",
            "emailID": email,
            "password": bcrypt::hash(PASSWORD, 4).map_err(Error::internal)?,
            "age": 31.0,
            "gender": "female",
            "photoURL": "https://example.com/p.png",
            "about": "From the Node days",
            "skills": skills,
            "createdAt": at(1_700_000_000_000),
            "updatedAt": at(1_700_000_500_000),
            "__v": 0,
        })
    }

    fn original_request(from: ObjectId, to: ObjectId, status: &str) -> Document {
        doc! {
            "_id": ObjectId::new(),
            "fromUserId": from,
            "toUserId": to,
            "status": status,
            "createdAt": at(1_700_001_000_000),
            "updatedAt": at(1_700_001_000_000),
            "__v": 0,
        }
    }

    fn original_message(id: ObjectId, from: ObjectId, to: ObjectId, text: &str) -> Document {
        doc! {
            "_id": id,
            "senderId": from,
            "receiverId": to,
            "text": text,
            "createdAt": at(1_700_002_000_000),
            "updatedAt": at(1_700_002_000_000),
            "__v": 0,
        }
    }

    async fn insert_raw(db: &Database, coll: &str, docs: Vec<Document>) -> Result<()> {
        db.collection::<Document>(coll).insert_many(docs).await.map(drop).map_err(Error::internal)
    }

    #[tokio::test]
    async fn original_devconnect_documents_work_after_backfill() -> Result<()> {
        let url = test_url()?;
        let name = fresh_name();
        let client = raw_client(&url).await?;
        let raw = client.database(&name);
        let [ada, bob, cy, dan] = ids(4)[..] else { return Err(Error::internal("ids")) };
        insert_raw(
            &raw,
            USERS,
            vec![
                original_user(ada, "Ada", "ada@example.com", &["JavaScript", "React"])?,
                original_user(bob, "Bob", "bob@example.com", &["Node"])?,
                original_user(cy, "Cy", "cy@example.com", &[])?,
                // Only the fields the original required.
                doc! { "_id": dan, "firstName": "Dan", "emailID": "dan@example.com", "password": "x", "skills": ["Rust"] },
            ],
        )
        .await?;
        insert_raw(
            &raw,
            REQUESTS,
            vec![original_request(ada, bob, "accepted"), original_request(cy, ada, "interested")],
        )
        .await?;
        let m = ids(3);
        insert_raw(
            &raw,
            MESSAGES,
            vec![
                original_message(m[0], ada, bob, "hello"),
                original_message(m[1], bob, ada, "hi back"),
                doc! { "_id": m[2], "senderId": ada, "receiverId": bob, "image": "https://example.com/i.png" },
            ],
        )
        .await?;

        let store: Arc<dyn Store> = Arc::new(MongoStore::open_database(&url, &name).await?);
        let app = testkit::service(Arc::clone(&store))?;
        let (ada, bob, cy, dan) = (UserId::from(ada), UserId::from(bob), UserId::from(cy), UserId::from(dan));

        // Login with the original's bcrypt hash, upgraded to argon2id.
        let auth = app.login("ada@example.com", PASSWORD, crate::Peer::Local).await?;
        assert_eq!(auth.user.profile.id, ada);
        let hash = store.user(ada).await?.map(|u| u.password_hash).unwrap_or_default();
        assert!(hash.starts_with("$argon2id$"), "upgraded: {hash}");
        app.authenticate(&auth.token).await?;

        // Profiles: the original's fields, numbers stored as doubles, absent fields empty.
        let me = app.profile(ada).await?;
        assert_eq!(me.email, "ada@example.com");
        assert_eq!(me.profile.age, Some(31));
        assert_eq!(me.profile.gender, Some(Gender::Female));
        assert_eq!(me.profile.skills, ["JavaScript", "React"]);
        assert_eq!(me.profile.photo_url.as_deref(), Some("https://example.com/p.png"));
        assert_eq!(me.profile.created_at.timestamp_millis(), 1_700_000_000_000);
        let minimal = app.public_profile(dan).await?;
        assert_eq!((minimal.last_name.as_str(), minimal.age, minimal.about.as_str()), ("", None, ""));
        assert_eq!(minimal.created_at, dan.object_id().timestamp().to_chrono());

        // Requests: pair keys backfilled, so the reverse request is refused by the index.
        assert_eq!(app.connections(ada).await?.iter().map(|p| p.id).collect::<Vec<_>>(), [bob]);
        assert!(store.are_connected(bob, ada).await?);
        let received = app.received_requests(ada).await?;
        assert_eq!(received.iter().map(|r| r.from_user_id.id).collect::<Vec<_>>(), [cy]);
        let again = app.send_request(bob, ada, RequestStatus::Interested, None).await;
        assert_eq!(again.err().map(|e| e.code()), Some("conflict"));
        let reverse = app.send_request(ada, cy, RequestStatus::Interested, None).await;
        assert_eq!(reverse.err().map(|e| e.code()), Some("conflict"));

        // Feed: skill keys backfilled for the filter; related users excluded.
        let feed = app.feed(ada, &crate::feed::FeedQuery { skills: vec!["RUST".into()], ..Default::default() }).await?;
        assert_eq!(feed.profiles.iter().map(|p| p.id).collect::<Vec<_>>(), [dan]);

        // Messages without positions get them in `_id` order, before any new one.
        let history = app.history(ada, bob, None, None).await?;
        let legacy: Vec<MessageId> = m.iter().map(|id| MessageId::from(*id)).collect();
        assert_eq!(history.iter().map(|m| m.id).collect::<Vec<_>>(), legacy);
        assert!(history.windows(2).all(|w| w[0].seq < w[1].seq));
        assert_eq!(history[2].text, "");
        assert_eq!(history[2].image.as_deref(), Some("https://example.com/i.png"));
        let partners = app.chat_partners(bob).await?;
        assert_eq!(partners.len(), 1);
        assert_eq!(partners[0].last_message.as_ref().map(|m| m.id), Some(legacy[2]));
        assert_eq!(partners[0].unread_count, 2, "the original kept no read state: unread");
        let new = testkit::say(&app, bob, ada, "from the new server").await?;
        assert!(new.seq > history[2].seq);
        let synced = app.sync(ada, Some(legacy[0]), None).await?;
        assert_eq!(synced.messages.iter().map(|m| m.id).collect::<Vec<_>>(), [legacy[1], legacy[2], new.id]);

        // Opening again finds nothing to backfill and keeps every position.
        let before = store.history(ada, bob, None, 10).await?;
        store.close().await?;
        let store = MongoStore::open_database(&url, &name).await?;
        let after = store.history(ada, bob, None, 10).await?;
        let positions = |ms: &[Message]| ms.iter().map(|m| (m.id, m.seq)).collect::<Vec<_>>();
        assert_eq!(positions(&after), positions(&before));
        store.close().await?;
        drop_database(&raw).await;
        client.shutdown().await;
        Ok(())
    }

    #[tokio::test]
    async fn duplicate_original_requests_stop_startup_and_are_named() -> Result<()> {
        let url = test_url()?;
        let name = fresh_name();
        let client = raw_client(&url).await?;
        let raw = client.database(&name);
        let [ada, bob] = ids(2)[..] else { return Err(Error::internal("ids")) };
        let first = original_request(ada, bob, "accepted");
        let second = original_request(bob, ada, "interested");
        let (first_id, second_id) = (first.get_object_id("_id"), second.get_object_id("_id"));
        let (Ok(first_id), Ok(second_id)) = (first_id, second_id) else { return Err(Error::internal("ids")) };
        insert_raw(&raw, REQUESTS, vec![first, second]).await?;

        let err = MongoStore::open_database(&url, &name).await.err().map(|e| cause(&e)).unwrap_or_default();
        assert!(err.contains("pairKey"), "{err}");
        assert!(err.contains(&first_id.to_hex()) && err.contains(&second_id.to_hex()), "{err}");

        // Removing the extra request lets the store start, and the pair stays unique.
        raw.collection::<Document>(REQUESTS).delete_one(doc! { "_id": second_id }).await.map_err(Error::internal)?;
        let store = MongoStore::open_database(&url, &name).await?;
        assert!(store.are_connected(UserId::from(bob), UserId::from(ada)).await?);
        store.close().await?;
        drop_database(&raw).await;
        client.shutdown().await;
        Ok(())
    }

    #[tokio::test]
    async fn open_dispatches_mongodb_urls_to_the_database_in_the_path() -> Result<()> {
        let url = test_url()?;
        let name = fresh_name();
        let store = crate::store::open(&with_database(&url, &name)).await?;
        let user = testkit::user_record("path@example.com");
        store.insert_user(&user).await?;
        store.close().await?;
        let client = raw_client(&url).await?;
        let found = client
            .database(&name)
            .collection::<Document>(USERS)
            .find_one(doc! { "emailID": "path@example.com" })
            .await
            .map_err(Error::internal)?;
        assert!(found.is_some(), "stored in the database named by the URL");
        drop_database(&client.database(&name)).await;
        client.shutdown().await;
        Ok(())
    }

    /// `url` with its path (the database) replaced by `name`.
    fn with_database(url: &str, name: &str) -> String {
        let (base, query) = url.split_once('?').map_or((url, None), |(b, q)| (b, Some(q)));
        let (scheme, rest) = base.split_once("://").unwrap_or(("mongodb", base));
        let hosts = rest.split('/').next().unwrap_or(rest);
        match query {
            Some(q) => format!("{scheme}://{hosts}/{name}?{q}"),
            None => format!("{scheme}://{hosts}/{name}"),
        }
    }

    #[tokio::test]
    async fn open_fails_quickly_and_without_credentials_when_no_server_answers() -> Result<()> {
        // A port nobody listens on: bind, note it, release it.
        let port =
            std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map_err(Error::internal)?.port();
        let url = format!("mongodb://dcuser:s3cret-pw@127.0.0.1:{port}/app?serverSelectionTimeoutMS=500");
        let started = std::time::Instant::now();
        let err = MongoStore::open(&url).await.err().ok_or_else(|| Error::internal("opened without a server"))?;
        assert!(started.elapsed() < Duration::from_secs(10), "took {:?}", started.elapsed());
        assert_eq!(err.code(), "internal");
        let cause = cause(&err);
        assert!(cause.contains(&format!("127.0.0.1:{port}")), "names the server: {cause}");
        assert!(!cause.contains("s3cret-pw"), "leaks the password: {cause}");
        Ok(())
    }

    #[test]
    fn credentials_are_scrubbed_from_messages() {
        let url = "mongodb://user:p%40ss@db.example.com:27017/x";
        assert_eq!(
            scrub("bad mongodb://user:p%40ss@db.example.com:27017/x", url),
            "bad mongodb://***@db.example.com:27017/x"
        );
        assert_eq!(scrub("password p%40ss wrong", url), "password *** wrong");
        assert_eq!(scrub("nothing here", "mongodb://db.example.com/x"), "nothing here");
    }
}
