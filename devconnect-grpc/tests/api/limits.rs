//! Call deadlines and idle connections: a connection that never makes a call is closed
//! after the header timeout, a unary call that runs past the request timeout ends with
//! `DEADLINE_EXCEEDED`, and a `Subscribe` stream outlives both.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use clap::Parser as _;
use devconnect_grpc::pb::event::Kind;
use devconnect_grpc::{Config, Limits};
use devconnect_server::testkit::{H2_PREFACE, closed_within};
use http_body::{Body, Frame};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::AsyncWriteExt as _;
use tokio::net::TcpStream;
use tonic::codegen::Bytes;

use crate::helpers::{Options, TestApp, next, spawn_with};

/// The request and header timeouts of these tests.
const SHORT: Duration = Duration::from_secs(1);
/// An idle connection is closed gracefully after one timeout and dropped after a second;
/// the rest is slack for a loaded machine.
const CLOSED_WITHIN: Duration = Duration::from_secs(5);

async fn spawn() -> TestApp {
    let limits = Limits { request_timeout: SHORT, header_timeout: SHORT, ..Limits::default() };
    spawn_with(Options { limits, ..Options::default() }).await
}

/// Sends `bytes`, then waits for the server to close the connection: how long that
/// took, or `None` if it stays open far too long.
async fn closed_after_sending(app: &TestApp, bytes: &[u8]) -> Option<Duration> {
    let mut stream = TcpStream::connect(app.running.local_addr()).await.unwrap();
    stream.write_all(bytes).await.unwrap();
    closed_within(&mut stream, 2 * CLOSED_WITHIN).await
}

#[tokio::test]
async fn a_connection_that_sends_nothing_is_closed() {
    let app = spawn().await;
    let closed = closed_after_sending(&app, b"").await;
    assert!(closed.is_some_and(|t| t < CLOSED_WITHIN), "{closed:?}");
}

#[tokio::test]
async fn a_connection_that_sends_only_the_http2_preface_is_closed() {
    let app = spawn().await;
    let closed = closed_after_sending(&app, H2_PREFACE).await;
    assert!(closed.is_some_and(|t| t < CLOSED_WITHIN), "{closed:?}");
}

/// A request body that sends the first bytes of a gRPC frame and then nothing more.
struct Stalled {
    sent: bool,
}

impl Body for Stalled {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        if self.sent {
            return Poll::Pending;
        }
        self.sent = true;
        Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(&[0, 0, 0])))))
    }
}

#[tokio::test]
async fn a_unary_call_whose_request_never_arrives_whole_gets_deadline_exceeded() {
    let app = spawn().await;
    let stream = TcpStream::connect(app.running.local_addr()).await.unwrap();
    let (mut sender, conn) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream)).await.unwrap();
    tokio::spawn(conn);
    let request = http::Request::post(format!("{}/devconnect.v1.DevConnectService/Login", app.running.url()))
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .body(Stalled { sent: false })
        .unwrap();
    let response = tokio::time::timeout(CLOSED_WITHIN, sender.send_request(request)).await.unwrap().unwrap();
    // A trailers-only response: the status is in the headers.
    assert_eq!(response.headers()["grpc-status"], (tonic::Code::DeadlineExceeded as i32).to_string());
    assert_eq!(response.headers()[devconnect_grpc::error::ERROR_CODE_KEY], "timeout");
}

#[tokio::test]
async fn a_subscribe_stream_outlives_the_request_and_header_timeouts() {
    let app = spawn().await;
    let (mut ada, mut bob) = app.connected_pair("Ada", "Bob").await;
    let mut bob_events = bob.subscribe(None).await;
    // Past the call deadline, and past the idle close and drop of a connection.
    tokio::time::sleep(3 * SHORT).await;
    // Ada's channel sat idle as long: it was closed, and the next call reconnects.
    let sent = ada.send(&bob.id, "still there?").await;
    loop {
        match next(&mut bob_events).await {
            Kind::NewMessage(m) => break assert_eq!(m, sent),
            Kind::Presence(_) => {}
            other => panic!("{other:?}"),
        }
    }
}

#[tokio::test]
async fn the_timeout_and_stream_flags_reach_the_limits() {
    let config = Config::try_parse_from([
        "devconnect-grpc",
        "--request-timeout-secs",
        "7",
        "--header-timeout-secs",
        "3",
        "--max-concurrent-streams",
        "16",
    ])
    .unwrap();
    let limits = config.limits();
    assert_eq!(limits.request_timeout, Duration::from_secs(7));
    assert_eq!(limits.header_timeout, Duration::from_secs(3));
    assert_eq!(limits.max_concurrent_streams, 16);
    let defaults = Config::try_parse_from(["devconnect-grpc"]).unwrap().limits();
    assert_eq!(defaults.request_timeout, Duration::from_secs(30));
    assert_eq!(defaults.header_timeout, Duration::from_secs(10));
    assert_eq!(defaults.max_concurrent_streams, 100);
}
