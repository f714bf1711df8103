//! Services, as upstream's `ValidateService` and `ValidateServiceUpdate`.

use serde_json::Value;

use super::container::{port_number_or_name, validate_protocol};
use super::identifiers;
use super::object_meta::validate_labels;
use crate::field_error::{FieldError, Path};

const KUBELET_PORT: i64 = 10250;

fn text<'a>(value: &'a Value, key: &str) -> &'a str {
    value.get(key).and_then(Value::as_str).unwrap_or("")
}

fn cluster_ips(spec: &Value) -> Vec<String> {
    let listed: Vec<String> = spec["clusterIPs"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect();
    if listed.is_empty() && !text(spec, "clusterIP").is_empty() {
        vec![text(spec, "clusterIP").to_string()]
    } else {
        listed
    }
}

fn is_headless(spec: &Value) -> bool {
    cluster_ips(spec).first().is_some_and(|ip| ip == "None")
}

/// A Service's spec.
pub fn validate_service(obj: &Value) -> Vec<FieldError> {
    let spec = &obj["spec"];
    let path = Path::new("spec");
    let ports_path = path.child("ports");
    let ports: Vec<&Value> = spec["ports"].as_array().into_iter().flatten().collect();
    let service_type = text(spec, "type");
    let headless = is_headless(spec);
    let mut errors = Vec::new();
    if ports.is_empty() && !headless && service_type != "ExternalName" {
        errors.push(FieldError::required(&ports_path, ""));
    }
    match service_type {
        "LoadBalancer" | "NodePort" => {
            if headless {
                errors.push(FieldError::invalid(
                    path.child("clusterIPs").index(0),
                    "None",
                    format!("may not be set to 'None' for {service_type} services"),
                ));
            }
            if service_type == "LoadBalancer" {
                for (i, port) in ports.iter().enumerate() {
                    if port["port"].as_i64() == Some(KUBELET_PORT) {
                        errors.push(FieldError::invalid(
                            ports_path.index(i),
                            KUBELET_PORT,
                            format!("may not expose port {KUBELET_PORT} externally since it is used by kubelet"),
                        ));
                    }
                }
            }
        }
        "ExternalName" => {
            if !cluster_ips(spec).is_empty() {
                errors.push(FieldError::forbidden(
                    path.child("clusterIPs"),
                    "may not be set for ExternalName services",
                ));
            }
            if spec["ipFamilies"].as_array().is_some_and(|f| !f.is_empty()) {
                errors.push(FieldError::forbidden(
                    path.child("ipFamilies"),
                    "may not be set for ExternalName services",
                ));
            }
            if !spec["ipFamilyPolicy"].is_null() {
                errors.push(FieldError::forbidden(
                    path.child("ipFamilyPolicy"),
                    "may not be set for ExternalName services",
                ));
            }
            let cname = text(spec, "externalName");
            let cname = cname.strip_suffix('.').unwrap_or(cname);
            if cname.is_empty() {
                errors.push(FieldError::required(path.child("externalName"), ""));
            } else {
                for message in identifiers::dns1123_subdomain(cname) {
                    errors.push(FieldError::invalid(
                        path.child("externalName"),
                        cname,
                        message,
                    ));
                }
            }
        }
        _ => {}
    }
    let mut names: Vec<String> = Vec::new();
    for (i, port) in ports.iter().enumerate() {
        errors.extend(validate_service_port(
            port,
            ports.len() > 1,
            &mut names,
            &ports_path.index(i),
        ));
    }
    errors.extend(validate_labels(&spec["selector"], &path.child("selector")));
    match text(spec, "sessionAffinity") {
        "" => errors.push(FieldError::required(path.child("sessionAffinity"), "")),
        "ClientIP" => {
            let timeout = spec
                .pointer("/sessionAffinityConfig/clientIP/timeoutSeconds")
                .and_then(Value::as_i64);
            let timeout_path = path
                .child("sessionAffinityConfig")
                .child("clientIP")
                .child("timeoutSeconds");
            match timeout {
                Some(seconds) if !(1..=86400).contains(&seconds) => {
                    errors.push(FieldError::invalid(
                        timeout_path,
                        seconds,
                        "must be greater than 0 and less than 86400",
                    ))
                }
                Some(_) => {}
                None => errors.push(FieldError::required(timeout_path, "")),
            }
        }
        "None" => {
            if !spec["sessionAffinityConfig"].is_null() {
                errors.push(FieldError::forbidden(
                    path.child("sessionAffinityConfig"),
                    "must not be set when session affinity is None",
                ));
            }
        }
        other => errors.push(FieldError::not_supported(
            path.child("sessionAffinity"),
            other,
            &["ClientIP", "None"],
        )),
    }
    errors.extend(validate_cluster_ips(spec, &path));
    for (i, ip) in spec["externalIPs"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        let ip = ip.as_str().unwrap_or("");
        if !identifiers::is_ip(ip) {
            errors.push(FieldError::invalid(
                path.child("externalIPs").index(i),
                ip,
                "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)",
            ));
        }
    }
    match service_type {
        "" => errors.push(FieldError::required(path.child("type"), "")),
        "ClusterIP" | "ExternalName" | "LoadBalancer" | "NodePort" => {}
        other => errors.push(FieldError::not_supported(
            path.child("type"),
            other,
            &["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"],
        )),
    }
    if service_type == "ClusterIP" {
        for (i, port) in ports.iter().enumerate() {
            if port["nodePort"].as_i64().is_some_and(|p| p != 0) {
                errors.push(FieldError::forbidden(
                    ports_path.index(i).child("nodePort"),
                    "may not be used when `type` is 'ClusterIP'",
                ));
            }
        }
    }
    let mut node_ports: Vec<(&str, i64)> = Vec::new();
    let mut port_keys: Vec<(&str, i64)> = Vec::new();
    for (i, port) in ports.iter().enumerate() {
        let protocol = text(port, "protocol");
        let node_port = port["nodePort"].as_i64().unwrap_or(0);
        if node_port != 0 {
            if node_ports.contains(&(protocol, node_port)) {
                errors.push(FieldError::duplicate(
                    ports_path.index(i).child("nodePort"),
                    node_port,
                ));
            }
            node_ports.push((protocol, node_port));
        }
        let key = (protocol, port["port"].as_i64().unwrap_or(0));
        if port_keys.contains(&key) {
            errors.push(FieldError::duplicate(
                ports_path.index(i),
                serde_json::json!({"protocol": key.0, "port": key.1}),
            ));
        }
        port_keys.push(key);
    }
    errors.extend(validate_traffic_policies(spec, &path));
    errors
}

fn validate_service_port(
    port: &Value,
    name_required: bool,
    names: &mut Vec<String>,
    path: &Path,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let name = text(port, "name");
    if name_required && name.is_empty() {
        errors.push(FieldError::required(path.child("name"), ""));
    } else if !name.is_empty() {
        for message in identifiers::dns1123_label(name) {
            errors.push(FieldError::invalid(path.child("name"), name, message));
        }
        if names.iter().any(|n| n == name) {
            errors.push(FieldError::duplicate(path.child("name"), name));
        } else {
            names.push(name.to_string());
        }
    }
    let number = port["port"].as_i64().unwrap_or(0);
    for message in identifiers::port_number(number) {
        errors.push(FieldError::invalid(path.child("port"), number, message));
    }
    errors.extend(validate_protocol(port, path));
    errors.extend(port_number_or_name(
        &port["targetPort"],
        &path.child("targetPort"),
    ));
    if let Some(protocol) = port["appProtocol"].as_str() {
        for message in identifiers::qualified_name(protocol) {
            errors.push(FieldError::invalid(
                path.child("appProtocol"),
                protocol,
                message,
            ));
        }
    }
    errors
}

fn validate_cluster_ips(spec: &Value, path: &Path) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let listed: Vec<&str> = spec["clusterIPs"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let cluster_ip = text(spec, "clusterIP");
    if !listed.is_empty() && cluster_ip != listed[0] {
        errors.push(FieldError::invalid(
            path.child("clusterIPs"),
            serde_json::json!(listed),
            "first value must match `clusterIP`",
        ));
    }
    if listed.is_empty()
        && !cluster_ip.is_empty()
        && cluster_ip != "None"
        && !identifiers::is_ip(cluster_ip)
    {
        errors.push(FieldError::invalid(
            path.child("clusterIP"),
            cluster_ip,
            "must be empty, 'None', or a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)",
        ));
    }
    for (i, ip) in listed.iter().enumerate() {
        if i == 0 && *ip == "None" {
            if listed.len() > 1 {
                errors.push(FieldError::invalid(
                    path.child("clusterIPs"),
                    serde_json::json!(listed),
                    "'None' must be the first and only value",
                ));
            }
            continue;
        }
        if !identifiers::is_ip(ip) {
            errors.push(FieldError::invalid(
                path.child("clusterIPs").index(i),
                *ip,
                "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)",
            ));
        }
    }
    for (i, family) in spec["ipFamilies"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        let family = family.as_str().unwrap_or("");
        if !matches!(family, "IPv4" | "IPv6") {
            errors.push(FieldError::not_supported(
                path.child("ipFamilies").index(i),
                family,
                &["IPv4", "IPv6"],
            ));
        }
    }
    if let Some(policy) = spec["ipFamilyPolicy"].as_str() {
        if !matches!(
            policy,
            "SingleStack" | "PreferDualStack" | "RequireDualStack"
        ) {
            errors.push(FieldError::not_supported(
                path.child("ipFamilyPolicy"),
                policy,
                &["PreferDualStack", "RequireDualStack", "SingleStack"],
            ));
        }
    }
    errors
}

fn validate_traffic_policies(spec: &Value, path: &Path) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let service_type = text(spec, "type");
    let has_external_ips = spec["externalIPs"]
        .as_array()
        .is_some_and(|ips| !ips.is_empty());
    let external = matches!(service_type, "NodePort" | "LoadBalancer")
        || (service_type == "ClusterIP" && has_external_ips);
    let external_policy = text(spec, "externalTrafficPolicy");
    if !external {
        if !external_policy.is_empty() {
            errors.push(FieldError::invalid(
                path.child("externalTrafficPolicy"),
                external_policy,
                "may only be set for externally-accessible services",
            ));
        }
    } else if external_policy.is_empty() {
        errors.push(FieldError::required(
            path.child("externalTrafficPolicy"),
            "",
        ));
    } else if !matches!(external_policy, "Cluster" | "Local") {
        errors.push(FieldError::not_supported(
            path.child("externalTrafficPolicy"),
            external_policy,
            &["Cluster", "Local"],
        ));
    }
    let health_port = spec["healthCheckNodePort"].as_i64().unwrap_or(0);
    if health_port != 0 && !(service_type == "LoadBalancer" && external_policy == "Local") {
        errors.push(FieldError::invalid(
            path.child("healthCheckNodePort"),
            health_port,
            "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'",
        ));
    }
    match spec["internalTrafficPolicy"].as_str() {
        None if matches!(service_type, "NodePort" | "LoadBalancer" | "ClusterIP") => {
            errors.push(FieldError::required(
                path.child("internalTrafficPolicy"),
                "",
            ));
        }
        Some(policy) if !matches!(policy, "Cluster" | "Local") => {
            errors.push(FieldError::not_supported(
                path.child("internalTrafficPolicy"),
                policy,
                &["Cluster", "Local"],
            ));
        }
        _ => {}
    }
    errors
}

/// A Service update: allocated cluster IPs may not change (unless to or from ExternalName).
pub fn validate_service_update(new: &Value, old: &Value) -> Vec<FieldError> {
    let (new_spec, old_spec) = (&new["spec"], &old["spec"]);
    if text(new_spec, "type") == "ExternalName" || text(old_spec, "type") == "ExternalName" {
        return Vec::new();
    }
    if is_headless(new_spec) && is_headless(old_spec) {
        return Vec::new();
    }
    let (new_ips, old_ips) = (cluster_ips(new_spec), cluster_ips(old_spec));
    let ips_path = Path::new("spec").child("clusterIPs");
    let shown = serde_json::json!(new_ips);
    if old_ips.is_empty() {
        return Vec::new();
    }
    match new_ips.first() {
        None => vec![FieldError::invalid(
            ips_path.index(0),
            shown,
            "primary clusterIP can not be unset",
        )],
        Some(first) if *first != old_ips[0] => {
            vec![FieldError::invalid(
                ips_path.index(0),
                shown,
                "may not change once set",
            )]
        }
        Some(_) if new_ips.len() == old_ips.len() => new_ips
            .iter()
            .zip(old_ips.iter())
            .enumerate()
            .filter(|(_, (n, o))| n != o)
            .map(|(i, _)| {
                FieldError::invalid(ips_path.index(i), shown.clone(), "may not change once set")
            })
            .collect(),
        Some(_) => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn messages(errors: Vec<FieldError>) -> Vec<String> {
        errors.iter().map(ToString::to_string).collect()
    }

    fn service(ports: Value) -> Value {
        json!({"spec": {"type": "ClusterIP", "ports": ports, "sessionAffinity": "None", "internalTrafficPolicy": "Cluster"}})
    }

    #[test]
    fn port_rules() {
        let ok = service(json!([{"port": 80, "protocol": "TCP", "targetPort": 8080}]));
        assert_eq!(messages(validate_service(&ok)), Vec::<String>::new());
        let bad = service(json!([
            {"port": 80, "protocol": "TCP", "targetPort": 80},
            {"name": "b", "port": 70000, "protocol": "ICMP", "targetPort": 80},
        ]));
        assert_eq!(
            messages(validate_service(&bad)),
            vec![
                "spec.ports[0].name: Required value",
                "spec.ports[1].port: Invalid value: 70000: must be between 1 and 65535, inclusive",
                "spec.ports[1].protocol: Unsupported value: \"ICMP\": supported values: \"SCTP\", \"TCP\", \"UDP\"",
            ]
        );
        let no_ports = service(json!([]));
        assert_eq!(
            messages(validate_service(&no_ports)),
            vec!["spec.ports: Required value"]
        );
    }

    #[test]
    fn cluster_ip_is_fixed() {
        let old = json!({"spec": {"type": "ClusterIP", "clusterIP": "10.0.0.5", "clusterIPs": ["10.0.0.5"]}});
        let new = json!({"spec": {"type": "ClusterIP", "clusterIP": "10.0.0.6", "clusterIPs": ["10.0.0.6"]}});
        assert_eq!(
            messages(validate_service_update(&new, &old)),
            vec!["spec.clusterIPs[0]: Invalid value: []string{\"10.0.0.6\"}: may not change once set"]
        );
    }
}
