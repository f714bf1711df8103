//! `networking.k8s.io/v1` and `discovery.k8s.io/v1`.

use super::{ResourceInfo, Subresource as S};

const fn networking(
    kind: &'static str,
    plural: &'static str,
    singular: &'static str,
    namespaced: bool,
) -> ResourceInfo {
    ResourceInfo::new(
        "networking.k8s.io",
        "v1",
        kind,
        plural,
        singular,
        namespaced,
    )
}

pub(super) const RESOURCES: &[ResourceInfo] = &[
    networking("IngressClass", "ingressclasses", "ingressclass", false),
    networking("Ingress", "ingresses", "ingress", true)
        .with_short_names(&["ing"])
        .with_subresources(&[S::Status])
        .stored_under("ingress"),
    networking("IPAddress", "ipaddresses", "ipaddress", false).with_short_names(&["ip"]),
    networking("NetworkPolicy", "networkpolicies", "networkpolicy", true)
        .with_short_names(&["netpol"]),
    networking("ServiceCIDR", "servicecidrs", "servicecidr", false).with_subresources(&[S::Status]),
    ResourceInfo::new(
        "discovery.k8s.io",
        "v1",
        "EndpointSlice",
        "endpointslices",
        "endpointslice",
        true,
    ),
];
