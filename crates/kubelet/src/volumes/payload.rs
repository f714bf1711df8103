//! The files of configMap, secret and downwardAPI volumes (and projected sources), from fetched
//! objects (upstream's `MakePayload` functions).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{ConfigMap, DownwardAPIVolumeFile, KeyToPath, Pod, Secret};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

use super::atomic_writer::{FileProjection, Payload};
use crate::env::field_path::metadata_field_value;
use crate::env::resource_field::resource_field_value;

/// Upstream's default file mode of configMap, secret, downwardAPI and projected volumes.
pub const DEFAULT_MODE: i32 = 0o644;

/// The files of a ConfigMap (`None`: it does not exist and the source is optional).
pub fn config_map_payload(
    config_map: Option<&ConfigMap>,
    items: &[KeyToPath],
    default_mode: i32,
    optional: bool,
) -> Result<Payload, String> {
    let mut entries: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    if let Some(cm) = config_map {
        for (key, value) in cm.data.iter().flatten() {
            entries.insert(key.clone(), value.as_bytes().to_vec());
        }
        for (key, value) in cm.binary_data.iter().flatten() {
            entries.insert(key.clone(), value.0.clone());
        }
    }
    key_payload(
        &entries,
        items,
        default_mode,
        optional,
        "configmap references non-existent config key",
    )
}

/// The files of a Secret (`None`: it does not exist and the source is optional).
pub fn secret_payload(
    secret: Option<&Secret>,
    items: &[KeyToPath],
    default_mode: i32,
    optional: bool,
) -> Result<Payload, String> {
    let mut entries: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    if let Some(secret) = secret {
        for (key, value) in secret.data.iter().flatten() {
            entries.insert(key.clone(), value.0.clone());
        }
    }
    key_payload(
        &entries,
        items,
        default_mode,
        optional,
        "references non-existent secret key",
    )
}

fn key_payload(
    entries: &BTreeMap<String, Vec<u8>>,
    items: &[KeyToPath],
    default_mode: i32,
    optional: bool,
    missing_key: &str,
) -> Result<Payload, String> {
    let mut payload = Payload::new();
    if items.is_empty() {
        for (key, data) in entries {
            payload.insert(key.clone(), file(data.clone(), default_mode));
        }
        return Ok(payload);
    }
    for item in items {
        let Some(data) = entries.get(&item.key) else {
            if optional {
                continue;
            }
            return Err(format!("{missing_key}: {}", item.key));
        };
        payload.insert(
            item.path.clone(),
            file(data.clone(), item.mode.unwrap_or(default_mode)),
        );
    }
    Ok(payload)
}

/// The files of a downwardAPI volume or projected source.
pub fn downward_api_payload(
    pod: &Pod,
    items: &[DownwardAPIVolumeFile],
    default_mode: i32,
    node_allocatable: &BTreeMap<String, Quantity>,
) -> Result<Payload, String> {
    let mut payload = Payload::new();
    for item in items {
        let value = if let Some(field) = &item.field_ref {
            metadata_field_value(pod, &field.field_path).map_err(|e| e.to_string())?
        } else if let Some(resource) = &item.resource_field_ref {
            let container_name = resource.container_name.as_deref().unwrap_or_default();
            let container = pod
                .spec
                .iter()
                .flat_map(|s| {
                    s.containers
                        .iter()
                        .chain(s.init_containers.iter().flatten())
                })
                .find(|c| c.name == container_name)
                .ok_or_else(|| format!("container {container_name} not found"))?;
            resource_field_value(resource, container, node_allocatable)
                .map_err(|e| e.to_string())?
        } else {
            continue;
        };
        payload.insert(
            item.path.clone(),
            file(value.into_bytes(), item.mode.unwrap_or(default_mode)),
        );
    }
    Ok(payload)
}

pub fn file(data: Vec<u8>, mode: i32) -> FileProjection {
    FileProjection {
        data,
        mode: u32::try_from(mode).unwrap_or(0o644),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::ObjectFieldSelector;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    fn cm() -> ConfigMap {
        ConfigMap {
            data: Some(
                [
                    ("a".to_string(), "1".to_string()),
                    ("b".to_string(), "2".to_string()),
                ]
                .into_iter()
                .collect(),
            ),
            ..Default::default()
        }
    }

    fn item(key: &str, path: &str, mode: Option<i32>) -> KeyToPath {
        KeyToPath {
            key: key.into(),
            path: path.into(),
            mode,
        }
    }

    #[test]
    fn config_map_items_and_modes() {
        let all = config_map_payload(Some(&cm()), &[], 0o600, false).unwrap();
        assert_eq!(all.keys().collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(all["a"].mode, 0o600);

        let picked = config_map_payload(
            Some(&cm()),
            &[item("b", "dir/bee", Some(0o400))],
            0o644,
            false,
        )
        .unwrap();
        assert_eq!(picked.len(), 1);
        assert_eq!(picked["dir/bee"], file(b"2".to_vec(), 0o400));

        assert_eq!(
            config_map_payload(Some(&cm()), &[item("z", "z", None)], 0o644, false),
            Err("configmap references non-existent config key: z".into())
        );
        assert!(
            config_map_payload(Some(&cm()), &[item("z", "z", None)], 0o644, true)
                .unwrap()
                .is_empty()
        );
        assert!(config_map_payload(None, &[], 0o644, true)
            .unwrap()
            .is_empty());
    }

    #[test]
    fn downward_api_files() {
        let pod = Pod {
            metadata: ObjectMeta {
                name: Some("p".into()),
                namespace: Some("ns".into()),
                ..Default::default()
            },
            ..Default::default()
        };
        let items = [DownwardAPIVolumeFile {
            path: "namespace".into(),
            field_ref: Some(ObjectFieldSelector {
                field_path: "metadata.namespace".into(),
                api_version: None,
            }),
            ..Default::default()
        }];
        let payload = downward_api_payload(&pod, &items, 0o644, &BTreeMap::new()).unwrap();
        assert_eq!(payload["namespace"].data, b"ns");
    }
}
