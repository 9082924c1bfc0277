use devconnect_grpc::pb;
use tonic::Code;

use crate::helpers::{TestApp, User, assert_error, connect, spawn_app};

fn search(q: &str) -> pb::SearchUsersRequest {
    pb::SearchUsersRequest { q: Some(q.to_owned()), ..Default::default() }
}

async fn found(user: &mut User, request: pb::SearchUsersRequest) -> pb::SearchUsersResponse {
    user.client.search_users(user.req(request)).await.unwrap().into_inner()
}

/// The results as (first name, relation).
fn names(page: &pb::SearchUsersResponse) -> Vec<(String, pb::Relation)> {
    page.results.iter().map(|r| (r.profile.clone().unwrap().first_name, r.relation())).collect()
}

/// A user with the searchable fields set by an edit, as a client sets them.
async fn dev(app: &TestApp, name: &str, skills: &[&str], location: &str, years: i32) -> User {
    let mut user = app.user(name).await;
    let edit = pb::EditProfileRequest {
        skills: Some(pb::SkillList { skills: skills.iter().map(|s| (*s).to_owned()).collect() }),
        location: Some(location.to_owned()),
        experience_years: Some(years),
        ..Default::default()
    };
    user.client.edit_profile(user.req(edit)).await.unwrap();
    user
}

#[tokio::test]
async fn search_matches_names_skills_and_filters_and_says_how_each_result_relates() {
    let app = spawn_app().await;
    let mut ada = app.user("Ada").await;
    let mut bob = dev(&app, "Bob", &["Rust", "Go"], "Berlin, Germany", 8).await;
    let mut cara = dev(&app, "Cara", &["Go"], "Paris", 2).await;
    let _dan = dev(&app, "Dan", &["Python"], "Berlin", 1).await;
    connect(&mut ada, &mut bob).await;
    let asked = cara.req(pb::SendRequestRequest {
        to_user_id: ada.id.clone(),
        status: pb::RequestStatus::Interested.into(),
        note: None,
    });
    cara.client.send_request(asked).await.unwrap();

    let everyone = found(&mut ada, pb::SearchUsersRequest::default()).await;
    assert_eq!(
        names(&everyone),
        [
            ("Dan".to_owned(), pb::Relation::None),
            ("Cara".to_owned(), pb::Relation::Pending),
            ("Bob".to_owned(), pb::Relation::Connected),
        ],
        "newest first, never the searcher"
    );
    assert_eq!((everyone.page, everyone.limit, everyone.has_more), (1, 20, false));
    let bob_found = everyone.results[2].profile.clone().unwrap();
    assert_eq!((bob_found.location.as_deref(), bob_found.experience_years), (Some("Berlin, Germany"), Some(8)));

    assert_eq!(names(&found(&mut ada, search("BO")).await), [("Bob".to_owned(), pb::Relation::Connected)]);
    let go = found(&mut ada, pb::SearchUsersRequest { skills: vec!["go".into()], ..Default::default() }).await;
    assert_eq!(names(&go).len(), 2);
    let berlin =
        pb::SearchUsersRequest { location: Some("berlin".into()), min_experience: Some(2), ..Default::default() };
    assert_eq!(names(&found(&mut ada, berlin).await), [("Bob".to_owned(), pb::Relation::Connected)]);
    let capped = found(&mut ada, pb::SearchUsersRequest { limit: Some(500), ..Default::default() }).await;
    assert_eq!(capped.limit, 50);
}

#[tokio::test]
async fn pages_with_the_first_pages_as_of_neither_overlap_nor_show_later_signups() {
    let app = spawn_app().await;
    let mut ada = app.user("Ada").await;
    for name in ["Bob", "Cara", "Dan"] {
        app.user(name).await;
    }
    let first = found(&mut ada, pb::SearchUsersRequest { limit: Some(2), ..Default::default() }).await;
    assert_eq!(first.results.len(), 2);
    assert!(first.has_more);
    app.user("Eve").await;
    let next = pb::SearchUsersRequest {
        page: Some(2),
        limit: Some(2),
        as_of: Some(first.as_of.clone()),
        ..Default::default()
    };
    let second = found(&mut ada, next).await;
    assert_eq!(names(&second), [("Bob".to_owned(), pb::Relation::None)]);
    assert!(!second.has_more);
    assert_eq!(second.as_of, first.as_of);
    let fresh = found(&mut ada, pb::SearchUsersRequest { limit: Some(1), ..Default::default() }).await;
    assert_eq!(names(&fresh), [("Eve".to_owned(), pb::Relation::None)], "a new search sees the new signup");
}

#[tokio::test]
async fn bad_search_input_is_invalid_argument() {
    let app = spawn_app().await;
    let mut ada = app.user("Ada").await;
    for bad in [
        search(&"x".repeat(201)),
        search(&"a ".repeat(11)),
        pb::SearchUsersRequest { min_experience: Some(-1), ..Default::default() },
        pb::SearchUsersRequest { min_experience: Some(5), max_experience: Some(4), ..Default::default() },
        pb::SearchUsersRequest { page: Some(0), ..Default::default() },
        pb::SearchUsersRequest { as_of: Some("yesterday".into()), ..Default::default() },
    ] {
        assert_error(ada.client.search_users(ada.req(bad)).await, Code::InvalidArgument, "validation");
    }
    let anonymous = ada.client.search_users(search("ada")).await;
    assert_error(anonymous, Code::Unauthenticated, "unauthorized");
}
