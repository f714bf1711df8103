//! Which labels a kubelet may set on its own Node: upstream's well-known kubelet labels, anything in
//! the `[*.]kubelet.kubernetes.io` and `[*.]node.kubernetes.io` namespaces, and anything outside the
//! `kubernetes.io` / `k8s.io` namespaces except `[*.]node-restriction.kubernetes.io`. Enforced by
//! NodeRestriction and checked by the agent on its `--node-label` flags.

use std::collections::{BTreeMap, BTreeSet};

/// Label keys in the kubernetes.io namespaces that kubelets set themselves.
const KUBELET_LABELS: &[&str] = &[
    "kubernetes.io/hostname",
    "kubernetes.io/os",
    "kubernetes.io/arch",
    "beta.kubernetes.io/os",
    "beta.kubernetes.io/arch",
    "beta.kubernetes.io/instance-type",
    "node.kubernetes.io/instance-type",
    "kubernetes.io/instance-type",
    "topology.kubernetes.io/zone",
    "topology.kubernetes.io/region",
    "failure-domain.beta.kubernetes.io/zone",
    "failure-domain.beta.kubernetes.io/region",
    "failure-domain.kubernetes.io/zone",
    "failure-domain.kubernetes.io/region",
];

/// Label namespaces (and their subdomains) kubelets may set anything in.
const KUBELET_NAMESPACES: &[&str] = &["kubelet.kubernetes.io", "node.kubernetes.io"];

/// The namespace no kubelet may set: labels there are for administrators to steer workloads by.
const NODE_RESTRICTION_NAMESPACE: &str = "node-restriction.kubernetes.io";

fn namespace(key: &str) -> &str {
    key.split_once('/').map_or("", |(prefix, _)| prefix)
}

fn in_namespace(namespace: &str, domain: &str) -> bool {
    namespace == domain
        || namespace
            .strip_suffix(domain)
            .is_some_and(|rest| rest.ends_with('.'))
}

fn is_kubernetes_label(key: &str) -> bool {
    let namespace = namespace(key);
    in_namespace(namespace, "kubernetes.io") || in_namespace(namespace, "k8s.io")
}

/// Whether `key` is one a kubelet is allowed to set on its own Node.
pub fn is_kubelet_label(key: &str) -> bool {
    KUBELET_LABELS.contains(&key)
        || KUBELET_NAMESPACES
            .iter()
            .any(|domain| in_namespace(namespace(key), domain))
}

/// Whether a node may add, remove or change a label with this key on itself.
pub fn node_may_set(key: &str) -> bool {
    !in_namespace(namespace(key), NODE_RESTRICTION_NAMESPACE)
        && (!is_kubernetes_label(key) || is_kubelet_label(key))
}

/// The keys whose value differs between the two label sets (added, removed or changed), sorted.
pub fn modified_keys<'a>(
    new: &'a BTreeMap<String, String>,
    old: &'a BTreeMap<String, String>,
) -> BTreeSet<&'a str> {
    let changed = |a: &'a BTreeMap<String, String>, b: &'a BTreeMap<String, String>| {
        a.iter()
            .filter(move |(key, value)| b.get(*key) != Some(*value))
            .map(|(key, _)| key.as_str())
    };
    changed(new, old).chain(changed(old, new)).collect()
}

/// The keys among `keys` that a node may not set, sorted.
pub fn forbidden<'a>(keys: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let keys: BTreeSet<&str> = keys.into_iter().collect();
    keys.into_iter().filter(|key| !node_may_set(key)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubelets_set_their_well_known_labels_and_namespaces() {
        for key in [
            "kubernetes.io/hostname",
            "topology.kubernetes.io/zone",
            "node.kubernetes.io/exclude-from-external-load-balancers",
            "kubelet.kubernetes.io/anything",
            "foo.node.kubernetes.io/bar",
            "example.com/team",
            "plain",
        ] {
            assert!(node_may_set(key), "{key}");
        }
    }

    #[test]
    fn kubelets_may_not_set_roles_restricted_or_other_kubernetes_labels() {
        for key in [
            "node-role.kubernetes.io/control-plane",
            "node-restriction.kubernetes.io/pci",
            "a.node-restriction.kubernetes.io/pci",
            "kubernetes.io/role",
            "k8s.io/thing",
            "x.k8s.io/thing",
        ] {
            assert!(!node_may_set(key), "{key}");
        }
        // A namespace merely ending in the same letters is not a subdomain.
        assert!(node_may_set("notkubernetes.io/x"));
        assert!(!is_kubelet_label("evilnode.kubernetes.io/x"));
    }

    #[test]
    fn modified_keys_are_added_removed_and_changed_ones() {
        let old = BTreeMap::from([
            ("same".to_string(), "1".to_string()),
            ("changed".to_string(), "1".to_string()),
            ("removed".to_string(), "1".to_string()),
        ]);
        let new = BTreeMap::from([
            ("same".to_string(), "1".to_string()),
            ("changed".to_string(), "2".to_string()),
            ("added".to_string(), "1".to_string()),
        ]);
        assert_eq!(
            modified_keys(&new, &old).into_iter().collect::<Vec<_>>(),
            ["added", "changed", "removed"]
        );
        assert_eq!(
            forbidden(["node-role.kubernetes.io/a", "app", "kubernetes.io/role"]),
            ["kubernetes.io/role", "node-role.kubernetes.io/a"]
        );
    }
}
