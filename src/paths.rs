//! Where aiswitch keeps its files.
//!
//! `AISWITCH_HOME` overrides everything (tests always set it); otherwise the XDG base
//! directories, resolved by the `directories` crate. This module only computes paths
//! and creates directories with private permissions; it never reads their contents.

use std::fs;
use std::io;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// The environment variable that puts every aiswitch file under one directory.
pub const HOME_ENV: &str = "AISWITCH_HOME";

/// The three directories aiswitch uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paths {
    /// Presets, settings (`config.toml`), the current-preset marker, agent manifests.
    pub config_dir: PathBuf,
    /// `aiswitch.db`, snapshots and per-agent logs.
    pub data_dir: PathBuf,
    /// The control socket and lock files.
    pub runtime_dir: PathBuf,
}

/// A directory could not be determined or created.
#[derive(Debug, thiserror::Error)]
pub enum PathsError {
    /// Neither `AISWITCH_HOME` nor a home directory is known.
    #[error("cannot find a home directory: set AISWITCH_HOME or HOME")]
    NoHome,
    /// Creating or securing a directory failed.
    #[error("cannot create directory {path}: {source}; check its permissions or set AISWITCH_HOME")]
    Create {
        /// The directory that could not be created.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// A directory of aiswitch's belongs to another user: whoever owns it can read
    /// what aiswitch puts there (keys, the control socket) or plant files.
    #[error(
        "directory {path} belongs to uid {owner}, not to you (uid {me}): aiswitch will not use it; remove it or set AISWITCH_HOME to a directory of yours"
    )]
    NotOwned {
        /// The directory.
        path: PathBuf,
        /// Its owner.
        owner: u32,
        /// The current user.
        me: u32,
    },
}

impl Paths {
    /// Resolves the directories from the process environment.
    pub fn from_env() -> Result<Self, PathsError> {
        match std::env::var_os(HOME_ENV) {
            Some(home) if !home.is_empty() => Ok(Self::under(PathBuf::from(home))),
            _ => Self::xdg(),
        }
    }

    /// All three directories under one root: `config/`, `data/`, `run/`.
    pub fn under(root: PathBuf) -> Self {
        Self {
            config_dir: root.join("config"),
            data_dir: root.join("data"),
            runtime_dir: root.join("run"),
        }
    }

    fn xdg() -> Result<Self, PathsError> {
        let dirs = directories::ProjectDirs::from("", "", "aiswitch").ok_or(PathsError::NoHome)?;
        let data_dir = dirs.data_dir().to_path_buf();
        let runtime_dir = dirs
            .runtime_dir()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| data_dir.join("run"));
        Ok(Self {
            config_dir: dirs.config_dir().to_path_buf(),
            data_dir,
            runtime_dir,
        })
    }

    /// The directory holding one TOML file per preset.
    pub fn presets_dir(&self) -> PathBuf {
        self.config_dir.join("presets")
    }

    /// The layered settings file.
    pub fn config_file(&self) -> PathBuf {
        self.config_dir.join("config.toml")
    }

    /// The control socket of the engine host (the daemon, or the desktop app).
    pub fn control_socket(&self) -> PathBuf {
        self.runtime_dir.join(crate::control::SOCKET_NAME)
    }

    /// The SQLite database.
    pub fn database(&self) -> PathBuf {
        self.data_dir.join("aiswitch.db")
    }
}

/// Creates `dir` and its missing parents with mode 0700, and tightens an existing
/// directory that aiswitch created with looser permissions.
pub fn ensure_private_dir(dir: &Path) -> Result<(), PathsError> {
    let err = |source| PathsError::Create {
        path: dir.to_path_buf(),
        source,
    };
    if !dir.is_dir() {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(err)?;
    }
    let meta = fs::metadata(dir).map_err(err)?;
    let me = nix::unistd::Uid::effective().as_raw();
    if meta.uid() != me {
        return Err(PathsError::NotOwned {
            path: dir.to_path_buf(),
            owner: meta.uid(),
            me,
        });
    }
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(err)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn home_puts_everything_under_one_root() {
        let paths = Paths::under(PathBuf::from("/x"));
        assert_eq!(paths.presets_dir(), PathBuf::from("/x/config/presets"));
        assert_eq!(paths.database(), PathBuf::from("/x/data/aiswitch.db"));
        assert_eq!(paths.runtime_dir, PathBuf::from("/x/run"));
    }

    #[test]
    fn private_dirs_are_0700() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("a/b");
        ensure_private_dir(&dir).expect("create");
        let mode = fs::metadata(&dir).expect("stat").permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
    }
}
