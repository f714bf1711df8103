//! rbac.authorization.k8s.io/v1 Roles, ClusterRoles and their bindings.

use serde_json::Value;

use super::identifiers;
use super::label_selector::validate_label_selector;
use crate::field_error::{FieldError, Path};

const RBAC_GROUP: &str = "rbac.authorization.k8s.io";

fn count(value: &Value) -> usize {
    value.as_array().map_or(0, Vec::len)
}

fn validate_rule(rule: &Value, namespaced: bool, path: &Path) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if count(&rule["verbs"]) == 0 {
        errors.push(FieldError::required(
            path.child("verbs"),
            "verbs must contain at least one value",
        ));
    }
    if count(&rule["nonResourceURLs"]) > 0 {
        let urls = rule["nonResourceURLs"].clone();
        if namespaced {
            errors.push(FieldError::invalid(
                path.child("nonResourceURLs"),
                urls.clone(),
                "namespaced rules cannot apply to non-resource URLs",
            ));
        }
        if count(&rule["apiGroups"]) + count(&rule["resources"]) + count(&rule["resourceNames"]) > 0
        {
            errors.push(FieldError::invalid(
                path.child("nonResourceURLs"),
                urls,
                "rules cannot apply to both regular resources and non-resource URLs",
            ));
        }
        return errors;
    }
    if count(&rule["apiGroups"]) == 0 {
        errors.push(FieldError::required(
            path.child("apiGroups"),
            "resource rules must supply at least one api group",
        ));
    }
    if count(&rule["resources"]) == 0 {
        errors.push(FieldError::required(
            path.child("resources"),
            "resource rules must supply at least one resource",
        ));
    }
    errors
}

fn validate_rules(obj: &Value, namespaced: bool) -> Vec<FieldError> {
    let path = Path::new("rules");
    obj["rules"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
        .flat_map(|(i, rule)| validate_rule(rule, namespaced, &path.index(i)))
        .collect()
}

pub fn validate_role(obj: &Value) -> Vec<FieldError> {
    validate_rules(obj, true)
}

pub fn validate_cluster_role(obj: &Value) -> Vec<FieldError> {
    let mut errors = validate_rules(obj, false);
    let aggregation = &obj["aggregationRule"];
    if !aggregation.is_null() {
        let path = Path::new("aggregationRule").child("clusterRoleSelectors");
        if count(&aggregation["clusterRoleSelectors"]) == 0 {
            errors.push(FieldError::required(
                &path,
                "at least one clusterRoleSelector required if aggregationRule is non-nil",
            ));
        }
        for (i, selector) in aggregation["clusterRoleSelectors"]
            .as_array()
            .into_iter()
            .flatten()
            .enumerate()
        {
            errors.extend(validate_label_selector(selector, &path.index(i)));
        }
    }
    errors
}

fn validate_binding(obj: &Value, namespaced: bool) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let role_ref = &obj["roleRef"];
    let ref_path = Path::new("roleRef");
    let group = role_ref["apiGroup"].as_str().unwrap_or("");
    if group != RBAC_GROUP {
        errors.push(FieldError::not_supported(
            ref_path.child("apiGroup"),
            group,
            &[RBAC_GROUP],
        ));
    }
    let kind = role_ref["kind"].as_str().unwrap_or("");
    let kinds: &[&str] = if namespaced {
        &["Role", "ClusterRole"]
    } else {
        &["ClusterRole"]
    };
    if !kinds.contains(&kind) {
        errors.push(FieldError::not_supported(
            ref_path.child("kind"),
            kind,
            kinds,
        ));
    }
    let name = role_ref["name"].as_str().unwrap_or("");
    if name.is_empty() {
        errors.push(FieldError::required(ref_path.child("name"), ""));
    } else {
        for message in identifiers::path_segment_name(name, false) {
            errors.push(FieldError::invalid(ref_path.child("name"), name, message));
        }
    }
    let subjects_path = Path::new("subjects");
    for (i, subject) in obj["subjects"].as_array().into_iter().flatten().enumerate() {
        errors.extend(validate_subject(
            subject,
            namespaced,
            &subjects_path.index(i),
        ));
    }
    errors
}

fn validate_subject(subject: &Value, namespaced: bool, path: &Path) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let name = subject["name"].as_str().unwrap_or("");
    if name.is_empty() {
        errors.push(FieldError::required(path.child("name"), ""));
    }
    let group = subject["apiGroup"].as_str().unwrap_or("");
    match subject["kind"].as_str().unwrap_or("") {
        "ServiceAccount" => {
            if !name.is_empty() {
                for message in identifiers::dns1123_subdomain(name) {
                    errors.push(FieldError::invalid(path.child("name"), name, message));
                }
            }
            if !group.is_empty() {
                errors.push(FieldError::not_supported(
                    path.child("apiGroup"),
                    group,
                    &[""],
                ));
            }
            if !namespaced && subject["namespace"].as_str().unwrap_or("").is_empty() {
                errors.push(FieldError::required(path.child("namespace"), ""));
            }
        }
        "User" | "Group" => {
            if group != RBAC_GROUP {
                errors.push(FieldError::not_supported(
                    path.child("apiGroup"),
                    group,
                    &[RBAC_GROUP],
                ));
            }
        }
        other => errors.push(FieldError::not_supported(
            path.child("kind"),
            other,
            &["ServiceAccount", "User", "Group"],
        )),
    }
    errors
}

pub fn validate_role_binding(obj: &Value) -> Vec<FieldError> {
    validate_binding(obj, true)
}

pub fn validate_cluster_role_binding(obj: &Value) -> Vec<FieldError> {
    validate_binding(obj, false)
}

/// A binding's role may not change.
pub fn validate_binding_update(new: &Value, old: &Value) -> Vec<FieldError> {
    if new["roleRef"] == old["roleRef"] {
        Vec::new()
    } else {
        vec![FieldError::invalid(
            "roleRef",
            new["roleRef"].clone(),
            "cannot change roleRef",
        )]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rules_need_verbs() {
        let role = json!({"rules": [{"apiGroups": [""], "resources": ["pods"]}]});
        let got: Vec<String> = validate_role(&role)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            got,
            vec!["rules[0].verbs: Required value: verbs must contain at least one value"]
        );
    }

    #[test]
    fn role_ref_is_fixed() {
        let old = json!({"roleRef": {"apiGroup": RBAC_GROUP, "kind": "Role", "name": "a"}});
        let new = json!({"roleRef": {"apiGroup": RBAC_GROUP, "kind": "Role", "name": "b"}});
        assert_eq!(validate_binding_update(&new, &old).len(), 1);
    }
}
