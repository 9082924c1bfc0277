//! A group's details and editing them, through `App::update` as the runtime drives it:
//! keys, replies and realtime events in, commands out.

use std::path::PathBuf;

use devconnect_client::realtime::ServerEvent;
use devconnect_types::{Group, GroupRole, Me, Visibility};
use ratatui::crossterm::event::KeyCode;
use serde_json::json;

use super::fixtures::*;
use crate::app::{App, Command, EditField, Failure, LiveEvent, Msg, Phase, Reply};

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

fn edited(id: devconnect_types::GroupId, result: Result<Group, Failure>) -> Msg {
    Msg::Reply(Reply::GroupEdited { id, result })
}

/// Moves the edit form's focus to `field` with Tab.
fn focus(app: &mut App, field: EditField) {
    while app.groups.edit.as_ref().unwrap().focus != field {
        app.update(key(KeyCode::Tab));
    }
}

#[test]
fn a_member_is_told_that_only_the_owner_and_admins_edit() {
    let me = me("Bob");
    let rust = group("Rustaceans", Visibility::Public, profile("Ada", "A").id, 2);
    let mut app = listing(&me, &rust, GroupRole::Member);
    assert!(app.update(ch('e')).is_empty());
    assert!(app.groups.edit.is_none());
    let notice = app.notice.clone().unwrap();
    assert!(notice.error);
    assert_eq!(notice.text, "Only the owner and admins edit Rustaceans: you are a member.");
    // The same from the conversation, where letters are text.
    app.update(key(KeyCode::Enter));
    app.notice = None;
    assert!(app.update(ctrl('e')).is_empty());
    assert!(app.groups.edit.is_none());
    assert!(app.notice.is_some());
    assert_eq!(app.groups.input.text(), "");
}

#[test]
fn the_edit_form_starts_with_the_details_and_sends_only_what_changed() {
    let me = me("Ada");
    let mut rust = group("Rustaceans", Visibility::Public, me.profile.id, 2);
    rust.description = "Rust folks".to_owned();
    rust.tags = vec!["rust".to_owned()];
    let mut app = listing(&me, &rust, GroupRole::Admin);
    assert!(app.update(ch('e')).is_empty());
    let form = app.groups.edit.as_ref().unwrap();
    assert_eq!((form.name.text(), form.description.text(), form.tags.text()), ("Rustaceans", "Rust folks", "rust"));
    assert_eq!(form.focus, EditField::Name);
    // Shift-Tab goes round to the photo, Tab back to the name.
    app.update(key(KeyCode::BackTab));
    assert_eq!(app.groups.edit.as_ref().unwrap().focus, EditField::Photo);
    app.update(key(KeyCode::Tab));
    focus(&mut app, EditField::Description);
    type_text(&mut app, " in Berlin");
    focus(&mut app, EditField::Visibility);
    app.update(ch(' '));
    assert_eq!(app.groups.edit.as_ref().unwrap().visibility, Visibility::Private);
    focus(&mut app, EditField::Tags);
    app.update(ctrl('u'));
    // Typing "q" or digits here is text, not a screen switch or quitting.
    type_text(&mut app, "rust, berlin ,, q1");
    assert!(!app.quit);
    let commands = app.update(key(KeyCode::Enter));
    assert_eq!(
        commands,
        vec![Command::EditGroup {
            group: rust.id,
            changes: json!({
                "description": "Rust folks in Berlin",
                "visibility": "private",
                "tags": ["rust", "berlin", "q1"],
            }),
            photo: None,
        }]
    );
    let form = app.groups.edit.as_ref().unwrap();
    assert!(form.saving);
    assert!(app.update(key(KeyCode::Enter)).is_empty(), "one save at a time");
}

#[test]
fn an_untouched_multiline_description_is_not_sent_back_flattened() {
    let me = me("Ada");
    let mut rust = group("Rustaceans", Visibility::Public, me.profile.id, 2);
    rust.description = "line one\nline two".to_owned();
    let mut app = in_group(&me, &rust, GroupRole::Owner);
    app.update(ctrl('e'));
    assert!(app.groups.edit.is_some(), "Ctrl-E opens the form from the conversation");
    type_text(&mut app, " 🦀");
    let commands = app.update(key(KeyCode::Enter));
    assert_eq!(
        commands,
        vec![Command::EditGroup { group: rust.id, changes: json!({"name": "Rustaceans 🦀"}), photo: None }]
    );
}

#[test]
fn saving_nothing_changed_sends_nothing_and_esc_cancels() {
    let me = me("Ada");
    let rust = group("Rustaceans", Visibility::Public, me.profile.id, 2);
    let mut app = listing(&me, &rust, GroupRole::Owner);
    app.update(ch('e'));
    assert!(app.update(key(KeyCode::Enter)).is_empty());
    assert!(app.groups.edit.is_none());
    assert_eq!(app.notice.clone().unwrap().text, "Nothing changed.");
    app.update(ch('e'));
    type_text(&mut app, "x");
    assert!(app.update(key(KeyCode::Esc)).is_empty());
    assert!(app.groups.edit.is_none());
    assert_eq!(app.notice.clone().unwrap().text, "Edit cancelled.");
    assert_eq!(app.groups.groups[0].group.name, "Rustaceans");
}

#[test]
fn a_photo_path_is_sent_with_the_changes_but_not_with_every_tag_removed() {
    let me = me("Ada");
    let mut rust = group("Rustaceans", Visibility::Public, me.profile.id, 2);
    rust.tags = vec!["rust".to_owned()];
    let mut app = listing(&me, &rust, GroupRole::Owner);
    app.update(ch('e'));
    focus(&mut app, EditField::Photo);
    app.update(Msg::Paste(" ~/pics/crab.png ".to_owned()));
    let commands = app.update(key(KeyCode::Enter));
    assert_eq!(
        commands,
        vec![Command::EditGroup { group: rust.id, changes: json!({}), photo: Some(PathBuf::from("~/pics/crab.png")) }]
    );
    app.update(edited(rust.id, Err(Failure::new("file", "cannot read /home/ada/pics/crab.png: No such file"))));
    let form = app.groups.edit.as_ref().unwrap();
    assert_eq!(form.error.as_ref().unwrap().field, Some(EditField::Photo));
    // A multipart form cannot say "no tags": the form says so instead of losing the change.
    focus(&mut app, EditField::Tags);
    app.update(ctrl('u'));
    focus(&mut app, EditField::Name);
    assert!(app.update(key(KeyCode::Enter)).is_empty());
    let form = app.groups.edit.as_ref().unwrap();
    assert_eq!(form.focus, EditField::Tags);
    assert_eq!(form.error.as_ref().unwrap().field, Some(EditField::Tags));
    assert!(!form.saving);
    // Without the photo, clearing the tags is an empty list.
    focus(&mut app, EditField::Photo);
    app.update(ctrl('u'));
    assert_eq!(
        app.update(key(KeyCode::Enter)),
        vec![Command::EditGroup { group: rust.id, changes: json!({"tags": []}), photo: None }]
    );
}

#[test]
fn a_refusal_stays_in_the_form_under_the_field_it_names() {
    let me = me("Ada");
    let rust = group("Rustaceans", Visibility::Public, me.profile.id, 2);
    let mut app = listing(&me, &rust, GroupRole::Owner);
    app.update(ch('e'));
    app.update(ctrl('u'));
    focus(&mut app, EditField::Tags);
    app.update(key(KeyCode::Enter));
    let cases = [
        (Failure::new("validation", "name: must be 1–100 characters"), Some(EditField::Name)),
        (Failure::new("validation", "description: at most 1000 characters"), Some(EditField::Description)),
        (Failure::new("validation", "tags: at most 20 tags"), Some(EditField::Tags)),
        (Failure::new("unsupported_media_type", "not a JPEG, PNG or WebP image"), Some(EditField::Photo)),
        (Failure::new("payload_too_large", "the upload is too large"), Some(EditField::Photo)),
        (Failure::new("forbidden", "only the owner and admins edit a group"), None),
        (Failure::new("transport", "cannot reach the server (connection refused)"), None),
    ];
    for (failure, field) in cases {
        app.groups.edit.as_mut().unwrap().saving = true;
        assert!(app.update(edited(rust.id, Err(failure.clone()))).is_empty());
        assert!(app.groups.edit.is_some(), "the form stays open to be corrected");
        let form = app.groups.edit.as_ref().unwrap();
        assert!(!form.saving);
        let error = form.error.as_ref().unwrap();
        assert_eq!((error.field, &error.failure), (field, &failure));
        if let Some(field) = field {
            assert_eq!(form.focus, field, "the field at fault gets the focus");
        }
        assert_eq!(app.notice.clone().unwrap().text, "Group not saved: see the form.");
    }
    // A new try clears the old error.
    focus(&mut app, EditField::Name);
    type_text(&mut app, "Rust");
    assert_eq!(
        app.update(key(KeyCode::Enter)),
        vec![Command::EditGroup { group: rust.id, changes: json!({"name": "Rust"}), photo: None }]
    );
    assert!(app.groups.edit.as_ref().unwrap().error.is_none());
}

#[test]
fn a_saved_edit_updates_the_title_and_details_and_closes_the_form() {
    let me = me("Ada");
    let rust = group("Rustaceans", Visibility::Public, me.profile.id, 2);
    let mut app = in_group(&me, &rust, GroupRole::Owner);
    app.update(ctrl('e'));
    type_text(&mut app, "!");
    app.update(key(KeyCode::Enter));
    let saved = Group { name: "Rustaceans!".to_owned(), photo_url: Some("/uploads/x.png".to_owned()), ..rust.clone() };
    assert!(app.update(edited(rust.id, Ok(saved.clone()))).is_empty());
    assert!(app.groups.edit.is_none());
    assert_eq!(app.groups.open_group().unwrap().group, saved);
    assert_eq!(app.groups.open_group().unwrap().role, GroupRole::Owner);
    assert_eq!(app.notice.clone().unwrap().text, "Saved Rustaceans!.");
    // Back in the conversation, typing is text again.
    type_text(&mut app, "hi");
    assert_eq!(app.groups.input.text(), "hi");
}

#[test]
fn a_refusal_after_the_form_closed_shows_on_the_notice_line_and_an_ended_session_logs_out() {
    let me = me("Ada");
    let rust = group("Rustaceans", Visibility::Public, me.profile.id, 2);
    let mut app = listing(&me, &rust, GroupRole::Owner);
    app.update(ch('e'));
    type_text(&mut app, "!");
    app.update(key(KeyCode::Enter));
    app.update(key(KeyCode::Esc));
    app.update(edited(rust.id, Err(Failure::new("forbidden", "only the owner and admins edit a group"))));
    let notice = app.notice.clone().unwrap();
    assert!(notice.error);
    assert_eq!(notice.text, "Group not saved: only the owner and admins edit a group (forbidden)");
    let commands = app.update(edited(rust.id, Err(Failure::new("unauthorized", "token revoked"))));
    assert!(commands.contains(&Command::ForgetToken), "{commands:?}");
    assert_eq!(app.phase, Phase::Login);
}
