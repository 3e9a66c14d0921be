//! A launch: the program, arguments, env vars and files that run one agent CLI with
//! a preset. Every launch path (the supervisor, `agents check`, tasks, `aiswitch run`,
//! `apply -- CMD`) starts from the same injection, so the preset wins the same way
//! everywhere. Files are aiswitch's own, under its data directory, never the user's.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::atomic_file::write_atomic;
use crate::paths::ensure_private_dir;
use crate::presets::env_policy::is_provider_var;
use crate::redact::is_secret;
use crate::shell::Shell;

/// A config file an agent reads, written by aiswitch before the agent starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InjectedFile {
    /// Where it goes (under aiswitch's data directory).
    pub path: PathBuf,
    /// Its content (JSON); may hold a secret, so it is written 0600.
    pub contents: String,
}

impl InjectedFile {
    /// Writes the file (0600, in a 0700 directory, atomically), unless it already
    /// holds exactly this content: concurrent launches with one preset share it.
    pub fn write(&self) -> std::io::Result<()> {
        if std::fs::read(&self.path).is_ok_and(|old| old == self.contents.as_bytes()) {
            return Ok(());
        }
        if let Some(dir) = self.path.parent() {
            ensure_private_dir(dir).map_err(std::io::Error::other)?;
        }
        write_atomic(&self.path, self.contents.as_bytes(), 0o600)
    }
}

/// Writes every file of a launch; the error names the file.
pub fn write_files(files: &[InjectedFile]) -> Result<(), (PathBuf, std::io::Error)> {
    files
        .iter()
        .try_for_each(|f| f.write().map_err(|e| (f.path.clone(), e)))
}

/// One interactive launch of an agent CLI: what `aiswitch run` and `apply -- CMD`
/// execute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Launch {
    /// The program (as found on PATH, or as given).
    pub program: PathBuf,
    /// Injected arguments, then the user's.
    pub args: Vec<String>,
    /// Env vars set on top of the caller's, in order.
    pub env: Vec<(String, String)>,
    /// The caller's env vars removed first: provider variables the preset does not
    /// set (see [`stale_provider_vars`]).
    pub env_remove: Vec<String>,
    /// Files written before the start.
    pub files: Vec<InjectedFile>,
    /// Injected arguments left out because the user's own arguments set the same
    /// flag (the user's explicit argument wins).
    pub dropped: Vec<String>,
}

impl Launch {
    /// The equivalent shell command: secrets as `"$VAR"` references (the caller's
    /// shell must hold them), everything else quoted.
    pub fn shell_command(&self, shell: Shell) -> String {
        let mut line = String::new();
        if !self.env.is_empty() || !self.env_remove.is_empty() {
            line.push_str("env ");
        }
        for name in &self.env_remove {
            let _ = write!(line, "-u {name} ");
        }
        for (name, value) in &self.env {
            if is_secret(name, value) {
                let _ = write!(line, "{name}=\"${name}\" ");
            } else {
                let _ = write!(line, "{name}={} ", shell.quote(value));
            }
        }
        line.push_str(&shell.quote(&self.program.display().to_string()));
        for arg in &self.args {
            line.push(' ');
            line.push_str(&shell.quote(arg));
        }
        line
    }

    /// The secret env vars the printed command expects the shell to hold.
    pub fn secret_names(&self) -> Vec<&str> {
        self.env
            .iter()
            .filter(|(name, value)| is_secret(name, value))
            .map(|(name, _)| name.as_str())
            .collect()
    }
}

/// The variables of this process's environment that a launch with a preset setting
/// `env` must not pass on: every provider variable (URL, key, model, ... of any
/// provider family or agent CLI) the preset does not set, and every name a previous
/// `aiswitch apply` exported into the shell (listed in `AISWITCH_VARS`). Without
/// this, a key would reach the provider a stale variable names.
pub fn stale_provider_vars(env: &[(String, String)]) -> Vec<String> {
    let set: std::collections::BTreeSet<&str> = env.iter().map(|(k, _)| k.as_str()).collect();
    let applied = std::env::var(crate::shell::VARS_VAR).unwrap_or_default();
    let applied: Vec<&str> = applied.split(':').filter(|n| !n.is_empty()).collect();
    let mut stale: Vec<String> = std::env::vars_os()
        .filter_map(|(name, _)| name.into_string().ok())
        .filter(|name| !set.contains(name.as_str()))
        .filter(|name| is_provider_var(name) || applied.contains(&name.as_str()))
        .collect();
    stale.sort();
    stale
}

/// Where the files of `agent` with `preset` live under `data_dir`.
pub fn files_dir(data_dir: &Path, agent: &str, preset: &str) -> PathBuf {
    data_dir.join("inject").join(agent).join(preset)
}
