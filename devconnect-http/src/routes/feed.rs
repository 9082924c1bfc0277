//! `/users/feed` (alias `/feed`): the discovery feed.

use devconnect_core::{FeedQuery, Session};
use devconnect_types::rest::{ErrorBody, FeedResponse};
use warp::Filter;
use warp::filters::BoxedFilter;
use warp::reply::Response;

use super::template::exact;
use super::{Authed, Handled, Query, State, authed, ok, query};
use crate::telemetry::tag;

const FEED: &str = "/users/feed";
const FEED_ALIAS: &str = "/feed";

/// The feed route.
pub(super) fn routes(state: &State) -> BoxedFilter<(Response,)> {
    exact(FEED)
        .or(exact(FEED_ALIAS))
        .unify()
        .and(warp::get())
        .and(authed(state))
        .and(query())
        .then(|a: Authed, q| a.run(move |st, session| feed(st, session, q)))
        .map(tag(FEED))
        .boxed()
}

#[utoipa::path(get, path = FEED, tag = "feed", description = "Developers I have no request or connection with (alias /feed).", security(("bearer" = [])),
    params(
        ("page" = Option<u32>, Query, description = "1-based, default 1"),
        ("limit" = Option<u32>, Query, description = "default 10, at most 50"),
        ("skills" = Option<String>, Query, description = "comma-separated filter, e.g. rust,go"),
    ),
    responses((status = 200, description = "A page", body = FeedResponse), (status = 400, description = "Invalid input", body = ErrorBody), (status = 401, description = "Missing, invalid, expired or revoked token", body = ErrorBody)))]
pub async fn feed(state: State, session: Session, query: String) -> Handled {
    let me = session.user_id;
    let q = Query::parse(&query)?;
    let query = FeedQuery { page: q.number("page")?, limit: q.number("limit")?, skills: q.list("skills") };
    let page = state.app.feed(me, &query).await?;
    ok(&FeedResponse::new("feed", page))
}
