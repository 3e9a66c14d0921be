//! The engine host's event stream, passed to the dashboard page as `engine-event`
//! (the same records a browser gets over the dashboard's WebSocket). Reconnects,
//! resuming after the last event seen, when the daemon restarts.

use std::time::Duration;

use aiswitch::Engine;
use aiswitch::control::ControlClient;
use aiswitch::events::Resume;
use tauri::{AppHandle, Emitter};

/// Follows the daemon's events for the page until the app quits.
pub fn follow(app: AppHandle, engine: Engine) {
    tauri::async_runtime::spawn(async move {
        let socket = engine.paths().control_socket();
        let mut at = Resume::default();
        loop {
            if let Ok(mut client) = ControlClient::connect(&socket).await
                && client.subscribe(at.since()).await.is_ok()
            {
                while let Some(record) = client.next_event().await {
                    at.saw(&record);
                    let _ = app.emit("engine-event", &record);
                }
            }
            // No daemon (yet): the tray starts one; look again shortly.
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    });
}
