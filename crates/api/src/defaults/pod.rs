//! Pods, pod specs, pod templates, containers and volumes, as upstream's core/v1 defaults.

use serde_json::{json, Value};

use super::{fill, is_unset, items_at, object_at};

/// A Pod: its spec, service links, and requests copied from limits.
pub fn default_pod(pod: &mut Value) {
    if let Some(spec) = object_at(pod, "spec") {
        default_pod_spec(spec);
        fill(spec, "enableServiceLinks", Value::Bool(true));
        for list in ["containers", "initContainers"] {
            for container in items_at(spec, list) {
                requests_from_limits(container);
            }
        }
        if spec["hostNetwork"].as_bool() == Some(true) {
            for list in ["containers", "initContainers"] {
                for container in items_at(spec, list) {
                    for port in items_at(container, "ports") {
                        let container_port = port["containerPort"].clone();
                        fill(port, "hostPort", container_port);
                    }
                }
            }
        }
    }
}

/// A pod template (`spec.template` of controllers).
pub fn default_pod_template(template: &mut Value) {
    if let Some(spec) = object_at(template, "spec") {
        default_pod_spec(spec);
    }
}

/// Upstream's `SetDefaults_PodSpec` and everything nested in a pod spec.
pub fn default_pod_spec(spec: &mut Value) {
    fill(spec, "dnsPolicy", "ClusterFirst".into());
    fill(spec, "restartPolicy", "Always".into());
    fill(spec, "securityContext", json!({}));
    fill(spec, "terminationGracePeriodSeconds", 30.into());
    fill(spec, "schedulerName", "default-scheduler".into());
    if is_unset(spec, "serviceAccountName") && !is_unset(spec, "serviceAccount") {
        let account = spec["serviceAccount"].clone();
        fill(spec, "serviceAccountName", account);
    }
    for list in ["containers", "initContainers", "ephemeralContainers"] {
        for container in items_at(spec, list) {
            default_container(container);
        }
    }
    for volume in items_at(spec, "volumes") {
        default_volume(volume);
    }
}

fn default_container(container: &mut Value) {
    if is_unset(container, "imagePullPolicy") {
        let image = container["image"].as_str().unwrap_or("");
        let policy = if image_tag(image) == Some("latest") {
            "Always"
        } else {
            "IfNotPresent"
        };
        fill(container, "imagePullPolicy", policy.into());
    }
    fill(
        container,
        "terminationMessagePath",
        "/dev/termination-log".into(),
    );
    fill(container, "terminationMessagePolicy", "File".into());
    fill(container, "resources", json!({}));
    for port in items_at(container, "ports") {
        fill(port, "protocol", "TCP".into());
    }
    for variable in items_at(container, "env") {
        if let Some(field_ref) = variable
            .get_mut("valueFrom")
            .and_then(|v| v.get_mut("fieldRef"))
        {
            fill(field_ref, "apiVersion", "v1".into());
        }
    }
    for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
        if let Some(probe) = container.get_mut(probe).filter(|p| p.is_object()) {
            default_probe(probe);
        }
    }
    if let Some(lifecycle) = container.get_mut("lifecycle") {
        for hook in ["postStart", "preStop"] {
            if let Some(get) = lifecycle.get_mut(hook).and_then(|h| h.get_mut("httpGet")) {
                default_http_get(get);
            }
        }
    }
}

/// The tag an image reference names: "latest" when it names neither tag nor digest.
fn image_tag(image: &str) -> Option<&str> {
    let without_digest = match image.split_once('@') {
        Some((name, _)) => name,
        None => image,
    };
    let last_segment = without_digest.rsplit('/').next().unwrap_or("");
    match last_segment.split_once(':') {
        Some((_, tag)) => Some(tag),
        None if image.contains('@') => None,
        None => Some("latest"),
    }
}

fn default_probe(probe: &mut Value) {
    fill(probe, "timeoutSeconds", 1.into());
    fill(probe, "periodSeconds", 10.into());
    fill(probe, "successThreshold", 1.into());
    fill(probe, "failureThreshold", 3.into());
    if let Some(get) = probe.get_mut("httpGet") {
        default_http_get(get);
    }
}

fn default_http_get(get: &mut Value) {
    fill(get, "path", "/".into());
    fill(get, "scheme", "HTTP".into());
}

/// The mode given to projected files when none is said: 0644.
const DEFAULT_FILE_MODE: i64 = 0o644;

fn default_volume(volume: &mut Value) {
    let Some(fields) = volume.as_object() else {
        return;
    };
    let has_source = fields
        .iter()
        .any(|(key, value)| key != "name" && !value.is_null());
    if !has_source {
        fill(volume, "emptyDir", json!({}));
    }
    for source in ["secret", "configMap", "downwardAPI", "projected"] {
        if let Some(source) = volume.get_mut(source).filter(|s| s.is_object()) {
            fill(source, "defaultMode", DEFAULT_FILE_MODE.into());
        }
    }
    if let Some(host_path) = volume.get_mut("hostPath").filter(|s| s.is_object()) {
        if host_path.get("type").is_none_or(Value::is_null) {
            host_path["type"] = "".into();
        }
    }
    if let Some(downward) = volume.get_mut("downwardAPI") {
        for item in items_at(downward, "items") {
            if let Some(field_ref) = item.get_mut("fieldRef") {
                fill(field_ref, "apiVersion", "v1".into());
            }
        }
    }
    if let Some(claim) = volume.pointer_mut("/ephemeral/volumeClaimTemplate/spec") {
        fill(claim, "volumeMode", "Filesystem".into());
    }
}

/// Requests left out default to the limits (upstream's `SetDefaults_Pod`).
fn requests_from_limits(container: &mut Value) {
    let Some(limits) = container
        .pointer("/resources/limits")
        .and_then(Value::as_object)
        .cloned()
    else {
        return;
    };
    let Some(resources) = object_at(container, "resources") else {
        return;
    };
    let Some(requests) = object_at(resources, "requests") else {
        return;
    };
    for (name, quantity) in limits {
        fill(requests, &name, quantity);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pod_defaults() {
        let mut pod = json!({"spec": {
            "containers": [
                {"name": "a", "image": "nginx", "ports": [{"containerPort": 80}], "resources": {"limits": {"cpu": "1"}},
                 "readinessProbe": {"httpGet": {"port": 80}}},
                {"name": "b", "image": "nginx:1.25"},
                {"name": "c", "image": "registry:5000/app@sha256:abc"},
            ],
            "volumes": [{"name": "v"}, {"name": "s", "secret": {"secretName": "x"}}, {"name": "h", "hostPath": {"path": "/x"}}],
        }});
        default_pod(&mut pod);
        let spec = &pod["spec"];
        assert_eq!(spec["restartPolicy"], "Always");
        assert_eq!(spec["dnsPolicy"], "ClusterFirst");
        assert_eq!(spec["schedulerName"], "default-scheduler");
        assert_eq!(spec["terminationGracePeriodSeconds"], 30);
        assert_eq!(spec["enableServiceLinks"], true);
        assert_eq!(spec["securityContext"], json!({}));
        let a = &spec["containers"][0];
        assert_eq!(a["imagePullPolicy"], "Always");
        assert_eq!(a["terminationMessagePath"], "/dev/termination-log");
        assert_eq!(a["terminationMessagePolicy"], "File");
        assert_eq!(a["ports"][0]["protocol"], "TCP");
        assert_eq!(a["resources"]["requests"]["cpu"], "1");
        assert_eq!(a["readinessProbe"]["httpGet"]["path"], "/");
        assert_eq!(a["readinessProbe"]["periodSeconds"], 10);
        assert_eq!(spec["containers"][1]["imagePullPolicy"], "IfNotPresent");
        assert_eq!(spec["containers"][1]["resources"], json!({}));
        assert_eq!(spec["containers"][2]["imagePullPolicy"], "IfNotPresent");
        assert_eq!(spec["volumes"][0]["emptyDir"], json!({}));
        assert_eq!(spec["volumes"][1]["secret"]["defaultMode"], 420);
        assert_eq!(spec["volumes"][2]["hostPath"]["type"], "");
    }

    #[test]
    fn image_tags() {
        assert_eq!(image_tag("nginx"), Some("latest"));
        assert_eq!(image_tag("localhost:5000/nginx"), Some("latest"));
        assert_eq!(image_tag("nginx:latest"), Some("latest"));
        assert_eq!(image_tag("nginx:1"), Some("1"));
        assert_eq!(image_tag("nginx@sha256:00"), None);
    }
}
