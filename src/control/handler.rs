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
    "tokens.summary",
    "budget.list",
    "budget.set",
    "budget.remove",
    "alert.list",
    "alert.ack",
    "metrics.query",
    "env.switch",
    "env.show",
    "env.snapshot",
    "env.rollback",
    "env.list_snapshots",
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
struct SubscribeParams {
    /// Resume after this event id.
    #[serde(default)]
    since: Option<i64>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct AgentParams {
    agent: String,
    preset: Option<String>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct EnvParams {
    agent: String,
    preset: Option<String>,
    name: Option<String>,
    #[serde(default)]
    verify: bool,
    probe: Option<String>,
    #[serde(default)]
    force: bool,
}

impl EnvParams {
    fn name(&self) -> Result<&str, ErrorObject> {
        self.name.as_deref().ok_or_else(|| {
            ErrorObject::new(ErrorObject::INVALID_PARAMS, "give the snapshot's name")
        })
    }
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
    #[serde(default)]
    allow_env: std::collections::BTreeSet<crate::presets::EnvVarName>,
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
    status: Option<crate::store::TaskState>,
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
struct SummaryParams {
    agent: Option<String>,
    preset: Option<String>,
    model: Option<String>,
    since_ms: Option<i64>,
    until_ms: Option<i64>,
    by: Option<String>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct BudgetParams {
    #[serde(default = "global")]
    scope: String,
    period: String,
    limit_usd: Option<f64>,
    limit_tokens: Option<u64>,
    #[serde(default = "default_thresholds")]
    thresholds: String,
    #[serde(default)]
    hard_stop: bool,
    #[serde(default)]
    refuse_unpriced: bool,
}

fn global() -> String {
    "global".into()
}

fn default_thresholds() -> String {
    "80,100".into()
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct MetricsParams {
    agent: Option<String>,
    since_ms: Option<i64>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct IdParams {
    id: Option<i64>,
    #[serde(default)]
    all: bool,
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
                    let added = engine
                        .add_preset(p.preset.clone(), p.force, &p.allow_env)
                        .map_err(engine_error)?;
                    let name = p.preset.name.clone();
                    let stored = engine.preset(&name).map_err(engine_error)?;
                    let view = to_value(&PresetView::new(&stored, false, reveal))?;
                    let warnings: Vec<String> =
                        added.warnings.iter().map(ToString::to_string).collect();
                    Ok(json!({
                        "action": if added.replaced { "replaced" } else { "added" },
                        "preset": view,
                        "warnings": warnings,
                    }))
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
                    let removed = engine.remove_preset(&name, p.force).map_err(engine_error)?;
                    Ok(
                        json!({ "removed": name.as_str(), "switched_agents": removed.switched_agents, "fallback": removed.fallback }),
                    )
                }
                "event.subscribe" => {
                    let p: SubscribeParams = params(request.params)?;
                    let (task, after) = super::subscription::start(&runtime, conn.clone(), p.since);
                    if let Some(old) = subscription
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .replace(task)
                    {
                        old.abort();
                    }
                    Ok(json!({ "subscribed": true, "after": after }))
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
                    let rows = engine.list_tasks(p.status, p.limit).map_err(engine_error)?;
                    Ok(json!({ "tasks": to_value(&rows)? }))
                }
                "tokens.summary" => {
                    let p: SummaryParams = params(request.params)?;
                    let by = match p.by.as_deref() {
                        None => None,
                        Some("agent") => Some(crate::store::GroupBy::Agent),
                        Some("preset") => Some(crate::store::GroupBy::Preset),
                        Some("model") => Some(crate::store::GroupBy::Model),
                        Some("day") => Some(crate::store::GroupBy::Day),
                        Some(other) => {
                            return Err(ErrorObject::new(
                                ErrorObject::INVALID_PARAMS,
                                format!(
                                    "unknown grouping {other:?}: use agent, preset, model or day"
                                ),
                            ));
                        }
                    };
                    let filter = crate::store::UsageFilter {
                        agent: p.agent,
                        preset: p.preset,
                        model: p.model,
                        since_ms: p.since_ms,
                        until_ms: p.until_ms,
                    };
                    let groups = engine.usage_summary(&filter, by).map_err(engine_error)?;
                    let total = engine
                        .usage_summary(&filter, None)
                        .map_err(engine_error)?
                        .into_iter()
                        .next();
                    Ok(json!({ "groups": to_value(&groups)?, "total": to_value(&total)? }))
                }
                "budget.list" => Ok(
                    json!({ "budgets": to_value(&engine.budget_statuses().map_err(engine_error)?)? }),
                ),
                "budget.set" => {
                    let p: BudgetParams = params(request.params)?;
                    let period = p.period.parse().map_err(|e: crate::budget::BudgetError| {
                        ErrorObject::new(ErrorObject::INVALID_PARAMS, e.to_string())
                    })?;
                    let request = crate::engine::BudgetRequest {
                        scope: p.scope,
                        period,
                        limit_usd: p.limit_usd,
                        limit_tokens: p.limit_tokens,
                        thresholds: p.thresholds,
                        hard_stop: p.hard_stop,
                        refuse_unpriced: p.refuse_unpriced,
                    };
                    Ok(json!({ "id": engine.set_budget(&request).map_err(engine_error)? }))
                }
                "budget.remove" => {
                    let p: IdParams = params(request.params)?;
                    let id = p.id.ok_or_else(|| {
                        ErrorObject::new(ErrorObject::INVALID_PARAMS, "give the budget's id")
                    })?;
                    engine.remove_budget(id).map_err(engine_error)?;
                    Ok(json!({ "removed": id }))
                }
                "metrics.query" => {
                    let p: MetricsParams = params(request.params)?;
                    let since = p
                        .since_ms
                        .unwrap_or_else(|| crate::store::now_ms() - 3_600_000);
                    let metrics = engine
                        .metrics(since, p.agent.as_deref())
                        .map_err(engine_error)?;
                    Ok(
                        json!({ "agents": to_value(&metrics)?, "status": to_value(&runtime.status().await)? }),
                    )
                }
                "alert.list" => {
                    let p: IdParams = params(request.params)?;
                    Ok(json!({ "alerts": to_value(&engine.alerts(p.all).map_err(engine_error)?)? }))
                }
                "env.switch" => {
                    let p: EnvParams = params(request.params)?;
                    let preset = p.preset.as_deref().ok_or_else(|| {
                        ErrorObject::new(
                            ErrorObject::INVALID_PARAMS,
                            "give the preset to switch to",
                        )
                    })?;
                    let preset = preset_name(preset)?;
                    let verify = crate::engine::Verify::from_flags(p.verify, p.probe.as_deref());
                    let env = engine
                        .switch_env(&p.agent, &preset, verify)
                        .await
                        .map_err(engine_error)?;
                    Ok(json!({ "agent": p.agent, "preset": env.preset, "checksum": env.checksum }))
                }
                "env.show" => {
                    let p: EnvParams = params(request.params)?;
                    to_value(&engine.env_show(&p.agent).map_err(engine_error)?)
                }
                "env.snapshot" => {
                    let p: EnvParams = params(request.params)?;
                    engine
                        .env_snapshot(&p.agent, p.name()?, p.force)
                        .map_err(engine_error)?;
                    Ok(json!({ "agent": p.agent, "snapshot": p.name()? }))
                }
                "env.rollback" => {
                    let p: EnvParams = params(request.params)?;
                    let env = engine
                        .env_rollback(&p.agent, p.name()?)
                        .map_err(engine_error)?;
                    Ok(json!({ "agent": p.agent, "preset": env.preset, "checksum": env.checksum }))
                }
                "env.list_snapshots" => {
                    let p: EnvParams = params(request.params)?;
                    Ok(
                        json!({ "agent": p.agent, "snapshots": engine.env_snapshots(&p.agent).map_err(engine_error)? }),
                    )
                }
                "alert.ack" => {
                    let p: IdParams = params(request.params)?;
                    if p.id.is_none() && !p.all {
                        return Err(ErrorObject::new(
                            ErrorObject::INVALID_PARAMS,
                            "give an alert id or all: true",
                        ));
                    }
                    Ok(json!({ "acknowledged": engine.ack_alerts(p.id).map_err(engine_error)? }))
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

    fn notification(&self, _conn: &Connection, notification: Notification) {
        if notification.method == crate::events::wake::METHOD {
            self.runtime.wake();
        }
    }
}
