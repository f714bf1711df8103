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
    /// The CA that signs approved node client certificates; without it no CSR is signed.
    pub signing_ca: Option<SigningCa>,
    /// Run ServiceLB, the built-in LoadBalancer Service controller (`--disable servicelb` turns
    /// it off).
    pub servicelb: bool,
}

/// A CA certificate and its private key, both PEM.
#[derive(Clone)]
pub struct SigningCa {
    pub cert_pem: String,
    pub key_pem: String,
}

impl std::fmt::Debug for SigningCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningCa")
            .field("cert_pem", &self.cert_pem)
            .finish_non_exhaustive()
    }
}

impl Default for ControllerOptions {
    fn default() -> Self {
        Self {
            identity: "r8s-controller-manager".into(),
            root_ca_pem: String::new(),
            cluster_cidr: "10.42.0.0/16".into(),
            node_monitor_grace_period: Duration::from_secs(40),
            resync_period: Duration::from_secs(300),
            signing_ca: None,
            servicelb: true,
        }
    }
}
