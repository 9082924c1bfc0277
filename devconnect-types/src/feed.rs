//! The discovery feed.

use serde::{Deserialize, Serialize};

use crate::Profile;

/// One page of the feed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct FeedPage {
    /// The profiles on this page, newest account first.
    pub profiles: Vec<Profile>,
    /// The page number.
    pub page: u32,
    /// The page size.
    pub limit: u32,
    /// Whether a next page has profiles.
    pub has_more: bool,
}
