//! Documents as domain values and back, tolerant of what the original DevConnect wrote.

use bson::oid::ObjectId;
use bson::{Bson, Document, doc};
use chrono::{DateTime, Utc};
use devconnect_types::{AnyMessage, ConnectionRequest, Gender, GroupMessage, Me, Message, Profile, RequestStatus};

use crate::model::{UserRecord, skill_key};
use crate::store::pair_key;
use crate::{Error, Result};

/// Leaves credentials out of user documents read for someone's profile. (jongodb
/// ignores `find` projections; nothing here relies on them.)
pub(super) fn profile_projection() -> Document {
    doc! { "password": 0, "tokenVersion": 0 }
}

pub(super) fn bson_time(t: DateTime<Utc>) -> bson::DateTime {
    bson::DateTime::from_chrono(t)
}

/// A stored time; `None` unless it is a BSON date.
pub(super) fn time(doc: &Document, key: &str) -> Option<DateTime<Utc>> {
    match doc.get(key) {
        Some(Bson::DateTime(t)) => Some(t.to_chrono()),
        _ => None,
    }
}

/// When a document was created: `createdAt`, or else the time in its ObjectId (the
/// original wrote `createdAt` with Mongoose timestamps, but not necessarily always).
pub(super) fn created_at(doc: &Document, id: ObjectId) -> DateTime<Utc> {
    time(doc, "createdAt").unwrap_or_else(|| id.timestamp().to_chrono())
}

/// An integer field however it was stored (the original's numbers may be doubles).
pub(super) fn int(doc: &Document, key: &str) -> Option<i64> {
    match doc.get(key)? {
        Bson::Int32(n) => Some(i64::from(*n)),
        Bson::Int64(n) => Some(*n),
        #[expect(clippy::cast_possible_truncation, reason = "checked to be integral and in range")]
        Bson::Double(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Some(*f as i64),
        _ => None,
    }
}

pub(super) fn string(doc: &Document, key: &str) -> Option<String> {
    match doc.get(key)? {
        Bson::String(s) => Some(s.clone()),
        _ => None,
    }
}

pub(super) fn strings(doc: &Document, key: &str) -> Vec<String> {
    match doc.get(key) {
        Some(Bson::Array(items)) => items.iter().filter_map(|b| b.as_str().map(str::to_owned)).collect(),
        _ => Vec::new(),
    }
}

pub(super) fn oid(doc: &Document, key: &str) -> Result<ObjectId> {
    doc.get_object_id(key).map_err(|e| Error::internal(format!("stored `{key}` is not an ObjectId: {e}")))
}

/// A reference field of a legacy document being backfilled; the error names the
/// document so an operator can fix or remove it.
pub(super) fn legacy_oid(collection: &str, doc: &Document, id: ObjectId, key: &str) -> Result<ObjectId> {
    doc.get_object_id(key).map_err(|_| {
        Error::internal(format!("{collection} document {id} has no ObjectId `{key}`; fix or remove it and start again"))
    })
}

pub(super) fn skill_keys(skills: &[String]) -> Vec<String> {
    let mut keys: Vec<String> = Vec::with_capacity(skills.len());
    for key in skills.iter().map(|s| skill_key(s)) {
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    keys
}

pub(super) fn user_doc(u: &UserRecord) -> Document {
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
        "searchKeys": super::search::search_keys(p),
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
    if let Some(location) = &p.location {
        d.insert("location", location);
    }
    if let Some(years) = p.experience_years {
        d.insert("experienceYears", i32::from(years));
    }
    d
}

/// Whether a user document is suspended (`suspendedAt` set).
pub(super) fn is_suspended(d: &Document) -> bool {
    matches!(d.get("suspendedAt"), Some(Bson::DateTime(_)))
}

/// Whether a user document is an erased account (`deletedAt` set).
pub(super) fn is_deleted(d: &Document) -> bool {
    matches!(d.get("deletedAt"), Some(Bson::DateTime(_)))
}

/// Reads a user as stored by us or by the original: absent optional fields are empty,
/// an unknown gender or out-of-range age is dropped rather than failing the read.
pub(super) fn user_from_doc(d: &Document) -> Result<UserRecord> {
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
                location: string(d, "location").filter(|l| !l.is_empty()),
                experience_years: int(d, "experienceYears").and_then(|y| u8::try_from(y).ok()).filter(|y| *y <= 60),
                created_at: created,
                updated_at: time(d, "updatedAt").unwrap_or(created),
                deleted: is_deleted(d),
            },
            email: string(d, "emailID").unwrap_or_default(),
        },
        password_hash: string(d, "password").unwrap_or_default(),
        token_version: int(d, "tokenVersion").unwrap_or(0),
        suspended: is_suspended(d),
    })
}

pub(super) fn request_doc(r: &ConnectionRequest) -> Document {
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

pub(super) fn request_from_doc(d: &Document) -> Result<ConnectionRequest> {
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

pub(super) fn message_from_doc(d: &Document) -> Result<Message> {
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

pub(super) fn messages_from(docs: &[Document]) -> Result<Vec<Message>> {
    docs.iter().map(message_from_doc).collect()
}

/// A group message document (it has `groupId`).
pub(super) fn group_message_from_doc(d: &Document) -> Result<GroupMessage> {
    let id = oid(d, "_id")?;
    let change = match d.get("change") {
        Some(change) => Some(bson::from_bson(change.clone()).map_err(Error::internal)?),
        None => None,
    };
    Ok(GroupMessage {
        id: id.into(),
        group_id: oid(d, "groupId")?.into(),
        sender_id: oid(d, "senderId")?.into(),
        text: string(d, "text").unwrap_or_default(),
        image: string(d, "image").filter(|u| !u.is_empty()),
        client_msg_id: string(d, "clientMsgId"),
        created_at: created_at(d, id),
        change,
        seq: int(d, "seq").unwrap_or(0),
    })
}

/// A 1:1 or group message document.
pub(super) fn any_message_from_doc(d: &Document) -> Result<AnyMessage> {
    if d.contains_key("groupId") {
        group_message_from_doc(d).map(AnyMessage::Group)
    } else {
        message_from_doc(d).map(AnyMessage::Direct)
    }
}
