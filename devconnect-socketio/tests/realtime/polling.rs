//! Engine.IO long-polling and its upgrade to WebSocket, spoken by hand.

use std::time::Duration;

use devconnect_core::{MessageId, NewMessage, Settings};
use devconnect_socketio::SocketIoConfig;
use futures_util::{SinkExt as _, StreamExt as _};
use http::Method;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message as WsMessage;

use crate::helpers::*;
use crate::raw::{Polling, event, http, split};

fn text(t: &str) -> NewMessage {
    NewMessage { text: t.to_owned(), ..NewMessage::default() }
}

#[tokio::test]
async fn the_polling_handshake_offers_the_websocket_upgrade_and_the_limits() {
    let config = SocketIoConfig { max_payload: 1000, ..SocketIoConfig::default() };
    let t = spawn_app_with(Settings::default(), config).await;
    let session = Polling::open(&t.base_url, "").await;
    assert_eq!(session.open["upgrades"], json!(["websocket"]));
    assert_eq!(session.open["pingInterval"], json!(25_000));
    assert_eq!(session.open["pingTimeout"], json!(20_000));
    assert_eq!(session.open["maxPayload"], json!(1000));
    assert_eq!(session.sid.len(), 20);
    assert_eq!(t.io.socket_count(), 1);
    // The client leaves with a close packet.
    assert_eq!(session.post(&["1"]).await.status, 200);
    t.wait_for_sockets(0).await;
}

#[tokio::test]
async fn a_polling_client_joins_sees_presence_and_exchanges_messages_with_a_websocket_client() {
    let t = spawn_app().await;
    let (ada, bob) = (t.user("ada").await, t.user("bob").await);
    t.connect_users(&ada, &bob).await;
    let (a, after_join) = Polling::join(&t.base_url, &json!({ "token": ada.token })).await;
    let online = match after_join.iter().find_map(|p| event(p)) {
        Some(found) => found,
        None => (String::from("getOnlineUsers"), a.next_event("getOnlineUsers").await),
    };
    assert_eq!(online, ("getOnlineUsers".to_owned(), json!([ada.id])));

    // Bob over WebSocket comes online: Ada hears it over polling.
    let mut b = t.socket(&bob).await;
    assert_eq!(a.next_event("getOnlineUsers").await, json!([ada.id, bob.id]));

    // WebSocket → polling.
    let sent = must(b.send_message(ada.id, "to the poller", None).await, "send");
    let got = a.next_event("newMessage").await;
    assert_eq!(got["_id"], json!(sent.id));

    // Polling → WebSocket, acknowledged over polling with the stored message.
    let emit =
        format!("427{}", json!(["sendMessage", { "to": bob.id, "text": "from the poller", "clientMsgId": "p-1" }]));
    assert_eq!(a.post(&[&emit]).await.status, 200);
    let acked = a.until(|p| p.starts_with("437")).await;
    let ack: Value = must(serde_json::from_str(&acked[0][3..]), "ack json");
    assert_eq!((ack[0]["text"].as_str(), ack[0]["clientMsgId"].as_str()), (Some("from the poller"), Some("p-1")));
    let at_bob = next_where(&mut b, |e| match e {
        devconnect_client::realtime::ServerEvent::NewMessage(m) if m.text == "from the poller" => Some(m),
        _ => None,
    })
    .await;
    assert_eq!((at_bob.text.as_str(), json!(at_bob.id)), ("from the poller", ack[0]["_id"].clone()));

    // Bob leaves: Ada sees him go.
    b.close().await;
    assert_eq!(a.next_event("getOnlineUsers").await, json!([ada.id]));
}

#[tokio::test]
async fn a_polling_reconnect_with_last_message_id_catches_up_in_order() {
    let t = spawn_app().await;
    let (ada, bob) = (t.user("ada").await, t.user("bob").await);
    t.connect_users(&ada, &bob).await;
    let first = must(t.app.send_message(ada.id, bob.id, text("seen")).await, "send").message;
    let mut missed = Vec::new();
    for i in 0..5 {
        missed.push(json!(
            must(t.app.send_message(ada.id, bob.id, text(&format!("missed {i}"))).await, "send").message.id
        ));
    }
    let (b, mut packets) = Polling::join(&t.base_url, &json!({ "token": bob.token, "lastMessageId": first.id })).await;
    let mut got = Vec::new();
    while got.len() < missed.len() {
        got.extend(
            packets.iter().filter_map(|p| event(p)).filter(|(n, _)| n == "newMessage").map(|(_, m)| m["_id"].clone()),
        );
        if got.len() < missed.len() {
            packets = b.packets().await;
        }
    }
    assert_eq!(got, missed);
}

#[tokio::test]
async fn a_polling_connect_without_a_valid_token_is_refused_with_connect_error() {
    let t = spawn_app().await;
    let session = Polling::open(&t.base_url, "").await;
    assert_eq!(session.post(&["40{}"]).await.status, 200);
    let refused = session.until(|p| p.starts_with("44")).await;
    let body: Value = must(serde_json::from_str(&refused[0][2..]), "connect_error json");
    assert_eq!(body["data"]["code"], json!("unauthorized"));
    assert_eq!(session.post(&["40{\"token\":\"not.a.token\"}"]).await.status, 200);
    let refused = session.until(|p| p.starts_with("44")).await;
    assert!(refused[0].contains("unauthorized"), "{refused:?}");
}

#[tokio::test]
async fn polling_requests_answer_with_engine_io_error_codes() {
    let config = SocketIoConfig { max_payload: 100, ..SocketIoConfig::default() };
    let t = spawn_app_with(Settings::default(), config).await;
    let base = &t.base_url;
    let get = |path: &'static str| http(base, Method::GET, path, "", &[]);

    let unknown = get("/socket.io/?EIO=4&transport=polling&sid=nope").await;
    assert_eq!((unknown.status, unknown.code()), (400, Some(1)), "{unknown:?}");
    let transport = get("/socket.io/?EIO=4&transport=carrier-pigeon").await;
    assert_eq!((transport.status, transport.code()), (400, Some(0)));
    let version = get("/socket.io/?EIO=3&transport=polling").await;
    assert_eq!((version.status, version.code()), (400, Some(5)));
    let handshake = http(base, Method::POST, "/socket.io/?EIO=4&transport=polling", "40", &[]).await;
    assert_eq!((handshake.status, handshake.code()), (400, Some(2)));
    let foreign =
        http(base, Method::GET, "/socket.io/?EIO=4&transport=polling", "", &[("origin", "http://evil.example")]).await;
    assert_eq!((foreign.status, foreign.code()), (403, Some(4)));
    assert_eq!(foreign.header("access-control-allow-origin"), None);

    let session = Polling::open(base, "").await;
    let put = http(base, Method::PUT, &session.path(), "", &[]).await;
    assert_eq!((put.status, put.code()), (400, Some(3)));
    // A WebSocket upgrade that is not one.
    let bad_upgrade =
        http(base, Method::GET, &format!("/socket.io/?EIO=4&transport=websocket&sid={}", session.sid), "", &[]).await;
    assert_eq!((bad_upgrade.status, bad_upgrade.code()), (400, Some(3)));

    // Over maxPayload: 413, and the session ends.
    let big = session.post(&[&format!("4{}", "x".repeat(200))]).await;
    assert_eq!((big.status, big.code()), (413, Some(3)));
    t.wait_for_sockets(0).await;
    let after = session.get().await;
    assert_eq!((after.status, after.code()), (400, Some(1)));

    // Invalid UTF-8 ends the session too (and never panics).
    let session = Polling::open(base, "").await;
    let garbage = http(base, Method::POST, &session.path(), [0xff, 0xfe], &[]).await;
    assert_eq!((garbage.status, garbage.code()), (400, Some(3)));
    t.wait_for_sockets(0).await;
}

#[tokio::test]
async fn a_second_concurrent_get_is_refused_and_ends_the_session() {
    let t = spawn_app().await;
    let session = Polling::open(&t.base_url, "").await;
    // Nothing to say before a CONNECT: the first GET is held, the second overlaps it.
    let (one, two) = tokio::join!(session.get(), session.get());
    let mut statuses = [(one.status, one.code(), one.body), (two.status, two.code(), two.body)];
    statuses.sort();
    assert_eq!(statuses[0].0, 200);
    assert!(split(&statuses[0].2).contains(&"1".to_owned()), "the held GET gets the close packet: {statuses:?}");
    assert_eq!((statuses[1].0, statuses[1].1), (400, Some(3)));
    t.wait_for_sockets(0).await;
}

#[tokio::test]
async fn allowed_origins_get_cors_headers_with_credentials() {
    let t = spawn_app().await;
    let origin = [("origin", "http://localhost:5173")];
    let reply = http(&t.base_url, Method::GET, "/socket.io/?EIO=4&transport=polling", "", &origin).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("access-control-allow-origin"), Some("http://localhost:5173"));
    assert_eq!(reply.header("access-control-allow-credentials"), Some("true"));
    let preflight = http(
        &t.base_url,
        Method::OPTIONS,
        "/socket.io/?EIO=4&transport=polling",
        "",
        &[origin[0], ("access-control-request-method", "POST"), ("access-control-request-headers", "content-type")],
    )
    .await;
    assert_eq!(preflight.status, 204);
    assert_eq!(preflight.header("access-control-allow-origin"), Some("http://localhost:5173"));
    assert!(preflight.header("access-control-allow-methods").is_some_and(|m| m.contains("POST")));
    assert_eq!(preflight.header("access-control-allow-headers"), Some("content-type"));
}

#[tokio::test]
async fn logout_ends_a_polling_session_with_a_reason() {
    let t = spawn_app().await;
    let ada = t.user("ada").await;
    let (a, _) = Polling::join(&t.base_url, &json!({ "token": ada.token })).await;
    must(t.app.logout(&t.session(&ada).await).await, "logout");
    let mut payloads = vec![a.until(|p| event(p).is_some_and(|(n, _)| n == "sessionEnded")).await];
    while !payloads.last().is_some_and(|p| p.contains(&"1".to_owned())) {
        payloads.push(a.packets().await);
    }
    let ended = event(&payloads[0][0]).map(|(_, data)| data["code"].clone());
    assert_eq!(ended, Some(json!("token_revoked")));
    assert!(payloads.iter().flatten().any(|p| p == "41"), "{payloads:?}");
    // The close packet travels alone: socket.io-client would drop packets beside it.
    assert_eq!(payloads.last(), Some(&vec!["1".to_owned()]));
    t.wait_for_sockets(0).await;
    assert!(!t.app.is_online(ada.id));
    assert_eq!(a.get().await.code(), Some(1));
}

#[tokio::test]
async fn a_polling_session_that_stops_polling_expires() {
    let config = with_pings(100, 200);
    let t = spawn_app_with(Settings::default(), config).await;
    let ada = t.user("ada").await;
    let (_a, _) = Polling::join(&t.base_url, &json!({ "token": ada.token })).await;
    assert!(t.app.is_online(ada.id));
    // No more GETs: no pong either.
    t.wait_for_sockets(0).await;
    assert!(!t.app.is_online(ada.id));
}

#[tokio::test]
async fn a_polling_session_keeps_answering_pings_while_polled() {
    let config = with_pings(50, 500);
    let t = spawn_app_with(Settings::default(), config).await;
    let ada = t.user("ada").await;
    let (a, _) = Polling::join(&t.base_url, &json!({ "token": ada.token })).await;
    for _ in 0..5 {
        a.until(|p| p == "2").await;
    }
    assert_eq!(t.io.socket_count(), 1);
}

#[tokio::test]
async fn polling_sessions_count_toward_the_per_user_cap() {
    let settings = Settings { max_sessions_per_user: 1, ..Settings::default() };
    let t = spawn_app_with(settings, SocketIoConfig::default()).await;
    let ada = t.user("ada").await;
    let (_a, _) = Polling::join(&t.base_url, &json!({ "token": ada.token })).await;
    let refused = client_refusal(&t, &ada.token).await;
    assert_eq!(refused, "limit_exceeded");
}

async fn client_refusal(t: &TestApp, token: &str) -> String {
    match devconnect_client::realtime::connect(&t.base_url, token, None).await {
        Ok(_) => "connected".to_owned(),
        Err(err) => err.code,
    }
}

#[tokio::test]
async fn close_all_sends_polling_clients_a_close_packet() {
    let t = spawn_app().await;
    let ada = t.user("ada").await;
    let (a, _) = Polling::join(&t.base_url, &json!({ "token": ada.token })).await;
    t.io.close_all();
    a.until(|p| p == "1").await;
    t.wait_for_sockets(0).await;
}

/// Sends a text frame.
async fn ws_send<S>(ws: &mut S, text: &str)
where
    S: futures_util::Sink<WsMessage> + Unpin,
    S::Error: std::fmt::Debug,
{
    must(ws.send(WsMessage::text(text)).await, "ws send");
}

/// The next text frame.
async fn ws_next<S>(ws: &mut S) -> String
where
    S: futures_util::Stream<Item = Result<WsMessage, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    within(async {
        loop {
            match ws.next().await {
                Some(Ok(WsMessage::Text(t))) => return t.as_str().to_owned(),
                Some(Ok(_)) => {}
                other => panic!("websocket ended: {other:?}"),
            }
        }
    })
    .await
}

/// The ids of the `newMessage` events among `packets`.
fn note(seen: &mut Vec<MessageId>, packets: &[String]) {
    for (name, data) in packets.iter().filter_map(|p| event(p)) {
        if name == "newMessage" {
            seen.push(must(serde_json::from_value(data["_id"].clone()), "message id"));
        }
    }
}

#[tokio::test]
async fn an_upgrade_to_websocket_loses_and_repeats_nothing() {
    let t = spawn_app().await;
    let (ada, bob) = (t.user("ada").await, t.user("bob").await);
    t.connect_users(&ada, &bob).await;
    let send = async |label: &str| must(t.app.send_message(ada.id, bob.id, text(label)).await, "send").message.id;
    let (b, first) = Polling::join(&t.base_url, &json!({ "token": bob.token })).await;
    let mut seen = Vec::new();
    note(&mut seen, &first);
    let mut sent = vec![send("before the upgrade").await];
    note(&mut seen, &b.until(|p| p.contains("before the upgrade")).await);

    // A GET held while the WebSocket is probed is released with a noop.
    let held = {
        let (base, path) = (t.base_url.clone(), b.path());
        tokio::spawn(async move { http(&base, Method::GET, &path, "", &[]).await })
    };
    let url = format!("{}/socket.io/?EIO=4&transport=websocket&sid={}", t.base_url.replace("http://", "ws://"), b.sid);
    let (mut ws, _) = must(tokio_tungstenite::connect_async(url).await, "websocket");
    ws_send(&mut ws, "2probe").await;
    assert_eq!(ws_next(&mut ws).await, "3probe");
    let released = must(within(held).await, "held get");
    assert_eq!((released.status, released.body.as_str()), (200, "6"));

    // Paused: what the server sends now waits for the switch.
    sent.push(send("after the probe, before 5").await);
    // A POST before `5` is read before anything sent over the WebSocket.
    let emit = format!("421{}", json!(["sendMessage", { "to": ada.id, "text": "posted before 5" }]));
    assert_eq!(b.post(&[&emit]).await.status, 200);
    ws_send(&mut ws, "5").await;
    ws_send(&mut ws, &format!("422{}", json!(["sendMessage", { "to": ada.id, "text": "sent after 5" }]))).await;
    sent.push(send("after the upgrade").await);

    // Everything else arrives over the WebSocket: acks 1 then 2, and every message once.
    let mut acks = Vec::new();
    while seen.len() < sent.len() + 2 || acks.len() < 2 {
        let frame = ws_next(&mut ws).await;
        if frame == "2" {
            ws_send(&mut ws, "3").await;
        } else if let Some(ack) = frame.strip_prefix("43") {
            acks.push(ack.chars().next().unwrap_or('?'));
        } else {
            note(&mut seen, &[frame]);
        }
    }
    assert_eq!(acks, ['1', '2']);
    assert_eq!(seen.iter().filter(|id| !sent.contains(id)).count(), 2, "Bob's own two messages, once each");
    let to_bob: Vec<_> = seen.iter().filter(|id| sent.contains(id)).copied().collect();
    assert_eq!(to_bob, sent, "every message to Bob, once, in order");
    // Polling is over for this session; the socket lives on.
    assert_eq!(b.get().await.code(), Some(1));
    assert_eq!(t.io.socket_count(), 1);
    assert!(t.app.is_online(bob.id));
}

#[tokio::test]
async fn a_session_ending_during_an_upgrade_tells_the_client_over_the_websocket() {
    let t = spawn_app().await;
    let ada = t.user("ada").await;
    let (a, _) = Polling::join(&t.base_url, &json!({ "token": ada.token })).await;
    let url = format!("{}/socket.io/?EIO=4&transport=websocket&sid={}", t.base_url.replace("http://", "ws://"), a.sid);
    let (mut ws, _) = must(tokio_tungstenite::connect_async(url).await, "websocket");
    ws_send(&mut ws, "2probe").await;
    assert_eq!(ws_next(&mut ws).await, "3probe");
    assert_eq!(a.get().await.body, "6", "the client's last poll, released by the probe");

    // Paused (socket.io-client polls no more once probed): the session ends now, and
    // its last packets can only reach the client over the WebSocket once it sends `5`.
    must(t.app.logout(&t.session(&ada).await).await, "logout");
    tokio::time::sleep(Duration::from_millis(200)).await;
    ws_send(&mut ws, "5").await;
    let ended = ws_next(&mut ws).await;
    assert_eq!(
        event(&ended).map(|(name, data)| (name, data["code"].clone())),
        Some(("sessionEnded".to_owned(), json!("token_revoked")))
    );
    assert_eq!(ws_next(&mut ws).await, "41");
    t.wait_for_sockets(0).await;
}
