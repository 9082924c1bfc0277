use devconnect_grpc::pb;
use tonic::Code;

use crate::helpers::{assert_error, connect, spawn_app};

fn interested(to: &str, note: Option<&str>) -> pb::SendRequestRequest {
    pb::SendRequestRequest {
        to_user_id: to.to_owned(),
        status: pb::RequestStatus::Interested.into(),
        note: note.map(str::to_owned),
    }
}

#[tokio::test]
async fn a_request_shows_in_both_lists_and_accepting_connects_the_two() {
    let app = spawn_app().await;
    let mut ada = app.user("Ada").await;
    let mut bob = app.user("Bob").await;
    let sent = ada.client.send_request(ada.req(interested(&bob.id, Some(" hi Bob ")))).await.unwrap().into_inner();
    assert_eq!(sent.status, i32::from(pb::RequestStatus::Interested));
    assert_eq!(sent.note.as_deref(), Some("hi Bob"));

    let received = bob.client.list_received_requests(bob.req(pb::ListReceivedRequestsRequest {})).await;
    let received = received.unwrap().into_inner().requests;
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].from_user.as_ref().unwrap().first_name, "Ada");
    let outgoing = ada.client.list_sent_requests(ada.req(pb::ListSentRequestsRequest {})).await;
    let outgoing = outgoing.unwrap().into_inner().requests;
    assert_eq!(outgoing[0].to_user.as_ref().unwrap().id, bob.id);

    let review = pb::ReviewRequestRequest { request_id: sent.id.clone(), status: pb::RequestStatus::Accepted.into() };
    let reviewed = bob.client.review_request(bob.req(review.clone())).await.unwrap().into_inner();
    assert_eq!(reviewed.status, i32::from(pb::RequestStatus::Accepted));
    assert_error(bob.client.review_request(bob.req(review)).await, Code::AlreadyExists, "conflict");

    let connections = ada.client.list_connections(ada.req(pb::ListConnectionsRequest {})).await;
    let ids: Vec<String> = connections.unwrap().into_inner().connections.into_iter().map(|p| p.id).collect();
    assert_eq!(ids, [bob.id.clone()]);
}

#[tokio::test]
async fn request_errors_map_to_their_codes() {
    let app = spawn_app().await;
    let mut ada = app.user("Ada").await;
    let mut bob = app.user("Bob").await;
    assert_error(
        ada.client.send_request(ada.req(interested(&ada.id, None))).await,
        Code::InvalidArgument,
        "validation",
    );
    let nobody = "b".repeat(24);
    assert_error(ada.client.send_request(ada.req(interested(&nobody, None))).await, Code::NotFound, "not_found");
    let accepted = pb::SendRequestRequest { status: pb::RequestStatus::Accepted.into(), ..interested(&bob.id, None) };
    assert_error(ada.client.send_request(ada.req(accepted)).await, Code::InvalidArgument, "validation");
    let unspecified = pb::SendRequestRequest { status: 0, ..interested(&bob.id, None) };
    assert_error(ada.client.send_request(ada.req(unspecified)).await, Code::InvalidArgument, "validation");

    let sent = ada.client.send_request(ada.req(interested(&bob.id, None))).await.unwrap().into_inner();
    assert_error(ada.client.send_request(ada.req(interested(&bob.id, None))).await, Code::AlreadyExists, "conflict");
    assert_error(bob.client.send_request(bob.req(interested(&ada.id, None))).await, Code::AlreadyExists, "conflict");

    let review = pb::ReviewRequestRequest { request_id: sent.id.clone(), status: pb::RequestStatus::Accepted.into() };
    assert_error(ada.client.review_request(ada.req(review)).await, Code::PermissionDenied, "forbidden");
    let bad_status = pb::ReviewRequestRequest { request_id: sent.id, status: pb::RequestStatus::Ignored.into() };
    assert_error(bob.client.review_request(bob.req(bad_status)).await, Code::InvalidArgument, "validation");
    let unknown = pb::ReviewRequestRequest { request_id: "c".repeat(24), status: pb::RequestStatus::Accepted.into() };
    assert_error(bob.client.review_request(bob.req(unknown)).await, Code::NotFound, "not_found");
    let malformed = pb::ReviewRequestRequest { request_id: "nope".into(), status: pb::RequestStatus::Accepted.into() };
    assert_error(bob.client.review_request(bob.req(malformed)).await, Code::InvalidArgument, "validation");
}

#[tokio::test]
async fn removing_a_connection_works_once() {
    let app = spawn_app().await;
    let (mut ada, bob) = app.connected_pair("Ada", "Bob").await;
    let remove = pb::RemoveConnectionRequest { user_id: bob.id.clone() };
    ada.client.remove_connection(ada.req(remove.clone())).await.unwrap();
    assert_error(ada.client.remove_connection(ada.req(remove)).await, Code::NotFound, "not_found");
    let connections = ada.client.list_connections(ada.req(pb::ListConnectionsRequest {})).await;
    assert!(connections.unwrap().into_inner().connections.is_empty());
}

#[tokio::test]
async fn the_feed_pages_without_overlap_filters_by_skill_and_hides_connections() {
    let app = spawn_app().await;
    let mut ada = app.user("Ada").await;
    for name in ["Bob", "Cy", "Di"] {
        app.user(name).await;
    }
    let mut eve = app.user("Eve").await;
    let edit =
        pb::EditProfileRequest { skills: Some(pb::SkillList { skills: vec!["Haskell".into()] }), ..Default::default() };
    eve.client.edit_profile(eve.req(edit)).await.unwrap();

    let page = |page| pb::GetFeedRequest { page: Some(page), limit: Some(2), skills: vec![] };
    let first = ada.client.get_feed(ada.req(page(1))).await.unwrap().into_inner();
    let second = ada.client.get_feed(ada.req(page(2))).await.unwrap().into_inner();
    assert_eq!((first.profiles.len(), first.has_more, first.page, first.limit), (2, true, 1, 2));
    assert_eq!((second.profiles.len(), second.has_more), (2, false));
    let mut ids: Vec<String> = first.profiles.iter().chain(&second.profiles).map(|p| p.id.clone()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 4);
    assert!(!ids.contains(&ada.id));

    let haskell = pb::GetFeedRequest { skills: vec!["haskell".into()], ..Default::default() };
    let filtered = ada.client.get_feed(ada.req(haskell.clone())).await.unwrap().into_inner();
    assert_eq!(filtered.profiles.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(), [eve.id.as_str()]);
    connect(&mut ada, &mut eve).await;
    let filtered = ada.client.get_feed(ada.req(haskell)).await.unwrap().into_inner();
    assert!(filtered.profiles.is_empty());

    let zero = pb::GetFeedRequest { page: Some(0), ..Default::default() };
    assert_error(ada.client.get_feed(ada.req(zero)).await, Code::InvalidArgument, "validation");
}
