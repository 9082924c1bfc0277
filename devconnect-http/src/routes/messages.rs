//! `/message/*`: chat history, sending, catch-up, read state, chat partners; and
//! `/conversations`, 1:1 and group conversations together.

use devconnect_core::{ChatPartner, Conversation, Message, Session, UserId};
use devconnect_types::rest::{DataResponse, ErrorBody, ListResponse, ReadResponse, SyncResponse};
use http::StatusCode;
use warp::Filter;
use warp::filters::BoxedFilter;
use warp::reply::Response;

use super::template::{at1, exact};
use super::{Authed, Handled, Query, State, authed, json_status, ok, query};
use crate::forms::{self, Fields, RawBody, body};
use crate::openapi::schemas;
use crate::telemetry::tag;

const CHAT_PARTNERS: &str = "/message/connections";
const SYNC: &str = "/message/sync";
const CONVERSATION: &str = "/message/{userId}";
const READ: &str = "/message/{userId}/read";
const CONVERSATIONS: &str = "/conversations";

/// The message routes (`/message/connections` and `/message/sync` come before `/message/{userId}`).
pub(super) fn routes(state: &State) -> BoxedFilter<(Response,)> {
    let b = || body(state.limits);
    exact(CHAT_PARTNERS)
        .and(warp::get())
        .and(authed(state))
        .then(|a: Authed| a.run(chat_partners))
        .map(tag(CHAT_PARTNERS))
        .or(exact(CONVERSATIONS)
            .and(warp::get())
            .and(authed(state))
            .then(|a: Authed| a.run(conversations))
            .map(tag(CONVERSATIONS)))
        .unify()
        .or(exact(SYNC)
            .and(warp::get())
            .and(authed(state))
            .and(query())
            .then(|a: Authed, q| a.run(move |st, session| sync(st, session, q)))
            .map(tag(SYNC)))
        .unify()
        .or(at1(READ)
            .and(warp::post())
            .and(authed(state))
            .then(|id, a: Authed| a.run(move |st, session| mark_read(st, session, id)))
            .map(tag(READ)))
        .unify()
        .or(at1(CONVERSATION)
            .and(warp::get())
            .and(authed(state))
            .and(query())
            .then(|id, a: Authed, q| a.run(move |st, session| history(st, session, id, q)))
            .map(tag(CONVERSATION)))
        .unify()
        .or(at1(CONVERSATION)
            .and(warp::post())
            .and(authed(state))
            .and(b())
            .then(|id, a: Authed, body| a.run(move |st, session| send_message(st, session, id, body)))
            .map(tag(CONVERSATION)))
        .unify()
        .boxed()
}

#[utoipa::path(get, path = CHAT_PARTNERS, tag = "messages", security(("bearer" = [])),
    responses((status = 200, description = "Chat partners, most recent first", body = ListResponse<ChatPartner>), (status = 401, description = "Missing, invalid, expired or revoked token", body = ErrorBody)))]
pub async fn chat_partners(state: State, session: Session) -> Handled {
    let me = session.user_id;
    let partners = state.app.chat_partners(me).await?;
    ok(&ListResponse::new("chat partners", partners))
}

#[utoipa::path(get, path = CONVERSATIONS, tag = "messages", description = "My 1:1 and group conversations together, most recent first, each with its last message and unread count (`kind`: `direct` or `group`).", security(("bearer" = [])),
    responses((status = 200, description = "Conversations, most recent first", body = DataResponse<Vec<Conversation>>), (status = 401, description = "Missing, invalid, expired or revoked token", body = ErrorBody)))]
pub async fn conversations(state: State, session: Session) -> Handled {
    ok(&DataResponse::new("conversations", state.app.conversations(session.user_id).await?))
}

#[utoipa::path(get, path = SYNC, tag = "messages", description = "Everything to or from me after a message, across conversations.", security(("bearer" = [])),
    params(("after" = Option<String>, Query, description = "a message id"), ("limit" = Option<u32>, Query, description = "default 100")),
    responses((status = 200, description = "A page", body = SyncResponse), (status = 400, description = "Invalid input", body = ErrorBody), (status = 401, description = "Missing, invalid, expired or revoked token", body = ErrorBody),
        (status = 404, description = "Unknown `after`", body = ErrorBody)))]
pub async fn sync(state: State, session: Session, query: String) -> Handled {
    let me = session.user_id;
    let q = Query::parse(&query)?;
    let page = state.app.sync(me, q.message_id("after")?, q.number("limit")?).await?;
    ok(&SyncResponse::from(page))
}

#[utoipa::path(get, path = CONVERSATION, tag = "messages", description = "History with a user, oldest first.", security(("bearer" = [])),
    params(("userId" = String, Path), ("before" = Option<String>, Query, description = "a message id"),
        ("limit" = Option<u32>, Query, description = "default 50")),
    responses((status = 200, description = "Messages", body = Vec<Message>), (status = 400, description = "Invalid input", body = ErrorBody), (status = 401, description = "Missing, invalid, expired or revoked token", body = ErrorBody)))]
pub async fn history(state: State, session: Session, other: String, query: String) -> Handled {
    let me = session.user_id;
    let other = UserId::parse("userId", &other)?;
    let q = Query::parse(&query)?;
    ok(&state.app.history(me, other, q.message_id("before")?, q.number("limit")?).await?)
}

#[utoipa::path(post, path = CONVERSATION, tag = "messages", description = "Send to a connection (path parameter: the receiver).", security(("bearer" = [])),
    params(("userId" = String, Path, description = "the receiver")),
    request_body(content((schemas::MessageBody = "application/json"), (schemas::MessageForm = "multipart/form-data"))),
    responses(
        (status = 201, description = "Stored", body = Message),
        (status = 200, description = "Already stored under this clientMsgId", body = Message),
        (status = 400, description = "Invalid input", body = ErrorBody), (status = 401, description = "Missing, invalid, expired or revoked token", body = ErrorBody),
        (status = 403, description = "Not a connection", body = ErrorBody),
        (status = 429, description = "Too many messages (Retry-After)", body = ErrorBody)))]
pub async fn send_message(state: State, session: Session, to: String, body: RawBody) -> Handled {
    let me = session.user_id;
    let to = UserId::parse("receiverId", &to)?;
    let message = forms::new_message(Fields::json_or_multipart(body).await?)?;
    let sent = state.app.send_message(me, to, message).await?;
    let status = if sent.created { StatusCode::CREATED } else { StatusCode::OK };
    Ok(json_status(status, &sent.message))
}

#[utoipa::path(post, path = READ, tag = "messages", security(("bearer" = [])),
    params(("userId" = String, Path)),
    responses((status = 200, description = "Marked", body = ReadResponse), (status = 400, description = "Invalid input", body = ErrorBody), (status = 401, description = "Missing, invalid, expired or revoked token", body = ErrorBody)))]
pub async fn mark_read(state: State, session: Session, other: String) -> Handled {
    let me = session.user_id;
    let other = UserId::parse("userId", &other)?;
    let up_to = state.app.mark_read(me, other).await?;
    ok(&ReadResponse::new(up_to))
}
