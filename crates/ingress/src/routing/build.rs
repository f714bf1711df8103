//! From Ingresses, Services and EndpointSlices to a [`RoutingTable`].

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use k8s_openapi::api::core::v1::{Service, ServicePort};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::api::networking::v1::{Ingress, IngressServiceBackend};

use super::backend::{Backend, BackendName};
use super::host::HostPattern;
use super::path::{PathKind, PathMatch};
use super::table::RoutingTable;
use crate::class::served_oldest_first;

const SERVICE_NAME_LABEL: &str = "kubernetes.io/service-name";

/// The routes of every Ingress of class `r8s` in `ingresses`. Rules whose backend is a
/// `resource` rather than a Service are skipped; a Service or port that does not exist gives a
/// backend without endpoints (503).
pub fn build_routing_table<I, S, E>(ingresses: &[I], services: &[S], slices: &[E]) -> RoutingTable
where
    I: AsRef<Ingress>,
    S: AsRef<Service>,
    E: AsRef<EndpointSlice>,
{
    let mut backends = Backends::new(services, slices);
    let mut builder = RoutingTable::builder();
    for ingress in served_oldest_first(ingresses) {
        let namespace = ingress.metadata.namespace.as_deref().unwrap_or("default");
        let Some(spec) = &ingress.spec else { continue };
        for rule in spec.rules.iter().flatten() {
            let host = HostPattern::parse(rule.host.as_deref());
            for path in rule.http.iter().flat_map(|http| &http.paths) {
                let Some(service) = &path.backend.service else {
                    continue;
                };
                let path_match =
                    PathMatch::new(PathKind::parse(&path.path_type), path.path.as_deref());
                builder.route(&host, path_match, backends.get(namespace, service));
            }
        }
        if let Some(service) = spec
            .default_backend
            .as_ref()
            .and_then(|backend| backend.service.as_ref())
        {
            builder.default_backend(backends.get(namespace, service));
        }
    }
    builder.build()
}

/// One shared [`Backend`] per Service port, so that round robin spans every rule using it.
struct Backends<'a> {
    services: HashMap<(&'a str, &'a str), &'a Service>,
    slices: HashMap<(&'a str, &'a str), Vec<&'a EndpointSlice>>,
    built: HashMap<BackendName, Arc<Backend>>,
}

impl<'a> Backends<'a> {
    fn new<S: AsRef<Service>, E: AsRef<EndpointSlice>>(services: &'a [S], slices: &'a [E]) -> Self {
        let services = services
            .iter()
            .map(AsRef::as_ref)
            .filter_map(|service| Some((namespaced_name(&service.metadata)?, service)))
            .collect();
        let mut by_service: HashMap<_, Vec<_>> = HashMap::new();
        for slice in slices.iter().map(AsRef::as_ref) {
            let meta = &slice.metadata;
            let service = meta
                .labels
                .as_ref()
                .and_then(|labels| labels.get(SERVICE_NAME_LABEL));
            if let (Some(namespace), Some(service)) = (&meta.namespace, service) {
                by_service
                    .entry((namespace.as_str(), service.as_str()))
                    .or_default()
                    .push(slice);
            }
        }
        Self {
            services,
            slices: by_service,
            built: HashMap::new(),
        }
    }

    fn get(&mut self, namespace: &str, backend: &IngressServiceBackend) -> Arc<Backend> {
        let port = backend.port.as_ref();
        let port_number = port.and_then(|port| port.number);
        let port_name = port.and_then(|port| port.name.as_deref());
        let name = BackendName {
            namespace: namespace.to_owned(),
            service: backend.name.clone(),
            port: match (port_number, port_name) {
                (Some(number), _) => number.to_string(),
                (None, Some(name)) => name.to_owned(),
                (None, None) => String::new(),
            },
        };
        if let Some(built) = self.built.get(&name) {
            return Arc::clone(built);
        }
        let service_port = self
            .services
            .get(&(namespace, backend.name.as_str()))
            .and_then(|service| find_service_port(service, port_number, port_name));
        let endpoints = match service_port {
            Some(service_port) => {
                let slices = self
                    .slices
                    .get(&(namespace, backend.name.as_str()))
                    .map(Vec::as_slice)
                    .unwrap_or_default();
                ready_endpoints(slices, service_port.name.as_deref().unwrap_or_default())
            }
            None => Vec::new(),
        };
        let built = Arc::new(Backend::new(name.clone(), endpoints));
        self.built.insert(name, Arc::clone(&built));
        built
    }
}

fn namespaced_name(meta: &kube::api::ObjectMeta) -> Option<(&str, &str)> {
    Some((meta.namespace.as_deref()?, meta.name.as_deref()?))
}

fn find_service_port<'a>(
    service: &'a Service,
    number: Option<i32>,
    name: Option<&str>,
) -> Option<&'a ServicePort> {
    let ports = service.spec.as_ref()?.ports.as_ref()?;
    ports.iter().find(|port| match (number, name) {
        (Some(number), _) => port.port == number,
        (None, Some(name)) => port.name.as_deref() == Some(name),
        (None, None) => ports.len() == 1,
    })
}

/// The addresses of ready endpoints with the port the slices give for the Service port named
/// `port_name` (the empty name for a Service's only, unnamed port).
fn ready_endpoints(slices: &[&EndpointSlice], port_name: &str) -> Vec<SocketAddr> {
    let mut endpoints: Vec<SocketAddr> = slices
        .iter()
        .filter(|slice| matches!(slice.address_type.as_str(), "IPv4" | "IPv6"))
        .filter_map(|slice| {
            let port = slice
                .ports
                .iter()
                .flatten()
                .find(|port| port.name.as_deref().unwrap_or_default() == port_name)?
                .port?;
            let port = u16::try_from(port).ok()?;
            Some((slice, port))
        })
        .flat_map(|(slice, port)| {
            slice
                .endpoints
                .iter()
                .filter(|endpoint| {
                    endpoint
                        .conditions
                        .as_ref()
                        .and_then(|conditions| conditions.ready)
                        .unwrap_or(true)
                })
                .flat_map(|endpoint| &endpoint.addresses)
                .filter_map(|address| address.parse::<IpAddr>().ok())
                .map(move |address| SocketAddr::new(address, port))
        })
        .collect();
    endpoints.sort();
    endpoints.dedup();
    endpoints
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn service() -> Service {
        serde_json::from_value(json!({
            "metadata": {"namespace": "default", "name": "web"},
            "spec": {"ports": [
                {"name": "http", "port": 80, "targetPort": "web"},
                {"name": "admin", "port": 9000, "targetPort": 9090},
            ]},
        }))
        .unwrap()
    }

    fn slice() -> EndpointSlice {
        serde_json::from_value(json!({
            "metadata": {"namespace": "default", "name": "web-abc",
                         "labels": {"kubernetes.io/service-name": "web"}},
            "addressType": "IPv4",
            "ports": [{"name": "http", "port": 8080}, {"name": "admin", "port": 9090}],
            "endpoints": [
                {"addresses": ["10.42.0.5"], "conditions": {"ready": true}},
                {"addresses": ["10.42.0.4"]},
                {"addresses": ["10.42.0.6"], "conditions": {"ready": false}},
            ],
        }))
        .unwrap()
    }

    fn ingress(name: &str, created: &str, spec: serde_json::Value) -> Ingress {
        serde_json::from_value(json!({
            "metadata": {"namespace": "default", "name": name, "creationTimestamp": created},
            "spec": spec,
        }))
        .unwrap()
    }

    fn endpoints_for(table: &RoutingTable, host: &str, path: &str) -> Option<Vec<String>> {
        table.route(host, path).map(|backend| {
            backend
                .endpoints()
                .iter()
                .map(ToString::to_string)
                .collect()
        })
    }

    #[test]
    fn service_ports_by_number_and_name_resolve_to_ready_target_ports() {
        let ingress = ingress(
            "web",
            "2024-01-01T00:00:00Z",
            json!({"rules": [{"host": "a.example", "http": {"paths": [
                {"path": "/", "pathType": "Prefix",
                 "backend": {"service": {"name": "web", "port": {"number": 80}}}},
                {"path": "/admin", "pathType": "Prefix",
                 "backend": {"service": {"name": "web", "port": {"name": "admin"}}}},
            ]}}]}),
        );
        let table = build_routing_table(
            &[Arc::new(ingress)],
            &[Arc::new(service())],
            &[Arc::new(slice())],
        );
        assert_eq!(
            endpoints_for(&table, "a.example", "/x").unwrap(),
            ["10.42.0.4:8080", "10.42.0.5:8080"]
        );
        assert_eq!(
            endpoints_for(&table, "a.example", "/admin/x").unwrap(),
            ["10.42.0.4:9090", "10.42.0.5:9090"]
        );
        assert_eq!(endpoints_for(&table, "b.example", "/"), None);
    }

    #[test]
    fn missing_services_and_ports_have_no_endpoints() {
        let ingress = ingress(
            "web",
            "2024-01-01T00:00:00Z",
            json!({"rules": [{"http": {"paths": [
                {"path": "/gone", "pathType": "Exact",
                 "backend": {"service": {"name": "gone", "port": {"number": 80}}}},
                {"path": "/wrong-port", "pathType": "Exact",
                 "backend": {"service": {"name": "web", "port": {"number": 81}}}},
            ]}}]}),
        );
        let table = build_routing_table(
            &[Arc::new(ingress)],
            &[Arc::new(service())],
            &[Arc::new(slice())],
        );
        assert_eq!(
            endpoints_for(&table, "x", "/gone").unwrap(),
            Vec::<String>::new()
        );
        assert_eq!(
            endpoints_for(&table, "x", "/wrong-port").unwrap(),
            Vec::<String>::new()
        );
    }

    #[test]
    fn default_backend_of_the_oldest_ingress_and_other_classes_ignored() {
        let newer = ingress(
            "newer",
            "2024-02-01T00:00:00Z",
            json!({"defaultBackend": {"service": {"name": "gone", "port": {"number": 80}}}}),
        );
        let older = ingress(
            "older",
            "2024-01-01T00:00:00Z",
            json!({"defaultBackend": {"service": {"name": "web", "port": {"name": "http"}}}}),
        );
        let foreign = ingress(
            "foreign",
            "2023-01-01T00:00:00Z",
            json!({"ingressClassName": "nginx",
                   "defaultBackend": {"service": {"name": "web", "port": {"number": 9000}}}}),
        );
        let table = build_routing_table(
            &[Arc::new(newer), Arc::new(older), Arc::new(foreign)],
            &[Arc::new(service())],
            &[Arc::new(slice())],
        );
        assert_eq!(
            endpoints_for(&table, "any", "/").unwrap(),
            ["10.42.0.4:8080", "10.42.0.5:8080"]
        );
    }

    #[test]
    fn rules_sharing_a_service_port_share_one_backend() {
        let ingress = ingress(
            "web",
            "2024-01-01T00:00:00Z",
            json!({"rules": [
                {"host": "a.example", "http": {"paths": [{"path": "/", "pathType": "Prefix",
                  "backend": {"service": {"name": "web", "port": {"number": 80}}}}]}},
                {"host": "b.example", "http": {"paths": [{"path": "/", "pathType": "Prefix",
                  "backend": {"service": {"name": "web", "port": {"number": 80}}}}]}},
            ]}),
        );
        let table = build_routing_table(
            &[Arc::new(ingress)],
            &[Arc::new(service())],
            &[Arc::new(slice())],
        );
        let a = table.route("a.example", "/").unwrap();
        let b = table.route("b.example", "/").unwrap();
        assert!(Arc::ptr_eq(a, b));
    }
}
