//! `metrics show`: per-agent latency, error rate and throughput from the store, with
//! restarts, CPU and memory from the daemon when one runs.

use std::process::ExitCode;

use aiswitch::engine::Percentiles;
use aiswitch::store::now_ms;
use aiswitch::usage::{Timeframe, timeframe_start};
use clap::{Args, Subcommand};
use comfy_table::{Table, presets::NOTHING};
use serde_json::json;

use super::output::{CliError, Output, engine, render};

/// Agent metrics: latency, error rate, throughput, restarts, CPU and memory.
#[derive(Debug, Args)]
pub struct MetricsArgs {
    #[command(subcommand)]
    command: MetricsCommand,
}

#[derive(Debug, Subcommand)]
enum MetricsCommand {
    Show(ShowArgs),
}

/// Per agent: prompt-turn and RPC latency p50/p95/p99, error rate, messages per
/// second; restarts, CPU and memory (now and peak) when the daemon runs.
///
/// Example: aiswitch metrics show --timeframe day
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
struct ShowArgs {
    /// Only this agent.
    #[arg(long)]
    agent: Option<String>,
    /// The period (default: the last hour).
    #[arg(long, value_enum, default_value = "hour")]
    timeframe: Timeframe,
}

fn ms(p: Option<u64>) -> String {
    p.map_or_else(
        || "-".into(),
        |us| {
            if us < 1000 {
                format!("<{us}µs")
            } else {
                format!("<{:.0}ms", us as f64 / 1000.0)
            }
        },
    )
}

fn triple(p: &Percentiles) -> String {
    format!("{} / {} / {}", ms(p.p50_us), ms(p.p95_us), ms(p.p99_us))
}

pub fn metrics(args: MetricsArgs, out: &Output) -> Result<ExitCode, CliError> {
    let MetricsCommand::Show(args) = args.command;
    let engine = engine()?;
    let since = timeframe_start(args.timeframe, now_ms(), engine.calendar());
    let agents = engine.metrics(since, args.agent.as_deref())?;
    // Live process figures come from the daemon, when one runs.
    let rt = super::daemon::runtime()?;
    let status = rt.block_on(async {
        let client =
            aiswitch::control::ControlClient::connect(&aiswitch::daemon::socket_path(&engine))
                .await
                .ok()?;
        client.call("agent.status", None).await.ok()
    });
    let live = status
        .as_ref()
        .and_then(|s| s["agents"].as_array().cloned())
        .unwrap_or_default();
    out.emit(
        &json!({ "since_ms": since, "agents": agents, "status": live }),
        || {
            if agents.is_empty() && live.is_empty() {
                return "no agent activity in this period".into();
            }
            let mut table = Table::new();
            table.load_preset(NOTHING);
            table.set_header([
                "AGENT",
                "PROMPTS",
                "TURN p50/p95/p99",
                "ERRORS",
                "MSG/S",
                "RESTARTS",
                "CPU",
                "MEM (PEAK)",
            ]);
            for a in &agents {
                let l = live.iter().find(|s| s["agent"] == a.agent.as_str());
                let mb =
                    |v: &serde_json::Value| format!("{:.1} MB", v.as_f64().unwrap_or(0.0) / 1e6);
                table.add_row([
                    a.agent.clone(),
                    a.prompts.to_string(),
                    triple(&a.prompt_turns),
                    format!("{:.1} %", a.error_rate * 100.0),
                    format!("{:.2}", a.messages_per_sec),
                    l.map_or_else(|| "-".into(), |s| s["restarts"].to_string()),
                    l.map_or_else(
                        || "-".into(),
                        |s| format!("{:.1} %", s["cpu_percent"].as_f64().unwrap_or(0.0)),
                    ),
                    l.map_or_else(
                        || "-".into(),
                        |s| {
                            format!(
                                "{} ({})",
                                mb(&s["memory_bytes"]),
                                mb(&s["peak_memory_bytes"])
                            )
                        },
                    ),
                ]);
            }
            let mut text = render(&table);
            for a in &agents {
                for m in &a.methods {
                    text.push_str(&format!(
                        "\n  {} {}: {} requests, p50/p95/p99 {}, {:.1} % errors",
                        a.agent,
                        m.method,
                        m.requests,
                        triple(&m.latency),
                        m.error_rate * 100.0
                    ));
                }
            }
            text
        },
    );
    Ok(ExitCode::SUCCESS)
}
