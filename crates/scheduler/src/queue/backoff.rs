//! Per-pod backoff: 1 s doubling per failed attempt, at most 10 s (upstream's defaults).

use std::time::Duration;

pub const INITIAL_BACKOFF: Duration = Duration::from_secs(1);
pub const MAX_BACKOFF: Duration = Duration::from_secs(10);
/// Unschedulable pods are retried after this long even without a cluster event.
pub const MAX_IN_UNSCHEDULABLE: Duration = Duration::from_secs(5 * 60);

/// The backoff after `attempts` failed attempts.
pub fn backoff_duration(attempts: u32) -> Duration {
    let mut duration = INITIAL_BACKOFF;
    for _ in 1..attempts {
        duration = duration.saturating_mul(2);
        if duration >= MAX_BACKOFF {
            return MAX_BACKOFF;
        }
    }
    duration
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_up_to_ten_seconds() {
        assert_eq!(backoff_duration(0), Duration::from_secs(1));
        assert_eq!(backoff_duration(1), Duration::from_secs(1));
        assert_eq!(backoff_duration(2), Duration::from_secs(2));
        assert_eq!(backoff_duration(3), Duration::from_secs(4));
        assert_eq!(backoff_duration(4), Duration::from_secs(8));
        assert_eq!(backoff_duration(5), Duration::from_secs(10));
        assert_eq!(backoff_duration(50), Duration::from_secs(10));
    }
}
