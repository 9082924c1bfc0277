//! Groups: communities with a member list and roles (`owner`, `admin`, `member`).
//!
//! The creator is the owner. Owners and admins add members, but only their own
//! connections; anyone may join a public group. Admins remove members, the owner also
//! admins; nobody removes the owner. The owner promotes and demotes admins and may hand
//! the group to another member; an owner who leaves hands it to the longest-standing
//! admin, else member, and the last member leaving archives it. A private group does
//! not exist for anyone outside it (`NotFound`). The member cap
//! ([`Settings::group_member_cap`](crate::Settings)) holds under concurrent joins: the
//! store checks it in the same step as the write.
//!
//! Every change is told to the group's members live: `groupMemberAdded`,
//! `groupMemberRemoved` (also to whoever left or was removed) and `groupUpdated` (a new
//! owner, a role, an archived group). Each is also a system message in the group's
//! history ([`GroupChange`]), so clients can render "Ada added Bob".

pub use devconnect_types::group::{Group, GroupChange, GroupMember, GroupPage, GroupRole, MyGroup, Visibility};

use crate::feed::{page_and_limit, skill_filter};
use crate::media::Upload;
use crate::model::{Event, GroupFilter, GroupMemberAdded, GroupMemberRemoved, GroupUpdate, name_words};
use crate::profile::{parse_free_text, parse_labels, parse_line};
use crate::store::Added;
use crate::{DevConnect, Error, GroupId, Result, UserId};

/// A group name may be at most this many characters.
pub const MAX_NAME_CHARS: usize = 100;
/// A group description may be at most this many characters.
pub const MAX_DESCRIPTION_CHARS: usize = 1000;

/// A discovery query may be at most this many characters.
pub const MAX_QUERY_CHARS: usize = 100;
/// A discovery query may have at most this many words.
pub const MAX_QUERY_WORDS: usize = 5;

/// What public groups to find: all when empty.
#[derive(Clone, Debug, Default)]
pub struct GroupQuery {
    /// Words of the name: each must be a whole word of it, except the last, which may
    /// be the start of one (search as you type). Case-insensitive.
    pub q: Option<String>,
    /// Tags the group must all have (case-insensitive).
    pub tags: Vec<String>,
    /// 1-based page number; default 1.
    pub page: Option<u32>,
    /// Page size; default 10, at most 50.
    pub limit: Option<u32>,
}

impl GroupQuery {
    /// The store's filter, with the page and size it asks for.
    fn filter(&self) -> Result<(u32, u32, GroupFilter)> {
        let (page, limit) = page_and_limit(self.page, self.limit)?;
        let q = self.q.as_deref().unwrap_or_default();
        // Measured before any per-word work.
        if q.chars().count() > MAX_QUERY_CHARS {
            return Err(Error::validation("q", format!("must be at most {MAX_QUERY_CHARS} characters")));
        }
        let mut words: Vec<String> = name_words(q).collect();
        if words.len() > MAX_QUERY_WORDS {
            return Err(Error::validation("q", format!("must have at most {MAX_QUERY_WORDS} words")));
        }
        let prefix = words.pop().map(|w| format!("w:{w}"));
        let mut keys: Vec<String> = words.into_iter().map(|w| format!("w:{w}")).collect();
        keys.extend(skill_filter("skills", &self.tags)?.into_iter().map(|t| format!("t:{t}")));
        keys.sort();
        keys.dedup();
        let filter = GroupFilter { keys, prefix, offset: u64::from(page - 1) * u64::from(limit), limit: limit + 1 };
        Ok((page, limit, filter))
    }
}

/// Changes to a group's details; `None` leaves a field as it is.
#[derive(Clone, Debug, Default)]
pub struct GroupEdit {
    /// A new name: 1–100 characters (trimmed).
    pub name: Option<String>,
    /// A new description: up to 1,000 characters (trimmed); empty for none.
    pub description: Option<String>,
    /// A new visibility.
    pub visibility: Option<Visibility>,
    /// New tags (all of them): at most 20, each at most 40 characters.
    pub tags: Option<Vec<String>>,
    /// A new photo (JPEG, PNG or WebP bytes; the rules of profile photos).
    pub photo: Option<Upload>,
}

/// A group to create.
#[derive(Clone, Debug)]
pub struct NewGroup {
    /// 1–100 characters (trimmed).
    pub name: String,
    /// Up to 1,000 characters (trimmed); empty for none.
    pub description: String,
    /// Private (members added by owners and admins) or public (anyone joins).
    pub visibility: Visibility,
    /// Topics, like profile skills: at most 20, each at most 40 characters.
    pub tags: Vec<String>,
}

fn parse_group_name(raw: &str) -> Result<String> {
    parse_line("name", raw, MAX_NAME_CHARS)
}

fn parse_description(raw: &str) -> Result<String> {
    parse_free_text("description", raw, MAX_DESCRIPTION_CHARS)
}

impl DevConnect {
    /// Creates a group with `me` as its owner and only member.
    pub async fn create_group(&self, me: UserId, new: NewGroup) -> Result<Group> {
        let name = parse_group_name(&new.name)?;
        let description = parse_description(&new.description)?;
        let tags = parse_labels("tags", "tag", &new.tags)?;
        self.inner.limits.check_edit(me)?;
        self.user_record(me).await?;
        let now = crate::now();
        let group = Group {
            id: GroupId::new(),
            name,
            description,
            visibility: new.visibility,
            tags,
            photo_url: None,
            owner_id: me,
            member_count: 1,
            archived: false,
            created_at: now,
            updated_at: now,
        };
        self.inner.store.insert_group(&group).await?;
        self.record_change(group.id, me, GroupChange::Created).await?;
        Ok(group)
    }

    /// A group as `me` may see it: any public group, a private one only as a member.
    pub async fn group(&self, me: UserId, id: GroupId) -> Result<Group> {
        let (group, _) = self.visible_group(me, id).await?;
        Ok(self.publish(group))
    }

    /// The members of a group `me` may see, longest-standing first (suspended members
    /// are left out).
    pub async fn group_members(&self, me: UserId, id: GroupId) -> Result<Vec<GroupMember>> {
        self.visible_group(me, id).await?;
        let mut members = self.inner.store.members(id).await?;
        // Suspended members stay members but are not listed.
        let ids: Vec<UserId> = members.iter().map(|m| m.user_id).collect();
        let suspended = self.inner.store.suspended_among(&ids).await?;
        if !suspended.is_empty() {
            members.retain(|m| !suspended.contains(&m.user_id));
        }
        Ok(members)
    }

    /// Changes a group's details; its owner and admins may. Every given field is
    /// validated first, nothing changes unless all are valid; a new photo replaces the
    /// old one, which is then deleted. The members get `groupUpdated` and a system
    /// message. An edit that gives no field changes nothing and tells nobody.
    pub async fn edit_group(&self, me: UserId, id: GroupId, edit: GroupEdit) -> Result<Group> {
        let mut update = GroupUpdate {
            name: edit.name.as_deref().map(parse_group_name).transpose()?,
            description: edit.description.as_deref().map(parse_description).transpose()?,
            visibility: edit.visibility,
            tags: edit.tags.as_deref().map(|t| parse_labels("tags", "tag", t)).transpose()?,
            photo_url: None,
        };
        let (group, my_role) = self.visible_group(me, id).await?;
        if !my_role.is_some_and(GroupRole::manages_members) {
            return Err(Error::Forbidden("only the owner and admins edit a group"));
        }
        let GroupUpdate { name, description, visibility, tags, .. } = &update;
        if name.is_none() && description.is_none() && visibility.is_none() && tags.is_none() && edit.photo.is_none() {
            return Ok(self.publish(group));
        }
        self.inner.limits.check_edit(me)?;
        if let Some(photo) = edit.photo {
            update.photo_url = Some(self.store_image(photo).await?);
        }
        let updated = self.inner.store.update_group(id, &update, crate::now()).await;
        let old_photo = updated.as_ref().ok().and_then(|u| u.as_ref()).and_then(|(old, _)| old.photo_url.clone());
        let stored = matches!(updated, Ok(Some(_)));
        self.finish_photo_change(old_photo.as_deref(), update.photo_url.as_deref(), stored).await;
        let (_, group) = updated?.ok_or(Error::NotFound("group"))?;
        self.tell_updated(id).await?;
        self.record_change(id, me, GroupChange::Edited).await?;
        Ok(self.publish(group))
    }

    /// Public groups, most recently active first (by their latest message, system
    /// messages included), found by name words and tags; paged like the feed.
    pub async fn discover_groups(&self, query: &GroupQuery) -> Result<GroupPage> {
        let (page, limit, filter) = query.filter()?;
        let mut groups = self.inner.store.discover_groups(&filter).await?;
        let has_more = groups.len() > limit as usize;
        groups.truncate(limit as usize);
        Ok(self.publish(GroupPage { groups, page, limit, has_more }))
    }

    /// The groups `me` is a member of, most recently changed first.
    pub async fn my_groups(&self, me: UserId) -> Result<Vec<MyGroup>> {
        let groups = self.inner.store.groups_of(me).await?;
        Ok(self.publish(groups.into_iter().map(|(group, role)| MyGroup { group, role }).collect::<Vec<_>>()))
    }

    /// Adds `user`, one of `me`'s connections, to a group `me` owns or administers.
    pub async fn add_group_member(&self, me: UserId, id: GroupId, user: UserId) -> Result<GroupMember> {
        let (_, my_role) = self.visible_group(me, id).await?;
        if !my_role.is_some_and(GroupRole::manages_members) {
            return Err(Error::Forbidden("only the owner and admins add members"));
        }
        if user == me {
            return Err(Error::Conflict("already a member"));
        }
        self.user_record(user).await?;
        if !self.inner.store.are_connected(me, user).await? {
            return Err(Error::Forbidden("you can add only your connections"));
        }
        self.enter(id, me, user).await
    }

    /// Joins a public group.
    pub async fn join_group(&self, me: UserId, id: GroupId) -> Result<GroupMember> {
        let (group, _) = self.visible_group(me, id).await?;
        if group.visibility != Visibility::Public {
            // A member of a private group asking to join it: they are in already.
            return Err(Error::Conflict("already a member"));
        }
        self.enter(id, me, me).await
    }

    /// Leaves a group. An owner hands it on first (to the longest-standing admin, else
    /// member); the last member leaving archives it.
    pub async fn leave_group(&self, me: UserId, id: GroupId) -> Result<()> {
        let role = self.role_in(id, me).await?.ok_or(Error::NotFound("group"))?;
        if role == GroupRole::Owner {
            self.hand_on(id, me).await?;
        }
        if self.inner.store.remove_member(id, me, crate::now()).await?.is_some() {
            self.tell_removed(id, me).await?;
            self.record_change(id, me, GroupChange::Left).await?;
        }
        Ok(())
    }

    /// Removes `user` from a group: admins remove members, the owner also admins;
    /// nobody removes the owner.
    pub async fn remove_group_member(&self, me: UserId, id: GroupId, user: UserId) -> Result<()> {
        let (_, my_role) = self.visible_group(me, id).await?;
        let my_role = my_role
            .filter(|r| r.manages_members())
            .ok_or(Error::Forbidden("only the owner and admins remove members"))?;
        if user == me {
            return Err(Error::validation("userId", "leave the group instead"));
        }
        let their_role = self.role_in(id, user).await?.ok_or(Error::NotFound("member"))?;
        match (my_role, their_role) {
            (_, GroupRole::Owner) => return Err(Error::Forbidden("the owner cannot be removed")),
            (GroupRole::Admin, GroupRole::Admin) => return Err(Error::Forbidden("only the owner removes admins")),
            _ => {}
        }
        self.inner.store.remove_member(id, user, crate::now()).await?.ok_or(Error::NotFound("member"))?;
        self.tell_removed(id, user).await?;
        self.record_change(id, me, GroupChange::Removed { user_id: user }).await
    }

    /// Makes a member an admin or an admin a member again (the owner only; the owner's
    /// own role changes by [`DevConnect::transfer_group`]).
    pub async fn set_group_role(&self, me: UserId, id: GroupId, user: UserId, role: GroupRole) -> Result<GroupMember> {
        if role == GroupRole::Owner {
            return Err(Error::validation("role", "must be admin or member; hand the group on to make an owner"));
        }
        self.require_owner(me, id).await?;
        if user == me {
            return Err(Error::validation("userId", "the owner's role changes only by handing the group on"));
        }
        let member = self.inner.store.member(id, user).await?.ok_or(Error::NotFound("member"))?;
        if member.role != role {
            if !self.inner.store.set_role(id, user, member.role, role, crate::now()).await? {
                return Err(Error::Conflict("the member changed meanwhile; try again"));
            }
            self.tell_updated(id).await?;
            self.record_change(id, me, GroupChange::RoleChanged { user_id: user, role }).await?;
        }
        Ok(GroupMember { role, ..member })
    }

    /// Hands a group `me` owns to another member; `me` stays on as an admin.
    pub async fn transfer_group(&self, me: UserId, id: GroupId, to: UserId) -> Result<()> {
        self.require_owner(me, id).await?;
        if to == me {
            return Err(Error::validation("userId", "you own it already"));
        }
        let heir = self.inner.store.member(id, to).await?.ok_or(Error::NotFound("member"))?;
        self.crown(id, me, heir).await?;
        self.tell_updated(id).await
    }

    /// The group and `me`'s role in it, if `me` may see it.
    pub(crate) async fn visible_group(&self, me: UserId, id: GroupId) -> Result<(Group, Option<GroupRole>)> {
        let group = self.inner.store.group(id).await?.ok_or(Error::NotFound("group"))?;
        let role = self.role_in(id, me).await?;
        if group.visibility == Visibility::Private && role.is_none() {
            return Err(Error::NotFound("group"));
        }
        Ok((group, role))
    }

    async fn role_in(&self, id: GroupId, user: UserId) -> Result<Option<GroupRole>> {
        Ok(self.inner.store.member(id, user).await?.map(|m| m.role))
    }

    async fn require_owner(&self, me: UserId, id: GroupId) -> Result<()> {
        match self.visible_group(me, id).await? {
            (_, Some(GroupRole::Owner)) => Ok(()),
            _ => Err(Error::Forbidden("only the owner may do that")),
        }
    }

    /// Adds `user` as a member, within the cap; `actor` added them (or is them, joining).
    async fn enter(&self, id: GroupId, actor: UserId, user: UserId) -> Result<GroupMember> {
        let now = crate::now();
        let member = GroupMember { user_id: user, role: GroupRole::Member, joined_at: now };
        match self.inner.store.add_member(id, &member, self.inner.settings.group_member_cap, now).await? {
            Added::Added => {
                // Deleting an account leaves the groups it finds (`delete_account`); a
                // membership stored after it looked would outlive the account. Checked
                // after the insert, so one side or the other always sees the other.
                if let Err(gone) = self.user_record(user).await {
                    self.inner.store.remove_member(id, user, crate::now()).await?;
                    return Err(gone);
                }
                let event = Event::GroupMemberAdded(Box::new(GroupMemberAdded { group_id: id, member }));
                self.tell_members(id, &[], &event).await?;
                let change = if actor == user { GroupChange::Joined } else { GroupChange::Added { user_id: user } };
                self.record_change(id, actor, change).await?;
                Ok(member)
            }
            Added::AlreadyMember => Err(Error::Conflict("already a member")),
            Added::Full => Err(Error::LimitExceeded("the group is full")),
            Added::Closed => Err(Error::NotFound("group")),
        }
    }

    /// Before the owner `me` leaves: makes the longest-standing admin (else member) the
    /// owner. Retried if that member changes meanwhile; with nobody else, nothing to do.
    async fn hand_on(&self, id: GroupId, me: UserId) -> Result<()> {
        for _ in 0..3 {
            let members = self.inner.store.members(id).await?;
            let others = || members.iter().filter(|m| m.user_id != me);
            let heir = others().find(|m| m.role == GroupRole::Admin).or_else(|| others().next());
            let Some(heir) = heir.copied() else { return Ok(()) };
            match self.crown(id, me, heir).await {
                Err(Error::Conflict(_)) => continue,
                Ok(()) => return self.tell_updated(id).await,
                Err(other) => return Err(other),
            }
        }
        Err(Error::Conflict("the group's members kept changing; try again"))
    }

    /// Sends `event` to every member of the group and to `also` (one delivery, which a
    /// bus publishes once for all of them).
    async fn tell_members(&self, id: GroupId, also: &[UserId], event: &Event) -> Result<()> {
        let mut to: Vec<UserId> = self.inner.store.members(id).await?.iter().map(|m| m.user_id).collect();
        to.extend_from_slice(also);
        self.inner.realtime.deliver(&to, event);
        Ok(())
    }

    /// Tells the members, and `user`, that `user` is no longer one; and, if that
    /// archived the group, that it is.
    async fn tell_removed(&self, id: GroupId, user: UserId) -> Result<()> {
        let event = Event::GroupMemberRemoved(Box::new(GroupMemberRemoved { group_id: id, user_id: user }));
        self.tell_members(id, &[user], &event).await?;
        match self.inner.store.group(id).await? {
            Some(group) if group.archived => {
                self.inner.realtime.deliver(&[user], &Event::GroupUpdated(Box::new(self.publish(group))));
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// Tells the members the group as it is now.
    async fn tell_updated(&self, id: GroupId) -> Result<()> {
        let Some(group) = self.inner.store.group(id).await? else { return Ok(()) };
        self.tell_members(id, &[], &Event::GroupUpdated(Box::new(self.publish(group)))).await
    }

    /// Makes `heir` the owner and the owner `me` an admin.
    async fn crown(&self, id: GroupId, me: UserId, heir: GroupMember) -> Result<()> {
        let now = crate::now();
        if !self.inner.store.set_role(id, heir.user_id, heir.role, GroupRole::Owner, now).await? {
            return Err(Error::Conflict("the member changed meanwhile; try again"));
        }
        self.inner.store.set_role(id, me, GroupRole::Owner, GroupRole::Admin, now).await?;
        self.record_change(id, me, GroupChange::RoleChanged { user_id: heir.user_id, role: GroupRole::Owner }).await
    }
}
