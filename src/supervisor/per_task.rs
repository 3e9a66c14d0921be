//! Per-task CLIs (`claude -p`, `codex exec --json`, `gemini -p`, `opencode run`): one
//! process per prompt, stdout read line by line through a stream driver.

use std::process::Stdio;
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::sync::mpsc;

use super::process::signal_group;
use super::{LaunchSpec, PromptOutcome, SupervisorError};
use crate::agents::drivers;
use crate::agents::event::{RunEvent, RunSummary};
use crate::agents::launch::write_files;
use crate::agents::resolve_command;
use crate::agents::transcript::Transcript;

/// Runs one prompt as one process: the prompt is the last argument, stdin is
/// /dev/null (`codex exec` waits for stdin otherwise), the process group is killed on
/// timeout.
pub async fn run_once(
    spec: &LaunchSpec,
    prompt: &str,
    timeout: Duration,
    live: Option<mpsc::UnboundedSender<RunEvent>>,
) -> Result<PromptOutcome, SupervisorError> {
    let agent = spec.name.clone();
    let mut driver =
        drivers::for_manifest(&spec.manifest).ok_or_else(|| SupervisorError::Spawn {
            agent: agent.clone(),
            message: "an ACP agent runs as a session, not once".into(),
        })?;
    let program = resolve_command(&spec.manifest.command)
        .ok_or_else(|| SupervisorError::not_installed(&agent, &spec.manifest))?;
    write_files(&spec.files).map_err(|(path, e)| SupervisorError::Spawn {
        agent: agent.clone(),
        message: format!("cannot write {}: {e}", path.display()),
    })?;
    let started = Instant::now();
    let mut command = tokio::process::Command::new(program);
    for name in &spec.env_remove {
        command.env_remove(name);
    }
    let mut child = command
        .args(&spec.manifest.args)
        .args(&spec.args)
        .arg(prompt)
        .envs(spec.manifest.env.iter())
        .envs(spec.env.iter().map(|(k, v)| (k, v)))
        .current_dir(&spec.cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .map_err(|e| SupervisorError::Spawn {
            agent: agent.clone(),
            message: e.to_string(),
        })?;
    let pgid = child.id().unwrap_or_default();
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    let stderr_task = tokio::spawn(async move {
        let mut text = String::new();
        if let Some(stderr) = stderr {
            let mut lines = BufReader::new(stderr).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                text.push_str(&line);
                text.push('\n');
            }
        }
        text
    });
    let read = async {
        let mut events = Transcript::default();
        if let Some(stdout) = stdout {
            let mut lines = BufReader::new(stdout).lines();
            while let Some(line) = lines.next_line().await.map_err(|e| e.to_string())? {
                let new = driver.on_line(&line).map_err(|e| e.to_string())?;
                for event in new {
                    if let Some(live) = &live {
                        let _ = live.send(event.clone());
                    }
                    events.push(event);
                }
            }
        }
        Ok::<_, String>(events)
    };
    let result = tokio::time::timeout(timeout, read).await;
    if !matches!(result, Ok(Ok(_))) {
        signal_group(pgid, Signal::SIGKILL);
    }
    let status = child.wait().await.ok();
    signal_group(pgid, Signal::SIGKILL); // what is left of the group
    let stderr = stderr_task.await.unwrap_or_default();
    let events = match result {
        Ok(Ok(events)) => events.into_events(),
        Ok(Err(message)) => {
            return Err(SupervisorError::Agent {
                agent: agent.clone(),
                message: format!("agent {agent}: {message}"),
            });
        }
        Err(_) => {
            return Err(SupervisorError::Agent {
                agent: agent.clone(),
                message: format!("agent {agent}: no result within {} s", timeout.as_secs()),
            });
        }
    };
    let summary = RunSummary::from_events(&events);
    if summary.stop_reason.is_none() {
        let last = stderr
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("no output");
        let code = status
            .and_then(|s| s.code())
            .map_or("a signal".into(), |c| format!("status {c}"));
        return Err(SupervisorError::Agent {
            agent: agent.clone(),
            message: format!("agent {agent} exited with {code} before a result: {last}"),
        });
    }
    Ok(PromptOutcome {
        events,
        summary,
        duration: started.elapsed(),
    })
}
