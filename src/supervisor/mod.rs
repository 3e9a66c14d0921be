//! The supervisor: starts agent instances as child processes, one tokio task each,
//! isolates their faults, restarts them by policy, and leaves no orphan or zombie.
//!
//! Not here: what a task is or how several agents coordinate (the coordinator, a
//! later issue), and how a preset becomes env vars (the manifest).

mod client;
mod instance;
mod per_task;
mod process;
mod restart;
mod sampler;
mod state;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use tokio::sync::{broadcast, mpsc, oneshot, watch};

use crate::agents::Manifest;
use crate::agents::event::{RunEvent, RunSummary};
use crate::rpc::{DEFAULT_MAX_MESSAGE, Instrument, NoInstrument};

pub use client::FileLocks;
pub use per_task::run_once;
pub use restart::{Decision, RestartTracker};
pub use sampler::Usage;
pub use state::{AgentState, SupervisorEvent};

use instance::{Command, Instance};
use process::Reaper;

/// Supervisor errors; each names the agent.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SupervisorError {
    /// The agent's program is not installed.
    #[error(
        "agent {agent}: `{command}` is not installed or not on PATH; {}; `aiswitch doctor` shows more",
        install.as_deref().map(|i| format!("install it with `{i}`")).unwrap_or_else(|| "install it".into())
    )]
    NotInstalled {
        /// The instance.
        agent: String,
        /// The program.
        command: String,
        /// How to install it (from the manifest).
        install: Option<String>,
    },
    /// The process could not be started.
    #[error("agent {agent}: cannot start: {message}")]
    Spawn {
        /// The instance.
        agent: String,
        /// Why.
        message: String,
    },
    /// The agent faulted or failed a request.
    #[error("{message}")]
    Agent {
        /// The instance.
        agent: String,
        /// What happened, naming the agent.
        message: String,
    },
    /// A prompt arrived while another is running.
    #[error("agent {agent} is busy with another prompt")]
    Busy {
        /// The instance.
        agent: String,
    },
    /// The instance is not running.
    #[error("agent {agent} is {}", state.as_str())]
    NotRunning {
        /// The instance.
        agent: String,
        /// Its state.
        state: AgentState,
    },
}

/// Supervisor settings.
#[derive(Clone)]
pub struct SupervisorOptions {
    /// Where per-agent stderr logs go.
    pub log_dir: PathBuf,
    /// Rotate a log past this many bytes.
    pub log_max_bytes: u64,
    /// Timeout of `initialize` and `session/new`.
    pub init_timeout: Duration,
    /// Timeout of one prompt turn.
    pub prompt_timeout: Duration,
    /// Grace period of each stop step (stdin close, then SIGTERM).
    pub grace: Duration,
    /// Largest message accepted from an agent.
    pub max_message: usize,
    /// Receives a record of every RPC message.
    pub instrument: Arc<dyn Instrument>,
}

impl SupervisorOptions {
    /// Defaults with logs in `log_dir`.
    pub fn new(log_dir: PathBuf) -> Self {
        Self {
            log_dir,
            log_max_bytes: 1024 * 1024,
            init_timeout: Duration::from_secs(20),
            prompt_timeout: Duration::from_secs(600),
            grace: Duration::from_secs(2),
            max_message: DEFAULT_MAX_MESSAGE,
            instrument: Arc::new(NoInstrument),
        }
    }
}

/// What to start.
#[derive(Debug, Clone)]
pub struct LaunchSpec {
    /// The instance's name (the agent id, or id#n for several).
    pub name: String,
    /// The agent's manifest.
    pub manifest: Manifest,
    /// Extra arguments (from the preset's injection).
    pub args: Vec<String>,
    /// Extra env vars (from the preset's injection).
    pub env: Vec<(String, String)>,
    /// Env vars of aiswitch's own environment the agent must not inherit (provider
    /// variables a preset does not set; see `agents::stale_provider_vars`).
    pub env_remove: Vec<String>,
    /// Config files the agent reads (from the preset's injection), written before
    /// each start.
    pub files: Vec<crate::agents::InjectedFile>,
    /// `_meta` of the ACP `session/new` request (from the preset's injection).
    pub session_meta: Option<serde_json::Value>,
    /// The working directory.
    pub cwd: PathBuf,
    /// Per-file write locks shared with other agents (strict tasks).
    pub locks: Option<Arc<FileLocks>>,
    /// The gateway lease of this launch, held while the agent may run.
    pub lease: Option<crate::gateway::LeaseHandle>,
}

impl SupervisorError {
    /// The agent `name` of `manifest` is not installed.
    pub fn not_installed(name: &str, manifest: &Manifest) -> Self {
        Self::NotInstalled {
            agent: name.to_owned(),
            command: manifest.command.clone(),
            install: manifest.install.clone(),
        }
    }
}

/// An instance's state, pid, restarts and uptime.
#[derive(Debug, Clone, Copy)]
pub struct AgentStatus {
    /// The state.
    pub state: AgentState,
    /// The process (and group) id while running.
    pub pid: Option<u32>,
    /// Restarts so far.
    pub restarts: u32,
    /// When it first became ready.
    pub started_at: Option<Instant>,
    /// CPU and memory of its process tree at the last sample.
    pub usage: Usage,
    /// Highest memory seen, in bytes.
    pub peak_memory_bytes: u64,
}

/// The result of one prompt turn.
#[derive(Debug, Clone)]
pub struct PromptOutcome {
    /// Everything that happened, in order.
    pub events: Vec<RunEvent>,
    /// Text, usage and stop reason.
    pub summary: RunSummary,
    /// Wall time of the turn.
    pub duration: Duration,
}

/// State shared by the supervisor and its instance tasks.
pub(crate) struct Shared {
    options: SupervisorOptions,
    events: broadcast::Sender<SupervisorEvent>,
    /// Started on first use; `None` when `sh` could not be started.
    reaper: OnceLock<Option<Reaper>>,
    /// Serialises log appends; never held across an `.await`.
    log_lock: Mutex<()>,
    /// Every instance's status, for the sampler; locked briefly, never across an
    /// `.await`.
    statuses: Mutex<HashMap<String, Arc<watch::Sender<AgentStatus>>>>,
    /// True while the sampling task runs.
    sampling: AtomicBool,
}

impl Shared {
    fn publish(&self, event: SupervisorEvent) {
        let _ = self.events.send(event);
    }

    fn reaper(&self) -> Option<&Reaper> {
        self.reaper.get_or_init(|| Reaper::start().ok()).as_ref()
    }

    fn reaper_register(&self, pgid: u32) {
        if let Some(reaper) = self.reaper() {
            reaper.register(pgid);
        }
    }

    fn reaper_forget(&self, pgid: u32) {
        if let Some(reaper) = self.reaper() {
            reaper.forget(pgid);
        }
    }

    /// Instances with a running process: (name, pid).
    fn running_pids(&self) -> Vec<(String, u32)> {
        let statuses = self
            .statuses
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        statuses
            .iter()
            .filter_map(|(name, tx)| tx.borrow().pid.map(|pid| (name.clone(), pid)))
            .collect()
    }

    fn record_usage(&self, name: &str, usage: Usage) {
        let statuses = self
            .statuses
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(tx) = statuses.get(name) {
            tx.send_modify(|s| {
                s.usage = usage;
                s.peak_memory_bytes = s.peak_memory_bytes.max(usage.memory_bytes);
            });
        }
    }

    fn sampler_stopped(&self) {
        self.sampling.store(false, Ordering::SeqCst);
    }

    /// Marks the sampler running; false when it already was.
    fn claim_sampler(&self) -> bool {
        !self.sampling.swap(true, Ordering::SeqCst)
    }

    /// Starts the sampler unless it runs.
    fn ensure_sampler(self: &Arc<Self>) {
        if self.claim_sampler() {
            tokio::spawn(sampler::run(Arc::downgrade(self)));
        }
    }

    /// True while the sampler runs (for tests and `status`).
    pub(crate) fn is_sampling(&self) -> bool {
        self.sampling.load(Ordering::SeqCst)
    }

    fn append_log(&self, agent: &str, line: &str) {
        let _guard = self
            .log_lock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if crate::paths::ensure_private_dir(&self.options.log_dir).is_ok() {
            let _ = instance::append_line(
                &self.options.log_dir,
                agent,
                line,
                self.options.log_max_bytes,
            );
        }
    }
}

/// The supervisor handle; clones share it.
#[derive(Clone)]
pub struct Supervisor {
    shared: Arc<Shared>,
}

/// A handle to one instance; clones share it.
#[derive(Clone)]
pub struct AgentHandle {
    name: String,
    tx: mpsc::Sender<Command>,
    status: watch::Receiver<AgentStatus>,
}

impl Supervisor {
    /// A supervisor with no agents.
    pub fn new(options: SupervisorOptions) -> Self {
        let (events, _) = broadcast::channel(1024);
        // The reaper starts now, not at the first spawn, so registering an agent's
        // group right after its spawn is one pipe write: no window in which the
        // supervisor could die with a group the reaper does not know.
        let reaper = OnceLock::new();
        let _ = reaper.set(Reaper::start().ok());
        Self {
            shared: Arc::new(Shared {
                options,
                events,
                reaper,
                log_lock: Mutex::new(()),
                statuses: Mutex::new(HashMap::new()),
                sampling: AtomicBool::new(false),
            }),
        }
    }

    /// True while CPU and memory are being sampled (only while an agent runs).
    pub fn is_sampling(&self) -> bool {
        self.shared.is_sampling()
    }

    /// Every event from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<SupervisorEvent> {
        self.shared.events.subscribe()
    }

    /// Starts an instance and waits until it is ready (idle) or has failed for good.
    pub async fn start(&self, spec: LaunchSpec) -> Result<AgentHandle, SupervisorError> {
        let name = spec.name.clone();
        let (tx, rx) = mpsc::channel(16);
        let (status_tx, status) = watch::channel(AgentStatus {
            state: AgentState::Starting,
            pid: None,
            restarts: 0,
            started_at: None,
            usage: Usage::default(),
            peak_memory_bytes: 0,
        });
        let status_tx = Arc::new(status_tx);
        self.shared
            .statuses
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(name.clone(), status_tx.clone());
        self.shared.ensure_sampler();
        let mut events = self.subscribe();
        tokio::spawn(Instance::new(spec, self.shared.clone(), rx, status_tx).run());
        let handle = AgentHandle {
            name: name.clone(),
            tx,
            status,
        };
        // Ready, or a fault before the first ready: the first start decides.
        let mut status = handle.status.clone();
        let mut first_fault = None;
        // What it wrote on stderr, which usually says why it could not start.
        let mut said: Vec<String> = Vec::new();
        loop {
            let current = status.borrow_and_update().state;
            match current {
                AgentState::Idle | AgentState::Busy => return Ok(handle),
                AgentState::Error | AgentState::Stopped => {
                    // The fault event may still be queued behind the state change.
                    while let Ok(event) = events.try_recv() {
                        match event {
                            SupervisorEvent::Log { agent, line } if agent == name => {
                                remember(&mut said, line);
                            }
                            SupervisorEvent::Fault { agent, message } if agent == name => {
                                first_fault.get_or_insert(fault(agent, message, &said));
                            }
                            _ => {}
                        }
                    }
                    return Err(first_fault.unwrap_or(SupervisorError::NotRunning {
                        agent: name,
                        state: current,
                    }));
                }
                _ => {}
            }
            tokio::select! {
                changed = status.changed() => if changed.is_err() {
                    return Err(first_fault.unwrap_or(SupervisorError::NotRunning { agent: name, state: AgentState::Stopped }));
                },
                event = events.recv() => match event {
                    Ok(SupervisorEvent::Log { agent, line }) if agent == name => remember(&mut said, line),
                    Ok(SupervisorEvent::Fault { agent, message }) if agent == name => {
                        // A first start that faults does not wait for restarts (the
                        // instance may already have scheduled one).
                        let _ = handle.stop().await;
                        return Err(first_fault.unwrap_or_else(|| fault(agent, message, &said)));
                    }
                    _ => {}
                },
            }
        }
    }
}

/// Keeps the first 49 lines an agent wrote and its latest one.
fn remember(said: &mut Vec<String>, line: String) {
    if said.len() < 50 {
        said.push(line);
    } else {
        said[49] = line;
    }
}

/// A fault before the first ready, with the line of its stderr that says why.
fn fault(agent: String, message: String, said: &[String]) -> SupervisorError {
    let message = match why(said) {
        Some(line) => format!("{message}; it wrote: {line}"),
        None => message,
    };
    SupervisorError::Agent { agent, message }
}

/// The line of an agent's stderr that best says why it failed: the first that
/// mentions an error, else the last.
fn why(lines: &[String]) -> Option<&str> {
    lines
        .iter()
        .find(|l| l.to_lowercase().contains("error"))
        .or_else(|| lines.last())
        .map(String::as_str)
}

impl AgentHandle {
    /// The instance's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The current status.
    pub fn status(&self) -> AgentStatus {
        *self.status.borrow()
    }

    /// Waits until the state satisfies `f`, or the instance is gone.
    pub async fn wait_for(&self, f: impl Fn(AgentState) -> bool) -> AgentState {
        let mut status = self.status.clone();
        status
            .wait_for(|s| f(s.state))
            .await
            .map_or(AgentState::Stopped, |s| s.state)
    }

    /// Sends a prompt and waits for the turn to end; `live` receives events as they
    /// arrive.
    pub async fn prompt(
        &self,
        text: &str,
        live: Option<mpsc::UnboundedSender<RunEvent>>,
    ) -> Result<PromptOutcome, SupervisorError> {
        let (reply, rx) = oneshot::channel();
        let gone = || SupervisorError::NotRunning {
            agent: self.name.clone(),
            state: AgentState::Stopped,
        };
        self.tx
            .send(Command::Prompt {
                text: text.to_owned(),
                live,
                reply,
            })
            .await
            .map_err(|_| gone())?;
        rx.await.map_err(|_| gone())?
    }

    /// Asks the agent to cancel the prompt in flight.
    pub async fn cancel(&self) {
        let _ = self.tx.send(Command::Cancel).await;
    }

    /// Stops the instance gracefully and waits until it is gone.
    pub async fn stop(&self) -> Result<(), SupervisorError> {
        let (reply, rx) = oneshot::channel();
        if self.tx.send(Command::Stop { reply }).await.is_ok() {
            let _ = rx.await;
        }
        Ok(())
    }
}
