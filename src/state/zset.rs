//! The sorted set: members with double scores, ordered by (score, member).
//!
//! Members map to their node in an order-statistic treap (a binary search
//! tree ordered by `(score, member)`, heap-ordered by random priorities,
//! each node knowing the size of its subtree). That gives expected
//! O(log n) insert, remove, rank of a member and access by rank, and
//! O(log n + m) iteration over any rank range; ranges by score or by member
//! reduce to rank ranges through [`ZSet::count_while`].
//!
//! Nodes live in one `Vec` addressed by `u32` indexes (no pointers, no
//! unsafe); a removed node's slot is refilled by the last node so the
//! vector stays dense.
//!
//! Small sets skip all that: up to Redis's listpack limits they are one
//! sorted vector of `(member, score)` pairs (see [`ZSet`]).

use bytes::Bytes;
use std::cmp::Ordering;
use std::fmt;
use std::hash::BuildHasher;

use super::hashing::{HashMap, RandomState};

/// A score that orders totally (scores are never NaN).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Score(pub f64);

impl Eq for Score {}

impl PartialOrd for Score {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Score {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.total_cmp(&other.0)
    }
}

/// The absent child.
const NIL: u32 = u32::MAX;

#[derive(Debug, Clone)]
struct Node {
    member: Bytes,
    score: f64,
    left: u32,
    right: u32,
    /// Number of nodes in the subtree rooted here.
    size: u32,
    prio: u32,
}

/// Orders `(score, member)` keys. Scores are never NaN and `-0` is stored
/// as `0`, so `total_cmp` agrees with numeric comparison.
fn key_cmp(s1: f64, m1: &[u8], s2: f64, m2: &[u8]) -> Ordering {
    s1.total_cmp(&s2).then_with(|| m1.cmp(m2))
}

/// The order-statistic treap a sorted set becomes when it grows past the
/// compact limits.
#[derive(Clone)]
struct Treap {
    /// Member to node index.
    map: HashMap<Bytes, u32>,
    nodes: Vec<Node>,
    root: u32,
    /// xorshift state for node priorities (seeded per set).
    rng: u64,
}

impl Treap {
    /// An empty treap with room for `n` members.
    fn with_capacity(n: usize) -> Treap {
        // Unpredictable priorities: insertion orders cannot be crafted to
        // unbalance the tree.
        let seed = RandomState::default().hash_one(0x5a5e7u64) | 1;
        let map = HashMap::with_capacity_and_hasher(n, Default::default());
        Treap { map, nodes: Vec::with_capacity(n), root: NIL, rng: seed }
    }

    /// Number of members.
    fn len(&self) -> usize {
        self.nodes.len()
    }

    /// The score of `member`.
    fn score(&self, member: &[u8]) -> Option<f64> {
        self.map.get(member).map(|&i| self.nodes[i as usize].score)
    }

    /// Sets `member`'s score; returns whether it was new. A score of `-0`
    /// is stored as `0`, as Redis does.
    fn insert(&mut self, member: Bytes, score: f64) -> bool {
        let score = score + 0.0;
        match self.map.get(&member) {
            Some(&i) => {
                let n = &self.nodes[i as usize];
                if n.score.to_bits() != score.to_bits() {
                    let (old, m) = (n.score, n.member.clone());
                    self.root = self.detach(self.root, old, &m);
                    let n = &mut self.nodes[i as usize];
                    n.score = score;
                    n.left = NIL;
                    n.right = NIL;
                    n.size = 1;
                    self.root = self.insert_node(self.root, i);
                }
                false
            }
            None => {
                let i = u32::try_from(self.nodes.len()).expect("sorted set size fits in u32");
                let prio = self.next_prio();
                self.nodes.push(Node { member: member.clone(), score, left: NIL, right: NIL, size: 1, prio });
                self.map.insert(member, i);
                self.root = self.insert_node(self.root, i);
                true
            }
        }
    }

    /// Removes `member`; returns whether it was there.
    fn remove(&mut self, member: &[u8]) -> bool {
        let Some(i) = self.map.remove(member) else { return false };
        let (score, m) = {
            let n = &self.nodes[i as usize];
            (n.score, n.member.clone())
        };
        self.root = self.detach(self.root, score, &m);
        // Move the last node into the freed slot.
        let last = (self.nodes.len() - 1) as u32;
        if i != last {
            let (ls, lm) = {
                let n = &self.nodes[last as usize];
                (n.score, n.member.clone())
            };
            if self.root == last {
                self.root = i;
            } else {
                let mut t = self.root;
                loop {
                    let n = &self.nodes[t as usize];
                    let go_left = key_cmp(ls, &lm, n.score, &n.member) == Ordering::Less;
                    let child = if go_left { n.left } else { n.right };
                    if child == last {
                        let n = &mut self.nodes[t as usize];
                        if go_left {
                            n.left = i
                        } else {
                            n.right = i
                        }
                        break;
                    }
                    t = child;
                }
            }
            self.map.insert(lm, i);
        }
        self.nodes.swap_remove(i as usize);
        true
    }

    /// Members whose 0-based ascending rank is in `start..end` (clamped to
    /// the set), in ascending order; reverse it for descending order.
    fn range(&self, start: usize, end: usize) -> TreeIter<'_> {
        let end = end.min(self.len());
        let mut it = TreeIter { set: self, front: Vec::new(), back: Vec::new(), remaining: 0 };
        if start >= end {
            return it;
        }
        it.remaining = end - start;
        // Front: the path to rank `start`, keeping nodes still to visit.
        let (mut t, mut r) = (self.root, start);
        while t != NIL {
            let n = &self.nodes[t as usize];
            let ls = self.size(n.left);
            match r.cmp(&ls) {
                Ordering::Less => {
                    it.front.push(t);
                    t = n.left;
                }
                Ordering::Equal => {
                    it.front.push(t);
                    break;
                }
                Ordering::Greater => {
                    r -= ls + 1;
                    t = n.right;
                }
            }
        }
        // Back: the path to rank `end - 1`, mirrored.
        let (mut t, mut r) = (self.root, end - 1);
        while t != NIL {
            let n = &self.nodes[t as usize];
            let ls = self.size(n.left);
            match r.cmp(&ls) {
                Ordering::Less => t = n.left,
                Ordering::Equal => {
                    it.back.push(t);
                    break;
                }
                Ordering::Greater => {
                    it.back.push(t);
                    r -= ls + 1;
                    t = n.right;
                }
            }
        }
        it
    }

    /// The 0-based ascending rank of `member`.
    fn rank(&self, member: &[u8]) -> Option<usize> {
        let score = self.score(member)?;
        let (mut t, mut acc) = (self.root, 0);
        while t != NIL {
            let n = &self.nodes[t as usize];
            match key_cmp(score, member, n.score, &n.member) {
                Ordering::Less => t = n.left,
                Ordering::Equal => return Some(acc + self.size(n.left)),
                Ordering::Greater => {
                    acc += self.size(n.left) + 1;
                    t = n.right;
                }
            }
        }
        None
    }

    /// The member at 0-based ascending rank `rank`, with its score.
    fn get_by_rank(&self, rank: usize) -> Option<(&Bytes, f64)> {
        let (mut t, mut r) = (self.root, rank);
        while t != NIL {
            let n = &self.nodes[t as usize];
            let ls = self.size(n.left);
            match r.cmp(&ls) {
                Ordering::Less => t = n.left,
                Ordering::Equal => return Some((&n.member, n.score)),
                Ordering::Greater => {
                    r -= ls + 1;
                    t = n.right;
                }
            }
        }
        None
    }

    /// The number of leading members (in ascending order) for which `pred`
    /// holds, assuming it holds for a prefix of the order and then never
    /// again: e.g. `|s, _| s < min` gives the rank of the first member with
    /// a score of at least `min`. O(log n).
    fn count_while(&self, mut pred: impl FnMut(f64, &[u8]) -> bool) -> usize {
        let (mut t, mut acc) = (self.root, 0);
        while t != NIL {
            let n = &self.nodes[t as usize];
            if pred(n.score, &n.member) {
                acc += self.size(n.left) + 1;
                t = n.right;
            } else {
                t = n.left;
            }
        }
        acc
    }

    fn size(&self, t: u32) -> usize {
        if t == NIL { 0 } else { self.nodes[t as usize].size as usize }
    }

    fn fix_size(&mut self, t: u32) {
        let n = &self.nodes[t as usize];
        let s = 1 + self.size(n.left) + self.size(n.right);
        self.nodes[t as usize].size = s as u32;
    }

    fn next_prio(&mut self) -> u32 {
        let mut x = self.rng;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.rng = x;
        (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 32) as u32
    }

    /// Splits subtree `t` into keys below `(score, member)` and the rest.
    fn split(&mut self, t: u32, score: f64, member: &[u8]) -> (u32, u32) {
        if t == NIL {
            return (NIL, NIL);
        }
        let n = &self.nodes[t as usize];
        if key_cmp(n.score, &n.member, score, member) == Ordering::Less {
            let (l, r) = self.split(n.right, score, member);
            self.nodes[t as usize].right = l;
            self.fix_size(t);
            (t, r)
        } else {
            let (l, r) = self.split(n.left, score, member);
            self.nodes[t as usize].left = r;
            self.fix_size(t);
            (l, t)
        }
    }

    /// Joins subtrees whose keys are all below (`a`) / above (`b`) each other.
    fn merge(&mut self, a: u32, b: u32) -> u32 {
        if a == NIL {
            return b;
        }
        if b == NIL {
            return a;
        }
        if self.nodes[a as usize].prio >= self.nodes[b as usize].prio {
            let r = self.merge(self.nodes[a as usize].right, b);
            self.nodes[a as usize].right = r;
            self.fix_size(a);
            a
        } else {
            let l = self.merge(a, self.nodes[b as usize].left);
            self.nodes[b as usize].left = l;
            self.fix_size(b);
            b
        }
    }

    /// Inserts the lone node `i` into subtree `t`; returns the new root.
    fn insert_node(&mut self, t: u32, i: u32) -> u32 {
        if t == NIL {
            return i;
        }
        let (score, prio) = (self.nodes[i as usize].score, self.nodes[i as usize].prio);
        let member = self.nodes[i as usize].member.clone();
        if prio > self.nodes[t as usize].prio {
            let (l, r) = self.split(t, score, &member);
            let n = &mut self.nodes[i as usize];
            n.left = l;
            n.right = r;
            self.fix_size(i);
            return i;
        }
        let n = &self.nodes[t as usize];
        if key_cmp(score, &member, n.score, &n.member) == Ordering::Less {
            let c = self.insert_node(n.left, i);
            self.nodes[t as usize].left = c;
        } else {
            let c = self.insert_node(n.right, i);
            self.nodes[t as usize].right = c;
        }
        self.nodes[t as usize].size += 1;
        t
    }

    /// Unlinks the node with key `(score, member)` (which must be present)
    /// from subtree `t`; returns the new root.
    fn detach(&mut self, t: u32, score: f64, member: &[u8]) -> u32 {
        let n = &self.nodes[t as usize];
        match key_cmp(score, member, n.score, &n.member) {
            Ordering::Equal => self.merge(n.left, n.right),
            Ordering::Less => {
                let c = self.detach(n.left, score, member);
                self.nodes[t as usize].left = c;
                self.nodes[t as usize].size -= 1;
                t
            }
            Ordering::Greater => {
                let c = self.detach(n.right, score, member);
                self.nodes[t as usize].right = c;
                self.nodes[t as usize].size -= 1;
                t
            }
        }
    }

    #[cfg(test)]
    fn check_invariants(&self) {
        fn walk(z: &Treap, t: u32, out: &mut Vec<u32>) -> usize {
            if t == NIL {
                return 0;
            }
            let n = &z.nodes[t as usize];
            for c in [n.left, n.right] {
                if c != NIL {
                    assert!(z.nodes[c as usize].prio <= n.prio, "heap order");
                }
            }
            let l = walk(z, n.left, out);
            out.push(t);
            let r = walk(z, n.right, out);
            assert_eq!(n.size as usize, l + r + 1, "subtree size");
            l + r + 1
        }
        let mut order = Vec::new();
        assert_eq!(walk(self, self.root, &mut order), self.len());
        for w in order.windows(2) {
            let (a, b) = (&self.nodes[w[0] as usize], &self.nodes[w[1] as usize]);
            assert_eq!(key_cmp(a.score, &a.member, b.score, &b.member), Ordering::Less, "search order");
        }
        assert_eq!(self.map.len(), self.len());
        for (m, &i) in &self.map {
            assert_eq!(&self.nodes[i as usize].member, m);
        }
    }
}

/// Members a sorted set may hold in its compact form (Redis's
/// `zset-max-listpack-entries`).
pub const COMPACT_MAX_LEN: usize = 128;

/// Longest member (bytes) the compact form holds (Redis's
/// `zset-max-listpack-value`).
pub const COMPACT_MAX_MEMBER: usize = 64;

/// A sorted set.
///
/// Small sets (at most [`COMPACT_MAX_LEN`] members of at most
/// [`COMPACT_MAX_MEMBER`] bytes, Redis's listpack limits) are one vector of
/// `(member, score)` pairs kept in order: a member is found by a linear
/// search, as Redis does in its listpack, at a fraction of the treap's
/// memory (measured: 1M members in 100k sets took 288 MB as treaps). A set
/// that crosses a limit becomes a treap for good.
#[derive(Clone)]
pub struct ZSet {
    repr: Repr,
}

#[derive(Clone)]
enum Repr {
    /// Pairs in `(score, member)` order.
    Small(Vec<(Bytes, f64)>),
    Tree(Box<Treap>),
}

impl Default for ZSet {
    fn default() -> Self {
        ZSet::new()
    }
}

impl PartialEq for ZSet {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len()
            && self.iter().zip(other.iter()).all(|(a, b)| a.0 == b.0 && a.1.to_bits() == b.1.to_bits())
    }
}

impl fmt::Debug for ZSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl ZSet {
    /// An empty sorted set (compact).
    pub fn new() -> ZSet {
        ZSet { repr: Repr::Small(Vec::new()) }
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Small(v) => v.len(),
            Repr::Tree(t) => t.len(),
        }
    }

    /// Whether the set has no members.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the set is in its compact form (`OBJECT ENCODING` says
    /// `listpack`) rather than a tree (`skiplist`).
    pub fn is_compact(&self) -> bool {
        matches!(self.repr, Repr::Small(_))
    }

    /// The score of `member`.
    pub fn score(&self, member: &[u8]) -> Option<f64> {
        match &self.repr {
            Repr::Small(v) => v.iter().find(|(m, _)| m.as_ref() == member).map(|(_, s)| *s),
            Repr::Tree(t) => t.score(member),
        }
    }

    /// Sets `member`'s score; returns whether it was new. A score of `-0`
    /// is stored as `0`, as Redis does.
    pub fn insert(&mut self, member: Bytes, score: f64) -> bool {
        let score = score + 0.0;
        let Repr::Small(v) = &mut self.repr else {
            let Repr::Tree(t) = &mut self.repr else { unreachable!("matched above") };
            return t.insert(member, score);
        };
        let at = v.iter().position(|(m, _)| *m == member);
        if at.is_none() && (v.len() >= COMPACT_MAX_LEN || member.len() > COMPACT_MAX_MEMBER) {
            self.make_tree();
            return self.insert(member, score);
        }
        let new = match at {
            Some(i) if v[i].1.to_bits() == score.to_bits() => return false,
            Some(i) => {
                v.remove(i);
                false
            }
            None => true,
        };
        let i = v.partition_point(|(m, s)| key_cmp(*s, m, score, &member) == Ordering::Less);
        super::compact::reserve_one(v);
        v.insert(i, (member, score));
        new
    }

    /// Turns a compact set into a treap.
    fn make_tree(&mut self) {
        if let Repr::Small(v) = &mut self.repr {
            let pairs = std::mem::take(v);
            let mut t = Treap::with_capacity(pairs.len() + 1);
            for (m, s) in pairs {
                t.insert(m, s);
            }
            self.repr = Repr::Tree(Box::new(t));
        }
    }

    /// A copy in the same form whose members are made with
    /// [`stored`](super::value::stored), sharing no buffer with this one.
    pub fn to_stored(&self) -> ZSet {
        use super::value::stored;
        match &self.repr {
            Repr::Small(v) => ZSet { repr: Repr::Small(v.iter().map(|(m, s)| (stored(m), *s)).collect()) },
            Repr::Tree(t) => {
                let mut n = Treap::with_capacity(t.len());
                for (m, s) in t.range(0, t.len()) {
                    n.insert(stored(m), s);
                }
                ZSet { repr: Repr::Tree(Box::new(n)) }
            }
        }
    }

    /// Removes `member`; returns whether it was there.
    pub fn remove(&mut self, member: &[u8]) -> bool {
        match &mut self.repr {
            Repr::Small(v) => match v.iter().position(|(m, _)| m.as_ref() == member) {
                Some(i) => {
                    v.remove(i);
                    super::compact::trim_spare(v);
                    true
                }
                None => false,
            },
            Repr::Tree(t) => t.remove(member),
        }
    }

    /// Members with scores in ascending order (reverse it for descending).
    pub fn iter(&self) -> Iter<'_> {
        self.range(0, self.len())
    }

    /// Members whose 0-based ascending rank is in `start..end` (clamped to
    /// the set), in ascending order; reverse it for descending order.
    pub fn range(&self, start: usize, end: usize) -> Iter<'_> {
        match &self.repr {
            Repr::Small(v) => {
                let end = end.min(v.len());
                Iter(IterRepr::Small(v[start.min(end)..end].iter()))
            }
            Repr::Tree(t) => Iter(IterRepr::Tree(t.range(start, end))),
        }
    }

    /// The 0-based ascending rank of `member`.
    pub fn rank(&self, member: &[u8]) -> Option<usize> {
        match &self.repr {
            Repr::Small(v) => v.iter().position(|(m, _)| m.as_ref() == member),
            Repr::Tree(t) => t.rank(member),
        }
    }

    /// The member at 0-based ascending rank `rank`, with its score.
    pub fn get_by_rank(&self, rank: usize) -> Option<(&Bytes, f64)> {
        match &self.repr {
            Repr::Small(v) => v.get(rank).map(|(m, s)| (m, *s)),
            Repr::Tree(t) => t.get_by_rank(rank),
        }
    }

    /// The number of leading members (in ascending order) for which `pred`
    /// holds, assuming it holds for a prefix of the order and then never
    /// again: e.g. `|s, _| s < min` gives the rank of the first member with
    /// a score of at least `min`. O(log n).
    pub fn count_while(&self, mut pred: impl FnMut(f64, &[u8]) -> bool) -> usize {
        match &self.repr {
            Repr::Small(v) => v.partition_point(|(m, s)| pred(*s, m)),
            Repr::Tree(t) => t.count_while(pred),
        }
    }

    #[cfg(test)]
    fn check_invariants(&self) {
        match &self.repr {
            Repr::Small(v) => {
                assert!(v.len() <= COMPACT_MAX_LEN);
                for w in v.windows(2) {
                    assert_eq!(key_cmp(w[0].1, &w[0].0, w[1].1, &w[1].0), Ordering::Less, "compact order");
                }
                assert!(v.iter().all(|(m, _)| m.len() <= COMPACT_MAX_MEMBER));
            }
            Repr::Tree(t) => t.check_invariants(),
        }
    }
}

/// An iterator over a rank range of a [`ZSet`], from either end.
pub struct Iter<'a>(IterRepr<'a>);

enum IterRepr<'a> {
    Small(std::slice::Iter<'a, (Bytes, f64)>),
    Tree(TreeIter<'a>),
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a Bytes, f64);

    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.0 {
            IterRepr::Small(i) => i.next().map(|(m, s)| (m, *s)),
            IterRepr::Tree(i) => i.next(),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match &self.0 {
            IterRepr::Small(i) => i.size_hint(),
            IterRepr::Tree(i) => i.size_hint(),
        }
    }
}

impl DoubleEndedIterator for Iter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        match &mut self.0 {
            IterRepr::Small(i) => i.next_back().map(|(m, s)| (m, *s)),
            IterRepr::Tree(i) => i.next_back(),
        }
    }
}

impl ExactSizeIterator for Iter<'_> {}

/// An in-order walk over a rank range of a [`Treap`], from either end.
struct TreeIter<'a> {
    set: &'a Treap,
    /// Nodes still to visit going forward; the next one on top.
    front: Vec<u32>,
    /// Nodes still to visit going backward; the next one on top.
    back: Vec<u32>,
    remaining: usize,
}

impl<'a> Iterator for TreeIter<'a> {
    type Item = (&'a Bytes, f64);

    fn next(&mut self) -> Option<Self::Item> {
        if self.remaining == 0 {
            return None;
        }
        self.remaining -= 1;
        let nodes = &self.set.nodes;
        let t = self.front.pop()?;
        let mut c = nodes[t as usize].right;
        while c != NIL {
            self.front.push(c);
            c = nodes[c as usize].left;
        }
        let n = &nodes[t as usize];
        Some((&n.member, n.score))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl DoubleEndedIterator for TreeIter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        if self.remaining == 0 {
            return None;
        }
        self.remaining -= 1;
        let nodes = &self.set.nodes;
        let t = self.back.pop()?;
        let mut c = nodes[t as usize].left;
        while c != NIL {
            self.back.push(c);
            c = nodes[c as usize].right;
        }
        let n = &nodes[t as usize];
        Some((&n.member, n.score))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn b(s: &str) -> Bytes {
        Bytes::copy_from_slice(s.as_bytes())
    }

    fn members(z: &ZSet) -> Vec<(String, f64)> {
        z.iter().map(|(m, s)| (String::from_utf8_lossy(m).into_owned(), s)).collect()
    }

    #[test]
    fn orders_by_score_then_member() {
        let mut z = ZSet::new();
        assert!(z.insert(b("b"), 1.0));
        assert!(z.insert(b("a"), 1.0));
        assert!(z.insert(b("c"), 0.5));
        assert!(!z.insert(b("c"), 2.0));
        assert!(z.insert(b("n"), f64::NEG_INFINITY));
        z.check_invariants();
        assert_eq!(
            members(&z),
            [("n".into(), f64::NEG_INFINITY), ("a".into(), 1.0), ("b".into(), 1.0), ("c".into(), 2.0)]
        );
        assert_eq!(z.rank(b"b"), Some(2));
        assert_eq!(z.rank(b"zz"), None);
        assert_eq!(z.get_by_rank(3).map(|(m, s)| (m.clone(), s)), Some((b("c"), 2.0)));
        assert_eq!(z.get_by_rank(4), None);
        assert_eq!(z.count_while(|s, _| s < 1.0), 1);
        assert_eq!(z.count_while(|s, _| s <= 1.0), 3);
        let rev: Vec<_> = z.range(1, 3).rev().map(|(m, _)| m.clone()).collect();
        assert_eq!(rev, [b("b"), b("a")]);
        assert!(z.remove(b"a"));
        assert!(!z.remove(b"a"));
        z.check_invariants();
        assert_eq!(z.len(), 3);
    }

    #[test]
    fn negative_zero_is_zero() {
        let mut z = ZSet::new();
        z.insert(b("a"), -0.0);
        assert!(z.score(b"a").unwrap().is_sign_positive());
    }

    #[test]
    fn iterates_from_both_ends_without_crossing() {
        let mut z = ZSet::new();
        for i in 0..100 {
            z.insert(Bytes::from(format!("m{i:03}")), i as f64);
        }
        let mut it = z.range(10, 20);
        assert_eq!(it.len(), 10);
        let mut got = Vec::new();
        while let Some((_, s)) = it.next() {
            got.push(s);
            if let Some((_, s)) = it.next_back() {
                got.push(s);
            }
        }
        assert_eq!(got, [10.0, 19.0, 11.0, 18.0, 12.0, 17.0, 13.0, 16.0, 14.0, 15.0]);
        assert_eq!(z.range(99, 500).count(), 1);
        assert_eq!(z.range(50, 50).count(), 0);
        assert_eq!(z.range(200, 300).count(), 0);
    }

    #[test]
    fn equality_ignores_layout() {
        let mut a = ZSet::new();
        let mut c = ZSet::new();
        for i in 0..50 {
            a.insert(Bytes::from(i.to_string()), i as f64);
        }
        for i in (0..50).rev() {
            c.insert(Bytes::from(i.to_string()), i as f64);
        }
        assert_eq!(a, c);
        c.insert(b("7"), 0.5);
        assert_ne!(a, c);
    }

    #[derive(Debug, Clone)]
    enum Op {
        Insert(u8, i8),
        Remove(u8),
    }

    /// Member `i`'s name: a few are longer than the compact form holds.
    fn member_name(i: u8) -> String {
        if i % 50 == 49 { format!("m{i}{}", "x".repeat(COMPACT_MAX_MEMBER)) } else { format!("m{i}") }
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            3 => (0u8..200, -5i8..5).prop_map(|(m, s)| Op::Insert(m, s)),
            1 => (0u8..200).prop_map(Op::Remove),
        ]
    }

    /// A set that is a treap from the start.
    fn tree() -> ZSet {
        let mut z = ZSet::new();
        z.make_tree();
        z
    }

    #[test]
    fn a_set_becomes_a_tree_past_the_compact_limits_and_stays_one() {
        let mut z = ZSet::new();
        for i in 0..COMPACT_MAX_LEN {
            z.insert(Bytes::from(format!("m{i:03}")), (i % 7) as f64);
        }
        assert!(z.is_compact());
        // Updating a member does not grow the set.
        z.insert(b("m000"), 100.0);
        assert!(z.is_compact());
        let before: Vec<_> = z.iter().map(|(m, s)| (m.clone(), s)).collect();
        z.insert(b("new"), 3.0);
        assert!(!z.is_compact());
        z.check_invariants();
        z.remove(b"new");
        assert!(!z.is_compact(), "no way back, as in Redis");
        assert_eq!(z.iter().map(|(m, s)| (m.clone(), s)).collect::<Vec<_>>(), before);

        let mut long = ZSet::new();
        long.insert(Bytes::from(vec![b'a'; COMPACT_MAX_MEMBER]), 1.0);
        assert!(long.is_compact());
        long.insert(Bytes::from(vec![b'b'; COMPACT_MAX_MEMBER + 1]), 0.0);
        assert!(!long.is_compact());
        assert_eq!(long.rank(&[b'b'; COMPACT_MAX_MEMBER + 1]), Some(0));
        long.check_invariants();
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// Both forms agree with a sorted `Vec` after any operations (the
        /// compact one also across its switch to a tree: up to 200
        /// members, some longer than the compact limit).
        #[test]
        fn matches_sorted_vec_model(
            ops in prop::collection::vec(op(), 0..400),
            lo in 0usize..50,
            n in 0usize..50,
            as_tree: bool,
        ) {
            let mut z = if as_tree { tree() } else { ZSet::new() };
            let mut model: Vec<(f64, Bytes)> = Vec::new();
            for op in ops {
                match op {
                    Op::Insert(m, s) => {
                        let m = Bytes::from(member_name(m));
                        let s = f64::from(s) / 2.0;
                        let pos = model.iter().position(|(_, x)| *x == m);
                        let new = pos.is_none();
                        if let Some(p) = pos {
                            model.remove(p);
                        }
                        model.push((s, m.clone()));
                        model.sort_by(|a, b| key_cmp(a.0, &a.1, b.0, &b.1));
                        prop_assert_eq!(z.insert(m, s), new);
                    }
                    Op::Remove(m) => {
                        let m = member_name(m);
                        let pos = model.iter().position(|(_, x)| x.as_ref() == m.as_bytes());
                        if let Some(p) = pos {
                            model.remove(p);
                        }
                        prop_assert_eq!(z.remove(m.as_bytes()), pos.is_some());
                    }
                }
            }
            z.check_invariants();
            prop_assert_eq!(z.len(), model.len());
            let all: Vec<(f64, Bytes)> = z.iter().map(|(m, s)| (s, m.clone())).collect();
            prop_assert_eq!(&all, &model);
            let rev: Vec<(f64, Bytes)> = z.iter().rev().map(|(m, s)| (s, m.clone())).collect();
            let mut mrev = model.clone();
            mrev.reverse();
            prop_assert_eq!(rev, mrev);
            for (i, (s, m)) in model.iter().enumerate() {
                prop_assert_eq!(z.rank(m), Some(i));
                prop_assert_eq!(z.score(m), Some(*s));
                prop_assert_eq!(z.get_by_rank(i).map(|(m, s)| (s, m.clone())), Some((*s, m.clone())));
            }
            let end = (lo + n).min(model.len());
            let want: Vec<(f64, Bytes)> = model.get(lo.min(end)..end).unwrap_or(&[]).to_vec();
            let got: Vec<(f64, Bytes)> = z.range(lo, lo + n).map(|(m, s)| (s, m.clone())).collect();
            prop_assert_eq!(got, want);
            let cut = f64::from(lo as u8 % 10) / 2.0 - 2.5;
            prop_assert_eq!(z.count_while(|s, _| s < cut), model.iter().filter(|(s, _)| *s < cut).count());
        }
    }
}
