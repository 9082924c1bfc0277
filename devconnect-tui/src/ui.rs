//! Drawing: a pure function of the [`App`] state. Text is wrapped by grapheme and display
//! width (`unicode-width`, as ratatui measures it), so wide CJK and emoji never split or
//! overflow; every size, down to a single cell, draws without panicking.

use chrono::Local;
use devconnect_types::{Message, Profile};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Position, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use unicode_segmentation::UnicodeSegmentation as _;
use unicode_width::UnicodeWidthStr as _;

use crate::app::{App, ChatFocus, LiveStatus, LoginForm, LoginMode, Phase, ProfileForm, RequestsPane, Screen};
use crate::input::TextInput;

const ACCENT: Color = Color::Cyan;

/// Draws the whole client.
pub fn render(app: &App, frame: &mut Frame<'_>) {
    let area = frame.area();
    if area.width == 0 || area.height == 0 {
        return;
    }
    let [header, body, notice, help] =
        Layout::vertical([Constraint::Length(1), Constraint::Min(0), Constraint::Length(1), Constraint::Length(1)])
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
        },
    }
    render_notice(app, frame, notice);
    let help_line = Line::from(Span::styled(help_text(app), Style::default().fg(Color::Black).bg(Color::Gray)));
    frame.render_widget(Paragraph::new(help_line).style(Style::default().bg(Color::Gray)), help);
}

/// The key help for what has focus.
#[must_use]
pub fn help_text(app: &App) -> String {
    let global = "1-4/F1-F4 screens · r refresh · L logout · q quit";
    match app.phase {
        Phase::Starting => "q quit".to_owned(),
        Phase::Login => match app.login.mode {
            LoginMode::Login => "Tab next field · Enter log in · Ctrl-N sign up instead · Esc quit".to_owned(),
            LoginMode::Signup => "Tab next field · Enter sign up · Ctrl-N log in instead · Esc quit".to_owned(),
        },
        Phase::Main => match app.screen {
            Screen::Chats if app.chats.focus == ChatFocus::Input => {
                "Enter send · ↑↓ PgUp PgDn scroll · Esc back to list · F1-F4 screens".to_owned()
            }
            Screen::Chats => format!("↑↓ select · Enter open chat · {global}"),
            Screen::Feed => format!("↑↓ select · i interested · x ignore · n/p page · {global}"),
            Screen::Requests => format!("←→ received/sent · ↑↓ select · a accept · x reject · R refresh · {global}"),
            Screen::Profile if app.profile_form.is_some() => {
                "Tab/↑↓ field · Enter save · Esc cancel · F1-F4 screens".to_owned()
            }
            Screen::Profile => format!("e edit · {global}"),
        },
    }
}

fn render_header(app: &App, frame: &mut Frame<'_>, area: Rect) {
    let mut spans = vec![Span::styled(" DevConnect ", Style::default().fg(Color::Black).bg(ACCENT))];
    if app.phase == Phase::Main {
        for (i, screen) in Screen::ALL.iter().enumerate() {
            let mut title = format!(" {} {}", i + 1, screen.title());
            let count = match screen {
                Screen::Chats => app.chats.partners.iter().map(|p| p.unread_count).sum::<u64>(),
                Screen::Requests => app.requests.received.len() as u64,
                _ => 0,
            };
            if count > 0 {
                title.push_str(&format!(" ({count})"));
            }
            title.push(' ');
            let style = if *screen == app.screen {
                Style::default().add_modifier(Modifier::REVERSED | Modifier::BOLD)
            } else {
                Style::default()
            };
            spans.push(Span::raw(" "));
            spans.push(Span::styled(title, style));
        }
    }
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
    frame.render_widget(Paragraph::new(Line::from(spans)), left);
    let mut right_spans = vec![Span::styled(status, Style::default().fg(color))];
    if let (Some(me), false) = (&app.me, narrow) {
        right_spans.push(Span::raw(format!(" · {} ", one_line(&me.profile.first_name))));
    }
    frame.render_widget(Paragraph::new(Line::from(right_spans)).right_aligned(), right);
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

// ---------- Chats ----------

fn render_chats(app: &App, frame: &mut Frame<'_>, area: Rect) {
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
            let online = chats.is_online(partner);
            let dot = if online {
                Span::styled("● ", Style::default().fg(Color::Green))
            } else {
                Span::styled("○ ", dim())
            };
            let mut name_style = Style::default();
            if i == chats.selected {
                name_style = name_style.add_modifier(if focused { Modifier::REVERSED } else { Modifier::BOLD });
            }
            let mut spans = vec![dot, Span::styled(one_line(&display_name(&partner.profile)), name_style)];
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
    let title = Line::from(vec![
        Span::raw(format!(" {} ", one_line(&name))),
        if online {
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
    if shown.is_empty() && !focused {
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

// ---------- Feed ----------

fn render_feed(app: &App, frame: &mut Frame<'_>, area: Rect) {
    let feed = &app.feed;
    let title = format!(" Feed · page {}{} ", feed.page, if feed.has_more { " ›" } else { "" });
    let block = Block::default().borders(Borders::ALL).title(title).border_style(Style::default().fg(ACCENT));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if feed.profiles.is_empty() {
        let text = if feed.loading { "Loading…" } else { "No one new to discover right now. Press r to refresh." };
        frame.render_widget(Paragraph::new(wrap(&[(text.to_owned(), dim())], inner.width)), inner);
        return;
    }
    let (list_area, detail_area) = if inner.width >= 60 {
        let [l, d] = Layout::horizontal([Constraint::Percentage(45), Constraint::Min(0)]).areas(inner);
        (l, Some(d))
    } else {
        (inner, None)
    };
    let height = usize::from(list_area.height);
    let first = feed.selected.saturating_sub(height.saturating_sub(1));
    let lines: Vec<Line<'_>> = feed
        .profiles
        .iter()
        .enumerate()
        .skip(first)
        .take(height)
        .map(|(i, p)| {
            let style =
                if i == feed.selected { Style::default().add_modifier(Modifier::REVERSED) } else { Style::default() };
            let mut spans = vec![Span::styled(one_line(&display_name(p)), style)];
            if let Some(age) = p.age {
                spans.push(Span::styled(format!(", {age}"), dim()));
            }
            if !p.skills.is_empty() {
                spans.push(Span::styled(format!(" · {}", one_line(&p.skills.join(", "))), dim()));
            }
            Line::from(spans)
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), list_area);
    if let (Some(detail), Some(profile)) = (detail_area, feed.profiles.get(feed.selected)) {
        frame.render_widget(Paragraph::new(profile_lines(profile, None, detail.width)), detail);
    }
}

fn profile_lines(p: &Profile, email: Option<&str>, width: u16) -> Vec<Line<'static>> {
    let label = |s: &str| (format!("{s:<11}"), dim());
    let mut lines = wrap(&[(display_name(p), Style::default().add_modifier(Modifier::BOLD))], width);
    if let Some(email) = email {
        lines.extend(wrap(&[label("Email"), (email.to_owned(), Style::default())], width));
    }
    let age = p.age.map(|a| a.to_string()).unwrap_or_else(|| "—".to_owned());
    lines.extend(wrap(&[label("Age"), (age, Style::default())], width));
    let gender = p.gender.map_or("—", |g| g.as_str()).to_owned();
    lines.extend(wrap(&[label("Gender"), (gender, Style::default())], width));
    let skills = if p.skills.is_empty() { "—".to_owned() } else { p.skills.join(", ") };
    lines.extend(wrap(&[label("Skills"), (skills, Style::default())], width));
    let about = if p.about.is_empty() { "—".to_owned() } else { p.about.clone() };
    lines.extend(wrap(&[label("About"), (about, Style::default())], width));
    lines
}

// ---------- Requests ----------

fn render_requests(app: &App, frame: &mut Frame<'_>, area: Rect) {
    let requests = &app.requests;
    let [received_area, sent_area] = if area.width >= 70 {
        Layout::horizontal([Constraint::Percentage(55), Constraint::Min(0)]).areas(area)
    } else {
        Layout::vertical([Constraint::Percentage(60), Constraint::Min(0)]).areas(area)
    };
    let received: Vec<Line<'static>> = requests
        .received
        .iter()
        .map(|r| {
            let mut spans = vec![Span::raw(one_line(&display_name(&r.from_user_id)))];
            if let Some(note) = &r.note {
                spans.push(Span::styled(format!(" — “{}”", one_line(note)), dim()));
            }
            Line::from(spans)
        })
        .collect();
    let sent: Vec<Line<'static>> = requests
        .sent
        .iter()
        .map(|r| {
            Line::from(vec![
                Span::raw(one_line(&display_name(&r.to_user_id))),
                Span::styled(format!(" · {}", r.status), dim()),
            ])
        })
        .collect();
    let pane = requests.pane;
    list_box(
        frame,
        received_area,
        &format!(" Received ({}) ", requests.received.len()),
        received,
        "No pending requests.",
        (pane == RequestsPane::Received).then_some(requests.selected),
    );
    list_box(
        frame,
        sent_area,
        &format!(" Sent ({}) ", requests.sent.len()),
        sent,
        "You have not sent any requests.",
        (pane == RequestsPane::Sent).then_some(requests.selected),
    );
}

fn list_box(
    frame: &mut Frame<'_>,
    area: Rect,
    title: &str,
    mut lines: Vec<Line<'static>>,
    empty: &str,
    selected: Option<usize>,
) {
    let block = Block::default().borders(Borders::ALL).title(title.to_owned()).border_style(if selected.is_some() {
        Style::default().fg(ACCENT)
    } else {
        dim()
    });
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if lines.is_empty() {
        frame.render_widget(Paragraph::new(wrap(&[(empty.to_owned(), dim())], inner.width)), inner);
        return;
    }
    let height = usize::from(inner.height);
    let mut first = 0;
    if let Some(sel) = selected {
        if let Some(line) = lines.get_mut(sel) {
            let taken = std::mem::take(line);
            *line = taken.patch_style(Style::default().add_modifier(Modifier::REVERSED));
        }
        first = sel.saturating_sub(height.saturating_sub(1));
    }
    let visible: Vec<Line<'static>> = lines.into_iter().skip(first).take(height).collect();
    frame.render_widget(Paragraph::new(visible), inner);
}

// ---------- Profile ----------

fn render_profile(app: &App, frame: &mut Frame<'_>, area: Rect) {
    let editing = app.profile_form.is_some();
    let title = if editing { " Edit profile " } else { " My profile " };
    let block = Block::default().borders(Borders::ALL).title(title).border_style(Style::default().fg(ACCENT));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    match (&app.profile_form, &app.me) {
        (Some(form), _) => render_profile_form(form, frame, inner),
        (None, Some(me)) => {
            let mut lines = profile_lines(&me.profile, Some(&me.email), inner.width);
            let since = me.profile.created_at.with_timezone(&Local).format("%Y-%m-%d").to_string();
            lines.extend(wrap(&[(format!("{:<11}", "Joined"), dim()), (since, Style::default())], inner.width));
            frame.render_widget(Paragraph::new(lines), inner);
        }
        (None, None) => frame.render_widget(Paragraph::new(Span::styled("Loading…", dim())), inner),
    }
}

fn render_profile_form(form: &ProfileForm, frame: &mut Frame<'_>, area: Rect) {
    let mut rows = vec![Constraint::Length(1); form.fields.len()];
    rows.push(Constraint::Length(1));
    rows.push(Constraint::Min(0));
    let areas = Layout::vertical(rows).split(area);
    for (i, input) in form.fields.iter().enumerate() {
        let Some(row) = areas.get(i) else { break };
        field(frame, *row, ProfileForm::LABELS[i], input, None, i == form.focus);
    }
    if let Some(hint) = areas.get(form.fields.len() + 1) {
        let text = if form.saving { "Saving…" } else { "Gender: male, female or others · Skills: comma-separated" };
        frame.render_widget(Paragraph::new(Span::styled(text, dim())), *hint);
    }
}

// ---------- text ----------

fn display_name(p: &Profile) -> String {
    format!("{} {}", p.first_name, p.last_name).trim().to_owned()
}

/// Text for one line: line breaks and other control characters become spaces.
fn one_line(s: &str) -> String {
    s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

/// Wraps styled segments into lines at most `width` columns wide, by grapheme and
/// display width: a line breaks after the last space that fits, or anywhere in a word
/// longer than the line (CJK text has no spaces); a wide character never splits;
/// newlines break lines; other control characters become spaces; a grapheme wider than
/// the whole width becomes `?`.
#[must_use]
pub fn wrap(segments: &[(String, Style)], width: u16) -> Vec<Line<'static>> {
    let width = usize::from(width);
    if width == 0 {
        return Vec::new();
    }
    let mut lines = Vec::new();
    // The current line as cells: grapheme, style, width.
    let mut cells: Vec<(&str, Style, usize)> = Vec::new();
    let mut used = 0;
    for (text, style) in segments {
        for grapheme in text.graphemes(true) {
            if grapheme == "\n" || grapheme == "\r\n" {
                lines.push(to_line(&cells));
                cells.clear();
                used = 0;
                continue;
            }
            let (g, w) = if grapheme.chars().any(char::is_control) {
                (" ", 1)
            } else {
                match grapheme.width() {
                    w if w > width => ("?", 1),
                    w => (grapheme, w),
                }
            };
            if used + w > width {
                let space = cells.iter().rposition(|c| c.0 == " ").filter(|&i| i > 0 && g != " ");
                let carried = match space {
                    Some(i) => cells.split_off(i + 1),
                    None => Vec::new(),
                };
                while cells.last().is_some_and(|c| c.0 == " ") && cells.len() > 1 {
                    cells.pop();
                }
                lines.push(to_line(&cells));
                cells = carried;
                used = cells.iter().map(|c| c.2).sum();
                if g == " " {
                    continue;
                }
            }
            cells.push((g, *style, w));
            used += w;
        }
    }
    if !cells.is_empty() {
        lines.push(to_line(&cells));
    }
    lines
}

fn to_line(cells: &[(&str, Style, usize)]) -> Line<'static> {
    let mut spans: Vec<Span<'static>> = Vec::new();
    let mut text = String::new();
    let mut style = None;
    for (g, s, _) in cells {
        if style.is_some_and(|current| current != *s) {
            spans.push(Span::styled(std::mem::take(&mut text), style.unwrap_or_default()));
        }
        style = Some(*s);
        text.push_str(g);
    }
    if !text.is_empty() {
        spans.push(Span::styled(text, style.unwrap_or_default()));
    }
    Line::from(spans)
}
