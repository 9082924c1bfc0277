use devconnect_core::{AnyMessage, MessageId};
use reqwest::Method;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

use crate::helpers::{code_of, error_of, png, spawn_app};

#[tokio::test]
async fn connections_exchange_messages_and_read_history_in_order() {
    let app = spawn_app().await;
    let ((a, a_me), (b, b_me)) = app.connected_pair().await;
    let (a_id, b_id) = (a_me.profile.id, b_me.profile.id);
    let first = a.send_message(b_id, "hello", None).await.unwrap();
    assert!(first.created);
    assert_eq!((first.message.sender_id, first.message.receiver_id), (a_id, b_id));
    let second = b.send_message(a_id, "hi back", None).await.unwrap().message;
    let third = a.send_message(b_id, "how are you?", None).await.unwrap().message;

    let history = b.history(a_id, None, None).await.unwrap();
    let texts: Vec<_> = history.iter().map(|m| m.text.as_str()).collect();
    assert_eq!(texts, ["hello", "hi back", "how are you?"]);
    assert_eq!(a.history(b_id, None, None).await.unwrap(), history);
    let older = b.history(a_id, Some(third.id), Some(1)).await.unwrap();
    assert_eq!(older.iter().map(|m| m.id).collect::<Vec<_>>(), vec![second.id]);

    // The raw forms: a bare array and a bare message.
    let r = app.raw(Method::GET, &format!("/message/{a_id}?limit=2"), &b).send().await.unwrap();
    let v: Value = r.json().await.unwrap();
    assert_eq!(v.as_array().map(Vec::len), Some(2));
    assert!(v[0]["clientMsgId"].is_null() && v[0]["readAt"].is_null() && v[0]["image"].is_null());
}

#[tokio::test]
async fn a_repeated_client_msg_id_returns_the_stored_message_with_200() {
    let app = spawn_app().await;
    let ((a, _), (_, b_me)) = app.connected_pair().await;
    let first = a.send_message(b_me.profile.id, "once", Some("key-1")).await.unwrap();
    let again = a.send_message(b_me.profile.id, "once", Some("key-1")).await.unwrap();
    assert!(first.created && !again.created);
    assert_eq!(first.message.id, again.message.id);
    assert_eq!(first.message.client_msg_id.as_deref(), Some("key-1"));
    let r = app
        .raw(Method::POST, &format!("/message/{}", b_me.profile.id), &a)
        .json(&json!({"text": "once", "clientMsgId": "key-1"}));
    assert_eq!(r.send().await.unwrap().status(), 200);
    assert_eq!(a.history(b_me.profile.id, None, None).await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_storm_of_16_concurrent_sends_with_one_client_msg_id_stores_one_message() {
    let app = spawn_app().await;
    let ((a, _), (b, b_me)) = app.connected_pair().await;
    let b_id = b_me.profile.id;
    // Each request on its own client (own connection pool), all released at once.
    let start = std::sync::Arc::new(tokio::sync::Barrier::new(16));
    let sends: Vec<_> = (0..16)
        .map(|_| {
            let (client, start) = (app.client_with(&a.token().unwrap()), start.clone());
            tokio::spawn(async move {
                start.wait().await;
                client.send_message(b_id, "storm", Some("storm-1")).await.unwrap()
            })
        })
        .collect();
    let mut answers = Vec::new();
    for send in sends {
        answers.push(send.await.unwrap());
    }
    assert_eq!(answers.iter().filter(|s| s.created).count(), 1, "exactly one send stored it (201)");
    let stored = &answers[0].message;
    assert!(answers.iter().all(|s| s.message == *stored), "every answer is the one stored message");
    assert_eq!(stored.client_msg_id.as_deref(), Some("storm-1"));
    assert_eq!(a.history(b_id, None, None).await.unwrap(), vec![stored.clone()]);
    let synced = b.sync(None, None).await.unwrap();
    assert_eq!(synced.messages, vec![stored.clone().into()]);
}

#[tokio::test]
async fn messages_go_only_to_connections() {
    let app = spawn_app().await;
    let (a, a_me) = app.user("Ada").await;
    let (_, b_me) = app.user("Bob").await;
    assert_eq!(code_of(a.send_message(b_me.profile.id, "hi stranger", None).await), "forbidden");
    assert_eq!(code_of(a.send_message(a_me.profile.id, "me", None).await), "validation");
    let ((c, _), (_, d_me)) = app.connected_pair().await;
    let d = d_me.profile.id;
    assert_eq!(code_of(c.send_message(d, "   ", None).await), "validation");
    assert_eq!(code_of(c.send_message(d, &"x".repeat(5001), None).await), "validation");
    assert_eq!(code_of(c.send_message(d, "hi", Some("")).await), "validation");
    for body in [json!({}), json!({"text": 5}), json!({"text": "hi", "extra": true})] {
        let r = app.raw(Method::POST, &format!("/message/{d}"), &c).json(&body).send().await.unwrap();
        assert_eq!(error_of(r).await, (400, "validation".to_owned()), "{body}");
    }
    let r = app.raw(Method::POST, "/message/not-an-id", &c).json(&json!({"text": "x"})).send().await.unwrap();
    assert_eq!(error_of(r).await, (400, "validation".to_owned()));
}

#[tokio::test]
async fn sync_returns_everything_after_a_message_and_is_not_a_user_id() {
    let app = spawn_app().await;
    let ((a, _), (b, b_me)) = app.connected_pair().await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(a.send_message(b_me.profile.id, &format!("m{i}"), None).await.unwrap().message.id);
    }
    let all = b.sync(None, None).await.unwrap();
    assert_eq!(all.messages.iter().map(AnyMessage::id).collect::<Vec<_>>(), ids);
    assert!(!all.has_more);
    let page = b.sync(Some(ids[1]), Some(2)).await.unwrap();
    assert_eq!(page.messages.iter().map(AnyMessage::id).collect::<Vec<_>>(), ids[2..4].to_vec());
    assert!(page.has_more);
    assert_eq!(code_of(b.sync(Some(MessageId::new()), None).await), "not_found");
    let r = app.raw(Method::GET, "/message/sync?after=garbage", &b).send().await.unwrap();
    assert_eq!(error_of(r).await, (400, "validation".to_owned()));
}

#[tokio::test]
async fn chat_partners_show_the_last_message_and_unread_count_until_read() {
    let app = spawn_app().await;
    let ((a, a_me), (b, b_me)) = app.connected_pair().await;
    a.send_message(b_me.profile.id, "one", None).await.unwrap();
    let last = a.send_message(b_me.profile.id, "two", None).await.unwrap().message;
    let partners = b.chat_partners().await.unwrap();
    assert_eq!(partners.len(), 1);
    assert_eq!(partners[0].profile.id, a_me.profile.id);
    assert_eq!(partners[0].unread_count, 2);
    assert_eq!(partners[0].last_message.as_ref().map(|m| m.id), Some(last.id));
    assert!(!partners[0].online);
    assert_eq!(b.mark_read(a_me.profile.id).await.unwrap(), Some(last.id));
    assert_eq!(b.chat_partners().await.unwrap()[0].unread_count, 0);
    assert!(b.history(a_me.profile.id, None, None).await.unwrap().iter().all(|m| m.read_at.is_some()));
    assert_eq!(code_of(b.mark_read(b_me.profile.id).await), "validation");
}

#[tokio::test]
async fn an_image_message_is_sent_as_a_multipart_form() {
    let app = spawn_app().await;
    let ((a, _), (b, b_me)) = app.connected_pair().await;
    let sent = a.send_image(b_me.profile.id, "", (png(10, 10), "x.png".into()), Some("img-1")).await.unwrap();
    let url = sent.message.image.clone().unwrap();
    assert_eq!(b.media(&url).await.unwrap().1.as_deref(), Some("image/png"));
    let form =
        Form::new().text("text", "caption").part("image", Part::bytes(b"not an image".to_vec()).file_name("x.png"));
    let r = app.raw(Method::POST, &format!("/message/{}", b_me.profile.id), &a).multipart(form).send().await.unwrap();
    assert_eq!(error_of(r).await, (415, "unsupported_media_type".to_owned()));
}

#[tokio::test]
async fn a_conversation_stays_readable_after_the_connection_is_removed_but_closed_to_new_messages() {
    let app = spawn_app().await;
    let ((a, a_me), (b, b_me)) = app.connected_pair().await;
    a.send_message(b_me.profile.id, "before", None).await.unwrap();
    b.remove_connection(a_me.profile.id).await.unwrap();
    assert_eq!(b.history(a_me.profile.id, None, None).await.unwrap().len(), 1);
    assert_eq!(code_of(a.send_message(b_me.profile.id, "after", None).await), "forbidden");
    // A third user sees nothing of it.
    let (c, _) = app.user("Cy").await;
    assert!(c.history(a_me.profile.id, None, None).await.unwrap().is_empty());
    assert!(c.sync(None, None).await.unwrap().messages.is_empty());
}

#[tokio::test]
async fn message_sends_over_the_per_user_rate_are_429_with_retry_after() {
    let app = crate::helpers::spawn_app_with(|c| c.service.message_rate = 2).await;
    let ((a, _), (b, b_me)) = app.connected_pair().await;
    let to = b_me.profile.id;
    a.send_message(to, "1", None).await.unwrap();
    a.send_message(to, "2", None).await.unwrap();
    let err = a.send_message(to, "3", None).await.err().unwrap();
    assert_eq!(err.code(), "rate_limited");
    assert!(matches!(err, devconnect_client::ClientError::Api { status: 429, retry_after: Some(_), .. }));
    // Another user is not affected.
    let (_, a_id) = (b.me().await.unwrap(), a.me().await.unwrap().profile.id);
    b.send_message(a_id, "fine", None).await.unwrap();
}
