//! Generic key commands over the socket: existence, iteration, renaming,
//! copying between databases, and expiry.

use std::collections::{HashMap, HashSet};

use crate::common::*;
use redis::Value;

fn int(c: &mut redis::Connection, args: &[&str]) -> i64 {
    match val(c, args) {
        Value::Int(n) => n,
        v => panic!("{args:?}: expected an integer, got {v:?}"),
    }
}

fn ok(c: &mut redis::Connection, args: &[&str]) {
    assert_eq!(val(c, args), Value::Okay, "{args:?}");
}

fn get(c: &mut redis::Connection, key: &str) -> Option<String> {
    redis::cmd("GET").arg(key).query(c).expect("GET")
}

fn sorted_keys(c: &mut redis::Connection, pattern: &str) -> Vec<String> {
    let mut v: Vec<String> = redis::cmd("KEYS").arg(pattern).query(c).expect("KEYS");
    v.sort();
    v
}

/// Every key a full SCAN returns (with repeats), with extra arguments.
/// Every cursor must survive a client that holds it as a double.
fn scan_all(c: &mut redis::Connection, extra: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    let mut cursor = "0".to_string();
    loop {
        let (next, keys): (String, Vec<String>) = redis::cmd("SCAN").arg(&cursor).arg(extra).query(c).expect("SCAN");
        assert!(next.parse::<u64>().is_ok_and(|n| n < 1 << 53), "cursor {next}");
        out.extend(keys);
        cursor = next;
        if cursor == "0" {
            return out;
        }
    }
}

fn unix_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_millis() as i64
}

#[test]
fn del_unlink_exists_touch_type() -> TestResult {
    let srv = TestServer::start();
    let c = &mut srv.client();
    ok(c, &["MSET", "a", "1", "b", "2", "c", "3", "d", "4"]);
    assert_eq!(int(c, &["EXISTS", "a", "b", "a", "nokey", "a"]), 4);
    assert_eq!(int(c, &["EXISTS", "nokey"]), 0);
    assert_eq!(int(c, &["TOUCH", "a", "nokey", "b"]), 2);
    assert_eq!(val(c, &["TYPE", "a"]), Value::SimpleString("string".into()));
    assert_eq!(val(c, &["TYPE", "nokey"]), Value::SimpleString("none".into()));
    assert_eq!(int(c, &["DEL", "a", "nokey", "a"]), 1);
    assert_eq!(int(c, &["UNLINK", "b", "c"]), 2);
    assert_eq!(int(c, &["EXISTS", "a", "b", "c", "d"]), 1);
    assert_eq!(err(c, &["DEL"]), "ERR wrong number of arguments for 'del' command");
    assert_eq!(err(c, &["EXISTS"]), "ERR wrong number of arguments for 'exists' command");
    Ok(())
}

#[test]
fn keys_matches_globs() -> TestResult {
    let srv = TestServer::start();
    let c = &mut srv.client();
    ok(c, &["MSET", "hello", "1", "hallo", "2", "hxllo", "3", "hllo", "4", "heeeello", "5", "a*b", "6"]);
    assert_eq!(sorted_keys(c, "h?llo"), ["hallo", "hello", "hxllo"]);
    assert_eq!(sorted_keys(c, "h*llo"), ["hallo", "heeeello", "hello", "hllo", "hxllo"]);
    assert_eq!(sorted_keys(c, "h[ae]llo"), ["hallo", "hello"]);
    assert_eq!(sorted_keys(c, "h[^e]llo"), ["hallo", "hxllo"]);
    assert_eq!(sorted_keys(c, "h[a-b]llo"), ["hallo"]);
    assert_eq!(sorted_keys(c, "a\\*b"), ["a*b"]);
    assert_eq!(sorted_keys(c, "*").len(), 6);
    assert!(sorted_keys(c, "nomatch*").is_empty());
    Ok(())
}

#[test]
fn scan_options_and_errors() -> TestResult {
    let srv = TestServer::start();
    let c = &mut srv.client();
    assert_eq!(scan_all(c, &[]), Vec::<String>::new());
    for i in 0..100 {
        ok(c, &["SET", &format!("key:{i}"), "v"]);
    }
    ok(c, &["SET", "other", "v"]);
    let all: HashSet<String> = scan_all(c, &["COUNT", "7"]).into_iter().collect();
    assert_eq!(all.len(), 101);
    let mut m = scan_all(c, &["MATCH", "key:1*"]);
    m.sort();
    assert_eq!(m.len(), 11);
    assert_eq!(scan_all(c, &["MATCH", "oth*", "COUNT", "1000", "TYPE", "string"]), ["other"]);
    assert_eq!(scan_all(c, &["TYPE", "STRING"]).len(), 101);
    assert!(scan_all(c, &["TYPE", "list"]).is_empty());
    assert!(scan_all(c, &["TYPE", "nosuchtype"]).is_empty());
    // COUNT is a hint: one big call returns everything with cursor 0.
    let (cur, keys): (String, Vec<String>) = redis::cmd("SCAN").arg(0).arg("COUNT").arg(1000).query(c)?;
    assert_eq!((cur.as_str(), keys.len()), ("0", 101));
    assert_eq!(err(c, &["SCAN", "abc"]), "ERR invalid cursor");
    assert_eq!(err(c, &["SCAN", " 1"]), "ERR invalid cursor");
    assert_eq!(err(c, &["SCAN", "0", "COUNT", "0"]), "ERR syntax error");
    assert_eq!(err(c, &["SCAN", "0", "COUNT", "-1"]), "ERR syntax error");
    assert_eq!(err(c, &["SCAN", "0", "COUNT", "x"]), "ERR value is not an integer or out of range");
    assert_eq!(err(c, &["SCAN", "0", "MATCH"]), "ERR syntax error");
    assert_eq!(err(c, &["SCAN", "0", "FOO", "bar"]), "ERR syntax error");
    assert_eq!(err(c, &["SCAN"]), "ERR wrong number of arguments for 'scan' command");
    Ok(())
}

#[test]
fn scan_returns_every_key_while_the_keyspace_grows() -> TestResult {
    let srv = TestServer::start();
    let c = &mut srv.client();
    let mut pipe = redis::pipe();
    for i in 0..1000 {
        pipe.cmd("SET").arg(format!("orig:{i}")).arg(i).ignore();
    }
    pipe.query::<()>(c)?;
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut cursor = "0".to_string();
    let mut round = 0;
    loop {
        let (next, keys): (String, Vec<String>) = redis::cmd("SCAN").arg(&cursor).arg("COUNT").arg(10).query(c)?;
        for k in keys {
            *seen.entry(k).or_default() += 1;
        }
        let mut pipe = redis::pipe();
        for j in 0..10 {
            pipe.cmd("SET").arg(format!("new:{round}:{j}")).arg(1).ignore();
        }
        pipe.query::<()>(c)?;
        round += 1;
        cursor = next;
        if cursor == "0" {
            break;
        }
    }
    for i in 0..1000 {
        assert!(seen.contains_key(&format!("orig:{i}")), "orig:{i} was never returned");
    }
    Ok(())
}

#[test]
fn randomkey_skips_expired_keys() -> TestResult {
    let srv = TestServer::start();
    let c = &mut srv.client();
    assert_eq!(val(c, &["RANDOMKEY"]), Value::Nil);
    ok(c, &["SET", "live", "v"]);
    for i in 0..20 {
        ok(c, &["SET", &format!("dead{i}"), "v", "PXAT", "1"]);
    }
    for _ in 0..30 {
        assert_eq!(val(c, &["RANDOMKEY"]), Value::BulkString(b"live".to_vec()));
    }
    ok(c, &["MSET", "a", "1", "b", "2"]);
    // Keys are picked by a random point in hash space, so a key's chance
    // follows the gap before its hash: check variety, not uniformity.
    let mut pipe = redis::pipe();
    for _ in 0..2000 {
        pipe.cmd("RANDOMKEY");
    }
    let picks: Vec<String> = pipe.query(c)?;
    let seen: HashSet<&str> = picks.iter().map(String::as_str).collect();
    assert!(seen.is_subset(&HashSet::from(["live", "a", "b"])), "{seen:?}");
    assert!(seen.len() >= 2, "{seen:?}");
    Ok(())
}

#[test]
fn rename_and_renamenx() -> TestResult {
    let srv = TestServer::start();
    let c = &mut srv.client();
    ok(c, &["SET", "a", "1"]);
    ok(c, &["RENAME", "a", "b"]);
    assert_eq!(get(c, "a"), None);
    assert_eq!(get(c, "b").as_deref(), Some("1"));
    assert_eq!(err(c, &["RENAME", "nokey", "x"]), "ERR no such key");
    assert_eq!(err(c, &["RENAME", "nokey", "nokey"]), "ERR no such key");
    ok(c, &["RENAME", "b", "b"]);
    assert_eq!(int(c, &["RENAMENX", "b", "b"]), 0);
    assert_eq!(err(c, &["RENAMENX", "nokey", "b"]), "ERR no such key");
    ok(c, &["SET", "c", "3"]);
    assert_eq!(int(c, &["RENAMENX", "b", "c"]), 0);
    assert_eq!(int(c, &["RENAMENX", "b", "d"]), 1);
    assert_eq!(get(c, "d").as_deref(), Some("1"));
    // The TTL travels with the value; an overwritten key's TTL does not survive.
    assert_eq!(int(c, &["EXPIRE", "d", "100"]), 1);
    ok(c, &["RENAME", "d", "e"]);
    assert_eq!(int(c, &["TTL", "e"]), 100);
    ok(c, &["SET", "f", "x", "EX", "50"]);
    ok(c, &["SET", "g", "y"]);
    ok(c, &["RENAME", "g", "f"]);
    assert_eq!(int(c, &["TTL", "f"]), -1);
    assert_eq!(get(c, "f").as_deref(), Some("y"));
    // An expired source does not exist; an expired destination is free.
    ok(c, &["SET", "old", "v", "PXAT", "1"]);
    assert_eq!(err(c, &["RENAME", "old", "z"]), "ERR no such key");
    ok(c, &["SET", "old", "v", "PXAT", "1"]);
    assert_eq!(int(c, &["RENAMENX", "f", "old"]), 1);
    assert_eq!(get(c, "old").as_deref(), Some("y"));
    Ok(())
}

#[test]
fn copy_between_keys_and_databases() -> TestResult {
    let srv = TestServer::start();
    let c = &mut srv.client();
    ok(c, &["SET", "f", "1", "EX", "100"]);
    assert_eq!(int(c, &["COPY", "f", "g"]), 1);
    assert_eq!(get(c, "g").as_deref(), Some("1"));
    assert_eq!(int(c, &["TTL", "g"]), 100);
    assert_eq!(int(c, &["COPY", "f", "g"]), 0);
    ok(c, &["SET", "f", "2"]);
    assert_eq!(int(c, &["COPY", "f", "g", "REPLACE"]), 1);
    assert_eq!(get(c, "g").as_deref(), Some("2"));
    assert_eq!(int(c, &["TTL", "g"]), -1);
    assert_eq!(int(c, &["COPY", "nokey", "x"]), 0);
    assert_eq!(int(c, &["COPY", "f", "f", "DB", "1"]), 1);
    assert_eq!(int(c, &["COPY", "f", "f", "DB", "1"]), 0);
    assert_eq!(int(c, &["COPY", "f", "f", "REPLACE", "DB", "1"]), 1);
    // The copy is in database 1: moving the original there fails.
    assert_eq!(int(c, &["MOVE", "f", "1"]), 0);
    let same = "ERR source and destination objects are the same";
    assert_eq!(err(c, &["COPY", "f", "f"]), same);
    assert_eq!(err(c, &["COPY", "f", "f", "DB", "0"]), same);
    assert_eq!(err(c, &["COPY", "f", "f", "DB", "16"]), "ERR DB index is out of range");
    assert_eq!(err(c, &["COPY", "f", "f", "DB", "-1"]), "ERR DB index is out of range");
    assert_eq!(err(c, &["COPY", "f", "f", "DB", "abc"]), "ERR value is not an integer or out of range");
    assert_eq!(err(c, &["COPY", "f", "f", "DB"]), "ERR syntax error");
    assert_eq!(err(c, &["COPY", "f", "f", "FOO"]), "ERR syntax error");
    Ok(())
}

#[test]
fn move_between_databases() -> TestResult {
    let srv = TestServer::start();
    let c = &mut srv.client();
    ok(c, &["SET", "k", "v", "EX", "100"]);
    assert_eq!(err(c, &["MOVE", "k", "0"]), "ERR source and destination objects are the same");
    assert_eq!(err(c, &["MOVE", "k", "16"]), "ERR DB index is out of range");
    assert_eq!(err(c, &["MOVE", "k", "-1"]), "ERR DB index is out of range");
    assert_eq!(err(c, &["MOVE", "k", "x"]), "ERR value is not an integer or out of range");
    assert_eq!(int(c, &["MOVE", "nokey", "1"]), 0);
    assert_eq!(int(c, &["MOVE", "k", "1"]), 1);
    assert_eq!(int(c, &["EXISTS", "k"]), 0);
    ok(c, &["SET", "k", "again"]);
    assert_eq!(int(c, &["MOVE", "k", "1"]), 0);
    assert_eq!(get(c, "k").as_deref(), Some("again"));
    Ok(())
}

#[test]
fn expire_family_with_conditions() -> TestResult {
    let srv = TestServer::start();
    let c = &mut srv.client();
    assert_eq!(int(c, &["EXPIRE", "nokey", "10"]), 0);
    assert_eq!(int(c, &["TTL", "nokey"]), -2);
    assert_eq!(int(c, &["PTTL", "nokey"]), -2);
    assert_eq!(int(c, &["EXPIRETIME", "nokey"]), -2);
    assert_eq!(int(c, &["PEXPIRETIME", "nokey"]), -2);
    assert_eq!(int(c, &["PERSIST", "nokey"]), 0);
    ok(c, &["SET", "k", "v"]);
    assert_eq!(int(c, &["TTL", "k"]), -1);
    assert_eq!(int(c, &["PTTL", "k"]), -1);
    assert_eq!(int(c, &["EXPIRETIME", "k"]), -1);
    assert_eq!(int(c, &["PEXPIRETIME", "k"]), -1);
    assert_eq!(int(c, &["PERSIST", "k"]), 0);
    // NX / XX / GT / LT
    assert_eq!(int(c, &["EXPIRE", "k", "100", "XX"]), 0);
    assert_eq!(int(c, &["EXPIRE", "k", "100", "GT"]), 0);
    assert_eq!(int(c, &["EXPIRE", "k", "100", "NX"]), 1);
    assert_eq!(int(c, &["EXPIRE", "k", "50", "NX"]), 0);
    assert_eq!(int(c, &["EXPIRE", "k", "200", "LT"]), 0);
    assert_eq!(int(c, &["EXPIRE", "k", "50", "LT"]), 1);
    assert_eq!(int(c, &["TTL", "k"]), 50);
    assert_eq!(int(c, &["EXPIRE", "k", "20", "GT"]), 0);
    assert_eq!(int(c, &["EXPIRE", "k", "200", "GT", "XX"]), 1);
    assert_eq!(int(c, &["TTL", "k"]), 200);
    assert!((199_000..=200_000).contains(&int(c, &["PTTL", "k"])));
    assert_eq!(int(c, &["PEXPIRE", "k", "300000"]), 1);
    assert_eq!(int(c, &["TTL", "k"]), 300);
    assert_eq!(int(c, &["PERSIST", "k"]), 1);
    assert_eq!(int(c, &["PERSIST", "k"]), 0);
    assert_eq!(int(c, &["TTL", "k"]), -1);
    assert_eq!(int(c, &["EXPIRE", "k", "100", "LT"]), 1);
    // Absolute times.
    let at = unix_ms() / 1000 + 1000;
    assert_eq!(int(c, &["EXPIREAT", "k", &at.to_string()]), 1);
    assert_eq!(int(c, &["EXPIRETIME", "k"]), at);
    assert_eq!(int(c, &["PEXPIRETIME", "k"]), at * 1000);
    assert_eq!(int(c, &["PEXPIREAT", "k", &(at * 1000 + 1).to_string()]), 1);
    assert_eq!(int(c, &["PEXPIRETIME", "k"]), at * 1000 + 1);
    // A deadline in the past deletes the key.
    assert_eq!(int(c, &["EXPIRE", "k", "-1"]), 1);
    assert_eq!(int(c, &["EXISTS", "k"]), 0);
    ok(c, &["SET", "k", "v"]);
    assert_eq!(int(c, &["PEXPIREAT", "k", "1"]), 1);
    assert_eq!(int(c, &["EXISTS", "k"]), 0);
    ok(c, &["SET", "k", "v"]);
    assert_eq!(int(c, &["EXPIREAT", "k", "0", "LT"]), 1);
    assert_eq!(int(c, &["EXISTS", "k"]), 0);
    // Errors.
    ok(c, &["SET", "k", "v"]);
    let nx = "ERR NX and XX, GT or LT options at the same time are not compatible";
    assert_eq!(err(c, &["EXPIRE", "k", "10", "NX", "XX"]), nx);
    assert_eq!(err(c, &["EXPIRE", "k", "10", "GT", "NX"]), nx);
    assert_eq!(err(c, &["EXPIRE", "k", "abc", "NX", "LT"]), nx);
    assert_eq!(err(c, &["EXPIRE", "k", "10", "GT", "LT"]), "ERR GT and LT options at the same time are not compatible");
    assert_eq!(err(c, &["EXPIRE", "k", "10", "FOO"]), "ERR Unsupported option FOO");
    assert_eq!(err(c, &["EXPIRE", "k", "abc"]), "ERR value is not an integer or out of range");
    assert_eq!(err(c, &["EXPIRE", "k", "9223372036854775807"]), "ERR invalid expire time in 'expire' command");
    assert_eq!(err(c, &["EXPIRE", "k", "-9223372036854775808"]), "ERR invalid expire time in 'expire' command");
    assert_eq!(err(c, &["PEXPIRE", "k", "9223372036854775807"]), "ERR invalid expire time in 'pexpire' command");
    assert_eq!(err(c, &["EXPIREAT", "k", "9223372036854775807"]), "ERR invalid expire time in 'expireat' command");
    assert_eq!(int(c, &["PEXPIREAT", "k", "9223372036854775807"]), 1);
    assert_eq!(int(c, &["PEXPIRETIME", "k"]), i64::MAX);
    assert!(int(c, &["TTL", "k"]) > 1_000_000_000);
    assert_eq!(get(c, "k").as_deref(), Some("v"));
    Ok(())
}

#[test]
fn expired_keys_are_invisible_to_key_commands() -> TestResult {
    let srv = TestServer::start();
    let c = &mut srv.client();
    ok(c, &["SET", "live", "v"]);
    ok(c, &["SET", "dead", "v", "PXAT", "1"]);
    assert_eq!(int(c, &["EXISTS", "dead", "live"]), 1);
    assert_eq!(val(c, &["TYPE", "dead"]), Value::SimpleString("none".into()));
    assert_eq!(int(c, &["TTL", "dead"]), -2);
    assert_eq!(int(c, &["PERSIST", "dead"]), 0);
    ok(c, &["SET", "dead", "v", "PXAT", "1"]);
    assert_eq!(sorted_keys(c, "*"), ["live"]);
    assert_eq!(scan_all(c, &[]), ["live"]);
    ok(c, &["SET", "dead", "v", "PXAT", "1"]);
    assert_eq!(int(c, &["EXPIRE", "dead", "100"]), 0);
    assert_eq!(int(c, &["DEL", "dead"]), 0);
    assert_eq!(int(c, &["COPY", "dead", "x"]), 0);
    assert_eq!(int(c, &["MOVE", "dead", "1"]), 0);
    // A key with a short TTL goes away by itself.
    assert_eq!(int(c, &["PEXPIRE", "live", "1"]), 1);
    while int(c, &["EXISTS", "live"]) != 0 {
        std::thread::yield_now();
    }
    assert_eq!(int(c, &["TTL", "live"]), -2);
    assert_eq!(val(c, &["RANDOMKEY"]), Value::Nil);
    Ok(())
}

/// The elements of one `HSCAN`/`SSCAN`/`ZSCAN` reply (fields or members
/// only) and its cursor.
fn scan_step(c: &mut redis::Connection, cmd: &str, key: &str, cursor: &str, count: &str) -> (String, Vec<String>) {
    let Value::Array(reply) = val(c, &[cmd, key, cursor, "COUNT", count]) else { panic!("{cmd} reply") };
    let (Value::BulkString(next), Value::Array(items)) = (&reply[0], &reply[1]) else { panic!("{cmd} shape") };
    let step = if cmd == "SSCAN" { 1 } else { 2 };
    let names = items
        .iter()
        .step_by(step)
        .map(|v| match v {
            Value::BulkString(b) => String::from_utf8_lossy(b).into_owned(),
            v => panic!("{v:?}"),
        })
        .collect();
    (String::from_utf8_lossy(next).into_owned(), names)
}

#[test]
fn scans_of_large_collections_go_in_steps_and_miss_nothing_while_they_change() {
    let srv = TestServer::start();
    let mut c = srv.client();
    let n = 2000;
    for i in 0..n {
        let m = format!("m{i}");
        let _ = val(&mut c, &["HSET", "h", &m, "v"]);
        let _ = val(&mut c, &["SADD", "s", &m]);
        let _ = val(&mut c, &["ZADD", "z", &i.to_string(), &m]);
    }
    for (cmd, key) in [("HSCAN", "h"), ("SSCAN", "s"), ("ZSCAN", "z")] {
        let mut seen: HashMap<String, usize> = HashMap::new();
        let (mut cursor, mut calls, mut added) = ("0".to_string(), 0, 0);
        loop {
            let (next, names) = scan_step(&mut c, cmd, key, &cursor, "20");
            // About COUNT per call (keys sharing a hash come together).
            assert!(names.len() <= 25, "{cmd}: {} elements in one call", names.len());
            for m in names {
                *seen.entry(m).or_default() += 1;
            }
            calls += 1;
            // Between calls the collection grows and loses members
            // m1000..: those present throughout (m0..m999) must all come.
            for _ in 0..3 {
                let m = format!("new{added}");
                added += 1;
                let _ = match key {
                    "h" => val(&mut c, &["HSET", key, &m, "v"]),
                    "s" => val(&mut c, &["SADD", key, &m]),
                    _ => val(&mut c, &["ZADD", key, "-1", &m]),
                };
            }
            let gone = format!("m{}", 1000 + calls);
            let _ = match key {
                "h" => val(&mut c, &["HDEL", key, &gone]),
                "s" => val(&mut c, &["SREM", key, &gone]),
                _ => val(&mut c, &["ZREM", key, &gone]),
            };
            cursor = next;
            if cursor == "0" {
                break;
            }
        }
        assert!(calls >= 100, "{cmd}: {calls} calls");
        for i in 0..1000 {
            assert_eq!(seen.get(&format!("m{i}")), Some(&1), "{cmd}: m{i}");
        }
    }
    // The redis crate's iterators follow the cursor to the end.
    let fields: HashSet<(String, String)> = redis::Commands::hscan::<_, (String, String)>(&mut c, "h")
        .expect("HSCAN")
        .collect::<Result<_, _>>()
        .expect("HSCAN steps");
    let len: usize = redis::cmd("HLEN").arg("h").query(&mut c).expect("HLEN");
    assert_eq!(fields.len(), len);
    let members: HashSet<String> =
        redis::Commands::sscan(&mut c, "s").expect("SSCAN").collect::<Result<_, _>>().expect("SSCAN steps");
    assert_eq!(members.len(), redis::cmd("SCARD").arg("s").query::<usize>(&mut c).expect("SCARD"));
}

#[test]
fn random_picks_from_a_large_set_are_fair_and_quick() {
    let srv = TestServer::start();
    let mut c = srv.client();
    let n = 1000;
    let members: Vec<String> = (0..n).map(|i| format!("m{i}")).collect();
    let mut cmd = redis::cmd("SADD");
    cmd.arg("s").arg(&members);
    let _: i64 = cmd.query(&mut c).expect("SADD");
    let mut hits: HashMap<String, u32> = HashMap::new();
    let draws = 100_000;
    let picked: Vec<String> =
        redis::cmd("SRANDMEMBER").arg("s").arg(-draws).query(&mut c).expect("SRANDMEMBER negative count");
    for m in picked {
        *hits.entry(m).or_default() += 1;
    }
    // Each member: binomial(100000, 1/1000), mean 100, deviation 10.
    assert_eq!(hits.len(), n);
    let (lo, hi) = (hits.values().min().copied().unwrap_or(0), hits.values().max().copied().unwrap_or(0));
    assert!(lo >= 45 && hi <= 160, "fewest {lo}, most {hi}");
    // A few distinct ones by draws, and SPOP of one removes what it returns.
    let few: Vec<String> = redis::cmd("SRANDMEMBER").arg("s").arg(20).query(&mut c).expect("SRANDMEMBER");
    assert_eq!(few.iter().collect::<HashSet<_>>().len(), 20);
    let popped: String = redis::cmd("SPOP").arg("s").query(&mut c).expect("SPOP");
    assert_eq!(redis::cmd("SISMEMBER").arg("s").arg(&popped).query::<i64>(&mut c).expect("SISMEMBER"), 0);
    let popped: HashSet<String> = redis::cmd("SPOP").arg("s").arg(30).query(&mut c).expect("SPOP count");
    assert_eq!(popped.len(), 30);
    assert_eq!(redis::cmd("SCARD").arg("s").query::<usize>(&mut c).expect("SCARD"), n - 31);
}

#[test]
fn sort_by_other_keys_with_get_limit_and_store() {
    let srv = TestServer::start();
    let mut c = srv.client();
    let _ = val(&mut c, &["RPUSH", "ids", "3", "1", "2"]);
    let _ = val(&mut c, &["MSET", "w_1", "30", "w_2", "10", "w_3", "20", "name_2", "two"]);
    let _ = val(&mut c, &["HSET", "user_1", "name", "one"]);
    let sorted: Vec<i64> = redis::cmd("SORT").arg("ids").query(&mut c).expect("SORT");
    assert_eq!(sorted, [1, 2, 3]);
    let by: Vec<Option<String>> = redis::cmd("SORT")
        .arg(&["ids", "BY", "w_*", "DESC", "GET", "#", "GET", "name_*", "GET", "user_*->name"])
        .query(&mut c)
        .expect("SORT BY GET");
    let want = [Some("1"), None, Some("one"), Some("3"), None, None, Some("2"), Some("two"), None];
    assert_eq!(by, want.map(|v| v.map(str::to_string)));
    assert_eq!(val(&mut c, &["SORT", "ids", "LIMIT", "1", "1", "STORE", "out"]), Value::Int(1));
    let stored: Vec<String> = redis::cmd("LRANGE").arg(&["out", "0", "-1"]).query(&mut c).expect("LRANGE");
    assert_eq!(stored, ["2"]);
    assert_eq!(err(&mut c, &["SORT_RO", "ids", "STORE", "out"]), "ERR syntax error");
    // The destination is a key too (for COMMAND GETKEYS), the last STORE's.
    let keys: Vec<String> = redis::cmd("COMMAND")
        .arg(&["GETKEYS", "SORT", "ids", "GET", "store", "STORE", "a", "LIMIT", "0", "1", "STORE", "b"])
        .query(&mut c)
        .expect("COMMAND GETKEYS");
    assert_eq!(keys, ["ids", "b"]);
    let _ = val(&mut c, &["RPUSH", "words", "b", "a"]);
    assert_eq!(err(&mut c, &["SORT", "words"]), "ERR One or more scores can't be converted into double");
    assert_eq!(err(&mut c, &["SORT", "name_2"]), "WRONGTYPE Operation against a key holding the wrong kind of value");
}
