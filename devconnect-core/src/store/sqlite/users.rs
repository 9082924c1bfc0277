//! The users aggregate on SQLite: accounts, credentials, profiles and the feed.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use devconnect_types::profile::DELETED_NAME;
use devconnect_types::{Gender, Profile, UserId};
use rusqlite::{Connection, OptionalExtension as _, Row, params};

use super::SqliteStore;
use super::error::{ResultExt as _, db_err};
use super::rows::{USER_COLS, collect, conversion, ms, oid, skills_json, user};
use super::search::{index_user, search};
use crate::model::{AuthState, Erased, FeedFilter, ProfileUpdate, SearchFilter, SearchHit, UserRecord, skill_key};
use crate::store::UserStore;
use crate::{Error, Result};

/// How the feed filters by skills (see [`FeedSkills::choose`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum FeedSkills {
    /// No skills filter.
    Any,
    /// Few users have the skills: their ids are collected first (at most
    /// [`DENSE_SKILL_ROWS`] per skill), and the newest-first walk keeps those.
    Rare,
    /// Many users have them: the newest-first walk checks each candidate in the skill
    /// index (one lookup per skill), and a page fills after a few candidates.
    Common,
}

/// Past this many users with one of the asked skills, a filter counts as common.
/// Collecting the ids of a rare filter costs at most this many index entries; walking a
/// common one finds a match at least every `users / DENSE_SKILL_ROWS` candidates.
const DENSE_SKILL_ROWS: i64 = 2000;

impl FeedSkills {
    /// Chooses by the users holding any of `skills` (a JSON array), as `skill_counts`
    /// counts them: one lookup per skill.
    pub(super) fn choose(conn: &Connection, skills: &str) -> rusqlite::Result<Self> {
        let matching: i64 = conn
            .prepare_cached(
                "SELECT coalesce(sum(users), 0) FROM skill_counts \
                 WHERE skill IN (SELECT value FROM json_each(?1))",
            )?
            .query_row([skills], |r| r.get(0))?;
        Ok(if matching >= DENSE_SKILL_ROWS { Self::Common } else { Self::Rare })
    }
}

/// The feed: `?1` viewer, `?2` limit, `?3` offset, `?4` skills as a JSON array.
pub(super) fn feed_sql(skills: FeedSkills) -> String {
    let skills = match skills {
        FeedSkills::Any => "",
        FeedSkills::Rare => {
            "AND u.id IN (SELECT s.user_id FROM user_skills s WHERE s.skill IN (SELECT value FROM json_each(?4)))"
        }
        FeedSkills::Common => {
            "AND EXISTS (SELECT 1 FROM user_skills s \
             WHERE s.skill IN (SELECT value FROM json_each(?4)) AND s.user_id = u.id)"
        }
    };
    // Each candidate costs one lookup in each pair index (requests, blocks), however
    // many requests or blocks the viewer has: no list of excluded ids is ever built.
    format!(
        "SELECT {USER_COLS} FROM users u \
         WHERE u.id <> ?1 AND u.suspended_at IS NULL AND u.deleted_at IS NULL \
           AND NOT EXISTS (SELECT 1 FROM connection_requests r WHERE r.pair_key = \
               CASE WHEN u.id < ?1 THEN u.id || ?1 ELSE ?1 || u.id END) \
           AND NOT EXISTS (SELECT 1 FROM blocks b WHERE b.pair_key = \
               CASE WHEN u.id < ?1 THEN u.id || ?1 ELSE ?1 || u.id END) \
           {skills} \
         ORDER BY u.id DESC LIMIT ?2 OFFSET ?3"
    )
}

pub(super) fn user_by_id(conn: &Connection, id: &str) -> rusqlite::Result<Option<UserRecord>> {
    conn.prepare_cached(&format!("SELECT {USER_COLS} FROM users u WHERE u.id = ?1"))?.query_row([id], user).optional()
}

fn set_skills(conn: &Connection, id: &str, skills: &[String]) -> rusqlite::Result<()> {
    conn.prepare_cached("DELETE FROM user_skills WHERE user_id = ?1")?.execute([id])?;
    let mut insert = conn.prepare_cached("INSERT OR IGNORE INTO user_skills (skill, user_id) VALUES (?1, ?2)")?;
    for skill in skills {
        insert.execute([skill_key(skill).as_str(), id])?;
    }
    Ok(())
}

#[async_trait]
impl UserStore for SqliteStore {
    async fn insert_user(&self, u: &UserRecord) -> Result<()> {
        let u = u.clone();
        let skills = skills_json(&u.me.profile.skills)?;
        self.write(move |conn| {
            let tx = conn.savepoint().db()?;
            let p = &u.me.profile;
            let id = p.id.to_hex();
            tx.prepare_cached(
                "INSERT INTO users (id, first_name, last_name, email, password_hash, age, gender, photo_url, \
                 about, skills, token_version, created_at, updated_at, location, experience_years) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    id,
                    p.first_name,
                    p.last_name,
                    u.me.email,
                    u.password_hash,
                    p.age,
                    p.gender.map(Gender::as_str),
                    p.photo_url,
                    p.about,
                    skills,
                    u.token_version,
                    ms(p.created_at),
                    ms(p.updated_at),
                    p.location,
                    p.experience_years,
                ])
            })
            .map_err(|e| match db_err(e) {
                Error::Conflict(_) => Error::Conflict("email already registered"),
                other => other,
            })?;
            set_skills(&tx, &id, &p.skills).db()?;
            index_user(&tx, &id, p).db()?;
            tx.commit().db()
        })
        .await
    }

    async fn user(&self, id: UserId) -> Result<Option<UserRecord>> {
        self.read(move |conn| user_by_id(conn, &id.to_hex()).db()).await
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<UserRecord>> {
        let email = email.to_owned();
        self.read(move |conn| {
            conn.prepare_cached(&format!("SELECT {USER_COLS} FROM users u WHERE u.email = ?1"))
                .and_then(|mut s| s.query_row([email], user).optional())
                .db()
        })
        .await
    }

    async fn update_profile(
        &self,
        id: UserId,
        update: &ProfileUpdate,
        now: DateTime<Utc>,
    ) -> Result<Option<UserRecord>> {
        let update = update.clone();
        self.write(move |conn| {
            let tx = conn.savepoint().db()?;
            let id = id.to_hex();
            let Some(mut u) = user_by_id(&tx, &id).db()? else { return Ok(None) };
            let p = &mut u.me.profile;
            let reindex = update.touches_search();
            let ProfileUpdate {
                first_name,
                last_name,
                age,
                gender,
                about,
                skills,
                photo_url,
                location,
                experience_years,
            } = update;
            p.first_name = first_name.unwrap_or(std::mem::take(&mut p.first_name));
            p.last_name = last_name.unwrap_or(std::mem::take(&mut p.last_name));
            p.age = age.or(p.age);
            p.gender = gender.or(p.gender);
            p.about = about.unwrap_or(std::mem::take(&mut p.about));
            p.photo_url = photo_url.or(p.photo_url.take());
            p.location = location.unwrap_or(p.location.take());
            p.experience_years = experience_years.or(p.experience_years);
            if let Some(skills) = skills {
                set_skills(&tx, &id, &skills).db()?;
                p.skills = skills;
            }
            p.updated_at = now;
            tx.prepare_cached(
                "UPDATE users SET first_name = ?2, last_name = ?3, age = ?4, gender = ?5, about = ?6, \
                 skills = ?7, photo_url = ?8, updated_at = ?9, location = ?10, experience_years = ?11 WHERE id = ?1",
            )
            .and_then(|mut s| {
                s.execute(params![
                    id,
                    p.first_name,
                    p.last_name,
                    p.age,
                    p.gender.map(Gender::as_str),
                    p.about,
                    skills_json(&p.skills).map_err(|e| conversion(7, e))?,
                    p.photo_url,
                    ms(now),
                    p.location,
                    p.experience_years,
                ])
            })
            .db()?;
            if reindex {
                index_user(&tx, &id, &u.me.profile).db()?;
            }
            tx.commit().db()?;
            Ok(Some(u))
        })
        .await
    }

    async fn set_password(&self, id: UserId, password_hash: &str) -> Result<i64> {
        let hash = password_hash.to_owned();
        self.write(move |conn| {
            conn.prepare_cached(
                "UPDATE users SET password_hash = ?2, token_version = token_version + 1 WHERE id = ?1 \
                 RETURNING token_version",
            )
            .and_then(|mut s| s.query_row(params![id.to_hex(), hash], |r| r.get(0)).optional())
            .db()?
            .ok_or(Error::NotFound("user"))
        })
        .await
    }

    async fn replace_password_hash(&self, id: UserId, old: &str, new: &str) -> Result<bool> {
        let (old, new) = (old.to_owned(), new.to_owned());
        self.write(move |conn| {
            conn.prepare_cached("UPDATE users SET password_hash = ?3 WHERE id = ?1 AND password_hash = ?2")
                .and_then(|mut s| s.execute(params![id.to_hex(), old, new]))
                .db()
                .map(|n| n > 0)
        })
        .await
    }

    async fn auth_state(&self, id: UserId, token_id: &str) -> Result<Option<AuthState>> {
        let token_id = token_id.to_owned();
        self.read(move |conn| {
            conn.prepare_cached(
                "SELECT token_version, EXISTS (SELECT 1 FROM revoked_tokens WHERE jti = ?2), suspended_at IS NOT NULL \
                 FROM users WHERE id = ?1 AND deleted_at IS NULL",
            )
            .and_then(|mut s| {
                s.query_row(params![id.to_hex(), token_id], |r| {
                    Ok(AuthState { token_version: r.get(0)?, revoked: r.get(1)?, suspended: r.get(2)? })
                })
                .optional()
            })
            .db()
        })
        .await
    }

    async fn revoke_token(&self, id: UserId, token_id: &str, expires_at: DateTime<Utc>) -> Result<()> {
        let token_id = token_id.to_owned();
        self.write(move |conn| {
            let tx = conn.savepoint().db()?;
            tx.prepare_cached("INSERT OR IGNORE INTO revoked_tokens (jti, user_id, expires_at) VALUES (?1, ?2, ?3)")
                .and_then(|mut s| s.execute(params![token_id, id.to_hex(), ms(expires_at)]))
                .db()?;
            // Expired tokens are refused anyway; forget their revocations.
            tx.prepare_cached("DELETE FROM revoked_tokens WHERE expires_at < ?1")
                .and_then(|mut s| s.execute([ms(Utc::now())]))
                .db()?;
            tx.commit().db()
        })
        .await
    }

    async fn erase_user(&self, id: UserId, now: DateTime<Utc>) -> Result<Option<Erased>> {
        self.write(move |conn| {
            let tx = conn.savepoint().db()?;
            let me = id.to_hex();
            let photo_url: Option<Option<String>> = tx
                .prepare_cached("SELECT photo_url FROM users WHERE id = ?1")
                .and_then(|mut s| s.query_row([&me], |r| r.get(0)).optional())
                .db()?;
            let Some(photo_url) = photo_url else { return Ok(None) };
            let connections = tx
                .prepare_cached(
                    "DELETE FROM connection_requests WHERE from_id = ?1 OR to_id = ?1 \
                     RETURNING status, CASE WHEN from_id = ?1 THEN to_id ELSE from_id END",
                )
                .and_then(|mut s| {
                    s.query_map([&me], |r| Ok((r.get::<_, String>(0)?, oid(r, 1)?)))?
                        .filter_map(|row| match row {
                            Ok((status, other)) => (status == "accepted").then_some(Ok(other.into())),
                            Err(err) => Some(Err(err)),
                        })
                        .collect::<rusqlite::Result<Vec<UserId>>>()
                })
                .db()?;
            for sql in [
                "DELETE FROM user_words WHERE rowid = (SELECT search_rowid FROM users WHERE id = ?1)",
                "DELETE FROM blocks WHERE blocker_id = ?1 OR blocked_id = ?1",
                "DELETE FROM user_skills WHERE user_id = ?1",
                "DELETE FROM revoked_tokens WHERE user_id = ?1",
                "DELETE FROM push_outbox WHERE sub_id IN (SELECT id FROM push_subscriptions WHERE user_id = ?1)",
                "DELETE FROM push_subscriptions WHERE user_id = ?1",
                "DELETE FROM push_settings WHERE user_id = ?1",
                "DELETE FROM push_muted WHERE user_id = ?1",
            ] {
                tx.prepare_cached(sql).and_then(|mut s| s.execute([&me])).db()?;
            }
            // The email becomes a value no address parses to, unique as the column wants.
            tx.prepare_cached(
                "UPDATE users SET first_name = ?2, last_name = '', email = 'deleted:' || id, password_hash = '', \
                 age = NULL, gender = NULL, photo_url = NULL, about = '', skills = '[]', location = NULL, \
                 experience_years = NULL, search_rowid = NULL, \
                 token_version = token_version + 1, updated_at = ?3, deleted_at = COALESCE(deleted_at, ?3) \
                 WHERE id = ?1",
            )
            .and_then(|mut s| s.execute(params![me, DELETED_NAME, ms(now)]))
            .db()?;
            tx.commit().db()?;
            Ok(Some(Erased { connections, photo_url }))
        })
        .await
    }

    async fn feed(&self, viewer: UserId, filter: &FeedFilter) -> Result<Vec<Profile>> {
        let filter = filter.clone();
        self.read(move |conn| {
            let offset = i64::try_from(filter.offset).unwrap_or(i64::MAX);
            let viewer = viewer.to_hex();
            let map = |row: &Row<'_>| Ok(user(row)?.me.profile);
            if filter.skills.is_empty() {
                let mut stmt = conn.prepare_cached(&feed_sql(FeedSkills::Any)).db()?;
                return collect(stmt.query_map(params![viewer, filter.limit, offset], map).db()?);
            }
            let skills = skills_json(&filter.skills)?;
            let mut stmt = conn.prepare_cached(&feed_sql(FeedSkills::choose(conn, &skills).db()?)).db()?;
            collect(stmt.query_map(params![viewer, filter.limit, offset, skills], map).db()?)
        })
        .await
    }

    async fn search_users(&self, viewer: UserId, filter: &SearchFilter) -> Result<Vec<SearchHit>> {
        let filter = filter.clone();
        self.read(move |conn| search(conn, &viewer.to_hex(), &filter)).await
    }
}
