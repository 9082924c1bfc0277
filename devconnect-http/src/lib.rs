//! DevConnect over HTTP: the REST routes of API.md (warp), the Socket.IO endpoint at
//! `/socket.io/` (`devconnect-socketio`, feature `socketio`), static media, health,
//! OpenAPI, CORS, limits and graceful shutdown. Its Rust client is `devconnect-client`.
//!
//! - [`Config`]: flags and `DEVCONNECT_*` variables (clap).
//! - [`build`] opens the service and binds; [`Built::run`] serves until told to stop;
//!   [`spawn`] does both on a task and returns a [`Server`] handle (what tests use).
//! - `filters` / `handlers`: routing and the thin handlers; `forms`: body decoding;
//!   `error`: the one error → response mapping.
//! - [`telemetry`]: Prometheus metrics (`/metrics`: on the main address only with
//!   `--metrics-token`, on `--metrics-addr` without one); [`stats`]: the `stats` subcommand.

pub mod admin;
pub mod config;
pub mod error;
pub mod forms;
pub mod openapi;
mod realtime;
mod routes;
mod server;
pub mod stats;
pub mod telemetry;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use devconnect_core::DevConnect;
use devconnect_server::prometheus;
use tokio::net::TcpListener;
use tokio::sync::watch;

pub use config::Config;
pub use error::ApiError;

/// URL prefix under which local media is served.
pub const MEDIA_PREFIX: &str = "/media";

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The service could not be opened (store, data directory, secret).
    #[error("could not open the service: {0}")]
    Core(#[from] devconnect_core::Error),
    /// The address could not be bound.
    #[error("could not listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A configuration value is unusable.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// The `stats` subcommand could not produce its report.
    #[error("stats: {0}")]
    Stats(#[source] devconnect_core::Error),
    /// An `admin` command failed (its error says why: an unknown id, a closed report, …).
    #[error("admin: {0}")]
    Admin(#[source] devconnect_core::Error),
}

/// A server that is bound but not yet serving.
pub struct Built {
    listener: TcpListener,
    addr: SocketAddr,
    app: DevConnect,
    shared: Arc<server::Shared>,
    timeouts: server::Timeouts,
    metrics: Metrics,
}

/// Where and how the metrics are served.
struct Metrics {
    handle: Option<metrics_exporter_prometheus::PrometheusHandle>,
    /// The separate metrics listener, when `--metrics-addr` is set.
    listener: Option<TcpListener>,
    refresh: Duration,
}

/// Opens the service described by `config` and binds its address. Nothing is served
/// until [`Built::run`].
pub async fn build(config: &Config) -> Result<Built, StartError> {
    if let Some(bad) = config.cors_origins.iter().find(|o| *o != "*" && !routes::valid_origin(o)) {
        return Err(StartError::Config(format!("CORS origin {bad:?} is not of the form scheme://host[:port]")));
    }
    // Bound first: the media URLs default to the address actually bound (port 0).
    let (listener, addr) = bind(config).await?;
    if config.service.public_url.is_none() && addr.ip().is_unspecified() {
        tracing::warn!(%addr, "bound to every interface without --public-url: image URLs name {addr}, which clients cannot reach; set --public-url");
    }
    let core = config.core_at(addr);
    let app = DevConnect::open(core).await?;
    serve_app(listener, addr, app, config).await
}

/// Like [`build`], around a service the caller opened (embedding, tests with custom
/// backends). `/media/` serves what `app`'s media store serves.
pub async fn build_with(app: DevConnect, config: &Config) -> Result<Built, StartError> {
    let (listener, addr) = bind(config).await?;
    serve_app(listener, addr, app, config).await
}

async fn bind(config: &Config) -> Result<(TcpListener, SocketAddr), StartError> {
    let listener =
        TcpListener::bind(config.bind).await.map_err(|source| StartError::Bind { addr: config.bind, source })?;
    let addr = listener.local_addr().map_err(|source| StartError::Bind { addr: config.bind, source })?;
    Ok((listener, addr))
}

/// Everything but the listener and the service: routes, realtime, metrics.
async fn serve_app(
    listener: TcpListener,
    addr: SocketAddr,
    app: DevConnect,
    config: &Config,
) -> Result<Built, StartError> {
    let state = routes::State {
        app: app.clone(),
        limits: forms::BodyLimits { json: config.body_limit, multipart: config.max_body() },
        openapi: Arc::new(openapi::document_json()),
    };
    let handle = telemetry::prometheus();
    let metrics_listener = match config.service.metrics_addr {
        Some(addr) => Some(TcpListener::bind(addr).await.map_err(|source| StartError::Bind { addr, source })?),
        None => None,
    };
    // On the public address only for holders of the token; the metrics address is private.
    let metrics_route = handle
        .clone()
        .zip(config.metrics_token.as_ref())
        .map(|(handle, token)| telemetry::route(handle, telemetry::MetricsToken::new(token)));
    let routes = routes::routes(&state, &config.cors_origins, metrics_route);
    let shared = Arc::new(server::Shared {
        routes,
        realtime: realtime::Realtime::new(&app, config),
        request_timeout: Duration::from_secs(config.request_timeout_secs.max(1)),
    });
    let timeouts = server::Timeouts {
        header: Duration::from_secs(config.header_timeout_secs.max(1)),
        shutdown: Duration::from_secs(config.shutdown_timeout_secs),
    };
    let metrics = Metrics {
        handle,
        listener: metrics_listener,
        refresh: Duration::from_secs(config.service.engagement_refresh_secs),
    };
    Ok(Built { listener, addr, app, shared, timeouts, metrics })
}

impl Built {
    /// The bound address (the real port when port 0 was asked for).
    #[must_use]
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The service handle.
    #[must_use]
    pub fn app(&self) -> &DevConnect {
        &self.app
    }

    /// The bound address of the separate metrics listener (`--metrics-addr`), if any.
    #[must_use]
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics.listener.as_ref().and_then(|l| l.local_addr().ok())
    }

    /// Serves until `shutdown` completes; then stops accepting, closes the sockets,
    /// lets in-flight requests finish, and closes the store.
    pub async fn run(self, shutdown: impl std::future::Future<Output = ()> + Send + 'static) -> Result<(), StartError> {
        let (tx, rx) = watch::channel(false);
        tokio::spawn(async move {
            shutdown.await;
            let _ = tx.send(true);
        });
        self.serve(rx).await
    }

    /// Serves on a new task, stopped by [`Running::shutdown`].
    #[must_use]
    pub fn spawn(self) -> Running {
        let (stop, rx) = watch::channel(false);
        let (addr, app, metrics_addr) = (self.addr, self.app.clone(), self.metrics_addr());
        let task = tokio::spawn(self.serve(rx));
        Running { addr, metrics_addr, app, stop, task }
    }

    async fn serve(self, rx: watch::Receiver<bool>) -> Result<(), StartError> {
        if let Some(handle) = self.metrics.handle {
            if let Some(listener) = self.metrics.listener {
                tokio::spawn(prometheus::serve(listener, handle.clone(), rx.clone()));
            }
            tokio::spawn(prometheus::maintain(self.app.clone(), handle, self.metrics.refresh, rx.clone()));
        }
        server::serve(self.listener, self.shared, rx, self.timeouts).await;
        self.app.close().await?;
        tracing::info!("stopped");
        Ok(())
    }
}

/// A server serving on its own task (see [`spawn`] and [`Built::spawn`]).
pub struct Running {
    addr: SocketAddr,
    metrics_addr: Option<SocketAddr>,
    app: DevConnect,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<Result<(), StartError>>,
}

/// Stops a [`Running`] server from anywhere (e.g. a signal handler).
#[derive(Clone)]
pub struct ShutdownHandle(watch::Sender<bool>);

impl ShutdownHandle {
    /// Asks the server to shut down gracefully.
    pub fn shutdown(&self) {
        let _ = self.0.send(true);
    }
}

/// Builds the server and serves it on a new task. Returns once it is bound.
pub async fn spawn(config: &Config) -> Result<Running, StartError> {
    Ok(build(config).await?.spawn())
}

impl Running {
    /// The bound address.
    #[must_use]
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The separate metrics address (`--metrics-addr`), if one was set.
    #[must_use]
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_addr
    }

    /// `http://ADDR`, the base URL of the server.
    #[must_use]
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The service handle the server runs on.
    #[must_use]
    pub fn app(&self) -> &DevConnect {
        &self.app
    }

    /// A handle that can stop the server.
    #[must_use]
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        ShutdownHandle(self.stop.clone())
    }

    /// Shuts down gracefully and waits until the store is closed.
    pub async fn shutdown(self) -> Result<(), StartError> {
        let _ = self.stop.send(true);
        self.wait().await
    }

    /// Waits until the server stops (after a [`ShutdownHandle::shutdown`]).
    pub async fn wait(self) -> Result<(), StartError> {
        match self.task.await {
            Ok(result) => result,
            Err(err) => Err(StartError::Core(devconnect_core::Error::internal(err))),
        }
    }
}
