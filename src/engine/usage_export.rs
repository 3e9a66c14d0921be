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
                csv.write_record(columns()?).map_err(failed)?;
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

    /// Up to `limit` usage events recorded after row `after_id`, in recording order.
    pub fn usage_after(&self, after_id: i64, limit: usize) -> Result<Vec<UsageRecord>, Error> {
        Ok(self.open_store()?.usage_after(after_id, limit)?)
    }

    /// The id of the newest usage event (0: none yet).
    pub fn last_usage_id(&self) -> Result<i64, Error> {
        Ok(self.open_store()?.last_usage_id()?)
    }
}

/// The CSV header: [`UsageRecord`]'s fields in order, as the `csv` crate names them
/// when it serializes one (so the header and the rows cannot drift apart).
fn columns() -> Result<Vec<String>, Error> {
    let mut probe = csv::Writer::from_writer(Vec::new());
    probe.serialize(UsageRecord::default()).map_err(failed)?;
    let text = probe.into_inner().map_err(failed)?;
    let header = text.split(|b| *b == b'\n').next().unwrap_or_default();
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(header)
        .records()
        .next()
        .transpose()
        .map_err(failed)?
        .map(|record| record.iter().map(str::to_owned).collect())
        .ok_or_else(|| failed("no CSV header"))
}

fn failed(e: impl std::fmt::Display) -> Error {
    ExportError(e.to_string()).into()
}
