//! Developer search as asked of a store: the validated filter, the words profiles are
//! matched by, and the ranking every store must follow.

use devconnect_types::{Profile, RequestStatus, UserId};

/// A validated search, as handed to a store.
///
/// A profile matches when every word of `terms` is a word of its name, skills or about
/// (the last word may be the start of one: search as you type), every word of
/// `location` is a word of its location, it has every skill of `skills`, and its
/// experience is within the bounds given. Stores leave out the searcher, suspended
/// users, anyone in a block with the searcher (either way), and accounts newer than
/// `as_of`; they order the matches by [`rank`] (best first), then newest account first.
#[derive(Clone, Debug)]
pub struct SearchFilter {
    /// Folded words of `q` ([`search_words`]); the last one matches as a prefix.
    pub terms: Vec<String>,
    /// Folded words the location must all have.
    pub location: Vec<String>,
    /// Skill keys ([`skill_key`](super::skill_key)) a profile must all have.
    pub skills: Vec<String>,
    /// Least years of experience, if bounded (a profile without any does not match).
    pub min_experience: Option<u8>,
    /// Most years of experience, if bounded (a profile without any does not match).
    pub max_experience: Option<u8>,
    /// The newest account shown: later signups do not shift the pages.
    pub as_of: UserId,
    /// Rows to skip.
    pub offset: u64,
    /// Rows to return.
    pub limit: u32,
}

impl SearchFilter {
    /// Whether the terms' last word is matched as a prefix (it always is, when there is one).
    #[must_use]
    pub fn prefix(&self) -> Option<&str> {
        self.terms.last().map(String::as_str)
    }
}

/// A match, as a store returns it: the profile and the status of the request between
/// it and the searcher, if any (the service turns it into a [`Relation`](devconnect_types::search::Relation)).
#[derive(Clone, Debug, PartialEq)]
pub struct SearchHit {
    /// The public profile.
    pub profile: Profile,
    /// The request between the two, either way.
    pub request: Option<RequestStatus>,
}

/// How well a profile matches `terms`, compared as a tuple, larger first: how many terms
/// are words of the name, then of the skills, then of the about text. So a match in the
/// name ranks above one in the skills, above one in the about text, and more matching
/// skills rank higher. Every store orders by exactly this, then by newest account.
#[must_use]
pub fn rank(terms: &[String], profile: &Profile) -> (usize, usize, usize) {
    let fields = [
        field_words(&[profile.first_name.as_str(), profile.last_name.as_str()]),
        field_words(&profile.skills.iter().map(String::as_str).collect::<Vec<_>>()),
        field_words(&[profile.about.as_str()]),
    ];
    let [name, skills, about] = fields.map(|words| terms_in(terms, &words));
    (name, skills, about)
}

/// The ranks of a search for one word, best first, as which fields hold it (name,
/// skills, about): every non-empty set, in the order [`rank`] gives them. Stores that
/// page rank by rank walk these in turn, each newest first.
pub fn one_word_ranks() -> impl Iterator<Item = [bool; 3]> {
    (1..8u8).rev().map(|bits| [bits & 4 != 0, bits & 2 != 0, bits & 1 != 0])
}

fn field_words(texts: &[&str]) -> Vec<String> {
    texts.iter().flat_map(|t| search_words(t)).collect()
}

/// How many of `terms` are among `words` (the last term as a prefix of one).
fn terms_in(terms: &[String], words: &[String]) -> usize {
    let last = terms.len().saturating_sub(1);
    terms
        .iter()
        .enumerate()
        .filter(|(i, term)| words.iter().any(|w| if *i == last { w.starts_with(term.as_str()) } else { w == *term }))
        .count()
}

/// The words of a text as search matches them: runs of letters and digits, lower-cased,
/// accents folded ([`fold`]). Both stores index exactly these words (tagged with their
/// field): the SQLite store in its full-text index, the MongoDB store in `searchKeys`.
pub fn search_words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| w.to_lowercase().chars().map(fold).collect())
}

/// A lower-case letter without its accent: the Latin-1 and Latin Extended-A letters
/// that decompose into a base letter and diacritics (`é` → `e`, `ł` stays: it does not
/// decompose), which is what SQLite's `remove_diacritics` folds in that range.
#[must_use]
pub fn fold(c: char) -> char {
    match c {
        'à'..='å' | 'ā' | 'ă' | 'ą' => 'a',
        'ç' | 'ć' | 'ĉ' | 'ċ' | 'č' => 'c',
        'ď' => 'd',
        'è'..='ë' | 'ē' | 'ĕ' | 'ė' | 'ę' | 'ě' => 'e',
        'ĝ' | 'ğ' | 'ġ' | 'ģ' => 'g',
        'ĥ' => 'h',
        'ì'..='ï' | 'ĩ' | 'ī' | 'ĭ' | 'į' => 'i',
        'ĵ' => 'j',
        'ķ' => 'k',
        'ĺ' | 'ļ' | 'ľ' => 'l',
        'ñ' | 'ń' | 'ņ' | 'ň' => 'n',
        'ò'..='ö' | 'ō' | 'ŏ' | 'ő' => 'o',
        'ŕ' | 'ŗ' | 'ř' => 'r',
        'ś' | 'ŝ' | 'ş' | 'š' => 's',
        'ţ' | 'ť' => 't',
        'ù'..='ü' | 'ũ' | 'ū' | 'ŭ' | 'ů' | 'ű' | 'ų' => 'u',
        'ŵ' => 'w',
        'ý' | 'ÿ' | 'ŷ' => 'y',
        'ź' | 'ż' | 'ž' => 'z',
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_word_ranks_are_every_set_of_fields_in_rank_order() {
        let ranks: Vec<(usize, usize, usize)> =
            one_word_ranks().map(|[n, s, a]| (usize::from(n), usize::from(s), usize::from(a))).collect();
        assert_eq!(ranks.len(), 7);
        assert!(ranks.windows(2).all(|w| w[0] > w[1]), "strictly best first: {ranks:?}");
        assert!(!ranks.contains(&(0, 0, 0)));
    }

    #[test]
    fn words_are_lower_cased_and_accent_folded() {
        let words: Vec<String> = search_words("José Müller-Łukasz, C++ & Node.js; Ångström ÇA").collect();
        assert_eq!(words, ["jose", "muller", "łukasz", "c", "node", "js", "angstrom", "ca"]);
    }

    #[test]
    fn name_ranks_above_skills_above_about_and_the_last_term_is_a_prefix() {
        let now = chrono::Utc::now();
        let profile = |first: &str, skills: &[&str], about: &str| Profile {
            id: UserId::new(),
            first_name: first.to_owned(),
            last_name: String::new(),
            age: None,
            gender: None,
            photo_url: None,
            about: about.to_owned(),
            skills: skills.iter().map(|s| (*s).to_owned()).collect(),
            location: None,
            experience_years: None,
            created_at: now,
            updated_at: now,
            deleted: false,
        };
        let terms = |q: &str| search_words(q).collect::<Vec<_>>();
        assert_eq!(rank(&terms("rust"), &profile("Rusty", &["Rust"], "rust")), (1, 1, 1));
        assert_eq!(rank(&terms("rust go"), &profile("Ada", &["Go", "Rust"], "")), (0, 2, 0));
        // Only the last word is a prefix.
        assert_eq!(rank(&terms("ru go"), &profile("Ada", &["Go", "Rust"], "")), (0, 1, 0));
        assert!(rank(&terms("jo"), &profile("José", &[], "")) > rank(&terms("jo"), &profile("Ada", &["Joomla"], "")));
    }
}
