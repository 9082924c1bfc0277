//! The idle watchdog of a connection.
//!
//! A connection with no request in flight may stay open for the idle timeout (the
//! servers' header timeout): to send its first request head, and between requests.
//! Then it is closed gracefully (HTTP/2 GOAWAY, so a client can retry elsewhere), and
//! dropped if it is still idle one more timeout later. Server shutdown closes every
//! connection gracefully too. This holds whatever the protocol: hyper's own header
//! timeout is HTTP/1-only.
//!
//! A request is in flight from when its head is complete (the connection's service is
//! called) until its response body has been sent or dropped, not until the handler
//! returns: a streamed response keeps its connection.
//!
//! Per connection: make a [`Watchdog`]; give its [`Requests`] to the connection's
//! service, which [`start`](Requests::start)s an [`InFlight`] guard per request and
//! wraps the response body in a [`Tracked`] holding it; then [`drive`](Watchdog::drive)
//! the connection.

use std::fmt::Display;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use http_body::{Body, Frame, SizeHint};
use hyper_util::server::graceful::GracefulConnection;
use tokio::sync::watch;

/// The count of requests in flight on one connection. Clones share the count: the
/// connection's service holds one, its [`Watchdog`] reads it.
#[derive(Clone, Debug)]
pub struct Requests(Arc<watch::Sender<usize>>);

impl Requests {
    /// No request in flight yet.
    #[must_use]
    pub fn new() -> Self {
        Self(Arc::new(watch::Sender::new(0)))
    }

    /// Counts one more request in flight, until the returned guard is dropped.
    pub fn start(&self) -> InFlight {
        self.0.send_modify(|n| *n += 1);
        InFlight(self.clone())
    }

    /// How many requests are in flight now.
    #[must_use]
    pub fn in_flight(&self) -> usize {
        *self.0.borrow()
    }
}

impl Default for Requests {
    fn default() -> Self {
        Self::new()
    }
}

/// One request in flight; dropping it ends the request (see [`Tracked`]).
#[derive(Debug)]
#[must_use = "the request is in flight only while this guard lives"]
pub struct InFlight(Requests);

impl Drop for InFlight {
    fn drop(&mut self) {
        (self.0).0.send_modify(|n| *n = n.saturating_sub(1));
    }
}

/// A response body that keeps its request in flight until it is sent (or dropped).
#[derive(Debug)]
pub struct Tracked<B> {
    inner: B,
    _in_flight: InFlight,
}

impl<B> Tracked<B> {
    /// `inner`, holding `in_flight` as long as it lives.
    pub fn new(inner: B, in_flight: InFlight) -> Self {
        Self { inner, _in_flight: in_flight }
    }
}

impl<B: Body + Unpin> Body for Tracked<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<B::Data>, B::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    // Forwarded so hyper still sends a Content-Length where the size is known.
    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// The watchdog of one connection (see the [module docs](self)).
#[derive(Debug)]
pub struct Watchdog {
    requests: Requests,
    shutdown: watch::Receiver<bool>,
    idle: Duration,
    peer: SocketAddr,
}

impl Watchdog {
    /// A watchdog allowing `idle` without a request in flight, and closing its
    /// connection once `shutdown` turns `true` (or its sender is dropped). `peer` is
    /// for the logs.
    #[must_use]
    pub fn new(idle: Duration, shutdown: watch::Receiver<bool>, peer: SocketAddr) -> Self {
        Self { requests: Requests::new(), shutdown, idle, peer }
    }

    /// The count the connection's service [`start`](Requests::start)s requests on.
    #[must_use]
    pub fn requests(&self) -> Requests {
        self.requests.clone()
    }

    /// Serves `conn` until it ends, closing it when it has been idle too long or the
    /// server shuts down.
    #[expect(
        clippy::manual_async_fn,
        reason = "an `async fn` future is proven `Send` where a server spawns it, and there rustc \
                  rejects hyper-util's `GracefulConnection` impls (\"implementation of `From` is \
                  not general enough\"); here it is proven from the bounds"
    )]
    pub fn drive<C>(self, conn: C) -> impl Future<Output = ()> + Send
    where
        C: GracefulConnection + Send,
        C::Error: Display + Send,
    {
        async move {
            let Self { requests, shutdown, idle, peer } = self;
            let mut conn = std::pin::pin!(conn);
            let mut in_flight = requests.0.subscribe();
            let mut stop = std::pin::pin!(stopped(shutdown));
            let mut closing = false;
            loop {
                let quiet = *in_flight.borrow_and_update() == 0;
                tokio::select! {
                    result = conn.as_mut() => {
                        if let Err(err) = result {
                            tracing::debug!(%err, %peer, "connection ended with an error");
                        }
                        return;
                    }
                    // A request started or finished: the idle clock starts over.
                    Ok(()) = in_flight.changed() => {}
                    () = &mut stop, if !closing => {
                        conn.as_mut().graceful_shutdown();
                        closing = true;
                    }
                    () = tokio::time::sleep(idle), if quiet => {
                        if closing {
                            tracing::debug!(%peer, "dropping a connection that did not close");
                            return;
                        }
                        tracing::debug!(%peer, "closing a connection with no request in flight for the idle timeout");
                        conn.as_mut().graceful_shutdown();
                        closing = true;
                    }
                }
            }
        }
    }
}

async fn stopped(mut shutdown: watch::Receiver<bool>) {
    // A dropped sender means nobody can keep the server running either.
    let _ = shutdown.wait_for(|stop| *stop).await;
}

#[cfg(test)]
#[expect(clippy::unwrap_used, reason = "a test fails loudly on any unexpected error")]
mod tests {
    use std::convert::Infallible;

    use bytes::Bytes;
    use http_body_util::{BodyExt as _, Full};
    use hyper_util::rt::TokioIo;
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _, DuplexStream};
    use tokio::sync::oneshot;
    use tokio::time::Instant;

    use super::*;

    const IDLE: Duration = Duration::from_secs(10);

    #[test]
    fn each_guard_counts_one_request_until_dropped() {
        let requests = Requests::new();
        let first = requests.start();
        let second = requests.clone().start();
        assert_eq!(requests.in_flight(), 2);
        drop(first);
        assert_eq!(requests.in_flight(), 1);
        drop(second);
        assert_eq!(requests.in_flight(), 0);
    }

    #[tokio::test]
    async fn a_tracked_body_keeps_its_size_and_its_request_until_sent() {
        let requests = Requests::new();
        let body = Tracked::new(Full::new(Bytes::from_static(b"hello")), requests.start());
        assert_eq!(body.size_hint().exact(), Some(5));
        assert!(!body.is_end_stream());
        assert_eq!(requests.in_flight(), 1);
        let Ok(collected) = body.collect().await;
        assert_eq!(collected.to_bytes(), "hello");
        assert_eq!(requests.in_flight(), 0);
    }

    #[test]
    fn an_empty_tracked_body_is_at_its_end() {
        let body = Tracked::new(Full::new(Bytes::new()), Requests::new().start());
        assert!(body.is_end_stream());
        assert_eq!(body.size_hint().exact(), Some(0));
    }

    /// An HTTP/1 connection over an in-memory pipe, driven by a watchdog on its own task:
    /// the client's end, the watchdog's task (done when the connection is), the sender of
    /// the shutdown signal, and the senders releasing each response (in request order).
    struct Connection {
        client: DuplexStream,
        driven: tokio::task::JoinHandle<()>,
        shutdown: watch::Sender<bool>,
        release: tokio::sync::mpsc::UnboundedReceiver<oneshot::Sender<()>>,
    }

    fn connect() -> Connection {
        let (client, server) = tokio::io::duplex(1024);
        let (shutdown, stopping) = watch::channel(false);
        let watchdog = Watchdog::new(IDLE, stopping, SocketAddr::from(([127, 0, 0, 1], 1)));
        let requests = watchdog.requests();
        let (held, release) = tokio::sync::mpsc::unbounded_channel();
        let service = hyper::service::service_fn(move |_request| {
            let in_flight = requests.start();
            let (respond, responded) = oneshot::channel::<()>();
            let _ = held.send(respond);
            async move {
                let _ = responded.await;
                Ok::<_, Infallible>(http::Response::new(Tracked::new(Full::new(Bytes::from_static(b"ok")), in_flight)))
            }
        });
        let conn = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(server), service);
        let driven = tokio::spawn(watchdog.drive(conn));
        Connection { client, driven, shutdown, release }
    }

    /// How long `task` took to end, or `None` if it was still running after `limit`.
    async fn ended_within(task: impl Future, limit: Duration) -> Option<Duration> {
        let started = Instant::now();
        tokio::time::timeout(limit, task).await.ok().map(|_| started.elapsed())
    }

    #[tokio::test(start_paused = true)]
    async fn a_connection_that_sends_nothing_is_closed_after_the_idle_timeout() {
        let mut conn = connect();
        let ended = ended_within(&mut conn.driven, 10 * IDLE).await;
        assert!(ended.is_some_and(|t| t >= IDLE && t < 2 * IDLE), "{ended:?}");
        let mut rest = Vec::new();
        conn.client.read_to_end(&mut rest).await.unwrap();
        assert!(rest.is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn a_connection_that_does_not_close_is_dropped_one_timeout_later() {
        let mut conn = connect();
        // An unfinished request head: hyper waits for the rest, so the graceful close
        // cannot happen.
        conn.client.write_all(b"GET / HTTP/1.1\r\n").await.unwrap();
        let ended = ended_within(&mut conn.driven, 10 * IDLE).await;
        assert!(ended.is_some_and(|t| t >= 2 * IDLE && t < 3 * IDLE), "{ended:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_request_in_flight_keeps_its_connection_until_its_response_is_sent() {
        let mut conn = connect();
        conn.client.write_all(b"GET / HTTP/1.1\r\nhost: test\r\n\r\n").await.unwrap();
        let respond = conn.release.recv().await.unwrap();
        assert_eq!(ended_within(&mut conn.driven, 10 * IDLE).await, None);
        respond.send(()).unwrap();
        let mut response = [0_u8; 17];
        conn.client.read_exact(&mut response).await.unwrap();
        assert_eq!(&response, b"HTTP/1.1 200 OK\r\n");
        // The next idle timeout starts from the response.
        let ended = ended_within(&mut conn.driven, 10 * IDLE).await;
        assert!(ended.is_some_and(|t| t >= IDLE && t < 2 * IDLE), "{ended:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn shutdown_closes_an_idle_connection_at_once() {
        let mut conn = connect();
        conn.shutdown.send(true).unwrap();
        let ended = ended_within(&mut conn.driven, 10 * IDLE).await;
        assert!(ended.is_some_and(|t| t < IDLE), "{ended:?}");
    }
}
