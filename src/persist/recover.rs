//! Reading the data directory back: the newest snapshot, then every log
//! record after it, in order. Shared by start-up and `statebroker check`.

use bytes::Bytes;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::time::Instant;

use super::PersistError;
use super::codec::{self, Reader};
use super::format::{self, FrameReader, Next};
use super::store::Store;
use crate::state::{Effect, Keyspace};

/// What a data directory holds, in order.
#[derive(Debug, Default)]
pub struct Layout {
    /// Snapshots as `(seq, path)`, oldest first.
    pub snapshots: Vec<(u64, PathBuf)>,
    /// Log segments as `(first_seq, path)`, oldest first.
    pub segments: Vec<(u64, PathBuf)>,
    /// Leftover temporary files of interrupted snapshots.
    pub temps: Vec<PathBuf>,
}

/// Lists the persistence files of `dir`.
pub fn layout(store: &dyn Store, dir: &Path) -> Result<Layout, PersistError> {
    let mut l = Layout::default();
    let names = store.list(dir).map_err(|e| PersistError::Io(format!("listing {}: {e}", dir.display())))?;
    for name in names {
        if let Some(seq) = format::parse_segment_name(&name) {
            l.segments.push((seq, dir.join(&name)));
        } else if let Some(seq) = format::parse_snapshot_name(&name) {
            l.snapshots.push((seq, dir.join(&name)));
        } else if name.starts_with("snap-") && name.ends_with(".tmp") {
            l.temps.push(dir.join(&name));
        }
    }
    l.snapshots.sort();
    l.segments.sort();
    Ok(l)
}

/// The outcome of reading a data directory.
#[derive(Debug)]
pub struct Recovered {
    /// The rebuilt keyspace (expired keys still in it).
    pub ks: Keyspace,
    /// The sequence number of the snapshot loaded (0: none).
    pub snapshot_seq: u64,
    /// Size of the snapshot loaded.
    pub snapshot_bytes: u64,
    /// The last sequence number applied.
    pub last_seq: u64,
    /// Live segments as `(first_seq, path, good bytes)`, oldest first.
    pub segments: Vec<(u64, PathBuf, u64)>,
    /// A torn tail found at the end of the last segment: `(offset, reason)`;
    /// everything from `offset` on is to be cut.
    pub torn_tail: Option<(u64, String)>,
    /// Log records replayed.
    pub replayed: u64,
}

fn io_err(path: &Path, e: std::io::Error) -> PersistError {
    PersistError::Io(format!("reading {}: {e}", path.display()))
}

fn corrupt(file: &Path, offset: u64, reason: impl Into<String>) -> PersistError {
    PersistError::Corrupt { file: file.to_owned(), offset, reason: reason.into() }
}

/// A sound record naming a database the server (or `check`) was not given:
/// a setting to raise, not damage, so nothing may be cut for it.
fn too_few_databases(file: &Path, offset: u64, db: u32, databases: usize) -> PersistError {
    PersistError::Unsupported(format!(
        "{} at offset {offset}: a record uses database {db}, but the server has {databases} databases; \
         start it (or `statebroker check`) with --databases {} or more",
        file.display(),
        db as u64 + 1
    ))
}

/// Loads a snapshot into `ks`; returns its sequence number and entry count.
pub fn load_snapshot(store: &dyn Store, path: &Path, ks: &mut Keyspace) -> Result<(u64, u64), PersistError> {
    let mut r = BufReader::with_capacity(1 << 20, store.open_read(path).map_err(|e| io_err(path, e))?);
    let h = FrameReader::read_header(&mut r, format::SNAP_HEADER)
        .map_err(|e| io_err(path, e))?
        .ok_or_else(|| corrupt(path, 0, "incomplete snapshot header"))?;
    let seq = format::check_header(&h, format::SNAP_MAGIC, "snapshot").map_err(|reason| match reason {
        r if r.contains("version") => PersistError::Unsupported(format!("{}: {r}", path.display())),
        r => corrupt(path, 0, r),
    })?;
    let mut fr = FrameReader::new(r, format::SNAP_HEADER as u64);
    let mut entries = 0u64;
    let databases = ks.dbs.len();
    loop {
        let at = fr.offset;
        match fr.next_frame().map_err(|e| io_err(path, e))? {
            Next::Record(body) => {
                let mut rd = Reader::new(&body);
                let kind = rd.u8().map_err(|e| corrupt(path, at, e.0))?;
                match kind {
                    format::SNAP_ENTRY => {
                        let (db, key, exp, value) = codec::get_entry(&mut rd)
                            .and_then(|e| rd.finish().map(|_| e))
                            .map_err(|e| corrupt(path, at, e.0))?;
                        if db as usize >= databases {
                            return Err(too_few_databases(path, at, db, databases));
                        }
                        ks.dbs[db as usize].insert(&key, value, exp);
                        entries += 1;
                        if entries & 0xF_FFFF == 0 {
                            tracing::info!(keys = entries, "loading the snapshot");
                        }
                    }
                    format::SNAP_END => {
                        let count = rd.varint().map_err(|e| corrupt(path, at, e.0))?;
                        if count != entries {
                            return Err(corrupt(path, at, format!("end record counts {count} keys, found {entries}")));
                        }
                        if !matches!(fr.next_frame().map_err(|e| io_err(path, e))?, Next::End) {
                            return Err(corrupt(path, fr.offset, "data after the end record"));
                        }
                        return Ok((seq, entries));
                    }
                    k => return Err(corrupt(path, at, format!("unknown snapshot record kind {k}"))),
                }
            }
            Next::End => return Err(corrupt(path, at, "snapshot ends without its end record (incomplete)")),
            Next::Bad { reason, .. } => return Err(corrupt(path, at, reason)),
        }
    }
}

/// A bad record ending a segment: `(offset, reason, looks torn)`.
pub type BadTail = (u64, String, bool);

/// Reads one segment, calling `f` with every record's sequence number, its
/// effect, whether it closes a unit of writes, and the offset just past it.
/// Returns the good length and, for a bad tail, `(offset, reason, torn)`.
pub fn scan_segment(
    store: &dyn Store,
    path: &Path,
    first_seq: u64,
    databases: usize,
    mut f: impl FnMut(u64, Effect, bool, u64) -> Result<(), PersistError>,
) -> Result<(u64, Option<BadTail>), PersistError> {
    let mut r = BufReader::with_capacity(1 << 20, store.open_read(path).map_err(|e| io_err(path, e))?);
    let Some(h) = FrameReader::read_header(&mut r, format::LOG_HEADER).map_err(|e| io_err(path, e))? else {
        return Ok((0, Some((0, "incomplete segment header".into(), true))));
    };
    let named = format::check_header(&h, format::LOG_MAGIC, "log segment").map_err(|reason| match reason {
        r if r.contains("version") => PersistError::Unsupported(format!("{}: {r}", path.display())),
        r => corrupt(path, 0, r),
    })?;
    if named != first_seq {
        return Err(corrupt(path, 0, format!("header says first record {named}, file name says {first_seq}")));
    }
    let mut fr = FrameReader::for_log(r, format::LOG_HEADER as u64);
    let mut expect = first_seq;
    loop {
        let at = fr.offset;
        match fr.next_frame().map_err(|e| io_err(path, e))? {
            Next::Record(body) => {
                let mut rd = Reader::new(&body);
                let tagged = rd.u64().map_err(|e| corrupt(path, at, e.0))?;
                let (seq, closes_unit) = (tagged & !format::UNIT_END, tagged & format::UNIT_END != 0);
                if seq != expect {
                    return Err(corrupt(path, at, format!("record {seq} where {expect} was expected")));
                }
                let effect = codec::get_effect(&mut rd)
                    .and_then(|e| rd.finish().map(|_| e))
                    .map_err(|e| corrupt(path, at, e.0))?;
                if let Some(db) = effect.highest_db()
                    && db as usize >= databases
                {
                    return Err(too_few_databases(path, at, db, databases));
                }
                f(seq, effect, closes_unit, fr.offset)?;
                expect += 1;
            }
            Next::End => return Ok((at, None)),
            Next::Bad { reason, torn } => return Ok((at, Some((at, reason, torn)))),
        }
    }
}

/// Why a directory whose newest snapshot lacks the segment after it does not
/// load (the segment is named as the file, which does not exist).
pub const MISSING_AFTER_SNAPSHOT: &str =
    "this log segment, which follows the newest snapshot, is missing: the writes made after the snapshot are lost";

/// Rebuilds the keyspace from `dir`. Progress is logged for large data sets.
pub fn recover(store: &dyn Store, dir: &Path, databases: usize) -> Result<Recovered, PersistError> {
    recover_upto(store, dir, databases, u64::MAX)
}

/// Like [`recover`], replaying the log only up to record `upto`: what
/// follows it (the records of a failed write, which may be torn or
/// missing) is not read.
pub fn recover_upto(store: &dyn Store, dir: &Path, databases: usize, upto: u64) -> Result<Recovered, PersistError> {
    let started = Instant::now();
    let l = layout(store, dir)?;
    let mut ks = Keyspace::new(databases);
    let mut snapshot_seq = 0;
    let mut snapshot_bytes = 0;
    if let Some((seq, path)) = l.snapshots.last() {
        tracing::info!(file = %path.display(), "loading snapshot");
        let (s, n) = load_snapshot(store, path, &mut ks)?;
        if s != *seq {
            return Err(corrupt(path, 0, format!("header says sequence {s}, file name says {seq}")));
        }
        snapshot_seq = s;
        snapshot_bytes = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        tracing::info!(keys = n, seq = s, ms = started.elapsed().as_millis() as u64, "snapshot loaded");
    }
    // Each snapshot is made with the segment after it (the log moves to a
    // new segment at the snapshot's point, before the snapshot is written),
    // so a snapshot without it means that segment was lost, and with it
    // every write after the snapshot: refused, not started without them.
    if let Some((seq, _)) = l.snapshots.last()
        && !l.segments.iter().any(|(first, _)| *first == seq + 1)
    {
        return Err(corrupt(&dir.join(format::segment_name(seq + 1)), 0, MISSING_AFTER_SNAPSHOT));
    }
    let mut last_seq = snapshot_seq;
    let mut segments = Vec::new();
    let mut torn_tail = None;
    let mut replayed = 0u64;
    let n = l.segments.len();
    for (i, (first, path)) in l.segments.iter().enumerate() {
        if last_seq >= upto {
            break;
        }
        let is_last = i + 1 == n;
        // A segment wholly covered by the snapshot (its successor starts at
        // or before the snapshot's next record) is left over from before
        // compaction finished; it is skipped.
        if let Some((next_first, _)) = l.segments.get(i + 1)
            && *next_first <= snapshot_seq + 1
        {
            continue;
        }
        if *first > last_seq + 1 {
            return Err(corrupt(
                path,
                0,
                format!("records {}..{} are missing (a log segment was lost)", last_seq + 1, first - 1),
            ));
        }
        // Effects of an unfinished unit wait here until its closing record.
        let mut unit: Vec<(u64, Effect)> = Vec::new();
        let mut unit_start = format::LOG_HEADER as u64;
        let (mut good, mut bad) = scan_segment(store, path, *first, databases, |seq, effect, closes_unit, end| {
            unit.push((seq, effect));
            if closes_unit {
                for (seq, effect) in unit.drain(..) {
                    if seq > snapshot_seq && seq <= upto {
                        ks.apply(&effect);
                        last_seq = seq;
                        replayed += 1;
                        if replayed & 0xF_FFFF == 0 {
                            tracing::info!(records = replayed, "replaying the log");
                        }
                    }
                }
                unit_start = end;
            }
            Ok(())
        })?;
        if !unit.is_empty() {
            // A unit whose closing record never made it to disk: the crash
            // interrupted its write, so none of it was acknowledged.
            let reason = format!("{} records of an unfinished unit of writes", unit.len());
            bad = Some(match bad {
                Some((_, r, torn)) => (unit_start, format!("{reason}, then {r}"), torn),
                None => (unit_start, reason, true),
            });
            good = unit_start;
        }
        if let Some((offset, reason, torn)) = bad {
            if !(is_last && torn) && last_seq < upto {
                return Err(corrupt(path, offset, reason));
            }
            torn_tail = Some((offset, reason));
        }
        segments.push((*first, path.clone(), good));
    }
    Ok(Recovered { ks, snapshot_seq, snapshot_bytes, last_seq, segments, torn_tail, replayed })
}

/// Reads a whole file through the store (used by tests and `check`).
pub fn read_all(store: &dyn Store, path: &Path) -> std::io::Result<Vec<u8>> {
    let mut v = Vec::new();
    store.open_read(path)?.read_to_end(&mut v)?;
    Ok(v)
}

/// The keys of `ks` whose deadline is at or before `now_ms`.
pub fn expired(ks: &Keyspace, now_ms: u64) -> Vec<Effect> {
    let mut out = Vec::new();
    for (db, d) in ks.dbs.iter().enumerate() {
        for key in d.expired_keys(now_ms, usize::MAX) {
            out.push(Effect::Del { db: db as u32, key: Bytes::clone(&key) });
        }
    }
    out
}
