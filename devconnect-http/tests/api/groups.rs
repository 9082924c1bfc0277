//! Groups over REST, through the typed client: a community grows, changes hands, and
//! closes; the answers the original frontend's users would see.

use devconnect_core::{GroupRole, Visibility};

use crate::helpers::{code_of, spawn_app, spawn_app_with};

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
