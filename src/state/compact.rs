//! The packed byte buffer ([`Packed`]) that holds the compact forms of
//! hashes, sets and sorted sets, searched linearly as Redis's listpacks
//! are, and its growth policy.
//!
//! # The packed layout
//!
//! A [`Packed<K>`] holds entries of `K` parts each (a set member: one part;
//! a hash field and its value: two), back to back in ONE byte buffer, each
//! part as one length byte followed by its bytes:
//!
//! ```text
//! [len f1][f1 bytes][len v1][v1 bytes][len f2][f2 bytes][len v2][v2 bytes]...
//! ```
//!
//! A `Packed<K, F>` starts each entry with `F` fixed bytes before its
//! parts, with no length byte: a sorted set's entry is its score's 8 bytes
//! and its member (`Packed<1, 8>`):
//!
//! ```text
//! [score1: 8 bytes][len m1][m1 bytes][score2: 8 bytes][len m2][m2 bytes]...
//! ```
//!
//! Hashes and sets push new entries at the end; a sorted set inserts them
//! where they belong in its order and moves an entry whose score changed
//! ([`Packed::insert`], [`Packed::move_entry`]).
//!
//! Compact parts are at most 64 bytes long, so one byte holds any length.
//! An entry takes `K` bytes more than its parts, against a 32-byte handle
//! plus a heap allocation per part for a vector of `Bytes` (1M hash fields
//! in ~10-field hashes: 147 MB -> 56 MB of RSS; set members: 92 -> 41 MB).
//!
//! A search walks the buffer from the start, comparing an entry's length
//! byte first, then its last byte, and its whole bytes only if both agree;
//! ten short fields and their values fill three or four cache lines, read
//! in order, where a vector of `Bytes` handles costs a pointer chase per
//! element. No fingerprints are kept: a run of 1-byte tags before the
//! entries saved 1-3% of the instructions of `HGET`/`HSET`/`SISMEMBER`
//! (callgrind, 10 and 128 fields) for one more byte per entry and a second
//! shift on every insertion and removal.

use std::fmt;

/// Makes room for `extra` more elements in a compact vector. It grows by
/// about an eighth (at least `extra`), not by doubling, so that a small
/// collection carries little unused capacity; the allocator's own size
/// classes absorb most of the resulting reallocations in place.
fn reserve<T>(v: &mut Vec<T>, extra: usize) {
    if v.capacity() - v.len() < extra {
        v.reserve_exact(extra.max(v.len() / 8));
    }
}

/// Gives back the spare capacity of a compact vector after a removal, once
/// it is more than a quarter of its length and `slack` elements, or all
/// of it once the vector is empty.
fn trim_spare_over<T>(v: &mut Vec<T>, slack: usize) {
    if v.is_empty() || v.capacity() > v.len() + v.len() / 4 + slack {
        v.shrink_to(v.len() + v.len() / 8);
    }
}

/// Longest part a [`Packed`] buffer can hold (its length is one byte).
pub(super) const MAX_PART: usize = u8::MAX as usize;

/// Entries of `F` fixed bytes (a sorted set's score: 8; hashes and sets:
/// none) followed by `K` byte strings ("parts") each, packed in one buffer
/// (see the module documentation for the layout). Entries stay where they
/// are pushed or inserted; removing one closes the gap. The caller keeps
/// every part at most [`MAX_PART`] bytes long and the first parts distinct
/// (it searches with [`Packed::find`] before it adds).
///
/// Entries are addressed by their byte offset in the buffer (from
/// [`Packed::find`] or [`Packed::partition_point`]).
#[derive(Clone, Default)]
pub(super) struct Packed<const K: usize, const F: usize = 0> {
    /// The entries, back to back.
    buf: Vec<u8>,
    /// How many entries `buf` holds.
    len: u32,
}

impl<const K: usize, const F: usize> Packed<K, F> {
    /// The number of entries.
    pub(super) fn len(&self) -> usize {
        self.len as usize
    }

    /// The part at byte offset `pos` and the offset just past it.
    fn part(&self, pos: usize) -> (&[u8], usize) {
        let end = pos + 1 + self.buf[pos] as usize;
        (&self.buf[pos + 1..end], end)
    }

    /// The offset just past the entry at `pos`.
    fn skip(&self, pos: usize) -> usize {
        skip::<K, F>(&self.buf, pos)
    }

    /// The byte offset of the entry whose first part is `first`.
    ///
    /// An entry of the same length is compared by its last byte first:
    /// fields and members often share their length and a prefix
    /// (`field:17`, `field:42`), so that byte settles most mismatches
    /// without a call to compare the whole.
    pub(super) fn find(&self, first: &[u8]) -> Option<usize> {
        let buf = &self.buf[..];
        let n = first.len();
        let last = first.last().copied();
        let mut pos = 0;
        while pos < buf.len() {
            let at = pos + F;
            if buf[at] as usize == n && last.is_none_or(|l| buf[at + n] == l) && buf[at + 1..at + 1 + n] == *first {
                return Some(pos);
            }
            pos = self.skip(pos);
        }
        None
    }

    /// The byte offset and the index (0-based, in buffer order) of the
    /// entry whose first part is `first`: [`Packed::find`] counting.
    pub(super) fn find_index(&self, first: &[u8]) -> Option<(usize, usize)> {
        let buf = &self.buf[..];
        let n = first.len();
        let (mut pos, mut i) = (0, 0);
        while pos < buf.len() {
            let at = pos + F;
            if buf[at] as usize == n && buf[at + 1..at + 1 + n] == *first {
                return Some((pos, i));
            }
            pos = self.skip(pos);
            i += 1;
        }
        None
    }

    /// The byte offset and the index of the first entry for which `pred`
    /// (given its fixed bytes and its parts) is false, or the end of the
    /// buffer and [`Packed::len`]: the entries for which it holds must all
    /// come first, as in `slice::partition_point`. A linear walk.
    pub(super) fn partition_point(&self, mut pred: impl FnMut(&[u8; F], [&[u8]; K]) -> bool) -> (usize, usize) {
        let mut it = self.iter();
        let mut pos = 0;
        while let Some((fixed, parts)) = it.next_entry() {
            if !pred(fixed, parts) {
                return (pos, self.len() - it.len() - 1);
            }
            pos = it.front;
        }
        (self.buf.len(), self.len())
    }

    /// Part `k` of the entry at byte offset `pos` (from [`Packed::find`]).
    pub(super) fn get(&self, pos: usize, k: usize) -> &[u8] {
        let mut at = pos + F;
        for _ in 0..k {
            at = self.part(at).1;
        }
        self.part(at).0
    }

    /// The fixed bytes of the entry at byte offset `pos`.
    pub(super) fn fixed(&self, pos: usize) -> &[u8; F] {
        fixed_at(&self.buf, pos)
    }

    /// Overwrites the fixed bytes of the entry at byte offset `pos`.
    pub(super) fn set_fixed(&mut self, pos: usize, fixed: [u8; F]) {
        self.buf[pos..pos + F].copy_from_slice(&fixed);
    }

    /// Inserts an entry at byte offset `pos` (an entry's offset or the end
    /// of the buffer), moving the entries from there on.
    pub(super) fn insert(&mut self, pos: usize, fixed: [u8; F], parts: [&[u8]; K]) {
        let size: usize = F + parts.iter().map(|p| 1 + p.len()).sum::<usize>();
        reserve(&mut self.buf, size);
        let total = self.buf.len();
        if pos == total {
            self.buf.extend_from_slice(&fixed);
            for p in parts {
                debug_assert!(p.len() <= MAX_PART);
                self.buf.push(p.len() as u8);
                self.buf.extend_from_slice(p);
            }
        } else {
            self.buf.resize(total + size, 0);
            self.buf.copy_within(pos..total, pos + size);
            self.buf[pos..pos + F].copy_from_slice(&fixed);
            let mut at = pos + F;
            for p in parts {
                debug_assert!(p.len() <= MAX_PART);
                self.buf[at] = p.len() as u8;
                self.buf[at + 1..at + 1 + p.len()].copy_from_slice(p);
                at += 1 + p.len();
            }
        }
        self.len += 1;
    }

    /// Moves the entry at byte offset `from` to just before the entry at
    /// byte offset `to` (or to the end, if `to` is the buffer's length),
    /// in place; returns its new offset.
    pub(super) fn move_entry(&mut self, from: usize, to: usize) -> usize {
        let end = self.skip(from);
        if to < from {
            self.buf[to..end].rotate_right(end - from);
            to
        } else if to > end {
            self.buf[from..to].rotate_left(end - from);
            to - (end - from)
        } else {
            from
        }
    }

    /// Replaces part `k` of the entry at byte offset `pos` with `bytes`,
    /// moving the entries after it if the length changes (and giving back
    /// spare room if it shrinks).
    pub(super) fn set(&mut self, pos: usize, k: usize, bytes: &[u8]) {
        debug_assert!(bytes.len() <= MAX_PART);
        let mut start = pos + F;
        for _ in 0..k {
            start = self.part(start).1;
        }
        let end = self.part(start).1;
        let (old, new) = (end - start, 1 + bytes.len());
        let total = self.buf.len();
        if new > old {
            reserve(&mut self.buf, new - old);
            self.buf.resize(total + new - old, 0);
            self.buf.copy_within(end..total, start + new);
        } else if new < old {
            self.buf.copy_within(end..total, start + new);
            self.buf.truncate(total - (old - new));
        }
        self.buf[start] = bytes.len() as u8;
        self.buf[start + 1..start + new].copy_from_slice(bytes);
        if new < old {
            trim_spare_over(&mut self.buf, 32);
        }
    }

    /// Removes the entry at byte offset `pos`, keeping the order of the
    /// others, and gives back spare room.
    pub(super) fn remove(&mut self, pos: usize) {
        let end = self.skip(pos);
        self.buf.drain(pos..end);
        self.len -= 1;
        trim_spare_over(&mut self.buf, 32);
    }

    /// Every entry, in order.
    pub(super) fn iter(&self) -> Entries<'_, K, F> {
        Entries { buf: &self.buf, front: 0, left: self.len as usize, back: [0; BACK], back_len: 0 }
    }

    /// The entries of index `start..end` (clamped to the buffer), in
    /// order. Reaching `start` walks the entries before it.
    pub(super) fn range(&self, start: usize, end: usize) -> Entries<'_, K, F> {
        let end = end.min(self.len());
        let start = start.min(end);
        let mut pos = 0;
        for _ in 0..start {
            pos = self.skip(pos);
        }
        Entries { buf: &self.buf, front: pos, left: end - start, back: [0; BACK], back_len: 0 }
    }

    /// The bytes the entries use, and the buffer's capacity.
    #[cfg(test)]
    pub(super) fn footprint(&self) -> (usize, usize) {
        (self.buf.len(), self.buf.capacity())
    }
}

impl<const K: usize> Packed<K> {
    /// Appends an entry.
    pub(super) fn push(&mut self, parts: [&[u8]; K]) {
        self.insert(self.buf.len(), [], parts);
    }
}

/// The offset just past the entry at `pos` of packed entries `buf`.
fn skip<const K: usize, const F: usize>(buf: &[u8], mut pos: usize) -> usize {
    pos += F;
    for _ in 0..K {
        pos += 1 + buf[pos] as usize;
    }
    pos
}

/// The fixed bytes of the entry at `pos` of packed entries `buf`.
fn fixed_at<const F: usize>(buf: &[u8], pos: usize) -> &[u8; F] {
    buf[pos..pos + F].try_into().expect("F bytes")
}

/// The iterator of [`Packed::iter`] and [`Packed::range`]: each entry's
/// parts (or, with [`Entries::next_entry`], its fixed bytes too), from
/// the front or from the back.
#[derive(Clone)]
pub(super) struct Entries<'a, const K: usize, const F: usize = 0> {
    /// The whole buffer.
    buf: &'a [u8],
    /// The offset of the next entry from the front.
    front: usize,
    /// How many entries are still to be returned.
    left: usize,
    /// Offsets of the last entries still to return (up to [`BACK`] of
    /// them, the next one from the back last), found by a walk from the
    /// front (lengths lead each part, so the buffer cannot be read
    /// backwards): one walk for up to [`BACK`] entries, and no allocation.
    /// Compact buffers stay far below 64 KiB (at most 128 entries of parts
    /// of at most 64 bytes), so two bytes hold an offset.
    back: [u16; BACK],
    /// How many offsets `back` holds.
    back_len: u8,
}

/// How many entries' offsets one walk of [`Entries::next_back_entry`]
/// keeps.
const BACK: usize = 16;

impl<'a, const K: usize, const F: usize> Entries<'a, K, F> {
    /// The fixed bytes and the parts of the entry at `pos`, and the offset
    /// just past it.
    fn read(&self, pos: usize) -> (&'a [u8; F], [&'a [u8]; K], usize) {
        let buf = self.buf;
        let fixed = fixed_at(buf, pos);
        let mut at = pos + F;
        let parts = std::array::from_fn(|_| {
            let n = buf[at] as usize;
            let p = &buf[at + 1..at + 1 + n];
            at += 1 + n;
            p
        });
        (fixed, parts, at)
    }

    /// The next entry from the front, with its fixed bytes.
    pub(super) fn next_entry(&mut self) -> Option<(&'a [u8; F], [&'a [u8]; K])> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let (fixed, parts, end) = self.read(self.front);
        self.front = end;
        Some((fixed, parts))
    }

    /// The next entry from the back, with its fixed bytes. Every
    /// [`BACK`]th call walks the entries left from the front (by their
    /// length bytes) and keeps the offsets of the last [`BACK`] of them.
    pub(super) fn next_back_entry(&mut self) -> Option<(&'a [u8; F], [&'a [u8]; K])> {
        if self.left == 0 {
            return None;
        }
        if self.back_len == 0 {
            let n = self.left.min(BACK);
            let mut pos = self.front;
            for _ in 0..self.left - n {
                pos = skip::<K, F>(self.buf, pos);
            }
            for slot in &mut self.back[..n] {
                *slot = u16::try_from(pos).expect("a compact buffer is below 64 KiB");
                pos = skip::<K, F>(self.buf, pos);
            }
            self.back_len = n as u8;
        }
        self.left -= 1;
        self.back_len -= 1;
        let (fixed, parts, _) = self.read(self.back[self.back_len as usize] as usize);
        Some((fixed, parts))
    }
}

impl<'a, const K: usize, const F: usize> Iterator for Entries<'a, K, F> {
    type Item = [&'a [u8]; K];

    fn next(&mut self) -> Option<[&'a [u8]; K]> {
        self.next_entry().map(|(_, parts)| parts)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }

    /// Skips entries by their length bytes alone.
    fn nth(&mut self, n: usize) -> Option<[&'a [u8]; K]> {
        if n >= self.left {
            self.left = 0;
            return None;
        }
        for _ in 0..n {
            self.front = skip::<K, F>(self.buf, self.front);
        }
        self.left -= n;
        self.next()
    }
}

impl<const K: usize, const F: usize> ExactSizeIterator for Entries<'_, K, F> {}

impl<'a, const K: usize, const F: usize> DoubleEndedIterator for Entries<'a, K, F> {
    fn next_back(&mut self) -> Option<[&'a [u8]; K]> {
        self.next_back_entry().map(|(_, parts)| parts)
    }
}

/// Bytes shown as `Bytes` shows them (`b"text\n"`), for the `Debug` output
/// of collections whose elements are slices.
pub(super) struct Shown<'a>(pub(super) &'a [u8]);

impl fmt::Debug for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("b\"")?;
        for &b in self.0 {
            match b {
                b'\n' => f.write_str("\\n")?,
                b'\r' => f.write_str("\\r")?,
                b'\t' => f.write_str("\\t")?,
                b'\\' | b'"' => write!(f, "\\{}", b as char)?,
                b'\0' => f.write_str("\\0")?,
                0x20..0x7f => write!(f, "{}", b as char)?,
                _ => write!(f, "\\x{b:02x}")?,
            }
        }
        f.write_str("\"")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_pack_back_to_back_and_close_gaps() {
        let mut p: Packed<2> = Packed::default();
        p.push([b"a", b"1"]);
        p.push([b"bb", b""]);
        p.push([b"c", b"333"]);
        assert_eq!(p.footprint().0, (1 + 1 + 1 + 1) + (1 + 2 + 1) + (1 + 1 + 1 + 3));
        assert_eq!(p.find(b"bb"), Some(4));
        assert_eq!(p.find(b"b"), None);
        assert_eq!(p.find(b"1"), None, "only first parts are searched");
        assert_eq!(p.get(4, 1), b"");
        p.set(4, 1, b"long value");
        p.set(0, 1, b"");
        assert_eq!(p.get(p.find(b"c").unwrap(), 1), b"333");
        let all: Vec<_> = p.iter().collect();
        assert_eq!(all, [[&b"a"[..], b""], [b"bb", b"long value"], [b"c", b"333"]]);
        assert_eq!(p.iter().nth(2), Some([&b"c"[..], b"333"]));
        assert_eq!(p.iter().nth(3), None);
        p.set(0, 0, b"A");
        p.remove(p.find(b"bb").unwrap());
        assert_eq!(p.iter().collect::<Vec<_>>(), [[&b"A"[..], b""], [b"c", b"333"]]);
        assert_eq!(p.len(), 2);
        p.remove(0);
        p.remove(0);
        assert_eq!((p.len(), p.footprint()), (0, (0, 0)), "an emptied buffer is freed");
        assert_eq!(format!("{:?}", Shown(b"a\"\n\x01\xff")), r#"b"a\"\n\x01\xff""#);
    }

    #[test]
    fn fixed_bytes_lead_entries_that_insert_move_and_walk_back() {
        let mut p: Packed<1, 2> = Packed::default();
        p.insert(0, *b"22", [b"b"]);
        p.insert(0, *b"11", [b"a"]);
        let end = p.footprint().0;
        p.insert(end, *b"33", [b"ccc"]);
        assert_eq!(p.footprint().0, 3 * (2 + 1) + 1 + 1 + 3);
        let at = p.find(b"b").unwrap();
        assert_eq!((at, p.fixed(at), p.get(at, 0)), (4, b"22", &b"b"[..]));
        assert_eq!(p.find_index(b"ccc"), Some((8, 2)));
        assert_eq!(p.find(b"2"), None, "fixed bytes are not searched");
        let walk = |p: &Packed<1, 2>| {
            let mut it = p.iter();
            std::iter::from_fn(move || it.next_entry()).map(|(f, [m])| (*f, m.to_vec())).collect::<Vec<_>>()
        };
        // To the end, to the front, and to where it is.
        let at = p.move_entry(0, p.footprint().0);
        assert_eq!((at, p.get(at, 0)), (10, &b"a"[..]));
        let at = p.move_entry(at, 0);
        assert_eq!(at, 0);
        assert_eq!(p.move_entry(4, 4), 4);
        assert_eq!(p.move_entry(4, 8), 4);
        p.set_fixed(4, *b"99");
        let at = p.move_entry(4, p.footprint().0);
        assert_eq!(at, 10);
        assert_eq!(walk(&p), [(*b"11", b"a".to_vec()), (*b"33", b"ccc".to_vec()), (*b"99", b"b".to_vec())]);
        assert_eq!(p.partition_point(|f, _| f < b"50"), (4 + 6, 2));
        assert_eq!(p.partition_point(|_, _| true), (p.footprint().0, 3));
        assert_eq!(p.partition_point(|_, _| false), (0, 0));
        let back: Vec<_> = p.iter().rev().map(|[m]| m).collect();
        assert_eq!(back, [&b"b"[..], b"ccc", b"a"]);
        let mut r = p.range(1, 9);
        assert_eq!(r.len(), 2);
        assert_eq!(r.next_back_entry(), Some((b"99", [&b"b"[..]])));
        assert_eq!(r.next_entry(), Some((b"33", [&b"ccc"[..]])));
        assert_eq!((r.next_back(), r.next()), (None, None));
        assert_eq!(p.range(3, 9).next(), None);
    }

    #[test]
    fn walks_from_both_ends_past_one_batch_of_back_offsets() {
        let mut p: Packed<1> = Packed::default();
        let names: Vec<String> = (0..3 * BACK + 5).map(|i| "x".repeat(i % 7) + &i.to_string()).collect();
        for n in &names {
            p.push([n.as_bytes()]);
        }
        let back: Vec<&[u8]> = p.iter().rev().map(|[m]| m).collect();
        let want: Vec<&[u8]> = names.iter().rev().map(|n| n.as_bytes()).collect();
        assert_eq!(back, want);
        // Alternating ends, from a range: each entry once, none crossed.
        let (lo, hi) = (3, 3 * BACK + 2);
        let mut it = p.range(lo, hi);
        let (mut front, mut rear) = (Vec::new(), Vec::new());
        for i in 0.. {
            let got =
                if i % 3 == 0 { it.next().map(|e| front.push(e[0])) } else { it.next_back().map(|e| rear.push(e[0])) };
            if got.is_none() {
                break;
            }
        }
        rear.reverse();
        front.extend(rear);
        let want: Vec<&[u8]> = names[lo..hi].iter().map(|n| n.as_bytes()).collect();
        assert_eq!(front, want);
    }
}
