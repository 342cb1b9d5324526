//! The `statebroker` binary: parses flags, sets up logging, runs the server.

// One exception, measured and documented where it sits: the allocator
// adapter in `allocator.rs`.
#![deny(unsafe_code)]

mod allocator;

use anyhow::Context;
use clap::Parser;
use std::path::PathBuf;

use statebroker::config::{Config, FsyncPolicy, Secret};

/// A durable, Redis-compatible state and queue broker for the processes of one host.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    /// Unix socket path [default: <dir>/statebroker.sock]
    #[arg(long)]
    unixsocket: Option<PathBuf>,
    /// Permission bits of the socket file, octal
    #[arg(long, default_value = "600")]
    unixsocketperm: String,
    /// TCP port (0: no TCP)
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// TCP bind address
    #[arg(long, default_value = "127.0.0.1")]
    bind: String,
    /// Data directory (write-ahead log, snapshots, default socket)
    #[arg(long, global = true, default_value = "statebroker-data")]
    dir: PathBuf,
    /// Number of databases
    #[arg(long, global = true, default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=MAX_DATABASES))]
    databases: u32,
    /// Log level: debug, verbose, notice, warning
    #[arg(long, default_value = "notice")]
    loglevel: String,
    /// Threads for connection I/O (1: one thread runs everything)
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=128))]
    io_threads: u32,
    /// Persist writes (yes/no)
    #[arg(long, default_value = "yes")]
    appendonly: String,
    /// When to fsync the log: always, everysec, no
    #[arg(long, default_value = "always")]
    appendfsync: String,
    /// Log size in bytes past which a snapshot compacts it (at least the last snapshot's size)
    #[arg(long, default_value_t = Config::default().snapshot_min_log_bytes)]
    snapshot_min_log_bytes: u64,
    /// Password clients must give with AUTH before any other command (empty or absent: none)
    #[arg(long)]
    requirepass: Option<String>,
    #[command(subcommand)]
    command: Option<Sub>,
}

#[derive(Debug, clap::Subcommand)]
enum Sub {
    /// Verify the snapshot and the write-ahead log in a data directory
    /// (`--dir`, given before or after `check`; `--databases` the server's)
    Check {
        /// Cut the log at the last good record (the records after it are lost)
        #[arg(long)]
        fix: bool,
    },
}

/// The most databases `--databases` allows (each costs a little memory
/// whether used or not: a million start in ~80 MB).
const MAX_DATABASES: i64 = 1_000_000;

fn check(dir: &std::path::Path, databases: usize, fix: bool) -> anyhow::Result<()> {
    let report = statebroker::persist::check::check(dir, databases, fix)?;
    for line in &report.lines {
        println!("{line}");
    }
    anyhow::ensure!(report.ok, "check of {} failed (see above)", dir.display());
    Ok(())
}

fn main() -> std::process::ExitCode {
    // The error and its causes on one line each, without a backtrace: the
    // message is for the person starting the server.
    match run(Cli::parse()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("statebroker: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    if let Some(Sub::Check { fix }) = &cli.command {
        return check(&cli.dir, cli.databases as usize, *fix);
    }
    let level = match cli.loglevel.to_ascii_lowercase().as_str() {
        "debug" => tracing::Level::DEBUG,
        "verbose" => tracing::Level::DEBUG,
        "notice" => tracing::Level::INFO,
        "warning" => tracing::Level::WARN,
        other => anyhow::bail!("unknown --loglevel {other:?} (debug, verbose, notice, warning)"),
    };
    // Colours only on a terminal: a log redirected to a file stays plain text.
    let colour = std::io::IsTerminal::is_terminal(&std::io::stdout());
    tracing_subscriber::fmt().with_max_level(level).with_target(false).with_ansi(colour).init();

    let perm = u32::from_str_radix(&cli.unixsocketperm, 8)
        .with_context(|| format!("--unixsocketperm {:?} is not an octal number", cli.unixsocketperm))?;
    anyhow::ensure!(perm <= 0o777, "--unixsocketperm {:?} must be between 0 and 777", cli.unixsocketperm);
    let appendfsync = FsyncPolicy::parse(&cli.appendfsync)
        .with_context(|| format!("--appendfsync {:?}: expected always, everysec or no", cli.appendfsync))?;
    let appendonly = match cli.appendonly.to_ascii_lowercase().as_str() {
        "yes" => true,
        "no" => false,
        other => anyhow::bail!("--appendonly {other:?}: expected yes or no"),
    };
    let config = Config {
        unixsocket: cli.unixsocket.unwrap_or_else(|| cli.dir.join("statebroker.sock")),
        unixsocketperm: perm,
        port: cli.port,
        bind: cli.bind,
        dir: cli.dir,
        databases: cli.databases as usize,
        loglevel: cli.loglevel.to_ascii_lowercase(),
        io_threads: cli.io_threads as usize,
        appendonly,
        appendfsync,
        snapshot_min_log_bytes: cli.snapshot_min_log_bytes,
        requirepass: Secret(cli.requirepass.unwrap_or_default().into_bytes()),
        allocator: "mimalloc",
        ..Config::default()
    };
    let rt = statebroker::server::runtime(&config).context("building the runtime")?;
    rt.block_on(statebroker::server::run(config, |_| {}))?;
    Ok(())
}

/// The allocator (see `allocator.rs` for why and how).
#[global_allocator]
static ALLOCATOR: allocator::Mimalloc = allocator::Mimalloc;
