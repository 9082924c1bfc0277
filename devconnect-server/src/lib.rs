//! What DevConnect's servers (`devconnect-http`, `devconnect-grpc`) share in serving
//! their hyper connections. It knows hyper and tokio, never REST, gRPC or the core.
//!
//! - [`idle`]: the per-connection watchdog that closes connections with no request in
//!   flight, and the request guard and response body it counts with.

pub mod idle;
