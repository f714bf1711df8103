//! `metadata` of every object, as upstream's apimachinery `ValidateObjectMeta` and
//! `ValidateObjectMetaUpdate`: name, namespace, labels, annotations, owner references, finalizers.

use serde_json::Value;

use super::identifiers;
use crate::field_error::{FieldError, Path};

/// Upstream's `FieldImmutableErrorMsg`.
pub const IMMUTABLE: &str = "field is immutable";

/// Upstream's `TotalAnnotationSizeLimitB`.
const ANNOTATIONS_MAX_BYTES: usize = 256 * 1024;

/// Which format an object's name must have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameFormat {
    /// Most kinds: "example.com".
    Dns1123Subdomain,
    /// Namespaces: "my-name".
    Dns1123Label,
    /// Services: starts with a letter.
    Dns1035Label,
    /// RBAC, persistent volumes, flow control: anything but "/", "%", "." and "..".
    PathSegment,
}

impl NameFormat {
    /// The messages for a bad name; `prefix` for a `generateName`, which may end in '-'.
    pub fn check(self, name: &str, prefix: bool) -> Vec<String> {
        let masked;
        let name = if prefix && name.ends_with('-') && self != NameFormat::PathSegment {
            masked = format!("{}a", &name[..name.len() - 1]);
            masked.as_str()
        } else {
            name
        };
        match self {
            NameFormat::Dns1123Subdomain => identifiers::dns1123_subdomain(name),
            NameFormat::Dns1123Label => identifiers::dns1123_label(name),
            NameFormat::Dns1035Label => identifiers::dns1035_label(name),
            NameFormat::PathSegment => identifiers::path_segment_name(name, prefix),
        }
    }
}

fn text<'a>(meta: &'a Value, key: &str) -> &'a str {
    meta.get(key).and_then(Value::as_str).unwrap_or("")
}

/// `metadata` of an object being created.
pub fn validate_object_meta(obj: &Value, namespaced: bool, rule: NameFormat) -> Vec<FieldError> {
    let meta = &obj["metadata"];
    let path = Path::new("metadata");
    let mut errors = Vec::new();
    let generate_name = text(meta, "generateName");
    if !generate_name.is_empty() {
        for message in rule.check(generate_name, true) {
            errors.push(FieldError::invalid(
                path.child("generateName"),
                generate_name,
                message,
            ));
        }
    }
    let name = text(meta, "name");
    if name.is_empty() {
        errors.push(FieldError::required(
            path.child("name"),
            "name or generateName is required",
        ));
    } else {
        for message in rule.check(name, false) {
            errors.push(FieldError::invalid(path.child("name"), name, message));
        }
    }
    let namespace = text(meta, "namespace");
    if namespaced {
        if namespace.is_empty() {
            errors.push(FieldError::required(path.child("namespace"), ""));
        } else {
            for message in identifiers::dns1123_label(namespace) {
                errors.push(FieldError::invalid(
                    path.child("namespace"),
                    namespace,
                    message,
                ));
            }
        }
    } else if !namespace.is_empty() {
        errors.push(FieldError::forbidden(
            path.child("namespace"),
            "not allowed on this type",
        ));
    }
    if let Some(generation) = meta.get("generation").and_then(Value::as_i64) {
        errors.extend(nonnegative(generation, &path.child("generation")));
    }
    errors.extend(validate_common(meta, &path));
    errors
}

/// Labels, annotations, owner references and finalizers: checked on create and update alike.
fn validate_common(meta: &Value, path: &Path) -> Vec<FieldError> {
    let mut errors = validate_labels(&meta["labels"], &path.child("labels"));
    errors.extend(validate_annotations(
        &meta["annotations"],
        &path.child("annotations"),
    ));
    errors.extend(validate_owner_references(
        &meta["ownerReferences"],
        &path.child("ownerReferences"),
    ));
    errors.extend(validate_finalizers(
        &meta["finalizers"],
        &path.child("finalizers"),
    ));
    errors
}

/// `metadata` of an object being updated: identity fields may not change.
pub fn validate_object_meta_update(new: &Value, old: &Value) -> Vec<FieldError> {
    let (new_meta, old_meta) = (&new["metadata"], &old["metadata"]);
    let path = Path::new("metadata");
    let mut errors = Vec::new();
    if !old_meta["deletionTimestamp"].is_null() {
        errors.extend(no_new_finalizers(
            new_meta,
            old_meta,
            &path.child("finalizers"),
        ));
    }
    let new_generation = new_meta["generation"].as_i64().unwrap_or(0);
    if new_generation < old_meta["generation"].as_i64().unwrap_or(0) {
        errors.push(FieldError::invalid(
            path.child("generation"),
            new_generation,
            "must not be decremented",
        ));
    }
    for field in [
        "name",
        "namespace",
        "uid",
        "creationTimestamp",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
    ] {
        errors.extend(immutable(
            &new_meta[field],
            &old_meta[field],
            &path.child(field),
        ));
    }
    errors.extend(validate_common(new_meta, &path));
    errors
}

fn no_new_finalizers(new_meta: &Value, old_meta: &Value, path: &Path) -> Vec<FieldError> {
    let old: Vec<&str> = strings(&old_meta["finalizers"]).collect();
    let mut added: Vec<&str> = strings(&new_meta["finalizers"])
        .filter(|f| !old.contains(f))
        .collect();
    added.sort_unstable();
    added.dedup();
    if added.is_empty() {
        return Vec::new();
    }
    let quoted: Vec<String> = added
        .iter()
        .map(|f| crate::field_error::go_quote(f))
        .collect();
    vec![FieldError::forbidden(
        path,
        format!(
            "no new finalizers can be added if the object is being deleted, found new finalizers []string{{{}}}",
            quoted.join(", ")
        ),
    )]
}

/// The string items of a JSON array (none when it is not one).
pub fn strings(list: &Value) -> impl Iterator<Item = &str> {
    list.as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
}

/// Upstream's `ValidateImmutableField`: `field is immutable` when the value changed.
pub fn immutable(new: &Value, old: &Value, path: &Path) -> Vec<FieldError> {
    if new == old {
        Vec::new()
    } else {
        vec![FieldError::invalid(path, new.clone(), IMMUTABLE)]
    }
}

/// Upstream's `ValidateNonnegativeField`.
pub fn nonnegative(value: i64, path: &Path) -> Vec<FieldError> {
    if value < 0 {
        vec![FieldError::invalid(
            path,
            value,
            "must be greater than or equal to 0",
        )]
    } else {
        Vec::new()
    }
}

/// Label keys are qualified names and values label values; errors name the map, not the key.
pub fn validate_labels(labels: &Value, path: &Path) -> Vec<FieldError> {
    let mut errors = Vec::new();
    for (key, value) in labels.as_object().into_iter().flatten() {
        for message in identifiers::qualified_name(key) {
            errors.push(FieldError::invalid(path, key.as_str(), message));
        }
        let value = value.as_str().unwrap_or("");
        for message in identifiers::label_value(value) {
            errors.push(FieldError::invalid(path, value, message));
        }
    }
    errors
}

/// Annotation keys are qualified names (any case); all keys and values together at most 256 KiB.
pub fn validate_annotations(annotations: &Value, path: &Path) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let mut total = 0;
    for (key, value) in annotations.as_object().into_iter().flatten() {
        for message in identifiers::qualified_name(&key.to_lowercase()) {
            errors.push(FieldError::invalid(path, key.as_str(), message));
        }
        total += key.len() + value.as_str().map_or(0, str::len);
    }
    if total > ANNOTATIONS_MAX_BYTES {
        errors.push(FieldError::too_long(path, "", ANNOTATIONS_MAX_BYTES));
    }
    errors
}

fn validate_owner_references(references: &Value, path: &Path) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let mut first_controller: Option<String> = None;
    for reference in references.as_array().into_iter().flatten() {
        let api_version = text(reference, "apiVersion");
        let version = api_version.rsplit('/').next().unwrap_or("");
        if version.is_empty() || api_version.matches('/').count() > 1 {
            errors.push(FieldError::invalid(
                path.child("apiVersion"),
                api_version,
                "version must not be empty",
            ));
        }
        let kind = text(reference, "kind");
        if kind.is_empty() {
            errors.push(FieldError::invalid(
                path.child("kind"),
                kind,
                "kind must not be empty",
            ));
        }
        let name = text(reference, "name");
        if name.is_empty() {
            errors.push(FieldError::invalid(
                path.child("name"),
                name,
                "name must not be empty",
            ));
        }
        if text(reference, "uid").is_empty() {
            errors.push(FieldError::invalid(
                path.child("uid"),
                "",
                "uid must not be empty",
            ));
        }
        if reference["controller"].as_bool() == Some(true) {
            let current = format!("{kind}/{name}");
            match &first_controller {
                Some(first) => errors.push(FieldError::invalid(
                    path,
                    references.clone(),
                    format!("Only one reference can have Controller set to true. Found \"true\" in references for {first} and {current}"),
                )),
                None => first_controller = Some(current),
            }
        }
    }
    errors
}

fn validate_finalizers(finalizers: &Value, path: &Path) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let (mut orphan, mut foreground) = (false, false);
    for finalizer in strings(finalizers) {
        for message in identifiers::qualified_name(finalizer) {
            errors.push(FieldError::invalid(path, finalizer, message));
        }
        orphan |= finalizer == "orphan";
        foreground |= finalizer == "foregroundDeletion";
    }
    if orphan && foreground {
        errors.push(FieldError::invalid(
            path,
            finalizers.clone(),
            "finalizer orphan and foregroundDeletion cannot be both set",
        ));
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn messages(errors: Vec<FieldError>) -> Vec<String> {
        errors.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn reports_every_bad_field() {
        let obj = json!({"metadata": {
            "name": "Foo_bar",
            "labels": {"app": "-bad"},
            "finalizers": ["a/b/c"],
        }});
        let got = messages(validate_object_meta(
            &obj,
            true,
            NameFormat::Dns1123Subdomain,
        ));
        assert_eq!(got.len(), 4, "{got:#?}");
        assert!(got[0].starts_with(
            "metadata.name: Invalid value: \"Foo_bar\": a lowercase RFC 1123 subdomain"
        ));
        assert_eq!(got[1], "metadata.namespace: Required value");
        assert!(got[2].starts_with(
            "metadata.labels: Invalid value: \"-bad\": a valid label must be an empty string"
        ));
        assert!(got[3].starts_with(
            "metadata.finalizers: Invalid value: \"a/b/c\": a qualified name must consist"
        ));
    }

    #[test]
    fn cluster_scoped_rejects_namespace() {
        let obj = json!({"metadata": {"name": "x", "namespace": "default"}});
        assert_eq!(
            messages(validate_object_meta(&obj, false, NameFormat::PathSegment)),
            vec!["metadata.namespace: Forbidden: not allowed on this type"]
        );
        let unnamed = json!({"metadata": {}});
        assert_eq!(
            messages(validate_object_meta(
                &unnamed,
                false,
                NameFormat::Dns1123Label
            )),
            vec!["metadata.name: Required value: name or generateName is required"]
        );
    }

    #[test]
    fn owner_references_need_identity_and_one_controller() {
        let obj = json!({"metadata": {"name": "x", "namespace": "d", "ownerReferences": [
            {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "a", "uid": "1", "controller": true},
            {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "b", "uid": "", "controller": true},
        ]}});
        let got = messages(validate_object_meta(
            &obj,
            true,
            NameFormat::Dns1123Subdomain,
        ));
        assert_eq!(
            got[0],
            "metadata.ownerReferences.uid: Invalid value: \"\": uid must not be empty"
        );
        assert!(got[1].ends_with("Only one reference can have Controller set to true. Found \"true\" in references for ReplicaSet/a and ReplicaSet/b"));
    }

    #[test]
    fn update_keeps_identity() {
        let old = json!({"metadata": {"name": "x", "uid": "1", "generation": 2}});
        let new = json!({"metadata": {"name": "y", "uid": "1", "generation": 2}});
        assert_eq!(
            messages(validate_object_meta_update(&new, &old)),
            vec!["metadata.name: Invalid value: \"y\": field is immutable"]
        );
    }

    #[test]
    fn annotations_size_limit() {
        let big = "x".repeat(300 * 1024);
        let obj = json!({"metadata": {"name": "x", "annotations": {"a": big}}});
        assert_eq!(
            messages(validate_object_meta(
                &obj,
                false,
                NameFormat::Dns1123Subdomain
            )),
            vec!["metadata.annotations: Too long: may not be more than 262144 bytes"]
        );
    }
}
