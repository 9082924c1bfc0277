//! The Groups screen: my groups (loaded when the screen is first opened and again after
//! every change), the one opened (its members here, its conversation in `group_chat`),
//! and the small inputs to create a group and to join a public one by its id. `!` reports
//! the selected group (the picker is `report`'s). `d` shows the open group's details
//! (kept current by `groupUpdated`).

use std::cell::Cell;
use std::collections::{HashMap, HashSet};
use std::time::Instant;

use devconnect_types::{
    Group, GroupId, GroupMember, GroupMessage, GroupRole, MessageId, MyGroup, Profile, UserId, Visibility,
};
use ratatui::crossterm::event::{KeyCode, KeyEvent};

use super::chats::Pending;
use super::group_edit::GroupEditForm;
use super::keys::edit;
use super::typing::Announcer;
use super::{App, Command, Failure, display_name};
use crate::input::TextInput;

/// Where keys go on the Groups screen (when no form is open).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GroupFocus {
    /// The list of my groups.
    List,
    /// The input line of the open group's conversation.
    Input,
}

/// The field of the create form that has focus.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GroupField {
    /// The name.
    Name,
    /// Public or private.
    Visibility,
}

/// The create-a-group form: a name, then public or private.
#[derive(Clone, Debug)]
pub struct GroupForm {
    /// The name.
    pub name: TextInput,
    /// Who may find and join it.
    pub visibility: Visibility,
    /// Focused field.
    pub focus: GroupField,
    /// Waiting for the server.
    pub saving: bool,
}

/// The one-line input where a public group's id is pasted.
#[derive(Clone, Debug, Default)]
pub struct JoinInput {
    /// The id as typed.
    pub id: TextInput,
    /// Waiting for the server.
    pub busy: bool,
}

/// The open group: its members and its conversation.
#[derive(Clone, Debug)]
pub struct OpenGroup {
    /// Which.
    pub id: GroupId,
    /// Longest-standing first.
    pub members: Vec<GroupMember>,
    /// The member list is loading.
    pub loading: bool,
    /// Messages, in order.
    pub messages: Vec<GroupMessage>,
    /// My messages not yet stored.
    pub pending: Vec<Pending>,
    /// A history page is loading.
    pub history_loading: bool,
    /// Older messages may exist.
    pub has_older: bool,
    /// Lines scrolled up from the bottom.
    pub scroll: usize,
    /// The newest message my read position was moved to.
    pub(super) read_up_to: Option<MessageId>,
}

/// The Groups screen.
#[derive(Clone, Debug)]
pub struct GroupsState {
    /// My groups, with my role in each.
    pub groups: Vec<MyGroup>,
    /// The selected group.
    pub selected: usize,
    /// My groups have been asked for at least once.
    pub requested: bool,
    /// My groups are loading.
    pub loading: bool,
    /// The open group.
    pub open: Option<OpenGroup>,
    /// The create form, while open.
    pub form: Option<GroupForm>,
    /// The join input, while open.
    pub join: Option<JoinInput>,
    /// The edit form, while open.
    pub edit: Option<GroupEditForm>,
    /// Where keys go.
    pub focus: GroupFocus,
    /// The open group's details (description, visibility, tags, photo) are shown.
    pub details: bool,
    /// The message being written to the open group.
    pub input: TextInput,
    /// Per group, the messages from others that arrived while it was not on screen.
    pub unread: HashMap<GroupId, HashSet<MessageId>>,
    /// Members typing in a group, until when to show it.
    pub typing: HashMap<(GroupId, UserId), Instant>,
    /// Whether I told a group I am typing.
    pub(super) typing_sent: Announcer<GroupId>,
    /// Public profiles of people in my groups who are not my chat partners.
    pub profiles: HashMap<UserId, Profile>,
    /// Whose profiles were asked for.
    pub(super) asked: HashSet<UserId>,
    /// The most scroll the conversation view allows (written by drawing).
    pub max_scroll: Cell<usize>,
}

impl Default for GroupsState {
    fn default() -> Self {
        Self {
            groups: Vec::new(),
            selected: 0,
            requested: false,
            loading: false,
            open: None,
            form: None,
            join: None,
            edit: None,
            focus: GroupFocus::List,
            details: false,
            input: TextInput::default(),
            unread: HashMap::new(),
            typing: HashMap::new(),
            typing_sent: Announcer::default(),
            profiles: HashMap::new(),
            asked: HashSet::new(),
            max_scroll: Cell::new(usize::MAX),
        }
    }
}

impl GroupsState {
    /// The selected group.
    #[must_use]
    pub fn selected_group(&self) -> Option<&MyGroup> {
        self.groups.get(self.selected)
    }

    /// The group whose members are shown, if it is (still) one of mine.
    #[must_use]
    pub fn open_group(&self) -> Option<&MyGroup> {
        let id = self.open.as_ref()?.id;
        self.groups.iter().find(|g| g.group.id == id)
    }

    /// Whether the open group's input has focus.
    #[must_use]
    pub fn writing(&self) -> bool {
        self.focus == GroupFocus::Input && self.open.is_some()
    }

    /// Whether keys go to a form or a text input (the edit form, the create form, the
    /// join input or the open group's input).
    #[must_use]
    pub fn typing(&self) -> bool {
        self.edit.is_some() || self.form.is_some() || self.join.is_some() || self.writing()
    }

    /// The focused text input, if any.
    pub(super) fn focused_input(&mut self) -> Option<&mut TextInput> {
        let writing = self.writing();
        if let Some(form) = self.edit.as_mut() {
            let focus = form.focus;
            return form.input_mut(focus);
        }
        match (self.join.as_mut(), self.form.as_mut()) {
            (Some(join), _) => Some(&mut join.id),
            (None, Some(form)) => (form.focus == GroupField::Name).then_some(&mut form.name),
            (None, None) => writing.then_some(&mut self.input),
        }
    }

    /// Closes the open group, telling it I stopped typing.
    fn close(&mut self) -> Vec<Command> {
        self.open = None;
        self.focus = GroupFocus::List;
        self.stop_typing()
    }

    /// Asks for my groups (again even while an answer is on the way: that one may
    /// predate a change).
    pub(super) fn load(&mut self) -> Vec<Command> {
        self.requested = true;
        self.loading = true;
        vec![Command::LoadMyGroups]
    }
}

impl App {
    /// A user's name as the member list shows it, when known from my chat partners
    /// (which include all my connections) or a loaded profile, or "you".
    #[must_use]
    pub fn known_name(&self, id: UserId) -> Option<String> {
        if self.my_id() == Some(id) {
            return Some("you".to_owned());
        }
        self.known_profile(id).map(display_name)
    }

    /// Opening the screen loads my groups the first time.
    pub(super) fn groups_opened(&mut self) -> Vec<Command> {
        if self.groups.requested { Vec::new() } else { self.groups.load() }
    }

    /// `r`: my groups again, and the open group's members and newest messages.
    pub(super) fn groups_refresh(&mut self) -> Vec<Command> {
        let mut commands = self.groups.load();
        if let Some(open) = self.groups.open.as_mut() {
            open.loading = true;
            commands.push(Command::LoadGroupMembers(open.id));
            commands.push(Command::LoadGroupHistory { group: open.id, before: None });
        }
        commands
    }

    /// Keys on the list of my groups.
    pub(super) fn groups_key(&mut self, key: &KeyEvent) -> Vec<Command> {
        let count = self.groups.groups.len();
        match key.code {
            KeyCode::Up => self.groups.selected = self.groups.selected.saturating_sub(1),
            KeyCode::Down => {
                self.groups.selected = (self.groups.selected + 1).min(count.saturating_sub(1));
            }
            KeyCode::Enter | KeyCode::Right => {
                let Some(id) = self.groups.selected_group().map(|g| g.group.id) else {
                    self.info("No groups yet: n creates one, j joins a public one by its id.");
                    return Vec::new();
                };
                return self.open_group_chat(id);
            }
            KeyCode::Esc => return self.groups.close(),
            KeyCode::Char('n') => {
                self.groups.form = Some(GroupForm {
                    name: TextInput::default(),
                    visibility: Visibility::Public,
                    focus: GroupField::Name,
                    saving: false,
                });
            }
            KeyCode::Char('j') => self.groups.join = Some(JoinInput::default()),
            KeyCode::Char('d') => self.toggle_group_details(),
            KeyCode::Char('e') => {
                if let Some(id) = self.groups.selected_group().map(|g| g.group.id) {
                    return self.ask_group_edit(id);
                }
            }
            KeyCode::Char('l') => {
                if let Some(group) = self.groups.selected_group() {
                    return vec![Command::LeaveGroup(group.group.id)];
                }
            }
            KeyCode::Char('!') => {
                if let Some(id) = self.groups.selected_group().map(|g| g.group.id) {
                    return self.report_group(id);
                }
            }
            _ => {}
        }
        Vec::new()
    }

    /// `d` (`Ctrl-D` in the conversation): the open group's details show or hide.
    pub(super) fn toggle_group_details(&mut self) {
        if self.groups.open.is_none() {
            self.info("Open a group with Enter first: d then shows its details.");
            return;
        }
        self.groups.details = !self.groups.details;
    }

    /// `ServerEvent::GroupUpdated`: one of my groups changed (its details, owner or
    /// archiving); the list, the open group's title and its details show it at once. My
    /// role is not in the event: a role change also comes as a system message, which
    /// reloads the list.
    pub(super) fn on_group_updated(&mut self, group: Group) -> Vec<Command> {
        if let Some(mine) = self.groups.groups.iter_mut().find(|g| g.group.id == group.id) {
            mine.group = group;
        }
        Vec::new()
    }

    /// Keys while the edit form, the create form, the join input or the open group's
    /// input has focus.
    pub(super) fn groups_input_key(&mut self, key: &KeyEvent) -> Vec<Command> {
        if self.groups.edit.is_some() {
            return self.group_edit_key(key);
        }
        if self.groups.join.is_some() {
            return self.join_key(key);
        }
        let Some(form) = self.groups.form.as_mut() else {
            return self.group_input_key(key);
        };
        match key.code {
            KeyCode::Esc => {
                self.groups.form = None;
                self.info("New group cancelled.");
            }
            KeyCode::Tab | KeyCode::BackTab | KeyCode::Up | KeyCode::Down => {
                form.focus = match form.focus {
                    GroupField::Name => GroupField::Visibility,
                    GroupField::Visibility => GroupField::Name,
                };
            }
            KeyCode::Enter => {
                if form.saving {
                    return Vec::new();
                }
                form.saving = true;
                let command =
                    Command::CreateGroup { name: form.name.text().trim().to_owned(), visibility: form.visibility };
                self.info("Creating…");
                return vec![command];
            }
            KeyCode::Left | KeyCode::Right | KeyCode::Char(' ') if form.focus == GroupField::Visibility => {
                form.visibility = match form.visibility {
                    Visibility::Public => Visibility::Private,
                    Visibility::Private => Visibility::Public,
                };
            }
            _ if form.focus == GroupField::Name => edit(&mut form.name, key),
            _ => {}
        }
        Vec::new()
    }

    fn join_key(&mut self, key: &KeyEvent) -> Vec<Command> {
        let Some(join) = self.groups.join.as_mut() else {
            return Vec::new();
        };
        match key.code {
            KeyCode::Esc => self.groups.join = None,
            KeyCode::Enter if !join.busy => match GroupId::parse("groupId", join.id.text().trim()) {
                Ok(id) => {
                    join.busy = true;
                    return vec![Command::JoinGroup(id)];
                }
                Err(_) => self.error("That is not a group id: paste the 24-character id of a public group."),
            },
            _ => edit(&mut join.id, key),
        }
        Vec::new()
    }

    /// `Reply::MyGroups`: the list keeps its selection; an open group I no longer
    /// belong to closes.
    pub(super) fn on_my_groups(&mut self, result: Result<Vec<MyGroup>, Failure>) -> Vec<Command> {
        self.groups.loading = false;
        match result {
            Ok(groups) => {
                let selected = self.groups.selected_group().map(|g| g.group.id);
                self.groups.groups = groups;
                self.groups.selected =
                    selected.and_then(|id| self.groups.groups.iter().position(|g| g.group.id == id)).unwrap_or(0);
                if self.groups.open.is_some() && self.groups.open_group().is_none() {
                    return self.groups.close();
                }
                Vec::new()
            }
            Err(failure) => self.show_failure(&failure),
        }
    }

    /// `Reply::GroupMembers`: for the open group (a late answer for another is dropped).
    pub(super) fn on_group_members(&mut self, id: GroupId, result: Result<Vec<GroupMember>, Failure>) -> Vec<Command> {
        let Some(open) = self.groups.open.as_mut().filter(|o| o.id == id) else {
            return Vec::new();
        };
        open.loading = false;
        match result {
            Ok(members) => {
                let ids: Vec<UserId> = members.iter().map(|m| m.user_id).collect();
                open.members = members;
                self.ask_member_names(&ids)
            }
            Err(failure) => self.show_failure(&failure),
        }
    }

    /// `Reply::GroupCreated`: the form closes and the group is listed, selected, at once.
    pub(super) fn on_group_created(&mut self, result: Result<Group, Failure>) -> Vec<Command> {
        match result {
            Ok(group) => {
                self.groups.form = None;
                self.info(format!(
                    "Created {} ({}). Others join it with its id {}.",
                    group.name,
                    group.visibility.as_str(),
                    group.id
                ));
                let id = group.id;
                if !self.groups.groups.iter().any(|g| g.group.id == id) {
                    self.groups.groups.push(MyGroup { group, role: GroupRole::Owner });
                }
                self.groups.selected = self.groups.groups.iter().position(|g| g.group.id == id).unwrap_or(0);
                self.groups.load()
            }
            Err(failure) => {
                if let Some(form) = self.groups.form.as_mut() {
                    form.saving = false;
                }
                self.show_failure(&failure)
            }
        }
    }

    /// `Reply::GroupJoined`: the input closes and my groups reload.
    pub(super) fn on_group_joined(&mut self, result: Result<GroupMember, Failure>) -> Vec<Command> {
        match result {
            Ok(_) => {
                self.groups.join = None;
                self.info("Joined the group.");
                self.groups.load()
            }
            Err(failure) => {
                if let Some(join) = self.groups.join.as_mut() {
                    join.busy = false;
                }
                self.show_failure(&failure)
            }
        }
    }

    /// `Reply::GroupLeft`: say so, close its member list, and reload my groups.
    pub(super) fn on_group_left(&mut self, id: GroupId, result: Result<(), Failure>) -> Vec<Command> {
        match result {
            Ok(()) => {
                let name = self.groups.groups.iter().find(|g| g.group.id == id).map(|g| g.group.name.clone());
                self.info(format!("You left {}.", name.as_deref().unwrap_or("the group")));
                let mut commands = Vec::new();
                if self.groups.open.as_ref().is_some_and(|o| o.id == id) {
                    commands = self.groups.close();
                }
                self.groups.groups.retain(|g| g.group.id != id);
                self.groups.unread.remove(&id);
                self.groups.selected = self.groups.selected.min(self.groups.groups.len().saturating_sub(1));
                commands.extend(self.groups.load());
                commands
            }
            Err(failure) => self.show_failure(&failure),
        }
    }
}
