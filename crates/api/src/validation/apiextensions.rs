//! apiextensions.k8s.io/v1 CustomResourceDefinitions: names, scope and versions.

use serde_json::Value;

use super::identifiers;
use crate::field_error::{FieldError, Path};

fn text<'a>(value: &'a Value, key: &str) -> &'a str {
    value.get(key).and_then(Value::as_str).unwrap_or("")
}

pub fn validate_custom_resource_definition(obj: &Value) -> Vec<FieldError> {
    let spec = &obj["spec"];
    let path = Path::new("spec");
    let names = &spec["names"];
    let names_path = path.child("names");
    let mut errors = Vec::new();
    let group = text(spec, "group");
    let plural = text(names, "plural");
    let name = text(&obj["metadata"], "name");
    if name != format!("{plural}.{group}") {
        errors.push(FieldError::invalid(
            Path::new("metadata").child("name"),
            name,
            "must be spec.names.plural+\".\"+spec.group",
        ));
    }
    if group.is_empty() {
        errors.push(FieldError::required(path.child("group"), ""));
    } else {
        for message in identifiers::dns1123_subdomain(group) {
            errors.push(FieldError::invalid(path.child("group"), group, message));
        }
        if group.split('.').count() < 2 {
            errors.push(FieldError::invalid(
                path.child("group"),
                group,
                "should be a domain with at least one dot",
            ));
        }
    }
    match text(spec, "scope") {
        "Cluster" | "Namespaced" => {}
        "" => errors.push(FieldError::required(path.child("scope"), "")),
        other => errors.push(FieldError::not_supported(
            path.child("scope"),
            other,
            &["Cluster", "Namespaced"],
        )),
    }
    for field in ["plural", "singular", "kind", "listKind"] {
        let value = text(names, field);
        if value.is_empty() {
            if field == "plural" || field == "kind" {
                errors.push(FieldError::required(names_path.child(field), ""));
            }
            continue;
        }
        let messages = match field {
            "plural" | "singular" => identifiers::dns1035_label(value),
            _ => identifiers::dns1035_label(&value.to_lowercase()),
        };
        for message in messages {
            errors.push(FieldError::invalid(names_path.child(field), value, message));
        }
    }
    let versions_path = path.child("versions");
    let versions: Vec<&Value> = spec["versions"].as_array().into_iter().flatten().collect();
    if versions.is_empty() {
        errors.push(FieldError::invalid(
            &versions_path,
            spec["versions"].clone(),
            "must have exactly one version marked as storage version",
        ));
        return errors;
    }
    let mut seen: Vec<&str> = Vec::new();
    let mut storage = 0;
    for (i, version) in versions.iter().enumerate() {
        let here = versions_path.index(i);
        let version_name = text(version, "name");
        if version_name.is_empty() {
            errors.push(FieldError::required(here.child("name"), ""));
        } else {
            for message in identifiers::dns1035_label(version_name) {
                errors.push(FieldError::invalid(
                    here.child("name"),
                    version_name,
                    message,
                ));
            }
        }
        if seen.contains(&version_name) {
            errors.push(FieldError::invalid(
                versions_path.clone(),
                spec["versions"].clone(),
                "must contain unique version names",
            ));
        }
        seen.push(version_name);
        if version["storage"].as_bool() == Some(true) {
            storage += 1;
        }
        if version["schema"]["openAPIV3Schema"].is_null() {
            errors.push(FieldError::required(
                here.child("schema").child("openAPIV3Schema"),
                "schemas are required",
            ));
        }
    }
    if storage != 1 {
        errors.push(FieldError::invalid(
            &versions_path,
            spec["versions"].clone(),
            "must have exactly one version marked as storage version",
        ));
    }
    errors
}
