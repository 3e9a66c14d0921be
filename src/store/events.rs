//! The `events` table: one row per change a command makes. Rows carry names (of
//! presets, fields, variables), never values, so no secret reaches the database.

use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;

use super::{Store, StoreError};

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// A preset was created.
    PresetAdded,
    /// A preset was replaced with `--force`.
    PresetReplaced,
    /// A preset was removed.
    PresetRemoved,
    /// A preset was marked current.
    PresetUsed,
    /// A preset arrived through `import`.
    PresetImported,
    /// An agent manifest was registered.
    AgentRegistered,
    /// An agent's environment was switched or rolled back.
    EnvSwitched,
    /// An agent CLI was launched interactively (`run`, `apply -- CMD`).
    AgentLaunched,
}

impl EventKind {
    /// The stored name, e.g. `preset.added`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PresetAdded => "preset.added",
            Self::PresetReplaced => "preset.replaced",
            Self::PresetRemoved => "preset.removed",
            Self::PresetUsed => "preset.used",
            Self::PresetImported => "preset.imported",
            Self::AgentRegistered => "agent.registered",
            Self::EnvSwitched => "env.switched",
            Self::AgentLaunched => "agent.launched",
        }
    }
}

/// One recorded change.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    /// Milliseconds since the Unix epoch.
    pub at_ms: i64,
    /// What happened.
    pub kind: String,
    /// The preset concerned, if any.
    pub preset: Option<String>,
    /// Extra facts as JSON: names only, never secret values.
    pub detail: serde_json::Value,
}

impl Store {
    /// Records events in one transaction.
    pub fn record(
        &mut self,
        events: &[(EventKind, Option<&str>, serde_json::Value)],
    ) -> Result<(), StoreError> {
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
        {
            let mut insert = tx
                .prepare_cached(
                    "INSERT INTO events (at_ms, kind, preset, detail) VALUES (?1, ?2, ?3, ?4)",
                )
                .map_err(err)?;
            for (kind, preset, detail) in events {
                insert
                    .execute((at_ms, kind.as_str(), preset, detail.to_string()))
                    .map_err(err)?;
            }
        }
        tx.commit().map_err(err)
    }

    /// The most recent events, newest first.
    pub fn recent_events(&self, limit: usize) -> Result<Vec<Event>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = self.query_events("ORDER BY id DESC LIMIT ?1", (limit,))?;
        Ok(rows.into_iter().map(|(_, event)| event).collect())
    }

    /// Events of `kind` recorded after row `after`, oldest first, with their row ids.
    pub fn events_after(
        &self,
        kind: EventKind,
        after: i64,
    ) -> Result<Vec<(i64, Event)>, StoreError> {
        self.query_events(
            "WHERE id > ?1 AND kind = ?2 ORDER BY id",
            (after, kind.as_str()),
        )
    }

    /// The row id of the newest event of `kind`, 0 when there is none.
    pub fn last_event_id(&self, kind: EventKind) -> Result<i64, StoreError> {
        self.conn
            .query_row(
                "SELECT COALESCE(MAX(id), 0) FROM events WHERE kind = ?1",
                [kind.as_str()],
                |r| r.get(0),
            )
            .map_err(|e| self.sqlite_err(e))
    }

    fn query_events(
        &self,
        tail: &str,
        params: impl rusqlite::Params,
    ) -> Result<Vec<(i64, Event)>, StoreError> {
        let err = |source| self.sqlite_err(source);
        let mut query = self
            .conn
            .prepare_cached(&format!(
                "SELECT id, at_ms, kind, preset, detail FROM events {tail}"
            ))
            .map_err(err)?;
        let rows = query
            .query_map(params, |row| {
                let detail: String = row.get(4)?;
                Ok((
                    row.get(0)?,
                    Event {
                        at_ms: row.get(1)?,
                        kind: row.get(2)?,
                        preset: row.get(3)?,
                        detail: serde_json::from_str(&detail).unwrap_or(serde_json::Value::Null),
                    },
                ))
            })
            .map_err(err)?;
        rows.collect::<Result<_, _>>().map_err(err)
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
    fn records_and_reads_back() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let mut store =
            Store::open(&tmp.path().join("e.db"), Duration::from_secs(1)).expect("open");
        store
            .record(&[(
                EventKind::PresetAdded,
                Some("a"),
                serde_json::json!({"fields": ["model"]}),
            )])
            .expect("record");
        let events = store.recent_events(10).expect("read");
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].kind, "preset.added");
        assert_eq!(events[0].preset.as_deref(), Some("a"));
    }
}
