//! Test helpers: a real server started in-process on a throwaway directory
//! and socket, and clients for it.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use statebroker::config::Config;
use statebroker::server::{self, Spawned};

/// Result type of tests.
pub type TestResult = Result<(), Box<dyn std::error::Error>>;

/// A fresh, empty directory under the system temp dir, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    /// Creates a unique directory.
    pub fn new(tag: &str) -> TempDir {
        static N: AtomicU32 = AtomicU32::new(0);
        let dir =
            std::env::temp_dir().join(format!("sb-{tag}-{}-{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed)));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create temp dir");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The files of `dir` whose name ends in `.{extension}`, sorted.
pub fn files_with_extension(dir: &Path, extension: &str) -> Vec<PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == extension))
        .collect();
    v.sort();
    v
}

/// A server running in this process.
pub struct TestServer {
    /// Its data directory.
    pub dir: TempDir,
    /// The running server.
    pub spawned: Option<Spawned>,
    /// Its configuration.
    pub config: Config,
}

impl TestServer {
    /// Starts a server with default settings on a new directory.
    pub fn start() -> TestServer {
        Self::start_with(|_| {})
    }

    /// Starts a server after `tweak` adjusts the configuration.
    pub fn start_with(tweak: impl FnOnce(&mut Config)) -> TestServer {
        let dir = TempDir::new("srv");
        let mut config = Config { unixsocket: dir.0.join("sb.sock"), dir: dir.0.clone(), ..Config::default() };
        tweak(&mut config);
        let spawned = server::spawn(config.clone()).expect("server starts");
        TestServer { dir, spawned: Some(spawned), config }
    }

    /// Starts a server that requires `password` (`--requirepass`).
    pub fn with_password(password: &str) -> TestServer {
        Self::start_with(|c| c.requirepass = statebroker::config::Secret(password.as_bytes().to_vec()))
    }

    /// A `redis` crate connection (RESP2) that authenticates with
    /// `password` as it connects (the `pass` setting of the URL).
    pub fn client_with_password(&self, password: &str) -> redis::RedisResult<redis::Connection> {
        let url = format!("unix://{}?pass={password}", self.socket().display());
        redis::Client::open(url)?.get_connection()
    }

    /// Restarts on the same directory (after `SHUTDOWN`).
    pub fn restart(&mut self) {
        if let Some(s) = self.spawned.take() {
            let mut c = self.client();
            let _: redis::RedisResult<()> = redis::cmd("SHUTDOWN").query(&mut c);
            s.join().expect("clean stop");
        }
        self.spawned = Some(server::spawn(self.config.clone()).expect("server restarts"));
    }

    /// The socket path.
    pub fn socket(&self) -> PathBuf {
        self.config.unixsocket.clone()
    }

    /// A `redis` crate connection (RESP2).
    pub fn client(&self) -> redis::Connection {
        let url = format!("unix://{}", self.socket().display());
        let client = redis::Client::open(url).expect("client");
        client.get_connection().expect("connect")
    }

    /// A `redis` crate connection speaking RESP3.
    pub fn client3(&self) -> redis::Connection {
        let url = format!("unix://{}?protocol=resp3", self.socket().display());
        let client = redis::Client::open(url).expect("client");
        client.get_connection().expect("connect")
    }

    /// A raw socket for byte-level tests.
    pub fn raw(&self) -> Raw {
        let s = UnixStream::connect(self.socket()).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
        Raw(s)
    }
}

/// A raw connection: write bytes, read replies.
pub struct Raw(pub UnixStream);

impl Raw {
    /// Writes bytes.
    pub fn send(&mut self, bytes: &[u8]) {
        self.0.write_all(bytes).expect("write");
    }

    /// Reads exactly `n` bytes.
    pub fn read_exact(&mut self, n: usize) -> Vec<u8> {
        let mut buf = vec![0; n];
        self.0.read_exact(&mut buf).expect("read");
        buf
    }

    /// Reads until `expected` has arrived and checks it matches.
    pub fn expect(&mut self, expected: &[u8]) {
        let got = self.read_exact(expected.len());
        assert_eq!(String::from_utf8_lossy(&got), String::from_utf8_lossy(expected));
    }

    /// Reads one line, CRLF included (a simple reply, an error, an
    /// integer, or the header of an aggregate).
    pub fn line(&mut self) -> String {
        let mut buf = Vec::new();
        while !buf.ends_with(b"\r\n") {
            buf.extend(self.read_exact(1));
        }
        String::from_utf8_lossy(&buf).into_owned()
    }

    /// Switches the connection to RESP3 (`HELLO 3`); returns the `HELLO` reply.
    pub fn hello3(&mut self) -> Vec<u8> {
        self.send(b"HELLO 3\r\n");
        let mut buf = Vec::new();
        while !buf.ends_with(b"$7\r\nmodules\r\n*0\r\n") {
            buf.extend(self.read_exact(1));
        }
        buf
    }

    /// Reads until the peer closes; returns everything read.
    pub fn read_to_close(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        self.0.read_to_end(&mut out).expect("read to end");
        out
    }
}

/// Runs `cmd` and returns the reply as a `redis::Value`.
pub fn val(c: &mut redis::Connection, args: &[&str]) -> redis::Value {
    let mut cmd = redis::cmd(args[0]);
    for a in &args[1..] {
        cmd.arg(*a);
    }
    match cmd.query::<redis::Value>(c) {
        Ok(v) => v,
        Err(e) => redis::Value::ServerError(redis::ServerError::try_from(e).unwrap_or_else(|e| panic!("{e}"))),
    }
}

/// Runs `cmd` and returns the error text (code and message), panicking if it succeeds.
pub fn err(c: &mut redis::Connection, args: &[&str]) -> String {
    let mut cmd = redis::cmd(args[0]);
    for a in &args[1..] {
        cmd.arg(*a);
    }
    match cmd.query::<redis::Value>(c) {
        Ok(v) => panic!("expected an error from {args:?}, got {v:?}"),
        Err(e) => match (e.code(), e.detail()) {
            (Some(code), Some(detail)) => format!("{code} {detail}"),
            (Some(code), None) => code.to_string(),
            _ => e.to_string(),
        },
    }
}

/// A tiny deterministic random generator (xorshift64) for stress tests:
/// a run is replayed from its seed.
pub struct Rng(pub u64);

impl Rng {
    /// The next pseudo-random number.
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A pseudo-random number below `n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Adds to `cmd` the arguments that start the server binary on `dir`,
/// quietly, with its socket at `dir/sb.sock`; returns the socket's path.
pub fn server_args(cmd: &mut std::process::Command, dir: &Path) -> PathBuf {
    let socket = dir.join("sb.sock");
    cmd.arg("--dir")
        .arg(dir)
        .arg("--unixsocket")
        .arg(&socket)
        .args(["--loglevel", "warning"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    socket
}

/// Waits (polling `INFO clients`, at most ten seconds) until the server
/// reports `n` blocked clients.
pub fn wait_blocked_clients(c: &mut redis::Connection, n: usize) {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let want = format!("blocked_clients:{n}\r\n");
    loop {
        let info: String = redis::cmd("INFO").arg("clients").query(c).expect("INFO clients");
        if info.contains(&want) {
            return;
        }
        assert!(std::time::Instant::now() < deadline, "never {n} blocked clients: {info}");
        std::thread::yield_now();
    }
}

/// Encodes a command as a RESP multibulk.
pub fn resp(args: &[&[u8]]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// [`resp`] for text arguments.
pub fn resp_str(args: &[&str]) -> Vec<u8> {
    resp(&args.iter().map(|a| a.as_bytes()).collect::<Vec<_>>())
}

/// The text of a string reply (bulk, simple or verbatim).
pub fn text(v: redis::Value) -> String {
    match v {
        redis::Value::BulkString(b) => String::from_utf8(b).expect("utf-8"),
        redis::Value::SimpleString(s) => s,
        redis::Value::VerbatimString { text, .. } => text,
        other => panic!("not text: {other:?}"),
    }
}
