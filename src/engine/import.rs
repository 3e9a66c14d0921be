//! Importing the agents' own usage logs into the ledger, incrementally: each file is
//! read from where the last import stopped (from the start again if it shrank), and
//! entries already in the ledger are skipped by key.

use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::Engine;
use crate::Error;
use crate::events::Event;
use crate::presets::{PresetError, PriceOverrides};
use crate::store::UsageRow;
use crate::usage::{Line, LogSource, codex_session_from_path, opencode_message, parse_line};

/// What an import did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ImportReport {
    /// Log files looked at.
    pub files: usize,
    /// Bytes read this time.
    pub bytes_read: u64,
    /// New entries added to the ledger.
    pub imported: usize,
    /// Entries already in the ledger.
    pub duplicates: usize,
    /// Lines that were not JSON, skipped.
    pub corrupt_lines: usize,
    /// Entries of sessions aiswitch ran itself and recorded from the agent: not
    /// counted again.
    pub recorded_by_aiswitch: usize,
}

/// The default log directory of `source` under the user's home.
pub fn default_log_dir(source: LogSource) -> Option<PathBuf> {
    let home = directories::BaseDirs::new()?.home_dir().to_path_buf();
    Some(match source {
        LogSource::Claude => home.join(".claude/projects"),
        LogSource::Codex => home.join(".codex/sessions"),
        LogSource::Gemini => home.join(".gemini/tmp"),
        LogSource::Qwen => home.join(".qwen/usage"),
        LogSource::OpenCode => directories::BaseDirs::new()?.data_dir().join("opencode"),
    })
}

/// Stores the rows of one file (or database) that are new: one row per key (Claude
/// Code repeats a message over several lines: its last line wins), none of a session
/// aiswitch recorded from the agent itself.
fn keep_new(
    store: &mut crate::store::Store,
    rows: Vec<UsageRow>,
    ours: &std::collections::HashSet<String>,
    report: &mut ImportReport,
    added: &mut crate::store::UsageAdded,
) -> Result<(), Error> {
    let mut seen = std::collections::HashSet::new();
    let mut unique: Vec<UsageRow> = rows
        .into_iter()
        .rev()
        .filter(|r| seen.insert(r.source_key.clone()))
        .collect();
    unique.reverse();
    let before = unique.len();
    unique.retain(|r| r.session_id.as_ref().is_none_or(|s| !ours.contains(s)));
    report.recorded_by_aiswitch += before - unique.len();
    let new = store.insert_usage(&unique)?;
    report.imported += new.rows;
    report.duplicates += unique.len() - new.rows;
    added.merge(new);
    Ok(())
}

/// The session a log's first line names (Gemini's chat header).
fn first_line_session(source: LogSource, file: &Path) -> Option<String> {
    use std::io::BufRead;
    let mut first = String::new();
    std::io::BufReader::new(std::fs::File::open(file).ok()?)
        .read_line(&mut first)
        .ok()?;
    match parse_line(source, first.trim_end(), "") {
        Line::Session(session) => Some(session),
        _ => None,
    }
}

fn jsonl_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            jsonl_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "jsonl") {
            out.push(path);
        }
    }
}

impl Engine {
    /// Imports `source`'s logs from `dir` (a file or a directory searched for
    /// `*.jsonl`). A missing `dir` is an error and nothing is written.
    pub fn import_usage(&self, source: LogSource, dir: &Path) -> Result<ImportReport, Error> {
        if !dir.exists() {
            return Err(PresetError::Read {
                path: dir.to_path_buf(),
                source: std::io::Error::from(std::io::ErrorKind::NotFound),
            }
            .into());
        }
        if source == LogSource::OpenCode {
            return self.import_opencode(dir);
        }
        let mut files = Vec::new();
        if dir.is_file() {
            files.push(dir.to_path_buf());
        } else {
            jsonl_files(dir, &mut files);
        }
        files.sort();
        let mut report = ImportReport {
            files: files.len(),
            ..ImportReport::default()
        };
        let mut store = self.open_store()?;
        let ours = store.agent_sessions()?;
        let table = self.price_table();
        let mut added = crate::store::UsageAdded::default();
        for file in files {
            let key = file.display().to_string();
            let Ok(mut handle) = std::fs::File::open(&file) else {
                continue;
            };
            let size = handle.metadata().map(|m| m.len()).unwrap_or(0);
            let start = match store.import_offset(&key)? {
                Some((offset, _)) if offset <= size => offset,
                _ => 0, // new, or shrank (rotated): from the start; keys prevent double counting
            };
            if start == size {
                continue;
            }
            let mut bytes = Vec::with_capacity(usize::try_from(size - start).unwrap_or(0));
            if handle.seek(SeekFrom::Start(start)).is_err()
                || handle.read_to_end(&mut bytes).is_err()
            {
                continue;
            }
            // Only whole lines: a line still being written is read next time.
            let complete = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1);
            let mut rows = Vec::new();
            let mut model: Option<String> = None;
            let mut session = match source {
                LogSource::Codex => codex_session_from_path(&file),
                // The session is on the first line; read it when starting past it.
                LogSource::Gemini if start > 0 => first_line_session(source, &file),
                LogSource::Claude | LogSource::Gemini | LogSource::Qwen | LogSource::OpenCode => {
                    None
                }
            };
            let mut offset = start;
            for raw in bytes[..complete].split_inclusive(|&b| b == b'\n') {
                let line = String::from_utf8_lossy(raw);
                match parse_line(source, line.trim_end(), &format!("{key}:{offset}")) {
                    Line::Entry(entry) => {
                        let model = entry.model.or_else(|| model.clone());
                        let priced = table.price(
                            model.as_deref(),
                            &entry.tokens,
                            None,
                            &PriceOverrides::default(),
                        );
                        rows.push(UsageRow {
                            at_ms: entry.at_ms,
                            agent: source.agent().to_owned(),
                            preset: None,
                            provider: None,
                            model,
                            task_id: None,
                            tokens: entry.tokens,
                            cost_usd: priced.cost_usd,
                            cost_source: priced.source,
                            count_source: "log_import",
                            price_version: (priced.source == "table")
                                .then(|| table.version.clone()),
                            source_key: Some(entry.key),
                            instance: None,
                            session_id: entry.session.or_else(|| session.clone()),
                        });
                    }
                    Line::Model(m) => model = Some(m),
                    Line::Session(s) => session = Some(s),
                    Line::Corrupt => report.corrupt_lines += 1,
                    Line::Other => {}
                }
                offset += raw.len() as u64;
            }
            keep_new(&mut store, rows, &ours, &mut report, &mut added)?;
            report.bytes_read += complete as u64;
            store.set_import_offset(&key, start + complete as u64, size)?;
        }
        drop(store);
        self.finish_import(source, report, added)
    }

    /// OpenCode keeps its messages in a SQLite database (`dir` is it or the folder
    /// holding `opencode.db`): its finished assistant messages, read-only.
    fn import_opencode(&self, dir: &Path) -> Result<ImportReport, Error> {
        let db = if dir.is_dir() {
            dir.join("opencode.db")
        } else {
            dir.to_path_buf()
        };
        let unreadable = |e: rusqlite::Error| PresetError::Read {
            path: db.clone(),
            source: std::io::Error::other(e.to_string()),
        };
        let conn = rusqlite::Connection::open_with_flags(
            &db,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(unreadable)?;
        let messages: Vec<(String, String, String)> = conn
            .prepare("SELECT id, session_id, data FROM message ORDER BY time_created")
            .and_then(|mut stmt| {
                stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                    .collect()
            })
            .map_err(unreadable)?;
        let table = self.price_table();
        let mut report = ImportReport {
            files: 1,
            ..ImportReport::default()
        };
        let mut rows = Vec::new();
        for (id, session, data) in &messages {
            report.bytes_read += data.len() as u64;
            let Some(message) = opencode_message(id, session, data) else {
                continue;
            };
            let priced = table.price(
                message.entry.model.as_deref(),
                &message.entry.tokens,
                None,
                &PriceOverrides::default(),
            );
            let (cost_usd, cost_source) = match message.cost_usd {
                Some(cost) if cost > 0.0 => (Some(cost), "agent"),
                _ => (priced.cost_usd, priced.source),
            };
            rows.push(UsageRow {
                at_ms: message.entry.at_ms,
                agent: LogSource::OpenCode.agent().to_owned(),
                preset: None,
                provider: message.provider,
                model: message.entry.model,
                task_id: None,
                tokens: message.entry.tokens,
                cost_usd,
                cost_source,
                count_source: "log_import",
                price_version: (cost_source == "table").then(|| table.version.clone()),
                source_key: Some(message.entry.key),
                instance: None,
                session_id: message.entry.session,
            });
        }
        let mut store = self.open_store()?;
        let ours = store.agent_sessions()?;
        let mut added = crate::store::UsageAdded::default();
        keep_new(&mut store, rows, &ours, &mut report, &mut added)?;
        drop(store);
        self.finish_import(LogSource::OpenCode, report, added)
    }

    /// Announces an import (the usage it added, `import_finished`) and fires budget
    /// thresholds it crossed.
    fn finish_import(
        &self,
        source: LogSource,
        report: ImportReport,
        added: crate::store::UsageAdded,
    ) -> Result<ImportReport, Error> {
        let mut events = Vec::with_capacity(2);
        if added.rows > 0 {
            events.push(added.into());
        }
        events.push(Event::ImportFinished {
            what: format!("{} logs", source.agent()),
            written: report.imported,
            skipped: report.duplicates + report.recorded_by_aiswitch,
        });
        self.record(&events)?;
        self.fire_budget_thresholds()?;
        Ok(report)
    }

    /// Imports each of `sources` from where its CLI keeps its logs; a source whose
    /// directory does not exist (that CLI never ran here) is left out of the answer.
    pub fn import_default_logs(&self, sources: &[LogSource]) -> Result<Vec<SourceReport>, Error> {
        let mut reports = Vec::new();
        for &source in sources {
            let Some(dir) = default_log_dir(source).filter(|d| d.exists()) else {
                continue;
            };
            let report = self.import_usage(source, &dir)?;
            reports.push(SourceReport {
                agent: source.agent(),
                report,
            });
        }
        Ok(reports)
    }
}

/// One source's import, as `usage import` and `usage.import` answer it.
#[derive(Debug, Clone, Serialize)]
pub struct SourceReport {
    /// The agent whose logs were read.
    pub agent: &'static str,
    /// What the import did.
    pub report: ImportReport,
}
