//! Commands: argument parsing and semantics, one file per family, all
//! synchronous functions over the keyspace.
//!
//! The command table ([`table`]) is the single source of truth for names,
//! arities, flags and key positions: the dispatcher, `COMMAND INFO`/`DOCS`,
//! the README's command list and the "is this a write?" decision read it.

pub mod admin;
pub mod args;
pub mod auth;
pub mod bitmap;
pub mod ctx;
pub mod dispatch;
pub mod float;
pub mod hash;
pub mod hll;
pub mod keys;
pub mod list;
pub mod persist;
pub mod pubsub;
pub mod server;
pub mod set;
pub mod sort;
pub mod string;
#[cfg(test)]
pub(crate) mod testkit;
pub mod tx;
pub mod zset;

use bytes::Bytes;
use std::sync::OnceLock;

pub use args::Args;
pub use ctx::{Block, ClientInfo, Ctx, KeyEvent, ServerState, Session, Stats};

use crate::resp::Frame;
use crate::state::{HashMap, HashSet};

/// What a command returns: a reply, or an error reply via `?`.
pub type CmdResult = Result<Frame, Frame>;

/// A command implementation.
pub type Handler = fn(&mut Ctx, &mut Args) -> CmdResult;

/// `WRONGTYPE` error.
pub const WRONGTYPE: Frame = Frame::error("WRONGTYPE Operation against a key holding the wrong kind of value");
/// Integer parse error.
pub const NOT_INT: Frame = Frame::error("ERR value is not an integer or out of range");
/// Float parse error.
pub const NOT_FLOAT: Frame = Frame::error("ERR value is not a valid float");
/// Generic syntax error.
pub const SYNTAX: Frame = Frame::error("ERR syntax error");
/// Missing key error (`RENAME`, `LSET`...).
pub const NO_SUCH_KEY: Frame = Frame::error("ERR no such key");
/// Out-of-range database index.
pub const DB_RANGE: Frame = Frame::error("ERR DB index is out of range");
/// Numeric overflow in an increment.
pub const OVERFLOW: Frame = Frame::error("ERR increment or decrement would overflow");

/// Command flag bits (reported by `COMMAND INFO` under Redis's names).
pub mod flags {
    /// May change the keyspace.
    pub const WRITE: u32 = 1;
    /// Never changes the keyspace.
    pub const READONLY: u32 = 1 << 1;
    /// May grow memory use.
    pub const DENYOOM: u32 = 1 << 2;
    /// Administrative.
    pub const ADMIN: u32 = 1 << 3;
    /// Publish/subscribe related.
    pub const PUBSUB: u32 = 1 << 4;
    /// May block the client.
    pub const BLOCKING: u32 = 1 << 5;
    /// O(1) or O(log n).
    pub const FAST: u32 = 1 << 6;
    /// Runs while loading.
    pub const LOADING: u32 = 1 << 7;
    /// Runs on stale data.
    pub const STALE: u32 = 1 << 8;
    /// Refused inside `MULTI` ("Command not allowed inside a
    /// transaction"): `SAVE`, `SHUTDOWN`, as in Redis.
    pub const NO_MULTI: u32 = 1 << 9;
    /// Key positions are not fixed.
    pub const MOVABLEKEYS: u32 = 1 << 10;
    /// Allowed in RESP2 subscribed mode.
    pub const SUBSCRIBED_OK: u32 = 1 << 11;
    /// Runs on a connection that has not authenticated (`AUTH`, `HELLO`,
    /// `QUIT`, `RESET`).
    pub const NO_AUTH: u32 = 1 << 12;

    /// `(bit, name)` pairs in the order `COMMAND INFO` lists them.
    pub const NAMES: &[(u32, &str)] = &[
        (WRITE, "write"),
        (READONLY, "readonly"),
        (DENYOOM, "denyoom"),
        (ADMIN, "admin"),
        (PUBSUB, "pubsub"),
        (BLOCKING, "blocking"),
        (LOADING, "loading"),
        (STALE, "stale"),
        (FAST, "fast"),
        (NO_AUTH, "no_auth"),
        (NO_MULTI, "no_multi"),
        (MOVABLEKEYS, "movablekeys"),
    ];
}

/// One entry of the command table.
#[derive(Debug)]
pub struct Command {
    /// Lower-case name.
    pub name: &'static str,
    /// Redis arity: N means exactly N arguments including the name; -N means at least N.
    pub arity: i32,
    /// [`flags`] bits.
    pub flags: u32,
    /// Position of the first key (0: no keys).
    pub first_key: i32,
    /// Position of the last key (-1: the last argument).
    pub last_key: i32,
    /// Step between keys.
    pub step: i32,
    /// Command group as `COMMAND DOCS` reports it (`string`, `generic`...).
    pub group: &'static str,
    /// One-line summary, with the wire syntax.
    pub summary: &'static str,
    /// The implementation.
    pub handler: Handler,
}

/// Whether `argc` arguments (names included) fit a Redis arity: exactly
/// `arity` when it is positive, at least `-arity` when negative.
pub fn arity_fits(arity: i32, argc: usize) -> bool {
    let argc = argc as i32;
    if arity >= 0 { argc == arity } else { argc >= -arity }
}

impl Command {
    /// Whether the command may change the keyspace.
    pub fn is_write(&self) -> bool {
        self.flags & flags::WRITE != 0
    }

    /// Whether `argc` arguments (name included) satisfy the arity.
    pub fn arity_ok(&self, argc: usize) -> bool {
        arity_fits(self.arity, argc)
    }

    /// Whether the command has key arguments (fixed or movable).
    pub fn has_keys(&self) -> bool {
        self.first_key > 0 || self.flags & flags::MOVABLEKEYS != 0
    }

    /// The key arguments of `argv`: the fixed key positions, plus, for a
    /// command with movable keys, the keys its `numkeys` argument declares;
    /// `None` if that count is not a positive integer or declares more keys
    /// than there are arguments (Redis finds no keys then).
    pub fn keys<'a>(&self, argv: &'a [Bytes]) -> Option<Vec<&'a Bytes>> {
        let mut out = Vec::new();
        if self.first_key > 0 {
            let last = if self.last_key < 0 { argv.len() as i32 + self.last_key } else { self.last_key };
            let mut i = self.first_key;
            while i <= last && (i as usize) < argv.len() {
                out.push(&argv[i as usize]);
                i += self.step.max(1);
            }
        }
        if self.name == "sort" {
            // The last `STORE destination`, skipping the other options'
            // arguments as Redis's `sortGetKeys` does.
            let mut store = None;
            let mut i = 2;
            while i < argv.len() {
                let skip = [("limit", 2), ("get", 1), ("by", 1)]
                    .iter()
                    .find(|(o, _)| argv[i].eq_ignore_ascii_case(o.as_bytes()))
                    .map(|&(_, n)| n);
                match skip {
                    Some(n) => i += n,
                    None if argv[i].eq_ignore_ascii_case(b"store") && i + 1 < argv.len() => store = Some(&argv[i + 1]),
                    None => {}
                }
                i += 1;
            }
            out.extend(store);
        }
        if self.flags & flags::MOVABLEKEYS != 0
            && let Some(&(_, at)) = NUMKEYS_AT.iter().find(|(name, _)| *name == self.name)
        {
            let n = argv.get(at).and_then(|a| numkeys_as_redis_reads_it(a)).filter(|&n| n >= 1)?;
            if n > argv.len() - at - 1 {
                return None;
            }
            out.extend(argv.iter().skip(at + 1).take(n));
        }
        Some(out)
    }
}

/// A `numkeys` argument as Redis's key extraction reads it: C's `atoi`
/// (leading spaces, a sign, the digits up to the first other character);
/// `None` past the range of a C `int`.
fn numkeys_as_redis_reads_it(arg: &[u8]) -> Option<usize> {
    let text = arg.trim_ascii_start();
    let (neg, digits) = match text.first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let mut n: i64 = 0;
    for d in digits.iter().take_while(|c| c.is_ascii_digit()) {
        n = n.checked_mul(10)?.checked_add(i64::from(d - b'0'))?;
    }
    let n = if neg { -n } else { n };
    i32::try_from(n).ok().and_then(|n| usize::try_from(n).ok())
}

/// Commands whose keys follow a `numkeys` argument, with that argument's
/// position (`ZUNIONSTORE dest numkeys key ...`: the destination is a fixed
/// key position, the rest are declared by `numkeys`).
const NUMKEYS_AT: &[(&str, usize)] = &[
    ("lmpop", 1),
    ("blmpop", 2),
    ("zmpop", 1),
    ("bzmpop", 2),
    ("sintercard", 1),
    ("zintercard", 1),
    ("zunion", 1),
    ("zinter", 1),
    ("zdiff", 1),
    ("zunionstore", 2),
    ("zinterstore", 2),
    ("zdiffstore", 2),
];

/// Every command family's table, in the order they are listed.
pub fn families() -> &'static [&'static [Command]] {
    static FAMILIES: &[&[Command]] = &[
        server::COMMANDS,
        string::COMMANDS,
        bitmap::COMMANDS,
        keys::COMMANDS,
        sort::COMMANDS,
        list::COMMANDS,
        hash::COMMANDS,
        set::COMMANDS,
        zset::COMMANDS,
        hll::COMMANDS,
        pubsub::COMMANDS,
        tx::COMMANDS,
        admin::COMMANDS,
        persist::COMMANDS,
        auth::COMMANDS,
    ];
    FAMILIES
}

/// Every command, by lower-case name.
pub fn table() -> &'static HashMap<&'static [u8], &'static Command> {
    static TABLE: OnceLock<HashMap<&'static [u8], &'static Command>> = OnceLock::new();
    TABLE.get_or_init(|| families().iter().flat_map(|f| f.iter()).map(|c| (c.name.as_bytes(), c)).collect())
}

/// The command table as a Markdown table (command, syntax and summary,
/// group), sorted by group then name, subcommands of container commands
/// included. The README's command list is this text.
pub fn markdown_table() -> String {
    let mut rows: Vec<(&str, String, &str)> = Vec::new();
    for c in families().iter().flat_map(|f| f.iter()) {
        rows.push((c.group, c.name.to_ascii_uppercase(), c.summary));
        for s in server::subcommands_of(c.name) {
            rows.push((c.group, s.name.replace('|', " ").to_ascii_uppercase(), s.summary));
        }
    }
    rows.sort();
    let cell = |s: &str| s.replace('|', "\\|");
    let mut out = String::from("| Command | Syntax and summary | Group |\n|---|---|---|\n");
    for (group, name, summary) in rows {
        let (syntax, text) = server::split_summary(summary);
        let described = if syntax.is_empty() { cell(text) } else { format!("`{}` — {}", cell(syntax), cell(text)) };
        out.push_str(&format!("| `{name}` | {described} | {group} |\n"));
    }
    out
}

/// Finds a command by name, case-insensitively, without allocating.
pub fn lookup(name: &[u8]) -> Option<&'static Command> {
    let mut buf = [0u8; 32];
    if name.len() > buf.len() {
        return None;
    }
    let lower = &mut buf[..name.len()];
    lower.copy_from_slice(name);
    lower.make_ascii_lowercase();
    table().get(&*lower).copied()
}

/// The reply to an unknown command, as Redis words it: the arguments are
/// quoted one after another until their text reaches 128 bytes, the last
/// one cut to what is left of those.
pub fn unknown_command(argv: &[Bytes]) -> Frame {
    let mut args = String::new();
    for a in argv.iter().skip(1) {
        if args.len() >= 128 {
            break;
        }
        args.push_str(&format!("'{}' ", printable(a, 128 - args.len())));
    }
    Frame::error_owned(format!("ERR unknown command '{}', with args beginning with: {args}", printable(&argv[0], 128)))
}

/// The reply to a wrong argument count.
pub fn wrong_arity(name: &str) -> Frame {
    Frame::error_owned(format!("ERR wrong number of arguments for '{name}' command"))
}

/// The distinct `items` for which `keep` holds, in first-seen order (the
/// members `SADD` adds, the fields `HDEL` removes...).
pub fn distinct(items: &[Bytes], keep: impl Fn(&Bytes) -> bool) -> Vec<Bytes> {
    let mut seen: HashSet<&Bytes> = HashSet::default();
    items.iter().filter(|i| keep(i) && seen.insert(i)).cloned().collect()
}

/// Text of `b` for an error message: lossy UTF-8, control bytes as spaces, cut to `max`.
pub fn printable(b: &[u8], max: usize) -> String {
    let cut = &b[..b.len().min(max)];
    String::from_utf8_lossy(cut).chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

/// Runs one command: lookup, arity check, then the handler. The reply is
/// returned; a handler that must wait sets [`Ctx::block`].
pub fn execute(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    match lookup(&argv[0]) {
        Some(cmd) => execute_command(ctx, cmd, argv),
        None => {
            ctx.server.stats.rejected_calls += 1;
            unknown_command(argv)
        }
    }
}

/// Runs `argv` as the already looked-up `cmd`: arity check, the refusal of
/// writes after a persistence failure, then the handler.
pub fn execute_command(ctx: &mut Ctx, cmd: &'static Command, argv: &[Bytes]) -> Frame {
    if !cmd.arity_ok(argv.len()) {
        ctx.server.stats.rejected_calls += 1;
        return wrong_arity(cmd.name);
    }
    if cmd.is_write()
        && let Some(reason) = &ctx.server.write_refusal
    {
        return Frame::error_owned(reason.clone());
    }
    ctx.server.stats.total_commands += 1;
    ctx.session.last_cmd = cmd.name;
    let mut args = Args::new(argv);
    match (cmd.handler)(ctx, &mut args) {
        Ok(f) | Err(f) => f,
    }
}

/// Expands to a [`Command`] entry: `command!(name, arity, flags, first, last, step, group, summary, handler)`.
#[macro_export]
macro_rules! command {
    ($name:literal, $arity:expr, $flags:expr, $first:expr, $last:expr, $step:expr, $group:literal, $summary:literal, $handler:expr) => {
        $crate::cmd::Command {
            name: $name,
            arity: $arity,
            flags: $flags,
            first_key: $first,
            last_key: $last,
            step: $step,
            group: $group,
            summary: $summary,
            handler: $handler,
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every stored `Bytes` of every key that is shared: a string, hash
    /// fields and values and set members (of the large forms: the compact
    /// ones hold no `Bytes`), and collections that share any.
    fn shared_stored_bytes(ks: &crate::state::Keyspace) -> Vec<String> {
        use crate::state::Value;
        let mut shared = Vec::new();
        let mut collections = Vec::new();
        // Keys are the database's own copies by their type.
        for (k, e) in ks.dbs[0].iter() {
            match &e.value {
                Value::Str(v) if !v.shares_nothing() => shared.push(format!("string {k:?}")),
                Value::Str(_) => {}
                // Packed elements are copies; large ones are shared by design.
                Value::List(_) => {}
                // The compact forms own one buffer; the large hashes and sets
                // are checked; a sorted set must stay compact here (a tree
                // shares each member between its index and its node).
                Value::Hash(h) if !h.shares_nothing() => collections.push(format!("hash {k:?}")),
                Value::Set(s) if !s.shares_nothing() => collections.push(format!("set {k:?}")),
                Value::ZSet(z) if !z.shares_nothing() => collections.push(format!("zset {k:?}")),
                Value::Hash(_) | Value::Set(_) | Value::ZSet(_) => {}
            }
        }
        shared.extend(collections);
        shared
    }

    #[test]
    fn reads_and_copies_leave_stored_bytes_unshared() {
        // A clone of a stored short `Bytes` gives it a shared header for
        // good (24+ bytes per key or element, never given back); what a
        // command hands out or copies elsewhere must be a copy.
        let mut h = testkit::Harness::at(1);
        for setup in [
            "SET s hello",
            "SET s2 help",
            "RPUSH l a b c",
            "HSET h f v g w",
            "SADD t x y z",
            "SADD t2 y q",
            "ZADD z 1 m 2 n 3 o",
            "ZADD z2 1 n 5 p",
        ] {
            h.run(setup);
        }
        assert_eq!(shared_stored_bytes(&h.ks), Vec::<String>::new(), "after the writes");
        let mut failures = Vec::new();
        for cmd in [
            "GET s",
            "MGET s s2 l",
            "GETRANGE s 0 -1",
            "SUBSTR s 0 -1",
            "GETEX s",
            "LCS s s2",
            "LRANGE l 0 -1",
            "LINDEX l 1",
            "HGET h f",
            "HMGET h f g",
            "HKEYS h",
            "HVALS h",
            "HGETALL h",
            "HRANDFIELD h",
            "HRANDFIELD h 3 WITHVALUES",
            "HRANDFIELD h -5",
            "HSCAN h 0",
            "SMEMBERS t",
            "SUNION t t2",
            "SINTER t t2",
            "SDIFF t t2",
            "SRANDMEMBER t",
            "SRANDMEMBER t 3",
            "SRANDMEMBER t -5",
            "SSCAN t 0",
            "ZRANGE z 0 -1 WITHSCORES",
            "ZRANGE z 0 -1 REV",
            "ZRANGEBYSCORE z -inf +inf",
            "ZREVRANGEBYSCORE z +inf -inf",
            "ZRANGEBYLEX z - +",
            "ZREVRANGEBYLEX z + -",
            "ZREVRANGE z 0 -1",
            "ZRANDMEMBER z 3 WITHSCORES",
            "ZSCAN z 0",
            "ZUNION 2 z z2 WITHSCORES",
            "ZINTER 2 z z2",
            "ZDIFF 2 z z2",
            "KEYS *",
            "SCAN 0",
            "RANDOMKEY",
            "COPY s s3",
            "COPY l l3",
            "COPY h h3",
            "COPY t t3",
            "COPY z z3",
            "SUNIONSTORE t4 t t2",
            "SINTERSTORE t5 t t2",
            "SDIFFSTORE t6 t t2",
            "ZUNIONSTORE z4 2 z z2",
            "ZINTERSTORE z5 2 z z2",
            "ZDIFFSTORE z6 2 z z2",
            "ZRANGESTORE z7 z 0 -1",
            "LMOVE l l4 LEFT RIGHT",
            "BITOP OR b s s2",
        ] {
            let reply = h.run(cmd);
            let effects = std::mem::take(&mut h.effects);
            let shared = shared_stored_bytes(&h.ks);
            if !shared.is_empty() {
                failures.push(format!("{cmd}: {shared:?}"));
            }
            drop((reply, effects));
        }
        assert!(failures.is_empty(), "{failures:#?}");
    }

    #[test]
    fn table_is_consistent() {
        let mut seen = HashSet::default();
        for c in families().iter().flat_map(|f| f.iter()) {
            assert!(seen.insert(c.name), "duplicate command {}", c.name);
            assert_eq!(c.name, c.name.to_ascii_lowercase());
            assert!(c.arity != 0, "{}", c.name);
            assert!(
                (c.flags & flags::WRITE == 0) || (c.flags & flags::READONLY == 0),
                "{} is both write and readonly",
                c.name
            );
        }
        assert!(lookup(b"GeT").is_some());
    }

    #[test]
    fn movable_keys_follow_numkeys() {
        let argv = |s: &str| s.split(' ').map(|a| Bytes::copy_from_slice(a.as_bytes())).collect::<Vec<_>>();
        let keys = |line: &str| {
            let a = argv(line);
            lookup(&a[0])
                .unwrap()
                .keys(&a)
                .map(|keys| keys.into_iter().map(|k| String::from_utf8_lossy(k).into_owned()).collect::<Vec<_>>())
        };
        assert_eq!(keys("ZUNIONSTORE d 2 a b WEIGHTS 1 2").unwrap(), ["d", "a", "b"]);
        assert_eq!(keys("BLMPOP 0 2 a b LEFT").unwrap(), ["a", "b"]);
        assert_eq!(keys("SINTERCARD 3 a b c LIMIT 1").unwrap(), ["a", "b", "c"]);
        assert_eq!(keys("ZMPOP 1 z MIN").unwrap(), ["z"]);
        // Redis takes as many arguments as numkeys says, whatever they are.
        assert_eq!(keys("LMPOP 3 a b LEFT").unwrap(), ["a", "b", "LEFT"]);
        assert_eq!(keys("ZINTERCARD 2x a b").unwrap(), ["a", "b"]);
        for bad in
            ["ZUNIONSTORE d 0 a", "ZUNIONSTORE d 3 a b", "ZINTERCARD x a", "LMPOP -1 a LEFT", "ZMPOP 4294967297 a"]
        {
            assert_eq!(keys(bad), None, "{bad}");
        }
        for (name, _) in NUMKEYS_AT {
            assert!(lookup(name.as_bytes()).is_some_and(|c| c.flags & flags::MOVABLEKEYS != 0), "{name}");
        }
    }

    #[test]
    fn unknown_command_text() {
        let argv = vec![Bytes::from("foo"), Bytes::from("a"), Bytes::from("b")];
        assert_eq!(
            unknown_command(&argv),
            Frame::error("ERR unknown command 'foo', with args beginning with: 'a' 'b' ")
        );
        // Twenty arguments of ten bytes: ten are shown (each adds twelve).
        let mut argv = vec![Bytes::from("foo")];
        argv.extend(std::iter::repeat_n(Bytes::from("abcdefghij"), 20));
        let shown = "'abcdefghij' ".repeat(10);
        assert_eq!(
            unknown_command(&argv),
            Frame::error_owned(format!("ERR unknown command 'foo', with args beginning with: {shown}"))
        );
        // A long argument is cut to what is left of the 128 bytes.
        let argv =
            vec![Bytes::from("foo"), Bytes::from("x".repeat(120)), Bytes::from("yyyyyyyyyyyy"), Bytes::from("z")];
        let text = format!("ERR unknown command 'foo', with args beginning with: '{}' 'yyyyy' ", "x".repeat(120));
        assert_eq!(unknown_command(&argv), Frame::error_owned(text));
    }
}
