//! Publish/subscribe: the redis crate's pub/sub API, exact RESP2/RESP3
//! reply shapes, the subscribed-mode rules, and slow subscribers.

use std::io::Read;
use std::time::{Duration, Instant};

use crate::common::*;

/// Polls `PUBSUB NUMSUB channel` until it reports `n` subscribers.
fn wait_numsub(c: &mut redis::Connection, channel: &str, n: i64) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let v: (String, i64) = redis::cmd("PUBSUB").arg("NUMSUB").arg(channel).query(c).expect("numsub");
        if v.1 == n {
            return;
        }
        assert!(Instant::now() < deadline, "{channel} never reached {n} subscribers (at {})", v.1);
        std::thread::yield_now();
    }
}

#[test]
fn redis_crate_subscribe_and_psubscribe() -> TestResult {
    let srv = TestServer::start();
    let mut sub_conn = srv.client();
    let mut publisher = srv.client();
    let mut ps = sub_conn.as_pubsub();
    ps.subscribe("news")?;
    ps.psubscribe("n*")?;
    ps.set_read_timeout(Some(Duration::from_secs(10)))?;
    let receivers: i64 = redis::cmd("PUBLISH").arg("news").arg("hello").query(&mut publisher)?;
    assert_eq!(receivers, 2);
    let m = ps.get_message()?;
    assert_eq!(m.get_channel_name(), "news");
    assert_eq!(m.get_payload::<String>()?, "hello");
    assert!(!m.from_pattern());
    let m = ps.get_message()?;
    assert!(m.from_pattern());
    assert_eq!(m.get_pattern::<String>()?, "n*");
    assert_eq!(m.get_channel_name(), "news");
    assert_eq!(m.get_payload::<String>()?, "hello");
    let none: i64 = redis::cmd("PUBLISH").arg("other").arg("x").query(&mut publisher)?;
    assert_eq!(none, 0);
    // Leaving pub/sub mode (the crate unsubscribes on drop) gives a normal connection back.
    drop(ps);
    let pong: String = redis::cmd("PING").query(&mut sub_conn)?;
    assert_eq!(pong, "PONG");
    Ok(())
}

#[test]
fn resp2_reply_shapes_and_subscribed_mode() {
    let srv = TestServer::start();
    let mut s = srv.raw();
    s.send(b"UNSUBSCRIBE\r\n");
    s.expect(b"*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:0\r\n");
    s.send(b"SUBSCRIBE a b\r\n");
    s.expect(b"*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n*3\r\n$9\r\nsubscribe\r\n$1\r\nb\r\n:2\r\n");
    s.send(b"PING\r\nPING x\r\n");
    s.expect(b"*2\r\n$4\r\npong\r\n$0\r\n\r\n*2\r\n$4\r\npong\r\n$1\r\nx\r\n");
    s.send(b"GET a\r\n");
    s.expect(b"-ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n");
    s.send(b"PSUBSCRIBE p*\r\n");
    s.expect(b"*3\r\n$10\r\npsubscribe\r\n$2\r\np*\r\n:3\r\n");

    let mut p = srv.raw();
    p.send(b"PUBLISH a hi\r\nPUBLISH pq there\r\nPUBLISH zz nobody\r\n");
    p.expect(b":1\r\n:1\r\n:0\r\n");
    s.expect(b"*3\r\n$7\r\nmessage\r\n$1\r\na\r\n$2\r\nhi\r\n");
    s.expect(b"*4\r\n$8\r\npmessage\r\n$2\r\np*\r\n$2\r\npq\r\n$5\r\nthere\r\n");

    s.send(b"UNSUBSCRIBE a\r\nPUNSUBSCRIBE\r\n");
    s.expect(b"*3\r\n$11\r\nunsubscribe\r\n$1\r\na\r\n:2\r\n*3\r\n$12\r\npunsubscribe\r\n$2\r\np*\r\n:1\r\n");
    s.send(b"UNSUBSCRIBE\r\n");
    s.expect(b"*3\r\n$11\r\nunsubscribe\r\n$1\r\nb\r\n:0\r\n");
    // Out of subscribed mode: ordinary commands again.
    s.send(b"GET a\r\nPING\r\n");
    s.expect(b"$-1\r\n+PONG\r\n");
}

#[test]
fn shard_channels() {
    let srv = TestServer::start();
    let mut s = srv.raw();
    s.send(b"SSUBSCRIBE s1 s2\r\n");
    s.expect(b"*3\r\n$10\r\nssubscribe\r\n$2\r\ns1\r\n:1\r\n*3\r\n$10\r\nssubscribe\r\n$2\r\ns2\r\n:2\r\n");
    s.send(b"GET x\r\n");
    s.expect(b"-ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n");
    // A subcommand is named in full, and an unknown subcommand or a wrong
    // number of arguments is reported first, as in Redis.
    s.send(b"CLIENT GETNAME\r\nCLIENT SETNAME\r\nCLIENT FOO\r\n");
    s.expect(b"-ERR Can't execute 'client|getname': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n");
    s.expect(b"-ERR wrong number of arguments for 'client|setname' command\r\n");
    s.expect(b"-ERR unknown subcommand 'FOO'. Try CLIENT HELP.\r\n");
    let mut p = srv.raw();
    p.send(
        b"SPUBLISH s1 m\r\nPUBLISH s1 m\r\nPUBSUB SHARDCHANNELS\r\nPUBSUB SHARDNUMSUB s1 nope\r\nPUBSUB CHANNELS\r\n",
    );
    p.expect(b":1\r\n:0\r\n");
    let mut got = Vec::new();
    // SHARDCHANNELS order is unspecified: read both names.
    let head = p.read_exact(4);
    assert_eq!(&head, b"*2\r\n");
    for _ in 0..2 {
        got.push(String::from_utf8(p.read_exact(8)).unwrap());
    }
    got.sort();
    assert_eq!(got, ["$2\r\ns1\r\n", "$2\r\ns2\r\n"]);
    p.expect(b"*4\r\n$2\r\ns1\r\n:1\r\n$4\r\nnope\r\n:0\r\n*0\r\n");
    s.expect(b"*3\r\n$8\r\nsmessage\r\n$2\r\ns1\r\n$1\r\nm\r\n");
    s.send(b"SUNSUBSCRIBE s1\r\nSUNSUBSCRIBE\r\nSUNSUBSCRIBE\r\n");
    s.expect(b"*3\r\n$12\r\nsunsubscribe\r\n$2\r\ns1\r\n:1\r\n*3\r\n$12\r\nsunsubscribe\r\n$2\r\ns2\r\n:0\r\n");
    s.expect(b"*3\r\n$12\r\nsunsubscribe\r\n$-1\r\n:0\r\n");
}

#[test]
fn pubsub_introspection() -> TestResult {
    let srv = TestServer::start();
    let mut a = srv.raw();
    a.send(b"SUBSCRIBE c1 c2\r\nPSUBSCRIBE x* y*\r\n");
    a.read_exact(
        b"*3\r\n$9\r\nsubscribe\r\n$2\r\nc1\r\n:1\r\n".len() * 2
            + b"*3\r\n$10\r\npsubscribe\r\n$2\r\nx*\r\n:3\r\n".len() * 2,
    );
    let mut c = srv.client();
    let mut chans: Vec<String> = redis::cmd("PUBSUB").arg("CHANNELS").query(&mut c)?;
    chans.sort();
    assert_eq!(chans, ["c1", "c2"]);
    let chans: Vec<String> = redis::cmd("PUBSUB").arg("CHANNELS").arg("*1").query(&mut c)?;
    assert_eq!(chans, ["c1"]);
    let n: i64 = redis::cmd("PUBSUB").arg("NUMPAT").query(&mut c)?;
    assert_eq!(n, 2);
    let v: Vec<redis::Value> = redis::cmd("PUBSUB").arg("NUMSUB").arg("c1").arg("zz").query(&mut c)?;
    assert_eq!(v.len(), 4);
    assert_eq!(err(&mut c, &["PUBSUB", "FOO"]), "ERR unknown subcommand 'FOO'. Try PUBSUB HELP.");
    assert_eq!(err(&mut c, &["PUBSUB", "NUMPAT", "x"]), "ERR wrong number of arguments for 'pubsub|numpat' command");
    assert_eq!(
        err(&mut c, &["PUBSUB", "CHANNELS", "a", "b"]),
        "ERR unknown subcommand or wrong number of arguments for 'CHANNELS'. Try PUBSUB HELP."
    );
    // A disconnected subscriber leaves no trace.
    drop(a);
    wait_numsub(&mut c, "c1", 0);
    let n: i64 = redis::cmd("PUBSUB").arg("NUMPAT").query(&mut c)?;
    assert_eq!(n, 0);
    Ok(())
}

#[test]
fn resp3_push_frames_and_ordinary_commands() {
    let srv = TestServer::start();
    let mut s = srv.raw();
    let buf = s.hello3();
    assert!(buf.starts_with(b"%7\r\n"));
    s.send(b"SUBSCRIBE a\r\nGET x\r\nPUBLISH a self\r\n");
    s.expect(b">3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n_\r\n");
    // The client's own message comes before PUBLISH's reply, as in Redis.
    s.expect(b">3\r\n$7\r\nmessage\r\n$1\r\na\r\n$4\r\nself\r\n:1\r\n");
    let mut p = srv.raw();
    p.send(b"PUBLISH a other\r\n");
    p.expect(b":1\r\n");
    s.expect(b">3\r\n$7\r\nmessage\r\n$1\r\na\r\n$5\r\nother\r\n");
    s.send(b"UNSUBSCRIBE\r\nUNSUBSCRIBE\r\nRESET\r\nGET x\r\n");
    s.expect(b">3\r\n$11\r\nunsubscribe\r\n$1\r\na\r\n:0\r\n>3\r\n$11\r\nunsubscribe\r\n_\r\n:0\r\n+RESET\r\n$-1\r\n");
    // After RESET the client speaks RESP2 again, also in what others send it.
    s.send(b"SUBSCRIBE b\r\n");
    s.expect(b"*3\r\n$9\r\nsubscribe\r\n$1\r\nb\r\n:1\r\n");
    p.send(b"PUBLISH b again\r\n");
    p.expect(b":1\r\n");
    s.expect(b"*3\r\n$7\r\nmessage\r\n$1\r\nb\r\n$5\r\nagain\r\n");
}

#[test]
fn messages_never_overtake_the_subscribe_confirmation() {
    let srv = TestServer::start();
    let mut p = srv.client();
    for round in 0..20 {
        let channel = format!("ch{round}");
        let mut s = srv.raw();
        s.send(format!("SUBSCRIBE {channel}\r\n").as_bytes());
        // Publish as soon as the subscription exists, racing the confirmation.
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let n: i64 = redis::cmd("PUBLISH").arg(&channel).arg("m").query(&mut p).expect("publish");
            if n == 1 {
                break;
            }
            assert!(Instant::now() < deadline);
        }
        let conf = format!("*3\r\n$9\r\nsubscribe\r\n${}\r\n{channel}\r\n:1\r\n", channel.len());
        s.expect(conf.as_bytes());
        s.expect(format!("*3\r\n$7\r\nmessage\r\n${}\r\n{channel}\r\n$1\r\nm\r\n", channel.len()).as_bytes());
    }
}

#[test]
fn slow_subscriber_is_disconnected_and_publishers_keep_going() -> TestResult {
    let srv = TestServer::start();
    let mut p = srv.client();
    let () = redis::cmd("CONFIG").arg("SET").arg("client-output-buffer-limit").arg("pubsub 1mb 0 0").query(&mut p)?;
    let limit: Vec<String> = redis::cmd("CONFIG").arg("GET").arg("client-output-buffer-limit").query(&mut p)?;
    assert_eq!(limit[1], "normal 0 0 0 slave 268435456 67108864 60 pubsub 1048576 0 0");
    // A subscriber that never reads.
    let mut slow = srv.raw();
    slow.send(b"SUBSCRIBE firehose\r\n");
    wait_numsub(&mut p, "firehose", 1);
    // A well-behaved subscriber on the same channel keeps receiving.
    let mut good_conn = srv.client();
    let mut good = good_conn.as_pubsub();
    good.subscribe("firehose")?;
    good.set_read_timeout(Some(Duration::from_secs(10)))?;
    let payload = "x".repeat(16 * 1024);
    let mut worst = Duration::ZERO;
    let mut sent = 0;
    loop {
        let t = Instant::now();
        let n: i64 = redis::cmd("PUBLISH").arg("firehose").arg(&payload).query(&mut p)?;
        worst = worst.max(t.elapsed());
        sent += 1;
        let m = good.get_message()?;
        assert_eq!(m.get_payload_bytes().len(), payload.len());
        if n == 1 {
            break; // the slow one is gone
        }
        assert_eq!(n, 2);
        assert!(sent < 100_000, "the slow subscriber was never disconnected");
    }
    // Disconnected somewhere past the 1 MiB limit (plus what the socket buffers hold).
    assert!(sent as usize * payload.len() > 1 << 20, "disconnected too early: {sent} messages");
    assert!(worst < Duration::from_secs(2), "a publish took {worst:?}");
    wait_numsub(&mut p, "firehose", 1);
    // The slow client's socket ends after whatever was buffered.
    let mut sink = Vec::new();
    slow.0.read_to_end(&mut sink)?;
    assert!(sink.starts_with(b"*3\r\n$9\r\nsubscribe\r\n"));
    Ok(())
}

#[test]
fn soft_limit_with_zero_seconds_disconnects_at_once() -> TestResult {
    let srv = TestServer::start();
    let mut p = srv.client();
    let () = redis::cmd("CONFIG").arg("SET").arg("client-output-buffer-limit").arg("pubsub 0 64kb 0").query(&mut p)?;
    let mut slow = srv.raw();
    slow.send(b"SUBSCRIBE c\r\n");
    wait_numsub(&mut p, "c", 1);
    let payload = "y".repeat(32 * 1024);
    let mut sent = 0;
    while redis::cmd("PUBLISH").arg("c").arg(&payload).query::<i64>(&mut p)? == 1 {
        sent += 1;
        assert!(sent < 100_000, "never disconnected");
    }
    let mut sink = Vec::new();
    slow.0.read_to_end(&mut sink)?;
    Ok(())
}

#[test]
fn resp3_subscriber_blocked_in_a_command_still_gets_messages() {
    let srv = TestServer::start();
    let mut s = srv.raw();
    s.hello3();
    s.send(b"SUBSCRIBE a\r\n");
    s.expect(b">3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n");
    // BLPOP on a key nobody pushes to blocks forever.
    s.send(b"BLPOP nothing-here 0\r\n");
    let mut p = srv.client();
    // The subscriber's batch is in flight (parked) for good: its messages
    // must not wait for the reply.
    let n: i64 = redis::cmd("PUBLISH").arg("a").arg("m").query(&mut p).expect("publish");
    assert_eq!(n, 1);
    s.expect(b">3\r\n$7\r\nmessage\r\n$1\r\na\r\n$1\r\nm\r\n");
}

/// A RESP3 subscriber parked by `BLPOP`, then served: a message published
/// after the element was handed to it follows the `BLPOP` reply, as in
/// Redis (while its reply waited for the fsync, the message went first).
#[test]
fn a_message_published_after_a_parked_pop_is_served_follows_its_reply() {
    let srv = TestServer::start();
    let mut a = srv.raw();
    a.hello3();
    a.send(b"SUBSCRIBE ch\r\n");
    a.expect(b">3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n");
    a.send(b"BLPOP q 0\r\n");
    wait_blocked_clients(&mut srv.client(), 1);
    let mut b = srv.raw();
    b.send(b"RPUSH q a\r\nPUBLISH ch m\r\n");
    b.expect(b":1\r\n:1\r\n");
    a.expect(b"*2\r\n$1\r\nq\r\n$1\r\na\r\n");
    a.expect(b">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$1\r\nm\r\n");
}

/// `PING` run by `EXEC` after a `SUBSCRIBE` queued before it answers in the
/// subscribed form in RESP2, as in Redis (it answered `+PONG`).
#[test]
fn ping_in_exec_after_a_queued_subscribe_answers_the_subscribed_form() {
    let srv = TestServer::start();
    let mut raw = srv.raw();
    raw.send(b"MULTI\r\nSUBSCRIBE a\r\nPING\r\nEXEC\r\n");
    raw.expect(
        b"+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n*2\r\n$4\r\npong\r\n$0\r\n\r\n",
    );
    raw.send(b"PING hi\r\n");
    raw.expect(b"*2\r\n$4\r\npong\r\n$2\r\nhi\r\n");
}

/// Found by review: a message published by a round with no write could
/// overtake one published by an earlier round with a write (whose group
/// was durable but whose delivery the broker had not sent yet). A reader
/// that saw writer's `k = i` publishes after writer's message `b<i>`, so a
/// subscriber must see `b<i>` first. (Probabilistic: it caught the bug in
/// about one round in fifty.)
#[test]
fn messages_keep_their_order_across_writing_and_reading_rounds() {
    let srv = TestServer::start();
    let mut sub = srv.client();
    let mut ps = sub.as_pubsub();
    ps.subscribe("ch").unwrap();
    ps.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    const N: i64 = 1500;
    let writer = {
        let mut c = srv.client();
        std::thread::spawn(move || {
            for i in 1..=N {
                let () = redis::pipe()
                    .cmd("SET")
                    .arg("k")
                    .arg(i)
                    .ignore()
                    .cmd("PUBLISH")
                    .arg("ch")
                    .arg(format!("b{i}"))
                    .ignore()
                    .query(&mut c)
                    .unwrap();
            }
        })
    };
    let reader = {
        let mut c = srv.client();
        std::thread::spawn(move || {
            let mut seen = Vec::new();
            for j in 0..N {
                let (k, _): (Option<i64>, i64) = redis::pipe()
                    .cmd("GET")
                    .arg("k")
                    .cmd("PUBLISH")
                    .arg("ch")
                    .arg(format!("c{j}"))
                    .query(&mut c)
                    .unwrap();
                seen.push(k.unwrap_or(0));
            }
            seen
        })
    };
    writer.join().unwrap();
    let read = reader.join().unwrap();
    let mut last_b = 0;
    let mut violations = Vec::new();
    for _ in 0..2 * N {
        let msg: String = ps.get_message().unwrap().get_payload().unwrap();
        if let Some(i) = msg.strip_prefix('b') {
            last_b = i.parse().unwrap();
        } else {
            let j: usize = msg[1..].parse().unwrap();
            if read[j] > last_b {
                violations.push((j, read[j], last_b));
            }
        }
    }
    assert!(violations.is_empty(), "c<j> before the b<i> it read: {violations:?}");
}
