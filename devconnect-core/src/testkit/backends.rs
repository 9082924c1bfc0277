//! The backends the conformance suite runs on, each a factory of fresh, empty stores.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::Result;
use crate::store::Store;

/// A fresh store being opened.
pub type OpenFuture = Pin<Box<dyn Future<Output = Result<Arc<dyn Store>>>>>;

/// A backend the suite runs on.
#[derive(Clone, Copy, Debug)]
pub struct Backend {
    /// Names its trials' prefix (`sqlite::in_memory`, `sqlite::on_disk`, `mongodb`).
    pub name: &'static str,
    /// A fresh, empty store.
    pub open: fn() -> OpenFuture,
}

/// Every backend built in: SQLite in memory and on disk, and (with the `mongodb`
/// feature) MongoDB, which needs the server `mongodb_url` names.
#[must_use]
pub fn backends() -> Vec<Backend> {
    #[cfg_attr(not(any(feature = "sqlite", feature = "mongodb")), expect(unused_mut, reason = "no backend built"))]
    let mut all = Vec::new();
    #[cfg(feature = "sqlite")]
    all.extend([
        Backend { name: "sqlite::in_memory", open: || Box::pin(sqlite::in_memory()) },
        Backend { name: "sqlite::on_disk", open: || Box::pin(sqlite::on_disk()) },
    ]);
    #[cfg(feature = "mongodb")]
    all.push(Backend { name: "mongodb", open: || Box::pin(mongodb::fresh()) });
    all
}

#[cfg(feature = "sqlite")]
mod sqlite {
    use std::sync::Arc;

    use crate::store::Store;
    use crate::store::sqlite::SqliteStore;
    use crate::{Error, Result};

    pub(super) async fn in_memory() -> Result<Arc<dyn Store>> {
        Ok(Arc::new(SqliteStore::open_in_memory().await?))
    }

    pub(super) async fn on_disk() -> Result<Arc<dyn Store>> {
        let dir = tempfile::tempdir().map_err(Error::internal)?;
        let store = SqliteStore::open(dir.path().join("test.db")).await;
        // Keep the directory for the life of the test process.
        std::mem::forget(dir);
        Ok(Arc::new(store?))
    }
}

#[cfg(feature = "mongodb")]
pub use self::mongodb::{drop_database, fresh_database_name, mongodb_url};

#[cfg(feature = "mongodb")]
mod mongodb {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    use bson::oid::ObjectId;
    use chrono::Utc;
    use mongodb::{Client, Database};

    use crate::store::Store;
    use crate::store::mongo::MongoStore;
    use crate::{Error, Result};

    /// Names the server the MongoDB tests run against.
    const URL_VAR: &str = "DEVCONNECT_TEST_MONGODB_URL";
    const TEST_DB_PREFIX: &str = "dc_test_";

    /// The server URL. Unset is a failure, never a skip: CI must run these tests.
    pub fn mongodb_url() -> Result<String> {
        std::env::var(URL_VAR).map_err(|_| {
            Error::internal(format!(
                "{URL_VAR} is not set, so the MongoDB tests have no server. Run them with \
                 `scripts/with-jongodb.sh cargo test -p devconnect-core --features mongodb` (starts jongodb), \
                 or set {URL_VAR}=mongodb://HOST:PORT/ to use a real mongod"
            ))
        })
    }

    /// A new, unique test database name (such databases over an hour old are dropped when
    /// the conformance runner opens its first MongoDB store).
    #[must_use]
    pub fn fresh_database_name() -> String {
        format!("{TEST_DB_PREFIX}{}", ObjectId::new().to_hex())
    }

    /// Drops a test database if the server can (jongodb has no dropDatabase).
    pub async fn drop_database(db: &Database) {
        if let Err(e) = db.drop().await {
            tracing::debug!(error = %e, "test database not dropped");
        }
    }

    /// Drops test databases left by runs more than an hour old (test databases are not
    /// dropped as each behaviour ends: the runner has no teardown). Once per process.
    async fn drop_stale_databases(url: &str) -> Result<()> {
        static DONE: AtomicBool = AtomicBool::new(false);
        if DONE.swap(true, Ordering::SeqCst) {
            return Ok(());
        }
        let client = Client::with_uri_str(url).await.map_err(Error::internal)?;
        let cutoff = Utc::now() - chrono::Duration::hours(1);
        // jongodb has no listDatabases; its data goes when it stops anyway.
        let names = client.list_database_names().await.unwrap_or_default();
        for name in names {
            let Some(id) = name.strip_prefix(TEST_DB_PREFIX).and_then(|hex| ObjectId::parse_str(hex).ok()) else {
                continue;
            };
            if id.timestamp().to_chrono() < cutoff {
                drop_database(&client.database(&name)).await;
            }
        }
        client.shutdown().await;
        Ok(())
    }

    /// A store on a new, uniquely named database.
    pub(super) async fn fresh() -> Result<Arc<dyn Store>> {
        let url = mongodb_url()?;
        drop_stale_databases(&url).await?;
        Ok(Arc::new(MongoStore::open_database(&url, &fresh_database_name()).await?))
    }
}
