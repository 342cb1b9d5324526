//! `statebroker check --dir D [--fix]`: verifies the snapshot and the log,
//! reports the first bad offset, and with `--fix` cuts the log at the last
//! good record (like `redis-check-aof --fix`).

use std::path::Path;

use super::PersistError;
use super::recover;
use super::store::{FsStore, Store};

/// The verdict of a check.
#[derive(Debug)]
pub struct CheckReport {
    /// Human-readable lines.
    pub lines: Vec<String>,
    /// Whether the directory will load (after the fix, if one was made).
    pub ok: bool,
}

/// Checks the data directory `dir` (for a server with `databases`
/// databases); with `fix`, cuts damaged log data so the server can start.
pub fn check(dir: &Path, databases: usize, fix: bool) -> Result<CheckReport, PersistError> {
    let store = FsStore;
    let mut lines = Vec::new();
    if !dir.is_dir() {
        return Err(PersistError::Io(format!("the data directory {} does not exist", dir.display())));
    }
    let l = recover::layout(&store, dir)?;
    if l.snapshots.is_empty() && l.segments.is_empty() {
        lines.push(format!("no snapshot and no log segment in {}: nothing to check (is --dir right?)", dir.display()));
        return Ok(CheckReport { lines, ok: false });
    }
    let _lock = match super::lock_dir(dir) {
        Ok(f) => Some(f),
        Err(PersistError::Locked(d)) if !fix => {
            lines.push(format!(
                "note: a server is running on {}; its newest records may still be in flight",
                d.display()
            ));
            None
        }
        Err(e) => return Err(e),
    };
    lines.push(format!("{} snapshot(s), {} log segment(s) in {}", l.snapshots.len(), l.segments.len(), dir.display()));
    for _ in 0..2 {
        match recover::recover(&store, dir, databases) {
            Ok(rec) => {
                lines.push(format!(
                    "OK: snapshot at sequence {}, {} log records after it, last sequence {}, {} keys",
                    rec.snapshot_seq,
                    rec.replayed,
                    rec.last_seq,
                    rec.ks.total_keys()
                ));
                if let Some((offset, reason)) = rec.torn_tail {
                    let (_, path, _) = rec.segments.last().expect("a torn tail is in a segment");
                    lines.push(format!(
                        "torn tail in {} at offset {offset}: {reason} (start-up cuts it off: the end of a write \
                         that a crash interrupted, never acknowledged; or, if the server was stopped cleanly, \
                         damage on the disk)",
                        path.display()
                    ));
                    if fix {
                        store
                            .truncate(path, offset)
                            .map_err(|e| PersistError::Io(format!("truncating {}: {e}", path.display())))?;
                        lines.push(format!("fixed: {} truncated to {offset} bytes", path.display()));
                    }
                }
                return Ok(CheckReport { lines, ok: true });
            }
            Err(PersistError::Corrupt { file, reason, .. }) if reason == recover::MISSING_AFTER_SNAPSHOT => {
                lines.push(format!("BAD: {}: {reason}", file.display()));
                let first = file
                    .file_name()
                    .and_then(|n| n.to_str())
                    .and_then(super::format::parse_segment_name)
                    .expect("named as a segment");
                if !fix {
                    lines.push(format!(
                        "put the segment back if it is anywhere, or run with --fix to create it empty: the server \
                         then starts from the snapshot alone (the writes after it are lost; {} is kept)",
                        l.snapshots.last().map_or_else(String::new, |(_, p)| p.display().to_string())
                    ));
                    return Ok(CheckReport { lines, ok: false });
                }
                super::Wal::create(std::sync::Arc::new(FsStore), dir.to_owned(), first)?;
                lines.push(format!("fixed: created {} empty", file.display()));
            }
            Err(PersistError::Corrupt { file, offset, reason }) => {
                lines.push(format!("BAD: {} at offset {offset}: {reason}", file.display()));
                let name = file.file_name().and_then(|n| n.to_str()).unwrap_or_default();
                let Some(first) = super::format::parse_segment_name(name) else {
                    lines.push(
                        "the snapshot is damaged: --fix cannot repair it. If an older snapshot and the log \
                         segments after it are still in the directory, move the damaged snapshot out of it and run \
                         check again; otherwise restore the directory from a backup"
                            .to_string(),
                    );
                    return Ok(CheckReport { lines, ok: false });
                };
                if !fix {
                    lines.push(format!(
                        "run with --fix to cut {} at offset {offset} and drop the segments after it \
                         (the records from there on are lost)",
                        file.display()
                    ));
                    return Ok(CheckReport { lines, ok: false });
                }
                let later: Vec<_> = l.segments.iter().filter(|s| s.0 > first).collect();
                if offset < super::format::LOG_HEADER as u64 {
                    store.remove(&file).map_err(|e| PersistError::Io(format!("removing {}: {e}", file.display())))?;
                    lines.push(format!("fixed: removed {} (damaged from its start)", file.display()));
                } else {
                    store
                        .truncate(&file, offset)
                        .map_err(|e| PersistError::Io(format!("truncating {}: {e}", file.display())))?;
                    lines.push(format!("fixed: {} cut at offset {offset}", file.display()));
                }
                for (_, p) in later {
                    store.remove(p).map_err(|e| PersistError::Io(format!("removing {}: {e}", p.display())))?;
                    lines.push(format!("fixed: removed {}", p.display()));
                }
                let _ = store.sync_dir(dir);
            }
            Err(e) => return Err(e),
        }
    }
    Ok(CheckReport { lines, ok: false })
}
