//! The scheduling queue: activeQ (QueueSort order), backoffQ (by backoff expiry) and the
//! unschedulable pods, which move back on cluster events or after five minutes.

mod backoff;
mod heap;
mod queued_pod;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub use backoff::{backoff_duration, INITIAL_BACKOFF, MAX_BACKOFF, MAX_IN_UNSCHEDULABLE};
pub use queued_pod::QueuedPodInfo;

use crate::framework::{Framework, QueueSortPlugin};
use crate::snapshot::PodInfo;
use heap::Heap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    Active,
    Backoff,
    Unschedulable,
    InFlight,
}

struct Entry {
    info: QueuedPodInfo,
    place: Place,
    /// Bumped on every move; heap items of older generations are stale.
    generation: u64,
    /// The cycle in which the pod was popped last.
    cycle: u64,
    backoff_until: Instant,
    /// The pod changed while in flight.
    updated_in_flight: bool,
}

/// Why a scheduling attempt failed, which decides where the pod waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// No node fits: wait for a cluster change (or 5 minutes).
    Unschedulable,
    /// An internal or API error: retry after the backoff.
    Error,
}

pub struct SchedulingQueue {
    sort: Arc<dyn QueueSortPlugin>,
    entries: HashMap<String, Entry>,
    active: Heap<(QueuedPodInfo, u64)>,
    backoff: Heap<(Instant, String, u64)>,
    scheduling_cycle: u64,
    move_request_cycle: u64,
}

impl SchedulingQueue {
    pub fn new(sort: Arc<dyn QueueSortPlugin>) -> SchedulingQueue {
        SchedulingQueue {
            sort,
            entries: HashMap::new(),
            active: Heap::default(),
            backoff: Heap::default(),
            scheduling_cycle: 0,
            move_request_cycle: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn place(&self, uid: &str) -> Option<Place> {
        self.entries.get(uid).map(|e| e.place)
    }

    pub fn scheduling_cycle(&self) -> u64 {
        self.scheduling_cycle
    }

    fn push_active(&mut self, uid: &str, now: Instant) {
        let Some(entry) = self.entries.get_mut(uid) else {
            return;
        };
        entry.generation += 1;
        entry.place = Place::Active;
        entry.info.timestamp = now;
        let item = (entry.info.clone(), entry.generation);
        let sort = self.sort.clone();
        self.active.push(item, &|a, b| sort.less(&a.0, &b.0));
    }

    fn push_backoff(&mut self, uid: &str) {
        let Some(entry) = self.entries.get_mut(uid) else {
            return;
        };
        entry.generation += 1;
        entry.place = Place::Backoff;
        let item = (entry.backoff_until, uid.to_string(), entry.generation);
        self.backoff.push(item, &|a, b| a.0 < b.0);
    }

    fn park_unschedulable(&mut self, uid: &str, now: Instant) {
        if let Some(entry) = self.entries.get_mut(uid) {
            entry.generation += 1;
            entry.place = Place::Unschedulable;
            entry.info.timestamp = now;
        }
    }

    /// A new pending pod. PreEnqueue plugins may hold it back (gated).
    pub fn add(&mut self, framework: &Framework, pod: Arc<PodInfo>, now: Instant) {
        let uid = pod.uid.clone();
        if self.entries.contains_key(&uid) {
            self.update(framework, pod, now);
            return;
        }
        let gated = !framework.run_pre_enqueue(&pod).is_success();
        let mut info = QueuedPodInfo::new(pod, now);
        info.gated = gated;
        self.entries.insert(
            uid.clone(),
            Entry {
                info,
                place: Place::Unschedulable,
                generation: 0,
                cycle: 0,
                backoff_until: now,
                updated_in_flight: false,
            },
        );
        if !gated {
            self.push_active(&uid, now);
        }
    }

    /// A pending pod changed: gated pods are re-checked, unschedulable ones retried.
    pub fn update(&mut self, framework: &Framework, pod: Arc<PodInfo>, now: Instant) {
        let uid = pod.uid.clone();
        let Some(entry) = self.entries.get_mut(&uid) else {
            self.add(framework, pod, now);
            return;
        };
        entry.info.pod = pod.clone();
        match entry.place {
            Place::InFlight => entry.updated_in_flight = true,
            Place::Active => self.push_active(&uid, now),
            Place::Backoff => {}
            Place::Unschedulable => {
                let gated = !framework.run_pre_enqueue(&pod).is_success();
                entry.info.gated = gated;
                if !gated {
                    if entry.backoff_until > now {
                        self.push_backoff(&uid);
                    } else {
                        self.push_active(&uid, now);
                    }
                }
            }
        }
    }

    pub fn delete(&mut self, uid: &str) {
        self.entries.remove(uid);
    }

    /// Moves pods whose backoff expired, and pods unschedulable for too long, to activeQ.
    pub fn flush(&mut self, now: Instant) {
        while let Some((until, uid, generation)) = self.backoff.peek().cloned() {
            if until > now {
                break;
            }
            let _ = self.backoff.pop(&|a, b| a.0 < b.0);
            if self
                .entries
                .get(&uid)
                .is_some_and(|e| e.generation == generation && e.place == Place::Backoff)
            {
                self.push_active(&uid, now);
            }
        }
        let stale: Vec<String> = self
            .entries
            .iter()
            .filter(|(_, e)| {
                e.place == Place::Unschedulable
                    && !e.info.gated
                    && now.duration_since(e.info.timestamp) >= MAX_IN_UNSCHEDULABLE
            })
            .map(|(uid, _)| uid.clone())
            .collect();
        for uid in stale {
            self.move_to_active_or_backoff(&uid, now);
        }
    }

    /// The next pod to schedule, marked in flight.
    pub fn pop(&mut self, now: Instant) -> Option<QueuedPodInfo> {
        self.flush(now);
        let sort = self.sort.clone();
        while let Some((info, generation)) = self.active.pop(&|a, b| sort.less(&a.0, &b.0)) {
            let uid = info.pod.uid.clone();
            let Some(entry) = self.entries.get_mut(&uid) else {
                continue;
            };
            if entry.generation != generation || entry.place != Place::Active {
                continue;
            }
            self.scheduling_cycle += 1;
            entry.place = Place::InFlight;
            entry.generation += 1;
            entry.cycle = self.scheduling_cycle;
            entry.updated_in_flight = false;
            entry.info.attempts += 1;
            entry.info.initial_attempt.get_or_insert(now);
            return Some(entry.info.clone());
        }
        None
    }

    /// The in-flight pod was assumed on a node: it leaves the queue.
    pub fn done(&mut self, uid: &str) {
        if self
            .entries
            .get(uid)
            .is_some_and(|e| e.place == Place::InFlight)
        {
            self.entries.remove(uid);
        }
    }

    /// The in-flight pod failed its attempt.
    pub fn requeue(
        &mut self,
        uid: &str,
        failure: Failure,
        unschedulable_plugins: Vec<&'static str>,
        now: Instant,
    ) {
        let move_request_cycle = self.move_request_cycle;
        let Some(entry) = self.entries.get_mut(uid) else {
            return;
        };
        if entry.place != Place::InFlight {
            return;
        }
        entry.info.unschedulable_plugins = unschedulable_plugins;
        entry.backoff_until = now + backoff_duration(entry.info.attempts);
        let changed_meanwhile = entry.updated_in_flight || move_request_cycle >= entry.cycle;
        match failure {
            Failure::Error => self.push_backoff(uid),
            Failure::Unschedulable if changed_meanwhile => self.push_backoff(uid),
            Failure::Unschedulable => self.park_unschedulable(uid, now),
        }
    }

    /// Re-adds a pod whose binding failed (it had left the queue when assumed).
    pub fn requeue_after_bind_failure(
        &mut self,
        framework: &Framework,
        pod: Arc<PodInfo>,
        attempts: u32,
        now: Instant,
    ) {
        let uid = pod.uid.clone();
        self.add(framework, pod, now);
        if let Some(entry) = self.entries.get_mut(&uid) {
            entry.info.attempts = attempts;
            entry.backoff_until = now + backoff_duration(attempts);
        }
        if self.place(&uid) == Some(Place::Active) {
            self.push_backoff(&uid);
        }
    }

    fn move_to_active_or_backoff(&mut self, uid: &str, now: Instant) {
        let Some(entry) = self.entries.get(uid) else {
            return;
        };
        if entry.backoff_until > now {
            self.push_backoff(uid);
        } else {
            self.push_active(uid, now);
        }
    }

    /// A cluster event (node added or changed, pod deleted) may make unschedulable pods fit.
    pub fn move_all_to_active_or_backoff(&mut self, now: Instant) {
        self.move_request_cycle = self.scheduling_cycle;
        let parked: Vec<String> = self
            .entries
            .iter()
            .filter(|(_, e)| e.place == Place::Unschedulable && !e.info.gated)
            .map(|(uid, _)| uid.clone())
            .collect();
        for uid in parked {
            self.move_to_active_or_backoff(&uid, now);
        }
    }

    /// When the next backoff expires, for the loop's sleep.
    pub fn next_backoff_expiry(&self) -> Option<Instant> {
        self.backoff.peek().map(|(until, _, _)| *until)
    }

    pub fn has_active(&self) -> bool {
        !self.active.is_empty()
    }

    /// Upper bound on how long the loop may sleep without missing queue work.
    pub fn idle_timeout(&self, now: Instant) -> Duration {
        let cap = Duration::from_secs(30);
        self.next_backoff_expiry()
            .map(|t| t.saturating_duration_since(now).min(cap))
            .unwrap_or(cap)
    }
}

#[cfg(test)]
mod tests;
