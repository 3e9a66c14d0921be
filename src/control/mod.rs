//! The control API: JSON-RPC 2.0 over `control.sock` in the runtime directory, served
//! by the daemon on the same rpc layer as the agents. The method table below is the
//! one source of `docs/control-api.md` (a test keeps the two equal).

mod client;
mod handler;
mod server;
mod subscription;

pub use client::{ControlClient, ControlError};
pub use handler::ControlHandler;
pub use server::{ServerOptions, serve};

/// The protocol version `system.version` reports; the CLI refuses a daemon that
/// speaks another.
pub const PROTOCOL_VERSION: u32 = 1;

/// Error code: a second daemon could not take the single-instance lock.
pub const LOCK_FAILED: i64 = -40301;
/// Error code: the peer runs as another user.
pub const PEER_REFUSED: i64 = -40302;

/// The socket's file name in the runtime directory.
pub const SOCKET_NAME: &str = "control.sock";

/// One method of the control API, as documented.
pub struct MethodDoc {
    /// The method name.
    pub name: &'static str,
    /// What it does.
    pub summary: &'static str,
    /// Its params (JSON), or `-`.
    pub params: &'static str,
    /// Its result (JSON).
    pub result: &'static str,
    /// The error codes it can answer with.
    pub errors: &'static str,
}

/// Every method the daemon serves.
pub const METHODS: &[MethodDoc] = &[
    MethodDoc {
        name: "system.ping",
        summary: "Liveness check.",
        params: "-",
        result: r#""pong""#,
        errors: "-",
    },
    MethodDoc {
        name: "system.version",
        summary: "Versions; the CLI checks `protocol`.",
        params: "-",
        result: r#"{"version": "0.1.0", "protocol": 1, "pid": 4242}"#,
        errors: "-",
    },
    MethodDoc {
        name: "agent.list",
        summary: "Every known agent: driver, install state, version.",
        params: "-",
        result: r#"{"agents": [{"id": "gemini", "driver": "acp", "path": "/usr/bin/gemini", "version": "0.61.0", ...}], "problems": []}"#,
        errors: "-",
    },
    MethodDoc {
        name: "agent.status",
        summary: "Agents the daemon runs: state, pid, uptime, restarts, CPU, memory.",
        params: "-",
        result: r#"{"agents": [{"agent": "gemini", "state": "idle", "pid": 4300, "uptime_secs": 12, "restarts": 0, "cpu_percent": 0.1, "memory_bytes": 52000000, "peak_memory_bytes": 61000000, "preset": "google"}]}"#,
        errors: "-",
    },
    MethodDoc {
        name: "agent.start",
        summary: "Start a long-lived agent, optionally with a preset.",
        params: r#"{"agent": "gemini", "preset": "google"}"#,
        result: "the agent's status (as in agent.status)",
        errors: "-40001 unknown agent, -40005 already running, -40201 unknown preset, -32602 wrong preset kind",
    },
    MethodDoc {
        name: "agent.stop",
        summary: "Stop an agent gracefully (cancel, close stdin, SIGTERM, SIGKILL).",
        params: r#"{"agent": "gemini"}"#,
        result: "the agent's last status",
        errors: "-40001 not running",
    },
    MethodDoc {
        name: "agent.restart",
        summary: "Stop and start an agent with the same preset.",
        params: r#"{"agent": "gemini"}"#,
        result: "the agent's status",
        errors: "-40001 not running",
    },
    MethodDoc {
        name: "agent.register",
        summary: "Validate and add an agent manifest file.",
        params: r#"{"path": "/home/me/my-agent.toml", "force": false}"#,
        result: r#"{"agent": "my-agent"}"#,
        errors: "-40403 invalid manifest",
    },
    MethodDoc {
        name: "preset.list",
        summary: "Presets, secrets redacted.",
        params: "-",
        result: r#"{"current": "deepseek", "presets": [{"name": "deepseek", "kind": "anthropic", "api_key": "sk-…a1b2", ...}], "problems": []}"#,
        errors: "-40404 unreadable",
    },
    MethodDoc {
        name: "preset.show",
        summary: "One preset and the env vars it sets, secrets redacted.",
        params: r#"{"name": "deepseek"}"#,
        result: r#"{"name": "deepseek", "applies": {"ANTHROPIC_MODEL": "deepseek-chat", ...}, ...}"#,
        errors: "-40201 unknown preset",
    },
    MethodDoc {
        name: "preset.current",
        summary: "The current preset.",
        params: "-",
        result: r#"{"current": "deepseek"}"#,
        errors: "-",
    },
    MethodDoc {
        name: "preset.add",
        summary: "Add a preset (replace one with force); the same fields as a preset file. Env vars that change how programs run (SECURITY.md) need allow_env; provider variables fold into the fields.",
        params: r#"{"preset": {"name": "kimi", "kind": "anthropic", "base_url": "https://api.moonshot.ai/anthropic", "api_key": "sk-...", "model": "kimi-k2", "env": {"API_TIMEOUT_MS": "600000"}}, "force": false, "allow_env": []}"#,
        result: r#"{"action": "added", "preset": {"name": "kimi", "api_key": "sk-…a1b2", ...}, "warnings": []}"#,
        errors: "-32602 invalid preset, -40404 exists (without force), -32602 refused env var",
    },
    MethodDoc {
        name: "preset.use",
        summary: "Mark a preset current.",
        params: r#"{"name": "deepseek"}"#,
        result: r#"{"current": "deepseek"}"#,
        errors: "-40201 unknown preset",
    },
    MethodDoc {
        name: "preset.remove",
        summary: "Remove a preset and the files derived from it (the current one, or one agents are switched to, only with force; those agents fall back).",
        params: r#"{"name": "old", "force": false}"#,
        result: r#"{"removed": "old", "switched_agents": ["claude"], "fallback": "deepseek"}"#,
        errors: "-40201 unknown preset, -40404 is current or agents are switched to it",
    },
    MethodDoc {
        name: "event.subscribe",
        summary: "Receive `event` notifications (see Events): first `subscribed`, then with `since` the stored events after that id, then every event as it happens. A new subscribe replaces the old one.",
        params: r#"{"since": 41} or -"#,
        result: r#"{"subscribed": true, "after": 41}"#,
        errors: "-",
    },
    MethodDoc {
        name: "event.unsubscribe",
        summary: "Stop receiving events.",
        params: "-",
        result: r#"{"subscribed": false}"#,
        errors: "-",
    },
    MethodDoc {
        name: "task.assign",
        summary: "Plan and start a coordinated task in the daemon; progress arrives as events. Without `preset`, each agent takes the workdir's .aiswitch.toml, its switched preset or the current one.",
        params: r#"{"preset": "deepseek", "agents": ["claude", "codex:openai"], "sequential": false, "chain": false, "coordination": "isolated", "timeout_secs": 600, "workdir": "/home/me/project", "task": "add tests"}"#,
        result: r#"{"task": "t10ac833178"}"#,
        errors: "-32602 invalid task (empty, bad workdir, --chain without sequential, wrong preset kind), -40001 unknown agent, -40201 unknown preset",
    },
    MethodDoc {
        name: "task.status",
        summary: "A task's status without its result.",
        params: r#"{"task": "t10ac833178"}"#,
        result: r#"{"id": "t10ac833178", "status": "running", "agents": "claude,codex", ...}"#,
        errors: "-40101 task not found",
    },
    MethodDoc {
        name: "task.result",
        summary: "A task's aggregated result; with `wait`, once it has ended.",
        params: r#"{"task": "t10ac833178", "wait": true}"#,
        result: r#"{"id": "t10ac833178", "status": "succeeded", "runs": [...], "tokens": {...}, "cost_usd": 0.01}"#,
        errors: "-40101 task not found",
    },
    MethodDoc {
        name: "task.cancel",
        summary: "Cancel a task the daemon runs (session/cancel, then stop).",
        params: r#"{"task": "t10ac833178"}"#,
        result: r#"{"cancelled": "t10ac833178"}"#,
        errors: "-40101 task not found or not run by this daemon",
    },
    MethodDoc {
        name: "task.list",
        summary: "Recent tasks, newest first.",
        params: r#"{"status": "failed", "limit": 20}"#,
        result: r#"{"tasks": [{"id": "t10ac833178", "status": "failed", ...}]}"#,
        errors: "-",
    },
    MethodDoc {
        name: "tokens.summary",
        summary: "The usage ledger summed, optionally grouped by agent, preset, model or day.",
        params: r#"{"agent": "claude", "preset": null, "model": null, "since_ms": 1795000000000, "until_ms": null, "by": "model"}"#,
        result: r#"{"groups": [{"key": "claude-sonnet-4-5", "runs": 3, "tokens": {...}, "cost_usd": 0.01, "unpriced_runs": 0}], "total": {...}}"#,
        errors: "-32602 unknown grouping",
    },
    MethodDoc {
        name: "budget.list",
        summary: "Budgets with what is spent this period, the percent and the period's end.",
        params: "-",
        result: r#"{"budgets": [{"id": 1, "scope": "global", "period": "month", "limit": {"usd": 20.0}, "thresholds": [80, 100], "hard_stop": true, "refuse_unpriced": false, "spent": 3.1, "percent": 15.5, "unpriced_runs": 0, "tokens": 120400, "period_end_ms": 1796083200000}]}"#,
        errors: "-",
    },
    MethodDoc {
        name: "budget.set",
        summary: "Add a budget (USD or tokens) with thresholds and an optional hard stop.",
        params: r#"{"scope": "preset:deepseek", "period": "month", "limit_usd": 20, "thresholds": "80,100", "hard_stop": true, "refuse_unpriced": false}"#,
        result: r#"{"id": 1}"#,
        errors: "-32602 invalid scope (or an agent or preset that does not exist), period, limit or thresholds",
    },
    MethodDoc {
        name: "budget.remove",
        summary: "Remove a budget.",
        params: r#"{"id": 1}"#,
        result: r#"{"removed": 1}"#,
        errors: "-32602 no id or unknown budget",
    },
    MethodDoc {
        name: "alert.list",
        summary: "Alerts, newest first; unacknowledged only unless `all`.",
        params: r#"{"all": false}"#,
        result: r#"{"alerts": [{"id": 3, "kind": "budget_threshold", "subject": "global", "message": "budget 1 (global, month) reached 80 % ...", "acked": false}]}"#,
        errors: "-",
    },
    MethodDoc {
        name: "alert.ack",
        summary: "Acknowledge one alert, or all.",
        params: r#"{"id": 3} or {"all": true}"#,
        result: r#"{"acknowledged": 1}"#,
        errors: "-32602 neither id nor all, -40601 unknown alert",
    },
    MethodDoc {
        name: "metrics.query",
        summary: "Per agent: prompt-turn and per-method latency p50/p95/p99, error rate, throughput; with the daemon's live status (restarts, CPU, memory now and peak).",
        params: r#"{"agent": "gemini", "since_ms": 1795560000000}"#,
        result: r#"{"agents": [{"agent": "gemini", "prompt_turns": {"p50_us": 2048, ...}, "prompts": 12, "error_rate": 0.0, "messages_per_sec": 0.4, "methods": [...]}], "status": [...]}"#,
        errors: "-",
    },
    MethodDoc {
        name: "env.switch",
        summary: "Switch an agent's provider atomically (validate, snapshot, apply, with `verify` start and initialize it, with `probe` also send that prompt); any failure rolls back. Emits `env_switched`.",
        params: r#"{"agent": "claude", "preset": "deepseek", "verify": true, "probe": "say ok"}"#,
        result: r#"{"agent": "claude", "preset": "deepseek", "checksum": "9c1d0e2a4b6f8a13"}"#,
        errors: "-32602 preset of the wrong kind for the agent, -40001 unknown agent, -40201 unknown preset, -40202 a step failed (rolled back, the message names the step)",
    },
    MethodDoc {
        name: "env.show",
        summary: "The environment and flags an agent runs with, secrets redacted.",
        params: r#"{"agent": "claude"}"#,
        result: r#"{"agent": "claude", "preset": "deepseek", "env": [["ANTHROPIC_BASE_URL", "https://api.deepseek.com/anthropic"], ["ANTHROPIC_AUTH_TOKEN", "sk-...a1b2"]], "args": [], "checksum": "9c1d0e2a4b6f8a13"}"#,
        errors: "-40001 unknown agent",
    },
    MethodDoc {
        name: "env.snapshot",
        summary: "Save an agent's active environment under a name (`force` replaces one).",
        params: r#"{"agent": "claude", "name": "before-trial", "force": false}"#,
        result: r#"{"agent": "claude", "snapshot": "before-trial"}"#,
        errors: "-32602 no name, name taken or invalid, or nothing active; -40001 unknown agent",
    },
    MethodDoc {
        name: "env.rollback",
        summary: "Make a snapshot the agent's active environment; a missing or corrupt one changes nothing.",
        params: r#"{"agent": "claude", "name": "before-trial"}"#,
        result: r#"{"agent": "claude", "preset": "official", "checksum": "1f2e3d4c5b6a7988"}"#,
        errors: "-32602 no name or invalid name, -40001 unknown agent, -40203 no such snapshot, -40204 corrupt snapshot",
    },
    MethodDoc {
        name: "env.list_snapshots",
        summary: "An agent's snapshot names (automatic ones start with `auto-`).",
        params: r#"{"agent": "claude"}"#,
        result: r#"{"agent": "claude", "snapshots": ["auto-1795560000000", "before-trial"]}"#,
        errors: "-40001 unknown agent",
    },
];

/// The *Events* part of the document, from [`crate::events::catalogue`].
fn events_section() -> String {
    let mut doc = String::from(
        "\n## Events\n\n\
         Each `event` notification is one object, internally tagged by `event`, with the\n\
         stored event's `id` (absent for live events) and `at_ms` (ms since the epoch):\n\
         `{\"id\": 42, \"at_ms\": 1764561600000, \"event\": \"preset_added\", ...}`. Stored\n\
         events are resumable: `event.subscribe {\"since\": 42}` sends every stored event after\n\
         42, in commit order, then the live stream, each stored event once. Live events\n\
         (agent states and log lines, per-agent task progress) exist only while the daemon\n\
         runs. The Rust client (`ControlClient::next_event`) hands out `EventRecord`s.\n\n\
         | event | stored | what | example |\n|---|---|---|---|\n",
    );
    for (event, what) in crate::events::catalogue::examples() {
        let example = serde_json::to_string(&event).unwrap_or_default();
        doc.push_str(&format!(
            "| `{}` | {} | {what} | `{example}` |\n",
            event.kind(),
            if event.is_stored() { "yes" } else { "live" }
        ));
    }
    doc
}

/// `docs/control-api.md`, generated from [`METHODS`].
pub fn api_document() -> String {
    let mut doc = String::from(
        "# aiswitch control API\n\n\
         Generated from `src/control/mod.rs` (`METHODS`); a test fails when this file and\n\
         the code differ. Regenerate with `UPDATE_DOCS=1 cargo test --lib control`.\n\n\
         JSON-RPC 2.0, one message per line, on the Unix socket `control.sock` in the runtime\n\
         directory (`$AISWITCH_HOME/run` or `$XDG_RUNTIME_DIR/aiswitch`). The socket is mode\n\
         0600 and the daemon refuses peers of another user (`SO_PEERCRED`, error -40302).\n\
         A client that sends nothing is disconnected after a timeout; one that stops reading\n\
         its events is disconnected when 10,000 messages wait for it. Messages over 16 MiB\n\
         close the connection; malformed ones get -32700 / -32600 and the connection goes on.\n\n\
         Server-pushed notifications after `event.subscribe`: method `event`, params one\n\
         event (listed under *Events* below). Another aiswitch process that committed events\n\
         sends the notification `event.wake` (no params, no reply): the host reads them from\n\
         the store and pushes them.\n\n\
         Error codes: the JSON-RPC ones (-32700 parse error, -32600 invalid request, -32601\n\
         method not found, -32602 invalid params) and -40001 agent not found, -40005 agent\n\
         busy, -40101 task not found, -40501 budget exceeded (hard stop), -40601 alert not found, -40201 preset not found, -40301 lock acquisition failed (a daemon runs),\n\
         -40302 peer refused, -40403 configuration error, -40404 storage error.\n\n\
         | method | what | params | result | errors |\n|---|---|---|---|---|\n",
    );
    for m in METHODS {
        doc.push_str(&format!(
            "| `{}` | {} | `{}` | `{}` | {} |\n",
            m.name, m.summary, m.params, m.result, m.errors
        ));
    }
    doc.push_str(
        "\nExample:\n\n```text\n\
         → {\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"agent.start\",\"params\":{\"agent\":\"aiswitch-agent\"}}\n\
         ← {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"agent\":\"aiswitch-agent\",\"state\":\"idle\",\"pid\":4300,...}}\n\
         → {\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"nope\"}\n\
         ← {\"jsonrpc\":\"2.0\",\"id\":2,\"error\":{\"code\":-32601,\"message\":\"method not found: nope\"}}\n```\n",
    );
    doc.push_str(&events_section());
    doc
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_document_matches_the_code() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/control-api.md");
        let generated = super::api_document();
        if std::env::var_os("UPDATE_DOCS").is_some() {
            std::fs::write(&path, &generated).expect("write docs");
        }
        let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            on_disk == generated,
            "docs/control-api.md is out of date: run `UPDATE_DOCS=1 cargo test --lib control`"
        );
    }

    #[test]
    fn every_documented_method_is_served() {
        for method in super::METHODS {
            assert!(
                super::handler::SERVED.contains(&method.name),
                "{} is documented but not served",
                method.name
            );
        }
        for name in super::handler::SERVED {
            assert!(
                super::METHODS.iter().any(|m| m.name == *name),
                "{name} is served but not documented"
            );
        }
    }
}
