//! `spec.volumes` of a pod: unique DNS-label names and exactly one source each, with the rules of
//! the common sources (emptyDir, hostPath, configMap, secret, persistentVolumeClaim, nfs, ...).

use serde_json::Value;

use super::container::{local_descending_path, no_backsteps};
use super::identifiers;
use super::resources::parse_quantity;
use crate::field_error::{FieldError, Path};

/// Every volume source a pod volume may name, in upstream's checking order.
const POD_VOLUME_SOURCES: [&str; 29] = [
    "emptyDir",
    "hostPath",
    "gitRepo",
    "gcePersistentDisk",
    "awsElasticBlockStore",
    "secret",
    "nfs",
    "iscsi",
    "glusterfs",
    "flexVolume",
    "persistentVolumeClaim",
    "rbd",
    "cinder",
    "cephfs",
    "quobyte",
    "downwardAPI",
    "fc",
    "configMap",
    "azureFile",
    "vsphereVolume",
    "photonPersistentDisk",
    "portworxVolume",
    "azureDisk",
    "storageos",
    "projected",
    "scaleIO",
    "csi",
    "ephemeral",
    "image",
];

/// Upstream's `fileModeErrorMsg`.
const FILE_MODE_MESSAGE: &str = "must be a number between 0 and 0777 (octal), both inclusive";

const HOST_PATH_TYPES: [&str; 8] = [
    "",
    "BlockDevice",
    "CharDevice",
    "Directory",
    "DirectoryOrCreate",
    "File",
    "FileOrCreate",
    "Socket",
];

fn text<'a>(value: &'a Value, key: &str) -> &'a str {
    value.get(key).and_then(Value::as_str).unwrap_or("")
}

fn items(value: &Value) -> impl Iterator<Item = (usize, &Value)> {
    value.as_array().into_iter().flatten().enumerate()
}

/// Validates `volumes`; answers the names of the valid ones (mounts may refer to those only).
pub fn validate_volumes(volumes: &Value, path: &Path) -> (Vec<String>, Vec<FieldError>) {
    let mut names: Vec<String> = Vec::new();
    let mut errors = Vec::new();
    for (i, volume) in items(volumes) {
        let here = path.index(i);
        let name = text(volume, "name");
        let mut own = validate_source(volume, &here);
        if name.is_empty() {
            own.push(FieldError::required(here.child("name"), ""));
        } else {
            for message in identifiers::dns1123_label(name) {
                own.push(FieldError::invalid(here.child("name"), name, message));
            }
        }
        if names.iter().any(|n| n == name) {
            own.push(FieldError::duplicate(here.child("name"), name));
        }
        if own.is_empty() {
            names.push(name.to_string());
        }
        errors.extend(own);
    }
    (names, errors)
}

fn validate_source(volume: &Value, path: &Path) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let mut count = 0;
    for source in POD_VOLUME_SOURCES {
        let value = &volume[source];
        if value.is_null() {
            continue;
        }
        if count > 0 {
            errors.push(FieldError::forbidden(
                path.child(source),
                "may not specify more than 1 volume type",
            ));
            continue;
        }
        count += 1;
        errors.extend(validate_one_source(source, value, &path.child(source)));
    }
    if count == 0 {
        errors.push(FieldError::required(path, "must specify a volume type"));
    }
    errors
}

/// The rules of one volume source (shared with persistent volumes).
pub fn validate_one_source(source: &str, value: &Value, path: &Path) -> Vec<FieldError> {
    let mut errors = Vec::new();
    match source {
        "emptyDir" if !value["sizeLimit"].is_null() => {
            let quantity =
                parse_quantity(&value["sizeLimit"], &path.child("sizeLimit"), &mut errors);
            if quantity.is_some_and(|q| q.is_negative()) {
                errors.push(FieldError::forbidden(
                    path.child("sizeLimit"),
                    "SizeLimit field must be a valid resource quantity",
                ));
            }
        }
        "hostPath" => {
            let host_path = text(value, "path");
            if host_path.is_empty() {
                errors.push(FieldError::required(path.child("path"), ""));
            } else {
                errors.extend(no_backsteps(host_path, &path.child("path")));
            }
            let kind = text(value, "type");
            if !HOST_PATH_TYPES.contains(&kind) {
                errors.push(FieldError::not_supported(
                    path.child("type"),
                    kind,
                    &HOST_PATH_TYPES,
                ));
            }
        }
        "secret" => {
            if text(value, "secretName").is_empty() {
                errors.push(FieldError::required(path.child("secretName"), ""));
            }
            errors.extend(validate_mode(
                &value["defaultMode"],
                &path.child("defaultMode"),
            ));
            errors.extend(validate_key_paths(&value["items"], &path.child("items")));
        }
        "configMap" => {
            if text(value, "name").is_empty() {
                errors.push(FieldError::required(path.child("name"), ""));
            }
            errors.extend(validate_mode(
                &value["defaultMode"],
                &path.child("defaultMode"),
            ));
            errors.extend(validate_key_paths(&value["items"], &path.child("items")));
        }
        "persistentVolumeClaim" if text(value, "claimName").is_empty() => {
            errors.push(FieldError::required(path.child("claimName"), ""));
        }
        "nfs" => {
            if text(value, "server").is_empty() {
                errors.push(FieldError::required(path.child("server"), ""));
            }
            let nfs_path = text(value, "path");
            if nfs_path.is_empty() {
                errors.push(FieldError::required(path.child("path"), ""));
            } else if !nfs_path.starts_with('/') {
                errors.push(FieldError::invalid(
                    path.child("path"),
                    nfs_path,
                    "must be an absolute path",
                ));
            }
        }
        "downwardAPI" => {
            errors.extend(validate_mode(
                &value["defaultMode"],
                &path.child("defaultMode"),
            ));
            for (i, item) in items(&value["items"]) {
                let item_path = text(item, "path");
                if item_path.is_empty() {
                    errors.push(FieldError::required(
                        path.child("items").index(i).child("path"),
                        "",
                    ));
                } else {
                    errors.extend(local_descending_path(
                        item_path,
                        &path.child("items").index(i).child("path"),
                    ));
                }
            }
        }
        "projected" => {
            errors.extend(validate_mode(
                &value["defaultMode"],
                &path.child("defaultMode"),
            ));
            if value["sources"].as_array().is_none() {
                errors.push(FieldError::required(path.child("sources"), ""));
            }
        }
        "csi" if text(value, "driver").is_empty() => {
            errors.push(FieldError::required(path.child("driver"), ""));
        }
        "ephemeral" if value["volumeClaimTemplate"].is_null() => {
            errors.push(FieldError::required(path.child("volumeClaimTemplate"), ""));
        }
        "image" if text(value, "reference").is_empty() => {
            errors.push(FieldError::required(path.child("reference"), ""));
        }
        _ => {}
    }
    errors
}

fn validate_mode(mode: &Value, path: &Path) -> Vec<FieldError> {
    match mode.as_i64() {
        Some(m) if !(0..=0o777).contains(&m) => {
            vec![FieldError::invalid(path, m, FILE_MODE_MESSAGE)]
        }
        _ => Vec::new(),
    }
}

fn validate_key_paths(list: &Value, path: &Path) -> Vec<FieldError> {
    let mut errors = Vec::new();
    for (i, item) in items(list) {
        let here = path.index(i);
        if text(item, "key").is_empty() {
            errors.push(FieldError::required(here.child("key"), ""));
        }
        let item_path = text(item, "path");
        if item_path.is_empty() {
            errors.push(FieldError::required(here.child("path"), ""));
        } else {
            errors.extend(local_descending_path(item_path, &here.child("path")));
        }
        errors.extend(validate_mode(&item["mode"], &here.child("mode")));
    }
    errors
}
