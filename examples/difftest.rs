//! Differential test: sends the same random command sequences to statebroker
//! and to a reference `redis-server`, and compares every reply.
//!
//! Usage: `cargo run --example difftest -- [--seed N] [--commands N] [--redis-server PATH] [--resp3] [--skip-unknown]`
//!
//! statebroker runs in-process on a temporary socket; the reference server is
//! started as a child process (it must be installed). Exits non-zero on any
//! mismatch, printing the seed and the last commands before it.
//!
//! `--commands` counts generated cases. Most are one command; some are a
//! short sequence on the same connection, every reply compared:
//! - transactions: `MULTI`, queued commands (blocking ones too: inside `EXEC`
//!   they never wait), `EXEC` or `DISCARD`; now and then a command rejected
//!   while queuing (`EXECABORT`), a nested `MULTI`, `WATCH` inside `MULTI`, a
//!   rejected `EXEC`, `EXEC`/`DISCARD` without `MULTI`; often after `WATCH`
//!   and a command on this same connection that may change a watched key
//!   (which aborts the `EXEC` in Redis too), or `UNWATCH`, a `SWAPDB`, a
//!   `FLUSHDB`, or a change of the same key name in another database;
//! - a few commands in another database (`SELECT`, `DBSIZE` there, back to 0);
//! - a push before a blocking pop (`BLPOP`, `BRPOP`, `BLMOVE`, `BRPOPLPUSH`,
//!   `BLMPOP`, `BZPOPMIN`, `BZPOPMAX`, `BZMPOP`) on one of its keys, so that
//!   the pop finds data, or a key of another type (an error), and never
//!   waits. Blocking commands are otherwise sent only with an argument error
//!   (a negative or malformed timeout, a bad `numkeys`, side or `COUNT`),
//!   which fails at once. A read timeout on both connections turns a command
//!   that waits by mistake into a mismatch rather than a hang.
//!
//! How replies are compared (each generated command says which way):
//! - exactly, errors included (code and text, also errors nested in an
//!   `EXEC` reply), after turning RESP3 sets into sorted arrays; replies
//!   whose order is unspecified (set members, hash fields, `KEYS`) are
//!   sorted first;
//! - replies carrying scores or float increments are compared as numbers: every
//!   bulk string (and RESP3 double) that parses as an `f64` is rewritten in one
//!   canonical form. statebroker formats doubles the Redis 7.2 way (shortest
//!   round-trip, `0.1`) while the 7.0 reference prints `%.17g`
//!   (`0.10000000000000001`); both parse to the same `f64`. `-0` stays distinct
//!   from `0`. An `EXEC` reply is compared this way when a queued command's is;
//! - random picks (`SRANDMEMBER`, `HRANDFIELD`, `ZRANDMEMBER`, `SPOP` with a
//!   count, `RANDOMKEY`) by the length or kind of the reply only; a random
//!   `SPOP` is followed by a `DEL` of its key on both servers so that their
//!   data stays the same (and is never part of a sequence);
//! - `TTL`/`PTTL` within a small tolerance, `EXPIRETIME`/`PEXPIRETIME` by
//!   sign only (the servers do not run the commands at the same instant);
//!   `TIME` by its shape (two strings of digits);
//! - `SCAN` by the set of keys collected after iterating the cursor back to 0.
//!
//! Not generated, on purpose (intended differences or unspecified results):
//! - `OBJECT ENCODING` and `OBJECT REFCOUNT` (encodings and object sharing
//!   are internal), `OBJECT IDLETIME` and `OBJECT HELP` (statebroker keeps no
//!   access times, so it has no `IDLETIME`), `SCAN` from a made-up cursor
//!   (cursors are opaque);
//! - commands that report the server itself or change the connection's
//!   mode: `INFO`, `CONFIG`, `COMMAND` but `GETKEYS`, `CLIENT` but
//!   `SETNAME`/`GETNAME`/`NO-EVICT`, `HELLO` but its errors, `AUTH` but its
//!   replies while no password is configured (neither server has one), `SLOWLOG`,
//!   `LASTSAVE`, `SAVE`, `BGSAVE`, `BGREWRITEAOF`, `MONITOR`, `SHUTDOWN`,
//!   `QUIT`, `RESET`, the `SUBSCRIBE` family; `WAIT` for replicas (it waits);
//! - forms that Redis 7.2 added and statebroker follows (`ZRANK ... WITHSCORE`,
//!   `CLIENT SETINFO`, `WAITAOF`);
//! - blocking timeouts of `inf` or past `LLONG_MAX` milliseconds: statebroker
//!   answers "timeout is out of range" as Redis 7.2 does, where 7.0 converts
//!   the value to an integer unchecked and calls it negative. Nor `-0.001`:
//!   Redis reads timeouts as `long double`, where -0.001 s times 1000 rounds
//!   to just above -1 ms and so counts as 0 (wait forever); in statebroker's
//!   `double` it is -1 ms, negative. (Positive timeouts under 1 ms wait 1 ms
//!   in statebroker, as in Redis 7.2, and forever in 7.0: not observable
//!   here, since nothing generated waits.);
//! - `INCRBYFLOAT`/`HINCRBYFLOAT` results with more than ~17 significant
//!   digits or beyond the `double` range: Redis 7.0 computes them in `long
//!   double`. So `APPEND`/`SETRANGE` write letters only (digits would let
//!   numbers grow long) and `INCRBY` overflow checks use a key of their own;
//! - `SETRANGE` past a few bytes but below the 512 MB limit, and `SETBIT`
//!   past a few bytes but below 2^32 bits (they would allocate that much on
//!   both servers);
//! - requests past statebroker's stricter protocol limits;
//! - `BITFIELD ... OVERFLOW FAIL` between `WATCH` and `EXEC` on the watching
//!   connection: when every write is refused but the string had to be
//!   created or extended, Redis keeps the grown string without signalling
//!   the key, so the `EXEC` runs; statebroker records the growth as an
//!   effect like any other change, which touches the watch and aborts the
//!   `EXEC`. (Refused or same-value writes without growth signal nothing in
//!   both.) So `OVERFLOW FAIL` is not generated in commands of a sequence
//!   that are not queued;
//! - collections of 128 members or more: lexicographical ranges over unequal
//!   scores are unspecified, and statebroker follows what Redis does for its
//!   small encodings.
//!
//! Expiry times are large (days) and kept at least 5 s apart within a flush
//! epoch, so that `EXPIRE ... GT|LT` never depends on how long the run takes.
//!
//! `--resp3` talks RESP3 to both servers (`HELLO 3`), so RESP3 reply types
//! (maps, sets, doubles, nulls) are compared too. `--skip-unknown` sends a
//! command to the reference only when statebroker knows it (for branches that
//! do not have every family yet); without it an unknown command is a mismatch.
//! With `DIFFTEST_TRACE` set in the environment every command and the
//! reference's (normalised) reply are printed.

use std::collections::BTreeSet;
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use redis::Value;

struct Rng(u64);

impl Rng {
    /// A generator for `seed`: every seed (0 too) gives its own sequence.
    fn from_seed(seed: u64) -> Rng {
        // splitmix64 of the seed; xorshift needs a non-zero state.
        let mut z = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        Rng((z ^ (z >> 31)).max(1))
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len())]
    }
    fn int(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % (hi - lo + 1) as u64) as i64
    }
    fn chance(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }
}

/// Keys, grouped by the type the generator mostly stores in them (strings,
/// lists, hashes, sets, sorted sets). A command mostly uses its own family's
/// keys, and any key now and then, so that wrong types stay common but do
/// not drown everything else.
const FAMILY_KEYS: &[&[&str]] =
    &[&["s0", "s1", "s2"], &["l0", "l1", "l2"], &["h0", "h1", "h2"], &["t0", "t1", "t2"], &["z0", "z1", "z2"]];
/// Patterns for `KEYS` and `SCAN MATCH`.
const PATTERNS: &[&str] = &["*", "s*", "?1", "[sz]0", "z[!0]", "*2", "x*", "\\s0", "**", ""];
const MEMBERS: &[&str] = &["a", "b", "c", "d", "e", "10", "-3", "x y", ""];
/// Arguments that are not numbers, or numbers out of the accepted range.
const BAD_NUMBERS: &[&str] =
    &["abc", "1.5", "", " 1", "1e3", "9223372036854775808", "-9223372036854775809", "0x10", "-0", "+1", "01"];
const BAD_FLOATS: &[&str] = &["abc", "", "nan", "1.2.3", "--1", "1e", " 1"];

/// How many of the commands before a mismatch are printed.
const HISTORY_SHOWN: usize = 40;

/// How two replies are compared.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Cmp {
    /// Exactly.
    Exact,
    /// After sorting arrays, sets and maps at the top level (and map entries).
    Unordered,
    /// Floats compared as numbers (see the module comment).
    Floats,
    /// Only the length (or kind) of the reply: random picks.
    Len,
    /// Integers within this tolerance.
    Near(i64),
    /// Integers by sign only.
    Sign,
    /// A `SCAN` walk: the set of keys collected over the whole cursor.
    Scan,
    /// A `TIME` reply: two bulk strings of digits.
    TimeShape,
}

/// One command sent to both servers, and how its replies are compared.
struct Step {
    argv: Vec<String>,
    cmp: Cmp,
}

/// One generated case: a command, or a sequence of them on the same
/// connection (a transaction, a `SELECT`ed database, a push before a
/// blocking pop).
struct Case {
    /// Sent in order; every reply is compared.
    steps: Vec<Step>,
    /// Commands sent to both servers afterwards without comparing (resync).
    after: Vec<Vec<String>>,
}

/// The generator, with a counter that keeps expiry times distinct.
struct Gen {
    r: Rng,
    /// The key family of the command being generated (`None`: any).
    family: Option<usize>,
    ttl_counter: i64,
    now_secs: i64,
    /// Generating a command of a sequence: no sequence of its own.
    plain: bool,
    /// Generating a command queued inside `MULTI`, where blocking
    /// commands never wait.
    queuing: bool,
}

fn v(xs: &[&str]) -> Vec<String> {
    xs.iter().map(|x| x.to_string()).collect()
}

impl Gen {
    fn key(&mut self) -> String {
        let family = match self.family {
            Some(f) if !self.r.chance(6) => f,
            _ => self.r.below(FAMILY_KEYS.len()),
        };
        self.r.pick(FAMILY_KEYS[family]).to_string()
    }
    fn member(&mut self) -> String {
        self.r.pick(MEMBERS).to_string()
    }
    fn letters(&mut self) -> String {
        self.r.pick(&["a", "b", "c", "x y", ""]).to_string()
    }
    fn bad_number(&mut self) -> String {
        self.r.pick(BAD_NUMBERS).to_string()
    }
    fn bad_float(&mut self) -> String {
        self.r.pick(BAD_FLOATS).to_string()
    }
    fn idx(&mut self) -> String {
        self.r.int(-6, 6).to_string()
    }
    /// A string value: members, integers, or exact binary fractions (so that
    /// float increments stay exact in both `double` and `long double`).
    fn value(&mut self) -> String {
        match self.r.below(4) {
            0 => self.r.int(-20, 20).to_string(),
            1 => format!("{}.{}", self.r.int(-9, 9), self.r.pick(&["5", "25", "125", "75"])),
            _ => self.member(),
        }
    }
    fn increment(&mut self) -> String {
        match self.r.below(6) {
            0 => self.bad_float(),
            1 => self.r.pick(&["inf", "-inf", "+inf"]).to_string(),
            2 => self.r.int(-5, 5).to_string(),
            3 if self.r.chance(3) => self.r.pick(&["0x10", "-0x1p-2", "0X1.8p1", "0x"]).to_string(),
            3 => format!("{}e1", self.r.int(-3, 3)),
            _ => format!("{}.{}", self.r.int(-5, 5), self.r.pick(&["5", "25", "125", "0"])),
        }
    }
    fn score(&mut self) -> String {
        match self.r.below(10) {
            0 => "inf".into(),
            1 => "-inf".into(),
            2 => format!("{}.5", self.r.int(-5, 5)),
            3 => format!("{}.1", self.r.int(-5, 5)),
            4 if self.r.chance(4) => self.bad_float(),
            _ => self.r.int(-5, 5).to_string(),
        }
    }
    fn range_bound(&mut self) -> String {
        match self.r.below(7) {
            0 => "-inf".into(),
            1 => "+inf".into(),
            2 => format!("({}", self.r.int(-5, 5)),
            3 if self.r.chance(5) => self.r.pick(&["abc", "(", "((1", "nan"]).to_string(),
            _ => self.r.int(-5, 5).to_string(),
        }
    }
    fn lex_bound(&mut self) -> String {
        match self.r.below(6) {
            0 => "-".into(),
            1 => "+".into(),
            2 => format!("({}", self.r.pick(&["a", "b", "c", "d", ""])),
            3 if self.r.chance(5) => self.r.pick(&["a", "", "-a", "+a"]).to_string(),
            _ => format!("[{}", self.r.pick(&["a", "b", "c", "d", "x"])),
        }
    }
    /// A relative expiry in seconds, never equal to another within a flush
    /// epoch and at least 10 s from it, so `GT`/`LT` comparisons cannot
    /// depend on how much time passed between two commands.
    fn ttl_secs(&mut self) -> i64 {
        self.ttl_counter += 1;
        self.r.int(1, 9) * 100_000 + (self.ttl_counter % 5000) * 10
    }
    /// The same in milliseconds, 5 s away from any value in seconds.
    fn ttl_ms(&mut self) -> i64 {
        self.ttl_secs() * 1000 + 5000
    }
    /// `EX`/`PX`/`EXAT`/`PXAT` options (or a bad one).
    fn expiry_option(&mut self) -> Vec<String> {
        match self.r.below(9) {
            0 => vec!["EX".into(), self.ttl_secs().to_string()],
            1 => vec!["PX".into(), self.ttl_ms().to_string()],
            2 => {
                let t = self.now_secs + self.ttl_secs();
                vec!["EXAT".into(), t.to_string()]
            }
            3 => {
                let t = (self.now_secs + self.ttl_secs()) * 1000 + 7;
                vec!["PXAT".into(), t.to_string()]
            }
            4 => vec![self.r.pick(&["EX", "PX", "EXAT", "PXAT"]).into(), self.r.pick(&["0", "-1"]).into()],
            5 => vec![self.r.pick(&["EX", "PX", "EXAT", "PXAT"]).into(), self.bad_number()],
            6 => vec!["EX".into(), "9223372036854775".into()],
            7 => vec!["EX".into()],
            _ => vec!["PX".into(), "9223372036854775807".into()],
        }
    }
    /// A bit offset within the first few bytes (a string grows to hold it).
    fn bit_offset(&mut self) -> String {
        self.r.int(0, 60).to_string()
    }
    /// A `SETBIT` value or a `BITPOS` bit.
    fn bit_value(&mut self) -> String {
        self.r.pick(&["0", "1"]).to_string()
    }
    /// A `BITCOUNT`/`BITPOS` range end, in bytes or bits, now and then malformed.
    fn bit_index(&mut self) -> String {
        match self.r.below(12) {
            0 => self.bad_number(),
            1 => self.r.pick(&["9223372036854775807", "-9223372036854775808", "-0"]).to_string(),
            2..=5 => self.r.int(-40, 40).to_string(),
            _ => self.r.int(-6, 6).to_string(),
        }
    }
    /// `BYTE` or `BIT` (any case), now and then neither.
    fn bit_unit(&mut self) -> String {
        self.r.pick(&["BYTE", "BIT", "bit", "Byte", "BITS", ""]).to_string()
    }
    /// The optional `[start [end [BYTE|BIT]]]` of `BITCOUNT`/`BITPOS`: none,
    /// a start, a range, or a range with its unit (picked from `forms`
    /// ways, the last ones all meaning "with its unit"), now and then one
    /// argument too many.
    fn push_bit_range(&mut self, a: &mut Vec<String>, forms: usize) {
        match self.r.below(forms) {
            0 => {}
            1 => a.push(self.bit_index()),
            2 => a.extend([self.bit_index(), self.bit_index()]),
            _ => a.extend([self.bit_index(), self.bit_index(), self.bit_unit()]),
        }
        if self.r.chance(20) {
            a.push(self.bit_unit());
        }
    }
    /// One `BITFIELD` operation: `GET`, or (with `writes`) `SET`, `INCRBY`
    /// or `OVERFLOW`; now and then a malformed one.
    fn bitfield_op(&mut self, writes: bool) -> Vec<String> {
        let ty = match self.r.below(24) {
            0 => self.r.pick(&["u64", "i0", "I8", "x", "i65", "u", "i08", ""]).to_string(),
            1..=6 => self.r.pick(&["i8", "u8", "i64", "u63", "i1", "u1", "i16", "u32"]).to_string(),
            // Narrow fields overflow often (WRAP, SAT and FAIL all matter).
            7..=10 => format!("i{}", self.r.int(1, 8)),
            11..=14 => format!("u{}", self.r.int(1, 8)),
            15..=19 => format!("i{}", self.r.int(1, 64)),
            _ => format!("u{}", self.r.int(1, 63)),
        };
        let offset = match self.r.below(30) {
            0 => self.r.pick(&["-1", "x", "#-1", "4294967296", "#", "#x", "-0"]).to_string(),
            1..=6 => format!("#{}", self.r.int(0, 2)),
            _ => self.r.int(0, 40).to_string(),
        };
        let value = |g: &mut Gen| match g.r.below(30) {
            0 => g.bad_number(),
            1..=6 => {
                g.r.pick(&[
                    "9223372036854775807",
                    "-9223372036854775808",
                    "-9223372036854775681",
                    "4294967296",
                    "-2147483649",
                    "127",
                    "-128",
                    "255",
                    "256",
                ])
                .to_string()
            }
            _ => g.r.int(-300, 300).to_string(),
        };
        match if writes { self.r.below(7) } else { 0 } {
            0 | 1 => vec!["GET".into(), ty, offset],
            2 | 3 => vec!["SET".into(), ty, offset, value(self)],
            4 | 5 => vec!["INCRBY".into(), ty, offset, value(self)],
            _ => match self.r.below(8) {
                0 => vec!["OVERFLOW".into(), self.r.pick(&["foo", ""]).into()],
                1 => vec![self.r.pick(&["OVERFLOW", "GET", "SET", "INCRBY", "FOO"]).into()],
                _ if self.plain && !self.queuing => {
                    vec!["OVERFLOW".into(), self.r.pick(&["WRAP", "SAT", "wrap", "Sat"]).into()]
                }
                _ => vec!["OVERFLOW".into(), self.r.pick(&["WRAP", "SAT", "FAIL", "wrap", "Sat", "fail"]).into()],
            },
        }
    }
    fn keys_n(&mut self, n: usize) -> Vec<String> {
        (0..n).map(|_| self.key()).collect()
    }

    fn case(&mut self) -> Case {
        let mut steps = Vec::new();
        let mut after = Vec::new();
        let (argv, cmp) = self.command(&mut steps, &mut after);
        steps.push(Step { argv, cmp });
        Case { steps, after }
    }

    /// One command; the steps it needs first go to `before`, commands that
    /// resynchronise the servers after it to `after`.
    fn command(&mut self, before: &mut Vec<Step>, after: &mut Vec<Vec<String>>) -> (Vec<String>, Cmp) {
        let mut cmp = Cmp::Exact;
        let n = self.r.below(184);
        self.family = match n {
            0..=24 | 172..=183 => Some(0),
            44..=56 => Some(1),
            57..=72 => Some(2),
            73..=87 => Some(3),
            88..=122 => Some(4),
            _ => None,
        };
        let k = self.key();
        let argv: Vec<String> = match n {
            // ---- strings
            0..=2 => vec!["SET".into(), k, self.value()],
            3..=5 => {
                // SET with a random combination of options, valid or not.
                let mut a = vec!["SET".into(), k, self.value()];
                if self.r.chance(3) {
                    a.push(self.r.pick(&["NX", "XX"]).into());
                }
                if self.r.chance(3) {
                    a.push("GET".into());
                }
                match self.r.below(4) {
                    0 => a.push("KEEPTTL".into()),
                    1 | 2 => a.extend(self.expiry_option()),
                    _ => {}
                }
                if self.r.chance(6) {
                    a.push(self.r.pick(&["NX", "XX", "GET", "KEEPTTL", "EX", "FOO"]).into());
                }
                a
            }
            6 => vec!["GET".into(), k],
            7 => vec!["INCR".into(), k],
            8 => vec!["INCRBY".into(), k, self.r.int(-100, 100).to_string()],
            // APPEND and SETRANGE write letters only: digits would let numbers
            // grow past 17 digits, where INCRBYFLOAT differs on purpose.
            9 => vec!["APPEND".into(), k, self.letters()],
            10 => vec!["STRLEN".into(), k],
            11 => vec!["GETRANGE".into(), k, self.idx(), self.idx()],
            12 => vec!["SETRANGE".into(), k, self.r.int(0, 4).to_string(), self.letters()],
            13 => vec!["MGET".into(), k, self.key(), self.key()],
            14 => vec!["SETNX".into(), k, self.member()],
            15 => vec!["GETSET".into(), k, self.value()],
            16 => vec!["GETDEL".into(), k],
            17 => vec!["DECRBY".into(), k, self.r.int(-10, 10).to_string()],
            18 => {
                let mut a = vec!["GETEX".into(), k];
                match self.r.below(4) {
                    0 => a.push("PERSIST".into()),
                    1 | 2 => a.extend(self.expiry_option()),
                    _ => {}
                }
                a
            }
            19 => {
                let n = self.r.int(1, 3);
                let mut a = vec![self.r.pick(&["MSET", "MSETNX"]).to_string()];
                for _ in 0..n {
                    a.push(self.key());
                    a.push(self.value());
                }
                if self.r.chance(8) {
                    a.push(self.key());
                }
                a
            }
            20 | 21 => {
                cmp = Cmp::Floats;
                vec!["INCRBYFLOAT".into(), k, self.increment()]
            }
            22 => vec![self.r.pick(&["INCRBY", "DECRBY", "SETRANGE", "GETRANGE"]).into(), k, self.bad_number()],
            23 => {
                // Overflow checks on a key of their own, reset to 1 afterwards:
                // huge integers in the shared keys would reach INCRBYFLOAT,
                // whose results past 17 digits differ on purpose (long double).
                after.push(v(&["SET", "ovf", "1"]));
                let n = self.r.pick(&["9223372036854775807", "-9223372036854775808", "9223372036854775806"]);
                vec![self.r.pick(&["INCRBY", "DECRBY"]).into(), "ovf".into(), n.into()]
            }
            24 => {
                let mut a = vec!["LCS".into(), k, self.key()];
                match self.r.below(5) {
                    0 => a.push("LEN".into()),
                    1 => a.push("IDX".into()),
                    2 => a.extend(v(&["IDX", "WITHMATCHLEN"])),
                    3 => {
                        a.extend(v(&["IDX", "MINMATCHLEN"]));
                        let n = if self.r.chance(4) { self.bad_number() } else { self.r.int(-1, 3).to_string() };
                        a.push(n);
                        if self.r.chance(2) {
                            a.push("WITHMATCHLEN".into());
                        }
                    }
                    _ => {
                        if self.r.chance(4) {
                            a.push(self.r.pick(&["LEN", "FOO"]).into());
                            a.push(self.r.pick(&["IDX", "MINMATCHLEN"]).into());
                        }
                    }
                }
                a
            }
            // ---- keys
            25 => vec!["DEL".into(), k, self.key()],
            26 => vec!["EXISTS".into(), k, self.key()],
            27 => vec!["TYPE".into(), k],
            28 | 29 => vec!["RENAME".into(), k, self.key()],
            30 => vec!["RENAMENX".into(), k, self.key()],
            31 | 32 => {
                let mut a = vec!["COPY".into(), k, self.key()];
                if self.r.chance(2) {
                    a.push("REPLACE".into());
                }
                if self.r.chance(6) {
                    a.extend(v(&["DB", self.r.pick(&["0", "1", "x", "99"])]));
                }
                a
            }
            33..=35 => {
                let (name, t) = if self.r.chance(2) {
                    ("EXPIRE", self.ttl_secs().to_string())
                } else {
                    ("PEXPIRE", self.ttl_ms().to_string())
                };
                let mut a = vec![name.to_string(), k, t];
                match self.r.below(8) {
                    0 => a[2] = self.r.pick(&["0", "-5"]).into(),
                    1 => a[2] = self.bad_number(),
                    2 => a[2] = "9223372036854775807".into(),
                    _ => {}
                }
                if self.r.chance(2) {
                    a.push(self.r.pick(&["NX", "XX", "GT", "LT", "FOO"]).into());
                    if self.r.chance(6) {
                        a.push(self.r.pick(&["NX", "XX", "GT", "LT"]).into());
                    }
                }
                a
            }
            36 => {
                cmp = Cmp::Near(1);
                vec!["TTL".into(), k]
            }
            37 => {
                cmp = Cmp::Near(1000);
                vec!["PTTL".into(), k]
            }
            38 => {
                cmp = Cmp::Sign;
                vec![self.r.pick(&["EXPIRETIME", "PEXPIRETIME"]).into(), k]
            }
            39 => vec!["PERSIST".into(), k],
            40 => {
                cmp = Cmp::Unordered;
                vec!["KEYS".into(), self.r.pick(PATTERNS).into()]
            }
            41 | 42 => {
                cmp = Cmp::Scan;
                let mut a = vec!["SCAN".into(), "0".into()];
                if self.r.chance(2) {
                    a.extend(v(&["MATCH", self.r.pick(PATTERNS)]));
                }
                if self.r.chance(2) {
                    a.extend(v(&["TYPE", self.r.pick(&["string", "list", "hash", "set", "zset", "foo"])]));
                }
                if self.r.chance(2) {
                    a.extend(v(&["COUNT", self.r.pick(&["1", "2", "10"])]));
                }
                a
            }
            43 => vec!["DBSIZE".into()],
            // ---- lists (not in every branch yet: see --skip-unknown)
            44 => vec!["LPUSH".into(), k, self.member(), self.member()],
            45 => vec!["RPUSH".into(), k, self.member()],
            46 => vec!["LPOP".into(), k],
            47 => vec!["RPOP".into(), k, self.r.int(0, 3).to_string()],
            48 => vec!["LRANGE".into(), k, self.idx(), self.idx()],
            49 => vec!["LINDEX".into(), k, self.idx()],
            50 => vec!["LLEN".into(), k],
            51 => vec!["LINSERT".into(), k, self.r.pick(&["BEFORE", "AFTER"]).into(), self.member(), self.member()],
            52 => vec!["LREM".into(), k, self.r.int(-2, 2).to_string(), self.member()],
            53 => vec!["LTRIM".into(), k, self.idx(), self.idx()],
            54 => vec!["LSET".into(), k, self.idx(), self.member()],
            55 => vec!["LPOS".into(), k, self.member()],
            56 => vec![
                "LMOVE".into(),
                k,
                self.key(),
                self.r.pick(&["LEFT", "RIGHT"]).into(),
                self.r.pick(&["LEFT", "RIGHT"]).into(),
            ],
            // ---- hashes
            57..=59 => {
                let mut a = vec!["HSET".into(), k, self.member(), self.value()];
                if self.r.chance(3) {
                    a.push(self.member());
                    a.push(self.value());
                }
                a
            }
            60 => vec!["HGET".into(), k, self.member()],
            61 => vec!["HDEL".into(), k, self.member(), self.member()],
            62 => vec!["HLEN".into(), k],
            63 => vec!["HINCRBY".into(), k, self.member(), self.r.int(-5, 5).to_string()],
            64 => vec!["HEXISTS".into(), k, self.member()],
            65 => {
                cmp = Cmp::Unordered;
                vec![self.r.pick(&["HKEYS", "HVALS", "HGETALL"]).into(), k]
            }
            66 => vec!["HMGET".into(), k, self.member(), self.member()],
            67 => vec!["HSETNX".into(), k, self.member(), self.member()],
            68 | 69 => {
                cmp = Cmp::Floats;
                vec!["HINCRBYFLOAT".into(), k, self.member(), self.increment()]
            }
            70 => vec!["HSTRLEN".into(), k, self.member()],
            71 => {
                cmp = Cmp::Len;
                let mut a = vec!["HRANDFIELD".into(), k];
                if !self.r.chance(4) {
                    a.push(self.r.int(-6, 6).to_string());
                    if self.r.chance(2) {
                        a.push("WITHVALUES".into());
                    }
                }
                a
            }
            72 => vec!["HINCRBY".into(), k, self.member(), self.bad_number()],
            // ---- sets
            73..=75 => vec!["SADD".into(), k, self.member(), self.member()],
            76 => vec!["SREM".into(), k, self.member()],
            77 => vec!["SISMEMBER".into(), k, self.member()],
            78 => vec!["SCARD".into(), k],
            79 => {
                cmp = Cmp::Unordered;
                vec!["SMEMBERS".into(), k]
            }
            80 | 81 => {
                cmp = Cmp::Unordered;
                vec![self.r.pick(&["SINTER", "SUNION", "SDIFF"]).into(), k, self.key()]
            }
            82 => vec![self.r.pick(&["SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"]).into(), k, self.key(), self.key()],
            83 => vec!["SMOVE".into(), k, self.key(), self.member()],
            84 => vec!["SMISMEMBER".into(), k, self.member(), self.member()],
            85 => {
                let n = self.r.int(1, 3) as usize;
                let mut a = vec!["SINTERCARD".into(), n.to_string()];
                a.extend(self.keys_n(n));
                match self.r.below(4) {
                    0 => a.extend(v(&["LIMIT", self.r.pick(&["0", "1", "2", "-1", "x"])])),
                    1 if self.r.chance(3) => a[1] = self.r.pick(&["0", "-1", "9", "x"]).into(),
                    _ => {}
                }
                a
            }
            86 => {
                cmp = Cmp::Len;
                let mut a = vec!["SRANDMEMBER".into(), k];
                if !self.r.chance(4) {
                    a.push(self.r.int(-6, 6).to_string());
                }
                a
            }
            87 => {
                // SPOP picks at random: compare the count, then drop the key on
                // both servers unless the pop was bound to take everything.
                // (Collections never hold more than 49 members: 9 common ones
                // and 40 from the bulk fills, below the 128 of Redis's small
                // encodings.)
                let c: i64 = self.r.pick(&["-1", "0", "1", "2", "3", "5", "50"]).parse().unwrap();
                cmp = Cmp::Len;
                if (1..50).contains(&c) {
                    after.push(vec!["DEL".into(), k.clone()]);
                }
                vec!["SPOP".into(), k, c.to_string()]
            }
            // ---- sorted sets
            88..=90 => vec!["ZADD".into(), k, self.score(), self.member(), self.score(), self.member()],
            91..=93 => {
                // ZADD with a random combination of flags, valid or not.
                let mut a = vec!["ZADD".into(), k];
                let mut incr = false;
                for flag in ["NX|XX", "GT|LT", "CH", "INCR"] {
                    if self.r.chance(3) {
                        let f = match flag {
                            "NX|XX" => self.r.pick(&["NX", "XX"]),
                            "GT|LT" => self.r.pick(&["GT", "LT"]),
                            f => f,
                        };
                        incr |= f == "INCR";
                        a.push(f.into());
                    }
                }
                a.push(self.score());
                a.push(self.member());
                if self.r.chance(5) {
                    a.push(self.score());
                    a.push(self.member());
                }
                if self.r.chance(10) {
                    a.push(self.member());
                }
                if incr {
                    cmp = Cmp::Floats;
                }
                a
            }
            94 => {
                cmp = Cmp::Floats;
                vec!["ZINCRBY".into(), k, self.increment(), self.member()]
            }
            95 => {
                cmp = Cmp::Floats;
                vec!["ZSCORE".into(), k, self.member()]
            }
            96 => {
                cmp = Cmp::Floats;
                vec!["ZMSCORE".into(), k, self.member(), self.member()]
            }
            97 | 98 => {
                cmp = Cmp::Floats;
                vec!["ZRANGE".into(), k, self.idx(), self.idx(), "WITHSCORES".into()]
            }
            99 => vec!["ZRANGEBYSCORE".into(), k, self.range_bound(), self.range_bound()],
            100..=102 => {
                // ZRANGE / ZRANGESTORE in every form.
                let store = self.r.chance(3);
                let mut a = if store { vec!["ZRANGESTORE".into(), self.key(), k] } else { vec!["ZRANGE".into(), k] };
                let by = self.r.below(3);
                match by {
                    0 => {
                        a.push(self.range_bound());
                        a.push(self.range_bound());
                        a.push("BYSCORE".into());
                    }
                    1 => {
                        a.push(self.lex_bound());
                        a.push(self.lex_bound());
                        a.push("BYLEX".into());
                    }
                    _ => {
                        a.push(self.idx());
                        a.push(self.idx());
                    }
                }
                if self.r.chance(2) {
                    a.push("REV".into());
                }
                if self.r.chance(2) {
                    let count = self.r.pick(&["-1", "0", "1", "2", "5"]);
                    a.extend(v(&["LIMIT", self.r.pick(&["0", "1", "2", "-1"]), count]));
                }
                if !store && by != 1 && self.r.chance(2) {
                    cmp = Cmp::Floats;
                    a.push("WITHSCORES".into());
                }
                a
            }
            103 => vec!["ZRANK".into(), k, self.member()],
            104 => vec!["ZREVRANK".into(), k, self.member()],
            105 => vec!["ZREM".into(), k, self.member(), self.member()],
            106 => vec!["ZCOUNT".into(), k, self.range_bound(), self.range_bound()],
            107 => vec!["ZLEXCOUNT".into(), k, self.lex_bound(), self.lex_bound()],
            108 => vec!["ZRANGEBYLEX".into(), k, self.lex_bound(), self.lex_bound()],
            109 => {
                cmp = Cmp::Floats;
                let mut a = vec![self.r.pick(&["ZPOPMIN", "ZPOPMAX"]).into(), k];
                if !self.r.chance(3) {
                    a.push(self.r.int(-1, 3).to_string());
                }
                a
            }
            110 => vec![
                self.r.pick(&["ZUNIONSTORE", "ZINTERSTORE", "ZDIFFSTORE"]).into(),
                k,
                "2".into(),
                self.key(),
                self.key(),
            ],
            111..=113 => {
                // ZUNION / ZINTER / ZDIFF (and their STORE forms) with options.
                let op = self.r.pick(&["ZUNION", "ZINTER", "ZDIFF"]);
                let store = self.r.chance(3);
                let n = self.r.int(1, 3) as usize;
                let mut a = if store { vec![format!("{op}STORE"), k] } else { vec![op.to_string()] };
                a.push(n.to_string());
                a.extend(self.keys_n(n));
                if self.r.chance(2) {
                    a.push("WEIGHTS".into());
                    for _ in 0..n {
                        a.push(self.r.pick(&["1", "2", "-1", "0", "0.5", "inf"]).into());
                    }
                }
                if self.r.chance(2) {
                    a.extend(v(&["AGGREGATE", self.r.pick(&["SUM", "MIN", "MAX", "AVG"])]));
                }
                if !store && self.r.chance(2) {
                    a.push("WITHSCORES".into());
                }
                cmp = Cmp::Floats;
                a
            }
            114 => {
                cmp = Cmp::Floats;
                let n = self.r.int(1, 3) as usize;
                let mut a = vec!["ZMPOP".into(), n.to_string()];
                a.extend(self.keys_n(n));
                a.push(self.r.pick(&["MIN", "MAX", "MID"]).into());
                if self.r.chance(2) {
                    a.extend(v(&["COUNT", self.r.pick(&["1", "2", "5", "0", "-1", "x"])]));
                }
                a
            }
            115 => {
                let n = self.r.int(1, 3) as usize;
                let mut a = vec!["ZINTERCARD".into(), n.to_string()];
                a.extend(self.keys_n(n));
                if self.r.chance(2) {
                    a.extend(v(&["LIMIT", self.r.pick(&["0", "1", "2", "-1", "x"])]));
                }
                a
            }
            116 => {
                cmp = Cmp::Len;
                let mut a = vec!["ZRANDMEMBER".into(), k];
                if !self.r.chance(4) {
                    a.push(self.r.int(-6, 6).to_string());
                    if self.r.chance(2) {
                        a.push("WITHSCORES".into());
                    }
                }
                a
            }
            117 => vec!["ZREMRANGEBYRANK".into(), k, self.idx(), self.idx()],
            118 => vec!["ZREMRANGEBYSCORE".into(), k, self.range_bound(), self.range_bound()],
            119 => vec!["ZREMRANGEBYLEX".into(), k, self.lex_bound(), self.lex_bound()],
            120 => vec!["ZCARD".into(), k],
            121 => {
                cmp = Cmp::Floats;
                vec!["ZREVRANGE".into(), k, self.idx(), self.idx(), "WITHSCORES".into()]
            }
            122 => vec![
                "ZREVRANGEBYSCORE".into(),
                k,
                self.range_bound(),
                self.range_bound(),
                "LIMIT".into(),
                "0".into(),
                "2".into(),
            ],
            // ---- bad numbers
            123 => {
                vec![self.r.pick(&["ZRANGE", "ZREMRANGEBYRANK", "GETRANGE"]).into(), k, self.bad_number(), "1".into()]
            }
            124 => vec![
                self.r.pick(&["SRANDMEMBER", "SPOP", "ZRANDMEMBER", "HRANDFIELD", "ZPOPMIN"]).into(),
                k,
                self.bad_number(),
            ],
            125 => vec!["ZADD".into(), k, self.bad_float(), self.member()],
            126 => vec![self.r.pick(&["INCRBYFLOAT", "ZINCRBY"]).into(), k, self.bad_float(), "a".into()],
            // ---- wrong arity
            127..=131 => self.wrong_arity(k),
            132 => {
                cmp = Cmp::Scan;
                let name = self.r.pick(&["SSCAN", "HSCAN", "ZSCAN"]);
                self.family = Some(match name {
                    "SSCAN" => 3,
                    "HSCAN" => 2,
                    _ => 4,
                });
                let mut a = vec![name.to_string(), self.key(), "0".into()];
                if self.r.chance(2) {
                    a.extend(v(&["MATCH", self.r.pick(&["*", "a*", "?", "[a-c]", "x*"])]));
                }
                if self.r.chance(2) {
                    a.extend(v(&["COUNT", self.r.pick(&["1", "2", "10", "0", "x"])]));
                }
                a
            }
            133 => {
                self.family = Some(0);
                let k = self.key();
                match self.r.below(3) {
                    0 => vec!["SETEX".into(), k, self.ttl_secs().to_string(), self.value()],
                    1 => vec!["PSETEX".into(), k, self.ttl_ms().to_string(), self.value()],
                    _ => vec![
                        self.r.pick(&["SETEX", "PSETEX"]).into(),
                        k,
                        self.r.pick(&["0", "-1", "x"]).into(),
                        "v".into(),
                    ],
                }
            }
            134 => vec![self.r.pick(&["DECR", "INCR"]).into(), k],
            135 => vec!["SUBSTR".into(), k, self.idx(), self.idx()],
            136 => {
                self.family = Some(2);
                let k = self.key();
                vec!["HMSET".into(), k, self.member(), self.value(), self.member(), self.value()]
            }
            137 => vec!["UNLINK".into(), k, self.key(), self.key()],
            138 => vec!["MOVE".into(), k, self.r.pick(&["1", "0", "16", "x"]).into()],
            139 => {
                self.family = Some(4);
                let k = self.key();
                vec![
                    "ZREVRANGEBYLEX".into(),
                    k,
                    self.lex_bound(),
                    self.lex_bound(),
                    "LIMIT".into(),
                    "0".into(),
                    "3".into(),
                ]
            }
            140 => {
                self.family = Some(4);
                let k = self.key();
                cmp = Cmp::Floats;
                vec![
                    "ZRANGEBYSCORE".into(),
                    k,
                    self.range_bound(),
                    self.range_bound(),
                    "WITHSCORES".into(),
                    "LIMIT".into(),
                    self.r.pick(&["0", "1", "-1"]).into(),
                    self.r.pick(&["1", "2", "-1", "0"]).into(),
                ]
            }
            141 => {
                // Set operations mixing sets and sorted sets.
                cmp = Cmp::Floats;
                let (a, b) = (self.r.pick(FAMILY_KEYS[3]), self.r.pick(FAMILY_KEYS[4]));
                vec![
                    self.r.pick(&["ZUNION", "ZINTER", "ZDIFF"]).into(),
                    "2".into(),
                    a.into(),
                    b.into(),
                    "WITHSCORES".into(),
                ]
            }
            142 => vec!["RENAME".into(), k.clone(), k],
            143 => {
                let secs = self.now_secs + self.ttl_secs();
                let mut a = match self.r.below(5) {
                    0 => vec!["EXPIREAT".into(), k, secs.to_string()],
                    1 => vec!["PEXPIREAT".into(), k, (secs * 1000 + 5000).to_string()],
                    // In the past: the key is deleted.
                    2 => vec![self.r.pick(&["EXPIREAT", "PEXPIREAT"]).into(), k, self.r.pick(&["1", "0", "-1"]).into()],
                    3 => vec![self.r.pick(&["EXPIREAT", "PEXPIREAT"]).into(), k, self.bad_number()],
                    _ => vec!["EXPIREAT".into(), k, secs.to_string(), self.r.pick(&["NX", "XX", "GT", "LT"]).into()],
                };
                if self.r.chance(8) {
                    a.push("GT".into());
                }
                a
            }
            144 => vec!["TOUCH".into(), k, self.key()],
            145 => {
                // Bulk fill, so that ranges, limits and pops see larger collections.
                let fam = self.r.below(3);
                self.family = Some([2, 3, 4][fam]);
                let k = self.key();
                let mut a = vec![["HSET", "SADD", "ZADD"][fam].to_string(), k];
                for _ in 0..self.r.int(5, 20) {
                    if fam == 2 {
                        a.push(self.score());
                    }
                    a.push(format!("m{:02}", self.r.int(0, 39)));
                    if fam == 0 {
                        a.push(self.value());
                    }
                }
                a
            }
            // ---- lists, more forms
            146 | 147 => {
                self.family = Some(1);
                let k = self.key();
                let mut a = vec![self.r.pick(&["LPUSHX", "RPUSHX"]).into(), k, self.member()];
                if self.r.chance(2) {
                    a.push(self.member());
                }
                a
            }
            148 => {
                self.family = Some(1);
                let k = self.key();
                vec!["RPOPLPUSH".into(), k, self.key()]
            }
            149 | 150 => {
                self.family = Some(1);
                let mut a = vec!["LMPOP".into()];
                a.extend(self.mpop_args(&["LEFT", "RIGHT"], None));
                a
            }
            151 => {
                self.family = Some(1);
                let k = self.key();
                match self.r.below(3) {
                    0 => vec![
                        self.r.pick(&["LPOP", "RPOP"]).into(),
                        k,
                        self.r.pick(&["0", "1", "2", "5", "-1", "x"]).into(),
                    ],
                    1 => {
                        let mut a = vec!["LPOS".into(), k, self.member()];
                        for _ in 0..self.r.int(1, 3) {
                            a.push(self.r.pick(&["RANK", "COUNT", "MAXLEN", "FOO"]).into());
                            a.push(self.r.pick(&["1", "2", "-1", "0", "-2", "x", "-9223372036854775808"]).into());
                        }
                        if self.r.chance(8) {
                            a.push("RANK".into());
                        }
                        a
                    }
                    _ => match self.r.below(5) {
                        0 => vec!["LINSERT".into(), k, "MIDDLE".into(), self.member(), self.member()],
                        1 => vec![self.r.pick(&["LINDEX", "LSET"]).into(), k, self.bad_number(), "v".into()],
                        2 => vec!["LSET".into(), k, self.r.int(-8, 8).to_string(), self.member()],
                        3 => vec!["LMOVE".into(), k, self.key(), self.r.pick(&["LEFT", "UP"]).into(), "DOWN".into()],
                        _ => vec![self.r.pick(&["LRANGE", "LTRIM"]).into(), k, "0".into(), self.bad_number()],
                    },
                }
            }
            // ---- blocking pops, in the cases where they do not wait
            152..=154 => {
                let (argv, c) = self.blocking_pop(before);
                cmp = c;
                argv
            }
            155 => self.blocking_pop_error(),
            // ---- transactions, databases
            156..=158 if !self.plain => {
                let (argv, c) = self.transaction(before, after);
                cmp = c;
                argv
            }
            159 if !self.plain => self.in_other_db(before, after),
            160 => {
                let a = ["0", "1", "2", "15", "16", "-1", "x"];
                vec!["SWAPDB".into(), self.r.pick(&a[..5]).into(), self.r.pick(&a).into()]
            }
            161 => {
                let mut a = vec!["FLUSHDB".to_string()];
                // Mostly a bad option: an emptied database tests little.
                match self.r.below(6) {
                    0 => a.push(self.r.pick(&["SYNC", "ASYNC", "sync"]).into()),
                    1 => {}
                    2 => a.extend(v(&["SYNC", "ASYNC"])),
                    _ => a.push(self.r.pick(&["FOO", "", "SYNCX"]).into()),
                }
                a
            }
            162 => {
                let db = self.r.pick(&["0", "1", "2", "15", "16", "-1", "x", "", "01", "9223372036854775808"]);
                vec!["SELECT".into(), db.into()]
            }
            // ---- connection and server
            163 => match self.r.below(4) {
                0 => vec!["PING".into()],
                1 => vec!["PING".into(), self.member()],
                2 => vec!["ECHO".into(), self.member()],
                _ => {
                    cmp = Cmp::TimeShape;
                    vec!["TIME".into()]
                }
            },
            164 => match self.r.below(4) {
                0 => vec!["OBJECT".into(), "FREQ".into(), k],
                1 => vec!["OBJECT".into(), self.r.pick(&["FREQ", "REFCOUNT", "ENCODING"]).into()],
                2 => vec!["OBJECT".into(), self.r.pick(&["FREQ", "REFCOUNT"]).into(), k, self.key()],
                _ => vec!["OBJECT".into(), self.r.pick(&["FOO", "", "IDLE"]).into(), k],
            },
            165 => match self.r.below(8) {
                0 => vec![self.r.pick(&["PUBLISH", "SPUBLISH"]).into(), self.member(), self.member()],
                1 => {
                    vec!["PUBSUB".into(), self.r.pick(&["NUMSUB", "SHARDNUMSUB"]).into(), self.member(), self.member()]
                }
                2 => vec![
                    "PUBSUB".into(),
                    self.r.pick(&["CHANNELS", "SHARDCHANNELS"]).into(),
                    self.r.pick(PATTERNS).into(),
                ],
                3 => vec!["PUBSUB".into(), self.r.pick(&["NUMPAT", "FOO", "CHANNELS"]).into()],
                4 => vec!["WAIT".into(), "0".into(), self.r.pick(&["0", "1", "-1", "x"]).into()],
                5 => vec!["WAIT".into(), self.r.pick(&["x", "-1", ""]).into(), "0".into()],
                // Arity and argument errors of the other container commands.
                6 => {
                    let form = self.r.pick(&["PUBSUB NUMPAT x", "PUBSUB HELP x", "PUBSUB CHANNELS a b", "PUBSUB"]);
                    form.split(' ').map(String::from).collect()
                }
                _ => {
                    let form = self.r.pick(&["SLOWLOG GET 1 2", "SLOWLOG GET x", "SLOWLOG LEN x", "SLOWLOG FOO"]);
                    form.split(' ').map(String::from).collect()
                }
            },
            166 => match self.r.below(4) {
                0 => vec!["CLIENT".into(), "SETNAME".into(), self.r.pick(&["n1", "n2", "", "a b", "x\ny"]).into()],
                1 => vec!["CLIENT".into(), "GETNAME".into()],
                2 => vec!["HELLO".into(), self.r.pick(&["1", "4", "x", "-1", "9223372036854775808"]).into()],
                // Neither server has a password: AUTH's replies without one.
                _ => {
                    let form = self.r.pick(&[
                        "AUTH x",
                        "AUTH default x",
                        "AUTH alice x",
                        "AUTH DEFAULT x",
                        "AUTH a b c",
                        "AUTH",
                        "HELLO 2 AUTH alice x",
                        "HELLO 2 AUTH default",
                        "HELLO 2 SETNAME a\tb AUTH default x",
                    ]);
                    form.split(' ').map(String::from).collect()
                }
            },
            167 => {
                let forms = [
                    "SET k v",
                    "MSET k 1 k2 2",
                    "MSET k",
                    "GET",
                    "SET",
                    "PING",
                    "NOSUCH k",
                    "CLIENT LIST",
                    "OBJECT FREQ k",
                    "ZUNIONSTORE d 2 k k2",
                    "ZUNIONSTORE d 0 k",
                    "ZUNIONSTORE d 5 k",
                    "ZDIFF 2 k k2 WITHSCORES",
                    "LMPOP 2 k k2 LEFT",
                    "LMPOP 3 k k2 LEFT",
                    "BLMPOP 0 2 k k2 LEFT",
                    "BZMPOP 0 1 k MIN",
                    "BLPOP k k2 0",
                    "SINTERCARD 2 k k2 LIMIT 1",
                    "ZINTERCARD 0 k",
                    "ZINTERCARD 2x k k2",
                    "OBJECT HELP",
                    "SELECT 1 2",
                    "COPY k k2",
                    "LCS k k2",
                    "RENAME k k2",
                    "EXISTS k k2 k",
                    "BITOP AND d k k2",
                    "BITCOUNT k 0 1",
                    "SETBIT k 1 1",
                    "BITFIELD k GET u8 0",
                    "BITFIELD_RO k GET u8 0",
                ];
                let mut a = v(&["COMMAND", "GETKEYS"]);
                a.extend(self.r.pick(&forms).split(' ').map(String::from));
                a
            }
            168 => {
                // Random, but deterministic in an empty database or one of
                // a single key: compared by kind (nil or a key).
                cmp = Cmp::Len;
                vec!["RANDOMKEY".into()]
            }
            169 => match self.r.below(3) {
                0 => vec!["CLIENT".into(), "NO-EVICT".into(), self.r.pick(&["on", "OFF", "x"]).into()],
                1 => vec!["FLUSHALL".into(), self.r.pick(&["FOO", "SYNCX", ""]).into()],
                _ => vec!["SETRANGE".into(), k, self.r.pick(&["536870912", "-1"]).into(), "x".into()],
            },
            // ---- bitmaps
            172 | 173 => vec!["SETBIT".into(), k, self.bit_offset(), self.bit_value()],
            174 => vec!["GETBIT".into(), k, self.bit_offset()],
            175 => {
                let mut a = vec!["BITCOUNT".into(), k];
                self.push_bit_range(&mut a, 6);
                a
            }
            176 => {
                let bit = if self.r.chance(10) { self.r.pick(&["2", "-1", "x", ""]).into() } else { self.bit_value() };
                let mut a = vec!["BITPOS".into(), k, bit];
                self.push_bit_range(&mut a, 5);
                a
            }
            177 | 178 => {
                let op = self.r.pick(&["AND", "OR", "XOR", "NOT", "and", "Not", "xor", "FOO"]);
                let n = if op.eq_ignore_ascii_case("not") && !self.r.chance(8) { 1 } else { self.r.below(3) + 1 };
                let mut a = vec!["BITOP".into(), op.into(), k];
                a.extend(self.keys_n(n));
                a
            }
            179 => {
                // Values and offsets that SETBIT and GETBIT refuse.
                let offset = self.r.pick(&["-1", "4294967296", "9223372036854775808", "x", "-0", "01", ""]);
                match self.r.below(3) {
                    0 => vec!["SETBIT".into(), k, offset.into(), self.bit_value()],
                    1 => vec!["GETBIT".into(), k, offset.into()],
                    _ => vec![
                        "SETBIT".into(),
                        k,
                        self.bit_offset(),
                        self.r.pick(&["2", "-1", "x", "-0", "", "01"]).into(),
                    ],
                }
            }
            180..=182 => {
                let mut a = vec!["BITFIELD".into(), k];
                // No FAIL as the change before a transaction (see the module doc).
                let modes: &[&str] =
                    if self.plain && !self.queuing { &["WRAP", "SAT"] } else { &["WRAP", "SAT", "FAIL"] };
                if self.r.chance(2) {
                    a.extend(v(&["OVERFLOW", self.r.pick(modes)]));
                }
                for _ in 0..self.r.below(4) + usize::from(!self.r.chance(10)) {
                    a.extend(self.bitfield_op(true));
                }
                a
            }
            183 => {
                let mut a = vec!["BITFIELD_RO".into(), k];
                for _ in 0..self.r.below(3) + usize::from(!self.r.chance(10)) {
                    let writes = self.r.chance(8);
                    a.extend(self.bitfield_op(writes));
                }
                a
            }
            _ => vec!["EXISTS".into(), k],
        };
        (argv, cmp)
    }

    /// `numkeys key [key ...] SIDE [COUNT count]` for `LMPOP`/`ZMPOP` and
    /// their blocking forms, valid or not; `must` is among the keys.
    fn mpop_args(&mut self, sides: &[&str], must: Option<String>) -> Vec<String> {
        let n = self.r.int(1, 3) as usize;
        let mut keys = self.keys_n(n);
        if let Some(p) = must {
            keys[self.r.below(n)] = p;
        }
        let mut a = vec![n.to_string()];
        if self.r.chance(8) {
            a[0] = self.r.pick(&["0", "-1", "x", "4", "9223372036854775807"]).into();
        }
        a.extend(keys);
        a.push(if self.r.chance(10) { "MIDDLE" } else { self.r.pick(sides) }.into());
        if self.r.chance(2) {
            a.extend(v(&["COUNT", self.r.pick(&["1", "2", "5", "0", "-1", "x"])]));
        }
        if self.r.chance(10) {
            a.push(self.r.pick(&["COUNT", "FOO"]).into());
        }
        a
    }

    /// The same with exactly one argument error, so that the blocking forms
    /// fail at once instead of waiting.
    fn mpop_bad_args(&mut self, sides: &[&str]) -> Vec<String> {
        let n = self.r.int(1, 2) as usize;
        let mut a = vec![n.to_string()];
        a.extend(self.keys_n(n));
        a.push(self.r.pick(sides).into());
        match self.r.below(5) {
            0 => a[0] = self.r.pick(&["0", "-1", "x", "9"]).into(),
            1 => a[n + 1] = self.r.pick(&["MIDDLE", "", "LEFTX"]).into(),
            2 => a.extend(v(&["COUNT", self.r.pick(&["0", "-1", "x", ""])])),
            3 => a.extend(v(&["COUNT", "1", "COUNT", "2"])),
            _ => a.push(self.r.pick(&["COUNT", "FOO"]).into()),
        }
        a
    }

    /// A timeout for a blocking command that has data to take: valid or not.
    /// (Not `inf` or past `LLONG_MAX` milliseconds: see the module comment.)
    fn timeout(&mut self) -> String {
        let t = ["0", "0", "0.5", "1", "100", "1e3", "0x10", "-0", "-0.0001", "1e13", "-inf", "-1", "x"];
        self.r.pick(&t).into()
    }

    /// A timeout that is refused for certain.
    fn bad_timeout(&mut self) -> String {
        self.r.pick(&["-1", "-0.5", "-2.5", "abc", "", "nan", " 1", "1 ", "1x"]).into()
    }

    /// `keys` (1 to 3) with `p` among them.
    fn keys_with(&mut self, p: &str) -> Vec<String> {
        let n = self.r.int(1, 3) as usize;
        let mut keys = self.keys_n(n);
        keys[self.r.below(n)] = p.to_string();
        keys
    }

    /// A blocking pop that does not wait: a push to one of its keys comes
    /// first, so that it finds data there (or a key of another type, an
    /// error) unless an earlier key answers first. Queued in `MULTI`, where
    /// nothing waits, the push may be left out.
    fn blocking_pop(&mut self, before: &mut Vec<Step>) -> (Vec<String>, Cmp) {
        let zset = self.r.chance(3);
        self.family = Some(if zset { 4 } else { 1 });
        let p = self.key();
        if !(self.queuing && self.r.chance(2)) {
            let push = if zset {
                vec!["ZADD".into(), p.clone(), self.r.int(-3, 3).to_string(), self.member()]
            } else {
                vec![self.r.pick(&["LPUSH", "RPUSH"]).into(), p.clone(), self.member(), self.member()]
            };
            before.push(Step { argv: push, cmp: Cmp::Exact });
        }
        let t = self.timeout();
        if zset {
            let mut a = match self.r.below(3) {
                0 => vec!["BZPOPMIN".to_string()],
                1 => vec!["BZPOPMAX".to_string()],
                _ => {
                    let mut a = vec!["BZMPOP".to_string(), t];
                    a.extend(self.mpop_args(&["MIN", "MAX"], Some(p)));
                    return (a, Cmp::Floats);
                }
            };
            a.extend(self.keys_with(&p));
            a.push(t);
            return (a, Cmp::Floats);
        }
        let argv = match self.r.below(5) {
            0 | 1 => {
                let mut a = vec![self.r.pick(&["BLPOP", "BRPOP"]).to_string()];
                a.extend(self.keys_with(&p));
                a.push(t);
                a
            }
            2 => {
                let (from, to) = (self.r.pick(&["LEFT", "RIGHT"]), self.r.pick(&["LEFT", "RIGHT", "UP"]));
                vec!["BLMOVE".into(), p, self.key(), from.into(), to.into(), t]
            }
            3 => vec!["BRPOPLPUSH".into(), p, self.key(), t],
            _ => {
                let mut a = vec!["BLMPOP".to_string(), t];
                a.extend(self.mpop_args(&["LEFT", "RIGHT"], Some(p)));
                a
            }
        };
        (argv, Cmp::Exact)
    }

    /// A blocking command with an argument error, which fails at once.
    fn blocking_pop_error(&mut self) -> Vec<String> {
        self.family = Some(if self.r.chance(3) { 4 } else { 1 });
        let k = self.key();
        let (ok, bad) = (self.r.pick(&["0", "1"]).to_string(), self.bad_timeout());
        match self.r.below(8) {
            0 => {
                let mut a = vec![self.r.pick(&["BLPOP", "BRPOP", "BZPOPMIN", "BZPOPMAX"]).to_string(), k];
                if self.r.chance(2) {
                    a.push(self.key());
                }
                a.push(bad);
                a
            }
            1 => {
                let (from, to) = (self.r.pick(&["LEFT", "RIGHT"]), self.r.pick(&["LEFT", "RIGHT"]));
                vec!["BLMOVE".into(), k, self.key(), from.into(), to.into(), bad]
            }
            2 => {
                let bad_side = if self.r.chance(2) { vec!["UP", "LEFT"] } else { vec!["RIGHT", "down"] };
                vec!["BLMOVE".into(), k, self.key(), bad_side[0].into(), bad_side[1].into(), ok]
            }
            3 => vec!["BRPOPLPUSH".into(), k, self.key(), bad],
            4 => {
                let mut a = vec!["BLMPOP".to_string(), bad];
                a.extend(self.mpop_args(&["LEFT", "RIGHT"], None));
                a
            }
            5 => {
                let mut a = vec!["BZMPOP".to_string(), bad];
                a.extend(self.mpop_args(&["MIN", "MAX"], None));
                a
            }
            6 => {
                let mut a = vec!["BLMPOP".to_string(), ok];
                a.extend(self.mpop_bad_args(&["LEFT", "RIGHT"]));
                a
            }
            _ => {
                let mut a = vec!["BZMPOP".to_string(), ok];
                a.extend(self.mpop_bad_args(&["MIN", "MAX"]));
                a
            }
        }
    }

    /// A command that is not a sequence of its own, with the steps it needs
    /// first, retried until its replies are compared in a way `ok` accepts.
    /// Its resynchronising commands go to `after`.
    fn sub_steps(&mut self, queuing: bool, ok: impl Fn(Cmp) -> bool, after: &mut Vec<Vec<String>>) -> Vec<Step> {
        let saved = (self.plain, self.queuing);
        (self.plain, self.queuing) = (true, queuing);
        let steps = loop {
            let mut steps = Vec::new();
            let mut more = Vec::new();
            let (argv, cmp) = self.command(&mut steps, &mut more);
            if ok(cmp) {
                steps.push(Step { argv, cmp });
                after.extend(more);
                break steps;
            }
        };
        (self.plain, self.queuing) = saved;
        steps
    }

    /// `MULTI` ... `EXEC`/`DISCARD` on this connection, perhaps after
    /// `WATCH` (and a command that may change a watched key: in Redis a
    /// change by the watching connection itself aborts `EXEC` too), with
    /// queuing errors (`EXECABORT`) and misplaced transaction commands now
    /// and then. Returns the closing command; the others go to `steps`.
    fn transaction(&mut self, steps: &mut Vec<Step>, after: &mut Vec<Vec<String>>) -> (Vec<String>, Cmp) {
        let exact = |argv: Vec<String>| Step { argv, cmp: Cmp::Exact };
        // Now and then in a chosen database (back to 0 at the end), so that
        // a change can be made to the same key name in another one.
        let home = self.r.chance(6).then(|| self.r.pick(&["0", "1"]));
        if let Some(db) = home {
            steps.push(exact(v(&["SELECT", db])));
        }
        if self.r.chance(10) {
            steps.push(exact(v(&[self.r.pick(&["EXEC", "DISCARD"])])));
        }
        if self.r.chance(2) {
            // A command that may change a key (any reply but a random one:
            // SPOP would make the data differ), and mostly one of its keys
            // among the watched ones.
            let mut change = match self.r.below(12) {
                0 => vec![exact(v(&["SWAPDB", self.r.pick(&["0", "1", "2"]), self.r.pick(&["0", "1"])]))],
                1 => vec![exact(v(&["FLUSHDB"]))],
                _ => self.sub_steps(false, |c| c != Cmp::Len, after),
            };
            let touched: Vec<String> = change
                .iter()
                .flat_map(|s| s.argv[1..].iter())
                .filter(|a| FAMILY_KEYS.iter().any(|f| f.contains(&a.as_str())))
                .cloned()
                .collect();
            let mut a = v(&["WATCH"]);
            if !touched.is_empty() && !self.r.chance(4) {
                a.push(touched[self.r.below(touched.len())].clone());
            }
            let n = self.r.int(if a.len() > 1 { 0 } else { 1 }, 2) as usize;
            a.extend(self.keys_n(n));
            steps.push(exact(a));
            if let Some(db) = home.filter(|_| self.r.chance(3)) {
                // The same key name in another database is another key.
                let other = if db == "0" { "1" } else { "0" };
                change.insert(0, exact(v(&["SELECT", other])));
                change.push(exact(v(&["SELECT", db])));
            }
            match self.r.below(6) {
                0 => {
                    steps.push(exact(v(&["UNWATCH"])));
                    steps.extend(change);
                }
                1..=4 => steps.extend(change),
                _ => {}
            }
        }
        steps.push(exact(v(&["MULTI"])));
        let mut floats = false;
        for _ in 0..self.r.int(0, 4) {
            match self.r.below(12) {
                0 => steps.push(exact(v(&["MULTI"]))),
                1 => {
                    let k = self.key();
                    steps.push(exact(vec!["WATCH".into(), k]));
                }
                2 if self.r.chance(3) => {
                    // Rejected while queuing: EXEC fails with EXECABORT.
                    let bad = self.r.pick(&["NOSUCHCMD a", "DISCARD x", "MULTI x", "WATCH", "GET", "OBJECT FOO"]);
                    steps.push(exact(bad.split(' ').map(String::from).collect()));
                }
                _ => {
                    for s in self.sub_steps(true, |c| matches!(c, Cmp::Exact | Cmp::Floats), after) {
                        floats |= s.cmp == Cmp::Floats;
                        steps.push(exact(s.argv));
                    }
                }
            }
        }
        let end = if self.r.chance(5) {
            (v(&["DISCARD"]), Cmp::Exact)
        } else if self.r.chance(20) {
            // Rejected: discards the transaction with EXECABORT.
            (v(&["EXEC", "x"]), Cmp::Exact)
        } else {
            (v(&["EXEC"]), if floats { Cmp::Floats } else { Cmp::Exact })
        };
        if home.is_none() {
            return end;
        }
        steps.push(Step { argv: end.0, cmp: end.1 });
        (v(&["SELECT", "0"]), Cmp::Exact)
    }

    /// A few commands in another database, `DBSIZE` there, then back to 0.
    fn in_other_db(&mut self, steps: &mut Vec<Step>, after: &mut Vec<Vec<String>>) -> Vec<String> {
        steps.push(Step { argv: v(&["SELECT", self.r.pick(&["1", "1", "2", "15"])]), cmp: Cmp::Exact });
        for _ in 0..self.r.int(1, 3) {
            let more = self.sub_steps(false, |c| c != Cmp::Len, after);
            steps.extend(more);
        }
        steps.push(Step { argv: v(&["DBSIZE"]), cmp: Cmp::Exact });
        v(&["SELECT", "0"])
    }

    /// A command with one argument too few or too many for its arity.
    fn wrong_arity(&mut self, k: String) -> Vec<String> {
        let few: &[&[&str]] = &[
            &["LPUSHX", "k"],
            &["RPUSHX"],
            &["RPOPLPUSH", "k"],
            &["RPOPLPUSH", "k", "k", "k"],
            &["LMPOP", "1", "k"],
            &["LPOP", "k", "1", "2"],
            &["BLPOP", "k"],
            &["BRPOP"],
            &["BLMOVE", "k", "k", "LEFT", "LEFT"],
            &["BRPOPLPUSH", "k", "k"],
            &["BLMPOP", "0", "1", "k"],
            &["BZPOPMIN", "k"],
            &["BZMPOP", "0", "1", "k"],
            &["SELECT"],
            &["SELECT", "0", "1"],
            &["SWAPDB", "0"],
            &["DBSIZE", "x"],
            &["ECHO"],
            &["ECHO", "a", "b"],
            &["PING", "a", "b"],
            &["TIME", "x"],
            &["OBJECT"],
            &["MULTI", "x"],
            &["EXEC", "x"],
            &["DISCARD", "x"],
            &["WATCH"],
            &["UNWATCH", "k"],
            &["PUBLISH", "c"],
            &["WAIT", "0"],
            &["CLIENT", "GETNAME", "x"],
            &["GET"],
            &["SET", "k"],
            &["INCRBY", "k"],
            &["GETRANGE", "k", "0"],
            &["MSET", "k"],
            &["MSET", "k", "v", "k2"],
            &["HSET", "k", "f"],
            &["HSET", "k", "f", "v", "g"],
            &["HGET", "k"],
            &["HMSET", "k", "f"],
            &["SADD", "k"],
            &["SINTERCARD"],
            &["SINTERCARD", "2", "k"],
            &["ZADD", "k", "1"],
            &["ZADD", "k", "1", "a", "2"],
            &["ZADD", "k", "NX"],
            &["ZRANGE", "k", "0"],
            &["ZRANGESTORE", "d", "k", "0"],
            &["ZUNION", "2", "k"],
            &["ZUNIONSTORE", "d"],
            &["ZMPOP", "1", "k"],
            &["ZMSCORE", "k"],
            &["ZINTERCARD", "0", "k"],
            &["EXPIRE", "k"],
            &["PEXPIRE", "k", "1", "NX", "XX"],
            &["GETEX"],
            &["COPY", "k"],
            &["RENAME", "k"],
            &["LCS", "k"],
            &["DEL"],
            &["EXISTS"],
            &["TYPE"],
            &["SCAN"],
            &["GETDEL", "k", "k"],
            &["INCRBYFLOAT", "k", "1", "2"],
            &["HINCRBYFLOAT", "k", "f"],
            &["SPOP", "k", "1", "2"],
            &["SRANDMEMBER", "k", "1", "2"],
            &["HRANDFIELD", "k", "1", "WITHVALUES", "x"],
            &["ZRANDMEMBER", "k", "1", "WITHSCORES", "x"],
            &["ZPOPMAX", "k", "1", "2"],
            &["TTL", "k", "x"],
            &["EXPIRETIME"],
            &["SETBIT", "k", "1"],
            &["SETBIT", "k", "1", "1", "1"],
            &["GETBIT", "k"],
            &["GETBIT", "k", "1", "2"],
            &["BITCOUNT"],
            &["BITPOS", "k"],
            &["BITOP", "AND", "k"],
            &["BITOP", "NOT"],
            &["BITFIELD"],
            &["BITFIELD_RO"],
        ];
        let mut form = few[self.r.below(few.len())];
        // A rejected EXEC ends a transaction: not among the queued commands.
        while self.queuing && form[0] == "EXEC" {
            form = few[self.r.below(few.len())];
        }
        form.iter().map(|a| if *a == "k" { k.clone() } else { a.to_string() }).collect()
    }
}

/// Sorts the elements of an array, set or map (by their debug form).
fn sort_top(v: Value) -> Value {
    match v {
        Value::Array(mut items) => {
            items.sort_by_key(|x| format!("{x:?}"));
            Value::Array(items)
        }
        Value::Map(mut pairs) => {
            pairs.sort_by_key(|x| format!("{x:?}"));
            Value::Map(pairs)
        }
        other => other,
    }
}

/// Rewrites every number-like bulk string and double in one canonical form.
fn canonical_floats(v: Value) -> Value {
    let canon = |f: f64| format!("{f:?}");
    match v {
        Value::BulkString(b) => match std::str::from_utf8(&b).ok().and_then(|s| s.parse::<f64>().ok()) {
            Some(f) => Value::BulkString(canon(f).into_bytes()),
            None => Value::BulkString(b),
        },
        Value::Double(f) => Value::Double(canon(f).parse().unwrap()),
        Value::Array(items) => Value::Array(items.into_iter().map(canonical_floats).collect()),
        Value::Set(items) => Value::Set(items.into_iter().map(canonical_floats).collect()),
        Value::Map(pairs) => {
            Value::Map(pairs.into_iter().map(|(a, b)| (canonical_floats(a), canonical_floats(b))).collect())
        }
        other => other,
    }
}

/// Turns RESP3 sets into sorted arrays (their order is unspecified).
fn sets_sorted(v: Value) -> Value {
    match v {
        Value::Set(mut items) => {
            items.sort_by_key(|x| format!("{x:?}"));
            Value::Array(items.into_iter().map(sets_sorted).collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sets_sorted).collect()),
        Value::Map(pairs) => Value::Map(pairs.into_iter().map(|(a, b)| (sets_sorted(a), sets_sorted(b))).collect()),
        other => other,
    }
}

/// The reply as it is compared under `cmp`.
fn normalize(v: Value, cmp: Cmp) -> Value {
    if is_error(&v) {
        return v;
    }
    let v = sets_sorted(v);
    match cmp {
        Cmp::Exact | Cmp::Scan => v,
        Cmp::Unordered => sort_top(v),
        Cmp::Floats => canonical_floats(v),
        Cmp::Len => match v {
            Value::Array(items) => Value::SimpleString(format!("array of {}", items.len())),
            Value::Map(items) => Value::SimpleString(format!("map of {}", items.len())),
            Value::BulkString(_) => Value::SimpleString("a bulk string".into()),
            other => other,
        },
        Cmp::Sign => match v {
            Value::Int(n) if n >= 0 => Value::SimpleString("non-negative".into()),
            other => other,
        },
        Cmp::Near(_) => v,
        Cmp::TimeShape => match v {
            Value::Array(parts)
                if parts.len() == 2
                    && parts.iter().all(
                        |p| matches!(p, Value::BulkString(d) if !d.is_empty() && d.iter().all(u8::is_ascii_digit)),
                    ) =>
            {
                Value::SimpleString("seconds and microseconds".into())
            }
            other => other,
        },
    }
}

fn is_error(v: &Value) -> bool {
    matches!(v, Value::SimpleString(s) if s.starts_with("ERROR "))
}

fn send(c: &mut redis::Connection, argv: &[String]) -> Value {
    let mut cmd = redis::cmd(&argv[0]);
    for a in &argv[1..] {
        cmd.arg(a);
    }
    // `req_command` keeps errors nested in arrays (`EXEC` replies) in place,
    // where `query` would turn the whole reply into the first of them.
    match redis::ConnectionLike::req_command(c, &cmd) {
        Ok(v) => errors_shown(v),
        Err(e) => Value::SimpleString(format!("ERROR {} {}", e.code().unwrap_or("?"), e.detail().unwrap_or(""))),
    }
}

/// Rewrites every error reply, at the top or nested, as a simple string
/// `ERROR <code> <text>`.
fn errors_shown(v: Value) -> Value {
    match v {
        Value::ServerError(e) => Value::SimpleString(format!("ERROR {} {}", e.code(), e.details().unwrap_or(""))),
        Value::Array(items) => Value::Array(items.into_iter().map(errors_shown).collect()),
        Value::Set(items) => Value::Set(items.into_iter().map(errors_shown).collect()),
        Value::Map(pairs) => Value::Map(pairs.into_iter().map(|(a, b)| (errors_shown(a), errors_shown(b))).collect()),
        other => other,
    }
}

/// Walks a `SCAN`/`SSCAN`/`HSCAN`/`ZSCAN` cursor to 0 and returns the
/// elements seen (field-value and member-score pairs kept together, scores
/// compared as numbers), or the first error.
fn scan_walk(c: &mut redis::Connection, argv: &[String]) -> Value {
    let mut argv = argv.to_vec();
    let cursor_at = if argv[0] == "SCAN" { 1 } else { 2 };
    let pairs = argv[0] == "HSCAN" || argv[0] == "ZSCAN";
    let mut keys = BTreeSet::new();
    for _ in 0..10_000 {
        let reply = send(c, &argv);
        let Value::Array(parts) = reply else { return reply };
        let [Value::BulkString(cursor), Value::Array(batch)] = &parts[..] else {
            return Value::SimpleString(format!("bad SCAN reply {parts:?}"));
        };
        for item in batch.chunks(if pairs { 2 } else { 1 }) {
            keys.insert(format!("{:?}", canonical_floats(Value::Array(item.to_vec()))));
        }
        let cursor = String::from_utf8_lossy(cursor).to_string();
        if cursor == "0" {
            return Value::SimpleString(format!("{keys:?}"));
        }
        argv[cursor_at] = cursor;
    }
    Value::SimpleString("SCAN did not finish".into())
}

/// Whether two normalised replies agree under `cmp`.
fn agree(a: &Value, b: &Value, cmp: Cmp) -> bool {
    match (cmp, a, b) {
        (Cmp::Near(tol), Value::Int(x), Value::Int(y)) => {
            // Negative replies (-1 no expiry, -2 no key) must match exactly.
            if *x < 0 || *y < 0 { x == y } else { (x - y).abs() <= tol }
        }
        _ => a == b,
    }
}

fn unix_secs() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

struct Reference {
    child: Child,
    dir: PathBuf,
}

impl Drop for Reference {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn main() {
    let mut seed: u64 = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64;
    let mut count = 20_000usize;
    let mut redis_server = "redis-server".to_string();
    let mut resp3 = false;
    let mut skip_unknown = false;
    let args: Vec<String> = std::env::args().collect();
    let mut i = 1;
    while i < args.len() {
        match args[i].as_str() {
            "--seed" => seed = args[i + 1].parse().expect("--seed N"),
            "--commands" => count = args[i + 1].parse().expect("--commands N"),
            "--redis-server" => redis_server = args[i + 1].clone(),
            "--resp3" => {
                resp3 = true;
                i += 1;
                continue;
            }
            "--skip-unknown" => {
                skip_unknown = true;
                i += 1;
                continue;
            }
            other => panic!("unknown argument {other}"),
        }
        i += 2;
    }
    let proto = if resp3 { "RESP3" } else { "RESP2" };
    println!("difftest: seed {seed}, {count} cases, {proto}");

    let dir = std::env::temp_dir().join(format!("sb-difftest-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let ref_sock = dir.join("redis.sock");
    let child = Command::new(&redis_server)
        .args(["--port", "0", "--unixsocket"])
        .arg(&ref_sock)
        .args(["--save", "", "--appendonly", "no", "--dir"])
        .arg(&dir)
        .stdout(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("starting {redis_server}: {e}"));
    let reference = Reference { child, dir: dir.clone() };
    let deadline = Instant::now() + Duration::from_secs(10);
    while UnixStream::connect(&ref_sock).is_err() {
        assert!(Instant::now() < deadline, "redis-server did not start");
        std::thread::yield_now();
    }

    let config =
        statebroker::config::Config { unixsocket: dir.join("sb.sock"), dir: dir.join("sb"), ..Default::default() };
    let ours = statebroker::server::spawn(config).expect("statebroker starts");
    let query = if resp3 { "?protocol=resp3" } else { "" };
    let open = |p: &std::path::Path| {
        redis::Client::open(format!("unix://{}{query}", p.display())).unwrap().get_connection().unwrap()
    };
    let mut a = open(&ours.listening.unixsocket);
    let mut b = open(&ref_sock);
    // A command that blocks by mistake shows as a mismatch, not a hang.
    for c in [&a, &b] {
        c.set_read_timeout(Some(Duration::from_secs(10))).expect("read timeout");
    }

    let mut generator = Gen {
        r: Rng::from_seed(seed),
        family: None,
        ttl_counter: 0,
        now_secs: unix_secs(),
        queuing: false,
        plain: false,
    };
    let mut history: Vec<String> = Vec::new();
    let mut mismatches = 0;
    let mut skipped = 0;
    let mut errors = 0;
    let mut sent = 0;
    let trace = std::env::var_os("DIFFTEST_TRACE").is_some();
    let flush = v(&["FLUSHALL"]);
    // Leaves a transaction, forgets watched keys, selects db 0 and empties
    // every database: the same state on both servers, whatever came before.
    let resync = [v(&["DISCARD"]), v(&["UNWATCH"]), v(&["SELECT", "0"]), flush.clone()];
    'cases: for n in 0..count {
        if n % 500 == 0 {
            send(&mut a, &flush);
            send(&mut b, &flush);
            history.clear();
        }
        // Absolute expiry times (EXAT/PXAT) are computed from the current
        // second, so they stay as far apart from relative ones as those are
        // from each other however long the run takes.
        generator.now_secs = unix_secs();
        let case = generator.case();
        for step in &case.steps {
            let shown: Vec<String> = step.argv.iter().map(|x| format!("{x:?}")).collect();
            history.push(shown.join(" "));
            let (ra, rb) = if step.cmp == Cmp::Scan {
                (scan_walk(&mut a, &step.argv), scan_walk(&mut b, &step.argv))
            } else {
                let ra = send(&mut a, &step.argv);
                if skip_unknown && matches!(&ra, Value::SimpleString(s) if s.starts_with("ERROR ERR unknown command")) {
                    skipped += 1;
                    history.pop();
                    continue;
                }
                (ra, send(&mut b, &step.argv))
            };
            sent += 1;
            let (na, nb) = (normalize(ra, step.cmp), normalize(rb, step.cmp));
            if trace {
                println!("{} -> {nb:?}", history.last().map_or("", |h| h.as_str()));
            }
            errors += usize::from(is_error(&nb));
            if !agree(&na, &nb, step.cmp) {
                mismatches += 1;
                println!("MISMATCH after {} commands (seed {seed}, {proto}):", history.len());
                for h in history.iter().rev().take(HISTORY_SHOWN).rev() {
                    println!("  > {h}");
                }
                println!("  statebroker: {na:?}\n  redis:       {nb:?}");
                if mismatches >= 10 {
                    break 'cases;
                }
                // Resynchronise both servers before going on.
                for c in &resync {
                    send(&mut a, c);
                    send(&mut b, c);
                }
                history.clear();
                continue 'cases;
            }
        }
        for extra in &case.after {
            send(&mut a, extra);
            send(&mut b, extra);
            history.push(format!("{} (both, not compared)", extra.join(" ")));
        }
    }
    drop(reference);
    if skip_unknown {
        println!("difftest: {skipped} commands unknown to statebroker skipped");
    }
    if mismatches > 0 {
        println!("difftest: {mismatches} mismatches (seed {seed}, {proto})");
        std::process::exit(1);
    }
    println!("difftest: {count} cases, {sent} commands ({errors} error replies), 0 mismatches");
}
