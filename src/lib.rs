//! statebroker: a durable, Redis-compatible state and queue broker for the
//! processes of one host.
//!
//! ```text
//! client ──RESP──▶ connection task ──mpsc(bounded)──▶ broker (one owner of all state)
//!    ▲                      │ oneshot reply                 │ effects, in order
//!    └──── reply ◀──────────┘ ◀── released when durable ── persister (own thread)
//! ```
//!
//! # Layout
//! - [`resp`]: the protocol codec, pure functions over bytes.
//! - [`cmd`]: the command table and every command's parsing and semantics.
//! - [`state`]: the keyspace, values and effects; no tokio, no I/O.
//! - [`broker`]: the actor that owns the state and talks to persistence.
//! - [`persist`]: the write-ahead log and snapshots; the only code that knows file formats.
//! - [`server`] and [`connection`]: the only code that touches sockets.
//! - [`config`]: the settings.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod broker;
pub mod cmd;
pub mod config;
pub mod connection;
pub mod persist;
pub mod resp;
pub mod server;
pub mod socket;
pub mod state;
