//! Access control: `rbac.authorization.k8s.io/v1`, and the review APIs of
//! `authentication.k8s.io/v1` and `authorization.k8s.io/v1`, which are answered, never stored.

use super::verbs::CREATE_ONLY;
use super::ResourceInfo;

const fn rbac(
    kind: &'static str,
    plural: &'static str,
    singular: &'static str,
    namespaced: bool,
) -> ResourceInfo {
    ResourceInfo::new(
        "rbac.authorization.k8s.io",
        "v1",
        kind,
        plural,
        singular,
        namespaced,
    )
}

const fn review(
    group: &'static str,
    kind: &'static str,
    plural: &'static str,
    singular: &'static str,
    namespaced: bool,
) -> ResourceInfo {
    ResourceInfo::new(group, "v1", kind, plural, singular, namespaced)
        .with_verbs(CREATE_ONLY)
        .not_stored()
}

const AUTHN: &str = "authentication.k8s.io";
const AUTHZ: &str = "authorization.k8s.io";

pub(super) const RESOURCES: &[ResourceInfo] = &[
    review(
        AUTHN,
        "SelfSubjectReview",
        "selfsubjectreviews",
        "selfsubjectreview",
        false,
    ),
    review(AUTHN, "TokenReview", "tokenreviews", "tokenreview", false),
    review(
        AUTHZ,
        "LocalSubjectAccessReview",
        "localsubjectaccessreviews",
        "localsubjectaccessreview",
        true,
    ),
    review(
        AUTHZ,
        "SelfSubjectAccessReview",
        "selfsubjectaccessreviews",
        "selfsubjectaccessreview",
        false,
    ),
    review(
        AUTHZ,
        "SelfSubjectRulesReview",
        "selfsubjectrulesreviews",
        "selfsubjectrulesreview",
        false,
    ),
    review(
        AUTHZ,
        "SubjectAccessReview",
        "subjectaccessreviews",
        "subjectaccessreview",
        false,
    ),
    rbac(
        "ClusterRoleBinding",
        "clusterrolebindings",
        "clusterrolebinding",
        false,
    ),
    rbac("ClusterRole", "clusterroles", "clusterrole", false),
    rbac("RoleBinding", "rolebindings", "rolebinding", true),
    rbac("Role", "roles", "role", true),
];
