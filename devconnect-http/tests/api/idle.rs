//! Connections that never send a request, or stop sending them, are closed after the
//! header timeout whatever their protocol; connections busy with a request, and
//! upgraded Socket.IO sockets and held long-polling requests, are not.

use std::time::{Duration, Instant};

use bytes::Bytes;
use devconnect_client::realtime::{self, ServerEvent};
use devconnect_server::testkit::{H2_PREFACE, closed_within};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

use crate::helpers::{TestApp, spawn_app_with};

/// The header timeout of these tests.
const TIMEOUT: Duration = Duration::from_secs(1);
/// A silent connection is closed gracefully after one timeout and dropped after a second;
/// the rest is slack for a loaded machine.
const CLOSED_WITHIN: Duration = Duration::from_secs(5);

async fn spawn() -> TestApp {
    spawn_app_with(|c| c.header_timeout_secs = TIMEOUT.as_secs()).await
}

/// How long until the server closes `stream`, or `None` if it stays open far too long.
async fn closed_after(stream: &mut TcpStream) -> Option<Duration> {
    closed_within(stream, 2 * CLOSED_WITHIN).await
}

#[tokio::test]
async fn a_connection_that_sends_nothing_is_closed() {
    let app = spawn().await;
    let mut stream = TcpStream::connect(app.server.local_addr()).await.unwrap();
    let closed = closed_after(&mut stream).await;
    assert!(closed.is_some_and(|t| t < CLOSED_WITHIN), "{closed:?}");
}

#[tokio::test]
async fn a_connection_that_sends_only_the_http2_preface_is_closed() {
    let app = spawn().await;
    let mut stream = TcpStream::connect(app.server.local_addr()).await.unwrap();
    stream.write_all(H2_PREFACE).await.unwrap();
    let closed = closed_after(&mut stream).await;
    assert!(closed.is_some_and(|t| t < CLOSED_WITHIN), "{closed:?}");
}

/// Sends `bytes` in `chunk`-sized pieces every 100 ms until the server closes the
/// connection; how long it took, or `None` if every byte went through.
async fn trickle(app: &TestApp, bytes: &[u8], chunk: usize) -> Option<Duration> {
    let started = Instant::now();
    let mut stream = TcpStream::connect(app.server.local_addr()).await.unwrap();
    for piece in bytes.chunks(chunk) {
        if stream.write_all(piece).await.is_err() {
            return Some(started.elapsed());
        }
        let mut buf = [0_u8; 256];
        let read = tokio::time::timeout(Duration::from_millis(100), stream.read(&mut buf)).await;
        if let Ok(Ok(0) | Err(_)) = read {
            return Some(started.elapsed());
        }
    }
    None
}

#[tokio::test]
async fn a_slowloris_trickling_a_request_head_is_closed() {
    let app = spawn().await;
    // An HTTP/1 head a header line at a time, never finished: 100 lines take 10 s.
    let head: Vec<u8> = b"GET /livez HTTP/1.1\r\nHost: x\r\n"
        .iter()
        .copied()
        .chain((0..100).flat_map(|i| format!("X-Slow-{i}: y\r\n").into_bytes()))
        .collect();
    let lines = head.len() / 100;
    let closed = trickle(&app, &head, lines).await;
    assert!(closed.is_some_and(|t| t < CLOSED_WITHIN), "{closed:?}");
    // The HTTP/2 preface a byte at a time (before the server knows the protocol), then a
    // HEADERS frame that never ends.
    let mut h2 = H2_PREFACE.to_vec();
    h2.extend_from_slice(&[0, 0, 100, 1, 0, 0, 0, 0, 1]);
    h2.extend(std::iter::repeat_n(0_u8, 100));
    let closed = trickle(&app, &h2, 1).await;
    assert!(closed.is_some_and(|t| t < CLOSED_WITHIN), "{closed:?}");
}

#[tokio::test]
async fn an_idle_http2_connection_is_closed_after_its_last_request() {
    let app = spawn().await;
    let stream = TcpStream::connect(app.server.local_addr()).await.unwrap();
    let (mut sender, conn) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream)).await.unwrap();
    let conn = tokio::spawn(conn);
    for _ in 0..2 {
        let request = http::Request::get(app.at("/livez")).body(http_body_util::Empty::<Bytes>::new()).unwrap();
        let response = sender.send_request(request).await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.version(), http::Version::HTTP_2);
    }
    let started = Instant::now();
    tokio::time::timeout(2 * CLOSED_WITHIN, conn).await.unwrap().unwrap().unwrap();
    assert!(started.elapsed() < CLOSED_WITHIN, "{:?}", started.elapsed());
}

#[tokio::test]
async fn a_request_whose_body_takes_longer_than_the_header_timeout_completes() {
    let app = spawn().await;
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(1);
    let body = reqwest::Body::wrap_stream(futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx)));
    let request = app.http.post(app.at("/auth/login")).header("content-type", "application/json").body(body).send();
    let request = tokio::spawn(request);
    let pieces = [r#"{"emailID": "#, r#""nobody@example.com", "#, r#""password": "#, r#""Wr0ng!pass"}"#];
    for piece in pieces {
        tx.send(Ok(piece.as_bytes().to_vec())).await.unwrap();
        tokio::time::sleep(TIMEOUT * 3 / 4).await;
    }
    drop(tx);
    let response = request.await.unwrap().unwrap();
    assert_eq!(response.status(), 401);
}

#[tokio::test]
async fn a_socket_io_connection_outlives_the_header_timeout() {
    let app = spawn().await;
    let ((a, _), (b, b_me)) = app.connected_pair().await;
    let mut socket = realtime::connect(&app.url, &b.token().unwrap(), None).await.unwrap();
    // Longer than the watchdog's graceful close and drop together.
    tokio::time::sleep(3 * TIMEOUT).await;
    let sent = a.send_message(b_me.profile.id, "still there?", None).await.unwrap().message;
    let got = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match socket.next_event().await {
                Some(ServerEvent::NewMessage(m)) => return Some(m),
                Some(_) => {}
                None => return None,
            }
        }
    })
    .await
    .unwrap();
    assert_eq!(got, Some(sent));
    socket.close().await;
}

#[tokio::test]
async fn a_held_long_polling_get_outlives_the_header_timeout() {
    let app = spawn().await;
    let ((a, _), (b, b_me)) = app.connected_pair().await;
    let base = format!("{}/socket.io/?EIO=4&transport=polling", app.url);
    let open = app.http.get(&base).send().await.unwrap().text().await.unwrap();
    let open: serde_json::Value = serde_json::from_str(&open[1..]).unwrap();
    let session = format!("{base}&sid={}", open["sid"].as_str().unwrap());
    let connect = format!("40{}", serde_json::json!({ "token": b.token().unwrap() }));
    assert_eq!(app.http.post(&session).body(connect).send().await.unwrap().status(), 200);
    loop {
        let payload = app.http.get(&session).send().await.unwrap().text().await.unwrap();
        if payload.contains("getOnlineUsers") {
            break;
        }
    }
    // Nothing to say: this GET is held, longer than the watchdog's close and drop.
    let held = tokio::spawn({
        let (http, session) = (app.http.clone(), session.clone());
        async move { http.get(&session).send().await.unwrap().text().await.unwrap() }
    });
    tokio::time::sleep(3 * TIMEOUT).await;
    let sent = a.send_message(b_me.profile.id, "still polling?", None).await.unwrap().message;
    let payload = tokio::time::timeout(Duration::from_secs(5), held).await.unwrap().unwrap();
    assert!(payload.contains(&sent.id.to_string()), "{payload}");
}
