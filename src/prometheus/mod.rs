//! The opt-in Prometheus endpoint of the engine host: with `metrics_listen` set, the
//! daemon serves `GET /metrics` there. Counters are the ledger's totals (tokens by
//! type, cost, usage events) per agent, preset, model and count source; gauges are
//! the supervised agents now (state, CPU, memory) and each budget's spending and
//! limit, and the quota windows the gateway read. Everything is read at scrape time from the store and the runtime: there
//! is no second copy of the numbers to drift.

mod exposition;

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::sync::watch;

pub use exposition::{Exposition, Family, Kind};

use crate::Error;
use crate::budget::Limit;
use crate::dashboard::Names;
use crate::engine::QuotaView;
use crate::engine::{AgentRuntime, AgentStatusView};
use crate::store::{BudgetStatus, UsageTotal};

/// Binds the metrics address (before the engine host says it is ready, so the
/// page is there as soon as it is).
pub async fn bind(address: SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    if !address.ip().is_loopback() {
        tracing::warn!(%address, "metrics are served beyond this machine (metrics_listen is not a loopback address)");
    }
    tokio::net::TcpListener::bind(address).await
}

/// Serves `GET /metrics` on `listener` until `stop` turns true.
pub async fn serve(
    runtime: Arc<AgentRuntime>,
    listener: tokio::net::TcpListener,
    mut stop: watch::Receiver<bool>,
) -> std::io::Result<()> {
    let address = listener.local_addr()?;
    tracing::info!(%address, "serving Prometheus metrics at /metrics");
    // On loopback the page is for this machine only: any name but its loopback names
    // is a web page that pointed its own DNS name here (rebinding) to read the
    // spending. Beyond loopback a Prometheus server scrapes by whatever name its DNS
    // gives this machine, so the name cannot be checked (`bind` warns).
    let names = address.ip().is_loopback().then(|| Names::of(address));
    let app = axum::Router::new()
        .route("/metrics", axum::routing::get(scrape))
        .with_state(Arc::new(Scraped { runtime, names }));
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            let _ = stop.wait_for(|s| *s).await;
        })
        .await
}

/// The metrics now: the ledger's totals, the budgets and quota windows from the store,
/// the agents from the runtime.
pub async fn read(runtime: &AgentRuntime) -> Result<Exposition, Error> {
    let agents = runtime.status().await;
    let engine = runtime.engine().clone();
    let (totals, budgets, windows) = tokio::task::spawn_blocking(move || {
        let totals = engine.usage_totals()?;
        let budgets = engine.budget_statuses()?;
        let windows = engine.limits(crate::store::now_ms())?;
        Ok::<_, Error>((totals, budgets, windows))
    })
    .await
    .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))?;
    Ok(metrics(&totals, &agents, &budgets, &windows))
}

/// What the endpoint serves, and to which names.
struct Scraped {
    runtime: Arc<AgentRuntime>,
    names: Option<Names>,
}

async fn scrape(
    axum::extract::State(scraped): axum::extract::State<Arc<Scraped>>,
    headers: axum::http::HeaderMap,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    if let Some(names) = &scraped.names {
        let host = headers
            .get(axum::http::header::HOST)
            .and_then(|h| h.to_str().ok());
        if !host.is_some_and(|h| names.admit(h)) {
            return (
                axum::http::StatusCode::FORBIDDEN,
                "aiswitch metrics: on a loopback address, scrape it as 127.0.0.1 or localhost\n",
            )
                .into_response();
        }
    }
    match read(&scraped.runtime).await {
        Ok(metrics) => (
            [(
                axum::http::header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            )],
            metrics.into_text(),
        )
            .into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "cannot read the metrics");
            (axum::http::StatusCode::SERVICE_UNAVAILABLE, e.to_string()).into_response()
        }
    }
}

/// The metric families of the ledger's totals, the agents, budgets and quota windows.
pub fn metrics(
    totals: &[UsageTotal],
    agents: &[AgentStatusView],
    budgets: &[BudgetStatus],
    windows: &[QuotaView],
) -> Exposition {
    let mut page = Exposition::default();
    const TOKENS: &str = "aiswitch_tokens_total";
    page.family(
        TOKENS,
        Kind::Counter,
        "Tokens in the usage ledger, by type.",
    );
    for t in totals {
        let types = ["input", "output", "cache_read", "cache_write", "reasoning"];
        for (kind, count) in types.iter().zip(t.tokens) {
            let mut labels = usage_labels(t);
            labels.push(("type", kind));
            page.sample(TOKENS, &labels, count as f64);
        }
    }
    const COST: &str = "aiswitch_cost_usd_total";
    page.family(
        COST,
        Kind::Counter,
        "Priced cost in the usage ledger, US dollars.",
    );
    for t in totals {
        page.sample(COST, &usage_labels(t), t.cost_usd);
    }
    const EVENTS: &str = "aiswitch_usage_events_total";
    page.family(
        EVENTS,
        Kind::Counter,
        "Usage events (requests or runs) in the ledger.",
    );
    for t in totals {
        page.sample(EVENTS, &usage_labels(t), t.events as f64);
    }
    agent_gauges(&mut page, agents);
    budget_gauges(&mut page, budgets);
    quota_gauges(&mut page, windows);
    page
}

fn usage_labels(t: &UsageTotal) -> Vec<(&'static str, &str)> {
    vec![
        ("agent", &t.agent),
        ("preset", &t.preset),
        ("model", &t.model),
        ("source", &t.source),
    ]
}

/// One gauge family with a sample per item.
fn gauge<T>(
    page: &mut Exposition,
    name: &str,
    help: &str,
    items: &[T],
    labels: impl Fn(&T) -> Vec<(&'static str, String)>,
    value: impl Fn(&T) -> f64,
) {
    page.family(name, Kind::Gauge, help);
    for item in items {
        let owned = labels(item);
        let borrowed: Vec<(&str, &str)> = owned.iter().map(|(k, v)| (*k, v.as_str())).collect();
        page.sample(name, &borrowed, value(item));
    }
}

fn agent_gauges(page: &mut Exposition, agents: &[AgentStatusView]) {
    let agent = |a: &AgentStatusView| vec![("agent", a.agent.clone())];
    gauge(
        page,
        "aiswitch_agent_state",
        "1 for the state each supervised agent is in.",
        agents,
        |a| {
            vec![
                ("agent", a.agent.clone()),
                ("state", a.state.as_str().to_owned()),
            ]
        },
        |_| 1.0,
    );
    gauge(
        page,
        "aiswitch_agent_cpu_percent",
        "CPU of an agent's process tree, percent of one core.",
        agents,
        agent,
        |a| f64::from(a.cpu_percent),
    );
    gauge(
        page,
        "aiswitch_agent_memory_bytes",
        "Resident memory of an agent's process tree.",
        agents,
        agent,
        |a| a.memory_bytes as f64,
    );
    gauge(
        page,
        "aiswitch_agent_restarts",
        "Restarts of a supervised agent since it was started.",
        agents,
        agent,
        |a| f64::from(a.restarts),
    );
}

/// The providers' quota windows as the gateway last read them.
fn quota_gauges(page: &mut Exposition, windows: &[QuotaView]) {
    let labels = |w: &QuotaView| {
        vec![
            ("preset", w.row.preset.clone()),
            ("provider", w.row.provider.clone()),
            ("window", w.row.window.window.clone()),
        ]
    };
    gauge(
        page,
        "aiswitch_quota_used_percent",
        "How much of a provider's quota window is used (0-100), from its rate-limit headers.",
        windows,
        labels,
        |w| w.row.window.used_percent,
    );
    let resetting: Vec<QuotaView> = windows
        .iter()
        .filter(|w| w.row.window.resets_at_ms.is_some())
        .cloned()
        .collect();
    gauge(
        page,
        "aiswitch_quota_resets_at_seconds",
        "When a provider's quota window resets, seconds since the epoch.",
        &resetting,
        labels,
        |w| w.row.window.resets_at_ms.unwrap_or(0) as f64 / 1000.0,
    );
}

fn budget_gauges(page: &mut Exposition, budgets: &[BudgetStatus]) {
    let labels = |b: &BudgetStatus| {
        let unit = match b.budget.limit {
            Limit::Usd(_) => "usd",
            Limit::Tokens(_) => "tokens",
        };
        vec![
            ("budget", b.budget.id.to_string()),
            ("scope", b.budget.scope.to_string()),
            ("period", b.budget.period.as_str().to_owned()),
            ("unit", unit.to_owned()),
        ]
    };
    gauge(
        page,
        "aiswitch_budget_spent",
        "Spent in the budget's current period (USD or tokens, see unit).",
        budgets,
        labels,
        |b| b.spent,
    );
    gauge(
        page,
        "aiswitch_budget_limit",
        "The budget's limit (USD or tokens, see unit).",
        budgets,
        labels,
        |b| match b.budget.limit {
            Limit::Usd(v) => v,
            Limit::Tokens(t) => t as f64,
        },
    );
}
