use std::time::Duration;

/// Settings of the controller manager (kube-controller-manager's flags that matter here).
#[derive(Debug, Clone)]
pub struct ControllerOptions {
    /// This manager's identity in the leader Lease.
    pub identity: String,
    /// The cluster CA certificate (PEM) published as `kube-root-ca.crt` in every namespace.
    pub root_ca_pem: String,
    pub cluster_cidr: String,
    pub node_monitor_grace_period: Duration,
    /// How often a controller re-reconciles every object even without changes.
    pub resync_period: Duration,
}

impl Default for ControllerOptions {
    fn default() -> Self {
        Self {
            identity: "r8s-controller-manager".into(),
            root_ca_pem: String::new(),
            cluster_cidr: "10.42.0.0/16".into(),
            node_monitor_grace_period: Duration::from_secs(40),
            resync_period: Duration::from_secs(300),
        }
    }
}
