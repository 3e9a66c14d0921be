//! The dashboard window. Closing it destroys its webview (the app goes on in the tray
//! and gives the webview's memory back); opening it again builds it anew from the
//! configuration.

use tauri::{AppHandle, Manager, WebviewWindowBuilder};

/// The dashboard window's label (`tauri.conf.json`).
pub const DASHBOARD: &str = "dashboard";

/// Shows the dashboard in front, building it when it was closed.
pub fn open_dashboard(app: &AppHandle) {
    open(app, None);
}

/// Shows the dashboard at `route` (`/launch`, `/task/ID`, `/alerts`: the page's hash
/// routes).
pub fn open_dashboard_at(app: &AppHandle, route: &str) {
    open(app, Some(route));
}

fn open(app: &AppHandle, route: Option<&str>) {
    // A JSON string is a JavaScript string literal: the route cannot break out of it.
    let go = route.map(|r| {
        let hash = serde_json::Value::from(format!("#{r}"));
        format!("location.hash = {hash};")
    });
    if let Some(window) = app.get_webview_window(DASHBOARD) {
        if let Some(go) = &go {
            let _ = window.eval(go);
        }
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
        let builder = WebviewWindowBuilder::from_config(app, &config).map(|b| match &go {
            // Before the page's own scripts, on its first load only.
            Some(go) => b.initialization_script(format!("if (!location.hash) {{ {go} }}")),
            None => b,
        });
        match builder.and_then(|b| b.build()) {
            Ok(window) => {
                let _ = window.set_focus();
            }
            Err(e) => eprintln!("aiswitch-desktop: cannot open the dashboard: {e}"),
        }
    }
}
