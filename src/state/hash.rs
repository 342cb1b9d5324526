//! Hash values: one packed buffer while small, a hash-ordered map once large.
//!
//! Most hashes hold a few short fields. A hash table for each of them costs
//! its load-factor slack and control bytes on top of the entries, and a
//! `Bytes` handle per field and value costs 32 bytes plus an allocation of
//! its own. So a small hash is ONE byte buffer, each field followed by its
//! value, each with a one-byte length (a `compact::Packed<2>`, see
//! `state/compact.rs` for the layout), in insertion order and searched
//! linearly, as Redis keeps small hashes in one listpack. Ten fields of a
//! dozen bytes take one allocation of about 300 bytes.
//! It turns into a [`HashOrdered`] map (ordered by a seeded hash of the
//! field, so that `HSCAN` can resume where it stopped and `HRANDFIELD` can
//! pick fairly in logarithmic time) as soon as it holds more than
//! [`COMPACT_MAX_ENTRIES`] fields or a field or value longer than
//! [`COMPACT_MAX_BYTES`] bytes, and never turns back.
//!
//! Redis's own limits are 512 fields ([`LISTPACK_MAX_ENTRIES`], its default
//! `hash-max-listpack-entries`) and 64 bytes (`hash-max-listpack-value`);
//! it too never turns back. A linear search through 512 pairs costs a third
//! of the throughput of `HGET`/`HSET`, so the compact form stops at 128 and
//! a large hash remembers whether Redis would still hold it in a listpack,
//! for `OBJECT ENCODING` ([`Hash::is_listpack`]).
//!
//! Reads hand out `&[u8]`: the packed form has no `Bytes` to lend. A reply
//! copies what it sends, so nothing in the keyspace is ever shared by a
//! read (long values of the large form are copied too, as Redis copies
//! them into its reply buffer).

use bytes::Bytes;
use std::fmt;

use super::compact::{Entries, Packed, Shown};
use super::ordered::{self, HashOrdered};
use super::value::stored;

/// Most fields a compact hash holds (a search scans at most this many).
pub const COMPACT_MAX_ENTRIES: usize = 128;

/// Most fields of a hash that Redis 7.0 keeps in a listpack: its default
/// `hash-max-listpack-entries` (512; `zset-max-listpack-entries` is 128).
pub const LISTPACK_MAX_ENTRIES: usize = 512;

/// Longest field, value or set member (in bytes) a compact collection
/// holds: Redis's default `hash-max-listpack-value`.
pub const COMPACT_MAX_BYTES: usize = 64;

const _: () = assert!(COMPACT_MAX_BYTES <= super::compact::MAX_PART);

/// Whether a field or value of `len` bytes may stay in a compact collection.
fn fits(len: usize) -> bool {
    len <= COMPACT_MAX_BYTES
}

/// A hash value: fields mapped to values (see the module documentation for
/// its two representations). Its API follows `HashMap`'s names, with
/// slices out: [`Hash::get`] and the iterators lend `&[u8]`.
///
/// There is no `get_mut`: a value changed in place could outgrow the
/// compact limits unnoticed. Replace a value with [`Hash::insert`].
#[derive(Clone)]
pub struct Hash(Repr);

/// The two representations of a [`Hash`].
#[derive(Clone)]
enum Repr {
    /// At most [`COMPACT_MAX_ENTRIES`] pairs `[field, value]`, each part at
    /// most [`COMPACT_MAX_BYTES`] long, in insertion order.
    Small(Packed<2>),
    /// Any size.
    Large(Box<Large>),
}

/// A hash past the compact limits.
#[derive(Clone)]
struct Large {
    /// The pairs.
    map: HashOrdered<Bytes, Bytes>,
    /// Whether Redis would still hold this hash in a listpack: it grew past
    /// [`COMPACT_MAX_ENTRIES`] but never past [`LISTPACK_MAX_ENTRIES`] fields
    /// nor stored a field or value past [`COMPACT_MAX_BYTES`].
    listpack: bool,
}

impl Large {
    /// Sets `field` to `value` (kept by the keyspace's rule, [`stored`]);
    /// whether the field was new.
    fn insert(&mut self, field: &Bytes, value: &Bytes) -> bool {
        let new = self.map.insert_with(field, stored(value), || stored(field)).is_none();
        self.note(field.len(), value.len());
        new
    }

    /// [`Large::insert`] of owned bytes, kept as they are.
    fn insert_owned(&mut self, field: Bytes, value: Bytes) {
        let lens = (field.len(), value.len());
        self.map.insert(field, value);
        self.note(lens.0, lens.1);
    }

    /// Notes that a field and a value of these lengths were stored.
    fn note(&mut self, field_len: usize, value_len: usize) {
        if !fits(field_len) || !fits(value_len) || self.map.len() > LISTPACK_MAX_ENTRIES {
            self.listpack = false;
        }
    }
}

impl Default for Hash {
    fn default() -> Hash {
        Hash(Repr::Small(Packed::default()))
    }
}

impl Hash {
    /// An empty hash (compact, nothing allocated).
    pub fn new() -> Hash {
        Hash::default()
    }

    /// Whether the hash uses its compact representation.
    pub fn is_compact(&self) -> bool {
        matches!(self.0, Repr::Small(_))
    }

    /// Whether Redis 7.0 (default limits) would hold this hash in a
    /// listpack, given the same history: `OBJECT ENCODING` reports
    /// `listpack` if so, `hashtable` if not. True while compact; once
    /// large, until it holds more than [`LISTPACK_MAX_ENTRIES`] fields or
    /// stores a field or value longer than [`COMPACT_MAX_BYTES`], then never
    /// again.
    pub fn is_listpack(&self) -> bool {
        match &self.0 {
            Repr::Small(_) => true,
            Repr::Large(l) => l.listpack,
        }
    }

    /// The number of fields.
    pub fn len(&self) -> usize {
        match &self.0 {
            Repr::Small(p) => p.len(),
            Repr::Large(l) => l.map.len(),
        }
    }

    /// Whether the hash has no fields.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The value of `field`.
    pub fn get(&self, field: &[u8]) -> Option<&[u8]> {
        match &self.0 {
            Repr::Small(p) => p.find(field).map(|at| p.get(at, 1)),
            Repr::Large(l) => l.map.get(field).map(|v| &v[..]),
        }
    }

    /// Whether `field` is present.
    pub fn contains_key(&self, field: &[u8]) -> bool {
        match &self.0 {
            Repr::Small(p) => p.find(field).is_some(),
            Repr::Large(l) => l.map.contains_key(field),
        }
    }

    /// Sets `field` to `value`; whether the field was new (an existing
    /// field keeps its place). One search. The compact form copies both
    /// into its buffer; the large form keeps them by the keyspace's rule
    /// ([`stored`]: short bytes copied, long ones shared).
    pub fn insert(&mut self, field: &Bytes, value: &Bytes) -> bool {
        if let Repr::Small(p) = &mut self.0 {
            match p.find(field) {
                Some(at) if fits(value.len()) => {
                    p.set(at, 1, value);
                    return false;
                }
                None if p.len() < COMPACT_MAX_ENTRIES && fits(field.len()) && fits(value.len()) => {
                    p.push([field, value]);
                    return true;
                }
                // The new field or value does not fit: past the limits.
                _ => self.make_large(),
            }
        }
        let Repr::Large(l) = &mut self.0 else { unreachable!("made large above") };
        l.insert(field, value)
    }

    /// Removes `field`; whether it was present. The compact form keeps the
    /// order of the remaining fields.
    pub fn remove(&mut self, field: &[u8]) -> bool {
        match &mut self.0 {
            Repr::Small(p) => {
                let Some(at) = p.find(field) else { return false };
                p.remove(at);
                true
            }
            Repr::Large(l) => l.map.remove(field).is_some(),
        }
    }

    /// Visits the pairs of an `HSCAN` call from `cursor` on: every pair at
    /// once while Redis would hold the hash in a listpack
    /// ([`Hash::is_listpack`]: Redis answers such a hash whole, whatever
    /// the cursor), about `count` of a larger one; returns the cursor to go
    /// on from (0: done).
    pub fn scan(&self, cursor: u64, count: usize, mut visit: impl FnMut(&[u8], &[u8])) -> u64 {
        match &self.0 {
            Repr::Large(l) if !l.listpack => l.map.scan(cursor, count, |f, v| visit(f, v)),
            _ => {
                self.iter().for_each(|(f, v)| visit(f, v));
                0
            }
        }
    }

    /// A pair chosen at random, each with the same chance, drawing random
    /// numbers from `next`; `None` if empty. O(1) once large.
    pub fn random(&self, mut next: impl FnMut() -> u64) -> Option<(&[u8], &[u8])> {
        match &self.0 {
            Repr::Small(p) if p.len() > 0 => p.iter().nth((next() % p.len() as u64) as usize).map(|[f, v]| (f, v)),
            Repr::Small(_) => None,
            Repr::Large(l) => l.map.random(next).map(|(f, v)| (&f[..], &v[..])),
        }
    }

    /// Every `(field, value)` pair: in insertion order while compact, in
    /// hash order once large.
    pub fn iter(&self) -> Iter<'_> {
        Iter(match &self.0 {
            Repr::Small(p) => IterRepr::Small(p.iter()),
            Repr::Large(l) => IterRepr::Large(l.map.iter()),
        })
    }

    /// Every field, in the order of [`Hash::iter`].
    pub fn keys(&self) -> impl Iterator<Item = &[u8]> {
        self.iter().map(|(f, _)| f)
    }

    /// Every value, in the order of [`Hash::iter`].
    pub fn values(&self) -> impl Iterator<Item = &[u8]> {
        self.iter().map(|(_, v)| v)
    }

    /// A copy for the keyspace, in the same representation (a hash that
    /// grew large stays large, and its [`Hash::is_listpack`] stays the
    /// same, as Redis's copy of a hash keeps its encoding): the compact
    /// form's buffer copied exactly, the large form's bytes by [`stored`].
    pub fn to_stored(&self) -> Hash {
        Hash(match &self.0 {
            Repr::Small(p) => Repr::Small(p.clone()),
            Repr::Large(l) => {
                let map = l.map.map_entries(|k, x| (stored(k), stored(x)));
                Repr::Large(Box::new(Large { map, listpack: l.listpack }))
            }
        })
    }

    /// Whether no field or value of the large form shares its buffer (the
    /// compact form owns its one buffer): what the keyspace's tests check
    /// of everything it holds.
    #[cfg(test)]
    pub(crate) fn shares_nothing(&self) -> bool {
        match &self.0 {
            Repr::Small(_) => true,
            Repr::Large(l) => l.map.iter().all(|(f, v)| f.is_unique() && v.is_unique()),
        }
    }

    /// Switches to the large representation (no-op if already large).
    fn make_large(&mut self) {
        if let Repr::Small(p) = &self.0 {
            let mut m = HashOrdered::new();
            for [f, v] in p.iter() {
                m.insert(Bytes::copy_from_slice(f), Bytes::copy_from_slice(v));
            }
            // Every pair fits so far; `Large::insert` clears this if the
            // pair that made the hash large does not.
            self.0 = Repr::Large(Box::new(Large { map: m, listpack: true }));
        }
    }
}

/// The iterator of [`Hash::iter`].
pub struct Iter<'a>(IterRepr<'a>);

/// The representation-specific iterator inside [`Iter`].
enum IterRepr<'a> {
    /// Over the packed buffer.
    Small(Entries<'a, 2>),
    /// Over the hash-ordered map.
    Large(ordered::Iter<'a, Bytes, Bytes>),
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a [u8], &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.0 {
            IterRepr::Small(it) => it.next().map(|[f, v]| (f, v)),
            IterRepr::Large(it) => it.next().map(|(f, v)| (&f[..], &v[..])),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match &self.0 {
            IterRepr::Small(it) => it.size_hint(),
            IterRepr::Large(it) => it.size_hint(),
        }
    }

    /// Skips by length bytes alone on the compact form (so picking a
    /// random field is cheap).
    fn nth(&mut self, n: usize) -> Option<Self::Item> {
        match &mut self.0 {
            IterRepr::Small(it) => it.nth(n).map(|[f, v]| (f, v)),
            IterRepr::Large(it) => it.nth(n).map(|(f, v)| (&f[..], &v[..])),
        }
    }
}

impl ExactSizeIterator for Iter<'_> {}

impl<'a> IntoIterator for &'a Hash {
    type Item = (&'a [u8], &'a [u8]);
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

impl FromIterator<(Bytes, Bytes)> for Hash {
    /// Builds a hash as repeated [`Hash::insert`]s would (but the large
    /// form keeps the owned bytes as they are): a repeated field takes the
    /// last value, the representation follows the limits.
    fn from_iter<I: IntoIterator<Item = (Bytes, Bytes)>>(iter: I) -> Hash {
        let mut h = Hash::new();
        h.extend(iter);
        h
    }
}

impl Extend<(Bytes, Bytes)> for Hash {
    fn extend<I: IntoIterator<Item = (Bytes, Bytes)>>(&mut self, iter: I) {
        for (f, v) in iter {
            match &mut self.0 {
                // Owned: moved in as they are, as `HashMap::extend` does.
                Repr::Large(l) => l.insert_owned(f, v),
                Repr::Small(_) => {
                    self.insert(&f, &v);
                }
            }
        }
    }
}

impl PartialEq for Hash {
    /// Equal as maps: the same fields with the same values, whatever the
    /// order or representation.
    fn eq(&self, other: &Hash) -> bool {
        self.len() == other.len() && self.iter().all(|(f, v)| other.get(f) == Some(v))
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter().map(|(k, v)| (Shown(k), Shown(v)))).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap as StdMap;

    fn b(s: &str) -> Bytes {
        Bytes::copy_from_slice(s.as_bytes())
    }

    fn x(n: usize) -> Bytes {
        Bytes::from(vec![b'x'; n])
    }

    /// The packed buffer's bytes in use and its capacity.
    fn footprint(h: &Hash) -> (usize, usize) {
        let Repr::Small(p) = &h.0 else { panic!("not compact") };
        p.footprint()
    }

    #[test]
    fn switches_to_large_past_128_fields_and_stays_large() {
        let mut h = Hash::new();
        for i in 0..COMPACT_MAX_ENTRIES {
            assert!(h.insert(&b(&format!("f{i}")), &b("v")));
        }
        assert!(h.is_compact() && h.is_listpack());
        assert!(!h.insert(&b("f0"), &b("w")), "replacing keeps it compact");
        assert!(h.is_compact());
        assert_eq!(h.len(), 128);
        h.insert(&b("one-more"), &b("v"));
        assert!(!h.is_compact());
        assert!(h.is_listpack(), "Redis keeps up to 512 fields in a listpack");
        assert_eq!(h.len(), 129);
        assert_eq!(h.get(b"f0"), Some(&b"w"[..]));
        for i in 0..COMPACT_MAX_ENTRIES {
            assert!(h.remove(format!("f{i}").as_bytes()));
        }
        assert_eq!(h.len(), 1);
        assert!(!h.is_compact(), "a large hash never turns compact again");
        assert!(h.is_listpack());
    }

    #[test]
    fn stops_being_a_listpack_past_512_fields_for_good() {
        let mut h: Hash = (0..LISTPACK_MAX_ENTRIES).map(|i| (b(&format!("f{i}")), b("v"))).collect();
        assert!(h.is_listpack());
        h.insert(&b("f0"), &b("w"));
        assert!(h.is_listpack(), "replacing a value adds no field");
        h.insert(&b("f512"), &b("v"));
        assert!(!h.is_listpack());
        h.remove(b"f512");
        assert!(!h.is_listpack(), "never back, as in Redis");
        assert!(!h.to_stored().is_listpack(), "a copy keeps it");
        let mut h: Hash = (0..200).map(|i| (b(&format!("f{i}")), b("v"))).collect();
        assert!(h.is_listpack() && h.to_stored().is_listpack());
        assert!(!h.insert(&b("f1"), &x(64)));
        assert!(h.is_listpack());
        assert!(!h.insert(&b("f1"), &x(65)));
        assert!(!h.is_listpack());
        let mut h: Hash = (0..200).map(|i| (b(&format!("f{i}")), b("v"))).collect();
        h.insert(&x(65), &b("v"));
        assert!(!h.is_listpack(), "long field");
    }

    #[test]
    fn switches_to_large_at_65_bytes() {
        let mut h = Hash::new();
        h.insert(&x(64), &x(64));
        assert!(h.is_compact());
        assert_eq!(footprint(&h).0, 130);
        h.insert(&b("f"), &x(65));
        assert!(!h.is_compact() && !h.is_listpack(), "long value");
        assert_eq!(h.get(&x(64)), Some(&x(64)[..]));

        let mut h = Hash::new();
        h.insert(&b("f"), &b("v"));
        h.insert(&x(65), &b("v"));
        assert!(!h.is_compact() && !h.is_listpack(), "long field");

        let mut h = Hash::new();
        h.insert(&b("f"), &b("v"));
        assert!(!h.insert(&b("f"), &x(65)));
        assert!(!h.is_compact() && !h.is_listpack(), "an existing field given a long value");
        assert_eq!(h.get(b"f"), Some(&x(65)[..]));
        assert_eq!(h.len(), 1);
    }

    #[test]
    fn ten_short_fields_take_one_buffer_with_little_spare_room() {
        let mut h = Hash::new();
        for i in 0..10 {
            h.insert(&b(&format!("field:{i:06}")), &b("value"));
        }
        // One length byte per part, nothing else: no handles, no tags.
        let (used, capacity) = footprint(&h);
        assert_eq!(used, 10 * (1 + 12 + 1 + 5));
        assert!(capacity <= used + used / 8, "{capacity} bytes allocated for {used}");
        // ... held by a value no bigger than a string's handle.
        assert!(std::mem::size_of::<Hash>() <= std::mem::size_of::<Bytes>());
        // A copy for the keyspace is exact.
        assert_eq!(footprint(&h.to_stored()), (used, used));
    }

    #[test]
    fn compact_form_keeps_insertion_order_and_little_spare_room() {
        let mut h = Hash::new();
        for f in ["c", "a", "b", "d"] {
            h.insert(&b(f), &b("1"));
        }
        h.remove(b"a");
        h.insert(&b("c"), &b("2"));
        assert_eq!(h.keys().collect::<Vec<_>>(), [b"c", b"b", b"d"]);
        assert_eq!(h.values().collect::<Vec<_>>(), [b"2", b"1", b"1"]);
        assert_eq!(h.iter().nth(1), Some((&b"b"[..], &b"1"[..])));
        let mut h = Hash::new();
        for i in 0..100 {
            h.insert(&b(&i.to_string()), &b("v"));
            let (used, capacity) = footprint(&h);
            assert!(capacity <= used + used / 8, "{capacity} of {used}");
        }
        for i in 0..95 {
            h.remove(i.to_string().as_bytes());
        }
        let (used, capacity) = footprint(&h);
        assert!(capacity <= used + used / 4 + 32, "{capacity} of {used}");
        for i in 95..100 {
            h.insert(&b(&i.to_string()), &x(64));
        }
        for i in 95..100 {
            h.insert(&b(&i.to_string()), &b(""));
        }
        let (used, capacity) = footprint(&h);
        assert!(capacity <= used + used / 4 + 32, "shrinking values gives room back: {capacity} of {used}");
    }

    #[test]
    fn equality_ignores_order_and_representation() {
        let a: Hash = [(b("x"), b("1")), (b("y"), b("2"))].into_iter().collect();
        let b2: Hash = [(b("y"), b("2")), (b("x"), b("1"))].into_iter().collect();
        assert_eq!(a, b2);
        let mut large = a.clone();
        large.insert(&x(100), &b("3"));
        large.remove(&x(100));
        assert!(!large.is_compact());
        assert_eq!(a, large);
        let c: Hash = [(b("x"), b("1")), (b("y"), b("3"))].into_iter().collect();
        assert_ne!(a, c);
        assert_eq!(format!("{a:?}"), r#"{b"x": b"1", b"y": b"2"}"#);
        let copy = large.to_stored();
        assert!(!copy.is_compact());
        assert_eq!(copy, a);
    }

    /// One step of the model test.
    #[derive(Debug, Clone)]
    enum Op {
        /// Set field `.0` to a value of `.1` bytes.
        Insert(u16, usize),
        /// Set fields `.0..(.0 + .1)` to short values (to cross 128 and 512 fields).
        Fill(u16, u16),
        Remove(u16),
        Get(u16),
        /// Remove every field, one by one (the buffer empties, to be refilled).
        Clear,
    }

    fn op() -> impl Strategy<Value = Op> {
        // Value lengths straddle the 64-byte limit; fields from 600 on are
        // 58 to 64 bytes long, from 700 on past 64. Long ones are rare
        // enough that many runs cross 128, even 512, fields first.
        prop_oneof![
            6 => (0u16..703, prop_oneof![30 => 0usize..8, 1 => 58usize..70]).prop_map(|(f, n)| Op::Insert(f, n)),
            2 => (0u16..700, 0u16..200).prop_map(|(f, n)| Op::Fill(f, n.min(700 - f))),
            2 => (0u16..703).prop_map(Op::Remove),
            2 => (0u16..703).prop_map(Op::Get),
            1 => Just(Op::Clear),
        ]
    }

    /// The field named by `i`: from 600 on, 58 to 64 bytes; from 700 on,
    /// past 64 bytes.
    fn field(i: u16) -> Bytes {
        match i {
            700.. => x(64 + (i - 699) as usize),
            600.. => {
                let mut f = format!("f{i}-").into_bytes();
                f.resize(58 + (i % 7) as usize, b'y');
                Bytes::from(f)
            }
            _ => Bytes::from(format!("f{i}")),
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn behaves_like_a_hash_map(ops in proptest::collection::vec(op(), 0..150)) {
            let mut h = Hash::new();
            let mut model: StdMap<Bytes, Bytes> = StdMap::new();
            let (mut was_large, mut was_hashtable) = (false, false);
            for op in ops {
                match op {
                    Op::Insert(f, n) => {
                        let v = Bytes::from(vec![b'v'; n]);
                        prop_assert_eq!(h.insert(&field(f), &v), model.insert(field(f), v).is_none());
                    }
                    Op::Fill(f, n) => {
                        for i in f..f + n {
                            let v = Bytes::from(i.to_string());
                            prop_assert_eq!(h.insert(&field(i), &v), model.insert(field(i), v).is_none());
                        }
                    }
                    Op::Remove(f) => prop_assert_eq!(h.remove(&field(f)), model.remove(&field(f)).is_some()),
                    Op::Get(f) => {
                        prop_assert_eq!(h.get(&field(f)), model.get(&field(f)).map(|v| &v[..]));
                        prop_assert_eq!(h.contains_key(&field(f)), model.contains_key(&field(f)));
                    }
                    Op::Clear => {
                        for f in std::mem::take(&mut model).keys() {
                            prop_assert!(h.remove(f));
                        }
                        if h.is_compact() {
                            prop_assert_eq!(footprint(&h), (0, 0));
                        }
                    }
                }
                prop_assert_eq!(h.len(), model.len());
                prop_assert_eq!(h.is_empty(), model.is_empty());
                let should_be_large = was_large
                    || model.len() > COMPACT_MAX_ENTRIES
                    || model.iter().any(|(f, v)| f.len() > COMPACT_MAX_BYTES || v.len() > COMPACT_MAX_BYTES);
                prop_assert_eq!(h.is_compact(), !should_be_large);
                was_large = !h.is_compact();
                let should_be_hashtable = was_hashtable
                    || model.len() > LISTPACK_MAX_ENTRIES
                    || model.iter().any(|(f, v)| f.len() > COMPACT_MAX_BYTES || v.len() > COMPACT_MAX_BYTES);
                prop_assert_eq!(h.is_listpack(), !should_be_hashtable);
                was_hashtable = !h.is_listpack();
                if h.is_compact() {
                    let (used, capacity) = footprint(&h);
                    prop_assert_eq!(used, model.iter().map(|(f, v)| 2 + f.len() + v.len()).sum::<usize>());
                    prop_assert!(capacity <= used + used / 4 + 32, "{} of {}", capacity, used);
                }
                let seen: StdMap<Bytes, Bytes> =
                    h.iter().map(|(f, v)| (Bytes::copy_from_slice(f), Bytes::copy_from_slice(v))).collect();
                prop_assert_eq!(&seen, &model);
                prop_assert_eq!(h.iter().len(), model.len());
            }
            let rebuilt: Hash = model.clone().into_iter().collect();
            prop_assert_eq!(&rebuilt, &h);
        }
    }
}
