//! What a candidate does with a Lease, given what it observed and the time: a pure function.

use std::time::Duration;

use jiff::Timestamp;

use crate::lease_record::LeaseRecord;

/// The outcome of looking at the Lease.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeaseAction {
    /// No Lease exists: create it holding it.
    Create(LeaseRecord),
    /// The Lease is free or expired: take it over (a new leadership term).
    Acquire(LeaseRecord),
    /// We hold it: bump renewTime.
    Renew(LeaseRecord),
    /// Someone else holds a live Lease.
    HeldByOther { holder: String },
}

/// Decide what `identity` does with `observed` (None: no Lease) at `now`.
pub fn decide(
    observed: Option<&LeaseRecord>,
    identity: &str,
    now: Timestamp,
    lease_duration: Duration,
) -> LeaseAction {
    let seconds = i32::try_from(lease_duration.as_secs()).unwrap_or(i32::MAX);
    let Some(current) = observed else {
        return LeaseAction::Create(LeaseRecord {
            holder_identity: Some(identity.to_string()),
            lease_duration_seconds: Some(seconds),
            acquire_time: Some(now),
            renew_time: Some(now),
            lease_transitions: 0,
        });
    };
    if current.holder_identity.as_deref() == Some(identity) {
        return LeaseAction::Renew(LeaseRecord {
            holder_identity: Some(identity.to_string()),
            lease_duration_seconds: Some(seconds),
            acquire_time: current.acquire_time.or(Some(now)),
            renew_time: Some(now),
            lease_transitions: current.lease_transitions,
        });
    }
    if let Some(holder) = &current.holder_identity {
        if !is_expired(current, now, lease_duration) {
            return LeaseAction::HeldByOther {
                holder: holder.clone(),
            };
        }
    }
    let transitions = if current.holder_identity.is_some() {
        current.lease_transitions.saturating_add(1)
    } else {
        current.lease_transitions
    };
    LeaseAction::Acquire(LeaseRecord {
        holder_identity: Some(identity.to_string()),
        lease_duration_seconds: Some(seconds),
        acquire_time: Some(now),
        renew_time: Some(now),
        lease_transitions: transitions,
    })
}

/// A Lease is expired once its holder has not renewed for its own leaseDurationSeconds
/// (ours when it names none).
fn is_expired(current: &LeaseRecord, now: Timestamp, default_duration: Duration) -> bool {
    let Some(renewed) = current.renew_time.or(current.acquire_time) else {
        return true;
    };
    let duration = current
        .lease_duration_seconds
        .filter(|seconds| *seconds > 0)
        .map(|seconds| jiff::SignedDuration::from_secs(i64::from(seconds)))
        .unwrap_or_else(|| {
            jiff::SignedDuration::try_from(default_duration).unwrap_or(jiff::SignedDuration::MAX)
        });
    match renewed.checked_add(duration) {
        Ok(deadline) => deadline <= now,
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIFTEEN: Duration = Duration::from_secs(15);

    fn at(seconds: i64) -> Timestamp {
        Timestamp::from_second(1_700_000_000 + seconds).unwrap()
    }

    fn held_by(holder: &str, renewed: i64, transitions: i32) -> LeaseRecord {
        LeaseRecord {
            holder_identity: Some(holder.into()),
            lease_duration_seconds: Some(15),
            acquire_time: Some(at(0)),
            renew_time: Some(at(renewed)),
            lease_transitions: transitions,
        }
    }

    #[test]
    fn missing_lease_is_created_held_by_us() {
        let LeaseAction::Create(record) = decide(None, "a", at(5), FIFTEEN) else {
            panic!("expected create");
        };
        assert_eq!(record.holder_identity.as_deref(), Some("a"));
        assert_eq!(record.lease_duration_seconds, Some(15));
        assert_eq!(record.acquire_time, Some(at(5)));
        assert_eq!(record.renew_time, Some(at(5)));
        assert_eq!(record.lease_transitions, 0);
    }

    #[test]
    fn live_lease_of_another_is_left_alone() {
        let lease = held_by("b", 10, 3);
        assert_eq!(
            decide(Some(&lease), "a", at(24), FIFTEEN),
            LeaseAction::HeldByOther { holder: "b".into() }
        );
    }

    #[test]
    fn expired_lease_of_another_is_taken_over_with_a_new_transition() {
        let lease = held_by("b", 10, 3);
        let LeaseAction::Acquire(record) = decide(Some(&lease), "a", at(25), FIFTEEN) else {
            panic!("expected acquire");
        };
        assert_eq!(record.holder_identity.as_deref(), Some("a"));
        assert_eq!(record.acquire_time, Some(at(25)));
        assert_eq!(record.lease_transitions, 4);
    }

    #[test]
    fn our_lease_is_renewed_keeping_acquire_time_and_transitions() {
        let lease = held_by("a", 10, 2);
        let LeaseAction::Renew(record) = decide(Some(&lease), "a", at(12), FIFTEEN) else {
            panic!("expected renew");
        };
        assert_eq!(record.acquire_time, Some(at(0)));
        assert_eq!(record.renew_time, Some(at(12)));
        assert_eq!(record.lease_transitions, 2);
    }

    #[test]
    fn released_lease_is_acquired_without_counting_a_transition() {
        let lease = LeaseRecord {
            holder_identity: None,
            lease_transitions: 5,
            ..LeaseRecord::default()
        };
        let LeaseAction::Acquire(record) = decide(Some(&lease), "a", at(1), FIFTEEN) else {
            panic!("expected acquire");
        };
        assert_eq!(record.lease_transitions, 5);
    }

    #[test]
    fn holder_without_renew_time_is_expired() {
        let lease = LeaseRecord {
            holder_identity: Some("b".into()),
            ..LeaseRecord::default()
        };
        assert!(matches!(
            decide(Some(&lease), "a", at(1), FIFTEEN),
            LeaseAction::Acquire(_)
        ));
    }
}
