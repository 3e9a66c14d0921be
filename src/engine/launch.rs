//! Interactive launches: `aiswitch run <agent>` and `apply <preset> -- <cmd>` when the
//! command is a known agent CLI. They get the manifest's full injection (env vars,
//! flags, files) but not its headless-mode arguments and env (`-p`, stream-json,
//! trusting the workspace), which are for runs aiswitch drives itself.

use std::path::{Path, PathBuf};

use super::Engine;
use super::choice::{PresetChoice, PresetSource};
use crate::Error;
use crate::agents::{Injection, Launch, Manifest, resolve_command, stale_provider_vars};
use crate::events::Event;
use crate::supervisor::SupervisorError;

/// Whether the program must be on PATH.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Installed {
    /// It must: the launch is about to run.
    Required,
    /// It need not: the command is only printed, with the program's bare name.
    NotRequired,
}

impl Engine {
    /// The launch of `agent` with the preset `choice` (none: the CLI's own settings),
    /// `extra` arguments after the injected ones; with `route`, through the engine
    /// host's gateway.
    pub fn interactive_launch(
        &self,
        agent: &str,
        choice: Option<&PresetChoice>,
        extra: &[String],
        installed: Installed,
        route: Option<&super::Route>,
    ) -> Result<Launch, Error> {
        let manifest = self.agent_registry().get(agent)?;
        let program = match (installed, resolve_command(&manifest.command)) {
            // A printed command looks the program up on PATH, as a script would.
            (Installed::NotRequired, _) => PathBuf::from(&manifest.command),
            (Installed::Required, Some(path)) => path,
            (Installed::Required, None) => {
                return Err(SupervisorError::not_installed(agent, &manifest).into());
            }
        };
        // Through the engine host's gateway: its URL and this launch's token.
        let injection = match (route, choice) {
            (Some(route), Some(choice)) => {
                let preset = self.preset(&choice.preset)?;
                let kind = self.client_kind(&manifest, &preset).unwrap_or(preset.kind);
                self.routed_injection(&manifest, &preset, kind, route)?.0
            }
            _ => self.choice_injection(&manifest, choice)?,
        };
        let (mut args, dropped) = manifest.user_flags_win(&injection.args, extra);
        args.extend(extra.iter().cloned());
        // With a preset, the agent gets exactly its provider; without one, the CLI
        // runs with the user's own settings, environment included.
        let env_remove = match choice {
            Some(_) => stale_provider_vars(&injection.env),
            None => Vec::new(),
        };
        Ok(Launch {
            program,
            args,
            env: injection.env,
            env_remove,
            files: injection.files,
            dropped,
        })
    }

    /// What `choice` injects into the agent of `manifest`: its switched environment
    /// as switched (snapshot semantics), else the preset as it is now.
    fn choice_injection(
        &self,
        manifest: &Manifest,
        choice: Option<&PresetChoice>,
    ) -> Result<Injection, Error> {
        match choice {
            None => Ok(Injection::default()),
            Some(PresetChoice {
                source: PresetSource::Switched,
                preset,
            }) => match self.active_injection(manifest)? {
                Some((injection, _)) => Ok(injection),
                None => self.injection(manifest, preset),
            },
            Some(choice) => self.injection(manifest, &choice.preset),
        }
    }

    /// The agent whose CLI `program` is (matched by its manifest's command, the one
    /// that takes `kind` first), for `apply -- CMD`.
    pub fn agent_for_command(
        &self,
        program: &str,
        kind: Option<crate::presets::ProviderKind>,
    ) -> Option<Manifest> {
        let name = Path::new(program).file_name()?.to_str()?;
        let candidates: Vec<Manifest> = self
            .agent_registry()
            .list()
            .0
            .into_iter()
            .map(|entry| entry.manifest)
            .filter(|m| m.command == name)
            .collect();
        let fits = candidates
            .iter()
            .position(|m| kind.is_some_and(|k| m.accepts(k)))
            .unwrap_or(0);
        candidates.into_iter().nth(fits)
    }

    /// Records an interactive launch as an `agent_launched` event.
    pub fn record_launch(&self, agent: &str, choice: Option<&PresetChoice>) -> Result<(), Error> {
        self.record(&[Event::AgentLaunched {
            agent: agent.to_owned(),
            preset: choice.map(|c| c.preset.to_string()),
        }])
    }
}
