//! What a command runs against: the keyspace, the calling client's session,
//! and the server-wide state the broker owns.

use bytes::Bytes;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use super::WRONGTYPE;
use crate::config::Config;
use crate::resp::{Frame, Protocol};
use crate::state::{Effect, Entry, Keyspace, Value};

/// Per-connection state. The connection owns it and lends it to the broker
/// with every batch, so the broker sees `SELECT`, `HELLO` and `MULTI` in
/// pipeline order.
#[derive(Debug, Clone, Default)]
pub struct Session {
    /// Client id (`CLIENT ID`).
    pub id: u64,
    /// Selected database.
    pub db: u32,
    /// Protocol version (`HELLO`).
    pub proto: Protocol,
    /// `CLIENT SETNAME`.
    pub name: Option<Bytes>,
    /// `CLIENT SETINFO LIB-NAME`.
    pub lib_name: Option<Bytes>,
    /// `CLIENT SETINFO LIB-VER`.
    pub lib_ver: Option<Bytes>,
    /// Close the connection once the current replies are written (`QUIT`).
    pub close: bool,
    /// Send no reply for the command being run (`SHUTDOWN`); the broker
    /// clears it after the command.
    pub no_reply: bool,
    /// Full name of the last command run (`client|list` style), for `CLIENT LIST`.
    pub last_cmd: &'static str,
    /// The open transaction (`MULTI`), with its queued commands.
    pub multi: Option<super::tx::Multi>,
    /// Redis's per-client `authenticated` flag: set for a connection made
    /// while no password was required, by a successful `AUTH` or `HELLO ...
    /// AUTH`, and by `RESET` while no password is required. Commands other
    /// than `AUTH`, `HELLO`, `QUIT` and `RESET` need it only while a
    /// password is required (see [`crate::cmd::auth::auth_required`]).
    pub authenticated: bool,
}

/// Server-wide counters reported by `INFO stats`.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    /// Connections accepted since start.
    pub total_connections: u64,
    /// Commands processed since start.
    pub total_commands: u64,
    /// Commands refused before running (unknown, wrong arity).
    pub rejected_calls: u64,
    /// Keys removed because they expired.
    pub expired_keys: u64,
    /// Successful key lookups.
    pub keyspace_hits: u64,
    /// Failed key lookups.
    pub keyspace_misses: u64,
    /// Commands per second over the last samples (`instantaneous_ops_per_sec`).
    pub ops_per_sec: RateMeter,
}

/// A rate over the last [`RateMeter::SAMPLES`] samples of a counter, as
/// Redis tracks its instantaneous metrics (a sample per cron tick).
#[derive(Debug, Clone, Default)]
pub struct RateMeter {
    rates: std::collections::VecDeque<f64>,
    last: Option<(Instant, u64)>,
}

impl RateMeter {
    /// How many samples the rate is the mean of.
    pub const SAMPLES: usize = 16;

    /// Samples the counter's value `count` at `now`.
    pub fn sample(&mut self, now: Instant, count: u64) {
        if let Some((at, before)) = self.last {
            let secs = now.saturating_duration_since(at).as_secs_f64();
            if secs > 0.0 {
                if self.rates.len() == Self::SAMPLES {
                    self.rates.pop_front();
                }
                self.rates.push_back(count.saturating_sub(before) as f64 / secs);
            }
        }
        self.last = Some((now, count));
    }

    /// The mean of the samples' rates, per second.
    pub fn rate(&self) -> u64 {
        if self.rates.is_empty() {
            return 0;
        }
        (self.rates.iter().sum::<f64>() / self.rates.len() as f64).round() as u64
    }
}

/// What the broker knows about a connected client (`CLIENT LIST`).
#[derive(Debug, Clone)]
pub struct ClientInfo {
    /// Client id.
    pub id: u64,
    /// Peer address (`/path:0` style for Unix sockets, `ip:port` for TCP).
    pub addr: String,
    /// Local address.
    pub laddr: String,
    /// When the connection was accepted.
    pub created: Instant,
    /// When the client last sent a command.
    pub last_active: Instant,
    /// Selected database.
    pub db: u32,
    /// Client name.
    pub name: Option<Bytes>,
    /// Protocol version.
    pub proto: Protocol,
    /// Name of the last command run.
    pub last_cmd: String,
    /// Library name and version.
    pub lib: (Option<Bytes>, Option<Bytes>),
    /// In a transaction: the number of commands queued.
    pub queued: Option<usize>,
}

impl ClientInfo {
    /// A client just connected from `addr` to `laddr`.
    pub fn new(id: u64, addr: String, laddr: String) -> ClientInfo {
        let now = Instant::now();
        ClientInfo {
            id,
            addr,
            laddr,
            created: now,
            last_active: now,
            db: 0,
            name: None,
            proto: Protocol::default(),
            last_cmd: String::new(),
            lib: (None, None),
            queued: None,
        }
    }
}

/// State the broker owns besides the keyspace.
#[derive(Debug)]
pub struct ServerState {
    /// The configuration.
    pub config: Config,
    /// Process start time.
    pub started: Instant,
    /// Random run id (`INFO server`).
    pub run_id: String,
    /// Counters.
    pub stats: Stats,
    /// Connected clients by id.
    pub clients: BTreeMap<u64, ClientInfo>,
    /// Set by `SHUTDOWN`.
    pub shutdown_requested: bool,
    /// When the previous command of the batch being run ended: the next
    /// command's timing starts there, so timing costs one clock read per
    /// command. The broker clears it before each batch.
    pub call_clock: Option<Instant>,
    /// The `INFO persistence` section body, refreshed by the broker.
    pub info_persistence: String,
    /// Set when persistence has failed: writes are refused with this error.
    pub write_refusal: Option<String>,
    /// Clients parked by blocking commands (`INFO clients`), kept by the broker.
    pub blocked_clients: usize,
    /// Whether `notify-keyspace-events` delivers anything (commands then
    /// collect their keyspace events).
    pub notifications: bool,
    /// Whether `new` events (`n`) are delivered: [`Ctx::apply`] then looks
    /// for keys its effects add.
    pub new_key_events: bool,
    /// Whether `keymiss` events (`m`) are delivered.
    pub key_miss_events: bool,
    /// State of the xorshift random generator (`RANDOMKEY`, `SPOP`...).
    pub rng: u64,
    /// Pub/sub registry, watches, monitors, slow log, command statistics.
    pub hub: crate::broker::pubsub::Hub,
    /// Set by `BGSAVE`/`BGREWRITEAOF`: the broker starts a snapshot.
    pub bgsave_requested: bool,
    /// Set by `SAVE`: the broker takes a snapshot before the reply leaves.
    pub save_requested: bool,
    /// Set by `CONFIG SET appendfsync`: the broker passes the new policy on
    /// to persistence.
    pub appendfsync_changed: bool,
    /// Clients `CLIENT UNBLOCK` ends the wait of (with an error: `true`),
    /// for the broker to serve once the command has run.
    pub unblock_requests: Vec<(u64, bool)>,
    /// Whether a snapshot is being taken (refreshed by the broker).
    pub snapshot_in_progress: bool,
    /// Unix time (seconds) of the last successful snapshot, or of start-up (`LASTSAVE`).
    pub last_save: u64,
    /// Whether a password is required (`requirepass` is not empty), shared
    /// with the accept loop and the connections: a connection made while it
    /// is false starts authenticated, and an unauthenticated one decodes
    /// requests under Redis's tighter limits.
    pub password_required: Arc<AtomicBool>,
    /// The resident set size when the server started (`startup.allocated`).
    pub startup_rss: u64,
    /// The largest resident set size seen (sampled by the broker's cron and
    /// whenever it is read: `peak.allocated`, `used_memory_peak`).
    pub peak_rss: u64,
}

impl ServerState {
    /// Whether `CLIENT PAUSE` is in force at `now_ms`: keys past their
    /// deadline are then not removed, neither in the background nor when
    /// looked up (they read as absent).
    pub fn expiry_paused(&self, now_ms: u64) -> bool {
        self.hub.pause.is_some_and(|(until, _)| until > now_ms)
    }

    /// Fresh state for `config`.
    pub fn new(config: Config) -> ServerState {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0x9E37_79B9_7F4A_7C15)
            | 1;
        let mut s = ServerState {
            config,
            started: Instant::now(),
            run_id: String::new(),
            stats: Stats::default(),
            clients: BTreeMap::new(),
            shutdown_requested: false,
            call_clock: None,
            info_persistence: String::new(),
            write_refusal: None,
            blocked_clients: 0,
            notifications: false,
            new_key_events: false,
            key_miss_events: false,
            rng: seed,
            hub: Default::default(),
            bgsave_requested: false,
            save_requested: false,
            unblock_requests: Vec::new(),
            appendfsync_changed: false,
            snapshot_in_progress: false,
            last_save: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0),
            password_required: Arc::new(AtomicBool::new(false)),
            startup_rss: 0,
            peak_rss: 0,
        };
        s.startup_rss = super::server::rss_bytes();
        s.peak_rss = s.startup_rss;
        s.password_required.store(!s.config.requirepass.is_empty(), std::sync::atomic::Ordering::Relaxed);
        s.hub.pubsub_limit = s.config.pubsub_output_limit;
        s.hub.notify = crate::broker::pubsub::notify_bits::parse(&s.config.notify_keyspace_events).unwrap_or(0);
        s.sync_notifications();
        s.run_id = (0..5).map(|_| format!("{:08x}", s.random() as u32)).collect();
        s
    }

    /// Makes `notifications` (what [`Ctx::notify`] checks) reflect the
    /// configured `notify-keyspace-events`: false when nothing would be sent.
    pub fn sync_notifications(&mut self) {
        use crate::broker::pubsub::notify_bits::*;
        let bits = self.hub.notify;
        let channels = bits & (KEYSPACE | KEYEVENT) != 0;
        self.notifications = channels && bits & !(KEYSPACE | KEYEVENT) != 0;
        self.new_key_events = channels && bits & class('n') != 0;
        self.key_miss_events = channels && bits & KEY_MISS != 0;
    }

    /// A pseudo-random 64-bit number (xorshift64*; not for secrets).
    pub fn random(&mut self) -> u64 {
        let mut x = self.rng;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.rng = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A pseudo-random index below `n` (`n > 0`).
    pub fn random_below(&mut self, n: usize) -> usize {
        (self.random() % n as u64) as usize
    }
}

/// A keyspace event for notifications (`notify-keyspace-events`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyEvent {
    /// The event class flag, as in `notify-keyspace-events`: `g` generic,
    /// `$` string, `l` list, `s` set, `h` hash, `z` sorted set, `x` expired.
    pub class: char,
    /// The event name Redis uses (`set`, `lpush`, `del`, `expire`...).
    pub event: &'static str,
    /// The database.
    pub db: u32,
    /// The key.
    pub key: Bytes,
}

/// A blocking command's request to wait: the broker parks the client until
/// one of `keys` may have data or the deadline passes.
#[derive(Debug, Clone)]
pub struct Block {
    /// Keys (in the client's database) to wait on.
    pub keys: Vec<Bytes>,
    /// Absolute deadline in Unix milliseconds; `None` waits forever.
    pub deadline_ms: Option<u64>,
    /// The reply sent when the deadline passes.
    pub on_timeout: Frame,
}

/// Everything a command can touch while it runs.
pub struct Ctx<'a> {
    /// The keyspace.
    pub ks: &'a mut Keyspace,
    /// The calling client's session.
    pub session: &'a mut Session,
    /// Server-wide state.
    pub server: &'a mut ServerState,
    /// Effects applied by this batch, in order (for persistence).
    pub effects: &'a mut Vec<Effect>,
    /// The time the batch started, Unix milliseconds (one clock per batch).
    pub now_ms: u64,
    /// Inside `EXEC`: blocking commands must not block.
    pub in_exec: bool,
    /// Set by a blocking command that has to wait.
    pub block: Option<Block>,
    /// Keyspace events raised by this batch (collected only when
    /// notifications are enabled).
    pub events: &'a mut Vec<KeyEvent>,
    /// The command is re-run for a parked client because one of its keys
    /// changed: a key of the wrong type keeps it waiting instead of failing.
    pub woken: bool,
    /// Effects that give back what this command handed to the client
    /// (elements a blocking pop removed); the broker re-applies them if the
    /// reply cannot be delivered.
    pub handback: Vec<Effect>,
    /// Positions of the running command's arguments that `MONITOR` and
    /// `SLOWLOG` must show as `(redacted)` (passwords), marked by the
    /// handler the way Redis's `redactClientCommandArgument` does.
    pub redacted: Vec<usize>,
}

impl Ctx<'_> {
    /// The selected database index.
    pub fn db(&self) -> u32 {
        self.session.db
    }

    /// Applies an effect to the keyspace and records it for persistence.
    pub fn apply(&mut self, effect: Effect) {
        if self.server.new_key_events {
            // `n` events: Redis raises `new` whenever it adds a key, before
            // the command's own event.
            let created = self.created_key(&effect);
            self.ks.apply(&effect);
            if let Some((db, key)) = created {
                self.events.push(KeyEvent { class: 'n', event: "new", db, key });
            }
        } else {
            self.ks.apply(&effect);
        }
        self.effects.push(effect);
    }

    /// The key `effect` will add, if it adds one: a write to a key that is
    /// absent (or past its deadline), the destination of a `RENAME` (Redis
    /// deletes a destination before adding the key), a `MOVE`d key.
    fn created_key(&self, effect: &Effect) -> Option<(u32, Bytes)> {
        match effect {
            Effect::Rename { db, to, .. } => Some((*db, to.clone())),
            Effect::Move { key, to_db, .. } => Some((*to_db, key.clone())),
            Effect::Put { .. }
            | Effect::Append { .. }
            | Effect::SetRange { .. }
            | Effect::ListPush { .. }
            | Effect::HashSet { .. }
            | Effect::SetAdd { .. }
            | Effect::ZAdd { .. } => {
                let (db, key) = effect.key()?;
                let live = self.ks.dbs[db as usize].get(key).is_some_and(|e| !e.expired(self.now_ms));
                (!live).then(|| (db, key.clone()))
            }
            _ => None,
        }
    }

    /// Deletes `key` in the selected database as the `STORE` forms do when
    /// their result is empty: whatever is there goes, even past its
    /// deadline, with a `del` event (Redis deletes the destination without
    /// looking it up, so there is no `expired` event first).
    pub fn delete_destination(&mut self, key: &Bytes) {
        let db = self.db();
        if self.ks.dbs[db as usize].get(key).is_some() {
            self.apply(Effect::Del { db, key: key.clone() });
            self.notify('g', "del", key);
        }
    }

    /// Counts `key` in the selected database as modified for `WATCH`
    /// without changing it: Redis signals some writes that leave a value as
    /// it was (a list rotated onto itself, `LTRIM` keeping everything).
    pub fn touch_watched(&mut self, key: &Bytes) {
        let db = self.db();
        self.server.hub.touch_key(db, key);
    }

    /// Raises a keyspace event for `key` in the selected database (a no-op
    /// unless notifications are enabled).
    pub fn notify(&mut self, class: char, event: &'static str, key: &Bytes) {
        if self.server.notifications {
            let db = self.db();
            self.events.push(KeyEvent { class, event, db, key: key.clone() });
        }
    }

    /// Whether `key`'s deadline has passed; if so it is removed (and the
    /// removal recorded), except during `CLIENT PAUSE`, which keeps the
    /// data set as it was: the key then stays, absent to every lookup, until
    /// the pause ends (as in Redis).
    pub fn expire_if_due(&mut self, db: u32, key: &[u8]) -> bool {
        if self.ks.dbs[db as usize].volatile_len() == 0 {
            // No key of this database has a deadline.
            return false;
        }
        let due = self.ks.dbs[db as usize].get(key).is_some_and(|e| e.expired(self.now_ms));
        if due && !self.server.expiry_paused(self.now_ms) {
            let key = Bytes::copy_from_slice(key);
            if self.server.notifications {
                self.events.push(KeyEvent { class: 'x', event: "expired", db, key: key.clone() });
            }
            self.apply(Effect::Del { db, key });
            self.server.stats.expired_keys += 1;
        }
        due
    }

    /// The live entry for `key` in the selected database (expired keys are
    /// removed on the way).
    pub fn lookup(&mut self, key: &[u8]) -> Option<&Entry> {
        let db = self.db();
        self.lookup_in(db, key)
    }

    /// The live entry for `key` in database `db`.
    pub fn lookup_in(&mut self, db: u32, key: &[u8]) -> Option<&Entry> {
        if self.expire_if_due(db, key) {
            return None;
        }
        self.ks.dbs[db as usize].get(key)
    }

    /// Like [`Ctx::lookup`], counting a keyspace hit or miss, and raising a
    /// `keymiss` event for a missing key, as Redis's read lookups do.
    pub fn lookup_read(&mut self, key: &[u8]) -> Option<&Entry> {
        self.lookup_read_with(key, true)
    }

    /// [`Ctx::lookup_read`] without the `keymiss` event (Redis's `OBJECT`).
    pub fn lookup_read_quietly(&mut self, key: &[u8]) -> Option<&Entry> {
        self.lookup_read_with(key, false)
    }

    fn lookup_read_with(&mut self, key: &[u8], notify: bool) -> Option<&Entry> {
        let db = self.db();
        let live = !self.expire_if_due(db, key) && self.ks.dbs[db as usize].get(key).is_some();
        if live {
            self.server.stats.keyspace_hits += 1;
            self.ks.dbs[db as usize].get(key)
        } else {
            self.server.stats.keyspace_misses += 1;
            if notify && self.server.key_miss_events {
                self.events.push(KeyEvent { class: 'm', event: "keymiss", db, key: Bytes::copy_from_slice(key) });
            }
            None
        }
    }

    /// The live value for `key` in the selected database.
    pub fn value(&mut self, key: &[u8]) -> Option<&Value> {
        self.lookup(key).map(|e| &e.value)
    }

    /// `read` of the string at `key`, for a write (no hit/miss counting):
    /// the string is read where it is, not copied or shared, so the write
    /// after it edits the buffer in place (a second handle on a 512 MB
    /// bitmap made each `SETBIT` copy it: 1.2 s). `Ok(None)` if absent,
    /// `WRONGTYPE` if the key holds another type.
    pub fn read_str_for_write<T>(&mut self, key: &[u8], read: impl FnOnce(&[u8]) -> T) -> Result<Option<T>, Frame> {
        match self.lookup(key).map(|e| &e.value) {
            None => Ok(None),
            Some(Value::Str(s)) => Ok(Some(read(s))),
            Some(_) => Err(WRONGTYPE),
        }
    }

    /// `read` of the string at `key`, where it is, for a read (hits and
    /// misses counted): `Ok(None)` if absent, `WRONGTYPE` if not a string.
    pub fn read_str<T>(&mut self, key: &[u8], read: impl FnOnce(&[u8]) -> T) -> Result<Option<T>, Frame> {
        match self.lookup_read(key).map(|e| &e.value) {
            None => Ok(None),
            Some(Value::Str(s)) => Ok(Some(read(s))),
            Some(_) => Err(WRONGTYPE),
        }
    }

    /// The string at `key`: `Ok(None)` if absent, `WRONGTYPE` if not a string.
    pub fn get_str(&mut self, key: &[u8]) -> Result<Option<Bytes>, Frame> {
        match self.lookup_read(key).map(|e| &e.value) {
            None => Ok(None),
            Some(Value::Str(s)) => Ok(Some(s.to_bytes())),
            Some(_) => Err(WRONGTYPE),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn the_rate_is_the_mean_of_the_last_samples() {
        let mut m = RateMeter::default();
        let t = Instant::now();
        assert_eq!(m.rate(), 0);
        m.sample(t, 0);
        m.sample(t + Duration::from_millis(100), 1000);
        m.sample(t + Duration::from_millis(200), 3000);
        assert_eq!(m.rate(), 15_000);
        // Only the last 16 samples count.
        for i in 3..40 {
            m.sample(t + Duration::from_millis(100 * i), 3000);
        }
        assert_eq!(m.rate(), 0);
    }
}
