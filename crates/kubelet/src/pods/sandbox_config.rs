//! The CRI PodSandboxConfig of a pod (pure).

use std::collections::HashMap;
use std::path::PathBuf;

use k8s_cri::v1 as cri;
use k8s_openapi::api::core::v1::Pod;

use super::qos::{cgroup_parent, qos_class};
use crate::KubeletOptions;

pub const POD_NAME_LABEL: &str = "io.kubernetes.pod.name";
pub const POD_NAMESPACE_LABEL: &str = "io.kubernetes.pod.namespace";
pub const POD_UID_LABEL: &str = "io.kubernetes.pod.uid";
pub const CONTAINER_NAME_LABEL: &str = "io.kubernetes.container.name";

/// Name, namespace and uid of a pod, with upstream's `name_namespace(uid)` rendering.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PodKey {
    pub namespace: String,
    pub name: String,
    pub uid: String,
}

impl PodKey {
    pub fn of(pod: &Pod) -> Self {
        Self {
            namespace: pod.metadata.namespace.clone().unwrap_or_default(),
            name: pod.metadata.name.clone().unwrap_or_default(),
            uid: pod.metadata.uid.clone().unwrap_or_default(),
        }
    }
}

impl std::fmt::Display for PodKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}_{}({})", self.name, self.namespace, self.uid)
    }
}

/// `<pod_log_dir>/<ns>_<name>_<uid>`.
pub fn pod_log_directory(options: &KubeletOptions, key: &PodKey) -> PathBuf {
    options
        .pod_log_dir
        .join(format!("{}_{}_{}", key.namespace, key.name, key.uid))
}

/// The pod's hostname: spec.hostname or the pod name, at most 63 characters.
pub fn pod_hostname(pod: &Pod) -> String {
    let name = pod
        .spec
        .as_ref()
        .and_then(|s| s.hostname.clone())
        .filter(|h| !h.is_empty())
        .or_else(|| pod.metadata.name.clone())
        .unwrap_or_default();
    let truncated: String = name.chars().take(63).collect();
    truncated.trim_end_matches(['-', '.']).to_string()
}

pub fn host_network(pod: &Pod) -> bool {
    pod.spec
        .as_ref()
        .and_then(|s| s.host_network)
        .unwrap_or(false)
}

/// resolv.conf per dnsPolicy; `None` means the host's.
pub fn dns_config(pod: &Pod, options: &KubeletOptions) -> Option<cri::DnsConfig> {
    let spec = pod.spec.as_ref()?;
    let namespace = pod.metadata.namespace.clone().unwrap_or_default();
    let policy = spec.dns_policy.as_deref().unwrap_or("ClusterFirst");
    let cluster_first = match policy {
        "ClusterFirstWithHostNet" => true,
        "ClusterFirst" => !host_network(pod),
        _ => false,
    };
    let mut config = if cluster_first && !options.cluster_dns.is_empty() {
        let domain = &options.cluster_domain;
        Some(cri::DnsConfig {
            servers: options
                .cluster_dns
                .iter()
                .map(|ip| ip.to_string())
                .collect(),
            searches: vec![
                format!("{namespace}.svc.{domain}"),
                format!("svc.{domain}"),
                domain.clone(),
            ],
            options: vec!["ndots:5".to_string()],
        })
    } else if policy == "None" {
        Some(cri::DnsConfig::default())
    } else {
        None
    };
    if let Some(extra) = &spec.dns_config {
        let merged = config.get_or_insert_with(cri::DnsConfig::default);
        for server in extra.nameservers.iter().flatten() {
            if !merged.servers.contains(server) {
                merged.servers.push(server.clone());
            }
        }
        for search in extra.searches.iter().flatten() {
            if !merged.searches.contains(search) {
                merged.searches.push(search.clone());
            }
        }
        for option in extra.options.iter().flatten() {
            let Some(name) = option.name.clone() else {
                continue;
            };
            let rendered = match &option.value {
                Some(value) => format!("{name}:{value}"),
                None => name.clone(),
            };
            merged
                .options
                .retain(|o| o.split(':').next() != Some(name.as_str()));
            merged.options.push(rendered);
        }
    }
    config
}

fn port_mappings(pod: &Pod) -> Vec<cri::PortMapping> {
    let Some(spec) = &pod.spec else {
        return Vec::new();
    };
    spec.containers
        .iter()
        .flat_map(|c| c.ports.iter().flatten())
        .filter(|p| p.host_port.unwrap_or(0) > 0 || host_network(pod))
        .map(|p| cri::PortMapping {
            protocol: match p.protocol.as_deref() {
                Some("UDP") => cri::Protocol::Udp as i32,
                Some("SCTP") => cri::Protocol::Sctp as i32,
                _ => cri::Protocol::Tcp as i32,
            },
            container_port: p.container_port,
            host_port: p.host_port.unwrap_or(0),
            host_ip: p.host_ip.clone().unwrap_or_default(),
        })
        .collect()
}

pub fn pod_labels(pod: &Pod) -> HashMap<String, String> {
    let key = PodKey::of(pod);
    let mut labels: HashMap<String, String> = pod
        .metadata
        .labels
        .clone()
        .unwrap_or_default()
        .into_iter()
        .collect();
    labels.insert(POD_NAME_LABEL.into(), key.name);
    labels.insert(POD_NAMESPACE_LABEL.into(), key.namespace);
    labels.insert(POD_UID_LABEL.into(), key.uid);
    labels
}

fn namespace_mode(host: bool) -> i32 {
    if host {
        cri::NamespaceMode::Node as i32
    } else {
        cri::NamespaceMode::Pod as i32
    }
}

pub fn namespace_options(pod: &Pod) -> cri::NamespaceOption {
    let spec = pod.spec.clone().unwrap_or_default();
    cri::NamespaceOption {
        network: namespace_mode(spec.host_network.unwrap_or(false)),
        pid: if spec.host_pid.unwrap_or(false) {
            cri::NamespaceMode::Node as i32
        } else if spec.share_process_namespace.unwrap_or(false) {
            cri::NamespaceMode::Pod as i32
        } else {
            cri::NamespaceMode::Container as i32
        },
        ipc: namespace_mode(spec.host_ipc.unwrap_or(false)),
        ..cri::NamespaceOption::default()
    }
}

pub fn sandbox_config(pod: &Pod, options: &KubeletOptions, attempt: u32) -> cri::PodSandboxConfig {
    let key = PodKey::of(pod);
    let spec = pod.spec.clone().unwrap_or_default();
    let security = spec.security_context.clone().unwrap_or_default();
    let sysctls = security
        .sysctls
        .iter()
        .flatten()
        .map(|s| (s.name.clone(), s.value.clone()))
        .collect();
    cri::PodSandboxConfig {
        metadata: Some(cri::PodSandboxMetadata {
            name: key.name.clone(),
            uid: key.uid.clone(),
            namespace: key.namespace.clone(),
            attempt,
        }),
        hostname: pod_hostname(pod),
        log_directory: pod_log_directory(options, &key)
            .to_string_lossy()
            .into_owned(),
        dns_config: dns_config(pod, options),
        port_mappings: port_mappings(pod),
        labels: pod_labels(pod),
        annotations: pod
            .metadata
            .annotations
            .clone()
            .unwrap_or_default()
            .into_iter()
            .collect(),
        linux: Some(cri::LinuxPodSandboxConfig {
            cgroup_parent: cgroup_parent(&options.cgroup_root, qos_class(pod), &key.uid),
            security_context: Some(cri::LinuxSandboxSecurityContext {
                namespace_options: Some(namespace_options(pod)),
                run_as_user: security.run_as_user.map(|value| cri::Int64Value { value }),
                run_as_group: security.run_as_group.map(|value| cri::Int64Value { value }),
                supplemental_groups: security
                    .supplemental_groups
                    .clone()
                    .unwrap_or_default()
                    .into_iter()
                    .chain(security.fs_group)
                    .collect(),
                ..cri::LinuxSandboxSecurityContext::default()
            }),
            sysctls,
            ..cri::LinuxPodSandboxConfig::default()
        }),
        windows: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn options() -> KubeletOptions {
        KubeletOptions::new(
            "n1",
            std::path::Path::new("/data"),
            std::net::IpAddr::from([10, 0, 0, 5]),
        )
    }

    fn pod(spec: serde_json::Value) -> Pod {
        serde_json::from_value(json!({
            "metadata": {"name": "web", "namespace": "ns1", "uid": "u-1", "labels": {"app": "web"}},
            "spec": spec,
        }))
        .unwrap()
    }

    #[test]
    fn cluster_first_dns() {
        let config = sandbox_config(
            &pod(
                json!({"containers": [{"name": "c", "ports": [{"containerPort": 80, "hostPort": 8080}]}]}),
            ),
            &options(),
            0,
        );
        let dns = config.dns_config.unwrap();
        assert_eq!(dns.servers, vec!["10.43.0.10"]);
        assert_eq!(
            dns.searches,
            vec![
                "ns1.svc.cluster.local",
                "svc.cluster.local",
                "cluster.local"
            ]
        );
        assert_eq!(dns.options, vec!["ndots:5"]);
        assert_eq!(config.hostname, "web");
        assert_eq!(config.log_directory, "/var/log/pods/ns1_web_u-1");
        assert_eq!(config.labels[POD_UID_LABEL], "u-1");
        assert_eq!(config.labels["app"], "web");
        assert_eq!(config.port_mappings[0].host_port, 8080);
        assert_eq!(
            config.linux.unwrap().cgroup_parent,
            "/kubepods/besteffort/podu-1"
        );
    }

    #[test]
    fn default_and_none_dns_policies() {
        let default = pod(json!({"dnsPolicy": "Default", "containers": []}));
        assert_eq!(dns_config(&default, &options()), None);
        let none = pod(json!({"dnsPolicy": "None", "containers": [],
            "dnsConfig": {"nameservers": ["1.1.1.1"], "options": [{"name": "ndots", "value": "2"}]}}));
        let dns = dns_config(&none, &options()).unwrap();
        assert_eq!(dns.servers, vec!["1.1.1.1"]);
        assert!(dns.searches.is_empty());
        assert_eq!(dns.options, vec!["ndots:2"]);
        let host = pod(json!({"hostNetwork": true, "containers": []}));
        assert_eq!(dns_config(&host, &options()), None);
        let ns = namespace_options(&host);
        assert_eq!(ns.network, cri::NamespaceMode::Node as i32);
    }
}
