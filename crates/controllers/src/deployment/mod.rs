//! The Deployment controller: ReplicaSets per pod template, rolled by RollingUpdate or Recreate.

mod claim;
mod reconcile;
mod replica_sets;
mod revision;
mod rolling_math;
mod rollout;
mod status;
mod template_hash;

use std::sync::Arc;

use futures::StreamExt;
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use kube::api::Api;
use kube::runtime::controller::Controller;
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::{watcher, WatchStreamExt};
use kube::ResourceExt;
use tokio_util::sync::CancellationToken;

use crate::context::ControllerContext;
use crate::error::ControllerError;
use crate::event_recorder::EventRecorder;
use crate::owner_reference::controller_of;

pub async fn run(
    context: ControllerContext,
    cancel: CancellationToken,
) -> Result<(), ControllerError> {
    let client = context.client.clone();
    let (replica_sets, writer) = reflector::store();
    let replica_set_events = watcher(
        Api::<ReplicaSet>::all(client.clone()),
        watcher::Config::default(),
    )
    .default_backoff()
    .reflect(writer)
    .touched_objects();
    let controller = Controller::new(
        Api::<Deployment>::all(client.clone()),
        watcher::Config::default(),
    );
    let deployments = controller.store();
    let shared = Arc::new(reconcile::DeploymentContext {
        client: client.clone(),
        replica_sets,
        recorder: EventRecorder::new(client, "deployment-controller"),
        resync: context.options.resync_period,
    });
    controller
        .watches_stream(replica_set_events, move |rs: ReplicaSet| {
            deployments_of_replica_set(&deployments, &rs)
        })
        .graceful_shutdown_on(cancel.cancelled_owned())
        .with_config(crate::reconcile_workers::controller_config())
        .run(reconcile::reconcile, reconcile::error_policy, shared)
        .for_each(|_| async {})
        .await;
    Ok(())
}

fn deployments_of_replica_set(
    deployments: &Store<Deployment>,
    rs: &ReplicaSet,
) -> Vec<ObjectRef<Deployment>> {
    let namespace = rs.namespace().unwrap_or_default();
    if let Some(owner) = controller_of(&rs.metadata) {
        if owner.kind == "Deployment" {
            return vec![ObjectRef::new(&owner.name).within(&namespace)];
        }
        return Vec::new();
    }
    deployments
        .state()
        .into_iter()
        .filter(|d| d.namespace().as_deref() == Some(namespace.as_str()))
        .filter(|d| claim::selector_of(d).is_some_and(|s| !s.is_empty() && s.matches(rs.labels())))
        .map(|d| ObjectRef::from_obj(d.as_ref()))
        .collect()
}
