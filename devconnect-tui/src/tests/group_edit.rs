//! A group's details and editing them, through `App::update` as the runtime drives it:
//! keys, replies and realtime events in, commands out.

use devconnect_client::realtime::ServerEvent;
use devconnect_types::{Group, GroupRole, Me, Visibility};
use ratatui::crossterm::event::KeyCode;

use super::fixtures::*;
use crate::app::{App, LiveEvent, Msg, Reply};

/// Logged in as `me`, connected, on the Groups screen with `group` listed (my role
/// `role`), not yet open.
fn listing(me: &Me, group: &Group, role: GroupRole) -> App {
    let mut app = logged_in(me);
    app.update(Msg::Live(LiveEvent::Connected));
    app.update(ch('5'));
    app.update(Msg::Reply(Reply::MyGroups(Ok(vec![my_group(group, role)]))));
    app
}

/// As [`listing`], with the group open (history loaded, the input focused).
fn in_group(me: &Me, group: &Group, role: GroupRole) -> App {
    let mut app = listing(me, group, role);
    app.update(key(KeyCode::Enter));
    app.update(Msg::Reply(Reply::GroupHistory { group: group.id, before: None, result: Ok(vec![]) }));
    app
}

#[test]
fn details_toggle_for_the_open_group_from_the_list_and_the_conversation() {
    let me = me("Ada");
    let rust = group("Rustaceans", Visibility::Public, me.profile.id, 2);
    let mut app = listing(&me, &rust, GroupRole::Owner);
    assert!(app.update(ch('d')).is_empty());
    assert!(!app.groups.details, "nothing open: nothing to show");
    assert!(app.notice.clone().unwrap().text.contains("Open a group with Enter first"));
    app.update(key(KeyCode::Enter));
    assert!(app.update(ctrl('d')).is_empty());
    assert!(app.groups.details);
    assert_eq!(app.groups.input.text(), "", "Ctrl-D is no text");
    app.update(key(KeyCode::Esc));
    app.update(ch('d'));
    assert!(!app.groups.details);
}

#[test]
fn a_group_updated_event_changes_the_listed_group_and_keeps_my_role() {
    let me = me("Bob");
    let ada = profile("Ada", "A");
    let rust = group("Rustaceans", Visibility::Private, ada.id, 2);
    let mut app = in_group(&me, &rust, GroupRole::Member);
    let edited = Group {
        name: "Rust Berlin".to_owned(),
        description: "Meetups".to_owned(),
        visibility: Visibility::Public,
        tags: vec!["rust".to_owned(), "berlin".to_owned()],
        photo_url: Some("/uploads/g.png".to_owned()),
        ..rust.clone()
    };
    let commands = app.update(Msg::Live(LiveEvent::Server(ServerEvent::GroupUpdated(edited.clone()))));
    assert!(commands.is_empty(), "{commands:?}");
    let open = app.groups.open_group().unwrap();
    assert_eq!(open.group, edited);
    assert_eq!(open.role, GroupRole::Member);
    // A group not listed (yet) changes nothing.
    let other = group("Gophers", Visibility::Public, ada.id, 5);
    assert!(app.update(Msg::Live(LiveEvent::Server(ServerEvent::GroupUpdated(other)))).is_empty());
    assert_eq!(app.groups.groups.len(), 1);
}
