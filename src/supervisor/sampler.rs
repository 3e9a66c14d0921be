//! CPU and memory of each agent's whole process tree, sampled once a second while
//! at least one agent runs, and not at all when none does.

use std::collections::HashMap;
use std::sync::{Arc, Weak};
use std::time::Duration;

use sysinfo::{Pid, ProcessRefreshKind, ProcessesToUpdate, System};

use super::Shared;

/// How often a running agent is sampled.
const PERIOD: Duration = Duration::from_secs(1);

/// CPU (percent of one core) and resident memory (bytes) of a process tree.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Usage {
    /// CPU over the last period, in percent of one core.
    pub cpu_percent: f32,
    /// Resident memory now, in bytes.
    pub memory_bytes: u64,
}

/// How many periods between two full scans of the system's processes (which find
/// processes an agent started since the last one).
const FULL_SCAN_EVERY: u64 = 10;

/// `root` and all its descendants.
fn descendants(children: &HashMap<Pid, Vec<Pid>>, root: Pid) -> Vec<Pid> {
    let mut found = Vec::new();
    let mut stack = vec![root];
    while let Some(pid) = stack.pop() {
        found.push(pid);
        if let Some(kids) = children.get(&pid) {
            stack.extend(kids);
        }
    }
    found
}

/// Sums usage over `root` and all its descendants.
fn tree_usage(system: &System, children: &HashMap<Pid, Vec<Pid>>, root: Pid) -> Usage {
    let mut usage = Usage::default();
    for process in descendants(children, root)
        .into_iter()
        .filter_map(|pid| system.process(pid))
    {
        usage.cpu_percent += process.cpu_usage();
        usage.memory_bytes += process.memory();
    }
    usage
}

/// The sampling loop: exits as soon as no agent has a process, and is started
/// again by the next agent that starts.
pub(crate) async fn run(shared: Weak<Shared>) {
    let Ok(mut system) = System::new() else {
        // No process information on this system: nothing to sample.
        if let Some(shared) = shared.upgrade() {
            shared.sampler_stopped();
        }
        return;
    };
    let kind = ProcessRefreshKind::nothing().with_cpu().with_memory();
    // The process trees, as the last full scan of the system found them. A full scan
    // reads every process on the machine; in between, only the trees' processes are
    // read, which keeps a daemon with idle agents nearly idle itself.
    let mut children: HashMap<Pid, Vec<Pid>> = HashMap::new();
    let mut trees: Vec<Pid> = Vec::new();
    let mut last_roots = Vec::new();
    for tick in 0u64.. {
        tokio::time::sleep(PERIOD).await;
        let Some(shared) = shared.upgrade() else {
            return;
        };
        let mut roots = shared.running_pids();
        if roots.is_empty() {
            shared.sampler_stopped();
            // An agent that started meanwhile saw the sampler running: keep going.
            roots = shared.running_pids();
            if roots.is_empty() || !shared.claim_sampler() {
                return;
            }
        }
        roots.sort();
        if tick % FULL_SCAN_EVERY == 0 || roots != last_roots {
            system.refresh_processes_specifics(ProcessesToUpdate::All, true, kind);
            children.clear();
            for (pid, process) in system.processes() {
                if let Some(parent) = process.parent() {
                    children.entry(parent).or_default().push(*pid);
                }
            }
            trees = roots
                .iter()
                .flat_map(|(_, pid)| descendants(&children, Pid::from_u32(*pid)))
                .collect();
            last_roots.clone_from(&roots);
        } else {
            system.refresh_processes_specifics(ProcessesToUpdate::Some(&trees), true, kind);
        }
        for (name, pid) in roots {
            let usage = tree_usage(&system, &children, Pid::from_u32(pid));
            shared.record_usage(&name, usage);
        }
        drop::<Arc<Shared>>(shared);
    }
}
