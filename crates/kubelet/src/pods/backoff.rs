//! Upstream's container restart back-off: 10 s doubling to 300 s, forgotten after 10 min of running.

use std::collections::HashMap;
use std::time::Duration;

use jiff::Timestamp;

pub const INITIAL_BACKOFF: Duration = Duration::from_secs(10);
pub const MAX_BACKOFF: Duration = Duration::from_secs(300);
/// A container that ran this long before exiting starts over at the initial back-off.
pub const RESET_AFTER_RUNNING: Duration = Duration::from_secs(600);

#[derive(Debug, Clone, Copy)]
struct Entry {
    backoff: Duration,
    last_update: Timestamp,
}

/// Back-off per container name of one pod.
#[derive(Debug, Clone, Default)]
pub struct BackOff {
    entries: HashMap<String, Entry>,
}

fn since(now: Timestamp, then: Timestamp) -> Duration {
    let nanos = now.as_nanosecond() - then.as_nanosecond();
    Duration::from_nanos(nanos.clamp(0, u64::MAX as i128) as u64)
}

impl BackOff {
    /// The current back-off if `name`, which exited at `finished_at`, must still wait.
    pub fn in_backoff_since(
        &self,
        name: &str,
        finished_at: Timestamp,
        now: Timestamp,
    ) -> Option<Duration> {
        let entry = self.entries.get(name)?;
        (since(now, finished_at) < entry.backoff).then_some(entry.backoff)
    }

    /// Records a restart of `name` now, doubling its back-off.
    pub fn next(&mut self, name: &str, now: Timestamp) {
        let entry = match self.entries.get(name) {
            Some(e) if since(now, e.last_update) <= 2 * MAX_BACKOFF => Entry {
                backoff: (e.backoff * 2).min(MAX_BACKOFF),
                last_update: now,
            },
            _ => Entry {
                backoff: INITIAL_BACKOFF,
                last_update: now,
            },
        };
        self.entries.insert(name.to_string(), entry);
    }

    pub fn reset(&mut self, name: &str) {
        self.entries.remove(name);
    }
}

/// Go's time.Duration formatting for whole seconds: "10s", "1m20s", "5m0s".
pub fn go_duration(duration: Duration) -> String {
    let secs = duration.as_secs();
    if secs < 60 {
        format!("{secs}s")
    } else if secs < 3600 {
        format!("{}m{}s", secs / 60, secs % 60)
    } else {
        format!("{}h{}m{}s", secs / 3600, (secs % 3600) / 60, secs % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> Timestamp {
        Timestamp::from_second(secs).unwrap()
    }

    #[test]
    fn doubles_up_to_the_cap() {
        let mut backoff = BackOff::default();
        assert_eq!(backoff.in_backoff_since("c", at(100), at(100)), None);
        backoff.next("c", at(100));
        assert_eq!(
            backoff.in_backoff_since("c", at(105), at(110)),
            Some(INITIAL_BACKOFF)
        );
        assert_eq!(backoff.in_backoff_since("c", at(105), at(115)), None);
        for i in 0..10 {
            backoff.next("c", at(120 + i));
        }
        assert_eq!(
            backoff.in_backoff_since("c", at(130), at(131)),
            Some(MAX_BACKOFF)
        );
        backoff.next("c", at(10_000));
        assert_eq!(
            backoff.in_backoff_since("c", at(10_000), at(10_001)),
            Some(INITIAL_BACKOFF)
        );
    }

    #[test]
    fn formats_like_go() {
        assert_eq!(go_duration(Duration::from_secs(10)), "10s");
        assert_eq!(go_duration(Duration::from_secs(80)), "1m20s");
        assert_eq!(go_duration(Duration::from_secs(300)), "5m0s");
    }
}
