//! Set values: one packed buffer while small, a hash-ordered map once large.
//!
//! As with hashes (see [`super::hash`]), a small set is ONE byte buffer of
//! members, each with a one-byte length (a `compact::Packed<1>`, see
//! `state/compact.rs` for the layout), searched linearly, without a hash
//! table's slack and control bytes nor a `Bytes` handle and allocation per
//! member. It turns into a [`HashOrdered`] map (ordered by a seeded hash
//! of the member, for `SSCAN`'s cursor and a fair random pick in
//! logarithmic time) as soon as it holds more than
//! [`COMPACT_MAX_MEMBERS`] members or a member longer than
//! [`COMPACT_MAX_BYTES`] bytes, and never turns back.
//!
//! The representation is internal: Redis 7.0 has no compact form for sets
//! of strings (only `intset` for sets of integers), so `OBJECT ENCODING`
//! judges a set by its contents, not by [`Set::is_compact`].
//!
//! Reads hand out `&[u8]` (see [`super::hash`] for why).

use bytes::Bytes;
use std::fmt;

use super::compact::{Entries, Packed, Shown};
use super::hash::COMPACT_MAX_BYTES;
use super::ordered::{self, HashOrdered};
use super::value::stored;

/// Most members a compact set holds (a lookup scans at most this many).
pub const COMPACT_MAX_MEMBERS: usize = 128;

/// Most members of a set of integers that Redis 7.0 keeps in an intset
/// (its default `set-max-intset-entries`), for `OBJECT ENCODING`.
pub const INTSET_MAX_ENTRIES: usize = 512;

/// A set value (see the module documentation for its two
/// representations). Its API follows `HashSet`'s names, with slices out:
/// the iterator lends `&[u8]`.
#[derive(Clone)]
pub struct Set(Repr);

/// The two representations of a [`Set`].
#[derive(Clone)]
enum Repr {
    /// At most [`COMPACT_MAX_MEMBERS`] members, each at most
    /// [`COMPACT_MAX_BYTES`] long, in the order they were added.
    Small(Packed<1>),
    /// Any size.
    Large(Box<HashOrdered<Bytes, ()>>),
}

impl Default for Set {
    fn default() -> Set {
        Set(Repr::Small(Packed::default()))
    }
}

impl Set {
    /// An empty set (compact, nothing allocated).
    pub fn new() -> Set {
        Set::default()
    }

    /// Whether the set uses its compact representation.
    pub fn is_compact(&self) -> bool {
        matches!(self.0, Repr::Small(_))
    }

    /// The number of members.
    pub fn len(&self) -> usize {
        match &self.0 {
            Repr::Small(p) => p.len(),
            Repr::Large(s) => s.len(),
        }
    }

    /// Whether the set has no members.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether `member` is present.
    pub fn contains(&self, member: &[u8]) -> bool {
        match &self.0 {
            Repr::Small(p) => p.find(member).is_some(),
            Repr::Large(s) => s.contains_key(member),
        }
    }

    /// Adds `member`; whether it was new. The compact form copies it into
    /// its buffer; the large form keeps it by the keyspace's rule
    /// ([`stored`]: short bytes copied, long ones shared).
    pub fn insert(&mut self, member: &Bytes) -> bool {
        self.add(member, || stored(member))
    }

    /// [`Set::insert`] of bytes that are not a `Bytes` (always copied).
    pub fn insert_slice(&mut self, member: &[u8]) -> bool {
        self.add(member, || Bytes::copy_from_slice(member))
    }

    /// Adds `member` if absent (the large form keeps `make()`); whether it
    /// was new. One search.
    fn add(&mut self, member: &[u8], make: impl FnOnce() -> Bytes) -> bool {
        if let Repr::Small(p) = &mut self.0 {
            if p.find(member).is_some() {
                return false;
            }
            if p.len() < COMPACT_MAX_MEMBERS && member.len() <= COMPACT_MAX_BYTES {
                p.push([member]);
                return true;
            }
            self.make_large();
        }
        let Repr::Large(s) = &mut self.0 else { unreachable!("made large above") };
        s.insert_with(member, (), make).is_none()
    }

    /// Removes `member`; whether it was present.
    pub fn remove(&mut self, member: &[u8]) -> bool {
        match &mut self.0 {
            Repr::Small(p) => {
                let Some(at) = p.find(member) else { return false };
                p.remove(at);
                true
            }
            Repr::Large(s) => s.remove(member).is_some(),
        }
    }

    /// Visits the members of an `SSCAN` call from `cursor` on: every member
    /// of a compact set at once (whatever the cursor, as Redis answers for
    /// its compact encodings), about `count` of a large one; returns the
    /// cursor to go on from (0: done).
    pub fn scan(&self, cursor: u64, count: usize, mut visit: impl FnMut(&[u8])) -> u64 {
        match &self.0 {
            Repr::Small(p) => {
                p.iter().for_each(|[m]| visit(m));
                0
            }
            Repr::Large(s) => s.scan(cursor, count, |m, _| visit(m)),
        }
    }

    /// A member chosen at random, each with the same chance, drawing random
    /// numbers from `next`; `None` if empty. O(1) once large.
    pub fn random(&self, mut next: impl FnMut() -> u64) -> Option<&[u8]> {
        match &self.0 {
            Repr::Small(p) if p.len() > 0 => p.iter().nth((next() % p.len() as u64) as usize).map(|[m]| m),
            Repr::Small(_) => None,
            Repr::Large(s) => s.random(next).map(|(m, _)| &m[..]),
        }
    }

    /// Every member, in no particular order.
    pub fn iter(&self) -> Iter<'_> {
        Iter(match &self.0 {
            Repr::Small(p) => IterRepr::Small(p.iter()),
            Repr::Large(s) => IterRepr::Large(s.iter()),
        })
    }

    /// A copy for the keyspace: the compact form's buffer copied exactly;
    /// the large form's members by [`stored`], its representation chosen
    /// afresh from its size (it is internal).
    pub fn to_stored(&self) -> Set {
        match &self.0 {
            Repr::Small(p) => Set(Repr::Small(p.clone())),
            Repr::Large(s) if s.len() > COMPACT_MAX_MEMBERS => {
                Set(Repr::Large(Box::new(s.map_entries(|m, _| (stored(m), ())))))
            }
            Repr::Large(s) => s.iter().map(|(m, _)| stored(m)).collect(),
        }
    }

    /// Whether no member of the large form shares its buffer (the compact
    /// form owns its one buffer): what the keyspace's tests check of
    /// everything it holds.
    #[cfg(test)]
    pub(crate) fn shares_nothing(&self) -> bool {
        match &self.0 {
            Repr::Small(_) => true,
            Repr::Large(s) => s.iter().all(|(m, _)| m.is_unique()),
        }
    }

    /// Switches to the large representation (no-op if already large).
    fn make_large(&mut self) {
        if let Repr::Small(p) = &self.0 {
            let mut s = HashOrdered::new();
            for [m] in p.iter() {
                s.insert(Bytes::copy_from_slice(m), ());
            }
            self.0 = Repr::Large(Box::new(s));
        }
    }
}

/// The iterator of [`Set::iter`].
pub struct Iter<'a>(IterRepr<'a>);

/// The representation-specific iterator inside [`Iter`].
enum IterRepr<'a> {
    /// Over the packed buffer.
    Small(Entries<'a, 1>),
    /// Over the hash-ordered map.
    Large(ordered::Iter<'a, Bytes, ()>),
}

impl<'a> Iterator for Iter<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        match &mut self.0 {
            IterRepr::Small(it) => it.next().map(|[m]| m),
            IterRepr::Large(it) => it.next().map(|(m, _)| &m[..]),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match &self.0 {
            IterRepr::Small(it) => it.size_hint(),
            IterRepr::Large(it) => it.size_hint(),
        }
    }

    /// Skips by length bytes alone on the compact form (so picking a
    /// random member is cheap).
    fn nth(&mut self, n: usize) -> Option<&'a [u8]> {
        match &mut self.0 {
            IterRepr::Small(it) => it.nth(n).map(|[m]| m),
            IterRepr::Large(it) => it.nth(n).map(|(m, _)| &m[..]),
        }
    }
}

impl ExactSizeIterator for Iter<'_> {}

impl<'a> IntoIterator for &'a Set {
    type Item = &'a [u8];
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

impl FromIterator<Bytes> for Set {
    /// Builds a set by adding every member (the large form keeps them as
    /// they are, the compact form copies them); it starts large
    /// when the iterator promises more members than a compact set holds.
    fn from_iter<I: IntoIterator<Item = Bytes>>(iter: I) -> Set {
        let mut s = Set::new();
        s.extend(iter);
        s
    }
}

impl Extend<Bytes> for Set {
    fn extend<I: IntoIterator<Item = Bytes>>(&mut self, iter: I) {
        let iter = iter.into_iter();
        let (at_least, _) = iter.size_hint();
        if self.len() + at_least > COMPACT_MAX_MEMBERS {
            self.make_large();
        }
        for m in iter {
            match &mut self.0 {
                // Owned: moved in as it is, as `HashSet::extend` does.
                Repr::Large(s) => {
                    s.insert(m, ());
                }
                Repr::Small(_) => {
                    self.insert_slice(&m);
                }
            }
        }
    }
}

impl PartialEq for Set {
    /// Equal as sets: the same members, whatever the order or
    /// representation.
    fn eq(&self, other: &Set) -> bool {
        self.len() == other.len() && self.iter().all(|m| other.contains(m))
    }
}

impl fmt::Debug for Set {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter().map(Shown)).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashSet as StdSet;

    fn b(s: &str) -> Bytes {
        Bytes::copy_from_slice(s.as_bytes())
    }

    /// The packed buffer's bytes in use and its capacity.
    fn footprint(s: &Set) -> (usize, usize) {
        let Repr::Small(p) = &s.0 else { panic!("not compact") };
        p.footprint()
    }

    #[test]
    fn switches_to_large_past_128_members_and_stays_large() {
        let mut s = Set::new();
        for i in 0..COMPACT_MAX_MEMBERS {
            assert!(s.insert(&b(&format!("m{i}"))));
        }
        assert!(!s.insert(&b("m0")));
        assert!(s.is_compact());
        assert_eq!(s.len(), 128);
        assert!(s.insert(&b("one-more")));
        assert!(!s.is_compact());
        assert_eq!(s.len(), 129);
        assert!(s.contains(b"m0"));
        for i in 0..COMPACT_MAX_MEMBERS {
            assert!(s.remove(format!("m{i}").as_bytes()));
        }
        assert_eq!(s.len(), 1);
        assert!(!s.is_compact(), "a large set never turns compact again");
    }

    #[test]
    fn switches_to_large_at_65_bytes() {
        let mut s = Set::new();
        s.insert(&Bytes::from(vec![b'x'; 64]));
        assert!(s.is_compact());
        assert_eq!(footprint(&s).0, 65);
        assert!(!s.insert_slice(&[b'x'; 64]));
        assert!(s.insert_slice(&[b'x'; 65]));
        assert!(!s.is_compact());
        assert!(!s.insert_slice(&[b'x'; 65]));
        assert_eq!(s.len(), 2);
    }

    #[test]
    fn ten_short_members_take_one_buffer() {
        let s: Set = (0..10).map(|i| b(&format!("member:{i:04}"))).collect();
        let (used, capacity) = footprint(&s);
        assert_eq!(used, 10 * (1 + 11));
        assert!(capacity <= used + used / 8, "{capacity} bytes allocated for {used}");
        assert!(std::mem::size_of::<Set>() <= std::mem::size_of::<Bytes>());
        assert_eq!(footprint(&s.to_stored()), (used, used));
    }

    #[test]
    fn removal_and_equality_ignore_order_and_representation() {
        let mut s: Set = [b("a"), b("b"), b("c"), b("a")].into_iter().collect();
        assert_eq!(s.len(), 3);
        assert!(s.remove(b"a"));
        assert!(!s.remove(b"a"));
        let t: Set = [b("c"), b("b")].into_iter().collect();
        assert_eq!(s, t);
        let mut large = t.clone();
        large.insert(&Bytes::from(vec![b'z'; 100]));
        large.remove(&[b'z'; 100]);
        assert!(!large.is_compact());
        assert_eq!(large, s);
        assert!(large.to_stored().is_compact(), "a copy's form is chosen afresh");
        assert_ne!(s, [b("c"), b("x")].into_iter().collect::<Set>());
        assert_eq!(format!("{:?}", Set::from_iter([b("x")])), r#"{b"x"}"#);
        let many: Set = (0..1000).map(|i| b(&i.to_string())).collect();
        assert!(!many.is_compact());
        assert_eq!(many.len(), 1000);
        assert_eq!(many.iter().len(), 1000);
        let order: Vec<&[u8]> = many.iter().collect();
        assert!((0..1000).step_by(97).all(|i| many.iter().nth(i) == Some(order[i])));
        let order: Vec<&[u8]> = s.iter().collect();
        assert!((0..3).all(|i| s.iter().nth(i) == order.get(i).copied()));
    }

    #[test]
    fn compact_form_carries_little_spare_room() {
        let mut s = Set::new();
        for i in 0..COMPACT_MAX_MEMBERS {
            s.insert(&b(&i.to_string()));
            let (used, capacity) = footprint(&s);
            assert!(capacity <= used + used / 8, "{capacity} of {used}");
        }
        for i in 0..120 {
            s.remove(i.to_string().as_bytes());
        }
        let (used, capacity) = footprint(&s);
        assert!(capacity <= used + used / 4 + 32, "{capacity} of {used}");
    }

    /// One step of the model test.
    #[derive(Debug, Clone)]
    enum Op {
        Insert(u16),
        /// Insert members `.0..(.0 + .1)` (to cross 128 members).
        Fill(u16, u16),
        Remove(u16),
        Contains(u16),
        /// Remove every member, one by one (the buffer empties, to be refilled).
        Clear,
    }

    fn op() -> impl Strategy<Value = Op> {
        // Members from 250 on are 58 to 64 bytes long, from 300 on past
        // 64; rare enough that many runs cross 128 members first.
        prop_oneof![
            6 => (0u16..302).prop_map(Op::Insert),
            1 => (0u16..300, 0u16..60).prop_map(|(m, n)| Op::Fill(m, n.min(300 - m))),
            3 => (0u16..302).prop_map(Op::Remove),
            2 => (0u16..302).prop_map(Op::Contains),
            1 => Just(Op::Clear),
        ]
    }

    /// The member named by `i`: from 250 on, 58 to 64 bytes; from 300 on,
    /// past 64 bytes.
    fn member(i: u16) -> Bytes {
        match i {
            300.. => Bytes::from(vec![b'x'; 64 + (i - 299) as usize]),
            250.. => {
                let mut m = format!("m{i}-").into_bytes();
                m.resize(58 + (i % 7) as usize, b'y');
                Bytes::from(m)
            }
            _ => Bytes::from(format!("m{i}")),
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn behaves_like_a_hash_set(ops in proptest::collection::vec(op(), 0..150)) {
            let mut s = Set::new();
            let mut model: StdSet<Bytes> = StdSet::new();
            let mut was_large = false;
            for op in ops {
                match op {
                    Op::Insert(m) => prop_assert_eq!(s.insert(&member(m)), model.insert(member(m))),
                    Op::Fill(m, n) => {
                        for i in m..m + n {
                            let new = model.insert(member(i));
                            prop_assert_eq!(s.insert_slice(&member(i)), new);
                        }
                    }
                    Op::Remove(m) => prop_assert_eq!(s.remove(&member(m)), model.remove(&member(m))),
                    Op::Contains(m) => prop_assert_eq!(s.contains(&member(m)), model.contains(&member(m))),
                    Op::Clear => {
                        for m in std::mem::take(&mut model) {
                            prop_assert!(s.remove(&m));
                        }
                        if s.is_compact() {
                            prop_assert_eq!(footprint(&s), (0, 0));
                        }
                    }
                }
                prop_assert_eq!(s.len(), model.len());
                prop_assert_eq!(s.is_empty(), model.is_empty());
                let should_be_large = was_large
                    || model.len() > COMPACT_MAX_MEMBERS
                    || model.iter().any(|m| m.len() > COMPACT_MAX_BYTES);
                prop_assert_eq!(s.is_compact(), !should_be_large);
                was_large = !s.is_compact();
                if s.is_compact() {
                    let (used, capacity) = footprint(&s);
                    prop_assert_eq!(used, model.iter().map(|m| 1 + m.len()).sum::<usize>());
                    prop_assert!(capacity <= used + used / 4 + 32, "{} of {}", capacity, used);
                }
                let seen: StdSet<Bytes> = s.iter().map(Bytes::copy_from_slice).collect();
                prop_assert_eq!(&seen, &model);
                prop_assert_eq!(s.iter().len(), model.len());
            }
            let rebuilt: Set = model.iter().cloned().collect();
            prop_assert_eq!(&rebuilt, &s);
        }
    }
}
