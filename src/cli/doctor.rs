//! `doctor`: what is installed, what each agent can use, and what would stop a preset
//! from winning.

use std::process::ExitCode;

use clap::Args;

use super::output::{CliError, Output, engine};

/// Check the agent CLIs, your settings and aiswitch's directories.
///
/// Shows which agent CLIs are installed (path, version) and which presets each can
/// use; every setting in your own config files (~/.claude/settings.json,
/// ~/.codex/config.toml, ~/.gemini/settings.json, ~/.qwen/settings.json, OpenCode's
/// config) that competes with a preset, whether aiswitch beats it and, where it does
/// not, the fix; the permissions of aiswitch's directories; whether the daemon runs.
/// It changes nothing. Exits 1 when something needs fixing.
///
/// Example: aiswitch doctor
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct DoctorArgs {}

pub fn doctor(_args: DoctorArgs, out: &Output) -> Result<ExitCode, CliError> {
    let engine = engine()?;
    let home = std::env::var_os("HOME")
        .map(std::path::PathBuf::from)
        .unwrap_or_default();
    let report = engine.doctor(&home)?;
    out.emit(&report, || {
        let mut text = String::from("agents\n");
        for agent in &report.agents {
            let info = &agent.info;
            let state = match (&info.path, &info.version) {
                (Some(path), Some(version)) => format!("{version} at {}", path.display()),
                (Some(path), None) => format!("at {}", path.display()),
                (None, _) => format!("not installed (`{}` not on PATH)", info.command),
            };
            let presets = if agent.presets.is_empty() {
                "none of your presets".to_owned()
            } else {
                agent.presets.join(", ")
            };
            text.push_str(&format!(
                "  {:<15} {state}\n  {:<15} can use: {presets}\n",
                info.id, ""
            ));
        }
        text.push_str("\nyour settings that compete with presets\n");
        if report.overrides.is_empty() {
            text.push_str("  none found\n");
        }
        for o in &report.overrides {
            text.push_str(&format!(
                "  {} {} in {} ({}): {}\n",
                if o.beaten { "ok  " } else { "FIX " },
                o.setting,
                o.file.display(),
                o.agents.join(", "),
                o.note
            ));
        }
        text.push_str("\ndirectories\n");
        for d in &report.directories {
            let state = match (&d.mode, &d.problem) {
                (_, Some(problem)) => format!("FIX  {problem}"),
                (Some(mode), None) => format!("ok   mode {mode}"),
                (None, None) => "ok   not created yet".into(),
            };
            text.push_str(&format!("  {:<8} {} {state}\n", d.role, d.path.display()));
        }
        text.push_str(&match &report.daemon_pid {
            Some(pid) => format!("\ndaemon: running (pid {pid})"),
            None => "\ndaemon: not running (`aiswitch daemon` starts it)".into(),
        });
        text
    });
    Ok(if report.has_problems() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
