//! Hash values: a compact vector while small, a hash map once large.
//!
//! Most hashes hold a few short fields. A hash table for each of them costs
//! its load-factor slack and control bytes on top of the entries, so a small
//! hash is kept as a plain vector of `(field, value)` pairs in insertion
//! order and searched linearly, as Redis keeps small hashes in one listpack.
//! Each pair carries a 32-bit fingerprint of its field, so a search follows the
//! pointer to the field's bytes of (almost) only the pair it is looking for:
//! without it, a search through ten pairs costs ten likely cache misses.
//! It turns into a [`HashMap`] as soon as it holds more than
//! [`COMPACT_MAX_ENTRIES`] fields or a field or value longer than
//! [`COMPACT_MAX_BYTES`] bytes, and never turns back.
//!
//! Redis's own limits are 512 fields ([`LISTPACK_MAX_ENTRIES`], its default
//! `hash-max-listpack-entries`) and 64 bytes (`hash-max-listpack-value`);
//! it too never turns back. A linear search through 512 pairs costs a third
//! of the throughput of `HGET`/`HSET`, so the compact form stops at 128 and
//! a large hash remembers whether Redis would still hold it in a listpack,
//! for `OBJECT ENCODING` ([`Hash::is_listpack`]).

use bytes::Bytes;
use std::fmt;

use super::compact::{reserve_one, tag, trim_spare};
use super::hashing::HashMap;

/// Most fields a compact hash holds (a search scans at most this many).
pub const COMPACT_MAX_ENTRIES: usize = 128;

/// Most fields of a hash that Redis 7.0 keeps in a listpack: its default
/// `hash-max-listpack-entries` (512; `zset-max-listpack-entries` is 128).
pub const LISTPACK_MAX_ENTRIES: usize = 512;

/// Longest field, value or set member (in bytes) a compact collection
/// holds: Redis's default `hash-max-listpack-value`.
pub const COMPACT_MAX_BYTES: usize = 64;

/// Whether a field or value of `len` bytes may stay in a compact collection.
fn fits(len: usize) -> bool {
    len <= COMPACT_MAX_BYTES
}

/// A hash value: fields mapped to values (see the module documentation for
/// its two representations). Its API is the part of `HashMap`'s that the
/// server uses, with the same names and meaning.
///
/// There is no `get_mut`: a value changed in place could outgrow the
/// compact limits unnoticed. Replace a value with [`Hash::insert`] or
/// [`Hash::replace`].
#[derive(Clone)]
pub struct Hash(Repr);

/// The two representations of a [`Hash`].
#[derive(Clone)]
enum Repr {
    /// At most [`COMPACT_MAX_ENTRIES`] pairs, each part at most
    /// [`COMPACT_MAX_BYTES`] long, in insertion order.
    Small(Vec<Entry>),
    /// Any size.
    Large(Box<Large>),
}

/// A hash past the compact limits.
#[derive(Clone)]
struct Large {
    /// The pairs.
    map: HashMap<Bytes, Bytes>,
    /// Whether Redis would still hold this hash in a listpack: it grew past
    /// [`COMPACT_MAX_ENTRIES`] but never past [`LISTPACK_MAX_ENTRIES`] fields
    /// nor stored a field or value past [`COMPACT_MAX_BYTES`].
    listpack: bool,
}

impl Large {
    /// Notes that a field or value of `len` bytes was stored.
    fn stored(&mut self, len: usize) {
        if !fits(len) || self.map.len() > LISTPACK_MAX_ENTRIES {
            self.listpack = false;
        }
    }
}

/// One pair of a compact hash, with its field's [`tag`].
#[derive(Clone)]
struct Entry {
    /// `tag(&field)`.
    tag: u32,
    /// The field.
    field: Bytes,
    /// Its value.
    value: Bytes,
}

/// The position of `field` in a compact hash.
fn find(v: &[Entry], field: &[u8]) -> Option<usize> {
    let t = tag(field);
    v.iter().position(|e| e.tag == t && e.field[..] == *field)
}

impl Default for Hash {
    fn default() -> Hash {
        Hash(Repr::Small(Vec::new()))
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
            Repr::Small(v) => v.len(),
            Repr::Large(l) => l.map.len(),
        }
    }

    /// Whether the hash has no fields.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The value of `field`.
    pub fn get(&self, field: &[u8]) -> Option<&Bytes> {
        match &self.0 {
            Repr::Small(v) => find(v, field).map(|i| &v[i].value),
            Repr::Large(l) => l.map.get(field),
        }
    }

    /// Whether `field` is present.
    pub fn contains_key(&self, field: &[u8]) -> bool {
        self.get(field).is_some()
    }

    /// Sets `field` to `value`; returns the previous value. An existing
    /// field keeps its place (and its stored name), as `HashMap::insert`
    /// does.
    pub fn insert(&mut self, field: Bytes, value: Bytes) -> Option<Bytes> {
        match self.slot(&field, value.len()) {
            Some(slot) => Some(std::mem::replace(slot, value)),
            None => {
                self.add(field, value);
                None
            }
        }
    }

    /// [`Hash::insert`] with the field given by reference: its stored name
    /// is made by `make_field` (from `field`) only if the field is new, so a
    /// caller copies no name it does not keep. One search either way.
    pub fn insert_with(
        &mut self,
        field: &[u8],
        value: Bytes,
        make_field: impl FnOnce(&[u8]) -> Bytes,
    ) -> Option<Bytes> {
        match self.slot(field, value.len()) {
            Some(slot) => Some(std::mem::replace(slot, value)),
            None => {
                self.add(make_field(field), value);
                None
            }
        }
    }

    /// Sets the value of `field` if it is present, returning the previous
    /// value; gives `value` back if the field is absent (nothing changes).
    pub fn replace(&mut self, field: &[u8], value: Bytes) -> Result<Bytes, Bytes> {
        match self.slot(field, value.len()) {
            Some(slot) => Ok(std::mem::replace(slot, value)),
            None => Err(value),
        }
    }

    /// The value slot of `field` if present, about to receive a value of
    /// `value_len` bytes: a compact hash turns large first if that value
    /// will not fit.
    fn slot(&mut self, field: &[u8], value_len: usize) -> Option<&mut Bytes> {
        if let Repr::Small(v) = &self.0 {
            let i = find(v, field)?;
            if fits(value_len) {
                let Repr::Small(v) = &mut self.0 else { return None };
                return Some(&mut v[i].value);
            }
            self.make_large();
        }
        match &mut self.0 {
            Repr::Large(l) => {
                let slot = l.map.get_mut(field)?;
                if !fits(value_len) {
                    l.listpack = false;
                }
                Some(slot)
            }
            Repr::Small(_) => None,
        }
    }

    /// Adds a field known to be absent.
    fn add(&mut self, field: Bytes, value: Bytes) {
        if let Repr::Small(v) = &self.0
            && (v.len() >= COMPACT_MAX_ENTRIES || !fits(field.len()) || !fits(value.len()))
        {
            self.make_large();
        }
        match &mut self.0 {
            Repr::Small(v) => {
                reserve_one(v);
                v.push(Entry { tag: tag(&field), field, value });
            }
            Repr::Large(l) => {
                let len = field.len().max(value.len());
                l.map.insert(field, value);
                l.stored(len);
            }
        }
    }

    /// Removes `field`; returns its value. The compact form keeps the order
    /// of the remaining fields.
    pub fn remove(&mut self, field: &[u8]) -> Option<Bytes> {
        match &mut self.0 {
            Repr::Small(v) => {
                let i = find(v, field)?;
                let old = v.remove(i).value;
                trim_spare(v);
                Some(old)
            }
            Repr::Large(l) => l.map.remove(field),
        }
    }

    /// Every `(field, value)` pair: in insertion order while compact, in
    /// hash order once large.
    pub fn iter(&self) -> Iter<'_> {
        Iter(match &self.0 {
            Repr::Small(v) => IterRepr::Small(v.iter()),
            Repr::Large(l) => IterRepr::Large(l.map.iter()),
        })
    }

    /// Every field, in the order of [`Hash::iter`].
    pub fn keys(&self) -> impl Iterator<Item = &Bytes> {
        self.iter().map(|(f, _)| f)
    }

    /// Every value, in the order of [`Hash::iter`].
    pub fn values(&self) -> impl Iterator<Item = &Bytes> {
        self.iter().map(|(_, v)| v)
    }

    /// A copy with every field and value passed through `f`, in the same
    /// representation (a hash that grew large stays large, and its
    /// [`Hash::is_listpack`] stays the same, as Redis's copy of a hash keeps
    /// its encoding).
    pub fn map_bytes(&self, mut f: impl FnMut(&Bytes) -> Bytes) -> Hash {
        Hash(match &self.0 {
            Repr::Small(v) => {
                let mut out = Vec::with_capacity(v.len());
                out.extend(v.iter().map(|e| Entry { tag: e.tag, field: f(&e.field), value: f(&e.value) }));
                Repr::Small(out)
            }
            Repr::Large(l) => {
                let mut map = HashMap::with_capacity_and_hasher(l.map.len(), Default::default());
                map.extend(l.map.iter().map(|(k, x)| (f(k), f(x))));
                Repr::Large(Box::new(Large { map, listpack: l.listpack }))
            }
        })
    }

    /// Switches to the large representation (no-op if already large).
    fn make_large(&mut self) {
        if let Repr::Small(v) = &mut self.0 {
            let mut m = HashMap::with_capacity_and_hasher(v.len() + 1, Default::default());
            m.extend(std::mem::take(v).into_iter().map(|e| (e.field, e.value)));
            // Every pair fits so far; `stored` clears this if the pair
            // that made the hash large does not.
            self.0 = Repr::Large(Box::new(Large { map: m, listpack: true }));
        }
    }
}

/// The iterator of [`Hash::iter`].
pub struct Iter<'a>(IterRepr<'a>);

/// The representation-specific iterator inside [`Iter`].
enum IterRepr<'a> {
    /// Over the compact vector.
    Small(std::slice::Iter<'a, Entry>),
    /// Over the hash map.
    Large(std::collections::hash_map::Iter<'a, Bytes, Bytes>),
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a Bytes, &'a Bytes);

    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.0 {
            IterRepr::Small(it) => it.next().map(|e| (&e.field, &e.value)),
            IterRepr::Large(it) => it.next(),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match &self.0 {
            IterRepr::Small(it) => it.size_hint(),
            IterRepr::Large(it) => it.size_hint(),
        }
    }

    /// O(1) on the compact form (so picking a random field is cheap).
    fn nth(&mut self, n: usize) -> Option<Self::Item> {
        match &mut self.0 {
            IterRepr::Small(it) => it.nth(n).map(|e| (&e.field, &e.value)),
            IterRepr::Large(it) => it.nth(n),
        }
    }
}

impl ExactSizeIterator for Iter<'_> {}

impl<'a> IntoIterator for &'a Hash {
    type Item = (&'a Bytes, &'a Bytes);
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

impl FromIterator<(Bytes, Bytes)> for Hash {
    /// Builds a hash as repeated [`Hash::insert`]s would: a repeated field
    /// takes the last value, the representation follows the limits.
    fn from_iter<I: IntoIterator<Item = (Bytes, Bytes)>>(iter: I) -> Hash {
        let mut h = Hash::new();
        h.extend(iter);
        h
    }
}

impl Extend<(Bytes, Bytes)> for Hash {
    fn extend<I: IntoIterator<Item = (Bytes, Bytes)>>(&mut self, iter: I) {
        for (f, v) in iter {
            self.insert(f, v);
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
        f.debug_map().entries(self.iter()).finish()
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

    #[test]
    fn switches_to_large_past_128_fields_and_stays_large() {
        let mut h = Hash::new();
        for i in 0..COMPACT_MAX_ENTRIES {
            assert_eq!(h.insert(b(&format!("f{i}")), b("v")), None);
        }
        assert!(h.is_compact() && h.is_listpack());
        assert_eq!(h.insert(b("f0"), b("w")), Some(b("v")), "replacing keeps it compact");
        assert!(h.is_compact());
        assert_eq!(h.len(), 128);
        h.insert(b("one-more"), b("v"));
        assert!(!h.is_compact());
        assert!(h.is_listpack(), "Redis keeps up to 512 fields in a listpack");
        assert_eq!(h.len(), 129);
        assert_eq!(h.get(b"f0"), Some(&b("w")));
        for i in 0..COMPACT_MAX_ENTRIES {
            h.remove(format!("f{i}").as_bytes());
        }
        assert_eq!(h.len(), 1);
        assert!(!h.is_compact(), "a large hash never turns compact again");
        assert!(h.is_listpack());
    }

    #[test]
    fn stops_being_a_listpack_past_512_fields_for_good() {
        let mut h: Hash = (0..LISTPACK_MAX_ENTRIES).map(|i| (b(&format!("f{i}")), b("v"))).collect();
        assert!(h.is_listpack());
        h.insert(b("f0"), b("w"));
        assert!(h.is_listpack(), "replacing a value adds no field");
        h.insert(b("f512"), b("v"));
        assert!(!h.is_listpack());
        h.remove(b"f512");
        assert!(!h.is_listpack(), "never back, as in Redis");
        assert!(!h.map_bytes(Bytes::clone).is_listpack(), "a copy keeps it");
        let mut h: Hash = (0..200).map(|i| (b(&format!("f{i}")), b("v"))).collect();
        assert!(h.is_listpack() && h.map_bytes(Bytes::clone).is_listpack());
        assert_eq!(h.replace(b"f1", Bytes::from(vec![b'x'; 64])), Ok(b("v")));
        assert!(h.is_listpack());
        assert_eq!(h.replace(b"nope", Bytes::from(vec![b'x'; 65])), Err(Bytes::from(vec![b'x'; 65])));
        assert!(h.is_listpack(), "nothing stored");
        assert_eq!(h.replace(b"f1", Bytes::from(vec![b'x'; 65])), Ok(Bytes::from(vec![b'x'; 64])));
        assert!(!h.is_listpack());
        let mut h: Hash = (0..200).map(|i| (b(&format!("f{i}")), b("v"))).collect();
        h.insert(Bytes::from(vec![b'x'; 65]), b("v"));
        assert!(!h.is_listpack(), "long field");
    }

    #[test]
    fn switches_to_large_at_65_bytes() {
        let at_limit = Bytes::from(vec![b'x'; 64]);
        let over = Bytes::from(vec![b'x'; 65]);
        let mut h = Hash::new();
        h.insert(at_limit.clone(), at_limit.clone());
        assert!(h.is_compact());
        h.insert(b("f"), over.clone());
        assert!(!h.is_compact() && !h.is_listpack(), "long value");

        let mut h = Hash::new();
        h.insert(b("f"), b("v"));
        h.insert(over.clone(), b("v"));
        assert!(!h.is_compact() && !h.is_listpack(), "long field");

        let mut h = Hash::new();
        h.insert(b("f"), b("v"));
        assert_eq!(h.replace(b"f", over.clone()), Ok(b("v")));
        assert!(!h.is_compact() && !h.is_listpack(), "an existing field given a long value");
        assert_eq!(h.get(b"f"), Some(&over));

        let mut h = Hash::new();
        assert_eq!(h.replace(b"f", over.clone()), Err(over.clone()));
        assert_eq!(h.len(), 0);
        assert!(h.is_compact(), "nothing was stored");
    }

    #[test]
    fn compact_form_keeps_insertion_order_and_little_spare_room() {
        let mut h = Hash::new();
        for f in ["c", "a", "b", "d"] {
            h.insert(b(f), b("1"));
        }
        h.remove(b"a");
        h.insert(b("c"), b("2"));
        assert_eq!(h.keys().collect::<Vec<_>>(), [&b("c"), &b("b"), &b("d")]);
        assert_eq!(h.values().collect::<Vec<_>>(), [&b("2"), &b("1"), &b("1")]);
        assert_eq!(h.iter().nth(1), Some((&b("b"), &b("1"))));
        let mut h = Hash::new();
        for i in 0..100 {
            h.insert(b(&i.to_string()), b("v"));
            let Repr::Small(v) = &h.0 else { panic!() };
            assert!(v.capacity() <= v.len() + v.len() / 8 + 1, "{} of {}", v.capacity(), v.len());
        }
        for i in 0..95 {
            h.remove(i.to_string().as_bytes());
        }
        let Repr::Small(v) = &h.0 else { panic!() };
        assert!(v.capacity() <= v.len() + v.len() / 4 + 4);
    }

    #[test]
    fn equality_ignores_order_and_representation() {
        let a: Hash = [(b("x"), b("1")), (b("y"), b("2"))].into_iter().collect();
        let b2: Hash = [(b("y"), b("2")), (b("x"), b("1"))].into_iter().collect();
        assert_eq!(a, b2);
        let mut large = a.clone();
        large.insert(Bytes::from(vec![b'z'; 100]), b("3"));
        large.remove(&[b'z'; 100][..]);
        assert!(!large.is_compact());
        assert_eq!(a, large);
        let c: Hash = [(b("x"), b("1")), (b("y"), b("3"))].into_iter().collect();
        assert_ne!(a, c);
        assert_eq!(format!("{a:?}"), r#"{b"x": b"1", b"y": b"2"}"#);
        let copy = large.map_bytes(Bytes::clone);
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
    }

    fn op() -> impl Strategy<Value = Op> {
        // Value lengths straddle the 64-byte limit; fields from 700 on are
        // long. Both are rare enough that many runs cross 128, even 512, fields first.
        prop_oneof![
            6 => (0u16..703, prop_oneof![30 => 0usize..8, 1 => 60usize..70]).prop_map(|(f, n)| Op::Insert(f, n)),
            2 => (0u16..700, 0u16..200).prop_map(|(f, n)| Op::Fill(f, n.min(700 - f))),
            2 => (0u16..703).prop_map(Op::Remove),
            2 => (0u16..703).prop_map(Op::Get),
        ]
    }

    /// The field named by `i`: from 700 on, past 64 bytes.
    fn field(i: u16) -> Bytes {
        if i >= 700 { Bytes::from(vec![b'x'; 64 + (i - 699) as usize]) } else { Bytes::from(format!("f{i}")) }
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
                        prop_assert_eq!(h.insert(field(f), v.clone()), model.insert(field(f), v));
                    }
                    Op::Fill(f, n) => {
                        for i in f..f + n {
                            let v = Bytes::from(i.to_string());
                            let (copy, new) = (field(i), || field(i));
                            prop_assert_eq!(h.insert_with(&copy, v.clone(), |_| new()), model.insert(field(i), v));
                        }
                    }
                    Op::Remove(f) => prop_assert_eq!(h.remove(&field(f)), model.remove(&field(f))),
                    Op::Get(f) => {
                        prop_assert_eq!(h.get(&field(f)), model.get(&field(f)));
                        prop_assert_eq!(h.contains_key(&field(f)), model.contains_key(&field(f)));
                        let v = Bytes::from_static(b"replaced");
                        let expected = model.get_mut(&field(f)).map(|slot| std::mem::replace(slot, v.clone()));
                        prop_assert_eq!(h.replace(&field(f), v.clone()), expected.ok_or(v));
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
                let seen: StdMap<Bytes, Bytes> = h.iter().map(|(f, v)| (f.clone(), v.clone())).collect();
                prop_assert_eq!(&seen, &model);
                prop_assert_eq!(h.iter().len(), model.len());
            }
            let rebuilt: Hash = model.clone().into_iter().collect();
            prop_assert_eq!(&rebuilt, &h);
        }
    }
}
