use std::collections::HashSet;

use devconnect_client::NewAccount;
use devconnect_core::SendStatus;
use reqwest::Method;
use serde_json::Value;

use crate::helpers::{account, code_of, error_of, spawn_app};

#[tokio::test]
async fn feed_pages_cover_everyone_else_once_without_overlap() {
    let app = spawn_app().await;
    let (me, me_profile) = app.user("Me").await;
    let mut others = Vec::new();
    for i in 0..7 {
        let c = app.client();
        let skills = if i % 2 == 0 { vec!["Rust".to_owned()] } else { vec!["Go".to_owned()] };
        others.push(c.signup(&NewAccount { skills, ..account(&format!("U{i}")) }).await.unwrap().user);
    }
    // Anyone I have a request with, either way, is not in my feed.
    me.send_request(SendStatus::Ignored, others[0].profile.id, None).await.unwrap();

    let mut seen = HashSet::new();
    let mut page = 1;
    loop {
        let feed = me.feed(page, 2, &[]).await.unwrap();
        assert_eq!((feed.page, feed.limit), (page, 2));
        for p in &feed.profiles {
            assert!(seen.insert(p.id), "{} seen twice", p.id);
            assert!(p.id != me_profile.profile.id && p.id != others[0].profile.id);
        }
        if !feed.has_more {
            break;
        }
        page += 1;
    }
    assert_eq!(seen.len(), 6);

    let rust = me.feed(1, 50, &["rust"]).await.unwrap();
    assert!(rust.profiles.iter().all(|p| p.skills == vec!["Rust"]));
    assert_eq!(rust.profiles.len(), 3);
}

#[tokio::test]
async fn feed_defaults_caps_and_aliases() {
    let app = spawn_app().await;
    let (me, _) = app.user("Me").await;
    for path in ["/users/feed", "/feed"] {
        let r = app.raw(Method::GET, path, &me).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let v: Value = r.json().await.unwrap();
        assert_eq!((v["page"].as_u64(), v["limit"].as_u64(), v["hasMore"].as_bool()), (Some(1), Some(10), Some(false)));
        assert!(v["request"].is_array() && v["success"] == true);
    }
    assert_eq!(me.feed(1, 500, &[]).await.unwrap().limit, 50);
    assert_eq!(code_of(me.feed(0, 10, &[]).await), "validation");
    assert_eq!(code_of(me.feed(1, 0, &[]).await), "validation");
    for q in ["page=abc", "limit=-5", "page=99999999999"] {
        let r = app.raw(Method::GET, &format!("/users/feed?{q}"), &me).send().await.unwrap();
        assert_eq!(error_of(r).await, (400, "validation".to_owned()), "{q}");
    }
}
