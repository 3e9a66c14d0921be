//! The dashboard's TypeScript types (ui/src/engine.svelte.ts) checked against what
//! the engine really sends: every field an interface requires is in the JSON of the
//! engine view it describes, so the page never reads a field that is not there.

#![allow(clippy::unwrap_used)] // a test fails loudly on any unexpected error

mod common;

use common::Home;
use serde_json::Value;

/// `interface name → required fields` of the UI's engine types.
fn interfaces() -> Vec<(String, Vec<String>)> {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/ui/src/engine.svelte.ts"
    ))
    .unwrap();
    let mut found = Vec::new();
    for part in text.split("export interface ").skip(1) {
        let (name, rest) = part.split_once('{').unwrap();
        // The body's top-level fields: `;` at depth 0 ends one (nested objects too).
        let (mut depth, mut fields, mut field) = (0, Vec::new(), String::new());
        for c in rest.chars() {
            match c {
                '{' => depth += 1,
                '}' if depth == 0 => break,
                '}' => depth -= 1,
                ';' if depth == 0 => fields.push(std::mem::take(&mut field)),
                _ => {}
            }
            if c != ';' || depth > 0 {
                field.push(c);
            }
        }
        fields.push(field);
        let required = fields
            .iter()
            .filter_map(|field| field.trim().split_once(':'))
            .map(|(name, _)| name.trim())
            .filter(|name| !name.is_empty() && !name.ends_with('?'))
            .map(str::to_owned)
            .collect();
        found.push((name.trim().to_owned(), required));
    }
    found
}

fn check(interface: &str, json: &Value) {
    let (_, fields) = interfaces()
        .into_iter()
        .find(|(name, _)| name == interface)
        .unwrap_or_else(|| panic!("no interface {interface}"));
    let object = json
        .as_object()
        .unwrap_or_else(|| panic!("{interface}: not an object: {json}"));
    assert!(!fields.is_empty(), "{interface} declares no fields");
    for field in fields {
        assert!(
            object.contains_key(&field),
            "{interface}.{field} is not in what the engine sends: {json}"
        );
    }
}

#[test]
fn the_dashboards_types_match_the_engines_json() {
    let home = Home::new();
    home.add_secret_preset("p", "sk-types-0123456789abcdef");
    std::fs::create_dir_all(home.root().join("work")).unwrap();
    home.run(&[
        "budget",
        "set",
        "--scope",
        "global",
        "--period",
        "day",
        "--limit-tokens",
        "10",
        "--thresholds",
        "50",
    ])
    .ok();
    let work = home.root().join("work");
    home.run(&[
        "apply",
        "p",
        "--agents",
        "aiswitch-agent",
        "--task",
        "hi",
        "--workdir",
        work.to_str().unwrap(),
        "--coordination-mode",
        "loose",
    ])
    .ok();

    // A quota window, read by the gateway from a provider's headers.
    let provider = common::fake_provider::FakeProvider::start(Default::default());
    provider.set_headers(&[("anthropic-ratelimit-unified-5h-utilization", "0.3")]);
    home.call_through_gateway("q", &provider.url());
    let limits = home.run(&["limits", "--json"]).ok().json();
    check("QuotaWindow", &limits["windows"][0]);

    let agents = home.run(&["agents", "list", "--json"]).ok().json();
    check("AgentInfo", &agents["agents"][0]);
    let presets = home.run(&["list", "--json"]).ok().json();
    check("Preset", &presets["presets"][0]);
    let tasks = home.run(&["tasks", "list", "--json"]).ok().json();
    check("TaskRow", &tasks["tasks"][0]);
    let budgets = home.run(&["budget", "list", "--json"]).ok().json();
    check("Budget", &budgets["budgets"][0]);
    let alerts = home.run(&["alerts", "list", "--json"]).ok().json();
    check("Alert", &alerts["alerts"][0]);
    let usage = home.run(&["tokens", "summary", "--json"]).ok().json();
    check("Tokens", &usage["total"]["tokens"]);
}
