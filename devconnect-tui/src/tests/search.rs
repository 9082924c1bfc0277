//! The Search screen: searching as the query is typed without flooding the server,
//! stale replies, a request with a note from a result, paging as of the first page,
//! refusals with their code, and drawing.

use devconnect_client::UserSearch;
use devconnect_types::search::{Relation, SearchPage, SearchResult};
use devconnect_types::{Me, Profile, SendStatus, UserId};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::KeyCode;

use super::fixtures::*;
use crate::app::{App, Command, Failure, Msg, Reply, SEARCH_PAGE, Screen, SearchFocus};
use crate::ui;

/// The first page of a search for `q`, as the screen asks it.
fn first(q: &str) -> UserSearch {
    UserSearch { q: q.to_owned(), page: Some(1), limit: Some(SEARCH_PAGE), ..UserSearch::default() }
}

fn result(profile: &Profile, relation: Relation) -> SearchResult {
    SearchResult { profile: profile.clone(), relation }
}

fn page(results: Vec<SearchResult>, page: u32, has_more: bool, as_of: UserId) -> SearchPage {
    SearchPage { results, page, limit: SEARCH_PAGE, has_more, as_of }
}

fn reply(query: UserSearch, result: Result<SearchPage, Failure>) -> Msg {
    Msg::Reply(Reply::Search { query, result })
}

/// Logged in, on the Search screen, the first (empty) search answered with `results`.
fn on_search(me: &Me, results: Vec<SearchResult>) -> App {
    let mut app = logged_in(me);
    assert_eq!(app.update(ch('6')), vec![Command::Search(first(""))], "the first visit lists everyone");
    assert_eq!(app.screen, Screen::Search);
    app.update(reply(first(""), Ok(page(results, 1, false, UserId::new()))));
    app
}

#[test]
fn typing_fast_sends_one_search_then_the_latest_line_when_it_returns() {
    let me = me("Ada");
    let bob = profile("Bob", "Kahn");
    let mut app = on_search(&me, vec![]);
    assert_eq!(type_text(&mut app, "r"), vec![Command::Search(first("r"))]);
    assert!(type_text(&mut app, "ust").is_empty(), "nothing more while a search is in flight");
    // The answer for "r" is stale: dropped, and the line as it is now searched.
    let stale = page(vec![result(&bob, Relation::None)], 1, false, UserId::new());
    assert_eq!(app.update(reply(first("r"), Ok(stale))), vec![Command::Search(first("rust"))]);
    assert!(app.search.results.is_empty(), "a stale answer is never shown");
    let fresh = page(vec![result(&bob, Relation::None)], 1, false, UserId::new());
    assert!(app.update(reply(first("rust"), Ok(fresh))).is_empty());
    assert_eq!(app.search.results.len(), 1);
    // A space between words asks for nothing new; `q` and digits are typed, not keys.
    assert!(type_text(&mut app, " ").is_empty());
    assert_eq!(type_text(&mut app, "q1"), vec![Command::Search(first("rust q"))]);
    assert!(!app.quit);
    assert_eq!(app.screen, Screen::Search);
}

#[test]
fn a_reply_to_no_search_in_flight_is_ignored() {
    let me = me("Ada");
    let bob = profile("Bob", "Kahn");
    let mut app = on_search(&me, vec![]);
    let late = page(vec![result(&bob, Relation::None)], 1, false, UserId::new());
    assert!(app.update(reply(first("bob"), Ok(late))).is_empty());
    assert!(app.search.results.is_empty());
}

#[test]
fn filters_in_the_line_become_query_parameters() {
    let me = me("Ada");
    let mut app = on_search(&me, vec![]);
    let commands = type_text(&mut app, "skill:rust loc:berlin exp:3-10 ada");
    let Some(Command::Search(query)) = commands.first() else { panic!("no search: {commands:?}") };
    assert_eq!(query.q, "s", "the first key searches at once");
    let rest = app.update(reply(query.clone(), Ok(page(vec![], 1, false, UserId::new()))));
    let expected = UserSearch {
        q: "ada".to_owned(),
        skills: vec!["rust".to_owned()],
        location: "berlin".to_owned(),
        min_experience: Some(3),
        max_experience: Some(10),
        ..first("")
    };
    assert_eq!(rest, vec![Command::Search(expected)]);
}

#[test]
fn a_request_with_a_note_is_sent_from_a_result_and_marks_it_pending() {
    let me = me("Ada");
    let (bob, cy, di) = (profile("Bob", "Kahn"), profile("Cy", "C"), profile("Di", "D"));
    let results = vec![result(&bob, Relation::None), result(&cy, Relation::Connected), result(&di, Relation::Pending)];
    let mut app = on_search(&me, results);
    app.update(key(KeyCode::Esc));
    assert_eq!(app.search.focus, SearchFocus::Results);
    assert!(app.update(ch('c')).is_empty());
    assert!(app.search.note.is_some(), "the note prompt opens");
    type_text(&mut app, "Saw your talk 🎤");
    let commands = app.update(key(KeyCode::Enter));
    let note = Some("Saw your talk 🎤".to_owned());
    assert_eq!(commands, vec![Command::SendRequest { status: SendStatus::Interested, to: bob.id, note }]);
    assert!(app.search.note.is_none());
    let request = sent(me.profile.id, &bob).with_parties(me.profile.id, bob.id);
    app.update(Msg::Reply(Reply::RequestSent { to: bob.id, status: SendStatus::Interested, result: Ok(request) }));
    assert_eq!(app.notice.as_ref().unwrap().text, "Connection request sent to Bob Kahn.");
    assert_eq!(app.search.results[0].relation, Relation::Pending);
    // Connected or pending: no prompt, a word why.
    app.update(ch('j'));
    app.update(ch('c'));
    assert!(app.search.note.is_none());
    assert_eq!(app.notice.as_ref().unwrap().text, "You are already connected with Cy C.");
    app.update(ch('j'));
    app.update(ch('c'));
    assert!(app.search.note.is_none());
    assert!(app.notice.as_ref().unwrap().text.contains("waiting for an answer"));
}

#[test]
fn an_empty_note_sends_none_and_esc_cancels() {
    let me = me("Ada");
    let bob = profile("Bob", "Kahn");
    let mut app = on_search(&me, vec![result(&bob, Relation::None)]);
    app.update(key(KeyCode::Down));
    app.update(ch('c'));
    assert!(app.update(key(KeyCode::Esc)).is_empty());
    assert!(app.search.note.is_none());
    app.update(ch('c'));
    type_text(&mut app, "   ");
    let commands = app.update(key(KeyCode::Enter));
    assert_eq!(commands, vec![Command::SendRequest { status: SendStatus::Interested, to: bob.id, note: None }]);
}

#[test]
fn enter_opens_the_profile_and_esc_goes_back() {
    let me = me("Ada");
    let bob = profile("Bob", "Kahn");
    let mut app = on_search(&me, vec![result(&bob, Relation::None)]);
    app.update(key(KeyCode::Enter));
    assert_eq!(app.search.focus, SearchFocus::Results, "Enter on the line goes to the results");
    app.update(key(KeyCode::Enter));
    assert_eq!(app.search.focus, SearchFocus::Profile);
    app.update(key(KeyCode::Esc));
    assert_eq!(app.search.focus, SearchFocus::Results);
    app.update(ch('/'));
    assert_eq!(app.search.focus, SearchFocus::Query);
}

#[test]
fn next_pages_are_asked_as_of_the_first_and_typing_starts_again_at_page_one() {
    let me = me("Ada");
    let (bob, cy) = (profile("Bob", "Kahn"), profile("Cy", "C"));
    let mut app = on_search(&me, vec![]);
    type_text(&mut app, "dev");
    let as_of = UserId::new();
    app.update(reply(first("d"), Ok(page(vec![], 1, false, UserId::new()))));
    app.update(reply(first("dev"), Ok(page(vec![result(&bob, Relation::None)], 1, true, as_of))));
    app.update(key(KeyCode::Esc));
    let second = UserSearch { page: Some(2), as_of: Some(as_of), ..first("dev") };
    assert_eq!(app.update(ch('n')), vec![Command::Search(second.clone())]);
    assert!(app.update(ch('n')).is_empty(), "no second page request while one is in flight");
    app.update(reply(second, Ok(page(vec![result(&cy, Relation::None)], 2, false, as_of))));
    assert_eq!((app.search.page, app.search.results[0].profile.id), (2, cy.id));
    assert!(app.update(ch('n')).is_empty());
    assert_eq!(app.notice.as_ref().unwrap().text, "This is the last page of the results.");
    let back = UserSearch { page: Some(1), as_of: Some(as_of), ..first("dev") };
    assert_eq!(app.update(ch('p')), vec![Command::Search(back.clone())]);
    app.update(reply(back, Ok(page(vec![result(&bob, Relation::None)], 1, true, as_of))));
    assert_eq!(app.search.page, 1);
    app.update(ch('/'));
    assert_eq!(type_text(&mut app, "s"), vec![Command::Search(first("devs"))], "a new line starts afresh");
}

#[test]
fn a_refused_search_shows_the_servers_message_and_code() {
    let me = me("Ada");
    let mut app = on_search(&me, vec![]);
    let long = "x".repeat(201);
    app.update(Msg::Paste(long.clone()));
    let refused = Failure::new("validation", "q: at most 200 characters");
    assert!(app.update(reply(first(&long), Err(refused))).is_empty());
    let notice = app.notice.clone().unwrap();
    assert!(notice.error);
    assert_eq!(notice.text, "Search: q: at most 200 characters (validation)");
    assert!(app.search.in_flight.is_none(), "the next key searches again");
}

#[test]
fn the_search_screen_shows_results_the_profile_and_the_note_prompt() {
    let me = me("Ada");
    let mut bob = profile("Bob", "Kahn");
    bob.location = Some("Berlin, Germany".to_owned());
    bob.experience_years = Some(7);
    bob.skills = vec!["rust".to_owned(), "go".to_owned()];
    let cy = profile("Cy", "Connected");
    let di = profile("Di", "Pending");
    let results = vec![result(&bob, Relation::None), result(&cy, Relation::Connected), result(&di, Relation::Pending)];
    let mut app = on_search(&me, results);
    type_text(&mut app, "skill:rust");
    let rows = draw(&app, 120, 20);
    assert_shows(&rows, "Find        skill:rust");
    assert_shows(&rows, "[connect] Bob Kahn · rust, go · Berlin, Germany · 7 yrs");
    assert_shows(&rows, "[connected] Cy Connected");
    assert_shows(&rows, "[pending] Di Pending");
    assert_shows(&rows, "searching…");
    assert_shows(&rows, "type to search");
    app.update(key(KeyCode::Esc));
    app.update(key(KeyCode::Enter));
    let rows = draw(&app, 120, 20);
    assert_shows(&rows, "Location   Berlin, Germany");
    assert_shows(&rows, "Experience 7 years");
    assert_shows(&rows, "c sends a request with a note");
    app.update(ch('c'));
    type_text(&mut app, "hello");
    let rows = draw(&app, 120, 20);
    assert_shows(&rows, "Note        hello");
    assert_shows(&rows, "Enter send request");
    for (w, h) in [(0, 0), (1, 1), (10, 3), (3, 10), (20, 5), (40, 12), (80, 24), (200, 60)] {
        draw(&app, w, h);
    }
}

fn draw(app: &App, width: u16, height: u16) -> Vec<String> {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|frame| ui::render(app, frame)).unwrap();
    let buffer = terminal.backend().buffer();
    (0..height).map(|y| (0..width).map(|x| buffer[(x, y)].symbol()).collect()).collect()
}

fn assert_shows(rows: &[String], text: &str) {
    assert!(rows.iter().any(|r| r.contains(text)), "expected {text:?} on screen:\n{}", rows.join("\n"));
}
