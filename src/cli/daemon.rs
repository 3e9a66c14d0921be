//! `daemon`, `events --follow`, and reaching the daemon from other commands
//! (starting it in the background when asked to).

use std::process::ExitCode;
use std::time::Duration;

use aiswitch::Engine;
use aiswitch::control::{ControlClient, ControlError, ServerOptions};
use clap::Args;
use serde_json::Value;

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
}

/// Stream events from the daemon (agent states, faults, restarts, log lines) until
/// Ctrl-C.
///
/// Example: aiswitch events --follow --json
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct EventsArgs {
    /// Keep streaming (required for now: there is no event history yet).
    #[arg(long, short)]
    follow: bool,
}

pub fn daemon(args: DaemonArgs, out: &Output) -> Result<ExitCode, CliError> {
    let engine = engine()?;
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
    if !args.follow {
        return Err(CliError::Usage(
            "events needs --follow (aiswitch events --follow)".into(),
        ));
    }
    let engine = engine()?;
    let runtime = runtime()?;
    runtime.block_on(async {
        let mut client = connect(&engine, false, out).await?;
        client.call("event.subscribe", None).await.map_err(remote)?;
        // Say when events start flowing, so a script knows nothing before is missed.
        if out.is_json() {
            println!("{}", serde_json::json!({ "event": "subscribed" }));
        } else {
            eprintln!("aiswitch: following events (Ctrl-C to stop)");
        }
        loop {
            tokio::select! {
                event = client.next_event() => match event {
                    Some(event) => out.emit(&event, || describe(&event)),
                    None => return Err(CliError::Failed("the daemon went away".into())),
                },
                _ = tokio::signal::ctrl_c() => return Ok(ExitCode::SUCCESS),
            }
        }
    })
}

/// One line for an event.
fn describe(event: &Value) -> String {
    let get = |k: &str| {
        event
            .get(k)
            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
            .unwrap_or_default()
    };
    match get("event").as_str() {
        "state" => match event.get("pid").and_then(Value::as_u64) {
            Some(pid) => format!("{}: {} (pid {pid})", get("agent"), get("state")),
            None => format!("{}: {}", get("agent"), get("state")),
        },
        "fault" => format!("{}: fault: {}", get("agent"), get("message")),
        "exited" => format!(
            "{}: exited (code {}, signal {})",
            get("agent"),
            get("code"),
            get("signal")
        ),
        "restarting" => format!(
            "{}: restart {} in {} ms",
            get("agent"),
            get("attempt"),
            get("after_ms")
        ),
        "gave_up" => format!(
            "{}: gave up after {} restarts",
            get("agent"),
            get("restarts")
        ),
        "log" => format!("{}: {}", get("agent"), get("line")),
        "alert" => format!("alert {}: {}", get("id"), get("message")),
        _ => event.to_string(),
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
