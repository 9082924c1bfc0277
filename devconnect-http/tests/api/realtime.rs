//! The Socket.IO endpoint as wired into this server (the protocol itself is tested in
//! devconnect-socketio).

use std::time::Duration;

use devconnect_client::realtime::{self, ServerEvent};

use crate::helpers::{PASSWORD, next_matching, spawn_app, spawn_app_with_clock};

#[tokio::test]
async fn a_rest_message_reaches_the_receivers_socket_and_tokenless_sockets_are_refused() {
    let app = spawn_app().await;
    let ((a, a_me), (b, b_me)) = app.connected_pair().await;
    let mut a_socket = realtime::connect(&app.url, &a.token().unwrap(), None).await.unwrap();
    let mut b_socket = realtime::connect(&app.url, &b.token().unwrap(), None).await.unwrap();
    let online = next_matching(&mut a_socket, |e| matches!(e, ServerEvent::OnlineUsers(ids) if ids.len() == 2)).await;
    assert!(matches!(online, ServerEvent::OnlineUsers(ids) if ids.contains(&b_me.profile.id)));

    let sent = a.send_message(b_me.profile.id, "over REST", None).await.unwrap().message;
    let got = next_matching(&mut b_socket, |e| matches!(e, ServerEvent::NewMessage(_))).await;
    assert_eq!(got, ServerEvent::NewMessage(sent.clone()));
    let echoed = next_matching(&mut a_socket, |e| matches!(e, ServerEvent::NewMessage(_))).await;
    assert_eq!(echoed, ServerEvent::NewMessage(sent));
    assert!(b.chat_partners().await.unwrap()[0].online);
    assert_eq!(b.chat_partners().await.unwrap()[0].profile.id, a_me.profile.id);

    let refused = realtime::connect(&app.url, "not-a-token", None).await.err().unwrap();
    assert_eq!(refused.code, "unauthorized");

    // Logging out over REST ends that token's socket.
    a.logout().await.unwrap();
    let ended = next_matching(&mut a_socket, |e| {
        matches!(e, ServerEvent::SessionEnded { .. } | ServerEvent::Disconnected { .. })
    })
    .await;
    assert!(matches!(&ended, ServerEvent::SessionEnded { code, .. } if code == "token_revoked"), "{ended:?}");
    b_socket.close().await;
}

#[tokio::test]
async fn shutdown_closes_open_sockets() {
    let app = spawn_app().await;
    let (a, _) = app.user("Ada").await;
    let mut socket = realtime::connect(&app.url, &a.token().unwrap(), None).await.unwrap();
    next_matching(&mut socket, |e| matches!(e, ServerEvent::OnlineUsers(_))).await;
    tokio::time::timeout(Duration::from_secs(15), app.server.shutdown()).await.unwrap().unwrap();
    let last = next_matching(&mut socket, |e| matches!(e, ServerEvent::Disconnected { .. })).await;
    assert!(matches!(last, ServerEvent::Disconnected { .. }));
}

#[tokio::test]
async fn a_reconnect_with_last_message_id_delivers_the_500_missed_messages_in_order_once() {
    catch_up_after_500_missed(false).await;
}

#[tokio::test]
async fn the_500_missed_messages_are_delivered_in_order_once_across_a_server_restart() {
    catch_up_after_500_missed(true).await;
}

/// B's socket closes, A sends 500 messages over REST (the server restarting afterwards
/// if `restart`), B reconnects with its last message id: it gets exactly those 500 in
/// order, then live messages, nothing twice.
async fn catch_up_after_500_missed(restart: bool) {
    const MISSED: usize = 500;
    let mut app = spawn_app().await;
    let ((a, _), (b, b_me)) = app.connected_pair().await;
    let (a_token, b_token, b_id) = (a.token().unwrap(), b.token().unwrap(), b_me.profile.id);

    let mut b_socket = realtime::connect(&app.url, &b_token, None).await.unwrap();
    next_matching(&mut b_socket, |e| matches!(e, ServerEvent::OnlineUsers(_))).await;
    let last_seen = a.send_message(b_id, "seen live", None).await.unwrap().message;
    let got = next_matching(&mut b_socket, |e| matches!(e, ServerEvent::NewMessage(_))).await;
    assert_eq!(got, ServerEvent::NewMessage(last_seen.clone()));
    b_socket.close().await;

    let mut missed = Vec::new();
    for i in 0..MISSED {
        missed.push(a.send_message(b_id, &format!("missed {i}"), Some(&format!("c-{i}"))).await.unwrap().message);
    }
    if restart {
        app = app.restart().await;
    }
    let a = app.client_with(&a_token);

    let mut b_socket = realtime::connect(&app.url, &b_token, Some(last_seen.id)).await.unwrap();
    // Sent while the catch-up may still be under way: it must come after it, once.
    let live = a.send_message(b_id, "live after reconnect", None).await.unwrap().message;
    let mut received = Vec::new();
    while received.len() < MISSED + 1 {
        if let ServerEvent::NewMessage(m) =
            next_matching(&mut b_socket, |e| matches!(e, ServerEvent::NewMessage(_))).await
        {
            received.push(m);
        }
    }
    let mut expected = missed;
    expected.push(live);
    assert_eq!(received.len(), expected.len());
    for (i, (got, want)) in received.iter().zip(&expected).enumerate() {
        assert_eq!(got, want, "message {i} of the catch-up");
    }
    // Nothing left over: the next event after one more message is that message.
    let one_more = a.send_message(b_id, "one more", None).await.unwrap().message;
    let next = next_matching(&mut b_socket, |e| matches!(e, ServerEvent::NewMessage(_))).await;
    assert_eq!(next, ServerEvent::NewMessage(one_more));
    b_socket.close().await;
}

/// Waits for `sessionEnded` with `code`, then the server's disconnect.
async fn expect_session_ended(socket: &mut realtime::Client, code: &str) {
    let ended = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            match socket.next_event().await.unwrap() {
                ServerEvent::SessionEnded { code, .. } => return code,
                ServerEvent::Disconnected { reason } => panic!("disconnected ({reason}) without sessionEnded"),
                _ => {}
            }
        }
    })
    .await
    .unwrap();
    assert_eq!(ended, code);
    let last = next_matching(socket, |e| matches!(e, ServerEvent::Disconnected { .. })).await;
    assert_eq!(last, ServerEvent::Disconnected { reason: "io server disconnect".to_owned() });
}

fn refused(result: Result<realtime::Client, realtime::ClientError>) -> String {
    result.map(drop).err().map_or_else(|| "connected".to_owned(), |e| e.code)
}

#[tokio::test]
async fn a_socket_is_closed_at_logout_and_its_token_cannot_reconnect() {
    let app = spawn_app().await;
    let (a, _) = app.user("Ada").await;
    let token = a.token().unwrap();
    let mut socket = realtime::connect(&app.url, &token, None).await.unwrap();
    next_matching(&mut socket, |e| matches!(e, ServerEvent::OnlineUsers(_))).await;
    a.logout().await.unwrap();
    expect_session_ended(&mut socket, "token_revoked").await;
    assert_eq!(refused(realtime::connect(&app.url, &token, None).await), "unauthorized");
}

#[tokio::test]
async fn a_socket_is_closed_when_its_account_is_deleted() {
    let app = spawn_app().await;
    let (a, _) = app.user("Ada").await;
    let token = a.token().unwrap();
    let mut socket = realtime::connect(&app.url, &token, None).await.unwrap();
    next_matching(&mut socket, |e| matches!(e, ServerEvent::OnlineUsers(_))).await;
    a.delete_account(PASSWORD).await.unwrap();
    expect_session_ended(&mut socket, "account_deleted").await;
    assert_eq!(refused(realtime::connect(&app.url, &token, None).await), "unauthorized");
}

#[tokio::test]
async fn a_socket_is_closed_by_a_password_change_and_only_the_new_token_connects() {
    let app = spawn_app().await;
    let (a, _) = app.user("Ada").await;
    let old = a.token().unwrap();
    let mut socket = realtime::connect(&app.url, &old, None).await.unwrap();
    next_matching(&mut socket, |e| matches!(e, ServerEvent::OnlineUsers(_))).await;
    a.change_password(PASSWORD, "N3w!password").await.unwrap();
    expect_session_ended(&mut socket, "token_revoked").await;
    assert_eq!(refused(realtime::connect(&app.url, &old, None).await), "unauthorized");
    let new = realtime::connect(&app.url, &a.token().unwrap(), None).await.unwrap();
    new.close().await;
}

#[tokio::test]
async fn a_socket_is_closed_when_its_token_expires_and_cannot_reconnect() {
    // The service's clock is moved, not waited for: the socket opens a second before
    // the token's `exp`.
    let clock = std::sync::Arc::new(devconnect_core::ManualClock::new());
    let app = spawn_app_with_clock(clock.clone(), |config| config.service.token_ttl_secs = 3600).await;
    let (a, _) = app.user("Ada").await;
    let token = a.token().unwrap();
    clock.advance(Duration::from_secs(3600 - 1));
    let mut socket = realtime::connect(&app.url, &token, None).await.unwrap();
    next_matching(&mut socket, |e| matches!(e, ServerEvent::OnlineUsers(_))).await;
    expect_session_ended(&mut socket, "token_expired").await;
    clock.advance(Duration::from_secs(2)); // past `exp`
    assert_eq!(refused(realtime::connect(&app.url, &token, None).await), "unauthorized");
    assert_eq!(a.me().await.err().map(|e| e.code().to_owned()).as_deref(), Some("unauthorized"));
}
