//! The groups aggregate: groups, their members and their messages. The member cap and
//! "one membership per person and group" hold under concurrency because the store
//! enforces them in the same step as the write.
//!
//! Group messages share the positions of 1:1 messages (one sequence), so one `sync`
//! cursor covers both. Each member has a [`Window`] on a group's history, opened at the
//! highest position when they join and closed at the highest when they leave: they see
//! what was sent in between (Matrix's "joined" history visibility).

use chrono::{DateTime, Utc};
use devconnect_types::{Group, GroupConversation, GroupId, GroupMember, GroupMessage, GroupRole, MessageId, UserId};

use crate::Result;
use crate::model::{GroupFilter, GroupUpdate, Inserted, NewGroupMessageRecord, Window};

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
        /// joined at `group.created_at`), opening the owner's window.
        async fn insert_group(&self, group: &Group) -> Result<()>;
        /// A group by id (archived ones too).
        async fn group(&self, id: GroupId) -> Result<Option<Group>>;
        /// `user`'s membership of `group`, if any.
        async fn member(&self, group: GroupId, user: UserId) -> Result<Option<GroupMember>>;
        /// The members of `group`, longest-standing first.
        async fn members(&self, group: GroupId) -> Result<Vec<GroupMember>>;
        /// Who gets what `sender` says in `group`: its members, less those who blocked
        /// `sender`, in no particular order. One read on every message: ids only, and
        /// bounded by the member cap whoever blocked whom.
        async fn recipients(&self, group: GroupId, sender: UserId) -> Result<Vec<UserId>>;
        /// The groups `user` is a member of, with their role, most recently changed first.
        async fn groups_of(&self, user: UserId) -> Result<Vec<(Group, GroupRole)>>;
        /// Adds `member` to `group` unless it is archived, they are a member already, or
        /// it has `cap` members: checked and written in one step, so concurrent adds never
        /// pass the cap. Opens (or, for a returning member, reopens) their window.
        async fn add_member(&self, group: GroupId, member: &GroupMember, cap: u32, now: DateTime<Utc>) -> Result<Added>;
        /// Removes `user` from `group`, closing their window; the role they had, or `None`
        /// if they were not a member. The last member leaving archives the group.
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
        /// Applies `update` to an unarchived group (and the keys it is found by); the
        /// group as it was before and as it is now, or `None` if there is no such
        /// unarchived group.
        async fn update_group(
            &self,
            id: GroupId,
            update: &GroupUpdate,
            now: DateTime<Utc>,
        ) -> Result<Option<(Group, Group)>>;
        /// Stores a group message with the next position, or returns the one stored
        /// earlier under the same sender, group and client message id.
        async fn insert_group_message(&self, message: &NewGroupMessageRecord) -> Result<Inserted<GroupMessage>>;
        /// `user`'s window on `group`'s history, as a member or a former one.
        async fn window(&self, group: GroupId, user: UserId) -> Result<Option<Window>>;
        /// Up to `limit` messages of `group` inside `window`, before `before` (or the
        /// newest), oldest first, leaving out messages sent by `hidden`. A `before` that is
        /// not one of them is `NotFound`.
        async fn group_history(
            &self,
            group: GroupId,
            window: Window,
            hidden: &[UserId],
            before: Option<MessageId>,
            limit: u32,
        ) -> Result<Vec<GroupMessage>>;
        /// Moves `user`'s read position in `group` up to the message `up_to`, which must be
        /// a message of the group inside their window (`NotFound` otherwise); never back.
        /// Whether it moved.
        async fn mark_group_read(&self, group: GroupId, user: UserId, up_to: MessageId) -> Result<bool>;
        /// The groups `user` is a member of, each with the last message inside their
        /// window and how many messages from others (not system messages) follow their
        /// read position.
        async fn group_conversations(&self, user: UserId) -> Result<Vec<GroupConversation>>;
        /// Public, unarchived groups having every key of `filter` (and one starting with
        /// its prefix), most recently active first (by their latest message, then newest
        /// id), the page `filter` asks for.
        async fn discover_groups(&self, filter: &GroupFilter) -> Result<Vec<Group>>;
    }
}
