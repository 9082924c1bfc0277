//! The embedded store: SQLite on disk (WAL, `synchronous=FULL`, so a commit that
//! returned survives a crash of the process and of the machine), with its schema
//! migrations embedded here.
//!
//! Writes go to one writer thread that owns the only writing connection (SQLite allows
//! one writer at a time anyway). It commits in groups: every write waiting when it
//! becomes free runs in one transaction, each in its own savepoint (so one failing write
//! never undoes another), and all of them are answered after the one commit and fsync.
//! Under load that turns N fsyncs into one; alone, a write still commits immediately.
//! While no write waits, it merges the search index's segments, a short step at a time
//! (`search::merge_step`).
//! Reads run beside the writer (WAL allows it) on a few reader threads of their own,
//! each with one read-only connection, all taking reads from one queue. Their own
//! threads rather than tokio's blocking pool: under a burst of reads (a thousand
//! sockets connecting at once) that pool starts a thread for nearly every queued read
//! and keeps them around, each with its stack and allocator arena.
//!
//! Files: `pool` (the writer and reader threads), `schema` (migrations), `rows` (row
//! mapping), `error` (error mapping), and one per aggregate of the seam (`users`,
//! `requests`, `chat`, `groups`, `safety`, `analytics`), and `search` (the FTS5 index of profiles).

mod analytics;
mod chat;
mod error;
mod groups;
mod pool;
mod push;
mod requests;
mod rows;
mod safety;
mod schema;
mod search;
#[cfg(test)]
mod tests;
mod users;

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use rusqlite::Connection;

use self::error::ResultExt as _;
use self::pool::{Db, configure, lock, make_private};
use self::schema::migrate;
use super::Store;
use crate::{Error, Result};

/// The embedded SQLite store.
pub struct SqliteStore {
    db: Arc<Db>,
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
}
