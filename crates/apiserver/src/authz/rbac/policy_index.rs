//! Every Role, ClusterRole and binding, parsed once into the shape authorization asks about. Aggregated
//! ClusterRoles are resolved here, at build time: a ClusterRole with an `aggregationRule` also holds
//! the rules of every ClusterRole its selectors match (transitively), which is what upstream's
//! clusterrole-aggregation controller would have written into it.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use serde_json::Value;

use super::policy_rule::{rules_of, PolicyRule};
use super::subject::{subjects_of, Subject};
use crate::authn::UserInfo;
use crate::authz::Attributes;
use crate::registry::object_meta::meta_str;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoleKind {
    Role,
    ClusterRole,
}

#[derive(Debug, Clone)]
pub struct Binding {
    pub name: String,
    pub namespace: String,
    pub role_kind: RoleKind,
    pub role_name: String,
    pub subjects: Vec<Subject>,
}

/// Why a request was allowed, as upstream's RBAC reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub binding: String,
    pub binding_namespace: String,
    pub role_kind: RoleKind,
    pub role: String,
}

#[derive(Debug, Default)]
pub struct PolicyIndex {
    cluster_roles: HashMap<String, Arc<Vec<PolicyRule>>>,
    roles: HashMap<(String, String), Arc<Vec<PolicyRule>>>,
    cluster_role_bindings: Vec<Binding>,
    role_bindings: HashMap<String, Vec<Binding>>,
}

fn binding_of(object: &Value) -> Option<Binding> {
    let role_ref = object.get("roleRef")?;
    let role_kind = match role_ref.get("kind").and_then(Value::as_str)? {
        "Role" => RoleKind::Role,
        "ClusterRole" => RoleKind::ClusterRole,
        _ => return None,
    };
    Some(Binding {
        name: meta_str(object, "name").unwrap_or("").to_string(),
        namespace: meta_str(object, "namespace").unwrap_or("").to_string(),
        role_kind,
        role_name: role_ref.get("name").and_then(Value::as_str)?.to_string(),
        subjects: subjects_of(object),
    })
}

/// The selectors of a ClusterRole's aggregationRule (None: not aggregated).
fn aggregation_selectors(role: &Value) -> Option<Vec<api::selector::LabelSelector>> {
    let selectors = role
        .get("aggregationRule")?
        .get("clusterRoleSelectors")?
        .as_array()?;
    Some(
        selectors
            .iter()
            .filter_map(|s| api::selector::LabelSelector::from_label_selector_json(Some(s)).ok())
            .filter(|s| !s.is_empty())
            .collect(),
    )
}

/// Own rules plus those of every matched role, resolved depth-first; `visiting` breaks cycles.
fn resolve(
    name: &str,
    roles: &HashMap<String, &Value>,
    resolved: &mut HashMap<String, Arc<Vec<PolicyRule>>>,
    visiting: &mut HashSet<String>,
) -> Arc<Vec<PolicyRule>> {
    if let Some(rules) = resolved.get(name) {
        return rules.clone();
    }
    let Some(role) = roles.get(name) else {
        return Arc::default();
    };
    let mut rules = rules_of(role);
    if let Some(selectors) = aggregation_selectors(role) {
        visiting.insert(name.to_string());
        let mut matched: Vec<&String> = roles
            .iter()
            .filter(|(other, object)| {
                *other != name
                    && !visiting.contains(*other)
                    && selectors.iter().any(|s| s.matches_object(object))
            })
            .map(|(other, _)| other)
            .collect();
        matched.sort();
        for other in matched {
            for rule in resolve(other, roles, resolved, visiting).iter() {
                if !rules.contains(rule) {
                    rules.push(rule.clone());
                }
            }
        }
        visiting.remove(name);
    }
    let rules = Arc::new(rules);
    if visiting.is_empty() {
        resolved.insert(name.to_string(), rules.clone());
    }
    rules
}

impl PolicyIndex {
    pub fn build(
        cluster_roles: &[Value],
        roles: &[Value],
        cluster_role_bindings: &[Value],
        role_bindings: &[Value],
    ) -> Self {
        let by_name: HashMap<String, &Value> = cluster_roles
            .iter()
            .map(|r| (meta_str(r, "name").unwrap_or("").to_string(), r))
            .collect();
        let mut resolved = HashMap::new();
        for name in by_name.keys() {
            let rules = resolve(name, &by_name, &mut resolved, &mut HashSet::new());
            resolved.insert(name.clone(), rules);
        }
        let roles = roles
            .iter()
            .map(|r| {
                let key = (
                    meta_str(r, "namespace").unwrap_or("").to_string(),
                    meta_str(r, "name").unwrap_or("").to_string(),
                );
                (key, Arc::new(rules_of(r)))
            })
            .collect();
        let mut by_namespace: HashMap<String, Vec<Binding>> = HashMap::new();
        for binding in role_bindings.iter().filter_map(binding_of) {
            by_namespace
                .entry(binding.namespace.clone())
                .or_default()
                .push(binding);
        }
        Self {
            cluster_roles: resolved,
            roles,
            cluster_role_bindings: cluster_role_bindings
                .iter()
                .filter_map(binding_of)
                .filter(|b| b.role_kind == RoleKind::ClusterRole)
                .collect(),
            role_bindings: by_namespace,
        }
    }

    fn rules_of(&self, binding: &Binding) -> Option<&Arc<Vec<PolicyRule>>> {
        match binding.role_kind {
            RoleKind::ClusterRole => self.cluster_roles.get(&binding.role_name),
            RoleKind::Role => self
                .roles
                .get(&(binding.namespace.clone(), binding.role_name.clone())),
        }
    }

    fn applicable<'a>(
        &'a self,
        user: &'a UserInfo,
        namespace: &str,
    ) -> impl Iterator<Item = (&'a Binding, &'a Arc<Vec<PolicyRule>>)> + 'a {
        let namespaced = (!namespace.is_empty())
            .then(|| self.role_bindings.get(namespace))
            .flatten()
            .into_iter()
            .flatten();
        self.cluster_role_bindings
            .iter()
            .chain(namespaced)
            .filter(move |b| b.subjects.iter().any(|s| s.applies_to(user, &b.namespace)))
            .filter_map(|b| self.rules_of(b).map(|rules| (b, rules)))
    }

    /// The rules of a role (a ClusterRole's with its aggregation resolved).
    pub fn role_rules(
        &self,
        kind: RoleKind,
        namespace: &str,
        name: &str,
    ) -> Option<Arc<Vec<PolicyRule>>> {
        match kind {
            RoleKind::ClusterRole => self.cluster_roles.get(name).cloned(),
            RoleKind::Role => self
                .roles
                .get(&(namespace.to_string(), name.to_string()))
                .cloned(),
        }
    }

    /// The binding that allows the request, if any.
    pub fn allowing(&self, user: &UserInfo, a: &Attributes) -> Option<Grant> {
        let namespace = if a.path.is_some() { "" } else { &a.namespace };
        self.applicable(user, namespace)
            .find(|(_, rules)| rules.iter().any(|r| r.allows(a)))
            .map(|(b, _)| Grant {
                binding: b.name.clone(),
                binding_namespace: b.namespace.clone(),
                role_kind: b.role_kind,
                role: b.role_name.clone(),
            })
    }

    /// Every rule that applies to `user` in `namespace` (cluster-wide ones included), for
    /// SelfSubjectRulesReview.
    pub fn rules_for(&self, user: &UserInfo, namespace: &str) -> Vec<PolicyRule> {
        let mut out: Vec<PolicyRule> = Vec::new();
        for (_, rules) in self.applicable(user, namespace) {
            for rule in rules.iter() {
                if !out.contains(rule) {
                    out.push(rule.clone());
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn user(name: &str, groups: &[&str]) -> UserInfo {
        UserInfo {
            name: name.into(),
            uid: String::new(),
            groups: groups.iter().map(|g| g.to_string()).collect(),
        }
    }

    fn get(resource: &str, namespace: &str) -> Attributes {
        Attributes {
            verb: "get".into(),
            group: String::new(),
            resource: resource.into(),
            namespace: namespace.into(),
            name: "x".into(),
            ..Attributes::default()
        }
    }

    fn index() -> PolicyIndex {
        let cluster_roles = vec![
            json!({"metadata": {"name": "view"},
                "aggregationRule": {"clusterRoleSelectors": [{"matchLabels": {"agg-view": "true"}}]},
                "rules": []}),
            json!({"metadata": {"name": "edit", "labels": {"agg-view": "false"}},
                "aggregationRule": {"clusterRoleSelectors": [{"matchLabels": {"agg-edit": "true"}}]}}),
            json!({"metadata": {"name": "view-pods", "labels": {"agg-view": "true", "agg-edit": "true"}},
                "rules": [{"verbs": ["get"], "apiGroups": [""], "resources": ["pods"]}]}),
            json!({"metadata": {"name": "secrets", "labels": {"agg-edit": "true"}},
                "rules": [{"verbs": ["get"], "apiGroups": [""], "resources": ["secrets"]}]}),
            json!({"metadata": {"name": "loop-a", "labels": {"loop": "b"}},
                "aggregationRule": {"clusterRoleSelectors": [{"matchLabels": {"loop": "a"}}]}}),
            json!({"metadata": {"name": "loop-b", "labels": {"loop": "a"}},
                "aggregationRule": {"clusterRoleSelectors": [{"matchLabels": {"loop": "b"}}]},
                "rules": [{"verbs": ["get"], "apiGroups": [""], "resources": ["nodes"]}]}),
        ];
        let roles = vec![json!({"metadata": {"name": "cm", "namespace": "ns1"},
            "rules": [{"verbs": ["get"], "apiGroups": [""], "resources": ["configmaps"]}]})];
        let crbs = vec![
            json!({"metadata": {"name": "viewers"},
                "roleRef": {"kind": "ClusterRole", "name": "view"},
                "subjects": [{"kind": "Group", "name": "viewers"}]}),
            json!({"metadata": {"name": "loopers"},
                "roleRef": {"kind": "ClusterRole", "name": "loop-a"},
                "subjects": [{"kind": "User", "name": "looper"}]}),
        ];
        let rbs = vec![
            json!({"metadata": {"name": "cm", "namespace": "ns1"},
                "roleRef": {"kind": "Role", "name": "cm"},
                "subjects": [{"kind": "ServiceAccount", "name": "robot"}]}),
            json!({"metadata": {"name": "editors", "namespace": "ns1"},
                "roleRef": {"kind": "ClusterRole", "name": "edit"},
                "subjects": [{"kind": "User", "name": "ed"}]}),
        ];
        PolicyIndex::build(&cluster_roles, &roles, &crbs, &rbs)
    }

    #[test]
    fn bindings_roles_and_aggregation() {
        let index = index();
        let viewer = user("v", &["viewers"]);
        let robot = user("system:serviceaccount:ns1:robot", &[]);
        let ed = user("ed", &[]);
        let cases = [
            (&viewer, get("pods", "any"), true),
            (&viewer, get("secrets", "any"), false),
            (&robot, get("configmaps", "ns1"), true),
            (&robot, get("configmaps", "ns2"), false),
            (&robot, get("pods", "ns1"), false),
            (&ed, get("secrets", "ns1"), true),
            (&ed, get("pods", "ns1"), true),
            (&ed, get("pods", "ns2"), false),
            (&ed, get("pods", ""), false),
        ];
        for (who, attributes, allowed) in cases {
            assert_eq!(
                index.allowing(who, &attributes).is_some(),
                allowed,
                "{} {attributes:?}",
                who.name
            );
        }
        let grant = index.allowing(&robot, &get("configmaps", "ns1")).unwrap();
        assert_eq!(grant.binding, "cm");
        assert_eq!(grant.role_kind, RoleKind::Role);
    }

    #[test]
    fn aggregation_cycles_terminate() {
        let index = index();
        assert!(index
            .allowing(&user("looper", &[]), &get("nodes", ""))
            .is_some());
        assert_eq!(index.rules_for(&user("ed", &[]), "ns1").len(), 2);
    }
}
