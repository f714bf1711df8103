//! Makes this node's server reachable at the cluster DNS address: the `kube-dns` Service (made
//! if missing) and one EndpointSlice per node pointing at `<node-ip>:53`, owned by the Node so
//! the garbage collector removes it with the node.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::Duration;

use k8s_openapi::api::core::v1::{Node, Service, ServicePort, ServiceSpec};
use k8s_openapi::api::discovery::v1::{Endpoint, EndpointConditions, EndpointPort, EndpointSlice};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use kube::api::{DeleteParams, Patch, PatchParams, PostParams};
use kube::Api;
use tokio_util::sync::CancellationToken;

use crate::objects::SERVICE_NAME_LABEL;
use crate::DnsOptions;

pub const NAMESPACE: &str = "kube-system";
pub const SERVICE_NAME: &str = "kube-dns";
const MANAGED_BY_LABEL: &str = "endpointslice.kubernetes.io/managed-by";
const MANAGER: &str = "r8s-dns";
const RETRY: Duration = Duration::from_secs(5);

/// The `kube-dns` Service as upstream ships it: no selector, DNS on UDP and TCP 53.
pub fn kube_dns_service(cluster_dns: IpAddr) -> Service {
    let labels = BTreeMap::from([
        ("k8s-app".to_owned(), SERVICE_NAME.to_owned()),
        ("kubernetes.io/name".to_owned(), "CoreDNS".to_owned()),
        (
            "kubernetes.io/cluster-service".to_owned(),
            "true".to_owned(),
        ),
    ]);
    let port = |name: &str, protocol: &str| ServicePort {
        name: Some(name.to_owned()),
        protocol: Some(protocol.to_owned()),
        port: 53,
        target_port: Some(k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::Int(53)),
        ..Default::default()
    };
    Service {
        metadata: ObjectMeta {
            name: Some(SERVICE_NAME.to_owned()),
            namespace: Some(NAMESPACE.to_owned()),
            labels: Some(labels),
            ..Default::default()
        },
        spec: Some(ServiceSpec {
            cluster_ip: Some(cluster_dns.to_string()),
            cluster_ips: Some(vec![cluster_dns.to_string()]),
            ports: Some(vec![port("dns", "UDP"), port("dns-tcp", "TCP")]),
            ..Default::default()
        }),
        ..Default::default()
    }
}

pub fn endpoint_slice_name(node_name: &str) -> String {
    format!("{SERVICE_NAME}-{node_name}")
}

/// This node's EndpointSlice of `kube-dns`: one ready endpoint, the node's own address.
pub fn node_endpoint_slice(
    node_name: &str,
    node_uid: &str,
    node_ip: IpAddr,
    port: u16,
) -> EndpointSlice {
    let labels = BTreeMap::from([
        (SERVICE_NAME_LABEL.to_owned(), SERVICE_NAME.to_owned()),
        (MANAGED_BY_LABEL.to_owned(), MANAGER.to_owned()),
    ]);
    let port = |name: &str, protocol: &str| EndpointPort {
        name: Some(name.to_owned()),
        protocol: Some(protocol.to_owned()),
        port: Some(i32::from(port)),
        ..Default::default()
    };
    EndpointSlice {
        metadata: ObjectMeta {
            name: Some(endpoint_slice_name(node_name)),
            namespace: Some(NAMESPACE.to_owned()),
            labels: Some(labels),
            owner_references: Some(vec![OwnerReference {
                api_version: "v1".to_owned(),
                kind: "Node".to_owned(),
                name: node_name.to_owned(),
                uid: node_uid.to_owned(),
                ..Default::default()
            }]),
            ..Default::default()
        },
        address_type: if node_ip.is_ipv4() { "IPv4" } else { "IPv6" }.to_owned(),
        endpoints: vec![Endpoint {
            addresses: vec![node_ip.to_string()],
            conditions: Some(EndpointConditions {
                ready: Some(true),
                serving: Some(true),
                terminating: Some(false),
            }),
            node_name: Some(node_name.to_owned()),
            ..Default::default()
        }],
        ports: Some(vec![port("dns", "UDP"), port("dns-tcp", "TCP")]),
    }
}

/// Registers until it succeeds or `cancel` fires; trouble is logged and retried.
pub async fn register(client: &kube::Client, options: &DnsOptions, cancel: &CancellationToken) {
    loop {
        match register_once(client, options).await {
            Ok(()) => {
                tracing::info!(node = %options.node_name, address = %options.node_ip, "cluster DNS registered");
                return;
            }
            Err(error) => tracing::warn!(%error, "registering cluster DNS; retrying"),
        }
        tokio::select! {
            () = cancel.cancelled() => return,
            () = tokio::time::sleep(RETRY) => {}
        }
    }
}

async fn register_once(client: &kube::Client, options: &DnsOptions) -> Result<(), kube::Error> {
    let services: Api<Service> = Api::namespaced(client.clone(), NAMESPACE);
    match services
        .create(
            &PostParams::default(),
            &kube_dns_service(options.cluster_dns),
        )
        .await
    {
        Ok(_) => tracing::info!(cluster_ip = %options.cluster_dns, "created the kube-dns Service"),
        Err(kube::Error::Api(status)) if status.code == 409 => {}
        Err(error) => return Err(error),
    }
    let node = Api::<Node>::all(client.clone())
        .get(&options.node_name)
        .await?;
    let uid = node.metadata.uid.unwrap_or_default();
    let slice = node_endpoint_slice(&options.node_name, &uid, options.node_ip, options.port);
    let slices: Api<EndpointSlice> = Api::namespaced(client.clone(), NAMESPACE);
    slices
        .patch(
            &endpoint_slice_name(&options.node_name),
            &PatchParams::apply(MANAGER).force(),
            &Patch::Apply(&slice),
        )
        .await?;
    Ok(())
}

/// Removes this node's EndpointSlice so no more queries are sent here (best effort).
pub async fn deregister(client: &kube::Client, node_name: &str) {
    let slices: Api<EndpointSlice> = Api::namespaced(client.clone(), NAMESPACE);
    let deleted = tokio::time::timeout(
        Duration::from_secs(2),
        slices.delete(&endpoint_slice_name(node_name), &DeleteParams::default()),
    )
    .await;
    if let Ok(Err(error)) = deleted {
        tracing::debug!(%error, "removing the cluster DNS EndpointSlice");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_slice_points_at_the_node_and_belongs_to_it() {
        let slice = node_endpoint_slice("node-a", "uid-1", IpAddr::from([192, 168, 77, 2]), 53);
        assert_eq!(slice.metadata.name.as_deref(), Some("kube-dns-node-a"));
        let labels = slice.metadata.labels.unwrap();
        assert_eq!(labels[SERVICE_NAME_LABEL], "kube-dns");
        assert_eq!(labels[MANAGED_BY_LABEL], "r8s-dns");
        assert_eq!(slice.endpoints[0].addresses, ["192.168.77.2"]);
        assert_eq!(slice.endpoints[0].node_name.as_deref(), Some("node-a"));
        let owner = &slice.metadata.owner_references.unwrap()[0];
        assert_eq!((owner.kind.as_str(), owner.uid.as_str()), ("Node", "uid-1"));
        let ports = slice.ports.unwrap();
        assert_eq!(ports.len(), 2);
        assert!(ports.iter().all(|port| port.port == Some(53)));
    }

    #[test]
    fn kube_dns_service_has_the_cluster_dns_address_and_no_selector() {
        let service = kube_dns_service(IpAddr::from([10, 43, 0, 10]));
        let spec = service.spec.unwrap();
        assert_eq!(spec.cluster_ip.as_deref(), Some("10.43.0.10"));
        assert!(spec.selector.is_none());
        let names: Vec<_> = spec
            .ports
            .unwrap()
            .into_iter()
            .filter_map(|port| port.name)
            .collect();
        assert_eq!(names, ["dns", "dns-tcp"]);
    }
}
