//! Bitmap commands on string values: `SETBIT`, `GETBIT`, `BITCOUNT`,
//! `BITPOS`, `BITOP`, `BITFIELD`, `BITFIELD_RO`.
//!
//! Bits are numbered from the most significant bit of the first byte, as in
//! Redis. A string grows (zero-padded) only as far as a written bit needs;
//! offsets are limited to `proto-max-bulk-len` bytes, as Redis does.
//!
//! Effects: `SETBIT` records a one-byte `SetRange` (the byte holding the bit,
//! at its offset): it is the smallest description of the change, it pads
//! with zeros and creates the key when absent, and it keeps the key's time to
//! live, all exactly as Redis's `SETBIT` does. `BITFIELD` records one
//! `SetRange` of the bytes from the first to the last one its writes touch
//! (growth included), for the same reasons. `BITOP` records a `Put` of the
//! whole result (clearing the destination's time to live) or a `Del` when
//! every source is empty.
//!
//! One known difference: when every write of a `BITFIELD` is refused by
//! `OVERFLOW FAIL` but the string had to be created or extended, Redis keeps
//! the grown string without signalling the key (a `WATCH` on it survives);
//! here the growth is an effect like any other and touches the watch.

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
    command!(
        "bitfield",
        -2,
        WRITE | DENYOOM,
        1,
        1,
        1,
        "bitmap",
        "BITFIELD key [GET type offset] [SET type offset value] [INCRBY type offset increment] [OVERFLOW WRAP|SAT|FAIL] ... — read and write integers of any width in a string",
        bitfield
    ),
    command!(
        "bitfield_ro",
        -2,
        READONLY | FAST,
        1,
        1,
        1,
        "bitmap",
        "BITFIELD_RO key [GET type offset ...] — read integers of any width from a string",
        bitfield_ro
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
    let byte = (offset >> 3) as usize;
    // `None`: no key, or the string ends before the byte (it grows).
    let old_byte = ctx.read_str_for_write(&key, |s| s.get(byte).copied())?.flatten();
    let old = bit_at(old_byte.as_slice(), offset & 7);
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
    let s = ctx.get_str(key)?;
    Ok(Frame::Integer(i64::from(bit_at(s.as_deref().unwrap_or(&[]), offset))))
}

/// Whether a `BYTE|BIT` argument says `BIT` (`ERR syntax error` if it is neither).
fn is_bit_unit(arg: &[u8]) -> Result<bool, Frame> {
    super::args::one_of(arg, "bit", "byte")
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
    // Redis 7.0 looks the key up first: a missing key counts 0 whatever
    // follows, malformed arguments included.
    let Some(s) = ctx.get_str(key)? else { return Ok(Frame::Integer(0)) };
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
    // A missing key is an endless run of clear bits (Redis 7.0 answers
    // before reading the range arguments).
    let Some(s) = ctx.get_str(key)? else { return Ok(Frame::Integer(if bit == 1 { -1 } else { 0 })) };
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
            Value::Str(s) => Ok(s.to_bytes()),
            _ => Err(WRONGTYPE),
        })?);
    }
    let result = bitop_compute(op, &srcs);
    let db = ctx.db();
    if result.is_empty() {
        ctx.delete_destination(&dest);
        return Ok(Frame::Integer(0));
    }
    let len = result.len() as i64;
    ctx.expire_if_due(db, &dest);
    ctx.apply(Effect::Put {
        db,
        key: dest.clone(),
        value: Value::Str(Bytes::from(result).into()),
        expire: ExpireChange::Clear,
    });
    ctx.notify('$', "set", &dest);
    Ok(Frame::Integer(len))
}

/// What `BITFIELD` does on overflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Overflow {
    Wrap,
    Sat,
    Fail,
}

/// One `BITFIELD` operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FieldOp {
    Get,
    Set(i64),
    IncrBy(i64),
}

/// A parsed `BITFIELD` operation on one field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Field {
    op: FieldOp,
    signed: bool,
    bits: u32,
    offset: u64,
    overflow: Overflow,
}

/// `ERR Invalid bitfield type...`.
const BAD_TYPE: Frame =
    Frame::error("ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.");

/// Parses a field type (`i1`..`i64`, `u1`..`u63`, lower-case sign letter).
fn field_type(arg: &[u8]) -> Result<(bool, u32), Frame> {
    let signed = match arg.first() {
        Some(b'i') => true,
        Some(b'u') => false,
        _ => return Err(BAD_TYPE),
    };
    let bits = strict_i64(&arg[1..]).map_err(|_| BAD_TYPE)?;
    if bits < 1 || bits > if signed { 64 } else { 63 } {
        return Err(BAD_TYPE);
    }
    Ok((signed, bits as u32))
}

/// Parses a field offset: a bit offset, or `#N` for N times the field's width.
fn field_offset(arg: &[u8], bits: u32, max_bytes: usize) -> Result<u64, Frame> {
    let Some(n) = arg.strip_prefix(b"#") else { return bit_offset(arg, max_bytes) };
    // Redis multiplies in C's signed arithmetic (wrapping in practice), then checks.
    let offset = strict_i64(n).map_err(|_| BAD_OFFSET)?.wrapping_mul(i64::from(bits));
    if offset < 0 || (offset >> 3) as u64 >= max_bytes as u64 {
        return Err(BAD_OFFSET);
    }
    Ok(offset as u64)
}

/// Parses `BITFIELD`'s operations, with Redis's errors in Redis's order.
fn parse_fields(args: &[Bytes], max_bytes: usize) -> Result<Vec<Field>, Frame> {
    let mut fields = Vec::new();
    let mut overflow = Overflow::Wrap;
    let mut i = 0;
    while i < args.len() {
        let sub = &args[i];
        let remaining = args.len() - i - 1;
        let is = |k: &str| sub.eq_ignore_ascii_case(k.as_bytes());
        let kind = if is("get") && remaining >= 2 {
            0
        } else if is("set") && remaining >= 3 {
            1
        } else if is("incrby") && remaining >= 3 {
            2
        } else if is("overflow") && remaining >= 1 {
            let name = &args[i + 1];
            overflow = [("wrap", Overflow::Wrap), ("sat", Overflow::Sat), ("fail", Overflow::Fail)]
                .into_iter()
                .find(|(n, _)| name.eq_ignore_ascii_case(n.as_bytes()))
                .map(|(_, o)| o)
                .ok_or(Frame::error("ERR Invalid OVERFLOW type specified"))?;
            i += 2;
            continue;
        } else {
            return Err(SYNTAX);
        };
        let (signed, bits) = field_type(&args[i + 1])?;
        let offset = field_offset(&args[i + 2], bits, max_bytes)?;
        let op = match kind {
            0 => FieldOp::Get,
            1 => FieldOp::Set(strict_i64(&args[i + 3])?),
            _ => FieldOp::IncrBy(strict_i64(&args[i + 3])?),
        };
        fields.push(Field { op, signed, bits, offset, overflow });
        i += if kind == 0 { 3 } else { 4 };
    }
    Ok(fields)
}

/// Reads the `bits`-wide unsigned field at bit `offset` through `byte_at`.
fn read_field(byte_at: impl Fn(usize) -> u8, offset: u64, bits: u32) -> u64 {
    let mut v = 0u64;
    for pos in offset..offset + u64::from(bits) {
        let bit = (byte_at((pos >> 3) as usize) >> (7 - (pos & 7))) & 1;
        v = (v << 1) | u64::from(bit);
    }
    v
}

/// Writes the low `bits` bits of `value` at bit `offset` of `buf`, whose
/// first byte is byte `base` of the string.
fn write_field(buf: &mut [u8], base: usize, offset: u64, bits: u32, value: u64) {
    for (j, pos) in (offset..offset + u64::from(bits)).enumerate() {
        let bit = (value >> (u64::from(bits) - 1 - j as u64)) & 1;
        let byte = &mut buf[(pos >> 3) as usize - base];
        let mask = 1u8 << (7 - (pos & 7));
        if bit == 1 {
            *byte |= mask;
        } else {
            *byte &= !mask;
        }
    }
}

/// Sign-extends a `bits`-wide field.
fn sign_extend(v: u64, bits: u32) -> i64 {
    if bits < 64 && v & (1 << (bits - 1)) != 0 { (v | (u64::MAX << bits)) as i64 } else { v as i64 }
}

/// Redis's `checkSignedBitfieldOverflow`, ported with its exact
/// arithmetic (C's wrapping included): 0, or ±1 with the value to store
/// (`None` for `FAIL`).
fn signed_overflow(value: i64, incr: i64, bits: u32, ow: Overflow) -> (i32, Option<i64>) {
    let max: i64 = if bits == 64 { i64::MAX } else { (1i64 << (bits - 1)) - 1 };
    let min = -max - 1;
    let maxincr = (max as u64).wrapping_sub(value as u64) as i64;
    let minincr = min.wrapping_sub(value);
    let wrap = || {
        let c = (value as u64).wrapping_add(incr as u64);
        Some(sign_extend(if bits < 64 { c & !(u64::MAX << bits) } else { c }, bits))
    };
    if value > max || (bits != 64 && incr > maxincr) || (value >= 0 && incr > 0 && incr > maxincr) {
        let limit = match ow {
            Overflow::Wrap => wrap(),
            Overflow::Sat => Some(max),
            Overflow::Fail => None,
        };
        (1, limit)
    } else if value < min || (bits != 64 && incr < minincr) || (value < 0 && incr < 0 && incr < minincr) {
        let limit = match ow {
            Overflow::Wrap => wrap(),
            Overflow::Sat => Some(min),
            Overflow::Fail => None,
        };
        (-1, limit)
    } else {
        (0, None)
    }
}

/// Redis's `checkUnsignedBitfieldOverflow`, ported the same way.
fn unsigned_overflow(value: u64, incr: i64, bits: u32, ow: Overflow) -> (i32, Option<u64>) {
    let max: u64 = (1u64 << bits) - 1;
    let maxincr = max.wrapping_sub(value) as i64;
    let minincr = (value as i64).wrapping_neg();
    let limit = |sat: u64| match ow {
        Overflow::Wrap => Some(value.wrapping_add(incr as u64) & !(u64::MAX << bits)),
        Overflow::Sat => Some(sat),
        Overflow::Fail => None,
    };
    if value > max || (incr > 0 && incr > maxincr) {
        (1, limit(max))
    } else if incr < 0 && incr < minincr {
        (-1, limit(0))
    } else {
        (0, None)
    }
}

/// Runs one operation on the field's current raw value: the reply and
/// the raw value to store (`None` for `GET` and for an overflow under `FAIL`).
fn field_write(f: &Field, raw: u64) -> (Frame, Option<u64>) {
    // `SET` checks its value as an increment of 0 and answers the old value;
    // `INCRBY` checks the sum and answers the new one.
    let (value, incr, answer_old) = match f.op {
        FieldOp::Get => {
            let v = if f.signed { sign_extend(raw, f.bits) } else { raw as i64 };
            return (Frame::Integer(v), None);
        }
        FieldOp::Set(v) => (v, 0, true),
        FieldOp::IncrBy(by) => (if f.signed { sign_extend(raw, f.bits) } else { raw as i64 }, by, false),
    };
    let mask = if f.bits == 64 { u64::MAX } else { !(u64::MAX << f.bits) };
    let (old, new) = if f.signed {
        let old = sign_extend(raw, f.bits);
        let new = match signed_overflow(value, incr, f.bits, f.overflow) {
            (0, _) => Some(value.wrapping_add(incr)),
            (_, limit) => limit,
        };
        (old, new)
    } else {
        let new = match unsigned_overflow(value as u64, incr, f.bits, f.overflow) {
            (0, _) => Some((value as u64).wrapping_add(incr as u64) as i64),
            (_, limit) => limit.map(|v| v as i64),
        };
        (raw as i64, new)
    };
    match new {
        Some(n) => (Frame::Integer(if answer_old { old } else { n }), Some(n as u64 & mask)),
        None => (Frame::Null, None),
    }
}

/// `BITFIELD key [GET type offset] [SET type offset value] [INCRBY type offset increment] [OVERFLOW WRAP|SAT|FAIL] ...`
fn bitfield(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    bitfield_generic(ctx, args, false)
}

/// `BITFIELD_RO key [GET type offset ...]`
fn bitfield_ro(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    bitfield_generic(ctx, args, true)
}

/// The body of `BITFIELD` and `BITFIELD_RO`.
fn bitfield_generic(ctx: &mut Ctx, args: &mut Args, read_only: bool) -> CmdResult {
    let key = args.next_bytes()?.clone();
    let fields = parse_fields(args.rest(), ctx.server.config.proto_max_bulk_len)?;
    let writes = fields.iter().filter(|f| f.op != FieldOp::Get);
    // The bytes every write touches: `lo..hi`.
    let lo = writes.clone().map(|f| (f.offset >> 3) as usize).min();
    let hi = writes.map(|f| ((f.offset + u64::from(f.bits) - 1) >> 3) as usize + 1).max();
    let (Some(lo), Some(hi)) = (lo, hi) else {
        let s = ctx.get_str(&key)?.unwrap_or_default();
        let at = |i: usize| s.get(i).copied().unwrap_or(0);
        let replies = fields.iter().map(|f| field_write(f, read_field(at, f.offset, f.bits)).0).collect::<Vec<_>>();
        return Ok(Frame::Array(replies));
    };
    if read_only {
        return Err(Frame::error("ERR BITFIELD_RO only supports the GET subcommand"));
    }
    let (old, exists) = match ctx.lookup(&key).map(|e| &e.value) {
        None => (Bytes::new(), false),
        Some(Value::Str(s)) => (s.to_bytes(), true),
        Some(_) => return Err(WRONGTYPE),
    };
    // The written window, zero-padded past the string's end.
    let mut window = vec![0u8; hi - lo];
    if lo < old.len() {
        let end = old.len().min(hi);
        window[..end - lo].copy_from_slice(&old[lo..end]);
    }
    // Redis creates or extends the string before running the operations.
    let grows = hi > old.len() || !exists;
    let mut changed = false;
    let mut replies = Vec::with_capacity(fields.len());
    for f in &fields {
        let raw = {
            let w = &window;
            let at = |i: usize| if (lo..hi).contains(&i) { w[i - lo] } else { old.get(i).copied().unwrap_or(0) };
            read_field(at, f.offset, f.bits)
        };
        let (reply, store) = field_write(f, raw);
        if let Some(v) = store {
            write_field(&mut window, lo, f.offset, f.bits, v);
            changed |= grows || v != raw;
        }
        replies.push(reply);
    }
    // No second handle on the string while it is written: the write edits
    // it in place instead of copying it whole.
    drop(old);
    // As Redis: a write that changed nothing (same value, or refused by
    // `OVERFLOW FAIL`) signals nothing; the growth is kept regardless.
    if changed || grows {
        let db = ctx.db();
        ctx.apply(Effect::SetRange { db, key: key.clone(), offset: lo, data: Bytes::from(window) });
    }
    if changed {
        ctx.notify('$', "setbit", &key);
    }
    Ok(Frame::Array(replies))
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
        let value = Value::Str(Bytes::copy_from_slice(value).into());
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
            ("bitfield", -2, WRITE | DENYOOM, 1, 1, 1),
            ("bitfield_ro", -2, READONLY | FAST, 1, 1, 1),
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
    fn writes_edit_a_large_bitmap_in_place() {
        let mut h = Harness::new();
        assert_eq!(h.run("setbit k 8388607 1"), int(0));
        let at = |h: &Harness| match &h.ks.dbs[0].get(b"k").expect("k").value {
            Value::Str(s) => (s.as_ptr(), s.len()),
            v => panic!("{v:?}"),
        };
        let before = at(&h);
        assert_eq!(before.1, 1 << 20);
        // Neither reads the string into a handle of its own, which would make
        // the write copy all of it.
        assert_eq!(h.run("setbit k 5 1"), int(0));
        assert_eq!(h.run("bitfield k set u8 8 255 get u8 0"), Frame::Array(vec![int(0), int(4)]));
        assert_eq!(at(&h), before);
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
        assert_eq!(h.ks.dbs[0].get(b"k").unwrap().expire_at(), Some(1_005_000));
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
        h.now_ms += 11;
        assert_eq!(h.run("setbit k 0 0"), int(0));
        assert_eq!(h.run("get k"), Frame::bulk(b"\x00"));
        assert_eq!(h.ks.dbs[0].get(b"k").unwrap().expire_at(), None);
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
        assert_eq!(h.ks.dbs[0].get(b"d").unwrap().expire_at(), None);
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

    fn ints(h: &mut Harness, line: &str) -> Vec<Option<i64>> {
        match h.run(line) {
            Frame::Array(items) => items
                .into_iter()
                .map(|f| match f {
                    Frame::Integer(n) => Some(n),
                    Frame::Null => None,
                    other => panic!("{line}: {other:?}"),
                })
                .collect(),
            other => panic!("{line}: {other:?}"),
        }
    }

    #[test]
    fn bitfield_matches_redis() {
        // Every expected reply below is what redis-server 7.0 answers.
        let mut h = Harness::new();
        assert_eq!(
            ints(&mut h, "bitfield q set i8 0 -100 get i8 0 get u8 0 incrby i8 0 -100 get i8 0"),
            [Some(0), Some(-100), Some(156), Some(56), Some(56)]
        );
        assert_eq!(
            ints(
                &mut h,
                "bitfield q overflow sat incrby i8 0 -100 overflow fail incrby i8 0 -100 overflow wrap incrby u4 0 17"
            ),
            [Some(-44), None, Some(14)]
        );
        assert_eq!(h.run("get q"), Frame::bulk(b"\xe4"));
        assert_eq!(
            ints(&mut h, "bitfield q set u63 #1 9223372036854775807 get u63 63 get i64 63 incrby i64 63 1"),
            [Some(0), Some(i64::MAX), Some(-2), Some(-1)]
        );
        // Redis's overflow check wraps in C arithmetic: values just above
        // i64::MIN saturate to the maximum of a narrow signed field.
        assert_eq!(
            ints(
                &mut h,
                "bitfield q overflow sat set i8 0 -9223372036854775808 get i8 0 set i8 0 -9223372036854775680 get i8 0"
            ),
            [Some(-28), Some(127), Some(127), Some(-128)]
        );
        assert_eq!(
            ints(
                &mut h,
                "bitfield q overflow sat set u8 0 -1 get u8 0 overflow wrap set u8 0 -1 get u8 0 set u8 0 257 get u8 0"
            ),
            [Some(128), Some(255), Some(255), Some(255), Some(255), Some(1)]
        );
        assert_eq!(
            ints(
                &mut h,
                "bitfield q overflow sat incrby u8 0 -300 incrby i64 0 -9223372036854775808 incrby i64 0 -9223372036854775808"
            ),
            [Some(0), Some(-9223372036854775807), Some(i64::MIN)]
        );
        assert_eq!(h.run("strlen q"), int(16));
        // A refused write still creates the string, but raises nothing (as
        // Redis, which does not signal the key either).
        h.take_events();
        assert_eq!(ints(&mut h, "bitfield b overflow fail incrby u2 100 5"), [None]);
        assert_eq!(h.run("get b"), Frame::bulk(&[0u8; 13]));
        assert!(h.take_events().is_empty());
        // Writing the value already there changes nothing: no effect, no event.
        let before = h.effects.len();
        assert_eq!(
            ints(&mut h, "bitfield b set u8 8 0 incrby i5 3 0 overflow fail incrby u1 0 1 incrby u1 0 1"),
            [Some(0), Some(0), Some(1), None]
        );
        assert_eq!(h.take_event_names(), ["setbit"]);
        assert_eq!(h.effects.len(), before + 1);
        assert_eq!(
            ints(&mut h, "bitfield b set u8 8 0 incrby i5 3 0 overflow fail incrby u1 0 1"),
            [Some(0), Some(0), None]
        );
        assert_eq!(h.effects.len(), before + 1);
        assert!(h.take_events().is_empty());
        assert_eq!(h.run("setbit b 0 0"), int(1));
        h.take_events();
        assert_eq!(
            ints(&mut h, "bitfield b get u8 0 set u8 0 65 get u8 0 get u1 1"),
            [Some(0), Some(0), Some(65), Some(1)]
        );
        assert_eq!(h.run("getrange b 0 0"), Frame::bulk(b"A"));
        h.take_events();
        // Reads only: nothing written, nothing raised, a missing key reads zeros.
        assert_eq!(ints(&mut h, "bitfield nokey get i64 0 get u63 #3"), [Some(0), Some(0)]);
        assert_eq!(ints(&mut h, "bitfield_ro b get i8 0 get u4 #1"), [Some(65), Some(1)]);
        assert_eq!(h.run("exists nokey"), int(0));
        assert!(h.take_events().is_empty());
        assert_eq!(h.run("bitfield b"), Frame::Array(vec![]));
        h.check_replay();
    }

    #[test]
    fn bitfield_keeps_the_ttl_and_records_one_range() {
        let mut h = Harness::new();
        h.run("set k abcdef px 5000");
        let before = h.effects.len();
        assert_eq!(
            ints(&mut h, "bitfield k set u8 16 0 get u8 8 set u4 #3 15 overflow fail incrby u8 0 1000"),
            [Some(i64::from(b'c')), Some(i64::from(b'b')), Some(2), None]
        );
        assert_eq!(
            h.effects[before..],
            [Effect::SetRange { db: 0, key: b("k"), offset: 0, data: Bytes::from_static(b"ao\x00") }]
        );
        assert_eq!(h.run("get k"), Frame::bulk(b"ao\x00def"));
        assert_eq!(h.ks.dbs[0].get(b"k").unwrap().expire_at(), Some(1_005_000));
        h.check_replay();
    }

    #[test]
    fn bitfield_errors_follow_redis() {
        const BAD_TYPE_TEXT: &str =
            "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.";
        let mut h = with_list();
        for (line, want) in [
            ("bitfield q get u64 0", BAD_TYPE_TEXT),
            ("bitfield q get I8 0", BAD_TYPE_TEXT),
            ("bitfield q get i0 0", BAD_TYPE_TEXT),
            ("bitfield q get i65 0", BAD_TYPE_TEXT),
            ("bitfield q get i08 0", BAD_TYPE_TEXT),
            ("bitfield q get u 0", BAD_TYPE_TEXT),
            ("bitfield q get i8 #x", "ERR bit offset is not an integer or out of range"),
            ("bitfield q get i8 #-1", "ERR bit offset is not an integer or out of range"),
            ("bitfield q get i64 #67108864", "ERR bit offset is not an integer or out of range"),
            ("bitfield q get i64 #144115188075855872", "ERR bit offset is not an integer or out of range"),
            ("bitfield q get i8 +1", "ERR bit offset is not an integer or out of range"),
            ("bitfield q get u8", "ERR syntax error"),
            ("bitfield q set u8 0", "ERR syntax error"),
            ("bitfield q foo", "ERR syntax error"),
            ("bitfield q overflow", "ERR syntax error"),
            ("bitfield q overflow foo", "ERR Invalid OVERFLOW type specified"),
            ("bitfield q incrby u8 0 x", "ERR value is not an integer or out of range"),
            ("bitfield_ro q set i8 0 1", "ERR BITFIELD_RO only supports the GET subcommand"),
            ("bitfield_ro l set i8 0 1", "ERR BITFIELD_RO only supports the GET subcommand"),
            ("bitfield_ro q get u64 0", BAD_TYPE_TEXT),
            ("bitfield l", "WRONGTYPE Operation against a key holding the wrong kind of value"),
            ("bitfield l get u8 0", "WRONGTYPE Operation against a key holding the wrong kind of value"),
            ("bitfield l set u8 0 1", "WRONGTYPE Operation against a key holding the wrong kind of value"),
            ("bitfield_ro l get u8 0", "WRONGTYPE Operation against a key holding the wrong kind of value"),
        ] {
            assert_eq!(h.run(line), Frame::error_owned(want.to_string()), "{line}");
        }
        assert_eq!(ints(&mut h, "bitfield q get i64 #67108863"), [Some(0)]);
        assert_eq!(h.run("exists q"), int(0));
    }

    #[test]
    fn bitfield_overflow_checks_match_a_wide_computation() {
        // Away from Redis's C-wrapping corner, the checks mean "the exact
        // result leaves the field's range".
        for bits in [1u32, 2, 7, 8, 13, 32, 63, 64] {
            let (min, max) = (-(1i128 << (bits - 1)), (1i128 << (bits - 1)) - 1);
            for value in [min, min + 1, 0, max - 1, max] {
                for incr in [i64::MIN, -300, -1, 0, 1, 300, i64::MAX] {
                    let sum = value + i128::from(incr);
                    let want = if sum > max {
                        1
                    } else if sum < min {
                        -1
                    } else {
                        0
                    };
                    let (got, sat) = signed_overflow(value as i64, incr, bits, Overflow::Sat);
                    assert_eq!(got, want, "i{bits} {value} + {incr}");
                    if want != 0 {
                        assert_eq!(sat, Some(if want > 0 { max as i64 } else { min as i64 }));
                        let wrapped = signed_overflow(value as i64, incr, bits, Overflow::Wrap).1.unwrap();
                        assert_eq!(i128::from(wrapped).rem_euclid(1i128 << bits), sum.rem_euclid(1i128 << bits));
                    }
                }
            }
        }
        for bits in [1u32, 8, 33, 63] {
            let max = (1i128 << bits) - 1;
            for value in [0, 1, max - 1, max] {
                for incr in [i64::MIN, -300, -1, 0, 1, 300, i64::MAX] {
                    let sum = value + i128::from(incr);
                    let want = if sum > max {
                        1
                    } else if sum < 0 {
                        -1
                    } else {
                        0
                    };
                    let (got, _) = unsigned_overflow(value as u64, incr, bits, Overflow::Fail);
                    assert_eq!(got, want, "u{bits} {value} + {incr}");
                }
            }
        }
    }

    #[test]
    fn bitfield_fields_read_and_write_across_bytes() {
        let mut buf = [0u8; 3];
        write_field(&mut buf, 0, 5, 11, 0b101_1100_1111);
        assert_eq!(buf, [0b0000_0101, 0b1100_1111, 0]);
        assert_eq!(read_field(|i| buf.get(i).copied().unwrap_or(0), 5, 11), 0b101_1100_1111);
        assert_eq!(sign_extend(0b100, 3), -4);
        assert_eq!(sign_extend(u64::MAX, 64), -1);
        assert_eq!(field_type(b"i64"), Ok((true, 64)));
        assert_eq!(field_type(b"u63"), Ok((false, 63)));
        assert_eq!(field_offset(b"#2", 16, 512), Ok(32));
        assert_eq!(field_offset(b"7", 16, 512), Ok(7));
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
        let cmd = ["bitfield", "k", "overflow", "fail", "incrby", "u1", "1", "1", "get", "u2", "0"];
        assert_eq!(h.resp2(&cmd), "*2\r\n$-1\r\n:1\r\n");
        assert_eq!(h.resp3(&cmd), "*2\r\n_\r\n:1\r\n");
    }
}
