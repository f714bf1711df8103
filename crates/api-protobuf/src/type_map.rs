//! Which protobuf message an (apiVersion, kind) names.

use crate::descriptor::{message, MessageDescriptor, KINDS};
use crate::ProtobufError;

const META: &str = "apimachinery.pkg.apis.meta.v1";

/// Kinds of meta.k8s.io/v1 that every group version registers (`metav1.AddToGroupVersion`).
const OPTION_KINDS: &[&str] = &[
    "WatchEvent",
    "ListOptions",
    "GetOptions",
    "DeleteOptions",
    "CreateOptions",
    "UpdateOptions",
    "PatchOptions",
];

/// Unversioned meta kinds, registered under the core `v1`.
const UNVERSIONED_KINDS: &[&str] = &[
    "Status",
    "APIVersions",
    "APIGroupList",
    "APIGroup",
    "APIResourceList",
];

/// The k8s-pb package of a group version served as protobuf.
fn package(api_version: &str) -> Option<String> {
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    let package = match (group, version) {
        ("", "v1") => "api.core.v1",
        ("autoscaling", "v1") => "api.autoscaling.v1",
        ("autoscaling", "v2") => "api.autoscaling.v2",
        ("apiregistration.k8s.io", "v1") => "kube_aggregator.pkg.apis.apiregistration.v1",
        ("meta.k8s.io", "v1") => META,
        (
            "apps"
            | "batch"
            | "policy"
            | "networking.k8s.io"
            | "rbac.authorization.k8s.io"
            | "coordination.k8s.io"
            | "discovery.k8s.io"
            | "events.k8s.io"
            | "storage.k8s.io"
            | "scheduling.k8s.io"
            | "node.k8s.io"
            | "certificates.k8s.io"
            | "admissionregistration.k8s.io"
            | "flowcontrol.apiserver.k8s.io"
            | "authorization.k8s.io"
            | "authentication.k8s.io",
            "v1",
        ) => {
            // `rbac.authorization.k8s.io` → `api.rbac.v1`, `storage.k8s.io` → `api.storage.v1`.
            let first = group.split('.').next().unwrap_or(group);
            return Some(format!("api.{first}.v1"));
        }
        _ => return None,
    };
    Some(package.to_string())
}

fn kind_in(package: &str, kind: &str) -> Option<&'static MessageDescriptor> {
    KINDS
        .iter()
        .find(|(p, k, _)| *p == package && *k == kind)
        .map(|(_, _, index)| message(*index))
}

/// The message of `kind` in `api_version`; an error for anything not served as protobuf
/// (custom resources and apiextensions.k8s.io among them).
pub(crate) fn lookup(
    api_version: &str,
    kind: &str,
) -> Result<&'static MessageDescriptor, ProtobufError> {
    let unsupported = || ProtobufError::UnsupportedKind {
        api_version: api_version.to_string(),
        kind: kind.to_string(),
    };
    let package = package(api_version).ok_or_else(unsupported)?;
    if let Some(found) = kind_in(&package, kind) {
        return Ok(found);
    }
    let meta_kind = OPTION_KINDS.contains(&kind)
        || (api_version == "v1" && UNVERSIONED_KINDS.contains(&kind))
        || (package == META && UNVERSIONED_KINDS.contains(&kind));
    if meta_kind {
        return kind_in(META, kind).ok_or_else(unsupported);
    }
    Err(unsupported())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_kinds_map_to_their_messages() {
        let name = |v: &str, k: &str| lookup(v, k).map(|m| m.name);
        assert_eq!(name("v1", "Secret"), Ok("api.core.v1.Secret"));
        assert_eq!(name("v1", "NamespaceList"), Ok("api.core.v1.NamespaceList"));
        assert_eq!(name("apps/v1", "Deployment"), Ok("api.apps.v1.Deployment"));
        assert_eq!(
            name("rbac.authorization.k8s.io/v1", "ClusterRole"),
            Ok("api.rbac.v1.ClusterRole")
        );
        assert_eq!(
            name("flowcontrol.apiserver.k8s.io/v1", "FlowSchema"),
            Ok("api.flowcontrol.v1.FlowSchema")
        );
        assert_eq!(
            name("apiregistration.k8s.io/v1", "APIService"),
            Ok("kube_aggregator.pkg.apis.apiregistration.v1.APIService")
        );
        assert_eq!(
            name("authorization.k8s.io/v1", "SelfSubjectAccessReview"),
            Ok("api.authorization.v1.SelfSubjectAccessReview")
        );
        assert_eq!(
            name("autoscaling/v2", "HorizontalPodAutoscaler"),
            Ok("api.autoscaling.v2.HorizontalPodAutoscaler")
        );
        assert_eq!(
            name("autoscaling/v1", "Scale"),
            Ok("api.autoscaling.v1.Scale")
        );
        assert_eq!(name("policy/v1", "Eviction"), Ok("api.policy.v1.Eviction"));
        assert_eq!(
            name("v1", "Status"),
            Ok("apimachinery.pkg.apis.meta.v1.Status")
        );
        assert_eq!(
            name("apps/v1", "DeleteOptions"),
            Ok("apimachinery.pkg.apis.meta.v1.DeleteOptions")
        );
        assert_eq!(
            name("meta.k8s.io/v1", "DeleteOptions"),
            Ok("apimachinery.pkg.apis.meta.v1.DeleteOptions")
        );
    }

    #[test]
    fn other_kinds_are_refused() {
        for (v, k) in [
            ("apiextensions.k8s.io/v1", "CustomResourceDefinition"),
            ("stable.example.com/v1", "CronTab"),
            ("v1", "PodSpec"),
            ("v1", "ObjectMeta"),
            ("apps/v1beta1", "Deployment"),
            ("apps/v1", "Status"),
        ] {
            assert!(lookup(v, k).is_err(), "{v} {k}");
        }
    }
}
