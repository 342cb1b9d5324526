//! Hash commands over the socket: replies in RESP2 and RESP3, edge cases,
//! and a model-based property test.

use std::collections::HashMap;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use redis::Value;

use crate::common::*;

const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";

fn bulk(s: &str) -> Value {
    Value::BulkString(s.as_bytes().to_vec())
}

/// A reply reduced to what the model can predict.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum N {
    /// Null.
    Nil,
    /// Integer.
    Int(i64),
    /// Bulk or status string.
    Str(String),
    /// Array, set or (flattened) map.
    Arr(Vec<N>),
    /// Error: code and message.
    Err(String),
}

/// Reduces a reply; maps become flat arrays, sets arrays.
pub fn norm(v: Value) -> N {
    match v {
        Value::Nil => N::Nil,
        Value::Int(n) => N::Int(n),
        Value::BulkString(b) => N::Str(String::from_utf8_lossy(&b).into_owned()),
        Value::SimpleString(s) => N::Str(s),
        Value::Okay => N::Str("OK".into()),
        Value::Array(items) | Value::Set(items) => N::Arr(items.into_iter().map(norm).collect()),
        Value::Map(pairs) => N::Arr(pairs.into_iter().flat_map(|(k, v)| [norm(k), norm(v)]).collect()),
        Value::ServerError(e) => N::Err(format!("{} {}", e.code(), e.details().unwrap_or("")).trim_end().to_string()),
        other => panic!("unexpected reply {other:?}"),
    }
}

/// Sorts an array reply (order-free replies), `pairs` at a time.
pub fn sorted(n: N, pairs: bool) -> N {
    match n {
        N::Arr(items) if pairs => {
            let mut chunks: Vec<Vec<N>> = items.chunks(2).map(<[N]>::to_vec).collect();
            chunks.sort();
            N::Arr(chunks.into_iter().flatten().collect())
        }
        N::Arr(mut items) => {
            items.sort();
            N::Arr(items)
        }
        other => other,
    }
}

/// A string reply.
pub fn s(v: &str) -> N {
    N::Str(v.to_string())
}

/// An array of strings.
pub fn strs<'a>(items: impl IntoIterator<Item = &'a String>) -> N {
    N::Arr(items.into_iter().map(|i| s(i)).collect())
}

/// The WRONGTYPE error.
pub fn wrongtype() -> N {
    N::Err(WRONGTYPE.into())
}

#[test]
fn basic_commands_resp2() -> TestResult {
    let srv = TestServer::start();
    let mut c = srv.client();
    assert_eq!(val(&mut c, &["HSET", "h", "a", "1", "b", "2", "a", "3"]), Value::Int(2));
    assert_eq!(val(&mut c, &["HSET", "h", "a", "4"]), Value::Int(0));
    assert_eq!(val(&mut c, &["HMSET", "h", "c", "3"]), Value::Okay);
    assert_eq!(val(&mut c, &["HSETNX", "h", "c", "9"]), Value::Int(0));
    assert_eq!(val(&mut c, &["HSETNX", "h", "d", ""]), Value::Int(1));
    assert_eq!(val(&mut c, &["HGET", "h", "a"]), bulk("4"));
    assert_eq!(val(&mut c, &["HGET", "h", "zz"]), Value::Nil);
    assert_eq!(val(&mut c, &["HMGET", "h", "a", "zz", "d"]), Value::Array(vec![bulk("4"), Value::Nil, bulk("")]));
    assert_eq!(val(&mut c, &["HMGET", "nokey", "a"]), Value::Array(vec![Value::Nil]));
    assert_eq!(val(&mut c, &["HLEN", "h"]), Value::Int(4));
    assert_eq!(val(&mut c, &["HEXISTS", "h", "d"]), Value::Int(1));
    assert_eq!(val(&mut c, &["HEXISTS", "h", "x"]), Value::Int(0));
    assert_eq!(val(&mut c, &["HSTRLEN", "h", "a"]), Value::Int(1));
    assert_eq!(val(&mut c, &["HSTRLEN", "h", "x"]), Value::Int(0));
    assert_eq!(sorted(norm(val(&mut c, &["HKEYS", "h"])), false), N::Arr(vec![s("a"), s("b"), s("c"), s("d")]));
    assert_eq!(sorted(norm(val(&mut c, &["HVALS", "h"])), false), N::Arr(vec![s(""), s("2"), s("3"), s("4")]));
    let all = val(&mut c, &["HGETALL", "h"]);
    assert!(matches!(all, Value::Array(ref v) if v.len() == 8), "{all:?}");
    assert_eq!(sorted(norm(all), true), N::Arr(vec![s("a"), s("4"), s("b"), s("2"), s("c"), s("3"), s("d"), s("")]));
    assert_eq!(val(&mut c, &["HDEL", "h", "a", "a", "zz"]), Value::Int(1));
    assert_eq!(val(&mut c, &["HDEL", "h", "b", "c", "d"]), Value::Int(3));
    assert_eq!(val(&mut c, &["HLEN", "h"]), Value::Int(0));
    assert_eq!(val(&mut c, &["HGETALL", "h"]), Value::Array(vec![]));
    assert_eq!(val(&mut c, &["HDEL", "h", "a"]), Value::Int(0));
    Ok(())
}

#[test]
fn errors_match_redis() -> TestResult {
    let srv = TestServer::start();
    let mut c = srv.client();
    let () = redis::cmd("SET").arg("str").arg("x").query(&mut c)?;
    for cmd in [
        &["HSET", "str", "a", "1"][..],
        &["HSETNX", "str", "a", "1"],
        &["HMSET", "str", "a", "1"],
        &["HGET", "str", "a"],
        &["HMGET", "str", "a"],
        &["HDEL", "str", "a"],
        &["HEXISTS", "str", "a"],
        &["HLEN", "str"],
        &["HKEYS", "str"],
        &["HVALS", "str"],
        &["HGETALL", "str"],
        &["HINCRBY", "str", "a", "1"],
        &["HINCRBYFLOAT", "str", "a", "1"],
        &["HSTRLEN", "str", "a"],
        &["HRANDFIELD", "str"],
        &["HRANDFIELD", "str", "0"],
        &["HSCAN", "str", "0"],
    ] {
        assert_eq!(err(&mut c, cmd), WRONGTYPE, "{cmd:?}");
    }
    assert_eq!(err(&mut c, &["HSET", "h", "a"]), "ERR wrong number of arguments for 'hset' command");
    assert_eq!(err(&mut c, &["HSET", "h", "a", "1", "b"]), "ERR wrong number of arguments for 'hset' command");
    assert_eq!(err(&mut c, &["HMSET", "h", "a", "1", "b"]), "ERR wrong number of arguments for 'hmset' command");
    assert_eq!(err(&mut c, &["HGET", "h"]), "ERR wrong number of arguments for 'hget' command");
    assert_eq!(err(&mut c, &["HSCAN", "h"]), "ERR wrong number of arguments for 'hscan' command");
    // Arity is checked before the type.
    assert_eq!(err(&mut c, &["HSET", "str", "a"]), "ERR wrong number of arguments for 'hset' command");
    Ok(())
}

#[test]
fn increments() -> TestResult {
    let srv = TestServer::start();
    let mut c = srv.client();
    assert_eq!(val(&mut c, &["HINCRBY", "h", "n", "5"]), Value::Int(5));
    assert_eq!(val(&mut c, &["HINCRBY", "h", "n", "-10"]), Value::Int(-5));
    assert_eq!(val(&mut c, &["HSET", "h", "s", "abc", "big", "9223372036854775807", "sp", " 1"]), Value::Int(3));
    assert_eq!(err(&mut c, &["HINCRBY", "h", "s", "1"]), "ERR hash value is not an integer");
    assert_eq!(err(&mut c, &["HINCRBY", "h", "sp", "1"]), "ERR hash value is not an integer");
    assert_eq!(err(&mut c, &["HINCRBY", "h", "n", "1.5"]), "ERR value is not an integer or out of range");
    assert_eq!(err(&mut c, &["HINCRBY", "h", "big", "1"]), "ERR increment or decrement would overflow");
    assert_eq!(val(&mut c, &["HINCRBY", "h", "big", "0"]), Value::Int(i64::MAX));
    assert_eq!(err(&mut c, &["HINCRBYFLOAT", "h", "s", "1"]), "ERR hash value is not a float");
    assert_eq!(err(&mut c, &["HINCRBYFLOAT", "h", "n", "x"]), "ERR value is not a valid float");
    assert_eq!(err(&mut c, &["HINCRBYFLOAT", "h", "n", "inf"]), "ERR value is NaN or Infinity");
    // The increment is checked before the type of the key.
    let () = redis::cmd("SET").arg("str").arg("x").query(&mut c)?;
    assert_eq!(err(&mut c, &["HINCRBY", "str", "f", "x"]), "ERR value is not an integer or out of range");
    assert_eq!(err(&mut c, &["HINCRBYFLOAT", "str", "f", "x"]), "ERR value is not a valid float");
    // Texts as redis-server 7.0 replies them.
    assert_eq!(val(&mut c, &["HINCRBYFLOAT", "f", "a", "0.1"]), bulk("0.1"));
    assert_eq!(val(&mut c, &["HINCRBYFLOAT", "f", "a", "0.2"]), bulk("0.3"));
    assert_eq!(val(&mut c, &["HINCRBYFLOAT", "f", "b", "10.5"]), bulk("10.5"));
    assert_eq!(val(&mut c, &["HINCRBYFLOAT", "f", "b", "0.1"]), bulk("10.6"));
    assert_eq!(val(&mut c, &["HINCRBYFLOAT", "f", "c", "5.0e3"]), bulk("5000"));
    assert_eq!(val(&mut c, &["HINCRBYFLOAT", "f", "d", "1e20"]), bulk("100000000000000000000"));
    assert_eq!(val(&mut c, &["HINCRBYFLOAT", "f", "e", "1e-20"]), bulk("0"));
    assert_eq!(val(&mut c, &["HINCRBYFLOAT", "f", "g", "5e17"]), bulk("500000000000000000"));
    assert_eq!(val(&mut c, &["HINCRBYFLOAT", "f", "g", "1"]), bulk("500000000000000001"));
    assert_eq!(val(&mut c, &["HINCRBYFLOAT", "f", "a", "-0.3"]), bulk("0"));
    assert_eq!(val(&mut c, &["HGET", "f", "b"]), bulk("10.6"));
    assert_eq!(val(&mut c, &["HINCRBY", "f", "c", "1"]), Value::Int(5001));
    assert_eq!(err(&mut c, &["HINCRBY", "f", "b", "1"]), "ERR hash value is not an integer");
    assert_eq!(val(&mut c, &["HSET", "f", "huge", "1.7e308"]), Value::Int(1));
    assert_eq!(err(&mut c, &["HINCRBYFLOAT", "f", "huge", "1.7e308"]), "ERR increment would produce NaN or Infinity");
    Ok(())
}

#[test]
fn hincrbyfloat_replies_bulk_in_resp3() -> TestResult {
    let srv = TestServer::start();
    let mut c = srv.client3();
    assert_eq!(val(&mut c, &["HINCRBYFLOAT", "h", "f", "1.5"]), bulk("1.5"));
    Ok(())
}

#[test]
fn resp3_shapes() -> TestResult {
    let srv = TestServer::start();
    let mut c = srv.client3();
    assert_eq!(val(&mut c, &["HSET", "h", "a", "1", "b", "2"]), Value::Int(2));
    let Value::Map(mut pairs) = val(&mut c, &["HGETALL", "h"]) else { panic!("HGETALL is not a map") };
    pairs.sort_by_key(|(k, _)| format!("{k:?}"));
    assert_eq!(pairs, vec![(bulk("a"), bulk("1")), (bulk("b"), bulk("2"))]);
    assert_eq!(val(&mut c, &["HGETALL", "nokey"]), Value::Map(vec![]));
    assert!(matches!(val(&mut c, &["HKEYS", "h"]), Value::Array(v) if v.len() == 2));
    assert!(matches!(val(&mut c, &["HVALS", "h"]), Value::Array(v) if v.len() == 2));
    assert_eq!(val(&mut c, &["HMGET", "h", "a", "x"]), Value::Array(vec![bulk("1"), Value::Nil]));
    assert_eq!(val(&mut c, &["HGET", "h", "x"]), Value::Nil);
    assert_eq!(val(&mut c, &["HRANDFIELD", "nokey"]), Value::Nil);
    assert_eq!(val(&mut c, &["HRANDFIELD", "nokey", "2"]), Value::Array(vec![]));
    // WITHVALUES: an array of [field, value] pairs in RESP3.
    let Value::Array(items) = val(&mut c, &["HRANDFIELD", "h", "-3", "WITHVALUES"]) else { panic!() };
    assert_eq!(items.len(), 3);
    for item in items {
        let Value::Array(kv) = item else { panic!("not a pair") };
        assert!(kv == vec![bulk("a"), bulk("1")] || kv == vec![bulk("b"), bulk("2")], "{kv:?}");
    }
    let Value::Array(items) = val(&mut c, &["HRANDFIELD", "h", "5", "WITHVALUES"]) else { panic!() };
    assert_eq!(items.len(), 2);
    // HSCAN stays an array of [cursor, flat array].
    let Value::Array(scan) = val(&mut c, &["HSCAN", "h", "0"]) else { panic!() };
    assert_eq!(scan[0], bulk("0"));
    assert!(matches!(&scan[1], Value::Array(v) if v.len() == 4));
    Ok(())
}

#[test]
fn hrandfield_counts() -> TestResult {
    let srv = TestServer::start();
    let mut c = srv.client();
    assert_eq!(val(&mut c, &["HSET", "h", "a", "1", "b", "2", "c", "3"]), Value::Int(3));
    let one = val(&mut c, &["HRANDFIELD", "h"]);
    assert!([bulk("a"), bulk("b"), bulk("c")].contains(&one), "{one:?}");
    assert_eq!(val(&mut c, &["HRANDFIELD", "h", "0"]), Value::Array(vec![]));
    assert_eq!(val(&mut c, &["HRANDFIELD", "h", "0", "WITHVALUES"]), Value::Array(vec![]));
    assert_eq!(val(&mut c, &["HRANDFIELD", "nokey", "-3", "WITHVALUES"]), Value::Array(vec![]));
    assert_eq!(sorted(norm(val(&mut c, &["HRANDFIELD", "h", "10"])), false), N::Arr(vec![s("a"), s("b"), s("c")]));
    let two = sorted(norm(val(&mut c, &["HRANDFIELD", "h", "2"])), false);
    let N::Arr(two) = two else { panic!() };
    assert_eq!(two.len(), 2);
    assert_ne!(two[0], two[1]);
    let N::Arr(many) = norm(val(&mut c, &["HRANDFIELD", "h", "-20"])) else { panic!() };
    assert_eq!(many.len(), 20);
    let flat = norm(val(&mut c, &["HRANDFIELD", "h", "-5", "WITHVALUES"]));
    let N::Arr(flat) = flat else { panic!() };
    assert_eq!(flat.len(), 10);
    for pair in flat.chunks(2) {
        assert!([[s("a"), s("1")], [s("b"), s("2")], [s("c"), s("3")]].iter().any(|p| p[..] == pair[..]));
    }
    assert_eq!(err(&mut c, &["HRANDFIELD", "h", "1", "foo"]), "ERR syntax error");
    assert_eq!(err(&mut c, &["HRANDFIELD", "h", "1", "WITHVALUES", "x"]), "ERR syntax error");
    assert_eq!(err(&mut c, &["HRANDFIELD", "h", "x"]), "ERR value is not an integer or out of range");
    assert_eq!(err(&mut c, &["HRANDFIELD", "nokey", "x"]), "ERR value is not an integer or out of range");
    assert_eq!(
        err(&mut c, &["HRANDFIELD", "h", "-9223372036854775808"]),
        "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"
    );
    assert_eq!(err(&mut c, &["HRANDFIELD", "h", "-4611686018427387904", "WITHVALUES"]), "ERR value is out of range");
    Ok(())
}

#[test]
fn hscan_options() -> TestResult {
    let srv = TestServer::start();
    let mut c = srv.client();
    for i in 0..300 {
        let f = format!("f{i}");
        let _ = val(&mut c, &["HSET", "big", &f, "v"]);
    }
    // Every field comes back exactly once over a full iteration.
    let mut cursor = "0".to_string();
    let mut seen = HashMap::new();
    loop {
        let Value::Array(reply) = val(&mut c, &["HSCAN", "big", &cursor, "COUNT", "10"]) else { panic!() };
        let N::Arr(items) = norm(reply[1].clone()) else { panic!() };
        for pair in items.chunks(2) {
            *seen.entry(pair[0].clone()).or_insert(0) += 1;
            assert_eq!(pair[1], s("v"));
        }
        let N::Str(next) = norm(reply[0].clone()) else { panic!() };
        cursor = next;
        if cursor == "0" {
            break;
        }
    }
    assert_eq!(seen.len(), 300);
    assert!(seen.values().all(|&n| n == 1));
    // Up to 512 short fields Redis keeps a hash in a listpack (OBJECT
    // ENCODING says so) and answers HSCAN whole; past that, in steps.
    let Value::Array(reply) = val(&mut c, &["HSCAN", "big", "0", "COUNT", "10"]) else { panic!() };
    assert_eq!(norm(reply[0].clone()), s("0"));
    for i in 300..600 {
        let f = format!("f{i}");
        let _ = val(&mut c, &["HSET", "big", &f, "v"]);
    }
    let Value::Array(reply) = val(&mut c, &["HSCAN", "big", "0", "COUNT", "10"]) else { panic!() };
    assert_ne!(norm(reply[0].clone()), s("0"));
    let _ = val(&mut c, &["HSET", "h", "a1", "1", "a2", "2", "b", "3"]);
    let Value::Array(reply) = val(&mut c, &["HSCAN", "h", "0", "MATCH", "a*", "COUNT", "1000"]) else { panic!() };
    assert_eq!(sorted(norm(reply[1].clone()), true), N::Arr(vec![s("a1"), s("1"), s("a2"), s("2")]));
    assert_eq!(err(&mut c, &["HSCAN", "h", "x"]), "ERR invalid cursor");
    assert_eq!(err(&mut c, &["HSCAN", "h", "0", "COUNT", "0"]), "ERR syntax error");
    assert_eq!(err(&mut c, &["HSCAN", "h", "0", "COUNT", "x"]), "ERR value is not an integer or out of range");
    assert_eq!(err(&mut c, &["HSCAN", "h", "0", "MATCH"]), "ERR syntax error");
    assert_eq!(err(&mut c, &["HSCAN", "h", "0", "TYPE", "string"]), "ERR syntax error");
    // A missing key answers before the options are read.
    assert_eq!(
        val(&mut c, &["HSCAN", "nokey", "0", "COUNT", "0"]),
        Value::Array(vec![bulk("0"), Value::Array(vec![])])
    );
    Ok(())
}

/// `OBJECT ENCODING` of a hash follows Redis 7.0 (default limits: 512
/// fields, 64 bytes): compact while within the limits, `hashtable` once past
/// them, and still `hashtable` after shrinking back (also when copied or
/// renamed). A compact hash lists its fields in insertion order, as a
/// listpack does. (Checked against redis-server 7.0.)
#[test]
fn encoding_follows_redis_history() -> TestResult {
    let srv = TestServer::start();
    let mut c = srv.client();
    let enc = |c: &mut redis::Connection, k: &str| val(c, &["OBJECT", "ENCODING", k]);
    let mut args = vec!["HSET".to_string(), "h".to_string()];
    for i in 0..512 {
        args.push(format!("f{i}"));
        args.push("v".into());
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    assert_eq!(val(&mut c, &args), Value::Int(512));
    assert_eq!(enc(&mut c, "h"), bulk("listpack"));
    assert_eq!(val(&mut c, &["HSET", "h", "f0", "w"]), Value::Int(0));
    assert_eq!(enc(&mut c, "h"), bulk("listpack"));
    assert_eq!(val(&mut c, &["HSET", "h", "f512", "v"]), Value::Int(1));
    assert_eq!(enc(&mut c, "h"), bulk("hashtable"));
    let mut del = vec!["HDEL", "h"];
    del.extend(&args[4..]);
    assert_eq!(val(&mut c, &del), Value::Int(511));
    assert_eq!(sorted(norm(val(&mut c, &["HGETALL", "h"])), true), N::Arr(vec![s("f0"), s("w"), s("f512"), s("v")]));
    assert_eq!(enc(&mut c, "h"), bulk("hashtable"));
    assert_eq!(val(&mut c, &["COPY", "h", "h2"]), Value::Int(1));
    assert_eq!(enc(&mut c, "h2"), bulk("hashtable"));
    assert_eq!(val(&mut c, &["RENAME", "h", "h3"]), Value::Okay);
    assert_eq!(enc(&mut c, "h3"), bulk("hashtable"));
    assert_eq!(val(&mut c, &["DEL", "h3"]), Value::Int(1));
    assert_eq!(val(&mut c, &["HSET", "h3", "a", "1"]), Value::Int(1));
    assert_eq!(enc(&mut c, "h3"), bulk("listpack"));

    let (v64, v65) = ("x".repeat(64), "x".repeat(65));
    assert_eq!(val(&mut c, &["HSET", "l", &v64, &v64]), Value::Int(1));
    assert_eq!(enc(&mut c, "l"), bulk("listpack"));
    assert_eq!(val(&mut c, &["HSET", "l", "f", &v65]), Value::Int(1));
    assert_eq!(enc(&mut c, "l"), bulk("hashtable"));
    for (cmd, key) in [
        (&["HSET", "a", "f", "v", &v65, "v"][..], "a"),
        (&["HSETNX", "b", &v65, "v"], "b"),
        (&["HINCRBY", "c", &v65, "1"], "c"),
        (&["HINCRBYFLOAT", "d", &v65, "1.5"], "d"),
    ] {
        let _ = val(&mut c, cmd);
        assert_eq!(enc(&mut c, key), bulk("hashtable"), "{cmd:?}");
    }
    // Nothing stored: the hash stays compact.
    assert_eq!(val(&mut c, &["HSETNX", "l2", "f", "v"]), Value::Int(1));
    assert_eq!(val(&mut c, &["HSETNX", "l2", "f", &v65]), Value::Int(0));
    assert_eq!(enc(&mut c, "l2"), bulk("listpack"));

    assert_eq!(val(&mut c, &["HSET", "o", "a", "1", "b", "2", "c", "3"]), Value::Int(3));
    assert_eq!(val(&mut c, &["HDEL", "o", "b"]), Value::Int(1));
    assert_eq!(val(&mut c, &["HSET", "o", "b", "9", "a", "0"]), Value::Int(1));
    assert_eq!(
        val(&mut c, &["HGETALL", "o"]),
        Value::Array(["a", "0", "c", "3", "b", "9"].into_iter().map(bulk).collect())
    );
    Ok(())
}

// ---------------------------------------------------------------------------
// Model-based property test.

/// One key of the model.
#[derive(Debug, Clone)]
enum M {
    Str,
    Hash(HashMap<String, String>),
}

const KEYS: [&str; 3] = ["k0", "k1", "k2"];
const FIELDS: [&str; 4] = ["a", "b", "c", "d"];
const VALUES: [&str; 5] = ["1", "-3", "abc", "2.5", ""];
const FLOAT_INCRS: [&str; 4] = ["0.5", "-1.25", "2", "0.75"];

fn cmd_strategy() -> impl Strategy<Value = Vec<String>> {
    let key = prop::sample::select(&KEYS[..]).prop_map(String::from);
    let field = prop::sample::select(&FIELDS[..]).prop_map(String::from);
    let value = prop::sample::select(&VALUES[..]).prop_map(String::from);
    let fields = prop::collection::vec(field.clone(), 1..4);
    let pairs = prop::collection::vec((field.clone(), value.clone()), 1..4);
    let words = |name: &'static str, rest: Vec<String>| {
        let mut v = vec![name.to_string()];
        v.extend(rest);
        v
    };
    prop_oneof![
        4 => (key.clone(), pairs).prop_map(move |(k, p)| {
            words("HSET", std::iter::once(k).chain(p.into_iter().flat_map(|(f, v)| [f, v])).collect())
        }),
        1 => (key.clone(), field.clone(), value.clone()).prop_map(move |(k, f, v)| words("HSETNX", vec![k, f, v])),
        2 => (key.clone(), fields.clone()).prop_map(move |(k, f)| words("HDEL", std::iter::once(k).chain(f).collect())),
        2 => (key.clone(), field.clone()).prop_map(move |(k, f)| words("HGET", vec![k, f])),
        1 => (key.clone(), fields).prop_map(move |(k, f)| words("HMGET", std::iter::once(k).chain(f).collect())),
        1 => (key.clone(), field.clone()).prop_map(move |(k, f)| words("HEXISTS", vec![k, f])),
        1 => (key.clone(), field.clone()).prop_map(move |(k, f)| words("HSTRLEN", vec![k, f])),
        1 => key.clone().prop_map(move |k| words("HLEN", vec![k])),
        1 => key.clone().prop_map(move |k| words("HKEYS", vec![k])),
        1 => key.clone().prop_map(move |k| words("HVALS", vec![k])),
        1 => key.clone().prop_map(move |k| words("HGETALL", vec![k])),
        1 => key.clone().prop_map(move |k| words("HSCAN", vec![k, "0".into()])),
        2 => (key.clone(), field.clone(), -3i64..4).prop_map(move |(k, f, n)| words("HINCRBY", vec![k, f, n.to_string()])),
        2 => (key.clone(), field, prop::sample::select(&FLOAT_INCRS[..]))
            .prop_map(move |(k, f, x)| words("HINCRBYFLOAT", vec![k, f, x.to_string()])),
        1 => (key.clone(), -4i64..5, any::<bool>()).prop_map(move |(k, n, wv)| {
            let mut v = vec![k, n.to_string()];
            if wv {
                v.push("WITHVALUES".into());
            }
            words("HRANDFIELD", v)
        }),
        1 => key.clone().prop_map(move |k| words("DEL", vec![k])),
        1 => key.prop_map(move |k| words("SET", vec![k, "x".into()])),
    ]
}

/// Applies `cmd` to the model; the expected reply (order-free replies
/// sorted), or `None` for a random reply the caller checks with `check`.
fn model_step(model: &mut HashMap<String, M>, cmd: &[String]) -> Result<N, String> {
    let name = cmd[0].as_str();
    let key = cmd[1].clone();
    let wrong = matches!(model.get(&key), Some(M::Str));
    if wrong && !matches!(name, "DEL" | "SET") {
        return Ok(wrongtype());
    }
    let empty = HashMap::new();
    let h = match model.get(&key) {
        Some(M::Hash(h)) => h,
        _ => &empty,
    };
    let reply = match name {
        "HSET" => {
            let mut h = h.clone();
            let mut added = 0;
            for p in cmd[2..].chunks(2) {
                if h.insert(p[0].clone(), p[1].clone()).is_none() {
                    added += 1;
                }
            }
            model.insert(key, M::Hash(h));
            N::Int(added)
        }
        "HSETNX" => {
            if h.contains_key(&cmd[2]) {
                N::Int(0)
            } else {
                let mut h = h.clone();
                h.insert(cmd[2].clone(), cmd[3].clone());
                model.insert(key, M::Hash(h));
                N::Int(1)
            }
        }
        "HDEL" => {
            let mut h = h.clone();
            let n = cmd[2..].iter().filter(|f| h.remove(*f).is_some()).count();
            if h.is_empty() {
                model.remove(&key);
            } else {
                model.insert(key, M::Hash(h));
            }
            N::Int(n as i64)
        }
        "HGET" => h.get(&cmd[2]).map_or(N::Nil, |v| s(v)),
        "HMGET" => N::Arr(cmd[2..].iter().map(|f| h.get(f).map_or(N::Nil, |v| s(v))).collect()),
        "HEXISTS" => N::Int(h.contains_key(&cmd[2]) as i64),
        "HSTRLEN" => N::Int(h.get(&cmd[2]).map_or(0, |v| v.len()) as i64),
        "HLEN" => N::Int(h.len() as i64),
        "HKEYS" => sorted(strs(h.keys()), false),
        "HVALS" => sorted(strs(h.values()), false),
        "HGETALL" => sorted(N::Arr(h.iter().flat_map(|(f, v)| [s(f), s(v)]).collect()), true),
        "HSCAN" => N::Arr(vec![s("0"), sorted(N::Arr(h.iter().flat_map(|(f, v)| [s(f), s(v)]).collect()), true)]),
        "HINCRBY" => {
            let by: i64 = cmd[3].parse().expect("generated");
            let cur = match h.get(&cmd[2]) {
                None => 0,
                Some(v) => match v.parse::<i64>() {
                    Ok(n) => n,
                    Err(_) => return Ok(N::Err("ERR hash value is not an integer".into())),
                },
            };
            let mut h = h.clone();
            h.insert(cmd[2].clone(), (cur + by).to_string());
            model.insert(key, M::Hash(h));
            N::Int(cur + by)
        }
        "HINCRBYFLOAT" => {
            let by: f64 = cmd[3].parse().expect("generated");
            let cur = match h.get(&cmd[2]) {
                None => 0.0,
                Some(v) => match v.parse::<f64>() {
                    Ok(n) if !v.is_empty() => n,
                    _ => return Ok(N::Err("ERR hash value is not a float".into())),
                },
            };
            // Every operand is a multiple of 0.25: exact in binary.
            let mut text = format!("{}", cur + by);
            if text == "-0" {
                text = "0".into();
            }
            let mut h = h.clone();
            h.insert(cmd[2].clone(), text.clone());
            model.insert(key, M::Hash(h));
            s(&text)
        }
        "HRANDFIELD" => return Err(key),
        "DEL" => N::Int(model.remove(&key).is_some() as i64),
        "SET" => {
            model.insert(key, M::Str);
            s("OK")
        }
        other => unreachable!("{other}"),
    };
    Ok(reply)
}

/// Checks a random reply against the model.
fn check_hrandfield(model: &HashMap<String, M>, cmd: &[String], got: N) -> Result<(), TestCaseError> {
    let empty = HashMap::new();
    let h = match model.get(&cmd[1]) {
        Some(M::Hash(h)) => h,
        _ => &empty,
    };
    let count: i64 = cmd[2].parse().expect("generated");
    let with_values = cmd.len() == 4;
    let N::Arr(items) = got else { return Err(TestCaseError::fail(format!("{cmd:?}: not an array: {got:?}"))) };
    // RESP3 nests [field, value] pairs; flatten them.
    let items: Vec<N> = items
        .into_iter()
        .flat_map(|i| match i {
            N::Arr(pair) => pair,
            other => vec![other],
        })
        .collect();
    let step = if with_values { 2 } else { 1 };
    let expected_len = if count >= 0 {
        (count as usize).min(h.len())
    } else if h.is_empty() {
        0
    } else {
        (-count) as usize
    };
    prop_assert_eq!(items.len(), expected_len * step, "{:?}", cmd);
    let mut fields: Vec<&N> = Vec::new();
    for chunk in items.chunks(step) {
        let N::Str(f) = &chunk[0] else { return Err(TestCaseError::fail("field not a string")) };
        prop_assert!(h.contains_key(f), "{:?}: {} not in the hash", cmd, f);
        if with_values {
            prop_assert_eq!(&chunk[1], &s(&h[f]));
        }
        fields.push(&chunk[0]);
    }
    if count > 0 {
        let before = fields.len();
        fields.sort();
        fields.dedup();
        prop_assert_eq!(fields.len(), before, "{:?}: repeated fields", cmd);
    }
    Ok(())
}

#[test]
fn hashes_follow_a_model() {
    let srv = TestServer::start();
    let c2 = std::cell::RefCell::new(srv.client());
    let c3 = std::cell::RefCell::new(srv.client3());
    let mut runner = TestRunner::new(Config { cases: 24, failure_persistence: None, ..Config::default() });
    let strategy = prop::collection::vec((cmd_strategy(), any::<bool>()), 1..40);
    runner
        .run(&strategy, |cmds| {
            for k in KEYS {
                let _ = val(&mut c2.borrow_mut(), &["DEL", k]);
            }
            let mut model: HashMap<String, M> = HashMap::new();
            for (cmd, resp3) in &cmds {
                let args: Vec<&str> = cmd.iter().map(String::as_str).collect();
                let got = norm(val(&mut if *resp3 { &c3 } else { &c2 }.borrow_mut(), &args));
                match model_step(&mut model, cmd) {
                    Ok(expected) => {
                        let got = match cmd[0].as_str() {
                            "HKEYS" | "HVALS" => sorted(got, false),
                            "HGETALL" => sorted(got, true),
                            "HSCAN" => match got {
                                N::Arr(mut v) if v.len() == 2 => {
                                    let items = v.pop().expect("two");
                                    v.push(sorted(items, true));
                                    N::Arr(v)
                                }
                                other => other,
                            },
                            _ => got,
                        };
                        prop_assert_eq!(got, expected, "{:?}", cmd);
                    }
                    Err(_) => check_hrandfield(&model, cmd, got)?,
                }
            }
            Ok(())
        })
        .unwrap();
}
