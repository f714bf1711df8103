//! The service CIDR route. Virtual IPs exist only in the NAT rules, so without a route a
//! connection from the node itself fails before netfilter sees it (no route to host, when the node
//! has no default route), and with only a default route packets for an unserved virtual IP would
//! leave the node. A `local` route on `lo` for the whole CIDR fixes both: the node's own packets
//! reach the output hook (where they are DNATed to an endpoint and masqueraded), forwarded pod
//! packets are DNATed in prerouting before routing, and anything left over is delivered locally,
//! where the table's filter chains reject or drop it.

use std::process::Command;
use std::sync::Mutex;

#[derive(Debug, thiserror::Error)]
pub enum RouteError {
    #[error("running {program}: {source}")]
    Spawn {
        program: String,
        source: std::io::Error,
    },
    #[error("{command} failed ({status}): {stderr}")]
    Failed {
        command: String,
        status: String,
        stderr: String,
    },
}

/// Installs the route that keeps the service CIDR on the node.
pub trait ServiceCidrRoute: Send + Sync {
    fn ensure(&self, service_cidr: &str) -> Result<(), RouteError>;
}

/// The arguments of `ip` that install the route (idempotent: `replace`).
pub fn route_arguments(service_cidr: &str) -> Vec<String> {
    ["route", "replace", "local", service_cidr, "dev", "lo"]
        .into_iter()
        .map(String::from)
        .collect()
}

/// Runs `ip route replace local <cidr> dev lo` (the local table, where `local` routes go).
#[derive(Debug, Clone)]
pub struct IpRouteCommand {
    program: String,
}

impl Default for IpRouteCommand {
    fn default() -> Self {
        Self {
            program: "ip".to_string(),
        }
    }
}

impl ServiceCidrRoute for IpRouteCommand {
    fn ensure(&self, service_cidr: &str) -> Result<(), RouteError> {
        let arguments = route_arguments(service_cidr);
        let output = Command::new(&self.program)
            .args(&arguments)
            .output()
            .map_err(|source| RouteError::Spawn {
                program: self.program.clone(),
                source,
            })?;
        if output.status.success() {
            return Ok(());
        }
        Err(RouteError::Failed {
            command: format!("{} {}", self.program, arguments.join(" ")),
            status: output.status.to_string(),
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_string(),
        })
    }
}

/// A fake that records the CIDRs it was asked to route.
#[derive(Debug, Default)]
pub struct RecordingRoute {
    cidrs: Mutex<Vec<String>>,
}

impl RecordingRoute {
    pub fn cidrs(&self) -> Vec<String> {
        self.cidrs
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }
}

impl ServiceCidrRoute for RecordingRoute {
    fn ensure(&self, service_cidr: &str) -> Result<(), RouteError> {
        self.cidrs
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(service_cidr.to_string());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_route_is_local_on_loopback() {
        assert_eq!(
            route_arguments("10.43.0.0/16").join(" "),
            "route replace local 10.43.0.0/16 dev lo"
        );
    }

    #[test]
    fn the_fake_records() {
        let route = RecordingRoute::default();
        route.ensure("10.43.0.0/16").unwrap();
        assert_eq!(route.cidrs(), vec!["10.43.0.0/16"]);
    }
}
