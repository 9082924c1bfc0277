//! Profiles: the validated fields of a developer, the public and own views, and edits.

use serde::Deserialize;

pub use devconnect_types::profile::{Gender, Me, Profile};

pub use crate::model::{ProfileUpdate, skill_key};

use crate::media::Upload;
use crate::{DevConnect, Error, Result, UserId};

/// A name may be at most this many characters.
pub const MAX_NAME_CHARS: usize = 50;
/// `about` may be at most this many characters.
pub const MAX_ABOUT_CHARS: usize = 1000;
/// At most this many skills per profile.
pub const MAX_SKILLS: usize = 20;
/// A skill may be at most this many characters.
pub const MAX_SKILL_CHARS: usize = 40;
/// Youngest allowed age (as the original DevConnect).
pub const MIN_AGE: u8 = 18;
/// Oldest allowed age.
pub const MAX_AGE: u8 = 120;
/// A location may be at most this many characters.
pub const MAX_LOCATION_CHARS: usize = 100;
/// Most years of experience a profile may state.
pub const MAX_EXPERIENCE_YEARS: u8 = 60;

/// A change to one's own profile: every field optional, unknown fields rejected.
///
/// `photo` is the raw bytes of a new photo (validated and re-encoded by the core); it
/// never comes from JSON.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProfileEdit {
    /// New first name.
    pub first_name: Option<String>,
    /// New last name.
    pub last_name: Option<String>,
    /// New age.
    pub age: Option<i64>,
    /// New gender.
    pub gender: Option<String>,
    /// New about text.
    pub about: Option<String>,
    /// New skills (replacing the old ones).
    pub skills: Option<Vec<String>>,
    /// New location (free text); empty clears it.
    pub location: Option<String>,
    /// New years of experience, 0–60.
    pub experience_years: Option<i64>,
    /// New photo bytes.
    #[serde(skip)]
    pub photo: Option<Upload>,
}

pub(crate) fn has_control(s: &str) -> bool {
    s.chars().any(char::is_control)
}

/// Trims a one-line text and checks it: 1 to `max` characters, no control characters.
pub(crate) fn parse_line(field: &'static str, raw: &str, max: usize) -> Result<String> {
    let line = raw.trim();
    let chars = line.chars().count();
    if chars == 0 || chars > max {
        return Err(Error::validation(field, format!("must be 1 to {max} characters")));
    }
    if has_control(line) {
        return Err(Error::validation(field, "must not contain control characters"));
    }
    Ok(line.to_owned())
}

/// Trims free text (a note, a description) and checks it: at most `max` characters, no
/// control characters but newlines; may be empty.
pub(crate) fn parse_free_text(field: &'static str, raw: &str, max: usize) -> Result<String> {
    let text = raw.trim();
    if text.chars().count() > max {
        return Err(Error::validation(field, format!("must be at most {max} characters")));
    }
    if text.chars().any(|c| c.is_control() && c != '\n') {
        return Err(Error::validation(field, "must not contain control characters"));
    }
    Ok(text.to_owned())
}

/// Trims and checks a name: 1–50 characters (0–50 when `allow_empty`), no control characters.
pub fn parse_name(field: &'static str, raw: &str, allow_empty: bool) -> Result<String> {
    let name = raw.trim();
    if name.is_empty() && !allow_empty {
        return Err(Error::validation(field, "is required"));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(Error::validation(field, format!("must be at most {MAX_NAME_CHARS} characters")));
    }
    if has_control(name) {
        return Err(Error::validation(field, "must not contain control characters"));
    }
    Ok(name.to_owned())
}

/// Checks an age: 18–120.
pub fn parse_age(age: i64) -> Result<u8> {
    u8::try_from(age)
        .ok()
        .filter(|a| (MIN_AGE..=MAX_AGE).contains(a))
        .ok_or_else(|| Error::validation("age", format!("must be between {MIN_AGE} and {MAX_AGE}")))
}

/// Trims and checks the about text: at most 1000 characters; newlines and tabs allowed.
pub fn parse_about(raw: &str) -> Result<String> {
    let about = raw.trim();
    if about.chars().count() > MAX_ABOUT_CHARS {
        return Err(Error::validation("about", format!("must be at most {MAX_ABOUT_CHARS} characters")));
    }
    if about.chars().any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r') {
        return Err(Error::validation("about", "must not contain control characters"));
    }
    Ok(about.to_owned())
}

/// Trims and checks a location: at most 100 characters, printable (no control
/// characters, not even newlines: it is shown on one line). Empty means "no location".
pub fn parse_location(raw: &str) -> Result<Option<String>> {
    let location = raw.trim();
    if location.chars().count() > MAX_LOCATION_CHARS {
        return Err(Error::validation("location", format!("must be at most {MAX_LOCATION_CHARS} characters")));
    }
    if has_control(location) {
        return Err(Error::validation("location", "must not contain control characters"));
    }
    Ok(Some(location.to_owned()).filter(|l| !l.is_empty()))
}

/// Checks years of experience: 0–60.
pub fn parse_experience_years(field: &'static str, years: i64) -> Result<u8> {
    u8::try_from(years)
        .ok()
        .filter(|y| *y <= MAX_EXPERIENCE_YEARS)
        .ok_or_else(|| Error::validation(field, format!("must be between 0 and {MAX_EXPERIENCE_YEARS}")))
}

/// Trims each skill, drops empty ones and case-insensitive duplicates (keeping the first
/// spelling), and checks the limits: at most 20 skills of at most 40 characters.
///
/// The count is checked before any skill is looked at, and duplicates are found with a
/// set, so hostile input (thousands of skills) costs one length check, not a scan per
/// skill of every skill before it.
pub fn parse_skills(raw: &[String]) -> Result<Vec<String>> {
    parse_labels("skills", "skill", raw)
}

/// Skills, or any list of labels like them (a group's tags): counted first, trimmed,
/// empty ones dropped, de-duplicated case-insensitively, each bounded; errors name
/// `field` and call one entry a `noun`.
pub(crate) fn parse_labels(field: &'static str, noun: &str, raw: &[String]) -> Result<Vec<String>> {
    if raw.len() > MAX_SKILLS {
        return Err(Error::validation(field, format!("at most {MAX_SKILLS} {noun}s")));
    }
    let mut seen = std::collections::HashSet::with_capacity(raw.len());
    let mut skills = Vec::with_capacity(raw.len());
    for skill in raw.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
        if skill.chars().count() > MAX_SKILL_CHARS {
            return Err(Error::validation(field, format!("each {noun} must be at most {MAX_SKILL_CHARS} characters")));
        }
        if has_control(skill) {
            return Err(Error::validation(field, "must not contain control characters"));
        }
        if seen.insert(skill.to_lowercase()) {
            skills.push(skill.to_owned());
        }
    }
    Ok(skills)
}

impl DevConnect {
    /// The caller's own profile, with email.
    pub async fn profile(&self, me: UserId) -> Result<Me> {
        Ok(self.publish(self.user_record(me).await?.me))
    }

    /// Anyone's public profile (no email).
    pub async fn public_profile(&self, id: UserId) -> Result<Profile> {
        Ok(self.publish(self.user_record(id).await?.me.profile))
    }

    /// Edits the caller's profile. Every given field is validated; nothing changes unless
    /// all are valid. A new photo replaces the old one, which is then deleted. A valid
    /// edit counts against [`Settings::edit_rate`](crate::Settings) before any photo is
    /// decoded.
    pub async fn edit_profile(&self, me: UserId, edit: ProfileEdit) -> Result<Me> {
        let mut update = ProfileUpdate {
            first_name: edit.first_name.as_deref().map(|n| parse_name("firstName", n, false)).transpose()?,
            last_name: edit.last_name.as_deref().map(|n| parse_name("lastName", n, true)).transpose()?,
            age: edit.age.map(parse_age).transpose()?,
            gender: edit.gender.as_deref().map(Gender::parse).transpose()?,
            about: edit.about.as_deref().map(parse_about).transpose()?,
            skills: edit.skills.as_deref().map(parse_skills).transpose()?,
            photo_url: None,
            location: edit.location.as_deref().map(parse_location).transpose()?,
            experience_years: edit
                .experience_years
                .map(|y| parse_experience_years("experienceYears", y))
                .transpose()?,
        };
        self.inner.limits.check_edit(me)?;
        let old = self.user_record(me).await?;
        if let Some(photo) = edit.photo {
            update.photo_url = Some(self.store_image(photo).await?);
        }
        let updated = self.inner.store.update_profile(me, &update, crate::now()).await;
        self.finish_photo_change(old.me.profile.photo_url.as_deref(), update.photo_url.as_deref(), updated.is_ok())
            .await;
        updated?.map(|u| self.publish(u.me)).ok_or(Error::NotFound("user"))
    }

    /// Replaces the caller's photo with `photo` (JPEG, PNG or WebP bytes).
    pub async fn set_photo(&self, me: UserId, photo: Upload) -> Result<Me> {
        self.edit_profile(me, ProfileEdit { photo: Some(photo), ..ProfileEdit::default() }).await
    }

    /// After a photo change, deletes whichever image is no longer referenced: the old
    /// one when the update was stored, the new one when it was not.
    pub(crate) async fn finish_photo_change(&self, old: Option<&str>, new: Option<&str>, stored: bool) {
        let orphan = if stored { new.and(old) } else { new };
        if let Some(url) = orphan {
            self.delete_image(url).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skills_are_trimmed_deduplicated_and_limited() {
        let raw = vec![" Rust ".to_owned(), "rust".to_owned(), "".to_owned(), "Go".to_owned()];
        assert_eq!(parse_skills(&raw).ok(), Some(vec!["Rust".to_owned(), "Go".to_owned()]));
        let many: Vec<String> = (0..=MAX_SKILLS).map(|i| format!("s{i}")).collect();
        assert!(parse_skills(&many).is_err());
        assert!(parse_skills(&["x".repeat(MAX_SKILL_CHARS + 1)]).is_err());
    }

    #[test]
    fn more_than_twenty_skills_are_refused_even_when_blank_or_repeated() {
        // Counted as given: a list longer than the limit is refused before any skill is
        // read, whatever its items.
        assert!(parse_skills(&vec!["rust".to_owned(); MAX_SKILLS + 1]).is_err());
        assert!(parse_skills(&vec![String::new(); 7000]).is_err());
        let twenty: Vec<String> = (0..MAX_SKILLS).map(|i| format!("S{i}")).collect();
        assert_eq!(parse_skills(&twenty).map(|s| s.len()).ok(), Some(MAX_SKILLS));
    }

    #[test]
    fn ages_outside_18_to_120_are_rejected() {
        assert_eq!(parse_age(18).ok(), Some(18));
        assert_eq!(parse_age(120).ok(), Some(120));
        for bad in [-1, 0, 17, 121, 256, i64::MAX] {
            assert!(parse_age(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn locations_are_trimmed_bounded_and_empty_clears() {
        assert_eq!(parse_location("  Berlin, Germany ").ok(), Some(Some("Berlin, Germany".to_owned())));
        assert_eq!(parse_location("   ").ok(), Some(None));
        assert!(parse_location(&"é".repeat(MAX_LOCATION_CHARS)).is_ok());
        assert!(parse_location(&"é".repeat(MAX_LOCATION_CHARS + 1)).is_err());
        assert!(parse_location("Ber\nlin").is_err());
    }

    #[test]
    fn experience_is_0_to_60_years() {
        assert_eq!(parse_experience_years("experienceYears", 0).ok(), Some(0));
        assert_eq!(parse_experience_years("experienceYears", 60).ok(), Some(60));
        for bad in [-1, 61, 256, i64::MIN, i64::MAX] {
            assert!(parse_experience_years("experienceYears", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn names_are_required_trimmed_and_bounded() {
        assert_eq!(parse_name("firstName", "  Ada ", false).ok().as_deref(), Some("Ada"));
        assert!(parse_name("firstName", "   ", false).is_err());
        assert_eq!(parse_name("lastName", "", true).ok().as_deref(), Some(""));
        assert!(parse_name("firstName", &"é".repeat(51), false).is_err());
        assert!(parse_name("firstName", "a\u{0}b", false).is_err());
    }

    #[test]
    fn gender_accepts_the_original_values_case_insensitively() {
        assert_eq!(Gender::parse("Male").ok(), Some(Gender::Male));
        assert_eq!(Gender::parse("other").ok(), Some(Gender::Others));
        assert!(Gender::parse("robot").is_err());
    }

    #[test]
    fn unknown_edit_fields_are_rejected() {
        let err = serde_json::from_str::<ProfileEdit>(r#"{"emailID":"x@y.z"}"#).err();
        assert!(err.is_some());
        let ok = serde_json::from_str::<ProfileEdit>(
            r#"{"about":"hi","skills":["rust"],"location":"Berlin","experienceYears":3}"#,
        );
        assert!(ok.is_ok());
    }
}
