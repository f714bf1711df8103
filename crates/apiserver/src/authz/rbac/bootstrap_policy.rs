//! The default ClusterRoles and ClusterRoleBindings every cluster starts with, with upstream's names
//! and essential rules (plugin/pkg/auth/authorizer/rbac/bootstrappolicy). `admin`, `edit` and `view`
//! are aggregated from the `system:aggregate-to-*` roles as upstream's are.

use serde_json::{json, Value};

const READ: &[&str] = &["get", "list", "watch"];
const WRITE: &[&str] = &["create", "delete", "deletecollection", "patch", "update"];
const READ_WRITE: &[&str] = &[
    "get",
    "list",
    "watch",
    "create",
    "delete",
    "deletecollection",
    "patch",
    "update",
];
const AGGREGATE_TO: &str = "rbac.authorization.k8s.io/aggregate-to-";

fn rule(verbs: &[&str], group: &str, resources: &[&str]) -> Value {
    json!({"verbs": verbs, "apiGroups": [group], "resources": resources})
}

fn url_rule(verbs: &[&str], urls: &[&str]) -> Value {
    json!({"verbs": verbs, "nonResourceURLs": urls})
}

fn metadata(name: &str, labels: Value) -> Value {
    let mut labels = labels;
    labels["kubernetes.io/bootstrapping"] = json!("rbac-defaults");
    json!({
        "name": name,
        "labels": labels,
        "annotations": {"rbac.authorization.kubernetes.io/autoupdate": "true"},
    })
}

fn cluster_role(name: &str, labels: Value, rules: Vec<Value>) -> Value {
    json!({
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": metadata(name, labels),
        "rules": rules,
    })
}

fn aggregated_role(name: &str, labels: Value, aggregate_from: &str) -> Value {
    let mut role = cluster_role(name, labels, Vec::new());
    role["aggregationRule"] = json!({"clusterRoleSelectors": [
        {"matchLabels": {format!("{AGGREGATE_TO}{aggregate_from}"): "true"}}
    ]});
    role
}

fn aggregate_label(to: &[&str]) -> Value {
    let mut labels = json!({});
    for target in to {
        labels[format!("{AGGREGATE_TO}{target}")] = json!("true");
    }
    labels
}

fn view_rules() -> Vec<Value> {
    vec![
        rule(
            READ,
            "",
            &[
                "pods",
                "replicationcontrollers",
                "replicationcontrollers/scale",
                "serviceaccounts",
                "services",
                "services/status",
                "endpoints",
                "persistentvolumeclaims",
                "persistentvolumeclaims/status",
                "configmaps",
            ],
        ),
        rule(
            READ,
            "",
            &[
                "limitranges",
                "resourcequotas",
                "bindings",
                "events",
                "pods/status",
                "resourcequotas/status",
                "namespaces/status",
                "replicationcontrollers/status",
                "pods/log",
            ],
        ),
        rule(READ, "", &["namespaces"]),
        rule(READ, "discovery.k8s.io", &["endpointslices"]),
        rule(
            READ,
            "apps",
            &[
                "controllerrevisions",
                "statefulsets",
                "statefulsets/scale",
                "statefulsets/status",
                "daemonsets",
                "daemonsets/status",
                "deployments",
                "deployments/scale",
                "deployments/status",
                "replicasets",
                "replicasets/scale",
                "replicasets/status",
            ],
        ),
        rule(
            READ,
            "autoscaling",
            &[
                "horizontalpodautoscalers",
                "horizontalpodautoscalers/status",
            ],
        ),
        rule(
            READ,
            "batch",
            &["cronjobs", "cronjobs/status", "jobs", "jobs/status"],
        ),
        rule(
            READ,
            "policy",
            &["poddisruptionbudgets", "poddisruptionbudgets/status"],
        ),
        rule(
            READ,
            "networking.k8s.io",
            &["networkpolicies", "ingresses", "ingresses/status"],
        ),
    ]
}

fn edit_rules() -> Vec<Value> {
    vec![
        rule(&["impersonate"], "", &["serviceaccounts"]),
        rule(
            WRITE,
            "",
            &[
                "pods",
                "pods/attach",
                "pods/proxy",
                "pods/exec",
                "pods/portforward",
            ],
        ),
        rule(&["create"], "", &["pods/eviction"]),
        rule(
            WRITE,
            "",
            &[
                "replicationcontrollers",
                "replicationcontrollers/scale",
                "serviceaccounts",
                "services",
                "services/proxy",
                "persistentvolumeclaims",
                "configmaps",
                "secrets",
                "events",
            ],
        ),
        rule(&["create"], "", &["serviceaccounts/token"]),
        rule(
            WRITE,
            "apps",
            &[
                "statefulsets",
                "statefulsets/scale",
                "daemonsets",
                "deployments",
                "deployments/scale",
                "deployments/rollback",
                "replicasets",
                "replicasets/scale",
            ],
        ),
        rule(WRITE, "autoscaling", &["horizontalpodautoscalers"]),
        rule(WRITE, "batch", &["jobs", "cronjobs"]),
        rule(WRITE, "policy", &["poddisruptionbudgets"]),
        rule(
            WRITE,
            "networking.k8s.io",
            &["networkpolicies", "ingresses"],
        ),
        rule(WRITE, "discovery.k8s.io", &["endpointslices"]),
        rule(
            READ,
            "",
            &[
                "pods/attach",
                "pods/proxy",
                "pods/exec",
                "pods/portforward",
                "secrets",
                "services/proxy",
            ],
        ),
    ]
}

fn admin_rules() -> Vec<Value> {
    vec![
        rule(
            &["create"],
            "authorization.k8s.io",
            &["localsubjectaccessreviews"],
        ),
        rule(
            READ_WRITE,
            "rbac.authorization.k8s.io",
            &["rolebindings", "roles"],
        ),
    ]
}

/// The default ClusterRoles.
pub fn bootstrap_cluster_roles() -> Vec<Value> {
    let health = ["/healthz", "/livez", "/readyz"];
    vec![
        cluster_role(
            "cluster-admin",
            json!({}),
            vec![rule(&["*"], "*", &["*"]), url_rule(&["*"], &["*"])],
        ),
        aggregated_role("admin", json!({}), "admin"),
        aggregated_role("edit", aggregate_label(&["admin"]), "edit"),
        aggregated_role("view", aggregate_label(&["edit"]), "view"),
        cluster_role(
            "system:aggregate-to-admin",
            aggregate_label(&["admin"]),
            admin_rules(),
        ),
        cluster_role(
            "system:aggregate-to-edit",
            aggregate_label(&["edit"]),
            edit_rules(),
        ),
        cluster_role(
            "system:aggregate-to-view",
            aggregate_label(&["view"]),
            view_rules(),
        ),
        cluster_role(
            "system:discovery",
            json!({}),
            vec![url_rule(
                &["get"],
                &[
                    "/api",
                    "/api/*",
                    "/apis",
                    "/apis/*",
                    "/healthz",
                    "/livez",
                    "/openapi",
                    "/openapi/*",
                    "/readyz",
                    "/version",
                    "/version/",
                ],
            )],
        ),
        cluster_role(
            "system:basic-user",
            json!({}),
            vec![
                rule(
                    &["create"],
                    "authorization.k8s.io",
                    &["selfsubjectaccessreviews", "selfsubjectrulesreviews"],
                ),
                rule(
                    &["create"],
                    "authentication.k8s.io",
                    &["selfsubjectreviews"],
                ),
            ],
        ),
        cluster_role(
            "system:public-info-viewer",
            json!({}),
            vec![url_rule(
                &["get"],
                &["/healthz", "/livez", "/readyz", "/version", "/version/"],
            )],
        ),
        cluster_role(
            "system:monitoring",
            json!({}),
            vec![url_rule(
                &["get"],
                &[
                    "/metrics",
                    "/metrics/slis",
                    health[0],
                    health[1],
                    health[2],
                    "/healthz/*",
                    "/livez/*",
                    "/readyz/*",
                ],
            )],
        ),
        cluster_role(
            "system:node-proxier",
            json!({}),
            vec![
                rule(&["list", "watch"], "", &["services", "endpoints"]),
                rule(&["get", "list", "watch"], "", &["nodes"]),
                rule(&["create", "patch", "update"], "", &["events"]),
                rule(&["create", "patch", "update"], "events.k8s.io", &["events"]),
                rule(&["list", "watch"], "discovery.k8s.io", &["endpointslices"]),
            ],
        ),
        cluster_role(
            "system:kube-dns",
            json!({}),
            vec![rule(&["list", "watch"], "", &["endpoints", "services"])],
        ),
        cluster_role(
            "system:auth-delegator",
            json!({}),
            vec![
                rule(&["create"], "authentication.k8s.io", &["tokenreviews"]),
                rule(
                    &["create"],
                    "authorization.k8s.io",
                    &["subjectaccessreviews"],
                ),
            ],
        ),
    ]
}

fn binding(role: &str, subjects: Value) -> Value {
    json!({
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": metadata(role, json!({})),
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
        "subjects": subjects,
    })
}

fn group(name: &str) -> Value {
    json!({"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": name})
}

/// The default ClusterRoleBindings (each named like its role, as upstream's).
pub fn bootstrap_cluster_role_bindings() -> Vec<Value> {
    vec![
        binding("cluster-admin", json!([group("system:masters")])),
        binding("system:discovery", json!([group("system:authenticated")])),
        binding("system:basic-user", json!([group("system:authenticated")])),
        binding(
            "system:public-info-viewer",
            json!([
                group("system:authenticated"),
                group("system:unauthenticated")
            ]),
        ),
        binding("system:monitoring", json!([group("system:monitoring")])),
        binding(
            "system:node-proxier",
            json!([{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "system:kube-proxy"}]),
        ),
        binding(
            "system:kube-dns",
            json!([{"kind": "ServiceAccount", "name": "kube-dns", "namespace": "kube-system"}]),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::super::PolicyIndex;
    use super::*;
    use crate::authn::UserInfo;
    use crate::authz::Attributes;

    #[test]
    fn defaults_grant_upstreams_permissions() {
        let index = PolicyIndex::build(
            &bootstrap_cluster_roles(),
            &[],
            &bootstrap_cluster_role_bindings(),
            &[],
        );
        let authenticated = UserInfo {
            name: "alice".into(),
            uid: String::new(),
            groups: vec!["system:authenticated".into()],
        };
        let path = |p: &str| Attributes {
            verb: "get".into(),
            path: Some(p.into()),
            ..Attributes::default()
        };
        assert!(index
            .allowing(&authenticated, &path("/apis/apps"))
            .is_some());
        assert!(index.allowing(&authenticated, &path("/metrics")).is_none());
        let admin_rules = index.rules_for(
            &UserInfo {
                name: "x".into(),
                ..UserInfo::default()
            },
            "",
        );
        assert!(admin_rules.is_empty());
        // admin aggregates edit, which aggregates view.
        let admins = PolicyIndex::build(
            &bootstrap_cluster_roles(),
            &[],
            &[json!({"metadata": {"name": "a"},
                "roleRef": {"kind": "ClusterRole", "name": "admin"},
                "subjects": [{"kind": "User", "name": "boss"}]})],
            &[],
        );
        let boss = UserInfo {
            name: "boss".into(),
            ..UserInfo::default()
        };
        let request = |verb: &str, group: &str, resource: &str| Attributes {
            verb: verb.into(),
            group: group.into(),
            resource: resource.into(),
            namespace: "ns".into(),
            ..Attributes::default()
        };
        assert!(admins
            .allowing(&boss, &request("list", "", "pods"))
            .is_some());
        assert!(admins
            .allowing(&boss, &request("create", "apps", "deployments"))
            .is_some());
        assert!(admins
            .allowing(
                &boss,
                &request("create", "rbac.authorization.k8s.io", "roles")
            )
            .is_some());
        assert!(admins
            .allowing(&boss, &request("list", "", "nodes"))
            .is_none());
    }
}
