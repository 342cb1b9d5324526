//! Generative test of the durability promise: for random sequences of
//! write commands (every command in the table that can write, with
//! arguments from a small vocabulary so keys collide across types and
//! numbers hit their edges, the clock moving so keys expire, transactions,
//! a client parked on a blocking command and woken later), the effects the
//! commands record rebuild exactly the keyspace clients saw: replayed in
//! memory, through the log codec and the real recovery code (also with the
//! log torn at any byte), from a snapshot of the final keyspace, and from a
//! point-in-time snapshot taken while the commands ran plus the log after
//! it. Along the way: no panic, no empty collection stored, each database's
//! deadline index true, a blocked command changes nothing but expired keys,
//! and what a blocking pop hands back when its reply is lost restores what
//! it took.
//!
//! `PROPTEST_CASES` raises the number of cases (128 by default).

use bytes::Bytes;
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::codec::{self, Reader};
use super::format;
use super::recover;
use super::snapshot::{self, SnapWalk};
use super::store::{Store, StoreFile};
use crate::broker::pubsub::ClientOutput;
use crate::cmd::testkit::Harness;
use crate::cmd::{Block, Session};
use crate::state::{Effect, Keyspace, Value};

/// Databases of the harness's keyspace.
const DBS: usize = 16;

// ---------------------------------------------------------------------------
// An in-memory data directory for the recovery code.

/// Files by path, shared by the store and its open files.
#[derive(Clone, Default)]
struct MemStore {
    files: Arc<Mutex<BTreeMap<PathBuf, Vec<u8>>>>,
}

struct MemFile {
    files: Arc<Mutex<BTreeMap<PathBuf, Vec<u8>>>>,
    path: PathBuf,
}

impl StoreFile for MemFile {
    fn append(&mut self, buf: &[u8]) -> io::Result<()> {
        self.files.lock().unwrap().entry(self.path.clone()).or_default().extend_from_slice(buf);
        Ok(())
    }

    fn sync(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn not_found(path: &Path) -> io::Error {
    io::Error::new(io::ErrorKind::NotFound, path.display().to_string())
}

impl Store for MemStore {
    fn create(&self, path: &Path, _preallocate: bool) -> io::Result<Box<dyn StoreFile>> {
        self.files.lock().unwrap().insert(path.to_owned(), Vec::new());
        Ok(Box::new(MemFile { files: self.files.clone(), path: path.to_owned() }))
    }

    fn open_append(&self, path: &Path, at: u64, _preallocate: bool) -> io::Result<Box<dyn StoreFile>> {
        let mut files = self.files.lock().unwrap();
        let f = files.get_mut(path).ok_or_else(|| not_found(path))?;
        f.truncate(at as usize);
        Ok(Box::new(MemFile { files: self.files.clone(), path: path.to_owned() }))
    }

    fn open_read(&self, path: &Path) -> io::Result<Box<dyn io::Read + Send>> {
        let data = self.files.lock().unwrap().get(path).cloned().ok_or_else(|| not_found(path))?;
        Ok(Box::new(io::Cursor::new(data)))
    }

    fn truncate(&self, path: &Path, len: u64) -> io::Result<()> {
        let mut files = self.files.lock().unwrap();
        files.get_mut(path).ok_or_else(|| not_found(path))?.truncate(len as usize);
        Ok(())
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        let mut files = self.files.lock().unwrap();
        let data = files.remove(from).ok_or_else(|| not_found(from))?;
        files.insert(to.to_owned(), data);
        Ok(())
    }

    fn remove(&self, path: &Path) -> io::Result<()> {
        self.files.lock().unwrap().remove(path).map(|_| ()).ok_or_else(|| not_found(path))
    }

    fn sync_dir(&self, _dir: &Path) -> io::Result<()> {
        Ok(())
    }

    fn list(&self, dir: &Path) -> io::Result<Vec<String>> {
        let files = self.files.lock().unwrap();
        Ok(files
            .keys()
            .filter(|p| p.parent() == Some(dir))
            .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .collect())
    }
}

/// A log segment as written by [`MemStore::write_segment`].
struct Segment {
    /// Every record.
    whole: Vec<u8>,
    /// What the file holds (cut, zeros after).
    file: Vec<u8>,
    /// The offset just past each unit of records.
    ends: Vec<usize>,
}

/// The directory every [`MemStore`] test uses.
fn dir() -> PathBuf {
    PathBuf::from("/data")
}

impl MemStore {
    fn put(&self, name: String, data: Vec<u8>) {
        self.files.lock().unwrap().insert(dir().join(name), data);
    }

    /// Writes one log segment holding `units` (each a group of effects the
    /// broker commits whole), numbered from `first`, cut to its first `cut`
    /// bytes (a crash in the middle of an append), then `zeros` zero bytes
    /// (space the store writes ahead). Returns the whole segment, the file
    /// written, and where each unit ends.
    fn write_segment(&self, first: u64, units: &[Vec<Effect>], cut: Option<usize>, zeros: usize) -> Segment {
        let mut whole = format::log_header(first).to_vec();
        let mut seq = first;
        let mut ends = Vec::with_capacity(units.len());
        for unit in units {
            for (i, e) in unit.iter().enumerate() {
                super::encode_record(&mut whole, seq, e, i + 1 == unit.len());
                seq += 1;
            }
            ends.push(whole.len());
        }
        let mut file = whole.clone();
        if let Some(cut) = cut {
            file.truncate(cut);
        }
        file.resize(file.len() + zeros, 0);
        self.put(format::segment_name(first), file.clone());
        Segment { whole, file, ends }
    }

    /// Writes a snapshot consistent with record `seq` from framed entries.
    fn write_snapshot(&self, seq: u64, entries: &[u8], count: u64) {
        let mut buf = format::snap_header(seq, 0).to_vec();
        buf.extend_from_slice(entries);
        let mut end = vec![format::SNAP_END];
        codec::put_varint(&mut end, count);
        format::put_frame(&mut buf, &end);
        self.put(format::snapshot_name(seq), buf);
    }

    fn recover(&self) -> recover::Recovered {
        let r = self.recover_torn();
        assert!(r.torn_tail.is_none(), "torn tail: {:?}", r.torn_tail);
        r
    }

    /// Recovers, allowing a torn tail.
    fn recover_torn(&self) -> recover::Recovered {
        recover::recover(self, &dir(), DBS).expect("recovery succeeds")
    }
}

// ---------------------------------------------------------------------------
// The command vocabulary.

/// Every key; each family mostly uses its own two (see [`home_keys`]), so
/// commands find data of their type, and now and then another's.
const KEYS: &[&str] = &["s", "t", "l", "k", "h", "g", "u", "v", "z", "y", ""];
const VALUES: &[&str] = &[
    "x",
    "",
    "0",
    "1",
    "-1",
    "10",
    "3.5",
    "-0",
    "1e308",
    "inf",
    "9223372036854775807",
    "-9223372036854775808",
    "abc",
    " 1",
    "0x10",
    "17179869184",
    "\0\r\n\u{ff}",
];
const INTS: &[&str] = &[
    "1",
    "0",
    "-1",
    "2",
    "-2",
    "3",
    "10",
    "-10",
    "100",
    "9223372036854775807",
    "-9223372036854775808",
    "x",
    "1.5",
    "",
];
const FLOATS: &[&str] = &["1", "0", "-1", "0.1", "-0", "2.5e3", "1e308", "-1e308", "inf", "-inf", "nan", "x", "5e-324"];
const FIELDS: &[&str] = &["f", "g", "h", "i"];
const MEMBERS: &[&str] = &["m", "n", "o", "p", "q"];
const SCORES: &[&str] =
    &["1", "0", "-1", "2.5", "-0", "inf", "-inf", "+inf", "nan", "x", "1e308", "-1e308", "5", "3", "0.1"];
/// Range bounds of every kind (the wrong kind is an error path).
const BOUNDS: &[&str] =
    &["0", "1", "-1", "2", "(1", "-inf", "+inf", "(2.5", "[m", "(n", "-", "+", "[o", "x", "(", "100"];
const SCORE_BOUNDS: &[&str] = &["-inf", "+inf", "1", "(1", "0", "2.5", "(2.5", "-1", "inf", "(-inf", "x"];
const LEX_BOUNDS: &[&str] = &["-", "+", "[n", "(n", "[m", "(o", "[q", "(", "m"];
const COUNTS: &[&str] = &["1", "2", "0", "3", "10", "-1", "x", "9223372036854775807"];
const OFFSETS: &[&str] = &["0", "1", "3", "10", "-1", "536870912", "x", "100"];
/// Bit offsets: ordinary ones first, then growth, refused and malformed ones.
const BIT_OFFSETS: &[&str] = &["0", "7", "8", "13", "100", "-1", "4294967296", "x", "-0"];
const BITS: &[&str] = &["1", "0", "1", "0", "2", "x"];
const BITOPS: &[&str] = &["AND", "OR", "XOR", "NOT", "foo"];
const FIELD_TYPES: &[&str] = &["u8", "i8", "i64", "u63", "u1", "i13", "u64", "x"];
const FIELD_OFFSETS: &[&str] = &["0", "5", "#1", "#3", "100", "-1", "4294967296", "x"];
const FIELD_VALUES: &[&str] = &["1", "-1", "200", "-300", "9223372036854775807", "-9223372036854775808", "x"];
const OVERFLOWS: &[&str] = &["WRAP", "SAT", "FAIL", "foo"];
const DB_ARGS: &[&str] = &["1", "0", "2", "15", "16", "-1", "x"];
const SECS: &[&str] =
    &["1", "2", "0", "-1", "10", "100", "9223372036854775807", "9223372036854776", "x", "1.5", "-9223372036854775808"];
const MILLIS: &[&str] = &["1", "500", "0", "1000", "-1", "100000", "9223372036854775807", "x", "2500"];
/// Absolute times: `@s:N` / `@ms:N` are the clock plus N (seconds or ms), resolved when run.
const AT_SECS: &[&str] = &["@s:1", "@s:0", "@s:-1", "@s:5", "@s:100", "0", "-1", "9223372036854775807", "x"];
const AT_MILLIS: &[&str] =
    &["@ms:1", "@ms:0", "@ms:-1", "@ms:500", "@ms:3000", "@ms:100000", "0", "-1", "9223372036854775807", "x"];
const TIMEOUTS: &[&str] = &["0", "0.5", "1", "0.01", "-1", "x"];
const SIDES: &[&str] = &["LEFT", "RIGHT"];
const NUMKEYS: &[&str] = &["1", "2", "3", "0", "x", "-1"];

/// Every command the test runs: every write command in the table, plus
/// reads that reclaim expired keys and `SELECT`.
const COMMANDS: &[&str] = &[
    // strings
    "set",
    "setnx",
    "setex",
    "psetex",
    "getset",
    "getdel",
    "getex",
    "mset",
    "msetnx",
    "append",
    "setrange",
    "incr",
    "decr",
    "incrby",
    "decrby",
    "incrbyfloat",
    // bitmaps
    "setbit",
    "bitop",
    "bitfield",
    // keys
    "del",
    "unlink",
    "rename",
    "renamenx",
    "copy",
    "move",
    "expire",
    "pexpire",
    "expireat",
    "pexpireat",
    "persist",
    "swapdb",
    "flushdb",
    "flushall",
    "select",
    // lists
    "lpush",
    "rpush",
    "lpushx",
    "rpushx",
    "lpop",
    "rpop",
    "lset",
    "linsert",
    "lrem",
    "ltrim",
    "lmove",
    "rpoplpush",
    "lmpop",
    "blpop",
    "brpop",
    "blmove",
    "brpoplpush",
    "blmpop",
    // hashes
    "hset",
    "hsetnx",
    "hmset",
    "hdel",
    "hincrby",
    "hincrbyfloat",
    // sets
    "sadd",
    "srem",
    "spop",
    "smove",
    "sinterstore",
    "sunionstore",
    "sdiffstore",
    "sort",
    // HyperLogLogs
    "pfadd",
    "pfmerge",
    "pfcount",
    // sorted sets
    "zadd",
    "zincrby",
    "zrem",
    "zrangestore",
    "zremrangebyrank",
    "zremrangebyscore",
    "zremrangebylex",
    "zpopmin",
    "zpopmax",
    "bzpopmin",
    "bzpopmax",
    "zmpop",
    "bzmpop",
    "zunionstore",
    "zinterstore",
    "zdiffstore",
    // reads (lazy expiry)
    "get",
    "exists",
    "ttl",
    "type",
    "lrange",
    "hgetall",
    "smembers",
    "zrange",
    "randomkey",
    "scan",
    "keys",
    "dbsize",
];

/// Reads argument choices from generated bytes (cycling).
struct Picks {
    bytes: [u8; 16],
    at: usize,
    /// The keys this command mostly uses.
    home: &'static [&'static str],
}

/// The keys a command mostly uses: its family's.
fn home_keys(name: &str) -> &'static [&'static str] {
    const LISTS: &[&str] = &["l", "k"];
    const SETS_AND_ZSETS: &[&str] = &["z", "y", "u"];
    match name {
        "lrange" | "rpoplpush" | "brpoplpush" => LISTS,
        n if n.starts_with('l') || n.starts_with("bl") || n.starts_with("rpush") || n.starts_with("rpop") => LISTS,
        "brpop" => LISTS,
        n if n.starts_with('h') => &["h", "g"],
        "zunionstore" | "zinterstore" | "zdiffstore" => SETS_AND_ZSETS,
        n if n.starts_with('z') || n.starts_with("bz") => &["z", "y"],
        "sinterstore" | "sunionstore" | "sdiffstore" | "sadd" | "srem" | "spop" | "smove" | "smembers" => &["u", "v"],
        "set" | "setnx" | "setex" | "psetex" | "getset" | "getex" | "mset" | "msetnx" | "append" | "setrange"
        | "get" | "incr" | "decr" | "incrby" | "decrby" | "incrbyfloat" | "setbit" | "bitop" | "bitfield" => {
            &["s", "t"]
        }
        _ => KEYS,
    }
}

impl Picks {
    fn byte(&mut self) -> usize {
        let b = self.bytes[self.at % self.bytes.len()];
        self.at += 1;
        b as usize
    }

    /// One of `v`, the first four (the ordinary values) more often than the rest.
    fn of(&mut self, v: &[&str]) -> String {
        let b = self.byte();
        let i = if b < 128 { b % v.len().min(4) } else { b % v.len() };
        v[i].to_string()
    }

    /// A number in `lo..=hi`.
    fn num(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.byte() % (hi - lo + 1)
    }

    /// True with probability about `pct` percent (false for a zero byte,
    /// so shrinking drops options).
    fn maybe(&mut self, pct: usize) -> bool {
        let b = self.byte();
        b != 0 && b * 100 / 256 < pct
    }

    fn key(&mut self) -> String {
        let b = self.byte();
        if b < 216 { self.home[b % self.home.len()] } else { KEYS[b % KEYS.len()] }.to_string()
    }

    /// A `numkeys` argument for `n` keys, now and then a wrong one.
    fn numkeys(&mut self, n: usize) -> String {
        if self.maybe(15) { self.of(NUMKEYS) } else { n.to_string() }
    }

    fn keys(&mut self, lo: usize, hi: usize) -> Vec<String> {
        (0..self.num(lo, hi)).map(|_| self.key()).collect()
    }
}

/// Builds the arguments of command `COMMANDS[index]` from `bytes`.
fn build(index: usize, bytes: [u8; 16]) -> Vec<String> {
    let name = COMMANDS[index % COMMANDS.len()];
    let mut p = Picks { bytes, at: 0, home: home_keys(name) };
    let mut a: Vec<String> = vec![name.to_ascii_uppercase()];
    macro_rules! push {
        ($($e:expr),* $(,)?) => {{ $( a.push($e.to_string()); )* }};
    }
    let expiry_option = |p: &mut Picks, a: &mut Vec<String>, persist: bool| match p.num(0, if persist { 6 } else { 5 })
    {
        1 => a.extend(["EX".into(), p.of(SECS)]),
        2 => a.extend(["PX".into(), p.of(MILLIS)]),
        3 => a.extend(["EXAT".into(), p.of(AT_SECS)]),
        4 => a.extend(["PXAT".into(), p.of(AT_MILLIS)]),
        5 if !persist => a.push("KEEPTTL".into()),
        5 | 6 => a.push("PERSIST".into()),
        _ => {}
    };
    match name {
        "set" => {
            push!(p.key(), p.of(VALUES));
            let mut opts: Vec<Vec<String>> = Vec::new();
            match p.num(0, 3) {
                1 => opts.push(vec!["NX".into()]),
                2 => opts.push(vec!["XX".into()]),
                _ => {}
            }
            if p.maybe(30) {
                opts.push(vec!["GET".into()]);
            }
            let mut e = Vec::new();
            expiry_option(&mut p, &mut e, false);
            if !e.is_empty() {
                opts.push(e);
            }
            if p.maybe(5) {
                // Conflicting options: an error path.
                opts.push(vec!["KEEPTTL".into()]);
            }
            let turn = p.byte() % (opts.len().max(1));
            opts.rotate_left(turn);
            a.extend(opts.into_iter().flatten());
        }
        "setnx" | "getset" | "append" => push!(p.key(), p.of(VALUES)),
        "setex" => push!(p.key(), p.of(SECS), p.of(VALUES)),
        "psetex" => push!(p.key(), p.of(MILLIS), p.of(VALUES)),
        "getdel" | "incr" | "decr" | "persist" | "get" | "ttl" | "type" | "hgetall" | "smembers" => push!(p.key()),
        "getex" => {
            push!(p.key());
            expiry_option(&mut p, &mut a, true);
        }
        "mset" | "msetnx" => {
            for _ in 0..p.num(1, 3) {
                push!(p.key(), p.of(VALUES));
            }
            if p.maybe(5) {
                push!(p.key());
            }
        }
        "setrange" => push!(p.key(), p.of(OFFSETS), p.of(VALUES)),
        "setbit" => push!(p.key(), p.of(BIT_OFFSETS), p.of(BITS)),
        "bitop" => {
            push!(p.of(BITOPS), p.key());
            a.extend(p.keys(1, 3));
        }
        "bitfield" => {
            push!(p.key());
            for _ in 0..p.num(0, 3) {
                match p.num(0, 3) {
                    0 => push!("GET", p.of(FIELD_TYPES), p.of(FIELD_OFFSETS)),
                    1 => push!("SET", p.of(FIELD_TYPES), p.of(FIELD_OFFSETS), p.of(FIELD_VALUES)),
                    2 => push!("INCRBY", p.of(FIELD_TYPES), p.of(FIELD_OFFSETS), p.of(FIELD_VALUES)),
                    _ => push!("OVERFLOW", p.of(OVERFLOWS)),
                }
            }
        }
        "incrby" | "decrby" => push!(p.key(), p.of(INTS)),
        "incrbyfloat" => push!(p.key(), p.of(FLOATS)),
        "del" | "unlink" | "exists" => a.extend(p.keys(1, 3)),
        "rename" | "renamenx" => push!(p.key(), p.key()),
        "copy" => {
            push!(p.key(), p.key());
            if p.maybe(50) {
                push!("DB", p.of(DB_ARGS));
            }
            if p.maybe(50) {
                push!("REPLACE");
            }
        }
        "move" => push!(p.key(), p.of(DB_ARGS)),
        "expire" | "pexpire" | "expireat" | "pexpireat" => {
            let t = match name {
                "expire" => p.of(SECS),
                "pexpire" => p.of(MILLIS),
                "expireat" => p.of(AT_SECS),
                _ => p.of(AT_MILLIS),
            };
            push!(p.key(), t);
            for _ in 0..p.num(0, 2) {
                push!(p.of(&["NX", "XX", "GT", "LT"]));
            }
        }
        "swapdb" => push!(p.of(DB_ARGS), p.of(DB_ARGS)),
        "flushdb" | "flushall" => {
            if p.maybe(30) {
                push!(p.of(&["ASYNC", "SYNC"]));
            }
        }
        "select" => push!(p.of(DB_ARGS)),
        "lpush" | "rpush" | "lpushx" | "rpushx" => {
            push!(p.key());
            for _ in 0..p.num(1, 3) {
                push!(p.of(MEMBERS));
            }
        }
        "lpop" | "rpop" | "spop" | "zpopmin" | "zpopmax" => {
            push!(p.key());
            if p.maybe(40) {
                push!(p.of(COUNTS));
            }
        }
        "lset" => push!(p.key(), p.of(INTS), p.of(MEMBERS)),
        "linsert" => push!(p.key(), p.of(&["BEFORE", "AFTER", "x"]), p.of(MEMBERS), p.of(MEMBERS)),
        "lrem" => push!(p.key(), p.of(INTS), p.of(MEMBERS)),
        "ltrim" | "lrange" | "zremrangebyrank" => push!(p.key(), p.of(INTS), p.of(INTS)),
        "lmove" => push!(p.key(), p.key(), p.of(SIDES), p.of(SIDES)),
        "rpoplpush" => push!(p.key(), p.key()),
        "lmpop" | "zmpop" | "blmpop" | "bzmpop" => {
            if name.starts_with('b') {
                push!(p.of(TIMEOUTS));
            }
            let keys = p.keys(1, 3);
            push!(p.numkeys(keys.len()));
            a.extend(keys);
            push!(if name.contains('l') { p.of(SIDES) } else { p.of(&["MIN", "MAX"]) });
            if p.maybe(40) {
                push!("COUNT", p.of(COUNTS));
            }
        }
        "blpop" | "brpop" | "bzpopmin" | "bzpopmax" => {
            a.extend(p.keys(1, 2));
            push!(p.of(TIMEOUTS));
        }
        "blmove" => push!(p.key(), p.key(), p.of(SIDES), p.of(SIDES), p.of(TIMEOUTS)),
        "brpoplpush" => push!(p.key(), p.key(), p.of(TIMEOUTS)),
        "hset" | "hmset" => {
            push!(p.key());
            for _ in 0..p.num(1, 3) {
                push!(p.of(FIELDS), p.of(VALUES));
            }
        }
        "hsetnx" => push!(p.key(), p.of(FIELDS), p.of(VALUES)),
        "hdel" => {
            push!(p.key());
            for _ in 0..p.num(1, 3) {
                push!(p.of(FIELDS));
            }
        }
        "hincrby" => push!(p.key(), p.of(FIELDS), p.of(INTS)),
        "hincrbyfloat" => push!(p.key(), p.of(FIELDS), p.of(FLOATS)),
        "sadd" | "srem" | "zrem" => {
            push!(p.key());
            for _ in 0..p.num(1, 3) {
                push!(p.of(MEMBERS));
            }
        }
        "smove" => push!(p.key(), p.key(), p.of(MEMBERS)),
        "sinterstore" | "sunionstore" | "sdiffstore" => {
            push!(p.key());
            a.extend(p.keys(1, 3));
        }
        "pfadd" => {
            push!(p.key());
            for _ in 0..p.num(0, 6) {
                push!(p.of(MEMBERS));
            }
        }
        "pfmerge" | "pfcount" => a.extend(p.keys(1, 3)),
        "sort" => {
            push!(p.key());
            if p.maybe(30) {
                push!("BY", p.of(&["nosort", "*", "h->*"]));
            }
            if p.maybe(30) {
                push!("LIMIT", p.of(INTS), p.of(INTS));
            }
            if p.maybe(30) {
                push!("GET", p.of(&["#", "*", "h*->f"]));
            }
            if p.maybe(70) {
                push!("ALPHA");
            }
            if p.maybe(30) {
                push!("DESC");
            }
            if p.maybe(80) {
                push!("STORE", p.key());
            }
        }
        "zadd" => {
            push!(p.key());
            for flag in ["NX", "XX", "GT", "LT", "CH", "INCR"] {
                if p.maybe(15) {
                    push!(flag);
                }
            }
            for _ in 0..p.num(1, 3) {
                push!(p.of(SCORES), p.of(MEMBERS));
            }
        }
        "zincrby" => push!(p.key(), p.of(SCORES), p.of(MEMBERS)),
        "zrangestore" | "zrange" => {
            if name == "zrangestore" {
                push!(p.key());
            }
            push!(p.key());
            let by = p.num(0, 2);
            let bounds = if p.maybe(10) { BOUNDS } else { [INTS, SCORE_BOUNDS, LEX_BOUNDS][by] };
            push!(p.of(bounds), p.of(bounds));
            match by {
                1 => push!("BYSCORE"),
                2 => push!("BYLEX"),
                _ => {}
            }
            if p.maybe(30) {
                push!("REV");
            }
            if p.maybe(30) {
                push!("LIMIT", p.of(INTS), p.of(INTS));
            }
        }
        "zremrangebyscore" | "zremrangebylex" => {
            let bounds = match (p.maybe(10), name) {
                (true, _) => BOUNDS,
                (false, "zremrangebyscore") => SCORE_BOUNDS,
                _ => LEX_BOUNDS,
            };
            push!(p.key(), p.of(bounds), p.of(bounds));
        }
        "zunionstore" | "zinterstore" | "zdiffstore" => {
            push!(p.key());
            let n = p.num(1, 3);
            push!(p.numkeys(n));
            a.extend((0..n).map(|_| p.key()));
            if name != "zdiffstore" {
                if p.maybe(40) {
                    push!("WEIGHTS");
                    for _ in 0..n {
                        push!(p.of(SCORES));
                    }
                }
                if p.maybe(40) {
                    push!("AGGREGATE", p.of(&["SUM", "MIN", "MAX"]));
                }
            }
        }
        "randomkey" | "dbsize" => {}
        "scan" => push!("0", "COUNT", "100"),
        "keys" => push!("*"),
        other => unreachable!("no arguments for {other}"),
    }
    a
}

/// Commands that empty or move whole databases: generated rarely, or they
/// would leave little for the rest to work on.
const RARE: &[&str] = &["flushdb", "flushall", "swapdb"];

/// Commands that add data: generated more often, so the others find some.
const ADDERS: &[&str] = &["lpush", "rpush", "sadd", "zadd", "hset", "set", "mset", "zunionstore", "sunionstore"];

/// A command as generated.
fn command() -> impl Strategy<Value = Vec<String>> {
    let mut common = Vec::new();
    for (i, name) in COMMANDS.iter().enumerate() {
        let weight = if RARE.contains(name) {
            0
        } else if ADDERS.contains(name) {
            4
        } else {
            1
        };
        common.extend(std::iter::repeat_n(i, weight));
    }
    let rare: Vec<usize> = (0..COMMANDS.len()).filter(|&i| RARE.contains(&COMMANDS[i])).collect();
    (prop_oneof![40 => prop::sample::select(common), 1 => prop::sample::select(rare)], any::<[u8; 16]>())
        .prop_map(|(i, b)| build(i, b))
}

/// One step of a generated run.
#[derive(Debug, Clone)]
enum Step {
    /// Run a command (through the broker's call pipeline).
    Run(Vec<String>),
    /// Move the clock forward by this many milliseconds.
    Tick(u64),
    /// The broker's periodic active expiry.
    ActiveExpire,
    /// `[WATCH key]`, `MULTI`, the commands, then `EXEC` (or `DISCARD`).
    Tx { watch: Option<String>, cmds: Vec<Vec<String>>, discard: bool },
    /// Start a point-in-time snapshot walk, or advance the one in progress.
    Snapshot(usize),
    /// The parked client's connection dies: the reply of its next run is
    /// never delivered, so the broker gives back what it was handed.
    DropReply,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        80 => command().prop_map(Step::Run),
        10 => prop::sample::select(vec![0u64, 1, 2, 10, 100, 500, 999, 1000, 1001, 2500, 10_000]).prop_map(Step::Tick),
        3 => Just(Step::ActiveExpire),
        5 => (prop::option::of(prop::sample::select(KEYS)), prop::collection::vec(command(), 0..6), prop::bool::weighted(0.2))
            .prop_map(|(w, cmds, discard)| Step::Tx { watch: w.map(str::to_string), cmds, discard }),
        3 => (1usize..4).prop_map(Step::Snapshot),
        2 => Just(Step::DropReply),
    ]
}

/// Resolves clock-relative arguments (`@s:N`, `@ms:N`).
fn resolve(arg: &str, now_ms: u64) -> String {
    if let Some(n) = arg.strip_prefix("@s:") {
        return (now_ms as i64 / 1000 + n.parse::<i64>().expect("number")).to_string();
    }
    if let Some(n) = arg.strip_prefix("@ms:") {
        return (now_ms as i64 + n.parse::<i64>().expect("number")).to_string();
    }
    arg.to_string()
}

/// A client the broker parked on a blocking command.
struct Parked {
    argv: Vec<String>,
    session: Session,
    block: Block,
    /// The reply of the next run is not delivered.
    drop_reply: bool,
}

/// A run in progress: the harness plus what the test tracks around it.
struct Run {
    h: Harness,
    /// Effects grouped by the unit the broker commits them in.
    units: Vec<Vec<Effect>>,
    /// Effects already assigned to a unit.
    committed: usize,
    /// The second client, parked on a blocking command.
    parked: Option<Parked>,
    /// The point-in-time snapshot: `(records before it, framed entries)`,
    /// and the keyspace it must hold.
    snap: Option<(u64, Vec<u8>, Vec<SortedEntry>)>,
    /// A finished (not aborted) point-in-time snapshot: `(seq, bytes, count, expected)`.
    snap_done: Option<(u64, Vec<u8>, u64, Vec<SortedEntry>)>,
    /// The clients' push channels (nothing the test reads is pushed).
    _pushes: Vec<tokio::sync::mpsc::UnboundedReceiver<crate::broker::Push>>,
}

type SortedEntry = (usize, Bytes, Option<u64>, Value);

impl Run {
    fn new() -> Run {
        let mut h = Harness::new();
        let mut pushes = Vec::new();
        for id in [1, 2] {
            let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
            pushes.push(rx);
            h.server.hub.connect(id, tx, ClientOutput::new());
        }
        h.session.id = 1;
        Run { h, units: Vec::new(), committed: 0, parked: None, snap: None, snap_done: None, _pushes: pushes }
    }

    fn dispatch(&mut self, argv: &[String]) -> crate::resp::Frame {
        let now = self.h.now_ms;
        let resolved: Vec<String> = argv.iter().map(|a| resolve(a, now)).collect();
        let refs: Vec<&str> = resolved.iter().map(String::as_str).collect();
        self.h.dispatch(&refs)
    }

    /// Closes the unit of effects made since the last call.
    fn commit(&mut self) {
        let n = self.h.effects.len();
        if n > self.committed {
            self.units.push(self.h.effects[self.committed..n].to_vec());
            self.committed = n;
        }
    }

    fn step(&mut self, step: &Step) {
        match step {
            Step::Run(argv) => {
                self.dispatch(argv);
                if let Some(block) = self.h.blocked.take() {
                    only_expiry(&self.h.effects[self.committed..], argv);
                    // The second client is parked; a new one takes the first's place.
                    if self.parked.is_none() {
                        let mut session = self.h.session.clone();
                        session.id = 2;
                        self.parked = Some(Parked { argv: argv.clone(), session, block, drop_reply: false });
                    }
                }
            }
            Step::Tick(ms) => self.h.now_ms += ms,
            Step::ActiveExpire => {
                for db in 0..DBS {
                    for key in self.h.ks.dbs[db].expired_keys(self.h.now_ms, 200) {
                        self.h.apply(Effect::Del { db: db as u32, key });
                    }
                }
            }
            Step::Tx { watch, cmds, discard } => {
                if let Some(k) = watch {
                    self.dispatch(&["WATCH".into(), k.clone()]);
                }
                self.dispatch(&["MULTI".into()]);
                for c in cmds {
                    self.dispatch(c);
                }
                self.dispatch(&[if *discard { "DISCARD" } else { "EXEC" }.to_string()]);
                assert!(self.h.blocked.is_none(), "a command blocked inside EXEC");
            }
            Step::Snapshot(max_keys) => self.snapshot_step(*max_keys),
            Step::DropReply => {
                if let Some(p) = self.parked.as_mut() {
                    p.drop_reply = true;
                }
            }
        }
        self.commit();
        self.wake();
        self.commit();
    }

    /// Re-runs the parked client's command when one of its keys holds data
    /// (the broker wakes it on the effect that put the data there), or
    /// forgets it once its deadline has passed.
    fn wake(&mut self) {
        let Some(parked) = self.parked.as_ref() else { return };
        if parked.block.deadline_ms.is_some_and(|d| d <= self.h.now_ms) {
            self.parked = None;
            return;
        }
        let db = parked.session.db as usize;
        if !parked.block.keys.iter().any(|k| self.h.ks.dbs[db].get(k).is_some()) {
            return;
        }
        let mut parked = self.parked.take().expect("checked above");
        let before_wake = self.h.ks.sorted_entries();
        std::mem::swap(&mut self.h.session, &mut parked.session);
        self.h.woken = true;
        let before = self.h.effects.len();
        self.dispatch(&parked.argv);
        self.h.woken = false;
        std::mem::swap(&mut self.h.session, &mut parked.session);
        if let Some(block) = self.h.blocked.take() {
            only_expiry(&self.h.effects[before..], &parked.argv);
            self.parked = Some(Parked { block: Block { deadline_ms: parked.block.deadline_ms, ..block }, ..parked });
        } else if parked.drop_reply {
            self.hand_back(&parked.argv, &before_wake);
        }
    }

    /// Gives back what the last command handed to its client, as the
    /// broker does when the reply cannot be delivered, and checks the keys
    /// it took from hold what they held before.
    fn hand_back(&mut self, argv: &[String], before: &[SortedEntry]) {
        let handback = std::mem::take(&mut self.h.handback);
        for e in handback.iter().rev() {
            if let Effect::ListPush { db, key, .. } = e
                && self.h.ks.dbs[*db as usize].get(key).is_some_and(|x| !matches!(x.value, Value::List(_)))
            {
                continue;
            }
            self.h.apply(e.clone());
        }
        for e in &handback {
            let (db, key) = e.key().expect("a hand-back names its key");
            let was = before.iter().find(|x| x.0 == db as usize && x.1 == key).map(|x| &x.3);
            let now = self.h.ks.dbs[db as usize].get(key).map(|x| &x.value);
            assert_eq!(now, was, "{argv:?}: giving back {e:?} does not restore {key:?}");
        }
    }

    fn snapshot_step(&mut self, max_keys: usize) {
        if self.snap_done.is_some() {
            return;
        }
        if self.snap.is_none() {
            let expected = self.h.ks.sorted_entries();
            self.snap = Some((self.h.effects.len() as u64, Vec::new(), expected));
            self.h.ks.hook = Some(Box::new(SnapWalk::default()));
        }
        let (dbs, w) = snapshot::walk_of(&mut self.h.ks).expect("walk installed");
        w.step(dbs, max_keys, Duration::MAX);
        let (aborted, done, count) = (w.aborted, w.done(dbs), w.count);
        let chunk = std::mem::take(&mut w.buf);
        let (_, buf, _) = self.snap.as_mut().expect("snapshot in progress");
        buf.extend_from_slice(&chunk);
        if aborted || done {
            self.h.ks.hook = None;
            let (seq, buf, expected) = self.snap.take().expect("snapshot in progress");
            if done && !aborted {
                self.snap_done = Some((seq, buf, count, expected));
            }
        }
    }
}

/// A command that blocks may have reclaimed expired keys on the way, and
/// changed nothing else.
fn only_expiry(effects: &[Effect], argv: &[String]) {
    assert!(
        effects.iter().all(|e| matches!(e, Effect::Del { .. })),
        "{argv:?} blocked after changing data: {effects:?}"
    );
}

/// Structural invariants of a live keyspace: no empty collection is
/// stored, and each database's counters and deadline index match its keys.
fn check_invariants(ks: &Keyspace) {
    for (i, d) in ks.dbs.iter().enumerate() {
        let mut n = 0;
        let mut volatile = Vec::new();
        for (k, e) in d.iter() {
            n += 1;
            assert!(!e.value.is_empty_collection(), "db {i} key {k:?} holds an empty {}", e.value.type_name());
            if let Some(at) = e.expire_at() {
                volatile.push((at, Bytes::copy_from_slice(k)));
            }
        }
        assert_eq!(d.len(), n, "db {i} counts {} keys, holds {n}", d.len());
        volatile.sort();
        let mut indexed: Vec<(u64, Bytes)> = d
            .expired_keys(u64::MAX, usize::MAX)
            .into_iter()
            .map(|k| (d.get(&k).and_then(|e| e.expire_at()).unwrap_or(0), k))
            .collect();
        indexed.sort();
        assert_eq!(indexed, volatile, "db {i}: the deadline index differs from the keys' deadlines");
    }
}

/// Runs `steps` after seeding database 0 with `filler` string keys (enough
/// of them make a snapshot walk stop inside a database, so keys changed
/// while it runs fall on both sides of where it stopped), and checks every
/// way of rebuilding the keyspace; `cut` (a fraction of `u16::MAX`) is
/// where a crash tears the log, `zeros` how many zero bytes follow the
/// log's data in its file.
fn check(filler: usize, steps: &[Step], cut: u16, zeros: usize) {
    let mut run = Run::new();
    for i in 0..filler {
        let key = Bytes::from(format!("filler:{i}"));
        let value = Value::Str(Bytes::from(i.to_string()).into());
        run.h.apply(Effect::Put { db: 0, key, value, expire: crate::state::ExpireChange::Clear });
    }
    run.commit();
    for s in steps {
        run.step(s);
    }
    // Finish a walk still in progress.
    while run.snap.is_some() {
        run.snapshot_step(usize::MAX);
    }
    let live = run.h.ks.sorted_entries();
    check_invariants(&run.h.ks);

    // (1) The recorded effects replayed in memory.
    run.h.check_replay();

    // (2) Every effect through the log codec decodes as itself (scores to the bit).
    for e in &run.h.effects {
        let mut bytes = Vec::new();
        codec::put_effect(&mut bytes, e);
        let mut r = Reader::new(&bytes);
        let back = codec::get_effect(&mut r).unwrap_or_else(|err| panic!("{e:?} does not decode: {err}"));
        r.finish().unwrap_or_else(|err| panic!("{e:?}: {err}"));
        assert_eq!(&back, e);
        if let (Effect::ZAdd { pairs: a, .. }, Effect::ZAdd { pairs: b, .. }) = (&back, e) {
            assert!(a.iter().zip(b).all(|(x, y)| x.0.to_bits() == y.0.to_bits()), "{e:?} decodes as {back:?}");
        }
    }

    // (3) The log as the broker writes it, read back by recovery.
    let n = run.h.effects.len() as u64;
    let store = MemStore::default();
    let seg = store.write_segment(1, &run.units, None, zeros);
    let r = store.recover();
    assert_eq!(r.last_seq, n);
    assert_eq!(r.ks.sorted_entries(), live, "log recovery differs");

    // (3b) The same log cut anywhere (a crash during an append) and
    // followed by zeros recovers exactly the units the file still holds
    // whole (a cut that removed only zero bytes the zeros put back loses
    // nothing), and reports anything after them as a torn tail.
    let len = seg.whole.len();
    let at = format::LOG_HEADER + (len - format::LOG_HEADER) * usize::from(cut) / usize::from(u16::MAX);
    let store = MemStore::default();
    let Segment { whole: all, file, ends } = store.write_segment(1, &run.units, Some(at), zeros);
    let intact = |end: usize| end <= file.len() && file[..end] == all[..end];
    let kept = ends.iter().take_while(|&&end| intact(end)).count();
    let r = store.recover_torn();
    let mut expected = Keyspace::new(DBS);
    for e in run.units[..kept].iter().flatten() {
        expected.apply(e);
    }
    assert_eq!(r.ks.sorted_entries(), expected.sorted_entries(), "recovery of the log cut at {at} of {len}");
    assert_eq!(r.last_seq, run.units[..kept].iter().map(|u| u.len() as u64).sum::<u64>());
    let data_end = if kept == 0 { format::LOG_HEADER } else { ends[kept - 1] };
    let rest_is_zero = file[data_end..].iter().all(|&b| b == 0);
    assert_eq!(r.torn_tail.is_none(), rest_is_zero, "cut at {at} of {len}: {:?}", r.torn_tail);

    // (4) A snapshot of the final keyspace, alone: with the (empty) segment
    // the log moves to at a snapshot's point, without which it is refused.
    let store = MemStore::default();
    let (entries, count) = snapshot::encode_all(&run.h.ks);
    assert_eq!(count as usize, run.h.ks.total_keys());
    store.write_snapshot(n, &entries, count);
    let missing = recover::recover(&store, &dir(), DBS).expect_err("a snapshot without the segment after it");
    assert!(
        matches!(&missing, super::PersistError::Corrupt { reason, .. } if reason == recover::MISSING_AFTER_SNAPSHOT)
    );
    store.write_segment(n + 1, &[], None, zeros);
    let r = store.recover();
    assert_eq!(r.ks.sorted_entries(), live, "snapshot recovery differs");

    // (5) A point-in-time snapshot taken while the commands ran: it holds
    // the keyspace as it was when it began, and with the log after it
    // recovers the live keyspace. The log is laid out as the persister
    // leaves it: it starts a new segment where the snapshot begins, and
    // removes the old one once the snapshot is installed (or is stopped
    // before it could).
    if let Some((seq, entries, count, expected)) = run.snap_done.take() {
        let store = MemStore::default();
        store.write_snapshot(seq, &entries, count);
        store.write_segment(seq + 1, &[], None, zeros);
        let alone = store.recover();
        assert_eq!(alone.ks.sorted_entries(), expected, "the point-in-time snapshot differs");
        let mut before = 0;
        let split = run
            .units
            .iter()
            .position(|u| {
                let at = before == seq;
                before += u.len() as u64;
                at
            })
            .unwrap_or(run.units.len());
        assert_eq!(run.units[..split].iter().map(|u| u.len() as u64).sum::<u64>(), seq, "a unit spans the snapshot");
        store.write_segment(seq + 1, &run.units[split..], None, zeros);
        let r = store.recover();
        assert_eq!(r.snapshot_seq, seq);
        assert_eq!(r.last_seq, n);
        assert_eq!(r.ks.sorted_entries(), live, "snapshot + log recovery differs");
        if seq > 0 {
            store.write_segment(1, &run.units[..split], None, zeros);
            let r = store.recover();
            assert_eq!(r.ks.sorted_entries(), live, "snapshot + log recovery (old segment left) differs");
        }
    }
}

/// The test runs every command in the table that can write.
#[test]
fn every_write_command_is_generated() {
    for c in crate::cmd::families().iter().flat_map(|f| f.iter()) {
        if c.is_write() {
            assert!(COMMANDS.contains(&c.name), "{} is not generated", c.name);
        }
    }
    for (i, name) in COMMANDS.iter().enumerate() {
        assert!(crate::cmd::lookup(name.as_bytes()).is_some(), "{name}");
        for b in 0..=255u8 {
            let argv = build(i, [b; 16]);
            assert!(argv[0].eq_ignore_ascii_case(name));
        }
    }
}

/// 128 cases unless `PROPTEST_CASES` says otherwise.
fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(128);
    // Failures are turned into focused unit tests beside the fixed code,
    // not kept in a regressions file.
    ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() }
}

proptest! {
    #![proptest_config(config())]

    /// Live state == replayed effects == codec + log recovery == snapshot
    /// recovery == point-in-time snapshot + log recovery.
    #[test]
    fn recovery_rebuilds_the_live_keyspace(
        filler in prop_oneof![3 => Just(0usize), 1 => Just(600usize)],
        steps in prop::collection::vec(step(), 1..80),
        cut in any::<u16>(),
        zeros in prop::sample::select(vec![0usize, 3, 8, 300, 9000]),
    ) {
        check(filler, &steps, cut, zeros);
    }
}
