//! The session's life: checking the server at start (retrying with [`backoff`] while
//! it is unreachable), validating a saved token, logging in, and ending the session —
//! by the logout key, a refused token on any call, or the server's `sessionEnded` —
//! which always returns to the login form with nothing of the old session kept.

use std::time::Duration;

use devconnect_types::Me;

use super::{App, Command, Failure, LiveStatus, Phase};
use crate::input::TextInput;

/// Delay before the `attempt`-th retry (1-based): 1, 2, 4, 8, 15, 15, … seconds.
#[must_use]
pub fn backoff(attempt: u32) -> Duration {
    let secs = 1u64 << attempt.saturating_sub(1).min(4);
    Duration::from_secs(secs.min(15))
}

impl App {
    /// `Reply::Health`: the server answers; with a saved token, check it next.
    pub(super) fn on_health(&mut self, result: Result<(), Failure>) -> Vec<Command> {
        match result {
            Ok(()) => {
                self.server_down = None;
                self.start_attempts = 0;
                if self.phase == Phase::Main {
                    return Vec::new();
                }
                if self.has_token {
                    self.phase = Phase::Starting;
                    vec![Command::LoadMe]
                } else {
                    self.phase = Phase::Login;
                    Vec::new()
                }
            }
            Err(failure) => self.server_unreachable(&failure),
        }
    }

    /// `Reply::Me`: at start it validates the saved token; later it refreshes my profile.
    pub(super) fn on_me(&mut self, result: Result<Me, Failure>) -> Vec<Command> {
        match result {
            Ok(me) => {
                if self.phase == Phase::Main {
                    self.me = Some(me);
                    return Vec::new();
                }
                self.logged_in(me)
            }
            Err(failure) if self.phase == Phase::Starting && failure.unauthorized() => {
                self.has_token = false;
                self.phase = Phase::Login;
                self.error("Your saved session has expired; please log in again.");
                vec![Command::ForgetToken]
            }
            Err(failure) if self.phase == Phase::Starting => self.server_unreachable(&failure),
            Err(failure) => self.show_failure(&failure),
        }
    }

    /// The server cannot be reached (or answers with an error) while starting: say so and
    /// retry after [`backoff`].
    fn server_unreachable(&mut self, failure: &Failure) -> Vec<Command> {
        self.start_attempts += 1;
        let delay = backoff(self.start_attempts);
        let what =
            if failure.unreachable() { failure.message.clone() } else { format!("server error: {}", failure.message) };
        self.server_down = Some(format!("Cannot reach {}: {what}. Retrying in {} s…", self.server, delay.as_secs()));
        if !self.has_token && self.phase == Phase::Starting {
            // Let the user type their credentials meanwhile.
            self.phase = Phase::Login;
        }
        vec![Command::RetryLater(delay)]
    }

    /// Logged in (by the form or a saved token): load everything and go live.
    pub(super) fn logged_in(&mut self, me: Me) -> Vec<Command> {
        self.info(format!("Welcome, {}!", me.profile.first_name));
        self.server_down = None;
        self.start_attempts = 0;
        self.me = Some(me);
        self.phase = Phase::Main;
        self.has_token = true;
        self.live = LiveStatus::Connecting;
        self.feed.loading = true;
        vec![
            Command::StartLive,
            Command::LoadPartners,
            Command::LoadReceived,
            Command::LoadSent,
            Command::LoadBlocked,
            Command::LoadFeed { page: self.feed.page },
        ]
    }

    /// Shows a failed call, unless it ended the session.
    pub(super) fn show_failure(&mut self, failure: &Failure) -> Vec<Command> {
        if let Some(commands) = self.session_failure(failure) {
            return commands;
        }
        self.error(failure.message.clone());
        Vec::new()
    }

    /// Handles a failure common to all calls: a dead session goes back to login.
    /// Returns the commands when it did, `None` when the caller should show it.
    pub(super) fn session_failure(&mut self, failure: &Failure) -> Option<Vec<Command>> {
        if failure.unauthorized() && self.phase == Phase::Main {
            let mut commands = vec![Command::StopLive, Command::ForgetToken];
            commands.extend(self.stop_typing());
            self.back_to_login("Your session has ended; please log in again.", true);
            return Some(commands);
        }
        None
    }

    /// The logout key: revoke the token on the server and forget it here.
    pub(super) fn logout(&mut self, why: &str) -> Vec<Command> {
        let mut commands = self.stop_typing();
        commands.extend([Command::StopLive, Command::Logout, Command::ForgetToken]);
        self.back_to_login(why, false);
        commands
    }

    /// Back to the login form, forgetting everything of the session.
    fn back_to_login(&mut self, why: &str, error: bool) {
        let server = std::mem::take(&mut self.server);
        let nonce = std::mem::take(&mut self.nonce);
        let (fresh, _) = Self::new(&server, false, &nonce);
        let email = self.me.as_ref().map(|m| m.email.clone());
        // Message ids stay unique for the whole run: the server takes a repeated
        // `clientMsgId` from the same sender for a resend and stores nothing new.
        let sent_count = self.sent_count;
        *self = fresh;
        self.sent_count = sent_count;
        self.phase = Phase::Login;
        if let Some(email) = email {
            self.login.fields[0] = TextInput::with_text(&email);
            self.login.focus = 1;
        }
        if error {
            self.error(why);
        } else {
            self.info(why);
        }
    }

    /// `ServerEvent::SessionEnded`: a revoked or expired token ends the session here too.
    pub(super) fn on_session_ended(&mut self, code: &str, message: &str) -> Vec<Command> {
        if code == "token_revoked" || code == "token_expired" {
            let mut commands = vec![Command::StopLive, Command::ForgetToken];
            commands.extend(self.stop_typing());
            self.back_to_login(&format!("Session ended: {message}"), true);
            return commands;
        }
        Vec::new()
    }
}
