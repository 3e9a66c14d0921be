//! `env switch | show | snapshot | rollback | snapshots | snapshot-rm`.

use std::process::ExitCode;

use aiswitch::Engine;
use aiswitch::calendar::Calendar;
use aiswitch::engine::Verify;
use aiswitch::env::Snapshot;
use aiswitch::presets::PresetName;
use clap::{Args, Subcommand};
use comfy_table::{Table, presets::NOTHING};
use serde_json::json;

use super::output::{CliError, Output, engine, render};

/// Switch the provider an agent runs with, atomically, with snapshots and rollback.
#[derive(Debug, Args)]
pub struct EnvArgs {
    #[command(subcommand)]
    command: EnvCommand,
}

#[derive(Debug, Subcommand)]
enum EnvCommand {
    Switch(SwitchArgs),
    Show(AgentArg),
    Snapshot(SnapshotArgs),
    /// Make a snapshot the agent's environment again (a missing or corrupt one changes
    /// nothing).
    ///
    /// Example: aiswitch env rollback claude before-trial
    Rollback(NamedArgs),
    Snapshots(SnapshotsArgs),
    /// Delete a snapshot.
    ///
    /// Example: aiswitch env snapshot-rm claude before-trial
    #[command(name = "snapshot-rm")]
    SnapshotRm(NamedArgs),
}

/// Switch an agent (or all) to a preset: validate, snapshot, apply, and with --verify
/// start the agent to check it; any failure rolls back. Per-task agents use it on
/// their next run.
///
/// Example: aiswitch env switch claude deepseek --verify --probe "say ok"
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
struct SwitchArgs {
    /// The agent (omit with --all).
    #[arg(required_unless_present = "all")]
    agent: Option<String>,
    /// The preset.
    preset: Option<String>,
    /// Every agent that can use the preset.
    #[arg(long)]
    all: bool,
    /// Start the agent with the new environment and initialize it before keeping it.
    #[arg(long)]
    verify: bool,
    /// With --verify, also send this prompt (a real request to the provider, billed
    /// and recorded like any run).
    #[arg(long, value_name = "PROMPT", requires = "verify")]
    probe: Option<String>,
}

/// The environment an agent runs with (secrets redacted).
///
/// Example: aiswitch env show claude
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
struct AgentArg {
    /// The agent.
    agent: String,
}

/// Save an agent's environment under a name.
///
/// Example: aiswitch env snapshot claude before-trial
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
struct SnapshotArgs {
    /// The agent.
    agent: String,
    /// The snapshot's name.
    name: String,
    /// Replace a snapshot of that name.
    #[arg(long)]
    force: bool,
}

/// An agent and a snapshot name.
#[derive(Debug, Args)]
struct NamedArgs {
    /// The agent.
    agent: String,
    /// The snapshot's name.
    name: String,
}

/// An agent's snapshots: the preset each puts back and when it was saved
/// (`auto-<time>` ones are taken before each switch; the last 10 are kept).
///
/// Example: aiswitch env snapshots claude
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
struct SnapshotsArgs {
    /// The agent (all agents with snapshots when omitted).
    agent: Option<String>,
}

pub fn env(args: EnvArgs, out: &Output) -> Result<ExitCode, CliError> {
    let engine = engine()?;
    match args.command {
        EnvCommand::Switch(a) => {
            // With --all the only positional is the preset.
            let (agents, preset) = if a.all {
                let preset = a
                    .preset
                    .or(a.agent)
                    .ok_or_else(|| CliError::Usage("env switch --all needs a PRESET".into()))?;
                let name = PresetName::parse(&preset)?;
                (engine.agents_taking(&name)?, name)
            } else {
                let agent = a.agent.unwrap_or_default();
                let preset = a.preset.ok_or_else(|| {
                    CliError::Usage(format!(
                        "env switch needs a PRESET: aiswitch env switch {agent} PRESET"
                    ))
                })?;
                (vec![agent], PresetName::parse(&preset)?)
            };
            let verify = Verify::from_flags(a.verify, a.probe.as_deref());
            let rt = super::daemon::runtime()?;
            let mut switched = Vec::new();
            for agent in &agents {
                let env = rt.block_on(engine.switch_env(agent, &preset, verify))?;
                switched.push(
                    json!({ "agent": agent, "preset": env.preset, "checksum": env.checksum }),
                );
            }
            out.emit(&json!({ "switched": switched }), || {
                agents
                    .iter()
                    .map(|agent| format!("{agent} now uses preset {preset}"))
                    .collect::<Vec<_>>()
                    .join("\n")
            });
        }
        EnvCommand::Show(a) => {
            let view = engine.env_show(&a.agent)?;
            out.emit(&view, || match &view.preset {
                None => format!("{} has no environment set: it runs with its own configuration (switch with `aiswitch env switch {} PRESET`)", view.agent, view.agent),
                Some(preset) => {
                    let mut text = format!("{} uses preset {preset}\n", view.agent);
                    for (k, v) in &view.env {
                        text.push_str(&format!("  {k}={}\n", aiswitch::escape::for_terminal(v)));
                    }
                    if !view.args.is_empty() {
                        text.push_str(&format!("  args: {}\n", view.args.join(" ")));
                    }
                    text
                }
            });
        }
        EnvCommand::Snapshot(a) => {
            engine.env_snapshot(&a.agent, &a.name, a.force)?;
            out.emit(&json!({ "agent": a.agent, "snapshot": a.name }), || {
                format!("saved {}'s environment as {}", a.agent, a.name)
            });
        }
        EnvCommand::Rollback(a) => {
            let env = engine.env_rollback(&a.agent, &a.name)?;
            out.emit(&json!({ "agent": a.agent, "preset": env.preset }), || {
                format!("{} is back on preset {} ({})", a.agent, env.preset, a.name)
            });
        }
        EnvCommand::Snapshots(a) => snapshots(&engine, a.agent, out)?,
        EnvCommand::SnapshotRm(a) => {
            engine.env_snapshot_rm(&a.agent, &a.name)?;
            out.emit(&json!({ "removed": a.name }), || {
                format!("removed snapshot {} of {}", a.name, a.agent)
            });
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `env snapshots [AGENT]`: every agent's when none is named.
fn snapshots(engine: &Engine, agent: Option<String>, out: &Output) -> Result<(), CliError> {
    let agents: Vec<String> = match agent {
        Some(agent) => vec![agent],
        None => engine
            .agent_registry()
            .list()
            .0
            .into_iter()
            .map(|e| e.manifest.id.to_string())
            .collect(),
    };
    let mut all = Vec::new();
    for agent in agents {
        let snapshots = engine.env_snapshots(&agent)?;
        if !snapshots.is_empty() {
            all.push((agent, snapshots));
        }
    }
    let listed: Vec<_> = all
        .iter()
        .map(|(agent, snapshots)| json!({ "agent": agent, "snapshots": snapshots }))
        .collect();
    out.emit(&json!({ "agents": listed }), || {
        if all.is_empty() {
            return "no snapshots yet: each `aiswitch env switch` saves one, `aiswitch env snapshot AGENT NAME` saves one by name".into();
        }
        snapshots_table(&all, engine.calendar())
    });
    Ok(())
}

/// One row per snapshot: what a rollback to it puts back, and when it was saved.
fn snapshots_table(all: &[(String, Vec<Snapshot>)], calendar: &Calendar) -> String {
    let mut table = Table::new();
    table.load_preset(NOTHING);
    table.set_header(["AGENT", "SNAPSHOT", "PRESET", "SAVED"]);
    for (agent, snapshots) in all {
        for s in snapshots {
            table.add_row([
                agent.clone(),
                s.name.clone(),
                s.preset
                    .clone()
                    .unwrap_or_else(|| "corrupt: cannot roll back".into()),
                format!(
                    "{} {}",
                    calendar.day_key(s.saved_ms),
                    calendar.clock(s.saved_ms)
                ),
            ]);
        }
    }
    render(&table)
}
