//! A JSON-RPC connection over any byte stream: a reader task that parses and
//! dispatches, a writer task fed by a channel, and a cheap cloneable handle.
//!
//! A peer that sends something malformed or oversized, or closes its end, *faults*
//! the connection: every request in flight fails with that one error, which names
//! the peer and what it sent. With `reply_to_malformed` (the control socket) a
//! malformed message gets a JSON-RPC error response instead, and the connection
//! goes on.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use super::error::snippet;
use super::framing::FrameError;
use super::pending::Pending;
use super::{
    DEFAULT_MAX_MESSAGE, Direction, ErrorObject, Framing, Instrument, Message, MessageRecord,
    NoInstrument, Notification, Outcome, Request, Response, RpcError,
};

/// The future a request handler returns.
pub type HandlerFuture = Pin<Box<dyn Future<Output = Result<Value, ErrorObject>> + Send>>;

/// Serves what the peer sends: requests (each on its own task) and notifications
/// (in arrival order, on the reader task: keep them quick).
pub trait Handler: Send + Sync + 'static {
    /// Answers a request.
    fn request(&self, conn: Connection, request: Request) -> HandlerFuture;
    /// Takes a notification.
    fn notification(&self, conn: &Connection, notification: Notification);
}

/// How a connection behaves.
#[derive(Clone)]
pub struct ConnectionOptions {
    /// The peer's name in errors and records.
    pub peer: String,
    /// Wire framing.
    pub framing: Framing,
    /// Largest message accepted from the peer.
    pub max_message: usize,
    /// Default timeout of [`Connection::request`].
    pub request_timeout: Duration,
    /// Answer malformed messages with an error instead of faulting.
    pub reply_to_malformed: bool,
    /// Receives a record of every message.
    pub instrument: Arc<dyn Instrument>,
    /// Close the connection when the peer sends nothing this long after connecting.
    pub first_message_timeout: Option<Duration>,
    /// Close the connection when this many outgoing messages wait unsent (a peer
    /// that stopped reading).
    pub max_queued: Option<usize>,
}

impl ConnectionOptions {
    /// Defaults: newline framing, 16 MiB, 30 s timeout, fault on malformed input.
    pub fn new(peer: impl Into<String>) -> Self {
        Self {
            peer: peer.into(),
            framing: Framing::Lines,
            max_message: DEFAULT_MAX_MESSAGE,
            request_timeout: Duration::from_secs(30),
            reply_to_malformed: false,
            instrument: Arc::new(NoInstrument),
            first_message_timeout: None,
            max_queued: None,
        }
    }
}

struct Inner {
    options: ConnectionOptions,
    pending: Pending,
    outgoing: mpsc::UnboundedSender<Vec<u8>>,
    /// The fault that ended the connection; written once, by whichever task sees it.
    fault: Mutex<Option<RpcError>>,
    closed: watch::Sender<bool>,
    /// Frames queued and not yet written.
    queued: std::sync::atomic::AtomicUsize,
}

/// A handle to a running connection; clones share it.
#[derive(Clone)]
pub struct Connection {
    inner: Arc<Inner>,
}

impl Connection {
    /// Starts the reader and writer tasks. The returned handle resolves when the
    /// connection ends, with the fault that ended it.
    pub fn start<R, W, H>(
        reader: R,
        writer: W,
        options: ConnectionOptions,
        handler: Arc<H>,
    ) -> (Self, JoinHandle<RpcError>)
    where
        R: AsyncRead + Unpin + Send + 'static,
        W: AsyncWrite + Unpin + Send + 'static,
        H: Handler + ?Sized,
    {
        let (tx, rx) = mpsc::unbounded_channel();
        let (closed, _) = watch::channel(false);
        let conn = Self {
            inner: Arc::new(Inner {
                options,
                pending: Pending::default(),
                outgoing: tx,
                fault: Mutex::new(None),
                closed,
                queued: std::sync::atomic::AtomicUsize::new(0),
            }),
        };
        tokio::spawn(write_loop(conn.clone(), writer, rx));
        let task = tokio::spawn(read_loop(conn.clone(), BufReader::new(reader), handler));
        (conn, task)
    }

    /// The peer's name.
    pub fn peer(&self) -> &str {
        &self.inner.options.peer
    }

    /// Sends a request and waits for its result, up to the default timeout.
    pub async fn request(&self, method: &str, params: Option<Value>) -> Result<Value, RpcError> {
        self.request_with_timeout(method, params, self.inner.options.request_timeout)
            .await
    }

    /// Sends a request and waits for its result, up to `timeout`.
    pub async fn request_with_timeout(
        &self,
        method: &str,
        params: Option<Value>,
        timeout: Duration,
    ) -> Result<Value, RpcError> {
        if let Some(fault) = self.fault() {
            return Err(fault);
        }
        let (id, rx) = self.inner.pending.register(method);
        let message = Message::Request(Request {
            id: id.clone(),
            method: method.to_owned(),
            params,
        });
        self.send(&message, method, Outcome::Sent)?;
        let started = Instant::now();
        match tokio::time::timeout(timeout, rx).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err(self.fault().unwrap_or_else(|| self.closed_error(None))),
            Err(_) => {
                self.inner.pending.forget(&id);
                self.record(
                    method,
                    Direction::Outgoing,
                    0,
                    Some(started.elapsed()),
                    Outcome::Timeout,
                );
                Err(RpcError::Timeout {
                    peer: self.peer().to_owned(),
                    method: method.to_owned(),
                    after: timeout,
                })
            }
        }
    }

    /// Sends a notification.
    pub fn notify(&self, method: &str, params: Option<Value>) -> Result<(), RpcError> {
        let message = Message::Notification(Notification {
            method: method.to_owned(),
            params,
        });
        self.send(&message, method, Outcome::Sent)
    }

    /// Outgoing messages queued and not yet written.
    pub fn queued(&self) -> usize {
        self.inner.queued.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The fault that ended the connection, if it has ended.
    pub fn fault(&self) -> Option<RpcError> {
        self.inner
            .fault
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Waits until the connection has ended.
    pub async fn closed(&self) {
        let mut rx = self.inner.closed.subscribe();
        let _ = rx.wait_for(|closed| *closed).await;
    }

    /// Ends the connection from our side.
    pub fn close(&self) {
        self.set_fault(self.closed_error(Some("closed by aiswitch".into())));
    }

    /// Queues a frame for the writer, faulting the connection when the peer has
    /// stopped reading and too much is waiting.
    fn enqueue(&self, frame: Vec<u8>) -> Result<(), RpcError> {
        use std::sync::atomic::Ordering;
        let queued = self.inner.queued.fetch_add(1, Ordering::Relaxed) + 1;
        if let Some(max) = self.inner.options.max_queued
            && queued > max
        {
            self.inner.queued.fetch_sub(1, Ordering::Relaxed);
            self.set_fault(RpcError::Io {
                peer: self.peer().to_owned(),
                message: format!("stopped reading: {max} messages waiting; disconnected"),
            });
            return Err(self.fault().unwrap_or_else(|| self.closed_error(None)));
        }
        self.inner.outgoing.send(frame).map_err(|_| {
            self.inner.queued.fetch_sub(1, Ordering::Relaxed);
            self.fault().unwrap_or_else(|| self.closed_error(None))
        })
    }

    fn send(&self, message: &Message, method: &str, outcome: Outcome) -> Result<(), RpcError> {
        let frame = self.inner.options.framing.encode(&message.to_json());
        let size = frame.len();
        self.enqueue(frame)?;
        self.record(method, Direction::Outgoing, size, None, outcome);
        Ok(())
    }

    fn respond(&self, response: Response, method: &str, latency: Duration) {
        let outcome = match &response.outcome {
            Ok(_) => Outcome::Ok,
            Err(e) => Outcome::Error(e.code),
        };
        let frame = self
            .inner
            .options
            .framing
            .encode(&Message::Response(response).to_json());
        let size = frame.len();
        if self.enqueue(frame).is_ok() {
            self.record(method, Direction::Outgoing, size, Some(latency), outcome);
        }
    }

    fn record(
        &self,
        method: &str,
        direction: Direction,
        size: usize,
        latency: Option<Duration>,
        outcome: Outcome,
    ) {
        self.inner.options.instrument.record(&MessageRecord {
            peer: self.peer(),
            method,
            direction,
            size,
            latency,
            outcome,
        });
    }

    fn closed_error(&self, reason: Option<String>) -> RpcError {
        RpcError::Closed {
            peer: self.peer().to_owned(),
            reason,
        }
    }

    /// Records the first fault, fails everything in flight, and signals the end.
    fn set_fault(&self, error: RpcError) {
        {
            let mut fault = self
                .inner
                .fault
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if fault.is_none() {
                *fault = Some(error);
            }
        }
        if let Some(fault) = self.fault() {
            // Requests the peer never answered count as failed (a crash mid-prompt
            // is a failed prompt turn).
            for lost in self.inner.pending.fail_all(&fault) {
                self.record(
                    &lost.method,
                    Direction::Incoming,
                    0,
                    Some(lost.sent.elapsed()),
                    Outcome::Lost,
                );
            }
        }
        self.inner.closed.send_replace(true);
    }

    /// Handles bytes that are not a usable message.
    fn malformed(&self, body: &[u8], reason: String, code: i64) -> bool {
        if self.inner.options.reply_to_malformed {
            let response = Response {
                id: None,
                outcome: Err(ErrorObject::new(code, reason)),
            };
            self.respond(response, "(malformed)", Duration::ZERO);
            return true;
        }
        self.set_fault(RpcError::Malformed {
            peer: self.peer().to_owned(),
            reason,
            snippet: snippet(body),
        });
        false
    }
}

async fn read_loop<R, H>(conn: Connection, mut reader: BufReader<R>, handler: Arc<H>) -> RpcError
where
    R: AsyncRead + Unpin + Send,
    H: Handler + ?Sized,
{
    let options = conn.inner.options.clone();
    let mut closed = conn.inner.closed.subscribe();
    let mut first = options.first_message_timeout;
    loop {
        let read = options.framing.read(&mut reader, options.max_message);
        let frame = tokio::select! {
            frame = read => frame,
            _ = closed.wait_for(|c| *c) => break,
            () = sleep_or_forever(first) => {
                conn.set_fault(conn.closed_error(Some("sent nothing; disconnected".into())));
                break;
            }
        };
        first = None;
        let body = match frame {
            Ok(Some(body)) => body,
            Ok(None) => {
                conn.set_fault(conn.closed_error(Some("end of stream".into())));
                break;
            }
            Err(FrameError::TooLarge) => {
                conn.set_fault(RpcError::TooLarge {
                    peer: options.peer.clone(),
                    limit: options.max_message,
                });
                break;
            }
            Err(FrameError::BadHeader(line)) => {
                conn.set_fault(RpcError::Malformed {
                    peer: options.peer.clone(),
                    reason: "a malformed header".into(),
                    snippet: snippet(&line),
                });
                break;
            }
            Err(FrameError::Io(e)) => {
                conn.set_fault(RpcError::Io {
                    peer: options.peer.clone(),
                    message: format!("read failed: {e}"),
                });
                break;
            }
        };
        let size = body.len();
        let message = match Message::parse(&body) {
            Ok(message) => message,
            Err(e) => {
                let code = e.code();
                if conn.malformed(&body, e.to_string(), code) {
                    continue;
                }
                break;
            }
        };
        match message {
            Message::Response(response) => {
                let Some(id) = response.id else {
                    let text = String::from_utf8_lossy(&body).into_owned();
                    if conn.malformed(
                        &body,
                        format!("a response without an id: {text}"),
                        ErrorObject::INVALID_REQUEST,
                    ) {
                        continue;
                    }
                    break;
                };
                let outcome = match &response.outcome {
                    Ok(_) => Outcome::Ok,
                    Err(e) => Outcome::Error(e.code),
                };
                if let Some(done) =
                    conn.inner
                        .pending
                        .complete(&id, response.outcome, &options.peer)
                {
                    conn.record(
                        &done.method,
                        Direction::Incoming,
                        size,
                        Some(done.sent.elapsed()),
                        outcome,
                    );
                }
                // A response to a request we gave up on (timed out) is dropped.
            }
            Message::Notification(notification) => {
                conn.record(
                    &notification.method,
                    Direction::Incoming,
                    size,
                    None,
                    Outcome::Sent,
                );
                handler.notification(&conn, notification);
            }
            Message::Request(request) => {
                conn.record(
                    &request.method,
                    Direction::Incoming,
                    size,
                    None,
                    Outcome::Sent,
                );
                let started = Instant::now();
                let method = request.method.clone();
                let id = request.id.clone();
                let future = handler.request(conn.clone(), request);
                let conn = conn.clone();
                tokio::spawn(async move {
                    let outcome = future.await;
                    conn.respond(
                        Response {
                            id: Some(id),
                            outcome,
                        },
                        &method,
                        started.elapsed(),
                    );
                });
            }
        }
    }
    conn.fault().unwrap_or_else(|| conn.closed_error(None))
}

async fn sleep_or_forever(after: Option<Duration>) {
    match after {
        Some(after) => tokio::time::sleep(after).await,
        None => std::future::pending().await,
    }
}

async fn write_loop<W>(conn: Connection, mut writer: W, mut rx: mpsc::UnboundedReceiver<Vec<u8>>)
where
    W: AsyncWrite + Unpin + Send,
{
    let mut closed = conn.inner.closed.subscribe();
    loop {
        let frame = tokio::select! {
            frame = rx.recv() => frame,
            _ = closed.wait_for(|c| *c) => None,
        };
        let Some(frame) = frame else { break };
        let queued = &conn.inner.queued;
        let written = async {
            writer.write_all(&frame).await?;
            queued.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
            // Batch what is already queued before flushing.
            while let Ok(more) = rx.try_recv() {
                writer.write_all(&more).await?;
                queued.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
            }
            writer.flush().await
        };
        if let Err(e) = written.await {
            conn.set_fault(RpcError::Io {
                peer: conn.peer().to_owned(),
                message: format!("write failed: {e}"),
            });
            break;
        }
    }
    let _ = writer.shutdown().await;
}
