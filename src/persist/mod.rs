//! Persistence: the only code that knows the on-disk formats.
//!
//! The broker hands every group of [`Effect`]s it produced, together with
//! the replies that must wait for them, to [`Persister::commit`], which
//! encodes the log records on the caller's thread. A dedicated thread
//! appends them to the write-ahead log (one `write` and, with `appendfsync
//! always`, one `fdatasync` per group: whatever arrived during the previous
//! sync goes into the next) and then releases the replies in order.
//! Snapshots compact the log; see `docs/persistence.md` and the
//! [`snapshot`] module.

pub mod check;
pub mod codec;
pub mod format;
pub mod recover;
#[cfg(test)]
mod replay_props;
pub mod snapshot;
pub mod store;

use std::collections::VecDeque;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::config::{Config, FsyncPolicy};
use crate::state::{Effect, Keyspace};
use store::{FsStore, Store, StoreFile};

/// A reply held back until the writes before it are durable.
pub trait Release: Send + 'static {
    /// Delivers the reply; `Err` carries the reason persistence failed, in
    /// which case the reply must become an error.
    fn release(self, failure: Option<&PersistError>);

    /// Delivers the replies of every group one commit made durable, in
    /// order. Each is released on its own unless the type can hand them
    /// over together (one message, one wake-up of the receiver).
    fn release_all(groups: impl Iterator<Item = Self>, failure: Option<&PersistError>)
    where
        Self: Sized,
    {
        for r in groups {
            r.release(failure);
        }
    }
}

/// Why persistence failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PersistError {
    /// Writing or syncing the log failed; the server refuses writes from now on.
    Io(String),
    /// Another server holds the data directory.
    Locked(PathBuf),
    /// A file is damaged somewhere other than a torn tail.
    Corrupt {
        /// The damaged file.
        file: PathBuf,
        /// Byte offset of the first bad record.
        offset: u64,
        /// What is wrong.
        reason: String,
    },
    /// A file was written by an incompatible version.
    Unsupported(String),
}

impl std::fmt::Display for PersistError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PersistError::Io(m) => write!(f, "{m}"),
            PersistError::Locked(dir) => write!(
                f,
                "data directory {} is in use by another statebroker process (stop it, or use another --dir)",
                dir.display()
            ),
            PersistError::Corrupt { file, offset, reason } => {
                let dir = file.parent().unwrap_or(Path::new(".")).display();
                let name = file.file_name().and_then(|n| n.to_str()).unwrap_or_default();
                if format::parse_segment_name(name).is_some() {
                    write!(
                        f,
                        "{} is damaged at byte offset {offset}: {reason}. Inspect it with `statebroker check --dir \
                         {dir}`; `statebroker check --dir {dir} --fix` cuts the log at the last good record \
                         (losing the records after it)",
                        file.display()
                    )
                } else {
                    write!(
                        f,
                        "the snapshot {} is damaged at byte offset {offset}: {reason}. A snapshot cannot be cut: \
                         if an older snapshot and the log segments after it are still in {dir}, move the damaged \
                         one out and check again with `statebroker check --dir {dir}`; otherwise restore the \
                         directory from a backup",
                        file.display()
                    )
                }
            }
            PersistError::Unsupported(m) => write!(f, "{m}"),
        }
    }
}

impl std::error::Error for PersistError {}

fn unix_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

/// What the persistence thread is asked to do, in broker order.
enum Msg<R> {
    /// `bytes`: `records` log records, encoded on the broker's thread (so
    /// the effects are also dropped there, where they were allocated).
    /// `more`: the broker already has more work queued, so another commit
    /// follows at once and is worth waiting for before syncing.
    /// `handed_over`: when the broker sent it (for `durable_wait_*`).
    Commit {
        bytes: Vec<u8>,
        records: u64,
        releases: Vec<R>,
        more: bool,
        handed_over: Instant,
    },
    SnapBegin,
    SnapChunk(Vec<u8>),
    SnapEnd {
        count: u64,
        done: Option<mpsc::Sender<Result<(), String>>>,
    },
    SnapAbort,
    /// `CONFIG SET appendfsync`: the policy for the groups that follow.
    Policy(FsyncPolicy),
    Shutdown,
}

/// Numbers shared between the broker, the log thread and the snapshot thread.
#[derive(Debug, Default)]
struct Stats {
    commits: u64,
    records: u64,
    /// Live segments as `(first_seq, bytes)`.
    segments: Vec<(u64, u64)>,
    durable_seq: u64,
    /// The last record whose reply was released as a success (with
    /// `always`, the last one synced; with `everysec`/`no`, the last one
    /// written): what clients were told is stored.
    acked_seq: u64,
    /// Latest fsync latencies of the log, in µs.
    fsync_us: Latencies,
    /// Latest times from a commit's hand-over to its release, in µs.
    durable_wait_us: Latencies,
    last_write_ok: bool,
    failure: Option<PersistError>,
    last_save_unix: u64,
    last_snapshot_ok: bool,
    last_snapshot_ms: Option<u64>,
    snapshot_bytes: u64,
    snapshot_started: Option<Instant>,
    records_at_snapshot: u64,
    snapshot_failed_at: Option<Instant>,
}

impl Stats {
    fn log_bytes(&self) -> u64 {
        self.segments.iter().map(|s| s.1).sum()
    }
}

/// The latest [`Latencies::KEPT`] latencies of something, in µs.
#[derive(Debug, Default)]
struct Latencies(VecDeque<u32>);

impl Latencies {
    const KEPT: usize = 4096;

    fn record(&mut self, d: Duration) {
        if self.0.len() >= Self::KEPT {
            self.0.pop_front();
        }
        self.0.push_back(d.as_micros().min(u32::MAX as u128) as u32);
    }

    /// The `p50` and `p99` of those kept (0 when there are none).
    fn p50_p99(&self) -> (u32, u32) {
        let mut lat: Vec<u32> = self.0.iter().copied().collect();
        lat.sort_unstable();
        let pct = |p: usize| if lat.is_empty() { 0 } else { lat[(lat.len() - 1) * p / 100] };
        (pct(50), pct(99))
    }
}

/// Whether a snapshot thread is deleting what snapshots cover, and the
/// newest snapshot whose covered files are still to go.
#[derive(Debug, Default)]
struct Cleanup {
    active: bool,
    pending: u64,
}

#[derive(Debug, Default)]
struct Shared {
    /// Commit groups released so far.
    durable_groups: AtomicU64,
    /// Set once `Stats::failure` is: the broker asks after every round, and
    /// a lock shared with the log thread was too dear for that question.
    failed: AtomicBool,
    /// Whether a snapshot is being taken (walked, written or synced).
    snapshot_running: AtomicBool,
    /// While the log thread waits for a group to fill: one more than the
    /// number of records the broker must have sent before it wakes the
    /// thread (1: wake on any commit); 0 while it is not waiting. Commits
    /// that do not fill the group are queued without a wake-up, as one
    /// wake-up per broker round cost the log thread a context switch each.
    wake_at: AtomicU64,
    stats: Mutex<Stats>,
    /// The deletion of what installed snapshots cover (one at a time).
    cleanup: Mutex<Cleanup>,
    /// Held while a snapshot is renamed into place or the files it covers
    /// are deleted, and while the broker reads the directory back after a
    /// failure ([`Persister::acknowledged_state`]), which otherwise could
    /// read a file cut part-way by its deletion and fail.
    files: Mutex<()>,
    /// Set when the log thread stops: deletions waiting for a quiet log go
    /// ahead at once.
    stopping: AtomicBool,
}

impl Shared {
    fn stats(&self) -> std::sync::MutexGuard<'_, Stats> {
        self.stats.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records the failure that stops persistence (the first one stays).
    fn fail(&self, err: &PersistError) {
        self.stats().failure.get_or_insert_with(|| err.clone());
        self.failed.store(true, Ordering::Release);
    }

    fn set_snapshot_running(&self, running: bool) {
        self.snapshot_running.store(running, Ordering::Release);
    }

    fn snapshot_running(&self) -> bool {
        self.snapshot_running.load(Ordering::Acquire)
    }
}

/// The broker-side state of an enabled persister.
struct Active<R: Release> {
    tx: mpsc::Sender<Msg<R>>,
    submitted: u64,
    /// Records sent to the log thread so far (see [`Shared::wake_at`]).
    sent_records: u64,
    /// Sequence number of the next record handed over.
    next_seq: u64,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
    policy: FsyncPolicy,
    min_log_bytes: u64,
    requested: bool,
    more_coming: bool,
    next_due_check: Instant,
    retry_after: Option<Instant>,
    /// Where the log is, to read back what it holds after a failure
    /// ([`Persister::acknowledged_state`]).
    store: Arc<dyn Store>,
    dir: PathBuf,
    databases: usize,
    /// Held for the life of the server: the directory lock.
    _lock: DirLock,
}

/// The broker's handle on persistence.
pub struct Persister<R: Release> {
    inner: Option<Active<R>>,
    /// With `appendonly no`: the directory lock, held all the same.
    _lock: Option<DirLock>,
}

/// Longest a group waits for commits the broker announced.
const MAX_GATHER: Duration = Duration::from_millis(2);

/// Longest a group waits to grow as large as the last one (`appendfsync
/// always`), about the time of one fsync here. Measured with
/// `redis-benchmark -c 50 -t set`, four sets of 6-10 alternating runs:
/// median throughput +0-14% at `-P 1`, +8% at `-P 16`, and a lower p99.
const LINGER: Duration = Duration::from_micros(200);

/// A snapshot file is synced each time this many bytes have been written
/// to it since the last sync, as Redis syncs its RDB and AOF rewrites as
/// they grow. Left to the final fsync, the whole snapshot (50-100 MB for
/// 1M keys of 100 bytes) reached the disk at once and the log's fsync
/// queued behind it for 100-200 ms. `bench/snapshot-latency.sh`, four runs
/// each: worst reply 168-196 ms before, 54-69 ms now; the log's fsync p99
/// over such a run 2.2-2.6 ms before, 2.9-3.1 ms now (steps of 4 MiB
/// raised it about twice as much in paired runs); reply p99 unchanged.
const SNAPSHOT_SYNC_BYTES: u64 = 1 << 20;

/// Keys per snapshot walk step, and the time budget of one step.
const STEP_KEYS: usize = 10_000;
const STEP_BUDGET: Duration = Duration::from_millis(1);

impl<R: Release> Persister<R> {
    /// Opens persistence for `config` and recovers the keyspace.
    pub fn open(config: &Config) -> Result<(Persister<R>, Keyspace), PersistError> {
        Self::open_with(config, Arc::new(FsStore))
    }

    /// Like [`Persister::open`], over the given storage (tests inject failures).
    pub fn open_with(config: &Config, store: Arc<dyn Store>) -> Result<(Persister<R>, Keyspace), PersistError> {
        if !config.appendonly {
            return Self::open_unlogged(config, store.as_ref());
        }
        let started = Instant::now();
        let dir = config.dir.clone();
        std::fs::create_dir_all(&dir)
            .map_err(|e| PersistError::Io(format!("creating data directory {}: {e}", dir.display())))?;
        let lock = lock_dir(&dir)?;
        let layout = recover::layout(store.as_ref(), &dir)?;
        for t in &layout.temps {
            tracing::info!(file = %t.display(), "removing the temporary file of an interrupted snapshot");
            let _ = store.remove(t);
        }
        let mut rec = recover::recover(store.as_ref(), &dir, config.databases)?;
        // Leftovers from a compaction that did not finish cleaning up: what
        // the loaded snapshot covers. Its own name is made durable first (a
        // crash may have come between its rename and the directory's sync),
        // so that a power loss cannot keep these deletions without it.
        let leftovers: Vec<&PathBuf> = (layout.snapshots.iter().filter(|(seq, _)| *seq < rec.snapshot_seq))
            .chain(layout.segments.iter().filter(|(first, _)| !rec.segments.iter().any(|s| s.0 == *first)))
            .map(|(_, path)| path)
            .collect();
        if !leftovers.is_empty() {
            match store.sync_dir(&dir) {
                Ok(()) => leftovers.into_iter().for_each(|path| {
                    let _ = store.remove(path);
                }),
                Err(e) => tracing::warn!(error = %e, "could not sync the data directory; covered files are kept"),
            }
        }
        let io = |what: String| move |e: std::io::Error| PersistError::Io(format!("{what}: {e}"));
        let mut wal = None;
        if let Some((first, path, good)) = rec.segments.last().cloned() {
            if let Some((offset, reason)) = &rec.torn_tail {
                tracing::warn!(
                    file = %path.display(),
                    offset,
                    reason = reason.as_str(),
                    "the log ends with a torn record (an append interrupted by a crash); \
                     cutting it off: it was never acknowledged"
                );
            }
            if good < format::LOG_HEADER as u64 {
                store.remove(&path).map_err(io(format!("removing {}", path.display())))?;
                rec.segments.pop();
            } else {
                if rec.torn_tail.is_some() {
                    store.truncate(&path, good).map_err(io(format!("truncating {}", path.display())))?;
                }
                let file = store.open_append(&path, good, true).map_err(io(format!("opening {}", path.display())))?;
                wal = Some(Wal {
                    store: store.clone(),
                    dir: dir.clone(),
                    file,
                    next_seq: rec.last_seq + 1,
                    seg_first: first,
                });
            }
        }
        let mut wal = match wal {
            Some(w) => w,
            None => Wal::create(store.clone(), dir.clone(), rec.last_seq + 1)?,
        };
        let mut ks = std::mem::replace(&mut rec.ks, Keyspace::new(0));
        // Expired keys are dropped, and the drops logged, so the log stays
        // a faithful history of the keyspace.
        let expired = recover::expired(&ks, unix_ms());
        let mut buf = Vec::new();
        if !expired.is_empty() {
            for e in &expired {
                ks.apply(e);
                encode_record(&mut buf, wal.next_seq, e, true);
                wal.next_seq += 1;
            }
            wal.file.append(&buf).and_then(|_| wal.file.sync()).map_err(io("logging expired keys".into()))?;
        }
        let shared = Arc::new(Shared::default());
        {
            let mut st = shared.stats();
            st.segments = rec.segments.iter().map(|s| (s.0, s.2)).collect();
            if st.segments.last().map(|s| s.0) != Some(wal.seg_first) {
                st.segments.push((wal.seg_first, format::LOG_HEADER as u64));
            }
            if let Some(last) = st.segments.last_mut() {
                last.1 += buf.len() as u64;
            }
            st.durable_seq = wal.next_seq - 1;
            st.acked_seq = st.durable_seq;
            st.last_write_ok = true;
            st.last_snapshot_ok = true;
            st.last_save_unix = unix_ms() / 1000;
            st.snapshot_bytes = rec.snapshot_bytes;
        }
        let (tx, rx) = mpsc::channel();
        let policy = config.appendfsync;
        let sh = shared.clone();
        let next_seq = wal.next_seq;
        let thread = std::thread::Builder::new()
            .name("persist".into())
            .spawn(move || log_thread(wal, rx, sh, policy))
            .map_err(|e| PersistError::Io(format!("starting the persistence thread: {e}")))?;
        tracing::info!(
            keys = ks.total_keys(),
            snapshot_seq = rec.snapshot_seq,
            records_replayed = rec.replayed,
            expired_dropped = expired.len(),
            ms = started.elapsed().as_millis() as u64,
            "data loaded from {}",
            dir.display()
        );
        let active = Active {
            tx,
            submitted: 0,
            sent_records: 0,
            next_seq,
            shared,
            thread: Some(thread),
            policy,
            min_log_bytes: config.snapshot_min_log_bytes,
            requested: false,
            more_coming: false,
            next_due_check: Instant::now(),
            retry_after: None,
            store,
            dir: dir.clone(),
            databases: config.databases,
            _lock: lock,
        };
        Ok((Persister { inner: Some(active), _lock: None }, ks))
    }

    /// `appendonly no`: what the directory holds, if anything, is loaded
    /// (under its lock: one server per `--dir`), as Redis loads its
    /// snapshot, but nothing is written to it: the files stay as they are,
    /// and writes from now on are lost at exit.
    fn open_unlogged(config: &Config, store: &dyn Store) -> Result<(Persister<R>, Keyspace), PersistError> {
        let dir = &config.dir;
        let empty = || (Persister { inner: None, _lock: None }, Keyspace::new(config.databases));
        if !dir.is_dir() {
            return Ok(empty());
        }
        let layout = recover::layout(store, dir)?;
        if layout.snapshots.is_empty() && layout.segments.is_empty() {
            return Ok(empty());
        }
        let lock = lock_dir(dir)?;
        let rec = recover::recover(store, dir, config.databases)?;
        tracing::warn!(
            keys = rec.ks.total_keys(),
            "appendonly no: the data in {} was loaded and is left as it is; writes from now on are not persisted \
             (they are lost when the server stops)",
            dir.display()
        );
        Ok((Persister { inner: None, _lock: Some(lock) }, rec.ks))
    }

    /// Changes when the log is synced (`CONFIG SET appendfsync`), from the
    /// next group on.
    pub fn set_policy(&mut self, policy: FsyncPolicy) {
        if let Some(a) = &mut self.inner
            && a.policy != policy
        {
            a.policy = policy;
            let _ = a.tx.send(Msg::Policy(policy));
            if let Some(t) = &a.thread {
                t.thread().unpark();
            }
        }
    }

    /// Whether writes are logged at all (`appendonly yes`).
    pub fn is_enabled(&self) -> bool {
        self.inner.is_some()
    }

    /// Whether every write handed over so far is durable (so a reply that
    /// depends on no new write may leave at once).
    pub fn is_idle(&self) -> bool {
        self.commits_in_flight() == 0
    }

    /// Commits handed over and not yet durable.
    pub fn commits_in_flight(&self) -> u64 {
        match &self.inner {
            None => 0,
            Some(a) => a.submitted - a.shared.durable_groups.load(Ordering::Acquire),
        }
    }

    /// Hands over a group of effects and the replies that wait for them.
    /// `effects` is left empty, its capacity kept for the next round (a
    /// vector grown from nothing every round cost ~130 instructions per
    /// pipelined command in copies).
    pub fn commit(&mut self, effects: &mut Vec<Effect>, releases: Vec<R>) {
        let Some(a) = &mut self.inner else {
            effects.clear();
            R::release_all(releases.into_iter(), None);
            return;
        };
        a.submitted += 1;
        let more = std::mem::take(&mut a.more_coming);
        // One broker round is one unit: every command and transaction in it
        // is replayed whole or not at all.
        let mut bytes = Vec::with_capacity(effects.len() * 48);
        let last = effects.len().saturating_sub(1);
        for (i, e) in effects.iter().enumerate() {
            encode_record(&mut bytes, a.next_seq, e, i == last);
            a.next_seq += 1;
        }
        let records = effects.len() as u64;
        // Freed here, on the thread that allocated them.
        effects.clear();
        if effects.capacity() > 4096 {
            effects.shrink_to(4096);
        }
        let msg = Msg::Commit { bytes, records, releases, more, handed_over: Instant::now() };
        if let Err(mpsc::SendError(Msg::Commit { releases, .. })) = a.tx.send(msg) {
            // The thread is gone (it panicked): nothing can be made durable.
            let err = PersistError::Io("the persistence thread has stopped".into());
            a.shared.fail(&err);
            R::release_all(releases.into_iter(), Some(&err));
            a.shared.durable_groups.fetch_add(1, Ordering::AcqRel);
            return;
        }
        a.sent_records += records;
        // Pairs with the fence in `log_thread`: either it sees this commit in
        // the channel or this sees the wake-up it asked for.
        std::sync::atomic::fence(Ordering::SeqCst);
        let wake_at = a.shared.wake_at.load(Ordering::Relaxed);
        if wake_at != 0
            && a.sent_records + 1 >= wake_at
            && let Some(t) = &a.thread
        {
            t.thread().unpark();
        }
    }

    /// Tells persistence that the broker has more requests queued, so the
    /// next [`Persister::commit`] will soon be followed by another: the
    /// group waits for it (briefly) instead of paying an fsync alone.
    pub fn set_more_coming(&mut self, more: bool) {
        if let Some(a) = &mut self.inner {
            a.more_coming = more;
        }
    }

    /// The failure that stopped persistence, if any: writes must be refused.
    pub fn failure(&self) -> Option<PersistError> {
        let a = self.inner.as_ref()?;
        if !a.shared.failed.load(Ordering::Acquire) {
            return None;
        }
        a.shared.stats().failure.clone()
    }

    /// After a failure: the keyspace as clients were told it is, read back
    /// from the snapshot and the log up to the last record whose reply was
    /// a success. The broker's own has the writes of the failed group and
    /// of every group after it applied; none of them may be read, as none
    /// will survive a restart for certain. A snapshot walk in progress is
    /// abandoned. `Ok(None)`: nothing failed, or persistence is off.
    pub fn acknowledged_state(&mut self, ks: &mut Keyspace) -> Result<Option<Keyspace>, PersistError> {
        let Some(a) = &mut self.inner else { return Ok(None) };
        if !a.shared.failed.load(Ordering::Acquire) {
            return Ok(None);
        }
        if ks.hook.take().is_some() {
            let _ = a.tx.send(Msg::SnapAbort);
            a.shared.set_snapshot_running(false);
            a.shared.stats().snapshot_started = None;
        }
        let upto = a.shared.stats().acked_seq;
        let _files = a.shared.files.lock().unwrap_or_else(|p| p.into_inner());
        let rec = recover::recover_upto(a.store.as_ref(), &a.dir, a.databases, upto)?;
        Ok(Some(rec.ks))
    }

    /// Whether a snapshot walk is in progress (the broker then calls
    /// [`Persister::tick`] at least every millisecond).
    pub fn busy(&self) -> bool {
        self.inner.as_ref().is_some_and(|a| a.shared.snapshot_running())
    }

    /// Asks for a snapshot (`BGSAVE`, `BGREWRITEAOF`); false if persistence is off.
    pub fn request_snapshot(&mut self) -> bool {
        match &mut self.inner {
            Some(a) => {
                a.requested = true;
                true
            }
            None => false,
        }
    }

    /// Unix time (seconds) of the last successful snapshot, or of start-up.
    pub fn last_save(&self) -> Option<u64> {
        self.inner.as_ref().map(|a| a.shared.stats().last_save_unix)
    }

    /// Advances a snapshot in progress by one bounded step, or starts one
    /// when requested or when the log has outgrown the last snapshot. Call
    /// it only when every effect applied so far has been committed.
    pub fn tick(&mut self, ks: &mut Keyspace) {
        let Some(a) = &mut self.inner else { return };
        if ks.hook.is_some() {
            a.step(ks, STEP_KEYS, STEP_BUDGET, None);
            return;
        }
        let now = Instant::now();
        if !a.requested && now < a.next_due_check {
            return;
        }
        a.next_due_check = now + Duration::from_millis(100);
        let due = {
            let st = a.shared.stats();
            st.failure.is_none()
                && !a.shared.snapshot_running()
                && (a.requested
                    || (st.log_bytes() > a.min_log_bytes.max(st.snapshot_bytes)
                        && a.retry_after.is_none_or(|t| now >= t)
                        && st.snapshot_failed_at.is_none_or(|t| t.elapsed() >= Duration::from_secs(5))))
        };
        if due {
            a.requested = false;
            a.begin(ks);
        }
    }

    /// Takes a complete snapshot now (`SAVE`), blocking until it is on disk.
    /// Call it only when every effect applied so far has been committed.
    pub fn save(&mut self, ks: &mut Keyspace) -> Result<(), PersistError> {
        let Some(a) = &mut self.inner else {
            return Err(PersistError::Io("persistence is disabled (appendonly no)".into()));
        };
        if let Some(f) = a.shared.stats().failure.clone() {
            return Err(f);
        }
        if snapshot::walk_of(ks).is_some_and(|(_, w)| w.aborted) {
            // A walk abandoned by a change in this round (`FLUSHALL`,
            // `SWAPDB`) holds nothing worth finishing: a fresh one is taken.
            a.step(ks, 0, Duration::ZERO, None);
        }
        if ks.hook.is_none() {
            // A finished walk whose file is still being synced: let it land.
            while a.shared.snapshot_running() {
                std::thread::sleep(Duration::from_millis(1));
            }
            a.begin(ks);
        }
        let (done_tx, done_rx) = mpsc::channel();
        a.step(ks, usize::MAX, Duration::MAX, Some(done_tx));
        match done_rx.recv() {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(PersistError::Io(e)),
            Err(_) => Err(PersistError::Io("the snapshot was abandoned".into())),
        }
    }

    /// Flushes everything and stops the persistence thread.
    pub fn shutdown(mut self) {
        if let Some(a) = &mut self.inner {
            let _ = a.tx.send(Msg::Shutdown);
            if let Some(t) = a.thread.take() {
                let _ = t.join();
            }
        }
        tracing::debug!(stats = self.info().replace("\r\n", " "), "persistence stopped");
    }

    /// The `INFO persistence` section body: `field:value` lines.
    pub fn info(&self) -> String {
        let Some(a) = &self.inner else {
            return "loading:0\r\naof_enabled:0\r\nrdb_bgsave_in_progress:0\r\naof_rewrite_in_progress:0\r\n".into();
        };
        let st = a.shared.stats();
        let running = u8::from(a.shared.snapshot_running());
        let ok = |b: bool| if b { "ok" } else { "err" };
        let mut s = String::new();
        let mut line = |k: &str, v: String| {
            s.push_str(k);
            s.push(':');
            s.push_str(&v);
            s.push_str("\r\n");
        };
        line("loading", "0".into());
        line("rdb_changes_since_last_save", (st.records - st.records_at_snapshot).to_string());
        line("rdb_bgsave_in_progress", running.to_string());
        line("rdb_last_save_time", st.last_save_unix.to_string());
        line("rdb_last_bgsave_status", ok(st.last_snapshot_ok).into());
        line("rdb_last_bgsave_time_sec", st.last_snapshot_ms.map_or(-1, |ms| (ms / 1000) as i64).to_string());
        line("snapshot_last_duration_ms", st.last_snapshot_ms.map_or(-1, |ms| ms as i64).to_string());
        line(
            "rdb_current_bgsave_time_sec",
            st.snapshot_started.map_or(-1, |t| t.elapsed().as_secs() as i64).to_string(),
        );
        line("rdb_last_snapshot_size", st.snapshot_bytes.to_string());
        line("aof_enabled", "1".into());
        line("aof_rewrite_in_progress", running.to_string());
        line("aof_last_write_status", ok(st.last_write_ok).into());
        line("aof_current_size", st.log_bytes().to_string());
        line("aof_base_size", st.snapshot_bytes.to_string());
        line("appendfsync", a.policy.as_str().into());
        line("log_segments", st.segments.len().to_string());
        line("commits", st.commits.to_string());
        line("records", st.records.to_string());
        let mean = if st.commits == 0 { 0.0 } else { st.records as f64 / st.commits as f64 };
        line("records_per_commit", format!("{mean:.2}"));
        let (p50, p99) = st.fsync_us.p50_p99();
        line("fsync_p50_us", p50.to_string());
        line("fsync_p99_us", p99.to_string());
        let (p50, p99) = st.durable_wait_us.p50_p99();
        line("durable_wait_p50_us", p50.to_string());
        line("durable_wait_p99_us", p99.to_string());
        line("durable_seq", st.durable_seq.to_string());
        s
    }
}

impl<R: Release> Active<R> {
    fn begin(&mut self, ks: &mut Keyspace) {
        {
            let mut st = self.shared.stats();
            self.shared.set_snapshot_running(true);
            st.snapshot_started = Some(Instant::now());
        }
        ks.hook = Some(Box::new(snapshot::SnapWalk::default()));
        let _ = self.tx.send(Msg::SnapBegin);
    }

    fn step(
        &mut self,
        ks: &mut Keyspace,
        keys: usize,
        budget: Duration,
        done: Option<mpsc::Sender<Result<(), String>>>,
    ) {
        let Some((dbs, w)) = snapshot::walk_of(ks) else { return };
        if !w.aborted {
            w.step(dbs, keys, budget);
        }
        let chunk = std::mem::take(&mut w.buf);
        let (aborted, finished, count) = (w.aborted, w.done(dbs), w.count);
        if !chunk.is_empty() && !aborted {
            let _ = self.tx.send(Msg::SnapChunk(chunk));
        }
        if aborted {
            ks.hook = None;
            tracing::info!("snapshot abandoned (a whole database changed under it); it will be retried");
            let _ = self.tx.send(Msg::SnapAbort);
            let mut st = self.shared.stats();
            self.shared.set_snapshot_running(false);
            st.snapshot_started = None;
            self.retry_after = Some(Instant::now() + Duration::from_secs(1));
            if let Some(d) = done {
                let _ = d.send(Err("the snapshot was abandoned".into()));
            }
        } else if finished {
            ks.hook = None;
            let _ = self.tx.send(Msg::SnapEnd { count, done });
        }
    }
}

/// Takes the directory lock, or explains who holds it.
pub(crate) fn lock_dir(dir: &Path) -> Result<DirLock, PersistError> {
    let path = dir.join("LOCK");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| PersistError::Io(format!("opening {}: {e}", path.display())))?;
    // The directory itself is locked too: the `LOCK` file alone could be
    // deleted under a running server, and a second one then took a lock
    // on a new file of that name (a review lost acknowledged writes so).
    let dir_handle =
        File::open(dir).map_err(|e| PersistError::Io(format!("opening the directory {}: {e}", dir.display())))?;
    lock_one(&file, dir, &path)?;
    lock_one(&dir_handle, dir, dir)?;
    Ok(DirLock { _file: file, _dir: dir_handle })
}

/// Holds a data directory for this process: its `LOCK` file and the
/// directory itself, each locked (`flock`) until dropped.
pub(crate) struct DirLock {
    _file: File,
    _dir: File,
}

/// Takes an exclusive lock on `f` (a file or directory of `dir`).
fn lock_one(f: &File, dir: &Path, what: &Path) -> Result<(), PersistError> {
    // A lock can outlive its holder for a moment (a process still exiting,
    // or a child forked by this process that has not exec'd yet holding a
    // copy of the descriptor), so contention is retried for up to a second.
    let deadline = Instant::now() + Duration::from_secs(1);
    loop {
        match f.try_lock() {
            Ok(()) => return Ok(()),
            Err(std::fs::TryLockError::WouldBlock) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(std::fs::TryLockError::WouldBlock) => return Err(PersistError::Locked(dir.to_owned())),
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(PersistError::Io(format!("locking {}: {e}", what.display())));
            }
        }
    }
}

/// The open log: the segment being appended to.
struct Wal {
    store: Arc<dyn Store>,
    dir: PathBuf,
    file: Box<dyn StoreFile>,
    /// Sequence number of the next record.
    next_seq: u64,
    /// First sequence number of the open segment.
    seg_first: u64,
}

impl Wal {
    /// Creates a segment starting at `first` and makes its name durable.
    fn create(store: Arc<dyn Store>, dir: PathBuf, first: u64) -> Result<Wal, PersistError> {
        let path = dir.join(format::segment_name(first));
        let err = |e: std::io::Error| PersistError::Io(format!("creating log segment {}: {e}", path.display()));
        let mut file = store.create(&path, true).map_err(err)?;
        file.append(&format::log_header(first)).map_err(err)?;
        file.sync().map_err(err)?;
        store.sync_dir(&dir).map_err(err)?;
        Ok(Wal { store, dir, file, next_seq: first, seg_first: first })
    }

    /// Starts a new segment at the next sequence number (the current one
    /// must be synced first). A segment with no records is kept.
    fn rotate(&mut self) -> Result<bool, PersistError> {
        if self.seg_first == self.next_seq {
            return Ok(false);
        }
        let w = Wal::create(self.store.clone(), self.dir.clone(), self.next_seq)?;
        *self = w;
        Ok(true)
    }
}

/// Appends the log record for `e` with sequence number `seq` to `buf`;
/// `closes_unit` marks the last record of a unit of writes that recovery
/// applies whole or not at all.
fn encode_record(buf: &mut Vec<u8>, seq: u64, e: &Effect, closes_unit: bool) {
    let at = format::begin_frame(buf);
    let tagged = if closes_unit { seq | format::UNIT_END } else { seq };
    buf.extend_from_slice(&tagged.to_le_bytes());
    codec::put_effect(buf, e);
    format::end_frame(buf, at);
}

/// Log records carried by the commits among `msgs`.
fn pending_records<R>(msgs: &[Msg<R>]) -> u64 {
    msgs.iter().map(|m| if let Msg::Commit { records, .. } = m { *records } else { 0 }).sum()
}

fn io_failure(what: &str, e: std::io::Error) -> PersistError {
    PersistError::Io(format!("{what} failed: {e}"))
}

/// The persistence thread: group commit, then releases in order.
fn log_thread<R: Release>(mut wal: Wal, rx: mpsc::Receiver<Msg<R>>, shared: Arc<Shared>, mut policy: FsyncPolicy) {
    let mut buf: Vec<u8> = Vec::with_capacity(1 << 16);
    let mut pending: Vec<R> = Vec::new();
    // When each commit of the group with replies to release was handed over.
    let mut handed: Vec<Instant> = Vec::new();
    let mut snap: Option<(mpsc::Sender<SnapMsg>, JoinHandle<()>)> = None;
    // Snapshot threads past their install, deleting the files covered.
    let mut finishing: Vec<JoinHandle<()>> = Vec::new();
    let mut failed: Option<PersistError> = None;
    let mut dirty = false;
    let mut last_sync = Instant::now();
    let mut shutdown = false;
    let mut msgs = Vec::new();
    // Records in the last group written, and in all groups so far.
    let mut last_group = 0u64;
    let mut received = 0u64;
    while !shutdown {
        let first = if dirty && policy == FsyncPolicy::Everysec {
            let wait = Duration::from_secs(1).saturating_sub(last_sync.elapsed());
            match rx.recv_timeout(wait) {
                Ok(m) => Some(m),
                Err(RecvTimeoutError::Timeout) => None,
                Err(RecvTimeoutError::Disconnected) => {
                    shutdown = true;
                    None
                }
            }
        } else {
            match rx.recv() {
                Ok(m) => Some(m),
                Err(_) => {
                    shutdown = true;
                    None
                }
            }
        };
        msgs.extend(first);
        while let Ok(m) = rx.try_recv() {
            msgs.push(m);
        }
        // Wait briefly for more of the group: when the broker said another
        // commit is right behind this one (up to MAX_GATHER), or, with a sync
        // per group, until as many records are pending as the last group
        // carried (up to LINGER): the clients it answered each wait for
        // their reply before sending more, so they come back together, and
        // one sync for all of them costs less than one for the first few.
        // The thread parks instead of blocking on the channel, and the broker
        // wakes it only when the group is full (see `Shared::wake_at`).
        let started = Instant::now();
        loop {
            let pending = pending_records(&msgs);
            let (until, wake_at) = match msgs.last() {
                Some(Msg::Commit { more: true, .. }) => (started + MAX_GATHER, 1),
                Some(Msg::Commit { .. }) if policy == FsyncPolicy::Always && pending < last_group => {
                    (started + LINGER, received + last_group + 1)
                }
                _ => break,
            };
            let now = Instant::now();
            if now >= until {
                break;
            }
            shared.wake_at.store(wake_at, Ordering::Relaxed);
            std::sync::atomic::fence(Ordering::SeqCst);
            let before = msgs.len();
            while let Ok(m) = rx.try_recv() {
                msgs.push(m);
            }
            if msgs.len() == before {
                std::thread::park_timeout(until - now);
                while let Ok(m) = rx.try_recv() {
                    msgs.push(m);
                }
            }
        }
        shared.wake_at.store(0, Ordering::Relaxed);
        last_group = pending_records(&msgs);
        received += last_group;
        let mut groups = 0u64;
        let mut records = 0u64;
        let was_ok = failed.is_none();
        for m in msgs.drain(..) {
            match m {
                Msg::Commit { bytes, records: n, releases, handed_over, .. } => {
                    groups += 1;
                    if !releases.is_empty() {
                        handed.push(handed_over);
                    }
                    // Sequence numbers were given out in this order.
                    wal.next_seq += n;
                    if failed.is_none() {
                        if buf.is_empty() {
                            buf = bytes;
                        } else {
                            buf.extend_from_slice(&bytes);
                        }
                        records += n;
                    }
                    pending.extend(releases);
                }
                Msg::SnapBegin => {
                    if failed.is_some() {
                        continue;
                    }
                    // Records before the snapshot point go to the old
                    // segment, made durable now; the new segment starts
                    // right after the snapshot's sequence number.
                    let synced = (if buf.is_empty() { Ok(()) } else { wal.file.append(&buf) })
                        .map_err(|e| io_failure("writing the log", e))
                        .and_then(|_| wal.file.sync().map_err(|e| io_failure("fsync of the log", e)));
                    let appended = buf.len() as u64;
                    buf.clear();
                    dirty = false;
                    if let Err(e) = synced {
                        cut_back(&wal, &shared);
                        failed = Some(e);
                        continue;
                    }
                    {
                        let mut st = shared.stats();
                        if let Some(last) = st.segments.last_mut() {
                            last.1 += appended;
                        }
                        st.durable_seq = wal.next_seq - 1;
                        st.acked_seq = st.durable_seq;
                    }
                    // Their replies leave now, as successes: a failure later
                    // in this turn must not turn the replies of durable
                    // writes into errors.
                    shared.durable_groups.fetch_add(groups, Ordering::AcqRel);
                    groups = 0;
                    R::release_all(pending.drain(..), None);
                    // A new segment that cannot be made fails the snapshot,
                    // not the log: the records are durable in the old
                    // segment, which goes on taking more.
                    let rotated = match wal.rotate() {
                        Ok(rotated) => rotated,
                        Err(e) => {
                            tracing::warn!(error = %e, "snapshot failed: no new log segment could be made; the log goes on in the current one, and the snapshot will be retried");
                            shared.stats().snapshot_failed_at = Some(Instant::now());
                            continue;
                        }
                    };
                    // The records the snapshot covers: those counted already
                    // and this round's so far.
                    let covered = {
                        let mut st = shared.stats();
                        if rotated {
                            st.segments.push((wal.seg_first, format::LOG_HEADER as u64));
                        }
                        st.records + records
                    };
                    let seq = wal.next_seq - 1;
                    let (stx, srx) = mpsc::channel();
                    let (store, dir, sh) = (wal.store.clone(), wal.dir.clone(), shared.clone());
                    let h = std::thread::Builder::new()
                        .name("snapshot".into())
                        .spawn(move || snapshot_thread(store, dir, (seq, covered), srx, sh));
                    match h {
                        Ok(h) => snap = Some((stx, h)),
                        Err(e) => tracing::warn!(error = %e, "could not start the snapshot thread"),
                    }
                }
                Msg::SnapChunk(c) => {
                    if let Some((s, _)) = &snap {
                        let _ = s.send(SnapMsg::Chunk(c));
                    }
                }
                Msg::SnapEnd { count, done } => match snap.take() {
                    Some((s, h)) => {
                        let _ = s.send(SnapMsg::End { count, done });
                        // It may still be waiting to delete what it covers.
                        finishing.retain(|h: &JoinHandle<()>| !h.is_finished());
                        finishing.push(h);
                    }
                    None => {
                        let mut st = shared.stats();
                        shared.set_snapshot_running(false);
                        st.snapshot_started = None;
                        st.last_snapshot_ok = false;
                        if let Some(d) = done {
                            let _ = d.send(Err("the snapshot could not be started".into()));
                        }
                    }
                },
                Msg::SnapAbort => {
                    if let Some((s, _)) = snap.take() {
                        let _ = s.send(SnapMsg::Abort);
                    }
                }
                Msg::Policy(p) => policy = p,
                Msg::Shutdown => shutdown = true,
            }
        }
        if failed.is_none() && !buf.is_empty() {
            match wal.file.append(&buf) {
                Ok(()) => dirty = true,
                Err(e) => {
                    cut_back(&wal, &shared);
                    failed = Some(io_failure("writing the log", e));
                }
            }
        }
        let written = buf.len() as u64;
        buf.clear();
        let sync_now = match policy {
            FsyncPolicy::Always => true,
            FsyncPolicy::Everysec => last_sync.elapsed() >= Duration::from_secs(1),
            FsyncPolicy::No => false,
        };
        let mut synced = None;
        if failed.is_none() && dirty && (sync_now || shutdown) {
            let t = Instant::now();
            match wal.file.sync() {
                Ok(()) => {
                    dirty = false;
                    last_sync = Instant::now();
                    synced = Some(t.elapsed());
                }
                // Never retried: after a failed fsync the kernel may have
                // dropped the dirty pages, so a later "success" proves nothing.
                Err(e) => {
                    cut_back(&wal, &shared);
                    failed = Some(io_failure("fsync of the log", e));
                }
            }
        }
        if was_ok && let Some(f) = &failed {
            tracing::error!(
                error = %f,
                "persistence failed: writes are refused from now on (reads keep working). \
                 Replies to the writes of the failed group were errors; they may or may not be on disk. \
                 Fix the disk (space, permissions, hardware), then restart the server: \
                 it recovers every acknowledged write from the log"
            );
            shared.fail(f);
            shared.stats().last_write_ok = false;
        }
        {
            let mut st = shared.stats();
            if records > 0 && failed.is_none() {
                st.commits += 1;
                st.records += records;
                if let Some(last) = st.segments.last_mut() {
                    last.1 += written;
                }
            }
            if let Some(d) = synced {
                st.fsync_us.record(d);
            }
            // The replies of these commits leave now (below).
            let now = Instant::now();
            for t in handed.drain(..) {
                st.durable_wait_us.record(now.saturating_duration_since(t));
            }
            if failed.is_none() && !dirty {
                st.durable_seq = wal.next_seq - 1;
            }
            if failed.is_none() {
                st.acked_seq = wal.next_seq - 1;
            }
        }
        shared.durable_groups.fetch_add(groups, Ordering::AcqRel);
        R::release_all(pending.drain(..), failed.as_ref());
    }
    if let Some((s, h)) = snap.take() {
        let _ = s.send(SnapMsg::Abort);
        let _ = h.join();
    }
    shared.stopping.store(true, Ordering::Release);
    for h in finishing {
        let _ = h.join();
    }
}

/// After a failed write or fsync: cuts the open segment back to the records
/// acknowledged so far, so that a restart does not replay writes whose
/// replies were errors (a failed append may have written whole records
/// before failing; a failed fsync may still have reached the disk). If the
/// disk refuses this too, a restart may find them: said in the log.
fn cut_back(wal: &Wal, shared: &Shared) {
    let Some(len) = shared.stats().segments.last().map(|s| s.1) else { return };
    let path = wal.dir.join(format::segment_name(wal.seg_first));
    if let Err(e) = wal.store.truncate(&path, len) {
        tracing::warn!(
            error = %e,
            file = %path.display(),
            "could not cut the failed writes off the log: a restart may replay some of the writes that got errors"
        );
    }
}

enum SnapMsg {
    Chunk(Vec<u8>),
    End { count: u64, done: Option<mpsc::Sender<Result<(), String>>> },
    Abort,
}

/// Writes one snapshot to a temporary file, then installs it and deletes
/// what it replaces.
/// `point`: the sequence number of the last record the snapshot holds, and
/// how many records the server had logged by then (for `INFO`).
fn snapshot_thread(
    store: Arc<dyn Store>,
    dir: PathBuf,
    point: (u64, u64),
    rx: mpsc::Receiver<SnapMsg>,
    shared: Arc<Shared>,
) {
    let (seq, covered) = point;
    let started = Instant::now();
    let name = format::snapshot_name(seq);
    let tmp = dir.join(format!("{name}.tmp"));
    let dest = dir.join(&name);
    let mut size = 0u64;
    // Bytes written since the last sync (see SNAPSHOT_SYNC_BYTES).
    let mut unsynced = 0u64;
    let mut done_tx = None;
    let result: Result<bool, String> = (|| {
        let e = |e: std::io::Error| format!("writing snapshot {}: {e}", tmp.display());
        let mut f = store.create(&tmp, false).map_err(e)?;
        f.append(&format::snap_header(seq, unix_ms())).map_err(e)?;
        size += format::SNAP_HEADER as u64;
        loop {
            match rx.recv() {
                Ok(SnapMsg::Chunk(c)) => {
                    f.append(&c).map_err(e)?;
                    size += c.len() as u64;
                    unsynced += c.len() as u64;
                    if unsynced >= SNAPSHOT_SYNC_BYTES {
                        f.sync().map_err(e)?;
                        unsynced = 0;
                    }
                }
                Ok(SnapMsg::End { count, done }) => {
                    done_tx = done;
                    let mut body = vec![format::SNAP_END];
                    codec::put_varint(&mut body, count);
                    let mut fr = Vec::new();
                    format::put_frame(&mut fr, &body);
                    f.append(&fr).map_err(e)?;
                    size += fr.len() as u64;
                    f.sync().map_err(e)?;
                    drop(f);
                    let _files = shared.files.lock().unwrap_or_else(|p| p.into_inner());
                    store.rename(&tmp, &dest).map_err(e)?;
                    store.sync_dir(&dir).map_err(e)?;
                    return Ok(true);
                }
                Ok(SnapMsg::Abort) | Err(_) => return Ok(false),
            }
        }
    })();
    let installed = matches!(result, Ok(true));
    if !installed {
        let _ = store.remove(&tmp);
    }
    {
        let mut st = shared.stats();
        shared.set_snapshot_running(false);
        st.snapshot_started = None;
        match &result {
            Ok(true) => {
                st.segments.retain(|s| s.0 > seq);
                st.last_snapshot_ok = true;
                st.last_save_unix = unix_ms() / 1000;
                st.last_snapshot_ms = Some(started.elapsed().as_millis() as u64);
                st.snapshot_bytes = size;
                // Writes made during the walk are not in the snapshot.
                st.records_at_snapshot = covered;
            }
            Ok(false) => {}
            Err(msg) => {
                tracing::warn!(error = msg.as_str(), "snapshot failed; the log is intact and it will be retried");
                st.last_snapshot_ok = false;
                st.snapshot_failed_at = Some(Instant::now());
            }
        }
    }
    if let Some(d) = done_tx {
        let _ = d.send(result.map(|_| ()));
    }
    if installed {
        tracing::info!(file = %dest.display(), bytes = size, ms = started.elapsed().as_millis() as u64, "snapshot saved");
        remove_covered(store.as_ref(), &dir, seq, &shared);
    }
}

/// How long the log must go without a commit before the files a snapshot
/// covers are deleted. Deleting them competes with the log's fsyncs for
/// the disk (see [`Store::remove_gradually`]), so it waits for a lull: a
/// `SET -P 16` run of 400k requests crossing a snapshot of a one-key
/// keyspace (its log first filled to 61 MB), four runs each: reply p99
/// 1.41-1.57 ms and worst 2.7-5.6 ms deleting in the lull after the run,
/// against 2.35-2.70 and 2.9-8.1 ms deleting during it (Redis 7.0 in the
/// same script, rewriting its AOF: 2.04-2.74 and 18.1-18.8 ms).
const CLEANUP_QUIET: Duration = Duration::from_millis(50);

/// The longest the deletion waits for a lull: under unbroken load it goes
/// ahead after this, so the covered files outlive their snapshot by at
/// most this long (plus the deletion itself).
const CLEANUP_MAX_WAIT: Duration = Duration::from_secs(5);

/// Deletes what snapshot `seq` covers: segments wholly before `seq + 1`
/// and older snapshots, once the log is quiet (see [`CLEANUP_QUIET`]).
/// Recovery skips both (a covered segment by the first record of the
/// segment after it, an older snapshot by the newer one), so files left
/// by a crash, whole or cut part-way, are deleted at the next start-up.
fn remove_covered(store: &dyn Store, dir: &Path, seq: u64, shared: &Shared) {
    let cleanup = || shared.cleanup.lock().unwrap_or_else(|p| p.into_inner());
    {
        let mut c = cleanup();
        c.pending = c.pending.max(seq);
        if c.active {
            // The thread already waiting deletes this snapshot's share too.
            return;
        }
        c.active = true;
    }
    loop {
        wait_for_quiet_log(shared);
        let seq = cleanup().pending;
        let files = shared.files.lock().unwrap_or_else(|p| p.into_inner());
        if let Ok(l) = recover::layout(store, dir) {
            let covered = l.segments.iter().filter(|(first, _)| *first <= seq);
            for (_, path) in covered.chain(l.snapshots.iter().filter(|(s, _)| *s < seq)) {
                // Stopping, nothing is left to disturb: delete at once.
                let _ = if shared.stopping.load(Ordering::Acquire) {
                    store.remove(path)
                } else {
                    store.remove_gradually(path)
                };
            }
            let _ = store.sync_dir(dir);
        }
        drop(files);
        let mut c = cleanup();
        if c.pending == seq {
            c.active = false;
            return;
        }
    }
}

/// Returns once the log has gone [`CLEANUP_QUIET`] without a commit, after
/// [`CLEANUP_MAX_WAIT`], or when the log thread stops.
fn wait_for_quiet_log(shared: &Shared) {
    let deadline = Instant::now() + CLEANUP_MAX_WAIT;
    let mut commits = shared.stats().commits;
    let mut quiet_since = Instant::now();
    while !shared.stopping.load(Ordering::Acquire) {
        let now = Instant::now();
        if now >= deadline || now.duration_since(quiet_since) >= CLEANUP_QUIET {
            return;
        }
        std::thread::sleep(Duration::from_millis(5));
        let c = shared.stats().commits;
        if c != commits {
            commits = c;
            quiet_since = Instant::now();
        }
    }
}
