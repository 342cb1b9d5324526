//! Publish/subscribe commands. The registry and delivery live in
//! [`crate::broker::pubsub::Hub`]; confirmations after the first of a
//! multi-channel (un)subscribe go out through `Hub::self_frames`, so every
//! frame is written in order with the client's other replies.

use bytes::Bytes;

use super::{Args, CmdResult, Ctx, flags::*};
use crate::broker::pubsub::Kind;
use crate::command;
use crate::resp::Frame;

/// The pub/sub command family.
pub static COMMANDS: &[super::Command] = &[
    command!(
        "subscribe",
        -2,
        PUBSUB | LOADING | STALE | SUBSCRIBED_OK,
        0,
        0,
        0,
        "pubsub",
        "SUBSCRIBE channel [channel ...] — listen for messages published to channels",
        subscribe
    ),
    command!(
        "unsubscribe",
        -1,
        PUBSUB | LOADING | STALE | SUBSCRIBED_OK,
        0,
        0,
        0,
        "pubsub",
        "UNSUBSCRIBE [channel ...] — stop listening to channels (all if none given)",
        unsubscribe
    ),
    command!(
        "psubscribe",
        -2,
        PUBSUB | LOADING | STALE | SUBSCRIBED_OK,
        0,
        0,
        0,
        "pubsub",
        "PSUBSCRIBE pattern [pattern ...] — listen for messages on channels matching glob patterns",
        psubscribe
    ),
    command!(
        "punsubscribe",
        -1,
        PUBSUB | LOADING | STALE | SUBSCRIBED_OK,
        0,
        0,
        0,
        "pubsub",
        "PUNSUBSCRIBE [pattern ...] — stop listening to patterns (all if none given)",
        punsubscribe
    ),
    command!(
        "ssubscribe",
        -2,
        PUBSUB | LOADING | STALE | SUBSCRIBED_OK,
        1,
        -1,
        1,
        "pubsub",
        "SSUBSCRIBE shardchannel [shardchannel ...] — listen to shard channels",
        ssubscribe
    ),
    command!(
        "sunsubscribe",
        -1,
        PUBSUB | LOADING | STALE | SUBSCRIBED_OK,
        1,
        -1,
        1,
        "pubsub",
        "SUNSUBSCRIBE [shardchannel ...] — stop listening to shard channels (all if none given)",
        sunsubscribe
    ),
    command!(
        "publish",
        3,
        PUBSUB | LOADING | STALE | FAST,
        0,
        0,
        0,
        "pubsub",
        "PUBLISH channel message — post a message; replies the number of receivers",
        publish
    ),
    command!(
        "spublish",
        3,
        PUBSUB | LOADING | STALE | FAST,
        1,
        1,
        1,
        "pubsub",
        "SPUBLISH shardchannel message — post a message to a shard channel",
        spublish
    ),
    command!(
        "pubsub",
        -2,
        PUBSUB | LOADING | STALE,
        0,
        0,
        0,
        "pubsub",
        "PUBSUB CHANNELS|NUMSUB|NUMPAT|SHARDCHANNELS|SHARDNUMSUB|HELP ... — inspect the pub/sub state",
        pubsub
    ),
];

fn confirmation(verb: &'static str, name: Option<Bytes>, count: i64) -> Frame {
    Frame::Push(vec![Frame::bulk_static(verb), name.map_or(Frame::Null, Frame::Bulk), Frame::Integer(count)])
}

/// Emits every confirmation but the last through `self_frames` and returns the last.
fn confirm_all(ctx: &mut Ctx, mut frames: Vec<Frame>) -> CmdResult {
    let last = frames.pop().expect("at least one confirmation");
    ctx.server.hub.self_frames.extend(frames);
    Ok(last)
}

fn subscribe_kind(ctx: &mut Ctx, args: &mut Args, kind: Kind) -> CmdResult {
    let id = ctx.session.id;
    let (verb, _) = kind.verbs();
    let mut frames = Vec::with_capacity(args.remaining());
    for name in args.rest() {
        ctx.server.hub.subscribe(id, kind, name);
        frames.push(confirmation(verb, Some(name.clone()), ctx.server.hub.confirm_count(id, kind)));
    }
    confirm_all(ctx, frames)
}

fn unsubscribe_kind(ctx: &mut Ctx, args: &mut Args, kind: Kind) -> CmdResult {
    let id = ctx.session.id;
    let (_, verb) = kind.verbs();
    let names = match args.rest() {
        [] => ctx.server.hub.subscriptions(id, kind),
        given => given.to_vec(),
    };
    if names.is_empty() {
        return Ok(confirmation(verb, None, ctx.server.hub.confirm_count(id, kind)));
    }
    let mut frames = Vec::with_capacity(names.len());
    for name in names {
        ctx.server.hub.unsubscribe(id, kind, &name);
        frames.push(confirmation(verb, Some(name), ctx.server.hub.confirm_count(id, kind)));
    }
    confirm_all(ctx, frames)
}

/// `SUBSCRIBE channel [channel ...]`
fn subscribe(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    subscribe_kind(ctx, args, Kind::Channel)
}

/// `UNSUBSCRIBE [channel ...]`
fn unsubscribe(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    unsubscribe_kind(ctx, args, Kind::Channel)
}

/// `PSUBSCRIBE pattern [pattern ...]`
fn psubscribe(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    subscribe_kind(ctx, args, Kind::Pattern)
}

/// `PUNSUBSCRIBE [pattern ...]`
fn punsubscribe(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    unsubscribe_kind(ctx, args, Kind::Pattern)
}

/// `SSUBSCRIBE shardchannel [shardchannel ...]`
fn ssubscribe(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    subscribe_kind(ctx, args, Kind::Shard)
}

/// `SUNSUBSCRIBE [shardchannel ...]`
fn sunsubscribe(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    unsubscribe_kind(ctx, args, Kind::Shard)
}

/// `PUBLISH channel message`
fn publish(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let channel = args.next_bytes()?;
    let message = args.next_bytes()?;
    Ok(Frame::Integer(ctx.server.hub.publish(channel, message, false) as i64))
}

/// `SPUBLISH shardchannel message`
fn spublish(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let channel = args.next_bytes()?;
    let message = args.next_bytes()?;
    Ok(Frame::Integer(ctx.server.hub.publish(channel, message, true) as i64))
}

const PUBSUB_HELP: &[&str] = &[
    "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CHANNELS [<pattern>]",
    "    Return the currently active channels matching a <pattern> (default: '*').",
    "NUMPAT",
    "    Return number of subscriptions to patterns.",
    "NUMSUB [<channel> ...]",
    "    Return the number of subscribers for the specified channels, excluding",
    "    pattern subscriptions(default: no channels).",
    "SHARDCHANNELS [<pattern>]",
    "    Return the currently active shard level channels matching a <pattern> (default: '*').",
    "SHARDNUMSUB [<shardchannel> ...]",
    "    Return the number of subscribers for the specified shard level channel(s)",
    "HELP",
    "    Prints this help.",
];

/// A `HELP` reply: one status line per text line.
pub fn help(lines: &[&'static str]) -> Frame {
    Frame::Array(lines.iter().map(|l| Frame::simple(l)).collect())
}

/// `ERR unknown subcommand ...` for a container command.
pub fn unknown_subcommand(sub: &[u8], container: &str) -> Frame {
    Frame::error_owned(format!("ERR unknown subcommand '{}'. Try {container} HELP.", super::printable(sub, 128)))
}

/// Redis's message when a subcommand passed its arity check but not the
/// command's own count of arguments (`PUBSUB CHANNELS a b`, `SLOWLOG GET 1 2`).
pub fn sub_arity(sub: &[u8], container: &str) -> Frame {
    Frame::error_owned(format!(
        "ERR unknown subcommand or wrong number of arguments for '{}'. Try {container} HELP.",
        super::printable(sub, 128)
    ))
}

/// `PUBSUB CHANNELS [pattern]` | `PUBSUB NUMSUB [channel ...]` | `PUBSUB NUMPAT` |
/// `PUBSUB SHARDCHANNELS [pattern]` | `PUBSUB SHARDNUMSUB [shardchannel ...]` | `PUBSUB HELP`
fn pubsub(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let sub = args.next_bytes()?;
    let lower = sub.to_ascii_lowercase();
    let n = args.remaining();
    let hub = &ctx.server.hub;
    match lower.as_slice() {
        b"help" if n == 0 => Ok(help(PUBSUB_HELP)),
        b"channels" | b"shardchannels" if n <= 1 => {
            let kind = if lower == b"channels" { Kind::Channel } else { Kind::Shard };
            let pattern = args.rest().first().map(|p| p.as_ref());
            Ok(Frame::Array(hub.active(kind, pattern).into_iter().map(Frame::Bulk).collect()))
        }
        b"numsub" | b"shardnumsub" => {
            let kind = if lower == b"numsub" { Kind::Channel } else { Kind::Shard };
            let mut out = Vec::with_capacity(n * 2);
            for ch in args.rest() {
                out.push(Frame::Bulk(ch.clone()));
                out.push(Frame::Integer(hub.numsub(kind, ch) as i64));
            }
            Ok(Frame::Array(out))
        }
        b"numpat" if n == 0 => Ok(Frame::Integer(hub.numpat() as i64)),
        b"help" | b"numpat" => Err(super::wrong_arity(&format!("pubsub|{}", String::from_utf8_lossy(&lower)))),
        b"channels" | b"shardchannels" => Err(sub_arity(sub, "PUBSUB")),
        _ => Err(unknown_subcommand(sub, "PUBSUB")),
    }
}
