//! Developer search: what matches (names, skills, about, location, experience; case,
//! accents, the last word as a prefix), the ranking, paging, exclusions, the relation
//! of each result to the searcher, and validation.

use std::sync::Arc;

use super::behaviours;
use super::fixtures::{check, connect, expect_code, service, service_with, user, user_record};
use crate::connection::SendStatus;
use crate::profile::ProfileEdit;
use crate::search::{Relation, SearchPage, SearchQuery};
use crate::store::Store;
use crate::{DevConnect, RateLimit, Result, Settings, UserId};

/// Inserts a user at the store (no password hashing) and edits the searchable fields
/// through the service, so the index follows edits as it does in use.
async fn dev(
    app: &DevConnect,
    store: &Arc<dyn Store>,
    name: (&str, &str),
    skills: &[&str],
    about: &str,
    location: Option<&str>,
    years: Option<i64>,
) -> Result<UserId> {
    let mut record = user_record(&format!("{}.{}@search.test", name.0, name.1).to_lowercase());
    record.me.profile.skills = Vec::new();
    let id = record.me.profile.id;
    store.insert_user(&record).await?;
    let edit = ProfileEdit {
        first_name: Some(name.0.to_owned()),
        last_name: Some(name.1.to_owned()),
        skills: Some(skills.iter().map(|s| (*s).to_owned()).collect()),
        about: Some(about.to_owned()),
        location: location.map(str::to_owned),
        experience_years: years,
        ..ProfileEdit::default()
    };
    app.edit_profile(id, edit).await?;
    Ok(id)
}

/// A searcher, inserted first so everyone else is newer.
async fn searcher(store: &Arc<dyn Store>) -> Result<UserId> {
    let me = user_record("me@search.test");
    store.insert_user(&me).await?;
    Ok(me.me.profile.id)
}

fn q(text: &str) -> SearchQuery {
    SearchQuery { q: Some(text.to_owned()), ..SearchQuery::default() }
}

fn ids(page: &SearchPage) -> Vec<UserId> {
    page.results.iter().map(|r| r.profile.id).collect()
}

behaviours![
    pub async fn search_matches_words_of_names_skills_about_and_location(store: Arc<dyn Store>) -> Result<()> {
        let app = service(Arc::clone(&store))?;
        let me = searcher(&store).await?;
        let jose =
            dev(&app, &store, ("José", "Müller"), &["Rust"], "Compilers.", Some("München, Deutschland"), Some(12))
                .await?;
        let ada =
            dev(&app, &store, ("Ada", "Lovelace"), &["Go", "Machine Learning"], "I like ÉCLAIRS", None, None).await?;
        let bob = dev(&app, &store, ("Bob", "Stone"), &["Java"], "", Some("Berlin, Germany"), Some(3)).await?;
        let find = |query: SearchQuery| {
            let app = app.clone();
            async move { app.search_users(me, &query).await.map(|p| ids(&p)) }
        };
        check(find(q("jose")).await? == [jose], "accent-insensitive name")?;
        check(find(q("MÜLLER")).await? == [jose], "case-insensitive, either spelling")?;
        check(find(q("learning")).await? == [ada], "a word of a skill")?;
        check(find(q("eclairs")).await? == [ada], "a word of about, accents folded")?;
        check(find(q("ja")).await? == [bob], "the last word is a prefix")?;
        check(find(q("jav stone")).await?.is_empty(), "only the last word is a prefix")?;
        check(find(q("bob ja")).await? == [bob], "every word must match, in any field")?;
        check(find(q("bob rust")).await?.is_empty(), "all words, not any")?;
        check(find(q("berlin")).await?.is_empty(), "q does not look at the location")?;
        let at = |l: &str| SearchQuery { location: Some(l.to_owned()), ..SearchQuery::default() };
        check(find(at("berlin")).await? == [bob], "location word")?;
        check(find(at("munchen")).await? == [jose], "location, accents folded")?;
        check(find(at("berlin spain")).await?.is_empty(), "every location word")?;
        let skills =
            |s: &[&str]| SearchQuery { skills: s.iter().map(|s| (*s).to_owned()).collect(), ..SearchQuery::default() };
        check(find(skills(&["machine learning", "GO"])).await? == [ada], "all skills, case-insensitive")?;
        check(find(skills(&["go", "rust"])).await?.is_empty(), "all skills, not any")?;
        let years = |min: Option<i64>, max: Option<i64>| SearchQuery {
            min_experience: min,
            max_experience: max,
            ..SearchQuery::default()
        };
        check(find(years(Some(3), Some(12))).await? == [bob, jose], "bounds are inclusive")?;
        check(find(years(Some(4), None)).await? == [jose], "at least")?;
        check(find(years(None, Some(11))).await? == [bob], "at most; no experience given never matches")?;
        // Edits re-index: old words stop matching, new ones match.
        app.edit_profile(ada, ProfileEdit { first_name: Some("Grace".into()), ..ProfileEdit::default() }).await?;
        check(find(q("ada")).await?.is_empty() && find(q("grace")).await? == [ada], "renamed")?;
        app.edit_profile(bob, ProfileEdit { location: Some(String::new()), ..ProfileEdit::default() }).await?;
        check(find(at("berlin")).await?.is_empty(), "a cleared location no longer matches")
    }

    pub async fn search_ranks_name_above_skills_above_about_then_newest(store: Arc<dyn Store>) -> Result<()> {
        let app = service(Arc::clone(&store))?;
        let me = searcher(&store).await?;
        let about = dev(&app, &store, ("Ann", "A"), &[], "I write rust daily", None, None).await?;
        let skill = dev(&app, &store, ("Ben", "B"), &["Rust"], "", None, None).await?;
        let name = dev(&app, &store, ("Rusty", "C"), &[], "", None, None).await?;
        let two_skills = dev(&app, &store, ("Cy", "D"), &["Rust", "Go"], "", None, None).await?;
        let skill_newer = dev(&app, &store, ("Dee", "E"), &["Rust"], "", None, None).await?;
        let page = app.search_users(me, &q("rust")).await?;
        check(ids(&page) == [name, skill_newer, two_skills, skill, about], &format!("rank: {:?}", ids(&page)))?;
        let page = app.search_users(me, &q("go rust")).await?;
        check(ids(&page) == [two_skills], "all words")?;
        let page = app.search_users(me, &q("r")).await?;
        check(ids(&page) == [name, skill_newer, two_skills, skill, about], "prefix ranks the same")?;
        // Pages of two cut across the ranks and still list every match once, in order.
        let mut paged = Vec::new();
        for n in 1..=3 {
            let page = app.search_users(me, &SearchQuery { page: Some(n), limit: Some(2), ..q("rus") }).await?;
            check(page.has_more == (n < 3), "hasMore across the ranks")?;
            paged.extend(ids(&page));
        }
        check(paged == [name, skill_newer, two_skills, skill, about], &format!("paged: {paged:?}"))?;
        // No words, no filters: everyone visible, newest first (the feed's order).
        let all = app.search_users(me, &SearchQuery::default()).await?;
        check(ids(&all) == [skill_newer, two_skills, name, skill, about], "newest first")
    }

    pub async fn search_pages_neither_overlap_nor_shift_with_new_signups(store: Arc<dyn Store>) -> Result<()> {
        let app = service(Arc::clone(&store))?;
        let me = searcher(&store).await?;
        let mut all = Vec::new();
        // All named "Store User": they tie on rank, so newest first decides.
        for i in 0..23 {
            let record = user_record(&format!("p{i}@search.test"));
            all.push(record.me.profile.id);
            store.insert_user(&record).await?;
        }
        let mut seen = Vec::new();
        let mut as_of = None;
        for page in 1.. {
            let query = SearchQuery { page: Some(page), limit: Some(5), as_of, ..q("store") };
            let found = app.search_users(me, &query).await?;
            check(found.limit == 5 && found.page == page, "page fields")?;
            as_of = Some(found.as_of);
            seen.extend(ids(&found));
            // A signup between pages would shift offsets; `asOf` keeps it out.
            store.insert_user(&user_record(&format!("late{page}@search.test"))).await?;
            if !found.has_more {
                break;
            }
        }
        all.reverse();
        check(seen == all, &format!("every match once, newest first: {} of {}", seen.len(), all.len()))?;
        let fresh = app.search_users(me, &q("store")).await?;
        check(fresh.results.len() == 20 && fresh.has_more, "a new search sees the late signups; default limit 20")?;
        let capped = app.search_users(me, &SearchQuery { limit: Some(1000), ..q("store") }).await?;
        check(capped.limit == 50 && capped.results.len() == 23 + 5, "limit capped at 50")
    }

    /// Accounts stored out of the order of their ids (two signups racing: the newer id
    /// stored first) are still listed newest first, in every kind of walk, and pages
    /// still neither overlap nor skip.
    pub async fn search_orders_accounts_stored_out_of_id_order(store: Arc<dyn Store>) -> Result<()> {
        let app = service(Arc::clone(&store))?;
        let me = searcher(&store).await?;
        let mut records: Vec<_> = (0..12).map(|i| user_record(&format!("race{i}@search.test"))).collect();
        // All alike, so only the order of their ids tells them apart.
        for record in &mut records {
            record.me.profile.first_name = "Racer".to_owned();
            record.me.profile.skills = vec!["Rust".to_owned(), "Go".to_owned()];
            record.me.profile.location = Some("Berlin".to_owned());
        }
        let mut newest_first: Vec<UserId> = records.iter().map(|r| r.me.profile.id).collect();
        newest_first.reverse();
        // Every other one first, newest first (the worst order), then the rest.
        for record in records.iter().rev().step_by(2).chain(records.iter().rev().skip(1).step_by(2)) {
            store.insert_user(record).await?;
        }
        let queries = [
            ("a word", q("racer")),
            ("a prefix", q("rac")),
            ("a location", SearchQuery { location: Some("berlin".to_owned()), ..SearchQuery::default() }),
            ("skills", SearchQuery { skills: vec!["go".to_owned(), "rust".to_owned()], ..SearchQuery::default() }),
        ];
        for (what, query) in queries {
            let mut seen = Vec::new();
            for page in 1..=5 {
                let found =
                    app.search_users(me, &SearchQuery { page: Some(page), limit: Some(4), ..query.clone() }).await?;
                seen.extend(ids(&found));
                if !found.has_more {
                    break;
                }
            }
            check(seen == newest_first, &format!("{what}: newest first across pages, got {seen:?}"))?;
        }
        Ok(())
    }

    pub async fn search_leaves_out_me_the_suspended_and_blocks_either_way(store: Arc<dyn Store>) -> Result<()> {
        let app = service(Arc::clone(&store))?;
        let me = dev(&app, &store, ("Me", "Searcher"), &["Rust"], "", None, None).await?;
        let blocked = dev(&app, &store, ("Bob", "Blocked"), &["Rust"], "", None, None).await?;
        let blocker = dev(&app, &store, ("Eve", "Blocker"), &["Rust"], "", None, None).await?;
        let suspended = dev(&app, &store, ("Sam", "Suspended"), &["Rust"], "", None, None).await?;
        let visible = dev(&app, &store, ("Vic", "Visible"), &["Rust"], "", None, None).await?;
        app.block(me, blocked).await?;
        app.block(blocker, me).await?;
        store.set_suspended(suspended, Some(crate::now())).await?;
        for query in [q("rust"), SearchQuery::default(), q("")] {
            let found = ids(&app.search_users(me, &query).await?);
            check(found == [visible], &format!("{query:?}: {found:?}"))?;
        }
        check(ids(&app.search_users(blocked, &q("searcher")).await?).is_empty(), "the blocked do not find me")
    }

    pub async fn search_results_say_connected_pending_or_none(store: Arc<dyn Store>) -> Result<()> {
        let app = service(Arc::clone(&store))?;
        let me = searcher(&store).await?;
        let friend = dev(&app, &store, ("Fay", "Friend"), &["Rust"], "", None, None).await?;
        let asked = dev(&app, &store, ("Al", "Asked"), &["Rust"], "", None, None).await?;
        let asker = dev(&app, &store, ("Ike", "Asker"), &["Rust"], "", None, None).await?;
        let ignored = dev(&app, &store, ("Ian", "Ignored"), &["Rust"], "", None, None).await?;
        let stranger = dev(&app, &store, ("Sy", "Stranger"), &["Rust"], "", None, None).await?;
        connect(&app, friend, me).await?;
        app.send_request(me, asked, SendStatus::Interested, None).await?;
        app.send_request(asker, me, SendStatus::Interested, None).await?;
        app.send_request(me, ignored, SendStatus::Ignored, None).await?;
        let page = app.search_users(me, &q("rust")).await?;
        let relations: Vec<(UserId, Relation)> = page.results.iter().map(|r| (r.profile.id, r.relation)).collect();
        let expected = [
            (stranger, Relation::None),
            (ignored, Relation::None),
            (asker, Relation::Pending),
            (asked, Relation::Pending),
            (friend, Relation::Connected),
        ];
        check(relations == expected, &format!("{relations:?}"))?;
        let json = serde_json::to_value(&page.results[0]).map_err(crate::Error::internal)?;
        check(json["relation"] == "none" && json["firstName"] == "Sy" && json.get("emailID").is_none(), "flattened")
    }

    pub async fn search_input_is_validated(store: Arc<dyn Store>) -> Result<()> {
        let app = service(Arc::clone(&store))?;
        let me = searcher(&store).await?;
        let zed = dev(&app, &store, ("Zed", "Zed"), &["Zig"], "", None, None).await?;
        expect_code(app.search_users(me, &q(&"x".repeat(201))).await, "validation", "q over 200 characters")?;
        let negative = SearchQuery { min_experience: Some(-1), ..SearchQuery::default() };
        expect_code(app.search_users(me, &negative).await, "validation", "negative experience")?;
        let crossed = SearchQuery { min_experience: Some(9), max_experience: Some(2), ..SearchQuery::default() };
        expect_code(app.search_users(me, &crossed).await, "validation", "min above max")?;
        expect_code(app.search_users(me, &SearchQuery { page: Some(0), ..q("a") }).await, "validation", "page 0")?;
        // Query syntax of the indexes is never interpreted: these are just words...
        for text in ["a OR b", "name:x*", "NEAR(a b)", "^n:.*", "{$gt: 1}", "zed OR x"] {
            check(app.search_users(me, &q(text)).await?.results.is_empty(), text)?;
        }
        // ...and text without any word is no query at all.
        for text in ["\"", "-", "*", "  "] {
            check(ids(&app.search_users(me, &q(text)).await?) == [zed], text)?;
        }
        Ok(())
    }

    pub async fn searches_are_rate_limited_per_user_after_validation(store: Arc<dyn Store>) -> Result<()> {
        let settings = Settings { search_rate: RateLimit::per_minute(2), ..Settings::default() };
        let app = service_with(store, settings)?;
        let (ada, bob) = (user(&app, "Ada").await?.0, user(&app, "Bob").await?.0);
        let bad = SearchQuery { min_experience: Some(-1), ..SearchQuery::default() };
        // A refused query costs nothing from the budget.
        expect_code(app.search_users(ada, &bad).await, "validation", "bad input")?;
        app.search_users(ada, &SearchQuery::default()).await?;
        app.search_users(ada, &SearchQuery::default()).await?;
        expect_code(app.search_users(ada, &SearchQuery::default()).await, "rate_limited", "the third")?;
        // Per user: Bob has his own.
        app.search_users(bob, &SearchQuery::default()).await.map(drop)
    }
];
