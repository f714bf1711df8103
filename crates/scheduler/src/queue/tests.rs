use std::sync::Arc;
use std::time::{Duration, Instant};

use super::*;
use crate::plugins::default_framework;
use crate::plugins::queue_sort::PrioritySort;
use crate::plugins::testing::pod;
use k8s_openapi::api::core::v1::PodSchedulingGate;

fn info(name: &str, priority: i32) -> Arc<PodInfo> {
    Arc::new(PodInfo::new(pod(name), priority))
}

fn queue() -> SchedulingQueue {
    SchedulingQueue::new(Arc::new(PrioritySort))
}

#[test]
fn active_queue_orders_by_priority_then_time() {
    let framework = default_framework(None);
    let mut q = queue();
    let t0 = Instant::now();
    q.add(&framework, info("low", 0), t0);
    q.add(&framework, info("high", 10), t0 + Duration::from_millis(1));
    q.add(&framework, info("low2", 0), t0 + Duration::from_millis(2));
    let order: Vec<String> = std::iter::from_fn(|| q.pop(t0).map(|p| p.pod.name.clone())).collect();
    assert_eq!(order, vec!["high", "low", "low2"]);
}

#[test]
fn unschedulable_pods_wait_for_a_cluster_event_then_backoff() {
    let framework = default_framework(None);
    let mut q = queue();
    let t0 = Instant::now();
    q.add(&framework, info("p", 0), t0);
    let popped = q.pop(t0).map(|p| p.attempts);
    assert_eq!(popped, Some(1));
    q.requeue(
        "uid-p",
        Failure::Unschedulable,
        vec!["NodeResourcesFit"],
        t0,
    );
    assert_eq!(q.place("uid-p"), Some(Place::Unschedulable));
    assert!(q.pop(t0 + Duration::from_secs(60)).is_none());
    // A node was added: the pod moves, into backoff while its 1 s backoff runs.
    q.move_all_to_active_or_backoff(t0 + Duration::from_millis(100));
    assert_eq!(q.place("uid-p"), Some(Place::Backoff));
    assert!(q.pop(t0 + Duration::from_millis(500)).is_none());
    assert!(q.pop(t0 + Duration::from_millis(1001)).is_some());
}

#[test]
fn a_move_request_during_the_attempt_sends_the_pod_to_backoff() {
    let framework = default_framework(None);
    let mut q = queue();
    let t0 = Instant::now();
    q.add(&framework, info("p", 0), t0);
    assert!(q.pop(t0).is_some());
    q.move_all_to_active_or_backoff(t0);
    q.requeue("uid-p", Failure::Unschedulable, vec![], t0);
    assert_eq!(q.place("uid-p"), Some(Place::Backoff));
}

#[test]
fn unschedulable_pods_are_retried_after_five_minutes() {
    let framework = default_framework(None);
    let mut q = queue();
    let t0 = Instant::now();
    q.add(&framework, info("p", 0), t0);
    assert!(q.pop(t0).is_some());
    q.requeue("uid-p", Failure::Unschedulable, vec![], t0);
    assert!(q.pop(t0 + Duration::from_secs(299)).is_none());
    assert!(q.pop(t0 + MAX_IN_UNSCHEDULABLE).is_some());
}

#[test]
fn errors_back_off_with_doubling() {
    let framework = default_framework(None);
    let mut q = queue();
    let t0 = Instant::now();
    q.add(&framework, info("p", 0), t0);
    assert!(q.pop(t0).is_some());
    q.requeue("uid-p", Failure::Error, vec![], t0);
    assert!(q.pop(t0 + Duration::from_millis(999)).is_none());
    let t1 = t0 + Duration::from_secs(1);
    assert_eq!(q.pop(t1).map(|p| p.attempts), Some(2));
    q.requeue("uid-p", Failure::Error, vec![], t1);
    assert!(q.pop(t1 + Duration::from_millis(1999)).is_none());
    assert!(q.pop(t1 + Duration::from_secs(2)).is_some());
}

#[test]
fn gated_pods_enter_when_their_gates_are_removed() {
    let framework = default_framework(None);
    let mut q = queue();
    let t0 = Instant::now();
    let mut gated = pod("g");
    gated.spec.get_or_insert_default().scheduling_gates =
        Some(vec![PodSchedulingGate { name: "x".into() }]);
    q.add(&framework, Arc::new(PodInfo::new(gated.clone(), 0)), t0);
    q.move_all_to_active_or_backoff(t0);
    assert!(q.pop(t0 + MAX_IN_UNSCHEDULABLE).is_none());
    gated.spec.get_or_insert_default().scheduling_gates = None;
    q.update(&framework, Arc::new(PodInfo::new(gated, 0)), t0);
    assert_eq!(q.pop(t0).map(|p| p.pod.name.clone()), Some("g".to_string()));
    q.done("uid-g");
    assert!(q.is_empty());
}

#[test]
fn deleted_pods_leave_the_queue() {
    let framework = default_framework(None);
    let mut q = queue();
    let t0 = Instant::now();
    q.add(&framework, info("p", 0), t0);
    q.delete("uid-p");
    assert!(q.pop(t0).is_none());
}
