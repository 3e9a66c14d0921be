//! The `tasks`, `runs` and `run_events` tables.

use serde::Serialize;

use super::events::now_ms;
use super::{Store, StoreError};
use crate::coordinator::{TaskResult, TaskSpec};

/// Which tasks a listing wants, newest first.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskQuery {
    /// Only tasks in this state.
    #[serde(default)]
    pub status: Option<TaskState>,
    /// Only tasks whose prompt contains this text (any case), or with this id.
    #[serde(default)]
    pub search: Option<String>,
    /// Only tasks this agent took part in.
    #[serde(default)]
    pub agent: Option<String>,
    /// Page size.
    #[serde(default = "TaskQuery::default_limit")]
    pub limit: usize,
    /// Tasks skipped before the page.
    #[serde(default)]
    pub offset: usize,
}

/// The `WHERE` clause of [`TaskQuery`] (?1 status, ?2 search, ?3 agent).
const TASK_FILTER: &str = "(?1 IS NULL OR status = ?1)
    AND (?2 IS NULL OR id = ?2 OR instr(lower(prompt), lower(?2)) > 0)
    AND (?3 IS NULL OR instr(',' || agents || ',', ',' || ?3 || ',') > 0)";

impl TaskQuery {
    fn default_limit() -> usize {
        20
    }

    /// The newest `limit` tasks, optionally in one state.
    pub fn recent(status: Option<TaskState>, limit: usize) -> Self {
        Self {
            status,
            search: None,
            agent: None,
            limit,
            offset: 0,
        }
    }

    fn bind(&self) -> (Option<&'static str>, Option<&str>, Option<&str>) {
        fn text(s: &Option<String>) -> Option<&str> {
            s.as_deref().filter(|s| !s.is_empty())
        }
        (
            self.status.map(TaskState::as_str),
            text(&self.search),
            text(&self.agent),
        )
    }
}

/// A task as `tasks list` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct TaskRow {
    /// The id.
    pub id: String,
    /// The prompt.
    pub prompt: String,
    /// Where it stands.
    pub status: TaskState,
    /// Coordination mode.
    pub coordination: String,
    /// Parallel or sequential.
    pub order: String,
    /// Agents, comma-separated.
    pub agents: String,
    /// Start, ms since the epoch.
    pub started_ms: i64,
    /// End, ms since the epoch.
    pub ended_ms: Option<i64>,
    /// The aggregated result, once finished.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<serde_json::Value>,
}

/// Where a task stands, as the task list shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum TaskState {
    /// An aiswitch process runs it.
    Running,
    /// It ended and succeeded under its mode.
    Succeeded,
    /// It ended and failed.
    Failed,
    /// The user cancelled it.
    Cancelled,
    /// The process running it died before it ended.
    Interrupted,
}

impl TaskState {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
            Self::Interrupted => "interrupted",
        }
    }

    fn parse(name: &str) -> Self {
        match name {
            "running" => Self::Running,
            "succeeded" => Self::Succeeded,
            "interrupted" => Self::Interrupted,
            "cancelled" => Self::Cancelled,
            _ => Self::Failed,
        }
    }
}

fn name<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

impl Store {
    /// Records a task as running in this process.
    pub fn task_started(&mut self, spec: &TaskSpec) -> Result<(), StoreError> {
        let agents: Vec<&str> = spec.agents.iter().map(|a| a.launch.name.as_str()).collect();
        let sql = "INSERT INTO tasks (id, prompt, agents, order_mode, chain, coordination, workdir, status, pid, started_ms)
                   VALUES (?1, ?2, ?9, ?3, ?4, ?5, ?6, 'running', ?7, ?8)";
        self.conn
            .execute(
                sql,
                (
                    &spec.id,
                    &spec.prompt,
                    name(&spec.order),
                    spec.chain,
                    name(&spec.coordination),
                    spec.workdir.display().to_string(),
                    std::process::id(),
                    now_ms(),
                    agents.join(","),
                ),
            )
            .map_err(|e| self.sqlite_err(e))?;
        Ok(())
    }

    /// Records a finished task: its result, its runs and their transcripts, in one
    /// transaction.
    pub fn task_finished(&mut self, result: &TaskResult) -> Result<(), StoreError> {
        let path = self.path.clone();
        let err = |source| StoreError::Sqlite {
            path: path.clone(),
            source,
        };
        let json = serde_json::to_string(result).unwrap_or_default();
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(err)?;
        tx.execute(
            "UPDATE tasks SET status = ?2, ended_ms = ?3, result = ?4 WHERE id = ?1",
            (&result.id, result.status.as_str(), now_ms(), json),
        )
        .map_err(err)?;
        {
            let mut run = tx
                .prepare_cached(
                    "INSERT OR REPLACE INTO runs (task_id, agent, preset, status, stop_reason, duration_ms,
                     input_tokens, output_tokens, cache_read, cache_write, cost_usd)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                )
                .map_err(err)?;
            let mut event = tx
                .prepare_cached(
                    "INSERT INTO run_events (task_id, agent, seq, event) VALUES (?1, ?2, ?3, ?4)",
                )
                .map_err(err)?;
            let int = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
            for r in &result.runs {
                run.execute((
                    &result.id,
                    &r.agent,
                    &r.preset,
                    r.status.as_str(),
                    &r.stop_reason,
                    int(r.duration_ms),
                    int(r.tokens.input),
                    int(r.tokens.output),
                    int(r.tokens.cache_read),
                    int(r.tokens.cache_write),
                    r.cost_usd,
                ))
                .map_err(err)?;
                for (seq, e) in r.transcript.iter().enumerate() {
                    let text = serde_json::to_string(e).unwrap_or_default();
                    event
                        .execute((
                            &result.id,
                            &r.agent,
                            i64::try_from(seq).unwrap_or(i64::MAX),
                            text,
                        ))
                        .map_err(err)?;
                }
            }
        }
        tx.commit().map_err(err)
    }

    /// Marks `running` tasks whose process is gone as `interrupted`.
    pub fn mark_interrupted(&mut self) -> Result<usize, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, pid FROM tasks WHERE status = 'running'")
            .map_err(|e| self.sqlite_err(e))?;
        let rows: Vec<(String, i64)> = stmt
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
            .and_then(Iterator::collect)
            .map_err(|e| self.sqlite_err(e))?;
        drop(stmt);
        let dead: Vec<String> = rows
            .into_iter()
            .filter(|(_, pid)| !std::path::Path::new(&format!("/proc/{pid}")).exists() || *pid == 0)
            .map(|(id, _)| id)
            .collect();
        for id in &dead {
            self.conn
                .execute(
                    "UPDATE tasks SET status = 'interrupted', ended_ms = ?2 WHERE id = ?1",
                    (id, now_ms()),
                )
                .map_err(|e| self.sqlite_err(e))?;
        }
        Ok(dead.len())
    }

    /// Recent tasks, newest first, optionally of one status.
    pub fn tasks(&self, query: &TaskQuery) -> Result<Vec<TaskRow>, StoreError> {
        let (status, search, agent) = query.bind();
        let page = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
        self.task_rows(
            &format!("WHERE {TASK_FILTER} ORDER BY started_ms DESC LIMIT ?4 OFFSET ?5"),
            (status, search, agent, page(query.limit), page(query.offset)),
            false,
        )
    }

    /// How many tasks `query` matches, whatever its page.
    pub fn count_tasks(&self, query: &TaskQuery) -> Result<u64, StoreError> {
        let (status, search, agent) = query.bind();
        self.conn
            .query_row(
                &format!("SELECT count(*) FROM tasks WHERE {TASK_FILTER}"),
                (status, search, agent),
                |row| row.get::<_, i64>(0),
            )
            .map(|n| u64::try_from(n).unwrap_or_default())
            .map_err(|e| self.sqlite_err(e))
    }

    /// One task with its result.
    pub fn task(&self, id: &str) -> Result<Option<TaskRow>, StoreError> {
        Ok(self
            .task_rows("WHERE id = ?1", [id], true)?
            .into_iter()
            .next())
    }

    /// Per agent over its last 50 runs: (runs, succeeded, mean duration in ms).
    pub fn agent_track_record(&self, agent: &str) -> Result<(u64, u64, f64), StoreError> {
        self.conn
            .query_row(
                "SELECT count(*), coalesce(sum(status = 'succeeded'), 0), coalesce(avg(duration_ms), 0.0)
                 FROM (SELECT r.status, r.duration_ms FROM runs r JOIN tasks t ON t.id = r.task_id
                       WHERE r.agent = ?1 ORDER BY t.started_ms DESC LIMIT 50)",
                [agent],
                |row| Ok((row.get::<_, i64>(0)?, row.get::<_, i64>(1)?, row.get::<_, f64>(2)?)),
            )
            .map(|(n, ok, ms)| (u64::try_from(n).unwrap_or(0), u64::try_from(ok).unwrap_or(0), ms))
            .map_err(|e| self.sqlite_err(e))
    }

    /// The pid recorded for a task.
    pub fn task_pid(&self, id: &str) -> Result<Option<u32>, StoreError> {
        use rusqlite::OptionalExtension;
        self.conn
            .query_row("SELECT pid FROM tasks WHERE id = ?1", [id], |row| {
                row.get::<_, i64>(0)
            })
            .optional()
            .map(|pid| pid.and_then(|p| u32::try_from(p).ok()))
            .map_err(|e| self.sqlite_err(e))
    }

    /// The transcript of one run.
    pub fn transcript(
        &self,
        task: &str,
        agent: &str,
    ) -> Result<Vec<serde_json::Value>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT event FROM run_events WHERE task_id = ?1 AND agent = ?2 ORDER BY seq",
            )
            .map_err(|e| self.sqlite_err(e))?;
        stmt.query_map((task, agent), |row| row.get::<_, String>(0))
            .and_then(|rows| {
                rows.map(|r| r.map(|t| serde_json::from_str(&t).unwrap_or_default()))
                    .collect()
            })
            .map_err(|e| self.sqlite_err(e))
    }

    fn task_rows(
        &self,
        filter: &str,
        params: impl rusqlite::Params,
        with_result: bool,
    ) -> Result<Vec<TaskRow>, StoreError> {
        let sql = format!(
            "SELECT id, prompt, status, coordination, order_mode, started_ms, ended_ms, result, agents FROM tasks {filter}"
        );
        let mut stmt = self.conn.prepare(&sql).map_err(|e| self.sqlite_err(e))?;
        stmt.query_map(params, |row| {
            let result: Option<String> = row.get(7)?;
            Ok(TaskRow {
                id: row.get(0)?,
                prompt: row.get(1)?,
                status: TaskState::parse(&row.get::<_, String>(2)?),
                coordination: row.get(3)?,
                order: row.get(4)?,
                agents: row.get(8)?,
                started_ms: row.get(5)?,
                ended_ms: row.get(6)?,
                result: if with_result {
                    result.and_then(|r| serde_json::from_str(&r).ok())
                } else {
                    None
                },
            })
        })
        .and_then(Iterator::collect)
        .map_err(|e| self.sqlite_err(e))
    }
}
