//! Command-line flags.

use std::net::IpAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "r8s",
    version,
    about = "Kubernetes, rebuilt in Rust as one binary"
)]
pub struct Cli {
    /// Log verbosity, as upstream's -v: 0 warnings and errors, 1-2 info, 3-5 debug, 6+ trace.
    #[arg(short = 'v', long = "v", global = true, default_value_t = 1)]
    pub verbosity: u8,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the control plane (API server with its storage).
    Server(ServerArgs),
    /// Simulated nodes (kwok-like) for any cluster: register Nodes and drive the pods bound to them.
    Sim(SimCommandArgs),
    /// Run a node agent (kubelet + container runtime) that joins a server with its token.
    Agent(AgentArgs),
    /// Manage the node's images.
    #[command(subcommand)]
    Image(ImageCommand),
    /// Benchmarks that work against any cluster's kubeconfig.
    #[command(subcommand)]
    Bench(BenchCommand),
}

/// Flags of the node agent, shared by `r8s agent` and the agent inside `r8s server`.
#[derive(Debug, Clone, Args)]
pub struct NodeArgs {
    /// The node's name (default: the host name).
    #[arg(long)]
    pub node_name: Option<String>,
    /// The node's InternalIP (default: the address of the interface with the default route).
    #[arg(long)]
    pub node_ip: Option<IpAddr>,
    /// Extra node labels, `key=value`, repeatable.
    #[arg(long = "node-label")]
    pub node_labels: Vec<String>,
    /// A CRI socket to use instead of r8s's own runtime (e.g. containerd's).
    #[arg(long)]
    pub container_runtime_endpoint: Option<PathBuf>,
    /// The OCI runtime binary r8s's runtime runs containers with.
    #[arg(long, default_value = "runc")]
    pub oci_runtime: PathBuf,
    /// Registries reached over plain HTTP (`host:port`), repeatable.
    #[arg(long = "insecure-registry")]
    pub insecure_registries: Vec<String>,
    /// Where container logs are written.
    #[arg(long, default_value = "/var/log/pods")]
    pub pod_log_dir: PathBuf,
    #[arg(long, default_value_t = 10250)]
    pub kubelet_port: u16,
    /// Cluster DNS server written into pods' resolv.conf.
    #[arg(long, default_value = "10.43.0.10")]
    pub cluster_dns: IpAddr,
    #[arg(long, default_value = "cluster.local")]
    pub cluster_domain: String,
    /// Hard eviction thresholds, e.g. `memory.available<100Mi,nodefs.available<10%`.
    #[arg(long, hide = true)]
    pub eviction_hard: Option<String>,
    /// Image-fs usage (percent) above which unused images are removed; 100 turns image GC off.
    #[arg(long, default_value_t = 85)]
    pub image_gc_high_threshold: u8,
    /// Image-fs usage (percent) image GC frees down to.
    #[arg(long, default_value_t = 80)]
    pub image_gc_low_threshold: u8,
    /// Container log files are rotated past this size (a quantity: `10Mi`, `100Ki`).
    #[arg(long, hide = true, default_value = "10Mi")]
    pub container_log_max_size: String,
    /// How many pods create their sandboxes and containers at once; the others wait their turn
    /// in arrival order (default: the CPUs, at least 2).
    #[arg(long)]
    pub parallel_pod_starts: Option<usize>,
    /// Pod network; each node gets a /24 of it.
    #[arg(long, default_value = "10.42.0.0/16")]
    pub cluster_cidr: String,
    /// Service virtual IPs are allocated from (and routed only on the node within) this network.
    #[arg(long, default_value = "10.43.0.0/16")]
    pub service_cidr: String,
    /// How pod CIDRs of other nodes are reached: `vxlan` (any network), `host-gw` (nodes on one
    /// link), `none` (single node, or another network plugin).
    #[arg(long, value_enum, default_value_t = PodNetworkBackend::Vxlan)]
    pub pod_network: PodNetworkBackend,
    /// Built-in components not to run, repeatable.
    #[arg(long = "disable", value_enum)]
    pub disable: Vec<Component>,
    /// The ingress controller's HTTP port on the node's addresses.
    #[arg(long, default_value_t = 80)]
    pub ingress_http_port: u16,
    /// The ingress controller's HTTPS port on the node's addresses.
    #[arg(long, default_value_t = 443)]
    pub ingress_https_port: u16,
}

impl NodeArgs {
    pub fn runs(&self, component: Component) -> bool {
        !self.disable.contains(&component)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PodNetworkBackend {
    Vxlan,
    HostGw,
    None,
}

/// Built-in components that `--disable` turns off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Component {
    /// The nftables service proxy (kube-proxy).
    ServiceProxy,
    /// Cluster DNS.
    Dns,
    /// The ingress controller.
    Ingress,
    /// NetworkPolicy enforcement.
    NetworkPolicy,
    /// The LoadBalancer Service controller (servers only).
    Servicelb,
}

#[derive(Debug, Args)]
pub struct AgentArgs {
    /// The server's URL, e.g. https://10.0.0.1:6443.
    #[arg(long)]
    pub server: String,
    /// The join token (`<data-dir>/token` on the server).
    #[arg(long, env = "R8S_TOKEN")]
    pub token: String,
    /// Where the agent keeps its certificates, images, containers and pod volumes.
    #[arg(long, default_value = "/var/lib/r8s")]
    pub data_dir: PathBuf,
    #[command(flatten)]
    pub node: NodeArgs,
}

#[derive(Debug, Subcommand)]
pub enum ImageCommand {
    /// Import an OCI or docker archive into the node's image store.
    Import {
        /// The archive (`docker save` or OCI image layout tarball).
        file: PathBuf,
        #[arg(long, default_value = "/var/lib/r8s")]
        data_dir: PathBuf,
    },
    /// Write an OCI archive of a busybox image made from a static busybox binary (offline test image).
    BuildBusybox {
        /// The output archive.
        out: PathBuf,
        #[arg(long, default_value = "/bin/busybox")]
        busybox: PathBuf,
        #[arg(long, default_value = "docker.io/library/busybox:latest")]
        reference: String,
        /// The image's default command (repeat for each argument), e.g. `--cmd sleep --cmd infinity`.
        #[arg(long = "cmd", default_values_t = ["sh".to_string()])]
        cmd: Vec<String>,
    },
}

#[derive(Debug, Args)]
pub struct ServerArgs {
    /// Where certificates, the embedded store and the kubeconfig live.
    #[arg(long, default_value = "/var/lib/r8s")]
    pub data_dir: PathBuf,
    /// Address the API server listens on.
    #[arg(long, default_value = "0.0.0.0")]
    pub bind_address: IpAddr,
    #[arg(long, default_value_t = 6443)]
    pub https_listen_port: u16,
    /// The address pods reach the API server by (the `kubernetes` Service's endpoint).
    #[arg(long)]
    pub advertise_address: Option<IpAddr>,
    /// Empty for the embedded store; `http://host:2379[,...]` for etcd.
    #[arg(long, default_value = "")]
    pub datastore_endpoint: String,
    #[arg(long, default_value = "30000-32767")]
    pub service_node_port_range: String,
    /// Run the control plane only, without the local node agent.
    #[arg(long)]
    pub disable_agent: bool,
    /// Do not run the scheduler in this server.
    #[arg(long)]
    pub disable_scheduler: bool,
    /// Do not run the controller manager in this server.
    #[arg(long)]
    pub disable_controller_manager: bool,
    /// How long a node may stay silent before it is marked NotReady (Unknown).
    #[arg(long, default_value = "40s")]
    pub node_monitor_grace_period: String,
    /// Also write the admin kubeconfig here.
    #[arg(long)]
    pub write_kubeconfig: Option<PathBuf>,
    /// Static bearer tokens: `token,user,uid,"group1,group2"` per line.
    #[arg(long)]
    pub token_file: Option<PathBuf>,
    /// How long Events are kept, e.g. 1h, 30m, 90s.
    #[arg(long, default_value = "1h")]
    pub event_ttl: String,
    #[arg(long, default_value_t = 400)]
    pub max_requests_inflight: usize,
    #[arg(long, default_value_t = 200)]
    pub max_mutating_requests_inflight: usize,
    /// Objects one deletecollection request deletes concurrently (upstream's flag; its default
    /// is 1, ours 16: a deletion's cost is mostly waiting for its storage commit, and deletions in
    /// flight together share one).
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..))]
    pub delete_collection_workers: u16,
    #[command(flatten)]
    pub node: NodeArgs,
}

#[derive(Debug, Args)]
pub struct SimCommandArgs {
    #[arg(long, env = "KUBECONFIG")]
    pub kubeconfig: PathBuf,
    #[command(flatten)]
    pub sim: sim::SimArgs,
}

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// API latency and throughput: create, get, update, list, watch delivery.
    Api(crate::bench::api::ApiBenchArgs),
    /// Scheduling throughput and latency: fake nodes, many pods, time until bound.
    Scheduler(crate::bench::scheduler::SchedulerBenchArgs),
    /// A Deployment's life: create until available, rolling update, delete until no pods.
    Workloads(crate::bench::workloads::WorkloadsBenchArgs),
    /// A loaded cluster: many nodes and pods, then list/get/patch latency and server memory.
    Scale(crate::bench::scale::ScaleBenchArgs),
    /// Real pods on one node: create → Running latency, pods/s, agent and shim memory.
    Pods(crate::bench::pods::PodsBenchArgs),
    /// Service proxy rules: endpoint change → nftables rule live, full-resync time.
    Services(crate::bench::services::ServicesBenchArgs),
}
