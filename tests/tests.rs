//! The integration test suite: one binary, modules by topic. Every test
//! starts a real server in-process on a throwaway socket and talks to it
//! over the Unix socket with the `redis` crate or raw bytes.

mod admin;
mod auth;
mod bitmaps;
mod common;
#[path = "core.rs"]
mod core_server;
mod crash;
mod hashes;
mod keys;
mod lists;
mod persistence;
mod protocol;
mod pubsub;
mod readme;
mod server_commands;
mod sets;
mod strings;
mod transactions;
mod zsets;
