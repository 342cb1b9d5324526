//! List commands, including the blocking forms that make lists queues.
//!
//! A blocking command that finds nothing sets [`Ctx::block`]; the broker
//! parks the client and re-runs the command (with [`Ctx::woken`] set) when
//! one of its keys gains elements. Elements a blocking pop hands to a client
//! are noted in [`Ctx::handback`] so they can be put back if the reply never
//! reaches it.

use bytes::Bytes;

use super::args::{Args, int, parse_i64, parse_timeout};
use super::{Block, CmdResult, Ctx, NO_SUCH_KEY, NOT_INT, SYNTAX, WRONGTYPE, flags::*, wrong_arity};
use crate::command;
use crate::resp::Frame;
use crate::resp::frame::OK;
use crate::state::{Effect, List, Value};

const NOT_POSITIVE: Frame = Frame::error("ERR value is out of range, must be positive");
const INDEX_RANGE: Frame = Frame::error("ERR index out of range");
const RANK_ZERO: Frame = Frame::error(
    "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list",
);
const COUNT_NEGATIVE: Frame = Frame::error("ERR COUNT can't be negative");
const MAXLEN_NEGATIVE: Frame = Frame::error("ERR MAXLEN can't be negative");
const NUMKEYS: Frame = Frame::error("ERR numkeys should be greater than 0");
const MPOP_COUNT: Frame = Frame::error("ERR count should be greater than 0");

/// The list command family.
pub static COMMANDS: &[super::Command] = &[
    command!(
        "lpush",
        -3,
        WRITE | DENYOOM | FAST,
        1,
        1,
        1,
        "list",
        "LPUSH key element [element ...] — prepend elements, creating the list",
        lpush
    ),
    command!(
        "rpush",
        -3,
        WRITE | DENYOOM | FAST,
        1,
        1,
        1,
        "list",
        "RPUSH key element [element ...] — append elements, creating the list",
        rpush
    ),
    command!(
        "lpushx",
        -3,
        WRITE | DENYOOM | FAST,
        1,
        1,
        1,
        "list",
        "LPUSHX key element [element ...] — prepend elements if the list exists",
        lpushx
    ),
    command!(
        "rpushx",
        -3,
        WRITE | DENYOOM | FAST,
        1,
        1,
        1,
        "list",
        "RPUSHX key element [element ...] — append elements if the list exists",
        rpushx
    ),
    command!(
        "lpop",
        -2,
        WRITE | FAST,
        1,
        1,
        1,
        "list",
        "LPOP key [count] — remove and return the first elements",
        lpop
    ),
    command!("rpop", -2, WRITE | FAST, 1, 1, 1, "list", "RPOP key [count] — remove and return the last elements", rpop),
    command!("llen", 2, READONLY | FAST, 1, 1, 1, "list", "LLEN key — the length of a list", llen),
    command!("lindex", 3, READONLY, 1, 1, 1, "list", "LINDEX key index — the element at an index", lindex),
    command!(
        "lset",
        4,
        WRITE | DENYOOM,
        1,
        1,
        1,
        "list",
        "LSET key index element — replace the element at an index",
        lset
    ),
    command!("lrange", 4, READONLY, 1, 1, 1, "list", "LRANGE key start stop — a range of elements", lrange),
    command!(
        "linsert",
        5,
        WRITE | DENYOOM,
        1,
        1,
        1,
        "list",
        "LINSERT key BEFORE|AFTER pivot element — insert next to the first pivot",
        linsert
    ),
    command!("lrem", 4, WRITE, 1, 1, 1, "list", "LREM key count element — remove occurrences of an element", lrem),
    command!("ltrim", 4, WRITE, 1, 1, 1, "list", "LTRIM key start stop — keep only a range of elements", ltrim),
    command!(
        "lpos",
        -3,
        READONLY,
        1,
        1,
        1,
        "list",
        "LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len] — indexes of matching elements",
        lpos
    ),
    command!(
        "lmove",
        5,
        WRITE | DENYOOM,
        1,
        2,
        1,
        "list",
        "LMOVE source destination LEFT|RIGHT LEFT|RIGHT — move an element between lists",
        lmove
    ),
    command!(
        "rpoplpush",
        3,
        WRITE | DENYOOM,
        1,
        2,
        1,
        "list",
        "RPOPLPUSH source destination — move the last element to the head of another list",
        rpoplpush
    ),
    command!(
        "lmpop",
        -4,
        WRITE | MOVABLEKEYS,
        0,
        0,
        0,
        "list",
        "LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT count] — pop from the first non-empty list",
        lmpop
    ),
    command!(
        "blpop",
        -3,
        WRITE | BLOCKING,
        1,
        -2,
        1,
        "list",
        "BLPOP key [key ...] timeout — pop the first element, waiting for one",
        blpop
    ),
    command!(
        "brpop",
        -3,
        WRITE | BLOCKING,
        1,
        -2,
        1,
        "list",
        "BRPOP key [key ...] timeout — pop the last element, waiting for one",
        brpop
    ),
    command!(
        "blmove",
        6,
        WRITE | DENYOOM | BLOCKING,
        1,
        2,
        1,
        "list",
        "BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout — LMOVE, waiting for an element",
        blmove
    ),
    command!(
        "brpoplpush",
        4,
        WRITE | DENYOOM | BLOCKING,
        1,
        2,
        1,
        "list",
        "BRPOPLPUSH source destination timeout — RPOPLPUSH, waiting for an element",
        brpoplpush
    ),
    command!(
        "blmpop",
        -5,
        WRITE | BLOCKING | MOVABLEKEYS,
        0,
        0,
        0,
        "list",
        "BLMPOP timeout numkeys key [key ...] LEFT|RIGHT [COUNT count] — LMPOP, waiting for elements",
        blmpop
    ),
];

/// The list at `key`: `Ok(None)` if absent, `WRONGTYPE` if another type.
fn list<'c>(ctx: &'c mut Ctx, key: &[u8]) -> Result<Option<&'c List>, Frame> {
    match ctx.lookup(key).map(|e| &e.value) {
        None => Ok(None),
        Some(Value::List(l)) => Ok(Some(l)),
        Some(_) => Err(WRONGTYPE),
    }
}

/// Like [`list`], counting a keyspace hit or miss (read commands).
fn list_read<'c>(ctx: &'c mut Ctx, key: &[u8]) -> Result<Option<&'c List>, Frame> {
    match ctx.lookup_read(key).map(|e| &e.value) {
        None => Ok(None),
        Some(Value::List(l)) => Ok(Some(l)),
        Some(_) => Err(WRONGTYPE),
    }
}

/// The length of the list a blocking command may take from: `None` if the
/// key is absent, or (when re-run for a parked client) holds another type,
/// which keeps the client waiting as Redis does.
fn waitable_len(ctx: &mut Ctx, key: &[u8]) -> Result<Option<usize>, Frame> {
    let woken = ctx.woken;
    match list(ctx, key) {
        Ok(l) => Ok(l.map(List::len)),
        Err(_) if woken => Ok(None),
        Err(e) => Err(e),
    }
}

/// `LEFT` (true) or `RIGHT` (false).
fn side(arg: &[u8]) -> Result<bool, Frame> {
    super::args::one_of(arg, "left", "right")
}

/// A possibly negative index into a list of `len` elements.
fn norm_index(len: usize, i: i64) -> Option<usize> {
    let i = if i < 0 { len as i64 + i } else { i };
    (i >= 0 && i < len as i64).then_some(i as usize)
}

/// The elements `start..end` (end exclusive) that `start stop` (inclusive,
/// possibly negative) select in a list of `len`, as `LRANGE` and `LTRIM`
/// read them; `None` when the range is empty.
fn range(len: usize, start: i64, stop: i64) -> Option<(usize, usize)> {
    let len = len as i64;
    let mut start = if start < 0 { len + start } else { start };
    let mut stop = if stop < 0 { len + stop } else { stop };
    if start < 0 {
        start = 0;
    }
    if start > stop || start >= len {
        return None;
    }
    if stop >= len {
        stop = len - 1;
    }
    Some((start as usize, stop as usize + 1))
}

/// The event a pop from that end raises.
fn pop_event(left: bool) -> &'static str {
    if left { "lpop" } else { "rpop" }
}

/// The event a push onto that end raises.
fn push_event(left: bool) -> &'static str {
    if left { "lpush" } else { "rpush" }
}

/// Pops up to `count` elements from one end of the list at `key`, raising
/// the notifications; returns them in the order they were popped.
fn pop_n(ctx: &mut Ctx, key: &Bytes, left: bool, count: usize) -> Vec<Bytes> {
    let db = ctx.db();
    let Some(Value::List(l)) = ctx.value(key) else { return Vec::new() };
    let n = count.min(l.len());
    let emptied = n == l.len();
    let items: Vec<Bytes> = if n == 1 {
        // One element (`LPOP`, `BRPOP`...): straight from the end chunk.
        l.get_detached(if left { 0 } else { l.len() - 1 }).into_iter().collect()
    } else if left {
        l.iter().detached().take(n).collect()
    } else {
        l.iter().detached().rev().take(n).collect()
    };
    if n > 0 {
        ctx.apply(Effect::ListPop { db, key: key.clone(), left, count: n });
        ctx.notify('l', pop_event(left), key);
        if emptied {
            ctx.notify('g', "del", key);
        }
    }
    items
}

/// Notes that `items`, popped from `key`'s `left` or right end, were handed
/// to the client, so they can be put back if the reply is not delivered.
/// Only the elements go back: a list the pop emptied (and so deleted)
/// returns without the time to live it had, so that elements given back are
/// never expired away (nor is a list another client made meanwhile given a
/// deadline). A pop inside `EXEC` is part of its transaction, which is all
/// or nothing: nothing of it is given back.
fn note_handed(ctx: &mut Ctx, key: &Bytes, left: bool, items: &[Bytes]) {
    if ctx.in_exec {
        return;
    }
    let db = ctx.db();
    let items = items.iter().rev().cloned().collect();
    ctx.handback.push(Effect::ListPush { db, key: key.clone(), left, items });
}

/// Parks the client on `keys` for `timeout_ms` (`None`: forever).
fn block(ctx: &mut Ctx, keys: &[Bytes], timeout_ms: Option<u64>, on_timeout: Frame) -> CmdResult {
    // `now_ms` is truncated to the millisecond: one more so the wait is
    // never shorter than asked.
    let deadline_ms = timeout_ms.map(|ms| ctx.now_ms.saturating_add(ms + 1));
    ctx.block = Some(Block { keys: keys.to_vec(), deadline_ms, on_timeout });
    Ok(Frame::NullArray)
}

/// `LPUSH`/`RPUSH` and, with `only_existing`, `LPUSHX`/`RPUSHX`.
fn push(ctx: &mut Ctx, args: &mut Args, left: bool, only_existing: bool) -> CmdResult {
    let key = args.next_bytes()?.clone();
    let items = args.rest().to_vec();
    let len = match list(ctx, &key)? {
        None if only_existing => return int(0),
        None => 0,
        Some(l) => l.len(),
    };
    let n = items.len();
    let db = ctx.db();
    ctx.apply(Effect::ListPush { db, key: key.clone(), left, items });
    ctx.notify('l', push_event(left), &key);
    int((len + n) as i64)
}

/// `LPUSH key element [element ...]`
fn lpush(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    push(ctx, args, true, false)
}

/// `RPUSH key element [element ...]`
fn rpush(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    push(ctx, args, false, false)
}

/// `LPUSHX key element [element ...]`
fn lpushx(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    push(ctx, args, true, true)
}

/// `RPUSHX key element [element ...]`
fn rpushx(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    push(ctx, args, false, true)
}

/// `LPOP`/`RPOP`: one element (bulk) or, with a count, an array.
fn pop(ctx: &mut Ctx, args: &mut Args, left: bool) -> CmdResult {
    let key = args.next_bytes()?.clone();
    let count = match args.remaining() {
        0 => None,
        1 => {
            let n = parse_i64(args.next_bytes()?).filter(|n| *n >= 0).ok_or(NOT_POSITIVE)?;
            Some(usize::try_from(n).unwrap_or(usize::MAX))
        }
        _ => return Err(wrong_arity(if left { "lpop" } else { "rpop" })),
    };
    if list(ctx, &key)?.is_none() {
        return Ok(if count.is_some() { Frame::NullArray } else { Frame::Null });
    }
    match count {
        None => Ok(Frame::bulk_or_null(pop_n(ctx, &key, left, 1).pop())),
        Some(n) => Ok(Frame::Array(pop_n(ctx, &key, left, n).into_iter().map(Frame::Bulk).collect())),
    }
}

/// `LPOP key [count]`
fn lpop(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    pop(ctx, args, true)
}

/// `RPOP key [count]`
fn rpop(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    pop(ctx, args, false)
}

/// `LLEN key`
fn llen(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    int(list_read(ctx, key)?.map_or(0, List::len) as i64)
}

/// `LINDEX key index`
fn lindex(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let index = args.next_bytes()?;
    let Some(l) = list_read(ctx, key)? else { return Ok(Frame::Null) };
    let i = parse_i64(index).ok_or(NOT_INT)?;
    Ok(Frame::bulk_or_null(norm_index(l.len(), i).and_then(|i| l.get_detached(i))))
}

/// `LSET key index element`
fn lset(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?.clone();
    let index = args.next_bytes()?;
    let value = args.next_bytes()?.clone();
    let len = list(ctx, &key)?.ok_or(NO_SUCH_KEY)?.len();
    let i = parse_i64(index).ok_or(NOT_INT)?;
    let index = norm_index(len, i).ok_or(INDEX_RANGE)?;
    let db = ctx.db();
    ctx.apply(Effect::ListSet { db, key: key.clone(), index, value });
    ctx.notify('l', "lset", &key);
    Ok(OK)
}

/// `LRANGE key start stop`
fn lrange(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let start = args.next_i64()?;
    let stop = args.next_i64()?;
    let Some(l) = list_read(ctx, key)? else { return Ok(Frame::Array(Vec::new())) };
    let Some((s, e)) = range(l.len(), start, stop) else { return Ok(Frame::Array(Vec::new())) };
    Ok(Frame::bulk_array(l.range(s..e)))
}

/// `LTRIM key start stop`
fn ltrim(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?.clone();
    let start = args.next_i64()?;
    let stop = args.next_i64()?;
    let Some(l) = list(ctx, &key)? else { return Ok(OK) };
    let len = l.len();
    let (s, e) = range(len, start, stop).unwrap_or((0, 0));
    if (s, e) != (0, len) {
        let db = ctx.db();
        ctx.apply(Effect::ListTrim { db, key: key.clone(), start: s, end: e });
    } else {
        // Nothing trimmed: still a change for WATCH, as in Redis.
        ctx.touch_watched(&key);
    }
    ctx.notify('l', "ltrim", &key);
    if s == e {
        ctx.notify('g', "del", &key);
    }
    Ok(OK)
}

/// `LINSERT key BEFORE|AFTER pivot element`
fn linsert(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?.clone();
    let after = super::args::one_of(args.next_bytes()?, "after", "before")?;
    let pivot = args.next_bytes()?;
    let value = args.next_bytes()?.clone();
    let Some(l) = list(ctx, &key)? else { return int(0) };
    let len = l.len();
    let Some(pos) = l.iter().position(|x| x == &pivot[..]) else { return int(-1) };
    let db = ctx.db();
    ctx.apply(Effect::ListInsert { db, key: key.clone(), index: pos + after as usize, value });
    ctx.notify('l', "linsert", &key);
    int(len as i64 + 1)
}

/// `LREM key count element`
fn lrem(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?.clone();
    let count = args.next_i64()?;
    let element = args.next_bytes()?;
    let Some(l) = list(ctx, &key)? else { return int(0) };
    let len = l.len();
    let limit = if count == 0 { usize::MAX } else { usize::try_from(count.unsigned_abs()).unwrap_or(usize::MAX) };
    let mut indexes: Vec<usize> = if count >= 0 {
        l.iter().enumerate().filter(|(_, x)| *x == &element[..]).map(|(i, _)| i).take(limit).collect()
    } else {
        l.iter().enumerate().rev().filter(|(_, x)| *x == &element[..]).map(|(i, _)| i).take(limit).collect()
    };
    if indexes.is_empty() {
        return int(0);
    }
    if count < 0 {
        indexes.reverse();
    }
    let removed = indexes.len();
    let db = ctx.db();
    ctx.apply(Effect::ListRemoveAt { db, key: key.clone(), indexes });
    ctx.notify('l', "lrem", &key);
    if removed == len {
        ctx.notify('g', "del", &key);
    }
    int(removed as i64)
}

/// `LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len]`
fn lpos(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let element = args.next_bytes()?;
    let mut rank: i64 = 1;
    let mut count: Option<usize> = None;
    let mut maxlen: usize = 0;
    while !args.is_empty() {
        let opt = args.next_bytes()?;
        if args.is_empty() {
            return Err(SYNTAX);
        }
        let v = args.next_bytes()?;
        let non_negative =
            |err: Frame| parse_i64(v).filter(|n| *n >= 0).map(|n| usize::try_from(n).unwrap_or(usize::MAX)).ok_or(err);
        if opt.eq_ignore_ascii_case(b"rank") {
            rank = parse_i64(v).ok_or(NOT_INT)?;
            if rank == 0 {
                return Err(RANK_ZERO);
            }
        } else if opt.eq_ignore_ascii_case(b"count") {
            count = Some(non_negative(COUNT_NEGATIVE)?);
        } else if opt.eq_ignore_ascii_case(b"maxlen") {
            maxlen = non_negative(MAXLEN_NEGATIVE)?;
        } else {
            return Err(SYNTAX);
        }
    }
    let Some(l) = list_read(ctx, key)? else {
        return Ok(if count.is_some() { Frame::Array(Vec::new()) } else { Frame::Null });
    };
    let len = l.len();
    let wanted = match count {
        None => 1,
        Some(0) => usize::MAX,
        Some(n) => n,
    };
    let scan = if maxlen == 0 { len } else { maxlen.min(len) };
    // Redis negates a negative rank in a C long: `i64::MIN` stays negative
    // and so matches from the first match at the tail.
    let mut skip = if rank == i64::MIN { 0 } else { rank.unsigned_abs() - 1 };
    let mut found = Vec::new();
    let mut iter = l.iter();
    for step in 0..scan {
        let (i, x) = if rank > 0 { (step, iter.next()) } else { (len - 1 - step, iter.next_back()) };
        if x == Some(&element[..]) {
            if skip > 0 {
                skip -= 1;
            } else {
                found.push(i);
                if found.len() >= wanted {
                    break;
                }
            }
        }
    }
    Ok(match count {
        Some(_) => Frame::Array(found.into_iter().map(|i| Frame::Integer(i as i64)).collect()),
        None => found.first().map_or(Frame::Null, |&i| Frame::Integer(i as i64)),
    })
}

/// Moves one element from `src`'s `from` end to `dst`'s `to` end; `None`
/// if `src` does not exist (`WRONGTYPE` if either key holds another type).
fn move_one(ctx: &mut Ctx, src: &Bytes, dst: &Bytes, from: bool, to: bool) -> Result<Option<Bytes>, Frame> {
    let Some(l) = list(ctx, src)? else { return Ok(None) };
    let src_len = l.len();
    let Some(elem) = l.get_detached(if from { 0 } else { src_len.wrapping_sub(1) }) else { return Ok(None) };
    list(ctx, dst)?;
    let db = ctx.db();
    // Rotating a list onto itself changes nothing when it has one element
    // or both ends are the same: no effect, so its expiry is kept.
    // Redis still counts it as a change for WATCH.
    if src != dst || (src_len > 1 && from != to) {
        ctx.apply(Effect::ListPop { db, key: src.clone(), left: from, count: 1 });
        ctx.apply(Effect::ListPush { db, key: dst.clone(), left: to, items: vec![elem.clone()] });
    } else {
        ctx.touch_watched(src);
    }
    ctx.notify('l', push_event(to), dst);
    ctx.notify('l', pop_event(from), src);
    if src != dst && src_len == 1 {
        ctx.notify('g', "del", src);
    }
    Ok(Some(elem))
}

/// `LMOVE source destination LEFT|RIGHT LEFT|RIGHT`
fn lmove(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let src = args.next_bytes()?;
    let dst = args.next_bytes()?;
    let from = side(args.next_bytes()?)?;
    let to = side(args.next_bytes()?)?;
    Ok(Frame::bulk_or_null(move_one(ctx, src, dst, from, to)?))
}

/// `RPOPLPUSH source destination`
fn rpoplpush(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let src = args.next_bytes()?;
    let dst = args.next_bytes()?;
    Ok(Frame::bulk_or_null(move_one(ctx, src, dst, false, true)?))
}

/// The arguments of `LMPOP`/`BLMPOP` after the timeout: the keys, the end
/// to pop from, and the count.
fn parse_mpop<'a>(args: &mut Args<'a>) -> Result<(&'a [Bytes], bool, usize), Frame> {
    let numkeys = parse_i64(args.next_bytes()?).filter(|n| *n > 0).ok_or(NUMKEYS)?;
    if numkeys as u64 > args.remaining().saturating_sub(1) as u64 {
        return Err(SYNTAX);
    }
    let keys = &args.peek_rest()[..numkeys as usize];
    for _ in 0..numkeys {
        args.next_bytes()?;
    }
    let left = side(args.next_bytes()?)?;
    let mut count = None;
    while !args.is_empty() {
        let opt = args.next_bytes()?;
        if count.is_none() && opt.eq_ignore_ascii_case(b"count") && !args.is_empty() {
            let n = parse_i64(args.next_bytes()?).filter(|n| *n > 0).ok_or(MPOP_COUNT)?;
            count = Some(usize::try_from(n).unwrap_or(usize::MAX));
        } else {
            return Err(SYNTAX);
        }
    }
    Ok((keys, left, count.unwrap_or(1)))
}

/// Pops up to `count` elements from the first non-empty list of `keys`:
/// `[key, [elements]]`, or `None` if every list is empty.
fn mpop(ctx: &mut Ctx, keys: &[Bytes], left: bool, count: usize, blocking: bool) -> Result<Option<Frame>, Frame> {
    for key in keys {
        if waitable_len(ctx, key)?.is_some() {
            let items = pop_n(ctx, key, left, count);
            if blocking {
                note_handed(ctx, key, left, &items);
            }
            let items = items.into_iter().map(Frame::Bulk).collect();
            return Ok(Some(Frame::Array(vec![Frame::Bulk(key.clone()), Frame::Array(items)])));
        }
    }
    Ok(None)
}

/// `LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT count]`
fn lmpop(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let (keys, left, count) = parse_mpop(args)?;
    Ok(mpop(ctx, keys, left, count, false)?.unwrap_or(Frame::NullArray))
}

/// `BLMPOP timeout numkeys key [key ...] LEFT|RIGHT [COUNT count]`
fn blmpop(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    // Redis reads the timeout after the other arguments.
    let timeout = args.next_bytes()?;
    let (keys, left, count) = parse_mpop(args)?;
    let timeout = parse_timeout(timeout, ctx.now_ms)?;
    if let Some(reply) = mpop(ctx, keys, left, count, true)? {
        return Ok(reply);
    }
    if ctx.in_exec {
        return Ok(Frame::NullArray);
    }
    block(ctx, keys, timeout, Frame::NullArray)
}

/// `BLPOP`/`BRPOP`: `[key, element]` from the first non-empty list, or wait.
fn bpop(ctx: &mut Ctx, args: &mut Args, left: bool) -> CmdResult {
    let all = args.rest();
    let (timeout, keys) = all.split_last().ok_or(SYNTAX)?;
    let timeout = parse_timeout(timeout, ctx.now_ms)?;
    for key in keys {
        if waitable_len(ctx, key)?.is_some() {
            let items = pop_n(ctx, key, left, 1);
            note_handed(ctx, key, left, &items);
            let elem = items.into_iter().next().map_or(Frame::Null, Frame::Bulk);
            return Ok(Frame::Array(vec![Frame::Bulk(key.clone()), elem]));
        }
    }
    if ctx.in_exec {
        return Ok(Frame::NullArray);
    }
    block(ctx, keys, timeout, Frame::NullArray)
}

/// `BLPOP key [key ...] timeout`
fn blpop(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    bpop(ctx, args, true)
}

/// `BRPOP key [key ...] timeout`
fn brpop(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    bpop(ctx, args, false)
}

/// `BLMOVE`/`BRPOPLPUSH`: move at once if `src` has elements, or wait on it.
fn bmove(ctx: &mut Ctx, src: &Bytes, dst: &Bytes, from: bool, to: bool, timeout: &[u8]) -> CmdResult {
    let timeout = parse_timeout(timeout, ctx.now_ms)?;
    if waitable_len(ctx, src)?.is_some() {
        return Ok(Frame::bulk_or_null(move_one(ctx, src, dst, from, to)?));
    }
    if ctx.in_exec {
        return Ok(Frame::Null);
    }
    // Redis 7.0 answers a timed-out BLMOVE/BRPOPLPUSH with a null array.
    block(ctx, std::slice::from_ref(src), timeout, Frame::NullArray)
}

/// `BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout`
fn blmove(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let src = args.next_bytes()?;
    let dst = args.next_bytes()?;
    let from = side(args.next_bytes()?)?;
    let to = side(args.next_bytes()?)?;
    bmove(ctx, src, dst, from, to, args.next_bytes()?)
}

/// `BRPOPLPUSH source destination timeout`
fn brpoplpush(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let src = args.next_bytes()?;
    let dst = args.next_bytes()?;
    bmove(ctx, src, dst, false, true, args.next_bytes()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::testkit::{Harness, text};
    use crate::resp::Protocol;

    /// A harness speaking `proto`, the clock at 1,000 ms.
    fn harness(proto: Protocol) -> Harness {
        let mut h = Harness::at(1_000);
        h.session.proto = proto;
        h
    }

    /// The events raised since the last call, as `class:event:key`.
    fn events(h: &mut Harness) -> Vec<String> {
        h.take_events().iter().map(|e| format!("{}:{}:{}", e.class, e.event, text(&e.key))).collect()
    }

    #[test]
    fn resp3_replies() {
        let mut h = harness(Protocol::Resp3);
        assert_eq!(h.wire(&["LPOP", "nokey"]), "_\r\n");
        assert_eq!(h.wire(&["LPOP", "nokey", "2"]), "_\r\n");
        assert_eq!(h.wire(&["LMPOP", "1", "nokey", "LEFT"]), "_\r\n");
        assert_eq!(h.wire(&["LPOS", "nokey", "a"]), "_\r\n");
        assert_eq!(h.wire(&["LPOS", "nokey", "a", "COUNT", "0"]), "*0\r\n");
        assert_eq!(h.wire(&["LINDEX", "nokey", "0"]), "_\r\n");
        assert_eq!(h.wire(&["LMOVE", "nokey", "d", "LEFT", "LEFT"]), "_\r\n");
        assert_eq!(h.wire(&["RPUSH", "l", "a", "b"]), ":2\r\n");
        assert_eq!(h.wire(&["LPOP", "l", "0"]), "*0\r\n");
        assert_eq!(h.wire(&["LPOS", "l", "b", "COUNT", "0"]), "*1\r\n:1\r\n");
        assert_eq!(h.wire(&["BLPOP", "l", "0"]), "*2\r\n$1\r\nl\r\n$1\r\na\r\n");
        assert_eq!(h.wire(&["LMPOP", "1", "l", "RIGHT", "COUNT", "3"]), "*2\r\n$1\r\nl\r\n*1\r\n$1\r\nb\r\n");
        assert_eq!(h.wire(&["BLPOP", "l", "1.5"]), "_\r\n");
        let block = h.blocked.take().expect("BLPOP waits");
        assert_eq!(block.deadline_ms, Some(2_501));
        assert_eq!(block.on_timeout, Frame::NullArray);
    }

    #[test]
    fn blocking_commands_inside_exec_answer_at_once() {
        let mut h = harness(Protocol::Resp2);
        h.in_exec = true;
        assert_eq!(h.wire(&["BLPOP", "q", "0"]), "*-1\r\n");
        assert_eq!(h.wire(&["BRPOP", "q", "0"]), "*-1\r\n");
        assert_eq!(h.wire(&["BLMPOP", "0", "1", "q", "LEFT"]), "*-1\r\n");
        assert_eq!(h.wire(&["BLMOVE", "q", "d", "LEFT", "LEFT", "0"]), "$-1\r\n");
        assert_eq!(h.wire(&["BRPOPLPUSH", "q", "d", "0"]), "$-1\r\n");
        assert!(h.blocked.is_none());
        h.in_exec = false;
        h.wire(&["BRPOPLPUSH", "q", "d", "0"]);
        let block = h.blocked.take().expect("waits outside EXEC");
        assert_eq!(block.keys, [Bytes::from("q")]);
        assert_eq!(block.deadline_ms, None);
    }

    /// Found by the differential test: Redis reads the timeout as `strtold`
    /// does and rounds it up (above -1 ms is 0, forever), and `BLMPOP`
    /// checks its other arguments before the timeout.
    #[test]
    fn blocking_timeouts_follow_redis() {
        let mut h = harness(Protocol::Resp2);
        h.wire(&["RPUSH", "l", "a", "b", "c", "d"]);
        assert_eq!(h.wire(&["BLPOP", "l", "0x10"]), "*2\r\n$1\r\nl\r\n$1\r\na\r\n");
        assert_eq!(h.wire(&["BRPOP", "l", "-0.0001"]), "*2\r\n$1\r\nl\r\n$1\r\nd\r\n");
        assert_eq!(h.wire(&["BRPOPLPUSH", "l", "l", "1e13"]), "$1\r\nc\r\n");
        assert_eq!(h.wire(&["BLPOP", "l", "-inf"]), "-ERR timeout is negative\r\n");
        assert_eq!(h.wire(&["BLPOP", "l", "inf"]), "-ERR timeout is out of range\r\n");
        assert_eq!(h.wire(&["BLMPOP", "", "1", "l", "LEFT", "COUNT", "0"]), "-ERR count should be greater than 0\r\n");
        assert_eq!(h.wire(&["BLMPOP", "x", "0", "l", "LEFT"]), "-ERR numkeys should be greater than 0\r\n");
        assert_eq!(h.wire(&["BLMPOP", "x", "1", "l", "UP"]), "-ERR syntax error\r\n");
        assert_eq!(h.wire(&["BLMPOP", "x", "1", "l", "LEFT"]), "-ERR timeout is not a float or out of range\r\n");
        assert!(h.blocked.is_none());
        h.wire(&["BLPOP", "empty", "-0.0001"]);
        assert_eq!(h.blocked.take().expect("waits").deadline_ms, None);
    }

    /// Found by the differential test: Redis counts a list rotated onto
    /// itself, or an `LTRIM` that keeps everything, as a change for `WATCH`.
    #[test]
    fn writes_that_change_nothing_still_touch_watched_keys() {
        let mut h = harness(Protocol::Resp2);
        let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
        h.server.hub.connect(1, tx, crate::broker::pubsub::ClientOutput::new());
        h.session.id = 1;
        h.dispatch(&["RPUSH", "one", "a"]);
        h.dispatch(&["RPUSH", "two", "a", "b"]);
        let writes: [&[&str]; 4] = [
            &["LMOVE", "one", "one", "LEFT", "RIGHT"],
            &["LMOVE", "two", "two", "LEFT", "LEFT"],
            &["RPOPLPUSH", "one", "one"],
            &["LTRIM", "two", "0", "-1"],
        ];
        let effects = h.effects.len();
        for write in writes {
            assert_eq!(h.dispatch(&["WATCH", write[1]]), OK);
            assert!(!h.dispatch(write).is_error());
            assert_eq!(h.dispatch(&["MULTI"]), OK);
            assert_eq!(h.dispatch(&["EXEC"]), Frame::NullArray, "{write:?}");
        }
        assert_eq!(h.effects.len(), effects, "nothing to log");
        assert_eq!(h.wire(&["LRANGE", "two", "0", "-1"]), "*2\r\n$1\r\na\r\n$1\r\nb\r\n");
    }

    #[test]
    fn a_woken_waiter_keeps_waiting_on_a_key_of_another_type() {
        let mut h = harness(Protocol::Resp2);
        h.wire(&["SET", "s", "v"]);
        let wrongtype = "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";
        assert_eq!(h.wire(&["BLPOP", "s", "0"]), wrongtype);
        assert!(h.blocked.is_none());
        h.woken = true;
        h.wire(&["BLPOP", "s", "0"]);
        assert!(h.blocked.take().is_some());
        h.wire(&["BLMOVE", "s", "d", "LEFT", "LEFT", "0"]);
        assert!(h.blocked.take().is_some());
        h.wire(&["RPUSH", "l", "a"]);
        assert_eq!(h.wire(&["BLMPOP", "0", "2", "s", "l", "LEFT"]), "*2\r\n$1\r\nl\r\n*1\r\n$1\r\na\r\n");
        // The destination's type is checked when the move happens.
        h.wire(&["RPUSH", "l", "a"]);
        assert_eq!(h.wire(&["BLMOVE", "l", "s", "LEFT", "LEFT", "0"]), wrongtype);
    }

    #[test]
    fn notifications() {
        let mut h = harness(Protocol::Resp2);
        h.wire(&["RPUSH", "l", "a", "b", "c"]);
        h.wire(&["LPUSHX", "l", "z"]);
        h.wire(&["LPUSHX", "nokey", "z"]);
        assert_eq!(events(&mut h), ["l:rpush:l", "l:lpush:l"]);
        h.wire(&["LSET", "l", "0", "y"]);
        h.wire(&["LINSERT", "l", "BEFORE", "a", "x"]);
        h.wire(&["LREM", "l", "0", "nothere"]);
        h.wire(&["LREM", "l", "0", "x"]);
        assert_eq!(events(&mut h), ["l:lset:l", "l:linsert:l", "l:lrem:l"]);
        h.wire(&["LMOVE", "l", "m", "LEFT", "RIGHT"]);
        assert_eq!(events(&mut h), ["l:rpush:m", "l:lpop:l"]);
        h.wire(&["RPOPLPUSH", "m", "l"]);
        assert_eq!(events(&mut h), ["l:lpush:l", "l:rpop:m", "g:del:m"]);
        h.wire(&["LTRIM", "l", "0", "1"]);
        h.wire(&["RPOP", "l", "1"]);
        assert_eq!(events(&mut h), ["l:ltrim:l", "l:rpop:l"]);
        h.wire(&["BLPOP", "l", "0"]);
        assert_eq!(events(&mut h), ["l:lpop:l", "g:del:l"]);
        h.wire(&["RPUSH", "l", "a"]);
        h.wire(&["LTRIM", "l", "1", "0"]);
        assert_eq!(events(&mut h), ["l:rpush:l", "l:ltrim:l", "g:del:l"]);
        h.wire(&["RPUSH", "l", "a"]);
        h.wire(&["LREM", "l", "1", "a"]);
        assert_eq!(events(&mut h), ["l:rpush:l", "l:lrem:l", "g:del:l"]);
    }

    #[test]
    fn rotating_a_one_element_list_keeps_its_expiry() {
        let mut h = harness(Protocol::Resp2);
        h.wire(&["RPUSH", "l", "a"]);
        h.ks.dbs[0].set_expire(b"l", Some(9_999_999));
        let before = h.effects.len();
        assert_eq!(h.wire(&["LMOVE", "l", "l", "LEFT", "RIGHT"]), "$1\r\na\r\n");
        assert_eq!(h.effects.len(), before);
        assert_eq!(h.ks.dbs[0].get(b"l").unwrap().expire_at(), Some(9_999_999));
        h.wire(&["RPUSH", "l", "b"]);
        assert_eq!(h.wire(&["LMOVE", "l", "l", "LEFT", "RIGHT"]), "$1\r\na\r\n");
        assert_eq!(h.wire(&["LRANGE", "l", "0", "-1"]), "*2\r\n$1\r\nb\r\n$1\r\na\r\n");
        assert_eq!(h.ks.dbs[0].get(b"l").unwrap().expire_at(), Some(9_999_999));
    }

    #[test]
    fn blocking_pops_note_what_they_hand_over() {
        let mut h = harness(Protocol::Resp2);
        h.wire(&["RPUSH", "l", "a", "b", "c"]);
        h.wire(&["LPOP", "l"]);
        assert!(h.handback.is_empty());
        h.wire(&["BLMPOP", "0", "1", "l", "RIGHT", "COUNT", "2"]);
        let back = std::mem::take(&mut h.handback);
        assert_eq!(
            back,
            [Effect::ListPush {
                db: 0,
                key: Bytes::from("l"),
                left: false,
                items: vec![Bytes::from("b"), Bytes::from("c")]
            }]
        );
        // Giving them back restores the list as it was.
        for e in back {
            h.apply(e);
        }
        assert_eq!(h.wire(&["LRANGE", "l", "0", "-1"]), "*2\r\n$1\r\nb\r\n$1\r\nc\r\n");
        h.check_replay();
        // Inside EXEC a pop is part of the transaction: nothing of it goes
        // back alone (the transaction is all or nothing).
        h.in_exec = true;
        assert_eq!(h.wire(&["BLPOP", "l", "0"]), "*2\r\n$1\r\nl\r\n$1\r\nb\r\n");
        h.wire(&["ZADD", "z", "1", "m"]);
        h.wire(&["BZPOPMIN", "z", "0"]);
        assert!(h.handback.is_empty());
    }

    #[test]
    fn ranges_follow_redis() {
        assert_eq!(range(5, 0, -1), Some((0, 5)));
        assert_eq!(range(5, -100, 100), Some((0, 5)));
        assert_eq!(range(5, 3, 1), None);
        assert_eq!(range(5, 5, 10), None);
        assert_eq!(range(5, -1, -1), Some((4, 5)));
        assert_eq!(range(0, 0, -1), None);
        assert_eq!(range(5, i64::MIN, i64::MAX), Some((0, 5)));
        assert_eq!(norm_index(3, -1), Some(2));
        assert_eq!(norm_index(3, -4), None);
        assert_eq!(norm_index(3, 3), None);
        assert_eq!(norm_index(3, i64::MIN), None);
    }
}
