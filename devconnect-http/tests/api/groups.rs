//! Groups over REST, through the typed client: a community grows, changes hands, and
//! closes; the answers the original frontend's users would see.

use devconnect_client::realtime::{self, ServerEvent};
use devconnect_core::{AnyMessage, Conversation, GroupChange, GroupId, GroupRole, Visibility};
use reqwest::Method;
use serde_json::json;

use crate::helpers::{code_of, error_of, next_matching, png, spawn_app, spawn_app_with};

#[tokio::test]
async fn a_private_group_grows_by_connections_and_changes_hands() {
    let app = spawn_app().await;
    let ((ada, ada_me), (bob, bob_me)) = app.connected_pair().await;
    let (cy, cy_me) = app.user("Cy").await;
    let tags = ["Rust".to_owned()];
    let group = ada.create_group("  Core team ", "", Visibility::Private, &tags).await.unwrap();
    assert_eq!((group.name.as_str(), group.member_count), ("Core team", 1));
    assert_eq!(code_of(bob.group(group.id).await), "not_found", "a private group is hidden");
    assert_eq!(code_of(ada.add_group_member(group.id, cy_me.profile.id).await), "forbidden", "not a connection");
    ada.add_group_member(group.id, bob_me.profile.id).await.unwrap();
    assert_eq!(bob.group(group.id).await.unwrap().member_count, 2);
    let mine = bob.my_groups().await.unwrap();
    assert_eq!((mine[0].group.id, mine[0].role), (group.id, GroupRole::Member));
    assert_eq!(code_of(cy.join_group(group.id).await), "not_found", "nobody joins a private group");

    ada.transfer_group(group.id, bob_me.profile.id).await.unwrap();
    let roles: Vec<_> = bob.group_members(group.id).await.unwrap().iter().map(|m| m.role).collect();
    assert_eq!(roles, [GroupRole::Admin, GroupRole::Owner]);
    assert_eq!(code_of(bob.remove_group_member(group.id, bob_me.profile.id).await), "validation");
    bob.remove_group_member(group.id, ada_me.profile.id).await.unwrap();
    bob.leave_group(group.id).await.unwrap();
    assert_eq!(code_of(bob.group(group.id).await), "not_found", "no longer a member of a private group");
}

#[tokio::test]
async fn a_full_public_group_refuses_the_next_member_with_a_stable_code() {
    let app = spawn_app_with(|c| c.service.group_member_cap = 2).await;
    let (ada, _) = app.user("Ada").await;
    let group = ada.create_group("Open source", "All welcome", Visibility::Public, &[]).await.unwrap();
    let (bob, bob_me) = app.user("Bob").await;
    assert_eq!(bob.group(group.id).await.unwrap().name, "Open source", "public: anyone sees it");
    let joined = bob.join_group(group.id).await.unwrap();
    assert_eq!((joined.user_id, joined.role), (bob_me.profile.id, GroupRole::Member));
    assert_eq!(code_of(bob.join_group(group.id).await), "conflict");
    assert_eq!(code_of(bob.set_group_role(group.id, bob_me.profile.id, GroupRole::Admin).await), "forbidden");
    let promoted = ada.set_group_role(group.id, bob_me.profile.id, GroupRole::Admin).await.unwrap();
    assert_eq!(promoted.role, GroupRole::Admin);
    let (cy, _) = app.user("Cy").await;
    let full = cy.join_group(group.id).await.unwrap_err();
    assert_eq!((full.code(), full.status()), ("limit_exceeded", Some(409)), "{full:?}");
    bob.leave_group(group.id).await.unwrap();
    cy.join_group(group.id).await.unwrap();
}

#[tokio::test]
async fn members_talk_in_a_group_over_rest_and_sockets_and_catch_up_after_a_reconnect() {
    let app = spawn_app().await;
    let ((ada, _), (bob, bob_me)) = app.connected_pair().await;
    let group = ada.create_group("Rustaceans", "", Visibility::Private, &[]).await.unwrap();
    ada.add_group_member(group.id, bob_me.profile.id).await.unwrap();
    let mut bob_socket = realtime::connect(&app.url, &bob.token().unwrap(), None).await.unwrap();
    let mut ada_socket = realtime::connect(&app.url, &ada.token().unwrap(), None).await.unwrap();

    let sent = ada.send_group_message(group.id, "hello group", Some("g-1")).await.unwrap();
    assert!(sent.created);
    assert_eq!((sent.message.group_id, sent.message.text.as_str()), (group.id, "hello group"));
    let again = ada.send_group_message(group.id, "hello group", Some("g-1")).await.unwrap();
    assert!(!again.created, "a resend is answered with the stored message");
    assert_eq!(again.message, sent.message);
    let got = next_matching(&mut bob_socket, |e| matches!(e, ServerEvent::GroupMessage(m) if m.change.is_none())).await;
    assert_eq!(got, ServerEvent::GroupMessage(sent.message.clone()));

    // Over the socket, with an acknowledgement; the other side types and reads.
    let over_socket = bob_socket.emitter().send_group_message(group.id, "hi from the socket", None).await.unwrap();
    ada_socket.emitter().group_typing(group.id, true).await.unwrap();
    let typing = next_matching(&mut bob_socket, |e| matches!(e, ServerEvent::GroupTyping { .. })).await;
    assert!(matches!(typing, ServerEvent::GroupTyping { group_id, typing: true, .. } if group_id == group.id));
    assert_eq!(ada.mark_group_read(group.id, over_socket.id).await.unwrap(), Some(over_socket.id));
    assert_eq!(ada.mark_group_read(group.id, sent.message.id).await.unwrap(), None, "never back");
    let read = next_matching(&mut bob_socket, |e| matches!(e, ServerEvent::GroupRead { .. })).await;
    assert!(matches!(read, ServerEvent::GroupRead { up_to, .. } if up_to == over_socket.id));

    let history = bob.group_history(group.id, None, None).await.unwrap();
    let texts: Vec<_> = history.iter().map(|m| m.text.as_str()).collect();
    assert_eq!(texts, ["", "hello group", "hi from the socket"], "from Bob's addition on");
    assert_eq!(history[0].change, Some(GroupChange::Added { user_id: bob_me.profile.id }));

    // Bob is away while Ada writes; reconnecting after what he saw replays it as groupMessage.
    bob_socket.close().await;
    let missed = ada.send_group_message(group.id, "while you were away", None).await.unwrap().message;
    let mut bob_socket = realtime::connect(&app.url, &bob.token().unwrap(), Some(over_socket.id)).await.unwrap();
    let replayed = next_matching(&mut bob_socket, |e| matches!(e, ServerEvent::GroupMessage(_))).await;
    assert_eq!(replayed, ServerEvent::GroupMessage(missed.clone()));
    let listed = bob.conversations().await.unwrap();
    let Some(Conversation::Group(latest)) = listed.first() else { panic!("the group first: {listed:?}") };
    assert_eq!((latest.last_message.as_ref(), latest.unread_count), (Some(&missed), 2), "Ada's two since Bob's read");
    let synced = bob.sync(Some(over_socket.id), None).await.unwrap();
    assert_eq!(synced.messages, vec![AnyMessage::Group(missed)]);

    // Membership changes reach the client as typed events.
    ada.set_group_role(group.id, bob_me.profile.id, GroupRole::Admin).await.unwrap();
    let updated = next_matching(&mut bob_socket, |e| matches!(e, ServerEvent::GroupUpdated(_))).await;
    assert!(matches!(updated, ServerEvent::GroupUpdated(g) if g.id == group.id));
    bob.leave_group(group.id).await.unwrap();
    let removed = next_matching(&mut bob_socket, |e| matches!(e, ServerEvent::GroupMemberRemoved { .. })).await;
    assert_eq!(removed, ServerEvent::GroupMemberRemoved { group_id: group.id, user_id: bob_me.profile.id });
    let gone = next_matching(&mut ada_socket, |e| matches!(e, ServerEvent::GroupMemberRemoved { .. })).await;
    assert_eq!(gone, removed);
}

#[tokio::test]
async fn group_messages_refuse_outsiders_and_bad_input_with_stable_codes() {
    let app = spawn_app().await;
    let (ada, _) = app.user("Ada").await;
    let (cy, _) = app.user("Cy").await;
    let public = ada.create_group("Open", "", Visibility::Public, &[]).await.unwrap();
    let private = ada.create_group("Closed", "", Visibility::Private, &[]).await.unwrap();
    let first = ada.send_group_message(public.id, "members only", None).await.unwrap().message;
    assert_eq!(code_of(cy.send_group_message(public.id, "hi", None).await), "forbidden");
    assert_eq!(code_of(cy.group_history(public.id, None, None).await), "forbidden");
    assert_eq!(code_of(cy.send_group_message(private.id, "hi", None).await), "not_found", "private: hidden");
    assert_eq!(code_of(ada.send_group_message(GroupId::new(), "hi", None).await), "not_found");
    assert_eq!(code_of(ada.send_group_message(public.id, "   ", None).await), "validation");
    assert_eq!(code_of(ada.mark_group_read(private.id, first.id).await), "validation", "another group's message");
    let cases = [
        (Method::GET, format!("/groups/{}/messages?before=nope", public.id), None, 400),
        (Method::GET, format!("/groups/{}/messages?limit=0", public.id), None, 400),
        (Method::GET, "/groups/nope/messages".to_owned(), None, 400),
        (Method::POST, format!("/groups/{}/read", public.id), Some(json!({})), 400),
        (Method::POST, format!("/groups/{}/read", public.id), Some(json!({"messageId": "x"})), 400),
        (Method::POST, format!("/groups/{}/read", public.id), Some(json!({"messageId": first.id, "more": 1})), 400),
        (Method::POST, format!("/groups/{}/messages", public.id), Some(json!({"text": "x".repeat(5001)})), 400),
    ];
    for (method, path, body, status) in cases {
        let mut request = app.raw(method.clone(), &path, &ada);
        if let Some(body) = body {
            request = request.json(&body);
        }
        assert_eq!(error_of(request.send().await.unwrap()).await.0, status, "{method} {path}");
    }
    // An image goes to a group like to a person (multipart).
    let form = reqwest::multipart::Form::new()
        .text("text", "look")
        .part("image", reqwest::multipart::Part::bytes(png(8, 8)).file_name("a.png"));
    let sent = app.raw(Method::POST, &format!("/groups/{}/messages", public.id), &ada).multipart(form);
    let body: serde_json::Value = sent.send().await.unwrap().json().await.unwrap();
    let image = body["data"]["image"].as_str().unwrap();
    assert!(image.starts_with(&app.url), "an absolute media URL: {image}");
}
