//! Connection and server commands: `PING`, `ECHO`, `HELLO`, `QUIT`,
//! `SELECT`, `CLIENT ...`, `COMMAND ...`, `INFO`, `CONFIG ...`, `TIME`,
//! `DBSIZE`, `SWAPDB`, `FLUSHDB`, `FLUSHALL`, `SHUTDOWN`.
//!
//! Container commands (`CLIENT`, `CONFIG`, `COMMAND`) dispatch through a
//! table of [`Subcommand`]s: adding a subcommand is one table entry plus
//! its handler; arity errors, `HELP`, `COMMAND INFO` and `COMMAND DOCS`
//! follow from the table.

use bytes::Bytes;
use std::fmt::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

use super::{Args, CmdResult, Command, Ctx, DB_RANGE, Handler, SYNTAX, admin, flags::*, printable, wrong_arity};
use crate::broker::pubsub::Kind;
use crate::command;
use crate::resp::frame::OK;
use crate::resp::{Frame, Protocol};
use crate::state::Effect;
use crate::state::glob::glob_match_nocase;

/// The Redis version reported by `HELLO` and `INFO` (`redis_version`).
/// Clients gate features on it; statebroker implements the Redis 7.0
/// command set, so it reports 7.0.0.
pub const REDIS_COMPAT_VERSION: &str = "7.0.0";

/// The server name reported by `HELLO`.
pub const SERVER_NAME: &str = "statebroker";

/// The connection and server command family.
pub static COMMANDS: &[Command] = &[
    command!("ping", -1, FAST | SUBSCRIBED_OK, 0, 0, 0, "connection", "PING [message] — PONG, or the message", ping),
    command!("echo", 2, FAST | LOADING | STALE, 0, 0, 0, "connection", "ECHO message — the message", echo),
    command!(
        "hello",
        -1,
        FAST | LOADING | STALE | NO_AUTH,
        0,
        0,
        0,
        "connection",
        "HELLO [protover [AUTH username password] [SETNAME clientname]] — switch protocol, describe the server",
        hello
    ),
    command!(
        "quit",
        -1,
        FAST | LOADING | STALE | SUBSCRIBED_OK | NO_AUTH,
        0,
        0,
        0,
        "connection",
        "QUIT — close the connection",
        quit
    ),
    command!(
        "select",
        2,
        FAST | LOADING | STALE,
        0,
        0,
        0,
        "connection",
        "SELECT index — change the selected database",
        select
    ),
    command!(
        "client",
        -2,
        0,
        0,
        0,
        0,
        "connection",
        "CLIENT subcommand [arg ...] — client connection commands",
        client
    ),
    command!(
        "command",
        -1,
        LOADING | STALE,
        0,
        0,
        0,
        "server",
        "COMMAND [subcommand [arg ...]] — describe the commands",
        command_cmd
    ),
    command!(
        "info",
        -1,
        LOADING | STALE,
        0,
        0,
        0,
        "server",
        "INFO [section [section ...]] — server information and statistics",
        info
    ),
    command!("config", -2, 0, 0, 0, 0, "server", "CONFIG subcommand [arg ...] — configuration commands", config),
    command!("memory", -2, 0, 0, 0, 0, "server", "MEMORY subcommand [arg ...] — memory usage commands", memory),
    command!("latency", -2, 0, 0, 0, 0, "server", "LATENCY subcommand [arg ...] — latency diagnostics", latency),
    command!(
        "debug",
        -2,
        ADMIN,
        0,
        0,
        0,
        "server",
        "DEBUG subcommand [arg ...] — debugging commands (disabled, as by Redis's default enable-debug-command no)",
        debug
    ),
    command!("time", 1, FAST | LOADING | STALE, 0, 0, 0, "server", "TIME — the server time", time),
    command!(
        "lolwut",
        -1,
        READONLY | FAST,
        0,
        0,
        0,
        "server",
        "LOLWUT [VERSION version] — the server's version",
        lolwut
    ),
    command!("dbsize", 1, READONLY | FAST, 0, 0, 0, "server", "DBSIZE — number of keys in the database", dbsize),
    command!(
        "role",
        1,
        FAST | LOADING | STALE,
        0,
        0,
        0,
        "server",
        "ROLE — the replication role: a master without replicas",
        role
    ),
    command!("swapdb", 3, WRITE | FAST, 0, 0, 0, "server", "SWAPDB index1 index2 — swap two databases", swapdb),
    command!(
        "flushdb",
        -1,
        WRITE,
        0,
        0,
        0,
        "server",
        "FLUSHDB [ASYNC|SYNC] — remove every key of the database",
        flushdb
    ),
    command!(
        "flushall",
        -1,
        WRITE,
        0,
        0,
        0,
        "server",
        "FLUSHALL [ASYNC|SYNC] — remove every key of every database",
        flushall
    ),
    command!(
        "shutdown",
        -1,
        ADMIN | LOADING | STALE | NO_MULTI,
        0,
        0,
        0,
        "server",
        "SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT] — stop the server",
        shutdown
    ),
];

/// One subcommand of a container command (`CLIENT LIST`, `CONFIG GET`...).
#[derive(Debug)]
pub struct Subcommand {
    /// Full lower-case name, `container|sub` (as `COMMAND INFO` and arity errors name it).
    pub name: &'static str,
    /// Redis arity counting the container and subcommand names
    /// (`CLIENT SETNAME name` has arity 3).
    pub arity: i32,
    /// [`flags`](super::flags) bits.
    pub flags: u32,
    /// The position of its one key argument (`OBJECT ENCODING key`: 2), 0
    /// if it takes none.
    pub key_at: i32,
    /// Wire syntax (container name included), ` — `, one-line description.
    pub summary: &'static str,
    /// The implementation; the cursor is past the subcommand name.
    pub handler: Handler,
}

impl Subcommand {
    /// The subcommand's own name (`setname` for `client|setname`).
    pub fn short_name(&self) -> &'static str {
        self.name.split_once('|').map_or(self.name, |(_, s)| s)
    }

    /// Whether `argc` arguments (container and subcommand names included) fit the arity.
    pub fn arity_ok(&self, argc: usize) -> bool {
        super::arity_fits(self.arity, argc)
    }
}

/// `CLIENT` subcommands.
pub static CLIENT_SUBCOMMANDS: &[Subcommand] = &[
    sub("client|id", 2, "CLIENT ID — the id of the current connection", client_id),
    sub("client|setname", 3, "CLIENT SETNAME connection-name — name the current connection", client_setname),
    sub("client|getname", 2, "CLIENT GETNAME — the name of the current connection", client_getname),
    admin_sub(
        "client|list",
        -2,
        "CLIENT LIST [TYPE NORMAL|MASTER|REPLICA|PUBSUB] [ID client-id [client-id ...]] — the connected clients",
        client_list,
    ),
    sub("client|info", 2, "CLIENT INFO — information about the current connection", client_info),
    sub(
        "client|setinfo",
        4,
        "CLIENT SETINFO LIB-NAME|LIB-VER value — record the client library name or version",
        client_setinfo,
    ),
    admin_sub(
        "client|kill",
        -3,
        "CLIENT KILL ip:port | [ID id] [TYPE normal|pubsub|master|replica] [ADDR ip:port] [LADDR ip:port] [USER name] [SKIPME yes|no] [MAXAGE s] — close clients",
        admin::client_kill,
    ),
    admin_sub(
        "client|pause",
        -3,
        "CLIENT PAUSE timeout [WRITE|ALL] — suspend clients for timeout milliseconds",
        admin::client_pause,
    ),
    admin_sub("client|unpause", 2, "CLIENT UNPAUSE — resume paused clients", admin::client_unpause),
    admin_sub(
        "client|unblock",
        -3,
        "CLIENT UNBLOCK client-id [TIMEOUT|ERROR] — end a client's blocking command as if it timed out, or with an error",
        client_unblock,
    ),
    sub("client|reply", 3, "CLIENT REPLY ON|OFF|SKIP — control the replies to this connection", admin::client_reply),
    admin_sub(
        "client|no-evict",
        3,
        "CLIENT NO-EVICT ON|OFF — protect this client from eviction",
        admin::client_no_evict,
    ),
    sub("client|help", 2, "CLIENT HELP — this help", client_help),
];

/// `CONFIG` subcommands.
pub static CONFIG_SUBCOMMANDS: &[Subcommand] = &[
    admin_sub(
        "config|get",
        -3,
        "CONFIG GET parameter [parameter ...] — parameters matching the glob patterns, with their values",
        config_get,
    ),
    admin_sub(
        "config|set",
        -4,
        "CONFIG SET parameter value [parameter value ...] — change settings at runtime",
        admin::config_set,
    ),
    admin_sub("config|rewrite", 2, "CONFIG REWRITE — rewrite the configuration file", admin::config_rewrite),
    admin_sub("config|resetstat", 2, "CONFIG RESETSTAT — reset the statistics reported by INFO", config_resetstat),
    sub("config|help", 2, "CONFIG HELP — this help", config_help),
];

/// `COMMAND` subcommands.
pub static COMMAND_SUBCOMMANDS: &[Subcommand] = &[
    sub("command|count", 2, "COMMAND COUNT — the number of commands", command_count),
    sub("command|info", -2, "COMMAND INFO [command-name ...] — details about commands", command_info),
    sub("command|docs", -2, "COMMAND DOCS [command-name ...] — documentation of commands", command_docs),
    sub(
        "command|list",
        -2,
        "COMMAND LIST [FILTERBY MODULE module-name|ACLCAT category|PATTERN pattern] — command names",
        command_list,
    ),
    sub("command|getkeys", -4, "COMMAND GETKEYS command [arg ...] — the keys of a full command", command_getkeys),
    sub("command|help", 2, "COMMAND HELP — this help", command_help),
];

/// `MEMORY` subcommands.
pub static MEMORY_SUBCOMMANDS: &[Subcommand] = &[
    sub_of(
        "memory|usage",
        -3,
        READONLY,
        2,
        "MEMORY USAGE key [SAMPLES count] — about how many bytes a key and its value take",
        memory_usage,
    ),
    plain_sub("memory|doctor", 2, "MEMORY DOCTOR — a report on the server's memory", memory_doctor),
    plain_sub("memory|malloc-stats", 2, "MEMORY MALLOC-STATS — the allocator's statistics", memory_malloc_stats),
    plain_sub("memory|purge", 2, "MEMORY PURGE — ask the allocator to release memory", memory_purge),
    plain_sub("memory|stats", 2, "MEMORY STATS — where the server's memory goes", memory_stats),
    sub("memory|help", 2, "MEMORY HELP — this help", memory_help),
];

/// `LATENCY` subcommands.
pub static LATENCY_SUBCOMMANDS: &[Subcommand] = &[
    admin_sub("latency|doctor", 2, "LATENCY DOCTOR — a report on latency", latency_doctor),
    admin_sub("latency|graph", 3, "LATENCY GRAPH event — an ASCII graph of an event's latency samples", latency_graph),
    admin_sub("latency|history", 3, "LATENCY HISTORY event — an event's latency samples", latency_history),
    admin_sub("latency|latest", 2, "LATENCY LATEST — the latest latency sample of every event", latency_latest),
    admin_sub("latency|reset", -2, "LATENCY RESET [event ...] — forget events' latency samples", latency_reset),
    admin_sub(
        "latency|histogram",
        -2,
        "LATENCY HISTOGRAM [command ...] — the distribution of commands' latencies",
        latency_histogram,
    ),
    sub("latency|help", 2, "LATENCY HELP — this help", latency_help),
];

const fn sub(name: &'static str, arity: i32, summary: &'static str, handler: Handler) -> Subcommand {
    Subcommand { name, arity, flags: LOADING | STALE, key_at: 0, summary, handler }
}

/// A subcommand Redis marks `admin` (hidden from `MONITOR`).
const fn admin_sub(name: &'static str, arity: i32, summary: &'static str, handler: Handler) -> Subcommand {
    Subcommand { name, arity, flags: ADMIN | LOADING | STALE, key_at: 0, summary, handler }
}

/// A subcommand without flags (not served while loading, as in Redis).
const fn plain_sub(name: &'static str, arity: i32, summary: &'static str, handler: Handler) -> Subcommand {
    Subcommand { name, arity, flags: 0, key_at: 0, summary, handler }
}

/// A subcommand with its own flags, and its key's position (0: none).
pub const fn sub_of(
    name: &'static str,
    arity: i32,
    flags: u32,
    key_at: i32,
    summary: &'static str,
    handler: Handler,
) -> Subcommand {
    Subcommand { name, arity, flags, key_at, summary, handler }
}

/// Container commands and their subcommand tables (for `COMMAND INFO`,
/// `COMMAND DOCS`, `COMMAND LIST` and the README).
pub fn containers() -> &'static [(&'static str, &'static [Subcommand])] {
    static CONTAINERS: &[(&str, &[Subcommand])] = &[
        ("client", CLIENT_SUBCOMMANDS),
        ("config", CONFIG_SUBCOMMANDS),
        ("command", COMMAND_SUBCOMMANDS),
        ("memory", MEMORY_SUBCOMMANDS),
        ("latency", LATENCY_SUBCOMMANDS),
        ("object", super::keys::OBJECT_SUBCOMMANDS),
        ("slowlog", super::admin::SLOWLOG_SUBCOMMANDS),
        ("pubsub", super::pubsub::PUBSUB_SUBCOMMANDS),
    ];
    CONTAINERS
}

/// For `argv` naming a container command and a subcommand: the
/// container's name and the subcommand, if the table has it. `None` for
/// other commands (or no subcommand argument).
pub fn find_subcommand(argv: &[Bytes]) -> Option<(&'static str, Option<&'static Subcommand>)> {
    let sub = argv.get(1)?;
    let (container, table) = containers().iter().find(|(n, _)| argv[0].eq_ignore_ascii_case(n.as_bytes()))?;
    Some((container, table.iter().find(|s| sub.eq_ignore_ascii_case(s.short_name().as_bytes()))))
}

/// The subcommands of container command `name`, if it is one.
pub fn subcommands_of(name: &str) -> &'static [Subcommand] {
    containers().iter().find(|(n, _)| *n == name).map_or(&[], |(_, s)| s)
}

/// Runs the subcommand named by the next argument from `table`:
/// unknown names and wrong arities get Redis's errors. The handler's
/// [`Args::name`] is the subcommand's name as the client sent it.
pub fn dispatch(ctx: &mut Ctx, args: &mut Args, container: &str, table: &'static [Subcommand]) -> CmdResult {
    let argv = args.rest();
    let name = argv.first().ok_or(SYNTAX)?;
    let Some(s) = table.iter().find(|s| s.short_name().as_bytes().eq_ignore_ascii_case(name)) else {
        return Err(unknown_subcommand(name, container));
    };
    if !s.arity_ok(argv.len() + 1) {
        return Err(wrong_arity(s.name));
    }
    ctx.session.last_cmd = s.name;
    (s.handler)(ctx, &mut Args::new(argv))
}

/// `ERR unknown subcommand 'x'. Try CLIENT HELP.`
pub fn unknown_subcommand(name: &[u8], container: &str) -> Frame {
    Frame::error_owned(format!(
        "ERR unknown subcommand '{}'. Try {} HELP.",
        printable(name, 128),
        container.to_ascii_uppercase()
    ))
}

/// The reply to `<CONTAINER> HELP`, built from the subcommand table the
/// way Redis words it.
pub fn help_reply(container: &str, table: &[Subcommand]) -> Frame {
    let upper = container.to_ascii_uppercase();
    let mut lines = vec![format!("{upper} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:")];
    for s in table.iter().filter(|s| s.short_name() != "help") {
        let (syntax, text) = split_summary(s.summary);
        let syntax = syntax.strip_prefix(upper.as_str()).unwrap_or(syntax).trim_start();
        lines.push(syntax.to_string());
        let mut chars = text.chars();
        let first = chars.next().map(|c| c.to_uppercase().to_string()).unwrap_or_default();
        lines.push(format!("    {first}{}", chars.as_str()));
    }
    lines.push("HELP".into());
    lines.push("    Prints this help.".into());
    Frame::Array(lines.into_iter().map(|l| Frame::Simple(l.into())).collect())
}

/// Splits a table summary into its wire syntax and its description.
pub fn split_summary(summary: &'static str) -> (&'static str, &'static str) {
    summary.split_once(" — ").unwrap_or(("", summary))
}

// ---------------------------------------------------------------------------
// Connection commands

/// `PING [message]`
fn ping(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    if args.remaining() > 1 {
        return Err(wrong_arity("ping"));
    }
    let msg = if args.remaining() == 1 { Some(args.next_bytes()?.clone()) } else { None };
    // A RESP2 subscriber gets the form its pushes have (also inside
    // `EXEC`, after a `SUBSCRIBE` queued before it), as in Redis.
    if ctx.session.proto == Protocol::Resp2 && ctx.server.hub.is_subscriber(ctx.session.id) {
        return Ok(Frame::Array(vec![Frame::bulk_static("pong"), Frame::Bulk(msg.unwrap_or_default())]));
    }
    Ok(msg.map_or(Frame::simple("PONG"), Frame::Bulk))
}

/// `ECHO message`
fn echo(_ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    Ok(Frame::Bulk(args.next_bytes()?.clone()))
}

/// Whether a client name or attribute value is acceptable (`!`..`~` only).
fn valid_client_attr(v: &[u8]) -> bool {
    v.iter().all(|&c| (b'!'..=b'~').contains(&c))
}

const BAD_CLIENT_NAME: Frame = Frame::error("ERR Client names cannot contain spaces, newlines or special characters.");

/// `HELLO [protover [AUTH username password] [SETNAME clientname]]`
///
/// Options take effect in order, as in Redis 7.0: `SETNAME` names the
/// connection when it is read (even if a later option fails or the
/// connection turns out not to be authenticated), and `AUTH` authenticates
/// when it is read, failing the whole command at once on wrong
/// credentials. The protocol switches only if everything succeeded and the
/// connection is authenticated.
fn hello(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let mut proto = None;
    if !args.is_empty() {
        let v = args.next_i64().map_err(|_| Frame::error("ERR Protocol version is not an integer or out of range"))?;
        proto = match v {
            2 => Some(Protocol::Resp2),
            3 => Some(Protocol::Resp3),
            _ => return Err(Frame::error("NOPROTO unsupported protocol version")),
        };
    }
    // Position of the next option in the command's arguments.
    let mut at = 2;
    while let Ok(opt) = args.next_bytes() {
        let more = args.remaining();
        if opt.eq_ignore_ascii_case(b"AUTH") && more >= 2 {
            ctx.redacted.extend([at + 1, at + 2]);
            let user = args.next_bytes()?;
            let password = args.next_bytes()?;
            if !super::auth::authenticate(ctx, user, password) {
                return Err(super::auth::WRONGPASS);
            }
            at += 3;
        } else if opt.eq_ignore_ascii_case(b"SETNAME") && more >= 1 {
            let n = args.next_bytes()?;
            if !valid_client_attr(n) {
                return Err(BAD_CLIENT_NAME);
            }
            ctx.session.name = (!n.is_empty()).then(|| n.clone());
            at += 2;
        } else {
            return Err(Frame::error_owned(format!("ERR Syntax error in HELLO option '{}'", printable(opt, 128))));
        }
    }
    if super::auth::auth_required(ctx.session, ctx.server) {
        return Err(super::auth::HELLO_NOAUTH);
    }
    if let Some(p) = proto {
        ctx.session.proto = p;
        ctx.server.hub.set_protocol(ctx.session.id, p);
    }
    Ok(Frame::Map(vec![
        (Frame::bulk_static("server"), Frame::bulk_static(SERVER_NAME)),
        (Frame::bulk_static("version"), Frame::bulk_static(REDIS_COMPAT_VERSION)),
        (Frame::bulk_static("proto"), Frame::Integer(ctx.session.proto.version())),
        (Frame::bulk_static("id"), Frame::Integer(ctx.session.id as i64)),
        (Frame::bulk_static("mode"), Frame::bulk_static("standalone")),
        (Frame::bulk_static("role"), Frame::bulk_static("master")),
        (Frame::bulk_static("modules"), Frame::Array(Vec::new())),
    ]))
}

/// `QUIT`
fn quit(ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    ctx.session.close = true;
    Ok(OK)
}

/// `SELECT index`
fn select(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let db = args.next_i64()?;
    if db < 0 || db >= ctx.ks.dbs.len() as i64 {
        return Err(DB_RANGE);
    }
    ctx.session.db = db as u32;
    Ok(OK)
}

// ---------------------------------------------------------------------------
// CLIENT

/// `CLIENT subcommand [arg ...]`
fn client(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    dispatch(ctx, args, "client", CLIENT_SUBCOMMANDS)
}

/// `CLIENT ID`
fn client_id(ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    Ok(Frame::Integer(ctx.session.id as i64))
}

/// `CLIENT SETNAME connection-name`
fn client_setname(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let name = args.next_bytes()?;
    if !valid_client_attr(name) {
        return Err(BAD_CLIENT_NAME);
    }
    ctx.session.name = (!name.is_empty()).then(|| name.clone());
    Ok(OK)
}

/// `CLIENT GETNAME`
fn client_getname(ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    Ok(Frame::bulk_or_null(ctx.session.name.clone()))
}

/// `CLIENT SETINFO LIB-NAME|LIB-VER value`
fn client_setinfo(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let attr = args.next_bytes()?;
    let value = args.next_bytes()?;
    let lib_name = if attr.eq_ignore_ascii_case(b"lib-name") {
        true
    } else if attr.eq_ignore_ascii_case(b"lib-ver") {
        false
    } else {
        return Err(Frame::error_owned(format!("ERR Unrecognized option '{}'", printable(attr, 128))));
    };
    if !valid_client_attr(value) {
        return Err(Frame::error_owned(format!(
            "ERR {} cannot contain spaces, newlines or special characters.",
            printable(attr, 128)
        )));
    }
    let value = (!value.is_empty()).then(|| value.clone());
    if lib_name {
        ctx.session.lib_name = value;
    } else {
        ctx.session.lib_ver = value;
    }
    Ok(OK)
}

/// `CLIENT LIST [TYPE NORMAL|MASTER|REPLICA|PUBSUB | ID client-id [client-id ...]]`
///
/// As Redis 7.0 reads it: one filter or none; the clients of `ID` listed in
/// the order given (twice if named twice), ids that name no client
/// skipped, a non-integer one refused.
fn client_list(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let rest = args.rest();
    // Some(true): subscribers only (Redis's pubsub type: any subscription,
    // in either protocol); Some(false): the others.
    let mut pubsub: Option<bool> = None;
    let wanted: Vec<u64> = match rest {
        [] => ctx.server.clients.keys().copied().collect(),
        [opt, t] if opt.eq_ignore_ascii_case(b"TYPE") => match t.to_ascii_lowercase().as_slice() {
            b"normal" => {
                pubsub = Some(false);
                ctx.server.clients.keys().copied().collect()
            }
            b"pubsub" => {
                pubsub = Some(true);
                ctx.server.clients.keys().copied().collect()
            }
            // No replication here: nobody is a master or a replica.
            b"master" | b"replica" | b"slave" => Vec::new(),
            _ => return Err(Frame::error_owned(format!("ERR Unknown client type '{}'", printable(t, 128)))),
        },
        [opt, ids @ ..] if opt.eq_ignore_ascii_case(b"ID") && !ids.is_empty() => {
            let mut v = Vec::with_capacity(ids.len());
            for id in ids {
                let n = super::args::parse_i64(id).ok_or(Frame::error("ERR Invalid client ID"))?;
                v.extend(u64::try_from(n).ok().filter(|&n| n > 0));
            }
            v
        }
        _ => return Err(SYNTAX),
    };
    let mut out = String::new();
    for id in wanted {
        if pubsub.is_none_or(|p| ctx.server.hub.is_subscriber(id) == p)
            && let Some(line) = client_line(ctx, id)
        {
            out.push_str(&line);
            out.push('\n');
        }
    }
    Ok(Frame::Verbatim(Bytes::from(out)))
}

/// `CLIENT UNBLOCK client-id [TIMEOUT|ERROR]`: 1 if the client was
/// waiting in a blocking command, which then answers as on its timeout
/// (`TIMEOUT`, the default) or with `-UNBLOCKED client unblocked via CLIENT
/// UNBLOCK` (`ERROR`); 0 otherwise.
fn client_unblock(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    if args.remaining() > 2 {
        return Err(super::pubsub::sub_arity(args.name(), "CLIENT"));
    }
    let id = args.next_i64()?;
    let error = match args.next_bytes() {
        Err(_) => false,
        Ok(reason) if reason.eq_ignore_ascii_case(b"timeout") => false,
        Ok(reason) if reason.eq_ignore_ascii_case(b"error") => true,
        Ok(_) => return Err(Frame::error("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR")),
    };
    let Ok(id) = u64::try_from(id) else { return Ok(Frame::Integer(0)) };
    if !ctx.server.hub.is_blocked(id) || ctx.server.unblock_requests.iter().any(|r| r.0 == id) {
        return Ok(Frame::Integer(0));
    }
    ctx.server.unblock_requests.push((id, error));
    Ok(Frame::Integer(1))
}

/// `CLIENT INFO`
fn client_info(ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    let mut line = client_line(ctx, ctx.session.id).unwrap_or_default();
    line.push('\n');
    Ok(Frame::Verbatim(Bytes::from(line)))
}

/// `CLIENT HELP`
fn client_help(_ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    Ok(help_reply("client", CLIENT_SUBCOMMANDS))
}

fn lossy(b: &Option<Bytes>) -> String {
    b.as_ref().map(|b| String::from_utf8_lossy(b).into_owned()).unwrap_or_default()
}

/// One `CLIENT LIST` line (without the newline), with Redis's field names.
/// The caller's own line comes from its live session.
fn client_line(ctx: &Ctx, id: u64) -> Option<String> {
    let c = ctx.server.clients.get(&id)?;
    let me = id == ctx.session.id;
    let (name, db, proto, cmd, lib_name, lib_ver, idle, queued) = if me {
        let s = &*ctx.session;
        let queued = s.multi.as_ref().map(|m| m.queue.len());
        (lossy(&s.name), s.db, s.proto, s.last_cmd.to_string(), lossy(&s.lib_name), lossy(&s.lib_ver), 0, queued)
    } else {
        (
            lossy(&c.name),
            c.db,
            c.proto,
            c.last_cmd.clone(),
            lossy(&c.lib.0),
            lossy(&c.lib.1),
            c.last_active.elapsed().as_secs(),
            c.queued,
        )
    };
    let cmd = if cmd.is_empty() { "NULL".to_string() } else { cmd };
    let unix = c.laddr.parse::<std::net::SocketAddr>().is_err();
    let hub = &ctx.server.hub;
    // Redis's letters in its order: P a subscriber, x in MULTI, b blocked
    // (or held by a pause), d a watched key changed, U a Unix socket, e
    // `CLIENT NO-EVICT on`, N none.
    let mut flags = String::new();
    if hub.is_subscriber(id) {
        flags.push('P');
    }
    if queued.is_some() {
        flags.push('x');
    }
    if hub.is_parked(id) {
        flags.push('b');
    }
    if hub.watch_dirty(id) {
        flags.push('d');
    }
    if unix {
        flags.push('U');
    }
    if hub.no_evict(id) {
        flags.push('e');
    }
    if flags.is_empty() {
        flags.push('N');
    }
    let (sub, psub, ssub) = (hub.count(id, Kind::Channel), hub.count(id, Kind::Pattern), hub.count(id, Kind::Shard));
    Some(format!(
        "id={id} addr={} laddr={} fd=0 name={name} age={} idle={idle} flags={flags} db={db} sub={sub} psub={psub} ssub={ssub} \
         multi={} qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=0 rbp=0 obl=0 oll=0 omem=0 tot-mem=0 events=r \
         cmd={cmd} user=default redir=-1 resp={} lib-name={lib_name} lib-ver={lib_ver}",
        c.addr,
        c.laddr,
        c.created.elapsed().as_secs(),
        queued.map_or(-1, |n| n as i64),
        proto.version(),
    ))
}

// ---------------------------------------------------------------------------
// CONFIG

/// `CONFIG subcommand [arg ...]`
fn config(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    dispatch(ctx, args, "config", CONFIG_SUBCOMMANDS)
}

/// `CONFIG GET parameter [parameter ...]`
fn config_get(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let params = ctx.server.config.params();
    let mut taken = vec![false; params.len()];
    let mut out = Vec::new();
    for pattern in args.rest() {
        let is_glob = pattern.iter().any(|c| matches!(c, b'*' | b'?' | b'['));
        for (i, (name, value)) in params.iter().enumerate() {
            if taken[i] {
                continue;
            }
            if is_glob {
                if glob_match_nocase(pattern, name.as_bytes()) {
                    taken[i] = true;
                    out.push((Frame::bulk_static(name), Frame::Bulk(Bytes::from(value.clone()))));
                }
            } else if pattern.eq_ignore_ascii_case(name.as_bytes()) {
                // An exact name is echoed as the client spelled it, like Redis.
                taken[i] = true;
                out.push((Frame::Bulk(pattern.clone()), Frame::Bulk(Bytes::from(value.clone()))));
            }
        }
    }
    Ok(Frame::Map(out))
}

/// `CONFIG RESETSTAT`
fn config_resetstat(ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    admin::reset_stats(ctx.server);
    Ok(OK)
}

/// `CONFIG HELP`
fn config_help(_ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    Ok(help_reply("config", CONFIG_SUBCOMMANDS))
}

// ---------------------------------------------------------------------------
// COMMAND

/// `COMMAND [COUNT|INFO|DOCS|LIST|GETKEYS|HELP ...]`
fn command_cmd(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    if args.is_empty() {
        return Ok(Frame::Array(sorted_commands().into_iter().map(command_info_frame).collect()));
    }
    dispatch(ctx, args, "command", COMMAND_SUBCOMMANDS)
}

fn sorted_commands() -> Vec<&'static Command> {
    let mut v: Vec<&Command> = super::families().iter().flat_map(|f| f.iter()).collect();
    v.sort_by_key(|c| c.name);
    v
}

/// A command or subcommand, for `COMMAND INFO`/`DOCS` lookups by name.
enum AnyCommand {
    Top(&'static Command),
    Sub(&'static Command, &'static Subcommand),
}

fn find_any(name: &[u8]) -> Option<AnyCommand> {
    let text = std::str::from_utf8(name).ok()?.to_ascii_lowercase();
    match text.split_once('|') {
        None => super::lookup(name).map(AnyCommand::Top),
        Some((parent, _)) => {
            let top = super::lookup(parent.as_bytes())?;
            subcommands_of(top.name).iter().find(|s| s.name == text).map(|s| AnyCommand::Sub(top, s))
        }
    }
}

/// `COMMAND COUNT`
fn command_count(_ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    Ok(Frame::Integer(super::families().iter().map(|f| f.len()).sum::<usize>() as i64))
}

/// `COMMAND INFO [command-name ...]`
fn command_info(_ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    if args.is_empty() {
        return Ok(Frame::Array(sorted_commands().into_iter().map(command_info_frame).collect()));
    }
    Ok(Frame::Array(
        args.rest()
            .iter()
            .map(|n| match find_any(n) {
                Some(AnyCommand::Top(c)) => command_info_frame(c),
                Some(AnyCommand::Sub(c, s)) => subcommand_info_frame(c, s),
                None => Frame::Null,
            })
            .collect(),
    ))
}

fn flag_set(flags: u32) -> Frame {
    Frame::Set(NAMES.iter().filter(|(bit, _)| flags & bit != 0).map(|(_, n)| Frame::simple(n)).collect())
}

/// ACL categories as Redis derives them from flags and the group.
fn acl_categories(flags: u32, group: &str) -> Frame {
    let mut cats: Vec<&'static str> = Vec::new();
    if flags & WRITE != 0 {
        cats.push("@write");
    }
    if flags & READONLY != 0 {
        cats.push("@read");
    }
    if flags & ADMIN != 0 {
        cats.push("@admin");
    }
    match group {
        "string" => cats.push("@string"),
        "list" => cats.push("@list"),
        "hash" => cats.push("@hash"),
        "set" => cats.push("@set"),
        "sorted-set" => cats.push("@sortedset"),
        "generic" => cats.push("@keyspace"),
        "connection" => cats.push("@connection"),
        "pubsub" => cats.push("@pubsub"),
        "transactions" => cats.push("@transaction"),
        "scripting" => cats.push("@scripting"),
        "stream" => cats.push("@stream"),
        "bitmap" => cats.push("@bitmap"),
        "hyperloglog" => cats.push("@hyperloglog"),
        "geo" => cats.push("@geo"),
        _ => {}
    }
    cats.push(if flags & FAST != 0 { "@fast" } else { "@slow" });
    if flags & BLOCKING != 0 {
        cats.push("@blocking");
    }
    if flags & ADMIN != 0 {
        cats.push("@dangerous");
    }
    Frame::Set(cats.into_iter().map(Frame::simple).collect())
}

/// The key specification Redis derives from legacy (first, last, step) positions.
fn key_specs(c: &Command) -> Frame {
    if c.first_key <= 0 {
        return Frame::Set(Vec::new());
    }
    let access = if c.flags & WRITE != 0 { "RW" } else { "RO" };
    let lastkey = if c.last_key < 0 { c.last_key } else { c.last_key - c.first_key };
    let s = Frame::bulk_static;
    Frame::Set(vec![Frame::Map(vec![
        (s("flags"), Frame::Set(vec![Frame::simple(access)])),
        (
            s("begin_search"),
            Frame::Map(vec![
                (s("type"), s("index")),
                (s("spec"), Frame::Map(vec![(s("index"), Frame::Integer(c.first_key as i64))])),
            ]),
        ),
        (
            s("find_keys"),
            Frame::Map(vec![
                (s("type"), s("range")),
                (
                    s("spec"),
                    Frame::Map(vec![
                        (s("lastkey"), Frame::Integer(lastkey as i64)),
                        (s("keystep"), Frame::Integer(c.step as i64)),
                        (s("limit"), Frame::Integer(0)),
                    ]),
                ),
            ]),
        ),
    ])])
}

/// One `COMMAND INFO` entry: name, arity, flags, first key, last key, step,
/// ACL categories, tips, key specs, subcommands (the last four sets, as
/// Redis 7.0 builds them: `~` in RESP3).
fn command_info_frame(c: &'static Command) -> Frame {
    let subs: Vec<Frame> = subcommands_of(c.name).iter().map(|s| subcommand_info_frame(c, s)).collect();
    Frame::Array(vec![
        Frame::bulk_static(c.name),
        Frame::Integer(c.arity as i64),
        flag_set(c.flags),
        Frame::Integer(c.first_key as i64),
        Frame::Integer(c.last_key as i64),
        Frame::Integer(c.step as i64),
        acl_categories(c.flags, c.group),
        Frame::Set(Vec::new()),
        key_specs(c),
        // As Redis writes them: an array of subcommands, an empty set for none.
        if subs.is_empty() { Frame::Set(subs) } else { Frame::Array(subs) },
    ])
}

fn subcommand_info_frame(parent: &Command, s: &'static Subcommand) -> Frame {
    let key = i64::from(s.key_at);
    Frame::Array(vec![
        Frame::bulk_static(s.name),
        Frame::Integer(s.arity as i64),
        flag_set(s.flags),
        Frame::Integer(key),
        Frame::Integer(key),
        Frame::Integer(i64::from(key > 0)),
        acl_categories(s.flags, parent.group),
        Frame::Set(Vec::new()),
        Frame::Set(Vec::new()),
        Frame::Set(Vec::new()),
    ])
}

/// Splits wire syntax into top-level arguments (brackets and parentheses
/// kept whole), after dropping the `words` leading name words.
fn syntax_arguments(syntax: &str, words: usize) -> Vec<String> {
    let mut parts = Vec::new();
    let mut depth = 0i32;
    let mut cur = String::new();
    for ch in syntax.chars() {
        match ch {
            '[' | '(' => depth += 1,
            ']' | ')' => depth -= 1,
            _ => {}
        }
        if ch == ' ' && depth == 0 {
            if !cur.is_empty() {
                parts.push(std::mem::take(&mut cur));
            }
        } else {
            cur.push(ch);
        }
    }
    if !cur.is_empty() {
        parts.push(cur);
    }
    parts.into_iter().skip(words).collect()
}

fn docs_map(summary: &'static str, group: &'static str, words: usize, subs: Vec<(Frame, Frame)>) -> Frame {
    let (syntax, text) = split_summary(summary);
    let s = Frame::bulk_static;
    let mut m = vec![(s("summary"), s(text)), (s("since"), s("")), (s("group"), s(group)), (s("complexity"), s(""))];
    let arguments: Vec<Frame> = syntax_arguments(syntax, words)
        .into_iter()
        .map(|a| Frame::Map(vec![(s("name"), Frame::Bulk(Bytes::from(a))), (s("type"), s("string"))]))
        .collect();
    if !arguments.is_empty() {
        m.push((s("arguments"), Frame::Array(arguments)));
    }
    if !subs.is_empty() {
        m.push((s("subcommands"), Frame::Map(subs)));
    }
    Frame::Map(m)
}

fn command_docs_entry(c: &'static Command) -> (Frame, Frame) {
    let subs = subcommands_of(c.name)
        .iter()
        .map(|s| (Frame::bulk_static(s.name), docs_map(s.summary, c.group, 2, Vec::new())))
        .collect();
    // A container's own syntax is not worth hinting: its subcommands carry it.
    let words = if subcommands_of(c.name).is_empty() { 1 } else { usize::MAX };
    (Frame::bulk_static(c.name), docs_map(c.summary, c.group, words, subs))
}

/// `COMMAND DOCS [command-name ...]`
fn command_docs(_ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    if args.is_empty() {
        return Ok(Frame::Map(sorted_commands().into_iter().map(command_docs_entry).collect()));
    }
    let mut out = Vec::new();
    for n in args.rest() {
        match find_any(n) {
            Some(AnyCommand::Top(c)) => out.push(command_docs_entry(c)),
            Some(AnyCommand::Sub(c, s)) => {
                out.push((Frame::bulk_static(s.name), docs_map(s.summary, c.group, 2, Vec::new())))
            }
            None => {}
        }
    }
    Ok(Frame::Map(out))
}

/// `COMMAND LIST [FILTERBY MODULE module-name|ACLCAT category|PATTERN pattern]`
fn command_list(_ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    enum Filter<'a> {
        All,
        None,
        Cat(String),
        Pattern(&'a [u8]),
    }
    let filter = if args.is_empty() {
        Filter::All
    } else {
        if !args.eat("FILTERBY") || args.remaining() != 2 {
            return Err(SYNTAX);
        }
        let kind = args.next_bytes()?;
        let value = args.next_bytes()?;
        if kind.eq_ignore_ascii_case(b"MODULE") {
            Filter::None
        } else if kind.eq_ignore_ascii_case(b"ACLCAT") {
            Filter::Cat(format!("@{}", String::from_utf8_lossy(value).to_ascii_lowercase()))
        } else if kind.eq_ignore_ascii_case(b"PATTERN") {
            Filter::Pattern(value)
        } else {
            return Err(SYNTAX);
        }
    };
    let mut out = Vec::new();
    for c in sorted_commands() {
        let mut entries: Vec<(&'static str, u32)> = vec![(c.name, c.flags)];
        entries.extend(subcommands_of(c.name).iter().map(|s| (s.name, s.flags)));
        for (name, flags) in entries {
            let keep = match &filter {
                Filter::All => true,
                Filter::None => false,
                Filter::Cat(cat) => match acl_categories(flags, c.group) {
                    Frame::Set(v) => v.iter().any(|f| matches!(f, Frame::Simple(s) if s == cat)),
                    _ => false,
                },
                Filter::Pattern(p) => glob_match_nocase(p, name.as_bytes()),
            };
            if keep {
                out.push(Frame::bulk_static(name));
            }
        }
    }
    Ok(Frame::Array(out))
}

/// `COMMAND GETKEYS command [arg ...]`
///
/// In Redis's order: the command (or the subcommand of a container command)
/// must exist, have key arguments, and fit its arity; then the keys must be
/// there (a `numkeys` argument declaring none, or too many, is refused).
fn command_getkeys(_ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    const INVALID_COMMAND: Frame = Frame::error("ERR Invalid command specified");
    const NO_KEYS: Frame = Frame::error("ERR The command has no key arguments");
    const BAD_ARITY: Frame = Frame::error("ERR Invalid number of arguments specified for command");
    let argv = args.rest();
    let cmd = super::lookup(&argv[0]).ok_or(INVALID_COMMAND)?;
    if let Some((_, found)) = find_subcommand(argv) {
        let s = found.ok_or(INVALID_COMMAND)?;
        if s.key_at == 0 {
            return Err(NO_KEYS);
        }
        if !s.arity_ok(argv.len()) {
            return Err(BAD_ARITY);
        }
        return Ok(Frame::Array(vec![Frame::Bulk(argv[s.key_at as usize].clone())]));
    }
    if !cmd.has_keys() {
        return Err(NO_KEYS);
    }
    if !cmd.arity_ok(argv.len()) {
        return Err(BAD_ARITY);
    }
    let keys = cmd.keys(argv).ok_or(Frame::error("ERR Invalid arguments specified for command"))?;
    Ok(Frame::Array(keys.into_iter().map(|k| Frame::Bulk(k.clone())).collect()))
}

/// `COMMAND HELP`
fn command_help(_ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    Ok(help_reply("command", COMMAND_SUBCOMMANDS))
}

// ---------------------------------------------------------------------------
// MEMORY

/// `MEMORY subcommand [arg ...]`
fn memory(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    dispatch(ctx, args, "memory", MEMORY_SUBCOMMANDS)
}

/// `MEMORY USAGE key [SAMPLES count]`
///
/// The key's bytes, its 72-byte entry in the database and
/// [`Value::memory_estimate`] of its value, which samples `count` elements
/// of a large collection (5 unless given, all for 0). Null for a missing
/// key (an expired one still counts until it is removed, as in Redis).
fn memory_usage(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let mut samples = 5usize;
    while !args.is_empty() {
        if args.remaining() >= 2 && args.eat("SAMPLES") {
            let n = args.next_i64()?;
            samples = usize::try_from(n).map_err(|_| SYNTAX)?;
        } else {
            return Err(SYNTAX);
        }
    }
    let db = ctx.db() as usize;
    let Some(entry) = ctx.ks.dbs[db].get(key) else { return Ok(Frame::Null) };
    let key_bytes = if key.len() <= 8 { 16 } else { key.len().next_multiple_of(16) };
    Ok(Frame::Integer((72 + key_bytes + entry.value.memory_estimate(samples)) as i64))
}

/// `MEMORY DOCTOR`
fn memory_doctor(ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    let keys: usize = ctx.ks.dbs.iter().map(|d| d.len()).sum();
    let text = format!(
        "statebroker has no memory issue detectors. It holds {keys} keys in a resident set of {} bytes \
         (INFO memory); MEMORY USAGE estimates a key's share.",
        rss_bytes()
    );
    Ok(Frame::Verbatim(Bytes::from(text)))
}

/// Where the server's memory goes, as `MEMORY STATS` and `INFO memory`
/// report it. Without allocator statistics the resident set size is the
/// memory used (as `INFO memory`'s `used_memory`), so the allocator and
/// fragmentation figures are those of Redis built without jemalloc: the
/// allocated, active and resident amounts equal, their ratios 1.
struct MemoryOverhead {
    /// `used_memory`: the resident set size now.
    total: u64,
    /// The largest resident set size seen.
    peak: u64,
    /// The resident set size at start-up.
    startup: u64,
    /// Per non-empty database: its number, the estimated bytes of its key
    /// table (a 72-byte entry per key) and of its deadline index (16 bytes
    /// per key with a deadline).
    dbs: Vec<(usize, u64, u64)>,
    /// Keys in all databases.
    keys: u64,
}

impl MemoryOverhead {
    fn measure(ctx: &Ctx) -> MemoryOverhead {
        let total = rss_bytes();
        let dbs = (ctx.ks.dbs.iter().enumerate())
            .filter(|(_, db)| !db.is_empty())
            .map(|(i, db)| (i, db.len() as u64 * 72, db.volatile_len() as u64 * 16))
            .collect();
        let keys = ctx.ks.dbs.iter().map(|db| db.len() as u64).sum();
        MemoryOverhead { total, peak: ctx.server.peak_rss.max(total), startup: ctx.server.startup_rss, dbs, keys }
    }

    /// `overhead.total`: start-up memory and the databases' tables.
    fn overhead(&self) -> u64 {
        self.startup + self.dbs.iter().map(|(_, main, expires)| main + expires).sum::<u64>()
    }

    /// `dataset.bytes`: what is not overhead.
    fn dataset(&self) -> u64 {
        self.total.saturating_sub(self.overhead())
    }

    /// `dataset.percentage`: the data set's share of what start-up did not take.
    fn dataset_percentage(&self) -> f64 {
        let net = self.total.saturating_sub(self.startup);
        if net == 0 { 0.0 } else { self.dataset() as f64 * 100.0 / net as f64 }
    }

    /// `peak.percentage`: memory now as a share of the peak.
    fn peak_percentage(&self) -> f64 {
        if self.peak == 0 { 0.0 } else { self.total as f64 * 100.0 / self.peak as f64 }
    }
}

/// `MEMORY STATS`
///
/// Redis's fields, in its order (a map in RESP3; doubles where Redis
/// gives doubles): see [`MemoryOverhead`] for what each amount is here.
/// Replication, cluster, AOF buffers and scripting take nothing.
fn memory_stats(ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    let m = MemoryOverhead::measure(ctx);
    let int = |n: u64| Frame::Integer(n as i64);
    let mut fields: Vec<(String, Frame)> = vec![
        ("peak.allocated".into(), int(m.peak)),
        ("total.allocated".into(), int(m.total)),
        ("startup.allocated".into(), int(m.startup)),
        ("replication.backlog".into(), int(0)),
        ("clients.slaves".into(), int(0)),
        ("clients.normal".into(), int(0)),
        ("cluster.links".into(), int(0)),
        ("aof.buffer".into(), int(0)),
        ("lua.caches".into(), int(0)),
        ("functions.caches".into(), int(0)),
    ];
    for &(i, main, expires) in &m.dbs {
        let db = vec![
            (Frame::bulk_static("overhead.hashtable.main"), int(main)),
            (Frame::bulk_static("overhead.hashtable.expires"), int(expires)),
            (Frame::bulk_static("overhead.hashtable.slot-to-keys"), int(0)),
        ];
        fields.push((format!("db.{i}"), Frame::Map(db)));
    }
    let net = m.total.saturating_sub(m.startup);
    fields.extend([
        ("overhead.total".into(), int(m.overhead())),
        ("keys.count".into(), int(m.keys)),
        ("keys.bytes-per-key".into(), int(net.checked_div(m.keys).unwrap_or(0))),
        ("dataset.bytes".into(), int(m.dataset())),
        ("dataset.percentage".into(), Frame::Double(m.dataset_percentage())),
        ("peak.percentage".into(), Frame::Double(m.peak_percentage())),
        ("allocator.allocated".into(), int(m.total)),
        ("allocator.active".into(), int(m.total)),
        ("allocator.resident".into(), int(m.total)),
        ("allocator-fragmentation.ratio".into(), Frame::Double(1.0)),
        ("allocator-fragmentation.bytes".into(), int(0)),
        ("allocator-rss.ratio".into(), Frame::Double(1.0)),
        ("allocator-rss.bytes".into(), int(0)),
        ("rss-overhead.ratio".into(), Frame::Double(1.0)),
        ("rss-overhead.bytes".into(), int(0)),
        ("fragmentation".into(), Frame::Double(1.0)),
        ("fragmentation.bytes".into(), int(0)),
    ]);
    Ok(Frame::Map(fields.into_iter().map(|(k, v)| (Frame::bulk(k.as_bytes()), v)).collect()))
}

/// `MEMORY MALLOC-STATS`: the answer of a Redis built without jemalloc.
fn memory_malloc_stats(_ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    Ok(Frame::Verbatim(Bytes::from_static(b"Stats not supported for the current allocator")))
}

/// `MEMORY PURGE`: `OK`, as Redis answers with an allocator other than
/// jemalloc (the allocator returns free pages on its own schedule).
fn memory_purge(_ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    Ok(OK)
}

/// `MEMORY HELP`
fn memory_help(_ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    Ok(help_reply("memory", MEMORY_SUBCOMMANDS))
}

// ---------------------------------------------------------------------------
// LATENCY, DEBUG

/// `LATENCY subcommand [arg ...]`
///
/// Latency monitoring (events past `latency-monitor-threshold`) is off, as
/// by Redis's default threshold of 0, which is fixed here: `LATEST` and
/// `HISTORY` answer no samples. `HISTOGRAM` reports what every call's
/// timing measured.
fn latency(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    dispatch(ctx, args, "latency", LATENCY_SUBCOMMANDS)
}

/// `LATENCY DOCTOR`
fn latency_doctor(_ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    Ok(Frame::Verbatim(Bytes::from_static(
        b"Latency monitoring is off: latency-monitor-threshold is 0 here, and fixed. LATENCY HISTOGRAM shows \
          each command's latencies; SLOWLOG GET the slowest calls.",
    )))
}

/// `LATENCY GRAPH event`: there are never samples.
fn latency_graph(_ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let event = args.next_bytes()?;
    Err(Frame::error_owned(format!("ERR No samples available for event '{}'", String::from_utf8_lossy(event))))
}

/// `LATENCY HISTORY event`: no samples.
fn latency_history(_ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    Ok(Frame::Array(Vec::new()))
}

/// `LATENCY LATEST`: no samples.
fn latency_latest(_ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    Ok(Frame::Array(Vec::new()))
}

/// `LATENCY RESET [event ...]`: the number of event series reset (none).
fn latency_reset(_ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    Ok(Frame::Integer(0))
}

/// `LATENCY HISTOGRAM [command ...]`
///
/// For each command named (every command called, if none), a map of its
/// `calls` and `histogram_usec`: for each power of two of microseconds up
/// to the slowest call, the calls that took at most that long (buckets
/// that add no call are left out, as Redis leaves them out).
fn latency_histogram(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let wanted: Vec<String> = args.rest().iter().map(|a| String::from_utf8_lossy(a).to_ascii_lowercase()).collect();
    let mut stats: Vec<(&str, &crate::broker::pubsub::CmdStat)> = ctx
        .server
        .hub
        .cmdstats
        .iter()
        .filter(|(name, st)| st.calls > 0 && (wanted.is_empty() || wanted.iter().any(|w| w == *name)))
        .map(|(name, st)| (*name, st))
        .collect();
    stats.sort_unstable_by_key(|(name, _)| *name);
    let out = stats
        .into_iter()
        .map(|(name, st)| {
            let mut buckets = Vec::new();
            let mut total = 0;
            for (k, &n) in st.latency.iter().enumerate() {
                if n > 0 {
                    total += n;
                    buckets.push((Frame::Integer(1 << k), Frame::Integer(total as i64)));
                }
            }
            let detail = Frame::Map(vec![
                (Frame::bulk_static("calls"), Frame::Integer(st.calls as i64)),
                (Frame::bulk_static("histogram_usec"), Frame::Map(buckets)),
            ]);
            (Frame::Bulk(Bytes::copy_from_slice(name.as_bytes())), detail)
        })
        .collect();
    Ok(Frame::Map(out))
}

/// `LATENCY HELP`
fn latency_help(_ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    Ok(help_reply("latency", LATENCY_SUBCOMMANDS))
}

/// `DEBUG subcommand [arg ...]`: refused with Redis's reply under its
/// default `enable-debug-command no` (the setting is fixed here).
fn debug(_ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    Err(Frame::error(
        "ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it \
         from a local connection, otherwise you need to set this option in the configuration file, and then \
         restart the server.",
    ))
}

// ---------------------------------------------------------------------------
// INFO

/// Sections in the order `INFO` prints them; the flag says whether the
/// default (no argument) reply includes it.
const SECTIONS: &[&str] = &[
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "modules",
    "errorstats",
    "cluster",
    "keyspace",
    "commandstats",
];

/// `INFO [section [section ...]]`
fn info(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let wanted: Vec<String> = args.rest().iter().map(|a| String::from_utf8_lossy(a).to_ascii_lowercase()).collect();
    let all = wanted.iter().any(|w| matches!(w.as_str(), "all" | "everything"));
    let default = wanted.is_empty() || wanted.iter().any(|w| w == "default");
    let mut out = String::new();
    for &section in SECTIONS {
        // As in Redis, `commandstats` is shown only when asked for (or with `all`).
        let listed = all || (default && section != "commandstats") || wanted.iter().any(|w| w == section);
        if !listed {
            continue;
        }
        if !out.is_empty() {
            out.push_str("\r\n");
        }
        let mut title = section.to_string();
        title[..1].make_ascii_uppercase();
        if section == "cpu" {
            title = "CPU".into();
        }
        let _ = write!(out, "# {title}\r\n");
        for (k, v) in info_section(ctx, section) {
            let _ = write!(out, "{k}:{v}\r\n");
        }
    }
    Ok(Frame::Verbatim(Bytes::from(out)))
}

/// `key:value` lines as `INFO` field pairs.
fn info_lines(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|l| l.trim_end_matches('\r').split_once(':'))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn read_proc(path: &str) -> Option<String> {
    std::fs::read_to_string(path).ok()
}

/// Resident set size of this process in bytes (0 if unknown).
pub fn rss_bytes() -> u64 {
    read_proc("/proc/self/statm")
        .and_then(|s| s.split_whitespace().nth(1).and_then(|p| p.parse::<u64>().ok()))
        .map_or(0, |pages| pages * 4096)
}

/// Total memory of the machine in bytes (0 if unknown).
fn total_system_memory() -> u64 {
    read_proc("/proc/meminfo")
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|n| n.parse::<u64>().ok()))
        })
        .map_or(0, |kb| kb * 1024)
}

/// User and system CPU seconds used by this process.
fn cpu_seconds() -> (f64, f64) {
    let Some(stat) = read_proc("/proc/self/stat") else {
        return (0.0, 0.0);
    };
    let after = stat.rsplit_once(") ").map_or("", |(_, r)| r);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let tick = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0) / 100.0;
    (tick(11), tick(12))
}

/// Bytes as Redis's `*_human` fields print them.
fn human(n: u64) -> String {
    let f = n as f64;
    if n < 1024 {
        format!("{n}B")
    } else if f < 1024.0 * 1024.0 {
        format!("{:.2}K", f / 1024.0)
    } else if f < 1024.0 * 1024.0 * 1024.0 {
        format!("{:.2}M", f / (1024.0 * 1024.0))
    } else {
        format!("{:.2}G", f / (1024.0 * 1024.0 * 1024.0))
    }
}

fn info_section(ctx: &Ctx, section: &str) -> Vec<(String, String)> {
    let s = &ctx.server;
    let mut v: Vec<(&str, String)> = Vec::new();
    match section {
        "server" => {
            let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
            let uptime = s.started.elapsed().as_secs();
            let os = format!(
                "{} {} {}",
                read_proc("/proc/sys/kernel/ostype")
                    .map_or_else(|| std::env::consts::OS.to_string(), |t| t.trim().to_string()),
                read_proc("/proc/sys/kernel/osrelease").unwrap_or_default().trim(),
                std::env::consts::ARCH
            );
            v.push(("redis_version", REDIS_COMPAT_VERSION.into()));
            v.push(("statebroker_version", env!("CARGO_PKG_VERSION").into()));
            v.push(("redis_git_sha1", "00000000".into()));
            v.push(("redis_git_dirty", "0".into()));
            v.push(("redis_build_id", "0".into()));
            v.push(("redis_mode", "standalone".into()));
            v.push(("os", os));
            v.push(("arch_bits", (usize::BITS).to_string()));
            v.push(("multiplexing_api", "epoll".into()));
            v.push(("process_id", std::process::id().to_string()));
            v.push(("process_supervised", "no".into()));
            v.push(("run_id", s.run_id.clone()));
            v.push(("tcp_port", s.config.port.to_string()));
            v.push(("server_time_usec", now.as_micros().to_string()));
            v.push(("uptime_in_seconds", uptime.to_string()));
            v.push(("uptime_in_days", (uptime / 86400).to_string()));
            v.push(("hz", s.config.hz.to_string()));
            v.push(("configured_hz", s.config.hz.to_string()));
            v.push(("executable", std::env::current_exe().map(|p| p.display().to_string()).unwrap_or_default()));
            v.push(("config_file", String::new()));
            v.push(("io_threads_active", "0".into()));
        }
        "clients" => {
            v.push(("connected_clients", s.clients.len().to_string()));
            v.push(("cluster_connections", "0".into()));
            v.push(("maxclients", s.config.maxclients.to_string()));
            v.push(("client_recent_max_input_buffer", "0".into()));
            v.push(("client_recent_max_output_buffer", "0".into()));
            v.push(("blocked_clients", s.blocked_clients.to_string()));
            v.push(("tracking_clients", "0".into()));
            v.push(("clients_in_timeout_table", "0".into()));
        }
        "memory" => {
            // No allocator statistics: used_memory is the resident set size.
            let m = MemoryOverhead::measure(ctx);
            let rss = m.total;
            let total = total_system_memory();
            v.push(("used_memory", rss.to_string()));
            v.push(("used_memory_human", human(rss)));
            v.push(("used_memory_rss", rss.to_string()));
            v.push(("used_memory_rss_human", human(rss)));
            v.push(("used_memory_peak", m.peak.to_string()));
            v.push(("used_memory_peak_human", human(m.peak)));
            v.push(("used_memory_peak_perc", format!("{:.2}%", m.peak_percentage())));
            v.push(("used_memory_overhead", m.overhead().to_string()));
            v.push(("used_memory_startup", m.startup.to_string()));
            v.push(("used_memory_dataset", m.dataset().to_string()));
            v.push(("used_memory_dataset_perc", format!("{:.2}%", m.dataset_percentage())));
            v.push(("total_system_memory", total.to_string()));
            v.push(("total_system_memory_human", human(total)));
            v.push(("maxmemory", "0".into()));
            v.push(("maxmemory_human", "0B".into()));
            v.push(("maxmemory_policy", "noeviction".into()));
            v.push(("mem_fragmentation_ratio", "1.00".into()));
            v.push(("mem_fragmentation_bytes", "0".into()));
            v.push(("mem_allocator", s.config.allocator.into()));
        }
        "persistence" => {
            let body = s.info_persistence.trim_end();
            if body.is_empty() {
                let status = if s.write_refusal.is_some() { "err" } else { "ok" };
                v.push(("loading", "0".into()));
                v.push(("async_loading", "0".into()));
                v.push(("aof_enabled", (s.config.appendonly as u8).to_string()));
                v.push(("aof_last_write_status", status.into()));
            } else {
                return info_lines(body);
            }
        }
        "stats" => {
            let st = &s.stats;
            v.push(("total_connections_received", st.total_connections.to_string()));
            v.push(("total_commands_processed", st.total_commands.to_string()));
            v.push(("instantaneous_ops_per_sec", st.ops_per_sec.rate().to_string()));
            v.push(("rejected_connections", s.hub.rejected_connections.to_string()));
            v.push(("total_error_replies", s.hub.errorstats.values().sum::<u64>().to_string()));
            v.push(("expired_keys", st.expired_keys.to_string()));
            v.push(("evicted_keys", "0".into()));
            v.push(("keyspace_hits", st.keyspace_hits.to_string()));
            v.push(("keyspace_misses", st.keyspace_misses.to_string()));
            v.push(("rejected_calls", st.rejected_calls.to_string()));
            return v
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .chain(info_lines(&admin::info_stats_lines(s)))
                .collect();
        }
        "commandstats" => return info_lines(&admin::info_commandstats(s)),
        "errorstats" => return info_lines(&admin::info_errorstats(s)),
        "replication" => {
            v.push(("role", "master".into()));
            v.push(("connected_slaves", "0".into()));
            v.push(("master_failover_state", "no-failover".into()));
            v.push(("master_replid", s.run_id.clone()));
            v.push(("master_replid2", "0".repeat(40)));
            v.push(("master_repl_offset", "0".into()));
            v.push(("second_repl_offset", "-1".into()));
            v.push(("repl_backlog_active", "0".into()));
            v.push(("repl_backlog_size", "1048576".into()));
            v.push(("repl_backlog_first_byte_offset", "0".into()));
            v.push(("repl_backlog_histlen", "0".into()));
        }
        "cpu" => {
            let (user, sys) = cpu_seconds();
            v.push(("used_cpu_sys", format!("{sys:.6}")));
            v.push(("used_cpu_user", format!("{user:.6}")));
            v.push(("used_cpu_sys_children", "0.000000".into()));
            v.push(("used_cpu_user_children", "0.000000".into()));
        }
        "cluster" => v.push(("cluster_enabled", "0".into())),
        "keyspace" => {
            let mut out = Vec::new();
            for (i, db) in ctx.ks.dbs.iter().enumerate() {
                if !db.is_empty() {
                    let avg_ttl = db.avg_ttl(ctx.now_ms);
                    out.push((
                        format!("db{i}"),
                        format!("keys={},expires={},avg_ttl={avg_ttl}", db.len(), db.volatile_len()),
                    ));
                }
            }
            return out;
        }
        _ => {}
    }
    v.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

// ---------------------------------------------------------------------------
// Server commands

/// `TIME`
fn time(_ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    Ok(Frame::Array(vec![Frame::bulk_int(now.as_secs() as i64), Frame::bulk_int(now.subsec_micros() as i64)]))
}

/// `LOLWUT [VERSION version]`
///
/// The version line Redis 7.0 prints for a version it draws nothing for;
/// Redis's drawings (versions 5 and 6) are not reproduced. A `VERSION`
/// that is not an integer is an error, other arguments are ignored, as in
/// Redis.
fn lolwut(_ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    if args.remaining() >= 2 && args.eat("VERSION") {
        args.next_i64()?;
    }
    let text = format!("statebroker ver. {} (Redis ver. {REDIS_COMPAT_VERSION})\n", env!("CARGO_PKG_VERSION"));
    Ok(Frame::Verbatim(Bytes::from(text)))
}

/// `ROLE`: `master`, its replication offset (0: nothing is replicated)
/// and its replicas (none), as health checks read it.
fn role(_ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    Ok(Frame::Array(vec![Frame::bulk_static("master"), Frame::Integer(0), Frame::Array(Vec::new())]))
}

/// `DBSIZE`
fn dbsize(ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    Ok(Frame::Integer(ctx.ks.dbs[ctx.db() as usize].len() as i64))
}

/// `SWAPDB index1 index2`
fn swapdb(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let a = args.next_i64().map_err(|_| Frame::error("ERR invalid first DB index"))?;
    let b = args.next_i64().map_err(|_| Frame::error("ERR invalid second DB index"))?;
    let n = ctx.ks.dbs.len() as i64;
    if !(0..n).contains(&a) || !(0..n).contains(&b) {
        return Err(DB_RANGE);
    }
    if a != b {
        ctx.apply(Effect::SwapDb { a: a as u32, b: b as u32 });
    }
    Ok(OK)
}

/// Parses the optional `ASYNC|SYNC` of `FLUSHDB`/`FLUSHALL` (both flush at once here).
fn flush_mode(args: &mut Args) -> Result<(), Frame> {
    if !args.is_empty() && !args.eat("ASYNC") && !args.eat("SYNC") {
        return Err(SYNTAX);
    }
    args.finish()
}

/// `FLUSHDB [ASYNC|SYNC]`
fn flushdb(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    flush_mode(args)?;
    let db = ctx.db();
    ctx.apply(Effect::FlushDb { db });
    Ok(OK)
}

/// `FLUSHALL [ASYNC|SYNC]`
fn flushall(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    flush_mode(args)?;
    ctx.apply(Effect::FlushAll);
    Ok(OK)
}

/// `SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]`
///
/// Every acknowledged write is already in the log, so `SAVE`/`NOSAVE`
/// change nothing; the server stops at once and, like Redis, the caller
/// gets no reply: its connection is closed.
fn shutdown(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let (mut save, mut nosave, mut other, mut abort) = (false, false, false, false);
    for a in args.rest() {
        let lower = a.to_ascii_lowercase();
        match lower.as_slice() {
            b"save" => save = true,
            b"nosave" => nosave = true,
            b"now" | b"force" => other = true,
            b"abort" => abort = true,
            _ => return Err(SYNTAX),
        }
    }
    if (abort && (save || nosave || other)) || (save && nosave) {
        return Err(SYNTAX);
    }
    if abort {
        return Err(Frame::error("ERR No shutdown in progress."));
    }
    if save && !ctx.server.config.appendonly {
        // Redis does not stop when it cannot save what it was told to.
        tracing::warn!("SHUTDOWN SAVE refused: persistence is disabled (appendonly no), nothing can be saved");
        return Err(Frame::error("ERR Errors trying to SHUTDOWN. Check logs."));
    }
    ctx.server.shutdown_requested = true;
    ctx.session.close = true;
    ctx.session.no_reply = true;
    Ok(OK)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syntax_is_split_at_top_level() {
        assert_eq!(
            syntax_arguments("SET key value [NX|XX] [EX seconds|PX ms]", 1),
            vec!["key", "value", "[NX|XX]", "[EX seconds|PX ms]"]
        );
        assert_eq!(syntax_arguments("CLIENT SETNAME name", 2), vec!["name"]);
        assert!(syntax_arguments("PING", 1).is_empty());
    }

    #[test]
    fn subcommand_tables_are_consistent() {
        for (container, table) in containers() {
            assert!(super::super::lookup(container.as_bytes()).is_some(), "{container}");
            for s in table.iter() {
                assert!(s.name.starts_with(&format!("{container}|")), "{}", s.name);
                assert!(s.summary.contains(" — "), "{}", s.name);
                assert!(s.arity.unsigned_abs() >= 2, "{}", s.name);
            }
        }
    }

    #[test]
    fn human_sizes() {
        assert_eq!(human(10), "10B");
        assert_eq!(human(2048), "2.00K");
        assert_eq!(human(3 * 1024 * 1024), "3.00M");
    }
}
