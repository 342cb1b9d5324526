//! The keyspace and its values: plain data structures, no tokio, no I/O.
//!
//! Every mutation of a [`Keyspace`] that must survive a restart goes through
//! [`Keyspace::apply`] with an [`Effect`]: commands compute the effect, apply
//! it, and the broker hands the same effect to persistence. Replaying the
//! effects in order rebuilds the same keyspace, so live execution and
//! recovery share one code path.

mod compact;
pub mod db;
pub mod effect;
pub mod glob;
pub mod hash;
pub mod hashing;
pub mod hll;
pub mod list;
pub mod ordered;
pub mod set;
pub mod string;
pub mod value;
pub mod zset;

pub use db::{Db, Entry};
pub use effect::{Effect, ExpireChange};
pub use hash::Hash;
pub use hashing::{HashMap, HashSet};
pub use list::List;
pub use set::Set;
pub use string::Str;
pub use value::Value;

/// Sees every effect just before [`Keyspace::apply`] performs it.
///
/// Persistence installs one while it takes a point-in-time snapshot, to
/// copy the old value of a key the snapshot has not reached yet.
pub trait ApplyHook: Send {
    /// Called with the databases as they are, before `effect` changes them.
    fn before(&mut self, dbs: &[Db], effect: &Effect);
    /// The hook as `Any`, so its owner can reach its concrete type.
    fn as_any_mut(&mut self) -> &mut dyn std::any::Any;
}

/// All databases of the server.
pub struct Keyspace {
    /// Databases `0..n`.
    pub dbs: Vec<Db>,
    /// An observer of changes (installed by persistence during a snapshot).
    pub hook: Option<Box<dyn ApplyHook>>,
}

impl std::fmt::Debug for Keyspace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyspace").field("dbs", &self.dbs).field("hook", &self.hook.is_some()).finish()
    }
}

impl Keyspace {
    /// A keyspace with `n` empty databases.
    pub fn new(n: usize) -> Keyspace {
        Keyspace { dbs: (0..n).map(|_| Db::default()).collect(), hook: None }
    }

    /// Total number of keys over all databases.
    pub fn total_keys(&self) -> usize {
        self.dbs.iter().map(Db::len).sum()
    }

    /// Every key of every database as `(db, key, expiry, value)`, sorted by
    /// database and key: the contents in a form two keyspaces can be compared
    /// by (their own order depends on a per-process hash seed).
    pub fn sorted_entries(&self) -> Vec<(usize, bytes::Bytes, Option<u64>, Value)> {
        let mut v: Vec<_> = self
            .dbs
            .iter()
            .enumerate()
            .flat_map(|(i, d)| {
                d.iter().map(move |(k, e)| (i, bytes::Bytes::copy_from_slice(k), e.expire_at(), e.value.clone()))
            })
            .collect();
        v.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
        v
    }
}
