//! Server-side apply scenarios.

use serde_json::{json, Value};

use super::*;

const T1: &str = "2026-11-22T20:47:46Z";
const T2: &str = "2026-11-22T20:48:00Z";

fn schema() -> Schema {
    Schema::for_kind("apps/v1", "Deployment")
}

fn deployment(replicas: i64, image: &str) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"}},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": image}]}}}})
}

fn ssa(
    live: Option<&Value>,
    applied: &Value,
    manager: &str,
    force: bool,
) -> Result<Value, ApplyError> {
    let schema = schema();
    apply(
        live,
        applied,
        &ApplyOptions {
            manager,
            force,
            time: T1,
            subresource: "",
            schema: &schema,
        },
    )
}

fn update(old: Option<&Value>, new: &Value, manager: &str, subresource: &str) -> Value {
    let schema = schema();
    track_update(
        old,
        new.clone(),
        &UpdateOptions {
            manager,
            time: T2,
            subresource,
            schema: &schema,
        },
    )
}

fn entry<'a>(obj: &'a Value, manager: &str, operation: &str) -> Option<&'a Value> {
    obj["metadata"]["managedFields"]
        .as_array()?
        .iter()
        .find(|e| e["manager"] == manager && e["operation"] == operation)
}

fn owns(obj: &Value, manager: &str, operation: &str, path: &[&str]) -> bool {
    let Some(e) = entry(obj, manager, operation) else {
        return false;
    };
    let set = FieldSet::from_fields_v1(&e["fieldsV1"]).unwrap();
    let path: Vec<PathElement> = path
        .iter()
        .map(|p| match p.strip_prefix("k:") {
            Some(k) => PathElement::parse(&format!("k:{k}")).unwrap(),
            None => PathElement::Field(p.to_string()),
        })
        .collect();
    set.has(&path)
}

const IMAGE: &[&str] = &[
    "spec",
    "template",
    "spec",
    "containers",
    "k:{\"name\":\"web\"}",
    "image",
];

#[test]
fn first_apply_creates_ownership() {
    let obj = ssa(None, &deployment(3, "nginx:1"), "kubectl", false).unwrap();
    let e = entry(&obj, "kubectl", "Apply").unwrap();
    assert_eq!(e["apiVersion"], "apps/v1");
    assert_eq!(e["time"], T1);
    assert_eq!(e["fieldsType"], "FieldsV1");
    assert_eq!(
        e["fieldsV1"],
        json!({"f:metadata": {"f:labels": {"f:app": {}}}, "f:spec": {"f:replicas": {}, "f:selector": {},
            "f:template": {"f:metadata": {"f:labels": {"f:app": {}}},
                "f:spec": {"f:containers": {"k:{\"name\":\"web\"}": {".": {}, "f:image": {}, "f:name": {}}}}}}})
    );
    assert_eq!(obj["spec"]["replicas"], 3);
}

#[test]
fn second_manager_conflicts_then_force_moves_ownership() {
    let obj = ssa(None, &deployment(3, "nginx:1"), "kubectl", false).unwrap();
    let other = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}, "spec": {"replicas": 5,
        "template": {"spec": {"containers": [{"name": "web", "image": "nginx:2"}]}}}});
    let err = ssa(Some(&obj), &other, "hpa", false).unwrap_err();
    let ApplyError::Conflicts(conflicts) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(conflicts.len(), 2);
    assert_eq!(
        err.to_string(),
        "Apply failed with 2 conflicts: conflicts with \"kubectl\":\n- .spec.replicas\n- .spec.template.spec.containers[name=\"web\"].image"
    );
    assert_eq!(err.status_code(), 409);

    let forced = ssa(Some(&obj), &other, "hpa", true).unwrap();
    assert_eq!(forced["spec"]["replicas"], 5);
    assert!(owns(&forced, "hpa", "Apply", &["spec", "replicas"]));
    assert!(!owns(&forced, "kubectl", "Apply", &["spec", "replicas"]));
    assert!(owns(&forced, "kubectl", "Apply", &["spec", "selector"]));
    assert!(!owns(&forced, "kubectl", "Apply", IMAGE));
}

#[test]
fn same_value_is_shared_not_conflicting() {
    let obj = ssa(None, &deployment(3, "nginx:1"), "kubectl", false).unwrap();
    let other = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}, "spec": {"replicas": 3}});
    let shared = ssa(Some(&obj), &other, "other", false).unwrap();
    assert!(owns(&shared, "other", "Apply", &["spec", "replicas"]));
    assert!(owns(&shared, "kubectl", "Apply", &["spec", "replicas"]));

    // kubectl stops applying replicas: "other" still owns it, so it stays.
    let mut without = deployment(3, "nginx:1");
    without["spec"].as_object_mut().unwrap().remove("replicas");
    let kept = ssa(Some(&shared), &without, "kubectl", false).unwrap();
    assert_eq!(kept["spec"]["replicas"], 3);
    assert!(!owns(&kept, "kubectl", "Apply", &["spec", "replicas"]));
}

#[test]
fn dropping_a_field_removes_it() {
    let mut cfg = deployment(3, "nginx:1");
    cfg["metadata"]["labels"]["tier"] = json!("fe");
    cfg["spec"]["template"]["spec"]["containers"] =
        json!([{"name": "web", "image": "nginx:1"}, {"name": "side", "image": "busybox"}]);
    let obj = ssa(None, &cfg, "kubectl", false).unwrap();
    let mut live = obj.clone();
    live["status"] = json!({"replicas": 3});
    let pruned = ssa(Some(&live), &deployment(3, "nginx:1"), "kubectl", false).unwrap();
    assert_eq!(pruned["metadata"]["labels"], json!({"app": "web"}));
    assert_eq!(
        pruned["spec"]["template"]["spec"]["containers"],
        json!([{"name": "web", "image": "nginx:1"}])
    );
    assert_eq!(
        pruned["status"],
        json!({"replicas": 3}),
        "fields nobody applied stay"
    );
}

#[test]
fn reapplying_the_same_config_keeps_the_time() {
    let obj = ssa(None, &deployment(3, "nginx:1"), "kubectl", false).unwrap();
    let schema = schema();
    let opts = ApplyOptions {
        manager: "kubectl",
        force: false,
        time: T2,
        subresource: "",
        schema: &schema,
    };
    let again = apply(Some(&obj), &deployment(3, "nginx:1"), &opts).unwrap();
    assert_eq!(entry(&again, "kubectl", "Apply").unwrap()["time"], T1);
    assert_eq!(again, obj);
}

#[test]
fn update_takes_ownership_from_applier() {
    let obj = ssa(None, &deployment(3, "nginx:1"), "kubectl", false).unwrap();
    let mut scaled = obj.clone();
    scaled["spec"]["replicas"] = json!(7);
    let scaled = update(Some(&obj), &scaled, "kubectl-scale", "");
    let e = entry(&scaled, "kubectl-scale", "Update").unwrap();
    assert_eq!(e["fieldsV1"], json!({"f:spec": {"f:replicas": {}}}));
    assert_eq!(e["time"], T2);
    assert!(!owns(&scaled, "kubectl", "Apply", &["spec", "replicas"]));

    let err = ssa(Some(&scaled), &deployment(3, "nginx:1"), "kubectl", false).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Apply failed with 1 conflict: conflict with \"kubectl-scale\" using apps/v1: .spec.replicas"
    );
}

#[test]
fn own_update_entry_does_not_conflict() {
    let obj = ssa(None, &deployment(3, "nginx:1"), "kubectl", false).unwrap();
    let mut edited = obj.clone();
    edited["spec"]["replicas"] = json!(4);
    let edited = update(Some(&obj), &edited, "kubectl", "");
    let reapplied = ssa(Some(&edited), &deployment(3, "nginx:1"), "kubectl", false).unwrap();
    assert_eq!(reapplied["spec"]["replicas"], 3);
    assert!(entry(&reapplied, "kubectl", "Update").is_none());
}

#[test]
fn create_records_update_entry_like_upstream() {
    let mut new = deployment(3, "nginx:1");
    new["metadata"]["annotations"] = json!({LAST_APPLIED_ANNOTATION: "{}"});
    new["metadata"]["uid"] = json!("u1");
    new["spec"]["strategy"] =
        json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%"}});
    new["status"] = json!({});
    let created = update(None, &new, "kubectl-client-side-apply", "");
    let e = entry(&created, "kubectl-client-side-apply", "Update").unwrap();
    assert_eq!(
        e["fieldsV1"],
        json!({"f:metadata": {"f:annotations": {".": {}, "f:kubectl.kubernetes.io/last-applied-configuration": {}}, "f:labels": {".": {}, "f:app": {}}},
            "f:spec": {"f:replicas": {}, "f:selector": {}, "f:strategy": {"f:rollingUpdate": {".": {}, "f:maxSurge": {}}, "f:type": {}},
                "f:template": {"f:metadata": {"f:labels": {".": {}, "f:app": {}}},
                    "f:spec": {"f:containers": {"k:{\"name\":\"web\"}": {".": {}, "f:image": {}, "f:name": {}}}}}}})
    );
}

#[test]
fn client_side_apply_then_server_side_apply() {
    let mut csa = deployment(3, "nginx:1");
    let last = merge::sorted_keys(&deployment(3, "nginx:1")).to_string();
    csa["metadata"]["annotations"] = json!({LAST_APPLIED_ANNOTATION: format!("{last}\n")});
    let created = update(None, &csa, "kubectl-client-side-apply", "");

    // Same values: ownership is shared, no conflict.
    let same = ssa(Some(&created), &deployment(3, "nginx:1"), "kubectl", false).unwrap();
    assert!(owns(&same, "kubectl", "Apply", &["spec", "replicas"]));
    assert!(owns(
        &same,
        "kubectl-client-side-apply",
        "Update",
        &["spec", "replicas"]
    ));

    // kubectl may take over fields that were in the last-applied annotation.
    let changed = ssa(Some(&created), &deployment(4, "nginx:2"), "kubectl", false).unwrap();
    assert_eq!(changed["spec"]["replicas"], 4);
    assert!(!owns(
        &changed,
        "kubectl-client-side-apply",
        "Update",
        &["spec", "replicas"]
    ));
    let annotation = changed["metadata"]["annotations"][LAST_APPLIED_ANNOTATION]
        .as_str()
        .unwrap();
    assert!(annotation.contains("\"replicas\":4") && annotation.ends_with('\n'));

    // Any other manager conflicts with the client-side applier.
    let err = ssa(Some(&created), &deployment(4, "nginx:1"), "helm", false).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Apply failed with 1 conflict: conflict with \"kubectl-client-side-apply\" using apps/v1: .spec.replicas"
    );
}

#[test]
fn client_edits_of_managed_fields_are_honoured() {
    let obj = ssa(None, &deployment(3, "nginx:1"), "kubectl", false).unwrap();
    let mut edited = obj.clone();
    edited["metadata"]["managedFields"] = json!([{"manager": "migrated", "operation": "Apply", "apiVersion": "apps/v1",
        "time": T1, "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {"f:replicas": {}}}}]);
    let stored = update(Some(&obj), &edited, "kubectl", "");
    let managers: Vec<&str> = stored["metadata"]["managedFields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["manager"].as_str().unwrap())
        .collect();
    assert_eq!(managers, ["migrated"]);
}

#[test]
fn status_subresource_writes() {
    let obj = ssa(None, &deployment(3, "nginx:1"), "kubectl", false).unwrap();
    let mut with_status = obj.clone();
    with_status["status"] =
        json!({"replicas": 3, "conditions": [{"type": "Available", "status": "True"}]});
    let stored = update(
        Some(&obj),
        &with_status,
        "kube-controller-manager",
        "status",
    );
    let e = entry(&stored, "kube-controller-manager", "Update").unwrap();
    assert_eq!(e["subresource"], "status");
    assert_eq!(
        e["fieldsV1"],
        json!({"f:status": {".": {}, "f:conditions": {".": {}, "k:{\"type\":\"Available\"}": {".": {}, "f:status": {}, "f:type": {}}}, "f:replicas": {}}})
    );
    // Main-resource writes never own status.
    let mut main = stored.clone();
    main["status"]["replicas"] = json!(1);
    let main = update(Some(&stored), &main, "someone", "");
    assert!(entry(&main, "someone", "Update").is_none());
}

#[test]
fn bad_configs() {
    let mut cfg = deployment(1, "x");
    cfg["metadata"]["managedFields"] = json!([]);
    assert_eq!(
        ssa(None, &cfg, "kubectl", false),
        Err(ApplyError::ManagedFieldsInConfig)
    );
    assert!(matches!(
        ssa(None, &json!([1]), "kubectl", false),
        Err(ApplyError::InvalidConfig(_))
    ));
}

#[test]
fn objects_without_managed_fields_get_before_first_apply() {
    let live = deployment(3, "nginx:1");
    let other = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}, "spec": {"replicas": 5}});
    let err = ssa(Some(&live), &other, "kubectl", false).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Apply failed with 1 conflict: conflict with \"before-first-apply\" using apps/v1: .spec.replicas"
    );
}

#[test]
fn user_agent_managers() {
    let cases = [
        ("kubectl/v1.32.4 (linux/amd64) kubernetes/4cb5f07", "kubectl"),
        ("Go-http-client/1.1", "Go-http-client"),
        ("kube-controller-manager/v1.33.0 (linux/amd64) kubernetes/abc/system:serviceaccount:kube-system:x", "kube-controller-manager"),
        ("", ""),
    ];
    for (ua, expected) in cases {
        assert_eq!(default_manager_from_user_agent(ua), expected);
    }
    assert_eq!(
        default_manager_from_user_agent(&"a".repeat(200)).len(),
        FIELD_MANAGER_MAX_LENGTH
    );
}
