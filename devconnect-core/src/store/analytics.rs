//! The analytics aggregate: activity counted over days, in the database.

use chrono::{DateTime, Utc};

use crate::Result;
use crate::model::EngagementDay;

super::timed::store_aggregate! {
    /// Engagement analytics.
    pub trait AnalyticsStore {
        /// Engagement per UTC day of `[from, to)` (both midnights UTC), aggregated in the
        /// database: only days with any activity, oldest first. Definitions in
        /// [`crate::analytics`].
        async fn engagement(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<EngagementDay>>;
    }
}
