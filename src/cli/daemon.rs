//! `daemon`, `events --follow`, and reaching the daemon from other commands
//! (starting it in the background when asked to).

use std::process::ExitCode;
use std::time::Duration;

use aiswitch::Engine;
use aiswitch::calendar::Calendar;
use aiswitch::control::{ControlClient, ControlError, ServerOptions};
use aiswitch::events::EventRecord;
use clap::Args;

use super::output::{CliError, Output, engine};

/// Run the engine in the foreground: supervise long-lived agents and serve the
/// control socket (`control.sock` in the runtime directory) until SIGTERM or Ctrl-C.
///
/// Example: aiswitch daemon --log-level debug
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct DaemonArgs {
    /// Log verbosity: error, warn, info, debug or trace (default: the `log_level`
    /// setting).
    #[arg(long)]
    log_level: Option<String>,
    /// For debugging: the provider gateway writes every request and response body
    /// (headers redacted) to files (0600) under the data directory's
    /// gateway-bodies/. They hold your prompts and code: turn it off when done.
    #[arg(long)]
    log_bodies: bool,
}

/// Show what changed: presets, agents, tasks, usage, budgets, alerts, switches,
/// imports, the daemon. Without --follow, the stored history; with it, a live stream
/// from the daemon until Ctrl-C (agent states, log lines and task output too).
/// Every stored event has an id: --since ID resumes after it, losing nothing.
///
/// Examples:
///   aiswitch events                         the last 20 changes
///   aiswitch events --follow --json         one JSON object per line, as they happen
///   aiswitch events --follow --since 1042   resume after event 1042
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct EventsArgs {
    /// Keep streaming from the daemon.
    #[arg(long, short)]
    follow: bool,
    /// Start after this event id (as printed in `id`).
    #[arg(long, value_name = "ID")]
    since: Option<i64>,
    /// Without --follow: how many of the latest events to show.
    #[arg(long, default_value_t = 20)]
    limit: usize,
}

pub fn daemon(args: DaemonArgs, out: &Output) -> Result<ExitCode, CliError> {
    let mut engine = engine()?;
    if args.log_bodies {
        let dir = engine.paths().data_dir.join("gateway-bodies");
        out.note(&format!(
            "aiswitch: --log-bodies: every request and response through the gateway is written to {} (0600); they hold prompts and code",
            dir.display()
        ));
        engine = engine.with_body_log();
    }
    let level = args
        .log_level
        .unwrap_or_else(|| engine.settings().log_level.clone());
    let filter: tracing::Level = level.parse().map_err(|_| {
        CliError::Usage(format!(
            "invalid --log-level {level:?}: use error, warn, info, debug or trace"
        ))
    })?;
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    tracing_subscriber::fmt()
        .with_max_level(filter)
        .with_ansi(ansi)
        .with_writer(std::io::stderr)
        .init();
    let options = ServerOptions {
        first_message_timeout: Duration::from_millis(engine.settings().control_first_message_ms),
        ..ServerOptions::default()
    };
    let runtime = runtime()?;
    let json = out.is_json();
    runtime
        .block_on(aiswitch::daemon::run(engine, options, |socket| {
            if json {
                println!(
                    "{}",
                    serde_json::json!({ "socket": socket, "pid": std::process::id() })
                );
            }
        }))
        .map_err(|e| CliError::Failed(e.to_string()))?;
    Ok(ExitCode::SUCCESS)
}

pub fn events(args: EventsArgs, out: &Output) -> Result<ExitCode, CliError> {
    let engine = engine()?;
    if !args.follow {
        let records = match args.since {
            Some(since) => engine.events_after(since, args.limit)?,
            None => {
                let mut latest = engine.recent_events(args.limit)?;
                latest.reverse();
                latest
            }
        };
        for record in &records {
            out.emit(record, || line(record, engine.calendar()));
        }
        return Ok(ExitCode::SUCCESS);
    }
    let runtime = runtime()?;
    runtime.block_on(async {
        let mut client = connect(&engine, false, out).await?;
        client.subscribe(args.since).await.map_err(remote)?;
        if !out.is_json() {
            eprintln!("aiswitch: following events (Ctrl-C to stop)");
        }
        loop {
            tokio::select! {
                event = client.next_event() => match event {
                    Some(record) => out.emit(&record, || line(&record, engine.calendar())),
                    None => return Err(CliError::Failed("the daemon went away".into())),
                },
                _ = tokio::signal::ctrl_c() => return Ok(ExitCode::SUCCESS),
            }
        }
    })
}

/// One event for a person: its id (stored events), time in the user's zone and what
/// happened.
fn line(record: &EventRecord, calendar: &Calendar) -> String {
    let at = calendar.stamp(record.at_ms);
    match record.id {
        Some(id) => format!("{id:>6}  {at}  {}", record.event.summary()),
        None => format!("{:>6}  {at}  {}", "", record.event.summary()),
    }
}

/// A current-thread async runtime for one command.
pub fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| CliError::Failed(format!("cannot start the async runtime: {e}")))
}

/// A control-API error as a CLI error: invalid params are bad input (exit 2).
pub fn remote(err: aiswitch::rpc::RpcError) -> CliError {
    match err {
        aiswitch::rpc::RpcError::Remote { error, .. }
            if error.code == aiswitch::rpc::ErrorObject::INVALID_PARAMS =>
        {
            CliError::Usage(error.message)
        }
        aiswitch::rpc::RpcError::Remote { error, .. } => CliError::Failed(error.message),
        other => CliError::Failed(other.to_string()),
    }
}

/// Connects to the daemon; with `autostart`, starts one in the background when none
/// runs and says so.
pub async fn connect(
    engine: &Engine,
    autostart: bool,
    out: &Output,
) -> Result<ControlClient, CliError> {
    let socket = aiswitch::daemon::socket_path(engine);
    match ControlClient::connect(&socket).await {
        Ok(client) => return Ok(client),
        Err(ControlError::NotRunning(_)) if autostart => {}
        Err(ControlError::NotRunning(_)) => {
            return Err(CliError::Failed(
                "no daemon is running: start one with `aiswitch daemon` (or run `aiswitch agents start AGENT`, which starts it)".into(),
            ));
        }
        Err(e) => return Err(CliError::Failed(e.to_string())),
    }
    let exe = std::env::current_exe()
        .map_err(|e| CliError::Failed(format!("cannot find the aiswitch binary: {e}")))?;
    let (client, started) = aiswitch::daemon::start_in_background(engine, &exe)
        .await
        .map_err(|e| CliError::Failed(e.to_string()))?;
    out.note(&format!(
        "aiswitch: started the daemon in the background (pid {}; log {})",
        started.pid,
        started.log.display()
    ));
    Ok(client)
}
