//! One database: keys to entries, plus an index of expiry deadlines.
//!
//! Keys are kept in a [`HashOrdered`] map, in the order of a seeded hash,
//! which gives `SCAN` its guarantee (the cursor is the next hash to visit)
//! and `RANDOMKEY` a fair pick.

use bytes::Bytes;
use std::collections::BTreeSet;
use std::num::NonZeroU64;

use super::ordered::HashOrdered;
pub use super::ordered::{HASH_BITS, key_hash};
use super::value::Value;

/// A key's value and its absolute expiry time (Unix milliseconds).
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The value.
    pub value: Value,
    /// When the key expires, if it does (non-zero: 8 bytes, not 16, for
    /// every key). Change it with [`Db::set_expire`].
    expire: Option<NonZeroU64>,
}

/// Whether a deadline `at` has passed at `now` (both ms since the epoch).
/// As in Redis, a key lives through the millisecond of its deadline and is
/// expired from the next one: `SET k v PX 1` then `PTTL k` within the same
/// millisecond answers 1 or 0, never that the key is gone.
pub fn is_past(at: u64, now: u64) -> bool {
    at < now
}

impl Entry {
    /// Whether the entry's deadline has passed at `now` (see [`is_past`]).
    pub fn expired(&self, now: u64) -> bool {
        self.expire_at().is_some_and(|at| is_past(at, now))
    }

    /// An entry holding `value` until `expire_at` (a deadline of 0, long past
    /// either way, is kept as 1).
    pub fn new(value: Value, expire_at: Option<u64>) -> Entry {
        Entry { value, expire: expire_at.map(deadline_nz) }
    }

    /// When the key expires (Unix milliseconds), if it does.
    pub fn expire_at(&self) -> Option<u64> {
        self.expire.map(NonZeroU64::get)
    }
}

/// A deadline as the database keeps it: 0 (long past either way) is kept
/// as 1, so that a deadline is never zero.
fn deadline(at: Option<u64>) -> Option<u64> {
    at.map(|t| t.max(1))
}

fn deadline_nz(t: u64) -> NonZeroU64 {
    NonZeroU64::new(t).unwrap_or(NonZeroU64::MIN)
}

/// A key as the database keeps it: its own copy, in an allocation of
/// exactly its length behind a 16-byte handle (a `Bytes` handle is 32
/// bytes: 1M keys took 23 MB more that way, their tree slots being that
/// much bigger).
type StoredKey = Box<[u8]>;

/// One numbered database.
#[derive(Debug, Default)]
pub struct Db {
    map: HashOrdered<StoredKey, Entry>,
    /// The deadline index: `(deadline, key hash)` for every deadline some
    /// key of that hash's slot has. It names keys by hash, not by a copy of
    /// the key: 16 bytes per volatile key instead of a 32-byte handle plus
    /// the shared header a clone of the stored key would give it (1M keys
    /// with a deadline took 98 bytes each on top of their entries, twice
    /// Redis's 44).
    expires: BTreeSet<(u64, u64)>,
    /// How many keys have a deadline (several keys of one slot may share
    /// one index element).
    volatile: usize,
    /// The sum of those keys' deadlines (for the mean, `avg_ttl`).
    deadline_sum: u128,
}

impl Db {
    /// Number of keys (expired ones not yet reclaimed included).
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether there are no keys.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Number of keys with an expiry time.
    pub fn volatile_len(&self) -> usize {
        self.volatile
    }

    /// The mean time to live, in ms at `now`, of the keys with a deadline
    /// (0 if none, or if their mean deadline has passed): `INFO keyspace`'s
    /// `avg_ttl`.
    pub fn avg_ttl(&self, now: u64) -> u64 {
        if self.volatile == 0 {
            return 0;
        }
        ((self.deadline_sum / self.volatile as u128) as u64).saturating_sub(now)
    }

    /// The entry for `key`, expired or not.
    pub fn get(&self, key: &[u8]) -> Option<&Entry> {
        self.map.get(key)
    }

    /// The value for `key`, for in-place changes. Expiry is changed only
    /// through [`Db::set_expire`], which keeps the deadline index true.
    pub fn value_mut(&mut self, key: &[u8]) -> Option<&mut Value> {
        self.map.get_mut(key).map(|e| &mut e.value)
    }

    /// Stores `value` under `key` with the given expiry, replacing any
    /// entry. A new key is copied into the database (an existing one stays
    /// as it is).
    pub fn insert(&mut self, key: &[u8], value: Value, expire_at: Option<u64>) -> Option<Entry> {
        let expire_at = deadline(expire_at);
        let entry = Entry::new(value, expire_at);
        let old = self.map.insert_with(key, entry, || key.into());
        self.reindex_key(key, old.as_ref().and_then(Entry::expire_at), expire_at);
        old
    }

    /// [`Db::reindex`] for `key`, hashing it only if its deadline changed
    /// (the map hashed it already to find it; most writes keep the deadline).
    fn reindex_key(&mut self, key: &[u8], old: Option<u64>, new: Option<u64>) {
        if old != new {
            self.reindex(key_hash(key), old, new);
        }
    }

    /// Keeps the deadline index true after the deadline of a key of slot
    /// `h` changed from `old` to `new` (`None`: none, or no key): an
    /// element `(at, h)` stays while any key of the slot still has `at`.
    fn reindex(&mut self, h: u64, old: Option<u64>, new: Option<u64>) {
        if old == new {
            return;
        }
        match (old, new) {
            (None, Some(_)) => self.volatile += 1,
            (Some(_), None) => self.volatile -= 1,
            _ => {}
        }
        if let Some(at) = old {
            self.deadline_sum -= u128::from(at);
        }
        if let Some(at) = new {
            self.deadline_sum += u128::from(at);
        }
        if let Some(at) = old {
            let shared = self.map.with_hash(h).any(|(_, e)| e.expire_at() == Some(at));
            if !shared {
                self.expires.remove(&(at, h));
            }
        }
        if let Some(at) = new {
            self.expires.insert((at, h));
        }
    }

    /// Removes `key`, returning its entry.
    pub fn remove(&mut self, key: &[u8]) -> Option<Entry> {
        let entry = self.map.remove(key)?;
        self.reindex_key(key, entry.expire_at(), None);
        Some(entry)
    }

    /// Sets or clears `key`'s expiry; false if the key does not exist.
    pub fn set_expire(&mut self, key: &[u8], at: Option<u64>) -> bool {
        let Some(entry) = self.map.get_mut(key) else {
            return false;
        };
        let at = deadline(at);
        let old = std::mem::replace(&mut entry.expire, at.map(deadline_nz)).map(NonZeroU64::get);
        self.reindex_key(key, old, at);
        true
    }

    /// Removes every key.
    pub fn clear(&mut self) {
        *self = Db::default();
    }

    /// Keys whose deadline has passed at `now` ([`is_past`]), earliest
    /// first, at most `limit` (copies).
    pub fn expired_keys(&self, now: u64, limit: usize) -> Vec<Bytes> {
        let mut keys = Vec::new();
        for &(at, h) in self.expires.iter().take_while(|(at, _)| is_past(*at, now)) {
            for (k, _) in self.map.with_hash(h).filter(|(_, e)| e.expire_at() == Some(at)) {
                if keys.len() == limit {
                    return keys;
                }
                keys.push(Bytes::copy_from_slice(k));
            }
        }
        keys
    }

    /// Every key and entry, in hash order.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &Entry)> {
        self.map.iter().map(|(k, e)| (&k[..], e))
    }

    /// Visits keys from `cursor` on in hash order until `visit` has seen at
    /// least `count` hashes' keys; returns the cursor to continue from (0:
    /// done).
    pub fn scan(&self, cursor: u64, count: usize, mut visit: impl FnMut(&[u8], &Entry)) -> u64 {
        self.map.scan(cursor, count, |k, e| visit(k, e))
    }

    /// A key chosen at random (each with the same chance), drawing random
    /// numbers from `next`.
    pub fn random_key(&self, next: impl FnMut() -> u64) -> Option<&[u8]> {
        self.map.random(next).map(|(k, _)| &k[..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Value {
        Value::Str(Bytes::copy_from_slice(v.as_bytes()).into())
    }

    #[test]
    fn a_deadline_of_zero_is_kept_as_one_in_the_entry_and_the_index_alike() {
        let mut db = Db::default();
        db.insert("a".as_bytes(), s("1"), Some(0));
        assert_eq!(db.get(b"a").and_then(Entry::expire_at), Some(1));
        assert!(db.expired_keys(1, 10).is_empty());
        assert_eq!(db.expired_keys(2, 10), vec![Bytes::from("a")]);
        db.set_expire(b"a", None);
        assert_eq!(db.volatile_len(), 0);
        db.set_expire(b"a", Some(0));
        assert_eq!(db.get(b"a").and_then(Entry::expire_at), Some(1));
        db.remove(b"a");
        assert_eq!(db.volatile_len(), 0);
    }

    #[test]
    fn the_mean_ttl_follows_every_change_of_a_deadline() {
        let mut db = Db::default();
        assert_eq!(db.avg_ttl(0), 0);
        db.insert(b"a", s("1"), Some(1_000));
        db.insert(b"b", s("1"), Some(3_000));
        db.insert(b"c", s("1"), None);
        assert_eq!(db.avg_ttl(0), 2_000);
        db.set_expire(b"a", Some(5_000));
        assert_eq!(db.avg_ttl(1_000), 3_000);
        db.insert(b"b", s("2"), None);
        db.remove(b"a");
        assert_eq!(db.avg_ttl(0), 0);
        db.insert(b"d", s("1"), Some(100));
        assert_eq!(db.avg_ttl(500), 0, "past its deadline");
    }

    #[test]
    fn insert_remove_expire_keep_the_index_true() {
        let mut db = Db::default();
        db.insert("a".as_bytes(), s("1"), Some(10));
        db.insert("b".as_bytes(), s("2"), None);
        assert_eq!(db.len(), 2);
        assert_eq!(db.volatile_len(), 1);
        assert!(db.expired_keys(10, 10).is_empty());
        assert_eq!(db.expired_keys(11, 10), vec![Bytes::from("a")]);
        db.set_expire(b"a", None);
        assert!(db.expired_keys(100, 10).is_empty());
        db.set_expire(b"b", Some(5));
        db.insert("b".as_bytes(), s("3"), None);
        assert_eq!(db.volatile_len(), 0);
        assert!(db.remove(b"a").is_some());
        assert!(db.remove(b"a").is_none());
        assert_eq!(db.len(), 1);
    }

    #[test]
    fn replacing_a_key_returns_the_old_entry_and_moves_its_deadline() {
        let mut db = Db::default();
        assert_eq!(db.insert("k".as_bytes(), s("1"), Some(10)), None);
        let old = db.insert("k".as_bytes(), s("2"), Some(20)).expect("replaced");
        assert_eq!(old, Entry::new(s("1"), Some(10)));
        assert_eq!((db.len(), db.volatile_len()), (1, 1));
        assert!(db.expired_keys(15, 10).is_empty());
        assert_eq!(db.expired_keys(21, 10), vec![Bytes::from("k")]);
        // Same deadline: the index keeps exactly one entry.
        db.insert("k".as_bytes(), s("3"), Some(20));
        assert_eq!(db.volatile_len(), 1);
        db.insert("k".as_bytes(), s("4"), None);
        assert_eq!((db.len(), db.volatile_len()), (1, 0));
        assert_eq!(db.get(b"k"), Some(&Entry::new(s("4"), None)));
    }

    #[test]
    fn an_entry_takes_48_bytes() {
        // Every key pays for its slot, a 16-byte key handle and its entry
        // (and the tree's spare room for one): see `ordered`'s tests.
        assert_eq!(std::mem::size_of::<Entry>(), 48);
    }

    #[test]
    fn keys_of_one_slot_share_an_index_element_until_the_last_leaves() {
        // Two keys of one hash, placed by hand: a collision of the seeded
        // 64-bit hash cannot be chosen.
        let mut db = Db::default();
        let h = 7;
        let pair = |k: &str, at| (StoredKey::from(k.as_bytes()), Entry::new(s("v"), Some(at)));
        db.map.place_colliding(h, vec![pair("a", 10), pair("b", 10)]);
        db.reindex(h, None, Some(10));
        db.reindex(h, None, Some(10));
        assert_eq!((db.volatile_len(), db.expires.len()), (2, 1));
        assert_eq!(db.expired_keys(11, 10), [Bytes::from("a"), Bytes::from("b")]);
        assert_eq!(db.expired_keys(11, 1), [Bytes::from("a")]);
        // a's deadline moves on: the element stays for b.
        let mut v = db.map.take_hash(h);
        v[0].1.expire = NonZeroU64::new(20);
        db.map.place_colliding(h, v);
        db.reindex(h, Some(10), Some(20));
        assert_eq!(db.expired_keys(11, 10), [Bytes::from("b")]);
        assert_eq!(db.expired_keys(21, 10), [Bytes::from("b"), Bytes::from("a")]);
        // b goes: so does its element.
        let mut v = db.map.take_hash(h);
        v.pop();
        db.map.place_colliding(h, v);
        db.reindex(h, Some(10), None);
        assert_eq!((db.volatile_len(), db.expires.len()), (1, 1));
        assert_eq!(db.expired_keys(u64::MAX, 10), [Bytes::from("a")]);
        assert!(db.expired_keys(19, 10).is_empty());
    }

    #[test]
    fn scan_cursors_fit_in_a_double() {
        let mut db = Db::default();
        for i in 0..1000 {
            db.insert(format!("k{i}").as_bytes(), s("v"), None);
        }
        let (mut cursor, mut cursors) = (0, 0);
        loop {
            cursor = db.scan(cursor, 10, |_, _| {});
            assert!(cursor < 1 << 53, "{cursor}");
            if cursor == 0 {
                break;
            }
            cursors += 1;
        }
        assert!(cursors >= 99);
    }

    #[test]
    fn scan_returns_every_surviving_key_once_while_the_db_grows() {
        let mut db = Db::default();
        for i in 0..1000 {
            db.insert(format!("k{i}").as_bytes(), s("v"), None);
        }
        let mut seen = crate::state::HashMap::default();
        let mut cursor = 0;
        let mut round = 0;
        loop {
            cursor = db.scan(cursor, 10, |k, _| *seen.entry(k.to_vec()).or_insert(0) += 1);
            for j in 0..20 {
                db.insert(format!("new{round}-{j}").as_bytes(), s("v"), None);
            }
            round += 1;
            if cursor == 0 {
                break;
            }
        }
        for i in 0..1000 {
            assert_eq!(seen.get(format!("k{i}").as_bytes()), Some(&1), "k{i}");
        }
    }
}
