//! Client and server administration: `CLIENT KILL|PAUSE|UNPAUSE|REPLY|NO-EVICT`,
//! `RESET`, `MONITOR`, `SLOWLOG`, `CONFIG SET|REWRITE|RESETSTAT`, `WAIT`,
//! `WAITAOF`, and the `INFO commandstats` / `errorstats` sections.
//!
//! The `CLIENT` and `CONFIG` subcommands here are listed in the server
//! family's subcommand tables.

use bytes::Bytes;

use super::server::sub_of;
use super::{Args, Block, CmdResult, Ctx, ServerState, Session, flags::*, lookup};
use crate::broker::pubsub::{Kind, OutputLimit, ReplyMode, notify_bits};
use crate::command;
use crate::resp::frame::OK;
use crate::resp::{Frame, Protocol};

/// The administration command family.
pub static COMMANDS: &[super::Command] = &[
    command!(
        "reset",
        1,
        FAST | LOADING | STALE | SUBSCRIBED_OK | NO_AUTH,
        0,
        0,
        0,
        "connection",
        "RESET — reset the connection: leave MULTI, pub/sub and MONITOR, select 0, RESP2",
        reset
    ),
    command!(
        "monitor",
        1,
        ADMIN | LOADING | STALE,
        0,
        0,
        0,
        "server",
        "MONITOR — stream every command the server processes",
        monitor
    ),
    command!(
        "slowlog",
        -2,
        ADMIN | LOADING | STALE,
        0,
        0,
        0,
        "server",
        "SLOWLOG GET [count]|LEN|RESET|HELP — the slow command log",
        slowlog
    ),
    command!(
        "wait",
        3,
        BLOCKING,
        0,
        0,
        0,
        "generic",
        "WAIT numreplicas timeout — wait for replicas to acknowledge writes (there are none)",
        wait
    ),
    command!(
        "waitaof",
        4,
        BLOCKING,
        0,
        0,
        0,
        "generic",
        "WAITAOF numlocal numreplicas timeout — wait until writes are fsynced locally and on replicas",
        waitaof
    ),
];

/// `CLIENT UNPAUSE`
pub fn client_unpause(ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    ctx.server.hub.pause = None;
    Ok(OK)
}

/// `CLIENT NO-EVICT ON|OFF`
pub fn client_no_evict(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let on = on_off(args.next_bytes()?).ok_or(super::SYNTAX)?;
    ctx.server.hub.set_no_evict(ctx.session.id, on);
    Ok(OK)
}

/// Parses `ON`/`OFF`.
fn on_off(b: &[u8]) -> Option<bool> {
    if b.eq_ignore_ascii_case(b"on") {
        Some(true)
    } else if b.eq_ignore_ascii_case(b"off") {
        Some(false)
    } else {
        None
    }
}

/// `CLIENT REPLY ON|OFF|SKIP`
pub fn client_reply(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let mode = args.next_bytes()?;
    let mode = if mode.eq_ignore_ascii_case(b"on") {
        ReplyMode::On
    } else if mode.eq_ignore_ascii_case(b"off") {
        ReplyMode::Off
    } else if mode.eq_ignore_ascii_case(b"skip") {
        ReplyMode::Skip
    } else {
        return Err(super::SYNTAX);
    };
    ctx.server.hub.set_reply_mode(ctx.session.id, mode);
    Ok(OK)
}

/// `CLIENT PAUSE timeout [WRITE|ALL]`
pub fn client_pause(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let timeout = super::args::parse_i64(args.next_bytes()?)
        .ok_or(Frame::error("ERR timeout is not an integer or out of range"))?;
    if timeout < 0 {
        return Err(Frame::error("ERR timeout is negative"));
    }
    let writes_only = match args.rest() {
        [] => false,
        [m] if m.eq_ignore_ascii_case(b"write") => true,
        [m] if m.eq_ignore_ascii_case(b"all") => false,
        [_] => return Err(Frame::error("ERR CLIENT PAUSE mode must be WRITE or ALL")),
        _ => return Err(super::pubsub::sub_arity(args.name(), "CLIENT")),
    };
    let until = ctx.now_ms.saturating_add(timeout as u64);
    ctx.server.hub.pause = Some(match ctx.server.hub.pause {
        Some((t, w)) => (t.max(until), w && writes_only),
        None => (until, writes_only),
    });
    Ok(OK)
}

/// `CLIENT KILL ip:port` | `CLIENT KILL [ID id] [TYPE type] [ADDR ip:port] [LADDR ip:port]
/// [USER username] [SKIPME yes|no] [MAXAGE seconds] ...`
pub fn client_kill(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let me = ctx.session.id;
    let rest = args.rest();
    if let [addr] = rest {
        let target = ctx.server.clients.values().find(|c| c.addr.as_bytes() == addr.as_ref()).map(|c| c.id);
        let Some(id) = target else {
            return Err(Frame::error("ERR No such client"));
        };
        kill(ctx, id);
        return Ok(OK);
    }
    if !rest.len().is_multiple_of(2) {
        return Err(super::SYNTAX);
    }
    let mut id_f = None;
    let mut addr_f = None;
    let mut laddr_f = None;
    let mut type_f: Option<bool> = None; // Some(true): pub/sub clients; Some(false): normal
    let mut no_match = false;
    let mut skipme = true;
    let mut maxage = 0u64;
    for pair in rest.chunks(2) {
        let (name, value) = (pair[0].to_ascii_lowercase(), &pair[1]);
        match name.as_slice() {
            b"id" => match super::args::parse_i64(value) {
                Some(n) if n > 0 => id_f = Some(n as u64),
                _ => return Err(Frame::error("ERR client-id should be greater than 0")),
            },
            b"type" => {
                let t = value.to_ascii_lowercase();
                match t.as_slice() {
                    b"normal" => type_f = Some(false),
                    b"pubsub" => type_f = Some(true),
                    b"master" | b"slave" | b"replica" => no_match = true,
                    _ => {
                        return Err(Frame::error_owned(format!(
                            "ERR Unknown client type '{}'",
                            super::printable(value, 128)
                        )));
                    }
                }
            }
            b"addr" => addr_f = Some(value.clone()),
            b"laddr" => laddr_f = Some(value.clone()),
            b"user" if value.as_ref() == b"default" => {}
            b"user" => {
                return Err(Frame::error_owned(format!("ERR No such user '{}'", super::printable(value, 128))));
            }
            b"skipme" if value.eq_ignore_ascii_case(b"yes") => skipme = true,
            b"skipme" if value.eq_ignore_ascii_case(b"no") => skipme = false,
            b"maxage" => match super::args::parse_i64(value) {
                Some(n) if n >= 0 => maxage = n as u64,
                _ => return Err(super::SYNTAX),
            },
            _ => return Err(super::SYNTAX),
        }
    }
    if no_match {
        return Ok(Frame::Integer(0));
    }
    let targets: Vec<u64> = ctx
        .server
        .clients
        .values()
        .filter(|c| id_f.is_none_or(|id| c.id == id))
        .filter(|c| addr_f.as_ref().is_none_or(|a| c.addr.as_bytes() == a.as_ref()))
        .filter(|c| laddr_f.as_ref().is_none_or(|a| c.laddr.as_bytes() == a.as_ref()))
        .filter(|c| type_f.is_none_or(|pubsub| ctx.server.hub.is_subscriber(c.id) == pubsub))
        .filter(|c| maxage == 0 || c.created.elapsed().as_secs() >= maxage)
        .filter(|c| !(skipme && c.id == me))
        .map(|c| c.id)
        .collect();
    for &id in &targets {
        kill(ctx, id);
    }
    Ok(Frame::Integer(targets.len() as i64))
}

/// Closes a client: the caller after its reply, anyone else at once.
fn kill(ctx: &mut Ctx, id: u64) {
    if id == ctx.session.id {
        ctx.session.close = true;
    } else {
        ctx.server.hub.kill(id);
    }
}

/// Whether `CLIENT PAUSE` holds `argv` from `session` back at `now_ms`.
pub fn pause_holds(server: &ServerState, session: &Session, argv: &[Bytes], now_ms: u64) -> bool {
    let Some((until, writes_only)) = server.hub.pause else { return false };
    if until <= now_ms {
        return false;
    }
    // What Redis refuses before it looks at the pause (an unknown command,
    // a wrong number of arguments, a connection that must authenticate
    // first) is answered at once.
    let refused = lookup(&argv[0]).is_none_or(|c| {
        !c.arity_ok(argv.len()) || (c.flags & NO_AUTH == 0 && super::auth::auth_required(session, server))
    });
    if refused {
        return false;
    }
    if !writes_only {
        return true;
    }
    let may_replicate = |argv: &[Bytes]| {
        lookup(&argv[0])
            .is_some_and(|c| c.is_write() || matches!(c.name, "publish" | "spublish" | "pfcount" | "wait" | "waitaof"))
    };
    if argv[0].eq_ignore_ascii_case(b"exec") {
        return session.multi.as_ref().is_some_and(|m| m.queue.iter().any(|a| may_replicate(a)));
    }
    may_replicate(argv)
}

// ---- RESET, MONITOR ----

/// `RESET`
fn reset(ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    let id = ctx.session.id;
    ctx.session.multi = None;
    let hub = &mut ctx.server.hub;
    hub.unwatch(id);
    hub.unsubscribe_all(id);
    hub.remove_monitor(id);
    hub.reset_reply_mode(id);
    hub.set_no_evict(id, false);
    ctx.session.db = 0;
    ctx.session.proto = Protocol::Resp2;
    hub.set_protocol(id, Protocol::Resp2);
    ctx.session.name = None;
    super::auth::reset(ctx.session, ctx.server);
    Ok(Frame::simple("RESET"))
}

/// `MONITOR`
fn monitor(ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    if ctx.in_exec {
        return Err(Frame::error("ERR MONITOR isn't allowed for DENY BLOCKING client"));
    }
    ctx.server.hub.add_monitor(ctx.session.id);
    Ok(OK)
}

// ---- SLOWLOG ----

const SLOWLOG_HELP: &[&str] = &[
    "SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "GET [<count>]",
    "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
    "    Entries are made of:",
    "    id, timestamp, time in microseconds, arguments array, client IP and port,",
    "    client name",
    "LEN",
    "    Return the length of the slowlog.",
    "RESET",
    "    Reset the slowlog.",
    "HELP",
    "    Prints this help.",
];

/// `SLOWLOG` subcommands.
pub static SLOWLOG_SUBCOMMANDS: &[super::server::Subcommand] = &[
    sub_of(
        "slowlog|get",
        -2,
        ADMIN | LOADING | STALE,
        0,
        "SLOWLOG GET [count] — the newest entries of the slow log",
        slowlog_get,
    ),
    sub_of("slowlog|len", 2, ADMIN | LOADING | STALE, 0, "SLOWLOG LEN — the number of entries", slowlog_len),
    sub_of("slowlog|reset", 2, ADMIN | LOADING | STALE, 0, "SLOWLOG RESET — empty the slow log", slowlog_reset),
    sub_of("slowlog|help", 2, LOADING | STALE, 0, "SLOWLOG HELP — this help", slowlog_help),
];

/// `SLOWLOG GET [count]` | `SLOWLOG LEN` | `SLOWLOG RESET` | `SLOWLOG HELP`
fn slowlog(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    super::server::dispatch(ctx, args, "slowlog", SLOWLOG_SUBCOMMANDS)
}

/// `SLOWLOG GET [count]`: the newest `count` entries (10; -1: all).
fn slowlog_get(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let count = match args.rest() {
        [] => 10,
        [c] => match super::args::parse_i64(c) {
            Some(-1) => usize::MAX,
            Some(c) if c >= 0 => c as usize,
            _ => return Err(Frame::error("ERR count should be greater than or equal to -1")),
        },
        // More than a count: past the subcommand's arity check (at least
        // 2), Redis's own check gives its generic message.
        _ => return Err(super::pubsub::sub_arity(args.name(), "SLOWLOG")),
    };
    Ok(Frame::Array(
        ctx.server
            .hub
            .slowlog
            .iter()
            .take(count)
            .map(|e| {
                Frame::Array(vec![
                    Frame::Integer(e.id as i64),
                    Frame::Integer(e.time),
                    Frame::Integer(e.micros as i64),
                    Frame::Array(e.argv.iter().cloned().map(Frame::Bulk).collect()),
                    Frame::Bulk(Bytes::from(e.peer.clone())),
                    Frame::Bulk(e.name.clone()),
                ])
            })
            .collect(),
    ))
}

/// `SLOWLOG LEN`
fn slowlog_len(ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    Ok(Frame::Integer(ctx.server.hub.slowlog.len() as i64))
}

/// `SLOWLOG RESET`
fn slowlog_reset(ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    ctx.server.hub.slowlog.clear();
    Ok(OK)
}

/// `SLOWLOG HELP`
fn slowlog_help(_ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    Ok(super::pubsub::help(SLOWLOG_HELP))
}

// ---- WAIT, WAITAOF ----

fn parse_ms_timeout(b: &[u8]) -> Result<u64, Frame> {
    let t = super::args::parse_i64(b).ok_or(Frame::error("ERR timeout is not an integer or out of range"))?;
    if t < 0 {
        return Err(Frame::error("ERR timeout is negative"));
    }
    Ok(t as u64)
}

/// Replies `reply` at once, or after `timeout_ms` (0: never) when it
/// cannot be satisfied — there are no replicas to acknowledge anything.
fn wait_or_reply(ctx: &mut Ctx, satisfied: bool, timeout_ms: u64, reply: Frame) -> CmdResult {
    if satisfied || ctx.in_exec {
        return Ok(reply);
    }
    let deadline_ms = (timeout_ms > 0).then(|| ctx.now_ms.saturating_add(timeout_ms));
    ctx.block = Some(Block { keys: Vec::new(), deadline_ms, on_timeout: reply.clone() });
    Ok(reply)
}

/// `WAIT numreplicas timeout`
///
/// There are no replicas: the reply is 0 at once, whatever is asked (a
/// client waiting for replicas that can never exist gains nothing by
/// hanging until its timeout).
fn wait(_ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    args.next_i64()?;
    parse_ms_timeout(args.next_bytes()?)?;
    Ok(Frame::Integer(0))
}

/// `WAITAOF numlocal numreplicas timeout`
fn waitaof(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let numlocal = args.next_i64()?;
    let replicas = args.next_i64()?;
    let timeout = parse_ms_timeout(args.next_bytes()?)?;
    let appendonly = ctx.server.config.appendonly;
    if numlocal > 0 && !appendonly {
        return Err(Frame::error("ERR WAITAOF cannot be used when numlocal is set but appendonly is disabled."));
    }
    // With `appendfsync always` every write before this reply is fsynced
    // by the time the reply leaves; other policies make no such promise.
    let local = (appendonly && ctx.server.config.appendfsync == crate::config::FsyncPolicy::Always) as i64;
    let reply = Frame::Array(vec![Frame::Integer(local), Frame::Integer(0)]);
    wait_or_reply(ctx, local >= numlocal && replicas <= 0, timeout, reply)
}

// ---- CONFIG ----

/// `CONFIG REWRITE`: there is never a configuration file to rewrite.
pub fn config_rewrite(_ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    Err(Frame::error("ERR The server is running without a config file"))
}

/// Resets the counters `CONFIG RESETSTAT` clears.
pub fn reset_stats(server: &mut ServerState) {
    server.stats = Default::default();
    server.hub.cmdstats.clear();
    server.hub.errorstats.clear();
    server.hub.limit_disconnections = 0;
}

fn set_failed(name: &str, why: &str) -> Frame {
    Frame::error_owned(format!("ERR CONFIG SET failed (possibly related to argument '{name}') - {why}"))
}

/// One validated change.
enum Change {
    Notify(u32),
    SlowlogSlowerThan(i64),
    SlowlogMaxLen(u64),
    Hz(u32),
    Timeout(u64),
    MaxClients(usize),
    PubsubLimit(OutputLimit),
    RequirePass(Bytes),
    Appendfsync(crate::config::FsyncPolicy),
    /// A fixed parameter set to the value it has (`maxmemory-policy
    /// noeviction`, which setup scripts of queue libraries send).
    Same,
}

fn int_in(name: &str, v: &[u8], min: i64, max: i64) -> Result<i64, Frame> {
    let n = super::args::parse_i64(v).ok_or_else(|| set_failed(name, "argument couldn't be parsed into an integer"))?;
    if n < min || n > max {
        return Err(set_failed(name, &format!("argument must be between {min} and {max} inclusive")));
    }
    Ok(n)
}

/// Parses a memory amount as Redis's `memtoull` (`1mb`, `64k`, `100`...).
fn memtoull(v: &[u8]) -> Option<u64> {
    let s = std::str::from_utf8(v).ok()?.to_ascii_lowercase();
    let digits = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(digits);
    let mul: u64 = match unit {
        "" | "b" => 1,
        "k" => 1000,
        "kb" => 1024,
        "m" => 1000 * 1000,
        "mb" => 1024 * 1024,
        "g" => 1000 * 1000 * 1000,
        "gb" => 1024 * 1024 * 1024,
        _ => return None,
    };
    num.parse::<u64>().ok()?.checked_mul(mul)
}

/// Parameters Redis lets `CONFIG SET` change that are fixed here (with the
/// compact-encoding sizes, `config::is_encoding_size`): setting one to the
/// value it has is accepted, any other value refused.
const FIXED_HERE: &[&str] = &[
    "maxmemory",
    "maxmemory-policy",
    "save",
    "appendonly",
    "loglevel",
    "proto-max-bulk-len",
    "client-query-buffer-limit",
    "hll-sparse-max-bytes",
    "list-compress-depth",
];

fn parse_change(ctx: &Ctx, name: &str, v: &[u8]) -> Result<Change, Frame> {
    Ok(match name {
        "notify-keyspace-events" => Change::Notify(
            std::str::from_utf8(v)
                .ok()
                .and_then(notify_bits::parse)
                .ok_or_else(|| set_failed(name, "Invalid event class character. Use 'Ag$lshzxeKEtmdn'."))?,
        ),
        "slowlog-log-slower-than" => Change::SlowlogSlowerThan(int_in(name, v, -1, i64::MAX)?),
        "slowlog-max-len" => Change::SlowlogMaxLen(int_in(name, v, 0, i64::MAX)? as u64),
        "hz" => Change::Hz(int_in(name, v, 0, i32::MAX as i64)? as u32),
        "timeout" => Change::Timeout(int_in(name, v, 0, i32::MAX as i64)? as u64),
        "maxclients" => Change::MaxClients(int_in(name, v, 1, u32::MAX as i64)? as usize),
        "requirepass" => Change::RequirePass(Bytes::copy_from_slice(v)),
        "appendfsync" => Change::Appendfsync(
            std::str::from_utf8(v)
                .ok()
                .and_then(crate::config::FsyncPolicy::parse)
                .ok_or_else(|| set_failed(name, "argument(s) must be one of the following: everysec, always, no"))?,
        ),
        "client-output-buffer-limit" => {
            let text = String::from_utf8_lossy(v);
            let words: Vec<&str> = text.split_whitespace().collect();
            if words.is_empty() || !words.len().is_multiple_of(4) {
                return Err(set_failed(name, "Wrong number of arguments in buffer limit configuration."));
            }
            let mut limit = ctx.server.config.pubsub_output_limit;
            for w in words.chunks(4) {
                let class = w[0].to_ascii_lowercase();
                if !matches!(class.as_str(), "normal" | "slave" | "replica" | "pubsub") {
                    return Err(set_failed(name, "Invalid client class specified in buffer limit configuration."));
                }
                let (hard, soft, secs) = (memtoull(w[1].as_bytes()), memtoull(w[2].as_bytes()), w[3].parse::<u64>());
                let (Some(hard), Some(soft), Ok(secs)) = (hard, soft, secs) else {
                    return Err(set_failed(
                        name,
                        "Error in hard, soft or soft_seconds setting in buffer limit configuration.",
                    ));
                };
                if class == "pubsub" {
                    limit = OutputLimit { hard: hard as usize, soft: soft as usize, soft_secs: secs };
                }
            }
            Change::PubsubLimit(limit)
        }
        _ if (FIXED_HERE.contains(&name) || crate::config::is_encoding_size(name))
            && ctx.server.config.params().iter().any(|(n, current)| *n == name && current.as_bytes() == v) =>
        {
            Change::Same
        }
        "maxmemory-policy" => return Err(set_failed(name, "keys are never evicted here: only noeviction")),
        _ if ctx.server.config.params().iter().any(|(n, _)| *n == name) => {
            return Err(set_failed(name, "can't set immutable config"));
        }
        _ => {
            return Err(Frame::error_owned(format!(
                "ERR Unknown option or number of arguments for CONFIG SET - '{name}'"
            )));
        }
    })
}

/// Parameters whose values `CONFIG SET` hides from `SLOWLOG` (`MONITOR`
/// never shows `CONFIG`).
const SENSITIVE: &[&str] = &["requirepass"];

/// `CONFIG SET parameter value [parameter value ...]`: validates every
/// pair, then applies them all (or none).
pub fn config_set(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let pairs = args.rest();
    if !pairs.len().is_multiple_of(2) {
        return Err(super::SYNTAX);
    }
    // Like Redis, every sensitive value is hidden from the slow log before
    // anything is checked, so an error cannot leave it shown.
    for (i, pair) in pairs.chunks(2).enumerate() {
        if SENSITIVE.iter().any(|s| pair[0].eq_ignore_ascii_case(s.as_bytes())) {
            ctx.redacted.push(3 + 2 * i);
        }
    }
    let mut changes = Vec::with_capacity(pairs.len() / 2);
    let mut seen: Vec<String> = Vec::new();
    for pair in pairs.chunks(2) {
        let name = String::from_utf8_lossy(&pair[0]).to_ascii_lowercase();
        let change = parse_change(ctx, &name, &pair[1])?;
        if seen.contains(&name) {
            return Err(set_failed(&name, "duplicate parameter"));
        }
        seen.push(name);
        changes.push(change);
    }
    let server = &mut *ctx.server;
    for change in changes {
        match change {
            Change::Notify(bits) => {
                server.hub.notify = bits;
                server.config.notify_keyspace_events = notify_bits::display(bits);
                server.sync_notifications();
            }
            Change::SlowlogSlowerThan(n) => server.config.slowlog_log_slower_than = n,
            Change::SlowlogMaxLen(n) => {
                server.config.slowlog_max_len = n;
                server.hub.slowlog.truncate(n as usize);
            }
            Change::Hz(n) => server.config.hz = n.clamp(1, 500),
            Change::Timeout(n) => server.config.timeout = n,
            Change::MaxClients(n) => server.config.maxclients = n,
            Change::PubsubLimit(l) => {
                server.config.pubsub_output_limit = l;
                server.hub.pubsub_limit = l;
            }
            Change::RequirePass(p) => super::auth::set_password(server, p),
            Change::Appendfsync(p) => {
                server.config.appendfsync = p;
                server.appendfsync_changed = true;
            }
            Change::Same => {}
        }
    }
    Ok(OK)
}

// ---- INFO sections ----

/// The body of `INFO commandstats` (`cmdstat_<name>:calls=...` lines, CRLF-terminated).
pub fn info_commandstats(server: &ServerState) -> String {
    let mut s = String::new();
    let mut stats: Vec<_> = server.hub.cmdstats.iter().collect();
    stats.sort_unstable_by_key(|(name, _)| **name);
    for (name, st) in stats {
        let per_call = if st.calls > 0 { st.usec as f64 / st.calls as f64 } else { 0.0 };
        s.push_str(&format!(
            "cmdstat_{name}:calls={},usec={},usec_per_call={per_call:.2},rejected_calls={},failed_calls={}\r\n",
            st.calls, st.usec, st.rejected, st.failed
        ));
    }
    s
}

/// The body of `INFO errorstats` (`errorstat_<CODE>:count=N` lines, CRLF-terminated).
pub fn info_errorstats(server: &ServerState) -> String {
    server.hub.errorstats.iter().map(|(code, n)| format!("errorstat_{code}:count={n}\r\n")).collect()
}

/// Lines this module adds to `INFO stats` (CRLF-terminated): pub/sub
/// counts and output-buffer-limit disconnections.
pub fn info_stats_lines(server: &ServerState) -> String {
    let hub = &server.hub;
    format!(
        "pubsub_channels:{}\r\npubsub_patterns:{}\r\npubsubshard_channels:{}\r\nclient_output_buffer_limit_disconnections:{}\r\n",
        hub.active(Kind::Channel, None).len(),
        hub.numpat(),
        hub.active(Kind::Shard, None).len(),
        hub.limit_disconnections
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Redis answers what it refuses before looking at a pause; AUTH itself waits.
    #[test]
    fn a_pause_does_not_hold_refused_commands() {
        let mut s = ServerState::new(crate::config::Config::default());
        s.hub.pause = Some((u64::MAX, false));
        let session = Session::default();
        let argv = |a: &[&str]| a.iter().map(|x| Bytes::copy_from_slice(x.as_bytes())).collect::<Vec<_>>();
        assert!(pause_holds(&s, &session, &argv(&["PING"]), 0));
        assert!(!pause_holds(&s, &session, &argv(&["NOPE"]), 0));
        assert!(!pause_holds(&s, &session, &argv(&["GET"]), 0));
        super::super::auth::set_password(&mut s, Bytes::from_static(b"pw"));
        assert!(!pause_holds(&s, &session, &argv(&["PING"]), 0));
        assert!(pause_holds(&s, &session, &argv(&["AUTH", "pw"]), 0));
        let authenticated = Session { authenticated: true, ..Session::default() };
        assert!(pause_holds(&s, &authenticated, &argv(&["PING"]), 0));
    }

    #[test]
    fn memory_amounts() {
        assert_eq!(memtoull(b"1mb"), Some(1 << 20));
        assert_eq!(memtoull(b"64kb"), Some(65536));
        assert_eq!(memtoull(b"2k"), Some(2000));
        assert_eq!(memtoull(b"100"), Some(100));
        assert_eq!(memtoull(b"1x"), None);
        assert_eq!(memtoull(b""), None);
    }

    #[test]
    fn info_sections_format() {
        let mut s = ServerState::new(crate::config::Config::default());
        s.hub.cmdstats.insert(
            "get",
            crate::broker::pubsub::CmdStat { calls: 2, usec: 5, rejected: 1, failed: 0, latency: [0; 24] },
        );
        s.hub.errorstats.insert("ERR".into(), 3);
        assert_eq!(
            info_commandstats(&s),
            "cmdstat_get:calls=2,usec=5,usec_per_call=2.50,rejected_calls=1,failed_calls=0\r\n"
        );
        assert_eq!(info_errorstats(&s), "errorstat_ERR:count=3\r\n");
        assert!(info_stats_lines(&s).contains("client_output_buffer_limit_disconnections:0\r\n"));
    }
}
