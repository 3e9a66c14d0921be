//! The `rpc_metrics` table.

use std::collections::HashMap;

use super::{Store, StoreError};
use crate::usage::{MethodStats, MetricKey};

impl Store {
    /// Adds aggregates into the table (merging with what a minute already holds).
    pub fn merge_metrics(
        &mut self,
        batch: &HashMap<MetricKey, MethodStats>,
    ) -> Result<(), StoreError> {
        if batch.is_empty() {
            return Ok(());
        }
        let path = self.path.clone();
        let err = |source| StoreError::Sqlite {
            path: path.clone(),
            source,
        };
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(err)?;
        for ((minute, agent, method), stats) in batch {
            let existing: Option<(i64, i64, i64, i64, String)> = {
                use rusqlite::OptionalExtension;
                tx.query_row(
                    "SELECT messages, requests, errors, timeouts, histogram FROM rpc_metrics WHERE minute_ms = ?1 AND agent = ?2 AND method = ?3",
                    rusqlite::params![minute, agent, method],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
                )
                .optional()
                .map_err(err)?
            };
            let mut merged = stats.clone();
            if let Some((m, r, e, t, h)) = existing {
                let n = |v: i64| u64::try_from(v).unwrap_or(0);
                merged.merge(&MethodStats {
                    messages: n(m),
                    requests: n(r),
                    errors: n(e),
                    timeouts: n(t),
                    histogram: serde_json::from_str(&h).unwrap_or_default(),
                });
            }
            let i = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
            tx.execute(
                "INSERT OR REPLACE INTO rpc_metrics VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                rusqlite::params![
                    minute,
                    agent,
                    method,
                    i(merged.messages),
                    i(merged.requests),
                    i(merged.errors),
                    i(merged.timeouts),
                    serde_json::to_string(&merged.histogram).unwrap_or_default()
                ],
            )
            .map_err(err)?;
        }
        tx.commit().map_err(err)
    }

    /// Aggregates per (agent, method) since `since_ms`, optionally for one agent.
    pub fn metrics(
        &self,
        since_ms: i64,
        agent: Option<&str>,
    ) -> Result<HashMap<(String, String), MethodStats>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT agent, method, messages, requests, errors, timeouts, histogram FROM rpc_metrics
                 WHERE minute_ms >= ?1 AND (?2 IS NULL OR agent = ?2)",
            )
            .map_err(|e| self.sqlite_err(e))?;
        let rows = stmt
            .query_map(rusqlite::params![since_ms, agent], |r| {
                let n = |i: usize| r.get::<_, i64>(i).map(|v| u64::try_from(v).unwrap_or(0));
                let histogram: String = r.get(6)?;
                Ok((
                    (r.get::<_, String>(0)?, r.get::<_, String>(1)?),
                    MethodStats {
                        messages: n(2)?,
                        requests: n(3)?,
                        errors: n(4)?,
                        timeouts: n(5)?,
                        histogram: serde_json::from_str(&histogram).unwrap_or_default(),
                    },
                ))
            })
            .map_err(|e| self.sqlite_err(e))?;
        let mut out: HashMap<(String, String), MethodStats> = HashMap::new();
        for row in rows {
            let (key, stats) = row.map_err(|e| self.sqlite_err(e))?;
            out.entry(key).or_default().merge(&stats);
        }
        Ok(out)
    }
}
