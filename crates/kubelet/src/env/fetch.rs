//! Reads the objects a pod's environment and volumes refer to; a missing object is `None`.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Node, Service};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use kube::api::{Api, ListParams};

use crate::KubeletError;

/// Gets a namespaced object, `None` when the API answers 404.
pub async fn get_optional<K>(
    client: &kube::Client,
    namespace: &str,
    name: &str,
) -> Result<Option<K>, KubeletError>
where
    K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug,
    <K as kube::Resource>::DynamicType: Default,
{
    let api: Api<K> = Api::namespaced(client.clone(), namespace);
    Ok(api.get_opt(name).await?)
}

/// The Services whose link variables a pod in `namespace` may get: its own namespace's (when
/// `enable_service_links`) and `default/kubernetes`.
pub async fn services_for_links(
    client: &kube::Client,
    namespace: &str,
    enable_service_links: bool,
) -> Result<Vec<Service>, KubeletError> {
    let mut services = Vec::new();
    if let Some(master) = get_optional::<Service>(client, "default", "kubernetes").await? {
        services.push(master);
    }
    if enable_service_links {
        let api: Api<Service> = Api::namespaced(client.clone(), namespace);
        services.extend(api.list(&ListParams::default()).await?.items);
    }
    Ok(services)
}

/// The node's allocatable resources (empty when the node or its status is missing).
pub async fn node_allocatable(
    client: &kube::Client,
    node_name: &str,
) -> Result<BTreeMap<String, Quantity>, KubeletError> {
    if node_name.is_empty() {
        return Ok(BTreeMap::new());
    }
    let api: Api<Node> = Api::all(client.clone());
    let node = api.get_opt(node_name).await?;
    Ok(node
        .and_then(|n| n.status)
        .and_then(|s| s.allocatable)
        .unwrap_or_default())
}
