//! Where a follower of the event stream resumes after a reconnect: after the last
//! stored event it saw, or, before it saw any, after the id its subscription started
//! from. So nothing stored while the daemon was away is missed, and nothing is seen
//! twice.

use super::{Event, EventRecord};

/// A follower's place in the stored events.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Resume(Option<i64>);

impl Resume {
    /// What to pass to `event.subscribe` (`None`: from now on).
    pub fn since(self) -> Option<i64> {
        self.0
    }

    /// Moves past `record`.
    pub fn saw(&mut self, record: &EventRecord) {
        if let Some(id) = record.id {
            self.0 = Some(id);
        }
        if let Event::Subscribed { after } = record.event {
            self.0.get_or_insert(after);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(id: i64) -> EventRecord {
        EventRecord {
            id: Some(id),
            ..EventRecord::live(Event::DaemonStarted {
                pid: 1,
                version: "1".into(),
            })
        }
    }

    #[test]
    fn a_follower_resumes_after_what_it_saw() {
        let mut at = Resume::default();
        assert_eq!(at.since(), None);
        at.saw(&EventRecord::live(Event::Subscribed { after: 40 }));
        assert_eq!(
            at.since(),
            Some(40),
            "nothing seen yet: from where it started"
        );
        at.saw(&stored(41));
        at.saw(&EventRecord::live(Event::Subscribed { after: 50 }));
        assert_eq!(
            at.since(),
            Some(41),
            "a later subscription does not skip ahead"
        );
        at.saw(&EventRecord::live(Event::DaemonStarted {
            pid: 2,
            version: "1".into(),
        }));
        assert_eq!(at.since(), Some(41), "live events carry no id");
    }
}
