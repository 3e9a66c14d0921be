//! `budget set | list | remove` and `alerts [list] | ack`.

use std::process::ExitCode;

use aiswitch::budget::{Limit, Period};
use aiswitch::engine::BudgetRequest;
use clap::{Args, Subcommand};
use comfy_table::{Table, presets::NOTHING};
use serde_json::json;

use super::output::{CliError, Output, engine, render};

/// Spending limits per day, week or month, with alerts and an optional hard stop.
#[derive(Debug, Args)]
pub struct BudgetArgs {
    #[command(subcommand)]
    command: BudgetCommand,
}

#[derive(Debug, Subcommand)]
enum BudgetCommand {
    Set(SetArgs),
    List(ListArgs),
    Remove(RemoveArgs),
}

/// Add a budget, or with --id change one. With --hard-stop, runs that would go over
/// are refused before they start (an estimate is reserved for runs in flight).
///
/// Examples: aiswitch budget set --scope preset:deepseek --period month --limit-usd 20 --hard-stop
///           aiswitch budget set --id 2 --period month --limit-usd 30
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
struct SetArgs {
    /// Change budget ID (from `budget list`) to these settings instead of adding one;
    /// its scope and thresholds stay unless given, and what it spent so far stays.
    #[arg(long, value_name = "ID")]
    id: Option<i64>,
    /// global, agent:NAME or preset:NAME [default: global].
    #[arg(long)]
    scope: Option<String>,
    /// day, week (from Monday) or month, in your time zone (the `timezone` setting).
    #[arg(long, value_enum)]
    period: Period,
    /// The limit in USD.
    #[arg(
        long,
        required_unless_present = "limit_tokens",
        conflicts_with = "limit_tokens",
        allow_negative_numbers = true
    )]
    limit_usd: Option<f64>,
    /// The limit in tokens (input + output + cache).
    #[arg(long)]
    limit_tokens: Option<u64>,
    /// Percents of the limit that raise an alert, once each per period [default: 80,100].
    #[arg(long)]
    thresholds: Option<String>,
    /// Refuse new runs that would go over the limit.
    #[arg(long)]
    hard_stop: bool,
    /// With --limit-usd and --hard-stop: also refuse runs that cannot be priced (a
    /// model with no price, from an agent that reports no cost). Without it such runs
    /// go ahead, are listed as unpriced, and raise an alert once a period.
    #[arg(long)]
    refuse_unpriced: bool,
}

/// Budgets with what is spent this period.
///
/// Example: aiswitch budget list
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
struct ListArgs {}

/// Remove a budget.
///
/// Example: aiswitch budget remove 2
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
struct RemoveArgs {
    /// The budget's id (see `budget list`).
    id: i64,
}

pub fn budget(args: BudgetArgs, out: &Output) -> Result<ExitCode, CliError> {
    let engine = engine()?;
    match args.command {
        BudgetCommand::Set(a) => {
            // Changing a budget keeps what was not given; adding one takes defaults.
            let kept = a.id.map(|id| engine.budget(id)).transpose()?;
            let scope = a
                .scope
                .or_else(|| kept.as_ref().map(|b| b.scope.to_string()))
                .unwrap_or_else(|| "global".into());
            let thresholds = a
                .thresholds
                .or_else(|| {
                    kept.as_ref().map(|b| {
                        let parts: Vec<String> =
                            b.thresholds.iter().map(ToString::to_string).collect();
                        parts.join(",")
                    })
                })
                .unwrap_or_else(|| "80,100".into());
            let request = BudgetRequest {
                scope,
                period: a.period,
                limit_usd: a.limit_usd,
                limit_tokens: a.limit_tokens,
                thresholds,
                hard_stop: a.hard_stop,
                refuse_unpriced: a.refuse_unpriced,
            };
            let id = match a.id {
                Some(id) => {
                    engine.update_budget(id, &request)?;
                    id
                }
                None => engine.set_budget(&request)?,
            };
            out.emit(&json!({ "id": id }), || format!("budget {id} set"));
        }
        BudgetCommand::List(_) => {
            let statuses = engine.budget_statuses()?;
            out.emit(&json!({ "budgets": statuses }), || {
                if statuses.is_empty() {
                    return "no budgets: set one with `aiswitch budget set --period month --limit-usd 20`".into();
                }
                let mut table = Table::new();
                table.load_preset(NOTHING);
                table.set_header(["ID", "SCOPE", "PERIOD", "SPENT", "LIMIT", "%", "HARD STOP", "THRESHOLDS"]);
                for s in &statuses {
                    let (spent, limit) = match s.budget.limit {
                        // Runs with no price are not in the dollars: say how many.
                        Limit::Usd(l) if s.unpriced_runs > 0 => (
                            format!(
                                "${:.4} + {} unpriced run(s), {} tokens",
                                s.spent, s.unpriced_runs, s.tokens
                            ),
                            format!("${l:.2}"),
                        ),
                        Limit::Usd(l) => (format!("${:.4}", s.spent), format!("${l:.2}")),
                        Limit::Tokens(l) => (format!("{:.0}", s.spent), format!("{l} tokens")),
                    };
                    let thresholds: Vec<String> = s.budget.thresholds.iter().map(ToString::to_string).collect();
                    table.add_row([
                        s.budget.id.to_string(),
                        s.budget.scope.to_string(),
                        s.budget.period.as_str().to_owned(),
                        spent,
                        limit,
                        format!("{:.0}", s.percent),
                        match (s.budget.hard_stop, s.budget.refuse_unpriced) {
                            (true, true) => "yes, unpriced too",
                            (true, false) => "yes",
                            (false, _) => "no",
                        }
                        .to_owned(),
                        thresholds.join(","),
                    ]);
                }
                render(&table)
            });
        }
        BudgetCommand::Remove(a) => {
            engine.remove_budget(a.id)?;
            out.emit(&json!({ "removed": a.id }), || {
                format!("budget {} removed", a.id)
            });
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Alerts: budget thresholds and, as they come, agent crashes and failed tasks.
#[derive(Debug, Args)]
pub struct AlertsArgs {
    #[command(subcommand)]
    command: Option<AlertsCommand>,
    /// Acknowledged alerts too.
    #[arg(long)]
    all: bool,
}

#[derive(Debug, Subcommand)]
enum AlertsCommand {
    List(AlertListArgs),
    Ack(AckArgs),
}

/// Unacknowledged alerts (all with --all), newest first.
///
/// Example: aiswitch alerts list --all
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
struct AlertListArgs {
    /// Acknowledged alerts too.
    #[arg(long)]
    all: bool,
}

/// Acknowledge an alert, or all of them.
///
/// Example: aiswitch alerts ack --all
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
struct AckArgs {
    /// The alert's id.
    #[arg(required_unless_present = "all", conflicts_with = "all")]
    id: Option<i64>,
    /// Every alert.
    #[arg(long)]
    all: bool,
}

pub fn alerts(args: AlertsArgs, out: &Output) -> Result<ExitCode, CliError> {
    let engine = engine()?;
    match args.command {
        Some(AlertsCommand::Ack(a)) => {
            let n = engine.ack_alerts(a.id)?;
            out.emit(&json!({ "acknowledged": n }), || {
                format!("{n} alert(s) acknowledged")
            });
        }
        other => {
            let all = args.all
                || matches!(
                    other,
                    Some(AlertsCommand::List(AlertListArgs { all: true }))
                );
            let alerts = engine.alerts(all)?;
            out.emit(&json!({ "alerts": alerts }), || {
                if alerts.is_empty() {
                    return "no alerts".into();
                }
                alerts
                    .iter()
                    .map(|a| {
                        format!(
                            "{:>4}  {}{}  {}",
                            a.id,
                            a.kind,
                            if a.acked { " (acked)" } else { "" },
                            a.message
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            });
        }
    }
    Ok(ExitCode::SUCCESS)
}
