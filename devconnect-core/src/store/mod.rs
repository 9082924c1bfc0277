//! The storage seam. A [`Store`] persists users, requests and messages and enforces the
//! invariants that must hold under concurrency (unique email, one request per pair of
//! users, one message per client message id) with its own constraints, never with a
//! check-then-insert. Business rules live in the service, not here.
//!
//! The seam is one trait per aggregate — [`UserStore`] (accounts, credentials, profiles,
//! the feed), [`RequestStore`] (connection requests and connections), [`ChatStore`]
//! (messages and read state), [`GroupStore`] (groups and their members),
//! [`SafetyStore`] (blocks and reports), [`AnalyticsStore`] (engagement), [`PushStore`]
//! (push subscriptions and the outbox) — behind the [`Store`]
//! supertrait, which the service holds as `Arc<dyn Store>`. Methods of the aggregate
//! traits are callable on a `dyn Store` as they are; code calling them on a concrete
//! backend imports [`prelude`].
//!
//! Each aggregate trait is declared once, with `store_aggregate!` (in `timed.rs`), which
//! also writes its timing decorator: a new store method is written in its aggregate's
//! trait and in each backend, nowhere else. Each backend is a folder with a file per
//! aggregate, and every backend passes the conformance suite in `crate::testkit`.

mod analytics;
mod chat;
mod groups;
#[cfg(feature = "mongodb")]
pub mod mongo;
mod push;
mod requests;
mod safety;
#[cfg(feature = "sqlite")]
pub mod sqlite;
mod timed;
mod users;

use std::sync::Arc;

use async_trait::async_trait;

use devconnect_types::UserId;

pub use crate::model::{
    AuthState, EngagementDay, FeedFilter, Inserted, NewGroupMessageRecord, NewMessageRecord, PartnerRecord, UserRecord,
    Window,
};
use crate::{Error, Result};
pub use analytics::AnalyticsStore;
pub use chat::ChatStore;
pub use groups::{Added, GroupStore};
pub use push::PushStore;
pub use requests::RequestStore;
pub use safety::{Blocked, Blocking, SafetyStore};
pub(crate) use timed::TimedStore;
pub use users::UserStore;

/// The store traits, for code that calls store methods on a concrete backend
/// (`use devconnect_core::store::prelude::*;`). A `dyn Store` needs no import.
pub mod prelude {
    pub use super::{AnalyticsStore, ChatStore, GroupStore, PushStore, RequestStore, SafetyStore, Store, UserStore};
}

/// Persistence for DevConnect: every aggregate's store, plus the store's own life cycle.
/// All methods are cancel-safe from the caller's view: a write either happened durably
/// before `Ok` is returned or not at all.
#[async_trait]
pub trait Store:
    UserStore + RequestStore + ChatStore + GroupStore + SafetyStore + AnalyticsStore + PushStore + Send + Sync + 'static
{
    /// Checks the store is reachable.
    async fn ping(&self) -> Result<()>;
    /// Flushes and releases resources; the store is not used afterwards.
    async fn close(&self) -> Result<()> {
        Ok(())
    }
}

/// Opens the store named by `url`: `sqlite://PATH`, `sqlite::memory:`, or (with the
/// `mongodb` feature) `mongodb://…` / `mongodb+srv://…`, the database named by the URL's
/// path (default `devconnect`).
pub async fn open(url: &str) -> Result<Arc<dyn Store>> {
    #[cfg(feature = "mongodb")]
    if url.starts_with("mongodb://") || url.starts_with("mongodb+srv://") {
        return Ok(Arc::new(mongo::MongoStore::open(url).await?));
    }
    #[cfg(feature = "sqlite")]
    if url == "sqlite::memory:" {
        return Ok(Arc::new(sqlite::SqliteStore::open_in_memory().await?));
    }
    #[cfg(feature = "sqlite")]
    if let Some(path) = url.strip_prefix("sqlite://") {
        return Ok(Arc::new(sqlite::SqliteStore::open(path).await?));
    }
    Err(Error::validation("database", format!("unsupported database URL scheme in {:?}", scheme_of(url))))
}

/// The scheme part of a URL, so error messages never echo credentials.
fn scheme_of(url: &str) -> &str {
    url.split_once(':').map_or("", |(scheme, _)| scheme)
}

/// The key of an unordered pair of users: the same for `(a, b)` and `(b, a)`.
#[must_use]
pub fn pair_key(a: UserId, b: UserId) -> String {
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    format!("{lo}{hi}")
}
