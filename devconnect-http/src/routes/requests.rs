//! `/request/*` and `/user/*`: connection requests and connections.

use devconnect_core::{ConnectionRequest, Profile, RequestId, ReviewStatus, SendStatus, Session, UserId};
use devconnect_types::rest::{DataResponse, Done, ErrorBody, ListResponse};
use http::StatusCode;
use warp::Filter;
use warp::filters::BoxedFilter;
use warp::reply::Response;

use super::template::{at1, at2, exact};
use super::{Authed, Handled, State, authed, json_status, ok};
use crate::forms::{self, Fields, RawBody, body};
use crate::openapi::schemas;
use crate::telemetry::tag;

const SEND: &str = "/request/send/{status}/{toUserId}";
const REVIEW: &str = "/request/review/{status}/{requestId}";
const RECEIVED: &str = "/user/requests/received";
const SENT: &str = "/user/requests/sent";
const CONNECTIONS: &str = "/user/connections";
const DELETE_CONNECTION: &str = "/user/deleteconnection/{userId}";

/// The connection request routes.
pub(super) fn routes(state: &State) -> BoxedFilter<(Response,)> {
    let b = || body(state.limits);
    at2(SEND)
        .and(warp::post())
        .and(authed(state))
        .and(b())
        .then(|status, to, a: Authed, body| a.run(move |st, session| send_request(st, session, status, to, body)))
        .map(tag(SEND))
        .or(at2(REVIEW)
            .and(warp::post())
            .and(authed(state))
            .then(|status, id, a: Authed| a.run(move |st, session| review_request(st, session, status, id)))
            .map(tag(REVIEW)))
        .unify()
        .or(exact(RECEIVED)
            .and(warp::get())
            .and(authed(state))
            .then(|a: Authed| a.run(received_requests))
            .map(tag(RECEIVED)))
        .unify()
        .or(exact(SENT).and(warp::get()).and(authed(state)).then(|a: Authed| a.run(sent_requests)).map(tag(SENT)))
        .unify()
        .or(exact(CONNECTIONS)
            .and(warp::get())
            .and(authed(state))
            .then(|a: Authed| a.run(connections))
            .map(tag(CONNECTIONS)))
        .unify()
        .or(at1(DELETE_CONNECTION)
            .and(warp::delete())
            .and(authed(state))
            .then(|id, a: Authed| a.run(move |st, session| remove_connection(st, session, id)))
            .map(tag(DELETE_CONNECTION)))
        .unify()
        .boxed()
}

#[utoipa::path(post, path = SEND, tag = "connections", security(("bearer" = [])),
    params(("status" = String, Path, description = "`interested` or `ignored`"), ("toUserId" = String, Path)),
    request_body(content((schemas::NoteBody = "application/json"))),
    responses((status = 201, description = "Sent", body = DataResponse<ConnectionRequest>), (status = 400, description = "Invalid input", body = ErrorBody), (status = 401, description = "Missing, invalid, expired or revoked token", body = ErrorBody),
        (status = 403, description = "I blocked this user (unblock first)", body = ErrorBody),
        (status = 404, description = "No such user (or one who blocked me)", body = ErrorBody),
        (status = 409, description = "A request between you already exists", body = ErrorBody),
        (status = 429, description = "Too many requests (Retry-After)", body = ErrorBody)))]
pub async fn send_request(state: State, session: Session, status: String, to: String, body: RawBody) -> Handled {
    let me = session.user_id;
    let status = SendStatus::parse(&status)?;
    let to = UserId::parse("toUserId", &to)?;
    let note = forms::request_note(Fields::json(&body)?)?;
    let request = state.app.send_request(me, to, status, note.as_deref()).await?;
    let message = match status {
        SendStatus::Interested => "connection request sent",
        SendStatus::Ignored => "profile ignored",
    };
    Ok(json_status(StatusCode::CREATED, &DataResponse::new(message, request)))
}

#[utoipa::path(post, path = REVIEW, tag = "connections", security(("bearer" = [])),
    params(("status" = String, Path, description = "`accepted` or `rejected`"), ("requestId" = String, Path)),
    responses((status = 200, description = "Reviewed", body = DataResponse<ConnectionRequest>), (status = 400, description = "Invalid input", body = ErrorBody), (status = 401, description = "Missing, invalid, expired or revoked token", body = ErrorBody),
        (status = 403, description = "Only the receiver may review", body = ErrorBody),
        (status = 404, description = "No such request", body = ErrorBody),
        (status = 409, description = "Already reviewed", body = ErrorBody)))]
pub async fn review_request(state: State, session: Session, status: String, id: String) -> Handled {
    let me = session.user_id;
    let status = ReviewStatus::parse(&status)?;
    let id = RequestId::parse("requestId", &id)?;
    let request = state.app.review_request(me, id, status).await?;
    ok(&DataResponse::new(format!("request {status}"), request))
}

#[utoipa::path(get, path = RECEIVED, tag = "connections", security(("bearer" = [])),
    responses((status = 200, description = "Pending requests to me", body = ListResponse<ConnectionRequest<Profile, UserId>>), (status = 401, description = "Missing, invalid, expired or revoked token", body = ErrorBody)))]
pub async fn received_requests(state: State, session: Session) -> Handled {
    let me = session.user_id;
    let requests = state.app.received_requests(me).await?;
    ok(&ListResponse::new("received requests", requests))
}

#[utoipa::path(get, path = SENT, tag = "connections", security(("bearer" = [])),
    responses((status = 200, description = "My requests", body = ListResponse<ConnectionRequest<UserId, Profile>>), (status = 401, description = "Missing, invalid, expired or revoked token", body = ErrorBody)))]
pub async fn sent_requests(state: State, session: Session) -> Handled {
    let me = session.user_id;
    let requests = state.app.sent_requests(me).await?;
    ok(&ListResponse::new("sent requests", requests))
}

#[utoipa::path(get, path = CONNECTIONS, tag = "connections", security(("bearer" = [])),
    responses((status = 200, description = "My connections", body = ListResponse<Profile>), (status = 401, description = "Missing, invalid, expired or revoked token", body = ErrorBody)))]
pub async fn connections(state: State, session: Session) -> Handled {
    let me = session.user_id;
    let connections = state.app.connections(me).await?;
    ok(&ListResponse::new("connections", connections))
}

#[utoipa::path(delete, path = DELETE_CONNECTION, tag = "connections", security(("bearer" = [])),
    params(("userId" = String, Path)),
    responses((status = 200, description = "Removed", body = Done), (status = 400, description = "Invalid input", body = ErrorBody), (status = 401, description = "Missing, invalid, expired or revoked token", body = ErrorBody),
        (status = 404, description = "Not connected", body = ErrorBody)))]
pub async fn remove_connection(state: State, session: Session, other: String) -> Handled {
    let me = session.user_id;
    let other = UserId::parse("userId", &other)?;
    state.app.remove_connection(me, other).await?;
    ok(&Done::new("connection removed"))
}
