//! The CertificateSigningRequest strategies, as upstream's `pkg/registry/certificates`: the
//! requester's identity is recorded at create and the spec never changes afterwards; approval
//! conditions change only through `/approval`, the issued certificate only through `/status`.

use serde_json::{json, Map, Value};

use super::object_meta::now_rfc3339;
use super::strategy::WriteTarget;
use crate::authn::UserInfo;

const APPROVAL_CONDITIONS: [&str; 2] = ["Approved", "Denied"];

pub fn is_certificate_signing_request(group: &str, kind: &str) -> bool {
    group == "certificates.k8s.io" && kind == "CertificateSigningRequest"
}

/// Record who asked, whatever the body claims, and start without a status.
pub fn prepare_for_create(object: &mut Value, requester: &UserInfo) {
    let Some(fields) = object.as_object_mut() else {
        return;
    };
    let spec = fields
        .entry("spec")
        .or_insert_with(|| Value::Object(Map::new()));
    if let Some(spec) = spec.as_object_mut() {
        spec.insert("username".into(), json!(requester.name));
        if requester.uid.is_empty() {
            spec.remove("uid");
        } else {
            spec.insert("uid".into(), json!(requester.uid));
        }
        spec.insert("groups".into(), json!(requester.groups));
        spec.remove("extra");
    }
    fields.insert("status".into(), json!({}));
}

fn conditions(object: &Value) -> Vec<Value> {
    object
        .get("status")
        .and_then(|s| s.get("conditions"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

fn condition_type(condition: &Value) -> &str {
    condition.get("type").and_then(Value::as_str).unwrap_or("")
}

fn is_approval_condition(condition: &Value) -> bool {
    APPROVAL_CONDITIONS.contains(&condition_type(condition))
}

fn set_conditions(object: &mut Value, conditions: Vec<Value>) {
    let Some(fields) = object.as_object_mut() else {
        return;
    };
    let status = fields
        .entry("status")
        .or_insert_with(|| Value::Object(Map::new()));
    if let Some(status) = status.as_object_mut() {
        if conditions.is_empty() {
            status.remove("conditions");
        } else {
            status.insert("conditions".into(), Value::Array(conditions));
        }
    }
}

/// Default a condition's status to True and fill the times the client left out: a condition that
/// keeps its old status keeps its old transition time.
fn populate_condition_times(conditions: &mut [Value], old: &[Value], now: &str) {
    for condition in conditions.iter_mut() {
        let Some(fields) = condition.as_object_mut() else {
            continue;
        };
        let status = fields
            .get("status")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .unwrap_or("True")
            .to_string();
        fields.insert("status".into(), json!(status));
        let kind = fields.get("type").and_then(Value::as_str).unwrap_or("");
        let previous = old
            .iter()
            .find(|c| condition_type(c) == kind && c.get("status") == Some(&json!(status)));
        for time_field in ["lastUpdateTime", "lastTransitionTime"] {
            let missing = fields
                .get(time_field)
                .and_then(Value::as_str)
                .is_none_or(str::is_empty);
            if !missing {
                continue;
            }
            let inherited = (time_field == "lastTransitionTime")
                .then(|| previous.and_then(|p| p.get(time_field)).cloned())
                .flatten();
            fields.insert(time_field.into(), inherited.unwrap_or_else(|| json!(now)));
        }
    }
}

/// Shape an update of a CSR: the spec is always the old one; `/approval` changes only the
/// conditions, `/status` everything in status but the approval conditions.
pub fn prepare_for_update(target: WriteTarget, new: &mut Value, old: &Value) {
    if let (Some(fields), Some(spec)) = (new.as_object_mut(), old.get("spec")) {
        fields.insert("spec".into(), spec.clone());
    }
    let old_conditions = conditions(old);
    let mut wanted = match target {
        WriteTarget::Approval => {
            let wanted = conditions(new);
            if let Some(fields) = new.as_object_mut() {
                match old.get("status") {
                    Some(status) => fields.insert("status".into(), status.clone()),
                    None => fields.remove("status"),
                };
            }
            wanted
        }
        WriteTarget::Status => {
            let mut wanted: Vec<Value> = conditions(new)
                .into_iter()
                .filter(|c| !is_approval_condition(c))
                .collect();
            wanted.extend(
                old_conditions
                    .iter()
                    .filter(|c| is_approval_condition(c))
                    .cloned(),
            );
            wanted
        }
        _ => return,
    };
    populate_condition_times(&mut wanted, &old_conditions, &now_rfc3339());
    set_conditions(new, wanted);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn csr() -> Value {
        json!({
            "metadata": {"name": "c"},
            "spec": {"request": "UEVN", "signerName": "kubernetes.io/kube-apiserver-client-kubelet",
                     "usages": ["client auth"], "username": "old"},
            "status": {}
        })
    }

    #[test]
    fn create_records_the_requester() {
        let mut object = csr();
        object["spec"]["username"] = json!("admin");
        object["spec"]["extra"] = json!({"a": ["b"]});
        object["status"] = json!({"certificate": "Zm9v"});
        let user = UserInfo {
            name: "system:bootstrap:server".into(),
            uid: String::new(),
            groups: vec!["system:bootstrappers".into(), "system:authenticated".into()],
        };
        prepare_for_create(&mut object, &user);
        assert_eq!(object["spec"]["username"], "system:bootstrap:server");
        assert_eq!(
            object["spec"]["groups"],
            json!(["system:bootstrappers", "system:authenticated"])
        );
        assert!(object["spec"].get("extra").is_none());
        assert!(object["spec"].get("uid").is_none());
        assert_eq!(object["status"], json!({}));
    }

    #[test]
    fn approval_changes_only_conditions() {
        let old = csr();
        let mut new = csr();
        new["spec"]["username"] = json!("mallory");
        new["status"] = json!({"certificate": "Zm9v", "conditions": [
            {"type": "Approved", "reason": "AutoApproved", "message": "ok"}
        ]});
        prepare_for_update(WriteTarget::Approval, &mut new, &old);
        assert_eq!(new["spec"]["username"], "old");
        assert!(new["status"].get("certificate").is_none());
        let condition = &new["status"]["conditions"][0];
        assert_eq!(condition["type"], "Approved");
        assert_eq!(condition["status"], "True");
        assert!(condition["lastUpdateTime"].is_string());
        assert!(condition["lastTransitionTime"].is_string());
    }

    #[test]
    fn status_keeps_the_approval_conditions() {
        let mut old = csr();
        old["status"] = json!({"conditions": [{"type": "Approved", "status": "True",
            "lastUpdateTime": "2024-01-01T00:00:00Z", "lastTransitionTime": "2024-01-01T00:00:00Z"}]});
        let mut new = csr();
        new["status"] = json!({"certificate": "Zm9v", "conditions": [
            {"type": "Denied", "status": "True"},
            {"type": "Failed", "status": "True", "reason": "SignerError"}
        ]});
        prepare_for_update(WriteTarget::Status, &mut new, &old);
        assert_eq!(new["status"]["certificate"], "Zm9v");
        let types: Vec<&str> = new["status"]["conditions"]
            .as_array()
            .unwrap()
            .iter()
            .map(condition_type)
            .collect();
        assert_eq!(types, vec!["Failed", "Approved"]);
        assert_eq!(
            new["status"]["conditions"][1]["lastTransitionTime"],
            "2024-01-01T00:00:00Z"
        );
    }

    #[test]
    fn main_updates_keep_the_spec() {
        let old = csr();
        let mut new = csr();
        new["spec"]["signerName"] = json!("example.com/other");
        prepare_for_update(WriteTarget::Main, &mut new, &old);
        assert_eq!(
            new["spec"]["signerName"],
            "kubernetes.io/kube-apiserver-client-kubelet"
        );
    }
}
