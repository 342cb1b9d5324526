//! Set commands over the socket: replies in RESP2 and RESP3, edge cases,
//! and a model-based property test.

use std::collections::{BTreeSet, HashMap};

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use redis::Value;

use crate::common::*;
use crate::hashes::{N, norm, s, sorted, wrongtype};

const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";

fn bulk(s: &str) -> Value {
    Value::BulkString(s.as_bytes().to_vec())
}

fn members(list: &str) -> N {
    N::Arr(list.split(' ').filter(|m| !m.is_empty()).map(s).collect())
}

/// The reply sorted (for order-free replies).
fn q(c: &mut redis::Connection, args: &[&str]) -> N {
    sorted(norm(val(c, args)), false)
}

#[test]
fn membership_resp2() -> TestResult {
    let srv = TestServer::start();
    let mut c = srv.client();
    assert_eq!(val(&mut c, &["SADD", "s", "a", "b", "a", "c"]), Value::Int(3));
    assert_eq!(val(&mut c, &["SADD", "s", "a", "d"]), Value::Int(1));
    assert_eq!(val(&mut c, &["SCARD", "s"]), Value::Int(4));
    assert_eq!(val(&mut c, &["SCARD", "nokey"]), Value::Int(0));
    assert_eq!(val(&mut c, &["SISMEMBER", "s", "a"]), Value::Int(1));
    assert_eq!(val(&mut c, &["SISMEMBER", "s", "z"]), Value::Int(0));
    assert_eq!(val(&mut c, &["SISMEMBER", "nokey", "z"]), Value::Int(0));
    assert_eq!(val(&mut c, &["SMISMEMBER", "s", "a", "z"]), Value::Array(vec![Value::Int(1), Value::Int(0)]));
    assert_eq!(val(&mut c, &["SMISMEMBER", "nokey", "a"]), Value::Array(vec![Value::Int(0)]));
    assert_eq!(q(&mut c, &["SMEMBERS", "s"]), members("a b c d"));
    assert_eq!(val(&mut c, &["SMEMBERS", "nokey"]), Value::Array(vec![]));
    assert_eq!(val(&mut c, &["SREM", "s", "a", "a", "z"]), Value::Int(1));
    assert_eq!(val(&mut c, &["SREM", "nokey", "a"]), Value::Int(0));
    assert_eq!(val(&mut c, &["SREM", "s", "b", "c", "d"]), Value::Int(3));
    assert_eq!(val(&mut c, &["SCARD", "s"]), Value::Int(0));
    // The emptied set is gone: another type can take the key.
    let () = redis::cmd("SET").arg("s").arg("x").query(&mut c)?;
    Ok(())
}

#[test]
fn errors_match_redis() -> TestResult {
    let srv = TestServer::start();
    let mut c = srv.client();
    let () = redis::cmd("SET").arg("str").arg("x").query(&mut c)?;
    let _ = val(&mut c, &["SADD", "s", "a", "b", "c"]);
    for cmd in [
        &["SADD", "str", "a"][..],
        &["SREM", "str", "a"],
        &["SISMEMBER", "str", "a"],
        &["SMISMEMBER", "str", "a"],
        &["SMEMBERS", "str"],
        &["SCARD", "str"],
        &["SPOP", "str"],
        &["SPOP", "str", "0"],
        &["SRANDMEMBER", "str"],
        &["SRANDMEMBER", "str", "0"],
        &["SINTER", "nokey", "str"],
        &["SINTER", "str", "nokey"],
        &["SINTERCARD", "2", "nokey", "str"],
        &["SINTERSTORE", "d", "nokey", "str"],
        &["SUNION", "s", "str"],
        &["SUNIONSTORE", "d", "s", "str"],
        &["SDIFF", "nokey", "str"],
        &["SDIFFSTORE", "d", "nokey", "str"],
        &["SMOVE", "s", "str", "a"],
        &["SMOVE", "str", "s", "a"],
        &["SSCAN", "str", "0"],
    ] {
        assert_eq!(err(&mut c, cmd), WRONGTYPE, "{cmd:?}");
    }
    // A missing source answers 0 before the destination's type is checked.
    assert_eq!(val(&mut c, &["SMOVE", "nokey", "str", "a"]), Value::Int(0));
    assert_eq!(err(&mut c, &["SPOP", "s", "-1"]), "ERR value is out of range, must be positive");
    assert_eq!(err(&mut c, &["SPOP", "nokey", "x"]), "ERR value is out of range, must be positive");
    assert_eq!(err(&mut c, &["SPOP", "s", "1", "2"]), "ERR syntax error");
    assert_eq!(err(&mut c, &["SRANDMEMBER", "s", "1", "2"]), "ERR syntax error");
    assert_eq!(err(&mut c, &["SRANDMEMBER", "nokey", "x"]), "ERR value is not an integer or out of range");
    assert_eq!(
        err(&mut c, &["SRANDMEMBER", "s", "-9223372036854775808"]),
        "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"
    );
    assert_eq!(err(&mut c, &["SINTERCARD", "0", "s"]), "ERR numkeys should be greater than 0");
    assert_eq!(err(&mut c, &["SINTERCARD", "x", "s"]), "ERR numkeys should be greater than 0");
    assert_eq!(err(&mut c, &["SINTERCARD", "3", "s"]), "ERR Number of keys can't be greater than number of args");
    assert_eq!(err(&mut c, &["SINTERCARD", "1", "s", "LIMIT", "-1"]), "ERR LIMIT can't be negative");
    assert_eq!(err(&mut c, &["SINTERCARD", "1", "s", "LIMIT", "x"]), "ERR LIMIT can't be negative");
    assert_eq!(err(&mut c, &["SINTERCARD", "1", "s", "LIMIT"]), "ERR syntax error");
    assert_eq!(err(&mut c, &["SINTERCARD", "1", "nokey", "str"]), "ERR syntax error");
    assert_eq!(err(&mut c, &["SADD", "s"]), "ERR wrong number of arguments for 'sadd' command");
    assert_eq!(err(&mut c, &["SINTERCARD", "1"]), "ERR wrong number of arguments for 'sintercard' command");
    assert_eq!(err(&mut c, &["SSCAN", "s", "x"]), "ERR invalid cursor");
    assert_eq!(err(&mut c, &["SSCAN", "s", "0", "COUNT", "0"]), "ERR syntax error");
    Ok(())
}

#[test]
fn pop_and_random_members() -> TestResult {
    let srv = TestServer::start();
    let mut c = srv.client();
    let _ = val(&mut c, &["SADD", "s", "a", "b", "c", "d", "e"]);
    let Value::BulkString(one) = val(&mut c, &["SPOP", "s"]) else { panic!() };
    let one = String::from_utf8(one)?;
    assert_eq!(val(&mut c, &["SISMEMBER", "s", &one]), Value::Int(0));
    let N::Arr(two) = norm(val(&mut c, &["SPOP", "s", "2"])) else { panic!() };
    assert_eq!(two.len(), 2);
    assert_ne!(two[0], two[1]);
    assert_eq!(val(&mut c, &["SCARD", "s"]), Value::Int(2));
    assert_eq!(val(&mut c, &["SPOP", "s", "0"]), Value::Array(vec![]));
    assert_eq!(val(&mut c, &["SPOP", "nokey"]), Value::Nil);
    assert_eq!(val(&mut c, &["SPOP", "nokey", "3"]), Value::Array(vec![]));
    let N::Arr(rest) = norm(val(&mut c, &["SPOP", "s", "10"])) else { panic!() };
    assert_eq!(rest.len(), 2);
    assert_eq!(val(&mut c, &["SCARD", "s"]), Value::Int(0));

    let _ = val(&mut c, &["SADD", "r", "a", "b", "c"]);
    assert_eq!(q(&mut c, &["SRANDMEMBER", "r", "3"]), members("a b c"));
    assert_eq!(q(&mut c, &["SRANDMEMBER", "r", "30"]), members("a b c"));
    assert_eq!(val(&mut c, &["SRANDMEMBER", "r", "0"]), Value::Array(vec![]));
    assert_eq!(val(&mut c, &["SRANDMEMBER", "nokey"]), Value::Nil);
    assert_eq!(val(&mut c, &["SRANDMEMBER", "nokey", "-2"]), Value::Array(vec![]));
    let N::Arr(two) = norm(val(&mut c, &["SRANDMEMBER", "r", "2"])) else { panic!() };
    assert_eq!(two.len(), 2);
    assert_ne!(two[0], two[1]);
    let N::Arr(many) = norm(val(&mut c, &["SRANDMEMBER", "r", "-50"])) else { panic!() };
    assert_eq!(many.len(), 50);
    assert!(many.iter().all(|m| [s("a"), s("b"), s("c")].contains(m)));
    // Every member shows up: the choice is not stuck on one element.
    let distinct: BTreeSet<N> = many.into_iter().collect();
    assert_eq!(distinct.len(), 3);
    assert_eq!(val(&mut c, &["SCARD", "r"]), Value::Int(3));
    Ok(())
}

#[test]
fn smove_cases() -> TestResult {
    let srv = TestServer::start();
    let mut c = srv.client();
    let _ = val(&mut c, &["SADD", "a", "x", "y"]);
    let _ = val(&mut c, &["SADD", "b", "y"]);
    assert_eq!(val(&mut c, &["SMOVE", "a", "a", "x"]), Value::Int(1));
    assert_eq!(val(&mut c, &["SMOVE", "a", "a", "z"]), Value::Int(0));
    assert_eq!(val(&mut c, &["SMOVE", "a", "b", "z"]), Value::Int(0));
    assert_eq!(val(&mut c, &["SMOVE", "a", "b", "y"]), Value::Int(1));
    assert_eq!(q(&mut c, &["SMEMBERS", "a"]), members("x"));
    assert_eq!(q(&mut c, &["SMEMBERS", "b"]), members("y"));
    assert_eq!(val(&mut c, &["SMOVE", "a", "new", "x"]), Value::Int(1));
    assert_eq!(val(&mut c, &["SCARD", "a"]), Value::Int(0));
    assert_eq!(q(&mut c, &["SMEMBERS", "new"]), members("x"));
    Ok(())
}

#[test]
fn algebra_and_store() -> TestResult {
    let srv = TestServer::start();
    let mut c = srv.client();
    let _ = val(&mut c, &["SADD", "a", "1", "2", "3", "4"]);
    let _ = val(&mut c, &["SADD", "b", "3", "4", "5"]);
    let _ = val(&mut c, &["SADD", "c", "4", "5", "6"]);
    assert_eq!(q(&mut c, &["SINTER", "a", "b"]), members("3 4"));
    assert_eq!(q(&mut c, &["SINTER", "a", "b", "c"]), members("4"));
    assert_eq!(q(&mut c, &["SINTER", "a", "nokey"]), members(""));
    assert_eq!(q(&mut c, &["SINTER", "a"]), members("1 2 3 4"));
    assert_eq!(q(&mut c, &["SUNION", "a", "nokey", "c"]), members("1 2 3 4 5 6"));
    assert_eq!(q(&mut c, &["SDIFF", "a", "b"]), members("1 2"));
    assert_eq!(q(&mut c, &["SDIFF", "a", "b", "c"]), members("1 2"));
    assert_eq!(q(&mut c, &["SDIFF", "nokey", "a"]), members(""));
    assert_eq!(val(&mut c, &["SINTERCARD", "2", "a", "b"]), Value::Int(2));
    assert_eq!(val(&mut c, &["SINTERCARD", "2", "a", "b", "LIMIT", "1"]), Value::Int(1));
    assert_eq!(val(&mut c, &["SINTERCARD", "2", "a", "b", "LIMIT", "0"]), Value::Int(2));
    assert_eq!(val(&mut c, &["SINTERCARD", "1", "a", "limit", "9", "LIMIT", "3"]), Value::Int(3));
    assert_eq!(val(&mut c, &["SINTERCARD", "2", "a", "nokey"]), Value::Int(0));

    // STORE forms replace the destination, whatever it held, and drop its TTL.
    let () = redis::cmd("SET").arg("d").arg("x").arg("EX").arg("100").query(&mut c)?;
    assert_eq!(val(&mut c, &["SUNIONSTORE", "d", "a", "b"]), Value::Int(5));
    assert_eq!(q(&mut c, &["SMEMBERS", "d"]), members("1 2 3 4 5"));
    assert_eq!(val(&mut c, &["SINTERSTORE", "d", "a", "b"]), Value::Int(2));
    assert_eq!(q(&mut c, &["SMEMBERS", "d"]), members("3 4"));
    assert_eq!(val(&mut c, &["SDIFFSTORE", "d", "a", "b", "c"]), Value::Int(2));
    assert_eq!(q(&mut c, &["SMEMBERS", "d"]), members("1 2"));
    // An empty result deletes the destination.
    assert_eq!(val(&mut c, &["SINTERSTORE", "d", "a", "nokey"]), Value::Int(0));
    assert_eq!(val(&mut c, &["SCARD", "d"]), Value::Int(0));
    let _ = val(&mut c, &["SADD", "d", "z"]);
    assert_eq!(val(&mut c, &["SDIFFSTORE", "d", "a", "a"]), Value::Int(0));
    assert_eq!(val(&mut c, &["SCARD", "d"]), Value::Int(0));
    // The destination may be a source.
    assert_eq!(val(&mut c, &["SUNIONSTORE", "a", "a", "c"]), Value::Int(6));
    assert_eq!(q(&mut c, &["SMEMBERS", "a"]), members("1 2 3 4 5 6"));
    Ok(())
}

#[test]
fn resp3_shapes() -> TestResult {
    let srv = TestServer::start();
    let mut c = srv.client3();
    let _ = val(&mut c, &["SADD", "a", "1", "2"]);
    let _ = val(&mut c, &["SADD", "b", "2", "3"]);
    for cmd in [
        &["SMEMBERS", "a"][..],
        &["SINTER", "a", "b"],
        &["SUNION", "a", "b"],
        &["SDIFF", "a", "b"],
        &["SMEMBERS", "nokey"],
        &["SINTER", "a", "nokey"],
    ] {
        assert!(matches!(val(&mut c, cmd), Value::Set(_)), "{cmd:?}");
    }
    assert_eq!(val(&mut c, &["SMEMBERS", "nokey"]), Value::Set(vec![]));
    assert_eq!(val(&mut c, &["SPOP", "nokey", "2"]), Value::Set(vec![]));
    assert_eq!(val(&mut c, &["SPOP", "a", "0"]), Value::Set(vec![]));
    assert!(matches!(val(&mut c, &["SPOP", "a", "1"]), Value::Set(v) if v.len() == 1));
    assert!(matches!(val(&mut c, &["SRANDMEMBER", "b", "2"]), Value::Array(v) if v.len() == 2));
    assert_eq!(val(&mut c, &["SRANDMEMBER", "nokey", "2"]), Value::Array(vec![]));
    assert_eq!(val(&mut c, &["SPOP", "nokey"]), Value::Nil);
    assert_eq!(val(&mut c, &["SISMEMBER", "b", "2"]), Value::Int(1));
    assert_eq!(val(&mut c, &["SMISMEMBER", "b", "2", "9"]), Value::Array(vec![Value::Int(1), Value::Int(0)]));
    let Value::Array(scan) = val(&mut c, &["SSCAN", "b", "0", "MATCH", "3"]) else { panic!() };
    assert_eq!(scan, vec![bulk("0"), Value::Array(vec![bulk("3")])]);
    Ok(())
}

#[test]
fn sscan_returns_every_member_once() -> TestResult {
    let srv = TestServer::start();
    let mut c = srv.client();
    let mut args = vec!["SADD".to_string(), "big".to_string()];
    args.extend((0..500).map(|i| format!("m{i}")));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    assert_eq!(val(&mut c, &refs), Value::Int(500));
    let mut cursor = "0".to_string();
    let mut seen: HashMap<N, usize> = HashMap::new();
    loop {
        let Value::Array(reply) = val(&mut c, &["SSCAN", "big", &cursor, "COUNT", "7"]) else { panic!() };
        let N::Arr(items) = norm(reply[1].clone()) else { panic!() };
        for m in items {
            *seen.entry(m).or_insert(0) += 1;
        }
        let N::Str(next) = norm(reply[0].clone()) else { panic!() };
        cursor = next;
        if cursor == "0" {
            break;
        }
    }
    assert_eq!(seen.len(), 500);
    assert!(seen.values().all(|&n| n == 1));
    assert_eq!(
        val(&mut c, &["SSCAN", "nokey", "0", "COUNT", "0"]),
        Value::Array(vec![bulk("0"), Value::Array(vec![])])
    );
    Ok(())
}

/// Sets on both sides of the compact limit (128 members, 64 bytes) behave
/// the same, and `OBJECT ENCODING` still answers what Redis 7.0 does
/// (`intset` for up to 512 integers, `hashtable` otherwise).
#[test]
fn sets_across_the_compact_limit() -> TestResult {
    let srv = TestServer::start();
    let mut c = srv.client();
    let all = |n: usize, p: &str| -> BTreeSet<String> { (0..n).map(|i| format!("{p}{i}")).collect() };
    let as_n = |set: &BTreeSet<String>| N::Arr(set.iter().map(|m| s(m)).collect());
    for (key, n) in [("small", 100), ("edge", 128), ("big", 129), ("bigger", 300)] {
        let mut args = vec!["SADD".to_string(), key.to_string()];
        args.extend(all(n, "m"));
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        assert_eq!(val(&mut c, &refs), Value::Int(n as i64));
        assert_eq!(val(&mut c, &["SCARD", key]), Value::Int(n as i64));
        assert_eq!(q(&mut c, &["SMEMBERS", key]), as_n(&all(n, "m")));
        assert_eq!(q(&mut c, &["SRANDMEMBER", key, "1000"]), as_n(&all(n, "m")));
        let Value::Array(scan) = val(&mut c, &["SSCAN", key, "0", "COUNT", "1000"]) else { panic!() };
        assert_eq!(sorted(norm(scan[1].clone()), false), as_n(&all(n, "m")));
        assert_eq!(val(&mut c, &["SISMEMBER", key, &format!("m{}", n - 1)]), Value::Int(1));
        assert_eq!(val(&mut c, &["OBJECT", "ENCODING", key]), bulk("hashtable"));
        // Half popped: the popped and the remaining members make up the set.
        let N::Arr(popped) = norm(val(&mut c, &["SPOP", key, &(n / 2).to_string()])) else { panic!() };
        let N::Arr(rest) = q(&mut c, &["SMEMBERS", key]) else { panic!() };
        assert_eq!(popped.len() + rest.len(), n);
        let mut both: Vec<N> = popped.into_iter().chain(rest).collect();
        both.sort();
        assert_eq!(N::Arr(both), as_n(&all(n, "m")));
    }
    let long = "x".repeat(65);
    assert_eq!(val(&mut c, &["SADD", "small", &long, "extra"]), Value::Int(2));
    assert_eq!(val(&mut c, &["SISMEMBER", "small", &long]), Value::Int(1));
    assert_eq!(val(&mut c, &["SREM", "small", &long]), Value::Int(1));
    assert_eq!(val(&mut c, &["SISMEMBER", "small", &long]), Value::Int(0));
    assert_eq!(val(&mut c, &["SCARD", "small"]), Value::Int(51));

    let mut args = vec!["SADD".to_string(), "ints".to_string()];
    args.extend((0..512).map(|i| i.to_string()));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    assert_eq!(val(&mut c, &refs), Value::Int(512));
    assert_eq!(val(&mut c, &["OBJECT", "ENCODING", "ints"]), bulk("intset"));
    assert_eq!(val(&mut c, &["SINTERSTORE", "dst", "ints", "ints"]), Value::Int(512));
    assert_eq!(val(&mut c, &["OBJECT", "ENCODING", "dst"]), bulk("intset"));
    assert_eq!(val(&mut c, &["SADD", "ints", "512"]), Value::Int(1));
    assert_eq!(val(&mut c, &["OBJECT", "ENCODING", "ints"]), bulk("hashtable"));
    assert_eq!(val(&mut c, &["SDIFFSTORE", "dst", "ints", "dst"]), Value::Int(1));
    assert_eq!(val(&mut c, &["SMEMBERS", "dst"]), Value::Array(vec![bulk("512")]));
    Ok(())
}

// ---------------------------------------------------------------------------
// Model-based property test.

#[derive(Debug, Clone)]
enum M {
    Str,
    Set(BTreeSet<String>),
}

const KEYS: [&str; 3] = ["k0", "k1", "k2"];
const MEMBERS: [&str; 5] = ["a", "b", "c", "d", "e"];

fn cmd_strategy() -> impl Strategy<Value = Vec<String>> {
    let key = prop::sample::select(&KEYS[..]).prop_map(String::from);
    let member = prop::sample::select(&MEMBERS[..]).prop_map(String::from);
    let some_members = prop::collection::vec(member.clone(), 1..4);
    let some_keys = prop::collection::vec(key.clone(), 1..4);
    let words = |name: &'static str, rest: Vec<String>| {
        let mut v = vec![name.to_string()];
        v.extend(rest);
        v
    };
    let with_key = move |name: &'static str, k: String, rest: Vec<String>| {
        let mut v = vec![name.to_string(), k];
        v.extend(rest);
        v
    };
    prop_oneof![
        5 => (key.clone(), some_members.clone()).prop_map(move |(k, m)| with_key("SADD", k, m)),
        2 => (key.clone(), some_members.clone()).prop_map(move |(k, m)| with_key("SREM", k, m)),
        1 => (key.clone(), member.clone()).prop_map(move |(k, m)| words("SISMEMBER", vec![k, m])),
        1 => (key.clone(), some_members).prop_map(move |(k, m)| with_key("SMISMEMBER", k, m)),
        1 => key.clone().prop_map(move |k| words("SMEMBERS", vec![k])),
        1 => key.clone().prop_map(move |k| words("SCARD", vec![k])),
        1 => key.clone().prop_map(move |k| words("SSCAN", vec![k, "0".into()])),
        1 => key.clone().prop_map(move |k| words("SPOP", vec![k])),
        1 => (key.clone(), 0i64..4).prop_map(move |(k, n)| words("SPOP", vec![k, n.to_string()])),
        1 => (key.clone(), -4i64..5).prop_map(move |(k, n)| words("SRANDMEMBER", vec![k, n.to_string()])),
        2 => (key.clone(), key.clone(), member).prop_map(move |(a, b, m)| words("SMOVE", vec![a, b, m])),
        1 => some_keys.clone().prop_map(move |k| words("SINTER", k)),
        1 => (some_keys.clone(), 0i64..3).prop_map(move |(k, l)| {
            let mut v = vec![k.len().to_string()];
            v.extend(k);
            v.extend(["LIMIT".to_string(), l.to_string()]);
            words("SINTERCARD", v)
        }),
        1 => some_keys.clone().prop_map(move |k| words("SUNION", k)),
        1 => some_keys.clone().prop_map(move |k| words("SDIFF", k)),
        1 => (prop::sample::select(&["SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"][..]), key.clone(), some_keys)
            .prop_map(move |(name, d, k)| with_key(name, d, k)),
        1 => key.clone().prop_map(move |k| words("DEL", vec![k])),
        1 => key.prop_map(move |k| words("SET", vec![k, "x".into()])),
    ]
}

type Model = HashMap<String, M>;

fn members_of<'m>(model: &'m Model, key: &str) -> Result<Option<&'m BTreeSet<String>>, N> {
    match model.get(key) {
        None => Ok(None),
        Some(M::Set(s)) => Ok(Some(s)),
        Some(M::Str) => Err(wrongtype()),
    }
}

fn set_n(set: &BTreeSet<String>) -> N {
    N::Arr(set.iter().map(|m| s(m)).collect())
}

fn store(model: &mut Model, key: &str, set: BTreeSet<String>) {
    if set.is_empty() {
        model.remove(key);
    } else {
        model.insert(key.to_string(), M::Set(set));
    }
}

/// The result of a set operation over `keys`, or WRONGTYPE.
fn algebra(model: &Model, op: &str, keys: &[String]) -> Result<BTreeSet<String>, N> {
    let sets: Vec<Option<&BTreeSet<String>>> = keys.iter().map(|k| members_of(model, k)).collect::<Result<_, _>>()?;
    let empty = BTreeSet::new();
    Ok(match op {
        "SINTER" => {
            if sets.iter().any(Option::is_none) {
                BTreeSet::new()
            } else {
                let mut it = sets.iter().flatten();
                let first = it.next().copied().cloned().unwrap_or_default();
                it.fold(first, |acc, s| acc.intersection(s).cloned().collect())
            }
        }
        "SUNION" => sets.iter().flatten().flat_map(|s| s.iter().cloned()).collect(),
        _ => {
            let first = sets[0].unwrap_or(&empty);
            first.iter().filter(|m| !sets[1..].iter().flatten().any(|s| s.contains(*m))).cloned().collect()
        }
    })
}

/// Runs `cmd` against the model and checks the reply `got`.
fn model_step(model: &mut Model, cmd: &[String], got: N) -> Result<(), TestCaseError> {
    let name = cmd[0].as_str();
    let sorted_got = sorted(got.clone(), false);
    let expect = |e: N| -> Result<(), TestCaseError> {
        prop_assert_eq!(&sorted_got, &e, "{:?}", cmd);
        Ok(())
    };
    match name {
        "SINTER" | "SUNION" | "SDIFF" => match algebra(model, name, &cmd[1..]) {
            Ok(set) => expect(set_n(&set)),
            Err(e) => expect(e),
        },
        "SINTERCARD" => {
            let n: usize = cmd[1].parse().expect("generated");
            let limit: usize = cmd[cmd.len() - 1].parse().expect("generated");
            match algebra(model, "SINTER", &cmd[2..2 + n]) {
                Ok(set) => expect(N::Int(if limit == 0 { set.len() } else { set.len().min(limit) } as i64)),
                Err(e) => expect(e),
            }
        }
        "SINTERSTORE" | "SUNIONSTORE" | "SDIFFSTORE" => match algebra(model, &name[..name.len() - 5], &cmd[2..]) {
            Ok(set) => {
                let n = set.len() as i64;
                store(model, &cmd[1], set);
                expect(N::Int(n))
            }
            Err(e) => expect(e),
        },
        "DEL" => {
            let existed = model.remove(&cmd[1]).is_some();
            expect(N::Int(existed as i64))
        }
        "SET" => {
            model.insert(cmd[1].clone(), M::Str);
            expect(s("OK"))
        }
        "SMOVE" => {
            let (src, dst, m) = (&cmd[1], &cmd[2], &cmd[3]);
            let Some(M::Set(src_set)) = model.get(src).cloned() else {
                return expect(if model.contains_key(src) { wrongtype() } else { N::Int(0) });
            };
            if matches!(model.get(dst), Some(M::Str)) {
                return expect(wrongtype());
            }
            if src == dst || !src_set.contains(m) {
                return expect(N::Int(src_set.contains(m) as i64));
            }
            let mut src_set = src_set;
            src_set.remove(m);
            store(model, src, src_set);
            let mut dst_set = members_of(model, dst).ok().flatten().cloned().unwrap_or_default();
            dst_set.insert(m.clone());
            store(model, dst, dst_set);
            expect(N::Int(1))
        }
        _ => {
            let key = &cmd[1];
            let set = match members_of(model, key) {
                Ok(s) => s.cloned().unwrap_or_default(),
                Err(e) => return expect(e),
            };
            match name {
                "SADD" => {
                    let mut set = set;
                    let n = cmd[2..].iter().filter(|m| set.insert((*m).clone())).count();
                    store(model, key, set);
                    expect(N::Int(n as i64))
                }
                "SREM" => {
                    let mut set = set;
                    let n = cmd[2..].iter().filter(|m| set.remove(*m)).count();
                    store(model, key, set);
                    expect(N::Int(n as i64))
                }
                "SISMEMBER" => expect(N::Int(set.contains(&cmd[2]) as i64)),
                "SMISMEMBER" => {
                    prop_assert_eq!(
                        got,
                        N::Arr(cmd[2..].iter().map(|m| N::Int(set.contains(m) as i64)).collect()),
                        "{:?}",
                        cmd
                    );
                    Ok(())
                }
                "SMEMBERS" => expect(set_n(&set)),
                "SCARD" => expect(N::Int(set.len() as i64)),
                "SSCAN" => {
                    let N::Arr(mut parts) = got else { return Err(TestCaseError::fail("SSCAN reply")) };
                    prop_assert_eq!(parts.len(), 2);
                    let items = sorted(parts.pop().expect("two"), false);
                    prop_assert_eq!(parts.pop(), Some(s("0")));
                    prop_assert_eq!(items, set_n(&set));
                    Ok(())
                }
                "SPOP" if cmd.len() == 2 => {
                    if set.is_empty() {
                        return expect(N::Nil);
                    }
                    let N::Str(m) = got else { return Err(TestCaseError::fail(format!("SPOP gave {got:?}"))) };
                    let mut set = set;
                    prop_assert!(set.remove(&m), "SPOP returned {} not in {:?}", m, set);
                    store(model, key, set);
                    Ok(())
                }
                "SPOP" => {
                    let count: usize = cmd[2].parse().expect("generated");
                    let N::Arr(items) = got else { return Err(TestCaseError::fail(format!("SPOP gave {got:?}"))) };
                    prop_assert_eq!(items.len(), count.min(set.len()), "{:?}", cmd);
                    let mut set = set;
                    for i in items {
                        let N::Str(m) = i else { return Err(TestCaseError::fail("member not a string")) };
                        prop_assert!(set.remove(&m), "SPOP returned {} twice or not a member", m);
                    }
                    store(model, key, set);
                    Ok(())
                }
                "SRANDMEMBER" => {
                    let count: i64 = cmd[2].parse().expect("generated");
                    let N::Arr(items) = got else { return Err(TestCaseError::fail("SRANDMEMBER reply")) };
                    let want = if set.is_empty() {
                        0
                    } else if count >= 0 {
                        (count as usize).min(set.len())
                    } else {
                        count.unsigned_abs() as usize
                    };
                    prop_assert_eq!(items.len(), want, "{:?}", cmd);
                    let mut seen = BTreeSet::new();
                    for i in items {
                        let N::Str(m) = i else { return Err(TestCaseError::fail("member not a string")) };
                        prop_assert!(set.contains(&m));
                        prop_assert!(count < 0 || seen.insert(m), "repeated member for a positive count");
                    }
                    Ok(())
                }
                other => unreachable!("{other}"),
            }
        }
    }
}

#[test]
fn sets_follow_a_model() {
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
            let mut model: Model = HashMap::new();
            for (cmd, resp3) in &cmds {
                let args: Vec<&str> = cmd.iter().map(String::as_str).collect();
                let got = norm(val(&mut if *resp3 { &c3 } else { &c2 }.borrow_mut(), &args));
                model_step(&mut model, cmd, got)?;
            }
            Ok(())
        })
        .unwrap();
}
