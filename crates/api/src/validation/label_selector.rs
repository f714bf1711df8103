//! `metav1.LabelSelector` in specs: its validation and whether it matches a set of labels (to check
//! that a controller's selector matches its pod template).

use serde_json::Value;

use super::identifiers;
use super::object_meta::{strings, validate_labels};
use crate::field_error::{FieldError, Path};

/// Upstream's `ValidateLabelSelector` (label values in expressions checked strictly).
pub fn validate_label_selector(selector: &Value, path: &Path) -> Vec<FieldError> {
    if selector.is_null() {
        return Vec::new();
    }
    let mut errors = validate_labels(&selector["matchLabels"], &path.child("matchLabels"));
    let expressions = path.child("matchExpressions");
    for (i, requirement) in selector["matchExpressions"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        errors.extend(validate_requirement(requirement, &expressions.index(i)));
    }
    errors
}

fn validate_requirement(requirement: &Value, path: &Path) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let values_count = requirement["values"].as_array().map_or(0, Vec::len);
    let operator = requirement["operator"].as_str().unwrap_or("");
    match operator {
        "In" | "NotIn" => {
            if values_count == 0 {
                errors.push(FieldError::required(
                    path.child("values"),
                    "must be specified when `operator` is 'In' or 'NotIn'",
                ));
            }
        }
        "Exists" | "DoesNotExist" => {
            if values_count > 0 {
                errors.push(FieldError::forbidden(
                    path.child("values"),
                    "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
                ));
            }
        }
        _ => errors.push(FieldError::invalid(
            path.child("operator"),
            operator,
            "not a valid selector operator",
        )),
    }
    let key = requirement["key"].as_str().unwrap_or("");
    for message in identifiers::qualified_name(key) {
        errors.push(FieldError::invalid(path.child("key"), key, message));
    }
    for (i, value) in strings(&requirement["values"]).enumerate() {
        for message in identifiers::label_value(value) {
            errors.push(FieldError::invalid(
                path.child("values").index(i),
                value,
                message,
            ));
        }
    }
    errors
}

/// Whether the selector has no terms (it would select everything, or nothing when null).
pub fn is_empty_selector(selector: &Value) -> bool {
    let labels = selector["matchLabels"]
        .as_object()
        .map_or(0, serde_json::Map::len);
    let expressions = selector["matchExpressions"].as_array().map_or(0, Vec::len);
    labels + expressions == 0
}

/// Whether `selector` selects an object with `labels`; a null selector selects nothing.
pub fn selector_matches(selector: &Value, labels: &Value) -> bool {
    if selector.is_null() {
        return false;
    }
    let label = |key: &str| labels.get(key).and_then(Value::as_str);
    let labels_match = selector["matchLabels"]
        .as_object()
        .into_iter()
        .flatten()
        .all(|(key, value)| label(key) == value.as_str());
    let expressions_match = selector["matchExpressions"]
        .as_array()
        .into_iter()
        .flatten()
        .all(|requirement| {
            let key = requirement["key"].as_str().unwrap_or("");
            let mut values = strings(&requirement["values"]);
            match requirement["operator"].as_str().unwrap_or("") {
                "In" => label(key).is_some_and(|v| values.any(|x| x == v)),
                "NotIn" => label(key).is_none_or(|v| !values.any(|x| x == v)),
                "Exists" => label(key).is_some(),
                "DoesNotExist" => label(key).is_none(),
                _ => false,
            }
        });
    labels_match && expressions_match
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn matches_terms() {
        let labels = json!({"app": "web", "tier": "front"});
        assert!(selector_matches(
            &json!({"matchLabels": {"app": "web"}}),
            &labels
        ));
        assert!(!selector_matches(
            &json!({"matchLabels": {"app": "db"}}),
            &labels
        ));
        assert!(selector_matches(
            &json!({"matchExpressions": [{"key": "tier", "operator": "In", "values": ["front"]}, {"key": "x", "operator": "DoesNotExist"}]}),
            &labels
        ));
        assert!(!selector_matches(&Value::Null, &labels));
    }

    #[test]
    fn validates_requirements() {
        let selector = json!({"matchExpressions": [{"key": "a", "operator": "In"}, {"key": "b", "operator": "Has"}]});
        let got: Vec<String> =
            validate_label_selector(&selector, &Path::new("spec").child("selector"))
                .iter()
                .map(ToString::to_string)
                .collect();
        assert_eq!(
            got,
            vec![
                "spec.selector.matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'",
                "spec.selector.matchExpressions[1].operator: Invalid value: \"Has\": not a valid selector operator",
            ]
        );
    }
}
