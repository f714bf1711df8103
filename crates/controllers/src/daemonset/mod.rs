//! The DaemonSet controller: one pod per eligible node (nodeSelector, required node affinity,
//! taints and tolerations), pinned by node affinity for the scheduler to bind; rolling updates
//! bounded by maxUnavailable / maxSurge; status counters. Every DaemonSet is re-checked when any
//! node changes.

mod eligibility;
mod error;
mod plan;
mod pod_template;
mod reconcile;

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::reflector::{ObjectRef, Store};
use kube::runtime::watcher;
use kube::{Api, Client};
use tokio_util::sync::CancellationToken;

use crate::event_recorder::EventRecorder;
use crate::informers::Informers;

use crate::job::Expectations;
pub use error::Error;

pub struct Context {
    client: Client,
    pods: Store<Pod>,
    nodes: Store<Node>,
    recorder: EventRecorder,
    expectations: Expectations,
}

/// Run until `cancel`, reading Pods and Nodes from the shared `informers`.
pub async fn run(
    client: Client,
    informers: Informers,
    cancel: CancellationToken,
) -> Result<(), Error> {
    let pods = informers.pods.store();
    let pod_events = informers.pods.touched_objects();
    let nodes = informers.nodes.store();
    let node_events = informers.nodes.touched_objects();
    let ctx = Arc::new(Context {
        client: client.clone(),
        pods,
        nodes,
        recorder: EventRecorder::new(client.clone(), "daemonset-controller"),
        expectations: Expectations::default(),
    });
    let controller = Controller::new(Api::<DaemonSet>::all(client), watcher::Config::default());
    let sets = controller.store();
    controller
        .owns_shared_stream(pod_events)
        .watches_shared_stream(node_events, move |_node: Arc<Node>| {
            sets.state()
                .into_iter()
                .map(|set| ObjectRef::from_obj(set.as_ref()))
                .collect::<Vec<_>>()
        })
        .graceful_shutdown_on(cancel.cancelled_owned())
        .with_config(crate::reconcile_workers::controller_config())
        .run(reconcile::reconcile, error_policy, ctx)
        .for_each(|result| async move {
            if let Err(error) = result {
                tracing::debug!(%error, "daemonset reconcile");
            }
        })
        .await;
    Ok(())
}

fn error_policy(set: Arc<DaemonSet>, error: &Error, ctx: Arc<Context>) -> Action {
    tracing::warn!(daemonset = ?set.metadata.name, %error, "daemonset sync failed");
    ctx.expectations
        .forget(set.metadata.uid.as_deref().unwrap_or_default());
    Action::requeue(Duration::from_secs(5))
}
