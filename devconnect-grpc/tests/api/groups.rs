use devconnect_grpc::pb;
use tonic::Code;

use crate::helpers::{User, assert_error, next, spawn_app};

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

fn discover(q: &str, tags: &[&str], page: u32, limit: u32) -> pb::DiscoverGroupsRequest {
    pb::DiscoverGroupsRequest {
        q: Some(q.to_owned()),
        tags: tags.iter().map(|t| (*t).to_owned()).collect(),
        page: Some(page),
        limit: Some(limit),
    }
}

fn names(page: &pb::DiscoverGroupsResponse) -> Vec<&str> {
    page.groups.iter().map(|g| g.name.as_str()).collect()
}

async fn find(user: &mut User, request: pb::DiscoverGroupsRequest) -> pb::DiscoverGroupsResponse {
    user.client.discover_groups(user.req(request)).await.unwrap().into_inner()
}

#[tokio::test]
async fn public_groups_are_discovered_by_name_words_prefix_and_tags_most_active_first() {
    let app = spawn_app().await;
    let mut ada = app.user("Ada").await;
    let mut bob = app.user("Bob").await;
    let mut ids = Vec::new();
    for (name, tags, visibility) in [
        ("Rust Berlin", &["Rust", "meetup"][..], pb::Visibility::Public),
        ("Rust Paris", &["rust"][..], pb::Visibility::Public),
        ("Go Berlin", &["go"][..], pb::Visibility::Public),
        ("Secret Rust", &["rust"][..], pb::Visibility::Private),
    ] {
        let new = pb::CreateGroupRequest {
            name: name.to_owned(),
            description: String::new(),
            visibility: visibility.into(),
            tags: tags.iter().map(|t| (*t).to_owned()).collect(),
        };
        ids.push(ada.client.create_group(ada.req(new)).await.unwrap().into_inner().id);
    }
    let hello =
        pb::SendGroupMessageRequest { group_id: ids[1].clone(), text: "hello".to_owned(), ..Default::default() };
    ada.client.send_group_message(ada.req(hello)).await.unwrap();

    let all = find(&mut bob, pb::DiscoverGroupsRequest::default()).await;
    assert_eq!(names(&all), ["Rust Paris", "Go Berlin", "Rust Berlin"], "public only, latest message first");
    assert_eq!((all.page, all.limit, all.has_more), (1, 10, false));
    assert_eq!(names(&find(&mut bob, discover("RUST", &[], 1, 10)).await), ["Rust Paris", "Rust Berlin"]);
    let typed = find(&mut bob, discover("ber", &[], 1, 10)).await;
    assert_eq!(names(&typed), ["Go Berlin", "Rust Berlin"], "the last word as a prefix");
    assert_eq!(names(&find(&mut bob, discover("rust ber", &[], 1, 10)).await), ["Rust Berlin"]);
    let inner = find(&mut bob, discover("ru berlin", &[], 1, 10)).await;
    assert!(inner.groups.is_empty(), "only the last word is a prefix");
    let tagged = find(&mut bob, discover("", &["RUST ", "Meetup"], 1, 10)).await;
    assert_eq!(names(&tagged), ["Rust Berlin"], "every tag, any case");

    let first = find(&mut bob, discover("", &[], 1, 2)).await;
    let second = find(&mut bob, discover("", &[], 2, 2)).await;
    assert_eq!((names(&first), first.has_more), (vec!["Rust Paris", "Go Berlin"], true));
    assert_eq!((names(&second), second.page, second.limit, second.has_more), (vec!["Rust Berlin"], 2, 2, false));
}

#[tokio::test]
async fn bad_discovery_queries_are_invalid_arguments() {
    let app = spawn_app().await;
    let mut ada = app.user("Ada").await;
    let many_tags: Vec<String> = (0..21).map(|i| format!("t{i}")).collect();
    let long = "x".repeat(101);
    for bad in [
        discover(&long, &[], 1, 10),
        discover("a b c d e f", &[], 1, 10),
        discover("", &[], 0, 10),
        discover("", &[], 10_001, 10),
        discover("", &[], 1, 0),
        pb::DiscoverGroupsRequest { tags: many_tags, ..Default::default() },
    ] {
        assert_error(ada.client.discover_groups(ada.req(bad)).await, Code::InvalidArgument, "validation");
    }
    let anonymous = tonic::Request::new(pb::DiscoverGroupsRequest::default());
    assert_error(ada.client.discover_groups(anonymous).await, Code::Unauthenticated, "unauthorized");
}
