//! The preset type and the validated names it is built from.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::PresetError;
use crate::{escape, redact};

/// Longest preset name accepted, in characters.
pub const MAX_NAME_LEN: usize = 64;

/// A preset name: 1–64 characters of letters, digits, `.`, `_` and `-`, not starting
/// with a dot, so it is always a safe file name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PresetName(String);

impl PresetName {
    /// Validates `name`.
    pub fn parse(name: &str) -> Result<Self, PresetError> {
        let invalid = |reason: String| PresetError::InvalidName {
            name: name.to_owned(),
            reason,
        };
        if name.is_empty() {
            return Err(invalid("it is empty".into()));
        }
        if name.chars().count() > MAX_NAME_LEN {
            return Err(invalid(format!(
                "it is longer than {MAX_NAME_LEN} characters"
            )));
        }
        if name.starts_with('.') {
            return Err(invalid("it starts with a dot".into()));
        }
        if let Some(c) = name
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
        {
            return Err(invalid(format!("it contains {c:?}")));
        }
        Ok(Self(name.to_owned()))
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for PresetName {
    type Error = PresetError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<PresetName> for String {
    fn from(name: PresetName) -> Self {
        name.0
    }
}

impl FromStr for PresetName {
    type Err = PresetError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for PresetName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An environment variable name: a letter or `_`, then letters, digits and `_`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EnvVarName(String);

impl EnvVarName {
    /// Validates `name`.
    pub fn parse(name: &str) -> Result<Self, PresetError> {
        let mut chars = name.chars();
        let first_ok = chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
        if first_ok && chars.all(|c| c.is_ascii_alphanumeric() || c == '_') {
            Ok(Self(name.to_owned()))
        } else {
            Err(PresetError::InvalidEnvName {
                name: name.to_owned(),
            })
        }
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for EnvVarName {
    type Error = PresetError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<EnvVarName> for String {
    fn from(name: EnvVarName) -> Self {
        name.0
    }
}

impl fmt::Display for EnvVarName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Which API family a preset's provider speaks.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    /// Anthropic Messages API (Anthropic, and the Anthropic-compatible endpoints of
    /// DeepSeek, Kimi, GLM, OpenRouter...).
    Anthropic,
    /// OpenAI Responses / Chat Completions API and compatible providers.
    Openai,
    /// Google Gemini API.
    Gemini,
    /// Anything else: only the preset's raw env vars are applied.
    Custom,
}

impl ProviderKind {
    /// The lowercase name used in files and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Anthropic => "anthropic",
            Self::Openai => "openai",
            Self::Gemini => "gemini",
            Self::Custom => "custom",
        }
    }

    /// The env var names this kind sets for base URL, API key and model.
    fn standard_vars(self) -> Option<[&'static str; 3]> {
        match self {
            Self::Anthropic => Some([
                "ANTHROPIC_BASE_URL",
                "ANTHROPIC_AUTH_TOKEN",
                "ANTHROPIC_MODEL",
            ]),
            Self::Openai => Some(["OPENAI_BASE_URL", "OPENAI_API_KEY", "OPENAI_MODEL"]),
            Self::Gemini => Some(["GOOGLE_GEMINI_BASE_URL", "GEMINI_API_KEY", "GEMINI_MODEL"]),
            Self::Custom => None,
        }
    }
}

impl fmt::Display for ProviderKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A secret value. Its `Debug` output is redacted so it cannot leak into logs.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself; call only where the user asked for it or a child needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The redacted form, `sk-…a1b2`.
    pub fn redacted(&self, reveal: usize) -> String {
        redact::redact(&self.0, reveal)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted(4))
    }
}

/// Per-preset price overrides in USD per million tokens; unset fields fall back to
/// the price table.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriceOverrides {
    /// Input tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<f64>,
    /// Output tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<f64>,
    /// Cache reads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_read: Option<f64>,
    /// Cache writes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_write: Option<f64>,
}

impl PriceOverrides {
    /// True when no price is overridden.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// Sets one price from `field=usd` as given on the command line.
    pub fn set(&mut self, spec: &str) -> Result<(), PresetError> {
        let bad = || PresetError::InvalidPrice {
            spec: spec.to_owned(),
        };
        let (field, value) = spec.split_once('=').ok_or_else(bad)?;
        let usd: f64 = value.trim().parse().map_err(|_| bad())?;
        if !usd.is_finite() || usd < 0.0 {
            return Err(bad());
        }
        let slot = match field.trim() {
            "input" => &mut self.input,
            "output" => &mut self.output,
            "cache_read" => &mut self.cache_read,
            "cache_write" => &mut self.cache_write,
            _ => return Err(bad()),
        };
        *slot = Some(usd);
        Ok(())
    }
}

/// A provider profile: where to send requests, with which key and model, plus raw env
/// vars that are applied as given.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Preset {
    /// Unique name, also the file name.
    pub name: PresetName,
    /// The API family.
    pub kind: ProviderKind,
    /// The provider's base URL; unset means the CLI's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    /// The API key or token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key: Option<Secret>,
    /// The model to use; unset means the CLI's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Free text for the user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Free-form labels.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Price overrides for cost accounting.
    #[serde(default, skip_serializing_if = "PriceOverrides::is_empty")]
    pub prices: PriceOverrides,
    /// Raw env vars, applied after (and so over) the ones derived from the fields.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<EnvVarName, String>,
    /// More base URLs of the same provider (same key), tried in order by the
    /// provider gateway when the one before fails to connect, answers 5xx or times
    /// out before its response starts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub upstreams: Vec<String>,
    /// Where the provider gateway moves this preset's launches when one of its
    /// quota windows runs out (a preset of the same kind).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback: Option<PresetName>,
    /// Move back to this preset once the exhausted window has reset.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub switch_back: bool,
}

impl Preset {
    /// A preset with only a name and a kind.
    pub fn new(name: PresetName, kind: ProviderKind) -> Self {
        Self {
            name,
            kind,
            base_url: None,
            api_key: None,
            model: None,
            description: None,
            tags: Vec::new(),
            prices: PriceOverrides::default(),
            env: BTreeMap::new(),
            upstreams: Vec::new(),
            fallback: None,
            switch_back: false,
        }
    }

    /// Checks the fields that types alone cannot: the base URL's scheme, and that no
    /// field holds what it cannot (a URL or model with quotes, braces or spaces would
    /// change the meaning of the agent arguments and config files it is written into;
    /// control characters would rewrite the terminal that shows it).
    pub fn validate(&self) -> Result<(), PresetError> {
        for url in self.base_url.iter().chain(&self.upstreams) {
            if !(url.starts_with("http://") || url.starts_with("https://")) || url.len() < 10 {
                return Err(PresetError::InvalidUrl {
                    url: escape::for_terminal(url).into_owned(),
                });
            }
            check_word("base URL", url, false)?;
        }
        if let Some(model) = &self.model {
            check_word("model", model, false)?;
        }
        if let Some(key) = &self.api_key {
            if key.expose().trim().is_empty() {
                return Err(PresetError::EmptyKey);
            }
            check_word("API key", key.expose(), true)?;
        }
        if let Some(text) = &self.description {
            check_text("description", text, &[])?;
        }
        for tag in &self.tags {
            check_text("tag", tag, &[])?;
        }
        for (name, value) in &self.env {
            // Multi-line values (ANTHROPIC_CUSTOM_HEADERS) and tabs are fine.
            check_text("env value", value, &['\n', '\t']).map_err(|_| {
                PresetError::InvalidField {
                    field: "env value of",
                    value: name.to_string(),
                    reason: "it holds control characters; remove them".into(),
                }
            })?;
        }
        Ok(())
    }

    /// The env vars this preset sets, in order: the kind's standard variables for
    /// base URL, key and model, then the raw env vars (which win on a clash).
    pub fn env_vars(&self) -> Vec<(String, String)> {
        let mut vars: BTreeMap<String, String> = BTreeMap::new();
        if let Some([url_var, key_var, model_var]) = self.kind.standard_vars() {
            if let Some(url) = &self.base_url {
                vars.insert(url_var.to_owned(), url.clone());
            }
            if let Some(key) = &self.api_key {
                vars.insert(key_var.to_owned(), key.expose().to_owned());
            }
            if let Some(model) = &self.model {
                vars.insert(model_var.to_owned(), model.clone());
            }
        }
        for (name, value) in &self.env {
            vars.insert(name.as_str().to_owned(), value.clone());
        }
        vars.into_iter().collect()
    }

    /// The values in this preset that are secrets: the API key and secret-named env
    /// vars. Used to prove that nothing leaks.
    pub fn secrets(&self) -> Vec<&str> {
        let mut out: Vec<&str> = self.api_key.iter().map(Secret::expose).collect();
        out.extend(
            self.env
                .iter()
                .filter(|(name, value)| redact::is_secret(name.as_str(), value))
                .map(|(_, value)| value.as_str()),
        );
        out
    }
}

/// Refuses in a URL, model or key (words written into agent arguments and config
/// files) whitespace, quotes, braces, backslashes and control characters.
fn check_word(field: &'static str, value: &str, secret: bool) -> Result<(), PresetError> {
    let bad = value
        .chars()
        .find(|c| c.is_whitespace() || escape::is_control(*c) || "\"'{}\\`<>^|".contains(*c));
    match bad {
        None => Ok(()),
        Some(c) => Err(PresetError::InvalidField {
            field,
            value: if secret {
                "(hidden)".into()
            } else {
                escape::for_terminal(value).into_owned()
            },
            reason: format!(
                "it contains {}; a {field} cannot hold spaces, quotes, braces, backslashes or control characters",
                escape::for_terminal(&format!("{c:?}"))
            ),
        }),
    }
}

/// Refuses control characters (but those in `allowed`) in free text.
fn check_text(field: &'static str, value: &str, allowed: &[char]) -> Result<(), PresetError> {
    if value
        .chars()
        .any(|c| escape::is_control(c) && !allowed.contains(&c))
    {
        return Err(PresetError::InvalidField {
            field,
            value: escape::for_terminal(value).into_owned(),
            reason: "it holds control characters; remove them".into(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for good in ["deepseek", "kimi-k2", "glm_4.6", "A1"] {
            assert!(PresetName::parse(good).is_ok(), "{good}");
        }
        let long = "x".repeat(65);
        for bad in ["", "a/b", "..", ".hidden", "has space", long.as_str()] {
            assert!(PresetName::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn env_names() {
        assert!(EnvVarName::parse("OPENAI_API_KEY").is_ok());
        assert!(EnvVarName::parse("_X1").is_ok());
        for bad in ["", "1ABC", "A-B", "A B", "A=B"] {
            assert!(EnvVarName::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn raw_env_wins_over_derived() {
        let mut preset = Preset::new(PresetName::parse("p").expect("name"), ProviderKind::Openai);
        preset.base_url = Some("https://api.example.com/v1".into());
        preset.model = Some("m1".into());
        preset.env.insert(
            EnvVarName::parse("OPENAI_MODEL").expect("name"),
            "m2".into(),
        );
        let vars = preset.env_vars();
        assert!(vars.contains(&("OPENAI_MODEL".into(), "m2".into())));
        assert!(vars.contains(&(
            "OPENAI_BASE_URL".into(),
            "https://api.example.com/v1".into()
        )));
    }

    #[test]
    fn debug_never_shows_the_key() {
        let secret = Secret::new("sk-verysecretvalue1234");
        assert!(!format!("{secret:?}").contains("verysecret"));
    }

    #[test]
    fn prices_parse() {
        let mut prices = PriceOverrides::default();
        prices.set("input=3").expect("input");
        prices.set("cache_read=0.3").expect("cache");
        assert_eq!(prices.input, Some(3.0));
        assert!(prices.set("input=-1").is_err());
        assert!(prices.set("speed=1").is_err());
    }
}
