//! PersistentVolumeClaims and PersistentVolumes, as upstream's core validation.

use serde_json::Value;

use super::identifiers;
use super::json_diff::describe_changes;
use super::label_selector::validate_label_selector;
use super::resources::{parse_quantity, positive_quantity};
use super::volume::validate_one_source;
use crate::field_error::{FieldError, Path};

const ACCESS_MODES: [&str; 4] = [
    "ReadOnlyMany",
    "ReadWriteMany",
    "ReadWriteOnce",
    "ReadWriteOncePod",
];

/// The sources a persistent volume may use.
const PERSISTENT_SOURCES: [&str; 21] = [
    "hostPath",
    "gcePersistentDisk",
    "awsElasticBlockStore",
    "glusterfs",
    "nfs",
    "rbd",
    "quobyte",
    "cinder",
    "cephfs",
    "fc",
    "flocker",
    "flexVolume",
    "azureFile",
    "vsphereVolume",
    "azureDisk",
    "photonPersistentDisk",
    "portworxVolume",
    "scaleIO",
    "local",
    "storageos",
    "csi",
];

fn validate_access_modes(spec: &Value, path: &Path, required_detail: &str) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let modes: Vec<&str> = spec["accessModes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    if modes.is_empty() {
        errors.push(FieldError::required(
            path.child("accessModes"),
            required_detail,
        ));
    }
    for mode in &modes {
        if !ACCESS_MODES.contains(mode) {
            errors.push(FieldError::not_supported(
                path.child("accessModes"),
                *mode,
                &ACCESS_MODES,
            ));
        }
    }
    let pod_only = modes.contains(&"ReadWriteOncePod");
    if pod_only
        && modes
            .iter()
            .any(|m| *m != "ReadWriteOncePod" && ACCESS_MODES.contains(m))
    {
        errors.push(FieldError::forbidden(
            path.child("accessModes"),
            "may not use ReadWriteOncePod with other access modes",
        ));
    }
    errors
}

fn validate_volume_mode(spec: &Value, path: &Path) -> Vec<FieldError> {
    match spec["volumeMode"].as_str() {
        Some(mode) if !matches!(mode, "Block" | "Filesystem") => {
            vec![FieldError::not_supported(
                path.child("volumeMode"),
                mode,
                &["Block", "Filesystem"],
            )]
        }
        _ => Vec::new(),
    }
}

fn validate_class_name(spec: &Value, field: &str, path: &Path) -> Vec<FieldError> {
    let name = spec[field].as_str().unwrap_or("");
    if name.is_empty() {
        return Vec::new();
    }
    identifiers::dns1123_subdomain(name)
        .into_iter()
        .map(|message| FieldError::invalid(path.child(field), name, message))
        .collect()
}

/// A claim's spec (also used for claim templates).
pub fn validate_claim_spec(spec: &Value, path: &Path) -> Vec<FieldError> {
    let mut errors = validate_access_modes(spec, path, "at least 1 access mode is required");
    errors.extend(validate_label_selector(
        &spec["selector"],
        &path.child("selector"),
    ));
    let storage_path = path.child("resources").key("storage");
    match spec.pointer("/resources/requests/storage") {
        None => errors.push(FieldError::required(&storage_path, "")),
        Some(value) => {
            if let Some(quantity) = parse_quantity(value, &storage_path, &mut errors) {
                errors.extend(positive_quantity(&quantity, &storage_path));
            }
        }
    }
    errors.extend(validate_class_name(spec, "storageClassName", path));
    errors.extend(validate_volume_mode(spec, path));
    errors
}

pub fn validate_persistent_volume_claim(obj: &Value) -> Vec<FieldError> {
    validate_claim_spec(&obj["spec"], &Path::new("spec"))
}

/// A claim's spec is fixed after creation, apart from a first volume name and larger storage.
pub fn validate_persistent_volume_claim_update(new: &Value, old: &Value) -> Vec<FieldError> {
    let (new_spec, old_spec) = (&new["spec"], &old["spec"]);
    let mut old_view = old_spec.clone();
    let mut new_view = new_spec.clone();
    if old_spec["volumeName"].as_str().unwrap_or("").is_empty() {
        if let (Some(o), Some(n)) = (old_view.as_object_mut(), new_spec.get("volumeName")) {
            o.insert("volumeName".into(), n.clone());
        }
    }
    for view in [&mut old_view, &mut new_view] {
        if let Some(requests) = view
            .pointer_mut("/resources/requests")
            .and_then(Value::as_object_mut)
        {
            requests.remove("storage");
        }
        if let Some(fields) = view.as_object_mut() {
            fields.remove("volumeAttributesClassName");
        }
    }
    let mut errors = Vec::new();
    if new_view != old_view {
        errors.push(FieldError::forbidden(
            "spec",
            format!(
                "spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims\n{}",
                describe_changes("core.PersistentVolumeClaimSpec", &old_view, &new_view)
            ),
        ));
    }
    let storage = |spec: &Value| {
        spec.pointer("/resources/requests/storage")
            .and_then(|q| crate::quantity::Quantity::from_json(q).ok())
    };
    if let (Some(new_size), Some(old_size)) = (storage(new_spec), storage(old_spec)) {
        if new_size < old_size {
            errors.push(FieldError::forbidden(
                Path::new("spec")
                    .child("resources")
                    .child("requests")
                    .child("storage"),
                "field can not be less than previous value",
            ));
        }
    }
    errors
}

pub fn validate_persistent_volume(obj: &Value) -> Vec<FieldError> {
    let spec = &obj["spec"];
    let path = Path::new("spec");
    let mut errors = validate_access_modes(spec, &path, "");
    let capacity = spec["capacity"].as_object();
    if capacity.is_none_or(serde_json::Map::is_empty) {
        errors.push(FieldError::required(path.child("capacity"), ""));
    }
    let only_storage = capacity.is_some_and(|c| c.len() == 1 && c.contains_key("storage"));
    if !only_storage {
        errors.push(FieldError::not_supported(
            path.child("capacity"),
            spec["capacity"].clone(),
            &["storage"],
        ));
    }
    for (name, value) in capacity.into_iter().flatten() {
        let here = path.child("capacity").key(name);
        if let Some(quantity) = parse_quantity(value, &here, &mut errors) {
            errors.extend(positive_quantity(&quantity, &here));
        }
    }
    if let Some(policy) = spec["persistentVolumeReclaimPolicy"]
        .as_str()
        .filter(|p| !p.is_empty())
    {
        if !matches!(policy, "Delete" | "Recycle" | "Retain") {
            errors.push(FieldError::not_supported(
                path.child("persistentVolumeReclaimPolicy"),
                policy,
                &["Delete", "Recycle", "Retain"],
            ));
        }
    }
    let mut sources = 0;
    for source in PERSISTENT_SOURCES {
        let value = &spec[source];
        if value.is_null() {
            continue;
        }
        if sources > 0 {
            errors.push(FieldError::forbidden(
                path.child(source),
                "may not specify more than 1 volume type",
            ));
            continue;
        }
        sources += 1;
        errors.extend(validate_one_source(source, value, &path.child(source)));
    }
    if sources == 0 {
        errors.push(FieldError::required(&path, "must specify a volume type"));
    }
    errors.extend(validate_class_name(spec, "storageClassName", &path));
    errors.extend(validate_volume_mode(spec, &path));
    errors
}
