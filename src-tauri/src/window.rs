//! The dashboard window: built at a page's route, and brought to the front (at
//! another route) when the tray asks.

use tauri::{AppHandle, Manager, WebviewWindowBuilder};

/// The dashboard window's label (`tauri.conf.json`).
pub const DASHBOARD: &str = "dashboard";

/// Builds the dashboard window at `route` (`/launch`, `/task/ID`, `/alerts`: the
/// page's hash routes).
pub fn open(app: &AppHandle, route: Option<&str>) -> tauri::Result<()> {
    let config = app
        .config()
        .app
        .windows
        .iter()
        .find(|w| w.label == DASHBOARD)
        .cloned()
        .ok_or_else(|| tauri::Error::WindowNotFound)?;
    let mut builder = WebviewWindowBuilder::from_config(app, &config)?;
    if let Some(go) = route.map(go_to) {
        // Before the page's own scripts, on its first load only.
        builder = builder.initialization_script(format!("if (!location.hash) {{ {go} }}"));
    }
    builder.build()?.set_focus()
}

/// Brings the dashboard to the front, at `route` when given.
pub fn show(app: &AppHandle, route: Option<&str>) {
    let Some(window) = app.get_webview_window(DASHBOARD) else {
        return;
    };
    if let Some(go) = route.map(go_to) {
        let _ = window.eval(go);
    }
    let _ = window.unminimize();
    let _ = window.show();
    let _ = window.set_focus();
}

/// The script that goes to `route`. A JSON string is a JavaScript string literal: the
/// route cannot break out of it.
fn go_to(route: &str) -> String {
    let hash = serde_json::Value::from(format!("#{route}"));
    format!("location.hash = {hash};")
}
