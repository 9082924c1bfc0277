//! `/healthz`, `/livez`, `/openapi.json`, `/media/:name`: operations and media.

use devconnect_types::rest::{ErrorBody, HealthResponse};
use http::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderValue};
use warp::Filter;
use warp::filters::BoxedFilter;
use warp::reply::Response;

use super::template::{at1, exact};
use super::{Handled, Query, State, ok, query, respond, with_state};
use crate::error::{ApiError, invalid};
use crate::telemetry::tag;

const HEALTH: &str = "/healthz";
const LIVE: &str = "/livez";
const OPENAPI: &str = "/openapi.json";
const MEDIA: &str = "/media/{name}";

/// The operational routes and media.
pub(super) fn routes(state: &State) -> BoxedFilter<(Response,)> {
    let s = || with_state(state.clone());
    exact(HEALTH)
        .and(warp::get())
        .and(s())
        .and(query())
        .then(|st, q| respond(health(st, q)))
        .map(tag(HEALTH))
        .or(exact(LIVE).and(warp::get()).then(|| respond(live())).map(tag(LIVE)))
        .unify()
        .or(exact(OPENAPI).and(warp::get()).and(s()).then(|st| respond(openapi(st))).map(tag(OPENAPI)))
        .unify()
        .or(at1(MEDIA)
            .and(warp::get().or(warp::head()).unify())
            .and(s())
            .then(|name, st| respond(media(st, name)))
            .map(tag(MEDIA)))
        .unify()
        .boxed()
}

#[utoipa::path(get, path = HEALTH, tag = "operations", description = "Up and store reachable (`?store=false` skips the store). `status` is `degraded` while the event bus between instances (`bus`) is unavailable: this instance still serves its own clients.",
    params(("store" = Option<bool>, Query)),
    responses((status = 200, body = HealthResponse), (status = 400, description = "`store` is not true or false", body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn health(state: State, query: String) -> Handled {
    let check_store = match Query::parse(&query)?.get("store") {
        None | Some("true") => true,
        Some("false") => false,
        Some(_) => return Err(invalid("store", "must be true or false")),
    };
    if check_store && state.app.health().await.is_err() {
        return Err(ApiError::Unavailable);
    }
    let bus = state.app.bus_health();
    let status = if bus.is_degraded() { "degraded" } else { "ok" };
    ok(&HealthResponse::new(status, Some(bus.code().to_owned())))
}

#[utoipa::path(get, path = LIVE, tag = "operations", responses((status = 200, body = HealthResponse)))]
pub async fn live() -> Handled {
    ok(&HealthResponse::new("ok", None))
}

#[utoipa::path(get, path = OPENAPI, tag = "operations", responses((status = 200, description = "This document")))]
pub async fn openapi(state: State) -> Handled {
    let mut response = Response::new(state.openapi.as_str().to_owned().into());
    response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    Ok(response)
}

/// A stored image by name, as the media store serves it (only names it could have made:
/// no listing, no path traversal).
#[utoipa::path(method(get, head), path = MEDIA, tag = "operations", description = "An uploaded image (HEAD: its headers only).",
    params(("name" = String, Path)),
    responses((status = 200, description = "The image (image/jpeg, image/png or image/webp)"), (status = 404, body = ErrorBody)))]
pub async fn media(state: State, name: String) -> Handled {
    let image = state.app.media(&name).await?;
    let mime = image.kind.mime();
    let bytes = image.bytes;
    let mut response = Response::new(bytes.into());
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(mime));
    // Names are random and never reused: the content at a URL never changes.
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable"));
    headers.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    Ok(response)
}
