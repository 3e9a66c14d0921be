//! The live display of a running task: on a terminal, one line per agent (state,
//! elapsed time, tokens so far, latest output line) with indicatif; otherwise plain
//! lines, each agent's output buffered until a line ends.

use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::time::Duration;

use aiswitch::coordinator::{RunStatus, TaskEvent};
use aiswitch::escape::for_terminal;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::tasks::status_word;

/// Shows task events as they arrive.
pub enum TaskDisplay {
    /// `--json`: nothing live.
    Quiet,
    /// Not a terminal: plain lines.
    Lines {
        /// Per agent, output not yet ended by a newline.
        partial: HashMap<String, String>,
    },
    /// A terminal: one live line per agent.
    Bars {
        multi: MultiProgress,
        bars: HashMap<String, AgentLine>,
    },
}

/// One agent's live line.
pub struct AgentLine {
    bar: ProgressBar,
    state: &'static str,
    tokens: String,
    latest: String,
    output: String,
}

impl AgentLine {
    fn refresh(&self) {
        self.bar.set_message(format!(
            "{:<9} {:>14}  {}",
            self.state, self.tokens, self.latest
        ));
    }
}

impl TaskDisplay {
    /// A display for stdout; `live` is false with `--json`.
    pub fn new(live: bool) -> Self {
        if !live {
            Self::Quiet
        } else if std::io::stdout().is_terminal() {
            Self::Bars {
                multi: MultiProgress::with_draw_target(ProgressDrawTarget::stdout()),
                bars: HashMap::new(),
            }
        } else {
            Self::Lines {
                partial: HashMap::new(),
            }
        }
    }

    /// Shows one event.
    pub fn show(&mut self, event: TaskEvent) {
        match self {
            Self::Quiet => {}
            Self::Lines { partial } => print_lines(partial, event),
            Self::Bars { multi, bars } => update_bars(multi, bars, event),
        }
    }

    /// Leaves the final state of every line on screen.
    pub fn finish(&mut self) {
        if let Self::Bars { bars, .. } = self {
            for line in bars.values().filter(|l| !l.bar.is_finished()) {
                line.bar.finish();
            }
        }
    }
}

/// The last `max` characters of `text`, with an ellipsis when cut (the end of an
/// output line, such as a file name, says the most).
fn tail(text: &str, max: usize) -> String {
    let count = text.chars().count();
    if count <= max {
        return text.to_owned();
    }
    let kept: String = text.chars().skip(count - (max - 1)).collect();
    format!("…{kept}")
}

fn print_lines(partial: &mut HashMap<String, String>, event: TaskEvent) {
    let mut lines = Vec::new();
    match event {
        TaskEvent::TaskStarted { .. }
        | TaskEvent::TaskFinished { .. }
        | TaskEvent::Thought { .. }
        | TaskEvent::Usage { .. } => {}
        TaskEvent::Started { agent } => lines.push(format!("[{agent}] started")),
        TaskEvent::ToolCall { agent, name } => {
            lines.push(format!("[{agent}] → {}", for_terminal(&name)));
        }
        TaskEvent::Output { agent, text } => {
            let buffer = partial.entry(agent.clone()).or_default();
            buffer.push_str(&text);
            while let Some(end) = buffer.find('\n') {
                let line: String = buffer.drain(..=end).collect();
                lines.push(format!("[{agent}] {}", for_terminal(line.trim_end())));
            }
        }
        TaskEvent::Finished { agent, status } => {
            if let Some(rest) = partial.remove(&agent).filter(|r| !r.trim().is_empty()) {
                lines.push(format!("[{agent}] {}", for_terminal(rest.trim_end())));
            }
            lines.push(format!("[{agent}] {}", status_word(status)));
        }
    }
    let mut stdout = std::io::stdout().lock();
    for line in lines {
        let _ = writeln!(stdout, "{line}");
    }
}

fn update_bars(multi: &MultiProgress, bars: &mut HashMap<String, AgentLine>, event: TaskEvent) {
    let style = ProgressStyle::with_template("{spinner} {prefix:<16} {elapsed:>4} {msg}")
        .unwrap_or_else(|_| ProgressStyle::default_spinner());
    match event {
        TaskEvent::TaskStarted { agents } => {
            for agent in agents {
                let bar = multi.add(ProgressBar::new_spinner());
                bar.set_style(style.clone());
                bar.set_prefix(agent.clone());
                bar.enable_steady_tick(Duration::from_millis(120));
                let line = AgentLine {
                    bar,
                    state: "waiting",
                    tokens: String::new(),
                    latest: String::new(),
                    output: String::new(),
                };
                line.refresh();
                bars.insert(agent, line);
            }
        }
        TaskEvent::Started { agent } => {
            if let Some(line) = bars.get_mut(&agent) {
                line.state = "running";
                line.bar.reset_elapsed();
                line.refresh();
            }
        }
        TaskEvent::Output { agent, text } => {
            if let Some(line) = bars.get_mut(&agent) {
                line.output.push_str(&text);
                let last = line
                    .output
                    .lines()
                    .rev()
                    .find(|l| !l.trim().is_empty())
                    .unwrap_or_default();
                line.latest = tail(&for_terminal(last), 40);
                line.refresh();
            }
        }
        TaskEvent::Usage { agent, tokens } => {
            if let Some(line) = bars.get_mut(&agent) {
                line.tokens = format!(
                    "{}/{} tok",
                    tokens.input + tokens.cache_read + tokens.cache_write,
                    tokens.output
                );
                line.refresh();
            }
        }
        TaskEvent::Finished { agent, status } => {
            if let Some(line) = bars.get_mut(&agent) {
                line.state = status_word(status);
                line.bar.set_style(
                    ProgressStyle::with_template(if status == RunStatus::Succeeded {
                        "✓ {prefix:<16} {elapsed:>4} {msg}"
                    } else {
                        "✗ {prefix:<16} {elapsed:>4} {msg}"
                    })
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                );
                line.refresh();
                line.bar.finish();
            }
        }
        TaskEvent::ToolCall { agent, name } => {
            if let Some(line) = bars.get_mut(&agent) {
                line.latest = tail(&format!("→ {}", for_terminal(&name)), 40);
                line.refresh();
            }
        }
        TaskEvent::TaskFinished { .. } | TaskEvent::Thought { .. } => {}
    }
}
