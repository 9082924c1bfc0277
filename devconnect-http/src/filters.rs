//! The routes of API.md. Each route matches its path first, then its method (so an
//! unknown path is 404 and a known path with another method is 405), then extracts
//! headers, query and body, and hands everything to one handler whose errors are
//! rendered there; only extraction failures (body too large) reach [`recover`].
//! Each route tags its responses with its template (`/message/:userId`) for the metrics.

use std::convert::Infallible;

use http::HeaderMap;
use warp::Filter;
use warp::filters::BoxedFilter;
use warp::reply::Response;

use crate::error::recover;
use crate::forms::body;
use crate::handlers::{self, ClientAddr, State, respond};
use crate::telemetry::tag;

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
    use warp::path as p;
    let s = || with_state(state.clone());
    let b = || body(state.limits);
    let (get, post, patch, delete) = (warp::get, warp::post, warp::patch, warp::delete);

    let auth = p!("auth" / "signup")
        .or(p!("signup"))
        .unify()
        .and(post())
        .and(s())
        .and(client_addr())
        .and(b())
        .then(|st, addr, body| respond(handlers::signup(st, addr, body)))
        .map(tag("/auth/signup"))
        .or(p!("auth" / "login")
            .or(p!("login"))
            .unify()
            .and(post())
            .and(s())
            .and(client_addr())
            .and(b())
            .then(|st, addr, body| respond(handlers::login(st, addr, body)))
            .map(tag("/auth/login")))
        .unify()
        .or(p!("auth" / "logout")
            .or(p!("logout"))
            .unify()
            .and(post())
            .and(s())
            .and(headers())
            .then(|st, h| respond(handlers::logout(st, h)))
            .map(tag("/auth/logout")))
        .unify()
        .boxed();

    let profile = p!("profile" / "view")
        .or(p!("profile" / "veiw"))
        .unify()
        .and(get())
        .and(s())
        .and(headers())
        .then(|st, h| respond(handlers::view_profile(st, h)))
        .map(tag("/profile/view"))
        .or(p!("profile" / "edit")
            .and(patch())
            .and(s())
            .and(headers())
            .and(b())
            .then(|st, h, body| respond(handlers::edit_profile(st, h, body)))
            .map(tag("/profile/edit")))
        .unify()
        .or(p!("profile" / "password")
            .and(patch())
            .and(s())
            .and(headers())
            .and(b())
            .then(|st, h, body| respond(handlers::change_password(st, h, body)))
            .map(tag("/profile/password")))
        .unify()
        .or(p!("profile" / String)
            .and(get())
            .and(s())
            .and(headers())
            .then(|id, st, h| respond(handlers::public_profile(st, id, h)))
            .map(tag("/profile/:userId")))
        .unify()
        .boxed();

    let requests = p!("request" / "send" / String / String)
        .and(post())
        .and(s())
        .and(headers())
        .and(b())
        .then(|status, to, st, h, body| respond(handlers::send_request(st, status, to, h, body)))
        .map(tag("/request/send/:status/:toUserId"))
        .or(p!("request" / "review" / String / String)
            .and(post())
            .and(s())
            .and(headers())
            .then(|status, id, st, h| respond(handlers::review_request(st, status, id, h)))
            .map(tag("/request/review/:status/:requestId")))
        .unify()
        .or(p!("user" / "requests" / "received")
            .and(get())
            .and(s())
            .and(headers())
            .then(|st, h| respond(handlers::received_requests(st, h)))
            .map(tag("/user/requests/received")))
        .unify()
        .or(p!("user" / "requests" / "sent")
            .and(get())
            .and(s())
            .and(headers())
            .then(|st, h| respond(handlers::sent_requests(st, h)))
            .map(tag("/user/requests/sent")))
        .unify()
        .or(p!("user" / "connections")
            .and(get())
            .and(s())
            .and(headers())
            .then(|st, h| respond(handlers::connections(st, h)))
            .map(tag("/user/connections")))
        .unify()
        .or(p!("user" / "deleteconnection" / String)
            .and(delete())
            .and(s())
            .and(headers())
            .then(|id, st, h| respond(handlers::remove_connection(st, id, h)))
            .map(tag("/user/deleteconnection/:userId")))
        .unify()
        .boxed();

    let feed = p!("users" / "feed")
        .or(p!("feed"))
        .unify()
        .and(get())
        .and(s())
        .and(headers())
        .and(query())
        .then(|st, h, q| respond(handlers::feed(st, h, q)))
        .map(tag("/users/feed"))
        .boxed();

    // `/message/connections` and `/message/sync` come before `/message/:userId`.
    let messages = p!("message" / "connections")
        .and(get())
        .and(s())
        .and(headers())
        .then(|st, h| respond(handlers::chat_partners(st, h)))
        .map(tag("/message/connections"))
        .or(p!("message" / "sync")
            .and(get())
            .and(s())
            .and(headers())
            .and(query())
            .then(|st, h, q| respond(handlers::sync(st, h, q)))
            .map(tag("/message/sync")))
        .unify()
        .or(p!("message" / String / "read")
            .and(post())
            .and(s())
            .and(headers())
            .then(|id, st, h| respond(handlers::mark_read(st, id, h)))
            .map(tag("/message/:userId/read")))
        .unify()
        .or(p!("message" / String)
            .and(get())
            .and(s())
            .and(headers())
            .and(query())
            .then(|id, st, h, q| respond(handlers::history(st, id, h, q)))
            .map(tag("/message/:userId")))
        .unify()
        .or(p!("message" / String)
            .and(post())
            .and(s())
            .and(headers())
            .and(b())
            .then(|id, st, h, body| respond(handlers::send_message(st, id, h, body)))
            .map(tag("/message/:userId")))
        .unify()
        .boxed();

    let ops = p!("healthz")
        .and(get())
        .and(s())
        .and(query())
        .then(|st, q| respond(handlers::health(st, q)))
        .map(tag("/healthz"))
        .or(p!("livez").and(get()).then(|| respond(handlers::live())).map(tag("/livez")))
        .unify()
        .or(p!("openapi.json").and(get()).and(s()).then(|st| respond(handlers::openapi(st))).map(tag("/openapi.json")))
        .unify()
        .or(p!("media" / String)
            .and(get().or(warp::head()).unify())
            .and(s())
            .then(|name, st| respond(handlers::media(st, name)))
            .map(tag("/media/:name")))
        .unify()
        .boxed();

    let api = auth.or(profile).unify().or(requests).unify().or(feed).unify().or(messages).unify().or(ops).unify();
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
