//! Tests of the state logic and of drawing, without a terminal or a server.

#![allow(clippy::unwrap_used, reason = "a test fails loudly on any unexpected error")]

mod fixtures;
mod group_chat;
mod group_edit;
mod push;
mod render;
mod safety;
mod search;
mod update;
