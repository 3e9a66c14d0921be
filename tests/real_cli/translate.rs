//! Claude Code (which speaks only Anthropic Messages) on a provider that speaks only
//! Chat Completions: the gateway translates the request, the streamed answer and the
//! usage, so Claude Code prints the provider's reply and the ledger holds its bill.
//!
//! Named `real_cli_suite_*`: it runs with the real-CLI suite (`--test real_cli`).

use super::{CASES, CliHome, check, tail};
use crate::common::fake_provider::{Api, FakeProvider, Usage};

#[test]
fn real_cli_suite_claude_code_on_a_chat_completions_provider() {
    super::install();
    let case = CASES.iter().find(|c| c.agent == "claude").unwrap();
    let outcome = exercise(case);
    assert!(outcome.is_ok(), "{}", outcome.unwrap_err());
}

fn exercise(case: &super::Case) -> Result<(), String> {
    let home = CliHome::new(case);
    let provider = FakeProvider::start(Usage::default());
    let before = home.user_files();
    let url = format!("{}/v1", provider.url());
    let (code, _, err) = home.run(
        &[
            "add",
            "ds",
            "--kind",
            "openai",
            "--base-url",
            &url,
            "--model",
            "deepseek-chat",
            "--api-key",
            "-",
        ],
        Some("sk-chat-provider-key"),
    )?;
    check(code == 0, || format!("add failed: {err}"))?;
    let (code, out, err) = home.run(
        &[
            "run",
            "claude",
            "--preset",
            "ds",
            "--",
            "-p",
            "hi",
            "--output-format",
            "json",
        ],
        None,
    )?;
    check(code == 0, || {
        format!("`aiswitch run` exited {code}: {}", tail(&err))
    })?;
    let result: serde_json::Value = out
        .lines()
        .rev()
        .find_map(|l| serde_json::from_str(l).ok())
        .ok_or_else(|| format!("no JSON result: {}", tail(&out)))?;
    check(
        result["result"]
            .as_str()
            .is_some_and(|r| r.starts_with("FAKE_REPLY")),
        || format!("Claude Code did not print the provider's reply: {result}"),
    )?;
    let calls = provider.model_calls();
    check(
        !calls.is_empty() && calls.iter().all(|c| c.api == Api::OpenAiChat),
        || format!("the provider saw {calls:?}"),
    )?;
    check(
        calls
            .iter()
            .all(|c| c.auth.as_deref() == Some("bearer:sk-chat-provider-key")),
        || "the provider did not get the preset's key as a bearer token".into(),
    )?;
    let metered = home.gateway_requests()?;
    check(metered == calls.len() as u64, || {
        format!(
            "{} requests, the ledger has {metered} from the gateway",
            calls.len()
        )
    })?;
    check(home.user_files() == before, || "a user file changed".into())?;
    Ok(())
}
