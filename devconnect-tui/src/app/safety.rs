//! Blocking: the confirmation asked before a block (it removes the connection and any
//! pending request, so it is not one key away), the people I blocked (the Blocked pane
//! of the Requests screen) with unblocking, and what a confirmed block changes on the
//! other screens. The screens only say whom (`ask_block`); the report picker, the other
//! dialog of trust and safety, is in `report`.
//!
//! The server keeps the history of a blocked person readable, so they may stay among my
//! chat partners; drawing marks them with [`SafetyState::is_blocked`].

use devconnect_types::{BlockedUser, UserId};
use ratatui::crossterm::event::{KeyCode, KeyEvent};

use super::report::ReportForm;
use super::{App, Command, Failure, RequestsPane, display_name};

/// The question asked before blocking someone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockConfirm {
    /// Whom.
    pub user: UserId,
    /// Their name, as the question shows it.
    pub name: String,
    /// Confirmed; waiting for the server.
    pub busy: bool,
}

/// Blocks and reports: the people I blocked and the dialog open, if any.
#[derive(Clone, Debug, Default)]
pub struct SafetyState {
    /// The people I blocked, most recently blocked first.
    pub blocked: Vec<BlockedUser>,
    /// The list has been loaded at least once.
    pub loaded: bool,
    /// The block question, while asked.
    pub confirm: Option<BlockConfirm>,
    /// The report picker, while open.
    pub report: Option<ReportForm>,
}

impl SafetyState {
    /// Whether I blocked `user` (as of the last answer from the server).
    #[must_use]
    pub fn is_blocked(&self, user: UserId) -> bool {
        self.blocked.iter().any(|b| b.user.id == user)
    }

    /// Whether a dialog (the block question or the report picker) takes the keys.
    #[must_use]
    pub fn dialog_open(&self) -> bool {
        self.confirm.is_some() || self.report.is_some()
    }
}

impl App {
    /// Asks whether to block `user`; nothing is sent before `y`.
    pub(super) fn ask_block(&mut self, user: UserId, name: String) -> Vec<Command> {
        if self.safety.is_blocked(user) {
            self.info(format!("You already blocked {name}: Requests (3) › Blocked lists them."));
            return Vec::new();
        }
        self.safety.report = None;
        self.safety.confirm = Some(BlockConfirm { user, name, busy: false });
        Vec::new()
    }

    /// Keys while a dialog is open: it takes them all (Ctrl-C aside), so nothing typed
    /// there reaches the screen behind.
    pub(super) fn dialog_key(&mut self, key: &KeyEvent) -> Vec<Command> {
        if self.safety.report.is_some() {
            return self.report_key(key);
        }
        let Some(confirm) = self.safety.confirm.as_mut() else {
            return Vec::new();
        };
        match key.code {
            KeyCode::Char('y' | 'Y') if !confirm.busy => {
                confirm.busy = true;
                let (user, name) = (confirm.user, confirm.name.clone());
                self.info(format!("Blocking {name}…"));
                vec![Command::Block(user)]
            }
            // The answer still counts if it comes after the question is closed.
            KeyCode::Char('n' | 'N') | KeyCode::Esc => {
                let busy = confirm.busy;
                self.safety.confirm = None;
                if !busy {
                    self.info("Not blocked.");
                }
                Vec::new()
            }
            _ => Vec::new(),
        }
    }

    /// `u` on the Blocked pane: lift the block of the selected person.
    pub(super) fn unblock_selected(&mut self) -> Vec<Command> {
        let Some((user, name)) =
            self.safety.blocked.get(self.requests.selected).map(|b| (b.user.id, display_name(&b.user)))
        else {
            return Vec::new();
        };
        self.info(format!("Unblocking {name}…"));
        vec![Command::Unblock(user)]
    }

    /// The name to show for someone just (un)blocked: from the question, the blocked
    /// list or any profile this client holds.
    fn blocked_name(&self, user: UserId) -> String {
        self.safety
            .confirm
            .as_ref()
            .filter(|c| c.user == user)
            .map(|c| c.name.clone())
            .or_else(|| self.safety.blocked.iter().find(|b| b.user.id == user).map(|b| display_name(&b.user)))
            .or_else(|| self.known_profile(user).map(display_name))
            .unwrap_or_else(|| "them".to_owned())
    }

    /// `Reply::Blocked`: the conversation with them closes, they leave the feed and the
    /// request lists at once, their messages leave the open group (the server no longer
    /// sends them), and every list reloads.
    pub(super) fn on_blocked(&mut self, user: UserId, result: Result<(), Failure>) -> Vec<Command> {
        let name = self.blocked_name(user);
        if self.safety.confirm.as_ref().is_some_and(|c| c.user == user) {
            self.safety.confirm = None;
        }
        if let Err(failure) = result {
            return self.show_failure(&failure);
        }
        let mut commands = self.chats.forget(user);
        commands.extend(self.feed.forget(user));
        self.search.forget(user);
        self.requests.forget(user);
        self.groups.hide_sender(user);
        self.info(format!("Blocked {name}. Requests (3) › Blocked lists the people you blocked."));
        commands.extend([Command::LoadPartners, Command::LoadReceived, Command::LoadSent, Command::LoadBlocked]);
        commands
    }

    /// `Reply::Unblocked`: they leave the list; nothing else comes back by itself.
    pub(super) fn on_unblocked(&mut self, user: UserId, result: Result<(), Failure>) -> Vec<Command> {
        let name = self.blocked_name(user);
        if let Err(failure) = result {
            return self.show_failure(&failure);
        }
        self.safety.blocked.retain(|b| b.user.id != user);
        self.clamp_blocked_selection();
        self.info(format!("Unblocked {name}. To chat again, one of you sends a request."));
        vec![Command::LoadBlocked, Command::LoadPartners]
    }

    /// `Reply::BlockedUsers`.
    pub(super) fn on_blocked_users(&mut self, result: Result<Vec<BlockedUser>, Failure>) -> Vec<Command> {
        match result {
            Ok(blocked) => {
                self.safety.blocked = blocked;
                self.safety.loaded = true;
                self.clamp_blocked_selection();
                Vec::new()
            }
            Err(failure) => self.show_failure(&failure),
        }
    }

    fn clamp_blocked_selection(&mut self) {
        if self.requests.pane == RequestsPane::Blocked {
            self.requests.selected = self.requests.selected.min(self.safety.blocked.len().saturating_sub(1));
        }
    }
}
