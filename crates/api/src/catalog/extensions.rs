//! The API-extension groups: `apiextensions.k8s.io/v1` (CRDs) and `apiregistration.k8s.io/v1`
//! (APIServices). Upstream stores both under keys prefixed with their group.

use super::{ResourceInfo, Subresource as S};

pub(super) const RESOURCES: &[ResourceInfo] = &[
    ResourceInfo::new(
        "apiextensions.k8s.io",
        "v1",
        "CustomResourceDefinition",
        "customresourcedefinitions",
        "customresourcedefinition",
        false,
    )
    .with_short_names(&["crd", "crds"])
    .with_categories(&["api-extensions"])
    .with_subresources(&[S::Status])
    .stored_under("apiextensions.k8s.io/customresourcedefinitions"),
    ResourceInfo::new(
        "apiregistration.k8s.io",
        "v1",
        "APIService",
        "apiservices",
        "apiservice",
        false,
    )
    .with_categories(&["api-extensions"])
    .with_subresources(&[S::Status])
    .stored_under("apiregistration.k8s.io/apiservices"),
];
