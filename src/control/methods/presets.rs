//! `preset.*`: the presets, as the CLI's preset commands see them.

use serde_json::{Value, json};

use super::{Call, Method, engine_error, invalid, preset_name, ready, to_value};
use crate::presets::{PresetView, Secrets};
use crate::rpc::ErrorObject;

pub(super) const METHODS: &[Method] = &[
    Method {
        name: "preset.list",
        summary: "Presets, secrets redacted.",
        params: "-",
        result: r#"{"current": "deepseek", "presets": [{"name": "deepseek", "kind": "anthropic", "api_key": "sk-…a1b2", ...}], "problems": []}"#,
        errors: "-40404 unreadable",
        serve: |call| ready(list(&call)),
    },
    Method {
        name: "preset.show",
        summary: "One preset and the env vars it sets, secrets redacted.",
        params: r#"{"name": "deepseek"}"#,
        result: r#"{"name": "deepseek", "applies": {"ANTHROPIC_MODEL": "deepseek-chat", ...}, ...}"#,
        errors: "-40201 unknown preset",
        serve: |call| ready(show(&call)),
    },
    Method {
        name: "preset.current",
        summary: "The current preset.",
        params: "-",
        result: r#"{"current": "deepseek"}"#,
        errors: "-",
        serve: |call| ready(current(&call)),
    },
    Method {
        name: "preset.add",
        summary: "Add a preset (replace one with force); the same fields as a preset file. Env vars that change how programs run (SECURITY.md) need allow_env; provider variables fold into the fields.",
        params: r#"{"preset": {"name": "kimi", "kind": "anthropic", "base_url": "https://api.moonshot.ai/anthropic", "api_key": "sk-...", "model": "kimi-k2", "env": {"API_TIMEOUT_MS": "600000"}}, "force": false, "allow_env": []}"#,
        result: r#"{"action": "added", "preset": {"name": "kimi", "api_key": "sk-…a1b2", ...}, "warnings": []}"#,
        errors: "-32602 invalid preset, -40404 exists (without force), -32602 refused env var",
        serve: |call| ready(add(&call)),
    },
    Method {
        name: "preset.use",
        summary: "Mark a preset current.",
        params: r#"{"name": "deepseek"}"#,
        result: r#"{"current": "deepseek"}"#,
        errors: "-40201 unknown preset",
        serve: |call| ready(make_current(&call)),
    },
    Method {
        name: "preset.remove",
        summary: "Remove a preset and the files derived from it (the current one, or one agents are switched to, only with force; those agents fall back).",
        params: r#"{"name": "old", "force": false}"#,
        result: r#"{"preset": "old", "switched_agents": ["claude"], "fallback": "deepseek"}"#,
        errors: "-40201 unknown preset, -40404 is current or agents are switched to it",
        serve: |call| ready(remove(&call)),
    },
];

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

fn redacted(call: &Call) -> Secrets {
    Secrets::Redact(call.engine().settings().reveal_chars)
}

fn list(call: &Call) -> Result<Value, ErrorObject> {
    to_value(&call.engine().preset_overview().map_err(engine_error)?)
}

fn show(call: &Call) -> Result<Value, ErrorObject> {
    let p: NameParams = call.params()?;
    let name = preset_name(&p.name)?;
    let view = call.engine().preset_view(&name, redacted(call));
    to_value(&view.map_err(engine_error)?)
}

fn current(call: &Call) -> Result<Value, ErrorObject> {
    let current = call.engine().current_preset().map_err(engine_error)?;
    Ok(json!({ "current": current.map(|c| c.to_string()) }))
}

fn add(call: &Call) -> Result<Value, ErrorObject> {
    let p: AddParams = call.params()?;
    p.preset.validate().map_err(|e| invalid(e.to_string()))?;
    let engine = call.engine();
    let name = p.preset.name.clone();
    let added = engine
        .add_preset(p.preset, p.force, &p.allow_env)
        .map_err(engine_error)?;
    let stored = engine.preset(&name).map_err(engine_error)?;
    let view = to_value(&PresetView::new(&stored, false, redacted(call)))?;
    let warnings: Vec<String> = added.warnings.iter().map(ToString::to_string).collect();
    Ok(json!({
        "action": if added.replaced { "replaced" } else { "added" },
        "preset": view,
        "warnings": warnings,
    }))
}

fn make_current(call: &Call) -> Result<Value, ErrorObject> {
    let p: NameParams = call.params()?;
    let name = preset_name(&p.name)?;
    call.engine().use_preset(&name).map_err(engine_error)?;
    Ok(json!({ "current": name.as_str() }))
}

fn remove(call: &Call) -> Result<Value, ErrorObject> {
    let p: NameParams = call.params()?;
    let name = preset_name(&p.name)?;
    let removed = call.engine().remove_preset(&name, p.force);
    to_value(&removed.map_err(engine_error)?)
}
