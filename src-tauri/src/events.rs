//! The engine host's event stream, passed to the dashboard page as `engine-events`:
//! the same records a browser gets over the dashboard's WebSocket, gathered for a few
//! milliseconds (see [`Gathered`]) so that a page receiving thousands of output lines
//! a second gets one message per frame, not one per line. Reconnects, resuming after
//! the last event seen, when the daemon restarts.

use std::time::Duration;

use aiswitch::Engine;
use aiswitch::control::ControlClient;
use aiswitch::events::{EventRecord, Gathered, Resume};
use tauri::{AppHandle, Emitter};
use tokio::time::Instant;

/// Gathered events go at once past this many.
const GATHER_RECORDS: usize = 1000;

/// Follows the daemon's events for the page until the app quits.
pub fn follow(app: AppHandle, engine: Engine) {
    tauri::async_runtime::spawn(async move {
        let socket = engine.paths().control_socket();
        let mut at = Resume::default();
        loop {
            if let Ok(mut client) = ControlClient::connect(&socket).await
                && client.subscribe(at.since()).await.is_ok()
            {
                pass_on(&app, &mut client, &mut at).await;
            }
            // No daemon (yet): the tray starts one; look again shortly.
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    });
}

/// Passes `client`'s events to the page in gatherings until the daemon leaves.
async fn pass_on(app: &AppHandle, client: &mut ControlClient, at: &mut Resume) {
    let mut gathered: Gathered<EventRecord> = Gathered::new(GATHER_RECORDS);
    loop {
        let due = gathered.due().map(Instant::from_std);
        tokio::select! {
            () = tokio::time::sleep_until(due.unwrap_or_else(Instant::now)), if due.is_some() => {
                send(app, gathered.take());
            }
            record = client.next_event() => match record {
                Some(record) => {
                    at.saw(&record);
                    if gathered.push(record, 1) {
                        send(app, gathered.take());
                    }
                }
                None => break,
            },
        }
    }
    send(app, gathered.take());
}

/// One `engine-events` message to the page, unless there is nothing to say.
fn send(app: &AppHandle, records: Vec<EventRecord>) {
    if !records.is_empty() {
        let _ = app.emit("engine-events", records);
    }
}
