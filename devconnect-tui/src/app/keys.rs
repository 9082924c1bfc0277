//! Key predicates and line editing shared by every screen with a text field, so
//! `Ctrl-U`, the arrows and the modifier rules are the same in the login form, the chat
//! input and the profile form.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::input::TextInput;

/// A key without Ctrl or Alt (Shift is part of the character).
pub(super) fn plain(key: &KeyEvent) -> bool {
    !key.modifiers.intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
}

/// `Ctrl` + `c`.
pub(super) fn ctrl(key: &KeyEvent, c: char) -> bool {
    key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char(c)
}

/// Applies an editing key to a text input.
pub(super) fn edit(input: &mut TextInput, key: &KeyEvent) {
    match key.code {
        KeyCode::Char(c) if plain(key) => input.insert(c.encode_utf8(&mut [0; 4])),
        KeyCode::Char('u') if key.modifiers.contains(KeyModifiers::CONTROL) => {
            input.take();
        }
        KeyCode::Backspace => input.backspace(),
        KeyCode::Delete => input.delete(),
        KeyCode::Left => input.left(),
        KeyCode::Right => input.right(),
        KeyCode::Home => input.home(),
        KeyCode::End => input.end(),
        _ => {}
    }
}
