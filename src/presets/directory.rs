//! Per-directory presets: a `.aiswitch.toml` in a directory or an ancestor names the
//! preset to use there, by default and per agent, as `.nvmrc` does for Node
//! versions. Files layer: a nearer file overrides a farther one field by field (a
//! project's `[agents]` entry does not drop its parent's default `preset`).
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

    /// Parses the text of a `.aiswitch.toml`; `path` names it in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Self, PresetError> {
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
    Ok(find_all(dir)?.into_iter().next())
}

/// The preset for `agent` (or for any command) in `dir`, layering every
/// `.aiswitch.toml` from `dir` up: the nearest file with an entry for the agent,
/// else the nearest with a default `preset`. Returns it with the file that says so.
pub fn resolve(
    dir: &Path,
    agent: Option<&str>,
) -> Result<Option<(PresetName, PathBuf)>, PresetError> {
    let files = find_all(dir)?;
    let own = agent.and_then(|agent| {
        files.iter().find_map(|f| {
            f.presets
                .agents
                .get(agent)
                .map(|p| (p.clone(), f.path.clone()))
        })
    });
    Ok(own.or_else(|| {
        files
            .iter()
            .find_map(|f| f.presets.preset.clone().map(|p| (p, f.path.clone())))
    }))
}

/// Every `.aiswitch.toml` from `dir` up to the root, nearest first; a malformed one
/// is an error naming its path and line.
pub fn find_all(dir: &Path) -> Result<Vec<DirectoryFile>, PresetError> {
    let mut files = Vec::new();
    for candidate in dir.ancestors() {
        let path = candidate.join(FILE_NAME);
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let presets = DirectoryPresets::parse(&text, &path)?;
                files.push(DirectoryFile { path, presets });
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
    Ok(files)
}

/// Sets the preset of `dir`'s own `.aiswitch.toml` (for `agent`, else the default),
/// keeping everything else it says, comments and order included; returns the file's
/// path.
pub fn set(dir: &Path, preset: &PresetName, agent: Option<&str>) -> Result<PathBuf, PresetError> {
    let path = dir.join(FILE_NAME);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => {
            // Refuse to edit what we could not read back.
            DirectoryPresets::parse(&text, &path)?;
            text
        }
        Err(_) => "# aiswitch: the presets used in this directory and below\n".to_owned(),
    };
    let mut doc: toml_edit::DocumentMut =
        text.parse()
            .map_err(|e: toml_edit::TomlError| PresetError::DirectoryFile {
                path: path.clone(),
                line: 0,
                reason: e.message().trim().to_owned(),
            })?;
    match agent {
        Some(agent) => {
            let agents = doc
                .entry("agents")
                .or_insert_with(|| toml_edit::Item::Table(toml_edit::Table::new()));
            let Some(agents) = agents.as_table_like_mut() else {
                return Err(PresetError::DirectoryFile {
                    path,
                    line: 0,
                    reason: "`agents` is not a table".into(),
                });
            };
            agents.insert(agent, toml_edit::value(preset.as_str()));
        }
        None => {
            doc["preset"] = toml_edit::value(preset.as_str());
        }
    }
    let body = doc.to_string();
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
    fn nearer_files_override_field_by_field() {
        let root = tempfile::tempdir().expect("tempdir");
        let project = root.path().join("project");
        std::fs::create_dir_all(&project).expect("mkdir");
        let ds = PresetName::parse("ds").expect("name");
        let oa = PresetName::parse("oa").expect("name");
        set(root.path(), &ds, None).expect("root default");
        set(&project, &oa, Some("codex")).expect("project entry");
        let root_file = root.path().join(FILE_NAME);
        assert_eq!(
            resolve(&project, Some("claude")).expect("read"),
            Some((ds.clone(), root_file)),
            "the parent's default stays"
        );
        assert_eq!(
            resolve(&project, Some("codex")).expect("read"),
            Some((oa, project.join(FILE_NAME)))
        );
    }

    #[test]
    fn set_keeps_comments_and_order() {
        let root = tempfile::tempdir().expect("tempdir");
        let text =
            "# our team's presets\n[agents]\n# codex needs the work account\ncodex = \"oa\"\n";
        std::fs::write(root.path().join(FILE_NAME), text).expect("write");
        set(
            root.path(),
            &PresetName::parse("ds").expect("name"),
            Some("claude"),
        )
        .expect("set");
        let after = std::fs::read_to_string(root.path().join(FILE_NAME)).expect("read");
        assert!(after.starts_with(text), "{after}");
        assert!(after.contains("claude = \"ds\""), "{after}");
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
