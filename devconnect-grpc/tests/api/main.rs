//! Integration tests: a real server on 127.0.0.1:0, a tonic client over the socket.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a test fails loudly on any unexpected error")]

mod helpers;

mod auth;
mod chat;
mod connections;
mod group_chat;
mod groups;
mod hardening;
mod limits;
mod moderation;
mod profile;
mod push;
mod safety;
mod search;
mod server;
mod stream;
