//! Pod fields selected by `fieldRef.fieldPath` (env `valueFrom` and downwardAPI volume items).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Pod;

/// Why a field path could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unsupported fieldPath: {0}")]
pub struct UnsupportedFieldPath(pub String);

/// The pod's addresses as the kubelet knows them at container start (they may be newer than the
/// pod's status).
#[derive(Debug, Clone, Default)]
pub struct PodAddresses {
    pub pod_ips: Vec<String>,
    pub host_ips: Vec<String>,
}

impl PodAddresses {
    /// The addresses recorded in the pod's status.
    pub fn from_status(pod: &Pod) -> Self {
        let status = pod.status.as_ref();
        let pod_ips = status
            .and_then(|s| s.pod_ips.as_ref())
            .map(|ips| ips.iter().map(|ip| ip.ip.clone()).collect::<Vec<_>>())
            .filter(|ips| !ips.is_empty())
            .or_else(|| status.and_then(|s| s.pod_ip.clone()).map(|ip| vec![ip]))
            .unwrap_or_default();
        let host_ips = status
            .and_then(|s| s.host_ips.as_ref())
            .map(|ips| ips.iter().map(|ip| ip.ip.clone()).collect::<Vec<_>>())
            .filter(|ips| !ips.is_empty())
            .or_else(|| status.and_then(|s| s.host_ip.clone()).map(|ip| vec![ip]))
            .unwrap_or_default();
        Self { pod_ips, host_ips }
    }
}

/// The value an env var's `fieldRef` gives (upstream's `podFieldSelectorRuntimeValue`).
pub fn env_field_value(
    pod: &Pod,
    addresses: &PodAddresses,
    field_path: &str,
) -> Result<String, UnsupportedFieldPath> {
    let spec = pod.spec.as_ref();
    let first = |ips: &[String]| ips.first().cloned().unwrap_or_default();
    match field_path {
        "spec.nodeName" => Ok(spec.and_then(|s| s.node_name.clone()).unwrap_or_default()),
        "spec.serviceAccountName" => Ok(spec
            .and_then(|s| s.service_account_name.clone())
            .unwrap_or_default()),
        "status.hostIP" => Ok(first(&addresses.host_ips)),
        "status.hostIPs" => Ok(addresses.host_ips.join(",")),
        "status.podIP" => Ok(first(&addresses.pod_ips)),
        "status.podIPs" => Ok(addresses.pod_ips.join(",")),
        _ => metadata_field_value(pod, field_path),
    }
}

/// A `metadata.*` field as text (upstream's `fieldpath.ExtractFieldPathAsString`).
pub fn metadata_field_value(pod: &Pod, field_path: &str) -> Result<String, UnsupportedFieldPath> {
    let meta = &pod.metadata;
    let empty = BTreeMap::new();
    let labels = meta.labels.as_ref().unwrap_or(&empty);
    let annotations = meta.annotations.as_ref().unwrap_or(&empty);
    if let Some((path, key)) = subscript(field_path) {
        return match path {
            "metadata.labels" => Ok(labels.get(key).cloned().unwrap_or_default()),
            "metadata.annotations" => Ok(annotations.get(key).cloned().unwrap_or_default()),
            _ => Err(UnsupportedFieldPath(field_path.to_string())),
        };
    }
    match field_path {
        "metadata.name" => Ok(meta.name.clone().unwrap_or_default()),
        "metadata.namespace" => Ok(meta.namespace.clone().unwrap_or_default()),
        "metadata.uid" => Ok(meta.uid.clone().unwrap_or_default()),
        "metadata.labels" => Ok(format_map(labels)),
        "metadata.annotations" => Ok(format_map(annotations)),
        _ => Err(UnsupportedFieldPath(field_path.to_string())),
    }
}

/// Splits `metadata.labels['key']` into the path and the key.
fn subscript(field_path: &str) -> Option<(&str, &str)> {
    let open = field_path.find("['")?;
    let key = field_path[open + 2..].strip_suffix("']")?;
    Some((&field_path[..open], key))
}

/// `key="value"` lines sorted by key, values quoted as Go's `%q` does.
pub fn format_map(map: &BTreeMap<String, String>) -> String {
    map.iter()
        .map(|(k, v)| format!("{k}={}", go_quote(v)))
        .collect::<Vec<_>>()
        .join("\n")
}

fn go_quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::PodSpec;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    fn pod() -> Pod {
        Pod {
            metadata: ObjectMeta {
                name: Some("web".into()),
                namespace: Some("ns".into()),
                uid: Some("u-1".into()),
                labels: Some(
                    [("b", "2"), ("a", "x\"y")]
                        .into_iter()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect(),
                ),
                ..Default::default()
            },
            spec: Some(PodSpec {
                node_name: Some("node-1".into()),
                service_account_name: Some("default".into()),
                ..Default::default()
            }),
            status: None,
        }
    }

    #[test]
    fn field_paths() {
        let addresses = PodAddresses {
            pod_ips: vec!["10.42.0.5".into(), "fd00::5".into()],
            host_ips: vec!["192.168.1.2".into()],
        };
        let cases = [
            ("metadata.name", "web"),
            ("metadata.namespace", "ns"),
            ("metadata.uid", "u-1"),
            ("metadata.labels['b']", "2"),
            ("metadata.labels['missing']", ""),
            ("metadata.labels", "a=\"x\\\"y\"\nb=\"2\""),
            ("metadata.annotations", ""),
            ("spec.nodeName", "node-1"),
            ("spec.serviceAccountName", "default"),
            ("status.podIP", "10.42.0.5"),
            ("status.podIPs", "10.42.0.5,fd00::5"),
            ("status.hostIP", "192.168.1.2"),
            ("status.hostIPs", "192.168.1.2"),
        ];
        for (path, want) in cases {
            assert_eq!(
                env_field_value(&pod(), &addresses, path).as_deref(),
                Ok(want),
                "{path}"
            );
        }
        assert_eq!(
            env_field_value(&pod(), &addresses, "spec.bogus").map_err(|e| e.to_string()),
            Err("unsupported fieldPath: spec.bogus".to_string())
        );
    }
}
