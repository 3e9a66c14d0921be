//! The app's link to the engine host. As ARCHITECTURE.md decides, the daemon owns the
//! agents: the app attaches to a running daemon, or starts one in the background (the
//! call the CLI uses) and attaches, so quitting the app stops nothing and the CLI sees
//! the same state. It follows the daemon's event stream and rebuilds the tray on every
//! change, from whichever process it came; nothing is polled.

use std::sync::{Arc, Mutex};

use crate::lock;

use aiswitch::control::{ControlClient, ControlError};
use aiswitch::engine::Verify;
use aiswitch::events::{Event, Resume};
use aiswitch::presets::PresetName;
use aiswitch::{AgentStatusView, Engine};
use tokio::sync::Notify;

use crate::i18n::{Lang, Text};
use crate::notices::NoticeRules;
use crate::status::Status;
use crate::tray::{self, TrayHandle};
use crate::tray_model::{MenuCommand, TrayModel, tray_model};
use crate::window::Window;

/// The engine, the dashboard window, the outcome of the last tray action, the
/// notification rules, and what wakes the tray. Clones share all of it.
#[derive(Clone)]
pub struct Host {
    engine: Engine,
    window: Window,
    lang: Lang,
    /// The last action's failure, shown in the tray until the next action.
    notice: Arc<Mutex<Option<String>>>,
    /// What the last action did, when it has something to say.
    info: Arc<Mutex<Option<String>>>,
    /// Which events notify, and the pause.
    rules: Arc<Mutex<NoticeRules>>,
    /// Rebuilds the tray (after an action).
    wake: Arc<Notify>,
}

impl Host {
    /// A host link for `engine`, speaking the language its settings choose; clicked
    /// notifications open `window`.
    pub fn new(engine: Engine, window: Window) -> Self {
        let lang = Lang::choose(engine.settings().language, |name| std::env::var(name).ok());
        Self {
            engine,
            window,
            lang,
            notice: Arc::default(),
            info: Arc::default(),
            rules: Arc::new(Mutex::new(NoticeRules::new(lang))),
            wake: Arc::default(),
        }
    }

    /// The tray for the engine's state now, with the daemon's `running` agents.
    pub fn model(&self, start_at_login: bool, running: Vec<AgentStatusView>) -> TrayModel {
        let mut status = self.status();
        status.start_at_login = start_at_login;
        status.running = running;
        tray_model(&status, self.lang)
    }

    /// The engine's state as the tray shows it now (without the running agents).
    fn status(&self) -> Status {
        let mut status = Status::read(&self.engine);
        if let Some(notice) = lock(&self.notice).clone() {
            status.problems.insert(0, notice);
        }
        status.info = lock(&self.info).clone();
        status.notifications_paused = lock(&self.rules)
            .paused_until(aiswitch::store::now_ms())
            .is_some();
        status
    }

    /// Runs a tray command in the background: the same engine calls as `aiswitch env
    /// switch` and `aiswitch alerts ack --all`. A failure is shown in the tray.
    pub fn act(&self, command: MenuCommand) {
        if let MenuCommand::Pause(pause) = command {
            lock(&self.rules).pause(pause.until(aiswitch::store::now_ms()));
            self.wake.notify_one();
            return;
        }
        let host = self.clone();
        tokio::spawn(async move {
            let engine = &host.engine;
            let outcome = match command {
                MenuCommand::Switch { agent, preset } => switch(engine, &agent, &preset).await,
                MenuCommand::SwitchAll { preset } => switch_all(engine, &preset).await,
                MenuCommand::AcknowledgeAll => engine
                    .ack_alerts(None)
                    .map(|_| None)
                    .map_err(|e| e.to_string()),
                MenuCommand::Stop(agent) => daemon_call(engine, "agent.stop", &agent).await,
                MenuCommand::Restart(agent) => daemon_call(engine, "agent.restart", &agent).await,
                MenuCommand::InstallCli => install_cli(),
                MenuCommand::Open
                | MenuCommand::Launch
                | MenuCommand::OpenTask(_)
                | MenuCommand::OpenAlerts
                | MenuCommand::Quit
                | MenuCommand::Pause(_)
                | MenuCommand::StartAtLogin => Ok(None),
            };
            let (notice, info) = match outcome {
                Ok(info) => (None, info),
                Err(notice) => (Some(notice), None),
            };
            *lock(&host.notice) = notice;
            *lock(&host.info) = info;
            host.wake.notify_one();
        });
    }

    /// Rebuilds the tray now (after a change the event stream does not carry).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Attaches to the engine host (starting the daemon when `start_daemon` and none
    /// runs) and keeps the tray in step with its events until the app quits.
    pub fn follow(&self, tray: TrayHandle, start_daemon: bool) {
        let host = self.clone();
        tokio::spawn(async move {
            // A reconnect resumes after the last stored event seen, so nothing that
            // happened while the daemon was away is missed.
            let mut at = Resume::default();
            loop {
                match attach(&host.engine, start_daemon).await {
                    Ok(client) => {
                        *lock(&host.notice) = None;
                        host.stream(&tray, client, &mut at).await;
                        // The daemon went away: start it again (when we may) and resume.
                        *lock(&host.notice) = Some("the daemon stopped; restarting it".into());
                        refresh(&tray, &host, None).await;
                        if !start_daemon {
                            return;
                        }
                        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                    }
                    Err(reason) => {
                        *lock(&host.notice) = Some(format!("not live: {reason}"));
                        loop {
                            refresh(&tray, &host, None).await;
                            host.wake.notified().await;
                        }
                    }
                }
            }
        });
    }

    /// Follows one connection's events until the daemon goes away: notifications, and
    /// the tray rebuilt on every change.
    async fn stream(&self, tray: &TrayHandle, mut client: ControlClient, at: &mut Resume) {
        if let Err(e) = client.subscribe(at.since()).await {
            *lock(&self.notice) = Some(format!("not live: {e}"));
        }
        loop {
            refresh(tray, self, Some(&client)).await;
            loop {
                tokio::select! {
                    record = client.next_event() => match record {
                        Some(record) => {
                            at.saw(&record);
                            self.notify(&record.event);
                            if changes_the_tray(&record.event) {
                                break;
                            }
                        }
                        None => return,
                    },
                    () = self.wake.notified() => break,
                }
            }
        }
    }

    /// Shows the desktop notification `event` gives, if any (notify-rust, on the
    /// session bus's `org.freedesktop.Notifications`); a click on it opens the
    /// dashboard.
    fn notify(&self, event: &Event) {
        let focused = self.window.focused();
        let notice = lock(&self.rules).notice(event, aiswitch::store::now_ms(), focused);
        let Some(notice) = notice else {
            return;
        };
        let window = self.window.clone();
        let open = self.lang.text(Text::OpenDashboard);
        // A task per notification: it shows it, then waits until the user clicks it
        // or it is closed.
        tokio::spawn(async move {
            let shown = notify_rust::Notification::new()
                .appname("aiswitch")
                .summary(&notice.title)
                .body(&notice.body)
                .action("default", open)
                .show_async()
                .await;
            match shown {
                Ok(handle) => {
                    handle
                        .wait_for_action_async(|response| {
                            if response.is_default_action() {
                                window.open(None);
                            }
                        })
                        .await;
                }
                Err(e) => eprintln!("aiswitch-desktop: cannot show a notification: {e}"),
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
            | Event::RunThought { .. }
            | Event::RunToolCall { .. }
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
async fn refresh(tray: &TrayHandle, host: &Host, client: Option<&ControlClient>) {
    let mut running = Vec::new();
    if let Some(client) = client
        && let Ok(reply) = client.call("agent.status", None).await
    {
        running = serde_json::from_value::<Vec<AgentStatusView>>(reply["agents"].clone())
            .unwrap_or_default();
    }
    let reader = host.clone();
    let read = tokio::task::spawn_blocking(move || reader.model(crate::login::enabled(), running));
    if let Ok(model) = read.await {
        tray::show(tray, model).await;
    }
}

/// What an action did: something to say, or why it failed.
type Outcome = Result<Option<String>, String>;

async fn switch(engine: &Engine, agent: &str, preset: &str) -> Outcome {
    let name = PresetName::parse(preset).map_err(|e| e.to_string())?;
    engine
        .switch_env(agent, &name, Verify::No)
        .await
        .map(|_| None)
        .map_err(|e| format!("switching {agent} to {preset} failed: {e}"))
}

async fn switch_all(engine: &Engine, preset: &str) -> Outcome {
    let name = PresetName::parse(preset).map_err(|e| e.to_string())?;
    let agents = engine.agents_taking(&name).map_err(|e| e.to_string())?;
    for agent in agents {
        switch(engine, &agent, preset).await?;
    }
    Ok(None)
}

/// Stops or restarts an agent in the daemon, which owns it.
async fn daemon_call(engine: &Engine, method: &str, agent: &str) -> Outcome {
    let client = ControlClient::connect(&engine.paths().control_socket())
        .await
        .map_err(|e| e.to_string())?;
    client
        .call(method, Some(serde_json::json!({ "agent": agent })))
        .await
        .map(|_| None)
        .map_err(|e| format!("{agent}: {e}"))
}

/// Links the `aiswitch` beside the app into `~/.local/bin`.
fn install_cli() -> Outcome {
    let cli = std::env::current_exe()
        .map_err(|e| e.to_string())?
        .with_file_name("aiswitch");
    let dir = crate::cli_install::default_dir()
        .ok_or("no home directory to install the command-line tool in")?;
    let path = std::env::var_os("PATH");
    crate::cli_install::install(&cli, &dir, path.as_deref()).map(|done| Some(done.describe()))
}
