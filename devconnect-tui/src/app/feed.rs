//! The Feed screen: a page of profiles to connect with, paging, and "interested" /
//! "ignore" (a profile acted on leaves the page; an emptied page reloads). The selected
//! profile is shown in full, so it can be blocked or reported from here. Requests sent
//! from the Search screen are answered here too.

use devconnect_types::{ConnectionRequest, FeedPage, Profile, SendStatus, UserId};
use ratatui::crossterm::event::{KeyCode, KeyEvent};

use super::report::ReportTarget;
use super::{App, Command, Failure, display_name};

/// Profiles per feed page.
pub const FEED_PAGE: u32 = 10;

/// The Feed screen.
#[derive(Clone, Debug, Default)]
pub struct FeedState {
    /// Profiles of the page.
    pub profiles: Vec<Profile>,
    /// 1-based page.
    pub page: u32,
    /// More pages exist.
    pub has_more: bool,
    /// Selected profile.
    pub selected: usize,
    /// A page is loading.
    pub loading: bool,
}

impl FeedState {
    /// Someone acted on (a request sent, a block) leaves the page; an emptied page
    /// reloads.
    pub(super) fn forget(&mut self, user: UserId) -> Vec<Command> {
        let before = self.profiles.len();
        self.profiles.retain(|p| p.id != user);
        self.selected = self.selected.min(self.profiles.len().saturating_sub(1));
        if before > self.profiles.len() && self.profiles.is_empty() {
            self.loading = true;
            return vec![Command::LoadFeed { page: self.page }];
        }
        Vec::new()
    }
}

impl App {
    pub(super) fn feed_key(&mut self, key: &KeyEvent) -> Vec<Command> {
        let count = self.feed.profiles.len();
        match key.code {
            KeyCode::Up | KeyCode::Char('k') => self.feed.selected = self.feed.selected.saturating_sub(1),
            KeyCode::Down | KeyCode::Char('j') => {
                self.feed.selected = (self.feed.selected + 1).min(count.saturating_sub(1));
            }
            KeyCode::Char('i') | KeyCode::Right => return self.feed_act(SendStatus::Interested),
            KeyCode::Char('x') | KeyCode::Left => return self.feed_act(SendStatus::Ignored),
            KeyCode::Char('b') => {
                if let Some(profile) = self.feed.profiles.get(self.feed.selected) {
                    let (id, name) = (profile.id, display_name(profile));
                    return self.ask_block(id, name);
                }
            }
            KeyCode::Char('!') => {
                if let Some(target) = self.feed.profiles.get(self.feed.selected).map(ReportTarget::user) {
                    return self.ask_report(vec![target]);
                }
            }
            KeyCode::Char('n') | KeyCode::PageDown if !self.feed.loading => {
                if self.feed.has_more {
                    self.feed.loading = true;
                    return vec![Command::LoadFeed { page: self.feed.page + 1 }];
                }
                self.info("This is the last page of the feed.");
            }
            KeyCode::Char('p') | KeyCode::PageUp if !self.feed.loading => {
                if self.feed.page > 1 {
                    self.feed.loading = true;
                    return vec![Command::LoadFeed { page: self.feed.page - 1 }];
                }
                self.info("This is the first page of the feed.");
            }
            _ => {}
        }
        Vec::new()
    }

    fn feed_act(&mut self, status: SendStatus) -> Vec<Command> {
        match self.feed.profiles.get(self.feed.selected) {
            Some(profile) => vec![Command::SendRequest { status, to: profile.id, note: None }],
            None => Vec::new(),
        }
    }

    /// `Reply::Feed`: a page replaces the shown one.
    pub(super) fn on_feed(&mut self, result: Result<FeedPage, Failure>) -> Vec<Command> {
        self.feed.loading = false;
        match result {
            Ok(page) => {
                self.feed.page = page.page.max(1);
                self.feed.has_more = page.has_more;
                self.feed.profiles = page.profiles;
                self.feed.selected = 0;
                Vec::new()
            }
            Err(failure) => self.show_failure(&failure),
        }
    }

    /// `Reply::RequestSent`: the profile leaves the page; an emptied page reloads.
    pub(super) fn on_request_sent(
        &mut self,
        to: UserId,
        status: SendStatus,
        result: Result<ConnectionRequest, Failure>,
    ) -> Vec<Command> {
        match result {
            Ok(_) => {
                // Sent from the feed or from a search result.
                let name = self
                    .feed
                    .profiles
                    .iter()
                    .chain(self.search.results.iter().map(|r| &r.profile))
                    .find(|p| p.id == to)
                    .map(display_name)
                    .unwrap_or_default();
                self.search_request_sent(to);
                if status == SendStatus::Interested {
                    self.info(format!("Connection request sent to {name}."));
                } else {
                    self.info(format!("Ignored {name}."));
                }
                let mut commands = vec![Command::LoadSent];
                commands.extend(self.feed.forget(to));
                commands
            }
            Err(failure) => self.show_failure(&failure),
        }
    }
}
