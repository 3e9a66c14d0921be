//! Crash-safe file replacement and the advisory lock that serialises writers.
//!
//! A write goes to a temporary file in the same directory, is fsynced, renamed over
//! the target, and the directory is fsynced, so a reader sees the old file or the new
//! one, never a torn one. Writers that read-modify-write hold a [`DirLock`] (fs2) so
//! concurrent `aiswitch` processes never lose an update.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use fs2::FileExt;

/// Writes `bytes` to `path` atomically with the given Unix mode (0600 for files that
/// may hold secrets). The temporary file beside it has a random name and is created
/// with `O_CREAT|O_EXCL` (so never through a file or symlink someone planted there),
/// with its mode set at creation, before any byte is written; the rename replaces
/// `path` itself, never what a symlink there points to.
pub fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    let mut file = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        .permissions(fs::Permissions::from_mode(mode))
        .tempfile_in(dir)?;
    file.write_all(bytes)?;
    file.as_file().sync_all()?;
    file.persist(path).map_err(|e| e.error)?;
    File::open(dir)?.sync_all()
}

/// Removes `path` and fsyncs its directory so the removal survives a crash.
pub fn remove_durably(path: &Path) -> io::Result<()> {
    fs::remove_file(path)?;
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    File::open(dir)?.sync_all()
}

/// An exclusive advisory lock on a lock file; released when dropped.
#[derive(Debug)]
pub struct DirLock {
    file: File,
    path: PathBuf,
}

impl DirLock {
    /// Blocks until the lock at `path` is held by this process.
    pub fn acquire(path: &Path) -> io::Result<Self> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(path)?;
        file.lock_exclusive()?;
        Ok(Self {
            file,
            path: path.to_path_buf(),
        })
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for DirLock {
    fn drop(&mut self) {
        let _ = FileExt::unlock(&self.file);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn replaces_content_with_private_mode() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let path = tmp.path().join("p.toml");
        write_atomic(&path, b"one", 0o600).expect("first");
        write_atomic(&path, b"two", 0o600).expect("second");
        assert_eq!(fs::read(&path).expect("read"), b"two");
        let mode = fs::metadata(&path).expect("stat").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let leftovers = fs::read_dir(tmp.path()).expect("ls").count();
        assert_eq!(leftovers, 1, "no temporary file is left behind");
    }
}
