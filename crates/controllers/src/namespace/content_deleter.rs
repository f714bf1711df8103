//! Deletes every namespaced object in a namespace, resource by resource, found through discovery.

use std::collections::BTreeMap;

use http::HeaderValue;
use kube::api::{Api, DeleteParams, DynamicObject, ListParams};
use kube::discovery::{verbs, ApiCapabilities, ApiResource, Discovery, Scope};
use kube::Resource;

use super::conditions::DeletionPass;

/// Delete what is left in `namespace` and report what remains.
pub async fn delete_namespace_content(client: &kube::Client, namespace: &str) -> DeletionPass {
    let mut pass = DeletionPass::default();
    let discovery = match Discovery::new(client.clone()).run().await {
        Ok(discovery) => discovery,
        Err(error) => {
            pass.discovery_failure = Some(error.to_string());
            return pass;
        }
    };
    for group in discovery.groups() {
        for (resource, capabilities) in group.recommended_resources() {
            if !is_deletable_namespaced(&capabilities) {
                continue;
            }
            delete_resource_content(client, namespace, &resource, &capabilities, &mut pass).await;
        }
    }
    pass
}

/// What a deletecollection answer is asked to be: the deleted objects' metadata only.
const METADATA_ONLY: &str =
    "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json";

/// Deletes every `resource` object of `namespace` in one request, as upstream's namespace
/// deleter does through its metadata client: the answer lists the deleted objects, and taken
/// whole and decoded as dynamic objects it was the largest allocation of a server deleting a
/// namespace of 30,000 pods (a spike of ~450 MiB).
async fn delete_collection(
    client: &kube::Client,
    namespace: &str,
    resource: &ApiResource,
    deleting: &DeleteParams,
) -> Result<(), kube::Error> {
    let path = DynamicObject::url_path(resource, Some(namespace));
    let mut request = kube::core::Request::new(path)
        .delete_collection(deleting, &ListParams::default())
        .map_err(kube::Error::BuildRequest)?;
    request.headers_mut().insert(
        http::header::ACCEPT,
        HeaderValue::from_static(METADATA_ONLY),
    );
    client.request_text(request).await.map(drop)
}

fn is_deletable_namespaced(capabilities: &ApiCapabilities) -> bool {
    capabilities.scope == Scope::Namespaced
        && capabilities.supports_operation(verbs::LIST)
        && capabilities.supports_operation(verbs::DELETE)
}

async fn delete_resource_content(
    client: &kube::Client,
    namespace: &str,
    resource: &ApiResource,
    capabilities: &ApiCapabilities,
    pass: &mut DeletionPass,
) {
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), namespace, resource);
    let label = format!("{}.{}", resource.plural, resource.group);
    let present = match api.list_metadata(&ListParams::default()).await {
        Ok(list) => list.items,
        Err(error) => {
            pass.content_failures.push(format!("{label}: {error}"));
            return;
        }
    };
    if present.is_empty() {
        return;
    }
    let deleting = DeleteParams::background();
    if capabilities.supports_operation(verbs::DELETE_COLLECTION) {
        if let Err(error) = delete_collection(client, namespace, resource, &deleting).await {
            pass.content_failures.push(format!("{label}: {error}"));
        }
    } else {
        for object in &present {
            let Some(name) = object.metadata.name.as_deref() else {
                continue;
            };
            if object.metadata.deletion_timestamp.is_some() {
                continue;
            }
            if let Err(error) = api.delete(name, &deleting).await {
                if !crate::error::is_status(&error, 404) {
                    pass.content_failures.push(format!("{label}: {error}"));
                }
            }
        }
    }
    let remaining = match api.list_metadata(&ListParams::default()).await {
        Ok(list) => list.items,
        Err(error) => {
            pass.content_failures.push(format!("{label}: {error}"));
            return;
        }
    };
    if remaining.is_empty() {
        return;
    }
    pass.remaining_resources.insert(label, remaining.len());
    count_finalizers(
        remaining
            .iter()
            .flat_map(|object| object.metadata.finalizers.iter().flatten()),
        &mut pass.remaining_finalizers,
    );
}

fn count_finalizers<'a>(
    finalizers: impl Iterator<Item = &'a String>,
    counts: &mut BTreeMap<String, usize>,
) {
    for finalizer in finalizers {
        *counts.entry(finalizer.clone()).or_default() += 1;
    }
}
