//! Prometheus metrics of the server: the request metrics labelled by route template
//! and the `/metrics` route. The recorder, the stand-alone metrics endpoint and the
//! upkeep are `devconnect-server`'s ([`devconnect_server::prometheus`]), shared with
//! any other server in the process.
//!
//! On the main (public) address `/metrics` answers only a bearer token (the engagement
//! gauges are business data); the separate `--metrics-addr`, meant for a private
//! interface, needs none.

use std::time::Duration;

use devconnect_core::Error;
use http::HeaderMap;
use http::header::{AUTHORIZATION, HeaderValue, WWW_AUTHENTICATE};
use metrics_exporter_prometheus::PrometheusHandle;
use secrecy::{ExposeSecret as _, SecretString};
use sha2::Digest as _;
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
/// The path of the Prometheus text exposition.
const METRICS_PATH: &str = "/metrics";
/// The `route` label of the Socket.IO endpoint.
pub const SOCKET_IO_ROUTE: &str = "/socket.io/";

/// The process's Prometheus handle, with this server's metrics registered. `None` if
/// another recorder was installed first (an embedding program's own): `/metrics` then
/// answers 404 and the metrics go to that recorder.
pub fn prometheus() -> Option<PrometheusHandle> {
    let handle = devconnect_server::prometheus::handle()?;
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

/// Marks a route's responses with its template (given as `/message/{userId}`, labelled
/// `/message/:userId`), the only path information that reaches the metrics.
pub(crate) fn tag(template: &'static str) -> impl Fn(Response) -> Response + Clone {
    let label = crate::routes::template::label(template);
    move |mut response: Response| {
        response.extensions_mut().insert(RouteTemplate(label));
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

/// The token a scraper of `/metrics` on the main address must send, kept as its
/// SHA-256 digest.
#[derive(Clone)]
pub(crate) struct MetricsToken([u8; 32]);

impl MetricsToken {
    pub(crate) fn new(token: &SecretString) -> Self {
        Self(digest(token.expose_secret()))
    }

    /// Whether `headers` carry `Authorization: Bearer <the token>`. Digests of equal
    /// length are compared without an early exit, so the time a guess takes says nothing
    /// about how much of it was right, nor about the token's length.
    fn admits(&self, headers: &HeaderMap) -> bool {
        let Ok(given) = devconnect_core::bearer_token(headers.get(AUTHORIZATION).map(HeaderValue::as_bytes)) else {
            return false;
        };
        digest(given).iter().zip(self.0.iter()).fold(0_u8, |diff, (a, b)| diff | (a ^ b)) == 0
    }
}

fn digest(text: &str) -> [u8; 32] {
    sha2::Sha256::digest(text.as_bytes()).into()
}

/// `GET /metrics` for holders of `token`: the Prometheus text exposition of everything
/// recorded; 401 for anyone else.
pub(crate) fn route(handle: PrometheusHandle, token: MetricsToken) -> BoxedFilter<(Response,)> {
    crate::routes::template::exact(METRICS_PATH)
        .and(warp::get())
        .and(warp::header::headers_cloned())
        .map(move |headers: HeaderMap| {
            if !token.admits(&headers) {
                let refused = crate::ApiError::Core(Error::Unauthorized("metrics need the metrics bearer token"));
                let mut response = refused.into_response();
                response.headers_mut().insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
                return response;
            }
            let mut response = Response::new(handle.render().into());
            response.headers_mut().insert(
                http::header::CONTENT_TYPE,
                HeaderValue::from_static(devconnect_server::prometheus::CONTENT_TYPE),
            );
            response
        })
        .map(tag(METRICS_PATH))
        .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_auth(value: &'static str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, HeaderValue::from_static(value));
        headers
    }

    #[test]
    fn only_the_exact_bearer_token_is_admitted() {
        let token = MetricsToken::new(&SecretString::from("0123456789abcdef".to_owned()));
        assert!(token.admits(&with_auth("Bearer 0123456789abcdef")));
        assert!(token.admits(&with_auth("bearer  0123456789abcdef ")));
        for refused in ["Bearer 0123456789abcdeF", "Bearer 0123456789abcde", "Basic 0123456789abcdef", "Bearer", ""] {
            assert!(!token.admits(&with_auth(refused)), "{refused:?}");
        }
        assert!(!token.admits(&HeaderMap::new()));
    }
}
