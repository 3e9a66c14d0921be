//! Launch specs for the shipped reference agent.
#![allow(dead_code)]

use std::time::Duration;

use aiswitch::agents::{AgentRegistry, RestartMode, RestartPolicy};
use aiswitch::supervisor::{LaunchSpec, SupervisorEvent, SupervisorOptions};
use tokio::sync::broadcast;

/// The reference agent binary.
pub const AGENT: &str = env!("CARGO_BIN_EXE_aiswitch-agent");

/// A spec for the reference agent named `name` with `flags`, never restarted.
pub fn spec(name: &str, flags: &[&str]) -> LaunchSpec {
    spec_with(
        name,
        flags,
        RestartPolicy {
            mode: RestartMode::Never,
            ..RestartPolicy::default()
        },
    )
}

/// A spec with an explicit restart policy.
pub fn spec_with(name: &str, flags: &[&str], restart: RestartPolicy) -> LaunchSpec {
    let mut manifest = AgentRegistry::builtins()
        .into_iter()
        .find(|m| m.id.as_str() == "aiswitch-agent")
        .expect("built-in reference agent");
    manifest.command = AGENT.to_owned();
    manifest.restart = restart;
    LaunchSpec {
        name: name.to_owned(),
        manifest,
        args: flags.iter().map(|f| (*f).to_owned()).collect(),
        env: Vec::new(),
        files: Vec::new(),
        session_meta: None,
        cwd: std::env::temp_dir(),
        locks: None,
        lease: None,
        env_remove: Vec::new(),
    }
}

/// Supervisor options with logs in `dir` and short timeouts for tests.
pub fn options(dir: &std::path::Path) -> SupervisorOptions {
    let mut options = SupervisorOptions::new(dir.join("logs"));
    options.init_timeout = Duration::from_secs(10);
    options.prompt_timeout = Duration::from_secs(10);
    options.grace = Duration::from_millis(300);
    options
}

/// Waits for the first event that `pick` accepts, failing after `deadline`.
pub async fn next_event<T>(
    events: &mut broadcast::Receiver<SupervisorEvent>,
    deadline: Duration,
    mut pick: impl FnMut(&SupervisorEvent) -> Option<T>,
) -> T {
    tokio::time::timeout(deadline, async {
        loop {
            match events.recv().await {
                Ok(event) => {
                    if let Some(found) = pick(&event) {
                        return found;
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => panic!("event stream closed"),
            }
        }
    })
    .await
    .expect("event did not arrive before the deadline")
}

/// Writes a manifest for the reference agent with `flags` (plus `extra` TOML, e.g.
/// `[inject.anthropic]`) and registers it as `id` in `home`.
pub fn register(home: &super::Home, id: &str, flags: &[&str], extra: &str) {
    let args: Vec<String> = flags.iter().map(|f| format!("{f:?}")).collect();
    let manifest = home.root().join(format!("{id}.toml"));
    std::fs::write(
        &manifest,
        format!(
            "id = \"{id}\"\nname = \"{id}\"\ncommand = \"{AGENT}\"\nargs = [{}]\ndriver = \"acp\"\nlifetime = \"session\"\n{extra}",
            args.join(", ")
        ),
    )
    .expect("write manifest");
    home.run(&["agents", "register", &manifest.display().to_string()])
        .ok();
}
