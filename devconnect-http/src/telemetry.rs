//! Prometheus metrics of the server: the process-wide recorder, the request metrics
//! labelled by route template, the `/metrics` route, and the background task that keeps
//! the engagement gauges fresh.
//!
//! The recorder is installed once per process and shared by every server in it (the
//! `metrics` facade has one global recorder). Histograms are real Prometheus histograms
//! (fixed buckets), so percentiles can be aggregated across instances.

use std::convert::Infallible;
use std::sync::OnceLock;
use std::time::Duration;
use tower_service::Service as _;

use devconnect_core::DevConnect;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tokio::sync::watch;
use warp::Filter as _;
use warp::filters::BoxedFilter;
use warp::reply::Response;

/// Counter: REST and Socket.IO handshake requests, labels `method`, `route`, `status`.
pub const HTTP_REQUESTS: &str = "devconnect_http_requests_total";
/// Histogram (seconds): request latency, labels `method`, `route`.
pub const HTTP_DURATION: &str = "devconnect_http_request_duration_seconds";
/// The `route` label of requests no route answered (unknown paths, 405s, CORS
/// preflights, bodies refused before a handler): one fixed value, never the raw path.
pub const UNMATCHED_ROUTE: &str = "unmatched";
/// The `route` label of the Socket.IO endpoint.
pub const SOCKET_IO_ROUTE: &str = "/socket.io/";

/// Latency buckets (seconds) of HTTP requests: 0.5 ms to 10 s.
const HTTP_BUCKETS: &[f64] = &[0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

/// The process's Prometheus handle, installing the recorder on first use. `None` if
/// another recorder was installed first (an embedding program's own): `/metrics` then
/// answers 404 and the metrics go to that recorder.
pub fn prometheus() -> Option<PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let installed = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Full(HTTP_DURATION.to_owned()), HTTP_BUCKETS)
                .and_then(|b| {
                    b.set_buckets_for_metric(
                        Matcher::Full(devconnect_core::telemetry::STORE_DURATION.to_owned()),
                        devconnect_core::telemetry::STORE_BUCKETS,
                    )
                })
                .and_then(PrometheusBuilder::install_recorder);
            match installed {
                Ok(handle) => {
                    devconnect_core::telemetry::register();
                    metrics::describe_counter!(HTTP_REQUESTS, "HTTP requests by method, route template and status");
                    metrics::describe_histogram!(
                        HTTP_DURATION,
                        metrics::Unit::Seconds,
                        "HTTP request latency by method and route template"
                    );
                    let auth_addr = "auth_addr";
                    metrics::counter!(devconnect_core::telemetry::RATE_LIMITED, "limit" => auth_addr).increment(0);
                    #[cfg(feature = "socketio")]
                    metrics::gauge!(devconnect_socketio::SOCKETS_METRIC).increment(0.0);
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

/// The route template that answered a request, carried on its response.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RouteTemplate(pub(crate) &'static str);

/// Marks a route's responses with its template (`/message/:userId`), the only path
/// information that reaches the metrics.
pub(crate) fn tag(template: &'static str) -> impl Fn(Response) -> Response + Clone {
    move |mut response: Response| {
        response.extensions_mut().insert(RouteTemplate(template));
        response
    }
}

/// Records one request. `method` is reduced to the standard set so a client cannot
/// create label values at will.
pub(crate) fn record_request(method: &http::Method, route: &'static str, status: u16, elapsed: Duration) {
    let method = match *method {
        http::Method::GET => "GET",
        http::Method::POST => "POST",
        http::Method::PATCH => "PATCH",
        http::Method::PUT => "PUT",
        http::Method::DELETE => "DELETE",
        http::Method::HEAD => "HEAD",
        http::Method::OPTIONS => "OPTIONS",
        _ => "other",
    };
    let status = status.to_string();
    metrics::counter!(HTTP_REQUESTS, "method" => method, "route" => route, "status" => status).increment(1);
    metrics::histogram!(HTTP_DURATION, "method" => method, "route" => route).record(elapsed.as_secs_f64());
}

/// `GET /metrics`: the Prometheus text exposition of everything recorded.
pub(crate) fn route(handle: PrometheusHandle) -> BoxedFilter<(Response,)> {
    warp::path!("metrics")
        .and(warp::get())
        .map(move || {
            let mut response = Response::new(handle.render().into());
            response.headers_mut().insert(
                http::header::CONTENT_TYPE,
                http::HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
            );
            response
        })
        .map(tag("/metrics"))
        .boxed()
}

/// Serves only `/metrics` on `listener` until `shutdown` flips (the separate metrics
/// address).
pub(crate) async fn serve_alone(
    listener: tokio::net::TcpListener,
    handle: PrometheusHandle,
    mut shutdown: watch::Receiver<bool>,
) {
    let filter = route(handle);
    let builder = hyper_util::server::conn::auto::Builder::new(hyper_util::rt::TokioExecutor::new());
    let mut stop = stopped(&mut shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                };
                let filter = filter.clone();
                let service = hyper::service::service_fn(move |req| {
                    let mut routes = warp::service(filter.clone());
                    async move { Ok::<_, Infallible>(routes.call(req).await.unwrap_or_else(|never| match never {})) }
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

/// Until `shutdown` flips: recomputes the engagement gauges every `refresh` (if not
/// zero) and runs the recorder's upkeep.
pub(crate) async fn background(
    app: DevConnect,
    handle: PrometheusHandle,
    refresh: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    const UPKEEP: Duration = Duration::from_secs(5);
    let mut upkeep = tokio::time::interval(UPKEEP);
    let mut engagement = tokio::time::interval(refresh.max(Duration::from_secs(1)));
    let mut stop = stopped(&mut shutdown);
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

/// Resolves once `shutdown` flips to `true` (or its sender is gone).
fn stopped(shutdown: &mut watch::Receiver<bool>) -> std::pin::Pin<Box<dyn Future<Output = ()> + Send + '_>> {
    Box::pin(async move {
        let _ = shutdown.wait_for(|stop| *stop).await;
    })
}
