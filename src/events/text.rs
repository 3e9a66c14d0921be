//! One line per event for a person.

use super::Event;

/// `event` as a line: what happened, to what. Every kind has its line (the event
/// catalogue's test checks that none is empty).
pub(super) fn summary(event: &Event) -> String {
    presets(event)
        .or_else(|| agents(event))
        .or_else(|| tasks(event))
        .or_else(|| spending(event))
        .or_else(|| the_rest(event))
        .unwrap_or_default()
}

/// Presets added, changed, removed, made current.
fn presets(event: &Event) -> Option<String> {
    Some(match event {
        Event::PresetAdded { preset, .. } => format!("preset {preset} added"),
        Event::PresetChanged { preset, .. } => format!("preset {preset} changed"),
        Event::PresetRemoved { preset, .. } => format!("preset {preset} removed"),
        Event::PresetCurrent {
            preset, file: None, ..
        } => format!("preset {preset} is current"),
        Event::PresetCurrent {
            preset,
            file: Some(file),
            agent,
        } => format!(
            "preset {preset} is current in {}{}",
            file.display(),
            agent
                .as_ref()
                .map(|a| format!(" for {a}"))
                .unwrap_or_default()
        ),
        _ => return None,
    })
}

/// Agents registered, launched, and what the supervisor sees.
fn agents(event: &Event) -> Option<String> {
    Some(match event {
        Event::AgentRegistered { agent } => format!("agent {agent} registered"),
        Event::AgentProbed {
            agent,
            version,
            took_ms,
        } => format!(
            "agent {agent} is version {} (found in {took_ms} ms)",
            version.as_deref().unwrap_or("unknown")
        ),
        Event::AgentLaunched { agent, preset } => {
            format!("agent {agent} launched{}", with_preset(preset.as_deref()))
        }
        Event::AgentState { agent, state, pid } => match pid {
            Some(pid) => format!("agent {agent} {} (pid {pid})", state.as_str()),
            None => format!("agent {agent} {}", state.as_str()),
        },
        Event::AgentFault { agent, message } => format!("agent {agent} fault: {message}"),
        Event::AgentExited {
            agent,
            code,
            signal,
        } => match (code, signal) {
            (Some(code), _) => format!("agent {agent} exited with code {code}"),
            (None, Some(signal)) => format!("agent {agent} killed by signal {signal}"),
            (None, None) => format!("agent {agent} exited"),
        },
        Event::AgentRestarting {
            agent,
            attempt,
            after_ms,
        } => format!("agent {agent} restarts in {after_ms} ms (attempt {attempt})"),
        Event::AgentGaveUp { agent, restarts } => {
            format!("agent {agent} gave up after {restarts} restarts")
        }
        Event::AgentLog { agent, line } => format!("{agent}: {line}"),
        Event::AgentEnvRestarted { agent, from, to } => format!(
            "agent {agent} restarted to switch from {} to {}",
            from.as_deref().unwrap_or("(none)"),
            to.as_deref().unwrap_or("(none)")
        ),
        Event::AgentEnvSwitchedLive { agent, from, to } => format!(
            "agent {agent} switched from {} to {to} without a restart (through the gateway)",
            from.as_deref().unwrap_or("(none)")
        ),
        _ => return None,
    })
}

/// Tasks and their runs.
fn tasks(event: &Event) -> Option<String> {
    Some(match event {
        Event::TaskStarted {
            task,
            agents,
            title,
        } => format!("task {task} started on {}: {title}", agents.join(", ")),
        Event::RunStarted { task, agent } => format!("task {task}: {agent} started"),
        Event::RunOutput { task, agent, text } => format!("task {task}: {agent}: {text}"),
        Event::RunThought { task, agent, text } => format!("task {task}: {agent} thinks: {text}"),
        Event::RunToolCall { task, agent, name } => format!("task {task}: {agent} → {name}"),
        Event::RunUsage {
            task,
            agent,
            tokens,
        } => format!("task {task}: {agent} used {} tokens", tokens.total()),
        Event::RunFinished {
            task,
            agent,
            status,
        } => format!("task {task}: {agent} {}", status.as_str()),
        Event::TaskFinished {
            task,
            status,
            reason,
            tokens,
            cost_usd,
        } => format!(
            "task {task} {}{}, {} tokens{}",
            status.as_str(),
            reason
                .as_ref()
                .map(|r| format!(" ({r})"))
                .unwrap_or_default(),
            tokens.total(),
            cost(*cost_usd)
        ),
        _ => return None,
    })
}

/// Usage, budgets and alerts.
fn spending(event: &Event) -> Option<String> {
    Some(match event {
        Event::UsageRecorded {
            agents,
            rows,
            tokens,
            cost_usd,
        } => format!(
            "usage recorded for {}: {rows} rows, {} tokens{}",
            agents.join(", "),
            tokens.total(),
            cost(*cost_usd)
        ),
        Event::BudgetSet { budget } => format!("budget {} set for {}", budget.id, budget.scope),
        Event::BudgetRemoved { budget } => format!("budget {budget} removed"),
        Event::BudgetThresholdCrossed { alert } => format!("budget: {}", alert.message),
        Event::AlertRaised { alert } => format!("alert {}: {}", alert.id, alert.message),
        Event::AlertsAcknowledged {
            alert: Some(alert), ..
        } => format!("alert {alert} acknowledged"),
        Event::AlertsAcknowledged { alert: None, count } => {
            format!("{count} alerts acknowledged")
        }
        Event::QuotaWindowReset {
            preset,
            window,
            used_percent,
        } => format!("{preset}: the {window} window reset ({used_percent:.0} % used)"),
        _ => return None,
    })
}

/// Switches, imports, the subscription and the daemon.
fn the_rest(event: &Event) -> Option<String> {
    Some(match event {
        Event::EnvSwitched {
            agent,
            preset,
            verified,
            ..
        } => format!(
            "agent {agent} switched to {preset}{}",
            if *verified { " (verified)" } else { "" }
        ),
        Event::EnvRolledBack {
            agent,
            preset,
            snapshot,
        } => format!("agent {agent} rolled back to {preset} (snapshot {snapshot})"),
        Event::EnvSnapshotTaken { agent, snapshot } => {
            format!("agent {agent}: snapshot {snapshot} taken")
        }
        Event::ImportProgress {
            preset,
            action,
            done,
            total,
        } => format!("import {done}/{total}: {preset} {action}"),
        Event::UsageImportProgress {
            what,
            files_done,
            files_total,
            bytes_read,
        } => format!(
            "import of {what}: {files_done}/{files_total} files, {:.1} MB read",
            *bytes_read as f64 / 1e6
        ),
        Event::ImportFinished {
            what,
            written,
            skipped,
        } => format!("import of {what} finished: {written} written, {skipped} skipped"),
        Event::Subscribed { after } => format!("following events after {after}"),
        Event::DaemonStarted { pid, version } => format!("daemon {version} started (pid {pid})"),
        Event::DaemonStopping { pid } => format!("daemon stopping (pid {pid})"),
        _ => return None,
    })
}

fn with_preset(preset: Option<&str>) -> String {
    preset.map(|p| format!(" with {p}")).unwrap_or_default()
}

fn cost(cost_usd: Option<f64>) -> String {
    cost_usd.map(|c| format!(", ${c:.4}")).unwrap_or_default()
}
