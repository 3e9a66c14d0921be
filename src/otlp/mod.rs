//! The opt-in OpenTelemetry export of the engine host: with `otlp_endpoint` set, the
//! daemon sends every usage event as a log record (`POST {endpoint}/v1/logs`) as soon
//! as it is recorded, and the metrics of the Prometheus page (`POST
//! {endpoint}/v1/metrics`) every `otlp_interval_secs`, as OTLP/HTTP JSON.
//!
//! The ledger is the queue: a cursor file (`data/otlp-cursor`) holds the id of the
//! last usage event the collector accepted, so a collector that is down loses
//! nothing — the events wait in SQLite, and go in batches of up to 500 once it is
//! back. Failed sends are retried after 1, 2, 4 … 60 s. The exporter is a task of its
//! own that reads the store: a run never waits for it.

mod encode;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use tokio::sync::{broadcast, watch};

pub use encode::metric_name;

use crate::engine::AgentRuntime;
use crate::events::{Event, EventRecord};
use crate::store::now_ms;

/// Usage events per request.
const BATCH: usize = 500;
/// The longest wait between two tries while the collector fails.
const MAX_BACKOFF: Duration = Duration::from_secs(60);
/// How long one request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Usage recorded within this of the first is sent in the same request.
const GATHER: Duration = Duration::from_millis(200);

type Client = hyper_util::client::legacy::Client<
    hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>,
    Full<Bytes>,
>;

/// Where the exporter stands.
struct Exporter {
    runtime: Arc<AgentRuntime>,
    client: Client,
    base: String,
    cursor_file: std::path::PathBuf,
    /// The last usage event the collector accepted.
    cursor: i64,
    started_ms: i64,
}

/// Sends to the collector at `base` until `stop` turns true.
pub async fn export(
    runtime: Arc<AgentRuntime>,
    base: String,
    interval: Duration,
    mut stop: watch::Receiver<bool>,
) {
    let mut events = runtime.subscribe();
    let Some(mut exporter) = Exporter::new(runtime, base).await else {
        return;
    };
    tracing::info!(endpoint = %exporter.base, "sending usage and metrics to the OpenTelemetry collector");
    let mut tick = tokio::time::interval(interval.max(Duration::from_secs(1)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut metrics_due = false;
    // While the collector fails: the wait before the next try, and when that is.
    let mut backoff: Option<(Duration, tokio::time::Instant)> = None;
    let mut gather = false;
    loop {
        // While the collector fails, only the retry sends.
        let retry_at = backoff.map(|(_, at)| at);
        let retry = tokio::time::sleep_until(
            retry_at.unwrap_or_else(|| tokio::time::Instant::now() + Duration::from_secs(3600)),
        );
        tokio::select! {
            _ = stop.wait_for(|s| *s) => return,
            () = retry, if backoff.is_some() => {}
            _ = tick.tick() => {
                metrics_due = true;
                if backoff.is_some() {
                    continue;
                }
            }
            usage = usage_recorded(&mut events), if backoff.is_none() => {
                if !usage {
                    return;
                }
                gather = true;
            }
        }
        // Let the rest of a burst arrive, to send it in one request.
        if std::mem::take(&mut gather)
            && tokio::time::timeout(GATHER, stop.wait_for(|s| *s))
                .await
                .is_ok()
        {
            return;
        }
        match exporter.send_due(metrics_due).await {
            Ok(()) => {
                if backoff.take().is_some() {
                    tracing::info!(endpoint = %exporter.base, "the OpenTelemetry collector accepts again");
                }
                metrics_due = false;
            }
            Err(e) => {
                let wait =
                    backoff.map_or(Duration::from_secs(1), |(d, _)| (d * 2).min(MAX_BACKOFF));
                if backoff.is_none() {
                    tracing::warn!(endpoint = %exporter.base, error = %e, "cannot send to the OpenTelemetry collector; usage waits in the ledger and is retried");
                }
                backoff = Some((wait, tokio::time::Instant::now() + wait));
            }
        }
    }
}

/// Waits for the next usage event: `false` when the event stream has ended.
async fn usage_recorded(events: &mut broadcast::Receiver<EventRecord>) -> bool {
    loop {
        match events.recv().await {
            Ok(EventRecord {
                event: Event::UsageRecorded { .. },
                ..
            })
            | Err(broadcast::error::RecvError::Lagged(_)) => return true,
            Ok(_) => {}
            Err(broadcast::error::RecvError::Closed) => return false,
        }
    }
}

impl Exporter {
    /// Reads the cursor; the first time, export starts from the events recorded from
    /// now on (the ledger's history is not sent).
    async fn new(runtime: Arc<AgentRuntime>, base: String) -> Option<Self> {
        let cursor_file = runtime.engine().paths().data_dir.join("otlp-cursor");
        let stored = std::fs::read_to_string(&cursor_file)
            .ok()
            .and_then(|text| text.trim().parse::<i64>().ok());
        let cursor = match stored {
            Some(id) => id,
            None => {
                let engine = runtime.engine().clone();
                let last = tokio::task::spawn_blocking(move || engine.last_usage_id())
                    .await
                    .ok()?;
                match last {
                    Ok(id) => id,
                    Err(e) => {
                        tracing::error!(error = %e, "cannot read the ledger: usage is not sent to the OpenTelemetry collector");
                        return None;
                    }
                }
            }
        };
        let exporter = Self {
            runtime,
            client: crate::gateway::https_client(),
            base,
            cursor_file,
            cursor,
            started_ms: now_ms(),
        };
        exporter.save_cursor();
        Some(exporter)
    }

    fn save_cursor(&self) {
        if let Err(e) = crate::atomic_file::write_atomic(
            &self.cursor_file,
            format!("{}\n", self.cursor).as_bytes(),
            0o600,
        ) {
            tracing::warn!(error = %e, "cannot keep the OpenTelemetry export's place");
        }
    }

    /// Sends every usage event not sent yet, then the metrics when they are due.
    async fn send_due(&mut self, metrics_due: bool) -> Result<(), String> {
        loop {
            let engine = self.runtime.engine().clone();
            let after = self.cursor;
            let records = tokio::task::spawn_blocking(move || engine.usage_after(after, BATCH))
                .await
                .map_err(|e| e.to_string())?
                .map_err(|e| e.to_string())?;
            let Some(last) = records.last().map(|r| r.id) else {
                break;
            };
            self.post("/v1/logs", &encode::logs(&records, now_ms()))
                .await?;
            self.cursor = last;
            self.save_cursor();
            if records.len() < BATCH {
                break;
            }
        }
        if metrics_due {
            let page = crate::prometheus::read(&self.runtime)
                .await
                .map_err(|e| e.to_string())?;
            self.post(
                "/v1/metrics",
                &encode::metrics(&page, self.started_ms, now_ms()),
            )
            .await?;
        }
        Ok(())
    }

    async fn post(&self, path: &str, body: &serde_json::Value) -> Result<(), String> {
        let request = hyper::Request::post(format!("{}{path}", self.base))
            .header(hyper::header::CONTENT_TYPE, "application/json")
            .header(
                hyper::header::USER_AGENT,
                concat!("aiswitch/", env!("CARGO_PKG_VERSION")),
            )
            .body(Full::new(Bytes::from(body.to_string())))
            .map_err(|e| e.to_string())?;
        let response = tokio::time::timeout(REQUEST_TIMEOUT, self.client.request(request))
            .await
            .map_err(|_| format!("no answer within {} s", REQUEST_TIMEOUT.as_secs()))?
            .map_err(|e| e.to_string())?;
        let status = response.status();
        // Read the answer whole so the connection can be reused.
        let answer = response
            .into_body()
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        if status.is_success() {
            Ok(())
        } else {
            let answer = String::from_utf8_lossy(&answer);
            let answer = answer.split_whitespace().collect::<Vec<_>>().join(" ");
            Err(format!(
                "{path}: {status} {}",
                answer.chars().take(200).collect::<String>()
            ))
        }
    }
}
