//! Lists: every command's edge cases, blocking queues (wake-up order,
//! timeouts, chains, disconnects), a producer/consumer stress test that
//! checks no element is lost or duplicated, and a model-based property test.

use std::collections::{HashMap, VecDeque};
use std::net::Shutdown;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::test_runner::{Config as PropConfig, TestRunner};
use redis::Value;

use crate::common::*;

const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";

fn b(s: &str) -> Value {
    Value::BulkString(s.as_bytes().to_vec())
}

fn arr(items: &[&str]) -> Value {
    Value::Array(items.iter().map(|s| b(s)).collect())
}

fn ints(items: &[i64]) -> Value {
    Value::Array(items.iter().map(|&n| Value::Int(n)).collect())
}

/// A command in RESP wire form.
fn wire(args: &[&str]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend_from_slice(format!("${}\r\n{a}\r\n", a.len()).as_bytes());
    }
    out
}

/// Sends one command on a fresh raw connection and checks the exact reply bytes.
fn raw_reply(srv: &TestServer, args: &[&str], expected: &str) {
    let mut raw = srv.raw();
    raw.send(&wire(args));
    raw.expect(expected.as_bytes());
}

/// Waits (polling) until `cond` holds, failing after ten seconds.
fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Runs `args` on a new connection in a thread and returns once the broker
/// has parked it: the command is pipelined right after a push to `marker`;
/// once the marker exists and one more client is blocked, the command has
/// run and waits (or it was served at once, finding data).
fn park(srv: &TestServer, marker: &str, args: &[&str]) -> JoinHandle<Value> {
    let mut probe = srv.client();
    let blocked = blocked_clients(&mut probe);
    let mut c = srv.client();
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let m = marker.to_string();
    let handle = std::thread::spawn(move || {
        let mut pipe = redis::pipe();
        pipe.cmd("RPUSH").arg(&m).arg("1").ignore();
        let mut cmd = redis::cmd(&args[0]);
        for a in &args[1..] {
            cmd.arg(a);
        }
        pipe.add_command(cmd);
        let (v,): (Value,) = pipe.query(&mut c).expect("blocked command");
        v
    });
    wait_until(marker, || val(&mut probe, &["LLEN", marker]) == Value::Int(1));
    wait_until("the command to wait or be served", || handle.is_finished() || blocked_clients(&mut probe) > blocked);
    handle
}

/// Like [`park`], on a raw socket (to disconnect it while it waits).
/// The marker's reply comes at once, as in Redis (not held back until the
/// blocking command behind it is served): it is read here.
fn park_raw(srv: &TestServer, marker: &str, args: &[&str]) -> Raw {
    let mut probe = srv.client();
    let blocked = blocked_clients(&mut probe);
    let mut raw = srv.raw();
    let mut bytes = wire(&["RPUSH", marker, "1"]);
    bytes.extend(wire(args));
    raw.send(&bytes);
    raw.expect(b":1\r\n");
    wait_blocked_clients(&mut probe, blocked + 1);
    raw
}

/// `INFO clients`'s `blocked_clients`.
fn blocked_clients(c: &mut redis::Connection) -> usize {
    let info: String = redis::cmd("INFO").arg("clients").query(c).expect("INFO clients");
    let line = info.lines().find_map(|l| l.strip_prefix("blocked_clients:")).expect("blocked_clients");
    line.trim().parse().expect("a count")
}

#[test]
fn push_and_pop() -> TestResult {
    let srv = TestServer::start();
    let mut c = srv.client();
    assert_eq!(val(&mut c, &["RPUSH", "l", "a", "b"]), Value::Int(2));
    assert_eq!(val(&mut c, &["LPUSH", "l", "x", "y"]), Value::Int(4));
    assert_eq!(val(&mut c, &["LRANGE", "l", "0", "-1"]), arr(&["y", "x", "a", "b"]));
    assert_eq!(val(&mut c, &["LPUSHX", "nokey", "a"]), Value::Int(0));
    assert_eq!(val(&mut c, &["RPUSHX", "nokey", "a"]), Value::Int(0));
    assert_eq!(val(&mut c, &["LLEN", "nokey"]), Value::Int(0));
    assert_eq!(val(&mut c, &["RPUSHX", "l", "c", "d"]), Value::Int(6));
    assert_eq!(val(&mut c, &["LPUSHX", "l", "z"]), Value::Int(7));
    assert_eq!(val(&mut c, &["LLEN", "l"]), Value::Int(7));
    assert_eq!(val(&mut c, &["LPOP", "l"]), b("z"));
    assert_eq!(val(&mut c, &["RPOP", "l"]), b("d"));
    assert_eq!(val(&mut c, &["LPOP", "l", "2"]), arr(&["y", "x"]));
    assert_eq!(val(&mut c, &["RPOP", "l", "2"]), arr(&["c", "b"]));
    assert_eq!(val(&mut c, &["LPOP", "l", "0"]), arr(&[]));
    assert_eq!(val(&mut c, &["RPOP", "l", "10"]), arr(&["a"]));
    // Popping the last element removes the key.
    assert_eq!(val(&mut c, &["LLEN", "l"]), Value::Int(0));
    assert_eq!(val(&mut c, &["LPUSHX", "l", "a"]), Value::Int(0));
    assert_eq!(val(&mut c, &["LPOP", "nokey"]), Value::Nil);
    assert_eq!(err(&mut c, &["LPOP", "l", "-1"]), "ERR value is out of range, must be positive");
    assert_eq!(err(&mut c, &["RPOP", "l", "x"]), "ERR value is out of range, must be positive");
    assert_eq!(err(&mut c, &["LPOP", "l", "1", "2"]), "ERR wrong number of arguments for 'lpop' command");
    assert_eq!(err(&mut c, &["LPUSH", "l"]), "ERR wrong number of arguments for 'lpush' command");
    // Null bulk without a count, null array with one (even count 0).
    raw_reply(&srv, &["LPOP", "nokey"], "$-1\r\n");
    raw_reply(&srv, &["RPOP", "nokey", "2"], "*-1\r\n");
    raw_reply(&srv, &["LPOP", "nokey", "0"], "*-1\r\n");
    Ok(())
}

#[test]
fn index_set_range_trim() -> TestResult {
    let srv = TestServer::start();
    let mut c = srv.client();
    val(&mut c, &["RPUSH", "l", "a", "b", "c", "d", "e"]);
    assert_eq!(val(&mut c, &["LINDEX", "l", "0"]), b("a"));
    assert_eq!(val(&mut c, &["LINDEX", "l", "-1"]), b("e"));
    assert_eq!(val(&mut c, &["LINDEX", "l", "-5"]), b("a"));
    assert_eq!(val(&mut c, &["LINDEX", "l", "-6"]), Value::Nil);
    assert_eq!(val(&mut c, &["LINDEX", "l", "5"]), Value::Nil);
    assert_eq!(val(&mut c, &["LINDEX", "nokey", "x"]), Value::Nil);
    assert_eq!(err(&mut c, &["LINDEX", "l", "x"]), "ERR value is not an integer or out of range");

    assert_eq!(val(&mut c, &["LSET", "l", "-1", "E"]), Value::Okay);
    assert_eq!(val(&mut c, &["LSET", "l", "1", "B"]), Value::Okay);
    assert_eq!(err(&mut c, &["LSET", "l", "5", "x"]), "ERR index out of range");
    assert_eq!(err(&mut c, &["LSET", "l", "-6", "x"]), "ERR index out of range");
    assert_eq!(err(&mut c, &["LSET", "nokey", "0", "x"]), "ERR no such key");
    assert_eq!(err(&mut c, &["LSET", "nokey", "x", "x"]), "ERR no such key");
    assert_eq!(err(&mut c, &["LSET", "l", "x", "x"]), "ERR value is not an integer or out of range");

    assert_eq!(val(&mut c, &["LRANGE", "l", "0", "-1"]), arr(&["a", "B", "c", "d", "E"]));
    assert_eq!(val(&mut c, &["LRANGE", "l", "-100", "100"]), arr(&["a", "B", "c", "d", "E"]));
    assert_eq!(val(&mut c, &["LRANGE", "l", "-2", "-1"]), arr(&["d", "E"]));
    assert_eq!(val(&mut c, &["LRANGE", "l", "3", "1"]), arr(&[]));
    assert_eq!(val(&mut c, &["LRANGE", "l", "5", "10"]), arr(&[]));
    assert_eq!(val(&mut c, &["LRANGE", "l", "-1", "-2"]), arr(&[]));
    assert_eq!(val(&mut c, &["LRANGE", "nokey", "0", "-1"]), arr(&[]));
    assert_eq!(err(&mut c, &["LRANGE", "nokey", "0", "x"]), "ERR value is not an integer or out of range");

    assert_eq!(val(&mut c, &["LTRIM", "l", "1", "-2"]), Value::Okay);
    assert_eq!(val(&mut c, &["LRANGE", "l", "0", "-1"]), arr(&["B", "c", "d"]));
    assert_eq!(val(&mut c, &["LTRIM", "l", "-100", "100"]), Value::Okay);
    assert_eq!(val(&mut c, &["LLEN", "l"]), Value::Int(3));
    assert_eq!(val(&mut c, &["LTRIM", "nokey", "0", "1"]), Value::Okay);
    assert_eq!(err(&mut c, &["LTRIM", "l", "a", "1"]), "ERR value is not an integer or out of range");
    // An empty range removes the list.
    assert_eq!(val(&mut c, &["LTRIM", "l", "2", "1"]), Value::Okay);
    assert_eq!(val(&mut c, &["LLEN", "l"]), Value::Int(0));
    assert_eq!(err(&mut c, &["LSET", "l", "0", "x"]), "ERR no such key");
    Ok(())
}

#[test]
fn insert_remove_and_positions() -> TestResult {
    let srv = TestServer::start();
    let mut c = srv.client();
    val(&mut c, &["RPUSH", "l", "a", "b", "c", "a", "b", "c"]);
    assert_eq!(val(&mut c, &["LINSERT", "l", "BEFORE", "b", "x"]), Value::Int(7));
    assert_eq!(val(&mut c, &["LINSERT", "l", "after", "c", "y"]), Value::Int(8));
    assert_eq!(val(&mut c, &["LRANGE", "l", "0", "-1"]), arr(&["a", "x", "b", "c", "y", "a", "b", "c"]));
    assert_eq!(val(&mut c, &["LINSERT", "l", "BEFORE", "nothere", "z"]), Value::Int(-1));
    assert_eq!(val(&mut c, &["LINSERT", "nokey", "BEFORE", "a", "z"]), Value::Int(0));
    assert_eq!(err(&mut c, &["LINSERT", "l", "MIDDLE", "a", "z"]), "ERR syntax error");
    assert_eq!(err(&mut c, &["LINSERT", "nokey", "MIDDLE", "a", "z"]), "ERR syntax error");

    assert_eq!(val(&mut c, &["LPOS", "l", "a"]), Value::Int(0));
    assert_eq!(val(&mut c, &["LPOS", "l", "a", "RANK", "2"]), Value::Int(5));
    assert_eq!(val(&mut c, &["LPOS", "l", "a", "RANK", "-1"]), Value::Int(5));
    assert_eq!(val(&mut c, &["LPOS", "l", "a", "RANK", "3"]), Value::Nil);
    assert_eq!(val(&mut c, &["LPOS", "l", "b", "COUNT", "0"]), ints(&[2, 6]));
    assert_eq!(val(&mut c, &["LPOS", "l", "b", "COUNT", "1"]), ints(&[2]));
    assert_eq!(val(&mut c, &["LPOS", "l", "b", "RANK", "-1", "COUNT", "0"]), ints(&[6, 2]));
    assert_eq!(val(&mut c, &["LPOS", "l", "b", "COUNT", "0", "MAXLEN", "3"]), ints(&[2]));
    assert_eq!(val(&mut c, &["LPOS", "l", "c", "RANK", "-1", "MAXLEN", "1"]), Value::Int(7));
    assert_eq!(val(&mut c, &["LPOS", "l", "nothere", "COUNT", "0"]), ints(&[]));
    assert_eq!(val(&mut c, &["LPOS", "nokey", "a"]), Value::Nil);
    assert_eq!(val(&mut c, &["LPOS", "nokey", "a", "COUNT", "2"]), ints(&[]));
    assert_eq!(val(&mut c, &["LPOS", "l", "a", "rank", "1", "rank", "2"]), Value::Int(5));
    assert_eq!(val(&mut c, &["LPOS", "l", "a", "RANK", "-9223372036854775808"]), Value::Int(5));
    let rank_zero = "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list";
    assert_eq!(err(&mut c, &["LPOS", "l", "a", "RANK", "0"]), rank_zero);
    assert_eq!(err(&mut c, &["LPOS", "nokey", "a", "RANK", "0"]), rank_zero);
    assert_eq!(err(&mut c, &["LPOS", "l", "a", "RANK", "x"]), "ERR value is not an integer or out of range");
    assert_eq!(err(&mut c, &["LPOS", "l", "a", "COUNT", "-1"]), "ERR COUNT can't be negative");
    assert_eq!(err(&mut c, &["LPOS", "l", "a", "COUNT", "x"]), "ERR COUNT can't be negative");
    assert_eq!(err(&mut c, &["LPOS", "l", "a", "MAXLEN", "-1"]), "ERR MAXLEN can't be negative");
    assert_eq!(err(&mut c, &["LPOS", "l", "a", "FOO", "1"]), "ERR syntax error");
    assert_eq!(err(&mut c, &["LPOS", "l", "a", "RANK"]), "ERR syntax error");

    assert_eq!(val(&mut c, &["LREM", "l", "1", "a"]), Value::Int(1));
    assert_eq!(val(&mut c, &["LREM", "l", "-1", "b"]), Value::Int(1));
    assert_eq!(val(&mut c, &["LRANGE", "l", "0", "-1"]), arr(&["x", "b", "c", "y", "a", "c"]));
    assert_eq!(val(&mut c, &["LREM", "l", "0", "c"]), Value::Int(2));
    assert_eq!(val(&mut c, &["LREM", "l", "0", "nothere"]), Value::Int(0));
    assert_eq!(val(&mut c, &["LREM", "nokey", "0", "a"]), Value::Int(0));
    assert_eq!(err(&mut c, &["LREM", "l", "x", "a"]), "ERR value is not an integer or out of range");
    for e in ["x", "b", "y", "a"] {
        val(&mut c, &["LREM", "l", "0", e]);
    }
    assert_eq!(val(&mut c, &["LLEN", "l"]), Value::Int(0));
    Ok(())
}

#[test]
fn moves_and_multi_pops() -> TestResult {
    let srv = TestServer::start();
    let mut c = srv.client();
    val(&mut c, &["RPUSH", "src", "a", "b", "c"]);
    assert_eq!(val(&mut c, &["LMOVE", "src", "dst", "LEFT", "RIGHT"]), b("a"));
    assert_eq!(val(&mut c, &["LMOVE", "src", "dst", "right", "left"]), b("c"));
    assert_eq!(val(&mut c, &["LRANGE", "dst", "0", "-1"]), arr(&["c", "a"]));
    assert_eq!(val(&mut c, &["RPOPLPUSH", "dst", "dst"]), b("a"));
    assert_eq!(val(&mut c, &["LRANGE", "dst", "0", "-1"]), arr(&["a", "c"]));
    assert_eq!(val(&mut c, &["LMOVE", "dst", "dst", "LEFT", "LEFT"]), b("a"));
    assert_eq!(val(&mut c, &["RPOPLPUSH", "src", "other"]), b("b"));
    assert_eq!(val(&mut c, &["LLEN", "src"]), Value::Int(0));
    assert_eq!(val(&mut c, &["LMOVE", "src", "dst", "LEFT", "LEFT"]), Value::Nil);
    assert_eq!(val(&mut c, &["RPOPLPUSH", "src", "dst"]), Value::Nil);
    assert_eq!(err(&mut c, &["LMOVE", "dst", "x", "UP", "LEFT"]), "ERR syntax error");
    raw_reply(&srv, &["LMOVE", "nokey", "x", "LEFT", "LEFT"], "$-1\r\n");

    val(&mut c, &["RPUSH", "m", "1", "2", "3", "4"]);
    assert_eq!(
        val(&mut c, &["LMPOP", "2", "nokey", "m", "LEFT", "COUNT", "3"]),
        Value::Array(vec![b("m"), arr(&["1", "2", "3"])])
    );
    assert_eq!(val(&mut c, &["LMPOP", "1", "m", "RIGHT", "COUNT", "10"]), Value::Array(vec![b("m"), arr(&["4"])]));
    assert_eq!(val(&mut c, &["LMPOP", "2", "m", "nokey", "RIGHT"]), Value::Nil);
    raw_reply(&srv, &["LMPOP", "1", "nokey", "LEFT"], "*-1\r\n");
    assert_eq!(err(&mut c, &["LMPOP", "0", "m", "LEFT"]), "ERR numkeys should be greater than 0");
    assert_eq!(err(&mut c, &["LMPOP", "x", "m", "LEFT"]), "ERR numkeys should be greater than 0");
    assert_eq!(err(&mut c, &["LMPOP", "5", "m", "LEFT"]), "ERR syntax error");
    assert_eq!(err(&mut c, &["LMPOP", "1", "m", "MIDDLE"]), "ERR syntax error");
    assert_eq!(err(&mut c, &["LMPOP", "1", "m", "LEFT", "COUNT", "0"]), "ERR count should be greater than 0");
    assert_eq!(err(&mut c, &["LMPOP", "1", "m", "LEFT", "COUNT", "-1"]), "ERR count should be greater than 0");
    assert_eq!(err(&mut c, &["LMPOP", "1", "m", "LEFT", "COUNT"]), "ERR syntax error");
    assert_eq!(err(&mut c, &["LMPOP", "1", "m", "LEFT", "COUNT", "1", "COUNT", "2"]), "ERR syntax error");
    Ok(())
}

#[test]
fn wrong_type_everywhere() -> TestResult {
    let srv = TestServer::start();
    let mut c = srv.client();
    val(&mut c, &["SET", "s", "v"]);
    val(&mut c, &["RPUSH", "l", "a"]);
    let cases: &[&[&str]] = &[
        &["LPUSH", "s", "a"],
        &["RPUSH", "s", "a"],
        &["LPUSHX", "s", "a"],
        &["RPUSHX", "s", "a"],
        &["LPOP", "s"],
        &["RPOP", "s", "0"],
        &["LLEN", "s"],
        &["LINDEX", "s", "0"],
        &["LSET", "s", "0", "a"],
        &["LRANGE", "s", "0", "-1"],
        &["LINSERT", "s", "BEFORE", "a", "b"],
        &["LREM", "s", "0", "a"],
        &["LTRIM", "s", "0", "1"],
        &["LPOS", "s", "a"],
        &["LMOVE", "s", "l", "LEFT", "LEFT"],
        &["LMOVE", "l", "s", "LEFT", "LEFT"],
        &["RPOPLPUSH", "l", "s"],
        &["LMPOP", "2", "nokey", "s", "LEFT"],
        &["BLPOP", "nokey", "s", "0"],
        &["BRPOP", "s", "0"],
        &["BLMPOP", "0", "1", "s", "LEFT"],
        &["BLMOVE", "s", "l", "LEFT", "LEFT", "0"],
        &["BRPOPLPUSH", "l", "s", "0"],
    ];
    for args in cases {
        assert_eq!(err(&mut c, args), WRONGTYPE, "{args:?}");
    }
    // Nothing was changed by the failed moves.
    assert_eq!(val(&mut c, &["LRANGE", "l", "0", "-1"]), arr(&["a"]));
    // A missing source is checked before the destination's type.
    assert_eq!(val(&mut c, &["LMOVE", "nokey", "s", "LEFT", "LEFT"]), Value::Nil);
    Ok(())
}

#[test]
fn blocking_forms_with_data_and_argument_errors() -> TestResult {
    let srv = TestServer::start();
    let mut c = srv.client();
    val(&mut c, &["RPUSH", "l", "a", "b", "c", "d"]);
    assert_eq!(val(&mut c, &["BLPOP", "nokey", "l", "0"]), arr(&["l", "a"]));
    assert_eq!(val(&mut c, &["BRPOP", "l", "nokey", "0"]), arr(&["l", "d"]));
    assert_eq!(val(&mut c, &["BLMOVE", "l", "d", "RIGHT", "LEFT", "0"]), b("c"));
    assert_eq!(val(&mut c, &["BRPOPLPUSH", "d", "l", "0"]), b("c"));
    assert_eq!(
        val(&mut c, &["BLMPOP", "0", "2", "nokey", "l", "LEFT", "COUNT", "5"]),
        Value::Array(vec![b("l"), arr(&["c", "b"])])
    );
    assert_eq!(err(&mut c, &["BLPOP", "l", "-1"]), "ERR timeout is negative");
    assert_eq!(err(&mut c, &["BLPOP", "l", "x"]), "ERR timeout is not a float or out of range");
    assert_eq!(err(&mut c, &["BLMPOP", "x", "1", "l", "LEFT"]), "ERR timeout is not a float or out of range");
    assert_eq!(err(&mut c, &["BLMPOP", "0", "0", "l", "LEFT"]), "ERR numkeys should be greater than 0");
    assert_eq!(err(&mut c, &["BLMOVE", "l", "d", "LEFTX", "LEFT", "0"]), "ERR syntax error");
    assert_eq!(err(&mut c, &["BLPOP", "l"]), "ERR wrong number of arguments for 'blpop' command");
    Ok(())
}

#[test]
fn blpop_is_served_by_a_later_push_from_another_client() -> TestResult {
    let srv = TestServer::start();
    let waiter = park(&srv, "m:1", &["BLPOP", "q1", "q2", "0"]);
    let mut c = srv.client();
    // The push's reply counts the element the waiter then takes.
    assert_eq!(val(&mut c, &["RPUSH", "q2", "x", "y"]), Value::Int(2));
    assert_eq!(waiter.join().unwrap(), arr(&["q2", "x"]));
    assert_eq!(val(&mut c, &["LRANGE", "q2", "0", "-1"]), arr(&["y"]));

    // BRPOP takes from the tail; BLMPOP takes up to its count.
    let waiter = park(&srv, "m:2", &["BRPOP", "q3", "0"]);
    val(&mut c, &["LPUSH", "q3", "a", "b", "c"]);
    assert_eq!(waiter.join().unwrap(), arr(&["q3", "a"]));
    val(&mut c, &["DEL", "q3"]);
    let waiter = park(&srv, "m:3", &["BLMPOP", "0", "2", "q4", "q3", "RIGHT", "COUNT", "2"]);
    val(&mut c, &["RPUSH", "q3", "a", "b", "c"]);
    assert_eq!(waiter.join().unwrap(), Value::Array(vec![b("q3"), arr(&["c", "b"])]));

    Ok(())
}

#[test]
fn waiters_are_served_first_come_first_served() -> TestResult {
    let srv = TestServer::start();
    let w1 = park(&srv, "m:1", &["BLPOP", "q", "0"]);
    let w2 = park(&srv, "m:2", &["BLPOP", "other", "q", "0"]);
    let w3 = park(&srv, "m:3", &["BRPOP", "q", "0"]);
    let mut c = srv.client();
    val(&mut c, &["RPUSH", "q", "a"]);
    assert_eq!(w1.join().unwrap(), arr(&["q", "a"]));
    val(&mut c, &["RPUSH", "q", "b", "c"]);
    assert_eq!(w2.join().unwrap(), arr(&["q", "b"]));
    assert_eq!(w3.join().unwrap(), arr(&["q", "c"]));
    assert_eq!(val(&mut c, &["LLEN", "q"]), Value::Int(0));
    Ok(())
}

#[test]
fn timeouts_answer_nil_after_the_timeout() -> TestResult {
    let srv = TestServer::start();
    let cases: &[(&[&str], &str)] = &[
        (&["BLPOP", "q", "0.2"], "*-1\r\n"),
        (&["BRPOP", "q", "q2", "0.2"], "*-1\r\n"),
        (&["BLMPOP", "0.2", "1", "q", "LEFT"], "*-1\r\n"),
        // Redis 7.0 answers these with a null array too.
        (&["BLMOVE", "q", "d", "LEFT", "LEFT", "0.2"], "*-1\r\n"),
        (&["BRPOPLPUSH", "q", "d", "0.2"], "*-1\r\n"),
    ];
    for (args, expected) in cases {
        let start = Instant::now();
        raw_reply(&srv, args, expected);
        assert!(start.elapsed() >= Duration::from_millis(200), "{args:?} answered early");
    }
    // A client can run more commands after a timeout.
    let mut c = srv.client();
    let start = Instant::now();
    assert_eq!(val(&mut c, &["BLPOP", "q", "0.1"]), Value::Nil);
    assert!(start.elapsed() >= Duration::from_millis(100));
    assert_eq!(val(&mut c, &["RPUSH", "q", "a"]), Value::Int(1));
    Ok(())
}

#[test]
fn blmove_chain() -> TestResult {
    let srv = TestServer::start();
    let a = park(&srv, "m:1", &["BLMOVE", "q1", "q2", "LEFT", "RIGHT", "0"]);
    let b2 = park(&srv, "m:2", &["BLMOVE", "q2", "q3", "RIGHT", "LEFT", "0"]);
    let c3 = park(&srv, "m:3", &["BRPOPLPUSH", "q3", "q4", "0"]);
    let d4 = park(&srv, "m:4", &["BLPOP", "q4", "0"]);
    let mut c = srv.client();
    assert_eq!(val(&mut c, &["RPUSH", "q1", "x", "y"]), Value::Int(2));
    assert_eq!(a.join().unwrap(), b("x"));
    assert_eq!(b2.join().unwrap(), b("x"));
    assert_eq!(c3.join().unwrap(), b("x"));
    assert_eq!(d4.join().unwrap(), arr(&["q4", "x"]));
    assert_eq!(val(&mut c, &["LRANGE", "q1", "0", "-1"]), arr(&["y"]));
    for k in ["q2", "q3", "q4"] {
        assert_eq!(val(&mut c, &["LLEN", k]), Value::Int(0), "{k}");
    }
    Ok(())
}

#[test]
fn a_blocked_client_that_disconnects_is_removed_and_eats_nothing() -> TestResult {
    let srv = TestServer::start();
    let mut c = srv.client();
    // Half-close: the server sees end of input, drops the wait and closes
    // (the marker's reply came before the wait, as in Redis).
    let mut gone = park_raw(&srv, "m:1", &["BLPOP", "q", "0"]);
    gone.0.shutdown(Shutdown::Write)?;
    assert_eq!(gone.read_to_close(), b"");
    assert_eq!(val(&mut c, &["RPUSH", "q", "a"]), Value::Int(1));
    assert_eq!(val(&mut c, &["LRANGE", "q", "0", "-1"]), arr(&["a"]));
    val(&mut c, &["DEL", "q"]);

    // Full close, then a push: whether the server notices the close before
    // the push or fails to deliver the element, the element stays in the
    // list and the next waiter gets it.
    let gone = park_raw(&srv, "m:2", &["BLPOP", "q", "0"]);
    drop(gone);
    assert_eq!(val(&mut c, &["RPUSH", "q", "b"]), Value::Int(1));
    wait_until("the element to come back", || val(&mut c, &["LLEN", "q"]) == Value::Int(1));
    let next = park(&srv, "m:3", &["BLPOP", "q", "0"]);
    assert_eq!(next.join().unwrap(), arr(&["q", "b"]));
    Ok(())
}

/// The element of a raw `[key, element]` reply, if that is what `bytes` is.
fn raw_element(bytes: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(bytes);
    let parts: Vec<&str> = text.split("\r\n").collect();
    (parts.first() == Some(&"*2")).then(|| parts[4].to_string())
}

#[test]
fn stress_no_element_is_lost_or_duplicated() -> TestResult {
    const QUEUES: [&str; 3] = ["sq0", "sq1", "sq2"];
    const PRODUCERS: usize = 4;
    const PER_PRODUCER: usize = 150;
    const CONSUMERS: usize = 4;
    let srv = Arc::new(TestServer::start());
    let producing = Arc::new(AtomicBool::new(true));

    let consumers: Vec<JoinHandle<Vec<String>>> = (0..CONSUMERS)
        .map(|i| {
            let srv = srv.clone();
            let producing = producing.clone();
            std::thread::spawn(move || {
                let mut rng = Rng(0x9E37_79B9 + i as u64 * 7919);
                let mut c = srv.client();
                let mut got = Vec::new();
                loop {
                    let timeout = format!("0.0{}", 2 + rng.below(8));
                    let q = QUEUES[rng.below(QUEUES.len())];
                    let q2 = QUEUES[rng.below(QUEUES.len())];
                    let empty = match rng.below(5) {
                        0 => match val(&mut c, &["BLPOP", q, q2, &timeout]) {
                            Value::Array(v) => {
                                got.push(String::from_utf8(redis::from_redis_value(v[1].clone()).unwrap()).unwrap());
                                false
                            }
                            _ => true,
                        },
                        1 => match val(&mut c, &["BLMPOP", &timeout, "2", q, q2, "RIGHT", "COUNT", "3"]) {
                            Value::Array(v) => {
                                let items: Vec<String> = redis::from_redis_value(v[1].clone()).unwrap();
                                got.extend(items);
                                false
                            }
                            _ => true,
                        },
                        // Moves keep elements in the system.
                        2 => val(&mut c, &["BLMOVE", q, q2, "LEFT", "RIGHT", &timeout]) == Value::Nil,
                        3 => match val(&mut c, &["BRPOP", q, &timeout]) {
                            Value::Array(v) => {
                                got.push(String::from_utf8(redis::from_redis_value(v[1].clone()).unwrap()).unwrap());
                                false
                            }
                            _ => true,
                        },
                        _ => {
                            // Wait forever, then hang up (half-close) and
                            // take whatever was delivered before the server
                            // noticed.
                            let mut raw = srv.raw();
                            raw.send(&wire(&["BLPOP", q, "0"]));
                            for _ in 0..rng.below(50) {
                                std::thread::yield_now();
                            }
                            raw.0.shutdown(Shutdown::Write).unwrap();
                            let reply = raw.read_to_close();
                            match raw_element(&reply) {
                                Some(e) => {
                                    got.push(e);
                                    false
                                }
                                None => true,
                            }
                        }
                    };
                    if empty && !producing.load(Ordering::SeqCst) {
                        return got;
                    }
                }
            })
        })
        .collect();

    let producers: Vec<JoinHandle<Vec<String>>> = (0..PRODUCERS)
        .map(|p| {
            let srv = srv.clone();
            std::thread::spawn(move || {
                let mut rng = Rng(0xC0FFEE + p as u64 * 104_729);
                let mut c = srv.client();
                let mut pushed = Vec::new();
                let mut n = 0;
                while n < PER_PRODUCER {
                    let q = QUEUES[rng.below(QUEUES.len())];
                    let batch = 1 + rng.below(3);
                    let items: Vec<String> = (n..(n + batch).min(PER_PRODUCER)).map(|i| format!("p{p}-{i}")).collect();
                    n += items.len();
                    let mut args = vec![if rng.below(2) == 0 { "LPUSH" } else { "RPUSH" }, q];
                    args.extend(items.iter().map(String::as_str));
                    assert!(matches!(val(&mut c, &args), Value::Int(_)));
                    pushed.extend(items);
                }
                pushed
            })
        })
        .collect();

    let mut pushed: Vec<String> = producers.into_iter().flat_map(|h| h.join().unwrap()).collect();
    producing.store(false, Ordering::SeqCst);
    let mut accounted: Vec<String> = consumers.into_iter().flat_map(|h| h.join().unwrap()).collect();
    let delivered = accounted.len();
    let mut c = srv.client();
    for q in QUEUES {
        let rest: Vec<String> = redis::cmd("LRANGE").arg(q).arg(0).arg(-1).query(&mut c)?;
        accounted.extend(rest);
    }
    pushed.sort();
    accounted.sort();
    assert_eq!(pushed.len(), PRODUCERS * PER_PRODUCER);
    assert!(delivered > 0, "consumers received nothing");
    let missing: Vec<&String> = pushed.iter().filter(|p| accounted.binary_search(p).is_err()).collect();
    let mut extra = accounted.clone();
    for p in &pushed {
        if let Ok(i) = extra.binary_search(p) {
            extra.remove(i);
        }
    }
    assert!(missing.is_empty() && extra.is_empty(), "lost {missing:?}, duplicated or unknown {extra:?}");
    Ok(())
}

// ---- Model-based property test ----

/// A reply, as the model and the server both express it.
#[derive(Debug, Clone, PartialEq)]
enum R {
    Int(i64),
    Bulk(String),
    Nil,
    Arr(Vec<R>),
    Ok,
    Err(String),
}

fn from_server(v: Value) -> R {
    match v {
        Value::Nil => R::Nil,
        Value::Int(n) => R::Int(n),
        Value::BulkString(b) => R::Bulk(String::from_utf8(b).unwrap()),
        Value::Array(items) => R::Arr(items.into_iter().map(from_server).collect()),
        Value::Okay => R::Ok,
        Value::SimpleString(s) if s == "OK" => R::Ok,
        Value::ServerError(e) => R::Err(format!("{} {}", e.code(), e.details().unwrap_or(""))),
        other => panic!("unexpected reply {other:?}"),
    }
}

const KEYS: [&str; 4] = ["a", "b", "c", "s"];
const VALS: [&str; 3] = ["x", "y", "z"];

#[derive(Debug, Clone)]
enum Op {
    Push { key: usize, left: bool, only_existing: bool, items: Vec<usize> },
    Pop { key: usize, left: bool, count: Option<i64> },
    Len(usize),
    Index(usize, i64),
    Set(usize, i64, usize),
    Range(usize, i64, i64),
    Insert(usize, bool, usize, usize),
    Rem(usize, i64, usize),
    Trim(usize, i64, i64),
    Pos { key: usize, v: usize, rank: i64, count: Option<i64>, maxlen: i64 },
    Move(usize, usize, bool, bool),
    Mpop(Vec<usize>, bool, i64),
}

fn op_strategy() -> impl Strategy<Value = Op> {
    let key = 0..KEYS.len();
    let v = 0..VALS.len();
    prop_oneof![
        3 => (key.clone(), any::<bool>(), prop::bool::weighted(0.2), prop::collection::vec(v.clone(), 1..4))
            .prop_map(|(key, left, only_existing, items)| Op::Push { key, left, only_existing, items }),
        2 => (key.clone(), any::<bool>(), prop::option::of(-1i64..4)).prop_map(|(key, left, count)| Op::Pop { key, left, count }),
        1 => key.clone().prop_map(Op::Len),
        1 => (key.clone(), -5i64..5).prop_map(|(k, i)| Op::Index(k, i)),
        1 => (key.clone(), -5i64..5, v.clone()).prop_map(|(k, i, v)| Op::Set(k, i, v)),
        1 => (key.clone(), -6i64..6, -6i64..6).prop_map(|(k, s, e)| Op::Range(k, s, e)),
        1 => (key.clone(), any::<bool>(), v.clone(), v.clone()).prop_map(|(k, a, p, v)| Op::Insert(k, a, p, v)),
        1 => (key.clone(), -3i64..3, v.clone()).prop_map(|(k, n, v)| Op::Rem(k, n, v)),
        1 => (key.clone(), -6i64..6, -6i64..6).prop_map(|(k, s, e)| Op::Trim(k, s, e)),
        1 => (key.clone(), v.clone(), -3i64..4, prop::option::of(0i64..3), 0i64..5)
            .prop_map(|(key, v, rank, count, maxlen)| Op::Pos { key, v, rank, count, maxlen }),
        2 => (key.clone(), key.clone(), any::<bool>(), any::<bool>()).prop_map(|(s, d, f, t)| Op::Move(s, d, f, t)),
        1 => (prop::collection::vec(key, 1..3), any::<bool>(), 1i64..4).prop_map(|(k, l, n)| Op::Mpop(k, l, n)),
    ]
}

fn side(left: bool) -> &'static str {
    if left { "LEFT" } else { "RIGHT" }
}

impl Op {
    fn args(&self) -> Vec<String> {
        let s = |x: &str| x.to_string();
        match self {
            Op::Push { key, left, only_existing, items } => {
                let name = match (left, only_existing) {
                    (true, false) => "LPUSH",
                    (false, false) => "RPUSH",
                    (true, true) => "LPUSHX",
                    (false, true) => "RPUSHX",
                };
                let mut a = vec![s(name), s(KEYS[*key])];
                a.extend(items.iter().map(|&i| s(VALS[i])));
                a
            }
            Op::Pop { key, left, count } => {
                let mut a = vec![s(if *left { "LPOP" } else { "RPOP" }), s(KEYS[*key])];
                a.extend(count.map(|n| n.to_string()));
                a
            }
            Op::Len(k) => vec![s("LLEN"), s(KEYS[*k])],
            Op::Index(k, i) => vec![s("LINDEX"), s(KEYS[*k]), i.to_string()],
            Op::Set(k, i, v) => vec![s("LSET"), s(KEYS[*k]), i.to_string(), s(VALS[*v])],
            Op::Range(k, a, b) => vec![s("LRANGE"), s(KEYS[*k]), a.to_string(), b.to_string()],
            Op::Insert(k, after, p, v) => {
                vec![s("LINSERT"), s(KEYS[*k]), s(if *after { "AFTER" } else { "BEFORE" }), s(VALS[*p]), s(VALS[*v])]
            }
            Op::Rem(k, n, v) => vec![s("LREM"), s(KEYS[*k]), n.to_string(), s(VALS[*v])],
            Op::Trim(k, a, b) => vec![s("LTRIM"), s(KEYS[*k]), a.to_string(), b.to_string()],
            Op::Pos { key, v, rank, count, maxlen } => {
                let mut a = vec![s("LPOS"), s(KEYS[*key]), s(VALS[*v]), s("RANK"), rank.to_string()];
                if let Some(c) = count {
                    a.extend([s("COUNT"), c.to_string()]);
                }
                a.extend([s("MAXLEN"), maxlen.to_string()]);
                a
            }
            Op::Move(src, dst, from, to) => {
                vec![s("LMOVE"), s(KEYS[*src]), s(KEYS[*dst]), s(side(*from)), s(side(*to))]
            }
            Op::Mpop(keys, left, count) => {
                let mut a = vec![s("LMPOP"), keys.len().to_string()];
                a.extend(keys.iter().map(|&k| s(KEYS[k])));
                a.extend([s(side(*left)), s("COUNT"), count.to_string()]);
                a
            }
        }
    }
}

/// The model: lists by key, plus `s` holding a string.
#[derive(Default)]
struct Model {
    lists: HashMap<usize, VecDeque<String>>,
}

const STRING_KEY: usize = 3;

fn wrongtype() -> R {
    R::Err(WRONGTYPE.to_string())
}

fn bulk(s: &str) -> R {
    R::Bulk(s.to_string())
}

fn norm(len: usize, i: i64) -> Option<usize> {
    let i = if i < 0 { len as i64 + i } else { i };
    (0..len as i64).contains(&i).then_some(i as usize)
}

fn span(len: usize, s: i64, e: i64) -> Option<(usize, usize)> {
    let len = len as i64;
    let s = if s < 0 { len + s } else { s }.max(0);
    let e = if e < 0 { len + e } else { e };
    if s > e || s >= len {
        return None;
    }
    Some((s as usize, e.min(len - 1) as usize + 1))
}

impl Model {
    /// The list at `k`, `Err` for the string key; `None` if absent.
    fn get(&mut self, k: usize) -> Result<Option<&mut VecDeque<String>>, R> {
        if k == STRING_KEY {
            return Err(wrongtype());
        }
        Ok(self.lists.get_mut(&k))
    }

    fn cleanup(&mut self) {
        self.lists.retain(|_, l| !l.is_empty());
    }

    fn apply(&mut self, op: &Op) -> R {
        let r = self.run(op).unwrap_or_else(|e| e);
        self.cleanup();
        r
    }

    fn run(&mut self, op: &Op) -> Result<R, R> {
        Ok(match op {
            Op::Push { key, left, only_existing, items } => {
                let exists = self.get(*key)?.is_some();
                if *only_existing && !exists {
                    return Ok(R::Int(0));
                }
                let l = self.lists.entry(*key).or_default();
                for &i in items {
                    if *left {
                        l.push_front(VALS[i].to_string());
                    } else {
                        l.push_back(VALS[i].to_string());
                    }
                }
                R::Int(l.len() as i64)
            }
            Op::Pop { key, left, count } => {
                if count.is_some_and(|n| n < 0) {
                    return Err(R::Err("ERR value is out of range, must be positive".into()));
                }
                // A null bulk or a null array: both read as nil.
                let Some(l) = self.get(*key)? else { return Ok(R::Nil) };
                let n = count.unwrap_or(1) as usize;
                let mut out = Vec::new();
                for _ in 0..n {
                    match if *left { l.pop_front() } else { l.pop_back() } {
                        Some(v) => out.push(R::Bulk(v)),
                        None => break,
                    }
                }
                if count.is_some() { R::Arr(out) } else { out.pop().unwrap_or(R::Nil) }
            }
            Op::Len(k) => R::Int(self.get(*k)?.map_or(0, |l| l.len()) as i64),
            Op::Index(k, i) => match self.get(*k)? {
                None => R::Nil,
                Some(l) => norm(l.len(), *i).map_or(R::Nil, |i| R::Bulk(l[i].clone())),
            },
            Op::Set(k, i, v) => {
                let l = self.get(*k)?.ok_or(R::Err("ERR no such key".into()))?;
                let i = norm(l.len(), *i).ok_or(R::Err("ERR index out of range".into()))?;
                l[i] = VALS[*v].to_string();
                R::Ok
            }
            Op::Range(k, s, e) => match self.get(*k)? {
                None => R::Arr(vec![]),
                Some(l) => match span(l.len(), *s, *e) {
                    None => R::Arr(vec![]),
                    Some((s, e)) => R::Arr(l.range(s..e).map(|v| R::Bulk(v.clone())).collect()),
                },
            },
            Op::Insert(k, after, p, v) => match self.get(*k)? {
                None => R::Int(0),
                Some(l) => match l.iter().position(|x| x == VALS[*p]) {
                    None => R::Int(-1),
                    Some(i) => {
                        l.insert(i + *after as usize, VALS[*v].to_string());
                        R::Int(l.len() as i64)
                    }
                },
            },
            Op::Rem(k, n, v) => match self.get(*k)? {
                None => R::Int(0),
                Some(l) => {
                    let limit = if *n == 0 { usize::MAX } else { n.unsigned_abs() as usize };
                    let mut removed = 0;
                    let mut out: VecDeque<String> = VecDeque::new();
                    let items: Vec<String> = if *n >= 0 { l.drain(..).collect() } else { l.drain(..).rev().collect() };
                    for x in items {
                        if x == VALS[*v] && removed < limit {
                            removed += 1;
                        } else if *n >= 0 {
                            out.push_back(x);
                        } else {
                            out.push_front(x);
                        }
                    }
                    *l = out;
                    R::Int(removed as i64)
                }
            },
            Op::Trim(k, s, e) => {
                if let Some(l) = self.get(*k)? {
                    match span(l.len(), *s, *e) {
                        None => l.clear(),
                        Some((s, e)) => *l = l.range(s..e).cloned().collect(),
                    }
                }
                R::Ok
            }
            Op::Pos { key, v, rank, count, maxlen } => {
                if *rank == 0 {
                    return Err(R::Err("ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list".into()));
                }
                let Some(l) = self.get(*key)? else {
                    return Ok(if count.is_some() { R::Arr(vec![]) } else { R::Nil });
                };
                let idx: Vec<usize> = if *rank > 0 { (0..l.len()).collect() } else { (0..l.len()).rev().collect() };
                let scan = if *maxlen == 0 { idx.len() } else { (*maxlen as usize).min(idx.len()) };
                let matches: Vec<usize> = idx[..scan]
                    .iter()
                    .copied()
                    .filter(|&i| l[i] == VALS[*v])
                    .skip(rank.unsigned_abs() as usize - 1)
                    .collect();
                match count {
                    None => matches.first().map_or(R::Nil, |&i| R::Int(i as i64)),
                    Some(c) => {
                        let c = if *c == 0 { usize::MAX } else { *c as usize };
                        R::Arr(matches.into_iter().take(c).map(|i| R::Int(i as i64)).collect())
                    }
                }
            }
            Op::Move(src, dst, from, to) => {
                let Some(l) = self.get(*src)? else { return Ok(R::Nil) };
                let _ = l;
                self.get(*dst)?;
                let l = self.lists.get_mut(src).unwrap();
                let v = if *from { l.pop_front() } else { l.pop_back() }.unwrap();
                let d = self.lists.entry(*dst).or_default();
                if *to {
                    d.push_front(v.clone());
                } else {
                    d.push_back(v.clone());
                }
                R::Bulk(v)
            }
            Op::Mpop(keys, left, count) => {
                for &k in keys {
                    if let Some(l) = self.get(k)? {
                        let mut out = Vec::new();
                        for _ in 0..*count {
                            match if *left { l.pop_front() } else { l.pop_back() } {
                                Some(v) => out.push(R::Bulk(v)),
                                None => break,
                            }
                        }
                        return Ok(R::Arr(vec![bulk(KEYS[k]), R::Arr(out)]));
                    }
                }
                R::Nil
            }
        })
    }
}

#[test]
fn random_command_sequences_match_a_model() {
    let srv = TestServer::start();
    let conn = std::cell::RefCell::new(srv.client());
    let mut runner = TestRunner::new(PropConfig { cases: 48, failure_persistence: None, ..PropConfig::default() });
    runner
        .run(&prop::collection::vec(op_strategy(), 1..40), |ops| {
            let mut c = conn.borrow_mut();
            val(&mut c, &["DEL", "a", "b", "c", "s"]);
            val(&mut c, &["SET", "s", "str"]);
            let mut model = Model::default();
            for op in &ops {
                let args = op.args();
                let argv: Vec<&str> = args.iter().map(String::as_str).collect();
                let got = from_server(val(&mut c, &argv));
                let want = model.apply(op);
                prop_assert_eq!(&got, &want, "{:?}", argv);
            }
            for (k, name) in KEYS.iter().enumerate().take(3) {
                let got = from_server(val(&mut c, &["LRANGE", name, "0", "-1"]));
                let want = R::Arr(model.lists.get(&k).map_or(vec![], |l| l.iter().map(|v| bulk(v)).collect()));
                prop_assert_eq!(got, want);
            }
            Ok(())
        })
        .unwrap();
}

/// A list long enough to span many packed chunks, with elements on both
/// sides of the large-element threshold: every command agrees with a model,
/// and the list survives a snapshot plus a log replay.
#[test]
fn long_lists_with_large_elements_match_a_model_and_survive_restarts() {
    let mut srv = TestServer::start();
    let mut c = srv.client();
    let mut rng = crate::common::Rng(7);
    let mut model: VecDeque<Vec<u8>> = VecDeque::new();
    let sizes = [0, 3, 127, 128, 500, 1024, 1025, 5000];
    let mut serial = 0usize;
    let mut elem = |rng: &mut crate::common::Rng| {
        serial += 1;
        let len = sizes[rng.below(sizes.len())];
        let mut v = format!("{serial}-").into_bytes().repeat(len / 3 + 1);
        v.truncate(len);
        v
    };
    let check = |c: &mut redis::Connection, model: &VecDeque<Vec<u8>>| {
        let got: Vec<Vec<u8>> = redis::cmd("LRANGE").arg("l").arg(0).arg(-1).query(c).unwrap();
        assert_eq!(got.len(), model.len());
        assert!(got.iter().eq(model.iter()), "contents differ");
        let rev: Vec<Vec<u8>> = redis::cmd("LRANGE").arg("l").arg(-300).arg(-1).query(c).unwrap();
        assert!(rev.iter().eq(model.iter().skip(model.len().saturating_sub(300))));
    };
    for round in 0..3 {
        for _ in 0..40 {
            match rng.below(7) {
                0 | 1 => {
                    let items: Vec<Vec<u8>> = (0..rng.below(400) + 1).map(|_| elem(&mut rng)).collect();
                    let left = rng.below(2) == 0;
                    let n: usize =
                        redis::cmd(if left { "LPUSH" } else { "RPUSH" }).arg("l").arg(&items).query(&mut c).unwrap();
                    for it in items {
                        if left { model.push_front(it) } else { model.push_back(it) }
                    }
                    assert_eq!(n, model.len());
                }
                2 if !model.is_empty() => {
                    let i = rng.below(model.len());
                    let v = elem(&mut rng);
                    let () = redis::cmd("LSET").arg("l").arg(i).arg(&v).query(&mut c).unwrap();
                    model[i] = v;
                }
                3 if !model.is_empty() => {
                    let pivot = model[rng.below(model.len())].clone();
                    let pos = model.iter().position(|x| *x == pivot).unwrap();
                    let v = elem(&mut rng);
                    let after = rng.below(2) == 0;
                    let n: usize = redis::cmd("LINSERT")
                        .arg("l")
                        .arg(if after { "AFTER" } else { "BEFORE" })
                        .arg(&pivot)
                        .arg(&v)
                        .query(&mut c)
                        .unwrap();
                    model.insert(pos + after as usize, v);
                    assert_eq!(n, model.len());
                }
                4 if !model.is_empty() => {
                    let v = model[rng.below(model.len())].clone();
                    let n: usize = redis::cmd("LREM").arg("l").arg(0).arg(&v).query(&mut c).unwrap();
                    let before = model.len();
                    model.retain(|x| *x != v);
                    assert_eq!(n, before - model.len());
                }
                5 if !model.is_empty() => {
                    let i = rng.below(model.len());
                    let got: Option<Vec<u8>> = redis::cmd("LINDEX").arg("l").arg(i).query(&mut c).unwrap();
                    assert_eq!(got.as_ref(), model.get(i));
                    let n = rng.below(50);
                    let left = rng.below(2) == 0;
                    let popped: Vec<Vec<u8>> =
                        redis::cmd(if left { "LPOP" } else { "RPOP" }).arg("l").arg(n).query(&mut c).unwrap();
                    for p in popped {
                        assert_eq!(Some(p), if left { model.pop_front() } else { model.pop_back() });
                    }
                }
                6 if model.len() > 1000 => {
                    let (s, e) = (rng.below(200), model.len() - rng.below(200) - 1);
                    let () = redis::cmd("LTRIM").arg("l").arg(s).arg(e).query(&mut c).unwrap();
                    model.truncate(e + 1);
                    model.drain(..s);
                }
                _ => {}
            }
        }
        check(&mut c, &model);
        if round == 1 {
            let () = redis::cmd("SAVE").query(&mut c).unwrap();
        }
        drop(c);
        srv.restart();
        c = srv.client();
        check(&mut c, &model);
    }
}

/// A parked client with more than 64 KiB of pipelined input behind its
/// blocking command that closes its socket is dropped, and its wait ends
/// (input was read ahead of a batch in flight only up to 64 KiB, so the
/// close was never seen: the client stayed connected and blocked).
#[test]
fn a_parked_client_with_much_input_queued_that_closes_is_dropped() {
    let srv = TestServer::start();
    let mut probe = srv.client();
    let info = |c: &mut redis::Connection| -> String { redis::cmd("INFO").arg("clients").query(c).unwrap() };
    let mut raw = srv.raw();
    let mut input = wire(&["BLPOP", "q", "0"]);
    input.extend(b"PING\r\n".repeat(70_000 / 6));
    raw.send(&input);
    wait_blocked_clients(&mut probe, 1);
    drop(raw);
    wait_until("the client to be dropped", || {
        let i = info(&mut probe);
        i.contains("blocked_clients:0") && i.contains("connected_clients:1\r\n")
    });
}

/// What arrives on `raw` within `ms` milliseconds (one read).
fn read_for(raw: &mut Raw, ms: u64) -> String {
    use std::io::Read;
    raw.0.set_read_timeout(Some(Duration::from_millis(ms))).unwrap();
    let mut buf = vec![0; 4096];
    let n = raw.0.read(&mut buf).unwrap_or(0);
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

/// Waiters of two types on one key: a push serves the list waiter and
/// leaves the sorted-set waiter blocked, as in Redis (it was woken with a
/// `WRONGTYPE` error).
#[test]
fn a_push_leaves_a_sorted_set_waiter_on_the_key_blocked() {
    let srv = TestServer::start();
    let mut z = park_raw(&srv, "m:1", &["BZPOPMIN", "k", "0"]);
    let mut l = park_raw(&srv, "m:2", &["BLPOP", "k", "0"]);
    let mut c = srv.client();
    assert_eq!(val(&mut c, &["RPUSH", "k", "x"]), Value::Int(1));
    assert_eq!(read_for(&mut l, 5000), "*2\r\n$1\r\nk\r\n$1\r\nx\r\n");
    assert_eq!(read_for(&mut z, 300), "", "the BZPOPMIN waiter stays blocked");
}

/// A list waiter first in line does not keep a sorted-set waiter behind
/// it from a `ZADD` (it was served nothing, and the key's line stopped).
#[test]
fn a_list_waiter_first_in_line_does_not_starve_a_sorted_set_waiter() {
    let srv = TestServer::start();
    let mut l = park_raw(&srv, "m:1", &["BLPOP", "k", "0"]);
    let mut z = park_raw(&srv, "m:2", &["BZPOPMIN", "k", "0"]);
    let mut c = srv.client();
    assert_eq!(val(&mut c, &["ZADD", "k", "1", "m"]), Value::Int(1));
    assert_eq!(read_for(&mut z, 5000), "*3\r\n$1\r\nk\r\n$1\r\nm\r\n$1\r\n1\r\n");
    assert_eq!(read_for(&mut l, 300), "");
}

/// A waiter run for nothing (its key gained an element and lost it in the
/// same transaction) keeps its place on its other keys: it came after B
/// on k2, so B gets k2's element (it was put first in every line).
#[test]
fn a_waiter_run_for_nothing_keeps_its_place_on_its_other_keys() {
    let srv = TestServer::start();
    let mut b = park_raw(&srv, "m:1", &["BLPOP", "k2", "0"]);
    let mut a = park_raw(&srv, "m:2", &["BLPOP", "k1", "k2", "0"]);
    let mut c = srv.client();
    let (_, popped): (i64, String) =
        redis::pipe().atomic().cmd("RPUSH").arg("k1").arg("x").cmd("LPOP").arg("k1").query(&mut c).unwrap();
    assert_eq!(popped, "x");
    assert_eq!(val(&mut c, &["RPUSH", "k2", "y"]), Value::Int(1));
    assert_eq!(read_for(&mut b, 5000), "*2\r\n$2\r\nk2\r\n$1\r\ny\r\n", "B was first on k2");
    assert_eq!(read_for(&mut a, 300), "");
}

/// `CLIENT UNBLOCK` ends a blocking command as if it timed out, or with
/// Redis's `UNBLOCKED` error, and the rest of the client's pipeline runs.
#[test]
fn client_unblock_ends_a_wait() {
    let srv = TestServer::start();
    let mut admin = srv.client();
    let mut raw = srv.raw();
    raw.send(b"CLIENT ID\r\n");
    let id = raw.line().trim_start_matches(':').trim().to_string();
    assert_eq!(val(&mut admin, &["CLIENT", "UNBLOCK", &id]), redis::Value::Int(0), "not blocked yet");
    raw.send(b"BLPOP q 0\r\nPING\r\n");
    wait_blocked_clients(&mut admin, 1);
    let list: String = redis::cmd("CLIENT").arg("LIST").arg("ID").arg(&id).query(&mut admin).unwrap();
    assert!(list.contains(" flags=bU "), "{list}");
    assert_eq!(val(&mut admin, &["CLIENT", "UNBLOCK", &id]), redis::Value::Int(1));
    raw.expect(b"*-1\r\n+PONG\r\n");
    raw.send(b"BZPOPMIN z 0\r\n");
    wait_blocked_clients(&mut admin, 1);
    assert_eq!(
        err(&mut admin, &["CLIENT", "UNBLOCK", &id, "LATER"]),
        "ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR"
    );
    assert_eq!(val(&mut admin, &["CLIENT", "UNBLOCK", &id, "error"]), redis::Value::Int(1));
    raw.expect(b"-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n");
    wait_blocked_clients(&mut admin, 0);
    let errors: String = redis::cmd("INFO").arg("errorstats").query(&mut admin).unwrap();
    assert!(errors.contains("errorstat_UNBLOCKED:count=1"), "{errors}");
    // Ended without being served, each is still a call (as in Redis).
    let stats: String = redis::cmd("INFO").arg("commandstats").query(&mut admin).unwrap();
    assert!(stats.contains("cmdstat_blpop:calls=1,"), "{stats}");
    assert!(stats.contains("cmdstat_bzpopmin:calls=1,") && stats.contains("failed_calls=1"), "{stats}");
    // A push after the wait ended is not taken by the unblocked client.
    assert_eq!(val(&mut admin, &["RPUSH", "q", "a"]), redis::Value::Int(1));
    assert_eq!(err(&mut admin, &["CLIENT", "UNBLOCK", "x"]), "ERR value is not an integer or out of range");
    assert_eq!(val(&mut admin, &["CLIENT", "UNBLOCK", "999999"]), redis::Value::Int(0));
}

/// Found by review: an element a blocking pop handed to a client that had
/// not read its reply when `SHUTDOWN` came was lost (the broker had
/// stopped by the time the connection gave it back). The server now closes
/// such clients after its grace period and logs what they give back.
#[test]
fn an_element_handed_to_a_client_that_never_reads_survives_shutdown() {
    let mut srv = TestServer::start();
    let mut c = srv.client();
    let big = "x".repeat(900 * 1024);
    assert_eq!(val(&mut c, &["SET", "big", &big]), redis::Value::Okay);
    assert_eq!(val(&mut c, &["RPUSH", "q", "job1"]), redis::Value::Int(1));
    let mut consumer = srv.raw();
    // One batch: its reply (the value, then job1) is larger than the socket
    // takes, and the consumer never reads it.
    consumer.send(b"GET big\r\nBLPOP q 0\r\n");
    wait_until("the pop", || val(&mut c, &["LLEN", "q"]) == redis::Value::Int(0));
    drop(c);
    srv.restart();
    drop(consumer);
    let mut c = srv.client();
    let got: Vec<String> = redis::cmd("LRANGE").arg("q").arg(0).arg(-1).query(&mut c).unwrap();
    assert_eq!(got, ["job1"]);
}

/// Found by review: at shutdown, the reply to a command that ran ahead of
/// a blocking command in the same pipeline was lost (its write applied).
#[test]
fn shutdown_answers_what_a_waiting_pipeline_ran() {
    let mut srv = TestServer::start();
    let mut admin = srv.client();
    let mut raw = srv.raw();
    raw.send(b"SET a 1\r\nBLPOP q 0\r\n");
    wait_blocked_clients(&mut admin, 1);
    drop(admin);
    srv.restart();
    assert_eq!(raw.read_to_close(), b"+OK\r\n");
    let mut c = srv.client();
    assert_eq!(val(&mut c, &["GET", "a"]), redis::Value::BulkString(b"1".to_vec()));
}

/// Found by review: a client killed (`CLIENT KILL`) while its pipeline
/// waited in a blocking command lost the replies to the commands ahead of
/// it — an element its `LPOP` took reached nobody. Redis had sent them;
/// they are now written before the connection closes.
#[test]
fn a_client_killed_while_parked_gets_what_its_pipeline_ran_before() {
    let srv = TestServer::start();
    let mut admin = srv.client();
    assert_eq!(val(&mut admin, &["RPUSH", "q", "a", "b"]), redis::Value::Int(2));
    let mut waiter = srv.raw();
    waiter.send(b"CLIENT ID\r\n");
    let id = waiter.line().trim_start_matches(':').trim().to_string();
    waiter.send(b"LPOP q\r\nBLPOP q2 0\r\n");
    wait_blocked_clients(&mut admin, 1);
    assert_eq!(val(&mut admin, &["CLIENT", "KILL", "ID", &id]), redis::Value::Int(1));
    waiter.0.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    assert_eq!(waiter.read_to_close(), b"$1\r\na\r\n");
    let rest: Vec<String> = redis::cmd("LRANGE").arg("q").arg(0).arg(-1).query(&mut admin).unwrap();
    assert_eq!(rest, ["b"]);
    wait_blocked_clients(&mut admin, 0);
}

/// The replies to the commands pipelined ahead of a blocking command leave
/// before it waits, as Redis writes them (they were held until the wait
/// ended), and so do those ahead of a write held by `CLIENT PAUSE WRITE`.
#[test]
fn replies_ahead_of_a_wait_are_not_held_back() {
    let srv = TestServer::start();
    let mut c = srv.client();
    let mut raw = srv.raw();
    let mut input = wire(&["SET", "a", "1"]);
    input.extend(wire(&["BLPOP", "q", "0"]));
    input.extend(wire(&["GET", "a"]));
    raw.send(&input);
    raw.expect(b"+OK\r\n");
    wait_blocked_clients(&mut c, 1);
    assert_eq!(val(&mut c, &["RPUSH", "q", "x"]), Value::Int(1));
    raw.expect(b"*2\r\n$1\r\nq\r\n$1\r\nx\r\n$1\r\n1\r\n");

    assert_eq!(val(&mut c, &["CLIENT", "PAUSE", "10000", "WRITE"]), Value::Okay);
    let mut input = wire(&["GET", "a"]);
    input.extend(wire(&["SET", "a", "2"]));
    raw.send(&input);
    raw.expect(b"$1\r\n1\r\n");
    wait_blocked_clients(&mut c, 1);
    assert_eq!(val(&mut c, &["CLIENT", "UNPAUSE"]), Value::Okay);
    raw.expect(b"+OK\r\n");
}
