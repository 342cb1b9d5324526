//! The wire protocol, byte for byte: pipelining, fragmentation, inline
//! commands, RESP3, error replies, protocol errors and input limits.

use std::io::Write;
use std::net::Shutdown;

use crate::common::*;

fn bulk(b: &[u8]) -> Vec<u8> {
    let mut out = format!("${}\r\n", b.len()).into_bytes();
    out.extend_from_slice(b);
    out.extend_from_slice(b"\r\n");
    out
}

#[test]
fn ten_thousand_pipelined_commands_in_one_write() {
    let srv = TestServer::start();
    let mut raw = srv.raw();
    let mut input = Vec::new();
    let mut expected = Vec::new();
    for i in 0..5000 {
        let (k, v) = (format!("key:{i}"), format!("value-{i}"));
        input.extend(resp(&[b"SET", k.as_bytes(), v.as_bytes()]));
        expected.extend_from_slice(b"+OK\r\n");
        input.extend(resp(&[b"GET", k.as_bytes()]));
        expected.extend(bulk(v.as_bytes()));
    }
    // Write from another thread so a full socket buffer cannot deadlock the test.
    let mut writer = raw.0.try_clone().expect("clone socket");
    let t = std::thread::spawn(move || writer.write_all(&input).expect("write pipeline"));
    raw.expect(&expected);
    t.join().expect("writer");
    raw.send(b"DBSIZE\r\n");
    raw.expect(b":5000\r\n");
}

#[test]
fn pipelined_reads_of_large_values_are_answered_whole_and_in_order_then_half_closed() {
    // 40 replies of 300 KB: the server answers them in several batches
    // (a batch stops once its replies pass 1 MiB), in order, then the
    // commands after them, and all of it after the client half-closes.
    let srv = TestServer::start();
    let mut raw = srv.raw();
    let value: Vec<u8> = (0..300_000).map(|i| b'a' + (i % 26) as u8).collect();
    raw.send(&resp(&[b"SET", b"big", &value]));
    raw.expect(b"+OK\r\n");
    let mut input = Vec::new();
    let mut expected = Vec::new();
    for i in 0..40 {
        input.extend(resp(&[b"GET", b"big"]));
        expected.extend(bulk(&value));
        input.extend(resp(&[b"INCR", b"n"]));
        expected.extend(format!(":{}\r\n", i + 1).into_bytes());
    }
    input.extend(resp(&[b"STRLEN", b"big"]));
    expected.extend(b":300000\r\n");
    raw.send(&input);
    raw.0.shutdown(Shutdown::Write).expect("half-close");
    let got = raw.read_to_close();
    assert!(got == expected, "{} bytes read, {} expected", got.len(), expected.len());
}

#[test]
fn a_client_that_writes_its_whole_pipeline_before_reading_is_answered() {
    // As the `redis` crate's pipelines do: 200,000 GETs (4.4 MB) written
    // before any reply is read. The replies (3.4 MB) fill the socket long
    // before the requests are all sent, so the server must keep reading
    // while its replies wait (it used to stop, and both sides waited for
    // good: here the write would time out).
    let srv = TestServer::start();
    let mut raw = srv.raw();
    raw.send(&resp(&[b"SET", b"k", b"0123456789"]));
    raw.expect(b"+OK\r\n");
    raw.0.set_write_timeout(Some(std::time::Duration::from_secs(20))).expect("timeout");
    let n = 200_000;
    raw.0.write_all(&resp(&[b"GET", b"k"]).repeat(n)).expect("the server reads while its replies wait");
    let reply = bulk(b"0123456789");
    let got = raw.read_exact(reply.len() * n);
    assert!(got == reply.repeat(n), "the replies differ");
}

#[test]
fn a_command_split_at_every_byte_boundary() {
    let srv = TestServer::start();
    let mut raw = srv.raw();
    let cmd = resp(&[b"SET", b"split", b"hello world"]);
    for cut in 1..cmd.len() {
        raw.send(&cmd[..cut]);
        raw.0.flush().expect("flush");
        raw.send(&cmd[cut..]);
        raw.expect(b"+OK\r\n");
    }
    // One byte per write.
    let get = resp(&[b"GET", b"split"]);
    for b in &get {
        raw.send(std::slice::from_ref(b));
    }
    raw.expect(&bulk(b"hello world"));
    // Inline commands trickling in too.
    for b in b"ECHO \"a b\"\r\n" {
        raw.send(std::slice::from_ref(b));
    }
    raw.expect(&bulk(b"a b"));
}

#[test]
fn inline_commands_as_telnet_sends_them() {
    let srv = TestServer::start();
    let mut raw = srv.raw();
    raw.send(b"PING\r\n");
    raw.expect(b"+PONG\r\n");
    raw.send(b"SET a \"b c\"\r\n");
    raw.expect(b"+OK\r\n");
    raw.send(b"GET a\r\n");
    raw.expect(b"$3\r\nb c\r\n");
    // Bare newlines, empty lines, quotes and escapes.
    raw.send(b"\r\n\nECHO 'it''s'\n");
    raw.expect(b"-ERR Protocol error: unbalanced quotes in request\r\n");
    let rest = raw.read_to_close();
    assert!(rest.is_empty(), "{rest:?}");
    let mut raw = srv.raw();
    raw.send(b"ECHO \"tab\\there\" 'x'\r\n");
    raw.expect(b"-ERR wrong number of arguments for 'echo' command\r\n");
    raw.send(b"ECHO \"tab\\there\\x41\"\n");
    raw.expect(b"$9\r\ntab\thereA\r\n");
}

#[test]
fn resp3_replies_after_hello_3() {
    let srv = TestServer::start();
    let mut raw = srv.raw();
    raw.send(b"GET nothing\r\n");
    raw.expect(b"$-1\r\n");
    raw.send(b"HELLO 3\r\n");
    raw.expect(b"%7\r\n$6\r\nserver\r\n$11\r\nstatebroker\r\n$7\r\nversion\r\n$5\r\n7.0.0\r\n$5\r\nproto\r\n:3\r\n");
    raw.expect(b"$2\r\nid\r\n:");
    let mut id = Vec::new();
    loop {
        let b = raw.read_exact(1);
        if b == b"\r" {
            raw.expect(b"\n");
            break;
        }
        id.extend(b);
    }
    assert!(std::str::from_utf8(&id).unwrap().parse::<u64>().is_ok(), "{id:?}");
    raw.expect(b"$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*0\r\n");
    raw.send(b"GET nothing\r\n");
    raw.expect(b"_\r\n");
    raw.send(b"CONFIG GET databases\r\n");
    raw.expect(b"%1\r\n$9\r\ndatabases\r\n$2\r\n16\r\n");
    raw.send(b"INFO keyspace\r\n");
    raw.expect(b"=16\r\ntxt:# Keyspace\r\n\r\n");
    if statebroker::cmd::lookup(b"zscore").is_some() {
        raw.send(b"ZADD z 1.5 m\r\nZSCORE z m\r\n");
        raw.expect(b":1\r\n,1.5\r\n");
    }
    raw.send(b"HELLO 2\r\n");
    raw.expect(b"*14\r\n");
}

#[test]
fn error_replies_are_redis_strings() {
    let srv = TestServer::start();
    let mut raw = srv.raw();
    raw.send(&resp(&[b"FOO", b"a", b"b"]));
    raw.expect(b"-ERR unknown command 'FOO', with args beginning with: 'a' 'b' \r\n");
    raw.send(b"NOPE\r\n");
    raw.expect(b"-ERR unknown command 'NOPE', with args beginning with: \r\n");
    raw.send(&resp(&[b"GET"]));
    raw.expect(b"-ERR wrong number of arguments for 'get' command\r\n");
    raw.send(&resp(&[b"FLUSHDB", b"sometimes"]));
    raw.expect(b"-ERR syntax error\r\n");
    raw.send(&resp(&[b"SELECT", b"x"]));
    raw.expect(b"-ERR value is not an integer or out of range\r\n");
    raw.send(&resp(&[b"CLIENT", b"SETNAME"]));
    raw.expect(b"-ERR wrong number of arguments for 'client|setname' command\r\n");
    raw.send(&resp(&[b"CLIENT", b"x"]));
    raw.expect(b"-ERR unknown subcommand 'x'. Try CLIENT HELP.\r\n");
    // The connection is still fine after errors.
    raw.send(b"PING\r\n");
    raw.expect(b"+PONG\r\n");
}

#[test]
fn protocol_errors_close_only_that_connection() {
    let srv = TestServer::start();
    let mut other = srv.raw();
    other.send(b"SET survivor 1\r\n");
    other.expect(b"+OK\r\n");
    let cases: &[(&[u8], &[u8])] = &[
        (b"*abc\r\n", b"-ERR Protocol error: invalid multibulk length\r\n"),
        (b"*1\r\n$-5\r\n", b"-ERR Protocol error: invalid bulk length\r\n"),
        (b"*1\r\n$4\r\nPINGxx", b"-ERR Protocol error: expected CRLF after bulk argument\r\n"),
        (b"*1\r\n+PING\r\n", b"-ERR Protocol error: expected '$', got '+'\r\n"),
        // Commands before the error are answered first.
        (b"PING\r\n*x\r\n", b"+PONG\r\n-ERR Protocol error: invalid multibulk length\r\n"),
    ];
    for (input, reply) in cases {
        let mut raw = srv.raw();
        raw.send(input);
        assert_eq!(String::from_utf8_lossy(&raw.read_to_close()), String::from_utf8_lossy(reply));
        other.send(b"GET survivor\r\n");
        other.expect(b"$1\r\n1\r\n");
    }
}

#[test]
fn huge_declared_lengths_are_refused_up_front() {
    let srv = TestServer::start_with(|c| c.proto_max_bulk_len = 1024);
    // Nothing follows the headers: the refusal cannot wait for the payload.
    let mut raw = srv.raw();
    raw.send(b"*2147483648\r\n");
    raw.expect(b"-ERR Protocol error: invalid multibulk length\r\n");
    assert!(raw.read_to_close().is_empty());
    let mut raw = srv.raw();
    raw.send(b"*1\r\n$1025\r\n");
    raw.expect(b"-ERR Protocol error: invalid bulk length\r\n");
    assert!(raw.read_to_close().is_empty());
    let mut raw = srv.raw();
    raw.send(b"*2\r\n$4\r\nECHO\r\n$9223372036854775807\r\n");
    raw.expect(b"-ERR Protocol error: invalid bulk length\r\n");
    // At the limits, commands work; more than a million arguments too, as
    // in Redis (which refuses only counts beyond INT_MAX).
    let mut raw = srv.raw();
    let big = vec![b'x'; 1024];
    raw.send(&resp(&[b"ECHO", &big]));
    raw.expect(&bulk(&big));
    let mut many = b"*1048578\r\n$6\r\nEXISTS\r\n".to_vec();
    for _ in 0..1_048_577 {
        many.extend_from_slice(b"$1\r\nk\r\n");
    }
    raw.send(&many);
    raw.expect(b":0\r\n");
}

#[test]
fn the_query_buffer_limit_disconnects_the_client() {
    let srv = TestServer::start_with(|c| c.client_query_buffer_limit = 64 * 1024);
    let mut raw = srv.raw();
    let small = vec![b's'; 16 * 1024];
    raw.send(&resp(&[b"SET", b"k", &small]));
    raw.expect(b"+OK\r\n");
    let big = vec![b'b'; 256 * 1024];
    let cmd = resp(&[b"SET", b"k", &big]);
    // The server may close before it has read everything: ignore write errors.
    let _ = raw.0.write_all(&cmd);
    let got = raw.read_to_close();
    assert_eq!(String::from_utf8_lossy(&got), "-ERR Protocol error: client query buffer limit exceeded\r\n");
    let mut c = srv.client();
    let v: Vec<u8> = redis::cmd("GET").arg("k").query(&mut c).expect("get");
    assert_eq!(v, small);
}

/// A client that sends a pipeline larger than the query buffer limit
/// without reading its replies is closed once its unread replies block the
/// server and its input reaches the limit. (Both sides then waited on each
/// other for good, without a word.)
#[test]
fn a_client_that_fills_the_query_buffer_without_reading_is_closed() {
    use std::io::Read;
    use std::time::Duration;
    let srv = TestServer::start_with(|c| c.client_query_buffer_limit = 1024 * 1024);
    let mut raw = srv.raw();
    raw.0.set_write_timeout(Some(Duration::from_secs(5))).unwrap();
    let n = 20_000;
    // While closing, the server reads and drops what is still coming, so
    // all of it may be written.
    let _ = raw.0.write_all(&resp(&[b"ECHO", &[b'x'; 1000]]).repeat(n));
    raw.0.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut got = Vec::new();
    let read = raw.0.read_to_end(&mut got);
    assert!(read.is_ok(), "the connection is still open: {read:?}");
    let replies = got.len() / bulk(&[b'x'; 1000]).len();
    assert!(replies < n, "all {replies} replies came");
}

#[test]
fn a_half_closed_client_gets_every_reply() {
    // A client may send its whole pipeline and shut down its writing side
    // before reading: everything it sent is executed and answered, as Redis
    // does. The second half of each pipeline and the end of input arrive
    // while the first half may still be with the broker.
    let srv = TestServer::start();
    let mut probe = srv.client();
    let rounds = 100;
    for round in 0..rounds {
        let mut raw = srv.raw();
        let half = |h: usize| {
            let mut out = Vec::new();
            for i in 0..25 {
                out.extend(resp(&[b"SET", format!("h{round}:{h}:{i}").as_bytes(), b"v"]));
            }
            out
        };
        raw.send(&half(0));
        // Wait until the server has executed the first half.
        while val(&mut probe, &["DBSIZE"]) != redis::Value::Int(round * 50 + 25) {}
        raw.send(&half(1));
        raw.send(b"DBSIZE\r\n");
        raw.0.shutdown(Shutdown::Write).expect("half close");
        let got = raw.read_to_close();
        let expected = format!("{}:{}\r\n", "+OK\r\n".repeat(50), round * 50 + 50);
        assert_eq!(String::from_utf8_lossy(&got), expected, "round {round}");
    }
}

#[test]
fn quit_answers_then_closes_and_shutdown_closes_without_reply() {
    let srv = TestServer::start();
    let mut raw = srv.raw();
    raw.send(b"PING\r\nQUIT\r\nPING\r\n");
    assert_eq!(raw.read_to_close(), b"+PONG\r\n+OK\r\n");
    let mut raw = srv.raw();
    raw.send(b"SHUTDOWN ABORT\r\n");
    raw.expect(b"-ERR No shutdown in progress.\r\n");
    raw.send(b"SHUTDOWN NOSAVE SAVE\r\n");
    raw.expect(b"-ERR syntax error\r\n");
    raw.send(b"SHUTDOWN NOSAVE\r\nPING\r\n");
    assert_eq!(raw.read_to_close(), b"");
    let mut srv = srv;
    srv.spawned.take().expect("running").join().expect("clean stop");
}
