//! The StatefulSet controller: stable pod identities `<set>-<ordinal>`, OrderedReady and Parallel
//! management, RollingUpdate with partition and OnDelete over ControllerRevisions, claims from
//! `volumeClaimTemplates` with their retention policy, and status.

mod claims;
mod error;
mod history;
mod identity;
mod plan;
mod reconcile;
mod revision;

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::apps::v1::{ControllerRevision, StatefulSet};
use k8s_openapi::api::core::v1::Pod;
use kube::runtime::controller::{Action, Controller};
use kube::runtime::reflector::{self, Store};
use kube::runtime::{watcher, WatchStreamExt};
use kube::{Api, Client};
use tokio_util::sync::CancellationToken;

use crate::event_recorder::EventRecorder;
use crate::informers::Informers;

pub use error::Error;

pub struct Context {
    client: Client,
    pods: Store<Pod>,
    revisions: Store<ControllerRevision>,
    recorder: EventRecorder,
}

/// Run until `cancel`, reading Pods from the shared `informers`.
pub async fn run(
    client: Client,
    informers: Informers,
    cancel: CancellationToken,
) -> Result<(), Error> {
    let pods = informers.pods.store();
    let pod_events = informers.pods.touched_objects();
    let (revisions, revision_writer) = reflector::store();
    let revision_events = reflector::reflector(
        revision_writer,
        watcher(
            Api::<ControllerRevision>::all(client.clone()),
            watcher::Config::default(),
        ),
    )
    .default_backoff()
    .touched_objects();
    let ctx = Arc::new(Context {
        client: client.clone(),
        pods,
        revisions,
        recorder: EventRecorder::new(client.clone(), "statefulset-controller"),
    });
    Controller::new(Api::<StatefulSet>::all(client), watcher::Config::default())
        .owns_shared_stream(pod_events)
        .owns_stream(revision_events)
        .graceful_shutdown_on(cancel.cancelled_owned())
        .with_config(crate::reconcile_workers::controller_config())
        .run(reconcile::reconcile, error_policy, ctx)
        .for_each(|result| async move {
            if let Err(error) = result {
                tracing::debug!(%error, "statefulset reconcile");
            }
        })
        .await;
    Ok(())
}

fn error_policy(set: Arc<StatefulSet>, error: &Error, _ctx: Arc<Context>) -> Action {
    tracing::warn!(statefulset = ?set.metadata.name, %error, "statefulset sync failed");
    Action::requeue(Duration::from_secs(5))
}
