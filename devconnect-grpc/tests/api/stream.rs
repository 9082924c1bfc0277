use std::time::Duration;

use devconnect_grpc::pb;
use devconnect_grpc::pb::event::Kind;
use tonic::Code;

use crate::helpers::{Options, end_of, next, spawn_app, spawn_with};

#[tokio::test]
async fn two_users_see_each_others_presence_messages_typing_and_reads() {
    let app = spawn_app().await;
    let (mut ada, mut bob) = app.connected_pair("Ada", "Bob").await;

    let mut bob_events = bob.client.subscribe(bob.req(pb::SubscribeRequest::default())).await.unwrap().into_inner();
    assert!(matches!(next(&mut bob_events).await, Kind::OnlineUsers(u) if u.user_ids == [bob.id.clone()]));
    let mut ada_events = ada.client.subscribe(ada.req(pb::SubscribeRequest::default())).await.unwrap().into_inner();
    match next(&mut ada_events).await {
        Kind::OnlineUsers(u) => assert_eq!(u.user_ids, [ada.id.clone(), bob.id.clone()]),
        other => panic!("{other:?}"),
    }
    assert_eq!(next(&mut bob_events).await, Kind::Presence(pb::Presence { user_id: ada.id.clone(), online: true }));
    let online = ada.client.list_online_connections(ada.req(pb::ListOnlineConnectionsRequest {})).await;
    assert_eq!(online.unwrap().into_inner().user_ids, [ada.id.clone(), bob.id.clone()]);

    let sent = ada.send(&bob.id, "hello Bob").await;
    assert_eq!(next(&mut bob_events).await, Kind::NewMessage(sent.clone()));
    assert_eq!(next(&mut ada_events).await, Kind::NewMessage(sent.clone()));

    let typing = pb::SendTypingRequest { to_user_id: bob.id.clone(), typing: true };
    ada.client.send_typing(ada.req(typing)).await.unwrap();
    assert_eq!(next(&mut bob_events).await, Kind::Typing(pb::Typing { user_id: ada.id.clone(), typing: true }));

    bob.client.mark_read(bob.req(pb::MarkReadRequest { user_id: ada.id.clone() })).await.unwrap();
    let read = pb::MessagesRead { user_id: bob.id.clone(), up_to: sent.id.clone() };
    assert_eq!(next(&mut ada_events).await, Kind::MessagesRead(read));

    drop(ada_events);
    assert_eq!(next(&mut bob_events).await, Kind::Presence(pb::Presence { user_id: ada.id.clone(), online: false }));
}

#[tokio::test]
async fn request_and_acceptance_events_carry_the_other_profile() {
    let app = spawn_app().await;
    let mut ada = app.user("Ada").await;
    let mut cy = app.user("Cy").await;
    let mut ada_events = ada.subscribe(None).await;
    let mut cy_events = cy.subscribe(None).await;
    let send = pb::SendRequestRequest {
        to_user_id: ada.id.clone(),
        status: pb::RequestStatus::Interested.into(),
        note: Some("let's pair".into()),
    };
    let sent = cy.client.send_request(cy.req(send)).await.unwrap().into_inner();
    match next(&mut ada_events).await {
        Kind::ConnectionRequest(r) => {
            assert_eq!(r.id, sent.id);
            assert_eq!(r.note.as_deref(), Some("let's pair"));
            assert_eq!(r.from_user.unwrap().first_name, "Cy");
        }
        other => panic!("{other:?}"),
    }
    let review = pb::ReviewRequestRequest { request_id: sent.id.clone(), status: pb::RequestStatus::Accepted.into() };
    ada.client.review_request(ada.req(review)).await.unwrap();
    let mut accepted = None;
    while accepted.is_none() {
        match next(&mut cy_events).await {
            Kind::ConnectionAccepted(r) => accepted = Some(r),
            Kind::Presence(_) => {}
            other => panic!("{other:?}"),
        }
    }
    let accepted = accepted.unwrap();
    assert_eq!(accepted.status, i32::from(pb::RequestStatus::Accepted));
    assert_eq!(accepted.to_user.unwrap().id, ada.id);
}

#[tokio::test]
async fn a_resubscribe_with_the_last_message_id_delivers_exactly_what_was_missed() {
    let app = spawn_app().await;
    let (mut ada, mut bob) = app.connected_pair("Ada", "Bob").await;
    let mut bob_events = bob.subscribe(None).await;
    let seen = ada.send(&bob.id, "seen").await;
    assert_eq!(next(&mut bob_events).await, Kind::NewMessage(seen.clone()));
    drop(bob_events);

    let mut missed = Vec::new();
    for i in 0..520 {
        missed.push(ada.send(&bob.id, &format!("missed {i}")).await.id);
    }
    let mut bob_events = bob.subscribe(Some(seen.id.clone())).await;
    for id in &missed {
        match next(&mut bob_events).await {
            Kind::NewMessage(m) => assert_eq!(&m.id, id),
            other => panic!("{other:?}"),
        }
    }
    let live = ada.send(&bob.id, "live").await;
    let mut after = Vec::new();
    loop {
        match next(&mut bob_events).await {
            Kind::NewMessage(m) => {
                let done = m.id == live.id;
                after.push(m.id);
                if done {
                    break;
                }
            }
            Kind::Presence(_) => {}
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(after, [live.id], "no duplicate of a caught-up message");
}

#[tokio::test]
async fn a_malformed_last_message_id_is_invalid() {
    let app = spawn_app().await;
    let mut ada = app.user("Ada").await;
    let request = ada.req(pb::SubscribeRequest { last_message_id: Some("nope".into()) });
    let status = ada.client.subscribe(request).await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
}

#[tokio::test]
async fn a_stream_ends_when_its_token_expires() {
    // The service's clock is moved, not waited for: the stream opens a second before
    // the token's `exp`.
    let clock = std::sync::Arc::new(devconnect_core::ManualClock::new());
    let app =
        spawn_with(Options { token_ttl: Duration::from_secs(3600), clock: clock.clone(), ..Options::default() }).await;
    let mut ada = app.user("Ada").await;
    clock.advance(Duration::from_secs(3600 - 1));
    let mut events = ada.subscribe(None).await;
    let end = end_of(&mut events).await;
    assert_eq!(end.code(), Code::Unauthenticated);
    assert!(end.message().starts_with("token_expired: "), "{end:?}");
    clock.advance(Duration::from_secs(2)); // past `exp`
    let refused = ada.client.subscribe(ada.req(pb::SubscribeRequest::default())).await;
    assert_eq!(refused.err().map(|s| s.code()), Some(Code::Unauthenticated), "the expired token was not refused");
}

#[tokio::test]
async fn a_subscriber_is_online_only_while_its_stream_is_open() {
    let app = spawn_app().await;
    let mut ada = app.user("Ada").await;
    let ada_id = devconnect_core::UserId::parse("id", &ada.id).unwrap();
    let events = ada.subscribe(None).await;
    assert!(app.app.is_online(ada_id));
    drop(events);
    tokio::time::timeout(crate::helpers::WAIT, async {
        while app.app.is_online(ada_id) {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("still online after the stream closed");
}

#[tokio::test]
async fn catch_up_while_messages_keep_coming_has_no_gap_and_no_duplicate() {
    let app = spawn_app().await;
    let (mut ada, mut bob) = app.connected_pair("Ada", "Bob").await;
    let seen = ada.send(&bob.id, "seen").await;
    for i in 0..100 {
        ada.send(&bob.id, &format!("before {i}")).await;
    }
    let bob_id = bob.id.clone();
    let sender = tokio::spawn(async move {
        let mut last = String::new();
        for i in 0..150 {
            last = ada.send(&bob_id, &format!("during {i}")).await.id;
        }
        last
    });
    let mut events = bob.subscribe(Some(seen.id.clone())).await;
    let last = sender.await.unwrap();
    let mut received = Vec::new();
    while received.last() != Some(&last) {
        match next(&mut events).await {
            Kind::NewMessage(m) => received.push(m.id),
            Kind::Presence(_) => {}
            other => panic!("{other:?}"),
        }
    }
    let sync = pb::SyncMessagesRequest { after: Some(seen.id), limit: Some(500) };
    let stored: Vec<String> = bob
        .client
        .sync_messages(bob.req(sync))
        .await
        .unwrap()
        .into_inner()
        .messages
        .into_iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(stored.len(), 250);
    assert_eq!(received, stored);
}
