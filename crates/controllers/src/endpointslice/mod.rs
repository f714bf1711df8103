//! The EndpointSlice controller: for each Service with a selector, EndpointSlices (IPv4) of the
//! pods it selects, owned by the Service and labelled as upstream's controller labels them.

mod desired_slices;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::{Pod, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, DeleteParams, ListParams, PostParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::watcher;
use kube::ResourceExt;
use tokio_util::sync::CancellationToken;

use crate::context::ControllerContext;
use crate::endpoints::{endpoints_of, services_selecting, ServicePods};
use crate::error::{is_status, ControllerError};
use crate::owner_reference::controller_reference;
use crate::service_endpoint::has_pod_selector;
use desired_slices::{desired_slices, DesiredSlice};

pub const SERVICE_NAME_LABEL: &str = "kubernetes.io/service-name";
pub const MANAGED_BY_LABEL: &str = "endpointslice.kubernetes.io/managed-by";
const MANAGED_BY: &str = "endpointslice-controller.k8s.io";

pub async fn run(
    context: ControllerContext,
    cancel: CancellationToken,
) -> Result<(), ControllerError> {
    let client = context.client.clone();
    let pods = context.informers.pods.store();
    let pod_events = context.informers.pods.touched_objects();
    let controller = Controller::new(
        Api::<Service>::all(client.clone()),
        watcher::Config::default(),
    );
    let services = controller.store();
    let shared = Arc::new(ServicePods {
        client: client.clone(),
        pods,
        resync: context.options.resync_period,
    });
    let managed = watcher::Config::default().labels(&format!("{MANAGED_BY_LABEL}={MANAGED_BY}"));
    controller
        .owns(Api::<EndpointSlice>::all(client), managed)
        .watches_shared_stream(pod_events, move |pod: Arc<Pod>| {
            services_selecting(&services, &pod)
        })
        .graceful_shutdown_on(cancel.cancelled_owned())
        .with_config(crate::reconcile_workers::controller_config())
        .run(reconcile, error_policy, shared)
        .for_each(|_| async {})
        .await;
    Ok(())
}

async fn reconcile(
    service: Arc<Service>,
    context: Arc<ServicePods>,
) -> Result<Action, ControllerError> {
    if !has_pod_selector(&service) || service.metadata.deletion_timestamp.is_some() {
        return Ok(Action::await_change());
    }
    let namespace = service.namespace().unwrap_or_default();
    let name = service.name_any();
    let api: Api<EndpointSlice> = Api::namespaced(context.client.clone(), &namespace);
    let existing = api
        .list(&ListParams::default().labels(&format!(
            "{SERVICE_NAME_LABEL}={name},{MANAGED_BY_LABEL}={MANAGED_BY}"
        )))
        .await?
        .items;
    let mut wanted = desired_slices(&endpoints_of(&service, &context.pods, true));
    if wanted.is_empty() {
        // A Service with no endpoints still gets one empty slice, as upstream.
        wanted.push(DesiredSlice {
            ports: Vec::new(),
            endpoints: Vec::new(),
        });
    }
    let labels = slice_labels(&service);
    let mut unused: Vec<EndpointSlice> = existing;
    for slice in wanted {
        let ports = (!slice.ports.is_empty()).then(|| slice.ports.clone());
        let reuse = unused
            .iter()
            .position(|s| s.ports == ports)
            .map(|i| unused.remove(i));
        match reuse {
            Some(current) => {
                if current.endpoints == slice.endpoints
                    && current.metadata.labels.as_ref() == Some(&labels)
                {
                    continue;
                }
                let mut updated = current.clone();
                updated.metadata.managed_fields = None;
                updated.metadata.labels = Some(labels.clone());
                updated.endpoints = slice.endpoints;
                write(
                    api.replace(&current.name_any(), &PostParams::default(), &updated)
                        .await,
                )?;
            }
            None => {
                let created = EndpointSlice {
                    metadata: ObjectMeta {
                        generate_name: Some(format!("{name}-")),
                        namespace: Some(namespace.clone()),
                        labels: Some(labels.clone()),
                        owner_references: Some(vec![controller_reference(service.as_ref())]),
                        ..ObjectMeta::default()
                    },
                    address_type: "IPv4".into(),
                    endpoints: slice.endpoints,
                    ports,
                };
                write(api.create(&PostParams::default(), &created).await)?;
            }
        }
    }
    for stale in unused {
        write(
            api.delete(&stale.name_any(), &DeleteParams::default())
                .await
                .map(|_| stale),
        )?;
    }
    Ok(Action::requeue(context.resync))
}

fn slice_labels(service: &Service) -> BTreeMap<String, String> {
    let mut labels: BTreeMap<String, String> = service.labels().clone();
    labels.insert(SERVICE_NAME_LABEL.into(), service.name_any());
    labels.insert(MANAGED_BY_LABEL.into(), MANAGED_BY.into());
    if service.spec.as_ref().and_then(|s| s.cluster_ip.as_deref()) == Some("None") {
        labels.insert("service.kubernetes.io/headless".into(), String::new());
    }
    labels
}

/// Vanished objects and terminating namespaces are fine; other errors (conflicts too) retry.
fn write<T>(result: Result<T, kube::Error>) -> Result<(), ControllerError> {
    match result {
        Ok(_) => Ok(()),
        Err(error)
            if is_status(&error, 409) || is_status(&error, 404) || is_status(&error, 403) =>
        {
            Ok(())
        }
        Err(error) => Err(error.into()),
    }
}

fn error_policy(
    service: Arc<Service>,
    error: &ControllerError,
    _context: Arc<ServicePods>,
) -> Action {
    tracing::warn!(service = %service.name_any(), %error, "endpointslice controller");
    Action::requeue(Duration::from_secs(5))
}
