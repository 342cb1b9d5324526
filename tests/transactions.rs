//! Transactions: MULTI/EXEC/DISCARD, WATCH/UNWATCH, exact reply shapes,
//! and optimistic locking under concurrent clients.

use crate::common::*;

#[test]
fn atomic_pipeline_with_the_redis_crate() -> TestResult {
    let srv = TestServer::start();
    let mut c = srv.client();
    let (v,): (String,) =
        redis::pipe().atomic().cmd("SET").arg("k").arg("1").ignore().cmd("GET").arg("k").query(&mut c)?;
    assert_eq!(v, "1");
    Ok(())
}

#[test]
fn exec_reply_shapes_resp2() {
    let srv = TestServer::start();
    let mut s = srv.raw();
    s.send(b"MULTI\r\nSET a 1\r\nGET a\r\nGET missing\r\nEXEC\r\n");
    s.expect(b"+OK\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n*3\r\n+OK\r\n$1\r\n1\r\n$-1\r\n");
    s.send(b"MULTI\r\nMULTI\r\nWATCH x\r\nGET a\r\nEXEC\r\n");
    s.expect(b"+OK\r\n-ERR MULTI calls can not be nested\r\n-ERR WATCH inside MULTI is not allowed\r\n+QUEUED\r\n*1\r\n$1\r\n1\r\n");
    s.send(b"EXEC\r\nDISCARD\r\n");
    s.expect(b"-ERR EXEC without MULTI\r\n-ERR DISCARD without MULTI\r\n");
    s.send(b"MULTI\r\nSET a 2\r\nDISCARD\r\nGET a\r\n");
    s.expect(b"+OK\r\n+QUEUED\r\n+OK\r\n$1\r\n1\r\n");
}

#[test]
fn queueing_errors_abort_and_runtime_errors_do_not() {
    let srv = TestServer::start();
    let mut s = srv.raw();
    s.send(b"MULTI\r\nSET a 1\r\nFOO bar\r\nGET\r\nEXEC\r\nGET a\r\n");
    s.expect(b"+OK\r\n+QUEUED\r\n-ERR unknown command 'FOO', with args beginning with: 'bar' \r\n");
    s.expect(b"-ERR wrong number of arguments for 'get' command\r\n");
    s.expect(b"-EXECABORT Transaction discarded because of previous errors.\r\n$-1\r\n");
    // Unknown subcommands are rejected while queueing, as in Redis 7.
    s.send(b"MULTI\r\nPUBSUB NOPE\r\nSLOWLOG LEN x\r\nEXEC\r\n");
    s.expect(b"+OK\r\n-ERR unknown subcommand 'NOPE'. Try PUBSUB HELP.\r\n");
    s.expect(b"-ERR wrong number of arguments for 'slowlog|len' command\r\n");
    s.expect(b"-EXECABORT Transaction discarded because of previous errors.\r\n");
    // An error while running fails only that command.
    s.send(b"MULTI\r\nSET a 1\r\nWAIT x 0\r\nGET a\r\nEXEC\r\n");
    s.expect(b"+OK\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n");
    s.expect(b"*3\r\n+OK\r\n-ERR value is not an integer or out of range\r\n$1\r\n1\r\n");
}

#[test]
fn blocking_commands_do_not_block_inside_exec() {
    let srv = TestServer::start();
    let mut s = srv.raw();
    // WAIT 1 0 would wait forever for a replica outside a transaction.
    s.send(b"MULTI\r\nWAIT 1 0\r\nEXEC\r\n");
    s.expect(b"+OK\r\n+QUEUED\r\n*1\r\n:0\r\n");
}

#[test]
fn watch_is_invalidated_by_other_clients() {
    let srv = TestServer::start();
    let mut a = srv.raw();
    let mut b = srv.raw();
    a.send(b"WATCH k\r\n");
    a.expect(b"+OK\r\n");
    b.send(b"SET k changed\r\n");
    b.expect(b"+OK\r\n");
    a.send(b"MULTI\r\nSET k mine\r\nEXEC\r\nGET k\r\n");
    a.expect(b"+OK\r\n+QUEUED\r\n*-1\r\n$7\r\nchanged\r\n");
    // EXEC unwatched everything: the next transaction goes through.
    a.send(b"MULTI\r\nSET k mine\r\nEXEC\r\n");
    a.expect(b"+OK\r\n+QUEUED\r\n*1\r\n+OK\r\n");
    // UNWATCH forgets; deleting a watched key counts as a change.
    a.send(b"WATCH k\r\nUNWATCH\r\n");
    a.expect(b"+OK\r\n+OK\r\n");
    b.send(b"SET k again\r\n");
    b.expect(b"+OK\r\n");
    a.send(b"MULTI\r\nGET k\r\nEXEC\r\n");
    a.expect(b"+OK\r\n+QUEUED\r\n*1\r\n$5\r\nagain\r\n");
    a.send(b"WATCH k other\r\n");
    a.expect(b"+OK\r\n");
    b.send(b"DEL k\r\n");
    b.expect(b":1\r\n");
    a.send(b"MULTI\r\nGET k\r\nEXEC\r\n");
    a.expect(b"+OK\r\n+QUEUED\r\n*-1\r\n");
    // Untouched watched keys, or a DEL of nothing, do not abort.
    a.send(b"WATCH k\r\n");
    a.expect(b"+OK\r\n");
    b.send(b"DEL k\r\nSET unrelated 1\r\n");
    b.expect(b":0\r\n+OK\r\n");
    a.send(b"MULTI\r\nGET k\r\nEXEC\r\n");
    a.expect(b"+OK\r\n+QUEUED\r\n*1\r\n$-1\r\n");
}

#[test]
fn watch_aborted_exec_is_null_in_resp3_and_discard_unwatches() {
    let srv = TestServer::start();
    let mut a = srv.raw();
    let mut b = srv.raw();
    a.hello3();
    a.send(b"WATCH k\r\n");
    a.expect(b"+OK\r\n");
    b.send(b"SET k x\r\n");
    b.expect(b"+OK\r\n");
    a.send(b"MULTI\r\nGET k\r\nEXEC\r\n");
    a.expect(b"+OK\r\n+QUEUED\r\n_\r\n");
    a.send(b"WATCH k\r\nMULTI\r\nDISCARD\r\n");
    a.expect(b"+OK\r\n+OK\r\n+OK\r\n");
    b.send(b"SET k y\r\n");
    b.expect(b"+OK\r\n");
    a.send(b"MULTI\r\nGET k\r\nEXEC\r\n");
    a.expect(b"+OK\r\n+QUEUED\r\n*1\r\n$1\r\ny\r\n");
}

#[test]
fn own_writes_before_multi_invalidate_the_watch() {
    let srv = TestServer::start();
    let mut a = srv.raw();
    a.send(b"WATCH k\r\nSET k 1\r\nMULTI\r\nGET k\r\nEXEC\r\n");
    a.expect(b"+OK\r\n+OK\r\n+OK\r\n+QUEUED\r\n*-1\r\n");
}

#[test]
fn watch_race_counts_exactly() -> TestResult {
    const CLIENTS: usize = 6;
    const INCREMENTS: usize = 50;
    let srv = TestServer::start();
    let mut c = srv.client();
    let () = redis::cmd("SET").arg("counter").arg("0").query(&mut c)?;
    let mut retries = 0usize;
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..CLIENTS)
            .map(|_| {
                let mut con = srv.client();
                scope.spawn(move || {
                    let mut retries = 0usize;
                    for _ in 0..INCREMENTS {
                        let _: () = redis::transaction(&mut con, &["counter"], |con, pipe| {
                            let v: i64 = redis::cmd("GET").arg("counter").query::<String>(con)?.parse().unwrap();
                            let r: Option<()> = pipe.cmd("SET").arg("counter").arg(v + 1).ignore().query(con)?;
                            if r.is_none() {
                                retries += 1;
                            }
                            Ok(r)
                        })
                        .expect("transaction");
                    }
                    retries
                })
            })
            .collect();
        for h in handles {
            retries += h.join().expect("client thread");
        }
    });
    let v: i64 = redis::cmd("GET").arg("counter").query::<String>(&mut c)?.parse()?;
    assert_eq!(v, (CLIENTS * INCREMENTS) as i64, "after {retries} retries");
    Ok(())
}

/// A client that closes (here: half-closes) while `CLIENT PAUSE` holds its
/// batch is let go, as Redis frees it: nothing more of it runs, so neither
/// can an `EXEC` after a failed `WATCH`. (Once, the end of input was told
/// to the broker at once, which forgot the client's watches, and the
/// `EXEC` ran; then the held commands ran after the pause.)
#[test]
fn a_half_closed_client_cannot_exec_past_a_failed_watch() {
    let srv = TestServer::start();
    let mut other = srv.raw();
    other.send(b"SET k orig\r\n");
    other.expect(b"+OK\r\n");
    let mut a = srv.raw();
    a.send(b"WATCH k\r\n");
    a.expect(b"+OK\r\n");
    other.send(b"SET k changed\r\n");
    other.expect(b"+OK\r\n");
    // Held by the pause, `SET x 1` stays in flight while the rest arrives.
    other.send(b"CLIENT PAUSE 500 WRITE\r\n");
    other.expect(b"+OK\r\n");
    a.send(b"SET x 1\r\n");
    std::thread::sleep(std::time::Duration::from_millis(100));
    a.send(b"MULTI\r\nSET k mine\r\nEXEC\r\n");
    a.0.shutdown(std::net::Shutdown::Write).expect("half-close");
    let got = String::from_utf8_lossy(&a.read_to_close()).into_owned();
    assert_eq!(got, "", "nothing after the WATCH is answered");
    other.send(b"CLIENT UNPAUSE\r\nGET k\r\nGET x\r\n");
    other.expect(b"+OK\r\n$7\r\nchanged\r\n$-1\r\n");
}

/// A key already expired when it was watched, then deleted (here by a `DEL`
/// that finds it expired): logically no change, so `EXEC` runs, as in
/// Redis (it was aborted).
#[test]
fn deleting_a_key_already_expired_at_watch_does_not_abort_exec() {
    let srv = TestServer::start_with(|c| c.hz = 1);
    let mut c = srv.client();
    let mut other = srv.client();
    assert_eq!(val(&mut c, &["SET", "k", "v", "PX", "1"]), redis::Value::Okay);
    std::thread::sleep(std::time::Duration::from_millis(5));
    assert_eq!(val(&mut c, &["WATCH", "k"]), redis::Value::Okay);
    assert_eq!(val(&mut other, &["DEL", "k"]), redis::Value::Int(0));
    assert_eq!(val(&mut c, &["MULTI"]), redis::Value::Okay);
    assert_eq!(val(&mut c, &["PING"]), redis::Value::SimpleString("QUEUED".into()));
    assert_eq!(val(&mut c, &["EXEC"]), redis::Value::Array(vec![redis::Value::SimpleString("PONG".into())]));
    // A write to it after the watch still aborts.
    assert_eq!(val(&mut c, &["SET", "k", "v", "PX", "1"]), redis::Value::Okay);
    std::thread::sleep(std::time::Duration::from_millis(5));
    assert_eq!(val(&mut c, &["WATCH", "k"]), redis::Value::Okay);
    assert_eq!(val(&mut other, &["SET", "k", "new"]), redis::Value::Okay);
    assert_eq!(val(&mut c, &["MULTI"]), redis::Value::Okay);
    assert_eq!(val(&mut c, &["PING"]), redis::Value::SimpleString("QUEUED".into()));
    assert_eq!(val(&mut c, &["EXEC"]), redis::Value::Nil);
}

/// A transaction's queue is bounded by `client-query-buffer-limit`, as a
/// client's unread input is: the command that would exceed it is refused
/// and `EXEC` fails; the connection stays usable.
#[test]
fn a_transaction_is_bounded_by_the_query_buffer_limit() {
    let srv = TestServer::start_with(|c| c.client_query_buffer_limit = 64 * 1024);
    let mut s = srv.raw();
    let part = vec![b'v'; 40 * 1024];
    s.send(b"MULTI\r\n");
    s.expect(b"+OK\r\n");
    s.send(&resp(&[b"SET", b"a", &part]));
    s.expect(b"+QUEUED\r\n");
    s.send(&resp(&[b"SET", b"b", &part]));
    s.expect(
        b"-ERR the transaction's queued commands would exceed client-query-buffer-limit; it will be discarded\r\n",
    );
    s.send(b"EXEC\r\n");
    s.expect(b"-EXECABORT Transaction discarded because of previous errors.\r\n");
    s.send(b"EXISTS a b\r\n");
    s.expect(b":0\r\n");
}
