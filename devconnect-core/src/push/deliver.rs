//! The delivery task: on every instance, claims due outbox entries, drops those whose
//! user is online by now (on any instance), and sends the rest to their push services.

use std::collections::HashMap;
use std::sync::Weak;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use devconnect_types::{PushKind, PushNotification, PushSettings, UserId};

use super::{Push, TTL, ece};
use crate::model::OutboxEntry;
use crate::{DevConnect, Inner, Result};

/// How long a claimed entry is left to its sender before another instance may take it
/// (a crash mid-send): well past a push's timeout.
const LEASE: TimeDelta = TimeDelta::seconds(60);
/// How long one push may take, connecting included.
const PUSH_TIMEOUT: Duration = Duration::from_secs(10);
/// Attempts before a notification is given up.
const MAX_ATTEMPTS: u32 = 8;
/// The first retry's delay; each next one doubles, up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: TimeDelta = TimeDelta::seconds(2);
const MAX_BACKOFF: TimeDelta = TimeDelta::minutes(10);
/// The longest `Retry-After` honoured as given.
const MAX_RETRY_AFTER: TimeDelta = TimeDelta::hours(1);
/// How often the outbox gauges are refreshed.
const STATS_EVERY: Duration = Duration::from_secs(5);

/// Starts the delivery task of the service behind `inner`; it ends with the service.
pub(crate) fn start(inner: Weak<Inner>, push: &Push) -> Result<()> {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else { return Ok(()) };
    let http = super::resolve::client(PUSH_TIMEOUT, push.config.allow_loopback_http)?;
    let poll = push.config.poll;
    runtime.spawn(async move {
        let mut every = tokio::time::interval(poll);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut stats_due = tokio::time::Instant::now();
        loop {
            every.tick().await;
            let Some(inner) = inner.upgrade() else { return };
            let app = DevConnect { inner };
            if let Err(err) = app.deliver_due(&http).await {
                tracing::warn!(code = err.code(), "could not deliver push notifications; retrying");
            }
            if tokio::time::Instant::now() >= stats_due {
                stats_due += STATS_EVERY;
                if let Ok(stats) = app.inner.store.push_outbox_stats().await {
                    let age = stats.oldest.map_or(0.0, |t| (crate::now() - t).as_seconds_f64().max(0.0));
                    crate::telemetry::push_outbox(stats.depth, age);
                }
            }
        }
    });
    Ok(())
}

/// What became of one push.
enum Outcome {
    /// Accepted (2xx), or not needed (the user is online, or it expired).
    Done,
    /// The subscription is gone (404, 410).
    Gone,
    /// Worth trying again (429, 5xx, no answer), not before the given time if the
    /// service said so.
    Retry(Option<DateTime<Utc>>),
    /// Refused for good (any other status).
    Refused,
}

impl DevConnect {
    /// Claims what is due and sends it, up to the configured concurrency at once.
    async fn deliver_due(&self, http: &reqwest::Client) -> Result<()> {
        let push = self.push()?;
        let now = crate::now();
        let limit = u32::try_from(push.config.concurrency.max(1)).unwrap_or(u32::MAX);
        let entries = self.inner.store.claim_pushes(now, now + LEASE, limit).await?;
        if entries.is_empty() {
            return Ok(());
        }
        let mut users: Vec<UserId> = entries.iter().map(|e| e.subscription.user).collect();
        users.sort();
        users.dedup();
        let online: HashMap<UserId, bool> =
            users.iter().copied().zip(self.inner.realtime.online_among(&users).await).collect();
        let mut settings: HashMap<UserId, PushSettings> = HashMap::new();
        let mut names: HashMap<UserId, String> = HashMap::new();
        let mut sends = tokio::task::JoinSet::new();
        for entry in entries {
            let user = entry.subscription.user;
            let expired = now - entry.created_at > TimeDelta::from_std(TTL).unwrap_or(TimeDelta::MAX);
            if online.get(&user).copied().unwrap_or(false) || expired {
                // Seen live (or too old to matter): nothing to tell.
                self.finish(&entry, Outcome::Done).await;
                continue;
            }
            if let std::collections::hash_map::Entry::Vacant(slot) = settings.entry(user) {
                slot.insert(self.inner.store.push_settings(user).await?);
            }
            let sender = entry.item.sender;
            if let std::collections::hash_map::Entry::Vacant(slot) = names.entry(sender) {
                let name = self.inner.store.user(sender).await?.map(|u| {
                    let p = &u.me.profile;
                    format!("{} {}", p.first_name, p.last_name).trim().to_owned()
                });
                slot.insert(name.unwrap_or_default());
            }
            let previews = settings.get(&user).is_none_or(|s| s.previews);
            let notification = PushNotification {
                kind: entry.item.kind,
                sender_id: sender,
                sender_name: names.get(&sender).cloned().unwrap_or_default(),
                preview: entry.item.text.clone().filter(|_| previews),
                count: entry.count,
                group_id: entry.item.group,
                message_id: entry.item.message,
                request_id: entry.item.request,
            };
            let (app, http) = (self.clone(), http.clone());
            sends.spawn(async move {
                let outcome = app.send(&http, &entry, &notification).await;
                app.finish(&entry, outcome).await;
            });
        }
        while sends.join_next().await.is_some() {}
        Ok(())
    }

    /// Encrypts and posts one notification.
    async fn send(&self, http: &reqwest::Client, entry: &OutboxEntry, notification: &PushNotification) -> Outcome {
        let Ok(push) = self.push() else { return Outcome::Retry(None) };
        let sub = &entry.subscription;
        let request = serde_json::to_vec(notification)
            .map_err(crate::Error::internal)
            .and_then(|json| ece::encrypt(&sub.p256dh, &sub.auth, &json))
            .and_then(|body| {
                let url =
                    url::Url::parse(&sub.endpoint).map_err(|_| crate::Error::validation("endpoint", "unparsable"))?;
                let authorization = push.vapid.authorization(&url.origin().ascii_serialization(), crate::now())?;
                Ok((body, authorization))
            });
        let (body, authorization) = match request {
            Ok(request) => request,
            Err(err) => {
                tracing::warn!(code = err.code(), "could not prepare a push notification; giving it up");
                return Outcome::Refused;
            }
        };
        let urgency =
            if matches!(entry.item.kind, PushKind::Message | PushKind::GroupMessage) { "high" } else { "normal" };
        let sent = http
            .post(&sub.endpoint)
            .header("TTL", TTL.as_secs().to_string())
            .header("Urgency", urgency)
            .header("Topic", &entry.item.topic)
            .header("Content-Encoding", "aes128gcm")
            .header("Content-Type", "application/octet-stream")
            .header("Authorization", authorization)
            .body(body)
            .send()
            .await;
        let response = match sent {
            Ok(response) => response,
            Err(err) => {
                tracing::debug!(error = %err, "a push service could not be reached");
                crate::telemetry::push_outcome(None);
                return Outcome::Retry(None);
            }
        };
        let status = response.status().as_u16();
        crate::telemetry::push_outcome(Some(status));
        match status {
            200..=299 => Outcome::Done,
            404 | 410 => Outcome::Gone,
            429 | 500..=599 => Outcome::Retry(retry_after(response.headers().get("Retry-After"), crate::now())),
            _ => {
                tracing::warn!(status, "a push service refused a notification; giving it up");
                Outcome::Refused
            }
        }
    }

    /// Records `outcome` for a claimed entry.
    async fn finish(&self, entry: &OutboxEntry, outcome: Outcome) {
        let store = &self.inner.store;
        let (sub, topic) = (&entry.subscription.id, &entry.item.topic);
        let now = crate::now();
        let coalesce = self.inner.push.as_ref().map_or(Duration::ZERO, |p| p.config.coalesce);
        let result = match outcome {
            Outcome::Done | Outcome::Refused => store.finish_push(sub, topic, entry.version, now + coalesce).await,
            Outcome::Gone => {
                crate::telemetry::push_subscription_gone();
                store.drop_push_subscription(sub).await
            }
            Outcome::Retry(_) if entry.attempts + 1 >= MAX_ATTEMPTS => {
                tracing::warn!(attempts = MAX_ATTEMPTS, "a push notification could not be delivered; giving it up");
                store.finish_push(sub, topic, entry.version, now + coalesce).await
            }
            Outcome::Retry(after) => {
                let backoff =
                    FIRST_BACKOFF.checked_mul(1 << entry.attempts.min(16)).unwrap_or(MAX_BACKOFF).min(MAX_BACKOFF);
                let due = after.unwrap_or(now + backoff).max(now + FIRST_BACKOFF.min(backoff));
                store.retry_push(sub, topic, due, entry.attempts + 1).await
            }
        };
        if let Err(err) = result {
            // The lease runs out and the entry is tried again.
            tracing::warn!(code = err.code(), "could not record a push's outcome");
        }
    }
}

/// When a `Retry-After` value (seconds or an HTTP date) allows the next attempt, at
/// most [`MAX_RETRY_AFTER`] from `now`.
fn retry_after(value: Option<&reqwest::header::HeaderValue>, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let value = value?.to_str().ok()?.trim();
    let at = match value.parse::<u32>() {
        Ok(seconds) => now + TimeDelta::seconds(i64::from(seconds)),
        Err(_) => DateTime::parse_from_rfc2822(value).ok()?.with_timezone(&Utc),
    };
    Some(at.clamp(now, now + MAX_RETRY_AFTER))
}

#[cfg(test)]
mod tests {
    use reqwest::header::HeaderValue;

    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_dates_and_is_bounded() {
        let now = DateTime::parse_from_rfc3339("2026-12-07T10:00:00Z").map(|t| t.with_timezone(&Utc));
        let Ok(now) = now else { return assert!(now.is_ok()) };
        let at = |v: &'static str| retry_after(Some(&HeaderValue::from_static(v)), now);
        assert_eq!(at("30"), Some(now + TimeDelta::seconds(30)));
        assert_eq!(at("Mon, 07 Dec 2026 10:02:00 GMT"), Some(now + TimeDelta::minutes(2)));
        assert_eq!(at("999999"), Some(now + MAX_RETRY_AFTER));
        assert_eq!(at("Mon, 07 Dec 2020 10:02:00 GMT"), Some(now), "a date past is now");
        assert_eq!(at("soon"), None);
        assert_eq!(retry_after(None, now), None);
    }
}
