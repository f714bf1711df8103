//! The Job controller: runs pods to completion with upstream's accounting (job-tracking
//! finalizers and `uncountedTerminatedPods`), back-off, deadlines, pod failure and success
//! policies, Indexed completion and suspension.

mod backoff;
mod conditions;
mod error;
mod expectations;
mod failure_policy;
mod indexes;
mod orphans;
mod plan;
mod pod_state;
mod pod_template;
mod reconcile;
mod success_policy;

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use kube::runtime::controller::{Action, Controller};
use kube::runtime::reflector::Store;
use kube::runtime::watcher;
use kube::{Api, Client};
use tokio_util::sync::CancellationToken;

use crate::event_recorder::EventRecorder;
use crate::informers::Informers;

pub use error::Error;
pub(crate) use expectations::Expectations;

pub struct Context {
    client: Client,
    pods: Store<Pod>,
    recorder: EventRecorder,
    expectations: Expectations,
}

/// Run until `cancel`, reading Pods from the shared `informers`.
pub async fn run(
    client: Client,
    informers: Informers,
    cancel: CancellationToken,
) -> Result<(), Error> {
    let pods = informers.pods.store();
    let pod_events = informers.pods.touched_objects();
    let ctx = Arc::new(Context {
        client: client.clone(),
        pods: pods.clone(),
        recorder: EventRecorder::new(client.clone(), "job-controller"),
        expectations: Expectations::default(),
    });
    let controller = Controller::new(Api::<Job>::all(client.clone()), watcher::Config::default());
    let jobs = controller.store();
    let orphan_sweep = orphans::release_orphaned_pods(client, pods, jobs, cancel.clone());
    let reconciling = controller
        .owns_shared_stream(pod_events)
        .graceful_shutdown_on(cancel.cancelled_owned())
        .with_config(crate::reconcile_workers::controller_config())
        .run(reconcile::reconcile, error_policy, ctx)
        .for_each(|result| async move {
            if let Err(error) = result {
                tracing::debug!(%error, "job reconcile");
            }
        });
    futures::join!(reconciling, orphan_sweep);
    Ok(())
}

fn error_policy(job: Arc<Job>, error: &Error, ctx: Arc<Context>) -> Action {
    tracing::warn!(job = ?job.metadata.name, %error, "job sync failed");
    ctx.expectations
        .forget(job.metadata.uid.as_deref().unwrap_or_default());
    Action::requeue(Duration::from_secs(5))
}
