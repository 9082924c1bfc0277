//! The groups aggregate on MongoDB. Without transactions (a standalone server has none),
//! the member cap is kept by reserving a seat: `memberCount` is raised only while it is
//! below the cap, in one conditional update, before the member document is written; a
//! write that then fails gives the seat back. So concurrent joins never pass the cap.
//!
//! A window opens at the highest position read just after the member is written and
//! closes at the highest read just after they are removed: a message stored
//! concurrently with either may fall on either side, never outside both.

use std::collections::{HashMap, HashSet};

use async_trait::async_trait;
use bson::oid::ObjectId;
use bson::{Bson, Document, doc};
use chrono::{DateTime, Utc};
use devconnect_types::chat::MAX_UNREAD_COUNT;
use devconnect_types::{
    Group, GroupConversation, GroupId, GroupMember, GroupMessage, GroupRole, MessageId, UserId, Visibility,
};
use futures_util::{StreamExt as _, TryStreamExt as _};

use super::chat::not_from;
use super::documents::{bson_time, group_message_from_doc, int, oid, string, strings, time};
use super::error::db_err;
use super::{MongoStore, find_all, find_page, ids_of};
use crate::model::{GroupFilter, GroupUpdate, Inserted, NewGroupMessageRecord, Window, group_keys};
use crate::store::{Added, GroupStore};
use crate::{Error, Result};

/// How often a member count update is retried when the count moved under it.
const COUNT_RETRIES: usize = 16;

fn group_doc(g: &Group) -> Document {
    let mut d = doc! {
        "_id": g.id.object_id(),
        "name": &g.name,
        "description": &g.description,
        "visibility": g.visibility.as_str(),
        "tags": &g.tags,
        "ownerId": g.owner_id.object_id(),
        "memberCount": i64::from(g.member_count),
        "archived": g.archived,
        "createdAt": bson_time(g.created_at),
        "updatedAt": bson_time(g.updated_at),
        "keys": group_keys(&g.name, &g.tags),
        "lastSeq": 0_i64,
    };
    if let Some(photo) = &g.photo_url {
        d.insert("photoURL", photo);
    }
    d
}

fn group_from_doc(d: &Document) -> Result<Group> {
    let missing = |key: &str| Error::internal(format!("stored group lacks `{key}`"));
    let visibility = string(d, "visibility").ok_or_else(|| missing("visibility"))?;
    Ok(Group {
        id: oid(d, "_id")?.into(),
        name: string(d, "name").ok_or_else(|| missing("name"))?,
        description: string(d, "description").unwrap_or_default(),
        visibility: Visibility::parse(&visibility).map_err(Error::internal)?,
        tags: strings(d, "tags"),
        owner_id: oid(d, "ownerId")?.into(),
        member_count: int(d, "memberCount").and_then(|n| u32::try_from(n).ok()).unwrap_or(0),
        archived: matches!(d.get("archived"), Some(Bson::Boolean(true))),
        created_at: time(d, "createdAt").ok_or_else(|| missing("createdAt"))?,
        updated_at: time(d, "updatedAt").ok_or_else(|| missing("updatedAt"))?,
        photo_url: string(d, "photoURL").filter(|u| !u.is_empty()),
    })
}

fn member_doc(group: GroupId, m: &GroupMember) -> Document {
    doc! {
        "groupId": group.object_id(),
        "userId": m.user_id.object_id(),
        "role": m.role.as_str(),
        "joinedAt": bson_time(m.joined_at),
    }
}

fn member_from_doc(d: &Document) -> Result<GroupMember> {
    let role = string(d, "role").ok_or_else(|| Error::internal("stored member lacks `role`"))?;
    Ok(GroupMember {
        user_id: oid(d, "userId")?.into(),
        role: GroupRole::parse(&role).map_err(Error::internal)?,
        joined_at: time(d, "joinedAt").ok_or_else(|| Error::internal("stored member lacks `joinedAt`"))?,
    })
}

fn window_key(group: GroupId, user: UserId) -> String {
    format!("{user}{group}")
}

fn window_from_doc(d: &Document) -> Window {
    Window { from: int(d, "fromSeq").unwrap_or(0), to: int(d, "toSeq"), read: int(d, "readSeq").unwrap_or(0) }
}

impl MongoStore {
    /// `user`'s window on `group`, if they are or were a member.
    pub(super) async fn window_of(&self, group: GroupId, user: UserId) -> Result<Option<Window>> {
        let found = self.group_windows.find_one(doc! { "_id": window_key(group, user) }).await.map_err(db_err)?;
        Ok(found.as_ref().map(window_from_doc))
    }

    /// Every window of `user`, with its group.
    pub(super) async fn windows_of(&self, user: UserId) -> Result<Vec<(GroupId, Window)>> {
        let docs = find_all(&self.group_windows, doc! { "userId": user.object_id() }, doc! { "_id": 1 }).await?;
        docs.iter().map(|d| Ok((GroupId::from(oid(d, "groupId")?), window_from_doc(d)))).collect()
    }

    /// The groups with these ids (archived ones too), in no particular order.
    async fn groups_by_ids(&self, ids: Vec<ObjectId>) -> Result<Vec<Group>> {
        let docs = find_all(&self.groups, doc! { "_id": { "$in": ids } }, doc! {}).await?;
        docs.iter().map(group_from_doc).collect()
    }

    /// `group` as `user`'s conversation list shows it, through their open `window`.
    async fn group_conversation(&self, user: UserId, group: Group, window: Window) -> Result<GroupConversation> {
        let key = group.id.to_hex();
        let last = self
            .messages
            .find_one(doc! { "convKey": &key, "seq": { "$gt": window.from } })
            .sort(doc! { "seq": -1 })
            .await
            .map_err(db_err)?;
        let unread = self
            .messages
            .count_documents(doc! {
                "convKey": &key,
                "seq": { "$gt": window.from.max(window.read) },
                "senderId": { "$ne": user.object_id() },
                "change": { "$exists": false },
            })
            // Counted up to the cap only: the rest of a long unread range is never read.
            .limit(MAX_UNREAD_COUNT)
            .await
            .map_err(db_err)?;
        Ok(GroupConversation {
            group,
            last_message: last.as_ref().map(group_message_from_doc).transpose()?,
            unread_count: unread,
        })
    }

    /// Opens `user`'s window on `group` at the highest position (reopening a former
    /// member's, who then sees from their return on).
    async fn open_window(&self, group: GroupId, user: UserId) -> Result<()> {
        let from = self.highest_position().await.map_err(db_err)?;
        self.group_windows
            .update_one(
                doc! { "_id": window_key(group, user) },
                doc! { "$set": {
                    "userId": user.object_id(),
                    "groupId": group.object_id(),
                    "fromSeq": from,
                    "toSeq": Bson::Null,
                    "readSeq": 0_i64,
                } },
            )
            .upsert(true)
            .await
            .map(drop)
            .map_err(db_err)
    }

    /// Closes `user`'s window on `group` at the highest position.
    async fn close_window(&self, group: GroupId, user: UserId) -> Result<()> {
        let to = self.highest_position().await.map_err(db_err)?;
        self.group_windows
            .update_one(doc! { "_id": window_key(group, user) }, doc! { "$set": { "toSeq": to } })
            .await
            .map(drop)
            .map_err(db_err)
    }

    /// Gives back a seat reserved by `add_member` whose member was not written.
    async fn release_seat(&self, group: GroupId) -> Result<()> {
        self.groups
            .update_one(doc! { "_id": group.object_id() }, doc! { "$inc": { "memberCount": -1 } })
            .await
            .map(drop)
            .map_err(db_err)
    }
}

#[async_trait]
impl GroupStore for MongoStore {
    async fn insert_group(&self, g: &Group) -> Result<()> {
        let mut g = g.clone();
        g.member_count = 1;
        self.groups.insert_one(group_doc(&g)).await.map_err(db_err)?;
        let owner = GroupMember { user_id: g.owner_id, role: GroupRole::Owner, joined_at: g.created_at };
        if let Err(err) = self.group_members.insert_one(member_doc(g.id, &owner)).await {
            // No owner, no group: take it back (best effort; it is unreachable anyway).
            let _ = self.groups.delete_one(doc! { "_id": g.id.object_id() }).await;
            return Err(db_err(err));
        }
        self.open_window(g.id, g.owner_id).await
    }

    async fn group(&self, id: GroupId) -> Result<Option<Group>> {
        let found = self.groups.find_one(doc! { "_id": id.object_id() }).await.map_err(db_err)?;
        found.as_ref().map(group_from_doc).transpose()
    }

    async fn member(&self, group: GroupId, user: UserId) -> Result<Option<GroupMember>> {
        let filter = doc! { "groupId": group.object_id(), "userId": user.object_id() };
        let found = self.group_members.find_one(filter).await.map_err(db_err)?;
        found.as_ref().map(member_from_doc).transpose()
    }

    async fn members(&self, group: GroupId) -> Result<Vec<GroupMember>> {
        let docs =
            find_all(&self.group_members, doc! { "groupId": group.object_id() }, doc! { "joinedAt": 1, "userId": 1 })
                .await?;
        docs.iter().map(member_from_doc).collect()
    }

    async fn recipients(&self, group: GroupId, sender: UserId) -> Result<Vec<UserId>> {
        let members = ids_of(&self.group_members, doc! { "groupId": group.object_id() }, "userId").await?;
        // Bounded by the member cap, as the members are, however many blocked `sender`.
        let filter = doc! { "blockedId": sender.object_id(), "blockerId": { "$in": &members } };
        let blockers: HashSet<ObjectId> = ids_of(&self.blocks, filter, "blockerId").await?.into_iter().collect();
        Ok(members.into_iter().filter(|m| !blockers.contains(m)).map(UserId::from).collect())
    }

    async fn groups_of(&self, user: UserId) -> Result<Vec<(Group, GroupRole)>> {
        let memberships = find_all(&self.group_members, doc! { "userId": user.object_id() }, doc! { "_id": 1 }).await?;
        let mut roles = HashMap::new();
        for d in &memberships {
            roles.insert(oid(d, "groupId")?, member_from_doc(d)?.role);
        }
        let ids: Vec<_> = roles.keys().copied().collect();
        let mut out = self
            .groups_by_ids(ids)
            .await?
            .into_iter()
            .map(|g| {
                let role =
                    roles.get(&g.id.object_id()).copied().ok_or_else(|| Error::internal("membership vanished"))?;
                Ok((g, role))
            })
            .collect::<Result<Vec<_>>>()?;
        out.sort_by(|(a, _), (b, _)| b.updated_at.cmp(&a.updated_at).then(b.id.cmp(&a.id)));
        Ok(out)
    }

    async fn add_member(&self, group: GroupId, member: &GroupMember, cap: u32, now: DateTime<Utc>) -> Result<Added> {
        if self.member(group, member.user_id).await?.is_some() {
            return Ok(Added::AlreadyMember);
        }
        let reserved = self
            .groups
            .update_one(
                doc! { "_id": group.object_id(), "archived": false, "memberCount": { "$lt": i64::from(cap) } },
                doc! { "$inc": { "memberCount": 1 }, "$set": { "updatedAt": bson_time(now) } },
            )
            .await
            .map_err(db_err)?;
        if reserved.modified_count == 0 {
            return Ok(match self.group(group).await? {
                Some(g) if !g.archived => Added::Full,
                _ => Added::Closed,
            });
        }
        match self.group_members.insert_one(member_doc(group, member)).await.map_err(db_err) {
            Ok(_) => {
                self.open_window(group, member.user_id).await?;
                Ok(Added::Added)
            }
            Err(err) => {
                self.release_seat(group).await?;
                match err {
                    // Added concurrently by someone else.
                    Error::Conflict(_) => Ok(Added::AlreadyMember),
                    other => Err(other),
                }
            }
        }
    }

    async fn remove_member(&self, group: GroupId, user: UserId, now: DateTime<Utc>) -> Result<Option<GroupRole>> {
        let removed = self
            .group_members
            .find_one_and_delete(doc! { "groupId": group.object_id(), "userId": user.object_id() })
            .await
            .map_err(db_err)?;
        let Some(removed) = removed else { return Ok(None) };
        let role = member_from_doc(&removed)?.role;
        self.close_window(group, user).await?;
        // The last member archives the group in the same update that counts them out.
        for _ in 0..COUNT_RETRIES {
            let last = self
                .groups
                .update_one(
                    doc! { "_id": group.object_id(), "memberCount": { "$lte": 1 } },
                    doc! { "$set": { "memberCount": 0, "archived": true, "updatedAt": bson_time(now) } },
                )
                .await
                .map_err(db_err)?;
            if last.matched_count > 0 {
                return Ok(Some(role));
            }
            let counted = self
                .groups
                .update_one(
                    doc! { "_id": group.object_id(), "memberCount": { "$gt": 1 } },
                    doc! { "$inc": { "memberCount": -1 }, "$set": { "updatedAt": bson_time(now) } },
                )
                .await
                .map_err(db_err)?;
            if counted.matched_count > 0 {
                return Ok(Some(role));
            }
        }
        Err(Error::internal("group member count kept changing"))
    }

    async fn set_role(
        &self,
        group: GroupId,
        user: UserId,
        from: GroupRole,
        to: GroupRole,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let changed = self
            .group_members
            .update_one(
                doc! { "groupId": group.object_id(), "userId": user.object_id(), "role": from.as_str() },
                doc! { "$set": { "role": to.as_str() } },
            )
            .await
            .map_err(db_err)?;
        if changed.modified_count == 0 {
            return Ok(false);
        }
        let mut set = doc! { "updatedAt": bson_time(now) };
        if to == GroupRole::Owner {
            set.insert("ownerId", user.object_id());
        }
        self.groups.update_one(doc! { "_id": group.object_id() }, doc! { "$set": set }).await.map_err(db_err)?;
        Ok(true)
    }

    async fn update_group(
        &self,
        id: GroupId,
        update: &GroupUpdate,
        now: DateTime<Utc>,
    ) -> Result<Option<(Group, Group)>> {
        let Some(old) = self.group(id).await?.filter(|g| !g.archived) else { return Ok(None) };
        let new = update.apply(&old, now);
        // Only the fields asked for, so concurrent edits of different fields both stand
        // (without transactions, the keys follow the last edit of the name or the tags).
        let mut set = doc! { "updatedAt": bson_time(now) };
        if update.name.is_some() || update.tags.is_some() {
            set.insert("keys", group_keys(&new.name, &new.tags));
        }
        if let Some(name) = &update.name {
            set.insert("name", name);
        }
        if let Some(description) = &update.description {
            set.insert("description", description);
        }
        if let Some(visibility) = update.visibility {
            set.insert("visibility", visibility.as_str());
        }
        if let Some(tags) = &update.tags {
            set.insert("tags", tags);
        }
        if let Some(photo) = &update.photo_url {
            set.insert("photoURL", photo);
        }
        let updated = self
            .groups
            .update_one(doc! { "_id": id.object_id(), "archived": false }, doc! { "$set": set })
            .await
            .map_err(db_err)?;
        Ok((updated.matched_count > 0).then_some((old, new)))
    }

    async fn insert_group_message(&self, m: &NewGroupMessageRecord) -> Result<Inserted<GroupMessage>> {
        let group = m.group.object_id();
        let mut d = doc! {
            "_id": m.id.object_id(),
            "senderId": m.sender.object_id(),
            "receiverId": group,
            "groupId": group,
            "convKey": m.group.to_hex(),
            "text": &m.text,
            "createdAt": bson_time(m.created_at),
            "updatedAt": bson_time(m.created_at),
        };
        if let Some(image) = &m.image {
            d.insert("image", image);
        }
        if let Some(change) = &m.change {
            d.insert("change", bson::to_bson(change).map_err(Error::internal)?);
        }
        let seq = match self.insert_once(d, m.client_msg_id.as_deref()).await? {
            Ok(seq) => seq,
            Err(found) => return Ok(Inserted::Existing(group_message_from_doc(&found)?)),
        };
        // Its latest activity, for discovery. Never back: a later message may be recorded
        // first. (A conditional `$set` rather than `$max`, which jongodb lacks.)
        let older = doc! { "$or": [{ "lastSeq": { "$lt": seq } }, { "lastSeq": { "$exists": false } }] };
        self.groups
            .update_one(doc! { "_id": group, "$and": [older] }, doc! { "$set": { "lastSeq": seq } })
            .await
            .map_err(db_err)?;
        Ok(Inserted::New(GroupMessage {
            id: m.id,
            group_id: m.group,
            sender_id: m.sender,
            text: m.text.clone(),
            image: m.image.clone(),
            client_msg_id: m.client_msg_id.clone(),
            created_at: m.created_at,
            change: m.change,
            seq,
        }))
    }

    async fn window(&self, group: GroupId, user: UserId) -> Result<Option<Window>> {
        self.window_of(group, user).await
    }

    async fn group_history(
        &self,
        group: GroupId,
        window: Window,
        hidden: &[UserId],
        before: Option<MessageId>,
        limit: u32,
    ) -> Result<Vec<GroupMessage>> {
        let key = group.to_hex();
        let mut seq = doc! { "$gt": window.from };
        match before {
            Some(before) => {
                let at = self.message_seq(before, doc! { "convKey": &key }).await?;
                if !window.contains(at) {
                    return Err(Error::NotFound("message"));
                }
                seq.insert("$lt", at);
            }
            None => {
                if let Some(to) = window.to {
                    seq.insert("$lte", to);
                }
            }
        }
        let filter = not_from(hidden, doc! { "convKey": &key, "seq": seq });
        let docs = find_page(&self.messages, filter, doc! { "seq": -1 }, limit).await?;
        let mut messages = docs.iter().map(group_message_from_doc).collect::<Result<Vec<_>>>()?;
        messages.reverse();
        Ok(messages)
    }

    async fn mark_group_read(&self, group: GroupId, user: UserId, up_to: MessageId) -> Result<bool> {
        let seq = self.message_seq(up_to, doc! { "convKey": group.to_hex() }).await?;
        let window = self.window_of(group, user).await?.filter(|w| w.contains(seq));
        if window.is_none() {
            return Err(Error::NotFound("message"));
        }
        let moved = self
            .group_windows
            .update_one(
                doc! { "_id": window_key(group, user), "readSeq": { "$lt": seq } },
                doc! { "$set": { "readSeq": seq } },
            )
            .await
            .map_err(db_err)?;
        Ok(moved.modified_count > 0)
    }

    async fn group_conversations(&self, user: UserId) -> Result<Vec<GroupConversation>> {
        let open: Vec<(GroupId, Window)> =
            self.windows_of(user).await?.into_iter().filter(|(_, window)| window.to.is_none()).collect();
        let ids: Vec<ObjectId> = open.iter().map(|(id, _)| id.object_id()).collect();
        let mut groups: HashMap<GroupId, Group> =
            self.groups_by_ids(ids).await?.into_iter().map(|g| (g.id, g)).collect();
        // Each group's last message and unread count, a few groups at a time rather than
        // one after the other: one round trip each.
        futures_util::stream::iter(open.into_iter().filter_map(|(id, window)| Some((groups.remove(&id)?, window))))
            .map(|(group, window)| self.group_conversation(user, group, window))
            .buffered(8)
            .try_collect()
            .await
    }

    async fn discover_groups(&self, filter: &GroupFilter) -> Result<Vec<Group>> {
        let mut conditions = vec![doc! { "visibility": Visibility::Public.as_str(), "archived": false }];
        if !filter.keys.is_empty() {
            conditions.push(doc! { "keys": { "$all": &filter.keys } });
        }
        if let Some(prefix) = &filter.prefix {
            // Keys are `w:` and letters or digits only: nothing to escape.
            conditions.push(doc! { "keys": { "$regex": format!("^{prefix}") } });
        }
        let docs: Vec<Document> = self
            .groups
            .find(doc! { "$and": conditions })
            .sort(doc! { "lastSeq": -1, "_id": -1 })
            .skip(filter.offset)
            .limit(i64::from(filter.limit))
            .await
            .map_err(db_err)?
            .try_collect()
            .await
            .map_err(db_err)?;
        docs.iter().map(group_from_doc).collect()
    }
}
