//! Generic key commands.

use super::{CmdResult, Ctx, flags::*};
use crate::command;
use crate::resp::Frame;
use crate::state::Effect;

/// The generic key command family.
pub static COMMANDS: &[super::Command] =
    &[command!("del", -2, WRITE, 1, -1, 1, "generic", "DEL key [key ...] — delete keys", del)];

/// `DEL key [key ...]`
fn del(ctx: &mut Ctx, args: &mut super::Args) -> CmdResult {
    let mut n = 0;
    let db = ctx.db();
    for key in args.rest() {
        if ctx.lookup(key).is_some() {
            ctx.apply(Effect::Del { db, key: key.clone() });
            n += 1;
        }
    }
    Ok(Frame::Integer(n))
}
