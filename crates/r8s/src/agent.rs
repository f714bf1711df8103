//! The node agent: r8s's CRI runtime and the kubelet, joined to a server with its token.
//!
//! `r8s agent` and the agent inside `r8s server` both come through here, so the local node joins
//! exactly as a remote one does: over HTTPS, with the join token, through the CSR API.

use std::path::PathBuf;

use anyhow::Context;
use tokio_util::sync::CancellationToken;

use crate::cli::NodeArgs;

pub struct AgentConfig {
    pub server_url: String,
    pub token: String,
    pub data_dir: PathBuf,
    pub node: NodeArgs,
}

/// Runs the runtime (unless another CRI endpoint is given) and the kubelet until `cancel`.
pub async fn run(config: AgentConfig, cancel: CancellationToken) -> anyhow::Result<()> {
    let node_name = node_name(&config.node)?;
    let node_ip = config
        .node
        .node_ip
        .unwrap_or_else(crate::host_addresses::detect_node_ip);
    let agent_dir = config.data_dir.join("agent");
    std::fs::create_dir_all(&agent_dir)
        .with_context(|| format!("creating {}", agent_dir.display()))?;

    let mut tasks = tokio::task::JoinSet::new();
    let runtime_endpoint = match &config.node.container_runtime_endpoint {
        Some(endpoint) => socket_path_of(endpoint),
        None => {
            let self_exe = std::env::current_exe().context("locating the r8s binary")?;
            let mut options = runtime::RuntimeOptions::for_data_dir(&config.data_dir, self_exe);
            options.oci_runtime = config.node.oci_runtime.clone();
            options.insecure_registries = config.node.insecure_registries.clone();
            options.cluster_cidr = Some(config.node.cluster_cidr.clone());
            if config.node.pod_network == crate::cli::PodNetworkBackend::Vxlan {
                match podnetwork::pod_mtu_for_vxlan(node_ip) {
                    Ok(mtu) => options.pod_mtu = Some(mtu),
                    Err(error) => tracing::warn!(%error, "pods keep the default MTU"),
                }
            }
            let socket = runtime::RuntimePaths::new(options.root.clone()).socket();
            let stop = cancel.clone();
            tasks.spawn(async move {
                runtime::serve(options, stop)
                    .await
                    .context("container runtime")
            });
            socket
        }
    };

    let credentials_dir = agent_dir.join("kubelet");
    let kube_config = kubelet::bootstrap::join(
        &config.server_url,
        &config.token,
        &node_name,
        &credentials_dir,
    )
    .await
    .context("joining the cluster")?;
    // The cluster CA verifies the API server's client certificate on the kubelet's port.
    let client_ca_pem = std::fs::read_to_string(credentials_dir.join("ca.crt"))
        .context("reading the cluster CA written by the join")?;
    let client = kube::Client::try_from(kube_config).context("building the kubelet's client")?;

    let mut options = kubelet::KubeletOptions::new(&node_name, &config.data_dir, node_ip);
    options.runtime_endpoint = runtime_endpoint;
    options.client_ca_pem = client_ca_pem;
    options.pod_log_dir = config.node.pod_log_dir.clone();
    options.kubelet_port = config.node.kubelet_port;
    options.cluster_dns = vec![config.node.cluster_dns];
    options.cluster_domain = config.node.cluster_domain.clone();
    options.image_gc_high_threshold_percent = config.node.image_gc_high_threshold;
    options.image_gc_low_threshold_percent = config.node.image_gc_low_threshold;
    options.container_log_max_size =
        api::quantity::Quantity::parse(&config.node.container_log_max_size)
            .ok()
            .and_then(|q| u64::try_from(q.milli_value() / 1000).ok())
            .filter(|size| *size > 0)
            .context("--container-log-max-size is not a positive quantity")?;
    if let Some(parallel) = config.node.parallel_pod_starts {
        anyhow::ensure!(parallel > 0, "--parallel-pod-starts must be at least 1");
        options.parallel_pod_starts = parallel;
    }
    if let Some(thresholds) = &config.node.eviction_hard {
        options.eviction_hard =
            kubelet::eviction::parse_thresholds(thresholds).context("--eviction-hard")?;
    }
    for label in &config.node.node_labels {
        let (key, value) = label
            .split_once('=')
            .with_context(|| format!("--node-label {label:?} is not key=value"))?;
        options.node_labels.insert(key.into(), value.into());
    }
    check_node_labels(&options.node_labels)?;
    crate::networking::spawn(
        crate::networking::NodeNetwork {
            client: client.clone(),
            node_name: &node_name,
            node_ip,
            args: &config.node,
        },
        &mut tasks,
        &cancel,
    )?;
    let stop = cancel.clone();
    tasks.spawn(async move { kubelet::run(client, options, stop).await.context("kubelet") });
    tracing::info!(node = %node_name, %node_ip, "node agent started");

    while let Some(finished) = tasks.join_next().await {
        match finished {
            Ok(Ok(())) if cancel.is_cancelled() => {}
            Ok(Ok(())) => anyhow::bail!("a node agent task stopped unexpectedly"),
            Ok(Err(e)) => {
                cancel.cancel();
                return Err(e);
            }
            Err(e) => {
                cancel.cancel();
                return Err(e).context("node agent task panicked");
            }
        }
    }
    Ok(())
}

/// A CRI endpoint as upstream's `--container-runtime-endpoint` takes it: `unix:///path` or a path.
fn socket_path_of(endpoint: &std::path::Path) -> PathBuf {
    let text = endpoint.to_string_lossy();
    match text.strip_prefix("unix://") {
        Some(path) => PathBuf::from(path),
        None => endpoint.to_path_buf(),
    }
}

/// Refuses `--node-label`s the kubelet may not set on its own Node (NodeRestriction would refuse
/// its registration), as upstream's kubelet refuses to start with them.
fn check_node_labels(labels: &std::collections::BTreeMap<String, String>) -> anyhow::Result<()> {
    let refused = api::kubelet_labels::forbidden(labels.keys().map(String::as_str));
    if refused.is_empty() {
        return Ok(());
    }
    anyhow::bail!(
        "unknown 'kubernetes.io' or 'k8s.io' labels specified with --node-label: [{}]\n\
         --node-label in the 'kubernetes.io' namespace must begin with an allowed prefix \
         (kubelet.kubernetes.io, node.kubernetes.io) or be in the specifically allowed set \
         (kubernetes.io/hostname, kubernetes.io/os, kubernetes.io/arch, topology.kubernetes.io/zone, \
         topology.kubernetes.io/region, node.kubernetes.io/instance-type, ...); \
         node-role labels are set by the server for its own node, or by an administrator",
        refused.join(" ")
    )
}

/// The node name an agent registers as: `--node-name`, else the host name.
pub fn node_name(node: &crate::cli::NodeArgs) -> anyhow::Result<String> {
    match &node.node_name {
        Some(name) => Ok(name.clone()),
        None => host_name(),
    }
}

fn host_name() -> anyhow::Result<String> {
    let name =
        std::fs::read_to_string("/proc/sys/kernel/hostname").context("reading the host name")?;
    Ok(name.trim().to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_labels_a_kubelet_may_not_set_are_refused() {
        let labels = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<std::collections::BTreeMap<_, _>>()
        };
        assert!(
            check_node_labels(&labels(&[("team", "a"), ("node.kubernetes.io/pool", "x")])).is_ok()
        );
        let refused = check_node_labels(&labels(&[("node-role.kubernetes.io/worker", "")]))
            .expect_err("node-role is refused")
            .to_string();
        assert!(
            refused
                .contains("labels specified with --node-label: [node-role.kubernetes.io/worker]"),
            "{refused}"
        );
    }

    #[test]
    fn runtime_endpoints_are_urls_or_paths() {
        let want = PathBuf::from("/run/containerd/containerd.sock");
        assert_eq!(
            socket_path_of(std::path::Path::new(
                "unix:///run/containerd/containerd.sock"
            )),
            want
        );
        assert_eq!(socket_path_of(&want), want);
    }
}
