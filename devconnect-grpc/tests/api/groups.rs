use devconnect_grpc::pb;
use tonic::Code;

use crate::helpers::{assert_error, next, spawn_app};

fn member(group: &str, user: &str) -> pb::GroupMemberRequest {
    pb::GroupMemberRequest { group_id: group.to_owned(), user_id: user.to_owned() }
}

#[tokio::test]
async fn a_private_group_grows_by_connections_and_changes_hands() {
    let app = spawn_app().await;
    let (mut ada, mut bob) = app.connected_pair("Ada", "Bob").await;
    let mut cy = app.user("Cy").await;
    let new = pb::CreateGroupRequest {
        name: " Core team ".to_owned(),
        description: String::new(),
        visibility: pb::Visibility::Unspecified.into(),
        tags: vec!["Rust".to_owned()],
    };
    let group = ada.client.create_group(ada.req(new)).await.unwrap().into_inner();
    assert_eq!((group.name.as_str(), group.visibility, group.member_count), ("Core team", 1, 1));
    let get = pb::GetGroupRequest { group_id: group.id.clone() };
    assert_error(bob.client.get_group(bob.req(get.clone())).await, Code::NotFound, "not_found");
    assert_error(
        ada.client.add_group_member(ada.req(member(&group.id, &cy.id))).await,
        Code::PermissionDenied,
        "forbidden",
    );
    let added = ada.client.add_group_member(ada.req(member(&group.id, &bob.id))).await.unwrap().into_inner();
    assert_eq!(added.role, i32::from(pb::GroupRole::Member));
    let mine = bob.client.list_my_groups(bob.req(pb::ListMyGroupsRequest {})).await.unwrap().into_inner().groups;
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].group.as_ref().map(|g| g.id.as_str()), Some(group.id.as_str()));
    let as_owner = pb::SetGroupRoleRequest {
        group_id: group.id.clone(),
        user_id: bob.id.clone(),
        role: pb::GroupRole::Owner.into(),
    };
    assert_error(ada.client.set_group_role(ada.req(as_owner)).await, Code::InvalidArgument, "validation");
    ada.client.transfer_group(ada.req(member(&group.id, &bob.id))).await.unwrap();
    let members = pb::ListGroupMembersRequest { group_id: group.id.clone() };
    let members = bob.client.list_group_members(bob.req(members)).await.unwrap().into_inner().members;
    let roles: Vec<i32> = members.iter().map(|m| m.role).collect();
    assert_eq!(roles, [i32::from(pb::GroupRole::Admin), i32::from(pb::GroupRole::Owner)]);
    bob.client.remove_group_member(bob.req(member(&group.id, &ada.id))).await.unwrap();
    assert_error(
        cy.client.join_group(cy.req(pb::JoinGroupRequest { group_id: group.id.clone() })).await,
        Code::NotFound,
        "not_found",
    );
    bob.client.leave_group(bob.req(pb::LeaveGroupRequest { group_id: group.id.clone() })).await.unwrap();
    assert_error(ada.client.get_group(ada.req(get)).await, Code::NotFound, "not_found");
    let bad = pb::GetGroupRequest { group_id: "nope".to_owned() };
    assert_error(ada.client.get_group(ada.req(bad)).await, Code::InvalidArgument, "validation");
}

#[tokio::test]
async fn subscribers_hear_of_group_membership_changes() {
    let app = spawn_app().await;
    let mut ada = app.user("Ada").await;
    let mut bob = app.user("Bob").await;
    let new = pb::CreateGroupRequest {
        name: "Live".to_owned(),
        description: String::new(),
        visibility: pb::Visibility::Public.into(),
        tags: Vec::new(),
    };
    let group = ada.client.create_group(ada.req(new)).await.unwrap().into_inner();
    let mut events = ada.subscribe(None).await;
    bob.client.join_group(bob.req(pb::JoinGroupRequest { group_id: group.id.clone() })).await.unwrap();
    match next(&mut events).await {
        pb::event::Kind::GroupMemberAdded(added) => {
            assert_eq!(added.group_id, group.id);
            assert_eq!(added.member.map(|m| m.user_id), Some(bob.id.clone()));
        }
        other => panic!("expected group_member_added, got {other:?}"),
    }
    assert_system_message(next(&mut events).await, &bob.id, pb::GroupChangeKind::Joined);
    bob.client.leave_group(bob.req(pb::LeaveGroupRequest { group_id: group.id.clone() })).await.unwrap();
    match next(&mut events).await {
        pb::event::Kind::GroupMemberRemoved(removed) => {
            assert_eq!((removed.group_id, removed.user_id), (group.id, bob.id.clone()));
        }
        other => panic!("expected group_member_removed, got {other:?}"),
    }
    assert_system_message(next(&mut events).await, &bob.id, pb::GroupChangeKind::Left);
}

/// Each membership event is followed by the system message recording it in the history.
#[track_caller]
fn assert_system_message(event: pb::event::Kind, sender: &str, kind: pb::GroupChangeKind) {
    match event {
        pb::event::Kind::GroupMessage(m) => {
            assert_eq!(m.sender_id, sender);
            assert_eq!(m.change.map(|c| c.kind), Some(kind.into()));
        }
        other => panic!("expected group_message, got {other:?}"),
    }
}
