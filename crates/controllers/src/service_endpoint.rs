//! A pod seen as a Service's endpoint: its address, readiness, and the Service's ports resolved
//! against its containers (named targetPorts included). Pure functions shared by the Endpoints
//! and EndpointSlice controllers.

use k8s_openapi::api::core::v1::{Pod, Service, ServicePort};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::pod_conditions::is_pod_ready;

/// One Service port resolved for one pod.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ResolvedPort {
    pub name: Option<String>,
    pub port: i32,
    pub protocol: String,
    pub app_protocol: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodEndpoint {
    pub ip: String,
    pub node_name: Option<String>,
    /// The pod's hostname when its subdomain names this Service (DNS `<hostname>.<service>`).
    pub hostname: Option<String>,
    pub pod_name: String,
    pub pod_namespace: String,
    pub pod_uid: Option<String>,
    /// publishNotReadyAddresses, or Ready and not terminating.
    pub ready: bool,
    /// The pod's Ready condition, terminating or not.
    pub serving: bool,
    pub terminating: bool,
    pub ports: Vec<ResolvedPort>,
}

/// The pod as an endpoint of `service`; None when it has no IP or has finished, or is
/// terminating and `include_terminating` is false.
pub fn pod_endpoint(
    service: &Service,
    pod: &Pod,
    include_terminating: bool,
) -> Option<PodEndpoint> {
    let status = pod.status.as_ref()?;
    let ip = status.pod_ip.clone().filter(|ip| !ip.is_empty())?;
    if matches!(status.phase.as_deref(), Some("Succeeded" | "Failed")) {
        return None;
    }
    let spec = service.spec.as_ref()?;
    let publish_not_ready = spec.publish_not_ready_addresses.unwrap_or(false);
    let terminating = pod.metadata.deletion_timestamp.is_some();
    if terminating && !include_terminating && !publish_not_ready {
        return None;
    }
    let mut ports: Vec<ResolvedPort> = spec
        .ports
        .as_deref()
        .unwrap_or_default()
        .iter()
        .filter_map(|port| resolve_port(port, pod))
        .collect();
    ports.sort();
    let hostname = pod.spec.as_ref().and_then(|pod_spec| {
        let in_service_subdomain = pod_spec.subdomain.as_deref()
            == service.metadata.name.as_deref()
            && pod.metadata.namespace == service.metadata.namespace;
        pod_spec
            .hostname
            .clone()
            .filter(|name| !name.is_empty() && in_service_subdomain)
    });
    Some(PodEndpoint {
        ip,
        node_name: pod.spec.as_ref().and_then(|s| s.node_name.clone()),
        hostname,
        pod_name: pod.metadata.name.clone().unwrap_or_default(),
        pod_namespace: pod.metadata.namespace.clone().unwrap_or_default(),
        pod_uid: pod.metadata.uid.clone(),
        ready: publish_not_ready || (is_pod_ready(pod) && !terminating),
        serving: is_pod_ready(pod),
        terminating,
        ports,
    })
}

/// A Service port against a pod: a number as is, a name looked up among the containers' ports.
fn resolve_port(port: &ServicePort, pod: &Pod) -> Option<ResolvedPort> {
    let protocol = port.protocol.clone().unwrap_or_else(|| "TCP".into());
    let number = match port.target_port.as_ref() {
        None => port.port,
        Some(IntOrString::Int(n)) => *n,
        Some(IntOrString::String(name)) => match name.parse::<i32>() {
            Ok(n) => n,
            Err(_) => {
                pod.spec
                    .as_ref()?
                    .containers
                    .iter()
                    .flat_map(|c| c.ports.iter().flatten())
                    .find(|p| {
                        p.name.as_deref() == Some(name.as_str())
                            && p.protocol.as_deref().unwrap_or("TCP") == protocol
                    })?
                    .container_port
            }
        },
    };
    Some(ResolvedPort {
        name: port.name.clone().filter(|n| !n.is_empty()),
        port: number,
        protocol,
        app_protocol: port.app_protocol.clone(),
    })
}

/// Whether the Service gets endpoints computed from pods.
pub fn has_pod_selector(service: &Service) -> bool {
    let is_api_server = service.metadata.namespace.as_deref() == Some("default")
        && service.metadata.name.as_deref() == Some("kubernetes");
    let spec = service.spec.as_ref();
    let selects = spec
        .and_then(|s| s.selector.as_ref())
        .is_some_and(|s| !s.is_empty());
    let external = spec.and_then(|s| s.type_.as_deref()) == Some("ExternalName");
    selects && !is_api_server && !external
}

#[cfg(test)]
pub mod test_services {
    use super::*;

    pub fn service(ports: serde_json::Value, publish_not_ready: bool) -> Service {
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": "web", "namespace": "ns"},
            "spec": {"selector": {"app": "web"}, "ports": ports,
                     "publishNotReadyAddresses": publish_not_ready}
        }))
        .unwrap()
    }

    pub fn pod_with_ip(name: &str, ip: &str, ready: bool) -> Pod {
        let mut value = serde_json::json!({
            "metadata": {"name": name, "namespace": "ns", "uid": format!("uid-{name}"),
                         "labels": {"app": "web"}},
            "spec": {"nodeName": "node-1", "containers": [{"name": "c", "image": "i",
                     "ports": [{"name": "http", "containerPort": 8080}]}]},
            "status": {"phase": "Running", "podIP": ip}
        });
        if ready {
            value["status"]["conditions"] =
                serde_json::json!([{"type": "Ready", "status": "True"}]);
        }
        serde_json::from_value(value).unwrap()
    }
}

#[cfg(test)]
mod tests {
    use super::test_services::{pod_with_ip, service};
    use super::*;

    #[test]
    fn named_target_ports_resolve_per_pod() {
        let svc = service(
            serde_json::json!([{"name": "web", "port": 80, "targetPort": "http"},
                               {"name": "raw", "port": 81, "targetPort": 9000}]),
            false,
        );
        let endpoint = pod_endpoint(&svc, &pod_with_ip("a", "10.0.0.1", true), false).unwrap();
        let ports: Vec<i32> = endpoint.ports.iter().map(|p| p.port).collect();
        assert_eq!(ports, [9000, 8080]);
        assert!(endpoint.ready);
    }

    #[test]
    fn readiness_follows_the_pod_unless_not_ready_addresses_are_published() {
        let ports = serde_json::json!([{"port": 80}]);
        let pod = pod_with_ip("a", "10.0.0.1", false);
        assert!(
            !pod_endpoint(&service(ports.clone(), false), &pod, false)
                .unwrap()
                .ready
        );
        assert!(
            pod_endpoint(&service(ports.clone(), true), &pod, false)
                .unwrap()
                .ready
        );
        let no_ip = pod_with_ip("b", "", true);
        assert!(pod_endpoint(&service(ports, false), &no_ip, false).is_none());
    }

    #[test]
    fn a_pod_in_the_services_subdomain_keeps_its_hostname() {
        let svc = service(serde_json::json!([{"port": 80}]), false);
        let mut pod = pod_with_ip("a", "10.0.0.1", true);
        let spec = pod.spec.as_mut().unwrap();
        spec.hostname = Some("db-0".into());
        assert_eq!(pod_endpoint(&svc, &pod, false).unwrap().hostname, None);
        pod.spec.as_mut().unwrap().subdomain = Some("web".into());
        assert_eq!(
            pod_endpoint(&svc, &pod, false).unwrap().hostname.as_deref(),
            Some("db-0")
        );
    }
}
