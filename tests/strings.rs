//! String commands over the socket: GET/SET and options, counters, ranges.

use crate::common::*;
use redis::Value;

fn int(c: &mut redis::Connection, args: &[&str]) -> i64 {
    match val(c, args) {
        Value::Int(n) => n,
        v => panic!("{args:?}: expected an integer, got {v:?}"),
    }
}

fn text(c: &mut redis::Connection, args: &[&str]) -> Option<String> {
    match val(c, args) {
        Value::Nil => None,
        Value::BulkString(b) => Some(String::from_utf8(b).expect("utf-8")),
        v => panic!("{args:?}: expected a bulk string or nil, got {v:?}"),
    }
}

fn ok(c: &mut redis::Connection, args: &[&str]) {
    assert_eq!(val(c, args), Value::Okay, "{args:?}");
}

fn unix_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_millis() as i64
}

#[test]
fn set_options_and_errors() -> TestResult {
    let srv = TestServer::start();
    let c = &mut srv.client();
    ok(c, &["SET", "k", "v"]);
    assert_eq!(text(c, &["GET", "k"]).as_deref(), Some("v"));
    assert_eq!(text(c, &["GET", "nokey"]), None);
    // NX / XX
    assert_eq!(val(c, &["SET", "k", "x", "NX"]), Value::Nil);
    ok(c, &["SET", "k", "x", "XX"]);
    assert_eq!(val(c, &["SET", "nokey", "x", "XX"]), Value::Nil);
    assert_eq!(int(c, &["EXISTS", "nokey"]), 0);
    ok(c, &["SET", "n", "x", "nx"]);
    // GET returns the old value, also when NX refuses.
    assert_eq!(text(c, &["SET", "k", "y", "GET"]).as_deref(), Some("x"));
    assert_eq!(text(c, &["SET", "k", "z", "NX", "GET"]).as_deref(), Some("y"));
    assert_eq!(text(c, &["GET", "k"]).as_deref(), Some("y"));
    assert_eq!(text(c, &["SET", "fresh", "1", "GET"]), None);
    // Expiry options.
    ok(c, &["SET", "k", "v", "EX", "100"]);
    assert_eq!(int(c, &["TTL", "k"]), 100);
    ok(c, &["SET", "k", "v", "PX", "100000"]);
    assert!((99_000..=100_000).contains(&int(c, &["PTTL", "k"])));
    ok(c, &["SET", "k", "v2", "KEEPTTL"]);
    assert!(int(c, &["PTTL", "k"]) > 0);
    ok(c, &["SET", "k", "v3"]);
    assert_eq!(int(c, &["TTL", "k"]), -1);
    let at = unix_ms() / 1000 + 1000;
    ok(c, &["SET", "k", "v", "EXAT", &at.to_string()]);
    assert_eq!(int(c, &["EXPIRETIME", "k"]), at);
    ok(c, &["SET", "k", "v", "PXAT", &(at * 1000 + 7).to_string()]);
    assert_eq!(int(c, &["PEXPIRETIME", "k"]), at * 1000 + 7);
    ok(c, &["SET", "k", "v", "EX", "10", "EX", "20"]);
    assert_eq!(int(c, &["TTL", "k"]), 20);
    // A deadline in the past stores a key that is already gone.
    ok(c, &["SET", "k", "v", "PXAT", "1"]);
    assert_eq!(int(c, &["EXISTS", "k"]), 0);
    // Errors, as Redis words them.
    for bad in [
        &["SET", "k", "v", "NX", "XX"][..],
        &["SET", "k", "v", "XX", "NX"],
        &["SET", "k", "v", "EX", "1", "PX", "1"],
        &["SET", "k", "v", "KEEPTTL", "EX", "1"],
        &["SET", "k", "v", "EX", "1", "KEEPTTL"],
        &["SET", "k", "v", "EX"],
        &["SET", "k", "v", "PERSIST"],
        &["SET", "k", "v", "FOO"],
    ] {
        assert_eq!(err(c, bad), "ERR syntax error", "{bad:?}");
    }
    for bad in ["0", "-1", "9223372036854776", "9223372036854775"] {
        assert_eq!(err(c, &["SET", "k", "v", "EX", bad]), "ERR invalid expire time in 'set' command", "{bad}");
    }
    assert_eq!(err(c, &["SET", "k", "v", "PX", "0"]), "ERR invalid expire time in 'set' command");
    assert_eq!(err(c, &["SET", "k", "v", "EXAT", "-5"]), "ERR invalid expire time in 'set' command");
    assert_eq!(err(c, &["SET", "k", "v", "EX", "abc"]), "ERR value is not an integer or out of range");
    assert_eq!(err(c, &["SET", "k", "v", "EX", "-0"]), "ERR value is not an integer or out of range");
    assert_eq!(err(c, &["SET", "k"]), "ERR wrong number of arguments for 'set' command");
    assert_eq!(err(c, &["GET", "k", "x"]), "ERR wrong number of arguments for 'get' command");
    Ok(())
}

#[test]
fn setnx_setex_psetex_getset_getdel() -> TestResult {
    let srv = TestServer::start();
    let c = &mut srv.client();
    assert_eq!(int(c, &["SETNX", "k", "1"]), 1);
    assert_eq!(int(c, &["SETNX", "k", "2"]), 0);
    assert_eq!(text(c, &["GET", "k"]).as_deref(), Some("1"));
    ok(c, &["SETEX", "k", "50", "v"]);
    assert_eq!(int(c, &["TTL", "k"]), 50);
    ok(c, &["PSETEX", "k", "50000", "w"]);
    assert_eq!(int(c, &["TTL", "k"]), 50);
    assert_eq!(text(c, &["GET", "k"]).as_deref(), Some("w"));
    assert_eq!(err(c, &["SETEX", "k", "0", "v"]), "ERR invalid expire time in 'setex' command");
    assert_eq!(err(c, &["PSETEX", "k", "-1", "v"]), "ERR invalid expire time in 'psetex' command");
    assert_eq!(err(c, &["SETEX", "k", "x", "v"]), "ERR value is not an integer or out of range");
    // GETSET clears the TTL.
    assert_eq!(text(c, &["GETSET", "k", "new"]).as_deref(), Some("w"));
    assert_eq!(int(c, &["TTL", "k"]), -1);
    assert_eq!(text(c, &["GETSET", "other", "x"]), None);
    assert_eq!(text(c, &["GETDEL", "k"]).as_deref(), Some("new"));
    assert_eq!(text(c, &["GETDEL", "k"]), None);
    assert_eq!(int(c, &["EXISTS", "k"]), 0);
    Ok(())
}

#[test]
fn getex_changes_expiry() -> TestResult {
    let srv = TestServer::start();
    let c = &mut srv.client();
    assert_eq!(val(c, &["GETEX", "nokey"]), Value::Nil);
    // The key is looked up before the expiry is validated.
    assert_eq!(val(c, &["GETEX", "nokey", "EX", "0"]), Value::Nil);
    ok(c, &["SET", "k", "v"]);
    assert_eq!(text(c, &["GETEX", "k"]).as_deref(), Some("v"));
    assert_eq!(int(c, &["TTL", "k"]), -1);
    assert_eq!(text(c, &["GETEX", "k", "EX", "100"]).as_deref(), Some("v"));
    assert_eq!(int(c, &["TTL", "k"]), 100);
    assert_eq!(text(c, &["GETEX", "k", "PX", "200000"]).as_deref(), Some("v"));
    assert_eq!(int(c, &["TTL", "k"]), 200);
    let at = unix_ms() / 1000 + 300;
    assert_eq!(text(c, &["GETEX", "k", "EXAT", &at.to_string()]).as_deref(), Some("v"));
    assert_eq!(int(c, &["EXPIRETIME", "k"]), at);
    assert_eq!(text(c, &["GETEX", "k", "PERSIST"]).as_deref(), Some("v"));
    assert_eq!(int(c, &["TTL", "k"]), -1);
    assert_eq!(err(c, &["GETEX", "k", "EX", "0"]), "ERR invalid expire time in 'getex' command");
    assert_eq!(err(c, &["GETEX", "k", "PERSIST", "EX", "5"]), "ERR syntax error");
    assert_eq!(err(c, &["GETEX", "k", "EX", "5", "PERSIST"]), "ERR syntax error");
    assert_eq!(err(c, &["GETEX", "k", "NX"]), "ERR syntax error");
    assert_eq!(err(c, &["GETEX", "k", "KEEPTTL"]), "ERR syntax error");
    // A past absolute time deletes the key after returning it.
    assert_eq!(text(c, &["GETEX", "k", "PXAT", "1"]).as_deref(), Some("v"));
    assert_eq!(int(c, &["EXISTS", "k"]), 0);
    Ok(())
}

#[test]
fn mget_mset_msetnx() -> TestResult {
    let srv = TestServer::start();
    let c = &mut srv.client();
    ok(c, &["MSET", "a", "1", "b", "2", "a", "3"]);
    let v: Vec<Option<String>> = redis::cmd("MGET").arg("a").arg("b").arg("nokey").arg("a").query(c)?;
    assert_eq!(v, [Some("3".into()), Some("2".into()), None, Some("3".into())]);
    assert_eq!(err(c, &["MSET", "a", "1", "b"]), "ERR wrong number of arguments for 'mset' command");
    assert_eq!(err(c, &["MSET", "a"]), "ERR wrong number of arguments for 'mset' command");
    assert_eq!(int(c, &["MSETNX", "a", "x", "c", "y"]), 0);
    assert_eq!(int(c, &["EXISTS", "c"]), 0);
    assert_eq!(int(c, &["MSETNX", "c", "x", "d", "y"]), 1);
    assert_eq!(text(c, &["GET", "d"]).as_deref(), Some("y"));
    assert_eq!(err(c, &["MSETNX", "e", "1", "f"]), "ERR wrong number of arguments for 'msetnx' command");
    // MSET clears expiry.
    ok(c, &["SET", "t", "1", "EX", "100"]);
    ok(c, &["MSET", "t", "2"]);
    assert_eq!(int(c, &["TTL", "t"]), -1);
    Ok(())
}

#[test]
fn append_strlen_getrange_setrange() -> TestResult {
    let srv = TestServer::start();
    let c = &mut srv.client();
    assert_eq!(int(c, &["APPEND", "s", "hello"]), 5);
    assert_eq!(int(c, &["APPEND", "s", " world"]), 11);
    assert_eq!(int(c, &["STRLEN", "s"]), 11);
    assert_eq!(int(c, &["STRLEN", "nokey"]), 0);
    let r = |c: &mut redis::Connection, a: &str, b: &str| text(c, &["GETRANGE", "s", a, b]).expect("bulk");
    assert_eq!(r(c, "0", "4"), "hello");
    assert_eq!(r(c, "-5", "-1"), "world");
    assert_eq!(r(c, "-1", "-5"), "");
    assert_eq!(r(c, "5", "1"), "");
    assert_eq!(r(c, "0", "100"), "hello world");
    assert_eq!(r(c, "-100", "-50"), "h");
    assert_eq!(r(c, "100", "200"), "");
    assert_eq!(r(c, "-100", "2"), "hel");
    assert_eq!(r(c, "0", "-1"), "hello world");
    assert_eq!(text(c, &["GETRANGE", "nokey", "0", "-1"]).as_deref(), Some(""));
    assert_eq!(text(c, &["SUBSTR", "s", "0", "1"]).as_deref(), Some("he"));
    assert_eq!(err(c, &["GETRANGE", "s", "a", "1"]), "ERR value is not an integer or out of range");
    // SETRANGE
    assert_eq!(int(c, &["SETRANGE", "s", "6", "W"]), 11);
    assert_eq!(text(c, &["GET", "s"]).as_deref(), Some("hello World"));
    assert_eq!(int(c, &["SETRANGE", "s", "13", "X"]), 14);
    assert_eq!(text(c, &["GET", "s"]).as_deref(), Some("hello World\0\0X"));
    assert_eq!(int(c, &["SETRANGE", "s", "0", ""]), 14);
    assert_eq!(int(c, &["SETRANGE", "nokey", "5", ""]), 0);
    assert_eq!(int(c, &["EXISTS", "nokey"]), 0);
    assert_eq!(int(c, &["SETRANGE", "new", "3", "abc"]), 6);
    assert_eq!(text(c, &["GET", "new"]).as_deref(), Some("\0\0\0abc"));
    assert_eq!(err(c, &["SETRANGE", "s", "-1", "x"]), "ERR offset is out of range");
    assert_eq!(err(c, &["SETRANGE", "s", "x", "x"]), "ERR value is not an integer or out of range");
    assert_eq!(
        err(c, &["SETRANGE", "s", "536870912", "x"]),
        "ERR string exceeds maximum allowed size (proto-max-bulk-len)"
    );
    assert_eq!(
        err(c, &["SETRANGE", "s", "9223372036854775807", "x"]),
        "ERR string exceeds maximum allowed size (proto-max-bulk-len)"
    );
    // APPEND keeps the TTL.
    ok(c, &["SET", "t", "a", "EX", "100"]);
    assert_eq!(int(c, &["APPEND", "t", "b"]), 2);
    assert_eq!(int(c, &["TTL", "t"]), 100);
    Ok(())
}

#[test]
fn append_and_setrange_respect_the_size_limit() -> TestResult {
    let srv = TestServer::start_with(|c| c.proto_max_bulk_len = 1024 * 1024);
    let c = &mut srv.client();
    assert_eq!(int(c, &["SETRANGE", "s", "1048575", "x"]), 1_048_576);
    assert_eq!(err(c, &["APPEND", "s", "y"]), "ERR string exceeds maximum allowed size (proto-max-bulk-len)");
    assert_eq!(
        err(c, &["SETRANGE", "s", "1048576", "x"]),
        "ERR string exceeds maximum allowed size (proto-max-bulk-len)"
    );
    Ok(())
}

#[test]
fn integer_counters() -> TestResult {
    let srv = TestServer::start();
    let c = &mut srv.client();
    assert_eq!(int(c, &["INCR", "n"]), 1);
    assert_eq!(int(c, &["INCR", "n"]), 2);
    assert_eq!(int(c, &["DECR", "n"]), 1);
    assert_eq!(int(c, &["INCRBY", "n", "10"]), 11);
    assert_eq!(int(c, &["DECRBY", "n", "100"]), -89);
    assert_eq!(int(c, &["DECR", "fresh"]), -1);
    assert_eq!(text(c, &["GET", "n"]).as_deref(), Some("-89"));
    let not_int = "ERR value is not an integer or out of range";
    assert_eq!(err(c, &["INCRBY", "n", "abc"]), not_int);
    assert_eq!(err(c, &["INCRBY", "n", "1.5"]), not_int);
    assert_eq!(err(c, &["INCRBY", "n", "-0"]), not_int);
    for stored in ["abc", " 1", "01", "1.0", "", "99999999999999999999"] {
        ok(c, &["SET", "x", stored]);
        assert_eq!(err(c, &["INCR", "x"]), not_int, "{stored:?}");
    }
    ok(c, &["SET", "x", "9223372036854775807"]);
    assert_eq!(err(c, &["INCR", "x"]), "ERR increment or decrement would overflow");
    ok(c, &["SET", "x", "-9223372036854775808"]);
    assert_eq!(err(c, &["DECR", "x"]), "ERR increment or decrement would overflow");
    assert_eq!(err(c, &["INCRBY", "x", "-1"]), "ERR increment or decrement would overflow");
    assert_eq!(err(c, &["DECRBY", "x", "-9223372036854775808"]), "ERR decrement would overflow");
    assert_eq!(int(c, &["INCRBY", "x", "9223372036854775807"]), -1);
    // Counters keep their TTL.
    ok(c, &["SET", "t", "1", "EX", "100"]);
    assert_eq!(int(c, &["INCR", "t"]), 2);
    assert_eq!(int(c, &["TTL", "t"]), 100);
    Ok(())
}

#[test]
fn float_counters() -> TestResult {
    let srv = TestServer::start();
    let c = &mut srv.client();
    ok(c, &["SET", "f", "10.50"]);
    assert_eq!(text(c, &["INCRBYFLOAT", "f", "0.1"]).as_deref(), Some("10.6"));
    assert_eq!(text(c, &["INCRBYFLOAT", "f", "-5"]).as_deref(), Some("5.6"));
    assert_eq!(text(c, &["INCRBYFLOAT", "f", "1e-20"]).as_deref(), Some("5.6"));
    ok(c, &["SET", "f", "5.0e3"]);
    assert_eq!(text(c, &["INCRBYFLOAT", "f", "2.0e2"]).as_deref(), Some("5200"));
    assert_eq!(text(c, &["INCRBYFLOAT", "g", "+1.5"]).as_deref(), Some("1.5"));
    assert_eq!(text(c, &["INCRBYFLOAT", "g", ".5"]).as_deref(), Some("2"));
    assert_eq!(text(c, &["INCRBYFLOAT", "h", "1e-20"]).as_deref(), Some("0"));
    let not_float = "ERR value is not a valid float";
    assert_eq!(err(c, &["INCRBYFLOAT", "f", "abc"]), not_float);
    assert_eq!(err(c, &["INCRBYFLOAT", "f", "nan"]), not_float);
    assert_eq!(err(c, &["INCRBYFLOAT", "f", " 1"]), not_float);
    ok(c, &["SET", "s", "hello"]);
    assert_eq!(err(c, &["INCRBYFLOAT", "s", "1"]), not_float);
    let naninf = "ERR increment would produce NaN or Infinity";
    assert_eq!(err(c, &["INCRBYFLOAT", "f", "inf"]), naninf);
    assert_eq!(err(c, &["INCRBYFLOAT", "f", "-inf"]), naninf);
    ok(c, &["SET", "big", "1.7e308"]);
    assert_eq!(err(c, &["INCRBYFLOAT", "big", "1.7e308"]), naninf);
    assert_eq!(text(c, &["GET", "f"]).as_deref(), Some("5200"));
    ok(c, &["SET", "t", "1", "EX", "100"]);
    assert_eq!(text(c, &["INCRBYFLOAT", "t", "0.5"]).as_deref(), Some("1.5"));
    assert_eq!(int(c, &["TTL", "t"]), 100);
    Ok(())
}

#[test]
fn expired_strings_are_invisible() -> TestResult {
    let srv = TestServer::start();
    let c = &mut srv.client();
    ok(c, &["SET", "k", "v", "PXAT", "1"]);
    assert_eq!(val(c, &["GET", "k"]), Value::Nil);
    assert_eq!(int(c, &["STRLEN", "k"]), 0);
    assert_eq!(int(c, &["SETNX", "k", "new"]), 1);
    ok(c, &["SET", "k", "v", "PXAT", "1"]);
    assert_eq!(int(c, &["APPEND", "k", "ab"]), 2);
    assert_eq!(int(c, &["TTL", "k"]), -1);
    ok(c, &["SET", "n", "41", "PXAT", "1"]);
    assert_eq!(int(c, &["INCR", "n"]), 1);
    ok(c, &["SET", "m", "v", "PXAT", "1"]);
    assert_eq!(val(c, &["SET", "m", "w", "XX"]), Value::Nil);
    let v: Vec<Option<String>> = redis::cmd("MGET").arg("m").arg("k").query(c)?;
    assert_eq!(v, [None, Some("ab".into())]);
    // A key with a short TTL disappears on its own.
    ok(c, &["PSETEX", "short", "1", "v"]);
    while int(c, &["PTTL", "short"]) != -2 {
        std::thread::yield_now();
    }
    assert_eq!(val(c, &["GET", "short"]), Value::Nil);
    Ok(())
}

#[test]
fn binary_safe_values() -> TestResult {
    let srv = TestServer::start();
    let c = &mut srv.client();
    let blob: Vec<u8> = (0..=255u8).collect();
    let () = redis::cmd("SET").arg("b").arg(&blob[..]).query(c)?;
    let got: Vec<u8> = redis::cmd("GET").arg("b").query(c)?;
    assert_eq!(got, blob);
    assert_eq!(val(c, &["GET", "nokey"]), Value::Nil);
    assert_eq!(int(c, &["STRLEN", "b"]), 256);
    Ok(())
}

#[test]
fn lcs_over_the_socket() -> TestResult {
    let srv = TestServer::start();
    let c = &mut srv.client();
    ok(c, &["MSET", "key1", "ohmytext", "key2", "mynewtext"]);
    assert_eq!(text(c, &["LCS", "key1", "key2"]).as_deref(), Some("mytext"));
    assert_eq!(int(c, &["LCS", "key1", "key2", "LEN"]), 6);
    let v = val(c, &["LCS", "key1", "key2", "IDX", "WITHMATCHLEN"]);
    let i = |n: i64| Value::Int(n);
    let range = |a, b| Value::Array(vec![i(a), i(b)]);
    assert_eq!(
        v,
        Value::Array(vec![
            Value::BulkString(b"matches".to_vec()),
            Value::Array(vec![
                Value::Array(vec![range(4, 7), range(5, 8), i(4)]),
                Value::Array(vec![range(2, 3), range(0, 1), i(2)]),
            ]),
            Value::BulkString(b"len".to_vec()),
            i(6),
        ])
    );
    assert_eq!(text(c, &["LCS", "nokey", "key2"]).as_deref(), Some(""));
    assert_eq!(
        err(c, &["LCS", "key1", "key2", "IDX", "LEN"]),
        "ERR If you want both the length and indexes, please just use IDX."
    );
    Ok(())
}

#[test]
fn hyperloglogs_count_merge_and_survive_a_restart() {
    let mut srv = TestServer::start();
    let mut c = srv.client();
    let first: Vec<String> = (0..1000).map(|i| format!("user:{i}")).collect();
    let second: Vec<String> = (500..3000).map(|i| format!("user:{i}")).collect();
    let added: i64 = redis::cmd("PFADD").arg("a").arg(&first).query(&mut c).expect("PFADD");
    assert_eq!(added, 1);
    assert_eq!(int(&mut c, &["PFADD", "a", "user:1"]), 0, "nothing new");
    let _: i64 = redis::cmd("PFADD").arg("b").arg(&second).query(&mut c).expect("PFADD");
    let near = |n: i64, want: i64| (n - want).abs() * 100 <= want * 2;
    let a = int(&mut c, &["PFCOUNT", "a"]);
    assert!(near(a, 1000), "{a}");
    let union = int(&mut c, &["PFCOUNT", "a", "b"]);
    assert!(near(union, 3000), "{union}");
    ok(&mut c, &["PFMERGE", "u", "a", "b"]);
    assert_eq!(int(&mut c, &["PFCOUNT", "u"]), union);
    // The sketch is a string Redis can read: a sparse one starts small.
    assert_eq!(int(&mut c, &["PFADD", "small", "x"]), 1);
    let small: Vec<u8> = redis::cmd("GET").arg("small").query(&mut c).expect("GET");
    assert_eq!(&small[..5], b"HYLL\x01");
    assert!(small.len() < 30);
    ok(&mut c, &["SET", "s", "not a sketch"]);
    let e = err(&mut c, &["PFADD", "s", "x"]);
    assert_eq!(e, "WRONGTYPE Key is not a valid HyperLogLog string value.");
    srv.restart();
    let mut c = srv.client();
    assert_eq!(int(&mut c, &["PFCOUNT", "a"]), a);
    assert_eq!(int(&mut c, &["PFCOUNT", "u"]), union);
    let again: Vec<u8> = redis::cmd("GET").arg("small").query(&mut c).expect("GET");
    assert_eq!(again, small);
}
