//! The `usage_events` table: the ledger, and its grouped summaries.

use serde::Serialize;

use super::{Store, StoreError};
use crate::agents::event::TokenCounts;

/// One ledger row to insert.
#[derive(Debug, Clone)]
pub struct UsageRow {
    /// When, ms since the epoch.
    pub at_ms: i64,
    /// The agent.
    pub agent: String,
    /// The preset.
    pub preset: Option<String>,
    /// The provider (host of the preset's base URL, or its kind).
    pub provider: Option<String>,
    /// The model.
    pub model: Option<String>,
    /// The task, when the run belonged to one.
    pub task_id: Option<String>,
    /// The counts.
    pub tokens: TokenCounts,
    /// USD, `None` when unpriced.
    pub cost_usd: Option<f64>,
    /// `agent`, `table` or `unpriced`.
    pub cost_source: &'static str,
    /// `agent`, `log_import`, `gateway` or `estimate`.
    pub count_source: &'static str,
    /// The price table version used.
    pub price_version: Option<String>,
}

/// What to summarise.
#[derive(Debug, Clone, Default)]
pub struct UsageFilter {
    /// Only this agent.
    pub agent: Option<String>,
    /// Only this preset.
    pub preset: Option<String>,
    /// Only this model.
    pub model: Option<String>,
    /// From, ms since the epoch.
    pub since_ms: Option<i64>,
    /// Until, ms since the epoch.
    pub until_ms: Option<i64>,
}

/// How to group a summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum GroupBy {
    /// By agent.
    Agent,
    /// By preset.
    Preset,
    /// By model.
    Model,
    /// By UTC day.
    Day,
}

/// One group of a summary.
#[derive(Debug, Clone, Serialize)]
pub struct UsageGroup {
    /// The group's key (`-` when unknown; the whole ledger when not grouped).
    pub key: String,
    /// Runs counted.
    pub runs: u64,
    /// Token sums.
    pub tokens: TokenCounts,
    /// Cost of the priced runs, USD.
    pub cost_usd: f64,
    /// Runs with no price: their tokens are counted, their cost is not known.
    pub unpriced_runs: u64,
}

fn int(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl Store {
    /// Inserts rows in one transaction.
    pub fn insert_usage(&mut self, rows: &[UsageRow]) -> Result<(), StoreError> {
        let path = self.path.clone();
        let err = |source| StoreError::Sqlite {
            path: path.clone(),
            source,
        };
        let tx = self.conn.transaction().map_err(err)?;
        {
            let mut stmt = tx
                .prepare_cached(
                    "INSERT INTO usage_events (at_ms, agent, preset, provider, model, task_id, input, output,
                     cache_read, cache_write, reasoning, cost_usd, cost_source, count_source, price_version)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
                )
                .map_err(err)?;
            for r in rows {
                stmt.execute(rusqlite::params![
                    r.at_ms,
                    r.agent,
                    r.preset,
                    r.provider,
                    r.model,
                    r.task_id,
                    int(r.tokens.input),
                    int(r.tokens.output),
                    int(r.tokens.cache_read),
                    int(r.tokens.cache_write),
                    int(r.tokens.reasoning),
                    r.cost_usd,
                    r.cost_source,
                    r.count_source,
                    r.price_version,
                ])
                .map_err(err)?;
            }
        }
        tx.commit().map_err(err)
    }

    /// Sums the ledger under `filter`, grouped by `by` (one group when `None`).
    pub fn usage_summary(
        &self,
        filter: &UsageFilter,
        by: Option<GroupBy>,
    ) -> Result<Vec<UsageGroup>, StoreError> {
        let key = match by {
            None => "'all'",
            Some(GroupBy::Agent) => "agent",
            Some(GroupBy::Preset) => "coalesce(preset, '-')",
            Some(GroupBy::Model) => "coalesce(model, '-')",
            Some(GroupBy::Day) => "date(at_ms / 1000, 'unixepoch')",
        };
        let sql = format!(
            "SELECT {key} AS k, count(*), sum(input), sum(output), sum(cache_read), sum(cache_write), sum(reasoning),
                    coalesce(sum(cost_usd), 0.0), sum(cost_usd IS NULL)
             FROM usage_events
             WHERE (?1 IS NULL OR agent = ?1) AND (?2 IS NULL OR preset = ?2) AND (?3 IS NULL OR model = ?3)
               AND (?4 IS NULL OR at_ms >= ?4) AND (?5 IS NULL OR at_ms < ?5)
             GROUP BY k ORDER BY k"
        );
        let mut stmt = self
            .conn
            .prepare_cached(&sql)
            .map_err(|e| self.sqlite_err(e))?;
        let rows = stmt
            .query_map(
                rusqlite::params![
                    filter.agent,
                    filter.preset,
                    filter.model,
                    filter.since_ms,
                    filter.until_ms
                ],
                |row| {
                    let n = |i: usize| {
                        row.get::<_, Option<i64>>(i)
                            .map(|v| u64::try_from(v.unwrap_or(0)).unwrap_or(0))
                    };
                    Ok(UsageGroup {
                        key: row.get(0)?,
                        runs: n(1)?,
                        tokens: TokenCounts {
                            input: n(2)?,
                            output: n(3)?,
                            cache_read: n(4)?,
                            cache_write: n(5)?,
                            reasoning: n(6)?,
                        },
                        cost_usd: row.get(7)?,
                        unpriced_runs: n(8)?,
                    })
                },
            )
            .map_err(|e| self.sqlite_err(e))?;
        let groups: Vec<UsageGroup> = rows
            .collect::<Result<_, _>>()
            .map_err(|e| self.sqlite_err(e))?;
        Ok(groups.into_iter().filter(|g| g.runs > 0).collect())
    }
}
