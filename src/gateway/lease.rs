//! Launch leases: each agent launch that goes through the gateway gets a random
//! token standing in for the API key. The token maps to the launch (agent, task,
//! copy) and to the upstream it currently uses; it stops working when the launch
//! ends (its [`Lease`] is dropped). A switch re-points every lease that follows the
//! agent's environment at once; requests in flight keep the upstream they started on.

use std::collections::HashMap;
use std::sync::{Arc, RwLock, Weak};

use super::upstream::Upstream;

/// Who a launch is, for the ledger.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LaunchInfo {
    /// The agent's id.
    pub agent: String,
    /// The copy's label in a task (`claude-2`), when it differs from the id.
    pub instance: Option<String>,
    /// The task, when the launch runs one.
    pub task_id: Option<String>,
    /// The working directory it runs in, when known (a task's, or where `run` was
    /// started).
    pub project: Option<String>,
}

/// Whether a launch follows its agent's switched environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Binding {
    /// It keeps the preset it was started with.
    Pinned,
    /// `env switch` re-points it.
    FollowsAgent,
}

#[derive(Debug)]
struct Entry {
    info: LaunchInfo,
    binding: Binding,
    upstream: Arc<Upstream>,
    launch_model: Option<String>,
    /// After a fall-back: the upstream it left, and when its window resets.
    left: Option<(Arc<Upstream>, Option<i64>)>,
}

/// A launch moved to its upstream's fallback.
#[derive(Debug, Clone)]
pub struct FellBack {
    /// The launch.
    pub info: LaunchInfo,
    /// The preset it left.
    pub from: String,
    /// The preset it uses now.
    pub to: String,
    /// When it moves back (the window's reset), if it will.
    pub back_at_ms: Option<i64>,
}

/// The live leases, by token.
#[derive(Debug, Default)]
pub struct LeaseTable {
    entries: RwLock<HashMap<String, Entry>>,
}

/// What a request with a valid token is served with.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// The launch.
    pub info: LaunchInfo,
    /// Its upstream at this moment.
    pub upstream: Arc<Upstream>,
    /// The model the CLI was started with (what its requests ask for).
    pub launch_model: Option<String>,
}

impl LeaseTable {
    /// Registers a launch under a fresh token.
    pub fn issue(
        self: &Arc<Self>,
        info: LaunchInfo,
        binding: Binding,
        upstream: Upstream,
    ) -> std::io::Result<Lease> {
        let token = format!("aiswitch-{}", crate::random::random_hex()?);
        let entry = Entry {
            info,
            binding,
            launch_model: upstream.model.clone(),
            upstream: Arc::new(upstream),
            left: None,
        };
        self.write().insert(token.clone(), entry);
        Ok(Lease {
            token,
            table: Arc::downgrade(self),
            files: None,
        })
    }

    /// The launch holding `token`, if it is live, at `now_ms` (a launch that fell
    /// back and asked to come back does once the window has reset).
    pub fn resolve(&self, token: &str, now_ms: i64) -> Option<Resolved> {
        let due = |e: &Entry| {
            e.left
                .as_ref()
                .is_some_and(|(old, reset)| old.switch_back && reset.is_some_and(|r| r <= now_ms))
        };
        {
            let entries = self.entries.read().unwrap_or_else(|e| e.into_inner());
            let entry = entries.get(token)?;
            if !due(entry) {
                return Some(Resolved {
                    info: entry.info.clone(),
                    upstream: entry.upstream.clone(),
                    launch_model: entry.launch_model.clone(),
                });
            }
        }
        let mut entries = self.write();
        let entry = entries.get_mut(token)?;
        if due(entry)
            && let Some((old, _)) = entry.left.take()
        {
            entry.upstream = old;
        }
        Some(Resolved {
            info: entry.info.clone(),
            upstream: entry.upstream.clone(),
            launch_model: entry.launch_model.clone(),
        })
    }

    /// Moves the launch holding `token` to its upstream's fallback (its window
    /// resets at `reset_ms`); `None` when it has none or already moved.
    pub fn fall_back(&self, token: &str, reset_ms: Option<i64>) -> Option<FellBack> {
        let mut entries = self.write();
        let entry = entries.get_mut(token)?;
        let fallback = entry.upstream.fallback.as_ref()?;
        let next = Arc::new((**fallback).clone());
        let old = std::mem::replace(&mut entry.upstream, next);
        let moved = FellBack {
            info: entry.info.clone(),
            from: old.preset.clone(),
            to: entry.upstream.preset.clone(),
            back_at_ms: old.switch_back.then_some(reset_ms).flatten(),
        };
        entry.left = Some((old, reset_ms));
        Some(moved)
    }

    /// Points every live launch of `agent` that follows its environment at
    /// `upstream`; returns how many.
    pub fn switch(&self, agent: &str, upstream: &Upstream) -> usize {
        let shared = Arc::new(upstream.clone());
        let mut switched = 0;
        for entry in self.write().values_mut() {
            if entry.binding == Binding::FollowsAgent && entry.info.agent == agent {
                entry.upstream = shared.clone();
                entry.left = None;
                switched += 1;
            }
        }
        switched
    }

    /// How many launches are live.
    pub fn len(&self) -> usize {
        self.entries.read().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// True when no launch is live.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<String, Entry>> {
        self.entries.write().unwrap_or_else(|e| e.into_inner())
    }
}

/// The short name of the launch `token` belongs to: the first 12 hex digits.
pub fn short_id(token: &str) -> &str {
    let hex = token.trim_start_matches("aiswitch-");
    &hex[..hex.len().min(12)]
}

/// A live launch's token; the token is refused once this is dropped.
#[derive(Debug)]
pub struct Lease {
    token: String,
    table: Weak<LeaseTable>,
    files: Option<std::path::PathBuf>,
}

impl Lease {
    /// The token the launch sends in place of the API key.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// A short name of this launch (for its files' directory, and its ledger rows).
    pub fn short_id(&self) -> &str {
        short_id(&self.token)
    }

    /// Removes `dir` (the launch's own config files) when the launch ends.
    pub fn remove_on_end(&mut self, dir: std::path::PathBuf) {
        self.files = Some(dir);
    }

    /// Says who the launch is, once that is known (a task's id and copy label).
    pub fn relabel(&self, info: LaunchInfo) {
        if let Some(table) = self.table.upgrade()
            && let Some(entry) = table.write().get_mut(&self.token)
        {
            entry.info = info;
        }
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        if let Some(table) = self.table.upgrade() {
            table.write().remove(&self.token);
        }
        if let Some(dir) = self.files.take() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// A shared lease, as a launch spec holds it (equal when the token is).
#[derive(Debug, Clone)]
pub struct LeaseHandle(pub Arc<Lease>);

impl PartialEq for LeaseHandle {
    fn eq(&self, other: &Self) -> bool {
        self.0.token == other.0.token
    }
}

impl Eq for LeaseHandle {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::presets::ProviderKind;

    fn upstream(preset: &str) -> Upstream {
        Upstream::new(
            preset,
            ProviderKind::Anthropic,
            Some("http://127.0.0.1:1"),
            Some("sk-real"),
        )
    }

    fn info(agent: &str) -> LaunchInfo {
        LaunchInfo {
            agent: agent.to_owned(),
            ..LaunchInfo::default()
        }
    }

    #[test]
    fn a_token_works_while_its_lease_lives() {
        let table = Arc::new(LeaseTable::default());
        let lease = table
            .issue(info("claude"), Binding::Pinned, upstream("a"))
            .expect("issue");
        let token = lease.token().to_owned();
        assert!(token.starts_with("aiswitch-") && token.len() > 30);
        assert_eq!(
            table.resolve(&token, 0).map(|r| r.info.agent).as_deref(),
            Some("claude")
        );
        drop(lease);
        assert!(table.resolve(&token, 0).is_none());
        assert!(table.resolve("sk-real", 0).is_none());
    }

    #[test]
    fn a_switch_moves_following_launches_of_that_agent_only() {
        let table = Arc::new(LeaseTable::default());
        let follows = table
            .issue(info("claude"), Binding::FollowsAgent, upstream("a"))
            .expect("issue");
        let pinned = table
            .issue(info("claude"), Binding::Pinned, upstream("a"))
            .expect("issue");
        let other = table
            .issue(info("codex"), Binding::FollowsAgent, upstream("a"))
            .expect("issue");
        let in_flight = table.resolve(follows.token(), 0).expect("live").upstream;
        assert_eq!(table.switch("claude", &upstream("b")), 1);
        let preset = |l: &Lease| {
            table
                .resolve(l.token(), 0)
                .expect("live")
                .upstream
                .preset
                .clone()
        };
        assert_eq!(
            (preset(&follows), preset(&pinned), preset(&other)),
            ("b".into(), "a".into(), "a".into())
        );
        assert_eq!(
            in_flight.preset, "a",
            "a request already served keeps its upstream"
        );
    }
}
