//! A policy rule, as an RBAC PolicyRule with a scope: verbs on resources of one API group.

use super::Attributes;

/// Which objects a rule covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Any object, in any namespace.
    Any,
    /// Only the caller's own object: its name is the node's, or a create names none in the URL.
    OwnObject,
    /// Only in this namespace; objects named like the node (creates, lists and watches name none).
    OwnObjectIn(&'static str),
    /// Any object in this namespace.
    Namespace(&'static str),
}

pub struct Rule {
    pub verbs: &'static [&'static str],
    pub group: &'static str,
    /// `resource` or `resource/subresource`.
    pub resources: &'static [&'static str],
    pub scope: Scope,
}

pub const READ: &[&str] = &["get", "list", "watch"];

fn resource_of(a: &Attributes) -> String {
    if a.subresource.is_empty() {
        a.resource.clone()
    } else {
        format!("{}/{}", a.resource, a.subresource)
    }
}

/// Whether a request without an object name in its URL may act on `owner`'s object.
fn names_no_object(a: &Attributes) -> bool {
    a.name.is_empty() && matches!(a.verb.as_str(), "create" | "list" | "watch")
}

impl Rule {
    /// Whether this rule allows the request for the caller that owns objects named `owner`.
    pub fn allows(&self, owner: &str, a: &Attributes) -> bool {
        if a.path.is_some() || a.group != self.group || !self.verbs.contains(&a.verb.as_str()) {
            return false;
        }
        let resource = resource_of(a);
        if !self.resources.contains(&resource.as_str()) {
            return false;
        }
        match self.scope {
            Scope::Any => true,
            Scope::OwnObject => a.name == owner || names_no_object(a),
            Scope::OwnObjectIn(namespace) => {
                a.namespace == namespace && (a.name == owner || names_no_object(a))
            }
            Scope::Namespace(namespace) => a.namespace == namespace,
        }
    }
}

/// Whether any of `rules` allows the request.
pub fn any_allows(rules: &[Rule], owner: &str, a: &Attributes) -> bool {
    rules.iter().any(|rule| rule.allows(owner, a))
}
