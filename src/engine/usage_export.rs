//! `tokens export`: the usage ledger out to a spreadsheet or another tool, one row
//! per usage event, in time order, as CSV (with a header) or JSON Lines. The columns
//! are [`UsageRecord`]'s fields, documented in docs/usage-export.md.

use std::io::Write;

use super::Engine;
use crate::Error;
use crate::store::{UsageFilter, UsageRecord, UsageTotal};

/// The file format of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    /// Comma-separated, a header row first; an unpriced cost is an empty cell.
    Csv,
    /// One JSON object per line; an unpriced cost is null.
    Jsonl,
}

/// Writing an export failed (the disk filled, the pipe closed).
#[derive(Debug, thiserror::Error)]
#[error("cannot write the export: {0}")]
pub struct ExportError(String);

impl Engine {
    /// Writes every usage event under `filter` to `out` in `format`; returns how many.
    pub fn export_usage(
        &self,
        filter: &UsageFilter,
        format: ExportFormat,
        out: impl Write,
    ) -> Result<u64, Error> {
        let store = self.open_store()?;
        let mut rows = 0u64;
        match format {
            ExportFormat::Csv => {
                let mut csv = csv::WriterBuilder::new()
                    .has_headers(false)
                    .from_writer(out);
                // The header even when there are no rows: a tool reading it knows the columns.
                csv.write_record(COLUMNS).map_err(failed)?;
                store.each_usage(filter, |record: UsageRecord| {
                    rows += 1;
                    csv.serialize(record).map_err(failed)
                })?;
                csv.flush().map_err(failed)?;
            }
            ExportFormat::Jsonl => {
                let mut out = std::io::BufWriter::new(out);
                store.each_usage(filter, |record: UsageRecord| {
                    rows += 1;
                    serde_json::to_writer(&mut out, &record).map_err(failed)?;
                    out.write_all(b"\n").map_err(failed)
                })?;
                out.flush().map_err(failed)?;
            }
        }
        Ok(rows)
    }

    /// The ledger's totals per agent, preset, model and count source (the
    /// Prometheus counters); empty before anything was recorded.
    pub fn usage_totals(&self) -> Result<Vec<UsageTotal>, Error> {
        if !self.paths.database().exists() {
            return Ok(Vec::new());
        }
        Ok(self.open_store()?.usage_totals()?)
    }
}

/// The CSV header: [`UsageRecord`]'s fields in order.
const COLUMNS: [&str; 18] = [
    "id",
    "time",
    "at_ms",
    "agent",
    "instance",
    "preset",
    "provider",
    "model",
    "task",
    "session",
    "input",
    "output",
    "cache_read",
    "cache_write",
    "reasoning",
    "cost_usd",
    "cost_source",
    "count_source",
];

fn failed(e: impl std::fmt::Display) -> Error {
    ExportError(e.to_string()).into()
}
