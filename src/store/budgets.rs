//! Budgets, reservations, threshold firing and alerts in the store.

use rusqlite::OptionalExtension;
use serde::Serialize;

use super::{Store, StoreError, UsageFilter, UsageGroup};
use crate::alerts::AlertKind;
use crate::budget::{Budget, BudgetError, Limit, Period, Scope};

/// An alert as `alerts list` shows it.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct AlertRow {
    /// Its id.
    pub id: i64,
    /// When, ms since the epoch.
    pub at_ms: i64,
    /// What kind.
    pub kind: AlertKind,
    /// What it is about.
    pub subject: String,
    /// One line for the user.
    pub message: String,
    /// Acknowledged.
    pub acked: bool,
}

/// Spending against one budget in its current period.
#[derive(Debug, Clone, Serialize)]
pub struct BudgetStatus {
    /// The budget.
    #[serde(flatten)]
    pub budget: Budget,
    /// Spent this period: USD, or tokens for a token budget.
    pub spent: f64,
    /// Percent of the limit.
    pub percent: f64,
    /// Runs in the period with no price: their cost is not in `spent`.
    pub unpriced_runs: u64,
    /// Tokens in the period (all runs).
    pub tokens: u64,
    /// When the period ends, ms since the epoch.
    pub period_end_ms: i64,
}

fn filter(scope: &Scope, since: i64) -> UsageFilter {
    let mut f = UsageFilter {
        since_ms: Some(since),
        ..UsageFilter::default()
    };
    match scope {
        Scope::Global => {}
        Scope::Agent(a) => f.agent = Some(a.clone()),
        Scope::Preset(p) => f.preset = Some(p.clone()),
    }
    f
}

fn limit_value(limit: Limit) -> f64 {
    match limit {
        Limit::Usd(v) => v,
        Limit::Tokens(t) => t as f64,
    }
}

fn pid_alive(pid: i64) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
}

impl Store {
    /// Adds `budget` (its id is ignored); returns the new id.
    pub fn add_budget(&mut self, budget: &Budget) -> Result<i64, StoreError> {
        let (usd, tokens) = limit_columns(budget.limit);
        self.conn
            .execute(
                "INSERT INTO budgets (scope, period, limit_usd, limit_tokens, thresholds, hard_stop, created_ms, refuse_unpriced) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                rusqlite::params![budget.scope.to_string(), budget.period.as_str(), usd, tokens, serde_json::to_string(&budget.thresholds).unwrap_or_default(), budget.hard_stop, super::now_ms(), budget.refuse_unpriced],
            )
            .map_err(|e| self.sqlite_err(e))?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Replaces the settings of budget `budget.id`; false when there is none.
    pub fn update_budget(&mut self, budget: &Budget) -> Result<bool, StoreError> {
        let (usd, tokens) = limit_columns(budget.limit);
        let changed = self
            .conn
            .execute(
                "UPDATE budgets SET scope = ?2, period = ?3, limit_usd = ?4, limit_tokens = ?5, thresholds = ?6, hard_stop = ?7, refuse_unpriced = ?8 WHERE id = ?1",
                rusqlite::params![budget.id, budget.scope.to_string(), budget.period.as_str(), usd, tokens, serde_json::to_string(&budget.thresholds).unwrap_or_default(), budget.hard_stop, budget.refuse_unpriced],
            )
            .map_err(|e| self.sqlite_err(e))?;
        Ok(changed > 0)
    }

    /// True when some budget has a hard stop (one indexed read: asked before every
    /// request the gateway forwards).
    pub fn any_hard_stop(&self) -> Result<bool, StoreError> {
        self.conn
            .prepare_cached("SELECT EXISTS (SELECT 1 FROM budgets WHERE hard_stop = 1)")
            .and_then(|mut stmt| stmt.query_row([], |row| row.get(0)))
            .map_err(|e| self.sqlite_err(e))
    }

    /// Every budget.
    pub fn budgets(&self) -> Result<Vec<Budget>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id, scope, period, limit_usd, limit_tokens, thresholds, hard_stop, refuse_unpriced FROM budgets ORDER BY id")
            .map_err(|e| self.sqlite_err(e))?;
        let rows = stmt
            .query_map([], |row| {
                let scope: String = row.get(1)?;
                let period: String = row.get(2)?;
                let usd: Option<f64> = row.get(3)?;
                let tokens: Option<i64> = row.get(4)?;
                let thresholds: String = row.get(5)?;
                Ok(Budget {
                    id: row.get(0)?,
                    scope: scope.parse().unwrap_or(Scope::Global),
                    period: period.parse().unwrap_or(Period::Month),
                    limit: match (usd, tokens) {
                        (Some(v), _) => Limit::Usd(v),
                        (None, t) => Limit::Tokens(u64::try_from(t.unwrap_or(0)).unwrap_or(0)),
                    },
                    thresholds: serde_json::from_str(&thresholds).unwrap_or_default(),
                    hard_stop: row.get(6)?,
                    refuse_unpriced: row.get(7)?,
                })
            })
            .map_err(|e| self.sqlite_err(e))?;
        rows.collect::<Result<_, _>>()
            .map_err(|e| self.sqlite_err(e))
    }

    /// Removes a budget; false when there was none.
    pub fn remove_budget(&mut self, id: i64) -> Result<bool, StoreError> {
        let n = self
            .conn
            .execute("DELETE FROM budgets WHERE id = ?1", [id])
            .map_err(|e| self.sqlite_err(e))?;
        Ok(n > 0)
    }

    /// Spent against `budget` in the period containing `now`: USD or tokens.
    pub fn spent(&self, budget: &Budget, now: i64) -> Result<f64, StoreError> {
        let total = self.period_usage(budget, now)?;
        Ok(match (budget.limit, total) {
            (_, None) => 0.0,
            (Limit::Usd(_), Some(g)) => g.cost_usd,
            (Limit::Tokens(_), Some(g)) => {
                (g.tokens.input + g.tokens.output + g.tokens.cache_read + g.tokens.cache_write)
                    as f64
            }
        })
    }

    /// The usage a budget covers in its current period.
    fn period_usage(&self, budget: &Budget, now: i64) -> Result<Option<UsageGroup>, StoreError> {
        let (start, _) = budget.period.bounds(now, &self.calendar);
        Ok(self
            .usage_summary(&filter(&budget.scope, start), None)?
            .into_iter()
            .next())
    }

    /// Budget statuses for `budget list`.
    pub fn budget_statuses(&self, now: i64) -> Result<Vec<BudgetStatus>, StoreError> {
        self.budgets()?
            .into_iter()
            .map(|budget| {
                let spent = self.spent(&budget, now)?;
                let usage = self.period_usage(&budget, now)?;
                let percent = 100.0 * spent / limit_value(budget.limit);
                let period_end_ms = budget.period.bounds(now, &self.calendar).1;
                Ok(BudgetStatus {
                    budget,
                    spent,
                    percent,
                    unpriced_runs: usage.as_ref().map_or(0, |u| u.unpriced_runs),
                    tokens: usage.as_ref().map_or(0, |u| {
                        u.tokens.input
                            + u.tokens.output
                            + u.tokens.cache_read
                            + u.tokens.cache_write
                    }),
                    period_end_ms,
                })
            })
            .collect()
    }

    /// True when one of the agent's last 20 runs under `preset` was priced (the agent
    /// reports its cost, or its model has a price).
    pub fn priced_history(&self, agent: &str, preset: Option<&str>) -> Result<bool, StoreError> {
        self.conn
            .query_row(
                "SELECT count(cost_usd) FROM (SELECT cost_usd FROM usage_events WHERE agent = ?1 AND preset IS ?2 ORDER BY id DESC LIMIT 20)",
                rusqlite::params![agent, preset],
                |row| row.get::<_, i64>(0),
            )
            .map(|n| n > 0)
            .map_err(|e| self.sqlite_err(e))
    }

    /// Mean USD and tokens of the agent's recent runs under `preset`, if it has any.
    pub fn run_estimate(
        &self,
        agent: &str,
        preset: Option<&str>,
    ) -> Result<Option<(f64, f64)>, StoreError> {
        self.conn
            .query_row(
                "SELECT avg(coalesce(cost_usd, 0)), avg(input + output + cache_read + cache_write), count(*)
                 FROM (SELECT * FROM usage_events WHERE agent = ?1 AND preset IS ?2 ORDER BY id DESC LIMIT 20)",
                rusqlite::params![agent, preset],
                |row| Ok((row.get::<_, Option<f64>>(0)?, row.get::<_, Option<f64>>(1)?, row.get::<_, i64>(2)?)),
            )
            .map(|(usd, tokens, n)| (n > 0).then(|| (usd.unwrap_or(0.0), tokens.unwrap_or(0.0))))
            .map_err(|e| self.sqlite_err(e))
    }

    /// Reserves `estimate` for a run of `agent` with `preset` under every hard-stop
    /// budget covering it, or refuses when one would go over. The check and the
    /// reservation happen in one `BEGIN IMMEDIATE` transaction, so concurrent
    /// processes are serialized: at most one reservation can overshoot.
    pub fn reserve(
        &mut self,
        agent: &str,
        preset: Option<&str>,
        task_id: Option<&str>,
        estimate: impl Fn(&Budget) -> f64,
        unpriced: Option<&str>,
        now: i64,
    ) -> Result<Result<Option<i64>, BudgetError>, StoreError> {
        let err = |s: &Self, e| s.sqlite_err(e);
        self.conn
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(|e| err(self, e))?;
        let result = (|| {
            let dead: Vec<i64> = {
                let mut stmt = self
                    .conn
                    .prepare("SELECT id, pid FROM reservations")
                    .map_err(|e| err(self, e))?;
                let rows = stmt
                    .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))
                    .map_err(|e| err(self, e))?;
                rows.filter_map(Result::ok)
                    .filter(|(_, pid)| !pid_alive(*pid))
                    .map(|(id, _)| id)
                    .collect()
            };
            for id in dead {
                self.conn
                    .execute("DELETE FROM reservations WHERE id = ?1", [id])
                    .map_err(|e| err(self, e))?;
            }
            let budgets: Vec<Budget> = self
                .budgets()?
                .into_iter()
                .filter(|b| b.hard_stop && b.scope.covers(agent, preset))
                .collect();
            if budgets.is_empty() {
                return Ok(Ok(None));
            }
            let mut usd = 0.0f64;
            let mut tokens = 0.0f64;
            for budget in &budgets {
                if let (Limit::Usd(_), Some(what), true) =
                    (budget.limit, unpriced, budget.refuse_unpriced)
                {
                    return Ok(Err(BudgetError::Unpriced {
                        id: budget.id,
                        scope: budget.scope.to_string(),
                        period: budget.period.as_str(),
                        what: what.to_owned(),
                    }));
                }
                let spent = self.spent(budget, now)?;
                let (held_usd, held_tokens) = self.held(budget)?;
                let held = match budget.limit {
                    Limit::Usd(_) => held_usd,
                    Limit::Tokens(_) => held_tokens,
                };
                let want = estimate(budget);
                let limit = limit_value(budget.limit);
                if spent + held + want > limit {
                    let show = |v: f64| match budget.limit {
                        Limit::Usd(_) => format!("${v:.4}"),
                        Limit::Tokens(_) => format!("{v:.0} tokens"),
                    };
                    return Ok(Err(BudgetError::Exceeded {
                        id: budget.id,
                        scope: budget.scope.to_string(),
                        period: budget.period.as_str(),
                        spent: show(spent + held),
                        limit: show(limit),
                    }));
                }
                match budget.limit {
                    Limit::Usd(_) => usd = usd.max(want),
                    Limit::Tokens(_) => tokens = tokens.max(want),
                }
            }
            self.conn
                .execute(
                    "INSERT INTO reservations (pid, task_id, agent, preset, usd, tokens, created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    rusqlite::params![std::process::id(), task_id, agent, preset, usd, tokens as i64, now],
                )
                .map_err(|e| err(self, e))?;
            Ok(Ok(Some(self.conn.last_insert_rowid())))
        })();
        let end = if matches!(result, Ok(Ok(_))) {
            "COMMIT"
        } else {
            "ROLLBACK"
        };
        self.conn.execute_batch(end).map_err(|e| err(self, e))?;
        result
    }

    /// USD and tokens held by live reservations that count against `budget`.
    fn held(&self, budget: &Budget) -> Result<(f64, f64), StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT agent, preset, usd, tokens FROM reservations")
            .map_err(|e| self.sqlite_err(e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, Option<String>>(1)?,
                    r.get::<_, f64>(2)?,
                    r.get::<_, i64>(3)?,
                ))
            })
            .map_err(|e| self.sqlite_err(e))?;
        let mut held = (0.0, 0.0);
        for (agent, preset, usd, tokens) in rows.filter_map(Result::ok) {
            if budget.scope.covers(&agent, preset.as_deref()) {
                held.0 += usd;
                held.1 += tokens as f64;
            }
        }
        Ok(held)
    }

    /// Releases reservations by id, or all of a task's.
    pub fn release(&mut self, ids: &[i64], task_id: Option<&str>) -> Result<(), StoreError> {
        for id in ids {
            self.conn
                .execute("DELETE FROM reservations WHERE id = ?1", [id])
                .map_err(|e| self.sqlite_err(e))?;
        }
        if let Some(task) = task_id {
            self.conn
                .execute("DELETE FROM reservations WHERE task_id = ?1", [task])
                .map_err(|e| self.sqlite_err(e))?;
        }
        Ok(())
    }

    /// Fires every threshold crossed in the current period that has not fired in it
    /// yet (once per threshold per period, also across restarts); returns the new
    /// alerts.
    pub fn fire_thresholds(&mut self, now: i64) -> Result<Vec<AlertRow>, StoreError> {
        let mut fired = Vec::new();
        for budget in self.budgets()? {
            let spent = self.spent(&budget, now)?;
            let percent = 100.0 * spent / limit_value(budget.limit);
            let (start, _) = budget.period.bounds(now, &self.calendar);
            for t in budget
                .thresholds
                .iter()
                .filter(|t| percent >= f64::from(**t))
            {
                let new = self
                    .conn
                    .execute(
                        "INSERT OR IGNORE INTO budget_fired VALUES (?1, ?2, ?3)",
                        rusqlite::params![budget.id, start, t],
                    )
                    .map_err(|e| self.sqlite_err(e))?;
                if new == 1 {
                    let message = format!(
                        "budget {} ({}, {}) reached {t} % of its limit ({percent:.0} % spent)",
                        budget.id,
                        budget.scope,
                        budget.period.as_str()
                    );
                    let key = AlertKind::BudgetThreshold.dedup_key(
                        &budget.id.to_string(),
                        &format!("{start}:{t}"),
                        now,
                    );
                    if let Some(alert) = self.add_alert(
                        AlertKind::BudgetThreshold,
                        &budget.scope.to_string(),
                        &message,
                        &key,
                        now,
                    )? {
                        fired.push(alert);
                    }
                }
            }
        }
        Ok(fired)
    }

    /// Adds an alert unless one with `dedup_key` exists.
    pub fn add_alert(
        &mut self,
        kind: AlertKind,
        subject: &str,
        message: &str,
        dedup_key: &str,
        now: i64,
    ) -> Result<Option<AlertRow>, StoreError> {
        let n = self
            .conn
            .execute(
                "INSERT OR IGNORE INTO alerts (at_ms, kind, subject, message, dedup_key) VALUES (?1, ?2, ?3, ?4, ?5)",
                rusqlite::params![now, kind.as_str(), subject, message, dedup_key],
            )
            .map_err(|e| self.sqlite_err(e))?;
        Ok((n == 1).then(|| AlertRow {
            id: self.conn.last_insert_rowid(),
            at_ms: now,
            kind,
            subject: subject.into(),
            message: message.into(),
            acked: false,
        }))
    }

    /// Alerts, newest first; unacknowledged only unless `all`.
    pub fn alerts(&self, all: bool) -> Result<Vec<AlertRow>, StoreError> {
        self.query_alerts("WHERE ?1 OR acked = 0 ORDER BY id DESC", all)
    }

    fn query_alerts(
        &self,
        condition: &str,
        param: impl rusqlite::ToSql,
    ) -> Result<Vec<AlertRow>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT id, at_ms, kind, subject, message, acked FROM alerts {condition}"
            ))
            .map_err(|e| self.sqlite_err(e))?;
        let rows = stmt
            .query_map([param], |r| {
                let kind: String = r.get(2)?;
                Ok(kind
                    .parse::<AlertKind>()
                    .ok()
                    .map(|kind| -> rusqlite::Result<AlertRow> {
                        Ok(AlertRow {
                            id: r.get(0)?,
                            at_ms: r.get(1)?,
                            kind,
                            subject: r.get(3)?,
                            message: r.get(4)?,
                            acked: r.get(5)?,
                        })
                    }))
            })
            .map_err(|e| self.sqlite_err(e))?;
        // A kind this build does not know (written by a newer one) is left out.
        let mut alerts = Vec::new();
        for row in rows {
            if let Some(alert) = row.map_err(|e| self.sqlite_err(e))? {
                alerts.push(alert.map_err(|e| self.sqlite_err(e))?);
            }
        }
        Ok(alerts)
    }

    /// Acknowledges one alert, or all; returns how many.
    pub fn ack_alerts(&mut self, id: Option<i64>) -> Result<usize, StoreError> {
        let n = match id {
            Some(id) => self.conn.execute(
                "UPDATE alerts SET acked = 1 WHERE id = ?1 AND acked = 0",
                [id],
            ),
            None => self
                .conn
                .execute("UPDATE alerts SET acked = 1 WHERE acked = 0", []),
        };
        n.map_err(|e| self.sqlite_err(e))
    }

    /// True when an alert with this id exists.
    pub fn alert_exists(&self, id: i64) -> Result<bool, StoreError> {
        self.conn
            .query_row("SELECT 1 FROM alerts WHERE id = ?1", [id], |_| Ok(()))
            .optional()
            .map(|r| r.is_some())
            .map_err(|e| self.sqlite_err(e))
    }
}

/// A limit as the `limit_usd` and `limit_tokens` columns hold it.
fn limit_columns(limit: Limit) -> (Option<f64>, Option<i64>) {
    match limit {
        Limit::Usd(v) => (Some(v), None),
        Limit::Tokens(t) => (None, Some(i64::try_from(t).unwrap_or(i64::MAX))),
    }
}
