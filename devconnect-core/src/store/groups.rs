//! The groups aggregate: groups and their members. The member cap and "one membership
//! per person and group" hold under concurrency because the store enforces them in the
//! same step as the write.

use chrono::{DateTime, Utc};
use devconnect_types::{Group, GroupId, GroupMember, GroupRole, UserId};

use crate::Result;

/// What [`GroupStore::add_member`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Added {
    /// The person is a member now.
    Added,
    /// They were one already; nothing changed.
    AlreadyMember,
    /// The group has `cap` members; nothing changed.
    Full,
    /// No such group, or it is archived; nothing changed.
    Closed,
}

super::timed::store_aggregate! {
    /// Groups and their members.
    pub trait GroupStore {
        /// Inserts a new group with its owner as its one member (`group.owner_id`,
        /// joined at `group.created_at`).
        async fn insert_group(&self, group: &Group) -> Result<()>;
        /// A group by id (archived ones too).
        async fn group(&self, id: GroupId) -> Result<Option<Group>>;
        /// `user`'s membership of `group`, if any.
        async fn member(&self, group: GroupId, user: UserId) -> Result<Option<GroupMember>>;
        /// The members of `group`, longest-standing first.
        async fn members(&self, group: GroupId) -> Result<Vec<GroupMember>>;
        /// The groups `user` is a member of, with their role, most recently changed first.
        async fn groups_of(&self, user: UserId) -> Result<Vec<(Group, GroupRole)>>;
        /// Adds `member` to `group` unless it is archived, they are a member already, or
        /// it has `cap` members: checked and written in one step, so concurrent adds never
        /// pass the cap.
        async fn add_member(&self, group: GroupId, member: &GroupMember, cap: u32, now: DateTime<Utc>) -> Result<Added>;
        /// Removes `user` from `group`; the role they had, or `None` if they were not a
        /// member. The last member leaving archives the group.
        async fn remove_member(&self, group: GroupId, user: UserId, now: DateTime<Utc>) -> Result<Option<GroupRole>>;
        /// Changes `user`'s role from `from` to `to` if it is still `from`; whether it did.
        /// Making someone `owner` also makes them the group's owner.
        async fn set_role(
            &self,
            group: GroupId,
            user: UserId,
            from: GroupRole,
            to: GroupRole,
            now: DateTime<Utc>,
        ) -> Result<bool>;
    }
}
