//! The Chats screen: the partner list and the open conversation, scrolled from the
//! bottom (drawing records how far up it can go, for the scroll keys). Someone I blocked
//! stays while we have history, marked `⊘ blocked`.

use chrono::Local;
use devconnect_types::Message;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Position, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use super::text::{display_name, one_line, wrap};
use super::{ACCENT, dim};
use crate::app::{App, ChatFocus};

pub(super) fn render_chats(app: &App, frame: &mut Frame<'_>, area: Rect) {
    let chats = &app.chats;
    let show_conversation = chats.open.is_some();
    if area.width >= 50 {
        let list_width = (area.width / 3).clamp(20, 32);
        let [list, conversation] = Layout::horizontal([Constraint::Length(list_width), Constraint::Min(0)]).areas(area);
        render_partners(app, frame, list);
        render_conversation(app, frame, conversation);
    } else if show_conversation && chats.focus == ChatFocus::Input {
        render_conversation(app, frame, area);
    } else {
        render_partners(app, frame, area);
    }
}

fn render_partners(app: &App, frame: &mut Frame<'_>, area: Rect) {
    let chats = &app.chats;
    let focused = chats.focus == ChatFocus::List;
    let block = Block::default().borders(Borders::ALL).title(" Chats ").border_style(if focused {
        Style::default().fg(ACCENT)
    } else {
        dim()
    });
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if chats.partners.is_empty() {
        let text = "No chats yet. Find developers in the Feed (2) and accept requests (3).";
        frame.render_widget(Paragraph::new(wrap(&[(text.to_owned(), dim())], inner.width)), inner);
        return;
    }
    let height = usize::from(inner.height);
    let first = chats.selected.saturating_sub(height.saturating_sub(1));
    let lines: Vec<Line<'_>> = chats
        .partners
        .iter()
        .enumerate()
        .skip(first)
        .take(height)
        .map(|(i, partner)| {
            let blocked = app.safety.is_blocked(partner.profile.id);
            let dot = if blocked {
                Span::styled("⊘ ", Style::default().fg(Color::Red))
            } else if chats.is_online(partner) {
                Span::styled("● ", Style::default().fg(Color::Green))
            } else {
                Span::styled("○ ", dim())
            };
            let mut name_style = Style::default();
            if i == chats.selected {
                name_style = name_style.add_modifier(if focused { Modifier::REVERSED } else { Modifier::BOLD });
            }
            let mut spans = vec![dot, Span::styled(one_line(&display_name(&partner.profile)), name_style)];
            if blocked {
                spans.push(Span::styled(" · blocked", dim()));
            }
            if chats.typing.contains_key(&partner.profile.id) {
                spans.push(Span::styled(" ✎", Style::default().fg(Color::Yellow)));
            }
            if partner.unread_count > 0 {
                spans.push(Span::styled(
                    format!(" ({})", partner.unread_count),
                    Style::default().fg(Color::Yellow).add_modifier(Modifier::BOLD),
                ));
            }
            Line::from(spans)
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
}

fn render_conversation(app: &App, frame: &mut Frame<'_>, area: Rect) {
    let chats = &app.chats;
    let Some(open) = &chats.open else {
        let block = Block::default().borders(Borders::ALL).border_style(dim());
        let inner = block.inner(area);
        frame.render_widget(block, area);
        let text = "Select a chat and press Enter.";
        frame.render_widget(Paragraph::new(wrap(&[(text.to_owned(), dim())], inner.width)), inner);
        return;
    };
    let partner = chats.open_partner();
    let name = partner.map_or_else(|| "…".to_owned(), |p| display_name(&p.profile));
    let online = partner.is_some_and(|p| chats.is_online(p));
    let blocked = app.safety.is_blocked(open.with);
    let title = Line::from(vec![
        Span::raw(format!(" {} ", one_line(&name))),
        if blocked {
            Span::styled("⊘ blocked ", Style::default().fg(Color::Red))
        } else if online {
            Span::styled("● online ", Style::default().fg(Color::Green))
        } else {
            Span::styled("○ offline ", dim())
        },
    ]);
    let focused = chats.focus == ChatFocus::Input;
    let block = Block::default().borders(Borders::ALL).title(title).border_style(if focused {
        Style::default().fg(ACCENT)
    } else {
        dim()
    });
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let [messages_area, typing_area, input_area] =
        Layout::vertical([Constraint::Min(0), Constraint::Length(1), Constraint::Length(1)]).areas(inner);

    let me = app.my_id();
    let first_name = partner.map_or_else(|| "Them".to_owned(), |p| p.profile.first_name.clone());
    let mut lines: Vec<Line<'static>> = Vec::new();
    if open.has_older {
        let hint = if open.loading { "loading older messages…" } else { "PgUp: older messages" };
        lines.extend(wrap(&[(format!("── {hint} ──"), dim())], messages_area.width));
    }
    if open.messages.is_empty() && open.pending.is_empty() {
        let text = if open.loading { "Loading…" } else { "No messages yet. Say hello!" };
        lines.extend(wrap(&[(text.to_owned(), dim())], messages_area.width));
    }
    for message in &open.messages {
        let mine = Some(message.sender_id) == me;
        lines.extend(message_lines(message, mine, &first_name, messages_area.width));
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
            messages_area.width,
        ));
    }
    let height = usize::from(messages_area.height);
    let max_scroll = lines.len().saturating_sub(height);
    chats.max_scroll.set(max_scroll);
    let scroll = open.scroll.min(max_scroll);
    let start = lines.len().saturating_sub(height + scroll);
    // The newest message sits just above the input, as in any chat.
    let mut visible: Vec<Line<'static>> = vec![Line::default(); height.saturating_sub(lines.len())];
    visible.extend(lines.into_iter().skip(start).take(height));
    frame.render_widget(Paragraph::new(visible), messages_area);

    if partner.is_some_and(|p| chats.typing.contains_key(&p.profile.id)) {
        let text = format!("{} is typing…", one_line(&first_name));
        let style = Style::default().fg(Color::Yellow).add_modifier(Modifier::ITALIC);
        frame.render_widget(Paragraph::new(Span::styled(text, style)), typing_area);
    } else if scroll > 0 {
        frame.render_widget(Paragraph::new(Span::styled(format!("↓ {scroll} more lines (PgDn)"), dim())), typing_area);
    }

    let prompt = "> ";
    let [prompt_area, text_area] =
        Layout::horizontal([Constraint::Length(2.min(input_area.width)), Constraint::Min(0)]).areas(input_area);
    frame.render_widget(Paragraph::new(Span::styled(prompt, Style::default().fg(ACCENT))), prompt_area);
    let (shown, col) = chats.input.view(text_area.width, None);
    if shown.is_empty() && blocked {
        let hint = "you blocked them: Requests (3) › Blocked to unblock";
        frame.render_widget(Paragraph::new(Span::styled(hint, dim())), text_area);
    } else if shown.is_empty() && !focused {
        frame.render_widget(Paragraph::new(Span::styled("press Enter to write", dim())), text_area);
    } else {
        frame.render_widget(Paragraph::new(shown), text_area);
    }
    if focused && text_area.width > 0 && text_area.height > 0 {
        frame.set_cursor_position(Position { x: text_area.x + col, y: text_area.y });
    }
}

fn message_lines(message: &Message, mine: bool, their_name: &str, width: u16) -> Vec<Line<'static>> {
    let time = message.created_at.with_timezone(&Local).format("%H:%M").to_string();
    let (name, color) = if mine { ("You".to_owned(), ACCENT) } else { (one_line(their_name), Color::Magenta) };
    let mut segments = vec![
        (format!("{time} "), dim()),
        (format!("{name}: "), Style::default().fg(color).add_modifier(Modifier::BOLD)),
        (message.text.clone(), Style::default()),
    ];
    if let Some(image) = &message.image {
        segments.push((format!(" [image: {image}]"), dim()));
    }
    if mine && message.read_at.is_some() {
        segments.push((" ✓✓".to_owned(), Style::default().fg(Color::Green)));
    }
    wrap(&segments, width)
}
