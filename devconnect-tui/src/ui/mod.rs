//! Drawing: a pure function of the [`App`] state. Text is wrapped by grapheme and display
//! width (`unicode-width`, as ratatui measures it), so wide CJK and emoji never split or
//! overflow; every size, down to a single cell, draws without panicking.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Position, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use unicode_width::UnicodeWidthStr as _;

use crate::app::{App, ChatFocus, LiveStatus, LoginForm, LoginMode, Phase, RequestsPane, Screen, SearchFocus};
use crate::input::TextInput;

mod chats;
mod feed;
mod group_chat;
mod group_edit;
mod groups;
mod profile;
mod requests;
mod safety;
mod search;
mod text;

use chats::render_chats;
use feed::render_feed;
use groups::render_groups;
use profile::render_profile;
use requests::render_requests;
use safety::render_dialog;
use search::render_search;
use text::one_line;
pub use text::wrap;

const ACCENT: Color = Color::Cyan;

/// Draws the whole client.
pub fn render(app: &App, frame: &mut Frame<'_>) {
    let area = frame.area();
    if area.width == 0 || area.height == 0 {
        return;
    }
    // The keys take a second line when they do not fit on one (and there is room).
    let help_style = Style::default().fg(Color::Black).bg(Color::Gray);
    let mut help_lines: Vec<Line<'_>> =
        key_lines(&help_text(app), area.width).into_iter().map(|l| Line::from(Span::styled(l, help_style))).collect();
    help_lines.truncate(if area.height >= 12 { 2 } else { 1 });
    let help_height = u16::try_from(help_lines.len()).unwrap_or(1).max(1);
    let [header, body, notice, help] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(0),
        Constraint::Length(1),
        Constraint::Length(help_height),
    ])
    .areas(area);
    render_header(app, frame, header);
    match app.phase {
        Phase::Starting => render_starting(app, frame, body),
        Phase::Login => render_login(app, frame, body),
        Phase::Main => match app.screen {
            Screen::Chats => render_chats(app, frame, body),
            Screen::Feed => render_feed(app, frame, body),
            Screen::Requests => render_requests(app, frame, body),
            Screen::Profile => render_profile(app, frame, body),
            Screen::Groups => render_groups(app, frame, body),
            Screen::Search => render_search(app, frame, body),
        },
    }
    if app.phase == Phase::Main {
        render_dialog(app, frame, body);
    }
    render_notice(app, frame, notice);
    frame.render_widget(Paragraph::new(help_lines).style(Style::default().bg(Color::Gray)), help);
}

/// The key help for what has focus.
#[must_use]
pub fn help_text(app: &App) -> String {
    let global = "1-6/F1-F6 screens · r refresh · L logout · q quit";
    match app.phase {
        Phase::Starting => "q quit".to_owned(),
        Phase::Login => match app.login.mode {
            LoginMode::Login => "Tab next field · Enter log in · Ctrl-N sign up instead · Esc quit".to_owned(),
            LoginMode::Signup => "Tab next field · Enter sign up · Ctrl-N log in instead · Esc quit".to_owned(),
        },
        Phase::Main if app.safety.report.is_some() => {
            "Tab what · ↑↓ reason · type details (optional) · Enter report · Esc cancel".to_owned()
        }
        Phase::Main if app.safety.confirm.is_some() => "y block · n/Esc cancel".to_owned(),
        Phase::Main => match app.screen {
            Screen::Chats if app.chats.focus == ChatFocus::Input => {
                "Enter send · ↑↓ PgUp PgDn scroll · Esc back to list · Ctrl-R report · Ctrl-X block · F1-F6 screens"
                    .to_owned()
            }
            Screen::Chats => format!("↑↓ select · Enter open chat · b block · ! report · {global}"),
            Screen::Feed => format!("↑↓ select · i interested · x ignore · n/p page · b block · ! report · {global}"),
            Screen::Requests => match app.requests.pane {
                RequestsPane::Received => format!(
                    "←→ received/sent/blocked · ↑↓ select · a accept · x reject · b block · ! report · R refresh · {global}"
                ),
                RequestsPane::Sent => format!("←→ received/sent/blocked · ↑↓ select · R refresh · {global}"),
                RequestsPane::Blocked => {
                    format!("←→ received/sent/blocked · ↑↓ select · u unblock · R refresh · {global}")
                }
            },
            Screen::Profile if app.profile_form.is_some() => {
                "Tab/↑↓ field · Enter save · Esc cancel · F1-F6 screens".to_owned()
            }
            Screen::Profile => format!("e edit · ↑↓ select · Space notification on/off · {global}"),
            Screen::Groups if app.groups.edit.is_some() => {
                "Tab/Shift-Tab field · ←→ public/private · Enter save · Esc cancel · F1-F6 screens".to_owned()
            }
            Screen::Groups if app.groups.form.is_some() => {
                "Tab name/visibility · ←→ public/private · Enter create · Esc cancel · F1-F6 screens".to_owned()
            }
            Screen::Groups if app.groups.join.is_some() => {
                "paste a group id · Enter join · Esc cancel · F1-F6 screens".to_owned()
            }
            Screen::Groups if app.groups.writing() => {
                // Editing is offered only where my role allows it.
                let edit = if app.groups.open_group().is_some_and(|g| g.role.manages_members()) {
                    "Ctrl-E edit group · "
                } else {
                    ""
                };
                let details = if app.groups.details { "Ctrl-D hide details" } else { "Ctrl-D details" };
                format!(
                    "Enter send · ↑↓ PgUp PgDn scroll · Esc back to list · {edit}{details} · Ctrl-R report · F1-F6 screens"
                )
            }
            Screen::Search if app.search.note.is_some() => {
                "type a note (optional) · Enter send request · Esc cancel · F1-F6 screens".to_owned()
            }
            Screen::Search if app.search.focus == SearchFocus::Query => {
                "type to search · ↓/Enter/Esc results · Tab/F1-F6 screens".to_owned()
            }
            Screen::Search if app.search.focus == SearchFocus::Profile => {
                format!("Esc back to results · c connect · b block · ! report · / search · {global}")
            }
            Screen::Search => {
                format!("↑↓ select · Enter profile · c connect · n/p page · b block · ! report · / search · {global}")
            }
            Screen::Groups => {
                let edit = if app.groups.selected_group().is_some_and(|g| g.role.manages_members()) {
                    "e edit · "
                } else {
                    ""
                };
                let open = if app.groups.open.is_some() {
                    if app.groups.details {
                        "Esc close chat · d hide details · "
                    } else {
                        "Esc close chat · d details · "
                    }
                } else {
                    ""
                };
                format!(
                    "↑↓ select · Enter open chat · {open}{edit}n new group · j join by id · l leave · ! report · {global}"
                )
            }
        },
    }
}

/// The key help in lines of at most `width` columns, broken between keys (at ` · `),
/// never inside one.
fn key_lines(help: &str, width: u16) -> Vec<String> {
    let width = usize::from(width);
    let mut lines: Vec<String> = Vec::new();
    for item in help.split(" · ") {
        match lines.last_mut() {
            Some(line) if line.width() + 3 + item.width() <= width => {
                line.push_str(" · ");
                line.push_str(item);
            }
            _ => lines.push(item.to_owned()),
        }
    }
    lines
}

fn render_header(app: &App, frame: &mut Frame<'_>, area: Rect) {
    let (status, color) = match &app.live {
        LiveStatus::Connected => ("● connected".to_owned(), Color::Green),
        LiveStatus::Connecting => ("◌ connecting…".to_owned(), Color::Yellow),
        LiveStatus::Reconnecting { attempt, retry_in_secs } => {
            (format!("◌ reconnecting (try {attempt}, {retry_in_secs} s)"), Color::Yellow)
        }
        LiveStatus::Offline => ("○ offline".to_owned(), Color::DarkGray),
    };
    // A narrow terminal keeps only the status symbol.
    let narrow = area.width < 60;
    let status = if narrow { status.chars().take(1).collect() } else { status };
    let width = if narrow { u16::from(app.phase == Phase::Main) } else { status_width(app, &status) };
    let [left, right] = Layout::horizontal([Constraint::Min(0), Constraint::Length(width)]).areas(area);
    let mut spans = header_spans(app, false);
    // When the titles do not all fit, the screens not shown keep only their number.
    if Line::from(spans.clone()).width() > usize::from(left.width) {
        spans = header_spans(app, true);
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), left);
    let mut right_spans = vec![Span::styled(status, Style::default().fg(color))];
    if let (Some(me), false) = (&app.me, narrow) {
        right_spans.push(Span::raw(format!(" · {} ", one_line(&me.profile.first_name))));
    }
    frame.render_widget(Paragraph::new(Line::from(right_spans)).right_aligned(), right);
}

/// The brand and the screen tabs with their counts; `compact` titles only the screen shown.
fn header_spans(app: &App, compact: bool) -> Vec<Span<'static>> {
    let mut spans = vec![Span::styled(" DevConnect ", Style::default().fg(Color::Black).bg(ACCENT))];
    if app.phase == Phase::Main {
        for (i, screen) in Screen::ALL.iter().enumerate() {
            let shown = *screen == app.screen;
            let mut title =
                if compact && !shown { format!(" {}", i + 1) } else { format!(" {} {}", i + 1, screen.title()) };
            let count = match screen {
                Screen::Chats => app.chats.partners.iter().map(|p| p.unread_count).sum::<u64>(),
                Screen::Requests => app.requests.received.len() as u64,
                Screen::Groups => app.groups.unread.values().map(|ids| ids.len() as u64).sum::<u64>(),
                _ => 0,
            };
            if count > 0 {
                title.push_str(&format!(" ({count})"));
            }
            title.push(' ');
            let style = if shown {
                Style::default().add_modifier(Modifier::REVERSED | Modifier::BOLD)
            } else {
                Style::default()
            };
            spans.push(Span::raw(" "));
            spans.push(Span::styled(title, style));
        }
    }
    spans
}

fn status_width(app: &App, status: &str) -> u16 {
    if app.phase != Phase::Main {
        return 0;
    }
    let name = app.me.as_ref().map_or(0, |m| m.profile.first_name.width() + 4);
    u16::try_from(status.width() + name).unwrap_or(u16::MAX)
}

fn render_notice(app: &App, frame: &mut Frame<'_>, area: Rect) {
    let (text, style) = if let Some(down) = &app.server_down {
        (down.clone(), Style::default().fg(Color::Red).add_modifier(Modifier::BOLD))
    } else if let Some(notice) = &app.notice {
        let style = if notice.error { Style::default().fg(Color::Red) } else { Style::default().fg(Color::Green) };
        (notice.text.clone(), style)
    } else {
        return;
    };
    frame.render_widget(Paragraph::new(Line::from(Span::styled(one_line(&text), style))), area);
}

fn render_starting(app: &App, frame: &mut Frame<'_>, area: Rect) {
    let text = match &app.server_down {
        Some(_) => format!("Waiting for the server at {}…", app.server),
        None => format!("Connecting to {}…", app.server),
    };
    let lines = wrap(&[(text, Style::default())], area.width);
    frame.render_widget(Paragraph::new(lines), area);
}

fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let width = width.min(area.width);
    let height = height.min(area.height);
    Rect { x: area.x + (area.width - width) / 2, y: area.y + (area.height - height) / 2, width, height }
}

fn render_login(app: &App, frame: &mut Frame<'_>, area: Rect) {
    let form: &LoginForm = &app.login;
    let count = form.field_count();
    let height = u16::try_from(count).unwrap_or(4) + 4;
    let boxed = centered(area, 64, height);
    let title = match form.mode {
        LoginMode::Login => " Log in ",
        LoginMode::Signup => " Sign up ",
    };
    let block = Block::default().borders(Borders::ALL).title(title).border_style(Style::default().fg(ACCENT));
    let inner = block.inner(boxed);
    frame.render_widget(Clear, boxed);
    frame.render_widget(block, boxed);
    let mut rows = vec![Constraint::Length(1); count + 2];
    rows.push(Constraint::Min(0));
    let areas = Layout::vertical(rows).split(inner);
    if let Some(server) = areas.first() {
        let line = Line::from(vec![Span::styled("Server      ", dim()), Span::raw(app.server.clone())]);
        frame.render_widget(Paragraph::new(line), *server);
    }
    for i in 0..count {
        let Some(row) = areas.get(i + 2) else { break };
        let mask = (i == 1).then_some('•');
        field(frame, *row, LoginForm::LABELS[i], &form.fields[i], mask, i == form.focus);
    }
}

/// A labelled one-line field; the focused one shows the cursor.
fn field(frame: &mut Frame<'_>, area: Rect, label: &str, input: &TextInput, mask: Option<char>, focused: bool) {
    let label_width = 12u16.min(area.width);
    let [label_area, input_area] =
        Layout::horizontal([Constraint::Length(label_width), Constraint::Min(0)]).areas(area);
    let label_style = if focused { Style::default().fg(ACCENT).add_modifier(Modifier::BOLD) } else { dim() };
    frame.render_widget(Paragraph::new(Span::styled(label.to_owned(), label_style)), label_area);
    let (shown, col) = input.view(input_area.width, mask);
    let style = if focused { Style::default().add_modifier(Modifier::UNDERLINED) } else { Style::default() };
    frame.render_widget(Paragraph::new(Span::styled(shown, style)), input_area);
    if focused && input_area.width > 0 {
        frame.set_cursor_position(Position { x: input_area.x + col, y: input_area.y });
    }
}

fn dim() -> Style {
    Style::default().fg(Color::DarkGray)
}
