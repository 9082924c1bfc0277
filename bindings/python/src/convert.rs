//! Core values as plain Python data: dicts with the keys of the REST API's JSON
//! (`API.md`), ids as 24-hex strings, times as timezone-aware `datetime`s.
//!
//! Each struct is destructured field by field, so a field added to the core fails to
//! compile here instead of silently missing from Python.

use std::sync::Arc;

use devconnect_core::search::{SearchPage, SearchResult};
use devconnect_core::{
    AccountExport, AnyMessage, AuditEntry, Authenticated, BlockedUser, ChatPartner, ConnectionRequest, Conversation,
    DirectConversation, Event, FeedPage, Group, GroupChange, GroupConversation, GroupId, GroupMember, GroupMessage,
    GroupPage, Me, Message, MessageId, MyGroup, Profile, PushSettings, Report, ReportId, Reported, RequestId,
    Resolution, Session, SyncPage, UserId,
};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

/// A core value that has a Python form.
pub(crate) trait ToPy {
    fn to_py<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>>;
}

macro_rules! hex_id {
    ($($t:ty),*) => {$(
        impl ToPy for $t {
            fn to_py<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
                Ok(self.to_hex().into_pyobject(py)?.into_any())
            }
        }
    )*};
}
hex_id!(UserId, RequestId, MessageId, GroupId, ReportId);

impl ToPy for () {
    fn to_py<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(py.None().into_bound(py))
    }
}

impl ToPy for String {
    fn to_py<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(self.into_pyobject(py)?.into_any())
    }
}

impl<T: ToPy> ToPy for Option<T> {
    fn to_py<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        match self {
            Some(v) => v.to_py(py),
            None => Ok(py.None().into_bound(py)),
        }
    }
}

impl<T: ToPy> ToPy for Vec<T> {
    fn to_py<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let list = PyList::empty(py);
        for item in self {
            list.append(item.to_py(py)?)?;
        }
        Ok(list.into_any())
    }
}

impl<T: ToPy> ToPy for Arc<T> {
    fn to_py<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        (**self).to_py(py)
    }
}

fn set_profile(dict: &Bound<'_, PyDict>, profile: &Profile) -> PyResult<()> {
    let Profile {
        id,
        first_name,
        last_name,
        age,
        gender,
        photo_url,
        about,
        skills,
        location,
        experience_years,
        created_at,
        updated_at,
        deleted,
    } = profile;
    dict.set_item("_id", id.to_hex())?;
    dict.set_item("firstName", first_name)?;
    dict.set_item("lastName", last_name)?;
    dict.set_item("age", age)?;
    dict.set_item("gender", gender.map(devconnect_core::Gender::as_str))?;
    dict.set_item("photoURL", photo_url)?;
    dict.set_item("about", about)?;
    dict.set_item("skills", skills)?;
    dict.set_item("location", location)?;
    dict.set_item("experienceYears", experience_years)?;
    dict.set_item("createdAt", created_at)?;
    dict.set_item("updatedAt", updated_at)?;
    dict.set_item("deleted", deleted)?;
    Ok(())
}

impl ToPy for Profile {
    fn to_py<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let dict = PyDict::new(py);
        set_profile(&dict, self)?;
        Ok(dict.into_any())
    }
}

impl ToPy for Me {
    fn to_py<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let Me { profile, email } = self;
        let dict = PyDict::new(py);
        set_profile(&dict, profile)?;
        dict.set_item("emailID", email)?;
        Ok(dict.into_any())
    }
}

impl<F: ToPy, T: ToPy> ToPy for ConnectionRequest<F, T> {
    fn to_py<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let ConnectionRequest { id, from_user_id, to_user_id, status, note, created_at, updated_at } = self;
        let dict = PyDict::new(py);
        dict.set_item("_id", id.to_hex())?;
        dict.set_item("fromUserId", from_user_id.to_py(py)?)?;
        dict.set_item("toUserId", to_user_id.to_py(py)?)?;
        dict.set_item("status", status.as_str())?;
        dict.set_item("note", note)?;
        dict.set_item("createdAt", created_at)?;
        dict.set_item("updatedAt", updated_at)?;
        Ok(dict.into_any())
    }
}

fn set_group(dict: &Bound<'_, PyDict>, group: &Group) -> PyResult<()> {
    let Group {
        id,
        name,
        description,
        visibility,
        tags,
        photo_url,
        owner_id,
        member_count,
        archived,
        created_at,
        updated_at,
    } = group;
    dict.set_item("_id", id.to_hex())?;
    dict.set_item("name", name)?;
    dict.set_item("description", description)?;
    dict.set_item("visibility", visibility.as_str())?;
    dict.set_item("tags", tags)?;
    dict.set_item("photoURL", photo_url)?;
    dict.set_item("ownerId", owner_id.to_hex())?;
    dict.set_item("memberCount", member_count)?;
    dict.set_item("archived", archived)?;
    dict.set_item("createdAt", created_at)?;
    dict.set_item("updatedAt", updated_at)?;
    Ok(())
}

impl ToPy for Group {
    fn to_py<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let dict = PyDict::new(py);
        set_group(&dict, self)?;
        Ok(dict.into_any())
    }
}

impl ToPy for MyGroup {
    fn to_py<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let MyGroup { group, role } = self;
        let dict = PyDict::new(py);
        set_group(&dict, group)?;
        dict.set_item("role", role.as_str())?;
        Ok(dict.into_any())
    }
}

impl ToPy for GroupMember {
    fn to_py<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let GroupMember { user_id, role, joined_at } = self;
        let dict = PyDict::new(py);
        dict.set_item("userId", user_id.to_hex())?;
        dict.set_item("role", role.as_str())?;
        dict.set_item("joinedAt", joined_at)?;
        Ok(dict.into_any())
    }
}

impl ToPy for Message {
    fn to_py<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        // `seq` is the server's internal position; the API does not show it.
        let Message { id, sender_id, receiver_id, text, image, client_msg_id, created_at, read_at, seq: _ } = self;
        let dict = PyDict::new(py);
        dict.set_item("_id", id.to_hex())?;
        dict.set_item("senderId", sender_id.to_hex())?;
        dict.set_item("receiverId", receiver_id.to_hex())?;
        dict.set_item("text", text)?;
        dict.set_item("image", image)?;
        dict.set_item("clientMsgId", client_msg_id)?;
        dict.set_item("createdAt", created_at)?;
        dict.set_item("readAt", read_at)?;
        Ok(dict.into_any())
    }
}

impl ToPy for GroupChange {
    fn to_py<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let dict = PyDict::new(py);
        let kind = match self {
            Self::Created => "created",
            Self::Joined => "joined",
            Self::Left => "left",
            Self::Edited => "edited",
            Self::Added { user_id } => {
                dict.set_item("userId", user_id.to_hex())?;
                "added"
            }
            Self::Removed { user_id } => {
                dict.set_item("userId", user_id.to_hex())?;
                "removed"
            }
            Self::RoleChanged { user_id, role } => {
                dict.set_item("userId", user_id.to_hex())?;
                dict.set_item("role", role.as_str())?;
                "roleChanged"
            }
        };
        dict.set_item("kind", kind)?;
        Ok(dict.into_any())
    }
}

impl ToPy for GroupMessage {
    fn to_py<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let GroupMessage { id, group_id, sender_id, text, image, client_msg_id, created_at, change, seq: _ } = self;
        let dict = PyDict::new(py);
        dict.set_item("_id", id.to_hex())?;
        dict.set_item("groupId", group_id.to_hex())?;
        dict.set_item("senderId", sender_id.to_hex())?;
        dict.set_item("text", text)?;
        dict.set_item("image", image)?;
        dict.set_item("clientMsgId", client_msg_id)?;
        dict.set_item("createdAt", created_at)?;
        if let Some(change) = change {
            dict.set_item("change", change.to_py(py)?)?;
        }
        Ok(dict.into_any())
    }
}

impl ToPy for AnyMessage {
    fn to_py<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        match self {
            Self::Direct(m) => m.to_py(py),
            Self::Group(m) => m.to_py(py),
        }
    }
}

impl ToPy for BlockedUser {
    fn to_py<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let BlockedUser { user, blocked_at } = self;
        let dict = PyDict::new(py);
        dict.set_item("user", user.to_py(py)?)?;
        dict.set_item("blockedAt", blocked_at)?;
        Ok(dict.into_any())
    }
}

/// A report's snapshot as the REST API writes it: `kind` beside the field of its kind.
impl ToPy for Reported {
    fn to_py<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let dict = PyDict::new(py);
        dict.set_item("kind", self.kind().as_str())?;
        match self {
            Self::User { user } => dict.set_item("user", user.to_py(py)?)?,
            Self::Message { message } => dict.set_item("message", message.to_py(py)?)?,
            Self::Group { group } => dict.set_item("group", group.to_py(py)?)?,
        }
        Ok(dict.into_any())
    }
}

impl ToPy for Resolution {
    fn to_py<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let Resolution { by, note, at } = self;
        let dict = PyDict::new(py);
        dict.set_item("by", by)?;
        dict.set_item("note", note)?;
        dict.set_item("at", at)?;
        Ok(dict.into_any())
    }
}

impl ToPy for Report {
    fn to_py<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let Report { id, reporter_id, kind, target_id, reason, details, snapshot, status, created_at, resolution } =
            self;
        let dict = PyDict::new(py);
        dict.set_item("_id", id.to_hex())?;
        dict.set_item("reporterId", reporter_id.to_hex())?;
        dict.set_item("kind", kind.as_str())?;
        dict.set_item("targetId", target_id)?;
        dict.set_item("reason", reason.as_str())?;
        dict.set_item("details", details)?;
        dict.set_item("snapshot", snapshot.to_py(py)?)?;
        dict.set_item("status", status.as_str())?;
        dict.set_item("createdAt", created_at)?;
        // As in the REST API's JSON: absent until an operator decides.
        if let Some(resolution) = resolution {
            dict.set_item("resolution", resolution.to_py(py)?)?;
        }
        Ok(dict.into_any())
    }
}

impl ToPy for AuditEntry {
    fn to_py<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let AuditEntry { id, actor, action, target_id, note, at } = self;
        let dict = PyDict::new(py);
        dict.set_item("_id", id.to_hex())?;
        dict.set_item("actor", actor)?;
        dict.set_item("action", action.as_str())?;
        dict.set_item("targetId", target_id)?;
        dict.set_item("note", note)?;
        dict.set_item("at", at)?;
        Ok(dict.into_any())
    }
}

impl ToPy for AccountExport {
    fn to_py<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let AccountExport {
            exported_at,
            profile,
            connections,
            sent_requests,
            received_requests,
            messages,
            groups,
            blocked,
            reports,
        } = self;
        let dict = PyDict::new(py);
        dict.set_item("exportedAt", exported_at)?;
        dict.set_item("profile", profile.to_py(py)?)?;
        dict.set_item("connections", connections.to_py(py)?)?;
        dict.set_item("sentRequests", sent_requests.to_py(py)?)?;
        dict.set_item("receivedRequests", received_requests.to_py(py)?)?;
        dict.set_item("messages", messages.to_py(py)?)?;
        dict.set_item("groups", groups.to_py(py)?)?;
        dict.set_item("blocked", blocked.to_py(py)?)?;
        dict.set_item("reports", reports.to_py(py)?)?;
        Ok(dict.into_any())
    }
}

impl ToPy for PushSettings {
    fn to_py<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let PushSettings { messages, requests, groups, previews, muted_groups } = self;
        let dict = PyDict::new(py);
        dict.set_item("messages", messages)?;
        dict.set_item("requests", requests)?;
        dict.set_item("groups", groups)?;
        dict.set_item("previews", previews)?;
        dict.set_item("mutedGroups", muted_groups.to_py(py)?)?;
        Ok(dict.into_any())
    }
}

impl ToPy for ChatPartner {
    fn to_py<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let ChatPartner { profile, online, last_message, unread_count } = self;
        let dict = PyDict::new(py);
        set_profile(&dict, profile)?;
        dict.set_item("online", online)?;
        dict.set_item("lastMessage", last_message.to_py(py)?)?;
        dict.set_item("unreadCount", unread_count)?;
        Ok(dict.into_any())
    }
}

impl ToPy for FeedPage {
    fn to_py<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let FeedPage { profiles, page, limit, has_more } = self;
        let dict = PyDict::new(py);
        dict.set_item("profiles", profiles.to_py(py)?)?;
        dict.set_item("page", page)?;
        dict.set_item("limit", limit)?;
        dict.set_item("hasMore", has_more)?;
        Ok(dict.into_any())
    }
}

impl ToPy for GroupPage {
    fn to_py<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let GroupPage { groups, page, limit, has_more } = self;
        let dict = PyDict::new(py);
        dict.set_item("groups", groups.to_py(py)?)?;
        dict.set_item("page", page)?;
        dict.set_item("limit", limit)?;
        dict.set_item("hasMore", has_more)?;
        Ok(dict.into_any())
    }
}

/// A result as the REST API writes it: the profile's keys beside `relation`.
impl ToPy for SearchResult {
    fn to_py<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let SearchResult { profile, relation } = self;
        let dict = PyDict::new(py);
        set_profile(&dict, profile)?;
        dict.set_item("relation", relation.as_str())?;
        Ok(dict.into_any())
    }
}

impl ToPy for SearchPage {
    fn to_py<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let SearchPage { results, page, limit, has_more, as_of } = self;
        let dict = PyDict::new(py);
        dict.set_item("results", results.to_py(py)?)?;
        dict.set_item("page", page)?;
        dict.set_item("limit", limit)?;
        dict.set_item("hasMore", has_more)?;
        dict.set_item("asOf", as_of.to_hex())?;
        Ok(dict.into_any())
    }
}

/// A conversation as the REST API writes it: `kind` beside the fields of its kind.
impl ToPy for Conversation {
    fn to_py<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let dict = PyDict::new(py);
        match self {
            Self::Direct(DirectConversation { user, online, last_message, unread_count }) => {
                dict.set_item("kind", "direct")?;
                dict.set_item("user", user.to_py(py)?)?;
                dict.set_item("online", online)?;
                dict.set_item("lastMessage", last_message.to_py(py)?)?;
                dict.set_item("unreadCount", unread_count)?;
            }
            Self::Group(GroupConversation { group, last_message, unread_count }) => {
                dict.set_item("kind", "group")?;
                dict.set_item("group", group.to_py(py)?)?;
                dict.set_item("lastMessage", last_message.to_py(py)?)?;
                dict.set_item("unreadCount", unread_count)?;
            }
        }
        Ok(dict.into_any())
    }
}

impl ToPy for SyncPage {
    fn to_py<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let SyncPage { messages, has_more } = self;
        let dict = PyDict::new(py);
        dict.set_item("messages", messages.to_py(py)?)?;
        dict.set_item("hasMore", has_more)?;
        Ok(dict.into_any())
    }
}

impl ToPy for Authenticated {
    fn to_py<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let Authenticated { user, token } = self;
        let dict = PyDict::new(py);
        dict.set_item("user", user.to_py(py)?)?;
        dict.set_item("token", token)?;
        Ok(dict.into_any())
    }
}

impl ToPy for Session {
    fn to_py<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        // The token version is an internal revocation counter; not shown.
        let Session { user_id, token_id, token_version: _, expires_at } = self;
        let dict = PyDict::new(py);
        dict.set_item("userId", user_id.to_hex())?;
        dict.set_item("tokenId", token_id)?;
        dict.set_item("expiresAt", expires_at)?;
        Ok(dict.into_any())
    }
}

/// `{"event": <name>, "data": <payload>}`, the JSON form of a core event.
impl ToPy for Event {
    fn to_py<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let data = match self {
            Self::NewMessage(message) => message.to_py(py)?,
            Self::Presence { user_id, online } => {
                let dict = PyDict::new(py);
                dict.set_item("userId", user_id.to_hex())?;
                dict.set_item("online", online)?;
                dict.into_any()
            }
            Self::ConnectionRequest(request) => request.to_py(py)?,
            Self::ConnectionAccepted(request) => request.to_py(py)?,
            Self::Typing { user_id, typing } => {
                let dict = PyDict::new(py);
                dict.set_item("userId", user_id.to_hex())?;
                dict.set_item("typing", typing)?;
                dict.into_any()
            }
            Self::MessagesRead(read) => {
                let dict = PyDict::new(py);
                dict.set_item("userId", read.user_id.to_hex())?;
                dict.set_item("upTo", read.up_to.to_hex())?;
                dict.into_any()
            }
            Self::GroupMemberAdded(added) => {
                let dict = PyDict::new(py);
                dict.set_item("groupId", added.group_id.to_hex())?;
                dict.set_item("member", added.member.to_py(py)?)?;
                dict.into_any()
            }
            Self::GroupMemberRemoved(removed) => {
                let dict = PyDict::new(py);
                dict.set_item("groupId", removed.group_id.to_hex())?;
                dict.set_item("userId", removed.user_id.to_hex())?;
                dict.into_any()
            }
            Self::GroupUpdated(group) => group.to_py(py)?,
            Self::GroupMessage(message) => message.to_py(py)?,
            Self::GroupTyping(typing) => {
                let dict = PyDict::new(py);
                dict.set_item("groupId", typing.group_id.to_hex())?;
                dict.set_item("userId", typing.user_id.to_hex())?;
                dict.set_item("typing", typing.typing)?;
                dict.into_any()
            }
            Self::GroupRead(read) => {
                let dict = PyDict::new(py);
                dict.set_item("groupId", read.group_id.to_hex())?;
                dict.set_item("userId", read.user_id.to_hex())?;
                dict.set_item("upTo", read.up_to.to_hex())?;
                dict.into_any()
            }
        };
        let dict = PyDict::new(py);
        dict.set_item("event", self.name())?;
        dict.set_item("data", data)?;
        Ok(dict.into_any())
    }
}
