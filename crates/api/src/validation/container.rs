//! Containers of a pod spec (regular and init): names, image, ports, env, mounts, pull policy,
//! resources, probes and lifecycle hooks, as upstream's core validation.

use serde_json::Value;

use super::identifiers;
use super::object_meta::nonnegative;
use super::resources::validate_container_resources;
use crate::field_error::{FieldError, Path};

/// Which list a container comes from: the rules differ a little.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContainerList {
    Regular,
    Init,
}

fn text<'a>(value: &'a Value, key: &str) -> &'a str {
    value.get(key).and_then(Value::as_str).unwrap_or("")
}

fn items(value: &Value) -> impl Iterator<Item = (usize, &Value)> {
    value.as_array().into_iter().flatten().enumerate()
}

/// `spec.containers`, then `spec.initContainers` (their names may not repeat the regular ones).
pub fn validate_containers(spec: &Value, volumes: &[String], path: &Path) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let containers_path = path.child("containers");
    if spec["containers"].as_array().is_none_or(Vec::is_empty) {
        errors.push(FieldError::required(&containers_path, ""));
    }
    let mut names: Vec<&str> = Vec::new();
    for (i, container) in items(&spec["containers"]) {
        let here = containers_path.index(i);
        errors.extend(validate_container(
            container,
            volumes,
            ContainerList::Regular,
            &here,
        ));
        let name = text(container, "name");
        if names.contains(&name) {
            errors.push(FieldError::duplicate(here.child("name"), name));
        } else {
            names.push(name);
        }
    }
    errors.extend(host_port_conflicts(&spec["containers"], &containers_path));
    let init_path = path.child("initContainers");
    for (i, container) in items(&spec["initContainers"]) {
        let here = init_path.index(i);
        errors.extend(validate_container(
            container,
            volumes,
            ContainerList::Init,
            &here,
        ));
        let name = text(container, "name");
        if names.contains(&name) {
            errors.push(FieldError::duplicate(here.child("name"), name));
        } else {
            names.push(name);
        }
    }
    errors
}

fn validate_container(
    container: &Value,
    volumes: &[String],
    list: ContainerList,
    path: &Path,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let name = text(container, "name");
    if name.is_empty() {
        errors.push(FieldError::required(path.child("name"), ""));
    } else {
        for message in identifiers::dns1123_label(name) {
            errors.push(FieldError::invalid(path.child("name"), name, message));
        }
    }
    if text(container, "image").is_empty() {
        errors.push(FieldError::required(path.child("image"), ""));
    }
    match text(container, "terminationMessagePolicy") {
        "File" | "FallbackToLogsOnError" => {}
        "" => errors.push(FieldError::required(
            path.child("terminationMessagePolicy"),
            "",
        )),
        other => errors.push(FieldError::not_supported(
            path.child("terminationMessagePolicy"),
            other,
            &["File", "FallbackToLogsOnError"],
        )),
    }
    errors.extend(validate_ports(&container["ports"], &path.child("ports")));
    errors.extend(validate_env(&container["env"], &path.child("env")));
    errors.extend(validate_env_from(
        &container["envFrom"],
        &path.child("envFrom"),
    ));
    errors.extend(validate_volume_mounts(
        &container["volumeMounts"],
        volumes,
        &path.child("volumeMounts"),
    ));
    match text(container, "imagePullPolicy") {
        "Always" | "IfNotPresent" | "Never" => {}
        "" => errors.push(FieldError::required(path.child("imagePullPolicy"), "")),
        other => errors.push(FieldError::not_supported(
            path.child("imagePullPolicy"),
            other,
            &["Always", "IfNotPresent", "Never"],
        )),
    }
    errors.extend(validate_container_resources(
        &container["resources"],
        &path.child("resources"),
    ));
    errors.extend(validate_security_context(
        &container["securityContext"],
        &path.child("securityContext"),
    ));
    let restart_policy = &container["restartPolicy"];
    let sidecar = restart_policy.as_str() == Some("Always");
    match list {
        ContainerList::Regular => {
            if !restart_policy.is_null() {
                errors.push(FieldError::forbidden(
                    path.child("restartPolicy"),
                    "may not be set for non-init containers",
                ));
            }
        }
        ContainerList::Init => {
            if let Some(policy) = restart_policy.as_str().filter(|p| *p != "Always") {
                errors.push(FieldError::not_supported(
                    path.child("restartPolicy"),
                    policy,
                    &["Always"],
                ));
            }
        }
    }
    if list == ContainerList::Init && !sidecar {
        for field in [
            "lifecycle",
            "livenessProbe",
            "readinessProbe",
            "startupProbe",
        ] {
            if !container[field].is_null() {
                errors.push(FieldError::forbidden(
                    path.child(field),
                    "may not be set for init containers without restartPolicy=Always",
                ));
            }
        }
        return errors;
    }
    let lifecycle = &container["lifecycle"];
    for hook in ["postStart", "preStop"] {
        if !lifecycle[hook].is_null() {
            errors.extend(validate_handler(
                &lifecycle[hook],
                &path.child("lifecycle").child(hook),
            ));
        }
    }
    for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
        errors.extend(validate_probe(&container[probe], probe, &path.child(probe)));
    }
    errors
}

fn validate_ports(ports: &Value, path: &Path) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let mut names: Vec<&str> = Vec::new();
    for (i, port) in items(ports) {
        let here = path.index(i);
        let name = text(port, "name");
        if !name.is_empty() {
            let messages = identifiers::port_name(name);
            if !messages.is_empty() {
                for message in messages {
                    errors.push(FieldError::invalid(here.child("name"), name, message));
                }
            } else if names.contains(&name) {
                errors.push(FieldError::duplicate(here.child("name"), name));
            } else {
                names.push(name);
            }
        }
        let container_port = port["containerPort"].as_i64().unwrap_or(0);
        if container_port == 0 {
            errors.push(FieldError::required(here.child("containerPort"), ""));
        } else {
            for message in identifiers::port_number(container_port) {
                errors.push(FieldError::invalid(
                    here.child("containerPort"),
                    container_port,
                    message,
                ));
            }
        }
        let host_port = port["hostPort"].as_i64().unwrap_or(0);
        if host_port != 0 {
            for message in identifiers::port_number(host_port) {
                errors.push(FieldError::invalid(
                    here.child("hostPort"),
                    host_port,
                    message,
                ));
            }
        }
        errors.extend(validate_protocol(port, &here));
    }
    errors
}

/// `protocol` of a port: TCP, UDP or SCTP.
pub fn validate_protocol(port: &Value, path: &Path) -> Vec<FieldError> {
    match text(port, "protocol") {
        "TCP" | "UDP" | "SCTP" => Vec::new(),
        "" => vec![FieldError::required(path.child("protocol"), "")],
        other => vec![FieldError::not_supported(
            path.child("protocol"),
            other,
            &["SCTP", "TCP", "UDP"],
        )],
    }
}

fn host_port_conflicts(containers: &Value, path: &Path) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    for (c, container) in items(containers) {
        for (p, port) in items(&container["ports"]) {
            let host_port = port["hostPort"].as_i64().unwrap_or(0);
            if host_port == 0 {
                continue;
            }
            let key = format!(
                "{}/{}/{host_port}",
                text(port, "protocol"),
                text(port, "hostIP")
            );
            if seen.contains(&key) {
                let here = path.index(c).child("ports").index(p).child("hostPort");
                errors.push(FieldError::duplicate(here, key));
            } else {
                seen.push(key);
            }
        }
    }
    errors
}

fn validate_env(env: &Value, path: &Path) -> Vec<FieldError> {
    let mut errors = Vec::new();
    for (i, variable) in items(env) {
        let here = path.index(i);
        let name = text(variable, "name");
        if name.is_empty() {
            errors.push(FieldError::required(here.child("name"), ""));
        }
        for message in identifiers::env_var_name(name) {
            errors.push(FieldError::invalid(here.child("name"), name, message));
        }
        errors.extend(validate_env_value_from(variable, &here.child("valueFrom")));
    }
    errors
}

const DOWNWARD_ENV_FIELDS: [&str; 9] = [
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
    "spec.nodeName",
    "spec.serviceAccountName",
    "status.hostIP",
    "status.hostIPs",
    "status.podIP",
    "status.podIPs",
];

fn validate_env_value_from(variable: &Value, path: &Path) -> Vec<FieldError> {
    let source = &variable["valueFrom"];
    if source.is_null() {
        return Vec::new();
    }
    let mut errors = Vec::new();
    let mut sources = 0;
    if !source["fieldRef"].is_null() {
        sources += 1;
        errors.extend(validate_field_ref(
            &source["fieldRef"],
            &path.child("fieldRef"),
        ));
    }
    if !source["resourceFieldRef"].is_null() {
        sources += 1;
        if text(&source["resourceFieldRef"], "resource").is_empty() {
            errors.push(FieldError::required(
                path.child("resourceFieldRef").child("resource"),
                "",
            ));
        }
    }
    for reference in ["configMapKeyRef", "secretKeyRef"] {
        if !source[reference].is_null() {
            sources += 1;
            errors.extend(validate_key_selector(
                &source[reference],
                &path.child(reference),
            ));
        }
    }
    let has_value = !text(variable, "value").is_empty();
    if sources == 0 {
        errors.push(FieldError::invalid(
            path,
            "",
            "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`",
        ));
    } else if has_value {
        errors.push(FieldError::invalid(
            path,
            "",
            "may not be specified when `value` is not empty",
        ));
    } else if sources > 1 {
        errors.push(FieldError::invalid(
            path,
            "",
            "may not have more than one field specified at a time",
        ));
    }
    errors
}

fn validate_field_ref(reference: &Value, path: &Path) -> Vec<FieldError> {
    if text(reference, "apiVersion").is_empty() {
        return vec![FieldError::required(path.child("apiVersion"), "")];
    }
    let field_path = text(reference, "fieldPath");
    if field_path.is_empty() {
        return vec![FieldError::required(path.child("fieldPath"), "")];
    }
    if let Some((base, subscript)) = field_path
        .strip_suffix("']")
        .and_then(|p| p.split_once("['"))
    {
        let key = match base {
            "metadata.annotations" => subscript.to_lowercase(),
            "metadata.labels" => subscript.to_string(),
            _ => {
                return vec![FieldError::invalid(
                    path,
                    base,
                    "does not support subscript",
                )]
            }
        };
        return identifiers::qualified_name(&key)
            .into_iter()
            .map(|message| FieldError::invalid(path, key.as_str(), message))
            .collect();
    }
    if DOWNWARD_ENV_FIELDS.contains(&field_path) {
        Vec::new()
    } else {
        vec![FieldError::not_supported(
            path.child("fieldPath"),
            field_path,
            &DOWNWARD_ENV_FIELDS,
        )]
    }
}

fn validate_key_selector(selector: &Value, path: &Path) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let name = text(selector, "name");
    for message in identifiers::dns1123_subdomain(name) {
        errors.push(FieldError::invalid(path.child("name"), name, message));
    }
    let key = text(selector, "key");
    if key.is_empty() {
        errors.push(FieldError::required(path.child("key"), ""));
    } else {
        for message in identifiers::config_map_key(key) {
            errors.push(FieldError::invalid(path.child("key"), key, message));
        }
    }
    errors
}

fn validate_env_from(sources: &Value, path: &Path) -> Vec<FieldError> {
    let mut errors = Vec::new();
    for (i, source) in items(sources) {
        let here = path.index(i);
        let prefix = text(source, "prefix");
        if !prefix.is_empty() {
            for message in identifiers::env_var_name(prefix) {
                errors.push(FieldError::invalid(here.child("prefix"), prefix, message));
            }
        }
        let mut count = 0;
        for reference in ["configMapRef", "secretRef"] {
            if !source[reference].is_null() {
                count += 1;
                let name = text(&source[reference], "name");
                for message in identifiers::dns1123_subdomain(name) {
                    errors.push(FieldError::invalid(
                        here.child(reference).child("name"),
                        name,
                        message,
                    ));
                }
            }
        }
        if count == 0 {
            errors.push(FieldError::invalid(
                &here,
                "",
                "must specify one of: `configMapRef` or `secretRef`",
            ));
        } else if count > 1 {
            errors.push(FieldError::invalid(
                &here,
                "",
                "may not have more than one field specified at a time",
            ));
        }
    }
    errors
}

fn validate_volume_mounts(mounts: &Value, volumes: &[String], path: &Path) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let mut mount_paths: Vec<&str> = Vec::new();
    for (i, mount) in items(mounts) {
        let here = path.index(i);
        let name = text(mount, "name");
        if name.is_empty() {
            errors.push(FieldError::required(here.child("name"), ""));
        }
        if !volumes.iter().any(|v| v == name) {
            errors.push(FieldError::not_found(here.child("name"), name));
        }
        let mount_path = text(mount, "mountPath");
        if mount_path.is_empty() {
            errors.push(FieldError::required(here.child("mountPath"), ""));
        }
        if mount_paths.contains(&mount_path) {
            errors.push(FieldError::invalid(
                here.child("mountPath"),
                mount_path,
                "must be unique",
            ));
        }
        mount_paths.push(mount_path);
        let sub_path = text(mount, "subPath");
        if !sub_path.is_empty() {
            errors.extend(local_descending_path(sub_path, &path.child("subPath")));
        }
        let sub_path_expr = text(mount, "subPathExpr");
        if !sub_path_expr.is_empty() {
            if !sub_path.is_empty() {
                errors.push(FieldError::invalid(
                    here.child("subPathExpr"),
                    sub_path_expr,
                    "subPathExpr and subPath are mutually exclusive",
                ));
            }
            errors.extend(local_descending_path(
                sub_path_expr,
                &path.child("subPathExpr"),
            ));
        }
        if let Some(propagation) = mount["mountPropagation"].as_str() {
            if !matches!(propagation, "None" | "HostToContainer" | "Bidirectional") {
                errors.push(FieldError::not_supported(
                    path.child("mountPropagation"),
                    propagation,
                    &["Bidirectional", "HostToContainer", "None"],
                ));
            }
        }
    }
    errors
}

/// A relative path without `..` segments (subPath, item paths).
pub fn local_descending_path(target: &str, path: &Path) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if target.starts_with('/') {
        errors.push(FieldError::invalid(path, target, "must be a relative path"));
    }
    errors.extend(no_backsteps(target, path));
    errors
}

/// A path without `..` segments.
pub fn no_backsteps(target: &str, path: &Path) -> Vec<FieldError> {
    if target.split('/').any(|part| part == "..") {
        vec![FieldError::invalid(path, target, "must not contain '..'")]
    } else {
        Vec::new()
    }
}

fn validate_probe(probe: &Value, kind: &str, path: &Path) -> Vec<FieldError> {
    if probe.is_null() {
        return Vec::new();
    }
    let mut errors = validate_handler(probe, path);
    for field in [
        "initialDelaySeconds",
        "timeoutSeconds",
        "periodSeconds",
        "successThreshold",
        "failureThreshold",
    ] {
        errors.extend(nonnegative(
            probe[field].as_i64().unwrap_or(0),
            &path.child(field),
        ));
    }
    let grace = &probe["terminationGracePeriodSeconds"];
    if let Some(seconds) = grace.as_i64().filter(|s| *s <= 0) {
        errors.push(FieldError::invalid(
            path.child("terminationGracePeriodSeconds"),
            seconds,
            "must be greater than 0",
        ));
    }
    if kind == "readinessProbe" {
        if !grace.is_null() {
            errors.push(FieldError::invalid(
                path.child("terminationGracePeriodSeconds"),
                grace.clone(),
                "must not be set for readinessProbes",
            ));
        }
    } else if let Some(threshold) = probe["successThreshold"].as_i64().filter(|t| *t != 1) {
        errors.push(FieldError::invalid(
            path.child("successThreshold"),
            threshold,
            "must be 1",
        ));
    }
    errors
}

/// Exactly one of exec, httpGet, tcpSocket, grpc, sleep (probes and lifecycle hooks).
fn validate_handler(handler: &Value, path: &Path) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let mut count = 0;
    for kind in ["exec", "httpGet", "tcpSocket", "grpc", "sleep"] {
        let action = &handler[kind];
        if action.is_null() {
            continue;
        }
        let here = path.child(kind);
        if count > 0 {
            errors.push(FieldError::forbidden(
                here,
                "may not specify more than 1 handler type",
            ));
            continue;
        }
        count += 1;
        match kind {
            "exec" => {
                if action["command"].as_array().is_none_or(Vec::is_empty) {
                    errors.push(FieldError::required(here.child("command"), ""));
                }
            }
            "httpGet" => {
                if text(action, "path").is_empty() {
                    errors.push(FieldError::required(here.child("path"), ""));
                }
                errors.extend(port_number_or_name(&action["port"], &here.child("port")));
                let scheme = text(action, "scheme");
                if !matches!(scheme, "HTTP" | "HTTPS") {
                    errors.push(FieldError::not_supported(
                        here.child("scheme"),
                        scheme,
                        &["HTTP", "HTTPS"],
                    ));
                }
                for (h, header) in items(&action["httpHeaders"]) {
                    let name = text(header, "name");
                    for message in identifiers::http_header_name(name) {
                        errors.push(FieldError::invalid(
                            here.child("httpHeaders").index(h).child("name"),
                            name,
                            message,
                        ));
                    }
                }
            }
            "tcpSocket" => errors.extend(port_number_or_name(&action["port"], &here.child("port"))),
            "grpc" => {
                let port = action["port"].as_i64().unwrap_or(0);
                for message in identifiers::port_number(port) {
                    errors.push(FieldError::invalid(here.child("port"), port, message));
                }
            }
            _ => {
                let seconds = action["seconds"].as_i64().unwrap_or(0);
                if seconds < 0 {
                    errors.push(FieldError::invalid(
                        here.child("seconds"),
                        seconds,
                        "must be non-negative",
                    ));
                }
            }
        }
    }
    if count == 0 {
        errors.push(FieldError::required(path, "must specify a handler type"));
    }
    errors
}

/// An int-or-string port: a number 1-65535 or a port name.
pub fn port_number_or_name(port: &Value, path: &Path) -> Vec<FieldError> {
    let messages = match port {
        Value::String(name) => identifiers::port_name(name),
        other => identifiers::port_number(other.as_i64().unwrap_or(0)),
    };
    messages
        .into_iter()
        .map(|message| FieldError::invalid(path, port.clone(), message))
        .collect()
}

fn validate_security_context(context: &Value, path: &Path) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if context.is_null() {
        return errors;
    }
    for field in ["runAsUser", "runAsGroup"] {
        if let Some(id) = context[field]
            .as_i64()
            .filter(|id| !(0..=i64::from(i32::MAX)).contains(id))
        {
            errors.push(FieldError::invalid(
                path.child(field),
                id,
                identifiers::inclusive_range_message(0, i64::from(i32::MAX)),
            ));
        }
    }
    if context["privileged"].as_bool() == Some(true)
        && context["allowPrivilegeEscalation"].as_bool() == Some(false)
    {
        errors.push(FieldError::invalid(
            path,
            context.clone(),
            "cannot set `allowPrivilegeEscalation` to false and `privileged` to true",
        ));
    }
    errors
}
