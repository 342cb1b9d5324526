//! Crash test: the real binary is SIGKILLed at random moments while
//! concurrent writers run; after each restart every acknowledged write must
//! be there and every command must be all-or-nothing.
//!
//! The seed is printed; replay a run with `CRASH_SEED=<seed>` (and set the
//! number of cycles with `CRASH_CYCLES`).

use std::io::Read;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{Rng, TempDir, files_with_extension};

struct Server {
    child: Child,
    socket: PathBuf,
}

fn start(dir: &Path, cycle: usize) -> Server {
    let socket = dir.join("sb.sock");
    let log = std::fs::File::create(dir.join(format!("server-{cycle}.log"))).expect("log file");
    let child = Command::new(env!("CARGO_BIN_EXE_statebroker"))
        .arg("--dir")
        .arg(dir)
        .arg("--unixsocket")
        .arg(&socket)
        .args(["--snapshot-min-log-bytes", "32768", "--loglevel", "warning"])
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("start the server binary");
    let mut srv = Server { child, socket };
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if UnixStream::connect(&srv.socket).is_ok() {
            return srv;
        }
        if let Ok(Some(status)) = srv.child.try_wait() {
            let mut text = String::new();
            let _ =
                std::fs::File::open(dir.join(format!("server-{cycle}.log"))).map(|mut f| f.read_to_string(&mut text));
            panic!("server exited during start-up ({status}): {text}");
        }
        assert!(Instant::now() < deadline, "server did not start in time");
        std::thread::sleep(Duration::from_millis(2));
    }
}

impl Server {
    fn client(&self) -> redis::Connection {
        let url = format!("unix://{}", self.socket.display());
        redis::Client::open(url).expect("client").get_connection().expect("connect")
    }
}

/// What one writer knows: acknowledged progress and whether a command was
/// in flight when the server died.
#[derive(Debug, Clone)]
enum Writer {
    /// `SET s:<w>:<n> v<n>` for n in 0..: acknowledged keys.
    Strings { w: usize, next: u64, acked: Vec<u64>, in_flight: bool },
    /// `INCR c:<w>` (or `SET` of the next value without INCR).
    Counter { w: usize, acked: i64, in_flight: bool },
    /// `RPUSH l:<w> <n>` (or `SET l:<w>:<n>` without RPUSH).
    List { w: usize, acked: usize, in_flight: bool },
    /// `MULTI; DECRBY from:<w> 1; INCRBY to:<w> 1; MSET pair:<w>:a n pair:<w>:b n; EXEC`:
    /// after any crash `from + to == 0` and the pair agree (all or nothing).
    Transfer { w: usize, acked: i64, in_flight: bool },
}

fn is_unknown(e: &redis::RedisError) -> bool {
    e.to_string().contains("unknown command")
}

fn run_writer(mut state: Writer, sock: PathBuf, native_incr: bool, native_list: bool) -> Writer {
    let url = format!("unix://{}", sock.display());
    let Ok(mut c) = redis::Client::open(url).and_then(|c| c.get_connection()) else {
        return state;
    };
    loop {
        match &mut state {
            Writer::Strings { w, next, acked, in_flight } => {
                let n = *next;
                *next += 1;
                *in_flight = true;
                let r: redis::RedisResult<()> =
                    redis::cmd("SET").arg(format!("s:{w}:{n}")).arg(format!("v{n}")).query(&mut c);
                if r.is_err() {
                    return state;
                }
                *in_flight = false;
                acked.push(n);
            }
            Writer::Counter { w, acked, in_flight } => {
                *in_flight = true;
                let r: redis::RedisResult<i64> = if native_incr {
                    redis::cmd("INCR").arg(format!("c:{w}")).query(&mut c)
                } else {
                    redis::cmd("SET").arg(format!("c:{w}")).arg(*acked + 1).query::<()>(&mut c).map(|_| *acked + 1)
                };
                match r {
                    Ok(v) => {
                        assert_eq!(v, *acked + 1, "counter c:{w} skipped a value");
                        *acked = v;
                        *in_flight = false;
                    }
                    Err(_) => return state,
                }
            }
            Writer::List { w, acked, in_flight } => {
                let n = *acked;
                *in_flight = true;
                let r: redis::RedisResult<usize> = if native_list {
                    redis::cmd("RPUSH").arg(format!("l:{w}")).arg(n).query(&mut c)
                } else {
                    redis::cmd("SET").arg(format!("l:{w}:{n}")).arg(n).query::<()>(&mut c).map(|_| n + 1)
                };
                match r {
                    Ok(len) => {
                        assert_eq!(len, n + 1, "list l:{w} has a wrong length");
                        *acked = len;
                        *in_flight = false;
                    }
                    Err(_) => return state,
                }
            }
            Writer::Transfer { w, acked, in_flight } => {
                *in_flight = true;
                match transfer(&mut c, *w, *acked + 1) {
                    Ok(to) => {
                        assert_eq!(to, *acked + 1, "transfer {w} skipped a value");
                        *acked = to;
                        *in_flight = false;
                    }
                    Err(_) => return state,
                }
            }
        }
    }
}

fn transfer(c: &mut redis::Connection, w: usize, n: i64) -> redis::RedisResult<i64> {
    let (_, to, ()): (i64, i64, ()) = redis::pipe()
        .atomic()
        .cmd("DECRBY")
        .arg(format!("from:{w}"))
        .arg(1)
        .cmd("INCRBY")
        .arg(format!("to:{w}"))
        .arg(1)
        .cmd("MSET")
        .arg(format!("pair:{w}:a"))
        .arg(n)
        .arg(format!("pair:{w}:b"))
        .arg(n)
        .query(c)?;
    Ok(to)
}

fn get(c: &mut redis::Connection, key: &str) -> Option<String> {
    redis::cmd("GET").arg(key).query(c).expect("GET")
}

/// Checks one writer's keys after a restart; returns its state resolved
/// against what survived.
fn verify(c: &mut redis::Connection, state: Writer, native_incr: bool, native_list: bool, seed: u64) -> Writer {
    match state {
        Writer::Strings { w, next, acked, .. } => {
            let mut pipe = redis::pipe();
            for n in &acked {
                pipe.cmd("GET").arg(format!("s:{w}:{n}"));
            }
            let got: Vec<Option<String>> = pipe.query(c).expect("pipeline");
            for (n, v) in acked.iter().zip(got) {
                assert_eq!(v, Some(format!("v{n}")), "seed {seed}: acknowledged SET s:{w}:{n} lost");
            }
            Writer::Strings { w, next, acked, in_flight: false }
        }
        Writer::Counter { w, acked, in_flight } => {
            let v: i64 = get(c, &format!("c:{w}")).map_or(0, |s| s.parse().expect("a number"));
            let most = acked + i64::from(in_flight);
            assert!(
                v >= acked && v <= most,
                "seed {seed}: counter c:{w} is {v}, acknowledged {acked}, in flight {in_flight}"
            );
            let _ = native_incr;
            Writer::Counter { w, acked: v, in_flight: false }
        }
        Writer::List { w, acked, in_flight } => {
            let len = if native_list {
                let items: Vec<String> =
                    redis::cmd("LRANGE").arg(format!("l:{w}")).arg(0).arg(-1).query(c).expect("LRANGE");
                for (i, it) in items.iter().enumerate() {
                    assert_eq!(it, &i.to_string(), "seed {seed}: list l:{w} is not a prefix-consistent sequence");
                }
                items.len()
            } else {
                let mut k = 0;
                while get(c, &format!("l:{w}:{k}")).is_some() {
                    k += 1;
                }
                assert!(get(c, &format!("l:{w}:{}", k + 1)).is_none(), "seed {seed}: list l:{w} has a hole at {k}");
                k
            };
            assert!(
                len >= acked && len <= acked + usize::from(in_flight),
                "seed {seed}: list l:{w} has {len} items, acknowledged {acked}, in flight {in_flight}"
            );
            Writer::List { w, acked: len, in_flight: false }
        }
        Writer::Transfer { w, acked, in_flight } => {
            let num =
                |c: &mut redis::Connection, k: String| get(c, &k).map_or(0, |s| s.parse::<i64>().expect("a number"));
            let from = num(c, format!("from:{w}"));
            let to = num(c, format!("to:{w}"));
            let (a, b) = (num(c, format!("pair:{w}:a")), num(c, format!("pair:{w}:b")));
            assert_eq!(from + to, 0, "seed {seed}: transaction {w} half applied: from {from}, to {to}");
            assert_eq!((a, b), (to, to), "seed {seed}: transaction {w} half applied: pair {a}/{b}, to {to}");
            assert!(
                to >= acked && to <= acked + i64::from(in_flight),
                "seed {seed}: transfers {w}: {to} survived, acknowledged {acked}, in flight {in_flight}"
            );
            Writer::Transfer { w, acked: to, in_flight: false }
        }
    }
}

#[test]
fn acknowledged_writes_survive_sigkill() {
    let seed: u64 = std::env::var("CRASH_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64 | 1
    });
    let cycles: usize = std::env::var("CRASH_CYCLES").ok().and_then(|s| s.parse().ok()).unwrap_or(20);
    eprintln!("crash test seed: {seed} (replay with CRASH_SEED={seed})");
    let mut rng = Rng(seed);
    let dir = TempDir::new("crash");
    let started = Instant::now();

    let mut srv = start(&dir.0, 0);
    let (native_incr, native_list) = {
        let mut c = srv.client();
        let incr = match redis::cmd("INCR").arg("probe:incr").query::<i64>(&mut c) {
            Ok(_) => true,
            Err(e) if is_unknown(&e) => false,
            Err(e) => panic!("INCR probe: {e}"),
        };
        let list = match redis::cmd("RPUSH").arg("probe:list").arg("x").query::<i64>(&mut c) {
            Ok(_) => true,
            Err(e) if is_unknown(&e) => false,
            Err(e) => panic!("RPUSH probe: {e}"),
        };
        (incr, list)
    };
    eprintln!(
        "crash test: INCR {}, RPUSH {}",
        if native_incr { "native" } else { "emulated with SET" },
        if native_list { "native" } else { "emulated with SET" }
    );
    let mut writers = vec![
        Writer::Strings { w: 0, next: 0, acked: Vec::new(), in_flight: false },
        Writer::Strings { w: 1, next: 0, acked: Vec::new(), in_flight: false },
        Writer::Counter { w: 0, acked: 0, in_flight: false },
        Writer::Counter { w: 1, acked: 0, in_flight: false },
        Writer::List { w: 0, acked: 0, in_flight: false },
        Writer::List { w: 1, acked: 0, in_flight: false },
        Writer::Transfer { w: 0, acked: 0, in_flight: false },
        Writer::Transfer { w: 1, acked: 0, in_flight: false },
    ];
    let mut total_acked = 0usize;
    for cycle in 0..cycles {
        let handles: Vec<_> = writers
            .drain(..)
            .map(|w| {
                let sock = srv.socket.clone();
                std::thread::spawn(move || run_writer(w, sock, native_incr, native_list))
            })
            .collect();
        // Let the writers run, then kill the server at a random moment.
        std::thread::sleep(Duration::from_millis(20 + rng.below(250) as u64));
        srv.child.kill().expect("SIGKILL");
        let _ = srv.child.wait();
        writers = handles.into_iter().map(|h| h.join().expect("writer")).collect();
        srv = start(&dir.0, cycle + 1);
        let mut c = srv.client();
        writers = writers.into_iter().map(|w| verify(&mut c, w, native_incr, native_list, seed)).collect();
        total_acked = writers
            .iter()
            .map(|w| match w {
                Writer::Strings { acked, .. } => acked.len(),
                Writer::Counter { acked, .. } => *acked as usize,
                Writer::List { acked, .. } => *acked,
                Writer::Transfer { acked, .. } => *acked as usize,
            })
            .sum();
    }
    let snapshots = files_with_extension(&dir.0, "sbsnap").len();
    eprintln!(
        "crash test: {cycles} kill/restart cycles, {total_acked} acknowledged writes verified, {snapshots} snapshot(s) on disk, {:?}",
        started.elapsed()
    );
    srv.child.kill().expect("kill");
    let _ = srv.child.wait();
    assert!(total_acked > 0);
}
