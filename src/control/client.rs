//! A control-API client: what the CLI uses to talk to a running daemon.

use std::path::Path;
use std::sync::Arc;

use serde_json::Value;
use tokio::net::UnixStream;
use tokio::sync::mpsc;

use super::PROTOCOL_VERSION;
use crate::events::EventRecord;
use crate::rpc::{
    Connection, ConnectionOptions, ErrorObject, Handler, HandlerFuture, Notification, Request,
    RpcError,
};

/// Talking to the daemon failed.
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    /// No daemon listens on the socket.
    #[error("no daemon is running ({0})")]
    NotRunning(String),
    /// The daemon speaks another protocol version.
    #[error(
        "the running daemon speaks control protocol {found}, this aiswitch {PROTOCOL_VERSION}: restart the daemon"
    )]
    Protocol {
        /// The daemon's version.
        found: u64,
    },
    /// The process listening on the socket runs as another user.
    #[error(
        "the daemon at {path} runs as uid {uid}, not as you (uid {me}): aiswitch sends it nothing; stop it, or set AISWITCH_HOME to a directory of yours"
    )]
    ForeignDaemon {
        /// The socket.
        path: String,
        /// The daemon's uid.
        uid: u32,
        /// The current user.
        me: u32,
    },
    /// A request failed.
    #[error(transparent)]
    Rpc(#[from] RpcError),
}

/// Forwards `event` notifications to a channel, typed; one this version does not
/// know is dropped.
struct Events(mpsc::UnboundedSender<EventRecord>);

impl Handler for Events {
    fn request(&self, _: Connection, r: Request) -> HandlerFuture {
        Box::pin(async move { Err(ErrorObject::method_not_found(&r.method)) })
    }
    fn notification(&self, _: &Connection, n: Notification) {
        if n.method == "event"
            && let Some(params) = n.params
            && let Ok(record) = serde_json::from_value(params)
        {
            let _ = self.0.send(record);
        }
    }
}

/// A connection to the daemon.
pub struct ControlClient {
    conn: Connection,
    events: mpsc::UnboundedReceiver<EventRecord>,
}

impl ControlClient {
    /// Connects to the socket at `path` and checks the protocol version.
    pub async fn connect(path: &Path) -> Result<Self, ControlError> {
        let stream = UnixStream::connect(path)
            .await
            .map_err(|e| ControlError::NotRunning(format!("{}: {e}", path.display())))?;
        // Nothing is sent before the peer is known to be this user's own process.
        let uid = stream
            .peer_cred()
            .map_err(|e| ControlError::NotRunning(format!("{}: {e}", path.display())))?
            .uid();
        let me = nix::unistd::Uid::effective().as_raw();
        if uid != me {
            return Err(ControlError::ForeignDaemon {
                path: path.display().to_string(),
                uid,
                me,
            });
        }
        let (read, write) = stream.into_split();
        let (tx, events) = mpsc::unbounded_channel();
        let (conn, _) = Connection::start(
            read,
            write,
            ConnectionOptions::new("daemon"),
            Arc::new(Events(tx)),
        );
        let client = Self { conn, events };
        let version = client.call("system.version", None).await?;
        let found = version.get("protocol").and_then(Value::as_u64).unwrap_or(0);
        if found != u64::from(PROTOCOL_VERSION) {
            return Err(ControlError::Protocol { found });
        }
        Ok(client)
    }

    /// Calls a method.
    pub async fn call(&self, method: &str, params: Option<Value>) -> Result<Value, RpcError> {
        self.conn.request(method, params).await
    }

    /// Subscribes to events: those stored after `since` first when given, then
    /// everything from now on. The first event is `subscribed`.
    pub async fn subscribe(&self, since: Option<i64>) -> Result<(), RpcError> {
        let params = since.map(|since| serde_json::json!({ "since": since }));
        self.call("event.subscribe", params).await.map(|_| ())
    }

    /// The next pushed event (after [`Self::subscribe`]); `None` when the daemon left.
    pub async fn next_event(&mut self) -> Option<EventRecord> {
        self.events.recv().await
    }
}
