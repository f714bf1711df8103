//! Which rule `metadata.name` must follow, per resource, as upstream's validation picks it.

use super::ResourceInfo;

/// The rule an object's `metadata.name` must satisfy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameRule {
    /// RFC 1123 subdomain: lower-case alphanumerics, '-' and '.', at most 253 characters.
    /// Most kinds.
    DnsSubdomain,
    /// RFC 1123 label: lower-case alphanumerics and '-', at most 63 characters (namespaces).
    DnsLabel,
    /// RFC 1035 label: as a DNS label, but must start with a letter (services).
    Dns1035Label,
    /// Any string usable as one URL path segment: not "." or "..", no '/' or '%'
    /// (RBAC objects, flow-control objects).
    PathSegment,
    /// The name is an IP address in canonical form (networking IPAddress).
    IpAddress,
    /// `<plural>.<group>` of the defined resource, itself a DNS subdomain (CRDs).
    CustomResourceDefinition,
    /// `<version>.<group>` of the served API, a path segment (APIServices).
    ApiService,
    /// Nothing is stored, the name is not checked (review APIs, bindings use the pod's name).
    NotValidated,
}

/// The name rule for objects of `info`.
pub fn name_validation(info: &ResourceInfo) -> NameRule {
    if info.is_virtual() {
        return NameRule::NotValidated;
    }
    match (info.group, info.plural) {
        ("", "namespaces") => NameRule::DnsLabel,
        ("", "services") => NameRule::Dns1035Label,
        ("rbac.authorization.k8s.io", _) => NameRule::PathSegment,
        ("flowcontrol.apiserver.k8s.io", _) => NameRule::PathSegment,
        ("networking.k8s.io", "ipaddresses") => NameRule::IpAddress,
        ("apiextensions.k8s.io", "customresourcedefinitions") => NameRule::CustomResourceDefinition,
        ("apiregistration.k8s.io", "apiservices") => NameRule::ApiService,
        _ => NameRule::DnsSubdomain,
    }
}
