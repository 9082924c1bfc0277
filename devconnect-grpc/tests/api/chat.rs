use devconnect_grpc::pb;
use tonic::Code;

use crate::helpers::{Options, assert_error, png, spawn_app, spawn_with};

fn text(to: &str, text: &str) -> pb::SendMessageRequest {
    pb::SendMessageRequest { to_user_id: to.to_owned(), text: text.to_owned(), ..Default::default() }
}

#[tokio::test]
async fn messages_go_only_to_connections_and_must_have_content() {
    let app = spawn_app().await;
    let (mut ada, bob) = app.connected_pair("Ada", "Bob").await;
    let stranger = app.user("Cy").await;
    assert_error(ada.client.send_message(ada.req(text(&stranger.id, "hi"))).await, Code::PermissionDenied, "forbidden");
    assert_error(ada.client.send_message(ada.req(text(&bob.id, "   "))).await, Code::InvalidArgument, "validation");
    assert_error(ada.client.send_message(ada.req(text("bad", "hi"))).await, Code::InvalidArgument, "validation");
    let sent = ada.client.send_message(ada.req(text(&bob.id, "hello"))).await.unwrap().into_inner();
    assert!(sent.created);
    let message = sent.message.unwrap();
    assert_eq!((message.sender_id.as_str(), message.receiver_id.as_str()), (ada.id.as_str(), bob.id.as_str()));
    assert_eq!(message.text, "hello");
    assert!(message.read_at.is_none());
}

#[tokio::test]
async fn a_resend_with_the_same_client_msg_id_returns_the_stored_message() {
    let app = spawn_app().await;
    let (mut ada, bob) = app.connected_pair("Ada", "Bob").await;
    let send = pb::SendMessageRequest { client_msg_id: Some("c-1".into()), ..text(&bob.id, "once") };
    let first = ada.client.send_message(ada.req(send.clone())).await.unwrap().into_inner();
    let again = ada.client.send_message(ada.req(send)).await.unwrap().into_inner();
    assert!(first.created && !again.created);
    assert_eq!(first.message.as_ref().unwrap().id, again.message.as_ref().unwrap().id);
    assert_eq!(again.message.unwrap().client_msg_id.as_deref(), Some("c-1"));
    let history = pb::GetHistoryRequest { user_id: bob.id.clone(), ..Default::default() };
    assert_eq!(ada.client.get_history(ada.req(history)).await.unwrap().into_inner().messages.len(), 1);
    let bad = pb::SendMessageRequest { client_msg_id: Some(String::new()), ..text(&bob.id, "x") };
    assert_error(ada.client.send_message(ada.req(bad)).await, Code::InvalidArgument, "validation");
}

#[tokio::test]
async fn an_image_message_carries_its_url() {
    let app = spawn_app().await;
    let (mut ada, bob) = app.connected_pair("Ada", "Bob").await;
    let send = pb::SendMessageRequest { image: Some(png()), ..text(&bob.id, "") };
    let message = ada.client.send_message(ada.req(send)).await.unwrap().into_inner().message.unwrap();
    assert!(message.image.unwrap().ends_with(".png"));
    let bad = pb::SendMessageRequest { image: Some(b"%PDF-1.4".to_vec()), ..text(&bob.id, "") };
    assert_error(ada.client.send_message(ada.req(bad)).await, Code::InvalidArgument, "unsupported_media_type");
}

#[tokio::test]
async fn history_pages_backwards_with_a_cursor_and_sync_pages_forwards() {
    let app = spawn_app().await;
    let (mut ada, mut bob) = app.connected_pair("Ada", "Bob").await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(ada.send(&bob.id, &format!("m{i}")).await.id);
    }
    let newest = pb::GetHistoryRequest { user_id: bob.id.clone(), before: None, limit: Some(2) };
    let page = ada.client.get_history(ada.req(newest)).await.unwrap().into_inner().messages;
    assert_eq!(page.iter().map(|m| m.text.as_str()).collect::<Vec<_>>(), ["m3", "m4"]);
    let older = pb::GetHistoryRequest { user_id: bob.id.clone(), before: Some(page[0].id.clone()), limit: Some(2) };
    let page = ada.client.get_history(ada.req(older)).await.unwrap().into_inner().messages;
    assert_eq!(page.iter().map(|m| m.text.as_str()).collect::<Vec<_>>(), ["m1", "m2"]);
    let bad = pb::GetHistoryRequest { user_id: bob.id.clone(), before: Some("zz".into()), limit: None };
    assert_error(ada.client.get_history(ada.req(bad)).await, Code::InvalidArgument, "validation");

    let sync = pb::SyncMessagesRequest { after: Some(ids[1].clone()), limit: Some(2) };
    let page = bob.client.sync_messages(bob.req(sync)).await.unwrap().into_inner();
    assert_eq!(page.messages.iter().map(|m| m.id.clone()).collect::<Vec<_>>(), ids[2..4]);
    assert!(page.has_more);
    let all = bob.client.sync_messages(bob.req(pb::SyncMessagesRequest::default())).await.unwrap().into_inner();
    assert_eq!((all.messages.len(), all.has_more), (5, false));
}

#[tokio::test]
async fn chat_partners_show_unread_counts_until_marked_read() {
    let app = spawn_app().await;
    let (mut ada, mut bob) = app.connected_pair("Ada", "Bob").await;
    ada.send(&bob.id, "one").await;
    let last = ada.send(&bob.id, "two").await;
    let partners = bob.client.list_chat_partners(bob.req(pb::ListChatPartnersRequest {})).await;
    let partners = partners.unwrap().into_inner().partners;
    assert_eq!(partners.len(), 1);
    assert_eq!(partners[0].profile.as_ref().unwrap().id, ada.id);
    assert_eq!(partners[0].unread_count, 2);
    assert_eq!(partners[0].last_message.as_ref().unwrap().text, "two");
    assert!(!partners[0].online);

    let read = bob.client.mark_read(bob.req(pb::MarkReadRequest { user_id: ada.id.clone() })).await;
    assert_eq!(read.unwrap().into_inner().up_to, Some(last.id));
    let again = bob.client.mark_read(bob.req(pb::MarkReadRequest { user_id: ada.id.clone() })).await;
    assert_eq!(again.unwrap().into_inner().up_to, None);
    let partners = bob.client.list_chat_partners(bob.req(pb::ListChatPartnersRequest {})).await;
    assert_eq!(partners.unwrap().into_inner().partners[0].unread_count, 0);
    let own = bob.client.mark_read(bob.req(pb::MarkReadRequest { user_id: bob.id.clone() })).await;
    assert_error(own, Code::InvalidArgument, "validation");
}

#[tokio::test]
async fn typing_is_only_for_connections() {
    let app = spawn_app().await;
    let (mut ada, bob) = app.connected_pair("Ada", "Bob").await;
    let stranger = app.user("Cy").await;
    let typing = |to: &str| pb::SendTypingRequest { to_user_id: to.to_owned(), typing: true };
    ada.client.send_typing(ada.req(typing(&bob.id))).await.unwrap();
    assert_error(ada.client.send_typing(ada.req(typing(&stranger.id))).await, Code::PermissionDenied, "forbidden");
}

#[tokio::test]
async fn senders_over_the_message_rate_are_resource_exhausted() {
    let app = spawn_with(Options { message_rate: 2, ..Options::default() }).await;
    let (mut ada, bob) = app.connected_pair("Ada", "Bob").await;
    ada.send(&bob.id, "1").await;
    ada.send(&bob.id, "2").await;
    assert_error(ada.client.send_message(ada.req(text(&bob.id, "3"))).await, Code::ResourceExhausted, "rate_limited");
}
