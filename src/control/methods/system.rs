//! `system.*`: liveness and versions.

use serde_json::json;

use super::{Call, Method, engine_error, ready, to_value};
use crate::control::PROTOCOL_VERSION;
use crate::rpc::ErrorObject;

pub(super) const METHODS: &[Method] = &[
    Method {
        name: "system.ping",
        summary: "Liveness check.",
        params: "-",
        result: r#""pong""#,
        errors: "-",
        serve: |_| ready(Ok(json!("pong"))),
    },
    Method {
        name: "system.version",
        summary: "Versions; the CLI checks `protocol`.",
        params: "-",
        result: r#"{"version": "0.1.0", "protocol": 2, "pid": 4242}"#,
        errors: "-",
        serve: |_| {
            ready(Ok(
                json!({ "version": crate::VERSION, "protocol": PROTOCOL_VERSION, "pid": std::process::id() }),
            ))
        },
    },
    Method {
        name: "system.doctor",
        summary: "What `aiswitch doctor` finds: agent CLIs and the presets each can use, the user's settings that compete with a preset (beaten or not, with the fix), directory permissions, the daemon.",
        params: "-",
        result: r#"{"agents": [{"id": "claude", "path": "/usr/bin/claude", "version": "2.0.1", "presets": ["deepseek"], ...}], "overrides": [{"file": "/home/me/.claude/settings.json", "setting": "env.ANTHROPIC_BASE_URL", "agents": ["claude"], "beaten": true, "note": "..."}], "directories": [{"role": "data", "path": "...", "mode": "700", "problem": null}], "daemon_pid": "4242"}"#,
        errors: "-",
        serve: |call| ready(doctor(&call)),
    },
];

/// The doctor's findings for the user the engine host runs as.
fn doctor(call: &Call) -> Result<serde_json::Value, ErrorObject> {
    let home = std::env::var_os("HOME")
        .map(std::path::PathBuf::from)
        .unwrap_or_default();
    let engine = call.engine();
    let report = tokio::task::block_in_place(|| engine.doctor(&home)).map_err(engine_error)?;
    to_value(&report)
}
