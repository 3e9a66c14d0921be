//! `tokens summary | daily | weekly | monthly | blocks | reprice`: the usage ledger
//! summed by agent, preset, model, day, week or month, and in 5-hour blocks.

use std::process::ExitCode;

use aiswitch::Engine;
use aiswitch::engine::ExportFormat;
use aiswitch::store::{GroupBy, UsageFilter, UsageGroup, now_ms};
use aiswitch::usage::blocks::Block;
use aiswitch::usage::{TimeError, Timeframe, timeframe_start};
use clap::{Args, Subcommand};
use comfy_table::{Table, presets::NOTHING};
use serde_json::json;

use super::output::{CliError, Output, engine, render};

/// Tokens and cost of every run aiswitch made, from the local ledger.
#[derive(Debug, Args)]
pub struct TokensArgs {
    #[command(subcommand)]
    command: TokensCommand,
}

#[derive(Debug, Subcommand)]
enum TokensCommand {
    Summary(SummaryArgs),
    /// Usage per calendar day in your time zone (the last 30 days unless told otherwise).
    ///
    /// Example: aiswitch tokens daily --breakdown
    #[command(verbatim_doc_comment)]
    Daily(PeriodArgs),
    /// Usage per calendar week, from the `week_start` setting's day (Monday).
    ///
    /// Example: aiswitch tokens weekly --all
    #[command(verbatim_doc_comment)]
    Weekly(PeriodArgs),
    /// Usage per calendar month in your time zone.
    ///
    /// Example: aiswitch tokens monthly --all --json
    #[command(verbatim_doc_comment)]
    Monthly(PeriodArgs),
    /// Usage per CLI session (Claude's session id, Codex's thread, the ACP session),
    /// from aiswitch's runs and the imported logs alike.
    ///
    /// Example: aiswitch tokens sessions --since 7d --breakdown
    #[command(verbatim_doc_comment)]
    Sessions(PeriodArgs),
    Blocks(BlocksArgs),
    Export(ExportArgs),
    Reprice(RepriceArgs),
}

/// Write the ledger out, one row per usage event in time order: CSV with a header
/// (for a spreadsheet) or JSON Lines. The whole ledger unless --since, --timeframe or
/// --until narrow it. Columns: docs/usage-export.md.
///
/// Examples: aiswitch tokens export --format csv > usage.csv
///           aiswitch tokens export --format jsonl --since 2026-11-01 --output nov.jsonl
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
struct ExportArgs {
    #[command(flatten)]
    filters: Filters,
    /// csv or jsonl.
    #[arg(long, value_enum)]
    format: ExportFormat,
    /// Write to this file (replaced when it exists) instead of standard output.
    #[arg(long, value_name = "FILE")]
    output: Option<std::path::PathBuf>,
}

/// Recompute costs with the current price table and preset price overrides (costs
/// the agents reported stay as they were).
///
/// Example: aiswitch tokens reprice --since 2026-11-01
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
struct RepriceArgs {
    /// Only usage from this time on (a date, date-time or duration ago).
    #[arg(long)]
    since: Option<String>,
}

/// Sum tokens and cost, optionally grouped; the last 30 days unless told otherwise.
///
/// Example: aiswitch tokens summary --timeframe week --by model
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
struct SummaryArgs {
    #[command(flatten)]
    filters: Filters,
    /// Group by agent, preset, model, day, week, month or session.
    #[arg(long, value_enum)]
    by: Option<GroupBy>,
}

/// The options of the per-period and per-session reports.
#[derive(Debug, Args)]
struct PeriodArgs {
    #[command(flatten)]
    filters: Filters,
    /// Each period split by model.
    #[arg(long)]
    breakdown: bool,
}

/// 5-hour blocks (the windows Claude's plans meter by): each block's tokens and cost,
/// its burn rate, and for the block running now where that rate ends it.
///
/// Example: aiswitch tokens blocks --active
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
struct BlocksArgs {
    #[command(flatten)]
    filters: Filters,
    /// Only the block running now.
    #[arg(long)]
    active: bool,
}

/// Which usage a report covers.
#[derive(Debug, Args)]
struct Filters {
    /// The whole ledger (no time limit).
    #[arg(long, conflicts_with_all = ["timeframe", "since"])]
    all: bool,
    /// Only this agent.
    #[arg(long)]
    agent: Option<String>,
    /// Only this preset.
    #[arg(long)]
    preset: Option<String>,
    /// Only this model.
    #[arg(long)]
    model: Option<String>,
    /// Only usage in this project: a directory (`.`, a path) or a folder name that
    /// matches the last part of one (`shop` matches /work/shop). Imported logs of
    /// Claude Code, Codex and OpenCode say where they ran; Gemini's and Qwen's do not.
    #[arg(long, value_name = "DIR")]
    project: Option<String>,
    /// The last hour, or today, this week or this month in your time zone.
    #[arg(long, value_enum, conflicts_with = "since")]
    timeframe: Option<Timeframe>,
    /// Days, weeks, months and dates in this time zone (an IANA name such as
    /// Asia/Shanghai, UTC, or system); default: the `timezone` setting, else the
    /// system's.
    #[arg(long, value_name = "ZONE")]
    timezone: Option<String>,
    /// From: a date (2026-11-01), a date and time (2026-11-01T14:00, in your time
    /// zone unless it ends with Z or +08:00) or a duration ago (30m, 12h, 7d).
    #[arg(long)]
    since: Option<String>,
    /// Until (same formats; default now).
    #[arg(long)]
    until: Option<String>,
}

impl Filters {
    /// The engine in the chosen time zone, and the filter in it.
    fn resolve(self) -> Result<(Engine, UsageFilter), CliError> {
        let engine = match &self.timezone {
            Some(zone) => engine()?
                .in_zone(zone)
                .map_err(|e| CliError::Usage(e.to_string()))?,
            None => engine()?,
        };
        let calendar = engine.calendar();
        let now = now_ms();
        let time = |t: &str| {
            calendar
                .parse_time(t, now)
                .map_err(|e| CliError::Usage(e.to_string()))
        };
        let since = match (&self.since, self.timeframe, self.all) {
            (Some(since), _, _) => Some(time(since)?),
            (None, Some(frame), _) => Some(timeframe_start(frame, now, calendar)),
            (None, None, true) => None,
            (None, None, false) => Some(now - 30 * 86_400_000),
        };
        let until = self.until.as_deref().map(time).transpose()?;
        if let (Some(s), Some(u)) = (since, until)
            && s > u
        {
            return Err(CliError::Usage(TimeError::Reversed.to_string()));
        }
        let filter = UsageFilter {
            agent: self.agent,
            preset: self.preset,
            model: self.model,
            since_ms: since,
            until_ms: until,
            project: self.project.as_deref().map(project_key),
        };
        Ok((engine, filter))
    }
}

/// What `--project` matches: an existing directory given as a path (`.`, `../shop`,
/// `/work/shop`) becomes its full path; a bare name matches the last part of one.
fn project_key(given: &str) -> String {
    let path = std::path::Path::new(given);
    let is_path = given.contains('/') || given == "." || given == "..";
    match is_path.then(|| path.canonicalize()).and_then(Result::ok) {
        Some(full) => full.display().to_string(),
        None => given.trim_end_matches('/').to_owned(),
    }
}

pub fn tokens(args: TokensArgs, out: &Output) -> Result<ExitCode, CliError> {
    match args.command {
        TokensCommand::Summary(args) => {
            let (engine, filter) = args.filters.resolve()?;
            let report = engine.usage_report(&filter, args.by)?;
            out.emit(&report, || {
                table(&report.groups, report.total.as_ref(), args.by.is_some())
            });
        }
        TokensCommand::Daily(args) => periods(args, GroupBy::Day, out)?,
        TokensCommand::Weekly(args) => periods(args, GroupBy::Week, out)?,
        TokensCommand::Monthly(args) => periods(args, GroupBy::Month, out)?,
        TokensCommand::Sessions(args) => periods(args, GroupBy::Session, out)?,
        TokensCommand::Blocks(args) => {
            let (engine, filter) = args.filters.resolve()?;
            let mut blocks = engine.usage_blocks(&filter)?;
            if args.active {
                blocks.retain(|b| b.active);
            }
            out.emit(&json!({ "blocks": blocks }), || {
                blocks_table(&blocks, engine.calendar())
            });
        }
        TokensCommand::Export(mut args) => {
            args.filters.all = args.filters.since.is_none() && args.filters.timeframe.is_none();
            let (engine, filter) = args.filters.resolve()?;
            let rows = match &args.output {
                Some(path) => {
                    // Written beside the target and renamed: a failed export leaves
                    // no half file where the old one was.
                    let dir = path
                        .parent()
                        .filter(|d| !d.as_os_str().is_empty())
                        .unwrap_or(std::path::Path::new("."));
                    let cannot = |e: std::io::Error| {
                        CliError::Failed(format!("cannot write {}: {e}", path.display()))
                    };
                    let file = tempfile::NamedTempFile::new_in(dir).map_err(cannot)?;
                    let rows = engine.export_usage(&filter, args.format, file.as_file())?;
                    file.persist(path).map_err(|e| cannot(e.error))?;
                    rows
                }
                None => engine.export_usage(&filter, args.format, std::io::stdout().lock())?,
            };
            if let Some(path) = &args.output {
                out.emit(&json!({ "rows": rows, "file": path }), || {
                    format!("{rows} usage row(s) written to {}", path.display())
                });
            }
        }
        TokensCommand::Reprice(args) => {
            let engine = engine()?;
            let since = args
                .since
                .as_deref()
                .map(|t| engine.calendar().parse_time(t, now_ms()))
                .transpose()
                .map_err(|e| CliError::Usage(e.to_string()))?;
            let changed = engine.reprice(since)?;
            out.emit(&json!({ "repriced": changed }), || {
                format!("{changed} usage row(s) got a new cost")
            });
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn periods(args: PeriodArgs, by: GroupBy, out: &Output) -> Result<(), CliError> {
    let (engine, filter) = args.filters.resolve()?;
    let report = if args.breakdown {
        engine.usage_report_by_model(&filter, Some(by))?
    } else {
        engine.usage_report(&filter, Some(by))?
    };
    out.emit(&report, || match &report.breakdown {
        None => table(&report.groups, report.total.as_ref(), true),
        Some(split) => {
            let mut rows = Vec::new();
            for (group, models) in report.groups.iter().zip(split) {
                rows.push(group.clone());
                rows.extend(models.models.iter().map(|m| UsageGroup {
                    key: format!("  {}", m.key),
                    ..m.clone()
                }));
            }
            table(&rows, report.total.as_ref(), true)
        }
    });
    Ok(())
}

fn blocks_table(blocks: &[Block], calendar: &aiswitch::calendar::Calendar) -> String {
    if blocks.is_empty() {
        return "no usage in this period".into();
    }
    let mut table = Table::new();
    table.load_preset(NOTHING);
    table.set_header([
        "BLOCK",
        "CALLS",
        "TOKENS",
        "COST",
        "TOKENS/H",
        "$/H",
        "PROJECTED",
    ]);
    for b in blocks {
        let when = format!(
            "{} {}–{}{}",
            calendar.day_key(b.start_ms),
            calendar.clock(b.start_ms),
            calendar.clock(b.end_ms),
            if b.active { " (now)" } else { "" }
        );
        let cost = match b.unpriced_calls {
            0 => usd(b.cost_usd),
            u => format!("{} + {u} unpriced", usd(b.cost_usd)),
        };
        let projected = match (b.projected_tokens, b.projected_usd) {
            (Some(t), Some(c)) => format!("{t} tokens, {}", usd(c)),
            _ => "-".into(),
        };
        table.add_row([
            when,
            b.calls.to_string(),
            b.tokens.to_string(),
            cost,
            format!("{:.0}", b.tokens_per_hour),
            usd(b.usd_per_hour),
            projected,
        ]);
    }
    render(&table)
}

/// USD with enough decimals that a sub-cent cost does not show as $0.0000, and
/// with three significant digits at least, so rows and their total (summed exactly,
/// rounded once) never seem to disagree ($0.0000105 twice is $0.0000210).
pub(super) fn usd(cost: f64) -> String {
    if cost != 0.0 && cost.abs() < 0.01 {
        let magnitude = cost.abs().log10().floor() as i32;
        let decimals = usize::try_from((2 - magnitude).clamp(6, 12)).unwrap_or(6);
        format!("${cost:.decimals$}")
    } else {
        format!("${cost:.4}")
    }
}

fn cost(group: &UsageGroup) -> String {
    match (group.unpriced_runs, group.runs) {
        (u, r) if u == r => "unpriced".into(),
        (0, _) => usd(group.cost_usd),
        (u, _) => format!("{} + {u} unpriced", usd(group.cost_usd)),
    }
}

fn table(groups: &[UsageGroup], total: Option<&UsageGroup>, grouped: bool) -> String {
    let Some(total) = total else {
        return "no usage recorded in this period".into();
    };
    let mut table = Table::new();
    table.load_preset(NOTHING);
    table.set_header([
        "",
        "RUNS",
        "INPUT",
        "OUTPUT",
        "CACHE READ",
        "CACHE WRITE",
        "COST",
    ]);
    let mut add = |key: &str, g: &UsageGroup| {
        table.add_row([
            key.to_owned(),
            g.runs.to_string(),
            g.tokens.input.to_string(),
            g.tokens.output.to_string(),
            g.tokens.cache_read.to_string(),
            g.tokens.cache_write.to_string(),
            cost(g),
        ]);
    };
    if grouped {
        for g in groups {
            add(&g.key, g);
        }
    }
    add("total", total);
    render(&table)
}

#[cfg(test)]
mod tests {
    #[test]
    fn small_costs_keep_three_significant_digits() {
        assert_eq!(super::usd(0.000_010_5), "$0.0000105");
        assert_eq!(super::usd(0.000_010_5 * 2.0), "$0.0000210");
        assert_eq!(super::usd(0.0042), "$0.004200");
        assert_eq!(super::usd(0.000_138), "$0.000138");
        assert_eq!(super::usd(12.5), "$12.5000");
    }
}
