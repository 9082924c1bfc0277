//! Carries out [`Command`]s: each server call runs on its own task and reports back as a
//! [`Msg`] over the channel the main loop reads; the realtime connection is one task
//! that reconnects with backoff and catches up from the last message seen.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use devconnect_client::Client;
use devconnect_client::realtime::{self as live, Emitter, ServerEvent};
use devconnect_types::MessageId;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::app::{Command, Failure, LiveEvent, Msg, Reply, backoff};
use crate::config::SessionStore;

/// The side-effect half of the client.
pub struct Runtime {
    client: Client,
    tx: mpsc::UnboundedSender<Msg>,
    store: Option<SessionStore>,
    live: Option<JoinHandle<()>>,
    emitter: Arc<Mutex<Option<Emitter>>>,
    last_id: watch::Sender<Option<MessageId>>,
}

impl Runtime {
    /// A runtime calling `client`, reporting on `tx`, keeping the token in `store`.
    #[must_use]
    pub fn new(client: Client, tx: mpsc::UnboundedSender<Msg>, store: Option<SessionStore>) -> Self {
        let (last_id, _) = watch::channel(None);
        Self { client, tx, store, live: None, emitter: Arc::default(), last_id }
    }

    /// Tells the realtime task the newest message id seen (where to catch up from).
    pub fn note_last_message(&self, id: Option<MessageId>) {
        self.last_id.send_if_modified(|current| {
            let changed = *current != id;
            *current = id;
            changed
        });
    }

    fn spawn_call<F>(&self, call: F)
    where
        F: std::future::Future<Output = Reply> + Send + 'static,
    {
        let tx = self.tx.clone();
        tokio::spawn(async move {
            let reply = call.await;
            let _ = tx.send(Msg::Reply(reply));
        });
    }

    /// Starts `command`. Returns a notice to show when it could not even start (saving the
    /// token failed).
    pub fn execute(&mut self, command: Command) -> Option<String> {
        let c = self.client.clone();
        match command {
            Command::CheckHealth => {
                self.spawn_call(async move { Reply::Health(c.health().await.map_err(Failure::from)) });
            }
            Command::Login { email, password } => {
                self.spawn_call(
                    async move { Reply::LoggedIn(c.login(&email, &password).await.map_err(Failure::from)) },
                );
            }
            Command::Signup(account) => {
                self.spawn_call(async move { Reply::LoggedIn(c.signup(&account.0).await.map_err(Failure::from)) });
            }
            Command::Logout => {
                // Best effort: the token is forgotten locally either way.
                tokio::spawn(async move {
                    let _ = c.logout().await;
                });
                self.client = self.client.with_token(None);
            }
            Command::SaveToken(token) => {
                self.client.set_token(Some(token.clone()));
                if let Some(store) = &self.store
                    && let Err(err) = store.save(self.client.base_url(), &token)
                {
                    return Some(format!("Logged in, but the session could not be saved: {err}"));
                }
            }
            Command::ForgetToken => {
                self.client.set_token(None);
                if let Some(store) = &self.store
                    && let Err(err) = store.forget()
                {
                    return Some(format!("Could not remove the saved session: {err}"));
                }
            }
            Command::LoadMe => self.spawn_call(async move { Reply::Me(c.me().await.map_err(Failure::from)) }),
            Command::LoadPartners => {
                self.spawn_call(async move { Reply::Partners(c.chat_partners().await.map_err(Failure::from)) });
            }
            Command::LoadHistory { with, before } => self.spawn_call(async move {
                let result = c.history(with, before, Some(crate::app::HISTORY_PAGE)).await.map_err(Failure::from);
                Reply::History { with, before, result }
            }),
            Command::SendMessage { to, text, client_msg_id } => self.spawn_call(async move {
                // REST with an idempotency key: safe to retry, works while the socket reconnects.
                let mut result = c.send_message(to, &text, Some(&client_msg_id)).await;
                if matches!(&result, Err(e) if e.code() == "transport") {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    result = c.send_message(to, &text, Some(&client_msg_id)).await;
                }
                Reply::Sent { to, client_msg_id, result: result.map(|s| s.message).map_err(Failure::from) }
            }),
            Command::MarkRead(other) => {
                self.spawn_call(
                    async move { Reply::MarkedRead(c.mark_read(other).await.map(drop).map_err(Failure::from)) },
                );
            }
            Command::LoadFeed { page } => self.spawn_call(async move {
                Reply::Feed(c.feed(page, crate::app::FEED_PAGE, &[]).await.map_err(Failure::from))
            }),
            Command::SendRequest { status, to, note } => self.spawn_call(async move {
                let result = c.send_request(status, to, note.as_deref()).await.map_err(Failure::from);
                Reply::RequestSent { to, status, result }
            }),
            Command::Search(query) => self.spawn_call(async move {
                let result = c.search_users(&query).await.map_err(Failure::from);
                Reply::Search { query, result }
            }),
            Command::Review { id, status } => self.spawn_call(async move {
                Reply::Reviewed { id, status, result: c.review_request(id, status).await.map_err(Failure::from) }
            }),
            Command::LoadReceived => {
                self.spawn_call(async move { Reply::Received(c.received_requests().await.map_err(Failure::from)) });
            }
            Command::LoadSent => {
                self.spawn_call(async move { Reply::SentRequests(c.sent_requests().await.map_err(Failure::from)) });
            }
            Command::EditProfile(changes) => {
                self.spawn_call(
                    async move { Reply::ProfileSaved(c.edit_profile(&changes.0).await.map_err(Failure::from)) },
                );
            }
            Command::LoadMyGroups => {
                self.spawn_call(async move { Reply::MyGroups(c.my_groups().await.map_err(Failure::from)) });
            }
            Command::LoadGroupMembers(id) => self.spawn_call(async move {
                Reply::GroupMembers { id, result: c.group_members(id).await.map_err(Failure::from) }
            }),
            Command::CreateGroup { name, visibility } => self.spawn_call(async move {
                Reply::GroupCreated(c.create_group(&name, "", visibility, &[]).await.map_err(Failure::from))
            }),
            Command::JoinGroup(id) => {
                self.spawn_call(async move { Reply::GroupJoined(c.join_group(id).await.map_err(Failure::from)) });
            }
            Command::LeaveGroup(id) => self.spawn_call(async move {
                Reply::GroupLeft { id, result: c.leave_group(id).await.map_err(Failure::from) }
            }),
            Command::EditGroup { group, changes, photo } => self.spawn_call(async move {
                let result = match photo {
                    None => c.edit_group(group, &changes).await.map_err(Failure::from),
                    Some(path) => match read_photo(path).await {
                        Ok(image) => c.edit_group_with_photo(group, &changes, &image).await.map_err(Failure::from),
                        Err(failure) => Err(failure),
                    },
                };
                Reply::GroupEdited { id: group, result }
            }),
            Command::LoadGroupHistory { group, before } => self.spawn_call(async move {
                let result =
                    c.group_history(group, before, Some(crate::app::HISTORY_PAGE)).await.map_err(Failure::from);
                Reply::GroupHistory { group, before, result }
            }),
            Command::SendGroupMessage { group, text, client_msg_id } => self.spawn_call(async move {
                // As for 1:1: REST with an idempotency key, one retry on a lost connection.
                let mut result = c.send_group_message(group, &text, Some(&client_msg_id)).await;
                if matches!(&result, Err(e) if e.code() == "transport") {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    result = c.send_group_message(group, &text, Some(&client_msg_id)).await;
                }
                Reply::GroupSent { group, client_msg_id, result: result.map(|s| s.message).map_err(Failure::from) }
            }),
            Command::MarkGroupRead { group, up_to } => self.spawn_call(async move {
                Reply::GroupMarkedRead(c.mark_group_read(group, up_to).await.map(drop).map_err(Failure::from))
            }),
            Command::LoadProfile(id) => {
                self.spawn_call(
                    async move { Reply::Profile { id, result: c.profile(id).await.map_err(Failure::from) } },
                );
            }
            Command::Block(user) => self
                .spawn_call(async move { Reply::Blocked { user, result: c.block(user).await.map_err(Failure::from) } }),
            Command::Unblock(user) => self.spawn_call(async move {
                Reply::Unblocked { user, result: c.unblock(user).await.map_err(Failure::from) }
            }),
            Command::LoadBlocked => {
                self.spawn_call(async move { Reply::BlockedUsers(c.blocked_users().await.map_err(Failure::from)) });
            }
            Command::Report { kind, target_id, reason, details } => self.spawn_call(async move {
                Reply::Reported(c.report(kind, &target_id, reason, &details).await.map_err(Failure::from))
            }),
            Command::LoadPushSettings => {
                self.spawn_call(async move { Reply::PushSettings(c.push_settings().await.map_err(Failure::from)) });
            }
            Command::UpdatePushSettings(patch) => self.spawn_call(async move {
                Reply::PushSettingsSaved(c.update_push_settings(&patch).await.map_err(Failure::from))
            }),
            Command::StartLive => self.start_live(),
            Command::StopLive => self.stop_live(),
            Command::Typing { to, typing } => {
                let emitter = self.emitter.lock().unwrap_or_else(PoisonError::into_inner).clone();
                if let Some(emitter) = emitter {
                    tokio::spawn(async move {
                        let _ = emitter.typing(to, typing).await;
                    });
                }
            }
            Command::GroupTyping { group, typing } => {
                let emitter = self.emitter.lock().unwrap_or_else(PoisonError::into_inner).clone();
                if let Some(emitter) = emitter {
                    tokio::spawn(async move {
                        let _ = emitter.group_typing(group, typing).await;
                    });
                }
            }
            Command::RetryLater(delay) => {
                let tx = self.tx.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(delay).await;
                    let _ = tx.send(Msg::RetryStart);
                });
            }
            Command::Quit => self.stop_live(),
        }
        None
    }

    fn stop_live(&mut self) {
        if let Some(task) = self.live.take() {
            task.abort();
        }
        *self.emitter.lock().unwrap_or_else(PoisonError::into_inner) = None;
    }

    fn start_live(&mut self) {
        self.stop_live();
        let Some(token) = self.client.token() else {
            return;
        };
        let base = self.client.base_url().to_owned();
        let task =
            tokio::spawn(live_loop(base, token, self.tx.clone(), self.emitter.clone(), self.last_id.subscribe()));
        self.live = Some(task);
    }
}

/// Connects, forwards events, and on any loss reconnects with backoff, asking the
/// server to replay from the newest message seen.
async fn live_loop(
    base: String,
    token: String,
    tx: mpsc::UnboundedSender<Msg>,
    emitter: Arc<Mutex<Option<Emitter>>>,
    last_id: watch::Receiver<Option<MessageId>>,
) {
    let send = |event: LiveEvent| tx.send(Msg::Live(event)).is_ok();
    let mut failures = 0u32;
    loop {
        if !send(LiveEvent::Connecting { attempt: failures + 1 }) {
            return;
        }
        let since = *last_id.borrow();
        let reason = match live::connect(&base, &token, since).await {
            Ok(mut client) => {
                failures = 0;
                *emitter.lock().unwrap_or_else(PoisonError::into_inner) = Some(client.emitter());
                if !send(LiveEvent::Connected) {
                    return;
                }
                let mut reason = "connection closed".to_owned();
                let mut ended = false;
                while let Some(event) = client.next_event().await {
                    match event {
                        ServerEvent::Disconnected { reason: why } => {
                            reason = why;
                            break;
                        }
                        ServerEvent::SessionEnded { ref code, .. } => {
                            ended = code == "token_revoked" || code == "token_expired";
                            if !send(LiveEvent::Server(event)) {
                                return;
                            }
                        }
                        other => {
                            if !send(LiveEvent::Server(other)) {
                                return;
                            }
                        }
                    }
                }
                *emitter.lock().unwrap_or_else(PoisonError::into_inner) = None;
                if ended {
                    return;
                }
                reason
            }
            Err(err) if err.code == "unauthorized" => {
                let _ = send(LiveEvent::Refused(Failure { code: err.code, message: err.message }));
                return;
            }
            Err(err) => err.message,
        };
        failures += 1;
        let delay = backoff(failures);
        if !send(LiveEvent::Waiting { attempt: failures, retry_in: delay, reason }) {
            return;
        }
        tokio::time::sleep(delay).await;
    }
}

/// Reads a photo to upload from a path as the user typed it (`~/` is their home): its
/// bytes and its file name. Off the async workers, as any file read.
async fn read_photo(path: PathBuf) -> Result<(Vec<u8>, String), Failure> {
    let path = match (path.strip_prefix("~"), std::env::var_os("HOME")) {
        (Ok(rest), Some(home)) => PathBuf::from(home).join(rest),
        _ => path,
    };
    let name = path.file_name().map_or_else(|| "photo".to_owned(), |n| n.to_string_lossy().into_owned());
    let shown = path.display().to_string();
    let read = tokio::task::spawn_blocking(move || std::fs::read(&path)).await;
    match read {
        Ok(Ok(bytes)) => Ok((bytes, name)),
        Ok(Err(e)) => Err(Failure::new("file", &format!("cannot read {shown}: {e}"))),
        Err(_) => Err(Failure::new("file", &format!("cannot read {shown}"))),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "a test fails loudly on any unexpected error")]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_photo_is_read_with_its_file_name_and_a_missing_one_is_a_file_failure() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("crab.png");
        std::fs::write(&path, b"png bytes").unwrap();
        assert_eq!(read_photo(path).await, Ok((b"png bytes".to_vec(), "crab.png".to_owned())));
        let missing = read_photo(dir.path().join("nope.png")).await;
        assert!(matches!(&missing, Err(f) if f.code == "file" && f.message.contains("nope.png")), "{missing:?}");
    }
}
