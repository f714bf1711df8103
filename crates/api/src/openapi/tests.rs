use std::time::Instant;

use serde_json::{json, Value};

use super::cache::definition_index;
use super::definitions::V3_REF_PREFIX;
use super::reachable::referenced_definitions;
use super::v3_document::group_version_document;
use super::*;
use crate::catalog::{ResourceInfo, Subresource};

const DEPLOYMENT: &str = "io.k8s.api.apps.v1.Deployment";

fn deployments() -> ResourceInfo {
    ResourceInfo {
        group: "apps",
        version: "v1",
        kind: "Deployment",
        plural: "deployments",
        singular: "deployment",
        namespaced: true,
        short_names: &["deploy"],
        categories: &["all"],
        verbs: &[
            "create",
            "delete",
            "deletecollection",
            "get",
            "list",
            "patch",
            "update",
            "watch",
        ],
        subresources: &[Subresource::Status, Subresource::Scale],
        storage_resource: Some("deployments"),
        storage_version: ("apps", "v1"),
    }
}

fn apps_v1_document() -> Value {
    group_version_document(definition_index(), "apps", "v1", &[deployments()])
}

fn schema<'a>(document: &'a Value, name: &str) -> &'a Value {
    &document["components"]["schemas"][name]
}

#[test]
fn definitions_are_named_as_upstream() {
    let definitions = &definition_index().definitions;
    for name in [
        DEPLOYMENT,
        "io.k8s.api.apps.v1.DeploymentList",
        "io.k8s.api.core.v1.PodSpec",
        "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
        "io.k8s.apimachinery.pkg.api.resource.Quantity",
        "io.k8s.apimachinery.pkg.util.intstr.IntOrString",
        "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinition",
        "io.k8s.kube-aggregator.pkg.apis.apiregistration.v1.APIService",
    ] {
        assert!(definitions.contains_key(name), "missing {name}");
    }
}

#[test]
fn every_ref_resolves() {
    let definitions = &definition_index().definitions;
    let all = Value::Object(definitions.clone());
    for name in referenced_definitions(&all) {
        assert!(definitions.contains_key(&name), "dangling ref {name}");
    }
    let document = apps_v1_document();
    for name in referenced_definitions(&document) {
        assert!(
            document["components"]["schemas"].get(&name).is_some(),
            "dangling ref {name} in apps/v1"
        );
    }
}

#[test]
fn kinds_carry_their_group_version_kind() {
    let document = apps_v1_document();
    assert_eq!(
        schema(&document, DEPLOYMENT)["x-kubernetes-group-version-kind"],
        json!([{ "group": "apps", "kind": "Deployment", "version": "v1" }])
    );
    assert_eq!(
        schema(&document, "io.k8s.api.apps.v1.DeploymentList")["x-kubernetes-group-version-kind"],
        json!([{ "group": "apps", "kind": "DeploymentList", "version": "v1" }])
    );
    let pod = &definition_index().definitions["io.k8s.api.core.v1.Pod"];
    assert_eq!(
        pod["x-kubernetes-group-version-kind"],
        json!([{ "group": "", "kind": "Pod", "version": "v1" }])
    );
}

#[test]
fn described_refs_are_wrapped_in_all_of() {
    let document = apps_v1_document();
    let spec = &schema(&document, DEPLOYMENT)["properties"]["spec"];
    assert_eq!(
        spec["allOf"],
        json!([{ "$ref": format!("{V3_REF_PREFIX}io.k8s.api.apps.v1.DeploymentSpec") }])
    );
    assert!(spec["description"].as_str().is_some_and(|d| !d.is_empty()));
    assert!(spec.get("$ref").is_none());
}

#[test]
fn special_types_have_upstream_shapes() {
    let definitions = &definition_index().definitions;
    let int_or_string = &definitions["io.k8s.apimachinery.pkg.util.intstr.IntOrString"];
    assert_eq!(int_or_string["x-kubernetes-int-or-string"], json!(true));
    assert_eq!(int_or_string["format"], json!("int-or-string"));
    let time = &definitions["io.k8s.apimachinery.pkg.apis.meta.v1.Time"];
    assert_eq!(time["type"], json!("string"));
    assert_eq!(time["format"], json!("date-time"));
    let limits = &definitions["io.k8s.api.core.v1.ResourceRequirements"]["properties"]["limits"];
    assert_eq!(
        limits["additionalProperties"]["$ref"],
        json!(format!(
            "{V3_REF_PREFIX}io.k8s.apimachinery.pkg.api.resource.Quantity"
        ))
    );
}

#[test]
fn lists_carry_merge_extensions() {
    let definitions = &definition_index().definitions;
    let containers = &definitions["io.k8s.api.core.v1.PodSpec"]["properties"]["containers"];
    assert_eq!(containers["x-kubernetes-patch-strategy"], json!("merge"));
    assert_eq!(containers["x-kubernetes-patch-merge-key"], json!("name"));
    assert_eq!(containers["x-kubernetes-list-type"], json!("map"));
    assert_eq!(containers["x-kubernetes-list-map-keys"], json!(["name"]));
    let ports = &definitions["io.k8s.api.core.v1.Container"]["properties"]["ports"];
    assert_eq!(
        ports["x-kubernetes-list-map-keys"],
        json!(["containerPort", "protocol"])
    );
    let volumes = &definitions["io.k8s.api.core.v1.PodSpec"]["properties"]["volumes"];
    assert_eq!(
        volumes["x-kubernetes-patch-strategy"],
        json!("merge,retainKeys")
    );
    let conditions =
        &definitions["io.k8s.api.apps.v1.DeploymentStatus"]["properties"]["conditions"];
    assert_eq!(conditions["x-kubernetes-patch-merge-key"], json!("type"));
}

#[test]
fn patch_of_deployments_lists_field_validation() {
    let document = apps_v1_document();
    let item = &document["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"];
    let patch = &item["patch"];
    assert_eq!(
        patch["x-kubernetes-group-version-kind"],
        json!({ "group": "apps", "kind": "Deployment", "version": "v1" })
    );
    let names: Vec<&str> = patch["parameters"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| p["in"] == "query")
        .filter_map(|p| p["name"].as_str())
        .collect();
    for name in ["fieldValidation", "dryRun", "fieldManager", "force"] {
        assert!(names.contains(&name), "PATCH lacks {name}: {names:?}");
    }
    assert_eq!(
        patch["operationId"],
        json!("patchAppsV1NamespacedDeployment")
    );
    assert_eq!(item["get"]["x-kubernetes-action"], json!("get"));
    let scale = &document["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale"];
    assert_eq!(
        scale["patch"]["x-kubernetes-group-version-kind"]["kind"],
        json!("Scale")
    );
    assert!(document["paths"].get("/apis/apps/v1/deployments").is_some());
    assert!(schema(&document, "io.k8s.api.autoscaling.v1.Scale").is_object());
}

#[test]
fn unknown_fields_are_found_by_path() {
    let deployment = json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": { "name": "web", "labels": { "app": "web", "any/key": "x" } },
        "spec": {
            "replicaz": 2,
            "selector": { "matchLabels": { "app": "web" } },
            "strategy": { "rollingUpdate": { "maxSurge": "25%", "maxUnavailable": 1 } },
            "template": {
                "metadata": { "labels": { "app": "web" } },
                "spec": {
                    "containers": [{
                        "name": "web",
                        "image": "nginx",
                        "imagee": "nginx",
                        "ports": [{ "containerPort": 80 }],
                        "resources": { "limits": { "cpu": "1", "memory": 128 } },
                        "env": [{ "name": "A", "value": "b" }],
                    }],
                },
            },
        },
    });
    assert_eq!(
        unknown_fields("apps", "v1", "Deployment", &deployment),
        vec![
            "spec.replicaz".to_owned(),
            "spec.template.spec.containers[0].imagee".to_owned(),
        ]
    );
}

#[test]
fn valid_objects_have_no_unknown_fields() {
    let pod = json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "p",
            "annotations": { "kubectl.kubernetes.io/last-applied-configuration": "{}" },
            "managedFields": [{ "manager": "kubectl", "fieldsV1": { "f:spec": { ".": {} } } }],
        },
        "spec": { "containers": [{ "name": "c", "image": "busybox" }] },
        "status": { "phase": "Pending" },
    });
    assert!(unknown_fields("", "v1", "Pod", &pod).is_empty());
    assert_eq!(
        unknown_fields(
            "",
            "v1",
            "Pod",
            &json!({ "metadata": { "nme": "x" }, "extra": 1 })
        ),
        vec!["metadata.nme".to_owned(), "extra".to_owned()]
    );
    assert!(unknown_fields("example.com", "v1", "Widget", &json!({ "x": 1 })).is_empty());
}

#[test]
fn v2_uses_definitions_refs() {
    let v2: Value = serde_json::from_slice(&v2().json).unwrap_or_default();
    assert_eq!(v2["swagger"], json!("2.0"));
    let spec = &v2["definitions"][DEPLOYMENT]["properties"]["spec"];
    assert_eq!(
        spec["$ref"],
        json!("#/definitions/io.k8s.api.apps.v1.DeploymentSpec")
    );
    assert_eq!(
        v2["definitions"][DEPLOYMENT]["x-kubernetes-group-version-kind"][0]["kind"],
        json!("Deployment")
    );
}

#[test]
fn index_lists_served_group_versions_with_hashes() {
    let index = v3_index("/openapi/v3");
    let url = index["paths"]["apis/apps/v1"]["serverRelativeURL"]
        .as_str()
        .unwrap_or_default();
    assert!(url.starts_with("/openapi/v3/apis/apps/v1?hash="), "{url}");
    assert!(index["paths"]["api/v1"].is_object());
    assert!(index["paths"]["api"].is_object());
    let document = v3_group_version("apps", "v1");
    assert!(document.is_some_and(|d| url.ends_with(&d.hash)));
}

#[test]
fn generation_cost() {
    let start = Instant::now();
    let _ = definition_index();
    let definitions = start.elapsed();
    let start = Instant::now();
    let apps = v3_group_version("apps", "v1").map_or(0, |d| d.json.len());
    let apps_time = start.elapsed();
    let start = Instant::now();
    let core = v3_group_version("", "v1").map_or(0, |d| d.json.len());
    let core_time = start.elapsed();
    let start = Instant::now();
    let _ = v3_index("/openapi/v3");
    let index_time = start.elapsed();
    eprintln!(
        "definitions {definitions:?}; apps/v1 {apps} bytes in {apps_time:?}; \
         core/v1 {core} bytes in {core_time:?}; index (all documents) {index_time:?}"
    );
}

#[test]
fn every_served_document_resolves_its_refs() {
    let index = v3_index("/openapi/v3");
    let paths = index["paths"].as_object().cloned().unwrap_or_default();
    assert!(paths.len() > 10, "{paths:?}");
    for path in paths.keys() {
        let document: Value = v3_document(path)
            .and_then(|d| serde_json::from_slice(&d.json).ok())
            .unwrap_or_default();
        assert_eq!(document["openapi"], json!("3.0.0"), "{path}");
        for name in referenced_definitions(&document) {
            assert!(
                document["components"]["schemas"].get(&name).is_some(),
                "dangling ref {name} in {path}"
            );
        }
    }
}
