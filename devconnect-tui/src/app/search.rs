//! The Search screen: a query line searched as it is typed, the results with how each
//! developer relates to me, a result's profile, and a connection request with a note.
//!
//! At most one search is in flight: text typed meanwhile is searched when the reply
//! comes, so fast typing costs one request per round trip, not one per key. A reply whose
//! query no longer matches the line is dropped (and the line searched instead), so a slow
//! answer for old text never replaces newer results.

use devconnect_client::UserSearch;
use devconnect_types::search::{Relation, SearchPage, SearchResult};
use devconnect_types::{SendStatus, UserId};
use ratatui::crossterm::event::{KeyCode, KeyEvent};

use super::keys::edit;
use super::report::ReportTarget;
use super::{App, Command, Failure, display_name};
use crate::input::TextInput;

/// Results per search page.
pub const SEARCH_PAGE: u32 = 10;

/// What has the keys on the Search screen.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SearchFocus {
    /// The query line: keys type.
    #[default]
    Query,
    /// The results list.
    Results,
    /// The selected result's profile, full size.
    Profile,
}

/// The note prompt of a connection request: shown under the results until sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotePrompt {
    /// To whom.
    pub to: UserId,
    /// Their name, for the prompt.
    pub name: String,
    /// The note; may stay empty.
    pub input: TextInput,
}

/// The Search screen.
#[derive(Clone, Debug, Default)]
pub struct SearchState {
    /// The query line (words, and `skill:`, `loc:`, `exp:` filters).
    pub input: TextInput,
    /// What has the keys.
    pub focus: SearchFocus,
    /// The results shown.
    pub results: Vec<SearchResult>,
    /// The page shown (1-based; 0 before the first reply).
    pub page: u32,
    /// Whether a next page exists.
    pub has_more: bool,
    /// The first page's `asOf`, sent with the next pages.
    pub as_of: Option<UserId>,
    /// The selected result.
    pub selected: usize,
    /// The note prompt, while open.
    pub note: Option<NotePrompt>,
    /// The search in flight: only its reply is taken.
    pub in_flight: Option<UserSearch>,
    /// The query (page 1) of the results shown.
    shown: Option<UserSearch>,
}

/// Reads a query line: `skill:rust` (or `skills:rust,go`) requires skills, `loc:berlin`
/// location words, `exp:3` at least 3 years and `exp:3-10` between 3 and 10; every other
/// word is searched for. A filter whose value is unusable is searched as a word, so
/// nothing typed is silently dropped.
#[must_use]
pub fn parse_query(line: &str) -> UserSearch {
    let mut search = UserSearch::default();
    let mut words: Vec<&str> = Vec::new();
    let mut places: Vec<&str> = Vec::new();
    for word in line.split_whitespace() {
        let (key, value) = word.split_once(':').unwrap_or(("", word));
        match key.to_lowercase().as_str() {
            "skill" | "skills" if !value.is_empty() => {
                search.skills.extend(value.split(',').filter(|s| !s.is_empty()).map(str::to_owned));
            }
            "loc" | "location" if !value.is_empty() => places.push(value),
            "exp" => match experience(value) {
                Some((min, max)) => (search.min_experience, search.max_experience) = (min, max),
                None => words.push(word),
            },
            _ => words.push(word),
        }
    }
    search.q = words.join(" ");
    search.location = places.join(" ");
    search
}

/// `3` → at least 3; `3-10` → 3 to 10; `-10` → at most 10.
fn experience(value: &str) -> Option<(Option<u8>, Option<u8>)> {
    let bound = |s: &str| if s.is_empty() { Ok(None) } else { s.parse::<u8>().map(Some) };
    match value.split_once('-') {
        Some((min, max)) => match (bound(min), bound(max)) {
            (Ok(min), Ok(max)) if min.is_some() || max.is_some() => Some((min, max)),
            _ => None,
        },
        None => value.parse::<u8>().ok().map(|min| (Some(min), None)),
    }
}

impl SearchState {
    /// The first page of what the line asks for now.
    fn wanted(&self) -> UserSearch {
        UserSearch { limit: Some(SEARCH_PAGE), page: Some(1), ..parse_query(self.input.text()) }
    }

    /// Sends `search` unless one is in flight (its reply then sends the latest line).
    fn send(&mut self, search: UserSearch) -> Vec<Command> {
        if self.in_flight.is_some() {
            return Vec::new();
        }
        self.in_flight = Some(search.clone());
        vec![Command::Search(search)]
    }

    /// The line changed: search it, unless it asks for what is shown already (a space
    /// typed between words changes nothing).
    fn line_changed(&mut self) -> Vec<Command> {
        let wanted = self.wanted();
        if self.in_flight.is_none() && self.shown.as_ref() == Some(&wanted) {
            return Vec::new();
        }
        self.send(wanted)
    }

    /// The selected result.
    #[must_use]
    pub fn selected_result(&self) -> Option<&SearchResult> {
        self.results.get(self.selected)
    }

    /// Someone blocked leaves the results.
    pub(super) fn forget(&mut self, user: UserId) {
        self.results.retain(|r| r.profile.id != user);
        self.selected = self.selected.min(self.results.len().saturating_sub(1));
        if self.note.as_ref().is_some_and(|n| n.to == user) {
            self.note = None;
        }
        if self.results.is_empty() && self.focus == SearchFocus::Profile {
            self.focus = SearchFocus::Results;
        }
    }

    /// Whether keys type into a line (the query or the note).
    #[must_use]
    pub fn typing(&self) -> bool {
        self.note.is_some() || self.focus == SearchFocus::Query
    }

    pub(super) fn focused_input(&mut self) -> Option<&mut TextInput> {
        match (&mut self.note, self.focus) {
            (Some(note), _) => Some(&mut note.input),
            (None, SearchFocus::Query) => Some(&mut self.input),
            (None, _) => None,
        }
    }
}

impl App {
    /// The Search screen was opened: the query line takes the keys, and the first visit
    /// lists everyone (what an empty line finds).
    pub(super) fn search_opened(&mut self) -> Vec<Command> {
        if self.search.note.is_none() && self.search.focus != SearchFocus::Profile {
            self.search.focus = SearchFocus::Query;
        }
        if self.search.shown.is_none() {
            return self.search.line_changed();
        }
        Vec::new()
    }

    /// `r`: the line again from its first page, with a fresh `asOf` (new signups show).
    pub(super) fn search_refresh(&mut self) -> Vec<Command> {
        self.search.shown = None;
        self.search.line_changed()
    }

    /// Text pasted into the query line is searched like typed text.
    pub(super) fn search_pasted(&mut self) -> Vec<Command> {
        if self.search.note.is_none() && self.search.focus == SearchFocus::Query {
            return self.search.line_changed();
        }
        Vec::new()
    }

    /// Keys while the query line or the note has them.
    pub(super) fn search_input_key(&mut self, key: &KeyEvent) -> Vec<Command> {
        if let Some(note) = self.search.note.as_mut() {
            match key.code {
                KeyCode::Esc => {
                    self.search.note = None;
                    self.info("Request cancelled.");
                }
                KeyCode::Enter => {
                    let text = note.input.text().trim().to_owned();
                    let to = note.to;
                    self.search.note = None;
                    let note = (!text.is_empty()).then_some(text);
                    return vec![Command::SendRequest { status: SendStatus::Interested, to, note }];
                }
                _ => edit(&mut note.input, key),
            }
            return Vec::new();
        }
        match key.code {
            KeyCode::Esc | KeyCode::Down | KeyCode::Enter => {
                self.search.focus = SearchFocus::Results;
                Vec::new()
            }
            // A query never holds a tab: Tab keeps cycling the screens, as elsewhere.
            KeyCode::Tab => self.next_screen(),
            _ => {
                edit(&mut self.search.input, key);
                self.search.line_changed()
            }
        }
    }

    /// Keys on the results list or a result's profile.
    pub(super) fn search_key(&mut self, key: &KeyEvent) -> Vec<Command> {
        let search = &mut self.search;
        let count = search.results.len();
        match key.code {
            KeyCode::Esc if search.focus == SearchFocus::Profile => search.focus = SearchFocus::Results,
            KeyCode::Char('/') | KeyCode::Esc => search.focus = SearchFocus::Query,
            KeyCode::Up | KeyCode::Char('k') if search.focus == SearchFocus::Results => {
                if search.selected == 0 {
                    search.focus = SearchFocus::Query;
                }
                search.selected = search.selected.saturating_sub(1);
            }
            KeyCode::Down | KeyCode::Char('j') if search.focus == SearchFocus::Results => {
                search.selected = (search.selected + 1).min(count.saturating_sub(1));
            }
            KeyCode::Enter | KeyCode::Right if count > 0 => search.focus = SearchFocus::Profile,
            KeyCode::Char('c') => return self.ask_note(),
            KeyCode::Char('b') => {
                if let Some(result) = self.search.selected_result() {
                    let (id, name) = (result.profile.id, display_name(&result.profile));
                    return self.ask_block(id, name);
                }
            }
            KeyCode::Char('!') => {
                if let Some(target) = self.search.selected_result().map(|r| ReportTarget::user(&r.profile)) {
                    return self.ask_report(vec![target]);
                }
            }
            KeyCode::Char('n') | KeyCode::PageDown => return self.search_page(1),
            KeyCode::Char('p') | KeyCode::PageUp => return self.search_page(-1),
            _ => {}
        }
        Vec::new()
    }

    /// `c`: the note prompt for the selected result, unless a request would be refused
    /// anyway (we are connected, or one is pending).
    fn ask_note(&mut self) -> Vec<Command> {
        let Some(result) = self.search.selected_result() else {
            return Vec::new();
        };
        let name = display_name(&result.profile);
        match result.relation {
            Relation::Connected => self.info(format!("You are already connected with {name}.")),
            Relation::Pending => self.info(format!("A request between you and {name} is waiting for an answer.")),
            Relation::None => {
                let to = result.profile.id;
                self.search.note = Some(NotePrompt { to, name, input: TextInput::default() });
            }
        }
        Vec::new()
    }

    /// The next (`1`) or previous (`-1`) page of the results shown, as of the first page.
    fn search_page(&mut self, step: i32) -> Vec<Command> {
        let search = &mut self.search;
        if search.in_flight.is_some() {
            return Vec::new();
        }
        let Some(shown) = search.shown.clone() else {
            return Vec::new();
        };
        let page = match step {
            1 if search.has_more => search.page + 1,
            -1 if search.page > 1 => search.page - 1,
            1 => {
                self.info("This is the last page of the results.");
                return Vec::new();
            }
            _ => {
                self.info("This is the first page of the results.");
                return Vec::new();
            }
        };
        search.send(UserSearch { page: Some(page), as_of: search.as_of, ..shown })
    }

    /// `Reply::Search`: taken only when it answers the search in flight and the line
    /// still asks for it; otherwise the line is searched now.
    pub(super) fn on_search(&mut self, query: UserSearch, result: Result<SearchPage, Failure>) -> Vec<Command> {
        let search = &mut self.search;
        if search.in_flight.as_ref() != Some(&query) {
            return Vec::new();
        }
        search.in_flight = None;
        let wanted = search.wanted();
        let first_page = UserSearch { page: Some(1), as_of: None, ..query };
        if first_page != wanted {
            return search.send(wanted);
        }
        match result {
            Ok(page) => {
                search.page = page.page.max(1);
                search.has_more = page.has_more;
                // Later pages are asked as of the first one, and answer with it.
                search.as_of = Some(page.as_of);
                search.results = page.results;
                search.selected = 0;
                search.shown = Some(first_page);
                if search.results.is_empty() && search.focus == SearchFocus::Profile {
                    search.focus = SearchFocus::Results;
                }
                Vec::new()
            }
            Err(failure) => {
                // Shown with its code: a refused query (`validation`) is the user's to fix.
                if let Some(commands) = self.session_failure(&failure) {
                    return commands;
                }
                self.error(format!("Search: {} ({})", failure.message, failure.code));
                Vec::new()
            }
        }
    }

    /// A request sent from a result: it is now pending.
    pub(super) fn search_request_sent(&mut self, to: UserId) {
        for result in self.search.results.iter_mut().filter(|r| r.profile.id == to) {
            result.relation = Relation::Pending;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_words_are_the_query() {
        let search = parse_query("  ada   love ");
        assert_eq!(search, UserSearch { q: "ada love".to_owned(), ..UserSearch::default() });
    }

    #[test]
    fn filters_are_read_and_the_rest_searched() {
        let search = parse_query("rust skill:go skills:wasm,c loc:berlin Loc:mitte exp:3-10 dev");
        assert_eq!(search.q, "rust dev");
        assert_eq!(search.skills, ["go", "wasm", "c"]);
        assert_eq!(search.location, "berlin mitte");
        assert_eq!((search.min_experience, search.max_experience), (Some(3), Some(10)));
    }

    #[test]
    fn experience_bounds_may_be_open_and_bad_ones_are_searched_as_words() {
        assert_eq!(experience("5"), Some((Some(5), None)));
        assert_eq!(experience("-7"), Some((None, Some(7))));
        assert_eq!(experience("2-"), Some((Some(2), None)));
        assert_eq!(experience("-"), None);
        assert_eq!(experience("x"), None);
        assert_eq!(experience("999"), None);
        assert_eq!(parse_query("exp:lots skill:").q, "exp:lots skill:");
    }
}
