//! Publish/subscribe commands. The registry and delivery live in
//! [`crate::broker::pubsub::Hub`]; confirmations after the first of a
//! multi-channel (un)subscribe go out through `Hub::self_frames`, so every
//! frame is written in order with the client's other replies.

use bytes::Bytes;

use super::server::sub_of;
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

/// Redis's message when a subcommand passed its arity check but not the
/// command's own count of arguments (`PUBSUB CHANNELS a b`, `SLOWLOG GET 1 2`).
pub fn sub_arity(sub: &[u8], container: &str) -> Frame {
    Frame::error_owned(format!(
        "ERR unknown subcommand or wrong number of arguments for '{}'. Try {container} HELP.",
        super::printable(sub, 128)
    ))
}

/// `PUBSUB` subcommands.
pub static PUBSUB_SUBCOMMANDS: &[super::server::Subcommand] = &[
    sub_of(
        "pubsub|channels",
        -2,
        PUBSUB | LOADING | STALE,
        0,
        "PUBSUB CHANNELS [pattern] — the active channels",
        pubsub_channels,
    ),
    sub_of(
        "pubsub|numpat",
        2,
        PUBSUB | LOADING | STALE,
        0,
        "PUBSUB NUMPAT — the number of pattern subscriptions",
        pubsub_numpat,
    ),
    sub_of(
        "pubsub|numsub",
        -2,
        PUBSUB | LOADING | STALE,
        0,
        "PUBSUB NUMSUB [channel ...] — the subscribers of channels",
        pubsub_numsub,
    ),
    sub_of(
        "pubsub|shardchannels",
        -2,
        PUBSUB | LOADING | STALE,
        0,
        "PUBSUB SHARDCHANNELS [pattern] — the active shard channels",
        pubsub_channels,
    ),
    sub_of(
        "pubsub|shardnumsub",
        -2,
        PUBSUB | LOADING | STALE,
        0,
        "PUBSUB SHARDNUMSUB [shardchannel ...] — the subscribers of shard channels",
        pubsub_numsub,
    ),
    sub_of("pubsub|help", 2, LOADING | STALE, 0, "PUBSUB HELP — this help", pubsub_help),
];

/// `PUBSUB CHANNELS|NUMSUB|NUMPAT|SHARDCHANNELS|SHARDNUMSUB|HELP ...`
fn pubsub(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    super::server::dispatch(ctx, args, "pubsub", PUBSUB_SUBCOMMANDS)
}

/// Whether the subcommand (its name as sent) is one of the shard forms.
fn shard(args: &Args) -> Kind {
    if args.name().len() > 6 && args.name()[..5].eq_ignore_ascii_case(b"shard") { Kind::Shard } else { Kind::Channel }
}

/// `PUBSUB CHANNELS [pattern]`, `PUBSUB SHARDCHANNELS [pattern]`
fn pubsub_channels(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let kind = shard(args);
    let pattern = match args.rest() {
        [] => None,
        [p] => Some(p.as_ref()),
        // Past the subcommand's arity check, Redis's own count.
        _ => return Err(sub_arity(args.name(), "PUBSUB")),
    };
    Ok(Frame::Array(ctx.server.hub.active(kind, pattern).into_iter().map(Frame::Bulk).collect()))
}

/// `PUBSUB NUMSUB [channel ...]`, `PUBSUB SHARDNUMSUB [shardchannel ...]`
fn pubsub_numsub(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let kind = shard(args);
    let channels = args.rest();
    let mut out = Vec::with_capacity(channels.len() * 2);
    for ch in channels {
        out.push(Frame::Bulk(ch.clone()));
        out.push(Frame::Integer(ctx.server.hub.numsub(kind, ch) as i64));
    }
    Ok(Frame::Array(out))
}

/// `PUBSUB NUMPAT`
fn pubsub_numpat(ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    Ok(Frame::Integer(ctx.server.hub.numpat() as i64))
}

/// `PUBSUB HELP`
fn pubsub_help(_ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    Ok(help(PUBSUB_HELP))
}
