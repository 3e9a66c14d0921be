//! Serves one control connection: each method calls the engine or the agent runtime
//! and maps its error to a JSON-RPC error. No logic of its own.

use std::sync::{Arc, Mutex};

use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use tokio::task::JoinHandle;

use super::PROTOCOL_VERSION;
use crate::engine::AgentRuntime;
use crate::presets::{PresetName, PresetView, Secrets};
use crate::rpc::{Connection, ErrorObject, Handler, HandlerFuture, Notification, Request};

/// The methods this handler serves (checked against the documented table).
#[cfg(test)]
pub(crate) const SERVED: &[&str] = &[
    "system.ping",
    "system.version",
    "agent.list",
    "agent.status",
    "agent.start",
    "agent.stop",
    "agent.restart",
    "agent.register",
    "preset.list",
    "preset.show",
    "preset.current",
    "preset.add",
    "preset.use",
    "preset.remove",
    "event.subscribe",
    "event.unsubscribe",
    "task.assign",
    "task.status",
    "task.result",
    "task.cancel",
    "task.list",
];

/// Error code: no such task.
const TASK_NOT_FOUND: i64 = -40101;

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

fn params<T: DeserializeOwned>(value: Option<Value>) -> Result<T, ErrorObject> {
    serde_json::from_value(value.unwrap_or_else(|| json!({})))
        .map_err(|e| ErrorObject::new(ErrorObject::INVALID_PARAMS, format!("invalid params: {e}")))
}

fn engine_error(err: crate::Error) -> ErrorObject {
    ErrorObject::new(i64::from(err.code()), err.to_string())
}

fn to_value<T: serde::Serialize>(value: &T) -> Result<Value, ErrorObject> {
    serde_json::to_value(value)
        .map_err(|e| ErrorObject::new(ErrorObject::INTERNAL_ERROR, e.to_string()))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct AgentParams {
    agent: String,
    preset: Option<String>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct NameParams {
    name: String,
    #[serde(default)]
    force: bool,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct AddParams {
    preset: crate::presets::Preset,
    #[serde(default)]
    force: bool,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct TaskParams {
    task: String,
    #[serde(default)]
    wait: bool,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct TaskListParams {
    status: Option<String>,
    #[serde(default = "twenty")]
    limit: usize,
}

fn twenty() -> usize {
    20
}

fn task_not_found(id: &str) -> ErrorObject {
    ErrorObject::new(
        TASK_NOT_FOUND,
        format!("task {id} does not exist: see `aiswitch tasks list`"),
    )
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RegisterParams {
    path: std::path::PathBuf,
    #[serde(default)]
    force: bool,
}

fn preset_name(name: &str) -> Result<PresetName, ErrorObject> {
    PresetName::parse(name)
        .map_err(|e| ErrorObject::new(ErrorObject::INVALID_PARAMS, e.to_string()))
}

impl Handler for ControlHandler {
    fn request(&self, conn: Connection, request: Request) -> HandlerFuture {
        let runtime = self.runtime.clone();
        let subscription = self.subscription.clone();
        Box::pin(async move {
            let engine = runtime.engine();
            let reveal = Secrets::Redact(engine.settings().reveal_chars);
            match request.method.as_str() {
                "system.ping" => Ok(json!("pong")),
                "system.version" => Ok(
                    json!({ "version": crate::VERSION, "protocol": PROTOCOL_VERSION, "pid": std::process::id() }),
                ),
                "agent.list" => {
                    let (agents, problems) = tokio::task::block_in_place(|| engine.list_agents());
                    Ok(json!({ "agents": to_value(&agents)?, "problems": problems }))
                }
                "agent.status" => Ok(json!({ "agents": to_value(&runtime.status().await)? })),
                "agent.start" => {
                    let p: AgentParams = params(request.params)?;
                    let preset = p.preset.as_deref().map(preset_name).transpose()?;
                    to_value(
                        &runtime
                            .start(&p.agent, preset.as_ref())
                            .await
                            .map_err(engine_error)?,
                    )
                }
                "agent.stop" | "agent.restart" => {
                    let p: AgentParams = params(request.params)?;
                    let view = if request.method == "agent.stop" {
                        runtime.stop(&p.agent).await
                    } else {
                        runtime.restart(&p.agent).await
                    };
                    to_value(&view.map_err(engine_error)?)
                }
                "agent.register" => {
                    let p: RegisterParams = params(request.params)?;
                    let manifest = engine
                        .register_agent(&p.path, p.force)
                        .map_err(engine_error)?;
                    Ok(json!({ "agent": manifest.id.as_str() }))
                }
                "preset.list" => {
                    let listing = engine.list_presets().map_err(engine_error)?;
                    let current = engine.current_preset().map_err(engine_error)?;
                    let views: Vec<PresetView> = listing
                        .presets
                        .iter()
                        .map(|p| PresetView::new(p, current.as_ref() == Some(&p.name), reveal))
                        .collect();
                    let problems: Vec<Value> = listing
                        .problems
                        .iter()
                        .map(|p| json!({ "file": p.path, "error": p.error.to_string() }))
                        .collect();
                    Ok(
                        json!({ "current": current.map(|c| c.to_string()), "presets": to_value(&views)?, "problems": problems }),
                    )
                }
                "preset.show" => {
                    let p: NameParams = params(request.params)?;
                    let name = preset_name(&p.name)?;
                    let preset = engine.preset(&name).map_err(engine_error)?;
                    let current =
                        engine.current_preset().map_err(engine_error)?.as_ref() == Some(&name);
                    to_value(&PresetView::new(&preset, current, reveal).with_applies(&preset))
                }
                "preset.current" => {
                    let current = engine.current_preset().map_err(engine_error)?;
                    Ok(json!({ "current": current.map(|c| c.to_string()) }))
                }
                "preset.add" => {
                    let p: AddParams = params(request.params)?;
                    p.preset.validate().map_err(|e| {
                        ErrorObject::new(ErrorObject::INVALID_PARAMS, e.to_string())
                    })?;
                    let replaced = engine
                        .add_preset(p.preset.clone(), p.force)
                        .map_err(engine_error)?;
                    let view = to_value(&PresetView::new(&p.preset, false, reveal))?;
                    Ok(
                        json!({ "action": if replaced { "replaced" } else { "added" }, "preset": view }),
                    )
                }
                "preset.use" => {
                    let p: NameParams = params(request.params)?;
                    let name = preset_name(&p.name)?;
                    engine.use_preset(&name).map_err(engine_error)?;
                    Ok(json!({ "current": name.as_str() }))
                }
                "preset.remove" => {
                    let p: NameParams = params(request.params)?;
                    let name = preset_name(&p.name)?;
                    engine.remove_preset(&name, p.force).map_err(engine_error)?;
                    Ok(json!({ "removed": name.as_str() }))
                }
                "event.subscribe" => {
                    let mut events = runtime.subscribe();
                    let conn = conn.clone();
                    let task = tokio::spawn(async move {
                        loop {
                            match events.recv().await {
                                Ok(event) => {
                                    let Ok(value) = serde_json::to_value(&event) else {
                                        continue;
                                    };
                                    if conn.notify("event", Some(value)).is_err() {
                                        return;
                                    }
                                }
                                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                                Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                            }
                        }
                    });
                    if let Some(old) = subscription
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .replace(task)
                    {
                        old.abort();
                    }
                    Ok(json!({ "subscribed": true }))
                }
                "task.assign" => {
                    let request: crate::engine::TaskRequest = params(request.params)?;
                    let spec = engine.plan_task(request).map_err(engine_error)?;
                    let id = runtime.assign(spec).map_err(engine_error)?;
                    Ok(json!({ "task": id }))
                }
                "task.status" | "task.result" => {
                    let p: TaskParams = params(request.params)?;
                    if p.wait
                        && request.method == "task.result"
                        && let Some(result) = runtime.wait_task(&p.task).await
                    {
                        return to_value(&result);
                    }
                    let details = engine
                        .task_details(&p.task)
                        .map_err(engine_error)?
                        .ok_or_else(|| task_not_found(&p.task))?;
                    if request.method == "task.status" {
                        let mut row = details.task;
                        row.result = None;
                        to_value(&row)
                    } else {
                        Ok(details.task.result.unwrap_or(Value::Null))
                    }
                }
                "task.cancel" => {
                    let p: TaskParams = params(request.params)?;
                    if runtime.cancel_task(&p.task) {
                        Ok(json!({ "cancelled": p.task }))
                    } else {
                        Err(task_not_found(&p.task))
                    }
                }
                "task.list" => {
                    let p: TaskListParams = params(request.params)?;
                    let rows = engine
                        .list_tasks(p.status.as_deref(), p.limit)
                        .map_err(engine_error)?;
                    Ok(json!({ "tasks": to_value(&rows)? }))
                }
                "event.unsubscribe" => {
                    if let Some(task) = subscription
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .take()
                    {
                        task.abort();
                    }
                    Ok(json!({ "subscribed": false }))
                }
                other => Err(ErrorObject::method_not_found(other)),
            }
        })
    }

    fn notification(&self, _conn: &Connection, _notification: Notification) {}
}
