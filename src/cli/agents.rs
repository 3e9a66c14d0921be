//! `agents list | register | check | logs`.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use aiswitch::agents::event::RunEvent;
use aiswitch::engine::Checked;
use aiswitch::presets::PresetName;
use clap::{Args, Subcommand};
use comfy_table::{Table, presets::NOTHING};
use serde_json::json;

use super::daemon;
use super::output::{CliError, Output, engine, render};

/// Agent CLIs: what is installed, register your own, and check one works.
#[derive(Debug, Args)]
pub struct AgentsArgs {
    #[command(subcommand)]
    command: AgentsCommand,
}

#[derive(Debug, Subcommand)]
enum AgentsCommand {
    List(ListArgs),
    Register(RegisterArgs),
    Check(CheckArgs),
    Logs(LogsArgs),
    Start(ControlArgs),
    Stop(ControlArgs),
    Restart(ControlArgs),
    Status(StatusArgs),
}

/// Start, stop or restart a long-lived agent in the daemon (started in the background
/// when none runs).
///
/// Example: aiswitch agents start gemini --preset google
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
struct ControlArgs {
    /// The agent id.
    agent: String,
    /// The preset to inject (start only).
    #[arg(long)]
    preset: Option<String>,
    /// Refuse instead of starting a daemon when none runs.
    #[arg(long)]
    no_daemon: bool,
}

/// State, pid, uptime, restarts, CPU and memory of the daemon's agents. It only
/// looks: with no daemon running it says so and starts nothing.
///
/// Example: aiswitch agents status --verbose
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
struct StatusArgs {
    /// Also show peak memory.
    #[arg(long, short)]
    verbose: bool,
    /// Accepted for compatibility: status never starts a daemon.
    #[arg(long, hide = true)]
    no_daemon: bool,
}

/// List agents: driver, whether the program is installed, its version, and the
/// preset kinds it takes.
///
/// Versions are cached (data/discovery.json) and found again only for programs that
/// changed; a Node CLI's comes from its npm package.json, others are started with
/// their version flag. One that takes longer than a moment shows as "probing".
///
/// Example: aiswitch agents list
///          aiswitch agents list --refresh
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
struct ListArgs {
    /// Find every version again, waiting up to 3 s for each program.
    #[arg(long)]
    refresh: bool,
}

/// Add an agent from a manifest file (TOML); it is validated first.
///
/// Example: aiswitch agents register ./my-agent.toml
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
struct RegisterArgs {
    /// The manifest file.
    file: PathBuf,
    /// Replace an agent with the same id.
    #[arg(long)]
    force: bool,
}

/// Start an agent with a preset, initialize it, optionally send one prompt and show
/// the streamed reply and its usage, then stop it.
///
/// Without --prompt nothing is sent: a session agent is started and initialized, a
/// per-task CLI is started with its version flag; the output says which.
/// Without --preset it uses the preset `aiswitch run` would: the nearest
/// .aiswitch.toml's, else the agent's switched environment, else the current one
/// (see `aiswitch current --agent AGENT`); the output says which.
///
/// Example: aiswitch agents check gemini --preset google --prompt "say hi"
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
struct CheckArgs {
    /// The agent id.
    agent: String,
    /// The preset to inject (default: as `aiswitch run` resolves it).
    #[arg(long)]
    preset: Option<String>,
    /// A prompt to send.
    #[arg(long)]
    prompt: Option<String>,
    /// Seconds to wait for start and for the reply.
    #[arg(long, default_value_t = 60)]
    timeout: u64,
}

/// Print the end of an agent's stderr log.
///
/// Example: aiswitch agents logs gemini --lines 50
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
struct LogsArgs {
    /// The agent id.
    agent: String,
    /// How many lines from the end.
    #[arg(long, short = 'n', default_value_t = 100)]
    lines: usize,
}

pub fn agents(args: AgentsArgs, out: &Output) -> Result<ExitCode, CliError> {
    match args.command {
        AgentsCommand::List(args) => list(args, out),
        AgentsCommand::Register(args) => register(args, out),
        AgentsCommand::Check(args) => check(args, out),
        AgentsCommand::Logs(args) => logs(args, out),
        AgentsCommand::Start(args) => control("agent.start", args, out),
        AgentsCommand::Stop(args) => control("agent.stop", args, out),
        AgentsCommand::Restart(args) => control("agent.restart", args, out),
        AgentsCommand::Status(args) => status(args, out),
    }
}

fn control(method: &str, args: ControlArgs, out: &Output) -> Result<ExitCode, CliError> {
    if let Some(preset) = &args.preset {
        PresetName::parse(preset)?;
        if method != "agent.start" {
            return Err(CliError::Usage(
                "--preset applies to `agents start` only".into(),
            ));
        }
    }
    let engine = engine()?;
    let runtime = daemon::runtime()?;
    let view = runtime.block_on(async {
        let client = daemon::connect(&engine, !args.no_daemon, out).await?;
        let mut params = json!({ "agent": args.agent });
        if let Some(preset) = &args.preset {
            params["preset"] = json!(preset);
        }
        client
            .call(method, Some(params))
            .await
            .map_err(daemon::remote)
    })?;
    let verb = method.trim_start_matches("agent.");
    out.emit(&view, || {
        let state = view.get("state").and_then(|s| s.as_str()).unwrap_or("?");
        let pid = view
            .get("pid")
            .and_then(serde_json::Value::as_u64)
            .map(|p| format!(", pid {p}"))
            .unwrap_or_default();
        format!("{verb}: {} is {state}{pid}", args.agent)
    });
    Ok(ExitCode::SUCCESS)
}

fn status(args: StatusArgs, out: &Output) -> Result<ExitCode, CliError> {
    let _ = args.no_daemon;
    let engine = engine()?;
    if aiswitch::daemon::running_pid(&engine.paths().runtime_dir).is_none() {
        out.emit(&json!({ "daemon": false, "agents": [] }), || {
            "no daemon is running, so no agents are supervised: `aiswitch agents start AGENT` starts both".into()
        });
        return Ok(ExitCode::SUCCESS);
    }
    let runtime = daemon::runtime()?;
    let mut body = runtime.block_on(async {
        let client = daemon::connect(&engine, false, out).await?;
        client
            .call("agent.status", None)
            .await
            .map_err(daemon::remote)
    })?;
    body["daemon"] = json!(true);
    out.emit(&body, || {
        let agents = body["agents"].as_array().cloned().unwrap_or_default();
        if agents.is_empty() {
            return "no agents running: start one with `aiswitch agents start AGENT`".into();
        }
        let mut table = Table::new();
        table.load_preset(NOTHING);
        let mut header = vec![
            "AGENT", "STATE", "PID", "UPTIME", "RESTARTS", "CPU", "MEMORY", "PRESET",
        ];
        if args.verbose {
            header.push("PEAK MEMORY");
        }
        table.set_header(header);
        let mb = |v: &serde_json::Value| format!("{:.1} MB", v.as_f64().unwrap_or(0.0) / 1e6);
        for a in &agents {
            let text = |k: &str| {
                a[k].as_str()
                    .map_or_else(|| a[k].to_string(), str::to_owned)
                    .replace("null", "-")
            };
            let mut row = vec![
                text("agent"),
                text("state"),
                text("pid"),
                a["uptime_secs"]
                    .as_u64()
                    .map_or("-".into(), |s| format!("{s} s")),
                text("restarts"),
                format!("{:.1} %", a["cpu_percent"].as_f64().unwrap_or(0.0)),
                mb(&a["memory_bytes"]),
                text("preset"),
            ];
            if args.verbose {
                row.push(mb(&a["peak_memory_bytes"]));
            }
            table.add_row(row);
        }
        render(&table)
    });
    Ok(ExitCode::SUCCESS)
}

fn list(args: ListArgs, out: &Output) -> Result<ExitCode, CliError> {
    let (agents, problems) = engine()?.list_agents(args.refresh);
    out.emit(&json!({ "agents": agents, "problems": problems }), || {
        let mut table = Table::new();
        table.load_preset(NOTHING);
        table.set_header([
            "ID",
            "DRIVER",
            "LIFETIME",
            "INSTALLED",
            "VERSION",
            "PRESETS",
        ]);
        for a in &agents {
            let kinds: Vec<&str> = a.accepts.iter().map(|k| k.as_str()).collect();
            table.add_row([
                a.id.clone(),
                a.driver.to_owned(),
                serde_json::to_value(a.lifetime)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default(),
                a.path.as_ref().map_or_else(
                    || format!("no ({} not on PATH)", a.command),
                    |p| p.display().to_string(),
                ),
                match (&a.version, a.probing) {
                    (Some(v), _) => v.clone(),
                    (None, true) => "probing".into(),
                    (None, false) => "-".into(),
                },
                kinds.join(","),
            ]);
        }
        render(&table)
    });
    for problem in &problems {
        out.note(&format!("aiswitch: {problem}"));
    }
    Ok(if problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(aiswitch::EXIT_FAILURE)
    })
}

fn register(args: RegisterArgs, out: &Output) -> Result<ExitCode, CliError> {
    let manifest = engine()?.register_agent(&args.file, args.force)?;
    out.emit(
        &json!({ "action": "registered", "agent": manifest.id.as_str() }),
        || format!("registered agent {} ({})", manifest.id, manifest.name),
    );
    Ok(ExitCode::SUCCESS)
}

fn check(args: CheckArgs, out: &Output) -> Result<ExitCode, CliError> {
    let preset = args.preset.as_deref().map(PresetName::parse).transpose()?;
    let engine = engine()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Failed(format!("cannot start the async runtime: {e}")))?;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<RunEvent>();
    let show_live = !out.is_json();
    let report = runtime.block_on(async {
        let printer = tokio::spawn(async move {
            let mut stdout = std::io::stdout();
            while let Some(event) = rx.recv().await {
                if let RunEvent::Text { text } = event
                    && show_live
                {
                    let _ = write!(stdout, "{text}");
                    let _ = stdout.flush();
                }
            }
        });
        let report = engine
            .check_agent(
                &args.agent,
                preset.as_ref(),
                args.prompt.as_deref(),
                Duration::from_secs(args.timeout),
                Some(tx),
            )
            .await;
        let _ = printer.await;
        report
    })?;
    out.emit(&report, || {
        let mut text = String::new();
        if report.reply.is_some() {
            text.push('\n');
        }
        if let Some(ms) = report.initialized_ms {
            text.push_str(&format!("{}: initialized in {ms} ms\n", report.agent));
        }
        text.push_str(&match &report.preset {
            Some(p) => format!("preset: {p}\n"),
            None => "preset: none (the agent's own settings)\n".to_owned(),
        });
        if let Some(u) = &report.usage {
            text.push_str(&format!(
                "usage: {} in, {} out, {} cache read, {} cache write ({}){}\n",
                u.input_tokens,
                u.output_tokens,
                u.cache_read_tokens,
                u.cache_write_tokens,
                match u.source {
                    "gateway" => "metered by the gateway",
                    _ => "reported by the agent",
                },
                report
                    .cost_usd
                    .map(|c| format!(", ${c:.6}"))
                    .unwrap_or_default()
            ));
        }
        let what = match report.checked {
            Checked::Prompt => "answered the prompt".to_owned(),
            Checked::Initialized => {
                "started and initialized (no prompt sent: --prompt sends one)".to_owned()
            }
            Checked::Version => format!(
                "installed and runs: {} (no prompt sent: --prompt sends one)",
                report.version.as_deref().unwrap_or_default()
            ),
        };
        text.push_str(&format!(
            "{} ok: {what}{} in {} ms",
            report.agent,
            report
                .stop_reason
                .as_deref()
                .map(|r| format!(" ({r})"))
                .unwrap_or_default(),
            report.duration_ms
        ));
        text
    });
    Ok(ExitCode::SUCCESS)
}

fn logs(args: LogsArgs, out: &Output) -> Result<ExitCode, CliError> {
    let engine = engine()?;
    engine
        .agent_registry()
        .get(&args.agent)
        .map_err(aiswitch::Error::from)?;
    let path = engine.agent_log_dir().join(format!("{}.log", args.agent));
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let tail = &lines[lines.len().saturating_sub(args.lines)..];
    out.emit(
        &json!({ "agent": args.agent, "file": path, "lines": tail }),
        || {
            if tail.is_empty() {
                format!("no log lines yet for {} ({})", args.agent, path.display())
            } else {
                tail.join("\n")
            }
        },
    );
    Ok(ExitCode::SUCCESS)
}
