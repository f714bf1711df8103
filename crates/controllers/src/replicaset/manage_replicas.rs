//! Create or delete pods toward the desired count, recording Events as upstream does.

use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, DeleteParams, PostParams};
use kube::ResourceExt;

use super::pod_ranking::pods_to_delete;
use super::pod_template::pod_from_template;
use super::reconcile::ReplicaContext;
use super::replica_owner::ReplicaOwner;
use super::replica_status::ManageFailure;
use super::slow_start::create_in_batches;
use crate::error::is_status;
use crate::event_recorder::EventType;
use crate::owner_reference::controller_reference;

/// Upstream's burstReplicas: at most this many creations or deletions per sync.
const BURST_REPLICAS: usize = 500;

pub async fn manage_replicas<K: ReplicaOwner>(
    owner: &K,
    active: &[&Pod],
    key: &str,
    pods: &Api<Pod>,
    context: &ReplicaContext,
) -> Option<ManageFailure> {
    let desired = usize::try_from(owner.desired_replicas().max(0)).unwrap_or(0);
    if active.len() < desired {
        let missing = (desired - active.len()).min(BURST_REPLICAS);
        create_pods(owner, missing, key, pods, context).await
    } else if active.len() > desired {
        let surplus = (active.len() - desired).min(BURST_REPLICAS);
        delete_pods(owner, &pods_to_delete(active, surplus), key, pods, context).await
    } else {
        None
    }
}

async fn create_pods<K: ReplicaOwner>(
    owner: &K,
    count: usize,
    key: &str,
    pods: &Api<Pod>,
    context: &ReplicaContext,
) -> Option<ManageFailure> {
    let Some(template) = owner.pod_template() else {
        return Some(ManageFailure {
            reason: "FailedCreate",
            message: "no pod template".into(),
        });
    };
    let namespace = owner.namespace().unwrap_or_default();
    let pod = pod_from_template(
        template,
        &namespace,
        &owner.name_any(),
        controller_reference(owner),
    );
    let create_params = PostParams::default();
    let (created, error) = create_in_batches(count, || pods.create(&create_params, &pod)).await;
    context
        .expectations
        .expect_created(key, created.iter().map(ResourceExt::name_any));
    for pod in &created {
        context
            .recorder
            .record(
                owner,
                EventType::Normal,
                "SuccessfulCreate",
                format!("Created pod: {}", pod.name_any()),
            )
            .await;
    }
    let error = error?;
    // Creating in a terminating namespace is refused; that is not the owner's failure.
    if is_status(&error, 403) {
        return None;
    }
    let message = error.to_string();
    context
        .recorder
        .record(
            owner,
            EventType::Warning,
            "FailedCreate",
            format!("Error creating: {message}"),
        )
        .await;
    Some(ManageFailure {
        reason: "FailedCreate",
        message,
    })
}

async fn delete_pods<K: ReplicaOwner>(
    owner: &K,
    doomed: &[&Pod],
    key: &str,
    pods: &Api<Pod>,
    context: &ReplicaContext,
) -> Option<ManageFailure> {
    let deletions = doomed.iter().map(|pod| async move {
        let result = pods.delete(&pod.name_any(), &DeleteParams::default()).await;
        (pod, result)
    });
    let mut failure = None;
    for (pod, result) in futures::future::join_all(deletions).await {
        match result {
            Ok(_) => {
                context.expectations.expect_deleted(key, pod.uid());
                context
                    .recorder
                    .record(
                        owner,
                        EventType::Normal,
                        "SuccessfulDelete",
                        format!("Deleted pod: {}", pod.name_any()),
                    )
                    .await;
            }
            Err(error) if is_status(&error, 404) => {}
            Err(error) => {
                let message = error.to_string();
                context
                    .recorder
                    .record(
                        owner,
                        EventType::Warning,
                        "FailedDelete",
                        format!("Error deleting: {message}"),
                    )
                    .await;
                failure.get_or_insert(ManageFailure {
                    reason: "FailedDelete",
                    message,
                });
            }
        }
    }
    failure
}
