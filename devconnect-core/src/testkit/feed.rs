//! The feed: who it shows, its pages, and its skill filter.

use std::sync::Arc;

use super::behaviours;
use super::fixtures::{check, connect, expect_code, service, user, user_record};
use crate::connection::SendStatus;
use crate::feed::FeedQuery;
use crate::profile::ProfileEdit;
use crate::{Error, UserId};

behaviours![
    pub async fn feed_excludes_me_and_everyone_i_have_a_request_with(store: Arc<dyn Store>) -> Result<()> {
        let app = service(store)?;
        let (ada, _) = user(&app, "Ada").await?;
        let mut others = Vec::new();
        for name in ["Bob", "Cy", "Dee", "Eve", "Fay", "Gus"] {
            others.push(user(&app, name).await?.0);
        }
        app.send_request(ada, others[0], SendStatus::Interested, None).await?;
        app.send_request(ada, others[1], SendStatus::Ignored, None).await?;
        app.send_request(others[2], ada, SendStatus::Interested, None).await?;
        connect(&app, others[3], ada).await?;
        let feed = app.feed(ada, &FeedQuery::default()).await?;
        let ids: Vec<UserId> = feed.profiles.iter().map(|p| p.id).collect();
        check(ids == [others[5], others[4]], &format!("newest first, excluded the rest: {ids:?}"))?;
        check(!feed.has_more && feed.page == 1 && feed.limit == 10, "page fields")?;
        let json = serde_json::to_value(&feed.profiles).map_err(Error::internal)?.to_string();
        check(!json.contains("emailID"), "feed shows public profiles")
    }

    pub async fn feed_pages_neither_overlap_nor_skip(store: Arc<dyn Store>) -> Result<()> {
        let app = service(Arc::clone(&store))?;
        let (ada, _) = user(&app, "Ada").await?;
        // Store-level inserts keep this fast (no password hashing).
        let mut all = Vec::new();
        for i in 0..23 {
            let record = user_record(&format!("u{i}@example.com"));
            all.push(record.me.profile.id);
            store.insert_user(&record).await?;
        }
        let mut seen = Vec::new();
        let mut page = 1;
        loop {
            let p = app.feed(ada, &FeedQuery { page: Some(page), limit: Some(5), skills: vec![] }).await?;
            seen.extend(p.profiles.iter().map(|p| p.id));
            if !p.has_more {
                break;
            }
            page += 1;
        }
        all.reverse();
        check(seen == all, "pages cover everyone exactly once, newest first")?;
        check(page == 5, "five pages")?;
        let capped = app.feed(ada, &FeedQuery { limit: Some(1000), ..FeedQuery::default() }).await?;
        check(capped.limit == 50 && capped.profiles.len() == 23, "limit capped at 50")?;
        expect_code(app.feed(ada, &FeedQuery { page: Some(0), ..FeedQuery::default() }).await, "validation", "page 0")
    }

    pub async fn feed_filters_by_skill(store: Arc<dyn Store>) -> Result<()> {
        let app = service(store)?;
        let (ada, _) = user(&app, "Ada").await?;
        let (bob, _) = user(&app, "Bob").await?;
        let (cy, _) = user(&app, "Cy").await?;
        app.edit_profile(bob, ProfileEdit { skills: Some(vec!["Haskell".into()]), ..ProfileEdit::default() }).await?;
        app.edit_profile(
            cy,
            ProfileEdit { skills: Some(vec!["OCaml".into(), "Rust".into()]), ..ProfileEdit::default() },
        )
        .await?;
        let q = |skills: &[&str]| FeedQuery {
            skills: skills.iter().map(|s| (*s).to_owned()).collect(),
            ..FeedQuery::default()
        };
        let ids = |p: crate::FeedPage| p.profiles.into_iter().map(|p| p.id).collect::<Vec<_>>();
        check(ids(app.feed(ada, &q(&["haskell"])).await?) == [bob], "one skill, any case")?;
        check(ids(app.feed(ada, &q(&["HASKELL", "ocaml"])).await?) == [cy, bob], "any of several")?;
        check(ids(app.feed(ada, &q(&["cobol"])).await?).is_empty(), "no match")?;
        // Bob's old skills are gone from the filter after the edit.
        check(ids(app.feed(ada, &q(&["go"])).await?).is_empty(), "replaced skills no longer match")
    }
];
