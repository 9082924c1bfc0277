//! Connection requests and connections: the rules, concurrent sends, reviews and lists.

use super::behaviours;
use super::fixtures::{check, connect, expect_code, say, service, service_with, user};
use crate::connection::{RequestStatus, ReviewStatus, SendStatus};
use std::sync::Arc;
use std::time::Duration;

use crate::{Error, ManualClock, Settings, UserId};

behaviours![
    pub async fn request_rules_self_unknown_and_duplicates(store: Arc<dyn Store>) -> Result<()> {
        let app = service(store)?;
        let (ada, _) = user(&app, "Ada").await?;
        let (bob, _) = user(&app, "Bob").await?;
        expect_code(app.send_request(ada, ada, SendStatus::Interested, None).await, "validation", "self")?;
        expect_code(app.send_request(ada, UserId::new(), SendStatus::Interested, None).await, "not_found", "unknown")?;
        // A sender cannot even name another status: the frontends' parse refuses it.
        expect_code(SendStatus::parse("accepted").map_err(crate::Error::from), "validation", "bad status")?;
        let long = "n".repeat(301);
        expect_code(app.send_request(ada, bob, SendStatus::Interested, Some(&long)).await, "validation", "note")?;
        let sent = app.send_request(ada, bob, SendStatus::Interested, Some(" Hi Bob ")).await?;
        check(sent.note.as_deref() == Some("Hi Bob") && sent.status == RequestStatus::Interested, "request fields")?;
        expect_code(app.send_request(ada, bob, SendStatus::Interested, None).await, "conflict", "again")?;
        expect_code(app.send_request(bob, ada, SendStatus::Ignored, None).await, "conflict", "reverse")
    }

    pub async fn concurrent_opposite_requests_create_one(store: Arc<dyn Store>) -> Result<()> {
        let app = service(store)?;
        let (ada, _) = user(&app, "Ada").await?;
        let (bob, _) = user(&app, "Bob").await?;
        let tasks: Vec<_> = (0..8)
            .map(|i| {
                let app = app.clone();
                let (from, to) = if i % 2 == 0 { (ada, bob) } else { (bob, ada) };
                tokio::spawn(async move { app.send_request(from, to, SendStatus::Interested, None).await })
            })
            .collect();
        let mut created = 0;
        for task in tasks {
            match task.await.map_err(Error::internal)? {
                Ok(_) => created += 1,
                Err(Error::Conflict(_)) => {}
                Err(other) => return Err(other),
            }
        }
        check(created == 1, &format!("one request, got {created}"))?;
        let total = app.sent_requests(ada).await?.len() + app.sent_requests(bob).await?.len();
        check(total == 1, "one stored")
    }

    pub async fn only_the_receiver_reviews_a_pending_request(store: Arc<dyn Store>) -> Result<()> {
        let app = service(store)?;
        let (ada, _) = user(&app, "Ada").await?;
        let (bob, _) = user(&app, "Bob").await?;
        let (eve, _) = user(&app, "Eve").await?;
        let request = app.send_request(ada, bob, SendStatus::Interested, None).await?;
        expect_code(app.review_request(ada, request.id, ReviewStatus::Accepted).await, "forbidden", "sender")?;
        expect_code(app.review_request(eve, request.id, ReviewStatus::Accepted).await, "not_found", "stranger")?;
        expect_code(ReviewStatus::parse("ignored").map_err(crate::Error::from), "validation", "bad status")?;
        expect_code(
            app.review_request(bob, crate::RequestId::new(), ReviewStatus::Accepted).await,
            "not_found",
            "unknown",
        )?;
        let accepted = app.review_request(bob, request.id, ReviewStatus::Accepted).await?;
        check(accepted.status == RequestStatus::Accepted && accepted.id == request.id, "accepted")?;
        expect_code(app.review_request(bob, request.id, ReviewStatus::Rejected).await, "conflict", "twice")?;
        let ignored = app.send_request(eve, bob, SendStatus::Ignored, None).await?;
        expect_code(app.review_request(bob, ignored.id, ReviewStatus::Accepted).await, "conflict", "ignored")?;
        check(app.connections(ada).await?.iter().map(|p| p.id).eq([bob]), "connected")
    }

    pub async fn request_lists_embed_the_other_party(store: Arc<dyn Store>) -> Result<()> {
        let app = service(store)?;
        let (ada, _) = user(&app, "Ada").await?;
        let (bob, _) = user(&app, "Bob").await?;
        let (eve, _) = user(&app, "Eve").await?;
        app.send_request(ada, bob, SendStatus::Interested, Some("hello")).await?;
        app.send_request(eve, bob, SendStatus::Ignored, None).await?;
        let r = app.send_request(ada, eve, SendStatus::Interested, None).await?;
        app.review_request(eve, r.id, ReviewStatus::Rejected).await?;
        let received = app.received_requests(bob).await?;
        check(received.len() == 1, "only pending interested")?;
        check(received[0].from_user_id.id == ada && received[0].from_user_id.first_name == "Ada", "sender profile")?;
        check(received[0].note.as_deref() == Some("hello"), "note")?;
        let json = serde_json::to_value(&received[0]).map_err(Error::internal)?;
        check(json["fromUserId"]["firstName"] == "Ada" && json["fromUserId"].get("emailID").is_none(), "json shape")?;
        let sent = app.sent_requests(ada).await?;
        check(sent.len() == 2 && sent.iter().all(|r| r.from_user_id == ada), "sent lists")?;
        check(sent.iter().any(|r| r.to_user_id.id == eve && r.status == RequestStatus::Rejected), "sent shows status")?;
        check(app.received_requests(ada).await?.is_empty(), "nothing received")
    }

    pub async fn connections_can_be_listed_and_removed(store: Arc<dyn Store>) -> Result<()> {
        let app = service(store)?;
        let (ada, _) = user(&app, "Ada").await?;
        let (bob, _) = user(&app, "Bob").await?;
        let (eve, _) = user(&app, "Eve").await?;
        connect(&app, ada, bob).await?;
        connect(&app, eve, ada).await?;
        let mut ids: Vec<UserId> = app.connections(ada).await?.iter().map(|p| p.id).collect();
        ids.sort();
        let mut expected = vec![bob, eve];
        expected.sort();
        check(ids == expected, "both directions")?;
        say(&app, ada, bob, "hi").await?;
        expect_code(app.remove_connection(bob, eve).await, "not_found", "not connected")?;
        app.remove_connection(bob, ada).await?;
        check(app.connections(ada).await?.iter().map(|p| p.id).eq([eve]), "removed")?;
        expect_code(say(&app, ada, bob, "still there?").await, "forbidden", "no chat after removal")?;
        check(app.history(bob, ada, None, None).await?.len() == 1, "history stays readable")?;
        app.send_request(bob, ada, SendStatus::Interested, None).await.map(drop)
    }

    pub async fn a_rejected_sender_may_ask_again_after_the_cool_down_and_no_one_else_sooner(
        store: Arc<dyn Store>,
    ) -> Result<()> {
        let clock = Arc::new(ManualClock::new());
        let settings = Settings {
            request_cooldown: Duration::from_secs(30 * 86_400),
            clock: clock.clone(),
            ..Settings::default()
        };
        let app = service_with(store, settings)?;
        let ((ada, _), (bob, _), (cy, _)) =
            (user(&app, "Ada").await?, user(&app, "Bob").await?, user(&app, "Cy").await?);
        let first = app.send_request(ada, bob, SendStatus::Interested, Some("first try")).await?;
        app.review_request(bob, first.id, ReviewStatus::Rejected).await?;
        app.send_request(cy, ada, SendStatus::Ignored, None).await?;
        // Counted on the service's clock (as the rejection's time is), to the millisecond,
        // however long the signups above took on the system's.
        clock.advance(Duration::from_secs(30 * 86_400) - Duration::from_millis(1));
        expect_code(
            app.send_request(ada, bob, SendStatus::Interested, None).await,
            "conflict",
            "within the cool-down",
        )?;
        clock.advance(Duration::from_millis(1));
        expect_code(
            app.send_request(bob, ada, SendStatus::Interested, None).await,
            "conflict",
            "the one who rejected",
        )?;
        expect_code(app.send_request(ada, cy, SendStatus::Interested, None).await, "conflict", "an ignored pair")?;
        // Two tabs asking at once: one request stands.
        let (a, b) = tokio::join!(
            app.send_request(ada, bob, SendStatus::Interested, Some("again")),
            app.send_request(ada, bob, SendStatus::Interested, Some("again")),
        );
        let again = match (a, b) {
            (Ok(again), Err(e)) | (Err(e), Ok(again)) if e.code() == "conflict" => again,
            (a, b) => return Err(Error::internal(format!("one renewal expected: {a:?} / {b:?}"))),
        };
        check(again.id != first.id && again.status == RequestStatus::Interested, "a new pending request")?;
        let received = app.received_requests(bob).await?;
        check(received.len() == 1 && received[0].id == again.id, "the receiver sees the new one")?;
        let sent = app.sent_requests(ada).await?;
        check(sent.len() == 2, "the sender's list keeps the rejected one")?;
        check(sent.iter().any(|r| r.id == first.id && r.status == RequestStatus::Rejected), "history kept")?;
        expect_code(app.send_request(ada, bob, SendStatus::Interested, None).await, "conflict", "pending again")?;
        app.review_request(bob, again.id, ReviewStatus::Accepted).await?;
        check(app.connections(ada).await?.iter().any(|p| p.id == bob), "connected at last")
    }
];
