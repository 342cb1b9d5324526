//! The broker: the one task that owns the keyspace.
//!
//! Connection tasks send [`Message`]s through a bounded channel; the broker
//! drains it in batches, executes each command synchronously against the
//! keyspace, parks blocking commands, and hands the effects of each drain to
//! persistence together with the replies that must wait for them. It never
//! awaits a connection.

mod blocking;

use bytes::{Bytes, BytesMut};
use std::collections::{HashMap, VecDeque};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::{mpsc, oneshot};

use crate::cmd::{self, ClientInfo, Ctx, KeyEvent, ServerState, Session};
use crate::persist::{PersistError, Persister, Release};
use crate::state::{Effect, Keyspace};
use blocking::Waiters;

/// Something a connection asks of the broker.
#[derive(Debug)]
pub enum Message {
    /// A new client connected.
    Connect {
        /// What `CLIENT LIST` shows about it.
        info: ClientInfo,
        /// Where out-of-band frames for it go (pub/sub, kill).
        push: mpsc::UnboundedSender<Push>,
    },
    /// A pipelined batch of commands from one client.
    Batch(Batch),
    /// A client disconnected.
    Disconnect {
        /// Its id.
        id: u64,
    },
    /// Stop: answer everything queued before this, flush persistence, exit.
    Shutdown,
}

/// Commands decoded from one read of one connection, executed in order.
#[derive(Debug)]
pub struct Batch {
    /// The connection's session, lent for the batch.
    pub session: Session,
    /// The commands, each an argument vector (name first).
    pub commands: VecDeque<Vec<Bytes>>,
    /// Where the replies go.
    pub reply: oneshot::Sender<BatchReply>,
}

/// The encoded replies of one batch, and the session back.
#[derive(Debug)]
pub struct BatchReply {
    /// The session, updated by the batch.
    pub session: Session,
    /// Every reply, encoded, in order.
    pub out: BytesMut,
    /// Number of replies in `out`.
    pub replies: usize,
    /// How many of the replies follow a write (they fail if persistence does).
    pub writes: usize,
}

/// An out-of-band message to a connection.
#[derive(Debug)]
pub enum Push {
    /// Encoded frames to write as they are.
    Data(Bytes),
    /// Close the connection (`CLIENT KILL`, output limits).
    Kill,
}

/// A batch's reply on its way out, once durable.
pub struct Outgoing {
    tx: oneshot::Sender<BatchReply>,
    reply: BatchReply,
}

impl Release for Outgoing {
    fn release(self, failure: Option<&PersistError>) {
        let mut reply = self.reply;
        if let Some(err) = failure {
            if reply.writes > 0 {
                let mut out = BytesMut::new();
                let text = format!(
                    "MISCONF Errors writing to the write-ahead log ({err}); writes are refused until the server is restarted"
                );
                for _ in 0..reply.replies {
                    crate::resp::Frame::error_owned(text.clone()).encode(reply.session.proto, &mut out);
                }
                reply.out = out;
            }
        }
        let _ = self.tx.send(reply);
    }
}

/// A batch being executed or parked.
struct Running {
    session: Session,
    commands: VecDeque<Vec<Bytes>>,
    reply: oneshot::Sender<BatchReply>,
    out: BytesMut,
    replies: usize,
    writes: usize,
}

/// The owner of all state.
pub struct Broker {
    ks: Keyspace,
    server: ServerState,
    persister: Persister<Outgoing>,
    /// Effects produced since the last hand-over to persistence.
    effects: Vec<Effect>,
    /// Replies waiting for the next hand-over.
    outbox: Vec<Outgoing>,
    /// Keyspace events raised since the last delivery.
    events: Vec<KeyEvent>,
    waiters: Waiters<Running>,
    pushes: HashMap<u64, mpsc::UnboundedSender<Push>>,
    shutdown: bool,
}

/// Milliseconds since the Unix epoch.
pub fn unix_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

impl Broker {
    /// A broker over a recovered keyspace.
    pub fn new(ks: Keyspace, server: ServerState, persister: Persister<Outgoing>) -> Broker {
        Broker {
            ks,
            server,
            persister,
            effects: Vec::new(),
            outbox: Vec::new(),
            events: Vec::new(),
            waiters: Waiters::default(),
            pushes: HashMap::new(),
            shutdown: false,
        }
    }

    /// Runs until a [`Message::Shutdown`] arrives or every sender is gone.
    /// `on_shutdown_request` is called once when a client sends `SHUTDOWN`.
    pub async fn run(mut self, mut rx: mpsc::Receiver<Message>, on_shutdown_request: impl Fn()) {
        let mut msgs = Vec::with_capacity(256);
        let tick = Duration::from_millis(1000 / self.server.config.hz.max(1) as u64);
        let mut next_tick = tokio::time::Instant::now() + tick;
        let mut shutdown_signalled = false;
        loop {
            let mut deadline = match self.waiters.next_deadline() {
                Some(ms) => next_tick.min(instant_for(ms)),
                None => next_tick,
            };
            if self.persister.busy() {
                // A snapshot walk advances a bounded step at a time.
                deadline = deadline.min(tokio::time::Instant::now() + Duration::from_millis(1));
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
                _ = tokio::time::sleep_until(deadline) => {
                    let now = tokio::time::Instant::now();
                    if now >= next_tick {
                        next_tick = now + tick;
                        self.cron();
                    }
                    self.expire_waiters();
                }
            }
            self.persistence_requests();
            self.persister.set_more_coming(!rx.is_empty());
            self.flush();
            self.persister.tick(&mut self.ks);
            if self.server.shutdown_requested && !shutdown_signalled {
                shutdown_signalled = true;
                on_shutdown_request();
            }
            if self.shutdown {
                break;
            }
        }
        // Answer what is already queued, then stop.
        while let Ok(msg) = rx.try_recv() {
            self.handle(msg);
        }
        self.flush();
        self.persister.shutdown();
    }

    fn handle(&mut self, msg: Message) {
        match msg {
            Message::Connect { info, push } => {
                self.server.stats.total_connections += 1;
                self.pushes.insert(info.id, push);
                self.server.clients.insert(info.id, info);
            }
            Message::Disconnect { id } => {
                self.pushes.remove(&id);
                self.server.clients.remove(&id);
                self.waiters.remove_client(id);
            }
            Message::Batch(b) => {
                let run = Running {
                    session: b.session,
                    commands: b.commands,
                    reply: b.reply,
                    out: BytesMut::new(),
                    replies: 0,
                    writes: 0,
                };
                self.execute_batch(run);
            }
            Message::Shutdown => self.shutdown = true,
        }
    }

    /// Executes a batch's commands until it finishes or parks.
    fn execute_batch(&mut self, mut run: Running) {
        let now_ms = unix_ms();
        while let Some(argv) = run.commands.pop_front() {
            let before = self.effects.len();
            let (frame, block) = self.exec_one(&mut run.session, &argv, now_ms);
            if let Some(block) = block {
                run.commands.push_front(argv);
                self.waiters.park(run.session.id, run.session.db, block, run);
                return;
            }
            frame.encode(run.session.proto, &mut run.out);
            run.replies += 1;
            if self.effects.len() > before {
                run.writes += 1;
                if !self.waiters.is_empty() {
                    self.wake_for(before);
                }
            }
            if run.session.close {
                break;
            }
        }
        self.note_client(&run.session);
        let reply = BatchReply { session: run.session, out: run.out, replies: run.replies, writes: run.writes };
        self.outbox.push(Outgoing { tx: run.reply, reply });
    }

    /// Runs one command against the state; a blocking command that must
    /// wait comes back with its [`cmd::Block`].
    fn exec_one(
        &mut self,
        session: &mut Session,
        argv: &[Bytes],
        now_ms: u64,
    ) -> (crate::resp::Frame, Option<cmd::Block>) {
        let mut ctx = Ctx {
            ks: &mut self.ks,
            session,
            server: &mut self.server,
            effects: &mut self.effects,
            now_ms,
            in_exec: false,
            block: None,
            events: &mut self.events,
        };
        let frame = cmd::execute(&mut ctx, argv);
        (frame, ctx.block)
    }

    fn note_client(&mut self, s: &Session) {
        if let Some(c) = self.server.clients.get_mut(&s.id) {
            c.db = s.db;
            c.proto = s.proto;
            c.last_active = std::time::Instant::now();
            if c.name != s.name {
                c.name.clone_from(&s.name);
            }
        }
    }

    /// Serves parked clients whose keys were touched by effects from `from` on.
    fn wake_for(&mut self, from: usize) {
        let mut ready: VecDeque<(u32, Bytes)> = self.effects[from..]
            .iter()
            .filter_map(|e| e.target())
            .filter(|(db, k)| self.waiters.has_key(*db, k))
            .map(|(db, k)| (db, k.clone()))
            .collect();
        while let Some((db, key)) = ready.pop_front() {
            while let Some(mut run) = self.waiters.take_first(db, &key) {
                if run.reply.is_closed() {
                    continue;
                }
                let mark = self.effects.len();
                let argv = run.commands.pop_front().expect("a parked batch has its blocked command first");
                let (frame, block) = self.exec_one(&mut run.session, &argv, unix_ms());
                if let Some(block) = block {
                    // Still nothing for it: back to the head of the line.
                    run.commands.push_front(argv);
                    self.waiters.park_front(run.session.id, run.session.db, block, run);
                    break;
                }
                frame.encode(run.session.proto, &mut run.out);
                run.replies += 1;
                if self.effects.len() > mark {
                    run.writes += 1;
                    for e in &self.effects[mark..] {
                        if let Some((d, k)) = e.target() {
                            if self.waiters.has_key(d, k) {
                                ready.push_back((d, k.clone()));
                            }
                        }
                    }
                }
                self.execute_batch(run);
            }
        }
    }

    /// Answers parked clients whose deadline has passed.
    fn expire_waiters(&mut self) {
        let now = unix_ms();
        for (mut run, on_timeout) in self.waiters.take_expired(now) {
            run.commands.pop_front();
            on_timeout.encode(run.session.proto, &mut run.out);
            run.replies += 1;
            self.execute_batch(run);
        }
    }

    /// Periodic work: active expiry with a bounded budget per tick.
    fn cron(&mut self) {
        const PER_DB_BUDGET: usize = 200;
        let now = unix_ms();
        for db in 0..self.ks.dbs.len() {
            let keys = self.ks.dbs[db].expired_keys(now, PER_DB_BUDGET);
            for key in keys {
                let e = Effect::Del { db: db as u32, key };
                self.ks.apply(&e);
                self.effects.push(e);
                self.server.stats.expired_keys += 1;
            }
        }
        self.server.info_persistence = self.persister.info();
        self.server.snapshot_in_progress = self.persister.busy();
        if let Some(t) = self.persister.last_save() {
            self.server.last_save = t;
        }
    }

    /// Acts on `SAVE` and `BGSAVE`/`BGREWRITEAOF` requests made by commands.
    fn persistence_requests(&mut self) {
        if std::mem::take(&mut self.server.bgsave_requested) {
            self.persister.request_snapshot();
            self.server.snapshot_in_progress = true;
        }
        if std::mem::take(&mut self.server.save_requested) {
            // The snapshot must follow every effect applied so far, and the
            // SAVE reply must wait for it: commit the effects alone first.
            let effects = std::mem::take(&mut self.effects);
            self.persister.commit(effects, Vec::new());
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
        // Keyspace notifications are delivered by pub/sub (not yet built).
        self.events.clear();
        if self.server.write_refusal.is_none() {
            if let Some(err) = self.persister.failure() {
                self.server.write_refusal = Some(format!(
                    "MISCONF Errors writing to the write-ahead log ({err}); writes are refused until the server is restarted"
                ));
            }
        }
        if self.effects.is_empty() && self.persister.is_idle() {
            for o in self.outbox.drain(..) {
                o.release(None);
            }
            return;
        }
        let effects = std::mem::take(&mut self.effects);
        let outbox = std::mem::take(&mut self.outbox);
        self.persister.commit(effects, outbox);
    }
}

fn instant_for(unix_ms_deadline: u64) -> tokio::time::Instant {
    let now = unix_ms();
    tokio::time::Instant::now() + Duration::from_millis(unix_ms_deadline.saturating_sub(now))
}
