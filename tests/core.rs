//! Core server: start-up and shutdown (stale and live sockets, socket
//! permissions, SIGTERM) and a first round trip.

use crate::common::*;

#[test]
fn ping_set_get_over_the_socket() -> TestResult {
    let srv = TestServer::start();
    let mut c = srv.client();
    let pong: String = redis::cmd("PING").query(&mut c)?;
    assert_eq!(pong, "PONG");
    let () = redis::cmd("SET").arg("k").arg("v").query(&mut c)?;
    let v: String = redis::cmd("GET").arg("k").query(&mut c)?;
    assert_eq!(v, "v");
    Ok(())
}

#[test]
fn a_stale_socket_file_is_replaced() -> TestResult {
    let dir = TempDir::new("stale");
    let path = dir.0.join("sb.sock");
    // A socket file nobody listens on, as a crashed run leaves it.
    drop(std::os::unix::net::UnixListener::bind(&path)?);
    assert!(path.exists());
    let srv = TestServer::start_with(|c| c.unixsocket = path.clone());
    let pong: String = redis::cmd("PING").query(&mut srv.client())?;
    assert_eq!(pong, "PONG");
    Ok(())
}

#[test]
fn a_live_server_on_the_socket_makes_a_second_one_refuse_to_start() {
    let first = TestServer::start();
    let other = TempDir::new("second");
    let config = statebroker::config::Config {
        unixsocket: first.socket(),
        dir: other.0.clone(),
        ..statebroker::config::Config::default()
    };
    let err = statebroker::server::spawn(config).err().expect("the second server must not start");
    assert!(err.to_string().contains("already listening"), "{err}");
    // The first one is untouched.
    let pong: String = redis::cmd("PING").query(&mut first.client()).expect("ping");
    assert_eq!(pong, "PONG");
}

#[test]
fn a_file_that_is_not_a_socket_is_never_replaced() {
    let dir = TempDir::new("notsock");
    let path = dir.0.join("precious.txt");
    std::fs::write(&path, b"keep me").unwrap();
    let config = statebroker::config::Config {
        unixsocket: path.clone(),
        dir: dir.0.join("data"),
        ..statebroker::config::Config::default()
    };
    let err = statebroker::server::spawn(config).err().expect("must refuse");
    assert!(err.to_string().contains("not a socket"), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), b"keep me");
}

#[test]
fn the_socket_is_owner_only_by_default() {
    use std::os::unix::fs::PermissionsExt;
    let srv = TestServer::start();
    let mode = std::fs::metadata(srv.socket()).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
}

#[test]
fn sigterm_stops_the_binary_cleanly_and_removes_the_socket() {
    use std::process::Command;
    use std::time::{Duration, Instant};
    let dir = TempDir::new("sigterm");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_statebroker"));
    let socket = server_args(&mut cmd, &dir.0);
    let mut child = cmd.spawn().expect("start the binary");
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut c = loop {
        if let Ok(c) = redis::Client::open(format!("unix://{}", socket.display())).and_then(|c| c.get_connection()) {
            break c;
        }
        assert!(child.try_wait().unwrap().is_none(), "the server exited during start-up");
        assert!(Instant::now() < deadline, "the server did not start");
        std::thread::yield_now();
    };
    let () = redis::cmd("SET").arg("k").arg("v").query(&mut c).unwrap();
    let status = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status().expect("kill");
    assert!(status.success());
    let exit = child.wait().expect("wait");
    assert!(exit.success(), "exit status {exit}");
    assert!(!socket.exists(), "the socket file is removed on a clean stop");
}

#[test]
fn a_bad_flag_value_is_one_clear_line_and_a_failed_exit() {
    let dir = TempDir::new("badflag");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_statebroker"))
        .arg("--dir")
        .arg(&dir.0)
        .args(["--appendfsync", "sometimes"])
        .env("RUST_BACKTRACE", "1")
        .output()
        .expect("run the binary");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        stderr.trim_end(),
        "statebroker: --appendfsync \"sometimes\": expected always, everysec or no",
        "stderr: {stderr}"
    );
}

/// Out of file descriptors (the binary started under `ulimit -n 48`), the
/// clients that cannot be accepted are refused with Redis's error for too
/// many clients, and the server then idles. (The listener stayed readable
/// with those clients in its backlog: accepting failed at once, again and
/// again, at 100% CPU, and the clients hung.)
#[test]
fn clients_past_the_descriptor_limit_are_refused_without_spinning() {
    use std::io::Read;
    use std::os::unix::net::UnixStream;
    use std::process::Command;
    use std::time::{Duration, Instant};
    let dir = TempDir::new("descriptors");
    let mut cmd = Command::new("sh");
    cmd.args(["-c", "ulimit -n 48 && exec \"$0\" \"$@\""]).arg(env!("CARGO_BIN_EXE_statebroker"));
    let socket = server_args(&mut cmd, &dir.0);
    let mut child = cmd.spawn().expect("start the server binary");
    let deadline = Instant::now() + Duration::from_secs(20);
    while UnixStream::connect(&socket).is_err() {
        assert!(child.try_wait().unwrap().is_none(), "the server exited");
        assert!(Instant::now() < deadline, "the server did not start");
        std::thread::sleep(Duration::from_millis(2));
    }
    let clients: Vec<UnixStream> = (0..80).map(|_| UnixStream::connect(&socket).expect("connect")).collect();
    let mut last = &clients[79];
    last.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut got = Vec::new();
    let read = last.read_to_end(&mut got);
    let cpu_ticks = || {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", child.id())).unwrap();
        let fields: Vec<u64> =
            stat.rsplit(')').next().unwrap().split_whitespace().filter_map(|x| x.parse().ok()).collect();
        fields[11] + fields[12]
    };
    let before = cpu_ticks();
    std::thread::sleep(Duration::from_secs(1));
    let spent = cpu_ticks() - before;
    let _ = child.kill();
    let _ = child.wait();
    assert!(read.is_ok(), "the client past the limit got no answer: {read:?}");
    assert_eq!(String::from_utf8_lossy(&got), "-ERR max number of clients reached\r\n");
    assert!(spent < 20, "the server used {spent} of 100 CPU ticks in a second with nothing to do");
}
