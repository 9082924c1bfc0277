use devconnect_grpc::pb;
use tonic::Code;

use crate::helpers::{User, assert_error, next, png, spawn_app};

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

fn edit(group: &str) -> pb::EditGroupRequest {
    pb::EditGroupRequest { group_id: group.to_owned(), ..Default::default() }
}

fn tags(tags: &[&str]) -> Option<pb::TagList> {
    Some(pb::TagList { tags: tags.iter().map(|t| (*t).to_owned()).collect() })
}

async fn private_group_of_three(app: &crate::helpers::TestApp) -> (User, User, User, pb::Group) {
    let (mut ada, bob) = app.connected_pair("Ada", "Bob").await;
    let mut cy = app.user("Cy").await;
    crate::helpers::connect(&mut ada, &mut cy).await;
    let new = pb::CreateGroupRequest {
        name: "Core team".to_owned(),
        description: "Compilers".to_owned(),
        visibility: pb::Visibility::Private.into(),
        tags: vec!["rust".to_owned()],
    };
    let group = ada.client.create_group(ada.req(new)).await.unwrap().into_inner();
    for user in [&bob, &cy] {
        ada.client.add_group_member(ada.req(member(&group.id, &user.id))).await.unwrap();
    }
    let group = ada.client.get_group(ada.req(pb::GetGroupRequest { group_id: group.id })).await.unwrap().into_inner();
    (ada, bob, cy, group)
}

#[tokio::test]
async fn the_owner_and_admins_edit_a_group_and_members_may_not() {
    let app = spawn_app().await;
    let (mut ada, mut bob, mut cy, group) = private_group_of_three(&app).await;
    let mut eve = app.user("Eve").await;

    let renamed = pb::EditGroupRequest {
        name: Some(" Rust team ".to_owned()),
        visibility: Some(pb::Visibility::Public.into()),
        tags: tags(&["Rust", "wasm"]),
        ..edit(&group.id)
    };
    let edited = ada.client.edit_group(ada.req(renamed)).await.unwrap().into_inner();
    assert_eq!((edited.name.as_str(), edited.visibility), ("Rust team", i32::from(pb::Visibility::Public)));
    assert_eq!(edited.tags, ["Rust", "wasm"]);
    assert_eq!((edited.description.as_str(), edited.photo_url.as_deref()), ("Compilers", None), "absent: unchanged");
    let get = pb::GetGroupRequest { group_id: group.id.clone() };
    assert_eq!(eve.client.get_group(eve.req(get.clone())).await.unwrap().into_inner(), edited, "now public");

    let photo = pb::EditGroupRequest { photo: Some(png()), ..edit(&group.id) };
    let first = ada.client.edit_group(ada.req(photo.clone())).await.unwrap().into_inner().photo_url.unwrap();
    assert!(first.starts_with("http://127.0.0.1:3000/media/"), "{first}");
    let second = ada.client.edit_group(ada.req(photo)).await.unwrap().into_inner().photo_url.unwrap();
    assert_ne!(first, second, "a new photo replaces the old one");

    // An admin may; VISIBILITY_UNSPECIFIED and an empty tag list are a change of nothing
    // and of every tag.
    let admin = pb::SetGroupRoleRequest {
        group_id: group.id.clone(),
        user_id: bob.id.clone(),
        role: pb::GroupRole::Admin.into(),
    };
    ada.client.set_group_role(ada.req(admin)).await.unwrap();
    let cleared = pb::EditGroupRequest {
        description: Some(String::new()),
        visibility: Some(pb::Visibility::Unspecified.into()),
        tags: tags(&[]),
        ..edit(&group.id)
    };
    let by_admin = bob.client.edit_group(bob.req(cleared)).await.unwrap().into_inner();
    assert_eq!((by_admin.description.as_str(), by_admin.tags.len()), ("", 0));
    assert_eq!((by_admin.visibility, by_admin.photo_url), (i32::from(pb::Visibility::Public), Some(second)));

    let by_member = pb::EditGroupRequest { name: Some("Mine now".to_owned()), ..edit(&group.id) };
    assert_error(cy.client.edit_group(cy.req(by_member.clone())).await, Code::PermissionDenied, "forbidden");
    assert_error(eve.client.edit_group(eve.req(by_member.clone())).await, Code::PermissionDenied, "forbidden");
    let private = pb::EditGroupRequest { visibility: Some(pb::Visibility::Private.into()), ..edit(&group.id) };
    ada.client.edit_group(ada.req(private)).await.unwrap();
    assert_error(eve.client.edit_group(eve.req(by_member.clone())).await, Code::NotFound, "not_found");
    let unknown = pb::EditGroupRequest { group_id: "f".repeat(24), ..by_member };
    assert_error(ada.client.edit_group(ada.req(unknown)).await, Code::NotFound, "not_found");
    assert_eq!(ada.client.get_group(ada.req(get)).await.unwrap().into_inner().name, "Rust team");
}

#[tokio::test]
async fn bad_group_edits_are_invalid_arguments_and_change_nothing() {
    let app = spawn_app().await;
    let (mut ada, _, _, group) = private_group_of_three(&app).await;
    let many: Vec<String> = (0..21).map(|i| format!("t{i}")).collect();
    for (bad, stable) in [
        (pb::EditGroupRequest { name: Some("   ".to_owned()), ..edit(&group.id) }, "validation"),
        (pb::EditGroupRequest { name: Some("x".repeat(101)), ..edit(&group.id) }, "validation"),
        (pb::EditGroupRequest { description: Some("x".repeat(1001)), ..edit(&group.id) }, "validation"),
        (pb::EditGroupRequest { tags: Some(pb::TagList { tags: many }), ..edit(&group.id) }, "validation"),
        (pb::EditGroupRequest { visibility: Some(7), ..edit(&group.id) }, "validation"),
        (pb::EditGroupRequest { group_id: "nope".to_owned(), ..edit(&group.id) }, "validation"),
        (
            pb::EditGroupRequest {
                name: Some("Renamed".to_owned()),
                photo: Some(b"GIF89a....".to_vec()),
                ..edit(&group.id)
            },
            "unsupported_media_type",
        ),
        (
            // Past the upload limit (3 MiB), within the gRPC message limit.
            pb::EditGroupRequest { photo: Some([png(), vec![0; 3 * 1024 * 1024]].concat()), ..edit(&group.id) },
            "payload_too_large",
        ),
    ] {
        assert_error(ada.client.edit_group(ada.req(bad)).await, Code::InvalidArgument, stable);
    }
    let get = pb::GetGroupRequest { group_id: group.id.clone() };
    assert_eq!(ada.client.get_group(ada.req(get)).await.unwrap().into_inner(), group);
    let anonymous = tonic::Request::new(edit(&group.id));
    assert_error(ada.client.edit_group(anonymous).await, Code::Unauthenticated, "unauthorized");
}

#[tokio::test]
async fn members_hear_of_a_group_edit_and_see_it_recorded() {
    let app = spawn_app().await;
    let (mut ada, _, mut cy, group) = private_group_of_three(&app).await;
    let mut events = cy.subscribe(None).await;
    let renamed = pb::EditGroupRequest { name: Some("Renamed".to_owned()), ..edit(&group.id) };
    let edited = ada.client.edit_group(ada.req(renamed)).await.unwrap().into_inner();
    match next(&mut events).await {
        pb::event::Kind::GroupUpdated(updated) => assert_eq!(updated, edited),
        other => panic!("expected group_updated, got {other:?}"),
    }
    assert_system_message(next(&mut events).await, &ada.id, pb::GroupChangeKind::Edited);
    let history = pb::GetGroupHistoryRequest { group_id: group.id, ..Default::default() };
    let last = cy.client.get_group_history(cy.req(history)).await.unwrap().into_inner().messages.pop().unwrap();
    assert_eq!((last.sender_id, last.change.map(|c| c.kind)), (ada.id, Some(pb::GroupChangeKind::Edited.into())));
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
