//! `apply <preset> --agents ... --task ...` (a coordinated task) and `demo`.

use std::path::PathBuf;
use std::process::ExitCode;

use aiswitch::Engine;
use aiswitch::coordinator::{Coordination, RunStatus, TaskEvent, TaskResult, TaskSpec, TaskStatus};
use aiswitch::engine::TaskRequest;
use comfy_table::{Table, presets::NOTHING};

use super::daemon::runtime;
use super::output::{CliError, Output, engine, render};
use super::task_display::TaskDisplay;

/// What `apply` was given for a task.
pub struct TaskArgs {
    pub preset: Option<String>,
    pub agents: Vec<String>,
    pub sequential: bool,
    pub chain: bool,
    pub coordination: Coordination,
    pub timeout: u64,
    pub workdir: Option<PathBuf>,
    pub task: Option<String>,
    pub task_file: Option<PathBuf>,
}

/// Checks everything before any agent starts, then runs the task: through the
/// daemon when one runs, embedded otherwise.
pub fn run(args: TaskArgs, out: &Output) -> Result<ExitCode, CliError> {
    let task = match (&args.task, &args.task_file) {
        (Some(task), None) => task.clone(),
        (None, Some(file)) => std::fs::read_to_string(file).map_err(|e| {
            CliError::Usage(format!("cannot read task file {}: {e}", file.display()))
        })?,
        _ => {
            return Err(CliError::Usage(
                "give the task with --task \"...\" or --task-file FILE".into(),
            ));
        }
    };
    let workdir = match &args.workdir {
        Some(dir) => dir.clone(),
        None => std::env::current_dir().map_err(|e| CliError::Failed(e.to_string()))?,
    };
    let request = TaskRequest {
        preset: args.preset,
        agents: args.agents,
        sequential: args.sequential,
        chain: args.chain,
        coordination: args.coordination,
        timeout_secs: args.timeout,
        workdir,
        task,
    };
    let engine = engine()?;
    // One runtime for the whole command: the client's connection lives on it.
    let rt = runtime()?;
    let daemon = rt.block_on(async {
        aiswitch::control::ControlClient::connect(&aiswitch::daemon::socket_path(&engine))
            .await
            .ok()
    });
    match daemon {
        Some(client) => through_daemon(&rt, client, request, out),
        None => {
            let spec = engine.plan_task(request)?;
            execute(&engine, spec, out)
        }
    }
}

/// Runs the task in the daemon: assign, print its events, fetch the result.
fn through_daemon(
    rt: &tokio::runtime::Runtime,
    mut client: aiswitch::control::ControlClient,
    request: TaskRequest,
    out: &Output,
) -> Result<ExitCode, CliError> {
    let show = !out.is_json();
    let result: TaskResult = rt.block_on(async {
        client.subscribe(None).await.map_err(super::daemon::remote)?;
        let params = serde_json::to_value(&request).map_err(|e| CliError::Failed(e.to_string()))?;
        let assigned = client.call("task.assign", Some(params)).await.map_err(super::daemon::remote)?;
        let id = assigned["task"].as_str().unwrap_or_default().to_owned();
        let mut display = TaskDisplay::new(show);
        let mut cancelled = false;
        loop {
            tokio::select! {
                event = client.next_event() => {
                    let Some(event) = event else {
                        return Err(CliError::Failed("the daemon went away during the task".into()));
                    };
                    let Some(event) = event.event.task_progress(&id) else { continue };
                    let ended = matches!(event, TaskEvent::TaskFinished { .. });
                    display.show(event);
                    if ended {
                        display.finish();
                        break;
                    }
                }
                _ = tokio::signal::ctrl_c(), if !cancelled => {
                    eprintln!("aiswitch: cancelling the task (Ctrl-C again to quit at once)");
                    cancelled = true;
                    let _ = client.call("task.cancel", Some(serde_json::json!({ "task": id }))).await;
                }
            }
        }
        let value = client
            .call("task.result", Some(serde_json::json!({ "task": id, "wait": true })))
            .await
            .map_err(super::daemon::remote)?;
        serde_json::from_value(value).map_err(|e| CliError::Failed(format!("unreadable task result: {e}")))
    })?;
    finish(&result, out)
}

/// Runs a task with the live display and prints the result.
pub fn execute(engine: &Engine, spec: TaskSpec, out: &Output) -> Result<ExitCode, CliError> {
    engine.begin_task(&spec)?;
    let show = !out.is_json();
    let result: TaskResult = runtime()?.block_on(async {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<TaskEvent>();
        let printer = tokio::spawn(async move {
            let mut display = TaskDisplay::new(show);
            while let Some(event) = rx.recv().await {
                display.show(event);
            }
            display.finish();
        });
        // First Ctrl-C: cancel gracefully (session/cancel, then stop); second: exit.
        let (canceller, cancel_rx) = aiswitch::coordinator::cancellation();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                eprintln!("aiswitch: cancelling the task (Ctrl-C again to quit at once)");
                canceller.cancel_all();
                if tokio::signal::ctrl_c().await.is_ok() {
                    std::process::exit(130);
                }
            }
        });
        let result = engine.run_begun_task(spec, Some(tx), Some(cancel_rx)).await;
        let _ = printer.await;
        result
    });
    finish(&result, out)
}

/// Prints the result and, when the task did not succeed, why (exit 1).
fn finish(result: &TaskResult, out: &Output) -> Result<ExitCode, CliError> {
    out.emit(result, || summary(result));
    match result.failure_reason() {
        None => Ok(ExitCode::SUCCESS),
        Some(reason) => {
            out.note(&format!(
                "aiswitch: task {} did not succeed: {reason}",
                result.id
            ));
            Ok(ExitCode::from(aiswitch::EXIT_FAILURE))
        }
    }
}

pub(super) fn status_word(status: RunStatus) -> &'static str {
    match status {
        RunStatus::Succeeded => "done",
        RunStatus::Failed => "failed",
        RunStatus::TimedOut => "timed out",
        RunStatus::Cancelled => "cancelled",
        RunStatus::Skipped => "skipped",
    }
}

fn summary(result: &TaskResult) -> String {
    let mut table = Table::new();
    table.load_preset(NOTHING);
    table.set_header([
        "AGENT",
        "PRESET",
        "STATUS",
        "TIME",
        "TOKENS IN/OUT",
        "CACHE R/W",
        "COST",
        "CHANGED",
    ]);
    for run in &result.runs {
        table.add_row([
            run.agent.clone(),
            run.preset.clone().unwrap_or_else(|| "-".into()),
            status_word(run.status).to_owned(),
            format!("{:.1} s", run.duration_ms as f64 / 1000.0),
            format!("{}/{}", run.tokens.input, run.tokens.output),
            format!("{}/{}", run.tokens.cache_read, run.tokens.cache_write),
            run.cost_usd
                .map_or_else(|| "unpriced".into(), super::tokens::usd),
            if run.changed_files.is_empty() {
                "-".into()
            } else {
                run.changed_files.join(", ")
            },
        ]);
    }
    let mut text = format!(
        "\ntask {} ({:?}, {:?}{}): {}\n{}\n",
        result.id,
        result.order,
        result.coordination,
        if result.chain { ", chain" } else { "" },
        match result.status {
            TaskStatus::Succeeded => "succeeded",
            TaskStatus::Failed => "FAILED",
            TaskStatus::Cancelled => "CANCELLED",
        },
        render(&table)
    );
    text.push_str(&format!(
        "total: {} in / {} out tokens, {} cache read, {} cache write; cost {}; {:.1} s\n",
        result.tokens.input,
        result.tokens.output,
        result.tokens.cache_read,
        result.tokens.cache_write,
        total_cost(result),
        result.duration_ms as f64 / 1000.0
    ));
    for run in result.runs.iter().filter(|r| r.error.is_some()) {
        text.push_str(&format!(
            "{}: {}\n",
            run.agent,
            run.error.clone().unwrap_or_default()
        ));
    }
    for run in result
        .runs
        .iter()
        .filter(|r| r.branch.is_some() || r.workspace.is_some())
        .filter(|r| !r.changed_files.is_empty())
    {
        text.push_str(&format!(
            "{}: changes in {}{}\n",
            run.agent,
            run.workspace
                .as_ref()
                .map(|w| w.display().to_string())
                .unwrap_or_default(),
            run.branch
                .as_ref()
                .map(|b| format!(" (branch {b})"))
                .unwrap_or_default()
        ));
    }
    for note in &result.notes {
        text.push_str(&format!("note: {note}\n"));
    }
    text
}

/// The task's cost, saying how many runs with tokens had no price.
fn total_cost(result: &TaskResult) -> String {
    let unpriced = result
        .runs
        .iter()
        .filter(|r| {
            r.cost_usd.is_none() && r.tokens != aiswitch::agents::event::TokenCounts::default()
        })
        .count();
    match (result.cost_usd, unpriced) {
        (None, _) => "unpriced".into(),
        (Some(c), 0) => super::tokens::usd(c),
        (Some(c), n) => format!("{} + {n} unpriced run(s)", super::tokens::usd(c)),
    }
}

/// With nothing configured: three reference agents (one slower, one reporting cache
/// tokens and cost) on one task in a temporary git repository, isolated.
///
/// Example: aiswitch demo
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct DemoArgs {}

pub fn demo(_args: DemoArgs, out: &Output) -> Result<ExitCode, CliError> {
    let engine = engine()?;
    let (spec, repo) = engine.demo_task()?;
    out.note(&format!(
        "aiswitch demo: three reference agents, one task, each in its own worktree of {}\n",
        repo.display()
    ));
    let code = execute(&engine, spec, out)?;
    out.note(&format!(
        "\nyour workdir {} is unchanged; try `git -C {} branch` to see each agent's branch",
        repo.display(),
        repo.display()
    ));
    Ok(code)
}
