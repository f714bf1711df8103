//! HorizontalPodAutoscalers (autoscaling/v1 and v2), as upstream's `SetDefaults_HorizontalPodAutoscaler`.

use serde_json::{json, Value};

use super::{fill, object_at};

/// Upstream's `DefaultCPUUtilization`.
const DEFAULT_CPU_UTILIZATION: i64 = 80;

pub fn default_horizontal_pod_autoscaler(obj: &mut Value) {
    let version_two = obj["apiVersion"]
        .as_str()
        .is_some_and(|v| v.ends_with("/v2"));
    let Some(spec) = object_at(obj, "spec") else {
        return;
    };
    fill(spec, "minReplicas", 1.into());
    if !version_two {
        return;
    }
    if spec["metrics"].as_array().is_none_or(Vec::is_empty) {
        spec["metrics"] = json!([{"type": "Resource", "resource": {"name": "cpu", "target": {
            "type": "Utilization", "averageUtilization": DEFAULT_CPU_UTILIZATION}}}]);
    }
    let Some(behavior) = spec.get_mut("behavior").filter(|b| b.is_object()) else {
        return;
    };
    if let Some(up) = object_at(behavior, "scaleUp") {
        fill(up, "stabilizationWindowSeconds", 0.into());
        fill(up, "selectPolicy", "Max".into());
        fill(
            up,
            "policies",
            json!([
                {"type": "Pods", "value": 4, "periodSeconds": 15},
                {"type": "Percent", "value": 100, "periodSeconds": 15},
            ]),
        );
    }
    if let Some(down) = object_at(behavior, "scaleDown") {
        fill(down, "selectPolicy", "Max".into());
        fill(
            down,
            "policies",
            json!([{"type": "Percent", "value": 100, "periodSeconds": 15}]),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v2_gets_cpu_metric() {
        let mut hpa = json!({"apiVersion": "autoscaling/v2", "spec": {"maxReplicas": 3}});
        default_horizontal_pod_autoscaler(&mut hpa);
        assert_eq!(hpa["spec"]["minReplicas"], 1);
        assert_eq!(
            hpa["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"],
            80
        );
    }
}
