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
use crate::usage::PriceTable;
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

/// How far a usage import is, for a progress bar.
#[derive(Debug, Clone, Copy)]
pub struct ImportProgress {
    /// Whose logs.
    pub source: LogSource,
    /// Files read so far.
    pub files_done: usize,
    /// Files to read.
    pub files_total: usize,
    /// Bytes read so far.
    pub bytes_read: u64,
}

/// How often a long import says how far it is.
const PROGRESS_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

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

/// One row per key, in the file's order: Claude Code repeats a message over several
/// lines, and its last line wins.
fn last_of_each_key(rows: Vec<UsageRow>) -> Vec<UsageRow> {
    let mut seen = std::collections::HashSet::new();
    let mut unique: Vec<UsageRow> = rows
        .into_iter()
        .rev()
        .filter(|r| seen.insert(r.source_key.clone()))
        .collect();
    unique.reverse();
    unique
}

/// Stores the rows of one file (or database) that are new, none of a session
/// aiswitch recorded from the agent itself (`rows` has one row per key).
fn keep_new(
    store: &mut crate::store::Store,
    mut rows: Vec<UsageRow>,
    ours: &std::collections::HashSet<String>,
    report: &mut ImportReport,
    added: &mut crate::store::UsageAdded,
) -> Result<(), Error> {
    let before = rows.len();
    rows.retain(|r| r.session_id.as_ref().is_none_or(|s| !ours.contains(s)));
    report.recorded_by_aiswitch += before - rows.len();
    let new = store.insert_usage(&rows)?;
    report.imported += new.rows;
    report.duplicates += rows.len() - new.rows;
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
    match parse_line(source, first.as_bytes(), "") {
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

/// A log file with lines not imported yet: from `start` to `size`.
struct Unread {
    path: PathBuf,
    key: String,
    start: u64,
    size: u64,
}

/// The part of each file the last import did not read (from the start again for a
/// file that shrank: rotated; keys prevent double counting).
fn unread(store: &crate::store::Store, files: Vec<PathBuf>) -> Result<Vec<Unread>, Error> {
    let mut pending = Vec::new();
    for path in files {
        let key = path.display().to_string();
        let Ok(size) = std::fs::metadata(&path).map(|m| m.len()) else {
            continue;
        };
        let start = match store.import_offset(&key)? {
            Some((offset, _)) if offset <= size => offset,
            _ => 0,
        };
        if start < size {
            pending.push(Unread {
                path,
                key,
                start,
                size,
            });
        }
    }
    Ok(pending)
}

/// What reading one file gave: its rows, its corrupt lines, and how many bytes of whole
/// lines it read (a line still being written is read next time).
struct FileRead {
    rows: Vec<UsageRow>,
    corrupt: usize,
    complete: u64,
}

/// Reads `unread` into priced ledger rows; `None` when the file cannot be read now.
fn read_file(source: LogSource, unread: &Unread, table: &PriceTable) -> Option<FileRead> {
    let mut handle = std::fs::File::open(&unread.path).ok()?;
    let mut bytes = Vec::with_capacity(usize::try_from(unread.size - unread.start).unwrap_or(0));
    handle.seek(SeekFrom::Start(unread.start)).ok()?;
    handle.read_to_end(&mut bytes).ok()?;
    let complete = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1);
    let mut read = FileRead {
        rows: Vec::new(),
        corrupt: 0,
        complete: complete as u64,
    };
    let (mut model, mut project) = (None::<String>, None::<String>);
    let mut session = match source {
        LogSource::Codex => codex_session_from_path(&unread.path),
        // The session is on the first line; read it when starting past it.
        LogSource::Gemini if unread.start > 0 => first_line_session(source, &unread.path),
        LogSource::Claude | LogSource::Gemini | LogSource::Qwen | LogSource::OpenCode => None,
    };
    let mut offset = unread.start;
    let mut line_start = 0;
    for end in memchr::memchr_iter(b'\n', &bytes[..complete]) {
        let raw = &bytes[line_start..=end];
        line_start = end + 1;
        // Only Codex keys its entries by where they are.
        let where_ = if source == LogSource::Codex {
            format!("{}:{offset}", unread.key)
        } else {
            String::new()
        };
        offset += raw.len() as u64;
        match parse_line(source, raw, &where_) {
            Line::Entry(entry) => {
                let model = entry.model.or_else(|| model.clone());
                let priced = table.price(
                    model.as_deref(),
                    &entry.tokens,
                    None,
                    &PriceOverrides::default(),
                );
                read.rows.push(UsageRow {
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
                    price_version: (priced.source == "table").then(|| table.version.clone()),
                    source_key: Some(entry.key),
                    instance: None,
                    session_id: entry.session.or_else(|| session.clone()),
                    project: entry.project.or_else(|| project.clone()),
                    launch: None,
                });
            }
            Line::Turn {
                model: m,
                project: p,
            } => {
                model = m.or(model);
                project = p.or(project);
            }
            Line::Session(s) => session = Some(s),
            Line::Corrupt => read.corrupt += 1,
            Line::Other => {}
        }
    }
    read.rows = last_of_each_key(read.rows);
    Some(read)
}

/// Reads the files on as many threads as the machine has cores and hands each file's
/// rows to `store`, in the files' order (a message copied into a later session's
/// file is counted under the first), on the calling thread: SQLite writes while the
/// next files are parsed.
fn read_in_parallel(
    source: LogSource,
    files: &[Unread],
    table: &PriceTable,
    mut store: impl FnMut(&Unread, FileRead) -> Result<(), Error>,
) -> Result<(), Error> {
    let workers = std::thread::available_parallelism().map_or(2, usize::from);
    let next = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|scope| {
        let (sender, receiver) =
            std::sync::mpsc::sync_channel::<(usize, Option<FileRead>)>(workers);
        for _ in 0..workers {
            let sender = sender.clone();
            let next = &next;
            scope.spawn(move || {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(unread) = files.get(i) else { break };
                    if sender.send((i, read_file(source, unread, table))).is_err() {
                        break; // the writer stopped on an error
                    }
                }
            });
        }
        drop(sender);
        let mut waiting = std::collections::BTreeMap::new();
        let mut want = 0;
        for (i, read) in receiver {
            waiting.insert(i, read);
            while let Some(read) = waiting.remove(&want) {
                if let Some(read) = read {
                    store(&files[want], read)?;
                }
                want += 1;
            }
        }
        Ok(())
    })
}

impl Engine {
    /// Imports `source`'s logs from `dir` (a file or a directory searched for
    /// `*.jsonl`). A missing `dir` is an error and nothing is written. A long import
    /// calls `progress` after each file and records a `usage_import_progress` event
    /// once a second.
    pub fn import_usage(
        &self,
        source: LogSource,
        dir: &Path,
        progress: &mut dyn FnMut(ImportProgress),
    ) -> Result<ImportReport, Error> {
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
        let pending = unread(&store, files)?;
        let mut added = crate::store::UsageAdded::default();
        if !pending.is_empty() {
            let ours = store.agent_sessions()?;
            store.cache_mib(64)?;
            let table = self.price_table();
            let mut now = ImportProgress {
                source,
                files_done: 0,
                files_total: pending.len(),
                bytes_read: 0,
            };
            let mut said = std::time::Instant::now();
            read_in_parallel(source, &pending, &table, |unread, read| {
                report.corrupt_lines += read.corrupt;
                keep_new(&mut store, read.rows, &ours, &mut report, &mut added)?;
                report.bytes_read += read.complete;
                store.set_import_offset(&unread.key, unread.start + read.complete, unread.size)?;
                now.files_done += 1;
                now.bytes_read = report.bytes_read;
                progress(now);
                if said.elapsed() >= PROGRESS_EVERY && now.files_done < now.files_total {
                    said = std::time::Instant::now();
                    self.record(&[Event::UsageImportProgress {
                        what: format!("{} logs", source.agent()),
                        files_done: now.files_done,
                        files_total: now.files_total,
                        bytes_read: now.bytes_read,
                    }])?;
                }
                Ok(())
            })?;
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
                project: message.entry.project,
                launch: None,
            });
        }
        let mut store = self.open_store()?;
        let ours = store.agent_sessions()?;
        let mut added = crate::store::UsageAdded::default();
        keep_new(
            &mut store,
            last_of_each_key(rows),
            &ours,
            &mut report,
            &mut added,
        )?;
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
    pub fn import_default_logs(
        &self,
        sources: &[LogSource],
        progress: &mut dyn FnMut(ImportProgress),
    ) -> Result<Vec<SourceReport>, Error> {
        let mut reports = Vec::new();
        for &source in sources {
            let Some(dir) = default_log_dir(source).filter(|d| d.exists()) else {
                continue;
            };
            let report = self.import_usage(source, &dir, progress)?;
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
