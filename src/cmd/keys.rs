//! Generic key commands: deletion, existence, types, iteration, renaming,
//! copying between databases, and expiry.

use bytes::Bytes;

use super::server::sub_of;
use super::string::{invalid_expire, strict_i64};
use super::{Args, CmdResult, Ctx, DB_RANGE, KeyEvent, NO_SUCH_KEY, NOT_INT, SYNTAX, flags::*};
use crate::command;
use crate::resp::Frame;
use crate::resp::frame::OK;
use crate::state::glob::glob_match;
use crate::state::{Effect, ExpireChange, Value};

/// The generic key command family.
pub static COMMANDS: &[super::Command] = &[
    command!("del", -2, WRITE, 1, -1, 1, "generic", "DEL key [key ...] — delete keys", del),
    command!("unlink", -2, WRITE | FAST, 1, -1, 1, "generic", "UNLINK key [key ...] — delete keys", del),
    command!(
        "exists",
        -2,
        READONLY | FAST,
        1,
        -1,
        1,
        "generic",
        "EXISTS key [key ...] — how many of the keys exist (repeats count)",
        exists
    ),
    command!("type", 2, READONLY | FAST, 1, 1, 1, "generic", "TYPE key — the type of a key's value, or none", type_),
    command!("keys", 2, READONLY, 0, 0, 0, "generic", "KEYS pattern — every key matching a glob pattern", keys),
    command!(
        "scan",
        -2,
        READONLY,
        0,
        0,
        0,
        "generic",
        "SCAN cursor [MATCH pattern] [COUNT count] [TYPE type] — iterate over keys",
        scan
    ),
    command!("randomkey", 1, READONLY, 0, 0, 0, "generic", "RANDOMKEY — a random key", randomkey),
    command!("rename", 3, WRITE, 1, 2, 1, "generic", "RENAME key newkey — rename a key, replacing newkey", rename),
    command!(
        "renamenx",
        3,
        WRITE | FAST,
        1,
        2,
        1,
        "generic",
        "RENAMENX key newkey — rename a key only if newkey does not exist",
        renamenx
    ),
    command!(
        "copy",
        -3,
        WRITE | DENYOOM,
        1,
        2,
        1,
        "generic",
        "COPY source destination [DB db] [REPLACE] — copy a key's value and expiry",
        copy
    ),
    command!("move", 3, WRITE | FAST, 1, 1, 1, "generic", "MOVE key db — move a key to another database", move_),
    command!(
        "touch",
        -2,
        READONLY | FAST,
        1,
        -1,
        1,
        "generic",
        "TOUCH key [key ...] — how many of the keys exist",
        touch
    ),
    command!(
        "expire",
        -3,
        WRITE | FAST,
        1,
        1,
        1,
        "generic",
        "EXPIRE key seconds [NX|XX|GT|LT] — set a key's time to live in seconds",
        expire
    ),
    command!(
        "pexpire",
        -3,
        WRITE | FAST,
        1,
        1,
        1,
        "generic",
        "PEXPIRE key milliseconds [NX|XX|GT|LT] — set a key's time to live in milliseconds",
        pexpire
    ),
    command!(
        "expireat",
        -3,
        WRITE | FAST,
        1,
        1,
        1,
        "generic",
        "EXPIREAT key unix-time-seconds [NX|XX|GT|LT] — set a key's expiry time",
        expireat
    ),
    command!(
        "pexpireat",
        -3,
        WRITE | FAST,
        1,
        1,
        1,
        "generic",
        "PEXPIREAT key unix-time-milliseconds [NX|XX|GT|LT] — set a key's expiry time",
        pexpireat
    ),
    command!(
        "ttl",
        2,
        READONLY | FAST,
        1,
        1,
        1,
        "generic",
        "TTL key — seconds left to live (-2 missing, -1 none)",
        ttl
    ),
    command!(
        "pttl",
        2,
        READONLY | FAST,
        1,
        1,
        1,
        "generic",
        "PTTL key — milliseconds left to live (-2 missing, -1 none)",
        pttl
    ),
    command!(
        "expiretime",
        2,
        READONLY | FAST,
        1,
        1,
        1,
        "generic",
        "EXPIRETIME key — the Unix time in seconds the key expires at",
        expiretime
    ),
    command!(
        "pexpiretime",
        2,
        READONLY | FAST,
        1,
        1,
        1,
        "generic",
        "PEXPIRETIME key — the Unix time in milliseconds the key expires at",
        pexpiretime
    ),
    command!("persist", 2, WRITE | FAST, 1, 1, 1, "generic", "PERSIST key — remove a key's expiry", persist),
    command!(
        "object",
        -2,
        0,
        0,
        0,
        0,
        "generic",
        "OBJECT ENCODING|REFCOUNT|FREQ|HELP [key] — inspect a key's internal representation",
        object
    ),
];

/// Raises a keyspace event for `key` in database `db` (which may differ
/// from the selected one).
fn notify_in(ctx: &mut Ctx, db: u32, event: &'static str, key: &Bytes) {
    if ctx.server.notifications {
        ctx.events.push(KeyEvent { class: 'g', event, db, key: key.clone() });
    }
}

/// Parses a database index argument (`MOVE`, `COPY ... DB`).
fn db_index(ctx: &Ctx, b: &[u8]) -> Result<u32, Frame> {
    let n = strict_i64(b)?;
    if i32::try_from(n).is_err() {
        return Err(NOT_INT);
    }
    if n < 0 || n as usize >= ctx.ks.dbs.len() {
        return Err(DB_RANGE);
    }
    Ok(n as u32)
}

/// `DEL key [key ...]` (also `UNLINK key [key ...]`)
fn del(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let mut n = 0;
    let db = ctx.db();
    for key in args.rest() {
        if ctx.lookup(key).is_some() {
            ctx.apply(Effect::Del { db, key: key.clone() });
            ctx.notify('g', "del", key);
            n += 1;
        }
    }
    Ok(Frame::Integer(n))
}

/// `EXISTS key [key ...]`
fn exists(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let n = args.rest().iter().filter(|k| ctx.lookup_read(k).is_some()).count();
    Ok(Frame::Integer(n as i64))
}

/// `TOUCH key [key ...]`
fn touch(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    exists(ctx, args)
}

/// `TYPE key`
fn type_(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let name = ctx.lookup_read(key).map_or("none", |e| e.value.type_name());
    Ok(Frame::simple(name))
}

/// `KEYS pattern`
fn keys(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let pattern = args.next_bytes()?;
    let all = pattern.as_ref() == b"*";
    let now = ctx.now_ms;
    let db = &ctx.ks.dbs[ctx.session.db as usize];
    let keys: Vec<&[u8]> =
        db.iter().filter(|(k, e)| !e.expired(now) && (all || glob_match(pattern, k))).map(|(k, _)| k).collect();
    Ok(Frame::bulk_array(keys.into_iter()))
}

/// `SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]`
fn scan(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let cursor = super::args::parse_cursor(args.next_bytes()?)?;
    let mut count = 10usize;
    let mut pattern: Option<&Bytes> = None;
    let mut type_name: Option<&Bytes> = None;
    while !args.is_empty() {
        let has_value = args.remaining() >= 2;
        if has_value && args.eat("count") {
            let n = strict_i64(args.next_bytes()?)?;
            if n < 1 {
                return Err(SYNTAX);
            }
            count = usize::try_from(n).unwrap_or(usize::MAX);
        } else if has_value && args.eat("match") {
            let p = args.next_bytes()?;
            pattern = (p.as_ref() != b"*").then_some(p);
        } else if has_value && args.eat("type") {
            type_name = Some(args.next_bytes()?);
        } else {
            return Err(SYNTAX);
        }
    }
    let now = ctx.now_ms;
    let db = ctx.db();
    let mut found = Vec::new();
    let mut expired = Vec::new();
    let next = ctx.ks.dbs[db as usize].scan(cursor, count, |k, e| {
        if pattern.is_some_and(|p| !glob_match(p, k)) {
            return;
        }
        if e.expired(now) {
            expired.push(Bytes::copy_from_slice(k));
            return;
        }
        if type_name.is_some_and(|t| !t.eq_ignore_ascii_case(e.value.type_name().as_bytes())) {
            return;
        }
        found.push(Frame::Bulk(Bytes::copy_from_slice(k)));
    });
    for k in expired {
        ctx.expire_if_due(db, &k);
    }
    Ok(Frame::Array(vec![Frame::Bulk(Bytes::from(next.to_string())), Frame::Array(found)]))
}

/// `RANDOMKEY`
fn randomkey(ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    let db = ctx.db();
    let paused = ctx.server.expiry_paused(ctx.now_ms);
    let mut tries = 0;
    loop {
        let Some(key) = ctx.ks.dbs[db as usize].random_key(|| ctx.server.random()).map(Bytes::copy_from_slice) else {
            return Ok(Frame::Null);
        };
        // Each expired pick is deleted, so this ends; during a pause expired
        // keys stay, and after 100 expired picks one is the answer (as in
        // Redis 7.2; 7.0 loops forever when every key has expired).
        tries += 1;
        if !ctx.expire_if_due(db, &key) || (paused && tries >= 100) {
            return Ok(Frame::Bulk(key));
        }
    }
}

/// Shared body of `RENAME` and `RENAMENX`.
fn rename_generic(ctx: &mut Ctx, args: &mut Args, nx: bool) -> CmdResult {
    let from = args.next_bytes()?.clone();
    let to = args.next_bytes()?.clone();
    if ctx.lookup(&from).is_none() {
        return Err(NO_SUCH_KEY);
    }
    if from == to {
        return Ok(if nx { Frame::Integer(0) } else { OK });
    }
    if nx && ctx.lookup(&to).is_some() {
        return Ok(Frame::Integer(0));
    }
    // Expire a stale destination first, so the log deletes it explicitly.
    ctx.lookup(&to);
    let db = ctx.db();
    ctx.apply(Effect::Rename { db, from: from.clone(), to: to.clone() });
    ctx.notify('g', "rename_from", &from);
    ctx.notify('g', "rename_to", &to);
    Ok(if nx { Frame::Integer(1) } else { OK })
}

/// `RENAME key newkey`
fn rename(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    rename_generic(ctx, args, false)
}

/// `RENAMENX key newkey`
fn renamenx(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    rename_generic(ctx, args, true)
}

/// `COPY source destination [DB destination-db] [REPLACE]`
fn copy(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let src = args.next_bytes()?.clone();
    let dst = args.next_bytes()?.clone();
    let src_db = ctx.db();
    let mut dst_db = src_db;
    let mut replace = false;
    while !args.is_empty() {
        if args.eat("replace") {
            replace = true;
        } else if args.remaining() >= 2 && args.eat("db") {
            dst_db = db_index(ctx, args.next_bytes()?)?;
        } else {
            return Err(SYNTAX);
        }
    }
    if src_db == dst_db && src == dst {
        return Err(Frame::error("ERR source and destination objects are the same"));
    }
    let Some(entry) = ctx.lookup_read(&src) else { return Ok(Frame::Integer(0)) };
    // A copy (short data copied), not a clone sharing the source's bytes.
    let value = entry.value.to_stored();
    let expire = entry.expire_at().map_or(ExpireChange::Clear, ExpireChange::At);
    if ctx.lookup_in(dst_db, &dst).is_some() && !replace {
        return Ok(Frame::Integer(0));
    }
    ctx.apply(Effect::Put { db: dst_db, key: dst.clone(), value, expire });
    notify_in(ctx, dst_db, "copy_to", &dst);
    Ok(Frame::Integer(1))
}

/// `MOVE key db`
fn move_(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?.clone();
    let to_db = db_index(ctx, args.next_bytes()?)?;
    let db = ctx.db();
    if to_db == db {
        return Err(Frame::error("ERR source and destination objects are the same"));
    }
    if ctx.lookup(&key).is_none() || ctx.lookup_in(to_db, &key).is_some() {
        return Ok(Frame::Integer(0));
    }
    ctx.apply(Effect::Move { db, key: key.clone(), to_db });
    notify_in(ctx, db, "move_from", &key);
    notify_in(ctx, to_db, "move_to", &key);
    Ok(Frame::Integer(1))
}

/// The conditions of `EXPIRE ... [NX|XX|GT|LT]`.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct ExpireCond {
    nx: bool,
    xx: bool,
    gt: bool,
    lt: bool,
}

/// Parses the `NX|XX|GT|LT` options with Redis's errors.
fn parse_expire_cond(opts: &[Bytes]) -> Result<ExpireCond, Frame> {
    let mut c = ExpireCond::default();
    for o in opts {
        match o.to_ascii_lowercase().as_slice() {
            b"nx" => c.nx = true,
            b"xx" => c.xx = true,
            b"gt" => c.gt = true,
            b"lt" => c.lt = true,
            _ => return Err(Frame::error_owned(format!("ERR Unsupported option {}", String::from_utf8_lossy(o)))),
        }
    }
    if c.nx && (c.xx || c.gt || c.lt) {
        return Err(Frame::error("ERR NX and XX, GT or LT options at the same time are not compatible"));
    }
    if c.gt && c.lt {
        return Err(Frame::error("ERR GT and LT options at the same time are not compatible"));
    }
    Ok(c)
}

/// Whether a new deadline `when` passes the conditions, given the key's
/// current one (`None`: no expiry, an infinite time to live).
fn expire_allowed(c: ExpireCond, current: Option<i64>, when: i64) -> bool {
    if (c.nx && current.is_some()) || (c.xx && current.is_none()) {
        return false;
    }
    if c.gt && current.is_none_or(|cur| when <= cur) {
        return false;
    }
    !(c.lt && current.is_some_and(|cur| when >= cur))
}

/// Shared body of the `EXPIRE` family: `seconds` scales the argument,
/// `relative` adds the current time.
fn expire_generic(ctx: &mut Ctx, args: &mut Args, name: &str, seconds: bool, relative: bool) -> CmdResult {
    let key = args.next_bytes()?.clone();
    let raw = args.next_bytes()?;
    let cond = parse_expire_cond(args.rest())?;
    let mut when = strict_i64(raw)?;
    if seconds {
        when = when.checked_mul(1000).ok_or_else(|| invalid_expire(name))?;
    }
    if relative {
        when = when.checked_add(ctx.now_ms as i64).ok_or_else(|| invalid_expire(name))?;
    }
    let Some(entry) = ctx.lookup(&key) else { return Ok(Frame::Integer(0)) };
    let current = entry.expire_at().map(|t| t as i64);
    if !expire_allowed(cond, current, when) {
        return Ok(Frame::Integer(0));
    }
    let db = ctx.db();
    if when <= ctx.now_ms as i64 {
        ctx.apply(Effect::Del { db, key: key.clone() });
        ctx.notify('g', "del", &key);
    } else {
        ctx.apply(Effect::SetExpire { db, key: key.clone(), at: Some(when as u64) });
        ctx.notify('g', "expire", &key);
    }
    Ok(Frame::Integer(1))
}

/// `EXPIRE key seconds [NX|XX|GT|LT]`
fn expire(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    expire_generic(ctx, args, "expire", true, true)
}

/// `PEXPIRE key milliseconds [NX|XX|GT|LT]`
fn pexpire(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    expire_generic(ctx, args, "pexpire", false, true)
}

/// `EXPIREAT key unix-time-seconds [NX|XX|GT|LT]`
fn expireat(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    expire_generic(ctx, args, "expireat", true, false)
}

/// `PEXPIREAT key unix-time-milliseconds [NX|XX|GT|LT]`
fn pexpireat(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    expire_generic(ctx, args, "pexpireat", false, false)
}

/// Shared body of `TTL`, `PTTL`, `EXPIRETIME` and `PEXPIRETIME`.
fn ttl_generic(ctx: &mut Ctx, args: &mut Args, ms: bool, absolute: bool) -> CmdResult {
    let key = args.next_bytes()?;
    let now = ctx.now_ms;
    let Some(entry) = ctx.lookup_read(key) else { return Ok(Frame::Integer(-2)) };
    let Some(at) = entry.expire_at() else { return Ok(Frame::Integer(-1)) };
    let t = if absolute { at } else { at.saturating_sub(now) } as i64;
    // Rounded to seconds in a wider type: a deadline near `i64::MAX`
    // (`PEXPIREAT key 9223372036854775807`) must not overflow.
    Ok(Frame::Integer(if ms { t } else { ((i128::from(t) + 500) / 1000) as i64 }))
}

/// `TTL key`
fn ttl(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    ttl_generic(ctx, args, false, false)
}

/// `PTTL key`
fn pttl(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    ttl_generic(ctx, args, true, false)
}

/// `EXPIRETIME key`
fn expiretime(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    ttl_generic(ctx, args, false, true)
}

/// `PEXPIRETIME key`
fn pexpiretime(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    ttl_generic(ctx, args, true, true)
}

/// `PERSIST key`
fn persist(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?.clone();
    if ctx.lookup(&key).is_none_or(|e| e.expire_at().is_none()) {
        return Ok(Frame::Integer(0));
    }
    let db = ctx.db();
    ctx.apply(Effect::SetExpire { db, key: key.clone(), at: None });
    ctx.notify('g', "persist", &key);
    Ok(Frame::Integer(1))
}

/// The encoding Redis 7.0 would report for `v` with its default
/// thresholds, judged from the content (Redis's choice also depends on the
/// value's history, e.g. `APPEND` always leaves a `raw` string). Hashes
/// and sorted sets know their history: past Redis's limits once, they stay
/// `hashtable` / `skiplist`.
fn encoding(v: &Value) -> &'static str {
    match v {
        Value::Str(s) if s.len() <= 20 && crate::resp::decode::parse_i64(s).is_some() => "int",
        Value::Str(s) if s.len() <= 44 => "embstr",
        Value::Str(_) => "raw",
        Value::List(_) => "quicklist",
        // A hash that grew large stays "hashtable" even once it shrinks.
        Value::Hash(h) if h.is_listpack() => "listpack",
        Value::Hash(_) => "hashtable",
        Value::Set(m) => {
            if m.len() <= crate::state::set::INTSET_MAX_ENTRIES
                && m.iter().all(|x| crate::resp::decode::parse_i64(x).is_some())
            {
                "intset"
            } else {
                "hashtable"
            }
        }
        // The set's own form, which follows Redis's limits and, like
        // Redis, never goes back once a set has grown past them.
        Value::ZSet(z) => {
            if z.is_compact() {
                "listpack"
            } else {
                "skiplist"
            }
        }
    }
}

/// `OBJECT HELP` text.
const OBJECT_HELP: &[&str] = &[
    "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "ENCODING <key>",
    "    Return the kind of internal representation used in order to store the value",
    "    associated with a <key>.",
    "FREQ <key>",
    "    Return the access frequency index of the <key>. The returned integer is",
    "    proportional to the logarithm of the recent access frequency of the key.",
    "REFCOUNT <key>",
    "    Return the number of references of the value associated with the specified",
    "    <key>.",
    "HELP",
    "    Prints this help.",
];

/// `OBJECT` subcommands.
pub static OBJECT_SUBCOMMANDS: &[super::server::Subcommand] = &[
    sub_of(
        "object|encoding",
        3,
        READONLY,
        2,
        "OBJECT ENCODING key — the internal encoding of a key's value",
        object_encoding,
    ),
    sub_of(
        "object|refcount",
        3,
        READONLY,
        2,
        "OBJECT REFCOUNT key — the number of references to a key's value",
        object_refcount,
    ),
    sub_of(
        "object|freq",
        3,
        READONLY,
        2,
        "OBJECT FREQ key — a key's access frequency (LFU policies only)",
        object_freq,
    ),
    sub_of("object|help", 2, LOADING | STALE, 0, "OBJECT HELP — this help", object_help),
];

/// `OBJECT ENCODING|REFCOUNT|FREQ key`, `OBJECT HELP`
fn object(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    super::server::dispatch(ctx, args, "object", OBJECT_SUBCOMMANDS)
}

/// `OBJECT ENCODING key`: null for a missing key.
fn object_encoding(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let Some(entry) = ctx.lookup_read_quietly(key) else { return Ok(Frame::Null) };
    Ok(Frame::bulk_static(encoding(&entry.value)))
}

/// `OBJECT REFCOUNT key`: Redis shares the objects of the integers
/// 0..10000 (a huge count); any other value has one reference.
fn object_refcount(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let Some(entry) = ctx.lookup_read_quietly(key) else { return Ok(Frame::Null) };
    let shared = matches!(&entry.value, Value::Str(s)
        if crate::resp::decode::parse_i64(s).is_some_and(|n| (0..10_000).contains(&n)));
    Ok(Frame::Integer(if shared { i32::MAX as i64 } else { 1 }))
}

/// `OBJECT FREQ key`: refused, as Redis refuses it without an LFU
/// `maxmemory-policy` (there is no eviction here).
fn object_freq(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    if ctx.lookup_read_quietly(key).is_none() {
        return Ok(Frame::Null);
    }
    Err(Frame::error(
        "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when \
         switching between policies at runtime LRU and LFU data will take some time to adjust.",
    ))
}

/// `OBJECT HELP`
fn object_help(_ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    Ok(Frame::Array(OBJECT_HELP.iter().map(|l| Frame::simple(l)).collect()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::testkit::{Harness, b, text};

    /// One key of every type: `s` string, `l` list, `h` hash, `t` set, `z` zset.
    fn all_types() -> Harness {
        let mut h = Harness::new();
        h.run("set s v");
        h.seed(Effect::ListPush { db: 0, key: b("l"), left: false, items: vec![b("a"), b("b")] });
        h.seed(Effect::HashSet { db: 0, key: b("h"), pairs: vec![(b("f"), b("v"))] });
        h.seed(Effect::SetAdd { db: 0, key: b("t"), members: vec![b("m")] });
        h.seed(Effect::ZAdd { db: 0, key: b("z"), pairs: vec![(1.5, b("m"))] });
        h
    }

    fn scan_all(h: &mut Harness, extra: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut cursor = "0".to_string();
        loop {
            let Frame::Array(reply) = h.run(&format!("scan {cursor} count 3 {extra}")) else { panic!("scan reply") };
            let (Frame::Bulk(c), Frame::Array(keys)) = (&reply[0], &reply[1]) else { panic!("scan shape") };
            out.extend(keys.iter().map(|k| match k {
                Frame::Bulk(k) => String::from_utf8_lossy(k).into_owned(),
                _ => panic!("key"),
            }));
            cursor = String::from_utf8_lossy(c).into_owned();
            if cursor == "0" {
                break;
            }
        }
        out.sort();
        out
    }

    #[test]
    fn ttl_of_the_largest_deadline_does_not_overflow() {
        // Found by comparing with redis-server: this crashed the broker.
        let mut h = Harness::new();
        h.run("set k v");
        assert_eq!(h.run("pexpireat k 9223372036854775807"), Frame::Integer(1));
        assert_eq!(h.run("expiretime k"), Frame::Integer(9223372036854776));
        assert_eq!(h.run("pexpiretime k"), Frame::Integer(i64::MAX));
        assert_eq!(h.run("ttl k"), Frame::Integer(9223372036853776));
    }

    #[test]
    fn type_and_scan_type_cover_every_type() {
        let mut h = all_types();
        for (k, t) in [("s", "string"), ("l", "list"), ("h", "hash"), ("t", "set"), ("z", "zset"), ("n", "none")] {
            assert_eq!(h.run(&format!("type {k}")), Frame::simple(t));
        }
        assert_eq!(scan_all(&mut h, ""), ["h", "l", "s", "t", "z"]);
        assert_eq!(scan_all(&mut h, "type LIST"), ["l"]);
        assert_eq!(scan_all(&mut h, "type zset match *"), ["z"]);
        assert!(scan_all(&mut h, "type nosuchtype").is_empty());
    }

    #[test]
    fn copy_and_move_every_type_with_ttl() {
        let mut h = all_types();
        h.run("pexpire l 5000");
        for k in ["s", "l", "h", "t", "z"] {
            assert_eq!(h.run(&format!("copy {k} {k}2")), Frame::Integer(1), "{k}");
            assert_eq!(h.ks.dbs[0].get(k.as_bytes()), h.ks.dbs[0].get(format!("{k}2").as_bytes()), "{k}");
            assert_eq!(h.run(&format!("copy {k} {k} db 3")), Frame::Integer(1), "{k}");
        }
        assert_eq!(h.ks.dbs[3].get(b"l").unwrap().expire_at(), Some(1_005_000));
        // The copies are independent of the source.
        h.run("del l2");
        assert!(matches!(h.ks.dbs[0].get(b"l").map(|e| &e.value), Some(Value::List(l)) if l.len() == 2));
        assert_eq!(h.run("copy s l"), Frame::Integer(0));
        assert_eq!(h.run("copy s l replace"), Frame::Integer(1));
        assert_eq!(h.run("type l"), Frame::simple("string"));
        assert_eq!(h.ks.dbs[0].get(b"l").unwrap().expire_at(), None);
        assert_eq!(h.run("move z 3"), Frame::Integer(0));
        assert_eq!(h.run("move z 4"), Frame::Integer(1));
        assert!(matches!(h.ks.dbs[4].get(b"z").map(|e| &e.value), Some(Value::ZSet(_))));
    }

    #[test]
    fn events_name_the_right_database() {
        let mut h = Harness::new();
        h.run("set a 1");
        h.take_events();
        h.run("copy a b db 2");
        h.run("move a 5");
        h.run("rename b c");
        h.run("set c 1");
        h.run("rename c d");
        h.run("expire d 10");
        h.run("persist d");
        h.run("expire d -1");
        h.run("set e 1");
        h.run("unlink e");
        let ev: Vec<String> =
            h.take_events().iter().map(|e| format!("{}:{}:{}", e.db, e.event, text(&e.key))).collect();
        assert_eq!(
            ev,
            [
                "2:copy_to:b",
                "0:move_from:a",
                "5:move_to:a",
                "0:set:c",
                "0:rename_from:c",
                "0:rename_to:d",
                "0:expire:d",
                "0:persist:d",
                "0:del:d",
                "0:set:e",
                "0:del:e"
            ]
        );
    }

    #[test]
    fn expiry_effects_are_absolute() {
        let mut h = Harness::new();
        h.run("set k v");
        h.run("expire k 10");
        assert_eq!(h.effects.last(), Some(&Effect::SetExpire { db: 0, key: b("k"), at: Some(1_010_000) }));
        h.run("pexpire k 10");
        assert_eq!(h.effects.last(), Some(&Effect::SetExpire { db: 0, key: b("k"), at: Some(1_000_010) }));
        assert_eq!(h.run("pttl k"), Frame::Integer(10));
        assert_eq!(h.run("ttl k"), Frame::Integer(0));
        assert_eq!(h.run("pexpiretime k"), Frame::Integer(1_000_010));
        assert_eq!(h.run("expiretime k"), Frame::Integer(1000));
        h.run("expireat k 2000");
        assert_eq!(h.effects.last(), Some(&Effect::SetExpire { db: 0, key: b("k"), at: Some(2_000_000) }));
        assert_eq!(h.run("ttl k"), Frame::Integer(1000));
        h.run("pexpireat k 1000000");
        assert_eq!(h.effects.last(), Some(&Effect::Del { db: 0, key: b("k") }));
        assert_eq!(h.run("exists k"), Frame::Integer(0));
    }

    #[test]
    fn expired_keys_are_invisible_and_reclaimed() {
        let mut h = Harness::new();
        h.run("set gone v px 1");
        h.run("set kept v");
        // Alive through its deadline's millisecond, gone from the next.
        h.now_ms += 1;
        assert_eq!(h.run("exists gone"), Frame::Integer(1));
        h.now_ms += 1;
        assert_eq!(h.run("keys *"), Frame::Array(vec![Frame::bulk(b"kept")]));
        assert_eq!(scan_all(&mut h, ""), ["kept"]);
        // SCAN reclaimed it.
        assert!(h.ks.dbs[0].get(b"gone").is_none());
        h.run("set gone v px 1");
        h.now_ms += 2;
        for _ in 0..20 {
            assert_eq!(h.run("randomkey"), Frame::bulk(b"kept"));
        }
        h.run("del kept");
        assert_eq!(h.run("randomkey"), Frame::Null);
        h.run("set a v px 1");
        h.now_ms += 2;
        assert_eq!(h.run("rename a b"), NO_SUCH_KEY);
        assert_eq!(h.run("ttl a"), Frame::Integer(-2));
    }

    fn opts(s: &str) -> Result<ExpireCond, Frame> {
        let a: Vec<Bytes> = s.split_whitespace().map(|w| Bytes::copy_from_slice(w.as_bytes())).collect();
        parse_expire_cond(&a)
    }

    #[test]
    fn object_encodings() {
        let mut h = all_types();
        let enc = |h: &mut Harness, k: &str| h.run(&format!("object encoding {k}"));
        assert_eq!(enc(&mut h, "s"), Frame::bulk(b"embstr"));
        assert_eq!(enc(&mut h, "l"), Frame::bulk(b"quicklist"));
        assert_eq!(enc(&mut h, "h"), Frame::bulk(b"listpack"));
        assert_eq!(enc(&mut h, "t"), Frame::bulk(b"hashtable"));
        assert_eq!(enc(&mut h, "z"), Frame::bulk(b"listpack"));
        assert_eq!(enc(&mut h, "nokey"), Frame::Null);
        h.run("set s 42");
        assert_eq!(enc(&mut h, "s"), Frame::bulk(b"int"));
        assert_eq!(h.run("object refcount s"), Frame::Integer(i32::MAX as i64));
        h.run(&format!("set s {}", "x".repeat(45)));
        assert_eq!(enc(&mut h, "s"), Frame::bulk(b"raw"));
        assert_eq!(h.run("object refcount s"), Frame::Integer(1));
        h.seed(Effect::SetAdd { db: 0, key: b("ints"), members: vec![b("1"), b("-2")] });
        assert_eq!(enc(&mut h, "ints"), Frame::bulk(b"intset"));
        h.seed(Effect::HashSet { db: 0, key: b("h"), pairs: vec![(b("f"), Bytes::from(vec![b'v'; 65]))] });
        assert_eq!(enc(&mut h, "h"), Frame::bulk(b"hashtable"));
        assert_eq!(
            h.run("object encoding"),
            Frame::error("ERR wrong number of arguments for 'object|encoding' command")
        );
        assert_eq!(h.run("object help x"), Frame::error("ERR wrong number of arguments for 'object|help' command"));
        assert_eq!(h.run("object Foo"), Frame::error("ERR unknown subcommand 'Foo'. Try OBJECT HELP."));
        assert!(matches!(h.run("object freq s"), Frame::Error(e) if e.starts_with("ERR An LFU maxmemory policy")));
        assert!(matches!(h.run("object help"), Frame::Array(lines) if lines.len() == 12));
    }

    #[test]
    fn reads_count_hits_and_misses_writes_do_not() {
        let mut h = Harness::new();
        h.run("set a 1");
        let stats = |h: &Harness| (h.server.stats.keyspace_hits, h.server.stats.keyspace_misses);
        for (cmd, hits, misses) in [
            ("get a", 1, 0),
            ("get b", 0, 1),
            ("mget a b a", 2, 1),
            ("exists a b", 1, 1),
            ("type a", 1, 0),
            ("ttl b", 0, 1),
            ("strlen a", 1, 0),
            ("getrange a 0 1", 1, 0),
            ("object encoding a", 1, 0),
            ("copy a c", 1, 0),
            ("incr a", 0, 0),
            ("expire a 100", 0, 0),
            ("rename a x", 0, 0),
            ("setnx b 1", 0, 0),
            ("del nokey", 0, 0),
        ] {
            let before = stats(&h);
            h.run(cmd);
            let after = stats(&h);
            assert_eq!((after.0 - before.0, after.1 - before.1), (hits, misses), "{cmd}");
        }
    }

    /// `(name, arity, flags, first, last, step)` as `COMMAND INFO` of
    /// redis-server 7.0 reports them.
    const REDIS_COMMAND_INFO: &[(&str, i32, &str, i32, i32, i32)] = &[
        ("get", 2, "readonly fast", 1, 1, 1),
        ("set", -3, "write denyoom", 1, 1, 1),
        ("setnx", 3, "write denyoom fast", 1, 1, 1),
        ("setex", 4, "write denyoom", 1, 1, 1),
        ("psetex", 4, "write denyoom", 1, 1, 1),
        ("getset", 3, "write denyoom fast", 1, 1, 1),
        ("getdel", 2, "write fast", 1, 1, 1),
        ("getex", -2, "write fast", 1, 1, 1),
        ("mget", -2, "readonly fast", 1, -1, 1),
        ("mset", -3, "write denyoom", 1, -1, 2),
        ("msetnx", -3, "write denyoom", 1, -1, 2),
        ("append", 3, "write denyoom fast", 1, 1, 1),
        ("strlen", 2, "readonly fast", 1, 1, 1),
        ("getrange", 4, "readonly", 1, 1, 1),
        ("substr", 4, "readonly", 1, 1, 1),
        ("setrange", 4, "write denyoom", 1, 1, 1),
        ("incr", 2, "write denyoom fast", 1, 1, 1),
        ("decr", 2, "write denyoom fast", 1, 1, 1),
        ("incrby", 3, "write denyoom fast", 1, 1, 1),
        ("decrby", 3, "write denyoom fast", 1, 1, 1),
        ("incrbyfloat", 3, "write denyoom fast", 1, 1, 1),
        ("lcs", -3, "readonly", 1, 2, 1),
        ("del", -2, "write", 1, -1, 1),
        ("unlink", -2, "write fast", 1, -1, 1),
        ("exists", -2, "readonly fast", 1, -1, 1),
        ("type", 2, "readonly fast", 1, 1, 1),
        ("keys", 2, "readonly", 0, 0, 0),
        ("scan", -2, "readonly", 0, 0, 0),
        ("randomkey", 1, "readonly", 0, 0, 0),
        ("rename", 3, "write", 1, 2, 1),
        ("renamenx", 3, "write fast", 1, 2, 1),
        ("copy", -3, "write denyoom", 1, 2, 1),
        ("move", 3, "write fast", 1, 1, 1),
        ("touch", -2, "readonly fast", 1, -1, 1),
        ("expire", -3, "write fast", 1, 1, 1),
        ("pexpire", -3, "write fast", 1, 1, 1),
        ("expireat", -3, "write fast", 1, 1, 1),
        ("pexpireat", -3, "write fast", 1, 1, 1),
        ("ttl", 2, "readonly fast", 1, 1, 1),
        ("pttl", 2, "readonly fast", 1, 1, 1),
        ("expiretime", 2, "readonly fast", 1, 1, 1),
        ("pexpiretime", 2, "readonly fast", 1, 1, 1),
        ("persist", 2, "write fast", 1, 1, 1),
        ("object", -2, "", 0, 0, 0),
    ];

    #[test]
    fn table_matches_redis_command_info() {
        let ours: Vec<&crate::cmd::Command> = super::COMMANDS.iter().chain(crate::cmd::string::COMMANDS).collect();
        assert_eq!(ours.len(), REDIS_COMMAND_INFO.len());
        for &(name, arity, flags, first, last, step) in REDIS_COMMAND_INFO {
            let c = crate::cmd::lookup(name.as_bytes()).unwrap_or_else(|| panic!("{name} missing"));
            let names: Vec<&str> =
                crate::cmd::flags::NAMES.iter().filter(|(bit, _)| c.flags & bit != 0).map(|(_, n)| *n).collect();
            let mut want: Vec<&str> = flags.split_whitespace().collect();
            let mut got = names.clone();
            want.sort();
            got.sort();
            assert_eq!((c.arity, got, c.first_key, c.last_key, c.step), (arity, want, first, last, step), "{name}");
        }
    }

    #[test]
    fn expire_options() {
        assert_eq!(opts("NX"), Ok(ExpireCond { nx: true, ..Default::default() }));
        assert_eq!(opts("xx gt"), Ok(ExpireCond { xx: true, gt: true, ..Default::default() }));
        assert!(opts("nx xx").map_err(|e| format!("{e:?}")).unwrap_err().contains("NX and XX, GT or LT"));
        assert!(opts("lt nx").map_err(|e| format!("{e:?}")).unwrap_err().contains("NX and XX, GT or LT"));
        assert!(opts("gt lt").map_err(|e| format!("{e:?}")).unwrap_err().contains("GT and LT"));
        assert_eq!(opts("foo"), Err(Frame::error("ERR Unsupported option foo")));
    }

    #[test]
    fn expire_conditions() {
        let c = |s: &str| opts(s).unwrap();
        assert!(expire_allowed(c("nx"), None, 5));
        assert!(!expire_allowed(c("nx"), Some(1), 5));
        assert!(!expire_allowed(c("xx"), None, 5));
        assert!(!expire_allowed(c("gt"), None, 5));
        assert!(expire_allowed(c("gt"), Some(4), 5));
        assert!(!expire_allowed(c("gt"), Some(5), 5));
        assert!(expire_allowed(c("lt"), None, 5));
        assert!(expire_allowed(c("lt"), Some(6), 5));
        assert!(!expire_allowed(c("lt"), Some(5), 5));
        assert!(!expire_allowed(c("xx lt"), None, 5));
    }
}
