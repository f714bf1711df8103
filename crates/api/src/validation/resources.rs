//! Resource quantities in specs: container requests and limits, and single quantities.

use serde_json::Value;

use super::identifiers;
use crate::field_error::{FieldError, Path};
use crate::quantity::{Quantity, QUANTITY_FORMAT_ERROR};

fn is_hugepages(name: &str) -> bool {
    name.starts_with("hugepages-")
}

/// Native: no domain, or a `kubernetes.io/` domain.
fn is_native(name: &str) -> bool {
    !name.contains('/') || name.contains("kubernetes.io/")
}

fn overcommit_allowed(name: &str) -> bool {
    is_native(name) && !is_hugepages(name)
}

/// A parsed quantity; when it does not parse, the error upstream's decoder answers with is added.
pub fn parse_quantity(
    value: &Value,
    path: &Path,
    errors: &mut Vec<FieldError>,
) -> Option<Quantity> {
    match Quantity::from_json(value) {
        Ok(quantity) => Some(quantity),
        Err(_) => {
            errors.push(FieldError::invalid(
                path,
                value.clone(),
                QUANTITY_FORMAT_ERROR,
            ));
            None
        }
    }
}

/// Upstream's `ValidateNonnegativeQuantity`.
pub fn nonnegative_quantity(quantity: &Quantity, path: &Path) -> Vec<FieldError> {
    if quantity.is_negative() {
        vec![FieldError::invalid(
            path,
            quantity.canonical(),
            "must be greater than or equal to 0",
        )]
    } else {
        Vec::new()
    }
}

/// Upstream's `ValidatePositiveQuantityValue`.
pub fn positive_quantity(quantity: &Quantity, path: &Path) -> Vec<FieldError> {
    if quantity.is_negative() || quantity.is_zero() {
        vec![FieldError::invalid(
            path,
            quantity.canonical(),
            "must be greater than zero",
        )]
    } else {
        Vec::new()
    }
}

fn validate_resource_name(name: &str, path: &Path) -> Vec<FieldError> {
    let mut errors: Vec<FieldError> = identifiers::qualified_name(name)
        .into_iter()
        .map(|message| FieldError::invalid(path, name, message))
        .collect();
    if !name.contains('/') {
        if !matches!(name, "cpu" | "memory" | "ephemeral-storage") && !is_hugepages(name) {
            errors.push(FieldError::invalid(
                path,
                name,
                "must be a standard resource for containers",
            ));
        }
    } else if !is_native(name) && name.starts_with("requests.") {
        errors.push(FieldError::invalid(
            path,
            name,
            "doesn't follow extended resource name standard",
        ));
    }
    errors
}

/// One named quantity of `limits` or `requests`.
fn validate_entry(name: &str, value: &Value, path: &Path) -> (Vec<FieldError>, Option<Quantity>) {
    let mut errors = validate_resource_name(name, path);
    let quantity = parse_quantity(value, path, &mut errors);
    if let Some(quantity) = &quantity {
        errors.extend(nonnegative_quantity(quantity, path));
        if !is_native(name) && !quantity.is_integer() {
            errors.push(FieldError::invalid(
                path,
                quantity.canonical(),
                "must be an integer",
            ));
        }
    }
    (errors, quantity)
}

/// A container's `resources`: names, quantities, and requests no greater than limits.
pub fn validate_container_resources(resources: &Value, path: &Path) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let limits_path = path.child("limits");
    let requests_path = path.child("requests");
    let mut limits: Vec<(&str, Quantity)> = Vec::new();
    for (name, value) in resources["limits"].as_object().into_iter().flatten() {
        let (entry_errors, quantity) = validate_entry(name, value, &limits_path.key(name));
        errors.extend(entry_errors);
        if let Some(quantity) = quantity {
            limits.push((name, quantity));
        }
    }
    for (name, value) in resources["requests"].as_object().into_iter().flatten() {
        let (entry_errors, quantity) = validate_entry(name, value, &requests_path.key(name));
        errors.extend(entry_errors);
        let Some(request) = quantity else { continue };
        let limit = limits.iter().find(|(n, _)| n == name).map(|(_, q)| q);
        match limit {
            Some(limit) if request != *limit && !overcommit_allowed(name) => {
                errors.push(FieldError::invalid(
                    &requests_path,
                    request.canonical(),
                    format!("must be equal to {name} limit of {}", limit.canonical()),
                ));
            }
            Some(limit) if request > *limit => {
                errors.push(FieldError::invalid(
                    &requests_path,
                    request.canonical(),
                    format!(
                        "must be less than or equal to {name} limit of {}",
                        limit.canonical()
                    ),
                ));
            }
            None if !overcommit_allowed(name) => {
                errors.push(FieldError::required(
                    &limits_path,
                    "Limit must be set for non overcommitable resources",
                ));
            }
            _ => {}
        }
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn requests_above_limits() {
        let resources = json!({"limits": {"cpu": "500m", "memory": "1Gi"}, "requests": {"cpu": "1", "memory": "1024Mi"}});
        let got: Vec<String> =
            validate_container_resources(&resources, &Path::new("spec").child("resources"))
                .iter()
                .map(ToString::to_string)
                .collect();
        assert_eq!(got, vec!["spec.resources.requests: Invalid value: \"1\": must be less than or equal to cpu limit of 500m"]);
    }

    #[test]
    fn bad_quantities_and_names() {
        let resources = json!({"requests": {"cpu": "lots", "gpu": "1"}});
        let got: Vec<String> = validate_container_resources(&resources, &Path::new("r"))
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(got, vec![
            format!("r.requests[cpu]: Invalid value: \"lots\": {QUANTITY_FORMAT_ERROR}"),
            "r.requests[gpu]: Invalid value: \"gpu\": must be a standard resource for containers".to_string(),
        ]);
    }
}
