//! Profiles: anyone's public view, and one's own.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{Invalid, UserId};

/// Gender, as the original DevConnect recorded it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Gender {
    /// `"male"`
    Male,
    /// `"female"`
    Female,
    /// `"others"` (also accepted as `"other"`)
    Others,
}

impl Gender {
    /// Parses a gender case-insensitively.
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        match s.trim().to_ascii_lowercase().as_str() {
            "male" => Ok(Self::Male),
            "female" => Ok(Self::Female),
            "others" | "other" => Ok(Self::Others),
            _ => Err(Invalid::new("gender", "must be male, female or others")),
        }
    }

    /// The stored and wire form.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Male => "male",
            Self::Female => "female",
            Self::Others => "others",
        }
    }
}

/// Anyone's public profile. Never carries the email or any credential.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    /// The user's id.
    #[serde(rename = "_id")]
    pub id: UserId,
    /// First name, 1–50 characters.
    pub first_name: String,
    /// Last name, 0–50 characters.
    pub last_name: String,
    /// Age in years, if given.
    pub age: Option<u8>,
    /// Gender, if given.
    pub gender: Option<Gender>,
    /// Public URL of the photo, if any.
    #[serde(rename = "photoURL")]
    pub photo_url: Option<String>,
    /// Free text about the developer.
    pub about: String,
    /// Skills, in the user's order, unique case-insensitively.
    pub skills: Vec<String>,
    /// Where the developer is, as free text ("Berlin, Germany"), if given. Absent from
    /// the JSON when not set, so records from before it existed read as they did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// Years of professional experience, 0–60, if given (absent from the JSON otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub experience_years: Option<u8>,
    /// When the account was created.
    pub created_at: DateTime<Utc>,
    /// When the profile last changed.
    pub updated_at: DateTime<Utc>,
    /// The account was deleted: what remains is this placeholder, named
    /// [`DELETED_NAME`], so messages the user sent still show a sender. Absent otherwise.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deleted: bool,
}

/// The first name a deleted account's placeholder profile shows.
pub const DELETED_NAME: &str = "Deleted user";

/// The caller's own profile: the public one plus the email.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Me {
    /// The public part.
    #[serde(flatten)]
    pub profile: Profile,
    /// The login email, trimmed and lower-cased.
    #[serde(rename = "emailID")]
    pub email: String,
}
