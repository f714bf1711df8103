//! What a node (`system:node:<name>` in `system:nodes`) may do: upstream's system:node rules,
//! simplified. A node reads what its pods need, writes its own Node, its own Lease in
//! `kube-node-lease`, pod status, events and its certificate requests.
//!
//! Secrets, config maps, claims, volumes and service accounts are the graph's to decide
//! ([`super::node_graph`]): only those of pods bound to the node.
//!
//! What a node creates is checked by NodeRestriction admission ([`super::node_restriction`]); it
//! updates, deletes and evicts only pods bound to it. Missing against upstream: NodeRestriction's
//! limits on the labels a node sets on its own Node.

use super::node_graph::NodeGraph;
use super::rule::{any_allows, Rule, Scope, READ};
use super::Attributes;
use crate::authn::UserInfo;

pub const NODES_GROUP: &str = "system:nodes";
pub const NODE_USER_PREFIX: &str = "system:node:";
const NODE_LEASE_NAMESPACE: &str = "kube-node-lease";
/// Where cluster DNS's Service and the nodes' DNS endpoints live.
const DNS_NAMESPACE: &str = "kube-system";

const NODE_RULES: &[Rule] = &[
    Rule {
        verbs: READ,
        group: "",
        resources: &[
            "nodes",
            "nodes/status",
            "pods",
            "pods/status",
            "services",
            "endpoints",
        ],
        scope: Scope::Any,
    },
    Rule {
        verbs: READ,
        group: "discovery.k8s.io",
        resources: &["endpointslices"],
        scope: Scope::Any,
    },
    Rule {
        verbs: READ,
        group: "storage.k8s.io",
        resources: &[
            "csidrivers",
            "csinodes",
            "storageclasses",
            "volumeattachments",
        ],
        scope: Scope::Any,
    },
    Rule {
        verbs: READ,
        group: "node.k8s.io",
        resources: &["runtimeclasses"],
        scope: Scope::Any,
    },
    Rule {
        verbs: &["create", "update", "patch", "delete"],
        group: "",
        resources: &["nodes", "nodes/status"],
        scope: Scope::OwnObject,
    },
    // The node's networking components: pod network, service proxy, DNS, NetworkPolicy, ingress.
    Rule {
        verbs: READ,
        group: "",
        resources: &["namespaces"],
        scope: Scope::Any,
    },
    Rule {
        verbs: READ,
        group: "networking.k8s.io",
        resources: &["networkpolicies", "ingresses", "ingressclasses"],
        scope: Scope::Any,
    },
    Rule {
        verbs: &["create"],
        group: "networking.k8s.io",
        resources: &["ingressclasses"],
        scope: Scope::Any,
    },
    Rule {
        verbs: &["update", "patch"],
        group: "networking.k8s.io",
        resources: &["ingresses/status"],
        scope: Scope::Any,
    },
    // Cluster DNS registers each node's server behind the `kube-dns` Service it creates.
    Rule {
        verbs: &["create"],
        group: "",
        resources: &["services"],
        scope: Scope::Namespace(DNS_NAMESPACE),
    },
    Rule {
        verbs: &["create", "update", "patch", "delete"],
        group: "discovery.k8s.io",
        resources: &["endpointslices"],
        scope: Scope::Namespace(DNS_NAMESPACE),
    },
    // Mirror pods are created by the node running them (NodeRestriction admission checks them).
    Rule {
        verbs: &["create"],
        group: "",
        resources: &["pods"],
        scope: Scope::Any,
    },
    Rule {
        verbs: &["create", "update", "patch"],
        group: "",
        resources: &["events"],
        scope: Scope::Any,
    },
    Rule {
        verbs: &["create", "update", "patch"],
        group: "events.k8s.io",
        resources: &["events"],
        scope: Scope::Any,
    },
    Rule {
        verbs: &[
            "get", "list", "watch", "create", "update", "patch", "delete",
        ],
        group: "coordination.k8s.io",
        resources: &["leases"],
        scope: Scope::OwnObjectIn(NODE_LEASE_NAMESPACE),
    },
    Rule {
        verbs: &["create", "update", "patch", "delete"],
        group: "storage.k8s.io",
        resources: &["csinodes"],
        scope: Scope::OwnObject,
    },
    Rule {
        verbs: &["create", "get", "list", "watch"],
        group: "certificates.k8s.io",
        resources: &["certificatesigningrequests"],
        scope: Scope::Any,
    },
    Rule {
        verbs: &["create"],
        group: "authentication.k8s.io",
        resources: &["tokenreviews"],
        scope: Scope::Any,
    },
    Rule {
        verbs: &["create"],
        group: "authorization.k8s.io",
        resources: &["subjectaccessreviews"],
        scope: Scope::Any,
    },
];

/// What a node may do to objects its pods reference, when the graph says they do.
const GRAPH_RULES: &[Rule] = &[
    Rule {
        verbs: READ,
        group: "",
        resources: &[
            "secrets",
            "configmaps",
            "persistentvolumeclaims",
            "serviceaccounts",
        ],
        scope: Scope::Any,
    },
    Rule {
        verbs: &["get"],
        group: "",
        resources: &["persistentvolumes"],
        scope: Scope::Any,
    },
    Rule {
        verbs: &["create"],
        group: "",
        resources: &["serviceaccounts/token"],
        scope: Scope::Any,
    },
    Rule {
        verbs: &["update", "patch"],
        group: "",
        resources: &["persistentvolumeclaims/status"],
        scope: Scope::Any,
    },
];

/// What a node may do to pods bound to it (finished pods deleted, status, eviction), and only to
/// those: upstream's NodeRestriction, decided here from the pods' watch cache.
const BOUND_POD_RULES: &[Rule] = &[
    Rule {
        verbs: &["delete"],
        group: "",
        resources: &["pods"],
        scope: Scope::Any,
    },
    Rule {
        verbs: &["update", "patch"],
        group: "",
        resources: &["pods/status"],
        scope: Scope::Any,
    },
    Rule {
        verbs: &["create"],
        group: "",
        resources: &["pods/eviction"],
        scope: Scope::Any,
    },
];

/// The node a user is, when it is one: `system:node:<name>` in `system:nodes`.
pub fn node_name(user: &UserInfo) -> Option<&str> {
    if !user.in_group(NODES_GROUP) {
        return None;
    }
    user.name
        .strip_prefix(NODE_USER_PREFIX)
        .filter(|name| !name.is_empty())
}

/// Whether the node may do `a`; without a graph, nothing its rules leave to the graph.
pub fn node_may(node: &str, a: &Attributes, graph: Option<&NodeGraph>) -> bool {
    any_allows(NODE_RULES, node, a)
        || (any_allows(GRAPH_RULES, node, a) && graph.is_some_and(|g| g.allows(node, a)))
        || (any_allows(BOUND_POD_RULES, node, a)
            && graph.is_some_and(|g| g.pod_is_bound_to(node, &a.namespace, &a.name)))
}
