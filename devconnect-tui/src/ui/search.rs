//! The Search screen: the query line, the results (name, skills, location, experience
//! and how we relate), the selected one's profile, and the note prompt of a request.

use devconnect_types::Profile;
use devconnect_types::search::{Relation, SearchResult};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use super::profile::profile_lines;
use super::text::{display_name, one_line, wrap};
use super::{ACCENT, dim, field};
use crate::app::{App, SearchFocus};

const HINT: &str = "words, skill:rust, loc:berlin, exp:3-10";

/// What a result's relation offers: the word shown and its colour.
fn relation_label(relation: Relation) -> (&'static str, Style) {
    match relation {
        Relation::Connected => ("connected", Style::default().fg(Color::Green)),
        Relation::Pending => ("pending", Style::default().fg(Color::Yellow)),
        Relation::None => ("connect", Style::default().fg(ACCENT)),
    }
}

/// `Berlin · 5 yrs`, or what of it is known.
fn place_and_years(p: &Profile) -> String {
    let years = p.experience_years.map(|y| if y == 1 { "1 yr".to_owned() } else { format!("{y} yrs") });
    p.location.iter().map(|l| one_line(l)).chain(years).collect::<Vec<_>>().join(" · ")
}

pub(super) fn render_search(app: &App, frame: &mut Frame<'_>, area: Rect) {
    let search = &app.search;
    let mut title = format!(" Search · page {}{} ", search.page.max(1), if search.has_more { " ›" } else { "" });
    if search.in_flight.is_some() {
        title.push_str("· searching… ");
    }
    let block = Block::default().borders(Borders::ALL).title(title).border_style(Style::default().fg(ACCENT));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let note_height = u16::from(search.note.is_some());
    let [query, hint, body, note] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Min(0),
        Constraint::Length(note_height),
    ])
    .areas(inner);
    let typing_query = search.focus == SearchFocus::Query && search.note.is_none();
    field(frame, query, "Find", &search.input, None, typing_query);
    frame.render_widget(Paragraph::new(Span::styled(HINT, dim())), hint);
    if let Some(prompt) = &search.note {
        field(frame, note, "Note", &prompt.input, None, true);
    }
    if search.results.is_empty() {
        let text = if search.in_flight.is_some() { "Searching…" } else { "No one found." };
        frame.render_widget(Paragraph::new(wrap(&[(text.to_owned(), dim())], body.width)), body);
        return;
    }
    if search.focus == SearchFocus::Profile
        && let Some(result) = search.selected_result()
    {
        frame.render_widget(Paragraph::new(result_profile(result, body.width)), body);
        return;
    }
    let (list_area, detail_area) = if body.width >= 80 {
        let [l, d] = Layout::horizontal([Constraint::Percentage(60), Constraint::Min(0)]).areas(body);
        (l, Some(d))
    } else {
        (body, None)
    };
    let height = usize::from(list_area.height);
    let first = search.selected.saturating_sub(height.saturating_sub(1));
    let lines: Vec<Line<'_>> = search
        .results
        .iter()
        .enumerate()
        .skip(first)
        .take(height)
        .map(|(i, r)| {
            let selected = i == search.selected && search.focus == SearchFocus::Results;
            let style = if selected { Style::default().add_modifier(Modifier::REVERSED) } else { Style::default() };
            let (label, label_style) = relation_label(r.relation);
            let p = &r.profile;
            let mut spans =
                vec![Span::styled(format!("[{label}] "), label_style), Span::styled(one_line(&display_name(p)), style)];
            if !p.skills.is_empty() {
                spans.push(Span::styled(format!(" · {}", one_line(&p.skills.join(", "))), dim()));
            }
            let place = place_and_years(p);
            if !place.is_empty() {
                spans.push(Span::styled(format!(" · {place}"), dim()));
            }
            Line::from(spans)
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), list_area);
    if let (Some(detail), Some(result)) = (detail_area, search.selected_result()) {
        frame.render_widget(Paragraph::new(result_profile(result, detail.width)), detail);
    }
}

/// A result's profile in full, with what can be done about it.
fn result_profile(result: &SearchResult, width: u16) -> Vec<Line<'static>> {
    let mut lines = profile_lines(&result.profile, None, width);
    let (label, style) = match result.relation {
        Relation::Connected => ("connected: chat from Chats (1)", Style::default().fg(Color::Green)),
        Relation::Pending => ("a request is waiting for an answer", Style::default().fg(Color::Yellow)),
        Relation::None => ("not connected: c sends a request with a note", Style::default().fg(ACCENT)),
    };
    lines.extend(wrap(&[(format!("{:<11}", "Relation"), dim()), (label.to_owned(), style)], width));
    lines
}
