//! The provider gateway: a reverse proxy on 127.0.0.1 that every launch's provider
//! requests go through (DESIGN §6). A launch gets the gateway's URL and a per-launch
//! token instead of the preset's URL and key; the gateway puts the real key back,
//! forwards to the launch's current upstream (so `env switch` reaches a running
//! session at its next request), streams the response back untouched, and reports
//! each response's usage and rate-limit windows as [`Observation`]s, which the
//! engine host writes to the ledger. Bodies are never stored or logged.

mod api;
mod body;
mod lease;
mod meter;
mod proxy;
mod quota;
mod upstream;

use std::net::SocketAddr;
use std::sync::Arc;

use hyper::body::Incoming;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::sync::mpsc;

pub use api::{Api, Reading};
pub use lease::{Binding, LaunchInfo, Lease, LeaseTable, Resolved};
pub use quota::QuotaWindow;
pub use upstream::Upstream;

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
pub enum Observation {
    /// A response's usage.
    Usage(Metered),
    /// A response's rate-limit windows.
    Quota(QuotaSeen),
}

/// Decides, before a request leaves the machine, whether the launch may spend
/// (a hard budget stop answers `Err` with the message the CLI shows).
pub type Admission = Arc<dyn Fn(&Resolved) -> Result<(), String> + Send + Sync>;

type HttpsClient = Client<hyper_rustls::HttpsConnector<HttpConnector>, Incoming>;

pub(crate) struct Shared {
    table: Arc<LeaseTable>,
    client: HttpsClient,
    sink: mpsc::UnboundedSender<Observation>,
    admission: Option<Admission>,
}

/// A running gateway; it stops when dropped.
pub struct Gateway {
    addr: SocketAddr,
    table: Arc<LeaseTable>,
    server: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gateway")
            .field("addr", &self.addr)
            .field("launches", &self.table.len())
            .finish()
    }
}

impl Gateway {
    /// Binds `listen` (127.0.0.1; port 0 picks a free one) and serves on the
    /// current tokio runtime. Observations go to `sink`; `admission` is asked
    /// before each request is forwarded.
    pub async fn start(
        listen: SocketAddr,
        sink: mpsc::UnboundedSender<Observation>,
        admission: Option<Admission>,
    ) -> Result<Self, GatewayError> {
        if !listen.ip().is_loopback() {
            return Err(GatewayError::NotLoopback(listen));
        }
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .map_err(|source| GatewayError::Bind {
                addr: listen,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| GatewayError::Bind {
            addr: listen,
            source,
        })?;
        let table = Arc::new(LeaseTable::default());
        let shared = Arc::new(Shared {
            table: table.clone(),
            client: client(),
            sink,
            admission,
        });
        let server = tokio::spawn(serve(listener, shared));
        Ok(Self {
            addr,
            table,
            server,
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

    /// Points the running launches of `agent` that follow its environment at
    /// `upstream` for their next request; returns how many.
    pub fn switch(&self, agent: &str, upstream: &Upstream) -> usize {
        self.table.switch(agent, upstream)
    }

    /// How many launches hold a live token.
    pub fn launches(&self) -> usize {
        self.table.len()
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// The upstream client: HTTP/1.1, TLS with rustls (ring) and the system's roots
/// (none found: plain HTTP upstreams still work, HTTPS ones fail with a clear error).
fn client() -> HttpsClient {
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_nodelay(true);
    http.set_connect_timeout(Some(std::time::Duration::from_secs(10)));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = hyper_rustls::HttpsConnectorBuilder::new()
        .with_provider_and_native_roots(provider.clone())
        .unwrap_or_else(|e| {
            tracing::warn!(
                "the gateway found no system certificates ({e}); HTTPS providers will fail"
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
