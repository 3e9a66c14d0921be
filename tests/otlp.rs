//! The opt-in OpenTelemetry export: a real OTLP/HTTP receiver (an HTTP server that
//! decodes what it gets with the OpenTelemetry project's own types,
//! `opentelemetry-proto`, and answers 400 to anything else, as a collector does)
//! gets every usage event and the metrics; while it is down nothing is lost and the
//! daemon still stops at once.

#![allow(clippy::unwrap_used)] // a test fails loudly on any unexpected error

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::daemon::Daemon;
use common::logs::{claude_line, write_claude_log};
use common::{Home, free_port, procs};
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as Any;
use opentelemetry_proto::tonic::metrics::v1::metric::Data;
use opentelemetry_proto::tonic::metrics::v1::number_data_point::Value as Number;

/// What the receiver accepted, and every body as it came.
#[derive(Default)]
struct Received {
    logs: Vec<ExportLogsServiceRequest>,
    metrics: Vec<ExportMetricsServiceRequest>,
    bodies: Vec<String>,
    /// Answer 503 (a collector behind a load balancer, under maintenance).
    refuse: bool,
    /// Requests answered 503.
    refused: usize,
}

/// An OTLP/HTTP receiver on 127.0.0.1:`port`, in a thread of its own; stopped (the
/// port closed) when dropped.
struct Receiver {
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Receiver {
    fn start(port: u16, received: Arc<Mutex<Received>>) -> Self {
        let listener = std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
        listener.set_nonblocking(true).unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let state = received.clone();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                let app = axum::Router::new()
                    .route("/v1/logs", axum::routing::post(logs))
                    .route("/v1/metrics", axum::routing::post(metrics))
                    .with_state(state);
                axum::serve(listener, app)
                    .with_graceful_shutdown(async move {
                        let _ = stopped.await;
                    })
                    .await
                    .unwrap();
            });
        });
        Self {
            stop: Some(stop),
            thread: Some(thread),
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.stop.take().unwrap().send(());
        self.thread.take().unwrap().join().unwrap();
    }
}

type State = axum::extract::State<Arc<Mutex<Received>>>;

async fn logs(
    state: State,
    headers: axum::http::HeaderMap,
    body: String,
) -> axum::http::StatusCode {
    accept(&state, &headers, body, |r, request| r.logs.push(request))
}

async fn metrics(
    state: State,
    headers: axum::http::HeaderMap,
    body: String,
) -> axum::http::StatusCode {
    accept(&state, &headers, body, |r, request| r.metrics.push(request))
}

fn accept<T: serde::de::DeserializeOwned>(
    state: &Arc<Mutex<Received>>,
    headers: &axum::http::HeaderMap,
    body: String,
    keep: impl FnOnce(&mut Received, T),
) -> axum::http::StatusCode {
    if headers
        .get("content-type")
        .is_none_or(|v| v != "application/json")
    {
        return axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE;
    }
    let mut received = state.lock().unwrap();
    if received.refuse {
        received.refused += 1;
        return axum::http::StatusCode::SERVICE_UNAVAILABLE;
    }
    let Ok(request) = serde_json::from_str::<T>(&body) else {
        return axum::http::StatusCode::BAD_REQUEST;
    };
    keep(&mut received, request);
    received.bodies.push(body);
    axum::http::StatusCode::OK
}

/// The input tokens of every usage log record received.
fn logged_input(received: &Received) -> Vec<i64> {
    let mut inputs = Vec::new();
    for request in &received.logs {
        for resource in &request.resource_logs {
            for scope in &resource.scope_logs {
                for record in &scope.log_records {
                    for attribute in &record.attributes {
                        if attribute.key == "gen_ai.usage.input_tokens"
                            && let Some(Any::IntValue(n)) =
                                attribute.value.as_ref().and_then(|v| v.value.clone())
                        {
                            inputs.push(n);
                        }
                    }
                }
            }
        }
    }
    inputs
}

/// The newest `aiswitch.tokens{type="input"}` total received, summed over its points.
fn metric_input(received: &Received) -> Option<f64> {
    let request = received.metrics.last()?;
    let metric = request.resource_metrics[0].scope_metrics[0]
        .metrics
        .iter()
        .find(|m| m.name == "aiswitch.tokens")?;
    let Some(Data::Sum(sum)) = &metric.data else {
        return None;
    };
    assert!(
        sum.is_monotonic && sum.aggregation_temporality == 2,
        "a cumulative counter"
    );
    Some(
        sum.data_points
            .iter()
            .filter(|p| {
                p.attributes.iter().any(|a| {
                    a.key == "type"
                        && a.value.as_ref().and_then(|v| v.value.clone())
                            == Some(Any::StringValue("input".into()))
                })
            })
            .map(|p| match p.value {
                Some(Number::AsDouble(v)) => v,
                Some(Number::AsInt(v)) => v as f64,
                None => 0.0,
            })
            .sum(),
    )
}

#[test]
fn usage_and_metrics_reach_a_real_otlp_receiver_and_wait_while_it_is_down() {
    let home = Home::new();
    home.direct();
    common::reference::register(&home, "ref", &["--tokens-in", "40"], "[inject.anthropic]\n");
    home.add_secret_preset("p", "sk-otlp-never-leaves-0123456789");

    let port = free_port();
    let received = Arc::new(Mutex::new(Received::default()));
    let receiver = Receiver::start(port, received.clone());
    let endpoint = format!("http://127.0.0.1:{port}");
    let mut daemon = Daemon::start(
        &home,
        &[
            ("AISWITCH_OTLP_ENDPOINT", &endpoint),
            ("AISWITCH_OTLP_INTERVAL_SECS", "1"),
        ],
    );

    // Usage recorded by other processes reaches the collector as one record each.
    write_claude_log(
        &home,
        &(claude_line("m1", "claude-sonnet-4-5", 100, "2026-11-02T10:00:00Z")
            + &claude_line("m2", "claude-sonnet-4-5", 30, "2026-11-20T10:00:00Z")),
    );
    home.run(&["usage", "import", "claude"]).ok();
    home.run(&[
        "agents",
        "check",
        "ref",
        "--preset",
        "p",
        "--prompt",
        "PROMPT-TEXT-NEVER-SENT",
    ])
    .ok();
    let mut inputs = Vec::new();
    assert!(
        procs::eventually(Duration::from_secs(20), || {
            inputs = logged_input(&received.lock().unwrap());
            inputs.len() >= 3
        }),
        "three usage records sent: {inputs:?}"
    );
    inputs.sort_unstable();
    assert_eq!(inputs, [30, 40, 100], "each event once, with its counts");

    let ledger = home
        .run(&["tokens", "summary", "--all", "--json"])
        .ok()
        .json();
    let total = ledger["total"]["tokens"]["input"].as_f64().unwrap();
    assert!(
        procs::eventually(Duration::from_secs(20), || {
            metric_input(&received.lock().unwrap()) == Some(total)
        }),
        "the metrics' input tokens reach the ledger's total {total}"
    );
    {
        let received = received.lock().unwrap();
        for body in &received.bodies {
            assert!(!body.contains("sk-otlp-never-leaves"), "no key: {body}");
            assert!(!body.contains("PROMPT-TEXT"), "no prompt: {body}");
        }
    }

    // The collector fails: usage waits in the ledger, is retried, and arrives once
    // it accepts again.
    received.lock().unwrap().refuse = true;
    let text = claude_line("m3", "claude-sonnet-4-5", 7, "2026-11-21T10:00:00Z");
    std::fs::write(
        home.user_home().join(".claude/projects/-app/later.jsonl"),
        text,
    )
    .unwrap();
    home.run(&["usage", "import", "claude"]).ok();
    assert!(
        procs::eventually(Duration::from_secs(30), || received.lock().unwrap().refused
            >= 2),
        "the exporter tries again after a failure"
    );
    assert!(!logged_input(&received.lock().unwrap()).contains(&7));
    received.lock().unwrap().refuse = false;
    assert!(
        procs::eventually(Duration::from_secs(30), || {
            logged_input(&received.lock().unwrap()).contains(&7)
        }),
        "the event recorded while the collector was down arrives after it is back"
    );
    let sevens = logged_input(&received.lock().unwrap())
        .iter()
        .filter(|n| **n == 7)
        .count();
    assert_eq!(sevens, 1, "and only once");

    // Down (its port closed) with usage waiting: the daemon still stops at once and
    // cleanly.
    drop(receiver);
    std::fs::write(
        home.user_home().join(".claude/projects/-app/last.jsonl"),
        claude_line("m4", "claude-sonnet-4-5", 9, "2026-11-22T10:00:00Z"),
    )
    .unwrap();
    home.run(&["usage", "import", "claude"]).ok();
    let started = std::time::Instant::now();
    let status = daemon.signal_and_wait("TERM");
    assert!(status.success(), "{status:?}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "stopped in {:?}",
        started.elapsed()
    );
}

#[test]
fn a_bad_collector_address_is_one_clear_line() {
    common::refused_setting(
        "AISWITCH_OTLP_ENDPOINT",
        "127.0.0.1:4318",
        "invalid setting otlp_endpoint \"127.0.0.1:4318\"",
    );
}
