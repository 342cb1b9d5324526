//! Differential test: sends the same random command sequences to statebroker
//! and to a reference `redis-server`, and compares every reply.
//!
//! Usage: `cargo run --example difftest -- [--seed N] [--commands N] [--redis-server PATH]`
//!
//! statebroker runs in-process on a temporary socket; the reference server is
//! started as a child process (it must be installed). Replies whose order is
//! unspecified (set members, hash fields, `KEYS`) are sorted before comparing;
//! commands whose result is random (`SPOP`, `RANDOMKEY`...) are not generated.
//! Exits non-zero on the first mismatch, printing the seed and the history.

use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use redis::Value;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len())]
    }
    fn int(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % (hi - lo + 1) as u64) as i64
    }
}

const KEYS: &[&str] = &["k0", "k1", "k2", "k3", "k4"];
const MEMBERS: &[&str] = &["a", "b", "c", "d", "e", "10", "-3", "x y", ""];

fn key(r: &mut Rng) -> String {
    r.pick(KEYS).to_string()
}

fn member(r: &mut Rng) -> String {
    r.pick(MEMBERS).to_string()
}

fn score(r: &mut Rng) -> String {
    match r.below(8) {
        0 => "inf".into(),
        1 => "-inf".into(),
        2 => format!("{}.5", r.int(-5, 5)),
        _ => r.int(-5, 5).to_string(),
    }
}

fn range_bound(r: &mut Rng) -> String {
    match r.below(6) {
        0 => "-inf".into(),
        1 => "+inf".into(),
        2 => format!("({}", r.int(-5, 5)),
        _ => r.int(-5, 5).to_string(),
    }
}

fn lex_bound(r: &mut Rng) -> String {
    match r.below(5) {
        0 => "-".into(),
        1 => "+".into(),
        2 => format!("({}", r.pick(&["a", "b", "c", "d"])),
        _ => format!("[{}", r.pick(&["a", "b", "c", "d"])),
    }
}

fn idx(r: &mut Rng) -> String {
    r.int(-6, 6).to_string()
}

/// One random command, and whether its reply must be sorted before comparing.
fn command(r: &mut Rng) -> (Vec<String>, bool) {
    let k = key(r);
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let mut unordered = false;
    let argv: Vec<String> = match r.below(70) {
        // strings
        0 => vec!["SET".into(), k, member(r)],
        1 => vec!["GET".into(), k],
        2 => vec!["INCR".into(), k],
        3 => vec!["INCRBY".into(), k, r.int(-100, 100).to_string()],
        4 => vec!["APPEND".into(), k, member(r)],
        5 => vec!["STRLEN".into(), k],
        6 => vec!["GETRANGE".into(), k, idx(r), idx(r)],
        7 => vec!["SETRANGE".into(), k, r.int(0, 4).to_string(), member(r)],
        8 => vec!["MGET".into(), k, key(r), key(r)],
        9 => vec!["SETNX".into(), k, member(r)],
        10 => vec!["GETSET".into(), k, member(r)],
        11 => vec!["GETDEL".into(), k],
        12 => vec!["DECRBY".into(), k, r.int(-10, 10).to_string()],
        // keys
        13 => vec!["DEL".into(), k, key(r)],
        14 => vec!["EXISTS".into(), k, key(r)],
        15 => vec!["TYPE".into(), k],
        16 => vec!["RENAME".into(), k, key(r)],
        17 => vec!["RENAMENX".into(), k, key(r)],
        18 => vec!["COPY".into(), k, key(r)],
        19 => vec!["EXPIRE".into(), k, r.int(100, 1000).to_string()],
        20 => vec!["TTL".into(), k],
        21 => vec!["PERSIST".into(), k],
        22 => {
            unordered = true;
            vec!["KEYS".into(), "*".into()]
        }
        // lists
        23 => vec!["LPUSH".into(), k, member(r), member(r)],
        24 => vec!["RPUSH".into(), k, member(r)],
        25 => vec!["LPOP".into(), k],
        26 => vec!["RPOP".into(), k, r.int(0, 3).to_string()],
        27 => vec!["LRANGE".into(), k, idx(r), idx(r)],
        28 => vec!["LINDEX".into(), k, idx(r)],
        29 => vec!["LLEN".into(), k],
        30 => vec!["LINSERT".into(), k, r.pick(&["BEFORE", "AFTER"]).into(), member(r), member(r)],
        31 => vec!["LREM".into(), k, r.int(-2, 2).to_string(), member(r)],
        32 => vec!["LTRIM".into(), k, idx(r), idx(r)],
        33 => vec!["LSET".into(), k, idx(r), member(r)],
        34 => vec!["LPOS".into(), k, member(r)],
        35 => vec!["LMOVE".into(), k, key(r), r.pick(&["LEFT", "RIGHT"]).into(), r.pick(&["LEFT", "RIGHT"]).into()],
        // hashes
        36 => vec!["HSET".into(), k, member(r), member(r)],
        37 => vec!["HGET".into(), k, member(r)],
        38 => vec!["HDEL".into(), k, member(r), member(r)],
        39 => vec!["HLEN".into(), k],
        40 => vec!["HINCRBY".into(), k, member(r), r.int(-5, 5).to_string()],
        41 => vec!["HEXISTS".into(), k, member(r)],
        42 => {
            unordered = true;
            vec!["HKEYS".into(), k]
        }
        43 => vec!["HMGET".into(), k, member(r), member(r)],
        44 => vec!["HSETNX".into(), k, member(r), member(r)],
        // sets
        45 => vec!["SADD".into(), k, member(r), member(r)],
        46 => vec!["SREM".into(), k, member(r)],
        47 => vec!["SISMEMBER".into(), k, member(r)],
        48 => vec!["SCARD".into(), k],
        49 => {
            unordered = true;
            vec!["SMEMBERS".into(), k]
        }
        50 => {
            unordered = true;
            vec![r.pick(&["SINTER", "SUNION", "SDIFF"]).into(), k, key(r)]
        }
        51 => vec![r.pick(&["SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"]).into(), k, key(r), key(r)],
        52 => vec!["SMOVE".into(), k, key(r), member(r)],
        53 => vec!["SMISMEMBER".into(), k, member(r), member(r)],
        // sorted sets
        54 => vec!["ZADD".into(), k, score(r), member(r), score(r), member(r)],
        55 => vec!["ZADD".into(), k, r.pick(&["NX", "XX", "GT", "LT", "CH"]).into(), score(r), member(r)],
        56 => vec!["ZINCRBY".into(), k, r.int(-3, 3).to_string(), member(r)],
        57 => vec!["ZSCORE".into(), k, member(r)],
        58 => vec!["ZRANGE".into(), k, idx(r), idx(r), "WITHSCORES".into()],
        59 => vec!["ZRANGEBYSCORE".into(), k, range_bound(r), range_bound(r)],
        60 => vec!["ZRANGE".into(), k, range_bound(r), range_bound(r), "BYSCORE".into(), "REV".into()],
        61 => vec!["ZRANK".into(), k, member(r)],
        62 => vec!["ZREM".into(), k, member(r)],
        63 => vec!["ZCOUNT".into(), k, range_bound(r), range_bound(r)],
        64 => vec!["ZRANGEBYLEX".into(), k, lex_bound(r), lex_bound(r)],
        65 => vec!["ZPOPMIN".into(), k, r.int(1, 3).to_string()],
        66 => vec![r.pick(&["ZUNIONSTORE", "ZINTERSTORE"]).into(), k, "2".into(), key(r), key(r)],
        67 => vec!["ZREMRANGEBYRANK".into(), k, idx(r), idx(r)],
        68 => vec!["ZCARD".into(), k],
        _ => s(&["DBSIZE"]),
    };
    (argv, unordered)
}

fn normalize(v: Value, unordered: bool) -> Value {
    match v {
        Value::Array(mut items) if unordered => {
            items.sort_by_key(|x| format!("{x:?}"));
            Value::Array(items)
        }
        Value::Set(mut items) => {
            items.sort_by_key(|x| format!("{x:?}"));
            Value::Array(items)
        }
        other => other,
    }
}

fn run(c: &mut redis::Connection, argv: &[String], unordered: bool) -> Value {
    let mut cmd = redis::cmd(&argv[0]);
    for a in &argv[1..] {
        cmd.arg(a);
    }
    let v = match cmd.query::<Value>(c) {
        Ok(v) => v,
        Err(e) => Value::SimpleString(format!("ERROR {} {}", e.code().unwrap_or("?"), e.detail().unwrap_or(""))),
    };
    normalize(v, unordered)
}

struct Reference {
    child: Child,
    dir: PathBuf,
}

impl Drop for Reference {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn main() {
    let mut seed: u64 = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64;
    let mut count = 20_000usize;
    let mut redis_server = "redis-server".to_string();
    let args: Vec<String> = std::env::args().collect();
    let mut i = 1;
    while i < args.len() {
        match args[i].as_str() {
            "--seed" => seed = args[i + 1].parse().expect("--seed N"),
            "--commands" => count = args[i + 1].parse().expect("--commands N"),
            "--redis-server" => redis_server = args[i + 1].clone(),
            other => panic!("unknown argument {other}"),
        }
        i += 2;
    }
    let seed = seed | 1;
    println!("difftest: seed {seed}, {count} commands");

    let dir = std::env::temp_dir().join(format!("sb-difftest-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let ref_sock = dir.join("redis.sock");
    let child = Command::new(&redis_server)
        .args(["--port", "0", "--unixsocket"])
        .arg(&ref_sock)
        .args(["--save", "", "--appendonly", "no", "--dir"])
        .arg(&dir)
        .stdout(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("starting {redis_server}: {e}"));
    let reference = Reference { child, dir: dir.clone() };
    let deadline = Instant::now() + Duration::from_secs(10);
    while UnixStream::connect(&ref_sock).is_err() {
        assert!(Instant::now() < deadline, "redis-server did not start");
        std::thread::yield_now();
    }

    let config =
        statebroker::config::Config { unixsocket: dir.join("sb.sock"), dir: dir.join("sb"), ..Default::default() };
    let ours = statebroker::server::spawn(config).expect("statebroker starts");
    let open =
        |p: &std::path::Path| redis::Client::open(format!("unix://{}", p.display())).unwrap().get_connection().unwrap();
    let mut a = open(&ours.listening.unixsocket);
    let mut b = open(&ref_sock);

    let mut rng = Rng(seed);
    let mut history: Vec<String> = Vec::new();
    let mut mismatches = 0;
    for n in 0..count {
        if n % 500 == 0 {
            run(&mut a, &["FLUSHALL".into()], false);
            run(&mut b, &["FLUSHALL".into()], false);
            history.clear();
        }
        let (argv, unordered) = command(&mut rng);
        history.push(argv.join(" "));
        let ra = run(&mut a, &argv, unordered);
        let rb = run(&mut b, &argv, unordered);
        if ra != rb {
            mismatches += 1;
            println!("MISMATCH after {} commands (seed {seed}):", history.len());
            for h in history.iter().rev().take(8).rev() {
                println!("  > {h}");
            }
            println!("  statebroker: {ra:?}\n  redis:       {rb:?}");
            if mismatches >= 5 {
                break;
            }
            // Resynchronise both servers before going on.
            run(&mut a, &["FLUSHALL".into()], false);
            run(&mut b, &["FLUSHALL".into()], false);
            history.clear();
        }
    }
    drop(reference);
    if mismatches > 0 {
        println!("difftest: {mismatches} mismatches (seed {seed})");
        std::process::exit(1);
    }
    println!("difftest: {count} commands, 0 mismatches");
}
