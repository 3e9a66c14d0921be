//! The app's link to the engine host. As ARCHITECTURE.md decides, the daemon owns the
//! agents: the app attaches to a running daemon, or starts one in the background (the
//! call the CLI uses) and attaches, so quitting the app stops nothing and the CLI sees
//! the same state. It follows the daemon's event stream and rebuilds the tray on every
//! change, from whichever process it came; nothing is polled.

use std::sync::{Arc, Mutex};

use aiswitch::control::{ControlClient, ControlError};
use aiswitch::engine::Verify;
use aiswitch::events::Event;
use aiswitch::presets::PresetName;
use aiswitch::{AgentStatusView, Engine};
use tauri::AppHandle;
use tokio::sync::Notify;

use crate::status::Status;
use crate::tray;
use crate::tray_model::{MenuCommand, tray_model};

/// The engine, the outcome of the last tray action, and what wakes the tray.
pub struct Host {
    engine: Engine,
    /// The last action's failure, shown in the tray until the next action.
    notice: Arc<Mutex<Option<String>>>,
    /// Rebuilds the tray (after an action).
    wake: Arc<Notify>,
}

impl Host {
    /// A host link for `engine`.
    pub fn new(engine: Engine) -> Self {
        Self {
            engine,
            notice: Arc::default(),
            wake: Arc::default(),
        }
    }

    /// The engine's state as the tray shows it now (without the running agents).
    pub fn status(&self) -> Status {
        let mut status = Status::read(&self.engine);
        if let Some(notice) = lock(&self.notice).clone() {
            status.problems.insert(0, notice);
        }
        status
    }

    /// Runs a tray command in the background: the same engine calls as `aiswitch env
    /// switch` and `aiswitch alerts ack --all`. A failure is shown in the tray.
    pub fn act(&self, command: MenuCommand) {
        let (engine, notice, wake) = (self.engine.clone(), self.notice.clone(), self.wake.clone());
        tauri::async_runtime::spawn(async move {
            let outcome = match command {
                MenuCommand::Switch { agent, preset } => switch(&engine, &agent, &preset).await,
                MenuCommand::SwitchAll { preset } => switch_all(&engine, &preset).await,
                MenuCommand::AcknowledgeAll => engine
                    .ack_alerts(None)
                    .map(|_| ())
                    .map_err(|e| e.to_string()),
                MenuCommand::Open | MenuCommand::Quit => Ok(()),
            };
            *lock(&notice) = outcome.err();
            wake.notify_one();
        });
    }

    /// Attaches to the engine host (starting the daemon when `start_daemon` and none
    /// runs) and keeps the tray in step with its events until the app quits.
    pub fn follow(&self, app: AppHandle, start_daemon: bool) {
        let (engine, notice, wake) = (self.engine.clone(), self.notice.clone(), self.wake.clone());
        let host = Self {
            engine,
            notice,
            wake,
        };
        tauri::async_runtime::spawn(async move {
            let mut client = match attach(&host.engine, start_daemon).await {
                Ok(client) => client,
                Err(reason) => {
                    *lock(&host.notice) = Some(format!("not live: {reason}"));
                    loop {
                        refresh(&app, &host, None).await;
                        host.wake.notified().await;
                    }
                }
            };
            if let Err(e) = client.subscribe(None).await {
                *lock(&host.notice) = Some(format!("not live: {e}"));
            }
            loop {
                refresh(&app, &host, Some(&client)).await;
                loop {
                    tokio::select! {
                        record = client.next_event() => match record {
                            Some(record) if changes_the_tray(&record.event) => break,
                            Some(_) => {}
                            None => {
                                *lock(&host.notice) = Some("the daemon stopped: restart the app".into());
                                refresh(&app, &host, None).await;
                                return;
                            }
                        },
                        () = host.wake.notified() => break,
                    }
                }
            }
        });
    }
}

/// Log lines and output chunks do not change what the tray shows.
fn changes_the_tray(event: &Event) -> bool {
    !matches!(
        event,
        Event::AgentLog { .. }
            | Event::RunOutput { .. }
            | Event::RunUsage { .. }
            | Event::Subscribed { .. }
    )
}

/// Connects to the daemon; starts one first when asked and none runs. The daemon is
/// the `aiswitch` binary shipped beside the app.
async fn attach(engine: &Engine, start_daemon: bool) -> Result<ControlClient, String> {
    let socket = engine.paths().control_socket();
    match ControlClient::connect(&socket).await {
        Ok(client) => return Ok(client),
        Err(ControlError::NotRunning(_)) if start_daemon => {}
        Err(e) => return Err(e.to_string()),
    }
    let exe = std::env::current_exe()
        .map_err(|e| e.to_string())?
        .with_file_name("aiswitch");
    aiswitch::daemon::start_in_background(engine, &exe)
        .await
        .map(|(client, _)| client)
        .map_err(|e| e.to_string())
}

/// Rebuilds the tray from the engine's state and the daemon's agents.
async fn refresh(app: &AppHandle, host: &Host, client: Option<&ControlClient>) {
    let engine = host.engine.clone();
    let notice = host.notice.clone();
    let read = tauri::async_runtime::spawn_blocking(move || {
        let host = Host {
            engine,
            notice,
            wake: Arc::default(),
        };
        host.status()
    });
    let Ok(mut status) = read.await else {
        return;
    };
    if let Some(client) = client
        && let Ok(reply) = client.call("agent.status", None).await
    {
        status.running = serde_json::from_value::<Vec<AgentStatusView>>(reply["agents"].clone())
            .unwrap_or_default();
    }
    if let Err(e) = tray::show(app, &tray_model(&status)) {
        eprintln!("aiswitch-desktop: cannot update the tray: {e}");
    }
}

async fn switch(engine: &Engine, agent: &str, preset: &str) -> Result<(), String> {
    let name = PresetName::parse(preset).map_err(|e| e.to_string())?;
    engine
        .switch_env(agent, &name, Verify::No)
        .await
        .map(|_| ())
        .map_err(|e| format!("switching {agent} to {preset} failed: {e}"))
}

async fn switch_all(engine: &Engine, preset: &str) -> Result<(), String> {
    let name = PresetName::parse(preset).map_err(|e| e.to_string())?;
    let agents = engine.agents_taking(&name).map_err(|e| e.to_string())?;
    for agent in agents {
        switch(engine, &agent, preset).await?;
    }
    Ok(())
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
