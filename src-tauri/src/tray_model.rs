//! The tray menu as data: a pure function of [`Status`], so what the tray shows is
//! unit-tested without a display. `tray.rs` turns the model into Tauri menu items, and
//! a click comes back as a [`MenuCommand`].

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

/// What a menu click asks for. Its id is what the menu item carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MenuCommand {
    /// Show the dashboard.
    Open,
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
}

impl MenuCommand {
    /// The menu item id.
    pub fn id(&self) -> String {
        match self {
            Self::Open => "open".into(),
            Self::Quit => "quit".into(),
            Self::Switch { agent, preset } => format!("switch/{agent}/{preset}"),
            Self::SwitchAll { preset } => format!("switch-all/{preset}"),
            Self::AcknowledgeAll => "ack-all".into(),
        }
    }

    /// The command of a menu item id; `None` for labels. Agent ids and preset names
    /// never contain `/`.
    pub fn parse(id: &str) -> Option<Self> {
        let mut parts = id.split('/');
        let command = match (parts.next()?, parts.next(), parts.next()) {
            ("open", None, None) => Self::Open,
            ("quit", None, None) => Self::Quit,
            ("ack-all", None, None) => Self::AcknowledgeAll,
            ("switch", Some(agent), Some(preset)) => Self::Switch {
                agent: agent.to_owned(),
                preset: preset.to_owned(),
            },
            ("switch-all", Some(preset), None) => Self::SwitchAll {
                preset: preset.to_owned(),
            },
            _ => return None,
        };
        parts.next().is_none().then_some(command)
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

/// Builds the tray from the engine's status.
pub fn tray_model(status: &Status) -> TrayModel {
    let line = status_line(status);
    let mut items = vec![TrayItem::Label(line.clone())];
    if let Some(budget) = &status.tightest_budget {
        items.push(TrayItem::Label(budget_line(budget)));
    }
    if let Some(notice) = status.problems.first() {
        items.push(TrayItem::Label(format!(
            "⚠ {}",
            shorten(notice, LABEL_CHARS)
        )));
    }
    items.push(TrayItem::Separator);
    items.push(provider_menu(status));
    if !status.alerts.is_empty() {
        items.push(alerts_menu(status));
    }
    items.extend([
        TrayItem::Separator,
        action(MenuCommand::Open, "Open dashboard"),
        TrayItem::Separator,
        action(MenuCommand::Quit, "Quit"),
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

/// `aiswitch · deepseek · 1 busy, 2 idle · today 12,345 tokens, $0.0420`.
fn status_line(status: &Status) -> String {
    use aiswitch::supervisor::AgentState;
    let preset = status.current.as_deref().unwrap_or("no preset");
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
        line.push_str(&format!(" · {busy} busy, {idle} idle"));
    }
    if let Some(today) = &status.today {
        line.push_str(&format!(
            " · today {} tokens, ${:.2}",
            thousands(today.tokens.total()),
            today.cost_usd
        ));
    }
    line
}

/// `$12.40 of $20 this month (62 %)`, or tokens for a token budget.
fn budget_line(budget: &aiswitch::store::BudgetStatus) -> String {
    use aiswitch::budget::{Limit, Period};
    let period = match budget.budget.period {
        Period::Day => "today",
        Period::Week => "this week",
        Period::Month => "this month",
    };
    let spent = match budget.budget.limit {
        Limit::Usd(limit) => format!("${:.2} of ${limit}", budget.spent),
        Limit::Tokens(limit) => format!(
            "{} of {} tokens",
            thousands(budget.spent as u64),
            thousands(limit)
        ),
    };
    format!("Budget: {spent} {period} ({:.0} %)", budget.percent)
}

/// Provider → one submenu per installed agent (its usable presets, the active one
/// checked) and "All agents".
fn provider_menu(status: &Status) -> TrayItem {
    let mut items: Vec<TrayItem> = status
        .agents
        .iter()
        .map(|agent| TrayItem::Submenu {
            text: shorten(&agent.name, LABEL_CHARS),
            items: if agent.presets.is_empty() {
                vec![TrayItem::Label("no preset of a kind it takes".into())]
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
        items.push(TrayItem::Label("no agent installed".into()));
    } else if !status.presets.is_empty() {
        items.push(TrayItem::Separator);
        items.push(TrayItem::Submenu {
            text: "All agents".into(),
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
        text: "Provider".into(),
        items,
    }
}

/// Alerts (N) → the latest ones and "Acknowledge all".
fn alerts_menu(status: &Status) -> TrayItem {
    let mut items: Vec<TrayItem> = status
        .alerts
        .iter()
        .take(ALERTS_SHOWN)
        .map(|a| TrayItem::Label(shorten(&a.message, LABEL_CHARS)))
        .collect();
    items.push(TrayItem::Separator);
    items.push(action(MenuCommand::AcknowledgeAll, "Acknowledge all"));
    TrayItem::Submenu {
        text: format!("Alerts ({})", status.alerts.len()),
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
