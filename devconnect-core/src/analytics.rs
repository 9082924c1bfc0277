//! Engagement analytics for operators: per-day activity aggregated by the store.
//!
//! Days are UTC calendar days. Rows hold counts only: no ids, emails or names, so the
//! output can go to dashboards and files without leaking personal data.
//!
//! Definitions (from what the store records):
//! - **active user**: a user who, that day, sent a chat message, sent a connection
//!   request, or reviewed (accepted or rejected) one. Logging in or reading alone
//!   does not count: the store keeps no record of it.
//! - **messages**: chat messages stored that day.
//! - **requests sent**: connection requests created that day (`interested` or `ignored`).
//! - **requests accepted**: requests accepted that day (by review time).
//! - **median time to accept**: the median, over the requests accepted that day, of
//!   the time from sending to acceptance.
//!
//! A connection that is later removed deletes its request, so it no longer counts
//! towards the days it was sent or accepted.

use chrono::{DateTime, Days, NaiveDate, NaiveTime, Utc};
use serde::Serialize;

pub use crate::model::EngagementDay;
use crate::{DevConnect, Error, Result};

/// The longest range [`DevConnect::engagement`] answers, in days.
pub const MAX_RANGE_DAYS: u64 = 366;

/// [`DevConnect::engagement`]'s answer: one row per day of the range, in order.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Engagement {
    /// First day (inclusive).
    pub from: NaiveDate,
    /// Last day (inclusive).
    pub to: NaiveDate,
    /// Every day from `from` to `to`, days without activity included.
    pub days: Vec<EngagementDay>,
}

/// Midnight UTC at the start of `date`.
pub(crate) fn start_of(date: NaiveDate) -> DateTime<Utc> {
    date.and_time(NaiveTime::MIN).and_utc()
}

impl DevConnect {
    /// Engagement per UTC day from `from` to `to` inclusive, aggregated by the store.
    /// A range that is reversed or longer than [`MAX_RANGE_DAYS`] is a `Validation`
    /// error on `to`.
    pub async fn engagement(&self, from: NaiveDate, to: NaiveDate) -> Result<Engagement> {
        engagement(&*self.inner.store, from, to).await
    }

    /// Recomputes today's and yesterday's (UTC) engagement and publishes them as the
    /// `devconnect_engagement_*` gauges ([`crate::telemetry`]). Servers call this
    /// periodically; the gauges are what every instance reads from the shared store.
    pub async fn refresh_engagement_metrics(&self) -> Result<()> {
        let today = Utc::now().date_naive();
        let yesterday = today.pred_opt().unwrap_or(today);
        let report = self.engagement(yesterday, today).await?;
        for row in &report.days {
            let day = if row.date == today { "today" } else { "yesterday" };
            crate::telemetry::publish_engagement(day, row);
        }
        Ok(())
    }
}

/// [`DevConnect::engagement`] over a bare store, for tools that read a database without
/// running the service (the servers' `stats` subcommand).
pub async fn engagement(store: &dyn crate::Store, from: NaiveDate, to: NaiveDate) -> Result<Engagement> {
    {
        if to < from {
            return Err(Error::validation("to", "must not be before from"));
        }
        let days = u64::try_from((to - from).num_days() + 1).unwrap_or(u64::MAX);
        if days > MAX_RANGE_DAYS {
            return Err(Error::validation("to", format!("the range must be at most {MAX_RANGE_DAYS} days")));
        }
        let end = to.checked_add_days(Days::new(1)).ok_or_else(|| Error::validation("to", "is out of range"))?;
        let mut rows = store.engagement(start_of(from), start_of(end)).await?.into_iter().peekable();
        let mut out = Vec::new();
        for date in from.iter_days().take_while(|d| *d <= to) {
            // Stores return only days with activity, in order; fill the gaps.
            match rows.next_if(|r| r.date == date) {
                Some(row) => out.push(row),
                None => out.push(EngagementDay::empty(date)),
            }
        }
        Ok(Engagement { from, to, days: out })
    }
}
