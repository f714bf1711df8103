//! The Endpoints controller: for each Service with a selector, an Endpoints object listing the
//! ready and not-ready addresses of the pods it selects.

mod subsets;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::{Endpoints, Pod, Service};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, PostParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::reflector::{ObjectRef, Store};
use kube::runtime::watcher;
use kube::ResourceExt;
use tokio_util::sync::CancellationToken;

use crate::context::ControllerContext;
use crate::error::{is_status, ControllerError};
use crate::owner_reference::controller_reference;
use crate::service_endpoint::{has_pod_selector, pod_endpoint, PodEndpoint};

pub struct ServicePods {
    pub client: kube::Client,
    pub pods: Store<Pod>,
    pub resync: Duration,
}

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
        client,
        pods,
        resync: context.options.resync_period,
    });
    controller
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

/// The Services in the pod's namespace whose selector matches it.
pub fn services_selecting(services: &Store<Service>, pod: &Pod) -> Vec<ObjectRef<Service>> {
    let namespace = pod.namespace();
    services
        .state()
        .into_iter()
        .filter(|s| s.namespace() == namespace && has_pod_selector(s))
        .filter(|s| selects(s, pod))
        .map(|s| ObjectRef::from_obj(s.as_ref()))
        .collect()
}

pub fn selects(service: &Service, pod: &Pod) -> bool {
    let selector = service
        .spec
        .as_ref()
        .and_then(|s| s.selector.clone())
        .unwrap_or_default();
    !selector.is_empty() && selector.iter().all(|(k, v)| pod.labels().get(k) == Some(v))
}

/// The pod endpoints of a Service from the pod cache.
pub fn endpoints_of(
    service: &Service,
    pods: &Store<Pod>,
    include_terminating: bool,
) -> Vec<PodEndpoint> {
    let namespace = service.namespace();
    pods.state()
        .into_iter()
        .filter(|p| p.namespace() == namespace && selects(service, p))
        .filter_map(|p| pod_endpoint(service, &p, include_terminating))
        .collect()
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
    let subsets = subsets::endpoint_subsets(&endpoints_of(&service, &context.pods, false));
    let mut labels: BTreeMap<String, String> = service.labels().clone();
    let headless = service.spec.as_ref().and_then(|s| s.cluster_ip.as_deref()) == Some("None");
    if headless {
        labels.insert("service.kubernetes.io/headless".into(), String::new());
    }
    let api: Api<Endpoints> = Api::namespaced(context.client.clone(), &namespace);
    let existing = api.get_opt(&name).await?;
    let wanted_subsets = (!subsets.is_empty()).then_some(subsets);
    let result = match existing {
        Some(current) => {
            if current.subsets == wanted_subsets
                && current.metadata.labels.as_ref() == Some(&labels)
            {
                return Ok(Action::requeue(context.resync));
            }
            let mut updated = current.clone();
            updated.metadata.managed_fields = None;
            updated.metadata.labels = Some(labels);
            updated.subsets = wanted_subsets;
            api.replace(&name, &PostParams::default(), &updated).await
        }
        None => {
            let endpoints = Endpoints {
                metadata: ObjectMeta {
                    name: Some(name.clone()),
                    namespace: Some(namespace.clone()),
                    labels: Some(labels),
                    // Lets the garbage collector remove it with its Service.
                    owner_references: Some(vec![controller_reference(service.as_ref())]),
                    ..ObjectMeta::default()
                },
                subsets: wanted_subsets,
            };
            api.create(&PostParams::default(), &endpoints).await
        }
    };
    match result {
        Ok(_) => Ok(Action::requeue(context.resync)),
        Err(error) if is_status(&error, 409) => Ok(Action::requeue(Duration::from_millis(200))),
        Err(error) if is_status(&error, 403) || is_status(&error, 404) => {
            Ok(Action::await_change())
        }
        Err(error) => Err(error.into()),
    }
}

fn error_policy(
    service: Arc<Service>,
    error: &ControllerError,
    _context: Arc<ServicePods>,
) -> Action {
    tracing::warn!(service = %service.name_any(), %error, "endpoints controller");
    Action::requeue(Duration::from_secs(5))
}
