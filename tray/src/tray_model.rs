//! The tray menu as data: a pure function of [`Status`], so what the tray shows is
//! unit-tested without a display. `tray.rs` turns the model into dbusmenu items, and
//! a click comes back as a [`MenuCommand`].

use crate::i18n::{Lang, Text};
use crate::status::Status;

/// Which tray icon to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrayIcon {
    /// Nothing running, nothing wrong.
    Idle,
    /// An agent is working.
    Busy,
    /// Something needs the user's attention.
    Alert,
}

/// One entry of the tray menu.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrayItem {
    /// A line of text that cannot be clicked.
    Label(String),
    /// A clickable entry.
    Action {
        /// What a click does.
        command: MenuCommand,
        /// The text shown.
        text: String,
    },
    /// A check item: one preset of an agent, checked when it is the active one.
    Check {
        /// What a click does.
        command: MenuCommand,
        /// The text shown.
        text: String,
        /// Whether it is checked.
        checked: bool,
    },
    /// A submenu.
    Submenu {
        /// Its title.
        text: String,
        /// Its items.
        items: Vec<TrayItem>,
    },
    /// A separator line.
    Separator,
}

/// What a menu click asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MenuCommand {
    /// Show the dashboard.
    Open,
    /// Show the dashboard's task launcher.
    Launch,
    /// Show one task's page in the dashboard.
    OpenTask(String),
    /// Show the dashboard's alerts.
    OpenAlerts,
    /// Quit the app (agents go on in the daemon).
    Quit,
    /// Switch `agent` to `preset` (`aiswitch env switch AGENT PRESET`).
    Switch {
        /// The agent.
        agent: String,
        /// The preset.
        preset: String,
    },
    /// Switch every agent that takes `preset` (`aiswitch env switch --all PRESET`).
    SwitchAll {
        /// The preset.
        preset: String,
    },
    /// Acknowledge every alert.
    AcknowledgeAll,
    /// Hold notifications back, or show them again.
    Pause(Pause),
    /// Stop an agent the daemon runs.
    Stop(String),
    /// Restart an agent the daemon runs.
    Restart(String),
    /// Link the bundled `aiswitch` into `~/.local/bin`.
    InstallCli,
    /// Turn starting at login on or off.
    StartAtLogin,
}

/// How long "Pause notifications" holds them back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pause {
    /// One hour.
    Hour,
    /// Until the next day begins (UTC until the app knows time zones).
    Tomorrow,
    /// Show them again.
    Resume,
}

impl Pause {
    /// Until when, from `now_ms`; `None` for resume.
    pub fn until(self, now_ms: i64) -> Option<i64> {
        const DAY: i64 = 86_400_000;
        match self {
            Self::Hour => Some(now_ms + 3_600_000),
            Self::Tomorrow => Some(now_ms - now_ms.rem_euclid(DAY) + DAY),
            Self::Resume => None,
        }
    }
}

/// The whole tray: icon, tooltip and menu.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrayModel {
    /// The icon.
    pub icon: TrayIcon,
    /// The tooltip, same as the status line.
    pub tooltip: String,
    /// The menu, top to bottom.
    pub items: Vec<TrayItem>,
}

/// Alerts listed in the menu at most.
const ALERTS_SHOWN: usize = 3;
/// Characters of a label before it is shortened.
const LABEL_CHARS: usize = 60;

/// Builds the tray from the engine's status, in `lang`.
pub fn tray_model(status: &Status, lang: Lang) -> TrayModel {
    let line = status_line(status, lang);
    let mut items = vec![TrayItem::Label(line.clone())];
    if let Some(budget) = &status.tightest_budget {
        items.push(TrayItem::Label(budget_line(budget, lang)));
    }
    if let Some(window) = &status.tightest_window {
        items.push(TrayItem::Label(quota_line(window, lang)));
    }
    if let Some(notice) = status.problems.first() {
        let notice = shorten(notice, LABEL_CHARS);
        items.push(TrayItem::Label(format!("⚠ {notice}")));
    }
    if let Some(info) = &status.info {
        // Room for a path and what to do about it.
        items.push(TrayItem::Label(shorten(info, 2 * LABEL_CHARS)));
    }
    items.push(TrayItem::Separator);
    items.push(provider_menu(status, lang));
    if !status.running.is_empty() {
        items.push(agents_menu(status, lang));
    }
    if !status.alerts.is_empty() {
        items.push(alerts_menu(status, lang));
    }
    items.push(action(MenuCommand::Launch, lang.text(Text::LaunchTask)));
    if !status.tasks.is_empty() {
        items.push(tasks_menu(status, lang));
    }
    items.extend([
        TrayItem::Separator,
        action(MenuCommand::Open, lang.text(Text::OpenDashboard)),
        pause_menu(status, lang),
        TrayItem::Check {
            command: MenuCommand::StartAtLogin,
            text: lang.text(Text::StartAtLogin).into(),
            checked: status.start_at_login,
        },
        action(MenuCommand::InstallCli, lang.text(Text::InstallCli)),
        TrayItem::Separator,
        action(MenuCommand::Quit, lang.text(Text::Quit)),
    ]);
    let busy = status
        .running
        .iter()
        .any(|a| a.state == aiswitch::supervisor::AgentState::Busy);
    let icon = if !status.alerts.is_empty() || !status.problems.is_empty() {
        TrayIcon::Alert
    } else if busy {
        TrayIcon::Busy
    } else {
        TrayIcon::Idle
    };
    TrayModel {
        icon,
        tooltip: line,
        items,
    }
}

fn action(command: MenuCommand, text: &str) -> TrayItem {
    TrayItem::Action {
        command,
        text: text.to_owned(),
    }
}

/// `aiswitch · deepseek · 1 busy, 2 idle · today 12,345 tokens, $0.04`.
fn status_line(status: &Status, lang: Lang) -> String {
    use aiswitch::supervisor::AgentState;
    let preset = status
        .current
        .as_deref()
        .unwrap_or(lang.text(Text::NoPreset));
    let mut line = format!("aiswitch · {}", shorten(preset, 24));
    if !status.running.is_empty() {
        let busy = status
            .running
            .iter()
            .filter(|a| a.state == AgentState::Busy)
            .count();
        let idle = status
            .running
            .iter()
            .filter(|a| a.state == AgentState::Idle)
            .count();
        line.push_str(&format!(
            " · {busy} {}, {idle} {}",
            lang.text(Text::Busy),
            lang.text(Text::Idle)
        ));
    }
    if let Some(today) = &status.today {
        line.push_str(&format!(
            " · {} {} {}, ${:.2}",
            lang.text(Text::Today),
            thousands(today.tokens.total()),
            lang.text(Text::Tokens),
            today.cost_usd
        ));
    }
    line
}

/// `$12.40 of $20 this month (62 %)`, or tokens for a token budget.
fn budget_line(budget: &aiswitch::store::BudgetStatus, lang: Lang) -> String {
    use aiswitch::budget::{Limit, Period};
    let period = lang.text(match budget.budget.period {
        Period::Day => Text::ThisDay,
        Period::Week => Text::ThisWeek,
        Period::Month => Text::ThisMonth,
    });
    let spent = match budget.budget.limit {
        Limit::Usd(limit) => format!("${:.2} / ${limit}", budget.spent),
        Limit::Tokens(limit) => format!(
            "{} / {} {}",
            thousands(budget.spent as u64),
            thousands(limit),
            lang.text(Text::Tokens)
        ),
    };
    format!(
        "{}: {spent} {period} ({:.0} %)",
        lang.text(Text::Budget),
        budget.percent
    )
}

/// `claude-max 5h 62 %, resets 14:05`.
fn quota_line(window: &crate::status::QuotaLine, lang: Lang) -> String {
    let resets = window
        .resets
        .as_ref()
        .map(|at| format!(", {} {at}", lang.text(Text::Resets)))
        .unwrap_or_default();
    shorten(
        &format!(
            "{} {} {:.0} %{resets}",
            window.preset, window.window, window.used_percent
        ),
        LABEL_CHARS,
    )
}

/// Provider → one submenu per installed agent (its usable presets, the active one
/// checked) and "All agents".
fn provider_menu(status: &Status, lang: Lang) -> TrayItem {
    let mut items: Vec<TrayItem> = status
        .agents
        .iter()
        .map(|agent| TrayItem::Submenu {
            text: shorten(&agent.name, LABEL_CHARS),
            items: if agent.presets.is_empty() {
                vec![TrayItem::Label(lang.text(Text::NoUsablePreset).into())]
            } else {
                agent
                    .presets
                    .iter()
                    .map(|preset| TrayItem::Check {
                        command: MenuCommand::Switch {
                            agent: agent.agent.clone(),
                            preset: preset.clone(),
                        },
                        text: shorten(preset, LABEL_CHARS),
                        checked: agent.active.as_deref() == Some(preset.as_str()),
                    })
                    .collect()
            },
        })
        .collect();
    if items.is_empty() {
        items.push(TrayItem::Label(lang.text(Text::NoAgentInstalled).into()));
    } else if !status.presets.is_empty() {
        items.push(TrayItem::Separator);
        items.push(TrayItem::Submenu {
            text: lang.text(Text::AllAgents).into(),
            items: status
                .presets
                .iter()
                .map(|p| {
                    action(
                        MenuCommand::SwitchAll {
                            preset: p.name.clone(),
                        },
                        &shorten(&p.name, LABEL_CHARS),
                    )
                })
                .collect(),
        });
    }
    TrayItem::Submenu {
        text: lang.text(Text::Provider).into(),
        items,
    }
}

/// Alerts (N) → the latest ones and "Acknowledge all".
fn alerts_menu(status: &Status, lang: Lang) -> TrayItem {
    let mut items: Vec<TrayItem> = status
        .alerts
        .iter()
        .take(ALERTS_SHOWN)
        .map(|a| action(MenuCommand::OpenAlerts, &shorten(&a.message, LABEL_CHARS)))
        .collect();
    items.push(TrayItem::Separator);
    items.push(action(
        MenuCommand::AcknowledgeAll,
        lang.text(Text::AcknowledgeAll),
    ));
    TrayItem::Submenu {
        text: format!("{} ({})", lang.text(Text::Alerts), status.alerts.len()),
        items,
    }
}

/// Agents → one submenu per agent the daemon runs (its state) with Stop and Restart.
fn agents_menu(status: &Status, lang: Lang) -> TrayItem {
    let items = status
        .running
        .iter()
        .map(|agent| TrayItem::Submenu {
            text: format!(
                "{} · {}",
                shorten(&agent.agent, LABEL_CHARS),
                agent.state.as_str()
            ),
            items: vec![
                action(
                    MenuCommand::Stop(agent.agent.clone()),
                    lang.text(Text::Stop),
                ),
                action(
                    MenuCommand::Restart(agent.agent.clone()),
                    lang.text(Text::Restart),
                ),
            ],
        })
        .collect();
    TrayItem::Submenu {
        text: lang.text(Text::Agents).into(),
        items,
    }
}

/// Recent tasks → the latest three with their state and prompt.
fn tasks_menu(status: &Status, lang: Lang) -> TrayItem {
    let items = status
        .tasks
        .iter()
        .map(|task| {
            let prompt = task.prompt.lines().next().unwrap_or_default();
            let text = format!("{} · {} · {prompt}", task.id, task.status.as_str());
            action(
                MenuCommand::OpenTask(task.id.clone()),
                &shorten(&text, LABEL_CHARS),
            )
        })
        .collect();
    TrayItem::Submenu {
        text: lang.text(Text::RecentTasks).into(),
        items,
    }
}

/// Pause notifications → for an hour / until tomorrow, or Resume while paused.
fn pause_menu(status: &Status, lang: Lang) -> TrayItem {
    let items = if status.notifications_paused {
        vec![
            TrayItem::Label(lang.text(Text::NotificationsPaused).into()),
            action(MenuCommand::Pause(Pause::Resume), lang.text(Text::Resume)),
        ]
    } else {
        vec![
            action(MenuCommand::Pause(Pause::Hour), lang.text(Text::PauseHour)),
            action(
                MenuCommand::Pause(Pause::Tomorrow),
                lang.text(Text::PauseTomorrow),
            ),
        ]
    };
    TrayItem::Submenu {
        text: lang.text(Text::PauseNotifications).into(),
        items,
    }
}

fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let cut: String = text.chars().take(max - 1).collect();
    format!("{cut}…")
}

/// `12345678` as `12,345,678`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests;
