//! Hash commands (`HSET`, `HGET`, `HINCRBY`, `HRANDFIELD`, `HSCAN`...).
//!
//! Also home of the helpers the set family shares: random sampling of
//! collection members and `*SCAN` argument parsing.

use bytes::Bytes;

use super::args::parse_i64;
use super::float::{add_floats, parse_operand};
use super::{Args, CmdResult, Ctx, NOT_FLOAT, NOT_INT, OVERFLOW, SYNTAX, WRONGTYPE, distinct, flags::*, wrong_arity};
use crate::command;
use crate::resp::frame::OK;
use crate::resp::{Frame, Protocol};
use crate::state::glob::glob_match;
use crate::state::{Effect, Hash, HashSet, Value};

/// The hash command family.
pub static COMMANDS: &[super::Command] = &[
    command!(
        "hset",
        -4,
        WRITE | DENYOOM | FAST,
        1,
        1,
        1,
        "hash",
        "HSET key field value [field value ...] — set hash fields, returning how many were new",
        hset
    ),
    command!(
        "hsetnx",
        4,
        WRITE | DENYOOM | FAST,
        1,
        1,
        1,
        "hash",
        "HSETNX key field value — set a hash field only if it does not exist",
        hsetnx
    ),
    command!(
        "hmset",
        -4,
        WRITE | DENYOOM | FAST,
        1,
        1,
        1,
        "hash",
        "HMSET key field value [field value ...] — set hash fields (deprecated form of HSET)",
        hmset
    ),
    command!("hget", 3, READONLY | FAST, 1, 1, 1, "hash", "HGET key field — the value of a hash field", hget),
    command!(
        "hmget",
        -3,
        READONLY | FAST,
        1,
        1,
        1,
        "hash",
        "HMGET key field [field ...] — the values of hash fields",
        hmget
    ),
    command!("hdel", -3, WRITE | FAST, 1, 1, 1, "hash", "HDEL key field [field ...] — delete hash fields", hdel),
    command!(
        "hexists",
        3,
        READONLY | FAST,
        1,
        1,
        1,
        "hash",
        "HEXISTS key field — whether a hash field exists",
        hexists
    ),
    command!("hlen", 2, READONLY | FAST, 1, 1, 1, "hash", "HLEN key — the number of fields in a hash", hlen),
    command!("hkeys", 2, READONLY, 1, 1, 1, "hash", "HKEYS key — every field of a hash", hkeys),
    command!("hvals", 2, READONLY, 1, 1, 1, "hash", "HVALS key — every value of a hash", hvals),
    command!("hgetall", 2, READONLY, 1, 1, 1, "hash", "HGETALL key — every field and value of a hash", hgetall),
    command!(
        "hincrby",
        4,
        WRITE | DENYOOM | FAST,
        1,
        1,
        1,
        "hash",
        "HINCRBY key field increment — add an integer to a hash field",
        hincrby
    ),
    command!(
        "hincrbyfloat",
        4,
        WRITE | DENYOOM | FAST,
        1,
        1,
        1,
        "hash",
        "HINCRBYFLOAT key field increment — add a float to a hash field",
        hincrbyfloat
    ),
    command!(
        "hstrlen",
        3,
        READONLY | FAST,
        1,
        1,
        1,
        "hash",
        "HSTRLEN key field — the length of a hash field's value",
        hstrlen
    ),
    command!(
        "hrandfield",
        -2,
        READONLY,
        1,
        1,
        1,
        "hash",
        "HRANDFIELD key [count [WITHVALUES]] — random fields of a hash",
        hrandfield
    ),
    command!(
        "hscan",
        -3,
        READONLY,
        1,
        1,
        1,
        "hash",
        "HSCAN key cursor [MATCH pattern] [COUNT count] — iterate the fields and values of a hash",
        hscan
    ),
];

/// The hash at `key`: `Ok(None)` if absent, `WRONGTYPE` if not a hash.
/// `read` counts a keyspace hit or miss (read commands).
fn hash_at<'c>(ctx: &'c mut Ctx, key: &[u8], read: bool) -> Result<Option<&'c Hash>, Frame> {
    let entry = if read { ctx.lookup_read(key) } else { ctx.lookup(key) };
    match entry.map(|e| &e.value) {
        None => Ok(None),
        Some(Value::Hash(h)) => Ok(Some(h)),
        Some(_) => Err(WRONGTYPE),
    }
}

/// Reads `field value ...` pairs after the key (`HSET`/`HMSET`).
fn field_pairs(name: &str, args: &mut Args) -> Result<Vec<(Bytes, Bytes)>, Frame> {
    let rest = args.rest();
    if rest.is_empty() || !rest.len().is_multiple_of(2) {
        return Err(wrong_arity(name));
    }
    Ok(rest.chunks(2).map(|p| (p[0].clone(), p[1].clone())).collect())
}

/// Sets `pairs` on the hash at `key`; the number of fields that were new.
fn set_fields(ctx: &mut Ctx, key: &Bytes, pairs: Vec<(Bytes, Bytes)>) -> Result<i64, Frame> {
    let added = {
        let existing = hash_at(ctx, key, false)?;
        let mut new_fields: HashSet<&Bytes> = HashSet::default();
        for (f, _) in &pairs {
            if !existing.is_some_and(|h| h.contains_key(f)) {
                new_fields.insert(f);
            }
        }
        new_fields.len() as i64
    };
    let db = ctx.db();
    ctx.apply(Effect::HashSet { db, key: key.clone(), pairs });
    ctx.notify('h', "hset", key);
    Ok(added)
}

/// `HSET key field value [field value ...]`
fn hset(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?.clone();
    let pairs = field_pairs("hset", args)?;
    Ok(Frame::Integer(set_fields(ctx, &key, pairs)?))
}

/// `HMSET key field value [field value ...]`
fn hmset(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?.clone();
    let pairs = field_pairs("hmset", args)?;
    set_fields(ctx, &key, pairs)?;
    Ok(OK)
}

/// `HSETNX key field value`
fn hsetnx(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?.clone();
    let field = args.next_bytes()?.clone();
    let value = args.next_bytes()?.clone();
    if hash_at(ctx, &key, false)?.is_some_and(|h| h.contains_key(&field)) {
        return Ok(Frame::Integer(0));
    }
    let db = ctx.db();
    ctx.apply(Effect::HashSet { db, key: key.clone(), pairs: vec![(field, value)] });
    ctx.notify('h', "hset", &key);
    Ok(Frame::Integer(1))
}

/// `HGET key field`
fn hget(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let field = args.next_bytes()?;
    Ok(Frame::bulk_or_null(hash_at(ctx, key, true)?.and_then(|h| h.get(field)).map(Bytes::copy_from_slice)))
}

/// `HMGET key field [field ...]`
fn hmget(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let fields = args.rest();
    let h = hash_at(ctx, key, true)?;
    Ok(Frame::Array(
        fields.iter().map(|f| Frame::bulk_or_null(h.and_then(|h| h.get(f)).map(Bytes::copy_from_slice))).collect(),
    ))
}

/// `HDEL key field [field ...]`
fn hdel(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?.clone();
    let fields = args.rest();
    let (doomed, emptied) = {
        let Some(h) = hash_at(ctx, &key, false)? else { return Ok(Frame::Integer(0)) };
        let doomed = distinct(fields, |f| h.contains_key(f));
        let emptied = doomed.len() == h.len();
        (doomed, emptied)
    };
    let n = doomed.len() as i64;
    if n > 0 {
        let db = ctx.db();
        ctx.apply(Effect::HashDel { db, key: key.clone(), fields: doomed });
        ctx.notify('h', "hdel", &key);
        if emptied {
            ctx.notify('g', "del", &key);
        }
    }
    Ok(Frame::Integer(n))
}

/// `HEXISTS key field`
fn hexists(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let field = args.next_bytes()?;
    Ok(Frame::Integer(hash_at(ctx, key, true)?.is_some_and(|h| h.contains_key(field)) as i64))
}

/// `HLEN key`
fn hlen(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    Ok(Frame::Integer(hash_at(ctx, key, true)?.map_or(0, |h| h.len()) as i64))
}

/// `HKEYS key`
fn hkeys(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let h = hash_at(ctx, key, true)?;
    let fields: Vec<&[u8]> = h.map_or_else(Vec::new, |h| h.keys().collect());
    Ok(Frame::bulk_array(fields.into_iter()))
}

/// `HVALS key`
fn hvals(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let h = hash_at(ctx, key, true)?;
    let values: Vec<&[u8]> = h.map_or_else(Vec::new, |h| h.values().collect());
    Ok(Frame::bulk_array(values.into_iter()))
}

/// `HGETALL key` (a map in RESP3, a flat array in RESP2)
fn hgetall(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let h = hash_at(ctx, key, true)?;
    Ok(Frame::Map(h.map_or_else(Vec::new, |h| {
        h.iter()
            .map(|(f, v)| (Frame::Bulk(Bytes::copy_from_slice(f)), Frame::Bulk(Bytes::copy_from_slice(v))))
            .collect()
    })))
}

/// `HINCRBY key field increment`
fn hincrby(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?.clone();
    let field = args.next_bytes()?.clone();
    let incr = args.next_i64()?;
    let current = match hash_at(ctx, &key, false)?.and_then(|h| h.get(&field)) {
        None => 0,
        Some(v) => parse_i64(v).ok_or(Frame::error("ERR hash value is not an integer"))?,
    };
    let new = current.checked_add(incr).ok_or(OVERFLOW)?;
    let db = ctx.db();
    ctx.apply(Effect::HashSet { db, key: key.clone(), pairs: vec![(field, Bytes::from(new.to_string()))] });
    ctx.notify('h', "hincrby", &key);
    Ok(Frame::Integer(new))
}

/// `HINCRBYFLOAT key field increment`
fn hincrbyfloat(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?.clone();
    let field = args.next_bytes()?.clone();
    let incr_text = args.next_bytes()?.clone();
    let incr = parse_operand(&incr_text).ok_or(NOT_FLOAT)?;
    if !incr.is_finite() {
        return Err(Frame::error("ERR value is NaN or Infinity"));
    }
    let current = hash_at(ctx, &key, false)?.and_then(|h| h.get(&field)).map(Bytes::copy_from_slice);
    let text = match &current {
        None => add_floats(b"0", 0.0, &incr_text, incr),
        Some(v) => {
            let cur = parse_operand(v).ok_or(Frame::error("ERR hash value is not a float"))?;
            add_floats(v, cur, &incr_text, incr)
        }
    }
    .ok_or(Frame::error("ERR increment would produce NaN or Infinity"))?;
    let text = Bytes::from(text);
    let db = ctx.db();
    ctx.apply(Effect::HashSet { db, key: key.clone(), pairs: vec![(field, text.clone())] });
    ctx.notify('h', "hincrbyfloat", &key);
    Ok(Frame::Bulk(text))
}

/// `HSTRLEN key field`
fn hstrlen(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let field = args.next_bytes()?;
    Ok(Frame::Integer(hash_at(ctx, key, true)?.and_then(|h| h.get(field)).map_or(0, |v| v.len()) as i64))
}

/// `HRANDFIELD key [count [WITHVALUES]]`
///
/// Without a count: one random field, or null. A positive count returns up
/// to that many distinct fields, a negative one exactly `-count` fields
/// that may repeat. With `WITHVALUES`, RESP3 gets `[field, value]` pairs
/// and RESP2 a flat array.
fn hrandfield(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?.clone();
    if args.is_empty() {
        if hash_at(ctx, &key, true)?.is_none() {
            return Ok(Frame::Null);
        }
        let db = ctx.db() as usize;
        let Some(Value::Hash(h)) = ctx.ks.dbs[db].get(&key).map(|e| &e.value) else { return Ok(Frame::Null) };
        return Ok(Frame::bulk_or_null(h.random(|| ctx.server.random()).map(|(f, _)| Bytes::copy_from_slice(f))));
    }
    let count = parse_random_count(args.next_bytes()?)?;
    let with_values = args.eat("WITHVALUES");
    args.finish()?;
    if with_values && !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&count) {
        return Err(Frame::error("ERR value is out of range"));
    }
    let resp3 = ctx.session.proto == Protocol::Resp3;
    if hash_at(ctx, &key, true)?.is_none() {
        return Ok(Frame::Array(Vec::new()));
    }
    let db = ctx.db() as usize;
    let Some(Value::Hash(h)) = ctx.ks.dbs[db].get(&key).map(|e| &e.value) else { return Ok(Frame::Array(Vec::new())) };
    let draw = |rng: &mut super::ServerState| h.random(|| rng.random()).expect("not empty");
    let chosen = sample(ctx.server, h.len(), count, h.iter(), draw)?;
    let out = if !with_values {
        chosen.into_iter().map(|(f, _)| Frame::Bulk(Bytes::copy_from_slice(f))).collect()
    } else if resp3 {
        chosen
            .into_iter()
            .map(|(f, v)| {
                Frame::Array(vec![Frame::Bulk(Bytes::copy_from_slice(f)), Frame::Bulk(Bytes::copy_from_slice(v))])
            })
            .collect()
    } else {
        chosen
            .into_iter()
            .flat_map(|(f, v)| [Frame::Bulk(Bytes::copy_from_slice(f)), Frame::Bulk(Bytes::copy_from_slice(v))])
            .collect()
    };
    Ok(Frame::Array(out))
}

/// `HSCAN key cursor [MATCH pattern] [COUNT count]`
///
/// A compact hash answers every matching field and value at once with
/// cursor 0, as Redis answers for a listpack; a large one about `count`
/// fields per call (before `MATCH` filters them), in the order of their
/// seeded hash, the cursor being the next hash to visit: a field present
/// for the whole iteration is returned at least once however the hash
/// changes meanwhile, and each call costs O(log n + count).
fn hscan(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let cursor = super::args::parse_cursor(args.next_bytes()?)?;
    let Some(h) = hash_at(ctx, key, true)? else { return Ok(scan_reply(0, Vec::new())) };
    let (pattern, count) = parse_scan_options(args)?;
    let mut out = Vec::new();
    let next = h.scan(cursor, count, |f, v| {
        if pattern.is_none_or(|p| glob_match(p, f)) {
            out.push(Frame::Bulk(Bytes::copy_from_slice(f)));
            out.push(Frame::Bulk(Bytes::copy_from_slice(v)));
        }
    });
    Ok(scan_reply(next, out))
}

// ---------------------------------------------------------------------------
// Helpers shared with the set family.

/// Largest number of elements a negative-count `HRANDFIELD`/`SRANDMEMBER`
/// may ask for. Redis has no limit (and runs out of memory); larger counts
/// are refused with `ERR value is out of range`.
pub(super) const MAX_RANDOM_REPLY: u64 = 1 << 24;

/// Parses the count of `HRANDFIELD`/`SRANDMEMBER` (`-i64::MAX..=i64::MAX`).
pub(super) fn parse_random_count(arg: &[u8]) -> Result<i64, Frame> {
    match parse_i64(arg).ok_or(NOT_INT)? {
        i64::MIN => Err(Frame::error(
            "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807",
        )),
        n => Ok(n),
    }
}

/// A source of random numbers (the server's generator, or a fixed one in tests).
pub(super) trait Rng {
    /// A uniformly distributed index below `n` (`n > 0`).
    fn below(&mut self, n: usize) -> usize;
}

impl Rng for super::ServerState {
    fn below(&mut self, n: usize) -> usize {
        self.random_below(n)
    }
}

/// The elements a random-count command returns (as [`sample_indices`]
/// chooses positions) from a collection of `len` elements: a few of a
/// large collection by `draw` (a fair random element, O(1) each) —
/// `SRANDMEMBER big 5` costs five draws, not a walk through the set —
/// otherwise by position, in one pass over `all`.
pub(super) fn sample<R: Rng, T: Copy + Eq + std::hash::Hash>(
    rng: &mut R,
    len: usize,
    count: i64,
    all: impl Iterator<Item = T>,
    mut draw: impl FnMut(&mut R) -> T,
) -> Result<Vec<T>, Frame> {
    /// Draws serve when at most 1 in this many elements is wanted (for
    /// distinct elements, a draw then repeats one already taken at most
    /// that often).
    const FEW: u64 = 16;
    let k = count.unsigned_abs();
    if len <= crate::state::hash::COMPACT_MAX_ENTRIES || k.saturating_mul(FEW) > len as u64 {
        let picks = sample_indices(rng, len, count)?;
        return Ok(pick(all, &picks));
    }
    let k = k as usize;
    if count < 0 {
        return Ok((0..k).map(|_| draw(rng)).collect());
    }
    let mut taken: HashSet<T> = HashSet::with_capacity_and_hasher(k, Default::default());
    let mut out = Vec::with_capacity(k);
    while out.len() < k {
        let t = draw(rng);
        if taken.insert(t) {
            out.push(t);
        }
    }
    Ok(out)
}

/// The positions (into a collection of `len` elements, `len > 0`) that a
/// random-count command returns, in random order: for `count >= 0`,
/// `min(count, len)` distinct positions; for `count < 0`, `-count`
/// positions drawn with replacement. Costs O(k log k) for k results.
pub(super) fn sample_indices(rng: &mut impl Rng, len: usize, count: i64) -> Result<Vec<usize>, Frame> {
    let mut picks: Vec<usize> = if count >= 0 {
        let k = (count as u64).min(len as u64) as usize;
        if k == len {
            (0..len).collect()
        } else {
            // Floyd's algorithm: k distinct values with k draws.
            let mut chosen: HashSet<usize> = HashSet::with_capacity_and_hasher(k, Default::default());
            for j in len - k..len {
                let t = rng.below(j + 1);
                if !chosen.insert(t) {
                    chosen.insert(j);
                }
            }
            chosen.into_iter().collect()
        }
    } else {
        let k = count.unsigned_abs();
        if k > MAX_RANDOM_REPLY {
            return Err(Frame::error("ERR value is out of range"));
        }
        (0..k).map(|_| rng.below(len)).collect()
    };
    shuffle(rng, &mut picks);
    Ok(picks)
}

/// Fisher-Yates shuffle.
pub(super) fn shuffle<T>(rng: &mut impl Rng, v: &mut [T]) {
    for i in (1..v.len()).rev() {
        let j = rng.below(i + 1);
        v.swap(i, j);
    }
}

/// The elements of `iter` at `positions` (any order, repeats allowed), in
/// the order of `positions`. One pass over `iter`, stopping after the last
/// position needed, skipping the others with `nth` (cheap on a compact
/// collection's iterator, and no element is looked at on the way).
pub(super) fn pick<T: Copy>(mut iter: impl Iterator<Item = T>, positions: &[usize]) -> Vec<T> {
    let mut order: Vec<(usize, usize)> = positions.iter().enumerate().map(|(slot, &p)| (p, slot)).collect();
    order.sort_unstable();
    let mut out: Vec<Option<T>> = vec![None; positions.len()];
    // The position of the next element `iter` yields, and the last one taken.
    let (mut next, mut current) = (0, None);
    for (p, slot) in order {
        if p >= next {
            current = iter.nth(p - next);
            next = p + 1;
        }
        out[slot] = current;
    }
    out.into_iter().flatten().collect()
}

/// Parses `[MATCH pattern] [COUNT count]` (repeatable, last wins) of
/// `HSCAN`/`SSCAN`/`ZSCAN`; returns the pattern (`None` for "everything")
/// and the count (10 unless given).
pub(super) fn parse_scan_options<'a>(args: &mut Args<'a>) -> Result<(Option<&'a [u8]>, usize), Frame> {
    let mut pattern = None;
    let mut count = 10;
    while !args.is_empty() {
        if args.remaining() >= 2 && args.eat("COUNT") {
            let n = args.next_i64()?;
            if n < 1 {
                return Err(SYNTAX);
            }
            count = usize::try_from(n).unwrap_or(usize::MAX);
        } else if args.remaining() >= 2 && args.eat("MATCH") {
            let p = args.next_bytes()?;
            pattern = (p.as_ref() != b"*").then_some(p.as_ref());
        } else {
            return Err(SYNTAX);
        }
    }
    Ok((pattern, count))
}

/// A `*SCAN` reply: the cursor to go on from (0: done) and the elements.
pub(super) fn scan_reply(cursor: u64, elements: Vec<Frame>) -> Frame {
    let cursor = if cursor == 0 { Frame::bulk_static("0") } else { Frame::Bulk(Bytes::from(cursor.to_string())) };
    Frame::Array(vec![cursor, Frame::Array(elements)])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::testkit::{Harness, b, bulk, sorted_bulks};

    struct Seq(u64);
    impl Rng for Seq {
        fn below(&mut self, n: usize) -> usize {
            self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((self.0 >> 33) % n as u64) as usize
        }
    }

    #[test]
    fn hset_counts_new_fields_and_replays() {
        let mut f = Harness::at(1);
        assert_eq!(f.run("HSET h a 1 b 2 a 3"), Frame::Integer(2));
        assert_eq!(f.run("HSET h a 4 c 5"), Frame::Integer(1));
        assert_eq!(f.run("HGET h a"), bulk("4"));
        assert_eq!(f.run("HMSET h d 1"), OK);
        assert_eq!(f.run("HSET h a"), Frame::error("ERR wrong number of arguments for 'hset' command"));
        assert_eq!(f.run("HMSET h a 1 b"), Frame::error("ERR wrong number of arguments for 'hmset' command"));
        assert_eq!(f.run("HSETNX h a 9"), Frame::Integer(0));
        assert_eq!(f.run("HSETNX h z 9"), Frame::Integer(1));
        assert_eq!(f.run("HLEN h"), Frame::Integer(5));
        assert_eq!(f.take_event_names(), ["hset", "hset", "hset", "hset"]);
        assert_eq!(f.run("HDEL h a a nope"), Frame::Integer(1));
        assert_eq!(f.run("HDEL h b c d z"), Frame::Integer(4));
        assert_eq!(f.take_event_names(), ["hdel", "hdel", "del"]);
        assert!(f.ks.dbs[0].get(b"h").is_none());
        f.check_replay();
    }

    #[test]
    fn wrong_type_and_missing_keys() {
        let mut f = Harness::at(1);
        f.run("SET s x");
        for cmd in [
            "HSET s a 1",
            "HGET s a",
            "HMGET s a",
            "HDEL s a",
            "HLEN s",
            "HGETALL s",
            "HINCRBY s a 1",
            "HINCRBYFLOAT s a 1",
            "HRANDFIELD s",
            "HRANDFIELD s 0",
            "HSCAN s 0",
            "HSTRLEN s a",
            "HSETNX s a 1",
            "HEXISTS s a",
        ] {
            assert_eq!(f.run(cmd), WRONGTYPE, "{cmd}");
        }
        assert_eq!(f.run("HGET nope a"), Frame::Null);
        assert_eq!(f.run("HMGET nope a b"), Frame::Array(vec![Frame::Null, Frame::Null]));
        assert_eq!(f.run("HDEL nope a"), Frame::Integer(0));
        assert_eq!(f.run("HGETALL nope"), Frame::Map(vec![]));
        assert_eq!(f.run("HKEYS nope"), Frame::Array(vec![]));
        assert_eq!(f.run("HRANDFIELD nope"), Frame::Null);
        assert_eq!(f.run("HRANDFIELD nope -3 WITHVALUES"), Frame::Array(vec![]));
        assert_eq!(f.run("HSCAN nope 0 COUNT 0"), scan_reply(0, vec![]));
        assert_eq!(f.run("HSTRLEN nope a"), Frame::Integer(0));
    }

    #[test]
    fn hincrby_errors_and_effects() {
        let mut f = Harness::at(1);
        assert_eq!(f.run("HINCRBY h n 5"), Frame::Integer(5));
        assert_eq!(f.run("HINCRBY h n -7"), Frame::Integer(-2));
        assert_eq!(f.run("HINCRBY h n x"), NOT_INT);
        f.run("HSET h s abc big 9223372036854775807");
        assert_eq!(f.run("HINCRBY h s 1"), Frame::error("ERR hash value is not an integer"));
        assert_eq!(f.run("HINCRBY h big 1"), OVERFLOW);
        assert_eq!(f.run("HINCRBYFLOAT h s 1"), Frame::error("ERR hash value is not a float"));
        assert_eq!(f.run("HINCRBYFLOAT h n x"), NOT_FLOAT);
        assert_eq!(f.run("HINCRBYFLOAT h n inf"), Frame::error("ERR value is NaN or Infinity"));
        assert_eq!(f.run("HINCRBYFLOAT h f 0.1"), bulk("0.1"));
        assert_eq!(f.run("HINCRBYFLOAT h f 0.2"), bulk("0.3"));
        assert_eq!(f.run("HINCRBYFLOAT h n 2.5"), bulk("0.5"));
        assert_eq!(f.run("HINCRBYFLOAT h big -9223372036854775806.5"), bulk("0.5"));
        f.run("HSET h huge 1.7e308");
        assert_eq!(f.run("HINCRBYFLOAT h huge 1.7e308"), Frame::error("ERR increment would produce NaN or Infinity"));
        assert_eq!(
            f.effects[f.effects.len() - 2],
            Effect::HashSet { db: 0, key: Bytes::from("h"), pairs: vec![(Bytes::from("big"), b("0.5"))] }
        );
        assert_eq!(
            f.take_event_names(),
            ["hincrby", "hincrby", "hset", "hincrbyfloat", "hincrbyfloat", "hincrbyfloat", "hincrbyfloat", "hset"]
        );
        f.check_replay();
    }

    #[test]
    fn hrandfield_counts_and_shapes() {
        let mut f = Harness::at(1);
        f.run("HSET h a 1 b 2 c 3");
        let all = vec![Bytes::from("a"), Bytes::from("b"), Bytes::from("c")];
        assert_eq!(sorted_bulks(&f.run("HRANDFIELD h 3")), all);
        assert_eq!(sorted_bulks(&f.run("HRANDFIELD h 10")), all);
        assert_eq!(f.run("HRANDFIELD h 0"), Frame::Array(vec![]));
        let Frame::Array(two) = f.run("HRANDFIELD h 2") else { panic!() };
        assert_eq!(two.len(), 2);
        assert_ne!(two[0], two[1]);
        let Frame::Array(many) = f.run("HRANDFIELD h -10") else { panic!() };
        assert_eq!(many.len(), 10);
        let Frame::Array(flat) = f.run("HRANDFIELD h -4 WITHVALUES") else { panic!() };
        assert_eq!(flat.len(), 8);
        for pair in flat.chunks(2) {
            let (Frame::Bulk(k), Frame::Bulk(v)) = (&pair[0], &pair[1]) else { panic!() };
            assert_eq!(v[0] - b'1', k[0] - b'a');
        }
        f.session.proto = Protocol::Resp3;
        let Frame::Array(nested) = f.run("HRANDFIELD h 2 WITHVALUES") else { panic!() };
        assert_eq!(nested.len(), 2);
        assert!(nested.iter().all(|p| matches!(p, Frame::Array(kv) if kv.len() == 2)));
        assert_eq!(f.run("HRANDFIELD h 1 foo"), SYNTAX);
        assert_eq!(f.run("HRANDFIELD h x"), NOT_INT);
        assert_eq!(f.run("HRANDFIELD nope x"), NOT_INT);
        assert_eq!(f.run("HRANDFIELD h -4611686018427387904 WITHVALUES"), Frame::error("ERR value is out of range"));
        assert_eq!(
            f.run("HRANDFIELD h -9223372036854775808"),
            Frame::error("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
        );
    }

    #[test]
    fn hscan_returns_everything_matching() {
        let mut f = Harness::at(1);
        f.run("HSET h a1 1 a2 2 b 3");
        let Frame::Array(reply) = f.run("HSCAN h 0 MATCH a* COUNT 1") else { panic!() };
        assert_eq!(reply[0], bulk("0"));
        let Frame::Array(items) = &reply[1] else { panic!() };
        assert_eq!(items.len(), 4);
        assert_eq!(f.run("HSCAN h 0 COUNT 0"), SYNTAX);
        assert_eq!(f.run("HSCAN h 0 MATCH"), SYNTAX);
        assert_eq!(f.run("HSCAN h 0 TYPE string"), SYNTAX);
        assert_eq!(f.run("HSCAN h x"), Frame::error("ERR invalid cursor"));
    }

    #[test]
    fn sampling_is_distinct_or_exact() {
        let mut rng = Seq(7);
        for len in 1..20 {
            for count in [0i64, 1, 2, 5, 19, 40] {
                let mut p = sample_indices(&mut rng, len, count).unwrap();
                assert_eq!(p.len(), (count as usize).min(len));
                p.sort();
                p.dedup();
                assert_eq!(p.len(), (count as usize).min(len));
                assert!(p.iter().all(|&i| i < len));
            }
            let p = sample_indices(&mut rng, len, -30).unwrap();
            assert_eq!(p.len(), 30);
            assert!(p.iter().all(|&i| i < len));
        }
        assert!(sample_indices(&mut rng, 3, -(MAX_RANDOM_REPLY as i64) - 1).is_err());
        // Every element is reachable by a single pick.
        let mut hits = [0; 5];
        for _ in 0..500 {
            hits[sample_indices(&mut rng, 5, 1).unwrap()[0]] += 1;
        }
        assert!(hits.iter().all(|&h| h > 0), "{hits:?}");
    }

    #[test]
    fn pick_keeps_position_order_and_repeats() {
        let items = ["a", "b", "c", "d"];
        assert_eq!(pick(items.iter().copied(), &[3, 0, 3, 1]), ["d", "a", "d", "b"]);
        assert_eq!(pick(items.iter().copied(), &[]), Vec::<&str>::new());
        assert_eq!(pick(items.iter().copied(), &[2, 2, 0, 3, 0]), ["c", "c", "a", "d", "a"]);
        assert_eq!(pick(items.iter().copied(), &[4, 1]), ["b"], "past the end: nothing");
    }
}
