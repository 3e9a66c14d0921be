//! The dashboard in a browser: `aiswitch dashboard` serves the embedded web UI and a
//! WebSocket carrying the control API (and its events) to the engine host, on
//! 127.0.0.1 unless another address is given. See `guard` for who is let in.

mod assets;
mod bridge;
mod first_page;
pub mod guard;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Query, State, WebSocketUpgrade};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::engine::Engine;
pub use guard::{Admission, Guard, Names, Refusal};

/// What can go wrong starting the dashboard.
#[derive(Debug, thiserror::Error)]
pub enum DashboardError {
    /// The address cannot be bound.
    #[error("cannot listen on {addr}: {source}; choose another with --port")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// No random token could be made.
    #[error("cannot read /dev/urandom for the dashboard's token: {0}")]
    Random(std::io::Error),
}

/// Where the engine host is, and how to start it when it is not running.
#[derive(Debug, Clone)]
pub struct EngineHost {
    /// The engine (its control socket).
    pub engine: Engine,
    /// The `aiswitch` program that runs the daemon.
    pub program: PathBuf,
}

impl EngineHost {
    /// A connection to the host's control socket; starts the daemon when none runs
    /// (it may have stopped since the dashboard started).
    async fn connect(&self) -> Result<tokio::net::UnixStream, String> {
        let socket = crate::daemon::socket_path(&self.engine);
        if let Ok(stream) = tokio::net::UnixStream::connect(&socket).await {
            return Ok(stream);
        }
        crate::daemon::start_in_background(&self.engine, &self.program)
            .await
            .map_err(|e| e.to_string())?;
        tokio::net::UnixStream::connect(&socket)
            .await
            .map_err(|e| format!("cannot reach the daemon: {e}"))
    }
}

/// A bound dashboard, before it serves.
pub struct Dashboard {
    listener: tokio::net::TcpListener,
    addr: SocketAddr,
    guard: Guard,
}

impl Dashboard {
    /// Binds `addr` (port 0: any free one) with a random token unless `token` is false.
    pub async fn bind(addr: SocketAddr, token: bool) -> Result<Self, DashboardError> {
        let bind_error = |source| DashboardError::Bind { addr, source };
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(bind_error)?;
        let addr = listener.local_addr().map_err(bind_error)?;
        let token = token
            .then(crate::random::random_hex)
            .transpose()
            .map_err(DashboardError::Random)?;
        Ok(Self {
            listener,
            addr,
            guard: Guard::new(token, Names::of(addr)),
        })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The URL to open: with the token, which only this start accepts.
    pub fn url(&self) -> String {
        let host = if self.addr.ip().is_unspecified() || self.addr.ip().is_loopback() {
            format!("127.0.0.1:{}", self.addr.port())
        } else {
            self.addr.to_string()
        };
        match self.guard.token() {
            Some(token) => format!("http://{host}/?token={token}"),
            None => format!("http://{host}/"),
        }
    }

    /// Serves until `shutdown` resolves.
    pub async fn serve(
        self,
        host: EngineHost,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let state = Arc::new(Served {
            guard: self.guard,
            host,
        });
        let app = Router::new()
            .route("/ws", get(websocket))
            .fallback(get(page))
            .with_state(state);
        axum::serve(self.listener, app)
            .with_graceful_shutdown(shutdown)
            .await
    }
}

struct Served {
    guard: Guard,
    host: EngineHost,
}

#[derive(serde::Deserialize)]
struct TokenQuery {
    token: Option<String>,
}

fn admit(
    served: &Served,
    headers: &HeaderMap,
    query: &TokenQuery,
    websocket: bool,
) -> Result<Admission, Refusal> {
    let text = |name| {
        headers
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
    };
    let credentials = guard::Credentials {
        host: text(header::HOST),
        origin: text(header::ORIGIN),
        query_token: query.token.as_deref(),
        cookies: text(header::COOKIE),
    };
    served.guard.admit(credentials, websocket)
}

/// The answer to a refused request: 401 without the token, else 403, and one line.
fn refused(refusal: Refusal) -> Response {
    let status = match refusal {
        Refusal::Token => StatusCode::UNAUTHORIZED,
        Refusal::Host | Refusal::Origin => StatusCode::FORBIDDEN,
    };
    (status, format!("{}\n", refusal.message())).into_response()
}

async fn page(
    State(served): State<Arc<Served>>,
    uri: Uri,
    headers: HeaderMap,
    Query(query): Query<TokenQuery>,
) -> Response {
    let admission = match admit(&served, &headers, &query, false) {
        Ok(admission) => admission,
        Err(refusal) => return refused(refusal),
    };
    let Some((bytes, media_type)) = assets::file(uri.path().trim_start_matches('/')) else {
        return (StatusCode::NOT_FOUND, "not found\n").into_response();
    };
    // Vite names the built scripts and styles after their content: a browser keeps
    // them; the page itself is always asked for again.
    let cache = match uri.path().starts_with("/assets/") {
        true => "public, max-age=31536000, immutable",
        false => "no-store",
    };
    let mut scripts = String::from("script-src 'self'");
    let mut body = axum::body::Body::from(bytes);
    if media_type.starts_with("text/html")
        && let Ok(page) = std::str::from_utf8(bytes)
        && first_page::names_a_script(page)
        && let Ok(nonce) = crate::random::random_hex()
    {
        let answers = first_page::first_answers(&served.host).await;
        let files = |path: &str| assets::file(path).map(|(bytes, _)| bytes);
        if let Some(first) = first_page::inline(page, files, &nonce, answers.as_ref()) {
            scripts = format!("script-src 'self' 'nonce-{nonce}'");
            body = axum::body::Body::from(first);
        }
    }
    let policy = format!(
        "default-src 'self'; {scripts}; connect-src 'self'; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'"
    );
    let mut response = (
        [
            (header::CONTENT_TYPE, media_type),
            (header::CACHE_CONTROL, cache),
            (header::X_FRAME_OPTIONS, "DENY"),
            (header::REFERRER_POLICY, "no-referrer"),
        ],
        body,
    )
        .into_response();
    if let Ok(value) = HeaderValue::from_str(&policy) {
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, value);
    }
    if admission == Admission::Query {
        // The page is served at once, with the token kept in a cookie (no redirect, one
        // round trip less); the app takes the token out of the address bar and history.
        let cookie = format!(
            "{}={}; Path=/; HttpOnly; SameSite=Strict",
            guard::COOKIE,
            query.token.unwrap_or_default()
        );
        if let Ok(value) = header::HeaderValue::from_str(&cookie) {
            response.headers_mut().insert(header::SET_COOKIE, value);
        }
    }
    response
}

async fn websocket(
    State(served): State<Arc<Served>>,
    headers: HeaderMap,
    Query(query): Query<TokenQuery>,
    upgrade: WebSocketUpgrade,
) -> Response {
    if let Err(refusal) = admit(&served, &headers, &query, true) {
        return refused(refusal);
    }
    upgrade
        .max_message_size(16 << 20)
        .on_upgrade(move |ws| async move {
            match served.host.connect().await {
                Ok(stream) => bridge::relay(ws, stream).await,
                Err(why) => bridge::close(ws, &why).await,
            }
        })
}
