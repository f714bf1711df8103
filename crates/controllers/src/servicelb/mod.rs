//! ServiceLB (k3s's built-in service load balancer, without its DaemonSet pods): every
//! `type: LoadBalancer` Service without a `loadBalancerClass` gets the addresses of the Ready,
//! schedulable Nodes as `status.loadBalancer.ingress`, where each node's service proxy forwards
//! the Service's ports. The list follows Nodes coming, going and changing readiness, and is
//! cleared when the Service stops being a LoadBalancer.

mod ingress;

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::{LoadBalancerIngress, Node, Service};
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::reflector::{ObjectRef, Store};
use kube::runtime::watcher;
use kube::ResourceExt;
use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::context::ControllerContext;
use crate::error::{is_status, ControllerError};
use ingress::{current_ingress, is_served_load_balancer, wanted_ingress, WantedIngress};

/// What each reconcile reads.
struct ServiceLb {
    client: kube::Client,
    nodes: Store<Node>,
    resync: Duration,
}

pub async fn run(
    context: ControllerContext,
    cancel: CancellationToken,
) -> Result<(), ControllerError> {
    if !context.options.servicelb {
        // `--disable servicelb`: LoadBalancer Services stay pending, as upstream without a cloud.
        cancel.cancelled().await;
        return Ok(());
    }
    let client = context.client.clone();
    let nodes = context.informers.nodes.store();
    // An empty node cache before the first list would clear every Service's ingress.
    tokio::select! {
        () = cancel.cancelled() => return Ok(()),
        ready = crate::informers::wait_until_listed(&nodes) => ready
            .map_err(|error| ControllerError::Invalid(format!("node cache: {error}")))?,
    }
    let node_events = context.informers.nodes.touched_objects();
    let controller = Controller::new(
        Api::<Service>::all(client.clone()),
        watcher::Config::default(),
    );
    let services = controller.store();
    let shared = Arc::new(ServiceLb {
        client,
        nodes,
        resync: context.options.resync_period,
    });
    controller
        .watches_shared_stream(node_events, move |_node: Arc<Node>| {
            served_services(&services)
        })
        .graceful_shutdown_on(cancel.cancelled_owned())
        .with_config(crate::reconcile_workers::controller_config())
        .run(reconcile, error_policy, shared)
        .for_each(|_| async {})
        .await;
    Ok(())
}

/// A Node change may change the ingress of every served Service.
fn served_services(services: &Store<Service>) -> Vec<ObjectRef<Service>> {
    services
        .state()
        .into_iter()
        .filter(|service| is_served_load_balancer(service))
        .map(|service| ObjectRef::from_obj(service.as_ref()))
        .collect()
}

async fn reconcile(
    service: Arc<Service>,
    context: Arc<ServiceLb>,
) -> Result<Action, ControllerError> {
    let nodes = context.nodes.state();
    let wanted = match wanted_ingress(&service, nodes.iter().map(Arc::as_ref)) {
        WantedIngress::LeaveAlone => return Ok(Action::await_change()),
        WantedIngress::Exactly(wanted) => wanted,
    };
    if wanted != current_ingress(&service) {
        write_ingress(&context.client, &service, &wanted).await?;
        tracing::info!(
            service = %format!("{}/{}", service.namespace().unwrap_or_default(), service.name_any()),
            ingress = ?wanted.iter().filter_map(|i| i.ip.as_deref()).collect::<Vec<_>>(),
            "load balancer ingress updated"
        );
    }
    if is_served_load_balancer(&service) {
        Ok(Action::requeue(context.resync))
    } else {
        Ok(Action::await_change())
    }
}

/// Replace `status.loadBalancer.ingress` (a merge patch replaces lists whole; null removes it).
async fn write_ingress(
    client: &kube::Client,
    service: &Service,
    ingress: &[LoadBalancerIngress],
) -> Result<(), ControllerError> {
    let api: Api<Service> =
        Api::namespaced(client.clone(), &service.namespace().unwrap_or_default());
    let ingress = if ingress.is_empty() {
        serde_json::Value::Null
    } else {
        json!(ingress)
    };
    let patch = json!({"status": {"loadBalancer": {"ingress": ingress}}});
    match api
        .patch_status(
            &service.name_any(),
            &PatchParams::default(),
            &Patch::Merge(&patch),
        )
        .await
    {
        Ok(_) => Ok(()),
        // Deleted meanwhile: nothing to announce.
        Err(error) if is_status(&error, 404) => Ok(()),
        Err(error) => Err(error.into()),
    }
}

fn error_policy(
    service: Arc<Service>,
    error: &ControllerError,
    _context: Arc<ServiceLb>,
) -> Action {
    tracing::warn!(service = %service.name_any(), %error, "servicelb controller");
    Action::requeue(Duration::from_secs(5))
}
