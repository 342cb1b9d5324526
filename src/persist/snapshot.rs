//! Point-in-time snapshots without fork and without stopping the broker.
//!
//! Keys in a [`Db`] are ordered by hash, so the broker walks the keyspace
//! in (database, hash) order a bounded chunk at a time. While the walk is
//! in progress a [`SnapWalk`] sits in [`Keyspace::hook`]: before an effect
//! changes a key the walk has not reached yet, the hook serializes the
//! key's current entry (or notes that it did not exist) and marks it
//! emitted; the walk skips emitted keys. The snapshot therefore holds every
//! key exactly as it was when the walk began. Effects that change whole
//! databases (`FLUSHDB`, `FLUSHALL`, `SWAPDB`) abort a walk that has not
//! finished those databases; the snapshot is retried later.

use bytes::Bytes;
use std::time::{Duration, Instant};

use super::codec;
use super::format;
use crate::state::db::key_hash;
use crate::state::{ApplyHook, Db, Effect, HashMap, HashSet, Keyspace};

/// The state of a snapshot walk; lives in [`Keyspace::hook`].
#[derive(Debug, Default)]
pub struct SnapWalk {
    /// The database being walked (`dbs.len()` when done).
    db: usize,
    /// Slots with a hash below this in `db` have been visited.
    hash: u64,
    /// Keys handled ahead of the walk, by database (looked up by the
    /// walk's key slices, with no copy).
    emitted: HashMap<u32, HashSet<Bytes>>,
    /// Framed snapshot records not yet handed to the writer.
    pub buf: Vec<u8>,
    /// Entries written so far.
    pub count: u64,
    /// Set when an effect made the walk impossible to finish exactly.
    pub aborted: bool,
}

impl SnapWalk {
    fn unvisited(&self, db: u32, key: &[u8]) -> bool {
        let db = db as usize;
        db > self.db || (db == self.db && key_hash(key) >= self.hash)
    }

    fn emit(&mut self, db: u32, key: &[u8], e: &crate::state::Entry) {
        let at = format::begin_frame(&mut self.buf);
        self.buf.push(format::SNAP_ENTRY);
        codec::put_entry(&mut self.buf, db, key, e.expire_at(), &e.value);
        format::end_frame(&mut self.buf, at);
        self.count += 1;
    }

    /// Saves `key`'s pre-change state if the walk has not reached it.
    fn touch(&mut self, dbs: &[Db], db: u32, key: &Bytes) {
        if !self.unvisited(db, key) || !self.emitted.entry(db).or_default().insert(key.clone()) {
            return;
        }
        if let Some(e) = dbs.get(db as usize).and_then(|d| d.get(key)) {
            self.emit(db, key, e);
        }
    }

    fn db_unfinished(&self, db: u32) -> bool {
        db as usize >= self.db
    }

    /// Whether every database has been walked.
    pub fn done(&self, dbs: &[Db]) -> bool {
        self.db >= dbs.len()
    }

    /// Walks at most `max_keys` keys or `budget` of time, whichever ends first.
    pub fn step(&mut self, dbs: &[Db], max_keys: usize, budget: Duration) {
        let start = Instant::now();
        let mut walked = 0usize;
        while self.db < dbs.len() && !self.aborted {
            let db = self.db as u32;
            let mut out = std::mem::take(&mut self.buf);
            let mut count = 0;
            let emitted = &mut self.emitted;
            let next = dbs[self.db].scan(self.hash, 256, |k, e| {
                walked += 1;
                if !emitted.is_empty() && emitted.get_mut(&db).is_some_and(|keys| keys.remove(k)) {
                    return;
                }
                let at = format::begin_frame(&mut out);
                out.push(format::SNAP_ENTRY);
                codec::put_entry(&mut out, db, k, e.expire_at(), &e.value);
                format::end_frame(&mut out, at);
                count += 1;
            });
            self.buf = out;
            self.count += count;
            if next == 0 {
                self.db += 1;
                self.hash = 0;
                self.emitted.retain(|d, _| *d as usize >= self.db);
            } else {
                self.hash = next;
            }
            if walked >= max_keys || start.elapsed() >= budget {
                break;
            }
        }
    }
}

impl ApplyHook for SnapWalk {
    fn before(&mut self, dbs: &[Db], effect: &Effect) {
        if self.aborted {
            return;
        }
        match effect {
            Effect::SwapDb { a, b } => {
                if self.db_unfinished(*a) || self.db_unfinished(*b) {
                    self.aborted = true;
                }
            }
            Effect::FlushDb { db } => {
                if self.db_unfinished(*db) {
                    self.aborted = true;
                }
            }
            Effect::FlushAll => {
                if !self.done(dbs) {
                    self.aborted = true;
                }
            }
            Effect::Rename { db, from, to } => {
                self.touch(dbs, *db, from);
                self.touch(dbs, *db, to);
            }
            Effect::Move { db, key, to_db } => {
                self.touch(dbs, *db, key);
                self.touch(dbs, *to_db, key);
            }
            // Every other effect names exactly one key.
            other => {
                if let Some((db, key)) = other.key() {
                    self.touch(dbs, db, key);
                }
            }
        }
    }

    fn as_any_mut(&mut self) -> &mut dyn std::any::Any {
        self
    }
}

/// The walk installed in `ks`, if any.
pub fn walk_of(ks: &mut Keyspace) -> Option<(&[Db], &mut SnapWalk)> {
    let Keyspace { dbs, hook } = ks;
    let w = hook.as_mut()?.as_any_mut().downcast_mut::<SnapWalk>()?;
    Some((dbs.as_slice(), w))
}

/// Serializes the whole keyspace at once (tests and `SAVE`).
pub fn encode_all(ks: &Keyspace) -> (Vec<u8>, u64) {
    let mut w = SnapWalk::default();
    w.step(&ks.dbs, usize::MAX, Duration::MAX);
    (w.buf, w.count)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::persist::codec::Reader;
    use crate::state::{ExpireChange, Value};

    fn b(s: String) -> Bytes {
        Bytes::from(s)
    }

    fn decode(buf: &[u8], ks: &mut Keyspace) {
        let mut fr = format::FrameReader::new(buf, 0);
        while let format::Next::Record(body) = fr.next_frame().unwrap() {
            let mut r = Reader::new(&body);
            assert_eq!(r.u8().unwrap(), format::SNAP_ENTRY);
            let (db, k, exp, v) = codec::get_entry(&mut r).unwrap();
            assert!(ks.dbs[db as usize].get(&k).is_none(), "key emitted twice");
            ks.dbs[db as usize].insert(&k, v, exp);
        }
    }

    #[test]
    fn a_walk_interleaved_with_writes_is_point_in_time() {
        let mut ks = Keyspace::new(3);
        for i in 0..3000 {
            ks.apply(&Effect::Put {
                db: (i % 3) as u32,
                key: b(format!("k{i}")),
                value: Value::Str(b(format!("v{i}")).into()),
                expire: ExpireChange::Clear,
            });
        }
        ks.apply(&Effect::ListPush { db: 1, key: b("list".into()), left: false, items: vec![b("a".into())] });
        let before = ks.sorted_entries();
        ks.hook = Some(Box::new(SnapWalk::default()));
        let mut out = Vec::new();
        let mut round = 0;
        loop {
            let (dbs, w) = walk_of(&mut ks).unwrap();
            w.step(dbs, 100, Duration::MAX);
            out.append(&mut w.buf);
            if w.done(dbs) {
                break;
            }
            // Mutate keys ahead of and behind the walk, create and delete.
            for j in 0..30 {
                let i = (round * 37 + j * 101) % 3000;
                let db = (i % 3) as u32;
                match j % 4 {
                    0 => ks.apply(&Effect::Del { db, key: b(format!("k{i}")) }),
                    1 => ks.apply(&Effect::Append { db, key: b(format!("k{i}")), data: b("x".into()) }),
                    2 => ks.apply(&Effect::Put {
                        db,
                        key: b(format!("new{round}-{j}")),
                        value: Value::Str(b("n".into()).into()),
                        expire: ExpireChange::Clear,
                    }),
                    _ => ks.apply(&Effect::Rename { db, from: b(format!("k{i}")), to: b(format!("r{round}-{j}")) }),
                }
            }
            ks.apply(&Effect::ListPush { db: 1, key: b("list".into()), left: false, items: vec![b("b".into())] });
            round += 1;
        }
        let (_, w) = walk_of(&mut ks).unwrap();
        assert!(!w.aborted);
        out.append(&mut w.buf);
        let mut copy = Keyspace::new(3);
        decode(&out, &mut copy);
        assert_eq!(copy.sorted_entries(), before);
    }

    #[test]
    fn flushall_aborts_an_unfinished_walk() {
        let mut ks = Keyspace::new(1);
        ks.apply(&Effect::Put {
            db: 0,
            key: b("a".into()),
            value: Value::Str(b("1".into()).into()),
            expire: ExpireChange::Clear,
        });
        ks.hook = Some(Box::new(SnapWalk::default()));
        ks.apply(&Effect::FlushAll);
        assert!(walk_of(&mut ks).unwrap().1.aborted);
    }
}
