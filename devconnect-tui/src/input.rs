//! A one-line text editor that moves by grapheme, so emoji and CJK edit as whole
//! characters, and a view of it that fits a given width.

use unicode_segmentation::UnicodeSegmentation as _;
use unicode_width::UnicodeWidthStr as _;

/// A single line of text and a cursor (a grapheme index).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TextInput {
    text: String,
    cursor: usize,
}

impl TextInput {
    /// An input holding `text`, the cursor at its end.
    #[must_use]
    pub fn with_text(text: &str) -> Self {
        let text = sanitize(text);
        let cursor = text.graphemes(true).count();
        Self { text, cursor }
    }

    /// The text.
    #[must_use]
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Whether there is no text.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    /// Empties the input and returns what it held.
    pub fn take(&mut self) -> String {
        self.cursor = 0;
        std::mem::take(&mut self.text)
    }

    fn byte_offset(&self, grapheme: usize) -> usize {
        self.text.grapheme_indices(true).nth(grapheme).map_or(self.text.len(), |(i, _)| i)
    }

    fn len(&self) -> usize {
        self.text.graphemes(true).count()
    }

    /// Inserts text at the cursor (control characters become spaces: one line only).
    pub fn insert(&mut self, s: &str) {
        let s = sanitize(s);
        let at = self.byte_offset(self.cursor);
        let before = self.len();
        self.text.insert_str(at, &s);
        self.cursor += self.len().saturating_sub(before);
    }

    /// Deletes the grapheme before the cursor.
    pub fn backspace(&mut self) {
        if self.cursor == 0 {
            return;
        }
        let start = self.byte_offset(self.cursor - 1);
        let end = self.byte_offset(self.cursor);
        self.text.replace_range(start..end, "");
        self.cursor -= 1;
    }

    /// Deletes the grapheme under the cursor.
    pub fn delete(&mut self) {
        if self.cursor >= self.len() {
            return;
        }
        let start = self.byte_offset(self.cursor);
        let end = self.byte_offset(self.cursor + 1);
        self.text.replace_range(start..end, "");
    }

    /// Moves the cursor one grapheme left.
    pub fn left(&mut self) {
        self.cursor = self.cursor.saturating_sub(1);
    }

    /// Moves the cursor one grapheme right.
    pub fn right(&mut self) {
        self.cursor = (self.cursor + 1).min(self.len());
    }

    /// Moves the cursor to the start.
    pub fn home(&mut self) {
        self.cursor = 0;
    }

    /// Moves the cursor to the end.
    pub fn end(&mut self) {
        self.cursor = self.len();
    }

    /// What to show in `width` columns and where the cursor is (a column from the
    /// view's left edge): the text scrolls horizontally to keep the cursor visible.
    /// With `mask`, every grapheme shows as that character (passwords).
    #[must_use]
    pub fn view(&self, width: u16, mask: Option<char>) -> (String, u16) {
        let width = usize::from(width);
        if width == 0 {
            return (String::new(), 0);
        }
        let cells: Vec<(String, usize)> = self
            .text
            .graphemes(true)
            .map(|g| match mask {
                Some(m) => (m.to_string(), 1),
                None => (g.to_owned(), g.width()),
            })
            .collect();
        // Width before the cursor; keep one column for the cursor itself.
        let mut start = 0;
        let cursor_col = |start: usize| cells[start..self.cursor.min(cells.len())].iter().map(|c| c.1).sum::<usize>();
        while start < self.cursor && cursor_col(start) >= width {
            start += 1;
        }
        let mut shown = String::new();
        let mut used = 0;
        for (g, w) in &cells[start..] {
            if used + w > width {
                break;
            }
            shown.push_str(g);
            used += w;
        }
        let col = u16::try_from(cursor_col(start).min(width.saturating_sub(1))).unwrap_or(0);
        (shown, col)
    }
}

/// One line: control characters (newlines, tabs, escapes) become spaces.
fn sanitize(s: &str) -> String {
    s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn editing_moves_by_whole_characters() {
        let mut input = TextInput::default();
        input.insert("a你👍🏽b");
        assert_eq!(input.text(), "a你👍🏽b");
        input.left();
        input.backspace();
        assert_eq!(input.text(), "a你b");
        input.home();
        input.delete();
        assert_eq!(input.text(), "你b");
        input.end();
        input.insert("\nc");
        assert_eq!(input.text(), "你b c");
        assert_eq!(input.take(), "你b c");
        assert!(input.is_empty());
    }

    #[test]
    fn the_view_scrolls_to_keep_the_cursor_visible() {
        let input = TextInput::with_text("hello world");
        let (shown, col) = input.view(5, None);
        assert_eq!(shown, "orld");
        assert_eq!(col, 4);
        let (shown, col) = TextInput::with_text("你好世界").view(5, None);
        assert_eq!(shown, "世界");
        assert_eq!(col, 4);
        let (shown, _) = TextInput::with_text("secret").view(10, Some('•'));
        assert_eq!(shown, "••••••");
        assert_eq!(TextInput::with_text("abc").view(0, None), (String::new(), 0));
    }
}
