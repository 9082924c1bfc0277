//! Integration tests of the HTTP server: every route through the typed client, and raw
//! requests where the client would hide the bad input.
#![expect(clippy::unwrap_used, reason = "a test fails loudly on any unexpected error")]

mod auth;
mod cloudinary;
mod connections;
mod contract;
mod edges;
mod feed;
mod groups;
mod hardening;
mod helpers;
mod idle;
mod media;
mod messages;
mod profile;
mod push;
mod realtime;
mod safety;
mod search;
