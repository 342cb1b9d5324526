//! Bitmap commands on string values: `SETBIT`, `GETBIT`, `BITCOUNT`,
//! `BITPOS`, `BITOP`.
//!
//! Bits are numbered from the most significant bit of the first byte, as in
//! Redis. A string grows (zero-padded) only as far as a written bit needs;
//! offsets are limited to `proto-max-bulk-len` bytes, as Redis does.
//!
//! Effects: `SETBIT` records a one-byte `SetRange` (the byte holding the bit,
//! at its offset): it is the smallest description of the change, it pads
//! with zeros and creates the key when absent, and it keeps the key's time to
//! live, all exactly as Redis's `SETBIT` does. `BITOP` records a `Put` of the
//! whole result (clearing the destination's time to live) or a `Del` when
//! every source is empty.

use bytes::Bytes;

use super::string::strict_i64;
use super::{Args, CmdResult, Ctx, SYNTAX, WRONGTYPE, flags::*};
use crate::command;
use crate::resp::Frame;
use crate::state::{Effect, ExpireChange, Value};

/// The bitmap command family.
pub static COMMANDS: &[super::Command] = &[
    command!(
        "setbit",
        4,
        WRITE | DENYOOM,
        1,
        1,
        1,
        "bitmap",
        "SETBIT key offset value — set or clear one bit of a string, returning its old value",
        setbit
    ),
    command!(
        "getbit",
        3,
        READONLY | FAST,
        1,
        1,
        1,
        "bitmap",
        "GETBIT key offset — the bit at an offset of a string",
        getbit
    ),
    command!(
        "bitcount",
        -2,
        READONLY,
        1,
        1,
        1,
        "bitmap",
        "BITCOUNT key [start end [BYTE|BIT]] — count the set bits of a string",
        bitcount
    ),
    command!(
        "bitpos",
        -3,
        READONLY,
        1,
        1,
        1,
        "bitmap",
        "BITPOS key bit [start [end [BYTE|BIT]]] — the position of the first set or clear bit",
        bitpos
    ),
    command!(
        "bitop",
        -4,
        WRITE | DENYOOM,
        2,
        -1,
        1,
        "bitmap",
        "BITOP AND|OR|XOR|NOT destkey key [key ...] — store a bitwise operation between strings",
        bitop
    ),
];

/// `ERR bit offset is not an integer or out of range`.
pub(crate) const BAD_OFFSET: Frame = Frame::error("ERR bit offset is not an integer or out of range");
/// `ERR bit is not an integer or out of range`.
const BAD_BIT: Frame = Frame::error("ERR bit is not an integer or out of range");

/// Parses a bit offset as Redis's `getBitOffsetFromArgument`: a strict
/// non-negative integer whose byte (`offset / 8`) lies below `max_bytes`
/// (`proto-max-bulk-len`).
pub(crate) fn bit_offset(arg: &[u8], max_bytes: usize) -> Result<u64, Frame> {
    let offset = strict_i64(arg).map_err(|_| BAD_OFFSET)?;
    if offset < 0 || (offset >> 3) as u64 >= max_bytes as u64 {
        return Err(BAD_OFFSET);
    }
    Ok(offset as u64)
}

/// The string at `key` for a read: `Ok(None)` if absent, `WRONGTYPE` if the
/// key holds another type.
fn read_str(ctx: &mut Ctx, key: &[u8]) -> Result<Option<Bytes>, Frame> {
    ctx.get_str(key)
}

/// The bit at `offset` of `s` (0 past its end).
fn bit_at(s: &[u8], offset: u64) -> u8 {
    let byte = (offset >> 3) as usize;
    s.get(byte).map_or(0, |b| (b >> (7 - (offset & 7))) & 1)
}

/// `SETBIT key offset value`
fn setbit(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?.clone();
    let offset = bit_offset(args.next_bytes()?, ctx.server.config.proto_max_bulk_len)?;
    let on = match strict_i64(args.next_bytes()?) {
        Ok(v @ (0 | 1)) => v as u8,
        _ => return Err(BAD_BIT),
    };
    let cur = match ctx.lookup(&key).map(|e| &e.value) {
        None => None,
        Some(Value::Str(s)) => Some(s.clone()),
        Some(_) => return Err(WRONGTYPE),
    };
    let byte = (offset >> 3) as usize;
    let old_byte = cur.as_ref().and_then(|s| s.get(byte).copied());
    let old = bit_at(cur.as_deref().unwrap_or(&[]), offset);
    // Redis writes (and raises `setbit`) when the string grows or the bit changes.
    if old_byte.is_none() || old != on {
        let mask = 1u8 << (7 - (offset & 7));
        let b = old_byte.unwrap_or(0);
        let new = if on == 1 { b | mask } else { b & !mask };
        let db = ctx.db();
        ctx.apply(Effect::SetRange { db, key: key.clone(), offset: byte, data: Bytes::copy_from_slice(&[new]) });
        ctx.notify('$', "setbit", &key);
    }
    Ok(Frame::Integer(i64::from(old)))
}

/// `GETBIT key offset`
fn getbit(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let offset = bit_offset(args.next_bytes()?, ctx.server.config.proto_max_bulk_len)?;
    let s = read_str(ctx, key)?;
    Ok(Frame::Integer(i64::from(bit_at(s.as_deref().unwrap_or(&[]), offset))))
}

/// Whether a `BYTE|BIT` argument says `BIT` (`ERR syntax error` if it is neither).
fn is_bit_unit(arg: &[u8]) -> Result<bool, Frame> {
    if arg.eq_ignore_ascii_case(b"bit") {
        Ok(true)
    } else if arg.eq_ignore_ascii_case(b"byte") {
        Ok(false)
    } else {
        Err(SYNTAX)
    }
}

/// Resolves `start..=end` (negative from the end) over `total` units the way
/// Redis's `BITCOUNT`/`BITPOS` do: clamped to the string; `None` when empty.
fn clamp_range(start: i64, end: i64, total: i64) -> Option<(u64, u64)> {
    let mut start = if start < 0 { total.saturating_add(start) } else { start };
    let mut end = if end < 0 { total.saturating_add(end) } else { end };
    start = start.max(0);
    end = end.max(0);
    if end >= total {
        end = total - 1;
    }
    (start <= end).then_some((start as u64, end as u64))
}

/// The number of set bits of `s` among bits `first..=last`.
fn count_bits(s: &[u8], first: u64, last: u64) -> u64 {
    let (fb, lb) = ((first >> 3) as usize, (last >> 3) as usize);
    let mut n: u64 = s[fb..=lb].iter().map(|b| u64::from(b.count_ones())).sum();
    // Remove the bits of the edge bytes outside the range.
    let head = s[fb] & !(0xffu8 >> (first & 7));
    let tail = s[lb] & (((1u16 << (7 - (last & 7))) - 1) as u8);
    n -= u64::from(head.count_ones()) + u64::from(tail.count_ones());
    n
}

/// `BITCOUNT key [start end [BYTE|BIT]]`
fn bitcount(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    // Redis looks the key up first: a missing key counts 0 whatever follows.
    let Some(s) = read_str(ctx, key)? else { return Ok(Frame::Integer(0)) };
    let rest = args.rest();
    let len = s.len() as i64;
    let (first, last) = match rest.len() {
        0 => match clamp_range(0, -1, len * 8) {
            Some(r) => r,
            None => return Ok(Frame::Integer(0)),
        },
        2 | 3 => {
            let start = strict_i64(&rest[0])?;
            let end = strict_i64(&rest[1])?;
            if start < 0 && end < 0 && start > end {
                return Ok(Frame::Integer(0));
            }
            let bits = match rest.get(2) {
                Some(unit) => is_bit_unit(unit)?,
                None => false,
            };
            let range = if bits {
                clamp_range(start, end, len * 8)
            } else {
                clamp_range(start, end, len).map(|(a, b)| (a * 8, b * 8 + 7))
            };
            match range {
                Some(r) => r,
                None => return Ok(Frame::Integer(0)),
            }
        }
        _ => return Err(SYNTAX),
    };
    Ok(Frame::Integer(count_bits(&s, first, last) as i64))
}

/// The position of the first bit equal to `bit` among bits `first..=last`
/// of `s`.
fn find_bit(s: &[u8], bit: u8, first: u64, last: u64) -> Option<u64> {
    let (fb, lb) = ((first >> 3) as usize, (last >> 3) as usize);
    let skip = if bit == 1 { 0u8 } else { 0xff };
    for (i, &byte) in s[fb..=lb].iter().enumerate() {
        if byte == skip {
            continue;
        }
        let at = (fb + i) as u64 * 8;
        for j in 0..8u64 {
            let pos = at + j;
            if pos >= first && pos <= last && (byte >> (7 - j)) & 1 == bit {
                return Some(pos);
            }
        }
    }
    None
}

/// `BITPOS key bit [start [end [BYTE|BIT]]]`
fn bitpos(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let bit = match strict_i64(args.next_bytes()?)? {
        b @ (0 | 1) => b as u8,
        _ => return Err(Frame::error("ERR The bit argument must be 1 or 0.")),
    };
    // A missing key is an endless run of clear bits.
    let Some(s) = read_str(ctx, key)? else { return Ok(Frame::Integer(if bit == 1 { -1 } else { 0 })) };
    let rest = args.rest();
    let len = s.len() as i64;
    let (range, end_given) = match rest.len() {
        0 => (clamp_range(0, -1, len).map(|(a, b)| (a * 8, b * 8 + 7)), false),
        1..=3 => {
            let start = strict_i64(&rest[0])?;
            let bits = match rest.get(2) {
                Some(unit) => is_bit_unit(unit)?,
                None => false,
            };
            let end = match rest.get(1) {
                Some(e) => strict_i64(e)?,
                None => -1,
            };
            let range = if bits {
                clamp_range(start, end, len * 8)
            } else {
                clamp_range(start, end, len).map(|(a, b)| (a * 8, b * 8 + 7))
            };
            (range, rest.len() >= 2)
        }
        _ => return Err(SYNTAX),
    };
    let Some((first, last)) = range else { return Ok(Frame::Integer(-1)) };
    let pos = match find_bit(&s, bit, first, last) {
        Some(p) => p as i64,
        // No clear bit in the range: without an explicit end the string
        // counts as padded with clear bits on the right.
        None if bit == 0 && !end_given => ((last >> 3) as i64 + 1) * 8,
        None => -1,
    };
    Ok(Frame::Integer(pos))
}

/// A `BITOP` operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BitOp {
    And,
    Or,
    Xor,
    Not,
}

/// Computes `op` over `srcs` (shorter strings padded with zero bytes).
fn bitop_compute(op: BitOp, srcs: &[Bytes]) -> Vec<u8> {
    let maxlen = srcs.iter().map(|s| s.len()).max().unwrap_or(0);
    let mut out = vec![0u8; maxlen];
    let Some((first, others)) = srcs.split_first() else { return out };
    out[..first.len()].copy_from_slice(first);
    match op {
        BitOp::Not => out.iter_mut().for_each(|b| *b = !*b),
        BitOp::And => {
            for s in others {
                for (o, i) in out.iter_mut().zip(s.iter().copied().chain(std::iter::repeat(0))) {
                    *o &= i;
                }
            }
        }
        BitOp::Or | BitOp::Xor => {
            for s in others {
                for (o, &i) in out.iter_mut().zip(s.iter()) {
                    if op == BitOp::Or {
                        *o |= i;
                    } else {
                        *o ^= i;
                    }
                }
            }
        }
    }
    out
}

/// `BITOP AND|OR|XOR|NOT destkey key [key ...]`
fn bitop(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let opname = args.next_bytes()?;
    let op = [("and", BitOp::And), ("or", BitOp::Or), ("xor", BitOp::Xor), ("not", BitOp::Not)]
        .into_iter()
        .find(|(n, _)| opname.eq_ignore_ascii_case(n.as_bytes()))
        .map(|(_, op)| op)
        .ok_or(SYNTAX)?;
    let dest = args.next_bytes()?.clone();
    let keys = args.rest();
    if op == BitOp::Not && keys.len() != 1 {
        return Err(Frame::error("ERR BITOP NOT must be called with a single source key."));
    }
    let mut srcs = Vec::with_capacity(keys.len());
    for k in keys {
        srcs.push(ctx.lookup_read(k).map_or(Ok(Bytes::new()), |e| match &e.value {
            Value::Str(s) => Ok(s.clone()),
            _ => Err(WRONGTYPE),
        })?);
    }
    let result = bitop_compute(op, &srcs);
    let db = ctx.db();
    if result.is_empty() {
        if ctx.lookup(&dest).is_some() {
            ctx.apply(Effect::Del { db, key: dest.clone() });
            ctx.notify('g', "del", &dest);
        }
        return Ok(Frame::Integer(0));
    }
    let len = result.len() as i64;
    ctx.expire_if_due(db, &dest);
    ctx.apply(Effect::Put {
        db,
        key: dest.clone(),
        value: Value::Str(Bytes::from(result)),
        expire: ExpireChange::Clear,
    });
    ctx.notify('$', "set", &dest);
    Ok(Frame::Integer(len))
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::cmd::NOT_INT;
    use crate::cmd::testkit::{Harness, b, text};

    fn int(n: i64) -> Frame {
        Frame::Integer(n)
    }

    /// Stores raw bytes at `key` (the harness's arguments are text).
    fn put(h: &mut Harness, key: &str, value: &[u8]) {
        let value = Value::Str(Bytes::copy_from_slice(value));
        h.apply(Effect::Put { db: 0, key: b(key), value, expire: ExpireChange::Clear });
    }

    fn with_list() -> Harness {
        let mut h = Harness::new();
        h.seed(Effect::ListPush { db: 0, key: b("l"), left: false, items: vec![b("a")] });
        h
    }

    #[test]
    fn table_matches_redis_command_info() {
        // (name, arity, flags, first, last, step) as redis-server 7.0 reports them.
        let want: &[(&str, i32, u32, i32, i32, i32)] = &[
            ("setbit", 4, WRITE | DENYOOM, 1, 1, 1),
            ("getbit", 3, READONLY | FAST, 1, 1, 1),
            ("bitcount", -2, READONLY, 1, 1, 1),
            ("bitpos", -3, READONLY, 1, 1, 1),
            ("bitop", -4, WRITE | DENYOOM, 2, -1, 1),
        ];
        assert_eq!(COMMANDS.len(), want.len());
        for &(name, arity, flags, first, last, step) in want {
            let c = crate::cmd::lookup(name.as_bytes()).unwrap();
            assert_eq!(
                (c.arity, c.flags, c.first_key, c.last_key, c.step, c.group),
                (arity, flags, first, last, step, "bitmap"),
                "{name}"
            );
        }
    }

    #[test]
    fn offsets_follow_redis() {
        let max = 512 * 1024 * 1024;
        assert_eq!(bit_offset(b"0", max), Ok(0));
        assert_eq!(bit_offset(b"4294967295", max), Ok(4_294_967_295));
        for bad in ["4294967296", "-1", "-0", "01", "x", "", " 1", "1.0", "9223372036854775808"] {
            assert_eq!(bit_offset(bad.as_bytes(), max), Err(BAD_OFFSET), "{bad}");
        }
        assert_eq!(bit_offset(b"15", 2), Ok(15));
        assert_eq!(bit_offset(b"16", 2), Err(BAD_OFFSET));
    }

    #[test]
    fn setbit_and_getbit() {
        let mut h = Harness::new();
        assert_eq!(h.run("setbit k 7 1"), int(0));
        assert_eq!(h.run("get k"), Frame::bulk(b"\x01"));
        assert_eq!(h.run("setbit k 7 1"), int(1));
        assert_eq!(h.run("setbit k 1 1"), int(0));
        assert_eq!(h.run("get k"), Frame::bulk(b"\x41"));
        assert_eq!(h.run("setbit k 20 1"), int(0));
        assert_eq!(h.run("get k"), Frame::bulk(b"\x41\x00\x08"));
        assert_eq!(h.run("setbit k 1 0"), int(1));
        assert_eq!(h.run("getbit k 1"), int(0));
        assert_eq!(h.run("getbit k 7"), int(1));
        assert_eq!(h.run("getbit k 20"), int(1));
        assert_eq!(h.run("getbit k 100000"), int(0));
        assert_eq!(h.run("getbit nokey 3"), int(0));
        // Errors, in Redis's order: offset, bit, type.
        assert_eq!(h.run("setbit k 4294967296 1"), BAD_OFFSET);
        assert_eq!(h.run("setbit k -1 1"), BAD_OFFSET);
        assert_eq!(h.run("setbit k 1 2"), BAD_BIT);
        assert_eq!(h.run("setbit k 1 -0"), BAD_BIT);
        assert_eq!(h.run("getbit k x"), BAD_OFFSET);
        let mut h = with_list();
        assert_eq!(h.run("setbit l x 1"), BAD_OFFSET);
        assert_eq!(h.run("setbit l 1 x"), BAD_BIT);
        assert_eq!(h.run("setbit l 1 1"), WRONGTYPE);
        assert_eq!(h.run("getbit l x"), BAD_OFFSET);
        assert_eq!(h.run("getbit l 1"), WRONGTYPE);
        assert_eq!(h.run("setbit k 4294967295 x"), BAD_BIT);
        // The limit follows proto-max-bulk-len.
        h.server.config.proto_max_bulk_len = 4;
        assert_eq!(h.run("setbit k 32 1"), BAD_OFFSET);
        assert_eq!(h.run("setbit k 31 1"), int(0));
        assert_eq!(h.run("strlen k"), int(4));
    }

    #[test]
    fn setbit_records_one_byte_and_keeps_the_ttl() {
        let mut h = Harness::new();
        h.run("set k a px 5000");
        let before = h.effects.len();
        assert_eq!(h.run("setbit k 8 1"), int(0));
        assert_eq!(
            h.effects[before..],
            [Effect::SetRange { db: 0, key: b("k"), offset: 1, data: Bytes::from_static(b"\x80") }]
        );
        assert_eq!(h.ks.dbs[0].get(b"k").unwrap().expire_at, Some(1_005_000));
        h.take_events();
        // Same bit, no growth: nothing written, nothing raised.
        assert_eq!(h.run("setbit k 8 1"), int(1));
        assert_eq!(h.run("setbit k 3 0"), int(0));
        assert_eq!(h.effects.len(), before + 1);
        assert!(h.take_events().is_empty());
        // Growth alone writes (a zero byte) and raises `setbit`.
        assert_eq!(h.run("setbit k 40 0"), int(0));
        assert_eq!(h.run("strlen k"), int(6));
        assert_eq!(h.take_event_names(), ["setbit"]);
        assert_eq!(h.run("setbit new 0 0"), int(0));
        assert_eq!(h.run("get new"), Frame::bulk(b"\x00"));
        h.check_replay();
    }

    #[test]
    fn setbit_on_an_expired_key_starts_afresh() {
        let mut h = Harness::new();
        put(&mut h, "k", b"\xff");
        h.run("pexpire k 10");
        h.now_ms += 10;
        assert_eq!(h.run("setbit k 0 0"), int(0));
        assert_eq!(h.run("get k"), Frame::bulk(b"\x00"));
        assert_eq!(h.ks.dbs[0].get(b"k").unwrap().expire_at, None);
        h.check_replay();
    }

    #[test]
    fn bitcount_follows_redis() {
        let mut h = Harness::new();
        h.run("set s foobar");
        assert_eq!(h.run("bitcount s"), int(26));
        assert_eq!(h.run("bitcount s 0 0"), int(4));
        assert_eq!(h.run("bitcount s 1 1"), int(6));
        assert_eq!(h.run("bitcount s 1 1 BYTE"), int(6));
        assert_eq!(h.run("bitcount s 5 30 bit"), int(17));
        assert_eq!(h.run("bitcount s -2 -1"), int(7));
        assert_eq!(h.run("bitcount s 0 -1 bit"), int(26));
        assert_eq!(h.run("bitcount s 1 0"), int(0));
        assert_eq!(h.run("bitcount s 100 200"), int(0));
        assert_eq!(h.run("bitcount s -100 100"), int(26));
        assert_eq!(h.run("bitcount s 7 7 bit"), int(0));
        assert_eq!(h.run("bitcount s 1 6 bit"), int(4));
        // A missing key is 0 whatever the arguments; the rest is checked in order.
        assert_eq!(h.run("bitcount nokey 0"), int(0));
        assert_eq!(h.run("bitcount nokey x y z w"), int(0));
        assert_eq!(h.run("bitcount s 0"), SYNTAX);
        assert_eq!(h.run("bitcount s 0 1 2 3"), SYNTAX);
        assert_eq!(h.run("bitcount s 0 1 foo"), SYNTAX);
        assert_eq!(h.run("bitcount s -1 -2 foo"), int(0));
        assert_eq!(h.run("bitcount s x 1"), NOT_INT);
        assert_eq!(h.run("bitcount s 1 x foo"), NOT_INT);
        assert_eq!(h.run("bitcount s -9223372036854775808 9223372036854775807 bit"), int(26));
        h.run("set e \"\"");
        assert_eq!(h.run("bitcount e"), int(0));
        assert_eq!(h.run("bitcount e 0 0 bit"), int(0));
        assert_eq!(with_list().run("bitcount l x"), WRONGTYPE);
    }

    #[test]
    fn bit_counting_matches_a_naive_count() {
        let s: Vec<u8> = (0..7u32).map(|i| (i * 37 + 11) as u8).collect();
        for first in 0..56u64 {
            for last in first..56u64 {
                let naive = (first..=last).filter(|&p| bit_at(&s, p) == 1).count() as u64;
                assert_eq!(count_bits(&s, first, last), naive, "{first}..={last}");
                for bit in [0, 1] {
                    let naive = (first..=last).find(|&p| bit_at(&s, p) == bit);
                    assert_eq!(find_bit(&s, bit, first, last), naive, "{bit} {first}..={last}");
                }
            }
        }
    }

    #[test]
    fn bitpos_follows_redis() {
        let mut h = Harness::new();
        put(&mut h, "s", b"\x00\xff\xf0");
        assert_eq!(h.run("bitpos s 1"), int(8));
        assert_eq!(h.run("bitpos s 0"), int(0));
        assert_eq!(h.run("bitpos s 1 2"), int(16));
        assert_eq!(h.run("bitpos s 0 1"), int(20));
        assert_eq!(h.run("bitpos s 0 1 1"), int(-1));
        assert_eq!(h.run("bitpos s 1 2 -1 byte"), int(16));
        assert_eq!(h.run("bitpos s 1 7 15 bit"), int(8));
        assert_eq!(h.run("bitpos s 0 8 15 bit"), int(-1));
        assert_eq!(h.run("bitpos s 0 8 -1 bit"), int(20));
        assert_eq!(h.run("bitpos s 1 2 1"), int(-1));
        assert_eq!(h.run("bitpos s 1 100"), int(-1));
        put(&mut h, "f", b"\xff\xff");
        assert_eq!(h.run("bitpos f 0"), int(16));
        assert_eq!(h.run("bitpos f 0 0"), int(16));
        // Four arguments after the key: the third is the end, not the unit.
        assert_eq!(h.run("bitpos f 0 3 bit"), NOT_INT);
        assert_eq!(h.run("bitpos f 0 0 -1"), int(-1));
        assert_eq!(h.run("bitpos f 0 0 -1 bit"), int(-1));
        assert_eq!(h.run("bitpos nokey 0"), int(0));
        assert_eq!(h.run("bitpos nokey 1 x y z w"), int(-1));
        h.run("set e \"\"");
        assert_eq!(h.run("bitpos e 0"), int(-1));
        assert_eq!(h.run("bitpos e 1"), int(-1));
        // Errors in Redis's order: bit, type, start, unit, end.
        assert_eq!(h.run("bitpos s 2"), Frame::error("ERR The bit argument must be 1 or 0."));
        assert_eq!(h.run("bitpos s x"), NOT_INT);
        assert_eq!(h.run("bitpos s 1 0 x foo"), SYNTAX);
        assert_eq!(h.run("bitpos s 1 x 0 foo"), NOT_INT);
        assert_eq!(h.run("bitpos s 1 0 x"), NOT_INT);
        assert_eq!(h.run("bitpos s 1 0 1 bit x"), SYNTAX);
        let mut h = with_list();
        assert_eq!(h.run("bitpos l x"), NOT_INT);
        assert_eq!(h.run("bitpos l 1 x"), WRONGTYPE);
    }

    #[test]
    fn bitop_follows_redis() {
        let mut h = Harness::new();
        h.run("set a foobar");
        h.run("set b abcdef");
        h.run("set d x px 1000");
        h.take_events();
        assert_eq!(h.run("bitop and d a b"), int(6));
        assert_eq!(h.run("get d"), Frame::bulk(b"`bc`ab"));
        assert_eq!(h.ks.dbs[0].get(b"d").unwrap().expire_at, None);
        assert_eq!(h.take_event_names(), ["set"]);
        assert_eq!(h.run("bitop OR d a b"), int(6));
        assert_eq!(h.run("get d"), Frame::bulk(b"goofev"));
        assert_eq!(h.run("bitop xor d a nokey"), int(6));
        assert_eq!(h.run("get d"), Frame::bulk(b"foobar"));
        assert_eq!(h.run("bitop and d a nokey"), int(6));
        assert_eq!(h.run("get d"), Frame::bulk(&[0u8; 6]));
        h.run("set short ab");
        assert_eq!(h.run("bitop or d short a"), int(6));
        assert_eq!(h.run("get d"), Frame::bulk(b"goobar"));
        assert_eq!(h.run("bitop not d short"), int(2));
        assert_eq!(h.run("get d"), Frame::bulk(&[!b'a', !b'b']));
        // An empty result deletes the destination, whatever its type.
        h.seed(Effect::ListPush { db: 0, key: b("l"), left: false, items: vec![b("x")] });
        h.take_events();
        assert_eq!(h.run("bitop not l nokey"), int(0));
        assert_eq!(h.run("exists l"), int(0));
        assert_eq!(h.take_event_names(), ["del"]);
        assert_eq!(h.run("bitop or l nokey"), int(0));
        assert!(h.take_events().is_empty());
        h.check_replay();
        // Errors.
        assert_eq!(h.run("bitop foo d a"), SYNTAX);
        assert_eq!(h.run("bitop not d a b"), Frame::error("ERR BITOP NOT must be called with a single source key."));
        h.seed(Effect::ListPush { db: 0, key: b("l"), left: false, items: vec![b("x")] });
        assert_eq!(h.run("bitop and d a l"), WRONGTYPE);
        assert_eq!(text(&bitop_compute(BitOp::And, &[])), "");
    }

    #[test]
    fn replies_in_both_protocols() {
        let mut h = Harness::new();
        assert_eq!(h.resp2(&["setbit", "k", "1", "1"]), ":0\r\n");
        assert_eq!(h.resp3(&["getbit", "k", "1"]), ":1\r\n");
        assert_eq!(h.resp3(&["bitpos", "k", "1"]), ":1\r\n");
        assert_eq!(h.resp2(&["bitcount", "k"]), ":1\r\n");
        assert_eq!(h.resp3(&["bitop", "not", "d", "k"]), ":1\r\n");
        assert_eq!(h.resp3(&["setbit", "k", "x", "1"]), "-ERR bit offset is not an integer or out of range\r\n");
    }
}
