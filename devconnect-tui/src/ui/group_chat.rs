//! The open group's conversation: each message under its sender's name, system messages
//! as sentences, scrolled from the bottom like a 1:1 chat (drawing records how far up
//! it can go, for the scroll keys), who is typing, and the input line; above them, when
//! asked for, the group's details.

use chrono::Local;
use devconnect_types::{GroupMessage, MyGroup};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Position, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use super::text::{one_line, wrap};
use super::{ACCENT, dim};
use crate::app::App;

pub(super) fn render_group_chat(app: &App, frame: &mut Frame<'_>, area: Rect) {
    let groups = &app.groups;
    let Some(open) = &groups.open else {
        return;
    };
    let name = groups.open_group().map_or_else(|| "…".to_owned(), |g| one_line(&g.group.name));
    let focused = groups.writing();
    let block = Block::default().borders(Borders::ALL).title(format!(" {name} ")).border_style(if focused {
        Style::default().fg(ACCENT)
    } else {
        dim()
    });
    let mut inner = block.inner(area);
    frame.render_widget(block, area);
    if let (true, Some(group)) = (groups.details, groups.open_group()) {
        // At most half the height, so the conversation and its input stay usable.
        let mut lines = details_lines(app, group, inner.width);
        lines.truncate(usize::from(inner.height / 2).saturating_sub(1));
        lines.push(Line::from(Span::styled("─".repeat(usize::from(inner.width)), dim())));
        let height = u16::try_from(lines.len()).unwrap_or(u16::MAX).min(inner.height);
        let [details_area, rest] = Layout::vertical([Constraint::Length(height), Constraint::Min(0)]).areas(inner);
        frame.render_widget(Paragraph::new(lines), details_area);
        inner = rest;
    }
    let [messages_area, typing_area, input_area] =
        Layout::vertical([Constraint::Min(0), Constraint::Length(1), Constraint::Length(1)]).areas(inner);

    let width = messages_area.width;
    let mut lines: Vec<Line<'static>> = Vec::new();
    if open.has_older {
        let hint = if open.history_loading { "loading older messages…" } else { "PgUp: older messages" };
        lines.extend(wrap(&[(format!("── {hint} ──"), dim())], width));
    }
    if open.messages.is_empty() && open.pending.is_empty() {
        let text = if open.history_loading { "Loading…" } else { "No messages yet. Say hello!" };
        lines.extend(wrap(&[(text.to_owned(), dim())], width));
    }
    for message in &open.messages {
        lines.extend(message_lines(app, message, width));
    }
    for pending in &open.pending {
        let status = match &pending.failed {
            Some(why) => (format!(" (not sent: {why})"), Style::default().fg(Color::Red)),
            None => (" (sending…)".to_owned(), dim()),
        };
        lines.extend(wrap(
            &[
                ("      You: ".to_owned(), Style::default().fg(ACCENT).add_modifier(Modifier::BOLD)),
                (pending.text.clone(), Style::default()),
                status,
            ],
            width,
        ));
    }
    let height = usize::from(messages_area.height);
    let max_scroll = lines.len().saturating_sub(height);
    groups.max_scroll.set(max_scroll);
    let scroll = open.scroll.min(max_scroll);
    let start = lines.len().saturating_sub(height + scroll);
    let mut visible: Vec<Line<'static>> = vec![Line::default(); height.saturating_sub(lines.len())];
    visible.extend(lines.into_iter().skip(start).take(height));
    frame.render_widget(Paragraph::new(visible), messages_area);

    let typing = app.typing_in(open.id);
    if !typing.is_empty() {
        let text = match typing.as_slice() {
            [one] => format!("{} is typing…", one_line(one)),
            [a, b] => format!("{} and {} are typing…", one_line(a), one_line(b)),
            many => format!("{} people are typing…", many.len()),
        };
        let style = Style::default().fg(Color::Yellow).add_modifier(Modifier::ITALIC);
        frame.render_widget(Paragraph::new(Span::styled(text, style)), typing_area);
    } else if scroll > 0 {
        frame.render_widget(Paragraph::new(Span::styled(format!("↓ {scroll} more lines (PgDn)"), dim())), typing_area);
    }

    let [prompt_area, text_area] =
        Layout::horizontal([Constraint::Length(2.min(input_area.width)), Constraint::Min(0)]).areas(input_area);
    frame.render_widget(Paragraph::new(Span::styled("> ", Style::default().fg(ACCENT))), prompt_area);
    let (shown, col) = groups.input.view(text_area.width, None);
    if shown.is_empty() && !focused {
        frame.render_widget(Paragraph::new(Span::styled("press Enter to write", dim())), text_area);
    } else {
        frame.render_widget(Paragraph::new(shown), text_area);
    }
    if focused && text_area.width > 0 && text_area.height > 0 {
        frame.set_cursor_position(Position { x: text_area.x + col, y: text_area.y });
    }
}

fn message_lines(app: &App, message: &GroupMessage, width: u16) -> Vec<Line<'static>> {
    let time = message.created_at.with_timezone(&Local).format("%H:%M").to_string();
    if let Some(sentence) = app.change_sentence(message) {
        let style = dim().add_modifier(Modifier::ITALIC);
        return wrap(&[(format!("{time} "), dim()), (format!("· {}", one_line(&sentence)), style)], width);
    }
    let mine = app.my_id() == Some(message.sender_id);
    let color = if mine { ACCENT } else { Color::Magenta };
    let mut segments = vec![
        (format!("{time} "), dim()),
        (
            format!("{}: ", one_line(&app.member_label(message.sender_id))),
            Style::default().fg(color).add_modifier(Modifier::BOLD),
        ),
        (message.text.clone(), Style::default()),
    ];
    if let Some(image) = &message.image {
        segments.push((format!(" [image: {image}]"), dim()));
    }
    wrap(&segments, width)
}

/// The group's details as a terminal can show them: its photo as a URL (an absolute one,
/// to open elsewhere), "no photo" without one.
pub(super) fn details_lines(app: &App, g: &MyGroup, width: u16) -> Vec<Line<'static>> {
    let label = |s: &str| (format!("{s:<12}"), dim());
    let none = |s: &str| (s.to_owned(), dim().add_modifier(Modifier::ITALIC));
    let description = if g.group.description.trim().is_empty() {
        none("no description")
    } else {
        (g.group.description.clone(), Style::default())
    };
    let members =
        if g.group.member_count == 1 { "1 member".to_owned() } else { format!("{} members", g.group.member_count) };
    let about = format!("{} · {members} · you are {}", g.group.visibility.as_str(), g.role);
    let tags = if g.group.tags.is_empty() { none("no tags") } else { (g.group.tags.join(", "), Style::default()) };
    let photo = match &g.group.photo_url {
        Some(url) if url.starts_with('/') => (format!("{}{url}", app.server.trim_end_matches('/')), Style::default()),
        Some(url) => (url.clone(), Style::default()),
        None => none("no photo"),
    };
    let mut lines = wrap(&[label("Description"), description], width);
    lines.extend(wrap(&[label("Visibility"), (about, Style::default())], width));
    lines.extend(wrap(&[label("Tags"), tags], width));
    lines.extend(wrap(&[label("Photo"), photo], width));
    lines
}
