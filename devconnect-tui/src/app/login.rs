//! The login / signup form: its fields, its keys, and the answer to a login or signup.
//! What follows a successful login (loading everything, going live) is the session's
//! concern, in [`super::App::logged_in`].

use devconnect_client::{LoggedIn, NewAccount};
use ratatui::crossterm::event::{KeyCode, KeyEvent};

use super::keys::{ctrl, edit};
use super::{App, Command, Failure, NewAccountEq};
use crate::input::TextInput;

/// Log in or sign up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoginMode {
    /// Existing account.
    Login,
    /// New account.
    Signup,
}

/// The login / signup form. Fields: email, password, first name, last name (the last
/// two only when signing up).
#[derive(Clone, Debug)]
pub struct LoginForm {
    /// Log in or sign up.
    pub mode: LoginMode,
    /// The fields.
    pub fields: [TextInput; 4],
    /// The focused field.
    pub focus: usize,
    /// Waiting for the server.
    pub busy: bool,
}

impl LoginForm {
    /// The labels of the fields.
    pub const LABELS: [&'static str; 4] = ["Email", "Password", "First name", "Last name"];

    pub(super) fn new() -> Self {
        Self { mode: LoginMode::Login, fields: Default::default(), focus: 0, busy: false }
    }

    /// How many fields the mode shows.
    #[must_use]
    pub fn field_count(&self) -> usize {
        match self.mode {
            LoginMode::Login => 2,
            LoginMode::Signup => 4,
        }
    }
}

impl App {
    pub(super) fn login_key(&mut self, key: &KeyEvent) -> Vec<Command> {
        let count = self.login.field_count();
        if ctrl(key, 'n') || key.code == KeyCode::F(2) {
            self.login.mode = match self.login.mode {
                LoginMode::Login => LoginMode::Signup,
                LoginMode::Signup => LoginMode::Login,
            };
            self.login.focus = self.login.focus.min(self.login.field_count() - 1);
            return Vec::new();
        }
        match key.code {
            KeyCode::Esc => {
                self.quit = true;
                return vec![Command::Quit];
            }
            KeyCode::Tab | KeyCode::Down => self.login.focus = (self.login.focus + 1) % count,
            KeyCode::BackTab | KeyCode::Up => self.login.focus = (self.login.focus + count - 1) % count,
            KeyCode::Enter => {
                if self.login.focus + 1 < count && self.login.fields[self.login.focus + 1].is_empty() {
                    self.login.focus += 1;
                    return Vec::new();
                }
                return self.submit_login();
            }
            _ => {
                if let Some(input) = self.login.fields.get_mut(self.login.focus) {
                    edit(input, key);
                }
            }
        }
        Vec::new()
    }

    fn submit_login(&mut self) -> Vec<Command> {
        if self.login.busy {
            return Vec::new();
        }
        let email = self.login.fields[0].text().trim().to_owned();
        let password = self.login.fields[1].text().to_owned();
        if email.is_empty() || password.is_empty() {
            self.error("Enter your email and password.");
            return Vec::new();
        }
        self.login.busy = true;
        match self.login.mode {
            LoginMode::Login => {
                self.info("Logging in…");
                vec![Command::Login { email, password }]
            }
            LoginMode::Signup => {
                self.info("Creating your account…");
                let account = NewAccount {
                    first_name: self.login.fields[2].text().trim().to_owned(),
                    last_name: self.login.fields[3].text().trim().to_owned(),
                    email,
                    password,
                    ..NewAccount::default()
                };
                vec![Command::Signup(Box::new(NewAccountEq(account)))]
            }
        }
    }

    /// `Reply::LoggedIn`: keep the token and start the session, or say why not.
    pub(super) fn on_logged_in(&mut self, result: Result<LoggedIn, Failure>) -> Vec<Command> {
        self.login.busy = false;
        match result {
            Ok(logged_in) => {
                self.login.fields[1].take();
                let mut commands = vec![Command::SaveToken(logged_in.token)];
                commands.extend(self.logged_in(logged_in.user));
                commands
            }
            Err(failure) => {
                self.error(failure.message);
                Vec::new()
            }
        }
    }
}
