//! Codex signed in with a ChatGPT plan (no key in the preset) through the gateway: its
//! own credential reaches the provider untouched, the request is metered, and the
//! plan's windows (`x-codex-primary/secondary-*`) show in `aiswitch limits`.
//!
//! Named `real_cli_suite_*`: it runs with the real-CLI suite (`--test real_cli`),
//! which installs the CLIs, not with the core tests.

use super::{CliHome, check, tail};
use crate::common::fake_provider::{FakeProvider, Usage};

/// A ChatGPT sign-in as Codex keeps it in `~/.codex/auth.json`. Codex reads the
/// token's claims (plan, account) without checking a signature; it expires in 2100.
const TOKEN: &str = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJlbWFpbCI6InVzZXJAZXhhbXBsZS5jb20iLCJleHAiOjQxMDI0NDQ4MDAsImh0dHBzOi8vYXBpLm9wZW5haS5jb20vYXV0aCI6eyJjaGF0Z3B0X3BsYW5fdHlwZSI6InBsdXMiLCJjaGF0Z3B0X2FjY291bnRfaWQiOiJhY2MtdGVzdCJ9fQ.sig";

#[test]
fn real_cli_suite_codex_chatgpt_login_goes_through_the_gateway() {
    super::with_cli("codex", exercise);
}

fn exercise(case: &super::Case) -> Result<(), String> {
    let home = CliHome::new(case);
    let provider = FakeProvider::start(Usage::default());
    provider.set_headers(&[
        ("x-codex-primary-used-percent", "42"),
        ("x-codex-primary-window-minutes", "300"),
        ("x-codex-primary-reset-after-seconds", "3600"),
        ("x-codex-secondary-used-percent", "9"),
        ("x-codex-secondary-window-minutes", "10080"),
    ]);
    // Refreshed just now, so Codex does not try to refresh it.
    let auth = serde_json::json!({
        "OPENAI_API_KEY": null,
        "tokens": {"id_token": TOKEN, "access_token": TOKEN, "refresh_token": "rt-test", "account_id": "acc-test"},
        "last_refresh": jiff::Timestamp::now().to_string(),
    })
    .to_string();
    let auth_file = home.user().join(".codex/auth.json");
    std::fs::create_dir_all(auth_file.parent().unwrap()).unwrap();
    std::fs::write(&auth_file, &auth).unwrap();
    let before = home.user_files();

    let url = format!("{}/v1", provider.url());
    let (code, _, err) = home.run(
        &[
            "add",
            "plus",
            "--kind",
            "openai",
            "--base-url",
            &url,
            "--model",
            "gpt-fake",
        ],
        None,
    )?;
    check(code == 0, || format!("add failed: {err}"))?;
    let (code, out, err) = home.run(
        &[
            "agents", "check", "codex", "--preset", "plus", "--prompt", "hi",
        ],
        None,
    )?;
    check(code == 0, || {
        format!("agents check exited {code}: {}", tail(&err))
    })?;
    check(out.contains("(metered by the gateway)"), || {
        format!("not metered by the gateway: {out}")
    })?;

    let calls = provider.model_calls();
    check(!calls.is_empty(), || {
        "no request reached the provider".into()
    })?;
    for call in &calls {
        check(
            call.auth.as_deref() == Some(&format!("bearer:{TOKEN}")[..]),
            || {
                format!(
                    "the ChatGPT sign-in did not pass untouched: {:?}",
                    call.auth
                )
            },
        )?;
        check(call.uri.starts_with("/v1/responses"), || {
            format!("the request went to {}", call.uri)
        })?;
    }
    home.check_metered(calls.len())?;

    let (_, limits, _) = home.run(&["--json", "limits"], None)?;
    let limits: serde_json::Value = serde_json::from_str(&limits).map_err(|e| e.to_string())?;
    let used = |window: &str| {
        limits["windows"]
            .as_array()
            .and_then(|w| {
                w.iter()
                    .find(|w| w["preset"] == "plus" && w["window"] == window)
            })
            .and_then(|w| w["used_percent"].as_f64())
    };
    check(
        used("primary") == Some(42.0) && used("secondary") == Some(9.0),
        || format!("the plan's windows are not seen: {limits}"),
    )?;

    check(home.user_files() == before, || "a user file changed".into())?;
    check(std::fs::read_to_string(&auth_file).unwrap() == auth, || {
        "Codex's sign-in file changed".into()
    })?;
    Ok(())
}

#[test]
fn real_cli_suite_gemini_google_login_goes_through_the_gateway() {
    super::with_cli("gemini", gemini);
}

/// Gemini CLI signed in with Google (here its access-token sign-in,
/// `GOOGLE_GENAI_USE_GCA` with `GOOGLE_CLOUD_ACCESS_TOKEN` in the preset, as a cached
/// login needs Google's token check online) talks to Code Assist at the preset's base URL through
/// the gateway: its own token passes untouched and each answer is metered.
fn gemini(case: &super::Case) -> Result<(), String> {
    let home = CliHome::new(case);
    let provider = FakeProvider::start(Usage::default());
    let (code, _, err) = home.run(
        &[
            "add",
            "google",
            "--kind",
            "gemini",
            "--base-url",
            &provider.url(),
            "--model",
            "gemini-2.5-pro",
            "GOOGLE_GENAI_USE_GCA",
            "true",
            "GOOGLE_CLOUD_ACCESS_TOKEN",
            "ya29.user-own-google-token",
        ],
        None,
    )?;
    check(code == 0, || format!("add failed: {err}"))?;
    let settings = home.user().join(".gemini/settings.json");
    std::fs::create_dir_all(settings.parent().unwrap()).unwrap();
    std::fs::write(
        &settings,
        r#"{"security":{"auth":{"selectedType":"oauth-personal"}}}"#,
    )
    .unwrap();
    home.run_replying(&["run", "gemini-print", "--preset", "google", "--", "hi"])?;
    let calls = provider.model_calls();
    check(
        !calls.is_empty() && calls.iter().all(|c| c.uri.starts_with("/v1internal:")),
        || format!("not Code Assist: {calls:?}"),
    )?;
    check(
        calls
            .iter()
            .all(|c| c.auth.as_deref() == Some("bearer:ya29.user-own-google-token")),
        || {
            format!(
                "the Google sign-in did not pass untouched: {:?}",
                calls[0].auth
            )
        },
    )?;
    home.check_metered(calls.len())?;
    // Code Assist's per-model quota, which Gemini CLI asks for, shows as a window.
    let (_, limits, _) = home.run(&["--json", "limits"], None)?;
    let limits: serde_json::Value = serde_json::from_str(&limits).map_err(|e| e.to_string())?;
    let pro = limits["windows"]
        .as_array()
        .and_then(|w| w.iter().find(|w| w["window"] == "gemini-2.5-pro"))
        .cloned()
        .unwrap_or_default();
    check(
        pro["used_percent"] == 25.0 && pro["preset"] == "google",
        || format!("Gemini's quota is not seen: {limits}"),
    )?;
    Ok(())
}
