//! Developer search on SQLite: the FTS5 index `user_words` (one row per user), kept in
//! step with profile writes in their transaction, and the queries that page through it.
//!
//! Each word is indexed with its field as a one-letter tag (`n` name, `s` skills, `a`
//! about, `l` location: `nrust` is "rust" in the name), so a word's doclist per field is
//! its own: a search for a word in the names reads no row where it is only a skill. The
//! words are [`search_words`] (folded as the MongoDB store and `model::rank` fold them),
//! space-separated, under the `ascii` tokenizer, which keeps each as one token.
//! `detail = none`: tags stand for columns and no query needs positions, so the index
//! holds rowids only; prefix indexes on 2–5 characters answer the tag and a typed word
//! of up to four letters (search as you type) without merging the doclists of every
//! word with that start.
//!
//! Ranking is computed, not left to `bm25`: bm25 weighs term frequency and document
//! length, so it would not give the strict order the suite asks of every store (name
//! above skills above about, see `model::rank`).
//!
//! Pages are read, not sorted: a search walks one index newest first and stops once the
//! page is full, so its cost follows the rows it skips and returns, not the matches.
//! - With one word, each rank is one FTS query (which fields hold the word: 7 tiers,
//!   best first), read newest first and only as far as the page's end, ids first.
//! - Without words, the walk follows the location's FTS match; else, when every asked
//!   skill is common, a merge of the skills' ranges of `user_skills` (keyed by skill,
//!   then user id: SQLite's `MERGE (INTERSECT)`), a chunk of ids at a time; else the
//!   rarest asked skill, testing the others on its ids; else the users themselves.
//! - Several words rank every match (one FTS lookup per word and field): all of them
//!   must match, so there are usually few.
//!
//! Newest first along the FTS index needs its rowids in the reverse order of user ids,
//! counting down as people sign up: FTS5 reads a doclist forwards cheaply, but walking
//! it backwards decodes each page's offsets first (two to three times the time per
//! phrase at a million users). A user indexed after a newer one (two signups racing)
//! moves the newer rows below it ([`index_user`]); migration 15 indexed every database
//! anew in that order.

use devconnect_types::{Profile, RequestStatus};
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension as _, Row, params, params_from_iter};

use super::error::ResultExt as _;
use super::rows::{USER_COL_COUNT, USER_COLS, conversion, user};
use crate::Result;
use crate::model::{SearchFilter, SearchHit, one_word_ranks, search_words};

/// A skill held by more users than this counts as common when choosing which skill's
/// index to walk.
const COMMON_SKILL_ROWS: i64 = 2000;

/// The tags of the fields (see the module docs): a tag and a folded word make a token.
const NAME: char = 'n';
const SKILLS: char = 's';
const ABOUT: char = 'a';
const LOCATION: char = 'l';

/// A profile's row of the index: each word of each searchable field, tagged with its
/// field, separated by spaces.
fn indexed_words(p: &Profile) -> String {
    let mut words = String::new();
    let mut add = |tag: char, text: &str| {
        for word in search_words(text) {
            words.push(tag);
            words.push_str(&word);
            words.push(' ');
        }
    };
    add(NAME, &p.first_name);
    add(NAME, &p.last_name);
    for skill in &p.skills {
        add(SKILLS, skill);
    }
    add(ABOUT, &p.about);
    add(LOCATION, p.location.as_deref().unwrap_or_default());
    words
}

/// Indexes (or re-indexes) a user's searchable fields. Called in the transaction that
/// writes them, so the index never disagrees with a committed profile.
pub(super) fn index_user(conn: &Connection, id: &str, p: &Profile) -> rusqlite::Result<()> {
    let words = indexed_words(p);
    let rowid: Option<i64> = conn
        .prepare_cached("SELECT search_rowid FROM users WHERE id = ?1")?
        .query_row([id], |r| r.get(0))
        .optional()?
        .flatten();
    if let Some(rowid) = rowid {
        conn.prepare_cached("UPDATE user_words SET words = ?2 WHERE rowid = ?1")?.execute(params![rowid, words])?;
        return Ok(());
    }
    // Users indexed already but newer than this one (a signup whose id was made while a
    // slower one hashed its password) move below it, so rowids keep the reverse order of
    // ids.
    let newer: Vec<String> = conn
        .prepare_cached("SELECT id FROM users WHERE id > ?1 AND search_rowid IS NOT NULL ORDER BY id")?
        .query_map([id], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut moved = Vec::with_capacity(newer.len());
    for other in &newer {
        moved.push(unindex(conn, other)?);
    }
    prepend(conn, id, &words)?;
    for (other, words) in newer.iter().zip(&moved) {
        prepend(conn, other, words)?;
    }
    Ok(())
}

/// Takes a user's row out of the index, returning its words.
fn unindex(conn: &Connection, id: &str) -> rusqlite::Result<String> {
    let (rowid, words): (i64, String) = conn
        .prepare_cached(
            "SELECT w.rowid, w.words FROM users u JOIN user_words w ON w.rowid = u.search_rowid WHERE u.id = ?1",
        )?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))?;
    conn.prepare_cached("DELETE FROM user_words WHERE rowid = ?1")?.execute([rowid])?;
    conn.prepare_cached("UPDATE users SET search_rowid = NULL WHERE id = ?1")?.execute([id])?;
    Ok(words)
}

/// Indexes a user below every indexed row (the lowest rowid, from `users`' index).
fn prepend(conn: &Connection, id: &str, words: &str) -> rusqlite::Result<()> {
    let rowid: i64 =
        conn.prepare_cached("SELECT coalesce(min(search_rowid), 0) - 1 FROM users")?.query_row([], |r| r.get(0))?;
    conn.prepare_cached("INSERT INTO user_words (rowid, words) VALUES (?1, ?2)")?.execute(params![rowid, words])?;
    conn.prepare_cached("UPDATE users SET search_rowid = ?2 WHERE id = ?1")?.execute(params![id, rowid])?;
    Ok(())
}

/// Users read at a time by [`build_search_index`].
const BUILD_BATCH: i64 = 5000;

/// Indexes every user but the deleted into an empty `user_words`, rowids counting down
/// from the oldest user (-1): run by the migration that creates it. Users are read
/// newest first, so rowids are inserted in increasing order, the order FTS5 appends
/// fastest (decreasing, the build took 100 s at a million users, mostly merging). Older
/// indexes counted up from 1, so a new rowid never meets an old one in `users`' unique
/// index and each user's is written once; the deleted lose theirs.
pub(super) fn build_search_index(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute("UPDATE users SET search_rowid = NULL WHERE deleted_at IS NOT NULL AND search_rowid IS NOT NULL", [])?;
    let users: i64 = conn.query_row("SELECT count(*) FROM users WHERE deleted_at IS NULL", [], |r| r.get(0))?;
    let mut read = conn.prepare(&format!(
        "SELECT {USER_COLS} FROM users u WHERE (?1 IS NULL OR u.id < ?1) AND u.deleted_at IS NULL \
         ORDER BY u.id DESC LIMIT ?2"
    ))?;
    let mut insert = conn.prepare("INSERT INTO user_words (rowid, words) VALUES (?1, ?2)")?;
    let mut number = conn.prepare("UPDATE users SET search_rowid = ?2 WHERE id = ?1")?;
    let (mut before, mut rowid) = (None::<String>, -users);
    loop {
        let batch: Vec<Profile> = read
            .query_map(params![before, BUILD_BATCH], |r| Ok(user(r)?.me.profile))?
            .collect::<rusqlite::Result<_>>()?;
        let Some(oldest) = batch.last() else { break };
        before = Some(oldest.id.to_hex());
        for profile in batch {
            insert.execute(params![rowid, indexed_words(&profile)])?;
            number.execute(params![profile.id.to_hex(), rowid])?;
            rowid += 1;
        }
    }
    // One segment instead of the several the inserts leave (8 at 1,000,000 users):
    // every phrase of a query looks in each segment.
    conn.execute("INSERT INTO user_words (user_words) VALUES ('optimize')", [])?;
    Ok(())
}

/// Pages of the search index one merge step writes. At a million users a step takes
/// 8 ms (p50; 28 ms p99, and about 0.5 s when a merge ends and FTS5 deletes its input
/// segments): a write arriving meanwhile waits that long. Every step costs about 4 ms
/// whatever its size (4 pages: 4 ms, 64 pages: 12 ms), so smaller steps would make the
/// whole merge slower without making a wait much shorter.
const MERGE_PAGES: i64 = 16;

/// Merges a step's worth of the search index's segments, in a transaction of its own;
/// returns whether there may be more to merge. The writer runs steps while it has no
/// write waiting (see `pool::write_loop`).
///
/// Every committed write of the index adds a segment, and every search looks in each
/// segment, per word and field. FTS5's own merging (4 segments of a level at a time)
/// leaves about a dozen at a million users; merging any two of a level (`usermerge` is
/// 2, migration 14) keeps it at a few, and page 1 of `q=ja` took a third of the time.
/// A step with nothing to merge changes fewer than two rows (FTS5's documented test)
/// and costs a few microseconds.
pub(super) fn merge_step(conn: &Connection) -> rusqlite::Result<bool> {
    let tx = conn.unchecked_transaction()?;
    let before = tx.total_changes();
    tx.prepare_cached("INSERT INTO user_words (user_words, rank) VALUES ('merge', ?1)")?.execute([MERGE_PAGES])?;
    let merged = tx.total_changes() - before >= 2;
    tx.commit()?;
    Ok(merged)
}

/// One FTS5 phrase: a folded word (letters and digits only, so quoting it is safe)
/// tagged with a field, as a prefix when `prefix`.
fn phrase(tag: char, word: &str, prefix: bool) -> String {
    format!("\"{tag}{word}\"{}", if prefix { "*" } else { "" })
}

/// The fields a word is ranked by, best first (`model::rank`).
const RANKED: [char; 3] = [NAME, SKILLS, ABOUT];

/// The FTS queries of one word's ranks, best first ([`one_word_ranks`]): the word in
/// the fields of the rank and not in the others. `present` says in which fields any
/// user has the word: a rank needing another is left out, and one need not exclude a
/// field without it (each phrase costs a lookup in every segment of the index).
fn tiers(word: &str, present: [bool; 3]) -> Vec<String> {
    one_word_ranks()
        .filter_map(|holds| {
            let (mut has, mut lacks) = (Vec::new(), Vec::new());
            for ((tag, holds), present) in RANKED.iter().zip(holds).zip(present) {
                match (holds, present) {
                    (true, false) => return None,
                    (true, true) => has.push(phrase(*tag, word, true)),
                    (false, true) => lacks.push(phrase(*tag, word, true)),
                    (false, false) => {}
                }
            }
            Some(if lacks.is_empty() {
                format!("({})", has.join(" AND "))
            } else {
                format!("(({}) NOT ({}))", has.join(" AND "), lacks.join(" OR "))
            })
        })
        .collect()
}

/// In which of the ranked fields any user has `word` (as a prefix).
fn fields_with(conn: &Connection, word: &str) -> Result<[bool; 3]> {
    let mut any = conn.prepare_cached("SELECT EXISTS (SELECT 1 FROM user_words WHERE user_words MATCH ?1)").db()?;
    let mut present = [false; 3];
    for (tag, present) in RANKED.iter().zip(&mut present) {
        *present = any.query_row([phrase(*tag, word, true)], |r| r.get(0)).db()?;
    }
    Ok(present)
}

/// The parameters of a statement, each bound by number.
struct Params(Vec<Value>);

impl Params {
    fn bind(&mut self, v: impl Into<Value>) -> String {
        self.0.push(v.into());
        format!("?{}", self.0.len())
    }
}

/// The key of the pair of the viewer (`?1`) and the user `id`, as in the feed: each
/// candidate costs one lookup in each pair index.
fn pair(id: &str) -> String {
    format!("CASE WHEN {id} < ?1 THEN {id} || ?1 ELSE ?1 || {id} END")
}

/// What every match must also be, whichever index is walked: visible to the viewer,
/// within `asOf`, with all the skills and the experience asked for. `id` is the walked
/// index's user id. Only the experience bounds read the user's row (`u`): suspension is
/// looked up in its own small index (named: the planner would take the primary key,
/// which reads the row), and erased accounts are in none of the walked
/// indexes (`erase_user` takes them out of the search index and `user_skills`; the walk
/// of all users tests it itself), so a walk costs index lookups until a page is read.
fn conditions(f: &SearchFilter, params: &mut Params, id: &str) -> String {
    let mut sql = format!(
        "{id} <> ?1 AND {id} <= ?2 \
         AND NOT EXISTS (SELECT 1 FROM users x INDEXED BY users_suspended \
             WHERE x.id = {id} AND x.suspended_at IS NOT NULL) \
         AND NOT EXISTS (SELECT 1 FROM blocks b WHERE b.pair_key = {})",
        pair(id)
    );
    // One primary-key lookup per skill and candidate.
    for skill in &f.skills {
        let p = params.bind(skill.clone());
        sql += &format!(" AND EXISTS (SELECT 1 FROM user_skills s WHERE s.skill = {p} AND s.user_id = {id})");
    }
    if let Some(min) = f.min_experience {
        sql += &format!(" AND u.experience_years >= {}", params.bind(i64::from(min)));
    }
    if let Some(max) = f.max_experience {
        sql += &format!(" AND u.experience_years <= {}", params.bind(i64::from(max)));
    }
    sql
}

/// Whether `f`'s conditions read the user's row (see [`conditions`]).
fn reads_row(f: &SearchFilter) -> bool {
    f.min_experience.is_some() || f.max_experience.is_some()
}

/// The location's words as FTS query terms, for `AND`ing to a match.
fn location_match(f: &SearchFilter) -> Vec<String> {
    f.location.iter().map(|w| phrase(LOCATION, w, false)).collect()
}

/// The index a page walks, newest first: its tables, the condition choosing its rows,
/// its user id and order, and the parameters (`?1` viewer, `?2` newest id shown,
/// then the walk's).
struct Walk {
    tables: &'static str,
    driver: String,
    /// The walked index's user id.
    id: &'static str,
    /// The walked index's order, newest first.
    order: &'static str,
    params: Params,
}

impl Walk {
    fn params(viewer: &str, f: &SearchFilter) -> Params {
        Params(vec![viewer.to_owned().into(), f.as_of.to_hex().into()])
    }

    /// The rows matching an FTS query. CROSS JOIN keeps the walked index outside, so
    /// its order needs no sort.
    fn fts(viewer: &str, f: &SearchFilter, query: String) -> Self {
        let mut params = Self::params(viewer, f);
        let driver = format!("user_words MATCH {} AND", params.bind(query));
        let tables = "user_words CROSS JOIN users u ON u.search_rowid = user_words.rowid";
        Self { tables, driver, id: "u.id", order: "user_words.rowid", params }
    }

    /// The users with a skill (`user_skills` is keyed by skill, then user id).
    fn skill(viewer: &str, f: &SearchFilter, skill: &str) -> Self {
        let mut params = Self::params(viewer, f);
        let driver = format!("d.skill = {} AND", params.bind(skill.to_owned()));
        let tables =
            if reads_row(f) { "user_skills d CROSS JOIN users u ON u.id = d.user_id" } else { "user_skills d" };
        Self { tables, driver, id: "d.user_id", order: "d.user_id DESC", params }
    }

    /// Everyone but erased accounts.
    fn users(viewer: &str, f: &SearchFilter) -> Self {
        let driver = "u.deleted_at IS NULL AND".to_owned();
        Self { tables: "users u", driver, id: "u.id", order: "u.id DESC", params: Self::params(viewer, f) }
    }

    /// The ids of the first `limit` matches, newest first: the walk reads no more of
    /// each user than its conditions need.
    fn ids(mut self, conn: &Connection, f: &SearchFilter, limit: u64) -> Result<Vec<String>> {
        let conditions = conditions(f, &mut self.params, self.id);
        let limit = self.params.bind(i64::try_from(limit).unwrap_or(i64::MAX));
        let sql = format!(
            "SELECT {} FROM {} WHERE {} {conditions} ORDER BY {} LIMIT {limit}",
            self.id, self.tables, self.driver, self.order
        );
        rows(conn, &sql, self.params, |r| r.get(0))
    }
}

/// The rows of `sql`, each read by `read`.
fn rows<T>(
    conn: &Connection,
    sql: &str,
    params: Params,
    read: impl FnMut(&Row<'_>) -> rusqlite::Result<T>,
) -> Result<Vec<T>> {
    let mut stmt = conn.prepare_cached(sql).db()?;
    let rows = stmt.query_map(params_from_iter(params.0), read).db()?;
    rows.collect::<rusqlite::Result<Vec<_>>>().db()
}

fn hits(conn: &Connection, sql: &str, params: Params) -> Result<Vec<SearchHit>> {
    rows(conn, sql, params, hit)
}

fn hit(row: &Row<'_>) -> rusqlite::Result<SearchHit> {
    let status: Option<String> = row.get(USER_COL_COUNT)?;
    let request = status.as_deref().map(RequestStatus::parse).transpose().map_err(|e| conversion(USER_COL_COUNT, e))?;
    Ok(SearchHit { profile: user(row)?.me.profile, request })
}

/// How a search without words or location walks its skills.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum SkillsWalk<'a> {
    /// No skills asked for: the users themselves.
    None,
    /// The rarest skill's users, testing the others on each.
    Rarest(&'a str),
    /// Several skills, all common: a merge of their ranges.
    Merge,
}

/// Chooses by each skill's users (`skill_counts`, one lookup per skill): a rare skill
/// bounds the walk by its holders, each costing a lookup per other skill; common ones
/// (at least [`COMMON_SKILL_ROWS`] each) are cheaper merged, one index step per id in
/// the merged range.
pub(super) fn skills_walk<'a>(conn: &Connection, skills: &'a [String]) -> Result<SkillsWalk<'a>> {
    let mut count =
        conn.prepare_cached("SELECT coalesce((SELECT users FROM skill_counts WHERE skill = ?1), 0)").db()?;
    let mut rarest: Option<(i64, &String)> = None;
    for skill in skills {
        let n: i64 = count.query_row([skill], |r| r.get(0)).db()?;
        if rarest.is_none_or(|(least, _)| n < least) {
            rarest = Some((n, skill));
        }
    }
    Ok(match rarest {
        None => SkillsWalk::None,
        Some((n, _)) if n >= COMMON_SKILL_ROWS && skills.len() > 1 => SkillsWalk::Merge,
        Some((_, skill)) => SkillsWalk::Rarest(skill),
    })
}

/// The matches of `f` for `viewer`, ranked, one page.
pub(super) fn search(conn: &Connection, viewer: &str, f: &SearchFilter) -> Result<Vec<SearchHit>> {
    // A page takes several statements (ids, then rows): one snapshot for all of them.
    // A savepoint, not BEGIN: an in-memory store reads inside its writer's transaction.
    conn.execute_batch("SAVEPOINT search").db()?;
    let page = search_page(conn, viewer, f);
    // Nothing was written: releasing only ends the snapshot.
    conn.execute_batch("RELEASE search").db()?;
    page
}

fn search_page(conn: &Connection, viewer: &str, f: &SearchFilter) -> Result<Vec<SearchHit>> {
    match f.terms.as_slice() {
        [word] => ranked_by_tiers(conn, viewer, f, word),
        [] => {
            let walk = if !f.location.is_empty() {
                Walk::fts(viewer, f, location_match(f).join(" AND "))
            } else {
                match skills_walk(conn, &f.skills)? {
                    SkillsWalk::Merge => return merged_skills(conn, viewer, f),
                    SkillsWalk::Rarest(skill) => Walk::skill(viewer, f, skill),
                    SkillsWalk::None => Walk::users(viewer, f),
                }
            };
            let ids = walk.ids(conn, f, f.offset.saturating_add(u64::from(f.limit)))?;
            let page: Vec<String> = ids.into_iter().skip(usize::try_from(f.offset).unwrap_or(usize::MAX)).collect();
            hits_of(conn, viewer, &page)
        }
        _ => ranked_all(conn, viewer, f),
    }
}

/// Fewest and most ids one step of [`merged_skills`] reads from the merge.
const MERGE_CHUNK: (u64, u64) = (32, 4096);

/// Users with every skill of `f` (several, all common), newest first: chunks of the
/// merge of the skills' ranges (the first as large as the page's end, then doubling),
/// each chunk's ids tested for the other conditions in one query.
fn merged_skills(conn: &Connection, viewer: &str, f: &SearchFilter) -> Result<Vec<SearchHit>> {
    // The merge has tested the skills; the other conditions are tested as usual.
    let others = SearchFilter { skills: Vec::new(), ..f.clone() };
    let want = f.limit as usize;
    let (mut skip, mut page) = (f.offset, Vec::with_capacity(want));
    let mut chunk = f.offset.saturating_add(u64::from(f.limit)).clamp(MERGE_CHUNK.0, MERGE_CHUNK.1);
    let mut below: Option<String> = None;
    loop {
        let ids = skill_intersection(conn, f, below.as_deref(), chunk)?;
        let exhausted = (ids.len() as u64) < chunk;
        for id in visible(conn, viewer, &others, &ids)? {
            if skip > 0 {
                skip -= 1;
            } else if page.len() < want {
                page.push(id);
            }
        }
        if page.len() >= want || exhausted {
            break;
        }
        below = ids.last().cloned();
        chunk = chunk.saturating_mul(2).min(MERGE_CHUNK.1);
    }
    hits_of(conn, viewer, &page)
}

/// The matches with these ids, in their order: a page chosen by ids.
fn hits_of(conn: &Connection, viewer: &str, ids: &[String]) -> Result<Vec<SearchHit>> {
    let sql = format!(
        "SELECT {USER_COLS}, r.status FROM json_each(?2) j CROSS JOIN users u ON u.id = j.value \
         LEFT JOIN connection_requests r ON r.pair_key = {} ORDER BY j.key",
        pair("u.id")
    );
    hits(conn, &sql, Params(vec![viewer.to_owned().into(), json(ids)?.into()]))
}

/// Up to `limit` users holding every skill of `f`, newest first, from `as_of` down or
/// below `below`: one `INTERSECT` of the skills' ranges, which SQLite merges (each side
/// read in index order, no sort) and stops once it has `limit`.
fn skill_intersection(conn: &Connection, f: &SearchFilter, below: Option<&str>, limit: u64) -> Result<Vec<String>> {
    let (bound, from) = match below {
        Some(id) => ("<", id.to_owned()),
        None => ("<=", f.as_of.to_hex()),
    };
    let mut params = Params(vec![from.into()]);
    let ranges: Vec<String> = f
        .skills
        .iter()
        .map(|skill| {
            let p = params.bind(skill.clone());
            format!("SELECT user_id FROM user_skills WHERE skill = {p} AND user_id {bound} ?1")
        })
        .collect();
    let limit = params.bind(i64::try_from(limit).unwrap_or(i64::MAX));
    let sql = format!("{} ORDER BY 1 DESC LIMIT {limit}", ranges.join(" INTERSECT "));
    rows(conn, &sql, params, |r| r.get(0))
}

/// Which of `ids` (newest first) pass `f`'s conditions for `viewer`, in the same order.
fn visible(conn: &Connection, viewer: &str, f: &SearchFilter, ids: &[String]) -> Result<Vec<String>> {
    let mut params = Walk::params(viewer, f);
    let list = params.bind(json(ids)?);
    let conditions = conditions(f, &mut params, "j.value");
    let users = if reads_row(f) { "CROSS JOIN users u ON u.id = j.value" } else { "" };
    let sql = format!("SELECT j.value FROM json_each({list}) j {users} WHERE {conditions} ORDER BY j.key");
    rows(conn, &sql, params, |r| r.get(0))
}

/// Ids as a JSON array, for `json_each`.
fn json(ids: &[String]) -> Result<String> {
    serde_json::to_string(ids).map_err(crate::Error::internal)
}

/// One word: its tiers in order, each newest first, as far as the page's end: the ids
/// first (a tier wholly before the page only counted), then the page's rows.
fn ranked_by_tiers(conn: &Connection, viewer: &str, f: &SearchFilter, word: &str) -> Result<Vec<SearchHit>> {
    let location = location_match(f);
    let want = f.limit as usize;
    let (mut skip, mut page) = (f.offset, Vec::with_capacity(want));
    for tier in tiers(word, fields_with(conn, word)?) {
        let query = std::iter::once(tier).chain(location.iter().cloned()).collect::<Vec<_>>().join(" AND ");
        let ids = Walk::fts(viewer, f, query).ids(conn, f, skip.saturating_add((want - page.len()) as u64))?;
        let found = ids.len() as u64;
        if found <= skip {
            skip -= found;
            continue;
        }
        page.extend(ids.into_iter().skip(usize::try_from(skip).unwrap_or(usize::MAX)).take(want - page.len()));
        skip = 0;
        if page.len() >= want {
            break;
        }
    }
    hits_of(conn, viewer, &page)
}

/// Several words: every match ranked by one FTS lookup per word and field, each made
/// once per query (SQLite evaluates an uncorrelated `IN (subquery)` once), a row's rank
/// being the sum of its memberships.
fn ranked_all(conn: &Connection, viewer: &str, f: &SearchFilter) -> Result<Vec<SearchHit>> {
    let mut params = Walk::params(viewer, f);
    let last = f.terms.len().saturating_sub(1);
    let terms: Vec<(&str, bool)> = f.terms.iter().enumerate().map(|(i, t)| (t.as_str(), i == last)).collect();
    let mut matching: Vec<String> = terms
        .iter()
        .map(|(t, prefix)| {
            let fields: Vec<String> = RANKED.iter().map(|tag| phrase(*tag, t, *prefix)).collect();
            format!("({})", fields.join(" OR "))
        })
        .collect();
    matching.extend(location_match(f));
    let m = params.bind(matching.join(" AND "));
    let conditions = conditions(f, &mut params, "u.id");
    let mut order = String::new();
    for tag in RANKED {
        let hits: Vec<String> = terms
            .iter()
            .map(|(t, prefix)| {
                let p = params.bind(phrase(tag, t, *prefix));
                format!("(u.search_rowid IN (SELECT rowid FROM user_words WHERE user_words MATCH {p}))")
            })
            .collect();
        order += &format!("{} DESC, ", hits.join(" + "));
    }
    let (limit, offset) = (params.bind(f.limit), params.bind(i64::try_from(f.offset).unwrap_or(i64::MAX)));
    let sql = format!(
        "SELECT {USER_COLS}, r.status FROM users u \
         LEFT JOIN connection_requests r ON r.pair_key = {pair} \
         WHERE u.search_rowid IN (SELECT rowid FROM user_words WHERE user_words MATCH {m}) AND {conditions} \
         ORDER BY {order}u.id DESC LIMIT {limit} OFFSET {offset}",
        pair = pair("u.id")
    );
    hits(conn, &sql, params)
}
