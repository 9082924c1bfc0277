//! The Profile screen: my profile, or its edit form, above my push notification
//! settings; and a profile's lines, which the Feed and Search show too.

use chrono::Local;
use devconnect_types::Profile;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use super::text::{display_name, wrap};
use super::{ACCENT, dim, field};
use crate::app::{App, ProfileForm, PushOption};

pub(super) fn render_profile(app: &App, frame: &mut Frame<'_>, area: Rect) {
    // The settings box keeps its full height (four rows and borders) while it fits
    // under a few lines of the profile.
    let push_height = if area.height >= 12 { 6 } else { 0 };
    let [area, push] = Layout::vertical([Constraint::Min(0), Constraint::Length(push_height)]).areas(area);
    render_push(app, frame, push);
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

/// My push notification settings: a checkbox per kind, the selected one marked while
/// the profile form is closed (it then has the keys).
fn render_push(app: &App, frame: &mut Frame<'_>, area: Rect) {
    if area.height == 0 {
        return;
    }
    let block = Block::default().borders(Borders::ALL).title(" Push notifications while offline ");
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let state = &app.push;
    let lines = match &state.settings {
        _ if state.unavailable => vec![Line::from(Span::styled("This server sends no push notifications.", dim()))],
        None if state.busy => vec![Line::from(Span::styled("Loading…", dim()))],
        None => vec![Line::from(Span::styled("Not loaded: press r to load.", dim()))],
        Some(settings) => PushOption::ALL
            .iter()
            .enumerate()
            .map(|(i, option)| {
                let selected = i == state.selected && app.profile_form.is_none();
                let mark = if option.is_on(settings) { "[x]" } else { "[ ]" };
                let mut label = option.label().to_owned();
                if *option == PushOption::Groups && !settings.muted_groups.is_empty() {
                    label.push_str(&format!(" ({} muted)", settings.muted_groups.len()));
                }
                let style =
                    if selected { Style::default().fg(ACCENT).add_modifier(Modifier::BOLD) } else { Style::default() };
                Line::from(vec![
                    Span::styled(if selected { "› " } else { "  " }, style),
                    Span::styled(format!("{mark} {label}"), style),
                ])
            })
            .collect(),
    };
    frame.render_widget(Paragraph::new(lines), inner);
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

pub(super) fn profile_lines(p: &Profile, email: Option<&str>, width: u16) -> Vec<Line<'static>> {
    let label = |s: &str| (format!("{s:<11}"), dim());
    let mut lines = wrap(&[(display_name(p), Style::default().add_modifier(Modifier::BOLD))], width);
    if let Some(email) = email {
        lines.extend(wrap(&[label("Email"), (email.to_owned(), Style::default())], width));
    }
    let age = p.age.map(|a| a.to_string()).unwrap_or_else(|| "—".to_owned());
    lines.extend(wrap(&[label("Age"), (age, Style::default())], width));
    let gender = p.gender.map_or("—", |g| g.as_str()).to_owned();
    lines.extend(wrap(&[label("Gender"), (gender, Style::default())], width));
    let location = p.location.as_deref().filter(|l| !l.is_empty()).unwrap_or("—").to_owned();
    lines.extend(wrap(&[label("Location"), (location, Style::default())], width));
    let years = p.experience_years.map_or_else(|| "—".to_owned(), |y| format!("{y} years"));
    lines.extend(wrap(&[label("Experience"), (years, Style::default())], width));
    let skills = if p.skills.is_empty() { "—".to_owned() } else { p.skills.join(", ") };
    lines.extend(wrap(&[label("Skills"), (skills, Style::default())], width));
    let about = if p.about.is_empty() { "—".to_owned() } else { p.about.clone() };
    lines.extend(wrap(&[label("About"), (about, Style::default())], width));
    lines
}
