//! Runtime provider switching: each agent's active environment (the preset it runs
//! with, resolved into env vars and flags), switched atomically with snapshots and
//! rollback.
//!
//! A switch runs under the agent's lock: validate → snapshot → apply → verify, and
//! any failure rolls back to the snapshot. The active environment is one file
//! replaced by rename, so it is always entirely the old one or entirely the new one;
//! a journal written before the apply lets the next switch (or `env show`) finish or
//! undo one that a crash interrupted.

mod store;

use serde::{Deserialize, Serialize};

use crate::agents::{InjectedFile, Injection};

pub use store::{AUTO_SNAPSHOTS, EnvStore, Step, check_name as store_check_name};

/// A saved environment an agent can roll back to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Snapshot {
    /// Its name (`auto-<ms>` for those taken before each switch).
    pub name: String,
    /// The preset a rollback to it puts back; `None` when the file is corrupt (a
    /// rollback to it is refused).
    pub preset: Option<String>,
    /// When it was saved, in ms since the epoch.
    pub saved_ms: i64,
}

/// An agent's full effective environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentEnv {
    /// The agent.
    pub agent: String,
    /// The preset it came from.
    pub preset: String,
    /// Env vars, in order.
    pub env: Vec<(String, String)>,
    /// Extra arguments.
    pub args: Vec<String>,
    /// Config files the agent reads.
    #[serde(default)]
    pub files: Vec<InjectedFile>,
    /// The `_meta` of ACP `session/new`, as JSON text.
    #[serde(default)]
    pub session_meta: Option<String>,
    /// FNV-1a of everything above: a changed or truncated file does not pass.
    pub checksum: String,
}

impl AgentEnv {
    /// Builds an environment with its checksum.
    pub fn new(agent: &str, preset: &str, injection: Injection) -> Self {
        let mut this = Self {
            agent: agent.to_owned(),
            preset: preset.to_owned(),
            env: injection.env,
            args: injection.args,
            files: injection.files,
            session_meta: injection.session_meta.map(|m| m.to_string()),
            checksum: String::new(),
        };
        this.checksum = this.compute_checksum();
        this
    }

    fn compute_checksum(&self) -> String {
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        let mut feed = |bytes: &[u8]| {
            for b in bytes.iter().chain(&[0xff]) {
                hash ^= u64::from(*b);
                hash = hash.wrapping_mul(0x0100_0000_01b3);
            }
        };
        feed(self.agent.as_bytes());
        feed(self.preset.as_bytes());
        for (k, v) in &self.env {
            feed(k.as_bytes());
            feed(v.as_bytes());
        }
        for a in &self.args {
            feed(a.as_bytes());
        }
        if let Some(meta) = &self.session_meta {
            feed(meta.as_bytes());
        }
        for f in &self.files {
            feed(f.path.as_os_str().as_encoded_bytes());
            feed(f.contents.as_bytes());
        }
        format!("{hash:016x}")
    }

    /// True when the checksum matches the content.
    pub fn is_intact(&self) -> bool {
        self.checksum == self.compute_checksum()
    }
}

/// What can go wrong switching.
#[derive(Debug, thiserror::Error)]
pub enum EnvError {
    /// The switch failed at a step and was rolled back.
    #[error("switching {agent} to {preset} failed at {step}: {reason}; the agent keeps {kept}")]
    SwitchFailed {
        /// The agent.
        agent: String,
        /// The preset asked for.
        preset: String,
        /// The step that failed.
        step: Step,
        /// Why.
        reason: String,
        /// What the agent runs with now.
        kept: String,
    },
    /// No snapshot with this name.
    #[error("snapshot {name} of {agent} does not exist: see `aiswitch env snapshots {agent}`")]
    SnapshotNotFound {
        /// The agent.
        agent: String,
        /// The snapshot.
        name: String,
    },
    /// The snapshot file is damaged.
    #[error("snapshot {name} of {agent} is corrupt ({reason}): nothing was changed")]
    SnapshotCorrupt {
        /// The agent.
        agent: String,
        /// The snapshot.
        name: String,
        /// What is wrong.
        reason: String,
    },
    /// A snapshot with this name exists.
    #[error("snapshot {name} of {agent} already exists: use --force to replace it")]
    SnapshotExists {
        /// The agent.
        agent: String,
        /// The snapshot.
        name: String,
    },
    /// A snapshot name that is not a safe file name.
    #[error("invalid snapshot name {0:?}: use 1-64 letters, digits, '.', '_' or '-'")]
    InvalidName(String),
    /// The agent's environment names a preset that no longer exists.
    #[error(
        "{agent} was switched to preset {preset}, which no longer exists: switch it (`aiswitch env switch {agent} PRESET`) or roll it back (`aiswitch env rollback {agent} SNAPSHOT`)"
    )]
    PresetGone {
        /// The agent.
        agent: String,
        /// The missing preset.
        preset: String,
    },
    /// The agent has no environment to snapshot yet.
    #[error("{0} has no environment yet: switch it first with `aiswitch env switch {0} PRESET`")]
    NothingActive(String),
    /// Reading or writing the environment files failed.
    #[error("{path}: {message}")]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// What failed.
        message: String,
    },
}

impl EnvError {
    /// The control API code (DESIGN §4.2).
    pub fn code(&self) -> i32 {
        match self {
            Self::SwitchFailed { .. } => -40202,
            Self::PresetGone { .. } => -40201,
            Self::SnapshotNotFound { .. } => -40203,
            Self::SnapshotCorrupt { .. } => -40204,
            Self::SnapshotExists { .. } | Self::InvalidName(_) | Self::NothingActive(_) => -32602,
            Self::Io { .. } => -40404,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_catches_any_change() {
        let injection = Injection {
            env: vec![("K".into(), "v".into())],
            args: vec!["-m".into()],
            files: vec![InjectedFile {
                path: "/f/settings.json".into(),
                contents: "{}".into(),
            }],
            session_meta: None,
            lease: None,
        };
        let env = AgentEnv::new("a", "p", injection);
        assert!(env.is_intact());
        let mut changed = env.clone();
        changed.env[0].1 = "w".into();
        assert!(!changed.is_intact());
        let mut changed = env.clone();
        changed.files[0].contents = "{\"env\": {}}".into();
        assert!(!changed.is_intact(), "a changed file is caught too");
    }
}
