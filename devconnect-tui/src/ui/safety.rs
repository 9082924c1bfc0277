//! The trust-and-safety dialogs, drawn over the screen that opened them: the question
//! before a block, and the report picker (what, the reason, optional details).

use devconnect_types::ReportReason;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Position, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use unicode_width::UnicodeWidthStr as _;

use super::text::{one_line, wrap};
use super::{centered, dim, field};
use crate::app::{App, BlockConfirm, ReportForm, ReportTarget, reason_label};

const WARNING: Color = Color::Red;

/// Draws the open dialog, if any, centred on `area`.
pub(super) fn render_dialog(app: &App, frame: &mut Frame<'_>, area: Rect) {
    if let Some(form) = &app.safety.report {
        render_report(form, frame, area);
    } else if let Some(confirm) = &app.safety.confirm {
        render_confirm(confirm, frame, area);
    }
}

fn render_confirm(confirm: &BlockConfirm, frame: &mut Frame<'_>, area: Rect) {
    let width = 64.min(area.width);
    let text = "Your connection and any pending request between you are removed. Neither of you can \
                message the other or send a request, and their messages in groups stop reaching you. \
                Unblocking later brings nothing back.";
    let inner_width = width.saturating_sub(2);
    let mut lines = wrap(&[(text.to_owned(), Style::default())], inner_width);
    lines.push(Line::default());
    let keys = if confirm.busy { "blocking…" } else { "y block · n cancel" };
    let keys_row = lines.len();
    lines.push(Line::from(Span::styled(keys, Style::default().add_modifier(Modifier::BOLD))));
    let height = u16::try_from(lines.len()).unwrap_or(u16::MAX).saturating_add(2);
    let boxed = centered(area, width, height);
    let title = format!(" Block {}? ", one_line(&confirm.name));
    let block = Block::default().borders(Borders::ALL).title(title).border_style(Style::default().fg(WARNING));
    let inner = block.inner(boxed);
    frame.render_widget(Clear, boxed);
    frame.render_widget(block, boxed);
    frame.render_widget(Paragraph::new(lines), inner);
    // The cursor waits after the keys, not in the input behind the question.
    let row = u16::try_from(keys_row).unwrap_or(u16::MAX);
    let col = u16::try_from(keys.width() + 1).unwrap_or(u16::MAX);
    if row < inner.height && col < inner.width {
        frame.set_cursor_position(Position { x: inner.x + col, y: inner.y + row });
    }
}

/// What the picker names: a message with its text.
fn target_text(target: &ReportTarget) -> String {
    match target {
        ReportTarget::Message { text, .. } => format!("{}: “{}”", target.describe(), one_line(text)),
        _ => one_line(&target.describe()),
    }
}

fn render_report(form: &ReportForm, frame: &mut Frame<'_>, area: Rect) {
    let reasons = ReportReason::ALL.len();
    let height = u16::try_from(reasons).unwrap_or(5) + 4;
    let boxed = centered(area, 64, height);
    let title = if form.busy { " Report · sending… " } else { " Report " };
    let block = Block::default().borders(Borders::ALL).title(title).border_style(Style::default().fg(WARNING));
    let inner = block.inner(boxed);
    frame.render_widget(Clear, boxed);
    frame.render_widget(block, boxed);
    let mut rows = vec![Constraint::Length(1); reasons + 2];
    rows.push(Constraint::Min(0));
    let areas = Layout::vertical(rows).split(inner);
    let label = |s: &str| Span::styled(format!("{s:<12}"), dim());

    if let (Some(row), Some(target)) = (areas.first(), form.chosen()) {
        let mut spans = vec![label("About"), Span::raw(target_text(target))];
        if form.targets.len() > 1 {
            spans.push(Span::styled(format!("  ({} of {}, Tab)", form.target + 1, form.targets.len()), dim()));
        }
        frame.render_widget(Paragraph::new(Line::from(spans)), *row);
    }
    for (i, reason) in ReportReason::ALL.iter().enumerate() {
        let Some(row) = areas.get(i + 1) else { break };
        let chosen = i == form.reason;
        let mark = if chosen { "(•) " } else { "( ) " };
        let style = if chosen { Style::default().add_modifier(Modifier::REVERSED) } else { Style::default() };
        let line = Line::from(vec![
            label(if i == 0 { "Reason" } else { "" }),
            Span::styled(format!("{mark}{}", reason_label(*reason)), style),
        ]);
        frame.render_widget(Paragraph::new(line), *row);
    }
    if let Some(row) = areas.get(reasons + 1) {
        field(frame, *row, "Details", &form.details, None, true);
    }
}
