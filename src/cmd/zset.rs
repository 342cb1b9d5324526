//! Sorted-set commands.
//!
//! Every command reads through [`Ctx::lookup`]/[`Ctx::lookup_read`] and
//! changes data only with `ZAdd`, `ZRem`, `Put` and `Del` effects. Ranges by
//! score and by member are turned into rank windows of the [`ZSet`] (see
//! [`ZSet::count_while`]) and read with its rank iterators.

use bytes::Bytes;

use super::args::{parse_i64, parse_timeout};
use super::hash::{parse_scan_options, scan_reply};
use super::{Args, Block, CmdResult, Ctx, NOT_FLOAT, NOT_INT, SYNTAX, WRONGTYPE, distinct, flags::*, wrong_arity};
use crate::command;
use crate::resp::frame::format_double;
use crate::resp::{Frame, Protocol};
use crate::state::glob::glob_match;
use crate::state::zset::ZSet;
use crate::state::{Effect, ExpireChange, HashMap, HashSet, Set, Value};

/// The sorted-set command family.
pub static COMMANDS: &[super::Command] = &[
    command!(
        "zadd",
        -4,
        WRITE | DENYOOM | FAST,
        1,
        1,
        1,
        "sorted-set",
        "ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...] — add members or update scores",
        zadd
    ),
    command!(
        "zincrby",
        4,
        WRITE | DENYOOM | FAST,
        1,
        1,
        1,
        "sorted-set",
        "ZINCRBY key increment member — add to a member's score",
        zincrby
    ),
    command!("zrem", -3, WRITE | FAST, 1, 1, 1, "sorted-set", "ZREM key member [member ...] — remove members", zrem),
    command!("zscore", 3, READONLY | FAST, 1, 1, 1, "sorted-set", "ZSCORE key member — a member's score", zscore),
    command!(
        "zmscore",
        -3,
        READONLY | FAST,
        1,
        1,
        1,
        "sorted-set",
        "ZMSCORE key member [member ...] — several members' scores",
        zmscore
    ),
    command!("zcard", 2, READONLY | FAST, 1, 1, 1, "sorted-set", "ZCARD key — number of members", zcard),
    command!(
        "zcount",
        4,
        READONLY | FAST,
        1,
        1,
        1,
        "sorted-set",
        "ZCOUNT key min max — number of members with a score in a range",
        zcount
    ),
    command!(
        "zlexcount",
        4,
        READONLY | FAST,
        1,
        1,
        1,
        "sorted-set",
        "ZLEXCOUNT key min max — number of members in a lexicographical range",
        zlexcount
    ),
    command!(
        "zrange",
        -4,
        READONLY,
        1,
        1,
        1,
        "sorted-set",
        "ZRANGE key start stop [BYSCORE|BYLEX] [REV] [LIMIT offset count] [WITHSCORES] — members in a range",
        zrange
    ),
    command!(
        "zrangestore",
        -5,
        WRITE | DENYOOM,
        1,
        2,
        1,
        "sorted-set",
        "ZRANGESTORE dst src min max [BYSCORE|BYLEX] [REV] [LIMIT offset count] — store a range",
        zrangestore
    ),
    command!(
        "zrangebyscore",
        -4,
        READONLY,
        1,
        1,
        1,
        "sorted-set",
        "ZRANGEBYSCORE key min max [WITHSCORES] [LIMIT offset count] — members in a score range",
        zrangebyscore
    ),
    command!(
        "zrevrangebyscore",
        -4,
        READONLY,
        1,
        1,
        1,
        "sorted-set",
        "ZREVRANGEBYSCORE key max min [WITHSCORES] [LIMIT offset count] — members in a score range, high to low",
        zrevrangebyscore
    ),
    command!(
        "zrangebylex",
        -4,
        READONLY,
        1,
        1,
        1,
        "sorted-set",
        "ZRANGEBYLEX key min max [LIMIT offset count] — members in a lexicographical range",
        zrangebylex
    ),
    command!(
        "zrevrangebylex",
        -4,
        READONLY,
        1,
        1,
        1,
        "sorted-set",
        "ZREVRANGEBYLEX key max min [LIMIT offset count] — members in a lexicographical range, reversed",
        zrevrangebylex
    ),
    command!(
        "zrevrange",
        -4,
        READONLY,
        1,
        1,
        1,
        "sorted-set",
        "ZREVRANGE key start stop [WITHSCORES] — members by rank, high to low",
        zrevrange
    ),
    command!(
        "zrank",
        -3,
        READONLY | FAST,
        1,
        1,
        1,
        "sorted-set",
        "ZRANK key member [WITHSCORE] — a member's rank, low to high",
        zrank
    ),
    command!(
        "zrevrank",
        -3,
        READONLY | FAST,
        1,
        1,
        1,
        "sorted-set",
        "ZREVRANK key member [WITHSCORE] — a member's rank, high to low",
        zrevrank
    ),
    command!(
        "zremrangebyrank",
        4,
        WRITE,
        1,
        1,
        1,
        "sorted-set",
        "ZREMRANGEBYRANK key start stop — remove members in a rank range",
        zremrangebyrank
    ),
    command!(
        "zremrangebyscore",
        4,
        WRITE,
        1,
        1,
        1,
        "sorted-set",
        "ZREMRANGEBYSCORE key min max — remove members in a score range",
        zremrangebyscore
    ),
    command!(
        "zremrangebylex",
        4,
        WRITE,
        1,
        1,
        1,
        "sorted-set",
        "ZREMRANGEBYLEX key min max — remove members in a lexicographical range",
        zremrangebylex
    ),
    command!(
        "zpopmin",
        -2,
        WRITE | FAST,
        1,
        1,
        1,
        "sorted-set",
        "ZPOPMIN key [count] — remove and return the lowest-scored members",
        zpopmin
    ),
    command!(
        "zpopmax",
        -2,
        WRITE | FAST,
        1,
        1,
        1,
        "sorted-set",
        "ZPOPMAX key [count] — remove and return the highest-scored members",
        zpopmax
    ),
    command!(
        "bzpopmin",
        -3,
        WRITE | BLOCKING | FAST,
        1,
        -2,
        1,
        "sorted-set",
        "BZPOPMIN key [key ...] timeout — pop the lowest-scored member, waiting for one",
        bzpopmin
    ),
    command!(
        "bzpopmax",
        -3,
        WRITE | BLOCKING | FAST,
        1,
        -2,
        1,
        "sorted-set",
        "BZPOPMAX key [key ...] timeout — pop the highest-scored member, waiting for one",
        bzpopmax
    ),
    command!(
        "zmpop",
        -4,
        WRITE | MOVABLEKEYS,
        0,
        0,
        0,
        "sorted-set",
        "ZMPOP numkeys key [key ...] MIN|MAX [COUNT count] — pop from the first non-empty sorted set",
        zmpop
    ),
    command!(
        "bzmpop",
        -5,
        WRITE | BLOCKING | MOVABLEKEYS,
        0,
        0,
        0,
        "sorted-set",
        "BZMPOP timeout numkeys key [key ...] MIN|MAX [COUNT count] — ZMPOP, waiting for data",
        bzmpop
    ),
    command!(
        "zrandmember",
        -2,
        READONLY,
        1,
        1,
        1,
        "sorted-set",
        "ZRANDMEMBER key [count [WITHSCORES]] — random members",
        zrandmember
    ),
    command!(
        "zunion",
        -3,
        READONLY | MOVABLEKEYS,
        0,
        0,
        0,
        "sorted-set",
        "ZUNION numkeys key [key ...] [WEIGHTS w ...] [AGGREGATE SUM|MIN|MAX] [WITHSCORES] — union",
        zunion
    ),
    command!(
        "zinter",
        -3,
        READONLY | MOVABLEKEYS,
        0,
        0,
        0,
        "sorted-set",
        "ZINTER numkeys key [key ...] [WEIGHTS w ...] [AGGREGATE SUM|MIN|MAX] [WITHSCORES] — intersection",
        zinter
    ),
    command!(
        "zdiff",
        -3,
        READONLY | MOVABLEKEYS,
        0,
        0,
        0,
        "sorted-set",
        "ZDIFF numkeys key [key ...] [WITHSCORES] — members of the first set only",
        zdiff
    ),
    command!(
        "zunionstore",
        -4,
        WRITE | DENYOOM | MOVABLEKEYS,
        1,
        1,
        1,
        "sorted-set",
        "ZUNIONSTORE dst numkeys key [key ...] [WEIGHTS w ...] [AGGREGATE SUM|MIN|MAX] — store a union",
        zunionstore
    ),
    command!(
        "zinterstore",
        -4,
        WRITE | DENYOOM | MOVABLEKEYS,
        1,
        1,
        1,
        "sorted-set",
        "ZINTERSTORE dst numkeys key [key ...] [WEIGHTS w ...] [AGGREGATE SUM|MIN|MAX] — store an intersection",
        zinterstore
    ),
    command!(
        "zdiffstore",
        -4,
        WRITE | DENYOOM | MOVABLEKEYS,
        1,
        1,
        1,
        "sorted-set",
        "ZDIFFSTORE dst numkeys key [key ...] — store a difference",
        zdiffstore
    ),
    command!(
        "zintercard",
        -3,
        READONLY | MOVABLEKEYS,
        0,
        0,
        0,
        "sorted-set",
        "ZINTERCARD numkeys key [key ...] [LIMIT limit] — size of an intersection",
        zintercard
    ),
    command!(
        "zscan",
        -3,
        READONLY,
        1,
        1,
        1,
        "sorted-set",
        "ZSCAN key cursor [MATCH pattern] [COUNT count] — iterate members and scores",
        zscan
    ),
];

const NAN_SCORE: Frame = Frame::error("ERR resulting score is not a number (NaN)");
const BAD_SCORE_RANGE: Frame = Frame::error("ERR min or max is not a float");
const BAD_LEX_RANGE: Frame = Frame::error("ERR min or max not valid string range item");

// ---------------------------------------------------------------------------
// Parsing

/// Parses a whole text as C's `strtod` would: decimal or hexadecimal forms,
/// `inf`/`infinity` (any case, signed). Returns the value and whether it was
/// out of range (overflowed to infinity or underflowed to zero); `None` for
/// anything else, NaN included.
pub(super) fn strtod(s: &[u8]) -> Option<(f64, bool)> {
    let text = std::str::from_utf8(s).ok()?;
    let (neg, body) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    if body.is_empty() || body.starts_with(['+', '-']) {
        return None;
    }
    let lower = body.to_ascii_lowercase();
    let (v, erange) = if lower == "inf" || lower == "infinity" {
        (f64::INFINITY, false)
    } else if let Some(hex) = lower.strip_prefix("0x") {
        let v = parse_hex_float(hex)?;
        (v, v.is_infinite())
    } else {
        if !lower.bytes().all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'+' | b'-')) {
            return None;
        }
        let v: f64 = lower.parse().ok()?;
        let mantissa = lower.split('e').next().unwrap_or("");
        let underflow = v == 0.0 && mantissa.bytes().any(|c| (b'1'..=b'9').contains(&c));
        (v, v.is_infinite() || underflow)
    };
    Some((if neg { -v } else { v }, erange))
}

/// A C99 hexadecimal float body after `0x`: hex digits, an optional
/// fraction, an optional binary exponent `p[+-]N`.
fn parse_hex_float(s: &str) -> Option<f64> {
    let (mant, exp) = match s.split_once('p') {
        Some((m, e)) => (m, e.parse::<i32>().ok()?),
        None => (s, 0),
    };
    let (int, frac) = mant.split_once('.').unwrap_or((mant, ""));
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    let mut v = 0.0f64;
    for c in int.chars().chain(frac.chars()) {
        v = v * 16.0 + f64::from(c.to_digit(16)?);
    }
    let shift = exp.saturating_sub(4 * frac.len() as i32);
    Some(v * 2f64.powi(shift))
}

/// A score, increment or weight as Redis reads one: the whole text, no
/// leading space, no NaN, not out of range.
pub fn parse_score(s: &[u8]) -> Option<f64> {
    if s.first().is_some_and(|c| c.is_ascii_whitespace()) {
        return None;
    }
    match strtod(s) {
        Some((v, false)) => Some(v),
        _ => None,
    }
}

/// A bound of a score range: leading spaces and an empty text (zero) are
/// accepted, as `strtod` does.
fn parse_bound(s: &[u8]) -> Option<f64> {
    if s.is_empty() {
        return Some(0.0);
    }
    let start = s.iter().position(|c| !matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c))?;
    strtod(&s[start..]).map(|(v, _)| v)
}

/// A range of scores, each end inclusive or exclusive.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoreRange {
    min: f64,
    minex: bool,
    max: f64,
    maxex: bool,
}

impl ScoreRange {
    /// Parses `min max` (`(` marks an exclusive end; `-inf`/`+inf` work).
    pub fn parse(min: &[u8], max: &[u8]) -> Result<ScoreRange, Frame> {
        fn one(s: &[u8]) -> Option<(f64, bool)> {
            match s.strip_prefix(b"(") {
                Some(rest) => Some((parse_bound(rest)?, true)),
                None => Some((parse_bound(s)?, false)),
            }
        }
        let (min, minex) = one(min).ok_or(BAD_SCORE_RANGE)?;
        let (max, maxex) = one(max).ok_or(BAD_SCORE_RANGE)?;
        Ok(ScoreRange { min, minex, max, maxex })
    }

    /// The ascending rank window `lo..hi` of the members in range.
    pub fn ranks(&self, z: &ZSet) -> (usize, usize) {
        let lo = z.count_while(|s, _| if self.minex { s <= self.min } else { s < self.min });
        let hi = z.count_while(|s, _| if self.maxex { s < self.max } else { s <= self.max });
        (lo, hi.max(lo))
    }
}

/// One end of a lexicographical range.
#[derive(Debug, Clone, PartialEq)]
enum LexBound {
    /// `-`: below everything.
    Min,
    /// `+`: above everything.
    Max,
    /// `[x`.
    Incl(Bytes),
    /// `(x`.
    Excl(Bytes),
}

impl LexBound {
    fn parse(s: &Bytes) -> Option<LexBound> {
        match s.first()? {
            b'-' if s.len() == 1 => Some(LexBound::Min),
            b'+' if s.len() == 1 => Some(LexBound::Max),
            b'[' => Some(LexBound::Incl(s.slice(1..))),
            b'(' => Some(LexBound::Excl(s.slice(1..))),
            _ => None,
        }
    }
}

/// A lexicographical range of members (meaningful when all scores are equal).
#[derive(Debug, Clone, PartialEq)]
pub struct LexRange {
    min: LexBound,
    max: LexBound,
}

impl LexRange {
    /// Parses `min max` (`[x` inclusive, `(x` exclusive, `-`, `+`).
    pub fn parse(min: &Bytes, max: &Bytes) -> Result<LexRange, Frame> {
        let min = LexBound::parse(min).ok_or(BAD_LEX_RANGE)?;
        let max = LexBound::parse(max).ok_or(BAD_LEX_RANGE)?;
        Ok(LexRange { min, max })
    }

    /// Whether `m` is at or above the lower bound.
    fn gte_min(&self, m: &[u8]) -> bool {
        match &self.min {
            LexBound::Min => true,
            LexBound::Max => false,
            LexBound::Incl(x) => m >= &x[..],
            LexBound::Excl(x) => m > &x[..],
        }
    }

    /// Whether `m` is at or below the upper bound.
    fn lte_max(&self, m: &[u8]) -> bool {
        match &self.max {
            LexBound::Min => false,
            LexBound::Max => true,
            LexBound::Incl(x) => m <= &x[..],
            LexBound::Excl(x) => m < &x[..],
        }
    }

    /// Whether the bounds themselves leave room for a member (Redis's
    /// `zslIsInLexRange` check on the range alone).
    fn possible(&self) -> bool {
        use LexBound::*;
        let (min, max) = (&self.min, &self.max);
        // `-` and `+` count as exclusive, like Redis's shared min/max strings.
        let (mx, xx) = (!matches!(min, Incl(_)), !matches!(max, Incl(_)));
        let ord = match (min, max) {
            (Min, Min) | (Max, Max) => std::cmp::Ordering::Equal,
            (Min, _) | (_, Max) => std::cmp::Ordering::Less,
            (Max, _) | (_, Min) => std::cmp::Ordering::Greater,
            (Incl(a) | Excl(a), Incl(b) | Excl(b)) => a.cmp(b),
        };
        ord.is_lt() || (ord.is_eq() && !mx && !xx)
    }

    /// The rank window `lo..hi` of the members in range, walked in ascending
    /// (`rev == false`) or descending order.
    ///
    /// When all scores are equal the members are in lexicographical order and
    /// this is a binary search. Otherwise Redis leaves the result unspecified;
    /// this then walks the members in score order the way Redis does for
    /// small sorted sets (`zzlFirstInLexRange`/`zzlLastInLexRange`): it
    /// starts at the first member past the near bound and stops at the first
    /// member past the far one.
    pub fn ranks(&self, z: &ZSet, rev: bool) -> (usize, usize) {
        let n = z.len();
        if same_scores(z) {
            let lo = z.count_while(|_, m| !self.gte_min(m));
            let hi = z.count_while(|_, m| self.lte_max(m));
            return (lo, hi.max(lo));
        }
        let members: Vec<&[u8]> = z.iter().map(|(m, _)| m).collect();
        if !self.possible() || !self.gte_min(members[n - 1]) || !self.lte_max(members[0]) {
            return (0, 0);
        }
        if rev {
            let Some(end) = members.iter().rposition(|m| self.lte_max(m)) else { return (0, 0) };
            if !self.gte_min(members[end]) {
                return (0, 0);
            }
            let lo = members[..end].iter().rposition(|m| !self.gte_min(m)).map_or(0, |i| i + 1);
            (lo, end + 1)
        } else {
            let Some(lo) = members.iter().position(|m| self.gte_min(m)) else { return (0, 0) };
            if !self.lte_max(members[lo]) {
                return (0, 0);
            }
            let hi = members[lo..].iter().position(|m| !self.lte_max(m)).map_or(n, |i| lo + i);
            (lo, hi)
        }
    }
}

/// Whether all members of `z` have the same score (so that score order is
/// also lexicographical order).
fn same_scores(z: &ZSet) -> bool {
    match (z.get_by_rank(0), z.len().checked_sub(1).and_then(|i| z.get_by_rank(i))) {
        (Some((_, a)), Some((_, b))) => a == b,
        _ => true,
    }
}

/// `ZRANGE ... BYLEX [REV] LIMIT offset count` over unequal scores, as Redis
/// walks a small sorted set: from the first member in range (in the walk's
/// direction), `offset` members are skipped without looking at them, then
/// members are taken while they are within the far bound.
fn lex_walk_mixed(r: &LexRange, z: &ZSet, rev: bool, offset: usize, limit: i64) -> Vec<(Bytes, f64)> {
    let (lo, hi) = r.ranks(z, rev);
    if lo >= hi {
        return Vec::new();
    }
    let all = owned(z.iter());
    let take = if limit < 0 { usize::MAX } else { limit as usize };
    if rev {
        let Some(start) = (hi - 1).checked_sub(offset) else { return Vec::new() };
        all[..=start].iter().rev().take_while(|(m, _)| r.gte_min(m)).take(take).cloned().collect()
    } else {
        let start = lo.saturating_add(offset).min(all.len());
        all[start..].iter().take_while(|(m, _)| r.lte_max(m)).take(take).cloned().collect()
    }
}

/// Normalizes Redis rank arguments (negative counts from the end) into an
/// inclusive ascending window, or `None` when it is empty.
fn rank_window(start: i64, end: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    let mut start = if start < 0 { start.saturating_add(len) } else { start };
    let mut end = if end < 0 { end.saturating_add(len) } else { end };
    if start < 0 {
        start = 0;
    }
    if start > end || start >= len {
        return None;
    }
    if end >= len {
        end = len - 1;
    }
    Some((start as usize, end as usize))
}

// ---------------------------------------------------------------------------
// Lookups and replies

/// The sorted set at `key` for a read: `Ok(None)` if absent.
fn read_zset<'c>(ctx: &'c mut Ctx, key: &[u8]) -> Result<Option<&'c ZSet>, Frame> {
    match ctx.lookup_read(key).map(|e| &e.value) {
        None => Ok(None),
        Some(Value::ZSet(z)) => Ok(Some(z)),
        Some(_) => Err(WRONGTYPE),
    }
}

/// The sorted set at `key` for a write: `Ok(None)` if absent.
fn write_zset<'c>(ctx: &'c mut Ctx, key: &[u8]) -> Result<Option<&'c ZSet>, Frame> {
    match ctx.lookup(key).map(|e| &e.value) {
        None => Ok(None),
        Some(Value::ZSet(z)) => Ok(Some(z)),
        Some(_) => Err(WRONGTYPE),
    }
}

/// The sorted set at `key` without expiry or statistics (for a second look
/// at a key this command already looked up).
fn peek_zset<'c>(ctx: &'c Ctx, key: &[u8]) -> Option<&'c ZSet> {
    match ctx.ks.dbs[ctx.db() as usize].get(key).map(|e| &e.value) {
        Some(Value::ZSet(z)) => Some(z),
        _ => None,
    }
}

/// Copies of members read from a sorted set, for a reply or a result.
fn owned<'a>(it: impl Iterator<Item = (&'a [u8], f64)>) -> Vec<(Bytes, f64)> {
    it.map(|(m, s)| (Bytes::copy_from_slice(m), s)).collect()
}

/// Members, optionally with scores: flat in RESP2, `[member, score]` pairs
/// in RESP3.
fn members_reply(proto: Protocol, items: Vec<(Bytes, f64)>, withscores: bool) -> Frame {
    if !withscores {
        return Frame::bulk_array(items.iter().map(|(m, _)| &m[..]));
    }
    if proto == Protocol::Resp3 {
        Frame::Array(items.into_iter().map(|(m, s)| Frame::Array(vec![Frame::Bulk(m), Frame::Double(s)])).collect())
    } else {
        Frame::Array(items.into_iter().flat_map(|(m, s)| [Frame::Bulk(m), Frame::Double(s)]).collect())
    }
}

/// `[member, score]` pairs whatever the protocol.
fn pairs_reply(items: Vec<(Bytes, f64)>) -> Frame {
    Frame::Array(items.into_iter().map(|(m, s)| Frame::Array(vec![Frame::Bulk(m), Frame::Double(s)])).collect())
}

/// Removes `members` from `key` with the `event` notification, and `del`
/// when the set is left empty.
fn remove_members(ctx: &mut Ctx, key: &Bytes, members: Vec<Bytes>, event: &'static str) {
    if members.is_empty() {
        return;
    }
    let db = ctx.db();
    ctx.apply(Effect::ZRem { db, key: key.clone(), members });
    ctx.notify('z', event, key);
    if ctx.ks.dbs[db as usize].get(key).is_none() {
        ctx.notify('g', "del", key);
    }
}

/// Stores `result` at `dst` (replacing it, expiry cleared), or deletes
/// `dst` when the result is empty; replies with the stored size.
fn store_result(ctx: &mut Ctx, dst: &Bytes, result: ZSet, event: &'static str) -> CmdResult {
    let db = ctx.db();
    let n = result.len() as i64;
    if n > 0 {
        ctx.apply(Effect::Put { db, key: dst.clone(), value: Value::ZSet(result), expire: ExpireChange::Clear });
        ctx.notify('z', event, dst);
    } else {
        ctx.delete_destination(dst);
    }
    Ok(Frame::Integer(n))
}

// ---------------------------------------------------------------------------
// ZADD, ZINCRBY, ZREM

/// `ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...]`
fn zadd(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    zadd_generic(ctx, args, false)
}

/// `ZINCRBY key increment member`
fn zincrby(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    zadd_generic(ctx, args, true)
}

fn zadd_generic(ctx: &mut Ctx, args: &mut Args, mut incr: bool) -> CmdResult {
    let key = args.next_bytes()?.clone();
    let (mut nx, mut xx, mut gt, mut lt, mut ch) = (false, false, false, false, false);
    loop {
        if args.eat("nx") {
            nx = true;
        } else if args.eat("xx") {
            xx = true;
        } else if args.eat("ch") {
            ch = true;
        } else if args.eat("incr") {
            incr = true;
        } else if args.eat("gt") {
            gt = true;
        } else if args.eat("lt") {
            lt = true;
        } else {
            break;
        }
    }
    let rest = args.rest();
    if rest.is_empty() || !rest.len().is_multiple_of(2) {
        return Err(SYNTAX);
    }
    if nx && xx {
        return Err(Frame::error("ERR XX and NX options at the same time are not compatible"));
    }
    if (nx && (gt || lt)) || (gt && lt) {
        return Err(Frame::error("ERR GT, LT, and/or NX options at the same time are not compatible"));
    }
    if incr && rest.len() > 2 {
        return Err(Frame::error("ERR INCR option supports a single increment-element pair"));
    }
    let pairs = rest
        .chunks(2)
        .map(|p| parse_score(&p[0]).map(|s| (s, &p[1])).ok_or(NOT_FLOAT))
        .collect::<Result<Vec<_>, _>>()?;

    let db = ctx.db();
    let existing = write_zset(ctx, &key)?;
    if existing.is_none() && xx {
        // No key and XX: nothing to do.
        return Ok(if incr { Frame::Null } else { Frame::Integer(0) });
    }
    // Scores set earlier in this same command (a member may repeat).
    let mut pending: HashMap<&Bytes, f64> = HashMap::default();
    let mut changes = Vec::new();
    let (mut added, mut updated, mut processed, mut last) = (0i64, 0i64, 0, 0.0);
    for (score, member) in pairs {
        let cur = pending.get(member).copied().or_else(|| existing.and_then(|z| z.score(member)));
        let new = match cur {
            Some(cur) => {
                if nx {
                    continue;
                }
                let new = if incr { cur + score } else { score };
                if new.is_nan() {
                    return Err(NAN_SCORE);
                }
                if (gt && new <= cur) || (lt && new >= cur) {
                    continue;
                }
                processed += 1;
                last = new;
                if new == cur {
                    continue;
                }
                updated += 1;
                new
            }
            None => {
                if xx {
                    continue;
                }
                processed += 1;
                last = score;
                added += 1;
                score
            }
        };
        pending.insert(member, new);
        changes.push((new, member.clone()));
    }
    if !changes.is_empty() {
        ctx.apply(Effect::ZAdd { db, key: key.clone(), pairs: changes });
        ctx.notify('z', if incr { "zincr" } else { "zadd" }, &key);
    }
    Ok(if incr {
        if processed > 0 { Frame::Double(last) } else { Frame::Null }
    } else {
        Frame::Integer(if ch { added + updated } else { added })
    })
}

/// `ZREM key member [member ...]`
fn zrem(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?.clone();
    let Some(z) = write_zset(ctx, &key)? else { return Ok(Frame::Integer(0)) };
    let members = distinct(args.rest(), |m| z.score(m).is_some());
    let n = members.len() as i64;
    remove_members(ctx, &key, members, "zrem");
    Ok(Frame::Integer(n))
}

// ---------------------------------------------------------------------------
// Reads

/// `ZSCORE key member`
fn zscore(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let member = args.next_bytes()?;
    Ok(read_zset(ctx, key)?.and_then(|z| z.score(member)).map_or(Frame::Null, Frame::Double))
}

/// `ZMSCORE key member [member ...]`
fn zmscore(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let z = read_zset(ctx, key)?;
    Ok(Frame::Array(
        args.rest().iter().map(|m| z.and_then(|z| z.score(m)).map_or(Frame::Null, Frame::Double)).collect(),
    ))
}

/// `ZCARD key`
fn zcard(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    Ok(Frame::Integer(read_zset(ctx, key)?.map_or(0, |z| z.len() as i64)))
}

/// `ZCOUNT key min max`
fn zcount(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let range = ScoreRange::parse(args.next_bytes()?, args.next_bytes()?)?;
    let n = read_zset(ctx, key)?.map_or(0, |z| {
        let (lo, hi) = range.ranks(z);
        hi - lo
    });
    Ok(Frame::Integer(n as i64))
}

/// `ZLEXCOUNT key min max`
fn zlexcount(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let range = LexRange::parse(args.next_bytes()?, args.next_bytes()?)?;
    let n = read_zset(ctx, key)?.map_or(0, |z| {
        let (lo, hi) = range.ranks(z, false);
        hi - lo
    });
    Ok(Frame::Integer(n as i64))
}

/// `ZRANK key member [WITHSCORE]`
fn zrank(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    rank_generic(ctx, args, false, "zrank")
}

/// `ZREVRANK key member [WITHSCORE]`
fn zrevrank(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    rank_generic(ctx, args, true, "zrevrank")
}

fn rank_generic(ctx: &mut Ctx, args: &mut Args, rev: bool, name: &str) -> CmdResult {
    let key = args.next_bytes()?;
    let member = args.next_bytes()?;
    if args.remaining() > 1 {
        return Err(wrong_arity(name));
    }
    let withscore = match args.remaining() {
        0 => false,
        _ if args.eat("withscore") => true,
        _ => return Err(SYNTAX),
    };
    let none = if withscore { Frame::NullArray } else { Frame::Null };
    let Some(z) = read_zset(ctx, key)? else { return Ok(none) };
    let (Some(rank), Some(score)) = (z.rank(member), z.score(member)) else { return Ok(none) };
    let rank = if rev { z.len() - 1 - rank } else { rank } as i64;
    Ok(if withscore { Frame::Array(vec![Frame::Integer(rank), Frame::Double(score)]) } else { Frame::Integer(rank) })
}

// ---------------------------------------------------------------------------
// The ZRANGE family

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum By {
    Rank,
    Score,
    Lex,
}

/// How a range command was called: its fixed range type and direction
/// (`None`: chosen by the `BYSCORE`/`BYLEX`/`REV` options).
#[derive(Debug, Clone, Copy)]
struct RangeCall {
    by: Option<By>,
    rev: Option<bool>,
}

/// `ZRANGE key start stop [BYSCORE|BYLEX] [REV] [LIMIT offset count] [WITHSCORES]`
fn zrange(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    range_generic(ctx, args, None, RangeCall { by: None, rev: None })
}

/// `ZRANGESTORE dst src min max [BYSCORE|BYLEX] [REV] [LIMIT offset count]`
fn zrangestore(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let dst = args.next_bytes()?.clone();
    range_generic(ctx, args, Some(dst), RangeCall { by: None, rev: None })
}

/// `ZRANGEBYSCORE key min max [WITHSCORES] [LIMIT offset count]`
fn zrangebyscore(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    range_generic(ctx, args, None, RangeCall { by: Some(By::Score), rev: Some(false) })
}

/// `ZREVRANGEBYSCORE key max min [WITHSCORES] [LIMIT offset count]`
fn zrevrangebyscore(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    range_generic(ctx, args, None, RangeCall { by: Some(By::Score), rev: Some(true) })
}

/// `ZRANGEBYLEX key min max [LIMIT offset count]`
fn zrangebylex(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    range_generic(ctx, args, None, RangeCall { by: Some(By::Lex), rev: Some(false) })
}

/// `ZREVRANGEBYLEX key max min [LIMIT offset count]`
fn zrevrangebylex(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    range_generic(ctx, args, None, RangeCall { by: Some(By::Lex), rev: Some(true) })
}

/// `ZREVRANGE key start stop [WITHSCORES]`
fn zrevrange(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    range_generic(ctx, args, None, RangeCall { by: Some(By::Rank), rev: Some(true) })
}

/// The parsed range of a range command.
enum Range {
    Rank(i64, i64),
    Score(ScoreRange),
    Lex(LexRange),
}

/// Selects the members of `z` in `range`, in the requested direction, with
/// `LIMIT offset count` applied (score and lex ranges only).
fn select(z: &ZSet, range: &Range, rev: bool, offset: i64, limit: i64) -> Vec<(Bytes, f64)> {
    let (lo, hi) = match range {
        Range::Rank(start, end) => {
            let Some((a, b)) = rank_window(*start, *end, z.len()) else { return Vec::new() };
            return if rev {
                let n = z.len() - 1;
                owned(z.range(n - b, n - a + 1).rev())
            } else {
                owned(z.range(a, b + 1))
            };
        }
        Range::Score(r) => r.ranks(z),
        Range::Lex(r) => r.ranks(z, rev),
    };
    if offset < 0 {
        return Vec::new();
    }
    if let Range::Lex(r) = range
        && !same_scores(z)
    {
        return lex_walk_mixed(r, z, rev, offset as usize, limit);
    }
    let count = hi - lo;
    let skip = (offset as u64).min(count as u64) as usize;
    let take = if limit < 0 { count - skip } else { (limit as u64).min((count - skip) as u64) as usize };
    if rev { owned(z.range(lo, hi - skip).rev().take(take)) } else { owned(z.range(lo + skip, hi).take(take)) }
}

fn range_generic(ctx: &mut Ctx, args: &mut Args, store: Option<Bytes>, call: RangeCall) -> CmdResult {
    let key = args.next_bytes()?.clone();
    let mut a = args.next_bytes()?;
    let mut b = args.next_bytes()?;
    let (mut by, mut rev) = (call.by, call.rev);
    let (mut withscores, mut offset, mut limit) = (false, 0i64, -1i64);
    while !args.is_empty() {
        if store.is_none() && args.eat("withscores") {
            withscores = true;
        } else if args.remaining() >= 3 && args.eat("limit") {
            offset = args.next_i64()?;
            limit = args.next_i64()?;
        } else if rev.is_none() && args.eat("rev") {
            rev = Some(true);
        } else if by.is_none() && args.eat("bylex") {
            by = Some(By::Lex);
        } else if by.is_none() && args.eat("byscore") {
            by = Some(By::Score);
        } else {
            return Err(SYNTAX);
        }
    }
    let by = by.unwrap_or(By::Rank);
    let rev = rev.unwrap_or(false);
    if limit != -1 && by == By::Rank {
        return Err(Frame::error(
            "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX",
        ));
    }
    if withscores && by == By::Lex {
        return Err(Frame::error("ERR syntax error, WITHSCORES not supported in combination with BYLEX"));
    }
    if rev && by != By::Rank {
        std::mem::swap(&mut a, &mut b);
    }
    let range = match by {
        By::Rank => Range::Rank(parse_i64(a).ok_or(NOT_INT)?, parse_i64(b).ok_or(NOT_INT)?),
        By::Score => Range::Score(ScoreRange::parse(a, b)?),
        By::Lex => Range::Lex(LexRange::parse(a, b)?),
    };
    let items = match read_zset(ctx, &key)? {
        Some(z) => select(z, &range, rev, offset, limit),
        None => Vec::new(),
    };
    match store {
        Some(dst) => store_result(ctx, &dst, ZSet::from_unique(items), "zrangestore"),
        None => Ok(members_reply(ctx.session.proto, items, withscores)),
    }
}

// ---------------------------------------------------------------------------
// ZREMRANGEBY*

/// `ZREMRANGEBYRANK key start stop`
fn zremrangebyrank(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?.clone();
    let start = args.next_i64()?;
    let end = args.next_i64()?;
    remrange(ctx, &key, Range::Rank(start, end), "zremrangebyrank")
}

/// `ZREMRANGEBYSCORE key min max`
fn zremrangebyscore(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?.clone();
    let range = ScoreRange::parse(args.next_bytes()?, args.next_bytes()?)?;
    remrange(ctx, &key, Range::Score(range), "zremrangebyscore")
}

/// `ZREMRANGEBYLEX key min max`
fn zremrangebylex(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?.clone();
    let range = LexRange::parse(args.next_bytes()?, args.next_bytes()?)?;
    remrange(ctx, &key, Range::Lex(range), "zremrangebylex")
}

fn remrange(ctx: &mut Ctx, key: &Bytes, range: Range, event: &'static str) -> CmdResult {
    let Some(z) = write_zset(ctx, key)? else { return Ok(Frame::Integer(0)) };
    let members: Vec<Bytes> = select(z, &range, false, 0, -1).into_iter().map(|(m, _)| m).collect();
    let n = members.len() as i64;
    remove_members(ctx, key, members, event);
    Ok(Frame::Integer(n))
}

// ---------------------------------------------------------------------------
// Pops

/// A popped key and its members with scores.
type Popped = (Bytes, Vec<(Bytes, f64)>);

/// Pops up to `count` members from the first non-empty sorted set among
/// `keys` (`WRONGTYPE` for a non-zset met before it). Returns the key and
/// the popped members in pop order.
fn pop_first(ctx: &mut Ctx, keys: &[Bytes], max: bool, count: usize) -> Result<Option<Popped>, Frame> {
    let woken = ctx.woken;
    for key in keys {
        let z = match write_zset(ctx, key) {
            Ok(Some(z)) => z,
            Ok(None) => continue,
            // A waiter woken by a key that gained another type waits on, as
            // in Redis (only a first run reports it).
            Err(_) if woken => continue,
            Err(e) => return Err(e),
        };
        if z.is_empty() {
            continue;
        }
        let n = count.min(z.len());
        let items = if max { owned(z.iter().rev().take(n)) } else { owned(z.iter().take(n)) };
        let members = items.iter().map(|(m, _)| m.clone()).collect();
        remove_members(ctx, key, members, if max { "zpopmax" } else { "zpopmin" });
        return Ok(Some((key.clone(), items)));
    }
    Ok(None)
}

/// `ZPOPMIN key [count]`
fn zpopmin(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    zpop(ctx, args, false)
}

/// `ZPOPMAX key [count]`
fn zpopmax(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    zpop(ctx, args, true)
}

fn zpop(ctx: &mut Ctx, args: &mut Args, max: bool) -> CmdResult {
    let key = args.next_bytes()?.clone();
    if args.remaining() > 1 {
        return Err(SYNTAX);
    }
    let count = match args.remaining() {
        0 => None,
        _ => {
            let n = parse_i64(args.next_bytes()?)
                .filter(|n| *n >= 0)
                .ok_or(Frame::error("ERR value is out of range, must be positive"))?;
            if n == 0 {
                // Redis checks the key's type before it looks at a zero count.
                write_zset(ctx, &key)?;
                return Ok(Frame::Array(Vec::new()));
            }
            Some(n as usize)
        }
    };
    let nested = count.is_some() && ctx.session.proto == Protocol::Resp3;
    match pop_first(ctx, std::slice::from_ref(&key), max, count.unwrap_or(1))? {
        None => Ok(Frame::Array(Vec::new())),
        Some((_, items)) if nested => Ok(pairs_reply(items)),
        Some((_, items)) => Ok(members_reply(Protocol::Resp2, items, true)),
    }
}

/// `BZPOPMIN key [key ...] timeout`
fn bzpopmin(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    bzpop(ctx, args, false)
}

/// `BZPOPMAX key [key ...] timeout`
fn bzpopmax(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    bzpop(ctx, args, true)
}

fn bzpop(ctx: &mut Ctx, args: &mut Args, max: bool) -> CmdResult {
    let all = args.rest();
    let (timeout, keys) = all.split_last().ok_or(SYNTAX)?;
    let timeout = parse_timeout(timeout, ctx.now_ms)?;
    match pop_first(ctx, keys, max, 1)? {
        Some((key, mut items)) => {
            note_handed(ctx, &key, &items);
            let (m, s) = items.remove(0);
            Ok(Frame::Array(vec![Frame::Bulk(key), Frame::Bulk(m), Frame::Double(s)]))
        }
        None => Ok(block_on(ctx, keys, timeout)),
    }
}

/// Asks the broker to park the client on `keys` (or, inside `EXEC`,
/// answers as a timeout would).
fn block_on(ctx: &mut Ctx, keys: &[Bytes], timeout: Option<u64>) -> Frame {
    if !ctx.in_exec {
        ctx.block = Some(Block {
            keys: keys.to_vec(),
            deadline_ms: timeout.map(|ms| ctx.now_ms.saturating_add(ms)),
            on_timeout: Frame::NullArray,
        });
    }
    Frame::NullArray
}

/// Parses `numkeys key [key ...] MIN|MAX [COUNT count]` (ZMPOP, BZMPOP).
fn parse_mpop<'a>(args: &mut Args<'a>) -> Result<(&'a [Bytes], bool, usize), Frame> {
    const NUMKEYS: Frame = Frame::error("ERR numkeys should be greater than 0");
    let numkeys = parse_i64(args.next_bytes()?).filter(|n| *n >= 1).ok_or(NUMKEYS)? as u64;
    let rest = args.rest();
    if numkeys >= rest.len() as u64 {
        return Err(SYNTAX);
    }
    let keys = &rest[..numkeys as usize];
    // A cursor over what follows the keys (`Args` skips its first item).
    let mut args = Args::new(&rest[numkeys as usize - 1..]);
    let max = super::args::one_of(args.next_bytes()?, "max", "min")?;
    let mut count = None;
    while !args.is_empty() {
        if count.is_none() && args.remaining() >= 2 && args.eat("count") {
            const COUNT: Frame = Frame::error("ERR count should be greater than 0");
            count = Some(parse_i64(args.next_bytes()?).filter(|n| *n >= 1).ok_or(COUNT)? as usize);
        } else {
            return Err(SYNTAX);
        }
    }
    Ok((keys, max, count.unwrap_or(1)))
}

fn mpop_reply(found: Option<Popped>) -> Option<Frame> {
    found.map(|(key, items)| Frame::Array(vec![Frame::Bulk(key), pairs_reply(items)]))
}

/// `ZMPOP numkeys key [key ...] MIN|MAX [COUNT count]`
fn zmpop(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let (keys, max, count) = parse_mpop(args)?;
    Ok(mpop_reply(pop_first(ctx, keys, max, count)?).unwrap_or(Frame::NullArray))
}

/// `BZMPOP timeout numkeys key [key ...] MIN|MAX [COUNT count]`
fn bzmpop(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let timeout = args.next_bytes()?;
    let (keys, max, count) = parse_mpop(args)?;
    let timeout = parse_timeout(timeout, ctx.now_ms)?;
    let popped = pop_first(ctx, keys, max, count)?;
    if let Some((key, items)) = &popped {
        note_handed(ctx, key, items);
    }
    match mpop_reply(popped) {
        Some(f) => Ok(f),
        None => Ok(block_on(ctx, keys, timeout)),
    }
}

/// Notes that a blocking pop handed `items` of `key` to the client, so the
/// broker can put them back if the reply is never delivered (not inside
/// `EXEC`: a transaction is not given back in part).
fn note_handed(ctx: &mut Ctx, key: &Bytes, items: &[(Bytes, f64)]) {
    if ctx.in_exec {
        return;
    }
    let db = ctx.db();
    let pairs = items.iter().map(|(m, s)| (*s, m.clone())).collect();
    ctx.handback.push(Effect::ZAdd { db, key: key.clone(), pairs });
}

// ---------------------------------------------------------------------------
// ZRANDMEMBER

/// `ZRANDMEMBER key [count [WITHSCORES]]`
fn zrandmember(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    if args.is_empty() {
        let Some(n) = read_zset(ctx, key)?.map(ZSet::len) else { return Ok(Frame::Null) };
        let r = ctx.server.random_below(n);
        let member = peek_zset(ctx, key).and_then(|z| z.get_by_rank(r)).map(|(m, _)| Bytes::copy_from_slice(m));
        return Ok(Frame::bulk_or_null(member));
    }
    let l = args.next_i64()?;
    if l == i64::MIN {
        return Err(Frame::error(
            "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807",
        ));
    }
    let withscores = match args.remaining() {
        0 => false,
        1 if args.eat("withscores") => true,
        _ => return Err(SYNTAX),
    };
    if withscores && !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&l) {
        return Err(Frame::error("ERR value is out of range"));
    }
    // A reply of more elements than this could never be built in memory;
    // refuse it rather than take the whole server down (a positive count
    // is at most the whole set).
    if l < 0 && l.unsigned_abs() > super::hash::MAX_RANDOM_REPLY {
        return Err(Frame::error("ERR value is out of range"));
    }
    let proto = ctx.session.proto;
    let Some(len) = read_zset(ctx, key)?.map(ZSet::len) else { return Ok(Frame::Array(Vec::new())) };
    if l == 0 {
        return Ok(Frame::Array(Vec::new()));
    }
    let ranks: Vec<usize> = if l < 0 {
        (0..l.unsigned_abs()).map(|_| ctx.server.random_below(len)).collect()
    } else if l as u64 >= len as u64 {
        // The whole set, walked from the highest score as Redis does.
        (0..len).rev().collect()
    } else {
        let want = l as usize;
        if want * 3 > len {
            // Partial Fisher-Yates over all ranks.
            let mut all: Vec<usize> = (0..len).collect();
            for i in 0..want {
                let j = i + ctx.server.random_below(len - i);
                all.swap(i, j);
            }
            all.truncate(want);
            all
        } else {
            let mut picked = HashSet::default();
            let mut out = Vec::with_capacity(want);
            while out.len() < want {
                let r = ctx.server.random_below(len);
                if picked.insert(r) {
                    out.push(r);
                }
            }
            out
        }
    };
    let Some(z) = peek_zset(ctx, key) else { return Ok(Frame::Array(Vec::new())) };
    let items =
        ranks.into_iter().filter_map(|r| z.get_by_rank(r).map(|(m, s)| (Bytes::copy_from_slice(m), s))).collect();
    Ok(members_reply(proto, items, withscores))
}

// ---------------------------------------------------------------------------
// ZUNION, ZINTER, ZDIFF and their STORE forms, ZINTERCARD

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SetOp {
    Union,
    Inter,
    Diff,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Aggregate {
    Sum,
    Min,
    Max,
}

impl Aggregate {
    fn apply(self, acc: &mut f64, v: f64) {
        match self {
            Aggregate::Sum => {
                *acc += v;
                if acc.is_nan() {
                    *acc = 0.0;
                }
            }
            Aggregate::Min => *acc = acc.min(v),
            Aggregate::Max => *acc = acc.max(v),
        }
    }
}

/// One input of a set operation.
enum Src<'a> {
    Missing,
    Z(&'a ZSet),
    S(&'a Set),
}

impl Src<'_> {
    fn len(&self) -> usize {
        match self {
            Src::Missing => 0,
            Src::Z(z) => z.len(),
            Src::S(s) => s.len(),
        }
    }

    fn score(&self, m: &[u8]) -> Option<f64> {
        match self {
            Src::Missing => None,
            Src::Z(z) => z.score(m),
            Src::S(s) => s.contains(m).then_some(1.0),
        }
    }

    fn for_each(&self, mut f: impl FnMut(&[u8], f64)) {
        match self {
            Src::Missing => {}
            Src::Z(z) => z.iter().for_each(|(m, s)| f(m, s)),
            Src::S(s) => s.iter().for_each(|m| f(m, 1.0)),
        }
    }
}

/// `ZUNION numkeys key [key ...] [WEIGHTS weight ...] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]`
fn zunion(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    setop_generic(ctx, args, SetOp::Union, None, "zunion")
}

/// `ZINTER numkeys key [key ...] [WEIGHTS weight ...] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]`
fn zinter(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    setop_generic(ctx, args, SetOp::Inter, None, "zinter")
}

/// `ZDIFF numkeys key [key ...] [WITHSCORES]`
fn zdiff(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    setop_generic(ctx, args, SetOp::Diff, None, "zdiff")
}

/// `ZUNIONSTORE destination numkeys key [key ...] [WEIGHTS weight ...] [AGGREGATE SUM|MIN|MAX]`
fn zunionstore(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let dst = args.next_bytes()?.clone();
    setop_generic(ctx, args, SetOp::Union, Some(dst), "zunionstore")
}

/// `ZINTERSTORE destination numkeys key [key ...] [WEIGHTS weight ...] [AGGREGATE SUM|MIN|MAX]`
fn zinterstore(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let dst = args.next_bytes()?.clone();
    setop_generic(ctx, args, SetOp::Inter, Some(dst), "zinterstore")
}

/// `ZDIFFSTORE destination numkeys key [key ...]`
fn zdiffstore(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let dst = args.next_bytes()?.clone();
    setop_generic(ctx, args, SetOp::Diff, Some(dst), "zdiffstore")
}

/// `ZINTERCARD numkeys key [key ...] [LIMIT limit]`
fn zintercard(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    setop_generic(ctx, args, SetOp::Inter, None, "zintercard")
}

/// Reads `numkeys key [key ...]` and checks each key holds a sorted set or
/// a set (expiring keys on the way).
fn setop_keys<'a>(ctx: &mut Ctx, args: &mut Args<'a>, name: &str) -> Result<&'a [Bytes], Frame> {
    let numkeys = args.next_i64()?;
    if numkeys < 1 {
        return Err(Frame::error_owned(format!("ERR at least 1 input key is needed for '{name}' command")));
    }
    if numkeys as u64 > args.remaining() as u64 {
        return Err(SYNTAX);
    }
    let keys = &args.peek_rest()[..numkeys as usize];
    for _ in keys {
        args.next_bytes()?;
    }
    for key in keys {
        if let Some(e) = ctx.lookup_read(key)
            && !matches!(e.value, Value::ZSet(_) | Value::Set(_))
        {
            return Err(WRONGTYPE);
        }
    }
    Ok(keys)
}

fn setop_generic(ctx: &mut Ctx, args: &mut Args, op: SetOp, dst: Option<Bytes>, name: &str) -> CmdResult {
    let card_only = name == "zintercard";
    let keys = setop_keys(ctx, args, name)?;
    let mut weights = vec![1.0; keys.len()];
    let (mut aggregate, mut withscores, mut limit) = (Aggregate::Sum, false, 0usize);
    while !args.is_empty() {
        let plain = op != SetOp::Diff && !card_only;
        if plain && args.remaining() > keys.len() && args.eat("weights") {
            for w in weights.iter_mut() {
                *w = parse_score(args.next_bytes()?).ok_or(Frame::error("ERR weight value is not a float"))?;
            }
        } else if plain && args.remaining() >= 2 && args.eat("aggregate") {
            aggregate = if args.eat("sum") {
                Aggregate::Sum
            } else if args.eat("min") {
                Aggregate::Min
            } else if args.eat("max") {
                Aggregate::Max
            } else {
                return Err(SYNTAX);
            };
        } else if dst.is_none() && !card_only && args.eat("withscores") {
            withscores = true;
        } else if card_only && args.remaining() >= 2 && args.eat("limit") {
            let l =
                parse_i64(args.next_bytes()?).filter(|l| *l >= 0).ok_or(Frame::error("ERR LIMIT can't be negative"))?;
            limit = l as usize;
        } else {
            return Err(SYNTAX);
        }
    }
    let db = ctx.db() as usize;
    let d = &ctx.ks.dbs[db];
    let srcs: Vec<(Src, f64)> = keys
        .iter()
        .zip(weights)
        .map(|(k, w)| {
            let src = match d.get(k).map(|e| &e.value) {
                Some(Value::ZSet(z)) => Src::Z(z),
                Some(Value::Set(s)) => Src::S(s),
                _ => Src::Missing,
            };
            (src, w)
        })
        .collect();
    let weighted = |s: f64, w: f64| {
        let v = s * w;
        if v.is_nan() { 0.0 } else { v }
    };
    if card_only {
        let mut order: Vec<&(Src, f64)> = srcs.iter().collect();
        order.sort_by_key(|(s, _)| s.len());
        let mut n = 0usize;
        if order[0].0.len() > 0 {
            let mut done = false;
            order[0].0.for_each(|m, _| {
                if done || order[1..].iter().any(|(o, _)| o.score(m).is_none()) {
                    return;
                }
                n += 1;
                if limit > 0 && n >= limit {
                    done = true;
                }
            });
        }
        return Ok(Frame::Integer(n as i64));
    }
    let mut result: HashMap<Bytes, f64> = HashMap::default();
    match op {
        SetOp::Union => {
            let mut order: Vec<&(Src, f64)> = srcs.iter().collect();
            order.sort_by_key(|(s, _)| s.len());
            for (src, w) in order {
                src.for_each(|m, s| {
                    let v = weighted(s, *w);
                    match result.get_mut(m) {
                        Some(acc) => aggregate.apply(acc, v),
                        None => {
                            result.insert(Bytes::copy_from_slice(m), v);
                        }
                    }
                });
            }
        }
        SetOp::Inter => {
            let mut order: Vec<&(Src, f64)> = srcs.iter().collect();
            order.sort_by_key(|(s, _)| s.len());
            let (first, fw) = order[0];
            first.for_each(|m, s| {
                let mut acc = weighted(s, *fw);
                for (o, w) in &order[1..] {
                    match o.score(m) {
                        // Only the first input's weighted score is cleared
                        // of NaN (`0 * inf`); the others go through the
                        // aggregate as they are, as in Redis.
                        Some(v) => aggregate.apply(&mut acc, v * *w),
                        None => return,
                    }
                }
                result.insert(Bytes::copy_from_slice(m), acc);
            });
        }
        SetOp::Diff => {
            srcs[0].0.for_each(|m, s| {
                if srcs[1..].iter().all(|(o, _)| o.score(m).is_none()) {
                    result.insert(Bytes::copy_from_slice(m), s);
                }
            });
        }
    }
    match dst {
        Some(dst) => {
            let z = ZSet::from_unique(result.into_iter().collect());
            let event = match op {
                SetOp::Union => "zunionstore",
                SetOp::Inter => "zinterstore",
                SetOp::Diff => "zdiffstore",
            };
            store_result(ctx, &dst, z, event)
        }
        None => {
            // Replied as computed: a weight can make a `-0` score, which
            // Redis shows (ordered as equal to `0`, then by member).
            let mut items: Vec<(Bytes, f64)> = result.into_iter().collect();
            items
                .sort_by(|a, b| a.1.partial_cmp(&b.1).unwrap_or(std::cmp::Ordering::Equal).then_with(|| a.0.cmp(&b.0)));
            Ok(members_reply(ctx.session.proto, items, withscores))
        }
    }
}

// ---------------------------------------------------------------------------
// ZSCAN

/// `ZSCAN key cursor [MATCH pattern] [COUNT count]`
///
/// As `HSCAN` (see `cmd::hash`): a compact set at once with cursor 0, a
/// tree about `count` members (with their scores) per call from the
/// cursor on, in the order of the member's seeded hash.
fn zscan(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let cursor = super::args::parse_cursor(args.next_bytes()?)?;
    let Some(_) = read_zset(ctx, key)? else { return Ok(scan_reply(0, Vec::new())) };
    let (pattern, count) = parse_scan_options(args)?;
    let Some(z) = peek_zset(ctx, key) else { return Ok(scan_reply(0, Vec::new())) };
    let mut out = Vec::new();
    let next = z.scan(cursor, count, |m, s| {
        if pattern.is_none_or(|p| glob_match(p, m)) {
            out.push(Frame::Bulk(Bytes::copy_from_slice(m)));
            out.push(Frame::Bulk(Bytes::from(format_double(s))));
        }
    });
    Ok(scan_reply(next, out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::testkit::Harness;

    #[test]
    fn parses_scores_like_redis() {
        assert_eq!(parse_score(b"1.5"), Some(1.5));
        assert_eq!(parse_score(b"-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_score(b"+Infinity"), Some(f64::INFINITY));
        assert_eq!(parse_score(b"0x10"), Some(16.0));
        assert_eq!(parse_score(b"0x1.8p1"), Some(3.0));
        assert_eq!(parse_score(b"1e400"), None);
        assert_eq!(parse_score(b"1e-400"), None);
        assert_eq!(parse_score(b"0e-400"), Some(0.0));
        assert_eq!(parse_score(b"nan"), None);
        assert_eq!(parse_score(b" 1"), None);
        assert_eq!(parse_score(b"1 "), None);
        assert_eq!(parse_score(b""), None);
        assert_eq!(parse_score(b"--1"), None);
        assert_eq!(parse_bound(b" 1"), Some(1.0));
        assert_eq!(parse_bound(b""), Some(0.0));
        assert_eq!(parse_bound(b" "), None);
        assert_eq!(parse_bound(b"1e400"), Some(f64::INFINITY));
        assert!(ScoreRange::parse(b"(1", b"(").is_ok());
        assert_eq!(ScoreRange::parse(b"(nan", b"1"), Err(BAD_SCORE_RANGE));
        assert_eq!(LexRange::parse(&Bytes::from("a"), &Bytes::from("+")), Err(BAD_LEX_RANGE));
        assert_eq!(LexRange::parse(&Bytes::from("-x"), &Bytes::from("+")), Err(BAD_LEX_RANGE));
    }

    #[test]
    fn rank_windows() {
        assert_eq!(rank_window(0, -1, 3), Some((0, 2)));
        assert_eq!(rank_window(-100, 100, 3), Some((0, 2)));
        assert_eq!(rank_window(2, 1, 3), None);
        assert_eq!(rank_window(3, 5, 3), None);
        assert_eq!(rank_window(0, -1, 0), None);
        assert_eq!(rank_window(i64::MIN, i64::MAX, 2), Some((0, 1)));
    }

    #[test]
    fn withscores_shapes_in_both_protocols() {
        let mut h = Harness::at(1_000);
        assert_eq!(h.resp2(&["zadd", "z", "1", "a", "2.5", "b"]), ":2\r\n");
        assert_eq!(
            h.resp2(&["zrange", "z", "0", "-1", "withscores"]),
            "*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$3\r\n2.5\r\n"
        );
        assert_eq!(
            h.resp3(&["zrange", "z", "0", "-1", "withscores"]),
            "*2\r\n*2\r\n$1\r\na\r\n,1\r\n*2\r\n$1\r\nb\r\n,2.5\r\n"
        );
        assert_eq!(h.resp3(&["zrangebyscore", "z", "2", "3", "withscores"]), "*1\r\n*2\r\n$1\r\nb\r\n,2.5\r\n");
        assert_eq!(
            h.resp3(&["zunion", "1", "z", "withscores"]),
            "*2\r\n*2\r\n$1\r\na\r\n,1\r\n*2\r\n$1\r\nb\r\n,2.5\r\n"
        );
        assert_eq!(h.resp3(&["zrandmember", "z", "-1", "withscores"]).matches(",").count(), 1);
        assert_eq!(h.resp3(&["zscore", "z", "b"]), ",2.5\r\n");
        assert_eq!(h.resp2(&["zscore", "z", "b"]), "$3\r\n2.5\r\n");
        assert_eq!(h.resp3(&["zscore", "z", "x"]), "_\r\n");
        assert_eq!(h.resp3(&["zmscore", "z", "x", "a"]), "*2\r\n_\r\n,1\r\n");
        assert_eq!(h.resp2(&["zmscore", "z", "x", "a"]), "*2\r\n$-1\r\n$1\r\n1\r\n");
        assert_eq!(h.resp3(&["zincrby", "z", "1", "a"]), ",2\r\n");
        assert_eq!(h.resp3(&["zadd", "z", "incr", "inf", "a"]), ",inf\r\n");
        assert_eq!(h.resp2(&["zadd", "z", "nx", "incr", "1", "a"]), "$-1\r\n");
        assert_eq!(h.resp3(&["zadd", "z", "incr", "-inf", "a"]), "-ERR resulting score is not a number (NaN)\r\n");
        assert_eq!(h.resp3(&["zrank", "z", "b", "withscore"]), "*2\r\n:0\r\n,2.5\r\n");
        assert_eq!(h.resp2(&["zrank", "z", "b", "withscore"]), "*2\r\n:0\r\n$3\r\n2.5\r\n");
        assert_eq!(h.resp2(&["zrank", "z", "x", "withscore"]), "*-1\r\n");
        assert_eq!(h.resp2(&["zrank", "z", "x"]), "$-1\r\n");
        assert_eq!(h.resp3(&["zrevrank", "z", "b"]), ":1\r\n");
        assert_eq!(
            h.resp3(&["zscan", "z", "0"]),
            "*2\r\n$1\r\n0\r\n*4\r\n$1\r\nb\r\n$3\r\n2.5\r\n$1\r\na\r\n$3\r\ninf\r\n"
        );
    }

    #[test]
    fn pop_shapes_in_both_protocols() {
        let mut h = Harness::at(1_000);
        h.resp2(&["zadd", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e"]);
        assert_eq!(h.resp3(&["zpopmin", "z"]), "*2\r\n$1\r\na\r\n,1\r\n");
        assert_eq!(h.resp3(&["zpopmin", "z", "1"]), "*1\r\n*2\r\n$1\r\nb\r\n,2\r\n");
        assert_eq!(h.resp2(&["zpopmax", "z", "1"]), "*2\r\n$1\r\ne\r\n$1\r\n5\r\n");
        assert_eq!(h.resp3(&["bzpopmax", "nokey", "z", "0"]), "*3\r\n$1\r\nz\r\n$1\r\nd\r\n,4\r\n");
        assert_eq!(
            h.resp3(&["zmpop", "1", "z", "min", "count", "9"]),
            "*2\r\n$1\r\nz\r\n*1\r\n*2\r\n$1\r\nc\r\n,3\r\n"
        );
        assert_eq!(h.take_event_names().iter().filter(|e| **e == "del").count(), 1);
        assert_eq!(h.resp2(&["zmpop", "1", "z", "min"]), "*-1\r\n");
        assert_eq!(h.resp3(&["zmpop", "1", "z", "min"]), "_\r\n");
        assert_eq!(h.resp3(&["zpopmin", "z"]), "*0\r\n");
    }

    #[test]
    fn blocking_pops_block_only_outside_exec() {
        let mut h = Harness::at(1_000);
        assert_eq!(h.resp2(&["bzpopmin", "a", "b", "1.5"]), "*-1\r\n");
        let b = h.blocked.take().expect("blocks");
        assert_eq!(b.keys, [Bytes::from("a"), Bytes::from("b")]);
        assert_eq!(b.deadline_ms, Some(2_500));
        assert_eq!(b.on_timeout, Frame::NullArray);
        h.resp2(&["bzmpop", "0", "1", "a", "max"]);
        assert_eq!(h.blocked.take().expect("blocks").deadline_ms, None);
        h.in_exec = true;
        assert_eq!(h.resp2(&["bzpopmin", "a", "0"]), "*-1\r\n");
        assert!(h.blocked.is_none());
        h.in_exec = false;
        assert_eq!(h.resp2(&["bzpopmin", "a", "-1"]), "-ERR timeout is negative\r\n");
        assert!(h.blocked.is_none());
        h.resp2(&["set", "s", "v"]);
        assert!(h.resp2(&["bzpopmin", "s", "0"]).starts_with("-WRONGTYPE"));
    }

    #[test]
    fn sets_count_as_score_one() {
        let mut h = Harness::at(1_000);
        h.seed(Effect::SetAdd { db: 0, key: Bytes::from("s"), members: vec![Bytes::from("x"), Bytes::from("q")] });
        h.resp2(&["zadd", "z", "2", "x", "3", "y"]);
        assert_eq!(
            h.resp2(&["zunion", "2", "z", "s", "withscores"]),
            "*6\r\n$1\r\nq\r\n$1\r\n1\r\n$1\r\nx\r\n$1\r\n3\r\n$1\r\ny\r\n$1\r\n3\r\n"
        );
        assert_eq!(
            h.resp2(&["zinter", "2", "z", "s", "weights", "1", "5", "withscores"]),
            "*2\r\n$1\r\nx\r\n$1\r\n7\r\n"
        );
        assert_eq!(h.resp2(&["zdiff", "2", "s", "z", "withscores"]), "*2\r\n$1\r\nq\r\n$1\r\n1\r\n");
        assert_eq!(h.resp2(&["zintercard", "2", "s", "z"]), ":1\r\n");
        assert_eq!(h.resp2(&["zinterstore", "d", "2", "s", "z", "aggregate", "max"]), ":1\r\n");
        assert_eq!(h.resp2(&["zrange", "d", "0", "-1", "withscores"]), "*2\r\n$1\r\nx\r\n$1\r\n2\r\n");
    }

    #[test]
    fn weighted_negative_zero_is_shown_but_not_stored() {
        let mut h = Harness::at(1_000);
        h.resp2(&["zadd", "q", "0", "a", "1", "b"]);
        assert_eq!(
            h.resp2(&["zunion", "1", "q", "weights", "-1", "withscores"]),
            "*4\r\n$1\r\nb\r\n$2\r\n-1\r\n$1\r\na\r\n$2\r\n-0\r\n"
        );
        h.resp2(&["zunionstore", "d", "1", "q", "weights", "-1"]);
        assert_eq!(h.resp2(&["zscore", "d", "a"]), "$1\r\n0\r\n");
    }

    #[test]
    fn notifications_and_empty_results() {
        let mut h = Harness::at(1_000);
        h.resp2(&["zadd", "z", "1", "a", "2", "b"]);
        h.resp2(&["zadd", "z", "1", "a"]);
        h.resp2(&["zincrby", "z", "1", "a"]);
        h.resp2(&["zrangestore", "d", "z", "0", "0"]);
        h.resp2(&["zrangestore", "d", "z", "5", "6"]);
        h.resp2(&["zremrangebyscore", "z", "2", "2"]);
        assert_eq!(h.take_event_names(), ["zadd", "zincr", "zrangestore", "del", "zremrangebyscore", "del"]);
        assert!(h.ks.dbs[0].get(b"z").is_none());
        assert!(h.ks.dbs[0].get(b"d").is_none());
        h.resp2(&["zadd", "z", "1", "a", "2", "b", "3", "c"]);
        h.events.clear();
        assert_eq!(h.resp2(&["zremrangebyrank", "z", "0", "0"]), ":1\r\n");
        assert_eq!(h.resp2(&["zremrangebylex", "z", "-", "+"]), ":2\r\n");
        assert_eq!(h.take_event_names(), ["zremrangebyrank", "zremrangebylex", "del"]);
        h.resp2(&["zadd", "z", "1", "a"]);
        h.resp2(&["zunionstore", "u", "1", "z"]);
        h.resp2(&["zdiffstore", "u", "2", "z", "z"]);
        assert_eq!(h.take_event_names(), ["zadd", "zunionstore", "del"]);
    }

    #[test]
    fn zadd_with_repeated_members_and_flags() {
        let mut h = Harness::at(1_000);
        assert_eq!(h.resp2(&["zadd", "z", "1", "a", "2", "a"]), ":1\r\n");
        assert_eq!(h.resp2(&["zscore", "z", "a"]), "$1\r\n2\r\n");
        assert_eq!(h.resp2(&["zadd", "z", "ch", "gt", "1", "a", "3", "a", "5", "b"]), ":2\r\n");
        assert_eq!(h.resp2(&["zadd", "z", "xx", "ch", "0", "a", "9", "nope"]), ":1\r\n");
        assert_eq!(h.resp2(&["zadd", "nokey", "xx", "1", "a"]), ":0\r\n");
        assert_eq!(h.resp2(&["zadd", "nokey", "xx", "incr", "1", "a"]), "$-1\r\n");
        assert!(h.ks.dbs[0].get(b"nokey").is_none());
        assert_eq!(
            h.resp2(&["zrange", "z", "0", "-1", "withscores"]),
            "*4\r\n$1\r\na\r\n$1\r\n0\r\n$1\r\nb\r\n$1\r\n5\r\n"
        );
    }

    #[test]
    fn lex_ranges_over_mixed_scores_walk_like_redis_small_sets() {
        // Found by the differential test: with unequal scores Redis 7.0 walks
        // the members in score order from the first one past the near bound.
        let mut h = Harness::at(1_000);
        h.resp2(&["zadd", "z", "1", "b", "2", "d", "3", "a"]);
        assert_eq!(h.resp2(&["zrangebylex", "z", "[a", "[c"]), "*1\r\n$1\r\nb\r\n");
        assert_eq!(h.resp2(&["zlexcount", "z", "[a", "[c"]), ":1\r\n");
        assert_eq!(h.resp2(&["zrange", "z", "[c", "[a", "bylex", "rev"]), "*3\r\n$1\r\na\r\n$1\r\nd\r\n$1\r\nb\r\n");
        assert_eq!(h.resp2(&["zrange", "z", "[a", "[c", "bylex", "rev"]), "*0\r\n");
        // The last member is below `(a`: nothing is in range.
        assert_eq!(h.resp2(&["zremrangebylex", "z", "(a", "[b"]), ":0\r\n");
        assert_eq!(h.resp2(&["zcard", "z"]), ":3\r\n");
    }

    #[test]
    fn zpop_with_zero_count_still_checks_the_type() {
        let mut h = Harness::at(1_000);
        h.resp2(&["set", "s", "x"]);
        assert!(h.resp2(&["zpopmin", "s", "0"]).starts_with("-WRONGTYPE"));
        assert!(h.resp2(&["zpopmax", "s", "0"]).starts_with("-WRONGTYPE"));
        assert_eq!(h.resp2(&["zpopmin", "nokey", "0"]), "*0\r\n");
    }

    #[test]
    fn zinter_clears_nan_only_from_the_smallest_inputs_weighted_score() {
        // Found by the differential test: `0 * -inf` in a later input makes
        // the sum NaN, which becomes 0, and the next `inf * -inf` adds -inf.
        let mut h = Harness::at(1_000);
        h.resp2(&["zadd", "small", "-inf", "c"]);
        h.resp2(&["zadd", "big", "-inf", "c", "1", "d"]);
        assert_eq!(
            h.resp2(&["zinter", "3", "big", "big", "small", "weights", "0", "inf", "-1", "withscores"]),
            "*2\r\n$1\r\nc\r\n$4\r\n-inf\r\n"
        );
    }

    #[test]
    fn lex_limit_over_unequal_scores_skips_the_offset_blindly() {
        // Found by the differential test: Redis skips `offset` members from
        // the first one in range without checking them, then takes members
        // while they are within the far bound.
        let mut h = Harness::at(1_000);
        h.resp2(&["zadd", "z", "0", "c", "0", "e", "2", "-3", "2", "a"]);
        assert_eq!(h.resp2(&["zrange", "z", "+", "[a", "bylex", "rev"]), "*1\r\n$1\r\na\r\n");
        assert_eq!(
            h.resp2(&["zrange", "z", "+", "[a", "bylex", "rev", "limit", "2", "-1"]),
            "*2\r\n$1\r\ne\r\n$1\r\nc\r\n"
        );
        assert_eq!(h.resp2(&["zrangestore", "d", "z", "+", "[a", "bylex", "rev", "limit", "2", "-1"]), ":2\r\n");
        // The last member is below `[b`: nothing is in range.
        assert_eq!(h.resp2(&["zrangebylex", "z", "[b", "+", "limit", "1", "2"]), "*0\r\n");
    }
}
