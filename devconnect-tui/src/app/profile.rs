//! The Profile screen: my profile, and the edit form that sends only what changed.

use devconnect_client::ProfileChanges;
use devconnect_types::Me;
use ratatui::crossterm::event::{KeyCode, KeyEvent};

use super::keys::edit;
use super::{App, Command, Failure, ProfileChangesEq};
use crate::input::TextInput;

/// The profile edit form. Fields: first name, last name, age, gender, about, skills.
#[derive(Clone, Debug)]
pub struct ProfileForm {
    /// The fields.
    pub fields: [TextInput; 6],
    /// Focused field.
    pub focus: usize,
    /// Waiting for the server.
    pub saving: bool,
}

impl ProfileForm {
    /// The labels.
    pub const LABELS: [&'static str; 6] = ["First name", "Last name", "Age", "Gender", "About", "Skills"];

    fn from_me(me: &Me) -> Self {
        let p = &me.profile;
        let fields = [
            TextInput::with_text(&p.first_name),
            TextInput::with_text(&p.last_name),
            TextInput::with_text(&p.age.map(|a| a.to_string()).unwrap_or_default()),
            TextInput::with_text(p.gender.map(devconnect_types::Gender::as_str).unwrap_or_default()),
            TextInput::with_text(&p.about),
            TextInput::with_text(&p.skills.join(", ")),
        ];
        Self { fields, focus: 0, saving: false }
    }
}

impl App {
    pub(super) fn profile_key(&mut self, key: &KeyEvent) -> Vec<Command> {
        if let Some(commands) = self.push_key(key) {
            return commands;
        }
        if (key.code == KeyCode::Char('e') || key.code == KeyCode::Enter)
            && let Some(me) = &self.me
        {
            self.profile_form = Some(ProfileForm::from_me(me));
        }
        Vec::new()
    }

    pub(super) fn profile_form_key(&mut self, key: &KeyEvent) -> Vec<Command> {
        let Some(form) = self.profile_form.as_mut() else {
            return Vec::new();
        };
        let count = form.fields.len();
        match key.code {
            KeyCode::Esc => {
                self.profile_form = None;
                self.info("Edit cancelled.");
            }
            KeyCode::Tab | KeyCode::Down => form.focus = (form.focus + 1) % count,
            KeyCode::BackTab | KeyCode::Up => form.focus = (form.focus + count - 1) % count,
            KeyCode::Enter => return self.save_profile(),
            _ => {
                if let Some(input) = form.fields.get_mut(form.focus) {
                    edit(input, key);
                }
            }
        }
        Vec::new()
    }

    fn save_profile(&mut self) -> Vec<Command> {
        let (Some(form), Some(me)) = (self.profile_form.as_mut(), self.me.as_ref()) else {
            return Vec::new();
        };
        if form.saving {
            return Vec::new();
        }
        let p = &me.profile;
        let text = |i: usize| form.fields[i].text().trim().to_owned();
        let changed = |new: String, old: &str| (new != old).then_some(new);
        let age = match text(2) {
            a if a.is_empty() => None,
            a => match a.parse::<u8>() {
                Ok(age) if Some(age) != p.age => Some(age),
                Ok(_) => None,
                Err(_) => {
                    self.error("Age must be a whole number.");
                    return Vec::new();
                }
            },
        };
        let skills: Vec<String> =
            text(5).split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect();
        let changes = ProfileChanges {
            first_name: changed(text(0), &p.first_name),
            last_name: changed(text(1), &p.last_name),
            age,
            gender: changed(text(3), p.gender.map(devconnect_types::Gender::as_str).unwrap_or_default())
                .filter(|g| !g.is_empty()),
            about: changed(text(4), &p.about),
            skills: (skills != p.skills).then_some(skills),
            photo: None,
        };
        form.saving = true;
        self.info("Saving…");
        vec![Command::EditProfile(Box::new(ProfileChangesEq(changes)))]
    }

    /// `Reply::ProfileSaved`: the form closes, or stays open to be corrected.
    pub(super) fn on_profile_saved(&mut self, result: Result<Me, Failure>) -> Vec<Command> {
        match result {
            Ok(me) => {
                self.me = Some(me);
                self.profile_form = None;
                self.info("Profile saved.");
                Vec::new()
            }
            Err(failure) => {
                if let Some(form) = self.profile_form.as_mut() {
                    form.saving = false;
                }
                self.show_failure(&failure)
            }
        }
    }
}
