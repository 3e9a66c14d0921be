//! Requests sent and not yet answered: id allocation and correlation.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Instant;

use serde_json::Value;
use tokio::sync::oneshot;

use super::{ErrorObject, RequestId, RpcError};

/// A request in flight.
struct Entry {
    method: String,
    sent: Instant,
    reply: oneshot::Sender<Result<Value, RpcError>>,
}

/// What a completed request was, for instrumentation.
pub(crate) struct Completed {
    pub method: String,
    pub sent: Instant,
}

/// The table of requests in flight.
#[derive(Default)]
pub(crate) struct Pending {
    next_id: AtomicI64,
    /// Locked only to insert or remove an entry, never across an `.await`.
    entries: Mutex<HashMap<RequestId, Entry>>,
}

impl Pending {
    /// Registers a request and returns its id and the receiver of its outcome.
    pub fn register(
        &self,
        method: &str,
    ) -> (RequestId, oneshot::Receiver<Result<Value, RpcError>>) {
        let id = RequestId::Number(self.next_id.fetch_add(1, Ordering::Relaxed) + 1);
        let (reply, rx) = oneshot::channel();
        let entry = Entry {
            method: method.to_owned(),
            sent: Instant::now(),
            reply,
        };
        self.lock().insert(id.clone(), entry);
        (id, rx)
    }

    /// Delivers a response; `None` when no request has this id.
    pub fn complete(
        &self,
        id: &RequestId,
        outcome: Result<Value, ErrorObject>,
        peer: &str,
    ) -> Option<Completed> {
        let entry = self.lock().remove(id)?;
        let result = outcome.map_err(|error| RpcError::Remote {
            peer: peer.to_owned(),
            method: entry.method.clone(),
            error: Box::new(error),
        });
        let _ = entry.reply.send(result);
        Some(Completed {
            method: entry.method,
            sent: entry.sent,
        })
    }

    /// Forgets a request (timed out or abandoned).
    pub fn forget(&self, id: &RequestId) {
        self.lock().remove(id);
    }

    /// Fails every request in flight with `error`; returns what they were.
    pub fn fail_all(&self, error: &RpcError) -> Vec<Completed> {
        self.lock()
            .drain()
            .map(|(_, entry)| {
                let _ = entry.reply.send(Err(error.clone()));
                Completed {
                    method: entry.method,
                    sent: entry.sent,
                }
            })
            .collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<RequestId, Entry>> {
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
