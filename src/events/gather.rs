//! Events gathered for a few milliseconds before they go to a page together.
//!
//! A page handles one message carrying fifty events much faster than fifty messages,
//! and three agents streaming 1,000 lines a second each are thousands of events a
//! second. The first item gathered waits at most [`GATHER_FOR`] (under one frame) for
//! others; a gathering that grows past its limit goes at once. The dashboard's
//! WebSocket bridge and the app's window both pass events on this way.

use std::time::{Duration, Instant};

/// How long the first gathered item waits for others (under a frame at 60 Hz).
pub const GATHER_FOR: Duration = Duration::from_millis(8);

/// Items waiting to go together, in the order they came.
#[derive(Debug)]
pub struct Gathered<T> {
    items: Vec<T>,
    weight: usize,
    most: usize,
    since: Option<Instant>,
}

impl<T> Gathered<T> {
    /// An empty gathering that asks to go once its items weigh `most` (bytes, records:
    /// whatever the caller weighs them in).
    pub fn new(most: usize) -> Self {
        Self {
            items: Vec::new(),
            weight: 0,
            most,
            since: None,
        }
    }

    /// Adds an item of `weight`; true when the gathering should go now.
    pub fn push(&mut self, item: T, weight: usize) -> bool {
        self.since.get_or_insert_with(Instant::now);
        self.weight += weight;
        self.items.push(item);
        self.weight >= self.most
    }

    /// When what is gathered must go; `None` while nothing is.
    pub fn due(&self) -> Option<Instant> {
        self.since.map(|since| since + GATHER_FOR)
    }

    /// Takes what is gathered, in order, and starts again.
    pub fn take(&mut self) -> Vec<T> {
        self.since = None;
        self.weight = 0;
        std::mem::take(&mut self.items)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_go_in_order_and_the_clock_starts_with_the_first() {
        let mut gathered = Gathered::new(10);
        assert!(gathered.due().is_none());
        assert!(!gathered.push("a", 1));
        let due = gathered.due().expect("due once something is gathered");
        assert!(!gathered.push("b", 1));
        assert_eq!(
            gathered.due(),
            Some(due),
            "a later item does not push it back"
        );
        assert_eq!(gathered.take(), ["a", "b"]);
        assert!(gathered.due().is_none());
        assert!(gathered.take().is_empty());
    }

    #[test]
    fn a_heavy_gathering_asks_to_go_at_once() {
        let mut gathered = Gathered::new(100);
        let pushes = 1 + (0..1000).take_while(|&i| !gathered.push(i, 30)).count();
        assert_eq!(pushes, 4);
        assert_eq!(gathered.take().len(), 4);
        assert!(!gathered.push(0, 30), "the weight starts again after take");
    }
}
