//! `env.*`: runtime provider switching per agent.

use serde_json::{Value, json};

use super::{Call, Method, engine_error, invalid, preset_name, ready, to_value};
use crate::rpc::ErrorObject;

pub(super) const METHODS: &[Method] = &[
    Method {
        name: "env.switch",
        summary: "Switch an agent's provider atomically (validate, snapshot, apply, with `verify` start and initialize it, with `probe` also send that prompt); any failure rolls back. Emits `env_switched`.",
        params: r#"{"agent": "claude", "preset": "deepseek", "verify": true, "probe": "say ok"}"#,
        result: r#"{"agent": "claude", "preset": "deepseek", "checksum": "9c1d0e2a4b6f8a13"}"#,
        errors: "-32602 preset of the wrong kind for the agent, -40001 unknown agent, -40201 unknown preset, -40202 a step failed (rolled back, the message names the step)",
        serve: |call| Box::pin(switch(call)),
    },
    Method {
        name: "env.show",
        summary: "The environment and flags an agent runs with, secrets redacted.",
        params: r#"{"agent": "claude"}"#,
        result: r#"{"agent": "claude", "preset": "deepseek", "env": [["ANTHROPIC_BASE_URL", "https://api.deepseek.com/anthropic"], ["ANTHROPIC_AUTH_TOKEN", "sk-...a1b2"]], "args": [], "checksum": "9c1d0e2a4b6f8a13"}"#,
        errors: "-40001 unknown agent",
        serve: |call| ready(show(&call)),
    },
    Method {
        name: "env.snapshot",
        summary: "Save an agent's active environment under a name (`force` replaces one).",
        params: r#"{"agent": "claude", "name": "before-trial", "force": false}"#,
        result: r#"{"agent": "claude", "snapshot": "before-trial"}"#,
        errors: "-32602 no name, name taken or invalid, or nothing active; -40001 unknown agent",
        serve: |call| ready(snapshot(&call)),
    },
    Method {
        name: "env.rollback",
        summary: "Make a snapshot the agent's active environment; a missing or corrupt one changes nothing.",
        params: r#"{"agent": "claude", "name": "before-trial"}"#,
        result: r#"{"agent": "claude", "preset": "official", "checksum": "1f2e3d4c5b6a7988"}"#,
        errors: "-32602 no name or invalid name, -40001 unknown agent, -40203 no such snapshot, -40204 corrupt snapshot",
        serve: |call| ready(rollback(&call)),
    },
    Method {
        name: "env.list_snapshots",
        summary: "An agent's snapshots, oldest first: the preset each puts back (`null`: corrupt) and when it was saved (automatic ones are named `auto-<ms>`).",
        params: r#"{"agent": "claude"}"#,
        result: r#"{"agent": "claude", "snapshots": [{"name": "before-trial", "preset": "deepseek", "saved_ms": 1795559000000}, {"name": "auto-1795560000000", "preset": "kimi", "saved_ms": 1795560000000}]}"#,
        errors: "-40001 unknown agent",
        serve: |call| ready(snapshots(&call)),
    },
];

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
        self.name
            .as_deref()
            .ok_or_else(|| invalid("give the snapshot's name"))
    }
}

async fn switch(call: Call) -> Result<Value, ErrorObject> {
    let p: EnvParams = call.params()?;
    let preset = p
        .preset
        .as_deref()
        .ok_or_else(|| invalid("give the preset to switch to"))?;
    let preset = preset_name(preset)?;
    let verify = crate::engine::Verify::from_flags(p.verify, p.probe.as_deref());
    let env = call
        .engine()
        .switch_env(&p.agent, &preset, verify)
        .await
        .map_err(engine_error)?;
    Ok(json!({ "agent": p.agent, "preset": env.preset, "checksum": env.checksum }))
}

fn show(call: &Call) -> Result<Value, ErrorObject> {
    let p: EnvParams = call.params()?;
    to_value(&call.engine().env_show(&p.agent).map_err(engine_error)?)
}

fn snapshot(call: &Call) -> Result<Value, ErrorObject> {
    let p: EnvParams = call.params()?;
    call.engine()
        .env_snapshot(&p.agent, p.name()?, p.force)
        .map_err(engine_error)?;
    Ok(json!({ "agent": p.agent, "snapshot": p.name()? }))
}

fn rollback(call: &Call) -> Result<Value, ErrorObject> {
    let p: EnvParams = call.params()?;
    let env = call
        .engine()
        .env_rollback(&p.agent, p.name()?)
        .map_err(engine_error)?;
    Ok(json!({ "agent": p.agent, "preset": env.preset, "checksum": env.checksum }))
}

fn snapshots(call: &Call) -> Result<Value, ErrorObject> {
    let p: EnvParams = call.params()?;
    let snapshots = call
        .engine()
        .env_snapshots(&p.agent)
        .map_err(engine_error)?;
    Ok(json!({ "agent": p.agent, "snapshots": snapshots }))
}
