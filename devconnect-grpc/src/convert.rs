//! Conversions between core types and the generated protobuf types. Requests are
//! decoded into core inputs here with no rule of their own: the core validates.

use devconnect_core::chat::ChatPartner;
use devconnect_core::realtime::Event;
use devconnect_core::{
    AnyMessage, ConnectionRequest, Conversation, DirectConversation, Gender, Group, GroupChange, GroupConversation,
    GroupId, GroupMember, GroupMessage, GroupPage, GroupRole, Me, Message, MessageId, MyGroup, Profile, RequestId,
    RequestStatus, Result, SyncPage, UserId, Visibility,
};

use crate::pb;

mod moderation;
mod push;
mod safety;
mod search;

pub(crate) use moderation::{report_filter, report_status};
pub(crate) use push::{push_settings_patch, push_subscription};
pub(crate) use safety::{report_kind_text, report_reason_text};
pub(crate) use search::search_query;

/// A core time as a protobuf `Timestamp`.
fn timestamp(t: chrono::DateTime<chrono::Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp { seconds: t.timestamp(), nanos: i32::try_from(t.timestamp_subsec_nanos()).unwrap_or(0) }
}

impl From<Gender> for pb::Gender {
    fn from(g: Gender) -> Self {
        match g {
            Gender::Male => Self::Male,
            Gender::Female => Self::Female,
            Gender::Others => Self::Others,
        }
    }
}

impl From<RequestStatus> for pb::RequestStatus {
    fn from(s: RequestStatus) -> Self {
        match s {
            RequestStatus::Interested => Self::Interested,
            RequestStatus::Ignored => Self::Ignored,
            RequestStatus::Accepted => Self::Accepted,
            RequestStatus::Rejected => Self::Rejected,
        }
    }
}

impl From<Profile> for pb::Profile {
    fn from(p: Profile) -> Self {
        Self {
            id: p.id.to_hex(),
            first_name: p.first_name,
            last_name: p.last_name,
            age: p.age.map(u32::from),
            gender: p.gender.map_or(pb::Gender::Unspecified, pb::Gender::from).into(),
            photo_url: p.photo_url,
            about: p.about,
            skills: p.skills,
            created_at: Some(timestamp(p.created_at)),
            updated_at: Some(timestamp(p.updated_at)),
            location: p.location,
            experience_years: p.experience_years.map(u32::from),
            deleted: p.deleted,
        }
    }
}

impl From<GroupRole> for pb::GroupRole {
    fn from(r: GroupRole) -> Self {
        match r {
            GroupRole::Owner => Self::Owner,
            GroupRole::Admin => Self::Admin,
            GroupRole::Member => Self::Member,
        }
    }
}

impl From<Group> for pb::Group {
    fn from(g: Group) -> Self {
        let visibility = match g.visibility {
            Visibility::Private => pb::Visibility::Private,
            Visibility::Public => pb::Visibility::Public,
        };
        Self {
            id: g.id.to_hex(),
            name: g.name,
            description: g.description,
            visibility: visibility.into(),
            tags: g.tags,
            owner_id: g.owner_id.to_hex(),
            member_count: g.member_count,
            archived: g.archived,
            created_at: Some(timestamp(g.created_at)),
            updated_at: Some(timestamp(g.updated_at)),
            photo_url: g.photo_url,
        }
    }
}

impl From<GroupMember> for pb::GroupMember {
    fn from(m: GroupMember) -> Self {
        Self {
            user_id: m.user_id.to_hex(),
            role: pb::GroupRole::from(m.role).into(),
            joined_at: Some(timestamp(m.joined_at)),
        }
    }
}

impl From<MyGroup> for pb::MyGroup {
    fn from(m: MyGroup) -> Self {
        Self { group: Some(m.group.into()), role: pb::GroupRole::from(m.role).into() }
    }
}

impl From<GroupPage> for pb::DiscoverGroupsResponse {
    fn from(page: GroupPage) -> Self {
        let GroupPage { groups, page, limit, has_more } = page;
        Self { groups: groups.into_iter().map(Into::into).collect(), page, limit, has_more }
    }
}

/// A group id from a request field.
pub(crate) fn group_id(field: &'static str, raw: &str) -> Result<GroupId> {
    Ok(GroupId::parse(field, raw)?)
}

/// A group's visibility; unspecified is private, an unknown number is passed on as text
/// for the core to refuse.
pub(crate) fn visibility(raw: i32) -> Result<Visibility> {
    let text = match pb::Visibility::try_from(raw) {
        Ok(pb::Visibility::Unspecified | pb::Visibility::Private) => Visibility::Private.as_str().to_owned(),
        Ok(pb::Visibility::Public) => Visibility::Public.as_str().to_owned(),
        Err(_) => raw.to_string(),
    };
    Ok(Visibility::parse(&text)?)
}

/// A visibility to change to: unspecified (like absent) leaves it as it is.
pub(crate) fn edited_visibility(raw: Option<i32>) -> Result<Option<Visibility>> {
    raw.filter(|&v| v != i32::from(pb::Visibility::Unspecified)).map(visibility).transpose()
}

/// A member's role from a request; unspecified or unknown is refused by the parse.
pub(crate) fn group_role(raw: i32) -> Result<GroupRole> {
    let text = match pb::GroupRole::try_from(raw) {
        Ok(pb::GroupRole::Owner) => GroupRole::Owner.as_str().to_owned(),
        Ok(pb::GroupRole::Admin) => GroupRole::Admin.as_str().to_owned(),
        Ok(pb::GroupRole::Member) => GroupRole::Member.as_str().to_owned(),
        Ok(pb::GroupRole::Unspecified) => "unspecified".to_owned(),
        Err(_) => raw.to_string(),
    };
    Ok(GroupRole::parse(&text)?)
}

impl From<Me> for pb::Me {
    fn from(me: Me) -> Self {
        Self { profile: Some(me.profile.into()), email_id: me.email }
    }
}

impl From<Message> for pb::Message {
    fn from(m: Message) -> Self {
        Self {
            id: m.id.to_hex(),
            sender_id: m.sender_id.to_hex(),
            receiver_id: m.receiver_id.to_hex(),
            text: m.text,
            image: m.image,
            client_msg_id: m.client_msg_id,
            created_at: Some(timestamp(m.created_at)),
            read_at: m.read_at.map(timestamp),
        }
    }
}

impl From<GroupChange> for pb::GroupChange {
    fn from(change: GroupChange) -> Self {
        use pb::GroupChangeKind as Kind;
        let (kind, user_id, role) = match change {
            GroupChange::Created => (Kind::Created, None, None),
            GroupChange::Joined => (Kind::Joined, None, None),
            GroupChange::Added { user_id } => (Kind::Added, Some(user_id), None),
            GroupChange::Left => (Kind::Left, None, None),
            GroupChange::Edited => (Kind::Edited, None, None),
            GroupChange::Removed { user_id } => (Kind::Removed, Some(user_id), None),
            GroupChange::RoleChanged { user_id, role } => (Kind::RoleChanged, Some(user_id), Some(role)),
        };
        Self {
            kind: kind.into(),
            user_id: user_id.map(UserId::to_hex),
            role: role.map_or(pb::GroupRole::Unspecified, pb::GroupRole::from).into(),
        }
    }
}

impl From<GroupMessage> for pb::GroupMessage {
    fn from(m: GroupMessage) -> Self {
        // `seq` is the server's internal position; the API does not show it.
        let GroupMessage { id, group_id, sender_id, text, image, client_msg_id, created_at, change, seq: _ } = m;
        Self {
            id: id.to_hex(),
            group_id: group_id.to_hex(),
            sender_id: sender_id.to_hex(),
            text,
            image,
            client_msg_id,
            created_at: Some(timestamp(created_at)),
            change: change.map(Into::into),
        }
    }
}

/// A sync page split by kind; `last_message_id` keeps the cursor a page of group
/// messages only would otherwise lose.
impl From<SyncPage> for pb::SyncMessagesResponse {
    fn from(page: SyncPage) -> Self {
        let last_message_id = page.messages.last().map(|m| m.id().to_hex());
        let (mut messages, mut group_messages) = (Vec::new(), Vec::new());
        for message in page.messages {
            match message {
                AnyMessage::Direct(m) => messages.push(m.into()),
                AnyMessage::Group(m) => group_messages.push(m.into()),
            }
        }
        Self { messages, has_more: page.has_more, group_messages, last_message_id }
    }
}

impl From<ChatPartner> for pb::ChatPartner {
    fn from(p: ChatPartner) -> Self {
        Self {
            profile: Some(p.profile.into()),
            online: p.online,
            last_message: p.last_message.map(Into::into),
            unread_count: p.unread_count,
        }
    }
}

impl From<Conversation> for pb::Conversation {
    fn from(c: Conversation) -> Self {
        use pb::conversation::Kind;
        let kind = match c {
            Conversation::Direct(DirectConversation { user, online, last_message, unread_count }) => {
                Kind::Direct(pb::DirectConversation {
                    user: Some(user.into()),
                    online,
                    last_message: last_message.map(Into::into),
                    unread_count,
                })
            }
            Conversation::Group(GroupConversation { group, last_message, unread_count }) => {
                Kind::Group(pb::GroupConversation {
                    group: Some(group.into()),
                    last_message: last_message.map(Into::into),
                    unread_count,
                })
            }
        };
        Self { kind: Some(kind) }
    }
}

/// One side of a request: its id, and the profile where the core embedded one.
pub(crate) trait Party {
    fn split(self) -> (UserId, Option<pb::Profile>);
}

impl Party for UserId {
    fn split(self) -> (UserId, Option<pb::Profile>) {
        (self, None)
    }
}

impl Party for Profile {
    fn split(self) -> (UserId, Option<pb::Profile>) {
        (self.id, Some(self.into()))
    }
}

impl<F: Party, T: Party> From<ConnectionRequest<F, T>> for pb::ConnectionRequest {
    fn from(r: ConnectionRequest<F, T>) -> Self {
        let (from_id, from_user) = r.from_user_id.split();
        let (to_id, to_user) = r.to_user_id.split();
        Self {
            id: r.id.to_hex(),
            from_user_id: from_id.to_hex(),
            to_user_id: to_id.to_hex(),
            status: pb::RequestStatus::from(r.status).into(),
            note: r.note,
            created_at: Some(timestamp(r.created_at)),
            updated_at: Some(timestamp(r.updated_at)),
            from_user,
            to_user,
        }
    }
}

impl From<Event> for pb::Event {
    fn from(event: Event) -> Self {
        use pb::event::Kind;
        let kind = match event {
            Event::NewMessage(m) => Kind::NewMessage(unshare(m).into()),
            Event::Presence { user_id, online } => Kind::Presence(pb::Presence { user_id: user_id.to_hex(), online }),
            Event::ConnectionRequest(r) => Kind::ConnectionRequest(unshare(r).into()),
            Event::ConnectionAccepted(r) => Kind::ConnectionAccepted(unshare(r).into()),
            Event::Typing { user_id, typing } => Kind::Typing(pb::Typing { user_id: user_id.to_hex(), typing }),
            Event::MessagesRead(r) => {
                Kind::MessagesRead(pb::MessagesRead { user_id: r.user_id.to_hex(), up_to: r.up_to.to_hex() })
            }
            Event::GroupMemberAdded(added) => Kind::GroupMemberAdded(pb::GroupMemberAdded {
                group_id: added.group_id.to_hex(),
                member: Some(added.member.into()),
            }),
            Event::GroupMemberRemoved(removed) => Kind::GroupMemberRemoved(pb::GroupMemberRemoved {
                group_id: removed.group_id.to_hex(),
                user_id: removed.user_id.to_hex(),
            }),
            Event::GroupUpdated(group) => Kind::GroupUpdated((*group).into()),
            Event::GroupMessage(m) => Kind::GroupMessage(unshare(m).into()),
            Event::GroupTyping(t) => Kind::GroupTyping(pb::GroupTyping {
                group_id: t.group_id.to_hex(),
                user_id: t.user_id.to_hex(),
                typing: t.typing,
            }),
            Event::GroupRead(r) => Kind::GroupRead(pb::GroupRead {
                group_id: r.group_id.to_hex(),
                user_id: r.user_id.to_hex(),
                up_to: r.up_to.to_hex(),
            }),
        };
        Self { kind: Some(kind) }
    }
}

/// The value behind a shared event payload, cloned only if it is still shared.
fn unshare<T: Clone>(shared: std::sync::Arc<T>) -> T {
    std::sync::Arc::unwrap_or_clone(shared)
}

/// The `online_users` event that opens every stream.
pub(crate) fn online_users(ids: &[UserId]) -> pb::Event {
    pb::Event { kind: Some(pb::event::Kind::OnlineUsers(pb::OnlineUsers { user_ids: hex_ids(ids) })) }
}

pub(crate) fn hex_ids(ids: &[UserId]) -> Vec<String> {
    ids.iter().map(|id| id.to_hex()).collect()
}

/// A user id from a request field named `field` (as the API names it).
pub(crate) fn user_id(field: &'static str, raw: &str) -> Result<UserId> {
    Ok(UserId::parse(field, raw)?)
}

/// A request id from a request field.
pub(crate) fn request_id(field: &'static str, raw: &str) -> Result<RequestId> {
    Ok(RequestId::parse(field, raw)?)
}

/// A message id from a required request field.
pub(crate) fn required_message_id(field: &'static str, raw: &str) -> Result<MessageId> {
    Ok(MessageId::parse(field, raw)?)
}

/// An optional message id (a cursor) from a request field.
pub(crate) fn message_id(field: &'static str, raw: Option<&str>) -> Result<Option<MessageId>> {
    Ok(raw.map(|s| MessageId::parse(field, s)).transpose()?)
}

/// The wire name of a gender for the core to parse; `None` when not given.
///
/// An unknown number is passed on as text so the core rejects it with its own message.
pub(crate) fn gender_text(raw: i32) -> Option<String> {
    match pb::Gender::try_from(raw) {
        Ok(pb::Gender::Unspecified) => None,
        Ok(g) => Some(gender_name(g).to_owned()),
        Err(_) => Some(raw.to_string()),
    }
}

/// Like [`gender_text`], for an edit where the field is present: unspecified is invalid.
pub(crate) fn edited_gender(raw: i32) -> String {
    gender_text(raw).unwrap_or_else(|| "unspecified".to_owned())
}

fn gender_name(g: pb::Gender) -> &'static str {
    match g {
        pb::Gender::Male => Gender::Male.as_str(),
        pb::Gender::Female => Gender::Female.as_str(),
        pb::Gender::Others => Gender::Others.as_str(),
        pb::Gender::Unspecified => "unspecified",
    }
}

/// The wire name of a request status, for `SendStatus::parse` / `ReviewStatus::parse`.
pub(crate) fn status_text(raw: i32) -> String {
    match pb::RequestStatus::try_from(raw) {
        Ok(pb::RequestStatus::Interested) => RequestStatus::Interested.as_str().to_owned(),
        Ok(pb::RequestStatus::Ignored) => RequestStatus::Ignored.as_str().to_owned(),
        Ok(pb::RequestStatus::Accepted) => RequestStatus::Accepted.as_str().to_owned(),
        Ok(pb::RequestStatus::Rejected) => RequestStatus::Rejected.as_str().to_owned(),
        Ok(pb::RequestStatus::Unspecified) => "unspecified".to_owned(),
        Err(_) => raw.to_string(),
    }
}

/// An age as the core takes it.
pub(crate) fn age(raw: u32) -> i64 {
    i64::from(raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_round_trip_to_the_core_wire_names() {
        assert_eq!(gender_text(pb::Gender::Female.into()).as_deref(), Some("female"));
        assert_eq!(gender_text(pb::Gender::Unspecified.into()), None);
        assert!(Gender::parse(&edited_gender(pb::Gender::Unspecified.into())).is_err());
        assert!(Gender::parse(&edited_gender(99)).is_err());
        assert_eq!(
            devconnect_core::SendStatus::parse(&status_text(pb::RequestStatus::Ignored.into())).ok(),
            Some(devconnect_core::SendStatus::Ignored)
        );
        assert!(devconnect_core::SendStatus::parse(&status_text(pb::RequestStatus::Accepted.into())).is_err());
        assert!(devconnect_core::ReviewStatus::parse(&status_text(42)).is_err());
    }

    #[test]
    fn an_unspecified_visibility_leaves_a_group_as_it_is_and_an_unknown_one_is_refused() {
        assert_eq!(edited_visibility(None).ok(), Some(None));
        assert_eq!(edited_visibility(Some(pb::Visibility::Unspecified.into())).ok(), Some(None));
        assert_eq!(edited_visibility(Some(pb::Visibility::Private.into())).ok(), Some(Some(Visibility::Private)));
        assert_eq!(edited_visibility(Some(pb::Visibility::Public.into())).ok(), Some(Some(Visibility::Public)));
        assert!(edited_visibility(Some(7)).is_err());
    }

    #[test]
    fn every_group_change_keeps_whom_it_is_about_and_the_role() {
        use pb::GroupChangeKind as Kind;
        let ada = UserId::new();
        let cases = [
            (GroupChange::Created, Kind::Created, None, pb::GroupRole::Unspecified),
            (GroupChange::Joined, Kind::Joined, None, pb::GroupRole::Unspecified),
            (GroupChange::Added { user_id: ada }, Kind::Added, Some(ada.to_hex()), pb::GroupRole::Unspecified),
            (GroupChange::Left, Kind::Left, None, pb::GroupRole::Unspecified),
            (GroupChange::Edited, Kind::Edited, None, pb::GroupRole::Unspecified),
            (GroupChange::Removed { user_id: ada }, Kind::Removed, Some(ada.to_hex()), pb::GroupRole::Unspecified),
            (
                GroupChange::RoleChanged { user_id: ada, role: GroupRole::Owner },
                Kind::RoleChanged,
                Some(ada.to_hex()),
                pb::GroupRole::Owner,
            ),
        ];
        for (change, kind, user_id, role) in cases {
            assert_eq!(
                pb::GroupChange::from(change),
                pb::GroupChange { kind: kind.into(), user_id, role: role.into() }
            );
        }
    }

    #[test]
    fn a_sync_page_splits_by_kind_and_its_cursor_is_the_last_of_either() {
        let at = chrono::Utc::now();
        let direct = Message {
            id: MessageId::new(),
            sender_id: UserId::new(),
            receiver_id: UserId::new(),
            text: "hi".to_owned(),
            image: None,
            client_msg_id: None,
            created_at: at,
            read_at: None,
            seq: 1,
        };
        let group = GroupMessage {
            id: MessageId::new(),
            group_id: GroupId::new(),
            sender_id: UserId::new(),
            text: String::new(),
            image: None,
            client_msg_id: None,
            created_at: at,
            change: Some(GroupChange::Joined),
            seq: 2,
        };
        let page = SyncPage { messages: vec![direct.clone().into(), group.clone().into()], has_more: true };
        let wire = pb::SyncMessagesResponse::from(page);
        assert_eq!(wire.messages, [pb::Message::from(direct)]);
        assert_eq!(wire.group_messages, [pb::GroupMessage::from(group.clone())]);
        assert_eq!((wire.last_message_id, wire.has_more), (Some(group.id.to_hex()), true));
        let empty = pb::SyncMessagesResponse::from(SyncPage { messages: Vec::new(), has_more: false });
        assert_eq!(empty.last_message_id, None);
    }

    #[test]
    fn timestamps_keep_millisecond_precision() {
        let t = chrono::DateTime::from_timestamp_millis(1_700_000_000_123);
        let Some(t) = t else { return assert!(t.is_some()) };
        let ts = timestamp(t);
        assert_eq!((ts.seconds, ts.nanos), (1_700_000_000, 123_000_000));
    }
}
