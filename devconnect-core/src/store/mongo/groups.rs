//! The groups aggregate on MongoDB. Without transactions (a standalone server has none),
//! the member cap is kept by reserving a seat: `memberCount` is raised only while it is
//! below the cap, in one conditional update, before the member document is written; a
//! write that then fails gives the seat back. So concurrent joins never pass the cap.

use async_trait::async_trait;
use bson::{Bson, Document, doc};
use chrono::{DateTime, Utc};
use devconnect_types::{Group, GroupId, GroupMember, GroupRole, UserId, Visibility};
use futures_util::TryStreamExt as _;

use super::documents::{bson_time, int, oid, string, strings, time};
use super::error::db_err;
use super::{MongoStore, find_all};
use crate::store::{Added, GroupStore};
use crate::{Error, Result};

/// How often a member count update is retried when the count moved under it.
const COUNT_RETRIES: usize = 16;

fn group_doc(g: &Group) -> Document {
    doc! {
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
    }
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

impl MongoStore {
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
        Ok(())
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

    async fn groups_of(&self, user: UserId) -> Result<Vec<(Group, GroupRole)>> {
        let memberships = find_all(&self.group_members, doc! { "userId": user.object_id() }, doc! { "_id": 1 }).await?;
        let mut roles = std::collections::HashMap::new();
        for d in &memberships {
            roles.insert(oid(d, "groupId")?, member_from_doc(d)?.role);
        }
        let ids: Vec<_> = roles.keys().copied().collect();
        let groups: Vec<Document> = self
            .groups
            .find(doc! { "_id": { "$in": ids } })
            .await
            .map_err(db_err)?
            .try_collect()
            .await
            .map_err(db_err)?;
        let mut out = groups
            .iter()
            .map(|d| {
                let g = group_from_doc(d)?;
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
            Ok(_) => Ok(Added::Added),
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
}
