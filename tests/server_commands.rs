//! Connection and server commands: replies and errors as Redis 7 gives them.

use redis::Value;

use crate::common::*;

fn bulk(s: &str) -> Value {
    Value::BulkString(s.as_bytes().to_vec())
}

#[test]
fn ping_echo_select_time() {
    let srv = TestServer::start();
    let mut c = srv.client();
    assert_eq!(val(&mut c, &["PING"]), Value::SimpleString("PONG".into()));
    assert_eq!(val(&mut c, &["PING", "hi"]), bulk("hi"));
    assert_eq!(err(&mut c, &["PING", "a", "b"]), "ERR wrong number of arguments for 'ping' command");
    assert_eq!(val(&mut c, &["ECHO", "x y"]), bulk("x y"));
    assert_eq!(err(&mut c, &["ECHO"]), "ERR wrong number of arguments for 'echo' command");
    assert_eq!(err(&mut c, &["SELECT", "16"]), "ERR DB index is out of range");
    assert_eq!(err(&mut c, &["SELECT", "-1"]), "ERR DB index is out of range");
    assert_eq!(err(&mut c, &["SELECT", "a"]), "ERR value is not an integer or out of range");
    assert_eq!(val(&mut c, &["SELECT", "3"]), Value::Okay);
    assert_eq!(val(&mut c, &["SET", "k", "v"]), Value::Okay);
    assert_eq!(val(&mut c, &["DBSIZE"]), Value::Int(1));
    assert_eq!(val(&mut c, &["SELECT", "0"]), Value::Okay);
    assert_eq!(val(&mut c, &["DBSIZE"]), Value::Int(0));
    let Value::Array(t) = val(&mut c, &["TIME"]) else { panic!("TIME is an array") };
    assert_eq!(t.len(), 2);
    let secs: u64 = text(t[0].clone()).parse().expect("seconds");
    let micros: u64 = text(t[1].clone()).parse().expect("microseconds");
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    assert!(secs.abs_diff(now) <= 5 && micros < 1_000_000);
}

#[test]
fn hello_switches_protocol_and_validates() {
    let srv = TestServer::start();
    let mut c = srv.client();
    assert_eq!(err(&mut c, &["HELLO", "4"]), "NOPROTO unsupported protocol version");
    assert_eq!(err(&mut c, &["HELLO", "x"]), "ERR Protocol version is not an integer or out of range");
    assert_eq!(err(&mut c, &["HELLO", "2", "SETNAME"]), "ERR Syntax error in HELLO option 'SETNAME'");
    assert_eq!(err(&mut c, &["HELLO", "2", "foo"]), "ERR Syntax error in HELLO option 'foo'");
    assert_eq!(
        err(&mut c, &["HELLO", "2", "SETNAME", "a b"]),
        "ERR Client names cannot contain spaces, newlines or special characters."
    );
    assert_eq!(
        err(&mut c, &["HELLO", "2", "AUTH", "someone", "pw"]),
        "WRONGPASS invalid username-password pair or user is disabled."
    );
    let Value::Array(items) = val(&mut c, &["HELLO", "2", "AUTH", "default", "any", "SETNAME", "me"]) else {
        panic!("HELLO 2 replies a flat array");
    };
    assert_eq!(items.len(), 14);
    assert_eq!(items[0], bulk("server"));
    assert_eq!(items[1], bulk("statebroker"));
    assert_eq!(items[3], bulk("7.0.0"));
    assert_eq!(items[5], Value::Int(2));
    assert_eq!(items[9], bulk("standalone"));
    assert_eq!(items[11], bulk("master"));
    assert_eq!(items[13], Value::Array(vec![]));
    assert_eq!(val(&mut c, &["CLIENT", "GETNAME"]), bulk("me"));

    let mut c3 = srv.client3();
    let Value::Map(m) = val(&mut c3, &["HELLO"]) else { panic!("HELLO in RESP3 is a map") };
    assert_eq!(m[2], (bulk("proto"), Value::Int(3)));
    assert_eq!(val(&mut c3, &["GET", "missing"]), Value::Nil);
}

#[test]
fn client_subcommands() {
    let srv = TestServer::start();
    let mut c = srv.client();
    let mut other = srv.client();
    let Value::Int(id) = val(&mut c, &["CLIENT", "ID"]) else { panic!("CLIENT ID is an integer") };
    assert_eq!(val(&mut c, &["CLIENT", "GETNAME"]), Value::Nil);
    assert_eq!(val(&mut c, &["CLIENT", "SETNAME", "worker-1"]), Value::Okay);
    assert_eq!(val(&mut c, &["CLIENT", "GETNAME"]), bulk("worker-1"));
    assert_eq!(
        err(&mut c, &["CLIENT", "SETNAME", "a\nb"]),
        "ERR Client names cannot contain spaces, newlines or special characters."
    );
    assert_eq!(err(&mut c, &["CLIENT", "SETNAME"]), "ERR wrong number of arguments for 'client|setname' command");
    assert_eq!(err(&mut c, &["CLIENT", "ID", "x"]), "ERR wrong number of arguments for 'client|id' command");
    assert_eq!(err(&mut c, &["CLIENT", "bogus"]), "ERR unknown subcommand 'bogus'. Try CLIENT HELP.");
    assert_eq!(err(&mut c, &["CLIENT"]), "ERR wrong number of arguments for 'client' command");
    assert_eq!(val(&mut c, &["CLIENT", "SETINFO", "lib-name", "mylib"]), Value::Okay);
    assert_eq!(val(&mut c, &["CLIENT", "SETINFO", "LIB-VER", "1.2"]), Value::Okay);
    assert_eq!(err(&mut c, &["CLIENT", "SETINFO", "colour", "x"]), "ERR Unrecognized option 'colour'");
    assert_eq!(
        err(&mut c, &["CLIENT", "SETINFO", "lib-name", "a b"]),
        "ERR lib-name cannot contain spaces, newlines or special characters."
    );
    assert_eq!(val(&mut c, &["SELECT", "2"]), Value::Okay);

    let info = text(val(&mut c, &["CLIENT", "INFO"]));
    assert!(info.ends_with('\n'), "{info:?}");
    let fields: Vec<(&str, &str)> = info.trim_end().split(' ').map(|f| f.split_once('=').expect("k=v")).collect();
    let names: Vec<&str> = fields.iter().map(|(k, _)| *k).collect();
    assert_eq!(
        names,
        [
            "id",
            "addr",
            "laddr",
            "fd",
            "name",
            "age",
            "idle",
            "flags",
            "db",
            "sub",
            "psub",
            "ssub",
            "multi",
            "qbuf",
            "qbuf-free",
            "argv-mem",
            "multi-mem",
            "rbs",
            "rbp",
            "obl",
            "oll",
            "omem",
            "tot-mem",
            "events",
            "cmd",
            "user",
            "redir",
            "resp",
            "lib-name",
            "lib-ver"
        ]
    );
    let get = |k: &str| fields.iter().find(|(n, _)| *n == k).map(|(_, v)| *v).unwrap();
    assert_eq!(get("id"), id.to_string());
    assert_eq!(get("name"), "worker-1");
    assert_eq!(get("db"), "2");
    assert_eq!(get("cmd"), "client|info");
    assert_eq!(get("flags"), "U");
    assert_eq!(get("resp"), "2");
    assert_eq!(get("lib-name"), "mylib");
    assert_eq!(get("lib-ver"), "1.2");
    assert!(get("addr").ends_with(":0"));

    // The other client sees our name and last command in CLIENT LIST.
    let list = text(val(&mut other, &["CLIENT", "LIST"]));
    let lines: Vec<&str> = list.lines().collect();
    assert_eq!(lines.len(), 2, "{list}");
    assert!(lines.iter().any(|l| l.contains(&format!("id={id} ")) && l.contains(" name=worker-1 ")), "{list}");
    assert!(lines.iter().any(|l| l.contains(" cmd=client|list ")), "{list}");
    let only = text(val(&mut other, &["CLIENT", "LIST", "ID", &id.to_string(), "999999"]));
    assert_eq!(only.lines().count(), 1);
    assert_eq!(text(val(&mut other, &["CLIENT", "LIST", "TYPE", "pubsub"])), "");
    // A subscriber is of the pubsub type, in RESP2 or RESP3, and says so.
    let mut sub = srv.raw();
    sub.send(b"SUBSCRIBE a b\r\nPSUBSCRIBE p*\r\n");
    sub.expect(b"*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n*3\r\n$9\r\nsubscribe\r\n$1\r\nb\r\n:2\r\n");
    sub.expect(b"*3\r\n$10\r\npsubscribe\r\n$2\r\np*\r\n:3\r\n");
    let subs = text(val(&mut other, &["CLIENT", "LIST", "TYPE", "pubsub"]));
    assert_eq!(subs.lines().count(), 1, "{subs}");
    assert!(subs.contains(" flags=PU ") && subs.contains(" sub=2 psub=1 ssub=0 "), "{subs}");
    assert_eq!(text(val(&mut other, &["CLIENT", "LIST", "TYPE", "normal"])).lines().count(), 2);
    drop(sub);
    assert_eq!(err(&mut other, &["CLIENT", "LIST", "TYPE", "x"]), "ERR Unknown client type 'x'");
    assert_eq!(err(&mut other, &["CLIENT", "LIST", "ID", "a"]), "ERR Invalid client ID");
    assert_eq!(err(&mut other, &["CLIENT", "LIST", "foo"]), "ERR syntax error");

    let Value::Array(help) = val(&mut c, &["CLIENT", "HELP"]) else { panic!("help is an array") };
    assert_eq!(help[0], Value::SimpleString("CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:".into()));
    assert_eq!(help.last(), Some(&Value::SimpleString("    Prints this help.".into())));

    // RESP3 gets verbatim strings.
    let mut c3 = srv.client3();
    assert!(matches!(val(&mut c3, &["CLIENT", "INFO"]), Value::VerbatimString { .. }));
}

#[test]
fn config_get_and_resetstat() {
    let srv = TestServer::start();
    let mut c = srv.client();
    assert_eq!(val(&mut c, &["CONFIG", "GET", "databases"]), Value::Array(vec![bulk("databases"), bulk("16")]));
    assert_eq!(val(&mut c, &["CONFIG", "GET", "DATABASES"]), Value::Array(vec![bulk("DATABASES"), bulk("16")]));
    assert_eq!(val(&mut c, &["CONFIG", "GET", "nothing-like-this"]), Value::Array(vec![]));
    let Value::Array(v) = val(&mut c, &["CONFIG", "GET", "*MAX*", "maxclients", "port"]) else { panic!() };
    let names: Vec<String> = v.iter().step_by(2).map(|n| text(n.clone())).collect();
    assert!(names.contains(&"maxclients".to_string()) && names.contains(&"maxmemory".to_string()));
    assert_eq!(names.iter().filter(|n| *n == "maxclients").count(), 1, "{names:?}");
    assert_eq!(names.last().map(String::as_str), Some("port"));
    assert_eq!(err(&mut c, &["CONFIG", "GET"]), "ERR wrong number of arguments for 'config|get' command");
    assert_eq!(err(&mut c, &["CONFIG", "x"]), "ERR unknown subcommand 'x'. Try CONFIG HELP.");

    let mut c3 = srv.client3();
    let Value::Map(m) = val(&mut c3, &["CONFIG", "GET", "appendonly"]) else { panic!("a map in RESP3") };
    assert_eq!(m, vec![(bulk("appendonly"), bulk("yes"))]);

    for _ in 0..5 {
        val(&mut c, &["GET", "missing"]);
    }
    let stats = text(val(&mut c, &["INFO", "stats"]));
    assert!(stats.contains("keyspace_misses:5\r\n"), "{stats}");
    assert_eq!(val(&mut c, &["CONFIG", "RESETSTAT"]), Value::Okay);
    let stats = text(val(&mut c, &["INFO", "stats"]));
    assert!(stats.contains("keyspace_misses:0\r\n"), "{stats}");
}

#[test]
fn info_sections() {
    let srv = TestServer::start();
    let mut c = srv.client();
    val(&mut c, &["SET", "a", "1"]);
    let all = text(val(&mut c, &["INFO"]));
    for header in
        ["# Server", "# Clients", "# Memory", "# Persistence", "# Stats", "# Replication", "# CPU", "# Keyspace"]
    {
        assert!(all.contains(&format!("{header}\r\n")), "missing {header}");
    }
    for field in [
        "redis_version:7.0.0",
        "redis_mode:standalone",
        "process_id:",
        "tcp_port:0",
        "uptime_in_seconds:",
        "uptime_in_days:",
        "connected_clients:1",
        "blocked_clients:0",
        "used_memory:",
        "total_connections_received:",
        "total_commands_processed:",
        "expired_keys:0",
        "keyspace_hits:",
        "keyspace_misses:",
        "rejected_calls:",
        "role:master",
        "connected_slaves:0",
        "used_cpu_user:",
        "aof_enabled:",
        "db0:keys=1,expires=0,avg_ttl=0",
    ] {
        assert!(all.contains(field), "missing {field}");
    }
    for arg in ["all", "everything", "default"] {
        let t = text(val(&mut c, &["INFO", arg]));
        assert!(t.starts_with("# Server\r\n") && t.contains("# Keyspace\r\n"), "{arg}");
    }
    let two = text(val(&mut c, &["INFO", "KEYSPACE", "replication"]));
    assert!(two.starts_with("# Replication\r\nrole:master\r\n"), "{two}");
    assert!(two.ends_with("\r\n\r\n# Keyspace\r\ndb0:keys=1,expires=0,avg_ttl=0\r\n"), "{two}");
    assert_eq!(text(val(&mut c, &["INFO", "nosuchsection"])), "");
}

#[test]
fn command_introspection() {
    let srv = TestServer::start();
    let mut c = srv.client();
    let Value::Int(n) = val(&mut c, &["COMMAND", "COUNT"]) else { panic!() };
    assert_eq!(n as usize, statebroker::cmd::table().len());
    let Value::Array(all) = val(&mut c, &["COMMAND"]) else { panic!() };
    assert_eq!(all.len(), n as usize);

    let Value::Array(info) = val(&mut c, &["COMMAND", "INFO", "get", "nosuch", "client|setname"]) else { panic!() };
    assert_eq!(info.len(), 3);
    let Value::Array(get) = &info[0] else { panic!() };
    assert_eq!(get.len(), 10);
    assert_eq!(get[0], bulk("get"));
    assert_eq!(get[1], Value::Int(2));
    assert_eq!(get[2], Value::Array(vec![Value::SimpleString("readonly".into()), Value::SimpleString("fast".into())]));
    assert_eq!(&get[3..6], &[Value::Int(1), Value::Int(1), Value::Int(1)]);
    assert_eq!(info[1], Value::Nil);
    let Value::Array(setname) = &info[2] else { panic!() };
    assert_eq!(setname[0], bulk("client|setname"));
    assert_eq!(setname[1], Value::Int(3));

    let Value::Array(client) = &val(&mut c, &["COMMAND", "INFO", "client"]) else { panic!() };
    let Value::Array(client) = &client[0] else { panic!() };
    let Value::Array(subs) = &client[9] else { panic!() };
    assert!(subs.len() >= 6);

    assert_eq!(val(&mut c, &["COMMAND", "GETKEYS", "SET", "k", "v"]), Value::Array(vec![bulk("k")]));
    assert_eq!(err(&mut c, &["COMMAND", "GETKEYS", "nosuch", "x"]), "ERR Invalid command specified");
    assert_eq!(
        err(&mut c, &["COMMAND", "GETKEYS", "get", "a", "b"]),
        "ERR Invalid number of arguments specified for command"
    );
    assert_eq!(err(&mut c, &["COMMAND", "GETKEYS", "ping", "x"]), "ERR The command has no key arguments");
    assert_eq!(
        err(&mut c, &["COMMAND", "GETKEYS", "get"]),
        "ERR wrong number of arguments for 'command|getkeys' command"
    );
    // Found by the differential test: subcommands are looked up, "no key
    // arguments" comes before the arity check, and a numkeys that declares
    // no keys, or more than there are, is refused.
    assert_eq!(val(&mut c, &["COMMAND", "GETKEYS", "OBJECT", "FREQ", "k"]), Value::Array(vec![bulk("k")]));
    assert_eq!(
        err(&mut c, &["COMMAND", "GETKEYS", "OBJECT", "FREQ"]),
        "ERR Invalid number of arguments specified for command"
    );
    assert_eq!(err(&mut c, &["COMMAND", "GETKEYS", "OBJECT", "HELP"]), "ERR The command has no key arguments");
    assert_eq!(err(&mut c, &["COMMAND", "GETKEYS", "OBJECT", "NOPE", "k"]), "ERR Invalid command specified");
    assert_eq!(err(&mut c, &["COMMAND", "GETKEYS", "CLIENT", "LIST"]), "ERR The command has no key arguments");
    assert_eq!(err(&mut c, &["COMMAND", "GETKEYS", "SELECT", "1", "2"]), "ERR The command has no key arguments");
    for bad in [&["ZUNIONSTORE", "d", "0", "k"][..], &["ZUNIONSTORE", "d", "5", "k"], &["ZINTERCARD", "0", "k"]] {
        let mut argv = vec!["COMMAND", "GETKEYS"];
        argv.extend_from_slice(bad);
        assert_eq!(err(&mut c, &argv), "ERR Invalid arguments specified for command", "{bad:?}");
    }

    let Value::Array(list) = val(&mut c, &["COMMAND", "LIST", "FILTERBY", "PATTERN", "client|*"]) else { panic!() };
    assert!(list.contains(&bulk("client|list")) && !list.contains(&bulk("get")));
    let Value::Array(list) = val(&mut c, &["COMMAND", "LIST", "FILTERBY", "ACLCAT", "connection"]) else { panic!() };
    assert!(list.contains(&bulk("ping")) && !list.contains(&bulk("get")));
    assert_eq!(err(&mut c, &["COMMAND", "LIST", "FILTERBY", "x", "y"]), "ERR syntax error");

    // COMMAND DOCS: what redis-cli reads at start-up.
    let mut c3 = srv.client3();
    let Value::Map(docs) = val(&mut c3, &["COMMAND", "DOCS", "set", "client", "nosuch"]) else { panic!() };
    assert_eq!(docs.len(), 2);
    let Value::Map(set) = &docs[0].1 else { panic!() };
    let keys: Vec<String> = set.iter().map(|(k, _)| text(k.clone())).collect();
    assert_eq!(keys, ["summary", "since", "group", "complexity", "arguments"]);
    assert_eq!(set[2].1, bulk("string"));
    let Value::Map(client) = &docs[1].1 else { panic!() };
    assert!(client.iter().any(|(k, _)| *k == bulk("subcommands")));
}

#[test]
fn flushdb_flushall_swapdb() {
    let srv = TestServer::start();
    let mut c = srv.client();
    val(&mut c, &["SET", "a", "0"]);
    val(&mut c, &["SELECT", "1"]);
    val(&mut c, &["SET", "b", "1"]);
    val(&mut c, &["SET", "c", "1"]);
    assert_eq!(val(&mut c, &["SWAPDB", "0", "1"]), Value::Okay);
    assert_eq!(val(&mut c, &["DBSIZE"]), Value::Int(1));
    assert_eq!(val(&mut c, &["GET", "a"]), bulk("0"));
    assert_eq!(err(&mut c, &["SWAPDB", "x", "1"]), "ERR invalid first DB index");
    assert_eq!(err(&mut c, &["SWAPDB", "1", "y"]), "ERR invalid second DB index");
    assert_eq!(err(&mut c, &["SWAPDB", "0", "16"]), "ERR DB index is out of range");
    assert_eq!(val(&mut c, &["SWAPDB", "1", "1"]), Value::Okay);
    assert_eq!(err(&mut c, &["FLUSHDB", "ASYNC", "SYNC"]), "ERR syntax error");
    assert_eq!(err(&mut c, &["FLUSHDB", "later"]), "ERR syntax error");
    assert_eq!(val(&mut c, &["FLUSHDB", "sync"]), Value::Okay);
    assert_eq!(val(&mut c, &["DBSIZE"]), Value::Int(0));
    val(&mut c, &["SELECT", "0"]);
    assert_eq!(val(&mut c, &["DBSIZE"]), Value::Int(2));
    assert_eq!(val(&mut c, &["FLUSHALL", "ASYNC"]), Value::Okay);
    assert_eq!(val(&mut c, &["DBSIZE"]), Value::Int(0));
}

#[test]
fn shutdown_stops_the_server() {
    let mut srv = TestServer::start();
    let mut c = srv.client();
    assert_eq!(err(&mut c, &["SHUTDOWN", "bogus"]), "ERR syntax error");
    assert_eq!(err(&mut c, &["SHUTDOWN", "ABORT", "NOW"]), "ERR syntax error");
    let r: redis::RedisResult<Value> = redis::cmd("SHUTDOWN").arg("NOW").query(&mut c);
    assert!(r.is_err(), "no reply, the connection is closed: {r:?}");
    srv.spawned.take().expect("running").join().expect("clean stop");
    assert!(!srv.socket().exists(), "the socket file is removed");
}

/// Redis 7.0 sends a command's key specs and subcommands as RESP3 sets
/// (`~`), as it does its flags and categories (they were arrays here).
#[test]
fn command_info_in_resp3_sends_key_specs_and_subcommands_as_sets() {
    let srv = TestServer::start();
    let mut r = srv.raw();
    r.hello3();
    r.send(b"COMMAND INFO get\r\n");
    r.expect(b"*1\r\n*10\r\n$3\r\nget\r\n:2\r\n~2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n~3\r\n+@read\r\n+@string\r\n+@fast\r\n~0\r\n~1\r\n");
}

/// `CLIENT LIST` shows a client's last command as Redis names it when it
/// looks the command up: refused and queued commands too, the subcommand
/// whose arity was wrong, `NULL` for an unknown command or subcommand, and
/// `exec` after a transaction.
#[test]
fn client_list_shows_the_last_command_looked_up() {
    let srv = TestServer::start();
    let mut other = srv.client();
    let mut a = srv.raw();
    let mut last = |a: &mut Raw, send: &[u8], reply: &[u8]| {
        a.send(send);
        a.expect(reply);
        let list = text(val(&mut other, &["CLIENT", "LIST"]));
        let line = list.lines().find(|l| !l.contains(" cmd=client|list ")).expect("the other client").to_string();
        line.split(' ').find_map(|f| f.strip_prefix("cmd=")).expect("cmd field").to_string()
    };
    assert_eq!(last(&mut a, b"GET\r\n", b"-ERR wrong number of arguments for 'get' command\r\n"), "get");
    assert_eq!(last(&mut a, b"NOSUCH\r\n", b"-ERR unknown command 'NOSUCH', with args beginning with: \r\n"), "NULL");
    assert_eq!(
        last(&mut a, b"CONFIG GET\r\n", b"-ERR wrong number of arguments for 'config|get' command\r\n"),
        "config|get"
    );
    assert_eq!(last(&mut a, b"CONFIG NOPE\r\n", b"-ERR unknown subcommand 'NOPE'. Try CONFIG HELP.\r\n"), "NULL");
    assert_eq!(last(&mut a, b"MULTI\r\n", b"+OK\r\n"), "multi");
    assert_eq!(last(&mut a, b"SET k v\r\n", b"+QUEUED\r\n"), "set");
    assert_eq!(last(&mut a, b"EXEC\r\n", b"*1\r\n+OK\r\n"), "exec");
}

#[test]
fn lolwut_prints_the_version() {
    let srv = TestServer::start();
    let mut c = srv.client();
    let line = text(val(&mut c, &["LOLWUT"]));
    assert!(line.starts_with("statebroker ver. ") && line.ends_with(")\n"), "{line:?}");
    assert_eq!(text(val(&mut c, &["LOLWUT", "VERSION", "5", "1", "2"])), line);
    assert_eq!(err(&mut c, &["LOLWUT", "VERSION", "x"]), "ERR value is not an integer or out of range");
}

/// `CLIENT LIST` takes one filter, as Redis 7.0 reads it: ids that name no
/// client are skipped, a client named twice is listed twice, `TYPE` and
/// `ID` together are a syntax error.
#[test]
fn client_list_filters_as_redis_7_0_reads_them() {
    let srv = TestServer::start();
    let mut c = srv.client();
    let Value::Int(id) = val(&mut c, &["CLIENT", "ID"]) else { panic!("an id") };
    let id = id.to_string();
    assert_eq!(text(val(&mut c, &["CLIENT", "LIST", "ID", "0", "-3"])), "");
    let twice = text(val(&mut c, &["CLIENT", "LIST", "ID", &id, "0", &id]));
    assert_eq!(twice.lines().count(), 2, "{twice}");
    assert_eq!(err(&mut c, &["CLIENT", "LIST", "ID", "x"]), "ERR Invalid client ID");
    assert_eq!(err(&mut c, &["CLIENT", "LIST", "TYPE", "normal", "ID", &id]), "ERR syntax error");
    assert_eq!(err(&mut c, &["CLIENT", "LIST", "ID"]), "ERR syntax error");
    assert_eq!(err(&mut c, &["CLIENT", "LIST", "TYPE"]), "ERR syntax error");
}

/// `CLIENT LIST` shows what Redis shows of another client: `x` and the
/// number of commands queued in a transaction, `e` after `CLIENT NO-EVICT
/// on`, `d` once a watched key changed, `b` and the command it waits in.
#[test]
fn client_list_shows_transactions_watches_and_waits() {
    let srv = TestServer::start();
    let mut other = srv.client();
    let mut a = srv.raw();
    a.send(b"CLIENT ID\r\n");
    let id = a.line().trim_start_matches(':').trim().to_string();
    let fields = |other: &mut redis::Connection| {
        let line = text(val(other, &["CLIENT", "LIST", "ID", &id]));
        let keep = ["flags", "multi", "cmd"];
        line.split_whitespace()
            .filter(|f| keep.iter().any(|k| f.starts_with(&format!("{k}="))))
            .collect::<Vec<_>>()
            .join(" ")
    };
    a.send(b"MULTI\r\nSET x 1\r\n");
    a.expect(b"+OK\r\n+QUEUED\r\n");
    assert_eq!(fields(&mut other), "flags=xU multi=1 cmd=set");
    a.send(b"EXEC\r\nCLIENT NO-EVICT on\r\nWATCH k\r\n");
    a.expect(b"*1\r\n+OK\r\n+OK\r\n+OK\r\n");
    assert_eq!(fields(&mut other), "flags=Ue multi=-1 cmd=watch");
    let _: () = redis::cmd("SET").arg("k").arg(1).query(&mut other).unwrap();
    assert_eq!(fields(&mut other), "flags=dUe multi=-1 cmd=watch");
    a.send(b"UNWATCH\r\nCLIENT NO-EVICT off\r\nBLPOP q 0\r\n");
    a.expect(b"+OK\r\n+OK\r\n");
    // Parked: wait until the broker says so.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while fields(&mut other) != "flags=bU multi=-1 cmd=blpop" {
        assert!(std::time::Instant::now() < deadline, "{}", fields(&mut other));
        std::thread::yield_now();
    }
    let _: i64 = redis::cmd("LPUSH").arg("q").arg("v").query(&mut other).unwrap();
    a.expect(b"*2\r\n$1\r\nq\r\n$1\r\nv\r\n");
}
