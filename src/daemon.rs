//! `aiswitch daemon`: the engine in a long-lived process serving the control socket.
//! This module only wires parts together: the single-instance lock, the socket, the
//! agent runtime, the server, and shutdown on SIGTERM/SIGINT or when its socket is
//! removed.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use fs2::FileExt;
use tokio::net::UnixListener;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::watch;

use crate::control::{ServerOptions, serve};
use crate::engine::{AgentRuntime, Engine};
use crate::events::{Event, EventRecord};
use crate::paths::ensure_private_dir;

/// How often the daemon looks whether its socket is still there.
const SOCKET_CHECK: Duration = Duration::from_secs(2);

/// Why the daemon could not run.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    /// Another daemon holds the lock.
    #[error("a daemon is already running (pid {pid}, error -40301): stop it first or use it")]
    AlreadyRunning {
        /// Its pid, as written in the lock file.
        pid: String,
    },
    /// The runtime directory, the lock or the socket failed.
    #[error("{what} {path}: {source}")]
    Io {
        /// What was being done.
        what: &'static str,
        /// The path.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
}

/// The single-instance lock: `daemon.lock` in the runtime directory, holding the pid.
/// The kernel drops the lock when the process dies, even by `kill -9`.
pub struct DaemonLock {
    _file: File,
}

impl DaemonLock {
    /// Takes the lock or says which pid holds it.
    pub fn acquire(runtime_dir: &Path) -> Result<Self, DaemonError> {
        let path = runtime_dir.join("daemon.lock");
        let io = |what, source| DaemonError::Io {
            what,
            path: path.clone(),
            source,
        };
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&path)
            .map_err(|e| io("cannot open lock", e))?;
        if file.try_lock_exclusive().is_err() {
            let mut pid = String::new();
            let _ = file.read_to_string(&mut pid);
            return Err(DaemonError::AlreadyRunning {
                pid: pid.trim().to_owned(),
            });
        }
        file.set_len(0).map_err(|e| io("cannot write lock", e))?;
        file.rewind().map_err(|e| io("cannot write lock", e))?;
        write!(file, "{}", std::process::id()).map_err(|e| io("cannot write lock", e))?;
        Ok(Self { _file: file })
    }
}

/// The pid of the daemon holding the lock in `runtime_dir`, if one runs (only reads:
/// a free lock is let go at once).
pub fn running_pid(runtime_dir: &Path) -> Option<String> {
    let mut file = File::open(runtime_dir.join("daemon.lock")).ok()?;
    if file.try_lock_shared().is_ok() {
        let _ = fs2::FileExt::unlock(&file);
        return None;
    }
    let mut pid = String::new();
    let _ = file.read_to_string(&mut pid);
    Some(pid.trim().to_owned())
}

/// Where the control socket of these paths lives.
pub fn socket_path(engine: &Engine) -> PathBuf {
    engine.paths().control_socket()
}

/// Runs the daemon until SIGTERM or SIGINT (or its socket is removed); `ready` is
/// called once the socket accepts connections.
pub async fn run(
    engine: Engine,
    options: ServerOptions,
    ready: impl FnOnce(&Path),
) -> Result<(), DaemonError> {
    let runtime_dir = engine.paths().runtime_dir.clone();
    ensure_private_dir(&runtime_dir).map_err(|e| DaemonError::Io {
        what: "cannot create",
        path: runtime_dir.clone(),
        source: std::io::Error::other(e.to_string()),
    })?;
    let _lock = DaemonLock::acquire(&runtime_dir)?;
    let socket = socket_path(&engine);
    let (listener, socket_inode) = listen(&socket)?;

    match engine.mark_interrupted_tasks() {
        Ok(0) => {}
        Ok(n) => tracing::warn!(
            tasks = n,
            "tasks whose process died were marked interrupted"
        ),
        Err(e) => tracing::warn!(error = %e, "cannot check for interrupted tasks"),
    }
    let runtime = Arc::new(AgentRuntime::new(engine));
    follow_switches(&runtime);
    let pid = std::process::id();
    announce(
        &runtime,
        Event::DaemonStarted {
            pid,
            version: crate::VERSION.to_owned(),
        },
    );
    let (stop_tx, stop_rx) = watch::channel(false);
    let exporters = Exporters::start(&runtime, &stop_rx).await;
    let server = tokio::spawn(serve(listener, runtime.clone(), options, stop_rx));
    tracing::info!(socket = %socket.display(), pid, "daemon ready");
    ready(&socket);

    until_stopped(&socket, socket_inode).await?;
    announce(&runtime, Event::DaemonStopping { pid });
    stop_tx.send_replace(true);
    let _ = server.await;
    exporters.finish().await;
    runtime.shutdown().await;
    // What the gateway served before the stop is in the ledger before the exit.
    let engine = runtime.engine().clone();
    let _ = tokio::task::spawn_blocking(move || engine.settle_gateway(None)).await;
    // Only our own socket: another daemon's, bound after ours was removed, stays.
    if std::fs::symlink_metadata(&socket).is_ok_and(|meta| meta.ino() == socket_inode) {
        let _ = std::fs::remove_file(&socket);
    }
    tracing::info!("daemon stopped; every agent stopped, socket removed");
    Ok(())
}

/// Binds the control socket (mode 0600); returns it with the socket file's inode.
/// The caller holds the lock, so a socket already there belongs to a daemon that died.
fn listen(socket: &Path) -> Result<(UnixListener, u64), DaemonError> {
    if socket.exists() {
        tracing::warn!(path = %socket.display(), "removing the socket of a daemon that did not stop cleanly");
        let _ = std::fs::remove_file(socket);
    }
    let io = |what, source| DaemonError::Io {
        what,
        path: socket.to_owned(),
        source,
    };
    let listener = UnixListener::bind(socket).map_err(|e| io("cannot listen on", e))?;
    std::fs::set_permissions(socket, std::fs::Permissions::from_mode(0o600))
        .map_err(|e| io("cannot secure", e))?;
    let inode = std::fs::metadata(socket)
        .map_err(|e| io("cannot read", e))?
        .ino();
    Ok((listener, inode))
}

/// Waits for SIGTERM, SIGINT or the socket's removal.
async fn until_stopped(socket: &Path, inode: u64) -> Result<(), DaemonError> {
    let io = |source| DaemonError::Io {
        what: "cannot handle signals for",
        path: socket.to_owned(),
        source,
    };
    let mut term = signal(SignalKind::terminate()).map_err(io)?;
    let mut int = signal(SignalKind::interrupt()).map_err(io)?;
    tokio::select! {
        _ = term.recv() => tracing::info!("SIGTERM: stopping"),
        _ = int.recv() => tracing::info!("SIGINT: stopping"),
        () = removed(socket, inode) => tracing::warn!(
            socket = %socket.display(),
            "the control socket was removed (its directory deleted?): nobody can reach this daemon, stopping"
        ),
    }
    Ok(())
}

/// What the daemon exports besides the socket, when the settings ask for it:
/// Prometheus metrics and OTLP.
struct Exporters {
    metrics: Option<tokio::task::JoinHandle<()>>,
    otlp: Option<tokio::task::JoinHandle<()>>,
}

impl Exporters {
    /// Starts them; both end when `stop` turns true.
    async fn start(runtime: &Arc<AgentRuntime>, stop: &watch::Receiver<bool>) -> Self {
        let settings = runtime.engine().settings();
        // Settings were checked when the engine loaded them.
        let metrics = match settings.metrics_address() {
            Ok(Some(address)) => match crate::prometheus::bind(address).await {
                Ok(listener) => {
                    let serving = crate::prometheus::serve(runtime.clone(), listener, stop.clone());
                    Some(tokio::spawn(async move {
                        if let Err(e) = serving.await {
                            tracing::error!(%address, error = %e, "metrics stopped (metrics_listen)");
                        }
                    }))
                }
                Err(e) => {
                    tracing::error!(%address, error = %e, "cannot serve metrics (metrics_listen): the daemon runs without them");
                    None
                }
            },
            _ => None,
        };
        let otlp = match settings.otlp_base() {
            Ok(Some(base)) => Some(tokio::spawn(crate::otlp::export(
                runtime.clone(),
                base,
                Duration::from_secs(settings.otlp_interval_secs),
                stop.clone(),
            ))),
            _ => None,
        };
        Self { metrics, otlp }
    }

    /// Waits for them to end after the stop.
    async fn finish(self) {
        if let Some(metrics) = self.metrics {
            let _ = metrics.await;
        }
        if let Some(mut otlp) = self.otlp {
            // A collector that hangs does not hold up the stop; what it missed waits
            // in the ledger for the next start.
            if tokio::time::timeout(Duration::from_secs(2), &mut otlp)
                .await
                .is_err()
            {
                otlp.abort();
            }
        }
    }
}

/// Resolves once `socket` is gone or is another file: its directory was deleted (a
/// temporary home removed, a runtime directory cleaned at logout). No client can reach
/// this daemon any more and the next command would start a second one beside it, so
/// it stops (its agents with it) rather than run on unseen.
async fn removed(socket: &Path, inode: u64) {
    let mut tick = tokio::time::interval(SOCKET_CHECK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match std::fs::symlink_metadata(socket) {
            Ok(meta) if meta.ino() == inode => {}
            _ => return,
        }
    }
}

/// Records the daemon's start or stop; a store that cannot be written does not stop
/// the daemon.
fn announce(runtime: &AgentRuntime, event: Event) {
    if let Err(e) = runtime.engine().record(&[event]) {
        tracing::warn!(error = %e, "cannot record the daemon's start or stop");
    }
}

/// Session agents the daemon holds pick up `env switch` (from any process) at the
/// end of their current turn.
fn follow_switches(runtime: &Arc<AgentRuntime>) {
    let mut events = runtime.subscribe();
    let runtime = runtime.clone();
    tokio::spawn(async move {
        loop {
            match events.recv().await {
                Ok(EventRecord {
                    event: Event::EnvSwitched { agent, .. } | Event::EnvRolledBack { agent, .. },
                    ..
                }) => {
                    let runtime = runtime.clone();
                    // One waiting agent must not hold up the others.
                    tokio::spawn(async move {
                        if let Err(e) = runtime.pick_up_switch(&agent).await {
                            tracing::warn!(agent, error = %e, "cannot restart onto the switch");
                        }
                    });
                }
                Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
            }
        }
    });
}

/// A daemon started in the background by [`start_in_background`].
#[derive(Debug, Clone)]
pub struct Started {
    /// Its pid.
    pub pid: u32,
    /// Where its output goes.
    pub log: PathBuf,
}

/// Starts `program daemon` (the `aiswitch` binary) in its own process group, its
/// output appended to `data/daemon.log`, and waits (10 s at most) until its control
/// socket answers. The daemon outlives the caller. What the CLI does when a command
/// needs a daemon and none runs; the desktop app hosts the engine itself.
pub async fn start_in_background(
    engine: &Engine,
    program: &Path,
) -> Result<(crate::control::ControlClient, Started), DaemonError> {
    let data_dir = &engine.paths().data_dir;
    let log = data_dir.join("daemon.log");
    let io = |what, path: &Path, source| DaemonError::Io {
        what,
        path: path.to_path_buf(),
        source,
    };
    ensure_private_dir(data_dir)
        .map_err(|e| io("cannot create", data_dir, std::io::Error::other(e)))?;
    let out = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log)
        .map_err(|e| io("cannot open", &log, e))?;
    let err = out.try_clone().map_err(|e| io("cannot open", &log, e))?;
    let child = std::os::unix::process::CommandExt::process_group(
        std::process::Command::new(program)
            .arg("daemon")
            .stdin(std::process::Stdio::null())
            .stdout(out)
            .stderr(err),
        0,
    )
    .spawn()
    .map_err(|e| io("cannot start", program, e))?;
    let pid = child.id();
    // Not our child to wait for: it outlives this process.
    drop(child);
    let socket = socket_path(engine);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        match crate::control::ControlClient::connect(&socket).await {
            Ok(client) => return Ok((client, Started { pid, log })),
            Err(_) if std::time::Instant::now() < deadline => {
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
            Err(e) => {
                return Err(io(
                    "the daemon did not answer; see",
                    &log,
                    std::io::Error::other(e.to_string()),
                ));
            }
        }
    }
}
