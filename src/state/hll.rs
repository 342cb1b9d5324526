//! HyperLogLog sketches, byte for byte as Redis 7.0 stores them in a
//! string value, so that a sketch made by either server counts the same in
//! the other (`GET`/`SET` carry it over).
//!
//! ```text
//! "HYLL" | encoding (0 dense, 1 sparse) | 3 unused | cached count (8, little endian; top bit set: stale)
//! dense:  16384 registers of 6 bits, packed from the low bit of each byte
//! sparse: runs — 00xxxxxx: xxxxxx+1 zero registers; 01xxxxxx yyyyyyyy: a
//!         14-bit length+1 of zeros; 1vvvvvxx: xx+1 registers of value vvvvv+1
//! ```
//!
//! An element picks a register by the low 14 bits of its MurmurHash64A
//! (seed `0xadc83b19`) and offers the position of the lowest set bit of the
//! remaining 50 (plus one); a register keeps the largest offer. A new sketch
//! is sparse (18 bytes) and turns dense for good once a register passes 32
//! or the sparse form would pass [`SPARSE_MAX_BYTES`]. The count is Ertl's
//! estimator over the registers' histogram, as in Redis.

/// Registers of a sketch (2^14).
pub const REGISTERS: usize = 1 << P;
const P: u32 = 14;
/// Bits of the hash left after the register index.
const Q: usize = 64 - P as usize;
/// The header's length.
pub const HEADER_LEN: usize = 16;
/// A dense sketch's length.
pub const DENSE_LEN: usize = HEADER_LEN + REGISTERS * 6 / 8;
/// Longest sparse sketch (Redis's `hll-sparse-max-bytes` default).
pub const SPARSE_MAX_BYTES: usize = 3000;
const DENSE: u8 = 0;
const SPARSE: u8 = 1;
const VAL_MAX_VALUE: u8 = 32;
const VAL_MAX_LEN: usize = 4;
const ZERO_MAX_LEN: usize = 64;

/// A sketch whose runs do not add up to its registers (or are cut short).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Corrupt;

/// Redis's MurmurHash64A (little-endian reads).
pub fn murmur64a(data: &[u8], seed: u64) -> u64 {
    const M: u64 = 0xc6a4_a793_5bd1_e995;
    const R: u32 = 47;
    let mut h = seed ^ (data.len() as u64).wrapping_mul(M);
    let mut chunks = data.chunks_exact(8);
    for chunk in &mut chunks {
        let mut k = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h ^= k;
        h = h.wrapping_mul(M);
    }
    let tail = chunks.remainder();
    if !tail.is_empty() {
        for (i, &b) in tail.iter().enumerate() {
            h ^= u64::from(b) << (8 * i);
        }
        h = h.wrapping_mul(M);
    }
    h ^= h >> R;
    h = h.wrapping_mul(M);
    h ^= h >> R;
    h
}

/// The register `element` goes to and the value it offers (1..=51).
pub fn offer(element: &[u8]) -> (usize, u8) {
    let hash = murmur64a(element, 0xadc8_3b19);
    let index = (hash & (REGISTERS as u64 - 1)) as usize;
    let rest = (hash >> P) | (1 << Q);
    (index, rest.trailing_zeros() as u8 + 1)
}

/// A new, empty sketch: sparse, one run of 16384 zeros, count 0 cached.
pub fn new_sketch() -> Vec<u8> {
    let mut s = Vec::with_capacity(HEADER_LEN + 2);
    s.extend_from_slice(b"HYLL");
    s.push(SPARSE);
    s.extend_from_slice(&[0; 11]);
    push_xzero(&mut s, REGISTERS);
    s
}

/// Whether the sketch `s` is dense.
pub fn is_dense(s: &[u8]) -> bool {
    s[4] == DENSE
}

/// Whether `s` is a sketch as Redis checks one: the magic, a known
/// encoding, a dense one exactly [`DENSE_LEN`] long.
pub fn is_sketch(s: &[u8]) -> bool {
    s.len() >= HEADER_LEN && &s[..4] == b"HYLL" && s[4] <= SPARSE && (s[4] != DENSE || s.len() == DENSE_LEN)
}

/// The cached count, if it is not stale.
pub fn cached_count(s: &[u8]) -> Option<u64> {
    let card = u64::from_le_bytes(s[8..16].try_into().expect("header"));
    (card >> 63 == 0).then_some(card)
}

/// Where the header caches the count, and the bytes that cache `count`.
pub fn cached_count_bytes(count: u64) -> (usize, [u8; 8]) {
    (8, count.to_le_bytes())
}

/// Marks the cached count stale.
pub fn invalidate(s: &mut [u8]) {
    s[15] |= 0x80;
}

/// The byte edits (offset into the sketch, new bytes) that add `elements`
/// to the dense sketch `s`, read where it is: the register bytes that
/// change, and the header's stale-cache flag if it is not set yet. Empty if
/// no register changes. (A dense sketch is 12 KB: a copy per `PFADD`, and a
/// comparison to log what changed, cost more than the adding.)
pub fn dense_additions<'a>(s: &[u8], elements: impl Iterator<Item = &'a [u8]>) -> Vec<(usize, Vec<u8>)> {
    let regs = &s[HEADER_LEN..];
    // The registers raised, the highest value for each.
    let mut raised: Vec<(usize, u8)> = Vec::new();
    for e in elements {
        let (i, v) = offer(e);
        if v > dense_get(regs, i) {
            raised.push((i, v));
        }
    }
    if raised.is_empty() {
        return Vec::new();
    }
    raised.sort_unstable();
    let mut edits: Vec<(usize, Vec<u8>)> = Vec::new();
    if s[15] & 0x80 == 0 {
        edits.push((15, vec![s[15] | 0x80]));
    }
    // Registers whose bytes touch or overlap share one edit.
    let mut k = 0;
    while k < raised.len() {
        let first = raised[k].0 * 6 / 8;
        let mut last = (raised[k].0 * 6 + 5) / 8;
        let mut end = k + 1;
        while end < raised.len() && raised[end].0 * 6 / 8 <= last + 1 {
            last = last.max((raised[end].0 * 6 + 5) / 8);
            end += 1;
        }
        let last = last.min(regs.len() - 1);
        let mut window = regs[first..=last].to_vec();
        for &(i, v) in &raised[k..end] {
            // The register's place within the window: its byte less the
            // window's first, the same bit offset.
            let (byte, bit) = (i * 6 / 8 - first, i * 6 % 8);
            if v > window_get(&window, byte, bit) {
                window_set(&mut window, byte, bit, v);
            }
        }
        edits.push((HEADER_LEN + first, window));
        k = end;
    }
    edits
}

fn window_get(w: &[u8], byte: usize, bit: usize) -> u8 {
    let b0 = u16::from(w[byte]);
    let b1 = u16::from(w.get(byte + 1).copied().unwrap_or(0));
    (((b0 >> bit) | (b1 << (8 - bit))) & 63) as u8
}

fn window_set(w: &mut [u8], byte: usize, bit: usize, value: u8) {
    let v = u16::from(value);
    w[byte] = (u16::from(w[byte]) & !(63 << bit) | (v << bit)) as u8;
    if let Some(next) = w.get_mut(byte + 1) {
        *next = (u16::from(*next) & !(63 >> (8 - bit)) | (v >> (8 - bit))) as u8;
    }
}

/// Adds `element`; whether a register changed (the cache is then stale).
pub fn add(s: &mut Vec<u8>, element: &[u8]) -> Result<bool, Corrupt> {
    let (index, value) = offer(element);
    set_register(s, index, value)
}

/// Raises register `index` to `value` if it is lower; whether it changed
/// (the cache is then stale).
fn set_register(s: &mut Vec<u8>, index: usize, value: u8) -> Result<bool, Corrupt> {
    let changed =
        if s[4] == DENSE { dense_raise(&mut s[HEADER_LEN..], index, value) } else { sparse_raise(s, index, value)? };
    if changed {
        invalidate(s);
    }
    Ok(changed)
}

fn dense_get(regs: &[u8], i: usize) -> u8 {
    window_get(regs, i * 6 / 8, i * 6 % 8)
}

fn dense_set(regs: &mut [u8], i: usize, value: u8) {
    window_set(regs, i * 6 / 8, i * 6 % 8, value)
}

fn dense_raise(regs: &mut [u8], i: usize, value: u8) -> bool {
    if dense_get(regs, i) < value {
        dense_set(regs, i, value);
        true
    } else {
        false
    }
}

/// One run of a sparse sketch.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Run {
    /// This many registers of value 0.
    Zeros(usize),
    /// This many registers (1..=4) of this value (1..=32).
    Val(u8, usize),
}

/// The run at `at` and its length in bytes (`None` past the end, or for
/// a two-byte run cut short: a corrupt sketch).
fn run_at(s: &[u8], at: usize) -> Option<(Run, usize)> {
    let b = *s.get(at)?;
    Some(match b & 0xc0 {
        0x00 => (Run::Zeros(usize::from(b & 0x3f) + 1), 1),
        0x40 => {
            let low = usize::from(*s.get(at + 1)?);
            (Run::Zeros(((usize::from(b & 0x3f) << 8) | low) + 1), 2)
        }
        _ => (Run::Val(((b >> 2) & 0x1f) + 1, usize::from(b & 3) + 1), 1),
    })
}

fn push_zeros(out: &mut Vec<u8>, len: usize) {
    if len > ZERO_MAX_LEN {
        push_xzero(out, len);
    } else {
        out.push((len - 1) as u8);
    }
}

fn push_xzero(out: &mut Vec<u8>, len: usize) {
    let l = len - 1;
    out.push((l >> 8) as u8 | 0x40);
    out.push((l & 0xff) as u8);
}

fn val_byte(value: u8, len: usize) -> u8 {
    ((value - 1) << 2) | (len - 1) as u8 | 0x80
}

/// Redis's `hllSparseSet`: finds the run holding register `index`, splits
/// it around the new value in place, merges equal neighbours, and turns the
/// sketch dense when the value cannot be sparse or the sketch would grow
/// past [`SPARSE_MAX_BYTES`].
fn sparse_raise(s: &mut Vec<u8>, index: usize, value: u8) -> Result<bool, Corrupt> {
    if value > VAL_MAX_VALUE {
        to_dense(s)?;
        return Ok(dense_raise(&mut s[HEADER_LEN..], index, value));
    }
    // Step 1: the run covering `index`.
    let (mut at, mut first, mut prev) = (HEADER_LEN, 0usize, None);
    let (run, oplen) = loop {
        let Some((run, oplen)) = run_at(s, at) else { return Err(Corrupt) };
        let span = match run {
            Run::Zeros(n) | Run::Val(_, n) => n,
        };
        if index < first + span {
            break (run, oplen);
        }
        prev = Some(at);
        at += oplen;
        first += span;
    };
    let span = match run {
        Run::Zeros(n) | Run::Val(_, n) => n,
    };
    let last = first + span - 1;
    // Step 2: the trivial cases, then the split.
    match run {
        Run::Val(old, _) if old >= value => return Ok(false),
        Run::Val(_, 1) | Run::Zeros(1) if oplen == 1 => s[at] = val_byte(value, 1),
        _ => {
            let mut seq = Vec::with_capacity(5);
            match run {
                Run::Zeros(_) => {
                    if index != first {
                        push_zeros(&mut seq, index - first);
                    }
                    seq.push(val_byte(value, 1));
                    if index != last {
                        push_zeros(&mut seq, last - index);
                    }
                }
                Run::Val(current, _) => {
                    if index != first {
                        seq.push(val_byte(current, index - first));
                    }
                    seq.push(val_byte(value, 1));
                    if index != last {
                        seq.push(val_byte(current, last - index));
                    }
                }
            }
            // Step 3: the new runs in place of the old one.
            if seq.len() > oplen && s.len() + seq.len() - oplen > SPARSE_MAX_BYTES {
                to_dense(s)?;
                return Ok(dense_raise(&mut s[HEADER_LEN..], index, value));
            }
            s.splice(at..at + oplen, seq);
        }
    }
    // Step 4: merge adjacent equal values, scanning up to 5 runs from the
    // one before.
    let mut p = prev.unwrap_or(HEADER_LEN);
    let mut scan = 5;
    while p < s.len() && scan > 0 {
        scan -= 1;
        match s[p] & 0xc0 {
            0x40 => {
                p += 2;
                continue;
            }
            0x00 => {
                p += 1;
                continue;
            }
            _ => {}
        }
        if let (Some((Run::Val(v1, l1), _)), Some((Run::Val(v2, l2), _))) = (run_at(s, p), run_at(s, p + 1))
            && v1 == v2
            && l1 + l2 <= VAL_MAX_LEN
        {
            s[p + 1] = val_byte(v1, l1 + l2);
            s.remove(p);
            continue;
        }
        p += 1;
    }
    Ok(true)
}

/// Every register's value, from either encoding.
fn registers(s: &[u8]) -> Result<Vec<u8>, Corrupt> {
    let mut out = vec![0u8; REGISTERS];
    merge_into(&mut out, s)?;
    Ok(out)
}

/// Raises each of `max`'s registers to the sketch's (`PFMERGE`, `PFCOUNT`
/// of several keys).
pub fn merge_into(max: &mut [u8], s: &[u8]) -> Result<(), Corrupt> {
    if s[4] == DENSE {
        let regs = &s[HEADER_LEN..];
        for (i, m) in max.iter_mut().enumerate() {
            *m = (*m).max(dense_get(regs, i));
        }
        return Ok(());
    }
    let (mut at, mut i) = (HEADER_LEN, 0usize);
    while let Some((run, oplen)) = run_at(s, at) {
        match run {
            Run::Zeros(n) => i += n,
            Run::Val(v, n) => {
                // A value past the last register (even after runs that
                // covered them all) is corruption, as Redis finds it.
                if i + n > REGISTERS {
                    return Err(Corrupt);
                }
                for m in &mut max[i..i + n] {
                    *m = (*m).max(v);
                }
                i += n;
            }
        }
        at += oplen;
    }
    if i == REGISTERS { Ok(()) } else { Err(Corrupt) }
}

/// Turns a sparse sketch dense (header kept but for the encoding).
pub fn to_dense(s: &mut Vec<u8>) -> Result<(), Corrupt> {
    if s[4] == DENSE {
        return Ok(());
    }
    let regs = registers(s)?;
    let mut dense = vec![0u8; DENSE_LEN];
    dense[..HEADER_LEN].copy_from_slice(&s[..HEADER_LEN]);
    dense[4] = DENSE;
    for (i, &v) in regs.iter().enumerate() {
        if v != 0 {
            dense_set(&mut dense[HEADER_LEN..], i, v);
        }
    }
    *s = dense;
    Ok(())
}

/// Writes merged registers into the sketch `s` (`PFMERGE`'s destination,
/// dense first if `dense`).
pub fn store_registers(s: &mut Vec<u8>, regs: &[u8], dense: bool) -> Result<(), Corrupt> {
    if dense {
        to_dense(s)?;
    }
    for (i, &v) in regs.iter().enumerate() {
        if v != 0 {
            set_register(s, i, v)?;
        }
    }
    invalidate(s);
    Ok(())
}

/// The estimated number of distinct elements a sketch has seen.
pub fn count(s: &[u8]) -> Result<u64, Corrupt> {
    Ok(estimate(&registers(s)?))
}

/// Ertl's estimator ("New cardinality estimation algorithms for
/// HyperLogLog sketches", arXiv:1702.01284) over registers' values, as
/// Redis computes it.
pub fn estimate(regs: &[u8]) -> u64 {
    let mut histogram = [0u32; 64];
    for &r in regs {
        histogram[usize::from(r & 63)] += 1;
    }
    let m = REGISTERS as f64;
    let mut z = m * tau((m - f64::from(histogram[Q + 1])) / m);
    for j in (1..=Q).rev() {
        z += f64::from(histogram[j]);
        z *= 0.5;
    }
    z += m * sigma(f64::from(histogram[0]) / m);
    const ALPHA_INF: f64 = 0.721_347_520_444_481_7;
    let e = (ALPHA_INF * m * m / z).round();
    // Registers no element could give (crafted) overflow the estimate:
    // Redis's `llroundl` then yields the lowest 64-bit integer.
    if e.is_finite() && e < 9_223_372_036_854_775_808.0 { e as u64 } else { 1 << 63 }
}

fn tau(mut x: f64) -> f64 {
    if x == 0.0 || x == 1.0 {
        return 0.0;
    }
    let (mut y, mut z) = (1.0, 1.0 - x);
    loop {
        x = x.sqrt();
        let before = z;
        y *= 0.5;
        z -= (1.0 - x).powi(2) * y;
        if before == z {
            return z / 3.0;
        }
    }
}

fn sigma(mut x: f64) -> f64 {
    if x == 1.0 {
        return f64::INFINITY;
    }
    let (mut y, mut z) = (1.0, x);
    loop {
        x *= x;
        let before = z;
        z += x * y;
        y += y;
        if before == z {
            return z;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn murmur_of_nothing_with_seed_0_is_0() {
        // The rest is checked against Redis: the integration tests compare
        // sketches byte for byte.
        assert_eq!(murmur64a(b"", 0), 0);
        assert_ne!(murmur64a(b"a", 0xadc8_3b19), murmur64a(b"b", 0xadc8_3b19));
    }

    #[test]
    fn a_new_sketch_is_sparse_and_counts_zero() {
        let s = new_sketch();
        assert_eq!(s.len(), 18);
        assert!(is_sketch(&s));
        assert_eq!(count(&s), Ok(0));
        assert_eq!(cached_count(&s), Some(0));
    }

    #[test]
    fn sparse_and_dense_agree_register_by_register() {
        let mut sparse = new_sketch();
        let mut dense = new_sketch();
        to_dense(&mut dense).expect("valid");
        assert_eq!(dense.len(), DENSE_LEN);
        for i in 0..2000u32 {
            let e = i.to_string();
            let a = add(&mut sparse, e.as_bytes()).expect("valid");
            let b = add(&mut dense, e.as_bytes()).expect("valid");
            assert_eq!(a, b, "element {i}");
            assert_eq!(registers(&sparse), registers(&dense), "element {i}");
        }
        assert_eq!(sparse[4], DENSE, "2000 elements outgrow the sparse form");
        let n = count(&dense).expect("valid");
        assert!((1900..2100).contains(&n), "{n}");
        assert!(cached_count(&dense).is_none());
    }

    #[test]
    fn dense_additions_edit_what_adding_changes() {
        let mut dense = new_sketch();
        to_dense(&mut dense).expect("valid");
        let mut x = 7u64;
        for round in 0..200 {
            let elements: Vec<Vec<u8>> = (0..(round % 40))
                .map(|_| {
                    x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    x.to_le_bytes().to_vec()
                })
                .collect();
            let edits = dense_additions(&dense, elements.iter().map(|e| &e[..]));
            let mut edited = dense.clone();
            for (at, bytes) in &edits {
                edited[*at..at + bytes.len()].copy_from_slice(bytes);
            }
            let mut added = dense.clone();
            let mut changed = false;
            for e in &elements {
                changed |= add(&mut added, e).expect("valid");
            }
            assert_eq!(edits.is_empty(), !changed);
            assert_eq!(edited, added, "round {round}");
            dense = added;
            if round % 5 == 0 {
                let (at, bytes) = cached_count_bytes(1);
                dense[at..at + bytes.len()].copy_from_slice(&bytes);
            }
        }
    }

    #[test]
    fn dense_registers_pack_six_bits() {
        let mut regs = vec![0u8; REGISTERS * 6 / 8];
        for i in 0..REGISTERS {
            dense_set(&mut regs, i, (i % 64) as u8);
        }
        for i in 0..REGISTERS {
            assert_eq!(dense_get(&regs, i), (i % 64) as u8);
        }
    }

    #[test]
    fn crafted_sketches_never_panic() {
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for case in 0..20_000 {
            let mut s = new_sketch();
            s.truncate(HEADER_LEN);
            let len = (next() % 40) as usize;
            // Runs that are mostly plausible: long zero runs, short values.
            for _ in 0..len {
                let b = match next() % 4 {
                    0 => 0x40 | (next() % 64) as u8,
                    1 => (next() % 64) as u8,
                    _ => 0x80 | (next() % 128) as u8,
                };
                s.push(b);
            }
            if case % 7 == 0 {
                s.extend_from_slice(&[0x7f, 0xff]);
            }
            let _ = count(&s);
            let mut max = vec![0u8; REGISTERS];
            let _ = merge_into(&mut max, &s);
            for i in 0..5 {
                let _ = add(&mut s, format!("{case}-{i}").as_bytes());
            }
            let _ = store_registers(&mut s, &max, case % 2 == 0);
        }
    }

    #[test]
    fn crafted_registers_count_as_redis_counts_them() {
        // Found by comparing with Redis: a value run after runs covering
        // every register is corruption; impossible register values give
        // Redis's overflowed estimate.
        let mut s = new_sketch();
        s.push(0x90);
        assert_eq!(count(&s), Err(Corrupt));
        let mut dense = vec![0xffu8; DENSE_LEN];
        dense[..HEADER_LEN].copy_from_slice(&new_sketch()[..HEADER_LEN]);
        dense[4] = DENSE;
        assert_eq!(count(&dense), Ok(1 << 63));
    }

    #[test]
    fn corrupt_sparse_runs_are_refused() {
        let mut s = new_sketch();
        s.truncate(HEADER_LEN + 1);
        s[HEADER_LEN] = 0x00; // one zero register: too few
        assert_eq!(count(&s), Err(Corrupt));
        let mut cut = new_sketch();
        cut.truncate(HEADER_LEN);
        assert_eq!(add(&mut cut, b"x"), Err(Corrupt));
    }
}
