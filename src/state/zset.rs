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
//! Small sets skip all that: up to Redis's listpack limits (128 members
//! of at most 64 bytes) they are ONE byte buffer, as Redis keeps them in
//! one listpack (a `compact::Packed<1, 8>`, see `state/compact.rs`):
//!
//! ```text
//! [score1: 8 bytes][len m1][m1 bytes][score2: 8 bytes][len m2][m2 bytes]...
//! ```
//!
//! entries back to back in `(score, member)` order, each score the bits of
//! its `f64` in little-endian order. A member is found by a linear scan
//! that compares its length byte first; the place of a new entry, a rank,
//! a member by rank and a score range are linear walks too (entries vary
//! in length, so there is no binary search), reading a few cache lines in
//! order. Ten members of a dozen bytes take one allocation of 210 bytes,
//! where a vector of `(Bytes, f64)` pairs took 40 bytes per member plus an
//! allocation per member (1M members in ~10-member sets: 104-112 MB ->
//! 57-70 MB of RSS; as treaps they took 288 MB). A changed score moves its
//! entry within the buffer in place.
//!
//! Reads hand out `&[u8]` (the packed form has no `Bytes` to lend); a reply
//! copies what it sends, so nothing in the keyspace is shared by a read.

use bytes::Bytes;
use std::cmp::Ordering;
use std::fmt;
use std::hash::BuildHasher;

use super::compact::{Entries, Packed, Shown};
use super::hashing::RandomState;
use super::ordered::HashOrdered;
use super::value::stored;

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
    /// Member to node index, in the order of a seeded hash of the member
    /// (`ZSCAN`'s cursor).
    map: HashOrdered<Bytes, u32>,
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
        Treap { map: HashOrdered::new(), nodes: Vec::with_capacity(n), root: NIL, rng: seed }
    }

    /// Number of members.
    fn len(&self) -> usize {
        self.nodes.len()
    }

    /// A treap of `items`, in ascending `(score, member)` order with no
    /// member twice and no `-0`, built in linear time: each node goes on
    /// the right spine, under the last node of a higher priority. Inserting
    /// them one by one cost a descent each, with a cache miss per level
    /// (`ZUNIONSTORE` of two 2M-member sets: 20 s, twice Redis's time).
    fn from_sorted(items: impl Iterator<Item = (Bytes, f64)>, n: usize) -> Treap {
        let mut t = Treap::with_capacity(n);
        let mut spine: Vec<u32> = Vec::new();
        for (member, score) in items {
            let i = u32::try_from(t.nodes.len()).expect("sorted set size fits in u32");
            let prio = t.next_prio();
            let mut left = NIL;
            while let Some(&top) = spine.last() {
                if t.nodes[top as usize].prio >= prio {
                    break;
                }
                left = top;
                spine.pop();
            }
            if let Some(&top) = spine.last() {
                t.nodes[top as usize].right = i;
            }
            spine.push(i);
            t.nodes.push(Node { member, score, left, right: NIL, size: 1, prio });
        }
        t.root = spine.first().copied().unwrap_or(NIL);
        t.map = t.nodes.iter().zip(0..).map(|(n, i)| (n.member.clone(), i)).collect();
        // Subtree sizes, children before parents (no recursion: a spine
        // can be long).
        let mut order = Vec::with_capacity(t.nodes.len());
        let mut todo = vec![t.root];
        while let Some(x) = todo.pop() {
            if x != NIL {
                order.push(x);
                todo.push(t.nodes[x as usize].left);
                todo.push(t.nodes[x as usize].right);
            }
        }
        for &x in order.iter().rev() {
            t.fix_size(x);
        }
        t
    }

    /// The score of `member`.
    fn score(&self, member: &[u8]) -> Option<f64> {
        self.map.get(member).map(|&i| self.nodes[i as usize].score)
    }

    /// Sets `member`'s score (a new member is kept as `make()`); returns
    /// whether it was new. A score of `-0` is stored as `0`, as Redis does.
    fn insert(&mut self, member: &[u8], score: f64, make: impl FnOnce() -> Bytes) -> bool {
        let score = score + 0.0;
        match self.map.get(member) {
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
                let member = make();
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
    fn get_by_rank(&self, rank: usize) -> Option<(&[u8], f64)> {
        let (mut t, mut r) = (self.root, rank);
        while t != NIL {
            let n = &self.nodes[t as usize];
            let ls = self.size(n.left);
            match r.cmp(&ls) {
                Ordering::Less => t = n.left,
                Ordering::Equal => return Some((&n.member[..], n.score)),
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
        for (m, &i) in self.map.iter() {
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

const _: () = assert!(COMPACT_MAX_MEMBER <= super::compact::MAX_PART);

/// Bytes of a score in the compact form.
const SCORE: usize = 8;

/// The compact form's buffer: per member, its score (8 bytes, the bits of
/// the `f64` in little-endian order) then its length byte and its bytes.
type Small = Packed<1, SCORE>;

/// A score read back from the compact form.
fn score_of(fixed: &[u8; SCORE]) -> f64 {
    f64::from_le_bytes(*fixed)
}

/// A sorted set.
///
/// Small sets (at most [`COMPACT_MAX_LEN`] members of at most
/// [`COMPACT_MAX_MEMBER`] bytes, Redis's listpack limits) are ONE byte
/// buffer of entries in `(score, member)` order, each the score's 8 bytes
/// followed by the member's length byte and its bytes (see the module
/// documentation): a member is found by a linear scan, as Redis does in
/// its listpack, at a fraction of the treap's memory. A set that crosses a
/// limit becomes a treap for good.
///
/// Reads hand out `&[u8]`: the packed form has no `Bytes` to lend.
#[derive(Clone)]
pub struct ZSet {
    repr: Repr,
}

/// The two representations of a [`ZSet`].
#[derive(Clone)]
enum Repr {
    /// Entries in `(score, member)` order.
    Small(Small),
    /// Any size.
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
        f.debug_map().entries(self.iter().map(|(m, s)| (Shown(m), s))).finish()
    }
}

impl ZSet {
    /// An empty sorted set (compact, nothing allocated).
    pub fn new() -> ZSet {
        ZSet { repr: Repr::Small(Small::default()) }
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Small(p) => p.len(),
            Repr::Tree(t) => t.len(),
        }
    }

    /// Whether the set has no members.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Visits the members and scores of a `ZSCAN` call from `cursor` on:
    /// every member of a compact set at once (whatever the cursor, as Redis
    /// answers for a listpack), about `count` of a tree; returns the cursor
    /// to go on from (0: done).
    pub fn scan(&self, cursor: u64, count: usize, mut visit: impl FnMut(&[u8], f64)) -> u64 {
        match &self.repr {
            Repr::Small(_) => {
                self.iter().for_each(|(m, s)| visit(m, s));
                0
            }
            Repr::Tree(t) => t.map.scan(cursor, count, |m, &i| visit(m, t.nodes[i as usize].score)),
        }
    }

    /// Whether the set is in its compact form (`OBJECT ENCODING` says
    /// `listpack`) rather than a tree (`skiplist`).
    pub fn is_compact(&self) -> bool {
        matches!(self.repr, Repr::Small(_))
    }

    /// The score of `member`.
    pub fn score(&self, member: &[u8]) -> Option<f64> {
        match &self.repr {
            Repr::Small(p) => p.find(member).map(|at| score_of(p.fixed(at))),
            Repr::Tree(t) => t.score(member),
        }
    }

    /// Sets `member`'s score; returns whether it was new. A score of `-0`
    /// is stored as `0`, as Redis does. The compact form copies the member
    /// into its buffer; the tree keeps it by the keyspace's rule
    /// ([`stored`]: short bytes copied, long ones shared).
    pub fn insert(&mut self, member: &Bytes, score: f64) -> bool {
        self.add(member, score, || stored(member))
    }

    /// [`ZSet::insert`] of bytes that are not a `Bytes` (always copied).
    pub fn insert_slice(&mut self, member: &[u8], score: f64) -> bool {
        self.add(member, score, || Bytes::copy_from_slice(member))
    }

    /// Sets `member`'s score (a new member of the tree is `make()`);
    /// returns whether it was new.
    fn add(&mut self, member: &[u8], score: f64, make: impl FnOnce() -> Bytes) -> bool {
        let score = score + 0.0;
        if let Repr::Small(p) = &mut self.repr {
            // Where the entry belongs: after every key below its new one
            // (its old entry included, if its score goes up).
            let below = |f: &[u8; SCORE], [m]: [&[u8]; 1]| key_cmp(score_of(f), m, score, member) == Ordering::Less;
            match p.find(member) {
                Some(at) => {
                    if score_of(p.fixed(at)).to_bits() != score.to_bits() {
                        let (to, _) = p.partition_point(below);
                        let at = p.move_entry(at, to);
                        p.set_fixed(at, score.to_le_bytes());
                    }
                    return false;
                }
                None if p.len() < COMPACT_MAX_LEN && member.len() <= COMPACT_MAX_MEMBER => {
                    let (to, _) = p.partition_point(below);
                    p.insert(to, score.to_le_bytes(), [member]);
                    return true;
                }
                None => self.make_tree(),
            }
        }
        let Repr::Tree(t) = &mut self.repr else { unreachable!("made a tree above") };
        t.insert(member, score, make)
    }

    /// A sorted set of `items`, each member once, in any order (the result
    /// of a set operation): sorted, then built at once.
    pub fn from_unique(mut items: Vec<(Bytes, f64)>) -> ZSet {
        for it in &mut items {
            it.1 += 0.0;
        }
        items.sort_unstable_by(|a, b| key_cmp(a.1, &a.0, b.1, &b.0));
        if items.len() <= COMPACT_MAX_LEN && items.iter().all(|(m, _)| m.len() <= COMPACT_MAX_MEMBER) {
            let mut z = ZSet::new();
            for (m, s) in &items {
                z.insert(m, *s);
            }
            return z;
        }
        let n = items.len();
        ZSet { repr: Repr::Tree(Box::new(Treap::from_sorted(items.into_iter(), n))) }
    }

    /// Turns a compact set into a treap.
    fn make_tree(&mut self) {
        if let Repr::Small(p) = &self.repr {
            let mut t = Treap::with_capacity(p.len() + 1);
            let mut it = p.iter();
            while let Some((f, [m])) = it.next_entry() {
                t.insert(m, score_of(f), || Bytes::copy_from_slice(m));
            }
            self.repr = Repr::Tree(Box::new(t));
        }
    }

    /// A copy in the same form for the keyspace: the compact form's buffer
    /// copied exactly; the tree's members made with [`stored`], sharing no
    /// short buffer with this one.
    pub fn to_stored(&self) -> ZSet {
        match &self.repr {
            Repr::Small(p) => ZSet { repr: Repr::Small(p.clone()) },
            Repr::Tree(t) => {
                let mut nodes = t.range(0, t.len());
                let items = std::iter::from_fn(|| nodes.next_node()).map(|i| {
                    let n = &t.nodes[i as usize];
                    (stored(&n.member), n.score)
                });
                ZSet { repr: Repr::Tree(Box::new(Treap::from_sorted(items, t.len()))) }
            }
        }
    }

    /// Whether the set shares no buffer: true of the compact form (it
    /// owns its one buffer), false of the tree (its index and its nodes
    /// hold each member by one shared handle, by design). What the
    /// keyspace's tests check of everything it holds.
    #[cfg(test)]
    pub(crate) fn shares_nothing(&self) -> bool {
        self.is_compact()
    }

    /// Removes `member`; returns whether it was there.
    pub fn remove(&mut self, member: &[u8]) -> bool {
        match &mut self.repr {
            Repr::Small(p) => match p.find(member) {
                Some(at) => {
                    p.remove(at);
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
    #[inline]
    pub fn range(&self, start: usize, end: usize) -> Iter<'_> {
        match &self.repr {
            Repr::Small(p) => Iter(IterRepr::Small(p.range(start, end))),
            Repr::Tree(t) => Iter(IterRepr::Tree(t.range(start, end))),
        }
    }

    /// The 0-based ascending rank of `member`.
    pub fn rank(&self, member: &[u8]) -> Option<usize> {
        match &self.repr {
            Repr::Small(p) => p.find_index(member).map(|(_, i)| i),
            Repr::Tree(t) => t.rank(member),
        }
    }

    /// The member at 0-based ascending rank `rank`, with its score.
    pub fn get_by_rank(&self, rank: usize) -> Option<(&[u8], f64)> {
        match &self.repr {
            Repr::Small(p) => p.range(rank, rank + 1).next_entry().map(|(f, [m])| (m, score_of(f))),
            Repr::Tree(t) => t.get_by_rank(rank),
        }
    }

    /// The number of leading members (in ascending order) for which `pred`
    /// holds, assuming it holds for a prefix of the order and then never
    /// again: e.g. `|s, _| s < min` gives the rank of the first member with
    /// a score of at least `min`. O(log n) on the tree, a linear walk on
    /// the compact form.
    pub fn count_while(&self, mut pred: impl FnMut(f64, &[u8]) -> bool) -> usize {
        match &self.repr {
            Repr::Small(p) => p.partition_point(|f, [m]| pred(score_of(f), m)).1,
            Repr::Tree(t) => t.count_while(pred),
        }
    }

    /// The bytes the compact form's entries use and its buffer's capacity.
    #[cfg(test)]
    fn footprint(&self) -> Option<(usize, usize)> {
        match &self.repr {
            Repr::Small(p) => Some(p.footprint()),
            Repr::Tree(_) => None,
        }
    }

    #[cfg(test)]
    fn check_invariants(&self) {
        match &self.repr {
            Repr::Small(p) => {
                assert!(p.len() <= COMPACT_MAX_LEN);
                let all: Vec<(&[u8], f64)> = self.iter().collect();
                assert_eq!(all.len(), p.len());
                for w in all.windows(2) {
                    assert_eq!(key_cmp(w[0].1, w[0].0, w[1].1, w[1].0), Ordering::Less, "compact order");
                }
                assert!(all.iter().all(|(m, s)| m.len() <= COMPACT_MAX_MEMBER && !s.is_nan()));
                assert!(all.iter().all(|(_, s)| s.to_bits() != (-0.0f64).to_bits()), "-0 is stored as 0");
                let used: usize = all.iter().map(|(m, _)| SCORE + 1 + m.len()).sum();
                assert_eq!(p.footprint().0, used, "entries back to back");
            }
            Repr::Tree(t) => t.check_invariants(),
        }
    }
}

/// An iterator over a rank range of a [`ZSet`], from either end.
pub struct Iter<'a>(IterRepr<'a>);

/// The representation-specific iterator inside [`Iter`].
enum IterRepr<'a> {
    /// Over the packed buffer.
    Small(Entries<'a, 1, SCORE>),
    /// Over the treap.
    Tree(TreeIter<'a>),
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a [u8], f64);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.0 {
            IterRepr::Small(i) => i.next_entry().map(|(f, [m])| (m, score_of(f))),
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
    #[inline]
    fn next_back(&mut self) -> Option<Self::Item> {
        match &mut self.0 {
            IterRepr::Small(i) => i.next_back_entry().map(|(f, [m])| (m, score_of(f))),
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

impl TreeIter<'_> {
    /// The index of the next node going forward.
    fn next_node(&mut self) -> Option<u32> {
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
        Some(t)
    }
}

impl<'a> Iterator for TreeIter<'a> {
    type Item = (&'a [u8], f64);

    fn next(&mut self) -> Option<Self::Item> {
        let n = &self.set.nodes[self.next_node()? as usize];
        Some((&n.member[..], n.score))
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
        Some((&n.member[..], n.score))
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

    /// Every member and score, copied.
    fn pairs<'a>(it: impl Iterator<Item = (&'a [u8], f64)>) -> Vec<(Bytes, f64)> {
        it.map(|(m, s)| (Bytes::copy_from_slice(m), s)).collect()
    }

    #[test]
    fn orders_by_score_then_member() {
        for as_tree in [false, true] {
            let mut z = if as_tree { tree() } else { ZSet::new() };
            assert!(z.insert(&b("b"), 1.0));
            assert!(z.insert(&b("a"), 1.0));
            assert!(z.insert(&b("c"), 0.5));
            assert!(!z.insert(&b("c"), 2.0));
            assert!(z.insert_slice(b"n", f64::NEG_INFINITY));
            z.check_invariants();
            assert_eq!(
                members(&z),
                [("n".into(), f64::NEG_INFINITY), ("a".into(), 1.0), ("b".into(), 1.0), ("c".into(), 2.0)]
            );
            assert_eq!(z.rank(b"b"), Some(2));
            assert_eq!(z.rank(b"zz"), None);
            assert_eq!(z.get_by_rank(3), Some((&b"c"[..], 2.0)));
            assert_eq!(z.get_by_rank(4), None);
            assert_eq!(z.count_while(|s, _| s < 1.0), 1);
            assert_eq!(z.count_while(|s, _| s <= 1.0), 3);
            let rev: Vec<_> = z.range(1, 3).rev().map(|(m, _)| m).collect();
            assert_eq!(rev, [b"b", b"a"]);
            assert!(z.remove(b"a"));
            assert!(!z.remove(b"a"));
            z.check_invariants();
            assert_eq!(z.len(), 3);
            assert_eq!(format!("{z:?}"), r#"{b"n": -inf, b"b": 1.0, b"c": 2.0}"#);
        }
    }

    #[test]
    fn negative_zero_is_zero() {
        for as_tree in [false, true] {
            let mut z = if as_tree { tree() } else { ZSet::new() };
            z.insert(&b("a"), -0.0);
            assert!(z.score(b"a").unwrap().is_sign_positive());
            // The same score, whatever its sign: nothing moves.
            z.insert(&b("b"), 0.0);
            assert!(!z.insert(&b("a"), 0.0));
            assert!(!z.insert(&b("b"), -0.0));
            assert_eq!(members(&z), [("a".into(), 0.0), ("b".into(), 0.0)]);
            z.check_invariants();
        }
    }

    #[test]
    fn iterates_from_both_ends_without_crossing() {
        for n in [100, 1000] {
            let mut z = ZSet::new();
            for i in 0..n {
                z.insert(&Bytes::from(format!("m{i:03}")), i as f64);
            }
            assert_eq!(z.is_compact(), n <= COMPACT_MAX_LEN);
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
            let mut it = z.range(10, 13);
            assert_eq!(it.next_back().map(|(_, s)| s), Some(12.0));
            assert_eq!(it.next().map(|(_, s)| s), Some(10.0));
            assert_eq!(it.len(), 1);
            assert_eq!(it.next().map(|(_, s)| s), Some(11.0));
            assert_eq!(it.next_back(), None);
            assert_eq!(z.range(n - 1, n + 400).count(), 1);
            assert_eq!(z.range(50, 50).count(), 0);
            assert_eq!(z.range(n + 100, n + 200).count(), 0);
            assert_eq!(z.range(n + 100, n + 200).next_back(), None);
        }
    }

    #[test]
    fn equality_ignores_layout() {
        let mut a = ZSet::new();
        let mut c = ZSet::new();
        for i in 0..50 {
            a.insert(&Bytes::from(i.to_string()), i as f64);
        }
        for i in (0..50).rev() {
            c.insert(&Bytes::from(i.to_string()), i as f64);
        }
        assert_eq!(a, c);
        c.insert(&b("7"), 0.5);
        assert_ne!(a, c);
        let mut t = tree();
        for i in 0..50 {
            t.insert(&Bytes::from(i.to_string()), i as f64);
        }
        assert_eq!(a, t);
    }

    #[test]
    fn ten_short_members_take_one_buffer_with_little_spare_room() {
        let mut z = ZSet::new();
        for i in 0..10 {
            z.insert(&b(&format!("member:{i:05}")), f64::from(i % 3));
        }
        // Per member: its score, one length byte and its bytes; nothing
        // else, in one allocation.
        let (used, capacity) = z.footprint().unwrap();
        assert_eq!(used, 10 * (8 + 1 + 12));
        assert!(capacity <= used + used / 8, "{capacity} bytes allocated for {used}");
        // ... held by a value no bigger than a string's handle.
        assert!(std::mem::size_of::<ZSet>() <= std::mem::size_of::<Bytes>());
        // A copy for the keyspace is exact, and in the same form.
        let copy = z.to_stored();
        assert_eq!(copy.footprint(), Some((used, used)));
        assert_eq!(copy, z);
        // Changed scores move entries in place: the buffer keeps its size.
        for i in 0..10 {
            z.insert(&b(&format!("member:{i:05}")), f64::from(10 - i));
        }
        assert_eq!(z.footprint(), Some((used, capacity)));
        assert_eq!(z.get_by_rank(0), Some((&b"member:00009"[..], 1.0)));
        z.check_invariants();
        // Emptied, it frees its buffer.
        for i in 0..10 {
            assert!(z.remove(format!("member:{i:05}").as_bytes()));
        }
        assert_eq!(z.footprint(), Some((0, 0)));
    }

    #[test]
    fn a_copy_of_a_tree_is_a_tree() {
        let mut z = tree();
        z.insert(&b("short"), 1.0);
        z.insert(&Bytes::from(vec![b'x'; 1000]), 2.0);
        let copy = z.to_stored();
        assert!(!copy.is_compact(), "a copy keeps the tree");
        assert_eq!(copy, z);
    }

    #[derive(Debug, Clone)]
    enum Op {
        Insert(u8, u8),
        Remove(u8),
        /// Removes every member, then adds those of indexes below the
        /// given one back (emptying the buffer and filling it again).
        Refill(u8),
    }

    /// Member `i`'s name: a few are longer than the compact form holds,
    /// some exactly as long, some just shorter, one empty.
    fn member_name(i: u8) -> String {
        match i % 50 {
            49 => format!("m{i}{}", "x".repeat(COMPACT_MAX_MEMBER)),
            48 => format!("{i:0>w$}", w = COMPACT_MAX_MEMBER),
            47 => format!("{i:0>w$}", w = COMPACT_MAX_MEMBER - 1),
            0 if i == 0 => String::new(),
            _ => format!("m{i}"),
        }
    }

    /// The scores drawn from: halves around zero (so that many members
    /// share one), both zeros, both infinities, and extremes.
    fn score_of_index(i: u8) -> f64 {
        match i {
            0 => -0.0,
            1 => f64::INFINITY,
            2 => f64::NEG_INFINITY,
            3 => f64::MAX,
            4 => -f64::MIN_POSITIVE,
            _ => f64::from(i % 11) / 2.0 - 2.5,
        }
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            30 => (0u8..200, 0u8..16).prop_map(|(m, s)| Op::Insert(m, s)),
            10 => (0u8..200).prop_map(Op::Remove),
            1 => (0u8..200).prop_map(Op::Refill),
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
            z.insert(&Bytes::from(format!("m{i:03}")), (i % 7) as f64);
        }
        assert!(z.is_compact());
        // Updating a member does not grow the set.
        z.insert(&b("m000"), 100.0);
        assert!(z.is_compact());
        let before = pairs(z.iter());
        z.insert(&b("new"), 3.0);
        assert!(!z.is_compact());
        z.check_invariants();
        z.remove(b"new");
        assert!(!z.is_compact(), "no way back, as in Redis");
        assert_eq!(pairs(z.iter()), before);

        let mut long = ZSet::new();
        long.insert(&Bytes::from(vec![b'a'; COMPACT_MAX_MEMBER]), 1.0);
        assert!(long.is_compact());
        long.insert(&Bytes::from(vec![b'b'; COMPACT_MAX_MEMBER + 1]), 0.0);
        assert!(!long.is_compact());
        assert_eq!(long.rank(&[b'b'; COMPACT_MAX_MEMBER + 1]), Some(0));
        long.check_invariants();
    }

    /// Whether the compact form cannot hold `model`.
    fn too_big_now(model: &[(f64, Bytes)]) -> bool {
        model.len() > COMPACT_MAX_LEN || model.iter().any(|(_, m)| m.len() > COMPACT_MAX_MEMBER)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        /// Both forms agree with a sorted `Vec` after any operations (the
        /// compact one also across its switch to a tree: up to 200
        /// members, some longer than the compact limit, some of exactly
        /// or nearly that length, many sharing a score, with ±0, ±inf).
        #[test]
        fn matches_sorted_vec_model(
            ops in prop::collection::vec(op(), 0..400),
            lo in 0usize..50,
            n in 0usize..50,
            as_tree: bool,
        ) {
            let mut z = if as_tree { tree() } else { ZSet::new() };
            let mut model: Vec<(f64, Bytes)> = Vec::new();
            // Whether the model ever held a member the compact form cannot.
            let mut too_big = false;
            let mut add = |z: &mut ZSet, model: &mut Vec<(f64, Bytes)>, m: u8, s: f64| {
                let m = Bytes::from(member_name(m));
                let s = s + 0.0;
                let pos = model.iter().position(|(_, x)| *x == m);
                let new = pos.is_none();
                if let Some(p) = pos {
                    model.remove(p);
                }
                model.push((s, m.clone()));
                model.sort_by(|a, b| key_cmp(a.0, &a.1, b.0, &b.1));
                too_big |= model.len() > COMPACT_MAX_LEN || m.len() > COMPACT_MAX_MEMBER;
                let added = if m.len() % 2 == 0 { z.insert(&m, s) } else { z.insert_slice(&m, s) };
                (added, new, too_big)
            };
            for op in ops {
                match op {
                    Op::Insert(m, s) => {
                        let (added, new, too_big) = add(&mut z, &mut model, m, score_of_index(s));
                        prop_assert_eq!(added, new);
                        prop_assert_eq!(z.is_compact(), !as_tree && !too_big);
                    }
                    Op::Remove(m) => {
                        let m = member_name(m);
                        let pos = model.iter().position(|(_, x)| x.as_ref() == m.as_bytes());
                        if let Some(p) = pos {
                            model.remove(p);
                        }
                        prop_assert_eq!(z.remove(m.as_bytes()), pos.is_some());
                    }
                    Op::Refill(k) => {
                        for (_, m) in std::mem::take(&mut model) {
                            prop_assert!(z.remove(&m));
                        }
                        prop_assert!(z.is_empty());
                        if let Some((used, capacity)) = z.footprint() {
                            prop_assert_eq!((used, capacity), (0, 0));
                        }
                        for m in 0..k {
                            let (added, _, _) = add(&mut z, &mut model, m, score_of_index(m % 16));
                            prop_assert!(added);
                        }
                    }
                }
            }
            z.check_invariants();
            prop_assert_eq!(z.len(), model.len());
            prop_assert_eq!(z.iter().len(), model.len());
            // Built at once, from the members in any order, and copied: the
            // same set, a valid tree, and one that takes changes after.
            let mut shuffled: Vec<(Bytes, f64)> = model.iter().map(|(s, m)| (m.clone(), *s)).collect();
            shuffled.reverse();
            let turn = lo.min(shuffled.len());
            shuffled.rotate_left(turn);
            let from_unique = ZSet::from_unique(shuffled);
            prop_assert_eq!(from_unique.is_compact(), !too_big_now(&model));
            let copy = z.to_stored();
            prop_assert_eq!(copy.is_compact(), z.is_compact());
            for mut built in [from_unique, copy] {
                built.check_invariants();
                prop_assert_eq!(&built, &z);
                if let Some((s, m)) = model.first() {
                    prop_assert!(built.remove(m));
                    prop_assert!(built.insert(m, *s));
                    built.check_invariants();
                    prop_assert_eq!(&built, &z);
                }
            }
            let same = |a: &[(f64, Bytes)], b: &[(f64, Bytes)]| {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.0.to_bits() == y.0.to_bits() && x.1 == y.1)
            };
            let all: Vec<(f64, Bytes)> = pairs(z.iter()).into_iter().map(|(m, s)| (s, m)).collect();
            prop_assert!(same(&all, &model), "{:?} != {:?}", all, model);
            let rev: Vec<(f64, Bytes)> = pairs(z.iter().rev()).into_iter().map(|(m, s)| (s, m)).collect();
            let mut mrev = model.clone();
            mrev.reverse();
            prop_assert!(same(&rev, &mrev));
            for (i, (s, m)) in model.iter().enumerate() {
                prop_assert_eq!(z.rank(m), Some(i));
                prop_assert_eq!(z.score(m).map(f64::to_bits), Some(s.to_bits()));
                prop_assert_eq!(z.get_by_rank(i), Some((&m[..], *s)));
            }
            prop_assert_eq!(z.get_by_rank(model.len()), None);
            let end = (lo + n).min(model.len());
            let want: Vec<(f64, Bytes)> = model.get(lo.min(end)..end).unwrap_or(&[]).to_vec();
            let got: Vec<(f64, Bytes)> = pairs(z.range(lo, lo + n)).into_iter().map(|(m, s)| (s, m)).collect();
            prop_assert!(same(&got, &want));
            let got: Vec<(f64, Bytes)> = pairs(z.range(lo, lo + n).rev()).into_iter().map(|(m, s)| (s, m)).collect();
            let mut want = want;
            want.reverse();
            prop_assert!(same(&got, &want));
            for cut in [score_of_index(lo as u8 % 16), f64::INFINITY, f64::NEG_INFINITY] {
                prop_assert_eq!(z.count_while(|s, _| s < cut), model.iter().filter(|(s, _)| *s < cut).count());
                prop_assert_eq!(z.count_while(|s, _| s <= cut), model.iter().filter(|(s, _)| *s <= cut).count());
            }
            let copy = z.to_stored();
            prop_assert_eq!(copy.is_compact(), z.is_compact());
            prop_assert_eq!(&copy, &z);
        }
    }
}
