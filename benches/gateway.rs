//! The provider gateway's cost: a real `aiswitch daemon` process serves a launch's
//! requests (a lease from `gateway.lease`, as `aiswitch run` gets one) to a zero-cost
//! local upstream that answers Anthropic Messages at once. Measured against calling
//! the upstream directly, with 8 KB request bodies, on keep-alive connections:
//! added latency p50/p99 at concurrency 1, throughput at concurrency 16, the daemon's
//! peak RSS under that load, and the added time to the first byte of a stream.
//! Other proxies can be measured the same way: `-- --proxy NAME=URL` (their URL
//! forwards to the upstream printed at start; scripts/bench-gateway.sh sets up
//! claude-code-router and LiteLLM).
//!
//! `cargo bench --bench gateway` (options: `-- --requests N --seconds S
//! --upstream-port P --proxy NAME=URL`).
#![allow(missing_docs, clippy::unwrap_used)]

#[path = "support/mod.rs"]
mod support;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};

const BIN: &str = env!("CARGO_BIN_EXE_aiswitch");
const KEY: &str = "sk-bench-upstream-key-0123456789";

type HttpClient = Client<HttpConnector, Full<Bytes>>;

/// A proxy (or the upstream itself) and the credential it wants.
struct Target {
    name: String,
    url: String,
    key: String,
}

fn main() {
    let requests = support::arg("--requests", 3000) as usize;
    let seconds = support::arg("--seconds", 5);
    let extra: Vec<(String, String)> = std::env::args()
        .collect::<Vec<_>>()
        .windows(2)
        .filter(|w| w[0] == "--proxy")
        .filter_map(|w| {
            w[1].split_once('=')
                .map(|(n, u)| (n.to_owned(), u.to_owned()))
        })
        .collect();
    let upstream = start_upstream(support::arg("--upstream-port", 0) as u16);
    eprintln!("upstream: http://{upstream}");

    // The daemon, a preset pointing at the upstream, and a lease for this process.
    let home = tempfile::tempdir().unwrap();
    let mut add = support::command(
        BIN,
        home.path(),
        &[
            "add",
            "up",
            "--kind",
            "anthropic",
            "--base-url",
            &format!("http://{upstream}"),
            "--model",
            "m",
            "--api-key",
            "-",
        ],
    );
    add.stdin(std::process::Stdio::piped());
    let mut child = add.spawn().unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), KEY.as_bytes()).unwrap();
    assert!(child.wait().unwrap().success());
    let (mut daemon, socket) = support::start_daemon(BIN, home.path());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let route = rt.block_on(async {
        let client = aiswitch::control::ControlClient::connect(&socket).await.unwrap();
        client
            .call(
                "gateway.lease",
                Some(serde_json::json!({"agent": "claude", "preset": "up", "pid": std::process::id()})),
            )
            .await
            .unwrap()
    });
    let mut targets = vec![
        Target {
            name: "direct (no proxy)".into(),
            url: format!("http://{upstream}"),
            key: KEY.into(),
        },
        Target {
            name: "aiswitch gateway".into(),
            url: route["url"].as_str().unwrap().to_owned(),
            key: route["token"].as_str().unwrap().to_owned(),
        },
    ];
    targets.extend(extra.into_iter().map(|(name, url)| Target {
        name,
        url,
        key: KEY.into(),
    }));

    let body = Bytes::from(request_body(false));
    let stream_body = Bytes::from(request_body(true));
    println!("| target | p50 c=1 | p99 c=1 | req/s c=16 | TTFB stream p50 |");
    println!("|---|---|---|---|---|");
    // Each target on its own (the others idle), after all were warmed up; the
    // direct calls are measured first and again last, and the gateway's cost is
    // taken against the better of the two.
    let client = client();
    rt.block_on(async {
        for target in &targets {
            for _ in 0..500 {
                call(&client, target, body.clone()).await;
            }
        }
    });
    let mut order: Vec<usize> = (0..targets.len()).collect();
    order.push(0);
    let mut rows: Vec<(Duration, Duration, Duration)> = vec![Default::default(); targets.len()];
    for (phase, &i) in order.iter().enumerate() {
        let target = &targets[i];
        let (row, rps) = rt.block_on(async {
            let mut times = Vec::with_capacity(requests);
            for _ in 0..requests {
                let started = Instant::now();
                call(&client, target, body.clone()).await;
                times.push(started.elapsed());
            }
            times.sort();
            let mut firsts = Vec::with_capacity(requests / 4);
            for _ in 0..requests / 4 {
                firsts.push(first_byte(&client, target, stream_body.clone()).await);
            }
            firsts.sort();
            let rps = throughput(&client, target, &body, Duration::from_secs(seconds)).await;
            let row = (
                support::percentile(&times, 50.0),
                support::percentile(&times, 99.0),
                support::percentile(&firsts, 50.0),
            );
            (row, rps)
        });
        let again = phase > 0 && i == 0;
        println!(
            "| {}{} | {} | {} | {:.0} | {} |",
            target.name,
            if again { ", again" } else { "" },
            support::fmt(row.0),
            support::fmt(row.1),
            rps,
            support::fmt(row.2)
        );
        rows[i] = if again {
            (
                rows[0].0.min(row.0),
                rows[0].1.min(row.1),
                rows[0].2.min(row.2),
            )
        } else {
            row
        };
    }
    let rss = peak_rss_kib(daemon.id());
    let direct = rows[0];
    let added =
        |a: Duration, b: Duration| format!("{:+.1} µs", (a.as_secs_f64() - b.as_secs_f64()) * 1e6);
    println!();
    for (i, target) in targets.iter().enumerate().skip(1) {
        println!(
            "{} adds: p50 {}, p99 {}, stream first byte {}",
            target.name,
            added(rows[i].0, direct.0),
            added(rows[i].1, direct.1),
            added(rows[i].2, direct.2),
        );
    }
    println!(
        "aiswitch daemon peak RSS under that load: {:.1} MiB",
        rss as f64 / 1024.0
    );
    let _ = daemon.kill();
    let _ = daemon.wait();
}

/// An Anthropic Messages request of about 8 KB.
fn request_body(stream: bool) -> Vec<u8> {
    let padding = "lorem ipsum dolor sit amet ".repeat(300);
    serde_json::to_vec(&serde_json::json!({
        "model": "m", "max_tokens": 64, "stream": stream,
        "messages": [{"role": "user", "content": padding}]
    }))
    .unwrap()
}

fn client() -> HttpClient {
    let mut http = HttpConnector::new();
    http.set_nodelay(true);
    Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(64)
        .build(http)
}

fn request(target: &Target, body: Bytes) -> Request<Full<Bytes>> {
    Request::post(format!("{}/v1/messages", target.url))
        .header("content-type", "application/json")
        .header("anthropic-version", "2023-06-01")
        .header("x-api-key", &target.key)
        .body(Full::new(body))
        .unwrap()
}

async fn call(client: &HttpClient, target: &Target, body: Bytes) {
    let response = client.request(request(target, body)).await.unwrap();
    assert!(
        response.status().is_success(),
        "{}: {}",
        target.name,
        response.status()
    );
    response.into_body().collect().await.unwrap();
}

async fn first_byte(client: &HttpClient, target: &Target, body: Bytes) -> Duration {
    let started = Instant::now();
    let response = client.request(request(target, body)).await.unwrap();
    let mut body = response.into_body();
    let first = loop {
        match body.frame().await {
            Some(Ok(frame)) if frame.data_ref().is_some_and(|d| !d.is_empty()) => {
                break started.elapsed();
            }
            Some(Ok(_)) => {}
            _ => break started.elapsed(),
        }
    };
    while body.frame().await.is_some() {}
    first
}

async fn throughput(client: &HttpClient, target: &Target, body: &Bytes, length: Duration) -> f64 {
    let done = Arc::new(AtomicU64::new(0));
    let until = Instant::now() + length;
    let workers: Vec<_> = (0..16)
        .map(|_| {
            let (client, done, body) = (client.clone(), done.clone(), body.clone());
            let target = Target {
                name: target.name.clone(),
                url: target.url.clone(),
                key: target.key.clone(),
            };
            tokio::spawn(async move {
                while Instant::now() < until {
                    call(&client, &target, body.clone()).await;
                    done.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    for w in workers {
        w.await.unwrap();
    }
    done.load(Ordering::Relaxed) as f64 / length.as_secs_f64()
}

/// Peak resident memory of a process (VmHWM), KiB.
fn peak_rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// The zero-cost upstream: answers every Messages call at once (a JSON body, or a
/// short SSE stream when asked to stream), on a thread and runtime of its own.
fn start_upstream(port: u16) -> SocketAddr {
    let listener = std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let _ = stream.set_nodelay(true);
                tokio::spawn(async move {
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), hyper::service::service_fn(answer))
                        .await;
                });
            }
        });
    });
    addr
}

async fn answer(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let body = req
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let stream = body.windows(13).any(|w| w == b"\"stream\":true");
    let usage = r#"{"input_tokens":2100,"output_tokens":12,"cache_read_input_tokens":0}"#;
    let response = if stream {
        let events = format!(
            "event: message_start\ndata: {{\"type\":\"message_start\",\"message\":{{\"model\":\"m\",\"usage\":{usage}}}}}\n\n\
             event: content_block_delta\ndata: {{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{{\"type\":\"text_delta\",\"text\":\"ok\"}}}}\n\n\
             event: message_delta\ndata: {{\"type\":\"message_delta\",\"usage\":{{\"output_tokens\":12}}}}\n\n\
             event: message_stop\ndata: {{\"type\":\"message_stop\"}}\n\n"
        );
        Response::builder()
            .header("content-type", "text/event-stream")
            .body(Full::new(Bytes::from(events)))
    } else {
        let json = format!(
            r#"{{"id":"msg","type":"message","role":"assistant","model":"m","content":[{{"type":"text","text":"ok"}}],"stop_reason":"end_turn","usage":{usage}}}"#
        );
        Response::builder()
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(json)))
    };
    Ok(response.unwrap())
}
