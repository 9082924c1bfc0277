//! Reporting a user, a message or a group to the operators: a small picker (what, one
//! of the five reasons, an optional line of details) opened from a conversation, a
//! profile or a list, which say what may be reported there (`ask_report`). The server
//! decides what is reportable and answers once per target; its answer becomes the
//! notice line.

use devconnect_types::{GroupId, MessageId, Profile, Report, ReportKind, ReportReason, UserId};
use ratatui::crossterm::event::{KeyCode, KeyEvent};

use super::keys::edit;
use super::{App, Command, Failure, display_name};
use crate::input::TextInput;

/// Something that can be reported.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReportTarget {
    /// A person (their profile).
    User {
        /// Who.
        id: UserId,
        /// Their name.
        name: String,
    },
    /// One message, 1:1 or in a group.
    Message {
        /// Which.
        id: MessageId,
        /// Its author's name, as the conversation shows it.
        author: String,
        /// Its text.
        text: String,
    },
    /// A group.
    Group {
        /// Which.
        id: GroupId,
        /// Its name.
        name: String,
    },
}

impl ReportTarget {
    /// A person, by their profile.
    #[must_use]
    pub fn user(profile: &Profile) -> Self {
        Self::User { id: profile.id, name: display_name(profile) }
    }

    /// What the server calls this kind of thing.
    #[must_use]
    pub fn kind(&self) -> ReportKind {
        match self {
            Self::User { .. } => ReportKind::User,
            Self::Message { .. } => ReportKind::Message,
            Self::Group { .. } => ReportKind::Group,
        }
    }

    fn target_id(&self) -> String {
        match self {
            Self::User { id, .. } => id.to_hex(),
            Self::Message { id, .. } => id.to_hex(),
            Self::Group { id, .. } => id.to_hex(),
        }
    }

    /// A few words for it: `Bob Kahn`, `Bob's message`, `the group Rust`.
    #[must_use]
    pub fn describe(&self) -> String {
        match self {
            Self::User { name, .. } => name.clone(),
            Self::Message { author, .. } => format!("{author}'s message"),
            Self::Group { name, .. } => format!("the group {name}"),
        }
    }
}

/// A reason as people read it.
#[must_use]
pub fn reason_label(reason: ReportReason) -> &'static str {
    match reason {
        ReportReason::Spam => "spam",
        ReportReason::Harassment => "harassment",
        ReportReason::Impersonation => "impersonation",
        ReportReason::InappropriateContent => "inappropriate content",
        ReportReason::Other => "other",
    }
}

/// The report picker.
#[derive(Clone, Debug)]
pub struct ReportForm {
    /// What may be reported from where it was opened (never empty), the most likely
    /// first.
    pub targets: Vec<ReportTarget>,
    /// The chosen target.
    pub target: usize,
    /// The chosen reason, an index into [`ReportReason::ALL`].
    pub reason: usize,
    /// Optional details.
    pub details: TextInput,
    /// Sent; waiting for the server.
    pub busy: bool,
}

impl ReportForm {
    /// The chosen target.
    #[must_use]
    pub fn chosen(&self) -> Option<&ReportTarget> {
        self.targets.get(self.target)
    }

    /// The chosen reason.
    #[must_use]
    pub fn reason(&self) -> ReportReason {
        ReportReason::ALL.get(self.reason).copied().unwrap_or(ReportReason::Other)
    }
}

impl App {
    /// Opens the report picker on `targets` (the first chosen, the reason `spam`).
    pub(super) fn ask_report(&mut self, targets: Vec<ReportTarget>) -> Vec<Command> {
        if targets.is_empty() {
            return Vec::new();
        }
        self.safety.confirm = None;
        self.safety.report =
            Some(ReportForm { targets, target: 0, reason: 0, details: TextInput::default(), busy: false });
        Vec::new()
    }

    /// Keys in the picker: `↑`/`↓` the reason, `Tab` what, text the details, `Enter`
    /// sends, `Esc` cancels.
    pub(super) fn report_key(&mut self, key: &KeyEvent) -> Vec<Command> {
        let Some(form) = self.safety.report.as_mut() else {
            return Vec::new();
        };
        let reasons = ReportReason::ALL.len();
        match key.code {
            KeyCode::Esc => {
                self.safety.report = None;
                self.info("Report cancelled.");
            }
            KeyCode::Up => form.reason = (form.reason + reasons - 1) % reasons,
            KeyCode::Down => form.reason = (form.reason + 1) % reasons,
            KeyCode::Tab => form.target = (form.target + 1) % form.targets.len().max(1),
            KeyCode::BackTab => {
                let count = form.targets.len().max(1);
                form.target = (form.target + count - 1) % count;
            }
            KeyCode::Enter if !form.busy => {
                let Some(target) = form.chosen() else {
                    return Vec::new();
                };
                let command = Command::Report {
                    kind: target.kind(),
                    target_id: target.target_id(),
                    reason: form.reason(),
                    details: form.details.text().trim().to_owned(),
                };
                form.busy = true;
                self.info("Reporting…");
                return vec![command];
            }
            KeyCode::Enter => {}
            _ => edit(&mut form.details, key),
        }
        Vec::new()
    }

    /// `Reply::Reported`: the picker closes and the notice says so; a refusal shows the
    /// server's words, and the picker stays only when trying again could help (details
    /// to correct, a rate limit, a lost connection).
    pub(super) fn on_reported(&mut self, result: Result<Report, Failure>) -> Vec<Command> {
        let what = self.safety.report.as_ref().and_then(ReportForm::chosen).map(ReportTarget::describe);
        match result {
            Ok(report) => {
                self.safety.report = None;
                let what = what.unwrap_or_else(|| format!("the {}", report.kind));
                self.info(format!("Reported {what} ({}). The operators will review it.", reason_label(report.reason)));
                Vec::new()
            }
            Err(failure) => {
                let again = matches!(failure.code.as_str(), "validation" | "rate_limited" | "transport");
                match self.safety.report.as_mut() {
                    Some(form) if again => form.busy = false,
                    _ => self.safety.report = None,
                }
                self.show_failure(&failure)
            }
        }
    }
}
