use aiswitch::alerts::AlertKind;
use aiswitch::engine::AgentProviders;
use aiswitch::presets::{Preset, PresetName, PresetView, ProviderKind, Secrets};
use aiswitch::store::AlertRow;
use aiswitch::supervisor::AgentState;

use super::*;
use crate::i18n::Lang;

fn view(name: &str) -> PresetView {
    let preset = Preset::new(PresetName::parse(name).unwrap(), ProviderKind::Anthropic);
    PresetView::new(&preset, false, Secrets::Redact(4))
}

fn agent(id: &str, active: Option<&str>, presets: &[&str]) -> AgentProviders {
    AgentProviders {
        agent: id.into(),
        name: format!("{id} CLI"),
        active: active.map(Into::into),
        presets: presets.iter().map(|p| (*p).to_owned()).collect(),
    }
}

fn running(id: &str, state: AgentState) -> aiswitch::AgentStatusView {
    aiswitch::AgentStatusView {
        agent: id.into(),
        state,
        pid: Some(4242),
        uptime_secs: Some(3),
        restarts: 0,
        cpu_percent: 0.0,
        memory_bytes: 0,
        peak_memory_bytes: 0,
        preset: None,
    }
}

fn submenu<'a>(items: &'a [TrayItem], title: &str) -> &'a [TrayItem] {
    items
        .iter()
        .find_map(|item| match item {
            TrayItem::Submenu { text, items } if text.starts_with(title) => Some(items.as_slice()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no submenu {title} in {items:#?}"))
}

fn checks(items: &[TrayItem]) -> Vec<(String, bool)> {
    items
        .iter()
        .filter_map(|item| match item {
            TrayItem::Check { text, checked, .. } => Some((text.clone(), *checked)),
            _ => None,
        })
        .collect()
}

#[test]
fn no_agents_installed_shows_status_provider_note_and_quit() {
    let model = tray_model(&Status::default(), Lang::En);
    assert_eq!(model.icon, TrayIcon::Idle);
    assert_eq!(
        model.items[0],
        TrayItem::Label("aiswitch · no preset".into())
    );
    let provider = submenu(&model.items, "Provider");
    assert_eq!(provider, [TrayItem::Label("no agent installed".into())]);
    assert!(matches!(
        model.items.last(),
        Some(TrayItem::Action {
            command: MenuCommand::Quit,
            ..
        })
    ));
}

#[test]
fn each_agent_lists_its_usable_presets_with_the_active_one_checked() {
    let status = Status {
        current: Some("work".into()),
        presets: vec![view("work"), view("deepseek"), view("openai-only")],
        agents: vec![
            agent("claude", Some("deepseek"), &["work", "deepseek"]),
            agent("codex", None, &[]),
        ],
        ..Status::default()
    };
    let model = tray_model(&status, Lang::En);
    let provider = submenu(&model.items, "Provider");
    let claude = submenu(provider, "claude CLI");
    assert_eq!(
        checks(claude),
        [("work".to_owned(), false), ("deepseek".to_owned(), true)]
    );
    assert!(matches!(
        &claude[1],
        TrayItem::Check { command: MenuCommand::Switch { agent, preset }, .. }
            if agent == "claude" && preset == "deepseek"
    ));
    let codex = submenu(provider, "codex CLI");
    assert_eq!(
        codex,
        [TrayItem::Label("no preset of a kind it takes".into())]
    );
    let all = submenu(provider, "All agents");
    assert_eq!(all.len(), 3, "every preset: {all:?}");
}

#[test]
fn many_presets_and_long_names_are_all_listed_and_shortened() {
    let long = "a-very-long-preset-name-that-goes-on-and-on-for-far-too-many-characters";
    let names: Vec<String> = (0..40).map(|i| format!("p{i}")).collect();
    let mut all: Vec<&str> = names.iter().map(String::as_str).collect();
    all.push(long);
    let status = Status {
        current: Some(long.into()),
        agents: vec![agent("claude", Some(long), &all)],
        ..Status::default()
    };
    let model = tray_model(&status, Lang::En);
    let TrayItem::Label(line) = &model.items[0] else {
        panic!("a status line first")
    };
    assert!(line.chars().count() < 40, "{line}");
    assert!(line.ends_with('…'), "{line}");
    let claude = submenu(submenu(&model.items, "Provider"), "claude CLI");
    let listed = checks(claude);
    assert_eq!(listed.len(), 41);
    let (text, checked) = listed.last().unwrap();
    assert!(text.ends_with('…') && text.chars().count() == LABEL_CHARS);
    assert!(*checked, "the active one is checked even when shortened");
}

#[test]
fn an_alert_turns_the_icon_and_lists_it_with_acknowledge_all() {
    let status = Status {
        alerts: vec![AlertRow {
            id: 3,
            at_ms: 0,
            kind: AlertKind::AgentCrashed,
            subject: "claude".into(),
            message: "agent claude exited (code Some(3), signal None)".into(),
            acked: false,
        }],
        ..Status::default()
    };
    let model = tray_model(&status, Lang::En);
    assert_eq!(model.icon, TrayIcon::Alert);
    let alerts = submenu(&model.items, "Alerts (1)");
    assert_eq!(
        alerts[0],
        TrayItem::Action {
            command: MenuCommand::OpenAlerts,
            text: "agent claude exited (code Some(3), signal None)".into()
        },
        "a click opens the dashboard's alerts"
    );
    assert!(matches!(
        alerts.last(),
        Some(TrayItem::Action {
            command: MenuCommand::AcknowledgeAll,
            ..
        })
    ));
}

#[test]
fn a_failed_switch_is_shown_and_the_old_preset_stays_checked() {
    let status = Status {
        agents: vec![agent("claude", Some("work"), &["work", "broken"])],
        problems: vec!["switching claude to broken failed at verify: not installed".into()],
        ..Status::default()
    };
    let model = tray_model(&status, Lang::En);
    assert!(model.items.contains(&TrayItem::Label(
        "⚠ switching claude to broken failed at verify: not installed".into()
    )));
    let claude = submenu(submenu(&model.items, "Provider"), "claude CLI");
    assert_eq!(
        checks(claude),
        [("work".to_owned(), true), ("broken".to_owned(), false)]
    );
}

#[test]
fn running_agents_usage_and_the_tightest_budget_are_in_the_status() {
    use aiswitch::budget::{Budget, Limit, Period, Scope};
    let status = Status {
        current: Some("work".into()),
        running: vec![
            running("claude", AgentState::Busy),
            running("codex", AgentState::Idle),
        ],
        today: Some(aiswitch::store::UsageGroup {
            key: String::new(),
            runs: 2,
            tokens: aiswitch::agents::event::TokenCounts {
                input: 12_000,
                output: 345,
                ..Default::default()
            },
            cost_usd: 0.042,
            unpriced_runs: 0,
        }),
        tightest_budget: Some(aiswitch::store::BudgetStatus {
            budget: Budget {
                id: 1,
                scope: Scope::Global,
                period: Period::Month,
                limit: Limit::Usd(20.0),
                thresholds: vec![80],
                hard_stop: false,
                refuse_unpriced: false,
            },
            spent: 12.4,
            percent: 62.0,
            unpriced_runs: 0,
            tokens: 0,
            period_end_ms: 0,
        }),
        tightest_window: Some(crate::status::QuotaLine {
            preset: "claude-max".into(),
            window: "5h".into(),
            used_percent: 62.4,
            resets: Some("14:05".into()),
        }),
        ..Status::default()
    };
    let model = tray_model(&status, Lang::En);
    assert_eq!(model.icon, TrayIcon::Busy);
    assert_eq!(
        model.items[2],
        TrayItem::Label("claude-max 5h 62 %, resets 14:05".into())
    );
    assert_eq!(
        tray_model(&status, Lang::Zh).items[2],
        TrayItem::Label("claude-max 5h 62 %, 重置于 14:05".into())
    );
    let agents = submenu(&model.items, "Agents");
    let claude = submenu(agents, "claude · busy");
    assert!(matches!(
        &claude[0],
        TrayItem::Action { command: MenuCommand::Stop(agent), .. } if agent == "claude"
    ));
    submenu(agents, "codex · idle");
    assert_eq!(
        model.items[0],
        TrayItem::Label("aiswitch · work · 1 busy, 1 idle · today 12,345 tokens, $0.04".into())
    );
    assert_eq!(
        model.items[1],
        TrayItem::Label("Budget: $12.40 / $20 this month (62 %)".into())
    );
}

#[test]
fn pause_offers_an_hour_or_tomorrow_and_resume_while_paused() {
    let running = tray_model(&Status::default(), Lang::En);
    let pause = submenu(&running.items, "Pause notifications");
    assert_eq!(pause.len(), 2);
    let paused = Status {
        notifications_paused: true,
        ..Status::default()
    };
    let model = tray_model(&paused, Lang::En);
    let pause = submenu(&model.items, "Pause notifications");
    assert!(matches!(
        pause.last(),
        Some(TrayItem::Action {
            command: MenuCommand::Pause(Pause::Resume),
            ..
        })
    ));
    assert_eq!(Pause::Hour.until(1_000), Some(3_601_000));
    assert_eq!(Pause::Tomorrow.until(86_400_000 + 5), Some(2 * 86_400_000));
    assert_eq!(Pause::Resume.until(5), None);
}

#[test]
fn the_tray_speaks_chinese() {
    let status = Status {
        presets: vec![view("work")],
        agents: vec![agent("claude", None, &["work"])],
        ..Status::default()
    };
    let model = tray_model(&status, Lang::Zh);
    assert_eq!(model.items[0], TrayItem::Label("aiswitch · 无预设".into()));
    let provider = submenu(&model.items, "供应商");
    submenu(provider, "claude CLI");
    submenu(provider, "所有代理");
    assert!(matches!(
        model.items.last(),
        Some(TrayItem::Action { text, .. }) if text == "退出"
    ));
}

#[test]
fn recent_tasks_show_their_state_and_prompt() {
    use aiswitch::store::{TaskRow, TaskState};
    let task = |id: &str, status: TaskState, prompt: &str| TaskRow {
        id: id.into(),
        prompt: prompt.into(),
        status,
        coordination: "loose".into(),
        order: "parallel".into(),
        agents: "claude".into(),
        started_ms: 0,
        ended_ms: None,
        result: None,
    };
    let status = Status {
        tasks: vec![
            task("t3", TaskState::Running, "add tests\nand more"),
            task("t2", TaskState::Failed, "fix the build"),
            task("t1", TaskState::Cancelled, "refactor"),
        ],
        ..Status::default()
    };
    let model = tray_model(&status, Lang::En);
    let tasks = submenu(&model.items, "Recent tasks");
    let open = |id: &str, text: &str| TrayItem::Action {
        command: MenuCommand::OpenTask(id.into()),
        text: text.into(),
    };
    assert_eq!(
        tasks,
        [
            open("t3", "t3 · running · add tests"),
            open("t2", "t2 · failed · fix the build"),
            open("t1", "t1 · cancelled · refactor"),
        ],
        "a click opens the task's page"
    );
    assert!(
        model.items.iter().any(|i| matches!(
            i,
            TrayItem::Action {
                command: MenuCommand::Launch,
                text,
            } if text == "Launch task…"
        )),
        "Launch task… opens the launcher"
    );
    assert!(model.items.iter().any(|i| matches!(
        i,
        TrayItem::Action {
            command: MenuCommand::InstallCli,
            ..
        }
    )));
}
