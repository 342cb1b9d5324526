//! The integration test suite: one binary, modules by topic. Every test
//! starts a real server in-process on a throwaway socket and talks to it
//! over the Unix socket with the `redis` crate or raw bytes.

mod common;
#[path = "core.rs"]
mod core_server;
mod crash;
mod persistence;
