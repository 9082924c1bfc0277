//! The store conformance suite: behaviours, each an `async fn` taking a fresh, empty
//! store and checking, through the [`DevConnect`](crate::DevConnect) service, what a user
//! would see. Every backend runs every behaviour.
//!
//! The behaviours are grouped by area, a file each (`accounts`, `imports`, `profiles`,
//! `feed`, `search`, `requests`, `safety`, `moderation`, `deletion`, `groups`, `group_chat`, `chat`, `realtime`, `analytics`, and with the `push` feature `push`). An area writes its behaviours
//! inside `behaviours![…]`, which defines the functions and the area's list of them
//! together, so a behaviour cannot be written and left out; an area missing from
//! [`all_behaviours()`] leaves its list unused, which the build's lints refuse.
//!
//! The runner is `devconnect-core/tests/conformance.rs` (a `libtest-mimic` harness): one
//! trial per backend of [`backends()`] and behaviour, named `backend::area::behaviour`
//! (`sqlite::in_memory::chat::history_pages_backwards_in_order`), so a failure names
//! its behaviour and backend, and `cargo test --test conformance -- chat::` runs one
//! area. A new backend adds a factory to [`backends()`]; a new behaviour is a new
//! function inside its area's `behaviours![…]`.
//!
//! [`fixtures`] holds what the behaviours share (a test service, users,
//! connections, images), also used by other tests and benches.

#![allow(clippy::missing_errors_doc, missing_docs)]

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::Result;
use crate::store::Store;

mod backends;
#[cfg(feature = "cloudinary")]
pub mod cloudinary;
pub mod fixtures;
#[cfg(feature = "push")]
pub mod push_service;

pub mod accounts;
pub mod analytics;
pub mod chat;
pub mod deletion;
pub mod feed;
pub mod group_chat;
pub mod groups;
pub mod imports;
pub mod moderation;
pub mod profiles;
#[cfg(feature = "push")]
pub mod push;
pub mod realtime;
pub mod requests;
pub mod safety;
pub mod search;

pub use analytics::{expected_engagement, seed_engagement};
pub use backends::{Backend, backends};
#[cfg(feature = "mongodb")]
pub use backends::{drop_database, fresh_database_name, mongodb_url};
#[cfg(feature = "push")]
pub use fixtures::service_with_push;
pub use fixtures::{
    MEDIA_BASE, PASSWORD, SECRET, assert_quiet, connect, next_event, png, png_header, say, service, service_with,
    signup_form, token_for, user, user_record,
};

/// A behaviour's future. Not `Send`: each runs on a current-thread runtime of its own,
/// as `#[tokio::test]` would run it.
pub type BehaviourFuture = Pin<Box<dyn Future<Output = Result<()>>>>;

/// One behaviour of the suite: its name (the function's) and the function.
#[derive(Clone, Copy, Debug)]
pub struct Behaviour {
    /// The function's name, which names the test.
    pub name: &'static str,
    /// Runs the behaviour on a fresh, empty store.
    pub run: fn(Arc<dyn Store>) -> BehaviourFuture,
}

/// Every behaviour of every area, with its area's name.
pub fn all_behaviours() -> impl Iterator<Item = (&'static str, &'static Behaviour)> {
    macro_rules! areas {
        ($($area:ident),* $(,)?) => {
            [$((stringify!($area), $area::BEHAVIOURS)),*]
        };
    }
    let areas = areas![
        accounts, imports, profiles, feed, search, requests, safety, moderation, deletion, groups, group_chat, chat,
        realtime, analytics
    ];
    // Push needs its delivery (an HTTP client), which only the `push` feature builds.
    #[cfg(feature = "push")]
    let areas = areas.into_iter().chain(areas![push]);
    areas.into_iter().flat_map(|(area, list)| list.iter().map(move |behaviour| (area, behaviour)))
}

/// Defines an area's behaviours, each `pub async fn name(store: Arc<dyn Store>) ->
/// Result<()> { … }` (doc comments allowed), and `BEHAVIOURS`, the area's list of them
/// in the order written.
macro_rules! behaviours {
    ($(
        $(#[$attr:meta])*
        pub async fn $name:ident($store:ident: Arc<dyn Store> $(,)?) -> Result<()> $body:block
    )*) => {
        $(
            $(#[$attr])*
            pub async fn $name($store: ::std::sync::Arc<dyn $crate::store::Store>) -> $crate::Result<()> $body
        )*

        /// This area's behaviours, in the order they are written.
        pub(super) const BEHAVIOURS: &[$crate::testkit::Behaviour] = &[$(
            $crate::testkit::Behaviour { name: stringify!($name), run: |store| ::std::boxed::Box::pin($name(store)) },
        )*];
    };
}
use behaviours;
