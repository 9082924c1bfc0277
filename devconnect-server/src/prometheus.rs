//! The servers' Prometheus side: one recorder per process, shared by every server in
//! it (the `metrics` facade has one global recorder), the stand-alone `/metrics`
//! endpoint, and the background upkeep. The core only records, through the facade
//! ([`devconnect_core::telemetry`]); rendering and serving is the servers' business.
//!
//! Histograms are real Prometheus histograms (fixed buckets), so percentiles can be
//! aggregated across instances.

use std::convert::Infallible;
use std::sync::OnceLock;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tokio::net::TcpListener;
use tokio::sync::watch;

use devconnect_core::DevConnect;
use devconnect_core::telemetry;

/// Buckets (seconds) of every histogram without buckets of its own, such as the
/// servers' request latencies: 0.5 ms to 10 s.
pub const LATENCY_BUCKETS: &[f64] =
    &[0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

/// The `Content-Type` of the text exposition format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The process's Prometheus handle. The first call installs the recorder and
/// [registers](telemetry::register) the core's metrics; each server then registers its
/// own. `None` if another recorder was installed first (an embedding program's own):
/// the metrics then go to that recorder.
pub fn handle() -> Option<PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let installed = PrometheusBuilder::new()
                .set_buckets(LATENCY_BUCKETS)
                .and_then(|b| {
                    b.set_buckets_for_metric(
                        Matcher::Full(telemetry::STORE_DURATION.to_owned()),
                        telemetry::STORE_BUCKETS,
                    )
                })
                .and_then(PrometheusBuilder::install_recorder);
            match installed {
                Ok(handle) => {
                    telemetry::register();
                    Some(handle)
                }
                Err(err) => {
                    tracing::warn!(%err, "no Prometheus metrics: could not install the recorder");
                    None
                }
            }
        })
        .clone()
}

/// Serves `GET /metrics` alone on `listener` (a separate metrics address) until
/// `shutdown` flips to `true`; any other request gets 404.
pub async fn serve(listener: TcpListener, handle: PrometheusHandle, mut shutdown: watch::Receiver<bool>) {
    let builder = hyper_util::server::conn::auto::Builder::new(hyper_util::rt::TokioExecutor::new());
    let mut stop = std::pin::pin!(stopped(&mut shutdown));
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else {
                    // Out of file descriptors, most likely: give it a moment.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                };
                let handle = handle.clone();
                let service = hyper::service::service_fn(move |request: http::Request<hyper::body::Incoming>| {
                    let response = exposition(&request, &handle);
                    async move { Ok::<_, Infallible>(response) }
                });
                let conn = builder.serve_connection(hyper_util::rt::TokioIo::new(stream), service).into_owned();
                tokio::spawn(async move {
                    let _ = conn.await;
                });
            }
            () = &mut stop => break,
        }
    }
}

fn exposition<B>(request: &http::Request<B>, handle: &PrometheusHandle) -> http::Response<Full<Bytes>> {
    let (status, body) = if request.uri().path() == "/metrics" && request.method() == http::Method::GET {
        (http::StatusCode::OK, handle.render())
    } else {
        (http::StatusCode::NOT_FOUND, "not found\n".to_owned())
    };
    let mut response = http::Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response.headers_mut().insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static(CONTENT_TYPE));
    response
}

/// Until `shutdown` flips to `true`: runs the recorder's upkeep, and refreshes the
/// engagement gauges of `app` every `refresh` (never if zero).
pub async fn maintain(
    app: DevConnect,
    handle: PrometheusHandle,
    refresh: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut upkeep = tokio::time::interval(Duration::from_secs(5));
    let mut engagement = tokio::time::interval(refresh.max(Duration::from_secs(1)));
    let mut stop = std::pin::pin!(stopped(&mut shutdown));
    loop {
        tokio::select! {
            _ = upkeep.tick() => handle.run_upkeep(),
            _ = engagement.tick(), if !refresh.is_zero() => {
                if let Err(err) = app.refresh_engagement_metrics().await {
                    tracing::warn!(%err, "could not refresh the engagement gauges");
                }
            }
            () = &mut stop => break,
        }
    }
}

/// Resolves once `shutdown` flips to `true` (or its sender is gone). Only `()` comes
/// out, so no guard of the channel's lock is held across an await.
async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stop| *stop).await;
}
