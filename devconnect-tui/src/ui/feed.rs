//! The Feed screen: the page of profiles and the selected one in full.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use super::profile::profile_lines;
use super::text::{display_name, one_line, wrap};
use super::{ACCENT, dim};
use crate::app::App;

pub(super) fn render_feed(app: &App, frame: &mut Frame<'_>, area: Rect) {
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
