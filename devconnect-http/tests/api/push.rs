use std::time::Duration;

use devconnect_core::PushKind;
use devconnect_core::testkit::push_service::PushService;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{error_of, spawn_app, spawn_app_with};

#[tokio::test]
async fn push_routes_register_subscriptions_and_keep_settings() {
    let app = spawn_app_with(|c| c.service.push_allow_loopback = true).await;
    let (me, _) = app.user("Ada").await;
    let service = PushService::start().await.unwrap();

    // The key is public: the page fetches it before it subscribes.
    let r = app.http.get(app.at("/push/vapid-public-key")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let key: Value = r.json().await.unwrap();
    let key = key["data"]["publicKey"].as_str().unwrap().to_owned();
    assert_eq!(key.len(), 87, "65 bytes, base64url");

    // What `subscription.toJSON()` gives, expirationTime included.
    let subscription = service.subscribe(&key);
    let mut browser_json = serde_json::to_value(&subscription).unwrap();
    browser_json["expirationTime"] = Value::Null;
    let r = app.raw(Method::POST, "/push/subscriptions", &me).json(&browser_json).send().await.unwrap();
    assert_eq!(r.status(), 201);
    let r = app.http.post(app.at("/push/subscriptions")).json(&browser_json).send().await.unwrap();
    assert_eq!(error_of(r).await, (401, "unauthorized".to_owned()));
    let mut insecure = browser_json.clone();
    insecure["endpoint"] = json!("http://push.example.com/abc");
    let mut short_key = browser_json.clone();
    short_key["keys"]["auth"] = json!("AAAA");
    for bad in [insecure, short_key, json!({"endpoint": "https://push.example.com/x"}), json!([1, 2])] {
        let r = app.raw(Method::POST, "/push/subscriptions", &me).json(&bad).send().await.unwrap();
        assert_eq!(error_of(r).await, (400, "validation".to_owned()), "{bad}");
    }
    let r = app.raw(Method::POST, "/push/subscriptions", &me).body("endpoint=x").send().await.unwrap();
    assert_eq!(r.status(), 400, "not JSON without a content type either");
    let form = reqwest::multipart::Form::new().text("endpoint", "x");
    let r = app.raw(Method::POST, "/push/subscriptions", &me).multipart(form).send().await.unwrap();
    assert_eq!(error_of(r).await, (415, "unsupported_media_type".to_owned()));

    // Settings: all on, then changed field by field; misspelt fields are refused.
    let r = app.raw(Method::GET, "/push/settings", &me).send().await.unwrap();
    let v: Value = r.json().await.unwrap();
    assert_eq!(
        v["data"],
        json!({"messages": true, "requests": true, "groups": true, "previews": true, "mutedGroups": []})
    );
    let r = app.raw(Method::PATCH, "/push/settings", &me).json(&json!({"previews": false})).send().await.unwrap();
    let v: Value = r.json().await.unwrap();
    assert_eq!((&v["data"]["previews"], &v["data"]["messages"]), (&json!(false), &json!(true)));
    for bad in [json!({"preview": false}), json!({"messages": "no"}), json!({"mutedGroups": ["nope"]})] {
        let r = app.raw(Method::PATCH, "/push/settings", &me).json(&bad).send().await.unwrap();
        assert_eq!(error_of(r).await, (400, "validation".to_owned()), "{bad}");
    }

    let endpoint = json!({"endpoint": subscription.endpoint});
    let r = app.raw(Method::DELETE, "/push/subscriptions", &me).json(&endpoint).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let r = app.raw(Method::DELETE, "/push/subscriptions", &me).json(&endpoint).send().await.unwrap();
    assert_eq!(error_of(r).await, (404, "not_found".to_owned()));
}

#[tokio::test]
async fn an_offline_connection_is_pushed_what_was_written() {
    let app = spawn_app_with(|c| {
        c.service.push_allow_loopback = true;
        c.service.push_coalesce_ms = 50;
    })
    .await;
    let ((ada, ada_me), (bob, bob_me)) = app.connected_pair().await;
    let service = PushService::start().await.unwrap();
    let key: Value = app.http.get(app.at("/push/vapid-public-key")).send().await.unwrap().json().await.unwrap();
    let subscription = service.subscribe(key["data"]["publicKey"].as_str().unwrap());
    let r = app.raw(Method::POST, "/push/subscriptions", &bob).json(&subscription).send().await.unwrap();
    assert_eq!(r.status(), 201);

    ada.send_message(bob_me.profile.id, "ship it?", None).await.unwrap();
    let got = service.wait_for(1, Duration::from_secs(10)).await;
    assert!(service.problems().is_empty(), "{:?}", service.problems());
    assert_eq!(got.len(), 1);
    let n = &got[0].notification;
    assert_eq!((n.kind, n.sender_id, n.preview.as_deref()), (PushKind::Message, ada_me.profile.id, Some("ship it?")));
    assert_eq!(n.sender_name, format!("{} {}", ada_me.profile.first_name, ada_me.profile.last_name));
    assert_eq!(got[0].topic.as_deref(), Some(format!("m{}", ada_me.profile.id).as_str()));
}

#[tokio::test]
async fn the_rust_client_reads_and_changes_push_settings() {
    let app = spawn_app().await;
    let (me, _) = app.user("Ada").await;
    let settings = me.push_settings().await.unwrap();
    assert!(settings.messages && settings.requests && settings.groups && settings.previews);
    let patch = devconnect_core::PushSettingsPatch { requests: Some(false), ..Default::default() };
    let changed = me.update_push_settings(&patch).await.unwrap();
    assert!(!changed.requests && changed.messages);
    assert_eq!(me.push_settings().await.unwrap(), changed);
    let anonymous = app.client();
    assert_eq!(crate::helpers::code_of(anonymous.push_settings().await), "unauthorized");
}

#[tokio::test]
async fn push_routes_answer_503_when_push_is_off() {
    let app = spawn_app_with(|c| c.service.disable_push = true).await;
    let r = app.http.get(app.at("/push/vapid-public-key")).send().await.unwrap();
    assert_eq!(error_of(r).await, (503, "unavailable".to_owned()));
    let app = spawn_app().await;
    let (me, _) = app.user("Ada").await;
    let r = app.raw(Method::GET, "/push/settings", &me).send().await.unwrap();
    assert_eq!(r.status(), 200, "on by default");
}
