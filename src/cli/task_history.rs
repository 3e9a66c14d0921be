//! `tasks list | show | cancel | clean`: the task history in the store.

use std::process::ExitCode;

use aiswitch::store::TaskState;
use clap::{Args, Subcommand};
use comfy_table::{Table, presets::NOTHING};
use serde_json::json;

use super::output::{CliError, Output, engine, render};

/// Coordinated tasks: history, results, transcripts, worktrees.
#[derive(Debug, Args)]
pub struct TasksArgs {
    #[command(subcommand)]
    command: TasksCommand,
}

#[derive(Debug, Subcommand)]
enum TasksCommand {
    List(ListArgs),
    Show(ShowArgs),
    Cancel(CancelArgs),
    Keep(KeepArgs),
    Clean(CleanArgs),
}

/// Keep one agent's changes from a finished isolated task: apply its diff to the
/// task's working directory. Checked first: on a conflict nothing is written and the
/// conflicting files are named.
///
/// Example: aiswitch tasks keep t10a4dbd389 claude
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
struct KeepArgs {
    /// The task id.
    id: String,
    /// The agent whose changes to keep (as `tasks show` names it).
    agent: String,
}

/// Recent tasks, newest first.
///
/// Example: aiswitch tasks list --status failed --limit 5
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
struct ListArgs {
    /// Only tasks with this status: running, succeeded, failed, interrupted.
    #[arg(long, value_enum)]
    status: Option<TaskState>,
    /// How many.
    #[arg(long, default_value_t = 20)]
    limit: usize,
}

/// A task's full result and each agent's transcript.
///
/// Example: aiswitch tasks show t10a4dbd389
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
struct ShowArgs {
    /// The task id.
    id: String,
}

/// Cancel a running task gracefully (as Ctrl-C in its terminal would), or one agent
/// of it while the others go on (a task the daemon or the app runs).
///
/// Examples: aiswitch tasks cancel t10a4dbd389
///           aiswitch tasks cancel t10a4dbd389 --agent codex
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
struct CancelArgs {
    /// The task id.
    id: String,
    /// Cancel only this agent of the task.
    #[arg(long, value_name = "AGENT")]
    agent: Option<String>,
}

/// Remove the worktrees of one task, or of every finished task. The agents' branches
/// stay in the repository (`git branch --list 'aiswitch/*'`); a running task's
/// worktrees are left alone and named.
///
/// Example: aiswitch tasks clean
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
struct CleanArgs {
    /// The task id; all tasks when left out.
    id: Option<String>,
}

pub fn tasks(args: TasksArgs, out: &Output) -> Result<ExitCode, CliError> {
    let engine = engine()?;
    match args.command {
        TasksCommand::List(args) => {
            let rows = engine.list_tasks(args.status, args.limit)?;
            out.emit(&json!({ "tasks": rows }), || {
                if rows.is_empty() {
                    return "no tasks yet: run one with `aiswitch apply PRESET --agents A,B --task \"...\"` or `aiswitch demo`".into();
                }
                let mut table = Table::new();
                table.load_preset(NOTHING);
                table.set_header(["ID", "STATUS", "MODE", "AGENTS", "TASK"]);
                for r in &rows {
                    let prompt: String = r.prompt.lines().next().unwrap_or_default().chars().take(50).collect();
                    table.add_row([r.id.clone(), r.status.as_str().to_owned(), format!("{} {}", r.order, r.coordination), r.agents.clone(), prompt]);
                }
                render(&table)
            });
        }
        TasksCommand::Keep(args) => {
            let kept = engine.keep_run(&args.id, &args.agent)?;
            out.emit(&kept, || {
                format!(
                    "kept {}'s changes in {}: {}",
                    kept.agent,
                    kept.workdir.display(),
                    kept.files.join(", ")
                )
            });
        }
        TasksCommand::Show(args) => {
            let details = engine.task_details(&args.id)?.ok_or_else(|| {
                CliError::Failed(format!(
                    "task {} does not exist: see `aiswitch tasks list`",
                    args.id
                ))
            })?;
            let row = &details.task;
            out.emit(&details, || {
                let mut text = format!(
                    "task {} ({}; {} {}): {}\n{}\n",
                    row.id,
                    row.agents,
                    row.order,
                    row.coordination,
                    row.status.as_str(),
                    row.prompt
                );
                if let Some(result) = &row.result {
                    for run in result["runs"].as_array().into_iter().flatten() {
                        text.push_str(&format!(
                            "\n[{}] {} ({} in / {} out tokens)\n{}\n",
                            run["agent"].as_str().unwrap_or_default(),
                            run["status"].as_str().unwrap_or_default(),
                            run["tokens"]["input"],
                            run["tokens"]["output"],
                            run["output"].as_str().unwrap_or_default()
                        ));
                        if let Some(diff) = run["diff"].as_str().filter(|d| !d.is_empty()) {
                            text.push_str(diff);
                        }
                    }
                }
                text
            });
        }
        TasksCommand::Cancel(args) => cancel(&engine, &args.id, args.agent.as_deref(), out)?,
        TasksCommand::Clean(args) => {
            let report = engine.clean_tasks(args.id.as_deref())?;
            out.emit(&report, || {
                let mut text = format!("removed the worktrees of {} task(s)", report.cleaned.len());
                if !report.skipped_running.is_empty() {
                    text.push_str(&format!(
                        "; left those of {} (still running)",
                        report.skipped_running.join(", ")
                    ));
                }
                text
            });
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `tasks cancel ID [--agent A]`.
fn cancel(
    engine: &aiswitch::Engine,
    id: &str,
    agent: Option<&str>,
    out: &Output,
) -> Result<(), CliError> {
    // A task the daemon runs is cancelled through it (its recorded pid is
    // the daemon's own); one run by a CLI gets SIGINT, as Ctrl-C would.
    let rt = super::daemon::runtime()?;
    let params = match agent {
        Some(agent) => json!({ "task": id, "agent": agent }),
        None => json!({ "task": id }),
    };
    let by_daemon = rt.block_on(async {
        let client =
            aiswitch::control::ControlClient::connect(&aiswitch::daemon::socket_path(engine))
                .await
                .ok()?;
        Some(client.call("task.cancel", Some(params)).await)
    });
    if let Some(agent) = agent {
        return match by_daemon {
            Some(Ok(answer)) => {
                out.emit(&answer, || format!("asked {agent} of task {id} to cancel"));
                Ok(())
            }
            Some(Err(e)) => Err(super::daemon::remote(e)),
            None => Err(CliError::Failed(format!(
                "no daemon runs task {id}: one agent can be cancelled only in a task the daemon or the app runs (`aiswitch task` runs its tasks there when `aiswitch daemon` is running); cancel the whole task with `aiswitch tasks cancel {id}`"
            ))),
        };
    }
    if !matches!(by_daemon, Some(Ok(_))) {
        let rows = engine.list_tasks(Some(TaskState::Running), 1000)?;
        let Some(row) = rows.iter().find(|r| r.id == id) else {
            return Err(CliError::Failed(format!(
                "task {} is not running: see `aiswitch tasks list`",
                id
            )));
        };
        let pid = engine.task_pid(&row.id)?;
        nix_kill(pid).map_err(|e| {
            CliError::Failed(format!(
                "cannot signal the process running task {}: {e}",
                row.id
            ))
        })?;
    }
    out.emit(&json!({ "cancelled": id }), || {
        format!("asked task {} to cancel", id)
    });
    Ok(())
}

/// Sends SIGINT (the graceful cancel) to the process running a task.
fn nix_kill(pid: u32) -> std::io::Result<()> {
    let status = std::process::Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status()?;
    if status.success() {
        Ok(())
    } else {
        Err(std::io::Error::other("kill failed"))
    }
}
