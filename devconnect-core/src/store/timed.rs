//! The store timing decorator, and `store_aggregate!`, which declares each aggregate's
//! store trait together with the decorator's implementation of it, so the list of store
//! methods is written once (in the aggregate's trait) rather than once more here.

use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;

use super::Store;
use crate::Result;
use crate::telemetry::STORE_DURATION;

/// A [`Store`] that times every call into [`STORE_DURATION`], labelled by operation (the
/// method's name). The service wraps its store in one, so every backend is measured the
/// same way.
pub(crate) struct TimedStore(pub(crate) Arc<dyn Store>);

/// Awaits `call`, recording how long it took under `operation`.
pub(super) async fn timed<T>(operation: &'static str, call: impl Future<Output = T>) -> T {
    let start = Instant::now();
    let out = call.await;
    metrics::histogram!(STORE_DURATION, "operation" => operation).record(start.elapsed().as_secs_f64());
    out
}

#[async_trait]
impl Store for TimedStore {
    async fn ping(&self) -> Result<()> {
        timed("ping", self.0.ping()).await
    }
    // Not timed: it runs once, at shutdown.
    async fn close(&self) -> Result<()> {
        self.0.close().await
    }
}

/// Declares an aggregate's store trait (an `#[async_trait]`, `Send + Sync`, doc comments
/// kept) from its method signatures, and implements it for [`TimedStore`]: each method
/// forwards to the wrapped store, timed under its own name. Every method is
/// `async fn name(&self, arg: Type, ...) -> Return;`.
macro_rules! store_aggregate {
    (
        $(#[$attr:meta])*
        $vis:vis trait $name:ident {
            $(
                $(#[$method_attr:meta])*
                async fn $method:ident(&self $(, $arg:ident: $ty:ty)* $(,)?) -> $ret:ty;
            )+
        }
    ) => {
        $(#[$attr])*
        #[::async_trait::async_trait]
        $vis trait $name: Send + Sync {
            $(
                $(#[$method_attr])*
                async fn $method(&self $(, $arg: $ty)*) -> $ret;
            )+
        }

        #[::async_trait::async_trait]
        impl $name for $crate::store::timed::TimedStore {
            $(
                async fn $method(&self $(, $arg: $ty)*) -> $ret {
                    $crate::store::timed::timed(stringify!($method), self.0.$method($($arg),*)).await
                }
            )+
        }
    };
}
pub(super) use store_aggregate;
