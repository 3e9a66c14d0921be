//! The `usage_events` table: the ledger, and its grouped summaries.

use serde::Serialize;

use super::{Store, StoreError};
use crate::agents::event::TokenCounts;

/// What an insert added to the ledger (rows already there are not counted).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UsageAdded {
    /// Rows written.
    pub rows: usize,
    /// Their agents.
    pub agents: std::collections::BTreeSet<String>,
    /// Their tokens.
    pub tokens: TokenCounts,
    /// Their cost, over the priced rows; `None` when none was priced.
    pub cost_usd: Option<f64>,
}

impl UsageAdded {
    /// Adds `other`'s rows, agents, tokens and cost to these.
    pub fn merge(&mut self, other: Self) {
        self.rows += other.rows;
        self.agents.extend(other.agents);
        self.tokens.add(&other.tokens);
        if let Some(cost) = other.cost_usd {
            *self.cost_usd.get_or_insert(0.0) += cost;
        }
    }
}

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
    /// For imported entries, a key that makes a second import of the same entry a
    /// no-op.
    pub source_key: Option<String>,
    /// The label of this copy of the agent in a task (`claude-2`), when it differs
    /// from the agent id.
    pub instance: Option<String>,
    /// The CLI's own session id, which its logs carry too.
    pub session_id: Option<String>,
    /// The working directory it ran in, when known (`--project` filters on it).
    pub project: Option<String>,
    /// The gateway launch it was metered in (the short id of its token).
    pub launch: Option<String>,
}

/// What the gateway metered for one run: tokens, cost (`None`: unpriced), model.
pub type RunMetered = (TokenCounts, Option<f64>, Option<String>);

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
    /// Only usage in this working directory: its full path, or its last component
    /// (`shop` matches `/work/shop`). Read from the events, not the rollup.
    pub project: Option<String>,
}

/// The SQL condition of [`UsageFilter::project`] on the parameter `p` (`?6`).
pub(crate) fn project_condition(p: &str) -> String {
    format!("(project = {p} OR substr(project, -length({p}) - 1) = '/' || {p})")
}

/// How to group a summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GroupBy {
    /// By agent.
    Agent,
    /// By preset.
    Preset,
    /// By model.
    Model,
    /// By calendar day in the user's time zone (hours of the rollup: a zone with a
    /// half-hour offset puts up to 30 minutes at a day's edge into the next).
    Day,
    /// By calendar week (keyed by its first day, `week_start`).
    Week,
    /// By calendar month (`YYYY-MM`).
    Month,
    /// By the CLI's own session (Claude's session id, Codex's thread, the ACP
    /// session); `-` for usage without one. Read from the events, not the rollup.
    Session,
    /// By where the counts came from: `gateway` (each request, from the provider's
    /// response), `agent` (what the agent reported), `log_import`.
    Source,
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

/// A ledger row as re-pricing reads it: id, model, preset, tokens, old cost.
type PricedRow = (
    i64,
    Option<String>,
    Option<String>,
    TokenCounts,
    Option<f64>,
);

fn int(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl Store {
    /// The sessions whose usage aiswitch recorded from the agent itself (so an import
    /// of the CLI's own logs skips them).
    pub fn agent_sessions(&self) -> Result<std::collections::HashSet<String>, StoreError> {
        let err = |source| StoreError::Sqlite {
            path: self.path.clone(),
            source,
        };
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT DISTINCT session_id FROM usage_events
                 WHERE session_id IS NOT NULL AND count_source != 'log_import'",
            )
            .map_err(err)?;
        let rows = stmt
            .query_map([], |row| row.get::<_, String>(0))
            .map_err(err)?;
        rows.collect::<Result<_, _>>().map_err(err)
    }

    /// Inserts rows and updates the hourly rollup, in one transaction. The rollup
    /// is aggregated per batch first: one upsert per (hour, agent, preset, model).
    pub fn insert_usage(&mut self, rows: &[UsageRow]) -> Result<UsageAdded, StoreError> {
        const HOUR: i64 = 3_600_000;
        type Key<'a> = (i64, &'a str, &'a str, &'a str, &'a str);
        let mut rollup: std::collections::HashMap<Key<'_>, (u64, TokenCounts, f64, u64)> =
            std::collections::HashMap::new();
        let path = self.path.clone();
        let err = |source| StoreError::Sqlite {
            path: path.clone(),
            source,
        };
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(err)?;
        let mut added = UsageAdded::default();
        {
            let mut stmt = tx
                .prepare_cached(
                    "INSERT OR IGNORE INTO usage_events (at_ms, agent, preset, provider, model, task_id, input, output,
                     cache_read, cache_write, reasoning, cost_usd, cost_source, count_source, price_version, source_key,
                     instance, session_id, project, launch)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)",
                )
                .map_err(err)?;
            for r in rows {
                let n = stmt
                    .execute(rusqlite::params![
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
                        r.source_key,
                        r.instance,
                        r.session_id,
                        r.project,
                        r.launch,
                    ])
                    .map_err(err)?;
                if n == 0 {
                    continue; // an entry imported before
                }
                added.rows += 1;
                let key = (
                    r.at_ms - r.at_ms.rem_euclid(HOUR),
                    r.agent.as_str(),
                    r.preset.as_deref().unwrap_or(""),
                    r.model.as_deref().unwrap_or(""),
                    r.count_source,
                );
                let entry = rollup.entry(key).or_default();
                entry.0 += 1;
                entry.1.input += r.tokens.input;
                entry.1.output += r.tokens.output;
                entry.1.cache_read += r.tokens.cache_read;
                entry.1.cache_write += r.tokens.cache_write;
                entry.1.reasoning += r.tokens.reasoning;
                entry.2 += r.cost_usd.unwrap_or(0.0);
                entry.3 += u64::from(r.cost_usd.is_none());
            }
            let mut upsert = tx
                .prepare_cached(
                    "INSERT INTO usage_hourly (hour_ms, agent, preset, model, runs, input, output, cache_read,
                       cache_write, reasoning, cost_usd, unpriced_runs, count_source)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
                     ON CONFLICT (hour_ms, agent, preset, model, count_source) DO UPDATE SET
                       runs = runs + excluded.runs, input = input + excluded.input, output = output + excluded.output,
                       cache_read = cache_read + excluded.cache_read, cache_write = cache_write + excluded.cache_write,
                       reasoning = reasoning + excluded.reasoning, cost_usd = cost_usd + excluded.cost_usd,
                       unpriced_runs = unpriced_runs + excluded.unpriced_runs",
                )
                .map_err(err)?;
            for ((hour, agent, preset, model, source), (runs, t, cost, unpriced)) in &rollup {
                upsert
                    .execute(rusqlite::params![
                        hour,
                        agent,
                        preset,
                        model,
                        int(*runs),
                        int(t.input),
                        int(t.output),
                        int(t.cache_read),
                        int(t.cache_write),
                        int(t.reasoning),
                        cost,
                        int(*unpriced),
                        source,
                    ])
                    .map_err(err)?;
            }
            let mut priced = 0;
            for ((_, agent, _, _, _), (runs, tokens, cost, unpriced)) in &rollup {
                added.agents.insert((*agent).to_owned());
                added.tokens.add(tokens);
                *added.cost_usd.get_or_insert(0.0) += cost;
                priced += runs - unpriced;
            }
            if priced == 0 {
                added.cost_usd = None;
            }
        }
        tx.commit().map_err(err)?;
        Ok(added)
    }

    /// What the gateway metered in one launch (an `agents check`'s requests), `None`
    /// when it metered nothing.
    pub fn gateway_usage_of_launch(&self, launch: &str) -> Result<Option<RunMetered>, StoreError> {
        self.gateway_sum("launch = ?1", rusqlite::params![launch])
    }

    /// What the gateway metered for one copy of an agent in a task, `None` when it
    /// metered nothing.
    pub fn gateway_usage_of_run(
        &self,
        task_id: &str,
        agent: &str,
        instance: Option<&str>,
    ) -> Result<Option<RunMetered>, StoreError> {
        self.gateway_sum(
            "task_id = ?1 AND agent = ?2 AND instance IS ?3",
            rusqlite::params![task_id, agent, instance],
        )
    }

    /// The gateway's rows matching `condition` summed: tokens, cost, last model.
    fn gateway_sum(
        &self,
        condition: &str,
        params: &[&dyn rusqlite::ToSql],
    ) -> Result<Option<RunMetered>, StoreError> {
        let sql = format!(
            "SELECT COUNT(*), SUM(input), SUM(output), SUM(cache_read), SUM(cache_write), SUM(reasoning),
                    SUM(cost_usd), MAX(model)
             FROM usage_events WHERE {condition} AND count_source = 'gateway'"
        );
        self.conn
            .query_row(&sql, params, |row| {
                let n = |i| {
                    row.get::<_, Option<i64>>(i)
                        .map(|v| v.unwrap_or(0).max(0) as u64)
                };
                Ok((row.get::<_, i64>(0)? > 0).then_some((
                    TokenCounts {
                        input: n(1)?,
                        output: n(2)?,
                        cache_read: n(3)?,
                        cache_write: n(4)?,
                        reasoning: n(5)?,
                    },
                    row.get(6)?,
                    row.get(7)?,
                )))
            })
            .map_err(|source| self.sqlite_err(source))
    }

    /// Re-prices every row since `since_ms` whose cost did not come from the agent,
    /// with `price` (model, preset, tokens → cost, source, version), then rebuilds the
    /// hourly rollup. Returns how many rows changed.
    pub fn reprice(
        &mut self,
        since_ms: Option<i64>,
        price: impl Fn(
            Option<&str>,
            Option<&str>,
            &TokenCounts,
        ) -> (Option<f64>, &'static str, Option<String>),
    ) -> Result<usize, StoreError> {
        let path = self.path.clone();
        let err = |source| StoreError::Sqlite {
            path: path.clone(),
            source,
        };
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(err)?;
        let mut changed = 0;
        {
            let mut select = tx
                .prepare(
                    "SELECT id, model, preset, input, output, cache_read, cache_write, reasoning, cost_usd FROM usage_events
                     WHERE cost_source != 'agent' AND at_ms >= ?1",
                )
                .map_err(err)?;
            let rows: Vec<PricedRow> = select
                .query_map([since_ms.unwrap_or(i64::MIN)], |r| {
                    let n = |i: usize| r.get::<_, i64>(i).map(|v| u64::try_from(v).unwrap_or(0));
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        TokenCounts {
                            input: n(3)?,
                            output: n(4)?,
                            cache_read: n(5)?,
                            cache_write: n(6)?,
                            reasoning: n(7)?,
                        },
                        r.get(8)?,
                    ))
                })
                .map_err(err)?
                .collect::<Result<_, _>>()
                .map_err(err)?;
            let mut update = tx
                .prepare("UPDATE usage_events SET cost_usd = ?2, cost_source = ?3, price_version = ?4 WHERE id = ?1")
                .map_err(err)?;
            for (id, model, preset, tokens, old) in rows {
                let (cost, source, version) = price(model.as_deref(), preset.as_deref(), &tokens);
                if cost != old {
                    changed += 1;
                }
                update
                    .execute(rusqlite::params![id, cost, source, version])
                    .map_err(err)?;
            }
        }
        tx.execute_batch(
            "DELETE FROM usage_hourly;
             INSERT INTO usage_hourly (hour_ms, agent, preset, model, runs, input, output, cache_read,
               cache_write, reasoning, cost_usd, unpriced_runs, count_source)
             SELECT at_ms - at_ms % 3600000, agent, coalesce(preset, ''), coalesce(model, ''), count(*), sum(input), sum(output),
                    sum(cache_read), sum(cache_write), sum(reasoning), coalesce(sum(cost_usd), 0), sum(cost_usd IS NULL),
                    count_source
             FROM usage_events GROUP BY 1, 2, 3, 4, count_source;",
        )
        .map_err(err)?;
        tx.commit().map_err(err)?;
        Ok(changed)
    }

    /// How far `path` was read: (offset, size at the time).
    pub fn import_offset(&self, path: &str) -> Result<Option<(u64, u64)>, StoreError> {
        use rusqlite::OptionalExtension;
        self.conn
            .query_row(
                "SELECT offset, size FROM import_offsets WHERE path = ?1",
                [path],
                |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)),
            )
            .optional()
            .map(|o| o.map(|(a, b)| (u64::try_from(a).unwrap_or(0), u64::try_from(b).unwrap_or(0))))
            .map_err(|e| self.sqlite_err(e))
    }

    /// Lets this connection keep up to `mib` MiB of the database's pages in memory
    /// (SQLite's default is 2 MiB): a bulk import touches every index of the ledger.
    pub fn cache_mib(&self, mib: u32) -> Result<(), StoreError> {
        self.conn
            .pragma_update(None, "cache_size", -i64::from(mib) * 1024)
            .map_err(|e| self.sqlite_err(e))
    }

    /// Remembers how far `path` was read.
    pub fn set_import_offset(
        &mut self,
        path: &str,
        offset: u64,
        size: u64,
    ) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT INTO import_offsets VALUES (?1, ?2, ?3) ON CONFLICT (path) DO UPDATE SET offset = excluded.offset, size = excluded.size",
                rusqlite::params![path, int(offset), int(size)],
            )
            .map(|_| ())
            .map_err(|e| self.sqlite_err(e))
    }

    /// Sums the ledger under `filter`, grouped by `by` (one group when `None`):
    /// whole hours from the hourly rollup, the partial hours at the edges from raw
    /// events. Only the filters given become conditions, so the indexes apply.
    pub fn usage_summary(
        &self,
        filter: &UsageFilter,
        by: Option<GroupBy>,
    ) -> Result<Vec<UsageGroup>, StoreError> {
        self.summary(filter, by, false)
    }

    /// [`Store::usage_summary`] with each group split by model: (group, its models).
    pub fn usage_breakdown(
        &self,
        filter: &UsageFilter,
        by: Option<GroupBy>,
    ) -> Result<Vec<(String, Vec<UsageGroup>)>, StoreError> {
        let mut out: Vec<(String, Vec<UsageGroup>)> = Vec::new();
        for mut group in self.summary(filter, by, true)? {
            let (key, model) = group.key.split_once('\u{1f}').unwrap_or((&group.key, "-"));
            let (key, model) = (key.to_owned(), model.to_owned());
            group.key = model;
            match out.last_mut() {
                Some((last, models)) if *last == key => models.push(group),
                _ => out.push((key, vec![group])),
            }
        }
        Ok(out)
    }

    /// The usage events under `filter`, oldest first: when, tokens, cost (`None`:
    /// unpriced). For reports that need each event's time (5-hour blocks).
    pub fn usage_points(
        &self,
        filter: &UsageFilter,
    ) -> Result<Vec<(i64, u64, Option<f64>)>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT at_ms, input + output + cache_read + cache_write, cost_usd FROM usage_events
                 WHERE at_ms >= ?1 AND at_ms < ?2 AND (?3 IS NULL OR agent = ?3)
                   AND (?4 IS NULL OR preset = ?4) AND (?5 IS NULL OR model = ?5)
                   AND (?6 IS NULL OR {})
                 ORDER BY at_ms",
                project_condition("?6")
            ))
            .map_err(|e| self.sqlite_err(e))?;
        let rows = stmt
            .query_map(
                (
                    filter.since_ms.unwrap_or(i64::MIN),
                    filter.until_ms.unwrap_or(i64::MAX),
                    &filter.agent,
                    &filter.preset,
                    &filter.model,
                    &filter.project,
                ),
                |row| {
                    Ok((
                        row.get(0)?,
                        u64::try_from(row.get::<_, i64>(1)?).unwrap_or(0),
                        row.get(2)?,
                    ))
                },
            )
            .map_err(|e| self.sqlite_err(e))?;
        rows.collect::<Result<_, _>>()
            .map_err(|e| self.sqlite_err(e))
    }

    fn summary(
        &self,
        filter: &UsageFilter,
        by: Option<GroupBy>,
        by_model: bool,
    ) -> Result<Vec<UsageGroup>, StoreError> {
        const HOUR: i64 = 3_600_000;
        let until = filter.until_ms.unwrap_or(i64::MAX);
        // Whole hours: [first_hour, last_hour).
        let first_hour = filter
            .since_ms
            .map(|s| s + (HOUR - s.rem_euclid(HOUR)) % HOUR);
        let last_hour = if until == i64::MAX {
            i64::MAX
        } else {
            until - until.rem_euclid(HOUR)
        };
        let key = |raw: bool| group_key(by, raw, by_model);
        let mut params: Vec<rusqlite::types::Value> = Vec::new();
        let mut bind = |v: rusqlite::types::Value| {
            params.push(v);
            format!("?{}", params.len())
        };
        let text = |v: &Option<String>| v.clone().map(rusqlite::types::Value::Text);
        let mut dims = Vec::new();
        if let Some(a) = text(&filter.agent) {
            dims.push(format!("agent = {}", bind(a)));
        }
        let (preset_raw, model_raw) = (text(&filter.preset), text(&filter.model));
        let mut raw_dims = dims.clone();
        if let Some(p) = preset_raw {
            let b = bind(p);
            dims.push(format!("preset = {b}"));
            raw_dims.push(format!("preset = {b}"));
        }
        if let Some(m) = model_raw {
            let b = bind(m);
            dims.push(format!("model = {b}"));
            raw_dims.push(format!("model = {b}"));
        }
        if let Some(p) = text(&filter.project) {
            raw_dims.push(project_condition(&bind(p)));
        }
        let mut parts = Vec::new();
        if by == Some(GroupBy::Session) || filter.project.is_some() {
            // The rollup has no sessions or projects: every event in range is read.
            let mut raw = raw_dims.clone();
            if let Some(since) = filter.since_ms {
                raw.push(format!("at_ms >= {}", bind(since.into())));
            }
            if until != i64::MAX {
                raw.push(format!("at_ms < {}", bind(until.into())));
            }
            parts.push(format!(
                "SELECT {} AS k, 1 AS runs, input, output, cache_read, cache_write, reasoning, coalesce(cost_usd, 0) AS cost_usd, cost_usd IS NULL AS unpriced_runs FROM usage_events{}",
                key(true),
                where_clause(&raw)
            ));
        } else {
            // Rollup: whole hours in range.
            let mut hourly = dims.clone();
            if let Some(h) = first_hour {
                hourly.push(format!("hour_ms >= {}", bind(h.into())));
            }
            if last_hour != i64::MAX {
                hourly.push(format!("hour_ms < {}", bind(last_hour.into())));
            }
            parts.push(format!(
                "SELECT {} AS k, runs, input, output, cache_read, cache_write, reasoning, cost_usd, unpriced_runs FROM usage_hourly{}",
                key(false),
                where_clause(&hourly)
            ));
            // Raw events in the partial hours at either edge.
            let mut edges = Vec::new();
            if let (Some(since), Some(h)) = (filter.since_ms, first_hour)
                && since < h
            {
                edges.push((since, h.min(until)));
            }
            if last_hour != i64::MAX
                && last_hour < until
                && first_hour.is_none_or(|h| last_hour >= h)
            {
                edges.push((last_hour, until));
            }
            for (from, to) in edges {
                let mut raw = raw_dims.clone();
                raw.push(format!("at_ms >= {}", bind(from.into())));
                raw.push(format!("at_ms < {}", bind(to.into())));
                parts.push(format!(
                    "SELECT {} AS k, 1, input, output, cache_read, cache_write, reasoning, coalesce(cost_usd, 0), cost_usd IS NULL FROM usage_events{}",
                    key(true),
                    where_clause(&raw)
                ));
            }
        }
        let sql = format!(
            "SELECT k, sum(runs), sum(input), sum(output), sum(cache_read), sum(cache_write), sum(reasoning), sum(cost_usd), sum(unpriced_runs)
             FROM ({}) GROUP BY k ORDER BY k",
            parts.join(" UNION ALL ")
        );
        self.read_groups(&sql, &params)
    }

    /// Runs a summary query (`k`, then the sums) and keeps the groups with runs.
    fn read_groups(
        &self,
        sql: &str,
        params: &[rusqlite::types::Value],
    ) -> Result<Vec<UsageGroup>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(sql)
            .map_err(|e| self.sqlite_err(e))?;
        let rows = stmt
            .query_map(rusqlite::params_from_iter(params.iter()), |row| {
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
                    cost_usd: row.get::<_, Option<f64>>(7)?.unwrap_or(0.0),
                    unpriced_runs: n(8)?,
                })
            })
            .map_err(|e| self.sqlite_err(e))?;
        let groups: Vec<UsageGroup> = rows
            .collect::<Result<_, _>>()
            .map_err(|e| self.sqlite_err(e))?;
        Ok(groups.into_iter().filter(|g| g.runs > 0).collect())
    }
}

/// The SQL expression a summary groups on: over raw events (`raw`) or the hourly
/// rollup; with `by_model`, `key <US> model` (split again by `usage_breakdown`).
fn group_key(by: Option<GroupBy>, raw: bool, by_model: bool) -> String {
    let model = if raw {
        "coalesce(model, '-')"
    } else {
        "CASE model WHEN '' THEN '-' ELSE model END"
    };
    let at = if raw { "at_ms" } else { "hour_ms" };
    let key = match by {
        None => "'all'".to_owned(),
        Some(GroupBy::Agent) => "agent".to_owned(),
        Some(GroupBy::Preset) if raw => "coalesce(preset, '-')".to_owned(),
        Some(GroupBy::Preset) => "CASE preset WHEN '' THEN '-' ELSE preset END".to_owned(),
        Some(GroupBy::Model) => model.to_owned(),
        Some(GroupBy::Day) => format!("local_day({at})"),
        Some(GroupBy::Week) => format!("local_week({at})"),
        Some(GroupBy::Month) => format!("local_month({at})"),
        Some(GroupBy::Session) => "coalesce(session_id, '-')".to_owned(),
        Some(GroupBy::Source) => "count_source".to_owned(),
    };
    if by_model {
        format!("{key} || char(31) || {model}")
    } else {
        key
    }
}

fn where_clause(conditions: &[String]) -> String {
    if conditions.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conditions.join(" AND "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(at_ms: i64, agent: &str, input: u64, cost: Option<f64>) -> UsageRow {
        UsageRow {
            at_ms,
            agent: agent.into(),
            preset: input.is_multiple_of(2).then(|| "even".to_owned()),
            provider: None,
            model: Some("m".into()),
            task_id: None,
            tokens: TokenCounts {
                input,
                output: 1,
                ..TokenCounts::default()
            },
            cost_usd: cost,
            cost_source: if cost.is_some() { "table" } else { "unpriced" },
            count_source: "agent",
            price_version: None,
            source_key: None,
            instance: None,
            session_id: None,
            project: None,
            launch: None,
        }
    }

    #[test]
    fn rollup_and_edges_equal_a_brute_force_sum() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let mut store =
            Store::open(&tmp.path().join("u.db"), std::time::Duration::from_secs(1)).expect("open");
        const HOUR: i64 = 3_600_000;
        let base = 1_795_000_000_000 - 1_795_000_000_000 % HOUR;
        let rows: Vec<UsageRow> = (0..500)
            .map(|i: i64| {
                row(
                    base + i * 997_331 % (20 * HOUR),
                    if i % 3 == 0 { "a" } else { "b" },
                    u64::try_from(i).expect("n"),
                    (i % 5 != 0).then_some(0.5),
                )
            })
            .collect();
        store.insert_usage(&rows).expect("insert");
        let windows = [
            (None, None),
            (Some(base + 1), None),
            (Some(base + HOUR / 2), Some(base + 7 * HOUR + 123)),
            (Some(base + 3 * HOUR), Some(base + 3 * HOUR + 10)),
            (None, Some(base + 5 * HOUR - 1)),
            (Some(base + 2 * HOUR + 5), Some(base + 2 * HOUR + HOUR / 2)),
        ];
        for (since, until) in windows {
            for agent in [None, Some("a".to_owned())] {
                let filter = UsageFilter {
                    agent: agent.clone(),
                    since_ms: since,
                    until_ms: until,
                    ..UsageFilter::default()
                };
                let got = store.usage_summary(&filter, None).expect("summary");
                let inside: Vec<&UsageRow> = rows
                    .iter()
                    .filter(|r| {
                        since.is_none_or(|s| r.at_ms >= s) && until.is_none_or(|u| r.at_ms < u)
                    })
                    .filter(|r| agent.as_deref().is_none_or(|a| r.agent == a))
                    .collect();
                let runs = got.first().map_or(0, |g| g.runs);
                assert_eq!(runs, inside.len() as u64, "{since:?}..{until:?} {agent:?}");
                let input: u64 = inside.iter().map(|r| r.tokens.input).sum();
                assert_eq!(got.first().map_or(0, |g| g.tokens.input), input);
                let unpriced = inside.iter().filter(|r| r.cost_usd.is_none()).count() as u64;
                assert_eq!(got.first().map_or(0, |g| g.unpriced_runs), unpriced);
            }
        }
        let by_preset = store
            .usage_summary(&UsageFilter::default(), Some(GroupBy::Preset))
            .expect("grouped");
        let keys: Vec<&str> = by_preset.iter().map(|g| g.key.as_str()).collect();
        assert_eq!(keys, ["-", "even"]);
    }
}
