//! Connection and server commands.

use super::{CmdResult, Ctx, flags::*};
use crate::command;
use crate::resp::Frame;

/// The connection and server command family.
pub static COMMANDS: &[super::Command] =
    &[command!("ping", -1, FAST | SUBSCRIBED_OK, 0, 0, 0, "connection", "PING [message] — PONG, or the message", ping)];

/// `PING [message]`
fn ping(_ctx: &mut Ctx, args: &mut super::Args) -> CmdResult {
    match args.remaining() {
        0 => Ok(Frame::simple("PONG")),
        1 => Ok(Frame::Bulk(args.next_bytes()?.clone())),
        _ => Err(super::wrong_arity("ping")),
    }
}
