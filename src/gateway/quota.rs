//! Quota windows read from the rate-limit headers every provider response carries:
//! Anthropic's subscription windows (`anthropic-ratelimit-unified-{5h,7d}-*`) and
//! per-minute limits (`anthropic-ratelimit-{requests,tokens,...}-*`), Codex's
//! (`x-codex-{primary,secondary}-*`) and OpenAI's (`x-ratelimit-*`).

use hyper::HeaderMap;
use serde::{Deserialize, Serialize};

/// One window's state as the latest response told it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuotaWindow {
    /// The window's name: `5h`, `7d`, `primary`, `secondary`, `requests`,
    /// `tokens`, `input-tokens`, `output-tokens`.
    pub window: String,
    /// How much of it is used, 0–100.
    pub used_percent: f64,
    /// When it resets, ms since the epoch.
    pub resets_at_ms: Option<i64>,
    /// Its length in minutes, where known.
    pub window_minutes: Option<u64>,
    /// The provider's word for it (`allowed`, `allowed_warning`, `rejected`).
    pub status: Option<String>,
}

impl QuotaWindow {
    /// True when the window is used up: at 100 %, or the provider says it refuses.
    pub fn exhausted(&self) -> bool {
        self.used_percent >= 100.0 || self.status.as_deref() == Some("rejected")
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

fn number(headers: &HeaderMap, name: &str) -> Option<f64> {
    header(headers, name)?
        .parse()
        .ok()
        .filter(|v: &f64| v.is_finite())
}

/// The per-model quotas Code Assist answers `retrieveUserQuota` with (what Gemini CLI
/// signed in with Google shows): each bucket's used share and reset, named after its
/// model.
pub fn code_assist_windows(body: &[u8]) -> Vec<QuotaWindow> {
    let Ok(quota) = serde_json::from_slice::<serde_json::Value>(body) else {
        return Vec::new();
    };
    quota["buckets"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|bucket| {
            let model = bucket["modelId"].as_str()?;
            let remaining = bucket["remainingFraction"].as_f64()?;
            Some(QuotaWindow {
                window: model.to_owned(),
                used_percent: ((1.0 - remaining) * 100.0).clamp(0.0, 100.0),
                resets_at_ms: bucket["resetTime"]
                    .as_str()
                    .and_then(|t| t.parse::<jiff::Timestamp>().ok())
                    .map(jiff::Timestamp::as_millisecond),
                window_minutes: None,
                status: None,
            })
        })
        .collect()
}

/// Every window the headers describe, at `now_ms`.
pub fn windows(headers: &HeaderMap, now_ms: i64) -> Vec<QuotaWindow> {
    let mut found = Vec::new();
    for (window, minutes) in [("5h", 300), ("7d", 7 * 24 * 60)] {
        let prefix = format!("anthropic-ratelimit-unified-{window}");
        let Some(fraction) = number(headers, &format!("{prefix}-utilization")) else {
            continue;
        };
        found.push(QuotaWindow {
            window: window.to_owned(),
            used_percent: fraction * 100.0,
            resets_at_ms: number(headers, &format!("{prefix}-reset")).map(|s| (s * 1000.0) as i64),
            window_minutes: Some(minutes),
            status: header(headers, &format!("{prefix}-status")).map(str::to_owned),
        });
    }
    for window in ["primary", "secondary"] {
        let prefix = format!("x-codex-{window}");
        let Some(used) = number(headers, &format!("{prefix}-used-percent")) else {
            continue;
        };
        let resets_at_ms = number(headers, &format!("{prefix}-reset-at"))
            .map(|s| (s * 1000.0) as i64)
            .or_else(|| {
                number(headers, &format!("{prefix}-reset-after-seconds"))
                    .map(|s| now_ms + (s * 1000.0) as i64)
            });
        found.push(QuotaWindow {
            window: window.to_owned(),
            used_percent: used,
            resets_at_ms,
            window_minutes: number(headers, &format!("{prefix}-window-minutes")).map(|m| m as u64),
            status: None,
        });
    }
    for kind in ["requests", "tokens", "input-tokens", "output-tokens"] {
        // Anthropic: anthropic-ratelimit-K-{limit,remaining,reset (RFC 3339)};
        // OpenAI: x-ratelimit-{limit,remaining,reset}-K (reset as `6m0s`).
        let anthropic = (
            number(headers, &format!("anthropic-ratelimit-{kind}-limit")),
            number(headers, &format!("anthropic-ratelimit-{kind}-remaining")),
        );
        let openai = (
            number(headers, &format!("x-ratelimit-limit-{kind}")),
            number(headers, &format!("x-ratelimit-remaining-{kind}")),
        );
        let (limit, remaining, resets_at_ms) = match (anthropic, openai) {
            ((Some(l), Some(r)), _) => (
                l,
                r,
                header(headers, &format!("anthropic-ratelimit-{kind}-reset"))
                    .and_then(|t| t.parse::<jiff::Timestamp>().ok())
                    .map(|t| t.as_millisecond()),
            ),
            (_, (Some(l), Some(r))) => (
                l,
                r,
                header(headers, &format!("x-ratelimit-reset-{kind}"))
                    .and_then(duration_ms)
                    .map(|ms| now_ms + ms),
            ),
            _ => continue,
        };
        if limit <= 0.0 {
            continue;
        }
        found.push(QuotaWindow {
            window: kind.to_owned(),
            used_percent: ((limit - remaining) / limit * 100.0).clamp(0.0, 100.0),
            resets_at_ms,
            window_minutes: Some(1),
            status: None,
        });
    }
    found
}

/// A Go-style duration as OpenAI sends it (`6m0s`, `1.5s`, `20ms`, `1h2m`), in ms.
fn duration_ms(text: &str) -> Option<i64> {
    let mut total = 0.0;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let value: f64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        total += value
            * match &rest[..unit] {
                "ms" => 1.0,
                "s" => 1_000.0,
                "m" => 60_000.0,
                "h" => 3_600_000.0,
                _ => return None,
            };
        rest = &rest[unit..];
    }
    Some(total as i64)
}

#[cfg(test)]
mod tests {
    use hyper::header::{HeaderName, HeaderValue};

    use super::*;

    #[test]
    fn code_assist_buckets_become_windows_per_model() {
        let answer = br#"{"buckets":[{"modelId":"gemini-2.5-pro","remainingFraction":0.75,"resetTime":"2026-12-03T08:00:00Z"},{"modelId":"gemini-2.5-flash"}]}"#;
        let windows = code_assist_windows(answer);
        assert_eq!(windows.len(), 1, "a bucket without a fraction says nothing");
        assert_eq!(windows[0].window, "gemini-2.5-pro");
        assert!((windows[0].used_percent - 25.0).abs() < 1e-9);
        assert_eq!(windows[0].resets_at_ms, Some(1_796_284_800_000));
        assert!(code_assist_windows(b"not json").is_empty());
    }

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(k, v)| {
                (
                    HeaderName::from_bytes(k.as_bytes()).expect("name"),
                    HeaderValue::from_str(v).expect("value"),
                )
            })
            .collect()
    }

    #[test]
    fn claude_subscription_windows() {
        let h = headers(&[
            ("anthropic-ratelimit-unified-5h-utilization", "0.62"),
            ("anthropic-ratelimit-unified-5h-reset", "1764600300"),
            ("anthropic-ratelimit-unified-5h-status", "allowed_warning"),
            ("anthropic-ratelimit-unified-7d-utilization", "0.1"),
        ]);
        let w = windows(&h, 0);
        assert_eq!(w.len(), 2);
        assert_eq!(w[0].window, "5h");
        assert!((w[0].used_percent - 62.0).abs() < 1e-9);
        assert_eq!(w[0].resets_at_ms, Some(1_764_600_300_000));
        assert_eq!(w[0].status.as_deref(), Some("allowed_warning"));
        assert_eq!(w[1].window_minutes, Some(10_080));
    }

    #[test]
    fn codex_and_openai_windows() {
        let h = headers(&[
            ("x-codex-primary-used-percent", "23.5"),
            ("x-codex-primary-window-minutes", "300"),
            ("x-codex-primary-reset-after-seconds", "60"),
            ("x-ratelimit-limit-requests", "500"),
            ("x-ratelimit-remaining-requests", "375"),
            ("x-ratelimit-reset-requests", "6m0s"),
        ]);
        let w = windows(&h, 1_000);
        assert_eq!(w[0].window, "primary");
        assert_eq!(
            (w[0].window_minutes, w[0].resets_at_ms),
            (Some(300), Some(61_000))
        );
        assert_eq!(w[1].window, "requests");
        assert!((w[1].used_percent - 25.0).abs() < 1e-9);
        assert_eq!(w[1].resets_at_ms, Some(361_000));
    }

    #[test]
    fn durations_and_nonsense() {
        assert_eq!(duration_ms("1.5s"), Some(1_500));
        assert_eq!(duration_ms("20ms"), Some(20));
        assert_eq!(duration_ms("1h2m"), Some(3_720_000));
        assert_eq!(duration_ms("soon"), None);
        assert!(
            windows(
                &headers(&[
                    ("x-ratelimit-limit-requests", "0"),
                    ("x-ratelimit-remaining-requests", "0")
                ]),
                0
            )
            .is_empty()
        );
    }
}
