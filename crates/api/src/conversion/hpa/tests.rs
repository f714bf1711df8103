//! HPA conversion: field mappings against upstream's output, round trips both ways.

use serde_json::{json, Value};

use crate::conversion::{convert, ConversionError};

type Outcome = Result<(), ConversionError>;

fn to_v1(v2: &Value) -> Result<Value, ConversionError> {
    convert(v2, "autoscaling", "v1")
}

fn to_v2(v1: &Value) -> Result<Value, ConversionError> {
    convert(v1, "autoscaling", "v2")
}

fn cpu(utilization: i64) -> Value {
    json!({"type": "Resource", "resource": {"name": "cpu",
        "target": {"type": "Utilization", "averageUtilization": utilization}}})
}

fn v2(spec: Value, status: Option<Value>) -> Value {
    let mut hpa = json!({
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"}},
        "spec": spec,
    });
    if let Some(status) = status {
        hpa["status"] = status;
    }
    hpa
}

fn scale_target() -> Value {
    json!({"kind": "Deployment", "name": "web", "apiVersion": "apps/v1"})
}

/// A v2 HPA with every kind of metric, a behavior and a full status; the CPU utilization metric
/// is last, where v1 puts it back.
fn full_v2() -> Value {
    v2(
        json!({
            "scaleTargetRef": scale_target(),
            "minReplicas": 2,
            "maxReplicas": 10,
            "metrics": [
                {"type": "Pods", "pods": {
                    "metric": {"name": "qps", "selector": {"matchLabels": {"tier": "front"}}},
                    "target": {"type": "AverageValue", "averageValue": "1k"}}},
                {"type": "Object", "object": {
                    "describedObject": {"kind": "Ingress", "name": "main", "apiVersion": "networking.k8s.io/v1"},
                    "target": {"type": "Value", "value": "10k"},
                    "metric": {"name": "requests"}}},
                {"type": "Resource", "resource": {"name": "memory",
                    "target": {"type": "AverageValue", "averageValue": "512Mi"}}},
                {"type": "ContainerResource", "containerResource": {"name": "cpu",
                    "target": {"type": "Utilization", "averageUtilization": 60}, "container": "app"}},
                {"type": "External", "external": {
                    "metric": {"name": "queue", "selector": {"matchLabels": {"q": "jobs"}}},
                    "target": {"type": "AverageValue", "averageValue": "30"}}},
                {"type": "External", "external": {
                    "metric": {"name": "lag"},
                    "target": {"type": "Value", "value": "100"}}},
                cpu(75),
            ],
            "behavior": {
                "scaleUp": {"stabilizationWindowSeconds": 0, "selectPolicy": "Max", "policies": [
                    {"type": "Pods", "value": 4, "periodSeconds": 15},
                    {"type": "Percent", "value": 100, "periodSeconds": 15}]},
                "scaleDown": {"stabilizationWindowSeconds": 300, "selectPolicy": "Min",
                    "policies": [{"type": "Percent", "value": 10, "periodSeconds": 60}],
                    "tolerance": "50m"},
            },
        }),
        Some(json!({
            "observedGeneration": 3,
            "lastScaleTime": "2025-01-01T00:00:00Z",
            "currentReplicas": 4,
            "desiredReplicas": 5,
            "currentMetrics": [
                {"type": "Resource", "resource": {"name": "cpu",
                    "current": {"averageValue": "250m", "averageUtilization": 82}}},
                {"type": "Pods", "pods": {"metric": {"name": "qps"},
                    "current": {"averageValue": "900"}}},
                {"type": "Object", "object": {"metric": {"name": "requests"},
                    "current": {"value": "9k"},
                    "describedObject": {"kind": "Ingress", "name": "main", "apiVersion": "networking.k8s.io/v1"}}},
                {"type": "External", "external": {"metric": {"name": "queue"},
                    "current": {"value": "0", "averageValue": "12"}}},
                {"type": "ContainerResource", "containerResource": {"name": "cpu",
                    "current": {"averageValue": "100m", "averageUtilization": 40}, "container": "app"}},
            ],
            "conditions": [
                {"type": "AbleToScale", "status": "True", "lastTransitionTime": "2025-01-01T00:00:00Z",
                 "reason": "ReadyForNewScale", "message": "recommended size matches current size"},
                {"type": "ScalingActive", "status": "True", "lastTransitionTime": "2025-01-01T00:00:00Z",
                 "reason": "ValidMetricFound", "message": "the HPA was able to compute a replica count"},
            ],
        })),
    )
}

fn annotation(object: &Value, key: &str) -> Option<Value> {
    let text = object["metadata"]["annotations"][key].as_str()?;
    serde_json::from_str(text).ok()
}

#[test]
fn v2_to_v1_maps_every_field() -> Outcome {
    let v1 = to_v1(&full_v2())?;
    assert_eq!(v1["apiVersion"], "autoscaling/v1");
    assert_eq!(v1["kind"], "HorizontalPodAutoscaler");
    assert_eq!(v1["metadata"]["labels"], json!({"app": "web"}));
    assert_eq!(
        v1["spec"],
        json!({"scaleTargetRef": scale_target(), "minReplicas": 2, "maxReplicas": 10,
               "targetCPUUtilizationPercentage": 75})
    );
    assert_eq!(
        v1["status"],
        json!({"observedGeneration": 3, "lastScaleTime": "2025-01-01T00:00:00Z",
               "currentReplicas": 4, "desiredReplicas": 5, "currentCPUUtilizationPercentage": 82})
    );
    let metrics = annotation(&v1, "autoscaling.alpha.kubernetes.io/metrics");
    let expected = json!([
        {"type": "Pods", "pods": {"metricName": "qps", "targetAverageValue": "1k",
            "selector": {"matchLabels": {"tier": "front"}}}},
        {"type": "Object", "object": {
            "target": {"kind": "Ingress", "name": "main", "apiVersion": "networking.k8s.io/v1"},
            "metricName": "requests", "targetValue": "10k"}},
        {"type": "Resource", "resource": {"name": "memory", "targetAverageValue": "512Mi"}},
        {"type": "ContainerResource", "containerResource": {"name": "cpu",
            "targetAverageUtilization": 60, "container": "app"}},
        {"type": "External", "external": {"metricName": "queue",
            "metricSelector": {"matchLabels": {"q": "jobs"}}, "targetAverageValue": "30"}},
        {"type": "External", "external": {"metricName": "lag", "targetValue": "100"}},
    ]);
    assert_eq!(metrics, Some(expected));
    let current = annotation(&v1, "autoscaling.alpha.kubernetes.io/current-metrics");
    let expected = json!([
        {"type": "Resource", "resource": {"name": "cpu", "currentAverageUtilization": 82,
            "currentAverageValue": "250m"}},
        {"type": "Pods", "pods": {"metricName": "qps", "currentAverageValue": "900"}},
        {"type": "Object", "object": {
            "target": {"kind": "Ingress", "name": "main", "apiVersion": "networking.k8s.io/v1"},
            "metricName": "requests", "currentValue": "9k"}},
        {"type": "External", "external": {"metricName": "queue", "currentValue": "0",
            "currentAverageValue": "12"}},
        {"type": "ContainerResource", "containerResource": {"name": "cpu",
            "currentAverageUtilization": 40, "currentAverageValue": "100m", "container": "app"}},
    ]);
    assert_eq!(current, Some(expected));
    let conditions = annotation(&v1, "autoscaling.alpha.kubernetes.io/conditions");
    assert_eq!(conditions, Some(full_v2()["status"]["conditions"].clone()));
    Ok(())
}

#[test]
fn behavior_annotation_is_gos_internal_json() -> Outcome {
    let v1 = to_v1(&full_v2())?;
    let text = v1["metadata"]["annotations"]["autoscaling.alpha.kubernetes.io/behavior"].as_str();
    let expected = concat!(
        r#"{"ScaleUp":{"StabilizationWindowSeconds":0,"SelectPolicy":"Max","Policies":["#,
        r#"{"Type":"Pods","Value":4,"PeriodSeconds":15},{"Type":"Percent","Value":100,"PeriodSeconds":15}],"#,
        r#""Tolerance":null},"ScaleDown":{"StabilizationWindowSeconds":300,"SelectPolicy":"Min","#,
        r#""Policies":[{"Type":"Percent","Value":10,"PeriodSeconds":60}],"Tolerance":"50m"}}"#,
    );
    assert_eq!(text, Some(expected));
    let only_up = v2(
        json!({"scaleTargetRef": scale_target(), "maxReplicas": 3, "metrics": [cpu(50)],
               "behavior": {"scaleUp": {"selectPolicy": "Disabled"}}}),
        None,
    );
    let v1 = to_v1(&only_up)?;
    let text = v1["metadata"]["annotations"]["autoscaling.alpha.kubernetes.io/behavior"].as_str();
    let expected = concat!(
        r#"{"ScaleUp":{"StabilizationWindowSeconds":null,"SelectPolicy":"Disabled","#,
        r#""Policies":null,"Tolerance":null},"ScaleDown":null}"#,
    );
    assert_eq!(text, Some(expected));
    Ok(())
}

#[test]
fn annotation_text_escapes_html_as_go_does() -> Outcome {
    let hpa = v2(
        json!({"scaleTargetRef": scale_target(), "maxReplicas": 3, "metrics": [cpu(50)]}),
        Some(
            json!({"desiredReplicas": 1, "conditions": [{"type": "ScalingLimited", "status": "True",
            "lastTransitionTime": "2025-01-01T00:00:00Z", "reason": "TooFewReplicas",
            "message": "desired < min & max > 0"}]}),
        ),
    );
    let v1 = to_v1(&hpa)?;
    let text = v1["metadata"]["annotations"]["autoscaling.alpha.kubernetes.io/conditions"].as_str();
    let expected = concat!(
        r#"[{"type":"ScalingLimited","status":"True","lastTransitionTime":"2025-01-01T00:00:00Z","#,
        r#""reason":"TooFewReplicas","message":"desired \u003c min \u0026 max \u003e 0"}]"#,
    );
    assert_eq!(text, Some(expected));
    assert_eq!(to_v2(&v1)?, hpa);
    Ok(())
}

#[test]
fn v1_to_v2_maps_every_field() -> Outcome {
    let v1 = json!({
        "apiVersion": "autoscaling/v1",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "web", "annotations": {"team": "a"}},
        "spec": {"scaleTargetRef": scale_target(), "minReplicas": 1, "maxReplicas": 4,
                 "targetCPUUtilizationPercentage": 65},
        "status": {"observedGeneration": 1, "lastScaleTime": "2025-01-01T00:00:00Z",
                   "currentReplicas": 2, "desiredReplicas": 3, "currentCPUUtilizationPercentage": 70},
    });
    let expected = json!({
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "web", "annotations": {"team": "a"}},
        "spec": {"scaleTargetRef": scale_target(), "minReplicas": 1, "maxReplicas": 4,
                 "metrics": [cpu(65)]},
        "status": {"observedGeneration": 1, "lastScaleTime": "2025-01-01T00:00:00Z",
                   "currentReplicas": 2, "desiredReplicas": 3, "currentMetrics": [
                       {"type": "Resource", "resource": {"name": "cpu",
                           "current": {"averageUtilization": 70}}}]},
    });
    assert_eq!(to_v2(&v1)?, expected);
    Ok(())
}

#[test]
fn v1_without_a_target_gets_the_implicit_cpu_target() -> Outcome {
    let v1 = json!({"apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler",
                    "spec": {"scaleTargetRef": scale_target(), "maxReplicas": 4}});
    let v2 = to_v2(&v1)?;
    assert_eq!(v2["spec"]["metrics"], json!([cpu(80)]));
    assert_eq!(to_v1(&v2)?["spec"]["targetCPUUtilizationPercentage"], 80);
    Ok(())
}

#[test]
fn the_cpu_utilization_metric_comes_back_last() -> Outcome {
    let memory = json!({"type": "Resource", "resource": {"name": "memory",
        "target": {"type": "Utilization", "averageUtilization": 70}}});
    let hpa = v2(
        json!({"scaleTargetRef": scale_target(), "maxReplicas": 3, "metrics": [cpu(50), memory.clone()]}),
        None,
    );
    let back = to_v2(&to_v1(&hpa)?)?;
    assert_eq!(back["spec"]["metrics"], json!([memory, cpu(50)]));
    Ok(())
}

#[test]
fn v1_targets_take_the_type_their_values_imply() -> Outcome {
    let metrics = json!([
        {"type": "Object", "object": {"target": {"kind": "Service", "name": "s"},
            "metricName": "m", "targetValue": "1", "averageValue": "2"}},
        {"type": "Object", "object": {"target": {"kind": "Service", "name": "s"}, "metricName": "m"}},
        {"type": "Pods", "pods": {"metricName": "p"}},
        {"type": "Resource", "resource": {"name": "memory", "targetAverageValue": "1Gi"}},
        {"type": "External", "external": {"metricName": "e", "targetValue": "5"}},
    ]);
    let v1 = json!({"apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler",
        "metadata": {"annotations": {"autoscaling.alpha.kubernetes.io/metrics": metrics.to_string()}},
        "spec": {"scaleTargetRef": scale_target(), "maxReplicas": 2}});
    let v2 = to_v2(&v1)?;
    let expected = json!([
        {"type": "Object", "object": {"describedObject": {"kind": "Service", "name": "s"},
            "target": {"type": "AverageValue", "value": "1", "averageValue": "2"},
            "metric": {"name": "m"}}},
        {"type": "Object", "object": {"describedObject": {"kind": "Service", "name": "s"},
            "target": {"type": "Value", "value": "0"}, "metric": {"name": "m"}}},
        {"type": "Pods", "pods": {"metric": {"name": "p"},
            "target": {"type": "AverageValue", "averageValue": "0"}}},
        {"type": "Resource", "resource": {"name": "memory",
            "target": {"type": "AverageValue", "averageValue": "1Gi"}}},
        {"type": "External", "external": {"metric": {"name": "e"},
            "target": {"type": "Value", "value": "5"}}},
    ]);
    assert_eq!(v2["spec"]["metrics"], expected);
    assert_eq!(v2.get("metadata"), Some(&json!({})));
    Ok(())
}

#[test]
fn round_trip_annotations_never_reach_v2() -> Outcome {
    let keys = [
        "autoscaling.alpha.kubernetes.io/metrics",
        "autoscaling.alpha.kubernetes.io/current-metrics",
        "autoscaling.alpha.kubernetes.io/conditions",
        "autoscaling.alpha.kubernetes.io/behavior",
        "autoscaling.alpha.kubernetes.io/scale-up-tolerance",
        "autoscaling.alpha.kubernetes.io/scale-down-tolerance",
    ];
    // Upstream's "empty", "random" and "empty array" values: ignored, then dropped.
    for text in ["", "abc", "[]", "{}", "null", "[1]", r#"[{"type": 5}]"#] {
        let mut annotations = serde_json::Map::new();
        annotations.insert("keep".into(), "me".into());
        for key in keys {
            annotations.insert(key.into(), text.into());
        }
        let v1 = json!({"apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler",
            "metadata": {"annotations": annotations},
            "spec": {"scaleTargetRef": scale_target(), "maxReplicas": 2,
                     "targetCPUUtilizationPercentage": 30},
            "status": {"desiredReplicas": 1, "currentCPUUtilizationPercentage": 20}});
        let v2 = to_v2(&v1)?;
        assert_eq!(
            v2["metadata"],
            json!({"annotations": {"keep": "me"}}),
            "{text:?}"
        );
        assert_eq!(v2["spec"]["metrics"], json!([cpu(30)]), "{text:?}");
        assert_eq!(v2["spec"].get("behavior"), None, "{text:?}");
        // A readable (empty) current-metrics annotation replaces the percentage, as upstream.
        let replaced = matches!(text, "[]" | "null");
        let current = v2["status"].get("currentMetrics").is_some();
        assert_eq!(current, !replaced, "{text:?}");
        // v2 → v1 writes only what it has, whatever the stored object carried.
        let mut stored = v2.clone();
        stored["metadata"]["annotations"][keys[0]] = "stale".into();
        let v1 = to_v1(&stored)?;
        assert_eq!(v1["metadata"]["annotations"].get(keys[0]), None, "{text:?}");
    }
    Ok(())
}

#[test]
fn behavior_annotation_reads_as_go_would() -> Outcome {
    let cases = [
        (r#"{"ScaleUp":null,"ScaleDown":null}"#, None),
        (
            r#"{"scaleup":{"selectpolicy":"Min"}}"#,
            Some(json!({"scaleUp": {"selectPolicy": "Min"}})),
        ),
        (r#"{"ScaleDown":{}}"#, Some(json!({"scaleDown": {}}))),
        (r#"{"ScaleDown":{"StabilizationWindowSeconds":"60"}}"#, None),
        (r#"{"ScaleDown":{"Tolerance":"abc"}}"#, None),
        (
            r#"{"ScaleDown":{"Tolerance":0.1}}"#,
            Some(json!({"scaleDown": {"tolerance": "100m"}})),
        ),
        (
            r#"{"ScaleDown":{"Policies":[{"Type":"Pods","Value":1}]}}"#,
            Some(
                json!({"scaleDown": {"policies": [{"type": "Pods", "value": 1, "periodSeconds": 0}]}}),
            ),
        ),
    ];
    for (text, expected) in cases {
        let v1 = json!({"apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler",
            "metadata": {"annotations": {"autoscaling.alpha.kubernetes.io/behavior": text}},
            "spec": {"scaleTargetRef": scale_target(), "maxReplicas": 2}});
        assert_eq!(
            to_v2(&v1)?["spec"].get("behavior"),
            expected.as_ref(),
            "{text}"
        );
    }
    Ok(())
}

/// Well-formed v2 objects, as upstream's fuzzer makes them: the CPU utilization metric (if any)
/// last, each target typed as its values imply, current resource metrics with an average value.
fn v2_samples() -> Vec<Value> {
    vec![
        full_v2(),
        v2(
            json!({"scaleTargetRef": scale_target(), "maxReplicas": 3, "metrics": [cpu(50)]}),
            None,
        ),
        v2(
            json!({"scaleTargetRef": {"kind": "StatefulSet", "name": "db"}, "minReplicas": 1,
                   "maxReplicas": 3, "metrics": [{"type": "Resource", "resource": {"name": "memory",
                       "target": {"type": "Utilization", "averageUtilization": 80}}}]}),
            Some(json!({"currentReplicas": 1, "desiredReplicas": 1})),
        ),
        v2(
            json!({"scaleTargetRef": scale_target(), "maxReplicas": 3, "metrics": [cpu(10)],
                   "behavior": {"scaleDown": {"stabilizationWindowSeconds": 60, "tolerance": "0.05"}}}),
            Some(json!({"desiredReplicas": 0})),
        ),
    ]
}

#[test]
fn v2_to_v1_to_v2_is_lossless() -> Outcome {
    for hpa in v2_samples() {
        let v1 = to_v1(&hpa)?;
        assert_eq!(to_v2(&v1)?, hpa, "through {v1:#}");
    }
    Ok(())
}

#[test]
fn v1_to_v2_to_v1_is_lossless() -> Outcome {
    // What v1 clients read (annotations included) goes back to the same object.
    let mut samples: Vec<Value> = v2_samples().iter().map(to_v1).collect::<Result<_, _>>()?;
    samples.push(json!({
        "apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "plain", "annotations": {"note": "x"}},
        "spec": {"scaleTargetRef": scale_target(), "minReplicas": 1, "maxReplicas": 5,
                 "targetCPUUtilizationPercentage": 50},
        "status": {"currentReplicas": 1, "desiredReplicas": 1},
        "extra": true,
    }));
    for v1 in samples {
        let v2 = to_v2(&v1)?;
        assert_eq!(to_v1(&v2)?, v1, "through {v2:#}");
    }
    Ok(())
}
