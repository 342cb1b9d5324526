//! The pipeline around every command call, in Redis's order: the
//! authentication gate (after the unknown-command and arity checks),
//! `MULTI` queueing, the RESP2 subscribed-mode gate, then the call itself
//! with its side business: `WATCH` invalidation from the effects applied,
//! keyspace notifications, command and error statistics, the slow log and
//! the `MONITOR` feed.

use bytes::Bytes;
use std::borrow::Cow;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use super::{Ctx, execute, execute_command, flags, lookup};
use crate::broker::pubsub::SlowEntry;
use crate::resp::{Frame, Protocol};

/// The error for a command that would make a transaction's queue hold more
/// than `client-query-buffer-limit`; the transaction then fails at `EXEC`.
/// (Redis bounds a transaction only by `maxmemory-clients`, off by default.)
const TRANSACTION_TOO_LARGE: &str =
    "ERR the transaction's queued commands would exceed client-query-buffer-limit; it will be discarded";

/// Runs one command from a client's batch (or a woken blocked command).
pub fn run(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    ctx.server.hub.current = ctx.session.id;
    let cmd = lookup(&argv[0]);
    let frame = run_inner(ctx, cmd, argv);
    // What `CLIENT LIST` shows as the client's last command, as Redis sets
    // it when it looks the command up: also for a command refused or
    // queued, `exec` after a transaction (not the last command it ran).
    ctx.session.last_cmd = shown_name(cmd, argv);
    if ctx.block.is_some() {
        // The command will run again; it produced nothing yet.
        ctx.server.hub.self_frames.clear();
    }
    ctx.server.hub.current = 0;
    frame
}

/// The name Redis gives `argv`'s command in `CLIENT LIST` (`cmd=`): the
/// subcommand's full name for a container command, `NULL` for an unknown
/// command or subcommand.
fn shown_name(cmd: Option<&'static super::Command>, argv: &[Bytes]) -> &'static str {
    let Some(c) = cmd else { return "NULL" };
    if argv.len() < 2 || super::server::subcommands_of(c.name).is_empty() {
        return c.name;
    }
    match super::server::find_subcommand(argv) {
        Some((_, Some(s))) => s.name,
        _ => "NULL",
    }
}

fn run_inner(ctx: &mut Ctx, cmd: Option<&'static super::Command>, argv: &[Bytes]) -> Frame {
    if let Some(c) = cmd.filter(|c| c.name == "exec" && !c.arity_ok(argv.len())) {
        let reason = super::wrong_arity("exec");
        return exec_rejected(ctx, c, &reason);
    }
    // A woken blocked command was admitted when it first ran: Redis serves
    // it without asking again (the password may have been set meanwhile).
    if let Some(c) = cmd
        && !ctx.woken
        && c.flags & flags::NO_AUTH == 0
        && super::auth::auth_required(ctx.session, ctx.server)
        && c.arity_ok(argv.len())
        && subcommand_rejection(argv).is_none()
    {
        // An unknown command or a wrong number of arguments is reported
        // first (below), as Redis checks those before authentication.
        return auth_rejected(ctx, c);
    }
    if ctx.session.multi.is_some() {
        match cmd {
            Some(c) if matches!(c.name, "exec" | "discard" | "multi" | "watch" | "quit" | "reset") => {
                // Not queued, but rejected all the same: the arity error
                // makes the transaction fail.
                if !c.arity_ok(argv.len())
                    && let Some(m) = ctx.session.multi.as_mut()
                {
                    m.failed = true;
                }
            }
            Some(c) if c.flags & flags::NO_MULTI != 0 && c.arity_ok(argv.len()) => {
                if let Some(m) = ctx.session.multi.as_mut() {
                    m.failed = true;
                }
                return reject(ctx, c, Frame::error("ERR Command not allowed inside a transaction"));
            }
            Some(c) if c.arity_ok(argv.len()) && subcommand_rejection(argv).is_none() => {
                let limit = ctx.server.config.client_query_buffer_limit;
                if let Some(m) = ctx.session.multi.as_mut()
                    && !m.enqueue(argv, limit)
                {
                    m.failed = true;
                    return reject(ctx, c, Frame::error(TRANSACTION_TOO_LARGE));
                }
                return Frame::simple("QUEUED");
            }
            _ => {
                if let Some(m) = ctx.session.multi.as_mut() {
                    m.failed = true;
                }
                if let Some(f) = subcommand_rejection(argv) {
                    ctx.server.stats.rejected_calls += 1;
                    count_error(ctx, &f);
                    return f;
                }
                return call_looked_up(ctx, cmd, argv);
            }
        }
    }
    if ctx.session.proto == Protocol::Resp2
        && ctx.server.hub.is_subscriber(ctx.session.id)
        && let Some(c) = cmd.filter(|c| c.arity_ok(argv.len()))
        && c.flags & flags::SUBSCRIBED_OK == 0
        && !matches!(c.name, "quit" | "reset")
        && subcommand_rejection(argv).is_none()
    {
        // Named as Redis names it: with its subcommand (`client|getname`).
        let name = match subcommand(argv) {
            Some(Ok((full, _))) => full,
            _ => c.name.to_string(),
        };
        let f = Frame::error_owned(format!(
            "ERR Can't execute '{name}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context"
        ));
        return reject(ctx, c, f);
    }
    call_looked_up(ctx, cmd, argv)
}

/// Refuses `cmd` with `error` before it runs: counted as a rejected call
/// and as an error.
fn reject(ctx: &mut Ctx, cmd: &'static super::Command, error: Frame) -> Frame {
    ctx.server.hub.cmdstats.entry(cmd.name).or_default().rejected += 1;
    ctx.server.stats.rejected_calls += 1;
    count_error(ctx, &error);
    error
}

/// Redis answers an `EXEC` it rejects (a wrong number of arguments, no
/// authentication), inside a transaction or not, by discarding the
/// transaction and the watched keys and saying why.
fn exec_rejected(ctx: &mut Ctx, exec: &'static super::Command, reason: &Frame) -> Frame {
    ctx.session.multi = None;
    ctx.server.hub.unwatch(ctx.session.id);
    ctx.server.hub.cmdstats.entry(exec.name).or_default().rejected += 1;
    let reason = match reason {
        Frame::Error(text) => text.strip_prefix("ERR ").unwrap_or(text),
        _ => "",
    };
    let f = Frame::error_owned(format!("EXECABORT Transaction discarded because of: {reason}"));
    count_error(ctx, &f);
    f
}

/// Refuses `cmd` from a connection that must authenticate first: `NOAUTH`,
/// counted as a rejected call; inside `MULTI` the transaction fails.
fn auth_rejected(ctx: &mut Ctx, cmd: &'static super::Command) -> Frame {
    if cmd.name == "exec" {
        return exec_rejected(ctx, cmd, &super::auth::NOAUTH);
    }
    if let Some(m) = ctx.session.multi.as_mut() {
        m.failed = true;
    }
    reject(ctx, cmd, super::auth::NOAUTH)
}

/// For a container command with a subcommand argument: the subcommand's
/// full name (`object|freq`) and Redis arity, or the error for an unknown
/// one. `None` for other commands.
pub fn subcommand(argv: &[Bytes]) -> Option<Result<(String, i32), Frame>> {
    let (container, found) = super::server::find_subcommand(argv)?;
    Some(
        found
            .map(|s| (s.name.to_string(), s.arity))
            .ok_or_else(|| super::server::unknown_subcommand(&argv[1], container)),
    )
}

/// The error Redis gives before running `argv` when it names an unknown
/// subcommand of a container command, or has the wrong number of arguments
/// for it. Redis looks subcommands up before running (or queueing) a
/// command, so either is a rejection that makes `EXEC` fail.
pub fn subcommand_rejection(argv: &[Bytes]) -> Option<Frame> {
    let (full_name, arity) = match subcommand(argv)? {
        Ok(found) => found,
        Err(unknown) => return Some(unknown),
    };
    if !super::arity_fits(arity, argv.len()) {
        return Some(super::wrong_arity(&full_name));
    }
    None
}

/// Calls one command (also each command `EXEC` runs) and does the
/// bookkeeping around it.
pub fn call(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    call_looked_up(ctx, lookup(&argv[0]), argv)
}

/// [`call`] with the command already looked up.
fn call_looked_up(ctx: &mut Ctx, cmd: Option<&'static super::Command>, argv: &[Bytes]) -> Frame {
    let Some(cmd) = cmd else {
        let f = execute(ctx, argv);
        count_error(ctx, &f);
        return f;
    };
    if !cmd.arity_ok(argv.len()) {
        let f = execute_command(ctx, cmd, argv);
        ctx.server.hub.cmdstats.entry(cmd.name).or_default().rejected += 1;
        count_error(ctx, &f);
        return f;
    }
    // A flush touches only the watched keys that existed before it.
    let existed = (ctx.server.hub.has_watches() && matches!(cmd.name, "flushdb" | "flushall"))
        .then(|| ctx.server.hub.existing_watched(ctx.ks));
    let started = ctx.server.call_clock.unwrap_or_else(Instant::now);
    let effects_before = ctx.effects.len();
    // `EXEC` calls its commands through here: each marks its own secrets.
    let outer_redacted = std::mem::take(&mut ctx.redacted);
    let frame = execute_command(ctx, cmd, argv);
    let redacted = std::mem::replace(&mut ctx.redacted, outer_redacted);
    let ended = Instant::now();
    ctx.server.call_clock = Some(ended);
    let micros = ended.saturating_duration_since(started).as_micros() as u64;
    if ctx.effects.len() > effects_before {
        ctx.server.hub.touch_after_flush(&ctx.effects[effects_before..], ctx.ks, existed.as_ref());
    }
    if !ctx.events.is_empty() {
        let events: Vec<_> = ctx.events.drain(..).collect();
        ctx.server.hub.notify_events(events);
    }
    if ctx.block.is_some() {
        return frame;
    }
    // A subcommand counts under its own name (`config|get`), as in Redis.
    let ran = ctx.session.last_cmd;
    let name = if ran.strip_prefix(cmd.name).is_some_and(|rest| rest.starts_with('|')) { ran } else { cmd.name };
    let st = ctx.server.hub.cmdstats.entry(name).or_default();
    st.record(micros);
    if frame.is_error() {
        st.failed += 1;
        count_error(ctx, &frame);
    }
    let slower_than = ctx.server.config.slowlog_log_slower_than;
    if slower_than >= 0 && micros >= slower_than as u64 && cmd.name != "exec" {
        slowlog_push(ctx, &shown_args(argv, &redacted), micros);
    }
    if ctx.server.hub.has_monitors() && cmd.flags & flags::ADMIN == 0 && !is_admin_subcommand(argv) {
        let line = monitor_line(ctx, &shown_args(argv, &redacted));
        ctx.server.hub.feed_monitors(ctx.session.id, line);
    }
    frame
}

/// Whether `argv` names a subcommand Redis marks as admin (not shown to
/// monitors), by the subcommand tables' flags.
fn is_admin_subcommand(argv: &[Bytes]) -> bool {
    super::server::find_subcommand(argv).and_then(|(_, found)| found).is_some_and(|s| s.flags & flags::ADMIN != 0)
}

fn count_error(ctx: &mut Ctx, f: &Frame) {
    count_error_in(&mut ctx.server.hub.errorstats, f);
}

/// Counts the error `f` by its code in `INFO errorstats` (at most 128
/// codes, as Redis keeps).
pub fn count_error_in(stats: &mut std::collections::BTreeMap<String, u64>, f: &Frame) {
    if let Frame::Error(text) = f {
        let code = text.split(' ').next().unwrap_or("ERR");
        if stats.len() < 128 || stats.contains_key(code) {
            *stats.entry(code.to_string()).or_default() += 1;
        }
    }
}

/// The arguments as logs show them: those at the `redacted` positions
/// (marked by the command, see [`Ctx::redacted`]) as `(redacted)`.
fn shown_args<'a>(argv: &'a [Bytes], redacted: &[usize]) -> Cow<'a, [Bytes]> {
    if redacted.is_empty() {
        return Cow::Borrowed(argv);
    }
    let mut shown = argv.to_vec();
    for &i in redacted {
        if let Some(a) = shown.get_mut(i) {
            *a = Bytes::from_static(b"(redacted)");
        }
    }
    Cow::Owned(shown)
}

fn slowlog_push(ctx: &mut Ctx, shown: &[Bytes], micros: u64) {
    const MAX_ARGC: usize = 32;
    const MAX_STRING: usize = 128;
    let mut args = Vec::with_capacity(shown.len().min(MAX_ARGC));
    for (i, a) in shown.iter().enumerate() {
        if i == MAX_ARGC - 1 && shown.len() > MAX_ARGC {
            args.push(Bytes::from(format!("... ({} more arguments)", shown.len() - MAX_ARGC + 1)));
            break;
        }
        if a.len() > MAX_STRING {
            let mut v = a[..MAX_STRING].to_vec();
            v.extend_from_slice(format!("... ({} more bytes)", a.len() - MAX_STRING).as_bytes());
            args.push(Bytes::from(v));
        } else {
            args.push(a.clone());
        }
    }
    let id = ctx.session.id;
    let peer = ctx.server.clients.get(&id).map(|c| c.addr.clone()).unwrap_or_default();
    let hub = &mut ctx.server.hub;
    let entry = SlowEntry {
        id: hub.slowlog_next_id,
        time: (ctx.now_ms / 1000) as i64,
        micros,
        argv: args,
        peer,
        name: ctx.session.name.clone().unwrap_or_default(),
    };
    hub.slowlog_next_id += 1;
    hub.slowlog.push_front(entry);
    hub.slowlog.truncate(ctx.server.config.slowlog_max_len as usize);
}

/// One `MONITOR` line, as Redis formats it, of the arguments as shown
/// (secrets redacted): `1339518083.107412 [0 unix:/path] "SET" "k" "v"`.
fn monitor_line(ctx: &Ctx, argv: &[Bytes]) -> String {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    let id = ctx.session.id;
    let unix = ctx.server.config.unixsocket.display().to_string();
    let origin = match ctx.server.clients.get(&id) {
        Some(c) if c.addr.strip_suffix(":0") == Some(unix.as_str()) => format!("unix:{unix}"),
        Some(c) => c.addr.clone(),
        None => String::new(),
    };
    let mut line = format!("{}.{:06} [{} {}]", now.as_secs(), now.subsec_micros(), ctx.session.db, origin);
    for a in argv {
        line.push(' ');
        line.push_str(&repr(a));
    }
    line
}

/// Quotes bytes as Redis's `sdscatrepr` does.
pub fn repr(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len() + 2);
    s.push('"');
    for &c in b {
        match c {
            b'\\' => s.push_str("\\\\"),
            b'"' => s.push_str("\\\""),
            b'\n' => s.push_str("\\n"),
            b'\r' => s.push_str("\\r"),
            b'\t' => s.push_str("\\t"),
            7 => s.push_str("\\a"),
            8 => s.push_str("\\b"),
            c if c.is_ascii_graphic() || c == b' ' => s.push(c as char),
            c => s.push_str(&format!("\\x{c:02x}")),
        }
    }
    s.push('"');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repr_escapes_like_redis() {
        assert_eq!(repr(b"a\"b\nc"), r#""a\"b\nc""#);
        assert_eq!(repr(b"\x01\\ x"), r#""\x01\\ x""#);
    }

    use crate::broker::Push;
    use crate::broker::pubsub::{ClientOutput, Kind};
    use crate::cmd::ServerState;
    use crate::cmd::testkit::Harness;
    use crate::state::Value;
    use tokio::sync::mpsc;

    fn next_data(rx: &mut mpsc::UnboundedReceiver<Push>) -> String {
        match rx.try_recv() {
            Ok(Push::Data(d)) => String::from_utf8(d.to_vec()).unwrap(),
            other => panic!("expected data, got {other:?}"),
        }
    }

    /// Lazy expiry raises `expired` keyspace notifications through the call
    /// pipeline, and an expired watched key makes `EXEC` fail.
    #[test]
    fn lazy_expiry_notifies_and_breaks_watch() {
        let mut h = Harness::at(500);
        let (tx, mut rx) = mpsc::unbounded_channel();
        h.server.hub.connect(7, tx, ClientOutput::new());
        h.server.hub.subscribe(7, Kind::Pattern, &Bytes::from("__key*__:*"));
        let (tx2, _rx2) = mpsc::unbounded_channel();
        h.server.hub.connect(1, tx2, ClientOutput::new());
        h.server.hub.notify = crate::broker::pubsub::notify_bits::parse("KEx").unwrap();
        h.server.sync_notifications();
        h.ks.dbs[1].insert("k".as_bytes(), Value::Str(Bytes::from("v").into()), Some(1_000));
        h.session.id = 1;
        h.session.db = 1;
        assert_eq!(h.dispatch(&["WATCH", "k"]), crate::resp::frame::OK);
        h.now_ms = 2_000;
        assert_eq!(h.dispatch(&["MULTI"]), crate::resp::frame::OK);
        assert_eq!(h.dispatch(&["GET", "k"]), Frame::simple("QUEUED"));
        assert_eq!(h.dispatch(&["EXEC"]), Frame::NullArray);
        h.server.hub.send_pushes();
        assert!(rx.try_recv().is_err(), "EXEC's check must not delete the key");
        assert_eq!(h.dispatch(&["GET", "k"]), Frame::Null);
        h.server.hub.send_pushes();
        assert_eq!(
            next_data(&mut rx),
            "*4\r\n$8\r\npmessage\r\n$10\r\n__key*__:*\r\n$16\r\n__keyspace@1__:k\r\n$7\r\nexpired\r\n"
        );
        assert_eq!(
            next_data(&mut rx),
            "*4\r\n$8\r\npmessage\r\n$10\r\n__key*__:*\r\n$22\r\n__keyevent@1__:expired\r\n$1\r\nk\r\n"
        );
        assert!(rx.try_recv().is_err());
        assert_eq!(h.server.hub.cmdstats.get("get").map(|s| s.calls), Some(1));
    }

    /// A transaction's queue is bounded like a client's input: the command
    /// that would overflow it is refused and the transaction fails.
    #[test]
    fn transaction_queue_is_bounded() {
        let mut h = Harness::new();
        h.server.config.client_query_buffer_limit = 200;
        assert_eq!(h.dispatch(&["MULTI"]), crate::resp::frame::OK);
        // SET k v: 3 arguments of 3 + 40 bytes each at most.
        assert_eq!(h.dispatch(&["SET", "k", "v"]), Frame::simple("QUEUED"));
        let refused = h.dispatch(&["SET", "k2", &"x".repeat(100)]);
        assert_eq!(refused, Frame::error(TRANSACTION_TOO_LARGE));
        assert_eq!(h.session.multi.as_ref().map(|m| m.queue.len()), Some(1));
        assert!(h.dispatch(&["EXEC"]).is_error());
        assert_eq!(h.dispatch(&["GET", "k"]), Frame::Null);
        assert_eq!(h.server.stats.rejected_calls, 1);
    }

    /// `n` raises `new` whenever a key is added (before the command's own
    /// event; a `RENAME` destination always, as Redis deletes it first), `m`
    /// raises `keymiss` for a read lookup of a missing key, not for a write
    /// or `OBJECT`; neither is part of `A`.
    #[test]
    fn new_key_and_key_miss_events() {
        let mut h = Harness::new();
        let (tx, mut rx) = mpsc::unbounded_channel();
        h.server.hub.connect(7, tx, ClientOutput::new());
        h.server.hub.subscribe(7, Kind::Pattern, &Bytes::from("__keyevent*"));
        let mut events = |h: &mut Harness, args: &[&str]| {
            h.dispatch(args);
            h.server.hub.send_pushes();
            let mut got = Vec::new();
            while let Ok(Push::Data(d)) = rx.try_recv() {
                let text = String::from_utf8_lossy(&d).to_string();
                let parts: Vec<&str> = text.split("\r\n").collect();
                got.push(format!("{} {}", parts[6].trim_start_matches("__keyevent@0__:"), parts[8]));
            }
            got
        };
        for (flags, expect_new, expect_miss) in [("KEnm", true, true), ("KEA", false, false)] {
            h.server.hub.notify = crate::broker::pubsub::notify_bits::parse(flags).unwrap();
            h.server.sync_notifications();
            h.dispatch(&["FLUSHALL"]);
            let set = events(&mut h, &["SET", "k", "v"]);
            assert_eq!(set.contains(&"new k".to_string()), expect_new, "{flags}: {set:?}");
            assert!(events(&mut h, &["SET", "k", "v2"]).iter().all(|e| !e.starts_with("new")));
            let miss = events(&mut h, &["MGET", "a", "k"]);
            assert_eq!(miss == ["keymiss a"], expect_miss, "{flags}: {miss:?}");
            assert!(events(&mut h, &["OBJECT", "ENCODING", "nope"]).is_empty());
            assert!(events(&mut h, &["LPOP", "nope"]).is_empty());
        }
        h.server.hub.notify = crate::broker::pubsub::notify_bits::parse("KEn$g").unwrap();
        h.server.sync_notifications();
        assert_eq!(events(&mut h, &["SET", "d", "1"]), ["new d", "set d"]);
        assert_eq!(events(&mut h, &["RENAME", "k", "d"]), ["new d", "rename_from k", "rename_to d"]);
        assert_eq!(events(&mut h, &["APPEND", "a", "x"]), ["new a", "append a"]);
    }

    /// Classes not enabled are not delivered; `K`/`E` pick the channels.
    #[test]
    fn notification_classes_filter() {
        let mut server = ServerState::new(crate::config::Config::default());
        let (tx, mut rx) = mpsc::unbounded_channel();
        server.hub.connect(7, tx, ClientOutput::new());
        server.hub.subscribe(7, Kind::Pattern, &Bytes::from("*"));
        server.hub.notify = crate::broker::pubsub::notify_bits::parse("E$").unwrap();
        let ev = |class, event| crate::cmd::KeyEvent { class, event, db: 0, key: Bytes::from("a") };
        server.hub.notify_events(vec![ev('g', "del"), ev('$', "set")]);
        server.hub.send_pushes();
        assert!(next_data(&mut rx).contains("__keyevent@0__:set"));
        assert!(rx.try_recv().is_err());
        server.hub.notify = 0;
        server.sync_notifications();
        assert!(!server.notifications);
    }

    /// A command that is not queued (`MULTI`, `WATCH`, `DISCARD`) with the
    /// wrong number of arguments fails the transaction; an `EXEC` with the
    /// wrong number of arguments discards it (and the watched keys) with
    /// `EXECABORT`, in a transaction or not, as Redis does.
    #[test]
    fn rejected_transaction_commands() {
        use crate::resp::frame::OK;
        let mut h = Harness::new();
        let (tx, _rx) = mpsc::unbounded_channel();
        h.server.hub.connect(1, tx, ClientOutput::new());
        h.session.id = 1;
        let queued = Frame::simple("QUEUED");
        let aborted = Frame::error("EXECABORT Transaction discarded because of previous errors.");
        for bad in [&["MULTI", "x"][..], &["WATCH"], &["DISCARD", "x"]] {
            assert_eq!(h.dispatch(&["MULTI"]), OK);
            assert!(h.dispatch(bad).is_error());
            assert_eq!(h.dispatch(&["SET", "k", "v"]), queued);
            assert_eq!(h.dispatch(&["EXEC"]), aborted, "after {bad:?}");
        }
        // A nested MULTI or a WATCH inside MULTI is refused without failing it.
        assert_eq!(h.dispatch(&["MULTI"]), OK);
        assert!(h.dispatch(&["MULTI"]).is_error());
        assert!(h.dispatch(&["WATCH", "k"]).is_error());
        assert_eq!(h.dispatch(&["EXEC"]), Frame::Array(Vec::new()));
        // SAVE and SHUTDOWN are refused inside MULTI, failing it (a queued
        // SHUTDOWN stopped the server at EXEC); UNWATCH is queued.
        for refused in [&["SHUTDOWN", "NOSAVE"][..], &["SAVE"]] {
            assert_eq!(h.dispatch(&["MULTI"]), OK);
            assert_eq!(h.dispatch(&["UNWATCH"]), queued);
            assert_eq!(h.dispatch(refused), Frame::error("ERR Command not allowed inside a transaction"));
            assert_eq!(h.dispatch(&["EXEC"]), aborted, "after {refused:?}");
        }
        assert!(!h.server.shutdown_requested);

        let rejected =
            Frame::error("EXECABORT Transaction discarded because of: wrong number of arguments for 'exec' command");
        assert_eq!(h.dispatch(&["EXEC", "x"]), rejected);
        assert_eq!(h.dispatch(&["MULTI"]), OK);
        assert_eq!(h.dispatch(&["SET", "k", "v"]), queued);
        assert_eq!(h.dispatch(&["EXEC", "x"]), rejected);
        assert_eq!(h.dispatch(&["EXEC"]), Frame::error("ERR EXEC without MULTI"));
        assert_eq!(h.dispatch(&["GET", "k"]), Frame::Null);
        // The rejected EXEC forgot the watched key: this change does not abort.
        assert_eq!(h.dispatch(&["WATCH", "k"]), OK);
        assert_eq!(h.dispatch(&["EXEC", "x"]), rejected);
        assert_eq!(h.dispatch(&["SET", "k", "v"]), OK);
        assert_eq!(h.dispatch(&["MULTI"]), OK);
        assert_eq!(h.dispatch(&["GET", "k"]), queued);
        assert_eq!(h.dispatch(&["EXEC"]), Frame::Array(vec![Frame::Bulk(Bytes::from("v"))]));
        assert_eq!(h.server.hub.errorstats.get("EXECABORT"), Some(&8));
    }

    /// Found by the differential test: the subcommands of every container
    /// command are checked while queuing, as Redis does.
    #[test]
    fn container_subcommands_are_checked_while_queuing() {
        use crate::resp::frame::OK;
        let mut h = Harness::new();
        let cases: &[(&[&str], &str)] = &[
            (&["OBJECT", "FREQ"], "ERR wrong number of arguments for 'object|freq' command"),
            (&["OBJECT", "", "k"], "ERR unknown subcommand ''. Try OBJECT HELP."),
            (&["CLIENT", "GETNAME", "x"], "ERR wrong number of arguments for 'client|getname' command"),
            (&["CONFIG", "NOPE"], "ERR unknown subcommand 'NOPE'. Try CONFIG HELP."),
            (&["COMMAND", "COUNT", "x"], "ERR wrong number of arguments for 'command|count' command"),
        ];
        for (argv, error) in cases {
            assert_eq!(h.dispatch(&["MULTI"]), OK);
            assert_eq!(h.dispatch(argv), Frame::error_owned(error.to_string()), "{argv:?}");
            assert!(matches!(h.dispatch(&["EXEC"]), Frame::Error(e) if e.starts_with("EXECABORT")));
        }
        assert_eq!(h.dispatch(&["MULTI"]), OK);
        assert_eq!(h.dispatch(&["OBJECT", "FREQ", "k"]), Frame::simple("QUEUED"));
        assert_eq!(h.dispatch(&["CLIENT", "GETNAME"]), Frame::simple("QUEUED"));
        assert_eq!(h.dispatch(&["EXEC"]), Frame::Array(vec![Frame::Null, Frame::Null]));
    }

    /// The authentication gate: after the unknown-command, arity and
    /// subcommand checks, before `MULTI` queueing; every command but the
    /// four flagged `no_auth` is refused.
    #[test]
    fn authentication_gate() {
        use crate::cmd::auth::{self, NOAUTH};
        use crate::resp::frame::OK;
        let mut h = Harness::new();
        let (tx, _rx) = mpsc::unbounded_channel();
        h.server.hub.connect(1, tx, ClientOutput::new());
        h.session.id = 1;
        auth::set_password(&mut h.server, Bytes::from_static(b"pw"));
        let mut open = Vec::new();
        for c in crate::cmd::families().iter().flat_map(|f| f.iter()) {
            if c.flags & flags::NO_AUTH != 0 {
                open.push(c.name);
                continue;
            }
            let argc = c.arity.unsigned_abs() as usize;
            let mut argv = vec![c.name];
            argv.extend(std::iter::repeat_n("help", argc.saturating_sub(1)));
            let reply = h.dispatch(&argv);
            if c.name == "exec" {
                let abort = "EXECABORT Transaction discarded because of: NOAUTH Authentication required.";
                assert_eq!(reply, Frame::error(abort));
            } else {
                assert_eq!(reply, NOAUTH, "{argv:?}");
            }
        }
        open.sort();
        assert_eq!(open, ["auth", "hello", "quit", "reset"]);
        assert!(h.effects.is_empty());
        assert_eq!(h.dispatch(&["GET"]), crate::cmd::wrong_arity("get"));
        assert!(matches!(h.dispatch(&["NOPE"]), Frame::Error(e) if e.starts_with("ERR unknown command 'NOPE'")));
        assert_eq!(
            h.dispatch(&["OBJECT", "NOPE", "k"]),
            Frame::error("ERR unknown subcommand 'NOPE'. Try OBJECT HELP.")
        );
        assert_eq!(h.dispatch(&["OBJECT", "FREQ"]), crate::cmd::wrong_arity("object|freq"));
        assert_eq!(h.server.hub.cmdstats.get("get").map(|s| s.rejected), Some(2));

        // Inside MULTI (the password set after it began), the refusal fails
        // the transaction; EXEC then aborts it with the reason.
        h.session.authenticated = true;
        assert_eq!(h.dispatch(&["MULTI"]), OK);
        h.session.authenticated = false;
        assert_eq!(h.dispatch(&["SET", "k", "v"]), NOAUTH);
        assert_eq!(h.dispatch(&["AUTH", "pw"]), Frame::simple("QUEUED"));
        assert!(h.session.multi.as_ref().is_some_and(|m| m.failed && m.queue.len() == 1));
        assert!(h.dispatch(&["EXEC"]).is_error());
        assert!(h.session.multi.is_none());
        assert!(!h.session.authenticated, "the queued AUTH never ran");
        assert_eq!(h.dispatch(&["AUTH", "pw"]), OK);
        assert_eq!(h.dispatch(&["SET", "k", "v"]), OK);

        // A blocked command woken after the password was set is served.
        h.session.authenticated = false;
        h.woken = true;
        assert_eq!(h.dispatch(&["GET", "k"]), Frame::Bulk(Bytes::from("v")));
    }

    /// Commands mark their secrets; the slow log shows them redacted.
    #[test]
    fn slowlog_shows_what_commands_redacted() {
        let mut h = Harness::new();
        h.server.config.slowlog_log_slower_than = 0;
        crate::cmd::auth::set_password(&mut h.server, Bytes::from_static(b"pw"));
        h.dispatch(&["AUTH", "nope"]);
        h.dispatch(&["HELLO", "3", "AUTH", "default", "pw", "SETNAME", "n"]);
        h.dispatch(&["MULTI"]);
        h.dispatch(&["AUTH", "default", "pw"]);
        h.dispatch(&["CONFIG", "SET", "requirepass", "pw2"]);
        h.dispatch(&["EXEC"]);
        h.dispatch(&["AUTH", "a", "b", "c"]);
        let shown: Vec<Vec<Bytes>> = h.server.hub.slowlog.iter().rev().map(|e| e.argv.clone()).collect();
        let want: &[&[&str]] = &[
            &["AUTH", "(redacted)"],
            &["HELLO", "3", "AUTH", "(redacted)", "(redacted)", "SETNAME", "n"],
            &["MULTI"],
            &["AUTH", "(redacted)", "(redacted)"],
            &["CONFIG", "SET", "requirepass", "(redacted)"],
            &["AUTH", "a", "b", "c"],
        ];
        assert_eq!(shown, want);
        assert_eq!(h.server.config.requirepass.0, b"pw2");
    }

    #[test]
    fn secrets_are_redacted() {
        let argv: Vec<Bytes> = ["HELLO", "3", "AUTH", "u", "p"].iter().map(|s| Bytes::from(*s)).collect();
        let shown = shown_args(&argv, &[3, 4, 9]);
        assert_eq!(*shown, ["HELLO", "3", "AUTH", "(redacted)", "(redacted)"]);
        assert!(matches!(shown_args(&argv, &[]), Cow::Borrowed(_)));
    }
}
