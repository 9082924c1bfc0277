//! What an attacker tries over gRPC: streams racing a revocation, foreign resume
//! points, too many streams, typing floods.

use devconnect_grpc::pb;
use tonic::Code;

use crate::helpers::{Options, assert_error, authed, end_of, next, spawn_app, spawn_with};

#[tokio::test]
async fn no_stream_outlives_a_revocation_that_races_its_opening() {
    const ROUNDS: usize = 20;
    let app = spawn_app().await;
    let ada = app.user("Ada").await;
    let mut client = ada.client.clone();
    for round in 0..ROUNDS {
        let login = pb::LoginRequest { email_id: "Ada@example.com".into(), password: "Str0ng!pass".into() };
        let token = client.login(login).await.unwrap().into_inner().token;
        let opening: Vec<_> = (0..4)
            .map(|_| {
                let (mut client, token) = (client.clone(), token.clone());
                tokio::spawn(async move { client.subscribe(authed(pb::SubscribeRequest::default(), &token)).await })
            })
            .collect();
        client.logout(authed(pb::LogoutRequest {}, &token)).await.unwrap();
        for task in opening {
            match task.await.unwrap() {
                // A stream that opened is ended at once, saying why.
                Ok(stream) => {
                    let status = end_of(&mut stream.into_inner()).await;
                    assert_eq!(status.code(), Code::Unauthenticated, "round {round}: {status:?}");
                    assert!(status.message().starts_with("token_revoked: "), "round {round}: {status:?}");
                }
                Err(status) => assert_eq!(status.code(), Code::Unauthenticated, "round {round}: {status:?}"),
            }
        }
    }
}

#[tokio::test]
async fn a_resume_point_that_is_not_a_message_of_mine_is_invalid() {
    let app = spawn_app().await;
    let (mut bob, cyd) = app.connected_pair("Bob", "Cyd").await;
    let mut ada = app.user("Ada").await;
    let theirs = bob.send(&cyd.id, "between Bob and Cyd").await;
    for after in [theirs.id, "0123456789abcdef01234567".to_owned()] {
        let request = ada.req(pb::SubscribeRequest { last_message_id: Some(after) });
        assert_error(ada.client.subscribe(request).await.map(drop), Code::InvalidArgument, "validation");
    }
}

#[tokio::test]
async fn streams_per_user_are_capped() {
    let app = spawn_with(Options { max_sessions_per_user: 2, ..Options::default() }).await;
    let mut ada = app.user("Ada").await;
    let first = ada.subscribe(None).await;
    let _second = ada.subscribe(None).await;
    let third = ada.client.subscribe(ada.req(pb::SubscribeRequest::default())).await;
    assert_error(third.map(drop), Code::ResourceExhausted, "limit_exceeded");
    drop(first);
    // The place frees up as soon as the server sees the stream go.
    let mut freed = false;
    for _ in 0..100 {
        if ada.client.subscribe(ada.req(pb::SubscribeRequest::default())).await.is_ok() {
            freed = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(freed, "a closed stream frees its place");
}

#[tokio::test]
async fn typing_beyond_the_limit_is_refused_and_the_receiver_stays() {
    let app = spawn_app().await;
    let (mut ada, mut bob) = app.connected_pair("Ada", "Bob").await;
    let mut bob_events = bob.subscribe(None).await;
    let mut refused = 0;
    for i in 0..200 {
        let typing = pb::SendTypingRequest { to_user_id: bob.id.clone(), typing: i % 2 == 0 };
        if let Err(status) = ada.client.send_typing(ada.req(typing)).await {
            assert_eq!(status.code(), Code::ResourceExhausted);
            refused += 1;
        }
    }
    assert_eq!(refused, 80, "200 typing events at 120 a minute");
    let sent = ada.send(&bob.id, "still there?").await;
    loop {
        match next(&mut bob_events).await {
            pb::event::Kind::NewMessage(m) => break assert_eq!(m, sent),
            pb::event::Kind::Typing(_) | pb::event::Kind::Presence(_) => {}
            other => panic!("{other:?}"),
        }
    }
}

#[tokio::test]
async fn oversized_skill_lists_and_image_bombs_are_refused() {
    let app = spawn_app().await;
    let mut client = app.client().await;
    let skills = (0..7000).map(|i| format!("s{i}")).collect();
    let many = pb::SignupRequest { skills, ..crate::helpers::signup("Many") };
    assert_error(client.signup(many).await, Code::InvalidArgument, "validation");
    let mut ada = app.user("Ada").await;
    // Small to send, too wide to decode.
    let mut wide = Vec::new();
    image::RgbImage::new(9000, 1).write_to(&mut std::io::Cursor::new(&mut wide), image::ImageFormat::Png).unwrap();
    let upload = ada.client.upload_photo(ada.req(pb::UploadPhotoRequest { photo: wide })).await;
    assert_error(upload, Code::InvalidArgument, "validation");
}

#[tokio::test]
async fn password_change_attempts_are_rate_limited_like_logins() {
    let app = spawn_app().await;
    let mut ada = app.user("Ada").await;
    let guess = |old: &str| pb::ChangePasswordRequest {
        old_password: old.into(),
        new_password: "N3w!password".into(),
        confirm_password: "N3w!password".into(),
    };
    // The default budget: 10 a minute per user.
    for i in 0..10 {
        let wrong = ada.client.change_password(ada.req(guess(&format!("Gu3ss!{i:03}")))).await;
        assert_error(wrong, Code::InvalidArgument, "validation");
    }
    let right = ada.client.change_password(ada.req(guess("Str0ng!pass"))).await;
    assert_error(right, Code::ResourceExhausted, "rate_limited");
}
