//! Agent discovery: which agent programs are installed and their versions, from the
//! discovery cache where the program has not changed, else from its npm package's
//! `package.json`, else by starting it with its version flag. A listing waits for
//! started programs up to [`LIST_WAIT`] and shows the rest as probing: the engine host
//! lets them finish, caches what they print and publishes `agent_probed`; any other
//! process kills them (it leaves no process behind) and probes again next time.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::Engine;
use super::agents::AgentInfo;
use crate::agents::discovery::{DiscoveryCache, Fingerprint, Probe, VersionSource};
use crate::agents::version::{self, VersionProbe};
use crate::agents::{AgentEntry, resolve_command};
use crate::events::Event;

/// How long a listing waits for programs started to print their version.
pub(crate) const LIST_WAIT: Duration = Duration::from_millis(800);
/// How long a program may take to print its version.
pub(crate) const PROBE_DEADLINE: Duration = Duration::from_secs(3);

/// A program started for its version, and the listing entries waiting for it.
struct Pending {
    path: PathBuf,
    fingerprint: Fingerprint,
    agents: Vec<usize>,
    probe: Arc<VersionProbe>,
}

/// A finished probe, sent back to the listing.
struct Finished {
    pending: usize,
    version: Option<String>,
    took_ms: u64,
}

impl Engine {
    /// Every agent with whether its program is installed and its version, and the
    /// registered manifests that are invalid. `refresh` finds every version again and
    /// waits for each (up to [`PROBE_DEADLINE`]).
    pub fn list_agents(&self, refresh: bool) -> (Vec<AgentInfo>, Vec<String>) {
        let (entries, problems) = self.agent_registry().list();
        let cache_file = self.paths.data_dir.join("discovery.json");
        let cache = DiscoveryCache::load(&cache_file);
        let mut infos = Vec::with_capacity(entries.len());
        let mut found = Vec::new();
        let mut pending: Vec<Pending> = Vec::new();
        let mut by_path: BTreeMap<PathBuf, usize> = BTreeMap::new();
        for entry in entries {
            let version_args = entry.manifest.version_args.clone();
            let mut info = agent_info(entry);
            let Some((path, fingerprint)) = info
                .path
                .clone()
                .and_then(|p| Fingerprint::of(&p).map(|f| (p, f)))
            else {
                infos.push(info);
                continue;
            };
            let known = (!refresh)
                .then(|| cache.known(&path, fingerprint))
                .flatten();
            if let Some(known) = known {
                info.version = known;
            } else if let Some(v) = version::from_package_json(&path) {
                info.version = Some(v.clone());
                found.push((
                    path,
                    probe(fingerprint, Some(v), VersionSource::PackageJson, 0),
                ));
            } else if let Some(&i) = by_path.get(&path) {
                info.probing = true;
                pending[i].agents.push(infos.len());
            } else if let Some(started) = VersionProbe::start(&path, &version_args) {
                info.probing = true;
                by_path.insert(path.clone(), pending.len());
                pending.push(Pending {
                    path,
                    fingerprint,
                    agents: vec![infos.len()],
                    probe: Arc::new(started),
                });
            }
            infos.push(info);
        }
        let wait = if refresh { PROBE_DEADLINE } else { LIST_WAIT };
        for done in self.wait_for(&pending, &infos, wait) {
            let p = &pending[done.pending];
            for &i in &p.agents {
                infos[i].version = done.version.clone();
                infos[i].probing = false;
            }
            let source = VersionSource::Program;
            found.push((
                p.path.clone(),
                probe(p.fingerprint, done.version, source, done.took_ms),
            ));
        }
        if !found.is_empty() && crate::paths::ensure_private_dir(&self.paths.data_dir).is_ok() {
            DiscoveryCache::add_to(&cache_file, found);
        }
        (infos, problems.iter().map(ToString::to_string).collect())
    }

    /// Waits up to `wait` for the probes, returning those that finished. The rest are
    /// handed over: the host caches and publishes them when they finish; other
    /// processes kill them.
    fn wait_for(&self, pending: &[Pending], infos: &[AgentInfo], wait: Duration) -> Vec<Finished> {
        if pending.is_empty() {
            return Vec::new();
        }
        let host = self.host.get().is_some();
        let handed_over = Arc::new(Mutex::new(false));
        let (tx, rx) = mpsc::channel();
        for (index, p) in pending.iter().enumerate() {
            let (tx, handed_over, started) = (tx.clone(), handed_over.clone(), p.probe.clone());
            let agents: Vec<String> = p.agents.iter().map(|&i| infos[i].id.clone()).collect();
            let (engine, path, fingerprint) = (self.clone(), p.path.clone(), p.fingerprint);
            std::thread::spawn(move || {
                let clock = Instant::now();
                let version = started.wait(clock + PROBE_DEADLINE);
                let took_ms = u64::try_from(clock.elapsed().as_millis()).unwrap_or(u64::MAX);
                let handed = handed_over.lock().unwrap_or_else(|e| e.into_inner());
                if !*handed {
                    let _ = tx.send(Finished {
                        pending: index,
                        version,
                        took_ms,
                    });
                } else if host {
                    drop(handed);
                    let found = probe(
                        fingerprint,
                        version.clone(),
                        VersionSource::Program,
                        took_ms,
                    );
                    engine.publish_probe(path, found, agents);
                }
            });
        }
        drop(tx);
        let deadline = Instant::now() + wait;
        let mut finished = Vec::new();
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match rx.recv_timeout(left) {
                Ok(done) => finished.push(done),
                Err(_) => break,
            }
        }
        *handed_over.lock().unwrap_or_else(|e| e.into_inner()) = true;
        finished.extend(rx.try_iter());
        if !host {
            let done: Vec<usize> = finished.iter().map(|f| f.pending).collect();
            for (index, p) in pending.iter().enumerate() {
                if !done.contains(&index) {
                    p.probe.kill();
                }
            }
        }
        finished
    }

    /// Caches a probe that finished after its listing returned and tells subscribers.
    fn publish_probe(&self, path: PathBuf, found: Probe, agents: Vec<String>) {
        let events: Vec<Event> = agents
            .into_iter()
            .map(|agent| Event::AgentProbed {
                agent,
                version: found.version.clone(),
                took_ms: found.took_ms,
            })
            .collect();
        DiscoveryCache::add_to(&self.paths.data_dir.join("discovery.json"), [(path, found)]);
        if let Err(e) = self.record(&events) {
            tracing::warn!("could not record a background probe: {e}");
        }
    }
}

fn probe(
    fingerprint: Fingerprint,
    version: Option<String>,
    source: VersionSource,
    took_ms: u64,
) -> Probe {
    Probe {
        fingerprint,
        version,
        source,
        took_ms,
    }
}

/// What a listing says of an agent before its version is known.
fn agent_info(entry: AgentEntry) -> AgentInfo {
    let m = entry.manifest;
    AgentInfo {
        id: m.id.to_string(),
        name: m.name.clone(),
        driver: m.driver.as_str(),
        lifetime: m.lifetime,
        origin: entry.origin,
        path: resolve_command(&m.command),
        command: m.command,
        version: None,
        probing: false,
        accepts: m.inject.keys().copied().collect(),
    }
}
