//! `aiswitch dashboard`: serves the web UI to a browser, with the engine host (the
//! daemon, started in the background when none runs) behind it.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::process::ExitCode;

use clap::Args;
use serde_json::json;

use super::daemon::{connect, runtime};
use super::output::{CliError, Output, engine};
use aiswitch::dashboard::{Dashboard, EngineHost};

/// Open the dashboard in a browser: agents, tasks, providers and usage, live.
///
/// Serves the web UI on 127.0.0.1 and prints its URL, which carries a token made for
/// this start (the browser keeps it in a cookie); requests without it are refused.
/// Starts the daemon in the background when none runs. Ctrl-C stops the server (the
/// daemon and its agents go on).
///
/// Example: aiswitch dashboard --open
///          aiswitch dashboard --port 7420
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct DashboardArgs {
    /// The port (default: any free one).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Open the URL in the default browser.
    #[arg(long)]
    open: bool,
    /// Accept requests without the token (anyone on this machine can then use it).
    #[arg(long)]
    no_token: bool,
    /// Listen on this address instead of 127.0.0.1 (other machines can then reach
    /// it: only on networks you trust). On 0.0.0.0 it answers to the machine's IP
    /// addresses and its own names (its host name, NAME.local), not to other names.
    #[arg(long, value_name = "ADDR", value_parser = listen_address)]
    listen: Option<IpAddr>,
}

/// `--listen`: an IP address; a name or a port gets a line saying what to give.
fn listen_address(text: &str) -> Result<IpAddr, String> {
    text.parse().map_err(|_| {
        "give an IP address, such as 127.0.0.1, or 0.0.0.0 for every address (a name is not \
         accepted; the port goes in --port)"
            .to_owned()
    })
}

/// Runs `aiswitch dashboard` until Ctrl-C (or SIGTERM).
pub fn dashboard(args: DashboardArgs, out: &Output) -> Result<ExitCode, CliError> {
    let engine = engine()?;
    let program = std::env::current_exe()
        .map_err(|e| CliError::Failed(format!("cannot find the aiswitch binary: {e}")))?;
    let ip = args.listen.unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
    runtime()?.block_on(async {
        connect(&engine, true, out).await?;
        let dashboard = Dashboard::bind(SocketAddr::new(ip, args.port), !args.no_token)
            .await
            .map_err(|e| CliError::Failed(e.to_string()))?;
        let url = dashboard.url();
        if !ip.is_loopback() {
            out.note(&format!(
                "aiswitch: warning: listening on {ip}: other machines can reach the dashboard"
            ));
        }
        if args.no_token {
            out.note(
                "aiswitch: warning: --no-token: any program on this machine can use the dashboard",
            );
        }
        out.emit(
            &json!({ "url": url, "addr": dashboard.addr().to_string() }),
            || format!("aiswitch dashboard: {url}\n(Ctrl-C stops it)"),
        );
        if args.open {
            open_browser(&url, out);
        }
        let host = EngineHost { engine, program };
        dashboard
            .serve(host, stop_signal())
            .await
            .map_err(|e| CliError::Failed(format!("the dashboard stopped: {e}")))
    })?;
    Ok(ExitCode::SUCCESS)
}

/// Resolves on Ctrl-C or SIGTERM.
async fn stop_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending().await } } => {}
    }
}

fn open_browser(url: &str, out: &Output) {
    let opener = if cfg!(target_os = "macos") {
        "open"
    } else {
        "xdg-open"
    };
    let started = std::process::Command::new(opener)
        .arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
    if let Err(e) = started {
        out.note(&format!(
            "aiswitch: cannot start {opener} ({e}): open the URL yourself"
        ));
    }
}
