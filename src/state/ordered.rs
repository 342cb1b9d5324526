//! [`HashOrdered`]: a map from byte strings to values, kept in the order of
//! a seeded hash of the key. The keyspace of each database and the large
//! forms of hashes, sets and sorted sets are such maps.
//!
//! That order is stable while keys come and go, which gives the `SCAN`
//! family its guarantee for free: the cursor is "the next hash to visit",
//! so a key present for the whole scan is returned at least once however
//! the map grows or shrinks, and each call costs in proportion to what it
//! visits. It also gives a fair random pick in logarithmic time
//! ([`HashOrdered::random`]), where a hash table's iterator would need a
//! walk to the chosen position.
//!
//! The hash is foldhash's quality hasher: fast on short keys, and seeded at
//! random once per process, so clients cannot choose keys that collide (a
//! collision costs a linear search in its slot).

use foldhash::quality::RandomState;
use std::collections::BTreeMap;
use std::collections::btree_map::Entry;
use std::hash::BuildHasher;
use std::sync::OnceLock;

/// The process's key hasher: seeded at random on first use, then fixed for
/// the life of the process (a `SCAN` cursor is a hash, so it must not move).
fn seed() -> &'static RandomState {
    static SEED: OnceLock<RandomState> = OnceLock::new();
    SEED.get_or_init(RandomState::default)
}

/// Bits of a key's hash, and so of a `SCAN` cursor: 53, so that a cursor
/// survives clients that hold numbers as doubles (JavaScript's node-redis 4
/// turns the cursor into a `Number`; a 64-bit cursor came back rounded and
/// the scan skipped keys). Redis's cursors are small for the same reason.
pub const HASH_BITS: u32 = 53;

/// The seeded hash that orders keys: foldhash's quality hasher, fast and
/// seeded at random once per process, so the order (and `SCAN`'s cursor) is
/// stable for the life of the process but unpredictable to clients; its top
/// [`HASH_BITS`] bits, never 0 (a cursor of 0 means "start" and "done").
pub fn key_hash(key: &[u8]) -> u64 {
    (seed().hash_one(key) >> (64 - HASH_BITS)).max(1)
}

/// Keys sharing one hash (almost always exactly one).
#[derive(Debug, Clone)]
enum Slot<K, V> {
    One(K, V),
    Many(Vec<(K, V)>),
}

impl<K: AsRef<[u8]>, V> Slot<K, V> {
    fn find(&self, key: &[u8]) -> Option<(&K, &V)> {
        match self {
            Slot::One(k, v) => (k.as_ref() == key).then_some((k, v)),
            Slot::Many(all) => all.iter().find(|(k, _)| k.as_ref() == key).map(|(k, v)| (k, v)),
        }
    }

    fn find_mut(&mut self, key: &[u8]) -> Option<&mut V> {
        match self {
            Slot::One(k, v) => (k.as_ref() == key).then_some(v),
            Slot::Many(all) => all.iter_mut().find(|(k, _)| k.as_ref() == key).map(|(_, v)| v),
        }
    }

    /// Adds a key not yet in the slot.
    fn push(&mut self, key: K, value: V) {
        let mut all = match std::mem::replace(self, Slot::Many(Vec::new())) {
            Slot::One(k, v) => vec![(k, v)],
            Slot::Many(all) => all,
        };
        all.push((key, value));
        *self = Slot::Many(all);
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        match self {
            Slot::One(..) => 1,
            Slot::Many(all) => all.len(),
        }
    }

    fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        let (one, many) = match self {
            Slot::One(k, v) => (Some((k, v)), None),
            Slot::Many(all) => (None, Some(all.iter().map(|(k, v)| (k, v)))),
        };
        one.into_iter().chain(many.into_iter().flatten())
    }
}

/// A map from byte-string keys (`K`: `Box<[u8]>`, `Bytes`) to values,
/// iterated in the order of [`key_hash`] (see the module documentation).
/// Lookups, inserts and removals cost a tree descent: O(log n).
#[derive(Debug, Clone)]
pub struct HashOrdered<K, V> {
    map: BTreeMap<u64, Slot<K, V>>,
    len: usize,
}

impl<K, V> Default for HashOrdered<K, V> {
    fn default() -> Self {
        HashOrdered { map: BTreeMap::new(), len: 0 }
    }
}

impl<K: AsRef<[u8]>, V> HashOrdered<K, V> {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are no keys.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The stored key and value for `key`.
    pub fn get_key_value(&self, key: &[u8]) -> Option<(&K, &V)> {
        self.map.get(&key_hash(key))?.find(key)
    }

    /// The value for `key`.
    pub fn get(&self, key: &[u8]) -> Option<&V> {
        self.get_key_value(key).map(|(_, v)| v)
    }

    /// The value for `key`, to change in place.
    pub fn get_mut(&mut self, key: &[u8]) -> Option<&mut V> {
        self.map.get_mut(&key_hash(key))?.find_mut(key)
    }

    /// Whether `key` is present.
    pub fn contains_key(&self, key: &[u8]) -> bool {
        self.get_key_value(key).is_some()
    }

    /// Stores `value` under `key`, returning the value it replaced. A new
    /// key is stored as `make_key` makes it (called only then); an existing
    /// key stays as it is, in place.
    pub fn insert_with(&mut self, key: &[u8], value: V, make_key: impl FnOnce() -> K) -> Option<V> {
        match self.map.entry(key_hash(key)) {
            Entry::Vacant(e) => {
                e.insert(Slot::One(make_key(), value));
            }
            Entry::Occupied(mut e) => {
                if let Some(current) = e.get_mut().find_mut(key) {
                    return Some(std::mem::replace(current, value));
                }
                e.get_mut().push(make_key(), value);
            }
        }
        self.len += 1;
        None
    }

    /// [`HashOrdered::insert_with`] of an owned key (kept only if new).
    pub fn insert(&mut self, key: K, value: V) -> Option<V> {
        match self.map.entry(key_hash(key.as_ref())) {
            Entry::Vacant(e) => {
                e.insert(Slot::One(key, value));
            }
            Entry::Occupied(mut e) => {
                if let Some(current) = e.get_mut().find_mut(key.as_ref()) {
                    return Some(std::mem::replace(current, value));
                }
                e.get_mut().push(key, value);
            }
        }
        self.len += 1;
        None
    }

    /// Removes `key`, returning its value.
    pub fn remove(&mut self, key: &[u8]) -> Option<V> {
        let h = key_hash(key);
        let slot = self.map.get_mut(&h)?;
        let value = match slot {
            Slot::One(k, _) if k.as_ref() == key => match self.map.remove(&h) {
                Some(Slot::One(_, v)) => v,
                _ => unreachable!("slot checked above"),
            },
            Slot::One(..) => return None,
            Slot::Many(all) => {
                let i = all.iter().position(|(k, _)| k.as_ref() == key)?;
                let (_, v) = all.swap_remove(i);
                if all.len() == 1 {
                    let (k, v) = all.pop().expect("one left");
                    *slot = Slot::One(k, v);
                }
                v
            }
        };
        self.len -= 1;
        Some(value)
    }

    /// Removes every key.
    pub fn clear(&mut self) {
        *self = Self::default();
    }

    /// Files `all` under the hash `h`, as if their keys collided (a
    /// collision of the seeded hash cannot be chosen).
    #[cfg(test)]
    pub(crate) fn place_colliding(&mut self, h: u64, all: Vec<(K, V)>) {
        self.len += all.len();
        if let Some(old) = self.map.insert(h, Slot::Many(all)) {
            self.len -= old.len();
        }
    }

    /// Takes out every key filed under the hash `h`.
    #[cfg(test)]
    pub(crate) fn take_hash(&mut self, h: u64) -> Vec<(K, V)> {
        let all = match self.map.remove(&h) {
            Some(Slot::One(k, v)) => vec![(k, v)],
            Some(Slot::Many(all)) => all,
            None => Vec::new(),
        };
        self.len -= all.len();
        all
    }

    /// Every key and value, in hash order.
    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.map.values().flat_map(Slot::iter)
    }

    /// The keys (and values) whose hash is `h`.
    pub fn with_hash(&self, h: u64) -> impl Iterator<Item = (&K, &V)> {
        self.map.get(&h).into_iter().flat_map(Slot::iter)
    }

    /// Visits keys from `cursor` on in hash order until `visit` has seen at
    /// least `count` hashes' keys; returns the cursor to continue from (0:
    /// done).
    pub fn scan(&self, cursor: u64, count: usize, mut visit: impl FnMut(&K, &V)) -> u64 {
        for (seen, (&h, slot)) in self.map.range(cursor..).enumerate() {
            if seen >= count {
                return h;
            }
            for (k, v) in slot.iter() {
                visit(k, v);
            }
        }
        0
    }

    /// A key chosen at random, each with the same chance, drawing random
    /// numbers from `next`. O(log n): the hash space is cut into as many
    /// equal ranges as the power of two at or above the number of keys; a
    /// random range holding `k` keys is taken with probability
    /// `k / FAIR_RANGE` (else another is drawn, 8-16 draws on average),
    /// then one of its keys at random, so that every key has the same
    /// chance, `1 / (ranges * FAIR_RANGE)`. (Keys of a range holding more
    /// than `FAIR_RANGE` would have less: about one range in 10^7.) The
    /// first key after a random hash would favour the keys after wide gaps.
    pub fn random(&self, mut next: impl FnMut() -> u64) -> Option<(&K, &V)> {
        const FAIR_RANGE: u64 = 8;
        if self.len == 0 {
            return None;
        }
        let bits = self.len.next_power_of_two().trailing_zeros().min(HASH_BITS);
        let width = 1u64 << (HASH_BITS - bits);
        for _ in 0..1024 {
            let start = if bits == 0 { 0 } else { (next() >> (64 - bits)) * width };
            let range = || self.map.range(start..start + width).flat_map(|(_, s)| s.iter());
            let k = range().count() as u64;
            if k == 0 || next() % FAIR_RANGE >= k {
                continue;
            }
            return range().nth((next() % k) as usize);
        }
        // Only after 1024 refusals in a row (each at most 15 in 16): the
        // first key at a random hash.
        let r = next() >> (64 - HASH_BITS);
        self.map.range(r..).next().or_else(|| self.map.iter().next()).and_then(|(_, s)| s.iter().next())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(i: usize) -> Box<[u8]> {
        format!("k{i}").into_bytes().into_boxed_slice()
    }

    #[test]
    fn a_slot_of_a_boxed_key_and_a_small_value_takes_no_more_than_both() {
        assert_eq!(std::mem::size_of::<Slot<Box<[u8]>, [u64; 6]>>(), 64);
    }

    #[test]
    fn keys_sharing_a_hash_live_in_one_slot() {
        let mut m: HashOrdered<Box<[u8]>, u32> = HashOrdered::new();
        let h = key_hash(b"a");
        m.map.insert(h, Slot::Many(vec![(key(1), 1), (key(2), 2)]));
        m.len = 2;
        assert_eq!(m.with_hash(h).count(), 2);
        // A lookup finds its key among those of the slot: the hash is the
        // only thing the slot was filed under.
        let Some(Slot::Many(v)) = m.map.get(&h) else { panic!() };
        assert!(v.iter().any(|(k, _)| **k == *b"k2"));
        assert_eq!(m.map.get(&h).and_then(|s| s.find(b"k2")).map(|(_, v)| *v), Some(2));
        let mut m2 = m.clone();
        // Removing one of two turns the slot back into a single one.
        let Some(slot) = m2.map.get_mut(&h) else { panic!() };
        let Slot::Many(v) = slot else { panic!() };
        v.swap_remove(0);
        assert_eq!(m2.map.get(&h).map(Slot::len), Some(1));
    }

    #[test]
    fn insert_get_remove() {
        let mut m: HashOrdered<Box<[u8]>, usize> = HashOrdered::new();
        for i in 0..1000 {
            assert_eq!(m.insert(key(i), i), None);
        }
        assert_eq!(m.insert_with(b"k7", 70, || unreachable!("the key exists")), Some(7));
        assert_eq!(m.len(), 1000);
        assert_eq!(m.get(b"k7"), Some(&70));
        *m.get_mut(b"k8").expect("present") = 80;
        assert_eq!(m.get(b"k8"), Some(&80));
        for i in (0..1000).step_by(2) {
            assert!(m.remove(&key(i)).is_some());
        }
        assert_eq!(m.remove(b"k0"), None);
        assert_eq!(m.len(), 500);
        assert_eq!(m.iter().count(), 500);
        assert!(m.iter().all(|(k, _)| k[1..].iter().rev().next().is_some_and(|d| (d - b'0') % 2 == 1)));
        let hashes: Vec<u64> = m.iter().map(|(k, _)| key_hash(k)).collect();
        assert!(hashes.windows(2).all(|w| w[0] <= w[1]), "iteration follows the hash order");
    }

    #[test]
    fn a_scan_returns_every_key_present_throughout_while_the_map_grows_and_shrinks() {
        let mut m: HashOrdered<Box<[u8]>, ()> = HashOrdered::new();
        for i in 0..2000 {
            m.insert(key(i), ());
        }
        let mut seen = std::collections::HashSet::new();
        let mut cursor = 0;
        let mut added = 2000;
        loop {
            cursor = m.scan(cursor, 10, |k, _| {
                seen.insert(k.clone());
            });
            // Churn between calls: new keys, and keys 1000.. removed.
            for _ in 0..5 {
                m.insert(key(added), ());
                added += 1;
            }
            if added % 50 == 0 {
                m.remove(&key(1000 + added / 50));
            }
            if cursor == 0 {
                break;
            }
        }
        assert!((0..1000).all(|i| seen.contains(&key(i))));
    }

    #[test]
    fn random_picks_are_fair() {
        let mut m: HashOrdered<Box<[u8]>, usize> = HashOrdered::new();
        let n = 200;
        for i in 0..n {
            m.insert(key(i), i);
        }
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let draws = 200_000;
        let mut hits = vec![0u32; n];
        for _ in 0..draws {
            let (_, &i) = m.random(&mut next).expect("not empty");
            hits[i] += 1;
        }
        // Each key's count is binomial(draws, 1/n): mean 1000, deviation
        // about 32. The first key at a random hash would give keys after
        // wide gaps several times the mean and others almost nothing.
        let (lo, hi) = (hits.iter().min().copied().unwrap_or(0), hits.iter().max().copied().unwrap_or(0));
        assert!(lo > 820 && hi < 1180, "fewest {lo}, most {hi}");
        assert!(HashOrdered::<Box<[u8]>, ()>::new().random(next).is_none());
    }
}
