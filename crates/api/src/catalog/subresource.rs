//! Subresources served under `<resource>/<name>/<subresource>`.

use super::ResourceInfo;

/// A subresource served under `<resource>/<name>/<subresource>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subresource {
    Status,
    Scale,
    Binding,
    Eviction,
    Log,
    Exec,
    Attach,
    PortForward,
    Proxy,
    Ephemeralcontainers,
    Resize,
    Approval,
    Finalize,
    Token,
}

impl Subresource {
    /// The URL segment, e.g. "portforward".
    pub fn name(self) -> &'static str {
        match self {
            Subresource::Status => "status",
            Subresource::Scale => "scale",
            Subresource::Binding => "binding",
            Subresource::Eviction => "eviction",
            Subresource::Log => "log",
            Subresource::Exec => "exec",
            Subresource::Attach => "attach",
            Subresource::PortForward => "portforward",
            Subresource::Proxy => "proxy",
            Subresource::Ephemeralcontainers => "ephemeralcontainers",
            Subresource::Resize => "resize",
            Subresource::Approval => "approval",
            Subresource::Finalize => "finalize",
            Subresource::Token => "token",
        }
    }

    /// The subresource named by a URL segment.
    pub fn from_name(name: &str) -> Option<Subresource> {
        ALL_SUBRESOURCES.iter().copied().find(|s| s.name() == name)
    }

    /// Verbs as discovery lists them for `<plural>/<subresource>`.
    pub fn verbs(self) -> &'static [&'static str] {
        match self {
            Subresource::Status
            | Subresource::Scale
            | Subresource::Ephemeralcontainers
            | Subresource::Resize
            | Subresource::Approval => &["get", "patch", "update"],
            Subresource::Binding | Subresource::Eviction | Subresource::Token => &["create"],
            Subresource::Log => &["get"],
            Subresource::Exec | Subresource::Attach | Subresource::PortForward => {
                &["create", "get"]
            }
            Subresource::Proxy => &["create", "delete", "get", "patch", "update"],
            Subresource::Finalize => &["update"],
        }
    }

    /// (group, version, kind) of the object read or written at this subresource of `parent`, as
    /// discovery reports it.
    pub fn kind_for(self, parent: &ResourceInfo) -> (&'static str, &'static str, &'static str) {
        match self {
            Subresource::Status
            | Subresource::Ephemeralcontainers
            | Subresource::Resize
            | Subresource::Log
            | Subresource::Approval
            | Subresource::Finalize => (parent.group, parent.version, parent.kind),
            Subresource::Scale => ("autoscaling", "v1", "Scale"),
            Subresource::Binding => ("", "v1", "Binding"),
            Subresource::Eviction => ("policy", "v1", "Eviction"),
            Subresource::Token => ("authentication.k8s.io", "v1", "TokenRequest"),
            Subresource::Exec => ("", "v1", "PodExecOptions"),
            Subresource::Attach => ("", "v1", "PodAttachOptions"),
            Subresource::PortForward => ("", "v1", "PodPortForwardOptions"),
            Subresource::Proxy => match parent.kind {
                "Node" => ("", "v1", "NodeProxyOptions"),
                "Service" => ("", "v1", "ServiceProxyOptions"),
                _ => ("", "v1", "PodProxyOptions"),
            },
        }
    }
}

const ALL_SUBRESOURCES: &[Subresource] = &[
    Subresource::Status,
    Subresource::Scale,
    Subresource::Binding,
    Subresource::Eviction,
    Subresource::Log,
    Subresource::Exec,
    Subresource::Attach,
    Subresource::PortForward,
    Subresource::Proxy,
    Subresource::Ephemeralcontainers,
    Subresource::Resize,
    Subresource::Approval,
    Subresource::Finalize,
    Subresource::Token,
];
