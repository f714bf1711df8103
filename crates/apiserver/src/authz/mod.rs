//! Authorization: one trait. [`ClusterPolicy`] lets `system:masters` do everything, nodes what a
//! kubelet needs, join-token holders ask for a certificate, every authenticated user read discovery,
//! and asks RBAC about everything else.

mod bootstrapper;
mod cluster_policy;
mod node;
pub mod node_graph;
pub mod node_restriction;
pub mod rbac;
mod rule;

pub use cluster_policy::ClusterPolicy;
pub use node::{node_name, NODES_GROUP, NODE_USER_PREFIX};
pub use node_graph::NodeGraph;

use crate::authn::UserInfo;

/// What is being done, as upstream's authorizer.Attributes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Attributes {
    pub verb: String,
    pub group: String,
    pub version: String,
    pub resource: String,
    pub subresource: String,
    pub namespace: String,
    pub name: String,
    /// For non-resource requests, the path.
    pub path: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Allow,
    Deny(String),
}

pub trait Authorizer: Send + Sync {
    fn authorize(&self, user: &UserInfo, attributes: &Attributes) -> Decision;

    /// The rules `user` may exercise in `namespace` (SelfSubjectRulesReview); None: everything.
    fn rules_for(&self, _user: &UserInfo, _namespace: &str) -> Option<Vec<rbac::PolicyRule>> {
        Some(Vec::new())
    }

    /// The rules a role grants, for the escalation check of bindings; None: no such role.
    fn role_rules(
        &self,
        _kind: rbac::RoleKind,
        _namespace: &str,
        _name: &str,
    ) -> Option<Vec<rbac::PolicyRule>> {
        None
    }
}

/// Members of `system:masters` may do everything, nobody else anything.
pub struct MastersOnly;

impl Authorizer for MastersOnly {
    fn authorize(&self, user: &UserInfo, _attributes: &Attributes) -> Decision {
        if user.in_group("system:masters") {
            Decision::Allow
        } else {
            Decision::Deny(String::new())
        }
    }

    fn rules_for(&self, user: &UserInfo, _namespace: &str) -> Option<Vec<rbac::PolicyRule>> {
        (!user.in_group("system:masters")).then(Vec::new)
    }
}

/// Upstream's Forbidden message for a denied request.
pub fn forbidden_message(user: &UserInfo, a: &Attributes) -> String {
    if let Some(path) = &a.path {
        return format!(
            "forbidden: User \"{}\" cannot {} path \"{}\"",
            user.name,
            a.verb.to_lowercase(),
            path
        );
    }
    let resource = if a.subresource.is_empty() {
        a.resource.clone()
    } else {
        format!("{}/{}", a.resource, a.subresource)
    };
    let qualified = if a.group.is_empty() {
        a.resource.clone()
    } else {
        format!("{}.{}", a.resource, a.group)
    };
    let subject = if a.name.is_empty() {
        qualified
    } else {
        format!("{qualified} \"{}\"", a.name)
    };
    let scope = if a.namespace.is_empty() {
        "at the cluster scope".to_string()
    } else {
        format!("in the namespace \"{}\"", a.namespace)
    };
    format!(
        "{subject} is forbidden: User \"{}\" cannot {} resource \"{resource}\" in API group \"{}\" {scope}",
        user.name, a.verb, a.group
    )
}
