//! Where a launch's requests go: the preset's base URL (or the provider's official
//! one) and its real key, which only the gateway ever holds.

use std::fmt;

use crate::presets::ProviderKind;

/// A provider endpoint with its credential.
#[derive(Clone, PartialEq, Eq)]
pub struct Upstream {
    /// The preset it comes from.
    pub preset: String,
    /// The preset's API family.
    pub kind: ProviderKind,
    /// The base URL, without a trailing `/`; a request's path is appended.
    pub base_url: String,
    /// More base URLs of the same provider, tried in order when one fails.
    pub alternates: Vec<String>,
    /// The preset's model: a request asking for another (the CLI was started on a
    /// preset it has since been switched from) is sent with this one.
    pub model: Option<String>,
    /// The real key; `None`: the CLI's own login, whose auth headers pass through.
    api_key: Option<String>,
    /// Where launches go when one of this upstream's quota windows runs out.
    pub fallback: Option<Box<Upstream>>,
    /// Come back once the exhausted window has reset.
    pub switch_back: bool,
}

impl fmt::Debug for Upstream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Upstream")
            .field("preset", &self.preset)
            .field("kind", &self.kind)
            .field("base_url", &self.base_url)
            .field("api_key", &"<redacted>")
            .field("fallback", &self.fallback.as_ref().map(|f| &f.preset))
            .finish()
    }
}

impl Upstream {
    /// The upstream of a preset of `kind` at `base_url` (none: the provider's
    /// official URL) with `api_key` (none: the CLI authenticates itself).
    pub fn new(
        preset: &str,
        kind: ProviderKind,
        base_url: Option<&str>,
        api_key: Option<&str>,
    ) -> Self {
        let base = base_url.unwrap_or_else(|| official_url(kind));
        Self {
            preset: preset.to_owned(),
            kind,
            base_url: base.trim_end_matches('/').to_owned(),
            alternates: Vec::new(),
            model: None,
            api_key: api_key.map(str::to_owned),
            fallback: None,
            switch_back: false,
        }
    }

    /// The real key, `None` when the CLI's own auth passes through.
    pub fn api_key(&self) -> Option<&str> {
        self.api_key.as_deref()
    }

    /// The provider's name for the ledger: the host of the base URL.
    pub fn provider(&self) -> String {
        host(&self.base_url)
    }

    /// The URL of a request whose path and query are `path_and_query`.
    pub fn url(&self, path_and_query: &str) -> String {
        format!("{}{path_and_query}", self.base_url)
    }

    /// Every base URL, in the order they are tried.
    pub fn bases(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.base_url.as_str()).chain(self.alternates.iter().map(String::as_str))
    }
}

/// The host of a URL (the whole text when it has none).
pub fn host(url: &str) -> String {
    url.split("://")
        .nth(1)
        .and_then(|rest| rest.split(['/', ':']).next())
        .unwrap_or(url)
        .to_owned()
}

/// Where a CLI sends requests of `kind` when no base URL is set, as the CLIs
/// themselves compose it (OpenAI's base includes `/v1`).
pub fn official_url(kind: ProviderKind) -> &'static str {
    match kind {
        ProviderKind::Anthropic => "https://api.anthropic.com",
        ProviderKind::Openai => "https://api.openai.com/v1",
        ProviderKind::Gemini => "https://generativelanguage.googleapis.com",
        _ => "https://api.openai.com/v1",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_append_to_the_base_and_the_key_never_prints() {
        let u = Upstream::new(
            "ds",
            ProviderKind::Anthropic,
            Some("https://api.deepseek.com/anthropic/"),
            Some("sk-secret"),
        );
        assert_eq!(
            u.url("/v1/messages?beta=true"),
            "https://api.deepseek.com/anthropic/v1/messages?beta=true"
        );
        assert_eq!(u.provider(), "api.deepseek.com");
        assert!(!format!("{u:?}").contains("sk-secret"));
        let official = Upstream::new("o", ProviderKind::Openai, None, Some("k"));
        assert_eq!(
            official.url("/responses"),
            "https://api.openai.com/v1/responses"
        );
    }
}
