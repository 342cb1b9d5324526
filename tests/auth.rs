//! Password authentication (`--requirepass`, `AUTH`, `HELLO ... AUTH`),
//! with Redis 7.0's replies: checked against `redis-server` 7.0.

use std::io::{Read, Write};

use crate::common::*;

const NOAUTH: &str = "-NOAUTH Authentication required.\r\n";
const WRONGPASS: &str = "-WRONGPASS invalid username-password pair or user is disabled.\r\n";
const HELLO_NOAUTH: &str = "-NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO \
                            AUTH <user> <pass> option can be used to authenticate the client and select the RESP \
                            protocol version at the same time\r\n";

/// Sends one command and returns the first line of its reply.
fn ask(r: &mut Raw, args: &[&str]) -> String {
    r.send(&resp_str(args));
    r.line()
}

/// Reads a RESP2 `HELLO` reply after its first line (`*14`), returning
/// the protocol it reports.
fn hello_proto(r: &mut Raw) -> String {
    let mut proto = String::new();
    for i in 0..14 {
        let mut line = r.line();
        if line.starts_with('$') {
            line = r.line();
        }
        if line.starts_with('*') {
            continue; // modules: an empty array
        }
        if i == 5 {
            proto = line.trim_end().to_string();
        }
    }
    proto
}

#[test]
fn commands_need_authentication_first() -> TestResult {
    let srv = TestServer::with_password("sekret");
    let mut r = srv.raw();
    assert_eq!(ask(&mut r, &["PING"]), NOAUTH);
    assert_eq!(ask(&mut r, &["SET", "k", "v"]), NOAUTH);
    // Unknown commands and wrong argument counts are reported before NOAUTH.
    assert_eq!(ask(&mut r, &["GET"]), "-ERR wrong number of arguments for 'get' command\r\n");
    assert_eq!(ask(&mut r, &["FOO", "bar"]), "-ERR unknown command 'FOO', with args beginning with: 'bar' \r\n");
    assert_eq!(ask(&mut r, &["CONFIG", "FOO"]), "-ERR unknown subcommand 'FOO'. Try CONFIG HELP.\r\n");
    assert_eq!(ask(&mut r, &["CONFIG", "GET"]), "-ERR wrong number of arguments for 'config|get' command\r\n");
    assert_eq!(ask(&mut r, &["CONFIG", "GET", "requirepass"]), NOAUTH);
    assert_eq!(ask(&mut r, &["DISCARD"]), NOAUTH);
    assert_eq!(ask(&mut r, &["MULTI"]), NOAUTH);
    assert_eq!(
        ask(&mut r, &["EXEC"]),
        "-EXECABORT Transaction discarded because of: NOAUTH Authentication required.\r\n"
    );
    assert_eq!(ask(&mut r, &["SUBSCRIBE", "ch"]), NOAUTH);
    assert_eq!(ask(&mut r, &["HELLO"]), HELLO_NOAUTH);
    assert_eq!(ask(&mut r, &["HELLO", "3"]), HELLO_NOAUTH);
    assert_eq!(ask(&mut r, &["HELLO", "4"]), "-NOPROTO unsupported protocol version\r\n");
    // AUTH's own errors.
    assert_eq!(ask(&mut r, &["AUTH"]), "-ERR wrong number of arguments for 'auth' command\r\n");
    assert_eq!(ask(&mut r, &["AUTH", "a", "b", "c"]), "-ERR syntax error\r\n");
    assert_eq!(ask(&mut r, &["AUTH", "wrong"]), WRONGPASS);
    assert_eq!(ask(&mut r, &["AUTH", "default", "wrong"]), WRONGPASS);
    assert_eq!(ask(&mut r, &["AUTH", "alice", "sekret"]), WRONGPASS);
    assert_eq!(ask(&mut r, &["AUTH", "DEFAULT", "sekret"]), WRONGPASS);
    assert_eq!(ask(&mut r, &["PING"]), NOAUTH);
    assert_eq!(ask(&mut r, &["AUTH", "sekret"]), "+OK\r\n");
    assert_eq!(ask(&mut r, &["PING"]), "+PONG\r\n");
    // A failed attempt afterwards does not undo it.
    assert_eq!(ask(&mut r, &["AUTH", "wrong"]), WRONGPASS);
    assert_eq!(ask(&mut r, &["SET", "k", "v"]), "+OK\r\n");

    let mut r = srv.raw();
    assert_eq!(ask(&mut r, &["AUTH", "default", "sekret"]), "+OK\r\n");
    assert_eq!(ask(&mut r, &["GET", "k"]), "$1\r\n");
    assert_eq!(r.line(), "v\r\n");
    // QUIT is answered without authentication.
    let mut r = srv.raw();
    assert_eq!(ask(&mut r, &["QUIT"]), "+OK\r\n");
    assert!(r.read_to_close().is_empty());

    // NOAUTH replies are rejected calls and NOAUTH errors in the statistics.
    let mut c = srv.client_with_password("sekret")?;
    let info: String = redis::cmd("INFO").arg("errorstats").query(&mut c)?;
    assert!(info.contains("errorstat_NOAUTH:count=9\r\n"), "{info}");
    assert!(info.contains("errorstat_WRONGPASS:count=5\r\n"), "{info}");
    assert!(info.contains("errorstat_EXECABORT:count=1\r\n"), "{info}");
    let info: String = redis::cmd("INFO").arg("commandstats").query(&mut c)?;
    let stat = |name: &str| {
        let line = info.lines().find(|l| l.starts_with(&format!("cmdstat_{name}:"))).unwrap_or_default();
        let field = |f: &str| line.split([':', ',']).find_map(|kv| kv.strip_prefix(f)).unwrap_or("-").to_string();
        (field("calls="), field("rejected_calls="), field("failed_calls="))
    };
    let counts =
        |calls: &str, rejected: &str, failed: &str| (calls.to_string(), rejected.to_string(), failed.to_string());
    assert_eq!(stat("ping"), counts("1", "2", "0"), "{info}");
    assert_eq!(stat("set"), counts("1", "1", "0"), "{info}");
    assert_eq!(stat("exec"), counts("0", "1", "0"), "{info}");
    assert_eq!(stat("auth"), counts("9", "1", "6"), "{info}");
    Ok(())
}

#[test]
fn auth_without_a_password_configured() -> TestResult {
    let srv = TestServer::start();
    let mut r = srv.raw();
    assert_eq!(
        ask(&mut r, &["AUTH", "x"]),
        "-ERR AUTH <password> called without any password configured for the default user. Are you sure your \
         configuration is correct?\r\n"
    );
    assert_eq!(ask(&mut r, &["AUTH", "default", "anything"]), "+OK\r\n");
    assert_eq!(ask(&mut r, &["AUTH", "alice", "anything"]), WRONGPASS);
    assert_eq!(ask(&mut r, &["HELLO", "2", "AUTH", "alice", "x"]), WRONGPASS);
    assert_eq!(ask(&mut r, &["HELLO", "2", "AUTH", "default", "x"]), "*14\r\n");
    assert_eq!(hello_proto(&mut r), ":2");
    let mut c = srv.client();
    assert_eq!(val(&mut c, &["CONFIG", "GET", "requirepass"]), val(&mut c, &["CONFIG", "GET", "requirepass"]));
    let got: Vec<String> = redis::cmd("CONFIG").arg("GET").arg("requirepass").query(&mut c)?;
    assert_eq!(got, ["requirepass", ""]);
    Ok(())
}

#[test]
fn hello_authenticates_and_switches_protocol() -> TestResult {
    let srv = TestServer::with_password("sekret");
    let mut r = srv.raw();
    assert_eq!(ask(&mut r, &["HELLO", "3", "AUTH", "default", "wrong"]), WRONGPASS);
    assert_eq!(ask(&mut r, &["HELLO", "3", "AUTH", "default"]), "-ERR Syntax error in HELLO option 'AUTH'\r\n");
    // SETNAME takes effect as it is read, even though HELLO then fails.
    assert_eq!(ask(&mut r, &["HELLO", "3", "SETNAME", "early"]), HELLO_NOAUTH);
    assert_eq!(ask(&mut r, &["PING"]), NOAUTH);
    // A bad name before AUTH stops HELLO before it authenticates...
    assert_eq!(
        ask(&mut r, &["HELLO", "3", "SETNAME", "a b", "AUTH", "default", "sekret"]),
        "-ERR Client names cannot contain spaces, newlines or special characters.\r\n"
    );
    assert_eq!(ask(&mut r, &["PING"]), NOAUTH);
    // ...one after it fails HELLO after it authenticated, still in RESP2.
    assert_eq!(
        ask(&mut r, &["HELLO", "3", "AUTH", "default", "sekret", "SETNAME", "a b"]),
        "-ERR Client names cannot contain spaces, newlines or special characters.\r\n"
    );
    assert_eq!(ask(&mut r, &["CLIENT", "GETNAME"]), "$5\r\n");
    assert_eq!(r.line(), "early\r\n");

    let mut r = srv.raw();
    r.send(&resp_str(&["HELLO", "3", "AUTH", "default", "sekret", "SETNAME", "n3"]));
    let mut got = Vec::new();
    while !got.ends_with(b"$7\r\nmodules\r\n*0\r\n") {
        got.extend(r.read_exact(1));
    }
    let got = String::from_utf8(got)?;
    assert!(got.starts_with("%7\r\n") && got.contains("$5\r\nproto\r\n:3\r\n"), "{got}");
    assert_eq!(ask(&mut r, &["CLIENT", "GETNAME"]), "$2\r\n");
    assert_eq!(r.line(), "n3\r\n");
    // A wrong password in a later HELLO changes nothing.
    assert_eq!(ask(&mut r, &["HELLO", "2", "AUTH", "default", "wrong"]), WRONGPASS);
    assert_eq!(ask(&mut r, &["PING"]), "+PONG\r\n");
    assert_eq!(ask(&mut r, &["ECHO", "x"]), "$1\r\n", "still RESP3, where a bulk string looks the same");
    assert_eq!(r.line(), "x\r\n");
    r.send(&resp_str(&["CONFIG", "GET", "requirepass"]));
    assert_eq!(r.line(), "%1\r\n", "still RESP3: a map");
    Ok(())
}

#[test]
fn the_redis_crate_connects_with_a_password() -> TestResult {
    let srv = TestServer::with_password("sekret");
    let mut c = srv.client_with_password("sekret")?;
    let () = redis::cmd("SET").arg("k").arg("v").query(&mut c)?;
    let v: String = redis::cmd("GET").arg("k").query(&mut c)?;
    assert_eq!(v, "v");
    let info: String = redis::cmd("CLIENT").arg("INFO").query(&mut c)?;
    assert!(info.contains(" user=default "), "{info}");
    assert!(info.contains(" lib-name=redis-rs "), "the crate's SETINFO after its AUTH ran: {info}");

    // RESP3: the crate authenticates with HELLO 3 AUTH.
    let url = format!("unix://{}?pass=sekret&protocol=resp3", srv.socket().display());
    let mut c3 = redis::Client::open(url)?.get_connection()?;
    let v: String = redis::cmd("GET").arg("k").query(&mut c3)?;
    assert_eq!(v, "v");
    let info: String = redis::cmd("CLIENT").arg("INFO").query(&mut c3)?;
    assert!(info.contains(" resp=3 "), "{info}");

    let refused = srv.client_with_password("wrong").err().expect("a wrong password fails the connection");
    assert_eq!(refused.kind(), redis::ErrorKind::AuthenticationFailed, "{refused}");
    let mut anonymous = srv.client();
    assert_eq!(err(&mut anonymous, &["GET", "k"]), "NOAUTH Authentication required.");
    Ok(())
}

#[test]
fn config_set_requirepass_turns_it_on_and_off() -> TestResult {
    let srv = TestServer::start();
    // Connected (and served) while no password is required: authenticated.
    let mut early = srv.raw();
    assert_eq!(ask(&mut early, &["PING"]), "+PONG\r\n");
    let mut admin = srv.client();
    let () = redis::cmd("CONFIG").arg("SET").arg("requirepass").arg("pw1").query(&mut admin)?;
    let got: Vec<String> = redis::cmd("CONFIG").arg("GET").arg("requirepass").query(&mut admin)?;
    assert_eq!(got, ["requirepass", "pw1"]);
    assert_eq!(ask(&mut early, &["PING"]), "+PONG\r\n", "connections keep their state");
    assert_eq!(val(&mut admin, &["PING"]), redis::Value::SimpleString("PONG".into()));

    let mut late = srv.raw();
    assert_eq!(ask(&mut late, &["PING"]), NOAUTH);
    // No password: everyone passes, authenticated or not.
    assert_eq!(ask(&mut early, &["CONFIG", "SET", "requirepass", ""]), "+OK\r\n");
    assert_eq!(ask(&mut late, &["PING"]), "+PONG\r\n");
    // A password again: the connection never authenticated is refused again.
    assert_eq!(ask(&mut late, &["CONFIG", "SET", "requirepass", "pw2"]), "+OK\r\n");
    assert_eq!(ask(&mut late, &["PING"]), NOAUTH);
    assert_eq!(ask(&mut late, &["AUTH", "pw1"]), WRONGPASS);
    assert_eq!(ask(&mut late, &["AUTH", "pw2"]), "+OK\r\n");
    assert_eq!(ask(&mut late, &["PING"]), "+PONG\r\n");
    assert_eq!(
        ask(&mut late, &["CONFIG", "SET", "requirepass", "x", "requirepass", "y"]),
        "-ERR CONFIG SET failed (possibly related to argument 'requirepass') - duplicate parameter\r\n"
    );
    assert!(srv.client_with_password("pw2").is_ok());
    Ok(())
}

#[test]
fn reset_drops_authentication_while_a_password_is_required() -> TestResult {
    let srv = TestServer::with_password("sekret");
    let mut r = srv.raw();
    assert_eq!(ask(&mut r, &["RESET"]), "+RESET\r\n", "RESET needs no authentication");
    assert_eq!(ask(&mut r, &["AUTH", "sekret"]), "+OK\r\n");
    assert_eq!(ask(&mut r, &["PING"]), "+PONG\r\n");
    assert_eq!(ask(&mut r, &["RESET"]), "+RESET\r\n");
    assert_eq!(ask(&mut r, &["PING"]), NOAUTH);

    // Without a password, RESET leaves the connection authenticated, and it
    // stays so when a password is set afterwards.
    let mut admin = srv.client_with_password("sekret")?;
    let () = redis::cmd("CONFIG").arg("SET").arg("requirepass").arg("").query(&mut admin)?;
    assert_eq!(ask(&mut r, &["RESET"]), "+RESET\r\n");
    let () = redis::cmd("CONFIG").arg("SET").arg("requirepass").arg("sekret").query(&mut admin)?;
    assert_eq!(ask(&mut r, &["PING"]), "+PONG\r\n");
    Ok(())
}

/// A connection made under a password, in a transaction or subscribed
/// while the password was off, is refused once it is back on.
#[test]
fn noauth_inside_multi_and_subscribed_mode() -> TestResult {
    let srv = TestServer::with_password("sekret");
    let mut admin = srv.client_with_password("sekret")?;
    let mut t = srv.raw();
    let mut s = srv.raw();
    assert_eq!(ask(&mut t, &["PING"]), NOAUTH);
    assert_eq!(ask(&mut s, &["PING"]), NOAUTH);
    let () = redis::cmd("CONFIG").arg("SET").arg("requirepass").arg("").query(&mut admin)?;
    assert_eq!(ask(&mut t, &["MULTI"]), "+OK\r\n");
    assert_eq!(ask(&mut t, &["SET", "k", "v"]), "+QUEUED\r\n");
    assert_eq!(ask(&mut s, &["SUBSCRIBE", "ch"]), "*3\r\n");
    assert_eq!(s.line(), "$9\r\n");
    assert_eq!(s.line(), "subscribe\r\n");
    s.line();
    s.line();
    assert_eq!(s.line(), ":1\r\n");
    let () = redis::cmd("CONFIG").arg("SET").arg("requirepass").arg("sekret").query(&mut admin)?;

    assert_eq!(ask(&mut t, &["GET", "k"]), NOAUTH);
    assert_eq!(ask(&mut t, &["AUTH", "sekret"]), "+QUEUED\r\n", "AUTH is queued like any command");
    assert_eq!(ask(&mut t, &["DISCARD"]), NOAUTH);
    assert_eq!(
        ask(&mut t, &["EXEC"]),
        "-EXECABORT Transaction discarded because of: NOAUTH Authentication required.\r\n"
    );
    assert_eq!(ask(&mut t, &["PING"]), NOAUTH, "the transaction is gone");
    assert_eq!(val(&mut admin, &["EXISTS", "k"]), redis::Value::Int(0));

    // Authenticated inside MULTI, a queued AUTH runs in EXEC.
    assert_eq!(ask(&mut t, &["AUTH", "sekret"]), "+OK\r\n");
    assert_eq!(ask(&mut t, &["MULTI"]), "+OK\r\n");
    assert_eq!(ask(&mut t, &["AUTH", "wrong"]), "+QUEUED\r\n");
    assert_eq!(ask(&mut t, &["EXEC"]), "*1\r\n");
    assert_eq!(t.line(), WRONGPASS);

    // The authentication gate comes before the subscribed-mode one.
    assert_eq!(ask(&mut s, &["PING"]), NOAUTH);
    assert_eq!(ask(&mut s, &["GET", "k"]), NOAUTH);
    assert_eq!(ask(&mut s, &["UNSUBSCRIBE"]), NOAUTH);
    // Nor can it authenticate there: only RESET (or QUIT) gets it out.
    assert_eq!(
        ask(&mut s, &["AUTH", "sekret"]),
        "-ERR Can't execute 'auth': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this \
         context\r\n"
    );
    assert_eq!(ask(&mut s, &["RESET"]), "+RESET\r\n");
    assert_eq!(ask(&mut s, &["AUTH", "sekret"]), "+OK\r\n");
    assert_eq!(ask(&mut s, &["PING"]), "+PONG\r\n");
    Ok(())
}

#[test]
fn passwords_are_redacted_in_monitor_and_slowlog() -> TestResult {
    let srv = TestServer::with_password("sekret");
    let mut admin = srv.client_with_password("sekret")?;
    let () = redis::cmd("CONFIG").arg("SET").arg("slowlog-log-slower-than").arg("0").query(&mut admin)?;
    let () = redis::cmd("SLOWLOG").arg("RESET").query(&mut admin)?;
    let mut m = srv.raw();
    assert_eq!(ask(&mut m, &["AUTH", "sekret"]), "+OK\r\n");
    assert_eq!(ask(&mut m, &["MONITOR"]), "+OK\r\n");

    let mut r = srv.raw();
    let sent: &[&[&str]] = &[
        &["AUTH", "wrong"],
        &["AUTH", "default", "sekret"],
        &["HELLO", "2", "AUTH", "default", "sekret", "SETNAME", "nm"],
        &["HELLO", "2", "SETNAME", "AUTH", "AUTH", "default", "sekret"],
        // Redis redacts only what it read as credentials.
        &["HELLO", "2", "AUTH", "default", "wrong", "AUTH", "default", "sekret"],
        &["AUTH", "a", "b", "c"],
        &["CONFIG", "SET", "requirepass", "sekret"],
        &["CONFIG", "SET", "hz", "x", "requirepass", "sekret"],
        &["PING"],
    ];
    for cmd in sent {
        r.send(&resp_str(cmd));
        let first = r.line();
        if first.starts_with('*') {
            hello_proto(&mut r);
        }
    }
    let expected_monitor = [
        r#""AUTH" "(redacted)""#,
        r#""AUTH" "(redacted)" "(redacted)""#,
        r#""HELLO" "2" "AUTH" "(redacted)" "(redacted)" "SETNAME" "nm""#,
        r#""HELLO" "2" "SETNAME" "AUTH" "AUTH" "(redacted)" "(redacted)""#,
        r#""HELLO" "2" "AUTH" "(redacted)" "(redacted)" "AUTH" "default" "sekret""#,
        r#""AUTH" "a" "b" "c""#,
        r#""PING""#,
    ];
    for want in expected_monitor {
        let line = m.line();
        assert!(line.starts_with('+') && line.ends_with(&format!("] {want}\r\n")), "{line:?} should show {want}");
    }

    let entries: Vec<redis::Value> = redis::cmd("SLOWLOG").arg("GET").arg("-1").query(&mut admin)?;
    let shown: Vec<Vec<String>> = entries
        .iter()
        .rev()
        .map(|e| {
            let redis::Value::Array(fields) = e else { panic!("{e:?}") };
            redis::from_redis_value_ref(&fields[3]).expect("arguments")
        })
        .collect();
    let expected_slowlog: &[&[&str]] = &[
        &["SLOWLOG", "RESET"],
        &["AUTH", "(redacted)"],
        &["MONITOR"],
        &["AUTH", "(redacted)"],
        &["AUTH", "(redacted)", "(redacted)"],
        &["HELLO", "2", "AUTH", "(redacted)", "(redacted)", "SETNAME", "nm"],
        &["HELLO", "2", "SETNAME", "AUTH", "AUTH", "(redacted)", "(redacted)"],
        &["HELLO", "2", "AUTH", "(redacted)", "(redacted)", "AUTH", "default", "sekret"],
        &["AUTH", "a", "b", "c"],
        &["CONFIG", "SET", "requirepass", "(redacted)"],
        &["CONFIG", "SET", "hz", "x", "requirepass", "(redacted)"],
        &["PING"],
    ];
    assert_eq!(shown, expected_slowlog);

    // CLIENT LIST and INFO never show it.
    let list: String = redis::cmd("CLIENT").arg("LIST").query(&mut admin)?;
    assert!(!list.contains("sekret") && list.contains(" user=default "), "{list}");
    let info: String = redis::cmd("INFO").arg("everything").query(&mut admin)?;
    assert!(!info.contains("sekret"), "{info}");
    Ok(())
}

#[test]
fn unauthenticated_requests_are_limited() -> TestResult {
    let srv = TestServer::with_password("sekret");
    let mut r = srv.raw();
    r.send(&resp_str(&["DEL", "a", "b", "c", "d", "e", "f", "g", "h", "i", "j"]));
    assert_eq!(r.line(), "-ERR Protocol error: unauthenticated multibulk length\r\n");
    assert!(r.read_to_close().is_empty());

    let big = "x".repeat(16385);
    let mut r = srv.raw();
    r.send(&resp_str(&["PING"]));
    r.send(&resp_str(&["ECHO", &big]));
    assert_eq!(r.line(), NOAUTH, "what came before the bad request is answered");
    assert_eq!(r.line(), "-ERR Protocol error: unauthenticated bulk length\r\n");
    assert!(r.read_to_close().is_empty());

    // At the limits, the request is read (and refused).
    let mut r = srv.raw();
    assert_eq!(ask(&mut r, &["DEL", "a", "b", "c", "d", "e", "f", "g", "h", "i"]), NOAUTH);
    assert_eq!(ask(&mut r, &["ECHO", &big[1..]]), NOAUTH);
    // AUTH pipelined with a large command: the command after AUTH is read
    // as an authenticated one, as Redis does.
    let mut pipelined = resp_str(&["AUTH", "sekret"]);
    pipelined.extend(resp_str(&["SET", "k", &big]));
    pipelined.extend(resp_str(&["DEL", "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k"]));
    r.send(&pipelined);
    assert_eq!(r.line(), "+OK\r\n");
    assert_eq!(r.line(), "+OK\r\n");
    assert_eq!(r.line(), ":1\r\n");
    // RESET brings the limits back (for what is read after its reply).
    assert_eq!(ask(&mut r, &["RESET"]), "+RESET\r\n");
    assert_eq!(ask(&mut r, &["ECHO", &big]), "-ERR Protocol error: unauthenticated bulk length\r\n");

    // A client that half-closes after its pipeline gets every reply.
    let mut r = srv.raw();
    let mut pipelined = resp_str(&["AUTH", "sekret"]);
    pipelined.extend(resp_str(&["SET", "k2", &big]));
    pipelined.extend(resp_str(&["STRLEN", "k2"]));
    r.send(&pipelined);
    r.0.shutdown(std::net::Shutdown::Write)?;
    assert_eq!(String::from_utf8(r.read_to_close())?, "+OK\r\n+OK\r\n:16385\r\n");

    // No limits without a password.
    let mut admin = srv.client_with_password("sekret")?;
    let () = redis::cmd("CONFIG").arg("SET").arg("requirepass").arg("").query(&mut admin)?;
    let mut r = srv.raw();
    assert_eq!(ask(&mut r, &["DEL", "a", "b", "c", "d", "e", "f", "g", "h", "i", "j"]), ":0\r\n");
    Ok(())
}

/// Over TCP, where a password matters most.
#[test]
fn tcp_clients_authenticate() -> TestResult {
    // A port that was free a moment ago (the server binds it at once).
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let srv = TestServer::start_with(|c| {
        c.requirepass = statebroker::config::Secret(b"sekret".to_vec());
        c.port = port;
    });
    let addr = srv.spawned.as_ref().and_then(|s| s.listening.tcp).expect("listening on TCP");
    let mut raw = std::net::TcpStream::connect(addr)?;
    raw.write_all(&resp_str(&["GET", "k"]))?;
    let mut reply = vec![0; NOAUTH.len()];
    raw.read_exact(&mut reply)?;
    assert_eq!(String::from_utf8(reply)?, NOAUTH);

    let mut c = redis::Client::open(format!("redis://:sekret@{addr}/"))?.get_connection()?;
    let () = redis::cmd("SET").arg("k").arg("v").query(&mut c)?;
    let info: String = redis::cmd("CLIENT").arg("INFO").query(&mut c)?;
    assert!(info.contains(" flags=N ") && info.contains(" user=default "), "{info}");
    let wrong = redis::Client::open(format!("redis://default:wrong@{addr}/"))?.get_connection();
    assert_eq!(wrong.err().map(|e| e.kind()), Some(redis::ErrorKind::AuthenticationFailed));
    Ok(())
}

/// Found by review: a client that pipelined `AUTH` and a write, then
/// closed while `CLIENT PAUSE ALL` held them, had both run after the pause
/// (its batch ended early at `AUTH`, and the end of input was not told while
/// more commands were to follow). Redis frees it: nothing of it runs.
#[test]
fn a_client_closing_during_a_pause_after_pipelining_auth_runs_nothing() {
    let srv = TestServer::with_password("pw");
    let mut admin = srv.client_with_password("pw").unwrap();
    let () = redis::cmd("CLIENT").arg("PAUSE").arg(2_000).arg("ALL").query(&mut admin).unwrap();
    let mut c = srv.raw();
    c.send(b"AUTH pw\r\nSET k1 1\r\n");
    c.0.shutdown(std::net::Shutdown::Write).unwrap();
    let started = std::time::Instant::now();
    c.0.set_read_timeout(Some(std::time::Duration::from_secs(5))).unwrap();
    assert_eq!(c.read_to_close(), b"", "nothing answered");
    assert!(started.elapsed() < std::time::Duration::from_millis(1500), "let go during the pause");
    // Held like every command until the pause ends (PAUSE ALL).
    let () = redis::cmd("CLIENT").arg("UNPAUSE").query(&mut admin).unwrap();
    let v: Option<String> = redis::cmd("GET").arg("k1").query(&mut admin).unwrap();
    assert_eq!(v, None);
}
