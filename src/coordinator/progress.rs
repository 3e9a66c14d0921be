//! Task progress in fewer messages: the output chunks already waiting to be sent are
//! joined per agent before they go out, so three agents writing 1,000 lines a second
//! each cost a few hundred event messages a second instead of thousands. Nothing
//! waits for a batch to fill: only what is queued at the moment is joined, and each
//! agent's events keep their order.

use std::collections::HashMap;

use super::TaskEvent;

/// `events` (in the order they happened) with each agent's consecutive output
/// chunks joined: a chunk joins the agent's previous output event unless another
/// event of that agent (or of the task) came between them.
pub fn join_output(events: Vec<TaskEvent>) -> Vec<TaskEvent> {
    let mut out: Vec<TaskEvent> = Vec::with_capacity(events.len());
    let mut open: HashMap<String, usize> = HashMap::new();
    for event in events {
        match event {
            TaskEvent::Output { agent, text } => match open.get(&agent) {
                Some(&at) => {
                    if let TaskEvent::Output { text: held, .. } = &mut out[at] {
                        held.push_str(&text);
                    }
                }
                None => {
                    open.insert(agent.clone(), out.len());
                    out.push(TaskEvent::Output { agent, text });
                }
            },
            TaskEvent::TaskStarted { .. } | TaskEvent::TaskFinished { .. } => {
                open.clear();
                out.push(event);
            }
            TaskEvent::Started { ref agent }
            | TaskEvent::Thought { ref agent, .. }
            | TaskEvent::ToolCall { ref agent, .. }
            | TaskEvent::Usage { ref agent, .. }
            | TaskEvent::Finished { ref agent, .. } => {
                open.remove(agent);
                out.push(event);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::coordinator::RunStatus;

    fn output(agent: &str, text: &str) -> TaskEvent {
        TaskEvent::Output {
            agent: agent.into(),
            text: text.into(),
        }
    }

    #[test]
    fn interleaved_agents_are_joined_per_agent_and_keep_their_order() {
        let events = vec![
            output("a", "1"),
            output("b", "x"),
            output("a", "2"),
            TaskEvent::Finished {
                agent: "a".into(),
                status: RunStatus::Succeeded,
            },
            output("b", "y"),
            output("a", "late"),
        ];
        let joined = join_output(events);
        let shown: Vec<String> = joined
            .iter()
            .map(|e| match e {
                TaskEvent::Output { agent, text } => format!("{agent}:{text}"),
                TaskEvent::Finished { agent, .. } => format!("{agent}:finished"),
                _ => "other".into(),
            })
            .collect();
        assert_eq!(shown, ["a:12", "b:xy", "a:finished", "a:late"]);
    }
}
