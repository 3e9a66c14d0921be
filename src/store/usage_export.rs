//! The usage ledger row by row, for export: every column a spreadsheet or another
//! tool needs, in time order, streamed (a million rows are never held at once).

use serde::Serialize;

use super::{Store, StoreError, UsageFilter};

/// One usage event as `tokens export` writes it. The field order is the column
/// order of the CSV; it is part of the documented format and only grows at the end.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct UsageRecord {
    /// The ledger's row id.
    pub id: i64,
    /// When, as RFC 3339 in UTC.
    pub time: String,
    /// When, ms since the epoch.
    pub at_ms: i64,
    /// The agent's id.
    pub agent: String,
    /// The copy of the agent in a task (`claude-2`), when there were several.
    pub instance: Option<String>,
    /// The preset it ran with.
    pub preset: Option<String>,
    /// The provider (the preset's kind or the log's).
    pub provider: Option<String>,
    /// The model.
    pub model: Option<String>,
    /// The task it belonged to.
    pub task: Option<String>,
    /// The CLI's own session id.
    pub session: Option<String>,
    /// Input tokens (not cached).
    pub input: u64,
    /// Output tokens.
    pub output: u64,
    /// Tokens read from the cache.
    pub cache_read: u64,
    /// Tokens written to the cache.
    pub cache_write: u64,
    /// Reasoning tokens (part of output where the provider says so).
    pub reasoning: u64,
    /// Cost in USD; empty when it could not be priced.
    pub cost_usd: Option<f64>,
    /// Where the cost came from: agent, table or unpriced.
    pub cost_source: String,
    /// Where the counts came from: agent, log_import, gateway or estimate.
    pub count_source: String,
    /// The working directory it ran in, when known.
    pub project: Option<String>,
    /// The gateway launch that metered it (the short id of its token).
    pub launch: Option<String>,
}

/// The columns `read_record` reads, in its order.
const RECORD_COLUMNS: &str = "id, at_ms, agent, instance, preset, provider, model, task_id, session_id,
     input, output, cache_read, cache_write, reasoning, cost_usd, cost_source, count_source, project, launch";

impl Store {
    /// Calls `each` with every usage event under `filter`, oldest first; stops at the
    /// first error `each` returns.
    pub fn each_usage<E: From<StoreError>>(
        &self,
        filter: &UsageFilter,
        mut each: impl FnMut(UsageRecord) -> Result<(), E>,
    ) -> Result<(), E> {
        let mut stmt = self
            .conn
            .prepare(&format!(
                "SELECT {RECORD_COLUMNS}
                 FROM usage_events
                 WHERE at_ms >= ?1 AND at_ms < ?2 AND (?3 IS NULL OR agent = ?3)
                   AND (?4 IS NULL OR preset = ?4) AND (?5 IS NULL OR model = ?5)
                   AND (?6 IS NULL OR {})
                 ORDER BY at_ms, id",
                super::usage::project_condition("?6")
            ))
            .map_err(|e| self.sqlite_err(e))?;
        let mut rows = stmt
            .query((
                filter.since_ms.unwrap_or(i64::MIN),
                filter.until_ms.unwrap_or(i64::MAX),
                &filter.agent,
                &filter.preset,
                &filter.model,
                &filter.project,
            ))
            .map_err(|e| self.sqlite_err(e))?;
        while let Some(row) = rows.next().map_err(|e| self.sqlite_err(e))? {
            let record = read_record(row).map_err(|e| self.sqlite_err(e))?;
            each(record)?;
        }
        Ok(())
    }

    /// Up to `limit` usage events recorded after row `after_id`, in the order they
    /// were recorded (what an exporter has not sent yet).
    pub fn usage_after(&self, after_id: i64, limit: usize) -> Result<Vec<UsageRecord>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT {RECORD_COLUMNS} FROM usage_events WHERE id > ?1 ORDER BY id LIMIT ?2"
            ))
            .map_err(|e| self.sqlite_err(e))?;
        let rows = stmt
            .query_map(
                rusqlite::params![after_id, i64::try_from(limit).unwrap_or(i64::MAX)],
                read_record,
            )
            .map_err(|e| self.sqlite_err(e))?;
        rows.collect::<Result<_, _>>()
            .map_err(|e| self.sqlite_err(e))
    }

    /// The id of the newest usage event, 0 when the ledger is empty.
    pub fn last_usage_id(&self) -> Result<i64, StoreError> {
        self.conn
            .query_row("SELECT coalesce(max(id), 0) FROM usage_events", [], |r| {
                r.get(0)
            })
            .map_err(|e| self.sqlite_err(e))
    }
}

fn read_record(row: &rusqlite::Row<'_>) -> rusqlite::Result<UsageRecord> {
    let n = |i: usize| -> rusqlite::Result<u64> {
        Ok(u64::try_from(row.get::<_, i64>(i)?).unwrap_or(0))
    };
    let at_ms: i64 = row.get(1)?;
    let time = jiff::Timestamp::from_millisecond(at_ms)
        .map(|t| t.to_string())
        .unwrap_or_default();
    Ok(UsageRecord {
        id: row.get(0)?,
        time,
        at_ms,
        agent: row.get(2)?,
        instance: row.get(3)?,
        preset: row.get(4)?,
        provider: row.get(5)?,
        model: row.get(6)?,
        task: row.get(7)?,
        session: row.get(8)?,
        input: n(9)?,
        output: n(10)?,
        cache_read: n(11)?,
        cache_write: n(12)?,
        reasoning: n(13)?,
        cost_usd: row.get(14)?,
        cost_source: row.get(15)?,
        count_source: row.get(16)?,
        project: row.get(17)?,
        launch: row.get(18)?,
    })
}

/// The ledger's totals per agent, preset, model and count source: what the
/// Prometheus counters report.
#[derive(Debug, Clone, PartialEq)]
pub struct UsageTotal {
    /// The agent's id.
    pub agent: String,
    /// The preset, empty when none.
    pub preset: String,
    /// The model, empty when unknown.
    pub model: String,
    /// Where the counts came from (agent, log_import, gateway, estimate).
    pub source: String,
    /// Token counts: input, output, cache read, cache write, reasoning.
    pub tokens: [u64; 5],
    /// Priced cost in USD (unpriced events add nothing).
    pub cost_usd: f64,
    /// Usage events.
    pub events: u64,
}

impl Store {
    /// Totals of the whole ledger per agent, preset, model and source, from the
    /// hourly rollup (a Prometheus scrape reads a few rows per hour, not every event).
    pub fn usage_totals(&self) -> Result<Vec<UsageTotal>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT agent, preset, model, count_source,
                        sum(input), sum(output), sum(cache_read), sum(cache_write), sum(reasoning),
                        sum(cost_usd), sum(runs)
                 FROM usage_hourly GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4",
            )
            .map_err(|e| self.sqlite_err(e))?;
        let rows = stmt
            .query_map([], |row| {
                let n = |i: usize| -> rusqlite::Result<u64> {
                    Ok(u64::try_from(row.get::<_, i64>(i)?).unwrap_or(0))
                };
                Ok(UsageTotal {
                    agent: row.get(0)?,
                    preset: row.get(1)?,
                    model: row.get(2)?,
                    source: row.get(3)?,
                    tokens: [n(4)?, n(5)?, n(6)?, n(7)?, n(8)?],
                    cost_usd: row.get(9)?,
                    events: n(10)?,
                })
            })
            .map_err(|e| self.sqlite_err(e))?;
        rows.collect::<Result<_, _>>()
            .map_err(|e| self.sqlite_err(e))
    }
}
