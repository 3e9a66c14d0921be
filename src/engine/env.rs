//! The engine's runtime switching: `env switch|show|snapshot|rollback|snapshots|
//! snapshot-rm`. Launches without an explicit preset use the agent's active
//! environment, so per-task agents pick a switch up on their next run.

use serde::Serialize;

use super::Engine;
use crate::Error;
use crate::env::{AgentEnv, EnvError, EnvStore, Snapshot, Step};
use crate::events::Event;
use crate::presets::PresetName;
use crate::redact::redact_var;

/// Fails the named step (tests of the rollback path).
const FAULT_ENV: &str = "AISWITCH_FAULT_AT";
/// Kills the process with SIGKILL at the named step (tests of crash safety).
const CRASH_ENV: &str = "AISWITCH_CRASH_AT";

/// A fault injection point: fails or kills the process when the environment asks.
fn fault_point(step: Step) -> Result<(), String> {
    let named = |var: &str| std::env::var(var).is_ok_and(|v| v == step.to_string());
    if named(CRASH_ENV) {
        let _ = nix::sys::signal::kill(nix::unistd::Pid::this(), nix::sys::signal::Signal::SIGKILL);
    }
    if named(FAULT_ENV) {
        Err(format!("injected failure ({FAULT_ENV}={step})"))
    } else {
        Ok(())
    }
}

/// An agent's environment as `env show` prints it: secrets redacted.
#[derive(Debug, Clone, Serialize)]
pub struct EnvView {
    /// The agent.
    pub agent: String,
    /// The preset in force, if any.
    pub preset: Option<String>,
    /// Env vars, secrets redacted.
    pub env: Vec<(String, String)>,
    /// Extra arguments.
    pub args: Vec<String>,
    /// The checksum of the full environment.
    pub checksum: Option<String>,
}

impl Engine {
    /// The switching files of `agent`.
    pub fn env_store(&self, agent: &str) -> EnvStore {
        EnvStore::new(&self.paths.data_dir, agent)
    }

    /// The environment `preset` gives `agent`, refused when the agent cannot use it.
    fn resolve_env(&self, agent: &str, preset: &PresetName) -> Result<AgentEnv, Error> {
        let manifest = self.agent_registry().get(agent)?;
        let injection = self.injection(&manifest, preset)?;
        Ok(AgentEnv::new(agent, preset.as_str(), injection))
    }
}

/// How much of a switch is checked before it is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verify<'a> {
    /// Apply only: the next start of the agent uses it.
    No,
    /// Start the agent with the new environment and initialize it (a per-task
    /// agent, which only starts for a prompt, must be installed).
    Start,
    /// Start it and send this prompt: a real round trip to the provider.
    Probe(&'a str),
}

impl<'a> Verify<'a> {
    /// From the `--verify` and `--probe` flags (a probe implies verify).
    pub fn from_flags(verify: bool, probe: Option<&'a str>) -> Self {
        match (probe, verify) {
            (Some(text), _) => Self::Probe(text),
            (None, true) => Self::Start,
            (None, false) => Self::No,
        }
    }

    fn probe(self) -> Option<&'a str> {
        match self {
            Self::Probe(text) => Some(text),
            Self::No | Self::Start => None,
        }
    }
}

impl Engine {
    /// Switches `agent` to `preset`: validate → snapshot → apply → verify under the
    /// agent's lock; any failure rolls back, says at which step and raises an
    /// `env_switch_failed` alert (at most one per agent per minute).
    pub async fn switch_env(
        &self,
        agent: &str,
        preset: &PresetName,
        verify: Verify<'_>,
    ) -> Result<AgentEnv, Error> {
        let outcome = self.try_switch_env(agent, preset, verify).await;
        if let Err(err @ Error::Env(EnvError::SwitchFailed { .. })) = &outcome
            && let Err(e) = self.raise_alert(
                crate::alerts::AlertKind::EnvSwitchFailed,
                agent,
                "",
                &err.to_string(),
            )
        {
            tracing::warn!(agent, error = %e, "cannot store the switch-failed alert");
        }
        outcome
    }

    async fn try_switch_env(
        &self,
        agent: &str,
        preset: &PresetName,
        verify: Verify<'_>,
    ) -> Result<AgentEnv, Error> {
        // Bad input (unknown agent or preset, wrong kind) is refused before anything
        // is created or locked.
        let next = self.resolve_env(agent, preset)?;
        let store = self.env_store(agent);
        let _lock = store.lock()?;
        store.recover()?;
        let current = store.active()?;
        let kept = current.as_ref().map_or_else(
            || "no preset".to_owned(),
            |c| format!("preset {}", c.preset),
        );
        let failed = |step: Step, reason: String| -> Error {
            EnvError::SwitchFailed {
                agent: agent.to_owned(),
                preset: preset.to_string(),
                step,
                reason,
                kept: kept.clone(),
            }
            .into()
        };
        // Validate: a bad preset or agent is bad input, not a failed switch.
        fault_point(Step::Validate).map_err(|r| failed(Step::Validate, r))?;
        // Snapshot.
        let snapshot = fault_point(Step::Snapshot).and_then(|()| match &current {
            Some(env) => store
                .auto_snapshot(env)
                .map(Some)
                .map_err(|e| e.to_string()),
            None => Ok(None),
        });
        let snapshot = snapshot.map_err(|r| failed(Step::Snapshot, r))?;
        // Apply, journaled: a crash from here on is finished or undone next time.
        store.begin(current.as_ref(), &next)?;
        if let Err(reason) = fault_point(Step::Apply) {
            store.set_active(current.as_ref())?;
            store.finish()?;
            return Err(failed(Step::Apply, reason));
        }
        store.set_active(Some(&next))?;
        // Verify.
        if verify != Verify::No {
            // A session agent is started and initialized; a per-task agent, which
            // only starts for a prompt, must at least be installed.
            let manifest = self.agent_registry().get(agent)?;
            let installed = crate::agents::resolve_command(&manifest.command).is_some();
            let verified = match fault_point(Step::Verify) {
                Err(reason) => Err(reason),
                Ok(()) if !installed => Err(crate::supervisor::SupervisorError::not_installed(
                    agent, &manifest,
                )
                .to_string()),
                Ok(()) => self
                    .check_agent(
                        agent,
                        None,
                        verify.probe(),
                        std::time::Duration::from_secs(60),
                        None,
                    )
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string()),
            };
            if let Err(reason) = verified {
                store.set_active(current.as_ref())?;
                store.finish()?;
                return Err(failed(Step::Verify, reason));
            }
        }
        store.finish()?;
        let mut events = Vec::with_capacity(2);
        if let Some(snapshot) = &snapshot {
            events.push(Event::EnvSnapshotTaken {
                agent: agent.to_owned(),
                snapshot: snapshot.clone(),
            });
        }
        events.push(Event::EnvSwitched {
            agent: agent.to_owned(),
            preset: preset.to_string(),
            snapshot,
            verified: verify != Verify::No,
        });
        self.record(&events)?;
        Ok(next)
    }

    /// What the active environment of the agent of `manifest` injects now: its
    /// preset's current contents (a key rotated or a URL changed since the switch is
    /// what the next launch gets), with the preset's name; `None` when the agent was
    /// never switched. The copy in `active.toml` is kept for snapshots and rollback.
    pub fn active_injection(
        &self,
        manifest: &crate::agents::Manifest,
    ) -> Result<Option<(crate::agents::Injection, String)>, Error> {
        let agent = manifest.id.as_str();
        let Some(active) = self.env_store(agent).active()? else {
            return Ok(None);
        };
        let name = PresetName::parse(&active.preset)
            .ok()
            .filter(|name| self.presets.exists(name))
            .ok_or_else(|| EnvError::PresetGone {
                agent: agent.to_owned(),
                preset: active.preset.clone(),
            })?;
        Ok(Some((self.injection(manifest, &name)?, active.preset)))
    }

    /// Every agent that can take `preset` (its kind): what `env switch --all`
    /// switches.
    pub fn agents_taking(&self, preset: &PresetName) -> Result<Vec<String>, Error> {
        let preset = self.preset(preset)?;
        Ok(self
            .agent_registry()
            .list()
            .0
            .into_iter()
            .filter(|e| self.client_kind(&e.manifest, &preset).is_some())
            .map(|e| e.manifest.id.to_string())
            .collect())
    }

    /// The agents whose active environment names `preset`.
    pub fn agents_switched_to(&self, preset: &PresetName) -> Vec<String> {
        let dir = self.paths.data_dir.join("env");
        let mut agents: Vec<String> = std::fs::read_dir(&dir)
            .map(|rd| {
                rd.filter_map(|e| e.ok()?.file_name().into_string().ok())
                    .collect()
            })
            .unwrap_or_default();
        agents.retain(|agent| {
            self.env_store(agent)
                .active()
                .ok()
                .flatten()
                .is_some_and(|a| a.preset == preset.as_str())
        });
        agents.sort();
        agents
    }

    /// Ends the switched environment of `agent` (snapshots stay): it runs with the
    /// preset that resolves without one again.
    pub fn clear_switch(&self, agent: &str) -> Result<(), Error> {
        let store = self.env_store(agent);
        let _lock = store.lock()?;
        store.recover()?;
        Ok(store.set_active(None)?)
    }

    /// The active environment of `agent`, redacted.
    pub fn env_show(&self, agent: &str) -> Result<EnvView, Error> {
        self.agent_registry().get(agent)?;
        let store = self.env_store(agent);
        if store.has_journal() {
            // Finish or undo a switch a crash interrupted (waits for one in progress).
            let _lock = store.lock()?;
            store.recover()?;
        }
        let mut active = store.active()?;
        // What the next launch gets: the preset as it is now.
        if let Some(a) = active.as_mut()
            && let Ok(name) = PresetName::parse(&a.preset)
            && self.presets.exists(&name)
        {
            let manifest = self.agent_registry().get(agent)?;
            *a = AgentEnv::new(agent, &a.preset, self.injection(&manifest, &name)?);
        }
        let reveal = self.settings().reveal_chars;
        Ok(EnvView {
            agent: agent.to_owned(),
            preset: active.as_ref().map(|a| a.preset.clone()),
            env: active
                .as_ref()
                .map(|a| {
                    a.env
                        .iter()
                        .map(|(k, v)| (k.clone(), redact_var(k, v, reveal)))
                        .collect()
                })
                .unwrap_or_default(),
            args: active.as_ref().map(|a| a.args.clone()).unwrap_or_default(),
            checksum: active.map(|a| a.checksum),
        })
    }

    /// Saves the active environment of `agent` as `name`.
    pub fn env_snapshot(&self, agent: &str, name: &str, force: bool) -> Result<(), Error> {
        self.agent_registry().get(agent)?;
        let store = self.env_store(agent);
        crate::env::store_check_name(name)?;
        let _lock = store.lock()?;
        store.recover()?;
        let active = store
            .active()?
            .ok_or_else(|| EnvError::NothingActive(agent.to_owned()))?;
        store.save_snapshot(name, &active, force)?;
        self.record(&[Event::EnvSnapshotTaken {
            agent: agent.to_owned(),
            snapshot: name.to_owned(),
        }])
    }

    /// Makes snapshot `name` the active environment; a missing or corrupt snapshot
    /// changes nothing.
    pub fn env_rollback(&self, agent: &str, name: &str) -> Result<AgentEnv, Error> {
        self.agent_registry().get(agent)?;
        let store = self.env_store(agent);
        crate::env::store_check_name(name)?;
        let target = store.snapshot(name)?;
        let _lock = store.lock()?;
        store.recover()?;
        let current = store.active()?;
        store.begin(current.as_ref(), &target)?;
        store.set_active(Some(&target))?;
        store.finish()?;
        self.record(&[Event::EnvRolledBack {
            agent: agent.to_owned(),
            preset: target.preset.to_string(),
            snapshot: name.to_owned(),
        }])?;
        Ok(target)
    }

    /// The snapshots of `agent`, oldest first.
    pub fn env_snapshots(&self, agent: &str) -> Result<Vec<Snapshot>, Error> {
        self.agent_registry().get(agent)?;
        Ok(self.env_store(agent).snapshots())
    }

    /// Removes snapshot `name` of `agent`.
    pub fn env_snapshot_rm(&self, agent: &str, name: &str) -> Result<(), Error> {
        self.agent_registry().get(agent)?;
        Ok(self.env_store(agent).remove_snapshot(name)?)
    }
}
