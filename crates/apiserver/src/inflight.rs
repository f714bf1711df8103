//! Seats for requests in flight: `--max-requests-inflight` (reads) and
//! `--max-mutating-requests-inflight` (writes), with a queue in front of each, in the manner of
//! upstream's API Priority and Fairness rather than its older reject-at-once limit.
//!
//! A request without a free seat waits in line (first come, first seated) for up to
//! [`QUEUE_WAIT`], a quarter of upstream's 60 s request timeout as APF uses; a request that
//! still has no seat by then, or that finds [`queue_length`] requests already waiting, is
//! answered 429 TooManyRequests with `Retry-After: 1`, which client-go retries.
//!
//! Lease traffic in `kube-system` (leader election) and `kube-node-lease` (node heartbeats)
//! never waits: upstream gives it priority levels of its own (`leader-election`, `node-high`)
//! because a heartbeat or a renewal stuck behind a burst of writes costs a node its Ready
//! condition or a component its leadership. Watches are long-running and take no seat.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::{Semaphore, SemaphorePermit};

use crate::status::ApiError;

/// How long a request may wait for a seat.
pub const QUEUE_WAIT: Duration = Duration::from_secs(15);

/// How many requests may wait for one kind of seat: as many as there are seats, four times over.
pub fn queue_length(seats: usize) -> usize {
    seats.saturating_mul(4)
}

/// Whether a request verb writes.
pub fn is_mutating(verb: &str) -> bool {
    matches!(
        verb,
        "create" | "update" | "patch" | "delete" | "deletecollection"
    )
}

/// What a request is, as far as its seat goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeatKind {
    ReadOnly,
    Mutating,
    /// Needs no seat: watches, leader-election and node Leases.
    Exempt,
}

impl SeatKind {
    pub fn of(verb: &str, group: &str, resource: &str, namespace: Option<&str>) -> Self {
        if verb == "watch" {
            return SeatKind::Exempt;
        }
        let lease = group == "coordination.k8s.io" && resource == "leases";
        if lease && matches!(namespace, Some("kube-system" | "kube-node-lease")) {
            return SeatKind::Exempt;
        }
        if is_mutating(verb) {
            SeatKind::Mutating
        } else {
            SeatKind::ReadOnly
        }
    }
}

struct Line {
    seats: Semaphore,
    capacity: usize,
    waiting: AtomicUsize,
}

impl Line {
    fn new(seats: usize) -> Self {
        Self {
            seats: Semaphore::new(seats),
            capacity: seats,
            waiting: AtomicUsize::new(0),
        }
    }

    async fn seat(&self, wait: Duration) -> Result<SemaphorePermit<'_>, ApiError> {
        if let Ok(permit) = self.seats.try_acquire() {
            return Ok(permit);
        }
        if self.waiting.fetch_add(1, Ordering::AcqRel) >= queue_length(self.capacity) {
            self.waiting.fetch_sub(1, Ordering::AcqRel);
            return Err(ApiError::too_many_requests());
        }
        let seated = tokio::time::timeout(wait, self.seats.acquire()).await;
        self.waiting.fetch_sub(1, Ordering::AcqRel);
        match seated {
            Ok(Ok(permit)) => Ok(permit),
            // Timed out, or the semaphore was closed (never done).
            _ => Err(ApiError::too_many_requests()),
        }
    }
}

/// The read-only and mutating lines of one API server.
pub struct InflightLimiter {
    read_only: Line,
    mutating: Line,
    wait: Duration,
}

/// A seat held for the life of a request (`None` for exempt requests).
pub type Seat<'a> = Option<SemaphorePermit<'a>>;

impl InflightLimiter {
    pub fn new(max_requests_inflight: usize, max_mutating_requests_inflight: usize) -> Self {
        Self::with_wait(
            max_requests_inflight,
            max_mutating_requests_inflight,
            QUEUE_WAIT,
        )
    }

    fn with_wait(read_only: usize, mutating: usize, wait: Duration) -> Self {
        Self {
            read_only: Line::new(read_only),
            mutating: Line::new(mutating),
            wait,
        }
    }

    /// Wait for a seat of `kind`; 429 when the line is full or the wait runs out.
    pub async fn seat(&self, kind: SeatKind) -> Result<Seat<'_>, ApiError> {
        let line = match kind {
            SeatKind::Exempt => return Ok(None),
            SeatKind::ReadOnly => &self.read_only,
            SeatKind::Mutating => &self.mutating,
        };
        line.seat(self.wait).await.map(Some)
    }

    /// Requests waiting for a seat now: (read-only, mutating).
    #[cfg(test)]
    fn waiting(&self) -> (usize, usize) {
        (
            self.read_only.waiting.load(Ordering::Acquire),
            self.mutating.waiting.load(Ordering::Acquire),
        )
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[test]
    fn kinds_of_requests() {
        assert_eq!(
            SeatKind::of("get", "", "pods", Some("a")),
            SeatKind::ReadOnly
        );
        assert_eq!(SeatKind::of("list", "", "pods", None), SeatKind::ReadOnly);
        assert_eq!(SeatKind::of("watch", "", "pods", None), SeatKind::Exempt);
        for verb in ["create", "update", "patch", "delete", "deletecollection"] {
            assert_eq!(
                SeatKind::of(verb, "", "pods", Some("a")),
                SeatKind::Mutating
            );
        }
        let lease = |ns| SeatKind::of("update", "coordination.k8s.io", "leases", Some(ns));
        assert_eq!(lease("kube-system"), SeatKind::Exempt);
        assert_eq!(lease("kube-node-lease"), SeatKind::Exempt);
        assert_eq!(lease("default"), SeatKind::Mutating);
    }

    #[tokio::test]
    async fn a_request_waits_for_a_seat_that_frees_up() {
        let limiter = Arc::new(InflightLimiter::with_wait(1, 1, Duration::from_secs(5)));
        let first = limiter.seat(SeatKind::Mutating).await.expect("free seat");
        let waiter = {
            let limiter = limiter.clone();
            tokio::spawn(async move { limiter.seat(SeatKind::Mutating).await.map(|s| s.is_some()) })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(limiter.waiting(), (0, 1));
        drop(first);
        assert_eq!(waiter.await.expect("join"), Ok(true));
        assert_eq!(limiter.waiting(), (0, 0));
    }

    #[tokio::test]
    async fn a_request_that_waits_too_long_is_told_to_retry() {
        let limiter = InflightLimiter::with_wait(1, 1, Duration::from_millis(50));
        let _held = limiter.seat(SeatKind::ReadOnly).await.expect("free seat");
        let error = limiter
            .seat(SeatKind::ReadOnly)
            .await
            .expect_err("no seat in time");
        assert_eq!(error.code, 429);
        assert_eq!(error.reason, "TooManyRequests");
        assert_eq!(error.details.retry_after_seconds, Some(1));
        // The other line is independent.
        assert!(limiter.seat(SeatKind::Mutating).await.is_ok());
    }

    #[tokio::test]
    async fn a_full_line_turns_requests_away_at_once() {
        let limiter = Arc::new(InflightLimiter::with_wait(1, 1, Duration::from_secs(30)));
        let _held = limiter.seat(SeatKind::Mutating).await.expect("free seat");
        let mut waiters = Vec::new();
        for _ in 0..queue_length(1) {
            let limiter = limiter.clone();
            waiters.push(tokio::spawn(async move {
                limiter.seat(SeatKind::Mutating).await.map(|_| ())
            }));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(limiter.waiting(), (0, queue_length(1)));
        let started = std::time::Instant::now();
        let error = limiter
            .seat(SeatKind::Mutating)
            .await
            .expect_err("line is full");
        assert_eq!(error.code, 429);
        assert!(started.elapsed() < Duration::from_secs(5));
        for waiter in waiters {
            waiter.abort();
        }
    }

    #[tokio::test]
    async fn exempt_requests_take_no_seat() {
        let limiter = InflightLimiter::with_wait(1, 1, Duration::from_millis(10));
        let _held = limiter.seat(SeatKind::Mutating).await.expect("free seat");
        assert!(matches!(limiter.seat(SeatKind::Exempt).await, Ok(None)));
    }
}
