//! ClusterIP and NodePort allocation for Services. Each allocated address or port is claimed by a
//! key of its own, created only if absent, so two Services can never get the same one, and
//! released when the Service lets go of it.

use std::collections::BTreeSet;
use std::net::Ipv4Addr;

use api::FieldError;
use rand::Rng;
use serde_json::{json, Value};
use storage::{Backend, Precondition, StorageError};

use crate::status::ApiError;

const IP_CLAIMS: &str = "/registry/r8s/serviceips/";
const PORT_CLAIMS: &str = "/registry/r8s/servicenodeports/";

pub struct ServiceAllocator<'a> {
    pub backend: &'a dyn Backend,
    pub cidr: (Ipv4Addr, u8),
    pub node_ports: (u16, u16),
}

/// The Service's `spec.type`, ClusterIP when unset.
pub(crate) fn service_type(service: &Value) -> &str {
    service
        .get("spec")
        .and_then(|s| s.get("type"))
        .and_then(Value::as_str)
        .unwrap_or("ClusterIP")
}

/// NodePort and LoadBalancer Services hold node ports.
pub(crate) fn wants_node_ports(service: &Value) -> bool {
    matches!(service_type(service), "NodePort" | "LoadBalancer")
}

fn owner(service: &Value) -> Vec<u8> {
    let meta = service.get("metadata");
    let part = |f: &str| {
        meta.and_then(|m| m.get(f))
            .and_then(Value::as_str)
            .unwrap_or("")
    };
    format!("{}/{}", part("namespace"), part("name")).into_bytes()
}

fn cluster_ip(service: &Value) -> Option<&str> {
    service
        .get("spec")
        .and_then(|s| s.get("clusterIP"))
        .and_then(Value::as_str)
        .filter(|ip| !ip.is_empty())
}

/// The node ports a Service holds.
pub fn node_ports_of(service: &Value) -> BTreeSet<u16> {
    service
        .get("spec")
        .and_then(|s| s.get("ports"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|p| p.get("nodePort").and_then(Value::as_u64))
        .filter_map(|p| u16::try_from(p).ok())
        .filter(|p| *p != 0)
        .collect()
}

fn invalid(service: &Value, errors: Vec<FieldError>) -> ApiError {
    let name = service
        .get("metadata")
        .and_then(|m| m.get("name"))
        .and_then(Value::as_str)
        .unwrap_or("");
    ApiError::invalid("", "Service", name, &errors)
}

impl ServiceAllocator<'_> {
    fn range_size(&self) -> u32 {
        (1u32 << (32 - u32::from(self.cidr.1))).saturating_sub(2)
    }

    fn in_range(&self, ip: Ipv4Addr) -> bool {
        let base = u32::from(self.cidr.0);
        let ip = u32::from(ip);
        ip > base && ip <= base + self.range_size()
    }

    async fn claim(&self, key: String, owner: Vec<u8>) -> Result<bool, ApiError> {
        match self
            .backend
            .put(&key, owner, Precondition::MustNotExist, None)
            .await
        {
            Ok(_) => Ok(true),
            Err(StorageError::AlreadyExists { .. }) => Ok(false),
            Err(e) => Err(ApiError::internal(e.to_string())),
        }
    }

    async fn release(&self, key: String) {
        if let Err(error) = self.backend.delete(&key, Precondition::None).await {
            if !matches!(error, StorageError::NotFound { .. }) {
                tracing::warn!(%key, %error, "releasing a service allocation failed");
            }
        }
    }

    async fn allocate_ip(&self, owner: Vec<u8>) -> Result<Ipv4Addr, ApiError> {
        let size = self.range_size();
        let start = rand::rng().random_range(0..size.max(1));
        for offset in 0..size {
            let ip = Ipv4Addr::from(u32::from(self.cidr.0) + 1 + (start + offset) % size);
            if self
                .claim(format!("{IP_CLAIMS}{ip}"), owner.clone())
                .await?
            {
                return Ok(ip);
            }
        }
        Err(ApiError::internal("the service IP range is full"))
    }

    async fn allocate_port(&self, owner: Vec<u8>) -> Result<u16, ApiError> {
        let (low, high) = self.node_ports;
        let size = u32::from(high - low) + 1;
        let start = rand::rng().random_range(0..size);
        for offset in 0..size {
            let port = low + u16::try_from((start + offset) % size).unwrap_or(0);
            if self
                .claim(format!("{PORT_CLAIMS}{port}"), owner.clone())
                .await?
            {
                return Ok(port);
            }
        }
        Err(ApiError::internal("the node port range is full"))
    }

    /// Claim a ClusterIP and node ports for a new Service, filling them in.
    pub async fn allocate(&self, service: &mut Value) -> Result<(), ApiError> {
        let owner = owner(service);
        let kind = service_type(service).to_string();
        if kind != "ExternalName" {
            match cluster_ip(service).map(str::to_string) {
                Some(ip) if ip == "None" => {
                    service["spec"]["clusterIPs"] = json!(["None"]);
                }
                Some(ip) => {
                    let parsed: Option<Ipv4Addr> = ip.parse().ok();
                    let field = "spec.clusterIPs[0]";
                    let Some(parsed) = parsed.filter(|p| self.in_range(*p)) else {
                        return Err(invalid(service, vec![FieldError::invalid(
                            field,
                            json!(ip),
                            format!("provided IP is not in the valid range. The range of valid IPs is {}/{}", self.cidr.0, self.cidr.1),
                        )]));
                    };
                    if !self
                        .claim(format!("{IP_CLAIMS}{parsed}"), owner.clone())
                        .await?
                    {
                        return Err(invalid(
                            service,
                            vec![FieldError::invalid(
                                field,
                                json!(ip),
                                "provided IP is already allocated",
                            )],
                        ));
                    }
                    service["spec"]["clusterIPs"] = json!([ip]);
                }
                None => {
                    let ip = self.allocate_ip(owner.clone()).await?.to_string();
                    service["spec"]["clusterIP"] = json!(ip);
                    service["spec"]["clusterIPs"] = json!([ip]);
                }
            }
        }
        self.sync_node_ports(service, &BTreeSet::new()).await
    }

    /// Claim node ports a Service now needs and release those it no longer holds.
    pub async fn sync_node_ports(
        &self,
        service: &mut Value,
        previously_held: &BTreeSet<u16>,
    ) -> Result<(), ApiError> {
        let owner = owner(service);
        let wanted = wants_node_ports(service);
        let mut claimed_now = Vec::new();
        if let Some(ports) = service
            .get_mut("spec")
            .and_then(|s| s.get_mut("ports"))
            .and_then(Value::as_array_mut)
        {
            for (index, port) in ports.iter_mut().enumerate() {
                let requested = port
                    .get("nodePort")
                    .and_then(Value::as_u64)
                    .and_then(|p| u16::try_from(p).ok())
                    .unwrap_or(0);
                if !wanted {
                    if let Some(fields) = port.as_object_mut() {
                        fields.remove("nodePort");
                    }
                    continue;
                }
                if requested == 0 {
                    let allocated = self.allocate_port(owner.clone()).await?;
                    claimed_now.push(allocated);
                    port["nodePort"] = json!(allocated);
                } else if !previously_held.contains(&requested) {
                    let (low, high) = self.node_ports;
                    let field = format!("spec.ports[{index}].nodePort");
                    if requested < low || requested > high {
                        for p in claimed_now {
                            self.release(format!("{PORT_CLAIMS}{p}")).await;
                        }
                        return Err(ApiError::invalid("", "Service", "", &[FieldError::invalid(
                            &field,
                            json!(requested),
                            format!("provided port is not in the valid range. The range of valid ports is {low}-{high}"),
                        )]));
                    }
                    if !self
                        .claim(format!("{PORT_CLAIMS}{requested}"), owner.clone())
                        .await?
                    {
                        for p in claimed_now {
                            self.release(format!("{PORT_CLAIMS}{p}")).await;
                        }
                        return Err(ApiError::invalid(
                            "",
                            "Service",
                            "",
                            &[FieldError::invalid(
                                &field,
                                json!(requested),
                                "provided port is already allocated",
                            )],
                        ));
                    }
                    claimed_now.push(requested);
                }
            }
        }
        let still_held = node_ports_of(service);
        for port in previously_held.difference(&still_held) {
            self.release(format!("{PORT_CLAIMS}{port}")).await;
        }
        Ok(())
    }

    /// Release everything a deleted Service held.
    pub async fn release_all(&self, service: &Value) {
        if let Some(ip) = cluster_ip(service).filter(|ip| *ip != "None") {
            self.release(format!("{IP_CLAIMS}{ip}")).await;
        }
        for port in node_ports_of(service) {
            self.release(format!("{PORT_CLAIMS}{port}")).await;
        }
    }

    /// Claim a specific address (the `kubernetes` Service at start).
    pub async fn claim_ip(&self, ip: Ipv4Addr, owner: &str) -> Result<bool, ApiError> {
        self.claim(format!("{IP_CLAIMS}{ip}"), owner.as_bytes().to_vec())
            .await
    }
}
