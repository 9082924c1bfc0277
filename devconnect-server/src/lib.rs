//! What DevConnect's servers (`devconnect-http`, `devconnect-grpc`) share: the plumbing
//! of a server process, which the core ([`devconnect_core`]) must not know about. It
//! knows clap, hyper, tokio and Prometheus, never REST or gRPC.
//!
//! - [`cli`]: the flags every server flattens ([`cli::ServiceArgs`]), turned into the
//!   core's `Config`.
//! - [`prometheus`]: the process's Prometheus recorder, the stand-alone `/metrics`
//!   listener and the upkeep loop.
//! - [`init_tracing`] and [`shutdown_signal`]: what every binary's `main` does first
//!   and waits for last.
//! - [`accept`]: the accept loop, each connection on a task of its own, tracked so a
//!   shutdown can wait for them all.
//! - [`idle`]: the per-connection watchdog that closes connections with no request in
//!   flight, and the request guard and response body it counts with.
//! - [`raise_descriptor_limit`]: a server holds a descriptor per socket.
//! - `testkit` (feature): what the servers' tests of idle connections share.

pub mod accept;
pub mod cli;
mod descriptors;
pub mod idle;
mod logs;
pub mod prometheus;
mod signal;
#[cfg(feature = "testkit")]
pub mod testkit;

pub use descriptors::raise_descriptor_limit;
pub use logs::{TracingError, init_tracing};
pub use signal::shutdown_signal;
