//! Provider presets: the model, the on-disk repository (one TOML file per preset),
//! the export/import bundle, and the reader for the original aiswitch's YAML presets.

mod bundle;
pub mod directory;
pub mod env_policy;
mod legacy;
mod model;
mod repo;
mod view;

use std::path::PathBuf;

pub use bundle::{Bundle, ExportOptions};
pub use legacy::{parse_legacy, read_legacy_dir};
pub use model::{
    EnvVarName, MAX_NAME_LEN, Preset, PresetName, PriceOverrides, ProviderKind, Secret,
};
pub use repo::{Listing, PresetProblem, PresetRepo};
pub use view::{PresetView, Secrets};

/// Everything that can go wrong with presets.
#[derive(Debug, thiserror::Error)]
pub enum PresetError {
    /// A preset name breaks the naming rule.
    #[error("invalid preset name {name:?}: {reason}; use 1-64 letters, digits, '.', '_' or '-'")]
    InvalidName {
        /// The rejected name.
        name: String,
        /// Which rule it broke.
        reason: String,
    },
    /// An env var name is not a valid shell variable name.
    #[error(
        "invalid env var name {name:?}: use letters, digits and '_', not starting with a digit"
    )]
    InvalidEnvName {
        /// The rejected name.
        name: String,
    },
    /// A `KEY` was given without a value.
    #[error("env var {name} has no value: give KEY value pairs, e.g. `{name} some-value`")]
    MissingValue {
        /// The key.
        name: String,
    },
    /// The same env var was given twice.
    #[error("env var {name} is given twice: give each KEY once")]
    DuplicateKey {
        /// The key.
        name: String,
    },
    /// The base URL is not an http(s) URL.
    #[error("invalid base URL {url:?}: it must start with http:// or https://")]
    InvalidUrl {
        /// The rejected URL.
        url: String,
    },
    /// A field holds characters it cannot hold.
    #[error("invalid {field} {value}: {reason}")]
    InvalidField {
        /// The field.
        field: &'static str,
        /// The value, escaped for the terminal (never a secret).
        value: String,
        /// What is wrong and what to do.
        reason: String,
    },
    /// A raw env var that changes how programs run, not allowed by the user.
    #[error(
        "preset {preset} sets {name}, refused because {why}; if you trust it, pass --allow-env {name}"
    )]
    RiskyEnv {
        /// The preset.
        preset: String,
        /// The variable.
        name: String,
        /// Why it is risky.
        why: &'static str,
    },
    /// A raw env var contradicts the preset's own field.
    #[error(
        "preset {preset} sets {name} to something other than its {field}: keep one (remove {name} from its env, or set {field} to that value)"
    )]
    EnvContradicts {
        /// The preset.
        preset: String,
        /// The variable.
        name: String,
        /// The field it contradicts.
        field: &'static str,
    },
    /// The API key is empty.
    #[error("the API key is empty: pass it with --api-key VALUE or pipe it to --api-key -")]
    EmptyKey,
    /// A `--price` value is malformed.
    #[error(
        "invalid price {spec:?}: use FIELD=USD_PER_MILLION with FIELD input, output, cache_read or cache_write"
    )]
    InvalidPrice {
        /// The rejected spec.
        spec: String,
    },
    /// A `.aiswitch.toml` that cannot be used.
    #[error("invalid {}{}: {reason}; fix or remove the file", path.display(), if *line > 0 { format!(" (line {line})") } else { String::new() })]
    DirectoryFile {
        /// The file.
        path: PathBuf,
        /// The line, 0 when not about one.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// No preset has this name.
    #[error("preset {name} does not exist: see `aiswitch list`")]
    NotFound {
        /// The missing preset.
        name: String,
    },
    /// `add` without `--force` over an existing preset.
    #[error("preset {name} already exists: use --force to replace it")]
    AlreadyExists {
        /// The existing preset.
        name: String,
    },
    /// `remove` of the current preset without `--force`.
    #[error("preset {name} is the current preset: use --force to remove it anyway")]
    IsCurrent {
        /// The current preset.
        name: String,
    },
    /// `remove` of a preset agents were switched to, without `--force`.
    #[error(
        "preset {name} is the switched preset of {agents}: use --force to remove it anyway (they then run with the directory's or the global current preset)"
    )]
    InUse {
        /// The preset.
        name: String,
        /// The agents, comma-separated.
        agents: String,
    },
    /// A preset file cannot be parsed.
    #[error("preset file {path} is corrupt: {message}; fix it or remove it")]
    Corrupt {
        /// The bad file.
        path: PathBuf,
        /// What the parser said.
        message: String,
    },
    /// An import file cannot be used.
    #[error("cannot import {path}: {message}")]
    BadImport {
        /// The import file or directory.
        path: PathBuf,
        /// What is wrong, naming the preset where one is at fault.
        message: String,
    },
    /// A file or directory cannot be read.
    #[error("cannot read {path}: {source}; check that it exists and is readable")]
    Read {
        /// The path.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A file or directory cannot be written.
    #[error("cannot write {path}: {source}; check the directory's permissions and free space")]
    Write {
        /// The path.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
}

impl PresetError {
    /// True when the error is the user's input rather than the state of the machine.
    pub fn is_usage(&self) -> bool {
        matches!(
            self,
            Self::InvalidName { .. }
                | Self::InvalidEnvName { .. }
                | Self::MissingValue { .. }
                | Self::DuplicateKey { .. }
                | Self::InvalidUrl { .. }
                | Self::InvalidField { .. }
                | Self::RiskyEnv { .. }
                | Self::EnvContradicts { .. }
                | Self::EmptyKey
                | Self::InvalidPrice { .. }
                | Self::DirectoryFile { .. }
        )
    }
}

/// Turns command-line `KEY value` words into env vars, refusing a key without a
/// value, a bad name, or a key given twice.
pub fn parse_env_pairs(
    words: &[String],
) -> Result<std::collections::BTreeMap<EnvVarName, String>, PresetError> {
    let mut env = std::collections::BTreeMap::new();
    for pair in words.chunks(2) {
        let name = EnvVarName::parse(&pair[0])?;
        let Some(value) = pair.get(1) else {
            return Err(PresetError::MissingValue {
                name: name.to_string(),
            });
        };
        if env.insert(name.clone(), value.clone()).is_some() {
            return Err(PresetError::DuplicateKey {
                name: name.to_string(),
            });
        }
    }
    Ok(env)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(list: &[&str]) -> Vec<String> {
        list.iter().map(|w| (*w).to_owned()).collect()
    }

    #[test]
    fn pairs() {
        let env = parse_env_pairs(&words(&["A", "1", "B", "two words"])).expect("pairs");
        assert_eq!(env.len(), 2);
        assert!(matches!(
            parse_env_pairs(&words(&["A", "1", "B"])),
            Err(PresetError::MissingValue { .. })
        ));
        assert!(matches!(
            parse_env_pairs(&words(&["A", "1", "A", "2"])),
            Err(PresetError::DuplicateKey { .. })
        ));
        assert!(matches!(
            parse_env_pairs(&words(&["1A", "x"])),
            Err(PresetError::InvalidEnvName { .. })
        ));
    }
}
