//! Persistence commands: snapshots on demand and the time of the last one.

use super::{CmdResult, Ctx, flags::*};
use crate::command;
use crate::resp::Frame;
use crate::resp::frame::OK;

/// The persistence command family.
pub static COMMANDS: &[super::Command] = &[
    command!(
        "save",
        1,
        ADMIN | NO_MULTI,
        0,
        0,
        0,
        "server",
        "SAVE — take a snapshot now, replying once it is on disk",
        save
    ),
    command!("bgsave", -1, ADMIN, 0, 0, 0, "server", "BGSAVE [SCHEDULE] — take a snapshot in the background", bgsave),
    command!(
        "bgrewriteaof",
        1,
        ADMIN,
        0,
        0,
        0,
        "server",
        "BGREWRITEAOF — compact the log (takes a snapshot in the background)",
        bgrewriteaof
    ),
    command!(
        "lastsave",
        1,
        LOADING | STALE | FAST,
        0,
        0,
        0,
        "server",
        "LASTSAVE — Unix time of the last successful snapshot",
        lastsave
    ),
];

const IN_PROGRESS: Frame = Frame::error("ERR Background save already in progress");
const DISABLED: Frame = Frame::error("ERR persistence is disabled (appendonly no)");

/// Whether a snapshot can be asked for: not with persistence off, nor once
/// the log has failed (the snapshot would fail too, after an `OK`).
fn can_snapshot(ctx: &Ctx) -> Result<(), Frame> {
    if !ctx.server.config.appendonly {
        return Err(DISABLED);
    }
    match &ctx.server.write_refusal {
        Some(text) => Err(Frame::error_owned(text.clone())),
        None => Ok(()),
    }
}

/// `SAVE`
fn save(ctx: &mut Ctx, _args: &mut super::Args) -> CmdResult {
    can_snapshot(ctx)?;
    if ctx.server.snapshot_in_progress {
        return Err(IN_PROGRESS);
    }
    ctx.server.save_requested = true;
    Ok(OK)
}

/// `BGSAVE [SCHEDULE]`
fn bgsave(ctx: &mut Ctx, args: &mut super::Args) -> CmdResult {
    let schedule = match args.remaining() {
        0 => false,
        1 if args.next_bytes()?.eq_ignore_ascii_case(b"schedule") => true,
        _ => return Err(super::SYNTAX),
    };
    can_snapshot(ctx)?;
    if ctx.server.snapshot_in_progress {
        if schedule {
            ctx.server.bgsave_requested = true;
            return Ok(Frame::simple("Background saving scheduled"));
        }
        return Err(IN_PROGRESS);
    }
    ctx.server.bgsave_requested = true;
    Ok(Frame::simple("Background saving started"))
}

/// `BGREWRITEAOF`
fn bgrewriteaof(ctx: &mut Ctx, _args: &mut super::Args) -> CmdResult {
    can_snapshot(ctx)?;
    if ctx.server.snapshot_in_progress {
        return Err(Frame::error("ERR Background append only file rewriting already in progress"));
    }
    ctx.server.bgsave_requested = true;
    Ok(Frame::simple("Background append only file rewriting started"))
}

/// `LASTSAVE`
fn lastsave(ctx: &mut Ctx, _args: &mut super::Args) -> CmdResult {
    Ok(Frame::Integer(ctx.server.last_save as i64))
}
