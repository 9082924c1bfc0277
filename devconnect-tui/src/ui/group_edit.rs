//! The group edit form, drawn over the Groups screen: a row per field, the server's
//! refusal in red under the field it names (or at the bottom when it is about the whole
//! form), and a line of hints.

use devconnect_types::Visibility;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use super::text::one_line;
use super::{ACCENT, centered, dim, field};
use crate::app::{EditError, EditField, GroupEditForm};

const WIDTH: u16 = 72;

fn error_line(error: &EditError) -> Line<'static> {
    let failure = &error.failure;
    let text = if failure.code.is_empty() {
        format!("⚠ {}", one_line(&failure.message))
    } else {
        format!("⚠ {} ({})", one_line(&failure.message), failure.code)
    };
    Line::from(vec![Span::raw(" ".repeat(12)), Span::styled(text, Style::default().fg(Color::Red))])
}

pub(super) fn render_group_edit(form: &GroupEditForm, name: &str, frame: &mut Frame<'_>, area: Rect) {
    // Fields, then a blank row and the hints; an error takes one more row.
    let rows = EditField::ALL.len() + 2 + usize::from(form.error.is_some());
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
    let mut constraints = vec![Constraint::Length(1); rows];
    constraints.push(Constraint::Min(0));
    let areas = Layout::vertical(constraints).split(inner);
    let mut next = areas.iter().copied();
    for f in EditField::ALL {
        let Some(row) = next.next() else { return };
        let focused = form.focus == f;
        match f {
            EditField::Name => field(frame, row, f.label(), &form.name, None, focused),
            EditField::Description => field(frame, row, f.label(), &form.description, None, focused),
            EditField::Tags => field(frame, row, f.label(), &form.tags, None, focused),
            EditField::Photo => field(frame, row, f.label(), &form.photo, None, focused),
            EditField::Visibility => render_visibility(form.visibility, focused, frame, row),
        }
        if let Some(error) = form.error.as_ref().filter(|e| e.field == Some(f)) {
            let Some(row) = next.next() else { return };
            frame.render_widget(Paragraph::new(error_line(error)), row);
        }
    }
    let _blank = next.next();
    if let Some(error) = form.error.as_ref().filter(|e| e.field.is_none())
        && let Some(row) = next.next()
    {
        frame.render_widget(Paragraph::new(error_line(error)), row);
    }
    if let Some(row) = next.next() {
        let hint = "Tags comma-separated · New photo: a JPEG, PNG or WebP file's path (optional)";
        frame.render_widget(Paragraph::new(Span::styled(hint, dim())), row);
    }
}

fn render_visibility(visibility: Visibility, focused: bool, frame: &mut Frame<'_>, area: Rect) {
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
