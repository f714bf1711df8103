//! A DaemonSet's next steps: one pod per eligible node, none elsewhere, a rolling update bounded
//! by maxUnavailable / maxSurge, and the status counters. No I/O.

use std::collections::BTreeMap;

use jiff::Timestamp;
use k8s_openapi::api::apps::v1::{DaemonSet, DaemonSetStatus};
use k8s_openapi::api::core::v1::{Node, Pod, PodSpec};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::eligibility::placement;
use super::pod_template::{target_node, HASH_LABEL};

#[derive(Debug, Default, PartialEq)]
pub struct DaemonPlan {
    pub create_on: Vec<String>,
    pub delete: Vec<String>,
    pub status: DaemonSetStatus,
}

fn phase(pod: &Pod) -> &str {
    pod.status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or("")
}

fn ready_since(pod: &Pod) -> Option<Timestamp> {
    let condition = pod
        .status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == "Ready")?;
    (condition.status == "True").then(|| {
        condition
            .last_transition_time
            .as_ref()
            .map_or(Timestamp::UNIX_EPOCH, |t| t.0)
    })
}

fn is_available(pod: &Pod, min_ready_seconds: i32, now: Timestamp) -> bool {
    ready_since(pod).is_some_and(|since| {
        now >= since + jiff::SignedDuration::from_secs(min_ready_seconds.into())
    })
}

fn is_updated(pod: &Pod, hash: &str) -> bool {
    pod.metadata
        .labels
        .as_ref()
        .and_then(|l| l.get(HASH_LABEL))
        .map(String::as_str)
        == Some(hash)
}

fn name(pod: &Pod) -> String {
    pod.metadata.name.clone().unwrap_or_default()
}

/// An int-or-percent of `total`, rounded up as upstream does for DaemonSets.
pub fn scaled(value: Option<&IntOrString>, total: i32, default: i32) -> i32 {
    match value {
        None => default,
        Some(IntOrString::Int(n)) => *n,
        Some(IntOrString::String(text)) => {
            let percent: i64 = text.trim_end_matches('%').parse().unwrap_or(0);
            ((percent * i64::from(total) + 99) / 100) as i32
        }
    }
}

pub fn plan_daemon_set(
    set: &DaemonSet,
    spec: &PodSpec,
    nodes: &[&Node],
    pods: &[&Pod],
    hash: &str,
    now: Timestamp,
) -> DaemonPlan {
    let mut plan = DaemonPlan::default();
    let min_ready = set
        .spec
        .as_ref()
        .and_then(|s| s.min_ready_seconds)
        .unwrap_or(0);
    let mut by_node: BTreeMap<String, Vec<&Pod>> = BTreeMap::new();
    for pod in pods
        .iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
    {
        match target_node(pod) {
            Some(node) => by_node.entry(node).or_default().push(pod),
            None => plan.delete.push(name(pod)),
        }
    }
    let known: Vec<String> = nodes
        .iter()
        .filter_map(|n| n.metadata.name.clone())
        .collect();
    for (node, stranded) in by_node.iter().filter(|(node, _)| !known.contains(node)) {
        tracing::debug!(node, "deleting daemon pods of a node that no longer exists");
        plan.delete.extend(stranded.iter().map(|p| name(p)));
    }

    // Nodes that should run a pod, with their live (not failed) pods.
    let mut eligible: Vec<(String, Vec<&Pod>)> = Vec::new();
    let (mut misscheduled, mut current) = (0, 0);
    for node in nodes {
        let node_name = node.metadata.name.clone().unwrap_or_default();
        let here = by_node.get(&node_name).cloned().unwrap_or_default();
        let fit = placement(spec, node);
        if !fit.should_run {
            if !here.is_empty() {
                misscheduled += 1;
            }
            if !fit.may_stay {
                plan.delete.extend(here.iter().map(|p| name(p)));
            }
            continue;
        }
        let (failed, mut live): (Vec<&Pod>, Vec<&Pod>) =
            here.into_iter().partition(|p| phase(p) == "Failed");
        plan.delete.extend(failed.iter().map(|p| name(p)));
        if live.is_empty() {
            plan.create_on.push(node_name.clone());
        } else {
            current += 1;
        }
        live.sort_by_key(|p| (!is_updated(p, hash), p.metadata.creation_timestamp.clone()));
        eligible.push((node_name, live));
    }

    roll(set, &mut plan, &mut eligible, hash, min_ready, now);

    let desired = eligible.len() as i32;
    let count = |keep: &dyn Fn(&[&Pod]) -> bool| {
        eligible.iter().filter(|(_, live)| keep(live)).count() as i32
    };
    let available = count(&|live| live.iter().any(|p| is_available(p, min_ready, now)));
    plan.status = DaemonSetStatus {
        desired_number_scheduled: desired,
        current_number_scheduled: current,
        number_misscheduled: misscheduled,
        number_ready: count(&|live| live.iter().any(|p| ready_since(p).is_some())),
        number_available: Some(available),
        number_unavailable: Some(desired - available),
        updated_number_scheduled: Some(count(&|live| live.iter().any(|p| is_updated(p, hash)))),
        observed_generation: set.metadata.generation,
        collision_count: set.status.as_ref().and_then(|s| s.collision_count),
        conditions: set.status.as_ref().and_then(|s| s.conditions.clone()),
    };
    plan
}

/// RollingUpdate: replace old pods node by node, never leaving more than maxUnavailable nodes
/// without an available pod; with maxSurge, start the new pod first and drop the old one once
/// the new one is available. Extra pods on a node are removed.
fn roll(
    set: &DaemonSet,
    plan: &mut DaemonPlan,
    eligible: &mut [(String, Vec<&Pod>)],
    hash: &str,
    min_ready: i32,
    now: Timestamp,
) {
    let strategy = set
        .spec
        .as_ref()
        .and_then(|s| s.update_strategy.clone())
        .unwrap_or_default();
    let rolling = strategy.type_.as_deref() != Some("OnDelete");
    let desired = eligible.len() as i32;
    let rolling_update = strategy.rolling_update.unwrap_or_default();
    let max_surge = scaled(rolling_update.max_surge.as_ref(), desired, 0);
    let max_unavailable = match scaled(rolling_update.max_unavailable.as_ref(), desired, 1) {
        0 if max_surge == 0 => 1,
        n => n,
    };
    let mut unavailable = eligible
        .iter()
        .filter(|(_, live)| !live.iter().any(|p| is_available(p, min_ready, now)))
        .count() as i32;
    let mut surging = 0;
    for (node, live) in eligible.iter_mut() {
        let newest_available = live
            .first()
            .is_some_and(|p| is_updated(p, hash) && is_available(p, min_ready, now));
        let has_new = live.first().is_some_and(|p| is_updated(p, hash));
        if live.len() > 1 {
            if !has_new || newest_available || !rolling || max_surge == 0 {
                plan.delete.extend(live.drain(1..).map(name));
            } else {
                surging += 1;
            }
            continue;
        }
        let Some(only) = live.first() else {
            continue;
        };
        if !rolling || is_updated(only, hash) {
            continue;
        }
        if max_surge > 0 {
            if surging < max_surge {
                surging += 1;
                plan.create_on.push(node.clone());
            }
        } else if !is_available(only, min_ready, now) {
            plan.delete.push(name(only));
        } else if unavailable < max_unavailable {
            unavailable += 1;
            plan.delete.push(name(only));
        }
    }
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
