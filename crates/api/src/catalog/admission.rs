//! `admissionregistration.k8s.io/v1`.

use super::{ResourceInfo, Subresource as S};

const fn v1(kind: &'static str, plural: &'static str, singular: &'static str) -> ResourceInfo {
    ResourceInfo::new(
        "admissionregistration.k8s.io",
        "v1",
        kind,
        plural,
        singular,
        false,
    )
    .with_categories(&["api-extensions"])
}

pub(super) const RESOURCES: &[ResourceInfo] = &[
    v1(
        "MutatingWebhookConfiguration",
        "mutatingwebhookconfigurations",
        "mutatingwebhookconfiguration",
    ),
    v1(
        "ValidatingAdmissionPolicy",
        "validatingadmissionpolicies",
        "validatingadmissionpolicy",
    )
    .with_subresources(&[S::Status]),
    v1(
        "ValidatingAdmissionPolicyBinding",
        "validatingadmissionpolicybindings",
        "validatingadmissionpolicybinding",
    ),
    v1(
        "ValidatingWebhookConfiguration",
        "validatingwebhookconfigurations",
        "validatingwebhookconfiguration",
    ),
];
