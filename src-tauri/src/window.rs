//! The dashboard window. Closing it destroys its webview (the app goes on in the tray
//! and gives the webview's memory back); opening it again builds it anew from the
//! configuration.

use tauri::{AppHandle, Manager, WebviewWindowBuilder};

/// The dashboard window's label (`tauri.conf.json`).
pub const DASHBOARD: &str = "dashboard";

/// Shows the dashboard in front, building it when it was closed.
pub fn open_dashboard(app: &AppHandle) {
    if let Some(window) = app.get_webview_window(DASHBOARD) {
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
        return;
    }
    let config = app
        .config()
        .app
        .windows
        .iter()
        .find(|w| w.label == DASHBOARD)
        .cloned();
    if let Some(config) = config {
        match WebviewWindowBuilder::from_config(app, &config).and_then(|b| b.build()) {
            Ok(window) => {
                let _ = window.set_focus();
            }
            Err(e) => eprintln!("aiswitch-desktop: cannot open the dashboard: {e}"),
        }
    }
}
