//! How a kubelet is set up.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct KubeletOptions {
    pub node_name: String,
    /// The CRI socket (`<data-dir>/agent/run/r8s.sock`, or containerd's).
    pub runtime_endpoint: PathBuf,
    /// Kubelet state: pod volumes under `<root>/pods/<uid>/volumes`, static pod manifests, certificates.
    pub root_dir: PathBuf,
    /// Where container logs go: `<pod_log_dir>/<ns>_<pod>_<uid>/<container>/<n>.log` (`/var/log/pods`).
    pub pod_log_dir: PathBuf,
    /// Static pods are read from here (`<data-dir>/agent/pod-manifests`).
    pub static_pod_dir: PathBuf,
    /// The node's address (InternalIP); also where the kubelet server listens.
    pub node_ip: IpAddr,
    /// Port of the kubelet's HTTPS server (10250).
    pub kubelet_port: u16,
    /// Extra node labels (`--node-label`): only those a kubelet may set (see `api::kubelet_labels`).
    pub node_labels: BTreeMap<String, String>,
    /// Cluster DNS server addresses written into pods' resolv.conf (ClusterFirst).
    pub cluster_dns: Vec<IpAddr>,
    pub cluster_domain: String,
    /// How often the node Lease is renewed (10 s).
    pub lease_interval: Duration,
    /// How often node status is reported when nothing changed (upstream: 5 min, with 10 s checks).
    pub status_interval: Duration,
    pub max_pods: u32,
    /// The parent cgroup of every pod (`kubepods`).
    pub cgroup_root: String,
    /// Clients of the kubelet's server must present certificates of this CA (PEM); empty: none accepted.
    pub client_ca_pem: String,
    /// Hard eviction thresholds (`memory.available<100Mi,nodefs.available<10%,imagefs.available<15%`).
    pub eviction_hard: Vec<crate::eviction::Threshold>,
    /// How often eviction signals are checked (10 s).
    pub eviction_interval: Duration,
    /// Image GC starts above this share of the image filesystem (85) ...
    pub image_gc_high_threshold_percent: u8,
    /// ... and frees down to this one (80).
    pub image_gc_low_threshold_percent: u8,
    /// How often image GC checks the image filesystem (5 min).
    pub image_gc_interval: Duration,
    /// A container's log file is rotated once it grows past this many bytes (10Mi).
    pub container_log_max_size: u64,
    /// How many log files (the current one included) a container keeps (5).
    pub container_log_max_files: usize,
    /// How often container log sizes are checked (10 s).
    pub container_log_monitor_interval: Duration,
    /// How many pods create their sandboxes and containers at once (the CPUs, at least 2); the
    /// others wait their turn in arrival order (see `pods::start_gate`).
    pub parallel_pod_starts: usize,
}

impl KubeletOptions {
    /// Upstream's defaults for a node named `node_name` under `data_dir`.
    pub fn new(node_name: &str, data_dir: &std::path::Path, node_ip: IpAddr) -> Self {
        let agent = data_dir.join("agent");
        Self {
            node_name: node_name.to_string(),
            runtime_endpoint: agent.join("run").join("r8s.sock"),
            root_dir: agent.join("kubelet"),
            pod_log_dir: PathBuf::from("/var/log/pods"),
            static_pod_dir: agent.join("pod-manifests"),
            node_ip,
            kubelet_port: 10250,
            node_labels: BTreeMap::new(),
            cluster_dns: vec![IpAddr::from([10, 43, 0, 10])],
            cluster_domain: "cluster.local".to_string(),
            lease_interval: Duration::from_secs(10),
            status_interval: Duration::from_secs(10),
            max_pods: 110,
            cgroup_root: "kubepods".to_string(),
            client_ca_pem: String::new(),
            eviction_hard: crate::eviction::default_hard_thresholds(),
            eviction_interval: Duration::from_secs(10),
            image_gc_high_threshold_percent: 85,
            image_gc_low_threshold_percent: 80,
            image_gc_interval: Duration::from_secs(300),
            container_log_max_size: 10 << 20,
            container_log_max_files: 5,
            container_log_monitor_interval: Duration::from_secs(10),
            parallel_pod_starts: crate::pods::start_gate::default_parallel_starts(),
        }
    }
}
