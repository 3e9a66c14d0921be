//! The provider gateway: a reverse proxy on 127.0.0.1 that every launch's provider
//! requests go through (DESIGN §6). A launch gets the gateway's URL and a per-launch
//! token instead of the preset's URL and key; the gateway puts the real key back,
//! forwards to the launch's current upstream (so `env switch` reaches a running
//! session at its next request), streams the response back untouched, and reports
//! each response's usage and rate-limit windows as [`Observation`]s, which the
//! engine host writes to the ledger. Bodies are never stored or logged.

mod api;
mod body;
mod body_log;
mod forward;
mod lease;
mod meter;
mod proxy;
mod quota;
mod translate;
mod upstream;

use std::net::SocketAddr;
use std::sync::Arc;

use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::sync::mpsc;

pub use api::{Api, Reading};
pub use lease::{Binding, FellBack, LaunchInfo, Lease, LeaseHandle, LeaseTable, Resolved};
pub(crate) use meter::Meter;
pub use proxy::PATH_PREFIX;
pub use quota::QuotaWindow;
pub(crate) use quota::{code_assist_windows, windows as quota_windows};
pub(crate) use translate::Translation;
pub use upstream::{Upstream, host};

use crate::agents::event::TokenCounts;

/// Why the gateway cannot start or lease.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    /// The address is taken or not allowed.
    #[error(
        "the provider gateway cannot listen on {addr}: {source}; set `gateway_listen` in config.toml to a free 127.0.0.1 port"
    )]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The gateway only listens on loopback.
    #[error("the provider gateway listens on 127.0.0.1 only, not {0}")]
    NotLoopback(SocketAddr),
    /// A thread could not be started.
    #[error("cannot start the provider gateway's thread: {0}")]
    Thread(std::io::Error),
    /// No randomness for a token.
    #[error("cannot read /dev/urandom for a launch token: {0}")]
    Token(std::io::Error),
}

/// One metered response.
#[derive(Debug, Clone)]
pub struct Metered {
    /// When the response started, ms since the epoch.
    pub at_ms: i64,
    /// The launch.
    pub info: LaunchInfo,
    /// The launch's short id (see [`lease::short_id`]).
    pub launch: String,
    /// The preset whose upstream served it.
    pub preset: String,
    /// The upstream's host.
    pub provider: String,
    /// The model the provider named (or the request's path did).
    pub model: Option<String>,
    /// The counts.
    pub tokens: TokenCounts,
    /// The HTTP status.
    pub status: u16,
    /// False when the response carried no usage (then only the reservation is
    /// released).
    pub metered: bool,
    /// The budget reservation made for this request, to release once recorded.
    pub reservation: Option<i64>,
}

/// Rate-limit windows one response reported.
#[derive(Debug, Clone)]
pub struct QuotaSeen {
    /// When.
    pub at_ms: i64,
    /// The preset (the provider account).
    pub preset: String,
    /// The upstream's host.
    pub provider: String,
    /// The windows.
    pub windows: Vec<QuotaWindow>,
}

/// What the gateway saw, for the engine host to record.
#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)]
pub enum Observation {
    /// A response's usage.
    Usage(Metered),
    /// A response's rate-limit windows.
    Quota(QuotaSeen),
    /// A launch moved to its preset's fallback because this window ran out.
    FellBack(FellBack, QuotaWindow),
}

/// An observation on its way to the ledger; [`Gateway::settle`] waits until every
/// report is dropped (so drop it after recording).
#[derive(Debug)]
pub struct Report {
    /// What was seen.
    pub observation: Observation,
    _pending: InFlightGuard,
}

/// Decides, before a request leaves the machine, whether the launch may spend: a
/// reservation to release when the request's usage is recorded, or the message
/// the CLI shows (a hard budget stop).
pub type Admission = Arc<dyn Fn(&Resolved) -> Result<Option<i64>, String> + Send + Sync>;

type HttpsClient = Client<hyper_rustls::HttpsConnector<HttpConnector>, forward::RequestBody>;

pub(crate) struct Shared {
    table: Arc<LeaseTable>,
    client: HttpsClient,
    sink: mpsc::UnboundedSender<Report>,
    admission: Option<Admission>,
    in_flight: Arc<InFlight>,
    breakers: forward::Breakers,
    body_log: Option<body_log::BodyLog>,
    /// Base URLs that answered 404 to a Responses request: their Responses requests
    /// are translated to Chat Completions from then on.
    chat_only: std::sync::Mutex<std::collections::HashSet<String>>,
}

/// A running gateway, on its own thread and runtime (so any front-end, with or
/// without a runtime of its own, can launch through it); it stops when dropped.
pub struct Gateway {
    addr: SocketAddr,
    table: Arc<LeaseTable>,
    /// Leases of launches in other processes (`run`, `apply -- CLI`), each held
    /// while its process lives.
    held: Arc<std::sync::Mutex<Vec<(u32, Lease)>>>,
    in_flight: Arc<InFlight>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gateway")
            .field("addr", &self.addr)
            .field("launches", &self.table.len())
            .finish()
    }
}

/// Responses whose usage is not yet recorded, by task (`""`: none), so a command
/// or a task that is ending can wait for its last ones.
#[derive(Debug, Default)]
pub(crate) struct InFlight {
    count: std::sync::Mutex<std::collections::HashMap<String, u64>>,
    idle: std::sync::Condvar,
}

impl InFlight {
    pub(crate) fn begin(self: &Arc<Self>, task: Option<&str>) -> InFlightGuard {
        let key = task.unwrap_or_default().to_owned();
        *self
            .count
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(key.clone())
            .or_default() += 1;
        InFlightGuard(self.clone(), key)
    }
}

/// One response in flight; dropped when its usage was recorded (or there was none).
#[derive(Debug)]
pub(crate) struct InFlightGuard(Arc<InFlight>, String);

impl Drop for InFlightGuard {
    fn drop(&mut self) {
        let mut counts = self.0.count.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = counts.get_mut(&self.1) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                counts.remove(&self.1);
                self.0.idle.notify_all();
            }
        }
    }
}

impl Gateway {
    /// Binds `listen` (127.0.0.1; port 0 picks a free one) and serves on a thread
    /// of its own. Observations go to `sink`; `admission` is asked before each
    /// request is forwarded; with `body_log`, every exchange is written there (for
    /// debugging: bodies are otherwise never kept).
    pub fn start(
        listen: SocketAddr,
        sink: mpsc::UnboundedSender<Report>,
        admission: Option<Admission>,
        body_log: Option<std::path::PathBuf>,
    ) -> Result<Self, GatewayError> {
        if !listen.ip().is_loopback() {
            return Err(GatewayError::NotLoopback(listen));
        }
        let bind = |source| GatewayError::Bind {
            addr: listen,
            source,
        };
        let listener = std::net::TcpListener::bind(listen).map_err(bind)?;
        listener.set_nonblocking(true).map_err(bind)?;
        let addr = listener.local_addr().map_err(bind)?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(bind)?;
        let table = Arc::new(LeaseTable::default());
        let in_flight = Arc::new(InFlight::default());
        let shared = Arc::new(Shared {
            table: table.clone(),
            client: https_client(),
            sink,
            admission,
            in_flight: in_flight.clone(),
            breakers: forward::Breakers::default(),
            body_log: body_log.map(body_log::BodyLog::new),
            chat_only: std::sync::Mutex::default(),
        });
        let held: Arc<std::sync::Mutex<Vec<(u32, Lease)>>> = Arc::default();
        let reaped = held.clone();
        let (stop, stopped) = tokio::sync::oneshot::channel();
        std::thread::Builder::new()
            .name("aiswitch-gateway".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
                        return;
                    };
                    tokio::select! {
                        () = serve(listener, shared) => {}
                        () = reap(reaped) => {}
                        _ = stopped => {}
                    }
                });
            })
            .map_err(bind)?;
        Ok(Self {
            addr,
            table,
            held,
            in_flight,
            stop: Some(stop),
        })
    }

    /// The URL a launch uses as its provider's base URL.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Registers a launch; its token works until the lease is dropped.
    pub fn lease(
        &self,
        info: LaunchInfo,
        binding: Binding,
        upstream: Upstream,
    ) -> Result<Lease, GatewayError> {
        self.table
            .issue(info, binding, upstream)
            .map_err(GatewayError::Token)
    }

    /// Registers a launch made by process `pid` (which then execs the CLI); its
    /// token works until that process exits. Returns the token.
    pub fn lease_for_process(
        &self,
        pid: u32,
        info: LaunchInfo,
        binding: Binding,
        upstream: Upstream,
    ) -> Result<(String, String), GatewayError> {
        let lease = self.lease(info, binding, upstream)?;
        let found = (lease.token().to_owned(), lease.short_id().to_owned());
        self.held
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((pid, lease));
        Ok(found)
    }

    /// Sets the directory removed when the launch holding `token` ends.
    pub fn remove_on_end(&self, token: &str, dir: std::path::PathBuf) {
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, lease)) = held.iter_mut().find(|(_, l)| l.token() == token) {
            lease.remove_on_end(dir);
        }
    }

    /// Points the running launches of `agent` that follow its environment at
    /// `upstream` for their next request; returns how many.
    pub fn switch(&self, agent: &str, upstream: &Upstream) -> usize {
        self.table.switch(agent, upstream)
    }

    /// How many launches hold a live token.
    pub fn launches(&self) -> usize {
        self.table.len()
    }

    /// Waits (at most `timeout`) until every response of `task` (`None`: of any
    /// launch) has been recorded; true when none is left.
    pub fn settle(&self, task: Option<&str>, timeout: std::time::Duration) -> bool {
        let counts = self
            .in_flight
            .count
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let busy = |counts: &mut std::collections::HashMap<String, u64>| match task {
            Some(task) => counts.contains_key(task),
            None => !counts.is_empty(),
        };
        let (mut counts, _) = self
            .in_flight
            .idle
            .wait_timeout_while(counts, timeout, busy)
            .unwrap_or_else(|e| e.into_inner());
        !busy(&mut counts)
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// An HTTP client for the providers (and the OpenTelemetry collector): HTTP/1.1, TLS
/// with rustls (ring) and the system's roots (none found: plain HTTP still works,
/// HTTPS fails with a clear error).
pub(crate) fn https_client<B>() -> Client<hyper_rustls::HttpsConnector<HttpConnector>, B>
where
    B: hyper::body::Body + Send + 'static + Unpin,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_nodelay(true);
    http.set_connect_timeout(Some(std::time::Duration::from_secs(10)));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = hyper_rustls::HttpsConnectorBuilder::new()
        .with_provider_and_native_roots(provider.clone())
        .unwrap_or_else(|e| {
            tracing::warn!(
                "no system certificates found ({e}); HTTPS providers and collectors will fail"
            );
            let config = rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .expect("ring provides TLS 1.2 and 1.3")
                .with_root_certificates(rustls::RootCertStore::empty())
                .with_no_client_auth();
            hyper_rustls::HttpsConnectorBuilder::new().with_tls_config(config)
        });
    let https = builder.https_or_http().enable_http1().wrap_connector(http);
    Client::builder(TokioExecutor::new())
        .pool_idle_timeout(std::time::Duration::from_secs(60))
        .build(https)
}

/// Ends the leases of processes that have exited, once a second.
async fn reap(held: Arc<std::sync::Mutex<Vec<(u32, Lease)>>>) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
    loop {
        tick.tick().await;
        held.lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|(pid, _)| process_alive(*pid));
    }
}

/// True while process `pid` exists (signal 0 probes without sending anything).
fn process_alive(pid: u32) -> bool {
    let Ok(pid) = i32::try_from(pid) else {
        return false;
    };
    !matches!(
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None),
        Err(nix::errno::Errno::ESRCH)
    )
}

/// Accepts connections until the gateway is dropped.
async fn serve(listener: tokio::net::TcpListener, shared: Arc<Shared>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        let shared = shared.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| proxy::handle(shared.clone(), req));
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

impl Shared {
    /// True when `base_url` answered 404 to a Responses request before.
    fn is_chat_only(&self, base_url: &str) -> bool {
        self.chat_only
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains(base_url)
    }

    /// Remembers that `base_url` has no Responses API.
    fn mark_chat_only(&self, base_url: &str) {
        let fresh = self
            .chat_only
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(base_url.to_owned());
        if fresh {
            tracing::info!(
                base_url,
                "no Responses API here: Responses requests are translated to Chat Completions"
            );
        }
    }
}
