//! The Chats screen: the partner list, the open conversation (history pages, scrolling,
//! pending and refused messages), the input line and typing indicators both ways. It
//! owns the replies and realtime events about messages. From the list or the open
//! conversation, a partner can be blocked or reported (the dialogs are `safety`'s and
//! `report`'s).

use std::cell::Cell;
use std::collections::{HashMap, HashSet};
use std::time::Instant;

use chrono::{DateTime, Utc};
use devconnect_types::{ChatPartner, GroupMessage, Message, MessageId, UserId};
use ratatui::crossterm::event::{KeyCode, KeyEvent};

use super::keys::{ctrl, edit};
use super::report::ReportTarget;
use super::typing::{self, Announcer};
use super::{App, Command, Failure, display_name};
use crate::input::TextInput;

/// Messages asked for per history page (1:1 and group).
pub const HISTORY_PAGE: u32 = 50;

/// A message on its way to the server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pending {
    /// The idempotency key.
    pub client_msg_id: String,
    /// The text.
    pub text: String,
    /// Why sending failed, if it did.
    pub failed: Option<String>,
}

/// The open conversation.
#[derive(Clone, Debug)]
pub struct Conversation {
    /// With whom.
    pub with: UserId,
    /// Messages, in order.
    pub messages: Vec<Message>,
    /// My messages not yet stored.
    pub pending: Vec<Pending>,
    /// A history page is loading.
    pub loading: bool,
    /// Older messages may exist.
    pub has_older: bool,
    /// Lines scrolled up from the bottom.
    pub scroll: usize,
}

impl Conversation {
    fn new(with: UserId) -> Self {
        Self { with, messages: Vec::new(), pending: Vec::new(), loading: true, has_older: false, scroll: 0 }
    }

    fn merge(&mut self, messages: impl IntoIterator<Item = Message>) -> usize {
        merge(&mut self.messages, &mut self.pending, messages)
    }
}

/// A stored message of either kind, as a conversation keeps it.
pub(super) trait Stored {
    fn id(&self) -> MessageId;
    fn client_msg_id(&self) -> Option<&str>;
    fn created_at(&self) -> DateTime<Utc>;
}

impl Stored for Message {
    fn id(&self) -> MessageId {
        self.id
    }
    fn client_msg_id(&self) -> Option<&str> {
        self.client_msg_id.as_deref()
    }
    fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }
}

impl Stored for GroupMessage {
    fn id(&self) -> MessageId {
        self.id
    }
    fn client_msg_id(&self) -> Option<&str> {
        self.client_msg_id.as_deref()
    }
    fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }
}

/// Adds messages not already present (live, replayed and paged copies are the same
/// message), keeping the server's order; a stored one replaces my pending copy. Returns
/// how many were new.
pub(super) fn merge<M: Stored>(
    messages: &mut Vec<M>,
    pending: &mut Vec<Pending>,
    new: impl IntoIterator<Item = M>,
) -> usize {
    let mut known: HashSet<MessageId> = messages.iter().map(Stored::id).collect();
    let mut added = 0;
    for message in new {
        if known.insert(message.id()) {
            if let Some(key) = message.client_msg_id() {
                pending.retain(|p| p.client_msg_id != key);
            }
            messages.push(message);
            added += 1;
        }
    }
    if added > 0 {
        messages.sort_by(|a, b| a.created_at().cmp(&b.created_at()).then(a.id().cmp(&b.id())));
    }
    added
}

/// Where keys go on the Chats screen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChatFocus {
    /// The partner list.
    List,
    /// The input line of the open conversation.
    Input,
}

/// The Chats screen.
#[derive(Clone, Debug)]
pub struct ChatsState {
    /// Partners, most recent conversation first.
    pub partners: Vec<ChatPartner>,
    /// The selected partner.
    pub selected: usize,
    /// The open conversation.
    pub open: Option<Conversation>,
    /// Where keys go.
    pub focus: ChatFocus,
    /// The message being written.
    pub input: TextInput,
    /// Online users from the realtime connection (`None` until it says).
    pub online: Option<HashSet<UserId>>,
    /// Partners typing to me, until when to show it.
    pub typing: HashMap<UserId, Instant>,
    /// Whether I told a partner I am typing.
    typing_sent: Announcer<UserId>,
    /// The most scroll the conversation view allows (written by drawing).
    pub max_scroll: Cell<usize>,
}

impl ChatsState {
    pub(super) fn new() -> Self {
        Self {
            partners: Vec::new(),
            selected: 0,
            open: None,
            focus: ChatFocus::List,
            input: TextInput::default(),
            online: None,
            typing: HashMap::new(),
            typing_sent: Announcer::default(),
            max_scroll: Cell::new(usize::MAX),
        }
    }

    /// Whether a partner is online.
    #[must_use]
    pub fn is_online(&self, partner: &ChatPartner) -> bool {
        match &self.online {
            Some(set) => set.contains(&partner.profile.id),
            None => partner.online,
        }
    }

    /// The partner of the open conversation.
    #[must_use]
    pub fn open_partner(&self) -> Option<&ChatPartner> {
        let with = self.open.as_ref()?.with;
        self.partners.iter().find(|p| p.profile.id == with)
    }

    /// Someone I just blocked: the conversation with them closes (telling them I
    /// stopped typing, while that still reaches them) and their typing is forgotten.
    pub(super) fn forget(&mut self, user: UserId) -> Vec<Command> {
        self.typing.remove(&user);
        if self.open.as_ref().is_none_or(|c| c.with != user) {
            return Vec::new();
        }
        self.open = None;
        self.focus = ChatFocus::List;
        self.input = TextInput::default();
        self.stop_typing()
    }

    /// Tells the partner I stopped typing, if I had said I was.
    pub(super) fn stop_typing(&mut self) -> Vec<Command> {
        self.typing_sent.stop().map(|to| Command::Typing { to, typing: false }).into_iter().collect()
    }

    /// The clock: their typing indicators expire, and mine is withdrawn when idle.
    pub(super) fn tick(&mut self, now: Instant) -> Vec<Command> {
        self.typing.retain(|_, until| *until > now);
        self.typing_sent.tick(now).map(|to| Command::Typing { to, typing: false }).into_iter().collect()
    }

    /// A keystroke in the input to `to` at `now`: announce typing now and then.
    fn note_typing(&mut self, to: UserId, now: Option<Instant>) -> Vec<Command> {
        self.typing_sent.keystroke(to, now).into_iter().map(|(to, typing)| Command::Typing { to, typing }).collect()
    }

    /// Scrolls the conversation up; past the oldest loaded message, loads older history.
    fn scroll_up(&mut self, lines: usize) -> Vec<Command> {
        let max = self.max_scroll.get();
        let Some(open) = self.open.as_mut() else {
            return Vec::new();
        };
        if open.scroll >= max {
            if open.has_older && !open.loading {
                open.loading = true;
                let before = open.messages.first().map(|m| m.id);
                return vec![Command::LoadHistory { with: open.with, before }];
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

    /// `ServerEvent::Typing`: show theirs for a few seconds from `now`.
    pub(super) fn their_typing(&mut self, user_id: UserId, typing: bool, now: Option<Instant>) {
        typing::their_typing(&mut self.typing, user_id, typing, now);
    }

    /// `ServerEvent::MessagesRead`: my messages to `user_id` up to `up_to` are read.
    pub(super) fn read_by_them(&mut self, user_id: UserId, up_to: MessageId) {
        if let Some(open) = self.open.as_mut().filter(|c| c.with == user_id) {
            let read_at = open.messages.iter().find(|m| m.id == up_to).map(|m| m.created_at);
            for m in &mut open.messages {
                if m.receiver_id == user_id && m.id <= up_to && m.read_at.is_none() {
                    m.read_at = read_at.or(Some(m.created_at));
                }
            }
        }
    }
}

impl App {
    pub(super) fn chat_list_key(&mut self, key: &KeyEvent) -> Vec<Command> {
        let count = self.chats.partners.len();
        match key.code {
            KeyCode::Up | KeyCode::Char('k') => self.chats.selected = self.chats.selected.saturating_sub(1),
            KeyCode::Down | KeyCode::Char('j') => {
                self.chats.selected = (self.chats.selected + 1).min(count.saturating_sub(1));
            }
            KeyCode::Enter | KeyCode::Right | KeyCode::Char('l') => {
                let Some(partner) = self.chats.partners.get_mut(self.chats.selected) else {
                    self.info("No chats yet: connect with someone from the Feed (2) first.");
                    return Vec::new();
                };
                let with = partner.profile.id;
                partner.unread_count = 0;
                self.chats.focus = ChatFocus::Input;
                if self.chats.open.as_ref().is_some_and(|c| c.with == with) {
                    return vec![Command::MarkRead(with)];
                }
                self.chats.open = Some(Conversation::new(with));
                self.chats.input = TextInput::default();
                return vec![Command::LoadHistory { with, before: None }, Command::MarkRead(with)];
            }
            KeyCode::Char('b') => {
                if let Some(with) = self.chats.partners.get(self.chats.selected).map(|p| p.profile.id) {
                    return self.block_partner(with);
                }
            }
            KeyCode::Char('!') => {
                if let Some(with) = self.chats.partners.get(self.chats.selected).map(|p| p.profile.id) {
                    return self.report_partner(with);
                }
            }
            _ => {}
        }
        Vec::new()
    }

    /// Asks whether to block a partner.
    fn block_partner(&mut self, with: UserId) -> Vec<Command> {
        let name = self.chats.partners.iter().find(|p| p.profile.id == with).map(|p| display_name(&p.profile));
        self.ask_block(with, name.unwrap_or_else(|| "them".to_owned()))
    }

    /// Opens the report picker on a partner's last message to me (from the open
    /// conversation, else the list's last message), then on them.
    fn report_partner(&mut self, with: UserId) -> Vec<Command> {
        let Some(partner) = self.chats.partners.iter().find(|p| p.profile.id == with) else {
            return Vec::new();
        };
        let open = self.chats.open.as_ref().filter(|c| c.with == with);
        let last = match open {
            Some(open) => open.messages.iter().rev().find(|m| m.sender_id == with),
            None => partner.last_message.as_ref().filter(|m| m.sender_id == with),
        };
        let mut targets: Vec<ReportTarget> = last
            .map(|m| ReportTarget::Message {
                id: m.id,
                author: partner.profile.first_name.clone(),
                text: m.text.clone(),
            })
            .into_iter()
            .collect();
        targets.push(ReportTarget::user(&partner.profile));
        self.ask_report(targets)
    }

    pub(super) fn chat_input_key(&mut self, key: &KeyEvent) -> Vec<Command> {
        let Some(with) = self.chats.open.as_ref().map(|c| c.with) else {
            self.chats.focus = ChatFocus::List;
            return Vec::new();
        };
        // Letters are text here: the dialogs open with Ctrl.
        if ctrl(key, 'r') {
            return self.report_partner(with);
        }
        if ctrl(key, 'x') {
            return self.block_partner(with);
        }
        match key.code {
            KeyCode::Esc => {
                self.chats.focus = ChatFocus::List;
                return self.chats.stop_typing();
            }
            KeyCode::Enter => return self.send(with),
            KeyCode::PageUp => return self.chats.scroll_up(10),
            KeyCode::Up => return self.chats.scroll_up(1),
            KeyCode::PageDown => self.chats.scroll_down(10),
            KeyCode::Down => self.chats.scroll_down(1),
            _ => {
                let before = self.chats.input.text().len();
                edit(&mut self.chats.input, key);
                let changed = self.chats.input.text().len() != before;
                if changed && !self.chats.input.is_empty() {
                    return self.chats.note_typing(with, self.now);
                }
            }
        }
        Vec::new()
    }

    fn send(&mut self, to: UserId) -> Vec<Command> {
        let text = self.chats.input.text().trim().to_owned();
        if text.is_empty() {
            return Vec::new();
        }
        self.chats.input.take();
        self.sent_count += 1;
        let client_msg_id = format!("tui-{}-{}", self.nonce, self.sent_count);
        let mut commands = self.chats.stop_typing();
        if let Some(open) = self.chats.open.as_mut() {
            open.pending.push(Pending { client_msg_id: client_msg_id.clone(), text: text.clone(), failed: None });
            open.scroll = 0;
        }
        commands.push(Command::SendMessage { to, text, client_msg_id });
        commands.push(Command::MarkRead(to));
        commands
    }

    /// `Reply::Partners`: the new list keeps the selection and the open chat read.
    pub(super) fn on_partners(&mut self, result: Result<Vec<ChatPartner>, Failure>) -> Vec<Command> {
        match result {
            Ok(partners) => {
                let selected = self.chats.partners.get(self.chats.selected).map(|p| p.profile.id);
                self.chats.partners = partners;
                if let Some(open) = &self.chats.open {
                    let with = open.with;
                    if let Some(p) = self.chats.partners.iter_mut().find(|p| p.profile.id == with) {
                        p.unread_count = 0;
                    }
                }
                for p in &self.chats.partners {
                    if let Some(m) = &p.last_message {
                        self.last_message_id = self.last_message_id.max(Some(m.id));
                    }
                }
                self.chats.selected =
                    selected.and_then(|id| self.chats.partners.iter().position(|p| p.profile.id == id)).unwrap_or(0);
                Vec::new()
            }
            Err(failure) => self.show_failure(&failure),
        }
    }

    /// `Reply::History`: a page for the open conversation (a late page for another is dropped).
    pub(super) fn on_history(
        &mut self,
        with: UserId,
        before: Option<MessageId>,
        result: Result<Vec<Message>, Failure>,
    ) -> Vec<Command> {
        let Some(open) = self.chats.open.as_mut().filter(|c| c.with == with) else {
            return Vec::new();
        };
        open.loading = false;
        match result {
            Ok(messages) => {
                let full = messages.len() >= HISTORY_PAGE as usize;
                if before.is_some() || open.messages.is_empty() {
                    open.has_older = full;
                }
                if let Some(last) = messages.last() {
                    self.last_message_id = self.last_message_id.max(Some(last.id));
                }
                open.merge(messages);
                Vec::new()
            }
            Err(failure) => self.show_failure(&failure),
        }
    }

    /// `Reply::Sent`: the stored message replaces the pending one, or the pending one
    /// says why it was refused.
    pub(super) fn on_sent(
        &mut self,
        to: UserId,
        client_msg_id: &str,
        result: Result<Message, Failure>,
    ) -> Vec<Command> {
        match result {
            Ok(message) => {
                self.on_message(message, false);
                Vec::new()
            }
            Err(failure) => {
                if let Some(open) = self.chats.open.as_mut().filter(|c| c.with == to) {
                    for p in &mut open.pending {
                        if p.client_msg_id == client_msg_id {
                            p.failed = Some(failure.message.clone());
                        }
                    }
                }
                if let Some(commands) = self.session_failure(&failure) {
                    return commands;
                }
                self.error(format!("Message not sent: {}", failure.message));
                Vec::new()
            }
        }
    }

    /// `Reply::MarkedRead`: only an ended session matters.
    pub(super) fn on_marked_read(&mut self, result: Result<(), Failure>) -> Vec<Command> {
        match result {
            Ok(()) => Vec::new(),
            Err(failure) => self.session_failure(&failure).unwrap_or_default(),
        }
    }

    /// A message sent or received (live, replayed, or acknowledged). Idempotent.
    pub(super) fn on_message(&mut self, message: Message, live: bool) -> Vec<Command> {
        let Some(me) = self.my_id() else {
            return Vec::new();
        };
        let other = if message.sender_id == me { message.receiver_id } else { message.sender_id };
        let incoming = message.sender_id != me;
        self.last_message_id = self.last_message_id.max(Some(message.id));
        let mut commands = Vec::new();
        let open_here = self.chats.open.as_ref().is_some_and(|c| c.with == other);
        let mut new = true;
        if let Some(open) = self.chats.open.as_mut().filter(|c| c.with == other) {
            new = open.merge([message.clone()]) > 0;
        }
        if incoming && new {
            self.chats.typing.remove(&other);
        }
        match self.chats.partners.iter().position(|p| p.profile.id == other) {
            Some(index) => {
                let seen = self.chats.partners[index].last_message.as_ref().is_some_and(|m| m.id >= message.id);
                if !seen {
                    let selected_id = self.chats.partners.get(self.chats.selected).map(|p| p.profile.id);
                    let mut partner = self.chats.partners.remove(index);
                    if incoming && !open_here {
                        partner.unread_count += 1;
                    }
                    partner.last_message = Some(message);
                    self.chats.partners.insert(0, partner);
                    if let Some(id) = selected_id {
                        self.chats.selected = self.chats.partners.iter().position(|p| p.profile.id == id).unwrap_or(0);
                    }
                    if incoming && open_here && new && live {
                        commands.push(Command::MarkRead(other));
                    }
                }
            }
            None => commands.push(Command::LoadPartners),
        }
        commands
    }
}
