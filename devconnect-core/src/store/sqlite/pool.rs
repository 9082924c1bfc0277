//! The connections: one writer thread committing in groups, and reader threads with a
//! read-only connection each (see the module docs of `sqlite`).

use std::path::{Path, PathBuf};
use std::sync::mpsc::TryRecvError;
use std::sync::{Arc, Mutex, MutexGuard};

use rusqlite::{Connection, OpenFlags};

use super::SqliteStore;
use super::search::merge_step;
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

/// A write for the writer thread: runs inside the group's transaction and returns what
/// to do once the group's commit is known.
type Job = Box<dyn FnOnce(&mut Connection) -> Completion + Send>;
type Completion = Box<dyn FnOnce(std::result::Result<(), &rusqlite::Error>) + Send>;

pub(super) struct Db {
    writer: std::sync::mpsc::Sender<Job>,
    /// The reader threads' queue: `None` for an in-memory database, whose only
    /// connection is the writer, and once the store is closed.
    pub(super) readers: Mutex<Option<std::sync::mpsc::Sender<workers::Job<Reader>>>>,
}

impl SqliteStore {
    pub(super) fn from_writer(writer: Connection, path: Option<&Path>) -> Self {
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

    pub(super) async fn write<T, F>(&self, f: F) -> Result<T>
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

    pub(super) async fn read<T, F>(&self, f: F) -> Result<T>
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

pub(super) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // The pool holds idle connections only; a panic cannot leave one half-used.
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The writer thread: group commit (see the module docs). Between groups, while no
/// write waits, it merges the search index's segments a step at a time.
fn write_loop(mut conn: Connection, queue: &std::sync::mpsc::Receiver<Job>) {
    // Whether the index may have segments to merge: any group may have written it.
    let mut merging = true;
    loop {
        let first = if merging {
            match queue.try_recv() {
                Ok(job) => job,
                Err(TryRecvError::Empty) => {
                    merging = merge_step(&conn)
                        .inspect_err(|err| tracing::warn!(%err, "could not merge the search index"))
                        .unwrap_or(false);
                    continue;
                }
                Err(TryRecvError::Disconnected) => return,
            }
        } else {
            match queue.recv() {
                Ok(job) => job,
                Err(_) => return,
            }
        };
        merging = true;
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
pub(super) struct Reader {
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

/// Creates the database file readable by its owner only (mode 0600), or takes away
/// group and other access from an existing one and its WAL and shared-memory files.
/// SQLite creates the `-wal` and `-shm` files with the database file's mode, so they
/// start private too.
pub(super) fn make_private(path: &Path) -> std::io::Result<()> {
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

pub(super) fn configure(conn: &Connection) -> rusqlite::Result<()> {
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
