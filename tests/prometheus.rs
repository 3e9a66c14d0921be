//! The opt-in Prometheus endpoint, scraped by a real Prometheus server (Debian's
//! `prometheus` package; `scripts/setup.sh` installs it): a PromQL query returns the
//! ledger's totals.

#![allow(clippy::unwrap_used)] // a test fails loudly on any unexpected error

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::daemon::Daemon;
use common::logs::{claude_line, write_claude_log};
use common::{Home, free_port, procs};

/// `GET path` on 127.0.0.1:`port`: the status and the body (None: not answering).
fn get(port: u16, path: &str) -> Option<(u16, String)> {
    get_as(&format!("127.0.0.1:{port}"), port, path)
}

/// `GET path` on 127.0.0.1:`port`, naming `host` in the `Host` header.
fn get_as(host: &str, port: u16, path: &str) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut text = String::new();
    stream.read_to_string(&mut text).ok()?;
    let status = text.split(' ').nth(1)?.parse().ok()?;
    let body = text.split_once("\r\n\r\n")?.1.to_owned();
    Some((status, body))
}

/// Percent-encodes a PromQL query for a URL.
fn encode(query: &str) -> String {
    query
        .bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A Prometheus server scraping `target` every second; killed when dropped.
struct Prometheus {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Prometheus {
    fn start(target: u16) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("prometheus.yml");
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: aiswitch\n    static_configs:\n      - targets: ['127.0.0.1:{target}']\n"
            ),
        )
        .unwrap();
        let port = free_port();
        let child = Command::new("prometheus")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("prometheus is installed (scripts/setup.sh installs Debian's package)");
        Self {
            child,
            port,
            _dir: dir,
        }
    }

    /// The value of an instant query's first sample, once there is one.
    fn query(&self, promql: &str) -> Option<f64> {
        let (status, body) = get(
            self.port,
            &format!("/api/v1/query?query={}", encode(promql)),
        )?;
        if status != 200 {
            return None;
        }
        let answer: serde_json::Value = serde_json::from_str(&body).ok()?;
        answer["data"]["result"][0]["value"][1]
            .as_str()?
            .parse()
            .ok()
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn a_real_prometheus_scrapes_the_ledgers_totals() {
    let home = Home::new();
    let text = claude_line("m1", "claude-sonnet-4-5", 100, "2026-11-02T10:00:00Z")
        + &claude_line("m2", "claude-sonnet-4-5", 30, "2026-11-20T10:00:00Z");
    write_claude_log(&home, &text);
    home.run(&["usage", "import", "claude"]).ok();
    let ledger = home
        .run(&["tokens", "summary", "--all", "--json"])
        .ok()
        .json();

    home.run(&["budget", "set", "--period", "month", "--limit-usd", "20"])
        .ok();
    let metrics = free_port();
    let listen = format!("127.0.0.1:{metrics}");
    let _daemon = Daemon::start(&home, &[("AISWITCH_METRICS_LISTEN", &listen)]);
    let mut page = String::new();
    assert!(
        procs::eventually(Duration::from_secs(10), || {
            get(metrics, "/metrics").is_some_and(|(status, body)| {
                page = body;
                status == 200
            })
        }),
        "the daemon serves /metrics on {listen}"
    );
    assert!(
        page.contains(
            r#"aiswitch_tokens_total{agent="claude",preset="",model="claude-sonnet-4-5",source="log_import",type="input"} 130"#
        ),
        "{page}"
    );

    assert!(
        page.contains(
            r#"aiswitch_budget_limit{budget="1",scope="global",period="month",unit="usd"} 20"#
        ),
        "{page}"
    );

    // A web page that pointed its own name at this machine (DNS rebinding) cannot
    // read the spending.
    let rebound = get_as(&format!("attacker.example:{metrics}"), metrics, "/metrics");
    assert_eq!(rebound.map(|(status, _)| status), Some(403));
    let by_name = get_as(&format!("localhost:{metrics}"), metrics, "/metrics");
    assert_eq!(by_name.map(|(status, _)| status), Some(200));

    let prometheus = Prometheus::start(metrics);
    let mut input = None;
    assert!(
        procs::eventually(Duration::from_secs(60), || {
            input = prometheus.query(r#"sum(aiswitch_tokens_total{type="input"})"#);
            input.is_some()
        }),
        "Prometheus never scraped the endpoint"
    );
    assert_eq!(
        input,
        ledger["total"]["tokens"]["input"].as_f64(),
        "PromQL's total is the ledger's"
    );
    let cost = prometheus.query("sum(aiswitch_cost_usd_total)").unwrap();
    let ledger_cost = ledger["total"]["cost_usd"].as_f64().unwrap();
    assert!((cost - ledger_cost).abs() < 1e-9, "{cost} vs {ledger_cost}");
}

#[test]
fn a_bad_metrics_address_is_one_clear_line() {
    common::refused_setting(
        "AISWITCH_METRICS_LISTEN",
        "localhost",
        "invalid setting metrics_listen \"localhost\"",
    );
}
