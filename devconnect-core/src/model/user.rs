//! Users as stored, and validated changes to them.

use devconnect_types::{Gender, Me, UserId};

/// A user as stored: the own profile plus credentials state. Never leaves the core.
#[derive(Clone, Debug)]
pub struct UserRecord {
    /// The profile and email.
    pub me: Me,
    /// The PHC-format password hash.
    pub password_hash: String,
    /// Bumped by each password change; tokens carry the version they were issued with.
    pub token_version: i64,
    /// Whether the operators suspended the account (no login, no tokens, not listed).
    pub suspended: bool,
}

/// What [`UserStore::auth_state`](crate::store::UserStore::auth_state) reports about a user and one token id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AuthState {
    /// The user's current token version.
    pub token_version: i64,
    /// Whether this token id was logged out.
    pub revoked: bool,
    /// Whether the user is suspended (no token of theirs is valid meanwhile).
    pub suspended: bool,
}

/// What [`UserStore::erase_user`](crate::store::UserStore::erase_user) removed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Erased {
    /// The people the user was connected with (no longer).
    pub connections: Vec<UserId>,
    /// The photo the profile had, to delete from the media store.
    pub photo_url: Option<String>,
}

/// A validated change, as handed to a store. `None` leaves a field as it is.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ProfileUpdate {
    /// New first name.
    pub first_name: Option<String>,
    /// New last name.
    pub last_name: Option<String>,
    /// New age.
    pub age: Option<u8>,
    /// New gender.
    pub gender: Option<Gender>,
    /// New about text.
    pub about: Option<String>,
    /// New skills.
    pub skills: Option<Vec<String>>,
    /// New photo URL.
    pub photo_url: Option<String>,
    /// New location: `Some(None)` clears it.
    pub location: Option<Option<String>>,
    /// New years of experience.
    pub experience_years: Option<u8>,
}

impl ProfileUpdate {
    /// Whether the update changes what search matches on (names, about, skills,
    /// location): the stores re-index the profile in the same write when it does.
    #[must_use]
    pub fn touches_search(&self) -> bool {
        self.first_name.is_some()
            || self.last_name.is_some()
            || self.about.is_some()
            || self.skills.is_some()
            || self.location.is_some()
    }
}

/// The key a skill is matched by in the feed filter: lower-cased.
#[must_use]
pub fn skill_key(skill: &str) -> String {
    skill.trim().to_lowercase()
}
