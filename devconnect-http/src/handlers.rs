//! Handlers: decode, call one `DevConnect` method, encode. Each returns
//! `Result<Response, ApiError>`; [`respond`] turns the error into the envelope, so a
//! handler's failure never falls through to another route.

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::sync::Arc;

use devconnect_core::{
    ChatPartner, ConnectionRequest, DevConnect, Error, FeedQuery, Me, Message, MessageId, Peer, Profile, RequestId,
    RequestStatus, Session, UserId,
};
use devconnect_types::rest::{
    AuthResponse, DataResponse, Done, ErrorBody, FeedResponse, HealthResponse, ListResponse, ReadResponse,
    SyncResponse, TokenResponse, UserResponse,
};
use http::header::{AUTHORIZATION, CACHE_CONTROL, CONTENT_TYPE, HeaderValue};
use http::{HeaderMap, StatusCode};
use serde::Serialize;
use warp::Reply as _;
use warp::reply::Response;

use crate::error::{ApiError, invalid};
use crate::forms::{self, BodyLimits, Fields, RawBody};
use crate::openapi::schemas;

/// What every handler can reach. Cheap to clone.
#[derive(Clone)]
pub struct State {
    /// The service.
    pub app: DevConnect,
    /// Body limits.
    pub limits: BodyLimits,
    /// Where local media files are.
    pub media_dir: Option<Arc<PathBuf>>,
    /// The OpenAPI document, rendered once.
    pub openapi: Arc<String>,
}

/// Where a request came from (set by the connection loop).
#[derive(Clone, Copy, Debug)]
pub struct ClientAddr(pub IpAddr);

type Handled = Result<Response, ApiError>;

/// The client, for the service's per-address limits. The connection loop always sets
/// the address; a request without one counts with all other such requests.
fn peer(addr: Option<ClientAddr>) -> Peer {
    Peer::Remote(addr.map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |ClientAddr(ip)| ip))
}

/// Renders a handler's result.
pub async fn respond(result: impl std::future::Future<Output = Handled>) -> Response {
    result.await.unwrap_or_else(ApiError::into_response)
}

fn json_status<T: Serialize>(status: StatusCode, body: &T) -> Response {
    warp::reply::with_status(warp::reply::json(body), status).into_response()
}

fn ok<T: Serialize>(body: &T) -> Handled {
    Ok(json_status(StatusCode::OK, body))
}

/// The bearer token of a request.
fn bearer(headers: &HeaderMap) -> Result<&str, ApiError> {
    let value = headers.get(AUTHORIZATION).ok_or(Error::Unauthorized("missing bearer token"))?;
    let value = value.to_str().map_err(|_| Error::Unauthorized("invalid authorization header"))?;
    let (scheme, token) = value.trim().split_once(' ').ok_or(Error::Unauthorized("invalid authorization header"))?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(Error::Unauthorized("invalid authorization header").into());
    }
    Ok(token.trim())
}

impl State {
    async fn session(&self, headers: &HeaderMap) -> Result<Session, ApiError> {
        Ok(self.app.authenticate(bearer(headers)?).await?)
    }

    async fn me(&self, headers: &HeaderMap) -> Result<UserId, ApiError> {
        Ok(self.session(headers).await?.user_id)
    }
}

/// Parsed query parameters; unknown ones are ignored (clients add cache busters).
struct Query(Vec<(String, String)>);

impl Query {
    fn parse(raw: &str) -> Result<Self, ApiError> {
        serde_urlencoded::from_str(raw).map(Self).map_err(|_| invalid("query", "is not a valid query string"))
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.trim()).filter(|v| !v.is_empty())
    }

    fn number(&self, name: &'static str) -> Result<Option<u32>, ApiError> {
        self.get(name).map(|v| v.parse().map_err(|_| invalid(name, "must be a positive whole number"))).transpose()
    }

    fn message_id(&self, name: &'static str) -> Result<Option<MessageId>, ApiError> {
        Ok(self.get(name).map(|v| MessageId::parse(name, v)).transpose()?)
    }

    fn list(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name || k.strip_suffix("[]") == Some(name))
            .flat_map(|(_, v)| v.split(','))
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect()
    }
}

// ---- auth ----

#[utoipa::path(post, path = "/auth/signup", tag = "auth", description = "Create an account (alias POST /signup). JSON or multipart/form-data with file part `image`.",
    request_body(content(
        (schemas::SignupBody = "application/json"),
        (schemas::SignupForm = "multipart/form-data"),
    )),
    responses(
        (status = 201, description = "Signed up", body = AuthResponse),
        (status = 400, description = "Invalid input", body = ErrorBody),
        (status = 409, description = "Email already registered", body = ErrorBody),
        (status = 413, description = "Upload too large", body = ErrorBody),
        (status = 415, description = "Not a JPEG, PNG or WebP image", body = ErrorBody),
        (status = 429, description = "Too many attempts (Retry-After)", body = ErrorBody),
    ))]
pub async fn signup(state: State, addr: Option<ClientAddr>, body: RawBody) -> Handled {
    let signup = forms::signup(Fields::json_or_multipart(body).await?)?;
    let auth = state.app.signup(signup, peer(addr)).await?;
    Ok(json_status(StatusCode::CREATED, &AuthResponse::new("signed up", auth.user, auth.token)))
}

#[utoipa::path(post, path = "/auth/login", tag = "auth", description = "Log in (alias POST /login).",
    request_body(content((schemas::LoginBody = "application/json"))),
    responses(
        (status = 200, description = "Logged in", body = AuthResponse),
        (status = 400, description = "Invalid input", body = ErrorBody),
        (status = 401, description = "Invalid email or password", body = ErrorBody),
        (status = 429, description = "Too many attempts (Retry-After)", body = ErrorBody),
    ))]
pub async fn login(state: State, addr: Option<ClientAddr>, body: RawBody) -> Handled {
    let (email, password) = forms::login(Fields::json(&body)?)?;
    let auth = state.app.login(&email, &password, peer(addr)).await?;
    ok(&AuthResponse::new("logged in", auth.user, auth.token))
}

#[utoipa::path(post, path = "/auth/logout", tag = "auth", description = "Revoke this token (alias POST /logout).", security(("bearer" = [])),
    responses((status = 200, description = "Logged out", body = Done), (status = 401, description = "Missing, invalid, expired or revoked token", body = ErrorBody)))]
pub async fn logout(state: State, headers: HeaderMap) -> Handled {
    let session = state.session(&headers).await?;
    state.app.logout(&session).await?;
    ok(&Done::new("logged out"))
}

// ---- profile ----

#[utoipa::path(get, path = "/profile/view", tag = "profile", description = "My profile (alias /profile/veiw).", security(("bearer" = [])),
    responses((status = 200, description = "Me", body = Me), (status = 401, description = "Missing, invalid, expired or revoked token", body = ErrorBody)))]
pub async fn view_profile(state: State, headers: HeaderMap) -> Handled {
    let me = state.me(&headers).await?;
    ok(&state.app.profile(me).await?)
}

#[utoipa::path(get, path = "/profile/{userId}", tag = "profile", security(("bearer" = [])),
    params(("userId" = String, Path, description = "24-hex user id")),
    responses((status = 200, description = "Profile", body = Profile), (status = 400, description = "Invalid input", body = ErrorBody), (status = 401, description = "Missing, invalid, expired or revoked token", body = ErrorBody),
        (status = 404, description = "No such user", body = ErrorBody)))]
pub async fn public_profile(state: State, id: String, headers: HeaderMap) -> Handled {
    state.me(&headers).await?;
    let id = UserId::parse("userId", &id)?;
    ok(&state.app.public_profile(id).await?)
}

#[utoipa::path(patch, path = "/profile/edit", tag = "profile", security(("bearer" = [])),
    request_body(content((schemas::EditBody = "application/json"), (schemas::EditForm = "multipart/form-data"))),
    responses((status = 200, description = "Updated", body = UserResponse), (status = 400, description = "Invalid input", body = ErrorBody), (status = 401, description = "Missing, invalid, expired or revoked token", body = ErrorBody),
        (status = 413, description = "Upload too large", body = ErrorBody),
        (status = 415, description = "Not a JPEG, PNG or WebP image", body = ErrorBody)))]
pub async fn edit_profile(state: State, headers: HeaderMap, body: RawBody) -> Handled {
    let me = state.me(&headers).await?;
    let edit = forms::profile_edit(Fields::json_or_multipart(body).await?)?;
    let user = state.app.edit_profile(me, edit).await?;
    ok(&UserResponse::new("profile updated", user))
}

#[utoipa::path(patch, path = "/profile/password", tag = "profile", description = "Change my password; every older token stops working.", security(("bearer" = [])),
    request_body(content((schemas::PasswordBody = "application/json"))),
    responses((status = 200, description = "Changed; the new token", body = TokenResponse), (status = 400, description = "Invalid input", body = ErrorBody), (status = 401, description = "Missing, invalid, expired or revoked token", body = ErrorBody)))]
pub async fn change_password(state: State, headers: HeaderMap, body: RawBody) -> Handled {
    let session = state.session(&headers).await?;
    let change = forms::password_change(Fields::json(&body)?)?;
    let token = state.app.change_password(&session, change).await?;
    ok(&TokenResponse::new("password changed; other sessions were logged out", token))
}

// ---- connections ----

#[utoipa::path(post, path = "/request/send/{status}/{toUserId}", tag = "connections", security(("bearer" = [])),
    params(("status" = String, Path, description = "`interested` or `ignored`"), ("toUserId" = String, Path)),
    request_body(content((schemas::NoteBody = "application/json"))),
    responses((status = 201, description = "Sent", body = DataResponse<ConnectionRequest>), (status = 400, description = "Invalid input", body = ErrorBody), (status = 401, description = "Missing, invalid, expired or revoked token", body = ErrorBody),
        (status = 404, description = "No such user", body = ErrorBody),
        (status = 409, description = "A request between you already exists", body = ErrorBody),
        (status = 429, description = "Too many requests (Retry-After)", body = ErrorBody)))]
pub async fn send_request(state: State, status: String, to: String, headers: HeaderMap, body: RawBody) -> Handled {
    let me = state.me(&headers).await?;
    let status = RequestStatus::parse_send(&status)?;
    let to = UserId::parse("toUserId", &to)?;
    let note = forms::request_note(Fields::json(&body)?)?;
    let request = state.app.send_request(me, to, status, note.as_deref()).await?;
    let message = match status {
        RequestStatus::Interested => "connection request sent",
        _ => "profile ignored",
    };
    Ok(json_status(StatusCode::CREATED, &DataResponse::new(message, request)))
}

#[utoipa::path(post, path = "/request/review/{status}/{requestId}", tag = "connections", security(("bearer" = [])),
    params(("status" = String, Path, description = "`accepted` or `rejected`"), ("requestId" = String, Path)),
    responses((status = 200, description = "Reviewed", body = DataResponse<ConnectionRequest>), (status = 400, description = "Invalid input", body = ErrorBody), (status = 401, description = "Missing, invalid, expired or revoked token", body = ErrorBody),
        (status = 403, description = "Only the receiver may review", body = ErrorBody),
        (status = 404, description = "No such request", body = ErrorBody),
        (status = 409, description = "Already reviewed", body = ErrorBody)))]
pub async fn review_request(state: State, status: String, id: String, headers: HeaderMap) -> Handled {
    let me = state.me(&headers).await?;
    let status = RequestStatus::parse_review(&status)?;
    let id = RequestId::parse("requestId", &id)?;
    let request = state.app.review_request(me, id, status).await?;
    ok(&DataResponse::new(format!("request {status}"), request))
}

#[utoipa::path(get, path = "/user/requests/received", tag = "connections", security(("bearer" = [])),
    responses((status = 200, description = "Pending requests to me", body = ListResponse<ConnectionRequest<Profile, UserId>>), (status = 401, description = "Missing, invalid, expired or revoked token", body = ErrorBody)))]
pub async fn received_requests(state: State, headers: HeaderMap) -> Handled {
    let me = state.me(&headers).await?;
    let requests = state.app.received_requests(me).await?;
    ok(&ListResponse::new("received requests", requests))
}

#[utoipa::path(get, path = "/user/requests/sent", tag = "connections", security(("bearer" = [])),
    responses((status = 200, description = "My requests", body = ListResponse<ConnectionRequest<UserId, Profile>>), (status = 401, description = "Missing, invalid, expired or revoked token", body = ErrorBody)))]
pub async fn sent_requests(state: State, headers: HeaderMap) -> Handled {
    let me = state.me(&headers).await?;
    let requests = state.app.sent_requests(me).await?;
    ok(&ListResponse::new("sent requests", requests))
}

#[utoipa::path(get, path = "/user/connections", tag = "connections", security(("bearer" = [])),
    responses((status = 200, description = "My connections", body = ListResponse<Profile>), (status = 401, description = "Missing, invalid, expired or revoked token", body = ErrorBody)))]
pub async fn connections(state: State, headers: HeaderMap) -> Handled {
    let me = state.me(&headers).await?;
    let connections = state.app.connections(me).await?;
    ok(&ListResponse::new("connections", connections))
}

#[utoipa::path(delete, path = "/user/deleteconnection/{userId}", tag = "connections", security(("bearer" = [])),
    params(("userId" = String, Path)),
    responses((status = 200, description = "Removed", body = Done), (status = 400, description = "Invalid input", body = ErrorBody), (status = 401, description = "Missing, invalid, expired or revoked token", body = ErrorBody),
        (status = 404, description = "Not connected", body = ErrorBody)))]
pub async fn remove_connection(state: State, other: String, headers: HeaderMap) -> Handled {
    let me = state.me(&headers).await?;
    let other = UserId::parse("userId", &other)?;
    state.app.remove_connection(me, other).await?;
    ok(&Done::new("connection removed"))
}

// ---- feed ----

#[utoipa::path(get, path = "/users/feed", tag = "feed", description = "Developers I have no request or connection with (alias /feed).", security(("bearer" = [])),
    params(
        ("page" = Option<u32>, Query, description = "1-based, default 1"),
        ("limit" = Option<u32>, Query, description = "default 10, at most 50"),
        ("skills" = Option<String>, Query, description = "comma-separated filter, e.g. rust,go"),
    ),
    responses((status = 200, description = "A page", body = FeedResponse), (status = 400, description = "Invalid input", body = ErrorBody), (status = 401, description = "Missing, invalid, expired or revoked token", body = ErrorBody)))]
pub async fn feed(state: State, headers: HeaderMap, query: String) -> Handled {
    let me = state.me(&headers).await?;
    let q = Query::parse(&query)?;
    let query = FeedQuery { page: q.number("page")?, limit: q.number("limit")?, skills: q.list("skills") };
    let page = state.app.feed(me, &query).await?;
    ok(&FeedResponse::new("feed", page))
}

// ---- messages ----

#[utoipa::path(get, path = "/message/connections", tag = "messages", security(("bearer" = [])),
    responses((status = 200, description = "Chat partners, most recent first", body = ListResponse<ChatPartner>), (status = 401, description = "Missing, invalid, expired or revoked token", body = ErrorBody)))]
pub async fn chat_partners(state: State, headers: HeaderMap) -> Handled {
    let me = state.me(&headers).await?;
    let partners = state.app.chat_partners(me).await?;
    ok(&ListResponse::new("chat partners", partners))
}

#[utoipa::path(get, path = "/message/sync", tag = "messages", description = "Everything to or from me after a message, across conversations.", security(("bearer" = [])),
    params(("after" = Option<String>, Query, description = "a message id"), ("limit" = Option<u32>, Query, description = "default 100")),
    responses((status = 200, description = "A page", body = SyncResponse), (status = 400, description = "Invalid input", body = ErrorBody), (status = 401, description = "Missing, invalid, expired or revoked token", body = ErrorBody),
        (status = 404, description = "Unknown `after`", body = ErrorBody)))]
pub async fn sync(state: State, headers: HeaderMap, query: String) -> Handled {
    let me = state.me(&headers).await?;
    let q = Query::parse(&query)?;
    let page = state.app.sync(me, q.message_id("after")?, q.number("limit")?).await?;
    ok(&SyncResponse::from(page))
}

#[utoipa::path(get, path = "/message/{userId}", tag = "messages", description = "History with a user, oldest first.", security(("bearer" = [])),
    params(("userId" = String, Path), ("before" = Option<String>, Query, description = "a message id"),
        ("limit" = Option<u32>, Query, description = "default 50")),
    responses((status = 200, description = "Messages", body = Vec<Message>), (status = 400, description = "Invalid input", body = ErrorBody), (status = 401, description = "Missing, invalid, expired or revoked token", body = ErrorBody)))]
pub async fn history(state: State, other: String, headers: HeaderMap, query: String) -> Handled {
    let me = state.me(&headers).await?;
    let other = UserId::parse("userId", &other)?;
    let q = Query::parse(&query)?;
    ok(&state.app.history(me, other, q.message_id("before")?, q.number("limit")?).await?)
}

#[utoipa::path(post, path = "/message/{userId}", tag = "messages", description = "Send to a connection (path parameter: the receiver).", security(("bearer" = [])),
    params(("userId" = String, Path, description = "the receiver")),
    request_body(content((schemas::MessageBody = "application/json"), (schemas::MessageForm = "multipart/form-data"))),
    responses(
        (status = 201, description = "Stored", body = Message),
        (status = 200, description = "Already stored under this clientMsgId", body = Message),
        (status = 400, description = "Invalid input", body = ErrorBody), (status = 401, description = "Missing, invalid, expired or revoked token", body = ErrorBody),
        (status = 403, description = "Not a connection", body = ErrorBody),
        (status = 429, description = "Too many messages (Retry-After)", body = ErrorBody)))]
pub async fn send_message(state: State, to: String, headers: HeaderMap, body: RawBody) -> Handled {
    let me = state.me(&headers).await?;
    let to = UserId::parse("receiverId", &to)?;
    let message = forms::new_message(Fields::json_or_multipart(body).await?)?;
    let sent = state.app.send_message(me, to, message).await?;
    let status = if sent.created { StatusCode::CREATED } else { StatusCode::OK };
    Ok(json_status(status, &sent.message))
}

#[utoipa::path(post, path = "/message/{userId}/read", tag = "messages", security(("bearer" = [])),
    params(("userId" = String, Path)),
    responses((status = 200, description = "Marked", body = ReadResponse), (status = 400, description = "Invalid input", body = ErrorBody), (status = 401, description = "Missing, invalid, expired or revoked token", body = ErrorBody)))]
pub async fn mark_read(state: State, other: String, headers: HeaderMap) -> Handled {
    let me = state.me(&headers).await?;
    let other = UserId::parse("userId", &other)?;
    let up_to = state.app.mark_read(me, other).await?;
    ok(&ReadResponse::new(up_to))
}

// ---- operations ----

#[utoipa::path(get, path = "/healthz", tag = "operations", description = "Up and store reachable (`?store=false` skips the store). `status` is `degraded` while the event bus between instances (`bus`) is unavailable: this instance still serves its own clients.",
    params(("store" = Option<bool>, Query)),
    responses((status = 200, body = HealthResponse), (status = 503, body = ErrorBody)))]
pub async fn health(state: State, query: String) -> Handled {
    let check_store = Query::parse(&query)?.get("store") != Some("false");
    if check_store && state.app.health().await.is_err() {
        return Err(ApiError::Unavailable);
    }
    let bus = state.app.bus_health();
    let status = if bus.is_degraded() { "degraded" } else { "ok" };
    ok(&HealthResponse::new(status, Some(bus.code().to_owned())))
}

#[utoipa::path(get, path = "/livez", tag = "operations", responses((status = 200, body = HealthResponse)))]
pub async fn live() -> Handled {
    ok(&HealthResponse::new("ok", None))
}

#[utoipa::path(get, path = "/openapi.json", tag = "operations", responses((status = 200, description = "This document")))]
pub async fn openapi(state: State) -> Handled {
    let mut response = Response::new(state.openapi.as_str().to_owned().into());
    response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    Ok(response)
}

/// A stored image by name: only names the media store could have produced, so no
/// listing and no path traversal; the content type comes from the (checked) extension.
#[utoipa::path(get, path = "/media/{name}", tag = "operations", description = "An uploaded image.",
    params(("name" = String, Path)),
    responses((status = 200, description = "The image (image/jpeg, image/png or image/webp)"), (status = 404, body = ErrorBody)))]
pub async fn media(state: State, name: String) -> Handled {
    let not_found = || ApiError::Core(Error::NotFound("media"));
    let dir = state.media_dir.as_ref().ok_or_else(not_found)?;
    if !devconnect_core::media::is_media_name(&name) {
        return Err(not_found());
    }
    let mime = match name.rsplit_once('.').map(|(_, ext)| ext) {
        Some("jpg") => "image/jpeg",
        Some("png") => "image/png",
        Some("webp") => "image/webp",
        _ => return Err(not_found()),
    };
    let bytes = match tokio::fs::read(dir.join(&name)).await {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(not_found()),
        Err(e) => return Err(Error::internal(e).into()),
    };
    let mut response = Response::new(bytes.into());
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(mime));
    // Names are random and never reused: the content at a URL never changes.
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable"));
    headers.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Ok(v) = HeaderValue::from_str(value) {
            h.insert(AUTHORIZATION, v);
        }
        h
    }

    #[test]
    fn bearer_tokens_are_read_case_insensitively_and_garbage_is_refused() {
        assert_eq!(bearer(&headers("Bearer abc")).ok(), Some("abc"));
        assert_eq!(bearer(&headers("bearer  abc ")).ok(), Some("abc"));
        for bad in ["", "abc", "Basic abc", "Bearer ", "Bearer"] {
            assert_eq!(bearer(&headers(bad)).err().map(|e| e.parts().1), Some("unauthorized"), "{bad}");
        }
    }

    #[test]
    fn query_numbers_and_lists_are_parsed_strictly() {
        let q = Query::parse("page=2&limit=&skills=rust,go&skills=sql&x=1");
        let q = q.ok();
        assert_eq!(q.as_ref().and_then(|q| q.number("page").ok()), Some(Some(2)));
        assert_eq!(q.as_ref().and_then(|q| q.number("limit").ok()), Some(None));
        assert_eq!(q.as_ref().map(|q| q.list("skills").len()), Some(3));
        let bad = Query::parse("page=-1").ok();
        assert!(bad.as_ref().is_some_and(|q| q.number("page").is_err()));
        let bad = Query::parse("before=xyz").ok();
        assert!(bad.as_ref().is_some_and(|q| q.message_id("before").is_err()));
    }
}
