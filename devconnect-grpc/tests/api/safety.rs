use devconnect_grpc::pb;
use devconnect_grpc::pb::report::Snapshot;
use tonic::Code;

use crate::helpers::{User, assert_error, spawn_app};

fn block(user: &str) -> pb::BlockUserRequest {
    pb::BlockUserRequest { user_id: user.to_owned() }
}

fn unblock(user: &str) -> pb::UnblockUserRequest {
    pb::UnblockUserRequest { user_id: user.to_owned() }
}

fn profile(user: &str) -> pb::GetProfileRequest {
    pb::GetProfileRequest { user_id: user.to_owned() }
}

fn report(kind: pb::ReportKind, target: &str, reason: pb::ReportReason) -> pb::FileReportRequest {
    pb::FileReportRequest {
        kind: kind.into(),
        target_id: target.to_owned(),
        reason: reason.into(),
        details: String::new(),
    }
}

async fn blocked_ids(user: &mut User) -> Vec<String> {
    let listed = user.client.list_blocked(user.req(pb::ListBlockedRequest {})).await.unwrap().into_inner().blocked;
    listed.into_iter().map(|b| b.user.unwrap().id).collect()
}

#[tokio::test]
async fn a_block_hides_the_blockers_profile_from_the_blocked_until_lifted() {
    let app = spawn_app().await;
    let mut ada = app.user("Ada").await;
    let mut bob = app.user("Bob").await;
    assert!(ada.client.block_user(ada.req(block(&bob.id))).await.unwrap().into_inner().created);
    assert!(!ada.client.block_user(ada.req(block(&bob.id))).await.unwrap().into_inner().created, "already");

    // Bob is told what he would be told of nobody; Ada still sees him.
    let hidden = bob.client.get_profile(bob.req(profile(&ada.id))).await;
    assert_error(hidden, Code::NotFound, "not_found");
    let seen = ada.client.get_profile(ada.req(profile(&bob.id))).await.unwrap().into_inner();
    assert_eq!(seen.id, bob.id);
    assert!(blocked_ids(&mut bob).await.is_empty(), "the blocked do not see the block");

    ada.client.unblock_user(ada.req(unblock(&bob.id))).await.unwrap();
    let shown = bob.client.get_profile(bob.req(profile(&ada.id))).await.unwrap().into_inner();
    assert_eq!(shown.first_name, "Ada");
    assert!(blocked_ids(&mut ada).await.is_empty());
    assert_error(ada.client.unblock_user(ada.req(unblock(&bob.id))).await, Code::NotFound, "not_found");
}

#[tokio::test]
async fn the_blocked_list_is_newest_first_with_profiles_and_times() {
    let app = spawn_app().await;
    let mut ada = app.user("Ada").await;
    let (bob, eve) = (app.user("Bob").await, app.user("Eve").await);
    ada.client.block_user(ada.req(block(&bob.id))).await.unwrap();
    ada.client.block_user(ada.req(block(&eve.id))).await.unwrap();
    let listed = ada.client.list_blocked(ada.req(pb::ListBlockedRequest {})).await.unwrap().into_inner().blocked;
    let names: Vec<&str> = listed.iter().map(|b| b.user.as_ref().unwrap().first_name.as_str()).collect();
    assert_eq!(names, ["Eve", "Bob"]);
    assert!(listed.iter().all(|b| b.blocked_at.is_some()));
    assert_eq!(blocked_ids(&mut ada).await, [eve.id.clone(), bob.id.clone()]);
}

#[tokio::test]
async fn blocking_oneself_an_unknown_user_or_a_malformed_id_is_refused() {
    let app = spawn_app().await;
    let mut ada = app.user("Ada").await;
    assert_error(ada.client.block_user(ada.req(block(&ada.id))).await, Code::InvalidArgument, "validation");
    assert_error(ada.client.block_user(ada.req(block(&"a".repeat(24)))).await, Code::NotFound, "not_found");
    assert_error(ada.client.block_user(ada.req(block("nope"))).await, Code::InvalidArgument, "validation");
    assert_error(ada.client.unblock_user(ada.req(unblock("nope"))).await, Code::InvalidArgument, "validation");
    assert_error(ada.client.block_user(block(&ada.id)).await, Code::Unauthenticated, "unauthorized");
}

#[tokio::test]
async fn a_report_of_a_message_keeps_its_text_and_a_second_open_one_already_exists() {
    let app = spawn_app().await;
    let (mut ada, mut bob) = app.connected_pair("Ada", "Bob").await;
    let message = bob.send(&ada.id, "buy my course").await;
    let mut new = report(pb::ReportKind::Message, &message.id, pb::ReportReason::Spam);
    new.details = " third time today ".to_owned();
    let filed = ada.client.file_report(ada.req(new)).await.unwrap().into_inner();
    assert_eq!((filed.kind, filed.reason), (pb::ReportKind::Message.into(), pb::ReportReason::Spam.into()));
    assert_eq!((filed.status, filed.details.as_str()), (pb::ReportStatus::Open.into(), "third time today"));
    assert_eq!((filed.reporter_id.as_str(), filed.target_id.as_str()), (ada.id.as_str(), message.id.as_str()));
    assert!(filed.created_at.is_some() && filed.resolution.is_none());
    match &filed.snapshot {
        Some(Snapshot::Message(m)) => {
            assert_eq!((m.id.as_str(), m.text.as_str()), (message.id.as_str(), "buy my course"));
        }
        other => panic!("expected the message, got {other:?}"),
    }

    let again = report(pb::ReportKind::Message, &message.id, pb::ReportReason::Harassment);
    assert_error(ada.client.file_report(ada.req(again)).await, Code::AlreadyExists, "conflict");

    let of_bob = report(pb::ReportKind::User, &bob.id, pb::ReportReason::Impersonation);
    let of_bob = ada.client.file_report(ada.req(of_bob)).await.unwrap().into_inner();
    match &of_bob.snapshot {
        Some(Snapshot::User(p)) => assert_eq!((p.id.as_str(), p.first_name.as_str()), (bob.id.as_str(), "Bob")),
        other => panic!("expected Bob's profile, got {other:?}"),
    }
    let mine = ada.client.list_my_reports(ada.req(pb::ListMyReportsRequest {})).await.unwrap().into_inner().reports;
    assert_eq!(mine, [of_bob, filed], "newest first");
    let none = bob.client.list_my_reports(bob.req(pb::ListMyReportsRequest {})).await.unwrap().into_inner();
    assert!(none.reports.is_empty());
}

#[tokio::test]
async fn reports_of_a_group_and_of_its_messages_snapshot_each_kind() {
    let app = spawn_app().await;
    let mut ada = app.user("Ada").await;
    let mut bob = app.user("Bob").await;
    let new = pb::CreateGroupRequest {
        name: "Deals".to_owned(),
        visibility: pb::Visibility::Public.into(),
        ..Default::default()
    };
    let group = bob.client.create_group(bob.req(new)).await.unwrap().into_inner();
    ada.client.join_group(ada.req(pb::JoinGroupRequest { group_id: group.id.clone() })).await.unwrap();
    let post = pb::SendGroupMessageRequest {
        group_id: group.id.clone(),
        text: "cheap watches".to_owned(),
        ..Default::default()
    };
    let posted = bob.client.send_group_message(bob.req(post)).await.unwrap().into_inner().message.unwrap();

    let of_message = report(pb::ReportKind::Message, &posted.id, pb::ReportReason::Spam);
    let filed = ada.client.file_report(ada.req(of_message)).await.unwrap().into_inner();
    assert_eq!(filed.snapshot, Some(Snapshot::GroupMessage(posted)));
    let of_group = report(pb::ReportKind::Group, &group.id, pb::ReportReason::InappropriateContent);
    let filed = ada.client.file_report(ada.req(of_group)).await.unwrap().into_inner();
    match filed.snapshot {
        Some(Snapshot::Group(g)) => assert_eq!((g.id, g.name), (group.id, "Deals".to_owned())),
        other => panic!("expected the group, got {other:?}"),
    }
}

#[tokio::test]
async fn report_kinds_reasons_and_targets_are_checked() {
    let app = spawn_app().await;
    let mut ada = app.user("Ada").await;
    let mut bob = app.user("Bob").await;
    for (kind, reason) in [
        (pb::ReportKind::Unspecified.into(), pb::ReportReason::Spam.into()),
        (42, pb::ReportReason::Spam.into()),
        (pb::ReportKind::User.into(), pb::ReportReason::Unspecified.into()),
        (pb::ReportKind::User.into(), 42),
    ] {
        let bad = pb::FileReportRequest { kind, target_id: bob.id.clone(), reason, details: String::new() };
        assert_error(ada.client.file_report(ada.req(bad)).await, Code::InvalidArgument, "validation");
    }
    let cases = [
        (report(pb::ReportKind::User, &ada.id, pb::ReportReason::Spam), Code::InvalidArgument, "validation"),
        (report(pb::ReportKind::User, "nope", pb::ReportReason::Spam), Code::InvalidArgument, "validation"),
        (report(pb::ReportKind::User, &"a".repeat(24), pb::ReportReason::Spam), Code::NotFound, "not_found"),
        (report(pb::ReportKind::Message, &"a".repeat(24), pb::ReportReason::Spam), Code::NotFound, "not_found"),
        (report(pb::ReportKind::Group, &"a".repeat(24), pb::ReportReason::Spam), Code::NotFound, "not_found"),
    ];
    for (bad, code, stable) in cases {
        assert_error(ada.client.file_report(ada.req(bad)).await, code, stable);
    }
    let mut long = report(pb::ReportKind::User, &bob.id, pb::ReportReason::Other);
    long.details = "x".repeat(1001);
    assert_error(ada.client.file_report(ada.req(long)).await, Code::InvalidArgument, "validation");

    // A user who blocked the caller cannot be reported: they are not there for them.
    bob.client.block_user(bob.req(block(&ada.id))).await.unwrap();
    let hidden = report(pb::ReportKind::User, &bob.id, pb::ReportReason::Spam);
    assert_error(ada.client.file_report(ada.req(hidden)).await, Code::NotFound, "not_found");
    let mine = ada.client.list_my_reports(ada.req(pb::ListMyReportsRequest {})).await.unwrap().into_inner();
    assert!(mine.reports.is_empty(), "nothing was filed");
}
