//! Which namespaces a sandbox gets of its own, from the config's namespace options.

use k8s_cri::v1 as cri;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum PidMode {
    /// hostPID.
    Node,
    /// shareProcessNamespace: one PID namespace for the pod, held by the pause process.
    Pod,
    /// Each container its own.
    Container,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct NamespacePlan {
    /// hostNetwork: no network namespace (and the host's UTS namespace), no CNI.
    pub host_network: bool,
    pub host_ipc: bool,
    pub pid: PidMode,
}

impl NamespacePlan {
    pub fn of(config: &cri::PodSandboxConfig) -> Self {
        let options = config
            .linux
            .as_ref()
            .and_then(|linux| linux.security_context.as_ref())
            .and_then(|context| context.namespace_options.clone())
            .unwrap_or_default();
        let node = cri::NamespaceMode::Node as i32;
        Self {
            host_network: options.network == node,
            host_ipc: options.ipc == node,
            pid: match cri::NamespaceMode::try_from(options.pid) {
                Ok(cri::NamespaceMode::Node) => PidMode::Node,
                Ok(cri::NamespaceMode::Pod) => PidMode::Pod,
                _ => PidMode::Container,
            },
        }
    }

    /// The namespace options as PodSandboxStatus reports them.
    pub fn options(&self) -> cri::NamespaceOption {
        let mode = |host: bool| {
            if host {
                cri::NamespaceMode::Node as i32
            } else {
                cri::NamespaceMode::Pod as i32
            }
        };
        cri::NamespaceOption {
            network: mode(self.host_network),
            ipc: mode(self.host_ipc),
            pid: match self.pid {
                PidMode::Node => cri::NamespaceMode::Node as i32,
                PidMode::Pod => cri::NamespaceMode::Pod as i32,
                PidMode::Container => cri::NamespaceMode::Container as i32,
            },
            ..Default::default()
        }
    }

    /// The arguments of `r8s pause` for this plan.
    pub fn pause_args(&self, hostname: &str) -> Vec<String> {
        let mut args = vec!["pause".to_owned()];
        if !self.host_network {
            args.extend(["--net".to_owned(), "--uts".to_owned()]);
            if !hostname.is_empty() {
                args.extend(["--hostname".to_owned(), hostname.to_owned()]);
            }
        }
        if !self.host_ipc {
            args.push("--ipc".to_owned());
        }
        if self.pid == PidMode::Pod {
            args.push("--pid".to_owned());
        }
        args
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(network: cri::NamespaceMode, pid: cri::NamespaceMode) -> cri::PodSandboxConfig {
        cri::PodSandboxConfig {
            linux: Some(cri::LinuxPodSandboxConfig {
                security_context: Some(cri::LinuxSandboxSecurityContext {
                    namespace_options: Some(cri::NamespaceOption {
                        network: network as i32,
                        pid: pid as i32,
                        ipc: cri::NamespaceMode::Pod as i32,
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn a_pod_network_pod_gets_net_uts_ipc_and_its_hostname() {
        let plan = NamespacePlan::of(&config(
            cri::NamespaceMode::Pod,
            cri::NamespaceMode::Container,
        ));
        assert_eq!(plan.pid, PidMode::Container);
        assert_eq!(
            plan.pause_args("web"),
            ["pause", "--net", "--uts", "--hostname", "web", "--ipc"]
        );
    }

    #[test]
    fn a_host_network_pod_keeps_the_host_network_and_uts() {
        let plan = NamespacePlan::of(&config(cri::NamespaceMode::Node, cri::NamespaceMode::Pod));
        assert!(plan.host_network);
        assert_eq!(plan.pause_args("node1"), ["pause", "--ipc", "--pid"]);
        assert_eq!(plan.options().network, cri::NamespaceMode::Node as i32);
    }

    #[test]
    fn no_namespace_options_means_pod_namespaces_as_the_proto_defaults_say() {
        let plan = NamespacePlan::of(&cri::PodSandboxConfig::default());
        assert!(!plan.host_network && !plan.host_ipc);
        assert_eq!(plan.pid, PidMode::Pod);
    }
}
