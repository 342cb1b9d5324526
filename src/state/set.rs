//! Set values: a compact vector while small, a hash set once large.
//!
//! As with hashes (see [`super::hash`]), a small set is a plain vector of
//! members searched linearly, without a hash table's slack and control
//! bytes, each member with a 32-bit fingerprint that spares the search a
//! pointer chase for every other member. It turns into a [`HashSet`] as soon as it holds more than
//! [`COMPACT_MAX_MEMBERS`] members or a member longer than
//! [`COMPACT_MAX_BYTES`] bytes, and never turns back.
//!
//! The representation is internal: Redis 7.0 has no compact form for sets
//! of strings (only `intset` for sets of integers), so `OBJECT ENCODING`
//! judges a set by its contents, not by [`Set::is_compact`].

use bytes::Bytes;
use std::fmt;

use super::compact::{reserve_one, tag, trim_spare};
use super::hash::COMPACT_MAX_BYTES;
use super::hashing::HashSet;

/// Most members a compact set holds (a lookup scans at most this many).
pub const COMPACT_MAX_MEMBERS: usize = 128;

/// A set value (see the module documentation for its two
/// representations). Its API is the part of `HashSet`'s that the server
/// uses, with the same names and meaning.
#[derive(Clone)]
pub struct Set(Repr);

/// The two representations of a [`Set`].
#[derive(Clone)]
enum Repr {
    /// At most [`COMPACT_MAX_MEMBERS`] members, each at most
    /// [`COMPACT_MAX_BYTES`] long, in no particular order.
    Small(Vec<Member>),
    /// Any size.
    Large(Box<HashSet<Bytes>>),
}

/// One member of a compact set, with its [`tag`].
#[derive(Clone)]
struct Member {
    /// `tag(&bytes)`.
    tag: u32,
    /// The member.
    bytes: Bytes,
}

/// The position of `member` in a compact set.
fn find(v: &[Member], member: &[u8]) -> Option<usize> {
    let t = tag(member);
    v.iter().position(|m| m.tag == t && m.bytes[..] == *member)
}

impl Default for Set {
    fn default() -> Set {
        Set(Repr::Small(Vec::new()))
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
            Repr::Small(v) => v.len(),
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
            Repr::Small(v) => find(v, member).is_some(),
            Repr::Large(s) => s.contains(member),
        }
    }

    /// Adds `member`; whether it was new (an existing member is kept, as
    /// `HashSet::insert` does).
    pub fn insert(&mut self, member: Bytes) -> bool {
        if self.contains(&member) {
            return false;
        }
        self.add(member);
        true
    }

    /// [`Set::insert`] with the member given by reference: the stored copy
    /// is made by `make_member` (from `member`) only if it is new.
    pub fn insert_with(&mut self, member: &[u8], make_member: impl FnOnce(&[u8]) -> Bytes) -> bool {
        if self.contains(member) {
            return false;
        }
        self.add(make_member(member));
        true
    }

    /// Adds a member known to be absent.
    fn add(&mut self, member: Bytes) {
        if let Repr::Small(v) = &self.0
            && (v.len() >= COMPACT_MAX_MEMBERS || member.len() > COMPACT_MAX_BYTES)
        {
            self.make_large();
        }
        match &mut self.0 {
            Repr::Small(v) => {
                reserve_one(v);
                v.push(Member { tag: tag(&member), bytes: member });
            }
            Repr::Large(s) => {
                s.insert(member);
            }
        }
    }

    /// Removes `member`; whether it was present.
    pub fn remove(&mut self, member: &[u8]) -> bool {
        match &mut self.0 {
            Repr::Small(v) => {
                let Some(i) = find(v, member) else { return false };
                v.swap_remove(i);
                trim_spare(v);
                true
            }
            Repr::Large(s) => s.remove(member),
        }
    }

    /// Every member, in no particular order.
    pub fn iter(&self) -> Iter<'_> {
        Iter(match &self.0 {
            Repr::Small(v) => IterRepr::Small(v.iter()),
            Repr::Large(s) => IterRepr::Large(s.iter()),
        })
    }

    /// Switches to the large representation with room for `extra` more
    /// members (no-op if already large).
    fn make_large_with(&mut self, extra: usize) {
        if let Repr::Small(v) = &mut self.0 {
            let mut s = HashSet::with_capacity_and_hasher(v.len() + extra, Default::default());
            s.extend(std::mem::take(v).into_iter().map(|m| m.bytes));
            self.0 = Repr::Large(Box::new(s));
        }
    }

    /// Switches to the large representation (no-op if already large).
    fn make_large(&mut self) {
        self.make_large_with(1);
    }
}

/// The iterator of [`Set::iter`].
pub struct Iter<'a>(IterRepr<'a>);

/// The representation-specific iterator inside [`Iter`].
enum IterRepr<'a> {
    /// Over the compact vector.
    Small(std::slice::Iter<'a, Member>),
    /// Over the hash set.
    Large(std::collections::hash_set::Iter<'a, Bytes>),
}

impl<'a> Iterator for Iter<'a> {
    type Item = &'a Bytes;

    fn next(&mut self) -> Option<&'a Bytes> {
        match &mut self.0 {
            IterRepr::Small(it) => it.next().map(|m| &m.bytes),
            IterRepr::Large(it) => it.next(),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match &self.0 {
            IterRepr::Small(it) => it.size_hint(),
            IterRepr::Large(it) => it.size_hint(),
        }
    }

    /// O(1) on the compact form (so picking a random member is cheap).
    fn nth(&mut self, n: usize) -> Option<&'a Bytes> {
        match &mut self.0 {
            IterRepr::Small(it) => it.nth(n).map(|m| &m.bytes),
            IterRepr::Large(it) => it.nth(n),
        }
    }
}

impl ExactSizeIterator for Iter<'_> {}

impl<'a> IntoIterator for &'a Set {
    type Item = &'a Bytes;
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

impl FromIterator<Bytes> for Set {
    /// Builds a set by [`Set::insert`]ing every member; it starts large
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
            self.make_large_with(at_least);
        }
        for m in iter {
            self.insert(m);
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
        f.debug_set().entries(self.iter()).finish()
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

    #[test]
    fn switches_to_large_past_128_members_and_stays_large() {
        let mut s = Set::new();
        for i in 0..COMPACT_MAX_MEMBERS {
            assert!(s.insert(b(&format!("m{i}"))));
        }
        assert!(!s.insert(b("m0")));
        assert!(s.is_compact());
        assert_eq!(s.len(), 128);
        assert!(s.insert(b("one-more")));
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
        s.insert(Bytes::from(vec![b'x'; 64]));
        assert!(s.is_compact());
        assert!(!s.insert_with(&[b'x'; 64], |_| panic!("not copied when present")));
        assert!(s.insert_with(&[b'x'; 65], Bytes::copy_from_slice));
        assert!(!s.is_compact());
        assert_eq!(s.len(), 2);
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
        large.insert(Bytes::from(vec![b'z'; 100]));
        large.remove(&[b'z'; 100]);
        assert!(!large.is_compact());
        assert_eq!(large, s);
        assert_ne!(s, [b("c"), b("x")].into_iter().collect::<Set>());
        assert_eq!(format!("{:?}", Set::from_iter([b("x")])), r#"{b"x"}"#);
        let many: Set = (0..1000).map(|i| b(&i.to_string())).collect();
        assert!(!many.is_compact());
        assert_eq!(many.len(), 1000);
        assert_eq!(many.iter().len(), 1000);
        let order: Vec<&Bytes> = many.iter().collect();
        assert!((0..1000).step_by(97).all(|i| many.iter().nth(i) == Some(order[i])));
    }

    #[test]
    fn compact_form_carries_little_spare_room() {
        let mut s = Set::new();
        for i in 0..COMPACT_MAX_MEMBERS {
            s.insert(b(&i.to_string()));
            let Repr::Small(v) = &s.0 else { panic!() };
            assert!(v.capacity() <= v.len() + v.len() / 8 + 1, "{} of {}", v.capacity(), v.len());
        }
        for i in 0..120 {
            s.remove(i.to_string().as_bytes());
        }
        let Repr::Small(v) = &s.0 else { panic!() };
        assert!(v.capacity() <= v.len() + v.len() / 4 + 4);
    }

    /// One step of the model test.
    #[derive(Debug, Clone)]
    enum Op {
        Insert(u16),
        /// Insert members `.0..(.0 + .1)` (to cross 128 members).
        Fill(u16, u16),
        Remove(u16),
        Contains(u16),
    }

    fn op() -> impl Strategy<Value = Op> {
        // Members from 300 on are long; rare enough that many runs cross
        // 128 members first.
        prop_oneof![
            6 => (0u16..302).prop_map(Op::Insert),
            1 => (0u16..300, 0u16..60).prop_map(|(m, n)| Op::Fill(m, n.min(300 - m))),
            3 => (0u16..302).prop_map(Op::Remove),
            2 => (0u16..302).prop_map(Op::Contains),
        ]
    }

    /// The member named by `i`: from 300 on, past 64 bytes.
    fn member(i: u16) -> Bytes {
        if i >= 300 { Bytes::from(vec![b'x'; 64 + (i - 299) as usize]) } else { Bytes::from(format!("m{i}")) }
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
                    Op::Insert(m) => prop_assert_eq!(s.insert(member(m)), model.insert(member(m))),
                    Op::Fill(m, n) => {
                        for i in m..m + n {
                            let new = model.insert(member(i));
                            prop_assert_eq!(s.insert_with(&member(i), Bytes::copy_from_slice), new);
                        }
                    }
                    Op::Remove(m) => prop_assert_eq!(s.remove(&member(m)), model.remove(&member(m))),
                    Op::Contains(m) => prop_assert_eq!(s.contains(&member(m)), model.contains(&member(m))),
                }
                prop_assert_eq!(s.len(), model.len());
                prop_assert_eq!(s.is_empty(), model.is_empty());
                let should_be_large = was_large
                    || model.len() > COMPACT_MAX_MEMBERS
                    || model.iter().any(|m| m.len() > COMPACT_MAX_BYTES);
                prop_assert_eq!(s.is_compact(), !should_be_large);
                was_large = !s.is_compact();
                let seen: StdSet<Bytes> = s.iter().cloned().collect();
                prop_assert_eq!(&seen, &model);
                prop_assert_eq!(s.iter().len(), model.len());
            }
            let rebuilt: Set = model.iter().cloned().collect();
            prop_assert_eq!(&rebuilt, &s);
        }
    }
}
