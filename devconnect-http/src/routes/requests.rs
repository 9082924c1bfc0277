//! `/request/*` and `/user/*`: connection requests and connections.

use devconnect_core::{ConnectionRequest, Profile, RequestId, RequestStatus, UserId};
use devconnect_types::rest::{DataResponse, Done, ErrorBody, ListResponse};
use http::{HeaderMap, StatusCode};
use warp::Filter;
use warp::filters::BoxedFilter;
use warp::reply::Response;

use super::{Handled, State, headers, json_status, ok, respond, with_state};
use crate::forms::{self, Fields, RawBody, body};
use crate::openapi::schemas;
use crate::telemetry::tag;

/// The connection request routes.
pub(super) fn routes(state: &State) -> BoxedFilter<(Response,)> {
    use warp::path as p;
    let s = || with_state(state.clone());
    let b = || body(state.limits);
    p!("request" / "send" / String / String)
        .and(warp::post())
        .and(s())
        .and(headers())
        .and(b())
        .then(|status, to, st, h, body| respond(send_request(st, status, to, h, body)))
        .map(tag("/request/send/:status/:toUserId"))
        .or(p!("request" / "review" / String / String)
            .and(warp::post())
            .and(s())
            .and(headers())
            .then(|status, id, st, h| respond(review_request(st, status, id, h)))
            .map(tag("/request/review/:status/:requestId")))
        .unify()
        .or(p!("user" / "requests" / "received")
            .and(warp::get())
            .and(s())
            .and(headers())
            .then(|st, h| respond(received_requests(st, h)))
            .map(tag("/user/requests/received")))
        .unify()
        .or(p!("user" / "requests" / "sent")
            .and(warp::get())
            .and(s())
            .and(headers())
            .then(|st, h| respond(sent_requests(st, h)))
            .map(tag("/user/requests/sent")))
        .unify()
        .or(p!("user" / "connections")
            .and(warp::get())
            .and(s())
            .and(headers())
            .then(|st, h| respond(connections(st, h)))
            .map(tag("/user/connections")))
        .unify()
        .or(p!("user" / "deleteconnection" / String)
            .and(warp::delete())
            .and(s())
            .and(headers())
            .then(|id, st, h| respond(remove_connection(st, id, h)))
            .map(tag("/user/deleteconnection/:userId")))
        .unify()
        .boxed()
}

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
