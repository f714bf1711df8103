//! Admission for new Pods, as upstream's built-in plugins: ServiceAccount (default account name),
//! DefaultTolerationSeconds (tolerate not-ready/unreachable for 300 s) and Priority (resolve
//! priorityClassName into spec.priority).

use serde_json::{json, Value};

use super::keys::object_key;
use super::Registry;
use crate::status::ApiError;
use crate::watch_cache::CachedObject;

/// How long pods tolerate a not-ready or unreachable node by default.
const DEFAULT_TOLERATION_SECONDS: i64 = 300;
const NODE_PROBLEM_TAINTS: [&str; 2] = [
    "node.kubernetes.io/not-ready",
    "node.kubernetes.io/unreachable",
];

fn spec_mut(pod: &mut Value) -> Option<&mut serde_json::Map<String, Value>> {
    pod.get_mut("spec")?.as_object_mut()
}

/// `default` unless the pod names a service account.
fn default_service_account(pod: &mut Value) {
    let Some(spec) = spec_mut(pod) else { return };
    let named = spec
        .get("serviceAccountName")
        .or_else(|| spec.get("serviceAccount"))
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
        .unwrap_or("default")
        .to_string();
    spec.insert("serviceAccountName".into(), json!(named));
    spec.insert("serviceAccount".into(), json!(named));
}

/// Tolerate not-ready and unreachable nodes for 300 s unless the pod already says otherwise.
fn default_tolerations(pod: &mut Value) {
    let Some(spec) = spec_mut(pod) else { return };
    let mut tolerations = spec
        .get("tolerations")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for key in NODE_PROBLEM_TAINTS {
        let covered = tolerations.iter().any(|t| {
            let effect = t.get("effect").and_then(Value::as_str).unwrap_or("");
            let matches_key = match t.get("key").and_then(Value::as_str) {
                Some(k) if !k.is_empty() => k == key,
                // An empty key with operator Exists tolerates every taint.
                _ => t.get("operator").and_then(Value::as_str) == Some("Exists"),
            };
            matches_key && (effect.is_empty() || effect == "NoExecute")
        });
        if !covered {
            tolerations.push(json!({
                "key": key,
                "operator": "Exists",
                "effect": "NoExecute",
                "tolerationSeconds": DEFAULT_TOLERATION_SECONDS,
            }));
        }
    }
    spec.insert("tolerations".into(), Value::Array(tolerations));
}

impl Registry {
    fn priority_class(&self, name: &str) -> Option<Value> {
        self.cache
            .resource("priorityclasses")?
            .get(&object_key("priorityclasses", None, name))
            .map(|o| o.value())
    }

    fn global_default_priority_class(&self) -> Option<Value> {
        self.cache
            .resource("priorityclasses")?
            .list("/registry/priorityclasses/", &is_global_default)
            .first()
            .map(|o| o.value())
    }

    /// Resolve the pod's priority from its PriorityClass (or the global default class).
    fn resolve_priority(&self, pod: &mut Value, pod_name: &str) -> Result<(), ApiError> {
        let class_name = pod
            .get("spec")
            .and_then(|s| s.get("priorityClassName"))
            .and_then(Value::as_str)
            .filter(|n| !n.is_empty())
            .map(str::to_string);
        let class = match &class_name {
            Some(name) => Some(self.priority_class(name).ok_or_else(|| {
                ApiError::forbidden(format!(
                    "pods \"{pod_name}\" is forbidden: no PriorityClass with name {name} was found"
                ))
            })?),
            None => self.global_default_priority_class(),
        };
        let Some(spec) = spec_mut(pod) else {
            return Ok(());
        };
        let (value, policy, name) = match &class {
            Some(class) => (
                class.get("value").and_then(Value::as_i64).unwrap_or(0),
                class
                    .get("preemptionPolicy")
                    .and_then(Value::as_str)
                    .unwrap_or("PreemptLowerPriority")
                    .to_string(),
                class.get("metadata").and_then(|m| m.get("name")).cloned(),
            ),
            None => (0, "PreemptLowerPriority".to_string(), None),
        };
        if let Some(given) = spec.get("priority").and_then(Value::as_i64) {
            if given != value {
                return Err(ApiError::forbidden(format!(
                    "pods \"{pod_name}\" is forbidden: the integer value of priority ({given}) must not be provided in pod spec; priority admission controller computed {value} from the given PriorityClass name"
                )));
            }
        }
        spec.insert("priority".into(), json!(value));
        spec.insert("preemptionPolicy".into(), json!(policy));
        if let Some(name) = name {
            spec.insert("priorityClassName".into(), name);
        }
        Ok(())
    }

    /// The projected token volume of upstream's ServiceAccount admission (mirror pods excepted).
    fn mount_service_account_token(&self, pod: &mut Value) {
        let metadata = pod.get("metadata");
        let is_mirror = metadata
            .and_then(|m| m.get("annotations"))
            .and_then(|a| a.get("kubernetes.io/config.mirror"))
            .is_some();
        let namespace = metadata
            .and_then(|m| m.get("namespace"))
            .and_then(Value::as_str)
            .unwrap_or("default")
            .to_string();
        let account_name = pod
            .get("spec")
            .and_then(|s| s.get("serviceAccountName"))
            .and_then(Value::as_str)
            .unwrap_or("default")
            .to_string();
        let account = self.cache.resource("serviceaccounts").and_then(|r| {
            r.get(&object_key(
                "serviceaccounts",
                Some(&namespace),
                &account_name,
            ))
            .map(|o| o.value())
        });
        if is_mirror || !super::service_account_volume::should_automount(pod, account.as_ref()) {
            return;
        }
        if let Some(spec) = spec_mut(pod) {
            super::service_account_volume::add_token_volume(spec);
        }
    }

    /// Mutating admission of a new Pod.
    pub fn admit_new_pod(&self, pod: &mut Value) -> Result<(), ApiError> {
        let name = pod
            .get("metadata")
            .and_then(|m| m.get("name").or_else(|| m.get("generateName")))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        default_service_account(pod);
        self.mount_service_account_token(pod);
        default_tolerations(pod);
        self.resolve_priority(pod, &name)
    }
}

/// Whether a cached PriorityClass is the global default, read without parsing the rest of it:
/// every pod admission asks, of every class.
fn is_global_default(object: &CachedObject) -> bool {
    #[derive(serde::Deserialize)]
    struct GlobalDefault {
        #[serde(rename = "globalDefault", default)]
        global_default: Option<bool>,
    }
    serde_json::from_slice::<GlobalDefault>(&object.json)
        .is_ok_and(|class| class.global_default == Some(true))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_tolerations_are_added_once() {
        let mut pod = json!({"spec": {"tolerations": [
            {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 2}
        ]}});
        default_tolerations(&mut pod);
        let tolerations = pod["spec"]["tolerations"].as_array().unwrap();
        assert_eq!(tolerations.len(), 2);
        assert_eq!(tolerations[0]["tolerationSeconds"], 2);
        assert_eq!(tolerations[1]["key"], "node.kubernetes.io/not-ready");
        assert_eq!(tolerations[1]["tolerationSeconds"], 300);
        let mut tolerate_all = json!({"spec": {"tolerations": [{"operator": "Exists"}]}});
        default_tolerations(&mut tolerate_all);
        assert_eq!(
            tolerate_all["spec"]["tolerations"]
                .as_array()
                .unwrap()
                .len(),
            1
        );
    }

    #[test]
    fn service_account_defaults_to_default() {
        let mut pod = json!({"spec": {}});
        default_service_account(&mut pod);
        assert_eq!(pod["spec"]["serviceAccountName"], "default");
        let mut named = json!({"spec": {"serviceAccountName": "builder"}});
        default_service_account(&mut named);
        assert_eq!(named["spec"]["serviceAccount"], "builder");
    }
}
