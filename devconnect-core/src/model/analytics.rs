//! Engagement rows as a store aggregates them; definitions in [`crate::analytics`].

use chrono::NaiveDate;
use serde::Serialize;

/// Engagement of one UTC day. Counts only, never personal data.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EngagementDay {
    /// The UTC day.
    pub date: NaiveDate,
    /// Distinct users who sent a message or a request, or reviewed a request.
    pub active_users: u64,
    /// Messages stored.
    pub messages: u64,
    /// Connection requests sent.
    pub requests_sent: u64,
    /// Connection requests accepted.
    pub requests_accepted: u64,
    /// Median seconds from sending to acceptance of the requests accepted that day;
    /// `None` when none was.
    pub median_accept_secs: Option<f64>,
}

impl EngagementDay {
    /// A day without any activity.
    #[must_use]
    pub fn empty(date: NaiveDate) -> Self {
        Self { date, active_users: 0, messages: 0, requests_sent: 0, requests_accepted: 0, median_accept_secs: None }
    }
}

/// The median of sorted values; `None` if empty. (Stores that cannot take it in the
/// database use it.)
#[cfg_attr(not(feature = "mongodb"), allow(dead_code))]
pub(crate) fn median(sorted: &[f64]) -> Option<f64> {
    let n = sorted.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => sorted.get(n / 2).copied(),
        _ => Some((sorted.get(n / 2 - 1)? + sorted.get(n / 2)?) / 2.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_takes_the_middle_or_the_mean_of_the_two_middles() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[3.0]), Some(3.0));
        assert_eq!(median(&[1.0, 2.0, 10.0]), Some(2.0));
        assert_eq!(median(&[1.0, 2.0, 4.0, 10.0]), Some(3.0));
    }
}
