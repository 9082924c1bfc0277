//! What DevConnect's servers (`devconnect-http`, `devconnect-grpc`) share in serving
//! their hyper connections. It knows hyper and tokio, never REST, gRPC or the core.
//!
//! - [`accept`]: the accept loop, each connection on a task of its own, tracked so a
//!   shutdown can wait for them all.
//! - [`idle`]: the per-connection watchdog that closes connections with no request in
//!   flight, and the request guard and response body it counts with.
//! - `testkit` (feature): what the servers' tests of idle connections share.

pub mod accept;
pub mod idle;
#[cfg(feature = "testkit")]
pub mod testkit;
