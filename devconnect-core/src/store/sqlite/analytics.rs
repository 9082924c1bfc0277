//! The analytics aggregate on SQLite: engagement counted by SQL per day.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::params;

use super::SqliteStore;
use super::error::ResultExt as _;
use super::rows::{collect, ms};
use crate::model::EngagementDay;
use crate::store::AnalyticsStore;
use crate::{Error, Result};

#[async_trait]
impl AnalyticsStore for SqliteStore {
    async fn engagement(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<EngagementDay>> {
        const DAY_MS: i64 = 86_400_000;
        let (from, to) = (ms(from), ms(to));
        self.read(move |conn| {
            let mut days = std::collections::BTreeMap::<i64, EngagementDay>::new();
            fn row_of(days: &mut std::collections::BTreeMap<i64, EngagementDay>, day: i64) -> Result<&mut EngagementDay> {
                let date = DateTime::from_timestamp_millis(day * DAY_MS)
                    .ok_or_else(|| Error::internal("a stored time is out of range"))?
                    .date_naive();
                Ok(days.entry(day).or_insert_with(|| EngagementDay::empty(date)))
            }
            // Times are milliseconds since the epoch, so `t / DAY_MS` is the UTC day.
            let counts = [
                "SELECT created_at / 86400000, COUNT(*) FROM messages \
                 WHERE created_at >= ?1 AND created_at < ?2 GROUP BY 1",
                "SELECT created_at / 86400000, COUNT(*) FROM connection_requests \
                 WHERE created_at >= ?1 AND created_at < ?2 GROUP BY 1",
                "SELECT day, COUNT(DISTINCT user) FROM ( \
                   SELECT created_at / 86400000 AS day, sender_id AS user FROM messages \
                     WHERE created_at >= ?1 AND created_at < ?2 \
                   UNION ALL SELECT created_at / 86400000, from_id FROM connection_requests \
                     WHERE created_at >= ?1 AND created_at < ?2 \
                   UNION ALL SELECT updated_at / 86400000, to_id FROM connection_requests \
                     WHERE status IN ('accepted', 'rejected') AND updated_at >= ?1 AND updated_at < ?2 \
                 ) GROUP BY day",
            ];
            for (column, sql) in counts.iter().enumerate() {
                let mut stmt = conn.prepare_cached(sql).db()?;
                let rows = stmt.query_map(params![from, to], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?))).db()?;
                for (day, n) in collect(rows)? {
                    let row = row_of(&mut days, day)?;
                    let n = u64::try_from(n).unwrap_or_default();
                    match column {
                        0 => row.messages = n,
                        1 => row.requests_sent = n,
                        _ => row.active_users = n,
                    }
                }
            }
            // The median is the mean of the one or two middle rows of each day, picked
            // by window functions, so only one row per day leaves the database.
            let mut stmt = conn
                .prepare_cached(
                    "SELECT day, MAX(n), AVG(d) FROM ( \
                       SELECT updated_at / 86400000 AS day, updated_at - created_at AS d, \
                         ROW_NUMBER() OVER (PARTITION BY updated_at / 86400000 ORDER BY updated_at - created_at) AS rn, \
                         COUNT(*) OVER (PARTITION BY updated_at / 86400000) AS n \
                       FROM connection_requests \
                       WHERE status = 'accepted' AND updated_at >= ?1 AND updated_at < ?2 \
                     ) WHERE rn IN ((n + 1) / 2, (n + 2) / 2) GROUP BY day",
                )
                .db()?;
            let rows = stmt
                .query_map(params![from, to], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, r.get::<_, f64>(2)?)))
                .db()?;
            for (day, n, median_ms) in collect(rows)? {
                let row = row_of(&mut days, day)?;
                row.requests_accepted = u64::try_from(n).unwrap_or_default();
                row.median_accept_secs = Some(median_ms / 1000.0);
            }
            Ok(days.into_values().collect())
        })
        .await
    }
}
