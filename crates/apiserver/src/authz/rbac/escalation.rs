//! Privilege-escalation prevention, as upstream's RBAC storage: a Role or ClusterRole may only be
//! written by someone who holds every permission it grants (or may `escalate` it), and a binding only
//! by someone who holds the bound role's permissions (or may `bind` it).

use serde_json::Value;

use super::policy_index::RoleKind;
use super::policy_rule::{rules_of, PolicyRule};
use crate::authn::UserInfo;
use crate::authz::{Attributes, Authorizer, Decision};
use crate::registry::object_meta::meta_str;
use crate::status::ApiError;

const GROUP: &str = "rbac.authorization.k8s.io";

fn or_any(items: &[String]) -> Vec<String> {
    if items.is_empty() {
        vec![String::new()]
    } else {
        items.to_vec()
    }
}

/// Every single permission a rule grants, as requests in `namespace`.
fn atoms(rule: &PolicyRule, namespace: &str) -> Vec<Attributes> {
    let mut out = Vec::new();
    for verb in &rule.verbs {
        for url in &rule.non_resource_urls {
            out.push(Attributes {
                verb: verb.clone(),
                path: Some(url.clone()),
                ..Attributes::default()
            });
        }
        for group in &rule.api_groups {
            for resource in &rule.resources {
                let (resource, subresource) =
                    resource.split_once('/').unwrap_or((resource.as_str(), ""));
                for name in or_any(&rule.resource_names) {
                    out.push(Attributes {
                        verb: verb.clone(),
                        group: group.clone(),
                        resource: resource.to_string(),
                        subresource: subresource.to_string(),
                        namespace: namespace.to_string(),
                        name,
                        ..Attributes::default()
                    });
                }
            }
        }
    }
    out
}

fn allowed(authorizer: &dyn Authorizer, user: &UserInfo, a: &Attributes) -> bool {
    authorizer.authorize(user, a) == Decision::Allow
}

fn may(
    authorizer: &dyn Authorizer,
    user: &UserInfo,
    verb: &str,
    plural: &str,
    ns: &str,
    name: &str,
) -> bool {
    allowed(
        authorizer,
        user,
        &Attributes {
            verb: verb.into(),
            group: GROUP.into(),
            resource: plural.into(),
            namespace: ns.into(),
            name: name.into(),
            ..Attributes::default()
        },
    )
}

fn describe(rule: &PolicyRule) -> String {
    if rule.non_resource_urls.is_empty() {
        format!(
            "{{APIGroups:{:?}, Resources:{:?}, Verbs:{:?}}}",
            rule.api_groups, rule.resources, rule.verbs
        )
    } else {
        format!(
            "{{NonResourceURLs:{:?}, Verbs:{:?}}}",
            rule.non_resource_urls, rule.verbs
        )
    }
}

fn escalation_error(
    plural: &str,
    name: &str,
    user: &UserInfo,
    missing: &[&PolicyRule],
) -> ApiError {
    let groups: Vec<String> = user.groups.iter().map(|g| format!("{g:?}")).collect();
    let missing: Vec<String> = missing.iter().map(|r| describe(r)).collect();
    ApiError::forbidden(format!(
        "{plural}.{GROUP} {name:?} is forbidden: user {:?} (groups=[{}]) is attempting to grant RBAC permissions not currently held:\n{}",
        user.name,
        groups.join(" "),
        missing.join("\n")
    ))
}

/// The rules `user` does not hold in `namespace` ("": cluster-wide).
fn not_held<'a>(
    authorizer: &dyn Authorizer,
    user: &UserInfo,
    rules: &'a [PolicyRule],
    namespace: &str,
) -> Vec<&'a PolicyRule> {
    rules
        .iter()
        .filter(|r| {
            !atoms(r, namespace)
                .iter()
                .all(|a| allowed(authorizer, user, a))
        })
        .collect()
}

/// Refuse a write of an RBAC object that would grant `user` more than it holds.
pub fn check_escalation(
    authorizer: &dyn Authorizer,
    user: &UserInfo,
    group: &str,
    kind: &str,
    object: &Value,
) -> Result<(), ApiError> {
    if group != GROUP {
        return Ok(());
    }
    let name = meta_str(object, "name").unwrap_or("");
    let namespace = meta_str(object, "namespace").unwrap_or("");
    match kind {
        "Role" | "ClusterRole" => {
            let plural = if kind == "Role" {
                "roles"
            } else {
                "clusterroles"
            };
            if may(authorizer, user, "escalate", plural, namespace, name) {
                return Ok(());
            }
            let rules = rules_of(object);
            let missing = not_held(authorizer, user, &rules, namespace);
            if missing.is_empty() {
                Ok(())
            } else {
                Err(escalation_error(plural, name, user, &missing))
            }
        }
        "RoleBinding" | "ClusterRoleBinding" => {
            let plural = if kind == "RoleBinding" {
                "rolebindings"
            } else {
                "clusterrolebindings"
            };
            let role_ref = object.get("roleRef");
            let field = |k: &str| {
                role_ref
                    .and_then(|r| r.get(k))
                    .and_then(Value::as_str)
                    .unwrap_or("")
            };
            let (role_kind, role_plural) = match field("kind") {
                "Role" => (RoleKind::Role, "roles"),
                _ => (RoleKind::ClusterRole, "clusterroles"),
            };
            let role_namespace = if role_kind == RoleKind::Role {
                namespace
            } else {
                ""
            };
            if may(
                authorizer,
                user,
                "bind",
                role_plural,
                role_namespace,
                field("name"),
            ) {
                return Ok(());
            }
            let Some(rules) = authorizer.role_rules(role_kind, role_namespace, field("name"))
            else {
                return Err(ApiError::not_found(GROUP, role_plural, field("name")));
            };
            let missing = not_held(authorizer, user, &rules, namespace);
            if missing.is_empty() {
                Ok(())
            } else {
                Err(escalation_error(plural, name, user, &missing))
            }
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::super::PolicyIndex;
    use super::*;
    use serde_json::json;

    /// RBAC alone over a fixed index.
    struct Fixed(PolicyIndex);

    impl Authorizer for Fixed {
        fn authorize(&self, user: &UserInfo, a: &Attributes) -> Decision {
            match self.0.allowing(user, a) {
                Some(_) => Decision::Allow,
                None => Decision::Deny(String::new()),
            }
        }

        fn role_rules(&self, kind: RoleKind, ns: &str, name: &str) -> Option<Vec<PolicyRule>> {
            self.0
                .role_rules(kind, ns, name)
                .map(|r| r.as_ref().clone())
        }
    }

    #[test]
    fn only_held_permissions_may_be_granted() {
        let rb = |name: &str, role: &str| {
            json!({"metadata": {"name": name, "namespace": "ns"},
                "roleRef": {"kind": "Role", "name": role},
                "subjects": [{"kind": "User", "name": "alice"}]})
        };
        let roles = vec![
            json!({"metadata": {"name": "manager", "namespace": "ns"}, "rules": [
                {"verbs": ["get", "list"], "apiGroups": [""], "resources": ["pods"]},
                {"verbs": ["create", "update"], "apiGroups": [GROUP], "resources": ["roles", "rolebindings"]},
            ]}),
            json!({"metadata": {"name": "secrets", "namespace": "ns"}, "rules": [
                {"verbs": ["get"], "apiGroups": [""], "resources": ["secrets"]},
            ]}),
        ];
        let authorizer = Fixed(PolicyIndex::build(&[], &roles, &[], &[rb("m", "manager")]));
        let alice = UserInfo {
            name: "alice".into(),
            ..UserInfo::default()
        };
        let role =
            |rules: Value| json!({"metadata": {"name": "r", "namespace": "ns"}, "rules": rules});
        let within = role(json!([{"verbs": ["get"], "apiGroups": [""], "resources": ["pods"]}]));
        assert!(check_escalation(&authorizer, &alice, GROUP, "Role", &within).is_ok());
        let beyond = role(json!([{"verbs": ["delete"], "apiGroups": [""], "resources": ["pods"]}]));
        let error = check_escalation(&authorizer, &alice, GROUP, "Role", &beyond).unwrap_err();
        assert_eq!(error.code, 403);
        assert!(error
            .message
            .contains("is attempting to grant RBAC permissions not currently held"));
        let wildcard = role(json!([{"verbs": ["*"], "apiGroups": [""], "resources": ["pods"]}]));
        assert!(check_escalation(&authorizer, &alice, GROUP, "Role", &wildcard).is_err());
        assert!(check_escalation(
            &authorizer,
            &alice,
            GROUP,
            "RoleBinding",
            &rb("x", "manager")
        )
        .is_ok());
        assert!(check_escalation(
            &authorizer,
            &alice,
            GROUP,
            "RoleBinding",
            &rb("x", "secrets")
        )
        .is_err());
        assert_eq!(
            check_escalation(
                &authorizer,
                &alice,
                GROUP,
                "RoleBinding",
                &rb("x", "missing")
            )
            .unwrap_err()
            .code,
            404
        );
        assert!(check_escalation(&authorizer, &alice, "", "Pod", &json!({})).is_ok());
    }
}
