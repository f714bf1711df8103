//! Dispatch: which conversions exist, what is refused, and the storage helpers.

use serde_json::json;

use super::{convert, from_storage, to_storage, ConversionError};
use crate::catalog;

#[test]
fn same_group_version_is_an_unchanged_copy() -> Result<(), ConversionError> {
    let samples = [
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "spec": {"replicas": 1}}),
        json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
               "metadata": {"annotations": {"autoscaling.alpha.kubernetes.io/metrics": "[]"}}}),
        json!({"apiVersion": "v1", "kind": "Event", "message": "m"}),
    ];
    for object in samples {
        let (group, version) = match object["apiVersion"].as_str() {
            Some("apps/v1") => ("apps", "v1"),
            Some("autoscaling/v2") => ("autoscaling", "v2"),
            _ => ("", "v1"),
        };
        assert_eq!(convert(&object, group, version)?, object);
    }
    Ok(())
}

#[test]
fn refusals() {
    let cases = [
        (json!([1]), "", "v1", ConversionError::NotAnObject),
        (
            json!({"kind": "Event"}),
            "",
            "v1",
            ConversionError::MissingApiVersion,
        ),
        (
            json!({"apiVersion": null}),
            "",
            "v1",
            ConversionError::MissingApiVersion,
        ),
        (
            json!({"apiVersion": 1}),
            "",
            "v1",
            ConversionError::InvalidApiVersion("1".into()),
        ),
        (
            json!({"apiVersion": "a/b/c"}),
            "",
            "v1",
            ConversionError::InvalidApiVersion("a/b/c".into()),
        ),
        (
            json!({"apiVersion": "apps/"}),
            "",
            "v1",
            ConversionError::InvalidApiVersion("apps/".into()),
        ),
        (
            json!({"apiVersion": "/v1"}),
            "",
            "v1",
            ConversionError::InvalidApiVersion("/v1".into()),
        ),
        (
            json!({"apiVersion": "v1", "kind": "Pod"}),
            "events.k8s.io",
            "v1",
            ConversionError::Unsupported {
                kind: "Pod".into(),
                from: "v1".into(),
                to: "events.k8s.io/v1".into(),
            },
        ),
        (
            json!({"apiVersion": "autoscaling/v1", "kind": "Scale"}),
            "autoscaling",
            "v2",
            ConversionError::Unsupported {
                kind: "Scale".into(),
                from: "autoscaling/v1".into(),
                to: "autoscaling/v2".into(),
            },
        ),
        (
            json!({"apiVersion": "apps/v1"}),
            "apps",
            "v1beta1",
            ConversionError::Unsupported {
                kind: "object".into(),
                from: "apps/v1".into(),
                to: "apps/v1beta1".into(),
            },
        ),
    ];
    for (object, group, version, expected) in cases {
        assert_eq!(convert(&object, group, version), Err(expected), "{object}");
    }
}

#[test]
fn a_missing_kind_is_the_one_the_pair_converts() -> Result<(), ConversionError> {
    let event = convert(
        &json!({"apiVersion": "v1", "message": "m"}),
        "events.k8s.io",
        "v1",
    )?;
    assert_eq!(
        event,
        json!({"apiVersion": "events.k8s.io/v1", "kind": "Event", "note": "m"})
    );
    let hpa = convert(
        &json!({"apiVersion": "autoscaling/v2", "spec": {}}),
        "autoscaling",
        "v1",
    )?;
    assert_eq!(hpa["kind"], "HorizontalPodAutoscaler");
    Ok(())
}

#[test]
fn storage_helpers_use_the_storage_version() -> Result<(), ConversionError> {
    let hpa_v1 = catalog::find("autoscaling", "v1", "horizontalpodautoscalers");
    let events = catalog::find("events.k8s.io", "v1", "events");
    let (Some(hpa_v1), Some(events)) = (hpa_v1, events) else {
        panic!("the catalog serves both resources");
    };

    let received = json!({"apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler",
        "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web"}, "maxReplicas": 3,
                 "targetCPUUtilizationPercentage": 40}});
    let stored = to_storage(hpa_v1, &received)?;
    assert_eq!(stored["apiVersion"], "autoscaling/v2");
    assert_eq!(
        stored["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"],
        40
    );
    assert_eq!(from_storage(hpa_v1, &stored)?, received);

    let mut untyped = received.clone();
    if let Some(fields) = untyped.as_object_mut() {
        fields.remove("apiVersion");
    }
    assert_eq!(to_storage(hpa_v1, &untyped)?, stored);

    let note = json!({"apiVersion": "events.k8s.io/v1", "kind": "Event", "note": "n",
                      "regarding": {"kind": "Pod", "name": "p"}});
    let stored = to_storage(events, &note)?;
    assert_eq!(
        stored,
        json!({"apiVersion": "v1", "kind": "Event",
                              "involvedObject": {"kind": "Pod", "name": "p"}, "message": "n"})
    );
    assert_eq!(from_storage(events, &stored)?, note);

    let core_events = catalog::find("", "v1", "events");
    if let Some(core_events) = core_events {
        assert_eq!(from_storage(core_events, &stored)?, stored);
    }
    Ok(())
}
