//! "Install command-line tool": links the `aiswitch` shipped beside the app into a
//! directory on the user's PATH (`~/.local/bin` by default), so the terminal and the
//! app run the same version against the same engine host. Idempotent; never replaces
//! a file that is not a link.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

/// What installing did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Installed {
    /// The link.
    pub link: PathBuf,
    /// It was already there, pointing at this app's CLI.
    pub already: bool,
    /// Its directory is on PATH.
    pub on_path: bool,
}

impl Installed {
    /// One line for the user.
    pub fn describe(&self) -> String {
        let done = if self.already {
            "already installed"
        } else {
            "installed"
        };
        let dir = self.link.parent().unwrap_or(Path::new("")).display();
        if self.on_path {
            format!("aiswitch {done} as {}", self.link.display())
        } else {
            format!(
                "aiswitch {done} as {}; {dir} is not on your PATH: add it to use `aiswitch`",
                self.link.display()
            )
        }
    }
}

/// The default directory: `~/.local/bin` (XDG's executable directory).
pub fn default_dir() -> Option<PathBuf> {
    directories::BaseDirs::new().and_then(|dirs| dirs.executable_dir().map(Path::to_path_buf))
}

/// Links `cli` as `dir/aiswitch`. `path` is the PATH to check the directory against.
pub fn install(cli: &Path, dir: &Path, path: Option<&OsStr>) -> Result<Installed, String> {
    if !cli.is_file() {
        return Err(format!(
            "the command-line tool is missing from the app ({}): reinstall aiswitch",
            cli.display()
        ));
    }
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let link = dir.join("aiswitch");
    let already = match std::fs::symlink_metadata(&link) {
        Err(_) => false,
        Ok(meta) if meta.file_type().is_symlink() => {
            std::fs::read_link(&link).is_ok_and(|t| t == cli)
        }
        Ok(_) => {
            return Err(format!(
                "{} exists and is not a link aiswitch made: remove it or install elsewhere",
                link.display()
            ));
        }
    };
    if !already {
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(cli, &link)
            .map_err(|e| format!("cannot link {}: {e}", link.display()))?;
    }
    let on_path = path.is_some_and(|path| std::env::split_paths(path).any(|p| p == dir));
    Ok(Installed {
        link,
        already,
        on_path,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_once_says_when_the_directory_is_not_on_path_and_keeps_foreign_files() {
        let tmp = tempfile::tempdir().unwrap();
        let cli = tmp.path().join("app/aiswitch");
        std::fs::create_dir_all(cli.parent().unwrap()).unwrap();
        std::fs::write(&cli, "#!/bin/sh\n").unwrap();
        let bin = tmp.path().join("home/.local/bin");

        let first = install(&cli, &bin, Some(OsStr::new("/usr/bin"))).unwrap();
        assert_eq!(std::fs::read_link(&first.link).unwrap(), cli);
        assert!(!first.already && !first.on_path);
        assert!(
            first.describe().contains("is not on your PATH"),
            "{}",
            first.describe()
        );

        let path = std::env::join_paths([Path::new("/usr/bin"), &bin]).unwrap();
        let again = install(&cli, &bin, Some(&path)).unwrap();
        assert!(again.already && again.on_path);

        // A link to another version is replaced; a real file is never touched.
        std::fs::remove_file(&again.link).unwrap();
        std::os::unix::fs::symlink("/old/aiswitch", &again.link).unwrap();
        assert!(!install(&cli, &bin, None).unwrap().already);
        std::fs::remove_file(&again.link).unwrap();
        std::fs::write(&again.link, "mine").unwrap();
        let refused = install(&cli, &bin, None).unwrap_err();
        assert!(refused.contains("is not a link aiswitch made"), "{refused}");
        assert_eq!(std::fs::read_to_string(&again.link).unwrap(), "mine");

        let missing = install(&tmp.path().join("nope"), &bin, None).unwrap_err();
        assert!(missing.contains("missing from the app"), "{missing}");
    }
}
