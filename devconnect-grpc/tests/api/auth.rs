use devconnect_grpc::pb;
use tonic::{Code, Request};

use crate::helpers::{Options, assert_error, authed, end_of, signup, spawn_app, spawn_with};

#[tokio::test]
async fn signup_then_login_return_the_user_and_working_tokens() {
    let app = spawn_app().await;
    let mut client = app.client().await;
    let auth = client.signup(signup("Ada")).await.unwrap().into_inner();
    let me = auth.user.unwrap();
    assert_eq!(me.email_id, "ada@example.com");
    let profile = me.profile.unwrap();
    assert_eq!(profile.first_name, "Ada");
    assert_eq!(profile.age, Some(30));
    assert_eq!(profile.gender, i32::from(pb::Gender::Female));
    assert!(profile.created_at.is_some());

    let login = pb::LoginRequest { email_id: " ADA@example.com ".into(), password: "Str0ng!pass".into() };
    let logged_in = client.login(login).await.unwrap().into_inner();
    let got = client.get_me(authed(pb::GetMeRequest {}, &logged_in.token)).await.unwrap().into_inner();
    assert_eq!(got.profile.unwrap().id, profile.id);
}

#[tokio::test]
async fn signup_errors_are_invalid_argument_or_already_exists() {
    let app = spawn_app().await;
    let mut client = app.client().await;
    client.signup(signup("Ada")).await.unwrap();
    assert_error(client.signup(signup("Ada")).await, Code::AlreadyExists, "conflict");
    let weak = pb::SignupRequest { password: "weak".into(), ..signup("Bob") };
    assert_error(client.signup(weak).await, Code::InvalidArgument, "validation");
    let young = pb::SignupRequest { age: Some(12), ..signup("Cy") };
    assert_error(client.signup(young).await, Code::InvalidArgument, "validation");
    let bad_gender = pb::SignupRequest { gender: 42, ..signup("Di") };
    assert_error(client.signup(bad_gender).await, Code::InvalidArgument, "validation");
    let bad_photo = pb::SignupRequest { photo: Some(b"not an image".to_vec()), ..signup("Ed") };
    assert_error(client.signup(bad_photo).await, Code::InvalidArgument, "unsupported_media_type");
}

#[tokio::test]
async fn wrong_email_and_wrong_password_are_the_same_unauthenticated() {
    let app = spawn_app().await;
    let mut client = app.client().await;
    client.signup(signup("Ada")).await.unwrap();
    let wrong_password = pb::LoginRequest { email_id: "ada@example.com".into(), password: "Wr0ng!pass".into() };
    let a = client.login(wrong_password).await.unwrap_err();
    let wrong_email = pb::LoginRequest { email_id: "nobody@example.com".into(), password: "Str0ng!pass".into() };
    let b = client.login(wrong_email).await.unwrap_err();
    assert_eq!((a.code(), a.message()), (b.code(), b.message()));
    assert_eq!(a.code(), Code::Unauthenticated);
}

#[tokio::test]
async fn signups_and_logins_from_one_address_are_rate_limited() {
    let app = spawn_with(Options { auth_rate_per_addr: 3, ..Options::default() }).await;
    let mut client = app.client().await;
    client.signup(signup("Ada")).await.unwrap();
    let guess = |who: &str| pb::LoginRequest { email_id: format!("{who}@example.com"), password: "x".into() };
    for attempt in ["a", "b"] {
        assert_error(client.login(guess(attempt)).await, Code::Unauthenticated, "unauthorized");
    }
    // The fourth attempt from this address, whatever the email: refused before any hashing.
    assert_error(client.login(guess("c")).await, Code::ResourceExhausted, "rate_limited");
    assert_error(client.signup(signup("Bob")).await, Code::ResourceExhausted, "rate_limited");
    // The limit is the address's, not the service's: the core still serves others.
    let elsewhere = devconnect_core::Peer::Remote(std::net::IpAddr::from([192, 0, 2, 1]));
    assert!(app.app.login("Ada@example.com", "Str0ng!pass", elsewhere).await.is_ok());
}

#[tokio::test]
async fn calls_without_a_valid_token_are_unauthenticated() {
    let app = spawn_app().await;
    let mut client = app.client().await;
    assert_error(client.get_me(pb::GetMeRequest {}).await, Code::Unauthenticated, "unauthorized");
    assert_error(client.get_me(authed(pb::GetMeRequest {}, "garbage")).await, Code::Unauthenticated, "unauthorized");
    let mut basic = Request::new(pb::ListConnectionsRequest {});
    basic.metadata_mut().insert("authorization", "Basic YTpi".parse().unwrap());
    assert_error(client.list_connections(basic).await, Code::Unauthenticated, "unauthorized");
    let sub = client.subscribe(pb::SubscribeRequest::default()).await;
    assert_error(sub.map(|_| ()), Code::Unauthenticated, "unauthorized");
    let send = pb::SendMessageRequest { to_user_id: "0".repeat(24), text: "hi".into(), ..Default::default() };
    assert_error(client.send_message(send).await, Code::Unauthenticated, "unauthorized");
}

#[tokio::test]
async fn logout_revokes_the_token_and_ends_its_streams() {
    let app = spawn_app().await;
    let mut ada = app.user("Ada").await;
    let mut stream = ada.subscribe(None).await;
    ada.client.logout(ada.req(pb::LogoutRequest {})).await.unwrap();
    let end = end_of(&mut stream).await;
    assert_eq!(end.code(), Code::Unauthenticated);
    assert!(end.message().starts_with("token_revoked: "), "{end:?}");
    assert_error(ada.client.get_me(ada.req(pb::GetMeRequest {})).await, Code::Unauthenticated, "unauthorized");
    let again = ada.client.subscribe(ada.req(pb::SubscribeRequest::default())).await;
    assert_error(again.map(|_| ()), Code::Unauthenticated, "unauthorized");
}

#[tokio::test]
async fn a_password_change_returns_a_new_token_and_revokes_the_old_ones() {
    let app = spawn_app().await;
    let mut ada = app.user("Ada").await;
    let mut stream = ada.subscribe(None).await;
    let wrong = pb::ChangePasswordRequest {
        old_password: "Wr0ng!pass".into(),
        new_password: "N3w!password".into(),
        confirm_password: "N3w!password".into(),
    };
    assert_error(ada.client.change_password(ada.req(wrong)).await, Code::InvalidArgument, "validation");
    let change = pb::ChangePasswordRequest {
        old_password: "Str0ng!pass".into(),
        new_password: "N3w!password".into(),
        confirm_password: "N3w!password".into(),
    };
    let token = ada.client.change_password(ada.req(change)).await.unwrap().into_inner().token;
    let end = end_of(&mut stream).await;
    assert_eq!(end.code(), Code::Unauthenticated);
    assert!(end.message().starts_with("token_revoked: "), "{end:?}");
    assert_error(ada.client.get_me(ada.req(pb::GetMeRequest {})).await, Code::Unauthenticated, "unauthorized");
    ada.client.get_me(authed(pb::GetMeRequest {}, &token)).await.unwrap();
    let login = pb::LoginRequest { email_id: "ada@example.com".into(), password: "N3w!password".into() };
    ada.client.login(login).await.unwrap();
}
