//! The group edit form, drawn over the Groups screen: a row per field, the server's
//! refusal in red under the field it names (or at the bottom when it is about the whole
//! form), and a line of hints.

use devconnect_types::Visibility;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use super::text::{one_line, wrap};
use super::{ACCENT, centered, dim, field};
use crate::app::{EditError, EditField, GroupEditForm};

const WIDTH: u16 = 72;

/// The refusal, wrapped under the labels' column (a media refusal with its code is wider
/// than the form).
fn error_lines(error: &EditError, width: u16) -> Vec<Line<'static>> {
    let failure = &error.failure;
    let text = if failure.code.is_empty() {
        format!("⚠ {}", one_line(&failure.message))
    } else {
        format!("⚠ {} ({})", one_line(&failure.message), failure.code)
    };
    let indent = 12u16.min(width);
    wrap(&[(text, Style::default().fg(Color::Red))], width - indent)
        .into_iter()
        .map(|line| {
            let mut spans = vec![Span::raw(" ".repeat(usize::from(indent)))];
            spans.extend(line.spans);
            Line::from(spans)
        })
        .collect()
}

pub(super) fn render_group_edit(form: &GroupEditForm, name: &str, frame: &mut Frame<'_>, area: Rect) {
    let inner_width = WIDTH.min(area.width).saturating_sub(2);
    let errors = form.error.as_ref().map(|e| (e.field, error_lines(e, inner_width)));
    let error_height = errors.as_ref().map_or(0, |(_, lines)| lines.len());
    // Fields, then a blank row and the hints, and the error's rows.
    let rows = EditField::ALL.len() + 2 + error_height;
    let height = u16::try_from(rows).unwrap_or(u16::MAX).saturating_add(2);
    let boxed = centered(area, WIDTH, height);
    let title = if form.saving {
        format!(" Edit {} · saving… ", one_line(name))
    } else {
        format!(" Edit {} ", one_line(name))
    };
    let block = Block::default().borders(Borders::ALL).title(title).border_style(Style::default().fg(ACCENT));
    let inner = block.inner(boxed);
    frame.render_widget(Clear, boxed);
    frame.render_widget(block, boxed);
    // Rows from the top; whatever does not fit in a small terminal is left out.
    let mut y = inner.y;
    let bottom = inner.y.saturating_add(inner.height);
    let mut take = |count: usize| {
        let count = u16::try_from(count).unwrap_or(u16::MAX).min(bottom.saturating_sub(y));
        let row = Rect { x: inner.x, y, width: inner.width, height: count };
        y = y.saturating_add(count);
        row
    };
    let draw_error = |frame: &mut Frame<'_>, row: Rect| {
        if let Some((_, lines)) = &errors {
            frame.render_widget(Paragraph::new(lines.clone()), row);
        }
    };
    for f in EditField::ALL {
        let row = take(1);
        if row.height == 0 {
            return;
        }
        let focused = form.focus == f;
        match f {
            EditField::Name => field(frame, row, f.label(), &form.name, None, focused),
            EditField::Description => field(frame, row, f.label(), &form.description, None, focused),
            EditField::Tags => field(frame, row, f.label(), &form.tags, None, focused),
            EditField::Photo => field(frame, row, f.label(), &form.photo, None, focused),
            EditField::Visibility => render_visibility(form.visibility, focused, frame, row),
        }
        if errors.as_ref().is_some_and(|(at, _)| *at == Some(f)) {
            draw_error(frame, take(error_height));
        }
    }
    take(1);
    if errors.as_ref().is_some_and(|(at, _)| at.is_none()) {
        draw_error(frame, take(error_height));
    }
    let hint = "Tags comma-separated · New photo: a JPEG, PNG or WebP file's path (optional)";
    frame.render_widget(Paragraph::new(Span::styled(hint, dim())), take(1));
}

/// The visibility toggle of the new-group and edit forms.
pub(super) fn render_visibility(visibility: Visibility, focused: bool, frame: &mut Frame<'_>, area: Rect) {
    let label_style = if focused { Style::default().fg(ACCENT).add_modifier(Modifier::BOLD) } else { dim() };
    let choice = |v: Visibility| {
        let mark = if visibility == v { "(•) " } else { "( ) " };
        let style = if visibility == v && focused {
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
    frame.render_widget(Paragraph::new(line), area);
}
