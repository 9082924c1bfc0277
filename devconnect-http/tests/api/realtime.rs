//! The Socket.IO endpoint as wired into this server (the protocol itself is tested in
//! devconnect-socketio).

use std::time::Duration;

use devconnect_http::client::realtime::{self, ServerEvent};

use crate::helpers::spawn_app;

async fn next_matching(client: &mut realtime::Client, mut pick: impl FnMut(&ServerEvent) -> bool) -> ServerEvent {
    tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            let event = client.next_event().await.unwrap();
            if pick(&event) {
                return event;
            }
        }
    })
    .await
    .unwrap()
}

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
