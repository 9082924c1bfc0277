use std::time::Duration;

use devconnect_client::realtime::ServerEvent;
use devconnect_types::{FeedPage, GroupRole, Visibility};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::KeyCode;
use unicode_width::UnicodeWidthStr as _;

use super::fixtures::*;
use crate::app::{App, Failure, LiveEvent, Msg, Reply};
use crate::ui;

/// Draws `app` on a `width`×`height` test terminal and returns the screen's rows as text
/// (a wide character is one entry, not followed by its padding cell).
fn draw(app: &App, width: u16, height: u16) -> Vec<String> {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|frame| ui::render(app, frame)).unwrap();
    let buffer = terminal.backend().buffer();
    (0..height)
        .map(|y| {
            let mut row = String::new();
            let mut skip = 0;
            for x in 0..width {
                let symbol = buffer[(x, y)].symbol();
                if skip > 0 {
                    skip -= 1;
                    continue;
                }
                row.push_str(symbol);
                skip = symbol.width().saturating_sub(1);
            }
            row
        })
        .collect()
}

fn screen(rows: &[String]) -> String {
    rows.join("\n")
}

fn assert_shows(rows: &[String], text: &str) {
    assert!(rows.iter().any(|r| r.contains(text)), "expected {text:?} on screen:\n{}", screen(rows));
}

/// Every screen at many sizes, including degenerate ones, draws without panicking.
fn draw_at_all_sizes(app: &App) {
    for (w, h) in [(0, 0), (1, 1), (10, 3), (3, 10), (20, 5), (40, 12), (80, 24), (200, 60)] {
        draw(app, w, h);
    }
}

#[test]
fn the_login_screen_shows_the_fields_masks_the_password_and_the_keys() {
    let (mut app, _) = App::new(SERVER, false, "n");
    app.update(Msg::Reply(Reply::Health(Ok(()))));
    type_text(&mut app, "ada@example.com");
    app.update(key(KeyCode::Tab));
    type_text(&mut app, "s3cret!");
    let rows = draw(&app, 80, 20);
    assert_shows(&rows, "Log in");
    assert_shows(&rows, "ada@example.com");
    assert_shows(&rows, "•••••••");
    assert!(!screen(&rows).contains("s3cret"));
    assert_shows(&rows, "Ctrl-N sign up");
    app.update(ctrl('n'));
    let rows = draw(&app, 80, 20);
    assert_shows(&rows, "Sign up");
    assert_shows(&rows, "First name");
    draw_at_all_sizes(&app);
}

#[test]
fn a_server_down_at_start_is_explained() {
    let (mut app, _) = App::new(SERVER, true, "n");
    app.update(Msg::Reply(Reply::Health(Err(Failure::new(
        "transport",
        "cannot reach the server (connection refused)",
    )))));
    let rows = draw(&app, 120, 10);
    assert_shows(&rows, "Cannot reach http://127.0.0.1:3000: cannot reach the server (connection refused)");
    assert_shows(&rows, "Retrying in 1 s");
    draw_at_all_sizes(&app);
}

#[test]
fn the_chats_screen_shows_partners_online_dots_unread_counts_and_the_conversation() {
    let me = me("Ada");
    let bob = profile("Bob", "Builder");
    let cy = profile("李", "小龙");
    let mut app = logged_in(&me);
    app.update(Msg::Reply(Reply::Partners(Ok(vec![partner(&bob, 0), partner(&cy, 2)]))));
    app.update(Msg::Live(LiveEvent::Connected));
    app.update(Msg::Live(LiveEvent::Server(ServerEvent::OnlineUsers(vec![bob.id, me.profile.id]))));
    app.update(key(KeyCode::Enter));
    let history =
        vec![message(bob.id, me.profile.id, "hello from Bob 👋"), message(me.profile.id, bob.id, "你好, Bob! 🎉")];
    app.update(Msg::Reply(Reply::History { with: bob.id, before: None, result: Ok(history) }));
    app.update(Msg::Live(LiveEvent::Server(ServerEvent::Typing { user_id: bob.id, typing: true })));
    type_text(&mut app, "draft");
    let rows = draw(&app, 100, 20);
    assert_shows(&rows, "● Bob Builder");
    assert_shows(&rows, "○ 李 小龙 (2)");
    assert_shows(&rows, "Bob: hello from Bob 👋");
    assert_shows(&rows, "You: 你好, Bob! 🎉");
    assert_shows(&rows, "Bob is typing…");
    assert_shows(&rows, "> draft");
    assert_shows(&rows, "● connected");
    assert_shows(&rows, "1 Chats (2)");
    assert_shows(&rows, "Enter send");
    draw_at_all_sizes(&app);
}

#[test]
fn a_long_message_wraps_within_the_width_and_the_newest_line_stays_visible() {
    let me = me("Ada");
    let bob = profile("Bob", "B");
    let mut app = with_partner(&me, &bob);
    app.update(key(KeyCode::Enter));
    let long = format!("{}END", "長い文章と😀絵文字 ".repeat(40));
    app.update(Msg::Reply(Reply::History {
        with: bob.id,
        before: None,
        result: Ok(vec![message(bob.id, me.profile.id, &long)]),
    }));
    for width in [30u16, 41, 57, 80] {
        let rows = draw(&app, width, 16);
        for row in &rows {
            assert!(row.width() <= usize::from(width), "row wider than {width}: {row:?}");
        }
        assert_shows(&rows, "END");
    }
    // Scrolled up, the bottom is not shown and a hint says so.
    app.chats.open.as_mut().unwrap().scroll = 3;
    let rows = draw(&app, 60, 16);
    assert_shows(&rows, "more lines (PgDn)");
}

#[test]
fn a_narrow_terminal_shows_the_list_or_the_conversation() {
    let me = me("Ada");
    let bob = profile("Bob", "B");
    let mut app = with_partner(&me, &bob);
    let rows = draw(&app, 40, 10);
    assert_shows(&rows, "Bob B");
    app.update(key(KeyCode::Enter));
    app.update(Msg::Reply(Reply::History {
        with: bob.id,
        before: None,
        result: Ok(vec![message(bob.id, me.profile.id, "yo")]),
    }));
    let rows = draw(&app, 40, 10);
    assert_shows(&rows, "Bob: yo");
}

#[test]
fn the_status_bar_shows_reconnecting() {
    let me = me("Ada");
    let mut app = logged_in(&me);
    app.update(Msg::Live(LiveEvent::Waiting {
        attempt: 3,
        retry_in: Duration::from_secs(4),
        reason: "transport close".to_owned(),
    }));
    let rows = draw(&app, 120, 10);
    assert_shows(&rows, "◌ reconnecting (try 3, 4 s)");
}

#[test]
fn the_feed_screen_shows_the_page_and_the_selected_profile() {
    let me = me("Ada");
    let mut app = logged_in(&me);
    let mut eve = profile("Eve", "Engineer");
    eve.about = "Loves Rust and 日本語".to_owned();
    eve.skills = vec!["rust".to_owned(), "go".to_owned()];
    let fay = profile("Fay", "F");
    app.update(Msg::Reply(Reply::Feed(Ok(FeedPage { profiles: vec![eve, fay], page: 2, limit: 10, has_more: true }))));
    app.update(ch('2'));
    let rows = draw(&app, 100, 20);
    assert_shows(&rows, "Feed · page 2 ›");
    assert_shows(&rows, "Eve Engineer, 30 · rust, go");
    assert_shows(&rows, "Fay F");
    assert_shows(&rows, "Loves Rust and 日本語");
    assert_shows(&rows, "i interested · x ignore");
    draw_at_all_sizes(&app);
    app.update(Msg::Reply(Reply::Feed(Ok(FeedPage { profiles: vec![], page: 1, limit: 10, has_more: false }))));
    assert_shows(&draw(&app, 100, 20), "No one new to discover right now");
}

#[test]
fn the_requests_screen_shows_received_and_sent() {
    let me = me("Ada");
    let mut app = logged_in(&me);
    let bob = profile("Bob", "B");
    let cy = profile("Cy", "C");
    app.update(Msg::Reply(Reply::Received(Ok(vec![received(&bob, me.profile.id, Some("let's build 🚀"))]))));
    app.update(Msg::Reply(Reply::SentRequests(Ok(vec![sent(me.profile.id, &cy)]))));
    app.update(ch('3'));
    let rows = draw(&app, 100, 20);
    assert_shows(&rows, "Received (1)");
    assert_shows(&rows, "Bob B — “let's build 🚀”");
    assert_shows(&rows, "Sent (1)");
    assert_shows(&rows, "Cy C · interested");
    assert_shows(&rows, "a accept · x reject");
    assert_shows(&rows, "3 Requests (1)");
    draw_at_all_sizes(&app);
}

#[test]
fn the_profile_screen_shows_my_fields_and_the_edit_form() {
    let mut me = me("Ada");
    me.profile.about = "Analytical engines ⚙️ and 数学".to_owned();
    let mut app = logged_in(&me);
    app.update(ch('4'));
    let rows = draw(&app, 100, 20);
    assert_shows(&rows, "My profile");
    assert_shows(&rows, "ada@example.com");
    assert_shows(&rows, "Analytical engines ⚙️ and 数学");
    assert_shows(&rows, "e edit");
    draw_at_all_sizes(&app);
    app.update(ch('e'));
    let rows = draw(&app, 100, 20);
    assert_shows(&rows, "Edit profile");
    assert_shows(&rows, "First name  Ada");
    assert_shows(&rows, "Enter save");
    draw_at_all_sizes(&app);
}

#[test]
fn the_profile_screen_shows_the_push_settings_with_the_selected_one_marked() {
    let mut app = logged_in(&me("Ada"));
    app.update(ch('4'));
    let rows = draw(&app, 100, 24);
    assert_shows(&rows, "Push notifications while offline");
    assert_shows(&rows, "Loading…");
    let settings = devconnect_types::PushSettings {
        requests: false,
        muted_groups: vec![devconnect_types::GroupId::new(), devconnect_types::GroupId::new()],
        ..devconnect_types::PushSettings::default()
    };
    app.update(Msg::Reply(Reply::PushSettings(Ok(settings))));
    app.update(key(KeyCode::Down));
    let rows = draw(&app, 100, 24);
    assert_shows(&rows, "  [x] New messages");
    assert_shows(&rows, "› [ ] Connection requests");
    assert_shows(&rows, "  [x] Group messages (2 muted)");
    assert_shows(&rows, "  [x] Message previews");
    assert_shows(&rows, "Space notification on/off");
    assert_shows(&rows, "ada@example.com");
    draw_at_all_sizes(&app);

    app.update(Msg::Reply(Reply::PushSettings(Err(Failure::new("unavailable", "off")))));
    let rows = draw(&app, 100, 24);
    assert_shows(&rows, "This server sends no push notifications.");
}

#[test]
fn a_tiny_terminal_draws_every_screen() {
    let me = me("Ada");
    let bob = profile("Bob", "B");
    let mut app = with_partner(&me, &bob);
    for screen in ['1', '2', '3', '4', '5'] {
        app.update(ch(screen));
        let rows = draw(&app, 10, 3);
        assert_eq!(rows.len(), 3);
        assert!(rows[0].contains("DevConn"), "{rows:?}");
    }
}

#[test]
fn the_groups_screen_shows_my_groups_and_the_members_by_name_when_known() {
    let me = me("Ada");
    let bob = profile("Bob", "Builder");
    let mut app = with_partner(&me, &bob);
    let rust = group("Rustaceans 🦀", Visibility::Public, me.profile.id, 3);
    let secret = group("Secret", Visibility::Private, bob.id, 1);
    app.update(ch('5'));
    let rows = draw(&app, 120, 20);
    assert_shows(&rows, "5 Groups");
    assert_shows(&rows, "Loading…");
    app.update(Msg::Reply(Reply::MyGroups(Ok(vec![
        my_group(&rust, GroupRole::Owner),
        my_group(&secret, GroupRole::Member),
    ]))));
    let rows = draw(&app, 120, 20);
    assert_shows(&rows, "My groups (2)");
    assert_shows(&rows, "Rustaceans 🦀 · owner · 3 members · public");
    assert_shows(&rows, "Secret · member · 1 member · private");
    assert_shows(&rows, "n new group · j join by id · l leave");
    draw_at_all_sizes(&app);

    app.update(key(KeyCode::Enter));
    let stranger = devconnect_types::UserId::new();
    app.update(Msg::Reply(Reply::GroupMembers {
        id: rust.id,
        result: Ok(vec![
            member(me.profile.id, GroupRole::Owner),
            member(bob.id, GroupRole::Admin),
            member(stranger, GroupRole::Member),
        ]),
    }));
    let rows = draw(&app, 120, 20);
    assert_shows(&rows, "Rustaceans 🦀 · members (3)");
    assert_shows(&rows, &format!("id {}", rust.id));
    assert_shows(&rows, "you · owner");
    assert_shows(&rows, "Bob Builder · admin");
    let hex = stranger.to_hex();
    assert_shows(&rows, &format!("user {} · member", &hex[18..]));
    assert_shows(&rows, "Esc back to list");
    draw_at_all_sizes(&app);
    // Narrow: the conversation replaces the list while writing.
    let rows = draw(&app, 50, 12);
    assert_shows(&rows, "Rustaceans 🦀");
    assert!(!screen(&rows).contains("My groups"));
}

#[test]
fn the_groups_screen_shows_the_create_form_the_join_input_and_a_new_group() {
    let me = me("Ada");
    let mut app = logged_in(&me);
    app.update(ch('5'));
    app.update(Msg::Reply(Reply::MyGroups(Ok(vec![]))));
    assert_shows(&draw(&app, 100, 20), "You are in no group yet. Press n to create one");
    app.update(ch('n'));
    type_text(&mut app, "Rustaceans");
    app.update(key(KeyCode::Tab));
    app.update(ch(' '));
    let rows = draw(&app, 100, 20);
    assert_shows(&rows, "New group");
    assert_shows(&rows, "Name        Rustaceans");
    assert_shows(&rows, "Visibility  ( ) public  (•) private");
    assert_shows(&rows, "Enter create · Esc cancel");
    draw_at_all_sizes(&app);
    app.update(key(KeyCode::Enter));
    let created = group("Rustaceans", Visibility::Private, me.profile.id, 1);
    app.update(Msg::Reply(Reply::GroupCreated(Ok(created.clone()))));
    let rows = draw(&app, 140, 20);
    assert_shows(&rows, "Rustaceans · owner · 1 member · private");
    assert_shows(&rows, &format!("Others join it with its id {}", created.id));
    assert!(!screen(&rows).contains("New group"), "the form closed");

    app.update(ch('j'));
    app.update(Msg::Paste("65f0c0ffee".to_owned()));
    let rows = draw(&app, 100, 20);
    assert_shows(&rows, "Join a public group");
    assert_shows(&rows, "Group id    65f0c0ffee");
    assert_shows(&rows, "Enter join");
    draw_at_all_sizes(&app);
    app.update(Msg::Reply(Reply::GroupJoined(Err(Failure::new("not_found", "group not found")))));
    assert_shows(&draw(&app, 100, 20), "group not found");
}

#[test]
fn an_80_column_header_keeps_every_tab_and_the_status() {
    let me = me("Ada");
    let bob = profile("Bob", "B");
    let mut app = with_partner(&me, &bob);
    app.update(Msg::Reply(Reply::Partners(Ok(vec![partner(&bob, 2)]))));
    app.update(ch('5'));
    let header = &draw(&app, 80, 10)[0];
    assert!(header.contains(" 1 (2)   2   3   4   5 Groups "), "{header}");
    assert!(header.contains("● connected · Ada"), "{header}");
    app.update(ch('1'));
    assert!(draw(&app, 120, 10)[0].contains("1 Chats (2)   2 Feed   3 Requests   4 Profile   5 Groups"));
}

#[test]
fn wrapping_never_splits_a_wide_character_or_exceeds_the_width() {
    let style = ratatui::style::Style::default();
    let text = |lines: Vec<ratatui::text::Line<'_>>| lines.iter().map(ToString::to_string).collect::<Vec<_>>();
    assert_eq!(text(ui::wrap(&[("ab你好👍🏽c\nd\te".to_owned(), style)], 3)), vec!["ab", "你", "好", "👍🏽c", "d e"]);
    // Words move whole to the next line; a word longer than the line is cut.
    let words = ui::wrap(&[("the quick brown fox".to_owned(), style)], 10);
    assert_eq!(text(words), vec!["the quick", "brown fox"]);
    let long = ui::wrap(&[("a supercalifragilistic word".to_owned(), style)], 8);
    assert_eq!(text(long), vec!["a", "supercal", "ifragili", "stic", "word"]);
    // Styles survive the move.
    let bold = style.add_modifier(ratatui::style::Modifier::BOLD);
    let styled = ui::wrap(&[("Bob: ".to_owned(), bold), ("hi there".to_owned(), style)], 8);
    assert_eq!(text(styled.clone()), vec!["Bob: hi", "there"]);
    assert_eq!(styled[0].spans[0].style, bold);
    let lines = ui::wrap(&[("你".to_owned(), style)], 1);
    assert_eq!(lines.iter().map(ToString::to_string).collect::<Vec<_>>(), vec!["?"]);
    assert!(ui::wrap(&[("x".to_owned(), style)], 0).is_empty());
}

#[test]
fn a_group_conversation_shows_names_system_sentences_typing_and_unread_counts() {
    use devconnect_types::GroupChange;
    let me = me("Dee");
    let ada = profile("Ada", "Lovelace");
    let bob = profile("Bob", "Builder");
    let mut app = with_partner(&me, &ada);
    let (rust, go) =
        (group("Rustaceans", Visibility::Public, ada.id, 3), group("Gophers", Visibility::Public, ada.id, 2));
    app.update(ch('5'));
    app.update(Msg::Reply(Reply::MyGroups(Ok(vec![
        my_group(&rust, GroupRole::Member),
        my_group(&go, GroupRole::Member),
    ]))));
    app.update(key(KeyCode::Enter));
    let rows = draw(&app, 120, 20);
    assert_shows(&rows, "Loading…");
    app.update(Msg::Reply(Reply::GroupHistory {
        group: rust.id,
        before: None,
        result: Ok(vec![
            group_change(rust.id, ada.id, GroupChange::Created),
            group_change(rust.id, ada.id, GroupChange::Added { user_id: bob.id }),
            group_change(rust.id, ada.id, GroupChange::RoleChanged { user_id: bob.id, role: GroupRole::Admin }),
            group_message(rust.id, bob.id, "hello 世界"),
            group_message(rust.id, me.profile.id, "hi Bob"),
        ]),
    }));
    // Bob is no chat partner: a short id until his profile arrives.
    let short = format!("user {}", &bob.id.to_hex()[18..]);
    assert_shows(&draw(&app, 120, 20), &format!("{short}: hello 世界"));
    app.update(Msg::Reply(Reply::Profile { id: bob.id, result: Ok(bob.clone()) }));
    app.update(Msg::Live(LiveEvent::Server(ServerEvent::GroupMessage(group_message(go.id, ada.id, "psst")))));
    app.update(Msg::Live(LiveEvent::Server(ServerEvent::GroupTyping {
        group_id: rust.id,
        user_id: bob.id,
        typing: true,
    })));
    type_text(&mut app, "draft");
    let rows = draw(&app, 120, 20);
    assert!(rows[0].contains("5 Groups (1)"), "{}", rows[0]);
    assert_shows(&rows, "Gophers (1)");
    assert_shows(&rows, "· Ada created the group");
    assert_shows(&rows, "· Ada added Bob");
    assert_shows(&rows, "· Ada made Bob an admin");
    assert_shows(&rows, "Bob: hello 世界");
    assert_shows(&rows, "You: hi Bob");
    assert_shows(&rows, "Bob is typing…");
    assert_shows(&rows, "> draft");
    assert_shows(&rows, "Rustaceans · members (0)");
    assert_shows(&rows, "Enter send · ↑↓ PgUp PgDn scroll · Esc back to list");
    draw_at_all_sizes(&app);
    // A refused message stays, with why.
    app.update(key(KeyCode::Enter));
    app.update(Msg::Reply(Reply::GroupSent {
        group: rust.id,
        client_msg_id: "tui-test-1".to_owned(),
        result: Err(Failure::new("forbidden", "you are not a member of this group")),
    }));
    let rows = draw(&app, 120, 20);
    assert_shows(&rows, "You: draft (not sent: you are not a member");
    assert_shows(&rows, "of this group (forbidden))");
    // On a narrow terminal the conversation takes the screen while writing, the list after Esc.
    assert_shows(&draw(&app, 50, 14), "Bob: hello 世界");
    app.update(key(KeyCode::Esc));
    let rows = draw(&app, 50, 14);
    assert_shows(&rows, "My groups (2)");
}

#[test]
fn the_block_question_and_the_report_picker_draw_over_the_conversation() {
    let me = me("Ada");
    let bob = profile("Bob", "Builder");
    let mut app = with_partner(&me, &bob);
    app.update(key(KeyCode::Enter));
    app.update(Msg::Reply(Reply::History {
        with: bob.id,
        before: None,
        result: Ok(vec![message(bob.id, me.profile.id, "buy my course 📈")]),
    }));
    let rows = draw(&app, 120, 24);
    assert_shows(&rows, "Ctrl-R report · Ctrl-X block");
    app.update(ctrl('x'));
    let rows = draw(&app, 120, 24);
    assert_shows(&rows, "Block Bob Builder?");
    assert_shows(&rows, "Your connection and any pending request between you are");
    assert_shows(&rows, "y block · n cancel");
    assert_shows(&rows, "y block · n/Esc cancel");
    draw_at_all_sizes(&app);
    app.update(ch('n'));
    assert!(!screen(&draw(&app, 120, 24)).contains("Block Bob"), "the question closed");

    app.update(ctrl('r'));
    app.update(key(KeyCode::Down));
    type_text(&mut app, "again");
    let rows = draw(&app, 120, 24);
    assert_shows(&rows, " Report ");
    assert_shows(&rows, "About       Bob's message: “buy my course 📈”  (1 of 2, Tab)");
    assert_shows(&rows, "Reason      ( ) spam");
    assert_shows(&rows, "(•) harassment");
    assert_shows(&rows, "( ) inappropriate content");
    assert_shows(&rows, "Details     again");
    assert_shows(&rows, "Tab what · ↑↓ reason · type details (optional) · Enter report · Esc cancel");
    draw_at_all_sizes(&app);
    app.update(key(KeyCode::Tab));
    assert_shows(&draw(&app, 120, 24), "About       Bob Builder  (2 of 2, Tab)");
    app.update(key(KeyCode::Enter));
    assert_shows(&draw(&app, 120, 24), "Report · sending…");
}

#[test]
fn the_requests_screen_lists_the_people_i_blocked_and_chats_mark_them() {
    let me = me("Ada");
    let bob = profile("Bob", "Builder");
    let mut app = with_partner(&me, &bob);
    app.update(ch('3'));
    assert_shows(&draw(&app, 100, 20), "You have blocked no one.");
    app.update(Msg::Reply(Reply::BlockedUsers(Ok(vec![blocked(&bob)]))));
    app.update(key(KeyCode::Left));
    let rows = draw(&app, 100, 20);
    assert_shows(&rows, "Blocked (1)");
    assert_shows(&rows, "Bob Builder · since ");
    assert_shows(&rows, "u unblock");
    draw_at_all_sizes(&app);
    assert_shows(&draw(&app, 50, 20), "Blocked (1)");

    // History keeps a blocked partner listed: marked, and said so where one would write.
    app.update(ch('1'));
    assert_shows(&draw(&app, 100, 20), "⊘ Bob Builder · blocked");
    app.update(key(KeyCode::Enter));
    let rows = draw(&app, 100, 20);
    assert_shows(&rows, "Bob Builder ⊘ blocked");
    assert_shows(&rows, "you blocked them: Requests (3) › Blocked to unblock");
}

#[test]
fn keys_that_do_not_fit_on_one_line_take_a_second_broken_between_keys() {
    let me = me("Ada");
    let mut app = logged_in(&me);
    app.update(ch('5'));
    let rows = draw(&app, 80, 20);
    let (first, second) = (&rows[18], &rows[19]);
    assert!(first.starts_with("↑↓ select · Enter open chat · n new group"), "{first}");
    assert!(second.trim_end().ends_with("L logout · q quit"), "{second}");
    for row in [first, second] {
        assert!(!row.trim().starts_with('·') && !row.trim_end().ends_with('·'), "{row:?}");
    }
    // A short terminal keeps one line for the keys.
    let rows = draw(&app, 80, 8);
    assert_shows(&rows, "↑↓ select · Enter open chat");
    assert!(!rows[7].contains("q quit"));
}

#[test]
fn the_group_details_show_the_description_tags_and_the_photo_url_or_no_photo() {
    let me = me("Ada");
    let mut rust = group("Rustaceans", Visibility::Private, me.profile.id, 3);
    rust.description = "Rust in Berlin, monthly".to_owned();
    rust.tags = vec!["rust".to_owned(), "berlin".to_owned()];
    let mut app = with_partner(&me, &profile("Bob", "Kahn"));
    app.update(ch('5'));
    app.update(Msg::Reply(Reply::MyGroups(Ok(vec![my_group(&rust, GroupRole::Owner)]))));
    app.update(key(KeyCode::Enter));
    app.update(Msg::Reply(Reply::GroupHistory { group: rust.id, before: None, result: Ok(vec![]) }));
    assert!(!screen(&draw(&app, 120, 24)).contains("Rust in Berlin"), "hidden until asked for");
    assert_shows(&draw(&app, 120, 24), "Ctrl-D details");
    app.update(ctrl('d'));
    let rows = draw(&app, 120, 24);
    assert_shows(&rows, "Description Rust in Berlin, monthly");
    assert_shows(&rows, "Visibility  private · 3 members · you are owner");
    assert_shows(&rows, "Tags        rust, berlin");
    assert_shows(&rows, "Photo       no photo");
    assert_shows(&rows, "Ctrl-D hide details");
    assert_shows(&rows, "No messages yet");
    // A relative photo URL is shown absolute, to open elsewhere.
    rust.photo_url = Some("/uploads/abc.png".to_owned());
    app.update(Msg::Live(LiveEvent::Server(ServerEvent::GroupUpdated(rust.clone()))));
    assert_shows(&draw(&app, 160, 24), &format!("Photo       {SERVER}/uploads/abc.png"));
    draw_at_all_sizes(&app);
}

#[test]
fn the_group_edit_form_draws_over_the_screen_with_a_refusal_under_its_field() {
    let me = me("Ada");
    let bob = profile("Bob", "Kahn");
    let mut rust = group("Rustaceans", Visibility::Public, me.profile.id, 3);
    rust.tags = vec!["rust".to_owned(), "berlin".to_owned()];
    let go = group("Gophers", Visibility::Public, bob.id, 2);
    let mut app = with_partner(&me, &bob);
    app.update(ch('5'));
    app.update(Msg::Reply(Reply::MyGroups(Ok(vec![
        my_group(&rust, GroupRole::Owner),
        my_group(&go, GroupRole::Member),
    ]))));
    // The edit key is offered where my role allows it, not elsewhere.
    assert_shows(&draw(&app, 160, 24), "e edit");
    app.update(key(KeyCode::Down));
    assert!(!screen(&draw(&app, 160, 24)).contains("e edit"), "a member is not offered it");
    app.update(key(KeyCode::Up));
    app.update(ch('e'));
    let rows = draw(&app, 120, 24);
    assert_shows(&rows, "Edit Rustaceans");
    assert_shows(&rows, "Name        Rustaceans");
    assert_shows(&rows, "Visibility  (•) public  ( ) private");
    assert_shows(&rows, "Tags        rust, berlin");
    assert_shows(&rows, "New photo");
    assert_shows(&rows, "Tab/Shift-Tab field · ←→ public/private · Enter save · Esc cancel");
    app.update(ctrl('u'));
    app.update(key(KeyCode::Enter));
    assert_shows(&draw(&app, 120, 24), "Edit Rustaceans · saving…");
    app.update(Msg::Reply(Reply::GroupEdited {
        id: rust.id,
        result: Err(Failure::new("validation", "name: must be 1–100 characters")),
    }));
    let rows = draw(&app, 120, 24);
    let name_row = rows.iter().position(|r| r.contains("Name  ")).unwrap();
    assert!(
        rows[name_row + 1].contains("⚠ name: must be 1–100 characters (validation)"),
        "the refusal is under the name:\n{}",
        screen(&rows)
    );
    // A refusal about the whole form goes at its bottom.
    app.update(Msg::Reply(Reply::GroupEdited {
        id: rust.id,
        result: Err(Failure::new("forbidden", "only the owner and admins edit a group")),
    }));
    assert_shows(&draw(&app, 120, 24), "⚠ only the owner and admins edit a group (forbidden)");
    draw_at_all_sizes(&app);
    // A refusal wider than the form wraps, its code kept.
    app.update(Msg::Reply(Reply::GroupEdited {
        id: rust.id,
        result: Err(Failure::new("unsupported_media_type", "only JPEG, PNG and WebP images are accepted")),
    }));
    let rows = draw(&app, 120, 24);
    let photo_row = rows.iter().position(|r| r.contains("New photo")).unwrap();
    assert!(rows[photo_row + 1].contains("⚠ only JPEG, PNG and WebP images are accepted"), "{}", screen(&rows));
    assert!(rows[photo_row + 2].contains("(unsupported_media_type)"), "{}", screen(&rows));
    draw_at_all_sizes(&app);
}
