//! The chat aggregate on MongoDB: messages at positions, history, sync, partners and
//! read state.

use std::collections::{HashMap, HashSet};

use async_trait::async_trait;
use bson::oid::ObjectId;
use bson::{Bson, Document, doc};
use chrono::{DateTime, Utc};
use devconnect_types::{AnyMessage, Message, MessageId, UserId};
use futures_util::TryStreamExt as _;

use super::documents::{any_message_from_doc, bson_time, int, message_from_doc, messages_from, oid, request_from_doc};
use super::error::{db_err, is_duplicate_key, is_position_taken};
use super::requests::{accepted_with, other_party};
use super::{MongoStore, find_all, find_page};
use crate::model::{Inserted, NewMessageRecord, PartnerRecord};
use crate::store::{ChatStore, pair_key};
use crate::{Error, Result};

/// How often a send tries the next position when other instances keep taking it first.
/// Each refusal means another message was stored, so this bounds only starvation.
const POSITION_ATTEMPTS: u32 = 1000;

impl MongoStore {
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
    pub(super) async fn highest_position(&self) -> mongodb::error::Result<i64> {
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
    pub(super) async fn record_conversation(&self, a: UserId, b: UserId, seq: i64, id: ObjectId) -> Result<()> {
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

    /// The position of message `id` if `me` may read it: a 1:1 message to or from them,
    /// or a group message inside their window on its group.
    async fn readable_seq(&self, id: MessageId, me: UserId) -> Result<i64> {
        let found = self.messages.find_one(doc! { "_id": id.object_id() }).await.map_err(db_err)?;
        let readable = match found.as_ref().map(any_message_from_doc).transpose()? {
            Some(AnyMessage::Direct(m)) if m.sender_id == me || m.receiver_id == me => Some(m.seq),
            Some(AnyMessage::Group(m)) => {
                self.window_of(m.group_id, me).await?.filter(|w| w.contains(m.seq)).map(|_| m.seq)
            }
            _ => None,
        };
        readable.ok_or(Error::NotFound("message"))
    }

    /// Stores `message` (with its `senderId` and `receiverId`, a person or a group) at
    /// the next position: `Ok` with the position, or `Err` with the message its sender
    /// stored earlier under the same receiver and `client_msg_id` (then nothing new is
    /// stored, whether the earlier one is found first or wins a concurrent race).
    pub(super) async fn insert_once(
        &self,
        mut message: Document,
        client_msg_id: Option<&str>,
    ) -> Result<std::result::Result<i64, Document>> {
        let existing = match client_msg_id {
            Some(cid) => {
                message.insert("clientMsgId", cid);
                let mut filter = doc! { "clientMsgId": cid };
                for key in ["senderId", "receiverId"] {
                    filter.insert(key, message.get(key).cloned().unwrap_or(Bson::Null));
                }
                // A retry: answer without taking a position.
                if let Some(found) = self.messages.find_one(filter.clone()).await.map_err(db_err)? {
                    return Ok(Err(found));
                }
                Some(filter)
            }
            None => None,
        };
        match self.insert_at_next_position(message).await {
            Ok(seq) => Ok(Ok(seq)),
            Err(e) if is_duplicate_key(&e) => {
                // A concurrent send with the same client id won; its position stands,
                // ours is skipped (positions increase, they need not be dense).
                let filter = existing.ok_or_else(|| db_err(e))?;
                let found = self.messages.find_one(filter).await.map_err(db_err)?;
                found.map(Err).ok_or(Error::Conflict("message already exists"))
            }
            Err(e) => Err(db_err(e)),
        }
    }

    pub(super) async fn message_seq(&self, id: MessageId, scope: Document) -> Result<i64> {
        let mut filter = doc! { "_id": id.object_id() };
        filter.extend(scope);
        let found = self.messages.find_one(filter).await.map_err(db_err)?.ok_or(Error::NotFound("message"))?;
        int(&found, "seq").ok_or(Error::NotFound("message"))
    }
}

#[async_trait]
impl ChatStore for MongoStore {
    async fn insert_message(&self, m: &NewMessageRecord) -> Result<Inserted> {
        let (sender, receiver) = (m.sender.object_id(), m.receiver.object_id());
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
        let seq = match self.insert_once(d, m.client_msg_id.as_deref()).await? {
            Ok(seq) => seq,
            Err(found) => {
                let found = message_from_doc(&found)?;
                self.record_conversation(m.sender, m.receiver, found.seq, found.id.object_id()).await?;
                return Ok(Inserted::Existing(found));
            }
        };
        // If this fails after the insert, the caller's retry (same client id) records
        // it again: the Existing path above calls it too.
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
        let docs = find_page(&self.messages, filter, doc! { "seq": -1 }, limit).await?;
        let mut messages = messages_from(&docs)?;
        messages.reverse();
        Ok(messages)
    }

    async fn sync(
        &self,
        me: UserId,
        after: Option<MessageId>,
        hidden: &[UserId],
        limit: u32,
    ) -> Result<Vec<AnyMessage>> {
        let who = me.object_id();
        let after = match after {
            Some(id) => self.readable_seq(id, me).await?,
            None => 0,
        };
        // Index ranges (sender+seq, receiver+seq, and one conversation+seq per group
        // window), merged in seq order by the server. My own group messages come with
        // their group, not as sent by me.
        let mut ranges = vec![
            doc! { "senderId": who, "groupId": { "$exists": false }, "seq": { "$gt": after } },
            doc! { "receiverId": who, "seq": { "$gt": after } },
        ];
        for (group, window) in self.windows_of(me).await? {
            if window.to.is_some_and(|to| to <= after) {
                continue;
            }
            let mut seq = doc! { "$gt": after.max(window.from) };
            if let Some(to) = window.to {
                seq.insert("$lte", to);
            }
            ranges.push(doc! { "convKey": group.to_hex(), "seq": seq });
        }
        let docs =
            find_page(&self.messages, not_from(hidden, doc! { "$or": ranges }), doc! { "seq": 1 }, limit).await?;
        docs.iter().map(any_message_from_doc).collect()
    }

    async fn message(&self, id: MessageId) -> Result<Option<AnyMessage>> {
        let found = self.messages.find_one(doc! { "_id": id.object_id() }).await.map_err(db_err)?;
        found.as_ref().map(any_message_from_doc).transpose()
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
}

/// `filter`, leaving out messages sent by `hidden` (people the reader blocked).
pub(super) fn not_from(hidden: &[UserId], mut filter: Document) -> Document {
    if !hidden.is_empty() {
        let ids: Vec<ObjectId> = hidden.iter().map(|id| id.object_id()).collect();
        filter = doc! { "$and": [filter, { "senderId": { "$nin": ids } }] };
    }
    filter
}
