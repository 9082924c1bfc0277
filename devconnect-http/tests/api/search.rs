use devconnect_client::NewAccount;
use devconnect_core::SendStatus;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{account, error_of, spawn_app};

#[tokio::test]
async fn search_finds_ranks_pages_and_says_the_relation() {
    let app = spawn_app().await;
    let (me, _) = app.user("Me").await;
    let c = app.client();
    let jose = c.signup(&NewAccount { skills: vec!["Go".into()], ..account("José") }).await.unwrap().user;
    // Location and experience through the edit form, as JSON and as multipart.
    let r = app
        .raw(Method::PATCH, "/profile/edit", &c)
        .json(&json!({"location": " Zürich, Switzerland ", "experienceYears": 9}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        (&body["user"]["location"], &body["user"]["experienceYears"]),
        (&json!("Zürich, Switzerland"), &json!(9))
    );
    let d = app.client();
    let rusty = d.signup(&NewAccount { skills: vec!["Rust".into()], ..account("Rusty") }).await.unwrap().user;
    let form = reqwest::multipart::Form::new().text("location", "Berlin").text("experienceYears", "2");
    let r = app.raw(Method::PATCH, "/profile/edit", &d).multipart(form).send().await.unwrap();
    assert_eq!(r.status(), 200);
    me.send_request(SendStatus::Interested, rusty.profile.id, None).await.unwrap();

    let get = |query: &'static str| {
        let request = app.raw(Method::GET, &format!("/users/search?{query}"), &me);
        async move { request.send().await.unwrap() }
    };
    let ids = |v: &Value| -> Vec<String> {
        v["results"].as_array().unwrap().iter().map(|r| r["_id"].as_str().unwrap().to_owned()).collect()
    };
    let v: Value = get("q=jose").await.json().await.unwrap();
    assert_eq!(ids(&v), [jose.profile.id.to_hex()]);
    assert_eq!(
        (&v["results"][0]["relation"], &v["results"][0]["location"]),
        (&json!("none"), &json!("Zürich, Switzerland"))
    );
    assert!(v["results"][0].get("emailID").is_none());
    let v: Value = get("q=ru").await.json().await.unwrap();
    assert_eq!(ids(&v), [rusty.profile.id.to_hex()], "prefix");
    assert_eq!(v["results"][0]["relation"], "pending");
    let v: Value = get("location=zurich&minExperience=5&maxExperience=60").await.json().await.unwrap();
    assert_eq!(ids(&v), [jose.profile.id.to_hex()]);
    let v: Value = get("skills=rust,go").await.json().await.unwrap();
    assert!(ids(&v).is_empty(), "all skills");
    // No q, no filter: everyone but me, newest first; default page fields.
    let v: Value = get("").await.json().await.unwrap();
    assert_eq!(ids(&v), [rusty.profile.id.to_hex(), jose.profile.id.to_hex()]);
    assert_eq!((v["page"].as_u64(), v["limit"].as_u64(), v["hasMore"].as_bool()), (Some(1), Some(20), Some(false)));
    assert!(v["success"] == true && v["asOf"].is_string());
    let v: Value = get("limit=500&page=1").await.json().await.unwrap();
    assert_eq!(v["limit"], 50);
}

#[tokio::test]
async fn search_refuses_bad_input_with_400() {
    let app = spawn_app().await;
    let (me, _) = app.user("Me").await;
    let long = format!("q={}", "x".repeat(201));
    for query in [
        long.as_str(),
        "minExperience=-1",
        "maxExperience=61",
        "minExperience=9&maxExperience=2",
        "minExperience=abc",
        "page=0",
        "limit=0",
        "asOf=nope",
    ] {
        let r = app.raw(Method::GET, &format!("/users/search?{query}"), &me).send().await.unwrap();
        assert_eq!(error_of(r).await, (400, "validation".to_owned()), "{query}");
    }
    let anonymous = app.client();
    let r = app.raw(Method::GET, "/users/search", &anonymous).send().await.unwrap();
    assert_eq!(r.status(), 401);
}
