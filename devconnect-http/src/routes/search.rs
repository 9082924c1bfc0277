//! `/users/search`: developer search.

use devconnect_core::{SearchQuery, Session, UserId};
use devconnect_types::rest::{ErrorBody, SearchResponse};
use warp::Filter;
use warp::filters::BoxedFilter;
use warp::reply::Response;

use super::template::exact;
use super::{Authed, Handled, Query, State, authed, ok, query};
use crate::telemetry::tag;

const SEARCH: &str = "/users/search";

/// The search route.
pub(super) fn routes(state: &State) -> BoxedFilter<(Response,)> {
    exact(SEARCH)
        .and(warp::get())
        .and(authed(state))
        .and(query())
        .then(|a: Authed, q| a.run(move |st, session| search(st, session, q)))
        .map(tag(SEARCH))
        .boxed()
}

#[utoipa::path(get, path = SEARCH, tag = "search", description = "Find developers: `q` matches words of first and last name, about and skills (case- and accent-insensitive; the last word may be the start of one, for search as you type); the filters narrow. Best match first (name above skills above about), then newest account. Leaves out me, suspended accounts and anyone in a block with me. With no q and no filter: everyone, newest first. Each result says whether we are connected, a request is pending, or neither.", security(("bearer" = [])),
    params(
        ("q" = Option<String>, Query, description = "words, at most 200 characters and 10 words"),
        ("skills" = Option<String>, Query, description = "comma-separated; a developer must have all, e.g. rust,go"),
        ("location" = Option<String>, Query, description = "words the location must all have"),
        ("minExperience" = Option<i64>, Query, description = "0–60 years", minimum = 0, maximum = 60),
        ("maxExperience" = Option<i64>, Query, description = "0–60 years, at least minExperience", minimum = 0, maximum = 60),
        ("page" = Option<u32>, Query, description = "1-based, default 1"),
        ("limit" = Option<u32>, Query, description = "default 20, at most 50"),
        ("asOf" = Option<String>, Query, description = "the asOf of the first page, so later pages do not shift with new signups"),
    ),
    responses((status = 200, description = "A page", body = SearchResponse), (status = 400, description = "Invalid input", body = ErrorBody), (status = 401, description = "Missing, invalid, expired or revoked token", body = ErrorBody),
        (status = 429, description = "Too many searches (Retry-After)", body = ErrorBody)))]
pub async fn search(state: State, session: Session, query: String) -> Handled {
    let q = Query::parse(&query)?;
    let query = SearchQuery {
        q: q.text("q"),
        skills: q.list("skills"),
        location: q.text("location"),
        min_experience: q.integer("minExperience")?,
        max_experience: q.integer("maxExperience")?,
        page: q.number("page")?,
        limit: q.number("limit")?,
        as_of: q.get("asOf").map(|v| UserId::parse("asOf", v)).transpose()?,
    };
    let page = state.app.search_users(session.user_id, &query).await?;
    ok(&SearchResponse::new("search", page))
}
