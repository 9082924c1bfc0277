//! The Requests screen: received requests beside the sent ones and the people I
//! blocked (stacked on a narrow terminal).

use chrono::Local;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use super::text::{display_name, one_line, wrap};
use super::{ACCENT, dim};
use crate::app::{App, RequestsPane};

pub(super) fn render_requests(app: &App, frame: &mut Frame<'_>, area: Rect) {
    let requests = &app.requests;
    let [received_area, sent_area, blocked_area] = if area.width >= 70 {
        let [left, right] = Layout::horizontal([Constraint::Percentage(55), Constraint::Min(0)]).areas(area);
        let [sent, blocked] = Layout::vertical([Constraint::Percentage(50), Constraint::Min(0)]).areas(right);
        [left, sent, blocked]
    } else {
        Layout::vertical([Constraint::Percentage(40), Constraint::Percentage(30), Constraint::Min(0)]).areas(area)
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
    let blocked: Vec<Line<'static>> = app
        .safety
        .blocked
        .iter()
        .map(|b| {
            let since = b.blocked_at.with_timezone(&Local).format("%Y-%m-%d").to_string();
            Line::from(vec![
                Span::raw(one_line(&display_name(&b.user))),
                Span::styled(format!(" · since {since}"), dim()),
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
    list_box(
        frame,
        blocked_area,
        &format!(" Blocked ({}) ", app.safety.blocked.len()),
        blocked,
        "You have blocked no one.",
        (pane == RequestsPane::Blocked).then_some(requests.selected),
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
