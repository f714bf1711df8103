//! What a join-token holder (`system:bootstrappers`) may do: ask for a certificate, nothing else.

use super::rule::{any_allows, Rule, Scope};
use super::Attributes;

const BOOTSTRAPPER_RULES: &[Rule] = &[Rule {
    verbs: &["create", "get", "list", "watch"],
    group: "certificates.k8s.io",
    resources: &["certificatesigningrequests"],
    scope: Scope::Any,
}];

pub fn bootstrapper_may(a: &Attributes) -> bool {
    any_allows(BOOTSTRAPPER_RULES, "", a)
}
