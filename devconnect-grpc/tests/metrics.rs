//! The gRPC server's Prometheus endpoint. A test binary of its own: the metrics
//! recorder is process-wide, so this one test owns it and asserts increments it caused.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a test fails loudly on any unexpected error")]

#[path = "api/helpers.rs"]
#[allow(dead_code)]
mod helpers;

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::time::Duration;

use devconnect_core::DevConnect;
use devconnect_grpc::pb;
use devconnect_grpc::pb::dev_connect_service_client::DevConnectServiceClient;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tonic::Code;

use helpers::{authed, signup};

/// `GET path` over plain HTTP/1.0: (status line, body).
async fn get(addr: SocketAddr, path: &str) -> (String, String) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(format!("GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    (head.lines().next().unwrap().to_owned(), body.to_owned())
}

fn value(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            let (metric, rest) = series.split_once('{').map_or((series, ""), |(m, r)| (m, r.trim_end_matches('}')));
            let hit =
                metric == name && labels.iter().all(|(k, v)| rest.split(',').any(|p| p == format!("{k}=\"{v}\"")));
            hit.then(|| value.parse().ok()).flatten()
        })
        .unwrap_or(0.0)
}

async fn eventually(addr: SocketAddr, check: impl Fn(&str) -> bool) -> String {
    for _ in 0..100 {
        let (_, text) = get(addr, "/metrics").await;
        if check(&text) {
            return text;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    get(addr, "/metrics").await.1
}

#[tokio::test]
async fn calls_streams_and_core_events_show_on_the_metrics_address() {
    let dir = tempfile::tempdir().unwrap();
    let config = devconnect_grpc::Config::new(dir.path());
    let app = DevConnect::open(config.core()).await.unwrap();
    let server = devconnect_grpc::build(app, "127.0.0.1:0".parse().unwrap(), config.limits()).await.unwrap();
    let server = server.metrics_on("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let running = server.spawn();
    let metrics = running.metrics_addr().unwrap();
    let (status, before) = get(metrics, "/metrics").await;
    assert!(status.contains("200"), "{status}");
    assert!(get(metrics, "/other").await.0.contains("404"));

    let mut client = DevConnectServiceClient::connect(running.url()).await.unwrap();
    let auth = client.signup(signup("Ada")).await.unwrap().into_inner();
    let wrong = pb::LoginRequest { email_id: "ada@example.com".to_owned(), password: "Wr0ng!password".to_owned() };
    assert_eq!(client.login(wrong).await.unwrap_err().code(), Code::Unauthenticated);
    let missing = client.get_me(authed(pb::GetMeRequest {}, "not-a-token")).await.unwrap_err();
    assert_eq!(missing.code(), Code::Unauthenticated);

    let after = get(metrics, "/metrics").await.1;
    let delta = |name: &str, labels: &[(&str, &str)]| value(&after, name, labels) - value(&before, name, labels);
    let service = "/devconnect.v1.DevConnectService";
    assert!(delta("devconnect_grpc_calls_total", &[("method", &format!("{service}/Signup")), ("code", "Ok")]) >= 1.0);
    let failed_login = [("method", &*format!("{service}/Login")), ("code", "Unauthenticated")];
    assert!(delta("devconnect_grpc_calls_total", &failed_login) >= 1.0, "{after}");
    assert!(delta("devconnect_signups_total", &[]) >= 1.0);
    assert!(delta("devconnect_logins_total", &[("result", "failure")]) >= 1.0);
    let latency = [("method", &*format!("{service}/Signup")), ("le", "+Inf")];
    assert!(delta("devconnect_grpc_call_duration_seconds_bucket", &latency) >= 1.0);

    // An open Subscribe stream is counted, and leaves the gauge when dropped.
    let streams = |t: &str| value(t, "devconnect_grpc_streams", &[]);
    let idle = get(metrics, "/metrics").await.1;
    let mut stream = client.subscribe(authed(pb::SubscribeRequest::default(), &auth.token)).await.unwrap().into_inner();
    stream.message().await.unwrap().expect("online users first");
    let open = eventually(metrics, |t| streams(t) >= streams(&idle) + 1.0).await;
    assert!(streams(&open) >= streams(&idle) + 1.0, "{open}");
    drop(stream);
    let closed = eventually(metrics, |t| streams(t) <= streams(&open) - 1.0).await;
    assert!(streams(&closed) <= streams(&open) - 1.0, "{closed}");

    // No label carries an id.
    for line in closed.lines().filter(|l| !l.starts_with('#')) {
        let labels = line.split_once('{').map_or("", |(_, rest)| rest);
        for word in labels.split(|c: char| !c.is_ascii_alphanumeric()) {
            assert!(!(word.len() >= 24 && word.bytes().all(|b| b.is_ascii_hexdigit())), "an id in a label: {line}");
        }
    }

    // The dashboard's gRPC panels use families this server exposes.
    let exposed: BTreeSet<&str> =
        closed.lines().filter(|l| !l.starts_with('#')).filter_map(|l| l.split(['{', ' ']).next()).collect();
    let dashboard =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/grafana-dashboard.json")).unwrap();
    let _: serde_json::Value = serde_json::from_str(&dashboard).unwrap();
    let referenced: BTreeSet<&str> = dashboard
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| w.starts_with("devconnect_grpc_"))
        .collect();
    assert!(!referenced.is_empty());
    let missing: Vec<_> = referenced.iter().filter(|n| !exposed.contains(*n)).collect();
    assert!(missing.is_empty(), "the dashboard uses gRPC metrics the server does not expose: {missing:?}");
    running.shutdown().await.unwrap();
}
