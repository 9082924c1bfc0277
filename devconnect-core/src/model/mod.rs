//! The core's domain types that are not wire types: what the [`Store`](crate::Store)
//! seam and several service modules share (store records, validated updates, analytics
//! rows, realtime events, the caller's address).
//!
//! This module sits below both the services and the stores, so imports in the core only
//! point down: service modules → `store`, `media`, `bus`, … → `model` →
//! `devconnect_types`. It depends on nothing else of the core but [`error`](crate::error);
//! `scripts/check-core-imports.py` checks that no module imports one that imports it
//! back. The types keep their old public paths too (`store::UserRecord`,
//! `realtime::Event`, …), re-exported by the modules that used to define them.

mod analytics;
mod chat;
mod event;
mod feed;
mod peer;
mod push;
mod search;
mod user;

pub use analytics::EngagementDay;
#[cfg(feature = "mongodb")]
pub(crate) use analytics::median;
pub use chat::{Inserted, NewGroupMessageRecord, NewMessageRecord, PartnerRecord, Window};
pub use event::{Event, GroupMemberAdded, GroupMemberRemoved, GroupTyping, ReadReceipt};
pub use feed::{FeedFilter, GroupFilter, GroupUpdate, group_keys, name_words};
pub use peer::Peer;
pub use push::{OutboxEntry, OutboxStats, PushItem, PushSubscriptionRecord, off_bits, settings_from_bits};
pub use search::{SearchFilter, SearchHit, fold, one_word_ranks, rank, search_words};
pub use user::{AuthState, Erased, ProfileUpdate, UserRecord, skill_key};
