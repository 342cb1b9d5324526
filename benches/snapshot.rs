//! The broker's pause during a snapshot: 1M keys are written, a snapshot is
//! started, and every bounded step of its walk is timed while writes keep
//! going ahead of and behind the walk; then the data is loaded back.
//!
//! Run with `cargo bench --bench snapshot` (uses a temporary directory).

use bytes::Bytes;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use statebroker::config::Config;
use statebroker::persist::{PersistError, Persister, Release};
use statebroker::state::{Effect, ExpireChange, Keyspace, Value};

struct Done(mpsc::Sender<()>);

impl Release for Done {
    fn release(self, _failure: Option<&PersistError>) {
        let _ = self.0.send(());
    }
}

fn put(k: String, v: &'static str) -> Effect {
    Effect::Put {
        db: 0,
        key: Bytes::from(k),
        value: Value::Str(Bytes::from_static(v.as_bytes()).into()),
        expire: ExpireChange::Clear,
    }
}

fn commit_wait(p: &mut Persister<Done>, ks: &mut Keyspace, mut effects: Vec<Effect>) {
    for e in &effects {
        ks.apply(e);
    }
    let (tx, rx) = mpsc::channel();
    p.commit(&mut effects, vec![Done(tx)]);
    rx.recv().expect("released");
}

fn main() {
    let dir = std::env::temp_dir().join(format!("sb-bench-snapshot-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let cfg = Config { dir: dir.clone(), unixsocket: dir.join("sb.sock"), ..Config::default() };
    let (mut p, mut ks) = Persister::<Done>::open(&cfg).expect("open");
    let n: u64 = 1_000_000;
    for chunk in 0..(n / 10_000) {
        let effects =
            (0..10_000).map(|i| put(format!("key:{}", chunk * 10_000 + i), "some value of 24 bytes..")).collect();
        commit_wait(&mut p, &mut ks, effects);
    }
    let started = Instant::now();
    p.request_snapshot();
    let mut times: Vec<Duration> = Vec::new();
    let mut i = 0u64;
    loop {
        let t = Instant::now();
        p.tick(&mut ks);
        times.push(t.elapsed());
        let e = vec![put(format!("key:{}", (i * 7919) % n), "changed"), put(format!("new:{i}"), "x")];
        commit_wait(&mut p, &mut ks, e);
        i += 1;
        if ks.hook.is_none() && !p.busy() {
            break;
        }
    }
    let walk = started.elapsed();
    times.sort();
    let keys = ks.total_keys();
    p.shutdown();
    let t = Instant::now();
    let (p, loaded) = Persister::<Done>::open(&cfg).expect("reopen");
    let load = t.elapsed();
    assert_eq!(loaded.total_keys(), keys);
    p.shutdown();
    let _ = std::fs::remove_dir_all(&dir);
    println!(
        "snapshot of {n} keys: {} steps in {walk:?}; step (= broker pause) median {:?}, p99 {:?}, worst {:?}; load back {load:?}",
        times.len(),
        times[times.len() / 2],
        times[times.len() * 99 / 100],
        times[times.len() - 1],
    );
}
