//! Redaction of secrets in everything aiswitch shows, logs or exports.
//!
//! A secret is an API key, a token, or the value of any env var whose name says KEY,
//! TOKEN, SECRET or PASSWORD. It is shown as `sk-…a1b2`: a few characters from each
//! end, or `…` alone when it is too short for that to be safe.

/// Words that make an env var name a secret, matched case-insensitively.
const SECRET_WORDS: [&str; 4] = ["KEY", "TOKEN", "SECRET", "PASSWORD"];

/// True when the value of the env var `name` must be treated as a secret.
pub fn is_secret_var(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    SECRET_WORDS.iter().any(|word| upper.contains(word))
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

/// Redacts `value` when the env var `name` is a secret, and returns it unchanged
/// otherwise.
pub fn redact_var(name: &str, value: &str, reveal: usize) -> String {
    if is_secret_var(name) {
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
        assert_eq!(redact_var("ANTHROPIC_MODEL", "claude", 4), "claude");
    }
}
