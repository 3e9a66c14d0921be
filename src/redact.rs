//! Redaction of secrets in everything aiswitch shows, logs or exports.
//!
//! A secret is an API key, a token, the value of any env var whose name says KEY,
//! TOKEN, SECRET, PASSWORD, AUTH, CREDENTIAL or HEADER, or any value that looks like
//! one whatever its name (a bearer token, an `Authorization:` header, a key-shaped
//! string, a URL with a password). It is shown as `sk-…a1b2`: a few characters from
//! each end, or `…` alone when it is too short for that to be safe.

/// Words that make an env var name a secret, matched case-insensitively.
const SECRET_WORDS: [&str; 8] = [
    "KEY",
    "TOKEN",
    "SECRET",
    "PASSWORD",
    "PASSWD",
    "AUTH",
    "CREDENTIAL",
    "HEADER",
];

/// Prefixes of the API keys and tokens of common providers and forges.
const KEY_PREFIXES: [&str; 14] = [
    "sk-",
    "sk_",
    "rk_",
    "pk_live",
    "xai-",
    "AIza",
    "ghp_",
    "gho_",
    "ghs_",
    "github_pat_",
    "glpat-",
    "xoxb-",
    "xoxp-",
    "hf_",
];

/// True when the value of the env var `name` must be treated as a secret by its name
/// alone (what an export leaves out before looking at values).
pub fn is_secret_var(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    SECRET_WORDS.iter().any(|word| upper.contains(word))
}

/// True when env var `name` holding `value` must be treated as a secret: by its
/// name, or by a value that looks like a credential.
pub fn is_secret(name: &str, value: &str) -> bool {
    is_secret_var(name) || looks_secret(value)
}

/// True when `value` looks like a credential: a bearer token or `Authorization:`
/// header anywhere in it, a provider key prefix, a JWT, a URL carrying a password,
/// or a long random-looking token.
pub fn looks_secret(value: &str) -> bool {
    let lower = value.to_ascii_lowercase();
    if lower.contains("bearer ") || lower.contains("authorization:") || lower.contains("basic ") {
        return true;
    }
    let trimmed = value.trim();
    if KEY_PREFIXES
        .iter()
        .any(|p| trimmed.starts_with(p) && trimmed.len() >= p.len() + 8)
    {
        return true;
    }
    if trimmed.starts_with("eyJ") && trimmed.len() >= 24 && trimmed.contains('.') {
        return true;
    }
    if let Some((_, rest)) = trimmed.split_once("://") {
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        if authority.contains('@') || lower.contains("key=") || lower.contains("token=") {
            return true;
        }
        return false;
    }
    random_looking(trimmed)
}

/// 32 or more characters of letters, digits and `-_.+=` with no spaces or slashes,
/// mixing at least three of lower case, upper case and digits (a model name or a
/// word rarely does).
fn random_looking(value: &str) -> bool {
    if value.len() < 32
        || !value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.+=".contains(c))
    {
        return false;
    }
    let classes = [
        value.chars().any(|c| c.is_ascii_lowercase()),
        value.chars().any(|c| c.is_ascii_uppercase()),
        value.chars().any(|c| c.is_ascii_digit()),
    ];
    classes.iter().filter(|c| **c).count() >= 3
}

/// Shows `secret` as its first and last `reveal` characters around an ellipsis; a
/// secret shorter than `4 * reveal` characters is hidden whole.
pub fn redact(secret: &str, reveal: usize) -> String {
    let chars: Vec<char> = secret.chars().collect();
    if reveal == 0 || chars.len() < 4 * reveal {
        return "…".to_owned();
    }
    let head = reveal.min(3);
    let start: String = chars[..head].iter().collect();
    let end: String = chars[chars.len() - reveal..].iter().collect();
    format!("{start}…{end}")
}

/// Redacts `value` when env var `name` holding it is a secret (by name or by
/// value), and returns it unchanged otherwise.
pub fn redact_var(name: &str, value: &str, reveal: usize) -> String {
    if is_secret(name, value) {
        redact(value, reveal)
    } else {
        value.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_secret_keeps_both_ends() {
        assert_eq!(redact("sk-ant-0123456789a1b2", 4), "sk-…a1b2");
    }

    #[test]
    fn short_secret_is_hidden_whole() {
        assert_eq!(redact("hunter2", 4), "…");
        assert_eq!(redact("", 4), "…");
    }

    #[test]
    fn secret_names() {
        for name in [
            "OPENAI_API_KEY",
            "ANTHROPIC_AUTH_TOKEN",
            "db_password",
            "MY_SECRET",
        ] {
            assert!(is_secret_var(name), "{name}");
        }
        assert!(!is_secret_var("ANTHROPIC_BASE_URL"));
        assert!(is_secret_var("ANTHROPIC_CUSTOM_HEADERS"));
        assert!(is_secret_var("GOOGLE_APPLICATION_CREDENTIALS"));
        assert_eq!(redact_var("ANTHROPIC_MODEL", "claude", 4), "claude");
    }

    #[test]
    fn secrets_by_value() {
        for value in [
            "Authorization: Bearer sk-abc",
            "x-trace: 1\nAuthorization: Basic dXNlcjpwYXNz",
            "sk-ant-api03-0123456789",
            "AIzaSyD-0123456789abcdef",
            "ghp_0123456789abcdefABCDEF",
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig",
            "https://user:hunter2@proxy.example.com/v1",
            "https://api.example.com/v1?key=abc",
            "Zx81Kq0aP3mW7sT2vB9nC4dF6gH1jL5e",
        ] {
            assert!(looks_secret(value), "{value}");
        }
        for value in [
            "claude-sonnet-4-5-20250929",
            "https://api.deepseek.com/anthropic",
            "600000",
            "deepseek-ai/DeepSeek-V3.1-Terminus",
            "/usr/local/bin",
        ] {
            assert!(!looks_secret(value), "{value}");
        }
        assert_eq!(
            redact_var("X_EXTRA", "Authorization: Bearer sk-0123456789abcdef", 4),
            "Aut…cdef"
        );
    }
}
