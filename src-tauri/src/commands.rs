//! Tauri commands: each calls the engine and maps its error; no logic of their own.

use serde::Serialize;
use tauri::{AppHandle, State};

use crate::status::Status;

/// The one error shape the UI receives.
#[derive(Debug, Serialize)]
pub struct CommandError {
    /// The control API error code.
    pub code: i32,
    /// One line for the user.
    pub message: String,
}

impl From<aiswitch::Error> for CommandError {
    fn from(err: aiswitch::Error) -> Self {
        Self {
            code: err.code(),
            message: err.to_string(),
        }
    }
}

/// Whether the app runs as a smoke test (quit once the dashboard rendered).
pub struct Smoke(pub bool);

/// The engine's state for the dashboard.
#[tauri::command]
pub fn status(engine: State<'_, aiswitch::Engine>) -> Result<Status, CommandError> {
    Ok(Status::read(&engine))
}

/// The dashboard reports that it rendered; in smoke mode the app prints it and quits.
#[tauri::command]
pub fn ui_ready(app: AppHandle, smoke: State<'_, Smoke>, presets: usize) {
    if smoke.0 {
        println!("aiswitch-desktop: dashboard rendered {presets} preset(s); tray ready");
        app.exit(0);
    }
}
