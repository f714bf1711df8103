//! The service account controller: a `default` ServiceAccount in every active namespace.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::{Namespace, ServiceAccount};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, PostParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::{watcher, WatchStreamExt};
use kube::ResourceExt;
use tokio_util::sync::CancellationToken;

use crate::context::ControllerContext;
use crate::error::{is_status, ControllerError};

const DEFAULT_SERVICE_ACCOUNT: &str = "default";

struct ServiceAccountContext {
    client: kube::Client,
    service_accounts: Store<ServiceAccount>,
}

pub async fn run(
    context: ControllerContext,
    cancel: CancellationToken,
) -> Result<(), ControllerError> {
    let client = context.client.clone();
    let (service_accounts, writer) = reflector::store();
    let watched = watcher(
        Api::<ServiceAccount>::all(client.clone()),
        // Not a metadata.name field selector: the server narrows an all-namespaces watch with one
        // to the namespace named like the object.
        watcher::Config::default(),
    )
    .default_backoff()
    .reflect(writer)
    .touched_objects();
    let shared = Arc::new(ServiceAccountContext {
        client: client.clone(),
        service_accounts,
    });
    Controller::new(Api::<Namespace>::all(client), watcher::Config::default())
        .watches_stream(watched, |account: ServiceAccount| {
            (account.name_any() == DEFAULT_SERVICE_ACCOUNT)
                .then(|| {
                    account
                        .namespace()
                        .map(|ns| ObjectRef::<Namespace>::new(&ns))
                })
                .flatten()
        })
        .graceful_shutdown_on(cancel.cancelled_owned())
        .with_config(crate::reconcile_workers::controller_config())
        .run(reconcile, error_policy, shared)
        .for_each(|_| async {})
        .await;
    Ok(())
}

async fn reconcile(
    namespace: Arc<Namespace>,
    context: Arc<ServiceAccountContext>,
) -> Result<Action, ControllerError> {
    if namespace.metadata.deletion_timestamp.is_some() {
        return Ok(Action::await_change());
    }
    let name = namespace.name_any();
    let key = ObjectRef::<ServiceAccount>::new(DEFAULT_SERVICE_ACCOUNT).within(&name);
    if context.service_accounts.get(&key).is_some() {
        return Ok(Action::await_change());
    }
    let account = ServiceAccount {
        metadata: ObjectMeta {
            name: Some(DEFAULT_SERVICE_ACCOUNT.into()),
            namespace: Some(name.clone()),
            ..ObjectMeta::default()
        },
        ..ServiceAccount::default()
    };
    let accounts: Api<ServiceAccount> = Api::namespaced(context.client.clone(), &name);
    match accounts.create(&PostParams::default(), &account).await {
        Ok(_) => Ok(Action::await_change()),
        // Already there, or the namespace started terminating meanwhile.
        Err(error) if is_status(&error, 409) || is_status(&error, 403) => {
            Ok(Action::await_change())
        }
        Err(error) => Err(error.into()),
    }
}

fn error_policy(
    _namespace: Arc<Namespace>,
    error: &ControllerError,
    _context: Arc<ServiceAccountContext>,
) -> Action {
    tracing::warn!(%error, "serviceaccount controller");
    Action::requeue(Duration::from_secs(5))
}
