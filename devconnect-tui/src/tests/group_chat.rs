//! The group conversation on the Groups screen, through `App::update` as the runtime
//! drives it: keys, replies and realtime events in, commands out.

use std::time::{Duration, Instant};

use devconnect_client::LoggedIn;
use devconnect_client::realtime::ServerEvent;
use devconnect_types::{GroupChange, GroupId, GroupMessage, GroupRole, Me, Profile, UserId, Visibility};
use ratatui::crossterm::event::KeyCode;

use super::fixtures::*;
use crate::app::{App, Command, Failure, GroupFocus, LiveEvent, Msg, Reply, Screen};

fn live(event: ServerEvent) -> Msg {
    Msg::Live(LiveEvent::Server(event))
}

fn history(group: GroupId, messages: Vec<GroupMessage>) -> Msg {
    Msg::Reply(Reply::GroupHistory { group, before: None, result: Ok(messages) })
}

/// Logged in as `me` with `partners` as chat partners, connected, on the Groups screen
/// with `groups` listed (the first selected).
fn on_groups(me: &Me, partners: &[&Profile], groups: &[(GroupId, &str)]) -> App {
    let mut app = logged_in(me);
    app.update(Msg::Reply(Reply::Partners(Ok(partners.iter().map(|p| partner(p, 0)).collect()))));
    app.update(Msg::Live(LiveEvent::Connected));
    app.update(ch('5'));
    let mine = groups
        .iter()
        .map(|(id, name)| {
            let mut g = group(name, Visibility::Public, me.profile.id, 3);
            g.id = *id;
            my_group(&g, GroupRole::Member)
        })
        .collect();
    app.update(Msg::Reply(Reply::MyGroups(Ok(mine))));
    app
}

/// As [`on_groups`], with the first group open and its (empty) history loaded.
fn in_group(me: &Me, partners: &[&Profile], groups: &[(GroupId, &str)]) -> App {
    let mut app = on_groups(me, partners, groups);
    app.update(key(KeyCode::Enter));
    app.update(history(groups[0].0, vec![]));
    app
}

fn open_messages(app: &App) -> Vec<GroupMessage> {
    app.groups.open.as_ref().map(|o| o.messages.clone()).unwrap_or_default()
}

#[test]
fn opening_a_group_loads_its_history_asks_for_unknown_names_and_marks_it_read() {
    let me = me("Dee");
    let ada = profile("Ada", "Lovelace");
    let cy = UserId::new();
    let rust = GroupId::new();
    let mut app = on_groups(&me, &[&ada], &[(rust, "Rustaceans")]);
    let commands = app.update(key(KeyCode::Enter));
    assert_eq!(
        commands,
        vec![Command::LoadGroupMembers(rust), Command::LoadGroupHistory { group: rust, before: None }]
    );
    assert_eq!(app.groups.focus, GroupFocus::Input);

    let page = vec![
        group_change(rust, ada.id, GroupChange::Created),
        group_change(rust, ada.id, GroupChange::Added { user_id: cy }),
        group_message(rust, cy, "hi all"),
        group_message(rust, ada.id, "welcome, Cy"),
    ];
    let newest = page[3].id;
    let commands = app.update(history(rust, page.clone()));
    // Ada is a chat partner; Cy is asked for once, though named twice.
    assert_eq!(commands, vec![Command::LoadProfile(cy), Command::MarkGroupRead { group: rust, up_to: newest }]);
    assert_eq!(open_messages(&app), page);
    assert_eq!(app.last_message_id(), Some(newest), "a reconnect resumes after group messages too");
    assert_eq!(app.member_label(cy), format!("user {}", &cy.to_hex()[18..]), "a short id until the name is known");
    assert!(
        app.update(Msg::Reply(Reply::Profile { id: cy, result: Ok(Profile { id: cy, ..profile("Cy", "Young") }) }))
            .is_empty()
    );
    assert_eq!(app.member_label(cy), "Cy");
    assert_eq!(app.change_sentence(&page[1]).as_deref(), Some("Ada added Cy"));
    // The same history again (a refresh) marks nothing new.
    let commands = app.update(history(rust, page.clone()));
    assert!(commands.is_empty(), "{commands:?}");
    assert_eq!(open_messages(&app).len(), 4);
}

#[test]
fn system_messages_read_as_sentences_naming_me_as_you() {
    let me = me("Dee");
    let ada = profile("Ada", "A");
    let bob = profile("Bob", "B");
    let cy = profile("Cy", "C");
    let g = GroupId::new();
    let app = on_groups(&me, &[&ada, &bob, &cy], &[(g, "Rustaceans")]);
    let dee = me.profile.id;
    let sentence = |by: UserId, change| app.change_sentence(&group_change(g, by, change)).unwrap();
    assert_eq!(sentence(ada.id, GroupChange::Created), "Ada created the group");
    assert_eq!(sentence(ada.id, GroupChange::Added { user_id: bob.id }), "Ada added Bob");
    assert_eq!(sentence(bob.id, GroupChange::Joined), "Bob joined");
    assert_eq!(
        sentence(ada.id, GroupChange::RoleChanged { user_id: bob.id, role: GroupRole::Admin }),
        "Ada made Bob an admin"
    );
    assert_eq!(
        sentence(ada.id, GroupChange::RoleChanged { user_id: bob.id, role: GroupRole::Owner }),
        "Ada made Bob the owner"
    );
    assert_eq!(
        sentence(ada.id, GroupChange::RoleChanged { user_id: ada.id, role: GroupRole::Admin }),
        "Ada is now an admin"
    );
    assert_eq!(sentence(cy.id, GroupChange::Left), "Cy left");
    assert_eq!(sentence(ada.id, GroupChange::Removed { user_id: cy.id }), "Ada removed Cy");
    assert_eq!(sentence(ada.id, GroupChange::Added { user_id: dee }), "Ada added you");
    assert_eq!(sentence(dee, GroupChange::Removed { user_id: bob.id }), "You removed Bob");
    assert_eq!(
        sentence(dee, GroupChange::RoleChanged { user_id: dee, role: GroupRole::Admin }),
        "You are now an admin"
    );
    assert_eq!(app.change_sentence(&group_message(g, ada.id, "hi")), None, "a written message is no sentence");
}

#[test]
fn a_live_group_message_appears_once_in_the_open_group_only_and_is_read() {
    let me = me("Dee");
    let ada = profile("Ada", "A");
    let (rust, go) = (GroupId::new(), GroupId::new());
    let mut app = in_group(&me, &[&ada], &[(rust, "Rustaceans"), (go, "Gophers")]);
    let m = group_message(rust, ada.id, "anyone here?");
    let commands = app.update(live(ServerEvent::GroupMessage(m.clone())));
    assert_eq!(commands, vec![Command::MarkGroupRead { group: rust, up_to: m.id }]);
    // Replayed after a reconnect: still once, nothing marked again.
    assert!(app.update(live(ServerEvent::GroupMessage(m.clone()))).is_empty());
    assert_eq!(open_messages(&app), vec![m]);
    // Another group's message is not shown here.
    app.update(live(ServerEvent::GroupMessage(group_message(go, ada.id, "elsewhere"))));
    assert_eq!(open_messages(&app).len(), 1);
    assert_eq!(app.groups.unread_count(rust), 0);
    assert_eq!(app.groups.unread_count(go), 1);
}

#[test]
fn a_message_in_another_group_counts_as_unread_until_that_group_is_opened() {
    let me = me("Dee");
    let ada = profile("Ada", "A");
    let (rust, go) = (GroupId::new(), GroupId::new());
    let mut app = in_group(&me, &[&ada], &[(rust, "Rustaceans"), (go, "Gophers")]);
    let ping = group_message(go, ada.id, "ping");
    assert!(app.update(live(ServerEvent::GroupMessage(ping.clone()))).is_empty(), "nothing is marked read");
    app.update(live(ServerEvent::GroupMessage(ping.clone())));
    app.update(live(ServerEvent::GroupMessage(group_message(go, ada.id, "pong"))));
    // Neither a system message nor my own (from another device) counts.
    app.update(live(ServerEvent::GroupMessage(group_change(go, ada.id, GroupChange::Joined))));
    app.update(live(ServerEvent::GroupMessage(group_message(go, me.profile.id, "mine"))));
    assert_eq!(app.groups.unread_count(go), 2, "a replayed message counts once");
    // Opening it sees them.
    app.update(key(KeyCode::Esc));
    app.update(key(KeyCode::Down));
    app.update(key(KeyCode::Enter));
    assert_eq!(app.groups.unread_count(go), 0);
    // The open group, while another screen is shown, counts until the Groups screen is back.
    app.update(history(go, vec![ping.clone()]));
    app.update(key(KeyCode::Esc));
    app.update(ch('1'));
    let late = group_message(go, ada.id, "still there?");
    assert!(app.update(live(ServerEvent::GroupMessage(late.clone()))).is_empty());
    assert_eq!(app.groups.unread_count(go), 1);
    let commands = app.update(ch('5'));
    assert_eq!(commands, vec![Command::MarkGroupRead { group: go, up_to: late.id }]);
    assert_eq!(app.groups.unread_count(go), 0);
}

#[test]
fn group_messages_from_the_catch_up_never_reach_the_one_to_one_chats() {
    let me = me("Dee");
    let ada = profile("Ada", "A");
    let rust = GroupId::new();
    let mut app = on_groups(&me, &[&ada], &[(rust, "Rustaceans")]);
    let partners = app.chats.partners.clone();
    let m = group_message(rust, ada.id, "to the group");
    let commands = app.update(live(ServerEvent::GroupMessage(m.clone())));
    assert!(!commands.contains(&Command::LoadPartners), "{commands:?}");
    assert_eq!(app.chats.partners, partners, "no unread count or last message on Ada's 1:1 chat");
    assert_eq!(app.groups.unread_count(rust), 1);
    assert_eq!(app.last_message_id(), Some(m.id));
}

#[test]
fn sending_to_a_group_shows_it_pending_until_stored_with_a_unique_key() {
    let me = me("Dee");
    let ada = profile("Ada", "A");
    let rust = GroupId::new();
    let mut app = in_group(&me, &[&ada], &[(rust, "Rustaceans")]);
    app.update(Msg::Tick(Instant::now()));
    let typed = type_text(&mut app, "hello 世界 👋");
    assert_eq!(typed, vec![Command::GroupTyping { group: rust, typing: true }], "announced once");
    let commands = app.update(key(KeyCode::Enter));
    let client_msg_id = "tui-test-1".to_owned();
    assert_eq!(
        commands,
        vec![
            Command::GroupTyping { group: rust, typing: false },
            Command::SendGroupMessage {
                group: rust,
                text: "hello 世界 👋".to_owned(),
                client_msg_id: client_msg_id.clone()
            },
        ]
    );
    assert!(app.groups.input.is_empty());
    assert_eq!(app.groups.open.as_ref().unwrap().pending.len(), 1);
    // The server's echo and then the reply: one message, no pending, read up to it.
    let mut stored = group_message(rust, me.profile.id, "hello 世界 👋");
    stored.client_msg_id = Some(client_msg_id.clone());
    let commands = app.update(live(ServerEvent::GroupMessage(stored.clone())));
    assert_eq!(commands, vec![Command::MarkGroupRead { group: rust, up_to: stored.id }]);
    let commands = app.update(Msg::Reply(Reply::GroupSent { group: rust, client_msg_id, result: Ok(stored.clone()) }));
    assert!(commands.is_empty(), "{commands:?}");
    let open = app.groups.open.as_ref().unwrap();
    assert_eq!(open.messages, vec![stored]);
    assert!(open.pending.is_empty());
    assert!(app.update(key(KeyCode::Enter)).is_empty(), "an empty input sends nothing");
    // A 1:1 message and a second group message get keys of their own.
    let key_of = |commands: Vec<Command>| {
        commands.into_iter().find_map(|c| match c {
            Command::SendGroupMessage { client_msg_id, .. } | Command::SendMessage { client_msg_id, .. } => {
                Some(client_msg_id)
            }
            _ => None,
        })
    };
    type_text(&mut app, "again");
    assert_eq!(key_of(app.update(key(KeyCode::Enter))).as_deref(), Some("tui-test-2"));
    app.update(key(KeyCode::Esc));
    app.update(ch('L'));
    app.update(Msg::Reply(Reply::LoggedIn(Ok(LoggedIn { user: me.clone(), token: "tok2".to_owned() }))));
    app.update(ch('5'));
    app.update(Msg::Reply(Reply::MyGroups(Ok(vec![my_group(
        &devconnect_types::Group { id: rust, ..group("Rustaceans", Visibility::Public, ada.id, 2) },
        GroupRole::Member,
    )]))));
    app.update(key(KeyCode::Enter));
    type_text(&mut app, "after logging in again");
    assert_eq!(key_of(app.update(key(KeyCode::Enter))).as_deref(), Some("tui-test-3"), "never a resend of the first");
}

#[test]
fn a_refused_group_send_stays_visible_and_the_notice_gives_the_code() {
    let me = me("Dee");
    let rust = GroupId::new();
    let mut app = in_group(&me, &[], &[(rust, "Rustaceans")]);
    type_text(&mut app, "still here?");
    app.update(key(KeyCode::Enter));
    let failure = Failure::new("forbidden", "you are not a member of this group");
    let commands = app.update(Msg::Reply(Reply::GroupSent {
        group: rust,
        client_msg_id: "tui-test-1".to_owned(),
        result: Err(failure),
    }));
    assert!(commands.is_empty());
    let pending = &app.groups.open.as_ref().unwrap().pending[0];
    assert_eq!(pending.failed.as_deref(), Some("you are not a member of this group (forbidden)"));
    let notice = app.notice.clone().unwrap();
    assert!(notice.error);
    assert_eq!(notice.text, "Message not sent: you are not a member of this group (forbidden)");
    // A history that cannot be read says so too.
    app.update(Msg::Reply(Reply::GroupHistory {
        group: rust,
        before: None,
        result: Err(Failure::new("not_found", "group not found")),
    }));
    assert_eq!(app.notice.clone().unwrap().text, "Could not load the group's messages: group not found (not_found)");
    // An ended session still ends it.
    let expired = Failure::new("unauthorized", "token expired");
    app.update(Msg::Reply(Reply::GroupSent { group: rust, client_msg_id: "x".to_owned(), result: Err(expired) }));
    assert_eq!(app.phase, crate::app::Phase::Login);
}

#[test]
fn being_added_or_promoted_is_told_and_my_groups_reload() {
    let me = me("Dee");
    let ada = profile("Ada", "A");
    let cy = UserId::new();
    let rust = GroupId::new();
    let mut app = in_group(&me, &[&ada], &[(rust, "Rustaceans")]);
    // Someone added to the open group: its members and my groups (its member count)
    // reload, and the newcomer's name is asked for.
    let commands =
        app.update(live(ServerEvent::GroupMessage(group_change(rust, ada.id, GroupChange::Added { user_id: cy }))));
    assert!(commands.contains(&Command::LoadGroupMembers(rust)), "{commands:?}");
    assert!(commands.contains(&Command::LoadProfile(cy)), "{commands:?}");
    assert!(commands.contains(&Command::LoadMyGroups), "{commands:?}");
    // My role changed: the list (which shows it) reloads, though an answer is on its way.
    let promoted = GroupChange::RoleChanged { user_id: me.profile.id, role: GroupRole::Admin };
    let commands = app.update(live(ServerEvent::GroupMessage(group_change(rust, ada.id, promoted))));
    assert!(commands.contains(&Command::LoadMyGroups), "{commands:?}");
    assert_eq!(app.notice.clone().unwrap().text, "Rustaceans: Ada made you an admin.");
    // Added to a group not in my list yet.
    app.update(Msg::Reply(Reply::MyGroups(Ok(vec![]))));
    assert!(app.groups.open.is_none(), "a group I am no longer in closes once my groups say so");
    let new_group = GroupId::new();
    let added = group_change(new_group, ada.id, GroupChange::Added { user_id: me.profile.id });
    assert_eq!(app.update(live(ServerEvent::GroupMessage(added))), vec![Command::LoadMyGroups]);
    assert_eq!(app.notice.clone().unwrap().text, "Ada added you to a group.");
    // While that answer is on its way, another message there asks for nothing more.
    assert!(app.update(live(ServerEvent::GroupMessage(group_message(new_group, ada.id, "welcome")))).is_empty());
}

#[test]
fn typing_in_a_group_shows_who_and_clears_when_they_stop_write_or_go_quiet() {
    let me = me("Dee");
    let ada = profile("Ada", "A");
    let bob = profile("Bob", "B");
    let (rust, go) = (GroupId::new(), GroupId::new());
    let mut app = in_group(&me, &[&ada, &bob], &[(rust, "Rustaceans"), (go, "Gophers")]);
    let t0 = Instant::now();
    app.update(Msg::Tick(t0));
    let typing = |user_id, group_id, typing| live(ServerEvent::GroupTyping { group_id, user_id, typing });
    app.update(typing(ada.id, rust, true));
    app.update(typing(bob.id, rust, true));
    app.update(typing(bob.id, go, true));
    app.update(typing(me.profile.id, rust, true));
    assert_eq!(app.typing_in(rust), vec!["Ada", "Bob"], "not me, and per group");
    assert!(app.groups.someone_typing(go));
    app.update(typing(bob.id, rust, false));
    assert_eq!(app.typing_in(rust), vec!["Ada"]);
    app.update(live(ServerEvent::GroupMessage(group_message(rust, ada.id, "done"))));
    assert!(app.typing_in(rust).is_empty(), "a message ends the typing");
    app.update(Msg::Tick(t0 + Duration::from_secs(30)));
    assert!(!app.groups.someone_typing(go), "a lost 'stopped typing' does not stick");

    // Mine: announced on the first key, withdrawn when idle and on leaving the input.
    assert_eq!(type_text(&mut app, "hm"), vec![Command::GroupTyping { group: rust, typing: true }]);
    let commands = app.update(Msg::Tick(t0 + Duration::from_secs(35)));
    assert_eq!(commands, vec![Command::GroupTyping { group: rust, typing: false }]);
    type_text(&mut app, "m");
    assert_eq!(app.update(key(KeyCode::Esc)), vec![Command::GroupTyping { group: rust, typing: false }]);
    assert_eq!(app.screen, Screen::Groups);
}

#[test]
fn scrolling_past_the_oldest_group_message_loads_older_history() {
    let me = me("Dee");
    let ada = profile("Ada", "A");
    let rust = GroupId::new();
    let mut app = on_groups(&me, &[&ada], &[(rust, "Rustaceans")]);
    app.update(key(KeyCode::Enter));
    let page: Vec<_> = (0..crate::app::HISTORY_PAGE).map(|i| group_message(rust, ada.id, &format!("m{i}"))).collect();
    let oldest = page[0].id;
    app.update(history(rust, page));
    assert!(app.groups.open.as_ref().unwrap().has_older);
    app.groups.max_scroll.set(5);
    assert!(app.update(key(KeyCode::PageUp)).is_empty());
    let commands = app.update(key(KeyCode::PageUp));
    assert_eq!(commands, vec![Command::LoadGroupHistory { group: rust, before: Some(oldest) }]);
    assert!(app.update(key(KeyCode::PageUp)).is_empty(), "one page at a time");
    let older = vec![GroupMessage {
        created_at: open_messages(&app)[0].created_at - chrono::Duration::minutes(1),
        ..group_message(rust, ada.id, "older")
    }];
    app.update(Msg::Reply(Reply::GroupHistory { group: rust, before: Some(oldest), result: Ok(older) }));
    let open = app.groups.open.as_ref().unwrap();
    assert!(!open.has_older);
    assert_eq!(open.messages.len(), crate::app::HISTORY_PAGE as usize + 1);
    assert_eq!(open.messages[0].text, "older");
}

#[test]
fn a_reconnect_reloads_the_open_groups_newest_messages() {
    let me = me("Dee");
    let rust = GroupId::new();
    let mut app = in_group(&me, &[], &[(rust, "Rustaceans")]);
    app.update(Msg::Live(LiveEvent::Waiting {
        attempt: 1,
        retry_in: Duration::from_secs(1),
        reason: "transport close".to_owned(),
    }));
    let commands = app.update(Msg::Live(LiveEvent::Connected));
    assert!(commands.contains(&Command::LoadGroupHistory { group: rust, before: None }), "{commands:?}");
}

#[test]
fn being_removed_is_told_and_the_open_group_closes() {
    let me = me("Dee");
    let ada = profile("Ada", "A");
    let rust = GroupId::new();
    let mut app = in_group(&me, &[&ada], &[(rust, "Rustaceans")]);
    // Someone else leaving is only news in the conversation.
    let other = ServerEvent::GroupMemberRemoved { group_id: rust, user_id: ada.id };
    assert!(app.update(live(other)).is_empty());
    assert!(app.groups.open.is_some());
    let removed = ServerEvent::GroupMemberRemoved { group_id: rust, user_id: me.profile.id };
    assert_eq!(app.update(live(removed)), vec![Command::LoadMyGroups]);
    assert_eq!(app.notice.clone().unwrap().text, "You are no longer a member of Rustaceans.");
    app.update(Msg::Reply(Reply::MyGroups(Ok(vec![]))));
    assert!(app.groups.open.is_none(), "the conversation closes once my groups no longer list it");
}
