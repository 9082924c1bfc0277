//! The realtime endpoint seen through the Rust client, against a real hyper server.

mod helpers;
mod polling;
mod raw;

use std::sync::Arc;
use std::time::Duration;

use devconnect_client::realtime::{self as client, ConnectOptions, ServerEvent};
use devconnect_core::{Clock as _, ManualClock, Message, NewMessage, PasswordChange, Settings};
use devconnect_socketio::SocketIoConfig;
use futures_util::{SinkExt as _, StreamExt as _};
use helpers::*;
use serde_json::json;
use tokio_tungstenite::tungstenite::Message as WsMessage;

#[tokio::test]
async fn a_connection_without_a_valid_token_is_refused() {
    let t = spawn_app().await;
    let ada = t.user("ada").await;

    let none = client::connect_with(&t.base_url, json!({}), &ConnectOptions::default()).await;
    assert_eq!(none.map(drop).map_err(|e| e.code), Err("unauthorized".to_owned()));

    let bad = client::connect(&t.base_url, "not.a.token", None).await;
    assert_eq!(bad.map(drop).map_err(|e| e.code), Err("unauthorized".to_owned()));

    let user_id_only = client::connect_with(&t.base_url, json!({ "userId": ada.id }), &ConnectOptions::default()).await;
    assert_eq!(user_id_only.map(drop).map_err(|e| e.code), Err("unauthorized".to_owned()));

    t.wait_for_sockets(0).await;
    assert!(!t.app.is_online(ada.id));
}

#[tokio::test]
async fn the_token_may_come_in_the_query_string() {
    let t = spawn_app().await;
    let ada = t.user("ada").await;
    let base = format!("{}/socket.io/?token={}&x=", t.base_url, ada.token);
    // The client appends its own query; emulate a query token with a raw connection.
    let url = format!("{}&EIO=4&transport=websocket", base.replace("http://", "ws://"));
    let (mut ws, _) = must(tokio_tungstenite::connect_async(url).await, "connect");
    let open = within(ws.next()).await;
    assert!(matches!(open, Some(Ok(WsMessage::Text(t))) if t.starts_with('0')));
    must(ws.send(WsMessage::text("40")).await, "send connect");
    let joined = within(ws.next()).await;
    assert!(matches!(&joined, Some(Ok(WsMessage::Text(t))) if t.starts_with("40{\"sid\"")), "{joined:?}");
}

#[tokio::test]
async fn a_browser_origin_outside_the_allow_list_is_refused() {
    let t = spawn_app().await;
    let ada = t.user("ada").await;
    let auth = json!({ "token": ada.token });

    let evil = ConnectOptions { origin: Some("http://evil.example".to_owned()), ..ConnectOptions::default() };
    let refused = client::connect_with(&t.base_url, auth.clone(), &evil).await;
    assert_eq!(refused.map(drop).map_err(|e| e.code), Err("forbidden".to_owned()));

    let dev = ConnectOptions { origin: Some("http://localhost:5173".to_owned()), ..ConnectOptions::default() };
    let allowed = must(client::connect_with(&t.base_url, auth, &dev).await, "allowed origin");
    allowed.close().await;
}

#[tokio::test]
async fn presence_is_sent_on_connect_and_drops_when_the_last_socket_closes() {
    let t = spawn_app().await;
    let (ada, bob) = (t.user("ada").await, t.user("bob").await);
    t.connect_users(&ada, &bob).await;

    let mut a1 = t.socket(&ada).await;
    assert_eq!(next_online(&mut a1).await, vec![ada.id]);

    let mut b = t.socket(&bob).await;
    assert_eq!(next_online(&mut b).await, vec![bob.id, ada.id]);
    assert_eq!(next_online(&mut a1).await, vec![ada.id, bob.id]);

    // A second socket for Ada: Bob hears nothing new; one closing keeps Ada online.
    let mut a2 = t.socket(&ada).await;
    assert_eq!(next_online(&mut a2).await, vec![ada.id, bob.id]);
    a1.close().await;
    t.wait_for_sockets(2).await;
    let sent = must(a2.send_message(bob.id, "still here", None).await, "send");
    let first = next_where(&mut b, Some).await;
    assert_eq!(first, msg(sent), "no presence change while a socket remains");

    a2.close().await;
    assert_eq!(next_online(&mut b).await, vec![bob.id]);
    t.wait_for_sockets(1).await;
    assert!(!t.app.is_online(ada.id));
    b.close().await;
    t.wait_for_sockets(0).await;
}

#[tokio::test]
async fn messages_reach_both_sides_whichever_way_they_are_sent() {
    let t = spawn_app().await;
    let (ada, bob) = (t.user("ada").await, t.user("bob").await);
    t.connect_users(&ada, &bob).await;
    let mut a = t.socket(&ada).await;
    let mut b = t.socket(&bob).await;

    // Sent through the core (as REST does).
    let rest = NewMessage { text: "hello over REST".to_owned(), ..NewMessage::default() };
    let sent = must(t.app.send_message(ada.id, bob.id, rest).await, "send").message;
    assert_eq!(next_non_presence(&mut b).await, msg(sent.clone()));
    assert_eq!(next_non_presence(&mut a).await, msg(sent));

    // Sent over the socket, acknowledged with the stored message.
    let acked = must(b.send_message(ada.id, "hi over the socket", Some("c-1")).await, "ack");
    assert_eq!(
        (acked.text.as_str(), acked.sender_id, acked.client_msg_id.as_deref()),
        ("hi over the socket", bob.id, Some("c-1"))
    );
    assert_eq!(next_non_presence(&mut a).await, msg(acked.clone()));
    assert_eq!(next_non_presence(&mut b).await, msg(acked.clone()));

    // A resend with the same client id returns the stored message and notifies nobody.
    let again = must(b.send_message(ada.id, "hi over the socket", Some("c-1")).await, "resend");
    assert_eq!(again.id, acked.id);
    let marker = must(b.send_message(ada.id, "after the resend", None).await, "send");
    assert_eq!(next_non_presence(&mut a).await, msg(marker.clone()));
    assert_eq!(next_non_presence(&mut b).await, msg(marker));

    // A long message (written as several WebSocket frames) arrives whole on both sides.
    let long: String =
        ["a", "é", "€", "🦀"].iter().cycle().take(devconnect_core::chat::MAX_TEXT_CHARS).copied().collect();
    let long_ack = must(a.send_message(bob.id, &long, None).await, "long ack");
    assert_eq!(long_ack.text, long);
    assert_eq!(next_non_presence(&mut b).await, msg(long_ack.clone()));
    assert_eq!(next_non_presence(&mut a).await, msg(long_ack));
}

#[tokio::test]
async fn send_message_errors_come_back_as_error_acks() {
    let t = spawn_app().await;
    let (ada, bob, cyd) = (t.user("ada").await, t.user("bob").await, t.user("cyd").await);
    t.connect_users(&ada, &bob).await;
    let a = t.socket(&ada).await;

    let stranger = a.send_message(cyd.id, "hi", None).await;
    assert_eq!(stranger.map(drop).map_err(|e| e.code), Err("forbidden".to_owned()));
    let empty = a.send_message(bob.id, "   ", None).await;
    assert_eq!(empty.map(drop).map_err(|e| e.code), Err("validation".to_owned()));
    let garbage = must(a.emit_with_ack("sendMessage", json!({ "to": "nobody" })).await, "ack");
    assert_eq!((garbage["success"].as_bool(), garbage["code"].as_str()), (Some(false), Some("validation")));
    let unknown = must(a.emit_with_ack("sendMessage", json!("nope")).await, "ack");
    assert_eq!(unknown["code"].as_str(), Some("validation"));
}

#[tokio::test]
async fn typing_reaches_the_other_side() {
    let t = spawn_app().await;
    let (ada, bob) = (t.user("ada").await, t.user("bob").await);
    t.connect_users(&ada, &bob).await;
    let a = t.socket(&ada).await;
    let mut b = t.socket(&bob).await;

    must(a.typing(bob.id, true).await, "typing");
    assert_eq!(next_non_presence(&mut b).await, ServerEvent::Typing { user_id: ada.id, typing: true });
    must(a.typing(bob.id, false).await, "typing");
    assert_eq!(next_non_presence(&mut b).await, ServerEvent::Typing { user_id: ada.id, typing: false });
}

#[tokio::test]
async fn requests_accepts_and_read_receipts_are_pushed() {
    let t = spawn_app().await;
    let (ada, bob) = (t.user("ada").await, t.user("bob").await);
    let mut a = t.socket(&ada).await;
    let mut b = t.socket(&bob).await;

    let request =
        must(t.app.send_request(ada.id, bob.id, devconnect_core::SendStatus::Interested, Some("hi")).await, "request");
    let pushed = next_non_presence(&mut b).await;
    assert!(
        matches!(&pushed, ServerEvent::ConnectionRequest(r) if r.id == request.id && r.from_user_id.id == ada.id),
        "{pushed:?}"
    );
    must(t.app.review_request(bob.id, request.id, devconnect_core::ReviewStatus::Accepted).await, "accept");
    let accepted = next_non_presence(&mut a).await;
    assert!(
        matches!(&accepted, ServerEvent::ConnectionAccepted(r) if r.id == request.id && r.to_user_id.id == bob.id),
        "{accepted:?}"
    );
    // Now connected and both online: each sees the other.
    assert_eq!(next_online(&mut b).await, vec![bob.id, ada.id]);

    let sent = must(a.send_message(bob.id, "read me", None).await, "send");
    must(t.app.mark_read(bob.id, ada.id).await, "mark read");
    let read = next_where(&mut a, |e| matches!(e, ServerEvent::MessagesRead { .. }).then_some(e)).await;
    assert_eq!(read, ServerEvent::MessagesRead { user_id: bob.id, up_to: sent.id });
}

#[tokio::test]
async fn a_reconnect_with_last_message_id_delivers_exactly_what_was_missed_in_order() {
    let t = spawn_app().await;
    let (ada, bob, cyd) = (t.user("ada").await, t.user("bob").await, t.user("cyd").await);
    t.connect_users(&ada, &bob).await;
    t.connect_users(&ada, &cyd).await;
    let seen = |text: &str| NewMessage { text: text.to_owned(), ..NewMessage::default() };

    let mut b = t.socket(&bob).await;
    let first = must(t.app.send_message(ada.id, bob.id, seen("seen live")).await, "send").message;
    assert_eq!(next_non_presence(&mut b).await, msg(first.clone()));
    b.close().await;
    t.wait_for_sockets(0).await;

    let mut missed = Vec::new();
    for i in 0..30 {
        let (from, to) = if i % 3 == 0 { (bob.id, ada.id) } else { (ada.id, bob.id) };
        missed.push(must(t.app.send_message(from, to, seen(&format!("missed {i}"))).await, "send").message);
        // Someone else's conversation is never part of Bob's catch-up.
        must(t.app.send_message(ada.id, cyd.id, seen("not for bob")).await, "send");
    }

    let mut b = must(client::connect(&t.base_url, &bob.token, Some(first.id)).await, "reconnect");
    let live = must(t.app.send_message(ada.id, bob.id, seen("live after reconnect")).await, "send").message;
    let mut got = Vec::new();
    while got.len() < missed.len() + 1 {
        if let ServerEvent::NewMessage(m) = next_non_presence(&mut b).await {
            got.push(m);
        }
    }
    let mut expected = missed;
    expected.push(live);
    let expected: Vec<_> = expected.into_iter().map(|m| Message { seq: 0, ..m }).collect();
    assert_eq!(got, expected);
    // Nothing duplicated afterwards: the next message is the next one sent.
    let after = must(t.app.send_message(ada.id, bob.id, seen("one more")).await, "send").message;
    assert_eq!(next_non_presence(&mut b).await, msg(after));
}

/// Waits for `sessionEnded` with `code`, then the server's disconnect.
async fn expect_session_ended(client: &mut client::Client, code: &str) {
    let ended = next_where(client, |e| match e {
        ServerEvent::SessionEnded { code, .. } => Some(code),
        _ => None,
    })
    .await;
    assert_eq!(ended, code);
    let reason = next_where(client, |e| match e {
        ServerEvent::Disconnected { reason } => Some(reason),
        _ => None,
    })
    .await;
    assert_eq!(reason, "io server disconnect");
}

#[tokio::test]
async fn logout_closes_the_socket_and_the_token_cannot_reconnect() {
    let t = spawn_app().await;
    let ada = t.user("ada").await;
    let mut a = t.socket(&ada).await;
    next_online(&mut a).await;

    must(t.app.logout(&t.session(&ada).await).await, "logout");
    expect_session_ended(&mut a, "token_revoked").await;
    let again = client::connect(&t.base_url, &ada.token, None).await;
    assert_eq!(again.map(drop).map_err(|e| e.code), Err("unauthorized".to_owned()));
    t.wait_for_sockets(0).await;
}

#[tokio::test]
async fn a_password_change_closes_older_sockets_and_only_the_new_token_connects() {
    let t = spawn_app().await;
    let ada = t.user("ada").await;
    let mut a = t.socket(&ada).await;
    next_online(&mut a).await;

    let change = PasswordChange {
        old_password: PASSWORD.to_owned(),
        new_password: "N3w!password".to_owned(),
        confirm_password: "N3w!password".to_owned(),
    };
    let new_token = must(t.app.change_password(&t.session(&ada).await, change).await, "change password");
    expect_session_ended(&mut a, "token_revoked").await;
    let old = client::connect(&t.base_url, &ada.token, None).await;
    assert_eq!(old.map(drop).map_err(|e| e.code), Err("unauthorized".to_owned()));
    let new = must(client::connect(&t.base_url, &new_token, None).await, "new token");
    new.close().await;
}

#[tokio::test]
async fn an_expiring_token_closes_its_socket() {
    // The service's clock is moved, not waited for: the token has a second left when
    // the socket opens.
    let clock = Arc::new(ManualClock::new());
    let settings = Settings { token_ttl: Duration::from_secs(3600), clock: clock.clone(), ..Settings::default() };
    let t = spawn_app_with(settings, SocketIoConfig::default()).await;
    let ada = t.user("ada").await;
    let expires_at = t.session(&ada).await.expires_at;
    clock.advance((expires_at - clock.now()).to_std().unwrap_or_default() - Duration::from_secs(1));
    let mut a = t.socket(&ada).await;
    next_online(&mut a).await;

    expect_session_ended(&mut a, "token_expired").await;
    clock.advance(Duration::from_secs(2)); // past `exp`
    let again = client::connect(&t.base_url, &ada.token, None).await;
    assert_eq!(again.map(drop).map_err(|e| e.code), Err("unauthorized".to_owned()));
}

#[tokio::test]
async fn a_client_that_stops_answering_pings_is_dropped() {
    let config = with_pings(100, 200);
    let t = spawn_app_with(Settings::default(), config).await;
    let ada = t.user("ada").await;
    let url = format!("{}/socket.io/?EIO=4&transport=websocket", t.base_url.replace("http://", "ws://"));
    let (mut ws, _) = must(tokio_tungstenite::connect_async(url).await, "connect");
    must(ws.send(WsMessage::text(format!("40{}", json!({ "token": ada.token })))).await, "send connect");
    // Read (so TCP stays healthy) but never answer a ping.
    within(async {
        let mut pings = 0;
        while let Some(Ok(frame)) = ws.next().await {
            if frame.to_text().is_ok_and(|t| t == "2") {
                pings += 1;
            }
        }
        assert_eq!(pings, 1, "one unanswered ping, then the server closes");
    })
    .await;
    t.wait_for_sockets(0).await;
    assert!(!t.app.is_online(ada.id));
}

#[tokio::test]
async fn a_client_that_answers_pings_stays_through_many_rounds_while_messages_flow() {
    let t = spawn_app_with(Settings::default(), with_pings(100, 200)).await;
    let (ada, bob) = (t.user("ada").await, t.user("bob").await);
    t.connect_users(&ada, &bob).await;
    let url = format!("{}/socket.io/?EIO=4&transport=websocket", t.base_url.replace("http://", "ws://"));
    let (mut ws, _) = must(tokio_tungstenite::connect_async(url).await, "connect");
    must(ws.send(WsMessage::text(format!("40{}", json!({ "token": ada.token })))).await, "send connect");
    // Joined (and online) before Bob writes: live events only from then on.
    within(async {
        while let Some(Ok(frame)) = ws.next().await {
            if frame.to_text().is_ok_and(|t| t.starts_with("40")) {
                return;
            }
        }
        panic!("the socket ended before joining");
    })
    .await;
    // Bob writes to Ada every 20 ms for a second: her socket writes events between its
    // pings, and none of them may move the ping's timer.
    let app = t.app.clone();
    let (from, to) = (bob.id, ada.id);
    tokio::spawn(async move {
        for i in 0..50 {
            let message = NewMessage { text: format!("m{i}"), ..NewMessage::default() };
            must(app.send_message(from, to, message).await, "send");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    });
    within(async {
        let (mut pings, mut messages) = (0, 0);
        while messages < 50 {
            let Some(Ok(frame)) = ws.next().await else {
                panic!("the socket ended after {pings} pings and {messages} messages")
            };
            match frame.to_text() {
                Ok("2") => {
                    pings += 1;
                    must(ws.send(WsMessage::text("3")).await, "pong");
                }
                Ok(text) if text.starts_with("42[\"newMessage\"") => messages += 1,
                _ => {}
            }
        }
        assert!(pings >= 5, "a ping every 100 ms for a second, each answered: {pings}");
    })
    .await;
    assert!(t.app.is_online(ada.id));
}

#[tokio::test]
async fn close_all_ends_every_socket_and_refuses_new_ones() {
    let t = spawn_app().await;
    let ada = t.user("ada").await;
    let mut a = t.socket(&ada).await;
    next_online(&mut a).await;

    t.io.close_all();
    let reason = next_where(&mut a, |e| match e {
        ServerEvent::Disconnected { reason } => Some(reason),
        _ => None,
    })
    .await;
    assert_eq!(reason, "server shutting down");
    t.wait_for_sockets(0).await;
    let late = client::connect(&t.base_url, &ada.token, None).await;
    assert_eq!(late.map(drop).map_err(|e| e.code), Err("unavailable".to_owned()));
}

#[tokio::test]
async fn oversized_frames_close_the_socket() {
    let config = SocketIoConfig { max_payload: 1024, ..SocketIoConfig::default() };
    let t = spawn_app_with(Settings::default(), config).await;
    let ada = t.user("ada").await;
    let a = t.socket(&ada).await;
    let huge = a.send_message(ada.id, &"x".repeat(4096), None).await;
    assert_eq!(huge.map(drop).map_err(|e| e.code), Err("closed".to_owned()));
    t.wait_for_sockets(0).await;
}

/// The event a client sees for a message stored by the core (the position is not on the wire).
fn msg(m: Message) -> ServerEvent {
    ServerEvent::NewMessage(Message { seq: 0, ..m })
}

#[tokio::test]
async fn a_reconnect_storm_during_revocations_leaves_no_socket_on_the_old_token() {
    const ROUNDS: usize = 50;
    const RECONNECTS: usize = 4;
    let t = spawn_app().await;
    let ada = t.user("ada").await;
    let mut password = PASSWORD.to_owned();
    for round in 0..ROUNDS {
        let login = t.app.login("ada@example.com", &password, devconnect_core::Peer::Local).await;
        let token = must(login, "login").token;
        let session = must(t.app.authenticate(&token).await, "authenticate");
        let reconnecting: Vec<_> = (0..RECONNECTS)
            .map(|_| {
                let (url, token) = (t.base_url.clone(), token.clone());
                tokio::spawn(async move { client::connect(&url, &token, None).await })
            })
            .collect();
        // Revoke while they connect: by logout, and by a password change every tenth round.
        if round % 10 == 9 {
            let next = format!("N3w!pass{round}");
            let change =
                PasswordChange { old_password: password, new_password: next.clone(), confirm_password: next.clone() };
            must(t.app.change_password(&session, change).await, "change password");
            password = next;
        } else {
            must(t.app.logout(&session).await, "logout");
        }
        for task in reconnecting {
            match must(task.await, "join") {
                // A socket that got in is closed at once, telling why.
                Ok(mut socket) => expect_session_ended(&mut socket, "token_revoked").await,
                Err(err) => assert_eq!(err.code, "unauthorized", "round {round}: {err:?}"),
            }
        }
        t.wait_for_sockets(0).await;
        assert!(!t.app.is_online(ada.id), "round {round}: a socket on the revoked token lives on");
    }
}

#[tokio::test]
async fn an_unknown_or_foreign_last_message_id_is_refused_at_the_handshake() {
    let t = spawn_app().await;
    let (ada, bob, cyd) = (t.user("ada").await, t.user("bob").await, t.user("cyd").await);
    t.connect_users(&bob, &cyd).await;
    let text = NewMessage { text: "between Bob and Cyd".to_owned(), ..NewMessage::default() };
    let theirs = must(t.app.send_message(bob.id, cyd.id, text).await, "send").message;
    for after in [devconnect_core::MessageId::new(), theirs.id] {
        let refused = client::connect(&t.base_url, &ada.token, Some(after)).await;
        // Refused with a code the client can act on, instead of an accepted socket that
        // the server then closes as an internal error (and the client reconnects to).
        assert_eq!(refused.map(drop).map_err(|e| e.code), Err("validation".to_owned()));
    }
    t.wait_for_sockets(0).await;
    assert!(!t.app.is_online(ada.id));
}

#[tokio::test]
async fn a_typing_burst_is_limited_and_never_knocks_the_receiver_off() {
    let t = spawn_app().await;
    let (ada, bob) = (t.user("ada").await, t.user("bob").await);
    t.connect_users(&ada, &bob).await;
    let a = t.socket(&ada).await;
    let mut b = t.socket(&bob).await;
    let mut refused = 0;
    for i in 0..600 {
        let ack = must(a.emit_with_ack("typing", json!({ "to": bob.id, "typing": i % 2 == 0 })).await, "typing");
        if ack.get("code").and_then(serde_json::Value::as_str) == Some("rate_limited") {
            refused += 1;
        }
    }
    let limit = Settings::default().typing_rate.per_minute.map_or(0, |n| n.get() as usize);
    assert_eq!(refused, 600 - limit, "typing beyond the per-minute limit is refused");
    let hello = must(a.send_message(bob.id, "still there?", None).await, "send");
    let mut typing = 0;
    loop {
        match next_non_presence(&mut b).await {
            ServerEvent::Typing { .. } => typing += 1,
            ServerEvent::NewMessage(m) => {
                assert_eq!(m.id, hello.id);
                break;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(typing <= limit, "{typing} typing events delivered");
}

#[tokio::test]
async fn sockets_per_user_are_capped_with_a_clear_refusal() {
    let settings = Settings { max_sessions_per_user: 2, ..Settings::default() };
    let t = spawn_app_with(settings, SocketIoConfig::default()).await;
    let ada = t.user("ada").await;
    let first = t.socket(&ada).await;
    let _second = t.socket(&ada).await;
    let third = client::connect(&t.base_url, &ada.token, None).await;
    assert_eq!(third.map(drop).map_err(|e| e.code), Err("limit_exceeded".to_owned()));
    first.close().await;
    t.wait_for_sockets(1).await;
    must(client::connect(&t.base_url, &ada.token, None).await, "a freed place").close().await;
}
