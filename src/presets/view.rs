//! How a preset is shown: the one serialisable shape the CLI's `--json`, the control
//! API and the desktop app share. Secrets are redacted unless the caller reveals them.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{Preset, PriceOverrides};
use crate::redact::{is_secret, redact_var};

/// Whether secrets appear whole or redacted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Secrets {
    /// Hidden whole.
    #[default]
    Hidden,
    /// Redacted to `sk-…a1b2`, showing this many characters at the end.
    Redact(usize),
    /// Shown whole; only when the user asked (`--show-secrets`).
    Reveal,
}

impl Secrets {
    fn show(self, name: &str, value: &str) -> String {
        match self {
            Self::Reveal => value.to_owned(),
            Self::Hidden => redact_var(name, value, 0),
            Self::Redact(reveal) => redact_var(name, value, reveal),
        }
    }
}

/// A preset as shown to the user.
#[derive(Debug, Clone, Serialize)]
pub struct PresetView {
    /// The name.
    pub name: String,
    /// The API family.
    pub kind: &'static str,
    /// True when this is the current preset.
    pub current: bool,
    /// The base URL, if set.
    pub base_url: Option<String>,
    /// The model, if set.
    pub model: Option<String>,
    /// The API key, redacted unless revealed.
    pub api_key: Option<String>,
    /// The description, if any.
    pub description: Option<String>,
    /// Tags.
    pub tags: Vec<String>,
    /// Price overrides (USD per million tokens).
    pub prices: PriceOverrides,
    /// Raw env vars, secret values redacted unless revealed.
    pub env: BTreeMap<String, String>,
    /// The preset the gateway falls back to when a quota window runs out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fallback: Option<String>,
    /// Whether it comes back after the window's reset.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub switch_back: bool,
    /// Every env var the preset sets when applied, secret values redacted unless
    /// revealed; filled by [`PresetView::with_applies`] (`show`), left out of lists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub applies: Option<BTreeMap<String, String>>,
    /// How secrets are shown, kept for [`PresetView::with_applies`].
    #[serde(skip)]
    secrets: Secrets,
}

impl PresetView {
    /// Builds the view of `preset`.
    pub fn new(preset: &Preset, current: bool, secrets: Secrets) -> Self {
        Self {
            name: preset.name.to_string(),
            kind: preset.kind.as_str(),
            current,
            base_url: preset
                .base_url
                .as_ref()
                .map(|u| secrets.show("BASE_URL", u)),
            model: preset.model.clone(),
            api_key: preset
                .api_key
                .as_ref()
                .map(|k| secrets.show("API_KEY", k.expose())),
            description: preset.description.clone(),
            tags: preset.tags.clone(),
            prices: preset.prices.clone(),
            env: preset
                .env
                .iter()
                .map(|(k, v)| (k.to_string(), secrets.show(k.as_str(), v)))
                .collect(),
            fallback: preset.fallback.as_ref().map(ToString::to_string),
            switch_back: preset.switch_back,
            applies: None,
            secrets,
        }
    }

    /// Adds the env vars the preset sets when applied.
    pub fn with_applies(mut self, preset: &Preset) -> Self {
        let key = preset.api_key.as_ref().map(|k| k.expose());
        let applies = preset
            .env_vars()
            .into_iter()
            .map(|(name, value)| {
                let shown = if is_secret(&name, &value) || key == Some(value.as_str()) {
                    self.secrets.show("API_KEY", &value)
                } else {
                    value
                };
                (name, shown)
            })
            .collect();
        self.applies = Some(applies);
        self
    }
}
