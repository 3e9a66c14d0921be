//! The engine's agent operations: list with install state and version, register,
//! check (start, initialize, one prompt, stop), logs.

use crate::agents::version::VersionProbe;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::sync::mpsc;

use super::Engine;
use crate::Error;
use crate::agents::event::RunEvent;
use crate::agents::{
    AgentError, AgentRegistry, Injection, Lifetime, Manifest, Origin, launch, stale_provider_vars,
};
use crate::events::Event;
use crate::gateway::Binding;
use crate::presets::{PresetName, ProviderKind};
use crate::supervisor::{LaunchSpec, Supervisor, SupervisorOptions, run_once};

/// An agent as `agents list` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct AgentInfo {
    /// The id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// The driver's name.
    pub driver: &'static str,
    /// Per task or session.
    pub lifetime: Lifetime,
    /// Built in or registered.
    pub origin: Origin,
    /// The program.
    pub command: String,
    /// Where the program was found, if it was.
    pub path: Option<PathBuf>,
    /// Its version: from its npm package's `package.json`, else what it printed.
    pub version: Option<String>,
    /// True while its version is still being found (a program that did not print
    /// it within the listing's wait).
    pub probing: bool,
    /// Preset kinds it can use.
    pub accepts: Vec<ProviderKind>,
}

/// Usage as `agents check --json` reports it.
#[derive(Debug, Clone, Serialize)]
pub struct CheckUsage {
    /// Input tokens not served from cache.
    pub input_tokens: u64,
    /// Output tokens.
    pub output_tokens: u64,
    /// Cache reads.
    pub cache_read_tokens: u64,
    /// Cache writes.
    pub cache_write_tokens: u64,
    /// Where the counts come from: `gateway` (the provider's responses to the
    /// check's requests) or `agent` (its own report, when the check went direct or
    /// made no provider call).
    pub source: &'static str,
}

impl CheckUsage {
    fn from_tokens(t: &crate::agents::event::TokenCounts, source: &'static str) -> Self {
        Self {
            input_tokens: t.input,
            output_tokens: t.output,
            cache_read_tokens: t.cache_read,
            cache_write_tokens: t.cache_write,
            source,
        }
    }
}

/// What `agents check` actually checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Checked {
    /// A prompt was sent and answered.
    Prompt,
    /// The session agent started and finished its ACP handshake (no prompt).
    Initialized,
    /// The per-task CLI started and printed its version (no prompt, no cost).
    Version,
}

/// The answer to "does this agent work with this provider?".
#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    /// The agent.
    pub agent: String,
    /// What was checked.
    pub checked: Checked,
    /// The version the CLI printed, when it was asked.
    pub version: Option<String>,
    /// The preset used, if any.
    pub preset: Option<String>,
    /// The reply to the prompt, if one was sent.
    pub reply: Option<String>,
    /// How the turn ended.
    pub stop_reason: Option<String>,
    /// Tokens, when the agent reported them.
    pub usage: Option<CheckUsage>,
    /// Cost in USD: reported by the agent, else priced from the table; `null` when
    /// unpriced.
    pub cost_usd: Option<f64>,
    /// Start to initialized (session agents), in milliseconds.
    pub initialized_ms: Option<u64>,
    /// The whole check, in milliseconds.
    pub duration_ms: u64,
}

impl Engine {
    /// The agent registry.
    pub fn agent_registry(&self) -> AgentRegistry {
        AgentRegistry::new(&self.paths.config_dir)
    }

    /// Validates and registers a manifest file.
    pub fn register_agent(&self, path: &std::path::Path, replace: bool) -> Result<Manifest, Error> {
        let manifest = self.agent_registry().register(path, replace)?;
        self.record(&[Event::AgentRegistered {
            agent: manifest.id.to_string(),
        }])?;
        Ok(manifest)
    }

    /// What to launch for `agent` with `preset`: the manifest plus the preset's
    /// injection, refused when the agent cannot use the preset's kind.
    pub fn launch_spec(
        &self,
        agent: &str,
        preset: Option<&PresetName>,
        cwd: PathBuf,
    ) -> Result<LaunchSpec, Error> {
        Ok(self.resolve_launch(agent, preset, cwd)?.0)
    }

    /// [`Engine::launch_spec`] and the preset it uses: the one named, else the one
    /// that applies in `cwd` the way `run` and `current --agent` resolve it (the
    /// nearest `.aiswitch.toml`, the agent's switched environment, the global current
    /// preset), read together so a concurrent switch cannot split them.
    pub fn resolve_launch(
        &self,
        agent: &str,
        preset: Option<&PresetName>,
        cwd: PathBuf,
    ) -> Result<(LaunchSpec, Option<String>), Error> {
        let manifest = self.agent_registry().get(agent)?;
        // A launch with its preset named keeps it; one that follows the agent's
        // environment is re-pointed by the gateway when the agent is switched.
        let pinned = |name: &PresetName| {
            self.launch_injection(&manifest, name, Binding::Pinned)
                .map(|injection| (injection, Some(name.to_string())))
        };
        let (injection, used) = match preset {
            Some(name) => pinned(name)?,
            None => match self.choose_preset(Some(agent), None, &cwd)? {
                // The switched environment's preset: through the gateway, the
                // preset as it is now; direct, the environment as switched.
                Some(super::PresetChoice {
                    source: super::PresetSource::Switched,
                    preset,
                }) if self.gateway_routes(Some(preset.as_str())) => (
                    self.launch_injection(&manifest, &preset, Binding::FollowsAgent)?,
                    Some(preset.to_string()),
                ),
                Some(super::PresetChoice {
                    source: super::PresetSource::Switched,
                    ..
                }) => match self.active_injection(&manifest)? {
                    Some((injection, preset)) => (injection, Some(preset)),
                    None => (Injection::default(), None),
                },
                Some(choice) => (
                    self.launch_injection(&manifest, &choice.preset, Binding::FollowsAgent)?,
                    Some(choice.preset.to_string()),
                ),
                None => (Injection::default(), None),
            },
        };
        Ok((
            self.spec_with(manifest, injection, used.is_some(), cwd),
            used,
        ))
    }

    /// The launch of `agent` with no preset at all (its own settings): the demo's
    /// reference agents.
    pub fn bare_launch_spec(&self, agent: &str, cwd: PathBuf) -> Result<LaunchSpec, Error> {
        let manifest = self.agent_registry().get(agent)?;
        Ok(self.spec_with(manifest, Injection::default(), false, cwd))
    }

    fn spec_with(
        &self,
        manifest: Manifest,
        injection: Injection,
        with_preset: bool,
        cwd: PathBuf,
    ) -> LaunchSpec {
        let agent = manifest.id.to_string();
        // With a preset, the agent gets exactly its provider.
        let env_remove = if with_preset {
            stale_provider_vars(&injection.env)
        } else {
            Vec::new()
        };
        LaunchSpec {
            name: agent,
            manifest,
            args: injection.args,
            env: injection.env,
            env_remove,
            files: injection.files,
            session_meta: injection.session_meta,
            cwd,
            locks: None,
            lease: injection.lease,
        }
    }

    /// What preset `name` becomes for the agent of `manifest`, refused when the agent
    /// cannot use its kind. Files go under the data directory, per agent and preset.
    pub fn injection(&self, manifest: &Manifest, name: &PresetName) -> Result<Injection, Error> {
        let mut preset = self.preset(name)?;
        let kind = preset.kind;
        // A preset the gateway translates for this agent is given in the agent's kind.
        preset.kind = self.client_kind(manifest, &preset).unwrap_or(kind);
        let dir = launch::files_dir(&self.paths.data_dir, manifest.id.as_str(), name.as_str());
        manifest
            .injection(&preset, &dir)
            .map_err(|_| AgentError::wrong_kind(manifest, name.as_str(), kind).into())
    }

    /// Supervisor settings for this engine (logs under the data directory).
    pub fn supervisor_options(&self) -> SupervisorOptions {
        let mut options = SupervisorOptions::new(self.agent_log_dir());
        options.instrument = self.recorder.clone();
        options
    }

    /// Where per-agent logs are written.
    pub fn agent_log_dir(&self) -> PathBuf {
        self.paths.data_dir.join("logs")
    }

    /// Starts `agent` with `preset`, initializes it, sends `prompt` if given, stops
    /// it. `live` receives the reply as it streams.
    pub async fn check_agent(
        &self,
        agent: &str,
        preset: Option<&PresetName>,
        prompt: Option<&str>,
        timeout: Duration,
        live: Option<mpsc::UnboundedSender<RunEvent>>,
    ) -> Result<CheckReport, Error> {
        let started = Instant::now();
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
        // The preset actually used: the one named, else the agent's active one.
        let (spec, preset_name) = self.resolve_launch(agent, preset, cwd)?;
        // Its requests through the gateway are this launch's rows in the ledger.
        let launch = spec.lease.as_ref().map(|l| l.0.short_id().to_owned());
        // A hard-stop budget refuses the run here, before anything starts.
        let reservation = if prompt.is_some() {
            self.reserve_run(agent, preset_name.as_deref(), None)?
        } else {
            None
        };
        let mut initialized_ms = None;
        let mut version = None;
        let run = async {
            if spec.manifest.lifetime == Lifetime::Session {
                let mut options = self.supervisor_options();
                options.init_timeout = timeout;
                options.prompt_timeout = timeout;
                let supervisor = Supervisor::new(options);
                let handle = supervisor.start(spec).await?;
                initialized_ms = Some(millis(started.elapsed()));
                let outcome = match prompt {
                    Some(text) => Some(handle.prompt(text, live).await),
                    None => None,
                };
                handle.stop().await?;
                Ok::<_, Error>(outcome.transpose()?)
            } else {
                Ok(match prompt {
                    Some(text) => Some(run_once(&spec, text, timeout, live).await?),
                    None => {
                        version = Some(self.cli_version(agent, &spec.manifest).await?);
                        None
                    }
                })
            }
        };
        let outcome = run.await;
        // Whatever happened: the metrics are kept and the reservation is released.
        self.flush_metrics()?;
        if outcome.is_err()
            && let Some(id) = reservation
        {
            self.release(&[id], None)?;
        }
        let outcome = outcome?;
        let summary = outcome.map(|o| o.summary);
        let mut cost_usd = summary.as_ref().and_then(|s| s.cost_usd);
        // Through the gateway, every request is in the ledger already.
        self.settle_gateway(None);
        let gateway_usage = match &launch {
            Some(launch) => self.open_store()?.gateway_usage_of_launch(launch)?,
            None => None,
        };
        // A check that made no request through the gateway keeps the agent's report.
        let metered = gateway_usage.is_some();
        if let Some(s) = summary
            .as_ref()
            .filter(|s| !metered && s.tokens != crate::agents::event::TokenCounts::default())
        {
            let mut row = self.usage_row(
                agent,
                preset_name.as_deref(),
                s.model.as_deref(),
                s.tokens,
                s.cost_usd,
                None,
            );
            row.session_id.clone_from(&s.session_id);
            cost_usd = row.cost_usd;
            self.record_usage(&[row])?;
        }
        if let Some(id) = reservation {
            self.release(&[id], None)?;
        }
        self.flush_metrics()?;
        let checked = match (&summary, &version) {
            (Some(_), _) => Checked::Prompt,
            (None, Some(_)) => Checked::Version,
            (None, None) => Checked::Initialized,
        };
        Ok(CheckReport {
            agent: agent.to_owned(),
            checked,
            version,
            preset: preset_name.clone(),
            reply: summary.as_ref().map(|s| s.text.clone()),
            stop_reason: summary.as_ref().and_then(|s| s.stop_reason.clone()),
            usage: match (&gateway_usage, &summary) {
                (Some((t, _, _)), _) => Some(CheckUsage::from_tokens(t, "gateway")),
                (None, Some(s)) => Some(CheckUsage::from_tokens(&s.tokens, "agent")),
                (None, None) => None,
            },
            cost_usd: match gateway_usage {
                Some((_, cost, _)) => cost,
                None => cost_usd,
            },
            initialized_ms,
            duration_ms: millis(started.elapsed()),
        })
    }
}

impl Engine {
    /// Starts a per-task CLI with its version flag: installed, and it runs. A missing
    /// program fails like a session agent's; one that prints nothing in time too.
    async fn cli_version(
        &self,
        agent: &str,
        manifest: &crate::agents::Manifest,
    ) -> Result<String, Error> {
        let path = crate::agents::resolve_command(&manifest.command)
            .ok_or_else(|| crate::supervisor::SupervisorError::not_installed(agent, manifest))?;
        let args = manifest.version_args.clone();
        let shown = format!("{} {}", manifest.command, args.join(" "));
        let probed = tokio::task::spawn_blocking(move || {
            let deadline = Instant::now() + super::discovery::PROBE_DEADLINE;
            VersionProbe::start(&path, &args)?.wait(deadline)
        })
        .await;
        probed.ok().flatten().ok_or_else(|| {
            crate::supervisor::SupervisorError::Agent {
                agent: agent.to_owned(),
                message: format!(
                    "agent {agent}: `{shown}` printed no version within 3 s: run it yourself to see why"
                ),
            }
            .into()
        })
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}
