//! Drives the pods bound to simulated nodes as a kubelet would: a controller over all bound pods
//! (field selector `spec.nodeName!=`, filtered to our nodes) that plans each pod from its observed
//! state (`pod_plan`) and posts the statuses of `pod_status` with strategic merge patches.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use api::without_managed_fields::WithoutManagedFields;
use futures::StreamExt;
use jiff::Timestamp;
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::{DeleteParams, Patch, PatchParams, Preconditions};
use kube::runtime::controller::{Action, Config as ControllerConfig};
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::{watcher, Controller, WatchStreamExt};
use kube::{Api, ResourceExt};
use tokio_util::sync::CancellationToken;

use crate::error::SimError;
use crate::pod_plan::{plan, PodAction};
use crate::pod_status::{
    self, current_pod_ip, running_status, stopped_status, uses_host_network, Ending, Placement,
};
use crate::sim_node::SimNode;

const RETRY_AFTER_ERROR: Duration = Duration::from_secs(2);

struct PodContext {
    client: kube::Client,
    nodes: HashMap<String, Arc<SimNode>>,
    /// Our Nodes as the server has them: spec.podCIDR comes from the node IPAM controller.
    node_objects: Store<Node>,
    pods: Store<WithoutManagedFields<Pod>>,
    run_time: Duration,
}

/// Runs until `cancel`.
pub async fn run(
    client: kube::Client,
    nodes: &[Arc<SimNode>],
    run_time: Duration,
    concurrency: u16,
    cancel: CancellationToken,
) {
    let (node_objects, node_writer) = reflector::store();
    let node_watch = reflector::reflector(
        node_writer,
        watcher(Api::<Node>::all(client.clone()), watcher::Config::default()),
    )
    .default_backoff()
    .for_each(|event| {
        if let Err(error) = event {
            tracing::debug!(%error, "node watch");
        }
        std::future::ready(())
    });

    let bound = watcher::Config::default().fields("spec.nodeName!=");
    // The driver never reads managedFields: they are skipped while decoding.
    let controller = Controller::new(Api::<WithoutManagedFields<Pod>>::all(client.clone()), bound)
        .with_config(ControllerConfig::default().concurrency(concurrency))
        .graceful_shutdown_on(cancel.clone().cancelled_owned());
    let context = Arc::new(PodContext {
        client,
        nodes: nodes
            .iter()
            .map(|node| (node.name.clone(), node.clone()))
            .collect(),
        node_objects,
        pods: controller.store(),
        run_time,
    });
    let pods = controller
        .run(reconcile, error_policy, context)
        .for_each(|result| {
            if let Err(error) = result {
                tracing::debug!(%error, "pod reconcile");
            }
            std::future::ready(())
        });
    tokio::select! {
        _ = cancel.cancelled() => {}
        _ = node_watch => {}
        _ = pods => {}
    }
}

fn error_policy(
    pod: Arc<WithoutManagedFields<Pod>>,
    error: &SimError,
    _: Arc<PodContext>,
) -> Action {
    tracing::warn!(pod = %pod_key(&pod), %error, "pod update failed; retrying");
    Action::requeue(RETRY_AFTER_ERROR)
}

fn pod_key(pod: &Pod) -> String {
    format!("{}/{}", pod.namespace().unwrap_or_default(), pod.name_any())
}

async fn reconcile(
    pod: Arc<WithoutManagedFields<Pod>>,
    context: Arc<PodContext>,
) -> Result<Action, SimError> {
    let Some(node) = pod
        .spec
        .as_ref()
        .and_then(|spec| spec.node_name.as_ref())
        .and_then(|name| context.nodes.get(name))
    else {
        return Ok(Action::await_change());
    };
    if !node.is_alive() {
        return Ok(Action::await_change());
    }
    let api: Api<Pod> =
        Api::namespaced(context.client.clone(), &pod.namespace().unwrap_or_default());
    let uid = pod.uid().unwrap_or_default();
    let now = Timestamp::now();
    match plan(&pod, now, context.run_time) {
        PodAction::Wait => {
            keep_pod_ip(&pod, node, &context);
            Ok(Action::await_change())
        }
        PodAction::CompleteAfter(remaining) => {
            keep_pod_ip(&pod, node, &context);
            Ok(Action::requeue(remaining))
        }
        PodAction::Start => {
            let placement = place(&pod, node, &context)?;
            patch_status(&api, &pod, running_status(&pod, placement, now)).await?;
            Ok(Action::await_change())
        }
        PodAction::Complete => {
            patch_status(&api, &pod, stopped_status(&pod, Ending::Completed, now)).await?;
            node.release_pod_ip(&uid);
            Ok(Action::await_change())
        }
        PodAction::Terminate => {
            let ending = Ending::on_deletion(&pod);
            patch_status(&api, &pod, stopped_status(&pod, ending, now)).await?;
            node.release_pod_ip(&uid);
            finish_deletion(&api, &pod).await?;
            Ok(Action::await_change())
        }
        PodAction::Remove => {
            node.release_pod_ip(&uid);
            finish_deletion(&api, &pod).await?;
            Ok(Action::await_change())
        }
    }
}

/// The node's spec.podCIDR as last seen.
fn pod_cidr(node: &SimNode, context: &PodContext) -> Option<String> {
    context
        .node_objects
        .get(&ObjectRef::new(&node.name))
        .and_then(|object| object.spec.as_ref().and_then(|spec| spec.pod_cidr.clone()))
}

/// Marks the address of a running pod as taken, so that pods found running when the simulation
/// starts (an earlier run's) keep addresses of their own.
fn keep_pod_ip(pod: &Pod, node: &SimNode, context: &PodContext) {
    if uses_host_network(pod) || !pod_status::is_running(pod) {
        return;
    }
    if let Some(ip) = current_pod_ip(pod) {
        node.pool(pod_cidr(node, context).as_deref())
            .reserve(&pod.uid().unwrap_or_default(), ip);
    }
}

/// The pod's addresses: the node's for host-network pods; else the one it has (a pod taken over)
/// or a fresh one from the node's pod CIDR.
fn place(pod: &Pod, node: &SimNode, context: &PodContext) -> Result<Placement, SimError> {
    let host_ip = node.internal_ip;
    if uses_host_network(pod) {
        return Ok(Placement {
            host_ip,
            pod_ip: host_ip,
        });
    }
    let uid = pod.uid().unwrap_or_default();
    let mut pool = node.pool(pod_cidr(node, context).as_deref());
    if let Some(ip) = current_pod_ip(pod) {
        if pool.reserve(&uid, ip) {
            return Ok(Placement {
                host_ip,
                pod_ip: ip,
            });
        }
    }
    let pod_ip = match pool.allocate(&uid) {
        Some(ip) => ip,
        None => {
            let live: std::collections::HashSet<String> = context
                .pods
                .state()
                .iter()
                .filter_map(|pod| pod.uid())
                .collect();
            pool.retain_owners(|owner| live.contains(owner));
            pool.allocate(&uid)
                .ok_or_else(|| SimError::PodIpsExhausted {
                    pod: pod_key(pod),
                    node: node.name.clone(),
                    cidr: pool.cidr().to_string(),
                })?
        }
    };
    Ok(Placement { host_ip, pod_ip })
}

async fn patch_status(
    api: &Api<Pod>,
    pod: &Pod,
    status: k8s_openapi::api::core::v1::PodStatus,
) -> Result<(), SimError> {
    let patch = Pod {
        status: Some(status),
        ..Pod::default()
    };
    match api
        .patch_status(
            &pod.name_any(),
            &PatchParams::default(),
            &Patch::Strategic(&patch),
        )
        .await
    {
        Ok(_) => Ok(()),
        // Gone meanwhile: nothing left to drive.
        Err(kube::Error::Api(status)) if status.code == 404 => Ok(()),
        Err(source) => Err(SimError::pod(&pod_key(pod), source)),
    }
}

/// Deletes the pod for good (grace period 0), only if it is still the same pod.
async fn finish_deletion(api: &Api<Pod>, pod: &Pod) -> Result<(), SimError> {
    let params = DeleteParams {
        grace_period_seconds: Some(0),
        preconditions: Some(Preconditions {
            uid: pod.uid(),
            resource_version: None,
        }),
        ..DeleteParams::default()
    };
    match api.delete(&pod.name_any(), &params).await {
        Ok(_) => Ok(()),
        // Gone already, or a new pod took the name.
        Err(kube::Error::Api(status)) if matches!(status.code, 404 | 409) => Ok(()),
        Err(source) => Err(SimError::pod(&pod_key(pod), source)),
    }
}
