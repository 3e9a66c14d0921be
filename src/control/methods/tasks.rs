//! `task.*`: coordinated tasks the engine host runs, and their records.

use serde_json::{Value, json};

use super::{Call, Method, engine_error, ready, to_value};
use crate::rpc::ErrorObject;

/// Error code: no such task.
const TASK_NOT_FOUND: i64 = -40101;

pub(super) const METHODS: &[Method] = &[
    Method {
        name: "task.assign",
        summary: "Plan and start a coordinated task in the daemon; progress arrives as events. Without `preset`, each agent takes the workdir's .aiswitch.toml, its switched preset or the current one.",
        params: r#"{"preset": "deepseek", "agents": ["claude", "codex:openai"], "sequential": false, "chain": false, "coordination": "isolated", "timeout_secs": 600, "workdir": "/home/me/project", "task": "add tests"}"#,
        result: r#"{"task": "t10ac833178"}"#,
        errors: "-32602 invalid task (empty, bad workdir, --chain without sequential, wrong preset kind), -40001 unknown agent, -40201 unknown preset",
        serve: |call| ready(assign(&call)),
    },
    Method {
        name: "task.status",
        summary: "A task's status without its result.",
        params: r#"{"task": "t10ac833178"}"#,
        result: r#"{"id": "t10ac833178", "status": "running", "agents": "claude,codex", ...}"#,
        errors: "-40101 task not found",
        serve: |call| ready(status(&call)),
    },
    Method {
        name: "task.result",
        summary: "A task's aggregated result; with `wait`, once it has ended.",
        params: r#"{"task": "t10ac833178", "wait": true}"#,
        result: r#"{"id": "t10ac833178", "status": "succeeded", "runs": [...], "tokens": {...}, "cost_usd": 0.01}"#,
        errors: "-40101 task not found",
        serve: |call| Box::pin(result(call)),
    },
    Method {
        name: "task.transcript",
        summary: "A finished task's transcripts: each agent's run events in order (text, thoughts, tool calls, usage), as `tasks show` prints them.",
        params: r#"{"task": "t10ac833178"}"#,
        result: r#"{"transcripts": [{"agent": "claude", "events": [{"type": "tool_call", "id": "c1", "name": "Edit src/lib.rs"}, {"type": "text", "text": "Done."}]}]}"#,
        errors: "-40101 task not found",
        serve: |call| ready(transcript(&call)),
    },
    Method {
        name: "task.cancel",
        summary: "Cancel a task the daemon runs (session/cancel, then stop), or with `agent` that agent alone while the others go on.",
        params: r#"{"task": "t10ac833178", "agent": "codex"}"#,
        result: r#"{"cancelled": "t10ac833178", "agent": "codex"}"#,
        errors: "-40101 task not found or not run by this daemon, or no such agent in it",
        serve: |call| ready(cancel(&call)),
    },
    Method {
        name: "task.list",
        summary: "Tasks, newest first, one page: by status, agent, or text in the prompt (or the id).",
        params: r#"{"status": "failed", "search": "tests", "agent": "claude", "limit": 20, "offset": 0}"#,
        result: r#"{"tasks": [{"id": "t10ac833178", "status": "failed", ...}], "total": 1}"#,
        errors: "-",
        serve: |call| ready(list(&call)),
    },
    Method {
        name: "task.keep",
        summary: "Apply one agent's changes from a finished isolated task to the task's working directory (checked first: on a conflict nothing is written).",
        params: r#"{"task": "t10ac833178", "agent": "claude"}"#,
        result: r#"{"task": "t10ac833178", "agent": "claude", "files": ["src/lib.rs"], "workdir": "/home/me/project"}"#,
        errors: "-40101 task or agent not found, -32602 task still running, -40102 nothing to keep or a conflict (the message names the files)",
        serve: |call| ready(keep(&call)),
    },
];

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct TaskParams {
    task: String,
    #[serde(default)]
    wait: bool,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct CancelParams {
    task: String,
    /// One agent of the task; the others go on.
    #[serde(default)]
    agent: Option<String>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct KeepParams {
    task: String,
    agent: String,
}

fn task_not_found(id: &str) -> ErrorObject {
    ErrorObject::new(
        TASK_NOT_FOUND,
        format!("task {id} does not exist: see `aiswitch tasks list`"),
    )
}

fn assign(call: &Call) -> Result<Value, ErrorObject> {
    let request: crate::engine::TaskRequest = call.params()?;
    let spec = call.engine().plan_task(request).map_err(engine_error)?;
    let id = call.runtime.assign(spec).map_err(engine_error)?;
    Ok(json!({ "task": id }))
}

fn status(call: &Call) -> Result<Value, ErrorObject> {
    let p: TaskParams = call.params()?;
    let row = call.engine().task_row(&p.task).map_err(engine_error)?;
    to_value(&row.ok_or_else(|| task_not_found(&p.task))?)
}

async fn result(call: Call) -> Result<Value, ErrorObject> {
    let p: TaskParams = call.params()?;
    if p.wait
        && let Some(result) = call.runtime.wait_task(&p.task).await
    {
        return to_value(&result);
    }
    let details = call.engine().task_details(&p.task).map_err(engine_error)?;
    let details = details.ok_or_else(|| task_not_found(&p.task))?;
    Ok(details.task.result.unwrap_or(Value::Null))
}

fn transcript(call: &Call) -> Result<Value, ErrorObject> {
    let p: TaskParams = call.params()?;
    let details = call.engine().task_details(&p.task).map_err(engine_error)?;
    let details = details.ok_or_else(|| task_not_found(&p.task))?;
    Ok(json!({ "transcripts": to_value(&details.transcripts)? }))
}

fn cancel(call: &Call) -> Result<Value, ErrorObject> {
    let p: CancelParams = call.params()?;
    match (
        call.runtime.cancel_task(&p.task, p.agent.as_deref()),
        p.agent,
    ) {
        (true, None) => Ok(json!({ "cancelled": p.task })),
        (true, Some(agent)) => Ok(json!({ "cancelled": p.task, "agent": agent })),
        (false, None) => Err(task_not_found(&p.task)),
        (false, Some(agent)) => Err(ErrorObject::new(
            TASK_NOT_FOUND,
            format!(
                "task {} has no running agent {agent} in this daemon: see `aiswitch tasks show {}`",
                p.task, p.task
            ),
        )),
    }
}

fn list(call: &Call) -> Result<Value, ErrorObject> {
    let query: crate::store::TaskQuery = call.params()?;
    let (rows, total) = call.engine().find_tasks(&query).map_err(engine_error)?;
    Ok(json!({ "tasks": to_value(&rows)?, "total": total }))
}

fn keep(call: &Call) -> Result<Value, ErrorObject> {
    let p: KeepParams = call.params()?;
    to_value(
        &call
            .engine()
            .keep_run(&p.task, &p.agent)
            .map_err(engine_error)?,
    )
}
