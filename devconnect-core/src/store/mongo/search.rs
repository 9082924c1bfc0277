//! Developer search on MongoDB: a maintained keyword array, `searchKeys`, indexed, with
//! the lower-cased, accent-folded words of a user's name (`n:word`), skills (`s:`),
//! about text (`a:`) and location (`l:`). Whole words match with `$in`/`$all`, the last
//! word typed with an anchored `$regex` per field (`^n:ja`), which MongoDB answers from
//! the index's key range. A `$text` index would stem words and rank by its own score,
//! and jongodb (the test server) has no `$text`; this works, and is tested, on both.
//!
//! The keys follow profile edits with a second write, made only if no later edit of the
//! searchable fields came first (`searchVersion`), so the last edit's keys win; between
//! the two writes the keys may lag the profile by one edit.

use std::collections::HashMap;

use bson::oid::ObjectId;
use bson::{Bson, Document, doc};
use devconnect_types::{Profile, RequestStatus};
use futures_util::TryStreamExt as _;

use super::documents::{int, string, user_from_doc};
use super::error::db_err;
use super::{MongoStore, pair_keys_in};
use crate::model::{SearchFilter, SearchHit, one_word_ranks, rank, search_words};
use crate::store::pair_key;
use crate::{Result, UserId};

/// Candidates are read in batches of this many, newest first.
const SEARCH_BATCH: i64 = 500;
/// Most matches a search of several words reads and ranks: common words must not make
/// one request hold every user in memory. Beyond it, older matches are not ranked in;
/// every word must match, so there are seldom that many. (One word is ranked tier by
/// tier, without this limit.)
const MAX_RANKED: usize = 10_000;

/// The fields a word is ranked by, best first (`model::rank`).
const RANKED: [&str; 3] = ["n", "s", "a"];

/// The keys a profile is found by: `n:`, `s:`, `a:` and `l:` and each folded word of its
/// name, skills, about text and location, each once.
pub(super) fn search_keys(p: &Profile) -> Vec<String> {
    let fields: [(&str, Vec<&str>); 4] = [
        ("n", vec![p.first_name.as_str(), p.last_name.as_str()]),
        ("s", p.skills.iter().map(String::as_str).collect()),
        ("a", vec![p.about.as_str()]),
        ("l", p.location.as_deref().into_iter().collect()),
    ];
    let mut keys: Vec<String> = fields
        .iter()
        .flat_map(|(tag, texts)| texts.iter().flat_map(|t| search_words(t)).map(move |w| format!("{tag}:{w}")))
        .collect();
    keys.sort();
    keys.dedup();
    keys
}

/// The query for `f`'s matches (without the exclusions by block).
fn matching(viewer: UserId, f: &SearchFilter) -> Vec<Document> {
    let mut and = vec![
        doc! { "_id": { "$ne": viewer.object_id(), "$lte": f.as_of.object_id() } },
        // `null` matches users without the field (never suspended, not deleted).
        doc! { "suspendedAt": null, "deletedAt": null },
    ];
    let (prefix, whole) = match f.terms.split_last() {
        Some((last, rest)) => (Some(last), rest),
        None => (None, &[][..]),
    };
    for term in whole {
        let any: Vec<String> = RANKED.iter().map(|tag| format!("{tag}:{term}")).collect();
        and.push(doc! { "searchKeys": { "$in": any } });
    }
    if let Some(prefix) = prefix {
        let any: Vec<Document> = RANKED.iter().map(|tag| doc! { "searchKeys": starts(tag, prefix) }).collect();
        and.push(doc! { "$or": any });
    }
    if !f.location.is_empty() {
        let keys: Vec<String> = f.location.iter().map(|w| format!("l:{w}")).collect();
        and.push(doc! { "searchKeys": { "$all": keys } });
    }
    if !f.skills.is_empty() {
        and.push(doc! { "skillKeys": { "$all": &f.skills } });
    }
    if let Some(min) = f.min_experience {
        and.push(doc! { "experienceYears": { "$gte": i32::from(min) } });
    }
    if let Some(max) = f.max_experience {
        and.push(doc! { "experienceYears": { "$lte": i32::from(max) } });
    }
    and
}

/// A key of field `tag` starting with `prefix`, which MongoDB answers from the index's
/// key range. Words are letters and digits only: nothing in them is special to a regex.
fn starts(tag: &str, prefix: &str) -> Document {
    doc! { "$regex": format!("^{tag}:{prefix}") }
}

/// The ranks of one word (as the last word typed: a prefix), best first
/// ([`one_word_ranks`]), as conditions: the word in the fields of the rank and in none
/// of the others. With one word, `model::rank` is exactly which fields hold it, so
/// walking these in turn, each newest first, is the ranked order.
fn tiers(word: &str) -> Vec<Document> {
    one_word_ranks()
        .map(|holds| {
            let fields: Vec<Document> = RANKED
                .iter()
                .zip(holds)
                .map(|(tag, holds)| {
                    if holds {
                        doc! { "searchKeys": starts(tag, word) }
                    } else {
                        doc! { "searchKeys": { "$not": starts(tag, word) } }
                    }
                })
                .collect();
            doc! { "$and": fields }
        })
        .collect()
}

impl MongoStore {
    /// Up to `wanted` users matching all of `and`, newest first, without those in a block
    /// with `viewer`: read in batches (keyset on `_id`) no larger than what is missing.
    async fn walk(&self, viewer: UserId, and: Vec<Document>, wanted: usize) -> Result<Vec<Profile>> {
        let mut found: Vec<Profile> = Vec::new();
        let mut below: Option<ObjectId> = None;
        while found.len() < wanted {
            let limit = i64::try_from(wanted - found.len()).unwrap_or(i64::MAX).min(SEARCH_BATCH);
            let mut and = and.clone();
            if let Some(last) = below {
                and.push(doc! { "_id": { "$lt": last } });
            }
            let batch = self.newest_profiles(doc! { "$and": and }, limit).await?;
            let exhausted = i64::try_from(batch.len()).unwrap_or(i64::MAX) < limit;
            below = batch.last().map(|p| p.id.object_id());
            let keys: Vec<String> = batch.iter().map(|p| pair_key(viewer, p.id)).collect();
            let blocked = pair_keys_in(&self.blocks, &keys).await?;
            found.extend(batch.into_iter().filter(|p| !blocked.contains(&pair_key(viewer, p.id))));
            if exhausted {
                break;
            }
        }
        Ok(found)
    }

    /// The statuses of the requests between `viewer` and each of `others` (by pair key).
    async fn statuses(&self, viewer: UserId, others: &[UserId]) -> Result<HashMap<String, RequestStatus>> {
        let keys: Vec<String> = others.iter().map(|o| pair_key(viewer, *o)).collect();
        if keys.is_empty() {
            return Ok(HashMap::new());
        }
        let found: Vec<Document> = self
            .requests
            .find(doc! { "pairKey": { "$in": &keys } })
            .await
            .map_err(db_err)?
            .try_collect()
            .await
            .map_err(db_err)?;
        Ok(found
            .iter()
            .filter_map(|r| {
                let status = RequestStatus::parse(&string(r, "status")?).ok()?;
                Some((string(r, "pairKey")?, status))
            })
            .collect())
    }

    /// Re-writes a user's search keys from `after` (the document a profile edit left),
    /// unless a later edit has bumped `searchVersion` since (it writes its own).
    pub(super) async fn reindex(&self, after: &Document) -> Result<()> {
        let user = user_from_doc(after)?;
        let version = int(after, "searchVersion").unwrap_or(0);
        self.users
            .update_one(
                doc! { "_id": user.me.profile.id.object_id(), "searchVersion": version },
                doc! { "$set": { "searchKeys": search_keys(&user.me.profile) } },
            )
            .await
            .map_err(db_err)?;
        Ok(())
    }

    /// The page of `f`'s matches for `viewer`. Without words, the matches are walked
    /// newest first and the walk stops once the page is full. With one word (the usual
    /// search, and every keystroke of search as you type), each of its ranks is walked in
    /// turn, best first ([`tiers`]), each only as far as the page's end: every match is
    /// ranked, however many there are. With several, the newest [`MAX_RANKED`] matches
    /// are read and ranked ([`rank`]; a stable sort keeps newest first among equals).
    pub(super) async fn search(&self, viewer: UserId, f: &SearchFilter) -> Result<Vec<SearchHit>> {
        let wanted = usize::try_from(f.offset.saturating_add(u64::from(f.limit))).unwrap_or(usize::MAX);
        let found = match f.terms.as_slice() {
            [] => self.walk(viewer, matching(viewer, f), wanted).await?,
            [word] => {
                let unranked = matching(viewer, &SearchFilter { terms: Vec::new(), ..f.clone() });
                let mut found = Vec::new();
                for tier in tiers(word) {
                    if found.len() >= wanted {
                        break;
                    }
                    let mut and = unranked.clone();
                    and.push(tier);
                    found.extend(self.walk(viewer, and, wanted - found.len()).await?);
                }
                found
            }
            _ => {
                let mut found = self.walk(viewer, matching(viewer, f), MAX_RANKED).await?;
                found.sort_by_cached_key(|p| std::cmp::Reverse(rank(&f.terms, p)));
                found
            }
        };
        let offset = usize::try_from(f.offset).unwrap_or(usize::MAX);
        let page: Vec<Profile> = found.into_iter().skip(offset).take(f.limit as usize).collect();
        let ids: Vec<UserId> = page.iter().map(|p| p.id).collect();
        let statuses = self.statuses(viewer, &ids).await?;
        Ok(page
            .into_iter()
            .map(|profile| {
                let request = statuses.get(&pair_key(viewer, profile.id)).copied();
                SearchHit { profile, request }
            })
            .collect())
    }
}

/// The search keys of a user document, for the backfill of users written before them.
pub(super) fn search_keys_of(user: &Document) -> Result<Bson> {
    Ok(search_keys(&user_from_doc(user)?.me.profile).into())
}
