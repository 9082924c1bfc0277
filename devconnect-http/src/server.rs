//! The connection loop: accepts TCP connections, serves each with hyper (HTTP/1.1 with
//! upgrades, or HTTP/2), sends `/socket.io/` to the realtime endpoint and everything
//! else to the warp routes, logs one line per request, and shuts down gracefully.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use devconnect_server::accept::accept;
use devconnect_server::idle::{Tracked, Watchdog};
use http_body_util::BodyExt as _;
use http_body_util::combinators::BoxBody;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower_service::Service as _;
use warp::filters::BoxedFilter;

use crate::error::ApiError;
use crate::realtime::Realtime;
use crate::routes::ClientAddr;
use crate::telemetry::{self, RouteTemplate};

/// The body type of every response.
pub(crate) type Body = BoxBody<Bytes, Box<dyn std::error::Error + Send + Sync>>;
/// A response of the server.
pub(crate) type HttpResponse = http::Response<Body>;

type Routes = BoxedFilter<(warp::reply::Response,)>;

pub(crate) struct Shared {
    pub(crate) routes: Routes,
    pub(crate) realtime: Realtime,
    pub(crate) request_timeout: Duration,
}

fn is_realtime(path: &str) -> bool {
    path == "/socket.io" || path.starts_with("/socket.io/")
}

async fn dispatch(shared: &Shared, peer: SocketAddr, mut req: http::Request<Incoming>) -> HttpResponse {
    let started = Instant::now();
    let method = req.method().clone();
    // Only the path is logged: query strings may carry tokens (Socket.IO `?token=`).
    let path = req.uri().path().to_owned();
    let realtime = is_realtime(&path);
    let response = if realtime {
        shared.realtime.handle(req).await
    } else {
        req.extensions_mut().insert(ClientAddr(peer.ip()));
        let mut routes = warp::service(shared.routes.clone());
        let response = match tokio::time::timeout(shared.request_timeout, routes.call(req)).await {
            Ok(Ok(response)) => response,
            Ok(Err(never)) => match never {},
            Err(_) => ApiError::Timeout.into_response(),
        };
        response.map(|b| -> Body { b.map_err(Into::into).boxed() })
    };
    let elapsed = started.elapsed();
    let route = match response.extensions().get::<RouteTemplate>() {
        Some(tagged) => tagged.0,
        None if realtime => telemetry::SOCKET_IO_ROUTE,
        None => telemetry::UNMATCHED_ROUTE,
    };
    telemetry::record_request(&method, route, response.status().as_u16(), elapsed);
    let latency_us = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
    tracing::info!(
        target: "devconnect_http::access",
        %method,
        path,
        status = response.status().as_u16(),
        latency_us,
        peer = %peer.ip(),
        "request"
    );
    response
}

/// Timeouts of the connection loop.
pub(crate) struct Timeouts {
    /// How long a connection may go without a request in flight: before its first
    /// request head is complete, and between requests.
    pub(crate) header: Duration,
    pub(crate) shutdown: Duration,
}

async fn stopped(mut shutdown: watch::Receiver<bool>) {
    // A dropped sender means nobody can keep the server running either.
    let _ = shutdown.wait_for(|stop| *stop).await;
}

/// Serves `listener` until `shutdown` flips to `true`; then stops accepting, closes the
/// sockets, and waits (up to the shutdown timeout) for in-flight requests.
///
/// Each connection has a [`Watchdog`]: while no request is in flight it may stay open for
/// the header timeout, whatever its protocol (hyper's own header timeout is HTTP/1-only,
/// and the HTTP/1-or-2 sniffing before it has no timer at all); then it is closed
/// gracefully, and dropped if still idle one more header timeout later. An upgraded
/// WebSocket is not watched: after the 101 it belongs to its own task and the connection
/// is done.
pub(crate) async fn serve(
    listener: TcpListener,
    shared: Arc<Shared>,
    shutdown: watch::Receiver<bool>,
    timeouts: Timeouts,
) {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder.http1().timer(TokioTimer::new()).header_read_timeout(timeouts.header).keep_alive(true);
    let connections = accept(listener, stopped(shutdown.clone()), |stream, peer| {
        let shared = Arc::clone(&shared);
        let watchdog = Watchdog::new(timeouts.header, shutdown.clone(), peer);
        let requests = watchdog.requests();
        let service = hyper::service::service_fn(move |req| {
            let shared = Arc::clone(&shared);
            let request = requests.start();
            async move {
                let response = dispatch(&shared, peer, req).await;
                Ok::<_, Infallible>(response.map(|inner| Tracked::new(inner, request)))
            }
        });
        watchdog.drive(builder.serve_connection_with_upgrades(TokioIo::new(stream), service).into_owned())
    })
    .await;
    tracing::info!(sockets = shared.realtime.socket_count(), "shutting down: closing sockets, finishing requests");
    shared.realtime.close_all();
    if tokio::time::timeout(timeouts.shutdown, connections.closed()).await.is_err() {
        tracing::warn!("some requests did not finish in time");
    }
}
