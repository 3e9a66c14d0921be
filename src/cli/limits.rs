//! `limits`: the providers' quota windows as the gateway last read them from the
//! rate-limit headers of real responses (Claude's 5-hour and weekly windows,
//! Codex's primary and secondary, per-minute request and token limits).

use std::process::ExitCode;

use aiswitch::engine::QuotaView;
use aiswitch::store::now_ms;
use clap::Args;
use comfy_table::{Table, presets::NOTHING};

use super::output::{CliError, Output, engine, render};

/// Quota windows: how much of each is used, when it resets, and the pace
///
/// Read by the provider gateway from every response's rate-limit headers, so a
/// window appears after the first request through a preset that reports one.
///
/// Example: aiswitch limits --json
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct LimitsArgs {
    /// Only this preset's windows.
    #[arg(long)]
    preset: Option<String>,
}

pub fn limits(args: LimitsArgs, out: &Output) -> Result<ExitCode, CliError> {
    let engine = engine()?;
    let now = now_ms();
    let mut windows = engine.limits(now)?;
    if let Some(preset) = &args.preset {
        windows.retain(|w| &w.row.preset == preset);
    }
    let calendar = engine.calendar().clone();
    out.emit(&serde_json::json!({ "windows": windows }), || {
        if windows.is_empty() {
            return "No quota windows seen yet: they appear after the first request through the \
                    gateway to a provider that reports them (Anthropic, Codex, OpenAI)."
                .to_owned();
        }
        let mut table = Table::new();
        table.load_preset(NOTHING);
        table.set_header(["PRESET", "WINDOW", "USED", "RESETS", "PACE"]);
        for w in &windows {
            table.add_row([
                w.row.preset.clone(),
                w.row.window.window.clone(),
                format!("{:.0} %", w.row.window.used_percent),
                resets(w, &calendar, now),
                pace(w, &calendar),
            ]);
        }
        render(&table)
    });
    Ok(ExitCode::SUCCESS)
}

fn resets(w: &QuotaView, calendar: &aiswitch::calendar::Calendar, now: i64) -> String {
    match w.row.window.resets_at_ms {
        _ if w.reset_passed => "reset since".to_owned(),
        Some(at) if calendar.day_key(at) == calendar.day_key(now) => calendar.clock(at),
        Some(at) => format!("{} {}", calendar.day_key(at), calendar.clock(at)),
        None => "-".to_owned(),
    }
}

fn pace(w: &QuotaView, calendar: &aiswitch::calendar::Calendar) -> String {
    match (w.runs_out_at_ms, w.projected_percent) {
        (Some(at), _) => format!("runs out {} at this pace", calendar.clock(at)),
        (None, Some(p)) => format!("{p:.0} % by the reset"),
        (None, None) => "-".to_owned(),
    }
}
