//! The broker: the one task that owns the keyspace.
//!
//! Connection tasks send [`Message`]s through a bounded channel; the broker
//! drains it in batches, executes each command synchronously against the
//! keyspace, parks blocking commands, and hands the effects of each drain to
//! persistence together with the replies that must wait for them. It never
//! awaits a connection.

mod blocking;
mod clients;
mod pause;
pub mod pubsub;

use bytes::{Bytes, BytesMut};
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::{mpsc, oneshot};

use crate::cmd::{self, ClientInfo, Ctx, KeyEvent, ServerState, Session};
use crate::persist::{PersistError, Persister, Release};
use crate::state::{Effect, HashMap, Keyspace};
use blocking::Waiters;

/// Something a connection asks of the broker.
#[derive(Debug)]
pub enum Message {
    /// A new client connected.
    Connect {
        /// What `CLIENT LIST` shows about it (boxed so that every message,
        /// most of them batches, stays small to move).
        info: Box<ClientInfo>,
        /// Where out-of-band frames for it go (pub/sub, kill).
        push: mpsc::UnboundedSender<Push>,
        /// Its pending-output counter and kill switch.
        output: Arc<pubsub::ClientOutput>,
    },
    /// A pipelined batch of commands from one client.
    Batch(Batch),
    /// A client disconnected.
    Disconnect {
        /// Its id.
        id: u64,
    },
    /// Stop: answer everything queued before this and take no more work;
    /// each connection ends once its last reply is written. The broker
    /// stops (flushing persistence) when every sender is gone.
    Shutdown,
    /// While stopping: close the connections still writing to clients that
    /// do not read (what their replies handed them goes back first).
    KillClients,
}

/// Commands decoded from one read of one connection, executed in order.
#[derive(Debug)]
pub struct Batch {
    /// The connection's session, lent for the batch (boxed: it travels to
    /// the broker and back with every batch, and a pointer moves cheaply).
    pub session: Box<Session>,
    /// The commands, each an argument vector (name first).
    pub commands: VecDeque<Vec<Bytes>>,
    /// Where the replies go.
    pub reply: oneshot::Sender<BatchReply>,
}

/// The encoded replies of one batch, and the session back.
#[derive(Debug)]
pub struct BatchReply {
    /// The session, updated by the batch.
    pub session: Box<Session>,
    /// Every reply, encoded, in order.
    pub out: BytesMut,
    /// Number of replies in `out`.
    pub replies: usize,
    /// How many of the replies follow a write (they fail if persistence does).
    pub writes: usize,
    /// What to give back if the replies never reach the client (elements a
    /// blocking pop handed to it).
    pub handback: Option<HandBack>,
    /// Pushes sent to this client before these replies were made: the
    /// connection writes those first.
    pub pushes_before: u64,
    /// Commands of the batch not run yet: the batch stopped once its
    /// replies reached [`BATCH_REPLY_LIMIT`]. The connection writes the
    /// replies, then sends these again, before any command read after them.
    pub rest: VecDeque<Vec<Bytes>>,
}

/// The reply bytes a batch gathers before the broker stops running it and
/// hands its remaining commands back ([`BatchReply::rest`]). A client that
/// pipelines reads of large values and never reads its replies then holds
/// about this much of the server's memory (plus its socket's buffer), not
/// its whole pipeline's worth: 2,000 pipelined `GET`s of a 1 MB value, never
/// read, grew the server by 1.2 GB, now by 2 MB (Redis 7.0: 1.9 GB). (A
/// single reply larger than this is still made whole.)
pub const BATCH_REPLY_LIMIT: usize = 1 << 20;

/// Elements handed to a client by a blocking pop, and the way back to the
/// broker: if the reply carrying them cannot be delivered (the client is
/// gone), [`HandBack::give_back`] returns them to where they were taken from.
#[derive(Debug)]
pub struct HandBack {
    returned: Returned,
    to: mpsc::UnboundedSender<Returned>,
}

/// What a [`HandBack`] returns: the inverse effects, and when (in the order
/// of hand-offs) they were handed out.
#[derive(Debug, PartialEq)]
pub struct Returned {
    /// Hand-offs are numbered in the order they were made.
    pub seq: u64,
    /// The inverse effects, in the order of the takes.
    pub effects: Vec<Effect>,
}

impl HandBack {
    /// Inverse `effects` of hand-off number `seq`, which will go back
    /// through `to`.
    pub fn new(seq: u64, effects: Vec<Effect>, to: mpsc::UnboundedSender<Returned>) -> HandBack {
        HandBack { returned: Returned { seq, effects }, to }
    }

    /// Sends the inverse effects to the broker, which re-applies (and logs) them.
    pub fn give_back(self) {
        let _ = self.to.send(self.returned);
    }
}

/// An out-of-band message to a connection.
#[derive(Debug)]
pub enum Push {
    /// Encoded frames to write as they are.
    Data(Bytes),
    /// Close the connection (`CLIENT KILL`, output limits).
    Kill,
    /// The client's batch is parked by a blocking command: pushes may be
    /// written before its reply.
    Parked,
    /// The parked batch was served: pushes made from now on follow its
    /// reply again (its reply was made before them).
    Resumed,
}

/// A batch's reply on its way out, once durable.
pub struct Outgoing {
    tx: oneshot::Sender<BatchReply>,
    reply: BatchReply,
}

impl Outgoing {
    /// Sends each reply to its connection; `failure` turns them into errors.
    fn deliver_all(replies: impl IntoIterator<Item = Outgoing>, failure: Option<&PersistError>) {
        for o in replies {
            o.deliver(failure);
        }
    }

    /// Sends the reply to its connection; `failure` turns it into errors:
    /// those of writes, and those of reads too, which may have read a write
    /// that failed (the keyspace holds it until the broker rolls it back).
    fn deliver(self, failure: Option<&PersistError>) {
        let mut reply = self.reply;
        if let Some(err) = failure {
            // The client gets an error instead of what it was handed.
            if let Some(h) = reply.handback.take() {
                h.give_back();
            }
            let mut out = BytesMut::new();
            let text = format!(
                "MISCONF Errors writing to the write-ahead log ({err}); writes are refused until the server is restarted"
            );
            for _ in 0..reply.replies {
                crate::resp::Frame::error_owned(text.clone()).encode(reply.session.proto, &mut out);
            }
            reply.out = out;
        }
        if let Err(mut reply) = self.tx.send(reply)
            && let Some(h) = reply.handback.take()
        {
            h.give_back();
        }
    }
}

/// What a round of the broker sends out once its writes (and every write
/// before them) are durable: the pushes it made (messages, keyspace events,
/// park markers), then its replies. Pushes wait as replies do: a message or
/// an event may reveal a write, and no client sees a write a crash could
/// take back. (Each connection numbers the pushes it is sent, so pushes and
/// replies land in order on its socket.)
#[derive(Default)]
pub struct Delivery {
    pushes: Vec<pubsub::PendingPush>,
    replies: Vec<Outgoing>,
    /// Commits this delivery stands for (see [`Broker::awaiting`]).
    groups: u64,
    /// Made after persistence failed, on the keyspace rolled back to the
    /// acknowledged data ([`Broker::roll_back`]): nothing in it can show a
    /// failed write, so it goes out as it is, though released (after the
    /// deliveries still in flight, in order) with the failure.
    rolled_back: bool,
}

impl Delivery {
    fn is_empty(&self) -> bool {
        self.pushes.is_empty() && self.replies.is_empty()
    }

    fn extend(&mut self, other: Delivery) {
        self.pushes.extend(other.pushes);
        self.replies.extend(other.replies);
        self.groups += other.groups;
    }

    /// Sends everything; after `failure` the replies are errors and the
    /// messages (which may tell of writes that failed) are withheld.
    fn deliver(self, failure: Option<&PersistError>) {
        let failure = if self.rolled_back { None } else { failure };
        for p in self.pushes {
            p.send(failure.is_some());
        }
        Outgoing::deliver_all(self.replies, failure);
    }
}

/// What one commit releases, handed back to the broker once durable: the
/// persistence thread wakes the broker once per group, and the broker sends
/// each push and reply to its connection on its own thread (no cross-thread
/// wake-up per client).
pub struct Durable {
    delivery: Delivery,
    home: mpsc::UnboundedSender<(Delivery, Option<PersistError>)>,
}

impl Release for Durable {
    fn release(self, failure: Option<&PersistError>) {
        if let Err(mpsc::error::SendError((delivery, failure))) = self.home.send((self.delivery, failure.cloned())) {
            // The broker has stopped: deliver from here.
            delivery.deliver(failure.as_ref());
        }
    }

    /// The groups of one commit go to the broker as one message, delivered
    /// in one turn of its loop (a message per group took a turn each).
    /// (Deliveries made before and after a rollback go as separate
    /// messages, in order: only the former are failed.)
    fn release_all(groups: impl Iterator<Item = Self>, failure: Option<&PersistError>) {
        let mut current: Option<Durable> = None;
        for g in groups {
            match &mut current {
                Some(c) if c.delivery.rolled_back == g.delivery.rolled_back => c.delivery.extend(g.delivery),
                _ => {
                    if let Some(c) = current.replace(g) {
                        c.release(failure);
                    }
                }
            }
        }
        if let Some(c) = current {
            c.release(failure);
        }
    }
}

/// A batch being executed or parked.
struct Running {
    session: Box<Session>,
    commands: VecDeque<Vec<Bytes>>,
    reply: oneshot::Sender<BatchReply>,
    out: BytesMut,
    replies: usize,
    writes: usize,
    /// Inverse effects of what blocking pops handed to this client.
    handback: Vec<Effect>,
}

/// The owner of all state.
pub struct Broker {
    ks: Keyspace,
    server: ServerState,
    persister: Persister<Durable>,
    /// Where durable groups come back to be delivered ([`Durable`]).
    durable_tx: mpsc::UnboundedSender<(Delivery, Option<PersistError>)>,
    durable_rx: Option<mpsc::UnboundedReceiver<(Delivery, Option<PersistError>)>>,
    /// Effects produced since the last hand-over to persistence.
    effects: Vec<Effect>,
    /// Replies waiting for the next hand-over.
    outbox: Vec<Outgoing>,
    /// Keyspace events raised since the last delivery.
    events: Vec<KeyEvent>,
    waiters: Waiters<Running>,
    pushes: HashMap<u64, mpsc::UnboundedSender<Push>>,
    /// Batches held by `CLIENT PAUSE`, in arrival order.
    held: VecDeque<Running>,
    shutdown: bool,
    /// Stopping ([`Broker::begin_stop`]): batches that arrive are dropped.
    stopping: bool,
    /// Deliveries handed to persistence and not yet back: until they are,
    /// a round with nothing to wait for must wait all the same, or its
    /// pushes and replies would overtake theirs.
    awaiting: u64,
    /// The kill switches of the clients connected when stopping began.
    stopped_outputs: Vec<Arc<pubsub::ClientOutput>>,
    /// Where undeliverable hand-offs come back ([`HandBack`]).
    returns_tx: mpsc::UnboundedSender<Returned>,
    returns_rx: Option<mpsc::UnboundedReceiver<Returned>>,
    /// Hand-offs made so far (numbers them).
    handoffs: u64,
    /// Per list end `(db, key, left)`: the elements given back there, from
    /// the end inward, with their hand-off numbers ([`Broker::place_given_back`]).
    given_back: HashMap<(u32, Bytes, bool), Vec<(u64, Bytes)>>,
    /// Whether the keyspace was rolled back to the acknowledged data after
    /// persistence failed ([`Broker::roll_back`]).
    rolled_back: bool,
}

/// Milliseconds since the Unix epoch.
pub fn unix_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

/// How long the broker keeps polling for requests, instead of sleeping,
/// when it has none queued while writes of several clients await their
/// fsync. A sleeping thread woken by every request costs the clients
/// sending them a cross-core wake-up each: with `redis-benchmark -c 50 -P 1
/// -t set`, 0.30-0.32 context switches per request in the server and
/// 8.9-9.7 µs of system time per request in the benchmark client; polling
/// for 20 µs, 0.18-0.23 and 7.7-8.8 µs, for 1-2 µs more server CPU per
/// request (three runs each). Throughput, 12 alternating pairs of runs:
/// SET +2.5%, INCR +6.4% (median ratio); `-P 16` unchanged. Not with a
/// single commit in flight: a lone writer sends nothing more until it is
/// answered.
const GATHER_SPIN: Duration = Duration::from_micros(20);

impl Broker {
    /// A broker over a recovered keyspace.
    pub fn new(ks: Keyspace, server: ServerState, persister: Persister<Durable>) -> Broker {
        let (returns_tx, returns_rx) = mpsc::unbounded_channel();
        let (durable_tx, durable_rx) = mpsc::unbounded_channel();
        Broker {
            durable_tx,
            durable_rx: Some(durable_rx),
            returns_tx,
            returns_rx: Some(returns_rx),
            handoffs: 0,
            given_back: HashMap::default(),
            rolled_back: false,
            ks,
            server,
            persister,
            effects: Vec::new(),
            outbox: Vec::new(),
            events: Vec::new(),
            waiters: Waiters::default(),
            pushes: HashMap::default(),
            held: VecDeque::new(),
            shutdown: false,
            stopping: false,
            awaiting: 0,
            stopped_outputs: Vec::new(),
        }
    }

    /// The first step of stopping: parked and held batches end (answered
    /// with what they ran; their clients are let go, as Redis does at
    /// shutdown) and the broker forgets
    /// every client, which closes its push queue, so that each connection
    /// ends once its last reply is written. Their kill switches are kept
    /// for [`Message::KillClients`]. Until every connection has ended the
    /// broker still takes back what undeliverable replies handed out, and
    /// logs it.
    fn begin_stop(&mut self) {
        self.stopping = true;
        // What they ran before they waited is answered (a `SET` ahead of a
        // `BLPOP` in the same pipeline); the rest never runs.
        let waiting: Vec<Running> = self.waiters.take_all().into_iter().chain(std::mem::take(&mut self.held)).collect();
        for run in waiting {
            self.answer_what_ran(run);
        }
        self.stopped_outputs = self.server.hub.forget_all();
        self.pushes.clear();
    }

    /// Runs until a [`Message::Shutdown`] arrives or every sender is gone.
    /// `on_shutdown_request` is called once when a client sends `SHUTDOWN`.
    pub async fn run(mut self, mut rx: mpsc::Receiver<Message>, on_shutdown_request: impl Fn()) {
        let mut msgs = Vec::with_capacity(256);
        let mut next_tick = tokio::time::Instant::now();
        let mut shutdown_signalled = false;
        let mut returns = self.returns_rx.take().expect("run is called once");
        let mut durable = self.durable_rx.take().expect("run is called once");
        // One timer for the whole loop, moved when its deadline changes: a
        // timer made afresh each round registered itself with the runtime's
        // timer wheel each time, and when the wheel was empty (the previous
        // one dropped) that registration woke the I/O driver with a write to
        // its event descriptor, about once per request at pipeline 1.
        let timer = tokio::time::sleep_until(next_tick);
        tokio::pin!(timer);
        loop {
            let tick = Duration::from_millis(1000 / self.server.config.hz.clamp(1, 500) as u64);
            let mut deadline = match self.waiters.next_deadline() {
                Some(ms) => next_tick.min(instant_for(ms)),
                None => next_tick,
            };
            if let (Some((until, _)), false) = (self.server.hub.pause, self.held.is_empty()) {
                deadline = deadline.min(instant_for(until));
            }
            if self.persister.busy() {
                // A snapshot walk advances a bounded step at a time.
                deadline = deadline.min(tokio::time::Instant::now() + Duration::from_millis(1));
            }
            if timer.deadline() != deadline {
                timer.as_mut().reset(deadline);
            }
            tokio::select! {
                n = rx.recv_many(&mut msgs, 256) => {
                    if n == 0 {
                        break;
                    }
                    for msg in msgs.drain(..) {
                        self.handle(msg);
                    }
                }
                Some((delivery, failure)) = durable.recv() => {
                    self.awaiting -= delivery.groups;
                    delivery.deliver(failure.as_ref());
                }
                Some(r) = returns.recv() => self.hand_back(r.seq, r.effects),
                _ = &mut timer => {
                    let now = tokio::time::Instant::now();
                    if now >= next_tick && !self.stopping {
                        next_tick = now + tick;
                        self.cron();
                    }
                    self.expire_waiters();
                }
            }
            self.release_paused();
            self.persistence_requests();
            self.persister.set_more_coming(!rx.is_empty());
            self.flush();
            self.persister.tick(&mut self.ks);
            if rx.is_empty() && self.persister.commits_in_flight() >= 2 {
                // Several clients' writes await the next fsync: more of the
                // clients just answered are sending their next requests,
                // about one every 10 µs. Keep polling the sockets for a
                // moment instead of sleeping, so that each does not cost a
                // wake-up. (A lone client waits for its reply: no polling.)
                let start = std::time::Instant::now();
                while rx.is_empty() && durable.is_empty() && start.elapsed() < GATHER_SPIN {
                    tokio::task::yield_now().await;
                }
            }
            if self.server.shutdown_requested && !shutdown_signalled {
                shutdown_signalled = true;
                on_shutdown_request();
            }
            if self.shutdown && !self.stopping {
                // Answer what is already queued, then take no more work.
                while let Ok(msg) = rx.try_recv() {
                    self.handle(msg);
                }
                self.begin_stop();
                self.flush();
            }
        }
        // Every sender is gone: what is left, then stop.
        while let Ok(msg) = rx.try_recv() {
            self.handle(msg);
        }
        self.flush();
        // Replies released by that flush to clients already gone give their
        // elements back; log those too before stopping.
        while let Ok(r) = returns.try_recv() {
            self.hand_back(r.seq, r.effects);
        }
        self.flush();
        self.persister.shutdown();
        // The last groups made durable while stopping.
        while let Ok((delivery, failure)) = durable.try_recv() {
            delivery.deliver(failure.as_ref());
        }
    }

    fn handle(&mut self, msg: Message) {
        match msg {
            Message::Connect { info, push, output } => {
                if !self.admit(info.id, &push) {
                    return;
                }
                self.server.stats.total_connections += 1;
                self.server.hub.connect(info.id, push.clone(), output);
                self.pushes.insert(info.id, push);
                self.server.clients.insert(info.id, *info);
            }
            Message::Disconnect { id } => {
                self.pushes.remove(&id);
                self.server.hub.disconnect(id);
                self.server.hub.refused.remove(&id);
                self.server.clients.remove(&id);
                // A parked batch: its client is gone, so its blocking command
                // ends; what ran before it is answered (a client that
                // half-closed still reads, and what the replies hand over
                // goes back if they cannot be written).
                if let Some(run) = self.waiters.remove_client(id) {
                    self.answer_what_ran(run);
                }
                // A batch held by `CLIENT PAUSE` will not run the rest of its
                // commands for a client that is gone; what it ran is answered
                // (a client that half-closed still reads). Left held, it ran
                // after the pause for a forgotten client, and a blocking
                // command in it waited for ever.
                let (gone, held): (VecDeque<Running>, VecDeque<Running>) =
                    std::mem::take(&mut self.held).into_iter().partition(|r| r.session.id == id);
                self.held = held;
                for run in gone {
                    self.answer_what_ran(run);
                }
            }
            // Stopping: no more work (the connection sees its batch dropped).
            Message::Batch(_) if self.stopping => {}
            Message::Batch(b) => {
                if self.server.hub.refused.contains(&b.session.id) {
                    // Refused by `maxclients`: the error push (the one push
                    // it was sent) goes out, then the connection closes.
                    let mut session = b.session;
                    session.close = true;
                    let reply = BatchReply {
                        session,
                        out: BytesMut::new(),
                        replies: 0,
                        writes: 0,
                        handback: None,
                        pushes_before: 1,
                        rest: VecDeque::new(),
                    };
                    let _ = b.reply.send(reply);
                    return;
                }
                let run = Running {
                    session: b.session,
                    commands: b.commands,
                    reply: b.reply,
                    out: BytesMut::new(),
                    replies: 0,
                    writes: 0,
                    handback: Vec::new(),
                };
                self.execute_batch(run);
            }
            Message::Shutdown => self.shutdown = true,
            Message::KillClients => {
                for out in &self.stopped_outputs {
                    out.kill();
                }
            }
        }
    }

    /// Executes a batch's commands until it finishes or parks.
    fn execute_batch(&mut self, mut run: Running) {
        let now_ms = unix_ms();
        self.server.call_clock = None;
        while let Some(argv) = run.commands.pop_front() {
            if self.server.hub.pause.is_some() && cmd::admin::pause_holds(&self.server, &run.session, &argv, now_ms) {
                run.commands.push_front(argv);
                if !run.out.is_empty() {
                    // The replies before it go out first (see below).
                    break;
                }
                // Told to the connection like a blocking command's wait, so
                // that a client closing meanwhile is let go (as Redis frees
                // a paused client that closes) instead of run after the pause.
                self.server.hub.parked(run.session.id, false);
                self.held.push_back(run);
                return;
            }
            let before = self.effects.len();
            let (frame, block) = self.exec_one(&mut run, &argv, now_ms, false);
            if !self.server.unblock_requests.is_empty() {
                self.unblock_requested();
            }
            if let Some(block) = block {
                run.commands.push_front(argv);
                if !run.out.is_empty() {
                    // Redis writes the replies of the commands before a
                    // blocking one as it runs them: the batch ends here, and
                    // the connection sends the rest, this command first,
                    // once they are written (it then waits with nothing
                    // held back).
                    break;
                }
                self.server.hub.parked(run.session.id, true);
                // `CLIENT LIST` shows the command it waits in.
                self.note_client(&run.session);
                self.waiters.park(run.session.id, run.session.db, block, run);
                return;
            }
            if run.session.no_reply {
                run.session.no_reply = false;
            } else {
                run.replies += self.server.hub.emit(&run.session, frame, &mut run.out);
            }
            if self.effects.len() > before {
                run.writes += 1;
                if !self.waiters.is_empty() {
                    self.wake_for(before);
                }
            }
            if run.session.close || run.out.len() >= BATCH_REPLY_LIMIT {
                break;
            }
        }
        self.reply_batch(run);
    }

    /// Sends a batch that stopped its reply, with the commands it did not
    /// run handed back to the connection.
    fn reply_batch(&mut self, mut run: Running) {
        self.note_client(&run.session);
        let handback = (!run.handback.is_empty()).then(|| {
            self.handoffs += 1;
            HandBack::new(self.handoffs, std::mem::take(&mut run.handback), self.returns_tx.clone())
        });
        let pushes_before = self.server.hub.sent_to(run.session.id);
        let reply = BatchReply {
            session: run.session,
            out: run.out,
            replies: run.replies,
            writes: run.writes,
            handback,
            pushes_before,
            rest: std::mem::take(&mut run.commands),
        };
        self.outbox.push(Outgoing { tx: run.reply, reply });
    }

    /// Runs one command of `run` against the state (`woken`: re-run for a
    /// parked client); a blocking command that must wait comes back with
    /// its [`cmd::Block`]. What it hands the client is noted in `run`.
    fn exec_one(
        &mut self,
        run: &mut Running,
        argv: &[Bytes],
        now_ms: u64,
        woken: bool,
    ) -> (crate::resp::Frame, Option<cmd::Block>) {
        // As Redis 7.0 counts them: clients held by `CLIENT PAUSE` too.
        self.server.blocked_clients = self.waiters.len() + self.held.len();
        if argv.first().is_some_and(|name| name.eq_ignore_ascii_case(b"info") || name.eq_ignore_ascii_case(b"exec")) {
            self.refresh_persistence_figures();
        }
        if woken {
            self.server.call_clock = None;
        }
        let mut ctx = Ctx {
            ks: &mut self.ks,
            session: &mut run.session,
            server: &mut self.server,
            effects: &mut self.effects,
            now_ms,
            in_exec: false,
            block: None,
            events: &mut self.events,
            woken,
            handback: Vec::new(),
            redacted: Vec::new(),
        };
        let frame = cmd::dispatch::run(&mut ctx, argv);
        let block = ctx.block.take();
        // In the order of the takes; `hand_back` undoes them last first.
        run.handback.extend(ctx.handback);
        (frame, block)
    }

    /// Drops a parked batch whose client is gone, giving back what earlier
    /// commands of the batch were handed (their replies were never sent).
    fn abandon(&mut self, run: Running) {
        if !run.handback.is_empty() {
            self.handoffs += 1;
            self.hand_back(self.handoffs, run.handback);
        }
    }

    /// Ends a waiting (parked or held) batch whose client is gone or that
    /// stopping ends: what it ran is answered, the rest never runs.
    fn answer_what_ran(&mut self, mut run: Running) {
        run.commands.clear();
        self.reply_batch(run);
    }

    /// Re-applies elements whose hand-off failed (the client was gone), as
    /// new logged effects — a change to `WATCH` and to keyspace
    /// notifications like the push it is — and serves anyone waiting for them.
    /// Not after persistence failed: nothing can be logged, and the rollback
    /// to the acknowledged data puts back every element whose pop failed.
    fn hand_back(&mut self, seq: u64, effects: Vec<Effect>) {
        if self.persister.failure().is_some() {
            return;
        }
        use crate::state::Value;
        for e in effects.into_iter().rev() {
            let (db, key, class, event) = match &e {
                Effect::ListPush { db, key, left, .. } => (*db, key, 'l', if *left { "lpush" } else { "rpush" }),
                Effect::ZAdd { db, key, .. } => (*db, key, 'z', "zadd"),
                _ => continue,
            };
            let fits = match self.ks.dbs[db as usize].get(key).map(|x| &x.value) {
                None => true,
                Some(Value::List(_)) => class == 'l',
                Some(Value::ZSet(_)) => class == 'z',
                Some(_) => false,
            };
            if !fits {
                tracing::warn!("cannot give back elements to {key:?}: it now holds another type");
                continue;
            }
            let key = key.clone();
            let before = self.effects.len();
            let placed = match e {
                Effect::ListPush { db, key, left, items } => self.place_given_back(seq, db, key, left, items),
                other => vec![other],
            };
            for e in placed {
                self.ks.apply(&e);
                self.effects.push(e);
            }
            self.server.hub.touch(&self.effects[before..], &self.ks);
            if self.server.notifications {
                self.events.push(KeyEvent { class, event, db, key });
                self.server.hub.notify_events(self.events.drain(..));
            }
            if !self.waiters.is_empty() {
                self.wake_for(before);
            }
        }
    }

    /// Where elements given back to an end of a list go: past those given
    /// back there earlier that were handed out before them and are still in
    /// place, so that a queue whose consumers vanish one after another comes
    /// back in its order. `items` are in push order (a `ListPush`); the
    /// effects that put them there are returned.
    fn place_given_back(&mut self, seq: u64, db: u32, key: Bytes, left: bool, items: Vec<Bytes>) -> Vec<Effect> {
        use crate::state::Value;
        const KEPT: usize = 1024;
        let slot = (db, key.clone(), left);
        let mut run = self.given_back.remove(&slot).unwrap_or_default();
        let list = match self.ks.dbs[db as usize].get(&key).map(|x| &x.value) {
            Some(Value::List(l)) => Some(l),
            _ => None,
        };
        let len = list.map_or(0, |l| l.len());
        // The elements given back earlier that are still at that end, as
        // they were left (anything else that happened there ends the run).
        let at_end = |j: usize| -> Option<&[u8]> { list?.get(if left { j } else { len.checked_sub(j + 1)? }) };
        let keep = run.iter().enumerate().take_while(|(j, (_, e))| at_end(*j) == Some(e.as_ref())).count();
        run.truncate(keep);
        let past = run.iter().take_while(|(s, _)| *s < seq).count();
        // From the end inward, the new elements come in reverse push order.
        let inward: Vec<Bytes> = items.iter().rev().cloned().collect();
        let effects = if past == 0 {
            vec![Effect::ListPush { db, key: key.clone(), left, items }]
        } else if left {
            (inward.iter().enumerate())
                .map(|(j, value)| Effect::ListInsert { db, key: key.clone(), index: past + j, value: value.clone() })
                .collect()
        } else {
            (items.iter().enumerate())
                .map(|(j, value)| Effect::ListInsert {
                    db,
                    key: key.clone(),
                    index: len - past + j,
                    value: value.clone(),
                })
                .collect()
        };
        for (j, value) in inward.into_iter().enumerate() {
            run.insert(past + j, (seq, value));
        }
        run.truncate(KEPT);
        if self.given_back.len() >= 10_000 {
            self.given_back.clear();
        }
        self.given_back.insert(slot, run);
        effects
    }

    fn note_client(&mut self, s: &Session) {
        if let Some(c) = self.server.clients.get_mut(&s.id) {
            c.db = s.db;
            c.proto = s.proto;
            c.last_active = std::time::Instant::now();
            if c.name != s.name {
                c.name.clone_from(&s.name);
            }
            if (&c.lib.0, &c.lib.1) != (&s.lib_name, &s.lib_ver) {
                c.lib = (s.lib_name.clone(), s.lib_ver.clone());
            }
            if c.last_cmd != s.last_cmd {
                s.last_cmd.clone_into(&mut c.last_cmd);
            }
            c.queued = s.multi.as_ref().map(|m| m.queue.len());
        }
    }

    /// The watched keys that effects from `from` on may have given elements.
    fn ready_keys(&self, from: usize) -> Vec<(u32, Bytes)> {
        let mut out = Vec::new();
        for e in &self.effects[from..] {
            if let Effect::SwapDb { a, b } = e {
                for db in [*a, *b] {
                    out.extend(self.waiters.keys_in(db).into_iter().map(|k| (db, k)));
                }
            } else if let Some((db, k)) = e.target()
                && self.waiters.has_key(db, k)
            {
                out.push((db, k.clone()));
            }
        }
        out
    }

    /// Serves parked clients whose keys were touched by effects from `from` on.
    fn wake_for(&mut self, from: usize) {
        let mut ready: VecDeque<(u32, Bytes)> = self.ready_keys(from).into();
        while let Some((db, key)) = ready.pop_front() {
            for id in self.waiters.line(db, &key) {
                let Some((mut run, place)) = self.waiters.take(id) else { continue };
                if run.reply.is_closed() {
                    self.abandon(run);
                    continue;
                }
                let mark = self.effects.len();
                let argv = run.commands.pop_front().expect("a parked batch has its blocked command first");
                let (frame, block) = self.exec_one(&mut run, &argv, unix_ms(), true);
                if block.is_some() {
                    // Nothing for it: it keeps its place in every line. If
                    // the key is still there, it holds something this one
                    // cannot use (another type): the next may.
                    run.commands.push_front(argv);
                    self.waiters.put_back(run, place);
                    if self.ks.dbs[db as usize].get(&key).is_some() {
                        continue;
                    }
                    break;
                }
                self.server.hub.resumed(run.session.id);
                run.replies += self.server.hub.emit(&run.session, frame, &mut run.out);
                if self.effects.len() > mark {
                    run.writes += 1;
                    ready.extend(self.ready_keys(mark));
                }
                self.execute_batch(run);
            }
        }
    }

    /// Answers parked clients whose deadline has passed.
    fn expire_waiters(&mut self) {
        let now = unix_ms();
        for (run, on_timeout) in self.waiters.take_expired(now) {
            self.end_wait(run, on_timeout);
        }
    }

    /// Ends the waits `CLIENT UNBLOCK` asked for: each answers as on its
    /// timeout, or with Redis's `UNBLOCKED` error.
    fn unblock_requested(&mut self) {
        for (id, error) in std::mem::take(&mut self.server.unblock_requests) {
            if let Some((run, on_timeout)) = self.waiters.take_client(id) {
                let reply = if error {
                    crate::resp::Frame::error("UNBLOCKED client unblocked via CLIENT UNBLOCK")
                } else {
                    on_timeout
                };
                cmd::dispatch::count_error_in(&mut self.server.hub.errorstats, &reply);
                self.end_wait(run, reply);
            }
        }
    }

    /// Answers a parked batch's blocking command with `reply` and runs the
    /// rest of the batch.
    fn end_wait(&mut self, mut run: Running, reply: crate::resp::Frame) {
        // A blocking command that ends without being served is a call too
        // (`INFO commandstats`), as in Redis; a served one is counted when
        // it runs again.
        if let Some(c) = run.commands.front().and_then(|argv| cmd::lookup(&argv[0])) {
            let st = self.server.hub.cmdstats.entry(c.name).or_default();
            st.calls += 1;
            if reply.is_error() {
                st.failed += 1;
            }
        }
        run.commands.pop_front();
        self.server.hub.resumed(run.session.id);
        run.replies += self.server.hub.emit(&run.session, reply, &mut run.out);
        self.execute_batch(run);
    }

    /// Periodic work: active expiry with a bounded budget per tick.
    fn cron(&mut self) {
        const PER_DB_BUDGET: usize = 200;
        self.server.peak_rss = self.server.peak_rss.max(crate::cmd::server::rss_bytes());
        let now = unix_ms();
        let mark = self.effects.len();
        // During `CLIENT PAUSE` keys are not expired in the background, as
        // in Redis: the data set stays as it was paused.
        let dbs = if self.server.expiry_paused(now) { 0 } else { self.ks.dbs.len() };
        for db in 0..dbs {
            let keys = self.ks.dbs[db].expired_keys(now, PER_DB_BUDGET);
            for key in keys {
                if self.server.notifications {
                    self.events.push(KeyEvent { class: 'x', event: "expired", db: db as u32, key: key.clone() });
                }
                let e = Effect::Del { db: db as u32, key };
                self.ks.apply(&e);
                self.effects.push(e);
                self.server.stats.expired_keys += 1;
            }
        }
        self.server.hub.touch(&self.effects[mark..], &self.ks);
        self.server.hub.notify_events(self.events.drain(..));
        self.close_idle_clients();
        let commands = self.server.stats.total_commands;
        self.server.stats.ops_per_sec.sample(std::time::Instant::now(), commands);
        self.refresh_persistence_figures();
        self.server.snapshot_in_progress = self.persister.busy();
    }

    /// Copies what `INFO persistence` and `LASTSAVE` report from the
    /// persister into the state commands read (each cron tick, and before
    /// any command that may run `INFO`, so it never shows figures older
    /// than the writes already acknowledged).
    fn refresh_persistence_figures(&mut self) {
        self.server.info_persistence = self.persister.info();
        if let Some(t) = self.persister.last_save() {
            self.server.last_save = t;
        }
    }

    /// Acts on `SAVE` and `BGSAVE`/`BGREWRITEAOF` requests made by commands.
    fn persistence_requests(&mut self) {
        if std::mem::take(&mut self.server.appendfsync_changed) {
            self.persister.set_policy(self.server.config.appendfsync);
        }
        if std::mem::take(&mut self.server.bgsave_requested) {
            self.persister.request_snapshot();
            self.server.snapshot_in_progress = true;
        }
        if std::mem::take(&mut self.server.save_requested) {
            // The snapshot must follow every effect applied so far, and the
            // SAVE reply must wait for it: commit the effects alone first.
            self.persister.commit(&mut self.effects, Vec::new());
            match self.persister.save(&mut self.ks) {
                Ok(()) => {
                    if let Some(t) = self.persister.last_save() {
                        self.server.last_save = t;
                    }
                }
                Err(e) => tracing::warn!(error = %e, "SAVE failed"),
            }
        }
    }

    /// Hands this round's effects and replies to persistence, or releases the
    /// replies at once when nothing they depend on is still in flight.
    fn flush(&mut self) {
        // Keyspace events are published after each command (`cmd::dispatch`)
        // and after active expiry; nothing is left to deliver here.
        self.events.clear();
        let mut delivery = Delivery {
            pushes: self.server.hub.take_pushes(),
            replies: std::mem::take(&mut self.outbox),
            groups: 0,
            rolled_back: false,
        };
        if self.server.write_refusal.is_none()
            && let Some(err) = self.persister.failure()
        {
            self.server.write_refusal = Some(format!(
                "MISCONF Errors writing to the write-ahead log ({err}); writes are refused until the server is restarted"
            ));
            // This round ran on a keyspace that may hold failed writes: its
            // replies are errors, after those of the rounds before it.
            if self.awaiting == 0 && self.persister.is_idle() {
                delivery.deliver(Some(&err));
            } else {
                let group = self.durable(delivery);
                self.persister.commit(&mut Vec::new(), vec![group]);
            }
            // Its writes cannot be logged; the rollback undoes them.
            self.effects.clear();
            self.roll_back();
            return;
        }
        if self.server.write_refusal.is_some() {
            // Nothing more can be logged (active expiry still removes keys
            // from memory; a restart drops them as expired too), and reads
            // need not wait for it. This round ran on the rolled-back data.
            self.effects.clear();
            delivery.rolled_back = self.rolled_back;
        }
        // Nothing to wait for: no write now, none in flight, and no earlier
        // delivery still on its way back (a group marked durable whose
        // delivery this loop has not taken yet goes first).
        if !self.persister.is_enabled() || (self.effects.is_empty() && self.persister.is_idle() && self.awaiting == 0) {
            delivery.deliver(None);
            self.effects.clear();
            return;
        }
        let group = (!delivery.is_empty()).then(|| self.durable(delivery));
        self.persister.commit(&mut self.effects, group.into_iter().collect());
    }

    /// A delivery to release once the commit it goes with is durable.
    fn durable(&mut self, mut delivery: Delivery) -> Durable {
        delivery.groups = 1;
        self.awaiting += 1;
        Durable { delivery, home: self.durable_tx.clone() }
    }

    /// After persistence failed: the keyspace goes back to what clients were
    /// told is stored (read back from disk; the broker waits meanwhile), so
    /// that no read shows a write whose reply was an error or that a restart
    /// could take back. Every watch is broken.
    fn roll_back(&mut self) {
        let started = std::time::Instant::now();
        match self.persister.acknowledged_state(&mut self.ks) {
            Ok(Some(ks)) => {
                self.ks = ks;
                self.rolled_back = true;
                self.server.hub.touch_all_watches();
                tracing::warn!(
                    keys = self.ks.total_keys(),
                    ms = started.elapsed().as_millis() as u64,
                    "the data went back to the last acknowledged write: reads show only what clients were told is stored"
                );
            }
            Ok(None) => {}
            Err(e) => tracing::error!(
                error = %e,
                "could not read back the acknowledged data after the failure: reads may show writes that failed"
            ),
        }
    }
}

fn instant_for(unix_ms_deadline: u64) -> tokio::time::Instant {
    let now = unix_ms();
    let start = tokio::time::Instant::now();
    // A blocking timeout may reach `i64::MAX` milliseconds: past what an
    // `Instant` holds, a century ahead is as good as never.
    let far = Duration::from_secs(100 * 365 * 86_400);
    let wait = Duration::from_millis(unix_ms_deadline.saturating_sub(now)).min(far);
    start + wait
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::state::Value;

    fn broker() -> Broker {
        // Without persistence replies leave at each flush, synchronously.
        let config = Config { appendonly: false, ..Config::default() };
        let (persister, ks) = Persister::open(&config).expect("in-memory persistence");
        Broker::new(ks, ServerState::new(config), persister)
    }

    fn send(b: &mut Broker, client: u64, commands: &[&[&str]]) -> oneshot::Receiver<BatchReply> {
        let (tx, rx) = oneshot::channel();
        let commands =
            commands.iter().map(|c| c.iter().map(|a| Bytes::copy_from_slice(a.as_bytes())).collect()).collect();
        let session = Box::new(Session { id: client, ..Session::default() });
        b.handle(Message::Batch(Batch { session, commands, reply: tx }));
        rx
    }

    fn list(b: &Broker, key: &str) -> Vec<Bytes> {
        match b.ks.dbs[0].get(key.as_bytes()).map(|e| &e.value) {
            Some(Value::List(l)) => l.iter().detached().collect(),
            _ => Vec::new(),
        }
    }

    fn out(rx: &mut oneshot::Receiver<BatchReply>) -> String {
        String::from_utf8_lossy(&rx.try_recv().expect("a reply").out).into_owned()
    }

    /// Feeds back what undeliverable replies returned, as `run` would.
    fn take_returns(b: &mut Broker, returns: &mut mpsc::UnboundedReceiver<Returned>) -> usize {
        let mut n = 0;
        while let Ok(r) = returns.try_recv() {
            b.hand_back(r.seq, r.effects);
            n += 1;
        }
        n
    }

    #[test]
    fn a_batch_stops_once_its_replies_reach_the_limit_and_hands_back_the_rest() {
        let mut b = broker();
        let big = "x".repeat(BATCH_REPLY_LIMIT / 2 + 1);
        send(&mut b, 1, &[&["SET", "big", &big]]);
        let mut rx = send(&mut b, 1, &[&["GET", "big"], &["INCR", "n"], &["GET", "big"], &["INCR", "n"], &["PING"]]);
        b.flush();
        let reply = rx.try_recv().expect("a reply");
        // Two values passed the limit: the commands after the second wait.
        assert_eq!(reply.replies, 3);
        let rest: Vec<Vec<Bytes>> = reply.rest.into();
        assert_eq!(rest, [vec![Bytes::from("INCR"), Bytes::from("n")], vec![Bytes::from("PING")]]);
        assert!(reply.out.ends_with(format!("{big}\r\n").as_bytes()));
        // Nothing of the rest ran.
        let mut rx = send(&mut b, 1, &[&["GET", "n"]]);
        b.flush();
        assert_eq!(out(&mut rx), "$1\r\n1\r\n");
        // Small replies never stop a batch.
        let mut rx = send(&mut b, 1, &[&["PING"], &["PING"]]);
        b.flush();
        assert!(rx.try_recv().expect("a reply").rest.is_empty());
    }

    #[test]
    fn an_element_served_to_a_client_gone_before_the_reply_goes_back() {
        let mut b = broker();
        let mut returns = b.returns_rx.take().unwrap();
        let waiter = send(&mut b, 1, &[&["BLPOP", "q", "0"]]);
        let mut producer = send(&mut b, 2, &[&["RPUSH", "q", "a", "b"]]);
        // The waiter was served `a`; its connection goes away before the
        // reply leaves (the check before serving could not see it).
        assert_eq!(list(&b, "q"), ["b"]);
        drop(waiter);
        b.flush();
        assert_eq!(out(&mut producer), ":2\r\n");
        assert_eq!(take_returns(&mut b, &mut returns), 1);
        assert_eq!(list(&b, "q"), ["a", "b"]);
        // Giving back is a logged effect like any other.
        assert!(matches!(b.effects.last(), Some(Effect::ListPush { left: true, .. })));
    }

    /// Found by review: elements given back together came back reversed (a
    /// push to the head each, in the order they were served), and a give
    /// back was no change to `WATCH`.
    #[test]
    fn elements_given_back_together_keep_their_order_and_count_as_a_change() {
        let mut b = broker();
        let mut returns = b.returns_rx.take().unwrap();
        let waiters: Vec<_> = (1..=3).map(|id| send(&mut b, id, &[&["BLPOP", "q", "0"]])).collect();
        let _producer = send(&mut b, 8, &[&["RPUSH", "q", "e0", "e1", "e2"]]);
        let (push, _pushes) = mpsc::unbounded_channel();
        b.server.hub.connect(9, push, crate::broker::pubsub::ClientOutput::new());
        let _watch = send(&mut b, 9, &[&["WATCH", "q"]]);
        assert!(list(&b, "q").is_empty());
        drop(waiters);
        b.flush();
        assert_eq!(take_returns(&mut b, &mut returns), 3);
        assert_eq!(list(&b, "q"), ["e0", "e1", "e2"]);
        let mut exec = send(&mut b, 9, &[&["MULTI"], &["SET", "x", "1"], &["EXEC"]]);
        b.flush();
        assert_eq!(out(&mut exec), "+OK\r\n+QUEUED\r\n*-1\r\n");
    }

    /// Found by review: elements given back one after another (consumers
    /// killed at different times) went to the head each, reversing the
    /// queue. Each now goes past those given back before it that were
    /// handed out earlier, at either end.
    #[test]
    fn elements_given_back_one_after_another_keep_their_order() {
        for pop in ["BLPOP", "BRPOP"] {
            let mut b = broker();
            let mut returns = b.returns_rx.take().unwrap();
            let mut waiters: Vec<_> = (1..=3).map(|id| send(&mut b, id, &[&[pop, "q", "0"]])).collect();
            let _producer = send(&mut b, 8, &[&["RPUSH", "q", "head", "e0", "e1", "e2", "tail"]]);
            b.flush();
            let mut handed: Vec<_> =
                waiters.iter_mut().map(|w| w.try_recv().expect("served").handback.expect("handed")).collect();
            // Given back in the order second, third, first.
            let order = [1, 2, 0];
            let mut taken: Vec<Option<HandBack>> = handed.drain(..).map(Some).collect();
            for i in order {
                taken[i].take().unwrap().give_back();
                assert_eq!(take_returns(&mut b, &mut returns), 1);
            }
            assert_eq!(list(&b, "q"), ["head", "e0", "e1", "e2", "tail"], "{pop}");
        }
    }

    #[test]
    fn a_given_back_element_serves_the_next_waiter() {
        let mut b = broker();
        let mut returns = b.returns_rx.take().unwrap();
        let first = send(&mut b, 1, &[&["BRPOP", "q", "0"]]);
        let mut second = send(&mut b, 3, &[&["BLMPOP", "0", "1", "q", "RIGHT", "COUNT", "5"]]);
        let _producer = send(&mut b, 2, &[&["RPUSH", "q", "a", "b", "c"]]);
        // First served `c`; second took `a b`.
        assert!(list(&b, "q").is_empty());
        drop(first);
        b.flush();
        assert_eq!(out(&mut second), "*2\r\n$1\r\nq\r\n*2\r\n$1\r\nb\r\n$1\r\na\r\n");
        assert_eq!(take_returns(&mut b, &mut returns), 1);
        assert_eq!(list(&b, "q"), ["c"]);
        let mut third = send(&mut b, 4, &[&["BRPOP", "q", "0"]]);
        b.flush();
        assert_eq!(out(&mut third), "*2\r\n$1\r\nq\r\n$1\r\nc\r\n");
    }

    #[test]
    fn delivered_replies_give_nothing_back_and_moves_are_kept() {
        let mut b = broker();
        let mut returns = b.returns_rx.take().unwrap();
        let mut popper = send(&mut b, 1, &[&["BLPOP", "q", "0"]]);
        let mover = send(&mut b, 3, &[&["BLMOVE", "q", "done", "LEFT", "RIGHT", "0"]]);
        let _producer = send(&mut b, 2, &[&["RPUSH", "q", "a", "b"]]);
        drop(mover);
        b.flush();
        assert_eq!(out(&mut popper), "*2\r\n$1\r\nq\r\n$1\r\na\r\n");
        // A moved element is safe in its destination: nothing to give back.
        assert_eq!(take_returns(&mut b, &mut returns), 0);
        assert_eq!(list(&b, "done"), ["b"]);
    }

    #[test]
    fn a_waiter_keeps_its_deadline_when_reparked() {
        let mut b = broker();
        let _first = send(&mut b, 1, &[&["BLPOP", "q", "0"]]);
        let _second = send(&mut b, 3, &[&["BLPOP", "q", "100"]]);
        let deadline = b.waiters.next_deadline().unwrap();
        // Let the clock move so a recomputed deadline would differ.
        let t = unix_ms();
        while unix_ms() == t {
            std::hint::spin_loop();
        }
        // The first waiter takes the only element; the second is woken for
        // nothing and parked again with its original deadline.
        let _producer = send(&mut b, 2, &[&["RPUSH", "q", "a"]]);
        assert!(list(&b, "q").is_empty());
        assert_eq!(b.waiters.next_deadline(), Some(deadline));
    }

    fn apply(b: &mut Broker, e: Effect) {
        let before = b.effects.len();
        b.ks.apply(&e);
        b.effects.push(e);
        b.wake_for(before);
    }

    fn put_list(db: u32, key: &str, item: &str) -> Effect {
        let value = Value::List([Bytes::copy_from_slice(item.as_bytes())].into_iter().collect());
        Effect::Put {
            db,
            key: Bytes::copy_from_slice(key.as_bytes()),
            value,
            expire: crate::state::ExpireChange::Clear,
        }
    }

    #[test]
    fn rename_copy_move_and_swapdb_wake_waiters() {
        let mut b = broker();
        let k = |s: &str| Bytes::copy_from_slice(s.as_bytes());
        let mut renamed = send(&mut b, 1, &[&["BLPOP", "renamed", "0"]]);
        let mut copied = send(&mut b, 2, &[&["BLPOP", "copied", "0"]]);
        let mut moved = send(&mut b, 3, &[&["BLPOP", "moved", "0"]]);
        let mut swapped = send(&mut b, 4, &[&["BLPOP", "swapped", "0"]]);
        apply(&mut b, put_list(0, "tmp", "a"));
        apply(&mut b, Effect::Rename { db: 0, from: k("tmp"), to: k("renamed") });
        apply(&mut b, put_list(0, "copied", "b"));
        apply(&mut b, put_list(1, "moved", "c"));
        apply(&mut b, Effect::Move { db: 1, key: k("moved"), to_db: 0 });
        apply(&mut b, put_list(1, "swapped", "d"));
        apply(&mut b, Effect::SwapDb { a: 0, b: 1 });
        b.flush();
        assert_eq!(out(&mut renamed), "*2\r\n$7\r\nrenamed\r\n$1\r\na\r\n");
        assert_eq!(out(&mut copied), "*2\r\n$6\r\ncopied\r\n$1\r\nb\r\n");
        assert_eq!(out(&mut moved), "*2\r\n$5\r\nmoved\r\n$1\r\nc\r\n");
        assert_eq!(out(&mut swapped), "*2\r\n$7\r\nswapped\r\n$1\r\nd\r\n");
        assert!(b.waiters.is_empty());
    }

    #[test]
    fn a_pipeline_abandoned_while_parked_gives_back_what_it_was_handed() {
        let mut b = broker();
        let mut returns = b.returns_rx.take().unwrap();
        let _producer = send(&mut b, 2, &[&["RPUSH", "q1", "a", "b"]]);
        let waiter = send(&mut b, 1, &[&["BLPOP", "q1", "0"], &["BLPOP", "q2", "0"]]);
        assert_eq!(list(&b, "q1"), ["b"]);
        drop(waiter);
        // The batch is answered with what it ran; that reply cannot reach
        // the client, so what it handed over comes back.
        b.handle(Message::Disconnect { id: 1 });
        assert!(b.waiters.is_empty());
        b.flush();
        assert_eq!(take_returns(&mut b, &mut returns), 1);
        assert_eq!(list(&b, "q1"), ["a", "b"]);
    }

    /// Found by review: a client that half-closed while parked lost the
    /// replies to the commands its pipeline ran before the blocking one
    /// (Redis sends them, then closes).
    #[test]
    fn a_client_gone_while_parked_is_answered_what_ran_before() {
        let mut b = broker();
        let mut waiter = send(&mut b, 1, &[&["SET", "y", "1"], &["BLPOP", "q", "0"]]);
        b.handle(Message::Disconnect { id: 1 });
        b.flush();
        assert_eq!(out(&mut waiter), "+OK\r\n");
        assert!(b.waiters.is_empty());
    }
}
