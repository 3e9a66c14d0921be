//! The export/import bundle: a TOML document holding several presets.
//!
//! Without `--include-secrets`, secret fields are left out of the bundle and listed in
//! the preset's `redacted` array, so an import can tell the user which secrets to set
//! again instead of storing a placeholder as if it were a key.

use std::collections::BTreeSet;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{Preset, PresetError};
use crate::redact::is_secret;

/// The `format` value every bundle carries.
const FORMAT: &str = "aiswitch-presets";
/// The bundle version this build writes and reads.
const VERSION: u32 = 1;

/// What to put in an export.
#[derive(Debug, Clone, Copy, Default)]
pub struct ExportOptions {
    /// Keep API keys and secret env vars in the bundle.
    pub include_secrets: bool,
}

/// One preset in a bundle, with the names of the secret fields left out.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Entry {
    #[serde(flatten)]
    preset: Preset,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    redacted: Vec<String>,
}

/// Several presets, as exported and imported.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bundle {
    format: String,
    version: u32,
    #[serde(default, rename = "preset")]
    entries: Vec<Entry>,
}

impl Bundle {
    /// Builds a bundle from presets, dropping secrets unless asked to keep them.
    pub fn export(presets: Vec<Preset>, options: ExportOptions) -> Self {
        let entries = presets
            .into_iter()
            .map(|mut preset| {
                let mut redacted = Vec::new();
                if !options.include_secrets {
                    if preset.api_key.take().is_some() {
                        redacted.push("api_key".to_owned());
                    }
                    preset.env.retain(|name, value| {
                        let secret = is_secret(name.as_str(), value);
                        if secret {
                            redacted.push(format!("env.{name}"));
                        }
                        !secret
                    });
                }
                Entry { preset, redacted }
            })
            .collect();
        Self {
            format: FORMAT.to_owned(),
            version: VERSION,
            entries,
        }
    }

    /// The bundle as TOML text.
    pub fn to_toml(&self) -> String {
        let body = toml::to_string(self).unwrap_or_default();
        format!("# aiswitch presets export; import with `aiswitch import FILE`\n{body}")
    }

    /// Parses and validates a whole bundle: any malformed or invalid preset, or two
    /// presets with one name, fails the whole bundle and names the culprit.
    pub fn parse(text: &str, path: &Path) -> Result<Self, PresetError> {
        let bad = |message: String| PresetError::BadImport {
            path: path.to_path_buf(),
            message,
        };
        // Parse loosely first so one bad preset can be named by its position.
        let raw: toml::Table = toml::from_str(text).map_err(|e| bad(e.message().to_owned()))?;
        if raw.get("format").and_then(|v| v.as_str()) != Some(FORMAT) {
            return Err(bad(format!(
                "not an aiswitch presets file (expected format = \"{FORMAT}\")"
            )));
        }
        if let Some(version) = raw.get("version").and_then(|v| v.as_integer())
            && version != i64::from(VERSION)
        {
            return Err(bad(format!(
                "bundle version {version} is not supported (this aiswitch reads version {VERSION})"
            )));
        }
        let raw_entries = match raw.get("preset") {
            None => Vec::new(),
            Some(toml::Value::Array(items)) => items.clone(),
            Some(_) => {
                return Err(bad(
                    "`preset` must be an array of tables ([[preset]])".into()
                ));
            }
        };
        let mut entries = Vec::with_capacity(raw_entries.len());
        let mut seen = BTreeSet::new();
        for (index, value) in raw_entries.into_iter().enumerate() {
            let label = value
                .get("name")
                .and_then(|n| n.as_str())
                .map_or_else(|| format!("#{}", index + 1), |n| format!("{n:?}"));
            let entry: Entry = value
                .try_into()
                .map_err(|e: toml::de::Error| bad(format!("preset {label}: {}", e.message())))?;
            entry
                .preset
                .validate()
                .map_err(|e| bad(format!("preset {label}: {e}")))?;
            if !seen.insert(entry.preset.name.clone()) {
                return Err(bad(format!("preset {label} appears twice")));
            }
            entries.push(entry);
        }
        Ok(Self {
            format: FORMAT.to_owned(),
            version: VERSION,
            entries,
        })
    }

    /// A bundle of already-validated presets (from the legacy reader).
    pub fn from_presets(presets: Vec<Preset>) -> Self {
        Self::export(
            presets,
            ExportOptions {
                include_secrets: true,
            },
        )
    }

    /// The presets in the bundle.
    pub fn presets(&self) -> impl Iterator<Item = &Preset> {
        self.entries.iter().map(|e| &e.preset)
    }

    /// Per preset, the secret fields that the export left out.
    pub fn redacted_fields(&self) -> impl Iterator<Item = (&Preset, &[String])> {
        self.entries
            .iter()
            .filter(|e| !e.redacted.is_empty())
            .map(|e| (&e.preset, e.redacted.as_slice()))
    }

    /// Consumes the bundle into its presets, each with the secret fields the export
    /// left out.
    pub fn into_entries(self) -> Vec<(Preset, Vec<String>)> {
        self.entries
            .into_iter()
            .map(|e| (e.preset, e.redacted))
            .collect()
    }

    /// Consumes the bundle into its presets.
    pub fn into_presets(self) -> Vec<Preset> {
        self.entries.into_iter().map(|e| e.preset).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::presets::{EnvVarName, PresetName, ProviderKind, Secret};

    fn sample() -> Preset {
        let mut p = Preset::new(PresetName::parse("ds").expect("name"), ProviderKind::Openai);
        p.api_key = Some(Secret::new("sk-bundle-secret-0001"));
        p.env.insert(
            EnvVarName::parse("X_TOKEN").expect("n"),
            "tok-secret-9".into(),
        );
        p.env
            .insert(EnvVarName::parse("PLAIN").expect("n"), "v".into());
        p
    }

    #[test]
    fn export_drops_secrets_and_round_trips() {
        let text = Bundle::export(vec![sample()], ExportOptions::default()).to_toml();
        assert!(!text.contains("sk-bundle-secret"));
        assert!(!text.contains("tok-secret"));
        let bundle = Bundle::parse(&text, Path::new("x")).expect("parse");
        let (_, redacted) = bundle.redacted_fields().next().expect("redacted");
        assert_eq!(redacted, ["api_key", "env.X_TOKEN"]);
        assert_eq!(bundle.presets().next().expect("one").env.len(), 1);
    }

    #[test]
    fn one_bad_preset_fails_the_bundle_by_name() {
        let text = "format = \"aiswitch-presets\"\nversion = 1\n\
            [[preset]]\nname = \"good\"\nkind = \"openai\"\n\
            [[preset]]\nname = \"bad\"\nkind = \"nope\"\n";
        let err = Bundle::parse(text, Path::new("f.toml")).expect_err("bad kind");
        assert!(err.to_string().contains("\"bad\""), "{err}");
    }
}
