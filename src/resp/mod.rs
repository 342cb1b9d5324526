//! The Redis protocol codec: pure functions over bytes, no I/O.
//!
//! [`decode`] turns a client's input stream (RESP2 multibulk or inline
//! commands) into argument vectors; [`frame`] holds the reply values and
//! their RESP2/RESP3 encodings.

pub mod decode;
pub mod frame;

pub use decode::{Decoder, Limits, ProtocolError};
pub use frame::{Frame, Protocol};

#[cfg(test)]
mod props;
