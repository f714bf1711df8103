//! Container environment: env, envFrom, fieldRef/resourceFieldRef, service links, `$(VAR)` expansion.
//!
//! `environment` is pure over fetched objects; this module only fetches what it refers to.

mod environment;
pub mod expansion;
pub(crate) mod fetch;
pub mod field_path;
pub mod resource_field;
pub mod service_links;

use std::collections::BTreeSet;

use k8s_cri::v1 as cri;
use k8s_openapi::api::core::v1::{ConfigMap, Container, Pod, Secret};

pub use environment::{
    expand_command, is_env_var_name, make_environment, EnvError, EnvSources, Environment,
};
pub use field_path::PodAddresses;

use crate::KubeletError;

/// The environment and expanded command/args of one container.
#[derive(Debug, Clone, Default)]
pub struct ContainerCommand {
    pub envs: Vec<cri::KeyValue>,
    /// `command` with `$(VAR)` expanded (empty: the image's entrypoint).
    pub command: Vec<String>,
    /// `args` with `$(VAR)` expanded (empty: the image's cmd, unless command is set).
    pub args: Vec<String>,
    /// envFrom keys skipped for not being valid variable names (upstream reports them in an
    /// `InvalidEnvironmentVariableNames` event).
    pub invalid_env_keys: Vec<String>,
}

/// Resolves the environment of `container` in `pod` (reading ConfigMaps, Secrets, the Node and,
/// when `enableServiceLinks`, the Services of the pod's namespace through `client`), with the
/// pod's addresses taken from its status.
pub async fn container_command(
    client: &kube::Client,
    pod: &Pod,
    container: &Container,
) -> Result<ContainerCommand, KubeletError> {
    container_command_with_addresses(client, pod, container, PodAddresses::from_status(pod)).await
}

/// As `container_command`, with the pod and host IPs the kubelet knows (status.podIP may not be
/// written yet when containers start).
pub async fn container_command_with_addresses(
    client: &kube::Client,
    pod: &Pod,
    container: &Container,
    addresses: PodAddresses,
) -> Result<ContainerCommand, KubeletError> {
    let sources = fetch_sources(client, pod, container, addresses).await?;
    command_from_sources(pod, container, &sources)
}

/// The pure half of `container_command`.
pub fn command_from_sources(
    pod: &Pod,
    container: &Container,
    sources: &EnvSources,
) -> Result<ContainerCommand, KubeletError> {
    let environment =
        make_environment(pod, container, sources).map_err(|e| KubeletError::Failed(e.0))?;
    let (command, args) = expand_command(container, &environment.vars);
    Ok(ContainerCommand {
        envs: environment
            .vars
            .into_iter()
            .map(|(key, value)| cri::KeyValue { key, value })
            .collect(),
        command,
        args,
        invalid_env_keys: environment.invalid_keys,
    })
}

async fn fetch_sources(
    client: &kube::Client,
    pod: &Pod,
    container: &Container,
    addresses: PodAddresses,
) -> Result<EnvSources, KubeletError> {
    let namespace = pod.metadata.namespace.as_deref().unwrap_or("default");
    let mut config_map_names = BTreeSet::new();
    let mut secret_names = BTreeSet::new();
    let mut needs_allocatable = false;
    for from in container.env_from.iter().flatten() {
        if let Some(r) = &from.config_map_ref {
            config_map_names.insert(r.name.clone());
        }
        if let Some(r) = &from.secret_ref {
            secret_names.insert(r.name.clone());
        }
    }
    for env in container.env.iter().flatten() {
        let Some(from) = &env.value_from else {
            continue;
        };
        if let Some(r) = &from.config_map_key_ref {
            config_map_names.insert(r.name.clone());
        }
        if let Some(r) = &from.secret_key_ref {
            secret_names.insert(r.name.clone());
        }
        needs_allocatable |= from.resource_field_ref.is_some();
    }
    let mut sources = EnvSources {
        addresses,
        ..Default::default()
    };
    for name in config_map_names {
        if let Some(cm) = fetch::get_optional::<ConfigMap>(client, namespace, &name).await? {
            sources.config_maps.insert(name, cm);
        }
    }
    for name in secret_names {
        if let Some(secret) = fetch::get_optional::<Secret>(client, namespace, &name).await? {
            sources.secrets.insert(name, secret);
        }
    }
    let enable_links = pod
        .spec
        .as_ref()
        .and_then(|s| s.enable_service_links)
        .unwrap_or(true);
    sources.services = fetch::services_for_links(client, namespace, enable_links).await?;
    if needs_allocatable {
        let node_name = pod
            .spec
            .as_ref()
            .and_then(|s| s.node_name.as_deref())
            .unwrap_or_default();
        sources.node_allocatable = fetch::node_allocatable(client, node_name).await?;
    }
    Ok(sources)
}
