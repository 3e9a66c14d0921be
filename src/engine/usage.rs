//! The engine's usage ledger: price each run, record it, summarise.

use super::Engine;
use crate::Error;
use crate::agents::event::TokenCounts;
use crate::coordinator::TaskResult;
use crate::presets::PresetName;
use crate::store::{GroupBy, UsageFilter, UsageGroup, UsageRow, now_ms};
use crate::usage::PriceTable;

impl Engine {
    /// The price table in force.
    pub fn price_table(&self) -> PriceTable {
        PriceTable::bundled().with_overrides(&self.settings().prices)
    }

    /// A priced ledger row for one run. The model is the one the agent reported,
    /// else the preset's; the provider is the host of the preset's base URL, else
    /// its kind.
    pub fn usage_row(
        &self,
        agent: &str,
        preset: Option<&str>,
        model: Option<&str>,
        tokens: TokenCounts,
        reported_cost: Option<f64>,
        task_id: Option<&str>,
    ) -> UsageRow {
        let preset_data = preset
            .and_then(|p| PresetName::parse(p).ok())
            .and_then(|p| self.preset(&p).ok());
        let model = model
            .map(str::to_owned)
            .or_else(|| preset_data.as_ref().and_then(|p| p.model.clone()));
        let provider = preset_data.as_ref().map(|p| {
            p.base_url
                .as_deref()
                .map_or_else(|| p.kind.to_string(), crate::gateway::host)
        });
        let overrides = preset_data
            .as_ref()
            .map(|p| p.prices.clone())
            .unwrap_or_default();
        let table = self.price_table();
        let priced = table.price(model.as_deref(), &tokens, reported_cost, &overrides);
        UsageRow {
            at_ms: now_ms(),
            agent: agent.to_owned(),
            preset: preset.map(str::to_owned),
            provider,
            model,
            task_id: task_id.map(str::to_owned),
            tokens,
            cost_usd: priced.cost_usd,
            cost_source: priced.source,
            count_source: "agent",
            price_version: (priced.source == "table").then(|| table.version.clone()),
            source_key: None,
            instance: None,
            session_id: None,
            project: None,
            launch: None,
        }
    }

    /// Prices a task's runs that the agents did not price, and records every run
    /// with tokens in the ledger.
    pub fn record_task_usage(&self, result: &mut TaskResult) -> Result<(), Error> {
        self.settle_gateway(Some(&result.id));
        let mut rows = Vec::new();
        for run in &mut result.runs {
            // The gateway metered this run request by request: its figures win
            // (the agent's own count is not added to the ledger a second time). A
            // run that made no request through it keeps the agent's report.
            if self.gateway_routes(run.preset.as_deref()) {
                let agent = run.agent_id.clone().unwrap_or_else(|| run.agent.clone());
                let instance = (run.agent != agent).then_some(run.agent.as_str());
                if let Some((tokens, cost, model)) = self
                    .open_store()?
                    .gateway_usage_of_run(&result.id, &agent, instance)?
                {
                    run.reported_tokens = Some(run.tokens);
                    run.tokens = tokens;
                    run.cost_usd = cost;
                    run.cost_source =
                        Some(if cost.is_some() { "table" } else { "unpriced" }.to_owned());
                    run.model = model.or(run.model.take());
                    continue;
                }
            }
            if run.tokens == TokenCounts::default() {
                continue;
            }
            // Counted under the agent's id; the copy's label is kept beside it.
            let agent = run.agent_id.clone().unwrap_or_else(|| run.agent.clone());
            let mut row = self.usage_row(
                &agent,
                run.preset.as_deref(),
                run.model.as_deref(),
                run.tokens,
                run.cost_usd,
                Some(&result.id),
            );
            row.instance = (run.agent != agent).then(|| run.agent.clone());
            row.session_id.clone_from(&run.session_id);
            row.project = Some(result.workdir.display().to_string());
            run.cost_usd = row.cost_usd;
            run.cost_source = Some(row.cost_source.to_owned());
            run.model.clone_from(&row.model);
            rows.push(row);
        }
        let priced: Vec<f64> = result.runs.iter().filter_map(|r| r.cost_usd).collect();
        result.cost_usd = (!priced.is_empty()).then(|| priced.iter().sum());
        self.record_usage(&rows)
    }

    /// Appends rows to the ledger.
    pub fn record_usage(&self, rows: &[UsageRow]) -> Result<(), Error> {
        if rows.is_empty() {
            return Ok(());
        }
        let added = self.open_store()?.insert_usage(rows)?;
        if added.rows > 0 {
            self.record(&[added.into()])?;
        }
        self.fire_budget_thresholds()?;
        Ok(())
    }

    /// Re-prices the ledger since `since_ms` with the current table and each
    /// preset's overrides (costs the agents reported stay); returns rows changed.
    pub fn reprice(&self, since_ms: Option<i64>) -> Result<usize, Error> {
        let table = self.price_table();
        let price = |model: Option<&str>, preset: Option<&str>, tokens: &TokenCounts| {
            let overrides = preset
                .and_then(|p| PresetName::parse(p).ok())
                .and_then(|p| self.preset(&p).ok())
                .map(|p| p.prices)
                .unwrap_or_default();
            let priced = table.price(model, tokens, None, &overrides);
            (
                priced.cost_usd,
                priced.source,
                (priced.source == "table").then(|| table.version.clone()),
            )
        };
        Ok(self.open_store()?.reprice(since_ms, price)?)
    }

    /// Sums the ledger.
    pub fn usage_summary(
        &self,
        filter: &UsageFilter,
        by: Option<GroupBy>,
    ) -> Result<Vec<UsageGroup>, Error> {
        if !self.paths.database().exists() {
            return Ok(Vec::new());
        }
        Ok(self.open_store()?.usage_summary(filter, by)?)
    }
}
