use std::time::{Duration, Instant};

use devconnect_client::LoggedIn;
use devconnect_client::realtime::ServerEvent;
use devconnect_types::{FeedPage, GroupRole, RequestStatus, ReviewStatus, SendStatus, Visibility};
use ratatui::crossterm::event::KeyCode;

use super::fixtures::*;
use crate::app::{
    App, ChatFocus, Command, Failure, LiveEvent, LiveStatus, LoginMode, Msg, Phase, Reply, Screen, backoff,
};

fn unreachable() -> Failure {
    Failure::new("transport", "cannot reach the server (connection refused)")
}

#[test]
fn a_start_without_a_saved_session_checks_the_server_then_shows_the_login() {
    let (mut app, first) = App::new(SERVER, false, "n");
    assert_eq!(first, vec![Command::CheckHealth]);
    assert_eq!(app.phase, Phase::Starting);
    assert!(app.update(Msg::Reply(Reply::Health(Ok(())))).is_empty());
    assert_eq!(app.phase, Phase::Login);
}

#[test]
fn a_server_down_at_start_is_reported_and_retried_with_backoff() {
    let (mut app, _) = App::new(SERVER, true, "n");
    let commands = app.update(Msg::Reply(Reply::Health(Err(unreachable()))));
    assert_eq!(commands, vec![Command::RetryLater(Duration::from_secs(1))]);
    let down = app.server_down.clone().unwrap();
    assert!(down.contains("Cannot reach http://127.0.0.1:3000"), "{down}");
    assert!(down.contains("Retrying in 1 s"), "{down}");
    assert_eq!(app.update(Msg::RetryStart), vec![Command::CheckHealth]);
    let commands = app.update(Msg::Reply(Reply::Health(Err(unreachable()))));
    assert_eq!(commands, vec![Command::RetryLater(Duration::from_secs(2))]);
    // Back up: the saved token is checked.
    assert_eq!(app.update(Msg::Reply(Reply::Health(Ok(())))), vec![Command::LoadMe]);
    assert_eq!(app.server_down, None);
}

#[test]
fn backoff_grows_and_is_capped() {
    let secs: Vec<u64> = (1..=8).map(|a| backoff(a).as_secs()).collect();
    assert_eq!(secs, vec![1, 2, 4, 8, 15, 15, 15, 15]);
}

#[test]
fn a_saved_token_skips_the_login_and_starts_live_updates() {
    let (mut app, _) = App::new(SERVER, true, "n");
    assert_eq!(app.update(Msg::Reply(Reply::Health(Ok(())))), vec![Command::LoadMe]);
    let me = me("Ada");
    let commands = app.update(Msg::Reply(Reply::Me(Ok(me.clone()))));
    assert_eq!(app.phase, Phase::Main);
    assert!(commands.contains(&Command::StartLive));
    assert!(commands.contains(&Command::LoadPartners));
    assert!(commands.contains(&Command::LoadReceived));
    assert_eq!(app.live, LiveStatus::Connecting);
}

#[test]
fn an_expired_saved_token_is_forgotten_and_the_login_shown() {
    let (mut app, _) = App::new(SERVER, true, "n");
    app.update(Msg::Reply(Reply::Health(Ok(()))));
    let commands = app.update(Msg::Reply(Reply::Me(Err(Failure::new("unauthorized", "invalid token")))));
    assert_eq!(commands, vec![Command::ForgetToken]);
    assert_eq!(app.phase, Phase::Login);
    assert!(app.notice.as_ref().unwrap().text.contains("expired"));
}

#[test]
fn the_login_form_logs_in_and_keeps_the_token() {
    let (mut app, _) = App::new(SERVER, false, "n");
    app.update(Msg::Reply(Reply::Health(Ok(()))));
    type_text(&mut app, "ada@example.com");
    app.update(key(KeyCode::Tab));
    type_text(&mut app, "Str0ng!pass");
    let commands = app.update(key(KeyCode::Enter));
    assert_eq!(
        commands,
        vec![Command::Login { email: "ada@example.com".to_owned(), password: "Str0ng!pass".to_owned() }]
    );
    // A second Enter while waiting sends nothing.
    assert!(app.update(key(KeyCode::Enter)).is_empty());
    let me = me("Ada");
    let commands = app.update(Msg::Reply(Reply::LoggedIn(Ok(LoggedIn { user: me, token: "t0k".to_owned() }))));
    assert_eq!(commands.first(), Some(&Command::SaveToken("t0k".to_owned())));
    assert_eq!(app.phase, Phase::Main);
    assert_eq!(app.login.fields[1].text(), "", "the password is not kept");
}

#[test]
fn a_wrong_password_shows_the_servers_message() {
    let (mut app, _) = App::new(SERVER, false, "n");
    app.update(Msg::Reply(Reply::Health(Ok(()))));
    type_text(&mut app, "ada@example.com");
    app.update(key(KeyCode::Tab));
    type_text(&mut app, "nope");
    app.update(key(KeyCode::Enter));
    app.update(Msg::Reply(Reply::LoggedIn(Err(Failure::new("unauthorized", "Invalid credentials")))));
    assert_eq!(app.phase, Phase::Login);
    let notice = app.notice.clone().unwrap();
    assert!(notice.error);
    assert_eq!(notice.text, "Invalid credentials");
    assert!(!app.login.busy);
}

#[test]
fn ctrl_n_switches_to_signup_which_sends_the_names() {
    let (mut app, _) = App::new(SERVER, false, "n");
    app.update(Msg::Reply(Reply::Health(Ok(()))));
    app.update(ctrl('n'));
    assert_eq!(app.login.mode, LoginMode::Signup);
    type_text(&mut app, "bo@example.com");
    app.update(key(KeyCode::Tab));
    type_text(&mut app, "Str0ng!pass");
    app.update(key(KeyCode::Tab));
    type_text(&mut app, "Bo");
    app.update(key(KeyCode::Tab));
    type_text(&mut app, "Li");
    let commands = app.update(key(KeyCode::Enter));
    let [Command::Signup(account)] = commands.as_slice() else { panic!("{commands:?}") };
    assert_eq!(account.0.email, "bo@example.com");
    assert_eq!(account.0.first_name, "Bo");
    assert_eq!(account.0.last_name, "Li");
}

#[test]
fn opening_a_chat_loads_its_history_and_marks_it_read() {
    let me = me("Ada");
    let bob = profile("Bob", "Builder");
    let mut app = logged_in(&me);
    app.update(Msg::Reply(Reply::Partners(Ok(vec![partner(&bob, 3)]))));
    let commands = app.update(key(KeyCode::Enter));
    assert_eq!(commands, vec![Command::LoadHistory { with: bob.id, before: None }, Command::MarkRead(bob.id)]);
    assert_eq!(app.chats.focus, ChatFocus::Input);
    assert_eq!(app.chats.partners[0].unread_count, 0);
    let history = vec![message(bob.id, me.profile.id, "hi"), message(me.profile.id, bob.id, "hello")];
    app.update(Msg::Reply(Reply::History { with: bob.id, before: None, result: Ok(history.clone()) }));
    let open = app.chats.open.as_ref().unwrap();
    assert_eq!(open.messages, history);
    assert!(!open.has_older);
    assert_eq!(app.last_message_id(), Some(history[1].id));
}

#[test]
fn a_live_message_appears_once_even_when_replayed_after_a_reconnect() {
    let me = me("Ada");
    let bob = profile("Bob", "B");
    let mut app = with_partner(&me, &bob);
    app.update(key(KeyCode::Enter));
    app.update(Msg::Reply(Reply::History { with: bob.id, before: None, result: Ok(vec![]) }));
    let m = message(bob.id, me.profile.id, "are you there?");
    let commands = app.update(Msg::Live(LiveEvent::Server(ServerEvent::NewMessage(m.clone()))));
    assert_eq!(commands, vec![Command::MarkRead(bob.id)], "an open chat is read as messages arrive");
    // The same message again: replayed by the server, and in a refreshed history page.
    assert!(app.update(Msg::Live(LiveEvent::Server(ServerEvent::NewMessage(m.clone())))).is_empty());
    app.update(Msg::Reply(Reply::History { with: bob.id, before: None, result: Ok(vec![m.clone()]) }));
    assert_eq!(app.chats.open.as_ref().unwrap().messages, vec![m]);
    assert_eq!(app.chats.partners[0].unread_count, 0);
}

#[test]
fn a_message_in_another_chat_counts_as_unread_and_moves_that_chat_to_the_top() {
    let me = me("Ada");
    let bob = profile("Bob", "B");
    let cy = profile("Cy", "C");
    let mut app = logged_in(&me);
    app.update(Msg::Reply(Reply::Partners(Ok(vec![partner(&bob, 0), partner(&cy, 0)]))));
    let m = message(cy.id, me.profile.id, "ping");
    app.update(Msg::Live(LiveEvent::Server(ServerEvent::NewMessage(m.clone()))));
    assert_eq!(app.chats.partners[0].profile.id, cy.id);
    assert_eq!(app.chats.partners[0].unread_count, 1);
    assert_eq!(app.chats.partners[1].profile.id, bob.id);
    assert_eq!(app.chats.selected, 1, "the selection stays on Bob");
    // Replayed: not counted twice.
    app.update(Msg::Live(LiveEvent::Server(ServerEvent::NewMessage(m))));
    assert_eq!(app.chats.partners[0].unread_count, 1);
    // From someone not yet in the list: the list is reloaded.
    let dee = profile("Dee", "D");
    let commands =
        app.update(Msg::Live(LiveEvent::Server(ServerEvent::NewMessage(message(dee.id, me.profile.id, "new")))));
    assert_eq!(commands, vec![Command::LoadPartners]);
}

#[test]
fn sending_shows_the_message_as_pending_until_stored_and_marks_the_chat_read() {
    let me = me("Ada");
    let bob = profile("Bob", "B");
    let mut app = with_partner(&me, &bob);
    app.update(key(KeyCode::Enter));
    app.update(Msg::Reply(Reply::History { with: bob.id, before: None, result: Ok(vec![]) }));
    type_text(&mut app, "héllo 世界 👋");
    let commands = app.update(key(KeyCode::Enter));
    let client_msg_id = "tui-test-1".to_owned();
    assert!(commands.contains(&Command::SendMessage {
        to: bob.id,
        text: "héllo 世界 👋".to_owned(),
        client_msg_id: client_msg_id.clone()
    }));
    assert!(commands.contains(&Command::MarkRead(bob.id)));
    assert!(commands.contains(&Command::Typing { to: bob.id, typing: false }));
    assert!(app.chats.input.is_empty());
    assert_eq!(app.chats.open.as_ref().unwrap().pending.len(), 1);
    // The server's echo arrives before the reply: one message, no pending.
    let mut stored = message(me.profile.id, bob.id, "héllo 世界 👋");
    stored.client_msg_id = Some(client_msg_id.clone());
    app.update(Msg::Live(LiveEvent::Server(ServerEvent::NewMessage(stored.clone()))));
    app.update(Msg::Reply(Reply::Sent { to: bob.id, client_msg_id, result: Ok(stored.clone()) }));
    let open = app.chats.open.as_ref().unwrap();
    assert_eq!(open.messages, vec![stored]);
    assert!(open.pending.is_empty());
    // Empty input sends nothing.
    assert!(app.update(key(KeyCode::Enter)).is_empty());
}

#[test]
fn a_failed_send_stays_visible_with_the_reason() {
    let me = me("Ada");
    let bob = profile("Bob", "B");
    let mut app = with_partner(&me, &bob);
    app.update(key(KeyCode::Enter));
    type_text(&mut app, "hi");
    app.update(key(KeyCode::Enter));
    let failure = Failure::new("forbidden", "you can only message your connections");
    app.update(Msg::Reply(Reply::Sent { to: bob.id, client_msg_id: "tui-test-1".to_owned(), result: Err(failure) }));
    let pending = &app.chats.open.as_ref().unwrap().pending[0];
    assert_eq!(pending.failed.as_deref(), Some("you can only message your connections"));
    assert!(app.notice.as_ref().unwrap().text.contains("Message not sent"));
}

#[test]
fn typing_is_announced_then_withdrawn_when_idle_and_theirs_expires() {
    let me = me("Ada");
    let bob = profile("Bob", "B");
    let mut app = with_partner(&me, &bob);
    let t0 = Instant::now();
    app.update(Msg::Tick(t0));
    app.update(key(KeyCode::Enter));
    let commands = type_text(&mut app, "hel");
    assert_eq!(commands, vec![Command::Typing { to: bob.id, typing: true }], "announced once");
    assert!(app.update(Msg::Tick(t0 + Duration::from_secs(1))).is_empty());
    let commands = app.update(Msg::Tick(t0 + Duration::from_secs(5)));
    assert_eq!(commands, vec![Command::Typing { to: bob.id, typing: false }]);

    app.update(Msg::Live(LiveEvent::Server(ServerEvent::Typing { user_id: bob.id, typing: true })));
    assert!(app.chats.typing.contains_key(&bob.id));
    app.update(Msg::Tick(t0 + Duration::from_secs(30)));
    assert!(!app.chats.typing.contains_key(&bob.id), "a lost 'stopped typing' does not stick");
    app.update(Msg::Live(LiveEvent::Server(ServerEvent::Typing { user_id: bob.id, typing: true })));
    app.update(Msg::Live(LiveEvent::Server(ServerEvent::Typing { user_id: bob.id, typing: false })));
    assert!(!app.chats.typing.contains_key(&bob.id));
}

#[test]
fn a_reconnect_shows_reconnecting_then_catches_up() {
    let me = me("Ada");
    let bob = profile("Bob", "B");
    let mut app = with_partner(&me, &bob);
    app.update(key(KeyCode::Enter));
    app.update(Msg::Live(LiveEvent::Waiting {
        attempt: 2,
        retry_in: Duration::from_secs(2),
        reason: "transport close".to_owned(),
    }));
    assert_eq!(app.live, LiveStatus::Reconnecting { attempt: 2, retry_in_secs: 2 });
    let commands = app.update(Msg::Live(LiveEvent::Connected));
    assert_eq!(app.live, LiveStatus::Connected);
    assert!(commands.contains(&Command::LoadPartners));
    assert!(commands.contains(&Command::LoadHistory { with: bob.id, before: None }));
}

#[test]
fn scrolling_past_the_oldest_loaded_message_loads_older_history() {
    let me = me("Ada");
    let bob = profile("Bob", "B");
    let mut app = with_partner(&me, &bob);
    app.update(key(KeyCode::Enter));
    let page: Vec<_> =
        (0..crate::app::HISTORY_PAGE).map(|i| message(bob.id, me.profile.id, &format!("m{i}"))).collect();
    let oldest = page[0].id;
    app.update(Msg::Reply(Reply::History { with: bob.id, before: None, result: Ok(page) }));
    assert!(app.chats.open.as_ref().unwrap().has_older);
    app.chats.max_scroll.set(5);
    assert!(app.update(key(KeyCode::PageUp)).is_empty());
    assert_eq!(app.chats.open.as_ref().unwrap().scroll, 5);
    let commands = app.update(key(KeyCode::PageUp));
    assert_eq!(commands, vec![Command::LoadHistory { with: bob.id, before: Some(oldest) }]);
    let older = vec![message(bob.id, me.profile.id, "older")];
    app.update(Msg::Reply(Reply::History { with: bob.id, before: Some(oldest), result: Ok(older) }));
    let open = app.chats.open.as_ref().unwrap();
    assert!(!open.has_older);
    assert_eq!(open.messages.len(), crate::app::HISTORY_PAGE as usize + 1);
}

#[test]
fn the_number_keys_switch_screens_and_the_feed_loads_once() {
    let me = me("Ada");
    let mut app = logged_in(&me);
    app.update(Msg::Reply(Reply::Feed(Ok(FeedPage { profiles: vec![], page: 1, limit: 10, has_more: false }))));
    app.update(ch('2'));
    assert_eq!(app.screen, Screen::Feed);
    app.update(ch('3'));
    assert_eq!(app.screen, Screen::Requests);
    app.update(key(KeyCode::F(4)));
    assert_eq!(app.screen, Screen::Profile);
    app.update(key(KeyCode::Tab));
    assert_eq!(app.screen, Screen::Groups);
    app.update(key(KeyCode::Tab));
    assert_eq!(app.screen, Screen::Search);
    // The query line has the keys there, yet Tab goes on to the next screen.
    app.update(key(KeyCode::Tab));
    assert_eq!(app.screen, Screen::Chats);
    app.update(key(KeyCode::F(5)));
    assert_eq!(app.screen, Screen::Groups);
}

#[test]
fn feed_interested_sends_a_request_and_removes_the_profile() {
    let me = me("Ada");
    let mut app = logged_in(&me);
    let (p1, p2) = (profile("Eve", "E"), profile("Fay", "F"));
    app.update(Msg::Reply(Reply::Feed(Ok(FeedPage {
        profiles: vec![p1.clone(), p2.clone()],
        page: 1,
        limit: 10,
        has_more: true,
    }))));
    app.update(ch('2'));
    app.update(ch('j'));
    let commands = app.update(ch('i'));
    assert_eq!(commands, vec![Command::SendRequest { status: SendStatus::Interested, to: p2.id, note: None }]);
    let request = sent(me.profile.id, &p2).with_parties(me.profile.id, p2.id);
    app.update(Msg::Reply(Reply::RequestSent { to: p2.id, status: SendStatus::Interested, result: Ok(request) }));
    assert_eq!(app.feed.profiles, vec![p1.clone()]);
    assert_eq!(app.notice.as_ref().unwrap().text, "Connection request sent to Fay F.");
    let commands = app.update(ch('x'));
    assert_eq!(commands, vec![Command::SendRequest { status: SendStatus::Ignored, to: p1.id, note: None }]);
    let request = sent(me.profile.id, &p1).with_parties(me.profile.id, p1.id);
    let commands =
        app.update(Msg::Reply(Reply::RequestSent { to: p1.id, status: SendStatus::Ignored, result: Ok(request) }));
    assert!(commands.contains(&Command::LoadFeed { page: 1 }), "an emptied page is refilled");
    assert_eq!(app.update(ch('n')), Vec::new(), "no paging while loading");
}

#[test]
fn a_duplicate_request_shows_the_conflict_message() {
    let me = me("Ada");
    let mut app = logged_in(&me);
    let p = profile("Eve", "E");
    let failure = Failure::new("conflict", "a connection request already exists");
    app.update(Msg::Reply(Reply::RequestSent { to: p.id, status: SendStatus::Interested, result: Err(failure) }));
    let notice = app.notice.clone().unwrap();
    assert!(notice.error);
    assert_eq!(notice.text, "a connection request already exists");
    assert_eq!(app.phase, Phase::Main);
}

#[test]
fn accepting_a_request_removes_it_and_reloads_the_chats() {
    let me = me("Ada");
    let mut app = logged_in(&me);
    let bob = profile("Bob", "B");
    let request = received(&bob, me.profile.id, Some("hi, let's connect"));
    app.update(Msg::Live(LiveEvent::Server(ServerEvent::ConnectionRequest(request.clone()))));
    assert_eq!(app.requests.received.len(), 1);
    assert!(app.notice.as_ref().unwrap().text.contains("Bob B wants to connect"));
    app.update(ch('3'));
    let commands = app.update(ch('a'));
    assert_eq!(commands, vec![Command::Review { id: request.id, status: ReviewStatus::Accepted }]);
    let mut accepted = request.clone().with_parties(bob.id, me.profile.id);
    accepted.status = RequestStatus::Accepted;
    let commands = app.update(Msg::Reply(Reply::Reviewed {
        id: request.id,
        status: ReviewStatus::Accepted,
        result: Ok(accepted),
    }));
    assert_eq!(commands, vec![Command::LoadPartners]);
    assert!(app.requests.received.is_empty());
}

#[test]
fn editing_the_profile_sends_only_the_changed_fields() {
    let me = me("Ada");
    let mut app = logged_in(&me);
    app.update(ch('4'));
    app.update(ch('e'));
    assert!(app.profile_form.is_some());
    // First name: replace.
    app.update(ctrl('u'));
    type_text(&mut app, "Augusta");
    app.update(key(KeyCode::Tab));
    app.update(key(KeyCode::Tab));
    // Age: 30 -> 31.
    app.update(key(KeyCode::Backspace));
    type_text(&mut app, "1");
    let commands = app.update(key(KeyCode::Enter));
    let [Command::EditProfile(changes)] = commands.as_slice() else { panic!("{commands:?}") };
    let json = serde_json::to_value(&changes.0).unwrap();
    assert_eq!(json, serde_json::json!({"firstName": "Augusta", "age": 31}));
    let mut saved = me.clone();
    saved.profile.first_name = "Augusta".to_owned();
    app.update(Msg::Reply(Reply::ProfileSaved(Ok(saved))));
    assert!(app.profile_form.is_none());
    assert_eq!(app.me.as_ref().unwrap().profile.first_name, "Augusta");
}

#[test]
fn a_rejected_profile_edit_keeps_the_form_and_shows_why() {
    let me = me("Ada");
    let mut app = logged_in(&me);
    app.update(ch('4'));
    app.update(ch('e'));
    app.update(key(KeyCode::Tab));
    app.update(key(KeyCode::Tab));
    type_text(&mut app, "x");
    assert!(app.update(key(KeyCode::Enter)).is_empty());
    assert_eq!(app.notice.as_ref().unwrap().text, "Age must be a whole number.");
    app.update(key(KeyCode::Backspace));
    app.update(key(KeyCode::Backspace));
    app.update(key(KeyCode::Backspace));
    type_text(&mut app, "12");
    app.update(key(KeyCode::Enter));
    let failure = Failure::new("validation", "age: must be at least 18");
    app.update(Msg::Reply(Reply::ProfileSaved(Err(failure))));
    assert!(app.profile_form.as_ref().is_some_and(|f| !f.saving));
    assert_eq!(app.notice.as_ref().unwrap().text, "age: must be at least 18");
    app.update(key(KeyCode::Esc));
    assert!(app.profile_form.is_none());
}

#[test]
fn messages_after_logging_in_again_get_new_client_message_ids() {
    let me = me("Ada");
    let bob = profile("Bob", "B");
    let send = |app: &mut App| {
        app.update(key(KeyCode::Enter));
        app.update(Msg::Reply(Reply::History { with: bob.id, before: None, result: Ok(vec![]) }));
        type_text(app, "hi");
        app.update(key(KeyCode::Enter)).into_iter().find_map(|c| match c {
            Command::SendMessage { client_msg_id, .. } => Some(client_msg_id),
            _ => None,
        })
    };
    let mut app = with_partner(&me, &bob);
    let first = send(&mut app);
    app.update(key(KeyCode::Esc));
    app.update(ch('L'));
    app.update(Msg::Reply(Reply::LoggedIn(Ok(LoggedIn { user: me.clone(), token: "tok2".to_owned() }))));
    app.update(Msg::Reply(Reply::Partners(Ok(vec![partner(&bob, 0)]))));
    let second = send(&mut app);
    assert!(first.is_some() && second.is_some());
    assert_ne!(first, second, "the server would take the second message for a resend of the first");
}

#[test]
fn the_logout_key_forgets_the_token_and_returns_to_the_login() {
    let me = me("Ada");
    let mut app = logged_in(&me);
    let commands = app.update(ch('L'));
    assert_eq!(commands, vec![Command::StopLive, Command::Logout, Command::ForgetToken]);
    assert_eq!(app.phase, Phase::Login);
    assert!(app.me.is_none());
    assert_eq!(app.login.fields[0].text(), "ada@example.com", "the email is kept for the next login");
}

#[test]
fn an_unauthorized_reply_ends_the_session() {
    let me = me("Ada");
    let mut app = logged_in(&me);
    let commands = app.update(Msg::Reply(Reply::Partners(Err(Failure::new("unauthorized", "token revoked")))));
    assert!(commands.contains(&Command::ForgetToken));
    assert!(commands.contains(&Command::StopLive));
    assert_eq!(app.phase, Phase::Login);
}

#[test]
fn a_revoked_session_event_ends_the_session_and_a_lagged_one_does_not() {
    let me = me("Ada");
    let mut app = logged_in(&me);
    let lagged = ServerEvent::SessionEnded { code: "lagged".to_owned(), message: "fell behind".to_owned() };
    assert!(app.update(Msg::Live(LiveEvent::Server(lagged))).is_empty());
    assert_eq!(app.phase, Phase::Main);
    let revoked = ServerEvent::SessionEnded { code: "token_revoked".to_owned(), message: "logged out".to_owned() };
    let commands = app.update(Msg::Live(LiveEvent::Server(revoked)));
    assert!(commands.contains(&Command::ForgetToken));
    assert_eq!(app.phase, Phase::Login);
    assert!(app.notice.as_ref().unwrap().text.contains("logged out"));
}

#[test]
fn server_errors_never_end_the_program() {
    let me = me("Ada");
    let mut app = logged_in(&me);
    for failure in [
        Failure::new("internal", "internal server error"),
        Failure::new("rate_limited", "too many requests"),
        unreachable(),
    ] {
        app.update(Msg::Reply(Reply::Feed(Err(failure.clone()))));
        assert_eq!(app.notice.as_ref().unwrap().text, failure.message);
        assert!(!app.quit);
        assert_eq!(app.phase, Phase::Main);
    }
}

#[test]
fn q_quits_from_lists_but_is_typed_in_the_chat_input() {
    let me = me("Ada");
    let bob = profile("Bob", "B");
    let mut app = with_partner(&me, &bob);
    app.update(key(KeyCode::Enter));
    app.update(ch('q'));
    assert!(!app.quit);
    assert_eq!(app.chats.input.text(), "q");
    app.update(key(KeyCode::Esc));
    assert_eq!(app.update(ch('q')), vec![Command::Quit]);
    assert!(app.quit);
}

#[test]
fn server_error_envelopes_become_their_readable_message() {
    let err = devconnect_client::ClientError::Api {
        status: 409,
        code: "conflict".to_owned(),
        message: "a connection request already exists".to_owned(),
        retry_after: None,
    };
    assert_eq!(Failure::from(err), Failure::new("conflict", "a connection request already exists"));
    let err = devconnect_client::ClientError::Decode("expected value".to_owned());
    let failure = Failure::from(err);
    assert_eq!(failure.code, "decode");
    assert!(!failure.message.contains("expected value"), "no parser internals: {}", failure.message);
}

#[test]
fn an_unreachable_server_after_login_is_shown_and_the_session_kept() {
    let me = me("Ada");
    let mut app = logged_in(&me);
    let commands = app.update(Msg::Reply(Reply::Partners(Err(unreachable()))));
    assert!(commands.is_empty());
    assert_eq!(app.phase, Phase::Main);
    assert!(app.notice.as_ref().unwrap().text.contains("cannot reach the server"));
}

#[test]
fn logging_in_once_the_server_is_back_clears_the_unreachable_banner() {
    let (mut app, _) = App::new(SERVER, false, "n");
    app.update(Msg::Reply(Reply::Health(Err(unreachable()))));
    assert_eq!(app.phase, Phase::Login, "the login can be typed while waiting");
    assert!(app.server_down.is_some());
    let me = me("Ada");
    app.update(Msg::Reply(Reply::LoggedIn(Ok(LoggedIn { user: me, token: "t".to_owned() }))));
    assert_eq!(app.server_down, None);
    assert!(app.update(Msg::RetryStart).is_empty(), "no more health checks once logged in");
}

/// Logged in as `me`, on the Groups screen, with `groups` loaded.
fn on_groups(me: &devconnect_types::Me, groups: Vec<devconnect_types::MyGroup>) -> App {
    let mut app = logged_in(me);
    app.update(ch('5'));
    app.update(Msg::Reply(Reply::MyGroups(Ok(groups))));
    app
}

#[test]
fn opening_the_groups_screen_loads_my_groups_once() {
    let me = me("Ada");
    let mut app = logged_in(&me);
    assert_eq!(app.update(ch('5')), vec![Command::LoadMyGroups]);
    assert_eq!(app.screen, Screen::Groups);
    let rust = group("Rustaceans", Visibility::Public, me.profile.id, 3);
    app.update(Msg::Reply(Reply::MyGroups(Ok(vec![my_group(&rust, GroupRole::Owner)]))));
    app.update(ch('1'));
    assert!(app.update(ch('5')).is_empty(), "not reloaded on every visit");
    assert_eq!(app.update(ch('r')), vec![Command::LoadMyGroups], "but on refresh");
}

#[test]
fn creating_a_group_sends_its_name_and_visibility_and_the_reply_lists_it() {
    let me = me("Ada");
    let mut app = on_groups(&me, vec![]);
    assert!(app.update(ch('n')).is_empty());
    // Keys that switch screens or quit elsewhere are typed into the name.
    type_text(&mut app, "Rust q1 🦀");
    assert_eq!(app.screen, Screen::Groups);
    assert!(!app.quit);
    app.update(key(KeyCode::Tab));
    app.update(key(KeyCode::Right));
    let commands = app.update(key(KeyCode::Enter));
    assert_eq!(commands, vec![Command::CreateGroup { name: "Rust q1 🦀".to_owned(), visibility: Visibility::Private }]);
    assert!(app.update(key(KeyCode::Enter)).is_empty(), "one create while waiting");

    let created = group("Rust q1 🦀", Visibility::Private, me.profile.id, 1);
    let commands = app.update(Msg::Reply(Reply::GroupCreated(Ok(created.clone()))));
    assert_eq!(commands, vec![Command::LoadMyGroups]);
    assert_eq!(app.groups.groups, vec![my_group(&created, GroupRole::Owner)]);
    assert!(app.groups.form.is_none());
    let notice = app.notice.clone().unwrap();
    assert!(!notice.error);
    assert!(notice.text.contains("Created Rust q1 🦀 (private)"), "{}", notice.text);
    assert!(notice.text.contains(&created.id.to_string()), "the id to share: {}", notice.text);
}

#[test]
fn enter_on_a_group_loads_its_members_and_esc_goes_back() {
    let me = me("Ada");
    let bob = profile("Bob", "B");
    let rust = group("Rustaceans", Visibility::Public, me.profile.id, 2);
    let go = group("Gophers", Visibility::Public, bob.id, 5);
    let mut app = on_groups(&me, vec![my_group(&rust, GroupRole::Owner), my_group(&go, GroupRole::Member)]);
    app.update(key(KeyCode::Down));
    assert_eq!(
        app.update(key(KeyCode::Enter)),
        vec![Command::LoadGroupMembers(go.id), Command::LoadGroupHistory { group: go.id, before: None }]
    );
    let members = vec![member(bob.id, GroupRole::Owner), member(me.profile.id, GroupRole::Member)];
    // A late answer about another group is not shown.
    app.update(Msg::Reply(Reply::GroupMembers { id: rust.id, result: Ok(vec![]) }));
    let commands = app.update(Msg::Reply(Reply::GroupMembers { id: go.id, result: Ok(members.clone()) }));
    assert_eq!(commands, vec![Command::LoadProfile(bob.id)], "a member who is no chat partner is asked for by name");
    assert_eq!(app.groups.open.as_ref().unwrap().members, members);
    // Esc leaves the input for the list, a second Esc closes the group.
    app.update(key(KeyCode::Esc));
    assert!(app.groups.open.is_some());
    app.update(key(KeyCode::Esc));
    assert!(app.groups.open.is_none());
    assert_eq!(app.update(key(KeyCode::Up)), vec![]);
    assert_eq!(
        app.update(key(KeyCode::Enter)),
        vec![Command::LoadGroupMembers(rust.id), Command::LoadGroupHistory { group: rust.id, before: None }]
    );
}

#[test]
fn leaving_sends_the_command_shows_the_answer_and_reloads() {
    let me = me("Ada");
    let bob = profile("Bob", "B");
    let go = group("Gophers", Visibility::Public, bob.id, 5);
    let mut app = on_groups(&me, vec![my_group(&go, GroupRole::Member)]);
    app.update(key(KeyCode::Enter));
    app.update(key(KeyCode::Esc));
    assert_eq!(app.update(ch('l')), vec![Command::LeaveGroup(go.id)]);
    let commands = app.update(Msg::Reply(Reply::GroupLeft { id: go.id, result: Ok(()) }));
    assert_eq!(commands, vec![Command::LoadMyGroups]);
    assert_eq!(app.notice.as_ref().unwrap().text, "You left Gophers.");
    assert!(app.groups.open.is_none(), "its member list closes");
    assert!(app.groups.groups.is_empty());
    assert!(app.update(ch('l')).is_empty(), "nothing left to leave");
}

#[test]
fn a_pasted_group_id_joins_and_reloads_my_groups() {
    let me = me("Ada");
    let bob = profile("Bob", "B");
    let go = group("Gophers", Visibility::Public, bob.id, 5);
    let mut app = on_groups(&me, vec![]);
    app.update(ch('j'));
    app.update(Msg::Paste(format!(" {}\n", go.id)));
    assert_eq!(app.update(key(KeyCode::Enter)), vec![Command::JoinGroup(go.id)]);
    let commands = app.update(Msg::Reply(Reply::GroupJoined(Ok(member(me.profile.id, GroupRole::Member)))));
    assert_eq!(commands, vec![Command::LoadMyGroups]);
    assert!(app.groups.join.is_none());
    assert_eq!(app.notice.as_ref().unwrap().text, "Joined the group.");
}

#[test]
fn server_errors_on_groups_show_a_notice_and_keep_the_input() {
    let me = me("Ada");
    let mut app = on_groups(&me, vec![]);
    app.update(ch('j'));
    type_text(&mut app, "not-an-id");
    assert!(app.update(key(KeyCode::Enter)).is_empty(), "nothing sent for a malformed id");
    assert!(app.notice.as_ref().unwrap().error);
    app.update(ctrl('u'));
    let id = devconnect_types::GroupId::new();
    type_text(&mut app, &id.to_string());
    assert_eq!(app.update(key(KeyCode::Enter)), vec![Command::JoinGroup(id)]);
    let failure = Failure::new("forbidden", "this group is private: ask its owner or an admin to add you");
    assert!(app.update(Msg::Reply(Reply::GroupJoined(Err(failure.clone())))).is_empty());
    let notice = app.notice.clone().unwrap();
    assert!(notice.error);
    assert_eq!(notice.text, failure.message);
    assert_eq!(app.groups.join.as_ref().map(|j| (j.id.text().to_owned(), j.busy)), Some((id.to_string(), false)));
    assert_eq!(app.update(key(KeyCode::Enter)), vec![Command::JoinGroup(id)], "can try again");

    app.update(key(KeyCode::Esc));
    app.update(ch('n'));
    app.update(key(KeyCode::Enter));
    let failure = Failure::new("validation", "name: must be 1 to 100 characters");
    app.update(Msg::Reply(Reply::GroupCreated(Err(failure))));
    assert_eq!(app.notice.as_ref().unwrap().text, "name: must be 1 to 100 characters");
    assert!(app.groups.form.as_ref().is_some_and(|f| !f.saving), "the form stays to be corrected");
    assert_eq!(app.phase, Phase::Main);
}

#[test]
fn a_refused_leave_is_shown_and_the_group_kept() {
    let me = me("Ada");
    let rust = group("Rustaceans", Visibility::Public, me.profile.id, 1);
    let mut app = on_groups(&me, vec![my_group(&rust, GroupRole::Owner)]);
    app.update(ch('l'));
    let failure = Failure::new("conflict", "the group is archived");
    assert!(app.update(Msg::Reply(Reply::GroupLeft { id: rust.id, result: Err(failure) })).is_empty());
    assert_eq!(app.notice.as_ref().unwrap().text, "the group is archived");
    assert_eq!(app.groups.groups.len(), 1);
}
