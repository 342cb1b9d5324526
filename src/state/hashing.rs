//! The hash maps and sets used across the server, with a fast seeded hasher.
//!
//! Keyspace values (hash fields, set members, sorted-set members) and the
//! broker's indexes hash client-chosen bytes on every command. They use
//! foldhash's fast hasher instead of std's SipHash: much cheaper on short
//! keys, and still seeded at random per process (and per map), so clients
//! cannot choose keys that collide.

/// The hasher builder of [`HashMap`] and [`HashSet`]: foldhash's fast
/// hasher, randomly seeded per process and per map.
pub type RandomState = foldhash::fast::RandomState;

/// std's `HashMap` with the fast seeded hasher, for keyspace values and
/// broker indexes. Build one with `HashMap::default()` or
/// `HashMap::with_capacity_and_hasher(n, Default::default())`.
pub type HashMap<K, V> = std::collections::HashMap<K, V, RandomState>;

/// std's `HashSet` with the fast seeded hasher, for keyspace values and
/// broker indexes. Build one with `HashSet::default()` or
/// `HashSet::with_capacity_and_hasher(n, Default::default())`.
pub type HashSet<T> = std::collections::HashSet<T, RandomState>;
