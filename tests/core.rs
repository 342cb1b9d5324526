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
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};
    let dir = TempDir::new("sigterm");
    let socket = dir.0.join("sb.sock");
    let mut child = Command::new(env!("CARGO_BIN_EXE_statebroker"))
        .arg("--dir")
        .arg(&dir.0)
        .arg("--unixsocket")
        .arg(&socket)
        .args(["--loglevel", "warning"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the binary");
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
