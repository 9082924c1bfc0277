//! The feed as asked of a store.

/// A page request for the feed, validated.
#[derive(Clone, Debug, Default)]
pub struct FeedFilter {
    /// Rows to skip.
    pub offset: u64,
    /// Rows to return.
    pub limit: u32,
    /// Lower-cased skills; a profile matches if it has any of them. Empty: no filter.
    pub skills: Vec<String>,
}
