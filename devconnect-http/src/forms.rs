//! Request bodies: reading them within limits, and decoding JSON or multipart forms
//! into the core's request types with one set of rules.
//!
//! Multipart rules (what the original web frontend sends): a repeated `skills` part
//! (or a group's `tags` part) builds the array and a part holding `a,b` is split on
//! commas; numbers arrive as
//! text; a part sent as an empty string means "not provided"; the file part is `image`
//! (an empty file part, as browsers send for an empty file input, is no file).
//! A form has at most [`MAX_PARTS`] parts: reading stops at the first one beyond.

use std::collections::HashMap;
use std::collections::hash_map::Entry as Slot;

use bytes::{Bytes, BytesMut};
use devconnect_core::{
    Error, GroupEdit, GroupRole, MessageId, NewGroup, NewMessage, NewReport, PasswordChange, ProfileEdit, Signup,
    Upload, Visibility,
};
use futures_util::{Stream, StreamExt as _};
use http::HeaderMap;
use http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use serde_json::{Map, Value};
use warp::{Buf, Filter, Rejection};

use crate::error::{ApiError, invalid};

/// Most parts a multipart form may have. The largest form (signup) has nine fields and
/// up to twenty repeated `skills` parts; the cap keeps a body of thousands of tiny parts
/// from costing work per part.
pub const MAX_PARTS: usize = 64;

/// Body size limits.
#[derive(Clone, Copy, Debug)]
pub struct BodyLimits {
    /// Largest JSON (or other non-multipart) body.
    pub json: usize,
    /// Largest multipart body (an upload and its text fields).
    pub multipart: usize,
}

/// A request body read in full, with its declared content type.
#[derive(Clone, Debug, Default)]
pub struct RawBody {
    /// The `Content-Type` header, if any (and valid UTF-8).
    pub content_type: Option<String>,
    /// The bytes.
    pub bytes: Bytes,
}

/// Reads the body within `limits` (the multipart limit only for multipart bodies),
/// rejecting with 413 as soon as it is known to be too large.
pub fn body(limits: BodyLimits) -> impl Filter<Extract = (RawBody,), Error = Rejection> + Clone {
    warp::header::headers_cloned().and(warp::body::stream()).and_then(move |headers: HeaderMap, stream| async move {
        let content_type = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let is_multipart = content_type.as_deref().is_some_and(|t| mime_of(t) == "multipart/form-data");
        let limit = if is_multipart { limits.multipart } else { limits.json };
        let declared = headers.get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > limit as u64) {
            return Err(Rejection::from(ApiError::Core(Error::PayloadTooLarge { limit })));
        }
        let bytes = read_limited(stream, limit).await.map_err(Rejection::from)?;
        Ok(RawBody { content_type, bytes })
    })
}

async fn read_limited<S, B>(stream: S, limit: usize) -> Result<Bytes, ApiError>
where
    S: Stream<Item = Result<B, warp::Error>>,
    B: Buf,
{
    let mut stream = std::pin::pin!(stream);
    let mut out = BytesMut::new();
    while let Some(chunk) = stream.next().await {
        let mut chunk = chunk.map_err(|_| invalid("body", "could not read the request body"))?;
        if out.len() + chunk.remaining() > limit {
            return Err(ApiError::Core(Error::PayloadTooLarge { limit }));
        }
        while chunk.has_remaining() {
            let part = chunk.chunk();
            out.extend_from_slice(part);
            let n = part.len();
            chunk.advance(n);
        }
    }
    Ok(out.freeze())
}

/// The media type of a `Content-Type` value, lower-cased, without parameters.
fn mime_of(content_type: &str) -> String {
    content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase()
}

fn is_json(content_type: &str) -> bool {
    let mime = mime_of(content_type);
    mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"))
}

/// The fields of a JSON object or a multipart form, taken one by one; whatever is left
/// at [`Fields::finish`] is an unknown field. Looked up by name, so a body with many
/// fields costs no more per field than one with few.
#[derive(Debug, Default)]
pub struct Fields {
    entries: HashMap<String, Entry>,
    image: Option<Upload>,
}

#[derive(Debug)]
enum Entry {
    Json(Value),
    Text(Vec<String>),
}

impl Fields {
    /// Decodes a body that must be JSON (an object) or empty. An empty body is `{}`.
    pub fn json(body: &RawBody) -> Result<Self, ApiError> {
        if body.bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self::default());
        }
        let value: Value = typed_json(body)?;
        let Value::Object(map) = value else {
            return Err(invalid("body", "must be a JSON object"));
        };
        Ok(Self::from_map(map))
    }

    /// Decodes a JSON object or a multipart form (with an optional `image` file).
    pub async fn json_or_multipart(body: RawBody) -> Result<Self, ApiError> {
        let Some(content_type) = body.content_type.as_deref() else { return Self::json(&body) };
        if mime_of(content_type) != "multipart/form-data" {
            return Self::json(&body);
        }
        let boundary =
            multer::parse_boundary(content_type).map_err(|_| invalid("body", "multipart form without a boundary"))?;
        let stream = futures_util::stream::once(async move { Ok::<Bytes, std::convert::Infallible>(body.bytes) });
        let mut form = multer::Multipart::new(stream, boundary);
        let mut fields = Self::default();
        let mut parts = 0;
        while let Some(field) = form.next_field().await.map_err(|e| invalid("body", multipart_error(&e)))? {
            parts += 1;
            if parts > MAX_PARTS {
                return Err(invalid("body", format!("a form may have at most {MAX_PARTS} parts")));
            }
            let name = field.name().unwrap_or_default().to_owned();
            let is_file = field.file_name().is_some();
            let data = field.bytes().await.map_err(|e| invalid("body", multipart_error(&e)))?;
            if name == "image" && (is_file || !data.is_empty()) {
                if fields.image.is_some() {
                    return Err(invalid("image", "only one image may be sent"));
                }
                if !data.is_empty() {
                    fields.image = Some(Upload(data.to_vec()));
                }
                continue;
            }
            if is_file && !data.is_empty() {
                return Err(invalid("body", format!("unexpected file part `{name}`; the file part is `image`")));
            }
            let text =
                String::from_utf8(data.to_vec()).map_err(|_| invalid("body", format!("`{name}` is not UTF-8 text")))?;
            let name = name.strip_suffix("[]").map_or(name.clone(), str::to_owned);
            // The list fields, as the OpenAPI document describes them.
            let repeatable = name == "skills" || name == "tags";
            match fields.entries.entry(name) {
                Slot::Occupied(mut slot) => match slot.get_mut() {
                    Entry::Text(values) if repeatable => values.push(text),
                    _ => return Err(invalid("body", format!("field `{}` is repeated", slot.key()))),
                },
                Slot::Vacant(slot) => {
                    slot.insert(Entry::Text(vec![text]));
                }
            }
        }
        Ok(fields)
    }

    fn from_map(map: Map<String, Value>) -> Self {
        Self { entries: map.into_iter().map(|(k, v)| (k, Entry::Json(v))).collect(), image: None }
    }

    fn take(&mut self, name: &str) -> Option<Entry> {
        self.entries.remove(name)
    }

    /// A text field. JSON: a string or null. Multipart: empty means not provided.
    pub fn string(&mut self, name: &'static str) -> Result<Option<String>, ApiError> {
        match self.take(name) {
            None | Some(Entry::Json(Value::Null)) => Ok(None),
            Some(Entry::Json(Value::String(s))) => Ok(Some(s)),
            Some(Entry::Json(_)) => Err(invalid(name, "must be a string")),
            Some(Entry::Text(mut v)) => Ok(v.pop().filter(|s| !s.is_empty())),
        }
    }

    /// A required text field.
    pub fn required_string(&mut self, name: &'static str) -> Result<String, ApiError> {
        self.string(name)?.ok_or_else(|| invalid(name, "is required"))
    }

    /// A whole number: a JSON integer, or digits as text (JSON or multipart); an empty
    /// string or null means not provided.
    pub fn integer(&mut self, name: &'static str) -> Result<Option<i64>, ApiError> {
        let text = match self.take(name) {
            None | Some(Entry::Json(Value::Null)) => return Ok(None),
            Some(Entry::Json(Value::Number(n))) => {
                // JSON (and JSON Schema's `integer`) does not tell 83 from 83.0.
                let whole = n
                    .as_i64()
                    .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0 && f.abs() < 2f64.powi(53)).map(|f| f as i64));
                return whole.map(Some).ok_or_else(|| invalid(name, "must be a whole number"));
            }
            Some(Entry::Json(Value::String(s))) => s,
            Some(Entry::Json(_)) => return Err(invalid(name, "must be a whole number")),
            Some(Entry::Text(mut v)) => v.pop().unwrap_or_default(),
        };
        let text = text.trim();
        if text.is_empty() {
            return Ok(None);
        }
        text.parse().map(Some).map_err(|_| invalid(name, "must be a whole number"))
    }

    /// A list of strings: a JSON array of strings, or text split on commas (a JSON
    /// string, or each multipart part). Empty text means not provided.
    pub fn list(&mut self, name: &'static str) -> Result<Option<Vec<String>>, ApiError> {
        let split = |texts: Vec<String>| -> Vec<String> {
            texts.iter().flat_map(|t| t.split(',')).map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect()
        };
        match self.take(name) {
            None | Some(Entry::Json(Value::Null)) => Ok(None),
            Some(Entry::Json(Value::Array(items))) => items
                .into_iter()
                .map(|v| match v {
                    Value::String(s) => Ok(s),
                    _ => Err(invalid(name, "must be an array of strings")),
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(Entry::Json(Value::String(s))) => Ok(Some(split(vec![s]))),
            Some(Entry::Json(_)) => Err(invalid(name, "must be an array of strings")),
            Some(Entry::Text(texts)) if texts.iter().all(|t| t.trim().is_empty()) => Ok(None),
            Some(Entry::Text(texts)) => Ok(Some(split(texts))),
        }
    }

    /// The uploaded `image`, if any.
    pub fn image(&mut self) -> Option<Upload> {
        self.image.take()
    }

    /// Fails on a field nobody took, naming the alphabetically first so the message does
    /// not depend on hash order (or on an image where none is accepted).
    pub fn finish(self) -> Result<(), ApiError> {
        if let Some(name) = self.entries.keys().min() {
            return Err(invalid("body", format!("unknown field `{name}`")));
        }
        if self.image.is_some() {
            return Err(invalid("image", "no image is accepted here"));
        }
        Ok(())
    }
}

/// A JSON body decoded into `T` (whose serde attributes decide which fields it takes),
/// refusing any other content type as [`Fields::json`] does.
pub fn typed_json<T: serde::de::DeserializeOwned>(body: &RawBody) -> Result<T, ApiError> {
    if let Some(t) = body.content_type.as_deref().filter(|t| !is_json(t)) {
        return Err(ApiError::Core(Error::UnsupportedMediaType(if mime_of(t) == "multipart/form-data" {
            "this route takes a JSON body, not a multipart form"
        } else {
            "the body must be JSON (Content-Type: application/json)"
        })));
    }
    serde_json::from_slice(&body.bytes).map_err(|e| invalid("body", json_error(&e)))
}

fn json_error(e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    match e.classify() {
        Category::Eof => "is not complete JSON".to_owned(),
        Category::Syntax => format!("is not valid JSON ({e})"),
        Category::Data | Category::Io => e.to_string(),
    }
}

fn multipart_error(e: &multer::Error) -> String {
    format!("is not a valid multipart form ({e})")
}

/// `POST /auth/signup`.
pub fn signup(mut f: Fields) -> Result<Signup, ApiError> {
    let signup = Signup {
        first_name: f.string("firstName")?.unwrap_or_default(),
        last_name: f.string("lastName")?.unwrap_or_default(),
        email: f.required_string("emailID")?,
        password: f.required_string("password")?,
        age: f.integer("age")?,
        gender: f.string("gender")?,
        about: f.string("about")?,
        skills: f.list("skills")?.unwrap_or_default(),
        photo: f.image(),
    };
    f.finish()?;
    Ok(signup)
}

/// `POST /auth/login`: email and password.
pub fn login(mut f: Fields) -> Result<(String, String), ApiError> {
    let email = f.required_string("emailID")?;
    let password = f.required_string("password")?;
    f.finish()?;
    Ok((email, password))
}

/// `PATCH /profile/edit`.
pub fn profile_edit(mut f: Fields) -> Result<ProfileEdit, ApiError> {
    let edit = ProfileEdit {
        first_name: f.string("firstName")?,
        last_name: f.string("lastName")?,
        age: f.integer("age")?,
        gender: f.string("gender")?,
        about: f.string("about")?,
        skills: f.list("skills")?,
        location: f.string("location")?,
        experience_years: f.integer("experienceYears")?,
        photo: f.image(),
    };
    f.finish()?;
    Ok(edit)
}

/// `PATCH /profile/password`.
pub fn password_change(mut f: Fields) -> Result<PasswordChange, ApiError> {
    let change = PasswordChange {
        old_password: f.required_string("oldPassword")?,
        new_password: f.required_string("newPassword")?,
        confirm_password: f.required_string("confirmPassword")?,
    };
    f.finish()?;
    Ok(change)
}

/// `DELETE /profile`: the account's `password`.
pub fn password_confirmation(mut f: Fields) -> Result<String, ApiError> {
    let password = f.required_string("password")?;
    f.finish()?;
    Ok(password)
}

/// `POST /request/send/...`: an optional note.
pub fn request_note(mut f: Fields) -> Result<Option<String>, ApiError> {
    let note = f.string("note")?;
    f.finish()?;
    Ok(note)
}

/// `POST /reports`: `kind`, `targetId`, `reason`, and optionally `details`.
pub fn new_report(mut f: Fields) -> Result<NewReport, ApiError> {
    let report = NewReport {
        kind: f.required_string("kind")?,
        target_id: f.required_string("targetId")?,
        reason: f.required_string("reason")?,
        details: f.string("details")?.unwrap_or_default(),
    };
    f.finish()?;
    Ok(report)
}

/// `POST /groups`: a name, and optionally a description, `visibility` (default
/// `private`) and tags.
pub fn new_group(mut f: Fields) -> Result<NewGroup, ApiError> {
    let visibility = match f.string("visibility")? {
        None => Visibility::Private,
        Some(v) => Visibility::parse(&v)?,
    };
    let group = NewGroup {
        name: f.required_string("name")?,
        description: f.string("description")?.unwrap_or_default(),
        visibility,
        tags: f.list("tags")?.unwrap_or_default(),
    };
    f.finish()?;
    Ok(group)
}

/// `PATCH /groups/:groupId`: new details, JSON or multipart (with an `image`).
pub fn group_edit(mut f: Fields) -> Result<GroupEdit, ApiError> {
    let edit = GroupEdit {
        name: f.string("name")?,
        description: f.string("description")?,
        visibility: f.string("visibility")?.as_deref().map(Visibility::parse).transpose()?,
        tags: f.list("tags")?,
        photo: f.image(),
    };
    f.finish()?;
    Ok(edit)
}

/// `PATCH /groups/:groupId/members/:userId`: the new `role`.
pub fn group_role(mut f: Fields) -> Result<GroupRole, ApiError> {
    let role = GroupRole::parse(&f.required_string("role")?)?;
    f.finish()?;
    Ok(role)
}

/// `POST /groups/:groupId/read`: the message to mark read up to.
pub fn group_read(mut f: Fields) -> Result<MessageId, ApiError> {
    let id = MessageId::parse("messageId", &f.required_string("messageId")?)?;
    f.finish()?;
    Ok(id)
}

/// `POST /message/:receiverId` and `POST /groups/:groupId/messages`.
pub fn new_message(mut f: Fields) -> Result<NewMessage, ApiError> {
    let message = NewMessage {
        text: f.string("text")?.unwrap_or_default(),
        client_msg_id: f.string("clientMsgId")?,
        image: f.image(),
    };
    f.finish()?;
    Ok(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(s: &str) -> Result<Fields, ApiError> {
        Fields::json(&RawBody { content_type: Some("application/json".into()), bytes: Bytes::from(s.to_owned()) })
    }

    fn code(e: Result<impl std::fmt::Debug, ApiError>) -> &'static str {
        e.err().map_or("ok", |e| e.parts().1)
    }

    fn multipart(parts: &[(&str, Option<&str>, &[u8])]) -> RawBody {
        let mut body = Vec::new();
        for (name, file, data) in parts {
            body.extend_from_slice(b"--XyZ\r\n");
            match file {
                Some(f) => body.extend_from_slice(
                    format!("Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes(),
                ),
                None => body.extend_from_slice(format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes()),
            }
            body.extend_from_slice(data);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(b"--XyZ--\r\n");
        RawBody { content_type: Some("multipart/form-data; boundary=XyZ".into()), bytes: Bytes::from(body) }
    }

    #[test]
    fn json_fields_check_types_and_reject_unknown_ones() {
        let f = json(r#"{"emailID":"a@b.io","password":"x","age":"30","skills":["rust","go"]}"#);
        let s = f.and_then(signup).ok();
        assert_eq!(s.as_ref().map(|s| s.age), Some(Some(30)));
        assert_eq!(s.as_ref().map(|s| s.skills.len()), Some(2));
        assert_eq!(code(json(r#"{"emailID":5,"password":"x"}"#).and_then(signup)), "validation");
        assert_eq!(code(json(r#"{"emailID":"a@b.io","password":"x","isAdmin":true}"#).and_then(signup)), "validation");
        assert_eq!(code(json(r#"{"emailID":"a@b.io"}"#).and_then(signup)), "validation");
        assert_eq!(code(json(r#"{"age":1.5}"#).and_then(profile_edit)), "validation");
        assert_eq!(json(r#"{"age":83.0}"#).and_then(profile_edit).ok().and_then(|e| e.age), Some(83));
        assert_eq!(code(json(r#"{"skills":[1]}"#).and_then(profile_edit)), "validation");
        assert_eq!(code(json("[1,2]")), "validation");
        assert_eq!(code(json(r#"{"a":"#)), "validation");
        assert_eq!(code(json("")), "ok");
    }

    #[test]
    fn non_json_content_types_are_unsupported() {
        let body = RawBody { content_type: Some("text/plain".into()), bytes: Bytes::from_static(b"hi") };
        assert_eq!(code(Fields::json(&body)), "unsupported_media_type");
    }

    #[tokio::test]
    async fn multipart_forms_follow_the_frontend_rules() {
        let body = multipart(&[
            ("firstName", None, b"Ada"),
            ("emailID", None, b"ada@x.io"),
            ("password", None, b"Secret1!x"),
            ("age", None, b""),
            ("skills", None, b"rust,go"),
            ("skills", None, b"sql"),
            ("image", Some(""), b""),
        ]);
        let s = Fields::json_or_multipart(body).await.and_then(signup);
        let s = s.ok();
        assert_eq!(s.as_ref().map(|s| s.age), Some(None));
        assert_eq!(s.as_ref().map(|s| s.skills.clone()), Some(vec!["rust".into(), "go".into(), "sql".into()]));
        assert!(s.as_ref().is_some_and(|s| s.photo.is_none()));

        let with_photo = multipart(&[("about", None, b"hi"), ("image", Some("a.png"), b"\x89PNG")]);
        let edit = Fields::json_or_multipart(with_photo).await.and_then(profile_edit).ok();
        assert_eq!(edit.as_ref().and_then(|e| e.photo.as_ref()).map(|p| p.0.len()), Some(4));

        // A group's tags, like skills: repeated parts, each split on commas.
        let tags = multipart(&[("tags", None, b"rust,wasm"), ("tags", None, b"cli"), ("image", Some("g.png"), b"x")]);
        let edit = Fields::json_or_multipart(tags).await.and_then(group_edit).ok();
        assert_eq!(edit.and_then(|e| e.tags), Some(vec!["rust".into(), "wasm".into(), "cli".into()]));

        let repeated = multipart(&[("about", None, b"a"), ("about", None, b"b")]);
        assert_eq!(code(Fields::json_or_multipart(repeated).await), "validation");
        let other_file = multipart(&[("avatar", Some("a.png"), b"x")]);
        assert_eq!(code(Fields::json_or_multipart(other_file).await), "validation");
        let mut broken = multipart(&[("about", None, b"a")]);
        broken.bytes = broken.bytes.slice(..10);
        assert_eq!(code(Fields::json_or_multipart(broken).await), "validation");
    }

    #[tokio::test]
    async fn forms_with_more_parts_than_the_cap_are_refused() {
        let names: Vec<String> = (0..40_000).map(|i| format!("f{i}")).collect();
        let parts: Vec<(&str, Option<&str>, &[u8])> = names.iter().map(|n| (n.as_str(), None, &b""[..])).collect();
        let err = Fields::json_or_multipart(multipart(&parts)).await.err().map(|e| e.parts());
        assert_eq!(err.as_ref().map(|e| e.1), Some("validation"));
        assert!(err.is_some_and(|e| e.2.contains(&format!("at most {MAX_PARTS} parts"))));

        // A signup with its fields and repeated `skills` up to the cap is fine.
        let mut parts: Vec<(&str, Option<&str>, &[u8])> =
            vec![("emailID", None, b"ada@x.io"), ("password", None, b"Secret1!x"), ("image", Some(""), b"")];
        parts.resize(MAX_PARTS, ("skills", None, b"rust"));
        let s = Fields::json_or_multipart(multipart(&parts)).await.and_then(signup).ok();
        assert_eq!(s.map(|s| s.skills.len()), Some(MAX_PARTS - 3));
        parts.push(("skills", None, b"go"));
        assert_eq!(code(Fields::json_or_multipart(multipart(&parts)).await), "validation");
    }

    #[tokio::test]
    async fn the_unknown_field_reported_is_the_alphabetically_first() {
        let body = r#"{"zeta":1,"emailID":"a@b.io","password":"x","beta":2,"alpha":3}"#;
        let err = json(body).and_then(signup).err().map(|e| e.parts().2);
        assert!(err.as_deref().is_some_and(|m| m.contains("`alpha`")), "{err:?}");
        let form = multipart(&[
            ("zeta", None, b"1"),
            ("emailID", None, b"a@b.io"),
            ("password", None, b"x"),
            ("mu", None, b""),
        ]);
        let err = Fields::json_or_multipart(form).await.and_then(signup).err().map(|e| e.parts().2);
        assert!(err.as_deref().is_some_and(|m| m.contains("`mu`")), "{err:?}");
    }

    #[tokio::test]
    async fn bodies_over_the_limit_are_refused() {
        let chunks = vec![Ok::<_, warp::Error>(Bytes::from(vec![0u8; 600])), Ok(Bytes::from(vec![0u8; 600]))];
        let err = read_limited(futures_util::stream::iter(chunks), 1000).await.err();
        assert_eq!(err.map(|e| e.parts().1), Some("payload_too_large"));
    }
}
