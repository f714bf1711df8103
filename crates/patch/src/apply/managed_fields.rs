//! `metadata.managedFields` entries: decoding, identity, encoding in upstream's order.

use serde_json::{Map, Value};

use super::fieldset::FieldSet;

pub const APPLY: &str = "Apply";
pub const UPDATE: &str = "Update";

/// One managedFields entry.
#[derive(Clone, Debug, PartialEq)]
pub struct ManagedEntry {
    pub manager: String,
    pub operation: String,
    pub api_version: String,
    pub time: Option<String>,
    pub subresource: String,
    pub fields: FieldSet,
}

impl ManagedEntry {
    pub fn new(
        manager: &str,
        operation: &str,
        api_version: &str,
        subresource: &str,
    ) -> ManagedEntry {
        ManagedEntry {
            manager: manager.to_string(),
            operation: operation.to_string(),
            api_version: api_version.to_string(),
            time: None,
            subresource: subresource.to_string(),
            fields: FieldSet::new(),
        }
    }

    /// Whether this entry is the one a write by (manager, operation, apiVersion, subresource)
    /// records into. Appliers are one entry whatever the apiVersion; updaters one per version.
    pub fn is(&self, manager: &str, operation: &str, api_version: &str, subresource: &str) -> bool {
        self.manager == manager
            && self.operation == operation
            && self.subresource == subresource
            && (operation == APPLY || self.api_version == api_version)
    }

    /// The manager as conflict messages name it: `"kubectl"`, or for updaters
    /// `"kube-controller-manager" using apps/v1` (with `with subresource "status"` if any).
    pub fn describe(&self) -> String {
        let mut s = Value::String(self.manager.clone()).to_string();
        if !self.subresource.is_empty() {
            s = format!(
                "{s} with subresource {}",
                Value::String(self.subresource.clone())
            );
        }
        if self.operation == UPDATE {
            s = format!("{s} using {}", self.api_version);
        }
        s
    }

    fn decode(v: &Value) -> Result<ManagedEntry, String> {
        let text = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        let fields = match v.get("fieldsV1") {
            Some(f) => FieldSet::from_fields_v1(f)?,
            None => FieldSet::new(),
        };
        match v.get("fieldsType").and_then(Value::as_str) {
            None | Some("FieldsV1") => {}
            Some(other) => return Err(format!("invalid fieldsType {other:?}")),
        }
        let operation = text("operation");
        if operation != APPLY && operation != UPDATE {
            return Err(format!("invalid operation {operation:?}"));
        }
        Ok(ManagedEntry {
            manager: text("manager"),
            operation,
            api_version: text("apiVersion"),
            time: v.get("time").and_then(Value::as_str).map(str::to_string),
            subresource: text("subresource"),
            fields,
        })
    }

    fn encode(&self) -> Value {
        let mut m = Map::new();
        m.insert("manager".into(), Value::String(self.manager.clone()));
        m.insert("operation".into(), Value::String(self.operation.clone()));
        m.insert("apiVersion".into(), Value::String(self.api_version.clone()));
        if let Some(t) = &self.time {
            m.insert("time".into(), Value::String(t.clone()));
        }
        m.insert("fieldsType".into(), Value::String("FieldsV1".into()));
        m.insert("fieldsV1".into(), self.fields.to_fields_v1());
        if !self.subresource.is_empty() {
            m.insert(
                "subresource".into(),
                Value::String(self.subresource.clone()),
            );
        }
        Value::Object(m)
    }
}

/// Decode `metadata.managedFields` of `obj`; absent means no entries.
pub fn decode(obj: &Value) -> Result<Vec<ManagedEntry>, String> {
    match obj.get("metadata").and_then(|m| m.get("managedFields")) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items.iter().map(ManagedEntry::decode).collect(),
        Some(_) => Err("managedFields is not a list".to_string()),
    }
}

/// Encode entries as upstream stores them: empty ones dropped, Apply before Update, then by
/// time, manager, apiVersion and subresource.
pub fn encode(mut entries: Vec<ManagedEntry>) -> Value {
    entries.retain(|e| !e.fields.is_empty());
    entries.sort_by(|a, b| {
        a.operation
            .cmp(&b.operation)
            .then_with(|| {
                a.time
                    .as_deref()
                    .unwrap_or("")
                    .cmp(b.time.as_deref().unwrap_or(""))
            })
            .then_with(|| a.manager.cmp(&b.manager))
            .then_with(|| a.api_version.cmp(&b.api_version))
            .then_with(|| a.subresource.cmp(&b.subresource))
    });
    Value::Array(entries.iter().map(ManagedEntry::encode).collect())
}

/// Remove `metadata.managedFields` from an object.
pub fn strip(obj: &Value) -> Value {
    let mut out = obj.clone();
    remove(&mut out);
    out
}

/// Drops `metadata.managedFields` from `obj` in place.
pub fn remove(obj: &mut Value) {
    if let Some(Value::Object(meta)) = obj.get_mut("metadata") {
        meta.remove("managedFields");
    }
}

/// Store entries in `metadata.managedFields` (removing the field when there are none).
pub fn store(obj: &mut Value, entries: Vec<ManagedEntry>) {
    let encoded = encode(entries);
    let Value::Object(root) = obj else {
        return;
    };
    let meta = root
        .entry("metadata")
        .or_insert_with(|| Value::Object(Map::new()));
    if let Value::Object(meta) = meta {
        if encoded.as_array().is_some_and(Vec::is_empty) {
            meta.remove("managedFields");
        } else {
            meta.insert("managedFields".into(), encoded);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn decode_encode_sorted() {
        let obj = json!({"metadata": {"managedFields": [
            {"manager": "kubectl", "operation": "Update", "apiVersion": "apps/v1", "time": "2026-01-01T00:00:02Z", "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {"f:replicas": {}}}},
            {"manager": "kubectl-last-applied", "operation": "Apply", "apiVersion": "apps/v1", "fieldsType": "FieldsV1", "fieldsV1": {"f:metadata": {"f:annotations": {"f:a": {}}}}},
            {"manager": "kcm", "operation": "Update", "apiVersion": "apps/v1", "time": "2026-01-01T00:00:01Z", "fieldsType": "FieldsV1", "fieldsV1": {"f:status": {"f:replicas": {}}}, "subresource": "status"},
        ]}});
        let entries = decode(&obj).unwrap();
        let encoded = encode(entries);
        let managers: Vec<&str> = encoded
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["manager"].as_str().unwrap())
            .collect();
        assert_eq!(managers, ["kubectl-last-applied", "kcm", "kubectl"]);
        assert_eq!(encoded[1]["subresource"], "status");
        assert!(encoded[0].get("time").is_none());
    }

    #[test]
    fn describe() {
        let mut e = ManagedEntry::new("kubectl-client-side-apply", UPDATE, "apps/v1", "");
        assert_eq!(e.describe(), "\"kubectl-client-side-apply\" using apps/v1");
        e.subresource = "status".into();
        assert_eq!(
            e.describe(),
            "\"kubectl-client-side-apply\" with subresource \"status\" using apps/v1"
        );
        assert_eq!(
            ManagedEntry::new("kubectl", APPLY, "v1", "").describe(),
            "\"kubectl\""
        );
    }

    #[test]
    fn rejects_bad_entries() {
        assert!(decode(&json!({"metadata": {"managedFields": [{"operation": "Frob"}]}})).is_err());
        assert!(decode(&json!({"metadata": {"managedFields": {}}})).is_err());
    }
}
