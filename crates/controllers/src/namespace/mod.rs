//! The namespace controller: empties a terminating namespace, then removes its `kubernetes`
//! finalizer so that the API server deletes it.

mod conditions;
mod content_deleter;
mod status;

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, PostParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::watcher;
use kube::ResourceExt;
use tokio_util::sync::CancellationToken;

use crate::context::ControllerContext;
use crate::error::{is_status, ControllerError};

/// The finalizer this controller owns in `spec.finalizers`.
const KUBERNETES_FINALIZER: &str = "kubernetes";
/// How soon a namespace with content still going away is looked at again.
const CONTENT_REMAINING_RECHECK: Duration = Duration::from_secs(2);

struct NamespaceContext {
    client: kube::Client,
}

pub async fn run(
    context: ControllerContext,
    cancel: CancellationToken,
) -> Result<(), ControllerError> {
    let namespaces: Api<Namespace> = Api::all(context.client.clone());
    let shared = Arc::new(NamespaceContext {
        client: context.client.clone(),
    });
    Controller::new(namespaces, watcher::Config::default())
        .graceful_shutdown_on(cancel.cancelled_owned())
        .with_config(crate::reconcile_workers::controller_config())
        .run(reconcile, error_policy, shared)
        .for_each(|result| async move {
            if let Err(error) = result {
                tracing::debug!(%error, "namespace reconcile");
            }
        })
        .await;
    Ok(())
}

async fn reconcile(
    namespace: Arc<Namespace>,
    context: Arc<NamespaceContext>,
) -> Result<Action, ControllerError> {
    if namespace.metadata.deletion_timestamp.is_none() {
        return Ok(Action::await_change());
    }
    let finalizers = namespace
        .spec
        .as_ref()
        .and_then(|spec| spec.finalizers.clone())
        .unwrap_or_default();
    if !finalizers.iter().any(|f| f == KUBERNETES_FINALIZER) {
        return Ok(Action::await_change());
    }
    let name = namespace.name_any();
    let pass = content_deleter::delete_namespace_content(&context.client, &name).await;
    let namespaces: Api<Namespace> = Api::all(context.client.clone());
    if let Some(updated) = status::with_deletion_status(&namespace, &pass) {
        match namespaces
            .replace_status(&name, &PostParams::default(), &updated)
            .await
        {
            Ok(_) => {}
            Err(error) if is_status(&error, 409) || is_status(&error, 404) => {}
            Err(error) => return Err(error.into()),
        }
    }
    if !pass.is_complete() {
        return Ok(Action::requeue(CONTENT_REMAINING_RECHECK));
    }
    let mut finalized = namespace.as_ref().clone();
    finalized.metadata.managed_fields = None;
    if let Some(spec) = finalized.spec.as_mut() {
        spec.finalizers = Some(
            finalizers
                .into_iter()
                .filter(|f| f != KUBERNETES_FINALIZER)
                .collect(),
        );
    }
    match namespaces
        .replace_subresource("finalize", &name, &PostParams::default(), &finalized)
        .await
    {
        Ok(_) => Ok(Action::await_change()),
        Err(error) if is_status(&error, 404) => Ok(Action::await_change()),
        Err(error) if is_status(&error, 409) => Ok(Action::requeue(Duration::from_millis(200))),
        Err(error) => Err(error.into()),
    }
}

fn error_policy(
    _namespace: Arc<Namespace>,
    error: &ControllerError,
    _context: Arc<NamespaceContext>,
) -> Action {
    tracing::warn!(%error, "namespace controller");
    Action::requeue(Duration::from_secs(5))
}
