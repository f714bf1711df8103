//! What can go wrong while simulating nodes.

#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("registering node {node}: {source}")]
    Register {
        node: String,
        #[source]
        source: Box<kube::Error>,
    },
    #[error("lease of node {node}: {source}")]
    Lease {
        node: String,
        #[source]
        source: Box<kube::Error>,
    },
    #[error("status of node {node}: {source}")]
    NodeStatus {
        node: String,
        #[source]
        source: Box<kube::Error>,
    },
    #[error("pod {pod}: {source}")]
    Pod {
        pod: String,
        #[source]
        source: Box<kube::Error>,
    },
    #[error("pod {pod}: no free address left in {cidr} on node {node}")]
    PodIpsExhausted {
        pod: String,
        node: String,
        cidr: String,
    },
    #[error("--fail-node {0}: not one of the simulated nodes")]
    UnknownFailNode(String),
    #[error("--nodes must be at least 1")]
    NoNodes,
    #[error("listening for SIGUSR1: {0}")]
    Signal(#[source] std::io::Error),
}

impl SimError {
    pub fn register(node: &str, source: kube::Error) -> SimError {
        SimError::Register {
            node: node.to_string(),
            source: Box::new(source),
        }
    }

    pub fn lease(node: &str, source: kube::Error) -> SimError {
        SimError::Lease {
            node: node.to_string(),
            source: Box::new(source),
        }
    }

    pub fn node_status(node: &str, source: kube::Error) -> SimError {
        SimError::NodeStatus {
            node: node.to_string(),
            source: Box::new(source),
        }
    }

    pub fn pod(pod: &str, source: kube::Error) -> SimError {
        SimError::Pod {
            pod: pod.to_string(),
            source: Box::new(source),
        }
    }
}
