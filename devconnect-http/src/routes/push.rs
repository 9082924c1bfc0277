//! `/push/*`: Web Push for people who are offline: the server's VAPID key, a browser's
//! subscription, and what one is notified of.

use devconnect_core::Session;
use devconnect_types::push::{PushSettings, PushSettingsPatch, PushSubscription, VapidPublicKey};
use devconnect_types::rest::{DataResponse, Done, ErrorBody};
use http::StatusCode;
use serde::Deserialize;
use utoipa::ToSchema;
use warp::Filter;
use warp::filters::BoxedFilter;
use warp::reply::Response;

use super::template::exact;
use super::{Authed, Handled, State, authed, json_status, ok, respond, with_state};
use crate::forms::{RawBody, body, typed_json};
use crate::telemetry::tag;

const VAPID_KEY: &str = "/push/vapid-public-key";
const SUBSCRIPTIONS: &str = "/push/subscriptions";
const SETTINGS: &str = "/push/settings";

/// Which subscription to remove.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Unsubscribe {
    /// The subscription's endpoint, as registered.
    pub endpoint: String,
}

/// The push routes.
pub(super) fn routes(state: &State) -> BoxedFilter<(Response,)> {
    exact(VAPID_KEY)
        .and(warp::get())
        .and(with_state(state.clone()))
        .then(|st: State| respond(vapid_public_key(st)))
        .map(tag(VAPID_KEY))
        .or(exact(SUBSCRIPTIONS)
            .and(warp::post())
            .and(authed(state))
            .and(body(state.limits))
            .then(|a: Authed, body| a.run(move |st, session| subscribe(st, session, body)))
            .map(tag(SUBSCRIPTIONS)))
        .unify()
        .or(exact(SUBSCRIPTIONS)
            .and(warp::delete())
            .and(authed(state))
            .and(body(state.limits))
            .then(|a: Authed, body| a.run(move |st, session| unsubscribe(st, session, body)))
            .map(tag(SUBSCRIPTIONS)))
        .unify()
        .or(exact(SETTINGS).and(warp::get()).and(authed(state)).then(|a: Authed| a.run(settings)).map(tag(SETTINGS)))
        .unify()
        .or(exact(SETTINGS)
            .and(warp::patch())
            .and(authed(state))
            .and(body(state.limits))
            .then(|a: Authed, body| a.run(move |st, session| change_settings(st, session, body)))
            .map(tag(SETTINGS)))
        .unify()
        .boxed()
}

#[utoipa::path(get, path = VAPID_KEY, tag = "push", description = "The server's VAPID public key, for `pushManager.subscribe({userVisibleOnly: true, applicationServerKey})`. Every instance of a deployment has the same one.",
    responses((status = 200, description = "The key", body = DataResponse<VapidPublicKey>), (status = 503, description = "Push notifications are not enabled on this server", body = ErrorBody)))]
pub async fn vapid_public_key(state: State) -> Handled {
    let key = VapidPublicKey { public_key: state.app.vapid_public_key()? };
    ok(&DataResponse::new("VAPID public key", key))
}

#[utoipa::path(post, path = SUBSCRIPTIONS, tag = "push", description = "Register this browser's push subscription (`subscription.toJSON()`) for me: while I have no live socket or stream, new messages, group messages, connection requests and accepted requests are pushed to it, encrypted (RFC 8291). The endpoint must be https. At most 10 per user: registering an 11th drops the oldest. An endpoint registered before (by anyone) is replaced. Logging out the token used here removes it; a password change removes all.", security(("bearer" = [])),
    request_body(content((PushSubscription = "application/json"))),
    responses((status = 201, description = "Registered", body = Done), (status = 400, description = "Invalid subscription (endpoint, key lengths, a key off the curve)", body = ErrorBody), (status = 401, description = "Missing, invalid, expired or revoked token", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody), (status = 415, description = "Not JSON", body = ErrorBody),
        (status = 503, description = "Push notifications are not enabled on this server", body = ErrorBody),
        (status = 429, description = "Too many edits (Retry-After)", body = ErrorBody)))]
pub async fn subscribe(state: State, session: Session, body: RawBody) -> Handled {
    let subscription: PushSubscription = typed_json(&body)?;
    state.app.add_push_subscription(&session, &subscription).await?;
    Ok(json_status(StatusCode::CREATED, &Done::new("push subscription registered")))
}

#[utoipa::path(delete, path = SUBSCRIPTIONS, tag = "push", description = "Remove one of my push subscriptions (as after `subscription.unsubscribe()`).", security(("bearer" = [])),
    request_body(content((Unsubscribe = "application/json"))),
    responses((status = 200, description = "Removed", body = Done), (status = 400, description = "Invalid input", body = ErrorBody), (status = 401, description = "Missing, invalid, expired or revoked token", body = ErrorBody),
        (status = 404, description = "I have no subscription at this endpoint", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody), (status = 415, description = "Not JSON", body = ErrorBody),
        (status = 503, description = "Push notifications are not enabled on this server", body = ErrorBody),
        (status = 429, description = "Too many edits (Retry-After)", body = ErrorBody)))]
pub async fn unsubscribe(state: State, session: Session, body: RawBody) -> Handled {
    let Unsubscribe { endpoint } = typed_json(&body)?;
    state.app.remove_push_subscription(session.user_id, &endpoint).await?;
    ok(&Done::new("push subscription removed"))
}

#[utoipa::path(get, path = SETTINGS, tag = "push", description = "What I am notified of while offline: messages, requests (and their acceptance), group messages; whether notifications show a preview of the text; groups I muted.", security(("bearer" = [])),
    responses((status = 200, description = "My settings", body = DataResponse<PushSettings>), (status = 401, description = "Missing, invalid, expired or revoked token", body = ErrorBody),
        (status = 503, description = "Push notifications are not enabled on this server", body = ErrorBody)))]
pub async fn settings(state: State, session: Session) -> Handled {
    ok(&DataResponse::new("push settings", state.app.push_settings(session.user_id).await?))
}

#[utoipa::path(patch, path = SETTINGS, tag = "push", description = "Change what I am notified of: the fields given replace what was (`mutedGroups` as a whole list, at most 1,000 groups); the others stay.", security(("bearer" = [])),
    request_body(content((PushSettingsPatch = "application/json"))),
    responses((status = 200, description = "The settings now", body = DataResponse<PushSettings>), (status = 400, description = "Invalid input (an unknown field, too many muted groups)", body = ErrorBody), (status = 401, description = "Missing, invalid, expired or revoked token", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody), (status = 415, description = "Not JSON", body = ErrorBody),
        (status = 503, description = "Push notifications are not enabled on this server", body = ErrorBody)))]
pub async fn change_settings(state: State, session: Session, body: RawBody) -> Handled {
    let patch: PushSettingsPatch = typed_json(&body)?;
    ok(&DataResponse::new("push settings", state.app.update_push_settings(session.user_id, patch).await?))
}
