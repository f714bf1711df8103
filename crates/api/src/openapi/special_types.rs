//! Types whose JSON form is not a plain object: int-or-string and quantities. Upstream's v3
//! documents describe them with `oneOf` alternatives; the generated schemas only carry
//! `x-kubernetes-int-or-string`, which is kept.

use serde_json::{json, Map, Value};

pub(crate) const INT_OR_STRING: &str = "io.k8s.apimachinery.pkg.util.intstr.IntOrString";
pub(crate) const QUANTITY: &str = "io.k8s.apimachinery.pkg.api.resource.Quantity";

/// Gives IntOrString and Quantity upstream's v3 shape.
pub(crate) fn reshape_special_types(definitions: &mut Map<String, Value>) {
    if let Some(Value::Object(int_or_string)) = definitions.get_mut(INT_OR_STRING) {
        int_or_string.insert("format".into(), "int-or-string".into());
        int_or_string.insert(
            "oneOf".into(),
            json!([{ "type": "integer" }, { "type": "string" }]),
        );
    }
    if let Some(Value::Object(quantity)) = definitions.get_mut(QUANTITY) {
        quantity.insert(
            "oneOf".into(),
            json!([{ "type": "string" }, { "type": "number" }]),
        );
    }
}
