//! Transactions: `MULTI`, `EXEC`, `DISCARD`, `WATCH`, `UNWATCH`.
//!
//! Commands queue in the session (see [`super::dispatch`]); `EXEC` runs
//! them in the broker in one go, so nothing interleaves and their effects
//! reach persistence in the same commit group. Watched keys live in the
//! broker's hub and are invalidated from the effects anyone applies.

use bytes::Bytes;

use super::{Args, CmdResult, Ctx, dispatch, flags::*};
use crate::command;
use crate::resp::Frame;
use crate::resp::frame::OK;

/// An open transaction.
#[derive(Debug, Clone, Default)]
pub struct Multi {
    /// The queued commands, each an argument vector.
    pub queue: Vec<Vec<Bytes>>,
    /// A command was rejected while queuing: `EXEC` fails with `EXECABORT`.
    pub failed: bool,
    /// What the queue holds: its arguments' bytes, each counted with the
    /// decoder's per-argument overhead ([`crate::resp::decode::ARG_OVERHEAD`]).
    pub bytes: usize,
}

impl Multi {
    /// Queues `argv` unless the queue would then hold more than `limit`
    /// bytes (`client-query-buffer-limit`): the bound on what one client
    /// can make the server hold, for its transaction as for its unread
    /// input. Returns whether it was queued.
    pub fn enqueue(&mut self, argv: &[Bytes], limit: usize) -> bool {
        let size: usize = argv.iter().map(|a| a.len() + crate::resp::decode::ARG_OVERHEAD).sum();
        if self.bytes.saturating_add(size) > limit {
            return false;
        }
        self.bytes += size;
        self.queue.push(argv.to_vec());
        true
    }
}

/// The transaction command family.
pub static COMMANDS: &[super::Command] = &[
    command!("multi", 1, FAST | LOADING | STALE, 0, 0, 0, "transactions", "MULTI — start a transaction", multi),
    command!("exec", 1, LOADING | STALE, 0, 0, 0, "transactions", "EXEC — run the queued commands atomically", exec),
    command!(
        "discard",
        1,
        FAST | LOADING | STALE,
        0,
        0,
        0,
        "transactions",
        "DISCARD — drop the queued commands",
        discard
    ),
    command!(
        "watch",
        -2,
        FAST | LOADING | STALE,
        1,
        -1,
        1,
        "transactions",
        "WATCH key [key ...] — make the next EXEC fail if a key changes",
        watch
    ),
    command!(
        "unwatch",
        1,
        FAST | LOADING | STALE,
        0,
        0,
        0,
        "transactions",
        "UNWATCH — forget all watched keys",
        unwatch
    ),
];

/// `MULTI`
fn multi(ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    if ctx.session.multi.is_some() {
        return Err(Frame::error("ERR MULTI calls can not be nested"));
    }
    ctx.session.multi = Some(Multi::default());
    Ok(OK)
}

/// `EXEC`
fn exec(ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    let Some(multi) = ctx.session.multi.take() else {
        return Err(Frame::error("ERR EXEC without MULTI"));
    };
    let dirty = ctx.server.hub.exec_check(ctx.session.id, ctx.ks, ctx.now_ms);
    if multi.failed {
        return Err(Frame::error("EXECABORT Transaction discarded because of previous errors."));
    }
    if dirty {
        return Ok(Frame::NullArray);
    }
    let was_in_exec = std::mem::replace(&mut ctx.in_exec, true);
    let mut replies = Vec::with_capacity(multi.queue.len());
    for argv in &multi.queue {
        replies.push(dispatch::call(ctx, argv));
        ctx.block = None;
    }
    ctx.in_exec = was_in_exec;
    Ok(Frame::Array(replies))
}

/// `DISCARD`
fn discard(ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    if ctx.session.multi.take().is_none() {
        return Err(Frame::error("ERR DISCARD without MULTI"));
    }
    ctx.server.hub.unwatch(ctx.session.id);
    Ok(OK)
}

/// `WATCH key [key ...]`
fn watch(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    if ctx.session.multi.is_some() {
        return Err(Frame::error("ERR WATCH inside MULTI is not allowed"));
    }
    let db = ctx.db();
    let now = ctx.now_ms;
    for key in args.rest() {
        let expired = ctx.ks.dbs[db as usize].get(key).is_some_and(|e| e.expired(now));
        ctx.server.hub.watch(ctx.session.id, db, key, expired);
    }
    Ok(OK)
}

/// `UNWATCH`
fn unwatch(ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    ctx.server.hub.unwatch(ctx.session.id);
    Ok(OK)
}
