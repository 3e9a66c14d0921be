//! The engine's per-agent metrics: RPC latency percentiles per method and of prompt
//! turns, error rate and throughput, from the `rpc_metrics` table.

use serde::Serialize;

use super::Engine;
use crate::Error;

/// The share of failed requests that raises an error-rate alert.
pub const ERROR_RATE_ALERT: f64 = 0.5;
/// Fewer requests than this in the window never alert.
pub const ERROR_RATE_MIN_REQUESTS: u64 = 5;

/// Latency percentiles, microseconds.
#[derive(Debug, Clone, Serialize)]
pub struct Percentiles {
    /// Median.
    pub p50_us: Option<u64>,
    /// 95th percentile.
    pub p95_us: Option<u64>,
    /// 99th percentile.
    pub p99_us: Option<u64>,
}

/// One method of one agent.
#[derive(Debug, Clone, Serialize)]
pub struct MethodMetrics {
    /// The method.
    pub method: String,
    /// Requests completed (answered or timed out).
    pub requests: u64,
    /// Error responses and timeouts over requests.
    pub error_rate: f64,
    /// Latency.
    pub latency: Percentiles,
}

/// One agent's metrics over a period.
#[derive(Debug, Clone, Serialize)]
pub struct AgentMetrics {
    /// The agent.
    pub agent: String,
    /// Prompt turns (`session/prompt`) latency.
    pub prompt_turns: Percentiles,
    /// Prompt turns, those ended by an error, a timeout or a crash included.
    pub prompts: u64,
    /// Prompt turns that failed (error, timeout or crash) over prompt turns; other
    /// requests (`initialize`, `session/new`) have their own rates in `methods`.
    pub error_rate: f64,
    /// Messages per second, both ways, over the period.
    pub messages_per_sec: f64,
    /// Per method.
    pub methods: Vec<MethodMetrics>,
}

fn percentiles(stats: &crate::usage::MethodStats) -> Percentiles {
    Percentiles {
        p50_us: stats.percentile_us(50.0),
        p95_us: stats.percentile_us(95.0),
        p99_us: stats.percentile_us(99.0),
    }
}

impl Engine {
    /// Writes the RPC metrics recorded in this process to the store.
    pub fn flush_metrics(&self) -> Result<(), Error> {
        let batch = self.recorder.take();
        if batch.is_empty() {
            return Ok(());
        }
        self.open_store()?.merge_metrics(&batch)?;
        self.check_error_rates()
    }

    /// Alerts on an agent whose prompt turns failed at [`ERROR_RATE_ALERT`] or more
    /// over the last ten minutes (at least [`ERROR_RATE_MIN_REQUESTS`] of them); one
    /// alert per agent per ten minutes.
    fn check_error_rates(&self) -> Result<(), Error> {
        const WINDOW: i64 = 600_000;
        let now = crate::store::now_ms();
        let raw = self.open_store()?.metrics(now - WINDOW, None)?;
        let mut per_agent: std::collections::HashMap<&str, crate::usage::MethodStats> =
            std::collections::HashMap::new();
        for ((agent, method), stats) in &raw {
            if method == "session/prompt" {
                per_agent.entry(agent.as_str()).or_default().merge(stats);
            }
        }
        for (agent, stats) in per_agent {
            let failed = stats.errors + stats.timeouts;
            if stats.requests >= ERROR_RATE_MIN_REQUESTS
                && failed as f64 >= ERROR_RATE_ALERT * stats.requests as f64
            {
                let message = format!(
                    "agent {agent}: {failed} of {} prompt turns failed in the last 10 minutes",
                    stats.requests
                );
                self.raise_alert(crate::alerts::AlertKind::ErrorRate, agent, "", &message)?;
            }
        }
        Ok(())
    }

    /// Per-agent metrics since `since_ms` (flushes this process's first).
    pub fn metrics(&self, since_ms: i64, agent: Option<&str>) -> Result<Vec<AgentMetrics>, Error> {
        if !self.paths.database().exists() {
            return Ok(Vec::new());
        }
        self.flush_metrics()?;
        let raw = self.open_store()?.metrics(since_ms, agent)?;
        let seconds = ((crate::store::now_ms() - since_ms) as f64 / 1000.0).max(1.0);
        let mut agents: Vec<String> = raw.keys().map(|(a, _)| a.clone()).collect();
        agents.sort();
        agents.dedup();
        Ok(agents
            .into_iter()
            .map(|agent| {
                let mut all = crate::usage::MethodStats::default();
                let mut methods: Vec<MethodMetrics> = raw
                    .iter()
                    .filter(|((a, _), _)| *a == agent)
                    .map(|((_, method), stats)| {
                        all.merge(stats);
                        MethodMetrics {
                            method: method.clone(),
                            requests: stats.requests,
                            error_rate: if stats.requests == 0 {
                                0.0
                            } else {
                                (stats.errors + stats.timeouts) as f64 / stats.requests as f64
                            },
                            latency: percentiles(stats),
                        }
                    })
                    .filter(|m| m.requests > 0)
                    .collect();
                methods.sort_by(|a, b| a.method.cmp(&b.method));
                let prompt = raw
                    .get(&(agent.clone(), "session/prompt".to_owned()))
                    .cloned()
                    .unwrap_or_default();
                AgentMetrics {
                    prompt_turns: percentiles(&prompt),
                    prompts: prompt.requests,
                    error_rate: if prompt.requests == 0 {
                        0.0
                    } else {
                        (prompt.errors + prompt.timeouts) as f64 / prompt.requests as f64
                    },
                    messages_per_sec: all.messages as f64 / seconds,
                    methods,
                    agent,
                }
            })
            .collect())
    }
}
