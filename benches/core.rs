//! Micro-benchmarks of the hot paths that do not touch the network: request
//! decoding, reply encoding and applying effects to the keyspace.
//!
//! Run with `cargo bench --bench core`. Prints nanoseconds per operation
//! (best of 5 rounds).

use bytes::{Bytes, BytesMut};
use std::hint::black_box;
use std::time::Instant;

use statebroker::resp::{Decoder, Frame, Protocol};
use statebroker::state::hash::Hash;
use statebroker::state::{Effect, ExpireChange, Keyspace, Value};

fn best_of<F: FnMut() -> usize>(name: &str, mut f: F) {
    let mut best = f64::MAX;
    for _ in 0..5 {
        let t = Instant::now();
        let ops = f();
        let ns = t.elapsed().as_nanos() as f64 / ops as f64;
        best = best.min(ns);
    }
    println!("{name:<40} {best:>8.1} ns/op");
}

fn main() {
    let n = 200_000;
    let mut wire = Vec::new();
    for i in 0..n {
        let k = format!("key:{i}");
        let v = "x".repeat(32);
        wire.extend_from_slice(format!("*3\r\n$3\r\nSET\r\n${}\r\n{k}\r\n${}\r\n{v}\r\n", k.len(), v.len()).as_bytes());
    }
    best_of("decode pipelined SET (multibulk)", || {
        let mut d = Decoder::default();
        let mut buf = BytesMut::from(&wire[..]);
        let mut count = 0;
        while let Ok(Some(cmd)) = d.decode(&mut buf) {
            black_box(cmd);
            count += 1;
        }
        count
    });

    let frames: Vec<Frame> = (0..n).map(|i| Frame::Bulk(Bytes::from(format!("value-{i}")))).collect();
    best_of("encode bulk reply (RESP2)", || {
        let mut out = BytesMut::new();
        for f in &frames {
            f.encode(Protocol::Resp2, &mut out);
        }
        black_box(out);
        frames.len()
    });

    let keys: Vec<Bytes> = (0..n).map(|i| Bytes::from(format!("key:{i}"))).collect();
    // One string per key, each set by its own `Put`.
    let fill = |keys: &[Bytes]| {
        let mut ks = Keyspace::new(1);
        for k in keys {
            ks.apply(&Effect::Put {
                db: 0,
                key: k.clone(),
                value: Value::Str(Bytes::from_static(b"v").into()),
                expire: ExpireChange::Clear,
            });
        }
        ks
    };
    best_of("apply Put (string SET) into 200k keys", || black_box(fill(&keys).total_keys()));

    let ks = fill(&keys);
    best_of("lookup in 200k keys", || {
        for k in &keys {
            black_box(ks.dbs[0].get(k));
        }
        keys.len()
    });

    best_of("list push+pop (effects)", || {
        let mut ks = Keyspace::new(1);
        let key = Bytes::from_static(b"q");
        for k in &keys {
            ks.apply(&Effect::ListPush { db: 0, key: key.clone(), left: true, items: vec![k.clone()] });
        }
        for _ in &keys {
            ks.apply(&Effect::ListPop { db: 0, key: key.clone(), left: false, count: 1 });
        }
        keys.len() * 2
    });

    // One hash of 1M fields (its large form), looked up in a shuffled order
    // so that each lookup misses the caches as a server's would.
    let fields: Vec<Bytes> = (0..1_000_000).map(|i| Bytes::from(format!("element:{i}"))).collect();
    let mut big = Hash::new();
    best_of("hash of 1M fields: insert", || {
        big = Hash::new();
        for f in &fields {
            big.insert(f, &fields[0]);
        }
        fields.len()
    });
    let mut order: Vec<usize> = (0..fields.len()).collect();
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    for i in (1..order.len()).rev() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        order.swap(i, (x % (i as u64 + 1)) as usize);
    }
    best_of("hash of 1M fields: get (shuffled)", || {
        for &i in &order {
            black_box(big.get(&fields[i]));
        }
        order.len()
    });

    // The keyspace's buckets resize a few at a time: the worst single
    // insert while it grows to 2M keys (one table-wide split at once took
    // hundreds of milliseconds).
    let mut ks = Keyspace::new(1);
    let mut worst = std::time::Duration::ZERO;
    let value = Bytes::from_static(b"v");
    for i in 0..2_000_000 {
        let key = Bytes::from(format!("key:{i}"));
        let t = Instant::now();
        ks.apply(&Effect::Put { db: 0, key, value: Value::Str(value.clone().into()), expire: ExpireChange::Clear });
        worst = worst.max(t.elapsed());
    }
    println!("{:<40} {:>8.1} us", "worst Put while growing to 2M keys", worst.as_secs_f64() * 1e6);
}
