//! networking.k8s.io/v1 Ingresses, IngressClasses and NetworkPolicies.

use serde_json::Value;

use super::container::validate_protocol;
use super::identifiers;
use super::label_selector::validate_label_selector;
use crate::field_error::{FieldError, Path};

fn text<'a>(value: &'a Value, key: &str) -> &'a str {
    value.get(key).and_then(Value::as_str).unwrap_or("")
}

fn items(value: &Value) -> impl Iterator<Item = (usize, &Value)> {
    value.as_array().into_iter().flatten().enumerate()
}

pub fn validate_ingress(obj: &Value) -> Vec<FieldError> {
    let spec = &obj["spec"];
    let path = Path::new("spec");
    let mut errors = Vec::new();
    let rules_count = spec["rules"].as_array().map_or(0, Vec::len);
    if spec["defaultBackend"].is_null() && rules_count == 0 {
        errors.push(FieldError::invalid(
            &path,
            spec["rules"].clone(),
            "either `defaultBackend` or `rules` must be specified",
        ));
    }
    if !spec["defaultBackend"].is_null() {
        errors.extend(validate_backend(
            &spec["defaultBackend"],
            &path.child("defaultBackend"),
        ));
    }
    for (i, rule) in items(&spec["rules"]) {
        let here = path.child("rules").index(i);
        let host = text(rule, "host");
        if !host.is_empty() {
            if identifiers::is_ip(host) {
                errors.push(FieldError::invalid(
                    here.child("host"),
                    host,
                    "must be a DNS name, not an IP address",
                ));
            }
            let checked = host.strip_prefix("*.").unwrap_or(host);
            for message in identifiers::dns1123_subdomain(checked) {
                errors.push(FieldError::invalid(here.child("host"), host, message));
            }
        }
        let http = &rule["http"];
        if http.is_null() {
            continue;
        }
        let paths_path = here.child("http").child("paths");
        if http["paths"].as_array().is_none_or(Vec::is_empty) {
            errors.push(FieldError::required(&paths_path, ""));
        }
        for (p, http_path) in items(&http["paths"]) {
            let at = paths_path.index(p);
            let path_text = text(http_path, "path");
            match text(http_path, "pathType") {
                "" => errors.push(FieldError::required(
                    at.child("pathType"),
                    "pathType must be specified",
                )),
                "Exact" | "Prefix" => {
                    if !path_text.starts_with('/') {
                        errors.push(FieldError::invalid(
                            at.child("path"),
                            path_text,
                            "must be an absolute path",
                        ));
                    }
                }
                "ImplementationSpecific" => {
                    if !path_text.is_empty() && !path_text.starts_with('/') {
                        errors.push(FieldError::invalid(
                            at.child("path"),
                            path_text,
                            "must be an absolute path",
                        ));
                    }
                }
                other => errors.push(FieldError::not_supported(
                    at.child("pathType"),
                    other,
                    &["Exact", "ImplementationSpecific", "Prefix"],
                )),
            }
            errors.extend(validate_backend(
                &http_path["backend"],
                &at.child("backend"),
            ));
        }
    }
    for (i, tls) in items(&spec["tls"]) {
        for (h, host) in items(&tls["hosts"]) {
            let host = host.as_str().unwrap_or("");
            let checked = host.strip_prefix("*.").unwrap_or(host);
            for message in identifiers::dns1123_subdomain(checked) {
                errors.push(FieldError::invalid(
                    path.child("tls").index(i).child("hosts").index(h),
                    host,
                    message,
                ));
            }
        }
    }
    if let Some(class) = spec["ingressClassName"].as_str() {
        for message in identifiers::dns1123_subdomain(class) {
            errors.push(FieldError::invalid(
                path.child("ingressClassName"),
                class,
                message,
            ));
        }
    }
    errors
}

fn validate_backend(backend: &Value, path: &Path) -> Vec<FieldError> {
    let (resource, service) = (&backend["resource"], &backend["service"]);
    match (resource.is_null(), service.is_null()) {
        (false, false) => vec![FieldError::invalid(
            path,
            "",
            "cannot set both resource and service backends",
        )],
        (false, true) => {
            let mut errors = Vec::new();
            for field in ["kind", "name"] {
                if text(resource, field).is_empty() {
                    errors.push(FieldError::required(
                        path.child("resource").child(field),
                        "",
                    ));
                }
            }
            errors
        }
        (true, false) => {
            let mut errors = Vec::new();
            let service_path = path.child("service");
            let name = text(service, "name");
            if name.is_empty() {
                errors.push(FieldError::required(service_path.child("name"), ""));
            } else {
                for message in identifiers::dns1035_label(name) {
                    errors.push(FieldError::invalid(
                        service_path.child("name"),
                        name,
                        message,
                    ));
                }
            }
            let port = &service["port"];
            let port_name = text(port, "name");
            let port_number = port["number"].as_i64().unwrap_or(0);
            let port_path = service_path.child("port");
            if !port_name.is_empty() && port_number != 0 {
                errors.push(FieldError::invalid(
                    path,
                    "",
                    "cannot set both port name & port number",
                ));
            } else if !port_name.is_empty() {
                for message in identifiers::port_name(port_name) {
                    errors.push(FieldError::invalid(
                        port_path.child("name"),
                        port_name,
                        message,
                    ));
                }
            } else if port_number != 0 {
                for message in identifiers::port_number(port_number) {
                    errors.push(FieldError::invalid(
                        port_path.child("number"),
                        port_number,
                        message,
                    ));
                }
            } else {
                errors.push(FieldError::required(
                    path,
                    "port name or number is required",
                ));
            }
            errors
        }
        (true, true) => vec![FieldError::invalid(
            path,
            "",
            "resource or service backend is required",
        )],
    }
}

pub fn validate_ingress_class(obj: &Value) -> Vec<FieldError> {
    let controller = text(&obj["spec"], "controller");
    let path = Path::new("spec").child("controller");
    if controller.is_empty() {
        return vec![FieldError::required(path, "")];
    }
    identifiers::qualified_name(controller)
        .into_iter()
        .map(|message| FieldError::invalid(&path, controller, message))
        .collect()
}

pub fn validate_network_policy(obj: &Value) -> Vec<FieldError> {
    let spec = &obj["spec"];
    let path = Path::new("spec");
    let mut errors = validate_label_selector(&spec["podSelector"], &path.child("podSelector"));
    for (direction, peers) in [("ingress", "from"), ("egress", "to")] {
        for (i, rule) in items(&spec[direction]) {
            let here = path.child(direction).index(i);
            for (p, port) in items(&rule["ports"]) {
                errors.extend(validate_policy_port(port, &here.child("ports").index(p)));
            }
            for (p, peer) in items(&rule[peers]) {
                errors.extend(validate_peer(peer, &here.child(peers).index(p)));
            }
        }
    }
    let types = spec["policyTypes"].as_array().map_or(0, Vec::len);
    if types > 2 {
        errors.push(FieldError::invalid(
            path.child("policyTypes"),
            spec["policyTypes"].clone(),
            "may not specify more than two policyTypes",
        ));
    }
    for (i, policy_type) in items(&spec["policyTypes"]) {
        let policy_type = policy_type.as_str().unwrap_or("");
        if !matches!(policy_type, "Ingress" | "Egress") {
            errors.push(FieldError::not_supported(
                path.child("policyTypes").index(i),
                policy_type,
                &["Ingress", "Egress"],
            ));
        }
    }
    errors
}

fn validate_policy_port(port: &Value, path: &Path) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if !port["protocol"].is_null() {
        errors.extend(validate_protocol(port, path));
    }
    match &port["port"] {
        Value::Null => {
            if !port["endPort"].is_null() {
                errors.push(FieldError::required(
                    path.child("port"),
                    "must be specified when endPort is specified",
                ));
            }
        }
        Value::String(name) => {
            for message in identifiers::port_name(name) {
                errors.push(FieldError::invalid(
                    path.child("port"),
                    name.as_str(),
                    message,
                ));
            }
            if !port["endPort"].is_null() {
                errors.push(FieldError::forbidden(
                    path.child("endPort"),
                    "may not be specified when `port` is non-numeric",
                ));
            }
        }
        number => {
            let number = number.as_i64().unwrap_or(0);
            for message in identifiers::port_number(number) {
                errors.push(FieldError::invalid(path.child("port"), number, message));
            }
            if let Some(end) = port["endPort"].as_i64() {
                if end < number {
                    errors.push(FieldError::invalid(
                        path.child("endPort"),
                        end,
                        "must be greater than or equal to `port`",
                    ));
                }
                for message in identifiers::port_number(end) {
                    errors.push(FieldError::invalid(path.child("endPort"), end, message));
                }
            }
        }
    }
    errors
}

fn validate_peer(peer: &Value, path: &Path) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let mut count = 0;
    for selector in ["podSelector", "namespaceSelector"] {
        if !peer[selector].is_null() {
            count += 1;
            errors.extend(validate_label_selector(
                &peer[selector],
                &path.child(selector),
            ));
        }
    }
    let block = &peer["ipBlock"];
    if !block.is_null() {
        if count > 0 {
            errors.push(FieldError::forbidden(
                path,
                "may not specify both ipBlock and another peer",
            ));
        }
        count += 1;
        let cidr = text(block, "cidr");
        if cidr.is_empty() {
            errors.push(FieldError::required(
                path.child("ipBlock").child("cidr"),
                "",
            ));
        } else if !identifiers::is_cidr(cidr) {
            errors.push(FieldError::invalid(
                path.child("ipBlock").child("cidr"),
                cidr,
                "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)",
            ));
        }
    }
    if count == 0 {
        errors.push(FieldError::required(path, "must specify a peer"));
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ingress_paths_need_types() {
        let ingress = json!({"spec": {"rules": [{"host": "example.com", "http": {"paths": [
            {"path": "/", "backend": {"service": {"name": "web", "port": {"number": 80}}}}
        ]}}]}});
        let got: Vec<String> = validate_ingress(&ingress)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            got,
            vec![
                "spec.rules[0].http.paths[0].pathType: Required value: pathType must be specified"
            ]
        );
    }
}
