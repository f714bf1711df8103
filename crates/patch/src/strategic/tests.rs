//! Data-driven cases: (original, patch, expected) per directive and list strategy.

use serde_json::{json, Value};

use super::strategic_merge;
use crate::{PatchError, Schema};

fn pod() -> Schema {
    Schema::for_kind("v1", "Pod")
}

fn deploy() -> Schema {
    Schema::for_kind("apps/v1", "Deployment")
}

fn run(cases: Vec<(&str, Schema, Value, Value, Value)>) {
    for (name, schema, original, patch, expected) in cases {
        let got =
            strategic_merge(&original, &patch, &schema).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(got, expected, "case {name}");
    }
}

fn spec(containers: Value) -> Value {
    json!({"spec": {"containers": containers}})
}

#[test]
fn maps_and_scalars() {
    run(vec![
        (
            "set scalar",
            pod(),
            json!({"a": 1}),
            json!({"a": 2}),
            json!({"a": 2}),
        ),
        (
            "null deletes",
            pod(),
            json!({"a": 1, "b": 2}),
            json!({"b": null}),
            json!({"a": 1}),
        ),
        (
            "null on missing key",
            pod(),
            json!({"a": 1}),
            json!({"c": null}),
            json!({"a": 1}),
        ),
        (
            "nested merge",
            pod(),
            json!({"metadata": {"labels": {"app": "a", "tier": "x"}}}),
            json!({"metadata": {"labels": {"tier": null, "env": "p"}}}),
            json!({"metadata": {"labels": {"app": "a", "env": "p"}}}),
        ),
        (
            "new subtree drops nulls",
            pod(),
            json!({}),
            json!({"metadata": {"annotations": {"a": "1", "b": null}}}),
            json!({"metadata": {"annotations": {"a": "1"}}}),
        ),
        (
            "type change replaces",
            pod(),
            json!({"a": {"b": 1}}),
            json!({"a": "s"}),
            json!({"a": "s"}),
        ),
        (
            "non-merge list replaced",
            pod(),
            json!({"spec": {"tolerations": [{"key": "a"}, {"key": "b"}]}}),
            json!({"spec": {"tolerations": [{"key": "c"}]}}),
            json!({"spec": {"tolerations": [{"key": "c"}]}}),
        ),
        (
            "args replaced",
            pod(),
            spec(json!([{"name": "a", "args": ["x", "y"]}])),
            spec(json!([{"name": "a", "args": ["z"]}])),
            spec(json!([{"name": "a", "args": ["z"]}])),
        ),
    ]);
}

#[test]
fn merge_lists_by_key() {
    run(vec![
        (
            "merge into existing container",
            pod(),
            spec(json!([{"name": "a", "image": "x"}, {"name": "b", "image": "y"}])),
            spec(json!([{"name": "b", "image": "z"}])),
            spec(json!([{"name": "a", "image": "x"}, {"name": "b", "image": "z"}])),
        ),
        (
            "new element goes before server-only ones",
            pod(),
            spec(json!([{"name": "a"}, {"name": "b"}])),
            spec(json!([{"name": "c"}])),
            spec(json!([{"name": "c"}, {"name": "a"}, {"name": "b"}])),
        ),
        (
            "null inside element deletes field",
            pod(),
            spec(json!([{"name": "a", "image": "x", "command": ["sh"]}])),
            spec(json!([{"name": "a", "command": null}])),
            spec(json!([{"name": "a", "image": "x"}])),
        ),
        (
            "env merges by name inside container",
            pod(),
            spec(
                json!([{"name": "a", "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]}]),
            ),
            spec(json!([{"name": "a", "env": [{"name": "B", "value": "3"}]}])),
            spec(
                json!([{"name": "a", "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "3"}]}]),
            ),
        ),
        (
            "ports merge by containerPort",
            pod(),
            spec(json!([{"name": "a", "ports": [{"containerPort": 80, "name": "http"}]}])),
            spec(
                json!([{"name": "a", "ports": [{"containerPort": 80, "name": "web"}, {"containerPort": 443}]}]),
            ),
            spec(
                json!([{"name": "a", "ports": [{"containerPort": 80, "name": "web"}, {"containerPort": 443}]}]),
            ),
        ),
        (
            "volumes and volumeMounts",
            pod(),
            json!({"spec": {"volumes": [{"name": "v1", "emptyDir": {}}], "containers": [{"name": "a", "volumeMounts": [{"mountPath": "/a", "name": "v1"}]}]}}),
            json!({"spec": {"volumes": [{"name": "v2", "emptyDir": {}}], "containers": [{"name": "a", "volumeMounts": [{"mountPath": "/a", "readOnly": true}]}]}}),
            json!({"spec": {"volumes": [{"name": "v2", "emptyDir": {}}, {"name": "v1", "emptyDir": {}}], "containers": [{"name": "a", "volumeMounts": [{"mountPath": "/a", "name": "v1", "readOnly": true}]}]}}),
        ),
        (
            "service ports by port",
            Schema::for_kind("v1", "Service"),
            json!({"spec": {"ports": [{"port": 80, "targetPort": 8080}, {"port": 443}]}}),
            json!({"spec": {"ports": [{"port": 80, "targetPort": 9090}]}}),
            json!({"spec": {"ports": [{"port": 80, "targetPort": 9090}, {"port": 443}]}}),
        ),
        (
            "ownerReferences by uid",
            Schema::for_kind("v1", "ConfigMap"),
            json!({"metadata": {"ownerReferences": [{"uid": "1", "name": "a"}]}}),
            json!({"metadata": {"ownerReferences": [{"uid": "2", "name": "b"}]}}),
            json!({"metadata": {"ownerReferences": [{"uid": "2", "name": "b"}, {"uid": "1", "name": "a"}]}}),
        ),
        (
            "template containers in a cronjob",
            Schema::for_kind("batch/v1", "CronJob"),
            json!({"spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": [{"name": "a", "image": "x"}, {"name": "b"}]}}}}}}),
            json!({"spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": [{"name": "a", "image": "y"}]}}}}}}),
            json!({"spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": [{"name": "a", "image": "y"}, {"name": "b"}]}}}}}}),
        ),
        (
            "conditions by type",
            Schema::for_kind("apps/v1", "Deployment"),
            json!({"status": {"conditions": [{"type": "Available", "status": "False"}, {"type": "Progressing", "status": "True"}]}}),
            json!({"status": {"conditions": [{"type": "Available", "status": "True"}]}}),
            json!({"status": {"conditions": [{"type": "Available", "status": "True"}, {"type": "Progressing", "status": "True"}]}}),
        ),
    ]);
}

#[test]
fn primitive_lists() {
    let meta = |f: Value| json!({"metadata": {"finalizers": f}});
    run(vec![
        (
            "union",
            pod(),
            meta(json!(["a", "b"])),
            meta(json!(["b", "c"])),
            meta(json!(["a", "b", "c"])),
        ),
        (
            "new item first",
            pod(),
            meta(json!(["a", "b"])),
            meta(json!(["c"])),
            meta(json!(["c", "a", "b"])),
        ),
        (
            "union keeps live order for existing",
            pod(),
            meta(json!(["a", "b"])),
            meta(json!(["a"])),
            meta(json!(["a", "b"])),
        ),
        (
            "dedup",
            pod(),
            meta(json!(["a", "a"])),
            meta(json!(["a"])),
            meta(json!(["a"])),
        ),
        (
            "delete from primitive list",
            pod(),
            meta(json!(["a", "b", "c"])),
            json!({"metadata": {"$deleteFromPrimitiveList/finalizers": ["b"]}}),
            meta(json!(["a", "c"])),
        ),
        (
            "delete of missing item adds nothing",
            pod(),
            meta(json!(["a"])),
            json!({"metadata": {"$deleteFromPrimitiveList/finalizers": ["z"]}}),
            meta(json!(["a"])),
        ),
        (
            "delete on missing list adds nothing",
            pod(),
            json!({"metadata": {}}),
            json!({"metadata": {"$deleteFromPrimitiveList/finalizers": ["z"]}}),
            json!({"metadata": {}}),
        ),
        (
            "delete from list without merge strategy",
            pod(),
            json!({"spec": {"containers": [{"name": "a", "args": ["x", "y"]}]}}),
            json!({"spec": {"containers": [{"name": "a", "$deleteFromPrimitiveList/args": ["x"]}]}}),
            json!({"spec": {"containers": [{"name": "a", "args": ["y"]}]}}),
        ),
        (
            "set order on primitive list",
            pod(),
            meta(json!(["a", "b", "c"])),
            json!({"metadata": {"$setElementOrder/finalizers": ["c", "a", "b"]}}),
            meta(json!(["c", "a", "b"])),
        ),
    ]);
}

#[test]
fn patch_directive() {
    run(vec![
        (
            "delete element by key",
            pod(),
            spec(json!([{"name": "a"}, {"name": "b"}])),
            spec(json!([{"name": "a", "$patch": "delete"}])),
            spec(json!([{"name": "b"}])),
        ),
        (
            "delete missing element",
            pod(),
            spec(json!([{"name": "a"}])),
            spec(json!([{"name": "z", "$patch": "delete"}])),
            spec(json!([{"name": "a"}])),
        ),
        (
            "delete and add",
            pod(),
            spec(json!([{"name": "a"}, {"name": "b"}])),
            spec(json!([{"name": "c"}, {"name": "a", "$patch": "delete"}])),
            spec(json!([{"name": "c"}, {"name": "b"}])),
        ),
        (
            "replace list",
            pod(),
            spec(json!([{"name": "a", "image": "x"}, {"name": "b"}])),
            spec(json!([{"$patch": "replace"}, {"name": "c", "image": "y"}])),
            spec(json!([{"name": "c", "image": "y"}])),
        ),
        (
            "replace map",
            pod(),
            json!({"metadata": {"labels": {"a": "1", "b": "2"}}}),
            json!({"metadata": {"labels": {"$patch": "replace", "c": "3"}}}),
            json!({"metadata": {"labels": {"c": "3"}}}),
        ),
        (
            "delete map empties it",
            pod(),
            json!({"metadata": {"labels": {"a": "1"}}}),
            json!({"metadata": {"labels": {"$patch": "delete"}}}),
            json!({"metadata": {"labels": {}}}),
        ),
        (
            "delete map on missing key",
            pod(),
            json!({"metadata": {}}),
            json!({"metadata": {"labels": {"$patch": "delete"}}}),
            json!({"metadata": {}}),
        ),
        (
            "explicit merge on map",
            pod(),
            json!({"metadata": {"labels": {"a": "1"}}}),
            json!({"metadata": {"labels": {"b": "2"}}}),
            json!({"metadata": {"labels": {"a": "1", "b": "2"}}}),
        ),
        (
            "markers stripped in new list",
            pod(),
            json!({"spec": {}}),
            spec(json!([{"$patch": "replace"}, {"name": "c"}])),
            spec(json!([{"name": "c"}])),
        ),
    ]);
}

#[test]
fn retain_keys() {
    let strategy = |s: Value| json!({"spec": {"strategy": s}});
    run(vec![
        (
            "switch to Recreate clears rollingUpdate",
            deploy(),
            strategy(json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}})),
            strategy(json!({"$retainKeys": ["type"], "type": "Recreate"})),
            strategy(json!({"type": "Recreate"})),
        ),
        (
            "retain and merge",
            deploy(),
            strategy(
                json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}),
            ),
            strategy(
                json!({"$retainKeys": ["type", "rollingUpdate"], "rollingUpdate": {"maxSurge": 2}}),
            ),
            strategy(
                json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 2, "maxUnavailable": 0}}),
            ),
        ),
        (
            "retain keys in volume element",
            pod(),
            json!({"spec": {"volumes": [{"name": "v", "emptyDir": {}}]}}),
            json!({"spec": {"volumes": [{"name": "v", "$retainKeys": ["name", "hostPath"], "hostPath": {"path": "/x"}}]}}),
            json!({"spec": {"volumes": [{"name": "v", "hostPath": {"path": "/x"}}]}}),
        ),
    ]);
}

#[test]
fn set_element_order() {
    let order = |o: Value, c: Option<Value>| {
        let mut s = json!({"$setElementOrder/containers": o});
        if let Some(c) = c {
            s["containers"] = c;
        }
        json!({"spec": s})
    };
    run(vec![
        (
            "add first",
            pod(),
            spec(json!([{"name": "1"}, {"name": "2", "v": 2}])),
            order(
                json!([{"name": "3"}, {"name": "1"}, {"name": "2"}]),
                Some(json!([{"name": "3", "v": 3}])),
            ),
            spec(json!([{"name": "3", "v": 3}, {"name": "1"}, {"name": "2", "v": 2}])),
        ),
        (
            "add around",
            pod(),
            spec(json!([{"name": "1", "o": "a"}, {"name": "2", "v": 2}])),
            order(
                json!([{"name": "4"}, {"name": "1"}, {"name": "2"}, {"name": "3"}]),
                Some(json!([{"name": "4", "v": 4}, {"name": "3", "v": 3}])),
            ),
            spec(
                json!([{"name": "4", "v": 4}, {"name": "1", "o": "a"}, {"name": "2", "v": 2}, {"name": "3", "v": 3}]),
            ),
        ),
        (
            "reorder with server-only at end",
            pod(),
            spec(
                json!([{"name": "1"}, {"name": "3"}, {"name": "4"}, {"name": "2"}, {"name": "9"}]),
            ),
            order(
                json!([{"name": "4"}, {"name": "2"}, {"name": "3"}, {"name": "1"}]),
                None,
            ),
            spec(
                json!([{"name": "4"}, {"name": "2"}, {"name": "3"}, {"name": "1"}, {"name": "9"}]),
            ),
        ),
        (
            "server-only stays after its live predecessor",
            pod(),
            spec(
                json!([{"name": "1"}, {"name": "2"}, {"name": "9"}, {"name": "3"}, {"name": "4"}]),
            ),
            order(
                json!([{"name": "2"}, {"name": "1"}, {"name": "4"}, {"name": "3"}]),
                None,
            ),
            spec(
                json!([{"name": "2"}, {"name": "1"}, {"name": "9"}, {"name": "4"}, {"name": "3"}]),
            ),
        ),
        (
            "several server-only",
            pod(),
            spec(
                json!([{"name": "1"}, {"name": "2"}, {"name": "7"}, {"name": "9"}, {"name": "8"}, {"name": "3"}, {"name": "4"}]),
            ),
            order(
                json!([{"name": "2"}, {"name": "1"}, {"name": "4"}, {"name": "3"}]),
                None,
            ),
            spec(
                json!([{"name": "2"}, {"name": "1"}, {"name": "7"}, {"name": "9"}, {"name": "8"}, {"name": "4"}, {"name": "3"}]),
            ),
        ),
        (
            "list absent in original",
            pod(),
            json!({"spec": {}}),
            order(
                json!([{"name": "a"}]),
                Some(json!([{"name": "a", "image": "x"}])),
            ),
            spec(json!([{"name": "a", "image": "x"}])),
        ),
        (
            "delete alongside order",
            pod(),
            spec(json!([{"name": "a"}, {"name": "b"}])),
            order(
                json!([{"name": "b"}]),
                Some(json!([{"name": "a", "$patch": "delete"}])),
            ),
            spec(json!([{"name": "b"}])),
        ),
    ]);
}

#[test]
fn errors() {
    let cases: Vec<(Value, Value, PatchError)> = vec![
        (
            spec(json!([{"name": "a"}])),
            spec(json!([{"image": "x"}])),
            PatchError::NoMergeKey {
                map: "map[image:x]".into(),
                key: "name".into(),
            },
        ),
        (
            spec(json!([{"name": "a"}])),
            spec(json!([{"name": "a", "$patch": "merge"}])),
            PatchError::MergeListDirective,
        ),
        (
            json!({"metadata": {"labels": {}}}),
            json!({"metadata": {"labels": {"$patch": "frob"}}}),
            PatchError::BadPatchType {
                patch_type: "frob".into(),
                map: "map[$patch:frob]".into(),
            },
        ),
        (
            json!({"spec": {"strategy": {}}}),
            json!({"spec": {"strategy": {"$retainKeys": ["type"], "other": 1}}}),
            PatchError::BadPatchFormatForRetainKeys,
        ),
        (
            json!({"spec": {"strategy": {}}}),
            json!({"spec": {"strategy": {"$retainKeys": "type"}}}),
            PatchError::BadPatchFormatForRetainKeys,
        ),
        (
            json!({"metadata": {"finalizers": ["a"]}}),
            json!({"metadata": {"$deleteFromPrimitiveList": ["a"]}}),
            PatchError::BadPatchFormatForPrimitiveList,
        ),
        (
            json!({"metadata": {"finalizers": [["a"]]}}),
            json!({"metadata": {"finalizers": [["b"]]}}),
            PatchError::NoListOfLists,
        ),
        (json!({}), json!([1]), PatchError::BadJsonDoc),
    ];
    for (original, patch, expected) in cases {
        assert_eq!(
            strategic_merge(&original, &patch, &pod()),
            Err(expected),
            "patch {patch}"
        );
    }
    let mismatch = strategic_merge(
        &spec(json!([{"name": "a"}, {"name": "b"}])),
        &json!({"spec": {"$setElementOrder/containers": [{"name": "a"}], "containers": [{"name": "b"}]}}),
        &pod(),
    );
    assert!(matches!(
        mismatch,
        Err(PatchError::SetElementOrderMismatch { .. })
    ));
}

#[test]
fn custom_kinds_fall_back_to_merge_patch() {
    let schema = Schema::for_kind("example.com/v1", "Widget");
    let got = strategic_merge(
        &json!({"spec": {"items": [{"name": "a"}], "x": 1}}),
        &json!({"spec": {"items": [{"name": "b"}], "x": null}}),
        &schema,
    );
    assert_eq!(got, Ok(json!({"spec": {"items": [{"name": "b"}]}})));
}

/// The body `kubectl apply` (client-side, v1.32) sent in the reference trace when the cpu
/// request changed from 100m to 150m.
#[test]
fn kubectl_client_side_apply_patch() {
    let last_applied_new = r#"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"annotations":{},"labels":{"app":"web"},"name":"web","namespace":"default"},"spec":{"replicas":3,"selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"image":"registry.k8s.io/pause:3.10","name":"web","resources":{"requests":{"cpu":"150m","memory":"64Mi"}}}]}}}}
"#;
    let live = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"},
            "annotations": {"deployment.kubernetes.io/revision": "1", "kubectl.kubernetes.io/last-applied-configuration": "old"}},
        "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
            "template": {"metadata": {"labels": {"app": "web"}}, "spec": {
                "containers": [{"name": "web", "image": "registry.k8s.io/pause:3.10",
                    "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}},
                    "terminationMessagePath": "/dev/termination-log", "imagePullPolicy": "IfNotPresent"}],
                "restartPolicy": "Always", "dnsPolicy": "ClusterFirst"}}}
    });
    let patch = json!({"metadata":{"annotations":{"kubectl.kubernetes.io/last-applied-configuration": last_applied_new}},
        "spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"web"}],"containers":[{"name":"web","resources":{"requests":{"cpu":"150m"}}}]}}}});
    let mut expected = live.clone();
    expected["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"] =
        json!(last_applied_new);
    expected["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]["cpu"] =
        json!("150m");
    assert_eq!(strategic_merge(&live, &patch, &deploy()), Ok(expected));
}

/// What `kubectl apply` sends when a container and an env var are removed from the file.
#[test]
fn kubectl_apply_removals() {
    let live = json!({"spec": {"template": {"spec": {"containers": [
        {"name": "a", "image": "x", "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]},
        {"name": "b", "image": "y"}]}}}});
    let patch = json!({"spec": {"template": {"spec": {
        "$setElementOrder/containers": [{"name": "a"}],
        "containers": [
            {"name": "a", "$setElementOrder/env": [{"name": "A"}], "env": [{"name": "B", "$patch": "delete"}]},
            {"name": "b", "$patch": "delete"}]}}}});
    let expected = json!({"spec": {"template": {"spec": {"containers": [
        {"name": "a", "image": "x", "env": [{"name": "A", "value": "1"}]}]}}}});
    assert_eq!(strategic_merge(&live, &patch, &deploy()), Ok(expected));
}
