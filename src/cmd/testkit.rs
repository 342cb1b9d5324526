//! The in-process command harness the unit tests of the command families
//! share: a keyspace, a session and a server to run commands against, the
//! way the broker does, without sockets or persistence.

use bytes::{Bytes, BytesMut};

use super::{Block, Ctx, KeyEvent, ServerState, Session, dispatch, execute};
use crate::config::Config;
use crate::resp::{Frame, Protocol};
use crate::state::{Effect, Keyspace};

/// How many databases the harness's keyspace has (Redis's default).
const DBS: usize = 16;

/// The state one test drives. Every field is open so tests can arrange
/// (`session.proto`, `now_ms`, `in_exec`, `woken`...) and inspect (`ks`,
/// `effects`, `server.stats`...) directly.
pub(crate) struct Harness {
    /// The keyspace.
    pub ks: Keyspace,
    /// The calling client's session.
    pub session: Session,
    /// Server-wide state.
    pub server: ServerState,
    /// The clock every command sees, Unix milliseconds.
    pub now_ms: u64,
    /// Every effect recorded so far (by commands and [`Harness::apply`]).
    pub effects: Vec<Effect>,
    /// Keyspace events raised and not yet taken.
    pub events: Vec<KeyEvent>,
    /// Commands run as inside `EXEC`.
    pub in_exec: bool,
    /// Commands run as re-runs for a woken blocked client.
    pub woken: bool,
    /// The `Block` the last command asked for, if it had to wait.
    pub blocked: Option<Block>,
    /// What the last command handed to its client (to give back on failure).
    pub handback: Vec<Effect>,
    /// The argument positions the last command asked logs to redact.
    pub redacted: Vec<usize>,
}

impl Harness {
    /// 16 empty databases, notifications on (`KEA`), RESP2, the clock at
    /// 1,000,000 ms.
    pub(crate) fn new() -> Harness {
        Harness::at(1_000_000)
    }

    /// Like [`Harness::new`] with the clock at `now_ms`.
    pub(crate) fn at(now_ms: u64) -> Harness {
        let mut server = ServerState::new(Config::default());
        server.notifications = true;
        Harness {
            ks: Keyspace::new(DBS),
            session: Session::default(),
            server,
            now_ms,
            effects: Vec::new(),
            events: Vec::new(),
            in_exec: false,
            woken: false,
            blocked: None,
            handback: Vec::new(),
            redacted: Vec::new(),
        }
    }

    /// Applies an effect to the keyspace without recording it (to arrange
    /// state a test starts from).
    pub(crate) fn seed(&mut self, effect: Effect) {
        self.ks.apply(&effect);
    }

    /// Applies an effect and records it, as a command would.
    pub(crate) fn apply(&mut self, effect: Effect) {
        self.ks.apply(&effect);
        self.effects.push(effect);
    }

    /// Runs a command given as whitespace-separated words (`""` is an empty
    /// argument) through `execute`.
    pub(crate) fn run(&mut self, line: &str) -> Frame {
        let argv: Vec<Bytes> = line
            .split_whitespace()
            .map(|w| if w == "\"\"" { Bytes::new() } else { Bytes::copy_from_slice(w.as_bytes()) })
            .collect();
        self.call(&argv, execute)
    }

    /// Runs a command given as its arguments through `execute`.
    pub(crate) fn run_args(&mut self, args: &[&str]) -> Frame {
        self.call(&argv(args), execute)
    }

    /// Runs a command given as its arguments through `execute` and returns
    /// the argument positions it asked logs to redact.
    pub(crate) fn redacted_by(&mut self, args: &[&str]) -> Vec<usize> {
        self.run_args(args);
        std::mem::take(&mut self.redacted)
    }

    /// Runs a command given as its arguments through the whole call
    /// pipeline (`dispatch::run`: `MULTI` queueing, `WATCH`, notifications,
    /// statistics), as the broker does.
    pub(crate) fn dispatch(&mut self, args: &[&str]) -> Frame {
        self.call(&argv(args), dispatch::run)
    }

    /// Runs a command through `execute` and returns its reply as a client
    /// reads it, encoded in the session's protocol.
    pub(crate) fn wire(&mut self, args: &[&str]) -> String {
        let frame = self.run_args(args);
        encode(&frame, self.session.proto)
    }

    /// Switches the session to RESP2 and runs [`Harness::wire`].
    pub(crate) fn resp2(&mut self, args: &[&str]) -> String {
        self.session.proto = Protocol::Resp2;
        self.wire(args)
    }

    /// Switches the session to RESP3 and runs [`Harness::wire`].
    pub(crate) fn resp3(&mut self, args: &[&str]) -> String {
        self.session.proto = Protocol::Resp3;
        self.wire(args)
    }

    fn call(&mut self, argv: &[Bytes], run: fn(&mut Ctx, &[Bytes]) -> Frame) -> Frame {
        let mut ctx = Ctx {
            ks: &mut self.ks,
            session: &mut self.session,
            server: &mut self.server,
            effects: &mut self.effects,
            now_ms: self.now_ms,
            in_exec: self.in_exec,
            block: None,
            events: &mut self.events,
            woken: self.woken,
            handback: Vec::new(),
            redacted: Vec::new(),
        };
        let frame = run(&mut ctx, argv);
        self.blocked = ctx.block.take();
        self.handback = ctx.handback;
        self.redacted = ctx.redacted;
        frame
    }

    /// The keyspace events raised since the last call.
    pub(crate) fn take_events(&mut self) -> Vec<KeyEvent> {
        std::mem::take(&mut self.events)
    }

    /// The names of the keyspace events raised since the last call.
    pub(crate) fn take_event_names(&mut self) -> Vec<&'static str> {
        self.take_events().into_iter().map(|e| e.event).collect()
    }

    /// Replays every recorded effect on a fresh keyspace and checks it
    /// rebuilds the live one.
    pub(crate) fn check_replay(&self) {
        let mut fresh = Keyspace::new(self.ks.dbs.len());
        for e in &self.effects {
            fresh.apply(e);
        }
        assert_eq!(fresh.sorted_entries(), self.ks.sorted_entries());
    }
}

/// Arguments as the broker receives them.
pub(crate) fn argv(args: &[&str]) -> Vec<Bytes> {
    args.iter().map(|a| Bytes::copy_from_slice(a.as_bytes())).collect()
}

/// `frame` as a client reads it in `proto`.
pub(crate) fn encode(frame: &Frame, proto: Protocol) -> String {
    let mut out = BytesMut::new();
    frame.encode(proto, &mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// Bytes of a string.
pub(crate) fn b(s: &str) -> Bytes {
    Bytes::copy_from_slice(s.as_bytes())
}

/// A bulk string reply.
pub(crate) fn bulk(s: &str) -> Frame {
    Frame::bulk(s.as_bytes())
}

/// Bytes as text, for messages and comparisons.
pub(crate) fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The bulk strings of an array or set reply, sorted (for replies in no
/// particular order).
pub(crate) fn sorted_bulks(f: &Frame) -> Vec<Bytes> {
    let (Frame::Array(items) | Frame::Set(items)) = f else { panic!("not an array: {f:?}") };
    let mut v: Vec<Bytes> = items
        .iter()
        .map(|i| match i {
            Frame::Bulk(b) => b.clone(),
            other => panic!("not a bulk: {other:?}"),
        })
        .collect();
    v.sort();
    v
}
