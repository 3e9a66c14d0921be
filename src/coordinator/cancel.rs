//! What the user cancels in a running task: the whole task, or one agent of it
//! (the others go on). One sender per task, held by whoever runs it (the CLI's
//! Ctrl-C, the engine host's `task.cancel`); the coordinator watches it.

use std::collections::BTreeSet;

use tokio::sync::watch;

#[derive(Debug, Clone, Default)]
struct Requested {
    all: bool,
    agents: BTreeSet<String>,
}

/// The sending side: cancels the task or one of its agents.
#[derive(Debug)]
pub struct Canceller(watch::Sender<Requested>);

/// The watching side, given to [`super::run_task`].
#[derive(Debug, Clone)]
pub struct CancelWatch(watch::Receiver<Requested>);

/// A new pair for one task.
pub fn cancellation() -> (Canceller, CancelWatch) {
    let (tx, rx) = watch::channel(Requested::default());
    (Canceller(tx), CancelWatch(rx))
}

impl Canceller {
    /// Cancels every agent of the task.
    pub fn cancel_all(&self) {
        self.0.send_modify(|r| r.all = true);
    }

    /// Cancels one agent of the task; the others go on.
    pub fn cancel_agent(&self, agent: &str) {
        self.0.send_modify(|r| {
            r.agents.insert(agent.to_owned());
        });
    }
}

impl CancelWatch {
    /// Resolves when the whole task is cancelled; never when the sender is gone
    /// without cancelling.
    pub async fn all(&mut self) {
        if self.0.wait_for(|r| r.all).await.is_err() {
            std::future::pending::<()>().await;
        }
    }

    /// Resolves when `agent` alone is cancelled (not when the whole task is).
    pub async fn agent(&mut self, agent: &str) {
        if self.0.wait_for(|r| r.agents.contains(agent)).await.is_err() {
            std::future::pending::<()>().await;
        }
    }

    /// Whether `agent` alone was cancelled already (before its turn in a sequence).
    pub fn agent_cancelled(&self, agent: &str) -> bool {
        self.0.borrow().agents.contains(agent)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn one_agent_cancelled_leaves_the_task_and_the_others_running() {
        let (canceller, watch) = cancellation();
        canceller.cancel_agent("slow");
        let mut w = watch.clone();
        w.agent("slow").await;
        assert!(watch.agent_cancelled("slow"));
        assert!(!watch.agent_cancelled("fast"));
        assert!(
            !watch.0.borrow().all,
            "the task as a whole is not cancelled"
        );
        canceller.cancel_all();
        watch.clone().all().await;
    }
}
