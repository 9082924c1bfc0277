use devconnect_client::NewAccount;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{JWT_SECRET, PASSWORD, account, code_of, error_of, spawn_app, spawn_app_with, unique_email};

#[tokio::test]
async fn signup_returns_201_with_the_user_and_a_token_and_never_a_password() {
    let app = spawn_app().await;
    let email = unique_email("ada");
    let body = json!({"firstName": "Ada", "lastName": "L", "emailID": format!("  {}  ", email.to_uppercase()),
        "password": PASSWORD, "age": 36, "gender": "female", "about": "math", "skills": ["rust", "Rust", "go"]});
    let response = app.http.post(app.at("/auth/signup")).json(&body).send().await.unwrap();
    assert_eq!(response.status(), 201);
    let text = response.text().await.unwrap();
    assert!(!text.contains(PASSWORD) && !text.contains("argon2") && !text.to_lowercase().contains("hash"));
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["success"], true);
    assert_eq!(v["user"]["emailID"], email);
    assert_eq!(v["user"]["skills"], json!(["rust", "go"]));
    assert_eq!(v["user"]["_id"].as_str().map(str::len), Some(24));
    assert!(v["token"].is_string());
    assert!(v["user"].get("password").is_none());
}

#[tokio::test]
async fn the_original_aliases_reach_the_same_routes() {
    let app = spawn_app().await;
    let email = unique_email("alias");
    let body = json!({"firstName": "Al", "emailID": email, "password": PASSWORD});
    let r = app.http.post(app.at("/signup")).json(&body).send().await.unwrap();
    assert_eq!(r.status(), 201);
    let r =
        app.http.post(app.at("/login")).json(&json!({"emailID": email, "password": PASSWORD})).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let token = r.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_owned();
    let r = app.http.get(app.at("/profile/veiw")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let r = app.http.post(app.at("/logout")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let r = app.http.get(app.at("/profile/view")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(error_of(r).await, (401, "unauthorized".to_owned()));
}

#[tokio::test]
async fn a_second_signup_with_the_same_email_is_a_conflict() {
    let app = spawn_app().await;
    let first = account("Dup");
    app.client().signup(&first).await.unwrap();
    let again = NewAccount { email: format!(" {} ", first.email.to_uppercase()), ..account("Dup") };
    assert_eq!(code_of(app.client().signup(&again).await), "conflict");
}

#[tokio::test]
async fn invalid_signups_are_validation_errors() {
    let app = spawn_app().await;
    let c = app.client();
    for bad in [
        NewAccount { password: "weakpass".into(), ..account("W") },
        NewAccount { email: "not-an-email".into(), ..account("W") },
        NewAccount { first_name: " ".into(), ..account("W") },
        NewAccount { age: Some(12), ..account("W") },
        NewAccount { gender: Some("robot".into()), ..account("W") },
    ] {
        assert_eq!(code_of(c.signup(&bad).await), "validation", "{bad:?}");
    }
}

#[tokio::test]
async fn a_wrong_email_and_a_wrong_password_get_the_same_401() {
    let app = spawn_app().await;
    let acc = account("Log");
    app.client().signup(&acc).await.unwrap();
    let wrong_pw = app.http.post(app.at("/auth/login")).json(&json!({"emailID": acc.email, "password": "Wr0ng!pass"}));
    let wrong_email =
        app.http.post(app.at("/auth/login")).json(&json!({"emailID": unique_email("nobody"), "password": PASSWORD}));
    let a = wrong_pw.send().await.unwrap();
    let b = wrong_email.send().await.unwrap();
    assert_eq!(a.status(), 401);
    assert_eq!(b.status(), 401);
    assert_eq!(a.text().await.unwrap(), b.text().await.unwrap());
    let ok = app.client().login(&acc.email.to_uppercase(), PASSWORD).await.unwrap();
    assert_eq!(ok.user.email, acc.email);
}

#[tokio::test]
async fn protected_routes_refuse_missing_garbage_expired_and_foreign_tokens() {
    let app = spawn_app().await;
    let (_, me) = app.user("Tok").await;
    let now = chrono::Utc::now().timestamp();
    let claims = json!({"sub": me.profile.id.to_hex(), "iat": now - 100, "exp": now - 10, "jti": "x", "ver": 0});
    let key = jsonwebtoken::EncodingKey::from_secret(JWT_SECRET.as_bytes());
    let expired = jsonwebtoken::encode(&jsonwebtoken::Header::default(), &claims, &key).unwrap();
    let other_key = jsonwebtoken::EncodingKey::from_secret(b"another-secret-another-secret-another-secret");
    let claims = json!({"sub": me.profile.id.to_hex(), "iat": now, "exp": now + 1000, "jti": "x", "ver": 0});
    let forged = jsonwebtoken::encode(&jsonwebtoken::Header::default(), &claims, &other_key).unwrap();
    let none_alg = format!("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{}.", forged.split('.').nth(1).unwrap());
    for header in [
        None,
        Some("garbage".to_owned()),
        Some("Bearer garbage".to_owned()),
        Some("Basic dXNlcjpwYXNz".to_owned()),
        Some(format!("Bearer {expired}")),
        Some(format!("Bearer {forged}")),
        Some(format!("Bearer {none_alg}")),
    ] {
        for (method, path) in [
            (Method::GET, "/profile/view"),
            (Method::GET, "/user/connections"),
            (Method::GET, "/users/feed"),
            (Method::GET, "/message/sync"),
            (Method::POST, "/auth/logout"),
        ] {
            let mut req = app.http.request(method.clone(), app.at(path));
            if let Some(h) = &header {
                req = req.header("authorization", h);
            }
            let (status, code) = error_of(req.send().await.unwrap()).await;
            assert_eq!((status, code.as_str()), (401, "unauthorized"), "{path} with {header:?}");
        }
    }
}

#[tokio::test]
async fn a_password_change_revokes_every_older_token_and_returns_a_new_one() {
    let app = spawn_app().await;
    let acc = account("Pw");
    let first = app.client();
    first.signup(&acc).await.unwrap();
    let second = app.client();
    second.login(&acc.email, PASSWORD).await.unwrap();

    let r = app
        .raw(Method::PATCH, "/profile/password", &first)
        .json(&json!({"oldPassword": "Wr0ng!pass", "newPassword": "N3w!passw", "confirmPassword": "N3w!passw"}))
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(r).await, (400, "validation".to_owned()));
    let r = app
        .raw(Method::PATCH, "/profile/password", &first)
        .json(&json!({"oldPassword": PASSWORD, "newPassword": "N3w!passw", "confirmPassword": "other"}))
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(r).await, (400, "validation".to_owned()));

    let old_token = first.token();
    first.change_password(PASSWORD, "N3w!passw0rd").await.unwrap();
    assert_ne!(first.token(), old_token);
    first.me().await.unwrap();
    assert_eq!(code_of(second.me().await), "unauthorized");
    assert_eq!(code_of(first.with_token(old_token).me().await), "unauthorized");
    assert_eq!(code_of(app.client().login(&acc.email, PASSWORD).await), "unauthorized");
    app.client().login(&acc.email, "N3w!passw0rd").await.unwrap();
}

#[tokio::test]
async fn signups_from_one_address_are_rate_limited_with_retry_after() {
    let app = spawn_app_with(|c| c.service.auth_rate_per_addr = 3).await;
    for i in 0..3 {
        let body = json!({"firstName": "R", "emailID": format!("bad{i}"), "password": PASSWORD});
        let r = app.http.post(app.at("/auth/signup")).json(&body).send().await.unwrap();
        assert_eq!(r.status(), 400);
    }
    let body = json!({"firstName": "R", "emailID": "fine@example.com", "password": PASSWORD});
    let r = app.http.post(app.at("/auth/signup")).json(&body).send().await.unwrap();
    assert_eq!(r.status(), 429);
    let retry: u64 = r.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    assert_eq!(error_of(r).await.1, "rate_limited");
    let r = app.http.post(app.at("/auth/login")).json(&json!({"emailID": "a@b.io", "password": "x"})).send().await;
    assert_eq!(r.unwrap().status(), 429);
}

#[tokio::test]
async fn logins_for_one_email_are_rate_limited() {
    let app = spawn_app_with(|c| c.service.login_rate = 2).await;
    let email = unique_email("guess");
    // An address's first attempt is free; once it failed, each attempt spends the email's
    // budget of 2.
    for _ in 0..3 {
        let r = app.client().login(&email, "Wr0ng!pass").await;
        assert_eq!(code_of(r), "unauthorized");
    }
    let err = app.client().login(&email.to_uppercase(), "Wr0ng!pass").await.err().unwrap();
    assert_eq!(err.code(), "rate_limited");
    assert!(matches!(err, devconnect_client::ClientError::Api { retry_after: Some(_), .. }));
    assert_eq!(code_of(app.client().login(&unique_email("other"), "Wr0ng!pass").await), "unauthorized");
}
