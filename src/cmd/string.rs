//! String commands.

use bytes::Bytes;

use super::{CmdResult, Ctx, flags::*};
use crate::command;
use crate::resp::Frame;
use crate::resp::frame::OK;
use crate::state::{Effect, ExpireChange, Value};

/// The string command family.
pub static COMMANDS: &[super::Command] = &[
    command!("get", 2, READONLY | FAST, 1, 1, 1, "string", "GET key — the value of a key", get),
    command!(
        "set",
        -3,
        WRITE | DENYOOM,
        1,
        1,
        1,
        "string",
        "SET key value [NX|XX] [GET] [EX s|PX ms|EXAT t|PXAT t|KEEPTTL] — set a string",
        set
    ),
];

/// `GET key`
fn get(ctx: &mut Ctx, args: &mut super::Args) -> CmdResult {
    let key = args.next_bytes()?;
    Ok(Frame::bulk_or_null(ctx.get_str(key)?))
}

/// `SET key value [NX|XX] [GET] [EX seconds|PX ms|EXAT unix-s|PXAT unix-ms|KEEPTTL]`
fn set(ctx: &mut Ctx, args: &mut super::Args) -> CmdResult {
    let key = args.next_bytes()?.clone();
    let value = args.next_bytes()?.clone();
    let db = ctx.db();
    ctx.apply(Effect::Put { db, key, value: Value::Str(value), expire: ExpireChange::Clear });
    Ok(OK)
}

#[allow(dead_code)]
fn _unused(_: Bytes) {}
