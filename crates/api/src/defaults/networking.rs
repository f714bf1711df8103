//! networking.k8s.io/v1 NetworkPolicies: port protocols and `policyTypes`.

use serde_json::{json, Value};

use super::{fill, items_at, object_at};

pub fn default_network_policy(obj: &mut Value) {
    let Some(spec) = object_at(obj, "spec") else {
        return;
    };
    for direction in ["ingress", "egress"] {
        for rule in items_at(spec, direction) {
            for port in items_at(rule, "ports") {
                fill(port, "protocol", "TCP".into());
            }
        }
    }
    if spec["policyTypes"].as_array().is_none_or(Vec::is_empty) {
        let has_egress = spec["egress"].as_array().is_some_and(|e| !e.is_empty());
        spec["policyTypes"] = if has_egress {
            json!(["Ingress", "Egress"])
        } else {
            json!(["Ingress"])
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_types_follow_rules() {
        let mut policy = json!({"spec": {"egress": [{"ports": [{"port": 53}]}]}});
        default_network_policy(&mut policy);
        assert_eq!(policy["spec"]["policyTypes"], json!(["Ingress", "Egress"]));
        assert_eq!(policy["spec"]["egress"][0]["ports"][0]["protocol"], "TCP");
    }
}
