//! The file operations persistence needs, behind a trait so tests can
//! inject a store whose N-th write or sync fails.

use std::fs::{File, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// A file open for appending.
pub trait StoreFile: Send {
    /// Appends all of `buf`.
    fn append(&mut self, buf: &[u8]) -> io::Result<()>;
    /// Makes everything appended so far durable (`fdatasync`).
    fn sync(&mut self) -> io::Result<()>;
}

/// The directory operations persistence uses.
pub trait Store: Send + Sync {
    /// Creates (or truncates) a file for appending. With `preallocate`,
    /// the file is extended with written zeros ahead of the data, so that
    /// syncing an append does not have to change the file's size (no
    /// journal commit on the file system): readers must treat a run of
    /// zeros to the end of the file as its end.
    fn create(&self, path: &Path, preallocate: bool) -> io::Result<Box<dyn StoreFile>>;
    /// Opens an existing file for appending at byte `at` (its logical end).
    fn open_append(&self, path: &Path, at: u64, preallocate: bool) -> io::Result<Box<dyn StoreFile>>;
    /// Opens a file for reading.
    fn open_read(&self, path: &Path) -> io::Result<Box<dyn Read + Send>>;
    /// Cuts a file to `len` bytes and makes that durable.
    fn truncate(&self, path: &Path, len: u64) -> io::Result<()>;
    /// Renames a file (atomically replacing `to`).
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()>;
    /// Removes a file.
    fn remove(&self, path: &Path) -> io::Result<()>;
    /// Removes a file that nothing will read again and that may be large
    /// (a log segment or snapshot a newer snapshot covers), at a pace that
    /// leaves the disk to the log's syncs meanwhile. Takes a while: call it
    /// off the log's path.
    fn remove_gradually(&self, path: &Path) -> io::Result<()> {
        self.remove(path)
    }
    /// Makes the directory's entries (creations, renames) durable.
    fn sync_dir(&self, dir: &Path) -> io::Result<()>;
    /// The names of the files in `dir`.
    fn list(&self, dir: &Path) -> io::Result<Vec<String>>;
}

/// The real file system.
#[derive(Debug, Default, Clone, Copy)]
pub struct FsStore;

/// A file removed gradually is cut by this many bytes at a time from its
/// end, with [`REMOVE_PAUSE`] between cuts, before it is unlinked. Freeing
/// a file's blocks at once (on a file system mounted with `discard`, as
/// this project's test machine is) occupies the disk for tens of ms, and
/// every log sync queues behind it. Syncs of 4 KB appends to another file,
/// each timed, while a 128 MB file is deleted: the slowest took 14.6-19.1
/// ms with one unlink (5 runs), 1.2-1.6 ms cut 4 MB at a time with 2 ms
/// between cuts (2 runs; 16 MB cuts: 3.3 ms, no pause: 4.7 ms, one run each).
const REMOVE_STEP: u64 = 4 << 20;

/// The pause between two cuts of a file removed gradually.
const REMOVE_PAUSE: std::time::Duration = std::time::Duration::from_millis(2);

/// Bytes of zeros kept ahead of the data of a preallocated file.
const PREALLOCATE: u64 = 2 << 20;

/// Zeros written ahead per append (more when the append is larger).
static ZERO_STEP: [u8; 64 * 1024] = [0; 64 * 1024];

struct FsFile {
    file: File,
    /// Where the next append goes.
    pos: u64,
    /// Length of the file (data plus zeros written ahead).
    allocated: u64,
    preallocate: bool,
}

impl FsFile {
    fn new(file: File, pos: u64, preallocate: bool) -> io::Result<FsFile> {
        let allocated = file.metadata()?.len().max(pos);
        Ok(FsFile { file, pos, allocated, preallocate })
    }
}

impl StoreFile for FsFile {
    fn append(&mut self, buf: &[u8]) -> io::Result<()> {
        let end = self.pos + buf.len() as u64;
        self.file.write_all_at(buf, self.pos)?;
        self.pos = end;
        self.allocated = self.allocated.max(end);
        let step = ZERO_STEP.len() as u64;
        if self.preallocate && self.allocated + step <= end + PREALLOCATE {
            // Zeros ahead a step at a time, once a step of them has been
            // used up, and at least as fast as data arrives: a sync carries
            // at most one step of zeros (or as many as the data it syncs),
            // never the whole allowance at once (a stall of milliseconds).
            let mut left = (buf.len() as u64).max(step).min(end + PREALLOCATE - self.allocated);
            while left > 0 {
                let n = left.min(ZERO_STEP.len() as u64) as usize;
                self.file.write_all_at(&ZERO_STEP[..n], self.allocated)?;
                self.allocated += n as u64;
                left -= n as u64;
            }
        }
        Ok(())
    }

    fn sync(&mut self) -> io::Result<()> {
        self.file.sync_data()
    }
}

impl Store for FsStore {
    fn create(&self, path: &Path, preallocate: bool) -> io::Result<Box<dyn StoreFile>> {
        let f = OpenOptions::new().create(true).write(true).truncate(true).open(path)?;
        Ok(Box::new(FsFile::new(f, 0, preallocate)?))
    }

    fn open_append(&self, path: &Path, at: u64, preallocate: bool) -> io::Result<Box<dyn StoreFile>> {
        let f = OpenOptions::new().write(true).open(path)?;
        Ok(Box::new(FsFile::new(f, at, preallocate)?))
    }

    fn open_read(&self, path: &Path) -> io::Result<Box<dyn Read + Send>> {
        Ok(Box::new(File::open(path)?))
    }

    fn truncate(&self, path: &Path, len: u64) -> io::Result<()> {
        let f = OpenOptions::new().write(true).open(path)?;
        f.set_len(len)?;
        f.sync_all()
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        std::fs::rename(from, to)
    }

    fn remove(&self, path: &Path) -> io::Result<()> {
        std::fs::remove_file(path)
    }

    fn remove_gradually(&self, path: &Path) -> io::Result<()> {
        let f = OpenOptions::new().write(true).open(path)?;
        let mut len = f.metadata()?.len();
        // Nothing reads the file again, so the cuts need no sync: after a
        // crash a cut-short file is deleted as it would have been whole.
        while len > REMOVE_STEP {
            len -= REMOVE_STEP;
            f.set_len(len)?;
            std::thread::sleep(REMOVE_PAUSE);
        }
        drop(f);
        std::fs::remove_file(path)
    }

    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        File::open(dir)?.sync_all()
    }

    fn list(&self, dir: &Path) -> io::Result<Vec<String>> {
        let mut out = Vec::new();
        for e in std::fs::read_dir(dir)? {
            if let Some(name) = e?.file_name().to_str() {
                out.push(name.to_owned());
            }
        }
        Ok(out)
    }
}

/// A store over the real file system whose chosen write or sync fails
/// (for fault-injection tests). Counting starts at 1 and covers every
/// file the store opened; after the first failure every later write and
/// sync fails too, as a dying disk would.
#[derive(Debug, Clone, Default)]
pub struct FailingStore {
    /// Fail the N-th append (0: never).
    pub fail_write: u64,
    /// Fail the N-th sync (0: never).
    pub fail_sync: u64,
    /// Fail the N-th creation of a file (0: never); not counted as a
    /// failure of the files already open.
    pub fail_create: u64,
    counters: Arc<(AtomicU64, AtomicU64, std::sync::atomic::AtomicBool, AtomicU64)>,
}

impl FailingStore {
    /// A store failing the `fail_write`-th append and the `fail_sync`-th sync.
    pub fn new(fail_write: u64, fail_sync: u64) -> FailingStore {
        FailingStore { fail_write, fail_sync, fail_create: 0, counters: Arc::default() }
    }

    /// The same store, also failing its `n`-th file creation.
    pub fn failing_create(mut self, n: u64) -> FailingStore {
        self.fail_create = n;
        self
    }

    /// Whether an injected failure has happened.
    pub fn failed(&self) -> bool {
        self.counters.2.load(Ordering::SeqCst)
    }
}

struct FailingFile {
    inner: FsFile,
    store: FailingStore,
}

impl FailingFile {
    fn check(&self, which: &AtomicU64, limit: u64, what: &str) -> io::Result<()> {
        let n = which.fetch_add(1, Ordering::SeqCst) + 1;
        if self.store.failed() || (limit != 0 && n >= limit) {
            self.store.counters.2.store(true, Ordering::SeqCst);
            return Err(io::Error::other(format!("injected {what} failure")));
        }
        Ok(())
    }
}

impl StoreFile for FailingFile {
    fn append(&mut self, buf: &[u8]) -> io::Result<()> {
        self.check(&self.store.counters.0, self.store.fail_write, "write")?;
        self.inner.append(buf)
    }

    fn sync(&mut self) -> io::Result<()> {
        self.check(&self.store.counters.1, self.store.fail_sync, "fsync")?;
        self.inner.sync()
    }
}

impl Store for FailingStore {
    fn create(&self, path: &Path, preallocate: bool) -> io::Result<Box<dyn StoreFile>> {
        let n = self.counters.3.fetch_add(1, Ordering::SeqCst) + 1;
        if n == self.fail_create {
            return Err(io::Error::other("injected create failure"));
        }
        let f = OpenOptions::new().create(true).write(true).truncate(true).open(path)?;
        Ok(Box::new(FailingFile { inner: FsFile::new(f, 0, preallocate)?, store: self.clone() }))
    }

    fn open_append(&self, path: &Path, at: u64, preallocate: bool) -> io::Result<Box<dyn StoreFile>> {
        let f = OpenOptions::new().write(true).open(path)?;
        Ok(Box::new(FailingFile { inner: FsFile::new(f, at, preallocate)?, store: self.clone() }))
    }

    fn open_read(&self, path: &Path) -> io::Result<Box<dyn Read + Send>> {
        FsStore.open_read(path)
    }

    fn truncate(&self, path: &Path, len: u64) -> io::Result<()> {
        FsStore.truncate(path, len)
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        FsStore.rename(from, to)
    }

    fn remove(&self, path: &Path) -> io::Result<()> {
        FsStore.remove(path)
    }

    fn remove_gradually(&self, path: &Path) -> io::Result<()> {
        FsStore.remove_gradually(path)
    }

    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        FsStore.sync_dir(dir)
    }

    fn list(&self, dir: &Path) -> io::Result<Vec<String>> {
        FsStore.list(dir)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preallocation_keeps_zeros_ahead_in_steps_never_all_at_once() {
        let dir = std::env::temp_dir().join(format!("sb-prealloc-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("seg");
        let mut f = FsStore.create(&path, true).unwrap();
        let step = ZERO_STEP.len() as u64;
        let record = [7u8; 700];
        let mut data = 0u64;
        let mut len = 0u64;
        let mut growths = 0u64;
        for _ in 0..20_000 {
            f.append(&record).unwrap();
            data += record.len() as u64;
            let now = std::fs::metadata(&path).unwrap().len();
            // One append adds at most one step of zeros beyond its own bytes.
            assert!(now - len <= record.len() as u64 + step, "grew by {} at {data}", now - len);
            // Never more than the allowance ahead.
            assert!(now - data <= PREALLOCATE, "{} ahead at {data}", now - data);
            // Zeros are topped up once a step is used, not on every append.
            growths += u64::from(now != len);
            len = now;
        }
        // Once warmed up, the allowance (less one step) is kept ahead.
        assert!(len - data > PREALLOCATE - step, "only {} ahead", len - data);
        assert!(growths <= data / step + PREALLOCATE / step + 1, "{growths} top-ups for {data} bytes");
        let bytes = std::fs::read(&path).unwrap();
        assert!(bytes[..data as usize].iter().all(|b| *b == 7));
        assert!(bytes[data as usize..].iter().all(|b| *b == 0));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn an_append_larger_than_a_step_is_followed_by_as_many_zeros() {
        let dir = std::env::temp_dir().join(format!("sb-prealloc-big-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("seg");
        let mut f = FsStore.create(&path, true).unwrap();
        let big = vec![1u8; 300 * 1024];
        f.append(&big).unwrap();
        let len = std::fs::metadata(&path).unwrap().len();
        assert_eq!(len, 2 * big.len() as u64);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_file_removed_gradually_is_gone_and_the_others_stay() {
        let dir = std::env::temp_dir().join(format!("sb-remove-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (big, small, keep) = (dir.join("big"), dir.join("small"), dir.join("keep"));
        // More than two cuts' worth, and not a multiple of a cut.
        std::fs::write(&big, vec![7u8; (2 * REMOVE_STEP + 12_345) as usize]).unwrap();
        std::fs::write(&small, b"tiny").unwrap();
        std::fs::write(&keep, b"kept").unwrap();
        FsStore.remove_gradually(&big).unwrap();
        FsStore.remove_gradually(&small).unwrap();
        assert!(!big.exists() && !small.exists());
        assert_eq!(std::fs::read(&keep).unwrap(), b"kept");
        assert!(FsStore.remove_gradually(&big).is_err(), "a missing file is an error, as with remove");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
