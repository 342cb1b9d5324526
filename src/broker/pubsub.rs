//! The broker's per-client machinery besides the keyspace: the pub/sub
//! registry and delivery (with output-buffer limits), keyspace
//! notifications, `WATCH`ed keys, `MONITOR` clients, `CLIENT REPLY` modes,
//! the slow log and per-command statistics.
//!
//! Deliveries never wait for a subscriber: frames go into the client's
//! unbounded push channel and the bytes still unwritten are tracked in its
//! [`ClientOutput`]; a subscriber past the pub/sub output-buffer limits is
//! disconnected, as Redis does.

use bytes::{Bytes, BytesMut};
use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Instant;
use tokio::sync::{Notify, mpsc};

use super::Push;
use crate::cmd::{KeyEvent, Session};
use crate::resp::{Frame, Protocol};
use crate::state::{Effect, HashMap, HashSet, Keyspace, glob};

/// Output state shared by the broker and a connection: the bytes queued
/// for the client but not yet written, and the kill switch.
#[derive(Debug, Default)]
pub struct ClientOutput {
    queued: AtomicUsize,
    killed: AtomicBool,
    kill: Notify,
}

impl ClientOutput {
    /// A fresh, shared output state.
    pub fn new() -> Arc<ClientOutput> {
        Arc::new(ClientOutput::default())
    }

    /// Bytes queued for the client and not yet written.
    pub fn queued(&self) -> usize {
        self.queued.load(Ordering::Acquire)
    }

    /// Called by the connection once `n` pushed bytes are written.
    pub fn written(&self, n: usize) {
        self.queued.fetch_sub(n, Ordering::AcqRel);
    }

    fn add(&self, n: usize) -> usize {
        self.queued.fetch_add(n, Ordering::AcqRel) + n
    }

    /// Asks the connection to close at once, even in the middle of a write.
    pub fn kill(&self) {
        self.killed.store(true, Ordering::Release);
        self.kill.notify_one();
    }

    /// Whether [`ClientOutput::kill`] was called.
    pub fn is_killed(&self) -> bool {
        self.killed.load(Ordering::Acquire)
    }

    /// Completes once the client is killed.
    pub async fn killed(&self) {
        if self.is_killed() {
            return;
        }
        self.kill.notified().await;
    }
}

/// Redis's limits for one client class (`client-output-buffer-limit`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutputLimit {
    /// Disconnect at once past this many bytes (0: no limit).
    pub hard: usize,
    /// Disconnect when above this many bytes for `soft_secs` (0: no limit).
    pub soft: usize,
    /// Seconds the soft limit may be exceeded.
    pub soft_secs: u64,
}

impl OutputLimit {
    /// Redis's default for the pub/sub class: 32 MiB hard, 8 MiB for 60 s.
    pub const PUBSUB_DEFAULT: OutputLimit = OutputLimit { hard: 32 << 20, soft: 8 << 20, soft_secs: 60 };
}

/// `CLIENT REPLY` mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReplyMode {
    /// Every reply is sent.
    #[default]
    On,
    /// No reply is sent.
    Off,
    /// The replies of this command and the next are skipped.
    Skip,
}

/// The three kinds of subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `SUBSCRIBE` channels.
    Channel,
    /// `PSUBSCRIBE` patterns.
    Pattern,
    /// `SSUBSCRIBE` shard channels.
    Shard,
}

impl Kind {
    fn index(self) -> usize {
        match self {
            Kind::Channel => 0,
            Kind::Pattern => 1,
            Kind::Shard => 2,
        }
    }

    /// The confirmation names: (subscribe, unsubscribe).
    pub fn verbs(self) -> (&'static str, &'static str) {
        match self {
            Kind::Channel => ("subscribe", "unsubscribe"),
            Kind::Pattern => ("psubscribe", "punsubscribe"),
            Kind::Shard => ("ssubscribe", "sunsubscribe"),
        }
    }
}

/// One entry of the slow log.
#[derive(Debug, Clone)]
pub struct SlowEntry {
    /// Increasing id.
    pub id: u64,
    /// Unix time in seconds when the command ran.
    pub time: i64,
    /// Duration in microseconds.
    pub micros: u64,
    /// The arguments (at most 32, each at most 128 bytes, as Redis trims them).
    pub argv: Vec<Bytes>,
    /// Client address.
    pub peer: String,
    /// Client name.
    pub name: Bytes,
}

/// Per-command counters for `INFO commandstats`.
#[derive(Debug, Clone, Copy, Default)]
pub struct CmdStat {
    /// Calls that ran.
    pub calls: u64,
    /// Total microseconds spent.
    pub usec: u64,
    /// Calls refused before running.
    pub rejected: u64,
    /// Calls that ran and replied with an error.
    pub failed: u64,
    /// `LATENCY HISTOGRAM`: calls by the power of two of microseconds at or
    /// above their time (bucket `k`: up to `2^k` µs).
    pub latency: [u64; 24],
}

impl CmdStat {
    /// Counts a call that took `micros`.
    pub fn record(&mut self, micros: u64) {
        self.calls += 1;
        self.usec += micros;
        let bucket = (64 - micros.saturating_sub(1).leading_zeros()) as usize;
        self.latency[bucket.min(self.latency.len() - 1)] += 1;
    }
}

#[derive(Debug)]
struct Client {
    push: mpsc::UnboundedSender<Push>,
    out: Arc<ClientOutput>,
    proto: Protocol,
    sent: u64,
    subs: [HashSet<Bytes>; 3],
    soft_since: Option<Instant>,
    monitor: bool,
    reply: ReplyMode,
    skip: u8,
    no_evict: bool,
    /// Whether its batch waits, and for what.
    waiting: Waiting,
    /// Watched keys: database, key, and whether it was already logically
    /// expired when watched.
    watched: Vec<(u32, Bytes, bool)>,
    dirty: bool,
}

/// What a client's batch waits for, if anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Waiting {
    No,
    /// A blocking command (`CLIENT UNBLOCK` may end the wait).
    Blocked,
    /// The end of `CLIENT PAUSE`.
    Held,
}

/// A push made and not yet sent (see [`Hub::take_pushes`]).
#[derive(Debug)]
pub struct PendingPush {
    to: mpsc::UnboundedSender<Push>,
    push: Push,
    /// The client's output counter, which counts the push as queued.
    out: Arc<ClientOutput>,
}

impl PendingPush {
    /// Sends it; `withheld`, a message goes as an empty one (the
    /// connection numbers pushes, and the count of output queued for the
    /// client is settled).
    pub fn send(self, withheld: bool) {
        let push = match self.push {
            Push::Data(data) if withheld => {
                self.out.written(data.len());
                Push::Data(Bytes::new())
            }
            other => other,
        };
        let _ = self.to.send(push);
    }
}

/// Pre-encoded frames, one encoding per protocol, made on first use.
struct Encoded<'a> {
    frame: &'a Frame,
    cache: [Option<Bytes>; 2],
}

impl Encoded<'_> {
    fn get(&mut self, proto: Protocol) -> Bytes {
        let i = (proto == Protocol::Resp3) as usize;
        self.cache[i]
            .get_or_insert_with(|| {
                let mut out = BytesMut::new();
                self.frame.encode(proto, &mut out);
                out.freeze()
            })
            .clone()
    }
}

/// The pub/sub registry and the rest of the per-client machinery.
#[derive(Debug)]
pub struct Hub {
    clients: HashMap<u64, Client>,
    /// Pushes made and not yet handed to the broker ([`Hub::take_pushes`]).
    pushes: Vec<PendingPush>,
    /// Whether any client ever set a `CLIENT REPLY` mode other than `ON`:
    /// until then a reply is written without looking its client up.
    reply_modes_used: bool,
    /// Subscribers per channel / pattern / shard channel, in subscription order.
    subs: [HashMap<Bytes, Vec<u64>>; 3],
    watches: HashMap<(u32, Bytes), Vec<u64>>,
    monitors: Vec<u64>,
    /// Frames for the client whose command is running (its own pub/sub
    /// confirmations and messages), emitted before that command's reply.
    pub self_frames: Vec<Frame>,
    /// The client whose command is running.
    pub current: u64,
    /// Limits of the pub/sub client class.
    pub pubsub_limit: OutputLimit,
    /// Subscribers disconnected for exceeding their output-buffer limits.
    pub limit_disconnections: u64,
    /// Bits of `notify-keyspace-events` (see [`notify_bits`]).
    pub notify: u32,
    /// The slow log, newest first.
    pub slowlog: VecDeque<SlowEntry>,
    /// Next slow-log id.
    pub slowlog_next_id: u64,
    /// `INFO commandstats` counters by command name (a hash map: every
    /// command counts itself here, and `INFO` sorts the names).
    pub cmdstats: HashMap<&'static str, CmdStat>,
    /// `INFO errorstats` counters by error code.
    pub errorstats: BTreeMap<String, u64>,
    /// `CLIENT PAUSE`: (deadline in Unix ms, writes only).
    pub pause: Option<(u64, bool)>,
    /// Connections refused by `maxclients`, until they are gone.
    pub refused: HashSet<u64>,
    /// Connections refused by `maxclients` since start.
    pub rejected_connections: u64,
}

impl Default for Hub {
    fn default() -> Self {
        Hub {
            clients: HashMap::default(),
            pushes: Vec::new(),
            subs: Default::default(),
            watches: HashMap::default(),
            monitors: Vec::new(),
            self_frames: Vec::new(),
            current: 0,
            pubsub_limit: OutputLimit::PUBSUB_DEFAULT,
            limit_disconnections: 0,
            notify: 0,
            slowlog: VecDeque::new(),
            slowlog_next_id: 0,
            cmdstats: HashMap::default(),
            reply_modes_used: false,
            errorstats: BTreeMap::new(),
            pause: None,
            refused: HashSet::default(),
            rejected_connections: 0,
        }
    }
}

/// Keyspace-notification class bits, by flag character.
pub mod notify_bits {
    /// `K`: `__keyspace@<db>__` channels.
    pub const KEYSPACE: u32 = 1;
    /// `E`: `__keyevent@<db>__` channels.
    pub const KEYEVENT: u32 = 1 << 1;
    /// The event classes in display order.
    pub const CLASSES: &[(char, u32)] = &[
        ('g', 1 << 2),
        ('$', 1 << 3),
        ('l', 1 << 4),
        ('s', 1 << 5),
        ('h', 1 << 6),
        ('z', 1 << 7),
        ('x', 1 << 8),
        ('e', 1 << 9),
        ('t', 1 << 10),
        ('d', 1 << 11),
        ('n', 1 << 12),
    ];
    /// `m`: key-miss events.
    pub const KEY_MISS: u32 = 1 << 13;
    /// `A`: every class but `m` and `n`.
    pub const ALL: u32 = 0b11_1111_1111 << 2;

    /// The bit of an event class character.
    pub fn class(c: char) -> u32 {
        if c == 'm' {
            return KEY_MISS;
        }
        CLASSES.iter().find(|(ch, _)| *ch == c).map_or(0, |(_, b)| *b)
    }

    /// Parses a `notify-keyspace-events` value; `None` on an unknown character.
    pub fn parse(s: &str) -> Option<u32> {
        let mut bits = 0;
        for c in s.chars() {
            bits |= match c {
                'A' => ALL,
                'K' => KEYSPACE,
                'E' => KEYEVENT,
                c => match class(c) {
                    0 => return None,
                    b => b,
                },
            };
        }
        Some(bits)
    }

    /// The value `CONFIG GET` shows, normalized as Redis does.
    pub fn display(bits: u32) -> String {
        let mut s = String::new();
        if bits & ALL == ALL {
            s.push('A');
        } else {
            for (c, b) in CLASSES {
                if bits & b != 0 {
                    s.push(*c);
                }
            }
        }
        if bits & KEYSPACE != 0 {
            s.push('K');
        }
        if bits & KEYEVENT != 0 {
            s.push('E');
        }
        if bits & KEY_MISS != 0 {
            s.push('m');
        }
        s
    }
}

/// What an effect touched, for `WATCH`.
enum Touched<'a> {
    Keys([Option<(u32, &'a Bytes)>; 2]),
    Dbs([Option<u32>; 2]),
    /// Keys of either database that exist in either (after the swap).
    Swap(u32, u32),
    All,
}

fn touched(e: &Effect) -> Touched<'_> {
    match e {
        Effect::FlushAll => Touched::All,
        Effect::FlushDb { db } => Touched::Dbs([Some(*db), None]),
        Effect::SwapDb { a, b } => Touched::Swap(*a, *b),
        Effect::Rename { db, from, to } => Touched::Keys([Some((*db, from)), Some((*db, to))]),
        Effect::Move { db, key, to_db } => Touched::Keys([Some((*db, key)), Some((*to_db, key))]),
        _ => Touched::Keys([e.key(), None]),
    }
}

impl Hub {
    /// Registers a new connection.
    pub fn connect(&mut self, id: u64, push: mpsc::UnboundedSender<Push>, out: Arc<ClientOutput>) {
        self.clients.insert(
            id,
            Client {
                push,
                out,
                proto: Protocol::Resp2,
                sent: 0,
                subs: Default::default(),
                soft_since: None,
                monitor: false,
                reply: ReplyMode::On,
                skip: 0,
                no_evict: false,
                waiting: Waiting::No,
                watched: Vec::new(),
                dirty: false,
            },
        );
    }

    /// Forgets a connection and everything it subscribed to or watched.
    pub fn disconnect(&mut self, id: u64) {
        self.drop_subscriptions(id);
        self.unwatch(id);
        self.monitors.retain(|&m| m != id);
        self.clients.remove(&id);
    }

    /// Forgets every client (stopping), returning their kill switches.
    pub fn forget_all(&mut self) -> Vec<Arc<ClientOutput>> {
        let ids: Vec<u64> = self.clients.keys().copied().collect();
        let outputs = self.clients.values().map(|c| c.out.clone()).collect();
        for id in ids {
            self.disconnect(id);
        }
        outputs
    }

    fn drop_subscriptions(&mut self, id: u64) {
        let Some(c) = self.clients.get_mut(&id) else { return };
        let subs = std::mem::take(&mut c.subs);
        for (i, set) in subs.into_iter().enumerate() {
            for name in set {
                remove_sub(&mut self.subs[i], &name, id);
            }
        }
    }

    /// Kills a client's connection (`CLIENT KILL`); false if unknown.
    pub fn kill(&mut self, id: u64) -> bool {
        match self.clients.get(&id) {
            Some(c) => {
                c.out.kill();
                let _ = c.push.send(Push::Kill);
                true
            }
            None => false,
        }
    }

    /// Tells a connection its batch is parked, so pushes need not wait
    /// for the batch's reply.
    /// `blocked`: by a blocking command (rather than held by `CLIENT PAUSE`).
    pub fn parked(&mut self, id: u64, blocked: bool) {
        if let Some(c) = self.clients.get_mut(&id) {
            c.waiting = if blocked { Waiting::Blocked } else { Waiting::Held };
        }
        self.mark(id, Push::Parked);
    }

    /// Tells a connection its parked batch was served: pushes wait for the
    /// batch's reply again.
    pub fn resumed(&mut self, id: u64) {
        if let Some(c) = self.clients.get_mut(&id) {
            c.waiting = Waiting::No;
        }
        self.mark(id, Push::Resumed);
    }

    /// Whether `id`'s batch waits: parked by a blocking command or held by
    /// `CLIENT PAUSE` (`CLIENT LIST`'s `b`).
    pub fn is_parked(&self, id: u64) -> bool {
        self.clients.get(&id).is_some_and(|c| c.waiting != Waiting::No)
    }

    /// Whether `id` is parked by a blocking command.
    pub fn is_blocked(&self, id: u64) -> bool {
        self.clients.get(&id).is_some_and(|c| c.waiting == Waiting::Blocked)
    }

    fn mark(&mut self, id: u64, marker: Push) {
        if let Some(c) = self.clients.get_mut(&id) {
            // Counted like data, so the reply that follows accounts for it.
            c.sent += 1;
            self.pushes.push(PendingPush { to: c.push.clone(), push: marker, out: c.out.clone() });
        }
    }

    /// The pushes made since the last call, in order, for the broker to send
    /// once the writes made before them are durable (see
    /// [`crate::broker::Delivery`]).
    pub fn take_pushes(&mut self) -> Vec<PendingPush> {
        std::mem::take(&mut self.pushes)
    }

    /// Sends the pushes made so far at once (tests without a broker).
    #[cfg(test)]
    pub fn send_pushes(&mut self) {
        for p in self.take_pushes() {
            p.send(false);
        }
    }

    /// Pushes (data and park/resume markers) sent to `id` so far (the connection
    /// writes the ones sent before a batch's reply ahead of it).
    pub fn sent_to(&self, id: u64) -> u64 {
        self.clients.get(&id).map_or(0, |c| c.sent)
    }

    /// Number of subscriptions of `kind` held by `id`.
    pub fn count(&self, id: u64, kind: Kind) -> usize {
        self.clients.get(&id).map_or(0, |c| c.subs[kind.index()].len())
    }

    /// Whether `id` holds any subscription (RESP2 subscribed mode, pub/sub client class).
    pub fn is_subscriber(&self, id: u64) -> bool {
        self.clients.get(&id).is_some_and(|c| c.subs.iter().any(|s| !s.is_empty()))
    }

    /// The count a (un)subscribe confirmation reports: channels plus
    /// patterns, or shard channels.
    pub fn confirm_count(&self, id: u64, kind: Kind) -> i64 {
        match kind {
            Kind::Shard => self.count(id, Kind::Shard) as i64,
            _ => (self.count(id, Kind::Channel) + self.count(id, Kind::Pattern)) as i64,
        }
    }

    /// Subscribes `id`; true if it was not subscribed yet.
    pub fn subscribe(&mut self, id: u64, kind: Kind, name: &Bytes) -> bool {
        let Some(c) = self.clients.get_mut(&id) else { return false };
        if !c.subs[kind.index()].insert(name.clone()) {
            return false;
        }
        self.subs[kind.index()].entry(name.clone()).or_default().push(id);
        true
    }

    /// Unsubscribes `id`; true if it was subscribed.
    pub fn unsubscribe(&mut self, id: u64, kind: Kind, name: &Bytes) -> bool {
        let Some(c) = self.clients.get_mut(&id) else { return false };
        if !c.subs[kind.index()].remove(name) {
            return false;
        }
        remove_sub(&mut self.subs[kind.index()], name, id);
        true
    }

    /// The names `id` is subscribed to with `kind`.
    pub fn subscriptions(&self, id: u64, kind: Kind) -> Vec<Bytes> {
        self.clients.get(&id).map_or_else(Vec::new, |c| c.subs[kind.index()].iter().cloned().collect())
    }

    /// Drops every subscription of `id` without confirmations (`RESET`).
    pub fn unsubscribe_all(&mut self, id: u64) {
        self.drop_subscriptions(id);
    }

    /// Active channels (or shard channels) matching `pattern`.
    pub fn active(&self, kind: Kind, pattern: Option<&[u8]>) -> Vec<Bytes> {
        self.subs[kind.index()].keys().filter(|n| pattern.is_none_or(|p| glob::glob_match(p, n))).cloned().collect()
    }

    /// Subscriber count of a channel (or shard channel).
    pub fn numsub(&self, kind: Kind, name: &[u8]) -> usize {
        self.subs[kind.index()].get(name).map_or(0, Vec::len)
    }

    /// Number of distinct patterns subscribed to.
    pub fn numpat(&self) -> usize {
        self.subs[Kind::Pattern.index()].len()
    }

    /// Publishes `message` on `channel` (`PUBLISH`, or `SPUBLISH` when
    /// `shard`); returns the number of receivers.
    pub fn publish(&mut self, channel: &Bytes, message: &Bytes, shard: bool) -> usize {
        let mut receivers = 0;
        let kind = if shard { Kind::Shard } else { Kind::Channel };
        if let Some(ids) = self.subs[kind.index()].get(channel).cloned() {
            let verb = if shard { "smessage" } else { "message" };
            let frame =
                Frame::Push(vec![Frame::bulk_static(verb), Frame::Bulk(channel.clone()), Frame::Bulk(message.clone())]);
            let mut enc = Encoded { frame: &frame, cache: [None, None] };
            for id in ids {
                self.deliver(id, &mut enc);
                receivers += 1;
            }
        }
        if !shard && !self.subs[1].is_empty() {
            let matching: Vec<(Bytes, Vec<u64>)> = self.subs[1]
                .iter()
                .filter(|(p, _)| glob::glob_match(p, channel))
                .map(|(p, ids)| (p.clone(), ids.clone()))
                .collect();
            for (pattern, ids) in matching {
                let frame = Frame::Push(vec![
                    Frame::bulk_static("pmessage"),
                    Frame::Bulk(pattern),
                    Frame::Bulk(channel.clone()),
                    Frame::Bulk(message.clone()),
                ]);
                let mut enc = Encoded { frame: &frame, cache: [None, None] };
                for id in ids {
                    self.deliver(id, &mut enc);
                    receivers += 1;
                }
            }
        }
        receivers
    }

    /// Sends one frame to one client, enforcing the output-buffer limits.
    /// The running client's own frames go into [`Hub::self_frames`].
    fn deliver(&mut self, id: u64, enc: &mut Encoded) {
        if id == self.current {
            self.self_frames.push(enc.frame.clone());
            return;
        }
        let limit = self.pubsub_limit;
        let Some(c) = self.clients.get_mut(&id) else { return };
        if c.out.is_killed() {
            return;
        }
        let data = enc.get(c.proto);
        let queued = c.out.add(data.len());
        // Subscribers and monitors: a monitor is a normal client to Redis,
        // buffered without bound; here it is held to the same limit.
        let over = if c.monitor || c.subs.iter().any(|s| !s.is_empty()) {
            if limit.hard > 0 && queued > limit.hard {
                true
            } else if limit.soft > 0 && queued > limit.soft {
                let since = *c.soft_since.get_or_insert_with(Instant::now);
                since.elapsed().as_secs() >= limit.soft_secs
            } else {
                c.soft_since = None;
                false
            }
        } else {
            false
        };
        if over {
            tracing::warn!(
                client = id,
                queued,
                "client scheduled to be closed ASAP for overcoming of output buffer limits"
            );
            c.out.written(data.len());
            c.out.kill();
            let _ = c.push.send(Push::Kill);
            self.limit_disconnections += 1;
            self.drop_subscriptions(id);
            return;
        }
        c.sent += 1;
        self.pushes.push(PendingPush { to: c.push.clone(), push: Push::Data(data), out: c.out.clone() });
    }

    /// Emits the running command's frames into `out`: its own pushes, then
    /// its reply unless `CLIENT REPLY` suppresses it. Returns the number of
    /// replies written.
    pub fn emit(&mut self, session: &Session, reply: Frame, out: &mut BytesMut) -> usize {
        let mut n = 0;
        for f in self.self_frames.drain(..) {
            f.encode(session.proto, out);
            n += 1;
        }
        if !self.reply_modes_used {
            reply.encode(session.proto, out);
            return n + 1;
        }
        if let Some(c) = self.clients.get_mut(&session.id) {
            let suppressed = if c.skip > 0 {
                c.skip -= 1;
                true
            } else {
                c.reply == ReplyMode::Off
            };
            // A (un)subscribe confirmation is a push: as in Redis, it goes
            // out whatever the reply mode.
            if suppressed && !matches!(reply, Frame::Push(_)) {
                return n;
            }
        }
        reply.encode(session.proto, out);
        n + 1
    }

    /// Records the protocol `id` switched to (`HELLO`, `RESET`): what
    /// reaches it from other clients is encoded in it.
    pub fn set_protocol(&mut self, id: u64, proto: Protocol) {
        if let Some(c) = self.clients.get_mut(&id) {
            c.proto = proto;
        }
    }

    /// `RESET`'s return to `CLIENT REPLY ON`: a `SKIP` that applies to the
    /// `RESET` itself still suppresses its reply, as in Redis.
    pub fn reset_reply_mode(&mut self, id: u64) {
        if let Some(c) = self.clients.get_mut(&id) {
            c.reply = ReplyMode::On;
            c.skip = c.skip.min(1);
        }
    }

    /// Sets the `CLIENT REPLY` mode of `id`.
    pub fn set_reply_mode(&mut self, id: u64, mode: ReplyMode) {
        self.reply_modes_used |= mode != ReplyMode::On;
        if let Some(c) = self.clients.get_mut(&id) {
            c.reply = if mode == ReplyMode::Skip { ReplyMode::On } else { mode };
            c.skip = if mode == ReplyMode::Skip { 2 } else { 0 };
        }
    }

    /// Sets the `CLIENT NO-EVICT` flag of `id`.
    pub fn set_no_evict(&mut self, id: u64, on: bool) {
        if let Some(c) = self.clients.get_mut(&id) {
            c.no_evict = on;
        }
    }

    /// The `CLIENT NO-EVICT` flag of `id`.
    pub fn no_evict(&self, id: u64) -> bool {
        self.clients.get(&id).is_some_and(|c| c.no_evict)
    }

    /// Whether a key `id` watches has changed since it was watched (the
    /// `d` of `CLIENT LIST`'s flags; expiry is found only by `EXEC`).
    pub fn watch_dirty(&self, id: u64) -> bool {
        self.clients.get(&id).is_some_and(|c| c.dirty)
    }

    /// Publishes keyspace notifications for `events` as the configured
    /// flags ask.
    pub fn notify_events(&mut self, events: impl IntoIterator<Item = KeyEvent>) {
        use notify_bits::*;
        let flags = self.notify;
        for ev in events {
            if flags & class(ev.class) == 0 || flags & (KEYSPACE | KEYEVENT) == 0 {
                continue;
            }
            let event = Bytes::from_static(ev.event.as_bytes());
            if flags & KEYSPACE != 0 {
                let mut ch = format!("__keyspace@{}__:", ev.db).into_bytes();
                ch.extend_from_slice(&ev.key);
                self.publish(&Bytes::from(ch), &event, false);
            }
            if flags & KEYEVENT != 0 {
                let ch = Bytes::from(format!("__keyevent@{}__:{}", ev.db, ev.event));
                self.publish(&ch, &ev.key, false);
            }
        }
    }

    // ---- WATCH ----

    /// Watches `key` in `db` for `id`; `expired` says whether the key is
    /// already logically expired.
    pub fn watch(&mut self, id: u64, db: u32, key: &Bytes, expired: bool) {
        let Some(c) = self.clients.get_mut(&id) else { return };
        if c.watched.iter().any(|(d, k, _)| *d == db && k == key) {
            return;
        }
        c.watched.push((db, key.clone(), expired));
        self.watches.entry((db, key.clone())).or_default().push(id);
    }

    /// Forgets every key `id` watches and clears its dirty flag.
    pub fn unwatch(&mut self, id: u64) {
        let Some(c) = self.clients.get_mut(&id) else { return };
        c.dirty = false;
        for (db, key, _) in std::mem::take(&mut c.watched) {
            let slot = (db, key);
            if let Some(v) = self.watches.get_mut(&slot) {
                v.retain(|&x| x != id);
                if v.is_empty() {
                    self.watches.remove(&slot);
                }
            }
        }
    }

    /// Whether a transaction of `id` must fail: a watched key changed, or
    /// expired since it was watched. Unwatches everything.
    pub fn exec_check(&mut self, id: u64, ks: &Keyspace, now_ms: u64) -> bool {
        let Some(c) = self.clients.get(&id) else { return false };
        let mut dirty = c.dirty;
        if !dirty {
            dirty = c.watched.iter().any(|(db, key, was_expired)| {
                !was_expired && ks.dbs[*db as usize].get(key).is_some_and(|e| e.expired(now_ms))
            });
        }
        self.unwatch(id);
        dirty
    }

    /// Marks the watchers of `key` in `db` as if it had changed (Redis's
    /// `signalModifiedKey` for a write that leaves the value as it was).
    pub fn touch_key(&mut self, db: u32, key: &Bytes) {
        let Some(ids) = self.watches.get(&(db, key.clone())) else { return };
        for id in ids {
            if let Some(c) = self.clients.get_mut(id) {
                c.dirty = true;
            }
        }
    }

    /// Breaks every watch (the keyspace was replaced).
    pub fn touch_all_watches(&mut self) {
        for ids in self.watches.values() {
            for id in ids {
                if let Some(c) = self.clients.get_mut(id) {
                    c.dirty = true;
                }
            }
        }
    }

    /// Marks the watchers of every key the effects (already applied to
    /// `ks`) changed. Flushes touch every watched key of the flushed
    /// databases; a swap touches those that exist in either database.
    pub fn touch(&mut self, effects: &[Effect], ks: &Keyspace) {
        self.touch_after_flush(effects, ks, None);
    }

    /// The watched keys that exist now (taken before a flush, which
    /// touches only those, as Redis does).
    pub fn existing_watched(&self, ks: &Keyspace) -> HashSet<(u32, Bytes)> {
        self.watches.keys().filter(|(d, k)| ks.dbs[*d as usize].get(k).is_some()).cloned().collect()
    }

    /// Whether any key is watched.
    pub fn has_watches(&self) -> bool {
        !self.watches.is_empty()
    }

    /// Like [`Hub::touch`]; with `existed`, flushes touch only those keys.
    pub fn touch_after_flush(&mut self, effects: &[Effect], ks: &Keyspace, existed: Option<&HashSet<(u32, Bytes)>>) {
        if self.watches.is_empty() {
            return;
        }
        let existed_ok = |slot: &(u32, Bytes)| existed.is_none_or(|set| set.contains(slot));
        for e in effects {
            // The watched keys the effect touched.
            let slots: Vec<(u32, Bytes)> = match touched(e) {
                Touched::Keys(keys) => keys
                    .iter()
                    .flatten()
                    .map(|(db, k)| (*db, (*k).clone()))
                    .filter(|slot| self.watches.contains_key(slot))
                    .collect(),
                Touched::Dbs(dbs) => self
                    .watches
                    .keys()
                    .filter(|slot| dbs.contains(&Some(slot.0)) && existed_ok(slot))
                    .cloned()
                    .collect(),
                Touched::Swap(a, b) => self
                    .watches
                    .keys()
                    .filter(|(d, k)| {
                        (*d == a || *d == b)
                            && (ks.dbs[a as usize].get(k).is_some() || ks.dbs[b as usize].get(k).is_some())
                    })
                    .cloned()
                    .collect(),
                Touched::All => self.watches.keys().filter(|slot| existed_ok(slot)).cloned().collect(),
            };
            for slot in slots {
                let gone = ks.dbs[slot.0 as usize].get(&slot.1).is_none();
                for id in self.watches.get(&slot).into_iter().flatten() {
                    let Some(c) = self.clients.get_mut(id) else { continue };
                    if gone
                        && let Some(w) =
                            c.watched.iter_mut().find(|(d, k, expired)| *expired && *d == slot.0 && *k == slot.1)
                    {
                        // Already expired when it was watched, and now
                        // deleted: logically no change. Redis clears the flag.
                        w.2 = false;
                        continue;
                    }
                    c.dirty = true;
                }
            }
        }
    }

    // ---- MONITOR ----

    /// Turns `id` into a monitor.
    pub fn add_monitor(&mut self, id: u64) {
        if let Some(c) = self.clients.get_mut(&id)
            && !c.monitor
        {
            c.monitor = true;
            self.monitors.push(id);
        }
    }

    /// Stops `id` monitoring.
    pub fn remove_monitor(&mut self, id: u64) {
        if let Some(c) = self.clients.get_mut(&id) {
            c.monitor = false;
        }
        self.monitors.retain(|&m| m != id);
    }

    /// Whether `id` is a monitor.
    pub fn is_monitor(&self, id: u64) -> bool {
        self.clients.get(&id).is_some_and(|c| c.monitor)
    }

    /// Whether any client monitors.
    pub fn has_monitors(&self) -> bool {
        !self.monitors.is_empty()
    }

    /// Sends one formatted `MONITOR` line to every monitor but `from`.
    pub fn feed_monitors(&mut self, from: u64, line: String) {
        let frame = Frame::Simple(line.into());
        let mut enc = Encoded { frame: &frame, cache: [None, None] };
        for id in self.monitors.clone() {
            if id != from {
                let saved = std::mem::replace(&mut self.current, 0);
                self.deliver(id, &mut enc);
                self.current = saved;
            }
        }
    }
}

fn remove_sub(map: &mut HashMap<Bytes, Vec<u64>>, name: &Bytes, id: u64) {
    if let Some(v) = map.get_mut(name) {
        v.retain(|&x| x != id);
        if v.is_empty() {
            map.remove(name);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hub_with(ids: &[u64]) -> (Hub, Vec<mpsc::UnboundedReceiver<Push>>) {
        let mut hub = Hub::default();
        let mut rxs = Vec::new();
        for &id in ids {
            let (tx, rx) = mpsc::unbounded_channel();
            hub.connect(id, tx, ClientOutput::new());
            rxs.push(rx);
        }
        (hub, rxs)
    }

    #[test]
    fn publish_counts_channel_and_pattern_receivers() {
        let (mut hub, mut rxs) = hub_with(&[1, 2]);
        let ch = Bytes::from("news.x");
        assert!(hub.subscribe(1, Kind::Channel, &ch));
        assert!(!hub.subscribe(1, Kind::Channel, &ch));
        assert!(hub.subscribe(2, Kind::Pattern, &Bytes::from("news.*")));
        assert_eq!(hub.publish(&ch, &Bytes::from("hi"), false), 2);
        assert_eq!(hub.publish(&ch, &Bytes::from("hi"), true), 0);
        assert!(rxs[0].try_recv().is_err(), "pushes wait for the broker to send them");
        hub.send_pushes();
        let Ok(Push::Data(d)) = rxs[0].try_recv() else { panic!() };
        assert_eq!(&d[..], b"*3\r\n$7\r\nmessage\r\n$6\r\nnews.x\r\n$2\r\nhi\r\n");
        let Ok(Push::Data(d)) = rxs[1].try_recv() else { panic!() };
        assert!(d.starts_with(b"*4\r\n$8\r\npmessage\r\n$6\r\nnews.*\r\n"));
        hub.disconnect(1);
        assert_eq!(hub.numsub(Kind::Channel, b"news.x"), 0);
        assert_eq!(hub.numpat(), 1);
    }

    #[test]
    fn hard_limit_disconnects() {
        let (mut hub, mut rxs) = hub_with(&[1]);
        hub.pubsub_limit = OutputLimit { hard: 100, soft: 0, soft_secs: 0 };
        let ch = Bytes::from("c");
        hub.subscribe(1, Kind::Channel, &ch);
        let msg = Bytes::from(vec![b'x'; 40]);
        assert_eq!(hub.publish(&ch, &msg, false), 1);
        assert_eq!(hub.publish(&ch, &msg, false), 1);
        assert_eq!(hub.limit_disconnections, 1);
        assert_eq!(hub.publish(&ch, &msg, false), 0);
        // The kill goes at once; the message allowed before it follows (to
        // a connection already closing).
        assert!(matches!(rxs[0].try_recv(), Ok(Push::Kill)));
        hub.send_pushes();
        assert!(matches!(rxs[0].try_recv(), Ok(Push::Data(_))));
        assert!(rxs[0].try_recv().is_err());
    }

    #[test]
    fn a_monitor_that_falls_behind_is_closed_too() {
        let (mut hub, mut rxs) = hub_with(&[1, 2]);
        hub.pubsub_limit = OutputLimit { hard: 100, soft: 0, soft_secs: 0 };
        hub.add_monitor(1);
        hub.feed_monitors(2, "x".repeat(60));
        assert_eq!(hub.limit_disconnections, 0);
        hub.feed_monitors(2, "x".repeat(60));
        assert_eq!(hub.limit_disconnections, 1);
        assert!(matches!(rxs[0].try_recv(), Ok(Push::Kill)));
    }

    /// Active expiry (the broker's cron) raises `expired` notifications and
    /// invalidates watches on the expired key.
    #[test]
    fn active_expiry_notifies_and_touches_watches() {
        use crate::broker::{Broker, Durable};
        use crate::persist::Persister;
        let dir = std::env::temp_dir().join(format!("sb-hub-cron-{}", std::process::id()));
        let config = crate::config::Config { dir: dir.clone(), ..Default::default() };
        let (persister, mut ks) = Persister::<Durable>::open(&config).expect("open");
        ks.dbs[0].insert("gone".as_bytes(), crate::state::Value::Str(Bytes::from("v").into()), Some(1));
        ks.dbs[0].insert("stays".as_bytes(), crate::state::Value::Str(Bytes::from("v").into()), None);
        let mut broker = Broker::new(ks, crate::cmd::ServerState::new(config), persister);
        let hub = &mut broker.server.hub;
        let (tx, mut rx) = mpsc::unbounded_channel();
        hub.connect(5, tx, ClientOutput::new());
        hub.subscribe(5, Kind::Channel, &Bytes::from("__keyevent@0__:expired"));
        let (tx2, _rx2) = mpsc::unbounded_channel();
        hub.connect(6, tx2, ClientOutput::new());
        hub.watch(6, 0, &Bytes::from("gone"), false);
        let (tx3, _rx3) = mpsc::unbounded_channel();
        hub.connect(7, tx3, ClientOutput::new());
        hub.watch(7, 0, &Bytes::from("stays"), false);
        hub.notify = notify_bits::parse("Ex").unwrap();
        broker.server.sync_notifications();
        broker.cron();
        broker.server.hub.send_pushes();
        let Ok(Push::Data(d)) = rx.try_recv() else { panic!("no notification") };
        assert_eq!(&d[..], b"*3\r\n$7\r\nmessage\r\n$22\r\n__keyevent@0__:expired\r\n$4\r\ngone\r\n");
        assert!(rx.try_recv().is_err());
        assert!(broker.ks.dbs[0].get(b"gone").is_none());
        assert!(broker.server.hub.exec_check(6, &broker.ks, 2));
        assert!(!broker.server.hub.exec_check(7, &broker.ks, 2));
        broker.persister.shutdown();
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn watches_follow_effects() {
        let (mut hub, _rxs) = hub_with(&[1, 2, 3]);
        let mut ks = Keyspace::new(3);
        let k = Bytes::from("k");
        hub.watch(1, 0, &k, false);
        hub.watch(2, 1, &Bytes::from("absent"), false);
        hub.watch(3, 2, &k, false);
        // A swap touches watched keys existing in either database.
        ks.dbs[1].insert(&k, crate::state::Value::Str(Bytes::from("v").into()), None);
        ks.apply(&Effect::SwapDb { a: 0, b: 1 });
        hub.touch(&[Effect::SwapDb { a: 0, b: 1 }], &ks);
        assert!(hub.exec_check(1, &ks, 0));
        assert!(!hub.exec_check(2, &ks, 0));
        // Renames touch both names; flushes touch their database.
        hub.watch(1, 0, &Bytes::from("to"), false);
        hub.watch(2, 1, &Bytes::from("absent"), false);
        hub.touch(&[Effect::Rename { db: 0, from: k.clone(), to: Bytes::from("to") }], &ks);
        assert!(hub.exec_check(1, &ks, 0));
        hub.touch(&[Effect::FlushDb { db: 1 }], &ks);
        assert!(hub.exec_check(2, &ks, 0));
        assert!(!hub.exec_check(3, &ks, 0));
        // With the keys that existed before a flush, only those are touched.
        hub.watch(1, 2, &Bytes::from("there"), false);
        hub.watch(2, 2, &Bytes::from("absent"), false);
        ks.dbs[2].insert("there".as_bytes(), crate::state::Value::Str(Bytes::from("v").into()), None);
        let existed = hub.existing_watched(&ks);
        ks.apply(&Effect::FlushAll);
        hub.touch_after_flush(&[Effect::FlushAll], &ks, Some(&existed));
        assert!(hub.exec_check(1, &ks, 0));
        assert!(!hub.exec_check(2, &ks, 0));
    }

    #[test]
    fn notify_flags_parse_and_display_like_redis() {
        use notify_bits::*;
        assert_eq!(display(parse("KEA").unwrap()), "AKE");
        assert_eq!(display(parse("Kgx$").unwrap()), "g$xK");
        assert_eq!(display(parse("mnK").unwrap()), "nKm");
        assert_eq!(display(parse("An").unwrap()), "A");
        assert_eq!(parse("Q"), None);
        assert_eq!(parse(""), Some(0));
    }
}
