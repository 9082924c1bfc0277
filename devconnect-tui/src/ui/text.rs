//! Text layout: wrapping by grapheme and display width, so wide characters never split
//! or overflow, and control characters never reach the terminal.

use devconnect_types::Profile;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use unicode_segmentation::UnicodeSegmentation as _;
use unicode_width::UnicodeWidthStr as _;

pub(super) fn display_name(p: &Profile) -> String {
    format!("{} {}", p.first_name, p.last_name).trim().to_owned()
}

/// Text for one line: line breaks and other control characters become spaces.
pub(super) fn one_line(s: &str) -> String {
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
