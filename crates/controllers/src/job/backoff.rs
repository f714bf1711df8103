//! Upstream's back-off before recreating pods of a Job whose pods keep failing: 10 s doubling per
//! failure since the last success, capped at 6 minutes, counted from the last failure.

use std::time::Duration;

use jiff::Timestamp;

const INITIAL_DELAY: Duration = Duration::from_secs(10);
const MAX_DELAY: Duration = Duration::from_secs(360);

/// The delay owed after `failures` consecutive failures.
pub fn delay_after_failures(failures: u32) -> Duration {
    if failures == 0 {
        return Duration::ZERO;
    }
    let doublings = (failures - 1).min(16);
    INITIAL_DELAY.saturating_mul(1 << doublings).min(MAX_DELAY)
}

/// How long to wait from `now` before a new pod may start; zero when none.
pub fn remaining_delay(failures: u32, last_failure: Option<Timestamp>, now: Timestamp) -> Duration {
    let Some(last_failure) = last_failure else {
        return Duration::ZERO;
    };
    let delay = delay_after_failures(failures);
    let elapsed = now.duration_since(last_failure);
    let elapsed = Duration::try_from(elapsed).unwrap_or(Duration::ZERO);
    delay.saturating_sub(elapsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delay_doubles_from_ten_seconds_up_to_six_minutes() {
        assert_eq!(delay_after_failures(0), Duration::ZERO);
        assert_eq!(delay_after_failures(1), Duration::from_secs(10));
        assert_eq!(delay_after_failures(2), Duration::from_secs(20));
        assert_eq!(delay_after_failures(3), Duration::from_secs(40));
        assert_eq!(delay_after_failures(6), Duration::from_secs(320));
        assert_eq!(delay_after_failures(7), Duration::from_secs(360));
        assert_eq!(delay_after_failures(100), Duration::from_secs(360));
    }

    #[test]
    fn remaining_delay_counts_from_the_last_failure() {
        let failed_at: Timestamp = "2025-01-01T00:00:00Z".parse().unwrap();
        let now: Timestamp = "2025-01-01T00:00:15Z".parse().unwrap();
        assert_eq!(
            remaining_delay(2, Some(failed_at), now),
            Duration::from_secs(5)
        );
        assert_eq!(remaining_delay(1, Some(failed_at), now), Duration::ZERO);
        assert_eq!(remaining_delay(3, None, now), Duration::ZERO);
    }
}
