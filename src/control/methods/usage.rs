//! `tokens.*`, `budget.*`, `alert.*`, `metrics.*`: what was spent, the limits on it,
//! and what went wrong.

use serde_json::{Value, json};

use super::{Call, Method, engine_error, invalid, ready, to_value};
use crate::budget::Period;
use crate::rpc::ErrorObject;
use crate::store::{GroupBy, UsageFilter};
use crate::usage::LogSource;

pub(super) const METHODS: &[Method] = &[
    Method {
        name: "tokens.summary",
        summary: "The usage ledger summed, optionally grouped by agent, preset, model, day, week or month (calendar periods in `timezone`, else the daemon's `timezone` setting).",
        params: r#"{"agent": "claude", "preset": null, "model": null, "since_ms": 1795000000000, "until_ms": null, "by": "day", "timezone": "Asia/Shanghai"}"#,
        result: r#"{"since_ms": 1795000000000, "until_ms": null, "groups": [{"key": "2026-11-25", "runs": 3, "tokens": {...}, "cost_usd": 0.01, "unpriced_runs": 0}], "total": {...}, "timezone": "Asia/Shanghai"}"#,
        errors: "-32602 unknown grouping or time zone",
        serve: |call| ready(summary(&call)),
    },
    Method {
        name: "usage.import",
        summary: "Import the agents' own usage logs from where they keep them (~/.claude/projects, ~/.codex/sessions, ~/.gemini/tmp, ~/.qwen/usage, OpenCode's database), incrementally, as `usage import` does; an `import_finished` event per source. A source never run here is left out.",
        params: r#"{"source": "all"}"#,
        result: r#"[{"agent": "claude", "report": {"files": 12, "bytes_read": 1048576, "imported": 340, "duplicates": 0, "corrupt_lines": 0, "recorded_by_aiswitch": 4}}]"#,
        errors: "-32602 unknown source",
        serve: |call| ready(import(&call)),
    },
    Method {
        name: "budget.list",
        summary: "Budgets with what is spent this period, the percent and the period's end.",
        params: "-",
        result: r#"{"budgets": [{"id": 1, "scope": "global", "period": "month", "limit": {"usd": 20.0}, "thresholds": [80, 100], "hard_stop": true, "refuse_unpriced": false, "spent": 3.1, "percent": 15.5, "unpriced_runs": 0, "tokens": 120400, "period_end_ms": 1796083200000}]}"#,
        errors: "-",
        serve: |call| ready(budgets(&call)),
    },
    Method {
        name: "budget.set",
        summary: "Add a budget (USD or tokens) with thresholds and an optional hard stop; with `id`, change that budget in place (what it spent stays).",
        params: r#"{"scope": "preset:deepseek", "period": "month", "limit_usd": 20, "thresholds": "80,100", "hard_stop": true, "refuse_unpriced": false}"#,
        result: r#"{"id": 1}"#,
        errors: "-32602 invalid scope (or an agent or preset that does not exist), period, limit or thresholds",
        serve: |call| ready(set_budget(&call)),
    },
    Method {
        name: "budget.remove",
        summary: "Remove a budget.",
        params: r#"{"id": 1}"#,
        result: r#"{"removed": 1}"#,
        errors: "-32602 no id or unknown budget",
        serve: |call| ready(remove_budget(&call)),
    },
    Method {
        name: "alert.list",
        summary: "Alerts, newest first; unacknowledged only unless `all`.",
        params: r#"{"all": false}"#,
        result: r#"{"alerts": [{"id": 3, "kind": "budget_threshold", "subject": "global", "message": "budget 1 (global, month) reached 80 % ...", "acked": false}]}"#,
        errors: "-",
        serve: |call| ready(alerts(&call)),
    },
    Method {
        name: "alert.ack",
        summary: "Acknowledge one alert, or all.",
        params: r#"{"id": 3} or {"all": true}"#,
        result: r#"{"acknowledged": 1}"#,
        errors: "-32602 neither id nor all, -40601 unknown alert",
        serve: |call| ready(ack(&call)),
    },
    Method {
        name: "limits.list",
        summary: "Quota windows the provider gateway read from rate-limit headers (Claude 5h/7d, Codex primary/secondary, per-minute limits): use, reset and pace.",
        params: "-",
        result: r#"{"windows": [{"preset": "claude-max", "provider": "api.anthropic.com", "window": "5h", "used_percent": 62.0, "resets_at_ms": 1795600000000, "window_minutes": 300, "status": "allowed", "seen_at_ms": 1795590000000, "elapsed_percent": 50.0, "projected_percent": 124.0, "runs_out_at_ms": 1795598000000, "reset_passed": false}]}"#,
        errors: "-",
        serve: |call| ready(limits(&call)),
    },
    Method {
        name: "gateway.lease",
        summary: "Register a launch that process `pid` is about to exec (`run`, `apply -- CLI`) with the engine host's provider gateway: the URL and the token it uses instead of the preset's URL and key, valid until that process exits. `null` when the preset does not go through the gateway (no key, or `gateway = \"direct\"`).",
        params: r#"{"agent": "claude", "preset": "deepseek", "pid": 4242}"#,
        result: r#"{"url": "http://127.0.0.1:41234", "token": "aiswitch-3f2a...", "id": "3f2a9c0d1e2b"}"#,
        errors: "-32602 unknown agent or preset, -40403 the gateway cannot start",
        serve: |call| ready(lease(&call)),
    },
    Method {
        name: "metrics.query",
        summary: "Per agent: prompt-turn and per-method latency p50/p95/p99, error rate, throughput; with the daemon's live status (restarts, CPU, memory now and peak).",
        params: r#"{"agent": "gemini", "since_ms": 1795560000000}"#,
        result: r#"{"agents": [{"agent": "gemini", "prompt_turns": {"p50_us": 2048, ...}, "prompts": 12, "error_rate": 0.0, "messages_per_sec": 0.4, "methods": [...]}], "status": [...]}"#,
        errors: "-",
        serve: |call| Box::pin(metrics(call)),
    },
];

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ImportParams {
    /// `claude`, `codex`, `gemini`, `qwen`, `opencode` or `all` (the default).
    #[serde(default)]
    source: Option<String>,
}

fn import(call: &Call) -> Result<Value, ErrorObject> {
    let p: ImportParams = call.params()?;
    let sources: Vec<LogSource> = match p.source.as_deref().unwrap_or("all") {
        "all" => LogSource::ALL.to_vec(),
        one => vec![serde_json::from_value(json!(one)).map_err(|_| {
            invalid(format!(
                "unknown source {one}: claude, codex, gemini, qwen, opencode or all"
            ))
        })?],
    };
    let engine = call.engine();
    let reports = tokio::task::block_in_place(|| engine.import_default_logs(&sources, &mut |_| {}))
        .map_err(engine_error)?;
    to_value(&reports)
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct SummaryParams {
    agent: Option<String>,
    preset: Option<String>,
    model: Option<String>,
    since_ms: Option<i64>,
    until_ms: Option<i64>,
    by: Option<GroupBy>,
    timezone: Option<String>,
    /// A working directory, or the last part of one.
    project: Option<String>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct BudgetParams {
    /// Change this budget instead of adding one.
    #[serde(default)]
    id: Option<i64>,
    #[serde(default = "global")]
    scope: String,
    period: Period,
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
struct IdParams {
    id: Option<i64>,
    #[serde(default)]
    all: bool,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct MetricsParams {
    agent: Option<String>,
    since_ms: Option<i64>,
}

fn summary(call: &Call) -> Result<Value, ErrorObject> {
    let p: SummaryParams = call.params()?;
    let filter = UsageFilter {
        agent: p.agent,
        preset: p.preset,
        model: p.model,
        since_ms: p.since_ms,
        until_ms: p.until_ms,
        project: p.project,
    };
    let engine = match p.timezone.as_deref() {
        Some(zone) => call
            .engine()
            .in_zone(zone)
            .map_err(|e| invalid(e.to_string()))?,
        None => call.engine().clone(),
    };
    to_value(&engine.usage_report(&filter, p.by).map_err(engine_error)?)
}

fn budgets(call: &Call) -> Result<Value, ErrorObject> {
    let statuses = call.engine().budget_statuses().map_err(engine_error)?;
    Ok(json!({ "budgets": to_value(&statuses)? }))
}

fn set_budget(call: &Call) -> Result<Value, ErrorObject> {
    let p: BudgetParams = call.params()?;
    let request = crate::engine::BudgetRequest {
        scope: p.scope,
        period: p.period,
        limit_usd: p.limit_usd,
        limit_tokens: p.limit_tokens,
        thresholds: p.thresholds,
        hard_stop: p.hard_stop,
        refuse_unpriced: p.refuse_unpriced,
    };
    let engine = call.engine();
    let id = match p.id {
        Some(id) => engine.update_budget(id, &request).map(|()| id),
        None => engine.set_budget(&request),
    }
    .map_err(engine_error)?;
    Ok(json!({ "id": id }))
}

fn remove_budget(call: &Call) -> Result<Value, ErrorObject> {
    let p: IdParams = call.params()?;
    let id = p.id.ok_or_else(|| invalid("give the budget's id"))?;
    call.engine().remove_budget(id).map_err(engine_error)?;
    Ok(json!({ "removed": id }))
}

fn alerts(call: &Call) -> Result<Value, ErrorObject> {
    let p: IdParams = call.params()?;
    let alerts = call.engine().alerts(p.all).map_err(engine_error)?;
    Ok(json!({ "alerts": to_value(&alerts)? }))
}

fn limits(call: &Call) -> Result<Value, ErrorObject> {
    let windows = call
        .engine()
        .limits(crate::store::now_ms())
        .map_err(engine_error)?;
    Ok(json!({ "windows": to_value(&windows)? }))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct LeaseParams {
    agent: String,
    preset: String,
    pid: u32,
}

fn lease(call: &Call) -> Result<Value, ErrorObject> {
    let p: LeaseParams = call.params()?;
    let preset =
        crate::presets::PresetName::parse(&p.preset).map_err(|e| invalid(e.to_string()))?;
    let route = call
        .engine()
        .lease_for_process(&p.agent, &preset, p.pid)
        .map_err(engine_error)?;
    to_value(&route)
}

fn ack(call: &Call) -> Result<Value, ErrorObject> {
    let p: IdParams = call.params()?;
    if p.id.is_none() && !p.all {
        return Err(invalid("give an alert id or all: true"));
    }
    let count = call.engine().ack_alerts(p.id).map_err(engine_error)?;
    Ok(json!({ "acknowledged": count }))
}

async fn metrics(call: Call) -> Result<Value, ErrorObject> {
    let p: MetricsParams = call.params()?;
    let since = p
        .since_ms
        .unwrap_or_else(|| crate::store::now_ms() - 3_600_000);
    let metrics = call
        .engine()
        .metrics(since, p.agent.as_deref())
        .map_err(engine_error)?;
    Ok(json!({ "agents": to_value(&metrics)?, "status": to_value(&call.runtime.status().await)? }))
}
