//! Operational metrics emitted by the core, through the [`metrics`] facade.
//!
//! The core only records; a frontend installs a recorder (the servers install a
//! Prometheus one) and serves it. Without a recorder every call here is a no-op, so
//! embedding the core costs nothing. The counters live where their rule lives (a
//! message counts once it is stored, a login once it is decided), so every frontend
//! reports the same thing.
//!
//! Labels are small fixed sets (operation names, outcomes); never ids, emails or
//! other personal data.

use devconnect_types::{ReportKind, RequestStatus};

use crate::Result;
use crate::model::EngagementDay;

/// Counter: accounts created.
pub const SIGNUPS: &str = "devconnect_signups_total";
/// Counter: login attempts, label `result` = `success` | `failure`.
pub const LOGINS: &str = "devconnect_logins_total";
/// Counter: chat messages stored (an idempotent resend does not count again).
pub const MESSAGES_SENT: &str = "devconnect_messages_sent_total";
/// Counter: connection requests sent, label `status` = `interested` | `ignored`.
pub const REQUESTS_SENT: &str = "devconnect_connection_requests_sent_total";
/// Counter: connection requests reviewed, label `status` = `accepted` | `rejected`.
pub const REQUESTS_REVIEWED: &str = "devconnect_connection_requests_reviewed_total";
/// Counter: reports filed, label `kind` = `user` | `message` | `group`.
pub const REPORTS_FILED: &str = "devconnect_reports_filed_total";
/// Counter: calls refused by a rate limit, label `limit` = `message` | `request` |
/// `report` | `login` (the core's limits) or `auth_addr` (the REST server's per-address limit).
pub const RATE_LIMITED: &str = "devconnect_rate_limited_total";
/// Histogram (seconds): one store call, label `operation` (the [`Store`](crate::Store) method name).
pub const STORE_DURATION: &str = "devconnect_store_operation_duration_seconds";
/// Counter: realtime subscriptions ended because their queue was full (`lagged`).
pub const REALTIME_QUEUE_DROPS: &str = "devconnect_realtime_queue_drops_total";
/// Counter: envelopes this instance published to the event bus between instances,
/// label `kind` = `event` | `revocation` | `connection`. A message is one event
/// envelope, however many recipients (a group's members) it has.
pub const BUS_PUBLISHED: &str = "devconnect_bus_published_total";
/// Gauge: users with at least one live subscription in this process.
pub const ONLINE_USERS: &str = "devconnect_online_users";
/// Counter: push notifications a push service accepted.
pub const PUSHES_SENT: &str = "devconnect_pushes_sent_total";
/// Counter: push attempts that failed, label `status` = the push service's HTTP status
/// (`400`, `403`, `404`, `410`, `413`, `429`, `5xx`, `other`) or `network`.
pub const PUSHES_FAILED: &str = "devconnect_pushes_failed_total";
/// Counter: push subscriptions removed because their push service said they are gone
/// (404, 410).
pub const PUSH_SUBSCRIPTIONS_REMOVED: &str = "devconnect_push_subscriptions_removed_total";
/// Gauge: notifications waiting in the push outbox (every instance's).
pub const PUSH_OUTBOX_DEPTH: &str = "devconnect_push_outbox_depth";
/// Gauge: seconds since the oldest waiting notification was queued (0 when none waits).
pub const PUSH_OUTBOX_AGE: &str = "devconnect_push_outbox_age_seconds";
/// Gauge: [`Engagement`](crate::Engagement) of one UTC day, label `day` = `today` |
/// `yesterday`; one gauge per column: `…_active_users`, `…_messages`,
/// `…_requests_sent`, `…_requests_accepted`, `…_median_accept_seconds`.
pub const ENGAGEMENT_PREFIX: &str = "devconnect_engagement";

/// The names of every metric the core emits (engagement gauges included), for
/// documentation checks and dashboards.
pub const CORE_METRICS: &[&str] = &[
    SIGNUPS,
    LOGINS,
    MESSAGES_SENT,
    REQUESTS_SENT,
    REQUESTS_REVIEWED,
    REPORTS_FILED,
    RATE_LIMITED,
    STORE_DURATION,
    REALTIME_QUEUE_DROPS,
    BUS_PUBLISHED,
    ONLINE_USERS,
    PUSHES_SENT,
    PUSHES_FAILED,
    PUSH_SUBSCRIPTIONS_REMOVED,
    PUSH_OUTBOX_DEPTH,
    PUSH_OUTBOX_AGE,
    "devconnect_engagement_active_users",
    "devconnect_engagement_messages",
    "devconnect_engagement_requests_sent",
    "devconnect_engagement_requests_accepted",
    "devconnect_engagement_median_accept_seconds",
];

/// Suggested histogram buckets (seconds) for store calls: 100 µs to 5 s.
pub const STORE_BUCKETS: &[f64] =
    &[0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];

/// Describes the core's metrics to the installed recorder (the `# HELP` lines) and
/// starts the counters (with each of their label values) and gauges at zero, so they are scraped (and `rate()`
/// works) before the first event. Frontends call it once after installing a recorder.
pub fn register() {
    metrics::describe_counter!(SIGNUPS, "Accounts created");
    metrics::describe_counter!(LOGINS, "Login attempts by result (success, failure)");
    metrics::describe_counter!(MESSAGES_SENT, "Chat messages stored");
    metrics::describe_counter!(REQUESTS_SENT, "Connection requests sent, by status");
    metrics::describe_counter!(REQUESTS_REVIEWED, "Connection requests reviewed, by status");
    metrics::describe_counter!(REPORTS_FILED, "Reports filed by users, by kind of target");
    for kind in ReportKind::ALL {
        metrics::counter!(REPORTS_FILED, "kind" => kind.as_str()).increment(0);
    }
    metrics::describe_counter!(RATE_LIMITED, "Calls refused by a rate limit, by limit");
    metrics::describe_histogram!(STORE_DURATION, metrics::Unit::Seconds, "Store call latency by operation");
    metrics::describe_counter!(REALTIME_QUEUE_DROPS, "Realtime subscriptions ended because their queue was full");
    metrics::describe_gauge!(ONLINE_USERS, "Users with a live realtime subscription in this process");
    metrics::counter!(SIGNUPS).increment(0);
    for result in ["success", "failure"] {
        metrics::counter!(LOGINS, "result" => result).increment(0);
    }
    for status in [RequestStatus::Interested, RequestStatus::Ignored] {
        metrics::counter!(REQUESTS_SENT, "status" => status.as_str()).increment(0);
    }
    for status in [RequestStatus::Accepted, RequestStatus::Rejected] {
        metrics::counter!(REQUESTS_REVIEWED, "status" => status.as_str()).increment(0);
    }
    for limit in ["message", "request", "login"] {
        metrics::counter!(RATE_LIMITED, "limit" => limit).increment(0);
    }
    metrics::counter!(MESSAGES_SENT).increment(0);
    metrics::counter!(REALTIME_QUEUE_DROPS).increment(0);
    metrics::describe_counter!(BUS_PUBLISHED, "Envelopes published to the event bus between instances, by kind");
    for kind in ["event", "revocation", "connection"] {
        metrics::counter!(BUS_PUBLISHED, "kind" => kind).increment(0);
    }
    metrics::gauge!(ONLINE_USERS).increment(0.0);
    metrics::describe_counter!(PUSHES_SENT, "Push notifications a push service accepted");
    metrics::describe_counter!(PUSHES_FAILED, "Push attempts that failed, by HTTP status or network");
    metrics::describe_counter!(PUSH_SUBSCRIPTIONS_REMOVED, "Push subscriptions their push service said are gone");
    metrics::describe_gauge!(PUSH_OUTBOX_DEPTH, "Notifications waiting in the push outbox");
    metrics::describe_gauge!(PUSH_OUTBOX_AGE, metrics::Unit::Seconds, "Age of the oldest waiting notification");
    metrics::counter!(PUSHES_SENT).increment(0);
    metrics::counter!(PUSH_SUBSCRIPTIONS_REMOVED).increment(0);
    for status in PUSH_FAILURE_STATUSES {
        metrics::counter!(PUSHES_FAILED, "status" => *status).increment(0);
    }
    metrics::gauge!(PUSH_OUTBOX_DEPTH).set(0.0);
    metrics::gauge!(PUSH_OUTBOX_AGE).set(0.0);
}

/// The values of [`PUSHES_FAILED`]'s `status` label.
const PUSH_FAILURE_STATUSES: &[&str] = &["400", "403", "404", "410", "413", "429", "5xx", "other", "network"];

/// A push attempt's outcome, by the push service's HTTP status (`None`: no answer).
#[cfg(feature = "push")]
pub(crate) fn push_outcome(status: Option<u16>) {
    let label = match status {
        Some(200..=299) => return metrics::counter!(PUSHES_SENT).increment(1),
        None => "network",
        Some(500..=599) => "5xx",
        Some(code) => PUSH_FAILURE_STATUSES.iter().copied().find(|s| s.parse() == Ok(code)).unwrap_or("other"),
    };
    metrics::counter!(PUSHES_FAILED, "status" => label).increment(1);
}

#[cfg(feature = "push")]
pub(crate) fn push_subscription_gone() {
    metrics::counter!(PUSH_SUBSCRIPTIONS_REMOVED).increment(1);
}

#[cfg(feature = "push")]
pub(crate) fn push_outbox(depth: u64, age_seconds: f64) {
    metrics::gauge!(PUSH_OUTBOX_DEPTH).set(depth as f64);
    metrics::gauge!(PUSH_OUTBOX_AGE).set(age_seconds);
}

pub(crate) fn signup() {
    metrics::counter!(SIGNUPS).increment(1);
}

pub(crate) fn login<T>(result: &Result<T>) {
    let outcome = if result.is_ok() { "success" } else { "failure" };
    metrics::counter!(LOGINS, "result" => outcome).increment(1);
}

pub(crate) fn message_sent() {
    metrics::counter!(MESSAGES_SENT).increment(1);
}

pub(crate) fn request_sent(status: RequestStatus) {
    metrics::counter!(REQUESTS_SENT, "status" => status.as_str()).increment(1);
}

pub(crate) fn request_reviewed(status: RequestStatus) {
    metrics::counter!(REQUESTS_REVIEWED, "status" => status.as_str()).increment(1);
}

pub(crate) fn report_filed(kind: ReportKind) {
    metrics::counter!(REPORTS_FILED, "kind" => kind.as_str()).increment(1);
}

pub(crate) fn rate_limited(limit: &'static str) {
    metrics::counter!(RATE_LIMITED, "limit" => limit).increment(1);
}

#[cfg(feature = "redis")]
pub(crate) fn bus_published(kind: &'static str) {
    metrics::counter!(BUS_PUBLISHED, "kind" => kind).increment(1);
}

pub(crate) fn queue_drops(count: usize) {
    metrics::counter!(REALTIME_QUEUE_DROPS).increment(count as u64);
}

pub(crate) fn user_online() {
    metrics::gauge!(ONLINE_USERS).increment(1.0);
}

pub(crate) fn user_offline() {
    metrics::gauge!(ONLINE_USERS).decrement(1.0);
}

/// Publishes one day's engagement as the `devconnect_engagement_*` gauges.
pub fn publish_engagement(day: &'static str, row: &EngagementDay) {
    // Gauges are f64; counts stay far below 2^52.
    let gauges = [
        ("devconnect_engagement_active_users", row.active_users as f64),
        ("devconnect_engagement_messages", row.messages as f64),
        ("devconnect_engagement_requests_sent", row.requests_sent as f64),
        ("devconnect_engagement_requests_accepted", row.requests_accepted as f64),
        ("devconnect_engagement_median_accept_seconds", row.median_accept_secs.unwrap_or(0.0)),
    ];
    for (name, value) in gauges {
        metrics::gauge!(name, "day" => day).set(value);
    }
}
