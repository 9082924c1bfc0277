//! The Groups screen: my groups beside the open group's conversation and, when there is
//! room, its members (on a narrow terminal the list or, while writing, the
//! conversation), and under them the create form or the join input while open; the edit
//! form over them all.

use devconnect_types::MyGroup;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use super::group_chat::render_group_chat;
use super::group_edit::{render_group_edit, render_visibility};
use super::text::{one_line, wrap};
use super::{ACCENT, dim, field};
use crate::app::{App, GroupField, GroupForm, JoinInput};

pub(super) fn render_groups(app: &App, frame: &mut Frame<'_>, area: Rect) {
    let groups = &app.groups;
    let input_height = match (&groups.form, &groups.join) {
        (Some(_), _) => 4,
        (None, Some(_)) => 3,
        (None, None) => 0,
    };
    let [main, input] = Layout::vertical([Constraint::Min(0), Constraint::Length(input_height)]).areas(area);
    if main.width >= 60 && groups.open.is_some() {
        let list_width = (main.width / 3).clamp(24, 40);
        let [list, right] = Layout::horizontal([Constraint::Length(list_width), Constraint::Min(0)]).areas(main);
        render_list(app, frame, list);
        if right.width >= 80 {
            // 30 columns: the group's id (24) fits on one line, to be copied.
            let [chat, members] = Layout::horizontal([Constraint::Min(0), Constraint::Length(30)]).areas(right);
            render_group_chat(app, frame, chat);
            render_members(app, frame, members);
        } else {
            render_group_chat(app, frame, right);
        }
    } else if main.width >= 60 {
        let [list, members] = Layout::horizontal([Constraint::Percentage(50), Constraint::Min(0)]).areas(main);
        render_list(app, frame, list);
        render_members(app, frame, members);
    } else if groups.writing() {
        render_group_chat(app, frame, main);
    } else {
        render_list(app, frame, main);
    }
    if let Some(form) = &groups.form {
        render_form(form, frame, input);
    } else if let Some(join) = &groups.join {
        render_join(join, frame, input);
    }
    if let Some(form) = &groups.edit {
        let name =
            groups.groups.iter().find(|g| g.group.id == form.group).map_or("the group", |g| g.group.name.as_str());
        render_group_edit(form, name, frame, area);
    }
}

fn group_line(g: &MyGroup) -> Vec<Span<'static>> {
    let members =
        if g.group.member_count == 1 { "1 member".to_owned() } else { format!("{} members", g.group.member_count) };
    let mut details = format!(" · {} · {members} · {}", g.role, g.group.visibility.as_str());
    if g.group.archived {
        details.push_str(" · archived");
    }
    vec![Span::raw(one_line(&g.group.name)), Span::styled(details, dim())]
}

fn render_list(app: &App, frame: &mut Frame<'_>, area: Rect) {
    let groups = &app.groups;
    let focused = !groups.typing();
    let block = Block::default()
        .borders(Borders::ALL)
        .title(format!(" My groups ({}) ", groups.groups.len()))
        .border_style(if focused { Style::default().fg(ACCENT) } else { dim() });
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if groups.groups.is_empty() {
        let text = if groups.loading {
            "Loading…"
        } else {
            "You are in no group yet. Press n to create one, or j to join a public one by its id."
        };
        frame.render_widget(Paragraph::new(wrap(&[(text.to_owned(), dim())], inner.width)), inner);
        return;
    }
    let height = usize::from(inner.height);
    let first = groups.selected.saturating_sub(height.saturating_sub(1));
    let lines: Vec<Line<'static>> = groups
        .groups
        .iter()
        .enumerate()
        .skip(first)
        .take(height)
        .map(|(i, g)| {
            let mut spans = group_line(g);
            if i == groups.selected {
                let modifier = if focused { Modifier::REVERSED } else { Modifier::BOLD };
                spans[0] = spans[0].clone().style(Style::default().add_modifier(modifier));
            }
            let mut marks = Vec::new();
            if groups.someone_typing(g.group.id) {
                marks.push(Span::styled(" ✎", Style::default().fg(Color::Yellow)));
            }
            let unread = groups.unread_count(g.group.id);
            if unread > 0 {
                marks.push(Span::styled(
                    format!(" ({unread})"),
                    Style::default().fg(Color::Yellow).add_modifier(Modifier::BOLD),
                ));
            }
            spans.splice(1..1, marks);
            Line::from(spans)
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
}

fn render_members(app: &App, frame: &mut Frame<'_>, area: Rect) {
    let groups = &app.groups;
    let Some(open) = &groups.open else {
        let block = Block::default().borders(Borders::ALL).title(" Members ").border_style(dim());
        let inner = block.inner(area);
        frame.render_widget(block, area);
        let text = "Select a group and press Enter to open its conversation.";
        frame.render_widget(Paragraph::new(wrap(&[(text.to_owned(), dim())], inner.width)), inner);
        return;
    };
    let name = groups.open_group().map_or_else(|| "…".to_owned(), |g| one_line(&g.group.name));
    let block = Block::default()
        .borders(Borders::ALL)
        .title(format!(" {name} · members ({}) ", open.members.len()))
        .border_style(dim());
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let mut lines = wrap(&[("id ".to_owned(), dim()), (open.id.to_string(), Style::default())], inner.width);
    if open.members.is_empty() {
        let text = if open.loading { "Loading…" } else { "No members." };
        lines.extend(wrap(&[(text.to_owned(), dim())], inner.width));
    }
    for member in &open.members {
        let who = one_line(&app.known_name(member.user_id).unwrap_or_else(|| app.member_label(member.user_id)));
        lines.extend(wrap(&[(who, Style::default()), (format!(" · {}", member.role), dim())], inner.width));
    }
    let visible: Vec<Line<'static>> = lines.into_iter().take(usize::from(inner.height)).collect();
    frame.render_widget(Paragraph::new(visible), inner);
}

fn render_form(form: &GroupForm, frame: &mut Frame<'_>, area: Rect) {
    let title = if form.saving { " New group · creating… " } else { " New group " };
    let block = Block::default().borders(Borders::ALL).title(title).border_style(Style::default().fg(ACCENT));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let [name_row, visibility_row] = Layout::vertical([Constraint::Length(1), Constraint::Length(1)]).areas(inner);
    field(frame, name_row, "Name", &form.name, None, form.focus == GroupField::Name);
    render_visibility(form.visibility, form.focus == GroupField::Visibility, frame, visibility_row);
}

fn render_join(join: &JoinInput, frame: &mut Frame<'_>, area: Rect) {
    let title = if join.busy { " Join a public group · joining… " } else { " Join a public group " };
    let block = Block::default().borders(Borders::ALL).title(title).border_style(Style::default().fg(ACCENT));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    field(frame, inner, "Group id", &join.id, None, true);
}
