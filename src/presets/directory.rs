//! Per-directory presets: a `.aiswitch.toml` in a directory or its nearest ancestor
//! names the preset to use there, by default and per agent, as `.nvmrc` does for
//! Node versions.
//!
//! ```toml
//! preset = "deepseek"          # every agent here
//! [agents]
//! codex = "openai-work"        # this agent
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{PresetError, PresetName};
use crate::atomic_file::write_atomic;

/// The file's name.
pub const FILE_NAME: &str = ".aiswitch.toml";

/// The contents of a `.aiswitch.toml`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DirectoryPresets {
    /// The preset for every agent here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preset: Option<PresetName>,
    /// Presets for single agents, by agent id.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub agents: BTreeMap<String, PresetName>,
}

/// A `.aiswitch.toml` found for a directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryFile {
    /// Where it is.
    pub path: PathBuf,
    /// What it says.
    pub presets: DirectoryPresets,
}

impl DirectoryPresets {
    /// The preset for `agent` (its own entry, else the default).
    pub fn for_agent(&self, agent: Option<&str>) -> Option<&PresetName> {
        agent
            .and_then(|a| self.agents.get(a))
            .or(self.preset.as_ref())
    }

    fn parse(text: &str, path: &Path) -> Result<Self, PresetError> {
        toml::from_str(text).map_err(|e| {
            let line = e
                .span()
                .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1)
                .unwrap_or(1);
            PresetError::DirectoryFile {
                path: path.to_path_buf(),
                line,
                reason: e.message().trim().to_owned(),
            }
        })
    }
}

/// The `.aiswitch.toml` of `dir` or its nearest ancestor, if any; a malformed one is
/// an error naming its path and line.
pub fn find(dir: &Path) -> Result<Option<DirectoryFile>, PresetError> {
    for candidate in dir.ancestors() {
        let path = candidate.join(FILE_NAME);
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let presets = DirectoryPresets::parse(&text, &path)?;
                return Ok(Some(DirectoryFile { path, presets }));
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) if e.kind() == std::io::ErrorKind::IsADirectory => {}
            Err(e) => {
                return Err(PresetError::DirectoryFile {
                    path,
                    line: 0,
                    reason: format!("cannot read it: {e}"),
                });
            }
        }
    }
    Ok(None)
}

/// Sets the preset of `dir`'s own `.aiswitch.toml` (for `agent`, else the default),
/// keeping what else it says; returns the file's path.
pub fn set(dir: &Path, preset: &PresetName, agent: Option<&str>) -> Result<PathBuf, PresetError> {
    let path = dir.join(FILE_NAME);
    let mut presets = match std::fs::read_to_string(&path) {
        Ok(text) => DirectoryPresets::parse(&text, &path)?,
        Err(_) => DirectoryPresets::default(),
    };
    match agent {
        Some(agent) => {
            presets.agents.insert(agent.to_owned(), preset.clone());
        }
        None => presets.preset = Some(preset.clone()),
    }
    let text = toml::to_string(&presets).map_err(|e| PresetError::DirectoryFile {
        path: path.clone(),
        line: 0,
        reason: e.to_string(),
    })?;
    let body = format!("# aiswitch: the presets used in this directory and below\n{text}");
    write_atomic(&path, body.as_bytes(), 0o644).map_err(|e| PresetError::DirectoryFile {
        path: path.clone(),
        line: 0,
        reason: format!("cannot write it: {e}"),
    })?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_ancestor_wins_and_agent_entries_beat_the_default() {
        let root = tempfile::tempdir().expect("tempdir");
        let deep = root.path().join("a/b/c");
        std::fs::create_dir_all(&deep).expect("mkdir");
        assert_eq!(find(&deep).expect("none"), None);
        let ds = PresetName::parse("ds").expect("name");
        let oa = PresetName::parse("oa").expect("name");
        set(root.path(), &ds, None).expect("root file");
        set(&root.path().join("a/b"), &oa, Some("codex")).expect("b file");
        let found = find(&deep).expect("read").expect("found");
        assert_eq!(found.path, root.path().join("a/b").join(FILE_NAME));
        assert_eq!(found.presets.for_agent(Some("codex")), Some(&oa));
        assert_eq!(found.presets.for_agent(Some("claude")), None);
        let top = find(&root.path().join("a")).expect("read").expect("found");
        assert_eq!(top.presets.for_agent(Some("claude")), Some(&ds));
    }

    #[test]
    fn a_malformed_file_names_its_path_and_line() {
        let root = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            root.path().join(FILE_NAME),
            "preset = \"ok\"\n\ncolour = \"blue\"\n",
        )
        .expect("write");
        let err = find(root.path()).expect_err("malformed").to_string();
        assert!(err.contains(FILE_NAME) && err.contains("line 3"), "{err}");
        std::fs::write(root.path().join(FILE_NAME), "preset = \"bad name!\"\n").expect("write");
        let err = find(root.path()).expect_err("bad name").to_string();
        assert!(err.contains("line 1"), "{err}");
    }
}
