//! Prometheus metrics of the gRPC server: calls by method and status code (a tower
//! layer that reads the `grpc-status` of each response, in its headers or trailers),
//! and open `Subscribe` streams. The recorder and the metrics endpoint on its own
//! address are `devconnect-server`'s ([`devconnect_server::prometheus`]).

use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::OnceLock;
use std::task::{Context, Poll};
use std::time::Instant;

use http_body::{Body, Frame, SizeHint};
use metrics_exporter_prometheus::PrometheusHandle;
use prost::Message as _;

/// Counter: calls, labels `method` (`/package.Service/Method`) and `code` (`Ok`,
/// `NotFound`, …; `Cancelled` when the client went away first).
pub const GRPC_CALLS: &str = "devconnect_grpc_calls_total";
/// Histogram (seconds): call duration by `method` (for `Subscribe`, the stream's life).
pub const GRPC_DURATION: &str = "devconnect_grpc_call_duration_seconds";
/// Gauge: open `Subscribe` streams.
pub const GRPC_STREAMS: &str = "devconnect_grpc_streams";
/// The `method` label of calls to paths the server does not serve.
pub const UNKNOWN_METHOD: &str = "unknown";

/// The process's Prometheus handle (`devconnect-server`'s, shared with any other server in the
/// process), with this server's metrics registered; `None` if another recorder was
/// installed first.
pub fn prometheus() -> Option<PrometheusHandle> {
    let handle = devconnect_server::prometheus::handle()?;
    metrics::describe_counter!(GRPC_CALLS, "gRPC calls by method and status code");
    metrics::describe_histogram!(GRPC_DURATION, metrics::Unit::Seconds, "gRPC call duration by method");
    metrics::describe_gauge!(GRPC_STREAMS, "Open Subscribe streams");
    metrics::gauge!(GRPC_STREAMS).increment(0.0);
    Some(handle)
}

/// The paths this server serves, so a `method` label can only be one of them.
fn known_methods() -> &'static HashSet<String> {
    static METHODS: OnceLock<HashSet<String>> = OnceLock::new();
    METHODS.get_or_init(|| {
        let mut methods = HashSet::new();
        for set in [crate::pb::FILE_DESCRIPTOR_SET, tonic_health::pb::FILE_DESCRIPTOR_SET] {
            let Ok(set) = prost_types::FileDescriptorSet::decode(set) else { continue };
            for file in &set.file {
                for service in &file.service {
                    for method in &service.method {
                        methods.insert(format!("/{}.{}/{}", file.package(), service.name(), method.name()));
                    }
                }
            }
        }
        for reflection in ["grpc.reflection.v1", "grpc.reflection.v1alpha"] {
            methods.insert(format!("/{reflection}.ServerReflection/ServerReflectionInfo"));
        }
        methods
    })
}

fn method_label(path: &str) -> String {
    if known_methods().contains(path) { path.to_owned() } else { UNKNOWN_METHOD.to_owned() }
}

/// Counts an open `Subscribe` stream while alive.
pub(crate) struct StreamGauge(());

impl StreamGauge {
    pub(crate) fn new() -> Self {
        metrics::gauge!(GRPC_STREAMS).increment(1.0);
        Self(())
    }
}

impl Drop for StreamGauge {
    fn drop(&mut self) {
        metrics::gauge!(GRPC_STREAMS).decrement(1.0);
    }
}

/// The tower layer that meters every call (`Server::builder().layer(MetricsLayer)`).
#[derive(Clone, Copy, Debug, Default)]
pub struct MetricsLayer;

impl<S> tower_layer::Layer<S> for MetricsLayer {
    type Service = Metered<S>;

    fn layer(&self, inner: S) -> Metered<S> {
        Metered { inner }
    }
}

/// A service metered by [`MetricsLayer`].
#[derive(Clone, Debug)]
pub struct Metered<S> {
    inner: S,
}

impl<S, B, RB> tower_service::Service<http::Request<B>> for Metered<S>
where
    S: tower_service::Service<http::Request<B>, Response = http::Response<RB>>,
    S::Future: Send + 'static,
{
    type Response = http::Response<MeteredBody<RB>>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let call = Call { method: method_label(request.uri().path()), started: Instant::now(), code: None };
        let response = self.inner.call(request);
        Box::pin(async move {
            let response = response.await?;
            let mut call = call;
            // Errors are "trailers-only" responses: the status is in the headers.
            call.code = grpc_status(response.headers());
            Ok(response.map(|inner| MeteredBody { inner, call: Some(call), ended: false }))
        })
    }
}

fn grpc_status(headers: &http::HeaderMap) -> Option<tonic::Code> {
    let value = headers.get("grpc-status")?.to_str().ok()?.parse::<i32>().ok()?;
    Some(tonic::Code::from_i32(value))
}

struct Call {
    method: String,
    started: Instant,
    code: Option<tonic::Code>,
}

impl Call {
    fn record(self, ended: bool) {
        let code = match (self.code, ended) {
            (Some(code), _) => format!("{code:?}"),
            // The client went away before the call finished.
            (None, false) => "Cancelled".to_owned(),
            (None, true) => "Unknown".to_owned(),
        };
        let elapsed = self.started.elapsed().as_secs_f64();
        metrics::histogram!(GRPC_DURATION, "method" => self.method.clone()).record(elapsed);
        metrics::counter!(GRPC_CALLS, "method" => self.method, "code" => code).increment(1);
    }
}

/// A response body that records its call once it ends (or is dropped).
pub struct MeteredBody<B> {
    inner: B,
    call: Option<Call>,
    ended: bool,
}

impl<B> Drop for MeteredBody<B> {
    fn drop(&mut self) {
        if let Some(call) = self.call.take() {
            call.record(self.ended);
        }
    }
}

impl<B: Body + Unpin> Body for MeteredBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<B::Data>, B::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(code) = frame.trailers_ref().and_then(grpc_status) {
                    if let Some(call) = self.call.as_mut() {
                        call.code = Some(code);
                    }
                }
            }
            Poll::Ready(None) => self.ended = true,
            Poll::Ready(Some(Err(_))) | Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_served_methods_become_labels() {
        assert_eq!(method_label("/devconnect.v1.DevConnectService/Login"), "/devconnect.v1.DevConnectService/Login");
        assert_eq!(method_label("/grpc.health.v1.Health/Check"), "/grpc.health.v1.Health/Check");
        assert_eq!(method_label("/devconnect.v1.DevConnectService/Made0Up"), UNKNOWN_METHOD);
        assert_eq!(method_label("/anything/0123456789abcdef01234567"), UNKNOWN_METHOD);
    }
}
