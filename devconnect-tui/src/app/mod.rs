//! The client's state and its update function: every input (a key, a server reply, a
//! realtime event, a clock tick) is a [`Msg`]; [`App::update`] changes the state and
//! returns the [`Command`]s (network calls, timers, saving the token) for the runtime to
//! carry out. Nothing here touches a terminal, a socket or the clock, so all of it is
//! tested directly; nothing here draws either (`ui` reads this state, never the reverse).
//!
//! This file routes: keys to the screen shown, replies and realtime events to the
//! module they concern, and holds what is no screen's (the phase, the screen switch, the
//! notice line, the live status). Each screen module owns its state, its keys and its
//! replies:
//!
//! - `login`: the login / signup form and `Reply::LoggedIn`.
//! - `chats`: partners, the open conversation, typing, scrolling, sending; the message
//!   replies and events.
//! - `feed`, `requests`, `profile`: their screens, replies and (for requests) events.
//! - `search`: the Search screen, searched as the query is typed (one request in flight),
//!   a result's profile, and a connection request with a note.
//! - `groups`: my groups, a group's members and details, creating, joining and leaving;
//!   `group_chat`: the open group's conversation and the group message events;
//!   `group_edit`: the form that edits a group's details.
//! - `typing`: typing indicators both ways, for partners and groups.
//! - `push`: the push notification settings under my profile (the Profile screen's
//!   keys when its form is closed).
//! - `safety`: blocking (the question before it, the people I blocked, what a block
//!   changes elsewhere); `report`: the report picker. Both are dialogs over any screen,
//!   opened by the screens that show a person, a message or a group.
//! - `session`: start-up checks with [`backoff`], logging in and out, and every way a
//!   session ends.
//! - `msg` / `command`: the inputs ([`Msg`], [`Reply`], [`LiveEvent`], [`Failure`]) and
//!   the outputs ([`Command`]); `keys`: key predicates and line editing.

use std::time::Instant;

use devconnect_client::realtime::ServerEvent;
use devconnect_types::{Me, MessageId, Profile, UserId};
use ratatui::crossterm::event::{KeyCode, KeyEvent};

use crate::input::TextInput;
use keys::{ctrl, plain};

mod chats;
mod command;
mod feed;
mod group_chat;
mod group_edit;
mod groups;
mod keys;
mod login;
mod msg;
mod profile;
mod push;
mod report;
mod requests;
mod safety;
mod search;
mod session;
mod typing;

pub use chats::{ChatFocus, ChatsState, Conversation, HISTORY_PAGE, Pending};
pub use command::{Command, NewAccountEq, ProfileChangesEq};
pub use feed::{FEED_PAGE, FeedState};
pub use group_edit::{EditError, EditField, GroupEditForm};
pub use groups::{GroupField, GroupFocus, GroupForm, GroupsState, JoinInput, OpenGroup};
pub use login::{LoginForm, LoginMode};
pub use msg::{Failure, LiveEvent, Msg, Reply};
pub use profile::ProfileForm;
pub use push::{PushOption, PushState};
pub use report::{ReportForm, ReportTarget, reason_label};
pub use requests::{RequestsPane, RequestsState};
pub use safety::{BlockConfirm, SafetyState};
pub use search::{NotePrompt, SEARCH_PAGE, SearchFocus, SearchState, parse_query};
pub use session::backoff;

/// Where the program is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Checking the server and a saved token.
    Starting,
    /// The login / signup form.
    Login,
    /// Logged in.
    Main,
}

/// The screens after login.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Screen {
    /// Chat partners and the open conversation.
    Chats,
    /// Profiles to connect with.
    Feed,
    /// Connection requests.
    Requests,
    /// My profile.
    Profile,
    /// My groups.
    Groups,
    /// Finding developers.
    Search,
}

impl Screen {
    /// All, in tab order.
    pub const ALL: [Self; 6] = [Self::Chats, Self::Feed, Self::Requests, Self::Profile, Self::Groups, Self::Search];

    /// The tab title.
    #[must_use]
    pub fn title(self) -> &'static str {
        match self {
            Self::Chats => "Chats",
            Self::Feed => "Feed",
            Self::Requests => "Requests",
            Self::Profile => "Profile",
            Self::Groups => "Groups",
            Self::Search => "Search",
        }
    }
}

/// The state of the realtime connection, as the status bar shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LiveStatus {
    /// Not started.
    Offline,
    /// First connection under way.
    Connecting,
    /// Connected.
    Connected,
    /// Lost; retrying.
    Reconnecting {
        /// Failed tries so far.
        attempt: u32,
        /// Seconds until the next try.
        retry_in_secs: u64,
    },
}

/// A line of feedback under the main area.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice {
    /// The text.
    pub text: String,
    /// Shown as an error.
    pub error: bool,
}

/// The whole client state.
#[derive(Debug)]
pub struct App {
    /// The server's base URL.
    pub server: String,
    /// Where the program is.
    pub phase: Phase,
    /// The screen shown after login.
    pub screen: Screen,
    /// The login form.
    pub login: LoginForm,
    /// Chats.
    pub chats: ChatsState,
    /// Feed.
    pub feed: FeedState,
    /// Requests.
    pub requests: RequestsState,
    /// Profile edit form, while editing.
    pub profile_form: Option<ProfileForm>,
    /// My push notification settings (on the Profile screen).
    pub push: PushState,
    /// Groups.
    pub groups: GroupsState,
    /// Search.
    pub search: SearchState,
    /// The people I blocked, and the block and report dialogs.
    pub safety: SafetyState,
    /// Me, once known.
    pub me: Option<Me>,
    /// Realtime status.
    pub live: LiveStatus,
    /// The feedback line.
    pub notice: Option<Notice>,
    /// Set while the server cannot be reached at start.
    pub server_down: Option<String>,
    /// Set when the program should end.
    pub quit: bool,
    has_token: bool,
    start_attempts: u32,
    ever_connected: bool,
    last_message_id: Option<MessageId>,
    now: Option<Instant>,
    nonce: String,
    sent_count: u64,
}

/// A profile's name as lists and notices show it (no stray space when a part is empty).
fn display_name(p: &Profile) -> String {
    let name = format!("{} {}", p.first_name, p.last_name);
    name.trim().to_owned()
}

impl App {
    /// A new client of `server`; `has_token` when a saved session exists. `nonce`
    /// makes this run's message keys unique. Returns the first commands.
    pub fn new(server: &str, has_token: bool, nonce: &str) -> (Self, Vec<Command>) {
        let app = Self {
            server: server.to_owned(),
            phase: Phase::Starting,
            screen: Screen::Chats,
            login: LoginForm::new(),
            chats: ChatsState::new(),
            feed: FeedState { page: 1, ..FeedState::default() },
            requests: RequestsState {
                received: Vec::new(),
                sent: Vec::new(),
                pane: RequestsPane::Received,
                selected: 0,
            },
            profile_form: None,
            push: PushState::default(),
            groups: GroupsState::default(),
            search: SearchState::default(),
            safety: SafetyState::default(),
            me: None,
            live: LiveStatus::Offline,
            notice: None,
            server_down: None,
            quit: false,
            has_token,
            start_attempts: 0,
            ever_connected: false,
            last_message_id: None,
            now: None,
            nonce: nonce.to_owned(),
            sent_count: 0,
        };
        (app, vec![Command::CheckHealth])
    }

    /// The newest message id seen (where a realtime reconnect catches up from).
    #[must_use]
    pub fn last_message_id(&self) -> Option<MessageId> {
        self.last_message_id
    }

    /// My user id, once logged in.
    #[must_use]
    pub fn my_id(&self) -> Option<UserId> {
        self.me.as_ref().map(|m| m.profile.id)
    }

    fn info(&mut self, text: impl Into<String>) {
        self.notice = Some(Notice { text: text.into(), error: false });
    }

    fn error(&mut self, text: impl Into<String>) {
        self.notice = Some(Notice { text: text.into(), error: true });
    }

    /// Handles one message.
    pub fn update(&mut self, msg: Msg) -> Vec<Command> {
        match msg {
            Msg::Key(key) => self.on_key(&key),
            Msg::Paste(text) => {
                if let Some(input) = self.focused_input() {
                    input.insert(&text);
                }
                if self.phase == Phase::Main && self.screen == Screen::Search && !self.safety.dialog_open() {
                    return self.search_pasted();
                }
                Vec::new()
            }
            Msg::Tick(now) => self.on_tick(now),
            Msg::Reply(reply) => self.on_reply(reply),
            Msg::Live(event) => self.on_live(event),
            Msg::RetryStart => {
                if self.phase == Phase::Main {
                    Vec::new()
                } else {
                    vec![Command::CheckHealth]
                }
            }
        }
    }

    fn focused_input(&mut self) -> Option<&mut TextInput> {
        match self.phase {
            Phase::Login => {
                let focus = self.login.focus;
                self.login.fields.get_mut(focus)
            }
            Phase::Main if self.safety.dialog_open() => self.safety.report.as_mut().map(|r| &mut r.details),
            Phase::Main => match self.screen {
                Screen::Chats if self.chats.focus == ChatFocus::Input => Some(&mut self.chats.input),
                Screen::Profile => {
                    let form = self.profile_form.as_mut()?;
                    let focus = form.focus;
                    form.fields.get_mut(focus)
                }
                Screen::Groups => self.groups.focused_input(),
                Screen::Search => self.search.focused_input(),
                _ => None,
            },
            Phase::Starting => None,
        }
    }

    fn on_tick(&mut self, now: Instant) -> Vec<Command> {
        self.now = Some(now);
        let mut commands = self.chats.tick(now);
        commands.extend(self.groups.tick(now));
        commands
    }

    /// Tells whoever I said I was typing to (a partner, a group) that I stopped.
    fn stop_typing(&mut self) -> Vec<Command> {
        let mut commands = self.chats.stop_typing();
        commands.extend(self.groups.stop_typing());
        commands
    }

    fn on_key(&mut self, key: &KeyEvent) -> Vec<Command> {
        if ctrl(key, 'c') {
            self.quit = true;
            return vec![Command::Quit];
        }
        match self.phase {
            Phase::Starting => {
                if key.code == KeyCode::Char('q') || key.code == KeyCode::Esc {
                    self.quit = true;
                    return vec![Command::Quit];
                }
                Vec::new()
            }
            Phase::Login => self.login_key(key),
            Phase::Main => self.main_key(key),
        }
    }

    fn main_key(&mut self, key: &KeyEvent) -> Vec<Command> {
        // A dialog over the screen (block, report) takes every key until it closes.
        if self.safety.dialog_open() {
            return self.dialog_key(key);
        }
        // Function keys switch screens from anywhere, even while typing.
        if let KeyCode::F(n @ 1..=6) = key.code {
            return self.switch(Screen::ALL[usize::from(n - 1)]);
        }
        let typing = match self.screen {
            Screen::Chats => self.chats.focus == ChatFocus::Input,
            Screen::Profile => self.profile_form.is_some(),
            Screen::Groups => self.groups.typing(),
            Screen::Search => self.search.typing(),
            _ => false,
        };
        if typing {
            return match self.screen {
                Screen::Chats => self.chat_input_key(key),
                Screen::Groups => self.groups_input_key(key),
                Screen::Search => self.search_input_key(key),
                _ => self.profile_form_key(key),
            };
        }
        if plain(key) {
            match key.code {
                KeyCode::Char(c @ '1'..='6') => {
                    let index = usize::from(c as u8 - b'1');
                    return self.switch(Screen::ALL[index]);
                }
                KeyCode::Tab => return self.next_screen(),
                KeyCode::Char('q') => {
                    self.quit = true;
                    return vec![Command::Quit];
                }
                KeyCode::Char('L') => return self.logout("Logged out."),
                KeyCode::Char('r') if self.screen != Screen::Requests => return self.refresh(),
                KeyCode::Char('R') => return self.refresh(),
                _ => {}
            }
        }
        match self.screen {
            Screen::Chats => self.chat_list_key(key),
            Screen::Feed => self.feed_key(key),
            Screen::Requests => self.requests_key(key),
            Screen::Profile => self.profile_key(key),
            Screen::Groups => self.groups_key(key),
            Screen::Search => self.search_key(key),
        }
    }

    fn next_screen(&mut self) -> Vec<Command> {
        let index = Screen::ALL.iter().position(|s| *s == self.screen).unwrap_or(0);
        self.switch(Screen::ALL[(index + 1) % Screen::ALL.len()])
    }

    fn switch(&mut self, screen: Screen) -> Vec<Command> {
        let mut commands = self.stop_typing();
        if screen == Screen::Chats && self.screen == Screen::Chats && self.chats.focus == ChatFocus::Input {
            self.chats.focus = ChatFocus::List;
        }
        self.screen = screen;
        if screen == Screen::Feed && self.feed.profiles.is_empty() && !self.feed.loading {
            self.feed.loading = true;
            commands.push(Command::LoadFeed { page: self.feed.page });
        }
        if screen == Screen::Groups {
            commands.extend(self.groups_opened());
            commands.extend(self.groups_shown());
        }
        if screen == Screen::Search {
            commands.extend(self.search_opened());
        }
        if screen == Screen::Profile {
            commands.extend(self.push_opened());
        }
        commands
    }

    fn refresh(&mut self) -> Vec<Command> {
        match self.screen {
            Screen::Chats => {
                let mut commands = vec![Command::LoadPartners];
                if let Some(open) = &self.chats.open {
                    commands.push(Command::LoadHistory { with: open.with, before: None });
                }
                commands
            }
            Screen::Feed => {
                self.feed.loading = true;
                vec![Command::LoadFeed { page: self.feed.page }]
            }
            Screen::Requests => vec![Command::LoadReceived, Command::LoadSent, Command::LoadBlocked],
            Screen::Profile => {
                let mut commands = vec![Command::LoadMe];
                commands.extend(self.push_reload());
                commands
            }
            Screen::Groups => self.groups_refresh(),
            Screen::Search => self.search_refresh(),
        }
    }

    /// Each reply goes to the module of the screen (or the session) it concerns.
    fn on_reply(&mut self, reply: Reply) -> Vec<Command> {
        match reply {
            Reply::Health(result) => self.on_health(result),
            Reply::Me(result) => self.on_me(result),
            Reply::LoggedIn(result) => self.on_logged_in(result),
            Reply::Partners(result) => self.on_partners(result),
            Reply::History { with, before, result } => self.on_history(with, before, result),
            Reply::Sent { to, client_msg_id, result } => self.on_sent(to, &client_msg_id, result),
            Reply::MarkedRead(result) => self.on_marked_read(result),
            Reply::Feed(result) => self.on_feed(result),
            Reply::RequestSent { to, status, result } => self.on_request_sent(to, status, result),
            Reply::Reviewed { id, status, result } => self.on_reviewed(id, status, result),
            Reply::Received(result) => self.on_received(result),
            Reply::SentRequests(result) => self.on_sent_requests(result),
            Reply::ProfileSaved(result) => self.on_profile_saved(result),
            Reply::MyGroups(result) => self.on_my_groups(result),
            Reply::GroupMembers { id, result } => self.on_group_members(id, result),
            Reply::GroupCreated(result) => self.on_group_created(result),
            Reply::GroupJoined(result) => self.on_group_joined(result),
            Reply::GroupLeft { id, result } => self.on_group_left(id, result),
            Reply::GroupEdited { id, result } => self.on_group_edited(id, result),
            Reply::GroupHistory { group, before, result } => self.on_group_history(group, before, result),
            Reply::GroupSent { group, client_msg_id, result } => self.on_group_sent(group, &client_msg_id, result),
            Reply::GroupMarkedRead(result) => self.on_group_marked_read(result),
            Reply::Profile { id, result } => self.on_profile(id, result),
            Reply::Blocked { user, result } => self.on_blocked(user, result),
            Reply::Unblocked { user, result } => self.on_unblocked(user, result),
            Reply::BlockedUsers(result) => self.on_blocked_users(result),
            Reply::Reported(result) => self.on_reported(result),
            Reply::Search { query, result } => self.on_search(query, result),
            Reply::PushSettings(result) => self.on_push_settings(result),
            Reply::PushSettingsSaved(result) => self.on_push_settings_saved(result),
        }
    }

    /// The live status is shown in the top bar; events from the server go to the
    /// module they concern.
    fn on_live(&mut self, event: LiveEvent) -> Vec<Command> {
        if self.phase != Phase::Main {
            return Vec::new();
        }
        match event {
            LiveEvent::Connecting { attempt } => {
                if !self.ever_connected && attempt <= 1 {
                    self.live = LiveStatus::Connecting;
                }
                Vec::new()
            }
            LiveEvent::Connected => {
                self.live = LiveStatus::Connected;
                let reconnect = std::mem::replace(&mut self.ever_connected, true);
                if !reconnect {
                    return Vec::new();
                }
                // Catch up on what changed while offline (messages also come replayed
                // from the server; both are deduplicated by id).
                let mut commands = vec![Command::LoadPartners, Command::LoadReceived, Command::LoadSent];
                if let Some(open) = &self.chats.open {
                    commands.push(Command::LoadHistory { with: open.with, before: None });
                }
                if let Some(open) = &self.groups.open {
                    commands.push(Command::LoadGroupHistory { group: open.id, before: None });
                }
                commands
            }
            LiveEvent::Waiting { attempt, retry_in, .. } => {
                self.live = LiveStatus::Reconnecting { attempt, retry_in_secs: retry_in.as_secs().max(1) };
                Vec::new()
            }
            LiveEvent::Refused(failure) => {
                if failure.unauthorized() {
                    return self.session_failure(&failure).unwrap_or_default();
                }
                self.error(format!("Live updates refused: {}", failure.message));
                Vec::new()
            }
            LiveEvent::Server(event) => self.on_server_event(event),
        }
    }

    fn on_server_event(&mut self, event: ServerEvent) -> Vec<Command> {
        match event {
            ServerEvent::NewMessage(message) => self.on_message(message, true),
            ServerEvent::OnlineUsers(ids) => {
                self.chats.online = Some(ids.into_iter().collect());
                Vec::new()
            }
            ServerEvent::Typing { user_id, typing } => {
                self.chats.their_typing(user_id, typing, self.now);
                Vec::new()
            }
            ServerEvent::MessagesRead { user_id, up_to } => {
                self.chats.read_by_them(user_id, up_to);
                Vec::new()
            }
            ServerEvent::ConnectionRequest(request) => self.on_connection_request(request),
            ServerEvent::ConnectionAccepted(request) => self.on_connection_accepted(&request),
            ServerEvent::SessionEnded { code, message } => self.on_session_ended(&code, &message),
            // Group messages (live and caught up) never count as 1:1 ones.
            ServerEvent::GroupMessage(message) => self.on_group_message(message, true),
            ServerEvent::GroupTyping { group_id, user_id, typing } => self.on_group_typing(group_id, user_id, typing),
            // Other members' read positions are not shown.
            ServerEvent::GroupRead { .. } => Vec::new(),
            ServerEvent::GroupMemberRemoved { group_id, user_id } if Some(user_id) == self.my_id() => {
                self.on_no_longer_member(group_id)
            }
            ServerEvent::GroupUpdated(group) => self.on_group_updated(group),
            _ => Vec::new(),
        }
    }
}
