//! The Requests screen: connection requests received (to accept or reject, or to block
//! or report who sent them) and sent, kept current by replies and by the realtime
//! request events; and the people I blocked (the list is `safety`'s), to unblock.

use devconnect_types::{ConnectionRequest, Profile, RequestId, ReviewStatus, UserId};
use ratatui::crossterm::event::{KeyCode, KeyEvent};

use super::report::ReportTarget;
use super::{App, Command, Failure, display_name};

/// Which list of the Requests screen has focus.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RequestsPane {
    /// Requests to me.
    Received,
    /// Requests from me.
    Sent,
    /// The people I blocked.
    Blocked,
}

impl RequestsPane {
    /// All, in the order `→` goes through them.
    pub const ALL: [Self; 3] = [Self::Received, Self::Sent, Self::Blocked];
}

/// The Requests screen.
#[derive(Clone, Debug)]
pub struct RequestsState {
    /// Pending requests to me.
    pub received: Vec<ConnectionRequest<Profile, UserId>>,
    /// My requests.
    pub sent: Vec<ConnectionRequest<UserId, Profile>>,
    /// Focused list.
    pub pane: RequestsPane,
    /// Selected row of the focused list.
    pub selected: usize,
}

impl RequestsState {
    /// Someone I just blocked: the requests between us are gone.
    pub(super) fn forget(&mut self, user: UserId) {
        self.received.retain(|r| r.from_user_id.id != user);
        self.sent.retain(|r| r.to_user_id.id != user);
        let count = match self.pane {
            RequestsPane::Received => self.received.len(),
            RequestsPane::Sent => self.sent.len(),
            RequestsPane::Blocked => return,
        };
        self.selected = self.selected.min(count.saturating_sub(1));
    }
}

impl App {
    pub(super) fn requests_key(&mut self, key: &KeyEvent) -> Vec<Command> {
        let count = match self.requests.pane {
            RequestsPane::Received => self.requests.received.len(),
            RequestsPane::Sent => self.requests.sent.len(),
            RequestsPane::Blocked => self.safety.blocked.len(),
        };
        match key.code {
            KeyCode::Left | KeyCode::Right | KeyCode::Char('h' | 'l' | 's') => {
                let panes = RequestsPane::ALL.len();
                let index = RequestsPane::ALL.iter().position(|p| *p == self.requests.pane).unwrap_or(0);
                let step = if matches!(key.code, KeyCode::Left | KeyCode::Char('h')) { panes - 1 } else { 1 };
                self.requests.pane = RequestsPane::ALL[(index + step) % panes];
                self.requests.selected = 0;
                if self.requests.pane == RequestsPane::Blocked && !self.safety.loaded {
                    return vec![Command::LoadBlocked];
                }
            }
            KeyCode::Up | KeyCode::Char('k') => self.requests.selected = self.requests.selected.saturating_sub(1),
            KeyCode::Down | KeyCode::Char('j') => {
                self.requests.selected = (self.requests.selected + 1).min(count.saturating_sub(1));
            }
            KeyCode::Char('a' | 'r' | 'x') if self.requests.pane == RequestsPane::Received => {
                let status =
                    if key.code == KeyCode::Char('a') { ReviewStatus::Accepted } else { ReviewStatus::Rejected };
                if let Some(request) = self.requests.received.get(self.requests.selected) {
                    return vec![Command::Review { id: request.id, status }];
                }
            }
            KeyCode::Char('b') if self.requests.pane == RequestsPane::Received => {
                if let Some(from) = self.requests.received.get(self.requests.selected).map(|r| &r.from_user_id) {
                    let (id, name) = (from.id, display_name(from));
                    return self.ask_block(id, name);
                }
            }
            KeyCode::Char('!') if self.requests.pane == RequestsPane::Received => {
                if let Some(from) = self.requests.received.get(self.requests.selected) {
                    let target = ReportTarget::user(&from.from_user_id);
                    return self.ask_report(vec![target]);
                }
            }
            KeyCode::Char('u') if self.requests.pane == RequestsPane::Blocked => return self.unblock_selected(),
            _ => {}
        }
        Vec::new()
    }

    /// `Reply::Reviewed`: the request leaves the list; an accepted one is a new chat.
    pub(super) fn on_reviewed(
        &mut self,
        id: RequestId,
        status: ReviewStatus,
        result: Result<ConnectionRequest, Failure>,
    ) -> Vec<Command> {
        match result {
            Ok(_) => {
                let name = self
                    .requests
                    .received
                    .iter()
                    .find(|r| r.id == id)
                    .map(|r| display_name(&r.from_user_id))
                    .unwrap_or_default();
                self.requests.received.retain(|r| r.id != id);
                self.requests.selected = self.requests.selected.min(self.requests.received.len().saturating_sub(1));
                if status == ReviewStatus::Accepted {
                    self.info(format!("You are now connected with {name}. Say hi in Chats (1)."));
                    vec![Command::LoadPartners]
                } else {
                    self.info(format!("Rejected {name}'s request."));
                    Vec::new()
                }
            }
            Err(failure) => self.show_failure(&failure),
        }
    }

    /// `Reply::Received`.
    pub(super) fn on_received(
        &mut self,
        result: Result<Vec<ConnectionRequest<Profile, UserId>>, Failure>,
    ) -> Vec<Command> {
        match result {
            Ok(requests) => {
                self.requests.received = requests;
                Vec::new()
            }
            Err(failure) => self.show_failure(&failure),
        }
    }

    /// `Reply::SentRequests`.
    pub(super) fn on_sent_requests(
        &mut self,
        result: Result<Vec<ConnectionRequest<UserId, Profile>>, Failure>,
    ) -> Vec<Command> {
        match result {
            Ok(requests) => {
                self.requests.sent = requests;
                Vec::new()
            }
            Err(failure) => self.show_failure(&failure),
        }
    }

    /// `ServerEvent::ConnectionRequest`: someone wants to connect (listed once, however
    /// often the event comes).
    pub(super) fn on_connection_request(&mut self, request: ConnectionRequest<Profile, UserId>) -> Vec<Command> {
        let name = display_name(&request.from_user_id);
        if !self.requests.received.iter().any(|r| r.id == request.id) {
            self.requests.received.insert(0, request);
        }
        self.info(format!("{name} wants to connect: see Requests (3)."));
        Vec::new()
    }

    /// `ServerEvent::ConnectionAccepted`: a new chat partner, and my sent list changed.
    pub(super) fn on_connection_accepted(&mut self, request: &ConnectionRequest<UserId, Profile>) -> Vec<Command> {
        let name = display_name(&request.to_user_id);
        self.info(format!("{name} accepted your request: you can chat now."));
        vec![Command::LoadPartners, Command::LoadSent]
    }
}
