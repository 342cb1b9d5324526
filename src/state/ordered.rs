//! [`HashOrdered`]: a map from byte strings to values, kept in the order of
//! a seeded hash of the key. The keyspace of each database and the large
//! forms of hashes, sets and sorted sets are such maps.
//!
//! That order is stable while keys come and go, which gives the `SCAN`
//! family its guarantee for free: the cursor is "the next hash to visit",
//! so a key present for the whole scan is returned at least once however
//! the map grows or shrinks, and each call costs in proportion to what it
//! visits. It also gives a fair random pick in constant time
//! ([`HashOrdered::random`]), where a hash table's iterator would need a
//! walk to the chosen position.
//!
//! The map is a table of buckets, as a hash table is, but bucket `i` holds
//! the keys whose hash begins with the bits of `i`, sorted by hash: the
//! buckets in turn hold every key in hash order. A lookup indexes its
//! bucket and searches about eight entries; when the keys average more
//! than eight a bucket, every bucket splits in two (by the next bit of the
//! hash, so the order stays), and when they average less than one, pairs
//! merge. A search tree ordered by hash did the same with a descent of
//! six levels (a keyspace of 200k keys: 667 ns a lookup, 91 ns now; a hash
//! table of 1M fields 256 ns, this map 318 ns).
//!
//! The hash is foldhash's quality hasher: fast on short keys, and seeded at
//! random once per process, so clients cannot choose keys that collide (a
//! collision costs a linear search in its slot).

use foldhash::quality::RandomState;
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

/// Most keys a bucket holds on average before the buckets split.
const SPLIT_AVERAGE: usize = 8;

/// Buckets moved to the next table by each insert or removal while the
/// table resizes: a resize ends long before the next is due, and no single
/// command moves more than a few buckets (one table-wide split of 4M keys
/// took 389 ms at once).
const RESIZE_STEP: usize = 4;

/// An entry: the key's hash, the key, the value.
type Entry<K, V> = (u64, K, V);

/// A map from byte-string keys (`K`: `Box<[u8]>`, `Bytes`) to values,
/// iterated in the order of [`key_hash`] (see the module documentation).
/// Lookups, inserts and removals cost an index and a search of a bucket
/// of about eight entries.
///
/// Resizing is incremental, as Redis rehashes: when the keys average more
/// than eight a bucket (or fewer than one), a second table of twice (or
/// half) as many buckets is started, and each insert or removal moves
/// four more buckets into it, in hash order, until the first is
/// empty. Meanwhile a hash is looked up in the new table if its bucket of
/// the old one has moved, else in the old one; the moved buckets (in the
/// new table) then the rest of the old table hold every key in hash order.
#[derive(Debug, Clone)]
pub struct HashOrdered<K, V> {
    /// `2^bits` buckets (none while the map has never held a key); bucket
    /// `i` holds the entries whose hash's top `bits` bits (of
    /// [`HASH_BITS`]) are `i`, sorted by hash. While resizing, the first
    /// `moved` are empty: their entries are in `next`.
    buckets: Vec<Vec<Entry<K, V>>>,
    bits: u32,
    /// While resizing: the buckets of the table of `next_bits` made so
    /// far, from the first (`next_bits == bits` otherwise, `next` empty).
    next: Vec<Vec<Entry<K, V>>>,
    next_bits: u32,
    /// Buckets of `buckets` already moved into `next`.
    moved: usize,
    len: usize,
}

impl<K, V> Default for HashOrdered<K, V> {
    fn default() -> Self {
        HashOrdered { buckets: Vec::new(), bits: 0, next: Vec::new(), next_bits: 0, moved: 0, len: 0 }
    }
}

/// The bucket of hash `h` in a table of `2^bits` buckets.
fn bucket_index(h: u64, bits: u32) -> usize {
    (h >> (HASH_BITS - bits)) as usize
}

/// The first index of `bucket` (bucket `b` of a table of `2^bits`) whose
/// hash is at least `h`. Hashes are spread evenly over a bucket's range,
/// so the search starts where `h` falls in proportion and steps from there
/// (about one step): one cache miss where a binary search over 72-byte
/// entries took three in turn (`cargo bench --bench core`: lookups in 200k
/// keys 226 -> 91 ns, in a hash of 1M fields 413 -> 318 ns).
fn lower_bound<K, V>(bucket: &[Entry<K, V>], bits: u32, b: usize, h: u64) -> usize {
    let shift = HASH_BITS - bits;
    let offset = h.saturating_sub((b as u64) << shift);
    let guess = ((u128::from(offset) * bucket.len() as u128) >> shift) as usize;
    let mut i = guess.min(bucket.len());
    while i > 0 && bucket[i - 1].0 >= h {
        i -= 1;
    }
    while i < bucket.len() && bucket[i].0 < h {
        i += 1;
    }
    i
}

/// Where an entry lives: which table (`true`: `next`), which bucket.
type Place = (bool, usize);

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

    fn resizing(&self) -> bool {
        self.next_bits != self.bits
    }

    /// The bucket of hash `h`.
    fn place(&self, h: u64) -> Place {
        let b = bucket_index(h, self.bits);
        if self.resizing() && b < self.moved { (true, bucket_index(h, self.next_bits)) } else { (false, b) }
    }

    fn bucket(&self, (in_next, b): Place) -> &[Entry<K, V>] {
        let table = if in_next { &self.next } else { &self.buckets };
        table.get(b).map_or(&[][..], |v| &v[..])
    }

    fn bucket_mut(&mut self, (in_next, b): Place) -> &mut Vec<Entry<K, V>> {
        if in_next { &mut self.next[b] } else { &mut self.buckets[b] }
    }

    fn bits_of(&self, (in_next, _): Place) -> u32 {
        if in_next { self.next_bits } else { self.bits }
    }

    /// Where `key` (of hash `h`) is: `Ok(bucket, index)`, or
    /// `Err(bucket, index)` where it would go.
    fn locate(&self, h: u64, key: &[u8]) -> Result<(Place, usize), (Place, usize)> {
        let at = self.place(h);
        let bucket = self.bucket(at);
        if bucket.is_empty() {
            return Err((at, 0));
        }
        let mut i = lower_bound(bucket, self.bits_of(at), at.1, h);
        while let Some(e) = bucket.get(i).filter(|e| e.0 == h) {
            if e.1.as_ref() == key {
                return Ok((at, i));
            }
            i += 1;
        }
        Err((at, i))
    }

    /// The stored key and value for `key`.
    pub fn get_key_value(&self, key: &[u8]) -> Option<(&K, &V)> {
        let (at, i) = self.locate(key_hash(key), key).ok()?;
        let e = &self.bucket(at)[i];
        Some((&e.1, &e.2))
    }

    /// The value for `key`.
    pub fn get(&self, key: &[u8]) -> Option<&V> {
        self.get_key_value(key).map(|(_, v)| v)
    }

    /// The value for `key`, to change in place.
    pub fn get_mut(&mut self, key: &[u8]) -> Option<&mut V> {
        let (at, i) = self.locate(key_hash(key), key).ok()?;
        Some(&mut self.bucket_mut(at)[i].2)
    }

    /// Whether `key` is present.
    pub fn contains_key(&self, key: &[u8]) -> bool {
        self.locate(key_hash(key), key).is_ok()
    }

    /// Stores `value` under `key`, returning the value it replaced. A new
    /// key is stored as `make_key` makes it (called only then); an existing
    /// key stays as it is, in place.
    pub fn insert_with(&mut self, key: &[u8], value: V, make_key: impl FnOnce() -> K) -> Option<V> {
        let h = key_hash(key);
        match self.locate(h, key) {
            Ok((at, i)) => Some(std::mem::replace(&mut self.bucket_mut(at)[i].2, value)),
            Err((at, i)) => {
                self.add(at, i, (h, make_key(), value));
                None
            }
        }
    }

    /// [`HashOrdered::insert_with`] of an owned key (kept only if new).
    pub fn insert(&mut self, key: K, value: V) -> Option<V> {
        let h = key_hash(key.as_ref());
        match self.locate(h, key.as_ref()) {
            Ok((at, i)) => Some(std::mem::replace(&mut self.bucket_mut(at)[i].2, value)),
            Err((at, i)) => {
                self.add(at, i, (h, key, value));
                None
            }
        }
    }

    /// Puts a new entry at `index` of bucket `at` (as [`Self::locate`]
    /// found them), then moves the resize along.
    fn add(&mut self, at: Place, index: usize, entry: Entry<K, V>) {
        if self.buckets.is_empty() {
            self.buckets.push(Vec::new());
        }
        let bucket = self.bucket_mut(at);
        if bucket.len() == bucket.capacity() {
            // Steps of a quarter, not doubling: buckets are many and small,
            // and a doubled one would be half empty on average.
            bucket.reserve_exact(bucket.len() / 4 + 1);
        }
        bucket.insert(index, entry);
        self.len += 1;
        self.resize_step();
    }

    /// Removes `key`, returning its value.
    pub fn remove(&mut self, key: &[u8]) -> Option<V> {
        let (at, i) = self.locate(key_hash(key), key).ok()?;
        let (_, _, value) = self.bucket_mut(at).remove(i);
        self.len -= 1;
        if self.len == 0 {
            self.clear();
        } else {
            self.resize_step();
        }
        Some(value)
    }

    /// Starts a resize when the keys average more than [`SPLIT_AVERAGE`] a
    /// bucket or fewer than one, and moves a started one along by
    /// [`RESIZE_STEP`] buckets.
    fn resize_step(&mut self) {
        if !self.resizing() {
            let bits = if self.len > SPLIT_AVERAGE << self.bits && self.bits < HASH_BITS {
                self.bits + 1
            } else if self.bits > 0 && self.len < 1 << self.bits {
                self.bits - 1
            } else {
                return;
            };
            self.next_bits = bits;
            self.moved = 0;
            self.next = Vec::with_capacity(1 << bits);
        }
        let split = self.next_bits > self.bits;
        for _ in 0..RESIZE_STEP {
            if self.moved == self.buckets.len() {
                self.buckets = std::mem::take(&mut self.next);
                self.bits = self.next_bits;
                self.moved = 0;
                return;
            }
            if split {
                // Each bucket splits in two by the next bit of the hash.
                let shift = HASH_BITS - self.next_bits;
                let mut low = std::mem::take(&mut self.buckets[self.moved]);
                let at = low.partition_point(|e| (e.0 >> shift) & 1 == 0);
                let high = low.split_off(at);
                low.shrink_to(low.len() * 5 / 4);
                self.next.push(low);
                self.next.push(high);
                self.moved += 1;
            } else {
                // Pairs merge; the first holds the lower hashes.
                let mut low = std::mem::take(&mut self.buckets[self.moved]);
                low.append(&mut self.buckets[self.moved + 1]);
                self.next.push(low);
                self.moved += 2;
            }
        }
    }

    /// Removes every key.
    pub fn clear(&mut self) {
        *self = Self::default();
    }

    /// The buckets in hash order: the moved ones, then the rest.
    #[cfg(test)]
    fn ordered_buckets(&self) -> impl Iterator<Item = &Vec<Entry<K, V>>> {
        let rest = if self.resizing() { self.moved } else { 0 };
        self.next.iter().chain(self.buckets[rest.min(self.buckets.len())..].iter())
    }

    /// Every key and value, in hash order.
    pub fn iter(&self) -> Iter<'_, K, V> {
        let rest = if self.resizing() { self.moved } else { 0 };
        Iter {
            first: self.next.iter(),
            second: self.buckets[rest.min(self.buckets.len())..].iter(),
            entries: [].iter(),
            left: self.len,
        }
    }

    /// A map of the same keys in the same order, each key and value made
    /// by `f` (no hashing, no search).
    pub fn map_entries<K2, V2>(&self, mut f: impl FnMut(&K, &V) -> (K2, V2)) -> HashOrdered<K2, V2> {
        let mut map_table = |table: &Vec<Vec<Entry<K, V>>>| -> Vec<Vec<Entry<K2, V2>>> {
            table
                .iter()
                .map(|b| {
                    b.iter()
                        .map(|(h, k, v)| {
                            let (k, v) = f(k, v);
                            (*h, k, v)
                        })
                        .collect()
                })
                .collect()
        };
        let next = map_table(&self.next);
        let buckets = map_table(&self.buckets);
        HashOrdered { buckets, bits: self.bits, next, next_bits: self.next_bits, moved: self.moved, len: self.len }
    }

    /// The keys (and values) whose hash is `h`.
    pub fn with_hash(&self, h: u64) -> impl Iterator<Item = (&K, &V)> {
        let at = self.place(h);
        let bucket = self.bucket(at);
        let start = if bucket.is_empty() { 0 } else { lower_bound(bucket, self.bits_of(at), at.1, h) };
        bucket[start..].iter().take_while(move |e| e.0 == h).map(|(_, k, v)| (k, v))
    }

    /// Visits keys from `cursor` on in hash order until `visit` has seen
    /// the keys of at least `count` hashes; returns the cursor to continue
    /// from (0: done).
    pub fn scan(&self, cursor: u64, count: usize, mut visit: impl FnMut(&K, &V)) -> u64 {
        if self.buckets.is_empty() {
            return 0;
        }
        let at = self.place(cursor.min((1 << HASH_BITS) - 1));
        let first = self.bucket(at);
        let start = lower_bound(first, self.bits_of(at), at.1, cursor);
        // The buckets from `at` on, in hash order.
        let (from_next, from_rest) = match at {
            (true, b) => (b, self.moved),
            (false, b) => (self.next.len(), b),
        };
        let buckets = self.next[from_next.min(self.next.len())..].iter().chain(self.buckets[from_rest..].iter());
        let mut seen = 0;
        let mut last = None;
        for (n, bucket) in buckets.enumerate() {
            for (h, k, v) in &bucket[if n == 0 { start } else { 0 }..] {
                if last != Some(*h) {
                    if seen == count {
                        return *h;
                    }
                    seen += 1;
                    last = Some(*h);
                }
                visit(k, v);
            }
        }
        0
    }

    /// A key chosen at random, each with the same chance, drawing random
    /// numbers from `next`: a random position of the finer table's buckets
    /// is drawn, and the bucket holding it (of either table while
    /// resizing, covering `w` positions and holding `k` keys) taken with
    /// probability `k / (FAIR_BUCKET × w)` (else another is drawn: 4 to 32
    /// draws on average, as buckets hold 8 to 1 keys), then one of its keys
    /// at random: every key has the same chance, `1 / (positions ×
    /// FAIR_BUCKET)`. (Keys of a bucket holding more than `FAIR_BUCKET`
    /// would have less: with 8 keys a bucket on average, about one bucket
    /// in 10^10.) The first key after a random hash would favour the keys
    /// after wide gaps.
    pub fn random(&self, mut next: impl FnMut() -> u64) -> Option<(&K, &V)> {
        const FAIR_BUCKET: u64 = 32;
        if self.len == 0 {
            return None;
        }
        let fine = self.bits.max(self.next_bits);
        loop {
            let position = next() % (1u64 << fine);
            let at = self.place(position << (HASH_BITS - fine));
            let width = 1u64 << (fine - self.bits_of(at));
            let bucket = self.bucket(at);
            let k = bucket.len() as u64;
            if k > 0 && next() % (FAIR_BUCKET * width) < k {
                let (_, key, value) = &bucket[(next() % k) as usize];
                return Some((key, value));
            }
        }
    }

    /// Files `all` under the hash `h`, as if their keys collided (a
    /// collision of the seeded hash cannot be chosen).
    #[cfg(test)]
    pub(crate) fn place_colliding(&mut self, h: u64, all: Vec<(K, V)>) {
        for (k, v) in all {
            let (at, i) = match self.locate(h, k.as_ref()) {
                Ok(_) => panic!("placed twice"),
                Err(at) => at,
            };
            self.add(at, i, (h, k, v));
        }
    }

    /// Takes out every key filed under the hash `h`.
    #[cfg(test)]
    pub(crate) fn take_hash(&mut self, h: u64) -> Vec<(K, V)> {
        let at = self.place(h);
        if self.bucket(at).is_empty() {
            return Vec::new();
        }
        let bits = self.bits_of(at);
        let start = lower_bound(self.bucket(at), bits, at.1, h);
        let bucket = self.bucket_mut(at);
        let end = start + bucket[start..].iter().take_while(|e| e.0 == h).count();
        let all: Vec<(K, V)> = bucket.drain(start..end).map(|(_, k, v)| (k, v)).collect();
        self.len -= all.len();
        all
    }

    /// Checks the structure: every entry in the bucket its hash names,
    /// buckets sorted, the count right, hash order overall.
    #[cfg(test)]
    pub(crate) fn check(&self) {
        let mut n = 0;
        let mut prev = 0;
        for bucket in self.ordered_buckets() {
            for e in bucket {
                assert!(e.0 >= prev, "hash order");
                prev = e.0;
                let at = self.place(e.0);
                assert!(std::ptr::eq(self.bucket(at).as_ptr(), bucket.as_ptr()), "entry in its bucket");
                n += 1;
            }
        }
        assert_eq!(n, self.len);
        if !self.resizing() && !self.buckets.is_empty() {
            assert_eq!(self.buckets.len(), 1 << self.bits);
        }
    }
}

impl<K: AsRef<[u8]>, V> FromIterator<(K, V)> for HashOrdered<K, V> {
    /// A map of `iter`'s pairs (a repeated key takes the last value),
    /// sorted by hash once and dealt into buckets, rather than searched
    /// and inserted key by key.
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut all: Vec<Entry<K, V>> = iter.into_iter().map(|(k, v)| (key_hash(k.as_ref()), k, v)).collect();
        // Stable: of a repeated key, the last comes last.
        all.sort_by_key(|e| e.0);
        // Repeats out first (equal hashes are adjacent, a repeated key among
        // them), so that the buckets are as many as the keys call for.
        let mut unique: Vec<Entry<K, V>> = Vec::with_capacity(all.len());
        for (h, k, v) in all {
            let run = unique.len() - unique.iter().rev().take_while(|e| e.0 == h).count();
            match unique[run..].iter_mut().find(|e| e.1.as_ref() == k.as_ref()) {
                Some(e) => e.2 = v,
                None => unique.push((h, k, v)),
            }
        }
        let mut map: HashOrdered<K, V> = HashOrdered::new();
        if unique.is_empty() {
            return map;
        }
        while map.bits < HASH_BITS && unique.len() > SPLIT_AVERAGE << map.bits {
            map.bits += 1;
        }
        map.next_bits = map.bits;
        map.len = unique.len();
        map.buckets.resize_with(1 << map.bits, Vec::new);
        for e in unique {
            let b = bucket_index(e.0, map.bits);
            map.buckets[b].push(e);
        }
        map
    }
}

/// The iterator of [`HashOrdered::iter`]: keys and values in hash order.
pub struct Iter<'a, K, V> {
    /// The buckets moved to the next table while resizing (else none).
    first: std::slice::Iter<'a, Vec<Entry<K, V>>>,
    /// The current table's buckets not moved.
    second: std::slice::Iter<'a, Vec<Entry<K, V>>>,
    /// The rest of the current bucket.
    entries: std::slice::Iter<'a, Entry<K, V>>,
    left: usize,
}

impl<'a, K, V> Iterator for Iter<'a, K, V> {
    type Item = (&'a K, &'a V);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some((_, k, v)) = self.entries.next() {
                self.left -= 1;
                return Some((k, v));
            }
            let bucket = self.first.next().or_else(|| self.second.next())?;
            self.entries = bucket.iter();
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl<K, V> ExactSizeIterator for Iter<'_, K, V> {}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(i: usize) -> Box<[u8]> {
        format!("k{i}").into_bytes().into_boxed_slice()
    }

    #[test]
    fn an_entry_of_a_boxed_key_and_a_48_byte_value_takes_72_bytes() {
        // The keyspace's entries: hash, key handle, `Entry`.
        assert_eq!(std::mem::size_of::<(u64, Box<[u8]>, [u64; 6])>(), 72);
    }

    #[test]
    fn keys_sharing_a_hash_are_told_apart_by_their_bytes() {
        let mut m: HashOrdered<Box<[u8]>, u32> = HashOrdered::new();
        for i in 0..100 {
            m.insert(key(i), 0);
        }
        // k1000 and k1001 filed under the hash of k5, as a collision would.
        let h = key_hash(b"k5");
        m.place_colliding(h, vec![(key(1000), 1), (key(1001), 2)]);
        assert_eq!(m.len(), 102);
        assert_eq!(m.with_hash(h).count(), 3);
        let colliding = |m: &HashOrdered<Box<[u8]>, u32>, k: &[u8]| {
            let (at, i) = m.locate(h, k).ok()?;
            Some(m.bucket(at)[i].2)
        };
        m.check();
        assert_eq!(colliding(&m, b"k1001"), Some(2));
        assert_eq!(colliding(&m, b"k5"), Some(0));
        assert_eq!(colliding(&m, b"k1002"), None);
        let all = m.take_hash(h);
        assert_eq!(all.len(), 3);
        assert_eq!(m.len(), 99);
        assert_eq!(m.get(b"k5"), None);
    }

    #[test]
    fn the_proportional_search_finds_what_a_binary_search_finds() {
        let mut m: HashOrdered<Box<[u8]>, ()> = HashOrdered::new();
        let mut x = 0x1234_5678_9abc_def1u64;
        for n in [1usize, 2, 9, 100, 3000] {
            while m.len() < n {
                m.insert(key(m.len() * 7 + n), ());
            }
            for _ in 0..2000 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                // Random hashes, the bucket's own bounds, and existing hashes.
                let at = m.place(x >> (64 - HASH_BITS));
                let (bits, b) = (m.bits_of(at), at.1);
                let shift = HASH_BITS - bits;
                let lo = (b as u64) << shift;
                let bucket = m.bucket(at);
                let existing = bucket.get((x >> 40) as usize % bucket.len().max(1)).map_or(lo, |e| e.0);
                for h in [lo, lo + (x % (1 << shift)), lo + (1 << shift) - 1, existing, existing + 1] {
                    let found = lower_bound(bucket, bits, b, h);
                    assert_eq!(found, bucket.partition_point(|e| e.0 < h), "bucket {b}, hash {h}");
                }
            }
        }
    }

    #[test]
    fn buckets_split_as_keys_come_and_merge_as_they_go() {
        let mut m: HashOrdered<Box<[u8]>, usize> = HashOrdered::new();
        let mut resizes = 0;
        for i in 0..10_000 {
            let was = m.resizing();
            m.insert(key(i), i);
            resizes += usize::from(!was && m.resizing());
            // A resize ends before the next one is due.
            assert!(m.len() <= (2 * SPLIT_AVERAGE) << m.bits);
            if i % 97 == 0 {
                m.check();
            }
        }
        m.check();
        assert!(m.bits >= 10 && resizes >= 8, "{} bits, {resizes} resizes", m.bits);
        for i in 0..10_000 {
            assert_eq!(m.get(&key(i)), Some(&i));
        }
        for i in 0..9_990 {
            assert_eq!(m.remove(&key(i)), Some(i));
            if i % 97 == 0 {
                m.check();
            }
        }
        m.check();
        assert!(m.bits <= 4);
        assert_eq!(m.iter().map(|(_, &v)| v).collect::<std::collections::BTreeSet<_>>().len(), 10);
        for i in 9_990..10_000 {
            assert_eq!(m.get(&key(i)), Some(&i));
            m.remove(&key(i));
        }
        assert!(m.is_empty() && m.buckets.is_empty());
        let built: HashOrdered<Box<[u8]>, usize> = (0..5000).map(|i| (key(i % 4000), i)).collect();
        assert_eq!(built.len(), 4000);
        built.check();
        // Buckets for the keys, not for the pairs given (repeats included).
        let two: HashOrdered<Box<[u8]>, usize> = (0..100_000).map(|i| (key(i % 2), i)).collect();
        assert_eq!((two.len(), two.bits), (2, 0));
        assert_eq!(two.get(b"k1"), Some(&99_999));
        assert_eq!(built.get(b"k7"), Some(&4007), "the last of a repeated key");
        let hashes: Vec<u64> = built.iter().map(|(k, _)| key_hash(k)).collect();
        assert!(hashes.windows(2).all(|w| w[0] <= w[1]));
        assert!(built.len() <= SPLIT_AVERAGE << built.bits);
    }

    #[test]
    fn every_operation_works_in_the_middle_of_a_resize() {
        let mut m: HashOrdered<Box<[u8]>, usize> = HashOrdered::new();
        let mut model = std::collections::HashMap::new();
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut mid_resize = 0;
        for step in 0..60_000usize {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            // Grow to ~8k keys, shrink to ~0, grow again.
            let target = if (step / 20_000) % 2 == 0 { 8_000 } else { 10 };
            let k = key((x % 12_000) as usize);
            if model.len() < target && !x.is_multiple_of(3) {
                assert_eq!(m.insert(k.clone(), step), model.insert(k, step));
            } else {
                assert_eq!(m.remove(&k), model.remove(&k));
            }
            if m.resizing() {
                mid_resize += 1;
                if step % 13 == 0 {
                    m.check();
                    assert_eq!(m.iter().count(), model.len());
                    // A full scan in the middle of a resize sees every key once.
                    let mut seen = std::collections::HashSet::new();
                    let mut cursor = 0;
                    loop {
                        cursor = m.scan(cursor, 7, |k, _| assert!(seen.insert(k.clone())));
                        if cursor == 0 {
                            break;
                        }
                    }
                    assert_eq!(seen.len(), model.len());
                    let picked = m.random(|| {
                        x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
                        x >> 11
                    });
                    assert!(picked.is_some_and(|(k, _)| model.contains_key(k)));
                }
            }
        }
        assert!(mid_resize > 300, "{mid_resize}");
        m.check();
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
        assert!(m.iter().all(|(k, _)| k.last().is_some_and(|d| (d - b'0') % 2 == 1)));
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
