//! The files of runtime switching, per agent under `data/env/<agent>/`: `active.toml`
//! (the environment in force), `journal.toml` (a switch in progress),
//! `snapshots/<name>.toml`, and `.lock`. All written atomically, mode 0600 (they hold
//! keys).

use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{AgentEnv, EnvError, Snapshot};
use crate::atomic_file::{DirLock, remove_durably, write_atomic};
use crate::paths::ensure_private_dir;

/// How many automatic snapshots are kept per agent.
pub const AUTO_SNAPSHOTS: usize = 10;

/// A step of a switch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Step {
    /// Checking the preset and the agent.
    Validate,
    /// Saving the current environment.
    Snapshot,
    /// Replacing the active environment.
    Apply,
    /// Starting the agent with the new environment.
    Verify,
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Validate => "validate",
            Self::Snapshot => "snapshot",
            Self::Apply => "apply",
            Self::Verify => "verify",
        })
    }
}

/// A switch in progress, written before the apply.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Journal {
    from: Option<AgentEnv>,
    to: AgentEnv,
}

/// One agent's switching files.
#[derive(Debug, Clone)]
pub struct EnvStore {
    dir: PathBuf,
    agent: String,
}

fn io(path: &Path, e: impl fmt::Display) -> EnvError {
    EnvError::Io {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

fn read_env(path: &Path) -> Result<Option<AgentEnv>, String> {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let env: AgentEnv = toml::from_str(&text).map_err(|e| e.message().to_owned())?;
            if env.is_intact() {
                Ok(Some(env))
            } else {
                Err("its checksum does not match its content".into())
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e.to_string()),
    }
}

fn write_env(path: &Path, env: &AgentEnv) -> Result<(), EnvError> {
    let text = toml::to_string(env).map_err(|e| io(path, e))?;
    write_atomic(path, text.as_bytes(), 0o600).map_err(|e| io(path, e))
}

/// A snapshot name that is a safe file name.
pub fn check_name(name: &str) -> Result<(), EnvError> {
    crate::presets::PresetName::parse(name)
        .map(|_| ())
        .map_err(|_| EnvError::InvalidName(name.to_owned()))
}

impl EnvStore {
    /// The files of `agent` under `data_dir/env`.
    pub fn new(data_dir: &Path, agent: &str) -> Self {
        Self {
            dir: data_dir.join("env").join(agent),
            agent: agent.to_owned(),
        }
    }

    fn active_path(&self) -> PathBuf {
        self.dir.join("active.toml")
    }

    fn journal_path(&self) -> PathBuf {
        self.dir.join("journal.toml")
    }

    fn snapshot_path(&self, name: &str) -> PathBuf {
        self.dir.join("snapshots").join(format!("{name}.toml"))
    }

    /// Takes the agent's lock: a second switch of the same agent waits here and then
    /// applies after the first, in order.
    pub fn lock(&self) -> Result<DirLock, EnvError> {
        ensure_private_dir(&self.dir.join("snapshots")).map_err(|e| io(&self.dir, e))?;
        DirLock::acquire(&self.dir.join(".lock")).map_err(|e| io(&self.dir, e))
    }

    /// The environment in force. The file is replaced by rename, so it is always
    /// whole; reading it needs no lock, and never touches a switch in progress.
    pub fn active(&self) -> Result<Option<AgentEnv>, EnvError> {
        read_env(&self.active_path()).map_err(|e| io(&self.active_path(), e))
    }

    /// Finishes or undoes a switch a crash interrupted; call it holding the lock.
    /// The active file is whole (it is replaced by rename), so it is either the
    /// journal's `to` (finished) or its `from` (undone); a damaged active file is put
    /// back to `from`.
    pub fn recover(&self) -> Result<(), EnvError> {
        let journal_path = self.journal_path();
        let Ok(text) = std::fs::read_to_string(&journal_path) else {
            return Ok(());
        };
        let journal: Option<Journal> = toml::from_str(&text).ok();
        if let Some(journal) = journal {
            match read_env(&self.active_path()) {
                Ok(Some(env)) if env == journal.to || Some(&env) == journal.from.as_ref() => {}
                _ => match &journal.from {
                    Some(from) => write_env(&self.active_path(), from)?,
                    None => {
                        let _ = std::fs::remove_file(self.active_path());
                    }
                },
            }
        }
        remove_durably(&journal_path).map_err(|e| io(&journal_path, e))
    }

    /// True when a switch left a journal (in progress, or interrupted).
    pub fn has_journal(&self) -> bool {
        self.journal_path().exists()
    }

    /// Writes the journal of a switch from `from` to `to`.
    pub fn begin(&self, from: Option<&AgentEnv>, to: &AgentEnv) -> Result<(), EnvError> {
        let journal = Journal {
            from: from.cloned(),
            to: to.clone(),
        };
        let text = toml::to_string(&journal).map_err(|e| io(&self.journal_path(), e))?;
        write_atomic(&self.journal_path(), text.as_bytes(), 0o600)
            .map_err(|e| io(&self.journal_path(), e))
    }

    /// Makes `env` the active environment (`None`: none).
    pub fn set_active(&self, env: Option<&AgentEnv>) -> Result<(), EnvError> {
        match env {
            Some(env) => write_env(&self.active_path(), env),
            None => match std::fs::remove_file(self.active_path()) {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                Err(e) => Err(io(&self.active_path(), e)),
            },
        }
    }

    /// Ends a switch.
    pub fn finish(&self) -> Result<(), EnvError> {
        match remove_durably(&self.journal_path()) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io(&self.journal_path(), e)),
            _ => Ok(()),
        }
    }

    /// Saves `env` as snapshot `name`.
    pub fn save_snapshot(&self, name: &str, env: &AgentEnv, force: bool) -> Result<(), EnvError> {
        check_name(name)?;
        let path = self.snapshot_path(name);
        if path.exists() && !force {
            return Err(EnvError::SnapshotExists {
                agent: self.agent.clone(),
                name: name.to_owned(),
            });
        }
        write_env(&path, env)
    }

    /// An automatic snapshot before a switch; keeps the last [`AUTO_SNAPSHOTS`].
    pub fn auto_snapshot(&self, env: &AgentEnv) -> Result<String, EnvError> {
        let name = format!("auto-{}", crate::store::now_ms());
        write_env(&self.snapshot_path(&name), env)?;
        let mut autos: Vec<String> = self
            .snapshot_names()
            .into_iter()
            .filter(|n| n.starts_with("auto-"))
            .collect();
        autos.sort();
        while autos.len() > AUTO_SNAPSHOTS {
            let old = autos.remove(0);
            let _ = std::fs::remove_file(self.snapshot_path(&old));
        }
        Ok(name)
    }

    /// Reads snapshot `name`, refusing a missing or corrupt one.
    pub fn snapshot(&self, name: &str) -> Result<AgentEnv, EnvError> {
        check_name(name)?;
        let not_found = || EnvError::SnapshotNotFound {
            agent: self.agent.clone(),
            name: name.to_owned(),
        };
        match read_env(&self.snapshot_path(name)) {
            Ok(Some(env)) => Ok(env),
            Ok(None) => Err(not_found()),
            Err(reason) => Err(EnvError::SnapshotCorrupt {
                agent: self.agent.clone(),
                name: name.to_owned(),
                reason,
            }),
        }
    }

    /// The snapshots, oldest first: what each puts back and when it was saved.
    pub fn snapshots(&self) -> Vec<Snapshot> {
        let mut all: Vec<Snapshot> = self
            .snapshot_names()
            .into_iter()
            .filter_map(|name| {
                let path = self.snapshot_path(&name);
                let saved = std::fs::metadata(&path).ok()?.modified().ok()?;
                Some(Snapshot {
                    preset: read_env(&path).ok().flatten().map(|env| env.preset),
                    saved_ms: saved
                        .duration_since(std::time::UNIX_EPOCH)
                        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX)),
                    name,
                })
            })
            .collect();
        all.sort_by(|a, b| (a.saved_ms, &a.name).cmp(&(b.saved_ms, &b.name)));
        all
    }

    /// Snapshot names, sorted.
    fn snapshot_names(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.dir.join("snapshots"))
            .map(|rd| {
                rd.filter_map(|e| e.ok()?.file_name().into_string().ok())
                    .filter_map(|n| n.strip_suffix(".toml").map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }

    /// Removes snapshot `name`.
    pub fn remove_snapshot(&self, name: &str) -> Result<(), EnvError> {
        check_name(name)?;
        let path = self.snapshot_path(name);
        if !path.exists() {
            return Err(EnvError::SnapshotNotFound {
                agent: self.agent.clone(),
                name: name.to_owned(),
            });
        }
        remove_durably(&path).map_err(|e| io(&path, e))
    }
}
