//! The `quota_windows` table: the latest state of each provider window the gateway
//! read from rate-limit headers, per preset (the provider account).

use serde::Serialize;

use super::{Store, StoreError};
use crate::gateway::QuotaWindow;

/// A window as `aiswitch limits` shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QuotaRow {
    /// The preset (the provider account).
    pub preset: String,
    /// The provider's host.
    pub provider: String,
    /// The window and its state.
    #[serde(flatten)]
    pub window: QuotaWindow,
    /// When a response last reported it, ms since the epoch.
    pub seen_at_ms: i64,
}

impl Store {
    /// Replaces the windows of `preset` that a response reported at `seen_at_ms`;
    /// returns each window's previous state (None when new).
    pub fn record_quota(
        &mut self,
        preset: &str,
        provider: &str,
        windows: &[QuotaWindow],
        seen_at_ms: i64,
    ) -> Result<Vec<Option<QuotaWindow>>, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(|e| StoreError::Sqlite {
                path: self.path.clone(),
                source: e,
            })?;
        let run = |tx: &rusqlite::Transaction<'_>| -> rusqlite::Result<Vec<Option<QuotaWindow>>> {
            let mut before = Vec::with_capacity(windows.len());
            for w in windows {
                let old = tx
                    .query_row(
                        "SELECT used_percent, resets_at_ms, window_minutes, status FROM quota_windows
                         WHERE preset = ?1 AND window = ?2",
                        rusqlite::params![preset, w.window],
                        |row| {
                            Ok(QuotaWindow {
                                window: w.window.clone(),
                                used_percent: row.get(0)?,
                                resets_at_ms: row.get(1)?,
                                window_minutes: row.get::<_, Option<i64>>(2)?.map(|m| m.max(0) as u64),
                                status: row.get(3)?,
                            })
                        },
                    )
                    .ok();
                before.push(old);
                tx.execute(
                    "INSERT INTO quota_windows VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                     ON CONFLICT (preset, window) DO UPDATE SET provider = excluded.provider,
                       used_percent = excluded.used_percent, resets_at_ms = excluded.resets_at_ms,
                       window_minutes = excluded.window_minutes, status = excluded.status,
                       seen_at_ms = excluded.seen_at_ms",
                    rusqlite::params![
                        preset,
                        provider,
                        w.window,
                        w.used_percent,
                        w.resets_at_ms,
                        w.window_minutes
                            .map(|m| i64::try_from(m).unwrap_or(i64::MAX)),
                        w.status,
                        seen_at_ms
                    ],
                )?;
            }
            Ok(before)
        };
        let before = run(&tx).and_then(|before| tx.commit().map(|()| before));
        before.map_err(|source| self.sqlite_err(source))
    }

    /// Every window known, by preset then window.
    pub fn quota_windows(&self) -> Result<Vec<QuotaRow>, StoreError> {
        let read = || -> rusqlite::Result<Vec<QuotaRow>> {
            let mut stmt = self.conn.prepare(
                "SELECT preset, provider, window, used_percent, resets_at_ms, window_minutes, status, seen_at_ms
                 FROM quota_windows ORDER BY preset, window",
            )?;
            let rows = stmt.query_map([], |row| {
                Ok(QuotaRow {
                    preset: row.get(0)?,
                    provider: row.get(1)?,
                    window: QuotaWindow {
                        window: row.get(2)?,
                        used_percent: row.get(3)?,
                        resets_at_ms: row.get(4)?,
                        window_minutes: row.get::<_, Option<i64>>(5)?.map(|m| m.max(0) as u64),
                        status: row.get(6)?,
                    },
                    seen_at_ms: row.get(7)?,
                })
            })?;
            rows.collect()
        };
        read().map_err(|source| self.sqlite_err(source))
    }
}
