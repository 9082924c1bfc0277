//! Blocking, unblocking and reporting through `App::update`: the keys that open the
//! dialogs on each screen, what is sent, and what the answers change.

use devconnect_types::{
    FeedPage, GroupChange, GroupId, GroupRole, Me, Profile, ReportKind, ReportReason, UserId, Visibility,
};
use ratatui::crossterm::event::KeyCode;

use super::fixtures::*;
use crate::app::{App, ChatFocus, Command, Failure, Msg, Reply, ReportTarget, RequestsPane, Screen};

fn reply(reply: Reply) -> Msg {
    Msg::Reply(reply)
}

/// Logged in as `me` with `other` as a chat partner, the conversation open (focus on
/// its input) with `texts` from them.
fn in_conversation(me: &Me, other: &Profile, texts: &[&str]) -> App {
    let mut app = with_partner(me, other);
    app.update(key(KeyCode::Enter));
    let history = texts.iter().map(|t| message(other.id, me.profile.id, t)).collect();
    app.update(reply(Reply::History { with: other.id, before: None, result: Ok(history) }));
    app
}

fn report_command(commands: &[Command]) -> (ReportKind, String, ReportReason, String) {
    match commands {
        [Command::Report { kind, target_id, reason, details }] => (*kind, target_id.clone(), *reason, details.clone()),
        other => panic!("expected one report, got {other:?}"),
    }
}

#[test]
fn blocking_from_a_conversation_asks_first_then_closes_it_and_reloads_the_lists() {
    let me = me("Ada");
    let bob = profile("Bob", "Builder");
    let mut app = in_conversation(&me, &bob, &["hi"]);
    assert!(app.update(ctrl('x')).is_empty(), "nothing is sent before the answer");
    assert_eq!(app.safety.confirm.as_ref().map(|c| (c.user, c.name.as_str())), Some((bob.id, "Bob Builder")));
    assert!(app.update(ch('n')).is_empty());
    assert!(app.safety.confirm.is_none());
    assert_eq!(app.notice.as_ref().unwrap().text, "Not blocked.");
    assert_eq!(app.chats.input.text(), "", "the answer is not typed into the message");

    app.update(ctrl('x'));
    // The question takes every key: none quits, switches screens or is typed.
    for c in ['q', '2', 'x'] {
        assert!(app.update(ch(c)).is_empty());
    }
    assert!(!app.quit);
    assert_eq!(app.screen, Screen::Chats);
    assert_eq!(app.update(key(KeyCode::F(2))), vec![]);
    assert_eq!(app.screen, Screen::Chats);
    assert_eq!(app.update(ch('y')), vec![Command::Block(bob.id)]);
    assert!(app.update(ch('y')).is_empty(), "one block while waiting");

    let commands = app.update(reply(Reply::Blocked { user: bob.id, result: Ok(()) }));
    for expected in [Command::LoadPartners, Command::LoadReceived, Command::LoadSent, Command::LoadBlocked] {
        assert!(commands.contains(&expected), "{expected:?} missing from {commands:?}");
    }
    assert!(app.safety.confirm.is_none());
    assert!(app.chats.open.is_none(), "the conversation closes");
    assert_eq!(app.chats.focus, ChatFocus::List);
    let notice = app.notice.clone().unwrap();
    assert!(!notice.error);
    assert!(notice.text.starts_with("Blocked Bob Builder."), "{}", notice.text);
}

#[test]
fn blocking_withdraws_my_typing_from_the_closed_conversation() {
    let me = me("Ada");
    let bob = profile("Bob", "B");
    let mut app = in_conversation(&me, &bob, &[]);
    assert_eq!(type_text(&mut app, "you"), vec![Command::Typing { to: bob.id, typing: true }]);
    app.update(ctrl('x'));
    app.update(ch('y'));
    let commands = app.update(reply(Reply::Blocked { user: bob.id, result: Ok(()) }));
    assert_eq!(commands.first(), Some(&Command::Typing { to: bob.id, typing: false }));
    assert!(app.chats.input.is_empty());
}

#[test]
fn a_refused_block_shows_the_servers_words_and_keeps_the_conversation() {
    let me = me("Ada");
    let bob = profile("Bob", "B");
    let mut app = in_conversation(&me, &bob, &["hi"]);
    app.update(ctrl('x'));
    app.update(ch('y'));
    let failure = Failure::new("conflict", "you have blocked as many people as one can");
    assert!(app.update(reply(Reply::Blocked { user: bob.id, result: Err(failure.clone()) })).is_empty());
    let notice = app.notice.clone().unwrap();
    assert!(notice.error);
    assert_eq!(notice.text, failure.message);
    assert!(app.safety.confirm.is_none());
    assert!(app.chats.open.is_some());
}

#[test]
fn the_chat_list_blocks_the_selected_partner_and_not_twice() {
    let me = me("Ada");
    let bob = profile("Bob", "B");
    let cy = profile("Cy", "C");
    let mut app = logged_in(&me);
    app.update(reply(Reply::Partners(Ok(vec![partner(&bob, 0), partner(&cy, 0)]))));
    app.update(ch('j'));
    app.update(ch('b'));
    assert_eq!(app.safety.confirm.as_ref().map(|c| c.user), Some(cy.id));
    app.update(key(KeyCode::Esc));
    // Someone already blocked (history keeps them listed) is not asked about again.
    app.update(reply(Reply::BlockedUsers(Ok(vec![blocked(&cy)]))));
    assert!(app.update(ch('b')).is_empty());
    assert!(app.safety.confirm.is_none());
    assert!(app.notice.as_ref().unwrap().text.starts_with("You already blocked Cy C"));
}

#[test]
fn blocking_from_the_feed_or_a_received_request_removes_them_there() {
    let me = me("Ada");
    let (eve, fay, gus) = (profile("Eve", "E"), profile("Fay", "F"), profile("Gus", "G"));
    let mut app = logged_in(&me);
    app.update(reply(Reply::Feed(Ok(FeedPage {
        profiles: vec![eve.clone(), fay.clone()],
        page: 1,
        limit: 10,
        has_more: false,
    }))));
    app.update(ch('2'));
    app.update(ch('b'));
    assert_eq!(app.safety.confirm.as_ref().map(|c| c.name.as_str()), Some("Eve E"));
    assert_eq!(app.update(ch('y')), vec![Command::Block(eve.id)]);
    app.update(reply(Reply::Blocked { user: eve.id, result: Ok(()) }));
    assert_eq!(app.feed.profiles, vec![fay.clone()], "the profile shown closes");

    let request = received(&gus, me.profile.id, Some("buy my course"));
    app.update(reply(Reply::Received(Ok(vec![request]))));
    app.update(ch('3'));
    app.update(ch('b'));
    assert_eq!(app.update(ch('y')), vec![Command::Block(gus.id)]);
    app.update(reply(Reply::Blocked { user: gus.id, result: Ok(()) }));
    assert!(app.requests.received.is_empty(), "the request is gone");
}

#[test]
fn the_blocked_pane_lists_the_people_i_blocked_and_u_unblocks() {
    let me = me("Ada");
    let (bob, cy) = (profile("Bob", "B"), profile("Cy", "C"));
    let mut app = logged_in(&me);
    app.update(ch('3'));
    app.update(key(KeyCode::Right));
    assert_eq!(app.requests.pane, RequestsPane::Sent);
    // The list is asked for once at login; until it has come, opening the pane asks.
    assert_eq!(app.update(key(KeyCode::Right)), vec![Command::LoadBlocked]);
    assert_eq!(app.requests.pane, RequestsPane::Blocked);
    app.update(reply(Reply::BlockedUsers(Ok(vec![blocked(&bob), blocked(&cy)]))));
    app.update(key(KeyCode::Down));
    assert_eq!(app.update(ch('u')), vec![Command::Unblock(cy.id)]);
    let commands = app.update(reply(Reply::Unblocked { user: cy.id, result: Ok(()) }));
    assert_eq!(commands, vec![Command::LoadBlocked, Command::LoadPartners]);
    assert_eq!(app.safety.blocked.iter().map(|b| b.user.id).collect::<Vec<_>>(), vec![bob.id]);
    assert_eq!(app.requests.selected, 0, "the selection stays on the list");
    assert!(app.notice.as_ref().unwrap().text.starts_with("Unblocked Cy C."));
    // `←` goes back through the panes; `→` from the last comes round to the first.
    app.update(key(KeyCode::Left));
    assert_eq!(app.requests.pane, RequestsPane::Sent);
    app.update(key(KeyCode::Right));
    assert!(app.update(key(KeyCode::Right)).is_empty(), "loaded: not asked again");
    assert_eq!(app.requests.pane, RequestsPane::Received);
    assert!(app.update(ch('u')).is_empty(), "u unblocks on the Blocked pane only");
}

#[test]
fn a_refused_unblock_is_shown_and_the_list_kept() {
    let me = me("Ada");
    let bob = profile("Bob", "B");
    let mut app = logged_in(&me);
    app.update(reply(Reply::BlockedUsers(Ok(vec![blocked(&bob)]))));
    let failure = Failure::new("not_found", "block not found");
    assert!(app.update(reply(Reply::Unblocked { user: bob.id, result: Err(failure) })).is_empty());
    assert_eq!(app.notice.as_ref().unwrap().text, "block not found");
    assert_eq!(app.safety.blocked.len(), 1);
}

#[test]
fn reporting_from_a_conversation_picks_their_last_message_a_reason_and_details() {
    let me = me("Ada");
    let bob = profile("Bob", "B");
    let mut app = in_conversation(&me, &bob, &["hello", "buy my course"]);
    let spam = app.chats.open.as_ref().unwrap().messages[1].clone();
    // A later message of mine does not hide theirs.
    app.update(reply(Reply::Sent {
        to: bob.id,
        client_msg_id: "x".to_owned(),
        result: Ok(message(me.profile.id, bob.id, "no thanks")),
    }));
    assert!(app.update(ctrl('r')).is_empty());
    let form = app.safety.report.as_ref().unwrap();
    assert_eq!(
        form.targets,
        vec![
            ReportTarget::Message { id: spam.id, author: "Bob".to_owned(), text: "buy my course".to_owned() },
            ReportTarget::User { id: bob.id, name: "Bob B".to_owned() },
        ]
    );
    app.update(key(KeyCode::Down));
    // Keys that switch screens or quit elsewhere are details here.
    type_text(&mut app, "again 1q");
    assert_eq!((app.screen, app.quit), (Screen::Chats, false));
    let commands = app.update(key(KeyCode::Enter));
    assert_eq!(
        report_command(&commands),
        (ReportKind::Message, spam.id.to_hex(), ReportReason::Harassment, "again 1q".to_owned())
    );
    assert!(app.update(key(KeyCode::Enter)).is_empty(), "one report while waiting");
    let report = filed(me.profile.id, ReportKind::Message, &spam.id.to_hex(), ReportReason::Harassment, &bob);
    assert!(app.update(reply(Reply::Reported(Ok(report)))).is_empty());
    assert!(app.safety.report.is_none());
    let notice = app.notice.clone().unwrap();
    assert!(!notice.error);
    assert_eq!(notice.text, "Reported Bob's message (harassment). The operators will review it.");
    assert_eq!(app.chats.focus, ChatFocus::Input, "back to the conversation");
}

#[test]
fn tab_reports_the_person_and_the_servers_refusal_becomes_the_notice() {
    let me = me("Ada");
    let bob = profile("Bob", "B");
    let mut app = in_conversation(&me, &bob, &["hi"]);
    app.update(ctrl('r'));
    app.update(key(KeyCode::Tab));
    app.update(key(KeyCode::Up));
    let commands = app.update(key(KeyCode::Enter));
    assert_eq!(report_command(&commands), (ReportKind::User, bob.id.to_hex(), ReportReason::Other, String::new()));
    // Details to correct: the picker stays, ready to send again.
    let invalid = Failure::new("validation", "details: must be at most 1000 characters");
    app.update(reply(Reply::Reported(Err(invalid))));
    assert!(app.safety.report.as_ref().is_some_and(|f| !f.busy && f.target == 1));
    assert_eq!(app.notice.as_ref().unwrap().text, "details: must be at most 1000 characters");
    app.update(key(KeyCode::Enter));
    // Reported already: nothing to correct, the picker closes on the server's words.
    let conflict = Failure::new("conflict", "you already reported this and it is still open");
    app.update(reply(Reply::Reported(Err(conflict))));
    assert!(app.safety.report.is_none());
    let notice = app.notice.clone().unwrap();
    assert!(notice.error);
    assert_eq!(notice.text, "you already reported this and it is still open");
}

#[test]
fn esc_cancels_a_report_and_a_paste_goes_into_its_details() {
    let me = me("Ada");
    let bob = profile("Bob", "B");
    let mut app = in_conversation(&me, &bob, &[]);
    app.update(ctrl('r'));
    assert_eq!(
        app.safety.report.as_ref().unwrap().targets,
        vec![ReportTarget::User { id: bob.id, name: "Bob B".to_owned() }],
        "no message from them: the person only"
    );
    app.update(Msg::Paste("fake\naccount".to_owned()));
    assert_eq!(app.safety.report.as_ref().unwrap().details.text(), "fake account");
    assert!(app.update(key(KeyCode::Esc)).is_empty());
    assert!(app.safety.report.is_none());
    assert_eq!(app.notice.as_ref().unwrap().text, "Report cancelled.");
    assert_eq!(app.chats.input.text(), "", "nothing reached the message input");
}

#[test]
fn the_chat_list_reports_the_last_message_shown_there_or_the_person() {
    let me = me("Ada");
    let (bob, cy) = (profile("Bob", "B"), profile("Cy", "C"));
    let mut app = logged_in(&me);
    let mut with_bob = partner(&bob, 1);
    let last = message(bob.id, me.profile.id, "spam spam");
    with_bob.last_message = Some(last.clone());
    let mut with_cy = partner(&cy, 0);
    with_cy.last_message = Some(message(me.profile.id, cy.id, "mine"));
    app.update(reply(Reply::Partners(Ok(vec![with_bob, with_cy]))));
    app.update(ch('!'));
    let targets = app.safety.report.as_ref().unwrap().targets.clone();
    assert_eq!(targets.first().map(ReportTarget::kind), Some(ReportKind::Message));
    assert!(matches!(targets.first(), Some(ReportTarget::Message { id, .. }) if *id == last.id));
    app.update(key(KeyCode::Esc));
    app.update(ch('j'));
    app.update(ch('!'));
    let targets = app.safety.report.as_ref().unwrap().targets.clone();
    assert_eq!(
        targets,
        vec![ReportTarget::User { id: cy.id, name: "Cy C".to_owned() }],
        "my own message is not theirs"
    );
}

#[test]
fn the_feed_and_a_received_request_report_the_person() {
    let me = me("Ada");
    let eve = profile("Eve", "E");
    let mut app = logged_in(&me);
    app.update(reply(Reply::Feed(Ok(FeedPage { profiles: vec![eve.clone()], page: 1, limit: 10, has_more: false }))));
    app.update(ch('2'));
    app.update(ch('!'));
    app.update(key(KeyCode::Down));
    app.update(key(KeyCode::Down));
    let commands = app.update(key(KeyCode::Enter));
    assert_eq!(
        report_command(&commands),
        (ReportKind::User, eve.id.to_hex(), ReportReason::Impersonation, String::new())
    );
    app.update(reply(Reply::Reported(Ok(filed(
        me.profile.id,
        ReportKind::User,
        &eve.id.to_hex(),
        ReportReason::Impersonation,
        &eve,
    )))));
    assert_eq!(app.notice.as_ref().unwrap().text, "Reported Eve E (impersonation). The operators will review it.");

    app.update(reply(Reply::Received(Ok(vec![received(&eve, me.profile.id, None)]))));
    app.update(ch('3'));
    app.update(ch('!'));
    assert_eq!(
        app.safety.report.as_ref().unwrap().targets,
        vec![ReportTarget::User { id: eve.id, name: "Eve E".to_owned() }]
    );
}

/// Logged in as `me`, in the open group `id` named `name` with `history`.
fn in_group(me: &Me, id: GroupId, name: &str, history: Vec<devconnect_types::GroupMessage>) -> App {
    let mut app = logged_in(me);
    app.update(ch('5'));
    let mut g = group(name, Visibility::Public, UserId::new(), 3);
    g.id = id;
    app.update(reply(Reply::MyGroups(Ok(vec![my_group(&g, GroupRole::Member)]))));
    app.update(key(KeyCode::Enter));
    app.update(reply(Reply::GroupHistory { group: id, before: None, result: Ok(history) }));
    app
}

#[test]
fn in_a_group_the_last_message_from_someone_else_or_the_group_is_reported() {
    let me = me("Ada");
    let bob = profile("Bob", "B");
    let rust = GroupId::new();
    let spam = group_message(rust, bob.id, "join my crypto group");
    let history = vec![
        group_change(rust, bob.id, GroupChange::Joined),
        spam.clone(),
        group_change(rust, bob.id, GroupChange::Left),
        group_message(rust, me.profile.id, "please stop"),
    ];
    let mut app = in_group(&me, rust, "Rustaceans", history);
    app.update(reply(Reply::Profile { id: bob.id, result: Ok(bob.clone()) }));
    assert!(app.update(ctrl('r')).is_empty());
    assert_eq!(
        app.safety.report.as_ref().unwrap().targets,
        vec![
            ReportTarget::Message { id: spam.id, author: "Bob".to_owned(), text: spam.text.clone() },
            ReportTarget::Group { id: rust, name: "Rustaceans".to_owned() },
        ],
        "system messages and mine are not reportable"
    );
    let commands = app.update(key(KeyCode::Enter));
    assert_eq!(report_command(&commands).0, ReportKind::Message);
    app.update(reply(Reply::Reported(Ok(filed(
        me.profile.id,
        ReportKind::Message,
        &spam.id.to_hex(),
        ReportReason::Spam,
        &bob,
    )))));
    assert_eq!(app.notice.as_ref().unwrap().text, "Reported Bob's message (spam). The operators will review it.");

    app.update(ctrl('r'));
    app.update(key(KeyCode::BackTab));
    let commands = app.update(key(KeyCode::Enter));
    assert_eq!(report_command(&commands), (ReportKind::Group, rust.to_hex(), ReportReason::Spam, String::new()));
    app.update(reply(Reply::Reported(Ok(filed(
        me.profile.id,
        ReportKind::Group,
        &rust.to_hex(),
        ReportReason::Spam,
        &bob,
    )))));
    assert_eq!(
        app.notice.as_ref().unwrap().text,
        "Reported the group Rustaceans (spam). The operators will review it."
    );

    // From the list, `!` reports the selected group.
    app.update(key(KeyCode::Esc));
    app.update(ch('!'));
    assert_eq!(app.safety.report.as_ref().unwrap().targets.len(), 2);
}

#[test]
fn blocking_someone_takes_their_messages_out_of_the_open_group() {
    let me = me("Ada");
    let bob = profile("Bob", "B");
    let rust = GroupId::new();
    let mine = group_message(rust, me.profile.id, "hello");
    let mut app = in_group(&me, rust, "Rustaceans", vec![group_message(rust, bob.id, "spam"), mine.clone()]);
    // Bob is in my feed: blocked from there, while the group is open behind.
    app.update(reply(Reply::Feed(Ok(FeedPage { profiles: vec![bob.clone()], page: 1, limit: 10, has_more: false }))));
    app.update(ch('2'));
    app.update(ch('b'));
    app.update(ch('y'));
    let commands = app.update(reply(Reply::Blocked { user: bob.id, result: Ok(()) }));
    assert!(commands.contains(&Command::LoadFeed { page: 1 }), "an emptied feed page is refilled");
    assert_eq!(app.groups.open.as_ref().unwrap().messages, vec![mine]);
}
