//! Int-or-percent fields ("25%", 1): rolling update budgets, disruption budgets.

use serde_json::Value;

use super::identifiers;
use super::object_meta::nonnegative;
use crate::field_error::{FieldError, Path};

/// An int-or-percent that must not be negative ("25%", 1).
pub fn positive_int_or_percent(value: &Value, path: &Path) -> Vec<FieldError> {
    match value {
        Value::String(text) => identifiers::percent(text)
            .into_iter()
            .map(|message| FieldError::invalid(path, value.clone(), message))
            .collect(),
        Value::Number(_) => nonnegative(value.as_i64().unwrap_or(0), path),
        _ => Vec::new(),
    }
}

pub fn percent_or_int_value(value: &Value) -> i64 {
    match value {
        Value::String(text) => text
            .strip_suffix('%')
            .and_then(|d| d.parse().ok())
            .unwrap_or(0),
        other => other.as_i64().unwrap_or(0),
    }
}

pub fn not_more_than_100_percent(value: &Value, path: &Path) -> Vec<FieldError> {
    let is_percent = value
        .as_str()
        .is_some_and(|t| identifiers::percent(t).is_empty());
    if is_percent && percent_or_int_value(value) > 100 {
        vec![FieldError::invalid(
            path,
            value.clone(),
            "must not be greater than 100%",
        )]
    } else {
        Vec::new()
    }
}
