//! The engine host's event stream, passed to the dashboard page as `engine-event`
//! (the same records a browser gets over the dashboard's WebSocket). Reconnects,
//! resuming after the last event seen, when the daemon restarts.

use std::time::Duration;

use aiswitch::Engine;
use aiswitch::control::ControlClient;
use aiswitch::events::Event;
use tauri::{AppHandle, Emitter};

/// Follows the daemon's events for the page until the app quits.
pub fn follow(app: AppHandle, engine: Engine) {
    tauri::async_runtime::spawn(async move {
        let socket = engine.paths().control_socket();
        let mut last: Option<i64> = None;
        loop {
            if let Ok(mut client) = ControlClient::connect(&socket).await
                && client.subscribe(last).await.is_ok()
            {
                while let Some(record) = client.next_event().await {
                    if let Some(id) = record.id {
                        last = Some(id);
                    }
                    if let Event::Subscribed { after } = &record.event {
                        last.get_or_insert(*after);
                    }
                    let _ = app.emit("engine-event", &record);
                }
            }
            // No daemon (yet): the tray starts one; look again shortly.
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    });
}
