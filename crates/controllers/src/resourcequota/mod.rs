//! The resource quota controller: keeps each ResourceQuota's status current, `hard` copied from
//! the spec and `used` observed in its namespace (object counts, pods' compute requests and
//! limits, Services' load balancers and node ports, claims' storage), as upstream's.
//!
//! A quota is recomputed when it changes, when a pod or a ConfigMap, Secret, Service,
//! PersistentVolumeClaim or ReplicationController in its namespace changes, and every resync
//! period (which catches the other counted kinds, as upstream's replenishment is eventual).

mod amount;
mod objects;
mod observe;
mod pod_usage;
mod scopes;
mod status;

use std::fmt::Debug;
use std::sync::Arc;
use std::time::Duration;

use futures::{Stream, StreamExt};
use k8s_openapi::api::core::v1::{
    ConfigMap, PersistentVolumeClaim, Pod, ReplicationController, ResourceQuota, Secret, Service,
};
use kube::api::{Api, PartialObjectMeta, PostParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::reflector::{ObjectRef, Store};
use kube::runtime::{watcher, WatchStreamExt};
use kube::{Client, Resource, ResourceExt};
use serde::de::DeserializeOwned;
use tokio_util::sync::CancellationToken;

use crate::context::ControllerContext;
use crate::error::{is_status, ControllerError};
use observe::observe_usage;
use status::{desired_status, status_differs};

struct Context {
    client: Client,
    pods: Store<Pod>,
    resync: Duration,
}

pub async fn run(
    context: ControllerContext,
    cancel: CancellationToken,
) -> Result<(), ControllerError> {
    let client = context.client.clone();
    let pods = context.informers.pods.store();
    let pod_events = context.informers.pods.touched_objects();
    let controller = Controller::new(
        Api::<ResourceQuota>::all(client.clone()),
        watcher::Config::default(),
    );
    let quotas = controller.store();
    let shared = Arc::new(Context {
        client: client.clone(),
        pods,
        resync: context.options.resync_period,
    });
    let in_namespace = |quotas: Store<ResourceQuota>| {
        move |object: Option<String>| quotas_in(&quotas, object.as_deref())
    };
    let by_pod = in_namespace(quotas.clone());
    let by_config_map = in_namespace(quotas.clone());
    let by_secret = in_namespace(quotas.clone());
    let by_service = in_namespace(quotas.clone());
    let by_claim = in_namespace(quotas.clone());
    let by_controller = in_namespace(quotas);
    controller
        .watches_shared_stream(pod_events, move |pod: Arc<Pod>| by_pod(pod.namespace()))
        .watches_stream(touched::<ConfigMap>(&client), move |o| {
            by_config_map(o.namespace())
        })
        .watches_stream(touched::<Secret>(&client), move |o| {
            by_secret(o.namespace())
        })
        .watches_stream(touched::<Service>(&client), move |o| {
            by_service(o.namespace())
        })
        .watches_stream(touched::<PersistentVolumeClaim>(&client), move |o| {
            by_claim(o.namespace())
        })
        .watches_stream(touched::<ReplicationController>(&client), move |o| {
            by_controller(o.namespace())
        })
        .graceful_shutdown_on(cancel.cancelled_owned())
        .with_config(crate::reconcile_workers::controller_config())
        .run(reconcile, error_policy, shared)
        .for_each(|_| async {})
        .await;
    Ok(())
}

/// Every object of kind `K` created, changed or deleted, metadata only.
fn touched<K>(
    client: &Client,
) -> impl Stream<Item = Result<PartialObjectMeta<K>, watcher::Error>> + Send + 'static
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
{
    watcher(
        Api::<PartialObjectMeta<K>>::all(client.clone()),
        watcher::Config::default(),
    )
    .default_backoff()
    .touched_objects()
}

fn quotas_in(
    quotas: &Store<ResourceQuota>,
    namespace: Option<&str>,
) -> Vec<ObjectRef<ResourceQuota>> {
    quotas
        .state()
        .iter()
        .filter(|q| q.namespace().as_deref() == namespace)
        .map(|q| ObjectRef::from_obj(q.as_ref()))
        .collect()
}

async fn reconcile(
    quota: Arc<ResourceQuota>,
    context: Arc<Context>,
) -> Result<Action, ControllerError> {
    if quota.metadata.deletion_timestamp.is_some() {
        return Ok(Action::await_change());
    }
    let observed = observe_usage(
        &context.client,
        &context.pods,
        &quota,
        jiff::Timestamp::now(),
    )
    .await?;
    let status = desired_status(&quota, &observed);
    if status_differs(quota.status.as_ref(), &status) {
        let mut updated = quota.as_ref().clone();
        updated.metadata.managed_fields = None;
        updated.status = Some(status);
        let api: Api<ResourceQuota> = Api::namespaced(
            context.client.clone(),
            &quota.namespace().unwrap_or_default(),
        );
        match api
            .replace_status(&quota.name_any(), &PostParams::default(), &updated)
            .await
        {
            Ok(_) => {}
            // A newer quota is on its way through the watch; a vanished one needs nothing.
            Err(error) if is_status(&error, 409) || is_status(&error, 404) => {}
            Err(error) => return Err(error.into()),
        }
    }
    Ok(Action::requeue(context.resync))
}

fn error_policy(
    quota: Arc<ResourceQuota>,
    error: &ControllerError,
    _context: Arc<Context>,
) -> Action {
    tracing::warn!(quota = %quota.name_any(), %error, "resource quota sync failed");
    Action::requeue(Duration::from_secs(5))
}
