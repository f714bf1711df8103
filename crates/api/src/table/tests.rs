use super::*;
use crate::catalog::{all, find};
use serde_json::json;

fn now() -> Timestamp {
    "2024-05-01T12:00:00Z"
        .parse()
        .unwrap_or(Timestamp::UNIX_EPOCH)
}

fn info(group: &str, version: &str, plural: &str) -> &'static ResourceInfo {
    find(group, version, plural).unwrap_or_else(|| panic!("{plural} not in the catalog"))
}

fn cells(plural: &str, object: Value) -> Vec<Value> {
    let resource = all()
        .iter()
        .find(|r| r.plural == plural)
        .unwrap_or_else(|| panic!("{plural} not in the catalog"));
    row_cells(resource, &object, now())
}

fn column_names(group: &str, version: &str, plural: &str) -> Vec<(&'static str, i32)> {
    columns(info(group, version, plural))
        .iter()
        .map(|c| (c.name, c.priority))
        .collect()
}

#[test]
fn every_kind_fills_every_column() {
    let empty = json!({"metadata": {"name": "x", "creationTimestamp": "2024-05-01T11:00:00Z"}});
    for resource in all() {
        assert_eq!(
            row_cells(resource, &empty, now()).len(),
            columns(resource).len(),
            "{}",
            resource.group_resource()
        );
    }
}

#[test]
fn pod_columns() {
    assert_eq!(
        column_names("", "v1", "pods"),
        [
            ("Name", 0),
            ("Ready", 0),
            ("Status", 0),
            ("Restarts", 0),
            ("Age", 0),
            ("IP", 1),
            ("Node", 1),
            ("Nominated Node", 1),
            ("Readiness Gates", 1)
        ]
    );
}

fn pod(status: Value) -> Value {
    json!({
        "metadata": {"name": "web", "creationTimestamp": "2024-05-01T11:55:00Z"},
        "spec": {"containers": [{"name": "app", "image": "nginx"}], "nodeName": "node-1"},
        "status": status,
    })
}

#[test]
fn running_pod() {
    let row = cells(
        "pods",
        pod(json!({
            "phase": "Running",
            "podIPs": [{"ip": "10.1.0.5"}],
            "conditions": [{"type": "Ready", "status": "True"}],
            "containerStatuses": [{
                "name": "app", "ready": true, "restartCount": 0,
                "state": {"running": {"startedAt": "2024-05-01T11:56:00Z"}}
            }]
        })),
    );
    assert_eq!(
        row,
        [
            json!("web"),
            json!("1/1"),
            json!("Running"),
            json!("0"),
            json!("5m"),
            json!("10.1.0.5"),
            json!("node-1"),
            json!("<none>"),
            json!("<none>")
        ]
    );
}

#[test]
fn pod_status_reasons() {
    let waiting = cells(
        "pods",
        pod(json!({"phase": "Pending", "containerStatuses": [{
            "name": "app", "ready": false, "restartCount": 0,
            "state": {"waiting": {"reason": "ContainerCreating"}}
        }]})),
    );
    assert_eq!(waiting[2], json!("ContainerCreating"));
    assert_eq!(
        cells("pods", pod(json!({"phase": "Pending"})))[2],
        json!("Pending")
    );

    let crashing = cells(
        "pods",
        pod(json!({"phase": "Running", "containerStatuses": [{
            "name": "app", "ready": false, "restartCount": 4,
            "state": {"waiting": {"reason": "CrashLoopBackOff"}},
            "lastState": {"terminated": {"exitCode": 1, "finishedAt": "2024-05-01T11:59:30Z"}}
        }]})),
    );
    assert_eq!(crashing[2], json!("CrashLoopBackOff"));
    assert_eq!(crashing[3], json!("4 (30s ago)"));

    let completed = cells(
        "pods",
        pod(json!({"phase": "Succeeded", "containerStatuses": [{
            "name": "app", "ready": false, "restartCount": 0,
            "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}
        }]})),
    );
    assert_eq!(completed[1], json!("0/1"));
    assert_eq!(completed[2], json!("Completed"));

    let killed = cells(
        "pods",
        pod(json!({"phase": "Failed", "containerStatuses": [{
            "name": "app", "state": {"terminated": {"exitCode": 137, "signal": 9}}
        }]})),
    );
    assert_eq!(killed[2], json!("Signal:9"));
}

#[test]
fn terminating_and_initializing_pods() {
    let mut deleting = pod(json!({"phase": "Running"}));
    deleting["metadata"]["deletionTimestamp"] = json!("2024-05-01T11:59:00Z");
    assert_eq!(cells("pods", deleting)[2], json!("Terminating"));

    let mut init = pod(json!({"phase": "Pending", "initContainerStatuses": [{
        "name": "setup", "ready": false, "restartCount": 0,
        "state": {"running": {}}
    }]}));
    init["spec"]["initContainers"] = json!([{"name": "setup", "image": "busybox"}]);
    assert_eq!(cells("pods", init)[2], json!("Init:0/1"));

    let mut sidecar = pod(json!({"phase": "Running",
        "conditions": [{"type": "Initialized", "status": "True"}, {"type": "Ready", "status": "True"}],
        "initContainerStatuses": [{"name": "proxy", "ready": true, "started": true, "restartCount": 0, "state": {"running": {}}}],
        "containerStatuses": [{"name": "app", "ready": true, "restartCount": 0, "state": {"running": {}}}]
    }));
    sidecar["spec"]["initContainers"] = json!([{"name": "proxy", "restartPolicy": "Always"}]);
    let row = cells("pods", sidecar);
    assert_eq!(row[1], json!("2/2"));
    assert_eq!(row[2], json!("Running"));
}

#[test]
fn deployment_row() {
    assert_eq!(
        column_names("apps", "v1", "deployments"),
        [
            ("Name", 0),
            ("Ready", 0),
            ("Up-to-date", 0),
            ("Available", 0),
            ("Age", 0),
            ("Containers", 1),
            ("Images", 1),
            ("Selector", 1)
        ]
    );
    let row = cells(
        "deployments",
        json!({
            "metadata": {"name": "web", "creationTimestamp": "2024-04-29T09:00:00Z"},
            "spec": {
                "replicas": 3,
                "selector": {"matchLabels": {"app": "web"}},
                "template": {"spec": {"containers": [
                    {"name": "app", "image": "nginx:1.27"},
                    {"name": "log", "image": "busybox"}
                ]}}
            },
            "status": {"readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2}
        }),
    );
    assert_eq!(
        row,
        [
            json!("web"),
            json!("2/3"),
            json!(3),
            json!(2),
            json!("2d3h"),
            json!("app,log"),
            json!("nginx:1.27,busybox"),
            json!("app=web")
        ]
    );
}

#[test]
fn service_rows() {
    let cluster_ip = cells(
        "services",
        json!({
            "metadata": {"name": "kubernetes", "creationTimestamp": "2024-05-01T11:00:00Z"},
            "spec": {"type": "ClusterIP", "clusterIP": "10.96.0.1", "clusterIPs": ["10.96.0.1"],
                     "ports": [{"port": 443, "protocol": "TCP"}]}
        }),
    );
    assert_eq!(
        cluster_ip,
        [
            json!("kubernetes"),
            json!("ClusterIP"),
            json!("10.96.0.1"),
            json!("<none>"),
            json!("443/TCP"),
            json!("60m"),
            json!("<none>")
        ]
    );
    let node_port = cells(
        "services",
        json!({
            "metadata": {"name": "web"},
            "spec": {"type": "NodePort", "clusterIPs": ["10.96.3.4"], "selector": {"app": "web"},
                     "ports": [{"port": 80, "nodePort": 30080, "protocol": "TCP"}, {"port": 53, "protocol": "UDP"}]}
        }),
    );
    assert_eq!(node_port[4], json!("80:30080/TCP,53/UDP"));
    assert_eq!(node_port[5], json!("<unknown>"));
    assert_eq!(node_port[6], json!("app=web"));
    let load_balancer = cells(
        "services",
        json!({"metadata": {"name": "lb"}, "spec": {"type": "LoadBalancer", "clusterIPs": ["10.0.0.9"]}}),
    );
    assert_eq!(load_balancer[3], json!("<pending>"));
    assert_eq!(load_balancer[4], json!("<none>"));
    let headless = cells(
        "services",
        json!({"metadata": {"name": "db"}, "spec": {"type": "ClusterIP", "clusterIPs": ["None"]}}),
    );
    assert_eq!(headless[2], json!("None"));
}

#[test]
fn simple_kinds() {
    let created = "2024-05-01T11:59:50Z";
    assert_eq!(
        cells(
            "configmaps",
            json!({"metadata": {"name": "c", "creationTimestamp": created}, "data": {"a": "1", "b": "2"}, "binaryData": {"c": ""}})
        ),
        [json!("c"), json!(3), json!("10s")]
    );
    assert_eq!(
        cells(
            "secrets",
            json!({"metadata": {"name": "s", "creationTimestamp": created}, "type": "Opaque", "data": {"k": "dg=="}})
        ),
        [json!("s"), json!("Opaque"), json!(1), json!("10s")]
    );
    assert_eq!(
        cells(
            "namespaces",
            json!({"metadata": {"name": "default", "creationTimestamp": created}, "status": {"phase": "Active"}})
        ),
        [json!("default"), json!("Active"), json!("10s")]
    );
    assert_eq!(
        cells(
            "serviceaccounts",
            json!({"metadata": {"name": "default", "creationTimestamp": created}})
        ),
        [json!("default"), json!(0), json!("10s")]
    );
}

#[test]
fn job_status_and_completions() {
    let row = cells(
        "jobs",
        json!({
            "metadata": {"name": "pi"},
            "spec": {"completions": 1, "template": {"spec": {"containers": [{"name": "pi", "image": "perl"}]}}},
            "status": {"succeeded": 1, "startTime": "2024-05-01T11:00:00Z", "completionTime": "2024-05-01T11:00:42Z",
                       "conditions": [{"type": "Complete", "status": "True"}]}
        }),
    );
    assert_eq!(row[1], json!("Complete"));
    assert_eq!(row[2], json!("1/1"));
    assert_eq!(row[3], json!("42s"));
    let running = cells(
        "jobs",
        json!({"metadata": {"name": "p"}, "spec": {"parallelism": 2}}),
    );
    assert_eq!(running[1], json!("Running"));
    assert_eq!(running[2], json!("0/1 of 2"));
}

#[test]
fn node_row() {
    let row = cells(
        "nodes",
        json!({
            "metadata": {"name": "n1", "labels": {"node-role.kubernetes.io/control-plane": ""}},
            "spec": {"unschedulable": true},
            "status": {
                "conditions": [{"type": "Ready", "status": "True"}],
                "addresses": [{"type": "InternalIP", "address": "192.168.1.10"}],
                "nodeInfo": {"kubeletVersion": "v1.33.0"}
            }
        }),
    );
    assert_eq!(row[1], json!("Ready,SchedulingDisabled"));
    assert_eq!(row[2], json!("control-plane"));
    assert_eq!(row[4], json!("v1.33.0"));
    assert_eq!(row[5], json!("192.168.1.10"));
    assert_eq!(row[6], json!("<none>"));
    assert_eq!(row[7], json!("<unknown>"));
}

#[test]
fn event_row() {
    let row = cells(
        "events",
        json!({
            "metadata": {"name": "web.17c"},
            "involvedObject": {"kind": "Pod", "name": "web"},
            "reason": "Scheduled", "type": "Normal", "message": "assigned\n",
            "source": {"component": "default-scheduler"},
            "firstTimestamp": "2024-05-01T11:59:00Z", "lastTimestamp": "2024-05-01T11:59:30Z"
        }),
    );
    assert_eq!(
        row,
        [
            json!("30s"),
            json!("Normal"),
            json!("Scheduled"),
            json!("pod/web"),
            json!(""),
            json!("default-scheduler"),
            json!("assigned"),
            json!("60s"),
            json!(1),
            json!("web.17c")
        ]
    );
}

#[test]
fn default_table_for_roles_and_crds() {
    let roles = info("rbac.authorization.k8s.io", "v1", "roles");
    assert!(uses_default_columns(roles));
    assert_eq!(
        column_names("rbac.authorization.k8s.io", "v1", "roles"),
        [("Name", 0), ("Created At", 0)]
    );
    assert_eq!(
        row_cells(
            roles,
            &json!({"metadata": {"name": "r", "creationTimestamp": "2024-05-01T11:00:00Z"}}),
            now()
        ),
        [json!("r"), json!("2024-05-01T11:00:00Z")]
    );
    assert_eq!(columns(roles)[1].column_type, "date");
}

#[test]
fn hpa_targets_for_both_versions() {
    let v2 = cells(
        "horizontalpodautoscalers",
        json!({
            "metadata": {"name": "web"},
            "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web"}, "minReplicas": 1, "maxReplicas": 5,
                     "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}}]},
            "status": {"currentReplicas": 2, "currentMetrics": [{"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": 40}}}]}
        }),
    );
    assert_eq!(v2[1], json!("Deployment/web"));
    assert_eq!(v2[2], json!("cpu: 40%/80%"));
    let v1 = row_cells(
        info("autoscaling", "v1", "horizontalpodautoscalers"),
        &json!({"metadata": {"name": "web"}, "spec": {"maxReplicas": 3, "targetCPUUtilizationPercentage": 50}}),
        now(),
    );
    assert_eq!(v1[2], json!("cpu: <unknown>/50%"));
    assert_eq!(v1[3], json!("<unset>"));
}

#[test]
fn column_definition_json() {
    let definition = columns(info("", "v1", "pods"))[0].to_definition();
    assert_eq!(definition["name"], json!("Name"));
    assert_eq!(definition["format"], json!("name"));
    assert_eq!(definition["type"], json!("string"));
    assert_eq!(definition["priority"], json!(0));
}
