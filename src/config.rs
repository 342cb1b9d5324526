//! Server settings: what the command line sets, what `CONFIG GET` reports
//! and `CONFIG SET` may change. Names follow Redis's directives.

use std::path::PathBuf;

/// When the write-ahead log is flushed to stable storage (`appendfsync`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FsyncPolicy {
    /// fsync every commit group before any reply that depends on it leaves.
    #[default]
    Always,
    /// fsync at least once per second; up to ~1 s of acknowledged writes at risk.
    Everysec,
    /// Leave flushing to the operating system.
    No,
}

impl FsyncPolicy {
    /// The directive value (`always`, `everysec`, `no`).
    pub fn as_str(self) -> &'static str {
        match self {
            FsyncPolicy::Always => "always",
            FsyncPolicy::Everysec => "everysec",
            FsyncPolicy::No => "no",
        }
    }

    /// Parses a directive value (case-insensitive).
    pub fn parse(s: &str) -> Option<FsyncPolicy> {
        match s.to_ascii_lowercase().as_str() {
            "always" => Some(FsyncPolicy::Always),
            "everysec" => Some(FsyncPolicy::Everysec),
            "no" => Some(FsyncPolicy::No),
            _ => None,
        }
    }
}

/// A password: kept as given, never shown by `Debug` (so a logged
/// configuration does not leak it).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(pub Vec<u8>);

impl Secret {
    /// Whether it is empty (no password).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.is_empty() { "\"\"" } else { "(redacted)" })
    }
}

/// The complete server configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Path of the Unix socket to listen on.
    pub unixsocket: PathBuf,
    /// Permission bits of the socket file.
    pub unixsocketperm: u32,
    /// TCP port; 0 disables TCP.
    pub port: u16,
    /// TCP bind address.
    pub bind: String,
    /// Data directory (log and snapshots).
    pub dir: PathBuf,
    /// Number of databases.
    pub databases: usize,
    /// Log level name.
    pub loglevel: String,
    /// Worker threads for connection I/O (1: everything on one thread).
    pub io_threads: usize,
    /// Whether writes are persisted at all (`appendonly`).
    pub appendonly: bool,
    /// fsync policy of the write-ahead log.
    pub appendfsync: FsyncPolicy,
    /// Largest bulk argument accepted.
    pub proto_max_bulk_len: usize,
    /// Largest unparsed input a client may accumulate.
    pub client_query_buffer_limit: usize,
    /// Active expiry frequency per second.
    pub hz: u32,
    /// Log size (bytes) past which a snapshot compacts it (at least this,
    /// or the size of the last snapshot, whichever is larger).
    pub snapshot_min_log_bytes: u64,
    /// Closing idle clients after this many seconds (0: never).
    pub timeout: u64,
    /// Maximum number of connected clients.
    pub maxclients: usize,
    /// Keyspace notification classes (`notify-keyspace-events`, normalized).
    pub notify_keyspace_events: String,
    /// Commands slower than this many microseconds are logged (negative: off).
    pub slowlog_log_slower_than: i64,
    /// Entries kept in the slow log.
    pub slowlog_max_len: u64,
    /// Output-buffer limits of pub/sub clients (`client-output-buffer-limit pubsub`).
    pub pubsub_output_limit: crate::broker::pubsub::OutputLimit,
    /// The password of the `default` user (`requirepass`); empty: none, every
    /// connection is authenticated.
    pub requirepass: Secret,
    /// The process's memory allocator, as `INFO memory` names it
    /// (`mem_allocator`); the binary sets it, the default is the system's.
    pub allocator: &'static str,
}

impl Default for Config {
    fn default() -> Self {
        let dir = PathBuf::from("statebroker-data");
        Config {
            unixsocket: dir.join("statebroker.sock"),
            unixsocketperm: 0o600,
            port: 0,
            bind: "127.0.0.1".into(),
            dir,
            databases: 16,
            loglevel: "notice".into(),
            io_threads: 1,
            appendonly: true,
            appendfsync: FsyncPolicy::Always,
            proto_max_bulk_len: 512 * 1024 * 1024,
            client_query_buffer_limit: 1024 * 1024 * 1024,
            hz: 10,
            snapshot_min_log_bytes: 64 * 1024 * 1024,
            timeout: 0,
            maxclients: 10000,
            notify_keyspace_events: String::new(),
            slowlog_log_slower_than: 10000,
            slowlog_max_len: 128,
            pubsub_output_limit: crate::broker::pubsub::OutputLimit::PUBSUB_DEFAULT,
            requirepass: Secret::default(),
            allocator: "libc",
        }
    }
}

/// `(name, name before Redis 7.0, value)` of the compact-encoding sizes.
const ENCODING_SIZES: [(&str, &str, i64); 5] = [
    ("hash-max-listpack-entries", "hash-max-ziplist-entries", crate::state::hash::LISTPACK_MAX_ENTRIES as i64),
    ("hash-max-listpack-value", "hash-max-ziplist-value", crate::state::hash::COMPACT_MAX_BYTES as i64),
    ("zset-max-listpack-entries", "zset-max-ziplist-entries", crate::state::zset::COMPACT_MAX_LEN as i64),
    ("zset-max-listpack-value", "zset-max-ziplist-value", crate::state::zset::COMPACT_MAX_MEMBER as i64),
    // Lists: chunks of 8 KB, Redis's `-2`.
    ("list-max-listpack-size", "list-max-ziplist-size", -2),
];

/// Whether `name` is one of the compact-encoding sizes (either name).
pub fn is_encoding_size(name: &str) -> bool {
    ENCODING_SIZES.iter().any(|(n, old, _)| *n == name || *old == name)
}

impl Config {
    /// Every parameter as `(name, value)`, in the form `CONFIG GET` replies.
    pub fn params(&self) -> Vec<(&'static str, String)> {
        let mut params = vec![
            ("unixsocket", self.unixsocket.display().to_string()),
            ("unixsocketperm", format!("{:o}", self.unixsocketperm)),
            ("port", self.port.to_string()),
            ("bind", self.bind.clone()),
            // Absolute and resolved, as Redis reports it (its working directory).
            ("dir", std::fs::canonicalize(&self.dir).unwrap_or_else(|_| self.dir.clone()).display().to_string()),
            ("databases", self.databases.to_string()),
            ("loglevel", self.loglevel.clone()),
            ("io-threads", self.io_threads.to_string()),
            ("appendonly", if self.appendonly { "yes" } else { "no" }.into()),
            ("appendfsync", self.appendfsync.as_str().into()),
            ("proto-max-bulk-len", self.proto_max_bulk_len.to_string()),
            ("client-query-buffer-limit", self.client_query_buffer_limit.to_string()),
            ("hz", self.hz.to_string()),
            ("timeout", self.timeout.to_string()),
            ("maxclients", self.maxclients.to_string()),
            ("save", String::new()),
            ("maxmemory", "0".into()),
            // Fixed: no eviction, no cluster.
            ("maxmemory-policy", "noeviction".into()),
            ("cluster-enabled", "no".into()),
            ("set-max-intset-entries", crate::state::set::INTSET_MAX_ENTRIES.to_string()),
            ("hll-sparse-max-bytes", crate::state::hll::SPARSE_MAX_BYTES.to_string()),
            // Lists are never compressed (Redis's default).
            ("list-compress-depth", "0".into()),
            ("latency-monitor-threshold", "0".into()),
            ("latency-tracking", "yes".into()),
            ("enable-debug-command", "no".into()),
            ("notify-keyspace-events", self.notify_keyspace_events.clone()),
            ("slowlog-log-slower-than", self.slowlog_log_slower_than.to_string()),
            ("slowlog-max-len", self.slowlog_max_len.to_string()),
            ("client-output-buffer-limit", {
                let l = self.pubsub_output_limit;
                format!("normal 0 0 0 slave 268435456 67108864 60 pubsub {} {} {}", l.hard, l.soft, l.soft_secs)
            }),
            // Redis shows the password to whoever may run CONFIG GET.
            ("requirepass", String::from_utf8_lossy(&self.requirepass.0).into_owned()),
        ];
        // The sizes past which Redis leaves a compact encoding, as `OBJECT
        // ENCODING` follows them, under their names and their names before
        // Redis 7.0, which it still answers to.
        for (name, old_name, value) in ENCODING_SIZES {
            params.push((name, value.to_string()));
            params.push((old_name, value.to_string()));
        }
        params
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_password() {
        let config = Config { requirepass: Secret(b"hunter2".to_vec()), ..Config::default() };
        let shown = format!("{config:?}");
        assert!(!shown.contains("hunter2") && shown.contains("requirepass: (redacted)"), "{shown}");
        assert!(format!("{:?}", Config::default()).contains("requirepass: \"\""));
    }
}
