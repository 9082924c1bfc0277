//! Developer search on SQLite: the FTS5 index `user_search` (one row per user, columns
//! `name`, `skills`, `about`, `location`, tokenized `unicode61 remove_diacritics 2`, so
//! matching is case- and accent-insensitive), kept in step with profile writes in their
//! transaction, and the query that ranks with it.
//!
//! Ranking is computed, not left to `bm25`: bm25 weighs term frequency and document
//! length, so it would not give the strict order the suite asks of every store (name
//! above skills above about, see `model::rank`). Each term's hits per column are one
//! FTS lookup each, made once per query (SQLite evaluates an uncorrelated `IN
//! (subquery)` once), and a row's rank is the sum of its memberships.

use devconnect_types::{Profile, RequestStatus};
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension as _, params, params_from_iter};

use super::error::ResultExt as _;
use super::rows::{USER_COL_COUNT, USER_COLS, conversion, skills_json, user};
use crate::Result;
use crate::model::{SearchFilter, SearchHit};

/// Indexes (or re-indexes) a user's searchable fields. Called in the transaction that
/// writes them, so the index never disagrees with a committed profile.
pub(super) fn index_user(conn: &Connection, id: &str, p: &Profile) -> rusqlite::Result<()> {
    let name = format!("{} {}", p.first_name, p.last_name);
    // A separator between skills keeps the last word of one and the first of the next apart.
    let skills = p.skills.join(" , ");
    let location = p.location.as_deref().unwrap_or_default();
    let rowid: Option<i64> = conn
        .prepare_cached("SELECT search_rowid FROM users WHERE id = ?1")?
        .query_row([id], |r| r.get(0))
        .optional()?
        .flatten();
    if let Some(rowid) = rowid {
        conn.prepare_cached(
            "UPDATE user_search SET name = ?2, skills = ?3, about = ?4, location = ?5 WHERE rowid = ?1",
        )?
        .execute(params![rowid, name, skills, p.about, location])?;
    } else {
        conn.prepare_cached("INSERT INTO user_search (name, skills, about, location) VALUES (?1, ?2, ?3, ?4)")?
            .execute(params![name, skills, p.about, location])?;
        let rowid = conn.last_insert_rowid();
        conn.prepare_cached("UPDATE users SET search_rowid = ?2 WHERE id = ?1")?.execute(params![id, rowid])?;
    }
    Ok(())
}

/// Indexes every user not indexed yet (those from before the index existed): run by the
/// migration that creates it.
pub(super) fn backfill_search(conn: &Connection) -> rusqlite::Result<()> {
    let users: Vec<(String, Profile)> = conn
        .prepare(&format!("SELECT {USER_COLS} FROM users u WHERE u.search_rowid IS NULL"))?
        .query_map([], |r| user(r).map(|u| (u.me.profile.id.to_hex(), u.me.profile)))?
        .collect::<rusqlite::Result<_>>()?;
    for (id, profile) in users {
        index_user(conn, &id, &profile)?;
    }
    Ok(())
}

/// One FTS5 phrase: a folded word (letters and digits only, so quoting it is safe), as
/// a prefix when `prefix`.
fn phrase(word: &str, prefix: bool) -> String {
    format!("\"{word}\"{}", if prefix { "*" } else { "" })
}

/// The query's statement and parameters (`?1` viewer, `?2` newest id shown).
fn search_sql(viewer: &str, f: &SearchFilter) -> Result<(String, Vec<Value>)> {
    let mut params: Vec<Value> = vec![viewer.to_owned().into(), f.as_of.to_hex().into()];
    let mut bind = |v: Value| {
        params.push(v);
        format!("?{}", params.len())
    };
    let last = f.terms.len().saturating_sub(1);
    let terms: Vec<String> = f.terms.iter().enumerate().map(|(i, t)| phrase(t, i == last)).collect();
    let mut matching: Vec<String> = terms.iter().map(|t| format!("{{name skills about}} : {t}")).collect();
    matching.extend(f.location.iter().map(|w| format!("location : {}", phrase(w, false))));
    let mut conditions = String::new();
    if !matching.is_empty() {
        let p = bind(matching.join(" AND ").into());
        conditions += &format!(" AND u.search_rowid IN (SELECT rowid FROM user_search WHERE user_search MATCH {p})");
    }
    if !f.skills.is_empty() {
        let (skills, count) =
            (bind(skills_json(&f.skills)?.into()), bind(i64::try_from(f.skills.len()).unwrap_or(0).into()));
        conditions += &format!(
            " AND u.id IN (SELECT s.user_id FROM user_skills s WHERE s.skill IN (SELECT value FROM json_each({skills})) \
             GROUP BY s.user_id HAVING count(*) = {count})"
        );
    }
    if let Some(min) = f.min_experience {
        conditions += &format!(" AND u.experience_years >= {}", bind(i64::from(min).into()));
    }
    if let Some(max) = f.max_experience {
        conditions += &format!(" AND u.experience_years <= {}", bind(i64::from(max).into()));
    }
    // How many terms each column holds: one FTS lookup per term and column. Without
    // terms every rank is equal, and newest first alone decides.
    let mut order = String::new();
    for column in ["name", "skills", "about"] {
        let hits: Vec<String> = terms
            .iter()
            .map(|t| {
                let p = bind(format!("{column} : {t}").into());
                format!("(u.search_rowid IN (SELECT rowid FROM user_search WHERE user_search MATCH {p}))")
            })
            .collect();
        if !hits.is_empty() {
            order += &format!("{} DESC, ", hits.join(" + "));
        }
    }
    let (limit, offset) = (bind(f.limit.into()), bind(i64::try_from(f.offset).unwrap_or(i64::MAX).into()));
    // As in the feed: each candidate costs one lookup in each pair index.
    let pair = "CASE WHEN u.id < ?1 THEN u.id || ?1 ELSE ?1 || u.id END";
    let sql = format!(
        "SELECT {USER_COLS}, r.status FROM users u \
         LEFT JOIN connection_requests r ON r.pair_key = {pair} \
         WHERE u.id <> ?1 AND u.id <= ?2 AND u.suspended_at IS NULL AND u.deleted_at IS NULL \
           AND NOT EXISTS (SELECT 1 FROM blocks b WHERE b.pair_key = {pair}) \
           {conditions} \
         ORDER BY {order}u.id DESC LIMIT {limit} OFFSET {offset}"
    );
    Ok((sql, params))
}

/// The matches of `f` for `viewer`, ranked, one page.
pub(super) fn search(conn: &Connection, viewer: &str, f: &SearchFilter) -> Result<Vec<SearchHit>> {
    let (sql, params) = search_sql(viewer, f)?;
    let mut stmt = conn.prepare_cached(&sql).db()?;
    let rows = stmt
        .query_map(params_from_iter(params), |row| {
            let status: Option<String> = row.get(USER_COL_COUNT)?;
            let request =
                status.as_deref().map(RequestStatus::parse).transpose().map_err(|e| conversion(USER_COL_COUNT, e))?;
            Ok(SearchHit { profile: user(row)?.me.profile, request })
        })
        .db()?;
    rows.collect::<rusqlite::Result<Vec<_>>>().db()
}
