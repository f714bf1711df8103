//! The server's authorization: masters, nodes, bootstrappers and discovery by fixed rules, then RBAC.

use std::sync::Arc;

use super::bootstrapper::bootstrapper_may;
use super::node::{node_may, node_name};
use super::node_graph::NodeGraph;
use super::rbac::{PolicyRule, RbacAuthorizer, RoleKind};
use super::{Attributes, Authorizer, Decision};
use crate::authn::{UserInfo, BOOTSTRAPPERS_GROUP};

/// Paths every authenticated user may read (upstream's system:discovery and
/// system:public-info-viewer).
const DISCOVERY_PATHS: &[&str] = &[
    "/api", "/apis", "/version", "/healthz", "/livez", "/readyz", "/openapi",
];

fn is_discovery_read(a: &Attributes) -> bool {
    let Some(path) = &a.path else {
        return false;
    };
    a.verb == "get"
        && DISCOVERY_PATHS
            .iter()
            .any(|p| path == p || path.starts_with(&format!("{p}/")))
}

/// What every authenticated user may do about itself (upstream's system:basic-user).
fn is_self_review(a: &Attributes) -> bool {
    a.path.is_none()
        && a.verb == "create"
        && matches!(
            (a.group.as_str(), a.resource.as_str()),
            (
                "authorization.k8s.io",
                "selfsubjectaccessreviews" | "selfsubjectrulesreviews"
            ) | ("authentication.k8s.io", "selfsubjectreviews")
        )
}

/// The fixed rules, then RBAC when the server has it.
#[derive(Default)]
pub struct ClusterPolicy {
    rbac: Option<RbacAuthorizer>,
    node_graph: Option<Arc<NodeGraph>>,
}

impl ClusterPolicy {
    /// Ask RBAC whatever the fixed rules do not allow.
    pub fn with_rbac(rbac: RbacAuthorizer) -> Self {
        Self {
            rbac: Some(rbac),
            node_graph: None,
        }
    }

    /// Let nodes reach what their pods reference, as the graph knows it.
    pub fn with_node_graph(mut self, graph: Arc<NodeGraph>) -> Self {
        self.node_graph = Some(graph);
        self
    }
}

impl Authorizer for ClusterPolicy {
    fn authorize(&self, user: &UserInfo, a: &Attributes) -> Decision {
        if user.in_group("system:masters") {
            return Decision::Allow;
        }
        let allowed = is_discovery_read(a)
            || is_self_review(a)
            || node_name(user).is_some_and(|node| node_may(node, a, self.node_graph.as_deref()))
            || (user.in_group(BOOTSTRAPPERS_GROUP) && bootstrapper_may(a))
            || self
                .rbac
                .as_ref()
                .is_some_and(|rbac| rbac.allowing(user, a).is_some());
        if allowed {
            Decision::Allow
        } else {
            Decision::Deny(String::new())
        }
    }

    fn rules_for(&self, user: &UserInfo, namespace: &str) -> Option<Vec<PolicyRule>> {
        if user.in_group("system:masters") {
            return None;
        }
        Some(
            self.rbac
                .as_ref()
                .map(|rbac| rbac.index().rules_for(user, namespace))
                .unwrap_or_default(),
        )
    }

    fn role_rules(&self, kind: RoleKind, namespace: &str, name: &str) -> Option<Vec<PolicyRule>> {
        let index = self.rbac.as_ref()?.index();
        let rules = index.role_rules(kind, namespace, name)?;
        Some(rules.as_ref().clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(name: &str, groups: &[&str]) -> UserInfo {
        UserInfo {
            name: name.into(),
            uid: String::new(),
            groups: groups.iter().map(|g| g.to_string()).collect(),
        }
        .with_authenticated_group()
    }

    /// `verb group/resource[/subresource] [namespace/]name`, in a compact form for the table.
    fn request(verb: &str, group: &str, resource: &str, namespace: &str, name: &str) -> Attributes {
        let (resource, subresource) = resource.split_once('/').unwrap_or((resource, ""));
        Attributes {
            verb: verb.into(),
            group: group.into(),
            version: "v1".into(),
            resource: resource.into(),
            subresource: subresource.into(),
            namespace: namespace.into(),
            name: name.into(),
            path: None,
        }
    }

    fn path(verb: &str, path: &str) -> Attributes {
        Attributes {
            verb: verb.into(),
            path: Some(path.into()),
            ..Attributes::default()
        }
    }

    #[test]
    fn decisions() {
        let admin = user("admin", &["system:masters"]);
        let node = user("system:node:n1", &["system:nodes"]);
        let impostor = user("system:node:n1", &[]);
        let bootstrap = user("system:bootstrap:server", &["system:bootstrappers"]);
        let nobody = user("alice", &[]);
        let cases: Vec<(&UserInfo, Attributes, bool)> = vec![
            (&admin, request("delete", "", "namespaces", "", "x"), true),
            (&node, request("get", "", "nodes", "", "n2"), true),
            (&node, request("watch", "", "pods", "", ""), true),
            // Secrets and tokens are the graph's to allow; without one, nothing.
            (&node, request("list", "", "secrets", "default", ""), false),
            (&node, request("get", "", "secrets", "default", "s"), false),
            (
                &node,
                request("get", "discovery.k8s.io", "endpointslices", "d", ""),
                true,
            ),
            (
                &node,
                request("list", "storage.k8s.io", "csidrivers", "", ""),
                true,
            ),
            (&node, request("create", "", "nodes", "", ""), true),
            (&node, request("patch", "", "nodes/status", "", "n1"), true),
            (&node, request("patch", "", "nodes/status", "", "n2"), false),
            (&node, request("update", "", "nodes", "", "n2"), false),
            (&node, request("delete", "", "nodes", "", "n1"), true),
            (
                &node,
                request(
                    "create",
                    "coordination.k8s.io",
                    "leases",
                    "kube-node-lease",
                    "",
                ),
                true,
            ),
            (
                &node,
                request(
                    "update",
                    "coordination.k8s.io",
                    "leases",
                    "kube-node-lease",
                    "n1",
                ),
                true,
            ),
            (
                &node,
                request(
                    "update",
                    "coordination.k8s.io",
                    "leases",
                    "kube-node-lease",
                    "n2",
                ),
                false,
            ),
            (
                &node,
                request("create", "coordination.k8s.io", "leases", "kube-system", ""),
                false,
            ),
            // Only pods bound to the node, which the graph knows; without one, none.
            (
                &node,
                request("patch", "", "pods/status", "default", "p"),
                false,
            ),
            (&node, request("update", "", "pods", "default", "p"), false),
            // Cluster DNS's Service and endpoints, in kube-system only.
            (
                &node,
                request("create", "", "services", "kube-system", ""),
                true,
            ),
            (
                &node,
                request("create", "", "services", "default", ""),
                false,
            ),
            (
                &node,
                request(
                    "patch",
                    "discovery.k8s.io",
                    "endpointslices",
                    "kube-system",
                    "kube-dns-n1",
                ),
                true,
            ),
            (
                &node,
                request(
                    "delete",
                    "discovery.k8s.io",
                    "endpointslices",
                    "default",
                    "web",
                ),
                false,
            ),
            (&node, request("delete", "", "pods", "default", "p"), false),
            (&node, request("create", "", "pods", "default", ""), true),
            (&node, request("create", "", "events", "default", ""), true),
            (
                &node,
                request("create", "", "serviceaccounts/token", "default", "sa"),
                false,
            ),
            (
                &node,
                request("create", "", "secrets", "default", ""),
                false,
            ),
            (
                &node,
                request("delete", "", "namespaces", "", "default"),
                false,
            ),
            (
                &node,
                request("create", "apps", "deployments", "default", ""),
                false,
            ),
            (
                &node,
                request(
                    "create",
                    "certificates.k8s.io",
                    "certificatesigningrequests",
                    "",
                    "",
                ),
                true,
            ),
            (
                &node,
                request(
                    "update",
                    "certificates.k8s.io",
                    "certificatesigningrequests/approval",
                    "",
                    "c",
                ),
                false,
            ),
            (&impostor, request("get", "", "pods", "default", "p"), false),
            (
                &bootstrap,
                request(
                    "create",
                    "certificates.k8s.io",
                    "certificatesigningrequests",
                    "",
                    "",
                ),
                true,
            ),
            (
                &bootstrap,
                request(
                    "watch",
                    "certificates.k8s.io",
                    "certificatesigningrequests",
                    "",
                    "",
                ),
                true,
            ),
            (
                &bootstrap,
                request(
                    "delete",
                    "certificates.k8s.io",
                    "certificatesigningrequests",
                    "",
                    "c",
                ),
                false,
            ),
            (
                &bootstrap,
                request(
                    "update",
                    "certificates.k8s.io",
                    "certificatesigningrequests/approval",
                    "",
                    "c",
                ),
                false,
            ),
            (&bootstrap, request("get", "", "nodes", "", "n1"), false),
            (
                &bootstrap,
                request("get", "", "secrets", "kube-system", "s"),
                false,
            ),
            (&nobody, request("get", "", "pods", "default", "p"), false),
            (
                &nobody,
                request(
                    "create",
                    "authorization.k8s.io",
                    "selfsubjectaccessreviews",
                    "",
                    "",
                ),
                true,
            ),
            (&nobody, path("get", "/apis/apps/v1"), true),
            (&nobody, path("get", "/version"), true),
            (&nobody, path("get", "/metrics"), false),
            (&node, path("get", "/metrics"), false),
        ];
        for (who, attributes, allowed) in cases {
            let decision = ClusterPolicy::default().authorize(who, &attributes);
            assert_eq!(
                decision == Decision::Allow,
                allowed,
                "{} {attributes:?}",
                who.name
            );
        }
    }

    #[test]
    fn node_names_need_the_group() {
        assert_eq!(
            node_name(&user("system:node:a", &["system:nodes"])),
            Some("a")
        );
        assert_eq!(node_name(&user("system:node:a", &[])), None);
        assert_eq!(node_name(&user("system:node:", &["system:nodes"])), None);
        assert_eq!(node_name(&user("bob", &["system:nodes"])), None);
    }
}
