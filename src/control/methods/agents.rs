//! `agent.*`: the agents the engine host runs, and the registry.

use serde_json::{Value, json};

use super::{Call, Method, engine_error, preset_name, ready, to_value};
use crate::rpc::ErrorObject;

pub(super) const METHODS: &[Method] = &[
    Method {
        name: "agent.list",
        summary: "Every known agent: driver, install state, version (`probing`: still being found; an `agent_probed` event follows).",
        params: "`{refresh?: bool}` (find every version again)",
        result: r#"{"agents": [{"id": "gemini", "driver": "acp", "path": "/usr/bin/gemini", "version": "0.61.0", "probing": false, ...}], "problems": []}"#,
        errors: "-",
        serve: |call| ready(list(&call)),
    },
    Method {
        name: "agent.status",
        summary: "Agents the daemon runs: state, pid, uptime, restarts, CPU, memory.",
        params: "-",
        result: r#"{"agents": [{"agent": "gemini", "state": "idle", "pid": 4300, "uptime_secs": 12, "restarts": 0, "cpu_percent": 0.1, "memory_bytes": 52000000, "peak_memory_bytes": 61000000, "preset": "google"}]}"#,
        errors: "-",
        serve: |call| Box::pin(status(call)),
    },
    Method {
        name: "agent.start",
        summary: "Start a long-lived agent, optionally with a preset.",
        params: r#"{"agent": "gemini", "preset": "google"}"#,
        result: "the agent's status (as in agent.status)",
        errors: "-40001 unknown agent, -40005 already running, -40201 unknown preset, -32602 wrong preset kind",
        serve: |call| Box::pin(start(call)),
    },
    Method {
        name: "agent.stop",
        summary: "Stop an agent gracefully (cancel, close stdin, SIGTERM, SIGKILL).",
        params: r#"{"agent": "gemini"}"#,
        result: "the agent's last status",
        errors: "-40001 not running",
        serve: |call| Box::pin(stop(call, false)),
    },
    Method {
        name: "agent.restart",
        summary: "Stop and start an agent with the same preset.",
        params: r#"{"agent": "gemini"}"#,
        result: "the agent's status",
        errors: "-40001 not running",
        serve: |call| Box::pin(stop(call, true)),
    },
    Method {
        name: "agent.register",
        summary: "Validate and add an agent manifest file.",
        params: r#"{"path": "/home/me/my-agent.toml", "force": false}"#,
        result: r#"{"agent": "my-agent"}"#,
        errors: "-40403 invalid manifest",
        serve: |call| ready(register(&call)),
    },
];

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct AgentParams {
    agent: String,
    preset: Option<String>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RegisterParams {
    path: std::path::PathBuf,
    #[serde(default)]
    force: bool,
}

#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ListParams {
    #[serde(default)]
    refresh: bool,
}

fn list(call: &Call) -> Result<Value, ErrorObject> {
    let p: ListParams = call.params()?;
    let engine = call.engine();
    let (agents, problems) = tokio::task::block_in_place(|| engine.list_agents(p.refresh));
    Ok(json!({ "agents": to_value(&agents)?, "problems": problems }))
}

async fn status(call: Call) -> Result<Value, ErrorObject> {
    Ok(json!({ "agents": to_value(&call.runtime.status().await)? }))
}

async fn start(call: Call) -> Result<Value, ErrorObject> {
    let p: AgentParams = call.params()?;
    let preset = p.preset.as_deref().map(preset_name).transpose()?;
    let view = call.runtime.start(&p.agent, preset.as_ref()).await;
    to_value(&view.map_err(engine_error)?)
}

async fn stop(call: Call, then_start: bool) -> Result<Value, ErrorObject> {
    let p: AgentParams = call.params()?;
    let view = if then_start {
        call.runtime.restart(&p.agent).await
    } else {
        call.runtime.stop(&p.agent).await
    };
    to_value(&view.map_err(engine_error)?)
}

fn register(call: &Call) -> Result<Value, ErrorObject> {
    let p: RegisterParams = call.params()?;
    let manifest = call
        .engine()
        .register_agent(&p.path, p.force)
        .map_err(engine_error)?;
    Ok(json!({ "agent": manifest.id.as_str() }))
}
