//! A Service port and the ready pod endpoints behind it, picked round robin.

use std::fmt;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};

/// `namespace/service:port`, for logs and error pages.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BackendName {
    pub namespace: String,
    pub service: String,
    pub port: String,
}

impl fmt::Display for BackendName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}:{}", self.namespace, self.service, self.port)
    }
}

#[derive(Debug)]
pub struct Backend {
    name: BackendName,
    endpoints: Vec<SocketAddr>,
    next: AtomicUsize,
}

impl Backend {
    pub fn new(name: BackendName, endpoints: Vec<SocketAddr>) -> Self {
        Self {
            name,
            endpoints,
            next: AtomicUsize::new(0),
        }
    }

    pub fn name(&self) -> &BackendName {
        &self.name
    }

    pub fn endpoints(&self) -> &[SocketAddr] {
        &self.endpoints
    }

    /// The next endpoint in turn; `None` when the Service has no ready endpoint.
    pub fn pick(&self) -> Option<SocketAddr> {
        if self.endpoints.is_empty() {
            return None;
        }
        let turn = self.next.fetch_add(1, Ordering::Relaxed);
        self.endpoints.get(turn % self.endpoints.len()).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name() -> BackendName {
        BackendName {
            namespace: "default".into(),
            service: "web".into(),
            port: "80".into(),
        }
    }

    #[test]
    fn picks_round_robin() {
        let a: SocketAddr = "10.42.0.2:80".parse().unwrap();
        let b: SocketAddr = "10.42.0.3:80".parse().unwrap();
        let backend = Backend::new(name(), vec![a, b]);
        assert_eq!(
            [backend.pick(), backend.pick(), backend.pick()],
            [Some(a), Some(b), Some(a)]
        );
    }

    #[test]
    fn no_endpoints_picks_nothing() {
        assert_eq!(Backend::new(name(), vec![]).pick(), None);
    }
}
