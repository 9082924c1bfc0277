//! The users aggregate: accounts, credentials and token state, profiles, and the feed
//! of other users' profiles.

use chrono::{DateTime, Utc};
use devconnect_types::{Profile, UserId};

use crate::Result;
use crate::model::{AuthState, Erased, FeedFilter, ProfileUpdate, SearchFilter, SearchHit, UserRecord};

super::timed::store_aggregate! {
    /// Users: accounts, passwords, tokens, profiles and the feed.
    pub trait UserStore {
        /// Inserts a user; a taken email is `Conflict`.
        async fn insert_user(&self, user: &UserRecord) -> Result<()>;
        /// A user by id.
        async fn user(&self, id: UserId) -> Result<Option<UserRecord>>;
        /// A user by (normalised) email.
        async fn user_by_email(&self, email: &str) -> Result<Option<UserRecord>>;
        /// Applies a validated profile update; `None` if the user does not exist.
        async fn update_profile(
            &self,
            id: UserId,
            update: &ProfileUpdate,
            now: DateTime<Utc>,
        ) -> Result<Option<UserRecord>>;
        /// Sets a new password hash and bumps the token version; returns the new version.
        async fn set_password(&self, id: UserId, password_hash: &str) -> Result<i64>;
        /// Replaces the password hash with `new` if it is still `old` (a re-hash of the same
        /// password: the token version stays). Returns whether it was replaced.
        async fn replace_password_hash(&self, id: UserId, old: &str, new: &str) -> Result<bool>;
        /// The user's token version and whether `token_id` was revoked; `None` if no such
        /// user, or the account was deleted.
        async fn auth_state(&self, id: UserId, token_id: &str) -> Result<Option<AuthState>>;
        /// Revokes one token until it expires anyway.
        async fn revoke_token(&self, id: UserId, token_id: &str, expires_at: DateTime<Utc>) -> Result<()>;
        /// Erases an account in one step: the record keeps only its id and dates, marked
        /// deleted (its profile becomes the placeholder named
        /// [`DELETED_NAME`](devconnect_types::profile::DELETED_NAME), so messages the user
        /// sent still name a sender); no email, password or token of theirs works again,
        /// and every request, connection and block they were part of is gone. Erasing an
        /// erased account changes nothing more. `None` if there is no such user.
        async fn erase_user(&self, id: UserId, now: DateTime<Utc>) -> Result<Option<Erased>>;

        /// Profiles `viewer` has no request and no block with either way (and not
        /// `viewer`, nor anyone suspended or deleted), newest account first, by `filter`.
        async fn feed(&self, viewer: UserId, filter: &FeedFilter) -> Result<Vec<Profile>>;

        /// Developer search: the page of `filter`'s matches for `viewer` (never `viewer`,
        /// anyone suspended, anyone in a block with `viewer` either way, nor accounts
        /// newer than `filter.as_of`), ordered by [`rank`](crate::model::rank), then
        /// newest account first; each with the status of the request between the two.
        async fn search_users(&self, viewer: UserId, filter: &SearchFilter) -> Result<Vec<SearchHit>>;
    }
}
