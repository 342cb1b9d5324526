//! Bitmap commands over the socket: SETBIT/GETBIT, BITCOUNT, BITPOS, BITOP,
//! BITFIELD and BITFIELD_RO, their errors, RESP3 replies and persistence.

use crate::common::*;
use redis::Value;

fn int(c: &mut redis::Connection, args: &[&str]) -> i64 {
    match val(c, args) {
        Value::Int(n) => n,
        v => panic!("{args:?}: expected an integer, got {v:?}"),
    }
}

fn bytes(c: &mut redis::Connection, args: &[&str]) -> Vec<u8> {
    match val(c, args) {
        Value::BulkString(b) => b,
        v => panic!("{args:?}: expected a bulk string, got {v:?}"),
    }
}

#[test]
fn setbit_getbit_and_counting() -> TestResult {
    let srv = TestServer::start();
    let c = &mut srv.client();
    assert_eq!(int(c, &["SETBIT", "b", "1", "1"]), 0);
    assert_eq!(int(c, &["SETBIT", "b", "17", "1"]), 0);
    assert_eq!(int(c, &["SETBIT", "b", "17", "0"]), 1);
    assert_eq!(int(c, &["SETBIT", "b", "23", "1"]), 0);
    assert_eq!(bytes(c, &["GET", "b"]), b"\x40\x00\x01");
    assert_eq!(int(c, &["GETBIT", "b", "1"]), 1);
    assert_eq!(int(c, &["GETBIT", "b", "2"]), 0);
    assert_eq!(int(c, &["GETBIT", "b", "4294967295"]), 0);
    assert_eq!(int(c, &["BITCOUNT", "b"]), 2);
    assert_eq!(int(c, &["BITCOUNT", "b", "1", "-1"]), 1);
    assert_eq!(int(c, &["BITCOUNT", "b", "0", "22", "BIT"]), 1);
    assert_eq!(int(c, &["BITPOS", "b", "1"]), 1);
    assert_eq!(int(c, &["BITPOS", "b", "1", "1"]), 23);
    assert_eq!(int(c, &["BITPOS", "b", "0", "0", "-1", "BIT"]), 0);
    assert_eq!(int(c, &["BITPOS", "b", "1", "2", "22", "BIT"]), -1);
    assert_eq!(int(c, &["BITPOS", "nokey", "0"]), 0);
    assert_eq!(err(c, &["SETBIT", "b", "4294967296", "1"]), "ERR bit offset is not an integer or out of range");
    assert_eq!(err(c, &["SETBIT", "b", "1", "2"]), "ERR bit is not an integer or out of range");
    assert_eq!(err(c, &["BITPOS", "b", "3"]), "ERR The bit argument must be 1 or 0.");
    assert_eq!(err(c, &["BITCOUNT", "b", "0"]), "ERR syntax error");
    assert_eq!(err(c, &["GETBIT", "b"]), "ERR wrong number of arguments for 'getbit' command");
    val(c, &["RPUSH", "l", "x"]);
    assert_eq!(err(c, &["SETBIT", "l", "0", "1"]), "WRONGTYPE Operation against a key holding the wrong kind of value");
    // SETBIT keeps the time to live.
    val(c, &["EXPIRE", "b", "100"]);
    int(c, &["SETBIT", "b", "100", "1"]);
    assert_eq!(int(c, &["TTL", "b"]), 100);
    Ok(())
}

#[test]
fn bitop_stores_or_deletes() -> TestResult {
    let srv = TestServer::start();
    let c = &mut srv.client();
    val(c, &["SET", "a", "foobar"]);
    val(c, &["SET", "b", "abc"]);
    val(c, &["SET", "d", "old", "EX", "100"]);
    assert_eq!(int(c, &["BITOP", "AND", "d", "a", "b"]), 6);
    assert_eq!(bytes(c, &["GET", "d"]), b"`bc\0\0\0");
    assert_eq!(int(c, &["TTL", "d"]), -1);
    assert_eq!(int(c, &["BITOP", "xor", "d", "a", "b"]), 6);
    assert_eq!(bytes(c, &["GET", "d"]), b"\x07\x0d\x0cbar");
    assert_eq!(int(c, &["BITOP", "NOT", "d", "b"]), 3);
    assert_eq!(bytes(c, &["GET", "d"]), [!b'a', !b'b', !b'c']);
    assert_eq!(int(c, &["BITOP", "OR", "d", "nokey", "nokey2"]), 0);
    assert_eq!(int(c, &["EXISTS", "d"]), 0);
    assert_eq!(err(c, &["BITOP", "NOT", "d", "a", "b"]), "ERR BITOP NOT must be called with a single source key.");
    assert_eq!(err(c, &["BITOP", "NAND", "d", "a"]), "ERR syntax error");
    Ok(())
}

#[test]
fn bitfield_in_both_protocols() -> TestResult {
    let srv = TestServer::start();
    let c = &mut srv.client();
    let args =
        ["BITFIELD", "f", "SET", "u8", "#1", "255", "OVERFLOW", "FAIL", "INCRBY", "u8", "8", "1", "GET", "i8", "8"];
    assert_eq!(val(c, &args), Value::Array(vec![Value::Int(0), Value::Nil, Value::Int(-1)]));
    assert_eq!(bytes(c, &["GET", "f"]), b"\0\xff");
    assert_eq!(val(c, &["BITFIELD_RO", "f", "GET", "u4", "#3"]), Value::Array(vec![Value::Int(15)]));
    assert_eq!(
        err(c, &["BITFIELD_RO", "f", "SET", "u4", "0", "1"]),
        "ERR BITFIELD_RO only supports the GET subcommand"
    );
    assert_eq!(
        err(c, &["BITFIELD", "f", "GET", "u64", "0"]),
        "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is."
    );
    let c3 = &mut srv.client3();
    assert_eq!(
        val(c3, &["BITFIELD", "f", "OVERFLOW", "FAIL", "INCRBY", "u8", "8", "1", "GET", "u8", "8"]),
        Value::Array(vec![Value::Nil, Value::Int(255)])
    );
    // On the wire: a RESP3 null for the failed increment.
    let mut raw = srv.raw();
    raw.hello3();
    raw.send(b"*8\r\n$8\r\nBITFIELD\r\n$1\r\nf\r\n$8\r\nOVERFLOW\r\n$4\r\nFAIL\r\n");
    raw.send(b"$6\r\nINCRBY\r\n$2\r\nu8\r\n$1\r\n8\r\n$1\r\n1\r\n");
    raw.expect(b"*1\r\n_\r\n");
    Ok(())
}

#[test]
fn bitmaps_survive_a_restart() -> TestResult {
    let mut srv = TestServer::start();
    {
        let c = &mut srv.client();
        int(c, &["SETBIT", "s", "1000", "1"]);
        int(c, &["SETBIT", "s", "3", "1"]);
        val(c, &["BITFIELD", "f", "SET", "i16", "#2", "-2", "INCRBY", "u4", "0", "9"]);
        val(c, &["SET", "x", "abc"]);
        int(c, &["BITOP", "NOT", "n", "x"]);
        int(c, &["BITOP", "AND", "x", "nokey"]);
    }
    srv.restart();
    let c = &mut srv.client();
    assert_eq!(int(c, &["STRLEN", "s"]), 126);
    assert_eq!(int(c, &["BITCOUNT", "s"]), 2);
    assert_eq!(int(c, &["GETBIT", "s", "1000"]), 1);
    assert_eq!(bytes(c, &["GET", "f"]), b"\x90\0\0\0\xff\xfe");
    assert_eq!(bytes(c, &["GET", "n"]), [!b'a', !b'b', !b'c']);
    assert_eq!(int(c, &["EXISTS", "x"]), 0);
    Ok(())
}
