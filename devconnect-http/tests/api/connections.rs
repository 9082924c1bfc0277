use devconnect_core::{RequestId, RequestStatus, ReviewStatus, SendStatus, UserId};
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{code_of, error_of, spawn_app, spawn_app_with_clock};

#[tokio::test]
async fn a_request_accepted_by_its_receiver_connects_both() {
    let app = spawn_app().await;
    let (a, a_me) = app.user("Ada").await;
    let (b, b_me) = app.user("Bob").await;
    let sent = a.send_request(SendStatus::Interested, b_me.profile.id, Some("  hi Bob  ")).await.unwrap();
    assert_eq!(sent.status, RequestStatus::Interested);
    assert_eq!(sent.note.as_deref(), Some("hi Bob"));

    let received = b.received_requests().await.unwrap();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].from_user_id, a_me.profile);
    let sent_list = a.sent_requests().await.unwrap();
    assert_eq!(sent_list[0].to_user_id, b_me.profile);
    assert!(a.received_requests().await.unwrap().is_empty());

    // The raw envelopes keep the original keys.
    let r = app.raw(Method::GET, "/user/requests/received", &b).send().await.unwrap();
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["success"], true);
    assert!(v["message"].is_string());
    assert!(v["requests"][0]["fromUserId"].get("emailID").is_none());

    let reviewed = b.review_request(sent.id, ReviewStatus::Accepted).await.unwrap();
    assert_eq!(reviewed.status, RequestStatus::Accepted);
    assert_eq!(a.connections().await.unwrap(), vec![b_me.profile.clone()]);
    assert_eq!(b.connections().await.unwrap(), vec![a_me.profile.clone()]);
    assert!(b.received_requests().await.unwrap().is_empty());

    b.remove_connection(a_me.profile.id).await.unwrap();
    assert!(a.connections().await.unwrap().is_empty());
    assert_eq!(code_of(b.remove_connection(a_me.profile.id).await), "not_found");
}

#[tokio::test]
async fn bad_requests_get_their_documented_errors() {
    let app = spawn_app().await;
    let (a, a_me) = app.user("Ada").await;
    let (b, b_me) = app.user("Bob").await;
    let (c, _) = app.user("Cy").await;
    let b_id = b_me.profile.id;

    assert_eq!(code_of(a.send_request(SendStatus::Interested, a_me.profile.id, None).await), "validation");
    assert_eq!(code_of(a.send_request(SendStatus::Interested, UserId::new(), None).await), "not_found");
    assert_eq!(code_of(a.send_request(SendStatus::Interested, b_id, Some(&"n".repeat(301))).await), "validation");
    for path in [
        format!("/request/send/accepted/{b_id}"),
        format!("/request/send/love/{b_id}"),
        "/request/send/interested/xyz".into(),
    ] {
        let r = app.raw(Method::POST, &path, &a).send().await.unwrap();
        assert_eq!(error_of(r).await, (400, "validation".to_owned()), "{path}");
    }
    let r = app.raw(Method::POST, &format!("/request/send/interested/{b_id}"), &a).json(&json!({"note": 5})).send();
    assert_eq!(error_of(r.await.unwrap()).await.0, 400);

    let request = a.send_request(SendStatus::Interested, b_id, None).await.unwrap();
    assert_eq!(code_of(a.send_request(SendStatus::Interested, b_id, None).await), "conflict");
    assert_eq!(code_of(b.send_request(SendStatus::Ignored, a_me.profile.id, None).await), "conflict");

    assert_eq!(code_of(a.review_request(request.id, ReviewStatus::Accepted).await), "forbidden");
    assert_eq!(code_of(c.review_request(request.id, ReviewStatus::Accepted).await), "not_found");
    assert_eq!(code_of(b.review_request(RequestId::new(), ReviewStatus::Accepted).await), "not_found");
    let r = app.raw(Method::POST, &format!("/request/review/interested/{}", request.id), &b).send().await.unwrap();
    assert_eq!(error_of(r).await, (400, "validation".to_owned()));
    b.review_request(request.id, ReviewStatus::Rejected).await.unwrap();
    assert_eq!(code_of(b.review_request(request.id, ReviewStatus::Accepted).await), "conflict");
    assert!(a.connections().await.unwrap().is_empty());

    let r = app.raw(Method::DELETE, "/user/deleteconnection/nope", &a).send().await.unwrap();
    assert_eq!(error_of(r).await, (400, "validation".to_owned()));
}

#[tokio::test]
async fn an_ignored_profile_is_not_a_pending_request() {
    let app = spawn_app().await;
    let (a, _) = app.user("Ada").await;
    let (b, b_me) = app.user("Bob").await;
    let ignored = a.send_request(SendStatus::Ignored, b_me.profile.id, None).await.unwrap();
    assert_eq!(ignored.status, RequestStatus::Ignored);
    assert!(b.received_requests().await.unwrap().is_empty());
    assert_eq!(code_of(b.review_request(ignored.id, ReviewStatus::Accepted).await), "conflict");
}

#[tokio::test]
async fn a_rejected_sender_may_ask_again_after_the_configured_cool_down() {
    let clock = std::sync::Arc::new(devconnect_core::ManualClock::new());
    let app = spawn_app_with_clock(clock.clone(), |c| {
        c.service.request_cooldown_days = 7;
        c.service.token_ttl_secs = 30 * 86_400; // the tokens outlive the wait
    })
    .await;
    let (a, _) = app.user("Ada").await;
    let (b, b_me) = app.user("Bob").await;
    let first = a.send_request(SendStatus::Interested, b_me.profile.id, None).await.unwrap();
    b.review_request(first.id, ReviewStatus::Rejected).await.unwrap();
    assert_eq!(code_of(a.send_request(SendStatus::Interested, b_me.profile.id, None).await), "conflict");
    clock.advance(std::time::Duration::from_secs(7 * 86_400 + 1));
    let again = a.send_request(SendStatus::Interested, b_me.profile.id, Some("a second try")).await.unwrap();
    assert_ne!(again.id, first.id);
    assert_eq!(b.received_requests().await.unwrap().len(), 1);
}
