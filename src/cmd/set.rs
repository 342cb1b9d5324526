//! Set commands (`SADD`, `SPOP`, `SINTER`, `SUNIONSTORE`, `SSCAN`...).
//!
//! Random member selection (`SPOP`, `SRANDMEMBER`) walks the set's
//! iterator once up to the last position drawn: O(n) per call, because the
//! set type offers no positional access.

use bytes::Bytes;

use super::args::parse_i64;
use super::hash::{parse_random_count, parse_scan_options, sample, scan_reply};
use super::{Args, CmdResult, Ctx, SYNTAX, WRONGTYPE, distinct, flags::*};
use crate::command;
use crate::resp::Frame;
use crate::state::glob::glob_match;
use crate::state::{Effect, ExpireChange, Set, Value};

/// The set command family.
pub static COMMANDS: &[super::Command] = &[
    command!(
        "sadd",
        -3,
        WRITE | DENYOOM | FAST,
        1,
        1,
        1,
        "set",
        "SADD key member [member ...] — add members to a set, returning how many were new",
        sadd
    ),
    command!(
        "srem",
        -3,
        WRITE | FAST,
        1,
        1,
        1,
        "set",
        "SREM key member [member ...] — remove members from a set",
        srem
    ),
    command!(
        "sismember",
        3,
        READONLY | FAST,
        1,
        1,
        1,
        "set",
        "SISMEMBER key member — whether a member belongs to a set",
        sismember
    ),
    command!(
        "smismember",
        -3,
        READONLY | FAST,
        1,
        1,
        1,
        "set",
        "SMISMEMBER key member [member ...] — whether each member belongs to a set",
        smismember
    ),
    command!("smembers", 2, READONLY, 1, 1, 1, "set", "SMEMBERS key — every member of a set", smembers),
    command!("scard", 2, READONLY | FAST, 1, 1, 1, "set", "SCARD key — the number of members of a set", scard),
    command!(
        "spop",
        -2,
        WRITE | FAST,
        1,
        1,
        1,
        "set",
        "SPOP key [count] — remove and return random members of a set",
        spop
    ),
    command!(
        "srandmember",
        -2,
        READONLY,
        1,
        1,
        1,
        "set",
        "SRANDMEMBER key [count] — random members of a set",
        srandmember
    ),
    command!(
        "smove",
        4,
        WRITE | FAST,
        1,
        2,
        1,
        "set",
        "SMOVE source destination member — move a member from one set to another",
        smove
    ),
    command!("sinter", -2, READONLY, 1, -1, 1, "set", "SINTER key [key ...] — the intersection of sets", sinter),
    command!(
        "sintercard",
        -3,
        READONLY | MOVABLEKEYS,
        0,
        0,
        0,
        "set",
        "SINTERCARD numkeys key [key ...] [LIMIT limit] — the size of the intersection of sets",
        sintercard
    ),
    command!(
        "sinterstore",
        -3,
        WRITE | DENYOOM,
        1,
        -1,
        1,
        "set",
        "SINTERSTORE destination key [key ...] — store the intersection of sets",
        sinterstore
    ),
    command!("sunion", -2, READONLY, 1, -1, 1, "set", "SUNION key [key ...] — the union of sets", sunion),
    command!(
        "sunionstore",
        -3,
        WRITE | DENYOOM,
        1,
        -1,
        1,
        "set",
        "SUNIONSTORE destination key [key ...] — store the union of sets",
        sunionstore
    ),
    command!(
        "sdiff",
        -2,
        READONLY,
        1,
        -1,
        1,
        "set",
        "SDIFF key [key ...] — the members of the first set not in the others",
        sdiff
    ),
    command!(
        "sdiffstore",
        -3,
        WRITE | DENYOOM,
        1,
        -1,
        1,
        "set",
        "SDIFFSTORE destination key [key ...] — store the difference of sets",
        sdiffstore
    ),
    command!(
        "sscan",
        -3,
        READONLY,
        1,
        1,
        1,
        "set",
        "SSCAN key cursor [MATCH pattern] [COUNT count] — iterate the members of a set",
        sscan
    ),
];

/// `SPOP`'s count error.
const NOT_POSITIVE: Frame = Frame::error("ERR value is out of range, must be positive");

/// The set at `key`: `Ok(None)` if absent, `WRONGTYPE` if not a set.
/// `read` counts a keyspace hit or miss (read commands).
fn set_at<'c>(ctx: &'c mut Ctx, key: &[u8], read: bool) -> Result<Option<&'c Set>, Frame> {
    let entry = if read { ctx.lookup_read(key) } else { ctx.lookup(key) };
    match entry.map(|e| &e.value) {
        None => Ok(None),
        Some(Value::Set(s)) => Ok(Some(s)),
        Some(_) => Err(WRONGTYPE),
    }
}

/// Every set named by `keys` (`None` for a missing key), or `WRONGTYPE` if
/// any key holds another type.
fn sets_at<'c>(ctx: &'c mut Ctx, keys: &[Bytes], read: bool) -> Result<Vec<Option<&'c Set>>, Frame> {
    for k in keys {
        if read {
            ctx.lookup_read(k);
        } else {
            ctx.lookup(k);
        }
    }
    let db = &ctx.ks.dbs[ctx.session.db as usize];
    keys.iter()
        .map(|k| match db.get(k).map(|e| &e.value) {
            None => Ok(None),
            Some(Value::Set(s)) => Ok(Some(s)),
            Some(_) => Err(WRONGTYPE),
        })
        .collect()
}

/// Members of a set as bulk strings (copies: nothing in the keyspace is
/// shared by a read).
fn bulks<'a>(members: impl IntoIterator<Item = &'a [u8]>) -> Vec<Frame> {
    members.into_iter().map(|m| Frame::Bulk(Bytes::copy_from_slice(m))).collect()
}

/// Members already copied out of the keyspace, as bulk strings.
fn owned_bulks(members: Vec<Bytes>) -> Vec<Frame> {
    members.into_iter().map(Frame::Bulk).collect()
}

/// `SADD key member [member ...]`
fn sadd(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?.clone();
    let members = args.rest();
    let new: Vec<Bytes> = {
        let s = set_at(ctx, &key, false)?;
        distinct(members, |m| !s.is_some_and(|s| s.contains(m)))
    };
    let n = new.len() as i64;
    if n > 0 {
        let db = ctx.db();
        ctx.apply(Effect::SetAdd { db, key: key.clone(), members: new });
        ctx.notify('s', "sadd", &key);
    }
    Ok(Frame::Integer(n))
}

/// `SREM key member [member ...]`
fn srem(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?.clone();
    let members = args.rest();
    let (gone, emptied) = {
        let Some(s) = set_at(ctx, &key, false)? else { return Ok(Frame::Integer(0)) };
        let gone = distinct(members, |m| s.contains(m));
        let emptied = gone.len() == s.len();
        (gone, emptied)
    };
    let n = gone.len() as i64;
    if n > 0 {
        let db = ctx.db();
        ctx.apply(Effect::SetRem { db, key: key.clone(), members: gone });
        ctx.notify('s', "srem", &key);
        if emptied {
            ctx.notify('g', "del", &key);
        }
    }
    Ok(Frame::Integer(n))
}

/// `SISMEMBER key member`
fn sismember(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let member = args.next_bytes()?;
    Ok(Frame::Integer(set_at(ctx, key, true)?.is_some_and(|s| s.contains(member)) as i64))
}

/// `SMISMEMBER key member [member ...]`
fn smismember(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let members = args.rest();
    let s = set_at(ctx, key, true)?;
    Ok(Frame::Array(members.iter().map(|m| Frame::Integer(s.is_some_and(|s| s.contains(m)) as i64)).collect()))
}

/// `SMEMBERS key` (a set in RESP3)
fn smembers(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    Ok(Frame::Set(set_at(ctx, key, true)?.map_or_else(Vec::new, bulks)))
}

/// `SCARD key`
fn scard(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    Ok(Frame::Integer(set_at(ctx, key, true)?.map_or(0, |s| s.len()) as i64))
}

/// `SPOP key [count]`
///
/// Without a count: one random member (removed), or null. With a count: up
/// to that many distinct members, as a set in RESP3. The effect records the
/// members removed (or deletes the key when every member goes).
fn spop(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?.clone();
    if args.remaining() > 1 {
        return Err(SYNTAX);
    }
    let count = match args.rest().first() {
        None => None,
        Some(a) => Some(parse_i64(a).and_then(|n| u64::try_from(n).ok()).ok_or(NOT_POSITIVE)?),
    };
    if set_at(ctx, &key, false)?.is_none() {
        return Ok(if count.is_some() { Frame::Set(Vec::new()) } else { Frame::Null });
    }
    if count == Some(0) {
        return Ok(Frame::Set(Vec::new()));
    }
    let db = ctx.db();
    let Some(Value::Set(s)) = ctx.ks.dbs[db as usize].get(&key).map(|e| &e.value) else { return Ok(Frame::Null) };
    let len = s.len();
    let whole = count.is_some_and(|c| c >= len as u64) || len == 1;
    let members: Vec<Bytes> = if whole {
        s.iter().map(Bytes::copy_from_slice).collect()
    } else {
        let draw = |rng: &mut super::ServerState| s.random(|| rng.random()).expect("not empty");
        let picks = sample(ctx.server, len, count.map_or(1, |c| c as i64), s.iter(), draw)?;
        picks.into_iter().map(Bytes::copy_from_slice).collect()
    };
    let reply = match count {
        None => Frame::Bulk(members[0].clone()),
        Some(_) => Frame::Set(members.iter().cloned().map(Frame::Bulk).collect()),
    };
    if whole {
        ctx.apply(Effect::Del { db, key: key.clone() });
    } else {
        ctx.apply(Effect::SetRem { db, key: key.clone(), members });
    }
    ctx.notify('s', "spop", &key);
    if whole {
        ctx.notify('g', "del", &key);
    }
    Ok(reply)
}

/// `SRANDMEMBER key [count]`
///
/// Without a count: one random member, or null. A positive count returns up
/// to that many distinct members, a negative one exactly `-count` members
/// that may repeat.
fn srandmember(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?.clone();
    if args.remaining() > 1 {
        return Err(SYNTAX);
    }
    let count = match args.rest().first() {
        None => None,
        Some(a) => Some(parse_random_count(a)?),
    };
    if set_at(ctx, &key, true)?.is_none() {
        return Ok(if count.is_some() { Frame::Array(Vec::new()) } else { Frame::Null });
    }
    let db = ctx.db();
    let Some(Value::Set(s)) = ctx.ks.dbs[db as usize].get(&key).map(|e| &e.value) else { return Ok(Frame::Null) };
    match count {
        None => Ok(Frame::bulk_or_null(s.random(|| ctx.server.random()).map(Bytes::copy_from_slice))),
        Some(c) => {
            let draw = |rng: &mut super::ServerState| s.random(|| rng.random()).expect("not empty");
            Ok(Frame::Array(bulks(sample(ctx.server, s.len(), c, s.iter(), draw)?)))
        }
    }
}

/// `SMOVE source destination member`
fn smove(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let src = args.next_bytes()?.clone();
    let dst = args.next_bytes()?.clone();
    let member = args.next_bytes()?.clone();
    // A missing source answers 0 before any type check of the destination.
    if ctx.lookup(&src).is_none() {
        return Ok(Frame::Integer(0));
    }
    let (in_src, src_len, in_dst) = {
        let sets = sets_at(ctx, &[src.clone(), dst.clone()], false)?;
        let Some(s) = sets[0] else { return Ok(Frame::Integer(0)) };
        (s.contains(&member), s.len(), sets[1].map(|d| d.contains(&member)))
    };
    if src == dst {
        return Ok(Frame::Integer(in_src as i64));
    }
    if !in_src {
        return Ok(Frame::Integer(0));
    }
    let db = ctx.db();
    ctx.apply(Effect::SetRem { db, key: src.clone(), members: vec![member.clone()] });
    ctx.notify('s', "srem", &src);
    if src_len == 1 {
        ctx.notify('g', "del", &src);
    }
    if in_dst != Some(true) {
        ctx.apply(Effect::SetAdd { db, key: dst.clone(), members: vec![member] });
        ctx.notify('s', "sadd", &dst);
    }
    Ok(Frame::Integer(1))
}

/// The members common to every set, at most `limit` of them (0: no limit).
/// A missing key is an empty set. Walks the smallest set.
fn intersect(sets: &[Option<&Set>], limit: usize) -> Vec<Bytes> {
    let Some(mut all) = sets.iter().copied().collect::<Option<Vec<&Set>>>() else { return Vec::new() };
    all.sort_by_key(|s| s.len());
    let Some((smallest, others)) = all.split_first() else { return Vec::new() };
    let mut out = Vec::new();
    for m in smallest.iter() {
        if others.iter().all(|o| o.contains(m)) {
            out.push(Bytes::copy_from_slice(m));
            if out.len() == limit {
                break;
            }
        }
    }
    out
}

/// The members of any of the sets.
fn union(sets: &[Option<&Set>]) -> Set {
    let mut out = Set::new();
    for s in sets.iter().flatten() {
        for m in s.iter() {
            out.insert_slice(m);
        }
    }
    out
}

/// The members of the first set that are in none of the others.
fn difference(sets: &[Option<&Set>]) -> Vec<Bytes> {
    let Some((Some(first), others)) = sets.split_first() else { return Vec::new() };
    first.iter().filter(|m| !others.iter().flatten().any(|o| o.contains(m))).map(Bytes::copy_from_slice).collect()
}

/// Stores `result` at `dst` (replacing it, expiry cleared), or deletes
/// `dst` when the result is empty; replies with the result's size.
fn store(ctx: &mut Ctx, dst: &Bytes, result: Set, event: &'static str) -> CmdResult {
    let db = ctx.db();
    if result.is_empty() {
        ctx.delete_destination(dst);
        return Ok(Frame::Integer(0));
    }
    let n = result.len() as i64;
    ctx.apply(Effect::Put { db, key: dst.clone(), value: Value::Set(result), expire: ExpireChange::Clear });
    ctx.notify('s', event, dst);
    Ok(Frame::Integer(n))
}

/// `SINTER key [key ...]` (a set in RESP3)
fn sinter(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let sets = sets_at(ctx, args.rest(), true)?;
    Ok(Frame::Set(owned_bulks(intersect(&sets, 0))))
}

/// `SINTERCARD numkeys key [key ...] [LIMIT limit]`
fn sintercard(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let numkeys = parse_i64(args.next_bytes()?)
        .filter(|&n| n > 0)
        .ok_or(Frame::error("ERR numkeys should be greater than 0"))? as u64;
    if numkeys > args.remaining() as u64 {
        return Err(Frame::error("ERR Number of keys can't be greater than number of args"));
    }
    let rest = args.rest();
    let (keys, mut opts) = rest.split_at(numkeys as usize);
    let mut limit = 0usize;
    while let Some((opt, more)) = opts.split_first() {
        match more.first() {
            Some(v) if opt.eq_ignore_ascii_case(b"LIMIT") => {
                let n = parse_i64(v).filter(|&n| n >= 0).ok_or(Frame::error("ERR LIMIT can't be negative"))?;
                limit = usize::try_from(n).unwrap_or(usize::MAX);
                opts = &more[1..];
            }
            _ => return Err(SYNTAX),
        }
    }
    let sets = sets_at(ctx, keys, true)?;
    Ok(Frame::Integer(intersect(&sets, limit).len() as i64))
}

/// `SINTERSTORE destination key [key ...]`
fn sinterstore(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let dst = args.next_bytes()?;
    let result = intersect(&sets_at(ctx, args.rest(), true)?, 0).into_iter().collect();
    store(ctx, dst, result, "sinterstore")
}

/// `SUNION key [key ...]` (a set in RESP3)
fn sunion(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let sets = sets_at(ctx, args.rest(), true)?;
    Ok(Frame::Set(bulks(&union(&sets))))
}

/// `SUNIONSTORE destination key [key ...]`
fn sunionstore(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let dst = args.next_bytes()?;
    let result = union(&sets_at(ctx, args.rest(), true)?);
    store(ctx, dst, result, "sunionstore")
}

/// `SDIFF key [key ...]` (a set in RESP3)
fn sdiff(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let sets = sets_at(ctx, args.rest(), true)?;
    Ok(Frame::Set(owned_bulks(difference(&sets))))
}

/// `SDIFFSTORE destination key [key ...]`
fn sdiffstore(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let dst = args.next_bytes()?;
    let result = difference(&sets_at(ctx, args.rest(), true)?).into_iter().collect();
    store(ctx, dst, result, "sdiffstore")
}

/// `SSCAN key cursor [MATCH pattern] [COUNT count]`
///
/// As `HSCAN` (see `cmd::hash`): a compact set at once with cursor 0, a
/// large one about `count` members per call from the cursor on.
fn sscan(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let cursor = super::args::parse_cursor(args.next_bytes()?)?;
    let Some(s) = set_at(ctx, key, true)? else { return Ok(scan_reply(0, Vec::new())) };
    let (pattern, count) = parse_scan_options(args)?;
    let mut out = Vec::new();
    let next = s.scan(cursor, count, |m| {
        if pattern.is_none_or(|p| glob_match(p, m)) {
            out.push(Frame::Bulk(Bytes::copy_from_slice(m)));
        }
    });
    Ok(scan_reply(next, out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::testkit::{Harness, bulk, sorted_bulks};
    use crate::resp::Protocol;

    fn members(list: &str) -> Vec<Bytes> {
        let mut v: Vec<Bytes> =
            list.split(' ').filter(|s| !s.is_empty()).map(|s| Bytes::copy_from_slice(s.as_bytes())).collect();
        v.sort();
        v
    }

    /// An empty result deletes the destination as Redis does, without a
    /// lookup: one past its deadline goes with a `del` event, not
    /// `expired` (the same helper serves every `STORE` form).
    #[test]
    fn an_empty_store_deletes_an_expired_destination_with_del() {
        let mut f = Harness::at(1);
        f.run("SET k v PX 1");
        f.take_events();
        f.now_ms += 2;
        assert_eq!(f.run("SINTERSTORE k nos"), Frame::Integer(0));
        assert_eq!(f.take_event_names(), ["del"]);
        assert_eq!(f.run("EXISTS k"), Frame::Integer(0));
        assert_eq!(f.run("SINTERSTORE k nos"), Frame::Integer(0));
        assert!(f.take_event_names().is_empty());
    }

    #[test]
    fn sadd_srem_count_distinct_members() {
        let mut f = Harness::at(1);
        assert_eq!(f.run("SADD s a b a c"), Frame::Integer(3));
        assert_eq!(f.run("SADD s a"), Frame::Integer(0));
        assert_eq!(f.run("SCARD s"), Frame::Integer(3));
        assert_eq!(f.run("SISMEMBER s b"), Frame::Integer(1));
        assert_eq!(f.run("SMISMEMBER s b z"), Frame::Array(vec![Frame::Integer(1), Frame::Integer(0)]));
        assert_eq!(f.run("SREM s a a z"), Frame::Integer(1));
        assert_eq!(f.run("SREM s z"), Frame::Integer(0));
        assert_eq!(f.run("SREM s b c"), Frame::Integer(2));
        assert!(f.ks.dbs[0].get(b"s").is_none());
        assert_eq!(f.take_event_names(), ["sadd", "srem", "srem", "del"]);
        f.check_replay();
    }

    #[test]
    fn wrong_type_and_missing_keys() {
        let mut f = Harness::at(1);
        f.run("SET str x");
        for cmd in [
            "SADD str a",
            "SREM str a",
            "SISMEMBER str a",
            "SMEMBERS str",
            "SCARD str",
            "SPOP str",
            "SPOP str 0",
            "SRANDMEMBER str 0",
            "SINTER nope str",
            "SINTERCARD 2 nope str",
            "SUNION str",
            "SDIFF nope str",
            "SSCAN str 0",
        ] {
            assert_eq!(f.run(cmd), WRONGTYPE, "{cmd}");
        }
        assert_eq!(f.run("SMEMBERS nope"), Frame::Set(vec![]));
        assert_eq!(f.run("SPOP nope"), Frame::Null);
        assert_eq!(f.run("SPOP nope 3"), Frame::Set(vec![]));
        assert_eq!(f.run("SRANDMEMBER nope"), Frame::Null);
        assert_eq!(f.run("SRANDMEMBER nope -3"), Frame::Array(vec![]));
        assert_eq!(f.run("SINTER nope"), Frame::Set(vec![]));
        assert_eq!(f.run("SMOVE nope str a"), Frame::Integer(0));
        assert_eq!(f.run("SPOP nope x"), NOT_POSITIVE);
        assert_eq!(f.run("SPOP nope -1"), NOT_POSITIVE);
        assert_eq!(f.run("SPOP nope 1 2"), SYNTAX);
        assert_eq!(f.run("SRANDMEMBER nope 1 2"), SYNTAX);
        assert_eq!(f.run("SRANDMEMBER nope x"), crate::cmd::NOT_INT);
    }

    #[test]
    fn spop_removes_what_it_returns() {
        let mut f = Harness::at(1);
        f.run("SADD s a b c d e");
        let one = f.run("SPOP s");
        let Frame::Bulk(m) = &one else { panic!("{one:?}") };
        assert_eq!(f.run(&format!("SISMEMBER s {}", String::from_utf8_lossy(m))), Frame::Integer(0));
        let two = f.run("SPOP s 2");
        assert_eq!(sorted_bulks(&two).len(), 2);
        assert!(matches!(two, Frame::Set(_)));
        assert_eq!(f.run("SCARD s"), Frame::Integer(2));
        assert_eq!(f.run("SPOP s 0"), Frame::Set(vec![]));
        assert_eq!(sorted_bulks(&f.run("SPOP s 10")).len(), 2);
        assert!(f.ks.dbs[0].get(b"s").is_none());
        assert_eq!(f.take_event_names(), ["sadd", "spop", "spop", "spop", "del"]);
        f.run("SADD t x");
        assert_eq!(f.run("SPOP t"), bulk("x"));
        assert_eq!(f.take_event_names(), ["sadd", "spop", "del"]);
        f.check_replay();
    }

    #[test]
    fn srandmember_counts() {
        let mut f = Harness::at(1);
        f.run("SADD s a b c");
        assert_eq!(sorted_bulks(&f.run("SRANDMEMBER s 5")), members("a b c"));
        assert_eq!(sorted_bulks(&f.run("SRANDMEMBER s 3")), members("a b c"));
        assert_eq!(f.run("SRANDMEMBER s 0"), Frame::Array(vec![]));
        let two = sorted_bulks(&f.run("SRANDMEMBER s 2"));
        assert_eq!(two.len(), 2);
        assert_ne!(two[0], two[1]);
        let many = sorted_bulks(&f.run("SRANDMEMBER s -7"));
        assert_eq!(many.len(), 7);
        f.session.proto = Protocol::Resp3;
        assert!(matches!(f.run("SRANDMEMBER s 2"), Frame::Array(_)));
        assert_eq!(
            f.run("SRANDMEMBER s -9223372036854775808"),
            Frame::error("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
        );
        assert!(f.effects.iter().all(|e| matches!(e, Effect::SetAdd { .. })));
    }

    #[test]
    fn smove_cases() {
        let mut f = Harness::at(1);
        f.run("SADD a x y");
        f.run("SADD b y");
        f.run("SET str v");
        f.take_event_names();
        assert_eq!(f.run("SMOVE a str x"), WRONGTYPE);
        assert_eq!(f.run("SMOVE str a x"), WRONGTYPE);
        assert_eq!(f.run("SMOVE a a x"), Frame::Integer(1));
        assert_eq!(f.run("SMOVE a a z"), Frame::Integer(0));
        assert_eq!(f.run("SMOVE a b z"), Frame::Integer(0));
        assert_eq!(f.run("SMOVE a b y"), Frame::Integer(1));
        assert_eq!(f.take_event_names(), ["srem"]);
        assert_eq!(f.run("SMOVE a c x"), Frame::Integer(1));
        assert_eq!(f.take_event_names(), ["srem", "del", "sadd"]);
        assert!(f.ks.dbs[0].get(b"a").is_none());
        assert_eq!(sorted_bulks(&f.run("SMEMBERS c")), members("x"));
        f.check_replay();
    }

    #[test]
    fn algebra_and_store() {
        let mut f = Harness::at(1);
        f.run("SADD a 1 2 3 4");
        f.run("SADD b 3 4 5");
        f.run("SADD c 4 5 6");
        assert_eq!(sorted_bulks(&f.run("SINTER a b")), members("3 4"));
        assert_eq!(sorted_bulks(&f.run("SINTER a b c")), members("4"));
        assert_eq!(sorted_bulks(&f.run("SINTER a b nope")), members(""));
        assert_eq!(sorted_bulks(&f.run("SUNION a nope c")), members("1 2 3 4 5 6"));
        assert_eq!(sorted_bulks(&f.run("SDIFF a b")), members("1 2"));
        assert_eq!(sorted_bulks(&f.run("SDIFF a nope")), members("1 2 3 4"));
        assert_eq!(sorted_bulks(&f.run("SDIFF nope a")), members(""));
        assert_eq!(f.run("SINTERCARD 2 a b"), Frame::Integer(2));
        assert_eq!(f.run("SINTERCARD 2 a b LIMIT 1"), Frame::Integer(1));
        assert_eq!(f.run("SINTERCARD 2 a b LIMIT 0"), Frame::Integer(2));
        assert_eq!(f.run("SINTERCARD 1 a LIMIT 9 LIMIT 3"), Frame::Integer(3));
        assert_eq!(f.run("SINTERCARD 0 a"), Frame::error("ERR numkeys should be greater than 0"));
        assert_eq!(f.run("SINTERCARD x a"), Frame::error("ERR numkeys should be greater than 0"));
        assert_eq!(f.run("SINTERCARD 3 a b"), Frame::error("ERR Number of keys can't be greater than number of args"));
        assert_eq!(f.run("SINTERCARD 1 a LIMIT -1"), Frame::error("ERR LIMIT can't be negative"));
        assert_eq!(f.run("SINTERCARD 1 a LIMIT"), SYNTAX);
        assert_eq!(f.run("SINTERCARD 1 a foo"), SYNTAX);
        f.take_event_names();

        f.run("SET d str");
        f.apply(Effect::SetExpire { db: 0, key: Bytes::from("d"), at: Some(100_000) });
        assert_eq!(f.run("SUNIONSTORE d a b"), Frame::Integer(5));
        assert_eq!(f.ks.dbs[0].get(b"d").map(|e| e.expire_at()), Some(None));
        assert_eq!(sorted_bulks(&f.run("SMEMBERS d")), members("1 2 3 4 5"));
        assert_eq!(f.run("SINTERSTORE d a b"), Frame::Integer(2));
        assert_eq!(f.run("SDIFFSTORE d a b c"), Frame::Integer(2));
        assert_eq!(sorted_bulks(&f.run("SMEMBERS d")), members("1 2"));
        assert_eq!(f.run("SINTERSTORE d a nope"), Frame::Integer(0));
        assert!(f.ks.dbs[0].get(b"d").is_none());
        assert_eq!(f.run("SDIFFSTORE d a a"), Frame::Integer(0));
        assert_eq!(f.take_event_names(), ["set", "sunionstore", "sinterstore", "sdiffstore", "del"]);
        assert_eq!(f.run("SUNIONSTORE a a"), Frame::Integer(4));
        f.check_replay();
    }

    #[test]
    fn sscan_filters() {
        let mut f = Harness::at(1);
        f.run("SADD s a1 a2 b");
        assert_eq!(
            sorted_bulks(&match f.run("SSCAN s 0 MATCH a*") {
                Frame::Array(v) => v[1].clone(),
                other => panic!("{other:?}"),
            }),
            members("a1 a2")
        );
        assert_eq!(f.run("SSCAN s 0 COUNT 0"), SYNTAX);
        assert_eq!(f.run("SSCAN s x"), Frame::error("ERR invalid cursor"));
    }
}
