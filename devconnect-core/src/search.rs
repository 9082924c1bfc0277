//! Developer search: by words of names, skills and about text, by skills, location and
//! experience, ranked, each result saying how it relates to the searcher.
//!
//! The rules of matching and ranking are [`SearchFilter`]'s and [`rank`](crate::model::rank)'s;
//! each store implements them with its own index (SQLite: FTS5; MongoDB: a keyword
//! array), and the conformance suite holds both to the same results.

use serde::Deserialize;

pub use devconnect_types::search::{Relation, SearchPage, SearchResult};

use crate::feed::{MAX_FEED_PAGE, skill_filter};
use crate::model::{SearchFilter, SearchHit, search_words};
use crate::profile::{MAX_LOCATION_CHARS, parse_experience_years};
use crate::{DevConnect, Error, RequestStatus, Result, UserId};

/// Page size when none is asked for.
pub const DEFAULT_SEARCH_LIMIT: u32 = 20;
/// Largest page size.
pub const MAX_SEARCH_LIMIT: u32 = 50;
/// `q` may be at most this many characters.
pub const MAX_SEARCH_CHARS: usize = 200;
/// `q` and `location` may have at most this many words each: each word costs an index
/// lookup per field.
pub const MAX_SEARCH_WORDS: usize = 10;

/// A search as asked: every part optional. With no `q` and no filter it lists everyone
/// visible, newest account first (the feed's order).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchQuery {
    /// Words of first or last name, about text or skills; the last word may be the
    /// start of one. Case- and accent-insensitive; at most 200 characters.
    pub q: Option<String>,
    /// Skills a developer must all have (case-insensitive).
    #[serde(default)]
    pub skills: Vec<String>,
    /// Words the location must all have.
    pub location: Option<String>,
    /// Least years of experience (0–60).
    pub min_experience: Option<i64>,
    /// Most years of experience (0–60, at least `minExperience`).
    pub max_experience: Option<i64>,
    /// 1-based page number; default 1.
    pub page: Option<u32>,
    /// Page size; default 20, at most 50.
    pub limit: Option<u32>,
    /// The `asOf` of the first page's answer, to page on without shifts; default: now.
    pub as_of: Option<UserId>,
}

/// The words of `text` for field `field`: at most `max_chars` characters (checked
/// before any other work) and [`MAX_SEARCH_WORDS`] words.
fn words(field: &'static str, text: Option<&str>, max_chars: usize) -> Result<Vec<String>> {
    let text = text.unwrap_or_default();
    if text.chars().count() > max_chars {
        return Err(Error::validation(field, format!("must be at most {max_chars} characters")));
    }
    let words: Vec<String> = search_words(text).take(MAX_SEARCH_WORDS + 1).collect();
    if words.len() > MAX_SEARCH_WORDS {
        return Err(Error::validation(field, format!("must have at most {MAX_SEARCH_WORDS} words")));
    }
    Ok(words)
}

impl SearchQuery {
    /// The store's filter, with the page and size asked for.
    fn filter(&self) -> Result<(u32, u32, SearchFilter)> {
        let page = self.page.unwrap_or(1);
        if !(1..=MAX_FEED_PAGE).contains(&page) {
            return Err(Error::validation("page", format!("must be between 1 and {MAX_FEED_PAGE}")));
        }
        let limit = match self.limit.unwrap_or(DEFAULT_SEARCH_LIMIT) {
            0 => return Err(Error::validation("limit", "must be at least 1")),
            limit => limit.min(MAX_SEARCH_LIMIT),
        };
        let min_experience = self.min_experience.map(|y| parse_experience_years("minExperience", y)).transpose()?;
        let max_experience = self.max_experience.map(|y| parse_experience_years("maxExperience", y)).transpose()?;
        if min_experience.zip(max_experience).is_some_and(|(min, max)| min > max) {
            return Err(Error::validation("minExperience", "must not be more than maxExperience"));
        }
        let filter = SearchFilter {
            terms: words("q", self.q.as_deref(), MAX_SEARCH_CHARS)?,
            location: words("location", self.location.as_deref(), MAX_LOCATION_CHARS)?,
            skills: skill_filter("skills", &self.skills)?,
            min_experience,
            max_experience,
            // The default is a fresh id (`UserId::new`), above every id issued so far:
            // ObjectIds grow with time.
            as_of: self.as_of.unwrap_or_default(),
            offset: u64::from(page - 1) * u64::from(limit),
            limit: limit + 1,
        };
        Ok((page, limit, filter))
    }
}

/// The relation a request between the two (either way, by its status) makes.
#[must_use]
pub fn relation(request: Option<RequestStatus>) -> Relation {
    match request {
        Some(RequestStatus::Accepted) => Relation::Connected,
        Some(RequestStatus::Interested) => Relation::Pending,
        Some(RequestStatus::Ignored | RequestStatus::Rejected) | None => Relation::None,
    }
}

impl DevConnect {
    /// Finds developers for `me` by `query`, best match first, then newest account. Never
    /// lists `me`, suspended users, or anyone `me` blocked or who blocked `me`. Pages are
    /// offsets into one order; passing back the first page's `asOf` keeps signups made
    /// meanwhile out, so pages neither overlap nor skip.
    ///
    /// Limited per user ([`Settings::search_rate`](crate::Settings)), once the query is
    /// known to be valid.
    pub async fn search_users(&self, me: UserId, query: &SearchQuery) -> Result<SearchPage> {
        let (page, limit, filter) = query.filter()?;
        self.inner.limits.check_search(me)?;
        let mut hits = self.inner.store.search_users(me, &filter).await?;
        let has_more = hits.len() > limit as usize;
        hits.truncate(limit as usize);
        let results = hits
            .into_iter()
            .map(|SearchHit { profile, request }| SearchResult { profile, relation: relation(request) })
            .collect();
        Ok(self.publish(SearchPage { results, page, limit, has_more, as_of: filter.as_of }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(q: &SearchQuery) -> &'static str {
        q.filter().err().map_or("ok", |e| e.code())
    }

    #[test]
    fn search_query_defaults_caps_and_validation() {
        let Ok((page, limit, f)) = SearchQuery::default().filter() else { panic!("default query is valid") };
        assert_eq!((page, limit, f.limit, f.offset), (1, DEFAULT_SEARCH_LIMIT, DEFAULT_SEARCH_LIMIT + 1, 0));
        assert!(f.terms.is_empty() && f.skills.is_empty() && f.location.is_empty());
        let capped = SearchQuery { limit: Some(500), page: Some(3), ..SearchQuery::default() }.filter();
        assert_eq!(capped.ok().map(|(p, l, f)| (p, l, f.offset)), Some((3, MAX_SEARCH_LIMIT, 100)));
        let q = SearchQuery { q: Some(" Jos\u{e9}  M\u{fc}ller ".into()), ..SearchQuery::default() };
        assert_eq!(q.filter().ok().map(|(_, _, f)| f.terms), Some(vec!["jose".to_owned(), "muller".to_owned()]));
        assert_eq!(code(&SearchQuery { q: Some("x".repeat(MAX_SEARCH_CHARS)), ..SearchQuery::default() }), "ok");
        for bad in [
            SearchQuery { q: Some("x".repeat(MAX_SEARCH_CHARS + 1)), ..SearchQuery::default() },
            SearchQuery { q: Some("a ".repeat(MAX_SEARCH_WORDS + 1)), ..SearchQuery::default() },
            SearchQuery { min_experience: Some(-1), ..SearchQuery::default() },
            SearchQuery { max_experience: Some(61), ..SearchQuery::default() },
            SearchQuery { min_experience: Some(5), max_experience: Some(4), ..SearchQuery::default() },
            SearchQuery { location: Some("x".repeat(MAX_LOCATION_CHARS + 1)), ..SearchQuery::default() },
            SearchQuery { skills: vec!["s".into(); 21], ..SearchQuery::default() },
            SearchQuery { page: Some(0), ..SearchQuery::default() },
            SearchQuery { limit: Some(0), ..SearchQuery::default() },
        ] {
            assert_eq!(code(&bad), "validation", "{bad:?}");
        }
    }

    #[test]
    fn relation_follows_the_request_status() {
        assert_eq!(relation(None), Relation::None);
        assert_eq!(relation(Some(RequestStatus::Accepted)), Relation::Connected);
        assert_eq!(relation(Some(RequestStatus::Interested)), Relation::Pending);
        assert_eq!(relation(Some(RequestStatus::Ignored)), Relation::None);
        assert_eq!(relation(Some(RequestStatus::Rejected)), Relation::None);
    }
}
