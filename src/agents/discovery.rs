//! The discovery cache (`data/discovery.json`): per program aiswitch found, its size and
//! modification time (of the file a link points to) and the version it printed. A
//! listing starts only the programs that are new or changed since they were probed, so
//! `agents list` and `doctor` do not start every CLI on every call; an upgrade in place
//! changes the file and is probed again.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::UNIX_EPOCH;

use serde::{Deserialize, Serialize};

/// What identifies one version of a program on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fingerprint {
    /// Bytes.
    pub size: u64,
    /// Modification time, nanoseconds since the epoch.
    pub modified_ns: u128,
}

impl Fingerprint {
    /// The fingerprint of the file `path` resolves to; `None` when it cannot be read.
    pub fn of(path: &Path) -> Option<Self> {
        let meta = std::fs::metadata(path).ok()?;
        let modified = meta.modified().ok()?.duration_since(UNIX_EPOCH).ok()?;
        Some(Self {
            size: meta.len(),
            modified_ns: modified.as_nanos(),
        })
    }
}

/// Where a version was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VersionSource {
    /// The `package.json` of the npm package the program belongs to.
    PackageJson,
    /// What the program printed when started with its version flag.
    Program,
}

/// One probe's outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Probe {
    /// The program's file when it was probed.
    pub fingerprint: Fingerprint,
    /// The version found (`None`: none was).
    pub version: Option<String>,
    /// Where it came from.
    pub source: VersionSource,
    /// How long finding it took, in milliseconds.
    pub took_ms: u64,
}

/// The cache file's contents.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct DiscoveryCache {
    probes: BTreeMap<PathBuf, Probe>,
}

impl DiscoveryCache {
    /// The cache at `file`; empty when it is missing or unreadable (it is only a cache).
    pub fn load(file: &Path) -> Self {
        std::fs::read(file)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default()
    }

    /// Writes the cache to `file` atomically; a failure only costs a probe next time.
    pub fn save(&self, file: &Path) {
        if let Ok(bytes) = serde_json::to_vec(self) {
            let _ = crate::atomic_file::write_atomic(file, &bytes, 0o600);
        }
    }

    /// Adds `probes` to the cache at `file` (re-read first, so probes finishing in
    /// other threads of this process are kept).
    pub fn add_to(file: &Path, probes: impl IntoIterator<Item = (PathBuf, Probe)>) {
        static SAVING: Mutex<()> = Mutex::new(());
        let _saving = SAVING.lock().unwrap_or_else(|e| e.into_inner());
        let mut cache = Self::load(file);
        cache.probes.extend(probes);
        cache.save(file);
    }

    /// The version probed for `path` when it has not changed since (`Some(None)`: it
    /// printed none); `None` when it must be probed.
    pub fn known(&self, path: &Path, now: Fingerprint) -> Option<Option<String>> {
        self.probes
            .get(path)
            .filter(|p| p.fingerprint == now)
            .map(|p| p.version.clone())
    }

    /// Records a probe of `path`.
    pub fn remember(&mut self, path: PathBuf, probe: Probe) {
        self.probes.insert(path, probe);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_changed_program_is_unknown_and_the_cache_survives_a_reload() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let program = tmp.path().join("cli");
        std::fs::write(&program, "v1").expect("write");
        let before = Fingerprint::of(&program).expect("fingerprint");
        let mut cache = DiscoveryCache::default();
        assert_eq!(cache.known(&program, before), None);
        let probe = Probe {
            fingerprint: before,
            version: Some("1.0".into()),
            source: VersionSource::Program,
            took_ms: 4,
        };
        cache.remember(program.clone(), probe);
        let file = tmp.path().join("discovery.json");
        cache.save(&file);
        let cache = DiscoveryCache::load(&file);
        assert_eq!(cache.known(&program, before), Some(Some("1.0".into())));
        std::fs::write(&program, "version 2").expect("upgrade");
        let after = Fingerprint::of(&program).expect("fingerprint");
        assert_eq!(cache.known(&program, after), None, "upgraded in place");
        std::fs::write(&file, "{corrupt").expect("corrupt");
        assert_eq!(DiscoveryCache::load(&file).known(&program, after), None);
    }
}
