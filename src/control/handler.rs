//! Serves one control connection: looks the method up in the table
//! ([`super::methods`]) and calls it. No logic of its own.

use std::sync::{Arc, Mutex};

use tokio::task::JoinHandle;

use super::methods::{Call, find};
use crate::engine::AgentRuntime;
use crate::rpc::{Connection, ErrorObject, Handler, HandlerFuture, Notification, Request};

/// One connection's handler.
pub struct ControlHandler {
    runtime: Arc<AgentRuntime>,
    /// The event forwarder of this connection, if subscribed; locked briefly.
    subscription: Arc<Mutex<Option<JoinHandle<()>>>>,
}

impl ControlHandler {
    /// A handler for a new connection.
    pub fn new(runtime: Arc<AgentRuntime>) -> Self {
        Self {
            runtime,
            subscription: Arc::new(Mutex::new(None)),
        }
    }
}

impl Drop for ControlHandler {
    fn drop(&mut self) {
        if let Some(task) = self
            .subscription
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
        {
            task.abort();
        }
    }
}

impl Handler for ControlHandler {
    fn request(&self, conn: Connection, request: Request) -> HandlerFuture {
        let Some(method) = find(&request.method) else {
            let error = ErrorObject::method_not_found(&request.method);
            return Box::pin(std::future::ready(Err(error)));
        };
        (method.serve)(Call {
            runtime: self.runtime.clone(),
            conn,
            params: request.params,
            subscription: self.subscription.clone(),
        })
    }

    fn notification(&self, _conn: &Connection, notification: Notification) {
        if notification.method == crate::events::wake::METHOD {
            self.runtime.wake();
        }
    }
}
