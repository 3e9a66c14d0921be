//! The engine host's relay: it reads the `events` rows after the last one it sent and
//! broadcasts them in id order, which is commit order. It runs when woken: by its
//! own engine right after each commit (so a stored event is out before the live
//! events that follow it in the same process), and by `event.wake` from any other
//! process. Nothing runs while nothing is written: no timer, no poll.

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::broadcast;

use super::EventRecord;
use crate::store::Store;

/// Rows read per query while catching up.
const BATCH: usize = 1024;

/// Sends stored events to the host's subscribers.
pub struct Relay {
    sender: broadcast::Sender<EventRecord>,
    database: PathBuf,
    busy_timeout: Duration,
    /// Locked while delivering, so two wake-ups cannot interleave their events.
    state: Mutex<State>,
}

struct State {
    /// The id of the last event sent.
    last: i64,
    /// Opened at the first delivery after the database exists.
    store: Option<Store>,
}

impl std::fmt::Debug for Relay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Relay")
            .field("database", &self.database)
            .finish_non_exhaustive()
    }
}

impl Relay {
    /// A relay for `engine`'s store. What is stored already is history: subscribers
    /// that want it ask with `since`.
    pub fn new(engine: &crate::Engine, sender: broadcast::Sender<EventRecord>) -> Self {
        Self {
            sender,
            database: engine.paths().database(),
            busy_timeout: Duration::from_millis(engine.settings().busy_timeout_ms),
            state: Mutex::new(State {
                last: engine.last_event_id().unwrap_or(0),
                store: None,
            }),
        }
    }

    /// Broadcasts every event committed since the last delivery.
    pub fn deliver(&self) {
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if state.store.is_none() {
            if !self.database.exists() {
                return;
            }
            match Store::open(&self.database, self.busy_timeout) {
                Ok(store) => state.store = Some(store),
                Err(e) => {
                    tracing::warn!(error = %e, "cannot read new events");
                    return;
                }
            }
        }
        let State { last, store } = &mut *state;
        let Some(store) = store.as_ref() else {
            return;
        };
        loop {
            let batch = match store.events_after(*last, BATCH) {
                Ok(batch) => batch,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot read new events");
                    return;
                }
            };
            let full = batch.len() == BATCH;
            for record in batch {
                *last = record.id.unwrap_or(*last);
                let _ = self.sender.send(record);
            }
            if !full {
                return;
            }
        }
    }
}
