//! Prometheus metrics of the server: the request metrics labelled by route template
//! and the `/metrics` route. The recorder, the stand-alone metrics endpoint and the
//! upkeep are the core's ([`devconnect_core::telemetry::prometheus`]), shared with
//! any other server in the process.

use std::time::Duration;

use metrics_exporter_prometheus::PrometheusHandle;
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

/// The process's Prometheus handle, with this server's metrics registered. `None` if
/// another recorder was installed first (an embedding program's own): `/metrics` then
/// answers 404 and the metrics go to that recorder.
pub fn prometheus() -> Option<PrometheusHandle> {
    let handle = devconnect_core::telemetry::prometheus::handle()?;
    metrics::describe_counter!(HTTP_REQUESTS, "HTTP requests by method, route template and status");
    metrics::describe_histogram!(
        HTTP_DURATION,
        metrics::Unit::Seconds,
        "HTTP request latency by method and route template"
    );
    metrics::counter!(devconnect_core::telemetry::RATE_LIMITED, "limit" => "auth_addr").increment(0);
    #[cfg(feature = "socketio")]
    metrics::gauge!(devconnect_socketio::SOCKETS_METRIC).increment(0.0);
    Some(handle)
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
                http::HeaderValue::from_static(devconnect_core::telemetry::prometheus::CONTENT_TYPE),
            );
            response
        })
        .map(tag("/metrics"))
        .boxed()
}
