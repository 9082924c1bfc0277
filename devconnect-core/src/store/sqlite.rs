//! The embedded store: SQLite on disk (WAL, `synchronous=FULL`, so a commit that
//! returned survives a crash of the process and of the machine), with its schema
//! migrations embedded here.
//!
//! Writes go to one writer thread that owns the only writing connection (SQLite allows
//! one writer at a time anyway). It commits in groups: every write waiting when it
//! becomes free runs in one transaction, each in its own savepoint (so one failing write
//! never undoes another), and all of them are answered after the one commit and fsync.
//! Under load that turns N fsyncs into one; alone, a write still commits immediately.
//! Reads run beside the writer (WAL allows it) on a few reader threads of their own,
//! each with one read-only connection, all taking reads from one queue. Their own
//! threads rather than tokio's blocking pool: under a burst of reads (a thousand
//! sockets connecting at once) that pool starts a thread for nearly every queued read
//! and keeps them around, each with its stack and allocator arena.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use bson::oid::ObjectId;
use chrono::{DateTime, Utc};
use devconnect_types::{ConnectionRequest, Gender, Me, Message, MessageId, Profile, RequestId, RequestStatus, UserId};
use rusqlite::{Connection, OpenFlags, OptionalExtension as _, Row, params};

use super::{Store, pair_key};
use crate::model::{
    AuthState, EngagementDay, FeedFilter, Inserted, NewMessageRecord, PartnerRecord, ProfileUpdate, UserRecord,
    skill_key,
};
use crate::{Error, Result, workers};

/// Reader threads (and read-only connections) per core: reads are short and mostly
/// CPU-bound (the OS caches the file), and each reader caches pages of its own.
const READERS_PER_CORE: usize = 2;
/// Upper bound of each reader's page cache (KiB): the B-tree's upper levels and a few
/// leaves. Every reader would otherwise cache its own copy of the same pages, which the
/// OS page cache already holds once for all of them (a read from it costs about a
/// microsecond). At 1 MiB each, the readers' caches grew by about 1 KiB for every
/// socket of a thousand users connecting; the feed ran as fast at 64 KiB as at 1 MiB.
const READER_CACHE_KIB: i64 = 64;
/// Most writes committed together (bounds the latency one commit adds to the first).
const MAX_GROUP: usize = 256;

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
];

const USER_COLS: &str = "u.id, u.first_name, u.last_name, u.email, u.password_hash, u.age, u.gender, \
                         u.photo_url, u.about, u.skills, u.token_version, u.created_at, u.updated_at";
const REQUEST_COLS: &str = "r.id, r.from_id, r.to_id, r.status, r.note, r.created_at, r.updated_at";
const REQUEST_COL_COUNT: usize = 7;
const MESSAGE_COLS: &str = "seq, id, sender_id, receiver_id, text, image, client_msg_id, created_at, read_at";

/// The embedded SQLite store.
pub struct SqliteStore {
    db: Arc<Db>,
}

/// A write for the writer thread: runs inside the group's transaction and returns what
/// to do once the group's commit is known.
type Job = Box<dyn FnOnce(&mut Connection) -> Completion + Send>;
type Completion = Box<dyn FnOnce(std::result::Result<(), &rusqlite::Error>) + Send>;

struct Db {
    writer: std::sync::mpsc::Sender<Job>,
    /// The reader threads' queue: `None` for an in-memory database, whose only
    /// connection is the writer, and once the store is closed.
    readers: Mutex<Option<std::sync::mpsc::Sender<workers::Job<Reader>>>>,
}

impl SqliteStore {
    /// Opens (creating and migrating if needed) the database file at `path`.
    pub async fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(Error::internal)?;
        }
        make_private(&path).map_err(Error::internal)?;
        let opened = path.clone();
        let writer = tokio::task::spawn_blocking(move || -> rusqlite::Result<Connection> {
            let mut conn = Connection::open(&opened)?;
            conn.pragma_update(None, "journal_mode", "WAL")?;
            configure(&conn)?;
            migrate(&mut conn)?;
            Ok(conn)
        })
        .await
        .map_err(Error::internal)?
        .map_err(Error::internal)?;
        Ok(Self::from_writer(writer, Some(&path)))
    }

    /// A private in-memory database, for tests.
    pub async fn open_in_memory() -> Result<Self> {
        let mut conn = Connection::open_in_memory().map_err(Error::internal)?;
        configure(&conn).and_then(|()| migrate(&mut conn)).map_err(Error::internal)?;
        Ok(Self::from_writer(conn, None))
    }

    fn from_writer(writer: Connection, path: Option<&Path>) -> Self {
        let (jobs, queue) = std::sync::mpsc::channel();
        // The writer ends when the store (the last sender) is dropped; the readers, when
        // it is dropped or closed.
        let spawned =
            std::thread::Builder::new().name("sqlite-writer".into()).spawn(move || write_loop(writer, &queue));
        if let Err(err) = spawned {
            tracing::error!(%err, "could not start the SQLite writer thread; writes will fail");
        }
        let readers = path.and_then(|path| {
            let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
            let path = path.to_path_buf();
            let open = move || Reader::open(path.clone());
            let started = workers::spawn("sqlite-reader", (cores * READERS_PER_CORE).clamp(2, 16), open);
            started.inspect_err(|err| tracing::error!(%err, "could not start the SQLite reader threads")).ok()
        });
        Self { db: Arc::new(Db { writer: jobs, readers: Mutex::new(readers) }) }
    }

    async fn write<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T> + Send + 'static,
    {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move |conn| {
            let result = f(conn);
            Box::new(move |commit| {
                let result = match commit {
                    Ok(()) => result,
                    Err(err) if result.is_ok() => Err(Error::internal(format!("commit failed: {err}"))),
                    Err(_) => result,
                };
                let _ = reply.send(result);
            })
        });
        self.db.writer.send(job).map_err(|_| Error::internal("the SQLite writer thread is gone"))?;
        // A dropped reply means the job never completed (it panicked and was rolled back,
        // or its group could not start).
        answer.await.map_err(|_| Error::internal("a SQLite write did not complete"))?
    }

    async fn read<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        let Some(readers) = lock(&self.db.readers).clone() else {
            return self.write(move |conn| f(conn)).await;
        };
        let (reply, answer) = tokio::sync::oneshot::channel();
        let job: workers::Job<Reader> = Box::new(move |reader| {
            let _ = reply.send(reader.connection().and_then(f));
        });
        readers.send(job).map_err(|_| Error::internal("the SQLite reader threads are gone"))?;
        // A dropped reply means the read panicked (logged).
        answer.await.map_err(|_| Error::internal("a SQLite read did not complete"))?
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // The pool holds idle connections only; a panic cannot leave one half-used.
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The writer thread: group commit (see the module docs).
fn write_loop(mut conn: Connection, queue: &std::sync::mpsc::Receiver<Job>) {
    while let Ok(first) = queue.recv() {
        let mut group = vec![first];
        group.extend(queue.try_iter().take(MAX_GROUP - 1));
        if let Err(err) = conn.execute_batch("BEGIN IMMEDIATE") {
            // Dropping the jobs fails their callers.
            drop(group);
            tracing::error!(%err, "could not begin a SQLite transaction");
            continue;
        }
        let mut completions = Vec::with_capacity(group.len());
        for job in group {
            let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(&mut conn)));
            match run {
                Ok(completion) => completions.push(completion),
                Err(_) => tracing::error!("a SQLite write panicked; its statements were rolled back"),
            }
        }
        let commit = conn.execute_batch("COMMIT");
        if commit.is_err() {
            let _ = conn.execute_batch("ROLLBACK");
        }
        for completion in completions {
            completion(commit.as_ref().map(|_| ()));
        }
    }
}

/// A reader thread's state: its read-only connection, opened when the thread starts
/// (so its fixed cost, caches and parsed schema, is paid at startup rather than by the
/// first requests) and again by the next read if that failed.
struct Reader {
    path: PathBuf,
    conn: Option<Connection>,
}

impl Reader {
    fn open(path: PathBuf) -> Self {
        let conn = open_reader(&path).inspect_err(|err| tracing::warn!(%err, "could not open a SQLite reader")).ok();
        Self { path, conn }
    }

    fn connection(&mut self) -> Result<&Connection> {
        let conn = match self.conn.take() {
            Some(conn) => conn,
            None => open_reader(&self.path).map_err(Error::internal)?,
        };
        Ok(self.conn.insert(conn))
    }
}

/// The feed: `?1` viewer, `?2` limit, `?3` offset, `?4` skills as a JSON array.
fn feed_sql(with_skills: bool) -> String {
    let skills = if with_skills {
        "AND u.id IN (SELECT s.user_id FROM user_skills s WHERE s.skill IN (SELECT value FROM json_each(?4)))"
    } else {
        ""
    };
    // Each candidate costs one lookup in the unique pair index, however many requests
    // the viewer has: no list of excluded ids is ever built.
    format!(
        "SELECT {USER_COLS} FROM users u \
         WHERE u.id <> ?1 \
           AND NOT EXISTS (SELECT 1 FROM connection_requests r WHERE r.pair_key = \
               CASE WHEN u.id < ?1 THEN u.id || ?1 ELSE ?1 || u.id END) \
           {skills} \
         ORDER BY u.id DESC LIMIT ?2 OFFSET ?3"
    )
}

/// A conversation's page: `?1` pair key, `?2` before this position, `?3` limit.
fn history_sql() -> String {
    format!("SELECT {MESSAGE_COLS} FROM messages WHERE conv_key = ?1 AND seq < ?2 ORDER BY seq DESC LIMIT ?3")
}

/// Everything to or from `?1` after position `?2`, `?3` at most.
fn sync_sql() -> String {
    format!(
        "SELECT * FROM (SELECT {MESSAGE_COLS} FROM messages WHERE sender_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3) \
         UNION ALL \
         SELECT * FROM (SELECT {MESSAGE_COLS} FROM messages WHERE receiver_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3) \
         ORDER BY seq LIMIT ?3"
    )
}

/// Creates the database file readable by its owner only (mode 0600), or takes away
/// group and other access from an existing one and its WAL and shared-memory files.
/// SQLite creates the `-wal` and `-shm` files with the database file's mode, so they
/// start private too.
fn make_private(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
        std::fs::OpenOptions::new().write(true).create(true).truncate(false).mode(0o600).open(path)?;
        for suffix in ["", "-wal", "-shm"] {
            let mut file = path.as_os_str().to_owned();
            file.push(suffix);
            match std::fs::metadata(&file) {
                Ok(meta) if meta.permissions().mode() & 0o077 != 0 => {
                    std::fs::set_permissions(
                        &file,
                        std::fs::Permissions::from_mode(meta.permissions().mode() & 0o700),
                    )?;
                }
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

fn configure(conn: &Connection) -> rusqlite::Result<()> {
    plan_once(conn)?;
    // FULL: the WAL is fsynced at every commit, so an acknowledged write survives even
    // a power loss, not only a process crash.
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "OFF")?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(())
}

/// Keeps each cached statement's query plan whatever values are bound to it. Without
/// this, SQLite re-plans a statement whose plan may depend on a bound value (a `LIMIT ?`,
/// or any `col = ?` beside an `ORDER BY`) each time that value is bound again, and
/// rusqlite clears the bindings of every cached statement after use: the feed, history
/// and sync queries were parsed and planned anew on every call, a fifth of the feed's
/// CPU. None of our plans gains anything from seeing the values.
fn plan_once(conn: &Connection) -> rusqlite::Result<()> {
    conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true).map(drop)
}

fn open_reader(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI,
    )?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    plan_once(&conn)?;
    conn.pragma_update(None, "cache_size", -READER_CACHE_KIB)?;
    conn.set_prepared_statement_cache_capacity(64);
    // Reads the schema now rather than in the first request.
    conn.query_row("SELECT count(*) FROM sqlite_schema", [], |_| Ok(()))?;
    Ok(conn)
}

fn migrate(conn: &mut Connection) -> rusqlite::Result<()> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let version: i64 = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
    for (i, sql) in (1i64..).zip(MIGRATIONS).skip_while(|(i, _)| *i <= version) {
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", i)?;
    }
    tx.commit()
}

/// Maps SQLite failures: a constraint violation is a `Conflict`, anything else internal.
fn db_err(err: rusqlite::Error) -> Error {
    match err.sqlite_error_code() {
        Some(rusqlite::ErrorCode::ConstraintViolation) => Error::Conflict("already exists"),
        _ => Error::internal(err),
    }
}

trait Db2<T> {
    fn db(self) -> Result<T>;
}

impl<T> Db2<T> for rusqlite::Result<T> {
    fn db(self) -> Result<T> {
        self.map_err(db_err)
    }
}

fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

fn conversion(idx: usize, err: impl std::error::Error + Send + Sync + 'static) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(idx, rusqlite::types::Type::Text, Box::new(err))
}

fn oid(row: &Row<'_>, idx: usize) -> rusqlite::Result<ObjectId> {
    let s: String = row.get(idx)?;
    ObjectId::parse_str(&s).map_err(|e| conversion(idx, e))
}

fn time(row: &Row<'_>, idx: usize) -> rusqlite::Result<DateTime<Utc>> {
    let ms: i64 = row.get(idx)?;
    DateTime::from_timestamp_millis(ms).ok_or_else(|| conversion(idx, Error::internal("timestamp out of range")))
}

fn opt_time(row: &Row<'_>, idx: usize) -> rusqlite::Result<Option<DateTime<Utc>>> {
    match row.get::<_, Option<i64>>(idx)? {
        None => Ok(None),
        Some(_) => time(row, idx).map(Some),
    }
}

fn user_at(row: &Row<'_>, o: usize) -> rusqlite::Result<UserRecord> {
    let gender: Option<String> = row.get(o + 6)?;
    let skills: String = row.get(o + 9)?;
    Ok(UserRecord {
        me: Me {
            profile: Profile {
                id: oid(row, o)?.into(),
                first_name: row.get(o + 1)?,
                last_name: row.get(o + 2)?,
                age: row.get(o + 5)?,
                gender: gender.as_deref().map(Gender::parse).transpose().map_err(|e| conversion(o + 6, e))?,
                photo_url: row.get(o + 7)?,
                about: row.get(o + 8)?,
                skills: serde_json::from_str(&skills).map_err(|e| conversion(o + 9, e))?,
                created_at: time(row, o + 11)?,
                updated_at: time(row, o + 12)?,
            },
            email: row.get(o + 3)?,
        },
        password_hash: row.get(o + 4)?,
        token_version: row.get(o + 10)?,
    })
}

fn user(row: &Row<'_>) -> rusqlite::Result<UserRecord> {
    user_at(row, 0)
}

fn request_at(row: &Row<'_>, o: usize) -> rusqlite::Result<ConnectionRequest> {
    let status: String = row.get(o + 3)?;
    Ok(ConnectionRequest {
        id: oid(row, o)?.into(),
        from_user_id: oid(row, o + 1)?.into(),
        to_user_id: oid(row, o + 2)?.into(),
        status: RequestStatus::parse(&status).map_err(|e| conversion(o + 3, e))?,
        note: row.get(o + 4)?,
        created_at: time(row, o + 5)?,
        updated_at: time(row, o + 6)?,
    })
}

fn request(row: &Row<'_>) -> rusqlite::Result<ConnectionRequest> {
    request_at(row, 0)
}

fn message(row: &Row<'_>) -> rusqlite::Result<Message> {
    Ok(Message {
        seq: row.get(0)?,
        id: oid(row, 1)?.into(),
        sender_id: oid(row, 2)?.into(),
        receiver_id: oid(row, 3)?.into(),
        text: row.get(4)?,
        image: row.get(5)?,
        client_msg_id: row.get(6)?,
        created_at: time(row, 7)?,
        read_at: opt_time(row, 8)?,
    })
}

fn user_by_id(conn: &Connection, id: &str) -> rusqlite::Result<Option<UserRecord>> {
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

fn skills_json(skills: &[String]) -> Result<String> {
    serde_json::to_string(skills).map_err(Error::internal)
}

fn message_seq(conn: &Connection, id: MessageId, filter: &str, a: &str) -> Result<i64> {
    conn.prepare_cached(&format!("SELECT seq FROM messages WHERE id = ?1 AND {filter}"))
        .and_then(|mut s| s.query_row([id.to_hex().as_str(), a], |r| r.get(0)).optional())
        .db()?
        .ok_or(Error::NotFound("message"))
}

fn collect<T>(rows: impl Iterator<Item = rusqlite::Result<T>>) -> Result<Vec<T>> {
    rows.collect::<rusqlite::Result<Vec<T>>>().db()
}

#[async_trait]
impl Store for SqliteStore {
    async fn ping(&self) -> Result<()> {
        self.read(|conn| conn.query_row("SELECT 1", [], |_| Ok(())).db()).await
    }

    async fn close(&self) -> Result<()> {
        // Ends the reader threads once the reads already queued are done.
        lock(&self.db.readers).take();
        // Waits for every queued write; SQLite checkpoints the WAL when the writer
        // connection closes with the store.
        self.write(|_| Ok(())).await
    }

    async fn insert_user(&self, u: &UserRecord) -> Result<()> {
        let u = u.clone();
        let skills = skills_json(&u.me.profile.skills)?;
        self.write(move |conn| {
            let tx = conn.savepoint().db()?;
            let p = &u.me.profile;
            let id = p.id.to_hex();
            tx.prepare_cached(
                "INSERT INTO users (id, first_name, last_name, email, password_hash, age, gender, photo_url, \
                 about, skills, token_version, created_at, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
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
                ])
            })
            .map_err(|e| match db_err(e) {
                Error::Conflict(_) => Error::Conflict("email already registered"),
                other => other,
            })?;
            set_skills(&tx, &id, &p.skills).db()?;
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
            let ProfileUpdate { first_name, last_name, age, gender, about, skills, photo_url } = update;
            p.first_name = first_name.unwrap_or(std::mem::take(&mut p.first_name));
            p.last_name = last_name.unwrap_or(std::mem::take(&mut p.last_name));
            p.age = age.or(p.age);
            p.gender = gender.or(p.gender);
            p.about = about.unwrap_or(std::mem::take(&mut p.about));
            p.photo_url = photo_url.or(p.photo_url.take());
            if let Some(skills) = skills {
                set_skills(&tx, &id, &skills).db()?;
                p.skills = skills;
            }
            p.updated_at = now;
            tx.prepare_cached(
                "UPDATE users SET first_name = ?2, last_name = ?3, age = ?4, gender = ?5, about = ?6, \
                 skills = ?7, photo_url = ?8, updated_at = ?9 WHERE id = ?1",
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
                ])
            })
            .db()?;
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
                "SELECT token_version, EXISTS (SELECT 1 FROM revoked_tokens WHERE jti = ?2) FROM users WHERE id = ?1",
            )
            .and_then(|mut s| {
                s.query_row(params![id.to_hex(), token_id], |r| {
                    Ok(AuthState { token_version: r.get(0)?, revoked: r.get(1)? })
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

    async fn insert_request(&self, r: &ConnectionRequest) -> Result<()> {
        let r = r.clone();
        self.write(move |conn| {
            conn.prepare_cached(
                "INSERT INTO connection_requests (id, from_id, to_id, pair_key, status, note, created_at, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    r.id.to_hex(),
                    r.from_user_id.to_hex(),
                    r.to_user_id.to_hex(),
                    pair_key(r.from_user_id, r.to_user_id),
                    r.status.as_str(),
                    r.note,
                    ms(r.created_at),
                    ms(r.updated_at),
                ])
            })
            .db()
            .map(drop)
        })
        .await
    }

    async fn request(&self, id: RequestId) -> Result<Option<ConnectionRequest>> {
        self.read(move |conn| {
            conn.prepare_cached(&format!("SELECT {REQUEST_COLS} FROM connection_requests r WHERE r.id = ?1"))
                .and_then(|mut s| s.query_row([id.to_hex()], request).optional())
                .db()
        })
        .await
    }

    async fn review_request(
        &self,
        id: RequestId,
        receiver: UserId,
        status: RequestStatus,
        now: DateTime<Utc>,
    ) -> Result<Option<ConnectionRequest>> {
        self.write(move |conn| {
            conn.prepare_cached(&format!(
                "UPDATE connection_requests SET status = ?3, updated_at = ?4 \
                 WHERE id = ?1 AND to_id = ?2 AND status = 'interested' RETURNING {}",
                REQUEST_COLS.replace("r.", "")
            ))
            .and_then(|mut s| {
                s.query_row(params![id.to_hex(), receiver.to_hex(), status.as_str(), ms(now)], request).optional()
            })
            .db()
        })
        .await
    }

    async fn received_requests(&self, me: UserId) -> Result<Vec<ConnectionRequest<Profile, UserId>>> {
        self.read(move |conn| {
            let mut stmt = conn
                .prepare_cached(&format!(
                    "SELECT {REQUEST_COLS}, {USER_COLS} FROM connection_requests r JOIN users u ON u.id = r.from_id \
                     WHERE r.to_id = ?1 AND r.status = 'interested' ORDER BY r.created_at DESC, r.id DESC"
                ))
                .db()?;
            let rows = stmt
                .query_map([me.to_hex()], |row| {
                    let r = request(row)?;
                    let from = user_at(row, REQUEST_COL_COUNT)?.me.profile;
                    let to = r.to_user_id;
                    Ok(r.with_parties(from, to))
                })
                .db()?;
            collect(rows)
        })
        .await
    }

    async fn sent_requests(&self, me: UserId) -> Result<Vec<ConnectionRequest<UserId, Profile>>> {
        self.read(move |conn| {
            let mut stmt = conn
                .prepare_cached(&format!(
                    "SELECT {REQUEST_COLS}, {USER_COLS} FROM connection_requests r JOIN users u ON u.id = r.to_id \
                     WHERE r.from_id = ?1 ORDER BY r.created_at DESC, r.id DESC"
                ))
                .db()?;
            let rows = stmt
                .query_map([me.to_hex()], |row| {
                    let r = request(row)?;
                    let to = user_at(row, REQUEST_COL_COUNT)?.me.profile;
                    let from = r.from_user_id;
                    Ok(r.with_parties(from, to))
                })
                .db()?;
            collect(rows)
        })
        .await
    }

    async fn connections(&self, me: UserId) -> Result<Vec<Profile>> {
        self.read(move |conn| {
            let mut stmt = conn
                .prepare_cached(&format!(
                    "SELECT {USER_COLS}, c.updated_at FROM ( \
                       SELECT to_id AS other, updated_at FROM connection_requests WHERE from_id = ?1 AND status = 'accepted' \
                       UNION ALL \
                       SELECT from_id, updated_at FROM connection_requests WHERE to_id = ?1 AND status = 'accepted' \
                     ) c JOIN users u ON u.id = c.other ORDER BY c.updated_at DESC, u.id DESC"
                ))
                .db()?;
            let rows = stmt.query_map([me.to_hex()], |row| Ok(user(row)?.me.profile)).db()?;
            collect(rows)
        })
        .await
    }

    async fn connection_ids(&self, me: UserId) -> Result<Vec<UserId>> {
        self.read(move |conn| {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT to_id FROM connection_requests WHERE from_id = ?1 AND status = 'accepted' \
                     UNION ALL \
                     SELECT from_id FROM connection_requests WHERE to_id = ?1 AND status = 'accepted'",
                )
                .db()?;
            let rows = stmt.query_map([me.to_hex()], |row| Ok(UserId::from(oid(row, 0)?))).db()?;
            collect(rows)
        })
        .await
    }

    async fn are_connected(&self, a: UserId, b: UserId) -> Result<bool> {
        self.read(move |conn| {
            conn.prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM connection_requests WHERE pair_key = ?1 AND status = 'accepted')",
            )
            .and_then(|mut s| s.query_row([pair_key(a, b)], |r| r.get(0)))
            .db()
        })
        .await
    }

    async fn delete_connection(&self, a: UserId, b: UserId) -> Result<bool> {
        self.write(move |conn| {
            conn.prepare_cached("DELETE FROM connection_requests WHERE pair_key = ?1 AND status = 'accepted'")
                .and_then(|mut s| s.execute([pair_key(a, b)]))
                .db()
                .map(|n| n > 0)
        })
        .await
    }

    async fn feed(&self, viewer: UserId, filter: &FeedFilter) -> Result<Vec<Profile>> {
        let filter = filter.clone();
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(&feed_sql(!filter.skills.is_empty())).db()?;
            let offset = i64::try_from(filter.offset).unwrap_or(i64::MAX);
            let viewer = viewer.to_hex();
            let map = |row: &Row<'_>| Ok(user(row)?.me.profile);
            let rows = if filter.skills.is_empty() {
                stmt.query_map(params![viewer, filter.limit, offset], map)
            } else {
                stmt.query_map(params![viewer, filter.limit, offset, skills_json(&filter.skills)?], map)
            };
            collect(rows.db()?)
        })
        .await
    }

    async fn insert_message(&self, m: &NewMessageRecord) -> Result<Inserted> {
        let m = m.clone();
        self.write(move |conn| {
            let tx = conn.savepoint().db()?;
            let (sender, receiver) = (m.sender.to_hex(), m.receiver.to_hex());
            let inserted: Option<i64> = tx
                .prepare_cached(
                    "INSERT INTO messages (id, conv_key, sender_id, receiver_id, text, image, client_msg_id, created_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) \
                     ON CONFLICT (sender_id, receiver_id, client_msg_id) WHERE client_msg_id IS NOT NULL DO NOTHING \
                     RETURNING seq",
                )
                .and_then(|mut s| {
                    s.query_row(
                        params![
                            m.id.to_hex(),
                            pair_key(m.sender, m.receiver),
                            sender,
                            receiver,
                            m.text,
                            m.image,
                            m.client_msg_id,
                            ms(m.created_at)
                        ],
                        |r| r.get(0),
                    )
                    .optional()
                })
                .db()?;
            let Some(seq) = inserted else {
                let existing = tx
                    .prepare_cached(&format!(
                        "SELECT {MESSAGE_COLS} FROM messages WHERE sender_id = ?1 AND receiver_id = ?2 AND client_msg_id = ?3"
                    ))
                    .and_then(|mut s| s.query_row(params![sender, receiver, m.client_msg_id], message))
                    .db()?;
                return Ok(Inserted::Existing(existing));
            };
            tx.prepare_cached(
                "INSERT INTO conversations (user_id, partner_id, last_seq) VALUES (?1, ?2, ?3), (?2, ?1, ?3) \
                 ON CONFLICT (user_id, partner_id) DO UPDATE SET last_seq = excluded.last_seq",
            )
            .and_then(|mut s| s.execute(params![sender, receiver, seq]))
            .db()?;
            tx.commit().db()?;
            Ok(Inserted::New(Message {
                id: m.id,
                sender_id: m.sender,
                receiver_id: m.receiver,
                text: m.text,
                image: m.image,
                client_msg_id: m.client_msg_id,
                created_at: m.created_at,
                read_at: None,
                seq,
            }))
        })
        .await
    }

    async fn history(&self, a: UserId, b: UserId, before: Option<MessageId>, limit: u32) -> Result<Vec<Message>> {
        self.read(move |conn| {
            let key = pair_key(a, b);
            let before = match before {
                Some(id) => message_seq(conn, id, "conv_key = ?2", &key)?,
                None => i64::MAX,
            };
            let mut stmt = conn.prepare_cached(&history_sql()).db()?;
            let mut messages = collect(stmt.query_map(params![key, before, limit], message).db()?)?;
            messages.reverse();
            Ok(messages)
        })
        .await
    }

    async fn sync(&self, me: UserId, after: Option<MessageId>, limit: u32) -> Result<Vec<Message>> {
        self.read(move |conn| {
            let me = me.to_hex();
            let after = match after {
                Some(id) => message_seq(conn, id, "(sender_id = ?2 OR receiver_id = ?2)", &me)?,
                None => 0,
            };
            let mut stmt = conn.prepare_cached(&sync_sql()).db()?;
            collect(stmt.query_map(params![me, after, limit], message).db()?)
        })
        .await
    }

    async fn chat_partners(&self, me: UserId) -> Result<Vec<PartnerRecord>> {
        self.read(move |conn| {
            let me = me.to_hex();
            // Conversations, most recent first; then connections without messages.
            let mut stmt = conn
                .prepare_cached(
                    "SELECT pid, last_seq FROM ( \
                       SELECT partner_id AS pid, last_seq, 0 AS grp, 0 AS accepted_at \
                         FROM conversations WHERE user_id = ?1 \
                       UNION ALL \
                       SELECT other, NULL, 1, updated_at FROM ( \
                         SELECT to_id AS other, updated_at FROM connection_requests \
                           WHERE from_id = ?1 AND status = 'accepted' \
                         UNION ALL \
                         SELECT from_id, updated_at FROM connection_requests \
                           WHERE to_id = ?1 AND status = 'accepted') \
                       WHERE other NOT IN (SELECT partner_id FROM conversations WHERE user_id = ?1)) \
                     ORDER BY grp, last_seq DESC, accepted_at DESC",
                )
                .db()?;
            let partners =
                collect(stmt.query_map([&me], |r| Ok((r.get::<_, String>(0)?, r.get::<_, Option<i64>>(1)?))).db()?)?;
            let mut last = conn.prepare_cached(&format!("SELECT {MESSAGE_COLS} FROM messages WHERE seq = ?1")).db()?;
            let mut unread = conn
                .prepare_cached(
                    "SELECT COUNT(*) FROM messages WHERE receiver_id = ?1 AND sender_id = ?2 AND read_at IS NULL",
                )
                .db()?;
            let mut out = Vec::with_capacity(partners.len());
            for (partner, last_seq) in partners {
                let Some(user) = user_by_id(conn, &partner).db()? else { continue };
                let last_message = match last_seq {
                    Some(seq) => last.query_row([seq], message).optional().db()?,
                    None => None,
                };
                let unread_count: i64 = unread.query_row([&me, &partner], |r| r.get(0)).db()?;
                out.push(PartnerRecord {
                    profile: user.me.profile,
                    last_message,
                    unread_count: u64::try_from(unread_count).unwrap_or(0),
                });
            }
            Ok(out)
        })
        .await
    }

    async fn mark_read(&self, reader: UserId, sender: UserId, now: DateTime<Utc>) -> Result<Option<MessageId>> {
        self.write(move |conn| {
            let mut stmt = conn
                .prepare_cached(
                    "UPDATE messages SET read_at = ?3 WHERE receiver_id = ?1 AND sender_id = ?2 AND read_at IS NULL \
                     RETURNING seq, id",
                )
                .db()?;
            let rows = stmt
                .query_map(params![reader.to_hex(), sender.to_hex(), ms(now)], |r| {
                    Ok((r.get::<_, i64>(0)?, MessageId::from(oid(r, 1)?)))
                })
                .db()?;
            Ok(collect(rows)?.into_iter().max_by_key(|(seq, _)| *seq).map(|(_, id)| id))
        })
        .await
    }

    async fn engagement(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<EngagementDay>> {
        const DAY_MS: i64 = 86_400_000;
        let (from, to) = (ms(from), ms(to));
        self.read(move |conn| {
            let mut days = std::collections::BTreeMap::<i64, EngagementDay>::new();
            fn row_of(days: &mut std::collections::BTreeMap<i64, EngagementDay>, day: i64) -> Result<&mut EngagementDay> {
                let date = DateTime::from_timestamp_millis(day * DAY_MS)
                    .ok_or_else(|| Error::internal("a stored time is out of range"))?
                    .date_naive();
                Ok(days.entry(day).or_insert_with(|| EngagementDay::empty(date)))
            }
            // Times are milliseconds since the epoch, so `t / DAY_MS` is the UTC day.
            let counts = [
                "SELECT created_at / 86400000, COUNT(*) FROM messages \
                 WHERE created_at >= ?1 AND created_at < ?2 GROUP BY 1",
                "SELECT created_at / 86400000, COUNT(*) FROM connection_requests \
                 WHERE created_at >= ?1 AND created_at < ?2 GROUP BY 1",
                "SELECT day, COUNT(DISTINCT user) FROM ( \
                   SELECT created_at / 86400000 AS day, sender_id AS user FROM messages \
                     WHERE created_at >= ?1 AND created_at < ?2 \
                   UNION ALL SELECT created_at / 86400000, from_id FROM connection_requests \
                     WHERE created_at >= ?1 AND created_at < ?2 \
                   UNION ALL SELECT updated_at / 86400000, to_id FROM connection_requests \
                     WHERE status IN ('accepted', 'rejected') AND updated_at >= ?1 AND updated_at < ?2 \
                 ) GROUP BY day",
            ];
            for (column, sql) in counts.iter().enumerate() {
                let mut stmt = conn.prepare_cached(sql).db()?;
                let rows = stmt.query_map(params![from, to], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?))).db()?;
                for (day, n) in collect(rows)? {
                    let row = row_of(&mut days, day)?;
                    let n = u64::try_from(n).unwrap_or_default();
                    match column {
                        0 => row.messages = n,
                        1 => row.requests_sent = n,
                        _ => row.active_users = n,
                    }
                }
            }
            // The median is the mean of the one or two middle rows of each day, picked
            // by window functions, so only one row per day leaves the database.
            let mut stmt = conn
                .prepare_cached(
                    "SELECT day, MAX(n), AVG(d) FROM ( \
                       SELECT updated_at / 86400000 AS day, updated_at - created_at AS d, \
                         ROW_NUMBER() OVER (PARTITION BY updated_at / 86400000 ORDER BY updated_at - created_at) AS rn, \
                         COUNT(*) OVER (PARTITION BY updated_at / 86400000) AS n \
                       FROM connection_requests \
                       WHERE status = 'accepted' AND updated_at >= ?1 AND updated_at < ?2 \
                     ) WHERE rn IN ((n + 1) / 2, (n + 2) / 2) GROUP BY day",
                )
                .db()?;
            let rows = stmt
                .query_map(params![from, to], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, r.get::<_, f64>(2)?)))
                .db()?;
            for (day, n, median_ms) in collect(rows)? {
                let row = row_of(&mut days, day)?;
                row.requests_accepted = u64::try_from(n).unwrap_or_default();
                row.median_accept_secs = Some(median_ms / 1000.0);
            }
            Ok(days.into_values().collect())
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    crate::conformance_tests!(SqliteStore::open_in_memory().await);

    mod on_disk {
        use super::*;

        crate::conformance_tests!({
            let dir = tempfile::tempdir().map_err(Error::internal)?;
            let store = SqliteStore::open(dir.path().join("test.db")).await;
            // Keep the directory for the life of the test process.
            std::mem::forget(dir);
            store
        });
    }

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
            store.sync(a, None, limit).await?;
        }
        // An in-memory store reads on its writer's connection, which caches the statements.
        let reprepared = store
            .write(|conn| {
                [feed_sql(false), feed_sql(true), history_sql(), sync_sql()]
                    .iter()
                    .map(|sql| Ok(conn.prepare_cached(sql).db()?.get_status(rusqlite::StatementStatus::RePrepare)))
                    .collect::<Result<Vec<i32>>>()
            })
            .await?;
        assert_eq!(reprepared, [0, 0, 0, 0]);
        Ok(())
    }
}
