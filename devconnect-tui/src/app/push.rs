//! Push notification settings, shown under my profile: which notifications the server
//! sends me while this client (or any other) is not connected. The terminal client
//! receives no pushes itself; it only shows and changes the settings, one toggle at a
//! time, each confirmed by the server before it shows.

use devconnect_types::{PushSettings, PushSettingsPatch};
use ratatui::crossterm::event::{KeyCode, KeyEvent};

use super::{App, Command, Failure};

/// One on/off setting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PushOption {
    /// New 1:1 messages.
    Messages,
    /// Connection requests and acceptances.
    Requests,
    /// Group messages.
    Groups,
    /// The start of the text in a notification.
    Previews,
}

impl PushOption {
    /// All, in the order shown.
    pub const ALL: [Self; 4] = [Self::Messages, Self::Requests, Self::Groups, Self::Previews];

    /// How the list names it.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Self::Messages => "New messages",
            Self::Requests => "Connection requests",
            Self::Groups => "Group messages",
            Self::Previews => "Message previews",
        }
    }

    /// Whether it is on in `settings`.
    #[must_use]
    pub fn is_on(self, settings: &PushSettings) -> bool {
        match self {
            Self::Messages => settings.messages,
            Self::Requests => settings.requests,
            Self::Groups => settings.groups,
            Self::Previews => settings.previews,
        }
    }

    /// The change that turns it `on` or off, and nothing else.
    fn patch(self, on: bool) -> PushSettingsPatch {
        let mut patch = PushSettingsPatch::default();
        let field = match self {
            Self::Messages => &mut patch.messages,
            Self::Requests => &mut patch.requests,
            Self::Groups => &mut patch.groups,
            Self::Previews => &mut patch.previews,
        };
        *field = Some(on);
        patch
    }
}

/// The settings as the server last confirmed them.
#[derive(Clone, Debug, Default)]
pub struct PushState {
    /// Once loaded.
    pub settings: Option<PushSettings>,
    /// The selected row of [`PushOption::ALL`].
    pub selected: usize,
    /// A load or a change is in flight (the next toggle waits for it).
    pub busy: bool,
    /// The server has push notifications turned off.
    pub unavailable: bool,
}

impl PushState {
    /// The selected setting.
    #[must_use]
    pub fn selected_option(&self) -> PushOption {
        PushOption::ALL.get(self.selected).copied().unwrap_or(PushOption::Messages)
    }
}

impl App {
    /// The Profile screen is shown: load the settings once.
    pub(super) fn push_opened(&mut self) -> Vec<Command> {
        if self.push.settings.is_some() || self.push.busy || self.push.unavailable {
            return Vec::new();
        }
        self.push_reload()
    }

    /// Loads the settings again (the refresh key).
    pub(super) fn push_reload(&mut self) -> Vec<Command> {
        self.push.busy = true;
        vec![Command::LoadPushSettings]
    }

    /// The Profile screen's keys for the settings; `None` when the key is not theirs.
    pub(super) fn push_key(&mut self, key: &KeyEvent) -> Option<Vec<Command>> {
        let last = PushOption::ALL.len() - 1;
        match key.code {
            KeyCode::Up | KeyCode::Char('k') => self.push.selected = self.push.selected.saturating_sub(1),
            KeyCode::Down | KeyCode::Char('j') => self.push.selected = (self.push.selected + 1).min(last),
            KeyCode::Char(' ') => return Some(self.toggle_push()),
            _ => return None,
        }
        Some(Vec::new())
    }

    fn toggle_push(&mut self) -> Vec<Command> {
        if self.push.unavailable {
            self.error("This server sends no push notifications.");
            return Vec::new();
        }
        let Some(settings) = &self.push.settings else {
            return Vec::new();
        };
        if self.push.busy {
            return Vec::new();
        }
        let option = self.push.selected_option();
        let patch = option.patch(!option.is_on(settings));
        self.push.busy = true;
        self.info("Saving…");
        vec![Command::UpdatePushSettings(patch)]
    }

    /// `Reply::PushSettings`: the settings as loaded.
    pub(super) fn on_push_settings(&mut self, result: Result<PushSettings, Failure>) -> Vec<Command> {
        self.push.busy = false;
        match result {
            Ok(settings) => {
                self.push.unavailable = false;
                self.push.settings = Some(settings);
                Vec::new()
            }
            Err(failure) => self.push_failure(&failure),
        }
    }

    /// `Reply::PushSettingsSaved`: the settings now in effect, and which one changed.
    pub(super) fn on_push_settings_saved(&mut self, result: Result<PushSettings, Failure>) -> Vec<Command> {
        self.push.busy = false;
        match result {
            Ok(settings) => {
                let changed = PushOption::ALL
                    .into_iter()
                    .find(|o| self.push.settings.as_ref().is_some_and(|old| o.is_on(old) != o.is_on(&settings)));
                if let Some(option) = changed {
                    let state = if option.is_on(&settings) { "on" } else { "off" };
                    self.info(format!("Push notifications for {}: {state}.", option.label().to_lowercase()));
                } else {
                    self.notice = None;
                }
                self.push.settings = Some(settings);
                Vec::new()
            }
            Err(failure) => self.push_failure(&failure),
        }
    }

    /// A server with push turned off says so in the settings' place, not as an error.
    fn push_failure(&mut self, failure: &Failure) -> Vec<Command> {
        if failure.code == "unavailable" {
            self.push.unavailable = true;
            self.push.settings = None;
            return Vec::new();
        }
        self.show_failure(failure)
    }
}
