//! The push notification settings under my profile: loaded when the screen opens,
//! toggled one at a time, each change shown once the server confirms it.

use devconnect_types::{GroupId, PushSettings, PushSettingsPatch};
use ratatui::crossterm::event::KeyCode;

use super::fixtures::*;
use crate::app::{App, Command, Failure, Msg, PushOption, Reply};

fn on_profile_with(settings: PushSettings) -> App {
    let mut app = logged_in(&me("Ada"));
    assert_eq!(app.update(ch('4')), vec![Command::LoadPushSettings]);
    app.update(Msg::Reply(Reply::PushSettings(Ok(settings))));
    app
}

#[test]
fn opening_the_profile_loads_the_settings_once_and_refresh_reloads_them() {
    let mut app = logged_in(&me("Ada"));
    assert_eq!(app.update(ch('4')), vec![Command::LoadPushSettings]);
    assert!(app.push.busy);
    app.update(Msg::Reply(Reply::PushSettings(Ok(PushSettings::default()))));
    assert_eq!(app.push.settings, Some(PushSettings::default()));
    assert!(!app.push.busy);
    app.update(ch('1'));
    assert_eq!(app.update(ch('4')), Vec::<Command>::new(), "already loaded");
    assert_eq!(app.update(ch('r')), vec![Command::LoadMe, Command::LoadPushSettings]);
}

#[test]
fn space_turns_the_selected_kind_off_and_the_notice_says_so_once_saved() {
    let mut app = on_profile_with(PushSettings::default());
    app.update(key(KeyCode::Down));
    assert_eq!(app.push.selected_option(), PushOption::Requests);
    let off = PushSettingsPatch { requests: Some(false), ..PushSettingsPatch::default() };
    assert_eq!(app.update(ch(' ')), vec![Command::UpdatePushSettings(off)]);
    // Shown as it was until the server confirms.
    assert_eq!(app.push.settings.as_ref().map(|s| s.requests), Some(true));
    assert_eq!(app.update(ch(' ')), Vec::<Command>::new(), "one change at a time");

    let saved = PushSettings { requests: false, ..PushSettings::default() };
    app.update(Msg::Reply(Reply::PushSettingsSaved(Ok(saved.clone()))));
    assert_eq!(app.push.settings, Some(saved));
    assert_eq!(app.notice.as_ref().map(|n| n.text.as_str()), Some("Push notifications for connection requests: off."));

    let on = PushSettingsPatch { requests: Some(true), ..PushSettingsPatch::default() };
    assert_eq!(app.update(ch(' ')), vec![Command::UpdatePushSettings(on)]);
}

#[test]
fn the_selection_stays_within_the_four_kinds() {
    let mut app = on_profile_with(PushSettings::default());
    app.update(key(KeyCode::Up));
    assert_eq!(app.push.selected_option(), PushOption::Messages);
    for _ in 0..10 {
        app.update(ch('j'));
    }
    assert_eq!(app.push.selected_option(), PushOption::Previews);
    let off = PushSettingsPatch { previews: Some(false), ..PushSettingsPatch::default() };
    assert_eq!(app.update(ch(' ')), vec![Command::UpdatePushSettings(off)]);
}

#[test]
fn the_profile_form_keeps_its_keys_while_open() {
    let mut app = on_profile_with(PushSettings::default());
    app.update(ch('e'));
    assert!(app.profile_form.is_some());
    assert_eq!(app.update(ch(' ')), Vec::<Command>::new(), "a space in a field, not a toggle");
    assert_eq!(app.profile_form.as_ref().map(|f| f.fields[0].text().to_owned()), Some("Ada ".to_owned()));
}

#[test]
fn a_failed_change_is_shown_and_the_settings_stay_as_they_were() {
    let muted = PushSettings { muted_groups: vec![GroupId::new()], ..PushSettings::default() };
    let mut app = on_profile_with(muted.clone());
    app.update(ch(' '));
    app.update(Msg::Reply(Reply::PushSettingsSaved(Err(Failure::new("internal", "internal error")))));
    assert_eq!(app.push.settings, Some(muted));
    assert!(!app.push.busy);
    assert!(app.notice.as_ref().is_some_and(|n| n.error && n.text == "internal error"), "{:?}", app.notice);
}

#[test]
fn a_server_without_push_says_so_instead_of_an_error_and_toggles_nothing() {
    let mut app = logged_in(&me("Ada"));
    app.update(ch('4'));
    let off = Failure::new("unavailable", "push notifications are not enabled on this server");
    app.update(Msg::Reply(Reply::PushSettings(Err(off))));
    assert!(app.push.unavailable);
    assert_eq!(app.notice, None);
    assert_eq!(app.update(ch(' ')), Vec::<Command>::new());
    assert_eq!(app.notice.as_ref().map(|n| n.text.as_str()), Some("This server sends no push notifications."));
}

#[test]
fn a_refused_token_while_loading_ends_the_session() {
    let mut app = logged_in(&me("Ada"));
    app.update(ch('4'));
    let commands = app.update(Msg::Reply(Reply::PushSettings(Err(Failure::new("unauthorized", "token expired")))));
    assert!(commands.contains(&Command::ForgetToken), "{commands:?}");
    assert_eq!(app.phase, crate::app::Phase::Login);
    assert_eq!(app.push.settings, None, "nothing of the session is kept");
}
