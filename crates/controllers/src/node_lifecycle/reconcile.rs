//! One node check: liveness from its Lease and heartbeat, conditions Unknown after the grace
//! period, taints from conditions, a pod CIDR if it has none, and eviction of pods that do not
//! tolerate its NoExecute taints.

use std::sync::Arc;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::{DeleteParams, Patch, PatchParams, PostParams};
use kube::runtime::controller::Action;
use kube::runtime::reflector::ObjectRef;
use kube::{Api, ResourceExt};
use serde_json::json;

use super::conditions::{ready_condition, unknown_conditions};
use super::error::Error;
use super::eviction::{eviction_for, Eviction};
use super::health::{observe, time_left};
use super::pod_cidrs::{Allocation, PodCidrs};
use super::taints::reconciled_taints;
use super::Context;
use crate::event_recorder::EventType;

pub const LEASE_NAMESPACE: &str = "kube-node-lease";

pub async fn reconcile(cached: Arc<Node>, ctx: Arc<Context>) -> Result<Action, Error> {
    let now = Timestamp::now();
    let name = cached.name_any();
    let nodes: Api<Node> = Api::all(ctx.client.clone());
    let mut node = cached.as_ref().clone();

    let lease = ctx
        .leases
        .get(&ObjectRef::new(&name).within(LEASE_NAMESPACE));
    let lease_renewed = lease.and_then(|l| l.spec.as_ref()?.renew_time.as_ref().map(|t| t.0));
    let ready_heartbeat =
        ready_condition(&node).and_then(|c| c.last_heartbeat_time.as_ref().map(|t| t.0));
    let left = {
        let mut heartbeats = ctx
            .heartbeats
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        heartbeats.prune(|node_name| {
            node_name == name || ctx.nodes.get(&ObjectRef::new(node_name)).is_some()
        });
        let heartbeats = &mut heartbeats.seen;
        let creation = node
            .metadata
            .creation_timestamp
            .as_ref()
            .map_or(now, |t| t.0);
        let seen = observe(heartbeats.get(&name), lease_renewed, ready_heartbeat, now);
        let seen = if heartbeats.contains_key(&name)
            || lease_renewed.is_some()
            || ready_heartbeat.is_some()
        {
            seen
        } else {
            super::health::Heartbeat {
                probed_at: creation,
                ..seen
            }
        };
        let left = time_left(&seen, ctx.options.node_monitor_grace_period, now);
        heartbeats.insert(name.clone(), seen);
        left
    };

    if left.is_zero() {
        if let Some(conditions) = unknown_conditions(&node, now) {
            node.status.get_or_insert_with(Default::default).conditions = Some(conditions);
            node = nodes
                .replace_status(&name, &PostParams::default(), &node)
                .await?;
            let note = format!("Node {name} status is now: NodeNotReady");
            ctx.recorder
                .record(&node, EventType::Normal, "NodeNotReady", note)
                .await;
        }
    }
    if let Some(taints) = reconciled_taints(&node, now) {
        // No taints left: the field goes (null in a merge patch), as upstream never writes `[]`.
        let taints = if taints.is_empty() {
            serde_json::Value::Null
        } else {
            json!(taints)
        };
        let patch = json!({"metadata": {"resourceVersion": node.metadata.resource_version}, "spec": {"taints": taints}});
        node = nodes
            .patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
            .await?;
    }
    match node
        .spec
        .as_ref()
        .and_then(|s| s.pod_cidr.as_deref())
        .filter(|cidr| !cidr.is_empty())
    {
        Some(cidr) => pod_cidrs(&ctx).observe(&name, cidr),
        None => assign_pod_cidr(&ctx, &nodes, &node).await?,
    }

    let mut requeue = if left.is_zero() {
        ctx.options.node_monitor_grace_period
    } else {
        left
    };
    if let Some(next) = evict_intolerant_pods(&ctx, &node, now).await? {
        requeue = requeue.min(next);
    }
    Ok(Action::requeue(requeue.max(Duration::from_millis(200))))
}

fn pod_cidrs(ctx: &Context) -> std::sync::MutexGuard<'_, PodCidrs> {
    ctx.pod_cidrs
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

async fn assign_pod_cidr(ctx: &Context, nodes: &Api<Node>, node: &Node) -> Result<(), Error> {
    let name = node.name_any();
    let held = || {
        ctx.nodes
            .state()
            .iter()
            .filter_map(|n| Some((n.name_any(), n.spec.as_ref()?.pod_cidr.clone()?)))
            .collect()
    };
    let exists = |node_name: &str| ctx.nodes.get(&ObjectRef::new(node_name)).is_some();
    let allocation = pod_cidrs(ctx).allocate(&name, held, exists, Instant::now());
    let block = match allocation {
        Allocation::New(block) => block,
        Allocation::Held | Allocation::RetryLater => return Ok(()),
        Allocation::Exhausted => {
            let note = format!("Node {name} status is now: CIDRNotAvailable");
            ctx.recorder
                .record(node, EventType::Normal, "CIDRNotAvailable", note)
                .await;
            return Ok(());
        }
    };
    let patch = json!({"spec": {"podCIDR": block, "podCIDRs": [block]}});
    if let Err(error) = nodes
        .patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
    {
        pod_cidrs(ctx).release(&name);
        return Err(error.into());
    }
    Ok(())
}

/// Deletes pods whose toleration of the node's NoExecute taints has run out; returns how long
/// until the next one does.
async fn evict_intolerant_pods(
    ctx: &Context,
    node: &Node,
    now: Timestamp,
) -> Result<Option<Duration>, Error> {
    let taints = node
        .spec
        .as_ref()
        .and_then(|s| s.taints.clone())
        .unwrap_or_default();
    if !taints.iter().any(|t| t.effect == "NoExecute") {
        return Ok(None);
    }
    let name = node.name_any();
    let pods = ctx.pods.state_filter(|p| {
        p.spec.as_ref().and_then(|s| s.node_name.as_deref()) == Some(name.as_str())
            && p.metadata.deletion_timestamp.is_none()
            && !matches!(
                p.status.as_ref().and_then(|s| s.phase.as_deref()),
                Some("Succeeded" | "Failed")
            )
    });
    let mut next: Option<Duration> = None;
    for pod in pods {
        let tolerations = pod
            .spec
            .as_ref()
            .and_then(|s| s.tolerations.clone())
            .unwrap_or_default();
        match eviction_for(&tolerations, &taints, now) {
            Eviction::Never => {}
            Eviction::At(deadline) => {
                let wait =
                    Duration::try_from(deadline.duration_since(now)).unwrap_or(Duration::ZERO);
                next = Some(next.map_or(wait, |n| n.min(wait)));
            }
            Eviction::Now => {
                let namespace = pod.namespace().unwrap_or_default();
                let note = format!("Marking for deletion Pod {namespace}/{}", pod.name_any());
                ctx.recorder
                    .record(
                        pod.as_ref(),
                        EventType::Normal,
                        "TaintManagerEviction",
                        note,
                    )
                    .await;
                let api: Api<Pod> = Api::namespaced(ctx.client.clone(), &namespace);
                match api.delete(&pod.name_any(), &DeleteParams::default()).await {
                    Ok(_) => {}
                    Err(kube::Error::Api(status)) if status.code == 404 => {}
                    Err(error) => return Err(error.into()),
                }
            }
        }
    }
    Ok(next)
}
