//! The REST routes of API.md, a file per resource: each holds its routes and the
//! handlers behind them. A route matches its path first, then its method (so an unknown
//! path is 404 and a known path with another method is 405), then extracts headers,
//! query and body, and hands everything to one handler: decode, call one `DevConnect`
//! method, encode. A handler returns `Result<Response, ApiError>`; [`respond`] turns
//! the error into the envelope, so a handler's failure never falls through to another
//! route; only extraction failures (body too large) reach [`recover`]. Each route tags
//! its responses with its template for the metrics; each path is written once
//! ([`template`]).

pub(crate) mod auth;
pub(crate) mod feed;
pub(crate) mod groups;
pub(crate) mod messages;
pub(crate) mod ops;
pub(crate) mod profile;
pub(crate) mod push;
pub(crate) mod requests;
pub(crate) mod safety;
pub(crate) mod search;
pub(crate) mod template;

use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use devconnect_core::{DevConnect, MessageId, Peer, Session, bearer_token};
use http::header::{AUTHORIZATION, HeaderValue};
use http::{HeaderMap, StatusCode};
use serde::Serialize;
use warp::Filter;
use warp::Reply as _;
use warp::filters::BoxedFilter;
use warp::reply::Response;

use crate::error::{ApiError, invalid, recover};
use crate::forms::BodyLimits;

/// What every handler can reach. Cheap to clone.
#[derive(Clone)]
pub struct State {
    /// The service.
    pub app: DevConnect,
    /// Body limits.
    pub limits: BodyLimits,
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

/// What an authenticated route hands its handler: the state and the request's
/// credentials. [`Authed::run`] authenticates once, before the handler, and gives it
/// the caller's [`Session`]; a missing, malformed, expired or revoked token is answered
/// with 401 by the route that matched, without calling the handler.
struct Authed {
    state: State,
    headers: HeaderMap,
}

impl Authed {
    async fn run<F, Fut>(self, handler: F) -> Response
    where
        F: FnOnce(State, Session) -> Fut,
        Fut: std::future::Future<Output = Handled>,
    {
        respond(async move {
            let token = bearer_token(self.headers.get(AUTHORIZATION).map(HeaderValue::as_bytes))?;
            let session = self.state.app.authenticate(token).await?;
            handler(self.state, session).await
        })
        .await
    }
}

/// The credentials of a route that needs a caller (see [`Authed`]).
fn authed(state: &State) -> impl Filter<Extract = (Authed,), Error = Infallible> + Clone + use<> {
    with_state(state.clone()).and(headers()).map(|state, headers| Authed { state, headers })
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

    /// A whole number that may be negative (so that a negative one reaches the core's
    /// range check and its message, rather than a parse error).
    fn integer(&self, name: &'static str) -> Result<Option<i64>, ApiError> {
        self.get(name).map(|v| v.parse().map_err(|_| invalid(name, "must be a whole number"))).transpose()
    }

    fn text(&self, name: &str) -> Option<String> {
        self.get(name).map(str::to_owned)
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

fn with_state(state: State) -> impl Filter<Extract = (State,), Error = Infallible> + Clone {
    warp::any().map(move || state.clone())
}

fn headers() -> impl Filter<Extract = (HeaderMap,), Error = Infallible> + Clone {
    warp::header::headers_cloned()
}

/// The raw query string, empty when there is none.
fn query() -> impl Filter<Extract = (String,), Error = Infallible> + Clone {
    warp::query::raw().or(warp::any().map(String::new)).unify()
}

fn client_addr() -> impl Filter<Extract = (Option<ClientAddr>,), Error = Infallible> + Clone {
    warp::ext::optional::<ClientAddr>()
}

/// Every REST route, with CORS for `origins` and errors rendered as the envelope.
pub fn routes(
    state: &State,
    origins: &[String],
    metrics: Option<BoxedFilter<(Response,)>>,
) -> BoxedFilter<(Response,)> {
    let api = auth::routes(state)
        .or(profile::routes(state))
        .unify()
        .or(requests::routes(state))
        .unify()
        .or(feed::routes(state))
        .unify()
        .or(search::routes(state))
        .unify()
        .or(messages::routes(state))
        .unify()
        .or(groups::routes(state))
        .unify()
        .or(safety::routes(state))
        .unify()
        .or(push::routes(state))
        .unify()
        .or(ops::routes(state))
        .unify();
    // `/metrics` here only when a metrics token is configured.
    let api = match metrics {
        Some(metrics) => api.or(metrics).unify().boxed(),
        None => api.boxed(),
    };
    let api = api.recover(recover).unify();
    api.with(cors(origins)).map(warp::Reply::into_response).recover(recover).unify().boxed()
}

fn cors(origins: &[String]) -> warp::cors::Builder {
    let builder = warp::cors()
        .allow_methods(["GET", "POST", "PATCH", "PUT", "DELETE", "OPTIONS"])
        .allow_headers(["authorization", "content-type", "accept", "x-requested-with"])
        .expose_headers(["retry-after"])
        .allow_credentials(true)
        .max_age(600);
    if origins.iter().any(|o| o == "*") {
        builder.allow_any_origin()
    } else {
        builder.allow_origins(origins.iter().map(String::as_str).filter(|o| valid_origin(o)))
    }
}

/// Whether `origin` is `scheme://host[:port]` (warp panics on anything else).
pub fn valid_origin(origin: &str) -> bool {
    let Ok(uri) = origin.parse::<http::Uri>() else { return false };
    matches!(uri.scheme_str(), Some("http" | "https"))
        && uri.authority().is_some()
        && uri.path_and_query().is_none_or(|p| p.as_str().is_empty() || p.as_str() == "/")
        && !origin.ends_with('/')
}

#[cfg(test)]
mod tests {
    use super::*;

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
