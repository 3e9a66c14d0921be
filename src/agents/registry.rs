//! The agent registry: built-in manifests compiled in, and registered ones as
//! `config/agents/<id>.toml`. A registered manifest with a built-in's id replaces it.

use std::path::{Path, PathBuf};

use super::{AgentError, Manifest, ManifestError};
use crate::atomic_file::{DirLock, write_atomic};
use crate::paths::ensure_private_dir;

/// The built-in manifests, by file name.
const BUILTIN: &[(&str, &str)] = &[
    (
        "aiswitch-agent",
        include_str!("builtin/aiswitch-agent.toml"),
    ),
    ("claude", include_str!("builtin/claude.toml")),
    ("claude-acp", include_str!("builtin/claude-acp.toml")),
    ("codex", include_str!("builtin/codex.toml")),
    ("codex-acp", include_str!("builtin/codex-acp.toml")),
    ("cursor", include_str!("builtin/cursor.toml")),
    ("gemini", include_str!("builtin/gemini.toml")),
    ("gemini-print", include_str!("builtin/gemini-print.toml")),
    ("goose", include_str!("builtin/goose.toml")),
    ("opencode", include_str!("builtin/opencode.toml")),
    ("opencode-run", include_str!("builtin/opencode-run.toml")),
    ("qwen", include_str!("builtin/qwen.toml")),
];

/// Where a manifest came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    /// Compiled into aiswitch.
    Builtin,
    /// Added with `agents register`.
    Registered,
}

/// A manifest and where it came from.
#[derive(Debug, Clone)]
pub struct AgentEntry {
    /// The manifest.
    pub manifest: Manifest,
    /// Its origin.
    pub origin: Origin,
}

/// Built-in and registered manifests.
#[derive(Debug, Clone)]
pub struct AgentRegistry {
    dir: PathBuf,
    lock_file: PathBuf,
}

impl AgentRegistry {
    /// The registry under `config_dir`.
    pub fn new(config_dir: &Path) -> Self {
        Self {
            dir: config_dir.join("agents"),
            lock_file: config_dir.join(".agents.lock"),
        }
    }

    /// The built-in manifests.
    pub fn builtins() -> Vec<Manifest> {
        BUILTIN
            .iter()
            .filter_map(|(name, text)| Manifest::parse(text, &format!("built-in {name}")).ok())
            .collect()
    }

    /// Every agent, sorted by id, and the registered files that are invalid.
    pub fn list(&self) -> (Vec<AgentEntry>, Vec<ManifestError>) {
        let mut entries: Vec<AgentEntry> = Self::builtins()
            .into_iter()
            .map(|manifest| AgentEntry {
                manifest,
                origin: Origin::Builtin,
            })
            .collect();
        let mut problems = Vec::new();
        let mut files: Vec<PathBuf> = std::fs::read_dir(&self.dir)
            .map(|rd| rd.filter_map(Result::ok).map(|e| e.path()).collect())
            .unwrap_or_default();
        files.retain(|p| p.extension().is_some_and(|e| e == "toml"));
        files.sort();
        for file in files {
            match Manifest::load(&file) {
                Ok(manifest) => {
                    entries.retain(|e| e.manifest.id != manifest.id);
                    entries.push(AgentEntry {
                        manifest,
                        origin: Origin::Registered,
                    });
                }
                Err(e) => problems.push(e),
            }
        }
        entries.sort_by(|a, b| a.manifest.id.cmp(&b.manifest.id));
        (entries, problems)
    }

    /// One agent's manifest.
    pub fn get(&self, id: &str) -> Result<Manifest, AgentError> {
        self.list()
            .0
            .into_iter()
            .find(|e| e.manifest.id.as_str() == id)
            .map(|e| e.manifest)
            .ok_or_else(|| AgentError::NotFound { id: id.to_owned() })
    }

    /// Validates the manifest at `path` and adds it; nothing is written when it is
    /// invalid, or when the id is taken and `replace` is false.
    pub fn register(&self, path: &Path, replace: bool) -> Result<Manifest, AgentError> {
        let manifest = Manifest::load(path)?;
        let text = std::fs::read(path).map_err(|e| ManifestError {
            source_name: path.display().to_string(),
            message: format!("cannot read it: {e}"),
        })?;
        let err = |source| AgentError::Write {
            path: self.dir.clone(),
            source,
        };
        ensure_private_dir(&self.dir).map_err(|e| err(std::io::Error::other(e.to_string())))?;
        let _lock = DirLock::acquire(&self.lock_file).map_err(err)?;
        let taken = self.list().0.iter().any(|e| e.manifest.id == manifest.id);
        if taken && !replace {
            return Err(AgentError::AlreadyExists {
                id: manifest.id.to_string(),
            });
        }
        let target = self.dir.join(format!("{}.toml", manifest.id));
        write_atomic(&target, &text, 0o600).map_err(|source| AgentError::Write {
            path: target,
            source,
        })?;
        Ok(manifest)
    }
}

/// Finds an agent's program: a path as given, else beside the running executable
/// (where `aiswitch-agent` ships), else on PATH.
pub fn resolve_command(command: &str) -> Option<PathBuf> {
    if command.contains('/') {
        let path = PathBuf::from(command);
        return path.is_file().then_some(path);
    }
    let beside = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join(command)))
        .filter(|p| p.is_file());
    beside.or_else(|| which::which(command).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_manifest_is_valid() {
        for (name, text) in BUILTIN {
            let manifest = Manifest::parse(text, name).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(manifest.id.as_str(), *name);
        }
    }
}
