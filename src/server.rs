//! Listening sockets, the accept loop, start-up and shutdown. Together with
//! `connection`, the only code that touches sockets.

use std::io;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, UnixListener};
use tokio::sync::{mpsc, watch};

use crate::broker::pubsub::ClientOutput;
use crate::broker::{Broker, Durable, Message, Push};
use crate::cmd::{ClientInfo, ServerState, Session};
use crate::config::Config;
use crate::connection::{self, ConnLimits};
use crate::persist::{PersistError, Persister};
use crate::resp::Limits;
use crate::socket::{Socket, Stream};

/// Why the server could not start.
#[derive(Debug)]
pub enum StartError {
    /// Another server answers on the socket path.
    SocketInUse(PathBuf),
    /// The socket path exists and is not a socket.
    NotASocket(PathBuf),
    /// Binding or preparing a listener failed.
    Io(String, io::Error),
    /// The data could not be recovered.
    Persist(PersistError),
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StartError::SocketInUse(p) => {
                write!(
                    f,
                    "another server is already listening on {} (stop it, or choose another --unixsocket)",
                    p.display()
                )
            }
            StartError::NotASocket(p) => {
                write!(f, "{} exists and is not a socket; refusing to replace it", p.display())
            }
            StartError::Io(what, e) => write!(f, "{what}: {e}"),
            StartError::Persist(e) => write!(f, "cannot open the data: {e}"),
        }
    }
}

impl std::error::Error for StartError {}

/// Where a started server listens.
#[derive(Debug, Clone)]
pub struct Listening {
    /// The Unix socket path.
    pub unixsocket: PathBuf,
    /// The TCP address, if TCP is on.
    pub tcp: Option<std::net::SocketAddr>,
}

/// Prepares the Unix socket path: a stale file from a crashed run is
/// replaced; a live server there makes start-up fail.
fn claim_socket_path(path: &Path) -> Result<(), StartError> {
    match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(StartError::Io(format!("inspecting {}", path.display()), e)),
        Ok(meta) if !meta.file_type().is_socket() => Err(StartError::NotASocket(path.to_owned())),
        Ok(_) => match std::os::unix::net::UnixStream::connect(path) {
            Ok(_) => Err(StartError::SocketInUse(path.to_owned())),
            Err(_) => {
                tracing::warn!(path = %path.display(), "replacing a stale socket file left by an earlier run");
                std::fs::remove_file(path).map_err(|e| StartError::Io(format!("removing {}", path.display()), e))
            }
        },
    }
}

/// Runs the server until SIGINT, SIGTERM or `SHUTDOWN`. `ready` is called
/// once the sockets accept connections.
pub async fn run(config: Config, ready: impl FnOnce(&Listening)) -> Result<(), StartError> {
    let started = Instant::now();
    std::fs::create_dir_all(&config.dir)
        .map_err(|e| StartError::Io(format!("creating data directory {}", config.dir.display()), e))?;
    // What can fail fast is tried before the data is loaded (which may take
    // a while): the socket path is free, the TCP port can be bound. (The
    // port is let go again meanwhile: bound, it would take connections that
    // hang until the load ends.)
    claim_socket_path(&config.unixsocket)?;
    let addr = format!("{}:{}", config.bind, config.port);
    if config.port != 0 {
        drop(TcpListener::bind(&addr).await.map_err(|e| StartError::Io(format!("binding {addr}"), e))?);
    }
    let (persister, ks) = Persister::<Durable>::open(&config).map_err(StartError::Persist)?;
    let tcp = if config.port != 0 {
        Some(TcpListener::bind(&addr).await.map_err(|e| StartError::Io(format!("binding {addr}"), e))?)
    } else {
        None
    };
    let unix = UnixListener::bind(&config.unixsocket)
        .map_err(|e| StartError::Io(format!("binding {}", config.unixsocket.display()), e))?;
    if let Err(e) = std::fs::set_permissions(&config.unixsocket, std::fs::Permissions::from_mode(config.unixsocketperm))
    {
        let _ = std::fs::remove_file(&config.unixsocket);
        return Err(StartError::Io(format!("setting permissions on {}", config.unixsocket.display()), e));
    }
    let listening =
        Listening { unixsocket: config.unixsocket.clone(), tcp: tcp.as_ref().and_then(|l| l.local_addr().ok()) };
    let keys = ks.total_keys();
    let socket_path = config.unixsocket.clone();
    let state = ServerState::new(config);
    let limits = ConnLimits {
        decode: Limits {
            max_bulk_len: state.config.proto_max_bulk_len,
            max_command_bytes: state.config.client_query_buffer_limit,
            ..Limits::default()
        },
        query_buffer_limit: state.config.client_query_buffer_limit,
        password_required: state.password_required.clone(),
    };
    // Set when a client sends SHUTDOWN: the accept loop below stops.
    let (shutdown_tx, mut shutdown_rx) = watch::channel(false);
    let (tx, rx) = mpsc::channel::<Message>(1024);
    let broker = Broker::new(ks, state, persister);
    let broker_task = tokio::spawn(broker.run(rx, move || {
        let _ = shutdown_tx.send(true);
    }));
    let shown = std::fs::canonicalize(&listening.unixsocket).unwrap_or_else(|_| listening.unixsocket.clone());
    tracing::info!(
        keys,
        startup_ms = started.elapsed().as_millis() as u64,
        "statebroker ready: connect with `redis-cli -s {}`",
        shown.display()
    );
    ready(&listening);

    let (conn_done_tx, mut conn_done_rx) = mpsc::channel::<()>(1);
    let mut next_id: u64 = 1;
    let mut sigint = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
        .map_err(|e| StartError::Io("installing SIGINT handler".into(), e))?;
    let mut sigterm = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(|e| StartError::Io("installing SIGTERM handler".into(), e))?;
    // As Redis does, a hang-up (the terminal that started it closing) does
    // not stop the server.
    let mut sighup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
        .map_err(|e| StartError::Io("installing SIGHUP handler".into(), e))?;
    let local_unix = socket_path.display().to_string();
    let mut accept_failures = AcceptFailures::new();
    loop {
        let accepted: Result<(ConnStream, String, String), (io::Error, bool)> = tokio::select! {
            r = unix.accept() => match r {
                Ok((s, _)) => Ok((ConnStream::Unix(s), format!("{local_unix}:0"), format!("{local_unix}:0"))),
                Err(e) => Err((e, false)),
            },
            r = async { tcp.as_ref().expect("guarded").accept().await }, if tcp.is_some() => match r {
                Ok((s, peer)) => {
                    let _ = s.set_nodelay(true);
                    let local = s.local_addr().map(|a| a.to_string()).unwrap_or_default();
                    Ok((ConnStream::Tcp(s), peer.to_string(), local))
                }
                Err(e) => Err((e, true)),
            },
            _ = sigint.recv() => { tracing::info!("SIGINT received, shutting down"); break; }
            _ = sigterm.recv() => { tracing::info!("SIGTERM received, shutting down"); break; }
            _ = sighup.recv() => { tracing::info!("SIGHUP received: ignored"); continue; }
            _ = shutdown_rx.changed() => { tracing::info!("SHUTDOWN requested, shutting down"); break; }
        };
        let (stream, addr, laddr) = match accepted {
            Ok(client) => client,
            Err((e, from_tcp)) => {
                accept_failures.handle(e, &unix, if from_tcp { tcp.as_ref() } else { None }).await;
                continue;
            }
        };
        // Redis's rule: a connection made while no password is required is
        // authenticated.
        let authenticated = !limits.password_required.load(std::sync::atomic::Ordering::Relaxed);
        let id = next_id;
        next_id += 1;
        let (push_tx, push_rx) = mpsc::unbounded_channel();
        let info = Box::new(ClientInfo::new(id, addr, laddr));
        let output = ClientOutput::new();
        if tx.send(Message::Connect { info, push: push_tx, output: output.clone() }).await.is_err() {
            break;
        }
        let tx = tx.clone();
        let done = conn_done_tx.clone();
        let limits = limits.clone();
        let session = Session { id, authenticated, ..Session::default() };
        tokio::spawn(async move {
            let r = match stream {
                ConnStream::Unix(s) => serve_client(s.into_std(), session, tx, (push_rx, output), limits).await,
                ConnStream::Tcp(s) => serve_client(s.into_std(), session, tx, (push_rx, output), limits).await,
            };
            if let Err(e) = r {
                tracing::debug!(client = id, error = ?e, "connection ended");
            }
            drop(done);
        });
    }
    // Stop accepting, let connections finish what is in flight, stop the broker.
    drop(unix);
    drop(tcp);
    let _ = std::fs::remove_file(&socket_path);
    // The broker answers what is queued and stops; dropping its side of each
    // connection's push channel then ends the connection.
    let _ = tx.send(Message::Shutdown).await;
    drop(conn_done_tx);
    let _ = tokio::time::timeout(Duration::from_secs(5), conn_done_rx.recv()).await;
    // Clients that still have not read their replies are closed: what a
    // reply handed them goes back to the broker, which logs it, and stops
    // once every connection has ended.
    let _ = tx.send(Message::KillClients).await;
    drop(tx);
    if tokio::time::timeout(Duration::from_secs(10), broker_task).await.is_err() {
        tracing::warn!("the broker did not stop within 10 s of the last connection's close");
    }
    tracing::info!("statebroker stopped");
    Ok(())
}

/// Serves one client over its socket, registered with the runtime for
/// readability only (see [`Socket`]).
async fn serve_client<T: Stream>(
    stream: io::Result<T>,
    session: Session,
    tx: mpsc::Sender<Message>,
    pushes: (mpsc::UnboundedReceiver<Push>, Arc<ClientOutput>),
    limits: ConnLimits,
) -> Result<(), connection::ConnError> {
    match stream.and_then(Socket::new) {
        Ok(socket) => connection::serve(socket, session, tx, pushes, limits).await,
        Err(e) => {
            // The broker counts the client already: let it go.
            let _ = tx.send(Message::Disconnect { id: session.id }).await;
            Err(e.into())
        }
    }
}

enum ConnStream {
    Unix(tokio::net::UnixStream),
    Tcp(tokio::net::TcpStream),
}

/// How the accept loop meets failures. Out of file descriptors, a client
/// waits in the listener's backlog and the listener stays readable, so
/// accepting again at once would spin, and the client would hang. One
/// descriptor is therefore kept in reserve: given up for a moment, it lets
/// the client be accepted and refused with Redis's error for too many
/// clients. Other failures (or no reserve) pause accepting briefly. The
/// warning is logged at most once a second.
struct AcceptFailures {
    reserve: Option<std::fs::File>,
    last_warning: Option<Instant>,
    since_warning: u64,
}

/// How long accepting pauses after a failure it cannot deal with at once.
const ACCEPT_PAUSE: Duration = Duration::from_millis(50);

impl AcceptFailures {
    fn new() -> AcceptFailures {
        AcceptFailures { reserve: std::fs::File::open("/dev/null").ok(), last_warning: None, since_warning: 0 }
    }

    /// Deals with `e`, from the TCP listener if `tcp` is given, otherwise
    /// from `unix`.
    async fn handle(&mut self, e: io::Error, unix: &UnixListener, tcp: Option<&TcpListener>) {
        let out_of_descriptors = matches!(e.raw_os_error(), Some(23 | 24)); // ENFILE, EMFILE
        let mut refused = false;
        if out_of_descriptors && self.reserve.take().is_some() {
            let accept = async {
                match tcp {
                    Some(l) => l.accept().await.map(|(s, _)| ConnStream::Tcp(s)),
                    None => unix.accept().await.map(|(s, _)| ConnStream::Unix(s)),
                }
            };
            if let Ok(Ok(client)) = tokio::time::timeout(ACCEPT_PAUSE, accept).await {
                const TOO_MANY: &[u8] = b"-ERR max number of clients reached\r\n";
                let _ = match &client {
                    ConnStream::Unix(s) => s.try_write(TOO_MANY),
                    ConnStream::Tcp(s) => s.try_write(TOO_MANY),
                };
                refused = true;
            }
            self.reserve = std::fs::File::open("/dev/null").ok();
        }
        self.since_warning += 1;
        if self.last_warning.is_none_or(|t| t.elapsed() >= Duration::from_secs(1)) {
            let failures = std::mem::take(&mut self.since_warning);
            if out_of_descriptors {
                tracing::warn!(error = %e, failures, "out of file descriptors: clients are refused (raise `ulimit -n`)");
            } else {
                tracing::warn!(error = %e, failures, "accept failed");
            }
            self.last_warning = Some(Instant::now());
        }
        if !refused {
            tokio::time::sleep(ACCEPT_PAUSE).await;
        }
    }
}

/// Builds the runtime `config.io_threads` asks for: one thread runs
/// everything, more use a multi-threaded scheduler. The broker stays a
/// single task either way.
pub fn runtime(config: &Config) -> io::Result<tokio::runtime::Runtime> {
    if config.io_threads <= 1 {
        tokio::runtime::Builder::new_current_thread().enable_all().build()
    } else {
        tokio::runtime::Builder::new_multi_thread().worker_threads(config.io_threads).enable_all().build()
    }
}

/// A server running on its own thread (for tests and embedding).
pub struct Spawned {
    /// Where it listens.
    pub listening: Listening,
    thread: Option<std::thread::JoinHandle<Result<(), StartError>>>,
}

impl Spawned {
    /// Waits for the server to stop (after `SHUTDOWN`).
    pub fn join(mut self) -> Result<(), StartError> {
        self.thread.take().map_or(Ok(()), |t| t.join().unwrap_or(Ok(())))
    }
}

/// Starts a server on a new thread and returns once it accepts connections.
pub fn spawn(config: Config) -> Result<Spawned, StartError> {
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let thread = std::thread::Builder::new()
        .name("statebroker".into())
        .spawn(move || {
            let rt = runtime(&config).map_err(|e| StartError::Io("building runtime".into(), e))?;
            let fail_tx = ready_tx.clone();
            let r = rt.block_on(run(config, move |l| {
                let _ = ready_tx.send(Ok(l.clone()));
            }));
            if let Err(e) = &r {
                let _ = fail_tx.send(Err(e.to_string()));
            }
            r
        })
        .map_err(|e| StartError::Io("spawning server thread".into(), e))?;
    match ready_rx.recv() {
        Ok(Ok(listening)) => Ok(Spawned { listening, thread: Some(thread) }),
        _ => match thread.join() {
            Ok(Err(e)) => Err(e),
            _ => Err(StartError::Io("server thread".into(), io::Error::other("exited before it was ready"))),
        },
    }
}
