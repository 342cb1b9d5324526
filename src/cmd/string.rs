//! String commands: `GET`, `SET` and its variants, `MGET`/`MSET`, ranges,
//! `APPEND` and the counters.

use bytes::Bytes;

use super::{Args, CmdResult, Ctx, NOT_FLOAT, NOT_INT, OVERFLOW, SYNTAX, flags::*, wrong_arity};
use crate::command;
use crate::resp::Frame;
use crate::resp::frame::{OK, itoa_buf};
use crate::state::{Effect, ExpireChange, Str, Value};

/// The string command family.
pub static COMMANDS: &[super::Command] = &[
    command!("get", 2, READONLY | FAST, 1, 1, 1, "string", "GET key — the value of a key", get),
    command!(
        "set",
        -3,
        WRITE | DENYOOM,
        1,
        1,
        1,
        "string",
        "SET key value [NX|XX] [GET] [EX s|PX ms|EXAT t|PXAT t|KEEPTTL] — set a string",
        set
    ),
    command!(
        "setnx",
        3,
        WRITE | DENYOOM | FAST,
        1,
        1,
        1,
        "string",
        "SETNX key value — set a string only if the key does not exist",
        setnx
    ),
    command!(
        "setex",
        4,
        WRITE | DENYOOM,
        1,
        1,
        1,
        "string",
        "SETEX key seconds value — set a string that expires in seconds",
        setex
    ),
    command!(
        "psetex",
        4,
        WRITE | DENYOOM,
        1,
        1,
        1,
        "string",
        "PSETEX key milliseconds value — set a string that expires in milliseconds",
        psetex
    ),
    command!(
        "getset",
        3,
        WRITE | DENYOOM | FAST,
        1,
        1,
        1,
        "string",
        "GETSET key value — set a string and return the old value",
        getset
    ),
    command!("getdel", 2, WRITE | FAST, 1, 1, 1, "string", "GETDEL key — return a string and delete the key", getdel),
    command!(
        "getex",
        -2,
        WRITE | FAST,
        1,
        1,
        1,
        "string",
        "GETEX key [EX s|PX ms|EXAT t|PXAT t|PERSIST] — return a string and change its expiry",
        getex
    ),
    command!("mget", -2, READONLY | FAST, 1, -1, 1, "string", "MGET key [key ...] — the values of several keys", mget),
    command!(
        "mset",
        -3,
        WRITE | DENYOOM,
        1,
        -1,
        2,
        "string",
        "MSET key value [key value ...] — set several strings",
        mset
    ),
    command!(
        "msetnx",
        -3,
        WRITE | DENYOOM,
        1,
        -1,
        2,
        "string",
        "MSETNX key value [key value ...] — set several strings only if none of the keys exists",
        msetnx
    ),
    command!(
        "append",
        3,
        WRITE | DENYOOM | FAST,
        1,
        1,
        1,
        "string",
        "APPEND key value — append to a string, returning the new length",
        append
    ),
    command!("strlen", 2, READONLY | FAST, 1, 1, 1, "string", "STRLEN key — the length of a string", strlen),
    command!(
        "getrange",
        4,
        READONLY,
        1,
        1,
        1,
        "string",
        "GETRANGE key start end — a substring (inclusive, negative from the end)",
        getrange
    ),
    command!(
        "substr",
        4,
        READONLY,
        1,
        1,
        1,
        "string",
        "SUBSTR key start end — a substring (old name of GETRANGE)",
        getrange
    ),
    command!(
        "setrange",
        4,
        WRITE | DENYOOM,
        1,
        1,
        1,
        "string",
        "SETRANGE key offset value — overwrite part of a string, zero-padding",
        setrange
    ),
    command!("incr", 2, WRITE | DENYOOM | FAST, 1, 1, 1, "string", "INCR key — add one to an integer", incr),
    command!("decr", 2, WRITE | DENYOOM | FAST, 1, 1, 1, "string", "DECR key — subtract one from an integer", decr),
    command!(
        "incrby",
        3,
        WRITE | DENYOOM | FAST,
        1,
        1,
        1,
        "string",
        "INCRBY key increment — add to an integer",
        incrby
    ),
    command!(
        "decrby",
        3,
        WRITE | DENYOOM | FAST,
        1,
        1,
        1,
        "string",
        "DECRBY key decrement — subtract from an integer",
        decrby
    ),
    command!(
        "incrbyfloat",
        3,
        WRITE | DENYOOM | FAST,
        1,
        1,
        1,
        "string",
        "INCRBYFLOAT key increment — add to a floating point number",
        incrbyfloat
    ),
    command!(
        "lcs",
        -3,
        READONLY,
        1,
        2,
        1,
        "string",
        "LCS key1 key2 [LEN] [IDX] [MINMATCHLEN len] [WITHMATCHLEN] — longest common subsequence",
        lcs
    ),
];

/// Parses an integer argument strictly, as Redis's `string2ll` does
/// (`-0`, `+1`, spaces and leading zeros are refused).
pub(crate) fn strict_i64(b: &[u8]) -> Result<i64, Frame> {
    crate::resp::decode::parse_i64(b).ok_or(NOT_INT)
}

/// `ERR invalid expire time in '<name>' command`.
pub(crate) fn invalid_expire(name: &str) -> Frame {
    Frame::error_owned(format!("ERR invalid expire time in '{name}' command"))
}

/// `ERR string exceeds maximum allowed size (proto-max-bulk-len)` unless
/// a string of `size + append` bytes is allowed.
fn check_len(ctx: &Ctx, size: usize, append: usize) -> Result<(), Frame> {
    match size.checked_add(append) {
        Some(total) if total <= ctx.server.config.proto_max_bulk_len => Ok(()),
        _ => Err(Frame::error("ERR string exceeds maximum allowed size (proto-max-bulk-len)")),
    }
}

/// How an expiry option expresses its time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ExpireUnit {
    /// `EX`: relative seconds.
    Ex,
    /// `PX`: relative milliseconds.
    Px,
    /// `EXAT`: absolute Unix seconds.
    ExAt,
    /// `PXAT`: absolute Unix milliseconds.
    PxAt,
}

/// The options of `SET` (and of `GETEX`, which shares Redis's parser).
#[derive(Debug, Default, PartialEq)]
struct SetOpts<'a> {
    nx: bool,
    xx: bool,
    get: bool,
    keepttl: bool,
    persist: bool,
    expire: Option<(ExpireUnit, &'a Bytes)>,
}

/// Parses `SET`'s options (`for_set`) or `GETEX`'s, exactly as Redis's
/// `parseExtendedStringArgumentsOrReply`: conflicting or unknown options,
/// or an expiry keyword without its value, are `ERR syntax error`; a
/// repeated expiry keyword of the same kind replaces the earlier one.
fn parse_set_opts(args: &[Bytes], for_set: bool) -> Result<SetOpts<'_>, Frame> {
    let mut o = SetOpts::default();
    let mut i = 0;
    while i < args.len() {
        let opt = &args[i];
        let next = args.get(i + 1);
        let is = |k: &str| opt.eq_ignore_ascii_case(k.as_bytes());
        let kind = o.expire.map(|(k, _)| k);
        let other_expiry = |mine: ExpireUnit| kind.is_some_and(|k| k != mine);
        let expiry = |u: ExpireUnit| {
            (is(match u {
                ExpireUnit::Ex => "ex",
                ExpireUnit::Px => "px",
                ExpireUnit::ExAt => "exat",
                ExpireUnit::PxAt => "pxat",
            }) && !o.keepttl
                && !o.persist
                && !other_expiry(u)
                && next.is_some())
            .then_some(u)
        };
        if for_set && is("nx") && !o.xx {
            o.nx = true;
        } else if for_set && is("xx") && !o.nx {
            o.xx = true;
        } else if for_set && is("get") {
            o.get = true;
        } else if for_set && is("keepttl") && !o.persist && kind.is_none() {
            o.keepttl = true;
        } else if !for_set && is("persist") && kind.is_none() && !o.keepttl {
            o.persist = true;
        } else if let Some(u) =
            [ExpireUnit::Ex, ExpireUnit::Px, ExpireUnit::ExAt, ExpireUnit::PxAt].into_iter().find_map(expiry)
        {
            o.expire = Some((u, next.expect("checked by expiry")));
            i += 1;
        } else {
            return Err(SYNTAX);
        }
        i += 1;
    }
    Ok(o)
}

/// Turns an expiry option's value into an absolute Unix time in
/// milliseconds, with Redis's checks (`getExpireMillisecondsOrReply`): the
/// value must be a positive integer and the result must not overflow.
fn resolve_expire(unit: ExpireUnit, raw: &[u8], now_ms: u64, name: &str) -> Result<u64, Frame> {
    let v = strict_i64(raw)?;
    let seconds = matches!(unit, ExpireUnit::Ex | ExpireUnit::ExAt);
    if v <= 0 || (seconds && v > i64::MAX / 1000) {
        return Err(invalid_expire(name));
    }
    let mut ms = if seconds { v * 1000 } else { v };
    if matches!(unit, ExpireUnit::Ex | ExpireUnit::Px) {
        ms = ms.checked_add(now_ms as i64).ok_or_else(|| invalid_expire(name))?;
    }
    Ok(ms as u64)
}

/// `GET key`
fn get(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    Ok(Frame::bulk_or_null(ctx.get_str(key)?))
}

/// `SET key value [NX|XX] [GET] [EX seconds|PX ms|EXAT unix-s|PXAT unix-ms|KEEPTTL]`
fn set(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?.clone();
    let value = args.next_bytes()?.clone();
    let opts = parse_set_opts(args.rest(), true)?;
    let at = match opts.expire {
        Some((unit, raw)) => Some(resolve_expire(unit, raw, ctx.now_ms, "set")?),
        None => None,
    };
    let old = if opts.get { Some(Frame::bulk_or_null(ctx.get_str(&key)?)) } else { None };
    let found = ctx.lookup(&key).is_some();
    if (opts.nx && found) || (opts.xx && !found) {
        return Ok(old.unwrap_or(Frame::Null));
    }
    let expire = match at {
        Some(t) => ExpireChange::At(t),
        None if opts.keepttl => ExpireChange::Keep,
        None => ExpireChange::Clear,
    };
    put_string(ctx, key, value, expire);
    Ok(old.unwrap_or(OK))
}

/// Stores a string and raises `set` (and `expire` when a deadline is given).
fn put_string(ctx: &mut Ctx, key: Bytes, value: Bytes, expire: ExpireChange) {
    let db = ctx.db();
    // An expired previous value is reclaimed (and reported) first, as Redis does.
    ctx.expire_if_due(db, &key);
    ctx.apply(Effect::Put { db, key: key.clone(), value: Value::Str(value.into()), expire });
    ctx.notify('$', "set", &key);
    if matches!(expire, ExpireChange::At(_)) {
        ctx.notify('g', "expire", &key);
    }
}

/// `SETNX key value`
fn setnx(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?.clone();
    let value = args.next_bytes()?.clone();
    if ctx.lookup(&key).is_some() {
        return Ok(Frame::Integer(0));
    }
    put_string(ctx, key, value, ExpireChange::Clear);
    Ok(Frame::Integer(1))
}

/// `SETEX key seconds value`
fn setex(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    set_with_expire(ctx, args, ExpireUnit::Ex, "setex")
}

/// `PSETEX key milliseconds value`
fn psetex(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    set_with_expire(ctx, args, ExpireUnit::Px, "psetex")
}

/// Shared body of `SETEX` and `PSETEX`: `key <time> value`.
fn set_with_expire(ctx: &mut Ctx, args: &mut Args, unit: ExpireUnit, name: &str) -> CmdResult {
    let key = args.next_bytes()?.clone();
    let when = args.next_bytes()?;
    let value = args.next_bytes()?.clone();
    let at = resolve_expire(unit, when, ctx.now_ms, name)?;
    put_string(ctx, key, value, ExpireChange::At(at));
    Ok(OK)
}

/// `GETSET key value`
fn getset(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?.clone();
    let value = args.next_bytes()?.clone();
    let old = ctx.get_str(&key)?;
    put_string(ctx, key, value, ExpireChange::Clear);
    Ok(Frame::bulk_or_null(old))
}

/// `GETDEL key`
fn getdel(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?.clone();
    let Some(old) = ctx.get_str(&key)? else { return Ok(Frame::Null) };
    let db = ctx.db();
    ctx.apply(Effect::Del { db, key: key.clone() });
    ctx.notify('g', "del", &key);
    Ok(Frame::Bulk(old))
}

/// `GETEX key [EX seconds|PX ms|EXAT unix-s|PXAT unix-ms|PERSIST]`
fn getex(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?.clone();
    let opts = parse_set_opts(args.rest(), false)?;
    let Some(value) = ctx.get_str(&key)? else { return Ok(Frame::Null) };
    let at = match opts.expire {
        Some((unit, raw)) => Some((unit, resolve_expire(unit, raw, ctx.now_ms, "getex")?)),
        None => None,
    };
    let db = ctx.db();
    match at {
        Some((ExpireUnit::ExAt | ExpireUnit::PxAt, t)) if t <= ctx.now_ms => {
            ctx.apply(Effect::Del { db, key: key.clone() });
            ctx.notify('g', "del", &key);
        }
        Some((_, t)) => {
            ctx.apply(Effect::SetExpire { db, key: key.clone(), at: Some(t) });
            ctx.notify('g', "expire", &key);
        }
        None if opts.persist && ctx.lookup(&key).is_some_and(|e| e.expire_at().is_some()) => {
            ctx.apply(Effect::SetExpire { db, key: key.clone(), at: None });
            ctx.notify('g', "persist", &key);
        }
        None => {}
    }
    Ok(Frame::Bulk(value))
}

/// `MGET key [key ...]`
fn mget(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let out = args
        .rest()
        .iter()
        .map(|k| match ctx.lookup_read(k).map(|e| &e.value) {
            Some(Value::Str(s)) => Frame::Bulk(s.to_bytes()),
            _ => Frame::Null,
        })
        .collect();
    Ok(Frame::Array(out))
}

/// `MSET key value [key value ...]`
fn mset(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let pairs = args.rest();
    if !pairs.len().is_multiple_of(2) {
        return Err(wrong_arity("mset"));
    }
    for p in pairs.chunks(2) {
        put_string(ctx, p[0].clone(), p[1].clone(), ExpireChange::Clear);
    }
    Ok(OK)
}

/// `MSETNX key value [key value ...]`
fn msetnx(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let pairs = args.rest();
    if !pairs.len().is_multiple_of(2) {
        return Err(wrong_arity("msetnx"));
    }
    for p in pairs.chunks(2) {
        if ctx.lookup(&p[0]).is_some() {
            return Ok(Frame::Integer(0));
        }
    }
    for p in pairs.chunks(2) {
        put_string(ctx, p[0].clone(), p[1].clone(), ExpireChange::Clear);
    }
    Ok(Frame::Integer(1))
}

/// `APPEND key value`
fn append(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?.clone();
    let data = args.next_bytes()?.clone();
    let cur = ctx.read_str_for_write(&key, <[u8]>::len)?.unwrap_or(0);
    if cur > 0 {
        check_len(ctx, cur, data.len())?;
    }
    let db = ctx.db();
    let total = cur + data.len();
    ctx.apply(Effect::Append { db, key: key.clone(), data });
    ctx.notify('$', "append", &key);
    Ok(Frame::Integer(total as i64))
}

/// `STRLEN key`
fn strlen(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    Ok(Frame::Integer(ctx.get_str(key)?.map_or(0, |s| s.len() as i64)))
}

/// The byte range `GETRANGE` returns for `start..=end` over a string of
/// `len` bytes, Redis's way (negative indexes count from the end).
fn byte_range(mut start: i64, mut end: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    if (start < 0 && end < 0 && start > end) || len == 0 {
        return None;
    }
    if start < 0 {
        start += len;
    }
    if end < 0 {
        end += len;
    }
    let start = start.max(0);
    let end = end.max(0).min(len - 1);
    (start <= end).then_some((start as usize, end as usize + 1))
}

/// `GETRANGE key start end` (also `SUBSTR key start end`)
fn getrange(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let start = strict_i64(args.next_bytes()?)?;
    let end = strict_i64(args.next_bytes()?)?;
    // The range is copied: a slice would hold the whole string until the
    // reply is written, and a write to it meanwhile would copy it all.
    let range =
        ctx.read_str(key, |s| byte_range(start, end, s.len()).map(|(a, b)| Bytes::copy_from_slice(&s[a..b])))?;
    Ok(Frame::Bulk(range.flatten().unwrap_or_default()))
}

/// `SETRANGE key offset value`
fn setrange(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?.clone();
    let offset = strict_i64(args.next_bytes()?)?;
    let data = args.next_bytes()?.clone();
    if offset < 0 {
        return Err(Frame::error("ERR offset is out of range"));
    }
    let offset = usize::try_from(offset).map_err(|_| NOT_INT)?;
    let cur = ctx.read_str_for_write(&key, <[u8]>::len)?.unwrap_or(0);
    if data.is_empty() {
        return Ok(Frame::Integer(cur as i64));
    }
    check_len(ctx, offset, data.len())?;
    let len = cur.max(offset + data.len());
    let db = ctx.db();
    ctx.apply(Effect::SetRange { db, key: key.clone(), offset, data });
    ctx.notify('$', "setrange", &key);
    Ok(Frame::Integer(len as i64))
}

/// Adds `by` to the integer at `key` (0 if absent), keeping its expiry.
fn incr_by(ctx: &mut Ctx, key: &Bytes, by: i64) -> CmdResult {
    let old = ctx.read_str_for_write(key, strict_i64)?.transpose()?.unwrap_or(0);
    let new = old.checked_add(by).ok_or(OVERFLOW)?;
    let db = ctx.db();
    // Formatted on the stack: a counter's value is held in place, so
    // nothing is allocated.
    let value = Value::Str(Str::copy_from_slice(itoa_buf(new).as_bytes()));
    ctx.apply(Effect::Put { db, key: key.clone(), value, expire: ExpireChange::Keep });
    ctx.notify('$', "incrby", key);
    Ok(Frame::Integer(new))
}

/// `INCR key`
fn incr(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    incr_by(ctx, key, 1)
}

/// `DECR key`
fn decr(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    incr_by(ctx, key, -1)
}

/// `INCRBY key increment`
fn incrby(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let by = strict_i64(args.next_bytes()?)?;
    incr_by(ctx, key, by)
}

/// `DECRBY key decrement`
fn decrby(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let by = strict_i64(args.next_bytes()?)?;
    let by = by.checked_neg().ok_or(Frame::error("ERR decrement would overflow"))?;
    incr_by(ctx, key, by)
}

/// Parses a float the way `INCRBYFLOAT` reads its operands.
fn float_operand(b: &[u8]) -> Result<f64, Frame> {
    if b.len() >= 5 * 1024 {
        return Err(NOT_FLOAT);
    }
    super::float::parse_operand(b).ok_or(NOT_FLOAT)
}

/// `INCRBYFLOAT key increment`
fn incrbyfloat(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?.clone();
    let by = args.next_bytes()?;
    let old_text = ctx.read_str_for_write(&key, Bytes::copy_from_slice)?.unwrap_or_else(|| Bytes::from_static(b"0"));
    let old = float_operand(&old_text)?;
    let text = super::float::add_floats(&old_text, old, by, float_operand(by)?)
        .ok_or(Frame::error("ERR increment would produce NaN or Infinity"))?;
    let text = Bytes::from(text);
    let db = ctx.db();
    ctx.apply(Effect::Put { db, key: key.clone(), value: Value::Str(text.clone().into()), expire: ExpireChange::Keep });
    ctx.notify('$', "incrbyfloat", &key);
    Ok(Frame::Bulk(text))
}

/// Largest dynamic-programming table `LCS` allocates, in cells (4 bytes each).
const LCS_MAX_CELLS: u64 = 256 * 1024 * 1024;

/// The result of [`lcs_compute`]: the subsequence, its length, and the
/// matching ranges `((a_start, a_end), (b_start, b_end))`, last first.
#[derive(Debug, PartialEq)]
struct LcsResult {
    text: Vec<u8>,
    ranges: Vec<((usize, usize), (usize, usize))>,
}

/// Redis's LCS: the classic table, walked back from the end, emitting the
/// contiguous matching ranges in the order Redis does.
fn lcs_compute(a: &[u8], b: &[u8]) -> LcsResult {
    let (alen, blen) = (a.len(), b.len());
    let w = blen + 1;
    let mut t = vec![0u32; (alen + 1) * w];
    for i in 1..=alen {
        for j in 1..=blen {
            t[i * w + j] = if a[i - 1] == b[j - 1] {
                t[(i - 1) * w + j - 1] + 1
            } else {
                t[(i - 1) * w + j].max(t[i * w + j - 1])
            };
        }
    }
    let mut idx = t[alen * w + blen] as usize;
    let mut text = vec![0u8; idx];
    let mut ranges = Vec::new();
    // `None`: no range open; else (a_start, a_end, b_start, b_end).
    let mut open: Option<(usize, usize, usize, usize)> = None;
    let (mut i, mut j) = (alen, blen);
    while i > 0 && j > 0 {
        let mut emit = false;
        if a[i - 1] == b[j - 1] {
            text[idx - 1] = a[i - 1];
            match &mut open {
                None => open = Some((i - 1, i - 1, j - 1, j - 1)),
                Some(r) if r.0 == i && r.2 == j => {
                    r.0 -= 1;
                    r.2 -= 1;
                }
                Some(_) => emit = true,
            }
            if open.is_some_and(|r| r.0 == 0 || r.2 == 0) {
                emit = true;
            }
            idx -= 1;
            i -= 1;
            j -= 1;
        } else {
            if t[(i - 1) * w + j] > t[i * w + j - 1] {
                i -= 1;
            } else {
                j -= 1;
            }
            emit = open.is_some();
        }
        if emit && let Some((as_, ae, bs, be)) = open.take() {
            ranges.push(((as_, ae), (bs, be)));
        }
    }
    LcsResult { text, ranges }
}

/// `LCS key1 key2 [LEN] [IDX] [MINMATCHLEN min-match-len] [WITHMATCHLEN]`
fn lcs(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let k1 = args.next_bytes()?;
    let k2 = args.next_bytes()?;
    let mut strings = [Bytes::new(), Bytes::new()];
    for (slot, key) in strings.iter_mut().zip([k1, k2]) {
        match ctx.lookup_read(key).map(|e| &e.value) {
            None => {}
            Some(Value::Str(s)) => *slot = s.to_bytes(),
            Some(_) => return Err(Frame::error("ERR The specified keys must contain string values")),
        }
    }
    let (mut len, mut idx, mut withmatchlen, mut minmatchlen) = (false, false, false, 0usize);
    while !args.is_empty() {
        if args.eat("idx") {
            idx = true;
        } else if args.eat("len") {
            len = true;
        } else if args.eat("withmatchlen") {
            withmatchlen = true;
        } else if args.remaining() >= 2 && args.eat("minmatchlen") {
            minmatchlen = usize::try_from(strict_i64(args.next_bytes()?)?).unwrap_or(0);
        } else {
            return Err(SYNTAX);
        }
    }
    if idx && len {
        return Err(Frame::error("ERR If you want both the length and indexes, please just use IDX."));
    }
    let [a, b] = strings;
    let cells = (a.len() as u64 + 1) * (b.len() as u64 + 1);
    // Redis refuses a table (4 bytes a cell) larger than proto-max-bulk-len.
    if cells.saturating_mul(4) > ctx.server.config.proto_max_bulk_len as u64 {
        return Err(Frame::error("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len"));
    }
    if cells > LCS_MAX_CELLS {
        return Err(Frame::error("ERR Insufficient memory, failed allocating transient memory for LCS"));
    }
    let r = lcs_compute(&a, &b);
    if len {
        return Ok(Frame::Integer(r.text.len() as i64));
    }
    if !idx {
        return Ok(Frame::Bulk(Bytes::from(r.text)));
    }
    let int = |n: usize| Frame::Integer(n as i64);
    let matches = r
        .ranges
        .iter()
        .filter(|((as_, ae), _)| ae - as_ + 1 >= minmatchlen)
        .map(|&((as_, ae), (bs, be))| {
            let mut m = vec![Frame::Array(vec![int(as_), int(ae)]), Frame::Array(vec![int(bs), int(be)])];
            if withmatchlen {
                m.push(int(ae - as_ + 1));
            }
            Frame::Array(m)
        })
        .collect();
    Ok(Frame::Map(vec![
        (Frame::bulk_static("matches"), Frame::Array(matches)),
        (Frame::bulk_static("len"), int(r.text.len())),
    ]))
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::cmd::WRONGTYPE;
    use crate::cmd::testkit::{Harness, b, text};

    fn with_list() -> Harness {
        let mut h = Harness::new();
        h.seed(Effect::ListPush { db: 0, key: b("l"), left: false, items: vec![b("a")] });
        h
    }

    #[test]
    fn string_commands_refuse_other_types() {
        let mut h = with_list();
        for cmd in [
            "get l",
            "set l v get",
            "getset l v",
            "getdel l",
            "getex l",
            "getex l ex 10",
            "append l x",
            "strlen l",
            "getrange l 0 -1",
            "substr l 0 -1",
            "setrange l 0 x",
            "setrange l 0 \"\"",
            "incr l",
            "decr l",
            "incrby l 2",
            "decrby l 2",
            "incrbyfloat l 1.5",
        ] {
            assert_eq!(h.run(cmd), WRONGTYPE, "{cmd}");
        }
        // MGET answers nil for other types; SET and MSET overwrite them.
        assert_eq!(h.run("mget l"), Frame::Array(vec![Frame::Null]));
        assert_eq!(h.run("setnx l v"), Frame::Integer(0));
        assert_eq!(h.run("set l v"), OK);
        assert_eq!(h.run("get l"), Frame::bulk(b"v"));
    }

    #[test]
    fn getex_checks_the_key_before_the_expiry() {
        let mut h = with_list();
        assert_eq!(h.run("getex nokey ex 0"), Frame::Null);
        assert_eq!(h.run("getex l ex 0"), WRONGTYPE);
        assert_eq!(h.run("set l v ex 0"), invalid_expire("set"));
        h.run("set k v");
        assert_eq!(h.run("getex k ex 0"), invalid_expire("getex"));
    }

    #[test]
    fn effects_are_deterministic() {
        let mut h = Harness::new();
        h.run("set k 10.5 ex 100");
        assert_eq!(
            h.effects.last(),
            Some(&Effect::Put {
                db: 0,
                key: b("k"),
                value: Value::Str(b("10.5").into()),
                expire: ExpireChange::At(1_100_000)
            })
        );
        assert_eq!(h.run("incrbyfloat k 0.1"), Frame::bulk(b"10.6"));
        assert_eq!(
            h.effects.last(),
            Some(&Effect::Put { db: 0, key: b("k"), value: Value::Str(b("10.6").into()), expire: ExpireChange::Keep })
        );
        assert_eq!(h.ks.dbs[0].get(b"k").unwrap().expire_at(), Some(1_100_000));
        h.run("getex k px 5");
        assert_eq!(h.effects.last(), Some(&Effect::SetExpire { db: 0, key: b("k"), at: Some(1_000_005) }));
        h.run("getex k exat 1");
        assert_eq!(h.effects.last(), Some(&Effect::Del { db: 0, key: b("k") }));
    }

    #[test]
    fn string_events_use_redis_names() {
        let mut h = Harness::new();
        h.run("set k 1 ex 10");
        h.run("incr k");
        h.run("incrbyfloat k 1.5");
        h.run("append k x");
        h.run("setrange k 0 y");
        h.run("getex k persist");
        h.run("getdel k");
        h.run("mset a 1 b 2");
        let names: Vec<String> = h.take_events().iter().map(|e| format!("{}:{}", e.event, text(&e.key))).collect();
        assert_eq!(
            names,
            [
                "set:k",
                "expire:k",
                "incrby:k",
                "incrbyfloat:k",
                "append:k",
                "setrange:k",
                "persist:k",
                "del:k",
                "set:a",
                "set:b"
            ]
        );
        // Nothing changed, nothing raised.
        h.run("setrange a 0 \"\"");
        h.run("set a 2 nx");
        assert!(h.take_events().is_empty());
    }

    #[test]
    fn expired_keys_are_removed_on_access() {
        let mut h = Harness::new();
        h.run("set k v px 10");
        h.now_ms += 10;
        // At the deadline's own millisecond the key still lives, as in Redis.
        assert_eq!(h.run("pttl k"), Frame::Integer(0));
        assert_eq!(h.run("get k"), Frame::bulk(b"v"));
        h.now_ms += 1;
        assert_eq!(h.run("get k"), Frame::Null);
        assert_eq!(h.effects.last(), Some(&Effect::Del { db: 0, key: b("k") }));
        assert_eq!(h.take_events().last().map(|e| e.event), Some("expired"));
        // INCR on an expired counter starts from zero without its old TTL.
        h.run("set n 5 px 10");
        h.now_ms += 11;
        assert_eq!(h.run("incr n"), Frame::Integer(1));
        assert_eq!(h.ks.dbs[0].get(b"n").unwrap().expire_at(), None);
    }

    fn argv(s: &str) -> Vec<Bytes> {
        s.split_whitespace().map(|w| Bytes::copy_from_slice(w.as_bytes())).collect()
    }

    type Parsed = (bool, bool, bool, bool, Option<ExpireUnit>, Option<String>);

    fn set_opts(s: &str) -> Result<Parsed, Frame> {
        let a = argv(s);
        let o = parse_set_opts(&a, true)?;
        Ok((
            o.nx,
            o.xx,
            o.get,
            o.keepttl,
            o.expire.map(|(u, _)| u),
            o.expire.map(|(_, v)| String::from_utf8_lossy(v).into_owned()),
        ))
    }

    #[test]
    fn lcs_matches_redis_examples() {
        let r = lcs_compute(b"ohmytext", b"mynewtext");
        assert_eq!(r.text, b"mytext");
        assert_eq!(r.ranges, [((4, 7), (5, 8)), ((2, 3), (0, 1))]);
        assert_eq!(lcs_compute(b"", b"abc").text, b"");
        assert_eq!(lcs_compute(b"abc", b"abc").ranges, [((0, 2), (0, 2))]);
        let mut h = Harness::new();
        h.run("mset key1 ohmytext key2 mynewtext");
        assert_eq!(h.run("lcs key1 key2"), Frame::bulk(b"mytext"));
        assert_eq!(h.run("lcs key1 key2 len"), Frame::Integer(6));
        assert_eq!(h.run("lcs key1 nokey"), Frame::bulk(b""));
        let ij = |a: i64, b: i64| Frame::Array(vec![Frame::Integer(a), Frame::Integer(b)]);
        assert_eq!(
            h.run("lcs key1 key2 idx minmatchlen 4 withmatchlen"),
            Frame::Map(vec![
                (
                    Frame::bulk(b"matches"),
                    Frame::Array(vec![Frame::Array(vec![ij(4, 7), ij(5, 8), Frame::Integer(4)])])
                ),
                (Frame::bulk(b"len"), Frame::Integer(6)),
            ])
        );
        assert_eq!(
            h.run("lcs key1 key2 idx len"),
            Frame::error("ERR If you want both the length and indexes, please just use IDX.")
        );
        assert_eq!(h.run("lcs key1 key2 foo"), SYNTAX);
        assert_eq!(h.run("lcs key1 key2 minmatchlen"), SYNTAX);
        assert_eq!(h.run("lcs key1 key2 minmatchlen x"), NOT_INT);
        h.seed(Effect::SetAdd { db: 0, key: b("set"), members: vec![b("m")] });
        assert_eq!(h.run("lcs key1 set"), Frame::error("ERR The specified keys must contain string values"));
        // Found by the differential test: a table larger than
        // proto-max-bulk-len is refused with Redis's words (9 × 10 cells of 4 bytes here).
        h.server.config.proto_max_bulk_len = 359;
        assert_eq!(
            h.run("lcs key1 key2"),
            Frame::error("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len")
        );
        h.server.config.proto_max_bulk_len = 360;
        assert_eq!(h.run("lcs key1 key2 len"), Frame::Integer(6));
    }

    #[test]
    fn set_options_follow_redis() {
        assert_eq!(set_opts("nx get"), Ok((true, false, true, false, None, None)));
        assert_eq!(set_opts("XX keepttl"), Ok((false, true, false, true, None, None)));
        assert_eq!(set_opts("ex 10 ex 20"), Ok((false, false, false, false, Some(ExpireUnit::Ex), Some("20".into()))));
        assert_eq!(set_opts("pxat 5 nx"), Ok((true, false, false, false, Some(ExpireUnit::PxAt), Some("5".into()))));
        assert_eq!(set_opts("nx xx"), Err(SYNTAX));
        assert_eq!(set_opts("xx nx"), Err(SYNTAX));
        assert_eq!(set_opts("ex 1 px 1"), Err(SYNTAX));
        assert_eq!(set_opts("keepttl ex 1"), Err(SYNTAX));
        assert_eq!(set_opts("ex 1 keepttl"), Err(SYNTAX));
        assert_eq!(set_opts("ex"), Err(SYNTAX));
        assert_eq!(set_opts("persist"), Err(SYNTAX));
        assert_eq!(set_opts("foo"), Err(SYNTAX));
        // The value of an expiry option is not itself an option.
        assert_eq!(set_opts("px nx"), Ok((false, false, false, false, Some(ExpireUnit::Px), Some("nx".into()))));
    }

    #[test]
    fn getex_options_follow_redis() {
        let ok = |s: &str| parse_set_opts(&argv(s), false).map(|o| (o.persist, o.expire.map(|(u, _)| u)));
        assert_eq!(ok("persist"), Ok((true, None)));
        assert_eq!(ok("exat 5"), Ok((false, Some(ExpireUnit::ExAt))));
        assert_eq!(ok("persist ex 5"), Err(SYNTAX));
        assert_eq!(ok("ex 5 persist"), Err(SYNTAX));
        assert_eq!(ok("nx"), Err(SYNTAX));
        assert_eq!(ok("get"), Err(SYNTAX));
        assert_eq!(ok("keepttl"), Err(SYNTAX));
    }

    #[test]
    fn expire_values() {
        let e = invalid_expire("set");
        assert_eq!(resolve_expire(ExpireUnit::Ex, b"10", 1000, "set"), Ok(11_000));
        assert_eq!(resolve_expire(ExpireUnit::PxAt, b"10", 1000, "set"), Ok(10));
        assert_eq!(resolve_expire(ExpireUnit::Ex, b"0", 1000, "set"), Err(e.clone()));
        assert_eq!(resolve_expire(ExpireUnit::ExAt, b"-1", 1000, "set"), Err(e.clone()));
        assert_eq!(resolve_expire(ExpireUnit::Ex, b"9223372036854776", 1, "set"), Err(e.clone()));
        assert_eq!(resolve_expire(ExpireUnit::Ex, b"9223372036854775", 1_700_000_000_000, "set"), Err(e));
        assert_eq!(resolve_expire(ExpireUnit::Ex, b"x", 1, "set"), Err(NOT_INT));
        assert_eq!(resolve_expire(ExpireUnit::Ex, b"-0", 1, "set"), Err(NOT_INT));
    }

    #[test]
    fn ranges_follow_redis() {
        assert_eq!(byte_range(0, -1, 5), Some((0, 5)));
        assert_eq!(byte_range(-3, -1, 5), Some((2, 5)));
        assert_eq!(byte_range(-1, -3, 5), None);
        assert_eq!(byte_range(3, 1, 5), None);
        assert_eq!(byte_range(-100, 100, 5), Some((0, 5)));
        assert_eq!(byte_range(10, 20, 5), None);
        assert_eq!(byte_range(0, 0, 0), None);
        assert_eq!(byte_range(i64::MIN, i64::MAX, 5), Some((0, 5)));
    }
}
