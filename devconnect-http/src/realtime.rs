//! The Socket.IO endpoint at `/socket.io/`, served by `devconnect-socketio` beside the
//! warp routes (feature `socketio`; without it the path answers 404).

use devconnect_core::DevConnect;
use http_body_util::BodyExt as _;

use crate::Config;
use crate::server::HttpResponse;

/// The realtime endpoint, or a 404 stand-in when the build has no Socket.IO support.
#[derive(Clone)]
pub(crate) struct Realtime {
    #[cfg(feature = "socketio")]
    io: devconnect_socketio::SocketIo,
}

#[cfg(feature = "socketio")]
impl Realtime {
    pub(crate) fn new(app: &DevConnect, config: &Config) -> Self {
        use std::time::Duration;
        let io_config = devconnect_socketio::SocketIoConfig {
            allowed_origins: config.cors_origins.clone(),
            ping_interval: Duration::from_millis(config.ping_interval_ms),
            ping_timeout: Duration::from_millis(config.ping_timeout_ms),
            max_payload: config.socket_max_payload,
            ..devconnect_socketio::SocketIoConfig::default()
        };
        Self { io: devconnect_socketio::SocketIo::new(app.clone(), io_config) }
    }

    /// Serves a request under `/socket.io/`.
    pub(crate) async fn handle(&self, req: http::Request<hyper::body::Incoming>) -> HttpResponse {
        self.io.handle(req).await.map(|b| b.map_err(|never| match never {}).boxed())
    }

    /// Closes every open socket (graceful shutdown).
    pub(crate) fn close_all(&self) {
        self.io.close_all();
    }

    /// Open sockets.
    pub(crate) fn socket_count(&self) -> usize {
        self.io.socket_count()
    }
}

#[cfg(not(feature = "socketio"))]
impl Realtime {
    pub(crate) fn new(_app: &DevConnect, _config: &Config) -> Self {
        Self {}
    }

    pub(crate) async fn handle(&self, req: http::Request<hyper::body::Incoming>) -> HttpResponse {
        drop(req);
        crate::error::ApiError::NoRoute.into_response().map(|b| b.map_err(Into::into).boxed())
    }

    pub(crate) fn close_all(&self) {}

    pub(crate) fn socket_count(&self) -> usize {
        0
    }
}
