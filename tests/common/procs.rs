//! Reading /proc: process groups, children and zombies.
#![allow(dead_code)]

use std::time::{Duration, Instant};

/// (pid, state, ppid, pgrp) of every process.
pub fn all() -> Vec<(u32, char, u32, u32)> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            let rest = &stat[stat.rfind(')')? + 2..];
            let mut fields = rest.split_whitespace();
            let state = fields.next()?.chars().next()?;
            let ppid = fields.next()?.parse().ok()?;
            let pgrp = fields.next()?.parse().ok()?;
            Some((pid, state, ppid, pgrp))
        })
        .collect()
}

/// Live (non-zombie) processes of a process group.
pub fn in_group(pgid: u32) -> Vec<u32> {
    all()
        .into_iter()
        .filter(|p| p.3 == pgid && p.1 != 'Z')
        .map(|p| p.0)
        .collect()
}

/// Zombie children of `ppid`.
pub fn zombies_of(ppid: u32) -> Vec<u32> {
    all()
        .into_iter()
        .filter(|p| p.2 == ppid && p.1 == 'Z')
        .map(|p| p.0)
        .collect()
}

/// Children of `ppid`.
pub fn children_of(ppid: u32) -> Vec<u32> {
    all()
        .into_iter()
        .filter(|p| p.2 == ppid)
        .map(|p| p.0)
        .collect()
}

/// Polls `check` until it holds or `deadline` passes; true when it held.
pub fn eventually(deadline: Duration, mut check: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + deadline;
    loop {
        if check() {
            return true;
        }
        if Instant::now() >= end {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}
