//! Engagement analytics, on data seeded at chosen times.

use chrono::Utc;

use super::behaviours;
use super::fixtures::{service, user_record};
use crate::connection::RequestStatus;
use crate::store::{NewMessageRecord, Store, UserRecord};
use crate::{Error, MessageId, Result, UserId};

/// `y-m-d` as a date (test input, known valid).
fn date(y: i32, m: u32, d: u32) -> Result<chrono::NaiveDate> {
    chrono::NaiveDate::from_ymd_opt(y, m, d).ok_or_else(|| Error::internal("bad test date"))
}

/// `y-m-d h:m:s.ms` UTC.
fn at(y: i32, m: u32, d: u32, h: u32, min: u32, s: u32, ms: u32) -> Result<chrono::DateTime<Utc>> {
    Ok(date(y, m, d)?.and_hms_milli_opt(h, min, s, ms).ok_or_else(|| Error::internal("bad test time"))?.and_utc())
}

/// Seeds activity over 2026-10-31..2026-11-05 directly into `store` (times chosen, not
/// "now"), for the engagement tests; [`expected_engagement`] is what
/// 2026-11-01..=2026-11-04 must report.
pub async fn seed_engagement(store: &dyn Store) -> Result<()> {
    let users: Vec<UserRecord> =
        ["a", "b", "c", "d"].iter().map(|n| user_record(&format!("{n}@engagement.test"))).collect();
    for u in &users {
        store.insert_user(u).await?;
    }
    let [a, b, c, d] = [0, 1, 2, 3].map(|i| users.get(i).map_or_else(UserId::new, |u| u.me.profile.id));
    let request =
        |from: UserId, to: UserId, status: RequestStatus, sent: chrono::DateTime<Utc>| crate::ConnectionRequest {
            id: crate::RequestId::new(),
            from_user_id: from,
            to_user_id: to,
            status,
            note: None,
            created_at: sent,
            updated_at: sent,
        };
    // Day 1: four requests (a→b, a→c, b→d interested; d→a ignored).
    let ab = request(a, b, RequestStatus::Interested, at(2026, 11, 1, 10, 0, 0, 0)?);
    let ac = request(a, c, RequestStatus::Interested, at(2026, 11, 1, 11, 0, 0, 0)?);
    let bd = request(b, d, RequestStatus::Interested, at(2026, 11, 1, 13, 0, 0, 0)?);
    let da = request(d, a, RequestStatus::Ignored, at(2026, 11, 1, 12, 0, 0, 0)?);
    for r in [&ab, &ac, &bd, &da] {
        store.insert_request(r).await?;
    }
    // Day 2: b and c accept after 24 h and 25 h; three messages.
    store.review_request(ab.id, b, RequestStatus::Accepted, at(2026, 11, 2, 10, 0, 0, 0)?).await?;
    store.review_request(ac.id, c, RequestStatus::Accepted, at(2026, 11, 2, 12, 0, 0, 0)?).await?;
    // Day 3: d rejects.
    store.review_request(bd.id, d, RequestStatus::Rejected, at(2026, 11, 3, 9, 0, 0, 0)?).await?;
    let messages = [
        (a, b, at(2026, 10, 31, 23, 59, 59, 999)?), // before the range
        (a, b, at(2026, 11, 2, 13, 0, 0, 0)?),
        (a, b, at(2026, 11, 2, 13, 0, 1, 0)?),
        (b, a, at(2026, 11, 2, 14, 0, 0, 0)?),
        (c, a, at(2026, 11, 4, 23, 59, 59, 999)?), // last millisecond of day 4
        (c, a, at(2026, 11, 5, 0, 0, 0, 0)?),      // after the range
    ];
    for (from, to, sent) in messages {
        store
            .insert_message(&NewMessageRecord {
                id: MessageId::new(),
                sender: from,
                receiver: to,
                text: "hi".to_owned(),
                image: None,
                client_msg_id: None,
                created_at: sent,
            })
            .await?;
    }
    Ok(())
}

/// What [`seed_engagement`]'s data gives for 2026-11-01..=2026-11-04.
pub fn expected_engagement() -> Result<Vec<crate::EngagementDay>> {
    let day = |d, active_users, messages, requests_sent, requests_accepted, median_accept_secs| {
        Ok::<_, Error>(crate::EngagementDay {
            date: date(2026, 11, d)?,
            active_users,
            messages,
            requests_sent,
            requests_accepted,
            median_accept_secs,
        })
    };
    Ok(vec![
        // a, b, d sent requests
        day(1, 3, 0, 4, 0, None)?,
        // a, b sent messages; b, c accepted; median of 86,400 s and 90,000 s
        day(2, 3, 3, 0, 2, Some(88_200.0))?,
        // d rejected
        day(3, 1, 0, 0, 0, None)?,
        // c sent a message
        day(4, 1, 1, 0, 0, None)?,
    ])
}

behaviours![
    pub async fn engagement_counts_each_utc_day_by_its_definitions(store: Arc<dyn Store>) -> Result<()> {
        seed_engagement(&*store).await?;
        let app = service(store)?;
        let report = app.engagement(date(2026, 11, 1)?, date(2026, 11, 4)?).await?;
        assert_eq!(report.days, expected_engagement()?);
        // Days without activity are reported as zeros, in order.
        let quiet = app.engagement(date(2026, 12, 1)?, date(2026, 12, 2)?).await?;
        assert_eq!(
            quiet.days,
            vec![crate::EngagementDay::empty(date(2026, 12, 1)?), crate::EngagementDay::empty(date(2026, 12, 2)?)]
        );
        // Ranges are bounded and ordered.
        assert!(app.engagement(date(2026, 1, 1)?, date(2026, 12, 31)?).await.is_ok()); // 365 days
        for (from, to) in [(date(2026, 11, 4)?, date(2026, 11, 1)?), (date(2025, 1, 1)?, date(2026, 1, 2)?)] {
            let err = app.engagement(from, to).await.err();
            assert!(matches!(err, Some(Error::Validation { field: "to", .. })), "{from}..{to}: {err:?}");
        }
        // No personal data in the report.
        let json = serde_json::to_string(&report).map_err(Error::internal)?;
        assert!(!json.contains("@engagement.test") && !json.contains("Store"), "{json}");
        Ok(())
    }
];
