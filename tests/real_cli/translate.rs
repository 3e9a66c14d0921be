//! Claude Code (which speaks only Anthropic Messages) on a provider that speaks only
//! Chat Completions: the gateway translates the request, the streamed answer and the
//! usage, so Claude Code prints the provider's reply and the ledger holds its bill.
//!
//! Named `real_cli_suite_*`: it runs with the real-CLI suite (`--test real_cli`).

use super::{CliHome, check, tail};
use crate::common::fake_provider::{Api, FakeProvider, Usage};

/// Preset `ds`: the fake provider's Chat Completions endpoint, with a key.
fn add_chat_preset(home: &CliHome, provider: &FakeProvider) -> Result<(), String> {
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
    check(code == 0, || format!("add failed: {err}"))
}

#[test]
fn real_cli_suite_claude_code_on_a_chat_completions_provider() {
    super::with_cli("claude", exercise);
}

fn exercise(case: &super::Case) -> Result<(), String> {
    let home = CliHome::new(case);
    let provider = FakeProvider::start(Usage::default());
    let before = home.user_files();
    add_chat_preset(&home, &provider)?;
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
    home.check_metered(calls.len())?;
    check(home.user_files() == before, || "a user file changed".into())?;
    Ok(())
}

#[test]
fn real_cli_suite_codex_on_a_provider_without_the_responses_api() {
    super::with_cli("codex", codex_on_chat);
}

/// Codex speaks only the Responses API; a provider with only Chat Completions answers
/// it 404, and the gateway sends it again translated (and from then on at once).
fn codex_on_chat(case: &super::Case) -> Result<(), String> {
    let home = CliHome::new(case);
    let provider = FakeProvider::start(Usage::default());
    provider.only_chat();
    add_chat_preset(&home, &provider)?;
    for _ in 0..2 {
        home.run_replying(&[
            "run",
            "codex",
            "--preset",
            "ds",
            "--",
            "exec",
            "--json",
            "--skip-git-repo-check",
            "hi",
        ])?;
    }
    let calls = provider.model_calls();
    let refused = provider.refused();
    let chat = calls.iter().filter(|c| c.api == Api::OpenAiChat).count();
    check(refused == 1 && chat == calls.len() && chat >= 2, || {
        format!("expected one refused Responses call, then Chat only: {refused} and {chat}")
    })?;
    home.check_metered(chat)?;
    Ok(())
}

#[test]
fn real_cli_suite_codex_on_an_anthropic_provider() {
    super::with_cli("codex", codex_on_anthropic);
}

/// Codex (Responses only) on a provider that speaks only Anthropic Messages (Kimi's,
/// GLM's or DeepSeek's Anthropic endpoint): translated by way of Chat Completions.
fn codex_on_anthropic(case: &super::Case) -> Result<(), String> {
    let home = CliHome::new(case);
    let provider = FakeProvider::start(Usage::default());
    let (code, _, err) = home.run(
        &[
            "add",
            "kimi",
            "--kind",
            "anthropic",
            "--base-url",
            &provider.url(),
            "--model",
            "kimi-k2",
            "--api-key",
            "-",
        ],
        Some("sk-anthropic-provider-key"),
    )?;
    check(code == 0, || format!("add failed: {err}"))?;
    home.run_replying(&[
        "run",
        "codex",
        "--preset",
        "kimi",
        "--",
        "exec",
        "--json",
        "--skip-git-repo-check",
        "hi",
    ])?;
    let calls = provider.model_calls();
    check(
        !calls.is_empty() && calls.iter().all(|c| c.api == Api::AnthropicMessages),
        || format!("the provider saw {calls:?}"),
    )?;
    check(
        calls
            .iter()
            .all(|c| c.auth.as_deref() == Some("x-api-key:sk-anthropic-provider-key")),
        || format!("the key did not go in x-api-key: {:?}", calls[0].auth),
    )?;
    home.check_metered(calls.len())?;
    Ok(())
}
