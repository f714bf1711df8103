//! The CRI ContainerConfig of one container (pure, given its resolved command and mounts).

use std::collections::HashMap;

use k8s_cri::v1 as cri;
use k8s_openapi::api::core::v1::{Container, Pod};

use super::container_hash::container_hash;
use super::qos::{container_resources, qos_class};
use super::runtime_state::{
    HASH_ANNOTATION, RESTART_COUNT_ANNOTATION, TERMINATION_MESSAGE_PATH_ANNOTATION,
};
use super::sandbox_config::{pod_labels, PodKey, CONTAINER_NAME_LABEL};
use crate::env::ContainerCommand;

/// What the image says about its user (CRI ImageStatus).
#[derive(Debug, Clone, Default)]
pub struct ImageUser {
    pub uid: Option<i64>,
    pub username: String,
}

pub fn termination_message_path(container: &Container) -> String {
    container
        .termination_message_path
        .clone()
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "/dev/termination-log".to_string())
}

/// Upstream's verifyRunAsNonRoot; `Err` is the CreateContainerConfigError message.
pub fn verify_run_as_non_root(
    pod: &Pod,
    container: &Container,
    image: &ImageUser,
) -> Result<(), String> {
    let pod_sc = pod
        .spec
        .as_ref()
        .and_then(|s| s.security_context.clone())
        .unwrap_or_default();
    let sc = container.security_context.clone().unwrap_or_default();
    let non_root = sc
        .run_as_non_root
        .or(pod_sc.run_as_non_root)
        .unwrap_or(false);
    if !non_root {
        return Ok(());
    }
    let key = PodKey::of(pod);
    if let Some(user) = sc.run_as_user.or(pod_sc.run_as_user) {
        if user == 0 {
            return Err(format!(
                "container's runAsUser breaks non-root policy (pod: \"{key}\", container: {})",
                container.name
            ));
        }
        return Ok(());
    }
    match image.uid {
        Some(0) => Err(format!(
            "container has runAsNonRoot and image will run as root (pod: \"{key}\", container: {})",
            container.name
        )),
        Some(_) => Ok(()),
        None if image.username.is_empty() || image.username == "root" => Err(format!(
            "container has runAsNonRoot and image will run as root (pod: \"{key}\", container: {})",
            container.name
        )),
        None => Err(format!(
            "container has runAsNonRoot and image has non-numeric user ({}), cannot verify user is non-root (pod: \"{key}\", container: {})",
            image.username, container.name
        )),
    }
}

fn security_context(pod: &Pod, container: &Container) -> cri::LinuxContainerSecurityContext {
    let pod_sc = pod
        .spec
        .as_ref()
        .and_then(|s| s.security_context.clone())
        .unwrap_or_default();
    let sc = container.security_context.clone().unwrap_or_default();
    let privileged = sc.privileged.unwrap_or(false);
    let capabilities = sc.capabilities.clone().map(|c| cri::Capability {
        add_capabilities: c.add.unwrap_or_default(),
        drop_capabilities: c.drop.unwrap_or_default(),
        add_ambient_capabilities: Vec::new(),
    });
    cri::LinuxContainerSecurityContext {
        capabilities,
        privileged,
        namespace_options: Some(super::sandbox_config::namespace_options(pod)),
        run_as_user: sc
            .run_as_user
            .or(pod_sc.run_as_user)
            .map(|value| cri::Int64Value { value }),
        run_as_group: sc
            .run_as_group
            .or(pod_sc.run_as_group)
            .map(|value| cri::Int64Value { value }),
        readonly_rootfs: sc.read_only_root_filesystem.unwrap_or(false),
        supplemental_groups: pod_sc
            .supplemental_groups
            .clone()
            .unwrap_or_default()
            .into_iter()
            .chain(pod_sc.fs_group)
            .collect(),
        no_new_privs: !sc.allow_privilege_escalation.unwrap_or(true) && !privileged,
        masked_paths: if privileged {
            Vec::new()
        } else {
            default_masked_paths()
        },
        readonly_paths: if privileged {
            Vec::new()
        } else {
            default_readonly_paths()
        },
        ..cri::LinuxContainerSecurityContext::default()
    }
}

fn default_masked_paths() -> Vec<String> {
    [
        "/proc/asound",
        "/proc/acpi",
        "/proc/kcore",
        "/proc/keys",
        "/proc/latency_stats",
        "/proc/timer_list",
        "/proc/timer_stats",
        "/proc/sched_debug",
        "/proc/scsi",
        "/sys/firmware",
        "/sys/devices/virtual/powercap",
    ]
    .map(String::from)
    .to_vec()
}

fn default_readonly_paths() -> Vec<String> {
    [
        "/proc/bus",
        "/proc/fs",
        "/proc/irq",
        "/proc/sys",
        "/proc/sysrq-trigger",
    ]
    .map(String::from)
    .to_vec()
}

pub struct ContainerConfigInputs<'a> {
    pub pod: &'a Pod,
    pub container: &'a Container,
    pub restart_count: i32,
    pub command: ContainerCommand,
    pub mounts: Vec<cri::Mount>,
    pub memory_capacity: i64,
}

pub fn container_config(inputs: ContainerConfigInputs<'_>) -> cri::ContainerConfig {
    let ContainerConfigInputs {
        pod,
        container,
        restart_count,
        command,
        mounts,
        memory_capacity,
    } = inputs;
    let mut labels: HashMap<String, String> = pod_labels(pod)
        .into_iter()
        .filter(|(k, _)| k.starts_with("io.kubernetes.pod."))
        .collect();
    labels.insert(CONTAINER_NAME_LABEL.into(), container.name.clone());
    let annotations = HashMap::from([
        (
            RESTART_COUNT_ANNOTATION.to_string(),
            restart_count.to_string(),
        ),
        (HASH_ANNOTATION.to_string(), container_hash(container)),
        (
            TERMINATION_MESSAGE_PATH_ANNOTATION.to_string(),
            termination_message_path(container),
        ),
        (
            "io.kubernetes.container.terminationMessagePolicy".to_string(),
            container
                .termination_message_policy
                .clone()
                .unwrap_or_else(|| "File".into()),
        ),
    ]);
    let image = container.image.clone().unwrap_or_default();
    cri::ContainerConfig {
        metadata: Some(cri::ContainerMetadata {
            name: container.name.clone(),
            attempt: u32::try_from(restart_count).unwrap_or(0),
        }),
        image: Some(cri::ImageSpec {
            image: image.clone(),
            user_specified_image: image,
            ..cri::ImageSpec::default()
        }),
        command: command.command,
        args: command.args,
        working_dir: container.working_dir.clone().unwrap_or_default(),
        envs: command.envs,
        mounts,
        labels,
        annotations,
        log_path: format!("{}/{restart_count}.log", container.name),
        stdin: container.stdin.unwrap_or(false),
        stdin_once: container.stdin_once.unwrap_or(false),
        tty: container.tty.unwrap_or(false),
        linux: Some(cri::LinuxContainerConfig {
            resources: Some(container_resources(
                container,
                qos_class(pod),
                memory_capacity,
            )),
            security_context: Some(security_context(pod, container)),
        }),
        ..cri::ContainerConfig::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod() -> Pod {
        serde_json::from_value(json!({
            "metadata": {"name": "p", "namespace": "ns", "uid": "u"},
            "spec": {"securityContext": {"runAsNonRoot": true, "fsGroup": 2000}, "containers": [{"name": "c", "image": "busybox"}]},
        }))
        .unwrap()
    }

    #[test]
    fn non_root_check() {
        let pod = pod();
        let c = pod.spec.as_ref().unwrap().containers[0].clone();
        assert_eq!(
            verify_run_as_non_root(&pod, &c, &ImageUser { uid: Some(0), username: String::new() }),
            Err("container has runAsNonRoot and image will run as root (pod: \"p_ns(u)\", container: c)".into())
        );
        assert_eq!(
            verify_run_as_non_root(
                &pod,
                &c,
                &ImageUser {
                    uid: Some(1000),
                    username: String::new()
                }
            ),
            Ok(())
        );
    }

    #[test]
    fn config_carries_labels_annotations_and_log_path() {
        let pod = pod();
        let c = pod.spec.as_ref().unwrap().containers[0].clone();
        let config = container_config(ContainerConfigInputs {
            pod: &pod,
            container: &c,
            restart_count: 3,
            command: ContainerCommand::default(),
            mounts: Vec::new(),
            memory_capacity: 1 << 30,
        });
        assert_eq!(config.log_path, "c/3.log");
        assert_eq!(config.labels[CONTAINER_NAME_LABEL], "c");
        assert_eq!(config.labels["io.kubernetes.pod.uid"], "u");
        assert_eq!(config.annotations[RESTART_COUNT_ANNOTATION], "3");
        assert_eq!(config.metadata.unwrap().attempt, 3);
        let sc = config.linux.unwrap().security_context.unwrap();
        assert_eq!(sc.supplemental_groups, vec![2000]);
    }
}
