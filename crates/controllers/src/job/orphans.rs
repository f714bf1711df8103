//! Pods keep the job-tracking finalizer until their Job counted them; once the Job is gone (or
//! being deleted) nobody will, so the finalizer is dropped here. A reconcile never sees a Job
//! that left the cache, hence this periodic sweep.

use crate::informers::wait_until_listed;
use std::time::Duration;

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use kube::runtime::reflector::{ObjectRef, Store};
use kube::{Api, Client, ResourceExt};
use tokio_util::sync::CancellationToken;

use super::pod_state::has_tracking_finalizer;
use super::reconcile::{controller_uid, remove_tracking_finalizer};

const SWEEP_INTERVAL: Duration = Duration::from_secs(10);

pub async fn release_orphaned_pods(
    client: Client,
    pods: Store<Pod>,
    jobs: Store<Job>,
    cancel: CancellationToken,
) {
    loop {
        tokio::select! {
            () = cancel.cancelled() => return,
            () = tokio::time::sleep(SWEEP_INTERVAL) => {}
        }
        if wait_until_listed(&pods).await.is_err() || wait_until_listed(&jobs).await.is_err() {
            return;
        }
        for pod in pods.state().iter().filter(|p| has_tracking_finalizer(p)) {
            if owner_is_present(pod, &jobs) {
                continue;
            }
            let api: Api<Pod> =
                Api::namespaced(client.clone(), &pod.namespace().unwrap_or_default());
            if let Err(error) = remove_tracking_finalizer(&api, pod).await {
                tracing::debug!(%error, pod = %pod.name_any(), "releasing an orphaned job pod");
            }
        }
    }
}

fn owner_is_present(pod: &Pod, jobs: &Store<Job>) -> bool {
    let Some(owner_uid) = controller_uid(pod) else {
        return false;
    };
    let Some(owner) = pod.owner_references().iter().find(|o| o.uid == owner_uid) else {
        return false;
    };
    let key = ObjectRef::new(&owner.name).within(&pod.namespace().unwrap_or_default());
    jobs.get(&key).is_some_and(|job| {
        job.uid().as_deref() == Some(owner_uid) && job.metadata.deletion_timestamp.is_none()
    })
}
