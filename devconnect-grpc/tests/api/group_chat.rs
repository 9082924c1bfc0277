use devconnect_grpc::pb;
use devconnect_grpc::pb::event::Kind;
use tonic::Code;

use crate::helpers::{TestApp, User, assert_error, next, png, spawn_app};

async fn create_group(owner: &mut User, name: &str, visibility: pb::Visibility) -> pb::Group {
    let new = pb::CreateGroupRequest {
        name: name.to_owned(),
        description: String::new(),
        visibility: visibility.into(),
        tags: Vec::new(),
    };
    owner.client.create_group(owner.req(new)).await.unwrap().into_inner()
}

/// Ada's public group, which Bob joined.
async fn public_group_of_two(app: &TestApp) -> (User, User, pb::Group) {
    let mut ada = app.user("Ada").await;
    let mut bob = app.user("Bob").await;
    let group = create_group(&mut ada, "Rustaceans", pb::Visibility::Public).await;
    bob.client.join_group(bob.req(pb::JoinGroupRequest { group_id: group.id.clone() })).await.unwrap();
    (ada, bob, group)
}

fn text(group: &str, text: &str) -> pb::SendGroupMessageRequest {
    pb::SendGroupMessageRequest { group_id: group.to_owned(), text: text.to_owned(), ..Default::default() }
}

fn history(group: &str) -> pb::GetGroupHistoryRequest {
    pb::GetGroupHistoryRequest { group_id: group.to_owned(), ..Default::default() }
}

async fn post(user: &mut User, group: &str, body: &str) -> pb::GroupMessage {
    user.client.send_group_message(user.req(text(group, body))).await.unwrap().into_inner().message.unwrap()
}

async fn history_of(user: &mut User, group: &str) -> Vec<pb::GroupMessage> {
    user.client.get_group_history(user.req(history(group))).await.unwrap().into_inner().messages
}

fn change(kind: pb::GroupChangeKind, user_id: Option<&str>, role: pb::GroupRole) -> Option<pb::GroupChange> {
    Some(pb::GroupChange { kind: kind.into(), user_id: user_id.map(str::to_owned), role: role.into() })
}

#[tokio::test]
async fn members_read_a_group_from_when_they_joined_with_system_messages() {
    let app = spawn_app().await;
    let (mut ada, mut bob, group) = public_group_of_two(&app).await;
    let sent = ada.client.send_group_message(ada.req(text(&group.id, "welcome Bob"))).await.unwrap().into_inner();
    assert!(sent.created);
    let hello = sent.message.unwrap();
    assert_eq!((hello.group_id.as_str(), hello.sender_id.as_str()), (group.id.as_str(), ada.id.as_str()));
    assert_eq!((hello.text.as_str(), hello.change.as_ref()), ("welcome Bob", None));
    let reply = post(&mut bob, &group.id, "thanks").await;

    let seen_by_bob = history_of(&mut bob, &group.id).await;
    let joined = &seen_by_bob[0];
    assert_eq!(joined.change, change(pb::GroupChangeKind::Joined, None, pb::GroupRole::Unspecified));
    assert_eq!((joined.sender_id.as_str(), joined.text.as_str()), (bob.id.as_str(), ""));
    assert_eq!(seen_by_bob[1..], [hello.clone(), reply.clone()]);

    let seen_by_ada = history_of(&mut ada, &group.id).await;
    assert_eq!(seen_by_ada[0].change, change(pb::GroupChangeKind::Created, None, pb::GroupRole::Unspecified));
    assert_eq!(seen_by_ada[1..], seen_by_bob);

    let older = pb::GetGroupHistoryRequest { before: Some(reply.id.clone()), limit: Some(1), ..history(&group.id) };
    let page = bob.client.get_group_history(bob.req(older)).await.unwrap().into_inner().messages;
    assert_eq!(page, [hello]);
}

#[tokio::test]
async fn a_resend_with_the_same_client_msg_id_stores_one_group_message() {
    let app = spawn_app().await;
    let (mut ada, _bob, group) = public_group_of_two(&app).await;
    let send = pb::SendGroupMessageRequest { client_msg_id: Some("g-1".into()), ..text(&group.id, "once") };
    let first = ada.client.send_group_message(ada.req(send.clone())).await.unwrap().into_inner();
    let again = ada.client.send_group_message(ada.req(send)).await.unwrap().into_inner();
    assert!(first.created && !again.created);
    assert_eq!(first.message, again.message);
    assert_eq!(again.message.unwrap().client_msg_id.as_deref(), Some("g-1"));
    let texts: Vec<String> = history_of(&mut ada, &group.id).await.into_iter().map(|m| m.text).collect();
    assert_eq!(texts, ["", "", "once"]);

    let image = pb::SendGroupMessageRequest { image: Some(png()), ..text(&group.id, "") };
    let message = ada.client.send_group_message(ada.req(image)).await.unwrap().into_inner().message.unwrap();
    assert!(message.image.unwrap().ends_with(".png"));
}

#[tokio::test]
async fn a_removed_member_keeps_what_they_saw_but_can_no_longer_write() {
    let app = spawn_app().await;
    let (mut ada, mut bob) = app.connected_pair("Ada", "Bob").await;
    let group = create_group(&mut ada, "Core", pb::Visibility::Private).await;
    let member = pb::GroupMemberRequest { group_id: group.id.clone(), user_id: bob.id.clone() };
    ada.client.add_group_member(ada.req(member.clone())).await.unwrap();
    let before = post(&mut ada, &group.id, "while Bob is here").await;
    ada.client.remove_group_member(ada.req(member)).await.unwrap();
    post(&mut ada, &group.id, "after Bob left").await;

    // Bob's window ends at his removal: the removal's own system message is after it.
    let seen = history_of(&mut bob, &group.id).await;
    let added = change(pb::GroupChangeKind::Added, Some(&bob.id), pb::GroupRole::Unspecified);
    assert_eq!(seen.iter().map(|m| m.change.clone()).collect::<Vec<_>>(), [added, None]);
    assert_eq!(seen[1], before);
    let removed = change(pb::GroupChangeKind::Removed, Some(&bob.id), pb::GroupRole::Unspecified);
    assert!(history_of(&mut ada, &group.id).await.iter().any(|m| m.change == removed && m.sender_id == ada.id));
    assert_error(
        bob.client.send_group_message(bob.req(text(&group.id, "still here?"))).await,
        Code::PermissionDenied,
        "forbidden",
    );
    let typing = pb::SendGroupTypingRequest { group_id: group.id.clone(), typing: true };
    assert_error(bob.client.send_group_typing(bob.req(typing)).await, Code::PermissionDenied, "forbidden");
}

#[tokio::test]
async fn outsiders_and_malformed_input_get_the_mapped_status() {
    let app = spawn_app().await;
    let (mut ada, _bob, public) = public_group_of_two(&app).await;
    let private = create_group(&mut ada, "Secret", pb::Visibility::Private).await;
    let mut eve = app.user("Eve").await;
    let unknown = "f".repeat(24);

    for group in [&unknown, &private.id] {
        assert_error(eve.client.send_group_message(eve.req(text(group, "hi"))).await, Code::NotFound, "not_found");
        assert_error(eve.client.get_group_history(eve.req(history(group))).await, Code::NotFound, "not_found");
    }
    assert_error(
        eve.client.send_group_message(eve.req(text(&public.id, "hi"))).await,
        Code::PermissionDenied,
        "forbidden",
    );
    assert_error(eve.client.get_group_history(eve.req(history(&public.id))).await, Code::PermissionDenied, "forbidden");
    let typing = pb::SendGroupTypingRequest { group_id: public.id.clone(), typing: true };
    assert_error(eve.client.send_group_typing(eve.req(typing)).await, Code::PermissionDenied, "forbidden");
    let last = history_of(&mut ada, &public.id).await.pop().unwrap();
    let read = pb::MarkGroupReadRequest { group_id: public.id.clone(), up_to: last.id.clone() };
    assert_error(eve.client.mark_group_read(eve.req(read)).await, Code::PermissionDenied, "forbidden");

    assert_error(ada.client.send_group_message(ada.req(text("nope", "hi"))).await, Code::InvalidArgument, "validation");
    assert_error(
        ada.client.send_group_message(ada.req(text(&public.id, "  "))).await,
        Code::InvalidArgument,
        "validation",
    );
    let bad_cursor = pb::GetGroupHistoryRequest { before: Some("zz".into()), ..history(&public.id) };
    assert_error(ada.client.get_group_history(ada.req(bad_cursor)).await, Code::InvalidArgument, "validation");
    for up_to in ["zz".to_owned(), unknown.clone()] {
        let read = pb::MarkGroupReadRequest { group_id: public.id.clone(), up_to };
        assert_error(ada.client.mark_group_read(ada.req(read)).await, Code::InvalidArgument, "validation");
    }
    let no_limit = pb::GetGroupHistoryRequest { limit: Some(0), ..history(&public.id) };
    assert_error(ada.client.get_group_history(ada.req(no_limit)).await, Code::InvalidArgument, "validation");
}

#[tokio::test]
async fn members_get_group_messages_typing_and_reads_as_events() {
    let app = spawn_app().await;
    let (mut ada, mut bob, group) = public_group_of_two(&app).await;
    let mut ada_events = ada.subscribe(None).await;
    let mut bob_events = bob.subscribe(None).await;

    let sent = post(&mut ada, &group.id, "hello group").await;
    assert_eq!(next(&mut ada_events).await, Kind::GroupMessage(sent.clone()));
    assert_eq!(next(&mut bob_events).await, Kind::GroupMessage(sent.clone()));

    let typing = pb::SendGroupTypingRequest { group_id: group.id.clone(), typing: true };
    bob.client.send_group_typing(bob.req(typing)).await.unwrap();
    let expected = pb::GroupTyping { group_id: group.id.clone(), user_id: bob.id.clone(), typing: true };
    assert_eq!(next(&mut ada_events).await, Kind::GroupTyping(expected));

    let read = pb::MarkGroupReadRequest { group_id: group.id.clone(), up_to: sent.id.clone() };
    assert!(bob.client.mark_group_read(bob.req(read.clone())).await.unwrap().into_inner().moved);
    let expected = pb::GroupRead { group_id: group.id.clone(), user_id: bob.id.clone(), up_to: sent.id.clone() };
    assert_eq!(next(&mut ada_events).await, Kind::GroupRead(expected));
    assert!(!bob.client.mark_group_read(bob.req(read)).await.unwrap().into_inner().moved);

    // Bob is not told of his own typing or read: his next event is the next message.
    let last = post(&mut ada, &group.id, "bye").await;
    assert_eq!(next(&mut bob_events).await, Kind::GroupMessage(last));
}

#[tokio::test]
async fn sync_pages_carry_group_messages_beside_direct_ones_with_one_cursor() {
    let app = spawn_app().await;
    let (mut ada, mut bob) = app.connected_pair("Ada", "Bob").await;
    let group = create_group(&mut ada, "Core", pb::Visibility::Private).await;
    let member = pb::GroupMemberRequest { group_id: group.id.clone(), user_id: bob.id.clone() };
    ada.client.add_group_member(ada.req(member)).await.unwrap();
    let start = history_of(&mut bob, &group.id).await.pop().unwrap().id;
    let direct = ada.send(&bob.id, "direct").await;
    let first = post(&mut ada, &group.id, "group 1").await;
    let second = post(&mut ada, &group.id, "group 2").await;

    let page = pb::SyncMessagesRequest { after: Some(start), limit: Some(2) };
    let page = bob.client.sync_messages(bob.req(page)).await.unwrap().into_inner();
    assert_eq!((page.messages, page.group_messages), (vec![direct], vec![first.clone()]));
    assert_eq!((page.last_message_id.as_deref(), page.has_more), (Some(first.id.as_str()), true));

    // A page of group messages only still has its cursor.
    let rest = pb::SyncMessagesRequest { after: page.last_message_id, limit: Some(2) };
    let rest = bob.client.sync_messages(bob.req(rest)).await.unwrap().into_inner();
    assert!(rest.messages.is_empty() && !rest.has_more);
    assert_eq!((rest.group_messages, rest.last_message_id), (vec![second.clone()], Some(second.id.clone())));

    let empty = pb::SyncMessagesRequest { after: Some(second.id), limit: None };
    let empty = bob.client.sync_messages(bob.req(empty)).await.unwrap().into_inner();
    assert_eq!((empty.group_messages.len(), empty.last_message_id), (0, None));
}

#[tokio::test]
async fn a_resubscribe_catches_up_on_missed_group_messages_in_order() {
    let app = spawn_app().await;
    let (mut ada, mut bob, group) = public_group_of_two(&app).await;
    let seen = post(&mut ada, &group.id, "seen").await;
    let direct = {
        let mut cy = app.user("Cy").await;
        crate::helpers::connect(&mut cy, &mut bob).await;
        cy.send(&bob.id, "direct while away").await
    };
    let missed = post(&mut ada, &group.id, "missed").await;

    let mut events = bob.subscribe(Some(seen.id)).await;
    assert_eq!(next(&mut events).await, Kind::NewMessage(direct));
    assert_eq!(next(&mut events).await, Kind::GroupMessage(missed));
    let live = post(&mut ada, &group.id, "live").await;
    assert_eq!(next(&mut events).await, Kind::GroupMessage(live));
}

/// A conversation's name, last text and unread count, to compare lists at a glance.
fn shape(list: &[pb::Conversation]) -> Vec<(String, Option<String>, u64)> {
    use pb::conversation::Kind;
    list.iter()
        .map(|c| match c.kind.as_ref().expect("a conversation has a kind") {
            Kind::Direct(d) => (
                d.user.as_ref().unwrap().first_name.clone(),
                d.last_message.as_ref().map(|m| m.text.clone()),
                d.unread_count,
            ),
            Kind::Group(g) => (
                g.group.as_ref().unwrap().name.clone(),
                g.last_message.as_ref().map(|m| m.text.clone()),
                g.unread_count,
            ),
        })
        .collect()
}

async fn conversations_of(user: &mut User) -> Vec<pb::Conversation> {
    user.client.list_conversations(user.req(pb::ListConversationsRequest {})).await.unwrap().into_inner().conversations
}

fn entry(name: &str, last: Option<&str>, unread: u64) -> (String, Option<String>, u64) {
    (name.to_owned(), last.map(str::to_owned), unread)
}

#[tokio::test]
async fn conversations_list_groups_and_people_by_their_latest_message_with_unread_counts() {
    let app = spawn_app().await;
    let (mut ada, mut bob) = app.connected_pair("Ada", "Bob").await;
    let mut cy = app.user("Cy").await;
    crate::helpers::connect(&mut ada, &mut cy).await;
    let group = create_group(&mut ada, "Rustaceans", pb::Visibility::Public).await;
    bob.client.join_group(bob.req(pb::JoinGroupRequest { group_id: group.id.clone() })).await.unwrap();
    ada.send(&bob.id, "one").await;
    bob.send(&ada.id, "hi Ada").await;
    let two = post(&mut bob, &group.id, "two").await;
    post(&mut bob, &group.id, "three").await;
    post(&mut ada, &group.id, "mine").await;

    // Bob's join is a system message and "mine" is Ada's own: neither is unread.
    let list = conversations_of(&mut ada).await;
    let expected = [entry("Rustaceans", Some("mine"), 2), entry("Bob", Some("hi Ada"), 1), entry("Cy", None, 0)];
    assert_eq!(shape(&list), expected);
    match &list[0].kind {
        Some(pb::conversation::Kind::Group(g)) => {
            let last = g.last_message.as_ref().unwrap();
            assert_eq!(
                (g.group.as_ref().unwrap().id.as_str(), last.sender_id.as_str()),
                (group.id.as_str(), ada.id.as_str())
            );
        }
        other => panic!("expected the group first, got {other:?}"),
    }

    let read = pb::MarkGroupReadRequest { group_id: group.id.clone(), up_to: two.id };
    ada.client.mark_group_read(ada.req(read)).await.unwrap();
    ada.client.mark_read(ada.req(pb::MarkReadRequest { user_id: bob.id.clone() })).await.unwrap();
    let expected = [entry("Rustaceans", Some("mine"), 1), entry("Bob", Some("hi Ada"), 0), entry("Cy", None, 0)];
    assert_eq!(shape(&conversations_of(&mut ada).await), expected);

    // Bob's side: Ada's group message and her first 1:1 message are unread for him.
    let expected = [entry("Rustaceans", Some("mine"), 1), entry("Ada", Some("hi Ada"), 1)];
    assert_eq!(shape(&conversations_of(&mut bob).await), expected);

    let anonymous = tonic::Request::new(pb::ListConversationsRequest {});
    assert_error(ada.client.list_conversations(anonymous).await, Code::Unauthenticated, "unauthorized");
}
