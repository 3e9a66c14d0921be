//! The client side of ACP: what aiswitch answers when an agent calls it
//! (`fs/read_text_file`, `fs/write_text_file`, `session/request_permission`), and
//! where `session/update` notifications go (the prompt in flight).

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::agents::drivers::AcpDriver;
use crate::agents::event::RunEvent;
use crate::agents::transcript::Transcript;
use crate::rpc::{Connection, ErrorObject, Handler, HandlerFuture, Notification, Request};

/// The prompt in flight: its driver state, its events, and a live feed.
#[derive(Default)]
pub(crate) struct PromptSink {
    pub driver: AcpDriver,
    pub events: Transcript,
    pub live: Option<mpsc::UnboundedSender<RunEvent>>,
}

impl PromptSink {
    pub fn push_all(&mut self, events: Vec<RunEvent>) {
        for event in events {
            if let Some(live) = &self.live {
                let _ = live.send(event.clone());
            }
            self.events.push(event);
        }
    }
}

/// Per-file write locks shared by the agents of one strict task, so two agents
/// writing one file are serialized.
#[derive(Debug, Default)]
pub struct FileLocks {
    /// Locked briefly to find a file's lock, never across an `.await`.
    locks: Mutex<std::collections::HashMap<PathBuf, Arc<tokio::sync::Mutex<()>>>>,
}

impl FileLocks {
    fn of(&self, path: &std::path::Path) -> Arc<tokio::sync::Mutex<()>> {
        self.locks
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry(path.to_path_buf())
            .or_default()
            .clone()
    }
}

/// Serves one agent's calls to aiswitch.
pub(crate) struct AcpClient {
    /// The agent's working directory; file calls outside it are refused.
    pub cwd: PathBuf,
    /// Locked only to push events, never across an `.await`.
    pub sink: Arc<Mutex<PromptSink>>,
    /// Per-file write locks (strict tasks).
    pub locks: Option<Arc<FileLocks>>,
}

impl Handler for AcpClient {
    fn request(&self, _conn: Connection, request: Request) -> HandlerFuture {
        let cwd = self.cwd.clone();
        let locks = self.locks.clone();
        Box::pin(async move {
            let params = request.params.unwrap_or(Value::Null);
            match request.method.as_str() {
                "fs/write_text_file" => {
                    let path = inside(&cwd, &params)?;
                    let content = params
                        .get("content")
                        .and_then(Value::as_str)
                        .unwrap_or_default();
                    let lock = locks.as_ref().map(|l| l.of(&path));
                    let _held = match &lock {
                        Some(lock) => Some(lock.lock().await),
                        None => None,
                    };
                    if let Some(dir) = path.parent() {
                        tokio::fs::create_dir_all(dir).await.map_err(io_error)?;
                    }
                    // Whole or not at all: a reader never sees half a file.
                    let tmp = path.with_extension(format!("aiswitch-{}.tmp", std::process::id()));
                    tokio::fs::write(&tmp, content).await.map_err(io_error)?;
                    tokio::fs::rename(&tmp, &path).await.map_err(io_error)?;
                    Ok(Value::Null)
                }
                "fs/read_text_file" => {
                    let path = inside(&cwd, &params)?;
                    let content = tokio::fs::read_to_string(&path).await.map_err(io_error)?;
                    Ok(json!({ "content": content }))
                }
                "session/request_permission" => {
                    // Non-interactive: allow once when offered, else the first option.
                    let options = params.get("options").and_then(Value::as_array);
                    let chosen = options.and_then(|opts| {
                        opts.iter()
                            .find(|o| o.get("kind").and_then(Value::as_str) == Some("allow_once"))
                            .or_else(|| opts.first())
                            .and_then(|o| o.get("optionId").cloned())
                    });
                    Ok(match chosen {
                        Some(id) => json!({ "outcome": { "outcome": "selected", "optionId": id } }),
                        None => json!({ "outcome": { "outcome": "cancelled" } }),
                    })
                }
                other => Err(ErrorObject::method_not_found(other)),
            }
        })
    }

    fn notification(&self, _conn: &Connection, notification: Notification) {
        if notification.method == "session/update"
            && let Some(params) = notification.params
        {
            let mut sink = self
                .sink
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let events = sink.driver.on_update(&params);
            sink.push_all(events);
        }
    }
}

/// The `path` parameter, which must lie inside `cwd`.
fn inside(cwd: &std::path::Path, params: &Value) -> Result<PathBuf, ErrorObject> {
    let raw = params
        .get("path")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let path = cwd.join(raw);
    let normal: PathBuf = path.components().collect();
    if normal
        .components()
        .any(|c| c == std::path::Component::ParentDir)
        || !normal.starts_with(cwd)
    {
        return Err(ErrorObject::new(
            ErrorObject::INVALID_PARAMS,
            format!("{raw} is outside the agent's working directory"),
        ));
    }
    Ok(normal)
}

fn io_error(e: std::io::Error) -> ErrorObject {
    ErrorObject::new(ErrorObject::INTERNAL_ERROR, e.to_string())
}
