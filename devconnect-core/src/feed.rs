//! The discovery feed: developers the viewer has no request or connection with.

use serde::Deserialize;

pub use devconnect_types::FeedPage;

use crate::model::{FeedFilter, skill_key};
use crate::profile::MAX_SKILLS;
use crate::{DevConnect, Error, Result, UserId};

/// Page size when none is asked for.
pub const DEFAULT_FEED_LIMIT: u32 = 10;
/// Largest page size.
pub const MAX_FEED_LIMIT: u32 = 50;
/// Deepest page that can be asked for (bounds the rows a request can make a store skip).
pub const MAX_FEED_PAGE: u32 = 10_000;

/// What page of the feed to show.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct FeedQuery {
    /// 1-based page number; default 1.
    pub page: Option<u32>,
    /// Page size; default 10, at most 50.
    pub limit: Option<u32>,
    /// Only profiles having any of these skills (case-insensitive).
    #[serde(default)]
    pub skills: Vec<String>,
}

/// A page number and size as asked (defaults 1 and 10), checked: the page within 1 and
/// [`MAX_FEED_PAGE`], the size at least 1 and capped at [`MAX_FEED_LIMIT`].
pub(crate) fn page_and_limit(page: Option<u32>, limit: Option<u32>) -> Result<(u32, u32)> {
    let page = page.unwrap_or(1);
    if !(1..=MAX_FEED_PAGE).contains(&page) {
        return Err(Error::validation("page", format!("must be between 1 and {MAX_FEED_PAGE}")));
    }
    match limit.unwrap_or(DEFAULT_FEED_LIMIT) {
        0 => Err(Error::validation("limit", "must be at least 1")),
        limit => Ok((page, limit.min(MAX_FEED_LIMIT))),
    }
}

/// Skill (or tag) filters as given, lower-cased and de-duplicated; at most
/// [`MAX_SKILLS`], counted before any per-skill work.
pub(crate) fn skill_filter(field: &'static str, given: &[String]) -> Result<Vec<String>> {
    if given.len() > MAX_SKILLS {
        return Err(Error::validation(field, format!("filter by at most {MAX_SKILLS}")));
    }
    let mut keys: Vec<String> = given.iter().map(|s| skill_key(s)).filter(|s| !s.is_empty()).collect();
    keys.sort();
    keys.dedup();
    Ok(keys)
}

impl FeedQuery {
    fn validate(&self) -> Result<(u32, u32, Vec<String>)> {
        let (page, limit) = page_and_limit(self.page, self.limit)?;
        Ok((page, limit, skill_filter("skills", &self.skills)?))
    }
}

impl DevConnect {
    /// A page of developers `me` has no request or connection with, in a stable order
    /// (newest account first). Pages are offsets into that order: while the viewer's
    /// requests do not change, consecutive pages neither overlap nor skip.
    pub async fn feed(&self, me: UserId, query: &FeedQuery) -> Result<FeedPage> {
        let (page, limit, skills) = query.validate()?;
        let filter = FeedFilter { offset: u64::from(page - 1) * u64::from(limit), limit: limit + 1, skills };
        let mut profiles = self.inner.store.feed(me, &filter).await?;
        let has_more = profiles.len() > limit as usize;
        profiles.truncate(limit as usize);
        Ok(self.publish(FeedPage { profiles, page, limit, has_more }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feed_query_defaults_and_caps() {
        let q = FeedQuery::default().validate().ok();
        assert_eq!(q, Some((1, DEFAULT_FEED_LIMIT, vec![])));
        let q = FeedQuery { page: Some(2), limit: Some(500), skills: vec![" Rust".into(), "rust".into()] };
        assert_eq!(q.validate().ok(), Some((2, MAX_FEED_LIMIT, vec!["rust".into()])));
        assert!(FeedQuery { page: Some(0), ..FeedQuery::default() }.validate().is_err());
        assert!(FeedQuery { limit: Some(0), ..FeedQuery::default() }.validate().is_err());
    }
}
