//! Deletes every namespaced object in a namespace, resource by resource, found through discovery.

use std::collections::BTreeMap;

use kube::api::{Api, DeleteParams, DynamicObject, ListParams};
use kube::discovery::{verbs, ApiCapabilities, ApiResource, Discovery, Scope};

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
        if let Err(error) = api
            .delete_collection(&deleting, &ListParams::default())
            .await
        {
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
