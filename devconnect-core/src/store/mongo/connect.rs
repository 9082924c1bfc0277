//! Opening a store: the URL's client options with our defaults, then the schema.

use std::time::Duration;

use bson::doc;
use mongodb::options::{Acknowledgment, ClientOptions, WriteConcern};
use mongodb::{Client, Database};

use super::{
    AUDIT, BLOCKS, CONVERSATIONS, DEFAULT_DATABASE, GROUP_MEMBERS, GROUP_WINDOWS, GROUPS, MESSAGES, MongoStore,
    PUSH_OUTBOX, PUSH_SETTINGS, PUSH_SUBSCRIPTIONS, REPORTS, REQUESTS, REVOKED, USERS,
};
use crate::{Error, Result};

/// How long an operation (and `open`) waits for a reachable server unless the URL says
/// otherwise (`serverSelectionTimeoutMS`): the driver's 30 s default makes a server
/// that is down look like a hang.
const SERVER_SELECTION_TIMEOUT: Duration = Duration::from_secs(10);
/// TCP connect timeout unless the URL sets `connectTimeoutMS`.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

impl MongoStore {
    /// Connects to the `mongodb://` or `mongodb+srv://` `url`, using the database named
    /// in its path (default [`DEFAULT_DATABASE`]); creates the indexes and backfills the
    /// fields of ours into documents written by the original DevConnect.
    ///
    /// Fails within the server selection timeout (10 s unless the URL sets
    /// `serverSelectionTimeoutMS`) when no server answers, and when existing data breaks
    /// a uniqueness rule (e.g. two requests between the same two users), naming it.
    pub async fn open(url: &str) -> Result<Self> {
        let options = parse_options(url).await?;
        let name = options.default_database.clone().unwrap_or_else(|| DEFAULT_DATABASE.to_owned());
        Self::connect(options, &name).await
    }

    /// Like [`MongoStore::open`] but with the database `name`, whatever the URL says.
    pub async fn open_database(url: &str, name: &str) -> Result<Self> {
        Self::connect(parse_options(url).await?, name).await
    }

    async fn connect(mut options: ClientOptions, name: &str) -> Result<Self> {
        options.server_selection_timeout.get_or_insert(SERVER_SELECTION_TIMEOUT);
        options.connect_timeout.get_or_insert(CONNECT_TIMEOUT);
        options.app_name.get_or_insert_with(|| "devconnect".to_owned());
        // Acknowledged by a majority and journaled: what we tell a client is stored
        // survives a crash and a failover. A URL that sets `w`/`journal` wins.
        options
            .write_concern
            .get_or_insert_with(|| WriteConcern::builder().w(Acknowledgment::Majority).journal(true).build());
        let hosts = options.hosts.iter().map(ToString::to_string).collect::<Vec<_>>().join(",");
        let client = Client::with_options(options).map_err(|e| open_error(&hosts, &e))?;
        let db = client.database(name);
        let store = Self {
            users: db.collection(USERS),
            requests: db.collection(REQUESTS),
            messages: db.collection(MESSAGES),
            conversations: db.collection(CONVERSATIONS),
            revoked: db.collection(REVOKED),
            groups: db.collection(GROUPS),
            group_members: db.collection(GROUP_MEMBERS),
            group_windows: db.collection(GROUP_WINDOWS),
            blocks: db.collection(BLOCKS),
            reports: db.collection(REPORTS),
            audit: db.collection(AUDIT),
            push_subscriptions: db.collection(PUSH_SUBSCRIPTIONS),
            push_settings: db.collection(PUSH_SETTINGS),
            push_outbox: db.collection(PUSH_OUTBOX),
            insert_order: tokio::sync::Mutex::new(()),
            db,
            client,
        };
        let prepared = async {
            store.db.run_command(doc! { "ping": 1 }).await.map_err(|e| open_error(&hosts, &e))?;
            store.prepare().await
        }
        .await;
        if let Err(err) = prepared {
            // Stop the driver's background tasks: the store is never returned.
            store.client.clone().shutdown().await;
            return Err(err);
        }
        tracing::info!(hosts = %hosts, database = name, "MongoDB store ready");
        Ok(store)
    }

    /// The database this store uses.
    #[must_use]
    pub fn database(&self) -> &Database {
        &self.db
    }
}

async fn parse_options(url: &str) -> Result<ClientOptions> {
    ClientOptions::parse(url).await.map_err(|e| {
        // The driver's message may quote the URL; scrub the credentials out of it.
        let reason = scrub(&e.to_string(), url);
        Error::internal(format!("invalid MongoDB URL ({}): {reason}", crate::store::scheme_of(url)))
    })
}

/// Removes the user-info part of `url` (and its password alone) from `text`.
pub(super) fn scrub(text: &str, url: &str) -> String {
    let Some((_, rest)) = url.split_once("://") else { return text.to_owned() };
    let authority = rest.split(['/', '?']).next().unwrap_or(rest);
    let Some((userinfo, _)) = authority.rsplit_once('@') else { return text.to_owned() };
    let mut out = text.replace(userinfo, "***");
    if let Some((_, password)) = userinfo.split_once(':').filter(|(_, p)| !p.is_empty()) {
        out = out.replace(password, "***");
    }
    out
}

fn open_error(hosts: &str, err: &mongodb::error::Error) -> Error {
    Error::internal(format!("cannot use MongoDB at {hosts}: {err}"))
}
