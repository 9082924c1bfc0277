//! `/groups/*`: groups, their members and roles, and their messages.

use devconnect_core::{Group, GroupId, GroupMember, GroupMessage, GroupPage, GroupQuery, MyGroup, Session, UserId};
use devconnect_types::rest::{DataResponse, Done, ErrorBody, ReadResponse};
use http::StatusCode;
use warp::Filter;
use warp::filters::BoxedFilter;
use warp::reply::Response;

use super::template::{at1, at2, exact};
use super::{Authed, Handled, Query, State, authed, json_status, ok, query};
use crate::forms::{self, Fields, RawBody, body};
use crate::openapi::schemas;
use crate::telemetry::tag;

const GROUPS: &str = "/groups";
const MINE: &str = "/groups/mine";
const GROUP: &str = "/groups/{groupId}";
const MEMBERS: &str = "/groups/{groupId}/members";
const MEMBER: &str = "/groups/{groupId}/members/{userId}";
const JOIN: &str = "/groups/{groupId}/join";
const LEAVE: &str = "/groups/{groupId}/leave";
const TRANSFER: &str = "/groups/{groupId}/transfer/{userId}";
const MESSAGES: &str = "/groups/{groupId}/messages";
const READ: &str = "/groups/{groupId}/read";

/// The group routes (`/groups/mine` before `/groups/{groupId}`).
pub(super) fn routes(state: &State) -> BoxedFilter<(Response,)> {
    let b = || body(state.limits);
    exact(GROUPS)
        .and(warp::post())
        .and(authed(state))
        .and(b())
        .then(|a: Authed, body| a.run(move |st, session| create_group(st, session, body)))
        .map(tag(GROUPS))
        .or(exact(GROUPS)
            .and(warp::get())
            .and(authed(state))
            .and(query())
            .then(|a: Authed, q| a.run(move |st, session| discover(st, session, q)))
            .map(tag(GROUPS)))
        .unify()
        .or(exact(MINE).and(warp::get()).and(authed(state)).then(|a: Authed| a.run(my_groups)).map(tag(MINE)))
        .unify()
        .or(at1(GROUP)
            .and(warp::get())
            .and(authed(state))
            .then(|id, a: Authed| a.run(move |st, session| group(st, session, id)))
            .map(tag(GROUP)))
        .unify()
        .or(at1(GROUP)
            .and(warp::patch())
            .and(authed(state))
            .and(b())
            .then(|id, a: Authed, body| a.run(move |st, session| edit(st, session, id, body)))
            .map(tag(GROUP)))
        .unify()
        .or(at1(MEMBERS)
            .and(warp::get())
            .and(authed(state))
            .then(|id, a: Authed| a.run(move |st, session| members(st, session, id)))
            .map(tag(MEMBERS)))
        .unify()
        .or(at2(MEMBER)
            .and(warp::post())
            .and(authed(state))
            .then(|id, user, a: Authed| a.run(move |st, session| add_member(st, session, id, user)))
            .map(tag(MEMBER)))
        .unify()
        .or(at2(MEMBER)
            .and(warp::patch())
            .and(authed(state))
            .and(b())
            .then(|id, user, a: Authed, body| a.run(move |st, session| set_role(st, session, id, user, body)))
            .map(tag(MEMBER)))
        .unify()
        .or(at2(MEMBER)
            .and(warp::delete())
            .and(authed(state))
            .then(|id, user, a: Authed| a.run(move |st, session| remove_member(st, session, id, user)))
            .map(tag(MEMBER)))
        .unify()
        .or(at1(JOIN)
            .and(warp::post())
            .and(authed(state))
            .then(|id, a: Authed| a.run(move |st, session| join(st, session, id)))
            .map(tag(JOIN)))
        .unify()
        .or(at1(LEAVE)
            .and(warp::post())
            .and(authed(state))
            .then(|id, a: Authed| a.run(move |st, session| leave(st, session, id)))
            .map(tag(LEAVE)))
        .unify()
        .or(at2(TRANSFER)
            .and(warp::post())
            .and(authed(state))
            .then(|id, user, a: Authed| a.run(move |st, session| transfer(st, session, id, user)))
            .map(tag(TRANSFER)))
        .unify()
        .or(at1(MESSAGES)
            .and(warp::get())
            .and(authed(state))
            .and(query())
            .then(|id, a: Authed, q| a.run(move |st, session| history(st, session, id, q)))
            .map(tag(MESSAGES)))
        .unify()
        .or(at1(MESSAGES)
            .and(warp::post())
            .and(authed(state))
            .and(b())
            .then(|id, a: Authed, body| a.run(move |st, session| send(st, session, id, body)))
            .map(tag(MESSAGES)))
        .unify()
        .or(at1(READ)
            .and(warp::post())
            .and(authed(state))
            .and(b())
            .then(|id, a: Authed, body| a.run(move |st, session| mark_read(st, session, id, body)))
            .map(tag(READ)))
        .unify()
        .boxed()
}

#[utoipa::path(post, path = GROUPS, tag = "groups", description = "Create a group; I am its owner and only member.", security(("bearer" = [])),
    request_body(content((schemas::NewGroupBody = "application/json"))),
    responses((status = 201, description = "Created", body = DataResponse<Group>), (status = 400, description = "Invalid input", body = ErrorBody),
        (status = 401, description = "Missing, invalid, expired or revoked token", body = ErrorBody),
        (status = 429, description = "Too many edits (Retry-After)", body = ErrorBody)))]
pub async fn create_group(state: State, session: Session, body: RawBody) -> Handled {
    let new = forms::new_group(Fields::json(&body)?)?;
    let group = state.app.create_group(session.user_id, new).await?;
    Ok(json_status(StatusCode::CREATED, &DataResponse::new("group created", group)))
}

#[utoipa::path(get, path = GROUPS, tag = "groups", description = "Public groups, most recently active first, found by name words (the last may be the start of a word, for search as you type) and tags; paged like the feed.", security(("bearer" = [])),
    params(
        ("q" = Option<String>, Query, description = "words of the name, at most 100 characters and 5 words"),
        ("skills" = Option<String>, Query, description = "comma-separated tags the group must all have, e.g. rust,berlin"),
        ("page" = Option<u32>, Query, description = "1-based, default 1"),
        ("limit" = Option<u32>, Query, description = "default 10, at most 50"),
    ),
    responses((status = 200, description = "A page", body = DataResponse<GroupPage>), (status = 400, description = "Invalid input", body = ErrorBody),
        (status = 401, description = "Missing, invalid, expired or revoked token", body = ErrorBody)))]
pub async fn discover(state: State, _session: Session, query: String) -> Handled {
    let q = Query::parse(&query)?;
    let query =
        GroupQuery { q: q.text("q"), tags: q.list("skills"), page: q.number("page")?, limit: q.number("limit")? };
    ok(&DataResponse::new("groups", state.app.discover_groups(&query).await?))
}

#[utoipa::path(get, path = MINE, tag = "groups", description = "The groups I am a member of, with my role, most recently changed first.", security(("bearer" = [])),
    responses((status = 200, description = "My groups", body = DataResponse<Vec<MyGroup>>),
        (status = 401, description = "Missing, invalid, expired or revoked token", body = ErrorBody)))]
pub async fn my_groups(state: State, session: Session) -> Handled {
    ok(&DataResponse::new("my groups", state.app.my_groups(session.user_id).await?))
}

#[utoipa::path(get, path = GROUP, tag = "groups", description = "A group: any public one; a private one only to its members (404 to anyone else).", security(("bearer" = [])),
    params(("groupId" = String, Path)),
    responses((status = 200, description = "The group", body = DataResponse<Group>), (status = 400, description = "Invalid input", body = ErrorBody),
        (status = 401, description = "Missing, invalid, expired or revoked token", body = ErrorBody), (status = 404, description = "No such group (or a private one I am not in)", body = ErrorBody)))]
pub async fn group(state: State, session: Session, id: String) -> Handled {
    let id = GroupId::parse("groupId", &id)?;
    ok(&DataResponse::new("group", state.app.group(session.user_id, id).await?))
}

#[utoipa::path(patch, path = GROUP, tag = "groups", description = "Change a group's name, description, visibility, tags or photo (the owner and admins); members get `groupUpdated` and a system message. A new photo replaces the old one.", security(("bearer" = [])),
    params(("groupId" = String, Path)),
    request_body(content((schemas::GroupEditBody = "application/json"), (schemas::GroupEditForm = "multipart/form-data"))),
    responses((status = 200, description = "Changed", body = DataResponse<Group>), (status = 400, description = "Invalid input", body = ErrorBody),
        (status = 401, description = "Missing, invalid, expired or revoked token", body = ErrorBody), (status = 403, description = "Not the owner or an admin", body = ErrorBody),
        (status = 404, description = "No such group (or a private one I am not in)", body = ErrorBody),
        (status = 413, description = "Upload too large", body = ErrorBody),
        (status = 415, description = "Not a JPEG, PNG or WebP image", body = ErrorBody),
        (status = 429, description = "Too many edits (Retry-After)", body = ErrorBody)))]
pub async fn edit(state: State, session: Session, id: String, body: RawBody) -> Handled {
    let id = GroupId::parse("groupId", &id)?;
    let edit = forms::group_edit(Fields::json_or_multipart(body).await?)?;
    ok(&DataResponse::new("group changed", state.app.edit_group(session.user_id, id, edit).await?))
}

#[utoipa::path(get, path = MEMBERS, tag = "groups", description = "A group's members, longest-standing first.", security(("bearer" = [])),
    params(("groupId" = String, Path)),
    responses((status = 200, description = "Members", body = DataResponse<Vec<GroupMember>>), (status = 400, description = "Invalid input", body = ErrorBody),
        (status = 401, description = "Missing, invalid, expired or revoked token", body = ErrorBody), (status = 404, description = "No such group (or a private one I am not in)", body = ErrorBody)))]
pub async fn members(state: State, session: Session, id: String) -> Handled {
    let id = GroupId::parse("groupId", &id)?;
    ok(&DataResponse::new("members", state.app.group_members(session.user_id, id).await?))
}

#[utoipa::path(post, path = MEMBER, tag = "groups", description = "Add one of my connections to a group I own or administer.", security(("bearer" = [])),
    params(("groupId" = String, Path), ("userId" = String, Path)),
    responses((status = 201, description = "Added", body = DataResponse<GroupMember>), (status = 400, description = "Invalid input", body = ErrorBody),
        (status = 401, description = "Missing, invalid, expired or revoked token", body = ErrorBody),
        (status = 403, description = "Not an owner or admin, or not my connection", body = ErrorBody),
        (status = 404, description = "No such group or user", body = ErrorBody), (status = 409, description = "Already a member, or the group is full (code `limit_exceeded`)", body = ErrorBody)))]
pub async fn add_member(state: State, session: Session, id: String, user: String) -> Handled {
    let (id, user) = (GroupId::parse("groupId", &id)?, UserId::parse("userId", &user)?);
    let member = state.app.add_group_member(session.user_id, id, user).await?;
    Ok(json_status(StatusCode::CREATED, &DataResponse::new("member added", member)))
}

#[utoipa::path(patch, path = MEMBER, tag = "groups", description = "Make a member an admin, or an admin a member (the owner only).", security(("bearer" = [])),
    params(("groupId" = String, Path), ("userId" = String, Path)),
    request_body(content((schemas::RoleBody = "application/json"))),
    responses((status = 200, description = "Changed", body = DataResponse<GroupMember>), (status = 400, description = "Invalid input", body = ErrorBody),
        (status = 401, description = "Missing, invalid, expired or revoked token", body = ErrorBody), (status = 403, description = "Not the owner", body = ErrorBody),
        (status = 404, description = "No such group or member", body = ErrorBody), (status = 409, description = "Changed meanwhile", body = ErrorBody)))]
pub async fn set_role(state: State, session: Session, id: String, user: String, body: RawBody) -> Handled {
    let (id, user) = (GroupId::parse("groupId", &id)?, UserId::parse("userId", &user)?);
    let role = forms::group_role(Fields::json(&body)?)?;
    ok(&DataResponse::new("role changed", state.app.set_group_role(session.user_id, id, user, role).await?))
}

#[utoipa::path(delete, path = MEMBER, tag = "groups", description = "Remove a member: admins remove members, the owner also admins; nobody removes the owner.", security(("bearer" = [])),
    params(("groupId" = String, Path), ("userId" = String, Path)),
    responses((status = 200, description = "Removed", body = Done), (status = 400, description = "Invalid input", body = ErrorBody),
        (status = 401, description = "Missing, invalid, expired or revoked token", body = ErrorBody), (status = 403, description = "Not allowed to remove them", body = ErrorBody),
        (status = 404, description = "No such group or member", body = ErrorBody)))]
pub async fn remove_member(state: State, session: Session, id: String, user: String) -> Handled {
    let (id, user) = (GroupId::parse("groupId", &id)?, UserId::parse("userId", &user)?);
    state.app.remove_group_member(session.user_id, id, user).await?;
    ok(&Done::new("member removed"))
}

#[utoipa::path(post, path = JOIN, tag = "groups", description = "Join a public group.", security(("bearer" = [])),
    params(("groupId" = String, Path)),
    responses((status = 201, description = "Joined", body = DataResponse<GroupMember>), (status = 400, description = "Invalid input", body = ErrorBody),
        (status = 401, description = "Missing, invalid, expired or revoked token", body = ErrorBody),
        (status = 404, description = "No such group (private ones cannot be joined)", body = ErrorBody), (status = 409, description = "Already a member, or the group is full (code `limit_exceeded`)", body = ErrorBody)))]
pub async fn join(state: State, session: Session, id: String) -> Handled {
    let id = GroupId::parse("groupId", &id)?;
    let member = state.app.join_group(session.user_id, id).await?;
    Ok(json_status(StatusCode::CREATED, &DataResponse::new("joined", member)))
}

#[utoipa::path(post, path = LEAVE, tag = "groups", description = "Leave a group; an owner hands it to the longest-standing admin, else member; the last member archives it.", security(("bearer" = [])),
    params(("groupId" = String, Path)),
    responses((status = 200, description = "Left", body = Done), (status = 400, description = "Invalid input", body = ErrorBody),
        (status = 401, description = "Missing, invalid, expired or revoked token", body = ErrorBody), (status = 404, description = "Not a member", body = ErrorBody)))]
pub async fn leave(state: State, session: Session, id: String) -> Handled {
    let id = GroupId::parse("groupId", &id)?;
    state.app.leave_group(session.user_id, id).await?;
    ok(&Done::new("left the group"))
}

#[utoipa::path(post, path = TRANSFER, tag = "groups", description = "Hand a group I own to another member; I stay on as an admin.", security(("bearer" = [])),
    params(("groupId" = String, Path), ("userId" = String, Path)),
    responses((status = 200, description = "Handed on", body = Done), (status = 400, description = "Invalid input", body = ErrorBody),
        (status = 401, description = "Missing, invalid, expired or revoked token", body = ErrorBody), (status = 403, description = "Not the owner", body = ErrorBody),
        (status = 404, description = "No such group or member", body = ErrorBody)))]
pub async fn transfer(state: State, session: Session, id: String, user: String) -> Handled {
    let (id, user) = (GroupId::parse("groupId", &id)?, UserId::parse("userId", &user)?);
    state.app.transfer_group(session.user_id, id, user).await?;
    ok(&Done::new("group handed on"))
}

#[utoipa::path(get, path = MESSAGES, tag = "groups", description = "A group's messages as I may read them, oldest first: from when I joined (and, once I left, up to then). System messages (`change`) record every change of the group.", security(("bearer" = [])),
    params(("groupId" = String, Path), ("before" = Option<String>, Query, description = "a message id"),
        ("limit" = Option<u32>, Query, description = "default 50, at most 200")),
    responses((status = 200, description = "Messages", body = DataResponse<Vec<GroupMessage>>), (status = 400, description = "Invalid input", body = ErrorBody),
        (status = 401, description = "Missing, invalid, expired or revoked token", body = ErrorBody), (status = 403, description = "Never a member of this public group", body = ErrorBody),
        (status = 404, description = "No such group (or a private one I was never in), or `before` is not a message I can read", body = ErrorBody)))]
pub async fn history(state: State, session: Session, id: String, query: String) -> Handled {
    let id = GroupId::parse("groupId", &id)?;
    let q = Query::parse(&query)?;
    let messages = state.app.group_history(session.user_id, id, q.message_id("before")?, q.number("limit")?).await?;
    ok(&DataResponse::new("messages", messages))
}

#[utoipa::path(post, path = MESSAGES, tag = "groups", description = "Send to a group I am a member of; every member gets `groupMessage`.", security(("bearer" = [])),
    params(("groupId" = String, Path)),
    request_body(content((schemas::MessageBody = "application/json"), (schemas::MessageForm = "multipart/form-data"))),
    responses(
        (status = 201, description = "Stored", body = DataResponse<GroupMessage>),
        (status = 200, description = "Already stored under this clientMsgId", body = DataResponse<GroupMessage>),
        (status = 400, description = "Invalid input", body = ErrorBody), (status = 401, description = "Missing, invalid, expired or revoked token", body = ErrorBody),
        (status = 403, description = "Not a member", body = ErrorBody), (status = 404, description = "No such group (or a private one I was never in)", body = ErrorBody),
        (status = 429, description = "Too many messages (Retry-After)", body = ErrorBody)))]
pub async fn send(state: State, session: Session, id: String, body: RawBody) -> Handled {
    let id = GroupId::parse("groupId", &id)?;
    let message = forms::new_message(Fields::json_or_multipart(body).await?)?;
    let sent = state.app.send_group_message(session.user_id, id, message).await?;
    let status = if sent.created { StatusCode::CREATED } else { StatusCode::OK };
    Ok(json_status(status, &DataResponse::new("message sent", sent.message)))
}

#[utoipa::path(post, path = READ, tag = "groups", description = "Move my read position up to a message (never back); the other members get `groupRead`. `upTo` is null when it did not move.", security(("bearer" = [])),
    params(("groupId" = String, Path)),
    request_body(content((schemas::GroupReadBody = "application/json"))),
    responses((status = 200, description = "Marked", body = ReadResponse), (status = 400, description = "Invalid input, or not a message of this group I can read", body = ErrorBody),
        (status = 401, description = "Missing, invalid, expired or revoked token", body = ErrorBody), (status = 403, description = "Never a member of this public group", body = ErrorBody),
        (status = 404, description = "No such group (or a private one I was never in)", body = ErrorBody)))]
pub async fn mark_read(state: State, session: Session, id: String, body: RawBody) -> Handled {
    let id = GroupId::parse("groupId", &id)?;
    let up_to = forms::group_read(Fields::json(&body)?)?;
    let moved = state.app.mark_group_read(session.user_id, id, up_to).await?;
    ok(&ReadResponse::new(moved.then_some(up_to)))
}
