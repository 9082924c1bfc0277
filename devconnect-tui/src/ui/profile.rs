//! The Profile screen: my profile, or its edit form; and a profile's lines, which the
//! Feed and Search show too.

use chrono::Local;
use devconnect_types::Profile;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use super::text::{display_name, wrap};
use super::{ACCENT, dim, field};
use crate::app::{App, ProfileForm};

pub(super) fn render_profile(app: &App, frame: &mut Frame<'_>, area: Rect) {
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
