//! One connection's event subscription: stored events after the id it resumes from
//! (read from the store), then everything the host broadcasts, each stored event
//! exactly once and in id order.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::broadcast::error::RecvError;
use tokio::task::JoinHandle;

use crate::engine::AgentRuntime;
use crate::events::EventRecord;
use crate::rpc::Connection;

/// Stored events read per query while catching up.
const BATCH: usize = 1024;

/// Starts forwarding events to `conn` as `event` notifications; returns the task
/// and the id it starts after. With `since`, the stored events after that id come
/// first; without, those committed from now on. A subscriber that falls behind the
/// broadcast catches up from the store the same way, so it loses no stored event.
pub fn start(
    runtime: &Arc<AgentRuntime>,
    conn: Connection,
    since: Option<i64>,
) -> (JoinHandle<()>, i64) {
    let engine = runtime.engine().clone();
    // The newest id is read before subscribing, and the store is read from it after:
    // an event committed in between comes from the store, and its broadcast copy is
    // dropped by the id check.
    let start = since.unwrap_or_else(|| engine.last_event_id().unwrap_or(0));
    let mut live = runtime.subscribe();
    let task = tokio::spawn(async move {
        let mut last = start;
        let first = EventRecord::live(crate::events::Event::Subscribed { after: start });
        if send(&conn, &first).is_err() {
            return;
        }
        if catch_up(&engine, &conn, &mut last).await.is_err() {
            return;
        }
        loop {
            let record = match live.recv().await {
                Ok(record) => record,
                Err(RecvError::Lagged(_)) => {
                    // Live events are gone; stored ones are read back.
                    if catch_up(&engine, &conn, &mut last).await.is_err() {
                        return;
                    }
                    continue;
                }
                Err(RecvError::Closed) => return,
            };
            if let Some(id) = record.id {
                if id <= last {
                    continue;
                }
                last = id;
            }
            if send(&conn, &record).is_err() {
                return;
            }
        }
    });
    (task, start)
}

/// Sends the stored events after `last`, moving `last` on.
async fn catch_up(engine: &crate::Engine, conn: &Connection, last: &mut i64) -> Result<(), ()> {
    loop {
        let batch = engine.events_after(*last, BATCH).unwrap_or_default();
        let full = batch.len() == BATCH;
        for record in &batch {
            send(conn, record)?;
            *last = record.id.unwrap_or(*last);
        }
        if !full {
            return Ok(());
        }
        // Let the peer read before the next batch, so a long backlog does not hit
        // the connection's queue limit.
        while conn.queued() > BATCH {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
}

fn send(conn: &Connection, record: &EventRecord) -> Result<(), ()> {
    let value = serde_json::to_value(record).map_err(|_| ())?;
    conn.notify("event", Some(value)).map_err(|_| ())
}
