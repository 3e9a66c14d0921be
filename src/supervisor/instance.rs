//! One agent instance: a task that owns the child process and its ACP connection,
//! takes commands from a channel, and restarts by policy.

use std::path::Path;
use std::process::ExitStatus;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, ChildStderr};
use tokio::sync::{mpsc, oneshot, watch};

use super::client::{AcpClient, PromptSink};
use super::process::{group_alive, signal_group};
use super::restart::{Decision, RestartTracker};
use super::{
    AgentState, AgentStatus, LaunchSpec, PromptOutcome, Shared, SupervisorError, SupervisorEvent,
};
use crate::agents::event::RunSummary;
use crate::agents::launch::write_files;
use crate::agents::resolve_command;
use crate::rpc::{Connection, ConnectionOptions};

/// What callers ask of an instance.
pub(crate) enum Command {
    Prompt {
        text: String,
        live: Option<mpsc::UnboundedSender<crate::agents::event::RunEvent>>,
        reply: oneshot::Sender<Result<PromptOutcome, SupervisorError>>,
    },
    Cancel,
    Stop {
        reply: oneshot::Sender<()>,
    },
}

/// A started, initialized process.
struct Running {
    child: Child,
    pgid: u32,
    conn: Connection,
    session_id: String,
    sink: Arc<Mutex<PromptSink>>,
}

/// Why serving ended.
enum Ended {
    Stop(Option<oneshot::Sender<()>>),
    Exited(ExitStatus),
    Fault(String),
}

pub(crate) struct Instance {
    spec: LaunchSpec,
    shared: Arc<Shared>,
    rx: mpsc::Receiver<Command>,
    status: Arc<watch::Sender<AgentStatus>>,
}

impl Instance {
    pub fn new(
        spec: LaunchSpec,
        shared: Arc<Shared>,
        rx: mpsc::Receiver<Command>,
        status: Arc<watch::Sender<AgentStatus>>,
    ) -> Self {
        Self {
            spec,
            shared,
            rx,
            status,
        }
    }

    fn name(&self) -> &str {
        &self.spec.name
    }

    fn set_state(&self, state: AgentState, pid: Option<u32>) {
        self.status.send_modify(|s| {
            s.state = state;
            s.pid = pid;
            if state == AgentState::Idle && s.started_at.is_none() {
                s.started_at = Some(Instant::now());
            }
        });
        self.shared.publish(SupervisorEvent::State {
            agent: self.name().to_owned(),
            state,
            pid,
        });
    }

    /// The task body: start, serve, and restart by policy until stopped.
    pub async fn run(mut self) {
        let mut tracker = RestartTracker::new(self.spec.manifest.restart);
        loop {
            self.set_state(AgentState::Starting, None);
            let ended = match self.launch().await {
                Ok(running) => {
                    self.set_state(AgentState::Idle, Some(running.pgid));
                    self.serve(running).await
                }
                Err(e) => Ended::Fault(e.to_string()),
            };
            let failed = match ended {
                Ended::Stop(reply) => {
                    self.set_state(AgentState::Stopped, None);
                    if let Some(reply) = reply {
                        let _ = reply.send(());
                    }
                    return;
                }
                Ended::Exited(status) => {
                    self.shared.publish(SupervisorEvent::Exited {
                        agent: self.name().to_owned(),
                        code: status.code(),
                        signal: std::os::unix::process::ExitStatusExt::signal(&status),
                    });
                    !status.success()
                }
                Ended::Fault(message) => {
                    self.shared.publish(SupervisorEvent::Fault {
                        agent: self.name().to_owned(),
                        message,
                    });
                    true
                }
            };
            match tracker.on_exit(failed, Instant::now()) {
                Decision::Restart { after, attempt } => {
                    self.status.send_modify(|s| s.restarts += 1);
                    self.shared.publish(SupervisorEvent::Restarting {
                        agent: self.name().to_owned(),
                        attempt,
                        after_ms: u64::try_from(after.as_millis()).unwrap_or(u64::MAX),
                    });
                    if !self.wait_backoff(after).await {
                        self.set_state(AgentState::Stopped, None);
                        return;
                    }
                }
                Decision::Stay => {
                    let state = if failed {
                        AgentState::Error
                    } else {
                        AgentState::Stopped
                    };
                    self.set_state(state, None);
                    self.refuse_until_stopped(state).await;
                    return;
                }
                Decision::GiveUp { restarts } => {
                    self.shared.publish(SupervisorEvent::GaveUp {
                        agent: self.name().to_owned(),
                        restarts,
                    });
                    self.set_state(AgentState::Error, None);
                    self.refuse_until_stopped(AgentState::Error).await;
                    return;
                }
            }
        }
    }

    /// Sleeps through a backoff, refusing prompts; false when stopped meanwhile.
    async fn wait_backoff(&mut self, after: Duration) -> bool {
        let sleep = tokio::time::sleep(after);
        tokio::pin!(sleep);
        loop {
            tokio::select! {
                () = &mut sleep => return true,
                cmd = self.rx.recv() => match cmd {
                    None => return false,
                    Some(Command::Stop { reply }) => {
                        let _ = reply.send(());
                        return false;
                    }
                    Some(Command::Prompt { reply, .. }) => {
                        let _ = reply.send(Err(SupervisorError::NotRunning { agent: self.name().to_owned(), state: AgentState::Starting }));
                    }
                    Some(Command::Cancel) => {}
                },
            }
        }
    }

    /// After giving up: answer every prompt with an error until told to stop.
    async fn refuse_until_stopped(&mut self, state: AgentState) {
        while let Some(cmd) = self.rx.recv().await {
            match cmd {
                Command::Stop { reply } => {
                    let _ = reply.send(());
                    return;
                }
                Command::Prompt { reply, .. } => {
                    let _ = reply.send(Err(SupervisorError::NotRunning {
                        agent: self.name().to_owned(),
                        state,
                    }));
                }
                Command::Cancel => {}
            }
        }
    }

    /// Spawns the process in its own group, connects, initializes, opens a session.
    async fn launch(&self) -> Result<Running, SupervisorError> {
        let manifest = &self.spec.manifest;
        let program = resolve_command(&manifest.command)
            .ok_or_else(|| SupervisorError::not_installed(self.name(), manifest))?;
        write_files(&self.spec.files).map_err(|(path, e)| SupervisorError::Spawn {
            agent: self.name().to_owned(),
            message: format!("cannot write {}: {e}", path.display()),
        })?;
        let mut cmd = tokio::process::Command::new(program);
        for name in &self.spec.env_remove {
            cmd.env_remove(name);
        }
        cmd.args(&manifest.args)
            .args(&self.spec.args)
            .envs(manifest.env.iter())
            .envs(self.spec.env.iter().map(|(k, v)| (k, v)))
            .current_dir(&self.spec.cwd)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .process_group(0);
        let mut child = cmd.spawn().map_err(|e| SupervisorError::Spawn {
            agent: self.name().to_owned(),
            message: e.to_string(),
        })?;
        let pgid = child.id().unwrap_or_default();
        self.shared.reaper_register(pgid);
        self.set_state(AgentState::Starting, Some(pgid));
        let stderr_reader = child.stderr.take().map(|stderr| {
            tokio::spawn(log_stderr(
                stderr,
                self.shared.clone(),
                self.name().to_owned(),
            ))
        });
        let (Some(stdout), Some(stdin)) = (child.stdout.take(), child.stdin.take()) else {
            return Err(SupervisorError::Spawn {
                agent: self.name().to_owned(),
                message: "no stdio pipes".into(),
            });
        };
        let sink = Arc::new(Mutex::new(PromptSink::default()));
        let mut options = ConnectionOptions::new(self.name());
        options.max_message = self.shared.options.max_message;
        options.request_timeout = self.shared.options.init_timeout;
        options.instrument = self.shared.options.instrument.clone();
        let client = Arc::new(AcpClient {
            cwd: self.spec.cwd.clone(),
            sink: sink.clone(),
            locks: self.spec.locks.clone(),
        });
        let (conn, _) = Connection::start(stdout, stdin, options, client);
        let handshake = async {
            let init = json!({
                "protocolVersion": 1,
                "clientCapabilities": { "fs": { "readTextFile": true, "writeTextFile": true }, "terminal": false },
                "clientInfo": { "name": "aiswitch", "version": crate::VERSION }
            });
            conn.request("initialize", Some(init)).await?;
            let mut params = json!({ "cwd": self.spec.cwd, "mcpServers": [] });
            if let Some(meta) = &self.spec.session_meta {
                params["_meta"] = meta.clone();
            }
            let session = conn.request("session/new", Some(params)).await?;
            Ok::<_, crate::rpc::RpcError>(
                session
                    .get("sessionId")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
            )
        };
        match handshake.await {
            Ok(session_id) => Ok(Running {
                child,
                pgid,
                conn,
                session_id,
                sink,
            }),
            Err(e) => {
                conn.close();
                let _ = self.kill_and_reap(&mut child, pgid).await;
                // What it wrote on stderr (usually why it could not start) is published
                // before the fault, so whoever waits for the start sees both.
                if let Some(reader) = stderr_reader {
                    let _ =
                        tokio::time::timeout(std::time::Duration::from_millis(500), reader).await;
                }
                Err(SupervisorError::Agent {
                    agent: self.name().to_owned(),
                    message: e.to_string(),
                })
            }
        }
    }

    /// Serves commands until a stop, an exit or a fault.
    async fn serve(&mut self, mut running: Running) -> Ended {
        loop {
            tokio::select! {
                cmd = self.rx.recv() => match cmd {
                    None => {
                        self.shutdown(&mut running, false).await;
                        return Ended::Stop(None);
                    }
                    Some(Command::Stop { reply }) => {
                        self.shutdown(&mut running, false).await;
                        return Ended::Stop(Some(reply));
                    }
                    Some(Command::Cancel) => {}
                    Some(Command::Prompt { text, live, reply }) => {
                        self.set_state(AgentState::Busy, Some(running.pgid));
                        let (result, ended) = self.prompt(&mut running, &text, live).await;
                        let _ = reply.send(result);
                        if let Some(ended) = ended {
                            return ended;
                        }
                        self.set_state(AgentState::Idle, Some(running.pgid));
                    }
                },
                status = running.child.wait() => {
                    let status = status.unwrap_or_else(|_| std::os::unix::process::ExitStatusExt::from_raw(0));
                    self.after_exit(&running);
                    return Ended::Exited(status);
                }
                () = running.conn.closed() => {
                    let message = running.conn.fault().map(|f| f.to_string()).unwrap_or_default();
                    let _ = self.kill_and_reap(&mut running.child, running.pgid).await;
                    return Ended::Fault(message);
                }
            }
        }
    }

    /// Runs one prompt turn, watching the process and further commands meanwhile.
    async fn prompt(
        &mut self,
        running: &mut Running,
        text: &str,
        live: Option<mpsc::UnboundedSender<crate::agents::event::RunEvent>>,
    ) -> (Result<PromptOutcome, SupervisorError>, Option<Ended>) {
        let started = Instant::now();
        {
            let mut sink = running
                .sink
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            sink.events.clear();
            sink.live = live;
            sink.driver.start_turn();
        }
        let params = json!({ "sessionId": running.session_id, "prompt": [{ "type": "text", "text": text }] });
        let conn = running.conn.clone();
        let timeout = self.shared.options.prompt_timeout;
        let request = conn.request_with_timeout("session/prompt", Some(params), timeout);
        tokio::pin!(request);
        let mut stop_after: Option<oneshot::Sender<()>> = None;
        let result = loop {
            tokio::select! {
                result = &mut request => break result,
                status = running.child.wait() => {
                    let status = status.unwrap_or_else(|_| std::os::unix::process::ExitStatusExt::from_raw(0));
                    self.after_exit(running);
                    let err = SupervisorError::Agent { agent: self.name().to_owned(), message: format!("agent {} exited during a prompt ({status})", self.name()) };
                    return (Err(err), Some(Ended::Exited(status)));
                }
                cmd = self.rx.recv(), if stop_after.is_none() => match cmd {
                    Some(Command::Cancel) => {
                        let _ = running.conn.notify("session/cancel", Some(json!({ "sessionId": running.session_id })));
                    }
                    Some(Command::Stop { reply }) => {
                        let _ = running.conn.notify("session/cancel", Some(json!({ "sessionId": running.session_id })));
                        stop_after = Some(reply);
                        break Err(crate::rpc::RpcError::Closed { peer: self.name().to_owned(), reason: Some("stopped during a prompt".into()) });
                    }
                    Some(Command::Prompt { reply, .. }) => {
                        let _ = reply.send(Err(SupervisorError::Busy { agent: self.name().to_owned() }));
                    }
                    None => {}
                },
            }
        };
        let value = match result {
            Ok(value) => value,
            Err(e) => {
                running
                    .sink
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .live = None;
                let err = SupervisorError::Agent {
                    agent: self.name().to_owned(),
                    message: e.to_string(),
                };
                if let Some(reply) = stop_after {
                    self.shutdown(running, true).await;
                    return (Err(err), Some(Ended::Stop(Some(reply))));
                }
                if let crate::rpc::RpcError::Timeout { .. } = e {
                    // No answer in time: the agent is stuck; cancel, then kill it.
                    let _ = running.conn.notify(
                        "session/cancel",
                        Some(json!({ "sessionId": running.session_id })),
                    );
                    let _ = self.kill_and_reap(&mut running.child, running.pgid).await;
                    return (Err(err), Some(Ended::Fault(e.to_string())));
                }
                if !e.is_fatal() {
                    return (Err(err), None);
                }
                // A closed pipe is usually a crash: report the exit status when the
                // process ends promptly.
                if matches!(e, crate::rpc::RpcError::Closed { .. })
                    && let Ok(Ok(status)) =
                        tokio::time::timeout(self.shared.options.grace, running.child.wait()).await
                {
                    self.after_exit(running);
                    let err = SupervisorError::Agent {
                        agent: self.name().to_owned(),
                        message: format!("agent {} exited during a prompt ({status})", self.name()),
                    };
                    return (Err(err), Some(Ended::Exited(status)));
                }
                let _ = self.kill_and_reap(&mut running.child, running.pgid).await;
                return (Err(err), Some(Ended::Fault(e.to_string())));
            }
        };
        let mut sink = running
            .sink
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let events = sink.driver.on_prompt_result(&value);
        sink.push_all(events);
        sink.live = None;
        let events = std::mem::take(&mut sink.events).into_events();
        let mut summary = RunSummary::from_events(&events);
        summary
            .session_id
            .get_or_insert_with(|| running.session_id.clone());
        (
            Ok(PromptOutcome {
                events,
                summary,
                duration: started.elapsed(),
            }),
            None,
        )
    }

    /// Graceful stop: cancel (when busy), close stdin, SIGTERM to the group after a
    /// grace period, SIGKILL after another.
    async fn shutdown(&self, running: &mut Running, busy: bool) {
        self.set_state(AgentState::Stopping, Some(running.pgid));
        if busy {
            let _ = running.conn.notify(
                "session/cancel",
                Some(json!({ "sessionId": running.session_id })),
            );
        }
        running.conn.close();
        let grace = self.shared.options.grace;
        if tokio::time::timeout(grace, running.child.wait())
            .await
            .is_err()
        {
            signal_group(running.pgid, Signal::SIGTERM);
            if tokio::time::timeout(grace, running.child.wait())
                .await
                .is_err()
            {
                signal_group(running.pgid, Signal::SIGKILL);
                let _ = running.child.wait().await;
            }
        }
        self.after_exit(running);
    }

    /// Kills the whole group and awaits the child.
    async fn kill_and_reap(&self, child: &mut Child, pgid: u32) -> Option<ExitStatus> {
        signal_group(pgid, Signal::SIGKILL);
        let status = child.wait().await.ok();
        self.shared.reaper_forget(pgid);
        status
    }

    /// After the leader exited: whatever is left of its group (grandchildren) goes.
    fn after_exit(&self, running: &Running) {
        if group_alive(running.pgid) {
            signal_group(running.pgid, Signal::SIGKILL);
        }
        running.conn.close();
        self.shared.reaper_forget(running.pgid);
    }
}

/// Copies an agent's stderr to its log file (rotated) and to `Log` events.
async fn log_stderr(stderr: ChildStderr, shared: Arc<Shared>, agent: String) {
    let mut lines = BufReader::new(stderr).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        shared.append_log(&agent, &line);
        shared.publish(SupervisorEvent::Log {
            agent: agent.clone(),
            line,
        });
    }
}

/// Writes `line` to `<dir>/<agent>.log`, rotating to `.log.1` past `max` bytes.
pub(crate) fn append_line(dir: &Path, agent: &str, line: &str, max: u64) -> std::io::Result<()> {
    use std::io::Write;
    let path = dir.join(format!("{agent}.log"));
    if std::fs::metadata(&path).is_ok_and(|m| m.len() > max) {
        std::fs::rename(&path, dir.join(format!("{agent}.log.1")))?;
    }
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    writeln!(file, "{line}")
}
