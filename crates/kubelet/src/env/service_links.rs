//! Docker-link style variables for Services (`<NAME>_SERVICE_HOST`, `<NAME>_PORT_80_TCP`, ...).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Service;

/// The Services whose variables a pod in `namespace` gets: the `kubernetes` Service of `default`
/// always, and every Service of the pod's own namespace when `enable_service_links`. A Service of
/// the pod's namespace wins over `default/kubernetes` of the same name.
pub fn services_for_pod<'a>(
    services: &'a [Service],
    namespace: &str,
    enable_service_links: bool,
) -> Vec<&'a Service> {
    let mut by_name: BTreeMap<&str, &Service> = BTreeMap::new();
    for service in services.iter().filter(|s| has_cluster_ip(s)) {
        let name = service.metadata.name.as_deref().unwrap_or_default();
        let service_namespace = service.metadata.namespace.as_deref().unwrap_or_default();
        if service_namespace == "default" && name == "kubernetes" {
            by_name.entry(name).or_insert(service);
        }
    }
    for service in services.iter().filter(|s| has_cluster_ip(s)) {
        let name = service.metadata.name.as_deref().unwrap_or_default();
        let service_namespace = service.metadata.namespace.as_deref().unwrap_or_default();
        let master_service = service_namespace == "default" && name == "kubernetes";
        if !master_service && service_namespace == namespace && enable_service_links {
            by_name.insert(name, service);
        }
    }
    by_name.into_values().collect()
}

/// The variables of `services`, in order (upstream's `envvars.FromServices`).
pub fn service_env_vars(services: &[&Service]) -> Vec<(String, String)> {
    let mut vars = Vec::new();
    for service in services {
        let Some(spec) = &service.spec else { continue };
        let Some(cluster_ip) = spec.cluster_ip.as_deref() else {
            continue;
        };
        let ports = spec.ports.as_deref().unwrap_or_default();
        let Some(first) = ports.first() else { continue };
        let prefix = env_var_name(service.metadata.name.as_deref().unwrap_or_default());
        vars.push((format!("{prefix}_SERVICE_HOST"), cluster_ip.to_string()));
        let port_var = format!("{prefix}_SERVICE_PORT");
        vars.push((port_var.clone(), first.port.to_string()));
        for port in ports {
            if let Some(name) = port.name.as_deref().filter(|n| !n.is_empty()) {
                vars.push((
                    format!("{port_var}_{}", env_var_name(name)),
                    port.port.to_string(),
                ));
            }
        }
        for (index, port) in ports.iter().enumerate() {
            let protocol = port.protocol.as_deref().unwrap_or("TCP");
            let lower = protocol.to_lowercase();
            let host_port = join_host_port(cluster_ip, port.port);
            let url = format!("{lower}://{host_port}");
            if index == 0 {
                vars.push((format!("{prefix}_PORT"), url.clone()));
            }
            let port_prefix = format!("{prefix}_PORT_{}_{}", port.port, protocol.to_uppercase());
            vars.push((port_prefix.clone(), url));
            vars.push((format!("{port_prefix}_PROTO"), lower));
            vars.push((format!("{port_prefix}_PORT"), port.port.to_string()));
            vars.push((format!("{port_prefix}_ADDR"), cluster_ip.to_string()));
        }
    }
    vars
}

fn has_cluster_ip(service: &Service) -> bool {
    let ip = service
        .spec
        .as_ref()
        .and_then(|s| s.cluster_ip.as_deref())
        .unwrap_or_default();
    !ip.is_empty() && ip != "None"
}

/// Upstream's `makeEnvVariableName`: upper case, dashes to underscores.
fn env_var_name(name: &str) -> String {
    name.replace('-', "_").to_uppercase()
}

fn join_host_port(host: &str, port: i32) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{ServicePort, ServiceSpec};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    fn service(namespace: &str, name: &str, ip: &str, ports: &[(&str, i32, &str)]) -> Service {
        Service {
            metadata: ObjectMeta {
                name: Some(name.into()),
                namespace: Some(namespace.into()),
                ..Default::default()
            },
            spec: Some(ServiceSpec {
                cluster_ip: Some(ip.into()),
                ports: Some(
                    ports
                        .iter()
                        .map(|(n, p, proto)| ServicePort {
                            name: (!n.is_empty()).then(|| n.to_string()),
                            port: *p,
                            protocol: (!proto.is_empty()).then(|| proto.to_string()),
                            ..Default::default()
                        })
                        .collect(),
                ),
                ..Default::default()
            }),
            status: None,
        }
    }

    #[test]
    fn variables_match_upstream() {
        let s = service(
            "ns",
            "my-svc",
            "10.0.0.5",
            &[("", 80, ""), ("metrics", 9090, "UDP")],
        );
        let got = service_env_vars(&[&s]);
        let want: Vec<(String, String)> = [
            ("MY_SVC_SERVICE_HOST", "10.0.0.5"),
            ("MY_SVC_SERVICE_PORT", "80"),
            ("MY_SVC_SERVICE_PORT_METRICS", "9090"),
            ("MY_SVC_PORT", "tcp://10.0.0.5:80"),
            ("MY_SVC_PORT_80_TCP", "tcp://10.0.0.5:80"),
            ("MY_SVC_PORT_80_TCP_PROTO", "tcp"),
            ("MY_SVC_PORT_80_TCP_PORT", "80"),
            ("MY_SVC_PORT_80_TCP_ADDR", "10.0.0.5"),
            ("MY_SVC_PORT_9090_UDP", "udp://10.0.0.5:9090"),
            ("MY_SVC_PORT_9090_UDP_PROTO", "udp"),
            ("MY_SVC_PORT_9090_UDP_PORT", "9090"),
            ("MY_SVC_PORT_9090_UDP_ADDR", "10.0.0.5"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn ipv6_cluster_ip_is_bracketed() {
        let s = service("ns", "v6", "fd00::1", &[("", 443, "TCP")]);
        let got = service_env_vars(&[&s]);
        assert!(got.contains(&("V6_PORT".into(), "tcp://[fd00::1]:443".into())));
    }

    #[test]
    fn selection_keeps_kubernetes_and_own_namespace_with_a_cluster_ip() {
        let services = vec![
            service(
                "default",
                "kubernetes",
                "10.0.0.1",
                &[("https", 443, "TCP")],
            ),
            service("default", "other", "10.0.0.2", &[("", 80, "")]),
            service("ns", "web", "10.0.0.3", &[("", 80, "")]),
            service("ns", "headless", "None", &[("", 80, "")]),
            service("ns", "empty", "", &[("", 80, "")]),
        ];
        let names = |picked: Vec<&Service>| -> Vec<String> {
            picked
                .iter()
                .map(|s| s.metadata.name.clone().unwrap_or_default())
                .collect()
        };
        assert_eq!(
            names(services_for_pod(&services, "ns", true)),
            ["kubernetes", "web"]
        );
        assert_eq!(
            names(services_for_pod(&services, "ns", false)),
            ["kubernetes"]
        );
        assert_eq!(
            names(services_for_pod(&services, "default", true)),
            ["kubernetes", "other"]
        );
    }
}
