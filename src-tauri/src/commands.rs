//! Tauri commands: each calls the engine and maps its error; no logic of their own.

use serde::Serialize;
use tauri::{AppHandle, State};

/// The one error shape the UI receives.
#[derive(Debug, Serialize)]
pub struct CommandError {
    /// The control API error code.
    pub code: i64,
    /// One line for the user.
    pub message: String,
}

impl From<aiswitch::Error> for CommandError {
    fn from(err: aiswitch::Error) -> Self {
        Self {
            code: i64::from(err.code()),
            message: err.to_string(),
        }
    }
}

/// One control-API call for the dashboard (the same methods a browser sends over
/// the dashboard's WebSocket), to the engine host.
#[tauri::command]
pub async fn control(
    engine: State<'_, aiswitch::Engine>,
    method: String,
    params: Option<serde_json::Value>,
) -> Result<serde_json::Value, CommandError> {
    let socket = aiswitch::daemon::socket_path(&engine);
    let client = aiswitch::control::ControlClient::connect(&socket)
        .await
        .map_err(|e| CommandError {
            code: -1,
            message: e.to_string(),
        })?;
    client.call(&method, params).await.map_err(|e| match e {
        aiswitch::rpc::RpcError::Remote { error, .. } => CommandError {
            code: error.code,
            message: error.message,
        },
        other => CommandError {
            code: -1,
            message: other.to_string(),
        },
    })
}

/// Whether the app runs as a smoke test (quit once the dashboard rendered).
pub struct Smoke(pub bool);

/// What the dashboard shows before it is live: the version and the presets.
#[derive(Debug, Serialize)]
pub struct Status {
    /// The aiswitch version.
    pub version: &'static str,
    /// Every readable preset, secrets redacted.
    pub presets: Vec<aiswitch::presets::PresetView>,
}

/// The engine's presets for the dashboard.
#[tauri::command]
pub fn status(engine: State<'_, aiswitch::Engine>) -> Result<Status, CommandError> {
    Ok(Status {
        version: aiswitch::VERSION,
        presets: engine.preset_overview()?.presets,
    })
}

/// The dashboard reports that it rendered; in smoke mode the app prints it and quits.
#[tauri::command]
pub fn ui_ready(app: AppHandle, smoke: State<'_, Smoke>, presets: usize) {
    if smoke.0 {
        println!("aiswitch-desktop: dashboard rendered {presets} preset(s)");
        app.exit(0);
    }
}
