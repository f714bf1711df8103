//! Creating and starting one container in a running sandbox.

use std::path::PathBuf;

use k8s_cri::v1 as cri;
use k8s_openapi::api::core::v1::{Container, Pod};

use super::actions::{StartContainer, Waiting};
use super::backoff::BackOff;
use super::container_config::{
    container_config, termination_message_path, verify_run_as_non_root, ContainerConfigInputs,
};
use super::context::PodContext;
use super::cri_calls::stop_container;
use super::image_pull::ensure_image;
use super::sandbox_config::host_network;
use super::start_gate::StartSlot;
use crate::volumes::PodVolumes;

pub struct StartTarget<'a> {
    pub pod: &'a Pod,
    pub sandbox_id: &'a str,
    pub sandbox_config: &'a cri::PodSandboxConfig,
    pub pod_ip: Option<&'a str>,
    pub volumes: &'a PodVolumes,
}

pub fn pod_dir(ctx: &PodContext, uid: &str) -> PathBuf {
    ctx.options.root_dir.join("pods").join(uid)
}

fn find_container<'a>(pod: &'a Pod, start: &StartContainer) -> Option<&'a Container> {
    let spec = pod.spec.as_ref()?;
    if start.init {
        spec.init_containers
            .iter()
            .flatten()
            .find(|c| c.name == start.name)
    } else {
        spec.containers.iter().find(|c| c.name == start.name)
    }
}

fn config_error(ctx: &PodContext, pod: &Pod, start: &StartContainer, message: String) -> Waiting {
    ctx.events.record(
        pod,
        Some((&start.name, start.init)),
        true,
        "Failed",
        format!("Error: {message}"),
    );
    Waiting {
        reason: "CreateContainerConfigError".into(),
        message,
    }
}

async fn extra_mounts(
    ctx: &PodContext,
    target: &StartTarget<'_>,
    container: &Container,
) -> std::io::Result<Vec<cri::Mount>> {
    let uid = target.pod.metadata.uid.clone().unwrap_or_default();
    let dir = pod_dir(ctx, &uid);
    let mut mounts = Vec::new();
    let user_mounts_hosts = container
        .volume_mounts
        .iter()
        .flatten()
        .any(|m| m.mount_path == "/etc/hosts");
    if !host_network(target.pod) && !user_mounts_hosts {
        tokio::fs::create_dir_all(&dir).await?;
        let hosts = dir.join("etc-hosts");
        let content = super::hosts_file::hosts_file_content(
            target.pod,
            target.pod_ip,
            &ctx.options.cluster_domain,
        );
        tokio::fs::write(&hosts, content).await?;
        mounts.push(cri::Mount {
            container_path: "/etc/hosts".into(),
            host_path: hosts.to_string_lossy().into_owned(),
            ..cri::Mount::default()
        });
    }
    let container_dir = dir.join("containers").join(&container.name);
    tokio::fs::create_dir_all(&container_dir).await?;
    let suffix: u32 = rand::random();
    let log = container_dir.join(format!("{suffix:08x}"));
    tokio::fs::write(&log, b"").await?;
    mounts.push(cri::Mount {
        container_path: termination_message_path(container),
        host_path: log.to_string_lossy().into_owned(),
        ..cri::Mount::default()
    });
    Ok(mounts)
}

/// The pod's addresses for fieldRefs: status.podIP is not written yet when the first containers
/// start, so the sandbox's IP and the node's IP fill in.
fn addresses(ctx: &PodContext, target: &StartTarget<'_>) -> crate::env::PodAddresses {
    let mut addresses = crate::env::PodAddresses::from_status(target.pod);
    if addresses.pod_ips.is_empty() {
        addresses.pod_ips.extend(target.pod_ip.map(str::to_string));
    }
    if addresses.host_ips.is_empty() {
        addresses.host_ips.push(ctx.options.node_ip.to_string());
    }
    addresses
}

/// Pulls, creates, starts and runs postStart; `Err` is the waiting state to report.
pub async fn start_container(
    ctx: &PodContext,
    target: &StartTarget<'_>,
    start: &StartContainer,
    pull_backoff: &mut BackOff,
    turn: &mut StartSlot,
) -> Result<String, Waiting> {
    let pod = target.pod;
    let Some(container) = find_container(pod, start) else {
        return Err(Waiting {
            reason: "CreateContainerConfigError".into(),
            message: format!("no container {}", start.name),
        });
    };
    let event_target = Some((container.name.as_str(), start.init));
    let image_user = ensure_image(ctx, pod, container, start.init, pull_backoff, turn).await?;
    verify_run_as_non_root(pod, container, &image_user)
        .map_err(|m| config_error(ctx, pod, start, m))?;
    let command = crate::env::container_command_with_addresses(
        &ctx.client,
        pod,
        container,
        addresses(ctx, target),
    )
    .await
    .map_err(|e| config_error(ctx, pod, start, e.to_string()))?;
    let env: Vec<(String, String)> = command
        .envs
        .iter()
        .map(|kv| (kv.key.clone(), kv.value.clone()))
        .collect();
    let mut mounts = target
        .volumes
        .mounts_for_with_env(container, &env)
        .map_err(|e| config_error(ctx, pod, start, e.to_string()))?;
    mounts.extend(
        extra_mounts(ctx, target, container)
            .await
            .map_err(|e| config_error(ctx, pod, start, e.to_string()))?,
    );
    let config = container_config(ContainerConfigInputs {
        pod,
        container,
        restart_count: start.restart_count,
        command,
        mounts,
        memory_capacity: ctx.memory_capacity,
    });
    let mut runtime = ctx.cri.runtime.clone();
    let created = runtime
        .create_container(cri::CreateContainerRequest {
            pod_sandbox_id: target.sandbox_id.to_string(),
            config: Some(config),
            sandbox_config: Some(target.sandbox_config.clone()),
        })
        .await;
    let id = match created {
        Ok(response) => response.into_inner().container_id,
        Err(status) => {
            let message = status.message().to_string();
            ctx.events.record(
                pod,
                event_target,
                true,
                "Failed",
                format!("Error: {message}"),
            );
            return Err(Waiting {
                reason: "CreateContainerError".into(),
                message,
            });
        }
    };
    ctx.events.record(
        pod,
        event_target,
        false,
        "Created",
        format!("Created container: {}", container.name),
    );
    if let Err(status) = runtime
        .start_container(cri::StartContainerRequest {
            container_id: id.clone(),
        })
        .await
    {
        let message = status.message().to_string();
        ctx.events.record(
            pod,
            event_target,
            true,
            "Failed",
            format!("Error: {message}"),
        );
        return Err(Waiting {
            reason: "RunContainerError".into(),
            message,
        });
    }
    ctx.events.record(
        pod,
        event_target,
        false,
        "Started",
        format!("Started container {}", container.name),
    );
    if let Some(handler) = container
        .lifecycle
        .as_ref()
        .and_then(|l| l.post_start.as_ref())
    {
        // A hook may take its time: other pods start meanwhile.
        turn.release();
        let hook = crate::lifecycle::HookTarget {
            pod: Some(pod),
            container: Some(container),
            container_id: &id,
            pod_ip: target.pod_ip,
            timeout: None,
        };
        if let Err(message) = crate::lifecycle::run_hook(&ctx.cri, handler, &hook).await {
            ctx.events.record(
                pod,
                event_target,
                true,
                "FailedPostStartHook",
                message.clone(),
            );
            ctx.events.record(
                pod,
                event_target,
                false,
                "Killing",
                "FailedPostStartHook".to_string(),
            );
            let _ = stop_container(&ctx.cri, &id, 0).await;
            return Err(Waiting {
                reason: "PostStartHookError".into(),
                message,
            });
        }
    }
    Ok(id)
}
