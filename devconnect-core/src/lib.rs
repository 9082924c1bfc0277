//! DevConnect: a professional network for developers with real-time chat, as a library.
//!
//! Every frontend (REST/WebSocket, gRPC, terminal client, Python) is a thin layer over
//! the [`DevConnect`] handle defined here; all rules live in this crate.
//!
//! - [`analytics`]: engagement per day for operators ([`DevConnect::engagement`]).
//! - [`telemetry`]: operational metrics through the `metrics` facade.
//! - [`auth`]: signup, login, tokens ([`Session`]), logout, password change.
//! - [`profile`]: [`Profile`], [`Me`], validated edits.
//! - [`connection`]: connection requests and connections.
//! - [`feed`]: the paginated discovery feed.
//! - [`groups`]: groups, their members and roles.
//! - [`chat`]: messages, history, catch-up ([`DevConnect::sync`]), read state.
//! - [`safety`]: blocking people, reports for the operators, one's data export.
//! - [`account`]: deleting an account (by its owner or an operator).
//! - [`search`]: finding developers by name, skills, location and experience.
//! - [`push`]: Web Push notifications for people who are offline.
//! - [`moderation`]: the operators' side: reports, suspensions, deletions, the audit log.
//! - [`realtime`]: presence and live [`Event`]s: the session every frontend serves
//!   ([`DevConnect::live`]), one [`Subscription`] per open stream, and the event bus
//!   between server instances ([`realtime::bus`]: in-process by default; Redis with a
//!   bus URL and the `redis` feature).
//! - [`media`]: image validation/re-encoding and the [`MediaStore`] seam.
//! - [`store`]: the [`Store`] seam and its backends (embedded SQLite by default); the
//!   service times every call through it ([`telemetry::STORE_DURATION`]).
//! - [`model`]: the domain types services and stores share (store records such as
//!   [`model::UserRecord`], [`EngagementDay`], [`Event`], [`Peer`]), below both.
//! - [`config`]: the plain [`Config`] and [`Settings`] a frontend opens the service with.
//! - [`error`]: the one [`Error`] type with stable codes.
//!
//! Imports inside the crate point down: service modules (`auth`, `profile`, `chat`, …)
//! use `store`, `media`, `realtime`, `limits`, `telemetry`, `config`; `store` uses only
//! `model`, `error`, `telemetry`'s metric names and the private worker threads; `model`
//! uses only the wire types of `devconnect-types`. No module imports one that imports
//! it back (`scripts/check-core-imports.py` checks it).
//!
//! ```no_run
//! # async fn demo() -> devconnect_core::Result<()> {
//! use devconnect_core::{Config, DevConnect};
//! let app = DevConnect::open(Config::new("./data")).await?;
//! let me = app.authenticate("a bearer token").await?;
//! let page = app.feed(me.user_id, &Default::default()).await?;
//! # Ok(()) }
//! ```

#![warn(missing_docs)]

pub mod account;
pub mod analytics;
pub mod auth;
pub mod chat;
pub mod clock;
pub mod config;
pub mod connection;
pub mod error;
pub mod feed;
mod group_chat;
pub mod groups;
#[cfg(any(feature = "cloudinary", feature = "push"))]
mod https;
mod limits;
pub mod media;
pub mod model;
pub mod moderation;
pub mod profile;
pub mod push;
pub mod realtime;
pub mod safety;
pub mod search;
pub mod store;
pub mod telemetry;
#[cfg(feature = "testkit")]
pub mod testkit;
mod workers;

use std::sync::Arc;

use chrono::{DateTime, SubsecRound as _, Utc};
use secrecy::SecretString;

pub use analytics::Engagement;
pub use auth::{Authenticated, PasswordChange, Session, Signup, bearer_token};
pub use chat::NewMessage;
pub use clock::{Clock, ManualClock, SystemClock};
pub use config::{BusConfig, Config, MediaConfig, PushConfig, RateLimit, Settings};
pub use devconnect_types::{
    AnyMessage, AuditId, ChatPartner, ConnectionRequest, Conversation, DirectConversation, FeedPage, Gender, Group,
    GroupChange, GroupConversation, GroupId, GroupMember, GroupMessage, GroupPage, GroupRead, GroupRole, Invalid, Me,
    Message, MessageId, Profile, PushKeys, PushKind, PushNotification, PushSettings, PushSettingsPatch,
    PushSubscription, ReportId, RequestId, RequestStatus, ReviewStatus, SendStatus, Sent, SyncPage, UserId, Visibility,
};
pub use error::{Error, Result};
pub use feed::FeedQuery;
pub use groups::{GroupEdit, GroupQuery, MyGroup, NewGroup};
pub use media::{LocalMedia, MediaStore, Upload};
pub use model::{EngagementDay, Event, GroupTyping, Peer, ReadReceipt};
pub use moderation::{AuditAction, AuditEntry, Operator};
pub use profile::ProfileEdit;
pub use realtime::{BusHealth, EndReason, Live, LiveItem, Subscription};
pub use safety::{
    AccountExport, BlockedUser, NewReport, Report, ReportKind, ReportReason, ReportStatus, Reported, Resolution,
};
pub use search::SearchQuery;
pub use store::Store;

use auth::Credentials;
use limits::Limits;
use model::UserRecord;
use realtime::Realtime;

/// The DevConnect service. Cheap to clone (a pointer): every frontend task holds a
/// clone, all sharing one store, media store and realtime owner.
#[derive(Clone)]
pub struct DevConnect {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn Store>,
    media: Arc<dyn MediaStore>,
    credentials: Arc<Credentials>,
    realtime: Realtime,
    limits: Limits,
    decode_budget: media::DecodeBudget,
    push: Option<push::Push>,
    settings: Settings,
}

impl std::fmt::Debug for DevConnect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevConnect").finish_non_exhaustive()
    }
}

impl DevConnect {
    /// Opens the service described by `config`: creates the data directory, opens the
    /// store (migrating it), the media store, and loads or generates the JWT secret.
    pub async fn open(config: Config) -> Result<Self> {
        create_private_dir(&config.data_dir)?;
        let secret = config::jwt_secret(config.jwt_secret.as_ref(), &config.data_dir)?;
        let store = store::open(&config.database_url()).await?;
        let media: Arc<dyn MediaStore> = match (&config.media, config.media_dir(), config.media_base_url()) {
            (MediaConfig::Local { .. }, Some(dir), Some(base_url)) => Arc::new(LocalMedia::new(dir, base_url)?),
            (MediaConfig::Local { .. }, _, _) => return Err(Error::internal("local media without a directory")),
            #[cfg(feature = "cloudinary")]
            (MediaConfig::Cloudinary(cloudinary), _, _) => {
                Arc::new(media::cloudinary::CloudinaryMedia::new(cloudinary.clone())?)
            }
            #[cfg(not(feature = "cloudinary"))]
            (MediaConfig::Cloudinary(_), _, _) => {
                return Err(Error::validation(
                    "mediaUrl",
                    "this build has no Cloudinary support (cargo feature `cloudinary`)",
                ));
            }
        };
        let realtime = Realtime::open(config.bus.as_ref(), &config.settings, &store)?;
        let push = config.push.map(|push| push::Push::open(push, &config.data_dir)).transpose()?;
        Self::assemble(store, media, &secret, config.settings, realtime, push)
    }

    /// Assembles the service from its parts (tests, embedding with custom backends).
    pub fn new(
        store: Arc<dyn Store>,
        media: Arc<dyn MediaStore>,
        jwt_secret: &SecretString,
        settings: Settings,
    ) -> Result<Self> {
        let realtime = Realtime::in_process(&settings);
        Self::assemble(store, media, jwt_secret, settings, realtime, None)
    }

    /// Like [`DevConnect::new`], with push notifications; `push.vapid_key_file` names
    /// the VAPID key (there is no data directory to keep one in).
    pub fn new_with_push(
        store: Arc<dyn Store>,
        media: Arc<dyn MediaStore>,
        jwt_secret: &SecretString,
        settings: Settings,
        push: PushConfig,
    ) -> Result<Self> {
        let Some(file) = push.vapid_key_file.clone() else {
            return Err(Error::validation("vapidKeyFile", "is needed without a data directory"));
        };
        let push = push::Push::open(push, file.parent().unwrap_or(std::path::Path::new(".")))?;
        let realtime = Realtime::in_process(&settings);
        Self::assemble(store, media, jwt_secret, settings, realtime, Some(push))
    }

    fn assemble(
        store: Arc<dyn Store>,
        media: Arc<dyn MediaStore>,
        jwt_secret: &SecretString,
        settings: Settings,
        realtime: Realtime,
        push: Option<push::Push>,
    ) -> Result<Self> {
        #[cfg(not(feature = "push"))]
        if push.is_some() {
            return Err(Error::validation("push", "this build has no push support (cargo feature `push`)"));
        }
        let credentials = Credentials::new(jwt_secret, &settings)?;
        let app = Self {
            inner: Arc::new(Inner {
                // Every store call is timed, whatever the backend.
                store: Arc::new(store::TimedStore(store)),
                media,
                credentials: Arc::new(credentials),
                realtime,
                limits: Limits::new(&settings),
                decode_budget: media::DecodeBudget::new(settings.image_decode_budget),
                push,
                settings,
            }),
        };
        moderation::watch(Arc::downgrade(&app.inner));
        #[cfg(feature = "push")]
        if let Some(push) = &app.inner.push {
            push::start_delivery(Arc::downgrade(&app.inner), push)?;
        }
        Ok(app)
    }

    /// Checks that the store is reachable.
    pub async fn health(&self) -> Result<()> {
        self.inner.store.ping().await
    }

    /// The state of the event bus between instances ([`BusHealth::InProcess`] without
    /// one). A degraded instance still serves its own clients.
    #[must_use]
    pub fn bus_health(&self) -> BusHealth {
        self.inner.realtime.health()
    }

    /// Leaves the bus (if any) and closes the store. Call once, when the process is
    /// done with the service.
    pub async fn close(&self) -> Result<()> {
        self.inner.realtime.close().await;
        self.inner.store.close().await
    }

    /// The settings in effect.
    #[must_use]
    pub fn settings(&self) -> &Settings {
        &self.inner.settings
    }

    /// A user's record; `NotFound` for a deleted account too (only the messages they
    /// sent still name it).
    async fn user_record(&self, id: UserId) -> Result<UserRecord> {
        self.inner.store.user(id).await?.filter(|u| !u.me.profile.deleted).ok_or(Error::NotFound("user"))
    }

    /// The service clock's time at the stores' precision: for the record times a rule
    /// reads back against that clock (a rejection's, by the request cool-down).
    fn clock_now(&self) -> DateTime<Utc> {
        self.inner.settings.clock.now().trunc_subsecs(3)
    }
}

/// The current time at the precision every store keeps (milliseconds), so a value
/// read back equals the value written.
pub(crate) fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(3)
}

/// Creates `dir` (and its parents) if missing; a directory created here is the owner's
/// alone (mode 0700): it holds the database and the JWT secret.
fn create_private_dir(dir: &std::path::Path) -> Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(Error::internal)
}

/// `N` bytes from the operating system's CSPRNG.
pub(crate) fn random_bytes<const N: usize>() -> Result<[u8; N]> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| Error::internal(e.to_string()))?;
    Ok(bytes)
}
