//! Long-lived agents, as the daemon (or the desktop app) holds them: what
//! `agents start|stop|restart|status` act on. One instance per agent id.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::SystemTime;

use serde::Serialize;
use tokio::sync::{Mutex, broadcast};

use super::Engine;
use crate::Error;
use crate::agents::AgentError;
use crate::presets::PresetName;
use crate::supervisor::{AgentHandle, AgentState, Supervisor, SupervisorEvent};

/// One agent's status as `agents status` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct AgentStatusView {
    /// The agent id.
    pub agent: String,
    /// Its state.
    pub state: AgentState,
    /// Its process id while running.
    pub pid: Option<u32>,
    /// Seconds since it first became ready.
    pub uptime_secs: Option<u64>,
    /// Restarts so far.
    pub restarts: u32,
    /// CPU of its process tree, percent of one core.
    pub cpu_percent: f32,
    /// Resident memory of its process tree, bytes.
    pub memory_bytes: u64,
    /// Highest memory seen, bytes.
    pub peak_memory_bytes: u64,
    /// The preset it runs with.
    pub preset: Option<String>,
}

struct Entry {
    handle: AgentHandle,
    preset: Option<String>,
}

/// The long-lived agents of one engine.
pub struct AgentRuntime {
    engine: Engine,
    supervisor: Supervisor,
    /// Held across `.await` while an agent starts or stops, so two starts of one
    /// agent cannot race: a tokio mutex.
    agents: Mutex<HashMap<String, Entry>>,
    started: SystemTime,
}

impl AgentRuntime {
    /// A runtime with no agents.
    pub fn new(engine: Engine) -> Self {
        let supervisor = Supervisor::new(engine.supervisor_options());
        Self {
            engine,
            supervisor,
            agents: Mutex::new(HashMap::new()),
            started: SystemTime::now(),
        }
    }

    /// The engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// When this runtime started.
    pub fn started(&self) -> SystemTime {
        self.started
    }

    /// Supervisor events from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<SupervisorEvent> {
        self.supervisor.subscribe()
    }

    /// Starts `agent` with `preset`; an agent already running is an error.
    pub async fn start(
        &self,
        agent: &str,
        preset: Option<&PresetName>,
    ) -> Result<AgentStatusView, Error> {
        let mut agents = self.agents.lock().await;
        if let Some(entry) = agents.get(agent)
            && !matches!(
                entry.handle.status().state,
                AgentState::Stopped | AgentState::Error
            )
        {
            return Err(AgentError::AlreadyRunning {
                id: agent.to_owned(),
            }
            .into());
        }
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
        let spec = self.engine.launch_spec(agent, preset, cwd)?;
        let handle = self.supervisor.start(spec).await?;
        let entry = Entry {
            handle,
            preset: preset.map(ToString::to_string),
        };
        let view = view(agent, &entry);
        agents.insert(agent.to_owned(), entry);
        Ok(view)
    }

    /// Stops `agent` gracefully.
    pub async fn stop(&self, agent: &str) -> Result<AgentStatusView, Error> {
        let mut agents = self.agents.lock().await;
        let entry = agents.remove(agent).ok_or_else(|| AgentError::NotRunning {
            id: agent.to_owned(),
        })?;
        entry.handle.stop().await?;
        Ok(view(agent, &entry))
    }

    /// Stops and starts `agent` with the same preset.
    pub async fn restart(&self, agent: &str) -> Result<AgentStatusView, Error> {
        let preset = self.stop(agent).await?.preset;
        let preset = preset.as_deref().map(PresetName::parse).transpose()?;
        self.start(agent, preset.as_ref()).await
    }

    /// Every agent this runtime holds, sorted by id.
    pub async fn status(&self) -> Vec<AgentStatusView> {
        let agents = self.agents.lock().await;
        let mut views: Vec<AgentStatusView> = agents.iter().map(|(id, e)| view(id, e)).collect();
        views.sort_by(|a, b| a.agent.cmp(&b.agent));
        views
    }

    /// Stops every agent (daemon shutdown).
    pub async fn shutdown(&self) {
        let mut agents = self.agents.lock().await;
        for (_, entry) in agents.drain() {
            let _ = entry.handle.stop().await;
        }
    }
}

fn view(agent: &str, entry: &Entry) -> AgentStatusView {
    let status = entry.handle.status();
    AgentStatusView {
        agent: agent.to_owned(),
        state: status.state,
        pid: status.pid,
        uptime_secs: status.started_at.map(|t| t.elapsed().as_secs()),
        restarts: status.restarts,
        cpu_percent: status.usage.cpu_percent,
        memory_bytes: status.usage.memory_bytes,
        peak_memory_bytes: status.peak_memory_bytes,
        preset: entry.preset.clone(),
    }
}
