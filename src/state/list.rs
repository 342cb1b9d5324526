//! List values: a deque of packed chunks, the idea of Redis's quicklist of
//! listpacks.
//!
//! # Layout
//!
//! A [`List`] is a `VecDeque` of chunks and the total element count (boxed,
//! so that a [`Value`](super::Value) stays 40 bytes). A chunk is one of:
//!
//! - **packed**: one byte buffer of at most [`CHUNK_BYTES`] holding its
//!   elements back to back, each as `prefix, data, suffix`, where prefix and
//!   suffix both give the data's length (one byte below 128, two bytes up to
//!   [`LARGE_ELEMENT`]): the prefix lets a walk go forward, the suffix (like
//!   listpack's backlen) backward. The data sit in `start..end` of the
//!   buffer, with free room on either side, so a push at either end writes
//!   into the room and a pop moves `start` or `end`: no memmove of the chunk.
//!   A 3-byte element costs 5 bytes.
//! - **large**: one element longer than [`LARGE_ELEMENT`] bytes, kept as its
//!   own `Bytes`, shared with the command or effect that carried it, so
//!   pushing and popping it copies nothing.
//!
//! # Costs
//!
//! - Push and pop at either end: O(1) amortized. When the end of a buffer is
//!   reached the data are shifted only if they fill at most half of it (the
//!   shift then buys at least as much room as it moves); otherwise a buffer
//!   below [`CHUNK_BYTES`] doubles, and a full-size one is left as it is
//!   and a new chunk starts. A new chunk starts small (a short list costs
//!   little) unless it follows a full one.
//! - Index access (`get`, `set`, `insert`, `remove`, the start of a range)
//!   walks the chunk counts from the nearer end of the list, then the
//!   elements of one chunk from its nearer end: O(chunks + elements per
//!   chunk). Changes in the middle move at most one chunk's bytes.
//! - Iteration, both ways, decodes in place and allocates nothing; replies
//!   copy what they hand out ([`Iter::detached`]: packed elements copied, a
//!   large element shared as the keyspace's `stored`/`detached` rule does
//!   for long data).
//! - A chunk never stays empty. After a removal that is not a pop (`LREM`,
//!   `LSET` to another size, `LTRIM`, a removal by index), a chunk left
//!   below a quarter of [`CHUNK_BYTES`] is merged with a neighbour when the
//!   two fit in one. Pops do not merge: the end chunk they shrink is about
//!   to go away, and merging would copy a chunk for nothing. A buffer over
//!   256 bytes left more than three quarters empty by any removal is
//!   reallocated to twice its data's size (geometric, so O(1) amortized).
//!
//! # Why these sizes
//!
//! [`CHUNK_BYTES`] is 8 KiB, Redis's default (`list-max-listpack-size -2`):
//! the per-chunk overhead (a 40-byte slot, the allocation) is under 1% of a
//! full chunk, and a change in the middle moves at most 8 KiB. Elements up
//! to [`LARGE_ELEMENT`] (1 KiB) are packed: copying one costs less than its
//! own allocation plus a 32-byte handle (and its shared header) would, and at
//! least seven fit in a chunk. Past 1 KiB the handle is under 6% of the data
//! and copying it in and out of a chunk would cost more than sharing it.

use bytes::Bytes;
use std::collections::VecDeque;
use std::fmt;
use std::ops::Range;

/// Elements longer than this many bytes are kept as their own `Bytes` in a
/// chunk of their own; shorter ones are packed.
pub const LARGE_ELEMENT: usize = 1024;

/// Most bytes a packed chunk's buffer holds.
pub const CHUNK_BYTES: usize = 8192;

/// Smallest buffer a packed chunk starts with.
const MIN_BUFFER: usize = 16;

/// A chunk holding fewer bytes than this after a removal is merged with a
/// neighbour when both fit in one chunk.
const SMALL_CHUNK: usize = CHUNK_BYTES / 4;

/// A buffer of more than this many bytes that is more than three quarters
/// empty after a removal is reallocated smaller.
const SHRINK_ABOVE: usize = 256;

/// Bytes of the length prefix (and of the suffix) of an element of `n` bytes.
fn header_len(n: usize) -> usize {
    if n < 128 { 1 } else { 2 }
}

/// Bytes a packed element of `n` data bytes takes.
fn encoded_len(n: usize) -> usize {
    n + 2 * header_len(n)
}

/// Writes `data` as a packed element into `dst` (exactly its encoded size).
fn encode(dst: &mut [u8], data: &[u8]) {
    let n = data.len();
    debug_assert!(n <= LARGE_ELEMENT && dst.len() == encoded_len(n));
    let e = dst.len();
    if n < 128 {
        dst[0] = n as u8;
        dst[e - 1] = n as u8;
        dst[1..1 + n].copy_from_slice(data);
    } else {
        // Prefix: low 7 bits (flagged), then the rest; the suffix mirrors it
        // so that it reads the same way from the end.
        dst[0] = (n & 0x7f) as u8 | 0x80;
        dst[1] = (n >> 7) as u8;
        dst[e - 2] = (n >> 7) as u8;
        dst[e - 1] = (n & 0x7f) as u8 | 0x80;
        dst[2..2 + n].copy_from_slice(data);
    }
}

/// The element starting at `pos`: its data's range and where the next one starts.
#[inline]
fn decode_forward(buf: &[u8], pos: usize) -> (Range<usize>, usize) {
    let b = buf[pos];
    let (n, h) = if b & 0x80 == 0 { (b as usize, 1) } else { ((b & 0x7f) as usize | (buf[pos + 1] as usize) << 7, 2) };
    let s = pos + h;
    (s..s + n, s + n + h)
}

/// The element ending at `end`: its data's range and where it starts.
#[inline]
fn decode_backward(buf: &[u8], end: usize) -> (Range<usize>, usize) {
    let b = buf[end - 1];
    let (n, h) = if b & 0x80 == 0 { (b as usize, 1) } else { ((b & 0x7f) as usize | (buf[end - 2] as usize) << 7, 2) };
    let e = end - h;
    (e - n..e, e - n - h)
}

/// A zeroed buffer of `cap` bytes.
fn buffer(cap: usize) -> Box<[u8]> {
    vec![0u8; cap].into_boxed_slice()
}

/// A packed chunk: elements encoded back to back in `buf[start..end]`.
#[derive(Default)]
struct Packed {
    /// The buffer, at most [`CHUNK_BYTES`] long.
    buf: Box<[u8]>,
    /// Where the first element starts.
    start: u32,
    /// Where the last element ends.
    end: u32,
    /// How many elements the chunk holds.
    count: u32,
}

impl Packed {
    /// An empty chunk with a buffer of `cap` bytes.
    fn with_capacity(cap: usize) -> Packed {
        Packed { buf: buffer(cap), start: 0, end: 0, count: 0 }
    }

    /// A chunk holding `count` elements already encoded in `data`, in a
    /// buffer of exactly their size.
    fn from_encoded(data: &[u8], count: usize) -> Packed {
        Packed { buf: data.into(), start: 0, end: data.len() as u32, count: count as u32 }
    }

    fn start(&self) -> usize {
        self.start as usize
    }

    fn end(&self) -> usize {
        self.end as usize
    }

    fn count(&self) -> usize {
        self.count as usize
    }

    /// Bytes the elements take.
    fn used(&self) -> usize {
        (self.end - self.start) as usize
    }

    /// The buffer's size.
    fn cap(&self) -> usize {
        self.buf.len()
    }

    /// The encoded elements.
    fn data(&self) -> &[u8] {
        &self.buf[self.start()..self.end()]
    }

    /// Where element `k` (`k <= count`; `count` is the end) starts, walked
    /// from the nearer end.
    fn offset_of(&self, k: usize) -> usize {
        if k <= self.count() / 2 {
            let mut pos = self.start();
            for _ in 0..k {
                pos = decode_forward(&self.buf, pos).1;
            }
            pos
        } else {
            let mut pos = self.end();
            for _ in k..self.count() {
                pos = decode_backward(&self.buf, pos).1;
            }
            pos
        }
    }

    /// Element `k` (`k < count`).
    fn get(&self, k: usize) -> &[u8] {
        let (r, _) = decode_forward(&self.buf, self.offset_of(k));
        &self.buf[r]
    }

    /// Moves the data into a buffer of `cap` bytes (the same one if it is
    /// that size), `lead` free bytes before them.
    fn relayout(&mut self, cap: usize, lead: usize) {
        let (s, e) = (self.start(), self.end());
        let used = e - s;
        debug_assert!(lead + used <= cap);
        if cap == self.cap() {
            self.buf.copy_within(s..e, lead);
        } else {
            let mut b = buffer(cap);
            b[lead..lead + used].copy_from_slice(&self.buf[s..e]);
            self.buf = b;
        }
        self.start = lead as u32;
        self.end = (lead + used) as u32;
    }

    /// Makes `n` free bytes before the data (`front`) or after them, if the
    /// chunk can hold `n` more bytes at all. With `push`, a full-size buffer
    /// more than half used is not shifted (a new chunk is the O(1) choice):
    /// returns false then too.
    fn reserve(&mut self, n: usize, front: bool, push: bool) -> bool {
        let room = if front { self.start() } else { self.cap() - self.end() };
        if room >= n {
            return true;
        }
        let used = self.used();
        if used + n > CHUNK_BYTES {
            return false;
        }
        let cap = self.cap();
        let new_cap = if used + n <= cap && (used <= cap / 2 || !push) {
            cap
        } else if cap < CHUNK_BYTES {
            (2 * cap).max(used + n).clamp(MIN_BUFFER, CHUNK_BYTES)
        } else {
            return false;
        };
        self.relayout(new_cap, if front { new_cap - used } else { 0 });
        true
    }

    /// Appends an element, unless the chunk should not take it (see
    /// [`Packed::reserve`]).
    fn push_back(&mut self, data: &[u8]) -> bool {
        let n = encoded_len(data.len());
        if !self.reserve(n, false, true) {
            return false;
        }
        let e = self.end();
        encode(&mut self.buf[e..e + n], data);
        self.end += n as u32;
        self.count += 1;
        true
    }

    /// Prepends an element, unless the chunk should not take it.
    fn push_front(&mut self, data: &[u8]) -> bool {
        let n = encoded_len(data.len());
        if !self.reserve(n, true, true) {
            return false;
        }
        let s = self.start() - n;
        encode(&mut self.buf[s..s + n], data);
        self.start = s as u32;
        self.count += 1;
        true
    }

    /// Drops the first `k` elements (`k < count`).
    fn drop_front(&mut self, k: usize) {
        let mut pos = self.start();
        for _ in 0..k {
            pos = decode_forward(&self.buf, pos).1;
        }
        self.start = pos as u32;
        self.count -= k as u32;
        self.shrink_if_sparse();
    }

    /// Drops the last `k` elements (`k < count`).
    fn drop_back(&mut self, k: usize) {
        let mut pos = self.end();
        for _ in 0..k {
            pos = decode_backward(&self.buf, pos).1;
        }
        self.end = pos as u32;
        self.count -= k as u32;
        self.shrink_if_sparse();
    }

    /// Halves (at least) a large buffer more than three quarters empty,
    /// keeping the free room evenly on both sides.
    fn shrink_if_sparse(&mut self) {
        let used = self.used();
        if used > 0 && self.cap() > SHRINK_ABOVE && used * 4 < self.cap() {
            let cap = (2 * used).max(MIN_BUFFER);
            self.relayout(cap, (cap - used) / 2);
        }
    }

    /// Replaces the `old` bytes at `at` with a gap of `new` bytes and
    /// returns where the gap starts. The chunk must be able to hold the
    /// result (`used - old + new <= CHUNK_BYTES`). Moves the shorter side.
    fn splice(&mut self, at: usize, old: usize, new: usize) -> usize {
        let (s, e) = (self.start(), self.end());
        let head = at - s;
        let tail = e - (at + old);
        if new <= old {
            let shrink = old - new;
            if head < tail {
                self.buf.copy_within(s..at, s + shrink);
                self.start += shrink as u32;
                return at + shrink;
            }
            self.buf.copy_within(at + old..e, at + new);
            self.end -= shrink as u32;
            return at;
        }
        let grow = new - old;
        let room_back = self.cap() - e;
        if room_back >= grow && (tail <= head || s < grow) {
            self.buf.copy_within(at + old..e, at + new);
            self.end += grow as u32;
            return at;
        }
        if s >= grow {
            self.buf.copy_within(s..at, s - grow);
            self.start -= grow as u32;
            return at - grow;
        }
        // The room is split between both sides (or missing): rebuild.
        let used = e - s + grow;
        debug_assert!(used <= CHUNK_BYTES);
        let cap = if used <= self.cap() { self.cap() } else { (2 * self.cap()).max(used).min(CHUNK_BYTES) };
        let mut b = buffer(cap);
        b[..head].copy_from_slice(&self.buf[s..at]);
        b[head + new..head + new + tail].copy_from_slice(&self.buf[at + old..e]);
        self.buf = b;
        self.start = 0;
        self.end = used as u32;
        head
    }

    /// Inserts `data` as element `k` (`k <= count`); the chunk must have
    /// room for it within [`CHUNK_BYTES`].
    fn insert(&mut self, k: usize, data: &[u8]) {
        let n = encoded_len(data.len());
        let at = self.offset_of(k);
        let p = self.splice(at, 0, n);
        encode(&mut self.buf[p..p + n], data);
        self.count += 1;
    }

    /// Removes element `k` (`k < count`).
    fn remove(&mut self, k: usize) {
        let at = self.offset_of(k);
        let next = decode_forward(&self.buf, at).1;
        self.splice(at, next - at, 0);
        self.count -= 1;
        self.shrink_if_sparse();
    }

    /// Replaces element `k` with `data` if the chunk can hold the result.
    fn replace(&mut self, k: usize, data: &[u8]) -> bool {
        let at = self.offset_of(k);
        let old = decode_forward(&self.buf, at).1 - at;
        let n = encoded_len(data.len());
        if self.used() - old + n > CHUNK_BYTES {
            return false;
        }
        let p = self.splice(at, old, n);
        encode(&mut self.buf[p..p + n], data);
        true
    }

    /// Removes the elements at the ascending local indexes `ks` in one pass.
    fn remove_many(&mut self, ks: &[usize]) {
        let (mut r, mut w) = (self.start(), self.start());
        let mut next_k = 0;
        let mut j = 0;
        while r < self.end() && next_k < ks.len() {
            let next = decode_forward(&self.buf, r).1;
            if ks[next_k] == j {
                next_k += 1;
            } else {
                self.buf.copy_within(r..next, w);
                w += next - r;
            }
            r = next;
            j += 1;
        }
        let e = self.end();
        self.buf.copy_within(r..e, w);
        self.end = (w + e - r) as u32;
        self.count -= next_k as u32;
        self.shrink_if_sparse();
    }

    /// Splits off the elements from `k` on (`0 < k < count`) into a new
    /// chunk of exactly their size.
    fn split_off(&mut self, k: usize) -> Packed {
        let at = self.offset_of(k);
        let right = Packed::from_encoded(&self.buf[at..self.end()], self.count() - k);
        self.end = at as u32;
        self.count = k as u32;
        right
    }

    /// The element nearest the byte middle, where a full chunk splits
    /// (between 1 and `count - 1`; the chunk holds at least two elements).
    fn middle(&self) -> usize {
        let half = self.start() + self.used() / 2;
        let mut pos = self.start();
        let mut k = 0;
        while pos < half {
            pos = decode_forward(&self.buf, pos).1;
            k += 1;
        }
        k.clamp(1, self.count() - 1)
    }

    /// Appends the elements of `other` (the two must fit in one chunk).
    fn append(&mut self, other: &Packed) {
        let n = other.used();
        let fits = self.reserve(n, false, false);
        debug_assert!(fits);
        let e = self.end();
        self.buf[e..e + n].copy_from_slice(other.data());
        self.end += n as u32;
        self.count += other.count;
    }

    /// Prepends the elements of `other` (the two must fit in one chunk).
    fn prepend(&mut self, other: &Packed) {
        let n = other.used();
        let fits = self.reserve(n, true, false);
        debug_assert!(fits);
        let s = self.start() - n;
        self.buf[s..s + n].copy_from_slice(other.data());
        self.start = s as u32;
        self.count += other.count;
    }
}

/// One chunk of a [`List`].
enum Chunk {
    /// Small elements, packed.
    Packed(Packed),
    /// One element longer than [`LARGE_ELEMENT`].
    Large(Bytes),
}

impl Chunk {
    /// Elements in the chunk.
    fn count(&self) -> usize {
        match self {
            Chunk::Packed(p) => p.count(),
            Chunk::Large(_) => 1,
        }
    }

    /// Whether two neighbouring chunks should be one: both packed, fitting
    /// in one, and one of them small.
    fn mergeable(a: &Chunk, b: &Chunk) -> bool {
        match (a, b) {
            (Chunk::Packed(a), Chunk::Packed(b)) => {
                a.used() + b.used() <= CHUNK_BYTES && (a.used() < SMALL_CHUNK || b.used() < SMALL_CHUNK)
            }
            _ => false,
        }
    }
}

/// The list and its length, behind one box.
#[derive(Default)]
struct Inner {
    /// The chunks, none empty.
    chunks: VecDeque<Chunk>,
    /// Total elements.
    len: usize,
}

/// A list value: a deque of packed chunks (see the module documentation).
#[derive(Default)]
pub struct List(Box<Inner>);

impl List {
    /// An empty list.
    pub fn new() -> List {
        List::default()
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.0.len
    }

    /// Whether the list has no elements.
    pub fn is_empty(&self) -> bool {
        self.0.len == 0
    }

    /// Bytes the list has allocated (buffers, large elements, the chunk
    /// deque and its own box), for memory reporting.
    pub fn allocated_bytes(&self) -> usize {
        let chunks: usize = self
            .0
            .chunks
            .iter()
            .map(|c| match c {
                Chunk::Packed(p) => p.cap(),
                Chunk::Large(b) => b.len(),
            })
            .sum();
        std::mem::size_of::<Inner>() + self.0.chunks.capacity() * std::mem::size_of::<Chunk>() + chunks
    }

    /// Adds a chunk at one end, growing the deque exactly for the first.
    fn push_chunk(&mut self, c: Chunk, front: bool) {
        let chunks = &mut self.0.chunks;
        if chunks.capacity() == 0 {
            chunks.reserve_exact(1);
        }
        if front { chunks.push_front(c) } else { chunks.push_back(c) }
    }

    /// Pushes a packed element at one end.
    fn push_small(&mut self, data: &[u8], front: bool) {
        self.0.len += 1;
        let end = if front { self.0.chunks.front_mut() } else { self.0.chunks.back_mut() };
        // A chunk after a full one is likely to fill too: start it full-size.
        let cap = match end {
            Some(Chunk::Packed(p)) => {
                if if front { p.push_front(data) } else { p.push_back(data) } {
                    return;
                }
                CHUNK_BYTES
            }
            _ => encoded_len(data.len()).next_multiple_of(MIN_BUFFER),
        };
        let mut p = Packed::with_capacity(cap);
        if front {
            p.relayout(cap, cap);
            p.push_front(data);
        } else {
            p.push_back(data);
        }
        self.push_chunk(Chunk::Packed(p), front);
    }

    /// Pushes an element at one end: packed (copied) if short, else shared
    /// (the `stored` rule for long data).
    fn push(&mut self, v: &Bytes, front: bool) {
        if v.len() > LARGE_ELEMENT {
            self.push_large(v.clone(), front);
        } else {
            self.push_small(v, front);
        }
    }

    /// Pushes a large element, in a chunk of its own, at one end.
    fn push_large(&mut self, v: Bytes, front: bool) {
        self.0.len += 1;
        self.push_chunk(Chunk::Large(v), front);
    }

    /// Appends an element (copied if short, shared if longer than
    /// [`LARGE_ELEMENT`]).
    pub fn push_back(&mut self, v: &Bytes) {
        self.push(v, false)
    }

    /// Prepends an element (copied if short, shared if long).
    pub fn push_front(&mut self, v: &Bytes) {
        self.push(v, true)
    }

    /// Appends a copy of `data`.
    pub fn push_back_slice(&mut self, data: &[u8]) {
        if data.len() > LARGE_ELEMENT {
            self.push_large(Bytes::copy_from_slice(data), false);
        } else {
            self.push_small(data, false);
        }
    }

    /// Removes and returns the first element.
    pub fn pop_front(&mut self) -> Option<Bytes> {
        let v = self.get_detached(0)?;
        self.drop_front(1);
        Some(v)
    }

    /// Removes and returns the last element.
    pub fn pop_back(&mut self) -> Option<Bytes> {
        let v = self.get_detached(self.len().checked_sub(1)?)?;
        self.drop_back(1);
        Some(v)
    }

    /// Removes the first `n` elements (all if fewer): whole chunks dropped,
    /// the last one cut.
    pub fn drop_front(&mut self, n: usize) {
        let mut n = n.min(self.0.len);
        self.0.len -= n;
        while n > 0 {
            let Some(c) = self.0.chunks.front_mut() else { break };
            let count = c.count();
            if count <= n {
                self.0.chunks.pop_front();
                n -= count;
            } else {
                if let Chunk::Packed(p) = c {
                    p.drop_front(n);
                }
                n = 0;
            }
        }
    }

    /// Removes the last `n` elements (all if fewer).
    pub fn drop_back(&mut self, n: usize) {
        let mut n = n.min(self.0.len);
        self.0.len -= n;
        while n > 0 {
            let Some(c) = self.0.chunks.back_mut() else { break };
            let count = c.count();
            if count <= n {
                self.0.chunks.pop_back();
                n -= count;
            } else {
                if let Chunk::Packed(p) = c {
                    p.drop_back(n);
                }
                n = 0;
            }
        }
    }

    /// Keeps only the elements `start..end` (clamped to the list).
    pub fn trim(&mut self, start: usize, end: usize) {
        let end = end.min(self.len());
        let start = start.min(end);
        let (back, front) = (self.len() - end, start);
        self.drop_back(back);
        self.drop_front(front);
        let n = self.0.chunks.len();
        if back > 0 && n >= 2 {
            self.tidy_pair(n - 2);
        }
        if front > 0 {
            self.tidy_pair(0);
        }
    }

    /// The chunk holding element `i` (`i < len`) and its index there,
    /// counted from the nearer end of the list.
    fn locate(&self, i: usize) -> (usize, usize) {
        debug_assert!(i < self.0.len);
        let chunks = &self.0.chunks;
        // The ends first: pops and pushes look there.
        if i == 0 {
            return (0, 0);
        }
        if i == self.0.len - 1 {
            let last = chunks.len() - 1;
            return (last, chunks[last].count() - 1);
        }
        if i < self.0.len / 2 {
            let mut i = i;
            for (ci, c) in chunks.iter().enumerate() {
                let n = c.count();
                if i < n {
                    return (ci, i);
                }
                i -= n;
            }
        } else {
            let mut back = self.0.len - 1 - i;
            for (ci, c) in chunks.iter().enumerate().rev() {
                let n = c.count();
                if back < n {
                    return (ci, n - 1 - back);
                }
                back -= n;
            }
        }
        unreachable!("the chunk counts add up to the length")
    }

    /// Element `i`, if the list has one there.
    pub fn get(&self, i: usize) -> Option<&[u8]> {
        if i >= self.len() {
            return None;
        }
        let (ci, k) = self.locate(i);
        Some(match &self.0.chunks[ci] {
            Chunk::Packed(p) => p.get(k),
            Chunk::Large(b) => b,
        })
    }

    /// Element `i` as a reply hands it out: a copy if packed, the shared
    /// bytes if large.
    pub fn get_detached(&self, i: usize) -> Option<Bytes> {
        if i >= self.len() {
            return None;
        }
        let (ci, k) = self.locate(i);
        Some(match &self.0.chunks[ci] {
            Chunk::Packed(p) => Bytes::copy_from_slice(p.get(k)),
            Chunk::Large(b) => b.clone(),
        })
    }

    /// Replaces element `i` (nothing if out of range).
    pub fn set(&mut self, i: usize, v: &Bytes) {
        if i >= self.len() {
            return;
        }
        let (ci, k) = self.locate(i);
        let large = v.len() > LARGE_ELEMENT;
        let replaced = match &mut self.0.chunks[ci] {
            Chunk::Large(b) if large => {
                *b = v.clone();
                return;
            }
            Chunk::Packed(p) if !large => p.replace(k, v),
            _ => false,
        };
        if replaced {
            return self.tidy(ci);
        }
        self.remove(i);
        self.insert(i, v);
    }

    /// Inserts `v` so that it becomes element `i` (nothing if `i > len`).
    pub fn insert(&mut self, i: usize, v: &Bytes) {
        let len = self.len();
        if i > len {
            return;
        }
        if i == 0 {
            return self.push_front(v);
        }
        if i == len {
            return self.push_back(v);
        }
        let (ci, k) = self.locate(i);
        self.0.len += 1;
        let chunks = &mut self.0.chunks;
        if v.len() > LARGE_ELEMENT {
            let at = if k == 0 {
                ci
            } else {
                let Chunk::Packed(p) = &mut chunks[ci] else { unreachable!("a large chunk has one element") };
                let right = p.split_off(k);
                chunks.insert(ci + 1, Chunk::Packed(right));
                ci + 1
            };
            chunks.insert(at, Chunk::Large(v.clone()));
            return;
        }
        let n = encoded_len(v.len());
        if let Chunk::Packed(p) = &mut chunks[ci]
            && p.used() + n <= CHUNK_BYTES
        {
            return p.insert(k, v);
        }
        if k == 0
            && let Chunk::Packed(p) = &mut chunks[ci - 1]
            && p.used() + n <= CHUNK_BYTES
        {
            let k = p.count();
            return p.insert(k, v);
        }
        match &mut chunks[ci] {
            Chunk::Large(_) => {
                let mut p = Packed::with_capacity(n.next_multiple_of(MIN_BUFFER));
                p.push_back(v);
                chunks.insert(ci, Chunk::Packed(p));
            }
            Chunk::Packed(p) => {
                // A full chunk: split it near its byte middle; each half
                // then has room for one more element.
                let m = p.middle();
                let mut right = p.split_off(m);
                if k <= m {
                    p.insert(k, v);
                } else {
                    right.insert(k - m, v);
                }
                chunks.insert(ci + 1, Chunk::Packed(right));
            }
        }
    }

    /// Removes element `i` (nothing if out of range).
    pub fn remove(&mut self, i: usize) {
        if i >= self.len() {
            return;
        }
        let (ci, k) = self.locate(i);
        self.0.len -= 1;
        match &mut self.0.chunks[ci] {
            Chunk::Packed(p) if p.count() > 1 => {
                p.remove(k);
                self.tidy(ci);
            }
            _ => {
                self.0.chunks.remove(ci);
                if ci > 0 {
                    self.tidy_pair(ci - 1);
                }
            }
        }
    }

    /// Removes the elements at the ascending indexes `indexes` (duplicates
    /// and indexes past the end ignored) in one pass over the list, then
    /// drops emptied chunks and merges small neighbours.
    pub fn remove_sorted(&mut self, indexes: &[usize]) {
        let len = self.len();
        let mut it = indexes.iter().copied().filter(|&i| i < len).peekable();
        let mut local = Vec::new();
        let mut base = 0;
        let mut removed = 0;
        for c in self.0.chunks.iter_mut() {
            let n = c.count();
            local.clear();
            while let Some(i) = it.next_if(|&i| i < base + n) {
                if i >= base && local.last() != Some(&(i - base)) {
                    local.push(i - base);
                }
            }
            if !local.is_empty() {
                removed += local.len();
                match c {
                    Chunk::Packed(p) => p.remove_many(&local),
                    Chunk::Large(_) => *c = Chunk::Packed(Packed::default()),
                }
            }
            base += n;
        }
        if removed == 0 {
            return;
        }
        self.0.len -= removed;
        let old = std::mem::take(&mut self.0.chunks);
        let mut out: VecDeque<Chunk> = VecDeque::with_capacity(old.len());
        for c in old {
            if c.count() == 0 {
                continue;
            }
            match out.back_mut() {
                Some(last) if Chunk::mergeable(last, &c) => {
                    if let (Chunk::Packed(a), Chunk::Packed(b)) = (last, &c) {
                        a.append(b);
                    }
                }
                _ => out.push_back(c),
            }
        }
        self.0.chunks = out;
    }

    /// Merges chunk `ci` with a neighbour if they should be one.
    fn tidy(&mut self, ci: usize) {
        if !self.tidy_pair(ci) && ci > 0 {
            self.tidy_pair(ci - 1);
        }
    }

    /// Merges chunks `a` and `a + 1` if they should be one, copying the
    /// smaller into the larger. Returns whether it did.
    fn tidy_pair(&mut self, a: usize) -> bool {
        let chunks = &mut self.0.chunks;
        if a + 1 >= chunks.len() || !Chunk::mergeable(&chunks[a], &chunks[a + 1]) {
            return false;
        }
        let Some(Chunk::Packed(right)) = chunks.remove(a + 1) else { return false };
        let Chunk::Packed(left) = &mut chunks[a] else { return false };
        if left.used() >= right.used() {
            left.append(&right);
        } else {
            let mut right = right;
            right.prepend(left);
            *left = right;
        }
        true
    }

    /// All elements, front to back (reversible).
    pub fn iter(&self) -> Iter<'_> {
        self.range(0..self.len())
    }

    /// The elements `range` (clamped to the list), front to back.
    pub fn range(&self, range: Range<usize>) -> Iter<'_> {
        let end = range.end.min(self.len());
        let start = range.start.min(end);
        Iter { list: self, start, end, front: None, back: None }
    }

    /// Checks the internal invariants (tests only).
    #[cfg(test)]
    fn check(&self) {
        let mut total = 0;
        for c in &self.0.chunks {
            assert!(c.count() > 0, "empty chunk");
            total += c.count();
            match c {
                Chunk::Packed(p) => {
                    assert!(p.cap() <= CHUNK_BYTES);
                    let mut pos = p.start();
                    let mut n = 0;
                    while pos < p.end() {
                        let (r, next) = decode_forward(&p.buf, pos);
                        assert!(r.len() <= LARGE_ELEMENT);
                        pos = next;
                        n += 1;
                    }
                    assert_eq!(pos, p.end());
                    assert_eq!(n, p.count());
                }
                Chunk::Large(b) => assert!(b.len() > LARGE_ELEMENT),
            }
        }
        assert_eq!(total, self.len());
    }
}

impl Clone for List {
    /// A copy with packed buffers of exactly their data's size; large
    /// elements are shared.
    fn clone(&self) -> List {
        let mut chunks = VecDeque::with_capacity(self.0.chunks.len());
        for c in &self.0.chunks {
            chunks.push_back(match c {
                Chunk::Packed(p) => Chunk::Packed(Packed::from_encoded(p.data(), p.count())),
                Chunk::Large(b) => Chunk::Large(b.clone()),
            });
        }
        List(Box::new(Inner { chunks, len: self.0.len }))
    }
}

impl PartialEq for List {
    fn eq(&self, other: &List) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl fmt::Debug for List {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter().map(|e| format!("b\"{}\"", e.escape_ascii()))).finish()
    }
}

impl FromIterator<Bytes> for List {
    fn from_iter<I: IntoIterator<Item = Bytes>>(iter: I) -> List {
        let mut l = List::new();
        for v in iter {
            l.push_back(&v);
        }
        l
    }
}

impl<'a> IntoIterator for &'a List {
    type Item = &'a [u8];
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

/// An element as stored: packed bytes, or a large element's own `Bytes`.
enum Elem<'a> {
    Packed(&'a [u8]),
    Large(&'a Bytes),
}

impl<'a> Elem<'a> {
    #[inline]
    fn slice(self) -> &'a [u8] {
        match self {
            Elem::Packed(s) => s,
            Elem::Large(b) => b,
        }
    }

    #[inline]
    fn detached(self) -> Bytes {
        match self {
            Elem::Packed(s) => Bytes::copy_from_slice(s),
            Elem::Large(b) => b.clone(),
        }
    }
}

/// An iterator over a list's elements (or a range of them), in either
/// direction, decoding them in place. Each end finds its first element
/// (walking the chunk counts) only when it is first asked for one.
pub struct Iter<'a> {
    /// The list.
    list: &'a List,
    /// Index of the next element from the front.
    start: usize,
    /// Index after the next element from the back.
    end: usize,
    /// Where the front is, once found.
    front: Option<Cursor<'a>>,
    /// Where the back is, once found.
    back: Option<Cursor<'a>>,
}

/// A position in a list: a chunk and, in a packed one, a byte offset into
/// its encoded elements (where the next element starts, for the front;
/// where it ends, for the back).
struct Cursor<'a> {
    /// The chunk's index.
    ci: usize,
    /// The chunk's encoded elements (empty for a large chunk).
    data: &'a [u8],
    /// The offset in `data`.
    pos: usize,
    /// The element of a large chunk.
    large: Option<&'a Bytes>,
}

impl<'a> Cursor<'a> {
    /// At element `k` of chunk `ci`: before it, or after it with `after`.
    fn at(chunks: &'a VecDeque<Chunk>, ci: usize, k: usize, after: bool) -> Cursor<'a> {
        match &chunks[ci] {
            Chunk::Packed(p) => {
                let pos = p.offset_of(k + after as usize) - p.start();
                Cursor { ci, data: p.data(), pos, large: None }
            }
            Chunk::Large(b) => Cursor { ci, data: &[], pos: 0, large: Some(b) },
        }
    }

    /// At the first element (`front`) or after the last one of chunk `ci`.
    fn edge(chunks: &'a VecDeque<Chunk>, ci: usize, front: bool) -> Cursor<'a> {
        match &chunks[ci] {
            Chunk::Packed(p) => {
                let data = p.data();
                Cursor { ci, data, pos: if front { 0 } else { data.len() }, large: None }
            }
            Chunk::Large(b) => Cursor { ci, data: &[], pos: 0, large: Some(b) },
        }
    }
}

impl<'a> Iter<'a> {
    /// The elements as replies hand them out: packed elements copied,
    /// large ones shared (the [`detached`](super::value::detached) rule).
    pub fn detached(self) -> Detached<'a> {
        Detached(self)
    }

    /// Finds the front's first element.
    #[cold]
    #[inline(never)]
    fn find_front(&mut self) {
        let (ci, k) = self.list.locate(self.start);
        self.front = Some(Cursor::at(&self.list.0.chunks, ci, k, false));
    }

    /// Finds the back's first element.
    #[cold]
    #[inline(never)]
    fn find_back(&mut self) {
        let (ci, k) = self.list.locate(self.end - 1);
        self.back = Some(Cursor::at(&self.list.0.chunks, ci, k, true));
    }

    #[inline(always)]
    fn next_elem(&mut self) -> Option<Elem<'a>> {
        if self.start == self.end {
            return None;
        }
        let chunks = &self.list.0.chunks;
        if self.front.is_none() {
            self.find_front();
        }
        let Some(c) = &mut self.front else { return None };
        self.start += 1;
        let (elem, done) = match c.large {
            None => {
                let (r, next) = decode_forward(c.data, c.pos);
                c.pos = next;
                (Elem::Packed(&c.data[r]), next == c.data.len())
            }
            Some(b) => (Elem::Large(b), true),
        };
        if done && self.start < self.end {
            *c = Cursor::edge(chunks, c.ci + 1, true);
        }
        Some(elem)
    }

    #[inline(always)]
    fn next_back_elem(&mut self) -> Option<Elem<'a>> {
        if self.start == self.end {
            return None;
        }
        let chunks = &self.list.0.chunks;
        if self.back.is_none() {
            self.find_back();
        }
        let Some(c) = &mut self.back else { return None };
        self.end -= 1;
        let (elem, done) = match c.large {
            None => {
                let (r, prev) = decode_backward(c.data, c.pos);
                c.pos = prev;
                (Elem::Packed(&c.data[r]), prev == 0)
            }
            Some(b) => (Elem::Large(b), true),
        };
        if done && self.start < self.end {
            *c = Cursor::edge(chunks, c.ci - 1, false);
        }
        Some(elem)
    }
}

impl<'a> Iterator for Iter<'a> {
    type Item = &'a [u8];

    #[inline]
    fn next(&mut self) -> Option<&'a [u8]> {
        self.next_elem().map(Elem::slice)
    }

    /// One loop over the elements, the decoding inlined.
    fn fold<B, F: FnMut(B, &'a [u8]) -> B>(mut self, init: B, mut f: F) -> B {
        let mut acc = init;
        while let Some(e) = self.next_elem() {
            acc = f(acc, e.slice());
        }
        acc
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.end - self.start;
        (n, Some(n))
    }
}

impl DoubleEndedIterator for Iter<'_> {
    #[inline]
    fn next_back(&mut self) -> Option<Self::Item> {
        self.next_back_elem().map(Elem::slice)
    }
}

impl ExactSizeIterator for Iter<'_> {}

/// The elements of an [`Iter`] as `Bytes` a reply can own (see
/// [`Iter::detached`]).
pub struct Detached<'a>(Iter<'a>);

impl Iterator for Detached<'_> {
    type Item = Bytes;

    #[inline]
    fn next(&mut self) -> Option<Bytes> {
        self.0.next_elem().map(Elem::detached)
    }

    /// One loop over the elements (what `for_each` and `collect` into a
    /// reply use), the decoding inlined.
    fn fold<B, F: FnMut(B, Bytes) -> B>(mut self, init: B, mut f: F) -> B {
        let mut acc = init;
        while let Some(e) = self.0.next_elem() {
            acc = f(acc, e.detached());
        }
        acc
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}

impl DoubleEndedIterator for Detached<'_> {
    #[inline]
    fn next_back(&mut self) -> Option<Bytes> {
        self.0.next_back_elem().map(Elem::detached)
    }
}

impl ExactSizeIterator for Detached<'_> {}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// An element of `len` bytes whose content depends on `seed`.
    fn elem(seed: u32, len: usize) -> Bytes {
        let mut v = seed.to_le_bytes().repeat(len / 4 + 1);
        v.truncate(len);
        Bytes::from(v)
    }

    fn contents(l: &List) -> Vec<Vec<u8>> {
        l.iter().map(<[u8]>::to_vec).collect()
    }

    #[test]
    fn encoding_round_trips_at_the_header_boundaries() {
        for n in [0, 1, 127, 128, 129, 1000, LARGE_ELEMENT] {
            let data = elem(n as u32, n);
            let mut buf = vec![0; encoded_len(n)];
            encode(&mut buf, &data);
            let (r, next) = decode_forward(&buf, 0);
            assert_eq!((&buf[r.clone()], next), (&data[..], buf.len()));
            assert_eq!(decode_backward(&buf, buf.len()), (r, 0));
        }
    }

    #[test]
    fn the_list_keeps_the_value_small() {
        assert_eq!(std::mem::size_of::<List>(), 8);
        assert_eq!(std::mem::size_of::<Chunk>(), 40);
    }

    #[test]
    fn small_elements_are_packed_and_large_ones_shared() {
        let mut l = List::new();
        let n = 100_000;
        for i in 0..n {
            l.push_back(&elem(i, 3));
        }
        l.check();
        // 5 bytes per element in full 8 KiB chunks, under 1% overhead.
        let per = l.allocated_bytes() as f64 / f64::from(n);
        assert!(per < 5.2, "{per} bytes per element");
        let big = elem(7, 5000);
        l.push_front(&big);
        l.insert(3, &big);
        assert!(!big.is_unique(), "pushing a large element copies nothing");
        let Some(got) = l.iter().detached().next() else { panic!() };
        assert_eq!(got.as_ptr(), big.as_ptr(), "nor does reading it");
        assert_eq!(l.get(3), Some(&big[..]));
        assert_eq!(l.len(), n as usize + 2);
        l.check();
    }

    #[test]
    fn a_queue_reuses_its_chunks_room() {
        // RPUSH/LPOP on a short queue stays in one small chunk.
        let mut l = List::new();
        for i in 0..10 {
            l.push_back(&elem(i, 3));
        }
        for i in 10..100_000 {
            l.push_back(&elem(i, 3));
            assert_eq!(l.pop_front(), Some(elem(i - 10, 3)));
        }
        assert_eq!(l.0.chunks.len(), 1);
        assert!(l.allocated_bytes() < 256, "{}", l.allocated_bytes());
        l.check();
    }

    #[test]
    fn removals_in_the_middle_merge_small_chunks() {
        let mut l: List = (0..10_000).map(|i| elem(i, 10)).collect();
        let chunks = l.0.chunks.len();
        assert!(chunks > 10);
        // Remove most elements of the middle chunks.
        let gone: Vec<usize> = (1_000..9_000).filter(|i| i % 10 != 0).collect();
        l.remove_sorted(&gone);
        l.check();
        assert_eq!(l.len(), 10_000 - gone.len());
        assert!(l.0.chunks.len() < chunks / 2, "{} chunks of {chunks}", l.0.chunks.len());
        for c in &l.0.chunks {
            if let Chunk::Packed(p) = c {
                assert!(p.used() >= SMALL_CHUNK / 2 || l.0.chunks.len() < 3);
            }
        }
        // One by one as well.
        for _ in 0..500 {
            l.remove(1_000);
        }
        l.check();
        let small = l.0.chunks.iter().filter(|c| matches!(c, Chunk::Packed(p) if p.used() < SMALL_CHUNK)).count();
        assert!(small <= 3, "{small} small chunks");
    }

    #[derive(Debug, Clone)]
    enum Op {
        Push { front: bool, n: usize, len: usize },
        Pop { front: bool, n: usize },
        PopOne { front: bool },
        Get(usize),
        Set(usize, usize),
        Insert(usize, usize),
        Remove(usize),
        RemoveSorted(Vec<usize>),
        Trim(usize, usize),
        Range(usize, usize),
        Clone,
    }

    /// Element sizes around the header boundary and the large threshold.
    fn size() -> impl Strategy<Value = usize> {
        prop_oneof![
            4 => 0usize..12,
            1 => 120usize..136,
            2 => (LARGE_ELEMENT - 4)..(LARGE_ELEMENT + 4),
            1 => Just(3000usize),
        ]
    }

    fn op() -> impl Strategy<Value = Op> {
        let at = 0usize..100_000;
        prop_oneof![
            4 => (any::<bool>(), prop_oneof![3 => 1usize..20, 1 => 100usize..3000], size())
                .prop_map(|(front, n, len)| Op::Push { front, n, len }),
            1 => (any::<bool>(), 0usize..2000).prop_map(|(front, n)| Op::Pop { front, n }),
            1 => any::<bool>().prop_map(|front| Op::PopOne { front }),
            1 => at.clone().prop_map(Op::Get),
            2 => (at.clone(), size()).prop_map(|(i, len)| Op::Set(i, len)),
            2 => (at.clone(), size()).prop_map(|(i, len)| Op::Insert(i, len)),
            2 => at.clone().prop_map(Op::Remove),
            1 => prop::collection::vec(at.clone(), 0..400).prop_map(Op::RemoveSorted),
            1 => (at.clone(), at.clone()).prop_map(|(a, b)| Op::Trim(a, b)),
            1 => (at.clone(), at).prop_map(|(a, b)| Op::Range(a, b)),
            1 => Just(Op::Clone),
        ]
    }

    /// Maps an arbitrary number to an index of a list of `len` (or `len + 1`
    /// positions with `inclusive`).
    fn idx(i: usize, len: usize, inclusive: bool) -> usize {
        let n = len + inclusive as usize;
        if n == 0 { 0 } else { i % n }
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            cases: std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(64),
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

        /// Random operations give the same elements as a `VecDeque` model.
        #[test]
        fn behaves_like_a_deque(ops in prop::collection::vec(op(), 1..60)) {
            let mut l = List::new();
            let mut m: std::collections::VecDeque<Vec<u8>> = Default::default();
            let mut seed = 0u32;
            for op in ops {
                seed += 1;
                match op {
                    Op::Push { front, n, len } => {
                        for j in 0..n {
                            let e = elem(seed * 7919 + j as u32, len);
                            if front {
                                l.push_front(&e);
                                m.push_front(e.to_vec());
                            } else {
                                l.push_back(&e);
                                m.push_back(e.to_vec());
                            }
                        }
                    }
                    Op::Pop { front, n } => {
                        let n2 = n.min(m.len());
                        if front {
                            l.drop_front(n);
                            m.drain(..n2);
                        } else {
                            l.drop_back(n);
                            m.truncate(m.len() - n2);
                        }
                    }
                    Op::PopOne { front } => {
                        let (a, b) = if front { (l.pop_front(), m.pop_front()) } else { (l.pop_back(), m.pop_back()) };
                        prop_assert_eq!(a.map(|a| a.to_vec()), b);
                    }
                    Op::Get(i) => {
                        let i = idx(i, m.len(), true);
                        prop_assert_eq!(l.get(i), m.get(i).map(|v| &v[..]));
                        prop_assert_eq!(l.get_detached(i).map(|v| v.to_vec()), m.get(i).cloned());
                    }
                    Op::Set(i, len) => {
                        let i = idx(i, m.len(), false);
                        let e = elem(seed, len);
                        l.set(i, &e);
                        if let Some(slot) = m.get_mut(i) {
                            *slot = e.to_vec();
                        }
                    }
                    Op::Insert(i, len) => {
                        let i = idx(i, m.len(), true);
                        let e = elem(seed, len);
                        l.insert(i, &e);
                        m.insert(i, e.to_vec());
                    }
                    Op::Remove(i) => {
                        let i = idx(i, m.len(), false);
                        l.remove(i);
                        m.remove(i);
                    }
                    Op::RemoveSorted(is) => {
                        let mut is: Vec<usize> = is.into_iter().map(|i| idx(i, m.len(), false)).collect();
                        is.sort_unstable();
                        l.remove_sorted(&is);
                        is.dedup();
                        for &i in is.iter().rev() {
                            m.remove(i);
                        }
                    }
                    Op::Trim(a, b) => {
                        let a = idx(a, m.len(), true);
                        let b = idx(b, m.len(), true);
                        l.trim(a, b);
                        let end = b.min(m.len());
                        let start = a.min(end);
                        m.truncate(end);
                        m.drain(..start);
                    }
                    Op::Range(a, b) => {
                        let a = idx(a, m.len(), true);
                        let b = idx(b, m.len(), true).max(a);
                        let want: Vec<&[u8]> = m.range(a..b).map(|v| &v[..]).collect();
                        prop_assert_eq!(l.range(a..b).collect::<Vec<_>>(), want.clone());
                        let mut back: Vec<&[u8]> = l.range(a..b).rev().collect();
                        back.reverse();
                        prop_assert_eq!(back, want.clone());
                        // Both ends at once meet in the middle.
                        let mut it = l.range(a..b);
                        let (mut head, mut tail) = (Vec::new(), Vec::new());
                        while let Some(x) = it.next() {
                            head.push(x);
                            match it.next_back() {
                                Some(y) => tail.push(y),
                                None => break,
                            }
                        }
                        tail.reverse();
                        head.extend(tail);
                        prop_assert_eq!(head, want.clone());
                        let detached: Vec<Bytes> = l.range(a..b).detached().rev().collect();
                        prop_assert_eq!(detached.len(), want.len());
                        prop_assert!(detached.iter().rev().map(|b| &b[..]).eq(want));
                    }
                    Op::Clone => {
                        let c = l.clone();
                        c.check();
                        prop_assert_eq!(&c, &l);
                        l = c;
                    }
                }
                l.check();
                prop_assert_eq!(l.len(), m.len());
                prop_assert!(l.iter().eq(m.iter().map(|v| &v[..])));
                prop_assert!(l.iter().rev().eq(m.iter().rev().map(|v| &v[..])));
            }
            prop_assert_eq!(contents(&l), Vec::from(m));
        }
    }
}
