//! API groups and their served versions, in the order `/apis` lists them.

/// One API group and its served versions, the preferred version first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GroupInfo {
    /// "" for the core group served at `/api`.
    pub name: &'static str,
    pub versions: &'static [&'static str],
}

impl GroupInfo {
    pub fn preferred_version(&self) -> &'static str {
        self.versions.first().copied().unwrap_or("v1")
    }
}

const CORE: GroupInfo = GroupInfo {
    name: "",
    versions: &["v1"],
};

/// The named groups served under `/apis`, in upstream's order (by group priority).
const NAMED: &[GroupInfo] = &[
    GroupInfo {
        name: "apiregistration.k8s.io",
        versions: &["v1"],
    },
    GroupInfo {
        name: "apps",
        versions: &["v1"],
    },
    GroupInfo {
        name: "events.k8s.io",
        versions: &["v1"],
    },
    GroupInfo {
        name: "authentication.k8s.io",
        versions: &["v1"],
    },
    GroupInfo {
        name: "authorization.k8s.io",
        versions: &["v1"],
    },
    GroupInfo {
        name: "autoscaling",
        versions: &["v2", "v1"],
    },
    GroupInfo {
        name: "batch",
        versions: &["v1"],
    },
    GroupInfo {
        name: "certificates.k8s.io",
        versions: &["v1"],
    },
    GroupInfo {
        name: "networking.k8s.io",
        versions: &["v1"],
    },
    GroupInfo {
        name: "policy",
        versions: &["v1"],
    },
    GroupInfo {
        name: "rbac.authorization.k8s.io",
        versions: &["v1"],
    },
    GroupInfo {
        name: "storage.k8s.io",
        versions: &["v1"],
    },
    GroupInfo {
        name: "admissionregistration.k8s.io",
        versions: &["v1"],
    },
    GroupInfo {
        name: "apiextensions.k8s.io",
        versions: &["v1"],
    },
    GroupInfo {
        name: "scheduling.k8s.io",
        versions: &["v1"],
    },
    GroupInfo {
        name: "coordination.k8s.io",
        versions: &["v1"],
    },
    GroupInfo {
        name: "node.k8s.io",
        versions: &["v1"],
    },
    GroupInfo {
        name: "discovery.k8s.io",
        versions: &["v1"],
    },
    GroupInfo {
        name: "flowcontrol.apiserver.k8s.io",
        versions: &["v1"],
    },
];

/// The named groups of `/apis`, in upstream's order. The core group is not among them: see
/// [`group`] with `""`.
pub fn groups() -> &'static [GroupInfo] {
    NAMED
}

/// One group by name; `""` is the core group (`/api`, version v1).
pub fn group(name: &str) -> Option<GroupInfo> {
    if name.is_empty() {
        return Some(CORE);
    }
    NAMED.iter().copied().find(|g| g.name == name)
}
