//! Developer search: each result with how it relates to the searcher, and a page of them.

use serde::{Deserialize, Serialize};

use crate::{Profile, UserId};

/// How a found developer relates to the searcher, so a client can offer the right
/// action (message, wait, or connect).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Relation {
    /// `"connected"`: an accepted request, either way.
    Connected,
    /// `"pending"`: an `interested` request, either way, not reviewed yet.
    Pending,
    /// `"none"`: no request, or one that was ignored or rejected.
    None,
}

impl Relation {
    /// The wire form (as serde writes it).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Connected => "connected",
            Self::Pending => "pending",
            Self::None => "none",
        }
    }
}

/// One search result: the public profile, flattened, plus `relation`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SearchResult {
    /// The developer's public profile.
    #[serde(flatten)]
    pub profile: Profile,
    /// How they relate to the searcher.
    pub relation: Relation,
}

/// A page of search results, best match first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SearchPage {
    /// The results on this page.
    pub results: Vec<SearchResult>,
    /// The page number.
    pub page: u32,
    /// The page size.
    pub limit: u32,
    /// Whether a next page has results.
    pub has_more: bool,
    /// The newest account these pages may show. Passed back as `asOf` with the next
    /// page, it keeps accounts created meanwhile from shifting the pages (which would
    /// repeat a result): pages of one search then neither overlap nor skip.
    pub as_of: UserId,
}

#[cfg(test)]
mod tests {
    use super::Relation;

    #[test]
    fn a_relation_reads_as_serde_writes_it() {
        for relation in [Relation::Connected, Relation::Pending, Relation::None] {
            assert_eq!(serde_json::to_value(relation).ok(), Some(relation.as_str().into()));
        }
    }
}
