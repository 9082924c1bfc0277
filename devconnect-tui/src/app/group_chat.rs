//! The open group's conversation on the Groups screen: its history (older pages on
//! scrolling up), live messages and system messages as sentences, typing both ways,
//! sending with an idempotency key, the read position, and the unread counts of the
//! other groups. Names come from my chat partners, else from public profiles, loaded
//! once per person who appears. A message or the group can be reported from here.
//!
//! The server keeps no unread count for groups, so the list counts what arrives during
//! this run: by message id, since the catch-up after a reconnect replays messages.

use std::collections::HashSet;
use std::time::Instant;

use devconnect_types::{GroupChange, GroupId, GroupMessage, GroupRole, MessageId, Profile, UserId};
use ratatui::crossterm::event::{KeyCode, KeyEvent};

use super::chats::{HISTORY_PAGE, Pending, merge};
use super::keys::{ctrl, edit};
use super::report::ReportTarget;
use super::typing::their_typing;
use super::{App, Command, Failure, GroupFocus, GroupsState, OpenGroup, Phase, Screen};
use crate::input::TextInput;

/// Members whose profiles are asked for when a group opens (the longest-standing);
/// anyone else is asked for once they write.
const MEMBER_NAMES: usize = 50;

impl OpenGroup {
    pub(super) fn new(id: GroupId) -> Self {
        Self {
            id,
            members: Vec::new(),
            loading: true,
            messages: Vec::new(),
            pending: Vec::new(),
            history_loading: true,
            has_older: false,
            scroll: 0,
            read_up_to: None,
        }
    }

    fn merge(&mut self, messages: impl IntoIterator<Item = GroupMessage>) -> usize {
        merge(&mut self.messages, &mut self.pending, messages)
    }
}

/// Who a message names: its sender and, for a system message, the member it concerns.
fn people(message: &GroupMessage) -> impl Iterator<Item = UserId> {
    let subject = match message.change {
        Some(
            GroupChange::Added { user_id }
            | GroupChange::Removed { user_id }
            | GroupChange::RoleChanged { user_id, .. },
        ) => Some(user_id),
        _ => None,
    };
    std::iter::once(message.sender_id).chain(subject)
}

impl GroupsState {
    /// Messages from others in `group` not yet seen.
    #[must_use]
    pub fn unread_count(&self, group: GroupId) -> usize {
        self.unread.get(&group).map_or(0, HashSet::len)
    }

    /// Whether anyone is typing in `group`.
    #[must_use]
    pub fn someone_typing(&self, group: GroupId) -> bool {
        self.typing.keys().any(|(g, _)| *g == group)
    }

    /// Tells the open group I stopped typing, if I had said I was.
    pub(super) fn stop_typing(&mut self) -> Vec<Command> {
        self.typing_sent.stop().map(|group| Command::GroupTyping { group, typing: false }).into_iter().collect()
    }

    /// The clock: members' typing indicators expire, and mine is withdrawn when idle.
    pub(super) fn tick(&mut self, now: Instant) -> Vec<Command> {
        self.typing.retain(|_, until| *until > now);
        self.typing_sent.tick(now).map(|group| Command::GroupTyping { group, typing: false }).into_iter().collect()
    }

    /// Scrolls the conversation up; past the oldest loaded message, loads older history.
    fn scroll_up(&mut self, lines: usize) -> Vec<Command> {
        let max = self.max_scroll.get();
        let Some(open) = self.open.as_mut() else {
            return Vec::new();
        };
        if open.scroll >= max {
            if open.has_older && !open.history_loading {
                open.history_loading = true;
                let before = open.messages.first().map(|m| m.id);
                return vec![Command::LoadGroupHistory { group: open.id, before }];
            }
            return Vec::new();
        }
        open.scroll = open.scroll.saturating_add(lines).min(max);
        Vec::new()
    }

    fn scroll_down(&mut self, lines: usize) {
        if let Some(open) = self.open.as_mut() {
            open.scroll = open.scroll.saturating_sub(lines);
        }
    }

    /// Someone I just blocked: the server no longer sends me what they write in groups,
    /// nor shows it in history, so what is on screen goes too.
    pub(super) fn hide_sender(&mut self, user: UserId) {
        if let Some(open) = self.open.as_mut() {
            open.messages.retain(|m| m.sender_id != user);
        }
        self.typing.retain(|(_, who), _| *who != user);
    }
}

impl App {
    /// A person's first name, when known from my chat partners or a loaded profile.
    #[must_use]
    pub fn first_name(&self, id: UserId) -> Option<String> {
        self.known_profile(id).map(|p| p.first_name.clone())
    }

    pub(super) fn known_profile(&self, id: UserId) -> Option<&Profile> {
        self.chats.partners.iter().map(|p| &p.profile).find(|p| p.id == id).or_else(|| self.groups.profiles.get(&id))
    }

    /// How a conversation names someone: `You`, their first name, or (not known yet)
    /// `user` and the end of their id, which is what differs between ids made together.
    #[must_use]
    pub fn member_label(&self, id: UserId) -> String {
        if self.my_id() == Some(id) {
            return "You".to_owned();
        }
        self.first_name(id).unwrap_or_else(|| {
            let hex = id.to_hex();
            format!("user {}", &hex[hex.len().saturating_sub(6)..])
        })
    }

    /// A system message as a sentence ("Ada added Bob", "You joined"); `None` for a
    /// message someone wrote.
    #[must_use]
    pub fn change_sentence(&self, message: &GroupMessage) -> Option<String> {
        let change = message.change?;
        let actor = self.member_label(message.sender_id);
        let object = |id: UserId| {
            if self.my_id() == Some(id) { "you".to_owned() } else { self.member_label(id) }
        };
        let role = |role: GroupRole| match role {
            GroupRole::Owner => "the owner",
            GroupRole::Admin => "an admin",
            GroupRole::Member => "a member",
        };
        Some(match change {
            GroupChange::Created => format!("{actor} created the group"),
            GroupChange::Joined => format!("{actor} joined"),
            GroupChange::Left => format!("{actor} left"),
            GroupChange::Edited => format!("{actor} edited the group"),
            GroupChange::Added { user_id } => format!("{actor} added {}", object(user_id)),
            GroupChange::Removed { user_id } => format!("{actor} removed {}", object(user_id)),
            GroupChange::RoleChanged { user_id, role: new } if user_id == message.sender_id => {
                let verb = if actor == "You" { "are" } else { "is" };
                format!("{actor} {verb} now {}", role(new))
            }
            GroupChange::RoleChanged { user_id, role: new } => {
                format!("{actor} made {} {}", object(user_id), role(new))
            }
        })
    }

    /// Names of the members typing in `group`, in order.
    #[must_use]
    pub fn typing_in(&self, group: GroupId) -> Vec<String> {
        let mut names: Vec<String> =
            self.groups.typing.keys().filter(|(g, _)| *g == group).map(|(_, u)| self.member_label(*u)).collect();
        names.sort();
        names
    }

    /// The open group, when it is on screen.
    fn viewing_group(&self) -> Option<GroupId> {
        if self.phase != Phase::Main || self.screen != Screen::Groups {
            return None;
        }
        self.groups.open.as_ref().map(|o| o.id)
    }

    /// Asks once for the profiles of people not known by name.
    pub(super) fn ask_names(&mut self, ids: impl IntoIterator<Item = UserId>) -> Vec<Command> {
        let mut commands = Vec::new();
        for id in ids {
            if self.my_id() == Some(id) || self.known_profile(id).is_some() || !self.groups.asked.insert(id) {
                continue;
            }
            commands.push(Command::LoadProfile(id));
        }
        commands
    }

    /// Asks for the names of the first members of a member list.
    pub(super) fn ask_member_names(&mut self, members: &[UserId]) -> Vec<Command> {
        self.ask_names(members.iter().copied().take(MEMBER_NAMES))
    }

    /// Enter on a group: its conversation opens with the input focused (and what is
    /// unread there is seen); the members and the newest messages load.
    pub(super) fn open_group_chat(&mut self, id: GroupId) -> Vec<Command> {
        self.groups.focus = GroupFocus::Input;
        self.groups.unread.remove(&id);
        if self.groups.open.as_ref().is_some_and(|o| o.id == id) {
            return self.mark_group_read();
        }
        let mut commands = self.groups.stop_typing();
        self.groups.open = Some(OpenGroup::new(id));
        self.groups.input = TextInput::default();
        commands.push(Command::LoadGroupMembers(id));
        commands.push(Command::LoadGroupHistory { group: id, before: None });
        commands
    }

    /// Back to the Groups screen: the open group is seen again.
    pub(super) fn groups_shown(&mut self) -> Vec<Command> {
        if let Some(id) = self.groups.open.as_ref().map(|o| o.id) {
            self.groups.unread.remove(&id);
        }
        self.mark_group_read()
    }

    /// Moves my read position to the newest message of the group on screen, when it is
    /// newer than the last one marked.
    fn mark_group_read(&mut self) -> Vec<Command> {
        if self.viewing_group().is_none() {
            return Vec::new();
        }
        let Some(open) = self.groups.open.as_mut() else {
            return Vec::new();
        };
        let Some(newest) = open.messages.last().map(|m| m.id) else {
            return Vec::new();
        };
        if open.read_up_to >= Some(newest) {
            return Vec::new();
        }
        open.read_up_to = Some(newest);
        vec![Command::MarkGroupRead { group: open.id, up_to: newest }]
    }

    /// Opens the report picker on the last message someone else wrote in `group`, when
    /// it is the open one, then on the group.
    pub(super) fn report_group(&mut self, group: GroupId) -> Vec<Command> {
        let Some(name) = self.groups.groups.iter().find(|g| g.group.id == group).map(|g| g.group.name.clone()) else {
            return Vec::new();
        };
        let me = self.my_id();
        let last = self
            .groups
            .open
            .as_ref()
            .filter(|o| o.id == group)
            .and_then(|o| o.messages.iter().rev().find(|m| m.change.is_none() && Some(m.sender_id) != me));
        let mut targets: Vec<ReportTarget> = last
            .map(|m| ReportTarget::Message { id: m.id, author: self.member_label(m.sender_id), text: m.text.clone() })
            .into_iter()
            .collect();
        targets.push(ReportTarget::Group { id: group, name });
        self.ask_report(targets)
    }

    /// Keys while the open group's input has focus.
    pub(super) fn group_input_key(&mut self, key: &KeyEvent) -> Vec<Command> {
        let Some(group) = self.groups.open.as_ref().map(|o| o.id) else {
            self.groups.focus = GroupFocus::List;
            return Vec::new();
        };
        // Letters are text here: the picker opens with Ctrl.
        if ctrl(key, 'r') {
            return self.report_group(group);
        }
        if ctrl(key, 'e') {
            return self.ask_group_edit(group);
        }
        if ctrl(key, 'd') {
            self.toggle_group_details();
            return Vec::new();
        }
        match key.code {
            KeyCode::Esc => {
                self.groups.focus = GroupFocus::List;
                return self.groups.stop_typing();
            }
            KeyCode::Enter => return self.send_to_group(group),
            KeyCode::PageUp => return self.groups.scroll_up(10),
            KeyCode::Up => return self.groups.scroll_up(1),
            KeyCode::PageDown => self.groups.scroll_down(10),
            KeyCode::Down => self.groups.scroll_down(1),
            _ => {
                let before = self.groups.input.text().len();
                edit(&mut self.groups.input, key);
                let changed = self.groups.input.text().len() != before;
                if changed && !self.groups.input.is_empty() {
                    let now = self.now;
                    return self
                        .groups
                        .typing_sent
                        .keystroke(group, now)
                        .into_iter()
                        .map(|(group, typing)| Command::GroupTyping { group, typing })
                        .collect();
                }
            }
        }
        Vec::new()
    }

    fn send_to_group(&mut self, group: GroupId) -> Vec<Command> {
        let text = self.groups.input.text().trim().to_owned();
        if text.is_empty() {
            return Vec::new();
        }
        self.groups.input.take();
        // The same counter as 1:1 messages, kept across a relogin: the server takes a
        // repeated key for a resend and stores nothing.
        self.sent_count += 1;
        let client_msg_id = format!("tui-{}-{}", self.nonce, self.sent_count);
        let mut commands = self.groups.stop_typing();
        if let Some(open) = self.groups.open.as_mut() {
            open.pending.push(Pending { client_msg_id: client_msg_id.clone(), text: text.clone(), failed: None });
            open.scroll = 0;
        }
        commands.push(Command::SendGroupMessage { group, text, client_msg_id });
        commands
    }

    /// A failed group call, with its code (`forbidden` says I am no longer a member).
    fn group_failure(&mut self, what: &str, failure: &Failure) -> Vec<Command> {
        if let Some(commands) = self.session_failure(failure) {
            return commands;
        }
        self.error(format!("{what}: {} ({})", failure.message, failure.code));
        Vec::new()
    }

    /// `Reply::GroupHistory`: a page for the open group (a late page for another is dropped).
    pub(super) fn on_group_history(
        &mut self,
        group: GroupId,
        before: Option<MessageId>,
        result: Result<Vec<GroupMessage>, Failure>,
    ) -> Vec<Command> {
        let Some(open) = self.groups.open.as_mut().filter(|o| o.id == group) else {
            return Vec::new();
        };
        open.history_loading = false;
        match result {
            Ok(messages) => {
                if before.is_some() || open.messages.is_empty() {
                    open.has_older = messages.len() >= HISTORY_PAGE as usize;
                }
                if let Some(last) = messages.last() {
                    self.last_message_id = self.last_message_id.max(Some(last.id));
                }
                let people: Vec<UserId> = messages.iter().flat_map(people).collect();
                open.merge(messages);
                let mut commands = self.ask_names(people);
                commands.extend(self.mark_group_read());
                commands
            }
            Err(failure) => self.group_failure("Could not load the group's messages", &failure),
        }
    }

    /// `Reply::GroupSent`: the stored message replaces the pending one, or the pending
    /// one says why it was refused.
    pub(super) fn on_group_sent(
        &mut self,
        group: GroupId,
        client_msg_id: &str,
        result: Result<GroupMessage, Failure>,
    ) -> Vec<Command> {
        match result {
            Ok(message) => self.on_group_message(message, false),
            Err(failure) => {
                if let Some(open) = self.groups.open.as_mut().filter(|o| o.id == group) {
                    for p in &mut open.pending {
                        if p.client_msg_id == client_msg_id {
                            p.failed = Some(format!("{} ({})", failure.message, failure.code));
                        }
                    }
                }
                self.group_failure("Message not sent", &failure)
            }
        }
    }

    /// `Reply::GroupMarkedRead`: only an ended session matters.
    pub(super) fn on_group_marked_read(&mut self, result: Result<(), Failure>) -> Vec<Command> {
        match result {
            Ok(()) => Vec::new(),
            Err(failure) => self.session_failure(&failure).unwrap_or_default(),
        }
    }

    /// `Reply::Profile`: a name to show; without it the short id stays (and it is asked
    /// again when the person next appears).
    pub(super) fn on_profile(&mut self, id: UserId, result: Result<Profile, Failure>) -> Vec<Command> {
        match result {
            Ok(profile) => {
                self.groups.profiles.insert(id, profile);
                Vec::new()
            }
            Err(failure) => {
                self.groups.asked.remove(&id);
                self.session_failure(&failure).unwrap_or_default()
            }
        }
    }

    /// `ServerEvent::GroupTyping`.
    pub(super) fn on_group_typing(&mut self, group: GroupId, user: UserId, typing: bool) -> Vec<Command> {
        if self.my_id() == Some(user) {
            return Vec::new();
        }
        their_typing(&mut self.groups.typing, (group, user), typing, self.now);
        self.ask_names([user])
    }

    /// A group message sent or received (live, replayed, or acknowledged). Idempotent.
    pub(super) fn on_group_message(&mut self, message: GroupMessage, live: bool) -> Vec<Command> {
        let Some(me) = self.my_id() else {
            return Vec::new();
        };
        self.last_message_id = self.last_message_id.max(Some(message.id));
        let group = message.group_id;
        let incoming = message.sender_id != me;
        let mut commands = self.ask_names(people(&message));
        if incoming {
            self.groups.typing.remove(&(group, message.sender_id));
        }
        let about_me = matches!(
            message.change,
            Some(GroupChange::Added { user_id } | GroupChange::Removed { user_id } | GroupChange::RoleChanged { user_id, .. })
                if user_id == me
        );
        if about_me && incoming && live {
            let name = self.groups.groups.iter().find(|g| g.group.id == group).map(|g| g.group.name.clone());
            if let Some(sentence) = self.change_sentence(&message) {
                self.info(match name {
                    Some(name) => format!("{name}: {sentence}."),
                    None => format!("{sentence} to a group."),
                });
            }
        }
        // The list is out of date: my role changed or I was added (asked for even while
        // an answer is on the way, which may predate it), a member count changed, or a
        // group I do not know yet wrote.
        let unknown = !self.groups.groups.iter().any(|g| g.group.id == group);
        let changed = live && message.change.is_some();
        if self.groups.requested && ((about_me && incoming) || ((changed || unknown) && !self.groups.loading)) {
            commands.extend(self.groups.load());
        }
        let (id, system) = (message.id, message.change.is_some());
        let mut new = true;
        if let Some(open) = self.groups.open.as_mut().filter(|o| o.id == group) {
            new = open.merge([message]) > 0;
            if new && live && system {
                open.loading = true;
                commands.push(Command::LoadGroupMembers(group));
            }
        }
        // System messages are news in the conversation, not something to read.
        if new && incoming && !system && self.viewing_group() != Some(group) {
            self.groups.unread.entry(group).or_default().insert(id);
        }
        commands.extend(self.mark_group_read());
        commands
    }

    /// `ServerEvent::GroupMemberRemoved` about me: I left or was removed. Nothing more
    /// of the group reaches me; the list is reloaded, which closes it if it is open.
    pub(super) fn on_no_longer_member(&mut self, group: GroupId) -> Vec<Command> {
        let name = self.groups.groups.iter().find(|g| g.group.id == group).map(|g| g.group.name.clone());
        if let Some(name) = name {
            self.info(format!("You are no longer a member of {name}."));
        }
        self.groups.unread.remove(&group);
        if self.groups.requested { self.groups.load() } else { Vec::new() }
    }
}
