//! The subjects of a RoleBinding or ClusterRoleBinding, and whether one of them is the caller.

use serde_json::Value;

use crate::authn::service_account_claims::service_account_username;
use crate::authn::UserInfo;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    User(String),
    Group(String),
    /// Namespace (empty: the binding's) and name.
    ServiceAccount(String, String),
}

impl Subject {
    pub fn from_json(subject: &Value) -> Option<Self> {
        let field = |key: &str| {
            subject
                .get(key)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        match field("kind").as_str() {
            "User" => Some(Subject::User(field("name"))),
            "Group" => Some(Subject::Group(field("name"))),
            "ServiceAccount" => Some(Subject::ServiceAccount(field("namespace"), field("name"))),
            _ => None,
        }
    }

    /// Whether this subject, in a binding in `binding_namespace` ("" for cluster bindings), is
    /// `user`.
    pub fn applies_to(&self, user: &UserInfo, binding_namespace: &str) -> bool {
        match self {
            Subject::User(name) => *name == user.name,
            Subject::Group(group) => user.in_group(group),
            Subject::ServiceAccount(namespace, name) => {
                let namespace = if namespace.is_empty() {
                    binding_namespace
                } else {
                    namespace
                };
                !namespace.is_empty() && service_account_username(namespace, name) == user.name
            }
        }
    }
}

/// The `subjects` of a binding.
pub fn subjects_of(binding: &Value) -> Vec<Subject> {
    binding
        .get("subjects")
        .and_then(Value::as_array)
        .map(|s| s.iter().filter_map(Subject::from_json).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn subjects_match_users_groups_and_accounts() {
        let sa = UserInfo {
            name: "system:serviceaccount:ns1:robot".into(),
            uid: String::new(),
            groups: vec!["system:serviceaccounts".into()],
        };
        let alice = UserInfo {
            name: "alice".into(),
            uid: String::new(),
            groups: vec!["dev".into()],
        };
        let parse = |v: Value| Subject::from_json(&v).unwrap();
        let user = parse(json!({"kind": "User", "name": "alice"}));
        let group = parse(json!({"kind": "Group", "name": "dev"}));
        let local_sa = parse(json!({"kind": "ServiceAccount", "name": "robot"}));
        let qualified_sa =
            parse(json!({"kind": "ServiceAccount", "name": "robot", "namespace": "ns1"}));
        assert!(user.applies_to(&alice, ""));
        assert!(!user.applies_to(&sa, ""));
        assert!(group.applies_to(&alice, "x"));
        assert!(!group.applies_to(&sa, "x"));
        assert!(local_sa.applies_to(&sa, "ns1"));
        assert!(!local_sa.applies_to(&sa, "ns2"));
        assert!(!local_sa.applies_to(&sa, ""));
        assert!(qualified_sa.applies_to(&sa, ""));
        assert!(qualified_sa.applies_to(&sa, "ns2"));
        assert!(Subject::from_json(&json!({"kind": "Robot", "name": "x"})).is_none());
    }
}
