//! What the desktop app knows about the engine at one moment, read through the
//! engine API. Both the tray model and the dashboard are built from it.

use aiswitch::engine::AgentProviders;
use aiswitch::presets::PresetView;
use aiswitch::store::{AlertRow, BudgetStatus, TaskRow, UsageFilter, UsageGroup};
use aiswitch::{AgentStatusView, Engine};
use serde::Serialize;

/// A quota window as the tray shows it: `claude-max 5h 62 %, resets 14:05`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct QuotaLine {
    /// The preset (the provider account).
    pub preset: String,
    /// The window (`5h`, `7d`, `primary`, ...).
    pub window: String,
    /// How much is used, 0-100.
    pub used_percent: f64,
    /// When it resets, as `HH:MM` in the user's time zone (with the date when not
    /// today).
    pub resets: Option<String>,
}

/// A snapshot of engine state for the tray and the dashboard.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Status {
    /// The aiswitch version.
    pub version: String,
    /// Every readable preset, secrets redacted.
    pub presets: Vec<PresetView>,
    /// The current preset, if any.
    pub current: Option<String>,
    /// Installed agents with the presets they can switch to.
    pub agents: Vec<AgentProviders>,
    /// The agents the engine host runs, with their states.
    pub running: Vec<AgentStatusView>,
    /// Unacknowledged alerts, newest first.
    pub alerts: Vec<AlertRow>,
    /// The latest tasks, newest first.
    pub tasks: Vec<TaskRow>,
    /// Today's usage (UTC day), when any.
    pub today: Option<UsageGroup>,
    /// The budget closest to its limit, when any.
    pub tightest_budget: Option<BudgetStatus>,
    /// The provider quota window closest to running out, when the gateway has seen
    /// one that has not reset since.
    pub tightest_window: Option<QuotaLine>,
    /// Problems to show: corrupt preset files, unreadable directories, no daemon.
    pub problems: Vec<String>,
    /// Whether desktop notifications are paused.
    pub notifications_paused: bool,
    /// What the last tray action did, when it worked and has something to say.
    pub info: Option<String>,
    /// Whether the app starts at login (in the tray).
    pub start_at_login: bool,
}

impl Status {
    /// Reads the engine's state; failures become problems, never a crash. `running`
    /// comes from the engine host and is filled in by the caller.
    pub fn read(engine: &Engine) -> Self {
        let mut status = Self {
            version: aiswitch::VERSION.to_owned(),
            ..Self::default()
        };
        match engine.preset_overview() {
            Ok(overview) => {
                status.current = overview.current;
                status.presets = overview.presets;
                status
                    .problems
                    .extend(overview.problems.into_iter().map(|p| p.error));
            }
            Err(err) => status_problem(&mut status.problems, err),
        }
        match engine.providers() {
            Ok(agents) => status.agents = agents,
            Err(err) => status_problem(&mut status.problems, err),
        }
        match engine.list_tasks(None, 3) {
            Ok(tasks) => status.tasks = tasks,
            Err(err) => status_problem(&mut status.problems, err),
        }
        match engine.alerts(false) {
            Ok(alerts) => status.alerts = alerts,
            Err(err) => status_problem(&mut status.problems, err),
        }
        let now = aiswitch::store::now_ms();
        let today = UsageFilter {
            since_ms: Some(now - now.rem_euclid(86_400_000)),
            ..UsageFilter::default()
        };
        match engine.usage_report(&today, None) {
            Ok(report) => status.today = report.total.filter(|t| t.runs > 0),
            Err(err) => status_problem(&mut status.problems, err),
        }
        match engine.limits(now) {
            Ok(windows) => {
                let calendar = engine.calendar();
                status.tightest_window = windows
                    .into_iter()
                    .filter(|w| !w.reset_passed)
                    .max_by(|a, b| {
                        a.row
                            .window
                            .used_percent
                            .total_cmp(&b.row.window.used_percent)
                    })
                    .map(|w| QuotaLine {
                        resets: w.row.window.resets_at_ms.map(|at| {
                            if calendar.day_key(at) == calendar.day_key(now) {
                                calendar.clock(at)
                            } else {
                                format!("{} {}", calendar.day_key(at), calendar.clock(at))
                            }
                        }),
                        preset: w.row.preset,
                        window: w.row.window.window,
                        used_percent: w.row.window.used_percent,
                    });
            }
            Err(err) => status_problem(&mut status.problems, err),
        }
        match engine.budget_statuses() {
            Ok(budgets) => {
                status.tightest_budget = budgets
                    .into_iter()
                    .max_by(|a, b| a.percent.total_cmp(&b.percent));
            }
            Err(err) => status_problem(&mut status.problems, err),
        }
        status
    }
}

fn status_problem(problems: &mut Vec<String>, err: aiswitch::Error) {
    problems.push(err.to_string());
}
