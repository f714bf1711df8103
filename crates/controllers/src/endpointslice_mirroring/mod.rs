//! The EndpointSlice mirroring controller: for each Service without a selector, EndpointSlices
//! mirroring its hand-made Endpoints, owned by the Endpoints and labelled as upstream's
//! `endpointslicemirroring-controller.k8s.io` labels them. Slices go when the Service goes or
//! gets a selector, or the Endpoints is marked skip-mirror; when the Endpoints itself is
//! deleted, the garbage collector removes the slices it owns.

mod desired_slices;
mod mirror_policy;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::{Endpoints, Service};
use k8s_openapi::api::discovery::v1::{EndpointPort, EndpointSlice};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, DeleteParams, ListParams, PostParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::{watcher, WatchStreamExt};
use kube::{Client, ResourceExt};
use tokio_util::sync::CancellationToken;

use crate::context::ControllerContext;
use crate::endpointslice::{MANAGED_BY_LABEL, SERVICE_NAME_LABEL};
use crate::error::{is_status, ControllerError};
use crate::owner_reference::controller_reference;
use desired_slices::{desired_slices, DesiredSlice};
use mirror_policy::{should_mirror, slice_annotations, slice_labels, MANAGED_BY};

struct Context {
    client: Client,
    services: Store<Service>,
    resync: Duration,
}

pub async fn run(
    context: ControllerContext,
    cancel: CancellationToken,
) -> Result<(), ControllerError> {
    let client = context.client.clone();
    let (services, writer) = reflector::store();
    let service_events = watcher(
        Api::<Service>::all(client.clone()),
        watcher::Config::default(),
    )
    .default_backoff()
    .reflect(writer)
    .touched_objects();
    let shared = Arc::new(Context {
        client: client.clone(),
        services,
        resync: context.options.resync_period,
    });
    let managed = watcher::Config::default().labels(&format!("{MANAGED_BY_LABEL}={MANAGED_BY}"));
    Controller::new(
        Api::<Endpoints>::all(client.clone()),
        watcher::Config::default(),
    )
    .owns(Api::<EndpointSlice>::all(client), managed)
    .watches_stream(service_events, |service: Service| {
        let reference = ObjectRef::new(&service.name_any());
        Some(match service.namespace() {
            Some(namespace) => reference.within(&namespace),
            None => reference,
        })
    })
    .graceful_shutdown_on(cancel.cancelled_owned())
    .with_config(crate::reconcile_workers::controller_config())
    .run(reconcile, error_policy, shared)
    .for_each(|_| async {})
    .await;
    Ok(())
}

async fn reconcile(
    endpoints: Arc<Endpoints>,
    context: Arc<Context>,
) -> Result<Action, ControllerError> {
    let namespace = endpoints.namespace().unwrap_or_default();
    let name = endpoints.name_any();
    let service = context
        .services
        .get(&ObjectRef::new(&name).within(&namespace));
    let api: Api<EndpointSlice> = Api::namespaced(context.client.clone(), &namespace);
    let mut unused = api
        .list(&ListParams::default().labels(&format!(
            "{SERVICE_NAME_LABEL}={name},{MANAGED_BY_LABEL}={MANAGED_BY}"
        )))
        .await?
        .items;
    let wanted = if should_mirror(&endpoints, service.as_deref()) {
        desired_slices(&endpoints)
    } else {
        Vec::new()
    };
    let labels = slice_labels(&endpoints);
    let annotations = slice_annotations(&endpoints);
    for slice in wanted {
        let reuse = unused
            .iter()
            .position(|s| {
                s.address_type == slice.address_type && ports_of(s) == slice.ports.as_slice()
            })
            .map(|i| unused.remove(i));
        match reuse {
            Some(current) => {
                let current_annotations = current.annotations();
                if current.endpoints == slice.endpoints
                    && current.labels() == &labels
                    && current_annotations == &annotations
                {
                    continue;
                }
                let mut updated = current.clone();
                updated.metadata.managed_fields = None;
                updated.metadata.labels = Some(labels.clone());
                updated.metadata.annotations = Some(annotations.clone());
                updated.endpoints = slice.endpoints;
                write(
                    api.replace(&current.name_any(), &PostParams::default(), &updated)
                        .await,
                )?;
            }
            None => {
                let created = new_slice(&endpoints, slice, &labels, &annotations);
                write(api.create(&PostParams::default(), &created).await)?;
            }
        }
    }
    for stale in unused {
        write(
            api.delete(&stale.name_any(), &DeleteParams::default())
                .await,
        )?;
    }
    Ok(Action::requeue(context.resync))
}

fn ports_of(slice: &EndpointSlice) -> &[EndpointPort] {
    slice.ports.as_deref().unwrap_or_default()
}

fn new_slice(
    endpoints: &Endpoints,
    slice: DesiredSlice,
    labels: &BTreeMap<String, String>,
    annotations: &BTreeMap<String, String>,
) -> EndpointSlice {
    EndpointSlice {
        metadata: ObjectMeta {
            generate_name: Some(format!("{}-", endpoints.name_any())),
            namespace: endpoints.namespace(),
            labels: Some(labels.clone()),
            annotations: Some(annotations.clone()),
            owner_references: Some(vec![controller_reference(endpoints)]),
            ..ObjectMeta::default()
        },
        address_type: slice.address_type.into(),
        endpoints: slice.endpoints,
        ports: Some(slice.ports),
    }
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
    endpoints: Arc<Endpoints>,
    error: &ControllerError,
    _context: Arc<Context>,
) -> Action {
    tracing::warn!(endpoints = %endpoints.name_any(), %error, "endpointslice mirroring");
    Action::requeue(Duration::from_secs(5))
}
