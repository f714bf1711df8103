//! Core (v1) kinds other than pods, as upstream's core/v1 `SetDefaults_*`: services, secrets,
//! namespaces, nodes, volumes and claims, endpoints, replication controllers.

use base64::Engine;
use serde_json::{json, Map, Value};

use super::pod::default_pod_template;
use super::{fill, is_unset, items_at, object_at};

/// Upstream's `DefaultClientIPServiceAffinitySeconds` (3 hours).
const CLIENT_IP_AFFINITY_SECONDS: i64 = 10800;

pub fn default_replication_controller(obj: &mut Value) {
    let template_labels = obj.pointer("/spec/template/metadata/labels").cloned();
    let Some(spec) = object_at(obj, "spec") else {
        return;
    };
    fill(spec, "replicas", 1.into());
    if let Some(template) = spec.get_mut("template").filter(|t| t.is_object()) {
        default_pod_template(template);
    }
    let Some(labels) = template_labels.filter(|l| l.as_object().is_some_and(|m| !m.is_empty()))
    else {
        return;
    };
    if spec["selector"].as_object().is_none_or(Map::is_empty) {
        spec["selector"] = labels.clone();
    }
    if let Some(meta) = object_at(obj, "metadata") {
        if meta["labels"].as_object().is_none_or(Map::is_empty) {
            meta["labels"] = labels;
        }
    }
}

pub fn default_service(obj: &mut Value) {
    let Some(spec) = object_at(obj, "spec") else {
        return;
    };
    fill(spec, "sessionAffinity", "None".into());
    match spec["sessionAffinity"].as_str() {
        Some("None") => {
            if let Some(fields) = spec.as_object_mut() {
                fields.remove("sessionAffinityConfig");
            }
        }
        Some("ClientIP")
            if spec
                .pointer("/sessionAffinityConfig/clientIP/timeoutSeconds")
                .is_none_or(Value::is_null) =>
        {
            spec["sessionAffinityConfig"] =
                json!({"clientIP": {"timeoutSeconds": CLIENT_IP_AFFINITY_SECONDS}});
        }
        _ => {}
    }
    fill(spec, "type", "ClusterIP".into());
    for port in items_at(spec, "ports") {
        fill(port, "protocol", "TCP".into());
        if port["targetPort"].is_null() || port["targetPort"] == 0 || port["targetPort"] == "" {
            port["targetPort"] = port["port"].clone();
        }
    }
    let service_type = spec["type"].as_str().unwrap_or("").to_string();
    let has_external_ips = spec["externalIPs"]
        .as_array()
        .is_some_and(|ips| !ips.is_empty());
    let externally_accessible = matches!(service_type.as_str(), "NodePort" | "LoadBalancer")
        || (service_type == "ClusterIP" && has_external_ips);
    if externally_accessible {
        fill(spec, "externalTrafficPolicy", "Cluster".into());
    }
    if matches!(
        service_type.as_str(),
        "ClusterIP" | "NodePort" | "LoadBalancer"
    ) {
        fill(spec, "internalTrafficPolicy", "Cluster".into());
        fill(spec, "ipFamilyPolicy", "SingleStack".into());
        fill(spec, "ipFamilies", json!(["IPv4"]));
    }
    if service_type == "LoadBalancer" {
        fill(spec, "allocateLoadBalancerNodePorts", true.into());
    }
}

/// `type: Opaque`, and `stringData` merged into `data` (as upstream's conversion does).
pub fn default_secret(obj: &mut Value) {
    fill(obj, "type", "Opaque".into());
    let Some(fields) = obj.as_object_mut() else {
        return;
    };
    let Some(Value::Object(string_data)) = fields.remove("stringData") else {
        return;
    };
    if string_data.is_empty() {
        return;
    }
    let Some(data) = object_at(obj, "data") else {
        return;
    };
    for (key, value) in string_data {
        let text = value.as_str().unwrap_or("");
        data[key] = base64::engine::general_purpose::STANDARD
            .encode(text)
            .into();
    }
}

/// `status.phase: Active` and the `kubernetes.io/metadata.name` label.
pub fn default_namespace(obj: &mut Value) {
    let name = obj
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    if !name.is_empty() {
        if let Some(labels) = object_at(obj, "metadata").and_then(|m| object_at(m, "labels")) {
            labels["kubernetes.io/metadata.name"] = name.into();
        }
    }
    if let Some(status) = object_at(obj, "status") {
        fill(status, "phase", "Active".into());
    }
}

/// Allocatable defaults to capacity.
pub fn default_node(obj: &mut Value) {
    let Some(status) = obj.get_mut("status").filter(|s| s.is_object()) else {
        return;
    };
    if is_unset(status, "allocatable") && status["capacity"].is_object() {
        let capacity = status["capacity"].clone();
        fill(status, "allocatable", capacity);
    }
}

pub fn default_persistent_volume(obj: &mut Value) {
    if let Some(spec) = object_at(obj, "spec") {
        fill(spec, "persistentVolumeReclaimPolicy", "Retain".into());
        fill(spec, "volumeMode", "Filesystem".into());
        if let Some(host_path) = spec.get_mut("hostPath").filter(|h| h.is_object()) {
            if host_path.get("type").is_none_or(Value::is_null) {
                host_path["type"] = "".into();
            }
        }
    }
    if let Some(status) = object_at(obj, "status") {
        fill(status, "phase", "Pending".into());
    }
}

pub fn default_persistent_volume_claim(obj: &mut Value) {
    if let Some(spec) = object_at(obj, "spec") {
        fill(spec, "volumeMode", "Filesystem".into());
    }
    if let Some(status) = object_at(obj, "status") {
        fill(status, "phase", "Pending".into());
    }
}

pub fn default_endpoints(obj: &mut Value) {
    for subset in items_at(obj, "subsets") {
        for port in items_at(subset, "ports") {
            fill(port, "protocol", "TCP".into());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_defaults() {
        let mut svc = json!({"spec": {"type": "NodePort", "ports": [{"port": 80}, {"port": 443, "targetPort": "https"}]}});
        default_service(&mut svc);
        let spec = &svc["spec"];
        assert_eq!(
            spec["ports"][0],
            json!({"port": 80, "protocol": "TCP", "targetPort": 80})
        );
        assert_eq!(spec["ports"][1]["targetPort"], "https");
        assert_eq!(spec["sessionAffinity"], "None");
        assert_eq!(spec["externalTrafficPolicy"], "Cluster");
        assert_eq!(spec["internalTrafficPolicy"], "Cluster");
        assert_eq!(spec["ipFamilies"], json!(["IPv4"]));
        let mut plain = json!({"spec": {"ports": [{"port": 80}]}});
        default_service(&mut plain);
        assert_eq!(plain["spec"]["type"], "ClusterIP");
        assert!(plain["spec"].get("externalTrafficPolicy").is_none());
    }

    #[test]
    fn secrets_namespaces_and_controllers() {
        let mut secret = json!({"stringData": {"a": "hi"}, "data": {"b": "eA=="}});
        default_secret(&mut secret);
        assert_eq!(
            secret,
            json!({"data": {"b": "eA==", "a": "aGk="}, "type": "Opaque"})
        );
        let mut ns = json!({"metadata": {"name": "dev"}});
        default_namespace(&mut ns);
        assert_eq!(
            ns["metadata"]["labels"]["kubernetes.io/metadata.name"],
            "dev"
        );
        assert_eq!(ns["status"]["phase"], "Active");
        let mut rc =
            json!({"spec": {"template": {"metadata": {"labels": {"app": "x"}}, "spec": {}}}});
        default_replication_controller(&mut rc);
        assert_eq!(rc["spec"]["selector"], json!({"app": "x"}));
        assert_eq!(rc["metadata"]["labels"], json!({"app": "x"}));
        assert_eq!(rc["spec"]["replicas"], 1);
    }
}
