//! DevConnect over gRPC: a tonic server exposing the whole [`devconnect_core`] API.
//!
//! - [`pb`]: the generated protobuf types, server and client of
//!   `proto/devconnect/v1/devconnect.proto` (package `devconnect.v1`).
//! - [`Api`]: the service; each RPC decodes, makes one core call, encodes.
//! - [`Moderation`]: the operators' service (`proto/devconnect/v1/moderation.proto`),
//!   served beside it and authenticated with an operator's token instead of a user's.
//! - [`error`]: the one mapping from core errors to gRPC statuses.
//! - [`Config`]: flags and `DEVCONNECT_*` variables of the binary.
//! - [`build`] binds the listener, [`Built::run`] serves until a shutdown signal,
//!   [`spawn`] does both on `127.0.0.1:0` in the background (tests), [`run`] is `main`.
//!
//! - [`telemetry`]: Prometheus metrics (calls by method and code, open streams), served
//!   on their own address ([`Built::metrics_on`], `--metrics-addr`).
//! - `conn`: the connection loop (hyper, HTTP/2): call deadlines, calls per connection,
//!   and idle connections closed, as [`Limits`] says.
//!
//! Besides the DevConnect and moderation services, the server answers the standard gRPC health service
//! (`grpc.health.v1.Health`) and server reflection (v1 and v1alpha), so grpcurl, grpcui
//! and Postman discover it without the proto.

mod config;
mod conn;
mod convert;
pub mod error;
mod moderation;
mod service;
mod subscribe;
pub mod telemetry;

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use devconnect_core::DevConnect;
use devconnect_server::prometheus;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower_layer::Layer as _;

pub use config::{Config, DEFAULT_BIND, Limits};
pub use moderation::Moderation;
pub use service::Api;
pub use subscribe::EventStream;

/// The generated protobuf messages, servers (`dev_connect_service_server`,
/// `moderation_service_server`) and clients (`dev_connect_service_client`,
/// `moderation_service_client`).
#[allow(missing_docs, clippy::all, clippy::pedantic, clippy::nursery)]
pub mod pb {
    tonic::include_proto!("devconnect.v1");

    /// The encoded descriptor set of the proto (and its imports), for reflection.
    pub const FILE_DESCRIPTOR_SET: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/devconnect_descriptor.bin"));
}

use pb::dev_connect_service_server::DevConnectServiceServer;
use pb::moderation_service_server::ModerationServiceServer;

/// Why the server could not start or stopped with an error.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A bound, not yet serving, gRPC server.
#[derive(Debug)]
pub struct Built {
    app: DevConnect,
    listener: TcpListener,
    addr: SocketAddr,
    limits: Limits,
    metrics: Option<TcpListener>,
    engagement_refresh: Duration,
}

/// Binds `addr` for a server over `app`. Bind `127.0.0.1:0` and read
/// [`Built::local_addr`] to get a free port.
pub async fn build(app: DevConnect, addr: SocketAddr, limits: Limits) -> std::io::Result<Built> {
    let listener = TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    Ok(Built { app, listener, addr, limits, metrics: None, engagement_refresh: Duration::from_secs(60) })
}

impl Built {
    /// The bound address (the real port when port 0 was asked for).
    #[must_use]
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Also serves the Prometheus metrics at `http://ADDR/metrics` (bound now).
    pub async fn metrics_on(mut self, addr: SocketAddr) -> std::io::Result<Self> {
        self.metrics = Some(TcpListener::bind(addr).await?);
        Ok(self)
    }

    /// The bound metrics address, if [`Built::metrics_on`] was called.
    #[must_use]
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics.as_ref().and_then(|l| l.local_addr().ok())
    }

    /// How often the engagement gauges are recomputed (default 60 s; zero: never).
    #[must_use]
    pub fn engagement_refresh(mut self, every: Duration) -> Self {
        self.engagement_refresh = every;
        self
    }

    /// Serves on a new task, stopped by [`Running::shutdown`].
    #[must_use]
    pub fn spawn(self) -> Running {
        let (addr, metrics_addr) = (self.addr, self.metrics_addr());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(self.run(async move {
            let _ = stopped.await;
        }));
        Running { addr, metrics_addr, stop: Some(stop), task }
    }

    /// Serves until `shutdown` completes, then ends open `Subscribe` streams (status
    /// `UNAVAILABLE`, code `shutting_down`), lets in-flight calls finish, and returns.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send) -> Result<(), BoxError> {
        let (stop_tx, stop_rx) = watch::channel(false);
        let (reporter, health) = tonic_health::server::health_reporter();
        reporter.set_serving::<DevConnectServiceServer<Api>>().await;
        reporter.set_serving::<ModerationServiceServer<Moderation>>().await;
        let reflection = || {
            tonic_reflection::server::Builder::configure()
                .register_encoded_file_descriptor_set(pb::FILE_DESCRIPTOR_SET)
                .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        };
        let reflection_v1 = reflection().build_v1()?;
        let reflection_v1alpha = reflection().build_v1alpha()?;
        if let Some(handle) = telemetry::prometheus() {
            if let Some(listener) = self.metrics {
                tokio::spawn(prometheus::serve(listener, handle.clone(), stop_rx.clone()));
            }
            tokio::spawn(prometheus::maintain(self.app.clone(), handle, self.engagement_refresh, stop_rx.clone()));
        }
        let moderation = ModerationServiceServer::new(Moderation::new(self.app.clone()))
            .max_decoding_message_size(self.limits.max_request_bytes)
            .max_encoding_message_size(self.limits.max_response_bytes);
        let api = DevConnectServiceServer::new(Api::new(self.app, stop_rx))
            .max_decoding_message_size(self.limits.max_request_bytes)
            .max_encoding_message_size(self.limits.max_response_bytes);
        tracing::info!(addr = %self.addr, "gRPC server listening");
        let routes = tonic::service::Routes::new(health)
            .add_service(reflection_v1)
            .add_service(reflection_v1alpha)
            .add_service(api)
            .add_service(moderation)
            .prepare();
        // Metered outside the deadline, so calls that ran out of time are counted too.
        let service = telemetry::MetricsLayer.layer(conn::DeadlineLayer(self.limits.request_timeout).layer(routes));
        let settings = conn::Settings {
            header_timeout: self.limits.header_timeout,
            max_concurrent_streams: self.limits.max_concurrent_streams,
        };
        conn::serve(self.listener, service, settings, async move {
            shutdown.await;
            tracing::info!("shutting down");
            reporter.set_not_serving::<DevConnectServiceServer<Api>>().await;
            reporter.set_not_serving::<ModerationServiceServer<Moderation>>().await;
            let _ = stop_tx.send(true);
        })
        .await;
        Ok(())
    }
}

/// A server serving on its own task (see [`spawn`] and [`Built::spawn`]).
#[derive(Debug)]
pub struct Running {
    addr: SocketAddr,
    metrics_addr: Option<SocketAddr>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<Result<(), BoxError>>,
}

impl Running {
    /// The bound address.
    #[must_use]
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The separate metrics address, if [`Built::metrics_on`] was called.
    #[must_use]
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_addr
    }

    /// `http://ADDR`, for a client to connect to.
    #[must_use]
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Shuts the server down gracefully and waits until it has stopped.
    pub async fn shutdown(mut self) -> Result<(), BoxError> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        (&mut self.task).await?
    }
}

/// Binds a free port on 127.0.0.1 and serves `app` in the background.
pub async fn spawn(app: DevConnect, limits: Limits) -> std::io::Result<Running> {
    Ok(build(app, SocketAddr::from(([127, 0, 0, 1], 0)), limits).await?.spawn())
}

/// The binary: sets up logging, opens the core, serves until SIGINT or SIGTERM, then
/// closes the store.
pub async fn run(config: Config) -> Result<(), BoxError> {
    devconnect_server::init_tracing(&config.service.log)?;
    devconnect_server::raise_descriptor_limit();
    let app = DevConnect::open(config.core()).await?;
    let mut server = build(app.clone(), config.bind, config.limits())
        .await?
        .engagement_refresh(Duration::from_secs(config.service.engagement_refresh_secs));
    if let Some(addr) = config.service.metrics_addr {
        server = server.metrics_on(addr).await?;
        tracing::info!(%addr, "metrics at /metrics");
    }
    let served = server.run(devconnect_server::shutdown_signal()).await;
    app.close().await?;
    served
}
