//! The servers' shared Prometheus recorder and its stand-alone endpoint. A test binary
//! of its own: the recorder is process-wide.
#![expect(clippy::unwrap_used, reason = "a test fails loudly on any unexpected error")]

use std::time::Duration;

use devconnect_core::telemetry;
use devconnect_server::prometheus;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

async fn get(addr: std::net::SocketAddr, path: &str) -> String {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(format!("GET {path} HTTP/1.0\r\nHost: metrics\r\n\r\n").as_bytes()).await.unwrap();
    let mut reply = String::new();
    stream.read_to_string(&mut reply).await.unwrap();
    reply
}

#[tokio::test]
async fn every_server_in_a_process_shares_one_recorder_with_histogram_buckets() {
    // Two servers in one process (REST and gRPC) each ask for the handle.
    let first = prometheus::handle().unwrap();
    let second = prometheus::handle().unwrap();
    metrics::counter!("devconnect_test_requests_total").increment(2);
    metrics::histogram!("devconnect_test_request_duration_seconds").record(0.003);
    metrics::histogram!(telemetry::STORE_DURATION, "operation" => "user").record(0.0002);
    for text in [first.render(), second.render()] {
        assert!(text.contains("devconnect_test_requests_total 2"), "{text}");
        assert!(text.contains("devconnect_signups_total 0"), "the core's metrics are registered: {text}");
        assert!(text.contains("devconnect_test_request_duration_seconds_bucket{le=\"0.005\"} 1"), "{text}");
        assert!(text.contains("devconnect_test_request_duration_seconds_bucket{le=\"0.0025\"} 0"), "{text}");
        assert!(
            text.contains("devconnect_store_operation_duration_seconds_bucket{operation=\"user\",le=\"0.00025\"} 1"),
            "the store keeps its finer buckets: {text}"
        );
    }
}

#[tokio::test]
async fn the_standalone_endpoint_serves_metrics_only_until_shutdown() {
    let handle = prometheus::handle().unwrap();
    metrics::counter!("devconnect_test_scrapes_total").increment(1);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, shutdown) = tokio::sync::watch::channel(false);
    let server = tokio::spawn(prometheus::serve(listener, handle, shutdown));

    let reply = get(addr, "/metrics").await;
    assert!(reply.starts_with("HTTP/1.0 200") || reply.starts_with("HTTP/1.1 200"), "{reply}");
    assert!(reply.to_ascii_lowercase().contains(&format!("content-type: {}", prometheus::CONTENT_TYPE)), "{reply}");
    assert!(reply.contains("devconnect_test_scrapes_total 1"), "{reply}");
    let reply = get(addr, "/users/feed").await;
    assert!(reply.starts_with("HTTP/1.0 404") || reply.starts_with("HTTP/1.1 404"), "{reply}");

    stop.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(5), server).await.unwrap().unwrap();
    assert!(tokio::net::TcpStream::connect(addr).await.is_err(), "the listener is closed");
}
