//! The ReplicaSet and ReplicationController controllers: one generic loop over [`ReplicaOwner`].

mod claim;
mod expectations;
mod manage_replicas;
mod pod_ranking;
mod pod_template;
mod reconcile;
mod replica_owner;
mod replica_status;
mod slow_start;

use std::sync::Arc;

use futures::StreamExt;
use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::api::core::v1::{Pod, ReplicationController};
use kube::api::Api;
use kube::runtime::controller::Controller;
use kube::runtime::reflector::{ObjectRef, Store};
use kube::runtime::watcher;
use kube::ResourceExt;
use tokio_util::sync::CancellationToken;

use crate::context::ControllerContext;
use crate::error::ControllerError;
use crate::event_recorder::EventRecorder;
use crate::owner_reference::controller_of;

pub use replica_owner::ReplicaOwner;

pub async fn run_replicasets(
    context: ControllerContext,
    cancel: CancellationToken,
) -> Result<(), ControllerError> {
    run_replica_owners::<ReplicaSet>(context, cancel).await
}

pub async fn run_replication_controllers(
    context: ControllerContext,
    cancel: CancellationToken,
) -> Result<(), ControllerError> {
    run_replica_owners::<ReplicationController>(context, cancel).await
}

async fn run_replica_owners<K: ReplicaOwner>(
    context: ControllerContext,
    cancel: CancellationToken,
) -> Result<(), ControllerError> {
    let client = context.client.clone();
    let pods = context.informers.pods.store();
    let pod_owners = context.informers.pod_owners.clone();
    let pod_events = context.informers.pods.touched_objects();
    let controller = Controller::new(Api::<K>::all(client.clone()), watcher::Config::default());
    let owners = controller.store();
    let shared = Arc::new(reconcile::ReplicaContext {
        client: client.clone(),
        pods,
        pod_owners,
        expectations: expectations::Expectations::default(),
        recorder: EventRecorder::new(client, K::COMPONENT),
        resync: context.options.resync_period,
    });
    controller
        .watches_shared_stream(pod_events, move |pod: Arc<Pod>| {
            owners_of_pod(&owners, &pod)
        })
        .graceful_shutdown_on(cancel.cancelled_owned())
        .with_config(crate::reconcile_workers::controller_config())
        .run(
            reconcile::reconcile::<K>,
            reconcile::error_policy::<K>,
            shared,
        )
        .for_each(|_| async {})
        .await;
    Ok(())
}

/// The owners a pod event concerns: its controller, or for an orphan every owner selecting it.
fn owners_of_pod<K: ReplicaOwner>(owners: &Store<K>, pod: &Pod) -> Vec<ObjectRef<K>> {
    let namespace = pod.namespace().unwrap_or_default();
    if let Some(owner) = controller_of(&pod.metadata) {
        if owner.kind == K::kind(&()) {
            return vec![ObjectRef::new(&owner.name).within(&namespace)];
        }
        return Vec::new();
    }
    let labels = pod.labels();
    owners
        .state()
        .into_iter()
        .filter(|owner| owner.namespace().as_deref() == Some(namespace.as_str()))
        .filter(|owner| {
            api::selector::LabelSelector::from_label_selector_json(owner.selector_json().as_ref())
                .is_ok_and(|selector| !selector.is_empty() && selector.matches(labels))
        })
        .map(|owner| ObjectRef::from_obj(owner.as_ref()))
        .collect()
}
