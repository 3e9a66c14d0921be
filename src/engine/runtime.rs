//! Long-lived agents, as the daemon (or the desktop app) holds them: what
//! `agents start|stop|restart|status` act on. One instance per agent id.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::SystemTime;

use serde::Serialize;
use tokio::sync::{Mutex, broadcast, watch};

use super::Engine;
use crate::Error;
use crate::agents::AgentError;
use crate::coordinator::{Canceller, TaskResult, TaskSpec, cancellation};
use crate::events::{Event, EventRecord};
use crate::presets::PresetName;
use crate::supervisor::{AgentHandle, AgentState, Supervisor, SupervisorEvent};

/// A task the daemon runs.
struct RunningTask {
    cancel: Canceller,
    /// Its agents, for cancelling one of them.
    agents: Vec<String>,
    /// `Some` once the task has ended.
    done: watch::Receiver<Option<TaskResult>>,
}

/// One agent's status as `agents status` shows it.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
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
    /// Started without a preset: it runs with the agent's active environment and
    /// restarts onto a new one after `env switch`.
    follows_switches: bool,
}

/// The long-lived agents of one engine.
pub struct AgentRuntime {
    engine: Engine,
    supervisor: Supervisor,
    /// Held across `.await` while an agent starts or stops, so two starts of one
    /// agent cannot race: a tokio mutex.
    agents: Mutex<HashMap<String, Entry>>,
    started: SystemTime,
    events: broadcast::Sender<EventRecord>,
    /// Turns true at shutdown: the metrics flush stops.
    stopping: watch::Sender<bool>,
    /// Tasks started here; a std mutex, never held across an `.await`.
    tasks: std::sync::Arc<std::sync::Mutex<HashMap<String, RunningTask>>>,
}

impl AgentRuntime {
    /// A runtime with no agents, hosting the engine's events: stored events (from
    /// this process or any other) and live ones reach [`Self::subscribe`]rs.
    pub fn new(engine: Engine) -> Self {
        let supervisor = Supervisor::new(engine.supervisor_options());
        let (events, _) = broadcast::channel(4096);
        let (stopping, _) = watch::channel(false);
        let mut agent_events = supervisor.subscribe();
        let forward = events.clone();
        let alerting = engine.clone();
        tokio::spawn(async move {
            loop {
                match agent_events.recv().await {
                    Ok(event) => {
                        raise_agent_alert(&alerting, &event);
                        let _ = forward.send(EventRecord::live(event.into()));
                    }
                    Err(broadcast::error::RecvError::Lagged(_)) => {}
                    Err(broadcast::error::RecvError::Closed) => return,
                }
            }
        });
        let relay = crate::events::relay::Relay::new(&engine, events.clone());
        engine.host_relay(std::sync::Arc::new(relay));
        // RPC metrics reach the store every few seconds (and at shutdown).
        let flushing = engine.clone();
        let mut stop = stopping.subscribe();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(5));
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    _ = stop.changed() => return,
                }
                if let Err(e) = flushing.flush_metrics() {
                    tracing::warn!(error = %e, "cannot store RPC metrics");
                }
            }
        });
        Self {
            engine,
            supervisor,
            agents: Mutex::new(HashMap::new()),
            started: SystemTime::now(),
            events,
            stopping,
            tasks: std::sync::Arc::default(),
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

    /// Every event from now on: stored ones in commit order, live ones as they happen.
    pub fn subscribe(&self) -> broadcast::Receiver<EventRecord> {
        self.events.subscribe()
    }

    /// Wakes the relay: another process committed events (`event.wake`).
    pub fn wake(&self) {
        self.engine.wake_host();
    }

    /// Starts a planned task in the background and returns its id at once; its
    /// progress goes to subscribers, its result to the store.
    pub fn assign(&self, spec: TaskSpec) -> Result<String, Error> {
        self.engine.begin_task(&spec)?;
        let id = spec.id.clone();
        let (cancel, cancel_rx) = cancellation();
        let agents = spec.agents.iter().map(|a| a.launch.name.clone()).collect();
        let (done_tx, done) = watch::channel(None);
        let (live_tx, mut live_rx) = tokio::sync::mpsc::unbounded_channel();
        let events = self.events.clone();
        let task_id = id.clone();
        tokio::spawn(async move {
            // What is queued when the relay wakes goes out together, output joined.
            let mut queued = Vec::new();
            while live_rx.recv_many(&mut queued, 1024).await > 0 {
                for event in crate::coordinator::join_output(std::mem::take(&mut queued)) {
                    if let Some(event) = Event::of_task(&task_id, event) {
                        let _ = events.send(EventRecord::live(event));
                    }
                }
            }
        });
        // In the table before it can end, so it can leave it when it ends.
        self.lock_tasks().insert(
            id.clone(),
            RunningTask {
                cancel,
                agents,
                done,
            },
        );
        let engine = self.engine.clone();
        let tasks = self.tasks.clone();
        tokio::spawn(async move {
            let result = engine
                .run_begun_task(spec, Some(live_tx), Some(cancel_rx))
                .await;
            let id = result.id.clone();
            // Waiters have the result; a later `task.result` reads it from the store.
            done_tx.send_replace(Some(result));
            tasks
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .remove(&id);
        });
        Ok(id)
    }

    /// Cancels a task this daemon runs, or with `agent` that agent alone (the others
    /// go on). False when it does not run the task or the task has no such agent.
    pub fn cancel_task(&self, id: &str, agent: Option<&str>) -> bool {
        self.lock_tasks().get(id).is_some_and(|t| match agent {
            None => {
                t.cancel.cancel_all();
                true
            }
            Some(agent) if t.agents.iter().any(|a| a == agent) => {
                t.cancel.cancel_agent(agent);
                true
            }
            Some(_) => false,
        })
    }

    /// Waits for a task this daemon runs to end; `None` when it does not run it.
    pub async fn wait_task(&self, id: &str) -> Option<TaskResult> {
        let mut done = self.lock_tasks().get(id).map(|t| t.done.clone())?;
        done.wait_for(Option::is_some).await.ok()?.clone()
    }

    fn lock_tasks(&self) -> std::sync::MutexGuard<'_, HashMap<String, RunningTask>> {
        self.tasks
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
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
        let (spec, used) = self.engine.resolve_launch(agent, preset, cwd)?;
        let handle = self.supervisor.start(spec).await?;
        let entry = Entry {
            handle,
            preset: used,
            follows_switches: preset.is_none(),
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

    /// Moves a session agent that follows the active environment onto a switch: at the
    /// end of its current turn (never in the middle of one) it is restarted with the
    /// new environment, and an `agent_env_restarted` event says so. Returns whether it
    /// restarted.
    pub async fn pick_up_switch(&self, agent: &str) -> Result<bool, Error> {
        let (handle, from) = {
            let agents = self.agents.lock().await;
            match agents.get(agent) {
                Some(entry) if entry.follows_switches => {
                    (entry.handle.clone(), entry.preset.clone())
                }
                _ => return Ok(false),
            }
        };
        let to = self.engine.env_store(agent).active()?.map(|a| a.preset);
        if to == from {
            return Ok(false);
        }
        if let Some(to) = &to
            && self.engine.live_switchable(from.as_deref(), to)
            && let Ok(name) = crate::presets::PresetName::parse(to)
            && let Some(moved) = self.engine.switch_gateway(agent, &name)?
            && moved > 0
        {
            if let Some(entry) = self.agents.lock().await.get_mut(agent) {
                entry.preset = Some(to.clone());
            }
            let _ = self
                .events
                .send(EventRecord::live(Event::AgentEnvSwitchedLive {
                    agent: agent.to_owned(),
                    from,
                    to: to.clone(),
                }));
            return Ok(true);
        }
        // The turn in progress finishes with the environment it started with.
        let state = handle.wait_for(|s| s != AgentState::Busy).await;
        if matches!(state, AgentState::Stopped | AgentState::Error) {
            return Ok(false);
        }
        let mut agents = self.agents.lock().await;
        let Some(entry) = agents.remove(agent) else {
            return Ok(false);
        };
        entry.handle.stop().await?;
        drop(agents);
        let started = self.start(agent, None).await?;
        let _ = self
            .events
            .send(EventRecord::live(Event::AgentEnvRestarted {
                agent: agent.to_owned(),
                from,
                to: started.preset,
            }));
        Ok(true)
    }

    /// Every agent this runtime holds, sorted by id.
    pub async fn status(&self) -> Vec<AgentStatusView> {
        let agents = self.agents.lock().await;
        let mut views: Vec<AgentStatusView> = agents.iter().map(|(id, e)| view(id, e)).collect();
        views.sort_by(|a, b| a.agent.cmp(&b.agent));
        views
    }

    /// Stops every agent and cancels every task (daemon shutdown).
    pub async fn shutdown(&self) {
        let running: Vec<watch::Receiver<Option<TaskResult>>> = self
            .lock_tasks()
            .values()
            .map(|t| {
                t.cancel.cancel_all();
                t.done.clone()
            })
            .collect();
        for mut done in running {
            let _ = tokio::time::timeout(
                std::time::Duration::from_secs(10),
                done.wait_for(Option::is_some),
            )
            .await;
        }
        let mut agents = self.agents.lock().await;
        for (_, entry) in agents.drain() {
            let _ = entry.handle.stop().await;
        }
        let _ = self.engine.flush_metrics();
        self.stopping.send_replace(true);
    }
}

/// Crash and restart-limit alerts, rate-limited through their keys: one crash alert
/// per agent per minute, one restart-limit alert per agent per hour.
fn raise_agent_alert(engine: &Engine, event: &SupervisorEvent) {
    use crate::alerts::AlertKind;
    let (kind, agent, message) = match event {
        SupervisorEvent::Fault { agent, message } => (
            AlertKind::AgentCrashed,
            agent,
            format!("agent {agent} faulted: {message}"),
        ),
        SupervisorEvent::Exited {
            agent,
            code,
            signal,
        } if *code != Some(0) => (
            AlertKind::AgentCrashed,
            agent,
            format!("agent {agent} exited (code {code:?}, signal {signal:?})"),
        ),
        SupervisorEvent::GaveUp { agent, restarts } => (
            AlertKind::RestartLimit,
            agent,
            format!("agent {agent} gave up after {restarts} restarts"),
        ),
        _ => return,
    };
    if let Err(e) = engine.raise_alert(kind, agent, "", &message) {
        tracing::warn!(error = %e, "cannot record an alert");
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
