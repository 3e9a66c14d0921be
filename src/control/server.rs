//! The accept loop of the control socket: checks each peer's uid, then serves it on
//! its own connection until it leaves or the daemon stops.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use tokio::io::AsyncWriteExt;
use tokio::net::UnixListener;
use tokio::sync::watch;

use super::{ControlHandler, PEER_REFUSED};
use crate::engine::AgentRuntime;
use crate::rpc::{Connection, ConnectionOptions};

/// How the server treats clients.
#[derive(Debug, Clone, Copy)]
pub struct ServerOptions {
    /// A client that sends nothing this long after connecting is disconnected.
    pub first_message_timeout: Duration,
    /// A client with this many unread messages waiting is disconnected.
    pub max_queued: usize,
}

impl Default for ServerOptions {
    fn default() -> Self {
        Self {
            first_message_timeout: Duration::from_secs(10),
            max_queued: 10_000,
        }
    }
}

/// Serves the control API on `listener` until `shutdown` turns true.
pub async fn serve(
    listener: UnixListener,
    runtime: Arc<AgentRuntime>,
    options: ServerOptions,
    mut shutdown: watch::Receiver<bool>,
) {
    let own_uid = nix::unistd::geteuid().as_raw();
    let mut next = 0u64;
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = shutdown.wait_for(|s| *s) => return,
        };
        let Ok((stream, _)) = accepted else { continue };
        next += 1;
        let peer_uid = stream.peer_cred().map(|c| c.uid()).ok();
        if peer_uid != Some(own_uid) {
            let refusal = json!({
                "jsonrpc": "2.0",
                "id": null,
                "error": { "code": PEER_REFUSED, "message": format!("refused: this daemon serves uid {own_uid} only") }
            });
            tokio::spawn(async move {
                let mut stream = stream;
                let _ = stream.write_all(format!("{refusal}\n").as_bytes()).await;
                let _ = stream.shutdown().await;
                // Drain what the peer sent so closing does not reset the connection
                // before it has read the refusal.
                let mut sink = tokio::io::sink();
                let _ = tokio::time::timeout(
                    Duration::from_secs(1),
                    tokio::io::copy(&mut stream, &mut sink),
                )
                .await;
            });
            continue;
        }
        let (read, write) = stream.into_split();
        let mut conn_options = ConnectionOptions::new(format!("client {next}"));
        conn_options.reply_to_malformed = true;
        conn_options.first_message_timeout = Some(options.first_message_timeout);
        conn_options.max_queued = Some(options.max_queued);
        let handler = Arc::new(ControlHandler::new(runtime.clone()));
        let (conn, task) = Connection::start(read, write, conn_options, handler);
        let mut shutdown = shutdown.clone();
        tokio::spawn(async move {
            tokio::select! {
                _ = task => {}
                _ = shutdown.wait_for(|s| *s) => conn.close(),
            }
        });
    }
}
