//! Upstream's `dropTypeDependentFields`: when an update changes a Service's type, fields that only
//! the old type allowed are dropped if the client left them as they were (so `kubectl patch -p
//! '{"spec":{"type":"ClusterIP"}}'` turns a LoadBalancer into a ClusterIP Service).

use serde_json::Value;

use super::service_allocation::{service_type, wants_node_ports};

fn has_external_ips(service: &Value) -> bool {
    service
        .get("spec")
        .and_then(|s| s.get("externalIPs"))
        .and_then(Value::as_array)
        .is_some_and(|ips| !ips.is_empty())
}

/// Drops from `new.spec` what its type no longer allows and the client did not change.
pub fn drop_type_dependent_fields(new: &mut Value, old: &Value) {
    let new_type = service_type(new).to_string();
    if new_type == service_type(old) {
        return;
    }
    let needs_node_ports = wants_node_ports(new);
    let is_load_balancer = new_type == "LoadBalancer";
    let external = needs_node_ports || has_external_ips(new);
    let old_spec = old.get("spec").cloned().unwrap_or(Value::Null);
    let Some(spec) = new.get_mut("spec").and_then(Value::as_object_mut) else {
        return;
    };
    let mut drop_if_unchanged = |field: &str| {
        if spec.get(field) == old_spec.get(field) {
            spec.remove(field);
        }
    };
    if !is_load_balancer {
        drop_if_unchanged("allocateLoadBalancerNodePorts");
        drop_if_unchanged("loadBalancerClass");
        drop_if_unchanged("healthCheckNodePort");
    }
    if !external {
        drop_if_unchanged("externalTrafficPolicy");
    }
    if new_type == "ExternalName" {
        drop_if_unchanged("clusterIP");
        drop_if_unchanged("clusterIPs");
    }
    if needs_node_ports {
        return;
    }
    let old_ports = old_spec.get("ports").and_then(Value::as_array);
    if let Some(ports) = spec.get_mut("ports").and_then(Value::as_array_mut) {
        for (index, port) in ports.iter_mut().enumerate() {
            let old_node_port = old_ports
                .and_then(|p| p.get(index))
                .and_then(|p| p.get("nodePort"));
            if let Some(fields) = port.as_object_mut() {
                if fields.get("nodePort") == old_node_port {
                    fields.remove("nodePort");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn load_balancer() -> Value {
        json!({"spec": {"type": "LoadBalancer", "clusterIP": "10.43.0.9",
            "externalTrafficPolicy": "Cluster", "allocateLoadBalancerNodePorts": true,
            "ports": [{"port": 80, "nodePort": 30080}]}})
    }

    #[test]
    fn a_load_balancer_patched_to_cluster_ip_loses_its_node_ports_and_policy() {
        let old = load_balancer();
        let mut new = old.clone();
        new["spec"]["type"] = json!("ClusterIP");
        drop_type_dependent_fields(&mut new, &old);
        assert_eq!(
            new,
            json!({"spec": {"type": "ClusterIP", "clusterIP": "10.43.0.9",
                "ports": [{"port": 80}]}})
        );
    }

    #[test]
    fn fields_the_client_changed_are_kept_for_validation_to_judge() {
        let old = load_balancer();
        let mut new = old.clone();
        new["spec"]["type"] = json!("ClusterIP");
        new["spec"]["ports"][0]["nodePort"] = json!(30081);
        drop_type_dependent_fields(&mut new, &old);
        assert_eq!(new["spec"]["ports"][0]["nodePort"], 30081);
    }

    #[test]
    fn load_balancer_to_node_port_keeps_node_ports() {
        let old = load_balancer();
        let mut new = old.clone();
        new["spec"]["type"] = json!("NodePort");
        drop_type_dependent_fields(&mut new, &old);
        assert_eq!(new["spec"]["ports"][0]["nodePort"], 30080);
        assert_eq!(new["spec"]["externalTrafficPolicy"], "Cluster");
        assert!(new["spec"].get("allocateLoadBalancerNodePorts").is_none());
    }
}
