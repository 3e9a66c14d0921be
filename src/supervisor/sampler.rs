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

/// Sums usage over `root` and all its descendants.
fn tree_usage(system: &System, children: &HashMap<Pid, Vec<Pid>>, root: Pid) -> Usage {
    let mut usage = Usage::default();
    let mut stack = vec![root];
    while let Some(pid) = stack.pop() {
        if let Some(process) = system.process(pid) {
            usage.cpu_percent += process.cpu_usage();
            usage.memory_bytes += process.memory();
        }
        if let Some(kids) = children.get(&pid) {
            stack.extend(kids);
        }
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
    loop {
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
        system.refresh_processes_specifics(ProcessesToUpdate::All, true, kind);
        let mut children: HashMap<Pid, Vec<Pid>> = HashMap::new();
        for (pid, process) in system.processes() {
            if let Some(parent) = process.parent() {
                children.entry(parent).or_default().push(*pid);
            }
        }
        for (name, pid) in roots {
            let usage = tree_usage(&system, &children, Pid::from_u32(pid));
            shared.record_usage(&name, usage);
        }
        drop::<Arc<Shared>>(shared);
    }
}
