//! Reads the original Python aiswitch's presets: `*.yaml` files with `name`,
//! `description`, `variables` and `tags`.
//!
//! The variables stay raw env vars, so a migrated preset sets exactly what it set
//! before; the kind is inferred from the variable names (ANTHROPIC_*, OPENAI_*,
//! GEMINI_* / GOOGLE_*) and is `custom` otherwise.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use serde::Deserialize;

use super::{EnvVarName, Preset, PresetError, PresetName, ProviderKind};

#[derive(Debug, Deserialize)]
struct LegacyPreset {
    name: Option<String>,
    description: Option<String>,
    #[serde(default)]
    variables: BTreeMap<String, serde_norway::Value>,
    #[serde(default)]
    tags: Vec<String>,
}

/// Reads every `*.yaml` / `*.yml` preset in `dir`; any bad file fails the whole read,
/// naming the file.
pub fn read_legacy_dir(dir: &Path) -> Result<Vec<Preset>, PresetError> {
    // Given the original tool's config directory, its presets are in `presets/`.
    let nested = dir.join("presets");
    let dir = if !has_yaml(dir) && has_yaml(&nested) {
        nested.as_path()
    } else {
        dir
    };
    let entries = fs::read_dir(dir).map_err(|source| PresetError::Read {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut files: Vec<_> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.extension()
                .is_some_and(|ext| ext == "yaml" || ext == "yml")
        })
        .collect();
    files.sort();
    files.iter().map(|file| read_legacy_file(file)).collect()
}

fn has_yaml(dir: &Path) -> bool {
    fs::read_dir(dir).is_ok_and(|entries| {
        entries.filter_map(Result::ok).any(|e| {
            e.path()
                .extension()
                .is_some_and(|ext| ext == "yaml" || ext == "yml")
        })
    })
}

fn read_legacy_file(path: &Path) -> Result<Preset, PresetError> {
    let text = fs::read_to_string(path).map_err(|source| PresetError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse_legacy(&text, path)
}

/// Parses one of the original tool's YAML presets; `path` names it in errors and,
/// when the file names none, gives the preset its name.
pub fn parse_legacy(text: &str, path: &Path) -> Result<Preset, PresetError> {
    let bad = |message: String| PresetError::BadImport {
        path: path.to_path_buf(),
        message,
    };
    let legacy: LegacyPreset = serde_norway::from_str(text).map_err(|e| bad(e.to_string()))?;
    let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned());
    let name = legacy.name.or(stem).unwrap_or_default();
    let name = PresetName::parse(&name).map_err(|e| bad(e.to_string()))?;
    let mut preset = Preset::new(name, ProviderKind::Custom);
    preset.description = legacy.description.filter(|d| !d.is_empty());
    preset.tags = legacy.tags;
    for (key, value) in legacy.variables {
        let key = EnvVarName::parse(&key).map_err(|e| bad(e.to_string()))?;
        let value = match value {
            serde_norway::Value::String(s) => s,
            serde_norway::Value::Number(n) => n.to_string(),
            serde_norway::Value::Bool(b) => b.to_string(),
            _ => return Err(bad(format!("variable {key} must be a plain value"))),
        };
        preset.env.insert(key, value);
    }
    preset.kind = infer_kind(preset.env.keys().map(EnvVarName::as_str));
    Ok(preset)
}

fn infer_kind<'a>(names: impl Iterator<Item = &'a str>) -> ProviderKind {
    let mut kind = ProviderKind::Custom;
    for name in names {
        if name.starts_with("ANTHROPIC_") {
            return ProviderKind::Anthropic;
        } else if name.starts_with("OPENAI_") {
            kind = ProviderKind::Openai;
        } else if name.starts_with("GEMINI_") || name.starts_with("GOOGLE_GEMINI") {
            kind = ProviderKind::Gemini;
        }
    }
    kind
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_original_format() {
        let tmp = tempfile::tempdir().expect("tempdir");
        fs::write(
            tmp.path().join("kimi.yaml"),
            "name: kimi\ndescription: Moonshot\nvariables:\n  ANTHROPIC_BASE_URL: https://api.moonshot.cn/anthropic\n  ANTHROPIC_AUTH_TOKEN: sk-legacy\n  MAX_TOKENS: 8000\ntags: [cn]\n",
        )
        .expect("write");
        let presets = read_legacy_dir(tmp.path()).expect("read");
        assert_eq!(presets.len(), 1);
        assert_eq!(presets[0].kind, ProviderKind::Anthropic);
        assert_eq!(presets[0].env.len(), 3);
        assert_eq!(presets[0].tags, ["cn"]);
    }
}
