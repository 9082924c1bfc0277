//! The Groups screen: my groups beside the opened group's members (one or the other on
//! a narrow terminal), and under them the create form or the join input while open.

use devconnect_types::{MyGroup, Visibility};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

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
    if main.width >= 60 {
        let [list, members] = Layout::horizontal([Constraint::Percentage(50), Constraint::Min(0)]).areas(main);
        render_list(app, frame, list);
        render_members(app, frame, members);
    } else if groups.open.is_some() {
        render_members(app, frame, main);
    } else {
        render_list(app, frame, main);
    }
    if let Some(form) = &groups.form {
        render_form(form, frame, input);
    } else if let Some(join) = &groups.join {
        render_join(join, frame, input);
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
    let focused = groups.open.is_none() && !groups.typing();
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
        let text = "Select a group and press Enter to see its members.";
        frame.render_widget(Paragraph::new(wrap(&[(text.to_owned(), dim())], inner.width)), inner);
        return;
    };
    let name = groups.open_group().map_or_else(|| "…".to_owned(), |g| one_line(&g.group.name));
    let block = Block::default()
        .borders(Borders::ALL)
        .title(format!(" {name} · members ({}) ", open.members.len()))
        .border_style(Style::default().fg(ACCENT));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let mut lines = wrap(&[("id ".to_owned(), dim()), (open.id.to_string(), Style::default())], inner.width);
    if open.members.is_empty() {
        let text = if open.loading { "Loading…" } else { "No members." };
        lines.extend(wrap(&[(text.to_owned(), dim())], inner.width));
    }
    for member in &open.members {
        let who = app.known_name(member.user_id).map_or_else(|| member.user_id.to_string(), |n| one_line(&n));
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
    let focused = form.focus == GroupField::Visibility;
    let label_style = if focused { Style::default().fg(ACCENT).add_modifier(Modifier::BOLD) } else { dim() };
    let choice = |v: Visibility| {
        let mark = if form.visibility == v { "(•) " } else { "( ) " };
        let style = if form.visibility == v && focused {
            Style::default().add_modifier(Modifier::REVERSED)
        } else {
            Style::default()
        };
        Span::styled(format!("{mark}{}", v.as_str()), style)
    };
    let line = Line::from(vec![
        Span::styled(format!("{:<12}", "Visibility"), label_style),
        choice(Visibility::Public),
        Span::raw("  "),
        choice(Visibility::Private),
    ]);
    frame.render_widget(Paragraph::new(line), visibility_row);
}

fn render_join(join: &JoinInput, frame: &mut Frame<'_>, area: Rect) {
    let title = if join.busy { " Join a public group · joining… " } else { " Join a public group " };
    let block = Block::default().borders(Borders::ALL).title(title).border_style(Style::default().fg(ACCENT));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    field(frame, inner, "Group id", &join.id, None, true);
}
