//! The connection loop of the gRPC server: accepts TCP connections and serves each over
//! HTTP/2 with hyper (tonic's own loop cannot watch idle connections), with two rules:
//!
//! - A call has a deadline (`--request-timeout-secs`, or the client's `grpc-timeout`
//!   if shorter) until its response starts: a unary call as a whole, a `Subscribe`
//!   stream only until its first response headers, so live streams last.
//! - A connection with no call in flight may stay open for the header timeout: to send
//!   the HTTP/2 preface and its first call, and between calls. Then it is closed
//!   gracefully (GOAWAY), and dropped if still idle one more header timeout later
//!   (`devconnect_server::idle`). A connection holding a `Subscribe` stream has a call in
//!   flight.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use devconnect_server::accept::accept;
use devconnect_server::idle::{InFlight, Tracked, Watchdog};
use http_body::Body;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tonic::Status;
use tonic::metadata::MetadataValue;
use tonic::transport::server::TcpConnectInfo;
use tracing::Instrument as _;

use crate::error::ERROR_CODE_KEY;

/// How often the server pings an HTTP/2 connection.
const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(30);
/// How long a ping may go unanswered before the connection is closed.
const KEEPALIVE_TIMEOUT: Duration = Duration::from_secs(10);

/// How connections are served.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Settings {
    /// How long a connection may go without a call in flight.
    pub(crate) header_timeout: Duration,
    /// Calls in flight at once on one connection (HTTP/2 `MAX_CONCURRENT_STREAMS`).
    pub(crate) max_concurrent_streams: u32,
}

/// The service stack every call goes through.
pub(crate) trait CallService:
    tower_service::Service<
        http::Request<tonic::body::Body>,
        Response = http::Response<Self::Body>,
        Error = Infallible,
        Future: Send + 'static,
    > + Clone
    + Send
    + 'static
{
    /// The response body.
    type Body: Body<Data = tonic::codegen::Bytes, Error: Into<crate::BoxError>> + Unpin + Send + 'static;
}

impl<S, B> CallService for S
where
    S: tower_service::Service<
            http::Request<tonic::body::Body>,
            Response = http::Response<B>,
            Error = Infallible,
            Future: Send + 'static,
        > + Clone
        + Send
        + 'static,
    B: Body<Data = tonic::codegen::Bytes, Error: Into<crate::BoxError>> + Unpin + Send + 'static,
{
    type Body = B;
}

/// Serves `listener` until `shutdown` completes; then stops accepting, closes every
/// connection gracefully and waits until they have all ended.
pub(crate) async fn serve<S: CallService>(
    listener: TcpListener,
    service: S,
    settings: Settings,
    shutdown: impl Future<Output = ()>,
) {
    let mut http2 = hyper::server::conn::http2::Builder::new(TokioExecutor::new());
    http2
        .timer(TokioTimer::new())
        // A client that vanishes without closing its connection (dead network, closed
        // laptop) is noticed by HTTP/2 pings, so its streams end and it goes offline.
        .keep_alive_interval(KEEPALIVE_INTERVAL)
        .keep_alive_timeout(KEEPALIVE_TIMEOUT)
        .max_concurrent_streams(settings.max_concurrent_streams);
    let (stop, stopping) = watch::channel(false);
    let connections = accept(listener, shutdown, |stream, peer| {
        let info = TcpConnectInfo { local_addr: stream.local_addr().ok(), remote_addr: Some(peer) };
        let watchdog = Watchdog::new(settings.header_timeout, stopping.clone(), peer);
        let requests = watchdog.requests();
        let service = service.clone();
        let hyper_service = hyper::service::service_fn(move |request: http::Request<Incoming>| {
            call(service.clone(), request, info.clone(), requests.start())
        });
        watchdog.drive(http2.serve_connection(TokioIo::new(stream), hyper_service))
    })
    .await;
    let _ = stop.send(true);
    connections.closed().await;
}

/// One call: tonic finds the connection's addresses where it put them itself; the
/// call counts as in flight until its response body has been sent.
async fn call<S: CallService>(
    mut service: S,
    mut request: http::Request<Incoming>,
    info: TcpConnectInfo,
    in_flight: InFlight,
) -> Result<http::Response<Tracked<S::Body>>, Infallible> {
    let span = tracing::info_span!("grpc", path = %request.uri().path());
    request.extensions_mut().insert(info);
    let request = request.map(tonic::body::Body::new);
    async move {
        std::future::poll_fn(|cx| service.poll_ready(cx)).await?;
        let response = service.call(request).await?;
        Ok(response.map(|inner| Tracked::new(inner, in_flight)))
    }
    .instrument(span)
    .await
}

/// A tower layer giving each call a deadline: the server's limit, or the client's
/// `grpc-timeout` if shorter. It covers the call until its response headers, so a
/// server-streaming call is limited in how long it takes to start, not to run.
#[derive(Clone, Copy, Debug)]
pub(crate) struct DeadlineLayer(pub(crate) Duration);

impl<S> tower_layer::Layer<S> for DeadlineLayer {
    type Service = Deadline<S>;

    fn layer(&self, inner: S) -> Deadline<S> {
        Deadline { inner, limit: self.0 }
    }
}

/// A service whose calls have a deadline (see [`DeadlineLayer`]).
#[derive(Clone, Debug)]
pub(crate) struct Deadline<S> {
    inner: S,
    limit: Duration,
}

impl<S, B> tower_service::Service<http::Request<B>> for Deadline<S>
where
    S: tower_service::Service<http::Request<B>, Response = http::Response<tonic::body::Body>>,
    S::Future: Send + 'static,
{
    type Response = http::Response<tonic::body::Body>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let limit = client_timeout(request.headers()).map_or(self.limit, |client| client.min(self.limit));
        let call = self.inner.call(request);
        Box::pin(async move {
            match tokio::time::timeout(limit, call).await {
                Ok(response) => response,
                Err(_) => Ok(timed_out().into_http()),
            }
        })
    }
}

fn timed_out() -> Status {
    let mut status = Status::deadline_exceeded("timeout: the call took longer than its deadline");
    status.metadata_mut().insert(ERROR_CODE_KEY, MetadataValue::from_static("timeout"));
    status
}

/// The client's `grpc-timeout` header: up to 8 digits and a unit (gRPC over HTTP/2).
fn client_timeout(headers: &http::HeaderMap) -> Option<Duration> {
    let value = headers.get("grpc-timeout")?.to_str().ok()?;
    let (digits, unit) = value.split_at_checked(value.len().checked_sub(1)?)?;
    if digits.is_empty() || digits.len() > 8 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(n * 3600),
        "M" => Duration::from_secs(n * 60),
        "S" => Duration::from_secs(n),
        "m" => Duration::from_millis(n),
        "u" => Duration::from_micros(n),
        "n" => Duration::from_nanos(n),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timeout_of(value: &'static str) -> Option<Duration> {
        let mut headers = http::HeaderMap::new();
        headers.insert("grpc-timeout", http::HeaderValue::from_static(value));
        client_timeout(&headers)
    }

    #[test]
    fn client_deadlines_are_read_from_grpc_timeout() {
        assert_eq!(timeout_of("2S"), Some(Duration::from_secs(2)));
        assert_eq!(timeout_of("1H"), Some(Duration::from_secs(3600)));
        assert_eq!(timeout_of("250m"), Some(Duration::from_millis(250)));
        assert_eq!(timeout_of("99999999n"), Some(Duration::from_nanos(99_999_999)));
        for bad in ["", "S", "5", "123456789S", "+5S", "5s", "1.5S"] {
            assert_eq!(timeout_of(bad), None, "{bad:?}");
        }
        assert_eq!(client_timeout(&http::HeaderMap::new()), None);
    }
}
