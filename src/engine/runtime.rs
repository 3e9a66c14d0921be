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
use crate::coordinator::{TaskEvent, TaskResult, TaskSpec, run_task};
use crate::presets::PresetName;
use crate::store::EventKind;
use crate::supervisor::{AgentHandle, AgentState, Supervisor, SupervisorEvent};

/// What the daemon pushes to subscribers: agent events and task progress.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum LiveEvent {
    /// An agent's state change, fault, restart or log line.
    Agent(SupervisorEvent),
    /// A new alert (from any aiswitch process: the daemon watches the table).
    Alert {
        /// Always `alert`.
        event: &'static str,
        /// The alert.
        #[serde(flatten)]
        alert: crate::store::AlertRow,
    },
    /// An agent's provider was switched or rolled back (by any aiswitch process).
    Env {
        /// Always `env_switched`.
        event: &'static str,
        /// The switch: `preset` and `detail` (agent, snapshot, verified or rollback).
        #[serde(flatten)]
        switch: crate::store::Event,
    },
    /// A session agent restarted at the end of its turn to pick up a switch.
    EnvRestart {
        /// Always `agent_env_restarted`.
        event: &'static str,
        /// The agent.
        agent: String,
        /// The preset it ran with.
        from: Option<String>,
        /// The preset it runs with now.
        to: Option<String>,
    },
    /// Progress of a task.
    Task {
        /// The task's id.
        task: String,
        /// What happened.
        #[serde(flatten)]
        event: TaskEvent,
    },
}

/// The daemon's one open connection for polling alerts and switches that any
/// aiswitch process wrote, with the last row of each already pushed.
struct Newsfeed {
    store: crate::store::Store,
    last_alert: i64,
    last_switch: i64,
}

impl Newsfeed {
    /// `None` until the database exists (it is never created just to poll it).
    fn open(engine: &Engine, skip_existing: bool) -> Option<Self> {
        if !engine.paths().database().exists() {
            return None;
        }
        let store = engine
            .open_store()
            .map_err(|e| tracing::warn!(error = %e, "cannot watch for alerts and switches"))
            .ok()?;
        let (last_alert, last_switch) = if skip_existing {
            (
                store.last_alert_id().unwrap_or(0),
                store.last_event_id(EventKind::EnvSwitched).unwrap_or(0),
            )
        } else {
            (0, 0)
        };
        Some(Self {
            store,
            last_alert,
            last_switch,
        })
    }

    fn push(&mut self, events: &broadcast::Sender<LiveEvent>) {
        for alert in self.store.alerts_after(self.last_alert).unwrap_or_default() {
            self.last_alert = alert.id;
            let _ = events.send(LiveEvent::Alert {
                event: "alert",
                alert,
            });
        }
        let switches = self
            .store
            .events_after(EventKind::EnvSwitched, self.last_switch)
            .unwrap_or_default();
        for (id, switch) in switches {
            self.last_switch = id;
            let _ = events.send(LiveEvent::Env {
                event: "env_switched",
                switch,
            });
        }
    }
}

/// A task the daemon runs.
struct RunningTask {
    cancel: watch::Sender<bool>,
    /// `Some` once the task has ended.
    done: watch::Receiver<Option<TaskResult>>,
}

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
    events: broadcast::Sender<LiveEvent>,
    /// Tasks started here; a std mutex, never held across an `.await`.
    tasks: std::sync::Mutex<HashMap<String, RunningTask>>,
}

impl AgentRuntime {
    /// A runtime with no agents.
    pub fn new(engine: Engine) -> Self {
        let supervisor = Supervisor::new(engine.supervisor_options());
        let (events, _) = broadcast::channel(4096);
        let mut agent_events = supervisor.subscribe();
        let forward = events.clone();
        let alerting = engine.clone();
        tokio::spawn(async move {
            loop {
                match agent_events.recv().await {
                    Ok(event) => {
                        raise_agent_alert(&alerting, &event);
                        let _ = forward.send(LiveEvent::Agent(event));
                    }
                    Err(broadcast::error::RecvError::Lagged(_)) => {}
                    Err(broadcast::error::RecvError::Closed) => return,
                }
            }
        });
        // Alerts and switches are written by whichever process made them; push new ones.
        let watching = engine.clone();
        let pushing = events.clone();
        tokio::spawn(async move {
            // What is already there is old news; a database that appears later is all new.
            let mut feed = Newsfeed::open(&watching, true);
            let mut tick = tokio::time::interval(std::time::Duration::from_millis(500));
            loop {
                tick.tick().await;
                if feed.is_none() {
                    feed = Newsfeed::open(&watching, false);
                }
                if let Some(feed) = feed.as_mut() {
                    feed.push(&pushing);
                }
            }
        });
        // RPC metrics reach the store every few seconds (and at shutdown).
        let flushing = engine.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(5));
            loop {
                tick.tick().await;
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
            tasks: std::sync::Mutex::new(HashMap::new()),
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

    /// Agent and task events from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<LiveEvent> {
        self.events.subscribe()
    }

    /// Starts a planned task in the background and returns its id at once; its
    /// progress goes to subscribers, its result to the store.
    pub fn assign(&self, spec: TaskSpec) -> Result<String, Error> {
        self.engine.reserve_task(&spec)?;
        self.engine.task_started(&spec)?;
        let id = spec.id.clone();
        let (cancel, cancel_rx) = watch::channel(false);
        let (done_tx, done) = watch::channel(None);
        let (live_tx, mut live_rx) = tokio::sync::mpsc::unbounded_channel();
        let events = self.events.clone();
        let task_id = id.clone();
        tokio::spawn(async move {
            while let Some(event) = live_rx.recv().await {
                let _ = events.send(LiveEvent::Task {
                    task: task_id.clone(),
                    event,
                });
            }
        });
        let engine = self.engine.clone();
        let options = engine.supervisor_options();
        tokio::spawn(async move {
            // Every path ends the task: recorded, reservation released, result out.
            let mut result = run_task(spec, options, Some(live_tx), Some(cancel_rx)).await;
            if let Err(e) = engine.task_finished(&mut result) {
                tracing::warn!(error = %e, "cannot record a finished task");
            }
            done_tx.send_replace(Some(result));
        });
        self.lock_tasks()
            .insert(id.clone(), RunningTask { cancel, done });
        Ok(id)
    }

    /// Cancels a task this daemon runs; false when it does not run it.
    pub fn cancel_task(&self, id: &str) -> bool {
        self.lock_tasks().get(id).is_some_and(|t| {
            t.cancel.send_replace(true);
            true
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
        let _ = self.events.send(LiveEvent::EnvRestart {
            event: "agent_env_restarted",
            agent: agent.to_owned(),
            from,
            to: started.preset,
        });
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
                t.cancel.send_replace(true);
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
