//! v2's `spec.behavior` in the behavior annotation. Upstream marshals its *internal* type there,
//! which has no JSON tags: the keys are Go's field names (`ScaleUp`, `StabilizationWindowSeconds`,
//! ...) and every unset pointer or slice is written `null`.

use serde_json::{json, Map, Value};

use super::go_json::{self, Decoded, Struct};
use super::{dig, string_or_empty};

/// The two directions: v2's name and the internal type's.
const DIRECTIONS: [(&str, &str); 2] = [("scaleUp", "ScaleUp"), ("scaleDown", "ScaleDown")];

/// `HPAScalingRules`' optional fields: v2's name and the internal type's (policies aside).
const RULE_FIELDS: [(&str, &str); 2] = [
    ("stabilizationWindowSeconds", "StabilizationWindowSeconds"),
    ("selectPolicy", "SelectPolicy"),
];

/// A v2 behavior as the annotation holds it.
pub(super) fn to_annotation(behavior: &Value) -> Value {
    let mut out = Map::new();
    for (v2, internal) in DIRECTIONS {
        let rules = dig(behavior, &[v2]).map_or(Value::Null, rules_to_annotation);
        out.insert(internal.into(), rules);
    }
    Value::Object(out)
}

/// The behavior in annotation `text`; `None` when Go could not read it or it sets neither
/// direction.
pub(super) fn from_annotation(text: &str) -> Option<Value> {
    let behavior = go_json::decode_struct(text, |behavior| {
        let mut out = Map::new();
        for (v2, internal) in DIRECTIONS {
            if let Some(rules) = behavior.nested(internal)? {
                out.insert(v2.into(), rules_from_annotation(rules)?);
            }
        }
        Ok(out)
    })?;
    (!behavior.is_empty()).then_some(Value::Object(behavior))
}

fn rules_to_annotation(rules: &Value) -> Value {
    let mut out = Map::new();
    for (v2, internal) in RULE_FIELDS {
        out.insert(
            internal.into(),
            dig(rules, &[v2]).cloned().unwrap_or(Value::Null),
        );
    }
    let policies = dig(rules, &["policies"]).and_then(Value::as_array).map(|policies| {
        policies
            .iter()
            .map(|policy| {
                json!({
                    "Type": string_or_empty(policy, "type"),
                    "Value": dig(policy, &["value"]).cloned().unwrap_or_else(|| 0.into()),
                    "PeriodSeconds": dig(policy, &["periodSeconds"]).cloned().unwrap_or_else(|| 0.into()),
                })
            })
            .collect::<Vec<_>>()
    });
    out.insert(
        "Policies".into(),
        policies.map_or(Value::Null, Value::Array),
    );
    out.insert(
        "Tolerance".into(),
        dig(rules, &["tolerance"]).cloned().unwrap_or(Value::Null),
    );
    Value::Object(out)
}

fn rules_from_annotation(rules: Struct<'_>) -> Decoded<Value> {
    let mut out = Map::new();
    if let Some(seconds) = rules.int("StabilizationWindowSeconds")? {
        out.insert("stabilizationWindowSeconds".into(), seconds);
    }
    if let Some(select) = rules.string("SelectPolicy")? {
        out.insert("selectPolicy".into(), select.into());
    }
    if let Some(policies) = rules.list("Policies", policy_from_annotation)? {
        out.insert("policies".into(), Value::Array(policies));
    }
    if let Some(tolerance) = rules.quantity("Tolerance")? {
        out.insert("tolerance".into(), tolerance);
    }
    Ok(Value::Object(out))
}

fn policy_from_annotation(policy: Struct<'_>) -> Decoded<Value> {
    Ok(json!({
        "type": policy.string("Type")?.unwrap_or_default(),
        "value": policy.int("Value")?.unwrap_or_else(|| 0.into()),
        "periodSeconds": policy.int("PeriodSeconds")?.unwrap_or_else(|| 0.into()),
    }))
}
