use devconnect_client::{NewAccount, ProfileChanges};
use devconnect_core::UserId;
use reqwest::Method;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, account, code_of, error_of, jpeg, png, spawn_app, unique_email};

#[tokio::test]
async fn my_profile_has_my_email_and_others_see_no_email() {
    let app = spawn_app().await;
    let (a, a_me) = app.user("Ada").await;
    let (b, _) = app.user("Bob").await;
    assert_eq!(a.me().await.unwrap(), a_me);
    let r = app.raw(Method::GET, &format!("/profile/{}", a_me.profile.id), &b).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert!(v.get("emailID").is_none(), "{v}");
    assert_eq!(v["firstName"], "Ada");
    assert_eq!(b.profile(a_me.profile.id).await.unwrap(), a_me.profile);
}

#[tokio::test]
async fn unknown_and_malformed_profile_ids_are_404_and_400() {
    let app = spawn_app().await;
    let (a, _) = app.user("Ada").await;
    assert_eq!(code_of(a.profile(UserId::new()).await), "not_found");
    let r = app.raw(Method::GET, "/profile/not-an-id", &a).send().await.unwrap();
    assert_eq!(error_of(r).await, (400, "validation".to_owned()));
}

#[tokio::test]
async fn edits_change_only_the_given_fields_and_unknown_or_mistyped_fields_are_400() {
    let app = spawn_app().await;
    let (a, before) = app.user("Ada").await;
    let changes =
        ProfileChanges { about: Some("new about".into()), skills: Some(vec!["go".into()]), ..Default::default() };
    let after = a.edit_profile(&changes).await.unwrap();
    assert_eq!(after.profile.about, "new about");
    assert_eq!(after.profile.skills, vec!["go"]);
    assert_eq!(after.profile.first_name, before.profile.first_name);
    assert_eq!(after.email, before.email);

    for body in [
        json!({"emailID": "x@y.io"}),
        json!({"password": "X"}),
        json!({"age": "old"}),
        json!({"age": 12}),
        json!({"firstName": 5}),
        json!({"skills": [1, 2]}),
        json!({"skills": "x".repeat(41)}),
    ] {
        let r = app.raw(Method::PATCH, "/profile/edit", &a).json(&body).send().await.unwrap();
        assert_eq!(error_of(r).await, (400, "validation".to_owned()), "{body}");
    }
    assert_eq!(a.me().await.unwrap(), after);
}

#[tokio::test]
async fn a_multipart_signup_with_a_photo_ends_in_a_served_media_url() {
    let app = spawn_app().await;
    let email = unique_email("photo");
    let form = Form::new()
        .text("firstName", "Pia")
        .text("lastName", "")
        .text("emailID", email.clone())
        .text("password", PASSWORD)
        .text("age", "29")
        .text("gender", "")
        .text("about", "")
        .text("skills", "rust,go")
        .text("skills", "sql")
        .part("image", Part::bytes(jpeg(40, 30)).file_name("me.jpg").mime_str("image/jpeg").unwrap());
    let r = app.http.post(app.at("/auth/signup")).multipart(form).send().await.unwrap();
    assert_eq!(r.status(), 201);
    let v: Value = r.json().await.unwrap();
    let user = &v["user"];
    assert_eq!(user["age"], 29);
    assert_eq!(user["gender"], Value::Null);
    assert_eq!(user["skills"], json!(["rust", "go", "sql"]));
    let url = user["photoURL"].as_str().unwrap();
    assert!(url.starts_with(&format!("{}/media/", app.url)) && url.ends_with(".jpg"), "{url}");

    let client = app.client();
    let (bytes, content_type) = client.media(url).await.unwrap();
    assert_eq!(content_type.as_deref(), Some("image/jpeg"));
    assert_eq!(image::guess_format(&bytes).unwrap(), image::ImageFormat::Jpeg);

    // A new photo through the client's multipart edit replaces it.
    client.login(&email, PASSWORD).await.unwrap();
    let changes = ProfileChanges { photo: Some((png(8, 8), "p.png".into())), ..Default::default() };
    let me = client.edit_profile(&changes).await.unwrap();
    let new_url = me.profile.photo_url.unwrap();
    assert!(new_url.ends_with(".png"));
    assert_eq!(client.media(&new_url).await.unwrap().1.as_deref(), Some("image/png"));
}

#[tokio::test]
async fn uploads_that_are_not_images_or_too_large_are_refused() {
    let app = spawn_app().await;
    let svg = NewAccount { photo: Some((b"<svg xmlns='x'></svg>".to_vec(), "x.svg".into())), ..account("Svg") };
    assert_eq!(code_of(app.client().signup(&svg).await), "unsupported_media_type");
    let (a, _) = app.user("Big").await;
    let mut big = png(16, 16);
    big.resize(3 * 1024 * 1024 + 10, 0);
    let r = app
        .raw(Method::PATCH, "/profile/edit", &a)
        .multipart(Form::new().part("image", Part::bytes(big).file_name("big.png")))
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(r).await, (413, "payload_too_large".to_owned()));
    let truncated = png(64, 64)[..60].to_vec();
    let r = app
        .raw(Method::PATCH, "/profile/edit", &a)
        .multipart(Form::new().part("image", Part::bytes(truncated).file_name("t.png")))
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(r).await, (400, "validation".to_owned()));
    assert_eq!(a.me().await.unwrap().profile.photo_url, None);
}

#[tokio::test]
async fn media_is_served_only_by_exact_name() {
    let app = spawn_app().await;
    for path in [
        "/media/",
        "/media",
        "/media/..%2F..%2Fetc%2Fpasswd",
        "/media/../jwt-secret",
        "/media/jwt-secret",
        "/media/0123456789abcdef0123456789abcdef.png",
        "/media/0123456789abcdef0123456789abcdef.svg",
    ] {
        let r = app.http.get(app.at(path)).send().await.unwrap();
        assert_eq!(r.status(), 404, "{path}");
    }
}
