//! Running a task: workspaces, the order, the coordination mode, the result.

use std::sync::Arc;
use std::time::Instant;

use tokio::sync::{mpsc, watch};

use super::snapshot::{Snapshots, Tree};
use super::workspace::{self, Workspace};
use super::{
    CancelWatch, Coordination, Order, RunResult, RunStatus, TaskEvent, TaskResult, TaskSpec,
    TaskStatus, chain_prompt,
};
use crate::agents::Lifetime;
use crate::agents::event::{RunEvent, TokenCounts};
use crate::supervisor::{
    FileLocks, PromptOutcome, Supervisor, SupervisorError, SupervisorOptions, run_once,
};

/// Runs `spec` to the end and returns its result; `live` receives progress, ending
/// with `TaskFinished` on every path. A workspace that cannot be prepared fails the
/// task before any agent starts, with the reason on every run.
pub async fn run_task(
    spec: TaskSpec,
    options: SupervisorOptions,
    live: Option<mpsc::UnboundedSender<TaskEvent>>,
    user_cancel: Option<CancelWatch>,
) -> TaskResult {
    let started = Instant::now();
    if let Some(live) = &live {
        let agents = spec.agents.iter().map(|a| a.launch.name.clone()).collect();
        let _ = live.send(TaskEvent::TaskStarted { agents });
    }
    let mut notes = spec.notes.clone();
    let result = match prepare(&spec, &mut notes) {
        Ok(prepared) => {
            run_prepared(
                spec,
                options,
                live.clone(),
                user_cancel,
                prepared,
                notes,
                started,
            )
            .await
        }
        Err(e) => not_started(spec, notes, &e.to_string(), started),
    };
    if let Some(live) = &live {
        let _ = live.send(TaskEvent::TaskFinished {
            status: result.status,
        });
    }
    result
}

/// A task that could not start: every agent failed with `reason`.
fn not_started(
    spec: TaskSpec,
    mut notes: Vec<String>,
    reason: &str,
    started: Instant,
) -> TaskResult {
    let error = format!("the task could not start: {reason}");
    notes.push(error.clone());
    let runs = spec
        .agents
        .iter()
        .map(|a| blank(a, RunStatus::Failed, Some(error.clone()), 0))
        .collect();
    result_of(spec, TaskStatus::Failed, started, runs, notes, Vec::new())
}

/// The task's result: its runs with their tokens and cost summed.
fn result_of(
    spec: TaskSpec,
    status: TaskStatus,
    started: Instant,
    runs: Vec<RunResult>,
    notes: Vec<String>,
    restored: Vec<String>,
) -> TaskResult {
    let mut tokens = TokenCounts::default();
    let mut cost: Option<f64> = None;
    for run in &runs {
        tokens.add(&run.tokens);
        if let Some(c) = run.cost_usd {
            *cost.get_or_insert(0.0) += c;
        }
    }
    TaskResult {
        workdir: spec.workdir,
        id: spec.id,
        prompt: spec.prompt,
        order: spec.order,
        chain: spec.chain,
        coordination: spec.coordination,
        status,
        duration_ms: millis(started),
        tokens,
        cost_usd: cost,
        runs,
        notes,
        restored,
    }
}

/// The agents' workspaces and, for a shared workdir, its snapshots.
type Prepared = (Vec<Workspace>, Option<(Snapshots, Tree)>);

/// Prepares where the agents work: worktrees (isolated), or the shared workdir and
/// its first snapshot (loose, strict).
fn prepare(
    spec: &TaskSpec,
    notes: &mut Vec<String>,
) -> Result<Prepared, workspace::WorkspaceError> {
    let workspaces: Vec<Workspace> = match spec.coordination {
        Coordination::Isolated => {
            if workspace::is_git_repo(&spec.workdir) && workspace::is_dirty(&spec.workdir) {
                notes.push("the workdir has uncommitted changes: they were copied into each agent's worktree".into());
            }
            let root = spec.worktrees.join(&spec.id);
            std::fs::create_dir_all(&root).map_err(|e| {
                workspace::WorkspaceError(format!("cannot create {}: {e}", root.display()))
            })?;
            spec.agents
                .iter()
                .map(|a| workspace::isolated(&spec.workdir, &root, &spec.id, &a.launch.name))
                .collect::<Result<_, _>>()?
        }
        _ => spec
            .agents
            .iter()
            .map(|_| workspace::shared(&spec.workdir))
            .collect(),
    };
    // The shared workdir before any agent: what each changed, and for strict, what to
    // put back when the task fails.
    let snapshots = match spec.coordination {
        Coordination::Isolated => None,
        mode => match shared_snapshots(spec) {
            Ok(pair) => Some(pair),
            Err(e) if mode == Coordination::Strict => {
                return Err(workspace::WorkspaceError(format!(
                    "strict mode backs up the workdir first and cannot: {e}; use --coordination-mode isolated"
                )));
            }
            Err(e) => {
                notes.push(format!("cannot list what the agents changed: {e}"));
                None
            }
        },
    };
    Ok((workspaces, snapshots))
}

/// Runs the agents of a prepared task.
async fn run_prepared(
    spec: TaskSpec,
    options: SupervisorOptions,
    live: Option<mpsc::UnboundedSender<TaskEvent>>,
    user_cancel: Option<CancelWatch>,
    (workspaces, snapshots): Prepared,
    mut notes: Vec<String>,
    started: Instant,
) -> TaskResult {
    let locks = (spec.coordination == Coordination::Strict).then(|| Arc::new(FileLocks::default()));
    // Agents without file callbacks (per-task CLIs) share one workdir lock in strict mode.
    let workdir_lock = Arc::new(tokio::sync::Mutex::new(()));
    let mut options = options;
    options.prompt_timeout = spec.timeout;
    let supervisor = Supervisor::new(options);
    let (cancel_tx, cancel_rx) = watch::channel(false);
    let strict = spec.coordination == Coordination::Strict;
    // The user's cancel (Ctrl-C, `tasks cancel`) cancels every agent in any mode.
    let cancelled_by_user = Arc::new(std::sync::atomic::AtomicBool::new(false));
    if let Some(mut user) = user_cancel.clone() {
        let cancel_tx = cancel_tx.clone();
        let flag = cancelled_by_user.clone();
        tokio::spawn(async move {
            user.all().await;
            flag.store(true, std::sync::atomic::Ordering::SeqCst);
            cancel_tx.send_replace(true);
        });
    }

    let mut runs: Vec<Option<RunResult>> = vec![None; spec.agents.len()];
    // In a sequence, each agent's changes are the difference from the one before.
    let mut seq_last = snapshots.as_ref().map(|(_, before)| before.clone());
    match spec.order {
        Order::Parallel => {
            let mut set = tokio::task::JoinSet::new();
            for (index, (assignment, ws)) in spec.agents.iter().zip(&workspaces).enumerate() {
                let job = Job {
                    assignment: assignment.clone(),
                    ws: ws.clone(),
                    prompt: spec.prompt.clone(),
                    timeout: spec.timeout,
                    supervisor: supervisor.clone(),
                    locks: locks.clone(),
                    workdir_lock: strict.then(|| workdir_lock.clone()),
                    cancel: cancel_rx.clone(),
                    user_cancel: user_cancel.clone(),
                    live: live.clone(),
                };
                set.spawn(async move { (index, job.run().await) });
            }
            while let Some(joined) = set.join_next().await {
                let Ok((index, result)) = joined else {
                    continue;
                };
                if strict && result.status != RunStatus::Succeeded {
                    cancel_tx.send_replace(true);
                }
                runs[index] = Some(result);
            }
        }
        Order::Sequential => {
            let mut previous: Option<(String, String)> = None;
            for (index, (assignment, ws)) in spec.agents.iter().zip(&workspaces).enumerate() {
                if (strict || cancelled_by_user.load(std::sync::atomic::Ordering::SeqCst))
                    && *cancel_rx.borrow()
                {
                    runs[index] = Some(skipped(assignment));
                    continue;
                }
                if user_cancel
                    .as_ref()
                    .is_some_and(|u| u.agent_cancelled(&assignment.launch.name))
                {
                    runs[index] = Some(blank(
                        assignment,
                        RunStatus::Cancelled,
                        Some(CANCELLED_BY_USER.into()),
                        0,
                    ));
                    continue;
                }
                let prompt = match (&previous, spec.chain) {
                    (Some((agent, output)), true) => chain_prompt(&spec.prompt, agent, output),
                    _ => spec.prompt.clone(),
                };
                let job = Job {
                    assignment: assignment.clone(),
                    ws: ws.clone(),
                    prompt,
                    timeout: spec.timeout,
                    supervisor: supervisor.clone(),
                    locks: locks.clone(),
                    workdir_lock: strict.then(|| workdir_lock.clone()),
                    cancel: cancel_rx.clone(),
                    user_cancel: user_cancel.clone(),
                    live: live.clone(),
                };
                let mut result = job.run().await;
                if let Some(snapshots) = snapshots.as_ref().map(|(s, _)| s)
                    && let Some(last) = seq_last.as_mut()
                {
                    changes_since(snapshots, last, &mut result, &mut notes);
                }
                if strict && result.status != RunStatus::Succeeded {
                    cancel_tx.send_replace(true);
                }
                if result.status == RunStatus::Succeeded {
                    previous = Some((result.agent.clone(), result.output.clone()));
                }
                runs[index] = Some(result);
            }
        }
    }
    let mut runs: Vec<RunResult> = runs.into_iter().flatten().collect();
    let mut restored = Vec::new();
    if let Some((snapshots, before)) = &snapshots {
        let failed = cancelled_by_user.load(std::sync::atomic::Ordering::SeqCst)
            || runs.iter().any(|r| r.status != RunStatus::Succeeded);
        restored = settle_shared_workdir(&spec, snapshots, before, failed, &mut runs, &mut notes);
    }
    if spec.coordination == Coordination::Isolated {
        for (run, ws) in runs.iter_mut().zip(&workspaces) {
            match workspace::changes(ws) {
                Ok((diff, files)) => {
                    run.diff = Some(diff);
                    run.changed_files = files;
                }
                Err(e) => notes.push(format!("{}: cannot read its changes: {e}", run.agent)),
            }
            run.workspace = Some(ws.dir.clone());
            run.branch.clone_from(&ws.branch);
        }
    }
    let succeeded = runs
        .iter()
        .filter(|r| r.status == RunStatus::Succeeded)
        .count();
    if cancelled_by_user.load(std::sync::atomic::Ordering::SeqCst) {
        notes.push("cancelled by the user".into());
    }
    let status = match spec.coordination {
        _ if cancelled_by_user.load(std::sync::atomic::Ordering::SeqCst) => TaskStatus::Cancelled,
        Coordination::Strict if succeeded == runs.len() => TaskStatus::Succeeded,
        Coordination::Loose | Coordination::Isolated if succeeded > 0 => TaskStatus::Succeeded,
        _ => TaskStatus::Failed,
    };
    result_of(spec, status, started, runs, notes, restored)
}

/// What the agent of `result` changed in the shared workdir since `last` (which
/// becomes now): its files and diff.
fn changes_since(
    snapshots: &Snapshots,
    last: &mut Tree,
    result: &mut RunResult,
    notes: &mut Vec<String>,
) {
    match snapshots.take() {
        Ok(now) => {
            result.changed_files = snapshots.changed(last, &now).unwrap_or_default();
            result.diff = snapshots.diff(last, &now).ok();
            *last = now;
        }
        Err(e) => notes.push(format!("{}: cannot read its changes: {e}", result.agent)),
    }
}

/// After the agents of a loose or strict task: side by side, every run lists what the
/// agents changed together; a strict task that failed puts the workdir back as it
/// was. Returns the files put back.
fn settle_shared_workdir(
    spec: &TaskSpec,
    snapshots: &Snapshots,
    before: &Tree,
    failed: bool,
    runs: &mut [RunResult],
    notes: &mut Vec<String>,
) -> Vec<String> {
    if spec.order == Order::Parallel {
        // Side by side in one workdir: the changes are the task's, not one agent's.
        match snapshots
            .take()
            .and_then(|now| snapshots.changed(before, &now))
        {
            Ok(files) if !files.is_empty() => {
                notes.push(format!(
                    "the agents worked side by side in the shared workdir; together they changed {}",
                    files.join(", ")
                ));
                for run in runs.iter_mut().filter(|r| r.status != RunStatus::Skipped) {
                    run.changed_files.clone_from(&files);
                }
            }
            Ok(_) => {}
            Err(e) => notes.push(format!("cannot read the changes: {e}")),
        }
    }
    if spec.coordination != Coordination::Strict || !failed {
        return Vec::new();
    }
    match snapshots.restore(before) {
        Ok(files) if files.is_empty() => {
            notes.push("the task failed; the agents had changed nothing in the workdir".into());
            files
        }
        Ok(files) => {
            notes.push(format!(
                "the task failed, so the workdir was put back as it was before it (all or nothing): {}",
                files.join(", ")
            ));
            files
        }
        Err(e) => {
            notes.push(format!(
                "the task failed and the workdir could not be put back: {e}; the state before the task is the tree in {}",
                spec.worktrees.join(&spec.id).join("snapshots.git").display()
            ));
            Vec::new()
        }
    }
}

/// The snapshot repository of a shared-workdir task and its first snapshot.
fn shared_snapshots(spec: &TaskSpec) -> Result<(Snapshots, Tree), workspace::WorkspaceError> {
    let root = spec.worktrees.join(&spec.id);
    std::fs::create_dir_all(&root)
        .map_err(|e| workspace::WorkspaceError(format!("cannot create {}: {e}", root.display())))?;
    let snapshots = Snapshots::new(
        &root.join("snapshots.git"),
        &spec.workdir,
        &[spec.worktrees.as_path()],
    )?;
    let before = snapshots.take()?;
    Ok((snapshots, before))
}

fn millis(since: Instant) -> u64 {
    u64::try_from(since.elapsed().as_millis()).unwrap_or(u64::MAX)
}

fn skipped(assignment: &super::Assignment) -> RunResult {
    blank(
        assignment,
        RunStatus::Skipped,
        Some("skipped: an earlier agent failed".into()),
        0,
    )
}

fn blank(
    assignment: &super::Assignment,
    status: RunStatus,
    error: Option<String>,
    duration_ms: u64,
) -> RunResult {
    RunResult {
        agent: assignment.launch.name.clone(),
        agent_id: Some(assignment.launch.manifest.id.to_string()),
        session_id: None,
        preset: assignment.preset.clone(),
        status,
        stop_reason: None,
        output: String::new(),
        error,
        duration_ms,
        tokens: TokenCounts::default(),
        reported_tokens: None,
        cost_usd: None,
        cost_source: None,
        model: None,
        diff: None,
        changed_files: Vec::new(),
        workspace: None,
        branch: None,
        transcript: Vec::new(),
    }
}

/// One agent's turn.
struct Job {
    assignment: super::Assignment,
    ws: Workspace,
    prompt: String,
    timeout: std::time::Duration,
    supervisor: Supervisor,
    locks: Option<Arc<FileLocks>>,
    workdir_lock: Option<Arc<tokio::sync::Mutex<()>>>,
    cancel: watch::Receiver<bool>,
    /// The user's cancel of this agent alone.
    user_cancel: Option<CancelWatch>,
    live: Option<mpsc::UnboundedSender<TaskEvent>>,
}

/// Why a run the user cancelled by itself has no result.
const CANCELLED_BY_USER: &str = "cancelled by the user";

/// Resolves when the user cancels `agent` alone.
async fn agent_cancelled(user: Option<CancelWatch>, agent: &str) {
    match user {
        Some(mut user) => user.agent(agent).await,
        None => std::future::pending().await,
    }
}

impl Job {
    async fn run(mut self) -> RunResult {
        let started = Instant::now();
        let agent = self.assignment.launch.name.clone();
        if let Some(live) = &self.live {
            let _ = live.send(TaskEvent::Started {
                agent: agent.clone(),
            });
        }
        let mut launch = self.assignment.launch.clone();
        launch.cwd = self.ws.dir.clone();
        launch.locks = self.locks.clone();
        // Output chunks go to the live feed as they arrive.
        let (tx, mut rx) = mpsc::unbounded_channel::<RunEvent>();
        let forward = {
            let live = self.live.clone();
            let agent = agent.clone();
            tokio::spawn(async move {
                let mut usage = Vec::new();
                while let Some(event) = rx.recv().await {
                    let Some(live) = &live else { continue };
                    match event {
                        RunEvent::Text { text } => {
                            let _ = live.send(TaskEvent::Output {
                                agent: agent.clone(),
                                text,
                            });
                        }
                        RunEvent::Thought { text } => {
                            let _ = live.send(TaskEvent::Thought {
                                agent: agent.clone(),
                                text,
                            });
                        }
                        RunEvent::ToolCall { name, .. } => {
                            let _ = live.send(TaskEvent::ToolCall {
                                agent: agent.clone(),
                                name,
                            });
                        }
                        RunEvent::Usage(report) => {
                            usage.push(RunEvent::Usage(report));
                            let tokens =
                                crate::agents::event::RunSummary::from_events(&usage).tokens;
                            let _ = live.send(TaskEvent::Usage {
                                agent: agent.clone(),
                                tokens,
                            });
                        }
                        _ => {}
                    }
                }
            })
        };
        let session = launch.manifest.lifetime == Lifetime::Session;
        let mut by_user = false;
        let work = async {
            if session {
                let handle = self.supervisor.start(launch.clone()).await?;
                let outcome = tokio::select! {
                    outcome = handle.prompt(&self.prompt, Some(tx)) => Some(outcome),
                    () = cancelled(&mut self.cancel) => {
                        handle.cancel().await;
                        None
                    }
                    () = agent_cancelled(self.user_cancel.clone(), &agent) => {
                        by_user = true;
                        handle.cancel().await;
                        None
                    }
                };
                handle.stop().await?;
                Ok::<_, SupervisorError>(outcome.transpose()?)
            } else {
                let _held = match &self.workdir_lock {
                    Some(lock) => Some(lock.lock().await),
                    None => None,
                };
                tokio::select! {
                    outcome = run_once(&launch, &self.prompt, self.timeout, Some(tx)) => Ok(Some(outcome?)),
                    () = cancelled(&mut self.cancel) => Ok(None),
                    () = agent_cancelled(self.user_cancel.clone(), &agent) => {
                        by_user = true;
                        Ok(None)
                    }
                }
            }
        };
        let result =
            tokio::time::timeout(self.timeout + std::time::Duration::from_secs(5), work).await;
        let _ = forward.await;
        let duration_ms = millis(started);
        let run = match result {
            Ok(Ok(Some(outcome))) => finished(&self.assignment, outcome, duration_ms),
            Ok(Ok(None)) => blank(
                &self.assignment,
                RunStatus::Cancelled,
                Some(if by_user {
                    CANCELLED_BY_USER.into()
                } else {
                    "cancelled: another agent of this strict task failed".into()
                }),
                duration_ms,
            ),
            Ok(Err(e)) => {
                let timed_out = e
                    .to_string()
                    .contains("no response to session/prompt within")
                    || e.to_string().contains("no result within");
                let status = if timed_out {
                    RunStatus::TimedOut
                } else {
                    RunStatus::Failed
                };
                blank(&self.assignment, status, Some(e.to_string()), duration_ms)
            }
            Err(_) => blank(
                &self.assignment,
                RunStatus::TimedOut,
                Some(format!(
                    "{agent}: no answer within {} s",
                    self.timeout.as_secs()
                )),
                duration_ms,
            ),
        };
        if let Some(live) = &self.live {
            let _ = live.send(TaskEvent::Finished {
                agent,
                status: run.status,
            });
        }
        run
    }
}

/// Resolves when the task is cancelled (the guard is dropped at once, so the
/// future stays `Send`).
async fn cancelled(rx: &mut watch::Receiver<bool>) {
    if rx.wait_for(|c| *c).await.map(|_| ()).is_err() {
        std::future::pending::<()>().await;
    }
}

fn finished(assignment: &super::Assignment, outcome: PromptOutcome, duration_ms: u64) -> RunResult {
    let summary = outcome.summary;
    let failed = summary.is_error || summary.stop_reason.as_deref() == Some("cancelled");
    let mut run = blank(
        assignment,
        if failed {
            RunStatus::Failed
        } else {
            RunStatus::Succeeded
        },
        failed.then(|| {
            format!(
                "the agent ended with {}",
                summary.stop_reason.clone().unwrap_or_default()
            )
        }),
        duration_ms,
    );
    run.stop_reason = summary.stop_reason;
    run.output = summary.text;
    run.tokens = summary.tokens;
    run.cost_usd = summary.cost_usd;
    run.cost_source = summary.cost_usd.map(|_| "agent".to_owned());
    run.model = summary.model;
    run.session_id = summary.session_id;
    run.transcript = outcome.events;
    run
}
