//! Editing a group's details, which its owner and admins may: a form over the Groups
//! screen (name, description, public or private, comma-separated tags, and the path of
//! a new photo to upload), opened with `e` on the list or `Ctrl-E` in the conversation.
//! Only what differs from what the form started with is sent; the server validates, and
//! its refusal stays in the form under the field it names, with its code.

use std::path::PathBuf;

use devconnect_types::{Group, GroupId, Visibility};
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use serde_json::{Map, Value};

use super::keys::edit;
use super::{App, Command, Failure};
use crate::input::TextInput;

/// A field of the edit form, in Tab order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EditField {
    /// The name.
    Name,
    /// The description.
    Description,
    /// Public or private.
    Visibility,
    /// Tags, comma-separated.
    Tags,
    /// The path of a new photo.
    Photo,
}

impl EditField {
    /// All, in Tab order.
    pub const ALL: [Self; 5] = [Self::Name, Self::Description, Self::Visibility, Self::Tags, Self::Photo];

    /// The label the form shows.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Self::Name => "Name",
            Self::Description => "Description",
            Self::Visibility => "Visibility",
            Self::Tags => "Tags",
            Self::Photo => "New photo",
        }
    }

    fn step(self, forward: bool) -> Self {
        let count = Self::ALL.len();
        let index = Self::ALL.iter().position(|f| *f == self).unwrap_or(0);
        let next = if forward { (index + 1) % count } else { (index + count - 1) % count };
        Self::ALL[next]
    }

    /// The field a server refusal is about. A validation message starts with the API's
    /// field name (`name: …`); media refusals and a file that cannot be read are about
    /// the photo; anything else (`forbidden`, a lost connection) is about the whole form.
    #[must_use]
    pub fn of_failure(failure: &Failure) -> Option<Self> {
        match failure.code.as_str() {
            "unsupported_media_type" | "payload_too_large" | "file" => Some(Self::Photo),
            "validation" => match failure.message.split_once(':').map(|(field, _)| field.trim()) {
                Some("name") => Some(Self::Name),
                Some("description") => Some(Self::Description),
                Some("visibility") => Some(Self::Visibility),
                Some("tags" | "tag") => Some(Self::Tags),
                Some("image" | "photo") => Some(Self::Photo),
                _ => None,
            },
            _ => None,
        }
    }
}

/// Why the last save failed, shown in the form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EditError {
    /// The field it is about; `None` for the whole form.
    pub field: Option<EditField>,
    /// The failure, as the server (or the file system) put it; no code when the form
    /// itself refused to send.
    pub failure: Failure,
}

/// The edit form, filled with the group's details when it opened.
#[derive(Clone, Debug)]
pub struct GroupEditForm {
    /// The group.
    pub group: GroupId,
    /// Its name.
    pub name: TextInput,
    /// Its description (one line here; see `GroupEditForm::changes`).
    pub description: TextInput,
    /// Public or private.
    pub visibility: Visibility,
    /// Its tags, comma-separated.
    pub tags: TextInput,
    /// The path of a new photo; empty keeps the current one.
    pub photo: TextInput,
    /// Focused field.
    pub focus: EditField,
    /// Waiting for the server.
    pub saving: bool,
    /// Why the last save failed.
    pub error: Option<EditError>,
    /// The fields as the form started, to send only what changed.
    start: (String, String, Visibility, Vec<String>),
}

/// Tags as typed: split on commas, trimmed, empty ones dropped.
fn tag_list(text: &str) -> Vec<String> {
    text.split(',').map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned).collect()
}

impl GroupEditForm {
    /// A form showing `group`'s details.
    #[must_use]
    pub fn new(group: &Group) -> Self {
        let name = TextInput::with_text(&group.name);
        let description = TextInput::with_text(&group.description);
        // Compared with what the inputs hold, not with the server's text: a one-line input
        // turns a description's newlines into spaces, and an untouched description must not
        // be sent back flattened.
        let start =
            (name.text().trim().to_owned(), description.text().trim().to_owned(), group.visibility, group.tags.clone());
        Self {
            group: group.id,
            name,
            description,
            visibility: group.visibility,
            tags: TextInput::with_text(&group.tags.join(", ")),
            photo: TextInput::default(),
            focus: EditField::Name,
            saving: false,
            error: None,
            start,
        }
    }

    /// The text input of a field (`None` for the visibility toggle).
    pub fn input_mut(&mut self, field: EditField) -> Option<&mut TextInput> {
        match field {
            EditField::Name => Some(&mut self.name),
            EditField::Description => Some(&mut self.description),
            EditField::Tags => Some(&mut self.tags),
            EditField::Photo => Some(&mut self.photo),
            EditField::Visibility => None,
        }
    }

    /// The changed fields as the API names them, and the photo path if one was typed.
    /// Fails (with the field to blame) on what cannot be sent: clearing every tag in
    /// the same save as a photo, since a multipart form cannot say "no tags".
    pub fn changes(&self) -> Result<(Value, Option<PathBuf>), EditError> {
        let (name, description, visibility, tags) = &self.start;
        let mut changes = Map::new();
        let new_name = self.name.text().trim();
        if new_name != name {
            changes.insert("name".to_owned(), Value::from(new_name));
        }
        let new_description = self.description.text().trim();
        if new_description != description {
            changes.insert("description".to_owned(), Value::from(new_description));
        }
        if self.visibility != *visibility {
            changes.insert("visibility".to_owned(), Value::from(self.visibility.as_str()));
        }
        let new_tags = tag_list(self.tags.text());
        let photo = Some(self.photo.text().trim()).filter(|p| !p.is_empty()).map(PathBuf::from);
        if new_tags != *tags {
            if new_tags.is_empty() && photo.is_some() {
                return Err(EditError {
                    field: Some(EditField::Tags),
                    failure: Failure::new(
                        "",
                        "removing every tag cannot be sent with a photo: save one, then the other",
                    ),
                });
            }
            changes.insert("tags".to_owned(), Value::from(new_tags));
        }
        Ok((Value::Object(changes), photo))
    }
}

impl App {
    /// `e` on the list, `Ctrl-E` in the conversation: the edit form for `group`, when
    /// my role there allows editing (the same rule the server applies; a role changed
    /// since the list loaded still gets the server's `forbidden`).
    pub(super) fn ask_group_edit(&mut self, group: GroupId) -> Vec<Command> {
        let Some(mine) = self.groups.groups.iter().find(|g| g.group.id == group) else {
            return Vec::new();
        };
        if !mine.role.manages_members() {
            let text = format!("Only the owner and admins edit {}: you are a member.", mine.group.name);
            self.error(text);
            return Vec::new();
        }
        self.groups.edit = Some(GroupEditForm::new(&mine.group));
        Vec::new()
    }

    /// Keys in the edit form: `Tab`/`↓` and `Shift-Tab`/`↑` move, `←`/`→`/`Space` turn
    /// the visibility, `Enter` saves, `Esc` cancels, the rest edits the focused text.
    pub(super) fn group_edit_key(&mut self, key: &KeyEvent) -> Vec<Command> {
        let Some(form) = self.groups.edit.as_mut() else {
            return Vec::new();
        };
        match key.code {
            KeyCode::Esc => {
                self.groups.edit = None;
                self.info("Edit cancelled.");
            }
            KeyCode::Tab | KeyCode::Down => form.focus = form.focus.step(true),
            KeyCode::BackTab | KeyCode::Up => form.focus = form.focus.step(false),
            KeyCode::Enter => return self.save_group_edit(),
            KeyCode::Left | KeyCode::Right | KeyCode::Char(' ') if form.focus == EditField::Visibility => {
                form.visibility = match form.visibility {
                    Visibility::Public => Visibility::Private,
                    Visibility::Private => Visibility::Public,
                };
            }
            _ => {
                if let Some(input) = form.input_mut(form.focus) {
                    edit(input, key);
                }
            }
        }
        Vec::new()
    }

    fn save_group_edit(&mut self) -> Vec<Command> {
        let Some(form) = self.groups.edit.as_mut() else {
            return Vec::new();
        };
        if form.saving {
            return Vec::new();
        }
        let (changes, photo) = match form.changes() {
            Ok(changes) => changes,
            Err(error) => {
                form.focus = error.field.unwrap_or(form.focus);
                form.error = Some(error);
                return Vec::new();
            }
        };
        if photo.is_none() && changes.as_object().is_some_and(Map::is_empty) {
            self.groups.edit = None;
            self.info("Nothing changed.");
            return Vec::new();
        }
        form.saving = true;
        form.error = None;
        let group = form.group;
        self.info("Saving…");
        vec![Command::EditGroup { group, changes, photo }]
    }

    /// `Reply::GroupEdited`: the listed group (title, details) shows the change and the
    /// form closes; a refusal stays in the form under its field, or, if the form was
    /// closed meanwhile, on the notice line.
    pub(super) fn on_group_edited(&mut self, id: GroupId, result: Result<Group, Failure>) -> Vec<Command> {
        let form_open = self.groups.edit.as_ref().is_some_and(|f| f.group == id);
        match result {
            Ok(group) => {
                if form_open {
                    self.groups.edit = None;
                }
                self.info(format!("Saved {}.", group.name));
                match self.groups.groups.iter_mut().find(|g| g.group.id == id) {
                    Some(mine) => {
                        mine.group = group;
                        Vec::new()
                    }
                    // Not listed (the list changed meanwhile): it says what my role is.
                    None => self.groups.load(),
                }
            }
            Err(failure) => {
                if let Some(commands) = self.session_failure(&failure) {
                    return commands;
                }
                let Some(form) = self.groups.edit.as_mut().filter(|f| f.group == id) else {
                    self.error(format!("Group not saved: {} ({})", failure.message, failure.code));
                    return Vec::new();
                };
                form.saving = false;
                let field = EditField::of_failure(&failure);
                form.focus = field.unwrap_or(form.focus);
                form.error = Some(EditError { field, failure });
                self.error("Group not saved: see the form.");
                Vec::new()
            }
        }
    }
}
