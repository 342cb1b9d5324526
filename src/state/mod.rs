//! The keyspace and its values: plain data structures, no tokio, no I/O.
//!
//! Every mutation of a [`Keyspace`] that must survive a restart goes through
//! [`Keyspace::apply`] with an [`Effect`]: commands compute the effect, apply
//! it, and the broker hands the same effect to persistence. Replaying the
//! effects in order rebuilds the same keyspace, so live execution and
//! recovery share one code path.

pub mod db;
pub mod effect;
pub mod glob;
pub mod value;
pub mod zset;

pub use db::{Db, Entry};
pub use effect::{Effect, ExpireChange};
pub use value::Value;

/// All databases of the server.
#[derive(Debug)]
pub struct Keyspace {
    /// Databases `0..n`.
    pub dbs: Vec<Db>,
}

impl Keyspace {
    /// A keyspace with `n` empty databases.
    pub fn new(n: usize) -> Keyspace {
        Keyspace { dbs: (0..n).map(|_| Db::default()).collect() }
    }

    /// Total number of keys over all databases.
    pub fn total_keys(&self) -> usize {
        self.dbs.iter().map(Db::len).sum()
    }
}
