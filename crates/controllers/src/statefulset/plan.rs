//! A StatefulSet's next steps from its pods: which ordinal to create (and at which revision),
//! which pod to delete, and the status. OrderedReady goes one pod at a time, waiting for each to
//! be Running and Ready; Parallel does not wait. No I/O.

use std::collections::BTreeMap;

use jiff::Timestamp;
use k8s_openapi::api::apps::v1::{StatefulSet, StatefulSetStatus};
use k8s_openapi::api::core::v1::Pod;

use super::identity::ordinal_of;
use super::revision::REVISION_LABEL;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Revision {
    Current,
    Update,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PodAction {
    Create { ordinal: i32, revision: Revision },
    Delete { name: String, ordinal: i32 },
}

#[derive(Debug, Default)]
pub struct SetPlan {
    pub actions: Vec<PodAction>,
    pub status: StatefulSetStatus,
    /// Ordinals no longer wanted (scale-down): their claims follow `whenScaled`.
    pub condemned: Vec<i32>,
}

pub struct Revisions<'a> {
    pub current: &'a str,
    pub update: &'a str,
}

fn phase(pod: &Pod) -> &str {
    pod.status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or("")
}

fn is_terminating(pod: &Pod) -> bool {
    pod.metadata.deletion_timestamp.is_some()
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

pub fn is_running_and_ready(pod: &Pod) -> bool {
    phase(pod) == "Running" && ready_since(pod).is_some() && !is_terminating(pod)
}

fn is_available(pod: &Pod, min_ready_seconds: i32, now: Timestamp) -> bool {
    is_running_and_ready(pod)
        && ready_since(pod).is_some_and(|since| {
            now >= since + jiff::SignedDuration::from_secs(min_ready_seconds.into())
        })
}

fn revision_of(pod: &Pod) -> Option<&str> {
    pod.metadata
        .labels
        .as_ref()?
        .get(REVISION_LABEL)
        .map(String::as_str)
}

pub fn plan_set(
    set: &StatefulSet,
    pods: &[&Pod],
    revisions: &Revisions<'_>,
    now: Timestamp,
) -> SetPlan {
    let set_name = set.metadata.name.clone().unwrap_or_default();
    let spec = set.spec.clone().unwrap_or_default();
    let replicas = spec.replicas.unwrap_or(1).max(0);
    let start = spec.ordinals.as_ref().and_then(|o| o.start).unwrap_or(0);
    let ordered = spec.pod_management_policy.as_deref() != Some("Parallel");
    let strategy = spec.update_strategy.clone().unwrap_or_default();
    let rolling = strategy.type_.as_deref() != Some("OnDelete");
    let partition = strategy
        .rolling_update
        .as_ref()
        .and_then(|r| r.partition)
        .unwrap_or(0);
    let min_ready_seconds = spec.min_ready_seconds.unwrap_or(0);

    let mut wanted: BTreeMap<i32, &Pod> = BTreeMap::new();
    let mut condemned: Vec<(i32, &Pod)> = Vec::new();
    for pod in pods {
        let Some(ordinal) = pod
            .metadata
            .name
            .as_deref()
            .and_then(|n| ordinal_of(&set_name, n))
        else {
            continue;
        };
        if (start..start + replicas).contains(&ordinal) {
            wanted.insert(ordinal, pod);
        } else {
            condemned.push((ordinal, pod));
        }
    }
    condemned.sort_by_key(|(ordinal, _)| std::cmp::Reverse(*ordinal));

    let mut plan = SetPlan {
        status: status_of(set, pods, revisions, replicas, min_ready_seconds, now),
        condemned: condemned.iter().map(|(ordinal, _)| *ordinal).collect(),
        ..SetPlan::default()
    };

    let mut blocked = false;
    for ordinal in start..start + replicas {
        match wanted.get(&ordinal) {
            None => {
                let revision =
                    if rolling && ordinal < partition && revisions.current != revisions.update {
                        Revision::Current
                    } else {
                        Revision::Update
                    };
                plan.actions.push(PodAction::Create { ordinal, revision });
                blocked = true;
            }
            Some(pod) if is_terminating(pod) => blocked = true,
            Some(pod) if matches!(phase(pod), "Failed" | "Succeeded") => {
                let name = pod.metadata.name.clone().unwrap_or_default();
                plan.actions.push(PodAction::Delete { name, ordinal });
                blocked = true;
            }
            Some(pod) if !is_running_and_ready(pod) => blocked = true,
            Some(_) => {}
        }
        if blocked && ordered {
            return plan;
        }
    }

    for (ordinal, pod) in &condemned {
        if ordered && (blocked || is_terminating(pod)) {
            return plan;
        }
        if !is_terminating(pod) {
            plan.actions.push(PodAction::Delete {
                name: pod.metadata.name.clone().unwrap_or_default(),
                ordinal: *ordinal,
            });
        }
        if ordered {
            return plan;
        }
    }

    let all_healthy =
        !blocked && wanted.values().all(|p| is_running_and_ready(p)) && condemned.is_empty();
    if rolling && all_healthy {
        let outdated = wanted.iter().rev().find(|(ordinal, pod)| {
            **ordinal >= partition && revision_of(pod) != Some(revisions.update)
        });
        if let Some((ordinal, pod)) = outdated {
            plan.actions.push(PodAction::Delete {
                name: pod.metadata.name.clone().unwrap_or_default(),
                ordinal: *ordinal,
            });
        }
    }
    plan
}

fn status_of(
    set: &StatefulSet,
    pods: &[&Pod],
    revisions: &Revisions<'_>,
    replicas: i32,
    min_ready_seconds: i32,
    now: Timestamp,
) -> StatefulSetStatus {
    let previous = set.status.clone().unwrap_or_default();
    let live: Vec<&Pod> = pods
        .iter()
        .copied()
        .filter(|p| !is_terminating(p))
        .collect();
    let count = |keep: &dyn Fn(&Pod) -> bool| live.iter().filter(|p| keep(p)).count() as i32;
    let mut status = StatefulSetStatus {
        replicas: live.len() as i32,
        ready_replicas: Some(count(&is_running_and_ready)),
        available_replicas: Some(count(&|p| is_available(p, min_ready_seconds, now))),
        current_replicas: Some(count(&|p| revision_of(p) == Some(revisions.current))),
        updated_replicas: Some(count(&|p| revision_of(p) == Some(revisions.update))),
        current_revision: Some(revisions.current.to_string()),
        update_revision: Some(revisions.update.to_string()),
        observed_generation: set.metadata.generation,
        collision_count: previous.collision_count,
        conditions: previous.conditions,
    };
    let rolling = set
        .spec
        .as_ref()
        .and_then(|s| s.update_strategy.as_ref())
        .and_then(|u| u.type_.as_deref())
        != Some("OnDelete");
    if rolling
        && status.updated_replicas == Some(replicas)
        && status.ready_replicas == Some(replicas)
    {
        status.current_revision = status.update_revision.clone();
        status.current_replicas = status.updated_replicas;
    }
    status
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
