//! One DaemonSet sync: plan against the node and pod caches, delete, create, write status.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::{DeleteParams, PostParams};
use kube::runtime::controller::Action;
use kube::{Api, ResourceExt};

use super::error::Error;
use super::plan::plan_daemon_set;
use super::pod_template::{daemon_pod_spec, pod_for_node, template_hash};
use super::Context;
use crate::event_recorder::EventType;

const RESYNC: Duration = Duration::from_secs(300);

pub async fn reconcile(set: Arc<DaemonSet>, ctx: Arc<Context>) -> Result<Action, Error> {
    if set.metadata.deletion_timestamp.is_some() {
        return Ok(Action::await_change());
    }
    let uid = set.uid().unwrap_or_default();
    let pods = ctx
        .pods
        .state_filter(|p| crate::owner_reference::is_controlled_by(&p.metadata, &uid));
    let live: HashSet<&str> = pods
        .iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
        .filter_map(|p| p.metadata.uid.as_deref())
        .collect();
    if !ctx.expectations.satisfied(&uid, None, &live) {
        return Ok(Action::requeue(Duration::from_secs(1)));
    }
    let nodes: Vec<Arc<Node>> = ctx.nodes.state();
    let node_refs: Vec<&Node> = nodes.iter().map(Arc::as_ref).collect();
    let pod_refs: Vec<&Pod> = pods.iter().map(Arc::as_ref).collect();
    let hash = template_hash(&set);
    let spec = daemon_pod_spec(&set)?;
    let plan = plan_daemon_set(&set, &spec, &node_refs, &pod_refs, &hash, Timestamp::now());

    let namespace = set.namespace().unwrap_or_default();
    let pod_api: Api<Pod> = Api::namespaced(ctx.client.clone(), &namespace);
    let deleting: Vec<String> = pods
        .iter()
        .filter(|p| plan.delete.contains(&p.name_any()))
        .filter_map(|p| p.uid())
        .collect();
    ctx.expectations.expect_pods(&uid, Vec::new(), deleting);
    for name in &plan.delete {
        match pod_api.delete(name, &DeleteParams::default()).await {
            Ok(_) => {
                ctx.recorder
                    .record(
                        set.as_ref(),
                        EventType::Normal,
                        "SuccessfulDelete",
                        format!("Deleted pod: {name}"),
                    )
                    .await
            }
            Err(kube::Error::Api(status)) if status.code == 404 => {}
            Err(error) => return Err(error.into()),
        }
    }
    for node in &plan.create_on {
        let pod = pod_for_node(&set, node, &hash)?;
        match pod_api.create(&PostParams::default(), &pod).await {
            Ok(created) => {
                ctx.expectations
                    .expect_pods(&uid, created.uid().into_iter().collect(), Vec::new());
                let note = format!("Created pod: {}", created.name_any());
                ctx.recorder
                    .record(set.as_ref(), EventType::Normal, "SuccessfulCreate", note)
                    .await;
            }
            Err(error) => {
                ctx.recorder
                    .record(
                        set.as_ref(),
                        EventType::Warning,
                        "FailedCreate",
                        format!("Error creating: {error}"),
                    )
                    .await;
                return Err(error.into());
            }
        }
    }
    if set.status.as_ref() != Some(&plan.status) {
        let mut updated = set.as_ref().clone();
        updated.status = Some(plan.status);
        let sets: Api<DaemonSet> = Api::namespaced(ctx.client.clone(), &namespace);
        sets.replace_status(&set.name_any(), &PostParams::default(), &updated)
            .await?;
    }
    let min_ready = set
        .spec
        .as_ref()
        .and_then(|s| s.min_ready_seconds)
        .unwrap_or(0);
    if min_ready > 0 {
        return Ok(Action::requeue(Duration::from_secs(
            min_ready.unsigned_abs().into(),
        )));
    }
    Ok(Action::requeue(RESYNC))
}
