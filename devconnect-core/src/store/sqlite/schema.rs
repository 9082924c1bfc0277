//! The schema, as migrations embedded in the binary and applied at open.

use rusqlite::Connection;

/// Schema versions, applied in order; `PRAGMA user_version` records how many ran.
const MIGRATIONS: &[&str] = &[
    r"
CREATE TABLE users (
    id TEXT PRIMARY KEY,
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    email TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    age INTEGER,
    gender TEXT,
    photo_url TEXT,
    about TEXT NOT NULL,
    skills TEXT NOT NULL,
    token_version INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) WITHOUT ROWID;

-- Lower-cased skills, for the feed filter.
CREATE TABLE user_skills (
    skill TEXT NOT NULL,
    user_id TEXT NOT NULL,
    PRIMARY KEY (skill, user_id)
) WITHOUT ROWID;
CREATE INDEX user_skills_user ON user_skills (user_id);

-- pair_key is the same for both directions: one request per unordered pair.
CREATE TABLE connection_requests (
    id TEXT PRIMARY KEY,
    from_id TEXT NOT NULL,
    to_id TEXT NOT NULL,
    pair_key TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL,
    note TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX requests_to_status ON connection_requests (to_id, status);
CREATE INDEX requests_from_status ON connection_requests (from_id, status);

-- seq is the server-assigned position: AUTOINCREMENT never reuses or reorders.
CREATE TABLE messages (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    conv_key TEXT NOT NULL,
    sender_id TEXT NOT NULL,
    receiver_id TEXT NOT NULL,
    text TEXT NOT NULL,
    image TEXT,
    client_msg_id TEXT,
    created_at INTEGER NOT NULL,
    read_at INTEGER
);
CREATE INDEX messages_conversation ON messages (conv_key, seq);
CREATE INDEX messages_sender ON messages (sender_id, seq);
CREATE INDEX messages_receiver ON messages (receiver_id, seq);
CREATE INDEX messages_unread ON messages (receiver_id, sender_id) WHERE read_at IS NULL;
CREATE UNIQUE INDEX messages_client_id ON messages (sender_id, receiver_id, client_msg_id)
    WHERE client_msg_id IS NOT NULL;

-- One row per participant and conversation, for the chat partner list.
CREATE TABLE conversations (
    user_id TEXT NOT NULL,
    partner_id TEXT NOT NULL,
    last_seq INTEGER NOT NULL,
    PRIMARY KEY (user_id, partner_id)
) WITHOUT ROWID;
CREATE INDEX conversations_recent ON conversations (user_id, last_seq);

CREATE TABLE revoked_tokens (
    jti TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX revoked_tokens_expiry ON revoked_tokens (expires_at);
",
    r"
-- Engagement analytics: range scans by day (covering, so the tables are not read).
CREATE INDEX messages_created ON messages (created_at, sender_id);
CREATE INDEX requests_created ON connection_requests (created_at, from_id);
CREATE INDEX requests_reviewed ON connection_requests (status, updated_at, to_id, created_at);
",
    r"
-- Groups; member_count is kept by the same writes that add and remove members.
CREATE TABLE groups (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    visibility TEXT NOT NULL,
    tags TEXT NOT NULL,
    owner_id TEXT NOT NULL,
    member_count INTEGER NOT NULL,
    archived INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE group_members (
    group_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    role TEXT NOT NULL,
    joined_at INTEGER NOT NULL,
    PRIMARY KEY (group_id, user_id)
) WITHOUT ROWID;
CREATE INDEX group_members_user ON group_members (user_id);
CREATE INDEX group_members_seniority ON group_members (group_id, joined_at, user_id);
",
    r"
-- Group messages live beside 1:1 messages, so both share one sequence of positions:
-- receiver_id and conv_key are the group's id, group_id marks them, group_change holds
-- a system message's change (JSON).
ALTER TABLE messages ADD COLUMN group_id TEXT;
ALTER TABLE messages ADD COLUMN group_change TEXT;
-- My 1:1 messages for catch-up, without my group messages (those come per group).
DROP INDEX messages_sender;
CREATE INDEX messages_sender ON messages (sender_id, seq) WHERE group_id IS NULL;

-- Each member's window on a group's history (positions after from_seq, up to to_seq
-- once they left) and read position. Kept after they leave: they keep what they saw.
CREATE TABLE group_windows (
    user_id TEXT NOT NULL,
    group_id TEXT NOT NULL,
    from_seq INTEGER NOT NULL,
    to_seq INTEGER,
    read_seq INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, group_id)
) WITHOUT ROWID;
INSERT INTO group_windows (user_id, group_id, from_seq)
    SELECT user_id, group_id, (SELECT COALESCE(MAX(seq), 0) FROM messages) FROM group_members;
",
    r"
-- Discovery: public groups by their latest activity, found by keys (name words, tags;
-- written by `backfill_group_keys` for groups older than this).
ALTER TABLE groups ADD COLUMN last_seq INTEGER NOT NULL DEFAULT 0;
UPDATE groups SET last_seq = COALESCE((SELECT MAX(seq) FROM messages WHERE conv_key = groups.id), 0);
CREATE INDEX groups_listed ON groups (last_seq DESC, id DESC) WHERE visibility = 'public' AND archived = 0;
CREATE TABLE group_keys (
    key TEXT NOT NULL,
    group_id TEXT NOT NULL,
    PRIMARY KEY (key, group_id)
) WITHOUT ROWID;
CREATE INDEX group_keys_group ON group_keys (group_id, key);
",
    r"
ALTER TABLE groups ADD COLUMN photo_url TEXT;
",
    // 7: blocks and reports.
    "
-- Who blocked whom. `pair_key` is the pair's key whoever blocked, so the feed leaves a
-- blocked pair out with one index lookup, as it does a pair with a request.
CREATE TABLE blocks (
    blocker_id TEXT NOT NULL,
    blocked_id TEXT NOT NULL,
    pair_key TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (blocker_id, blocked_id)
) WITHOUT ROWID;
CREATE INDEX blocks_pair ON blocks (pair_key);
CREATE INDEX blocks_blocked ON blocks (blocked_id, blocker_id);

-- Reports, with the reported content as it was (JSON). One open report per reporter
-- and target.
CREATE TABLE reports (
    id TEXT PRIMARY KEY,
    reporter_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    target_id TEXT NOT NULL,
    reason TEXT NOT NULL,
    details TEXT NOT NULL,
    snapshot TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    resolved_by TEXT,
    resolution_note TEXT,
    resolved_at INTEGER
) WITHOUT ROWID;
CREATE UNIQUE INDEX reports_open ON reports (reporter_id, target_id) WHERE status = 'open';
CREATE INDEX reports_status ON reports (status, id);
CREATE INDEX reports_reporter ON reports (reporter_id, id);
",
    // 8: suspensions and the moderation audit log.
    "
ALTER TABLE users ADD COLUMN suspended_at INTEGER;

CREATE TABLE audit (
    id TEXT PRIMARY KEY,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target_id TEXT NOT NULL,
    note TEXT NOT NULL,
    at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX audit_at ON audit (at);
",
    // 9: deleted accounts (the record stays, erased, as the sender of their messages).
    "
ALTER TABLE users ADD COLUMN deleted_at INTEGER;
",
    // 10: developer search: location and experience.
    "
ALTER TABLE users ADD COLUMN location TEXT;
ALTER TABLE users ADD COLUMN experience_years INTEGER;

-- The full-text index of profiles, one row per user (users.search_rowid), written in the
-- transaction of each profile write (replaced by `user_words` in migration 12).
-- unicode61 with remove_diacritics folds case and accents; the prefix indexes answer
-- the last word typed (search as you type) without scanning the vocabulary.
ALTER TABLE users ADD COLUMN search_rowid INTEGER;
CREATE UNIQUE INDEX users_search_rowid ON users (search_rowid);
CREATE VIRTUAL TABLE user_search USING fts5(
    name, skills, about, location,
    tokenize = 'unicode61 remove_diacritics 2',
    prefix = '2 3'
);
",
    // 11: push notifications.
    "
-- A browser's push subscription; an endpoint belongs to one subscription.
CREATE TABLE push_subscriptions (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    endpoint TEXT NOT NULL UNIQUE,
    p256dh BLOB NOT NULL,
    auth BLOB NOT NULL,
    token_id TEXT NOT NULL,
    created_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX push_subscriptions_user ON push_subscriptions (user_id, created_at);

-- off: the bits of the kinds turned off (1 messages, 2 requests, 4 groups).
CREATE TABLE push_settings (
    user_id TEXT PRIMARY KEY,
    off INTEGER NOT NULL,
    previews INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE push_muted (
    user_id TEXT NOT NULL,
    group_id TEXT NOT NULL,
    PRIMARY KEY (user_id, group_id)
) WITHOUT ROWID;

-- One waiting notification per subscription and topic; item is the newest thing it is
-- about (JSON), count how many it stands for.
CREATE TABLE push_outbox (
    sub_id TEXT NOT NULL,
    topic TEXT NOT NULL,
    item TEXT NOT NULL,
    count INTEGER NOT NULL,
    version INTEGER NOT NULL,
    attempts INTEGER NOT NULL,
    due_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (sub_id, topic)
);
CREATE INDEX push_outbox_due ON push_outbox (due_at);
",
    // 12: the search index keeps a word's fields apart.
    "
-- The full-text index of profiles, one row per user (users.search_rowid), written in the
-- transaction of each profile write, replacing `user_search`, whose columns shared one
-- doclist per word. Each word is tagged with its field (`nrust`: rust in the name; see
-- `store::sqlite::search`); migration 15 replaced it with rowids counting down.
-- detail=none: no query needs positions; prefix indexes on 2-5 characters answer a tag
-- and a typed word of up to four letters.
DROP TABLE user_search;
CREATE VIRTUAL TABLE user_words USING fts5(
    words,
    tokenize = 'ascii',
    prefix = '2 3 4 5',
    detail = none
);
",
    // 13: suspended accounts, so search leaves them out without reading each candidate's row.
    "
CREATE INDEX users_suspended ON users (id) WHERE suspended_at IS NOT NULL;
",
    // 14: the writer merges the search index's segments while it is idle.
    "
-- Its 'merge' steps (`search::merge_step`) merge any level holding two segments, not
-- four: the index stays at about one segment per level, and a query looks in each.
INSERT INTO user_words (user_words, rank) VALUES ('usermerge', 2);
",
    // 15: the search index's rowids count down, so newest first is a forward walk.
    "
-- `build_search_index` indexes every user again when this runs, rowids counting down
-- from -1 (oldest user) as people sign up (`search::index_user`): FTS5 walks a doclist
-- forwards much more cheaply than backwards.
DROP TABLE user_words;
CREATE VIRTUAL TABLE user_words USING fts5(
    words,
    tokenize = 'ascii',
    prefix = '2 3 4 5',
    detail = none
);
INSERT INTO user_words (user_words, rank) VALUES ('usermerge', 2);
",
    // 16: how many users hold each skill, kept by triggers.
    "
-- Choosing how a skills filter walks (`search::skills_walk`, `users::FeedSkills`) reads
-- a count per skill here instead of counting up to 2,000 index entries per request.
-- The triggers keep it in step with every write of `user_skills` (an ignored insert
-- fires none); a skill nobody holds any more leaves no row.
CREATE TABLE skill_counts (
    skill TEXT PRIMARY KEY,
    users INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO skill_counts (skill, users) SELECT skill, count(*) FROM user_skills GROUP BY skill;
CREATE TRIGGER user_skills_counted AFTER INSERT ON user_skills BEGIN
    INSERT INTO skill_counts (skill, users) VALUES (new.skill, 1)
        ON CONFLICT (skill) DO UPDATE SET users = users + 1;
END;
CREATE TRIGGER user_skills_uncounted AFTER DELETE ON user_skills BEGIN
    UPDATE skill_counts SET users = users - 1 WHERE skill = old.skill;
    DELETE FROM skill_counts WHERE skill = old.skill AND users = 0;
END;
",
];

/// The migration that added `group_keys`: groups created before it get their keys
/// when it runs (tokenizing names is not SQL's job).
const GROUP_KEYS_MIGRATION: i64 = 5;
/// The migration that made the search index `user_words` as it is: it indexes every
/// user. (Migrations 10 and 12 made earlier ones, left empty since: a database older
/// than 15 is indexed once, by this one.)
const SEARCH_MIGRATION: i64 = 15;

pub(super) fn migrate(conn: &mut Connection) -> rusqlite::Result<()> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let version: i64 = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
    for (i, sql) in (1i64..).zip(MIGRATIONS).skip_while(|(i, _)| *i <= version) {
        tx.execute_batch(sql)?;
        if i == GROUP_KEYS_MIGRATION {
            backfill_group_keys(&tx)?;
        }
        if i == SEARCH_MIGRATION {
            super::search::build_search_index(&tx)?;
        }
        tx.pragma_update(None, "user_version", i)?;
    }
    tx.commit()
}

fn backfill_group_keys(conn: &Connection) -> rusqlite::Result<()> {
    let groups: Vec<(String, String, String)> = conn
        .prepare("SELECT id, name, tags FROM groups")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?;
    for (id, name, tags) in groups {
        let tags: Vec<String> = serde_json::from_str(&tags).unwrap_or_default();
        insert_group_keys(conn, &id, &crate::model::group_keys(&name, &tags))?;
    }
    Ok(())
}

/// Records the keys a group is found by.
pub(super) fn insert_group_keys(conn: &Connection, group: &str, keys: &[String]) -> rusqlite::Result<()> {
    let mut insert = conn.prepare_cached("INSERT OR IGNORE INTO group_keys (key, group_id) VALUES (?1, ?2)")?;
    for key in keys {
        insert.execute([key.as_str(), group])?;
    }
    Ok(())
}
