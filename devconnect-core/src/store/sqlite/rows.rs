//! Rows as domain values: the column lists the queries select and their mapping.

use bson::oid::ObjectId;
use chrono::{DateTime, Utc};
use devconnect_types::{
    AnyMessage, ConnectionRequest, Gender, Group, GroupMember, GroupMessage, GroupRole, Me, Message, Profile,
    RequestStatus, UserId, Visibility,
};
use rusqlite::Row;

use super::error::ResultExt as _;
use crate::model::UserRecord;
use crate::{Error, Result};

pub(super) const USER_COLS: &str = "u.id, u.first_name, u.last_name, u.email, u.password_hash, u.age, u.gender, \
                         u.photo_url, u.about, u.skills, u.token_version, u.created_at, u.updated_at, u.suspended_at, \
                         u.deleted_at, u.location, u.experience_years";
pub(super) const USER_COL_COUNT: usize = 17;
pub(super) const REQUEST_COLS: &str = "r.id, r.from_id, r.to_id, r.status, r.note, r.created_at, r.updated_at";
pub(super) const REQUEST_COL_COUNT: usize = 7;
pub(super) const MESSAGE_COLS: &str =
    "seq, id, sender_id, receiver_id, text, image, client_msg_id, created_at, read_at";
/// [`MESSAGE_COLS`] and what a group message adds: read by [`any_message`].
pub(super) const ANY_MESSAGE_COLS: &str =
    "seq, id, sender_id, receiver_id, text, image, client_msg_id, created_at, read_at, group_id, group_change";

pub(super) const GROUP_COLS: &str = "g.id, g.name, g.description, g.visibility, g.tags, g.owner_id, g.member_count, \
                         g.archived, g.created_at, g.updated_at, g.photo_url";
pub(super) const GROUP_COL_COUNT: usize = 11;
pub(super) const MEMBER_COLS: &str = "m.user_id, m.role, m.joined_at";

pub(super) fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

pub(super) fn conversion(idx: usize, err: impl std::error::Error + Send + Sync + 'static) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(idx, rusqlite::types::Type::Text, Box::new(err))
}

pub(super) fn oid(row: &Row<'_>, idx: usize) -> rusqlite::Result<ObjectId> {
    let s: String = row.get(idx)?;
    ObjectId::parse_str(&s).map_err(|e| conversion(idx, e))
}

pub(super) fn time(row: &Row<'_>, idx: usize) -> rusqlite::Result<DateTime<Utc>> {
    let ms: i64 = row.get(idx)?;
    DateTime::from_timestamp_millis(ms).ok_or_else(|| conversion(idx, Error::internal("timestamp out of range")))
}

fn opt_time(row: &Row<'_>, idx: usize) -> rusqlite::Result<Option<DateTime<Utc>>> {
    match row.get::<_, Option<i64>>(idx)? {
        None => Ok(None),
        Some(_) => time(row, idx).map(Some),
    }
}

pub(super) fn user_at(row: &Row<'_>, o: usize) -> rusqlite::Result<UserRecord> {
    let gender: Option<String> = row.get(o + 6)?;
    let skills: String = row.get(o + 9)?;
    Ok(UserRecord {
        me: Me {
            profile: Profile {
                id: oid(row, o)?.into(),
                first_name: row.get(o + 1)?,
                last_name: row.get(o + 2)?,
                age: row.get(o + 5)?,
                gender: gender.as_deref().map(Gender::parse).transpose().map_err(|e| conversion(o + 6, e))?,
                photo_url: row.get(o + 7)?,
                about: row.get(o + 8)?,
                skills: serde_json::from_str(&skills).map_err(|e| conversion(o + 9, e))?,
                location: row.get(o + 15)?,
                experience_years: row.get(o + 16)?,
                created_at: time(row, o + 11)?,
                updated_at: time(row, o + 12)?,
                deleted: row.get::<_, Option<i64>>(o + 14)?.is_some(),
            },
            email: row.get(o + 3)?,
        },
        password_hash: row.get(o + 4)?,
        token_version: row.get(o + 10)?,
        suspended: row.get::<_, Option<i64>>(o + 13)?.is_some(),
    })
}

pub(super) fn user(row: &Row<'_>) -> rusqlite::Result<UserRecord> {
    user_at(row, 0)
}

fn request_at(row: &Row<'_>, o: usize) -> rusqlite::Result<ConnectionRequest> {
    let status: String = row.get(o + 3)?;
    Ok(ConnectionRequest {
        id: oid(row, o)?.into(),
        from_user_id: oid(row, o + 1)?.into(),
        to_user_id: oid(row, o + 2)?.into(),
        status: RequestStatus::parse(&status).map_err(|e| conversion(o + 3, e))?,
        note: row.get(o + 4)?,
        created_at: time(row, o + 5)?,
        updated_at: time(row, o + 6)?,
    })
}

pub(super) fn request(row: &Row<'_>) -> rusqlite::Result<ConnectionRequest> {
    request_at(row, 0)
}

pub(super) fn message(row: &Row<'_>) -> rusqlite::Result<Message> {
    Ok(Message {
        seq: row.get(0)?,
        id: oid(row, 1)?.into(),
        sender_id: oid(row, 2)?.into(),
        receiver_id: oid(row, 3)?.into(),
        text: row.get(4)?,
        image: row.get(5)?,
        client_msg_id: row.get(6)?,
        created_at: time(row, 7)?,
        read_at: opt_time(row, 8)?,
    })
}

/// A row of [`ANY_MESSAGE_COLS`]: a group message when it has a group.
pub(super) fn any_message(row: &Row<'_>) -> rusqlite::Result<AnyMessage> {
    if row.get::<_, Option<String>>(9)?.is_none() {
        return message(row).map(AnyMessage::Direct);
    }
    group_message(row).map(AnyMessage::Group)
}

/// A group message from a row of [`ANY_MESSAGE_COLS`].
pub(super) fn group_message(row: &Row<'_>) -> rusqlite::Result<GroupMessage> {
    let change: Option<String> = row.get(10)?;
    Ok(GroupMessage {
        seq: row.get(0)?,
        id: oid(row, 1)?.into(),
        sender_id: oid(row, 2)?.into(),
        group_id: oid(row, 9)?.into(),
        text: row.get(4)?,
        image: row.get(5)?,
        client_msg_id: row.get(6)?,
        created_at: time(row, 7)?,
        change: change.map(|c| serde_json::from_str(&c)).transpose().map_err(|e| conversion(10, e))?,
    })
}

pub(super) fn group(row: &Row<'_>) -> rusqlite::Result<Group> {
    let visibility: String = row.get(3)?;
    let tags: String = row.get(4)?;
    Ok(Group {
        id: oid(row, 0)?.into(),
        name: row.get(1)?,
        description: row.get(2)?,
        visibility: Visibility::parse(&visibility).map_err(|e| conversion(3, e))?,
        tags: serde_json::from_str(&tags).map_err(|e| conversion(4, e))?,
        owner_id: oid(row, 5)?.into(),
        member_count: row.get(6)?,
        archived: row.get(7)?,
        created_at: time(row, 8)?,
        updated_at: time(row, 9)?,
        photo_url: row.get(10)?,
    })
}

pub(super) fn member_at(row: &Row<'_>, o: usize) -> rusqlite::Result<GroupMember> {
    let role: String = row.get(o + 1)?;
    Ok(GroupMember {
        user_id: oid(row, o)?.into(),
        role: GroupRole::parse(&role).map_err(|e| conversion(o + 1, e))?,
        joined_at: time(row, o + 2)?,
    })
}

pub(super) fn skills_json(skills: &[String]) -> Result<String> {
    serde_json::to_string(skills).map_err(Error::internal)
}

/// Ids as a JSON array of hex strings, for `json_each`.
pub(super) fn ids_json(ids: &[UserId]) -> Result<String> {
    serde_json::to_string(ids).map_err(Error::internal)
}

pub(super) fn collect<T>(rows: impl Iterator<Item = rusqlite::Result<T>>) -> Result<Vec<T>> {
    rows.collect::<rusqlite::Result<Vec<T>>>().db()
}
