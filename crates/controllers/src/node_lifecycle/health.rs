//! Whether a node's kubelet is still alive. Like upstream, staleness is judged on our own clock:
//! the last time we *saw* the Lease's renewTime or the Ready heartbeat change (the probe time),
//! so a skewed kubelet clock does not matter.

use jiff::Timestamp;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heartbeat {
    pub lease_renewed: Option<Timestamp>,
    pub ready_heartbeat: Option<Timestamp>,
    /// When either of the above last changed, on our clock.
    pub probed_at: Timestamp,
}

/// Record what the caches show now; the probe time moves only when something changed.
pub fn observe(
    previous: Option<&Heartbeat>,
    lease_renewed: Option<Timestamp>,
    ready_heartbeat: Option<Timestamp>,
    now: Timestamp,
) -> Heartbeat {
    match previous {
        Some(previous)
            if previous.lease_renewed == lease_renewed
                && previous.ready_heartbeat == ready_heartbeat =>
        {
            previous.clone()
        }
        _ => Heartbeat {
            lease_renewed,
            ready_heartbeat,
            probed_at: now,
        },
    }
}

/// Time left before the node counts as gone; zero once the grace period has passed.
pub fn time_left(heartbeat: &Heartbeat, grace: Duration, now: Timestamp) -> Duration {
    let elapsed =
        Duration::try_from(now.duration_since(heartbeat.probed_at)).unwrap_or(Duration::ZERO);
    grace.saturating_sub(elapsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> Timestamp {
        Timestamp::from_second(1_700_000_000 + seconds).unwrap()
    }

    #[test]
    fn a_node_goes_stale_only_after_the_grace_period_without_renewal() {
        let grace = Duration::from_secs(40);
        let first = observe(None, Some(at(0)), None, at(0));
        assert_eq!(time_left(&first, grace, at(10)), Duration::from_secs(30));
        let unchanged = observe(Some(&first), Some(at(0)), None, at(30));
        assert_eq!(unchanged.probed_at, at(0));
        assert_eq!(time_left(&unchanged, grace, at(41)), Duration::ZERO);
        let renewed = observe(Some(&unchanged), Some(at(35)), None, at(41));
        assert_eq!(time_left(&renewed, grace, at(41)), grace);
    }
}
