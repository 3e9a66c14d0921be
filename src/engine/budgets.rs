//! The engine's budgets and alerts: set, list, remove; reserve before runs under a
//! hard stop, release after; fire thresholds after each recorded run.

use super::Engine;
use crate::Error;
use crate::alerts::AlertKind;
use crate::budget::{Budget, BudgetError, Limit, Period, Scope, parse_thresholds};
use crate::coordinator::TaskSpec;
use crate::events::Event;
use crate::store::{AlertRow, BudgetStatus, now_ms};

/// A budget as the user asks for it.
#[derive(Debug, Clone)]
pub struct BudgetRequest {
    /// `global`, `agent:NAME` or `preset:NAME`.
    pub scope: String,
    /// day, week or month.
    pub period: Period,
    /// USD limit.
    pub limit_usd: Option<f64>,
    /// Token limit.
    pub limit_tokens: Option<u64>,
    /// `80,100`.
    pub thresholds: String,
    /// Refuse new runs at the limit.
    pub hard_stop: bool,
    /// With a USD hard stop: also refuse runs that cannot be priced.
    pub refuse_unpriced: bool,
}

impl Engine {
    /// Validates and adds a budget; returns its id. Nothing is written when invalid.
    pub fn set_budget(&self, request: &BudgetRequest) -> Result<i64, Error> {
        let budget = self.checked_budget(0, request)?;
        let id = self.open_store()?.add_budget(&budget)?;
        self.record(&[Event::BudgetSet {
            budget: Budget { id, ..budget },
        }])?;
        Ok(id)
    }

    /// Changes budget `id` to `request` in place (its spending so far and its
    /// reservations stay). Nothing is written when invalid or unknown.
    pub fn update_budget(&self, id: i64, request: &BudgetRequest) -> Result<(), Error> {
        let budget = self.checked_budget(id, request)?;
        if !self.open_store()?.update_budget(&budget)? {
            return Err(BudgetError::NotFound(id).into());
        }
        self.record(&[Event::BudgetSet { budget }])
    }

    /// `request` validated into budget `id`: the scope names a known agent or
    /// preset, one positive limit, thresholds that parse.
    fn checked_budget(&self, id: i64, request: &BudgetRequest) -> Result<Budget, Error> {
        let scope: Scope = request.scope.parse()?;
        let unknown = |what, name: &str, list| BudgetError::UnknownTarget {
            scope: request.scope.clone(),
            what,
            name: name.to_owned(),
            list,
        };
        match &scope {
            Scope::Global => {}
            Scope::Agent(agent) => {
                if self.agent_registry().get(agent).is_err() {
                    return Err(unknown("agent", agent, "agents list").into());
                }
            }
            Scope::Preset(preset) => {
                let exists = crate::presets::PresetName::parse(preset)
                    .is_ok_and(|name| self.presets.exists(&name));
                if !exists {
                    return Err(unknown("preset", preset, "list").into());
                }
            }
        }
        let limit = match (request.limit_usd, request.limit_tokens) {
            (Some(usd), None) if usd.is_finite() && usd > 0.0 => Limit::Usd(usd),
            (None, Some(tokens)) if tokens > 0 => Limit::Tokens(tokens),
            _ => return Err(BudgetError::Limit.into()),
        };
        if request.refuse_unpriced && !(request.hard_stop && matches!(limit, Limit::Usd(_))) {
            return Err(BudgetError::RefuseUnpricedNeedsUsd.into());
        }
        Ok(Budget {
            id,
            scope,
            period: request.period,
            limit,
            thresholds: parse_thresholds(&request.thresholds)?,
            hard_stop: request.hard_stop,
            refuse_unpriced: request.refuse_unpriced,
        })
    }

    /// Every budget with what is spent in its current period.
    pub fn budget_statuses(&self) -> Result<Vec<BudgetStatus>, Error> {
        if !self.paths.database().exists() {
            return Ok(Vec::new());
        }
        Ok(self.open_store()?.budget_statuses(now_ms())?)
    }

    /// One budget as it is set (what it spent is not read).
    pub fn budget(&self, id: i64) -> Result<crate::budget::Budget, Error> {
        let budgets = match self.paths.database().exists() {
            true => self.open_store()?.budgets()?,
            false => Vec::new(),
        };
        budgets
            .into_iter()
            .find(|b| b.id == id)
            .ok_or_else(|| BudgetError::NotFound(id).into())
    }

    /// Removes a budget.
    pub fn remove_budget(&self, id: i64) -> Result<(), Error> {
        if self.open_store()?.remove_budget(id)? {
            self.record(&[Event::BudgetRemoved { budget: id }])
        } else {
            Err(BudgetError::NotFound(id).into())
        }
    }

    /// Reserves an estimate for one run under every hard-stop budget covering it, or
    /// refuses with a clear error before the run starts. The estimate is the mean of
    /// the agent's last runs with this preset, or a twentieth of the limit when it
    /// has none.
    pub fn reserve_run(
        &self,
        agent: &str,
        preset: Option<&str>,
        task_id: Option<&str>,
    ) -> Result<Option<i64>, Error> {
        if !self.paths.database().exists() && self.budget_statuses()?.is_empty() {
            return Ok(None);
        }
        let mut store = self.open_store()?;
        let history = store.run_estimate(agent, preset)?;
        let estimate = |budget: &Budget| match (budget.limit, history) {
            (Limit::Usd(_), Some((usd, _))) => usd,
            (Limit::Tokens(_), Some((_, tokens))) => tokens,
            (Limit::Usd(limit), None) => limit / 20.0,
            (Limit::Tokens(limit), None) => limit as f64 / 20.0,
        };
        let unpriced = if store.priced_history(agent, preset)? {
            None
        } else {
            self.unpriceable(agent, preset)
        };
        let reserved = store.reserve(
            agent,
            preset,
            task_id,
            estimate,
            unpriced.as_deref(),
            now_ms(),
        )?;
        let id = match reserved {
            Ok(id) => id,
            Err(refused) => {
                if let BudgetError::Exceeded { id, .. } = &refused {
                    let message = format!("{agent} was refused: {refused}");
                    self.raise_alert(AlertKind::BudgetHardStop, &id.to_string(), "", &message)?;
                }
                return Err(refused.into());
            }
        };
        if let Some(what) = unpriced {
            // Not refused: say, once a period, that this budget does not see its cost.
            let now = now_ms();
            for budget in store.budgets()?.iter().filter(|b| {
                b.hard_stop && matches!(b.limit, Limit::Usd(_)) && b.scope.covers(agent, preset)
            }) {
                let (start, _) = budget.period.bounds(now, &self.calendar);
                let message = format!(
                    "budget {} ({}, {}) cannot price runs of {what}: their cost is not counted against its limit; give the preset a price (--price) or set the budget with --refuse-unpriced",
                    budget.id,
                    budget.scope,
                    budget.period.as_str()
                );
                let key = AlertKind::BudgetUnpriced.dedup_key(
                    &budget.id.to_string(),
                    &start.to_string(),
                    now,
                );
                if let Some(alert) = store.add_alert(
                    AlertKind::BudgetUnpriced,
                    &budget.scope.to_string(),
                    &message,
                    &key,
                    now,
                )? {
                    self.record(&[Event::AlertRaised { alert }])?;
                }
            }
        }
        Ok(id)
    }

    /// What a run of `agent` with `preset` cannot be priced for (the model, or the
    /// agent when the preset names none), or `None` when the price table or the
    /// preset's own prices cover it.
    fn unpriceable(&self, agent: &str, preset: Option<&str>) -> Option<String> {
        let preset = preset
            .and_then(|p| crate::presets::PresetName::parse(p).ok())
            .and_then(|p| self.presets.get(&p).ok());
        let overrides = preset
            .as_ref()
            .map(|p| p.prices.clone())
            .unwrap_or_default();
        let model = preset.as_ref().and_then(|p| p.model.clone());
        let probe = crate::agents::event::TokenCounts {
            input: 1,
            output: 1,
            ..Default::default()
        };
        let priced = self
            .price_table()
            .price(model.as_deref(), &probe, None, &overrides)
            .cost_usd
            .is_some();
        (!priced).then(|| {
            model.map_or_else(
                || format!("agent {agent} (no model named)"),
                |m| format!("model {m}"),
            )
        })
    }

    /// Reserves for every agent of a task, all or nothing.
    pub fn reserve_task(&self, spec: &TaskSpec) -> Result<(), Error> {
        for assignment in &spec.agents {
            // Budgets and history go by the agent's id, whatever the copy is called.
            if let Err(e) = self.reserve_run(
                assignment.launch.manifest.id.as_str(),
                assignment.preset.as_deref(),
                Some(&spec.id),
            ) {
                self.release(&[], Some(&spec.id))?;
                return Err(e);
            }
        }
        Ok(())
    }

    /// Releases reservations (by id, or a task's).
    pub fn release(&self, ids: &[i64], task_id: Option<&str>) -> Result<(), Error> {
        if !self.paths.database().exists() {
            return Ok(());
        }
        Ok(self.open_store()?.release(ids, task_id)?)
    }

    /// Fires budget thresholds crossed in the current periods; returns new alerts.
    pub fn fire_budget_thresholds(&self) -> Result<Vec<AlertRow>, Error> {
        let fired = self.open_store()?.fire_thresholds(now_ms())?;
        let events: Vec<Event> = fired
            .iter()
            .flat_map(|alert| {
                [
                    Event::BudgetThresholdCrossed {
                        alert: alert.clone(),
                    },
                    Event::AlertRaised {
                        alert: alert.clone(),
                    },
                ]
            })
            .collect();
        self.record(&events)?;
        Ok(fired)
    }

    /// Raises an alert of `kind` about `subject`, unless one with the same key was
    /// raised before: the key (`AlertKind::dedup_key`, from `subject` and `period`)
    /// is the rate limit. The one way every alert is raised.
    pub fn raise_alert(
        &self,
        kind: AlertKind,
        subject: &str,
        period: &str,
        message: &str,
    ) -> Result<Option<AlertRow>, Error> {
        let now = now_ms();
        let key = kind.dedup_key(subject, period, now);
        let raised = self
            .open_store()?
            .add_alert(kind, subject, message, &key, now)?;
        if let Some(alert) = &raised {
            self.record(&[Event::AlertRaised {
                alert: alert.clone(),
            }])?;
        }
        Ok(raised)
    }

    /// Alerts, newest first; unacknowledged only unless `all`.
    pub fn alerts(&self, all: bool) -> Result<Vec<AlertRow>, Error> {
        if !self.paths.database().exists() {
            return Ok(Vec::new());
        }
        Ok(self.open_store()?.alerts(all)?)
    }

    /// Acknowledges one alert or all; returns how many.
    pub fn ack_alerts(&self, id: Option<i64>) -> Result<usize, Error> {
        let mut store = self.open_store()?;
        if let Some(id) = id
            && !store.alert_exists(id)?
        {
            return Err(crate::engine::AlertError::NotFound(id).into());
        }
        let count = store.ack_alerts(id)?;
        drop(store);
        if count > 0 {
            self.record(&[Event::AlertsAcknowledged { alert: id, count }])?;
        }
        Ok(count)
    }
}

/// An alert that does not exist.
#[derive(Debug, thiserror::Error)]
pub enum AlertError {
    /// No alert has this id.
    #[error("alert {0} does not exist: see `aiswitch alerts list --all`")]
    NotFound(i64),
}
