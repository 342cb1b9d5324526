//! Persistence: log and snapshot round trips, torn tails and corruption,
//! fail-stop on injected I/O errors, expiry on load, the directory lock.

use bytes::Bytes;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc;

use statebroker::broker::{Batch, BatchReply, Broker, Durable, Message};
use statebroker::cmd::{ServerState, Session};
use statebroker::config::{Config, FsyncPolicy};
use statebroker::persist::store::{FailingStore, FsStore, Store, StoreFile};
use statebroker::persist::{PersistError, Persister, Release};
use statebroker::state::zset::ZSet;
use statebroker::state::{Effect, ExpireChange, Keyspace, Value};

use crate::common::*;

/// A release that reports its outcome on a channel.
struct Probe(u32, mpsc::Sender<(u32, Option<String>)>);

impl Release for Probe {
    fn release(self, failure: Option<&PersistError>) {
        let _ = self.1.send((self.0, failure.map(|e| e.to_string())));
    }
}

fn config(dir: &Path) -> Config {
    Config { dir: dir.to_owned(), unixsocket: dir.join("sb.sock"), ..Config::default() }
}

fn b(s: &str) -> Bytes {
    Bytes::copy_from_slice(s.as_bytes())
}

fn put(db: u32, k: &str, v: &str) -> Effect {
    Effect::Put { db, key: b(k), value: Value::Str(b(v).into()), expire: ExpireChange::Clear }
}

/// Commits `effects` (applying them to `ks` first) and waits until durable.
fn commit_wait(p: &mut Persister<Probe>, ks: &mut Keyspace, mut effects: Vec<Effect>) -> Option<String> {
    for e in &effects {
        ks.apply(e);
    }
    let (tx, rx) = mpsc::channel();
    p.commit(&mut effects, vec![Probe(0, tx)]);
    rx.recv().expect("released").1
}

/// Commits `k0`..`k{n-1}` (set to `value` in database 0), one commit each,
/// and checks that every one was acknowledged without error.
fn commit_keys(p: &mut Persister<Probe>, ks: &mut Keyspace, n: usize, value: &str) {
    for i in 0..n {
        assert_eq!(commit_wait(p, ks, vec![put(0, &format!("k{i}"), value)]), None);
    }
}

fn segments(dir: &Path) -> Vec<PathBuf> {
    files_with_extension(dir, "sblog")
}

fn snapshots(dir: &Path) -> Vec<PathBuf> {
    files_with_extension(dir, "sbsnap")
}

/// Length of a segment's data (segments are preallocated with zeros; the
/// records written by these tests end with a non-zero byte).
fn data_len(seg: &Path) -> u64 {
    let data = std::fs::read(seg).unwrap();
    data.iter().rposition(|&b| b != 0).map_or(0, |i| i as u64 + 1)
}

fn every_type_effects() -> Vec<Effect> {
    let mut z = ZSet::default();
    z.insert(&b("one"), 1.0);
    z.insert(&b("two"), 2.5);
    let far = 4_000_000_000_000u64;
    vec![
        put(0, "str", "hello"),
        Effect::Append { db: 0, key: b("str"), data: b(" world") },
        Effect::SetRange { db: 0, key: b("range"), offset: 3, data: b("xy") },
        Effect::ListPush { db: 0, key: b("list"), left: false, items: vec![b("a"), b("b"), b("c")] },
        Effect::ListPush { db: 0, key: b("list"), left: true, items: vec![b("z")] },
        Effect::ListPop { db: 0, key: b("list"), left: false, count: 1 },
        Effect::ListSet { db: 0, key: b("list"), index: 1, value: b("A") },
        Effect::ListInsert { db: 0, key: b("list"), index: 1, value: b("ins") },
        Effect::HashSet { db: 1, key: b("hash"), pairs: vec![(b("f1"), b("v1")), (b("f2"), b("v2"))] },
        Effect::HashDel { db: 1, key: b("hash"), fields: vec![b("f2")] },
        Effect::SetAdd { db: 2, key: b("set"), members: vec![b("m1"), b("m2"), b("m3")] },
        Effect::SetRem { db: 2, key: b("set"), members: vec![b("m2")] },
        Effect::ZAdd { db: 3, key: b("zset"), pairs: vec![(1.5, b("a")), (-3.0, b("b")), (f64::INFINITY, b("c"))] },
        Effect::ZRem { db: 3, key: b("zset"), members: vec![b("c")] },
        Effect::Put { db: 0, key: b("zcopy"), value: Value::ZSet(z), expire: ExpireChange::At(far) },
        Effect::SetExpire { db: 1, key: b("hash"), at: Some(far) },
        put(0, "gone", "x"),
        Effect::Rename { db: 0, from: b("gone"), to: b("renamed") },
        Effect::Move { db: 0, key: b("renamed"), to_db: 5 },
    ]
}

#[test]
fn snapshot_and_log_round_trip_every_type() {
    let dir = TempDir::new("persist-rt");
    let cfg = config(&dir.0);
    let (mut p, mut ks) = Persister::<Probe>::open(&cfg).unwrap();
    let all = every_type_effects();
    let (before, after) = all.split_at(all.len() / 2);
    assert_eq!(commit_wait(&mut p, &mut ks, before.to_vec()), None);
    p.save(&mut ks).expect("snapshot");
    assert_eq!(commit_wait(&mut p, &mut ks, after.to_vec()), None);
    // A second snapshot while writes keep coming, then more writes.
    p.request_snapshot();
    p.tick(&mut ks);
    assert_eq!(
        commit_wait(&mut p, &mut ks, vec![put(0, "during", "snap"), Effect::Del { db: 0, key: b("range") }]),
        None
    );
    while ks.hook.is_some() {
        p.tick(&mut ks);
    }
    assert_eq!(commit_wait(&mut p, &mut ks, vec![put(7, "late", "1")]), None);
    let expected = ks.sorted_entries();
    p.shutdown();
    let (p2, ks2) = Persister::<Probe>::open(&cfg).unwrap();
    assert_eq!(ks2.sorted_entries(), expected);
    assert!(p2.info().contains("aof_enabled:1"));
    p2.shutdown();
    // Only one snapshot remains, and the log before it was deleted.
    assert_eq!(snapshots(&dir.0).len(), 1);
    assert!(segments(&dir.0).len() <= 2);
}

#[test]
fn a_torn_tail_is_cut_off_with_earlier_records_kept() {
    let dir = TempDir::new("persist-torn");
    let cfg = config(&dir.0);
    let (mut p, mut ks) = Persister::<Probe>::open(&cfg).unwrap();
    commit_keys(&mut p, &mut ks, 10, "v");
    p.shutdown();
    let seg = segments(&dir.0).pop().unwrap();
    let len = data_len(&seg);
    // Cut the last record in half, as a crash mid-append would.
    let f = std::fs::OpenOptions::new().write(true).open(&seg).unwrap();
    f.set_len(len - 5).unwrap();
    drop(f);
    let (mut p, mut ks) = Persister::<Probe>::open(&cfg).unwrap();
    assert_eq!(ks.total_keys(), 9);
    assert!(ks.dbs[0].get(b"k9").is_none());
    // The log continues cleanly after the cut.
    commit_wait(&mut p, &mut ks, vec![put(0, "after", "v")]);
    p.shutdown();
    let (p, ks) = Persister::<Probe>::open(&cfg).unwrap();
    assert_eq!(ks.total_keys(), 10);
    p.shutdown();

    // A torn last record followed by the preallocated zeros is torn too.
    let end = data_len(&seg) as usize;
    let mut data = std::fs::read(&seg).unwrap();
    data[end - 3] ^= 0x55;
    std::fs::write(&seg, &data).unwrap();
    let (p, ks) = Persister::<Probe>::open(&cfg).unwrap();
    assert_eq!(ks.total_keys(), 9, "the damaged last record is cut off");
    p.shutdown();

    // Zero fill at the end (size extended, data never written) is the end.
    let mut data = std::fs::read(&seg).unwrap();
    data.extend_from_slice(&[0u8; 100]);
    std::fs::write(&seg, &data).unwrap();
    let (p, ks) = Persister::<Probe>::open(&cfg).unwrap();
    assert_eq!(ks.total_keys(), 9);
    p.shutdown();
}

#[test]
fn a_unit_of_writes_torn_by_a_crash_is_dropped_whole() {
    // One commit is one unit (a broker round: a transaction, an MSET...).
    // A crash that leaves only its first records on disk must not replay
    // half of it.
    let dir = TempDir::new("persist-unit");
    let cfg = config(&dir.0);
    let (mut p, mut ks) = Persister::<Probe>::open(&cfg).unwrap();
    commit_wait(&mut p, &mut ks, vec![put(0, "before", "v")]);
    commit_wait(&mut p, &mut ks, vec![put(0, "a", "1"), put(0, "b", "1"), put(0, "c", "1")]);
    p.shutdown();
    let seg = segments(&dir.0).pop().unwrap();
    let len = data_len(&seg);
    // Drop the unit's last record whole: what remains is a clean record
    // boundary, but the unit is unfinished.
    let data = std::fs::read(&seg).unwrap();
    let mut cut = len as usize;
    // Walk the frames from the header to find where the last record starts.
    let mut at = 24usize;
    let mut starts = Vec::new();
    while at + 8 <= cut {
        let n = u32::from_le_bytes(data[at..at + 4].try_into().unwrap()) as usize;
        if n == 0 {
            break;
        }
        starts.push(at);
        at += 8 + n;
    }
    cut = *starts.last().unwrap();
    let f = std::fs::OpenOptions::new().write(true).open(&seg).unwrap();
    f.set_len(cut as u64).unwrap();
    drop(f);
    let (p, ks) = Persister::<Probe>::open(&cfg).unwrap();
    assert!(ks.dbs[0].get(b"before").is_some());
    for k in [b"a", b"b", b"c"] {
        assert!(ks.dbs[0].get(k).is_none(), "half a unit was replayed");
    }
    p.shutdown();
}

#[test]
fn corruption_in_the_middle_stops_start_up_and_check_fix_repairs_it() {
    let dir = TempDir::new("persist-corrupt");
    let cfg = config(&dir.0);
    let (mut p, mut ks) = Persister::<Probe>::open(&cfg).unwrap();
    commit_keys(&mut p, &mut ks, 10, "value");
    p.shutdown();
    let seg = segments(&dir.0).pop().unwrap();
    let mut data = std::fs::read(&seg).unwrap();
    let mid = data_len(&seg) as usize / 2;
    data[mid] ^= 0xff;
    std::fs::write(&seg, &data).unwrap();
    let err = match Persister::<Probe>::open(&cfg) {
        Err(e) => e,
        Ok(_) => panic!("a corrupt log must not load"),
    };
    let text = err.to_string();
    assert!(matches!(err, PersistError::Corrupt { .. }), "{text}");
    assert!(text.contains("statebroker check --dir") && text.contains("offset"), "{text}");
    assert!(text.contains(&seg.file_name().unwrap().to_string_lossy().to_string()), "{text}");

    let report = statebroker::persist::check::check(&dir.0, 16, false).unwrap();
    assert!(!report.ok);
    assert!(report.lines.iter().any(|l| l.starts_with("BAD:")), "{:?}", report.lines);
    let report = statebroker::persist::check::check(&dir.0, 16, true).unwrap();
    assert!(report.ok, "{:?}", report.lines);
    let (p, ks) = Persister::<Probe>::open(&cfg).unwrap();
    let n = ks.total_keys();
    assert!((3..10).contains(&n), "{n} keys survive the cut");
    // What survives is a prefix of the history.
    for i in 0..n {
        assert!(ks.dbs[0].get(format!("k{i}").as_bytes()).is_some());
    }
    p.shutdown();
}

/// Offsets of the frames of a segment, up to the zeros written ahead.
fn frame_starts(data: &[u8]) -> Vec<usize> {
    let mut at = 24;
    let mut starts = Vec::new();
    while at + 8 <= data.len() {
        let n = u32::from_le_bytes(data[at..at + 4].try_into().unwrap()) as usize;
        if n == 0 {
            break;
        }
        starts.push(at);
        at += 8 + n;
    }
    starts
}

/// A bit flipped in the length field of a record in the middle of the log
/// must stop start-up: ten acknowledged writes follow it. (It was taken
/// for a torn tail, and they were cut off without a word: the longer frame
/// either ends inside the zeros written ahead, so that only zeros follow
/// its checksum mismatch, or runs past the end of the file.)
#[test]
fn a_damaged_length_field_mid_log_stops_start_up() {
    // +4 KiB: the frame ends in the zeros ahead; +1 MiB: past the end.
    for (byte, bit) in [(1, 0x10u8), (2, 0x10)] {
        let dir = TempDir::new("persist-length");
        let cfg = config(&dir.0);
        let (mut p, mut ks) = Persister::<Probe>::open(&cfg).unwrap();
        commit_keys(&mut p, &mut ks, 20, "acknowledged");
        p.shutdown();
        let seg = segments(&dir.0).pop().unwrap();
        let mut data = std::fs::read(&seg).unwrap();
        let starts = frame_starts(&data);
        assert_eq!(starts.len(), 20);
        data[starts[10] + byte] ^= bit;
        std::fs::write(&seg, &data).unwrap();
        let report = statebroker::persist::check::check(&dir.0, 16, false).unwrap();
        assert!(!report.ok, "byte {byte}: {:?}", report.lines);
        match Persister::<Probe>::open(&cfg) {
            Err(PersistError::Corrupt { offset, .. }) => assert_eq!(offset, starts[10] as u64),
            Err(e) => panic!("byte {byte}: unexpected error {e}"),
            Ok((_, ks)) => panic!("byte {byte}: started with {} of 20 acknowledged keys", ks.total_keys()),
        }
    }
}

/// Power lost during the fsync of an unacknowledged group longer than a
/// page: the segment's zeros are already on disk, so any subset of the
/// group's pages may have reached it. Here the page with its start kept
/// its zeros and later pages arrived: a torn tail, cut at start-up (it
/// refused to start: "empty record header").
#[test]
fn a_group_that_lost_its_first_page_is_a_torn_tail() {
    const PAGE: usize = 4096;
    let dir = TempDir::new("persist-hole");
    let cfg = config(&dir.0);
    let (mut p, mut ks) = Persister::<Probe>::open(&cfg).unwrap();
    commit_keys(&mut p, &mut ks, 10, "acknowledged");
    assert_eq!(commit_wait(&mut p, &mut ks, vec![put(0, "big", &"x".repeat(3 * PAGE))]), None);
    p.shutdown();
    let seg = segments(&dir.0).pop().unwrap();
    let mut data = std::fs::read(&seg).unwrap();
    let start = *frame_starts(&data).last().unwrap();
    data[start..(start / PAGE + 1) * PAGE].fill(0);
    std::fs::write(&seg, &data).unwrap();
    let (p, ks) = Persister::<Probe>::open(&cfg).unwrap_or_else(|e| panic!("start-up refused: {e}"));
    assert_eq!(ks.total_keys(), 10);
    p.shutdown();
}

/// A log written by a server with `--databases 32`, read with the default
/// 16: its records are sound, only the setting is too low. Start-up and
/// `check` say so and name the setting; `check --fix` must cut nothing (it
/// cut the log at the first record in database 16 or above).
#[test]
fn a_log_using_more_databases_than_given_is_refused_not_cut() {
    let dir = TempDir::new("persist-databases");
    let cfg = Config { databases: 32, ..config(&dir.0) };
    let (mut p, mut ks) = Persister::<Probe>::open(&cfg).unwrap();
    commit_keys(&mut p, &mut ks, 5, "v");
    assert_eq!(commit_wait(&mut p, &mut ks, vec![put(20, "high", "v")]), None);
    assert_eq!(commit_wait(&mut p, &mut ks, vec![put(0, "after", "v")]), None);
    p.shutdown();
    let seg = segments(&dir.0).pop().unwrap();
    let before = std::fs::read(&seg).unwrap();
    let err = match Persister::<Probe>::open(&config(&dir.0)) {
        Err(e) => e,
        Ok(_) => panic!("16 databases cannot hold a key of database 20"),
    };
    assert!(matches!(err, PersistError::Unsupported(_)), "{err}");
    assert!(err.to_string().contains("--databases 21"), "{err}");
    for fix in [false, true] {
        let err = statebroker::persist::check::check(&dir.0, 16, fix).unwrap_err();
        assert!(err.to_string().contains("--databases 21"), "{err}");
    }
    assert_eq!(std::fs::read(&seg).unwrap(), before, "check --fix changed the log");
    let (p, ks) = Persister::<Probe>::open(&cfg).unwrap();
    assert_eq!(ks.total_keys(), 7);
    p.shutdown();
}

/// A write made while a background snapshot walks the keyspace is not in
/// that snapshot, so it still counts as a change since the last save (it
/// was counted from the snapshot's installation, as if it were in it).
#[test]
fn writes_during_a_snapshot_walk_count_as_changes_since_it() {
    let dir = TempDir::new("persist-dirty");
    let cfg = config(&dir.0);
    let (mut p, mut ks) = Persister::<Probe>::open(&cfg).unwrap();
    assert_eq!(commit_wait(&mut p, &mut ks, vec![put(0, "before", "v")]), None);
    p.request_snapshot();
    p.tick(&mut ks); // the snapshot point: the walk begins
    assert!(ks.hook.is_some());
    assert_eq!(commit_wait(&mut p, &mut ks, vec![put(0, "during", "v")]), None);
    while ks.hook.is_some() {
        p.tick(&mut ks);
    }
    while p.busy() {
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    let info = p.info();
    assert!(info.contains("rdb_last_bgsave_status:ok"), "{info}");
    assert!(info.contains("rdb_changes_since_last_save:1\r\n"), "{info}");
    p.shutdown();
}

#[test]
fn files_a_snapshot_covers_cut_short_by_a_crash_are_skipped_and_deleted() {
    // Covered files are cut down a few megabytes at a time before they are
    // deleted; a crash part-way leaves a segment and an older snapshot that
    // end in the middle of a record. Start-up must not mistake them for
    // corruption.
    let dir = TempDir::new("persist-cut-covered");
    let cfg = config(&dir.0);
    let (mut p, mut ks) = Persister::<Probe>::open(&cfg).unwrap();
    commit_keys(&mut p, &mut ks, 20, "before the first snapshot");
    let old_segment = segments(&dir.0).pop().unwrap();
    let old_segment_data = std::fs::read(&old_segment).unwrap();
    let old_segment_len = data_len(&old_segment) as usize;
    p.save(&mut ks).expect("first snapshot");
    let old_snapshot = snapshots(&dir.0).pop().expect("a snapshot");
    let old_snapshot_data = std::fs::read(&old_snapshot).unwrap();
    for i in 0..5 {
        commit_wait(&mut p, &mut ks, vec![put(1, &format!("j{i}"), "after it")]);
    }
    p.save(&mut ks).expect("second snapshot");
    commit_wait(&mut p, &mut ks, vec![put(2, "last", "in the log")]);
    let expected = ks.sorted_entries();
    p.shutdown();
    assert!(!old_segment.exists() && !old_snapshot.exists(), "covered files were deleted");
    // Put them back as a crash in the middle of their removal leaves them.
    std::fs::write(&old_segment, &old_segment_data[..old_segment_len / 2]).unwrap();
    std::fs::write(&old_snapshot, &old_snapshot_data[..old_snapshot_data.len() / 2]).unwrap();

    let report = statebroker::persist::check::check(&dir.0, 16, false).unwrap();
    assert!(report.ok, "{:?}", report.lines);
    let store = Arc::new(RecordingStore::default());
    let (p, ks) = Persister::<Probe>::open_with(&cfg, store.clone()).unwrap();
    assert_eq!(ks.sorted_entries(), expected);
    p.shutdown();
    assert!(!old_segment.exists() && !old_snapshot.exists(), "start-up deleted the leftovers");
    // The snapshot they are covered by may have been renamed into place
    // just before the crash: its name is made durable before they go.
    let ops = store.ops.lock().unwrap().clone();
    let first_remove = ops.iter().position(|op| op.starts_with("remove")).expect("removals");
    assert!(ops[..first_remove].contains(&"sync_dir".to_string()), "{ops:?}");
}

/// Found by review: with the segment after the newest snapshot deleted,
/// start-up and `check` said nothing and the writes after the snapshot were
/// gone. Both now refuse, naming the segment; `check --fix` creates it
/// empty, for a start from the snapshot alone.
#[test]
fn a_lost_segment_after_the_snapshot_is_refused() {
    let dir = TempDir::new("persist-lost-after-snapshot");
    let cfg = config(&dir.0);
    let (mut p, mut ks) = Persister::<Probe>::open(&cfg).unwrap();
    commit_keys(&mut p, &mut ks, 10, "in the snapshot");
    p.save(&mut ks).expect("snapshot");
    commit_wait(&mut p, &mut ks, vec![put(0, "after", "the snapshot")]);
    p.shutdown();
    let mut segs = segments(&dir.0);
    segs.sort();
    let newest = segs.pop().expect("the segment after the snapshot");
    std::fs::remove_file(&newest).unwrap();
    let err = Persister::<Probe>::open(&cfg).err().expect("start-up refuses").to_string();
    assert!(err.contains(&newest.display().to_string()) && err.contains("is missing"), "{err}");
    let report = statebroker::persist::check::check(&dir.0, 16, false).unwrap();
    assert!(!report.ok && report.lines.iter().any(|l| l.contains("is missing")), "{:?}", report.lines);
    let report = statebroker::persist::check::check(&dir.0, 16, true).unwrap();
    assert!(report.ok, "{:?}", report.lines);
    let (p, ks) = Persister::<Probe>::open(&cfg).unwrap();
    assert_eq!(ks.total_keys(), 10);
    p.shutdown();
}

/// `SAVE` while a background snapshot's walk has just been abandoned (a
/// `FLUSHALL` in the same round): it must still take a snapshot (it
/// finished the abandoned walk, failed, and took none).
#[test]
fn save_after_an_abandoned_walk_takes_a_fresh_snapshot() {
    let dir = TempDir::new("persist-save-abandoned");
    let cfg = config(&dir.0);
    let (mut p, mut ks) = Persister::<Probe>::open(&cfg).unwrap();
    commit_keys(&mut p, &mut ks, 5, "v");
    p.request_snapshot();
    p.tick(&mut ks); // the walk begins
    assert!(ks.hook.is_some());
    assert_eq!(commit_wait(&mut p, &mut ks, vec![Effect::FlushAll, put(3, "after", "flush")]), None);
    p.save(&mut ks).expect("SAVE takes a snapshot");
    let expected = ks.sorted_entries();
    p.shutdown();
    assert_eq!(snapshots(&dir.0).len(), 1);
    // The log before it is not needed: the snapshot holds everything (the
    // segment after it, empty, must stay: without it start-up refuses).
    let mut segs = segments(&dir.0);
    segs.sort();
    segs.pop();
    for seg in segs {
        std::fs::remove_file(seg).unwrap();
    }
    let (p, ks) = Persister::<Probe>::open(&cfg).unwrap();
    assert_eq!(ks.sorted_entries(), expected);
    p.shutdown();
}

/// The real file system, with a list of the directory operations made.
#[derive(Default)]
struct RecordingStore {
    ops: std::sync::Mutex<Vec<String>>,
}

impl RecordingStore {
    fn note(&self, op: &str, path: &Path) {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        self.ops.lock().unwrap().push(if name.is_empty() { op.to_string() } else { format!("{op} {name}") });
    }
}

impl Store for RecordingStore {
    fn create(&self, path: &Path, preallocate: bool) -> std::io::Result<Box<dyn StoreFile>> {
        FsStore.create(path, preallocate)
    }
    fn open_append(&self, path: &Path, at: u64, preallocate: bool) -> std::io::Result<Box<dyn StoreFile>> {
        FsStore.open_append(path, at, preallocate)
    }
    fn open_read(&self, path: &Path) -> std::io::Result<Box<dyn std::io::Read + Send>> {
        FsStore.open_read(path)
    }
    fn truncate(&self, path: &Path, len: u64) -> std::io::Result<()> {
        FsStore.truncate(path, len)
    }
    fn rename(&self, from: &Path, to: &Path) -> std::io::Result<()> {
        self.note("rename", to);
        FsStore.rename(from, to)
    }
    fn remove(&self, path: &Path) -> std::io::Result<()> {
        self.note("remove", path);
        FsStore.remove(path)
    }
    fn sync_dir(&self, dir: &Path) -> std::io::Result<()> {
        self.ops.lock().unwrap().push("sync_dir".into());
        FsStore.sync_dir(dir)
    }
    fn list(&self, dir: &Path) -> std::io::Result<Vec<String>> {
        FsStore.list(dir)
    }
}

#[test]
fn files_a_snapshot_covers_are_deleted_once_writes_pause() {
    let dir = TempDir::new("persist-cleanup");
    let cfg = config(&dir.0);
    let (mut p, mut ks) = Persister::<Probe>::open(&cfg).unwrap();
    commit_keys(&mut p, &mut ks, 10, "v");
    let covered = segments(&dir.0).pop().unwrap();
    p.save(&mut ks).expect("snapshot");
    // No shutdown: the server keeps running, and with no writes coming the
    // deletion goes ahead on its own.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while covered.exists() {
        assert!(std::time::Instant::now() < deadline, "{} was not deleted", covered.display());
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    commit_wait(&mut p, &mut ks, vec![put(0, "after", "v")]);
    let expected = ks.sorted_entries();
    p.shutdown();
    let (p, ks) = Persister::<Probe>::open(&cfg).unwrap();
    assert_eq!(ks.sorted_entries(), expected);
    p.shutdown();
}

#[test]
fn an_unknown_format_version_is_refused() {
    let dir = TempDir::new("persist-version");
    let cfg = config(&dir.0);
    let (mut p, mut ks) = Persister::<Probe>::open(&cfg).unwrap();
    commit_wait(&mut p, &mut ks, vec![put(0, "k", "v")]);
    p.shutdown();
    let seg = segments(&dir.0).pop().unwrap();
    let mut data = std::fs::read(&seg).unwrap();
    data[8] = 99;
    std::fs::write(&seg, &data).unwrap();
    match Persister::<Probe>::open(&cfg) {
        Err(PersistError::Unsupported(m)) => assert!(m.contains("version 99"), "{m}"),
        Err(e) => panic!("unexpected error {e}"),
        Ok(_) => panic!("version 99 must be refused"),
    }
}

#[test]
fn expired_keys_are_dropped_on_load_and_the_drop_is_logged() {
    let dir = TempDir::new("persist-expire");
    let cfg = config(&dir.0);
    let (mut p, mut ks) = Persister::<Probe>::open(&cfg).unwrap();
    let past = 1_000; // 1970: long expired
    let future = 4_000_000_000_000;
    commit_wait(
        &mut p,
        &mut ks,
        vec![
            Effect::Put { db: 0, key: b("old"), value: Value::Str(b("v").into()), expire: ExpireChange::At(past) },
            Effect::Put { db: 0, key: b("new"), value: Value::Str(b("v").into()), expire: ExpireChange::At(future) },
        ],
    );
    p.shutdown();
    let (mut p, mut ks) = Persister::<Probe>::open(&cfg).unwrap();
    assert!(ks.dbs[0].get(b"old").is_none());
    assert_eq!(ks.dbs[0].get(b"new").unwrap().expire_at(), Some(future));
    // A push to the same name now creates a fresh list with no expiry,
    // also after another restart (the drop was logged before it).
    commit_wait(&mut p, &mut ks, vec![Effect::ListPush { db: 0, key: b("old"), left: false, items: vec![b("x")] }]);
    p.shutdown();
    let (p, ks) = Persister::<Probe>::open(&cfg).unwrap();
    let e = ks.dbs[0].get(b"old").expect("the new list survives");
    assert_eq!(e.expire_at(), None);
    assert_eq!(e.value, Value::List([b("x")].into_iter().collect()));
    p.shutdown();
}

#[test]
fn a_second_server_on_the_same_directory_is_refused() {
    let srv = TestServer::start();
    let mut cfg = srv.config.clone();
    cfg.unixsocket = srv.dir.0.join("other.sock");
    let err = match statebroker::server::spawn(cfg.clone()) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("a second server must not start on the same directory"),
    };
    assert!(err.contains("in use by another statebroker process"), "{err}");
    // Found by review: with its LOCK file deleted, the directory was taken
    // by a second server; the directory itself is locked too.
    std::fs::remove_file(srv.dir.0.join("LOCK")).expect("remove LOCK");
    cfg.unixsocket = srv.dir.0.join("third.sock");
    let err = match statebroker::server::spawn(cfg) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("a second server must not start on the same directory, LOCK file or not"),
    };
    assert!(err.contains("in use by another statebroker process"), "{err}");
    let mut c = srv.client();
    assert_eq!(val(&mut c, &["SET", "still", "works"]), redis::Value::Okay);
}

#[test]
fn fail_stop_after_an_injected_fsync_failure() {
    let dir = TempDir::new("persist-fail");
    let cfg = config(&dir.0);
    // Sync 1 creates the segment; group 1 is sync 2; group 2 is sync 3.
    let store = FailingStore::new(0, 3);
    let (mut p, mut ks) = Persister::<Probe>::open_with(&cfg, Arc::new(store.clone())).unwrap();
    assert_eq!(commit_wait(&mut p, &mut ks, vec![put(0, "ok", "1")]), None);
    let err = commit_wait(&mut p, &mut ks, vec![put(0, "lost", "2")]).expect("the failed group is not acknowledged");
    assert!(err.contains("fsync"), "{err}");
    assert!(p.failure().is_some());
    // Every later group is refused without touching the disk.
    assert!(commit_wait(&mut p, &mut ks, vec![put(0, "later", "3")]).is_some());
    assert!(commit_wait(&mut p, &mut ks, vec![]).is_some());
    assert!(p.info().contains("aof_last_write_status:err"));
    p.shutdown();
    let (p, ks) = Persister::<Probe>::open(&cfg).unwrap();
    assert!(ks.dbs[0].get(b"ok").is_some(), "acknowledged writes survive");
    assert!(ks.dbs[0].get(b"later").is_none(), "nothing is written after a failure");
    p.shutdown();
}

#[test]
fn fail_stop_after_an_injected_write_failure() {
    let dir = TempDir::new("persist-failw");
    let cfg = config(&dir.0);
    let store = FailingStore::new(2, 0);
    let (mut p, mut ks) = Persister::<Probe>::open_with(&cfg, Arc::new(store)).unwrap();
    let err = commit_wait(&mut p, &mut ks, vec![put(0, "a", "1")]).expect("write failed");
    assert!(err.contains("writing the log"), "{err}");
    p.shutdown();
}

/// A broker over `store`, run on its own runtime, fed batches directly.
struct TestBroker {
    rt: tokio::runtime::Runtime,
    tx: tokio::sync::mpsc::Sender<Message>,
    task: tokio::task::JoinHandle<()>,
}

impl TestBroker {
    fn start(cfg: &Config, store: Arc<dyn Store>) -> TestBroker {
        let (p, ks) = Persister::<Durable>::open_with(cfg, store).unwrap();
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let (tx, rx) = tokio::sync::mpsc::channel(16);
        let broker = Broker::new(ks, ServerState::new(cfg.clone()), p);
        let task = rt.spawn(broker.run(rx, || {}));
        TestBroker { rt, tx, task }
    }

    /// Runs `cmds` as client `id`; the replies' bytes.
    fn run(&self, id: u64, cmds: &[&[&str]]) -> String {
        let (rtx, rrx) = tokio::sync::oneshot::channel::<BatchReply>();
        let commands = cmds.iter().map(|c| c.iter().map(|a| b(a)).collect()).collect();
        let batch = Batch { session: Box::new(Session { id, ..Session::default() }), commands, reply: rtx };
        self.rt.block_on(async {
            self.tx.send(Message::Batch(batch)).await.unwrap();
            String::from_utf8_lossy(&rrx.await.unwrap().out).into_owned()
        })
    }

    fn stop(self) {
        self.rt.block_on(async {
            self.tx.send(Message::Shutdown).await.unwrap();
            drop(self.tx);
            self.task.await.unwrap();
        });
    }
}

/// Found by review: a new log segment that could not be made at a
/// snapshot's point failed the whole log, and the writes synced to the old
/// segment just before got errors, though every restart replayed them. It
/// now fails the snapshot alone; the log goes on in the old segment.
#[test]
fn a_segment_that_cannot_be_made_fails_the_snapshot_not_the_log() {
    let dir = TempDir::new("persist-rotate-fails");
    let cfg = config(&dir.0);
    // Creation 1 is the first segment; 2 the one a snapshot moves the log to.
    let store = Arc::new(FailingStore::new(0, 0).failing_create(2));
    let (mut p, mut ks) = Persister::<Probe>::open_with(&cfg, store).unwrap();
    commit_keys(&mut p, &mut ks, 5, "v");
    p.request_snapshot();
    p.tick(&mut ks);
    assert_eq!(commit_wait(&mut p, &mut ks, vec![put(0, "during", "v")]), None);
    while ks.hook.is_some() {
        p.tick(&mut ks);
    }
    while p.busy() {
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    assert_eq!(commit_wait(&mut p, &mut ks, vec![put(0, "after", "v")]), None);
    assert!(p.failure().is_none());
    let info = p.info();
    assert!(info.contains("rdb_last_bgsave_status:err"), "{info}");
    p.shutdown();
    assert!(snapshots(&dir.0).is_empty());
    let (p, ks) = Persister::<Probe>::open(&cfg).unwrap();
    assert_eq!(ks.total_keys(), 7);
    p.shutdown();
}

#[test]
fn the_broker_refuses_writes_with_misconf_after_a_failure_and_keeps_serving_reads() {
    let dir = TempDir::new("persist-misconf");
    let cfg = config(&dir.0);
    let broker = TestBroker::start(&cfg, Arc::new(FailingStore::new(0, 3)));
    assert_eq!(broker.run(1, &[&["SET", "a", "1"]]), "+OK\r\n");
    let failed = broker.run(1, &[&["SET", "b", "2"], &["GET", "a"]]);
    assert!(failed.starts_with("-MISCONF"), "{failed}");
    let refused = broker.run(1, &[&["SET", "c", "3"]]);
    assert!(refused.starts_with("-MISCONF"), "{refused}");
    assert_eq!(broker.run(1, &[&["GET", "a"]]), "$1\r\n1\r\n");
    broker.stop();
    let (p, ks) = Persister::<Durable>::open(&cfg).unwrap();
    assert!(ks.dbs[0].get(b"a").is_some());
    // The failed group was written before its fsync failed: it is cut off
    // the log, so a restart does not bring back what got an error.
    assert!(ks.dbs[0].get(b"b").is_none());
    assert!(ks.dbs[0].get(b"c").is_none());
    p.shutdown();
}

/// Found by review: after a failed sync the broker kept the failed writes
/// in memory, and every client read them (a counter one past what a restart
/// gave back; a pushed element in `LLEN`). The keyspace now goes back to the
/// acknowledged data, and a read in the failed group is an error too.
#[test]
fn after_a_failure_no_client_reads_the_writes_that_failed() {
    let dir = TempDir::new("persist-rollback");
    let cfg = config(&dir.0);
    // Sync 1 creates the segment; the next three are the first three writes.
    let broker = TestBroker::start(&cfg, Arc::new(FailingStore::new(0, 5)));
    assert_eq!(broker.run(1, &[&["SET", "a", "1"]]), "+OK\r\n");
    assert_eq!(broker.run(1, &[&["INCR", "n"]]), ":1\r\n");
    assert_eq!(broker.run(1, &[&["RPUSH", "q", "x"]]), ":1\r\n");
    let failed = broker.run(1, &[&["INCR", "n"], &["RPUSH", "q", "y"], &["SET", "a", "2"], &["GET", "n"]]);
    assert_eq!(failed.matches("-MISCONF").count(), 4, "{failed}");
    let read = broker.run(2, &[&["GET", "n"], &["LRANGE", "q", "0", "-1"], &["GET", "a"]]);
    assert_eq!(read, "$1\r\n1\r\n*1\r\n$1\r\nx\r\n$1\r\n1\r\n");
    assert!(broker.run(2, &[&["INCR", "n"]]).starts_with("-MISCONF"));
    assert_eq!(broker.run(2, &[&["GET", "n"]]), "$1\r\n1\r\n");
    // A snapshot cannot be taken either: said at once, not after an OK.
    assert!(broker.run(2, &[&["SAVE"]]).starts_with("-MISCONF"));
    assert!(broker.run(2, &[&["BGSAVE"]]).starts_with("-MISCONF"));
    broker.stop();
}

/// Found by review: messages and keyspace events went to subscribers at
/// once, ahead of the fsync of the write they tell of: a subscriber could
/// see a write that a crash then took back. They now leave with the replies
/// of their round, once durable, and are withheld when the sync fails.
#[test]
fn subscribers_hear_of_a_write_only_once_it_is_durable() {
    use statebroker::broker::Push;
    use statebroker::broker::pubsub::ClientOutput;
    let dir = TempDir::new("persist-events");
    let cfg = config(&dir.0);
    // Sync 1 creates the segment; SET a is sync 2; SET b is sync 3, which fails.
    let broker = TestBroker::start(&cfg, Arc::new(FailingStore::new(0, 3)));
    let (push_tx, mut pushes) = tokio::sync::mpsc::unbounded_channel();
    let info = Box::new(statebroker::cmd::ClientInfo::new(2, "sub:0".into(), "sub:0".into()));
    broker.rt.block_on(broker.tx.send(Message::Connect { info, push: push_tx, output: ClientOutput::new() })).unwrap();
    assert!(broker.run(2, &[&["SUBSCRIBE", "__keyevent@0__:set"]]).contains("subscribe"));
    assert_eq!(broker.run(1, &[&["CONFIG", "SET", "notify-keyspace-events", "E$"]]), "+OK\r\n");
    assert_eq!(broker.run(1, &[&["SET", "a", "1"]]), "+OK\r\n");
    let event = broker.rt.block_on(pushes.recv());
    assert!(matches!(&event, Some(Push::Data(d)) if d.ends_with(b"$1\r\na\r\n")), "{event:?}");
    let failed = broker.run(1, &[&["SET", "b", "2"]]);
    assert!(failed.starts_with("-MISCONF"), "{failed}");
    // A read after it: everything of the failed round has been sent.
    assert_eq!(broker.run(1, &[&["GET", "a"]]), "$1\r\n1\r\n");
    // No event for the write whose sync failed: an empty push stands in its
    // place (the connection numbers pushes).
    let withheld = pushes.try_recv();
    assert!(matches!(&withheld, Ok(Push::Data(d)) if d.is_empty()), "{withheld:?}");
    assert!(pushes.try_recv().is_err());
    broker.stop();
}

#[test]
fn everysec_and_no_modes_persist_on_clean_shutdown() {
    for policy in [FsyncPolicy::Everysec, FsyncPolicy::No] {
        let dir = TempDir::new("persist-mode");
        let cfg = Config { appendfsync: policy, ..config(&dir.0) };
        let (mut p, mut ks) = Persister::<Probe>::open(&cfg).unwrap();
        commit_keys(&mut p, &mut ks, 50, "v");
        assert!(p.info().contains(&format!("appendfsync:{}", policy.as_str())));
        p.shutdown();
        let (p, ks) = Persister::<Probe>::open(&cfg).unwrap();
        assert_eq!(ks.total_keys(), 50);
        p.shutdown();
    }
}

#[test]
fn appendonly_no_keeps_nothing() {
    let dir = TempDir::new("persist-off");
    let cfg = Config { appendonly: false, ..config(&dir.0) };
    let (mut p, mut ks) = Persister::<Probe>::open(&cfg).unwrap();
    assert_eq!(commit_wait(&mut p, &mut ks, vec![put(0, "k", "v")]), None);
    assert!(p.is_idle());
    p.shutdown();
    assert!(segments(&dir.0).is_empty());
}

/// Found by review: `appendonly no` on a directory with data started
/// empty, and without the directory's lock, so a second server could run
/// on it. Now the data is loaded, the directory locked, and nothing written.
#[test]
fn appendonly_no_loads_what_the_directory_holds_and_writes_nothing() {
    let dir = TempDir::new("persist-off-load");
    let cfg = config(&dir.0);
    let (mut p, mut ks) = Persister::<Probe>::open(&cfg).unwrap();
    commit_keys(&mut p, &mut ks, 20, "v");
    p.shutdown();
    let before: Vec<(PathBuf, u64)> =
        segments(&dir.0).into_iter().map(|s| (s.clone(), std::fs::metadata(&s).unwrap().len())).collect();
    let off = Config { appendonly: false, ..cfg.clone() };
    let (mut p, mut ks) = Persister::<Probe>::open(&off).unwrap();
    assert_eq!(ks.total_keys(), 20);
    assert!(matches!(Persister::<Probe>::open(&cfg), Err(PersistError::Locked(_))), "one server per --dir");
    assert_eq!(commit_wait(&mut p, &mut ks, vec![put(0, "extra", "v")]), None);
    p.shutdown();
    let after: Vec<(PathBuf, u64)> =
        segments(&dir.0).into_iter().map(|s| (s.clone(), std::fs::metadata(&s).unwrap().len())).collect();
    assert_eq!(before, after, "nothing is written");
}

#[test]
fn save_bgsave_lastsave_over_the_socket() {
    let srv = TestServer::start();
    let mut c = srv.client();
    assert_eq!(val(&mut c, &["SET", "k", "v"]), redis::Value::Okay);
    let before: i64 = redis::cmd("LASTSAVE").query(&mut c).unwrap();
    assert_eq!(val(&mut c, &["SAVE"]), redis::Value::Okay);
    assert!(!snapshots(&srv.dir.0).is_empty());
    let r = val(&mut c, &["BGSAVE"]);
    assert!(
        matches!(&r, redis::Value::SimpleString(s) if s == "Background saving started")
            || matches!(&r, redis::Value::ServerError(_)),
        "{r:?}"
    );
    assert_eq!(err(&mut c, &["BGSAVE", "x"]), "ERR syntax error");
    let after: i64 = redis::cmd("LASTSAVE").query(&mut c).unwrap();
    assert!(after >= before);
    let _ = FsStore;
}

/// One `field:value` of an `INFO` section, as a number.
fn info_field(c: &mut redis::Connection, section: &str, field: &str) -> i64 {
    let text: String = redis::cmd("INFO").arg(section).query(c).unwrap();
    let prefix = format!("{field}:");
    let line = text.lines().find_map(|l| l.strip_prefix(&prefix)).unwrap_or_else(|| panic!("no {field} in {text}"));
    line.trim().parse().unwrap()
}

#[test]
fn info_persistence_counts_acknowledged_writes_at_once() {
    // It was refreshed only by the broker's timer: an INFO right after a
    // write showed the figures from before it (0 changes, 0 commits).
    let srv = TestServer::start();
    let mut c = srv.client();
    assert_eq!(val(&mut c, &["SET", "k", "v"]), redis::Value::Okay);
    assert_eq!(val(&mut c, &["INCR", "n"]), redis::Value::Int(1));
    assert_eq!(info_field(&mut c, "persistence", "rdb_changes_since_last_save"), 2);
    assert_eq!(info_field(&mut c, "persistence", "commits"), 2);
    assert_eq!(info_field(&mut c, "persistence", "durable_seq"), 2);
    // Each reply waited for its group's fsync, so for its hand-over, too.
    let fsync = info_field(&mut c, "persistence", "fsync_p50_us");
    assert!(info_field(&mut c, "persistence", "durable_wait_p50_us") >= fsync);
    assert_eq!(val(&mut c, &["SAVE"]), redis::Value::Okay);
    let lastsave: i64 = redis::cmd("LASTSAVE").query(&mut c).unwrap();
    assert_eq!(info_field(&mut c, "persistence", "rdb_last_save_time"), lastsave);
    assert_eq!(info_field(&mut c, "persistence", "rdb_changes_since_last_save"), 0);
}

/// Everything a client can see of a key, read through commands.
fn observe(c: &mut redis::Connection, key: &str) -> (String, Vec<String>, bool) {
    let ty: String = redis::cmd("TYPE").arg(key).query(c).unwrap();
    let contents: Vec<String> = match ty.as_str() {
        "string" => vec![redis::cmd("GET").arg(key).query(c).unwrap()],
        "list" => redis::cmd("LRANGE").arg(key).arg(0).arg(-1).query(c).unwrap(),
        "hash" => {
            let v: Vec<String> = redis::cmd("HGETALL").arg(key).query(c).unwrap();
            let mut pairs: Vec<String> = v.chunks(2).map(|p| p.join("=")).collect();
            pairs.sort();
            pairs
        }
        "set" => {
            let mut v: Vec<String> = redis::cmd("SMEMBERS").arg(key).query(c).unwrap();
            v.sort();
            v
        }
        "zset" => redis::cmd("ZRANGE").arg(key).arg(0).arg(-1).arg("WITHSCORES").query(c).unwrap(),
        other => panic!("unexpected type {other} for {key}"),
    };
    let ttl: i64 = redis::cmd("TTL").arg(key).query(c).unwrap();
    (ty, contents, ttl > 0)
}

#[test]
fn every_type_survives_a_restart_with_identical_contents() {
    let mut srv = TestServer::start();
    let mut c = srv.client();
    let script: &[&[&str]] = &[
        &["SET", "s", "hello"],
        &["INCRBYFLOAT", "f", "2.5"],
        &["RPUSH", "l", "a", "b", "c", "d"],
        &["LPOP", "l"],
        &["LINSERT", "l", "BEFORE", "c", "x"],
        &["HSET", "h", "f1", "v1", "f2", "v2"],
        &["HDEL", "h", "f1"],
        &["HINCRBY", "h", "n", "7"],
        &["SADD", "set", "m1", "m2", "m3"],
        &["SREM", "set", "m2"],
        &["ZADD", "z", "1", "a", "2.5", "b", "-inf", "c"],
        &["ZINCRBY", "z", "10", "a"],
        &["ZUNIONSTORE", "z2", "1", "z", "WEIGHTS", "2"],
        &["EXPIRE", "h", "1000"],
        &["SET", "gone", "x", "PX", "1"],
        &["SELECT", "3"],
        &["SET", "in-db-3", "v"],
        &["SELECT", "0"],
    ];
    for cmd in script {
        let _: redis::Value = redis::cmd(cmd[0]).arg(&cmd[1..]).query(&mut c).unwrap();
    }
    let keys = ["s", "f", "l", "h", "set", "z", "z2"];
    let before: Vec<_> = keys.iter().map(|k| observe(&mut c, k)).collect();
    drop(c);
    srv.restart();
    let mut c = srv.client();
    let after: Vec<_> = keys.iter().map(|k| observe(&mut c, k)).collect();
    assert_eq!(before, after);
    let n: i64 = redis::cmd("EXISTS").arg("gone").query(&mut c).unwrap();
    assert_eq!(n, 0, "an expired key stays gone");
    let () = redis::cmd("SELECT").arg(3).query(&mut c).unwrap();
    let v: String = redis::cmd("GET").arg("in-db-3").query(&mut c).unwrap();
    assert_eq!(v, "v");
}

/// `check` on a directory without statebroker data says so and fails
/// (found by review: it reported OK, 0 keys, on a Redis directory, and
/// created its lock file there); on a missing directory it says that.
#[test]
fn check_refuses_a_directory_without_data() {
    let dir = TempDir::new("check-empty");
    std::fs::write(dir.0.join("dump.rdb"), b"REDIS0009").unwrap();
    let report = statebroker::persist::check::check(&dir.0, 16, false).unwrap();
    assert!(!report.ok);
    assert!(report.lines[0].contains("nothing to check"), "{:?}", report.lines);
    assert!(!dir.0.join("LOCK").exists(), "nothing is written into it");
    let err = statebroker::persist::check::check(&dir.0.join("missing"), 16, false).unwrap_err();
    assert!(err.to_string().contains("does not exist"), "{err}");
}

/// `CONFIG SET appendfsync` changes the policy at run time, as in Redis
/// (it was refused as immutable).
#[test]
fn appendfsync_can_be_changed_at_run_time() {
    let srv = TestServer::start();
    let mut c = srv.client();
    let info = |c: &mut redis::Connection| -> String { redis::cmd("INFO").arg("persistence").query(c).unwrap() };
    assert!(info(&mut c).contains("appendfsync:always"));
    assert_eq!(val(&mut c, &["CONFIG", "SET", "appendfsync", "EVERYSEC"]), redis::Value::Okay);
    let got: Vec<String> = redis::cmd("CONFIG").arg("GET").arg("appendfsync").query(&mut c).unwrap();
    assert_eq!(got, ["appendfsync", "everysec"]);
    assert!(info(&mut c).contains("appendfsync:everysec"));
    assert_eq!(val(&mut c, &["SET", "k", "v"]), redis::Value::Okay);
    assert_eq!(val(&mut c, &["CONFIG", "SET", "appendfsync", "always"]), redis::Value::Okay);
    assert_eq!(val(&mut c, &["SET", "k2", "v"]), redis::Value::Okay);
    assert_eq!(
        err(&mut c, &["CONFIG", "SET", "appendfsync", "sometimes"]),
        "ERR CONFIG SET failed (possibly related to argument 'appendfsync') - argument(s) must be one of the \
         following: everysec, always, no"
    );
}
