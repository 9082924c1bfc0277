//! The feed and group discovery as asked of a store.

/// A page request for the feed, validated.
#[derive(Clone, Debug, Default)]
pub struct FeedFilter {
    /// Rows to skip.
    pub offset: u64,
    /// Rows to return.
    pub limit: u32,
    /// Lower-cased skills; a profile matches if it has any of them. Empty: no filter.
    pub skills: Vec<String>,
}

/// A page request for public groups, validated.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GroupFilter {
    /// Keys a group must all have ([`group_keys`]): whole name words and tags.
    pub keys: Vec<String>,
    /// A key prefix the group must have one key starting with: the last word typed,
    /// so that search works as one types.
    pub prefix: Option<String>,
    /// Rows to skip.
    pub offset: u64,
    /// Rows to return.
    pub limit: u32,
}

/// The keys a group is found by: `w:` and each lower-cased word of its name, `t:` and
/// each lower-cased tag.
#[must_use]
pub fn group_keys(name: &str, tags: &[String]) -> Vec<String> {
    let mut keys: Vec<String> = name_words(name).map(|w| format!("w:{w}")).collect();
    keys.extend(tags.iter().map(|t| format!("t:{}", super::skill_key(t))));
    keys.sort();
    keys.dedup();
    keys
}

/// The lower-cased words of a name (letters and digits).
pub fn name_words(name: &str) -> impl Iterator<Item = String> + '_ {
    name.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_lowercase)
}

/// Changes to a group's details, validated; `None` leaves a field as it is.
#[derive(Clone, Debug, Default)]
pub struct GroupUpdate {
    /// A new name.
    pub name: Option<String>,
    /// A new description.
    pub description: Option<String>,
    /// A new visibility.
    pub visibility: Option<devconnect_types::Visibility>,
    /// New tags.
    pub tags: Option<Vec<String>>,
    /// A new photo's stored reference.
    pub photo_url: Option<String>,
}

impl GroupUpdate {
    /// `group` with this update applied at `now`.
    #[must_use]
    pub fn apply(
        &self,
        group: &devconnect_types::Group,
        now: chrono::DateTime<chrono::Utc>,
    ) -> devconnect_types::Group {
        let mut group = group.clone();
        if let Some(name) = &self.name {
            group.name.clone_from(name);
        }
        if let Some(description) = &self.description {
            group.description.clone_from(description);
        }
        if let Some(visibility) = self.visibility {
            group.visibility = visibility;
        }
        if let Some(tags) = &self.tags {
            group.tags.clone_from(tags);
        }
        if let Some(photo) = &self.photo_url {
            group.photo_url = Some(photo.clone());
        }
        group.updated_at = now;
        group
    }
}
