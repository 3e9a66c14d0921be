//! The `events` table: one row per stored [`Event`], the log subscribers resume from.
//! Rows carry names (of presets, fields, variables), never values, so no secret
//! reaches the database.

use std::time::{SystemTime, UNIX_EPOCH};

use super::{Store, StoreError};
use crate::events::{Event, EventRecord};

impl Store {
    /// Records events in one transaction, in order; returns their ids.
    pub fn record(&mut self, events: &[Event]) -> Result<Vec<i64>, StoreError> {
        let at_ms = now_ms();
        let path = self.path.clone();
        let err = |source| StoreError::Sqlite {
            path: path.clone(),
            source,
        };
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(err)?;
        let mut ids = Vec::with_capacity(events.len());
        {
            let mut insert = tx
                .prepare_cached(
                    "INSERT INTO events (at_ms, kind, preset, detail) VALUES (?1, ?2, ?3, ?4)",
                )
                .map_err(err)?;
            for event in events {
                // Serialised once: the tag is the `kind` column, the whole is `detail`.
                let detail = serde_json::to_value(event).unwrap_or_default();
                let kind = detail["event"].as_str().unwrap_or_default();
                insert
                    .execute((at_ms, kind, event.preset(), detail.to_string()))
                    .map_err(err)?;
                ids.push(tx.last_insert_rowid());
            }
        }
        tx.commit().map_err(err)?;
        Ok(ids)
    }

    /// The most recent events, newest first.
    pub fn recent_events(&self, limit: usize) -> Result<Vec<EventRecord>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.query_events("ORDER BY id DESC LIMIT ?1", (limit,))
    }

    /// Up to `limit` events recorded after row `after`, oldest first.
    pub fn events_after(&self, after: i64, limit: usize) -> Result<Vec<EventRecord>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.query_events("WHERE id > ?1 ORDER BY id LIMIT ?2", (after, limit))
    }

    /// The id of the newest event, 0 when there is none.
    pub fn last_event_id(&self) -> Result<i64, StoreError> {
        self.conn
            .query_row("SELECT COALESCE(MAX(id), 0) FROM events", [], |r| r.get(0))
            .map_err(|e| self.sqlite_err(e))
    }

    /// Rows written before events were typed (kinds like `preset.added`) are left
    /// out: they hold names only and no longer match any event.
    fn query_events(
        &self,
        tail: &str,
        params: impl rusqlite::Params,
    ) -> Result<Vec<EventRecord>, StoreError> {
        let err = |source| self.sqlite_err(source);
        let mut query = self
            .conn
            .prepare_cached(&format!("SELECT id, at_ms, detail FROM events {tail}"))
            .map_err(err)?;
        let rows = query
            .query_map(params, |row| {
                let (id, at_ms, detail): (i64, i64, String) =
                    (row.get(0)?, row.get(1)?, row.get(2)?);
                Ok(serde_json::from_str(&detail).ok().map(|event| EventRecord {
                    id: Some(id),
                    at_ms,
                    event,
                }))
            })
            .map_err(err)?;
        let rows: Vec<Option<EventRecord>> = rows.collect::<Result<_, _>>().map_err(err)?;
        Ok(rows.into_iter().flatten().collect())
    }
}

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn records_in_order_and_reads_back_after_an_id() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let mut store =
            Store::open(&tmp.path().join("e.db"), Duration::from_secs(1)).expect("open");
        let removed = |preset: &str| Event::PresetRemoved {
            preset: preset.into(),
            switched_agents: vec![],
        };
        let ids = store
            .record(&[removed("a"), removed("b"), removed("c")])
            .expect("record");
        assert_eq!(ids.len(), 3);
        let after = store.events_after(ids[0], 10).expect("read");
        let presets: Vec<_> = after.iter().filter_map(|r| r.event.preset()).collect();
        assert_eq!(presets, ["b", "c"]);
        assert_eq!(after[0].id, Some(ids[1]));
        assert_eq!(store.last_event_id().expect("last"), ids[2]);
    }
}
