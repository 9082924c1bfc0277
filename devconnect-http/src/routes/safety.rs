//! `/user/block*` and `/reports*`: blocking people and reporting users, messages and
//! groups.

use devconnect_core::{BlockedUser, Report, Session, UserId};
use devconnect_types::rest::{DataResponse, Done, ErrorBody};
use http::StatusCode;
use warp::Filter;
use warp::filters::BoxedFilter;
use warp::reply::Response;

use super::template::{at1, exact};
use super::{Authed, Handled, State, authed, json_status, ok};
use crate::forms::{self, Fields, RawBody, body};
use crate::openapi::schemas;
use crate::telemetry::tag;

const BLOCK: &str = "/user/block/{userId}";
const BLOCKED: &str = "/user/blocked";
const REPORTS: &str = "/reports";
const MY_REPORTS: &str = "/reports/mine";

/// The block and report routes.
pub(super) fn routes(state: &State) -> BoxedFilter<(Response,)> {
    at1(BLOCK)
        .and(warp::post())
        .and(authed(state))
        .then(|id, a: Authed| a.run(move |st, session| block(st, session, id)))
        .map(tag(BLOCK))
        .or(at1(BLOCK)
            .and(warp::delete())
            .and(authed(state))
            .then(|id, a: Authed| a.run(move |st, session| unblock(st, session, id)))
            .map(tag(BLOCK)))
        .unify()
        .or(exact(BLOCKED).and(warp::get()).and(authed(state)).then(|a: Authed| a.run(blocked)).map(tag(BLOCKED)))
        .unify()
        .or(exact(REPORTS)
            .and(warp::post())
            .and(authed(state))
            .and(body(state.limits))
            .then(|a: Authed, body| a.run(move |st, session| file_report(st, session, body)))
            .map(tag(REPORTS)))
        .unify()
        .or(exact(MY_REPORTS)
            .and(warp::get())
            .and(authed(state))
            .then(|a: Authed| a.run(my_reports))
            .map(tag(MY_REPORTS)))
        .unify()
        .boxed()
}

#[utoipa::path(post, path = BLOCK, tag = "safety", description = "Block a user: from now on, both ways, neither sees the other in the feed or profiles, no requests or 1:1 messages pass, presence and typing stop, and any connection or pending request between us is removed. In groups I no longer get their messages. Blocking someone already blocked changes nothing.", security(("bearer" = [])),
    params(("userId" = String, Path, description = "24-hex user id")),
    responses((status = 200, description = "Blocked", body = Done), (status = 400, description = "Invalid input (e.g. myself)", body = ErrorBody), (status = 401, description = "Missing, invalid, expired or revoked token", body = ErrorBody),
        (status = 404, description = "No such user", body = ErrorBody),
        (status = 409, description = "Blocked as many people as one can (limit_exceeded)", body = ErrorBody)))]
pub async fn block(state: State, session: Session, id: String) -> Handled {
    let other = UserId::parse("userId", &id)?;
    let created = state.app.block(session.user_id, other).await?;
    ok(&Done::new(if created { "user blocked" } else { "user was already blocked" }))
}

#[utoipa::path(delete, path = BLOCK, tag = "safety", description = "Lift a block. Nothing comes back by itself: either may send a new request.", security(("bearer" = [])),
    params(("userId" = String, Path, description = "24-hex user id")),
    responses((status = 200, description = "Unblocked", body = Done), (status = 400, description = "Invalid input", body = ErrorBody), (status = 401, description = "Missing, invalid, expired or revoked token", body = ErrorBody),
        (status = 404, description = "I have not blocked this user", body = ErrorBody)))]
pub async fn unblock(state: State, session: Session, id: String) -> Handled {
    let other = UserId::parse("userId", &id)?;
    state.app.unblock(session.user_id, other).await?;
    ok(&Done::new("user unblocked"))
}

#[utoipa::path(get, path = BLOCKED, tag = "safety", description = "Everyone I blocked, most recently blocked first.", security(("bearer" = [])),
    responses((status = 200, description = "The people I blocked", body = DataResponse<Vec<BlockedUser>>), (status = 401, description = "Missing, invalid, expired or revoked token", body = ErrorBody)))]
pub async fn blocked(state: State, session: Session) -> Handled {
    ok(&DataResponse::new("blocked users", state.app.blocked_users(session.user_id).await?))
}

#[utoipa::path(post, path = REPORTS, tag = "safety", description = "Report a user, a message or a group to the operators. The report keeps the content as it is now, so deleting it later does not destroy the evidence. One open report per target; limited per minute.", security(("bearer" = [])),
    request_body(content((schemas::ReportBody = "application/json"))),
    responses((status = 201, description = "Filed", body = DataResponse<Report>), (status = 400, description = "Invalid input", body = ErrorBody), (status = 401, description = "Missing, invalid, expired or revoked token", body = ErrorBody),
        (status = 404, description = "No such user, message or group (that I can see)", body = ErrorBody),
        (status = 409, description = "I have an open report on this already", body = ErrorBody),
        (status = 429, description = "Too many reports (Retry-After)", body = ErrorBody)))]
pub async fn file_report(state: State, session: Session, body: RawBody) -> Handled {
    let new = forms::new_report(Fields::json(&body)?)?;
    let report = state.app.report(session.user_id, new).await?;
    Ok(json_status(StatusCode::CREATED, &DataResponse::new("report filed", report)))
}

#[utoipa::path(get, path = MY_REPORTS, tag = "safety", description = "The reports I filed, newest first, with where each stands.", security(("bearer" = [])),
    responses((status = 200, description = "My reports", body = DataResponse<Vec<Report>>), (status = 401, description = "Missing, invalid, expired or revoked token", body = ErrorBody)))]
pub async fn my_reports(state: State, session: Session) -> Handled {
    ok(&DataResponse::new("my reports", state.app.my_reports(session.user_id).await?))
}
