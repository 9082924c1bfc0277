//! Hostile requests against the REST routes: each is refused by its rule, cheaply, and
//! leaves other users unaffected.

use devconnect_core::testkit::png_header;
use reqwest::Method;
use serde_json::json;

use crate::helpers::{PASSWORD, account, error_of, spawn_app, spawn_app_with};

#[tokio::test]
async fn more_than_twenty_skills_are_refused_as_json_and_as_a_multipart_list() {
    let app = spawn_app().await;
    let many: Vec<String> = (0..21).map(|i| format!("skill{i}")).collect();
    let body = json!({"firstName": "Ada", "emailID": "ada@example.com", "password": PASSWORD, "skills": many});
    let response = app.http.post(app.at("/auth/signup")).json(&body).send().await.unwrap();
    assert_eq!(error_of(response).await, (400, "validation".to_owned()));
    // 7,000 comma-separated skills in one multipart field, as the original frontend sends them.
    let skills: Vec<String> = (0..7000).map(|i| format!("s{i}")).collect();
    let form = reqwest::multipart::Form::new()
        .text("firstName", "Bob")
        .text("emailID", "bob@example.com")
        .text("password", PASSWORD)
        .text("skills", skills.join(","));
    let response = app.http.post(app.at("/auth/signup")).multipart(form).send().await.unwrap();
    assert_eq!(error_of(response).await, (400, "validation".to_owned()));
}

#[tokio::test]
async fn an_image_bomb_is_refused_from_its_header() {
    let app = spawn_app().await;
    let (client, _) = app.user("Ada").await;
    for (width, height) in [(8192, 8192), (100_000, 10)] {
        let part = reqwest::multipart::Part::bytes(png_header(width, height).0).file_name("bomb.png");
        let form = reqwest::multipart::Form::new().part("image", part);
        let response = app.raw(Method::PATCH, "/profile/edit", &client).multipart(form).send().await.unwrap();
        assert_eq!(error_of(response).await, (400, "validation".to_owned()), "{width} × {height}");
    }
}

#[tokio::test]
async fn password_change_attempts_are_rate_limited_like_logins() {
    let app = spawn_app_with(|c| c.service.login_rate = 2).await;
    let (client, _) = app.user("Ada").await;
    let guess = |old: &str| json!({"oldPassword": old, "newPassword": "N3w!passw", "confirmPassword": "N3w!passw"});
    for old in ["Gu3ss!one", "Gu3ss!two"] {
        let response = app.raw(Method::PATCH, "/profile/password", &client).json(&guess(old)).send().await.unwrap();
        assert_eq!(error_of(response).await, (400, "validation".to_owned()));
    }
    let response = app.raw(Method::PATCH, "/profile/password", &client).json(&guess(PASSWORD)).send().await.unwrap();
    assert!(response.headers().contains_key("retry-after"));
    assert_eq!(error_of(response).await, (429, "rate_limited".to_owned()));
}

#[tokio::test]
async fn failing_on_purpose_does_not_lock_the_owner_out() {
    let app = spawn_app_with(|c| c.service.login_rate = 2).await;
    let acc = account("Ada");
    app.client().signup(&acc).await.unwrap();
    let login = |password: &str| json!({"emailID": acc.email, "password": password});
    // The attacker, from 127.0.0.1, fails until throttled...
    let mut throttled = false;
    for _ in 0..6 {
        let response = app.http.post(app.at("/auth/login")).json(&login("Wr0ng!pass")).send().await.unwrap();
        throttled |= response.status() == 429;
    }
    assert!(throttled, "failing logins are throttled");
    // ...while the owner, from another address with no failures, logs in.
    let elsewhere = reqwest::Client::builder().local_address(std::net::IpAddr::from([127, 0, 0, 2])).build().unwrap();
    let response = elsewhere.post(app.at("/auth/login")).json(&login(PASSWORD)).send().await.unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn chat_partners_show_presence_for_connections_only() {
    let app = spawn_app().await;
    let ((ada, _), (bob, bob_me)) = app.connected_pair().await;
    let bob_id = bob_me.profile.id;
    bob.send_message(ada.me().await.unwrap().profile.id, "hi", None).await.unwrap();
    let _online = app.server.app().subscribe(bob_id).await.unwrap();
    let online =
        |partners: &[devconnect_core::ChatPartner]| partners.iter().find(|p| p.profile.id == bob_id).map(|p| p.online);
    assert_eq!(online(&ada.chat_partners().await.unwrap()), Some(true));
    ada.remove_connection(bob_id).await.unwrap();
    // Still a chat partner (the history stays), but no longer told when Bob is online.
    assert_eq!(online(&ada.chat_partners().await.unwrap()), Some(false));
}
