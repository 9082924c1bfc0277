//! The SQLite store's own tests (files, migrations, query plans); the conformance suite
//! (`crate::testkit`) runs on it in memory and on disk.

use std::path::Path;

use super::SqliteStore;
use super::chat::{history_sql, sync_sql};
use super::error::ResultExt as _;
use super::users::{FeedSkills, feed_sql};
use crate::model::{FeedFilter, ProfileUpdate};
use crate::store::prelude::*;
use crate::{Error, Result};

#[cfg(unix)]
#[tokio::test]
async fn the_database_and_its_wal_are_private_to_the_owner() -> Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    let mode = |p: &Path| std::fs::metadata(p).map(|m| m.permissions().mode() & 0o777).ok();
    let dir = tempfile::tempdir().map_err(Error::internal)?;
    let path = dir.path().join("private.db");
    let store = SqliteStore::open(&path).await?;
    store.insert_user(&crate::testkit::user_record("private@example.com")).await?;
    assert_eq!(mode(&path), Some(0o600));
    assert_eq!(mode(&dir.path().join("private.db-wal")), Some(0o600));
    store.close().await?;
    drop(store);
    // A database created readable by others (an older version) is made private.
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).map_err(Error::internal)?;
    let store = SqliteStore::open(&path).await?;
    assert_eq!(mode(&path), Some(0o600));
    store.close().await
}

#[tokio::test]
async fn reopening_keeps_data_and_does_not_rerun_migrations() -> Result<()> {
    let dir = tempfile::tempdir().map_err(Error::internal)?;
    let path = dir.path().join("x.db");
    let store = SqliteStore::open(&path).await?;
    let user = crate::testkit::user_record("reopen@example.com");
    store.insert_user(&user).await?;
    store.close().await?;
    drop(store);
    let store = SqliteStore::open(&path).await?;
    let found = store.user_by_email("reopen@example.com").await?;
    assert_eq!(found.map(|u| u.me), Some(user.me));
    Ok(())
}

#[tokio::test]
async fn paged_queries_are_planned_once_whatever_is_bound() -> Result<()> {
    let store = SqliteStore::open_in_memory().await?;
    let (a, b) = (crate::testkit::user_record("a@example.com"), crate::testkit::user_record("b@example.com"));
    store.insert_user(&a).await?;
    store.insert_user(&b).await?;
    let (a, b) = (a.me.profile.id, b.me.profile.id);
    for (limit, offset) in [(10, 0), (20, 40), (10, 0)] {
        store.feed(a, &FeedFilter { offset, limit, skills: Vec::new() }).await?;
        store.feed(a, &FeedFilter { offset, limit, skills: vec!["rust".to_owned()] }).await?;
        store.history(a, b, None, limit).await?;
        store.sync(a, None, &[b], limit).await?;
    }
    // An in-memory store reads on its writer's connection, which caches the statements.
    let reprepared = store
        .write(|conn| {
            [feed_sql(FeedSkills::Any), feed_sql(FeedSkills::Rare), history_sql(), sync_sql()]
                .iter()
                .map(|sql| Ok(conn.prepare_cached(sql).db()?.get_status(rusqlite::StatementStatus::RePrepare)))
                .collect::<Result<Vec<i32>>>()
        })
        .await?;
    assert_eq!(reprepared, [0, 0, 0, 0]);
    Ok(())
}

#[tokio::test]
async fn a_common_and_a_rare_skills_filter_page_the_same_way() -> Result<()> {
    // Every other user has `sql`: more than the rare path collects. A few have `cobol`.
    let store = SqliteStore::open_in_memory().await?;
    let mut ids = Vec::new();
    for i in 0..4200 {
        let mut record = crate::testkit::user_record(&format!("u{i}@skills.test"));
        let (sql, cobol) = (i % 2 == 0, i % 300 == 1);
        record.me.profile.skills = [(sql, "SQL"), (cobol, "COBOL"), (true, "Go")]
            .iter()
            .filter(|(has, _)| *has)
            .map(|(_, skill)| (*skill).to_owned())
            .collect();
        ids.push((record.me.profile.id, sql, cobol));
        store.insert_user(&record).await?;
    }
    let viewer = crate::testkit::user_record("viewer@skills.test");
    store.insert_user(&viewer).await?;
    let viewer = viewer.me.profile.id;
    let choice = |skill: &str| {
        let skills = super::rows::skills_json(&[skill.to_owned()]);
        store.write(move |conn| FeedSkills::choose(conn, &skills?).db())
    };
    assert_eq!(choice("sql").await?, FeedSkills::Common);
    assert_eq!(choice("cobol").await?, FeedSkills::Rare);
    // Newest first, the viewer left out, pages adjoining.
    ids.reverse();
    for (skill, expected) in [
        ("sql", ids.iter().filter(|u| u.1).map(|u| u.0).collect::<Vec<_>>()),
        ("cobol", ids.iter().filter(|u| u.2).map(|u| u.0).collect()),
    ] {
        for (offset, limit) in [(0_usize, 5_u32), (5, 5), (2095, 10)] {
            let filter = FeedFilter { offset: offset as u64, limit, skills: vec![skill.to_owned()] };
            let page: Vec<_> = store.feed(viewer, &filter).await?.iter().map(|p| p.id).collect();
            let want: Vec<_> = expected.iter().skip(offset).take(limit as usize).copied().collect();
            assert_eq!(page, want, "{skill} at {offset}");
        }
    }
    Ok(())
}

/// A database from before migration 15 (rowids counting up in the order of ids) is
/// indexed anew, counting down, when it is opened: search lists newest first across
/// pages.
#[tokio::test]
async fn a_database_whose_search_rowids_count_up_is_indexed_anew_at_open() -> Result<()> {
    let dir = tempfile::tempdir().map_err(Error::internal)?;
    let path = dir.path().join("order.db");
    let store = SqliteStore::open(&path).await?;
    let mut ids = Vec::new();
    for i in 0..6 {
        let mut record = crate::testkit::user_record(&format!("order{i}@example.com"));
        record.me.profile.first_name = "Ordered".to_owned();
        ids.push(record.me.profile.id);
        store.insert_user(&record).await?;
    }
    store.close().await?;
    drop(store);
    // As migration 14 left it: rowids counting up in the order of ids.
    {
        let conn = rusqlite::Connection::open(&path).db()?;
        let rows: Vec<(String, i64)> = conn
            .prepare("SELECT id, search_rowid FROM users ORDER BY id")
            .and_then(|mut s| s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect())
            .db()?;
        for (n, (id, rowid)) in (1000i64..).zip(rows) {
            conn.execute(
                "INSERT INTO user_words (rowid, words) SELECT ?1, words FROM user_words WHERE rowid = ?2",
                rusqlite::params![n, rowid],
            )
            .db()?;
            conn.execute("DELETE FROM user_words WHERE rowid = ?1", [rowid]).db()?;
            conn.execute("UPDATE users SET search_rowid = ?1 WHERE id = ?2", rusqlite::params![n, id]).db()?;
        }
        conn.execute_batch(&format!("{BEFORE_SKILL_COUNTS} PRAGMA user_version = 14;")).db()?;
    }
    let store: std::sync::Arc<dyn Store> = std::sync::Arc::new(SqliteStore::open(&path).await?);
    let app = crate::testkit::service(std::sync::Arc::clone(&store))?;
    let searcher = crate::testkit::user_record("searcher@example.com");
    store.insert_user(&searcher).await?;
    let query = crate::SearchQuery { q: Some("ordered".to_owned()), limit: Some(4), ..Default::default() };
    let mut seen = Vec::new();
    for page in 1..=2 {
        let found =
            app.search_users(searcher.me.profile.id, &crate::SearchQuery { page: Some(page), ..query.clone() }).await?;
        seen.extend(found.results.iter().map(|r| r.profile.id));
    }
    ids.reverse();
    assert_eq!(seen, ids, "newest first across pages");
    store.close().await
}

/// Several skills held by many are found by merging their index ranges, and page as a
/// walk of one skill would: newest first, leaving out the viewer, the suspended, blocks
/// either way and experience out of bounds, pages adjoining across the merge's chunks.
#[tokio::test]
async fn several_common_skills_are_merged_and_page_newest_first() -> Result<()> {
    use std::sync::Arc;
    let sqlite = Arc::new(SqliteStore::open_in_memory().await?);
    let store: Arc<dyn Store> = Arc::clone(&sqlite) as Arc<dyn Store>;
    let app = crate::testkit::service(Arc::clone(&store))?;
    let viewer = crate::testkit::user_record("viewer@merge.test");
    store.insert_user(&viewer).await?;
    let viewer = viewer.me.profile.id;
    // (id, has sql and go, years, hidden from the viewer)
    let mut users = Vec::new();
    for i in 0..4500_u32 {
        let mut record = crate::testkit::user_record(&format!("m{i}@merge.test"));
        let (sql, go) = (i % 2 == 0, i % 3 != 0);
        record.me.profile.skills = [(sql, "SQL"), (go, "Go"), (true, "Rust")]
            .iter()
            .filter(|(has, _)| *has)
            .map(|(_, skill)| (*skill).to_owned())
            .collect();
        let years = u8::try_from(i % 10).map_err(crate::Error::internal)?;
        record.me.profile.experience_years = Some(years);
        let id = record.me.profile.id;
        store.insert_user(&record).await?;
        let hidden = i % 11 == 0 || i % 97 == 1 || i % 89 == 2;
        if i % 11 == 0 {
            store.set_suspended(id, Some(crate::now())).await?;
        } else if i % 97 == 1 {
            app.block(viewer, id).await?;
        } else if i % 89 == 2 {
            app.block(id, viewer).await?;
        }
        users.push((id, sql && go, years, hidden));
    }
    let walk = |skills: &[&str]| {
        let skills: Vec<String> = skills.iter().map(|s| (*s).to_owned()).collect();
        sqlite.write(move |conn| super::search::skills_walk(conn, &skills).map(|w| format!("{w:?}")))
    };
    assert_eq!(walk(&["sql", "go"]).await?, "Merge");
    assert_eq!(walk(&["sql"]).await?, "Rarest(\"sql\")");
    users.reverse();
    for (skills, min_experience) in [(vec!["sql", "go"], None), (vec!["rust", "go", "sql"], Some(4))] {
        let expected: Vec<_> = users
            .iter()
            .filter(|u| u.1 && !u.3 && min_experience.is_none_or(|min| i64::from(u.2) >= min))
            .map(|u| u.0)
            .collect();
        let query = crate::SearchQuery {
            skills: skills.iter().map(|s| (*s).to_owned()).collect(),
            min_experience,
            ..crate::SearchQuery::default()
        };
        for (page, limit) in [(1_u32, 5_u32), (2, 5), (1, 50), (2, 50), (20, 50), (30, 50)] {
            let found = app
                .search_users(viewer, &crate::SearchQuery { page: Some(page), limit: Some(limit), ..query.clone() })
                .await?;
            let at = (page - 1) as usize * limit as usize;
            let want: Vec<_> = expected.iter().skip(at).take(limit as usize).copied().collect();
            let got: Vec<_> = found.results.iter().map(|r| r.profile.id).collect();
            assert_eq!(got, want, "{skills:?} page {page} of {limit}");
            assert_eq!(found.has_more, expected.len() > at + limit as usize, "{skills:?} page {page} of {limit}");
        }
    }
    Ok(())
}

/// A database from before migration 12 (its search index `user_search`, whose fields
/// shared one doclist per word) is indexed anew when opened, a user indexed out of order
/// and one never indexed included: searches find, rank and page its users as before.
#[tokio::test]
async fn a_database_from_before_the_field_tagged_index_is_indexed_at_open() -> Result<()> {
    let dir = tempfile::tempdir().map_err(Error::internal)?;
    let path = dir.path().join("v11.db");
    let store = SqliteStore::open(&path).await?;
    let searcher = crate::testkit::user_record("searcher@v11.test");
    store.insert_user(&searcher).await?;
    let people: [(&str, &[&str], &str, Option<&str>); 6] = [
        ("Rusty", &["Go"], "", Some("Berlin")),
        ("Ann", &["Rust", "Go"], "", None),
        ("Ben", &["Rust"], "I write rust daily", Some("Berlin, Germany")),
        ("Cy", &[], "rustaceans", None),
        ("Dee", &["Rust", "Go"], "", Some("München")),
        // Suspended: found by none of the searches.
        ("Rusk", &["Rust", "Go"], "rust", Some("Berlin")),
    ];
    let mut ids = Vec::new();
    for (first, skills, about, location) in people {
        let mut record = crate::testkit::user_record(&format!("{first}@v11.test"));
        let p = &mut record.me.profile;
        first.clone_into(&mut p.first_name);
        p.skills = skills.iter().map(|s| (*s).to_owned()).collect();
        about.clone_into(&mut p.about);
        p.location = location.map(str::to_owned);
        ids.push(record.me.profile.id);
        store.insert_user(&record).await?;
    }
    store.set_suspended(ids[5], Some(crate::now())).await?;
    store.close().await?;
    drop(store);
    // Back to schema 11: the old index, two users' rows out of the order of ids, one
    // user not indexed.
    {
        let conn = rusqlite::Connection::open(&path).db()?;
        conn.execute_batch(
            "DROP TABLE user_words;
             DROP INDEX users_suspended;
             UPDATE users SET search_rowid = -search_rowid; -- counting up, as before migration 15
             CREATE VIRTUAL TABLE user_search USING fts5(
                 name, skills, about, location, tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3');
             INSERT INTO user_search (rowid, name, skills, about, location)
                 SELECT search_rowid, first_name || ' ' || last_name, skills, about, coalesce(location, '')
                 FROM users;
             PRAGMA user_version = 11;",
        )
        .db()?;
        conn.execute_batch(BEFORE_SKILL_COUNTS).db()?;
        let rowid = |id: crate::UserId| {
            conn.query_row("SELECT search_rowid FROM users WHERE id = ?1", [id.to_hex()], |r| r.get::<_, i64>(0)).db()
        };
        let (a, b) = (rowid(ids[1])?, rowid(ids[2])?);
        for (id, to) in [(ids[1], i64::MAX), (ids[2], a), (ids[1], b)] {
            conn.execute("UPDATE users SET search_rowid = ?2 WHERE id = ?1", rusqlite::params![id.to_hex(), to])
                .db()?;
        }
        conn.execute("UPDATE users SET search_rowid = NULL WHERE id = ?1", [ids[3].to_hex()]).db()?;
    }
    let store: std::sync::Arc<dyn Store> = std::sync::Arc::new(SqliteStore::open(&path).await?);
    let app = crate::testkit::service(std::sync::Arc::clone(&store))?;
    let me = searcher.me.profile.id;
    let find = |query: crate::SearchQuery| {
        let app = app.clone();
        async move {
            let mut seen = Vec::new();
            for page in 1..=3 {
                let found = app
                    .search_users(me, &crate::SearchQuery { page: Some(page), limit: Some(2), ..query.clone() })
                    .await?;
                seen.extend(found.results.iter().map(|r| r.profile.id));
            }
            Ok::<_, Error>(seen)
        }
    };
    let q = |text: &str| crate::SearchQuery { q: Some(text.to_owned()), ..Default::default() };
    let [rusty, ann, ben, cy, dee] = [ids[0], ids[1], ids[2], ids[3], ids[4]];
    // Name, then skills and about, then skills (newest first), then about.
    assert_eq!(find(q("rust")).await?, [rusty, ben, dee, ann, cy]);
    assert_eq!(find(q("go ann")).await?, [ann]);
    assert_eq!(find(q("munchen")).await?, [], "q does not look at the location");
    let at = |l: &str| crate::SearchQuery { location: Some(l.to_owned()), ..Default::default() };
    assert_eq!(find(at("berlin")).await?, [ben, rusty]);
    assert_eq!(find(at("munchen")).await?, [dee]);
    let skills = crate::SearchQuery { skills: vec!["rust".into(), "go".into()], ..Default::default() };
    assert_eq!(find(skills).await?, [dee, ann]);
    assert_eq!(find(crate::SearchQuery::default()).await?, [dee, cy, ben, ann, rusty]);
    store.close().await
}

/// The search index's segments, as FTS5 lists their pages.
async fn search_segments(store: &SqliteStore) -> Result<i64> {
    store.read(|conn| conn.query_row("SELECT count(DISTINCT segid) FROM user_words_idx", [], |r| r.get(0)).db()).await
}

#[tokio::test]
async fn the_idle_writer_merges_the_search_index() -> Result<()> {
    let dir = tempfile::tempdir().map_err(Error::internal)?;
    let store = SqliteStore::open(dir.path().join("merge.db")).await?;
    // Each signup commits alone (the previous one is answered first): a segment each.
    for i in 0..15 {
        store.insert_user(&crate::testkit::user_record(&format!("dev{i}@example.com"))).await?;
    }
    // FTS5 alone leaves most of them (15 of 15 here); the writer, once idle, merges
    // them into one. Polled: the merge runs after the writes are answered.
    let mut segments = search_segments(&store).await?;
    for _ in 0..500 {
        if segments <= 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        segments = search_segments(&store).await?;
    }
    assert_eq!(segments, 1);
    // Merged, the index answers as before.
    let viewer = crate::testkit::user_record("viewer@example.com");
    store.insert_user(&viewer).await?;
    let filter = crate::model::SearchFilter {
        terms: vec!["store".to_owned()],
        location: Vec::new(),
        skills: Vec::new(),
        min_experience: None,
        max_experience: None,
        as_of: crate::UserId::new(),
        offset: 0,
        limit: 50,
    };
    let found = store.search_users(viewer.me.profile.id, &filter).await?;
    assert_eq!(found.len(), 15);
    store.close().await
}

/// Takes a database back to before migration 16 (`skill_counts`).
const BEFORE_SKILL_COUNTS: &str =
    "DROP TRIGGER user_skills_counted; DROP TRIGGER user_skills_uncounted; DROP TABLE skill_counts;";

/// Each skill's holders as `user_skills` counts them, and as `skill_counts` keeps them.
async fn skill_counts(store: &SqliteStore) -> Result<(Vec<(String, i64)>, Vec<(String, i64)>)> {
    store
        .read(|conn| {
            let all = |sql: &str| {
                conn.prepare(sql).and_then(|mut s| s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect())
            };
            let counted = all("SELECT skill, count(*) FROM user_skills GROUP BY skill ORDER BY skill").db()?;
            let kept = all("SELECT skill, users FROM skill_counts ORDER BY skill").db()?;
            Ok((counted, kept))
        })
        .await
}

/// The per-skill counts that choose a skills walk follow signups, edits (case-folded
/// duplicates counted once) and erasure, drop skills nobody holds, and are made by the
/// migration for a database that had none.
#[tokio::test]
async fn skill_counts_follow_every_write_of_skills() -> Result<()> {
    let dir = tempfile::tempdir().map_err(Error::internal)?;
    let path = dir.path().join("counts.db");
    let store = SqliteStore::open(&path).await?;
    let mut ids = Vec::new();
    for (i, skills) in [&["Rust", "Go"][..], &["rust", "SQL"], &["Go", "Elm"]].iter().enumerate() {
        let mut record = crate::testkit::user_record(&format!("count{i}@example.com"));
        record.me.profile.skills = skills.iter().map(|s| (*s).to_owned()).collect();
        ids.push(record.me.profile.id);
        store.insert_user(&record).await?;
    }
    let skills =
        |s: &[&str]| ProfileUpdate { skills: Some(s.iter().map(|s| (*s).to_owned()).collect()), ..Default::default() };
    store.update_profile(ids[0], &skills(&["RUST", "rust", "Zig"]), crate::now()).await?;
    store.update_profile(ids[2], &skills(&["Go"]), crate::now()).await?;
    store.erase_user(ids[1], crate::now()).await?;
    let (counted, kept) = skill_counts(&store).await?;
    let want = [("go", 1), ("rust", 1), ("zig", 1)].map(|(s, n)| (s.to_owned(), n));
    assert_eq!(counted, want);
    assert_eq!(kept, want, "elm and sql are held by nobody: no row");
    store.close().await?;
    drop(store);
    // Back to schema 15: no counts.
    {
        let conn = rusqlite::Connection::open(&path).db()?;
        conn.execute_batch(&format!("{BEFORE_SKILL_COUNTS} PRAGMA user_version = 15;")).db()?;
    }
    let store = SqliteStore::open(&path).await?;
    assert_eq!(skill_counts(&store).await?.1, want, "the migration counts every skill");
    store.close().await
}
