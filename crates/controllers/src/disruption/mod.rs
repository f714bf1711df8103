//! The disruption controller: keeps each PodDisruptionBudget's status (healthy and expected
//! pods, disruptionsAllowed, the DisruptionAllowed condition) current, which the eviction
//! subresource consults. Expected pods are the matched, non-terminal pods (upstream reads the
//! owning controllers' scale instead).

mod budget;

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use kube::api::PostParams;
use kube::runtime::controller::{Action, Controller};
use kube::runtime::reflector::{ObjectRef, Store};
use kube::runtime::watcher;
use kube::{Api, Client, ResourceExt};
use tokio_util::sync::CancellationToken;

use crate::informers::Informers;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("kubernetes API: {0}")]
    Kube(#[from] kube::Error),
}

impl From<Error> for crate::ControllerError {
    fn from(Error::Kube(error): Error) -> Self {
        error.into()
    }
}

pub struct Context {
    client: Client,
    pods: Store<Pod>,
}

fn selects(pdb: &PodDisruptionBudget, pod: &Pod) -> bool {
    if pdb.namespace() != pod.namespace() {
        return false;
    }
    let selector = pdb
        .spec
        .as_ref()
        .and_then(|s| s.selector.as_ref())
        .and_then(|s| serde_json::to_value(s).ok());
    let Some(selector) = selector else {
        return false;
    };
    api::selector::LabelSelector::from_label_selector_json(Some(&selector))
        .is_ok_and(|s| !s.is_empty() && s.matches(pod.labels()))
}

fn is_healthy(pod: &Pod) -> bool {
    pod.metadata.deletion_timestamp.is_none()
        && pod
            .status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

fn is_terminal(pod: &Pod) -> bool {
    matches!(
        pod.status.as_ref().and_then(|s| s.phase.as_deref()),
        Some("Succeeded" | "Failed")
    )
}

async fn reconcile(pdb: Arc<PodDisruptionBudget>, ctx: Arc<Context>) -> Result<Action, Error> {
    let pods = ctx
        .pods
        .state_filter(|p| selects(&pdb, p) && !is_terminal(p));
    let expected = pods
        .iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
        .count() as i32;
    let healthy = pods.iter().filter(|p| is_healthy(p)).count() as i32;
    let status = budget::budget_status(&pdb, expected, healthy, jiff::Timestamp::now());
    if pdb.status.as_ref() != Some(&status) {
        let mut updated = pdb.as_ref().clone();
        updated.status = Some(status);
        let api: Api<PodDisruptionBudget> =
            Api::namespaced(ctx.client.clone(), &pdb.namespace().unwrap_or_default());
        api.replace_status(&pdb.name_any(), &PostParams::default(), &updated)
            .await?;
    }
    Ok(Action::requeue(Duration::from_secs(300)))
}

fn error_policy(pdb: Arc<PodDisruptionBudget>, error: &Error, _ctx: Arc<Context>) -> Action {
    tracing::warn!(pdb = %pdb.name_any(), %error, "disruption budget sync failed");
    Action::requeue(Duration::from_secs(5))
}

pub async fn run(
    client: Client,
    informers: Informers,
    cancel: CancellationToken,
) -> Result<(), Error> {
    let pods = informers.pods.store();
    let pod_events = informers.pods.touched_objects();
    let controller = Controller::new(
        Api::<PodDisruptionBudget>::all(client.clone()),
        watcher::Config::default(),
    );
    let budgets = controller.store();
    let ctx = Arc::new(Context { client, pods });
    controller
        .watches_shared_stream(pod_events, move |pod: Arc<Pod>| {
            budgets
                .state()
                .into_iter()
                .filter(|b| selects(b, &pod))
                .map(|b| ObjectRef::from_obj(b.as_ref()))
                .collect::<Vec<_>>()
        })
        .graceful_shutdown_on(cancel.cancelled_owned())
        .with_config(crate::reconcile_workers::controller_config())
        .run(reconcile, error_policy, ctx)
        .for_each(|result| async move {
            if let Err(error) = result {
                tracing::debug!(%error, "disruption reconcile");
            }
        })
        .await;
    Ok(())
}
